// PostgreSQL IamStore, part 1: orgs, users, the audit log and shared helpers. Every write runs in one
// transaction with its audit row; uniqueness races between gateways end in the unique indexes (409).
#include <boost/json.hpp>

#include "store/postgres/pg_stores.hpp"

namespace webstream::store::pg {
namespace {

namespace json = boost::json;

constexpr const char* kOrgColumns = "id,name,max_sessions,created_at,updated_at";
constexpr const char* kUserColumns =
    "id,org_id,username,password_hash,roles,display_name,email,disabled,credentials_changed_at,created_at,updated_at";

OrgRow read_org(const PgResult& q, int i) {
  OrgRow o;
  o.id = q.text(i, 0);
  o.name = q.text(i, 1);
  o.max_concurrent_sessions = q.opt_integer(i, 2);
  o.created_at = q.integer(i, 3);
  o.updated_at = q.integer(i, 4);
  return o;
}

UserRow read_user(const PgResult& q, int i) {
  UserRow u;
  u.id = q.text(i, 0);
  u.org_id = q.text(i, 1);
  u.username = q.text(i, 2);
  u.password_hash = q.text(i, 3);
  u.roles = decode_strings(q.text(i, 4));
  u.display_name = q.text(i, 5);
  u.email = q.text(i, 6);
  u.disabled = q.boolean(i, 7);
  u.credentials_changed_at = q.integer(i, 8);
  u.created_at = q.integer(i, 9);
  u.updated_at = q.integer(i, 10);
  return u;
}

Params user_params(const UserRow& u) {
  return Params()
      .add(u.id)
      .add(u.org_id)
      .add(u.username)
      .add(u.password_hash)
      .add(encode_strings(u.roles))
      .add(u.display_name)
      .add(u.email)
      .add(u.disabled)
      .add(u.credentials_changed_at)
      .add(u.created_at)
      .add(u.updated_at);
}

}  // namespace

void write_audit(PgConnection& c, const AuditRow& a) {
  c.exec(
      "INSERT INTO iam_audit(id,at,actor,actor_name,action,object_type,object_id,org_id) "
      "VALUES($1,$2,$3,$4,$5,$6,$7,$8)",
      Params()
          .add(a.id)
          .add(a.at)
          .add(a.actor)
          .add(a.actor_name)
          .add(a.action)
          .add(a.object_type)
          .add(a.object_id)
          .add(a.org_id));
}

Result<bool> PgIamStore::is_empty() {
  return pool_.read([](PgConnection& c) -> Result<bool> {
    return !c.exec("SELECT EXISTS(SELECT 1 FROM iam_orgs) OR EXISTS(SELECT 1 FROM iam_users)").boolean(0, 0);
  });
}

// ---- orgs

Status PgIamStore::create_org(const OrgRow& org, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (exists(c, "SELECT 1 FROM iam_orgs WHERE name=$1 AND id<>$2", Params().add(org.name).add(org.id))) {
      return Error::conflict("an org named '" + org.name + "' exists");
    }
    if (exists(c, "SELECT 1 FROM iam_orgs WHERE id=$1", Params().add(org.id)))
      return Error::conflict("an org with this id exists");
    c.exec("INSERT INTO iam_orgs(id,name,max_sessions,created_at,updated_at) VALUES($1,$2,$3,$4,$5)",
           Params().add(org.id).add(org.name).add(org.max_concurrent_sessions).add(org.created_at).add(org.updated_at));
    write_audit(c, audit);
    return Status::success();
  });
}

Result<OrgRow> PgIamStore::get_org(const std::string& id) {
  return pool_.read([&](PgConnection& c) -> Result<OrgRow> {
    auto q = c.exec(std::string("SELECT ") + kOrgColumns + " FROM iam_orgs WHERE id=$1", Params().add(id));
    if (q.empty()) return Error::not_found("not_found", "org not found");
    return read_org(q, 0);
  });
}

Result<OrgRow> PgIamStore::find_org_by_name(const std::string& name) {
  return pool_.read([&](PgConnection& c) -> Result<OrgRow> {
    auto q = c.exec(std::string("SELECT ") + kOrgColumns + " FROM iam_orgs WHERE name=$1", Params().add(name));
    if (q.empty()) return Error::not_found("not_found", "org not found");
    return read_org(q, 0);
  });
}

