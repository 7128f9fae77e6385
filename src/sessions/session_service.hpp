#pragma once
// SessionService: select / release / status (CONTRACT §7) and the session lookups the proxy makes.
//
// Every decision that changes counts (reserve a slot + pin) is one SessionStore transaction. Live sessions
// are also kept in an in-memory index so the proxy's per-request lookup never touches the store.
//
// Thread rules: all methods are thread-safe. Methods that write the store block (fsync): call them from
// runtime::BlockingPool, never on an I/O thread. lookup()/verify_connect_token() do not block.
#include <boost/json/object.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/principal.hpp"
#include "sessions/backend_routing.hpp"
#include "sessions/entitlement_resolver.hpp"
#include "store/presence_store.hpp"
#include "store/session_store.hpp"

namespace webstream::sessions {

using store::kConnectTokenSecretBytes;

struct SelectRequest {
  std::string workspace_id;
  std::optional<std::string> workspace_type;
  std::optional<std::string> app_id;
  std::optional<std::string> app_exe;
  std::optional<std::string> app_args;
};

// A live session as the proxy sees it: immutable identity plus counters.
struct LiveSession {
  store::SessionRecord record;  // identity fields never change after select
  std::string connect_token;
  // Whose token selected the session (user, token id, issued-at). The session lives only as long as that
  // token is good: a logout of it, or the user disabled, deleted or changing password (a cutoff after its
  // issued-at), ends the session — and with it every WebSocket, however it was opened (CONTRACT §11a). A
  // session restored after a restart has no token id; its issued-at is the session's creation.
  core::Principal selector;
  std::atomic<int> open_websockets{0};
  std::atomic<Millis> last_activity{0};
  Millis in_memory_since = 0;  // when this gateway took it into memory (set once, before it is shared)
  std::atomic<bool> active{false};
};

// Whether `token` has the form of a connect token ("ct." and the base64url of an HMAC-SHA256, 43 characters),
// whatever session it names: a cheap first check before anything is looked up.
bool is_connect_token_shaped(std::string_view token);

class SessionService {
 public:
  SessionService(const config::SessionsConfig& config, store::SessionStore& store, EntitlementResolver& resolver,
                 BackendRouting& routing, const Clock& clock);

  // Reads (or creates) the connect-token secret and loads live sessions from the store (after a restart),
  // re-counting pins per backend. Call once before anything else. Error: the secret cannot be read, created
  // or is not 32 bytes — start-up must fail (a connect token under an empty key could be forged).
  Status load();

  Result<boost::json::object> select(const core::Principal& who, const std::string& session_id,
                                     const SelectRequest& request);
  Status release(const core::Principal& who, const std::string& session_id);
  Result<boost::json::object> status(const core::Principal& who, const std::string& session_id);

  // The live session `session_id` if it belongs to `user_id`.
  std::shared_ptr<LiveSession> lookup(const std::string& session_id, const std::string& user_id) const;
  // The live session whose connect token is `token`.
  std::shared_ptr<LiveSession> lookup_by_connect_token(const std::string& session_id, const std::string& token) const;

  // Where store writes caused by proxy activity go (the blocking pool in production, inline in tests),
  // so the proxy never waits for an fsync.
  void set_background_writer(std::function<void(std::function<void()>)> writer) { writer_ = std::move(writer); }

  // Proxy activity; these never block. mark_used(): a proxied request used the session (reserved → active;
  // the state change is written in the background, activity times stay in memory).
  void mark_used(const std::shared_ptr<LiveSession>& session);
  void websocket_opened(const std::shared_ptr<LiveSession>& session);
  void websocket_closed(const std::shared_ptr<LiveSession>& session);

  // Expires reserved sessions unused for reservationTimeout and active ones with no WebSocket for
  // disconnectGrace. Returns how many expired.
  std::size_t expire_due();

