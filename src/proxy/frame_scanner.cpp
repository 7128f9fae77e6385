#include "proxy/frame_scanner.hpp"

#include <algorithm>
#include <array>
#include <variant>

namespace webstream::proxy {

FrameScanner::FrameScanner(bool from_client, std::uint64_t max_message_bytes)
    : rules_{from_client, UINT64_MAX}, max_message_bytes_(max_message_bytes) {}

FrameScanner::Result FrameScanner::scan(std::span<const std::uint8_t> bytes) {
  Result r;
  if (unparseable_) return r;
  const std::size_t n = bytes.size();
  std::size_t pos = 0;
  // Moves the forwarded end to `pos` unless discarding.
  auto advance = [&] {
    if (!discarding_) r.forward = pos;
  };
  // A violation is reported once (the first, unless already discarding); from then on nothing is forwarded.
  auto refuse = [&](const ws_frame::ProtocolError& error) {
    if (!discarding_) {
      r.violation = error.close_code;
      r.why = error.reason;
    }
    discarding_ = true;
  };
  while (pos < n) {
    if (payload_left_ > 0) {  // inside a data frame's payload: it passes as it comes
      const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, n - pos));
      payload_left_ -= take;
      pos += take;
      if (!discarding_) payload_bytes_ += take;
      advance();
      continue;
    }
    if (stop_requested_ && !discarding_) {  // at a boundary: the caller's own frame goes here
      r.boundary_stop = true;
      discarding_ = true;
    }
    const auto parsed = ws_frame::parse_header(bytes.subspan(pos), rules_);
    if (std::holds_alternative<ws_frame::NeedMore>(parsed)) {
      r.hold = n - pos;
      break;
    }
    if (const auto* error = std::get_if<ws_frame::ProtocolError>(&parsed)) {
      refuse(*error);
      unparseable_ = true;  // framing is lost
      return r;
    }
    const auto& h = std::get<ws_frame::Header>(parsed);
    if (h.is_control()) {
      const std::size_t total = h.header_size + static_cast<std::size_t>(h.payload_length);
      if (n - pos < total) {  // at most kMaxHold: held until complete
        r.hold = n - pos;
        break;
      }
      if (h.opcode == ws_frame::kClose) {
        std::array<std::uint8_t, ws_frame::kMaxControlPayload> payload{};
        const auto len = static_cast<std::size_t>(h.payload_length);
        std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(pos + h.header_size), len, payload.begin());
        if (h.masked) ws_frame::apply_mask(std::span(payload.data(), len), h.mask_key, 0);
        const auto close = ws_frame::parse_close_payload(std::span<const std::uint8_t>(payload.data(), len));
        if (const auto* error = std::get_if<ws_frame::ProtocolError>(&close)) {
          refuse(*error);
          unparseable_ = true;
          return r;
        }
        r.close_seen = true;
        r.close_code = std::get<ws_frame::ClosePayload>(close).code;
        r.close_forwarded = !discarding_;
        pos += total;
        advance();
        // Nothing may follow a close frame (RFC 6455 §5.5.1): whatever does is dropped unparsed.
        discarding_ = true;
        unparseable_ = true;
        return r;
      }
      pos += total;  // ping, pong: passed on as they are
      advance();
      continue;
    }
    const auto admitted = message_.admit(h, max_message_bytes_);
    if (const auto* error = std::get_if<ws_frame::ProtocolError>(&admitted)) {
      // The frame is well formed, so framing holds: skip its payload and keep parsing for the close answer.
      refuse(*error);
      message_ = {};
    } else if (h.fin && !discarding_) {
      ++messages_;
    }
    pos += h.header_size;
    payload_left_ = h.payload_length;
    advance();
  }
  // A stop asked for while the last frame ended exactly here.
  if (stop_requested_ && !discarding_ && payload_left_ == 0) {
    r.boundary_stop = true;
    discarding_ = true;
  }
  return r;
}

}  // namespace webstream::proxy
