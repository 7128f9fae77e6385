#pragma once
// UserDirectory: what authentication needs to know about users, apart from how IAM stores them.
// The authenticator (and the IAM's login) use it; the IAM implements it over its store
// (iam/store_user_directory.hpp). It lives here, with its user, so auth does not depend on iam.
// Thread rules: implementations are thread-safe; calls may block on the store (call from BlockingPool).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  virtual std::optional<UserRecord> find_by_username(const std::string& username) = 0;
  virtual std::optional<UserRecord> find_by_id(const std::string& user_id) = 0;
};

}  // namespace webstream::auth
