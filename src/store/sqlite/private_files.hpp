#pragma once
// Files and directories that hold secrets (CONTRACT §11a): the SQLite store holds the token-signing private
// key, the password hashes and the connect-token secret, so the gateway creates it mode 0600 and the
// directories it makes for it 0700 — set explicitly at creation, whatever the process umask. SQLite creates
// the store's -wal and -shm files with the main file's mode, so they follow.
//
// Thread rules: plain file-system calls; any thread (they block: start-up and CLI only).
#include <string>

#include "core/error.hpp"

namespace webstream::store {

// Creates every missing directory of `dir` (like mkdir -p) with mode 0700; existing ones are left as they
// are. Error names the directory that could not be made.
Status create_private_directories(const std::string& dir);

// Creates `path` empty with mode 0600 when it does not exist (never follows a symbolic link it would
// create through). Answers whether an already existing file is readable or writable by group or others
// (false for a file created now). Error: it cannot be created or examined (names the file).
Result<bool> create_private_file(const std::string& path);

// True when `path` exists and group or others may read or write it (false when it does not exist).
bool readable_by_others(const std::string& path);

}  // namespace webstream::store
