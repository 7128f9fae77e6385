#pragma once
// KeyRing: the IAM's Ed25519 token-signing keys (CONTRACT §6 "Tokens", §8 assertions).
//
// At the first start the store holds no key: open() generates a key pair with libsodium, stores it
// (store/key_store.hpp) and logs its kid — never the key. Later starts load the stored keys, so tokens
// survive a restart. The newest key signs; every loaded key verifies, which leaves room for rotation (add a
// key to the store, restart) without invalidating tokens signed by the old one.
//
// kid = the RFC 7638 JWK thumbprint of the public key (base64url SHA-256 of {"crv","kty","x"}).
// The secret key lives in libsodium guarded memory (sodium_malloc: not swapped, wiped on free).
//
// Thread rules: immutable after construction; any thread may sign, verify or read the JWKS, no locks.
#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/key_store.hpp"

namespace webstream::iam {

class KeyRing {
 public:
  // Loads the stored keys, generating and storing one when there is none. Error: a store failure, or a
  // stored key that is not a usable Ed25519 pair (names the kid).
  static Result<std::unique_ptr<KeyRing>> open(store::KeyStore& store, const Clock& clock);
  // A ring with one fresh key that is stored nowhere (tests and tools).
  static std::unique_ptr<KeyRing> ephemeral();

  ~KeyRing();
  KeyRing(const KeyRing&) = delete;
  KeyRing& operator=(const KeyRing&) = delete;

  // The kid of the signing key.
  const std::string& signing_kid() const { return signing_kid_; }
  // The 64-byte Ed25519 signature of `message` with the signing key.
  std::string sign(std::string_view message) const;
  // True when `kid` names one of the ring's keys.
  bool knows(std::string_view kid) const;
  // True when `kid` is one of ours and `signature` is its valid Ed25519 signature of `message`.
  bool verify(std::string_view kid, std::string_view message, std::string_view signature) const;
  // {"keys":[{"kty":"OKP","crv":"Ed25519","x","kid","alg":"EdDSA","use":"sig"}, …]}, newest first.
  boost::json::object jwks() const;

  // The RFC 7638 thumbprint of an Ed25519 public key (raw 32 bytes).
  static std::string thumbprint(std::string_view public_key);

 private:
  struct PublicKey {
    std::string kid;
    std::string key;  // raw 32 bytes
  };
  KeyRing() = default;
  // Takes the rows (oldest first); the last one signs. Error when a row is not a usable Ed25519 pair.
  // Wipes the rows' secret keys.
  Status adopt(std::vector<store::SigningKeyRow>& rows);
  static store::SigningKeyRow generate(Millis now);

  std::vector<PublicKey> public_keys_;  // oldest first
  std::string signing_kid_;
  unsigned char* secret_ = nullptr;  // sodium_malloc'd crypto_sign_SECRETKEYBYTES
};

}  // namespace webstream::iam
