#include "host_state.hpp"

#include <boost/json.hpp>

namespace webstream::sim {

namespace json = boost::json;

const char* to_string(ResponseMode m) {
  switch (m) {
    case ResponseMode::kNormal: return "healthy";
    case ResponseMode::kFailing: return "failing";
    case ResponseMode::kHanging: return "hanging";
  }
  return "healthy";
}

Status apply_knob(EndpointKnob& knob, const json::object& body) {
  EndpointKnob next = knob;
  if (const auto* mode = body.if_contains("mode")) {
    if (!mode->is_string()) return Error::invalid("mode: must be a string");
    const std::string m(mode->get_string());
    if (m == "healthy" || m == "ok" || m == "normal") {
      next.mode = ResponseMode::kNormal;
    } else if (m == "failing") {
      next.mode = ResponseMode::kFailing;
    } else if (m == "hanging") {
      next.mode = ResponseMode::kHanging;
    } else {
      return Error::invalid("mode: must be healthy, failing or hanging");
    }
  }
  if (const auto* status = body.if_contains("status")) {
    if (!status->is_int64() || status->as_int64() < 100 || status->as_int64() > 599) {
      return Error::invalid("status: must be an HTTP status 100..599");
    }
    next.failing_status = static_cast<int>(status->as_int64());
  }
  if (const auto* delay = body.if_contains("delayMs")) {
    if (!delay->is_int64() || delay->as_int64() < 0 || delay->as_int64() > 3'600'000) {
      return Error::invalid("delayMs: must be an integer 0..3600000");
    }
    next.delay_ms = static_cast<int>(delay->as_int64());
  }
  knob = next;
  return Status::success();
}

json::object knob_json(const EndpointKnob& knob) {
  return {{"mode", to_string(knob.mode)}, {"status", knob.failing_status}, {"delayMs", knob.delay_ms}};
}

json::array headers_json(const HeaderList& headers) {
  json::array out;
  out.reserve(headers.size());
  for (const auto& [name, value] : headers) out.push_back(json::array{json::string(name), json::string(value)});
  return out;
}

json::object stats_json(const HostState& s) {
  const auto& st = s.stats;
  json::object close_codes;
  for (const auto& [code, count] : st.close_codes_received) close_codes[std::to_string(code)] = count;
  const auto& r = s.registration;
  json::object registration{{"registered", r.registered},
                            {"backendId", r.backend_id.empty() ? json::value() : json::value(r.backend_id)},
                            {"registerAttempts", r.register_attempts},
                            {"lastRegisterStatus", r.last_register_status},
                            {"heartbeatsSent", r.heartbeats_sent},
                            {"heartbeatsFailed", r.heartbeats_failed},
                            {"lastHeartbeatStatus", r.last_heartbeat_status}};
  json::object report{{"status", s.report.status},
                      {"activeSessions", s.active_sessions()},
                      {"maxSessions", s.report.max_sessions},
                      {"cpuUsage", s.report.cpu_usage},
                      {"memoryUsage", s.report.memory_usage},
                      {"heartbeats", s.report.heartbeats_enabled}};
  return {{"serverUrl", s.server_url},
          {"connections",
           {{"tcp", st.tcp_connections},
            {"httpRequests", st.http_requests},
            {"healthRequests", st.health_requests},
            {"getConnectionRequests", st.get_connection_requests},
            {"wsAccepted", st.ws_accepted},
            {"wsRejected", st.ws_rejected},
            {"wsOpen", st.ws_open},
            {"captureOpen", st.capture_open}}},
          {"bytes", {{"in", st.bytes_in}, {"out", st.bytes_out}}},
          {"messages",
           {{"captureFrames", st.capture_frames},
            {"controlEchoed", st.control_messages},
            {"audioFrames", st.audio_frames}}},
          {"closeCodesReceived", std::move(close_codes)},
          {"health", knob_json(s.health)},
          {"getConnection", knob_json(s.get_connection)},
          {"wsRejectStatus", s.ws_reject_status},
          {"report", std::move(report)},
          {"registration", std::move(registration)}};
}

}  // namespace webstream::sim
