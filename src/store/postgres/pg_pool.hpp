#pragma once
// PgPool: a small fixed pool of PgConnections to one database, and the two ways stores use it:
//   read(fn)        — fn(PgConnection&) on a leased connection, no explicit transaction;
//   transaction(fn) — BEGIN … COMMIT around fn(PgConnection&), retried from the start (fresh transaction)
//                     on a serialization failure (40001) or a deadlock (40P01), up to kMaxAttempts times.
// fn returns Status or Result<T>; an error value rolls back; a thrown PgError becomes an Error:
// 409 conflict for a unique violation, 503 store_unavailable (Retry-After) when the database is
// unreachable, 500 otherwise. A body can run more than once: its writes must be idempotent, and it must
// not act outside the database (no side effects besides its return value).
//
// A broken connection is re-established when it is next leased (the database coming back needs no
// restart); a call that finds its connection dead runs once more on a fresh one (a transaction only when the
// connection died before its COMMIT was sent: then the server rolled it back). While the database cannot be
// reached, calls answer 503 store_unavailable. reachable() is what the last call found (for the
// webstream_store_up gauge): false from a call that could not reach the database until one that did.
//
// Thread rules: any thread; acquire() blocks while every connection is leased. Every call blocks on the
// network: stores are called through runtime::BlockingPool, never on an I/O thread.
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "core/error.hpp"
#include "store/postgres/pg_connection.hpp"

namespace webstream::store::pg {

class PgPool;

// A leased connection; returns it to the pool when destroyed.
class PgLease {
 public:
  PgLease(PgPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
  PgLease(PgLease&&) = default;
  PgLease& operator=(PgLease&&) = delete;
  ~PgLease();
  PgConnection& operator*() { return *conn_; }
  PgConnection* operator->() { return conn_.get(); }

 private:
  PgPool* pool_;
  std::unique_ptr<PgConnection> conn_;
};

class PgPool {
 public:
  static constexpr int kMaxAttempts = 8;

  // Opens `size` connections (at least one; the first failure is returned, naming `setting`).
  static Result<std::unique_ptr<PgPool>> open(std::string conninfo, std::size_t size,
                                              std::string setting = "storage.connection");
  ~PgPool();

  // A connection, reconnected if it was broken. Error: 503 store_unavailable.
  Result<PgLease> acquire();

  // A read runs again once on a fresh connection when the first one turns out dead (the database restarted,
  // or the connection was terminated): reads have no effect to repeat.
  template <class F>
  auto read(F&& fn) -> decltype(fn(std::declval<PgConnection&>())) {
    for (int attempt = 1;; ++attempt) {
      auto lease = acquire();
      if (!lease) return lease.error();
      try {
        auto result = fn(**lease);
        reached();
        return result;
      } catch (const PgError& e) {
        if (!(e.connection_lost && attempt == 1)) return to_error(e);
      }
    }
  }

  template <class F>
  auto transaction(F&& fn) -> decltype(fn(std::declval<PgConnection&>())) {
    return transaction_as("BEGIN", std::forward<F>(fn));
  }
  // The same at SERIALIZABLE isolation (for bodies that decide on rows they did not lock).
  template <class F>
  auto serializable(F&& fn) -> decltype(fn(std::declval<PgConnection&>())) {
    return transaction_as("BEGIN ISOLATION LEVEL SERIALIZABLE", std::forward<F>(fn));
  }

  // The error a PgError maps to (never contains the connection string). A lost connection marks the pool
  // unreachable.
  Error to_error(const PgError& e);
  // Whether the last call reached the database (true until a call finds it unreachable). Never blocks.
  bool reachable() const { return reachable_.load(std::memory_order_relaxed); }
  // One round trip (SELECT 1) on a pooled connection, reconnecting it if needed: refreshes reachable().
  Status ping();
  const std::string& setting() const { return setting_; }
  std::size_t size() const { return size_; }

 private:
  friend class PgLease;
  PgPool(std::string conninfo, std::string setting) : conninfo_(std::move(conninfo)), setting_(std::move(setting)) {}
  void give_back(std::unique_ptr<PgConnection> conn);
  void reached() { reachable_.store(true, std::memory_order_relaxed); }
  static bool retryable(const PgError& e) {
    return e.sqlstate == kSerializationFailure || e.sqlstate == kDeadlockDetected;
  }
  static void backoff(int attempt);

  template <class F>
  auto transaction_as(const char* begin, F&& fn) -> decltype(fn(std::declval<PgConnection&>())) {
    bool reconnected = false;
    for (int attempt = 1;; ++attempt) {
      auto lease = acquire();
      if (!lease) return lease.error();
      PgConnection& c = **lease;
      bool committing = false;
      try {
        c.exec_script(begin);
        auto result = fn(c);
        committing = result.ok();
        c.exec_script(result.ok() ? "COMMIT" : "ROLLBACK");
        reached();
        return result;
      } catch (const PgError& e) {
        if (c.healthy()) {
          try {
            c.exec_script("ROLLBACK");
          } catch (const PgError&) {}
        }
        // A connection found dead before COMMIT was sent: the server rolled the transaction back, so it runs
        // again, once, on a fresh connection. Lost during COMMIT the outcome is unknown: report it (503).
        const bool retry_lost = e.connection_lost && !committing && !reconnected;
        if (retry_lost) {
          reconnected = true;
          continue;
        }
        if (!retryable(e) || attempt >= kMaxAttempts) return to_error(e);
      }
      backoff(attempt);
    }
  }

  const std::string conninfo_;
  const std::string setting_;
  std::size_t size_ = 0;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // GUARDED_BY(mutex_)
  std::atomic<bool> reachable_{true};
};

// 503 store_unavailable with Retry-After, the answer while the database cannot be reached.
Error store_unavailable(const std::string& why);

}  // namespace webstream::store::pg
