#include "proxy/frame_scanner.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace webstream::proxy {
namespace {

using Bytes = std::vector<std::uint8_t>;
constexpr std::array<std::uint8_t, 4> kKey{0x37, 0xfa, 0x21, 0x3d};
constexpr std::uint64_t kMax = 16 * 1024 * 1024;

// One frame as a peer writes it: masked when from_client.
Bytes frame(bool fin, std::uint8_t opcode, const std::string& payload, bool from_client) {
  Bytes out(ws_frame::kMaxHeaderBytes);
  out.resize(ws_frame::write_header(out, fin, opcode, payload.size(), from_client ? &kKey : nullptr));
  Bytes body(payload.begin(), payload.end());
  if (from_client) ws_frame::apply_mask(body, kKey, 0);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes close_frame(std::uint16_t code, const std::string& reason, bool from_client) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xff));
  payload += reason;
  return frame(true, ws_frame::kClose, payload, from_client);
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// Drives a scanner as the relay does: reads of the given sizes, the held tail presented again in front of the
// next read. Collects what is forwarded and every result.
struct Driven {
  Bytes forwarded;
  std::vector<FrameScanner::Result> results;
  Bytes held;
};

Driven drive(FrameScanner& scanner, const Bytes& stream, const std::vector<std::size_t>& cuts) {
  Driven d;
  std::size_t at = 0;
  auto feed = [&](std::size_t end) {
    Bytes buf = d.held;
    buf.insert(buf.end(), stream.begin() + static_cast<std::ptrdiff_t>(at),
               stream.begin() + static_cast<std::ptrdiff_t>(end));
    at = end;
    const auto r = scanner.scan(buf);
    EXPECT_LE(r.forward + r.hold, buf.size());
    EXPECT_LE(r.hold, FrameScanner::kMaxHold);
    d.forwarded.insert(d.forwarded.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.forward));
    d.held.assign(buf.end() - static_cast<std::ptrdiff_t>(r.hold), buf.end());
    d.results.push_back(r);
  };
  for (std::size_t cut : cuts) feed(cut);
  feed(stream.size());
  return d;
}

TEST(FrameScanner, EveryFrameOfAStreamPassesUnchangedWhereverTheReadsSplitIt) {
  for (bool from_client : {true, false}) {
    const Bytes stream =
        concat({frame(true, ws_frame::kText, "hello", from_client),
                frame(false, ws_frame::kBinary, std::string(300, 'a'), from_client),
                frame(true, ws_frame::kPing, "p1", from_client),  // inside the message
                frame(true, ws_frame::kContinuation, std::string(70000, 'b'), from_client),
                frame(true, ws_frame::kPong, "", from_client), frame(true, ws_frame::kText, "", from_client)});
    // Every single split point, and every pair of split points within the first 40 bytes (headers, the ping).
    for (std::size_t cut = 0; cut <= stream.size(); cut += (cut < 400 || cut > stream.size() - 40) ? 1 : 997) {
      FrameScanner scanner(from_client, kMax);
      const auto d = drive(scanner, stream, {cut});
      ASSERT_EQ(d.forwarded, stream) << "cut at " << cut;
      EXPECT_TRUE(d.held.empty());
      EXPECT_EQ(scanner.messages(), 3u);
      EXPECT_EQ(scanner.payload_bytes(), 5u + 300u + 70000u);
      EXPECT_TRUE(scanner.at_boundary());
    }
    for (std::size_t a = 0; a < 40; ++a) {
      for (std::size_t b = a; b < 40; ++b) {
        FrameScanner scanner(from_client, kMax);
        ASSERT_EQ(drive(scanner, stream, {a, b}).forwarded, stream) << a << "," << b;
      }
    }
  }
}

