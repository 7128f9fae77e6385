// SqliteIamStore, part 2: generic objects (groups, apps, workspaces, policies), group members and
// entitlements.
#include <boost/json.hpp>

#include "store/sqlite/sqlite_iam_store.hpp"

namespace webstream::store {
namespace {

namespace json = boost::json;

constexpr const char* kObjectColumns = "type,id,org_id,name,doc,created_at,updated_at";
constexpr const char* kEntitlementColumns =
    "id,org_id,subject_type,subject_id,workspace_id,app_ids,policy_id,created_at,updated_at";

ObjectRow read_object(Statement& q) {
  ObjectRow o;
  o.type = q.text(0);
  o.id = q.text(1);
  o.org_id = q.text(2);
  o.name = q.text(3);
  boost::system::error_code ec;
  auto doc = json::parse(q.text(4), ec);
  if (!ec && doc.is_object()) o.doc = std::move(doc.as_object());
  o.created_at = q.integer(5);
  o.updated_at = q.integer(6);
  return o;
}

EntitlementRow read_entitlement(Statement& q) {
  EntitlementRow e;
  e.id = q.text(0);
  e.org_id = q.text(1);
  e.subject_type = q.text(2);
  e.subject_id = q.text(3);
  e.workspace_id = q.text(4);
  e.app_ids = decode_strings(q.text(5));
  if (!q.is_null(6)) e.policy_id = q.text(6);
  e.created_at = q.integer(7);
  e.updated_at = q.integer(8);
  return e;
}

std::string type_label(const std::string& type) { return type; }

bool object_exists(SqliteDb& db, const std::string& type, const std::string& id) {
  auto& q = db.prepare("SELECT 1 FROM iam_objects WHERE type=? AND id=?");
  q.bind(1, type).bind(2, id);
  const bool found = q.step();
  q.reset();
  return found;
}

bool object_name_taken(SqliteDb& db, const ObjectRow& o) {
  auto& q = db.prepare("SELECT 1 FROM iam_objects WHERE type=? AND org_id=? AND name=? AND id<>?");
  q.bind(1, o.type).bind(2, o.org_id).bind(3, o.name).bind(4, o.id);
  const bool taken = q.step();
  q.reset();
  return taken;
}

bool entitlement_taken(SqliteDb& db, const EntitlementRow& e) {
  auto& q =
      db.prepare("SELECT 1 FROM iam_entitlements WHERE subject_type=? AND subject_id=? AND workspace_id=? AND id<>?");
  q.bind(1, e.subject_type).bind(2, e.subject_id).bind(3, e.workspace_id).bind(4, e.id);
  const bool taken = q.step();
  q.reset();
  return taken;
}

// Entitlement references the store itself enforces: the workspace (and policy, if any) exist in its org.
Status check_entitlement_refs(SqliteDb& db, const EntitlementRow& e) {
  auto& w = db.prepare("SELECT 1 FROM iam_objects WHERE type='workspace' AND id=? AND org_id=?");
  w.bind(1, e.workspace_id).bind(2, e.org_id);
  const bool ws = w.step();
  w.reset();
  if (!ws) return Error::invalid("field 'workspaceId' names no workspace in this org");
  if (e.policy_id) {
    auto& p = db.prepare("SELECT 1 FROM iam_objects WHERE type='policy' AND id=? AND org_id=?");
    p.bind(1, *e.policy_id).bind(2, e.org_id);
    const bool pol = p.step();
    p.reset();
    if (!pol) return Error::invalid("field 'policyId' names no policy in this org");
  }
  return Status::success();
}

void bind_entitlement(Statement& q, const EntitlementRow& e) {
  q.bind(1, e.id)
      .bind(2, e.org_id)
      .bind(3, e.subject_type)
      .bind(4, e.subject_id)
      .bind(5, e.workspace_id)
      .bind(6, encode_strings(e.app_ids))
      .bind(7, e.policy_id)
      .bind(8, e.created_at)
      .bind(9, e.updated_at);
}

}  // namespace

// ---- objects

Status SqliteIamStore::create_object(const ObjectRow& o, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (db.count("SELECT COUNT(*) FROM iam_orgs WHERE id=?", o.org_id) == 0) {
      return Error::not_found("not_found", "org not found");
    }
    if (object_name_taken(db, o)) {
      return Error::conflict("a " + type_label(o.type) + " named '" + o.name + "' exists in this org");
    }
    if (db.count("SELECT COUNT(*) FROM iam_objects WHERE id=?", o.id) > 0) {
      return Error::conflict("an object with this id exists");
    }
    db.prepare(std::string("INSERT INTO iam_objects(") + kObjectColumns + ") VALUES(?,?,?,?,?,?,?)")
        .bind(1, o.type)
        .bind(2, o.id)
        .bind(3, o.org_id)
        .bind(4, o.name)
        .bind(5, json::serialize(o.doc))
        .bind(6, o.created_at)
        .bind(7, o.updated_at)
        .run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Result<ObjectRow> SqliteIamStore::get_object(const std::string& type, const std::string& id) {
  return iam_sql::read<ObjectRow>(db_, [&](SqliteDb& d) -> Result<ObjectRow> {
    auto& q = d.prepare(std::string("SELECT ") + kObjectColumns + " FROM iam_objects WHERE type=? AND id=?");
    q.bind(1, type).bind(2, id);
    if (!q.step()) return Error::not_found("not_found", type_label(type) + " not found");
    auto row = read_object(q);
    q.reset();
    return row;
  });
}

Result<PageOf<ObjectRow>> SqliteIamStore::list_objects(const std::string& type, const ListQuery& query) {
  return iam_sql::read<PageOf<ObjectRow>>(db_, [&](SqliteDb& d) -> Result<PageOf<ObjectRow>> {
    PageOf<ObjectRow> page;
    auto& c = d.prepare("SELECT COUNT(*) FROM iam_objects WHERE type=?1 AND (?2 IS NULL OR org_id=?2)");
    c.bind(1, type).bind(2, query.org_id);
    c.step();
    page.total = c.integer(0);
    c.reset();
    auto& q = d.prepare(std::string("SELECT ") + kObjectColumns +
                        " FROM iam_objects WHERE type=?1 AND (?2 IS NULL OR org_id=?2)"
                        " ORDER BY created_at, rowid LIMIT ?3 OFFSET ?4");
    q.bind(1, type).bind(2, query.org_id).bind(3, query.limit).bind(4, query.offset);
    while (q.step()) page.items.push_back(read_object(q));
    q.reset();
    return page;
  });
}

Status SqliteIamStore::update_object(const ObjectRow& o, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (!object_exists(db, o.type, o.id)) return Error::not_found("not_found", type_label(o.type) + " not found");
    if (object_name_taken(db, o)) {
      return Error::conflict("a " + type_label(o.type) + " named '" + o.name + "' exists in this org");
    }
    db.prepare("UPDATE iam_objects SET name=?,doc=?,updated_at=? WHERE type=? AND id=?")
        .bind(1, o.name)
        .bind(2, json::serialize(o.doc))
        .bind(3, o.updated_at)
        .bind(4, o.type)
        .bind(5, o.id)
        .run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Status SqliteIamStore::delete_object(const std::string& type, const std::string& id, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (!object_exists(db, type, id)) return Error::not_found("not_found", type_label(type) + " not found");
    if (type == kApp) {
      const auto users = db.count(
          "SELECT COUNT(*) FROM iam_objects o, json_each(o.doc, '$.apps') a"
          " WHERE o.type='workspace' AND a.value=?",
          id);
      if (users > 0) return Error::conflict("the app is listed by a workspace; remove it there first");
    } else if (type == kPolicy) {
      if (db.count("SELECT COUNT(*) FROM iam_entitlements WHERE policy_id=?", id) > 0) {
        return Error::conflict("the policy is used by an entitlement; change or delete that first");
      }
    } else if (type == kGroup) {
      db.prepare("DELETE FROM iam_entitlements WHERE subject_type='group' AND subject_id=?").bind(1, id).run();
    }
    // Members of a group and entitlements to a workspace go by ON DELETE CASCADE.
    db.prepare("DELETE FROM iam_objects WHERE type=? AND id=?").bind(1, type).bind(2, id).run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

// ---- group members

Status SqliteIamStore::add_member(const std::string& group_id, const std::string& user_id, Millis at,
                                  const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    auto& g = db.prepare("SELECT org_id FROM iam_objects WHERE type='group' AND id=?");
    g.bind(1, group_id);
    if (!g.step()) return Error::not_found("not_found", "group not found");
    const std::string org = g.text(0);
    g.reset();
    auto& u = db.prepare("SELECT 1 FROM iam_users WHERE id=? AND org_id=?");
    u.bind(1, user_id).bind(2, org);
    const bool user_found = u.step();
    u.reset();
    if (!user_found) return Error::not_found("not_found", "user not found");
    auto& m = db.prepare("SELECT 1 FROM iam_group_members WHERE group_id=? AND user_id=?");
    m.bind(1, group_id).bind(2, user_id);
    const bool already = m.step();
    m.reset();
    if (already) return Error::conflict("the user is already a member of the group");
    db.prepare("INSERT INTO iam_group_members(group_id,user_id,added_at) VALUES(?,?,?)")
        .bind(1, group_id)
        .bind(2, user_id)
        .bind(3, at)
        .run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Status SqliteIamStore::remove_member(const std::string& group_id, const std::string& user_id, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    const int n = db.prepare("DELETE FROM iam_group_members WHERE group_id=? AND user_id=?")
                      .bind(1, group_id)
                      .bind(2, user_id)
                      .run();
    if (n == 0) return Error::not_found("not_found", "the user is not a member of the group");
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Result<PageOf<MemberRow>> SqliteIamStore::list_members(const std::string& group_id, std::int64_t limit,
                                                       std::int64_t offset) {
  return iam_sql::read<PageOf<MemberRow>>(db_, [&](SqliteDb& d) -> Result<PageOf<MemberRow>> {
    PageOf<MemberRow> page;
    page.total = d.count("SELECT COUNT(*) FROM iam_group_members WHERE group_id=?", group_id);
    auto& q = d.prepare(
        "SELECT m.user_id, u.username, m.added_at FROM iam_group_members m JOIN iam_users u ON u.id=m.user_id"
        " WHERE m.group_id=? ORDER BY m.added_at, m.rowid LIMIT ? OFFSET ?");
    q.bind(1, group_id).bind(2, limit).bind(3, offset);
    while (q.step()) page.items.push_back(MemberRow{q.text(0), q.text(1), q.integer(2)});
    q.reset();
    return page;
  });
}

Result<std::vector<std::string>> SqliteIamStore::groups_of(const std::string& user_id) {
  return iam_sql::read<std::vector<std::string>>(db_, [&](SqliteDb& d) -> Result<std::vector<std::string>> {
    std::vector<std::string> out;
    auto& q = d.prepare("SELECT group_id FROM iam_group_members WHERE user_id=? ORDER BY group_id");
    q.bind(1, user_id);
    while (q.step()) out.push_back(q.text(0));
    q.reset();
    return out;
  });
}

// ---- entitlements

Status SqliteIamStore::create_entitlement(const EntitlementRow& e, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (auto s = check_entitlement_refs(db, e); !s) return s;
    if (entitlement_taken(db, e)) return Error::conflict("this subject already has an entitlement to the workspace");
    if (db.count("SELECT COUNT(*) FROM iam_entitlements WHERE id=?", e.id) > 0) {
      return Error::conflict("an entitlement with this id exists");
    }
    auto& q =
        db.prepare(std::string("INSERT INTO iam_entitlements(") + kEntitlementColumns + ") VALUES(?,?,?,?,?,?,?,?,?)");
    bind_entitlement(q, e);
    q.run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Result<EntitlementRow> SqliteIamStore::get_entitlement(const std::string& id) {
  return iam_sql::read<EntitlementRow>(db_, [&](SqliteDb& d) -> Result<EntitlementRow> {
    auto& q = d.prepare(std::string("SELECT ") + kEntitlementColumns + " FROM iam_entitlements WHERE id=?");
    q.bind(1, id);
    if (!q.step()) return Error::not_found("not_found", "entitlement not found");
    auto row = read_entitlement(q);
    q.reset();
    return row;
  });
}

Result<PageOf<EntitlementRow>> SqliteIamStore::list_entitlements(const ListQuery& query) {
  return iam_sql::read<PageOf<EntitlementRow>>(db_, [&](SqliteDb& d) -> Result<PageOf<EntitlementRow>> {
    PageOf<EntitlementRow> page;
    auto& c = d.prepare("SELECT COUNT(*) FROM iam_entitlements WHERE (?1 IS NULL OR org_id=?1)");
    c.bind(1, query.org_id);
    c.step();
    page.total = c.integer(0);
    c.reset();
    auto& q = d.prepare(std::string("SELECT ") + kEntitlementColumns +
                        " FROM iam_entitlements WHERE (?1 IS NULL OR org_id=?1)"
                        " ORDER BY created_at, rowid LIMIT ?2 OFFSET ?3");
    q.bind(1, query.org_id).bind(2, query.limit).bind(3, query.offset);
    while (q.step()) page.items.push_back(read_entitlement(q));
    q.reset();
    return page;
  });
}

Status SqliteIamStore::update_entitlement(const EntitlementRow& e, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (db.count("SELECT COUNT(*) FROM iam_entitlements WHERE id=?", e.id) == 0) {
      return Error::not_found("not_found", "entitlement not found");
    }
    if (auto s = check_entitlement_refs(db, e); !s) return s;
    if (entitlement_taken(db, e)) return Error::conflict("this subject already has an entitlement to the workspace");
    auto& q = db.prepare(
        "UPDATE iam_entitlements SET org_id=?2,subject_type=?3,subject_id=?4,workspace_id=?5,app_ids=?6,policy_id=?7,"
        "updated_at=?9 WHERE id=?1");
    bind_entitlement(q, e);
    q.run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Status SqliteIamStore::delete_entitlement(const std::string& id, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (db.prepare("DELETE FROM iam_entitlements WHERE id=?").bind(1, id).run() == 0) {
      return Error::not_found("not_found", "entitlement not found");
    }
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Result<std::vector<EntitlementRow>> SqliteIamStore::entitlements_of(const std::string& org_id,
                                                                    const std::string& user_id,
                                                                    const std::vector<std::string>& group_ids) {
  return iam_sql::read<std::vector<EntitlementRow>>(db_, [&](SqliteDb& d) -> Result<std::vector<EntitlementRow>> {
    std::vector<EntitlementRow> out;
    auto& q = d.prepare(std::string("SELECT ") + kEntitlementColumns +
                        " FROM iam_entitlements WHERE org_id=?1 AND ((subject_type='user' AND subject_id=?2)"
                        " OR (subject_type='org' AND subject_id=?1)"
                        " OR (subject_type='group' AND subject_id IN (SELECT value FROM json_each(?3))))"
                        " ORDER BY id");
    q.bind(1, org_id).bind(2, user_id).bind(3, encode_strings(group_ids));
    while (q.step()) out.push_back(read_entitlement(q));
    q.reset();
    return out;
  });
}

}  // namespace webstream::store
