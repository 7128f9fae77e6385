#pragma once
// Read-only admin views for the portal's admin page: GET /gateway/admin/backends and
// GET /gateway/admin/sessions (admin role only; 401 without a token, 403 for other roles).
// Both answer {"items":[…],"total":n}. They never show secrets.
#include <boost/json/array.hpp>

#include <functional>

#include "core/principal.hpp"
#include "http/router.hpp"

namespace webstream::edge {

struct AdminRoutesDeps {
  std::function<Result<core::Principal>(const http::RequestContext&)> authenticate;
  std::function<boost::json::array()> backends;
  std::function<boost::json::array()> sessions;
};

void register_admin_routes(http::Router& router, AdminRoutesDeps deps);

}  // namespace webstream::edge
