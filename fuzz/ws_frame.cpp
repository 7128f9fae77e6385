// Fuzz target: WebSocket frame headers (CONTRACT §8: the relay passes frames both ways, messages up to 16 MiB,
// close 1009 over) — proxy/ws_frame.hpp, the parser the relay's tunnel runs on every frame. The first byte
// picks the direction (bit 0: from the client, i.e. masked) and a small message limit (bits 1-3), the rest is
// a byte stream of frames, walked header by header as the relay walks it (payloads skipped, close payloads
// unmasked and parsed).
// Properties, besides no crash/UB: a header parsed from bytes is parsed the same from every longer buffer,
// and every shorter prefix asks for more (NeedMore) with a count within (prefix, header size]; a header obeys
// RFC 6455 (masking by direction, no RSV bit, a known opcode, control frames final and <= 125 bytes, lengths
// minimally encoded); write_header() of a parsed header reproduces its bytes exactly; the message rules
// refuse a payload over the limit with 1009; masking twice is the identity, also when split at any offset;
// a close reason accepted is valid UTF-8 by a second judge (Boost.JSON's string validation).
#include <boost/json/parse.hpp>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "proxy/ws_frame.hpp"

namespace {

namespace wf = webstream::proxy::ws_frame;

bool same(const wf::Header& a, const wf::Header& b) {
  return a.fin == b.fin && a.opcode == b.opcode && a.masked == b.masked && a.mask_key == b.mask_key &&
         a.payload_length == b.payload_length && a.header_size == b.header_size;
}

// Boost.JSON's opinion of `text` as UTF-8, when the text can be put between quotes unchanged.
std::optional<bool> json_says_utf8(std::string_view text) {
  for (unsigned char c : text) {
    if (c < 0x20 || c == '"' || c == '\\') return std::nullopt;
  }
  std::string quoted = "\"" + std::string(text) + "\"";
  boost::system::error_code ec;
  boost::json::parse(quoted, ec);
  return !ec;
}

void check_header(std::span<const std::uint8_t> bytes, const wf::Header& h, const wf::Rules& rules) {
  FUZZ_CHECK(h.header_size >= 2 && h.header_size <= wf::kMaxHeaderBytes && h.header_size <= bytes.size(),
             "header size out of range");
  FUZZ_CHECK((bytes[0] & 0x70) == 0, "a header with an RSV bit set");
  FUZZ_CHECK(h.masked == rules.from_client, "masking against the direction");
  const auto op = h.opcode;
  FUZZ_CHECK(op == 0 || op == 1 || op == 2 || op == 8 || op == 9 || op == 10, "an unknown opcode");
  if (h.is_control()) FUZZ_CHECK(h.fin && h.payload_length <= wf::kMaxControlPayload, "a bad control frame");
  FUZZ_CHECK(h.payload_length < (std::uint64_t{1} << 63), "a length over 2^63");
  if (!h.is_control()) FUZZ_CHECK(h.payload_length <= rules.max_frame_payload, "a frame over the frame limit");
  // Every shorter prefix needs more; never a different answer.
  for (std::size_t k = 0; k < h.header_size; ++k) {
    auto partial = wf::parse_header(bytes.first(k), rules);
    if (auto* need = std::get_if<wf::NeedMore>(&partial)) {
      FUZZ_CHECK(need->header_bytes > k && need->header_bytes <= h.header_size, "NeedMore asks for a wrong count");
    } else {
      FUZZ_CHECK(std::holds_alternative<wf::NeedMore>(partial), "a prefix of a valid header is not NeedMore");
    }
  }
  // Extra bytes after the header change nothing.
  std::vector<std::uint8_t> longer(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(h.header_size));
  longer.push_back(0xFF);
  auto again = wf::parse_header(longer, rules);
  FUZZ_CHECK(std::holds_alternative<wf::Header>(again) && same(std::get<wf::Header>(again), h),
             "a header parses differently with more bytes after it");
  // Writing it back gives the same bytes (the parser accepts only minimal lengths).
  std::array<std::uint8_t, wf::kMaxHeaderBytes> out{};
  const auto n = wf::write_header(out, h.fin, h.opcode, h.payload_length, h.masked ? &h.mask_key : nullptr);
  FUZZ_CHECK(n == h.header_size && std::memcmp(out.data(), bytes.data(), n) == 0,
             "write_header differs from the input");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (size == 0) return 0;
  wf::Rules rules;
  rules.from_client = (data[0] & 1) != 0;
  const std::uint64_t max_message = std::uint64_t{1} << (4 + ((data[0] >> 1) & 7) * 3);  // 16 B .. 32 MiB
  rules.max_frame_payload = (data[0] & 0x10) ? max_message : UINT64_MAX;
  std::span<const std::uint8_t> rest(data + 1, size - 1);
  wf::MessageState state;
  while (!rest.empty()) {
    auto parsed = wf::parse_header(rest, rules);
    if (auto* need = std::get_if<wf::NeedMore>(&parsed)) {
      FUZZ_CHECK(need->header_bytes > rest.size() && need->header_bytes <= wf::kMaxHeaderBytes,
                 "NeedMore with a bad count");
      break;
    }
    if (auto* error = std::get_if<wf::ProtocolError>(&parsed)) {
      FUZZ_CHECK(error->close_code == wf::kCloseProtocolError || error->close_code == wf::kCloseTooBig,
                 "a header error with another close code");
      break;
    }
    const auto h = std::get<wf::Header>(parsed);
    check_header(rest, h, rules);
    const auto before = state;
    auto admitted = state.admit(h, max_message);
    if (auto* error = std::get_if<wf::ProtocolError>(&admitted)) {
      FUZZ_CHECK(state.in_message == before.in_message && state.message_bytes == before.message_bytes,
                 "a refused frame changed the message state");
      if (error->close_code == wf::kCloseTooBig) {
        const std::uint64_t so_far = h.opcode == wf::kContinuation ? before.message_bytes : 0;
        FUZZ_CHECK(h.payload_length > max_message - std::min(so_far, max_message),
                   "1009 for a message within the limit");
      }
      break;
    }
    FUZZ_CHECK(state.message_bytes <= max_message, "a message over the limit was admitted");
    rest = rest.subspan(h.header_size);
    const auto available = static_cast<std::size_t>(std::min<std::uint64_t>(h.payload_length, rest.size()));
    std::vector<std::uint8_t> payload(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(available));
    if (h.masked) {
      auto copy = payload;
      wf::apply_mask(payload, h.mask_key, 0);
      // Unmasking in two pieces at any split gives the same bytes; masking again restores the input.
      if (!copy.empty()) {
        auto split = copy;
        const std::size_t cut = copy.size() / 2 + 1;
        wf::apply_mask(std::span(split).first(cut), h.mask_key, 0);
        wf::apply_mask(std::span(split).subspan(cut), h.mask_key, cut);
        FUZZ_CHECK(split == payload, "masking depends on how the payload is split");
      }
      wf::apply_mask(payload, h.mask_key, 0);
      FUZZ_CHECK(payload == copy, "masking twice is not the identity");
      wf::apply_mask(payload, h.mask_key, 0);
    }
    if (h.opcode == wf::kClose && available == h.payload_length) {
      auto close = wf::parse_close_payload(payload);
      if (auto* c = std::get_if<wf::ClosePayload>(&close)) {
        FUZZ_CHECK(payload.empty() ? c->code == wf::kCloseNoStatus : c->code != wf::kCloseNoStatus,
                   "close code 1005 on the wire");
        FUZZ_CHECK(wf::valid_utf8(c->reason), "an accepted close reason is not UTF-8");
        if (auto json = json_says_utf8(c->reason)) FUZZ_CHECK(*json, "Boost.JSON refuses an accepted close reason");
      }
    }
    if (h.opcode == wf::kText && available == h.payload_length && h.fin && h.opcode != wf::kContinuation) {
      const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
      if (auto json = json_says_utf8(text)) {
        FUZZ_CHECK(*json == wf::valid_utf8(text), "valid_utf8 and Boost.JSON disagree on a text frame");
      }
    }
    rest = rest.subspan(available);
  }
  return 0;
}
