#include "sim_options.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <string_view>

namespace webstream::sim {

const char* const kSimUsage =
    "usage: webstream-sim --gateway URL [options]\n"
    "       webstream-sim --no-register [options]        (plain backends, no gateway)\n"
    "\n"
    "Simulated WebStream session hosts (HTTP + WebSocket servers) and streamers.\n"
    "Prints one JSON line per host when it listens: "
    "{\"event\":\"host_ready\",\"serverUrl\":\"http://127.0.0.1:PORT\",...}\n"
    "SIGTERM/SIGINT: closes WebSockets with 1001, unregisters the hosts, checks the streamers out, exits 0.\n"
    "\n"
    "Gateway and identity:\n"
    "  --gateway URL             gateway HTTP (registry) listener, e.g. http://127.0.0.1:9000\n"
    "  --backend-key KEY         send X-Backend-Key: KEY on every registry and licence call;\n"
    "                            env:NAME reads the key from environment variable NAME\n"
    "  --no-register             do not register, heartbeat or unregister (plain backend)\n"
    "Hosts:\n"
    "  --hosts N                 number of session hosts (default 1)\n"
    "  --bind ADDR               listen address (default 127.0.0.1)\n"
    "  --base-port P             first host's port, others P+1, P+2, ...; 0 = OS-picked (default 0)\n"
    "  --max-sessions N          maxSessions reported (default 10)\n"
    "  --instance-type S         instanceType reported (default sim.small)\n"
    "  --tags a,b                tags reported\n"
    "  --capabilities x,y        capabilities reported\n"
    "  --host-version S          version reported (default: this build's version)\n"
    "  --health MODE             initial /health mode: healthy | failing | hanging (default healthy)\n"
    "Timing (seconds, fractions allowed):\n"
    "  --heartbeat-interval S    heartbeat period (default 10)\n"
    "  --register-retry S        wait between registration attempts (default 30)\n"
    "  --register-attempts N     registration attempts before giving up (default 10)\n"
    "  --request-timeout S       timeout of each call to the gateway (default 5)\n"
    "Streamers:\n"
    "  --streamers M             number of streamers, each with a random UUID (default 0)\n"
    "  --checkin-interval S      streamer check-in period (default 15)\n"
    "Media:\n"
    "  --frame-bytes N           size of each /capture frame, 32..16777216 (default 65536)\n"
    "  --fps N                   /capture frames per second; 0 = as fast as the reader takes them (default 30)\n"
    "  --audio-rate HZ           /audio sample rate (default 48000)\n"
    "  --audio-frame-ms MS       /audio message duration (default 20)\n"
    "  --tone-hz HZ              /audio tone frequency (default 440)\n"
    "Other:\n"
    "  --log-level LEVEL         debug | info | warn | error (default info)\n"
    "  --help                    this text\n"
    "  --version                 print the version\n"
    "\n"
    "Run-time knobs on every host's own port (JSON bodies): POST /sim/health, /sim/getconnection,\n"
    "/sim/status, /sim/ws-reject, /sim/register, /sim/unregister; GET /sim/stats, /sim/last-upgrade?path=P.\n"
    "See docs/sim.md.\n";

namespace {

Error bad(const std::string& option, const std::string& problem) { return Error::invalid(option + ": " + problem); }

Result<std::int64_t> to_int(const std::string& option, const std::string& v, std::int64_t min, std::int64_t max) {
  std::int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size()) return bad(option, "'" + v + "' is not an integer");
  if (out < min || out > max) {
    return bad(option, v + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
  }
  return out;
}

Result<double> to_double(const std::string& option, const std::string& v, double min, double max) {
  if (v.empty()) return bad(option, "a number is required");
  char* end = nullptr;
  errno = 0;
  const double out = std::strtod(v.c_str(), &end);
  if (errno != 0 || end != v.c_str() + v.size() || !std::isfinite(out)) {
    return bad(option, "'" + v + "' is not a number");
  }
  if (out < min || out > max) return bad(option, v + " is out of range");
  return out;
}

// Seconds (fractions allowed) to milliseconds, at least 1 ms.
Result<std::int64_t> to_ms(const std::string& option, const std::string& v) {
  auto s = to_double(option, v, 0.001, 86400.0 * 365);
  if (!s) return s.error();
  return static_cast<std::int64_t>(std::llround(*s * 1000.0));
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    const auto first = item.find_first_not_of(" \t");
    const auto last = item.find_last_not_of(" \t");
    if (first != std::string::npos) out.push_back(item.substr(first, last - first + 1));
    start = end + 1;
  }
  return out;
}

Result<ParsedArgs> parse_sim_args(int argc, const char* const* argv) {
  ParsedArgs parsed;
  SimOptions& o = parsed.options;
  using Setter = std::function<Status(const std::string& option, const std::string& value)>;
  auto int_into = [](auto& field, std::int64_t min, std::int64_t max) -> Setter {
    return [&field, min, max](const std::string& opt, const std::string& v) -> Status {
      auto r = to_int(opt, v, min, max);
      if (!r) return r.error();
      field = static_cast<std::remove_reference_t<decltype(field)>>(*r);
      return Status::success();
    };
  };
  auto ms_into = [](std::int64_t& field) -> Setter {
    return [&field](const std::string& opt, const std::string& v) -> Status {
      auto r = to_ms(opt, v);
      if (!r) return r.error();
      field = *r;
      return Status::success();
    };
  };
  auto string_into = [](std::string& field) -> Setter {
    return [&field](const std::string&, const std::string& v) -> Status {
      field = v;
      return Status::success();
    };
  };
  const std::map<std::string, Setter, std::less<>> with_value = {
      {"--gateway", string_into(o.gateway_url)},
      {"--hosts", int_into(o.hosts, 0, 1000)},
      {"--streamers", int_into(o.streamers, 0, 100000)},
      {"--bind", string_into(o.bind_address)},
      {"--base-port", int_into(o.base_port, 0, 65535)},
      {"--backend-key",
       [&o](const std::string& opt, const std::string& v) -> Status {
         if (v.rfind("env:", 0) == 0) {
           const char* env = std::getenv(v.substr(4).c_str());
           if (env == nullptr) return bad(opt, "environment variable " + v.substr(4) + " is not set");
           o.backend_key = env;
         } else {
           o.backend_key = v;
         }
         return Status::success();
       }},
      {"--max-sessions", int_into(o.max_sessions, 0, 100000)},
      {"--instance-type", string_into(o.instance_type)},
      {"--tags",
       [&o](const std::string&, const std::string& v) -> Status {
         o.tags = split_list(v);
         return {};
       }},
      {"--capabilities",
       [&o](const std::string&, const std::string& v) -> Status {
         o.capabilities = split_list(v);
         return {};
       }},
      {"--host-version", string_into(o.host_version)},
      {"--heartbeat-interval", ms_into(o.heartbeat_interval_ms)},
      {"--register-retry", ms_into(o.register_retry_ms)},
      {"--register-attempts", int_into(o.register_attempts, 1, 1000000)},
      {"--checkin-interval", ms_into(o.checkin_interval_ms)},
      {"--request-timeout", ms_into(o.request_timeout_ms)},
      {"--frame-bytes", int_into(o.frame_bytes, 32, 16 * 1024 * 1024)},
      {"--fps",
       [&o](const std::string& opt, const std::string& v) -> Status {
         auto r = to_double(opt, v, 0, 1000);
         if (!r) return r.error();
         o.fps = *r;
         return Status::success();
       }},
      {"--audio-rate", int_into(o.audio_rate, 1000, 384000)},
      {"--audio-frame-ms", int_into(o.audio_frame_ms, 1, 1000)},
      {"--tone-hz",
       [&o](const std::string& opt, const std::string& v) -> Status {
         auto r = to_double(opt, v, 1, 100000);
         if (!r) return r.error();
         o.tone_hz = *r;
         return Status::success();
       }},
      {"--health",
       [&o](const std::string& opt, const std::string& v) -> Status {
         if (v != "healthy" && v != "failing" && v != "hanging") {
           return bad(opt, "'" + v + "' is not one of healthy, failing, hanging");
         }
         o.initial_health = v;
         return Status::success();
       }},
      {"--log-level",
       [&o](const std::string& opt, const std::string& v) -> Status {
         if (v != "debug" && v != "info" && v != "warn" && v != "error") {
           return bad(opt, "'" + v + "' is not one of debug, info, warn, error");
         }
         o.log_level = v;
         return Status::success();
       }},
  };

  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      parsed.action = SimAction::kHelp;
      return parsed;
    }
    if (arg == "--version") {
      parsed.action = SimAction::kVersion;
      return parsed;
    }
    if (arg == "--no-register") {
      o.register_hosts = false;
      continue;
    }
    std::string value;
    bool has_inline_value = false;
    if (const auto eq = arg.find('='); arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_inline_value = true;
    }
    const auto it = with_value.find(arg);
    if (it == with_value.end()) return bad(arg, "unknown option (see webstream-sim --help)");
    if (!has_inline_value) {
      if (i + 1 >= argc) return bad(arg, "a value is required");
      value = argv[++i];
    }
    if (auto s = it->second(arg, value); !s) return s.error();
  }

  if (o.register_hosts || o.streamers > 0) {
    if (o.gateway_url.empty()) return bad("--gateway", "required unless --no-register and --streamers 0");
  }
  if (o.base_port != 0 && o.base_port + o.hosts - 1 > 65535) {
    return bad("--base-port", "the hosts' ports would pass 65535");
  }
  return parsed;
}

}  // namespace webstream::sim