TEST(FrameScanner, AFrameHeaderSplitAcrossEveryByteBoundaryIsHeldNotForwarded) {
  // 14-byte header (64-bit length, mask), read one byte at a time: nothing goes on until the header is whole.
  const Bytes f = frame(true, ws_frame::kBinary, std::string(70000, 'x'), true);
  FrameScanner scanner(true, kMax);
  Bytes held;
  for (std::size_t i = 0; i < 14; ++i) {
    held.push_back(f[i]);
    const auto r = scanner.scan(held);
    if (i < 13) {
      EXPECT_EQ(r.forward, 0u) << i;
      EXPECT_EQ(r.hold, held.size()) << i;
    } else {
      EXPECT_EQ(r.forward, 14u);
      EXPECT_EQ(r.hold, 0u);
      EXPECT_FALSE(scanner.at_boundary());  // its payload is to come
    }
  }
}

TEST(FrameScanner, CloseFrameIsForwardedWithItsCodeAndEndsForwarding) {
  for (bool from_client : {true, false}) {
    const Bytes stream =
        concat({frame(true, ws_frame::kText, "bye soon", from_client), close_frame(4001, "browser bye", from_client),
                frame(true, ws_frame::kText, "after close", from_client)});
    for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
      FrameScanner scanner(from_client, kMax);
      const auto d = drive(scanner, stream, {cut});
      const std::size_t through_close =
          stream.size() - frame(true, ws_frame::kText, "after close", false).size() - (from_client ? 4 : 0);
      ASSERT_EQ(d.forwarded, Bytes(stream.begin(), stream.begin() + static_cast<std::ptrdiff_t>(through_close))) << cut;
      int closes = 0;
      for (const auto& r : d.results) {
        if (!r.close_seen) continue;
        ++closes;
        EXPECT_EQ(r.close_code, 4001);
        EXPECT_TRUE(r.close_forwarded);
      }
      EXPECT_EQ(closes, 1);
      EXPECT_TRUE(scanner.discarding());
    }
  }
}

TEST(FrameScanner, ABadCloseFrameIsAViolationAndIsNotForwarded) {
  FrameScanner bad_code(true, kMax);
  auto r = bad_code.scan(close_frame(999, "", true));
  EXPECT_EQ(r.violation, 1002);
  EXPECT_EQ(r.forward, 0u);
  FrameScanner bad_utf8(true, kMax);
  r = bad_utf8.scan(close_frame(1000, "\xc0\xaf", true));
  EXPECT_EQ(r.violation, 1007);
  EXPECT_EQ(r.forward, 0u);
  FrameScanner empty(false, kMax);
  r = empty.scan(frame(true, ws_frame::kClose, "", false));
  EXPECT_TRUE(r.close_seen);
  EXPECT_EQ(r.close_code, 1005);
}

TEST(FrameScanner, UnmaskedBrowserFrameOrMaskedBackendFrameIs1002AndDropsEverythingAfter) {
  const Bytes ok = frame(true, ws_frame::kText, "fine", true);
  const Bytes unmasked = frame(true, ws_frame::kText, "bad", false);
  FrameScanner scanner(true, kMax);
  auto r = scanner.scan(concat({ok, unmasked, ok}));
  EXPECT_EQ(r.violation, 1002);
  EXPECT_EQ(r.forward, ok.size());
  r = scanner.scan(ok);  // framing is lost: nothing more is parsed or forwarded
  EXPECT_EQ(r.forward, 0u);
  EXPECT_FALSE(r.close_seen);

  FrameScanner from_backend(false, kMax);
  EXPECT_EQ(from_backend.scan(frame(true, ws_frame::kBinary, "x", true)).violation, 1002);
}

