#include "sessions/session_id.hpp"

namespace webstream::sessions {

bool is_valid_session_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<std::string> session_id_from_header(const http::RequestContext& ctx) {
  std::string id(ctx.header("X-Session-ID"));
  if (!is_valid_session_id(id)) {
    return Error::invalid("header 'X-Session-ID' must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'");
  }
  return id;
}

Result<std::string> proxied_session_id(const http::RequestContext& ctx, SessionIdQuery query) {
  std::string id(ctx.header("X-Session-ID"));
  if (query == SessionIdQuery::kRead && id.empty()) id = ctx.query_param("sessionId");
  if (!is_valid_session_id(id)) {
    return Error::invalid(
        "a session id (X-Session-ID or ?sessionId=) of 1-128 characters of A-Z, a-z, 0-9, '_', '-' is required");
  }
  return id;
}

}  // namespace webstream::sessions