Result<PageOf<OrgRow>> PgIamStore::list_orgs(const ListQuery& query) {
  return pool_.read([&](PgConnection& c) -> Result<PageOf<OrgRow>> {
    PageOf<OrgRow> page;
    page.total = c.exec("SELECT COUNT(*) FROM iam_orgs WHERE ($1::text IS NULL OR id=$1)", Params().add(query.org_id))
                     .integer(0, 0);
    auto q = c.exec(std::string("SELECT ") + kOrgColumns +
                        " FROM iam_orgs WHERE ($1::text IS NULL OR id=$1) ORDER BY created_at, seq LIMIT $2 OFFSET $3",
                    Params().add(query.org_id).add(query.limit).add(query.offset));
    for (int i = 0; i < q.rows(); ++i) page.items.push_back(read_org(q, i));
    return page;
  });
}

Status PgIamStore::update_org(const OrgRow& org, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (!exists(c, "SELECT 1 FROM iam_orgs WHERE id=$1 FOR UPDATE", Params().add(org.id))) {
      return Error::not_found("not_found", "org not found");
    }
    if (exists(c, "SELECT 1 FROM iam_orgs WHERE name=$1 AND id<>$2", Params().add(org.name).add(org.id))) {
      return Error::conflict("an org named '" + org.name + "' exists");
    }
    c.exec("UPDATE iam_orgs SET name=$1, max_sessions=$2, updated_at=$3 WHERE id=$4",
           Params().add(org.name).add(org.max_concurrent_sessions).add(org.updated_at).add(org.id));
    write_audit(c, audit);
    return Status::success();
  });
}

Status PgIamStore::delete_org(const std::string& id, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (!exists(c, "SELECT 1 FROM iam_orgs WHERE id=$1 FOR UPDATE", Params().add(id))) {
      return Error::not_found("not_found", "org not found");
    }
    const bool held = c.exec(
                           "SELECT EXISTS(SELECT 1 FROM iam_users WHERE org_id=$1) OR"
                           " EXISTS(SELECT 1 FROM iam_objects WHERE org_id=$1) OR"
                           " EXISTS(SELECT 1 FROM iam_entitlements WHERE org_id=$1)",
                           Params().add(id))
                          .boolean(0, 0);
    if (held) return Error::conflict("the org still holds users or resources; delete them first");
    c.exec("DELETE FROM iam_orgs WHERE id=$1", Params().add(id));
    write_audit(c, audit);
    return Status::success();
  });
}

// ---- users

Status PgIamStore::create_user(const UserRow& user, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    // FOR SHARE: the org cannot be deleted under us (its delete waits for this transaction).
    if (!exists(c, "SELECT 1 FROM iam_orgs WHERE id=$1 FOR SHARE", Params().add(user.org_id))) {
      return Error::not_found("not_found", "org not found");
    }
    if (exists(c, "SELECT 1 FROM iam_users WHERE lower(username)=lower($1) AND id<>$2",
               Params().add(user.username).add(user.id))) {
      return Error::conflict("the username '" + user.username + "' is taken");
    }
    if (exists(c, "SELECT 1 FROM iam_users WHERE id=$1", Params().add(user.id)))
      return Error::conflict("a user with this id exists");
    c.exec(std::string("INSERT INTO iam_users(") + kUserColumns + ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
           user_params(user));
    write_audit(c, audit);
    return Status::success();
  });
}

Result<UserRow> PgIamStore::get_user(const std::string& id) {
  return pool_.read([&](PgConnection& c) -> Result<UserRow> {
    auto q = c.exec(std::string("SELECT ") + kUserColumns + " FROM iam_users WHERE id=$1", Params().add(id));
    if (q.empty()) return Error::not_found("not_found", "user not found");
    return read_user(q, 0);
  });
}

Result<UserRow> PgIamStore::find_user_by_username(const std::string& username) {
  return pool_.read([&](PgConnection& c) -> Result<UserRow> {
    auto q = c.exec(std::string("SELECT ") + kUserColumns + " FROM iam_users WHERE lower(username)=lower($1)",
                    Params().add(username));
    if (q.empty()) return Error::not_found("not_found", "user not found");
    return read_user(q, 0);
  });
}

Result<PageOf<UserRow>> PgIamStore::list_users(const ListQuery& query) {
  return pool_.read([&](PgConnection& c) -> Result<PageOf<UserRow>> {
    PageOf<UserRow> page;
    page.total =
        c.exec("SELECT COUNT(*) FROM iam_users WHERE ($1::text IS NULL OR org_id=$1)", Params().add(query.org_id))
            .integer(0, 0);
    auto q =
        c.exec(std::string("SELECT ") + kUserColumns +
                   " FROM iam_users WHERE ($1::text IS NULL OR org_id=$1) ORDER BY created_at, seq LIMIT $2 OFFSET $3",
               Params().add(query.org_id).add(query.limit).add(query.offset));
    for (int i = 0; i < q.rows(); ++i) page.items.push_back(read_user(q, i));
    return page;
  });
}

