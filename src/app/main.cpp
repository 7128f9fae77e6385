// webstream: the WebStream Gateway binary.
//   webstream -gw | -gateway | --gateway [--config PATH]   run the Gateway
//   webstream -am | --access-management [--config PATH]     run only the IAM (access-management service for
//                                                           gateways in accessManagement.mode=standalone|external)
//   webstream iam …                                         IAM admin commands against the store
//   webstream license …                                     issue / show / keygen licence files
//   webstream config check [--config PATH]                  validate what a start would, start nothing
//   webstream store backup --to FILE [--config PATH]        online copy of the SQLite store
//   webstream store copy --from SQLITE_FILE [--config PATH] SQLite store into an empty PostgreSQL
// Start-up errors print one line on stderr and exit 2.
#include <cstdio>
#include <cstring>
#include <string>

#if WEBSTREAM_MIMALLOC
#include <mimalloc.h>
#endif
// Set on the command line by -DWEBSTREAM_IO_URING=ON (CMakeLists.txt).
#if defined(BOOST_ASIO_HAS_IO_URING) && defined(BOOST_ASIO_DISABLE_EPOLL)
#define WEBSTREAM_IO_URING 1
#include <liburing.h>
#endif

#include "app/cli_commands.hpp"
#include "app/gateway.hpp"
#include "config/config.hpp"
#include "ops/config_check.hpp"
#include "ops/store_cli.hpp"

namespace {

constexpr const char* kUsage =
    "usage: webstream -gw|-gateway|--gateway [--config PATH]\n"
    "       webstream -am|--access-management [--config PATH]\n"
    "       webstream iam <command> [options] [--config PATH]   (webstream iam --help)\n"
    "       webstream license <command> [options]              (webstream license --help)\n"
    "       webstream config check [--config PATH] [-gw|-am]   validate without starting (exit 0 or 2)\n"
    "       webstream store backup --to FILE [--config PATH]   online copy of the SQLite store (mode 0600)\n"
    "       webstream store copy --from SQLITE_FILE [--config PATH]   SQLite store into an empty PostgreSQL\n"
    "       webstream --help | --version\n"
    "\n"
    "  -gw, -gateway, --gateway   run the Gateway (HTTPS when a PFX is configured, HTTP registry port)\n"
    "  -am, --access-management   run only the IAM service: /iam/* and the internal API for gateways whose\n"
    "                             accessManagement.mode is standalone|external (docs/access-management.md)\n"
    "  --config PATH              app.config.xml to read (default: ./app.config.xml)\n"
    "  --help                     this text\n"
    "  --version                  print the version\n";

int fail(const std::string& message) {
  std::fprintf(stderr, "webstream: %s\n", message.c_str());
  return 2;
}

// A build with Asio's io_uring backend (-DWEBSTREAM_IO_URING=ON, docs/proxy.md "io_uring") has no epoll to
// fall back to: where the kernel or a seccomp filter refuses io_uring, its first socket would end the process
// with an uncaught exception. Asked once before anything starts, so the refusal is one clear line instead.
std::string io_uring_refusal() {
#if WEBSTREAM_IO_URING
  io_uring ring;
  if (const int rc = ::io_uring_queue_init(8, &ring, 0); rc < 0) {
    return std::string("this build uses io_uring (WEBSTREAM_IO_URING) and the kernel refused it: ") +
           std::strerror(-rc) + " (kernel.io_uring_disabled or a seccomp filter); run a build without it";
  }
  ::io_uring_queue_exit(&ring);
#endif
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  using webstream::app::Mode;
#if WEBSTREAM_MIMALLOC
  // Freed pages go back to the kernel 1 s after they empty instead of mimalloc's default 25 ms: with 25 ms the
  // gateway's CPU per /getConnection request measured 52-55 µs against 37-40 with 1 s in back-to-back runs,
  // and memory after a storm came back all the same (docs/proxy.md, "Memory of an idle relay").
  mi_option_set(mi_option_decommit_delay, 1000);
#endif
  if (argc >= 2 && std::strcmp(argv[1], "iam") == 0) return webstream::app::run_iam_command(argc - 1, argv + 1);
  if (argc >= 2 && (std::strcmp(argv[1], "license") == 0 || std::strcmp(argv[1], "licence") == 0)) {
    return webstream::app::run_licence_command(argc - 1, argv + 1);
  }
  if (argc >= 2 && std::strcmp(argv[1], "config") == 0) return webstream::ops::run_config_cli(argc - 1, argv + 1);
  if (argc >= 2 && std::strcmp(argv[1], "store") == 0) return webstream::ops::run_store_cli(argc - 1, argv + 1);
  std::string config_path = "app.config.xml";
  int mode = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h" || arg == "-?") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--version" || arg == "-v") {
      std::printf("webstream %s\n", WEBSTREAM_VERSION);
      return 0;
    }
    if (arg == "-gw" || arg == "-gateway" || arg == "--gateway") {
      mode = static_cast<int>(Mode::kGateway);
    } else if (arg == "-am" || arg == "--access-management" || arg == "-accessmanagement") {
      mode = static_cast<int>(Mode::kAccessManagement);
    } else if (arg == "--config" || arg == "-config") {
      if (i + 1 >= argc) return fail("--config needs a path");
      config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else {
      return fail("unknown argument '" + arg + "' (see webstream --help)");
    }
  }
  if (mode < 0) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (auto refusal = io_uring_refusal(); !refusal.empty()) return fail(refusal);
  webstream::config::Config config;
  try {
    config = webstream::config::load_xml(config_path);
  } catch (const webstream::config::ConfigError& e) {
    return fail(e.what());
  }
  if (static_cast<Mode>(mode) == Mode::kGateway && !config.gateway.enabled) {
    return fail(config_path + ": gateway.enabled is false: enable gateway mode to run webstream -gw");
  }
  webstream::app::Gateway gateway(std::move(config), static_cast<Mode>(mode));
  if (auto status = gateway.start(); !status) return fail(status.error().message);
  return gateway.run();
}
