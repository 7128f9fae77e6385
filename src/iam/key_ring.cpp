#include "iam/key_ring.hpp"

#include <sodium.h>

#include <boost/json/array.hpp>

#include <cstring>
#include <stdexcept>

#include "core/encoding.hpp"
#include "iam/jwt.hpp"
#include "iam/sodium_init.hpp"
#include "observability/log.hpp"

namespace webstream::iam {
namespace {

using jwt::kAlgorithm;

void wipe(std::string& s) {
  if (!s.empty()) sodium_memzero(s.data(), s.size());
  s.clear();
}

}  // namespace

std::string KeyRing::thumbprint(std::string_view public_key) {
  // RFC 7638 §3: the required members in lexicographic order, no whitespace.
  const std::string canonical = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" + base64url_encode(public_key) + "\"}";
  return base64url_encode(sha256(canonical));
}

store::SigningKeyRow KeyRing::generate(Millis now) {
  ensure_sodium();
  store::SigningKeyRow row;
  row.algorithm = kAlgorithm;
  row.public_key.resize(crypto_sign_PUBLICKEYBYTES);
  row.secret_key.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(row.public_key.data()),
                      reinterpret_cast<unsigned char*>(row.secret_key.data()));
  row.kid = thumbprint(row.public_key);
  row.created_at = now;
  return row;
}

Status KeyRing::adopt(std::vector<store::SigningKeyRow>& rows) {
  for (auto& row : rows) {
    if (row.algorithm != kAlgorithm || row.public_key.size() != crypto_sign_PUBLICKEYBYTES ||
        row.secret_key.size() != crypto_sign_SECRETKEYBYTES || thumbprint(row.public_key) != row.kid) {
      return Error::internal("signing key " + row.kid + " in the store is not a usable Ed25519 key");
    }
    // libsodium's secret key is seed || public key: the halves must belong together.
    unsigned char derived[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_ed25519_sk_to_pk(derived, reinterpret_cast<const unsigned char*>(row.secret_key.data()));
    if (sodium_memcmp(derived, row.public_key.data(), sizeof derived) != 0) {
      return Error::internal("signing key " + row.kid + " in the store does not match its public key");
    }
    public_keys_.push_back(PublicKey{row.kid, row.public_key});
  }
  if (rows.empty()) return Error::internal("no signing key");
  secret_ = static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
  if (secret_ == nullptr) return Error::internal("cannot allocate guarded memory for the signing key");
  std::memcpy(secret_, rows.back().secret_key.data(), crypto_sign_SECRETKEYBYTES);
  sodium_mprotect_readonly(secret_);
  signing_kid_ = rows.back().kid;
  for (auto& row : rows) wipe(row.secret_key);
  return Status::success();
}

Result<std::unique_ptr<KeyRing>> KeyRing::open(store::KeyStore& store, const Clock& clock) {
  ensure_sodium();
  auto rows = store.load_keys();
  if (!rows) return rows.error();
  if (rows->empty()) {
    auto row = generate(clock.now_ms());
    if (auto s = store.insert_key(row); !s) {
      wipe(row.secret_key);
      return s.error();
    }
    log::info("generated the token signing key", {{"kid", row.kid}, {"alg", kAlgorithm}});
    rows->push_back(std::move(row));
  }
  std::unique_ptr<KeyRing> ring(new KeyRing());
  if (auto s = ring->adopt(*rows); !s) {
    for (auto& row : *rows) wipe(row.secret_key);
    return s.error();
  }
  return ring;
}

std::unique_ptr<KeyRing> KeyRing::ephemeral() {
  std::vector<store::SigningKeyRow> rows{generate(0)};
  std::unique_ptr<KeyRing> ring(new KeyRing());
  if (auto s = ring->adopt(rows); !s) throw std::runtime_error(s.error().message);
  return ring;
}

KeyRing::~KeyRing() {
  if (secret_ != nullptr) sodium_free(secret_);  // sodium_free wipes the memory
}

std::string KeyRing::sign(std::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), secret_);
  return signature;
}

bool KeyRing::knows(std::string_view kid) const {
  for (const auto& k : public_keys_) {
    if (k.kid == kid) return true;
  }
  return false;
}

bool KeyRing::verify(std::string_view kid, std::string_view message, std::string_view signature) const {
  if (signature.size() != crypto_sign_BYTES) return false;
  for (const auto& k : public_keys_) {
    if (k.kid != kid) continue;
    return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                       reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                       reinterpret_cast<const unsigned char*>(k.key.data())) == 0;
  }
  return false;
}

boost::json::object KeyRing::jwks() const {
  boost::json::array keys;
  for (auto it = public_keys_.rbegin(); it != public_keys_.rend(); ++it) {
    keys.push_back(boost::json::object{{"kty", "OKP"},
                                       {"crv", "Ed25519"},
                                       {"x", base64url_encode(it->key)},
                                       {"kid", it->kid},
                                       {"alg", kAlgorithm},
                                       {"use", "sig"}});
  }
  return boost::json::object{{"keys", std::move(keys)}};
}

}  // namespace webstream::iam