namespace {

// Writes an existing user's row (every field but created_at) and its audit entry, inside the caller's transaction.
Status write_user(PgConnection& c, const UserRow& user, const AuditRow& audit) {
  if (exists(c, "SELECT 1 FROM iam_users WHERE lower(username)=lower($1) AND id<>$2",
             Params().add(user.username).add(user.id))) {
    return Error::conflict("the username '" + user.username + "' is taken");
  }
  c.exec(
      "UPDATE iam_users SET org_id=$2,username=$3,password_hash=$4,roles=$5,display_name=$6,email=$7,disabled=$8,"
      "credentials_changed_at=$9,updated_at=$10 WHERE id=$1",
      Params()
          .add(user.id)
          .add(user.org_id)
          .add(user.username)
          .add(user.password_hash)
          .add(encode_strings(user.roles))
          .add(user.display_name)
          .add(user.email)
          .add(user.disabled)
          .add(user.credentials_changed_at)
          .add(user.updated_at));
  write_audit(c, audit);
  return Status::success();
}

}  // namespace

Status PgIamStore::update_user(const UserRow& user, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (!exists(c, "SELECT 1 FROM iam_users WHERE id=$1 FOR UPDATE", Params().add(user.id))) {
      return Error::not_found("not_found", "user not found");
    }
    return write_user(c, user, audit);
  });
}

Status PgIamStore::modify_user(const std::string& id, const UserChange& change, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    auto q = c.exec(std::string("SELECT ") + kUserColumns + " FROM iam_users WHERE id=$1 FOR UPDATE", Params().add(id));
    if (q.empty()) return Error::not_found("not_found", "user not found");
    UserRow user = read_user(q, 0);
    if (auto s = change(user); !s) return s;
    user.id = id;  // the change edits the user, never which row it is
    return write_user(c, user, audit);
  });
}

Status PgIamStore::set_user_password(const std::string& id, const std::string& password_hash,
                                     std::int64_t credentials_changed_at, Millis updated_at, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (!exists(c, "SELECT 1 FROM iam_users WHERE id=$1 FOR UPDATE", Params().add(id))) {
      return Error::not_found("not_found", "user not found");
    }
    c.exec(
        "UPDATE iam_users SET password_hash=$2,credentials_changed_at=GREATEST(credentials_changed_at,$3::bigint),"
        "updated_at=$4 WHERE id=$1",
        Params().add(id).add(password_hash).add(credentials_changed_at).add(updated_at));
    write_audit(c, audit);
    return Status::success();
  });
}

Status PgIamStore::delete_user(const std::string& id, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (!exists(c, "SELECT 1 FROM iam_users WHERE id=$1 FOR UPDATE", Params().add(id))) {
      return Error::not_found("not_found", "user not found");
    }
    c.exec("DELETE FROM iam_entitlements WHERE subject_type='user' AND subject_id=$1", Params().add(id));
    c.exec("DELETE FROM iam_users WHERE id=$1", Params().add(id));  // memberships cascade
    write_audit(c, audit);
    return Status::success();
  });
}

// ---- audit

Status PgIamStore::append_audit(const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    write_audit(c, audit);
    return Status::success();
  });
}

Result<PageOf<AuditRow>> PgIamStore::list_audit(const ListQuery& query) {
  return pool_.read([&](PgConnection& c) -> Result<PageOf<AuditRow>> {
    PageOf<AuditRow> page;
    page.total =
        c.exec("SELECT COUNT(*) FROM iam_audit WHERE ($1::text IS NULL OR org_id=$1)", Params().add(query.org_id))
            .integer(0, 0);
    auto q = c.exec(
        "SELECT id,at,actor,actor_name,action,object_type,object_id,org_id FROM iam_audit"
        " WHERE ($1::text IS NULL OR org_id=$1) ORDER BY seq DESC LIMIT $2 OFFSET $3",
        Params().add(query.org_id).add(query.limit).add(query.offset));
    for (int i = 0; i < q.rows(); ++i) {
      page.items.push_back(AuditRow{q.text(i, 0), q.integer(i, 1), q.text(i, 2), q.text(i, 3), q.text(i, 4),
                                    q.text(i, 5), q.text(i, 6), q.text(i, 7)});
    }
    return page;
  });
}

}  // namespace webstream::store::pg
