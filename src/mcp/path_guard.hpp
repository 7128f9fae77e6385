#pragma once
// PathGuard (CONTRACT §9): the path that is guarded is the path that is routed and the path that is forwarded.
// The raw request path is percent-decoded exactly once; the prefix is matched on that decoded path, and what
// goes to the server behind us is the decoded rest re-encoded once. A server that decodes it again (any number
// of times) sees the same decoded path, because the decoded path holds no '%'.
//
// Refused (400 invalid_request, never forwarded): a malformed escape; a '%' left after one decoding (multiply
// encoded); bytes that are not well-formed UTF-8 (also overlong forms such as %c0%ae); a control character or
// NUL; a backslash; a "." or ".." segment, also with servlet path parameters (".;x", "..;x"); a decoded path
// that is not under the prefix.
//
// Pure functions, no state: safe from any thread, and what a fuzz target calls.
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace webstream::mcp {

struct GuardedPath {
  std::string decoded_rest;    // the decoded path after the prefix, e.g. "v1/metrics" (route on this)
  std::string forwarded_rest;  // decoded_rest percent-encoded once (put this on the wire)
};

// `raw_path` is the request target's path exactly as received (no query), e.g. "/mcp/%61pi/v1/metrics";
// `prefix` the decoded prefix ending in '/', e.g. "/mcp/api/". Error: 400 invalid_request.
Result<GuardedPath> guard_path(std::string_view raw_path, std::string_view prefix);

// `encoded_rest` is the raw path after a prefix, e.g. "v1/metrics": OK when guard_path would pass it.
Status check_forwardable_path(std::string_view encoded_rest);

// Percent-encodes every byte of a decoded path but the unreserved characters, '/' and the sub-delimiters
// other than ';' (which servlet containers read as a path parameter).
std::string encode_path(std::string_view decoded);

}  // namespace webstream::mcp
