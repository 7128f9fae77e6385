#include "mcp/path_guard.hpp"

#include <algorithm>
#include <string>

namespace webstream::mcp {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One round of percent-decoding; a malformed escape is an error (nullopt via ok=false).
std::string decode_once(std::string_view in, bool& ok) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) {
        ok = false;
        return out;
      }
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) {
        ok = false;
        return out;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

bool has_dot_segment(std::string_view path) {
  std::size_t start = 0;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/' || path[i] == '\\') {
      const auto seg = path.substr(start, i - start);
      if (seg == "." || seg == "..") return true;
      start = i + 1;
    }
  }
  return false;
}

}  // namespace

Status check_forwardable_path(std::string_view encoded_rest) {
  const Error bad = Error::invalid("the path leaves its prefix or is not a plain path");
  std::string current(encoded_rest);
  // Decode up to four times: a server behind us may decode again (double encoding: %252e%252e).
  for (int round = 0; round < 4; ++round) {
    if (current.find('\0') != std::string::npos) return bad;
    if (has_dot_segment(current)) return bad;
    if (round > 0 && current.find_first_of("?#") != std::string::npos) return bad;  // smuggled query/fragment
    if (current.find('%') == std::string::npos) break;
    bool ok = true;
    std::string next = decode_once(current, ok);
    if (!ok) return bad;
    // An encoded '/' or '\' changes the segments a server behind us sees: refuse it outright.
    if (round == 0) {
      const auto raw_slashes = std::count(current.begin(), current.end(), '/');
      const auto decoded_slashes = std::count(next.begin(), next.end(), '/');
      if (raw_slashes != decoded_slashes || next.find('\\') != std::string::npos) return bad;
    }
    current = std::move(next);
  }
  if (current.find('%') != std::string::npos && has_dot_segment(current)) return bad;
  return Status::success();
}

}  // namespace webstream::mcp
