#include "proxy/header_policy.hpp"

#include <gtest/gtest.h>

#include <boost/beast/core/string.hpp>
#include <memory>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "core/encoding.hpp"

namespace webstream::proxy {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

Identity alice() {
  Identity id;
  id.workspace_id = "ws-1";
  id.workspace_name = "Design";
  id.workspace_type = "app";
  id.app_id = "app-9";
  id.app_exe = "C:\\Apps\\cad.exe";
  id.app_args = "--fast \"two words\"\t--x";
  id.user_id = "u-alice";
  id.username =
      "al\xc3\xaf"
      "ce";  // UTF-8 is fine
  id.org_id = "org-1";
  id.policy_json = R"({"clipboard":false})";
  id.session_id = "sess_1";
  id.assertion = "eyJ.eyJ.sig";
  return id;
}

ForwardInfo fwd() { return {"203.0.113.7", "https", "gw.example.com"}; }

bhttp::fields make(const Headers& headers) {
  bhttp::fields f;
  for (const auto& [k, v] : headers) f.insert(k, v);
  return f;
}

// Every value of `name` (compared exactly as the backend's strictest reader would: case-insensitively).
std::vector<std::string> values(const bhttp::fields& h, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& f : h) {
    if (boost::beast::iequals(f.name_string(), name)) out.emplace_back(f.value());
  }
  return out;
}

// A name spelled with '_' for '-' (which CGI-style backends merge with the '-' spelling).
bool has_underscore_spelling(const bhttp::fields& h, std::string_view dashed) {
  std::string underscored(dashed);
  for (auto& c : underscored) c = c == '-' ? '_' : c;
  return !values(h, underscored).empty();
}

const std::vector<std::pair<std::string, std::string>> kInjected = {
    {"X-Workspace-ID", "ws-1"},
    {"X-Workspace-Name", "Design"},
    {"X-Workspace-Type", "app"},
    {"X-App-ID", "app-9"},
    {"X-App-Exe", "C:\\Apps\\cad.exe"},
    {"X-App-Args", "--fast \"two words\"\t--x"},
    {"X-User-ID", "u-alice"},
    {"X-Username",
     "al\xc3\xaf"
     "ce"},
    {"X-Org-ID", "org-1"},
    {"X-Policy-JSON", base64_encode(R"({"clipboard":false})")},
    {"X-Session-ID", "sess_1"},
    {"X-Forwarded-For", "203.0.113.7"},
    {"X-Forwarded-Proto", "https"},
    {"X-Forwarded-Host", "gw.example.com"},
    {"X-Real-IP", "203.0.113.7"},
    {"X-WebStream-Assertion", "eyJ.eyJ.sig"},
};

void expect_exact_identity(const bhttp::fields& h, const std::string& label) {
  for (const auto& [name, value] : kInjected) {
    EXPECT_EQ(values(h, name), std::vector<std::string>{value}) << label << ": " << name;
    EXPECT_FALSE(has_underscore_spelling(h, name)) << label << ": " << name;
  }
}

struct SpoofCase {
  std::string label;
  Headers client;
  std::vector<std::string> absent;  // names that must not reach the backend
  Headers kept;                     // end-to-end headers that must reach it unchanged
};

