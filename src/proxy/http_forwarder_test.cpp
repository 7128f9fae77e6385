#include "proxy/http_forwarder.hpp"

#include <gtest/gtest.h>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <functional>
#include <iostream>
#include <vector>

#include "core/clock.hpp"
#include "proxy/testing/loopback.hpp"
#include "proxy/upstream_pool.hpp"

namespace webstream::proxy {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using testing::kNoThrow;
using testing::tcp;
using Clock = std::chrono::steady_clock;

// What the test backend does with one request.
struct Action {
  enum Kind { kRespond, kHang, kDrop, kRaw, kRawThenClose } kind = kRespond;
  http::Response response;
  std::string raw;  // kRaw: bytes written as they are, then the connection stays open (kRawThenClose: closes)
};
using Handler = std::function<Action(const http::Request&, int nth_on_connection)>;

// A keep-alive HTTP/1.1 backend on 127.0.0.1 that counts the connections it accepts.
class HttpBackend {
 public:
  HttpBackend(net::io_context& ioc, Handler handler) : acceptor_(testing::loopback_acceptor(ioc)), handler_(handler) {
    net::co_spawn(ioc, accept_loop(), net::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::string url(std::string_view base = "") const {
    return "http://127.0.0.1:" + std::to_string(port()) + std::string(base);
  }
  int accepted = 0;
  std::vector<http::Request> requests;

 private:
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      ++accepted;
      net::co_spawn(acceptor_.get_executor(), session(std::move(socket)), net::detached);
    }
  }
  net::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (int nth = 1;; ++nth) {
      http::Request req;
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, kNoThrow);
      if (ec) co_return;
      requests.push_back(req);
      Action action = handler_(req, nth);
      if (action.kind == Action::kHang) {
        net::steady_timer forever(stream.get_executor(), std::chrono::hours(1));
        [[maybe_unused]] auto [wec] = co_await forever.async_wait(kNoThrow);
        co_return;
      }
      if (action.kind == Action::kDrop) co_return;
      if (action.kind == Action::kRaw || action.kind == Action::kRawThenClose) {
        [[maybe_unused]] auto [wec, w] = co_await net::async_write(stream, net::buffer(action.raw), kNoThrow);
        if (action.kind == Action::kRawThenClose) co_return;
        continue;
      }
      [[maybe_unused]] auto [wec, w] = co_await bhttp::async_write(stream, action.response, kNoThrow);
      if (!action.response.keep_alive()) co_return;
    }
  }

  tcp::acceptor acceptor_;
  Handler handler_;
};

Action ok(std::string body = "hello") {
  Action a;
  a.response.result(bhttp::status::ok);
  a.response.version(11);
  a.response.set(bhttp::field::content_type, "text/plain");
  a.response.body() = std::move(body);
  a.response.prepare_payload();
  return a;
}

http::Request get(std::string target) {
  http::Request req{bhttp::verb::get, target, 11};
  return req;
}

ForwarderOptions fast_options() {
  ForwarderOptions o;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.response_timeout = std::chrono::milliseconds(2000);
  return o;
}

// Sends `req` through a forwarder to `url`.
Result<http::Response> forward_once(net::io_context& ioc, const HttpForwarder& fwd, const std::string& url,
                                    http::Request req) {
  auto backend = parse_backend_url(url);
  EXPECT_TRUE(backend.ok());
  auto task = [&]() -> net::awaitable<Result<http::Response>> {
    co_return co_await fwd.forward(*backend, std::move(req));
  };
  auto r = testing::run(ioc, task());
  if (!r) return Error::internal("did not finish");
  return std::move(*r);
}

