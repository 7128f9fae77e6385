#include "iam/api/auth_api.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <algorithm>
#include <optional>

#include "core/json_fields.hpp"
#include "iam/field_rules.hpp"
#include "observability/metrics.hpp"

namespace webstream::iam {
namespace {

namespace net = boost::asio;
namespace json = boost::json;
namespace jf = json_fields;

constexpr std::size_t kMaxUsernameBytes = 256;

json::object user_summary(const std::string& id, const std::string& username, const std::string& org_id,
                          const std::vector<std::string>& roles) {
  return json::object{{"id", id}, {"username", username}, {"orgId", org_id}, {"roles", jf::to_array(roles)}};
}

json::object me_body(const auth::UserRecord& u) {
  json::object body = user_summary(u.id, u.username, u.org_id, u.roles);
  body["displayName"] = u.display_name;
  body["email"] = u.email;
  body["disabled"] = u.disabled;
  body["user"] = user_summary(u.id, u.username, u.org_id, u.roles);
  return body;
}

json::object service_me_body(const core::Principal& p) {
  json::object body = user_summary(p.user_id, p.username, p.org_id, p.roles);
  body["service"] = true;
  body["user"] = user_summary(p.user_id, p.username, p.org_id, p.roles);
  return body;
}

}  // namespace

json::object login_body(const LoginResult& result, std::int64_t expires_in_s) {
  const auth::UserRecord& u = result.user;
  return json::object{{"token", result.token.jwt},
                      {"tokenType", "Bearer"},
                      {"expiresIn", expires_in_s},
                      {"user", user_summary(u.id, u.username, u.org_id, u.roles)}};
}

runtime::BoundedPoolOptions login_hashing_options(unsigned cores) {
  constexpr std::size_t kMaxThreads = 8;
  constexpr std::size_t kInFlightPerThread = 4;
  constexpr int kNice = 10;
  const std::size_t threads = std::clamp<std::size_t>(cores, 1, kMaxThreads);
  return runtime::BoundedPoolOptions{threads, threads * kInFlightPerThread, kNice};
}

void register_auth_routes(http::Router& router, AuthApiDeps deps) {
  metrics::Counter* busy = &metrics::Registry::global().counter(
      "webstream_login_busy_total", "Logins answered 503 login_busy: every password-hashing slot was taken");
  router.add("POST", "/iam/auth/login", http::Exposure::kPublic,
             [deps, busy](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto body = jf::parse_object(ctx.req.body());
               if (!body) co_return http::error_response(body.error(), ctx.req);
               auto username = jf::required_string(*body, "username", kMaxUsernameBytes);
               if (!username) co_return http::error_response(username.error(), ctx.req);
               auto password = jf::required_string(*body, "password", kMaxPasswordBytes);
               if (!password) co_return http::error_response(password.error(), ctx.req);
               LoginService* login = &deps.login;
               // The lockout check here, on the I/O thread (cheap): a locked-out attempt takes no hashing slot.
               auto pending = login->begin(username.value(), ctx.remote_ip);
               if (!pending) co_return http::error_response(pending.error(), ctx.req);
               const LoginService::Pending* attempt = &pending.value();  // lives in this coroutine's frame
               // Built before the co_await: GCC 12 destroys temporaries inside a co_await twice.
               auto work = [login, attempt, secret = std::move(password.value())] {
                 return login->finish(*attempt, secret);
               };
               std::optional<Result<LoginResult>> result;
               if (deps.hashing != nullptr) {
                 result = co_await deps.hashing->try_run(std::move(work));
               } else {
                 result = co_await deps.blocking.run(std::move(work));
               }
               if (!result) {
                 login->abandon(*attempt);
                 busy->inc();
                 Error full{503, "login_busy", "too many logins in progress; retry in a second"};
                 full.retry_after = 1;
                 co_return http::error_response(full, ctx.req);
               }
               if (!*result) co_return http::error_response(result->error(), ctx.req);
               json::object answer = login_body(result->value(), deps.tokens.lifetime_s());
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
               auth::UserDirectory* users = &deps.users;
               auto work = [users, id = who->user_id] { return users->find_by_id(id); };
               auto found = co_await deps.blocking.run(std::move(work));
               if (!found) co_return http::error_response(found.error(), ctx.req);
               const auto& user = found.value();
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
