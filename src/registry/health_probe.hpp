#pragma once
// HealthProbe: one health check of one backend (CONTRACT §4 "Health probes"): GET {serverUrl}/health,
// true for a 2xx answer. The interface is the seam tests replace (a fake that answers, fails or hangs);
// BeastHealthProbe is the real one.
//
// BeastHealthProbe:
//   - plain HTTP/1.1 for http:// URLs; TLS for https:// URLs WITHOUT verifying the backend's certificate
//     (backends on a private network commonly use self-signed certificates; the probe only learns
//     "up or not", it sends no secret and trusts nothing in the answer). SNI is sent for host names.
//   - the deadline (`timeout`) covers connect, TLS handshake, write and reading the status line and
//     headers; the body is not read. Each probe uses its own connection ("Connection: close").
//   - an IP literal is connected directly; a host name goes through asio's resolver, which asio cannot
//     interrupt (getaddrinfo): a hung lookup makes that probe late, and a late answer counts as a failure.
//
// Thread rules: probe() may run concurrently from any number of coroutines; it uses the calling coroutine's
// executor.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <string>

namespace webstream::registry {

class HealthProbe {
 public:
  virtual ~HealthProbe() = default;
  // True for a 2xx answer. Never throws; refused, reset, timeout or any other answer → false.
  virtual boost::asio::awaitable<bool> probe(const std::string& url, std::chrono::milliseconds timeout) = 0;
};

class BeastHealthProbe final : public HealthProbe {
 public:
  BeastHealthProbe();

  // HealthProbe
  boost::asio::awaitable<bool> probe(const std::string& url, std::chrono::milliseconds timeout) override;

 private:
  boost::asio::ssl::context tls_;
};

}  // namespace webstream::registry
