// SqliteIamStore, part 1: schema, orgs, users, the audit log and shared helpers.
#include <boost/json.hpp>

#include "store/sqlite/sqlite_iam_store.hpp"

namespace webstream::store {
namespace {

namespace json = boost::json;

const std::vector<std::string> kIamMigrations = {
    "CREATE TABLE iam_orgs("
    " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, max_sessions INTEGER,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE TABLE iam_users("
    " id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES iam_orgs(id),"
    " username TEXT NOT NULL COLLATE NOCASE UNIQUE, password_hash TEXT NOT NULL, roles TEXT NOT NULL,"
    " display_name TEXT NOT NULL DEFAULT '', email TEXT NOT NULL DEFAULT '', disabled INTEGER NOT NULL DEFAULT 0,"
    " credentials_changed_at INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX iam_users_org ON iam_users(org_id, created_at);"
    "CREATE TABLE iam_objects("
    " id TEXT PRIMARY KEY, type TEXT NOT NULL, org_id TEXT NOT NULL REFERENCES iam_orgs(id), name TEXT NOT NULL,"
    " doc TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE(type, org_id, name));"
    "CREATE INDEX iam_objects_list ON iam_objects(type, org_id, created_at);"
    "CREATE TABLE iam_group_members("
    " group_id TEXT NOT NULL REFERENCES iam_objects(id) ON DELETE CASCADE,"
    " user_id TEXT NOT NULL REFERENCES iam_users(id) ON DELETE CASCADE,"
    " added_at INTEGER NOT NULL, PRIMARY KEY(group_id, user_id));"
    "CREATE INDEX iam_group_members_user ON iam_group_members(user_id);"
    "CREATE TABLE iam_entitlements("
    " id TEXT PRIMARY KEY, org_id TEXT NOT NULL REFERENCES iam_orgs(id), subject_type TEXT NOT NULL,"
    " subject_id TEXT NOT NULL, workspace_id TEXT NOT NULL REFERENCES iam_objects(id) ON DELETE CASCADE,"
    " app_ids TEXT NOT NULL, policy_id TEXT REFERENCES iam_objects(id),"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE(subject_type, subject_id, workspace_id));"
    "CREATE INDEX iam_entitlements_subject ON iam_entitlements(subject_id);"
    "CREATE INDEX iam_entitlements_org ON iam_entitlements(org_id, created_at);"
    "CREATE INDEX iam_entitlements_policy ON iam_entitlements(policy_id);"
    "CREATE TABLE iam_audit("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, actor TEXT NOT NULL,"
    " actor_name TEXT NOT NULL, action TEXT NOT NULL, object_type TEXT NOT NULL, object_id TEXT NOT NULL,"
    " org_id TEXT NOT NULL);"
    "CREATE INDEX iam_audit_org ON iam_audit(org_id, seq);",
};

constexpr const char* kOrgColumns = "id,name,max_sessions,created_at,updated_at";
constexpr const char* kUserColumns =
    "id,org_id,username,password_hash,roles,display_name,email,disabled,credentials_changed_at,created_at,updated_at";

OrgRow read_org(Statement& q) {
  OrgRow o;
  o.id = q.text(0);
  o.name = q.text(1);
  if (!q.is_null(2)) o.max_concurrent_sessions = q.integer(2);
  o.created_at = q.integer(3);
  o.updated_at = q.integer(4);
  return o;
}

UserRow read_user(Statement& q) {
  UserRow u;
  u.id = q.text(0);
  u.org_id = q.text(1);
  u.username = q.text(2);
  u.password_hash = q.text(3);
  u.roles = decode_strings(q.text(4));
  u.display_name = q.text(5);
  u.email = q.text(6);
  u.disabled = q.integer(7) != 0;
  u.credentials_changed_at = q.integer(8);
  u.created_at = q.integer(9);
  u.updated_at = q.integer(10);
  return u;
}

Statement& bind_max(Statement& q, int index, const std::optional<std::int64_t>& v) {
  return v ? q.bind(index, *v) : q.bind_null(index);
}

Result<OrgRow> org_where(SqliteDb& db, const std::string& column, const std::string& key) {
  return iam_sql::read<OrgRow>(db, [&](SqliteDb& d) -> Result<OrgRow> {
    auto& q = d.prepare(std::string("SELECT ") + kOrgColumns + " FROM iam_orgs WHERE " + column + "=?");
    q.bind(1, key);
    if (!q.step()) return Error::not_found("not_found", "org not found");
    auto row = read_org(q);
    q.reset();
    return row;
  });
}

Result<UserRow> user_where(SqliteDb& db, const std::string& column, const std::string& key) {
  return iam_sql::read<UserRow>(db, [&](SqliteDb& d) -> Result<UserRow> {
    auto& q = d.prepare(std::string("SELECT ") + kUserColumns + " FROM iam_users WHERE " + column + "=?");
    q.bind(1, key);
    if (!q.step()) return Error::not_found("not_found", "user not found");
    auto row = read_user(q);
    q.reset();
    return row;
  });
}

bool username_taken(SqliteDb& db, const std::string& username, const std::string& except_id) {
  auto& q = db.prepare("SELECT id FROM iam_users WHERE username=? AND id<>?");
  q.bind(1, username).bind(2, except_id);
  const bool taken = q.step();
  q.reset();
  return taken;
}

bool org_name_taken(SqliteDb& db, const std::string& name, const std::string& except_id) {
  auto& q = db.prepare("SELECT id FROM iam_orgs WHERE name=? AND id<>?");
  q.bind(1, name).bind(2, except_id);
  const bool taken = q.step();
  q.reset();
  return taken;
}

bool org_exists(SqliteDb& db, const std::string& id) {
  return db.count("SELECT COUNT(*) FROM iam_orgs WHERE id=?", id) > 0;
}

void bind_user(Statement& q, const UserRow& u) {
  q.bind(1, u.id)
      .bind(2, u.org_id)
      .bind(3, u.username)
      .bind(4, u.password_hash)
      .bind(5, encode_strings(u.roles))
      .bind(6, u.display_name)
      .bind(7, u.email)
      .bind(8, static_cast<std::int64_t>(u.disabled ? 1 : 0))
      .bind(9, u.credentials_changed_at)
      .bind(10, u.created_at)
      .bind(11, u.updated_at);
}

}  // namespace

