#include "proxy/http_forwarder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <memory>
#include <optional>

#include "http/tcp_connect.hpp"
#include "http/wire.hpp"
#include "observability/metrics.hpp"
#include "proxy/header_policy.hpp"
#include "proxy/upstream_pool.hpp"

namespace webstream::proxy {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
constexpr int kMaxInterimResponses = 8;  // 1xx answers skipped before the real one

struct ForwarderMetrics {
  metrics::Counter& connects;
  metrics::Counter& reuses;
  metrics::Counter& stale_retries;
};

ForwarderMetrics& forwarder_metrics() {
  static ForwarderMetrics m{
      metrics::Registry::global().counter("webstream_upstream_connections_total",
                                          "Upstream HTTP connections used: new or from the pool", {{"result", "new"}}),
      metrics::Registry::global().counter("webstream_upstream_connections_total",
                                          "Upstream HTTP connections used: new or from the pool",
                                          {{"result", "reused"}}),
      metrics::Registry::global().counter("webstream_upstream_stale_retries_total",
                                          "Requests retried because a pooled connection was dead")};
  return m;
}

Error unavailable() { return Error{502, "backend_unavailable", "the session host is not reachable"}; }
Error timed_out() { return Error{504, "backend_timeout", "the session host did not answer in time"}; }
Error bad_response(std::string message) { return Error{502, "bad_backend_response", std::move(message)}; }

bool retry_safe(bhttp::verb method) { return method == bhttp::verb::get || method == bhttp::verb::head; }

// How one request/response exchange on a connection ended.
struct Exchange {
  std::optional<http::Response> response;
  std::optional<Error> error;
  bool stale = false;     // the connection died before any byte of an answer: safe to retry a GET
  bool reusable = false;  // the connection may serve another request
};

Exchange fail(const boost::system::error_code& ec, bool got_answer_bytes) {
  Exchange x;
  if (ec == beast::error::timeout) {
    x.error = timed_out();
  } else if (ec == bhttp::error::body_limit) {
    x.error = bad_response("the session host's answer is too large");
  } else if (ec == bhttp::error::header_limit) {
    x.error = bad_response("the session host's answer headers are too large");
  } else if (ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category() &&
             ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    x.error = bad_response("the session host's answer is not valid HTTP");
  } else {
    x.error = unavailable();  // eof, reset, broken pipe, …
    x.stale = !got_answer_bytes;
  }
  return x;
}

net::awaitable<Result<std::unique_ptr<UpstreamConnection>>> connect(const BackendUrl& backend,
                                                                    std::chrono::milliseconds timeout) {
  auto executor = co_await net::this_coro::executor;
  beast::tcp_stream stream(executor);
  const auto ec = co_await http::connect_tcp(stream, backend.host, backend.port, timeout);
  if (ec) co_return unavailable();
  forwarder_metrics().connects.inc();
  auto conn = std::make_unique<UpstreamConnection>(stream.release_socket());
  co_return std::move(conn);
}

// Arms the response deadline and writes the request (head and body in one gather write); on failure the
// deadline is disarmed and the error says whether it was the deadline. exchange() and exchange_wire() both start
// with it.
net::awaitable<boost::system::error_code> send_request(UpstreamConnection& conn, const WireRequest& request,
                                                       const ForwarderOptions& options) {
  conn.deadline.arm(options.response_timeout);
  const std::array<net::const_buffer, 2> out{net::buffer(request.head), net::buffer(request.body)};
  auto [ec, written] = co_await net::async_write(conn.socket, out, kNoThrow);
  if (!ec) co_return ec;
  const boost::system::error_code result = conn.deadline.fired() ? beast::error::timeout : ec;
  conn.deadline.disarm();
  co_return result;
}

// One request/response exchange, all of it under the response deadline.
net::awaitable<Exchange> exchange(UpstreamConnection& conn, const WireRequest& request,
                                  const ForwarderOptions& options) {
  if (const auto ec = co_await send_request(conn, request, options)) co_return fail(ec, false);

  for (int interim = 0;; ++interim) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options.max_response_header));
    parser.body_limit(options.max_response_body);
    if (request.method == bhttp::verb::head) parser.skip(true);
    auto [rec, read] = co_await bhttp::async_read(conn.socket, conn.buffer, parser, kNoThrow);
    if (rec) {
      const auto ec = conn.deadline.fired() ? beast::error::timeout : rec;
      conn.deadline.disarm();
      co_return fail(ec, parser.got_some() || interim > 0);
    }

    const unsigned status = parser.get().result_int();
    if (status == 101 || (status >= 100 && status < 200 && interim >= kMaxInterimResponses)) {
      conn.deadline.disarm();
      Exchange bad;
      bad.error = bad_response("the session host answered with an unexpected interim status");
      co_return bad;
    }
    if (status >= 100 && status < 200) continue;
    conn.deadline.disarm();
    Exchange x;
    x.reusable = parser.get().keep_alive() && !parser.need_eof() && conn.buffer.size() == 0;
    x.response = parser.release();
    co_return x;
  }
}

