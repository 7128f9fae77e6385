// Fuzz target: the WebSocket tunnel's scanner (proxy/frame_scanner.hpp), the code that decides which bytes of a
// browser's or a backend's stream are passed on (CONTRACT §8, §11: 16 MiB messages, 1009 over). The first byte
// picks the direction (bit 0: from the client) and a small message limit (bits 1-3); the second seeds where the
// stream is cut into reads; the rest is the stream.
// Properties, besides no crash/UB: every result stays inside its read (forward + hold <= size, hold <=
// kMaxHold); what is forwarded, and what is seen (close frames, violations, message and byte counts), does not
// depend on how the stream was cut into reads; what is forwarded is itself a stream a fresh scanner forwards
// whole without a violation (the tunnel never passes on a bad frame); nothing is forwarded after a close frame
// or a violation.
#include <cstring>
#include <vector>

#include "fuzz_check.hpp"
#include "proxy/frame_scanner.hpp"

namespace {

using webstream::proxy::FrameScanner;

struct Seen {
  std::vector<std::uint8_t> forwarded;
  int closes = 0;
  std::uint16_t close_code = 0;
  std::uint16_t violation = 0;
  std::uint64_t messages = 0;
  std::uint64_t payload_bytes = 0;
};

// Reads of the sizes `next_cut` picks, the held tail presented again in front, as the relay does.
template <class NextCut>
Seen drive(bool from_client, std::uint64_t limit, std::span<const std::uint8_t> stream, NextCut next_cut) {
  FrameScanner scanner(from_client, limit);
  Seen seen;
  std::vector<std::uint8_t> held;
  std::size_t at = 0;
  bool ended = false;  // a close frame or a violation was reported
  while (at < stream.size()) {
    const std::size_t take = std::min(stream.size() - at, next_cut());
    std::vector<std::uint8_t> buf = held;
    buf.insert(buf.end(), stream.begin() + static_cast<std::ptrdiff_t>(at),
               stream.begin() + static_cast<std::ptrdiff_t>(at + take));
    at += take;
    const auto r = scanner.scan(buf);
    FUZZ_CHECK(r.forward + r.hold <= buf.size(), "a result outside its read");
    FUZZ_CHECK(r.hold <= FrameScanner::kMaxHold, "held more than a header and a control frame");
    FUZZ_CHECK(!ended || r.forward == 0, "forwarded after a close frame or a violation");
    seen.forwarded.insert(seen.forwarded.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r.forward));
    held.assign(buf.end() - static_cast<std::ptrdiff_t>(r.hold), buf.end());
    if (r.close_seen) {
      ++seen.closes;
      seen.close_code = r.close_code;
    }
    if (r.violation != 0) {
      FUZZ_CHECK(seen.violation == 0, "a second violation reported");
      seen.violation = r.violation;
    }
    if (r.close_seen || r.violation != 0) ended = true;
  }
  seen.messages = scanner.messages();
  seen.payload_bytes = scanner.payload_bytes();
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const bool from_client = (data[0] & 1) != 0;
  const std::uint64_t limit = std::uint64_t{1} << (4 + ((data[0] >> 1) & 7) * 3);  // 16 B .. 32 MiB
  std::uint32_t state = data[1] * 2654435761u + 1;
  const std::span<const std::uint8_t> stream(data + 2, size - 2);

  const Seen whole = drive(from_client, limit, stream, [&] { return stream.size() + 1; });
  const Seen cut = drive(from_client, limit, stream, [&] {
    state = state * 1103515245u + 12345u;
    return std::size_t{1} + (state >> 16) % 23;
  });
  FUZZ_CHECK(whole.forwarded == cut.forwarded, "what is forwarded depends on how reads cut the stream");
  FUZZ_CHECK(whole.closes == cut.closes && whole.close_code == cut.close_code, "close frames depend on the cuts");
  FUZZ_CHECK(whole.violation == cut.violation, "violations depend on the cuts");
  FUZZ_CHECK(whole.messages == cut.messages && whole.payload_bytes == cut.payload_bytes, "counts depend on the cuts");
  FUZZ_CHECK(whole.closes <= 1, "more than one close frame reported");

  // What went on is a clean stream: a fresh scanner passes all of it, with no violation.
  FrameScanner again(from_client, limit);
  const auto r = again.scan(whole.forwarded);
  FUZZ_CHECK(r.violation == 0, "a forwarded frame is a violation");
  FUZZ_CHECK(r.forward + r.hold == whole.forwarded.size(), "forwarded bytes that a fresh scanner does not pass");
  return 0;
}
