#include "test_pattern.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/ids.hpp"
#include "gateway_client.hpp"
#include "streamer.hpp"

namespace webstream::sim {
namespace {

TEST(TestPattern, HeaderRoundTrips) {
  std::vector<std::uint8_t> frame;
  make_capture_frame(frame, 65536, 42, 1700000000123ULL);
  ASSERT_EQ(frame.size(), 65536u);
  EXPECT_EQ(std::memcmp(frame.data(), "WSIM", 4), 0);
  const auto h = parse_frame_header(frame.data(), frame.size());
  ASSERT_TRUE(h.valid);
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.header_bytes, 32);
  EXPECT_EQ(h.counter, 42u);
  EXPECT_EQ(h.timestamp_ms, 1700000000123ULL);
  EXPECT_EQ(h.width, 256);
  EXPECT_EQ(h.height, (65536 - 32) / (256 * 4));
  EXPECT_EQ(h.total_bytes, 65536u);
}

TEST(TestPattern, GradientMovesAndRowsDiffer) {
  std::vector<std::uint8_t> a, b;
  make_capture_frame(a, 4096, 0, 0);
  make_capture_frame(b, 4096, 1, 0);
  const auto g = frame_geometry(4096);
  ASSERT_GT(g.width, 2);
  ASSERT_GT(g.height, 2);
  auto px = [&](const std::vector<std::uint8_t>& f, int x, int y) { return f.data() + 32 + (y * g.width + x) * 4; };
  // Frame n+1 at x equals frame n at x+1: the gradient moves one pixel left per frame.
  EXPECT_EQ(px(b, 0, 0)[0], px(a, 1, 0)[0]);
  EXPECT_EQ(px(a, 5, 0)[0], 20);
  EXPECT_EQ(px(a, 0, 2)[1], 8);    // green grows with y
  EXPECT_EQ(px(a, 3, 1)[3], 255);  // opaque
  EXPECT_EQ(px(b, 3, 1)[2], 1);    // blue carries the frame counter
}

TEST(TestPattern, SmallFramesAndPadding) {
  std::vector<std::uint8_t> f;
  make_capture_frame(f, 32, 7, 0);
  ASSERT_EQ(f.size(), 32u);
  EXPECT_TRUE(parse_frame_header(f.data(), f.size()).valid);
  EXPECT_EQ(frame_geometry(32).width, 0);
  make_capture_frame(f, 32 + 4 * 3 + 2, 9, 0);  // 3 pixels in one row, 2 padding bytes
  const auto h = parse_frame_header(f.data(), f.size());
  ASSERT_TRUE(h.valid);
  EXPECT_EQ(h.width, 3);
  EXPECT_EQ(h.height, 1);
  EXPECT_EQ(f.back(), 9);
  f[0] = 'X';
  EXPECT_FALSE(parse_frame_header(f.data(), f.size()).valid);
}

TEST(TestPattern, ToneIsContinuousPcm) {
  ToneGenerator tone(48000, 20, 1000);
  EXPECT_EQ(tone.samples_per_frame(), 960u);
  std::vector<std::uint8_t> a, b;
  tone.next_frame(a);
  tone.next_frame(b);
  ASSERT_EQ(a.size(), 1920u);
  auto sample = [](const std::vector<std::uint8_t>& f, std::size_t i) {
    return static_cast<std::int16_t>(f[i * 2] | (f[i * 2 + 1] << 8));
  };
  EXPECT_EQ(sample(a, 0), 0);
  int peak = 0;
  for (std::size_t i = 0; i < 960; ++i) peak = std::max(peak, std::abs(static_cast<int>(sample(a, i))));
  EXPECT_NEAR(peak, 0.25 * 32767, 50);
  // 1 kHz at 48 kHz: 48 samples per period, 20 ms = 20 whole periods, so frame 2 starts where frame 1 did.
  EXPECT_NEAR(sample(b, 0), 0, 2);
  EXPECT_NEAR(sample(b, 12), sample(a, 12), 2);
}

TEST(SimIdentity, RandomUuidIsVersion4) {
  const auto a = random_uuid();
  const auto b = random_uuid();
  EXPECT_TRUE(is_uuid(a));
  EXPECT_NE(a, b);
  EXPECT_EQ(a[14], '4');
}

TEST(GatewayUrl, ParsesHttpOnly) {
  auto e = parse_gateway_url("http://127.0.0.1:9000");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "127.0.0.1");
  EXPECT_EQ(e->port, "9000");
  EXPECT_EQ(e->base_path, "");
  e = parse_gateway_url("http://gw.example/prefix/");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->port, "80");
  EXPECT_EQ(e->base_path, "/prefix");
  EXPECT_FALSE(parse_gateway_url("https://gw.example").ok());
  EXPECT_FALSE(parse_gateway_url("127.0.0.1:9000").ok());
}

}  // namespace
}  // namespace webstream::sim
