#pragma once
// PathGuard (CONTRACT §9): a path under an MCP prefix may be forwarded only if, decoded in every way a
// server behind us might decode it, it stays inside the prefix: no "." or ".." segment (also as %2e, %252e,
// or with a backslash as separator), no NUL, no encoded slash that would change the segments.
#include <string_view>

#include "core/error.hpp"

namespace webstream::mcp {

// `encoded_rest` is the raw (still percent-encoded) path after the prefix, e.g. "v1/metrics".
// OK when it is safe to forward as is; else 400 invalid_request.
Status check_forwardable_path(std::string_view encoded_rest);

}  // namespace webstream::mcp
