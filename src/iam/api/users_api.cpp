// /iam/users: {username, password (write-only), orgId, roles, displayName?, email?, disabled}, and
// PUT /iam/users/{id}/password {password}. Here: parsing (each error names its field), RBAC and the HTTP
// answers. The rules and the writes are the UserService's (iam/user_service.hpp): the roles, hashing (on the
// BlockingPool thread the operation runs on; a password is never returned), and the revocation cutoff —
// disabling, deleting, a password change and a change of roles or username tell the authenticator
// (on_user_changed) just before the write and store its cutoff as credentials_changed_at, so the user's
// existing tokens stop working, also after a restart.
#include <algorithm>

#include "core/ids.hpp"
#include "iam/api/api_common.hpp"
#include "iam/resource_json.hpp"

namespace webstream::iam::api {
namespace {

bool holds_admin(const std::vector<std::string>& roles) {
  return std::find(roles.begin(), roles.end(), "admin") != roles.end();
}

// The service's role rule, worded for the API (the field named).
Result<std::optional<std::vector<std::string>>> read_roles(const json::object& body) {
  auto roles = read_string_list(body, "roles", 32);
  if (!roles) return roles.error();
  if (!*roles) return roles;
  if ((*roles)->empty()) return Error::invalid("field 'roles' must name at least one role");
  for (const auto& r : **roles) {
    if (!is_user_role(r)) return Error::invalid("field 'roles' may hold only \"admin\", \"org-admin\" and \"user\"");
  }
  return roles;
}

// The body's profile and account fields, each checked and named in its error. Creating: username is required.
Result<UserEdit> read_fields(const json::object& body, bool creating) {
  UserEdit edit;
  auto username = read_string(body, "username", kMaxNameBytes);
  if (!username) return username.error();
  if (*username) {
    if (auto s = check_username(**username); !s) return s.error();
    edit.username = std::move(*username);
  } else if (creating) {
    return Error::invalid("field 'username' is required");
  }
  auto roles = read_roles(body);
  if (!roles) return roles.error();
  edit.roles = std::move(roles.value());
  auto display = read_string(body, "displayName", kMaxNameBytes);
  if (!display) return display.error();
  if (*display) {
    if (auto s = check_text("displayName", **display, kMaxNameBytes); !s) return s.error();
    edit.display_name = std::move(*display);
  }
  auto email = read_string(body, "email", kMaxEmailBytes + 1);
  if (!email) return email.error();
  if (*email) {
    if (auto s = check_email(**email); !s) return s.error();
    edit.email = std::move(*email);
  }
  auto disabled = json_fields::optional_bool(body, "disabled");
  if (!disabled) return disabled.error();
  edit.disabled = *disabled;
  return edit;
}

Result<std::string> read_password(const json::object& body) {
  auto password = read_string(body, "password", kMaxPasswordBytes + 1);
  if (!password) return password.error();
  if (!*password) return Error::invalid("field 'password' is required");
  if (auto s = validate_new_password(**password, "password"); !s) return s.error();
  return std::move(**password);
}

Target user_target(const Call& call, const store::UserRow& user) {
  return Target{.type = ObjectType::kUser,
                .org_id = user.org_id,
                .self = user.id == call.who.user_id,
                .admin_involved = holds_admin(user.roles)};
}

Result<store::UserRow> visible_user(const ResourceDeps& deps, const Call& call) {
  auto user = deps.store.get_user(call.params.at(0));
  if (!user) return user.error().status == 404 ? not_found(ObjectType::kUser) : user.error();
  // Another org's user is invisible to anyone but admin, whatever the action.
  if (auto s = authorize(call.who, Action::kRead, user_target(call, *user)); !s && s.error().status == 404) {
    return s.error();
  }
  return user;
}

Result<Reply> list_users(const ResourceDeps& deps, const Call& call) {
  auto paging = read_paging(call.limit, call.offset);
  if (!paging) return paging.error();
  const auto scope = list_scope(call);
  if (auto s = authorize(call.who, Action::kList, Target{ObjectType::kUser, scope.org_id.value_or(call.who.org_id)});
      !s) {
    return s.error();
  }
  json::array items;
  std::int64_t total = 0;
  if (!scope.empty) {
    auto page = deps.store.list_users(store::ListQuery{scope.org_id, paging->limit, paging->offset});
    if (!page) return page.error();
    for (const auto& u : page->items) items.push_back(user_json(u));
    total = page->total;
  }
  return ok(page_json(std::move(items), total, *paging));
}

Result<Reply> create_user(const ResourceDeps& deps, const Call& call) {
  auto body = body_object(call);
  if (!body) return body.error();
  auto org = create_org_id(deps, call, *body, ObjectType::kUser);
  if (!org) return org.error();
  auto fields = read_fields(*body, true);
  if (!fields) return fields.error();
  NewUser user;
  user.org_id = *org;
  user.username = std::move(*fields->username);
  user.roles = fields->roles.value_or(std::vector<std::string>{"user"});
  user.display_name = fields->display_name.value_or("");
  user.email = fields->email.value_or("");
  user.disabled = fields->disabled.value_or(false);
  if (auto s = authorize(call.who, Action::kCreate,
                         Target{.type = ObjectType::kUser,
                                .org_id = user.org_id,
                                .admin_involved = holds_admin(user.roles),
                                .privileged = true});
      !s) {
    return s.error();
  }
  auto password = read_password(*body);
  if (!password) return password.error();
  auto row = user_service(deps).create(std::move(user), *password, actor_of(call.who));
  if (!row) return row.error();
  return created(user_json(*row), "/iam/users/" + row->id);
}

Result<Reply> get_user(const ResourceDeps& deps, const Call& call) {
  auto user = visible_user(deps, call);
  if (!user) return user.error();
  if (auto s = authorize(call.who, Action::kRead, user_target(call, *user)); !s) return s.error();
  return ok(user_json(*user));
}

Result<Reply> patch_user(const ResourceDeps& deps, const Call& call) {
  auto user = visible_user(deps, call);
  if (!user) return user.error();
  auto target = user_target(call, *user);
  if (auto s = authorize(call.who, Action::kUpdate, target); !s) return s.error();
  auto body = body_object(call);
  if (!body) return body.error();
  if (auto s = check_org_unchanged(*body, user->org_id); !s) return s.error();
  if (body->contains("password")) {
    return Error::invalid("field 'password' cannot be changed with PATCH; use PUT /iam/users/{id}/password");
  }
  auto edit = read_fields(*body, false);
  if (!edit) return edit.error();
  target.admin_involved = target.admin_involved || (edit->roles && holds_admin(*edit->roles));
  target.privileged = UserService::effect_of(*user, *edit).privileged;
  if (auto s = authorize(call.who, Action::kUpdate, target); !s) return s.error();
  auto row = user_service(deps).edit(*user, *edit, actor_of(call.who));
  if (!row) return row.error();
  return ok(user_json(*row));
}

Result<Reply> delete_user(const ResourceDeps& deps, const Call& call) {
  auto user = visible_user(deps, call);
  if (!user) return user.error();
  if (auto s = authorize(call.who, Action::kDelete, user_target(call, *user)); !s) return s.error();
  if (auto s = user_service(deps).remove(*user, actor_of(call.who)); !s) return s.error();
  return no_content();
}

Result<Reply> set_password(const ResourceDeps& deps, const Call& call) {
  auto user = visible_user(deps, call);
  if (!user) return user.error();
  if (auto s = authorize(call.who, Action::kSetPassword, user_target(call, *user)); !s) return s.error();
  auto body = body_object(call);
  if (!body) return body.error();
  auto password = read_password(*body);
  if (!password) return password.error();
  if (auto s = user_service(deps).set_password(*user, *password, actor_of(call.who)); !s) return s.error();
  return no_content();
}

}  // namespace

void register_user_routes(http::Router& router, const DepsPtr& deps) {
  add_route(router, deps, "GET", "/iam/users", list_users);
  add_route(router, deps, "POST", "/iam/users", create_user);
  add_route(router, deps, "GET", "/iam/users/{}", get_user);
  add_route(router, deps, "PATCH", "/iam/users/{}", patch_user);
  add_route(router, deps, "DELETE", "/iam/users/{}", delete_user);
  add_route(router, deps, "PUT", "/iam/users/{}/password", set_password);
}

}  // namespace webstream::iam::api
