#pragma once
// PresenceStore: which gateways of a cluster are alive, and which sessions' WebSockets each one holds
// (CONTRACT §12, "A dead gateway leaks nothing"). Only a shared store has one (PostgreSQL): one gateway on
// SQLite knows its own WebSockets and needs no one else's word.
//
// Every gateway renews its liveness row every kGatewayRenewPeriod; a row not renewed for kGatewayDeadAfter
// by the DATABASE's clock is a dead gateway (gateway clocks may disagree: no gateway's clock is compared with
// another's). A session whose WebSockets a live gateway holds is in use whatever its last written activity;
// a session held only by a dead gateway starts its disconnectGrace at that gateway's death (its last renewal
// + kGatewayDeadAfter). renew() also declares the dead ones: it moves each session they held to
// last_activity_at = GREATEST(last_activity_at, death) and deletes their rows, in one transaction, so the
// grace start is kept once the presence rows are gone.
//
// Times handed out and taken in are on the calling gateway's clock (the store maps them to the database's,
// like every other store: postgres/pg_timeline.hpp).
//
// Thread rules: thread-safe; every call blocks on the network (a store worker thread or the BlockingPool,
// never an I/O thread).
#include <chrono>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace webstream::store {

inline constexpr std::chrono::seconds kGatewayRenewPeriod{5};
inline constexpr std::chrono::seconds kGatewayDeadAfter{15};

// What the other gateways say about one session.
struct SessionPresence {
  bool held = false;   // a live gateway other than the asking one holds a WebSocket of it
  Millis dead_at = 0;  // else: the latest death of a dead, not yet declared gateway that held it (0: none)
};

// A gateway declared dead by renew().
struct DeadGateway {
  std::string id;
  std::string label;
  std::int64_t sessions = 0;  // sessions whose presence it held (their grace starts at its death)
};

class PresenceStore {
 public:
  virtual ~PresenceStore() = default;
  // Renews `gateway_id`'s row (created on first call, `label` for operators: host and pid), makes its presence
  // rows exactly `holding` (the sessions with a WebSocket open through it now), and declares dead every
  // gateway not renewed for kGatewayDeadAfter. Returns those declared dead by this call.
  virtual Result<std::vector<DeadGateway>> renew(const std::string& gateway_id, const std::string& label,
                                                 const std::vector<std::string>& holding) = 0;
  // A WebSocket of `session_id` opened through `gateway_id` (its first one there).
  virtual Status hold(const std::string& gateway_id, const std::string& session_id) = 0;
  // The last WebSocket of `session_id` through `gateway_id` closed at `at`: the presence row goes and the
  // session's last activity becomes at least `at`, in one transaction.
  virtual Status let_go(const std::string& gateway_id, const std::string& session_id, Millis at) = 0;
  // Every session some OTHER gateway holds or held when it died (not yet declared), by session id.
  virtual Result<std::unordered_map<std::string, SessionPresence>> others(const std::string& gateway_id) = 0;
  // A clean stop: `gateway_id`'s sessions get last activity `at` and its rows go.
  virtual Status leave(const std::string& gateway_id, Millis at) = 0;
};

}  // namespace webstream::store
