#include "iam/remote/remote_resolver.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "iam/resolution_json.hpp"
#include "observability/log.hpp"

namespace webstream::iam {

Result<sessions::Resolution> RemoteEntitlementResolver::resolve(const std::string& user_id,
                                                                const std::string& workspace_id,
                                                                const std::optional<std::string>& app_id) {
  boost::json::object body{{"userId", user_id}, {"workspaceId", workspace_id}};
  if (app_id) body["appId"] = *app_id;
  AmRequest request;
  request.method = boost::beast::http::verb::post;
  request.target = "/iam/internal/resolve";
  request.body = boost::json::serialize(body);
  auto reply = client_.call(request, timeout_);
  if (!reply) {
    log::warn("access-management resolve failed", {{"error", reply.error().message}});
    return reply.error();
  }
  if (reply->status >= 500 || reply->status == 401) {
    // 401: this gateway's serviceKey is not the service's; the browser is not at fault.
    log::error("access-management resolve refused", {{"status", reply->status}});
    return Error{
        502, "access_management_error",
        "the access-management service could not resolve the entitlement (" + std::to_string(reply->status) + ")"};
  }
  if (reply->status != 200) return reply_error(*reply, "not_entitled");
  boost::system::error_code ec;
  auto v = boost::json::parse(reply->body, ec);
  if (ec || !v.is_object()) {
    return Error{502, "access_management_error", "the access-management service's resolution is not JSON"};
  }
  return resolution_from_json(v.as_object());
}

}  // namespace webstream::iam
