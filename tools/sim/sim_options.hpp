#pragma once
// SimOptions: webstream-sim's command line, parsed once at start-up into plain values.
// Every option has its default here and its one-line description in kSimUsage (docs/sim.md has more).
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace webstream::sim {

struct SimOptions {
  std::string gateway_url;                 // --gateway: http://host:port of the gateway's HTTP (registry) listener
  int hosts = 1;                           // --hosts: simulated session hosts in this process
  int streamers = 0;                       // --streamers: simulated streamers (licence check-ins)
  std::string bind_address = "127.0.0.1";  // --bind
  int base_port = 0;                       // --base-port: 0 = every host on an OS-picked port; else P, P+1, …
  bool register_hosts = true;              // --no-register turns registration, heartbeats and unregister off
  std::string backend_key;                 // --backend-key (or env:NAME): sent as X-Backend-Key; never printed

  // What each host reports.
  int max_sessions = 10;                         // --max-sessions
  std::string instance_type = "sim.small";       // --instance-type
  std::vector<std::string> tags;                 // --tags a,b
  std::vector<std::string> capabilities;         // --capabilities x,y
  std::string host_version = WEBSTREAM_VERSION;  // --host-version

  // Timing, in milliseconds (the command line takes seconds, fractions allowed).
  std::int64_t heartbeat_interval_ms = 10'000;  // --heartbeat-interval
  std::int64_t register_retry_ms = 30'000;      // --register-retry
  int register_attempts = 10;                   // --register-attempts
  std::int64_t checkin_interval_ms = 15'000;    // --checkin-interval
  std::int64_t request_timeout_ms = 5'000;      // --request-timeout: each call to the gateway

  // Media.
  std::size_t frame_bytes = 65536;  // --frame-bytes: size of each /capture binary message (>= 32)
  double fps = 30;                  // --fps: /capture frames per second; 0 = as fast as the reader takes them
  int audio_rate = 48000;           // --audio-rate: samples per second
  int audio_frame_ms = 20;          // --audio-frame-ms: duration of one /audio message
  double tone_hz = 440;             // --tone-hz: frequency of the /audio tone

  std::string initial_health = "healthy";  // --health healthy|failing|hanging
  std::string log_level = "info";          // --log-level debug|info|warn|error
};

extern const char* const kSimUsage;

// What the command line asks for: run, or print help/version and exit 0.
enum class SimAction { kRun, kHelp, kVersion };

struct ParsedArgs {
  SimAction action = SimAction::kRun;
  SimOptions options;
};

// Parses argv (argv[0] is skipped). Both `--name value` and `--name=value` are accepted.
// A bad value or an unknown option is an Error whose message names the option.
Result<ParsedArgs> parse_sim_args(int argc, const char* const* argv);

// Splits "a,b,,c" into {"a","b","c"} (empty items dropped, spaces around items trimmed).
std::vector<std::string> split_list(const std::string& text);

}  // namespace webstream::sim
