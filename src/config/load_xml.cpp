// app.config.xml → Config. Every setting is read once here, with its default from config.hpp, and
// validated; a bad value throws ConfigError naming the file, the dotted setting and the value.
#include <pugixml.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "config/config.hpp"

namespace webstream::config {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// Reads the settings of one element: each name may be an attribute or a child element. Remembers what
// was read so the rest can be reported as unknown.
class Section {
 public:
  Section(pugi::xml_node node, std::string path, const std::string& file, std::vector<std::string>& warnings)
      : node_(node), path_(std::move(path)), file_(file), warnings_(warnings) {}

  bool present() const { return static_cast<bool>(node_); }
  pugi::xml_node node() const { return node_; }

  std::optional<std::string> raw(const std::string& name) {
    known_.insert(name);
    if (!node_) return std::nullopt;
    if (auto a = node_.attribute(name.c_str())) return std::string(a.value());
    if (auto c = node_.child(name.c_str())) return trim(c.text().as_string());
    return std::nullopt;
  }

  std::string string(const std::string& name, std::string fallback) {
    auto v = raw(name);
    return v ? *v : fallback;
  }

  // A secret: "env:NAME" reads the environment variable NAME.
  std::string secret(const std::string& name) {
    auto v = raw(name);
    if (!v) return "";
    if (v->rfind("env:", 0) == 0) {
      const std::string var = v->substr(4);
      const char* value = std::getenv(var.c_str());
      if (!value) fail(name, "environment variable " + var + " is not set");
      return value;
    }
    return *v;
  }

  bool boolean(const std::string& name, bool fallback) {
    auto v = raw(name);
    if (!v) return fallback;
    const auto l = lower(trim(*v));
    if (l == "true" || l == "1" || l == "yes") return true;
    if (l == "false" || l == "0" || l == "no") return false;
    fail(name, "'" + *v + "' is not true or false");
  }

  long integer(const std::string& name, long fallback, long min, long max) {
    auto v = raw(name);
    if (!v) return fallback;
    const auto t = trim(*v);
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(t.c_str(), &end, 10);
    if (t.empty() || errno != 0 || *end != '\0') fail(name, "'" + *v + "' is not a whole number");
    if (n < min || n > max) {
      fail(name, "'" + *v + "' is out of range (" + std::to_string(min) + ".." + std::to_string(max) + ")");
    }
    return n;
  }

  Section child(const std::string& name) {
    known_.insert(name);
    return Section(node_ ? node_.child(name.c_str()) : pugi::xml_node(), path_ + "." + name, file_, warnings_);
  }

  [[noreturn]] void fail(const std::string& name, const std::string& problem) const {
    throw ConfigError(file_ + ": " + path_ + "." + name + ": " + problem);
  }

  // Warns about attributes and child elements nobody read.
  void warn_unknown(const std::set<std::string>& also_known = {}) {
    if (!node_) return;
    for (auto a : node_.attributes()) {
      if (!known_.count(a.name()) && !also_known.count(a.name())) {
        warnings_.push_back("unknown setting " + path_ + "." + a.name() + " ignored");
      }
    }
    for (auto c : node_.children()) {
      if (c.type() != pugi::node_element) continue;
      if (!known_.count(c.name()) && !also_known.count(c.name())) {
        warnings_.push_back("unknown element " + path_ + "." + c.name() + " ignored");
      }
    }
  }

 private:
  pugi::xml_node node_;
  std::string path_;
  const std::string& file_;
  std::vector<std::string>& warnings_;
  std::set<std::string> known_;
};

std::string resolve_path(const std::string& value, const std::string& base_dir) {
  if (value.empty()) return value;
  fs::path p(value);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(base_dir) / p).lexically_normal().string();
}

// OWASP Password Storage Cheat Sheet, argon2id: the five equivalent minimum configurations (memory in KiB,
// passes), p=1. A setting passes when it has at least the memory and the passes of one of them.
struct Argon2idMinimum {
  std::size_t memory_kib;
  int passes;
};
constexpr Argon2idMinimum kOwaspArgon2idMinimums[] = {{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5}};

bool meets_owasp_argon2id_minimum(std::size_t memory_kib, int passes) {
  for (const auto& line : kOwaspArgon2idMinimums) {
    if (memory_kib >= line.memory_kib && passes >= line.passes) return true;
  }
  return false;
}

