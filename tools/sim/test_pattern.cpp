#include "test_pattern.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

namespace webstream::sim {
namespace {

void put_u16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
}
void put_u32(std::uint8_t* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put_u64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint16_t get_u16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | (p[1] << 8)); }
std::uint32_t get_u32(const std::uint8_t* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint64_t get_u64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

}  // namespace

FrameGeometry frame_geometry(std::size_t frame_bytes) {
  if (frame_bytes < kFrameHeaderBytes + 4) return {};
  const std::size_t pixels = (frame_bytes - kFrameHeaderBytes) / 4;
  const std::size_t width = std::min<std::size_t>(kMaxFrameWidth, pixels);
  const std::size_t height = std::min<std::size_t>(pixels / width, 0xFFFF);
  return {static_cast<std::uint16_t>(width), static_cast<std::uint16_t>(height)};
}

void make_capture_frame(std::vector<std::uint8_t>& out, std::size_t frame_bytes, std::uint64_t counter,
                        std::uint64_t timestamp_ms) {
  frame_bytes = std::max(frame_bytes, kFrameHeaderBytes);
  out.resize(frame_bytes);
  std::uint8_t* p = out.data();
  const FrameGeometry g = frame_geometry(frame_bytes);
  std::memcpy(p, "WSIM", 4);
  put_u16(p + 4, kFrameFormatVersion);
  put_u16(p + 6, static_cast<std::uint16_t>(kFrameHeaderBytes));
  put_u64(p + 8, counter);
  put_u64(p + 16, timestamp_ms);
  put_u16(p + 24, g.width);
  put_u16(p + 26, g.height);
  put_u32(p + 28, static_cast<std::uint32_t>(frame_bytes));

  // One row of the moving gradient, then each row is that row with its own green value.
  std::uint8_t* pixels = p + kFrameHeaderBytes;
  const auto shift = static_cast<std::uint8_t>(counter * 4);
  const auto blue = static_cast<std::uint8_t>(counter);
  for (std::size_t x = 0; x < g.width; ++x) {
    std::uint8_t* px = pixels + x * 4;
    px[0] = static_cast<std::uint8_t>(x * 4 + shift);
    px[1] = 0;
    px[2] = blue;
    px[3] = 255;
  }
  const std::size_t row_bytes = static_cast<std::size_t>(g.width) * 4;
  for (std::size_t y = 1; y < g.height; ++y) {
    std::uint8_t* row = pixels + y * row_bytes;
    std::memcpy(row, pixels, row_bytes);
    const auto green = static_cast<std::uint8_t>(y * 4);
    for (std::size_t x = 0; x < g.width; ++x) row[x * 4 + 1] = green;
  }
  const std::size_t used = kFrameHeaderBytes + row_bytes * g.height;
  std::memset(p + used, static_cast<int>(counter & 0xFF), frame_bytes - used);
}

FrameHeader parse_frame_header(const std::uint8_t* data, std::size_t size) {
  FrameHeader h;
  if (size < kFrameHeaderBytes || std::memcmp(data, "WSIM", 4) != 0) return h;
  h.version = get_u16(data + 4);
  h.header_bytes = get_u16(data + 6);
  h.counter = get_u64(data + 8);
  h.timestamp_ms = get_u64(data + 16);
  h.width = get_u16(data + 24);
  h.height = get_u16(data + 26);
  h.total_bytes = get_u32(data + 28);
  h.valid = h.total_bytes == size && h.header_bytes >= kFrameHeaderBytes &&
            kFrameHeaderBytes + static_cast<std::size_t>(h.width) * h.height * 4 <= size;
  return h;
}

ToneGenerator::ToneGenerator(int sample_rate, int frame_ms, double tone_hz, double amplitude)
    : samples_per_frame_(static_cast<std::size_t>(sample_rate) * static_cast<std::size_t>(frame_ms) / 1000),
      phase_step_(2.0 * std::numbers::pi * tone_hz / sample_rate), amplitude_(amplitude) {}

void ToneGenerator::next_frame(std::vector<std::uint8_t>& out) {
  out.resize(samples_per_frame_ * 2);
  for (std::size_t i = 0; i < samples_per_frame_; ++i) {
    const auto sample = static_cast<std::int16_t>(std::lround(std::sin(phase_) * amplitude_ * 32767.0));
    const auto u = static_cast<std::uint16_t>(sample);
    out[i * 2] = static_cast<std::uint8_t>(u);
    out[i * 2 + 1] = static_cast<std::uint8_t>(u >> 8);
    phase_ += phase_step_;
    if (phase_ >= 2.0 * std::numbers::pi) phase_ -= 2.0 * std::numbers::pi;
  }
}

}  // namespace webstream::sim
