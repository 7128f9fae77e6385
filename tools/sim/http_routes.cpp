#include "http_routes.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

#include "host.hpp"
#include "test_pattern.hpp"

namespace webstream::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

namespace {

Response json_response(unsigned status, const json::value& body, unsigned version) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.body() = json::serialize(body);
  return res;
}

Response text_response(unsigned status, std::string body, unsigned version) {
  Response res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "text/plain");
  res.body() = std::move(body);
  return res;
}

net::awaitable<void> sleep_ms(int ms) {
  if (ms <= 0) co_return;
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(ms));
  auto [ec] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
  (void)ec;
}

// An endpoint that answers as its knob says: never (hanging), or after the knob's delay with `failing(status)`
// in failing mode and `normal()` otherwise. The knob is a copy, so a change while it waits applies to the next
// request only.
template <class Failing, class Normal>
net::awaitable<RouteOutcome> answer_per_knob(const EndpointKnob knob, const Failing& failing, const Normal& normal) {
  RouteOutcome out;
  if (knob.mode == ResponseMode::kHanging) {
    out.hang = true;
    co_return out;
  }
  co_await sleep_ms(knob.delay_ms);
  out.response = knob.mode == ResponseMode::kFailing ? failing(static_cast<unsigned>(knob.failing_status)) : normal();
  co_return out;
}

// Parses a POST body as a JSON object (an empty body is {}).
Result<json::object> body_object(const Request& req) {
  if (req.body().empty()) return json::object{};
  boost::system::error_code ec;
  auto v = json::parse(req.body(), ec);
  if (ec || !v.is_object()) return Error::invalid("the body must be a JSON object");
  return std::move(v.as_object());
}

// A whole number as a JSON integer (30, not 3E1), anything else as a double.
json::value number(double v) {
  if (v == static_cast<double>(static_cast<std::int64_t>(v))) return static_cast<std::int64_t>(v);
  return v;
}

Response streamer_details(const Host& host, const Request& req, const HostState& s) {
  const auto& o = host.options();
  HeaderList headers;
  for (const auto& field : req) headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  const auto session = req.find("X-Session-ID");
  const FrameGeometry geometry = frame_geometry(o.frame_bytes);
  json::object body{
      {"serverUrl", s.server_url},
      {"backendId", s.registration.backend_id.empty() ? json::value() : json::value(s.registration.backend_id)},
      {"method", std::string(req.method_string())},
      {"target", std::string(req.target())},
      {"sessionId", session == req.end() ? json::value() : json::value(std::string(session->value()))},
      {"headers", headers_json(headers)},
      {"streamer",
       {{"capturePath", "/capture"},
        {"controlPath", "/control"},
        {"audioPath", "/audio"},
        {"capture",
         {{"format", "webstream-sim-rgba-v1"},
          {"frameBytes", o.frame_bytes},
          {"width", geometry.width},
          {"height", geometry.height},
          {"fps", number(o.fps)}}},
        {"audio",
         {{"format", "s16le"},
          {"sampleRate", o.audio_rate},
          {"channels", 1},
          {"frameMs", o.audio_frame_ms},
          {"toneHz", number(o.tone_hz)}}}}}};
  Response res = json_response(200, body, req.version());
  // A cookie and a marker header, so tests can check which response headers a proxy passes or drops.
  res.set(http::field::set_cookie, "webstream-sim=1; Path=/; HttpOnly");
  res.set("X-Sim-Server", s.server_url);
  return res;
}

Response knob_update(EndpointKnob& knob, const Request& req) {
  auto body = body_object(req);
  if (!body) return error_response(400, "invalid_request", body.error().message, req.version());
  if (auto st = apply_knob(knob, *body); !st) {
    return error_response(400, "invalid_request", st.error().message, req.version());
  }
  return json_response(200, knob_json(knob), req.version());
}

Response status_update(Host& host, const Request& req) {
  auto body = body_object(req);
  if (!body) return error_response(400, "invalid_request", body.error().message, req.version());
  HostReport next = host.state().report;
  const json::object& b = *body;
  if (const auto* v = b.if_contains("status")) {
    if (!v->is_string() || v->get_string().empty()) {
      return error_response(400, "invalid_request", "status: must be a non-empty string", req.version());
    }
    next.status = std::string(v->get_string());
  }
  if (const auto* v = b.if_contains("activeSessions")) {
    if (v->is_null()) {
      next.active_sessions.reset();
    } else if (v->is_int64() && v->as_int64() >= 0 && v->as_int64() <= 1'000'000) {
      next.active_sessions = static_cast<int>(v->as_int64());
    } else {
      return error_response(400, "invalid_request", "activeSessions: must be an integer >= 0 or null", req.version());
    }
  }
  if (const auto* v = b.if_contains("maxSessions")) {
    if (!v->is_int64() || v->as_int64() < 0 || v->as_int64() > 1'000'000) {
      return error_response(400, "invalid_request", "maxSessions: must be an integer >= 0", req.version());
    }
    next.max_sessions = static_cast<int>(v->as_int64());
  }
  for (const char* name : {"cpuUsage", "memoryUsage"}) {
    if (const auto* v = b.if_contains(name)) {
      if (!v->is_number()) {
        return error_response(400, "invalid_request", std::string(name) + ": must be a number", req.version());
      }
      (std::string_view(name) == "cpuUsage" ? next.cpu_usage : next.memory_usage) = v->to_number<double>();
    }
  }
  if (const auto* v = b.if_contains("heartbeats")) {
    if (!v->is_bool()) return error_response(400, "invalid_request", "heartbeats: must be a boolean", req.version());
    next.heartbeats_enabled = v->get_bool();
  }
  host.state().report = next;
  if (host.registrar() != nullptr) host.registrar()->heartbeat_now();
  return json_response(200, stats_json(host.state()).at("report"), req.version());
}

