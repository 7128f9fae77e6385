#pragma once
// Test media the simulated streamer sends: /capture video frames and /audio PCM tone frames.
// Pure functions (no I/O) so the format is unit-tested; docs/sim.md documents the byte layout.
//
// /capture frame (all integers little-endian):
//   offset size field
//   0      4    magic "WSIM"
//   4      2    format version (1)
//   6      2    header size in bytes (32)
//   8      8    frame counter, starting at 0 on each connection
//   16     8    sender wall-clock time, milliseconds since the Unix epoch
//   24     2    width in pixels
//   26     2    height in pixels
//   28     4    total frame size in bytes (header + pixels + padding)
//   32     width*height*4  RGBA pixels, row-major; then padding bytes, each = counter & 0xFF
// Pixel (x, y) of frame n: R = (x*4 + n*4) & 0xFF (a gradient that moves left by one pixel per frame),
// G = (y*4) & 0xFF, B = n & 0xFF, A = 255.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace webstream::sim {

constexpr std::size_t kFrameHeaderBytes = 32;
constexpr std::uint16_t kFrameFormatVersion = 1;
constexpr std::uint16_t kMaxFrameWidth = 256;

struct FrameGeometry {
  std::uint16_t width = 0;
  std::uint16_t height = 0;
};

// The picture size that fits in `frame_bytes` (>= kFrameHeaderBytes): width = min(256, pixels that fit in
// one row), height = whole rows that fit. A frame too small for one pixel has width = height = 0.
FrameGeometry frame_geometry(std::size_t frame_bytes);

// Writes frame number `counter` into `out` (resized to `frame_bytes`, reusing its capacity).
void make_capture_frame(std::vector<std::uint8_t>& out, std::size_t frame_bytes, std::uint64_t counter,
                        std::uint64_t timestamp_ms);

// The header fields of a frame, for tests and tools.
struct FrameHeader {
  bool valid = false;
  std::uint16_t version = 0;
  std::uint16_t header_bytes = 0;
  std::uint64_t counter = 0;
  std::uint64_t timestamp_ms = 0;
  std::uint16_t width = 0;
  std::uint16_t height = 0;
  std::uint32_t total_bytes = 0;
};
FrameHeader parse_frame_header(const std::uint8_t* data, std::size_t size);

// A continuous sine tone as 16-bit signed little-endian mono PCM, cut into frames of equal duration.
// The phase carries over from one frame to the next so the frames join without clicks.
class ToneGenerator {
 public:
  ToneGenerator(int sample_rate, int frame_ms, double tone_hz, double amplitude = 0.25);
  std::size_t samples_per_frame() const { return samples_per_frame_; }
  // Writes the next frame (samples_per_frame() * 2 bytes) into `out`.
  void next_frame(std::vector<std::uint8_t>& out);

 private:
  std::size_t samples_per_frame_;
  double phase_step_;
  double amplitude_;
  double phase_ = 0;
};

}  // namespace webstream::sim
