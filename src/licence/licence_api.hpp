#pragma once
// The licence registry's HTTP endpoints (CONTRACT §5), internal listener only (Exposure::kInternal):
//   POST /gateway/license/streamer-checkin  {streamerGuid} → 200 {"success":true,"activeStreamers":n,"maxStreamers":m}
//        403 license_invalid | license_expired, 409 capacity_reached
//   POST /gateway/license/streamer-checkout {streamerGuid} → 200 {"success":true,"activeStreamers":n} (idempotent)
// Both: 401 unauthorized when backend keys are configured and X-Backend-Key matches none (constant-time
// compare, checked before the body is read); 400 invalid_request for a body that is not a JSON object or a
// streamerGuid that is missing, not a string or not a GUID. The 64 KiB body limit (413) is the server's.
//
// A refresh of a streamer holding a seat here is answered on the I/O thread (memory only). A new seat and a
// checkout write the store, so they run on the BlockingPool: new seats through a ClaimBatcher (many claims per
// transaction, one fsync), checkouts one transaction each.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "http/router.hpp"
#include "licence/seat_registry.hpp"
#include "runtime/blocking_pool.hpp"

namespace webstream::licence {

// The backend keys in force (hot-reloaded on SIGHUP); null or empty: no key is required.
using BackendKeySource = std::function<std::shared_ptr<const std::vector<config::NamedKey>>()>;

void register_licence_routes(http::Router& router, SeatRegistry& seats, runtime::BlockingPool& blocking,
                             BackendKeySource backend_keys);

// The canonical streamerGuid of a check-in/checkout body; 400 invalid_request naming the field otherwise.
Result<std::string> parse_streamer_body(std::string_view body);

// 401 unauthorized unless `keys` is empty or `presented` equals one of them. Every key is compared (in
// constant time) whatever matched, so the time taken does not tell which one did.
Status check_backend_key(std::string_view presented, const std::vector<config::NamedKey>& keys);

}  // namespace webstream::licence
