#pragma once
// Ed25519 key pairs for signing licences, and their private-key file:
//   {"format":"webstream-licence-key-v1","keyId":"…","algorithm":"Ed25519","seed":"<base64url 32 bytes>",
//    "publicKey":"<base64url 32 bytes>"}
// Only `webstream license keygen` / `issue` and tests touch private keys; the gateway itself only verifies.
// No private key lives in the repository: production keys stay in the operator's secrets store, and a test
// build makes its own (docs/licence.md "Keys").
//
// Thread rules: pure functions (file reads/writes are the only I/O). Secrets are never logged.
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace webstream::licence {

inline constexpr std::string_view kKeyFormat = "webstream-licence-key-v1";

struct SigningKey {
  std::string key_id;
  std::string secret_key;  // 64 bytes (crypto_sign_SECRETKEYBYTES): seed ‖ public key. Secret.
  std::string public_key;  // 32 bytes
};

// Initialises libsodium once (safe from any thread). Throws only if libsodium cannot start at all.
void ensure_sodium();

// A new random key pair named `key_id`.
SigningKey generate_signing_key(std::string key_id);
// The private-key file text (JSON, one line + newline).
std::string signing_key_text(const SigningKey& key);
// Parses a private-key file; the stored public key must match the seed. Errors never quote the secret.
Result<SigningKey> parse_signing_key(std::string_view text);
Result<SigningKey> read_signing_key(const std::string& path);

// A key id: 1..64 of [A-Za-z0-9._-].
bool valid_key_id(std::string_view id);

}  // namespace webstream::licence