TEST(HttpForwarder, ParsesBackendUrls) {
  auto a = parse_backend_url("http://10.0.0.5:8080/base/");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "10.0.0.5");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(a->base_path, "/base");
  EXPECT_EQ(a->authority, "10.0.0.5:8080");
  EXPECT_EQ(a->host_header, "10.0.0.5:8080");
  auto b = parse_backend_url("http://[::1]");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 80);
  EXPECT_EQ(b->base_path, "");
  EXPECT_EQ(b->authority, "[::1]:80");
  EXPECT_EQ(b->host_header, "[::1]");
  auto c = parse_backend_url("http://host.example:81");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->host, "host.example");
  for (const char* bad : {"https://10.0.0.5", "ftp://x", "http://u:p@x/", "http://x/?q=1", "http://x/#f", "x y",
                          "/relative", "http://x:0/"}) {
    EXPECT_FALSE(parse_backend_url(bad).ok()) << bad;
  }
  EXPECT_EQ(join_target("/base", "/getConnection", "a=1&b=2"), "/base/getConnection?a=1&b=2");
  EXPECT_EQ(join_target("", "/getConnection", ""), "/getConnection");
  EXPECT_EQ(join_target("", "", ""), "/");
}

TEST(HttpForwarder, SequentialRequestsShareOnePooledConnection) {
  net::io_context ioc;
  HttpBackend backend(ioc, [](const http::Request&, int) { return ok(); });
  HttpForwarder fwd(fast_options(), SystemClock::instance());
  auto url = parse_backend_url(backend.url());
  ASSERT_TRUE(url.ok());
  constexpr int kRequests = 2000;
  Clock::duration elapsed{};
  auto task = [&]() -> net::awaitable<int> {
    int good = 0;
    const auto start = Clock::now();
    for (int i = 0; i < kRequests; ++i) {
      auto req = get("/getConnection?i=" + std::to_string(i));
      auto r = co_await fwd.forward(*url, std::move(req));
      if (r.ok() && r->result_int() == 200 && r->body() == "hello") ++good;
    }
    elapsed = Clock::now() - start;
    co_return good;
  };
  auto good = testing::run(ioc, task());
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(*good, kRequests);
  EXPECT_EQ(backend.accepted, 1);
  EXPECT_EQ(UpstreamPool::of(ioc.get_executor()).idle_count(url->authority), 1u);
  const double us = std::chrono::duration<double, std::micro>(elapsed).count() / kRequests;
  std::cout << "[ measure  ] " << kRequests << " sequential pooled GETs over loopback: " << us
            << " us per request round trip (forwarder + test backend, one thread)\n";
}

TEST(HttpForwarder, AnswerComesBackUnchangedButForHopByHopAndCookies) {
  net::io_context ioc;
  HttpBackend backend(ioc, [](const http::Request& req, int) {
    Action a;
    a.response.result(bhttp::status::created);
    a.response.version(11);
    a.response.set("X-Backend", "yes");
    a.response.set(bhttp::field::content_type, "application/json");
    a.response.insert(bhttp::field::set_cookie, "sid=1; HttpOnly");
    a.response.insert(bhttp::field::set_cookie, "other=2");
    a.response.set(bhttp::field::keep_alive, "timeout=5");
    a.response.set(bhttp::field::connection, "keep-alive, X-Hop");
    a.response.set("X-Hop", "1");
    a.response.chunked(true);
    a.response.body() = R"({"echo":")" + req.body() + R"("})";
    return a;
  });
  HttpForwarder fwd(fast_options(), SystemClock::instance());
  http::Request req{bhttp::verb::post, "/base/getConnection?a=1&b=%20", 11};
  req.body() = "payload";
  req.set(bhttp::field::content_type, "text/plain");
  auto r = forward_once(ioc, fwd, backend.url("/ignored-by-forward"), std::move(req));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result_int(), 201);
  EXPECT_EQ((*r)["X-Backend"], "yes");
  EXPECT_EQ((*r)[bhttp::field::content_type], "application/json");
  EXPECT_EQ(r->count(bhttp::field::set_cookie), 0u);
  EXPECT_EQ(r->count(bhttp::field::keep_alive), 0u);
  EXPECT_EQ(r->count(bhttp::field::connection), 0u);
  EXPECT_EQ(r->count(bhttp::field::transfer_encoding), 0u);
  EXPECT_EQ(r->count("X-Hop"), 0u);
  EXPECT_EQ(r->body(), R"({"echo":"payload"})");
  EXPECT_EQ((*r)[bhttp::field::content_length], std::to_string(r->body().size()));
  ASSERT_EQ(backend.requests.size(), 1u);
  const auto& seen = backend.requests[0];
  EXPECT_EQ(seen.method(), bhttp::verb::post);
  EXPECT_EQ(seen.target(), "/base/getConnection?a=1&b=%20");
  EXPECT_EQ(seen[bhttp::field::host], "127.0.0.1:" + std::to_string(backend.port()));
  EXPECT_EQ(seen.body(), "payload");
  EXPECT_EQ(seen[bhttp::field::content_length], "7");
}

