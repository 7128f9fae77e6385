#pragma once
// Test helpers for the proxy tests: run a coroutine to completion on an io_context with a time limit,
// listen on 127.0.0.1 with an OS-chosen port, and a throw-away self-signed TLS certificate.
// Test-only; header-only so each test file stays self-contained.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>

namespace webstream::proxy::testing {

namespace net = boost::asio;
using tcp = net::ip::tcp;
inline constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

// Runs `task` on `ioc` until it completes (other spawned coroutines keep running meanwhile) or `limit`
// passes. Returns the task's value; fails the test on timeout and rethrows the task's exception.
template <class T>
std::optional<T> run(net::io_context& ioc, net::awaitable<T> task,
                     std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  struct State {
    std::optional<T> result;
    std::exception_ptr error;
    bool done = false;
  };
  auto state = std::make_shared<State>();  // shared: a task that overran may still complete later
  auto wrapped = [](net::awaitable<T> t) -> net::awaitable<std::optional<T>> {
    std::optional<T> value(co_await std::move(t));
    co_return value;
  };
  net::co_spawn(ioc, wrapped(std::move(task)), [state, &ioc](std::exception_ptr e, std::optional<T> value) {
    state->error = e;
    if (!e) state->result = std::move(value);
    state->done = true;
    ioc.stop();
  });
  // The limit is a timer, not run_for(): Boost 1.81's io_uring backend (Asio 1.26, -DWEBSTREAM_IO_URING=ON),
  // when it waits with a deadline, submits an IORING_OP_TIMEOUT_REMOVE without a user_data of its own (liburing
  // 2.3 leaves the slot's old one), and once the 16384-entry submission ring has wrapped its completion lands
  // on whichever socket operation last used that slot (a read ends with 0 bytes, an accept yields fd 0).
  // Asio 1.27 fixed it (get_sqe() clears user_data). The gateway runs its contexts with run(), which never
  // takes that path; so do the tests.
  auto armed = std::make_shared<bool>(true);  // a limit that expired after the task ended stops nothing
  net::steady_timer deadline(ioc, limit);
  deadline.async_wait([armed, &ioc](boost::system::error_code ec) {
    if (!ec && *armed) ioc.stop();
  });
  ioc.restart();
  ioc.run();
  *armed = false;
  deadline.cancel();
  ioc.restart();
  EXPECT_TRUE(state->done) << "the test coroutine did not finish in time";
  if (state->error) std::rethrow_exception(state->error);
  return std::move(state->result);
}

inline bool run(net::io_context& ioc, net::awaitable<void> task,
                std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  auto wrapped = [](net::awaitable<void> t) -> net::awaitable<bool> {
    co_await std::move(t);
    co_return true;
  };
  return run(ioc, wrapped(std::move(task)), limit).value_or(false);
}

// An acceptor on 127.0.0.1 with a port the OS picks.
inline tcp::acceptor loopback_acceptor(net::io_context& ioc) {
  tcp::acceptor acceptor(ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  return acceptor;
}

// A port nothing listens on (bound, then released).
inline std::uint16_t closed_port(net::io_context& ioc) {
  auto acceptor = loopback_acceptor(ioc);
  const auto port = acceptor.local_endpoint().port();
  acceptor.close();
  return port;
}

// A TLS server context with a fresh self-signed P-256 certificate for "localhost".
inline std::shared_ptr<net::ssl::context> self_signed_server_context() {
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_server);
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (!key || !cert) throw std::runtime_error("openssl: key/cert allocation failed");
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  SSL_CTX_use_certificate(ctx->native_handle(), cert);
  SSL_CTX_use_PrivateKey(ctx->native_handle(), key);
  X509_free(cert);
  EVP_PKEY_free(key);
  return ctx;
}

inline std::shared_ptr<net::ssl::context> trusting_client_context() {
  auto ctx = std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
  ctx->set_verify_mode(net::ssl::verify_none);
  return ctx;
}

}  // namespace webstream::proxy::testing
