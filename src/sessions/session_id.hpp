#pragma once
// The session id a browser names (CONTRACT §7): 1–128 characters of [A-Za-z0-9_-]. One reader for every
// route that takes one — the session API (X-Session-ID) and the proxied routes (edge/proxy_routes.cpp: the
// header, or ?sessionId= where a WebSocket cannot set headers) — so the rule is written once; each route keeps
// the 400 message its callers have always read.
//
// Thread rules: pure functions.
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "http/types.hpp"

namespace webstream::sessions {

// 1–128 characters of [A-Za-z0-9_-].
bool is_valid_session_id(std::string_view id);

// The session API's (select, release, status): X-Session-ID, else 400 invalid_request naming the header.
Result<std::string> session_id_from_header(const http::RequestContext& ctx);

// Whether a proxied route also reads ?sessionId= (a WebSocket, which cannot set headers, when no Bearer came).
enum class SessionIdQuery { kIgnored, kRead };

// The proxied routes' (/getConnection, the WebSockets): X-Session-ID, or with kRead ?sessionId= when the header
// is absent; else 400 invalid_request naming both places (the same text whichever was read).
Result<std::string> proxied_session_id(const http::RequestContext& ctx, SessionIdQuery query);

}  // namespace webstream::sessions
