#pragma once
// Wire form of HTTP/1.x message heads, written into one contiguous buffer.
//
// Why not Beast's serializer: it hands the socket one buffer per token (start line pieces, and name,
// ": ", value, CRLF for every field), so a 20-field message becomes a sendmsg with ~80 iovecs that the
// kernel imports one by one, and the serializer's buffer-sequence iterators cost more CPU than the copy
// they avoid (measured on /getConnection: the serializer and iovec import were the largest user- and
// kernel-side costs of the gateway's per-request CPU, docs/proxy.md "Hot path"). Heads are small (< 4 KiB):
// one memcpy into a reused string and one buffer per write is cheaper. Bodies are not copied: callers
// write head + body as a two-buffer gather.
//
// The bytes are exactly those Beast's serializer writes for the same message: start line, then every
// field in order as "Name: value\r\n", then "\r\n". Nothing is added (no Content-Length, no Connection):
// the message must be prepared as it would be for Beast.
//
// Thread rules: none (pure functions on caller-owned objects).
#include <string>
#include <string_view>

#include "http/types.hpp"

namespace webstream::http {

// Appends "HTTP/1.x <code> <reason>\r\n<fields>\r\n".
void append_response_head(const Response& response, std::string& out);

// Appends "<METHOD> <target> HTTP/1.x\r\n<fields>\r\n" for `request` (its own method, target, version).
void append_request_head(const Request& request, std::string& out);

// Appends one field line "name: value\r\n".
inline void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ", 2);
  out.append(value);
  out.append("\r\n", 2);
}

// Removes every "name: value\r\n" line of `head` (a status or request line, then field lines) whose name is
// `name` (case-insensitive).
void erase_field_lines(std::string& head, std::string_view name);

// Appends every field of `fields` as field lines.
void append_fields(const bhttp::fields& fields, std::string& out);

}  // namespace webstream::http
