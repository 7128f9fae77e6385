#include "registry/health_probe.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <thread>

namespace webstream::registry {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

constexpr auto kToken = net::as_tuple(net::use_awaitable);

// Answers GET /<status>/health with that status; /slow/health waits 2 s first.
template <class Stream>
net::awaitable<void> answer(Stream& stream) {
  beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> req;
  auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, kToken);
  if (ec) co_return;
  const std::string target(req.target());
  unsigned status = 404;
  if (target == "/slow/health") {
    net::steady_timer wait(co_await net::this_coro::executor);
    wait.expires_after(2s);
    co_await wait.async_wait(kToken);
    status = 200;
  } else if (target.size() > 8 && target.substr(4) == "/health") {
    status = static_cast<unsigned>(std::stoi(target.substr(1, 3)));
  }
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(status), 11};
  if (status != 204) res.body() = "body is not read";
  res.prepare_payload();
  co_await bhttp::async_write(stream, res, kToken);
}

net::awaitable<void> serve(tcp::acceptor& acceptor, net::ssl::context* tls) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kToken);
    if (ec) co_return;
    auto ex = socket.get_executor();
    net::co_spawn(
        ex,
        [s = std::move(socket), tls]() mutable -> net::awaitable<void> {
          beast::tcp_stream stream(std::move(s));
          if (!tls) {
            co_await answer(stream);
            co_return;
          }
          beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *tls);
          auto [hec] = co_await secure.async_handshake(net::ssl::stream_base::server, kToken);
          if (!hec) co_await answer(secure);
        },
        net::detached);
  }
}

// A self-signed certificate made on the spot.
void use_self_signed(net::ssl::context& ctx) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX_use_certificate(ctx.native_handle(), cert);
  SSL_CTX_use_PrivateKey(ctx.native_handle(), key);
  X509_free(cert);
  EVP_PKEY_free(key);
}

class HealthProbeTest : public ::testing::Test {
 protected:
  HealthProbeTest() {
    use_self_signed(server_tls_);
    for (auto* a : {&plain_, &secure_}) {
      a->open(tcp::v4());
      a->bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
      a->listen();
    }
    net::co_spawn(server_io_, serve(plain_, nullptr), net::detached);
    net::co_spawn(server_io_, serve(secure_, &server_tls_), net::detached);
    server_ = std::thread([this] { server_io_.run(); });
  }
  ~HealthProbeTest() override {
    net::post(server_io_, [this] {
      plain_.close();
      secure_.close();
    });
    server_io_.stop();
    server_.join();
  }

  std::string url(bool tls, const std::string& path) {
    const auto port = (tls ? secure_ : plain_).local_endpoint().port();
    return std::string(tls ? "https" : "http") + "://127.0.0.1:" + std::to_string(port) + path;
  }
  bool probe(const std::string& u, std::chrono::milliseconds timeout = 2s) {
    net::io_context io;
    auto f = net::co_spawn(io, probe_.probe(u, timeout), net::use_future);
    io.run();
    return f.get();
  }

  net::io_context server_io_;
  net::ssl::context server_tls_{net::ssl::context::tls_server};
  tcp::acceptor plain_{server_io_};
  tcp::acceptor secure_{server_io_};
  std::thread server_;
  BeastHealthProbe probe_;
};

TEST_F(HealthProbeTest, TwoHundredsAreSuccessEverythingElseFailure) {
  EXPECT_TRUE(probe(url(false, "/200/health")));
  EXPECT_TRUE(probe(url(false, "/204/health")));
  EXPECT_FALSE(probe(url(false, "/302/health")));
  EXPECT_FALSE(probe(url(false, "/404/health")));
  EXPECT_FALSE(probe(url(false, "/503/health")));
}

TEST_F(HealthProbeTest, HttpsWithoutCertificateVerification) {
  EXPECT_TRUE(probe(url(true, "/200/health")));
  EXPECT_FALSE(probe(url(true, "/500/health")));
  // Plain HTTP to the TLS port, or TLS to the plain port: failures, not hangs.
  EXPECT_FALSE(probe(url(false, "/200/health").replace(0, 4, "https"), 1s));
}

TEST_F(HealthProbeTest, RefusedAndSlowAreFailures) {
  tcp::acceptor closed(server_io_);
  closed.open(tcp::v4());
  closed.bind(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const auto port = closed.local_endpoint().port();
  closed.close();  // nothing listens there now
  EXPECT_FALSE(probe("http://127.0.0.1:" + std::to_string(port) + "/health"));

  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(probe(url(false, "/slow/health"), 200ms));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
}

TEST_F(HealthProbeTest, HostNamesAreResolved) {
  const auto port = plain_.local_endpoint().port();
  EXPECT_TRUE(probe("http://localhost:" + std::to_string(port) + "/200/health"));
}

TEST_F(HealthProbeTest, NotAProbeableUrl) {
  EXPECT_FALSE(probe("not a url"));
  EXPECT_FALSE(probe("ftp://127.0.0.1/health"));
}

}  // namespace
}  // namespace webstream::registry
