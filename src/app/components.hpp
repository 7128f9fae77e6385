#pragma once
// Components: everything the gateway runs, owned in one place and destroyed in reverse order of
// construction (members are declared in dependency order).
#include <memory>
#include <vector>

#include "config/config.hpp"

namespace webstream::app {

struct Components {
  config::Config config;  // the settings in force (SIGHUP swaps the hot-reloadable parts)
};

}  // namespace webstream::app
