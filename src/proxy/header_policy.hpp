#pragma once
// Header policy for everything the gateway forwards to a session host (CONTRACT §8). Pure functions: no
// I/O, no clock, no globals.
//
// The backend trusts the identity headers blindly, so the rule is "strip first, then inject":
//   1. Remove, in any case and any number of times, every header the client sent that
//      - carries an identity name (X-Workspace-ID … X-Session-ID, X-WebStream-Assertion, X-Real-IP,
//        Forwarded, and every X-Forwarded-* / X-WebStream-* name), or
//      - is hop-by-hop (Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding, Upgrade,
//        Proxy-Authorization, Proxy-Authenticate), or named by a token of the client's Connection header(s), or
//      - is a gateway credential (Authorization, Cookie, X-MCP-Key, X-Backend-Key), or
//      - is Expect (the gateway has already read the body; a 100-continue exchange with the backend would
//        be answered to nobody).
//      Names compare case-insensitively AND with '_' equal to '-': many backend stacks (CGI, WSGI, PHP)
//      map "X_User_ID" and "X-User-ID" to the same variable, so an underscore spelling is a spoof too.
//   2. Inject the identity headers. X-Forwarded-For is the client's address only: the gateway is the edge,
//      so it never appends to a client-sent X-Forwarded-For.
//
// Identity values must not contain CR, LF, NUL or any other control character but HTAB: such a value is
// REJECTED (apply() returns an Error, status 500 `invalid_identity`, and changes nothing) rather than
// stripped, because stripping silently changes who the backend thinks the user is. Non-ASCII bytes (UTF-8
// names) are allowed as HTTP obs-text.
//
// Thread rules: none (pure functions on caller-owned objects).
#include <boost/beast/http/fields.hpp>

#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/session_identity.hpp"

namespace webstream::proxy {

namespace bhttp = boost::beast::http;

// Who the request is for: the session's identity as stored (core::SessionIdentity, taken as one slice from
// the session's record: edge/proxy_routes.cpp identity_of), its id and the signed assertion. Every field is
// injected as a header (an empty field gives an empty header, so the backend always sees the full set):
//   workspace_id X-Workspace-ID, workspace_name X-Workspace-Name, workspace_type X-Workspace-Type,
//   app_id X-App-ID, app_exe X-App-Exe, app_args X-App-Args, user_id X-User-ID, username X-Username,
//   org_id X-Org-ID, policy_json (the effective policy's JSON text) X-Policy-JSON as base64(policy_json).
struct Identity : core::SessionIdentity {
  std::string session_id;  // X-Session-ID
  std::string assertion;   // X-WebStream-Assertion (a JWT); omitted when empty
};

// What the gateway saw of the client connection.
struct ForwardInfo {
  std::string client_ip;  // X-Forwarded-For (and X-Real-IP)
  std::string proto;      // X-Forwarded-Proto: "http" or "https"
  std::string host;       // X-Forwarded-Host: the Host the client asked for
};

// The X-Policy-JSON value for a policy: base64 (RFC 4648 §4, padded) of the JSON text.
std::string policy_header_value(std::string_view policy_json);

// Checks every identity and forward value for control characters. Error 500 `invalid_identity` names
// the offending header (never its value).
Status validate(const Identity& identity, const ForwardInfo& forward);

// True when a client-sent header of this name is always removed, whatever the Connection header says.
bool is_stripped_request_header(std::string_view name);

// Step 1 alone: removes what apply() removes, nothing injected. `keep_authorization` keeps the client's
// Authorization (for forwarding to the IAM service, which reads the bearer itself).
void strip_request_headers(bhttp::fields& headers, bool keep_authorization);

// Plain HTTP: strips `headers` (a request's fields) as described above, then injects the identity.
// On error `headers` is unchanged. Host is left as the client sent it: the forwarder sets the backend's.
Status apply(bhttp::fields& headers, const Identity& identity, const ForwardInfo& forward);

// WebSocket upgrade. Beast builds the backend handshake itself (Host, Upgrade, Connection,
// Sec-WebSocket-Key/-Version); this fills `out` with what to add to it: the client's end-to-end headers
// that survive the strip rule, minus the client's own handshake fields (Host, Sec-WebSocket-Key/-Version/
// -Extensions/-Accept: no permessage-deflate is offered to the backend) and its Content-Length (no body is
// read before an upgrade; Transfer-Encoding goes as hop-by-hop), plus Sec-WebSocket-Protocol as the client
// sent it, plus the identity headers. `out` is cleared first.
Status apply_websocket(const bhttp::fields& client_upgrade, bhttp::fields& out, const Identity& identity,
                       const ForwardInfo& forward);

// The same rule in wire form, for the /getConnection hot path, which writes the backend request straight
// into one buffer instead of copying the client's fields and editing them (docs/proxy.md "Hot path").
// apply() ≡ append_surviving_fields + identity_header_lines + append_forward_lines, up to the order of the
// injected lines (tested on the whole spoof table).
//
// Appends "Name: value\r\n" for every client field that survives the strip rule, except Host and
// Content-Length, which the forwarder writes itself.
void append_surviving_fields(const bhttp::fields& client, std::string& out);
// The identity lines (X-Workspace-ID … X-Session-ID, and X-WebStream-Assertion when not empty) — constant for
// a session, so built once per signed assertion (AssertionCache::identity_headers). Error as validate().
Result<std::string> identity_header_lines(const Identity& identity);
// Appends X-Forwarded-For, X-Real-IP, X-Forwarded-Proto and X-Forwarded-Host. Error as validate(); on error
// `out` is unchanged.
Status append_forward_lines(const ForwardInfo& forward, std::string& out);

// A backend's answer: removes the hop-by-hop headers, every header its Connection header names, and
// Set-Cookie / Set-Cookie2 (the browser's cookies belong to the gateway's origin).
void filter_response(bhttp::fields& headers);
// The same rule one field at a time (the forwarder's wire-form answer): a name always removed from an
// answer, and whether `tokens` (every Connection value of the answer, joined by commas) names `name`.
bool is_stripped_response_header(std::string_view name);
bool named_by_connection_tokens(std::string_view tokens, std::string_view name);

// A raw query string (no '?') without every parameter called `name` (e.g. "token", which must never reach
// a backend). Other parameters keep their order and encoding.
std::string remove_query_param(std::string_view raw_query, std::string_view name);

}  // namespace webstream::proxy
