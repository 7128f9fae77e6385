#include "iam/auth_api.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/json_fields.hpp"

namespace webstream::iam {
namespace {

namespace net = boost::asio;
namespace json = boost::json;
namespace jf = json_fields;

constexpr std::size_t kMaxUsernameBytes = 256;
constexpr std::size_t kMaxPasswordBytes = 1024;

json::object user_summary(const std::string& id, const std::string& username, const std::string& org_id,
                          const std::vector<std::string>& roles) {
  return json::object{{"id", id}, {"username", username}, {"orgId", org_id}, {"roles", jf::to_array(roles)}};
}

json::object me_body(const UserRecord& u) {
  json::object body = user_summary(u.id, u.username, u.org_id, u.roles);
  body["displayName"] = u.display_name;
  body["email"] = u.email;
  body["disabled"] = u.disabled;
  body["user"] = user_summary(u.id, u.username, u.org_id, u.roles);
  return body;
}

json::object service_me_body(const auth::Principal& p) {
  json::object body = user_summary(p.user_id, p.username, p.org_id, p.roles);
  body["service"] = true;
  body["user"] = user_summary(p.user_id, p.username, p.org_id, p.roles);
  return body;
}

}  // namespace

json::object login_body(const LoginResult& result, std::int64_t expires_in_s) {
  const UserRecord& u = result.user;
  return json::object{{"token", result.token.jwt},
                      {"tokenType", "Bearer"},
                      {"expiresIn", expires_in_s},
                      {"user", user_summary(u.id, u.username, u.org_id, u.roles)}};
}

void register_auth_routes(http::Router& router, AuthApiDeps deps) {
  router.add("POST", "/iam/auth/login", http::Exposure::kPublic,
             [deps](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto body = jf::parse_object(ctx.req.body());
               if (!body) co_return http::error_response(body.error(), ctx.req);
               auto username = jf::required_string(*body, "username", kMaxUsernameBytes);
               if (!username) co_return http::error_response(username.error(), ctx.req);
               auto password = jf::required_string(*body, "password", kMaxPasswordBytes);
               if (!password) co_return http::error_response(password.error(), ctx.req);
               LoginService* login = &deps.login;
               // Built before the co_await: GCC 12 destroys temporaries inside a co_await twice.
               auto work = [login, name = std::move(username.value()), secret = std::move(password.value()),
                            ip = ctx.remote_ip] { return login->login(name, secret, ip); };
               auto result = co_await deps.blocking.run(std::move(work));
               if (!result) co_return http::error_response(result.error(), ctx.req);
               json::object answer = login_body(result.value(), deps.tokens.lifetime_s());
               co_return http::json_response(200, answer, ctx.req);
             });

  router.add("POST", "/iam/auth/logout", http::Exposure::kPublic,
             [deps](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto who = deps.authenticator.authenticate_bearer(ctx);
               if (!who) co_return http::error_response(who.error(), ctx.req);
               auth::Authenticator* authenticator = &deps.authenticator;
               auto work = [authenticator, principal = std::move(who.value())] {
                 return authenticator->revoke(principal);
               };
               auto revoked = co_await deps.blocking.run(std::move(work));
               if (!revoked) co_return http::error_response(revoked.error(), ctx.req);
               json::object answer{{"success", true}};
               co_return http::json_response(200, answer, ctx.req);
             });

  router.add("GET", "/iam/auth/me", http::Exposure::kPublic,
             [deps](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto who = deps.authenticator.authenticate_bearer(ctx);
               if (!who) co_return http::error_response(who.error(), ctx.req);
               if (who->service) {
                 json::object answer = service_me_body(who.value());
                 co_return http::json_response(200, answer, ctx.req);
               }
               UserDirectory* users = &deps.users;
               auto work = [users, id = who->user_id] { return users->find_by_id(id); };
               auto user = co_await deps.blocking.run(std::move(work));
               if (!user || user->disabled) {
                 Error gone{401, "unauthorized", "the token's user no longer exists or is disabled"};
                 co_return http::error_response(gone, ctx.req);
               }
               json::object answer = me_body(*user);
               co_return http::json_response(200, answer, ctx.req);
             });

  router.add("GET", "/iam/.well-known/jwks.json", http::Exposure::kPublic,
             [deps](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               http::Response res = http::json_response(200, deps.tokens.jwks(), ctx.req);
               res.set(http::bhttp::field::cache_control, "public, max-age=300");
               co_return res;
             });
}

}  // namespace webstream::iam