namespace iam_sql {

void write_audit(SqliteDb& db, const AuditRow& a) {
  db.prepare(
        "INSERT INTO iam_audit(id,at,actor,actor_name,action,object_type,object_id,org_id) VALUES(?,?,?,?,?,?,?,?)")
      .bind(1, a.id)
      .bind(2, a.at)
      .bind(3, a.actor)
      .bind(4, a.actor_name)
      .bind(5, a.action)
      .bind(6, a.object_type)
      .bind(7, a.object_id)
      .bind(8, a.org_id)
      .run();
}

}  // namespace iam_sql

Result<std::unique_ptr<SqliteIamStore>> SqliteIamStore::open(SqliteDb& db) {
  if (auto s = db.migrate("iam", kIamMigrations); !s) return s.error();
  return std::unique_ptr<SqliteIamStore>(new SqliteIamStore(db));
}

Result<bool> SqliteIamStore::is_empty() {
  return iam_sql::read<bool>(db_, [](SqliteDb& d) -> Result<bool> {
    auto& q = d.prepare("SELECT (SELECT COUNT(*) FROM iam_orgs) + (SELECT COUNT(*) FROM iam_users)");
    q.step();
    const bool empty = q.integer(0) == 0;
    q.reset();
    return empty;
  });
}

// ---- orgs

