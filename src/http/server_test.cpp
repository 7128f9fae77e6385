// Black-box tests of the HTTP server's limits (CONTRACT §11) over real sockets on 127.0.0.1.
#include "http/server.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "core/testing/eventually.hpp"

namespace webstream::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    limits_.header_timeout_s = 1;
    limits_.keepalive_idle_s = 2;
    limits_.max_connections_per_ip = 4;
    router_.add("GET", "/gateway/health", Exposure::kBoth, [](RequestContext& ctx) -> net::awaitable<Response> {
      co_return text_response(200, "OK", "text/plain", ctx.req);
    });
    router_.add("POST", "/echo", Exposure::kPublic, [](RequestContext& ctx) -> net::awaitable<Response> {
      co_return text_response(200, ctx.req.body(), "text/plain", ctx.req);
    });
    // The same answer twice: built as a Response, and written into the connection's wire-form slot.
    router_.add("GET", "/as-response", Exposure::kPublic, [](RequestContext& ctx) -> net::awaitable<Response> {
      Response res{bhttp::status::non_authoritative_information, ctx.req.version()};
      res.set("X-A", "1");
      res.set(bhttp::field::content_length, "4");
      res.body() = "wire";
      res.keep_alive(ctx.req.keep_alive());
      co_return res;
    });
    router_.add("GET", "/as-wire", Exposure::kPublic, [](RequestContext& ctx) -> net::awaitable<Response> {
      EXPECT_TRUE(ctx.wire_answer);
      WireAnswer& w = *ctx.wire_answer;
      EXPECT_FALSE(w.used);
      EXPECT_TRUE(w.head.empty() && w.body.empty());
      w.head = "HTTP/1.1 203 Non-Authoritative Information\r\nX-A: 1\r\nContent-Length: 4\r\n";
      w.body = "wire";
      w.status = 203;
      w.used = true;
      Response res;
      res.result(203);
      res.version(ctx.req.version());
      res.keep_alive(ctx.req.keep_alive());
      co_return res;
    });
    workers_ = std::make_unique<runtime::Workers>(2);
    server_ = std::make_unique<Server>(router_, limits_, *workers_, true);
    ASSERT_TRUE(server_->listen(ListenerKind::kInternal, "127.0.0.1", 0, nullptr));
    port_ = server_->bound_port(0);
    server_->start();
    workers_->start();
  }
  void TearDown() override {
    server_->begin_stop();
    workers_->stop_and_join(std::chrono::seconds(2));
  }

  // Sends raw bytes and reads until the server closes or `max_wait` passes; returns what arrived.
  // A write error (the server answered early and closed) is left in `write_error` for the test to judge.
  std::string exchange(const std::string& bytes, bool wait_for_close = true,
                       boost::system::error_code* write_error = nullptr) {
    net::io_context io;
    tcp::socket s(io);
    s.connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
    boost::system::error_code ec;
    net::write(s, net::buffer(bytes), ec);
    if (write_error) *write_error = ec;
    if (!wait_for_close) s.shutdown(tcp::socket::shutdown_send, ec);
    std::string out;
    char buf[65536];
    for (;;) {
      const auto n = s.read_some(net::buffer(buf), ec);
      if (ec) break;
      out.append(buf, n);
    }
    return out;
  }

  config::LimitsConfig limits_;
  Router router_;
  std::unique_ptr<runtime::Workers> workers_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

TEST_F(ServerTest, HealthAndKeepAlive) {
  auto out = exchange(
      "GET /gateway/health HTTP/1.1\r\nHost: x\r\n\r\nGET /gateway/health HTTP/1.1\r\nHost: x\r\nConnection: "
      "close\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 200 OK"), 0u);
  EXPECT_NE(out.find("OK", 20), std::string::npos);
  EXPECT_NE(out.find("HTTP/1.1 200 OK", 10), std::string::npos);  // the second request on the same connection
}

// A handler's wire-form answer reaches the client byte for byte as the same answer built as a Response:
// HTTP/1.1 kept alive and closed, HTTP/1.0 kept alive and not, HEAD, and pipelined after another request.
TEST_F(ServerTest, WireFormAnswerIsWrittenAsTheResponseWouldBe) {
  const std::vector<std::string> forms = {
      "GET @ HTTP/1.1\r\nHost: x\r\n\r\nGET @ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      "GET @ HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET @ HTTP/1.0\r\n\r\n",
      "HEAD @ HTTP/1.1\r\nHost: x\r\n\r\nGET /gateway/health HTTP/1.1\r\nHost: x\r\n\r\nGET @ HTTP/1.1\r\nHost: "
      "x\r\nConnection: close\r\n\r\n",
  };
  for (const auto& form : forms) {
    auto with = [&form](const std::string& path) {
      std::string bytes = form;
      for (auto at = bytes.find('@'); at != std::string::npos; at = bytes.find('@')) bytes.replace(at, 1, path);
      return bytes;
    };
    const std::string expected = exchange(with("/as-response"));
    EXPECT_NE(expected.find("203 Non-Authoritative Information"), std::string::npos) << expected;
    EXPECT_EQ(exchange(with("/as-wire")), expected) << form;
  }
}