// "47104 x 1, 19456 x 2, ...": the minimums as an error message names them.
std::string owasp_argon2id_minimums_text() {
  std::string text;
  for (const auto& line : kOwaspArgon2idMinimums) {
    if (!text.empty()) text += ", ";
    text += std::to_string(line.memory_kib) + " x " + std::to_string(line.passes);
  }
  return text;
}

bool is_ip_address(const std::string& s) {
  // Accept dotted IPv4 and any text with ':' as IPv6 (the listener reports a bad one naming the setting).
  if (s.find(':') != std::string::npos) return true;
  int parts = 0;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, '.')) {
    if (part.empty() || part.size() > 3 || part.find_first_not_of("0123456789") != std::string::npos) return false;
    if (std::stoi(part) > 255) return false;
    ++parts;
  }
  return parts == 4 && s.back() != '.';
}

// <backendKeys>/<mcpApiKeys>: a list of <add name="…" key="…" [access="read|readwrite"]/>.
std::vector<NamedKey> read_keys(Section& list, const std::string& file, std::vector<std::string>& warnings,
                                bool with_access) {
  std::vector<NamedKey> keys;
  if (!list.present()) return keys;
  std::set<std::string> names;
  for (auto add : list.node().children()) {
    if (add.type() != pugi::node_element) continue;
    if (std::string(add.name()) != "add") {
      warnings.push_back("unknown element in key list: " + std::string(add.name()) + " ignored");
      continue;
    }
    Section entry(add, std::string(list.node().name()) + ".add", file, warnings);
    NamedKey k;
    k.name = entry.string("name", "");
    k.key = entry.secret("key");
    if (k.name.empty()) entry.fail("name", "is required");
    if (k.key.empty()) entry.fail("key", "is required for key '" + k.name + "'");
    if (k.key.size() < 16) entry.fail("key", "key '" + k.name + "' is shorter than 16 characters");
    if (!names.insert(k.name).second) entry.fail("name", "'" + k.name + "' is listed twice");
    if (with_access) {
      const auto access = lower(entry.string("access", "read"));
      if (access == "readwrite") {
        k.readwrite = true;
      } else if (access != "read") {
        entry.fail("access", "'" + access + "' is not read or readwrite");
      }
    }
    entry.warn_unknown();
    keys.push_back(std::move(k));
  }
  return keys;
}

