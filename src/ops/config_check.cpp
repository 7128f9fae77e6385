#include "ops/config_check.hpp"

#include <cstdio>
#include <cstring>

#include "config/config.hpp"
#include "http/tls_context.hpp"
#include "licence/licence_file.hpp"
#include "ops/storage_check.hpp"

namespace webstream::ops {
namespace {

void check_licence(const config::Config& c, Millis now, CheckReport& report) {
  const auto check = licence::check_licence_file(c.license.file, licence::KeyRing::built_in(), now);
  const std::string where = c.source_path + ": license.file: ";
  if (check.missing_file) {
    report.warnings.push_back(where + c.license.file + " does not exist: the gateway runs the evaluation licence (" +
                              std::to_string(licence::kEvaluationStreamers) + " streamers)");
    return;
  }
  if (!check.allows_streaming()) {
    report.warnings.push_back(where + licence::to_string(check.state) + ": " + check.detail +
                              ": the gateway starts, and answers 403 to every streamer check-in");
    return;
  }
  if (check.licence && check.licence->development_key) {
    report.warnings.push_back(where + "signed with the development key " + check.licence->key_id +
                              " (tests and demos only)");
  }
}

void check_gateway_parts(const config::Config& c, CheckReport& report) {
  if (!c.gateway.enabled) {
    report.errors.push_back(c.source_path + ": gateway.enabled is false: webstream -gw would refuse to start");
  }
  if (c.tls.enabled()) {
    auto tls = http::TlsContextProvider::load(c.tls.pfx_file, c.tls.pfx_secret);
    if (!tls) {
      report.errors.push_back(c.source_path + ": webstreamSettings.serverPfxCertificateFile: " + tls.error().message);
    }
  } else {
    report.warnings.push_back(c.source_path +
                              ": webstreamSettings.serverPfxCertificateFile is not set: development mode, the HTTP "
                              "port serves browser traffic without TLS");
  }
  if (c.access.mode != config::AccessMode::kBuiltin && c.access.service_key.empty()) {
    report.errors.push_back(c.source_path +
                            ": accessManagement.serviceKey: required when accessManagement.mode is standalone or "
                            "external (the key shared with the webstream -am service)");
  }
}

}  // namespace

CheckReport check_config(const std::string& config_path, CheckMode mode, Millis now) {
  CheckReport report;
  config::Config c;
  try {
    c = config::load_xml(config_path);
  } catch (const config::ConfigError& e) {
    report.errors.push_back(e.what());
    return report;
  }
  for (const auto& w : c.warnings) report.warnings.push_back(c.source_path + ": " + w);
  if (mode == CheckMode::kGateway) {
    check_gateway_parts(c, report);
    check_licence(c, now, report);
  } else if (c.access.service_key.empty()) {
    report.warnings.push_back(c.source_path +
                              ": accessManagement.serviceKey is not set: every gateway call to the internal API "
                              "is refused (401)");
  }
  if (auto s = check_storage(c, report.warnings); !s) report.errors.push_back(s.error().message);
  return report;
}

namespace {

constexpr const char* kConfigUsage =
    "usage: webstream config check [--config PATH] [-gw|-am]\n"
    "\n"
    "  Reads app.config.xml as a start would and checks what a start opens: every setting (env: secrets\n"
    "  included), the PFX with its secret, the licence file, the store (opened read-only, or its directory\n"
    "  for a store not yet created). Starts nothing, listens on nothing, writes nothing.\n"
    "  Prints each warning and error on its own line; exits 0 when a start would go ahead, 2 when not.\n"
    "\n"
    "  --config PATH   app.config.xml to check (default: ./app.config.xml)\n"
    "  -gw             check it for webstream -gw (default)\n"
    "  -am             check it for webstream -am (the access-management service)\n";

}  // namespace

int run_config_cli(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kConfigUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "check") != 0) {
    std::fprintf(stderr, "webstream config: unknown command '%s'\n%s", argv[1], kConfigUsage);
    return 2;
  }
  std::string path = "app.config.xml";
  CheckMode mode = CheckMode::kGateway;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "--config" || arg == "-config") && i + 1 < argc) {
      path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      path = arg.substr(9);
    } else if (arg == "-gw" || arg == "-gateway" || arg == "--gateway") {
      mode = CheckMode::kGateway;
    } else if (arg == "-am" || arg == "--access-management") {
      mode = CheckMode::kAccessManagement;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kConfigUsage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "webstream config check: unknown argument '%s'\n%s", arg.c_str(), kConfigUsage);
      return 2;
    }
  }
  const auto report = check_config(path, mode, SystemClock::instance().now_ms());
  for (const auto& w : report.warnings) std::printf("warning: %s\n", w.c_str());
  std::fflush(stdout);
  for (const auto& e : report.errors) std::fprintf(stderr, "error: %s\n", e.c_str());
  if (!report.ok()) {
    std::fprintf(stderr, "config check: %s: %zu error(s): a start would exit 2\n", path.c_str(), report.errors.size());
    return 2;
  }
  std::printf("config check: %s: OK (%zu warning(s))\n", path.c_str(), report.warnings.size());
  return 0;
}

}  // namespace webstream::ops