const std::vector<SpoofCase> kSpoofCases = {
    {"duplicate X-User-ID", {{"X-User-ID", "admin"}, {"X-User-ID", "root"}}, {}, {}},
    {"mixed-case X-User-ID", {{"x-uSeR-iD", "admin"}, {"X-USER-ID", "root"}}, {}, {}},
    {"underscore spelling", {{"X_User_ID", "admin"}, {"x_policy_json", "e30="}}, {"X_User_ID", "x_policy_json"}, {}},
    {"Connection names X-User-ID",
     {{"Connection", "X-User-ID, close"}, {"X-User-ID", "admin"}, {"Accept", "*/*"}},
     {"Connection"},
     {{"Accept", "*/*"}}},
    {"Connection names a custom header",
     {{"Connection", "keep-alive"}, {"Connection", " X-Secret-Hop ,\tclose"}, {"X-Secret-Hop", "1"}, {"X-Other", "2"}},
     {"Connection", "X-Secret-Hop"},
     {{"X-Other", "2"}}},
    {"X-Policy-JSON from the client", {{"X-Policy-JSON", base64_encode(R"({"admin":true})")}}, {}, {}},
    {"X-WebStream-Assertion from the client",
     {{"X-WebStream-Assertion", "forged.jwt.sig"}, {"x-webstream-assertion", "again"}, {"X-WebStream-Other", "1"}},
     {"X-WebStream-Other"},
     {}},
    {"X-Forwarded-* from the client is replaced, never appended",
     {{"X-Forwarded-For", "10.0.0.1, 10.0.0.2"},
      {"X-Forwarded-Proto", "http"},
      {"X-Forwarded-Host", "evil"},
      {"X-Forwarded-Port", "1"},
      {"Forwarded", "for=10.0.0.1"},
      {"X-Real-IP", "10.0.0.1"}},
     {"X-Forwarded-Port", "Forwarded"},
     {}},
    {"every identity name spoofed at once",
     {{"X-Workspace-ID", "x"},
      {"X-Workspace-Name", "x"},
      {"X-Workspace-Type", "x"},
      {"X-App-ID", "x"},
      {"X-App-Exe", "x"},
      {"X-App-Args", "x"},
      {"X-Username", "x"},
      {"X-Org-ID", "x"},
      {"X-Session-ID", "x"}},
     {},
     {}},
    {"gateway credentials",
     {{"Authorization", "Bearer abc"},
      {"Cookie", "a=b"},
      {"Cookie", "c=d"},
      {"X-MCP-Key", "k"},
      {"X-Backend-Key", "k"},
      {"Content-Type", "application/json"}},
     {"Authorization", "Cookie", "X-MCP-Key", "X-Backend-Key"},
     {{"Content-Type", "application/json"}}},
    {"hop-by-hop",
     {{"Keep-Alive", "timeout=5"},
      {"TE", "trailers"},
      {"Trailer", "X-T"},
      {"Transfer-Encoding", "chunked"},
      {"Upgrade", "h2c"},
      {"Proxy-Authorization", "Basic x"},
      {"Proxy-Authenticate", "Basic"},
      {"Proxy-Connection", "keep-alive"},
      {"Expect", "100-continue"},
      {"User-Agent", "test"}},
     {"Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Proxy-Authorization", "Proxy-Authenticate",
      "Proxy-Connection", "Expect"},
     {{"User-Agent", "test"}}},
};

TEST(HeaderPolicy, SpoofedAndHopByHopHeadersNeverReachTheBackend) {
  for (const auto& c : kSpoofCases) {
    auto h = make(c.client);
    ASSERT_TRUE(apply(h, alice(), fwd()).ok()) << c.label;
    expect_exact_identity(h, c.label);
    for (const auto& name : c.absent) EXPECT_TRUE(values(h, name).empty()) << c.label << ": " << name;
    for (const auto& [name, value] : c.kept) {
      EXPECT_EQ(values(h, name), std::vector<std::string>{value}) << c.label << ": " << name;
    }
  }
}

// The wire-form functions give the backend exactly what apply() gives it (Host and Content-Length aside,
// which the forwarder writes), on every spoof case.
Headers parse_lines(const std::string& wire) {
  Headers out;
  std::size_t at = 0;
  while (at < wire.size()) {
    const auto end = wire.find("\r\n", at);
    EXPECT_NE(end, std::string::npos);
    const auto colon = wire.find(": ", at);
    EXPECT_LT(colon, end);
    out.emplace_back(wire.substr(at, colon - at), wire.substr(colon + 2, end - colon - 2));
    at = end + 2;
  }
  return out;
}

