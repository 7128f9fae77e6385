#include "core/ids.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cctype>
#include <stdexcept>

#include "core/encoding.hpp"

namespace webstream {
namespace {
template <std::size_t N>
std::array<unsigned char, N> random_bytes() {
  std::array<unsigned char, N> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(N)) != 1) {
    throw std::runtime_error("the OS random generator failed");
  }
  return bytes;
}
}  // namespace

std::string random_id(std::string_view prefix) {
  auto bytes = random_bytes<16>();
  return std::string(prefix) + hex_encode({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

std::string random_token() {
  auto bytes = random_bytes<32>();
  return base64url_encode({reinterpret_cast<const char*>(bytes.data()), bytes.size()});
}

bool is_uuid(std::string_view s) {
  if (s.size() == 38 && s.front() == '{' && s.back() == '}') s = s.substr(1, 36);
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  // Compare against a same-length buffer so the loop length never depends on the secret's content.
  if (a.size() != b.size()) {
    (void)CRYPTO_memcmp(a.data(), a.data(), a.size());
    return false;
  }
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace webstream
