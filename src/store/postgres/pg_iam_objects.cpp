// PostgreSQL IamStore, part 2: generic objects (groups, apps, workspaces, policies), group members and
// entitlements.
#include <boost/json.hpp>

#include "store/postgres/pg_stores.hpp"

namespace webstream::store::pg {
namespace {

namespace json = boost::json;

constexpr const char* kObjectColumns = "type,id,org_id,name,doc::text,created_at,updated_at";
constexpr const char* kEntitlementColumns =
    "id,org_id,subject_type,subject_id,workspace_id,app_ids,policy_id,created_at,updated_at";

ObjectRow read_object(const PgResult& q, int i) {
  ObjectRow o;
  o.type = q.text(i, 0);
  o.id = q.text(i, 1);
  o.org_id = q.text(i, 2);
  o.name = q.text(i, 3);
  boost::system::error_code ec;
  auto doc = json::parse(q.text(i, 4), ec);
  if (!ec && doc.is_object()) o.doc = std::move(doc.as_object());
  o.created_at = q.integer(i, 5);
  o.updated_at = q.integer(i, 6);
  return o;
}

EntitlementRow read_entitlement(const PgResult& q, int i) {
  EntitlementRow e;
  e.id = q.text(i, 0);
  e.org_id = q.text(i, 1);
  e.subject_type = q.text(i, 2);
  e.subject_id = q.text(i, 3);
  e.workspace_id = q.text(i, 4);
  e.app_ids = decode_strings(q.text(i, 5));
  e.policy_id = q.opt_text(i, 6);
  e.created_at = q.integer(i, 7);
  e.updated_at = q.integer(i, 8);
  return e;
}

bool object_name_taken(PgConnection& c, const ObjectRow& o) {
  return exists(c, "SELECT 1 FROM iam_objects WHERE type=$1 AND org_id=$2 AND name=$3 AND id<>$4",
                Params().add(o.type).add(o.org_id).add(o.name).add(o.id));
}

bool entitlement_taken(PgConnection& c, const EntitlementRow& e) {
  return exists(c,
                "SELECT 1 FROM iam_entitlements WHERE subject_type=$1 AND subject_id=$2 AND workspace_id=$3 AND id<>$4",
                Params().add(e.subject_type).add(e.subject_id).add(e.workspace_id).add(e.id));
}

// The workspace (and policy, if any) exist in the entitlement's org; FOR SHARE keeps them until commit.
Status check_entitlement_refs(PgConnection& c, const EntitlementRow& e) {
  if (!exists(c, "SELECT 1 FROM iam_objects WHERE type='workspace' AND id=$1 AND org_id=$2 FOR SHARE",
              Params().add(e.workspace_id).add(e.org_id))) {
    return Error::invalid("field 'workspaceId' names no workspace in this org");
  }
  if (e.policy_id && !exists(c, "SELECT 1 FROM iam_objects WHERE type='policy' AND id=$1 AND org_id=$2 FOR SHARE",
                             Params().add(*e.policy_id).add(e.org_id))) {
    return Error::invalid("field 'policyId' names no policy in this org");
  }
  return Status::success();
}

Params entitlement_params(const EntitlementRow& e) {
  return Params()
      .add(e.id)
      .add(e.org_id)
      .add(e.subject_type)
      .add(e.subject_id)
      .add(e.workspace_id)
      .add(encode_strings(e.app_ids))
      .add(e.policy_id)
      .add(e.created_at)
      .add(e.updated_at);
}

}  // namespace

// ---- objects

Status PgIamStore::create_object(const ObjectRow& o, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (!exists(c, "SELECT 1 FROM iam_orgs WHERE id=$1 FOR SHARE", Params().add(o.org_id))) {
      return Error::not_found("not_found", "org not found");
    }
    if (object_name_taken(c, o)) return Error::conflict("a " + o.type + " named '" + o.name + "' exists in this org");
    if (exists(c, "SELECT 1 FROM iam_objects WHERE id=$1", Params().add(o.id))) {
      return Error::conflict("an object with this id exists");
    }
    c.exec("INSERT INTO iam_objects(type,id,org_id,name,doc,created_at,updated_at) VALUES($1,$2,$3,$4,$5::jsonb,$6,$7)",
           Params()
               .add(o.type)
               .add(o.id)
               .add(o.org_id)
               .add(o.name)
               .add(json::serialize(o.doc))
               .add(o.created_at)
               .add(o.updated_at));
    write_audit(c, audit);
    return Status::success();
  });
}

Result<ObjectRow> PgIamStore::get_object(const std::string& type, const std::string& id) {
  return pool_.read([&](PgConnection& c) -> Result<ObjectRow> {
    auto q = c.exec(std::string("SELECT ") + kObjectColumns + " FROM iam_objects WHERE type=$1 AND id=$2",
                    Params().add(type).add(id));
    if (q.empty()) return Error::not_found("not_found", type + " not found");
    return read_object(q, 0);
  });
}

