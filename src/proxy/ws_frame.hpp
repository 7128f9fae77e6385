#pragma once
// WebSocket frame headers (RFC 6455 §5.2) as pure functions over bytes: what the relay's tunnel parses on
// every frame it passes on, and what it writes for the frames it makes itself (close, ping). No I/O, no
// allocation, no state beyond the arguments: the fuzz target and the unit tests call these directly.
//
//   parse_header(bytes, rules)  the bytes received so far of one frame's header (more may follow them; they
//                               are not looked at) → NeedMore{total header bytes needed so far}, a Header, or a
//                               ProtocolError with the close code the sender gets (1002 or 1009).
//   MessageState::admit(h, max) the message-level rules across frames: a continuation needs an open message,
//                               a new data message may not start inside one, a message's payload is at most
//                               `max` bytes (1009 over).
//   parse_close_payload(p)      a close frame's (unmasked) payload → its code (1005 when empty) and reason, or
//                               1002 for a bad code/length, 1007 for a reason that is not UTF-8.
//   write_header / apply_mask   for frames the gateway makes: a server's frames are unmasked, a client's are
//                               masked with a key the caller picks.
//
// The gateway negotiates no extension, so every RSV bit set is a protocol error. Thread rules: none (pure).
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

namespace webstream::proxy::ws_frame {

enum Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes the relay itself sends (RFC 6455 §7.4.1).
inline constexpr std::uint16_t kCloseNormal = 1000;
inline constexpr std::uint16_t kCloseGoingAway = 1001;
inline constexpr std::uint16_t kCloseProtocolError = 1002;
inline constexpr std::uint16_t kCloseNoStatus = 1005;  // never on the wire: an empty close payload
inline constexpr std::uint16_t kCloseInvalidPayload = 1007;
inline constexpr std::uint16_t kClosePolicy = 1008;
inline constexpr std::uint16_t kCloseTooBig = 1009;
inline constexpr std::uint16_t kCloseInternal = 1011;

inline constexpr std::size_t kMaxHeaderBytes = 14;  // 2 + 8 (64-bit length) + 4 (mask key)
inline constexpr std::size_t kMaxControlPayload = 125;

struct Header {
  bool fin = false;
  std::uint8_t opcode = 0;
  bool masked = false;
  std::array<std::uint8_t, 4> mask_key{};
  std::uint64_t payload_length = 0;
  std::size_t header_size = 0;  // bytes of the header itself (2 to 14)

  bool is_control() const { return (opcode & 0x8) != 0; }
};

struct NeedMore {
  std::size_t header_bytes = 0;  // the header is at least this long: read until this many bytes are there
};

struct ProtocolError {
  std::uint16_t close_code = kCloseProtocolError;
  std::string_view reason;  // static text, short, safe to log and to put into the close frame
};

using ParseResult = std::variant<NeedMore, Header, ProtocolError>;

// What a frame may look like, depending on who sent it.
struct Rules {
  bool from_client = true;  // a client's frames must be masked, a server's must not (RFC 6455 §5.1)
  std::uint64_t max_frame_payload = UINT64_MAX;  // a longer data frame is 1009 before any payload is read
};

ParseResult parse_header(std::span<const std::uint8_t> bytes, const Rules& rules);

// The message-level rules across the frames of one direction. Starts between messages.
struct MessageState {
  bool in_message = false;  // a data frame without fin was seen; continuations follow
  std::uint8_t opcode = 0;  // the open message's text/binary opcode
  std::uint64_t message_bytes = 0;

  // Checks `h` (already parsed) against the open message and counts its payload. Control frames may come
  // between the fragments of a message and do not touch the state. On an error the state is unchanged.
  std::variant<std::monostate, ProtocolError> admit(const Header& h, std::uint64_t max_message_bytes);
};

struct ClosePayload {
  std::uint16_t code = kCloseNoStatus;
  std::string_view reason;  // a view into the payload given
};
std::variant<ClosePayload, ProtocolError> parse_close_payload(std::span<const std::uint8_t> payload);

// Writes a frame header into `out` (at least kMaxHeaderBytes long) and returns its size. `mask_key` null: an
// unmasked (server) frame.
std::size_t write_header(std::span<std::uint8_t> out, bool fin, std::uint8_t opcode, std::uint64_t payload_length,
                         const std::array<std::uint8_t, 4>* mask_key);

// XORs `data` with the mask key, `offset` = how many payload bytes of the frame came before `data`.
void apply_mask(std::span<std::uint8_t> data, const std::array<std::uint8_t, 4>& key, std::uint64_t offset);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, nothing past U+10FFFF).
bool valid_utf8(std::string_view text);

}  // namespace webstream::proxy::ws_frame
