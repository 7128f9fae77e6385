// The five routes every generic IAM object has (groups, apps, workspaces, policies): list, create, get,
// patch, delete, with RBAC, org scoping and audit in one place.
#include "core/ids.hpp"
#include "iam/api/api_common.hpp"
#include "iam/resource_json.hpp"

namespace webstream::iam::api {
namespace {

std::string type_name(const ObjectKind& kind) { return std::string(to_string(kind.object_type)); }

Result<Reply> list_objects(const ObjectKind& kind, const ResourceDeps& deps, const Call& call) {
  auto paging = read_paging(call.limit, call.offset);
  if (!paging) return paging.error();
  const auto scope = list_scope(call);
  if (auto s = authorize(call.who, Action::kList, Target{kind.object_type, scope.org_id.value_or(call.who.org_id)});
      !s) {
    return s.error();
  }
  json::array items;
  std::int64_t total = 0;
  if (!scope.empty) {
    auto page = deps.store.list_objects(kind.type, store::ListQuery{scope.org_id, paging->limit, paging->offset});
    if (!page) return page.error();
    for (const auto& row : page->items) items.push_back(object_json(row));
    total = page->total;
  }
  return ok(page_json(std::move(items), total, *paging));
}

Result<Reply> create_object(const ObjectKind& kind, const ResourceDeps& deps, const Call& call) {
  auto body = body_object(call);
  if (!body) return body.error();
  auto org = create_org_id(deps, call, *body, kind.object_type);
  if (!org) return org.error();
  store::ObjectRow row;
  row.type = kind.type;
  row.id = random_id(kind.id_prefix);
  row.org_id = *org;
  if (auto s = kind.apply(deps, row, *body, true); !s) return s.error();
  row.created_at = row.updated_at = deps.clock.now_ms();
  if (auto s = deps.store.create_object(row, audit(deps, call.who, "create", type_name(kind), row.id, row.org_id));
      !s) {
    return s.error();
  }
  return created(object_json(row), std::string(kind.path) + "/" + row.id);
}

Result<Reply> get_object(const ObjectKind& kind, const ResourceDeps& deps, const Call& call) {
  auto row = visible_object(deps, call, kind.type, kind.object_type, Action::kRead);
  if (!row) return row.error();
  return ok(object_json(*row));
}

Result<Reply> patch_object(const ObjectKind& kind, const ResourceDeps& deps, const Call& call) {
  auto row = visible_object(deps, call, kind.type, kind.object_type, Action::kUpdate);
  if (!row) return row.error();
  auto body = body_object(call);
  if (!body) return body.error();
  if (auto s = check_org_unchanged(*body, row->org_id); !s) return s.error();
  if (auto s = kind.apply(deps, *row, *body, false); !s) return s.error();
  row->updated_at = deps.clock.now_ms();
  if (auto s = deps.store.update_object(*row, audit(deps, call.who, "update", type_name(kind), row->id, row->org_id));
      !s) {
    return s.error();
  }
  return ok(object_json(*row));
}

Result<Reply> delete_object(const ObjectKind& kind, const ResourceDeps& deps, const Call& call) {
  auto row = visible_object(deps, call, kind.type, kind.object_type, Action::kDelete);
  if (!row) return row.error();
  if (auto s = deps.store.delete_object(kind.type, row->id,
                                        audit(deps, call.who, "delete", type_name(kind), row->id, row->org_id));
      !s) {
    return s.error();
  }
  return no_content();
}

// Binds one of the operations above to `kind` (kept by value in the handler).
template <class F>
Op bind(const ObjectKind& kind, F f) {
  return [kind, f](const ResourceDeps& deps, const Call& call) { return f(kind, deps, call); };
}

}  // namespace

Status apply_name(store::ObjectRow& row, const json::object& body, bool creating) {
  auto name = read_string(body, "name", kMaxNameBytes);
  if (!name) return name.error();
  if (*name) {
    if (auto s = check_name("name", **name); !s) return s;
    row.name = std::move(**name);
  } else if (creating) {
    return Error::invalid("field 'name' is required");
  }
  return Status::success();
}

void register_object_routes(http::Router& router, const std::shared_ptr<const ResourceDeps>& deps,
                            const ObjectKind& kind) {
  const std::string one = std::string(kind.path) + "/{}";
  add_route(router, deps, "GET", kind.path, bind(kind, list_objects));
  add_route(router, deps, "POST", kind.path, bind(kind, create_object));
  add_route(router, deps, "GET", one.c_str(), bind(kind, get_object));
  add_route(router, deps, "PATCH", one.c_str(), bind(kind, patch_object));
  add_route(router, deps, "DELETE", one.c_str(), bind(kind, delete_object));
}

}  // namespace webstream::iam::api
