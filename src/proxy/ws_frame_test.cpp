#include "proxy/ws_frame.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace webstream::proxy::ws_frame {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::array<std::uint8_t, 4> kKey{0x37, 0xfa, 0x21, 0x3d};

Bytes header(bool fin, std::uint8_t opcode, std::uint64_t length, bool masked) {
  Bytes out(kMaxHeaderBytes);
  out.resize(write_header(out, fin, opcode, length, masked ? &kKey : nullptr));
  return out;
}

ParseResult parse(const Bytes& b, bool from_client = true, std::uint64_t max = UINT64_MAX) {
  return parse_header(b, Rules{from_client, max});
}

std::uint16_t error_code(const ParseResult& r) {
  const auto* e = std::get_if<ProtocolError>(&r);
  return e ? e->close_code : 0;
}

TEST(WsFrame, ParsesEveryLengthEncodingMaskedAndNot) {
  for (std::uint64_t length :
       {0ull, 1ull, 125ull, 126ull, 65535ull, 65536ull, 16ull * 1024 * 1024 + 1, (1ull << 40) + 3}) {
    for (bool masked : {true, false}) {
      const Bytes b = header(true, kBinary, length, masked);
      const auto r = parse(b, masked);
      const auto* h = std::get_if<Header>(&r);
      ASSERT_NE(h, nullptr) << length << " masked=" << masked;
      EXPECT_TRUE(h->fin);
      EXPECT_EQ(h->opcode, kBinary);
      EXPECT_EQ(h->masked, masked);
      EXPECT_EQ(h->payload_length, length);
      EXPECT_EQ(h->header_size, b.size());
      const std::size_t length_bytes = length < 126 ? 0 : length <= 0xFFFF ? 2 : 8;
      EXPECT_EQ(b.size(), 2 + length_bytes + (masked ? 4u : 0u));
      if (masked) {
        EXPECT_EQ(h->mask_key, kKey);
      }
    }
  }
}

// The tunnel feeds the parser whatever arrived: every split of every header shape must give NeedMore with
// the right count up to the last byte, then the same header, whatever follows the header.
TEST(WsFrame, HeaderSplitAtEveryByteBoundary) {
  for (std::uint64_t length : {5ull, 300ull, 70000ull}) {
    for (bool masked : {true, false}) {
      Bytes b = header(false, kText, length, masked);
      const std::size_t size = b.size();
      b.push_back(0xAA);  // payload bytes after the header are not looked at
      b.push_back(0x55);
      for (std::size_t cut = 0; cut < size; ++cut) {
        const Bytes part(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(cut));
        const auto r = parse(part, masked);
        const auto* more = std::get_if<NeedMore>(&r);
        ASSERT_NE(more, nullptr) << "cut " << cut << " of " << size;
        EXPECT_GT(more->header_bytes, cut);
        EXPECT_LE(more->header_bytes, size);
        if (cut >= 2) {
          EXPECT_EQ(more->header_bytes, size) << "the second byte tells the whole size";
        }
      }
      for (std::size_t cut = size; cut <= b.size(); ++cut) {
        const Bytes part(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(cut));
        const auto r = parse(part, masked);
        const auto* h = std::get_if<Header>(&r);
        ASSERT_NE(h, nullptr) << "cut " << cut;
        EXPECT_EQ(h->payload_length, length);
        EXPECT_EQ(h->header_size, size);
        EXPECT_FALSE(h->fin);
      }
    }
  }
}

TEST(WsFrame, ProtocolErrorsAre1002) {
  EXPECT_EQ(error_code(parse({0x82 | 0x40, 0x80, 1, 2, 3, 4})), 1002);   // RSV1 (no extension negotiated)
  EXPECT_EQ(error_code(parse({0x83, 0x80, 1, 2, 3, 4})), 1002);          // opcode 3 is reserved
  EXPECT_EQ(error_code(parse({0x8B, 0x80, 1, 2, 3, 4})), 1002);          // opcode 0xB is reserved
  EXPECT_EQ(error_code(parse({0x82, 0x00})), 1002);                      // client frame unmasked
  EXPECT_EQ(error_code(parse({0x82, 0x80, 1, 2, 3, 4}, false)), 1002);   // server frame masked
  EXPECT_EQ(error_code(parse({0x09, 0x80, 1, 2, 3, 4})), 1002);          // fragmented ping
  EXPECT_EQ(error_code(parse({0x89, 0xFE, 0, 126})), 1002);              // ping with 126 bytes
  EXPECT_EQ(error_code(parse({0x88, 0x81, 1, 2, 3, 4})), 1002);          // close with one byte
  EXPECT_EQ(error_code(parse({0x82, 0xFE, 0, 125, 1, 2, 3, 4})), 1002);  // 16-bit length under 126
  EXPECT_EQ(error_code(parse({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4})), 1002);  // 64-bit ≤ 0xFFFF
  EXPECT_EQ(error_code(parse({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4})), 1002);     // top bit set
  // Errors known from the first two bytes come before the rest arrives.
  EXPECT_EQ(error_code(parse({0x89, 0xFF})), 1002);
  EXPECT_EQ(error_code(parse({0xC2, 0x80})), 1002);
}

