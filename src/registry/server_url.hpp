#pragma once
// A backend's serverUrl (CONTRACT §4): required, an absolute http(s) URL, the backend's identity. It is
// normalised once at the API so that the same backend written two ways is one backend:
//   scheme and host lower-cased, trailing '/' of the path removed ("HTTP://Host:8080/" → "http://host:8080").
// Refused (400 invalid_request naming serverUrl): not a URL, a scheme other than http/https, no host,
// user info (credentials do not belong in an identity that is logged), a query or a fragment, a bad port.
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace webstream::registry {

inline constexpr std::size_t kMaxServerUrlBytes = 2048;

Result<std::string> normalize_server_url(std::string_view url);

// The probe target for a normalised serverUrl: serverUrl + "/health".
inline std::string health_url(std::string_view server_url) { return std::string(server_url) + "/health"; }

}  // namespace webstream::registry
