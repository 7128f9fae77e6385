#include "licence/trusted_keys.hpp"

#include <sodium.h>

#include <cstdio>

#include "core/encoding.hpp"

#ifndef WEBSTREAM_LICENCE_PUBLIC_KEYS
#define WEBSTREAM_LICENCE_PUBLIC_KEYS ""
#endif
#ifndef WEBSTREAM_LICENCE_TEST_KEYS
#define WEBSTREAM_LICENCE_TEST_KEYS ""
#endif

namespace webstream::licence {

const TrustedKey* KeyRing::find(std::string_view key_id) const {
  for (const auto& k : keys_) {
    if (k.key_id == key_id) return &k;
  }
  return nullptr;
}

Result<std::vector<TrustedKey>> parse_key_list(std::string_view text, bool development) {
  std::vector<TrustedKey> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view entry = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (entry.empty()) continue;
    const auto colon = entry.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return Error::invalid("licence key entry '" + std::string(entry) + "' is not id:base64url");
    }
    auto raw = base64url_decode(entry.substr(colon + 1));
    if (!raw || raw->size() != crypto_sign_PUBLICKEYBYTES) {
      return Error::invalid("licence key '" + std::string(entry.substr(0, colon)) +
                            "' is not a base64url Ed25519 public key (32 bytes)");
    }
    out.push_back(TrustedKey{std::string(entry.substr(0, colon)), std::move(*raw), development});
  }
  return out;
}

const KeyRing& KeyRing::built_in() {
  static const KeyRing ring = [] {
    std::vector<TrustedKey> keys;
    // CMake has checked both lists; a bad entry here means that list is not trusted at all.
    for (const auto& [list, development] : {std::pair{std::string_view(WEBSTREAM_LICENCE_PUBLIC_KEYS), false},
                                            std::pair{std::string_view(WEBSTREAM_LICENCE_TEST_KEYS), true}}) {
      auto parsed = parse_key_list(list, development);
      if (!parsed) {
        std::fprintf(stderr, "webstream: built-in licence keys: %s\n", parsed.error().message.c_str());
        continue;
      }
      for (auto& k : parsed.value()) {
        if (base64url_encode(k.public_key) != kRetiredDevPublicKey) keys.push_back(std::move(k));
      }
    }
    return KeyRing(std::move(keys));
  }();
  return ring;
}

}  // namespace webstream::licence
