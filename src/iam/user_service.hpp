#pragma once
// UserService: the IAM's rules for users, shared by the HTTP API (iam/api/users_api.cpp) and the admin CLI
// (iam/iam_cli.cpp). The callers parse their input and word their own errors.
//
// RBAC stays in the API layer (users_api.cpp, iam/rbac.hpp), not here: only the API has a principal to check
// (the CLI is the machine's operator, who already holds the store file), and the answer depends on the HTTP
// request — another org's user is a 404 before the body is read, a forbidden change a 403 after it. The
// service gives the API what RBAC needs about a change (effect_of: is it privileged).
//
// The service owns:
//  - the roles a user may hold (kUserRoles) and that a user holds at least one;
//  - the revocation cutoff rule: disabling, deleting, a password change and a change of roles or username
//    revoke the user's tokens issued before the change. The UserChanged hook (the authenticator, which also
//    closes the user's WebSockets) is told just before the write; the cutoff it returns — or now + 1 s when
//    there is no hook or it returns 0 (the CLI) — is stored as credentials_changed_at;
//  - the writes, each with its audit entry naming the actor, and that no write undoes a concurrent one: a
//    password change hashes outside any lock, then writes only the hash and the cutoff; an edit (PATCH, the
//    CLI's enable/disable) is applied to the row inside the store's transaction (IamStore::modify_user), not
//    written back from an earlier read; a cutoff only moves forward. So an administrator's disable or role
//    change and a password change made at the same time all survive.
//
// Thread rules: immutable after construction; any thread. Every call but the static ones blocks on the store,
// and those taking a password also on hashing (~0.25 s): call them from the BlockingPool, never an I/O thread.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "iam/passwords.hpp"
#include "store/iam_store.hpp"

namespace webstream::iam {

// The built-in roles, in the order GET /iam/roles lists them, with the description it gives (what each may
// do is decided by iam/rbac.cpp).
struct UserRole {
  std::string_view id;
  std::string_view description;
};
inline constexpr std::array<UserRole, 3> kUserRoles = {{
    {"admin", "Everything, in every org."},
    {"org-admin",
     "Everything inside its own org: users (but admins), groups, apps, workspaces, policies, "
     "entitlements, and its org's audit log."},
    {"user", "Itself (profile and password) and the workspaces and apps it is entitled to."},
}};
bool is_user_role(std::string_view role);

// Tells the authenticator (auth::Authenticator::on_user_changed) that a user was disabled, deleted, or had
// its password, roles or username changed, so its tokens and open WebSockets stop working at once. Returns
// the cutoff (seconds; tokens issued before it are invalid) to store as the user's credentials_changed_at;
// 0 lets the service use now + 1 s. Called on the thread of the change just before it is written; must not
// block on the store.
using UserChanged = std::function<std::int64_t(const std::string& user_id)>;

// Turns a password into the string stored (PasswordHasher::hash; tests inject one they can hold up).
using HashPassword = std::function<Result<std::string>(std::string_view password)>;

// Who makes a change, as the audit log names them: a user's id and name, "cli", a service.
struct AuditActor {
  std::string id;
  std::string name;
};

struct NewUser {
  std::string org_id;
  std::string username;
  std::vector<std::string> roles;  // empty: {"user"}
  std::string display_name;
  std::string email;
  bool disabled = false;
};

// A change of some of a user's fields; the unset ones are not touched.
struct UserEdit {
  std::optional<std::string> username;
  std::optional<std::vector<std::string>> roles;
  std::optional<std::string> display_name;
  std::optional<std::string> email;
  std::optional<bool> disabled;
};

// What an edit would do to `current`.
struct EditEffect {
  bool privileged = false;  // changes the username, the roles (as a set) or disabled: RBAC's Target::privileged
  bool revokes = false;     // changes the username or the roles, or disables: the user's tokens are revoked
};

class UserService {
 public:
  UserService(store::IamStore& store, HashPassword hash, const Clock& clock, UserChanged on_user_changed = {});
  UserService(store::IamStore& store, const PasswordHasher& passwords, const Clock& clock,
              UserChanged on_user_changed = {});

  // 400 when `roles` is empty or names a role that is not in kUserRoles.
  static Status check_roles(const std::vector<std::string>& roles);
  static EditEffect effect_of(const store::UserRow& current, const UserEdit& edit);

  // Creates the user with a new id and the hash of `password` (checked: validate_new_password).
  // 400 for a bad username, roles or password, 404 for an unknown org, 409 for a taken username.
  Result<store::UserRow> create(NewUser user, std::string_view password, const AuditActor& actor) const;
  // Applies `edit` to the user read as `current`, revoking its tokens when effect_of says so. The edit is
  // applied to the row as it is at the write, in one store transaction (IamStore::modify_user), so a change
  // that landed since `current` was read (a password change, another administrator's disable) is kept.
  // Returns the user as written. 404 when it is gone, 409 for a taken username.
  Result<store::UserRow> edit(const store::UserRow& current, const UserEdit& edit, const AuditActor& actor) const;
  // A new password (checked): stores its hash and revokes the user's tokens. Only the password hash and the
  // cutoff are written (IamStore::set_user_password), never the rest of `user` as read: a disable or a role
  // change that lands while the password is being hashed survives. 404 when the user is gone.
  Status set_password(const store::UserRow& user, std::string_view password, const AuditActor& actor) const;
  // The CLI's enable/disable: disabling always revokes (also an already disabled user: every explicit disable
  // moves the cutoff), enabling revokes nothing. Written like edit(): nothing else of the user is touched.
  Result<store::UserRow> set_disabled(const store::UserRow& user, bool disabled, const AuditActor& actor) const;
  // Revokes the user's tokens and deletes it (with its memberships and entitlements).
  Status remove(const store::UserRow& user, const AuditActor& actor) const;

  // The cutoff rule alone: tells the hook and returns the credentials_changed_at to store.
  std::int64_t revoke(const std::string& user_id) const;

 private:
  store::AuditRow audit(const AuditActor& actor, const char* action, const store::UserRow& user) const;

  store::IamStore& store_;
  HashPassword hash_;
  const Clock& clock_;
  UserChanged on_user_changed_;
};

}  // namespace webstream::iam
