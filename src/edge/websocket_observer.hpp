#pragma once
// The gateway's side of one proxied WebSocket (CONTRACT §8, §11a): what proxy::start_relay asks and tells
// about it. One object per relay holds everything the relay needs of the gateway for its whole life (the
// session, the caller's principal, the connection ticket), so an open relay costs one heap block here instead
// of a closure per hook (docs/proxy.md, "Memory of an idle relay"). The graceful stop (1001) is not here: the
// relays of a thread register with the Lifecycle once, through RelayOptions::lifecycle.
#include <memory>
#include <string>

#include "core/principal.hpp"
#include "proxy/ws_relay.hpp"
#include "sessions/session_service.hpp"

namespace webstream::edge {

struct EdgeAuth;

class WebSocketObserver final : public proxy::RelayObserver {
 public:
  struct Parts {
    sessions::SessionService& sessions;
    const EdgeAuth& auth;
    std::shared_ptr<sessions::LiveSession> session;
    std::shared_ptr<const core::Principal> principal;  // null for a connect token: the selector's check reaches it
    std::shared_ptr<void> connection_ticket;           // keeps the connection counted against the listener caps
    std::string path;                                  // for the log line
  };
  explicit WebSocketObserver(Parts parts) : parts_(std::move(parts)) {}

  // The session still live (the sweeper ends it on revocation or a removed entitlement), the token that
  // selected it still good, and a JWT's user still allowed in.
  bool still_authorised() override;
  // Counts the WebSocket on the session (its presence on this gateway).
  void on_open(proxy::RelayStop stop) override;
  void on_close() override;
  // The log line: "websocket refused" or "websocket closed" with the close codes and byte counts.
  void done(proxy::RelayOutcome outcome) override;

 private:
  Parts parts_;
};

}  // namespace webstream::edge