TEST(FrameScanner, SixteenMiBPassesAndOneByteMoreIs1009AtTheHeaderThenTheCloseAnswerIsFound) {
  // Exactly the limit, in one frame: passes. Counted by the header, not by buffering it.
  FrameScanner exact(true, kMax);
  Bytes h(ws_frame::kMaxHeaderBytes);
  h.resize(ws_frame::write_header(h, true, ws_frame::kBinary, kMax, &kKey));
  auto r = exact.scan(h);
  EXPECT_EQ(r.violation, 0);
  EXPECT_EQ(r.forward, h.size());

  // The limit + 1 as two fragments: the first passes, the second's header is refused before its payload.
  FrameScanner over(true, kMax);
  Bytes first(ws_frame::kMaxHeaderBytes);
  first.resize(ws_frame::write_header(first, false, ws_frame::kBinary, kMax, &kKey));
  r = over.scan(first);
  EXPECT_EQ(r.forward, first.size());
  const Bytes payload(kMax, 0x55);
  r = over.scan(payload);
  EXPECT_EQ(r.forward, payload.size());
  EXPECT_TRUE(over.at_boundary());
  const Bytes second = frame(true, ws_frame::kContinuation, "x", true);
  r = over.scan(concat({second, close_frame(1009, "", true)}));
  EXPECT_EQ(r.violation, 1009);
  EXPECT_EQ(r.forward, 0u);   // nothing of the frame over the limit goes on
  EXPECT_TRUE(r.close_seen);  // the sender's answer to our 1009, parsed past the skipped payload
  EXPECT_FALSE(r.close_forwarded);
  EXPECT_EQ(over.payload_bytes(), kMax);
}

TEST(FrameScanner, StopAtBoundaryWaitsForTheFrameInProgress) {
  const Bytes big = frame(true, ws_frame::kBinary, std::string(1000, 'z'), false);
  const Bytes next = frame(true, ws_frame::kText, "next", false);
  FrameScanner scanner(false, kMax);
  auto r = scanner.scan(Bytes(big.begin(), big.begin() + 500));
  EXPECT_EQ(r.forward, 500u);
  EXPECT_FALSE(scanner.at_boundary());
  scanner.stop_at_boundary();
  r = scanner.scan(concat({Bytes(big.begin() + 500, big.end()), next}));
  EXPECT_TRUE(r.boundary_stop);
  EXPECT_EQ(r.forward, big.size() - 500);  // the rest of the big frame, not `next`
  EXPECT_TRUE(scanner.discarding());
  r = scanner.scan(close_frame(1000, "", false));  // the closing answer is still seen
  EXPECT_TRUE(r.close_seen);
  EXPECT_EQ(r.forward, 0u);
}

TEST(FrameScanner, StopAtTheEndOfAReadIsReportedAtOnce) {
  FrameScanner scanner(false, kMax);
  const Bytes f = frame(true, ws_frame::kText, "abc", false);
  auto r = scanner.scan(Bytes(f.begin(), f.begin() + 3));
  scanner.stop_at_boundary();
  r = scanner.scan(Bytes(f.begin() + 3, f.end()));
  EXPECT_TRUE(r.boundary_stop);
  EXPECT_EQ(r.forward, f.size() - 3);
}

TEST(FrameScanner, MessageRulesAcrossFragments) {
  FrameScanner scanner(true, kMax);
  auto r = scanner.scan(frame(true, ws_frame::kContinuation, "orphan", true));
  EXPECT_EQ(r.violation, 1002);
  FrameScanner nested(true, kMax);
  r = nested.scan(concat({frame(false, ws_frame::kText, "a", true), frame(true, ws_frame::kText, "b", true)}));
  EXPECT_EQ(r.violation, 1002);
  EXPECT_EQ(r.forward, frame(false, ws_frame::kText, "a", true).size());
}

TEST(FrameScanner, DiscardForwardsNothingButStillSeesTheClose) {
  FrameScanner scanner(true, kMax);
  scanner.discard();
  const auto r = scanner.scan(concat({frame(true, ws_frame::kText, "late", true), close_frame(1000, "", true)}));
  EXPECT_EQ(r.forward, 0u);
  EXPECT_TRUE(r.close_seen);
  EXPECT_FALSE(r.close_forwarded);
  EXPECT_EQ(scanner.messages(), 0u);
}

}  // namespace
}  // namespace webstream::proxy