TEST_F(ServerTest, UnknownPathIs404WithErrorBody) {
  auto out = exchange("GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 404"), 0u);
  EXPECT_NE(out.find(R"({"error":{"code":"not_found")"), std::string::npos);
}

TEST_F(ServerTest, BodyOverLimitIs413) {
  std::string body(70 * 1024, 'a');
  auto out =
      exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  EXPECT_EQ(out.find("HTTP/1.1 413"), 0u) << out.substr(0, 100);
}

// The 413 goes out as soon as the head announces too much; the server then drains what the client is still
// sending instead of resetting the connection under it, so a client that writes its whole body first
// (most do) still gets to read the answer. Without the lingering close this write fails with EPIPE/RST.
TEST_F(ServerTest, AClientStillWritingItsOversizedBodyReadsThe413) {
  std::string body(4 * 1024 * 1024, 'a');
  boost::system::error_code write_error;
  auto out =
      exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
               false, &write_error);
  EXPECT_FALSE(write_error) << write_error.message();
  EXPECT_EQ(out.find("HTTP/1.1 413"), 0u) << out.substr(0, 100);
}

TEST_F(ServerTest, HugeHeaderIs431) {
  auto out = exchange("GET /gateway/health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(17 * 1024, 'a') + "\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 431"), 0u) << out.substr(0, 100);
}

TEST_F(ServerTest, TooManyFieldsIs431) {
  std::string req = "GET /gateway/health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 101; ++i) req += "X-F" + std::to_string(i) + ": v\r\n";
  auto out = exchange(req + "\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 431"), 0u) << out.substr(0, 100);
}

TEST_F(ServerTest, ContentLengthWithTransferEncodingIs400) {
  auto out = exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 400"), 0u) << out.substr(0, 100);
}

TEST_F(ServerTest, OtherTransferEncodingIs400) {
  auto out =
      exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 400"), 0u) << out.substr(0, 100);
}

TEST_F(ServerTest, ChunkedBodyIsAccepted) {
  auto out = exchange(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 200"), 0u) << out.substr(0, 100);
  EXPECT_NE(out.find("abc"), std::string::npos);
}

// Found by the http_request fuzz target (fuzz/corpus/http_request/many-trailers.http): trailer fields used to
// join the request's fields after the header limits were checked, so a handler saw 121 fields.
TEST_F(ServerTest, ChunkedTrailersCountAgainstTheFieldLimit) {
  std::string req = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n";
  for (int i = 0; i < 120; ++i) req += "T" + std::to_string(i) + ": " + std::string(150, 'x') + "\r\n";
  auto out = exchange(req + "\r\n");
  EXPECT_EQ(out.find("HTTP/1.1 431"), 0u) << out.substr(0, 100);
}

TEST_F(ServerTest, SlowHeadersGet408) {
  auto out = exchange("GET /gateway/health HTTP/1.1\r\nHost: x\r\n");  // never finishes the header
  EXPECT_EQ(out.find("HTTP/1.1 408"), 0u) << out.substr(0, 100);
}

TEST_F(ServerTest, NulInHeaderValueIs400) {
  auto out = exchange(std::string("GET /gateway/health HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n", 46));
  EXPECT_EQ(out.find("HTTP/1.1 400"), 0u) << out.substr(0, 100);
}

TEST_F(ServerTest, PerIpConnectionCap) {
  net::io_context io;
  std::vector<tcp::socket> held;
  for (int i = 0; i < 4; ++i) {
    held.emplace_back(io);
    held.back().connect({net::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port_)});
  }
  // The four are accepted and counted (the per-IP count comes before the connection's registration).
  ASSERT_TRUE(webstream::testing::eventually([&] { return server_->active_connections() == 4; }));
  // The fifth is accepted by the kernel and then closed by the gateway without an answer.
  auto out = exchange("GET /gateway/health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(out.empty());
}

}  // namespace
}  // namespace webstream::http