Response ws_reject_update(HostState& s, const Request& req) {
  auto body = body_object(req);
  if (!body) return error_response(400, "invalid_request", body.error().message, req.version());
  const auto* v = body->if_contains("status");
  if (v == nullptr || !v->is_int64() || (v->as_int64() != 0 && (v->as_int64() < 200 || v->as_int64() > 599))) {
    return error_response(400, "invalid_request", "status: must be 0 or an HTTP status 200..599", req.version());
  }
  s.ws_reject_status = static_cast<int>(v->as_int64());
  return json_response(200, json::object{{"wsRejectStatus", s.ws_reject_status}}, req.version());
}

Response last_upgrade(const HostState& s, const Request& req, const boost::urls::url_view& url) {
  std::string path = "/capture";
  if (auto it = url.params().find("path"); it != url.params().end()) path = (*it).value;
  const auto found = s.last_upgrade.find(path);
  if (found == s.last_upgrade.end()) {
    return error_response(404, "not_found", "no WebSocket upgrade seen on " + path, req.version());
  }
  const auto& r = found->second;
  json::object body{{"path", r.path}, {"target", r.target}, {"at", r.at_ms}, {"headers", headers_json(r.headers)}};
  return json_response(200, body, req.version());
}

}  // namespace

Response error_response(unsigned status, const char* code, const std::string& message, unsigned version) {
  json::object body{{"error", {{"code", code}, {"message", message}}}};
  return json_response(status, body, version);
}

net::awaitable<RouteOutcome> handle_http(Host& host, const Request& req) {
  RouteOutcome out;
  auto& s = host.state();
  const auto url = boost::urls::parse_origin_form(req.target());
  if (!url) {
    out.response = error_response(400, "invalid_request", "bad request target", req.version());
    co_return out;
  }
  const std::string path(url->path());
  const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
  const bool post = req.method() == http::verb::post;

  // The lambdas are named locals, not temporaries inside the co_await (the GCC 12 coroutine pitfall,
  // docs/dev/CONTRIBUTING.md).
  if (path == "/health" && get) {
    ++s.stats.health_requests;
    const auto failing = [&](unsigned status) { return text_response(status, "FAILING", req.version()); };
    const auto normal = [&] { return text_response(200, "OK", req.version()); };
    co_return co_await answer_per_knob(s.health, failing, normal);
  }
  if (path == "/getConnection" && get) {
    ++s.stats.get_connection_requests;
    const auto failing = [&](unsigned status) {
      return error_response(status, "sim_failing", "failing on purpose (/sim/getconnection)", req.version());
    };
    const auto normal = [&] { return streamer_details(host, req, s); };
    co_return co_await answer_per_knob(s.get_connection, failing, normal);
  }
  if (path == "/sim/stats" && get) {
    out.response = json_response(200, stats_json(s), req.version());
    co_return out;
  }
  if (path == "/sim/last-upgrade" && get) {
    out.response = last_upgrade(s, req, *url);
    co_return out;
  }
  if (path == "/sim/health" && post) {
    out.response = knob_update(s.health, req);
    co_return out;
  }
  if (path == "/sim/getconnection" && post) {
    out.response = knob_update(s.get_connection, req);
    co_return out;
  }
  if (path == "/sim/status" && post) {
    out.response = status_update(host, req);
    co_return out;
  }
  if (path == "/sim/ws-reject" && post) {
    out.response = ws_reject_update(s, req);
    co_return out;
  }
  if ((path == "/sim/register" || path == "/sim/unregister") && post) {
    if (host.registrar() == nullptr) {
      out.response = error_response(409, "not_registering", "this host runs with --no-register", req.version());
      co_return out;
    }
    bool ok = false;
    if (path == "/sim/register") {
      ok = co_await host.registrar()->register_once();
    } else {
      ok = co_await host.registrar()->unregister();
    }
    json::object body{{"success", ok},
                      {"registered", s.registration.registered},
                      {"lastRegisterStatus", s.registration.last_register_status}};
    out.response = json_response(ok ? 200 : 502, body, req.version());
    co_return out;
  }
  const bool known = path == "/health" || path == "/getConnection" || path.rfind("/sim/", 0) == 0;
  out.response = known ? error_response(405, "method_not_allowed", "method not allowed on " + path, req.version())
                       : error_response(404, "not_found", "no route for " + path, req.version());
  co_return out;
}

}  // namespace webstream::sim