Config parse(const pugi::xml_document& doc, const std::string& base_dir, const std::string& file) {
  Config c;
  c.source_path = file;
  auto root = doc.child("configuration");
  if (!root) throw ConfigError(file + ": the root element must be <configuration>");
  Section top(root, "configuration", file, c.warnings);

  Section ws = top.child("webstreamSettings");
  c.tls.pfx_file = resolve_path(ws.string("serverPfxCertificateFile", ""), base_dir);
  c.tls.pfx_secret = ws.secret("serverPfxSecret");
  ws.warn_unknown();

  Section gw = top.child("gateway");
  auto& g = c.gateway;
  g.enabled = gw.boolean("enabled", g.enabled);
  g.public_ip = gw.string("publicIP", g.public_ip);
  if (!is_ip_address(g.public_ip)) gw.fail("publicIP", "'" + g.public_ip + "' is not an IP address");
  // The HTTP listener (registry, licence check-ins, /metrics) may bind an internal address apart from HTTPS.
  g.internal_ip = gw.string("internalIP", g.public_ip);
  if (!is_ip_address(g.internal_ip)) gw.fail("internalIP", "'" + g.internal_ip + "' is not an IP address");
  g.port = static_cast<int>(gw.integer("port", g.port, 0, 65535));
  g.https_port = static_cast<int>(gw.integer("httpsPort", g.https_port, 0, 65535));
  g.elevate_priority = gw.boolean("elevateGatewayPriority", g.elevate_priority);
  g.allow_link_local_backends = gw.boolean("allowLinkLocalBackends", g.allow_link_local_backends);
  g.worker_threads = static_cast<int>(gw.integer("workerThreads", g.worker_threads, 0, 256));
  g.heartbeat_interval_s = static_cast<int>(gw.integer("heartbeatInterval", g.heartbeat_interval_s, 1, 3600));

  Section lb = gw.child("loadBalancing");
  const auto strategy = lower(lb.string("strategy", to_string(g.load_balancing.strategy)));
  if (strategy == "roundrobin") {
    g.load_balancing.strategy = Strategy::kRoundRobin;
  } else if (strategy == "leastconnections") {
    g.load_balancing.strategy = Strategy::kLeastConnections;
  } else if (strategy == "weighted") {
    g.load_balancing.strategy = Strategy::kWeighted;
  } else {
    lb.fail("strategy", "'" + strategy + "' is not RoundRobin, LeastConnections or Weighted");
  }
  g.load_balancing.session_affinity_timeout_s =
      static_cast<int>(lb.integer("sessionAffinityTimeout", g.load_balancing.session_affinity_timeout_s, 0, 31536000));
  lb.warn_unknown();

  Section hc = gw.child("healthCheck");
  auto& h = g.health_check;
  h.interval_s = static_cast<int>(hc.integer("interval", h.interval_s, 1, 3600));
  h.unstable_interval_s = static_cast<int>(hc.integer("unstableInterval", h.unstable_interval_s, 1, 3600));
  h.timeout_s = static_cast<int>(hc.integer("timeout", h.timeout_s, 1, 600));
  h.failure_threshold = static_cast<int>(hc.integer("failureThreshold", h.failure_threshold, 1, 100));
  h.success_threshold = static_cast<int>(hc.integer("successThreshold", h.success_threshold, 1, 100));
  hc.warn_unknown();
  if (h.timeout_s < 6) {
    c.warnings.push_back("gateway.healthCheck.timeout is " + std::to_string(h.timeout_s) +
                         " s: keep it >= 6 s so a backend busy with login provisioning is not flapped out of routing");
  }
  if (h.failure_threshold < 3) {
    c.warnings.push_back("gateway.healthCheck.failureThreshold is " + std::to_string(h.failure_threshold) +
                         ": keep it >= 3 so a backend busy with login provisioning is not flapped out of routing");
  }

  Section se = gw.child("sessions");
  g.sessions.reservation_timeout_s =
      static_cast<int>(se.integer("reservationTimeout", g.sessions.reservation_timeout_s, 1, 86400));
  g.sessions.disconnect_grace_s =
      static_cast<int>(se.integer("disconnectGrace", g.sessions.disconnect_grace_s, 0, 86400));
  se.warn_unknown();

  Section li = gw.child("limits");
  auto& l = g.limits;
  l.max_header_bytes =
      static_cast<std::size_t>(li.integer("maxHeaderBytes", static_cast<long>(l.max_header_bytes), 1024, 1 << 20));
  l.max_header_fields =
      static_cast<std::size_t>(li.integer("maxHeaderFields", static_cast<long>(l.max_header_fields), 8, 10000));
  l.max_body_bytes =
      static_cast<std::size_t>(li.integer("maxBodyBytes", static_cast<long>(l.max_body_bytes), 1024, 64L << 20));
  l.header_timeout_s = static_cast<int>(li.integer("headerTimeout", l.header_timeout_s, 1, 3600));
  l.body_idle_timeout_s = static_cast<int>(li.integer("bodyIdleTimeout", l.body_idle_timeout_s, 1, 3600));
  l.keepalive_idle_s = static_cast<int>(li.integer("keepAliveIdle", l.keepalive_idle_s, 1, 3600));
  l.max_ws_message_bytes = static_cast<std::size_t>(
      li.integer("maxWebSocketMessageBytes", static_cast<long>(l.max_ws_message_bytes), 1024, 256L << 20));
  l.backend_connect_timeout_s =
      static_cast<int>(li.integer("backendConnectTimeout", l.backend_connect_timeout_s, 1, 600));
  l.backend_response_timeout_s =
      static_cast<int>(li.integer("backendResponseTimeout", l.backend_response_timeout_s, 1, 3600));
  l.max_connections_per_listener = static_cast<std::size_t>(
      li.integer("maxConnectionsPerListener", static_cast<long>(l.max_connections_per_listener), 1, 1000000));
  l.max_connections_per_ip = static_cast<std::size_t>(
      li.integer("maxConnectionsPerIp", static_cast<long>(l.max_connections_per_ip), 1, 1000000));
  li.warn_unknown();

  Section bk = gw.child("backendKeys");
  g.backend_keys = read_keys(bk, file, c.warnings, false);
  gw.warn_unknown();

  Section am = top.child("accessManagement");
  const auto mode = lower(am.string("mode", "builtin"));
  if (mode == "builtin") {
    c.access.mode = AccessMode::kBuiltin;
  } else if (mode == "standalone") {
    c.access.mode = AccessMode::kStandalone;
  } else if (mode == "external") {
    c.access.mode = AccessMode::kExternal;
  } else {
    am.fail("mode", "'" + mode + "' is not builtin, standalone or external");
  }
  c.access.url = am.string("url", "");
  if (c.access.mode != AccessMode::kBuiltin && c.access.url.rfind("http://", 0) != 0 &&
      c.access.url.rfind("https://", 0) != 0) {
    am.fail("url", "an http(s) URL is required when mode is " + mode);
  }
  c.access.token_lifetime_s = static_cast<int>(am.integer("tokenLifetime", c.access.token_lifetime_s, 60, 86400 * 7));
  c.access.service_key = am.secret("serviceKey");
  if (!c.access.service_key.empty() && c.access.service_key.size() < 16) {
    am.fail("serviceKey", "must be at least 16 characters");  // never echo the value
  }
  c.access.password_hash_memory_kib = static_cast<std::size_t>(
      am.integer("passwordHashMemory", static_cast<long>(c.access.password_hash_memory_kib), 7 * 1024, 4L << 20));
  c.access.password_hash_passes =
      static_cast<int>(am.integer("passwordHashPasses", c.access.password_hash_passes, 1, 16));
  if (!meets_owasp_argon2id_minimum(c.access.password_hash_memory_kib, c.access.password_hash_passes)) {
    am.fail("passwordHashMemory", "with passwordHashPasses=" + std::to_string(c.access.password_hash_passes) +
                                      " is below OWASP's argon2id minimum (memory KiB x passes, one of: " +
                                      owasp_argon2id_minimums_text() + ")");
  }
  am.warn_unknown();

  Section st = top.child("storage");
  c.storage.provider = lower(st.string("provider", c.storage.provider));
  if (c.storage.provider == "postgres") c.storage.provider = "postgresql";
  if (c.storage.provider != "sqlite" && c.storage.provider != "postgresql") {
    st.fail("provider", "'" + c.storage.provider + "' is not supported (sqlite, postgresql)");
  }
  c.storage.path = resolve_path(st.string("path", c.storage.path), base_dir);
  if (c.storage.path.empty()) st.fail("path", "must not be empty");
  c.storage.connection = st.secret("connection");  // never echoed: it may hold a password
  if (c.storage.provider == "postgresql" && c.storage.connection.empty()) {
    st.fail("connection", "must name the PostgreSQL database (a libpq connection string or URI, or env:NAME)");
  }
  st.warn_unknown();

  Section lic = top.child("license");
  c.license.file = resolve_path(lic.string("file", ""), base_dir);
  c.license.streamer_timeout_s =
      static_cast<int>(lic.integer("streamerTimeout", c.license.streamer_timeout_s, 5, 3600));
  lic.warn_unknown();

  Section mcp = top.child("mcp");
  c.mcp.metrics_engine_url = mcp.string("metricsEngineUrl", c.mcp.metrics_engine_url);
  if (c.mcp.metrics_engine_url.rfind("http://", 0) != 0 && c.mcp.metrics_engine_url.rfind("https://", 0) != 0) {
    mcp.fail("metricsEngineUrl", "'" + c.mcp.metrics_engine_url + "' is not an http(s) URL");
  }
  mcp.warn_unknown();

  Section keys = top.child("mcpApiKeys");
  c.mcp.api_keys = read_keys(keys, file, c.warnings, true);

  Section logging = top.child("logging");
  const auto level = lower(logging.string("level", "info"));
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    logging.fail("level", "'" + level + "' is not debug, info, warn or error");
  }
  c.log_level = level;
  logging.warn_unknown();

  top.warn_unknown({"appSettings", "startup", "system.web", "runtime", "configSections"});
  return c;
}

}  // namespace

const char* to_string(Strategy s) {
  switch (s) {
    case Strategy::kRoundRobin: return "RoundRobin";
    case Strategy::kLeastConnections: return "LeastConnections";
    case Strategy::kWeighted: return "Weighted";
  }
  return "LeastConnections";
}

Config load_xml_text(const std::string& text, const std::string& base_dir, const std::string& source_name) {
  pugi::xml_document doc;
  auto parsed = doc.load_string(text.c_str());
  if (!parsed) {
    throw ConfigError(source_name + ": not well-formed XML at offset " + std::to_string(parsed.offset) + ": " +
                      parsed.description());
  }
  return parse(doc, base_dir, source_name);
}

Config load_xml(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path + ": cannot read the configuration file");
  std::stringstream text;
  text << in.rdbuf();
  const auto dir = fs::absolute(fs::path(path)).parent_path().string();
  return load_xml_text(text.str(), dir, path);
}

}  // namespace webstream::config