// The backend's answer as the gateway returns it (see the header comment).
void normalise(http::Response& res, bhttp::verb method) {
  filter_response(res);
  res.version(11);
  const unsigned status = res.result_int();
  const bool has_body = method != bhttp::verb::head && status >= 200 && status != 204 && status != 304;
  if (has_body && res.find(bhttp::field::content_length) == res.end()) res.content_length(res.body().size());
}

// Beast's response parser (its grammar, limits and framing) writing straight into a WireAnswer: each field
// the filter keeps is appended to the head as it is parsed, the body to the body, and nothing else is kept —
// no field list to allocate and no Response to serialise again (docs/proxy.md "Hot path"). The filter is
// filter_response's, field by field: the fixed names at once, the ones a Connection header names (it may
// come after them) by a pass over the head once the answer is complete, which only an answer with a
// Connection header pays.
class AnswerParser final : public bhttp::basic_parser<false> {
 public:
  explicit AnswerParser(http::WireAnswer& out) : out_(out) {}
  unsigned status() const { return status_; }
  bool has_content_length() const { return content_length_fields_ > 0; }
  // Once the answer is complete (its trailer fields too, which Beast's Response also gets): removes the
  // fields a Connection header named.
  void finish_filter() {
    if (!tokens_.empty()) drop_named_fields();
  }

 private:
  using error_code = boost::system::error_code;

  static std::string_view trim(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    return v;
  }

  void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int, error_code& ec) override {
    ec = bhttp::error::bad_version;  // never called: this parses answers
  }

  void on_response_impl(int code, beast::string_view reason, int, error_code&) override {
    status_ = static_cast<unsigned>(code);
    out_.head.clear();
    out_.body.clear();
    out_.has_hsts = false;
    tokens_.clear();
    content_length_fields_ = 0;
    // Beast's Response keeps the reason it read and writes obsolete_reason() for an empty one.
    if (reason.empty()) reason = bhttp::obsolete_reason(static_cast<bhttp::status>(code));
    const char digits[3] = {static_cast<char>('0' + code / 100 % 10), static_cast<char>('0' + code / 10 % 10),
                            static_cast<char>('0' + code % 10)};
    out_.head.append("HTTP/1.1 ", 9);
    out_.head.append(digits, 3);
    out_.head.push_back(' ');
    out_.head.append(reason.data(), reason.size());
    out_.head.append("\r\n", 2);
  }

  void on_field_impl(bhttp::field f, beast::string_view name, beast::string_view value, error_code&) override {
    const std::string_view v = trim(std::string_view(value.data(), value.size()));
    const std::string_view n(name.data(), name.size());
    if (f == bhttp::field::connection) {
      if (!tokens_.empty()) tokens_.push_back(',');
      tokens_.append(v);
    }
    if (is_stripped_response_header(n)) return;
    if (f == bhttp::field::content_length) ++content_length_fields_;
    if (f == bhttp::field::strict_transport_security) out_.has_hsts = true;
    http::append_field(out_.head, n, v);
  }

  void on_header_impl(error_code&) override {}

  // Removes the field lines the Connection tokens name (and recounts what they may have removed).
  void drop_named_fields() {
    std::string kept;
    kept.reserve(out_.head.size());
    const std::size_t status_end = out_.head.find("\r\n") + 2;
    kept.append(out_.head, 0, status_end);
    content_length_fields_ = 0;
    out_.has_hsts = false;
    for (std::size_t at = status_end; at < out_.head.size();) {
      const std::size_t end = out_.head.find("\r\n", at) + 2;
      const std::string_view field_line(out_.head.data() + at, end - at);
      const std::string_view name = field_line.substr(0, field_line.find(':'));
      if (!named_by_connection_tokens(tokens_, name)) {
        const auto f = bhttp::string_to_field(name);
        if (f == bhttp::field::content_length) ++content_length_fields_;
        if (f == bhttp::field::strict_transport_security) out_.has_hsts = true;
        kept.append(field_line);
      }
      at = end;
    }
    out_.head = std::move(kept);
  }

  void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override {
    if (length) out_.body.reserve(static_cast<std::size_t>(*length));
  }
  std::size_t on_body_impl(beast::string_view body, error_code&) override {
    out_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body, error_code&) override {
    out_.body.append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  http::WireAnswer& out_;
  unsigned status_ = 0;
  std::string tokens_;  // every Connection value, joined by commas
  int content_length_fields_ = 0;
};