Status SqliteIamStore::create_org(const OrgRow& org, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (org_name_taken(db, org.name, org.id)) return Error::conflict("an org named '" + org.name + "' exists");
    if (org_exists(db, org.id)) return Error::conflict("an org with this id exists");
    auto& q = db.prepare("INSERT INTO iam_orgs(id,name,max_sessions,created_at,updated_at) VALUES(?,?,?,?,?)");
    q.bind(1, org.id).bind(2, org.name);
    bind_max(q, 3, org.max_concurrent_sessions).bind(4, org.created_at).bind(5, org.updated_at).run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Result<OrgRow> SqliteIamStore::get_org(const std::string& id) { return org_where(db_, "id", id); }
Result<OrgRow> SqliteIamStore::find_org_by_name(const std::string& name) { return org_where(db_, "name", name); }

Result<PageOf<OrgRow>> SqliteIamStore::list_orgs(const ListQuery& query) {
  return iam_sql::read<PageOf<OrgRow>>(db_, [&](SqliteDb& d) -> Result<PageOf<OrgRow>> {
    PageOf<OrgRow> page;
    auto& c = d.prepare("SELECT COUNT(*) FROM iam_orgs WHERE (?1 IS NULL OR id=?1)");
    c.bind(1, query.org_id);
    c.step();
    page.total = c.integer(0);
    c.reset();
    auto& q = d.prepare(std::string("SELECT ") + kOrgColumns +
                        " FROM iam_orgs WHERE (?1 IS NULL OR id=?1) ORDER BY created_at, rowid LIMIT ?2 OFFSET ?3");
    q.bind(1, query.org_id).bind(2, query.limit).bind(3, query.offset);
    while (q.step()) page.items.push_back(read_org(q));
    q.reset();
    return page;
  });
}

Status SqliteIamStore::update_org(const OrgRow& org, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (!org_exists(db, org.id)) return Error::not_found("not_found", "org not found");
    if (org_name_taken(db, org.name, org.id)) return Error::conflict("an org named '" + org.name + "' exists");
    auto& q = db.prepare("UPDATE iam_orgs SET name=?,max_sessions=?,updated_at=? WHERE id=?");
    q.bind(1, org.name);
    bind_max(q, 2, org.max_concurrent_sessions).bind(3, org.updated_at).bind(4, org.id).run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Status SqliteIamStore::delete_org(const std::string& id, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (!org_exists(db, id)) return Error::not_found("not_found", "org not found");
    const auto held = db.count("SELECT COUNT(*) FROM iam_users WHERE org_id=?", id) +
                      db.count("SELECT COUNT(*) FROM iam_objects WHERE org_id=?", id) +
                      db.count("SELECT COUNT(*) FROM iam_entitlements WHERE org_id=?", id);
    if (held > 0) return Error::conflict("the org still holds users or resources; delete them first");
    db.prepare("DELETE FROM iam_orgs WHERE id=?").bind(1, id).run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

// ---- users

Status SqliteIamStore::create_user(const UserRow& user, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (!org_exists(db, user.org_id)) return Error::not_found("not_found", "org not found");
    if (username_taken(db, user.username, user.id)) {
      return Error::conflict("the username '" + user.username + "' is taken");
    }
    if (db.count("SELECT COUNT(*) FROM iam_users WHERE id=?", user.id) > 0) {
      return Error::conflict("a user with this id exists");
    }
    auto& q = db.prepare(std::string("INSERT INTO iam_users(") + kUserColumns + ") VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    bind_user(q, user);
    q.run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Result<UserRow> SqliteIamStore::get_user(const std::string& id) { return user_where(db_, "id", id); }
Result<UserRow> SqliteIamStore::find_user_by_username(const std::string& username) {
  return user_where(db_, "username", username);
}

Result<PageOf<UserRow>> SqliteIamStore::list_users(const ListQuery& query) {
  return iam_sql::read<PageOf<UserRow>>(db_, [&](SqliteDb& d) -> Result<PageOf<UserRow>> {
    PageOf<UserRow> page;
    auto& c = d.prepare("SELECT COUNT(*) FROM iam_users WHERE (?1 IS NULL OR org_id=?1)");
    c.bind(1, query.org_id);
    c.step();
    page.total = c.integer(0);
    c.reset();
    auto& q =
        d.prepare(std::string("SELECT ") + kUserColumns +
                  " FROM iam_users WHERE (?1 IS NULL OR org_id=?1) ORDER BY created_at, rowid LIMIT ?2 OFFSET ?3");
    q.bind(1, query.org_id).bind(2, query.limit).bind(3, query.offset);
    while (q.step()) page.items.push_back(read_user(q));
    q.reset();
    return page;
  });
}

namespace {

// Writes an existing user's row (every field but created_at) and its audit entry, inside the caller's transaction.
Status write_user(SqliteDb& db, const UserRow& user, const AuditRow& audit) {
  if (username_taken(db, user.username, user.id)) {
    return Error::conflict("the username '" + user.username + "' is taken");
  }
  auto& q = db.prepare(
      "UPDATE iam_users SET org_id=?2,username=?3,password_hash=?4,roles=?5,display_name=?6,email=?7,disabled=?8,"
      "credentials_changed_at=?9,updated_at=?11 WHERE id=?1");
  bind_user(q, user);
  q.run();
  iam_sql::write_audit(db, audit);
  return Status::success();
}

}  // namespace

Status SqliteIamStore::update_user(const UserRow& user, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (db.count("SELECT COUNT(*) FROM iam_users WHERE id=?", user.id) == 0) {
      return Error::not_found("not_found", "user not found");
    }
    return write_user(db, user, audit);
  });
}

Status SqliteIamStore::modify_user(const std::string& id, const UserChange& change, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    auto& q = db.prepare(std::string("SELECT ") + kUserColumns + " FROM iam_users WHERE id=?");
    q.bind(1, id);
    if (!q.step()) {
      q.reset();
      return Error::not_found("not_found", "user not found");
    }
    UserRow user = read_user(q);
    q.reset();
    if (auto s = change(user); !s) return s;
    user.id = id;  // the change edits the user, never which row it is
    return write_user(db, user, audit);
  });
}

Status SqliteIamStore::set_user_password(const std::string& id, const std::string& password_hash,
                                         std::int64_t credentials_changed_at, Millis updated_at,
                                         const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (db.count("SELECT COUNT(*) FROM iam_users WHERE id=?", id) == 0) {
      return Error::not_found("not_found", "user not found");
    }
    db.prepare(
          "UPDATE iam_users SET password_hash=?2,credentials_changed_at=MAX(credentials_changed_at,?3),updated_at=?4 "
          "WHERE id=?1")
        .bind(1, id)
        .bind(2, password_hash)
        .bind(3, credentials_changed_at)
        .bind(4, updated_at)
        .run();
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Status SqliteIamStore::delete_user(const std::string& id, const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    if (db.count("SELECT COUNT(*) FROM iam_users WHERE id=?", id) == 0) {
      return Error::not_found("not_found", "user not found");
    }
    db.prepare("DELETE FROM iam_entitlements WHERE subject_type='user' AND subject_id=?").bind(1, id).run();
    db.prepare("DELETE FROM iam_users WHERE id=?").bind(1, id).run();  // memberships cascade
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

// ---- audit

Status SqliteIamStore::append_audit(const AuditRow& audit) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    iam_sql::write_audit(db, audit);
    return Status::success();
  });
}

