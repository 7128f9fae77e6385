#pragma once
#include "store/session_store.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace webstream::store {

class SqliteSessionStore final : public SessionStore {
 public:
  // Applies the "sessions" migrations. Error names the store problem.
  static Result<std::unique_ptr<SqliteSessionStore>> open(SqliteDb& db);

  // SessionStore
  Result<ReserveOutcome> reserve(const SessionRecord& session, const ReserveLimits& limits) override;
  std::optional<SessionRecord> get(const std::string& id) override;
  Result<bool> set_state(const std::string& id, const std::string& state, Millis at) override;
  Status touch(const std::string& id, Millis at) override;
  Result<std::vector<SessionRecord>> live_sessions() override;
  Result<std::vector<std::string>> end_for_backend(const std::string& backend_id, Millis at) override;
  std::vector<SessionRecord> recent_sessions(Millis since) override;
  Result<std::string> connect_token_secret() override;

 private:
  explicit SqliteSessionStore(SqliteDb& db) : db_(db) {}
  SqliteDb& db_;
};

}  // namespace webstream::store
