#include "edge/websocket_observer.hpp"

#include "edge/proxy_routes.hpp"
#include "observability/log.hpp"

namespace webstream::edge {

bool WebSocketObserver::still_authorised() {
  const auto& session = *parts_.session;
  if (!parts_.sessions.lookup(session.record.id, session.record.user_id)) return false;
  if (!parts_.sessions.selector_still_valid(session)) return false;
  return !parts_.principal || parts_.auth.still_valid(*parts_.principal);
}

void WebSocketObserver::on_open(proxy::RelayStop /*stop*/) { parts_.sessions.websocket_opened(parts_.session); }

void WebSocketObserver::on_close() { parts_.sessions.websocket_closed(parts_.session); }

void WebSocketObserver::done(proxy::RelayOutcome outcome) {
  log::info(outcome.refused_status ? "websocket refused" : "websocket closed",
            {{"path", parts_.path},
             {"sessionId", parts_.session->record.id},
             {"status", outcome.refused_status},
             {"reason", outcome.refused_reason},
             {"clientClose", outcome.client_close},
             {"backendClose", outcome.backend_close},
             {"bytesToBackend", outcome.bytes_to_backend},
             {"bytesToClient", outcome.bytes_to_client}});
}

}  // namespace webstream::edge
