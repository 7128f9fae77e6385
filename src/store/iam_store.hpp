#pragma once
// IamStore: the built-in IAM's resources (CONTRACT §6) — orgs, users, groups and their members, apps,
// workspaces, policies, entitlements — and the audit log.
//
// Layout (see docs/iam-policy.md "Storage"): orgs, users, group members, entitlements and the audit log
// have tables of their own because other rows point at them (foreign keys, cascades, global username
// uniqueness); groups, apps, workspaces and policies are rows of one generic objects table
// (type, id, org_id, name, JSON doc) with a unique (type, org_id, name), so adding a field to one of them
// needs no migration.
//
// Every write runs in one transaction together with its audit entry, so an acknowledged change is on disk
// (synchronous=FULL) and is never without its audit record. Errors: 404 not_found for an unknown id,
// 409 conflict for a taken name or an object still in use, 500 internal_error for a store failure.
//
// Thread rules: implementations are thread-safe; every call may block on disk (call from BlockingPool).
#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace webstream::store {

// The object types of the generic objects table.
inline constexpr const char* kGroup = "group";
inline constexpr const char* kApp = "app";
inline constexpr const char* kWorkspace = "workspace";
inline constexpr const char* kPolicy = "policy";

struct OrgRow {
  std::string id;
  std::string name;
  std::optional<std::int64_t> max_concurrent_sessions;  // the org-wide limit, if set
  Millis created_at = 0;
  Millis updated_at = 0;
};

struct UserRow {
  std::string id;
  std::string org_id;
  std::string username;  // unique over all orgs, case-insensitively (login names no org)
  std::string password_hash;
  std::vector<std::string> roles;
  std::string display_name;
  std::string email;
  bool disabled = false;
  std::int64_t credentials_changed_at = 0;  // seconds; tokens issued before it are invalid
  Millis created_at = 0;
  Millis updated_at = 0;
};

// A group, app, workspace or policy. `doc` holds the type's own fields (a workspace's "apps" array is
// read by the store to refuse deleting an app that a workspace still lists).
struct ObjectRow {
  std::string type;
  std::string id;
  std::string org_id;
  std::string name;  // unique per (type, org)
  boost::json::object doc;
  Millis created_at = 0;
  Millis updated_at = 0;
};

struct EntitlementRow {
  std::string id;
  std::string org_id;
  std::string subject_type;  // "user" | "group" | "org"
  std::string subject_id;
  std::string workspace_id;
  std::vector<std::string> app_ids;  // empty: every app of the workspace
  std::optional<std::string> policy_id;
  Millis created_at = 0;
  Millis updated_at = 0;
};

struct MemberRow {
  std::string user_id;
  std::string username;
  Millis added_at = 0;
};

struct AuditRow {
  std::string id;
  Millis at = 0;
  std::string actor;       // the acting user's id ("cli", "bootstrap" for local tools)
  std::string actor_name;  // the acting user's username
  std::string action;      // create, update, delete, set_password, add_member, remove_member
  std::string object_type;
  std::string object_id;
  std::string org_id;
};

template <class T>
struct PageOf {
  std::vector<T> items;
  std::int64_t total = 0;  // rows matching, over all pages
};

// Which rows a list returns: `org_id` set limits it to one org.
struct ListQuery {
  std::optional<std::string> org_id;
  std::int64_t limit = 50;
  std::int64_t offset = 0;
};

class IamStore {
 public:
  virtual ~IamStore() = default;

  // True when the store holds no org and no user (first start: bootstrap).
  virtual Result<bool> is_empty() = 0;

  // Orgs. Names are unique (409). An org that still holds users, objects or entitlements cannot be
  // deleted (409).
  virtual Status create_org(const OrgRow& org, const AuditRow& audit) = 0;
  virtual Result<OrgRow> get_org(const std::string& id) = 0;
  virtual Result<OrgRow> find_org_by_name(const std::string& name) = 0;
  virtual Result<PageOf<OrgRow>> list_orgs(const ListQuery& query) = 0;  // org_id: only that org
  virtual Status update_org(const OrgRow& org, const AuditRow& audit) = 0;
  virtual Status delete_org(const std::string& id, const AuditRow& audit) = 0;

