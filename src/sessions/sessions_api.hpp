#pragma once
// The browser's session endpoints (CONTRACT §7): POST /gateway/session/select, POST /release,
// GET /status. Each needs a valid Bearer token (401) and an X-Session-ID header (400: sessions/session_id.hpp).
#include <functional>

#include "core/principal.hpp"
#include "http/router.hpp"
#include "runtime/blocking_pool.hpp"
#include "sessions/session_service.hpp"

namespace webstream::sessions {

using Authenticate = std::function<Result<core::Principal>(const http::RequestContext&)>;

// The body of POST /gateway/session/select (exposed for tests and the fuzz target): 400 naming the field.
Result<SelectRequest> parse_select(std::string_view body);

void register_session_routes(http::Router& router, SessionService& service, runtime::BlockingPool& blocking,
                             Authenticate authenticate);

}  // namespace webstream::sessions
