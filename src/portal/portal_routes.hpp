#pragma once
// The portal's routes on the public listener: GET / (index.html) and GET /portal/{file} (the other embedded
// web files). Every answer carries the security headers below and Cache-Control: no-cache with a strong ETag,
// so a browser revalidates (If-None-Match → 304) and never runs a stale script after an upgrade.
// An unknown file answers 404 {"error":{"code":"not_found",…}}.
//
// Thread rules: the handlers read only immutable embedded data; they are safe on every worker.
#include <string_view>

#include "http/router.hpp"

namespace webstream::portal {

// No inline script or style, nothing from another origin but our own WebSockets, never framed.
inline constexpr std::string_view kContentSecurityPolicy =
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'";

// Adds GET / and GET /portal/{} with http::Exposure::kPublic.
void register_portal_routes(http::Router& router);

// The answer for embedded file `name` to `req` (200, 304 on a matching If-None-Match, or 404).
http::Response portal_file_response(std::string_view name, const http::Request& req);

}  // namespace webstream::portal
