#pragma once
// Sub-commands that act on files and the store instead of serving: `webstream iam …`, `webstream license …`.
namespace webstream::app {

int run_iam_command(int argc, char** argv);      // argv[0] == "iam"
int run_licence_command(int argc, char** argv);  // argv[0] == "license"

}  // namespace webstream::app
