// The PostgreSQL StoreProvider: one connection pool and one timeline shared by every store it opens; the
// schema is migrated (under the migration lock) before the first store is handed out.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <thread>

#include "store/postgres/pg_change_listener.hpp"
#include "store/postgres/pg_schema.hpp"
#include "store/postgres/pg_stores.hpp"
#include "store/store_provider.hpp"

namespace webstream::store {
namespace {

class PgProvider final : public StoreProvider {
 public:
  PgProvider(std::unique_ptr<pg::PgPool> pool, std::unique_ptr<pg::PgConnection> startup, const Clock& clock,
             std::string conninfo, std::string setting)
      : pool_(std::move(pool)), startup_(std::move(startup)), timeline_(clock), conninfo_(std::move(conninfo)),
        setting_(std::move(setting)), watch_([this](std::stop_token stop) { watch(stop); }) {}
  ~PgProvider() override {
    watch_.request_stop();
    watch_.join();  // before the pool it pings goes
  }
  bool reachable() const override { return pool_->reachable(); }
  bool shared() const override { return true; }
  // Closing the connection releases its session-level advisory lock.
  void startup_complete() override { startup_.reset(); }
  std::string name() const override { return "postgresql"; }
  std::string location() const override { return "postgresql"; }

  Result<std::unique_ptr<IamStore>> iam() override { return std::unique_ptr<IamStore>(new pg::PgIamStore(*pool_)); }
  Result<std::unique_ptr<KeyStore>> keys() override { return std::unique_ptr<KeyStore>(new pg::PgKeyStore(*pool_)); }
  Result<std::unique_ptr<TokenStore>> tokens() override {
    return std::unique_ptr<TokenStore>(new pg::PgTokenStore(*pool_));
  }
  Result<std::unique_ptr<RevocationLogStore>> revocation_log(const Clock& clock) override {
    return std::unique_ptr<RevocationLogStore>(new pg::PgRevocationLogStore(*pool_, clock));
  }
  Result<std::unique_ptr<LoginFailureStore>> login_failures() override {
    return std::unique_ptr<LoginFailureStore>(new pg::PgLoginFailureStore(*pool_, timeline_));
  }
  Result<std::unique_ptr<RegistryStore>> registry() override {
    return std::unique_ptr<RegistryStore>(new pg::PgRegistryStore(*pool_, timeline_));
  }
  Result<std::unique_ptr<SessionStore>> sessions() override {
    return std::unique_ptr<SessionStore>(new pg::PgSessionStore(*pool_, timeline_));
  }
  Result<std::unique_ptr<ChangeFeed>> change_feed() override {
    return std::unique_ptr<ChangeFeed>(new pg::PgChangeListener(conninfo_, setting_));
  }
  Result<std::unique_ptr<PresenceStore>> presence() override {
    return std::unique_ptr<PresenceStore>(new pg::PgPresenceStore(*pool_, timeline_));
  }
  Result<std::unique_ptr<LicenceStore>> licence() override {
    return std::unique_ptr<LicenceStore>(new pg::PgLicenceStore(*pool_, timeline_));
  }

 private:
  // Every kWatchPeriod, one SELECT 1 through the pool: keeps reachable() true to the database even when no
  // request reaches it, and reconnects a pooled connection the database dropped.
  static constexpr std::chrono::seconds kWatchPeriod{5};
  void watch(std::stop_token stop) {
    std::mutex m;
    std::condition_variable_any wake;
    std::unique_lock lock(m);
    for (;;) {
      // Returns early only when a stop is requested (the predicate never holds).
      (void)wake.wait_for(lock, stop, kWatchPeriod, [] { return false; });
      if (stop.stop_requested()) return;
      (void)pool_->ping();  // the outcome is recorded in reachable()
    }
  }

  std::unique_ptr<pg::PgPool> pool_;
  std::unique_ptr<pg::PgConnection> startup_;  // holds kStartupLockKey until startup_complete()
  pg::PgTimeline timeline_;
  const std::string conninfo_;  // a secret: never logged
  const std::string setting_;
  std::jthread watch_;  // last: starts once the members it uses exist
};

}  // namespace

Result<std::unique_ptr<StoreProvider>> open_postgres_provider(const std::string& conninfo, const Clock& clock,
                                                              std::size_t pool_size, const std::string& setting) {
  auto startup = pg::PgConnection::open(conninfo, setting);
  if (!startup) return startup.error();
  try {
    // Another gateway's first start (bootstrap, argon2 of the admin password) takes a second or so; wait for
    // it well past the pool's 20 s lock timeout, but not for ever.
    (*startup)->exec_script("SET lock_timeout = '120s'; SET statement_timeout = '120s'");
    (*startup)->exec("SELECT pg_advisory_lock($1)", pg::Params().add(pg::kStartupLockKey));
  } catch (const pg::PgError& e) {
    return Error::internal(setting + ": " + e.message);
  }
  auto pool = pg::PgPool::open(conninfo, pool_size, setting);
  if (!pool) return pool.error();
  if (auto s = pg::migrate(**pool); !s) {
    Error e = s.error();
    e.message = setting + ": " + e.message;
    return e;
  }
  return std::unique_ptr<StoreProvider>(
      new PgProvider(std::move(pool.value()), std::move(startup.value()), clock, conninfo, setting));
}

}  // namespace webstream::store