// exchange() for the wire form: the answer goes into `out` (filtered, Content-Length added where normalise()
// adds it); Exchange::response stays empty, no error says it worked.
net::awaitable<Exchange> exchange_wire(UpstreamConnection& conn, const WireRequest& request,
                                       const ForwarderOptions& options, http::WireAnswer& out) {
  if (const auto ec = co_await send_request(conn, request, options)) co_return fail(ec, false);
  for (int interim = 0;; ++interim) {
    AnswerParser parser(out);
    parser.header_limit(static_cast<std::uint32_t>(options.max_response_header));
    parser.body_limit(options.max_response_body);
    if (request.method == bhttp::verb::head) parser.skip(true);
    auto [rec, read] = co_await bhttp::async_read(conn.socket, conn.buffer, parser, kNoThrow);
    if (rec) {
      const auto ec = conn.deadline.fired() ? beast::error::timeout : rec;
      conn.deadline.disarm();
      co_return fail(ec, parser.got_some() || interim > 0);
    }
    const unsigned status = parser.status();
    if (status == 101 || (status >= 100 && status < 200 && interim >= kMaxInterimResponses)) {
      conn.deadline.disarm();
      Exchange bad;
      bad.error = bad_response("the session host answered with an unexpected interim status");
      co_return bad;
    }
    if (status >= 100 && status < 200) continue;
    conn.deadline.disarm();
    parser.finish_filter();
    Exchange x;
    x.reusable = parser.keep_alive() && !parser.need_eof() && conn.buffer.size() == 0;
    out.status = status;
    const bool has_body = request.method != bhttp::verb::head && status >= 200 && status != 204 && status != 304;
    if (has_body && !parser.has_content_length()) {
      http::append_field(out.head, "Content-Length", std::to_string(out.body.size()));
    }
    co_return x;
  }
}

}  // namespace

Result<BackendUrl> parse_backend_url(std::string_view text) {
  auto parsed = boost::urls::parse_absolute_uri(text);
  if (!parsed) return Error::invalid("backend URL is not an absolute URL");
  const auto& url = *parsed;
  if (url.scheme_id() != boost::urls::scheme::http) {
    return Error::invalid("backend URL must be http:// (https backends are not supported)");
  }
  if (url.has_userinfo() || url.has_query() || url.has_fragment()) {
    return Error::invalid("backend URL may not carry userinfo, a query or a fragment");
  }
  BackendUrl out;
  switch (url.host_type()) {
    case boost::urls::host_type::ipv4:
    case boost::urls::host_type::ipv6:
    case boost::urls::host_type::name: out.host = url.host_address(); break;
    default: return Error::invalid("backend URL has no usable host");
  }
  if (out.host.empty()) return Error::invalid("backend URL has no host");
  if (url.has_port()) {
    const auto port = url.port_number();
    if (port == 0) return Error::invalid("backend URL has a bad port");
    out.port = port;
  }
  out.base_path = std::string(url.encoded_path());
  while (!out.base_path.empty() && out.base_path.back() == '/') out.base_path.pop_back();
  out.authority = http::host_port(out.host, out.port);
  out.host_header = out.port == 80 ? out.authority.substr(0, out.authority.rfind(':')) : out.authority;
  return out;
}

