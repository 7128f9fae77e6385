#pragma once
// UserDirectory: what authentication needs to know about users, apart from how IAM stores them.
// The authenticator (and the IAM's login) use it; the IAM implements it over its store
// (iam/store_user_directory.hpp). It lives here, with its user, so auth does not depend on iam.
// Thread rules: implementations are thread-safe; calls may block on the store (call from BlockingPool).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace webstream::auth {

struct UserRecord {
  std::string id;
  std::string username;
  std::string org_id;
  std::vector<std::string> roles;
  std::string display_name;
  std::string email;
  std::string password_hash;  // argon2id string (crypto_pwhash_str format); never leaves the IAM
  bool disabled = false;
  std::int64_t credentials_changed_at = 0;  // seconds; tokens issued before it are invalid
};

// A lookup answers the user, nullopt when there is no such user, or an Error when the store could not answer
// (e.g. 503 store_unavailable while PostgreSQL is down). The two must never be confused: an outage taken for
// "no such user" would answer 401, count a login failure towards a lockout and log the user out.
class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  virtual Result<std::optional<UserRecord>> find_by_username(const std::string& username) = 0;
  virtual Result<std::optional<UserRecord>> find_by_id(const std::string& user_id) = 0;
};

}  // namespace webstream::auth
