#include "licence/trusted_keys.hpp"

#include <sodium.h>

#include <cstdio>

#include "core/encoding.hpp"

#ifndef WEBSTREAM_LICENCE_DEV_KEY
#define WEBSTREAM_LICENCE_DEV_KEY 1
#endif
#ifndef WEBSTREAM_LICENCE_PUBLIC_KEYS
#define WEBSTREAM_LICENCE_PUBLIC_KEYS ""
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
    auto production = parse_key_list(WEBSTREAM_LICENCE_PUBLIC_KEYS, false);
    if (production) {
      keys = std::move(production.value());
    } else {
      // The build setting is checked by CMake too; a bad entry here means no production key is trusted.
      std::fprintf(stderr, "webstream: WEBSTREAM_LICENCE_PUBLIC_KEYS: %s\n", production.error().message.c_str());
    }
    if (WEBSTREAM_LICENCE_DEV_KEY) {
      auto dev = base64url_decode(kDevPublicKey);
      keys.push_back(TrustedKey{std::string(kDevKeyId), dev.value_or(std::string()), true});
    }
    return KeyRing(std::move(keys));
  }();
  return ring;
}

}  // namespace webstream::licence
