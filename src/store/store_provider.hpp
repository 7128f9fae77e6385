#pragma once
// StoreProvider: opens every domain store on one storage backend — SQLite (one gateway, the default) or
// PostgreSQL (several gateways, CONTRACT §12). The app wires its components from a provider, the store
// test suite runs the same tests against each, and `store copy` reads one and writes the other.
//
// open_store_provider() picks the backend from config.storage: "sqlite" opens storage.path; "postgresql"
// connects to storage.connection (a secret: no error or log names its value), applies the migrations under
// a database lock and refuses a database whose schema is newer than this binary.
//
// Thread rules: the opened stores are thread-safe and block on I/O (call them through BlockingPool); the
// provider must outlive them.
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/change_feed.hpp"
#include "store/iam_store.hpp"
#include "store/key_store.hpp"
#include "store/licence_store.hpp"
#include "store/login_failure_store.hpp"
#include "store/presence_store.hpp"
#include "store/registry_store.hpp"
#include "store/revocation_log_store.hpp"
#include "store/session_store.hpp"
#include "store/token_store.hpp"

namespace webstream::store {

class StoreProvider {
 public:
  virtual ~StoreProvider() = default;
  // "sqlite" or "postgresql".
  virtual std::string name() const = 0;
  // Where the data is, for logs: the SQLite path, or "postgresql" (never the connection string).
  virtual std::string location() const = 0;

  virtual Result<std::unique_ptr<IamStore>> iam() = 0;
  virtual Result<std::unique_ptr<KeyStore>> keys() = 0;
  virtual Result<std::unique_ptr<TokenStore>> tokens() = 0;
  virtual Result<std::unique_ptr<RevocationLogStore>> revocation_log(const Clock& clock) = 0;
  virtual Result<std::unique_ptr<LoginFailureStore>> login_failures() = 0;
  virtual Result<std::unique_ptr<RegistryStore>> registry() = 0;
  virtual Result<std::unique_ptr<SessionStore>> sessions() = 0;
  virtual Result<std::unique_ptr<LicenceStore>> licence() = 0;

  // The caller's first-start work is done (IAM bootstrap, first signing key): on PostgreSQL this releases the
  // start-up lock that open_postgres_provider() took, so gateways starting together on an empty database do
  // that work one after the other — the first creates org default, admin and the key, the others find them.
  // Also released when the provider is destroyed or the process dies. No-op on SQLite.
  virtual void startup_complete() {}

  // Whether the database answered lately, for the webstream_store_up gauge; never blocks. SQLite: always
  // (its file is local: an error there is not an outage). PostgreSQL: what the last call found, refreshed by
  // a round trip every few seconds while nothing else reaches the database (so an idle gateway reports an
  // outage too, and its pool reconnects before the next request needs it).
  virtual bool reachable() const { return true; }
  // Whether other gateways may use the same store (PostgreSQL): then each gateway also reads what the others
  // write (the backend registry, revocations) instead of trusting its memory alone.
  virtual bool shared() const { return false; }
  // What other gateways changed, as a wake-up (store/change_feed.hpp): a shared store's only.
  virtual Result<std::unique_ptr<ChangeFeed>> change_feed() {
    return Error::internal("the " + name() + " store is not shared: it has no change feed");
  }
  // Gateway liveness and WebSocket presence: a shared store's only (one gateway on SQLite has no one to tell).
  virtual Result<std::unique_ptr<PresenceStore>> presence() {
    return Error::internal("the " + name() + " store is not shared: it keeps no gateway presence");
  }
};

// The SQLite provider on a file (":memory:" for tests).
Result<std::unique_ptr<StoreProvider>> open_sqlite_provider(const std::string& path);

// The PostgreSQL provider. `clock` is the gateway's (see postgres/pg_timeline.hpp); `pool_size` connections.
// Waits for the start-up lock (see startup_complete()), then migrates. Errors name `setting`
// ("storage.connection"): unreachable (503 store_unavailable), schema too new (500).
Result<std::unique_ptr<StoreProvider>> open_postgres_provider(const std::string& conninfo, const Clock& clock,
                                                              std::size_t pool_size = 4,
                                                              const std::string& setting = "storage.connection");

}  // namespace webstream::store
