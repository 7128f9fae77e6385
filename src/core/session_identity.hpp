#pragma once
// SessionIdentity: who a session is for and what it runs — what the gateway tells the session host about it
// (the X-Workspace-ID … X-Org-ID and X-Policy-JSON headers, the assertion's claims). Fixed at select from the
// caller and the IAM's resolution (sessions/session_service.cpp), stored with the session
// (store::SessionRecord derives from it) and injected by the proxy (proxy::Identity derives from it), so it is
// carried by one slice copy, never field by field: a new identity field is declared here, then stored (both
// stores' columns), filled at select, and injected (proxy/header_policy.cpp).
//
// It lives in core because the store (floor 2) and the proxy (floor 4) both hold one and neither may include
// the other's room. Thread rules: a plain value.
#include <string>

namespace webstream::core {

struct SessionIdentity {
  std::string workspace_id;
  std::string workspace_name;
  std::string workspace_type;  // "desktop" | "app"
  std::string app_id;          // "" for a desktop without an app
  std::string app_exe;         // from the IAM, never from the browser
  std::string app_args;
  std::string user_id;
  std::string username;
  std::string org_id;
  std::string policy_json;  // the effective policy, serialised once at select

  // Every field equal (e.g. a signed assertion still fits the session). Named, and == private, so that the
  // structs deriving from this one do not silently compare only their identity with ==.
  bool same_as(const SessionIdentity& other) const { return *this == other; }

 private:
  bool operator==(const SessionIdentity&) const = default;
};

}  // namespace webstream::core
