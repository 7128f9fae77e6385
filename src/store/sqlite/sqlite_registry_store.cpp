#include "store/sqlite/sqlite_registry_store.hpp"

#include <boost/json.hpp>

namespace webstream::store {
namespace {

const std::vector<std::string> kRegistryMigrations = {
    "CREATE TABLE backends("
    " id TEXT PRIMARY KEY, server_url TEXT NOT NULL UNIQUE, max_sessions INTEGER NOT NULL,"
    " instance_type TEXT NOT NULL, ec2_instance_id TEXT NOT NULL, tags TEXT NOT NULL, capabilities TEXT NOT NULL,"
    " version TEXT NOT NULL, status TEXT NOT NULL, active_sessions INTEGER NOT NULL, cpu_usage REAL NOT NULL,"
    " memory_usage REAL NOT NULL, registered_at INTEGER NOT NULL, last_heartbeat_at INTEGER NOT NULL,"
    " owner_key TEXT NOT NULL);",
};

std::string to_json(const std::vector<std::string>& items) {
  boost::json::array a;
  for (const auto& s : items) a.emplace_back(s);
  return boost::json::serialize(a);
}

// A stored array; anything unreadable (never written by us) reads as empty rather than failing the load.
std::vector<std::string> from_json(const std::string& text) {
  std::vector<std::string> out;
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  if (ec || !v.is_array()) return out;
  for (const auto& item : v.get_array()) {
    if (item.is_string()) out.emplace_back(item.get_string());
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteRegistryStore>> SqliteRegistryStore::open(SqliteDb& db) {
  if (auto s = db.migrate("registry", kRegistryMigrations); !s) return s.error();
  return std::unique_ptr<SqliteRegistryStore>(new SqliteRegistryStore(db));
}

Status SqliteRegistryStore::upsert(const std::vector<BackendRow>& rows) {
  if (rows.empty()) return Status::success();
  return db_.transaction([&](SqliteDb& db) -> Status {
    for (const auto& r : rows) {
      // serverUrl is the identity: a row left by an older id for the same URL gives way.
      auto& stale = db.prepare("DELETE FROM backends WHERE server_url=? AND id<>?");
      stale.bind(1, r.server_url).bind(2, r.id);
      stale.run();
      auto& q = db.prepare(
          "INSERT INTO backends(id,server_url,max_sessions,instance_type,ec2_instance_id,tags,capabilities,version,"
          "status,active_sessions,cpu_usage,memory_usage,registered_at,last_heartbeat_at,owner_key) "
          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
          "ON CONFLICT(id) DO UPDATE SET server_url=excluded.server_url, max_sessions=excluded.max_sessions,"
          " instance_type=excluded.instance_type, ec2_instance_id=excluded.ec2_instance_id, tags=excluded.tags,"
          " capabilities=excluded.capabilities, version=excluded.version, status=excluded.status,"
          " active_sessions=excluded.active_sessions, cpu_usage=excluded.cpu_usage,"
          " memory_usage=excluded.memory_usage, registered_at=excluded.registered_at,"
          " last_heartbeat_at=excluded.last_heartbeat_at, owner_key=excluded.owner_key");
      q.bind(1, r.id).bind(2, r.server_url).bind(3, r.max_sessions).bind(4, r.instance_type);
      q.bind(5, r.ec2_instance_id).bind(6, to_json(r.tags)).bind(7, to_json(r.capabilities)).bind(8, r.version);
      q.bind(9, r.status).bind(10, r.active_sessions).bind(11, r.cpu_usage).bind(12, r.memory_usage);
      q.bind(13, r.registered_at).bind(14, r.last_heartbeat_at).bind(15, r.owner_key);
      q.run();
    }
    return Status::success();
  });
}

Status SqliteRegistryStore::remove(const std::string& id) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    auto& q = db.prepare("DELETE FROM backends WHERE id=?");
    q.bind(1, id);
    q.run();
    return Status::success();
  });
}

Result<std::vector<BackendRow>> SqliteRegistryStore::load_all() {
  return db_.locked([](SqliteDb& db) -> Result<std::vector<BackendRow>> {
    try {
      auto& q = db.prepare(
          "SELECT id,server_url,max_sessions,instance_type,ec2_instance_id,tags,capabilities,version,status,"
          "active_sessions,cpu_usage,memory_usage,registered_at,last_heartbeat_at,owner_key FROM backends ORDER BY id");
      std::vector<BackendRow> out;
      while (q.step()) {
        BackendRow r;
        r.id = q.text(0);
        r.server_url = q.text(1);
        r.max_sessions = q.integer(2);
        r.instance_type = q.text(3);
        r.ec2_instance_id = q.text(4);
        r.tags = from_json(q.text(5));
        r.capabilities = from_json(q.text(6));
        r.version = q.text(7);
        r.status = q.text(8);
        r.active_sessions = q.integer(9);
        r.cpu_usage = q.real(10);
        r.memory_usage = q.real(11);
        r.registered_at = q.integer(12);
        r.last_heartbeat_at = q.integer(13);
        r.owner_key = q.text(14);
        out.push_back(std::move(r));
      }
      q.reset();
      return out;
    } catch (const StoreError& e) {
      return Error::internal("store: " + e.message);
    }
  });
}

}  // namespace webstream::store
