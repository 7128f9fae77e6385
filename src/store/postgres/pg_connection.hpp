#pragma once
// PgConnection: one libpq connection with a per-connection cache of prepared statements, text-format
// parameters and results, and a pipeline-mode batch (libpq ≥ 14) for many independent statements in one
// round trip. Failures throw PgError (sqlstate + message) so that transaction bodies read straight; the
// pool's transaction helper (pg_pool.hpp) turns them into Error values and retries the retryable ones.
//
// The connection string is a secret (it may hold a password): it is never part of an error message or a
// log line; errors say "storage.connection" and libpq's reason with the string masked.
//
// Thread rules: one thread at a time (the pool hands a connection to one caller). Every call blocks on
// the network: never call from an I/O thread (runtime::BlockingPool).
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

namespace webstream::store::pg {

// A failed statement. sqlstate is the five-character SQLSTATE ("" when the connection itself failed).
struct PgError {
  std::string sqlstate;
  std::string message;
  bool connection_lost = false;
};

// SQLSTATEs the transaction helper retries.
inline constexpr std::string_view kSerializationFailure = "40001";
inline constexpr std::string_view kDeadlockDetected = "40P01";
inline constexpr std::string_view kUniqueViolation = "23505";

// Positional parameters ($1, $2, …) in text format; std::nullopt is SQL NULL.
class Params {
 public:
  Params() = default;
  Params& add(std::string_view text) {
    values_.emplace_back(std::string(text));
    return *this;
  }
  Params& add(const std::string& text) {
    values_.emplace_back(text);
    return *this;
  }
  Params& add(const char* text) {
    values_.emplace_back(std::string(text));
    return *this;
  }
  Params& add(std::int64_t value) {
    values_.emplace_back(std::to_string(value));
    return *this;
  }
  Params& add(int value) { return add(static_cast<std::int64_t>(value)); }
  Params& add(bool value) {
    values_.emplace_back(value ? "true" : "false");
    return *this;
  }
  Params& add(double value);
  Params& add(const std::optional<std::string>& text) {
    values_.push_back(text);
    return *this;
  }
  Params& add(const std::optional<std::int64_t>& value);
  Params& add_null() {
    values_.emplace_back(std::nullopt);
    return *this;
  }
  const std::vector<std::optional<std::string>>& values() const { return values_; }

 private:
  std::vector<std::optional<std::string>> values_;
};

// A statement's result (rows in text format).
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool empty() const { return rows() == 0; }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const;
  std::int64_t integer(int row, int col) const;  // NULL reads as 0
  double real(int row, int col) const;
  bool boolean(int row, int col) const;
  std::optional<std::string> opt_text(int row, int col) const;
  std::optional<std::int64_t> opt_integer(int row, int col) const;
  std::int64_t affected() const;  // rows changed by INSERT/UPDATE/DELETE

 private:
  std::shared_ptr<PGresult> r_;
};

// One statement of a pipeline batch.
struct PgQuery {
  std::string sql;
  Params params;
};

class PgConnection {
 public:
  // Connects (connect_timeout 10 s, TCP keepalives and a 30 s TCP user timeout unless `conninfo` says
  // otherwise). The error names `setting` (e.g. "storage.connection") and libpq's reason, never the string.
  static Result<std::unique_ptr<PgConnection>> open(const std::string& conninfo, std::string_view setting);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement through a cached prepared statement (prepared on first use on this connection).
  PgResult exec(std::string_view sql, const Params& params = {});
  // Runs SQL text (one or several statements, no parameters), e.g. a migration or BEGIN/COMMIT.
  void exec_script(std::string_view sql);
  // Sends every query in pipeline mode (one network round trip for the lot), then returns their results in
  // order. Inside a transaction they are part of it; outside one, the batch is one implicit transaction.
  // The first failing statement throws PgError (the following ones were skipped by the server).
  std::vector<PgResult> pipeline(const std::vector<PgQuery>& queries);

  // True while the socket is up (PQstatus OK).
  bool healthy() const;
  // Re-establishes a broken connection (forgets prepared statements). False if that failed.
  bool reset();
  PGconn* raw() { return conn_; }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  const std::string& prepared_name(std::string_view sql);
  [[noreturn]] void fail(PGresult* result);

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // sql → statement name
};

// libpq's message with anything that looks like the connection string's secrets removed (one line).
std::string mask_connection_error(std::string message, const std::string& conninfo);

}  // namespace webstream::store::pg