  // Revocation (CONTRACT §6, §11a). `still_valid` is the token check's cheap in-memory re-check (logout,
  // user cutoffs); set once at start, before the sweeper runs.
  void set_revocation_check(std::function<bool(const core::Principal&)> still_valid) {
    still_valid_ = std::move(still_valid);
  }
  // True while the token that selected `s` is still good (always, without a revocation check).
  bool selector_still_valid(const LiveSession& s) const { return !still_valid_ || still_valid_(s.selector); }
  // Ends (state `ended`, slot freed) every live session whose selecting token is no longer good, and — at
  // most every `entitlement_recheck` — every one whose user is no longer entitled to its workspace and app
  // (the resolver answers 403/404). Blocks (store, resolver): call from the BlockingPool. Returns how many ended.
  std::size_t end_revoked(Millis entitlement_recheck = 2000);
  // IAM objects changed (users, roles, entitlements: a change notification): the next end_revoked() checks
  // entitlements whatever the time since the last check. Never blocks.
  void entitlements_changed() { entitlements_changed_.store(true); }
  // A backend unregistered: its sessions end and free their slots.
  void end_for_backend(const std::string& backend_id);

  // Several gateways on one store (CONTRACT §12): call once, before load(). Then every gateway knows every
  // live session (sync_with_store adopts those selected elsewhere, so a session works through any gateway
  // and one whose gateway died still expires) and forgets those released, expired or ended elsewhere. An
  // expiry is decided on the store's latest activity, whichever gateway wrote it, and on presence: a session
  // whose WebSockets another live gateway holds never expires here; one held by a gateway that died starts
  // its disconnectGrace at that gateway's death (store/presence_store.hpp).
  void set_shared_store(bool shared) { shared_ = shared; }
  bool shared_store() const { return shared_; }
  // Shared store: where this gateway's presence goes, under `gateway_id` (`label`: host and pid, for
  // operators). Call once, before anything else runs. Without it a shared-store gateway trusts activity alone.
  void set_presence(store::PresenceStore* presence, std::string gateway_id, std::string label);
  const std::string& gateway_id() const { return gateway_id_; }
  // Renews this gateway's liveness row with the sessions it holds WebSockets of, and declares the dead
  // gateways (logged). Every kGatewayRenewPeriod, from a store worker thread (PresenceKeeper). Blocks.
  Status renew_presence();
  // A clean stop: this gateway's presence goes (its sessions' grace starts now). Blocks.
  void leave_presence();
  // One round of the above (the sweeper runs it before each expiry pass when the store is shared). Blocks.
  Status sync_with_store();
  // The stored live session `session_id` of `user_id`, taken into memory if it was selected through another
  // gateway; nullptr when there is none. Shared store only (else: lookup). Blocks on the store.
  // An empty `user_id`: whoever's it is (the connect-token path checks the token afterwards).
  std::shared_ptr<LiveSession> adopt(const std::string& session_id, const std::string& user_id);
  // Whether `session_id` is live in this gateway's memory. Never blocks.
  bool knows(const std::string& session_id) const;

  // Counts by state for /metrics and the admin page.
  std::size_t live_count() const;
  // Live sessions by state: reserved (selected, not used yet) and active (used by /getConnection or a
  // WebSocket; it stays active through its disconnect grace).
  struct LiveCounts {
    std::size_t reserved = 0;
    std::size_t active = 0;
  };
  LiveCounts live_counts() const;
  boost::json::array describe() const;

 private:
  std::string make_connect_token(const store::SessionRecord& r) const;
  // A LiveSession for a record read from the store (a restart, or a session selected elsewhere). Call
  // with mutex_ held for writing; counts its pin.
  std::shared_ptr<LiveSession> restore_locked(store::SessionRecord r);
  Millis touch_period_ms() const;
  // Reservation timed out unused, or active with no WebSocket here for disconnectGrace.
  bool is_due(const LiveSession& s, Millis now) const;
  boost::json::object answer(const LiveSession& s) const;
  void forget(const std::string& session_id);

  const config::SessionsConfig config_;
  store::SessionStore& store_;
  EntitlementResolver& resolver_;
  BackendRouting& routing_;
  const Clock& clock_;
  std::string token_secret_;
  std::function<void(std::function<void()>)> writer_ = [](std::function<void()> work) { work(); };
  std::function<bool(const core::Principal&)> still_valid_;
  Millis last_entitlement_check_ = 0;  // end_revoked's; only the sweeper touches it
  std::atomic<bool> entitlements_changed_{false};
  bool shared_ = false;
  store::PresenceStore* presence_ = nullptr;
  std::string gateway_id_;
  std::string gateway_label_;
  // Shared store: sessions another live gateway holds WebSockets of, at the last sync (only the sweeper
  // touches it); expire_due() never expires them.
  std::unordered_map<std::string, store::SessionPresence> held_elsewhere_;

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<LiveSession>> live_;  // GUARDED_BY(mutex_)
};

}  // namespace webstream::sessions
