#pragma once
// The two headers of the protocol between a gateway and the access-management service
// (docs/access-management.md), shared by the service's side (iam/api: internal_api, service_gate) and the
// gateway's side (iam/remote: am_client, am_proxy_routes), which therefore do not include each other.
//  - X-WebStream-Service-Key: the shared accessManagement.serviceKey; never logged.
//  - X-WebStream-Service-Principal: with the key, the MCP key name an /mcp/iam/* call is made as.
#include <string_view>

namespace webstream::iam {

inline constexpr std::string_view kServiceKeyHeader = "X-WebStream-Service-Key";
inline constexpr std::string_view kServicePrincipalHeader = "X-WebStream-Service-Principal";

}  // namespace webstream::iam