TEST(HttpForwarder, RefusedPortIs502) {
  net::io_context ioc;
  HttpForwarder fwd(fast_options(), SystemClock::instance());
  const auto port = testing::closed_port(ioc);
  auto r = forward_once(ioc, fwd, "http://127.0.0.1:" + std::to_string(port), get("/getConnection"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 502);
  EXPECT_EQ(r.error().code, "backend_unavailable");
  EXPECT_EQ(r.error().message.find("127.0.0.1"), std::string::npos);  // never the backend's address
}

TEST(HttpForwarder, UnreachableAddressIs502WithinTheConnectTimeout) {
  net::io_context ioc;
  auto options = fast_options();
  options.connect_timeout = std::chrono::milliseconds(300);
  HttpForwarder fwd(options, SystemClock::instance());
  const auto start = Clock::now();
  auto r = forward_once(ioc, fwd, "http://192.0.2.1:9", get("/getConnection"));  // TEST-NET-1: black hole
  const auto took = Clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 502);
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST(HttpForwarder, SilentBackendIs504AfterTheResponseTimeout) {
  net::io_context ioc;
  HttpBackend backend(ioc, [](const http::Request&, int) { return Action{Action::kHang, {}, {}}; });
  auto options = fast_options();
  options.response_timeout = std::chrono::milliseconds(300);
  HttpForwarder fwd(options, SystemClock::instance());
  const auto start = Clock::now();
  auto r = forward_once(ioc, fwd, backend.url(), get("/getConnection"));
  const auto took = Clock::now() - start;
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 504);
  EXPECT_EQ(r.error().code, "backend_timeout");
  EXPECT_GE(took, std::chrono::milliseconds(280));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST(HttpForwarder, OversizedBodyIs502AndTheConnectionIsNotReused) {
  net::io_context ioc;
  HttpBackend backend(
      ioc, [](const http::Request& req, int) { return ok(std::string(req.target() == "/big" ? 4096 : 10, 'x')); });
  auto options = fast_options();
  options.max_response_body = 1024;
  HttpForwarder fwd(options, SystemClock::instance());
  auto r = forward_once(ioc, fwd, backend.url(), get("/big"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 502);
  EXPECT_EQ(r.error().code, "bad_backend_response");
  auto small = forward_once(ioc, fwd, backend.url(), get("/small"));
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(backend.accepted, 2);
}

TEST(HttpForwarder, DeadPooledConnectionIsRetriedOnceForGet) {
  net::io_context ioc;
  // Every connection answers its first request, then reads the second and closes without a word: what a
  // backend's keep-alive timeout looks like when it races our write.
  HttpBackend backend(ioc, [](const http::Request&, int nth) {
    return nth == 1 ? ok() : Action{Action::kDrop, {}, {}};
  });
  HttpForwarder fwd(fast_options(), SystemClock::instance());
  ASSERT_TRUE(forward_once(ioc, fwd, backend.url(), get("/a")).ok());
  auto second = forward_once(ioc, fwd, backend.url(), get("/b"));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->body(), "hello");
  EXPECT_EQ(backend.accepted, 2);

  // A POST on a pooled connection that dies is not retried: it may have been acted on.
  http::Request post{bhttp::verb::post, "/c", 11};
  post.body() = "x";
  auto third = forward_once(ioc, fwd, backend.url(), std::move(post));
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.error().status, 502);
  EXPECT_EQ(backend.accepted, 2);
}

TEST(HttpForwarder, ConnectionCloseIsHonoured) {
  net::io_context ioc;
  HttpBackend backend(ioc, [](const http::Request&, int) {
    auto a = ok();
    a.response.keep_alive(false);
    return a;
  });
  HttpForwarder fwd(fast_options(), SystemClock::instance());
  ASSERT_TRUE(forward_once(ioc, fwd, backend.url(), get("/a")).ok());
  ASSERT_TRUE(forward_once(ioc, fwd, backend.url(), get("/b")).ok());
  EXPECT_EQ(backend.accepted, 2);
}