std::string join_target(std::string_view base_path, std::string_view encoded_path, std::string_view raw_query) {
  std::string target;
  target.reserve(base_path.size() + encoded_path.size() + raw_query.size() + 2);
  target.append(base_path);
  if (encoded_path.empty() || encoded_path.front() != '/') target.push_back('/');
  target.append(encoded_path);
  if (!raw_query.empty()) {
    target.push_back('?');
    target.append(raw_query);
  }
  return target;
}

ForwarderOptions ForwarderOptions::from_limits(const config::LimitsConfig& limits) {
  ForwarderOptions o;
  o.connect_timeout = std::chrono::seconds(limits.backend_connect_timeout_s);
  o.response_timeout = std::chrono::seconds(limits.backend_response_timeout_s);
  return o;
}

HttpForwarder::HttpForwarder(ForwarderOptions options, const Clock& clock)
    : options_(std::move(options)), clock_(clock) {}

net::awaitable<Result<http::Response>> HttpForwarder::forward(const BackendUrl& backend, http::Request request) const {
  request.version(11);
  request.set(bhttp::field::host, backend.host_header);
  request.prepare_payload();
  WireRequest wire;
  wire.method = request.method();
  wire.head.reserve(1024);
  http::append_request_head(request, wire.head);
  wire.body = request.body();
  co_return co_await forward_wire(backend, std::move(wire));
}

namespace {

// Takes a pooled connection (or connects), runs `run(connection)` (one exchange), gives the connection back
// when it may serve another request, and retries a GET or HEAD once on a fresh connection when a pooled one
// turned out dead before any byte of an answer. Answers the last exchange's error, or success.
template <class RunExchange>
net::awaitable<Status> with_connection(const BackendUrl& backend, bhttp::verb method, const ForwarderOptions& options,
                                       const Clock& clock, RunExchange run) {
  auto executor = co_await net::this_coro::executor;
  UpstreamPool& pool = UpstreamPool::of(executor);
  auto& stats = forwarder_metrics();
  // A dead pooled connection costs a GET only a retry, so the liveness syscall is skipped on a connection
  // that was busy within the last second; a POST always gets the check.
  const Millis check_after_ms = retry_safe(method) ? 1000 : 0;
  std::unique_ptr<UpstreamConnection> conn =
      pool.take(backend.authority, clock.now_ms(), options.idle_timeout_ms, check_after_ms);
  bool reused = conn != nullptr;

  for (int attempt = 0;; ++attempt) {
    if (!conn) {
      auto connected = co_await connect(backend, options.connect_timeout);
      if (!connected) co_return connected.error();
      conn = std::move(connected.value());
      reused = false;
    } else {
      stats.reuses.inc();
    }
    Exchange x = co_await run(*conn);
    if (!x.error) {
      ++conn->requests;
      if (x.reusable) {
        pool.put(backend.authority, std::move(conn), clock.now_ms(), options.max_idle_per_backend,
                 options.idle_timeout_ms);
      }
      co_return Status::success();
    }
    conn.reset();
    if (x.stale && reused && attempt == 0 && retry_safe(method)) {
      stats.stale_retries.inc();
      continue;  // once, on a fresh connection
    }
    co_return std::move(*x.error);
  }
}

}  // namespace

net::awaitable<Result<http::Response>> HttpForwarder::forward_wire(const BackendUrl& backend,
                                                                   WireRequest request) const {
  const auto method = request.method;
  std::optional<http::Response> answer;
  const ForwarderOptions& options = options_;
  auto run = [&request, &options, &answer](UpstreamConnection& conn) -> net::awaitable<Exchange> {
    Exchange x = co_await exchange(conn, request, options);
    if (x.response) answer = std::move(x.response);
    co_return x;
  };
  auto done = co_await with_connection(backend, method, options_, clock_, run);
  if (!done) co_return done.error();
  normalise(*answer, method);
  co_return std::move(*answer);
}

net::awaitable<Status> HttpForwarder::forward_answer(const BackendUrl& backend, WireRequest request,
                                                     http::WireAnswer& answer) const {
  answer.used = false;
  const ForwarderOptions& options = options_;
  auto run = [&request, &options, &answer](UpstreamConnection& conn) -> net::awaitable<Exchange> {
    co_return co_await exchange_wire(conn, request, options, answer);
  };
  auto done = co_await with_connection(backend, request.method, options_, clock_, run);
  if (!done) co_return done.error();
  answer.used = true;
  co_return Status::success();
}

}  // namespace webstream::proxy
