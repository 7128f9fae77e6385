// /iam/groups {name, orgId} and their members: GET|POST /iam/groups/{id}/members ({userId}),
// DELETE /iam/groups/{id}/members/{userId}. A member must be a user of the group's org.
#include "iam/api/api_common.hpp"
#include "iam/resource_json.hpp"

namespace webstream::iam::api {
namespace {

Result<Reply> list_members(const ResourceDeps& deps, const Call& call) {
  auto row = visible_object(deps, call, store::kGroup, ObjectType::kGroup, Action::kRead);
  if (!row) return row.error();
  auto paging = read_paging(call.limit, call.offset);
  if (!paging) return paging.error();
  auto page = deps.store.list_members(row->id, paging->limit, paging->offset);
  if (!page) return page.error();
  json::array items;
  for (const auto& m : page->items) items.push_back(member_json(m));
  return ok(page_json(std::move(items), page->total, *paging));
}

Result<Reply> add_member(const ResourceDeps& deps, const Call& call) {
  auto row = visible_object(deps, call, store::kGroup, ObjectType::kGroup, Action::kUpdate);
  if (!row) return row.error();
  auto body = body_object(call);
  if (!body) return body.error();
  auto user_id = json_fields::required_string(*body, "userId", kMaxIdBytes);
  if (!user_id) return user_id.error();
  auto user = deps.store.get_user(*user_id);
  if (!user) {
    if (user.error().status != 404) return user.error();
    return Error::invalid("field 'userId' names no user of the group's org");
  }
  if (user->org_id != row->org_id) return Error::invalid("field 'userId' names no user of the group's org");
  const auto now = deps.clock.now_ms();
  if (auto s = deps.store.add_member(row->id, user->id, now,
                                     audit(deps, call.who, "add_member", "group", row->id, row->org_id));
      !s) {
    return s.error();
  }
  json::object member = member_json(store::MemberRow{user->id, user->username, now});
  member["groupId"] = row->id;
  return created(std::move(member), "/iam/groups/" + row->id + "/members");
}

Result<Reply> remove_member(const ResourceDeps& deps, const Call& call) {
  auto row = visible_object(deps, call, store::kGroup, ObjectType::kGroup, Action::kUpdate);
  if (!row) return row.error();
  if (auto s = deps.store.remove_member(row->id, call.params.at(1),
                                        audit(deps, call.who, "remove_member", "group", row->id, row->org_id));
      !s) {
    return s.error();
  }
  return no_content();
}

}  // namespace

void register_group_routes(http::Router& router, const DepsPtr& deps) {
  auto apply = [](const ResourceDeps&, store::ObjectRow& row, const json::object& body, bool creating) {
    return apply_name(row, body, creating);
  };
  register_object_routes(router, deps, ObjectKind{store::kGroup, ObjectType::kGroup, "grp_", "/iam/groups", apply});
  add_route(router, deps, "GET", "/iam/groups/{}/members", list_members);
  add_route(router, deps, "POST", "/iam/groups/{}/members", add_member);
  add_route(router, deps, "DELETE", "/iam/groups/{}/members/{}", remove_member);
}

}  // namespace webstream::iam::api
