#include "proxy/ws_frame.hpp"

namespace webstream::proxy::ws_frame {
namespace {

bool known_opcode(std::uint8_t op) {
  return op == kContinuation || op == kText || op == kBinary || op == kClose || op == kPing || op == kPong;
}

// Close codes a peer may send (RFC 6455 §7.4.1 and §7.4.2; 1005, 1006 and 1015 are never on the wire).
bool valid_close_code(std::uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1007:
    case 1008:
    case 1009:
    case 1010:
    case 1011:
    case 1012:
    case 1013:
    case 1014: return true;
    default: return false;
  }
}

}  // namespace

ParseResult parse_header(std::span<const std::uint8_t> bytes, const Rules& rules) {
  if (bytes.size() < 2) return NeedMore{2};
  const std::uint8_t b0 = bytes[0];
  const std::uint8_t b1 = bytes[1];
  Header h;
  h.fin = (b0 & 0x80) != 0;
  h.opcode = b0 & 0x0F;
  h.masked = (b1 & 0x80) != 0;
  if ((b0 & 0x70) != 0) return ProtocolError{kCloseProtocolError, "reserved bits set"};
  if (!known_opcode(h.opcode)) return ProtocolError{kCloseProtocolError, "unknown opcode"};
  if (h.masked != rules.from_client) {
    return ProtocolError{kCloseProtocolError, rules.from_client ? "client frame not masked" : "server frame masked"};
  }
  const std::uint8_t len7 = b1 & 0x7F;
  const std::size_t length_bytes = len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
  h.header_size = 2 + length_bytes + (h.masked ? 4 : 0);
  if (h.is_control()) {
    if (!h.fin) return ProtocolError{kCloseProtocolError, "fragmented control frame"};
    if (len7 > kMaxControlPayload) return ProtocolError{kCloseProtocolError, "control frame too long"};
    if (h.opcode == kClose && len7 == 1) return ProtocolError{kCloseProtocolError, "close payload of one byte"};
  }
  if (bytes.size() < 2 + length_bytes) return NeedMore{h.header_size};
  if (length_bytes == 0) {
    h.payload_length = len7;
  } else if (length_bytes == 2) {
    h.payload_length = (std::uint64_t{bytes[2]} << 8) | bytes[3];
    if (h.payload_length < 126) return ProtocolError{kCloseProtocolError, "length not minimally encoded"};
  } else {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < 8; ++i) n = (n << 8) | bytes[2 + i];
    if ((n >> 63) != 0) return ProtocolError{kCloseProtocolError, "length over 2^63"};
    if (n <= 0xFFFF) return ProtocolError{kCloseProtocolError, "length not minimally encoded"};
    h.payload_length = n;
  }
  // Known from the length alone: no need to wait for the mask key before refusing it.
  if (!h.is_control() && h.payload_length > rules.max_frame_payload) {
    return ProtocolError{kCloseTooBig, "message too big"};
  }
  if (bytes.size() < h.header_size) return NeedMore{h.header_size};
  if (h.masked) {
    for (std::size_t i = 0; i < 4; ++i) h.mask_key[i] = bytes[2 + length_bytes + i];
  }
  return h;
}

std::variant<std::monostate, ProtocolError> MessageState::admit(const Header& h, std::uint64_t max_message_bytes) {
  if (h.is_control()) return std::monostate{};
  if (h.opcode == kContinuation) {
    if (!in_message) return ProtocolError{kCloseProtocolError, "continuation without a message"};
  } else if (in_message) {
    return ProtocolError{kCloseProtocolError, "new message inside a fragmented one"};
  }
  const std::uint64_t before = h.opcode == kContinuation ? message_bytes : 0;
  if (h.payload_length > max_message_bytes || before > max_message_bytes - h.payload_length) {
    return ProtocolError{kCloseTooBig, "message too big"};
  }
  if (h.opcode != kContinuation) opcode = h.opcode;
  message_bytes = before + h.payload_length;
  in_message = !h.fin;
  if (h.fin) message_bytes = 0;
  return std::monostate{};
}

std::variant<ClosePayload, ProtocolError> parse_close_payload(std::span<const std::uint8_t> payload) {
  if (payload.empty()) return ClosePayload{};
  if (payload.size() == 1) return ProtocolError{kCloseProtocolError, "close payload of one byte"};
  if (payload.size() > kMaxControlPayload) return ProtocolError{kCloseProtocolError, "control frame too long"};
  ClosePayload c;
  c.code = static_cast<std::uint16_t>((payload[0] << 8) | payload[1]);
  if (!valid_close_code(c.code)) return ProtocolError{kCloseProtocolError, "invalid close code"};
  c.reason = std::string_view(reinterpret_cast<const char*>(payload.data()) + 2, payload.size() - 2);
  if (!valid_utf8(c.reason)) return ProtocolError{kCloseInvalidPayload, "close reason not UTF-8"};
  return c;
}

std::size_t write_header(std::span<std::uint8_t> out, bool fin, std::uint8_t opcode, std::uint64_t payload_length,
                         const std::array<std::uint8_t, 4>* mask_key) {
  std::size_t n = 0;
  out[n++] = static_cast<std::uint8_t>((fin ? 0x80 : 0) | (opcode & 0x0F));
  const std::uint8_t mask_bit = mask_key ? 0x80 : 0;
  if (payload_length < 126) {
    out[n++] = static_cast<std::uint8_t>(mask_bit | payload_length);
  } else if (payload_length <= 0xFFFF) {
    out[n++] = static_cast<std::uint8_t>(mask_bit | 126);
    out[n++] = static_cast<std::uint8_t>(payload_length >> 8);
    out[n++] = static_cast<std::uint8_t>(payload_length);
  } else {
    out[n++] = static_cast<std::uint8_t>(mask_bit | 127);
    for (int shift = 56; shift >= 0; shift -= 8) out[n++] = static_cast<std::uint8_t>(payload_length >> shift);
  }
  if (mask_key) {
    for (std::uint8_t b : *mask_key) out[n++] = b;
  }
  return n;
}

void apply_mask(std::span<std::uint8_t> data, const std::array<std::uint8_t, 4>& key, std::uint64_t offset) {
  for (std::size_t i = 0; i < data.size(); ++i) data[i] ^= key[(offset + i) & 3];
}

bool valid_utf8(std::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    std::size_t extra;
    unsigned min;
    unsigned cp;
    if (c >= 0xC2 && c <= 0xDF) {
      extra = 1, min = 0x80, cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      extra = 2, min = 0x800, cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      extra = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return false;
    }
    if (static_cast<std::size_t>(end - p) < extra + 1) return false;
    for (std::size_t i = 1; i <= extra; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += extra + 1;
  }
  return true;
}

}  // namespace webstream::proxy::ws_frame
