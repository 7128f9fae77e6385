#pragma once
// AmClient: a gateway's HTTP client for the access-management service (`webstream -am`) it depends on in
// accessManagement.mode=standalone|external: the JWKS, the internal API (docs/access-management.md).
//
// - http:// only (the service runs beside the gateway on a private network; docs/access-management.md).
// - Every request carries the shared service key (accessManagement.serviceKey) in X-WebStream-Service-Key;
//   the key is never logged.
// - One connection per call ("Connection: close"): calls are rare (a session select, a poll every 2 s, a
//   JWKS refresh at most every 10 s), so pooling is not worth its complexity here. The /iam/* browser
//   traffic the gateway proxies goes through proxy::HttpForwarder (pooled), not through this client.
// - One deadline covers resolve, connect, write and reading the whole answer. A host name is resolved with
//   the system resolver, which asio cannot interrupt: configure an IP literal if DNS may hang.
// - Errors: 503 `access_management_unavailable` (cannot connect, reset, timed out), 502
//   `access_management_error` (not HTTP, answer over 8 MiB). Any HTTP answer, 4xx/5xx included, is a reply.
//
// Thread rules: immutable after create(); any thread. call() blocks the calling thread (it runs its own
// io_context): use it from runtime::BlockingPool, or where a short blocking wait is deliberate (see
// jwks_verifier.hpp). async_call() runs on the calling coroutine's executor.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "iam/service_headers.hpp"

namespace webstream::iam {

struct AmRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;  // path (+ "?query") below the service's base URL, e.g. "/iam/internal/resolve"
  std::string body;    // sent as application/json when not empty
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

struct AmReply {
  unsigned status = 0;
  std::string body;
};

class AmClient {
 public:
  // `base_url`: "http://host[:port][/base]". Error 400 naming the problem (another scheme, no host…).
  static Result<AmClient> create(std::string_view base_url, std::string service_key);

  Result<AmReply> call(const AmRequest& request, std::chrono::milliseconds timeout) const;
  boost::asio::awaitable<Result<AmReply>> async_call(AmRequest request, std::chrono::milliseconds timeout) const;

  const std::string& host() const { return host_; }
  std::uint16_t port() const { return port_; }

 private:
  AmClient() = default;
  std::string host_;  // name or IP literal (IPv6 without brackets)
  std::uint16_t port_ = 80;
  std::string base_path_;  // "" or "/base" (no trailing '/')
  std::string host_header_;
  std::string service_key_;
};

// The contract's error body {"error":{"code","message"}} of a reply as an Error with the reply's status;
// a body that is not one gives `fallback_code` and a generic message.
Error reply_error(const AmReply& reply, std::string_view fallback_code);

}  // namespace webstream::iam
