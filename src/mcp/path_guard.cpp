#include "mcp/path_guard.hpp"

#include "core/encoding.hpp"

namespace webstream::mcp {
namespace {

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
      len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
      len = 3;
      if (b0 == 0xE0) lo = 0xA0;
      if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
      len = 4;
      if (b0 == 0xF0) lo = 0x90;
      if (b0 == 0xF4) hi = 0x8F;
    } else {
      return false;  // a continuation byte first, C0/C1 (overlong) or F5..FF
    }
    if (i + len > s.size()) return false;
    const auto b1 = static_cast<unsigned char>(s[i + 1]);
    if (b1 < lo || b1 > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if (b < 0x80 || b > 0xBF) return false;
    }
    i += len;
  }
  return true;
}

// "." and "..", also with a servlet path parameter (".;x", "..;x").
bool is_dot_segment(std::string_view seg) {
  if (const auto semi = seg.find(';'); semi != std::string_view::npos) seg = seg.substr(0, semi);
  return seg == "." || seg == "..";
}

bool has_dot_segment(std::string_view path) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (is_dot_segment(path.substr(start, i - start))) return true;
      start = i + 1;
    }
  }
  return false;
}

bool is_plain_path_byte(unsigned char c) { return c >= 0x20 && c != 0x7F && c != '\\'; }

}  // namespace

std::string encode_path(std::string_view decoded) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(decoded.size());
  for (const char ch : decoded) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string_view("-._~/:@!$&'()*+,=").find(ch) != std::string_view::npos;
    if (keep) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

Result<GuardedPath> guard_path(std::string_view raw_path, std::string_view prefix) {
  const Error bad = Error::invalid("the path leaves its prefix or is not a plain path");
  const auto decoded_once = percent_decode(raw_path);
  if (!decoded_once) return bad;
  const std::string& decoded = *decoded_once;
  if (decoded.find('%') != std::string::npos) return bad;  // multiply encoded
  for (const char ch : decoded) {
    if (!is_plain_path_byte(static_cast<unsigned char>(ch))) return bad;
  }
  if (!is_valid_utf8(decoded)) return bad;
  if (has_dot_segment(decoded)) return bad;
  if (decoded.size() < prefix.size() || decoded.compare(0, prefix.size(), prefix) != 0) return bad;
  GuardedPath out;
  out.decoded_rest = decoded.substr(prefix.size());
  out.forwarded_rest = encode_path(out.decoded_rest);
  return out;
}

Status check_forwardable_path(std::string_view encoded_rest) {
  std::string raw = "/";
  raw.append(encoded_rest);
  auto guarded = guard_path(raw, "/");
  if (!guarded) return guarded.error();
  return Status::success();
}

}  // namespace webstream::mcp
