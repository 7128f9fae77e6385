#include "proxy/http_forwarder.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
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

// One request/response exchange, all of it under the response deadline.
net::awaitable<Exchange> exchange(UpstreamConnection& conn, const WireRequest& request,
                                  const ForwarderOptions& options) {
  conn.deadline.arm(options.response_timeout);
  const std::array<net::const_buffer, 2> out{net::buffer(request.head), net::buffer(request.body)};
  auto [wec, written] = co_await net::async_write(conn.socket, out, kNoThrow);
  if (wec) {
    const auto ec = conn.deadline.fired() ? beast::error::timeout : wec;
    conn.deadline.disarm();
    co_return fail(ec, false);
  }

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

net::awaitable<Result<http::Response>> HttpForwarder::forward_wire(const BackendUrl& backend,
                                                                   WireRequest request) const {
  const auto method = request.method;
  auto executor = co_await net::this_coro::executor;
  UpstreamPool& pool = UpstreamPool::of(executor);
  auto& stats = forwarder_metrics();
  // A dead pooled connection costs a GET only a retry, so the liveness syscall is skipped on a connection
  // that was busy within the last second; a POST always gets the check.
  const Millis check_after_ms = retry_safe(method) ? 1000 : 0;
  std::unique_ptr<UpstreamConnection> conn =
      pool.take(backend.authority, clock_.now_ms(), options_.idle_timeout_ms, check_after_ms);
  bool reused = conn != nullptr;

  for (int attempt = 0;; ++attempt) {
    if (!conn) {
      auto connected = co_await connect(backend, options_.connect_timeout);
      if (!connected) co_return connected.error();
      conn = std::move(connected.value());
      reused = false;
    } else {
      stats.reuses.inc();
    }
    Exchange x = co_await exchange(*conn, request, options_);
    if (x.response) {
      ++conn->requests;
      if (x.reusable) {
        pool.put(backend.authority, std::move(conn), clock_.now_ms(), options_.max_idle_per_backend,
                 options_.idle_timeout_ms);
      }
      normalise(*x.response, method);
      co_return std::move(*x.response);
    }
    conn.reset();
    if (x.stale && reused && attempt == 0 && retry_safe(method)) {
      stats.stale_retries.inc();
      continue;  // once, on a fresh connection
    }
    co_return std::move(*x.error);
  }
}

}  // namespace webstream::proxy
