#pragma once
// KeyStore: the IAM's token-signing keys (CONTRACT §6 "Tokens"). One row per Ed25519 key pair; the newest
// row is the one that signs, every stored row verifies (so a key added later does not invalidate tokens
// signed by an older one). The secret key is stored so that tokens survive a restart; it never leaves the
// store and the key ring (no API returns it, nothing logs it) — protect the database file like a key file.
//
// Thread rules: implementations are thread-safe; calls block on the store (start-up only in practice).
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace webstream::store {

struct SigningKeyRow {
  std::string kid;         // key id: the RFC 7638 JWK thumbprint of the public key
  std::string algorithm;   // "EdDSA"
  std::string public_key;  // raw bytes (32 for Ed25519)
  std::string secret_key;  // raw bytes (64 for Ed25519: libsodium's seed||public form)
  Millis created_at = 0;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // Every stored key, oldest first.
  virtual Result<std::vector<SigningKeyRow>> load_keys() = 0;
  // Adds a key; a duplicate kid is a 500 (it cannot happen with fresh random keys).
  virtual Status insert_key(const SigningKeyRow& key) = 0;
};

}  // namespace webstream::store
