#include "store/postgres/pg_connection.hpp"

#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace webstream::store::pg {
namespace {

std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (auto& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

}  // namespace

Params& Params::add(double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", value);
  values_.emplace_back(std::string(buf));
  return *this;
}

Params& Params::add(const std::optional<std::int64_t>& value) {
  if (value) return add(*value);
  return add_null();
}

std::string PgResult::text(int row, int col) const {
  const char* v = PQgetvalue(r_.get(), row, col);
  return std::string(v, static_cast<std::size_t>(PQgetlength(r_.get(), row, col)));
}

std::int64_t PgResult::integer(int row, int col) const {
  if (is_null(row, col)) return 0;
  const char* v = PQgetvalue(r_.get(), row, col);
  const auto len = static_cast<std::size_t>(PQgetlength(r_.get(), row, col));
  std::int64_t out = 0;
  std::from_chars(v, v + len, out);
  return out;
}

double PgResult::real(int row, int col) const {
  if (is_null(row, col)) return 0;
  return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
}

bool PgResult::boolean(int row, int col) const {
  return !is_null(row, col) && PQgetvalue(r_.get(), row, col)[0] == 't';
}

std::optional<std::string> PgResult::opt_text(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return text(row, col);
}

std::optional<std::int64_t> PgResult::opt_integer(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return integer(row, col);
}

std::int64_t PgResult::affected() const {
  const char* n = r_ ? PQcmdTuples(r_.get()) : "";
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

std::string mask_connection_error(std::string message, const std::string& conninfo) {
  message = one_line(std::move(message));
  if (!conninfo.empty()) {
    for (auto pos = message.find(conninfo); pos != std::string::npos; pos = message.find(conninfo)) {
      message.replace(pos, conninfo.size(), "***");
    }
  }
  // libpq may quote the password back in some messages ("password=…"); never let one through.
  for (const char* key : {"password=", "password ="}) {
    for (auto pos = message.find(key); pos != std::string::npos; pos = message.find(key, pos + 1)) {
      auto end = message.find_first_of(" \"'", pos + std::char_traits<char>::length(key));
      message.replace(pos, (end == std::string::npos ? message.size() : end) - pos, "password=***");
    }
  }
  return message;
}

Result<std::unique_ptr<PgConnection>> PgConnection::open(const std::string& conninfo, std::string_view setting) {
  // Defaults a gateway needs, placed BEFORE the operator's string so that any of them it sets wins: a
  // bounded connect (an unreachable database fails the start instead of hanging it) and TCP keepalives /
  // user timeout (a database host that vanishes fails the calls in tens of seconds, not hours).
  const char* keywords[] = {"connect_timeout",
                            "keepalives_idle",
                            "keepalives_interval",
                            "keepalives_count",
                            "tcp_user_timeout",
                            "application_name",
                            "dbname",
                            nullptr};
  const char* values[] = {"10", "10", "5", "3", "30000", "webstream", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, 1);
  if (conn == nullptr) return Error::internal(std::string(setting) + ": cannot connect: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = mask_connection_error(PQerrorMessage(conn), conninfo);
    PQfinish(conn);
    Error e{503, "store_unavailable", std::string(setting) + ": cannot connect to PostgreSQL: " + why};
    e.retry_after = 5;
    return e;
  }
  std::unique_ptr<PgConnection> out(new PgConnection(conn));
  try {
    // Timestamps the stores compute are UTC epoch milliseconds; keep the session predictable.
    out->exec_script(
        "SET TIME ZONE 'UTC'; SET statement_timeout = '30s'; SET lock_timeout = '20s'; SET client_min_messages = "
        "warning");
  } catch (const PgError& e) {
    return Error::internal(std::string(setting) + ": " + mask_connection_error(e.message, conninfo));
  }
  return out;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

bool PgConnection::reset() {
  prepared_.clear();
  PQreset(conn_);
  if (!healthy()) return false;
  try {
    exec_script(
        "SET TIME ZONE 'UTC'; SET statement_timeout = '30s'; SET lock_timeout = '20s'; SET client_min_messages = "
        "warning");
  } catch (const PgError&) {
    return false;
  }
  return true;
}

void PgConnection::fail(PGresult* result) {
  PgError e;
  if (result != nullptr) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    e.sqlstate = state ? state : "";
    const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
    e.message = primary ? primary : PQresultErrorMessage(result);
    PQclear(result);
  } else {
    e.message = PQerrorMessage(conn_);
  }
  if (e.message.empty()) e.message = PQerrorMessage(conn_);
  e.message = one_line(std::move(e.message));
  e.connection_lost = !healthy() || e.sqlstate.starts_with("08") || e.sqlstate == "57P01";
  throw e;
}

const std::string& PgConnection::prepared_name(std::string_view sql) {
  auto it = prepared_.find(std::string(sql));
  if (it != prepared_.end()) return it->second;
  std::string name = "ws" + std::to_string(prepared_.size() + 1);
  PGresult* r = PQprepare(conn_, name.c_str(), std::string(sql).c_str(), 0, nullptr);
  if (r == nullptr || PQresultStatus(r) != PGRES_COMMAND_OK) fail(r);
  PQclear(r);
  return prepared_.emplace(std::string(sql), std::move(name)).first->second;
}

namespace {
struct RawParams {
  std::vector<const char*> values;
  explicit RawParams(const Params& p) {
    values.reserve(p.values().size());
    for (const auto& v : p.values()) values.push_back(v ? v->c_str() : nullptr);
  }
};
}  // namespace

PgResult PgConnection::exec(std::string_view sql, const Params& params) {
  const std::string& name = prepared_name(sql);
  RawParams raw(params);
  PGresult* r =
      PQexecPrepared(conn_, name.c_str(), static_cast<int>(raw.values.size()), raw.values.data(), nullptr, nullptr, 0);
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(r);
  return PgResult(r);
}

void PgConnection::exec_script(std::string_view sql) {
  PGresult* r = PQexec(conn_, std::string(sql).c_str());
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(r);
  PQclear(r);
}

std::vector<PgResult> PgConnection::pipeline(const std::vector<PgQuery>& queries) {
  std::vector<PgResult> out;
  if (queries.empty()) return out;
  std::vector<const std::string*> names;
  names.reserve(queries.size());
  for (const auto& q : queries) names.push_back(&prepared_name(q.sql));  // prepared outside the pipeline
  if (PQenterPipelineMode(conn_) != 1) fail(nullptr);
  struct Exit {
    PGconn* c;
    ~Exit() { PQexitPipelineMode(c); }
  } exit_guard{conn_};
  for (std::size_t i = 0; i < queries.size(); ++i) {
    RawParams raw(queries[i].params);
    if (PQsendQueryPrepared(conn_, names[i]->c_str(), static_cast<int>(raw.values.size()), raw.values.data(), nullptr,
                            nullptr, 0) != 1) {
      fail(nullptr);
    }
  }
  if (PQpipelineSync(conn_) != 1) fail(nullptr);
  std::optional<PgError> first_error;
  out.reserve(queries.size());
  // One result (then a NULL) per query, then the sync marker. Read everything before throwing so the
  // connection is left idle and usable.
  for (std::size_t i = 0; i < queries.size(); ++i) {
    PGresult* r = PQgetResult(conn_);
    if (r == nullptr) {
      if (!first_error) first_error = PgError{"", one_line(PQerrorMessage(conn_)), !healthy()};
      break;
    }
    const auto status = PQresultStatus(r);
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
      out.emplace_back(r);
    } else {
      if (!first_error && status != PGRES_PIPELINE_ABORTED) {
        try {
          fail(r);
        } catch (PgError& e) {
          first_error = std::move(e);
        }
        r = nullptr;
      }
      if (r) PQclear(r);
    }
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);  // the NULL that ends this query's results
  }
  while (PGresult* r = PQgetResult(conn_)) {
    const bool sync = PQresultStatus(r) == PGRES_PIPELINE_SYNC;
    PQclear(r);
    if (sync) break;
  }
  if (first_error) throw *first_error;
  return out;
}

}  // namespace webstream::store::pg
