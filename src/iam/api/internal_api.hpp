#pragma once
// The access-management service's internal API for gateways (`webstream -am`; docs/access-management.md).
// Every route is Exposure::kInternal and requires X-WebStream-Service-Key equal (constant time) to
// accessManagement.serviceKey; missing or wrong → 401 `unauthorized`; a service without a serviceKey answers
// 401 to every call. The key is never logged.
//
//   POST /iam/internal/resolve {"userId","workspaceId","appId"?}
//        → 200 the Resolution (resolution_json.hpp) | the resolver's error (403 not_entitled, 400 …)
//   GET  /iam/internal/revocations?since=<ms>
//        → 200 {"now":<ms>,"revoked":[{"jti","exp"}],"userCutoffs":[{"userId","notBefore"}]} (revocation_feed.hpp)
//   POST /iam/internal/mcp-audit {"keyName","method","path","status"}
//        → 204; the gateway's record of an /mcp/iam/* call, audited here as "mcp:<keyName>" (CONTRACT §9)
//
// Thread rules: handlers run on I/O threads; the resolver, the feed and the audit write run on `blocking`.
#include <functional>
#include <string>

#include "http/router.hpp"
#include "iam/revocation_feed.hpp"
#include "runtime/blocking_pool.hpp"
#include "sessions/entitlement_resolver.hpp"

namespace webstream::iam {

// Records an /mcp/iam/* call (key name, method, IAM path, status); must not block (post the write).
using McpAudit = std::function<void(const std::string& key_name, const std::string& method, const std::string& path,
                                    unsigned status)>;

struct InternalApiDeps {
  std::string service_key;  // "" → every call 401
  sessions::EntitlementResolver& resolver;
  RevocationFeed& feed;
  runtime::BlockingPool& blocking;
  McpAudit audit_mcp;
};

void register_internal_routes(http::Router& router, InternalApiDeps deps);

// 401 unless `ctx` carries X-WebStream-Service-Key equal to `configured` (constant time; "" never matches).
Status check_service_key(const http::RequestContext& ctx, std::string_view configured);

// The answer to a failed check_service_key: the error, with "WWW-Authenticate: WebStream-Service-Key"
// (not "Bearer": a token is not what this API takes).
http::Response service_key_refusal(const Error& error, const http::Request& req);

}  // namespace webstream::iam
