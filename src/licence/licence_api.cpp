#include "licence/licence_api.hpp"

#include <boost/json/object.hpp>

#include "core/ids.hpp"
#include "core/json_fields.hpp"
#include "licence/claim_batcher.hpp"
#include "observability/metrics.hpp"

namespace webstream::licence {

namespace net = boost::asio;
namespace jf = json_fields;

namespace {

constexpr std::string_view kBackendKeyHeader = "X-Backend-Key";
constexpr std::size_t kMaxGuidField = 64;

// Check-in and checkout answers by contract code ("ok" for 200).
metrics::Counter& checkin_counter(const std::string& code) {
  return metrics::Registry::global().counter("webstream_streamer_checkins_total", "Streamer check-ins by result code",
                                             {{"code", code}});
}
metrics::Counter& checkout_counter(const std::string& code) {
  return metrics::Registry::global().counter("webstream_streamer_checkouts_total", "Streamer checkouts by result code",
                                             {{"code", code}});
}

Status authorise(const http::RequestContext& ctx, const BackendKeySource& keys) {
  auto current = keys ? keys() : nullptr;
  if (!current) return Status::success();
  return check_backend_key(ctx.header(kBackendKeyHeader), *current);
}

http::Response refuse(const Error& error, const http::Request& req, bool checkin) {
  (checkin ? checkin_counter(error.code) : checkout_counter(error.code)).inc();
  return http::error_response(error, req);
}

net::awaitable<http::Response> handle_checkin(http::RequestContext& ctx, SeatRegistry& seats, ClaimBatcher& batcher,
                                              const BackendKeySource& keys) {
  if (auto ok = authorise(ctx, keys); !ok) co_return refuse(ok.error(), ctx.req, true);
  auto guid = parse_streamer_body(ctx.req.body());
  if (!guid) co_return refuse(guid.error(), ctx.req, true);
  std::optional<Result<CheckinAnswer>> answer = seats.try_checkin_in_memory(guid.value());
  if (!answer) {
    std::string g = guid.value();
    Result<CheckinAnswer> claimed = co_await batcher.checkin(std::move(g));
    answer.emplace(std::move(claimed));
  }
  if (!answer->ok()) co_return refuse(answer->error(), ctx.req, true);
  static metrics::Counter& ok = checkin_counter("ok");
  ok.inc();
  boost::json::object body;
  body["success"] = true;
  body["activeStreamers"] = answer->value().active;
  body["maxStreamers"] = answer->value().max;
  co_return http::json_response(200, body, ctx.req);
}

net::awaitable<http::Response> handle_checkout(http::RequestContext& ctx, SeatRegistry& seats,
                                               runtime::BlockingPool& blocking, const BackendKeySource& keys) {
  if (auto ok = authorise(ctx, keys); !ok) co_return refuse(ok.error(), ctx.req, false);
  auto guid = parse_streamer_body(ctx.req.body());
  if (!guid) co_return refuse(guid.error(), ctx.req, false);
  auto job = [&seats, g = guid.value()] { return seats.checkout(g); };
  Result<std::int64_t> active = co_await blocking.run(std::move(job));
  if (!active) co_return refuse(active.error(), ctx.req, false);
  static metrics::Counter& ok = checkout_counter("ok");
  ok.inc();
  boost::json::object body;
  body["success"] = true;
  body["activeStreamers"] = active.value();
  co_return http::json_response(200, body, ctx.req);
}

}  // namespace

Status check_backend_key(std::string_view presented, const std::vector<config::NamedKey>& keys) {
  if (keys.empty()) return Status::success();
  bool matched = false;
  for (const auto& k : keys) {
    const bool equal = !k.key.empty() && constant_time_equals(presented, k.key);
    matched = matched || equal;
  }
  if (!matched) return Error{401, "unauthorized", "a valid X-Backend-Key header is required"};
  return Status::success();
}

Result<std::string> parse_streamer_body(std::string_view body) {
  auto o = jf::parse_object(body);
  if (!o) return o.error();
  auto raw = jf::required_string(*o, "streamerGuid", kMaxGuidField);
  if (!raw) return raw.error();
  auto guid = canonical_guid(*raw);
  if (!guid) return Error::invalid("field 'streamerGuid' must be a GUID (8-4-4-4-12 hex digits)");
  return std::move(*guid);
}

void register_licence_routes(http::Router& router, SeatRegistry& seats, runtime::BlockingPool& blocking,
                             BackendKeySource backend_keys) {
  // New seats go through the batcher (group commit); it lives as long as the route.
  std::shared_ptr<ClaimBatcher> batcher = ClaimBatcher::create(seats, blocking);
  router.add("POST", "/gateway/license/streamer-checkin", http::Exposure::kInternal,
             [&seats, batcher, backend_keys](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               return handle_checkin(ctx, seats, *batcher, backend_keys);
             });
  router.add("POST", "/gateway/license/streamer-checkout", http::Exposure::kInternal,
             [&seats, &blocking, backend_keys](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               return handle_checkout(ctx, seats, blocking, backend_keys);
             });
}

}  // namespace webstream::licence
