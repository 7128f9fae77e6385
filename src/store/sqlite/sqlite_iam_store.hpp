#pragma once
// SqliteIamStore: IamStore on the shared SqliteDb (migration domain "iam"). Tables: iam_orgs, iam_users,
// iam_objects (groups, apps, workspaces, policies as JSON documents), iam_group_members,
// iam_entitlements, iam_audit. The implementation is split over sqlite_iam_store.cpp (orgs, users,
// audit) and sqlite_iam_objects.cpp (objects, members, entitlements).
//
// Thread rules: any thread; calls serialise on the SqliteDb mutex and block on fsync.
#include <memory>

#include "store/iam_store.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/string_list_json.hpp"

namespace webstream::store {

class SqliteIamStore final : public IamStore {
 public:
  // Applies the "iam" migrations. Error names the store problem.
  static Result<std::unique_ptr<SqliteIamStore>> open(SqliteDb& db);

  // IamStore
  Result<bool> is_empty() override;
  Status create_org(const OrgRow& org, const AuditRow& audit) override;
  Result<OrgRow> get_org(const std::string& id) override;
  Result<OrgRow> find_org_by_name(const std::string& name) override;
  Result<PageOf<OrgRow>> list_orgs(const ListQuery& query) override;
  Status update_org(const OrgRow& org, const AuditRow& audit) override;
  Status delete_org(const std::string& id, const AuditRow& audit) override;
  Status create_user(const UserRow& user, const AuditRow& audit) override;
  Result<UserRow> get_user(const std::string& id) override;
  Result<UserRow> find_user_by_username(const std::string& username) override;
  Result<PageOf<UserRow>> list_users(const ListQuery& query) override;
  Status update_user(const UserRow& user, const AuditRow& audit) override;
  Status modify_user(const std::string& id, const UserChange& change, const AuditRow& audit) override;
  Status set_user_password(const std::string& id, const std::string& password_hash, std::int64_t credentials_changed_at,
                           Millis updated_at, const AuditRow& audit) override;
  Status delete_user(const std::string& id, const AuditRow& audit) override;
  Status create_object(const ObjectRow& object, const AuditRow& audit) override;
  Result<ObjectRow> get_object(const std::string& type, const std::string& id) override;
  Result<PageOf<ObjectRow>> list_objects(const std::string& type, const ListQuery& query) override;
  Status update_object(const ObjectRow& object, const AuditRow& audit) override;
  Status delete_object(const std::string& type, const std::string& id, const AuditRow& audit) override;
  Status add_member(const std::string& group_id, const std::string& user_id, Millis at, const AuditRow& audit) override;
  Status remove_member(const std::string& group_id, const std::string& user_id, const AuditRow& audit) override;
  Result<PageOf<MemberRow>> list_members(const std::string& group_id, std::int64_t limit, std::int64_t offset) override;
  Result<std::vector<std::string>> groups_of(const std::string& user_id) override;
  Status create_entitlement(const EntitlementRow& e, const AuditRow& audit) override;
  Result<EntitlementRow> get_entitlement(const std::string& id) override;
  Result<PageOf<EntitlementRow>> list_entitlements(const ListQuery& query) override;
  Status update_entitlement(const EntitlementRow& e, const AuditRow& audit) override;
  Status delete_entitlement(const std::string& id, const AuditRow& audit) override;
  Result<std::vector<EntitlementRow>> entitlements_of(const std::string& org_id, const std::string& user_id,
                                                      const std::vector<std::string>& group_ids) override;
  Result<PageOf<AuditRow>> list_audit(const ListQuery& query) override;
  Status append_audit(const AuditRow& audit) override;

 private:
  explicit SqliteIamStore(SqliteDb& db) : db_(db) {}
  SqliteDb& db_;
};

// Helpers shared by the two implementation files (not part of the store's interface).
namespace iam_sql {

// Runs a read under the lock; a StoreError becomes 500.
template <class T, class F>
Result<T> read(SqliteDb& db, F&& fn) {
  return db.locked([&](SqliteDb& d) -> Result<T> {
    try {
      return fn(d);
    } catch (const StoreError& e) {
      return Error::internal("store: " + e.message);
    }
  });
}

void write_audit(SqliteDb& db, const AuditRow& audit);

}  // namespace iam_sql

}  // namespace webstream::store