TEST(HttpForwarder, InterimAnswersAreSkippedAndHeadKeepsItsLength) {
  net::io_context ioc;
  HttpBackend backend(ioc, [](const http::Request& req, int) {
    if (req.method() == bhttp::verb::head) {
      Action a;
      a.kind = Action::kRaw;
      a.raw = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n";
      return a;
    }
    Action a;
    a.kind = Action::kRaw;
    a.raw =
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    return a;
  });
  HttpForwarder fwd(fast_options(), SystemClock::instance());
  auto r = forward_once(ioc, fwd, backend.url(), get("/a"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->result_int(), 200);
  EXPECT_EQ(r->body(), "ok");
  http::Request head{bhttp::verb::head, "/h", 11};
  auto h = forward_once(ioc, fwd, backend.url(), std::move(head));
  ASSERT_TRUE(h.ok()) << h.error().message;
  EXPECT_EQ((*h)[bhttp::field::content_length], "100");
  EXPECT_TRUE(h->body().empty());
  EXPECT_EQ(backend.accepted, 1);  // both on one connection
}

// What a client would read of an answer: status, reason, fields in order, body.
struct Seen {
  unsigned status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string body;
  bool operator==(const Seen&) const = default;
};

Seen seen_of(const http::Response& r) {
  Seen s{r.result_int(), std::string(r.reason()), {}, r.body()};
  for (const auto& f : r) s.fields.emplace_back(std::string(f.name_string()), std::string(f.value()));
  return s;
}

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  os << s.status << " '" << s.reason << "'";
  for (const auto& [n, v] : s.fields) os << " [" << n << ": " << v << "]";
  return os << " body '" << s.body << "'";
}

