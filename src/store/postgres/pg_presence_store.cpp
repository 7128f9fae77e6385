// PostgreSQL: gateway liveness rows and WebSocket presence (store/presence_store.hpp).
//
// Every instant that decides "alive" or "dead" is the database's: kDbNow (the transaction's now(), epoch
// milliseconds) stamps a renewal and is what a renewal is compared with, so gateways whose clocks disagree
// agree on who is dead. Sessions' last_activity_at is on the same timeline (PgTimeline), so a death
// (renewed_at + kGatewayDeadAfter) can be written into it as it is.
//
// renew() is one transaction: renew this gateway's row, make its presence rows the set it holds, then declare
// the dead (delete their gateway and presence rows, and move each session they held to at least its
// holder's death). Two gateways declaring the same dead one at once: the second finds the rows gone (row
// locks). A deadlock with a select touching the same session rows is retried by the pool; every statement
// is idempotent.
#include "store/postgres/pg_stores.hpp"

namespace webstream::store::pg {
namespace {

constexpr const char* kDbNow = "(extract(epoch FROM now()) * 1000)::bigint";
constexpr std::int64_t kDeadAfterMs = std::chrono::milliseconds(kGatewayDeadAfter).count();

}  // namespace

Result<std::vector<DeadGateway>> PgPresenceStore::renew(const std::string& gateway_id, const std::string& label,
                                                        const std::vector<std::string>& holding) {
  const std::string held = encode_strings(holding);
  return pool_.transaction([&](PgConnection& c) -> Result<std::vector<DeadGateway>> {
    c.exec(std::string("INSERT INTO gateways(id,label,started_at,renewed_at) VALUES($1,$2,") + kDbNow + "," + kDbNow +
               ") ON CONFLICT(id) DO UPDATE SET renewed_at=excluded.renewed_at, label=excluded.label",
           Params().add(gateway_id).add(label));
    c.exec(
        "DELETE FROM session_presence WHERE gateway_id=$1"
        " AND session_id NOT IN (SELECT jsonb_array_elements_text($2::jsonb))",
        Params().add(gateway_id).add(held));
    c.exec(std::string("INSERT INTO session_presence(gateway_id,session_id,since)"
                       " SELECT $1, s, ") +
               kDbNow + " FROM jsonb_array_elements_text($2::jsonb) AS s ON CONFLICT DO NOTHING",
           Params().add(gateway_id).add(held));
    // The dead: gone from both tables, their sessions' grace starting at their death.
    auto q = c.exec(std::string("WITH dead AS (DELETE FROM gateways WHERE renewed_at < ") + kDbNow +
                        " - $1 RETURNING id, label, renewed_at + $1 AS died),"
                        " held AS (DELETE FROM session_presence p USING dead WHERE p.gateway_id = dead.id"
                        "  RETURNING p.gateway_id, p.session_id, dead.died),"
                        " moved AS (UPDATE sessions s SET last_activity_at = GREATEST(s.last_activity_at, h.died)"
                        "  FROM (SELECT session_id, MAX(died) AS died FROM held GROUP BY session_id) h"
                        "  WHERE s.id = h.session_id RETURNING s.id)"
                        " SELECT d.id, d.label, (SELECT COUNT(*) FROM held WHERE held.gateway_id = d.id)"
                        " FROM dead d ORDER BY d.id",
                    Params().add(kDeadAfterMs));
    // A hold() that committed after its gateway was declared (a gateway late rather than dead renews, and
    // writes its rows again): no gateway row, so it counts for nothing; removed once as old as a death.
    c.exec(std::string("DELETE FROM session_presence p WHERE p.since < ") + kDbNow +
               " - $1 AND NOT EXISTS (SELECT 1 FROM gateways g WHERE g.id = p.gateway_id)",
           Params().add(kDeadAfterMs));
    std::vector<DeadGateway> dead;
    for (int i = 0; i < q.rows(); ++i) {
      dead.push_back(DeadGateway{.id = q.text(i, 0), .label = q.text(i, 1), .sessions = q.integer(i, 2)});
    }
    return dead;
  });
}

Status PgPresenceStore::hold(const std::string& gateway_id, const std::string& session_id) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    c.exec(std::string("INSERT INTO session_presence(gateway_id,session_id,since) VALUES($1,$2,") + kDbNow +
               ") ON CONFLICT DO NOTHING",
           Params().add(gateway_id).add(session_id));
    return Status::success();
  });
}

Status PgPresenceStore::let_go(const std::string& gateway_id, const std::string& session_id, Millis at) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    const Millis skew = timeline_.skew(c);
    c.exec("DELETE FROM session_presence WHERE gateway_id=$1 AND session_id=$2",
           Params().add(gateway_id).add(session_id));
    c.exec("UPDATE sessions SET last_activity_at=GREATEST(last_activity_at, $1) WHERE id=$2",
           Params().add(at + skew).add(session_id));
    return Status::success();
  });
}

Result<std::unordered_map<std::string, SessionPresence>> PgPresenceStore::others(const std::string& gateway_id) {
  return pool_.read([&](PgConnection& c) -> Result<std::unordered_map<std::string, SessionPresence>> {
    const Millis skew = timeline_.skew(c);
    auto q = c.exec(std::string("SELECT p.session_id, bool_or(g.renewed_at >= ") + kDbNow +
                        " - $2), MAX(CASE WHEN g.renewed_at < " + kDbNow +
                        " - $2 THEN g.renewed_at + $2 END)"
                        " FROM session_presence p JOIN gateways g ON g.id = p.gateway_id"
                        " WHERE p.gateway_id <> $1 GROUP BY p.session_id",
                    Params().add(gateway_id).add(kDeadAfterMs));
    std::unordered_map<std::string, SessionPresence> out;
    for (int i = 0; i < q.rows(); ++i) {
      SessionPresence p;
      p.held = q.boolean(i, 1);
      if (!q.is_null(i, 2)) p.dead_at = q.integer(i, 2) - skew;
      out.emplace(q.text(i, 0), p);
    }
    return out;
  });
}

Status PgPresenceStore::leave(const std::string& gateway_id, Millis at) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    const Millis skew = timeline_.skew(c);
    c.exec(
        "WITH held AS (DELETE FROM session_presence WHERE gateway_id=$1 RETURNING session_id)"
        " UPDATE sessions SET last_activity_at=GREATEST(last_activity_at, $2) WHERE id IN (SELECT session_id FROM "
        "held)",
        Params().add(gateway_id).add(at + skew));
    c.exec("DELETE FROM gateways WHERE id=$1", Params().add(gateway_id));
    return Status::success();
  });
}

}  // namespace webstream::store::pg
