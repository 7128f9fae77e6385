#pragma once
// HostState: what one simulated session host knows and counts: its identity, the run-time knobs that
// /sim/* endpoints change, what it reports in heartbeats, statistics, and the headers of the last
// WebSocket upgrade per path.
// Thread rules: the sim runs one io_context thread; every coroutine touching a HostState runs on it, so
// there are no locks.
#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"

namespace webstream::sim {

using HeaderList = std::vector<std::pair<std::string, std::string>>;  // names as received, in order

// How an endpoint answers: normally, with an error status, or never (the connection stays open and silent).
enum class ResponseMode { kNormal, kFailing, kHanging };
const char* to_string(ResponseMode m);

struct EndpointKnob {
  ResponseMode mode = ResponseMode::kNormal;
  int failing_status = 503;  // status answered in kFailing mode
  int delay_ms = 0;          // wait before answering (kNormal and kFailing)
};

// Applies {"mode":"healthy|ok|failing|hanging","status":N,"delayMs":N} (every field optional) to `knob`.
Status apply_knob(EndpointKnob& knob, const boost::json::object& body);
boost::json::object knob_json(const EndpointKnob& knob);

// What heartbeats report. `active_sessions` unset: the number of open /capture connections.
struct HostReport {
  std::string status = "Ready";
  std::optional<int> active_sessions;
  int max_sessions = 10;
  double cpu_usage = 3.0;
  double memory_usage = 20.0;
  bool heartbeats_enabled = true;
};

struct UpgradeRecord {
  std::string path;
  std::string target;
  HeaderList headers;
  std::int64_t at_ms = 0;
};

struct HostStats {
  std::uint64_t tcp_connections = 0;  // accepted TCP connections
  std::uint64_t http_requests = 0;    // HTTP requests read (upgrades included)
  std::uint64_t health_requests = 0;  // GET /health received
  std::uint64_t get_connection_requests = 0;
  std::uint64_t ws_accepted = 0;   // upgrades answered with 101
  std::uint64_t ws_rejected = 0;   // upgrades refused (unknown path or /sim/ws-reject)
  std::uint64_t ws_open = 0;       // WebSockets open now
  std::uint64_t capture_open = 0;  // /capture WebSockets open now
  std::uint64_t bytes_in = 0;      // WebSocket message payload bytes received
  std::uint64_t bytes_out = 0;     // WebSocket message payload bytes sent
  std::uint64_t capture_frames = 0;
  std::uint64_t control_messages = 0;  // messages echoed on /control
  std::uint64_t audio_frames = 0;
  std::map<int, std::uint64_t> close_codes_received;  // close code → count
};

struct RegistrationState {
  bool registered = false;
  std::string backend_id;
  int register_attempts = 0;
  int last_register_status = 0;  // HTTP status of the last attempt, 0: transport error
  std::uint64_t heartbeats_sent = 0;
  std::uint64_t heartbeats_failed = 0;
  int last_heartbeat_status = 0;
};

struct HostState {
  int index = 0;
  int port = 0;
  std::string server_url;
  EndpointKnob health;
  EndpointKnob get_connection;
  int ws_reject_status = 0;  // non-zero: every upgrade answers this status instead of 101
  HostReport report;
  RegistrationState registration;
  HostStats stats;
  std::map<std::string, UpgradeRecord> last_upgrade;  // by path

  int active_sessions() const {
    return report.active_sessions ? *report.active_sessions : static_cast<int>(stats.capture_open);
  }
};

boost::json::array headers_json(const HeaderList& headers);
boost::json::object stats_json(const HostState& s);

}  // namespace webstream::sim
