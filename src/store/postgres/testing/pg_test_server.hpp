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
// Under CTest every GoogleTest test is a process of its own, so "one server per binary" was one initdb and
// pg_ctl start per PostgreSQL test (about 2 s each). CTest therefore starts one server for the whole run
// (the fixture `pg_test_server.start`/`.stop`, tool pg_test_server_main.cpp) and names its state file in
// $WEBSTREAM_TEST_PG_SERVER; shared() then attaches to that server instead of starting one, and the
// Environment drops the databases this process made instead of stopping the server. Databases are named by
// process id, so test processes running side by side (ctest -j) never share one.
//
// Thread rules: shared() is thread-safe; the rest is for the test's own thread.
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace webstream::store::pg::testing {

class PgTestServer {
 public:
  // Starts a server. Error: why it could not (missing binaries, initdb/pg_ctl output tail). `durable`:
  // fsync and synchronous commit on, as in production (benchmarks); tests leave them off.
  static Result<std::unique_ptr<PgTestServer>> start(bool durable = false);
  // The binary's shared server, started on first call; the same error every call if it could not start.
  static Result<PgTestServer*> shared();
  // A server another process started and described in `state_file` (write_state); stop() on it stops
  // nothing unless take_ownership() was called.
  static Result<std::unique_ptr<PgTestServer>> attach(const std::string& state_file);
  ~PgTestServer();

  // Writes what attach() needs to `state_file` and leaves the server running when this object goes away
  // (the fixture's start step exits, the server stays up for the tests).
  Status write_state(const std::string& state_file);
  // This object stops the server and removes its dir on stop() (the fixture's stop step).
  void take_ownership() { owned_ = true; }
  bool owned() const { return owned_; }
  // Drops the databases create_database() made (DROP DATABASE … WITH (FORCE)); for an attached server.
  void drop_created_databases();

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
  bool owned_ = true;  // false: attached to a server another process owns
  std::vector<std::string> created_;
};

// A new empty database on the binary's shared server: its connection string, or why the server could not
// start ("cannot start the test PostgreSQL: …") or the database could not be made.
Result<std::string> fresh_database();

}  // namespace webstream::store::pg::testing
