#pragma once
// HttpForwarder: sends one HTTP request to a session host (or the MCP metrics engine) and returns its
// answer (CONTRACT §8 "GET /getConnection", §9).
//
// - Upstream connections are HTTP/1.1 keep-alive and pooled per execution context (UpstreamPool): a worker
//   reuses its own idle connections without touching another worker's.
// - A reused connection that turns out dead before any byte of the answer arrives (the backend closed it
//   while idle) is retried once on a fresh connection, for GET and HEAD only: a POST may have been acted on.
// - Deadlines: connect (default 3 s) covers resolve + TCP connect; response (default 30 s) covers writing
//   the request and reading the whole answer. Name resolution of a non-literal host uses the system
//   resolver; backends normally register an IP literal, which skips it.
// - The answer keeps the backend's status, headers and body, minus hop-by-hop headers and Set-Cookie
//   (header_policy::filter_response). It comes back as HTTP/1.1 with no Connection header and a
//   Content-Length: the connection layer decides keep-alive towards its own client.
// - Errors (never naming the backend's address, which the browser must not learn):
//     502 backend_unavailable   connect refused / timed out / reset, or the backend closed mid-answer
//     504 backend_timeout       no complete answer within the response deadline
//     502 bad_backend_response  malformed answer, header over max_response_header, body over max_response_body
// - http:// only: an https:// backend URL is rejected by parse_backend_url (TLS upstreams are not built).
//
// Thread rules: an HttpForwarder is immutable after construction and shared by every worker; forward() runs
// on the calling coroutine's executor and uses that execution context's pool.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "http/types.hpp"

namespace webstream::proxy {

// A backend base URL, parsed once (when the backend registers), used for every request.
struct BackendUrl {
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::uint16_t port = 80;
  std::string base_path;    // encoded path prefix without a trailing '/', "" for the root
  std::string authority;    // "host:port": the pool key
  std::string host_header;  // the Host header to send ("host" for port 80, else "host:port")
};

// Parses "http://host[:port][/base]". Errors (400 invalid_request): not a URL, another scheme (https
// included), userinfo, a query or fragment, no host.
Result<BackendUrl> parse_backend_url(std::string_view url);

// base_path + encoded_path + ("?" + raw_query when not empty): the request-target to send.
std::string join_target(std::string_view base_path, std::string_view encoded_path, std::string_view raw_query);

struct ForwarderOptions {
  std::chrono::milliseconds connect_timeout{3000};    // CONTRACT §11
  std::chrono::milliseconds response_timeout{30000};  // CONTRACT §8: 504 after this
  std::size_t max_response_header = 64 * 1024;
  std::size_t max_response_body = 8 * 1024 * 1024;  // a /getConnection answer is small; over → 502
  std::size_t max_idle_per_backend = 32;            // per execution context
  Millis idle_timeout_ms = 15000;                   // below common backend keep-alive timeouts

  static ForwarderOptions from_limits(const config::LimitsConfig& limits);
};

// A request already in wire form (http/wire.hpp): `head` is the start line, every header line (Host and
// Content-Length included) and the blank line; `body` follows it. The /getConnection hot path builds it
// straight from the client's request (edge/proxy_routes.cpp).
struct WireRequest {
  http::bhttp::verb method = http::bhttp::verb::get;
  std::string head;
  std::string_view body;  // must stay valid until forward_wire() completes
};

class HttpForwarder {
 public:
  HttpForwarder(ForwarderOptions options, const Clock& clock);

  // Sends `request` to `backend`. The caller has already applied the header policy and set the target
  // (join_target); this sets Host, HTTP/1.1 and Content-Length. `backend` must outlive the returned
  // awaitable (co_await it directly).
  boost::asio::awaitable<Result<http::Response>> forward(const BackendUrl& backend, http::Request request) const;
  // The same for a request the caller has already written out (Host, Content-Length and header policy
  // included). `backend` and `request.body` must outlive the returned awaitable.
  boost::asio::awaitable<Result<http::Response>> forward_wire(const BackendUrl& backend, WireRequest request) const;
  // The same exchange, the answer written into `answer` in wire form (http::WireAnswer) as Beast's parser
  // reads it: no field list, no Response (the /getConnection hot path, docs/proxy.md "Hot path"). Kept and
  // added exactly as forward_wire's Response would be: the same filter (filter_response), a Content-Length
  // where that one gets one, the same errors; `answer.used` is set on success only. `backend`, `request.body`
  // and `answer` must outlive the returned awaitable.
  boost::asio::awaitable<Status> forward_answer(const BackendUrl& backend, WireRequest request,
                                                http::WireAnswer& answer) const;

  const ForwarderOptions& options() const { return options_; }

 private:
  const ForwarderOptions options_;
  const Clock& clock_;
};

}  // namespace webstream::proxy
