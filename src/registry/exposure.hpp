#pragma once
// Who can reach the registry, and where a registered backend may point (CONTRACT §4, issue 15):
//  - without backendKeys, anyone who reaches the HTTP listener can register backends, and the gateway then
//    sends users' sessions there: fine on a loopback bind, worth a warning on any other;
//  - a serverUrl on a link-local address (169.254.0.0/16, fe80::/10) names a cloud metadata service or a
//    neighbour, never a session host: the gateway would probe it and proxy to it on a caller's behalf, so
//    it is refused unless gateway.allowLinkLocalBackends says otherwise.
//
// Pure functions; any thread.
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace webstream::registry {

// True for a bind address only this machine can reach: 127.0.0.0/8, ::1, "localhost".
bool is_loopback_bind(std::string_view address);

// True when `host` (a URL host: name, dotted or legacy numeric IPv4 such as "2852039166", or a bracketed
// IPv6 literal, also IPv4-mapped) is a link-local address. Names are not resolved.
bool is_link_local_host(std::string_view host);

// 400 invalid_request naming serverUrl when the (normalised) serverUrl's host is link-local and that is not
// allowed.
Status check_server_url_target(const std::string& server_url, bool allow_link_local);

}  // namespace webstream::registry
