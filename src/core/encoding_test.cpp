#include "core/encoding.hpp"

#include <gtest/gtest.h>

namespace webstream {
namespace {

TEST(Encoding, Base64RoundTripsEveryLength) {
  std::string bytes;
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(base64_decode(base64_encode(bytes)), bytes);
    EXPECT_EQ(base64url_decode(base64url_encode(bytes)), bytes);
    bytes += static_cast<char>(i * 37);
  }
}

TEST(Encoding, KnownVectors) {
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64url_encode("\xfb\xff"), "-_8");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // The per-thread context is reused: a second, longer input and an empty one hash correctly too.
  EXPECT_EQ(sha256_hex(std::string(1000, 'a')), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Encoding, RejectsBadText) {
  EXPECT_FALSE(base64_decode("Zm9v!"));
  EXPECT_FALSE(base64url_decode("Zm9v+"));
  EXPECT_FALSE(base64url_decode("A"));
  EXPECT_FALSE(base64url_decode("-_9"));  // non-zero trailing bits: a second spelling of the same bytes
}

TEST(PercentDecode, EveryByteValueInUpperAndLowerHex) {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  static constexpr char kLower[] = "0123456789abcdef";
  for (int b = 0; b < 256; ++b) {
    const std::string expected(1, static_cast<char>(b));
    const std::string upper = {'%', kUpper[b >> 4], kUpper[b & 15]};
    const std::string lower = {'%', kLower[b >> 4], kLower[b & 15]};
    EXPECT_EQ(percent_decode(upper), expected) << upper;
    EXPECT_EQ(percent_decode(lower), expected) << lower;
  }
  EXPECT_EQ(percent_decode("%aB%Cd"), std::string("\xab\xcd"));
}

TEST(PercentDecode, EveryOtherByteIsKept) {
  for (int b = 0; b < 256; ++b) {
    if (b == '%') continue;
    const std::string text = {'a', static_cast<char>(b), 'z'};
    EXPECT_EQ(percent_decode(text), text) << "byte " << b;
  }
  EXPECT_EQ(percent_decode(""), std::string());
  EXPECT_EQ(percent_decode("a+b"), std::string("a+b"));  // '+' is not a space here
}

TEST(PercentDecode, NulIsAByteLikeAnyOther) {
  const auto decoded = percent_decode("a%00b");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, std::string("a\0b", 3));
}

TEST(PercentDecode, DecodesOnceOnly) {
  EXPECT_EQ(percent_decode("%2541"), std::string("%41"));
  EXPECT_EQ(percent_decode("%252e%252E"), std::string("%2e%2E"));
}

TEST(PercentDecode, RejectsTruncatedEscapes) {
  for (const std::string_view text : {"%", "%4", "a%", "ab%4", "%41%", "%41%4"}) {
    EXPECT_FALSE(percent_decode(text)) << text;
  }
}

TEST(PercentDecode, RejectsNonHexDigits) {
  for (const std::string_view text : {"%zz", "%4z", "%z4", "%g0", "%0G", "% 41", "%-1", "%+1", "a%zzb", "%41%zz"}) {
    EXPECT_FALSE(percent_decode(text)) << text;
  }
}

}  // namespace
}  // namespace webstream