TEST(WsFrame, FrameOverTheLimitIs1009FromTheLengthAlone) {
  constexpr std::uint64_t kMax = 16 * 1024 * 1024;
  Bytes b = header(true, kBinary, kMax + 1, true);
  b.resize(10);  // the mask key has not arrived yet
  EXPECT_EQ(error_code(parse(b, true, kMax)), 1009);
  const auto ok = parse(header(true, kBinary, kMax, true), true, kMax);
  EXPECT_TRUE(std::holds_alternative<Header>(ok));
  // Control frames are bounded by 125 bytes, never by the message limit.
  EXPECT_TRUE(std::holds_alternative<Header>(parse(header(true, kPing, 100, true), true, 10)));
}

TEST(WsFrame, MessageStateFollowsFragmentsAndLimits) {
  auto frame = [](bool fin, std::uint8_t op, std::uint64_t len) {
    Header h;
    h.fin = fin;
    h.opcode = op;
    h.payload_length = len;
    return h;
  };
  MessageState s;
  auto code = [](const std::variant<std::monostate, ProtocolError>& r) {
    const auto* e = std::get_if<ProtocolError>(&r);
    return e ? e->close_code : 0;
  };
  EXPECT_EQ(code(s.admit(frame(true, kContinuation, 1), 100)), 1002);  // nothing to continue
  EXPECT_EQ(code(s.admit(frame(false, kText, 40), 100)), 0);
  EXPECT_TRUE(s.in_message);
  EXPECT_EQ(s.opcode, kText);
  EXPECT_EQ(code(s.admit(frame(true, kPing, 4), 100)), 0);            // control frames between fragments
  EXPECT_EQ(code(s.admit(frame(true, kBinary, 1), 100)), 1002);       // a new message inside one
  EXPECT_EQ(code(s.admit(frame(false, kContinuation, 60), 100)), 0);  // 100 bytes: exactly the limit
  EXPECT_EQ(s.message_bytes, 100u);
  EXPECT_EQ(code(s.admit(frame(true, kContinuation, 1), 100)), 1009);  // 101
  EXPECT_EQ(s.message_bytes, 100u) << "unchanged after an error";
  EXPECT_EQ(code(s.admit(frame(true, kContinuation, 0), 100)), 0);
  EXPECT_FALSE(s.in_message);
  EXPECT_EQ(code(s.admit(frame(true, kBinary, 100), 100)), 0);
  EXPECT_EQ(code(s.admit(frame(true, kBinary, UINT64_MAX), 100)), 1009);
  EXPECT_EQ(code(s.admit(frame(false, kBinary, 90), 100)), 0);
  EXPECT_EQ(code(s.admit(frame(false, kContinuation, UINT64_MAX - 10), 100)), 1009);  // no overflow
}

TEST(WsFrame, ClosePayloads) {
  auto payload = [](std::uint16_t code, std::string reason) {
    Bytes b{static_cast<std::uint8_t>(code >> 8), static_cast<std::uint8_t>(code)};
    b.insert(b.end(), reason.begin(), reason.end());
    return b;
  };
  auto close = [&](std::uint16_t code, std::string reason) { return parse_close_payload(payload(code, reason)); };
  const Bytes bye = payload(4001, "bye");  // the reason is a view into the payload: keep it alive
  auto ok = parse_close_payload(bye);
  ASSERT_TRUE(std::holds_alternative<ClosePayload>(ok));
  EXPECT_EQ(std::get<ClosePayload>(ok).code, 4001);
  EXPECT_EQ(std::get<ClosePayload>(ok).reason, "bye");
  const auto empty = parse_close_payload({});
  ASSERT_TRUE(std::holds_alternative<ClosePayload>(empty));
  EXPECT_EQ(std::get<ClosePayload>(empty).code, kCloseNoStatus);
  for (std::uint16_t bad : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000}) {
    const auto r = close(bad, "");
    ASSERT_TRUE(std::holds_alternative<ProtocolError>(r)) << bad;
    EXPECT_EQ(std::get<ProtocolError>(r).close_code, 1002) << bad;
  }
  const auto not_utf8 = close(1000, "\xC3\x28");
  ASSERT_TRUE(std::holds_alternative<ProtocolError>(not_utf8));
  EXPECT_EQ(std::get<ProtocolError>(not_utf8).close_code, 1007);
  const Bytes one{0x03};
  EXPECT_TRUE(std::holds_alternative<ProtocolError>(parse_close_payload(one)));
}

TEST(WsFrame, Utf8) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_FALSE(valid_utf8("\xC0\xAF"));                             // overlong '/'
  EXPECT_FALSE(valid_utf8("\xE0\x80\xAF"));                         // overlong
  EXPECT_FALSE(valid_utf8("\xED\xA0\x80"));                         // surrogate
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));                     // past U+10FFFF
  EXPECT_FALSE(valid_utf8("\xE2\x82"));                             // truncated
  EXPECT_FALSE(valid_utf8("\x80"));                                 // lone continuation
}

TEST(WsFrame, MaskRoundTripsFromAnyOffset) {
  const std::string text = "The quick brown fox";
  Bytes data(text.begin(), text.end());
  apply_mask(data, kKey, 0);
  EXPECT_NE(Bytes(text.begin(), text.end()), data);
  // Unmasking in two pieces (as bytes arrive) with the right offsets restores the text.
  std::span<std::uint8_t> all(data);
  apply_mask(all.subspan(0, 7), kKey, 0);
  apply_mask(all.subspan(7), kKey, 7);
  EXPECT_EQ(std::string(data.begin(), data.end()), text);
}

}  // namespace
}  // namespace webstream::proxy::ws_frame
