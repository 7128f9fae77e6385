#include "sessions/sessions_api.hpp"

#include "core/json_fields.hpp"
#include "sessions/session_id.hpp"

namespace webstream::sessions {

namespace net = boost::asio;
namespace jf = json_fields;

namespace {

// Authenticates and reads X-Session-ID; the error to answer with otherwise.
Result<std::pair<core::Principal, std::string>> caller(const http::RequestContext& ctx,
                                                       const Authenticate& authenticate) {
  auto who = authenticate(ctx);
  if (!who) return who.error();
  auto session_id = session_id_from_header(ctx);
  if (!session_id) return session_id.error();
  return std::make_pair(std::move(who.value()), std::move(session_id.value()));
}

}  // namespace

Result<SelectRequest> parse_select(std::string_view body) {
  auto o = jf::parse_object(body);
  if (!o) return o.error();
  SelectRequest r;
  auto ws = jf::required_string(*o, "workspaceId", 128);
  if (!ws) return ws.error();
  r.workspace_id = std::move(ws.value());
  auto type = jf::optional_string(*o, "workspaceType", 32);
  if (!type) return type.error();
  auto app = jf::optional_string(*o, "appId", 128);
  if (!app) return app.error();
  auto exe = jf::optional_string(*o, "appExe", 1024);
  if (!exe) return exe.error();
  auto args = jf::optional_string(*o, "appArgs", 4096);
  if (!args) return args.error();
  r.workspace_type = std::move(type.value());
  r.app_id = std::move(app.value());
  if (r.app_id && r.app_id->empty()) r.app_id.reset();
  r.app_exe = std::move(exe.value());
  r.app_args = std::move(args.value());
  return r;
}

void register_session_routes(http::Router& router, SessionService& service, runtime::BlockingPool& blocking,
                             Authenticate authenticate) {
  router.add("POST", "/gateway/session/select", http::Exposure::kPublic,
             [&service, &blocking, authenticate](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto who = caller(ctx, authenticate);
               if (!who) co_return http::error_response(who.error(), ctx.req);
               auto request = parse_select(ctx.req.body());
               if (!request) co_return http::error_response(request.error(), ctx.req);
               auto principal = who->first;
               auto session_id = who->second;
               auto body = request.value();
               // Named before the co_await: GCC 12 destroys temporaries inside a co_await twice.
               auto work = [&service, principal, session_id, body] {
                 return service.select(principal, session_id, body);
               };
               auto result = co_await blocking.run(std::move(work));
               if (!result) co_return http::error_response(result.error(), ctx.req);
               co_return http::json_response(200, result.value(), ctx.req);
             });
  router.add("POST", "/gateway/session/release", http::Exposure::kPublic,
             [&service, &blocking, authenticate](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto who = caller(ctx, authenticate);
               if (!who) co_return http::error_response(who.error(), ctx.req);
               auto principal = who->first;
               auto session_id = who->second;
               auto work = [&service, principal, session_id] { return service.release(principal, session_id); };
               auto status = co_await blocking.run(std::move(work));
               if (!status) co_return http::error_response(status.error(), ctx.req);
               boost::json::object ok{{"success", true}};
               co_return http::json_response(200, ok, ctx.req);
             });
  router.add("GET", "/gateway/session/status", http::Exposure::kPublic,
             [&service, &blocking, authenticate](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto who = caller(ctx, authenticate);
               if (!who) co_return http::error_response(who.error(), ctx.req);
               auto principal = who->first;
               auto session_id = who->second;
               auto work = [&service, principal, session_id] { return service.status(principal, session_id); };
               auto result = co_await blocking.run(std::move(work));
               if (!result) co_return http::error_response(result.error(), ctx.req);
               co_return http::json_response(200, result.value(), ctx.req);
             });
}

}  // namespace webstream::sessions
