#include "http/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/url/parse.hpp>

#include <array>
#include <chrono>
#include <unordered_map>

#include "http/socket_deadline.hpp"
#include "http/wire.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace webstream::http {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t kFirstRead = 4096;            // bytes asked for when a request starts
constexpr std::size_t kMaxKeptScratch = 64 * 1024;  // a larger head buffer is freed after use

// Per-thread caches of the metric series, keyed by the route name's address (route names live as long as
// the router) and the status: no string is built per request.
struct SeriesKey {
  const std::string* route;
  unsigned status;
  bool operator==(const SeriesKey&) const = default;
};
struct SeriesKeyHash {
  std::size_t operator()(const SeriesKey& k) const noexcept {
    return std::hash<const void*>()(k.route) * 31u + k.status;
  }
};

metrics::Counter& request_counter(const std::string& route, unsigned status) {
  thread_local std::unordered_map<SeriesKey, metrics::Counter*, SeriesKeyHash> cache;
  const SeriesKey key{&route, status};
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  auto& c = metrics::Registry::global().counter("webstream_http_requests_total", "HTTP requests by route and status",
                                                {{"route", route}, {"status", std::to_string(status)}});
  cache.emplace(key, &c);
  return c;
}

metrics::Histogram& latency_histogram(const std::string& route) {
  thread_local std::unordered_map<const std::string*, metrics::Histogram*> cache;
  auto it = cache.find(&route);
  if (it != cache.end()) return *it->second;
  auto& h = metrics::Registry::global().histogram("webstream_http_request_duration_seconds",
                                                  "HTTP request latency by route", {{"route", route}});
  cache.emplace(&route, &h);
  return h;
}

const std::string kUnmatchedRoute = "unmatched";

bool iequals(std::string_view a, std::string_view b) { return beast::iequals(a, b); }

// CONTRACT §11 checks on a parsed header; returns an error to answer with, or nullopt.
std::optional<Error> check_header(const Request& req, const config::LimitsConfig& limits) {
  std::size_t fields = 0;
  std::size_t te_count = 0;
  bool has_cl = false;
  for (const auto& f : req) {
    ++fields;
    for (char c : f.value()) {
      if (c == '\r' || c == '\n' || c == '\0') return Error::invalid("a header value contains CR, LF or NUL");
    }
    if (f.name() == bhttp::field::transfer_encoding) {
      ++te_count;
      if (!iequals(f.value(), "chunked"))
        return Error::invalid("only a single 'Transfer-Encoding: chunked' is accepted");
    }
    if (f.name() == bhttp::field::content_length) has_cl = true;
  }
  if (fields > limits.max_header_fields) {
    return Error{431, "header_fields_too_large",
                 "more than " + std::to_string(limits.max_header_fields) + " header fields"};
  }
  if (te_count > 1) return Error::invalid("only a single 'Transfer-Encoding: chunked' is accepted");
  if (te_count == 1 && has_cl) return Error::invalid("both Content-Length and Transfer-Encoding");
  return std::nullopt;
}

// What a request's head has used of the header limits: bytes (request line, fields, chunk extensions,
// trailers) and fields (header and trailer fields).
struct HeadBudget {
  std::size_t bytes = 0;
  std::size_t fields = 0;
};

// After a chunked body: the fields past the first `head.fields` are the trailer section's. Adds them to
// `head`, erases them from `req`, and answers 431 when the sum exceeds a header limit.
std::optional<Error> take_trailers(Request& req, HeadBudget& head, const config::LimitsConfig& limits) {
  std::size_t index = 0;
  bool over = false;
  for (auto it = req.begin(); it != req.end();) {
    if (index++ < head.fields) {
      ++it;
      continue;
    }
    head.bytes += it->name_string().size() + it->value().size() + 4;  // "name: value\r\n"
    over = over || ++head.fields > limits.max_header_fields || head.bytes > limits.max_header_bytes;
    it = req.erase(it);
  }
  if (!over) return std::nullopt;
  return Error{431, "header_fields_too_large",
               "header and trailer fields exceed " + std::to_string(limits.max_header_bytes) + " bytes or " +
                   std::to_string(limits.max_header_fields) + " fields"};
}

