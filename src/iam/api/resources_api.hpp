#pragma once
// The IAM resource endpoints (CONTRACT §6): /iam/orgs, /iam/users (+ /{id}/password), /iam/groups
// (+ /{id}/members), /iam/roles, /iam/apps, /iam/workspaces, /iam/policies, /iam/entitlements,
// GET /iam/me/entitlements and GET /iam/audit. docs/api/iam.yaml describes each; docs/iam-policy.md the
// rules (RBAC, deletes, policy merge).
//
// Conventions: list → 200 {"items","total","limit","offset"} (?limit=1..1000, default 50; ?offset=;
// admin may add ?orgId=); create → 201 Created with the object and a Location header; GET/PATCH → 200 with
// the object; DELETE (and PUT password, DELETE member) → 204. Errors: 400 invalid_request naming the field,
// 401 from `authenticate`, 403 forbidden, 404 not_found (also for another org's objects), 409 conflict.
//
// Thread rules: handlers run on I/O threads but do all store work, password hashing and on_user_changed
// on `blocking`.
#include <functional>
#include <string>

#include "core/clock.hpp"
#include "core/principal.hpp"
#include "http/router.hpp"
#include "iam/entitlements.hpp"
#include "iam/passwords.hpp"
#include "iam/user_service.hpp"
#include "runtime/blocking_pool.hpp"
#include "store/iam_store.hpp"

namespace webstream::iam {

// The one token check (auth/authenticator): the request's principal, or 401.
using Authenticate = std::function<Result<core::Principal>(const http::RequestContext&)>;

struct ResourceDeps {
  store::IamStore& store;
  EntitlementService& entitlements;
  runtime::BlockingPool& blocking;
  const Clock& clock;
  Authenticate authenticate;
  UserChanged on_user_changed;      // iam/user_service.hpp: the revocation hook
  const PasswordHasher& passwords;  // argon2id; runs on the BlockingPool thread of the operation
};

// Registers every route above on `router` (Exposure::kPublic). `deps`' references must outlive the router.
void register_resource_routes(http::Router& router, ResourceDeps deps);

}  // namespace webstream::iam
