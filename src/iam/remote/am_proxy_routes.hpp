#pragma once
// /iam/* on a gateway whose IAM is another process (accessManagement.mode=standalone|external;
// docs/access-management.md): every method, path, query and body is forwarded to accessManagement.url, and
// the service's status, headers (minus hop-by-hop and Set-Cookie) and body come back.
//
// Towards the service:
//  - removed from the client's request: hop-by-hop headers and those its Connection header names, Cookie,
//    X-MCP-Key, X-Backend-Key, Expect, Forwarded, X-Real-IP and every X-Forwarded-* and X-WebStream-* header
//    (so a client can never present a service key or a service principal of its own). Authorization is
//    KEPT: the service authenticates the user itself.
//  - added: X-Forwarded-For (the client's address: the service counts login failures per IP on it),
//    X-Forwarded-Proto, X-Forwarded-Host, and X-WebStream-Service-Key (accessManagement.serviceKey), without
//    which the service ignores X-Forwarded-For;
//  - an /mcp/iam/* call dispatched here by the MCP proxy (ctx.preauthenticated, a service principal) goes
//    without Authorization and with X-WebStream-Service-Principal: <MCP key name>; the service serves it as
//    that service principal (iam/api/service_gate.hpp).
//  - /iam/internal/* (the service's API for gateways) is never forwarded: 404. A path that decodes to a "." or
//    ".." segment or hides a slash: 400, never forwarded.
// Side effects on this gateway: a 2xx POST /iam/auth/logout also revokes the token here at once; any other
// 2xx change (not GET/HEAD) makes the revocation poller poll at once (a disable done through this gateway
// takes effect here without waiting for the next poll).
// Errors: the service unreachable → 503 access_management_unavailable; silent past 30 s → 504
// access_management_timeout; a broken answer → 502 access_management_error.
//
// Thread rules: handlers run on I/O threads; forwarding is asynchronous (proxy::HttpForwarder).
#include <functional>
#include <string>

#include "core/principal.hpp"
#include "http/router.hpp"
#include "proxy/http_forwarder.hpp"

namespace webstream::iam {

struct AmProxyDeps {
  proxy::BackendUrl service;  // accessManagement.url
  std::string service_key;
  const proxy::HttpForwarder& forwarder;
  // The gateway's own token check (for the logout side effect).
  std::function<Result<core::Principal>(const http::RequestContext&)> bearer;
  std::function<void(const core::Principal&)> revoke_locally;
  std::function<void()> changed;
};

void register_am_proxy_routes(http::Router& router, AmProxyDeps deps);

}  // namespace webstream::iam