// Writes `res` as one head buffer (http/wire.hpp) plus the body: one gather write. `scratch` is the
// connection's reused head buffer. A chunked response (none of ours; kept for safety) goes through Beast,
// which chunk-encodes the body.
template <class Stream>
net::awaitable<bool> write_with_deadline(Stream& stream, SocketDeadline& dog, Response& res, bool head_only,
                                         std::string& scratch) {
  dog.arm(std::chrono::seconds(30));
  boost::system::error_code ec;
  if (res.chunked()) {
    if (head_only) {
      bhttp::response_serializer<bhttp::string_body> sr{res};
      std::tie(ec, std::ignore) = co_await bhttp::async_write_header(stream, sr, kNoThrow);
    } else {
      std::tie(ec, std::ignore) = co_await bhttp::async_write(stream, res, kNoThrow);
    }
  } else {
    scratch.clear();
    append_response_head(res, scratch);
    const std::array<net::const_buffer, 2> buffers{net::buffer(scratch),
                                                   head_only ? net::const_buffer{} : net::buffer(res.body())};
    std::tie(ec, std::ignore) = co_await net::async_write(stream, buffers, kNoThrow);
    if (scratch.capacity() > kMaxKeptScratch) scratch = std::string();
  }
  dog.disarm();
  co_return !ec;
}

// Writes a handler's wire-form answer (http/types.hpp WireAnswer): its head with the client's version, then
// what the connection adds to every answer — Connection as Beast's keep_alive() would set it on an answer
// without one (the backend's was filtered out), Strict-Transport-Security on TLS (replacing the backend's,
// as Response::set does) — the blank line and the body: one gather write.
template <class Stream>
net::awaitable<bool> write_wire_answer(Stream& stream, SocketDeadline& dog, WireAnswer& answer, unsigned version,
                                       bool keep, bool tls, bool head_only, std::string& scratch) {
  if (tls && answer.has_hsts) erase_field_lines(answer.head, "Strict-Transport-Security");
  answer.head[5] = static_cast<char>('0' + version / 10);
  answer.head[7] = static_cast<char>('0' + version % 10);
  scratch.clear();
  if (version < 11) {
    if (keep) scratch.append("Connection: keep-alive\r\n");
  } else if (!keep) {
    scratch.append("Connection: close\r\n");
  }
  if (tls) scratch.append("Strict-Transport-Security: max-age=31536000\r\n");
  scratch.append("\r\n", 2);
  dog.arm(std::chrono::seconds(30));
  const std::array<net::const_buffer, 3> buffers{net::buffer(answer.head), net::buffer(scratch),
                                                 head_only ? net::const_buffer{} : net::buffer(answer.body)};
  auto [ec, n] = co_await net::async_write(stream, buffers, kNoThrow);
  dog.disarm();
  co_return !ec;
}

// Lingering close, after an error answer (413, 431, 400, 408) on a connection whose client may still be
// sending: half-close, then read and throw away what arrives until the client closes, for at most
// kLingerTime and kLingerBytes. Closing at once with unread bytes in the kernel's receive queue makes it
// send a RST, and a client still writing its oversized body then sees "connection reset" or EPIPE instead of
// our 413 — the answer it needed. `idle` is the request loop's flag: set, a graceful stop cancels the drain.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 16 * 1024 * 1024;

template <class Stream>
net::awaitable<void> linger_before_close(Stream&, SocketDeadline&) {
  co_return;  // TLS: the close_notify exchange in shutdown_stream does this job
}

