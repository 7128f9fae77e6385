#pragma once
// The IAM admin commands, run against the store file without a running gateway (recovery, scripting):
//
//   webstream iam user create --username U --password-stdin [--role admin|org-admin|user]... [--org ID|NAME]
//   webstream iam user reset-password --username U --password-stdin
//   webstream iam user list
//   webstream iam user enable|disable --username U
//   webstream iam --help
//
// Passwords are read from the first line of stdin, never from the command line (it would show in `ps` and
// shell history). Without --org a user goes to org "default" (created when missing). Every change is
// audited with actor "cli". Exit codes: 0 done, 1 the store refused (exists, not found, I/O), 2 usage.
//
// A gateway running on the same store keeps serving: the store is shared safely (SQLite WAL), but its
// in-memory token cache learns of a disable or password reset made here only when a token is next
// verified afresh (at the latest when the cached token expires); restart it to be sure.
//
// Thread rules: a process entry point; blocks.
#include <iosfwd>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "iam/passwords.hpp"
#include "store/iam_store.hpp"

namespace webstream::iam {

// argv[0] is "iam" (as main passes it: run_iam_cli(argc - 1, argv + 1, path)). Opens the SQLite store at
// `store_path` (creating it), applies the IAM migrations and runs the command on stdin/stdout/stderr.
int run_iam_cli(int argc, char** argv, const std::string& store_path,
                PasswordParams passwords = PasswordParams::production());

// The command itself: `args` are the words after "iam".
int run_iam_command(const std::vector<std::string>& args, store::IamStore& store, const PasswordHasher& passwords,
                    const Clock& clock, std::istream& in, std::ostream& out, std::ostream& err);

}  // namespace webstream::iam
