#pragma once
// The wire form of an sessions::Resolution, as the access-management service's internal API answers
// POST /iam/internal/resolve (docs/access-management.md) and the gateway's RemoteEntitlementResolver reads it:
//   {"workspace":{"id","orgId","name","type","apps":[…],"requiredTags":[…],"requiredCapabilities":[…]},
//    "app":{"id","name","exe","args"} | null,
//    "policy":{…},
//    "orgMaxConcurrentSessions": n | null}
// Pure functions; any thread.
#include <boost/json/object.hpp>

#include "core/error.hpp"
#include "sessions/entitlement_resolver.hpp"

namespace webstream::iam {

boost::json::object resolution_to_json(const sessions::Resolution& resolution);
// Error 502 `access_management_error` naming the first missing or mistyped field.
Result<sessions::Resolution> resolution_from_json(const boost::json::object& o);

}  // namespace webstream::iam
