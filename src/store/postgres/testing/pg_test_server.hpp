#pragma once
// PgTestServer: a real, throwaway PostgreSQL for tests (never a mock). It runs Debian's initdb and pg_ctl
// (postgresql package; the server binaries are not on PATH: $WEBSTREAM_PG_BINDIR, else
// /usr/lib/postgresql/<newest>/bin) in a fresh temp dir, as an unprivileged user when the test runs as
// root (CI does; PostgreSQL refuses root): the dir is chowned to `nobody` and the commands run through
// `runuser -u nobody --`. It listens on a free 127.0.0.1 port and on a Unix socket in the temp dir, with
// fsync off (a test database need not survive power loss). stop() (or the destructor) stops the server
// (immediate mode) and deletes the dir.
//
// Use from gtest: PgTestServer::shared() starts one server per test binary on first use and a gtest
// Environment registered by this file stops it at the end; create_database() gives each test its own
// empty database. A server that cannot start is an error with the reason (tests FAIL on it, never skip:
// CI installs the package with scripts/setup.sh).
//
// Thread rules: shared() is thread-safe; the rest is for the test's own thread.
#include <memory>
#include <string>

#include "core/error.hpp"

namespace webstream::store::pg::testing {

class PgTestServer {
 public:
  // Starts a server. Error: why it could not (missing binaries, initdb/pg_ctl output tail). `durable`:
  // fsync and synchronous commit on, as in production (benchmarks); tests leave them off.
  static Result<std::unique_ptr<PgTestServer>> start(bool durable = false);
  // The binary's shared server, started on first call; the same error every call if it could not start.
  static Result<PgTestServer*> shared();
  ~PgTestServer();

  // A new empty database; returns its libpq connection string (socket in the temp dir, user postgres).
  Result<std::string> create_database();
  // The connection string for an existing database name.
  std::string conninfo(const std::string& dbname) const;
  // The same over TCP (host=127.0.0.1 port=…), for processes that are given a URI.
  std::string tcp_conninfo(const std::string& dbname) const;
  int port() const { return port_; }
  const std::string& dir() const { return dir_; }
  // Stops the server and removes its dir (idempotent).
  void stop();

 private:
  PgTestServer() = default;
  std::string dir_;
  std::string bindir_;
  int port_ = 0;
  bool running_ = false;
  bool as_nobody_ = false;
  int next_db_ = 0;
};

// A new empty database on the binary's shared server: its connection string, or why the server could not
// start ("cannot start the test PostgreSQL: …") or the database could not be made.
Result<std::string> fresh_database();

}  // namespace webstream::store::pg::testing