  // Users. Deleting one removes its group memberships and the entitlements whose subject it is.
  virtual Status create_user(const UserRow& user, const AuditRow& audit) = 0;
  virtual Result<UserRow> get_user(const std::string& id) = 0;
  virtual Result<UserRow> find_user_by_username(const std::string& username) = 0;
  virtual Result<PageOf<UserRow>> list_users(const ListQuery& query) = 0;
  virtual Status update_user(const UserRow& user, const AuditRow& audit) = 0;  // every field but created_at
  // Read-modify-write in one transaction, the row locked: reads the user, lets `change` edit it, writes it back
  // (every field but id and created_at) with `audit`. No other write to the user lands between the read and
  // the write, so an edit never undoes a concurrent one (iam/user_service.hpp). `change` returning an error
  // writes nothing and is returned. `change` runs under the store's lock: it must be quick and must not call
  // any store. 404 when the user is gone, 409 for a taken username.
  using UserChange = std::function<Status(UserRow& user)>;
  virtual Status modify_user(const std::string& id, const UserChange& change, const AuditRow& audit) = 0;
  // A password change: writes only the password hash, credentials_changed_at (moved forward to the given
  // cutoff, never back) and updated_at, so whatever changed in the user's other fields since the caller read
  // it (a disable, new roles: iam/user_service.hpp) is kept. 404 when the user is gone.
  virtual Status set_user_password(const std::string& id, const std::string& password_hash,
                                   std::int64_t credentials_changed_at, Millis updated_at, const AuditRow& audit) = 0;
  virtual Status delete_user(const std::string& id, const AuditRow& audit) = 0;

  // Groups, apps, workspaces, policies. Deleting a group removes its members and its entitlements;
  // deleting a workspace removes the entitlements to it; an app that a workspace lists, or a policy
  // that an entitlement names, cannot be deleted (409).
  virtual Status create_object(const ObjectRow& object, const AuditRow& audit) = 0;
  virtual Result<ObjectRow> get_object(const std::string& type, const std::string& id) = 0;
  virtual Result<PageOf<ObjectRow>> list_objects(const std::string& type, const ListQuery& query) = 0;
  virtual Status update_object(const ObjectRow& object, const AuditRow& audit) = 0;
  virtual Status delete_object(const std::string& type, const std::string& id, const AuditRow& audit) = 0;

  // Group members: the user must be in the group's org (else 404 for the user). Adding a member twice is
  // 409; removing one that is not a member is 404.
  virtual Status add_member(const std::string& group_id, const std::string& user_id, Millis at,
                            const AuditRow& audit) = 0;
  virtual Status remove_member(const std::string& group_id, const std::string& user_id, const AuditRow& audit) = 0;
  virtual Result<PageOf<MemberRow>> list_members(const std::string& group_id, std::int64_t limit,
                                                 std::int64_t offset) = 0;
  virtual Result<std::vector<std::string>> groups_of(const std::string& user_id) = 0;

  // Entitlements. One per (subject, workspace): a second is 409.
  virtual Status create_entitlement(const EntitlementRow& e, const AuditRow& audit) = 0;
  virtual Result<EntitlementRow> get_entitlement(const std::string& id) = 0;
  virtual Result<PageOf<EntitlementRow>> list_entitlements(const ListQuery& query) = 0;
  virtual Status update_entitlement(const EntitlementRow& e, const AuditRow& audit) = 0;
  virtual Status delete_entitlement(const std::string& id, const AuditRow& audit) = 0;
  // Every entitlement in `org_id` whose subject is the user, one of `group_ids`, or the org itself,
  // ordered by id.
  virtual Result<std::vector<EntitlementRow>> entitlements_of(const std::string& org_id, const std::string& user_id,
                                                              const std::vector<std::string>& group_ids) = 0;

  // The audit log, newest first.
  virtual Result<PageOf<AuditRow>> list_audit(const ListQuery& query) = 0;
  // An audit entry that goes with no IAM change (e.g. an /mcp/iam/* call, a lockout).
  virtual Status append_audit(const AuditRow& audit) = 0;
};

}  // namespace webstream::store
