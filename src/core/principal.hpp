#pragma once
// Principal: who a verified request is. Produced by the one token check (auth/authenticator), used by
// every component that authorises. It lives in core, not auth, because http carries one (an in-process
// dispatch's preauthenticated caller, http/types.hpp) and http sits below auth.
#include <cstdint>
#include <string>
#include <vector>

namespace webstream::core {

struct Principal {
  std::string user_id;
  std::string username;
  std::string org_id;
  std::vector<std::string> roles;  // "admin", "org-admin", "user"
  std::string token_id;            // jti of the token it came from ("" for service principals)
  std::int64_t expires_at = 0;     // seconds since epoch
  std::int64_t issued_at = 0;      // the token's iat (seconds): compared with per-user "not valid before"
  bool service = false;            // the MCP service principal

  bool has_role(std::string_view role) const {
    for (const auto& r : roles) {
      if (r == role) return true;
    }
    return false;
  }
  bool is_admin() const { return has_role("admin"); }
};

}  // namespace webstream::core
