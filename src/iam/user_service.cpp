#include "iam/user_service.hpp"

#include <algorithm>

#include "core/ids.hpp"
#include "iam/field_rules.hpp"

namespace webstream::iam {
namespace {

// A cutoff only moves forward: a later one, set by a concurrent change, stays.
void move_cutoff(store::UserRow& row, std::int64_t cutoff) {
  row.credentials_changed_at = std::max(row.credentials_changed_at, cutoff);
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// The checks every writer gets, whatever its caller already checked.
Status check_edit(const UserEdit& edit) {
  if (edit.username) {
    if (auto s = check_username(*edit.username); !s) return s;
  }
  if (edit.roles) {
    if (auto s = UserService::check_roles(*edit.roles); !s) return s;
  }
  if (edit.display_name) {
    if (auto s = check_text("displayName", *edit.display_name, kMaxNameBytes); !s) return s;
  }
  if (edit.email) {
    if (auto s = check_email(*edit.email); !s) return s;
  }
  return Status::success();
}

}  // namespace

bool is_user_role(std::string_view role) {
  return std::any_of(kUserRoles.begin(), kUserRoles.end(), [&](const UserRole& r) { return r.id == role; });
}

UserService::UserService(store::IamStore& store, HashPassword hash, const Clock& clock, UserChanged on_user_changed)
    : store_(store), hash_(std::move(hash)), clock_(clock), on_user_changed_(std::move(on_user_changed)) {}

UserService::UserService(store::IamStore& store, const PasswordHasher& passwords, const Clock& clock,
                         UserChanged on_user_changed)
    : UserService(
          store, [&passwords](std::string_view password) { return passwords.hash(password); }, clock,
          std::move(on_user_changed)) {}

Status UserService::check_roles(const std::vector<std::string>& roles) {
  if (roles.empty()) return Error::invalid("a user must hold at least one role");
  for (const auto& r : roles) {
    if (!is_user_role(r)) return Error::invalid("roles may be only \"admin\", \"org-admin\" and \"user\"");
  }
  return Status::success();
}

EditEffect UserService::effect_of(const store::UserRow& current, const UserEdit& edit) {
  EditEffect out;
  if (edit.username && *edit.username != current.username) out.privileged = out.revokes = true;
  if (edit.roles && sorted(*edit.roles) != sorted(current.roles)) out.privileged = out.revokes = true;
  if (edit.disabled && *edit.disabled != current.disabled) {
    out.privileged = true;
    out.revokes = out.revokes || *edit.disabled;
  }
  return out;
}

std::int64_t UserService::revoke(const std::string& user_id) const {
  const std::int64_t cutoff = on_user_changed_ ? on_user_changed_(user_id) : 0;
  return cutoff > 0 ? cutoff : clock_.now_s() + 1;
}

store::AuditRow UserService::audit(const AuditActor& actor, const char* action, const store::UserRow& user) const {
  return store::AuditRow{random_id("aud_"), clock_.now_ms(), actor.id, actor.name, action, "user",
                         user.id,           user.org_id};
}

Result<store::UserRow> UserService::create(NewUser user, std::string_view password, const AuditActor& actor) const {
  if (user.roles.empty()) user.roles = {"user"};
  UserEdit fields{user.username, user.roles, user.display_name, user.email, std::nullopt};
  if (auto s = check_edit(fields); !s) return s.error();
  if (auto s = validate_new_password(password, "password"); !s) return s.error();
  auto hashed = hash_(password);
  if (!hashed) return hashed.error();
  store::UserRow row;
  row.id = random_id("usr_");
  row.org_id = std::move(user.org_id);
  row.username = std::move(user.username);
  row.password_hash = std::move(hashed.value());
  row.roles = std::move(user.roles);
  row.display_name = std::move(user.display_name);
  row.email = std::move(user.email);
  row.disabled = user.disabled;
  row.created_at = row.updated_at = clock_.now_ms();
  if (auto s = store_.create_user(row, audit(actor, "create", row)); !s) return s.error();
  return row;
}

Result<store::UserRow> UserService::edit(const store::UserRow& current, const UserEdit& edit,
                                         const AuditActor& actor) const {
  if (auto s = check_edit(edit); !s) return s.error();
  // The hook is told outside the store's transaction (it may write a store of its own), for the change as the
  // caller saw it; the edit is then applied to the row as it is at the write (IamStore::modify_user).
  std::optional<std::int64_t> cutoff;
  if (effect_of(current, edit).revokes) cutoff = revoke(current.id);
  const Millis now = clock_.now_ms();
  store::UserRow written;
  auto change = [&](store::UserRow& row) -> Status {
    const bool revokes = effect_of(row, edit).revokes;
    if (edit.username) row.username = *edit.username;
    if (edit.roles) row.roles = *edit.roles;
    if (edit.display_name) row.display_name = *edit.display_name;
    if (edit.email) row.email = *edit.email;
    if (edit.disabled) row.disabled = *edit.disabled;
    row.updated_at = now;
    if (revokes) move_cutoff(row, cutoff.value_or(now / 1000 + 1));
    written = row;
    return Status::success();
  };
  if (auto s = store_.modify_user(current.id, change, audit(actor, "update", current)); !s) return s.error();
  return written;
}

Status UserService::set_password(const store::UserRow& user, std::string_view password, const AuditActor& actor) const {
  if (auto s = validate_new_password(password, "password"); !s) return s;
  // The hash (~0.25 s) runs under no lock and on a copy of nothing but the password; the write then touches
  // only the password's fields, so a disable or role change made while it ran is kept.
  auto hashed = hash_(password);
  if (!hashed) return hashed.error();
  const std::int64_t cutoff = revoke(user.id);
  return store_.set_user_password(user.id, hashed.value(), cutoff, clock_.now_ms(), audit(actor, "set_password", user));
}

Result<store::UserRow> UserService::set_disabled(const store::UserRow& user, bool disabled,
                                                 const AuditActor& actor) const {
  const std::int64_t cutoff = disabled ? revoke(user.id) : 0;  // told outside the store's transaction
  const Millis now = clock_.now_ms();
  store::UserRow written;
  auto change = [&](store::UserRow& row) -> Status {
    row.disabled = disabled;
    if (disabled) move_cutoff(row, cutoff);
    row.updated_at = now;
    written = row;
    return Status::success();
  };
  if (auto s = store_.modify_user(user.id, change, audit(actor, "update", user)); !s) return s.error();
  return written;
}

Status UserService::remove(const store::UserRow& user, const AuditActor& actor) const {
  revoke(user.id);
  return store_.delete_user(user.id, audit(actor, "delete", user));
}

}  // namespace webstream::iam
