#pragma once
// EntitlementResolver: what a user may launch, and under which policy. The built-in IAM implements it
// over its store; in standalone/external access-management mode a client of the remote IAM does.
// The session service depends only on this interface, which therefore lives here with it; iam/entitlements.hpp
// and iam/remote/remote_resolver.hpp implement it.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace webstream::sessions {

struct AppInfo {
  std::string id;
  std::string name;
  std::string exe;
  std::string args;
};

struct WorkspaceInfo {
  std::string id;
  std::string org_id;
  std::string name;
  std::string type;  // "desktop" | "app"
  std::vector<std::string> app_ids;
  std::vector<std::string> required_tags;
  std::vector<std::string> required_capabilities;
};

struct Resolution {
  WorkspaceInfo workspace;
  std::optional<AppInfo> app;  // the launched app (none for a desktop without appId)
  boost::json::object policy;  // effective policy document (always has maxConcurrentSessions)
  std::optional<std::int64_t> org_max_concurrent_sessions;  // the org's own limit, if set
};

class EntitlementResolver {
 public:
  virtual ~EntitlementResolver() = default;
  // The workspace + app the user may launch with the effective policy; Error 403 not_entitled when
  // the user has no entitlement to it (or the workspace/app is unknown or in another org).
  virtual Result<Resolution> resolve(const std::string& user_id, const std::string& workspace_id,
                                     const std::optional<std::string>& app_id) = 0;
};

}  // namespace webstream::sessions
