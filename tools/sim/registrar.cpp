#include "registrar.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>

#include "core/json_fields.hpp"
#include "core/time_format.hpp"
#include "events.hpp"
#include "observability/log.hpp"

namespace webstream::sim {

namespace net = boost::asio;
namespace json = boost::json;

namespace {

std::string utc_now_iso() { return iso8601(SystemClock::instance().now_ms()); }

// The gateway's error code from {"error":{"code":…}}, or "".
std::string error_code_of(const std::string& body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return "";
  const auto* err = v.as_object().if_contains("error");
  if (err == nullptr || !err->is_object()) return "";
  const auto* code = err->as_object().if_contains("code");
  return code != nullptr && code->is_string() ? std::string(code->get_string()) : "";
}

}  // namespace

Registrar::Registrar(net::any_io_executor ex, const SimOptions& options, HostState& state, const GatewayClient& client)
    : options_(options), state_(state), client_(client), wake_(ex) {}

std::string Registrar::register_body() const {
  json::object o{{"serverUrl", state_.server_url},
                 {"maxSessions", state_.report.max_sessions},
                 {"instanceType", options_.instance_type},
                 {"ec2InstanceId", "i-sim" + std::to_string(state_.port)},
                 {"tags", json_fields::to_array(options_.tags)},
                 {"capabilities", json_fields::to_array(options_.capabilities)},
                 {"version", options_.host_version}};
  return json::serialize(o);
}

std::string Registrar::heartbeat_body() const {
  json::object o{{"serverUrl", state_.server_url},
                 {"status", state_.report.status},
                 {"activeSessions", state_.active_sessions()},
                 {"maxSessions", state_.report.max_sessions},
                 {"instanceType", options_.instance_type},
                 {"tags", json_fields::to_array(options_.tags)},
                 {"cpuUsage", state_.report.cpu_usage},
                 {"memoryUsage", state_.report.memory_usage},
                 {"timestamp", utc_now_iso()}};
  return json::serialize(o);
}

net::awaitable<void> Registrar::wait(std::int64_t ms) {
  if (heartbeat_requested_ || stopping_) co_return;
  wake_.expires_after(std::chrono::milliseconds(ms));
  auto [ec] = co_await wake_.async_wait(net::as_tuple(net::use_awaitable));
  (void)ec;  // expiry or heartbeat_now()/stop(): both mean "go on"
}

void Registrar::heartbeat_now() {
  heartbeat_requested_ = true;
  wake_.cancel();
}

void Registrar::stop() {
  stopping_ = true;
  wake_.cancel();
}

net::awaitable<bool> Registrar::register_once() {
  auto& r = state_.registration;
  ++r.register_attempts;
  std::string body = register_body();
  std::string path = "/gateway/register";
  HttpReply reply = co_await client_.post_json(std::move(path), std::move(body));
  r.last_register_status = reply.status;
  paused_ = false;
  if (reply.status >= 200 && reply.status < 300) {
    boost::system::error_code ec;
    auto v = json::parse(reply.body, ec);
    if (!ec && v.is_object()) {
      if (const auto* id = v.as_object().if_contains("backendId"); id != nullptr && id->is_string()) {
        r.backend_id = std::string(id->get_string());
      }
    }
    r.registered = true;
    json::object event{{"event", "registered"},
                       {"serverUrl", state_.server_url},
                       {"backendId", r.backend_id},
                       {"attempt", r.register_attempts}};
    emit_event(event);
    co_return true;
  }
  json::object event{{"event", "register_failed"}, {"serverUrl", state_.server_url},
                     {"status", reply.status},     {"code", error_code_of(reply.body)},
                     {"error", reply.error},       {"attempt", r.register_attempts}};
  emit_event(event);
  co_return false;
}

net::awaitable<bool> Registrar::unregister() {
  paused_ = true;
  json::object o{{"serverUrl", state_.server_url}};
  std::string body = json::serialize(o);
  std::string path = "/gateway/unregister";
  HttpReply reply = co_await client_.post_json(std::move(path), std::move(body));
  const bool ok = reply.status >= 200 && reply.status < 300;
  if (ok) state_.registration.registered = false;
  json::object event{{"event", ok ? "unregistered" : "unregister_failed"},
                     {"serverUrl", state_.server_url},
                     {"status", reply.status},
                     {"error", reply.error}};
  emit_event(event);
  co_return ok;
}

net::awaitable<void> Registrar::send_heartbeat() {
  auto& r = state_.registration;
  std::string body = heartbeat_body();
  std::string path = "/gateway/heartbeat";
  HttpReply reply = co_await client_.post_json(std::move(path), std::move(body));
  r.last_heartbeat_status = reply.status;
  if (reply.status >= 200 && reply.status < 300) {
    ++r.heartbeats_sent;
    co_return;
  }
  ++r.heartbeats_failed;
  // One event per failure; a healthy run prints nothing per heartbeat.
  json::object event{{"event", "heartbeat_failed"},
                     {"serverUrl", state_.server_url},
                     {"status", reply.status},
                     {"code", error_code_of(reply.body)},
                     {"error", reply.error}};
  emit_event(event);
}

net::awaitable<void> Registrar::run() {
  for (int attempt = 1; attempt <= options_.register_attempts && !stopping_; ++attempt) {
    const bool ok = co_await register_once();
    if (ok || stopping_) break;
    if (attempt == options_.register_attempts) {
      json::object event{{"event", "register_gave_up"}, {"serverUrl", state_.server_url}, {"attempts", attempt}};
      emit_event(event);
      break;
    }
    co_await wait(options_.register_retry_ms);
    heartbeat_requested_ = false;  // a status change during the retry wait is carried by the next attempt
  }
  while (!stopping_) {
    co_await wait(options_.heartbeat_interval_ms);
    if (stopping_) break;
    heartbeat_requested_ = false;
    if (paused_ || !state_.report.heartbeats_enabled) continue;
    co_await send_heartbeat();
  }
}

}  // namespace webstream::sim