Result<PageOf<ObjectRow>> PgIamStore::list_objects(const std::string& type, const ListQuery& query) {
  return pool_.read([&](PgConnection& c) -> Result<PageOf<ObjectRow>> {
    PageOf<ObjectRow> page;
    page.total = c.exec("SELECT COUNT(*) FROM iam_objects WHERE type=$1 AND ($2::text IS NULL OR org_id=$2)",
                        Params().add(type).add(query.org_id))
                     .integer(0, 0);
    auto q = c.exec(std::string("SELECT ") + kObjectColumns +
                        " FROM iam_objects WHERE type=$1 AND ($2::text IS NULL OR org_id=$2)"
                        " ORDER BY created_at, seq LIMIT $3 OFFSET $4",
                    Params().add(type).add(query.org_id).add(query.limit).add(query.offset));
    for (int i = 0; i < q.rows(); ++i) page.items.push_back(read_object(q, i));
    return page;
  });
}

Status PgIamStore::update_object(const ObjectRow& o, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (!exists(c, "SELECT 1 FROM iam_objects WHERE type=$1 AND id=$2 FOR UPDATE", Params().add(o.type).add(o.id))) {
      return Error::not_found("not_found", o.type + " not found");
    }
    if (object_name_taken(c, o)) return Error::conflict("a " + o.type + " named '" + o.name + "' exists in this org");
    c.exec("UPDATE iam_objects SET name=$1, doc=$2::jsonb, updated_at=$3 WHERE type=$4 AND id=$5",
           Params().add(o.name).add(json::serialize(o.doc)).add(o.updated_at).add(o.type).add(o.id));
    write_audit(c, audit);
    return Status::success();
  });
}

Status PgIamStore::delete_object(const std::string& type, const std::string& id, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (!exists(c, "SELECT 1 FROM iam_objects WHERE type=$1 AND id=$2 FOR UPDATE", Params().add(type).add(id))) {
      return Error::not_found("not_found", type + " not found");
    }
    if (type == kApp) {
      if (exists(c, "SELECT 1 FROM iam_objects WHERE type='workspace' AND doc->'apps' ? $1", Params().add(id))) {
        return Error::conflict("the app is listed by a workspace; remove it there first");
      }
    } else if (type == kPolicy) {
      if (exists(c, "SELECT 1 FROM iam_entitlements WHERE policy_id=$1", Params().add(id))) {
        return Error::conflict("the policy is used by an entitlement; change or delete that first");
      }
    } else if (type == kGroup) {
      c.exec("DELETE FROM iam_entitlements WHERE subject_type='group' AND subject_id=$1", Params().add(id));
    }
    // Members of a group and entitlements to a workspace go by ON DELETE CASCADE.
    c.exec("DELETE FROM iam_objects WHERE type=$1 AND id=$2", Params().add(type).add(id));
    write_audit(c, audit);
    return Status::success();
  });
}

// ---- group members

Status PgIamStore::add_member(const std::string& group_id, const std::string& user_id, Millis at,
                              const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    auto g = c.exec("SELECT org_id FROM iam_objects WHERE type='group' AND id=$1 FOR SHARE", Params().add(group_id));
    if (g.empty()) return Error::not_found("not_found", "group not found");
    if (!exists(c, "SELECT 1 FROM iam_users WHERE id=$1 AND org_id=$2 FOR SHARE",
                Params().add(user_id).add(g.text(0, 0)))) {
      return Error::not_found("not_found", "user not found");
    }
    if (exists(c, "SELECT 1 FROM iam_group_members WHERE group_id=$1 AND user_id=$2",
               Params().add(group_id).add(user_id))) {
      return Error::conflict("the user is already a member of the group");
    }
    c.exec("INSERT INTO iam_group_members(group_id,user_id,added_at) VALUES($1,$2,$3)",
           Params().add(group_id).add(user_id).add(at));
    write_audit(c, audit);
    return Status::success();
  });
}

Status PgIamStore::remove_member(const std::string& group_id, const std::string& user_id, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (c.exec("DELETE FROM iam_group_members WHERE group_id=$1 AND user_id=$2", Params().add(group_id).add(user_id))
            .affected() == 0) {
      return Error::not_found("not_found", "the user is not a member of the group");
    }
    write_audit(c, audit);
    return Status::success();
  });
}

Result<PageOf<MemberRow>> PgIamStore::list_members(const std::string& group_id, std::int64_t limit,
                                                   std::int64_t offset) {
  return pool_.read([&](PgConnection& c) -> Result<PageOf<MemberRow>> {
    PageOf<MemberRow> page;
    page.total =
        c.exec("SELECT COUNT(*) FROM iam_group_members WHERE group_id=$1", Params().add(group_id)).integer(0, 0);
    auto q = c.exec(
        "SELECT m.user_id, u.username, m.added_at FROM iam_group_members m JOIN iam_users u ON u.id=m.user_id"
        " WHERE m.group_id=$1 ORDER BY m.added_at, m.seq LIMIT $2 OFFSET $3",
        Params().add(group_id).add(limit).add(offset));
    for (int i = 0; i < q.rows(); ++i) page.items.push_back(MemberRow{q.text(i, 0), q.text(i, 1), q.integer(i, 2)});
    return page;
  });
}

