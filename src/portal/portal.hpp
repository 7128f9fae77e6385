#pragma once
// The portal library's public header: what the gateway's wiring needs.
//   webstream::portal::register_portal_routes(http::Router&)  — GET / and GET /portal/{file} (portal_routes.hpp)
// The embedded web files themselves are in embedded_files.hpp.
#include "portal/portal_routes.hpp"
