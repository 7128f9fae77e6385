#pragma once
// One direction of the WebSocket tunnel (ws_relay.hpp) as a pure function over the bytes read from its sender:
// it parses frame headers only, and says which prefix of the bytes goes to the other side exactly as it came
// (payloads, masks and fragment boundaries untouched), and what happened on the way (the sender's close frame,
// a protocol violation, a message over the limit). No I/O, no allocation: the relay, the unit tests and the
// fuzz target drive it the same way.
//
// Calling it: scan(bytes) → forward bytes[0, forward) to the other side, keep the last `hold` bytes (an
// incomplete frame header or control frame, at most kMaxHold) and present them again in front of the next
// bytes read. Data frame payloads are never held: they are forwarded as they arrive. Control frames (at most
// 125 bytes of payload) are forwarded whole, once complete, so that a close frame is checked before any of it
// goes on. Ping and pong pass through (the peers answer each other, RFC 6455 §5.5.2-3).
//
// After the sender's close frame, a violation, stop_at_boundary() reaching a frame boundary, or discard(),
// nothing more is forwarded ("discarding"): frames are still parsed, so that the sender's closing answer is
// seen (close_seen) and the connection can be closed lingeringly rather than reset. After a header that cannot
// be parsed (1002), framing is lost and every later byte is dropped unparsed.
//
// Thread rules: none (one scanner per direction, used by one executor).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "proxy/ws_frame.hpp"

namespace webstream::proxy {

class FrameScanner {
 public:
  static constexpr std::size_t kMaxHold = ws_frame::kMaxHeaderBytes + ws_frame::kMaxControlPayload;

  // from_client: frames must be masked (browser → backend) or must not be (backend → browser).
  FrameScanner(bool from_client, std::uint64_t max_message_bytes);

  struct Result {
    std::size_t forward = 0;       // bytes[0, forward) go to the other side unchanged
    std::size_t hold = 0;          // the last `hold` bytes: present them again, followed by more
    bool boundary_stop = false;    // the forwarded bytes end at the boundary stop_at_boundary() asked for
    bool close_seen = false;       // the sender's close frame (forwarded unless it came while discarding)
    bool close_forwarded = false;  // ... and it is inside bytes[0, forward)
    std::uint16_t close_code = 0;  // its code: 1005 when it carried none
    std::uint16_t violation = 0;   // != 0: the code the sender is closed with (1002, 1007, 1009)
    std::string_view why;          // static text for the log
  };

  Result scan(std::span<const std::uint8_t> bytes);

  // Forward up to the end of the frame in progress, then report boundary_stop and discard the rest.
  void stop_at_boundary() { stop_requested_ = true; }
  // Forward nothing from now on (frames are still parsed to see the sender's close frame).
  void discard() { discarding_ = true; }

  bool discarding() const { return discarding_; }
  // Everything forwarded so far ends at a frame boundary: a frame of the gateway's own may go next.
  bool at_boundary() const { return payload_left_ == 0; }

  // Data messages (counted at their final frame's header) and data payload bytes forwarded so far.
  std::uint64_t messages() const { return messages_; }
  std::uint64_t payload_bytes() const { return payload_bytes_; }

 private:
  ws_frame::Rules rules_;
  ws_frame::MessageState message_;
  std::uint64_t max_message_bytes_;
  std::uint64_t payload_left_ = 0;  // of the data frame in progress
  std::uint64_t messages_ = 0;
  std::uint64_t payload_bytes_ = 0;
  bool discarding_ = false;
  bool unparseable_ = false;  // framing lost: drop everything, parse nothing
  bool stop_requested_ = false;
};

}  // namespace webstream::proxy
