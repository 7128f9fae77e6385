#include "app/cli_commands.hpp"

#include <cstdio>

namespace webstream::app {

int run_iam_command(int argc, char** argv) {
  std::fprintf(stderr, "webstream iam: the IAM admin commands are not built into this binary yet\n");
  return 2;
}

int run_license_command(int argc, char** argv) {
  std::fprintf(stderr, "webstream license: the licence commands are not built into this binary yet\n");
  return 2;
}

}  // namespace webstream::app