Result<std::vector<std::string>> PgIamStore::groups_of(const std::string& user_id) {
  return pool_.read([&](PgConnection& c) -> Result<std::vector<std::string>> {
    auto q = c.exec("SELECT group_id FROM iam_group_members WHERE user_id=$1 ORDER BY group_id COLLATE \"C\"",
                    Params().add(user_id));
    std::vector<std::string> out;
    for (int i = 0; i < q.rows(); ++i) out.push_back(q.text(i, 0));
    return out;
  });
}

// ---- entitlements

Status PgIamStore::create_entitlement(const EntitlementRow& e, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (auto s = check_entitlement_refs(c, e); !s) return s;
    if (entitlement_taken(c, e)) return Error::conflict("this subject already has an entitlement to the workspace");
    if (exists(c, "SELECT 1 FROM iam_entitlements WHERE id=$1", Params().add(e.id))) {
      return Error::conflict("an entitlement with this id exists");
    }
    c.exec(std::string("INSERT INTO iam_entitlements(") + kEntitlementColumns + ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9)",
           entitlement_params(e));
    write_audit(c, audit);
    return Status::success();
  });
}

Result<EntitlementRow> PgIamStore::get_entitlement(const std::string& id) {
  return pool_.read([&](PgConnection& c) -> Result<EntitlementRow> {
    auto q =
        c.exec(std::string("SELECT ") + kEntitlementColumns + " FROM iam_entitlements WHERE id=$1", Params().add(id));
    if (q.empty()) return Error::not_found("not_found", "entitlement not found");
    return read_entitlement(q, 0);
  });
}

Result<PageOf<EntitlementRow>> PgIamStore::list_entitlements(const ListQuery& query) {
  return pool_.read([&](PgConnection& c) -> Result<PageOf<EntitlementRow>> {
    PageOf<EntitlementRow> page;
    page.total = c.exec("SELECT COUNT(*) FROM iam_entitlements WHERE ($1::text IS NULL OR org_id=$1)",
                        Params().add(query.org_id))
                     .integer(0, 0);
    auto q = c.exec(std::string("SELECT ") + kEntitlementColumns +
                        " FROM iam_entitlements WHERE ($1::text IS NULL OR org_id=$1)"
                        " ORDER BY created_at, seq LIMIT $2 OFFSET $3",
                    Params().add(query.org_id).add(query.limit).add(query.offset));
    for (int i = 0; i < q.rows(); ++i) page.items.push_back(read_entitlement(q, i));
    return page;
  });
}

Status PgIamStore::update_entitlement(const EntitlementRow& e, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (!exists(c, "SELECT 1 FROM iam_entitlements WHERE id=$1 FOR UPDATE", Params().add(e.id))) {
      return Error::not_found("not_found", "entitlement not found");
    }
    if (auto s = check_entitlement_refs(c, e); !s) return s;
    if (entitlement_taken(c, e)) return Error::conflict("this subject already has an entitlement to the workspace");
    c.exec(
        "UPDATE iam_entitlements SET org_id=$2,subject_type=$3,subject_id=$4,workspace_id=$5,app_ids=$6,policy_id=$7,"
        "updated_at=$8 WHERE id=$1",
        Params()
            .add(e.id)
            .add(e.org_id)
            .add(e.subject_type)
            .add(e.subject_id)
            .add(e.workspace_id)
            .add(encode_strings(e.app_ids))
            .add(e.policy_id)
            .add(e.updated_at));
    write_audit(c, audit);
    return Status::success();
  });
}

Status PgIamStore::delete_entitlement(const std::string& id, const AuditRow& audit) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    if (c.exec("DELETE FROM iam_entitlements WHERE id=$1", Params().add(id)).affected() == 0) {
      return Error::not_found("not_found", "entitlement not found");
    }
    write_audit(c, audit);
    return Status::success();
  });
}

Result<std::vector<EntitlementRow>> PgIamStore::entitlements_of(const std::string& org_id, const std::string& user_id,
                                                                const std::vector<std::string>& group_ids) {
  return pool_.read([&](PgConnection& c) -> Result<std::vector<EntitlementRow>> {
    auto q = c.exec(std::string("SELECT ") + kEntitlementColumns +
                        " FROM iam_entitlements WHERE org_id=$1 AND ((subject_type='user' AND subject_id=$2)"
                        " OR (subject_type='org' AND subject_id=$1)"
                        " OR (subject_type='group' AND subject_id IN (SELECT jsonb_array_elements_text($3::jsonb))))"
                        " ORDER BY id COLLATE \"C\"",
                    Params().add(org_id).add(user_id).add(encode_strings(group_ids)));
    std::vector<EntitlementRow> out;
    for (int i = 0; i < q.rows(); ++i) out.push_back(read_entitlement(q, i));
    return out;
  });
}

}  // namespace webstream::store::pg