template <>
net::awaitable<void> linger_before_close(PlainStream& stream, SocketDeadline& dog) {
  auto& socket = stream.socket();
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) co_return;
  std::unique_ptr<char[]> sink(new char[16 * 1024]);
  dog.arm(kLingerTime);
  for (std::size_t drained = 0; drained < kLingerBytes;) {
    auto [rec, n] = co_await socket.async_read_some(net::buffer(sink.get(), 16 * 1024), kNoThrow);
    if (rec) break;  // the client closed (EOF), reset, or the deadline cancelled the read
    drained += n;
  }
  dog.disarm();
}

template <class Stream>
net::awaitable<void> answer_and_close(Stream& stream, SocketDeadline& dog, bool& idle, Error error) {
  Response res = error_response(error, 11, false);
  std::string scratch;
  if (!co_await write_with_deadline(stream, dog, res, false, scratch)) co_return;
  idle = true;
  co_await linger_before_close(stream, dog);
}

// The request loop over an established (and, for TLS, handshaken) stream. `holder` owns the stream so an
// upgrade can take it over: then `taken` is set and the holder keeps only a moved-from stream, which must not
// be touched (a moved-from TLS stream has no state at all: reaching through it crashed the gateway).
template <class Stream>
net::awaitable<void> request_loop(ClientStream& holder, std::string remote_ip, ConnectionEnv env, bool tls,
                                  bool& taken) {
  Stream& stream = std::get<Stream>(holder);
  tcp::socket& socket = beast::get_lowest_layer(stream).socket();
  const auto& limits = *env.limits;
  SocketDeadline dog(co_await net::this_coro::executor, socket);
  std::string scratch;  // the response head, reused across requests
  WireAnswer wire;      // a handler's wire-form answer, reused across requests
  bool idle = true;
  auto registration = env.lifecycle->add(co_await net::this_coro::executor, [&idle, &socket] {
    if (idle) {
      boost::system::error_code ignored;
      socket.cancel(ignored);
    }
  });
  // Bounded: the parser needs a whole head, chunk-size line or trailer section in the buffer before it can
  // consume it, so the buffer never needs more than the header limit (plus the start of a pipelined next
  // request); a client that sends more without letting the parser progress gets 431 (CONTRACT §11a).
  beast::flat_buffer buffer(limits.max_header_bytes + kFirstRead);
  for (std::size_t count = 0;; ++count) {
    // Between requests: wait up to keep-alive idle for the first byte, then header_timeout for the header.
    idle = true;
    if (env.lifecycle->stopping()) co_return;
    // One read of up to 4 KiB usually brings the whole head (Beast's parser would read 512 bytes at a time).
    if (buffer.size() == 0) {
      dog.arm(std::chrono::seconds(count > 0 ? limits.keepalive_idle_s : limits.header_timeout_s));
      auto [ec, n] = co_await stream.async_read_some(buffer.prepare(kFirstRead), kNoThrow);
      dog.disarm();
      if (ec) {
        // Between requests: idle timeout, close by peer, or stop — close quietly. A first request that
        // never came in time gets its 408.
        if (count == 0 && dog.fired()) {
          Error late{408, "request_timeout", "request headers not received in time"};
          co_await answer_and_close(stream, dog, idle, std::move(late));
        }
        co_return;
      }
      buffer.commit(n);
    }
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    dog.arm(std::chrono::seconds(limits.header_timeout_s));
    auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
    dog.disarm();
    idle = false;
    if (hec) {
      // Build the answer first: GCC 12 mis-destroys temporaries created inside a co_await expression.
      std::optional<Error> failure;
      if (dog.fired()) {
        if (count == 0 || buffer.size() > 0)
          failure = Error{408, "request_timeout", "request headers not received in time"};
      } else if (hec == bhttp::error::header_limit || hec == bhttp::error::buffer_overflow) {
        failure = Error{431, "header_fields_too_large",
                        "request line and headers exceed " + std::to_string(limits.max_header_bytes) + " bytes"};
      } else if (hec == bhttp::error::body_limit) {
        failure =
            Error{413, "payload_too_large", "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes"};
      } else if (hec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
                 hec != bhttp::error::end_of_stream && hec != bhttp::error::partial_message) {
        failure = Error::invalid("malformed HTTP request");
      }
      if (failure) co_await answer_and_close(stream, dog, idle, *failure);
      co_return;
    }
    Request& req = parser.get();
    if (auto bad = check_header(req, limits)) {
      co_await answer_and_close(stream, dog, idle, *bad);
      co_return;
    }
    // Chunk extensions and trailers count against the header limits (CONTRACT §11a): `head` is what the
    // head used; every chunk's extensions add to it, checked as each chunk-size line is parsed.
    HeadBudget head{hn, static_cast<std::size_t>(std::distance(req.begin(), req.end()))};
    auto on_chunk_header = [&head, &limits](std::uint64_t, beast::string_view extensions,
                                            boost::system::error_code& ec) {
      head.bytes += extensions.size();
      if (head.bytes > limits.max_header_bytes) ec = bhttp::error::header_limit;
    };
    parser.on_chunk_header(on_chunk_header);
    const std::string target(req.target());
    auto url = boost::urls::parse_origin_form(target);
    if (!url) {
      Error bad_target = Error::invalid("request target is not a valid origin-form path");
      co_await answer_and_close(stream, dog, idle, std::move(bad_target));
      co_return;
    }
    const bool upgrade = beast::websocket::is_upgrade(req);
    const bool head_request = req.method() == bhttp::verb::head;
    // Body: at most body_idle_timeout between bytes, at most max_body_bytes in all.
    if (!upgrade && !parser.is_done()) {
      if (iequals(req[bhttp::field::expect], "100-continue")) {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, req.version()};
        co_await bhttp::async_write(stream, cont, kNoThrow);
      }
      while (!parser.is_done()) {
        dog.arm(std::chrono::seconds(limits.body_idle_timeout_s));
        auto [bec, bn] = co_await bhttp::async_read_some(stream, buffer, parser, kNoThrow);
        dog.disarm();
        if (bec) {
          std::optional<Error> failure;
          if (dog.fired()) {
            failure = Error{408, "request_timeout", "request body stalled"};
          } else if (bec == bhttp::error::header_limit || bec == bhttp::error::buffer_overflow) {
            failure = Error{431, "header_fields_too_large",
                            "chunk extensions and trailers exceed the header limits (" +
                                std::to_string(limits.max_header_bytes) + " bytes, " +
                                std::to_string(limits.max_header_fields) + " fields)"};
          } else if (bec == bhttp::error::body_limit) {
            failure = Error{413, "payload_too_large",
                            "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes"};
          } else if (bec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
                     bec != bhttp::error::partial_message) {
            failure = Error::invalid("malformed request body");
          }
          if (failure) co_await answer_and_close(stream, dog, idle, *failure);
          co_return;
        }
      }
      // The parser appended the trailer fields to the header's: count them against the limits, then drop
      // them, so no trailer is ever read (or forwarded) as a header.
      if (auto over = take_trailers(req, head, limits)) {
        co_await answer_and_close(stream, dog, idle, *over);
        co_return;
      }
    }

    RequestContext ctx{.req = req};
    ctx.path = std::string(url->path());
    ctx.raw_target = target;
    ctx.query = std::string(url->encoded_query());
    ctx.remote_ip = remote_ip;
    ctx.tls = tls;
    ctx.listener = env.listener;
    wire.reset();
    ctx.wire_answer = &wire;
    const auto started = std::chrono::steady_clock::now();
    auto match = env.router->match(std::string_view(req.method_string()), ctx.path, env.listener, env.dev_mode);
    Response res;
    const std::string* route_name = &kUnmatchedRoute;
    if (!match.route) {
      res = match.status == 405 ? error_response({405, "method_not_allowed", "method not allowed on this path"}, req)
                                : error_response(Error::not_found("not_found", "no such endpoint"), req);
      if (match.status == 405) res.set(bhttp::field::allow, match.allow);
    } else {
      route_name = &match.route->name;
      ctx.params = std::move(match.params);
      if (match.route->upgrade) {
        if (upgrade) {
          request_counter(*route_name, 101).inc();
          registration.reset();
          // This frame lives as long as the WebSocket: give back what only HTTP needed (the read buffer
          // is 4 KiB of every idle relay's memory otherwise). Bytes a client sent after its upgrade
          // request, before our 101, were never part of the tunnel.
          buffer = beast::flat_buffer();
          scratch = std::string();
          wire = WireAnswer();
          ctx.connection_ticket = env.ticket;
          taken = true;
          co_await match.route->upgrade(ctx, std::move(holder));
          co_return;
        }
        res = error_response({426, "upgrade_required", "this endpoint only accepts WebSocket upgrades"}, req);
        res.set(bhttp::field::upgrade, "websocket");
      } else {
        res = co_await match.route->handler(ctx);
      }
    }
    if (tls) res.set(bhttp::field::strict_transport_security, "max-age=31536000");
    if (env.lifecycle->stopping()) res.keep_alive(false);
    if (upgrade && !res.keep_alive()) res.keep_alive(false);
    const unsigned status = res.result_int();
    request_counter(*route_name, status).inc();
    latency_histogram(*route_name)
        .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    const bool keep = res.keep_alive() && !upgrade;
    if (!keep) res.keep_alive(false);
    if (wire.used) {
      const bool written =
          co_await write_wire_answer(stream, dog, wire, res.version(), keep, tls, head_request, scratch);
      if (wire.body.capacity() > kMaxKeptScratch || wire.head.capacity() > kMaxKeptScratch) wire = WireAnswer();
      if (!written) co_return;
    } else if (!co_await write_with_deadline(stream, dog, res, head_request, scratch)) {
      co_return;
    }
    if (!keep) co_return;
  }
}

