#include "iam/store_user_directory.hpp"

#include "observability/log.hpp"

namespace webstream::iam {

namespace {
Result<std::optional<auth::UserRecord>> from(const Result<store::UserRow>& row) {
  if (row) return std::optional<auth::UserRecord>(to_user_record(*row));
  if (row.error().status == 404) return std::optional<auth::UserRecord>();
  // An outage (503) is visible in webstream_store_up and the store's own lines; anything else is unexpected.
  if (row.error().status != 503) log::error("user lookup failed", {{"error", row.error().message}});
  return row.error();
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

Result<std::optional<auth::UserRecord>> StoreUserDirectory::find_by_username(const std::string& username) {
  if (username.empty()) return std::optional<auth::UserRecord>();
  return from(store_.find_user_by_username(username));
}

Result<std::optional<auth::UserRecord>> StoreUserDirectory::find_by_id(const std::string& user_id) {
  if (user_id.empty()) return std::optional<auth::UserRecord>();
  return from(store_.get_user(user_id));
}

}  // namespace webstream::iam
