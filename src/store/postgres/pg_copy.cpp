#include "store/postgres/pg_copy.hpp"

namespace webstream::store::pg {
namespace {

struct Table {
  const char* name;
  const char* columns;   // the same names in both schemas
  const char* order_by;  // SQLite order that keeps PostgreSQL's seq in creation order
};

// Parents before children (foreign keys). licence_seat_count and schema_migrations are SQLite bookkeeping.
constexpr Table kTables[] = {
    {"iam_orgs", "id,name,max_sessions,created_at,updated_at", "rowid"},
    {"iam_users",
     "id,org_id,username,password_hash,roles,display_name,email,disabled,credentials_changed_at,created_at,updated_at",
     "rowid"},
    {"iam_objects", "id,type,org_id,name,doc,created_at,updated_at", "rowid"},
    {"iam_group_members", "group_id,user_id,added_at", "rowid"},
    {"iam_entitlements", "id,org_id,subject_type,subject_id,workspace_id,app_ids,policy_id,created_at,updated_at",
     "rowid"},
    {"iam_audit", "id,at,actor,actor_name,action,object_type,object_id,org_id", "seq"},
    {"signing_keys", "kid,algorithm,public_key,secret_key,created_at", "created_at, kid"},
    {"revoked_tokens", "jti,expires_at", "jti"},
    {"revocation_log", "kind,subject,value,relevant_until,at_ms", "at_ms, kind, subject"},
    {"login_failures", "scope,key,at", "rowid"},
    {"backends",
     "id,server_url,max_sessions,instance_type,ec2_instance_id,tags,capabilities,version,status,active_sessions,"
     "cpu_usage,memory_usage,registered_at,last_heartbeat_at,owner_key",
     "id"},
    {"sessions",
     "id,user_id,username,org_id,workspace_id,workspace_name,workspace_type,app_id,app_exe,app_args,policy_json,"
     "backend_id,state,created_at,last_activity_at,ended_at",
     "rowid"},
    {"session_secret", "id,secret", "id"},
    {"licence_seats", "guid,first_seen,last_seen", "guid"},
};

int column_count(const char* columns) {
  int n = 1;
  for (const char* p = columns; *p; ++p) n += *p == ',';
  return n;
}

bool sqlite_has_table(SqliteDb& db, const char* name) {
  auto& q = db.prepare("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?");
  q.bind(1, name);
  const bool found = q.step();
  q.reset();
  return found;
}

// Reads one table's rows as text parameters (NULL stays NULL; SQLite's 0/1 booleans are valid PostgreSQL
// boolean input, JSON text valid jsonb input).
std::vector<Params> read_rows(SqliteDb& db, const Table& t) {
  std::vector<Params> rows;
  const int n = column_count(t.columns);
  auto& q = db.prepare(std::string("SELECT ") + t.columns + " FROM " + t.name + " ORDER BY " + t.order_by);
  while (q.step()) {
    Params p;
    for (int i = 0; i < n; ++i) {
      if (q.is_null(i)) {
        p.add_null();
      } else {
        p.add(q.text(i));
      }
    }
    rows.push_back(std::move(p));
  }
  q.reset();
  return rows;
}

}  // namespace

Result<CopySummary> copy_sqlite_to_postgres(SqliteDb& from, PgPool& to) {
  // Read everything first under the SQLite lock (one consistent snapshot), then write in one transaction.
  std::vector<std::pair<const Table*, std::vector<Params>>> data;
  try {
    from.locked([&](SqliteDb& db) {
      db.exec_unlocked("BEGIN");
      for (const auto& t : kTables) {
        if (sqlite_has_table(db, t.name)) data.emplace_back(&t, read_rows(db, t));
      }
      db.exec_unlocked("COMMIT");
      return 0;
    });
  } catch (const StoreError& e) {
    return Error::internal("reading the SQLite store: " + e.message);
  }
  return to.transaction([&](PgConnection& c) -> Result<CopySummary> {
    // Nobody else writes while we check and copy: lock every target table.
    std::string tables;
    for (const auto& t : kTables) tables += std::string(tables.empty() ? "" : ", ") + t.name;
    c.exec_script("LOCK TABLE " + tables + " IN EXCLUSIVE MODE");
    for (const auto& t : kTables) {
      if (!c.exec(std::string("SELECT 1 FROM ") + t.name + " LIMIT 1").empty()) {
        return Error{409, "conflict",
                     std::string("the PostgreSQL database is not empty (table ") + t.name +
                         " has rows): store copy only fills an empty database"};
      }
    }
    CopySummary summary;
    for (const auto& [table, rows] : data) {
      const int n = column_count(table->columns);
      std::string sql = std::string("INSERT INTO ") + table->name + "(" + table->columns + ") VALUES(";
      for (int i = 1; i <= n; ++i) sql += (i > 1 ? ",$" : "$") + std::to_string(i);
      sql += ")";
      constexpr std::size_t kBatch = 500;
      for (std::size_t start = 0; start < rows.size(); start += kBatch) {
        std::vector<PgQuery> batch;
        for (std::size_t i = start; i < rows.size() && i < start + kBatch; ++i) batch.push_back({sql, rows[i]});
        c.pipeline(batch);
      }
      summary.tables.emplace_back(table->name, static_cast<std::int64_t>(rows.size()));
      summary.rows += static_cast<std::int64_t>(rows.size());
    }
    return summary;
  });
}

}  // namespace webstream::store::pg
