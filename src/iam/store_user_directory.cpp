#include "iam/store_user_directory.hpp"

#include "observability/log.hpp"

namespace webstream::iam {

namespace {
std::optional<auth::UserRecord> from(const Result<store::UserRow>& row) {
  if (row) return to_user_record(*row);
  if (row.error().status != 404) log::error("user lookup failed", {{"error", row.error().message}});
  return std::nullopt;
}
}  // namespace

auth::UserRecord to_user_record(const store::UserRow& row) {
  auth::UserRecord r;
  r.id = row.id;
  r.username = row.username;
  r.org_id = row.org_id;
  r.roles = row.roles;
  r.display_name = row.display_name;
  r.email = row.email;
  r.password_hash = row.password_hash;
  r.disabled = row.disabled;
  r.credentials_changed_at = row.credentials_changed_at;
  return r;
}

std::optional<auth::UserRecord> StoreUserDirectory::find_by_username(const std::string& username) {
  if (username.empty()) return std::nullopt;
  return from(store_.find_user_by_username(username));
}

std::optional<auth::UserRecord> StoreUserDirectory::find_by_id(const std::string& user_id) {
  if (user_id.empty()) return std::nullopt;
  return from(store_.get_user(user_id));
}

}  // namespace webstream::iam
