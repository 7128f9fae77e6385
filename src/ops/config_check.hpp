#pragma once
// `webstream config check`: everything a start would validate, without starting anything.
//
// check_config() reads app.config.xml exactly as a start does (config::load_xml: every setting, env: secrets),
// then opens what a start opens without serving or writing: the PFX with its secret (gateway mode with a PFX),
// the licence file against the keys built into this binary, and the store (storage_check.hpp: SQLite is opened
// read-only, or its directory is checked for a file that does not exist yet). Listening ports are not tried:
// a running gateway, whose reload runs this check first, holds them itself.
//
// Errors are what makes a start exit 2; warnings are what a start would log as warnings (unknown settings,
// risky health-check tuning, development mode, a licence that refuses every check-in). No message holds a
// secret: they name settings and files.
//
// Thread rules: a pure function of the file system, the environment and `now`.
#include <string>
#include <vector>

#include "core/clock.hpp"

namespace webstream::ops {

enum class CheckMode { kGateway, kAccessManagement };  // which start to check: webstream -gw or webstream -am

struct CheckReport {
  std::vector<std::string> errors;    // each one line naming the file and setting
  std::vector<std::string> warnings;  // each one line
  bool ok() const { return errors.empty(); }
};

CheckReport check_config(const std::string& config_path, CheckMode mode, Millis now);

// The command line: webstream config check [--config PATH] [-gw|-am]. argv[0] is "config".
// Prints each warning and error on its own line, then a summary; returns 0 (startable) or 2.
int run_config_cli(int argc, char** argv);

}  // namespace webstream::ops