TEST(HeaderPolicy, WireFormMatchesApplyOnEverySpoofCase) {
  auto cases = kSpoofCases;
  cases.push_back({"host and length", {{"Host", "gw"}, {"Content-Length", "3"}, {"Accept", "a"}}, {}, {}});
  for (const auto& c : cases) {
    auto h = make(c.client);
    ASSERT_TRUE(apply(h, alice(), fwd()).ok()) << c.label;
    Headers expected;
    for (const auto& f : h) {
      if (f.name() == bhttp::field::host || f.name() == bhttp::field::content_length) continue;
      expected.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    std::string wire;
    append_surviving_fields(make(c.client), wire);
    auto identity = identity_header_lines(alice());
    ASSERT_TRUE(identity.ok()) << c.label;
    wire += identity.value();
    ASSERT_TRUE(append_forward_lines(fwd(), wire).ok()) << c.label;
    auto got = parse_lines(wire);
    std::sort(expected.begin(), expected.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, expected) << c.label;
  }
}

TEST(HeaderPolicy, WireFormRejectsControlCharacters) {
  auto id = alice();
  id.username = "bob\r\nX-User-ID: admin";
  EXPECT_EQ(identity_header_lines(id).error().code, "invalid_identity");
  auto bad = fwd();
  bad.host = "gw\x01";
  std::string wire = "kept";
  EXPECT_FALSE(append_forward_lines(bad, wire).ok());
  EXPECT_EQ(wire, "kept");
}

TEST(HeaderPolicy, StripAloneCanKeepAuthorization) {
  auto h = make({{"Authorization", "Bearer t"}, {"X-User-ID", "evil"}, {"Cookie", "a"}, {"Accept", "a"}});
  strip_request_headers(h, true);
  EXPECT_EQ(values(h, "Authorization"), std::vector<std::string>{"Bearer t"});
  EXPECT_TRUE(values(h, "X-User-ID").empty());
  EXPECT_TRUE(values(h, "Cookie").empty());
  EXPECT_EQ(values(h, "Accept"), std::vector<std::string>{"a"});
  strip_request_headers(h, false);
  EXPECT_TRUE(values(h, "Authorization").empty());
}

TEST(HeaderPolicy, KeepsEndToEndHeadersInOrder) {
  auto h = make({{"Host", "gw"}, {"Accept", "a"}, {"X-User-ID", "evil"}, {"Accept-Language", "fr"}});
  ASSERT_TRUE(apply(h, alice(), fwd()).ok());
  std::vector<std::string> names;
  for (const auto& f : h) names.emplace_back(f.name_string());
  ASSERT_GE(names.size(), 3u);
  EXPECT_EQ(names[0], "Host");
  EXPECT_EQ(names[1], "Accept");
  EXPECT_EQ(names[2], "Accept-Language");
}

TEST(HeaderPolicy, NoAssertionHeaderWhenNoneIsGiven) {
  auto id = alice();
  id.assertion.clear();
  auto h = make({{"X-WebStream-Assertion", "forged"}});
  ASSERT_TRUE(apply(h, id, fwd()).ok());
  EXPECT_TRUE(values(h, "X-WebStream-Assertion").empty());
}

TEST(HeaderPolicy, RejectsIdentityValuesWithControlCharacters) {
  const std::vector<std::pair<std::string, std::string Identity::*>> fields = {
      {"X-Username", &Identity::username}, {"X-App-Args", &Identity::app_args}, {"X-User-ID", &Identity::user_id}};
  for (const std::string& bad :
       {std::string("a\r\nX-User-ID: admin"), std::string("a\nb"), std::string("a\0b", 3), std::string("a\x7f")}) {
    for (const auto& [name, member] : fields) {
      auto id = alice();
      id.*member = bad;
      auto h = make({{"Accept", "x"}, {"X-User-ID", "evil"}});
      const auto st = apply(h, id, fwd());
      ASSERT_FALSE(st.ok()) << name;
      EXPECT_EQ(st.error().status, 500);
      EXPECT_EQ(st.error().code, "invalid_identity");
      EXPECT_NE(st.error().message.find(name), std::string::npos);
      EXPECT_EQ(st.error().message.find("admin"), std::string::npos);  // never echo the value
      EXPECT_EQ(values(h, "X-User-ID"), std::vector<std::string>{"evil"}) << "unchanged on error";
    }
  }
  auto fwd_bad = fwd();
  fwd_bad.host = "gw\r\nX-User-ID: admin";
  auto h = make({});
  EXPECT_FALSE(apply(h, alice(), fwd_bad).ok());
}

TEST(HeaderPolicy, PolicyJsonMayContainAnyByteBecauseItIsBase64) {
  auto id = alice();
  id.policy_json = "{\"a\":\"line1\nline2\"}";
  auto h = make({});
  ASSERT_TRUE(apply(h, id, fwd()).ok());
  EXPECT_EQ(values(h, "X-Policy-JSON"), std::vector<std::string>{base64_encode(id.policy_json)});
  EXPECT_EQ(policy_header_value(id.policy_json), base64_encode(id.policy_json));
}

TEST(HeaderPolicy, WebSocketHandshakeKeepsOnlyWhatTheBackendMaySee) {
  const auto client = make({{"Host", "gw.example.com"},
                            {"Upgrade", "websocket"},
                            {"Connection", "Upgrade, X-Evil"},
                            {"X-Evil", "1"},
                            {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                            {"Sec-WebSocket-Version", "13"},
                            {"Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"},
                            {"Sec-WebSocket-Protocol", "capture.v2, capture.v1"},
                            {"Origin", "https://gw.example.com"},
                            {"X-User-ID", "admin"},
                            {"Cookie", "sid=1"},
                            {"X-WebStream-Assertion", "forged"},
                            {"Content-Length", "5"},
                            {"Transfer-Encoding", "chunked"}});
  bhttp::fields out;
  out.insert("Stale", "cleared first");
  ASSERT_TRUE(apply_websocket(client, out, alice(), fwd()).ok());
  expect_exact_identity(out, "websocket");
  for (const char* name : {"Host", "Upgrade", "Connection", "X-Evil", "Sec-WebSocket-Key", "Sec-WebSocket-Version",
                           "Sec-WebSocket-Extensions", "Cookie", "Stale", "Content-Length", "Transfer-Encoding"}) {
    EXPECT_TRUE(values(out, name).empty()) << name;
  }
  EXPECT_EQ(values(out, "Sec-WebSocket-Protocol"), std::vector<std::string>{"capture.v2, capture.v1"});
  EXPECT_EQ(values(out, "Origin"), std::vector<std::string>{"https://gw.example.com"});
}

TEST(HeaderPolicy, FilterResponseDropsHopByHopAndCookies) {
  auto h = make({{"Content-Type", "application/json"},
                 {"Connection", "close, X-Backend-Internal"},
                 {"X-Backend-Internal", "1"},
                 {"Set-Cookie", "a=1"},
                 {"set-cookie", "b=2"},
                 {"Set-Cookie2", "c=3"},
                 {"Transfer-Encoding", "chunked"},
                 {"Keep-Alive", "timeout=5"},
                 {"Upgrade", "h2c"},
                 {"Cache-Control", "no-store"},
                 {"X-Request-ID", "r1"}});
  filter_response(h);
  for (const char* name : {"Connection", "X-Backend-Internal", "Set-Cookie", "Set-Cookie2", "Transfer-Encoding",
                           "Keep-Alive", "Upgrade"}) {
    EXPECT_TRUE(values(h, name).empty()) << name;
  }
  EXPECT_EQ(values(h, "Content-Type"), std::vector<std::string>{"application/json"});
  EXPECT_EQ(values(h, "Cache-Control"), std::vector<std::string>{"no-store"});
  EXPECT_EQ(values(h, "X-Request-ID"), std::vector<std::string>{"r1"});
}

TEST(HeaderPolicy, RemoveQueryParam) {
  EXPECT_EQ(remove_query_param("sessionId=abc&token=xyz&x=1", "token"), "sessionId=abc&x=1");
  EXPECT_EQ(remove_query_param("token=a&token=b", "token"), "");
  EXPECT_EQ(remove_query_param("tok%65n=secret&a=%20b", "token"), "a=%20b");
  EXPECT_EQ(remove_query_param("a=1&flag&b=", "token"), "a=1&flag&b=");
  EXPECT_EQ(remove_query_param("", "token"), "");
  EXPECT_EQ(remove_query_param("tokens=1&xtoken=2", "token"), "tokens=1&xtoken=2");
  // Malformed escapes, or bytes that are no query characters: nothing is forwarded (it may hide the secret).
  EXPECT_EQ(remove_query_param("a=%zz&token=1", "token"), "");
  EXPECT_EQ(remove_query_param("a=1&tok%6", "token"), "");
  EXPECT_EQ(remove_query_param("a=b c&token=1", "token"), "");
  EXPECT_EQ(remove_query_param("a=1&&b&", "token"), "a=1&&b&");
  // A view into a longer buffer: only its own bytes are read (the fuzz target's report; ASan checks it).
  const std::string buffer = "a=1&token=x";
  EXPECT_EQ(remove_query_param(std::string_view(buffer).substr(0, 3), "token"), "a=1");
  const std::unique_ptr<char[]> exact(new char[3]{'a', '=', '1'});  // no terminating NUL anywhere
  EXPECT_EQ(remove_query_param(std::string_view(exact.get(), 3), "token"), "a=1");
  // The query as a view into a request head: nothing past the view's end reaches the result. Boost.URL 1.81's
  // parse_query sized its result with strlen(data) (docs/dev/fuzzing.md), so the version that called it
  // returned "a=1&b=2 HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n" here, on any compiler.
  const std::string head = "GET /x?a=1&b=2 HTTP/1.1\r\nAuthorization: Bearer s3cret\r\n\r\n";
  EXPECT_EQ(remove_query_param(std::string_view(head).substr(7, 7), "token"), "a=1&b=2");
  EXPECT_EQ(remove_query_param(std::string_view(head).substr(7, 3), "b"), "a=1");
}

TEST(HeaderPolicy, StrippedNameTable) {
  for (const char* name : {"x-user-id", "X-FORWARDED-SOMETHING", "X-WebStream-Anything", "proxy_connection",
                           "x_mcp_key", "Authorization", "expect"}) {
    EXPECT_TRUE(is_stripped_request_header(name)) << name;
  }
  for (const char* name : {"Accept", "X-User", "X-User-IDs", "Content-Length", "Origin", "X-Forwarded"}) {
    EXPECT_FALSE(is_stripped_request_header(name)) << name;
  }
}

}  // namespace
}  // namespace webstream::proxy
