#include "app/cli_commands.hpp"

#include <cstring>
#include <string>
#include <vector>

#include <iostream>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "iam/iam_cli.hpp"
#include "licence/licence_cli.hpp"
#include "store/store_provider.hpp"

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
  config::Config c;
  try {
    c = config::load_xml(config_path);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "webstream: %s\n", e.what());
    return 2;
  }
  if (c.storage.provider == "sqlite") {
    rest.push_back(nullptr);
    return iam::run_iam_cli(
        static_cast<int>(rest.size() - 1), rest.data(), c.storage.path,
        iam::PasswordParams::from_settings(c.access.password_hash_memory_kib, c.access.password_hash_passes));
  }
  // PostgreSQL: the same commands on the shared database (every gateway sees the change).
  std::vector<std::string> args;
  for (std::size_t i = 1; i < rest.size(); ++i) args.emplace_back(rest[i]);
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    return iam::run_iam_cli(static_cast<int>(rest.size()), rest.data(), "");  // usage only, no store opened
  }
  auto stores = store::open_postgres_provider(c.storage.connection, SystemClock::instance(), 1);
  if (!stores) {
    std::fprintf(stderr, "webstream iam: %s: %s\n", config_path.c_str(), stores.error().message.c_str());
    return 2;
  }
  (*stores)->startup_complete();
  auto iam_store = (*stores)->iam();
  if (!iam_store) {
    std::fprintf(stderr, "webstream iam: %s\n", iam_store.error().message.c_str());
    return 1;
  }
  iam::PasswordHasher passwords(
      iam::PasswordParams::from_settings(c.access.password_hash_memory_kib, c.access.password_hash_passes));
  return iam::run_iam_command(args, **iam_store, passwords, SystemClock::instance(), std::cin, std::cout, std::cerr);
}

int run_licence_command(int argc, char** argv) { return licence::run_licence_cli(argc, argv); }

}  // namespace webstream::app
