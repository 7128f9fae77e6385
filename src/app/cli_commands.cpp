#include "app/cli_commands.hpp"

#include <cstring>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "iam/iam_cli.hpp"
#include "licence/licence_cli.hpp"

namespace webstream::app {

int run_iam_command(int argc, char** argv) {
  // The store comes from --config (default ./app.config.xml), like the gateway's own; the option is taken out
  // before the IAM command sees its arguments.
  std::string config_path = "app.config.xml";
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    if ((std::strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
      config_path = argv[++i];
    } else {
      rest.push_back(argv[i]);
    }
  }
  std::string store_path;
  try {
    store_path = config::load_xml(config_path).storage.path;
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "webstream: %s\n", e.what());
    return 2;
  }
  rest.push_back(nullptr);
  return iam::run_iam_cli(static_cast<int>(rest.size() - 1), rest.data(), store_path);
}

int run_license_command(int argc, char** argv) { return licence::run_license_cli(argc, argv); }

}  // namespace webstream::app
