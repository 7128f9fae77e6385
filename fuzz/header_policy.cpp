// Fuzz target: the header policy (CONTRACT §8, §11a) — nothing a client sends may set, remove or duplicate
// what the gateway tells the backend. The input is a client request head as text: its first line is the
// query string of the target, every further line a header field. The head is parsed by Beast as the gateway
// parses it (and refused like http/connection refuses it), then run through the three forms of the policy:
//   apply()                       — plain HTTP forwarding,
//   append_surviving_fields() + identity_header_lines() + append_forward_lines() — the /getConnection wire form,
//   apply_websocket()             — the upgrade forwarded to the backend,
// and remove_query_param(query, "token").
// Properties: in every output each injected name appears exactly once with the gateway's value (compared
// case-insensitively with '_' = '-', the way CGI-style backends read names); no Authorization, Cookie,
// X-MCP-Key, X-Backend-Key, hop-by-hop header, X-Forwarded-*/X-WebStream-* name or name listed in the
// client's Connection header survives; the wire form carries the same fields as apply(); a WebSocket upgrade
// forwards no Content-Length/Transfer-Encoding; the forwarded query holds no parameter that decodes to
// "token".
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "proxy/header_policy.hpp"

namespace {

namespace bhttp = boost::beast::http;
using namespace webstream;

std::string fold(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  return out;
}

const proxy::Identity& identity() {
  static const proxy::Identity id = [] {
    proxy::Identity i;
    i.workspace_id = "ws-1";
    i.workspace_name = "Desktop";
    i.workspace_type = "desktop";
    i.app_id = "app-1";
    i.app_exe = "C:\\word.exe";
    i.app_args = "/safe";
    i.user_id = "u-1";
    i.username = "alice";
    i.org_id = "org-1";
    i.policy_json = R"({"clipboard":false})";
    i.session_id = "s-1";
    i.assertion = "a.b.c";
    return i;
  }();
  return id;
}
const proxy::ForwardInfo kForward{"192.0.2.7", "https", "gw.example"};

// folded name -> the only value the gateway may send under it
const std::map<std::string, std::string>& injected() {
  static const std::map<std::string, std::string> m = {
      {"x-workspace-id", identity().workspace_id},
      {"x-workspace-name", identity().workspace_name},
      {"x-workspace-type", identity().workspace_type},
      {"x-app-id", identity().app_id},
      {"x-app-exe", identity().app_exe},
      {"x-app-args", identity().app_args},
      {"x-user-id", identity().user_id},
      {"x-username", identity().username},
      {"x-org-id", identity().org_id},
      {"x-policy-json", proxy::policy_header_value(identity().policy_json)},
      {"x-session-id", identity().session_id},
      {"x-webstream-assertion", identity().assertion},
      {"x-forwarded-for", kForward.client_ip},
      {"x-real-ip", kForward.client_ip},
      {"x-forwarded-proto", kForward.proto},
      {"x-forwarded-host", kForward.host}};
  return m;
}

bool never_forwarded(const std::string& folded) {
  static const char* const kNames[] = {
      "authorization",      "cookie",    "x-mcp-key", "x-backend-key",     "connection", "keep-alive",
      "proxy-connection",   "te",        "trailer",   "transfer-encoding", "upgrade",    "proxy-authorization",
      "proxy-authenticate", "forwarded", "expect"};
  for (const char* n : kNames) {
    if (folded == n) return true;
  }
  return folded.rfind("x-forwarded-", 0) == 0 || folded.rfind("x-webstream-", 0) == 0;
}

// The folded tokens of every Connection header the client sent.
std::vector<std::string> connection_tokens(const bhttp::fields& client) {
  std::vector<std::string> out;
  for (const auto& f : client) {
    if (f.name() != bhttp::field::connection) continue;
    std::string_view v = f.value();
    while (!v.empty()) {
      auto comma = v.find(',');
      auto t = v.substr(0, comma);
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
      if (!t.empty()) out.push_back(fold(t));
    }
  }
  return out;
}

using Fields = std::vector<std::pair<std::string, std::string>>;  // (folded name, value)

void check_forwarded(const Fields& out, const std::vector<std::string>& conn_tokens, bool upgrade, const char* form) {
  std::map<std::string, int> seen;
  for (const auto& [name, value] : out) {
    auto inj = injected().find(name);
    if (inj != injected().end()) {
      FUZZ_CHECK(value == inj->second, std::string(form) + ": injected header with a client value: " + name);
      FUZZ_CHECK(++seen[name] == 1, std::string(form) + ": injected header twice: " + name);
      continue;
    }
    FUZZ_CHECK(!never_forwarded(name), std::string(form) + ": forwarded " + name);
    if (name != "host" && name != "content-length") {
      FUZZ_CHECK(std::find(conn_tokens.begin(), conn_tokens.end(), name) == conn_tokens.end(),
                 std::string(form) + ": forwarded a header the client's Connection names: " + name);
    }
    if (upgrade) FUZZ_CHECK(name != "content-length", std::string(form) + ": upgrade forwards Content-Length");
  }
  for (const auto& [name, value] : injected()) {
    FUZZ_CHECK(seen[name] == 1, std::string(form) + ": injected header missing: " + name);
  }
}

Fields folded(const bhttp::fields& fields) {
  Fields out;
  for (const auto& f : fields) out.emplace_back(fold(f.name_string()), std::string(f.value()));
  return out;
}

// "Name: value\r\n" lines back into fields.
Fields from_lines(std::string_view text) {
  Fields out;
  while (!text.empty()) {
    const auto eol = text.find("\r\n");
    FUZZ_CHECK(eol != std::string_view::npos, "wire form: a line without CRLF");
    const auto line = text.substr(0, eol);
    text.remove_prefix(eol + 2);
    const auto colon = line.find(": ");
    FUZZ_CHECK(colon != std::string_view::npos && colon > 0, "wire form: a line that is not a field");
    out.emplace_back(fold(line.substr(0, colon)), std::string(line.substr(colon + 2)));
  }
  return out;
}

void check_query(std::string_view query) {
  const std::string kept = proxy::remove_query_param(query, "token");
  auto params = boost::urls::parse_query(kept);
  FUZZ_CHECK(params.has_value(), "the forwarded query does not parse");
  for (const auto& p : *params) {
    std::string key;
    key.resize(p.key.decoded_size());
    p.key.decode({}, boost::urls::string_token::assign_to(key));
    FUZZ_CHECK(key != "token", "a parameter that decodes to 'token' is forwarded: " + kept);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  std::string_view text = webstream::fuzz::as_text(data, size);
  const auto first_eol = text.find('\n');
  const std::string_view query = text.substr(0, first_eol);
  text = first_eol == std::string_view::npos ? std::string_view{} : text.substr(first_eol + 1);
  check_query(query);

  std::string head = "GET /capture HTTP/1.1\r\n";
  while (!text.empty()) {
    const auto eol = text.find('\n');
    auto line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view{} : text.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    head.append(line);
    head.append("\r\n");
  }
  head.append("\r\n");
  bhttp::request_parser<bhttp::empty_body> parser;
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head), ec);
  if (ec || !parser.is_header_done()) return 0;
  const auto& client = parser.get().base();
  // What http/connection refuses never reaches the policy.
  for (const auto& f : client) {
    if (f.value().find('\0') != std::string_view::npos) return 0;
  }
  const auto tokens = connection_tokens(client);
  const bool upgrade = true;

