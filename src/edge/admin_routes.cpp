#include "edge/admin_routes.hpp"

#include <memory>

namespace webstream::edge {

namespace net = boost::asio;

namespace {
net::awaitable<http::Response> listing(http::RequestContext& ctx, const AdminRoutesDeps& deps,
                                       const std::function<boost::json::array()>& source) {
  auto who = deps.authenticate(ctx);
  if (!who) co_return http::error_response(who.error(), ctx.req);
  if (!who->is_admin()) {
    Error denied{403, "forbidden", "the admin role is required"};
    co_return http::error_response(denied, ctx.req);
  }
  auto items = source();
  boost::json::object body;
  body["total"] = items.size();
  body["items"] = std::move(items);
  co_return http::json_response(200, body, ctx.req);
}
}  // namespace

void register_admin_routes(http::Router& router, AdminRoutesDeps deps) {
  auto shared = std::make_shared<AdminRoutesDeps>(std::move(deps));
  router.add("GET", "/gateway/admin/backends", http::Exposure::kPublic,
             [shared](http::RequestContext& ctx) { return listing(ctx, *shared, shared->backends); });
  router.add("GET", "/gateway/admin/sessions", http::Exposure::kPublic,
             [shared](http::RequestContext& ctx) { return listing(ctx, *shared, shared->sessions); });
}

}  // namespace webstream::edge
