// Fuzz target: the MCP path guard (CONTRACT §9, mcp/path_guard.hpp) on raw request paths, differentially
// against Boost.URL's own percent-decoding and dot-segment removal. The first input byte picks the prefix
// (even: "/mcp/api/", odd: "/mcp/iam/"); the rest is the raw path as a client sent it.
// Properties, for a path the guard lets through:
//   - Boost.URL decodes the raw path once to exactly prefix + decoded_rest (the guarded path is the routed one);
//   - decoded_rest holds no '%', '\', control byte or NUL, is valid UTF-8 (no overlong forms, no surrogates),
//     and no segment is "." or ".." or starts with ".;" or "..;";
//   - forwarded_rest decodes once to decoded_rest, and decoding it again changes nothing (so a server that
//     decodes any number of times sees the same path); check_forwardable_path agrees with guard_path on it;
//   - the normalised URL of what is forwarded (Boost.URL's dot-segment removal) stays under the prefix.
// A refused path answers 400 invalid_request, and a raw path Boost.URL cannot decode is always refused.
#include <boost/url.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "mcp/path_guard.hpp"

namespace {

// Boost.URL's one decoding of `text`; false when it is not valid percent-encoded text.
bool boost_decode(std::string_view text, std::string& out) {
  auto pct = boost::urls::make_pct_string_view(text);
  if (!pct) return false;
  out = pct->decode();
  return true;
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // the sequence is cut short
    for (std::size_t k = 1; k <= n; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    const std::uint32_t min = n == 1 ? 0x80 : n == 2 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

bool dot_segment(std::string_view seg) {
  return seg == "." || seg == ".." || seg.substr(0, 2) == ".;" || seg.substr(0, 3) == "..;";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace webstream;
  if (size == 0) return 0;
  const std::string_view prefix = (data[0] % 2 == 0) ? "/mcp/api/" : "/mcp/iam/";
  const std::string_view raw = fuzz::as_text(data + 1, size - 1);
  auto guarded = mcp::guard_path(raw, prefix);
  std::string boost_once;
  const bool boost_ok = boost_decode(raw, boost_once);
  if (!guarded) {
    FUZZ_CHECK(guarded.error().status == 400 && guarded.error().code == "invalid_request",
               "a refused path answers " + std::to_string(guarded.error().status) + " " + guarded.error().code);
    return 0;
  }
  FUZZ_CHECK(boost_ok, "the guard let through a path Boost.URL cannot decode");
  const std::string& rest = guarded->decoded_rest;
  FUZZ_CHECK(boost_once == std::string(prefix) + rest, "the guarded path is not the raw path decoded once");
  for (unsigned char c : rest) {
    FUZZ_CHECK(c != '%' && c != '\\' && c >= 0x20 && c != 0x7f, "a '%', '\\' or control byte survived the guard");
  }
  FUZZ_CHECK(valid_utf8(rest), "the guarded path is not valid UTF-8");
  std::size_t start = 0;
  for (;;) {
    const auto slash = rest.find('/', start);
    const std::string_view seg =
        std::string_view(rest).substr(start, slash == std::string::npos ? rest.npos : slash - start);
    FUZZ_CHECK(!dot_segment(seg), "a dot segment survived the guard");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  std::string forwarded_once, forwarded_twice;
  FUZZ_CHECK(boost_decode(guarded->forwarded_rest, forwarded_once), "what is forwarded is not valid encoding");
  FUZZ_CHECK(forwarded_once == rest, "what is forwarded does not decode to the guarded path");
  FUZZ_CHECK(boost_decode(forwarded_once, forwarded_twice) && forwarded_twice == rest,
             "decoding what is forwarded twice gives another path");
  FUZZ_CHECK(mcp::check_forwardable_path(guarded->forwarded_rest).ok(),
             "check_forwardable_path refuses what guard_path forwards");
  boost::urls::url url;
  url.set_scheme("http");
  url.set_encoded_host("engine");
  url.set_encoded_path(std::string(prefix) + guarded->forwarded_rest);
  url.normalize_path();
  FUZZ_CHECK(url.encoded_path().starts_with(prefix), "the normalised forwarded URL left the prefix");
  return 0;
}
