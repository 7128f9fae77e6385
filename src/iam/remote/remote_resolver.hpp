#pragma once
// RemoteEntitlementResolver: the gateway's EntitlementResolver in accessManagement.mode=standalone|external —
// a client of the access-management service's POST /iam/internal/resolve (docs/access-management.md).
//
// Answers:
//  - the service's 200 → the Resolution (resolution_json.hpp);
//  - the service's 4xx error (403 not_entitled, …) → that error, code and message as the service gave them;
//  - the service unreachable or silent past `timeout` → 503 `access_management_unavailable`;
//  - the service's 5xx, or an answer that is not a Resolution → 502 `access_management_error`.
// Either way the body the browser gets is the contract's {"error":{"code","message"}}.
//
// Thread rules: thread-safe. resolve() BLOCKS for up to `timeout` (one HTTP exchange): it is called by
// sessions::SessionService::select, which the sessions API runs on runtime::BlockingPool
// (sessions/sessions_api.cpp), never on an I/O thread.
#include <chrono>

#include "iam/remote/am_client.hpp"
#include "sessions/entitlement_resolver.hpp"

namespace webstream::iam {

class RemoteEntitlementResolver final : public sessions::EntitlementResolver {
 public:
  RemoteEntitlementResolver(const AmClient& client, std::chrono::milliseconds timeout = std::chrono::seconds(3))
      : client_(client), timeout_(timeout) {}

  Result<sessions::Resolution> resolve(const std::string& user_id, const std::string& workspace_id,
                                       const std::optional<std::string>& app_id) override;

 private:
  const AmClient& client_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace webstream::iam