// The forwarder's two answer forms — the Response (forward_wire) and the wire form written as the answer is
// parsed (forward_answer, the /getConnection hot path) — keep, drop and add the same fields, the same body
// and status, and fail alike, over a table of backend answers: hop-by-hop and Set-Cookie, fields named by a
// Connection header before and after it (and in a chunked answer's trailer), chunked and close-delimited
// bodies, HEAD, 1xx before the answer, 204/304, empty and unknown reasons, padded and folded values, and
// answers each must refuse (101, duplicate Content-Length, a bad head, over the size limits).
TEST(HttpForwarder, WireFormAnswerEqualsTheResponseForm) {
  struct Case {
    const char* name;
    std::string raw;
    bool close_after = false;
    bhttp::verb method = bhttp::verb::get;
  };
  const std::string big_body(300, 'b');
  const std::vector<Case> cases = {
      {"plain", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"},
      {"hop-by-hop and cookies",
       "HTTP/1.1 201 Created\r\nX-A: 1\r\nSet-Cookie: a=1\r\nKeep-Alive: timeout=5\r\nset-cookie2: b\r\n"
       "Proxy-Authenticate: Basic\r\nTE: trailers\r\nTrailer: X-T\r\nUpgrade: h2c\r\nX-B: 2\r\n"
       "Content-Length: 3\r\n\r\nabc"},
      {"named by Connection, before and after it",
       "HTTP/1.1 200 OK\r\nX-Early: 1\r\nX-Keep: k\r\nConnection: keep-alive, x-early ,X_Late\r\n"
       "X-Late: 2\r\nContent-Length: 0\r\n\r\n"},
      {"Connection names Content-Length and HSTS",
       "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=1\r\nContent-Length: 2\r\n"
       "Connection: content-length, strict-transport-security\r\n\r\nok"},
      {"HSTS kept", "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=5\r\nContent-Length: 0\r\n\r\n"},
      {"chunked",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"},
      {"chunked with trailer",
       "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: X-Named\r\n\r\n1\r\na\r\n0\r\n"
       "X-Trailer: t\r\nX-Named: n\r\n\r\n"},
      {"close-delimited", "HTTP/1.1 200 OK\r\nConnection: close\r\nX-A: 1\r\n\r\nuntil the end", true},
      {"HTTP/1.0 answer", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nz", true},
      {"HEAD keeps its length", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-A: 1\r\n\r\n", false, bhttp::verb::head},
      {"HEAD without a length", "HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\n", false, bhttp::verb::head},
      {"interim answers first",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"},
      {"204", "HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"},
      {"304", "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"},
      {"empty reason", "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n"},
      {"unknown status, empty reason", "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n"},
      {"padded and folded values",
       "HTTP/1.1 200 OK\r\nX-Pad:   v  \t\r\nX-Fold: a\r\n b\r\nX-Empty:\r\nContent-Length: 0\r\n\r\n"},
      {"larger body", "HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n" + big_body},
      {"101 is refused", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"},
      {"duplicate Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
      {"bad head", "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", true},
      {"head over the limit", "HTTP/1.1 200 OK\r\nX-Big: " + std::string(2000, 'h') + "\r\nContent-Length: 0\r\n\r\n"},
      {"body over the limit", "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" + std::string(5000, 'x')},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    net::io_context ioc;
    HttpBackend backend(ioc, [&c](const http::Request&, int) {
      Action a;
      a.kind = c.close_after ? Action::kRawThenClose : Action::kRaw;
      a.raw = c.raw;
      return a;
    });
    ForwarderOptions options = fast_options();
    options.max_response_header = 1024;
    options.max_response_body = 4096;
    HttpForwarder fwd(options, SystemClock::instance());
    auto url = parse_backend_url(backend.url());
    ASSERT_TRUE(url.ok());
    auto wire_request = [&c] {
      WireRequest w;
      w.method = c.method;
      w.head = std::string(bhttp::to_string(c.method)) + " /x HTTP/1.1\r\nHost: b\r\n\r\n";
      return w;
    };
    auto as_response = testing::run(ioc, [&]() -> net::awaitable<Result<http::Response>> {
      co_return co_await fwd.forward_wire(*url, wire_request());
    }());
    ASSERT_TRUE(as_response.has_value());
    http::WireAnswer answer;
    auto as_wire = testing::run(ioc, [&]() -> net::awaitable<Status> {
      co_return co_await fwd.forward_answer(*url, wire_request(), answer);
    }());
    ASSERT_TRUE(as_wire.has_value());
    ASSERT_EQ(as_response->ok(), as_wire->ok());
    if (!as_wire->ok()) {
      EXPECT_FALSE(answer.used);
      EXPECT_EQ(as_response->error().status, as_wire->error().status);
      EXPECT_EQ(as_response->error().code, as_wire->error().code);
      continue;
    }
    ASSERT_TRUE(answer.used);
    EXPECT_EQ(answer.status, (*as_response)->result_int());
    // The wire form read back as a client would.
    bhttp::response_parser<bhttp::string_body> reader;
    if (c.method == bhttp::verb::head) reader.skip(true);
    reader.eager(true);
    boost::system::error_code ec;
    const std::string bytes = answer.head + "\r\n" + answer.body;
    reader.put(net::buffer(bytes), ec);
    ASSERT_FALSE(ec) << ec.message() << "\n" << bytes;
    ASSERT_TRUE(reader.is_done()) << bytes;
    EXPECT_EQ(seen_of(reader.get()), seen_of(**as_response));
    EXPECT_EQ(answer.has_hsts, (*as_response)->count(bhttp::field::strict_transport_security) > 0);
  }
}

TEST(HttpForwarder, OptionsFromLimits) {
  config::LimitsConfig limits;
  limits.backend_connect_timeout_s = 4;
  limits.backend_response_timeout_s = 12;
  const auto o = ForwarderOptions::from_limits(limits);
  EXPECT_EQ(o.connect_timeout, std::chrono::seconds(4));
  EXPECT_EQ(o.response_timeout, std::chrono::seconds(12));
  EXPECT_EQ(ForwarderOptions{}.connect_timeout, std::chrono::seconds(3));
  EXPECT_EQ(ForwarderOptions{}.response_timeout, std::chrono::seconds(30));
}

}  // namespace
}  // namespace webstream::proxy