Result<PageOf<AuditRow>> SqliteIamStore::list_audit(const ListQuery& query) {
  return iam_sql::read<PageOf<AuditRow>>(db_, [&](SqliteDb& d) -> Result<PageOf<AuditRow>> {
    PageOf<AuditRow> page;
    auto& c = d.prepare("SELECT COUNT(*) FROM iam_audit WHERE (?1 IS NULL OR org_id=?1)");
    c.bind(1, query.org_id);
    c.step();
    page.total = c.integer(0);
    c.reset();
    auto& q = d.prepare(
        "SELECT id,at,actor,actor_name,action,object_type,object_id,org_id FROM iam_audit"
        " WHERE (?1 IS NULL OR org_id=?1) ORDER BY seq DESC LIMIT ?2 OFFSET ?3");
    q.bind(1, query.org_id).bind(2, query.limit).bind(3, query.offset);
    while (q.step()) {
      AuditRow a;
      a.id = q.text(0);
      a.at = q.integer(1);
      a.actor = q.text(2);
      a.actor_name = q.text(3);
      a.action = q.text(4);
      a.object_type = q.text(5);
      a.object_id = q.text(6);
      a.org_id = q.text(7);
      page.items.push_back(std::move(a));
    }
    q.reset();
    return page;
  });
}

}  // namespace webstream::store
