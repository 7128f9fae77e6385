#pragma once
// The Ed25519 public keys the gateway trusts to sign licences (CONTRACT §5, §11a). They are built into the
// binary at build time, never chosen at run time:
//   - production keys from the file named by the CMake setting WEBSTREAM_LICENCE_TRUSTED_KEYS_FILE (one
//     "KEY_ID PUBLIC_KEY" per line; the private halves never live in the repository). None by default: a
//     default build trusts no licence key and runs on the evaluation licence;
//   - with -DWEBSTREAM_LICENCE_TEST_KEY=ON (the ci preset) also the key pair generated for that build
//     directory at configure time (<build>/licence-test-key/), flagged `development`.
// No private key is in the repository. The one that was (dev-2026, public key kRetiredDevPublicKey) stays
// public in its history, so it must never be trusted again: a unit test holds every build to that.
// Unit tests build their own KeyRing with a key pair generated on the spot.
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
  bool development = false;  // a build directory's test key: licences it signs are for tests and demos
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

// The retired development key, whose private half was published in the repository: never trusted.
inline constexpr std::string_view kRetiredDevPublicKey = "ySlChFr6AmIezlGetgvbBjhxoFYqvyTmTPS9lzlMtPk";

// Parses "id:base64url[,id:base64url…]" (the form CMake hands the trusted keys file over in). Error names the entry.
Result<std::vector<TrustedKey>> parse_key_list(std::string_view text, bool development);

}  // namespace webstream::licence
