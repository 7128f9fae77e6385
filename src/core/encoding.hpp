#pragma once
// Byte encodings and digests used across the gateway (JWTs, policy headers, fingerprints, URL escapes).
#include <optional>
#include <string>
#include <string_view>

namespace webstream {

std::string hex_encode(std::string_view bytes);
std::string base64_encode(std::string_view bytes);     // RFC 4648 §4, padded
std::string base64url_encode(std::string_view bytes);  // RFC 4648 §5, no padding
// Decoders return nullopt on any character outside the alphabet or a bad length.
std::optional<std::string> base64_decode(std::string_view text);
std::optional<std::string> base64url_decode(std::string_view text);
// One round of RFC 3986 percent-decoding: each "%XY" (X, Y hex digits, either case) becomes that byte, every
// other byte is kept as is ('+' stays '+'; a decoded "%25" is not decoded again). nullopt when a '%' is not
// followed by two hex digits. Used where the gateway reads a raw query (proxy/header_policy) or a raw path
// (mcp/path_guard).
std::optional<std::string> percent_decode(std::string_view text);
std::string sha256(std::string_view bytes);  // raw 32 bytes
std::string sha256_hex(std::string_view bytes);

}  // namespace webstream