template <class Stream>
net::awaitable<void> shutdown_stream(Stream& stream);

template <>
net::awaitable<void> shutdown_stream(PlainStream& stream) {
  boost::system::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  co_return;
}

template <>
net::awaitable<void> shutdown_stream(TlsStream& stream) {
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  co_await stream.async_shutdown(kNoThrow);
}

}  // namespace

net::awaitable<void> serve_connection(tcp::socket socket, std::string remote_ip, ConnectionEnv env,
                                      std::shared_ptr<net::ssl::context> tls) {
  socket.set_option(tcp::no_delay(true));
  if (!tls) {
    ClientStream holder{std::in_place_type<PlainStream>, std::move(socket)};
    bool taken = false;
    co_await request_loop<PlainStream>(holder, std::move(remote_ip), env, false, taken);
    if (auto* s = std::get_if<PlainStream>(&holder); !taken && s && s->socket().is_open()) co_await shutdown_stream(*s);
    co_return;
  }
  ClientStream holder{std::in_place_type<TlsStream>, std::move(socket), *tls};
  auto& stream = std::get<TlsStream>(holder);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(env.limits->header_timeout_s));
  auto [ec] = co_await stream.async_handshake(net::ssl::stream_base::server, kNoThrow);
  if (ec) co_return;  // a failed handshake (TLS 1.0/1.1, bad client hello, timeout): nothing to answer
  beast::get_lowest_layer(stream).expires_never();
  bool taken = false;
  co_await request_loop<TlsStream>(holder, std::move(remote_ip), env, true, taken);
  if (auto* s = std::get_if<TlsStream>(&holder); !taken && s && beast::get_lowest_layer(*s).socket().is_open()) {
    co_await shutdown_stream(*s);
  }
}

net::awaitable<void> write_response(ClientStream& stream, Response response) {
  co_await std::visit(
      [&](auto& s) -> net::awaitable<void> {
        beast::get_lowest_layer(s).expires_after(std::chrono::seconds(30));
        co_await bhttp::async_write(s, response, kNoThrow);
        beast::get_lowest_layer(s).expires_never();
      },
      stream);
}

}  // namespace webstream::http
