#pragma once
// Gateway: builds every component from the config in dependency order, opens the listeners, and runs
// until SIGTERM/SIGINT (graceful stop) while SIGHUP reloads what can be reloaded.
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/error.hpp"

namespace webstream::app {

enum class Mode { kGateway, kAccessManagement };

class Gateway {
 public:
  Gateway(config::Config config, Mode mode);
  ~Gateway();

  // Opens the store, builds the components, binds the listeners. An error here means exit 2: the
  // message names the file, setting or port.
  Status start();
  // Blocks until a stop signal; returns the exit code (0 after a clean stop).
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace webstream::app
