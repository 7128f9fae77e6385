#pragma once
// Config: app.config.xml as typed structs, one per component, every default written here once.
// load_xml.cpp fills it or throws ConfigError naming the setting and the bad value.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace webstream::config {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Strategy { kRoundRobin, kLeastConnections, kWeighted };
const char* to_string(Strategy s);

struct NamedKey {
  std::string name;
  std::string key;         // secret: never logged
  bool readwrite = false;  // mcpApiKeys only: access="readwrite"
};

struct TlsConfig {
  std::string pfx_file;    // webstreamSettings.serverPfxCertificateFile, absolute; "" = no HTTPS
  std::string pfx_secret;  // webstreamSettings.serverPfxSecret (secret)
  bool enabled() const { return !pfx_file.empty(); }
};

struct HealthCheckConfig {
  int interval_s = 10;          // probe period once Healthy and stable
  int unstable_interval_s = 1;  // probe period while Unknown / Suspect / Unreachable
  int timeout_s = 8;
  int failure_threshold = 4;
  int success_threshold = 2;
};

struct LoadBalancingConfig {
  Strategy strategy = Strategy::kLeastConnections;
  int session_affinity_timeout_s = 3600;
};

struct SessionsConfig {
  int reservation_timeout_s = 120;
  int disconnect_grace_s = 300;
};

// Section 11 limits.
struct LimitsConfig {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_header_fields = 100;
  std::size_t max_body_bytes = 64 * 1024;
  int header_timeout_s = 10;
  int body_idle_timeout_s = 30;
  int keepalive_idle_s = 60;
  std::size_t max_ws_message_bytes = 16 * 1024 * 1024;
  int backend_connect_timeout_s = 3;
  int backend_response_timeout_s = 30;
  std::size_t max_connections_per_listener = 10000;
  std::size_t max_connections_per_ip = 256;
};

struct GatewayConfig {
  bool enabled = true;
  std::string public_ip = "0.0.0.0";    // the HTTPS listener's bind address (browsers)
  std::string internal_ip = "0.0.0.0";  // the HTTP listener's (registry, /metrics); publicIP unless set
  int port = 9000;
  int https_port = 443;
  bool elevate_priority = false;
  int worker_threads = 0;         // 0: one per core
  int heartbeat_interval_s = 10;  // told to backends in the register answer
  LoadBalancingConfig load_balancing;
  HealthCheckConfig health_check;
  SessionsConfig sessions;
  LimitsConfig limits;
  std::vector<NamedKey> backend_keys;
  bool allow_link_local_backends = false;  // accept serverUrls on 169.254.0.0/16 and fe80::/10
};

enum class AccessMode { kBuiltin, kStandalone, kExternal };

struct AccessManagementConfig {
  AccessMode mode = AccessMode::kBuiltin;
  std::string url;  // for standalone/external
  int token_lifetime_s = 3600;
  // Shared secret between gateways and the -am service (internal API, proxied /iam/* calls). Required by a
  // gateway in standalone/external mode; an -am process without one refuses every internal call (401).
  std::string service_key;
  // argon2id cost of new password hashes (builtin IAM and the -am service). The default is RFC 9106's second
  // recommended option; a machine that cannot spend 64 MiB and ~0.2 s of CPU per login may go down to
  // OWASP's minimum (load_xml refuses anything below it). A stored hash keeps the parameters it was made with
  // (verification reads them from it) until its password is changed; the unknown-user dummy verification runs
  // at the configured cost, so the setting is best chosen before users are created (docs/configuration.md).
  std::size_t password_hash_memory_kib = 64 * 1024;
  int password_hash_passes = 3;
};

struct StorageConfig {
  std::string provider = "sqlite";         // "sqlite" or "postgresql" (CONTRACT §12)
  std::string path = "data/webstream.db";  // absolute after loading (sqlite)
  std::string connection;                  // postgresql: libpq connection string or URI (a secret: never logged)
};

struct LicenseConfig {
  std::string file;             // absolute after loading; "" = evaluation licence
  int streamer_timeout_s = 45;  // a streamer silent this long loses its seat (3 × the 15 s check-in)
};

struct McpConfig {
  std::string metrics_engine_url = "http://localhost:9009";
  std::vector<NamedKey> api_keys;
};

struct Config {
  std::string source_path;  // the app.config.xml it came from
  TlsConfig tls;
  GatewayConfig gateway;
  AccessManagementConfig access;
  StorageConfig storage;
  LicenseConfig license;
  McpConfig mcp;
  std::string log_level = "info";     // <logging level="debug|info|warn|error"/>
  std::vector<std::string> warnings;  // logged at start: unknown elements, risky health-check tuning
};

// Reads and validates app.config.xml. Throws ConfigError with "<file>: <setting>: <problem>".
Config load_xml(const std::string& path);
// Same, from text (tests); relative paths resolve against `base_dir`.
Config load_xml_text(const std::string& text, const std::string& base_dir, const std::string& source_name);

}  // namespace webstream::config
