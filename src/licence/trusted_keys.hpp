#pragma once
// The Ed25519 public keys the gateway trusts to sign licences. They are built into the binary:
//   - the DEVELOPMENT key `dev-2026` (its private half is tools/licence/dev-private.key, in the repository, for
//     tests and the demo), present unless the build sets -DWEBSTREAM_LICENCE_DEV_KEY=OFF;
//   - production keys given at build time: -DWEBSTREAM_LICENCE_PUBLIC_KEYS="id:base64url[,id:base64url…]"
//     (made with `webstream license keygen`; the private half never lives in the repository).
// Tests build their own KeyRing with a key pair generated on the spot.
//
// Thread rules: a KeyRing is immutable once built; built_in() is built once and then read by any thread.
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace webstream::licence {

struct TrustedKey {
  std::string key_id;
  std::string public_key;    // 32 raw bytes (crypto_sign_PUBLICKEYBYTES)
  bool development = false;  // a key whose private half is public: licences it signs are for tests and demos
};

class KeyRing {
 public:
  KeyRing() = default;
  explicit KeyRing(std::vector<TrustedKey> keys) : keys_(std::move(keys)) {}

  // The key with this id, or null.
  const TrustedKey* find(std::string_view key_id) const;
  const std::vector<TrustedKey>& keys() const { return keys_; }

  // The keys compiled into this binary (see the file comment).
  static const KeyRing& built_in();

 private:
  std::vector<TrustedKey> keys_;
};

// The development key's id and public key (base64url), as built in when WEBSTREAM_LICENCE_DEV_KEY is on.
inline constexpr std::string_view kDevKeyId = "dev-2026";
inline constexpr std::string_view kDevPublicKey = "ySlChFr6AmIezlGetgvbBjhxoFYqvyTmTPS9lzlMtPk";

// Parses "id:base64url[,id:base64url…]" (the WEBSTREAM_LICENCE_PUBLIC_KEYS build setting). Error names the entry.
Result<std::vector<TrustedKey>> parse_key_list(std::string_view text, bool development);

}  // namespace webstream::licence
