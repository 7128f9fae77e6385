#include "proxy/header_policy.hpp"

#include <array>
#include <cctype>

#include "core/encoding.hpp"

namespace webstream::proxy {
namespace {

// Header names compare case-insensitively with '_' equal to '-' (see the header comment).
char fold(char c) {
  if (c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  if (c == '_') return '-';
  return c;
}

bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

bool has_prefix(std::string_view name, std::string_view lower_prefix) {
  return name.size() >= lower_prefix.size() && same_name(name.substr(0, lower_prefix.size()), lower_prefix);
}

// Names injected by the gateway (also stripped from the client).
constexpr std::string_view kXWorkspaceId = "X-Workspace-ID";
constexpr std::string_view kXWorkspaceName = "X-Workspace-Name";
constexpr std::string_view kXWorkspaceType = "X-Workspace-Type";
constexpr std::string_view kXAppId = "X-App-ID";
constexpr std::string_view kXAppExe = "X-App-Exe";
constexpr std::string_view kXAppArgs = "X-App-Args";
constexpr std::string_view kXUserId = "X-User-ID";
constexpr std::string_view kXUsername = "X-Username";
constexpr std::string_view kXOrgId = "X-Org-ID";
constexpr std::string_view kXPolicyJson = "X-Policy-JSON";
constexpr std::string_view kXSessionId = "X-Session-ID";
constexpr std::string_view kXForwardedFor = "X-Forwarded-For";
constexpr std::string_view kXForwardedProto = "X-Forwarded-Proto";
constexpr std::string_view kXForwardedHost = "X-Forwarded-Host";
constexpr std::string_view kXRealIp = "X-Real-IP";
constexpr std::string_view kXAssertion = "X-WebStream-Assertion";

// Always removed from a client request (exact names; prefixes are handled apart).
constexpr std::array<std::string_view, 30> kStrippedRequestNames = {
    // identity (kept in step with inject())
    kXWorkspaceId, kXWorkspaceName, kXWorkspaceType, kXAppId, kXAppExe, kXAppArgs, kXUserId, kXUsername, kXOrgId,
    kXPolicyJson, kXSessionId, kXForwardedFor, kXForwardedProto, kXForwardedHost, kXRealIp, kXAssertion, "Forwarded",
    // hop-by-hop (RFC 9110 §7.6.1 and the usual proxy extras)
    "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
    "Proxy-Authorization", "Proxy-Authenticate",
    // gateway credentials
    "Authorization", "Cookie", "X-MCP-Key", "X-Backend-Key"};
// Prefixes the gateway owns: any client header starting with one is removed.
constexpr std::array<std::string_view, 2> kStrippedPrefixes = {"x-forwarded-", "x-webstream-"};

// Hop-by-hop names removed from a backend's answer, with the cookies it may not set.
constexpr std::array<std::string_view, 11> kStrippedResponseNames = {
    "Connection", "Keep-Alive",          "Proxy-Connection",   "TE",         "Trailer",    "Transfer-Encoding",
    "Upgrade",    "Proxy-Authorization", "Proxy-Authenticate", "Set-Cookie", "Set-Cookie2"};

// Fields of the client's own WebSocket handshake that must not be copied to the backend's. Content-Length
// too: the gateway reads no body before an upgrade, so a client's length would describe bytes the backend
// never gets as a body (the frames that follow); Transfer-Encoding is hop-by-hop and goes anyway.
constexpr std::array<std::string_view, 6> kClientHandshakeNames = {
    "Host",          "Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Sec-WebSocket-Accept",
    "Content-Length"};

template <std::size_t N>
bool in(const std::array<std::string_view, N>& names, std::string_view name) {
  for (auto n : names) {
    if (same_name(n, name)) return true;
  }
  return false;
}

// The tokens of every Connection header, concatenated into `storage` (comma separated) so they survive
// the erasure of the Connection header itself.
std::string connection_tokens(const bhttp::fields& headers) {
  std::string storage;
  for (const auto& f : headers) {
    if (f.name() != bhttp::field::connection) continue;
    if (!storage.empty()) storage.push_back(',');
    storage.append(f.value());
  }
  return storage;
}

bool named_by_connection(std::string_view tokens, std::string_view name) {
  while (!tokens.empty()) {
    const auto comma = tokens.find(',');
    auto token = tokens.substr(0, comma);
    tokens = comma == std::string_view::npos ? std::string_view{} : tokens.substr(comma + 1);
    while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
    if (!token.empty() && same_name(token, name)) return true;
  }
  return false;
}

bool strip_request_field(std::string_view name, std::string_view tokens) {
  return is_stripped_request_header(name) || named_by_connection(tokens, name);
}

bool clean_value(std::string_view v) {
  for (unsigned char c : v) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

void inject(bhttp::fields& h, const Identity& id, const ForwardInfo& fwd) {
  h.insert(kXWorkspaceId, id.workspace_id);
  h.insert(kXWorkspaceName, id.workspace_name);
  h.insert(kXWorkspaceType, id.workspace_type);
  h.insert(kXAppId, id.app_id);
  h.insert(kXAppExe, id.app_exe);
  h.insert(kXAppArgs, id.app_args);
  h.insert(kXUserId, id.user_id);
  h.insert(kXUsername, id.username);
  h.insert(kXOrgId, id.org_id);
  h.insert(kXPolicyJson, policy_header_value(id.policy_json));
  h.insert(kXSessionId, id.session_id);
  h.insert(kXForwardedFor, fwd.client_ip);
  h.insert(kXRealIp, fwd.client_ip);
  h.insert(kXForwardedProto, fwd.proto);
  h.insert(kXForwardedHost, fwd.host);
  if (!id.assertion.empty()) h.insert(kXAssertion, id.assertion);
}

void line(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

Status check_forward(const ForwardInfo& fwd) {
  const std::pair<std::string_view, const std::string*> values[] = {
      {kXForwardedFor, &fwd.client_ip}, {kXForwardedProto, &fwd.proto}, {kXForwardedHost, &fwd.host}};
  for (const auto& [name, value] : values) {
    if (!clean_value(*value)) {
      return Error{500, "invalid_identity",
                   std::string("identity header ") + std::string(name) + " would contain a control character"};
    }
  }
  return Status::success();
}

}  // namespace

std::string policy_header_value(std::string_view policy_json) { return base64_encode(policy_json); }

bool is_stripped_request_header(std::string_view name) {
  if (in(kStrippedRequestNames, name)) return true;
  for (auto prefix : kStrippedPrefixes) {
    if (has_prefix(name, prefix)) return true;
  }
  return name.empty() || same_name(name, "Expect");
}

Status validate(const Identity& id, const ForwardInfo& fwd) {
  const std::pair<std::string_view, const std::string*> values[] = {{kXWorkspaceId, &id.workspace_id},
                                                                    {kXWorkspaceName, &id.workspace_name},
                                                                    {kXWorkspaceType, &id.workspace_type},
                                                                    {kXAppId, &id.app_id},
                                                                    {kXAppExe, &id.app_exe},
                                                                    {kXAppArgs, &id.app_args},
                                                                    {kXUserId, &id.user_id},
                                                                    {kXUsername, &id.username},
                                                                    {kXOrgId, &id.org_id},
                                                                    {kXSessionId, &id.session_id},
                                                                    {kXAssertion, &id.assertion},
                                                                    {kXForwardedFor, &fwd.client_ip},
                                                                    {kXForwardedProto, &fwd.proto},
                                                                    {kXForwardedHost, &fwd.host}};
  // policy_json is sent base64-encoded, so any byte is safe in it.
  for (const auto& [name, value] : values) {
    if (!clean_value(*value)) {
      return Error{500, "invalid_identity",
                   std::string("identity header ") + std::string(name) + " would contain a control character"};
    }
  }
  return Status::success();
}

void strip_request_headers(bhttp::fields& headers, bool keep_authorization) {
  const std::string tokens = connection_tokens(headers);
  for (auto it = headers.begin(); it != headers.end();) {
    const auto name = it->name_string();
    const bool keep = keep_authorization && same_name(name, "Authorization") && !named_by_connection(tokens, name);
    if (!keep && strip_request_field(name, tokens)) {
      it = headers.erase(it);
    } else {
      ++it;
    }
  }
}

Status apply(bhttp::fields& headers, const Identity& identity, const ForwardInfo& forward) {
  if (auto st = validate(identity, forward); !st) return st;
  strip_request_headers(headers, false);
  inject(headers, identity, forward);
  return Status::success();
}

Status apply_websocket(const bhttp::fields& client_upgrade, bhttp::fields& out, const Identity& identity,
                       const ForwardInfo& forward) {
  if (auto st = validate(identity, forward); !st) return st;
  out.clear();
  const std::string tokens = connection_tokens(client_upgrade);
  for (const auto& f : client_upgrade) {
    const auto name = f.name_string();
    if (strip_request_field(name, tokens) || in(kClientHandshakeNames, name)) continue;
    out.insert(name, f.value());
  }
  inject(out, identity, forward);
  return Status::success();
}

void append_surviving_fields(const bhttp::fields& client, std::string& out) {
  // Most requests carry no Connection header: skip building the token list then.
  const std::string tokens = client.count(bhttp::field::connection) ? connection_tokens(client) : std::string();
  for (const auto& f : client) {
    const auto field = f.name();
    if (field == bhttp::field::host || field == bhttp::field::content_length) continue;
    const auto name = f.name_string();
    if (strip_request_field(name, tokens)) continue;
    line(out, name, f.value());
  }
}

Result<std::string> identity_header_lines(const Identity& id) {
  if (auto st = validate(id, ForwardInfo{}); !st) return st.error();
  std::string out;
  out.reserve(512 + id.policy_json.size() * 4 / 3 + id.assertion.size());
  line(out, kXWorkspaceId, id.workspace_id);
  line(out, kXWorkspaceName, id.workspace_name);
  line(out, kXWorkspaceType, id.workspace_type);
  line(out, kXAppId, id.app_id);
  line(out, kXAppExe, id.app_exe);
  line(out, kXAppArgs, id.app_args);
  line(out, kXUserId, id.user_id);
  line(out, kXUsername, id.username);
  line(out, kXOrgId, id.org_id);
  line(out, kXPolicyJson, policy_header_value(id.policy_json));
  line(out, kXSessionId, id.session_id);
  if (!id.assertion.empty()) line(out, kXAssertion, id.assertion);
  return out;
}

Status append_forward_lines(const ForwardInfo& fwd, std::string& out) {
  if (auto st = check_forward(fwd); !st) return st;
  line(out, kXForwardedFor, fwd.client_ip);
  line(out, kXRealIp, fwd.client_ip);
  line(out, kXForwardedProto, fwd.proto);
  line(out, kXForwardedHost, fwd.host);
  return Status::success();
}

bool is_stripped_response_header(std::string_view name) { return in(kStrippedResponseNames, name); }

bool named_by_connection_tokens(std::string_view tokens, std::string_view name) {
  return named_by_connection(tokens, name);
}

void filter_response(bhttp::fields& headers) {
  const std::string tokens = connection_tokens(headers);
  for (auto it = headers.begin(); it != headers.end();) {
    const auto name = it->name_string();
    if (in(kStrippedResponseNames, name) || named_by_connection(tokens, name)) {
      it = headers.erase(it);
    } else {
      ++it;
    }
  }
}

namespace {

// RFC 3986 query characters other than '%': unreserved, sub-delims, ':', '@', '/', '?'.
bool query_char(unsigned char c) {
  if (std::isalnum(c)) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
    case '?': return true;
    default: return false;
  }
}

}  // namespace

// Our own reading of the query, not Boost.URL's parse_query: in Boost 1.81 that one builds its result with
// detail::query_ref(s.data(), ...), which turns the pointer into a string_view by strlen, so a query that is a
// view not NUL-terminated at its end is read (and returned) up to the next NUL past it, on any compiler (the
// header_policy fuzz target's report, docs/dev/fuzzing.md). The rules are the same: a query with a byte that
// is not a query character or with a malformed escape is forwarded not at all (it may still carry the
// secret); a parameter is dropped when its name decodes to `name`; the others keep their bytes and order.
std::string remove_query_param(std::string_view raw_query, std::string_view name) {
  for (unsigned char c : raw_query) {
    if (c != '%' && !query_char(c)) return {};
  }
  std::string out;
  out.reserve(raw_query.size());
  std::size_t start = 0;
  bool first = true;
  while (start <= raw_query.size()) {
    std::size_t end = raw_query.find('&', start);
    if (end == std::string_view::npos) end = raw_query.size();
    const std::string_view param = raw_query.substr(start, end - start);
    const std::size_t eq = param.find('=');
    const auto key = percent_decode(param.substr(0, eq));
    if (!key) return {};
    if (eq != std::string_view::npos && !percent_decode(param.substr(eq + 1))) return {};
    if (*key != name && !raw_query.empty()) {
      if (!first) out.push_back('&');
      out.append(param);
      first = false;
    }
    start = end + 1;
  }
  return out;
}

}  // namespace webstream::proxy
