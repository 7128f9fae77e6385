#pragma once
// The access-management service's front door for calls that come THROUGH a gateway (`webstream -am`;
// docs/access-management.md). A gateway in standalone/external mode proxies the browser's /iam/* requests
// here with its service key (X-WebStream-Service-Key) and the client's address in X-Forwarded-For; an
// /mcp/iam/* call also names the MCP key in X-WebStream-Service-Principal.
//
// add_service_gated_routes() re-registers every route of `from` on `to`, each wrapped so that:
//  - without X-WebStream-Service-Key, the request is served as it came (a direct client: its own socket
//    address, its own Bearer token; X-Forwarded-For and X-WebStream-Service-Principal mean nothing);
//  - with a WRONG key (or when this service has none): 401 `unauthorized`, nothing else runs;
//  - with the right key: the first X-Forwarded-For address (when it is an IP literal) becomes the
//    request's client address — so login lockout per IP (CONTRACT §6) counts the browser, not the gateway —
//    and an X-WebStream-Service-Principal value <name> makes the request the MCP service principal
//    "mcp:<name>" with the rights of an admin (auth::service_principal), exactly as /mcp/iam/* is served
//    in-process in builtin mode.
// The key is compared in constant time and never logged.
//
// Thread rules: call at start-up (the router is read-only afterwards); the wrappers run on I/O threads.
#include <string>
#include <string_view>

#include "http/router.hpp"
#include "iam/service_headers.hpp"

namespace webstream::iam {

void add_service_gated_routes(http::Router& to, const http::Router& from, std::string service_key);

}  // namespace webstream::iam