  bhttp::fields plain = client;
  FUZZ_CHECK(proxy::apply(plain, identity(), kForward).ok(), "apply refused a valid identity");
  auto plain_fields = folded(plain);
  check_forwarded(plain_fields, tokens, false, "apply");

  std::string wire;
  proxy::append_surviving_fields(client, wire);
  auto id_lines = proxy::identity_header_lines(identity());
  FUZZ_CHECK(id_lines.ok(), "identity_header_lines refused a valid identity");
  wire += id_lines.value();
  FUZZ_CHECK(proxy::append_forward_lines(kForward, wire).ok(), "append_forward_lines refused");
  auto wire_fields = from_lines(wire);
  check_forwarded(wire_fields, tokens, false, "wire");
  // Same fields as apply(), but Host and Content-Length, which the forwarder writes itself.
  std::erase_if(plain_fields, [](const auto& f) { return f.first == "host" || f.first == "content-length"; });
  std::sort(plain_fields.begin(), plain_fields.end());
  std::sort(wire_fields.begin(), wire_fields.end());
  FUZZ_CHECK(plain_fields == wire_fields, "the wire form and apply() forward different fields");

  bhttp::fields ws;
  FUZZ_CHECK(proxy::apply_websocket(client, ws, identity(), kForward).ok(), "apply_websocket refused");
  check_forwarded(folded(ws), tokens, upgrade, "websocket");
  return 0;
}
