#pragma once
// The request/response types every handler sees, and the response builders. Handlers never write to a
// socket: they return a Response, and http/connection writes it.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"
#include "core/principal.hpp"

namespace webstream::http {

namespace bhttp = boost::beast::http;
using Request = bhttp::request<bhttp::string_body>;
using Response = bhttp::response<bhttp::string_body>;

// A handler's answer already in wire form, in a slot the connection owns and reuses (no allocation once its
// strings have grown): the /getConnection hot path writes the backend's answer head into it as it parses it,
// filtered, instead of building a Response that the connection would serialise again (docs/proxy.md "Hot
// path"; proxy/http_forwarder.hpp forward_answer).
struct WireAnswer {
  bool used = false;  // set by the handler that filled it: its returned Response then only carries the status
  unsigned status = 0;
  // "HTTP/1.1 <code> <reason>\r\n", then every field the answer keeps as "Name: value\r\n" (a Content-Length
  // among them), no blank line. The connection adds Connection and Strict-Transport-Security as it would to a
  // Response, the blank line, and writes 1.0 for a 1.0 client.
  std::string head;
  std::string body;
  bool has_hsts = false;  // head holds a Strict-Transport-Security field (the connection replaces it on TLS)
  void reset() {
    used = false;
    status = 0;
    head.clear();
    body.clear();
    has_hsts = false;
  }
};

// Which listener a request arrived on. kPublic: the browser-facing one (HTTPS, or the HTTP port in
// development mode); kInternal: the HTTP port when HTTPS is on.
enum class ListenerKind { kPublic, kInternal };

struct RequestContext {
  Request& req;
  // Initialise by field name (`RequestContext ctx{.req = req, .remote_ip = ip}`): every field but `req` has a
  // default, so a field left out is empty.
  std::string path{};                 // the target's path, percent-decoded, without the query
  std::string raw_target{};           // the target exactly as received
  std::string query{};                // raw query string without '?', "" if none
  std::vector<std::string> params{};  // values of {} segments in the matched route, in order
  std::string remote_ip{};
  bool tls = false;
  ListenerKind listener = ListenerKind::kPublic;
  // Set only by in-process dispatch (the MCP proxy's /mcp/iam/*): the caller is this service principal and
  // no token is read. A client can never set it.
  std::shared_ptr<const core::Principal> preauthenticated{};
  // Set on a WebSocket upgrade: work that takes the connection over and outlives the request (a detached
  // relay) holds it, so the connection still counts against the listener's caps.
  std::shared_ptr<void> connection_ticket{};
  // The connection's wire-form answer slot (null: answer with the returned Response only). A handler may fill
  // it and set `used` instead of building the answer's fields into the Response.
  WireAnswer* wire_answer = nullptr;

  // The decoded value of query parameter `name`, or "" when absent.
  std::string query_param(std::string_view name) const;
  // The value of a request header ("" when absent).
  std::string_view header(std::string_view name) const;
};

Response json_response(unsigned status, const boost::json::value& body, const Request& req);
Response text_response(unsigned status, std::string body, std::string_view content_type, const Request& req);
// The contract's error body {"error":{"code","message"}}; adds Retry-After when the error has one.
Response error_response(const Error& error, const Request& req);
Response error_response(const Error& error, unsigned version, bool keep_alive);

}  // namespace webstream::http
