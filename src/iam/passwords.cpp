#include "iam/passwords.hpp"

#include <sodium.h>

#include <stdexcept>

#include "core/ids.hpp"
#include "iam/sodium_init.hpp"

namespace webstream::iam {
namespace {

constexpr std::size_t kMinPasswordBytes = 8;
constexpr std::size_t kMaxPasswordBytes = 1024;
constexpr std::string_view kArgon2idPrefix = "$argon2id$";

}  // namespace

PasswordParams PasswordParams::fast_for_tests() {
  return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
}

Status validate_new_password(std::string_view password, std::string_view field) {
  if (password.size() < kMinPasswordBytes) {
    return Error::invalid("field '" + std::string(field) + "' must have at least 8 characters");
  }
  if (password.size() > kMaxPasswordBytes) {
    return Error::invalid("field '" + std::string(field) + "' must have at most 1024 bytes");
  }
  return Status::success();
}

PasswordHasher::PasswordHasher(PasswordParams params) : params_(params) {
  ensure_sodium();
  if (params_.opslimit < crypto_pwhash_argon2id_OPSLIMIT_MIN ||
      params_.memlimit < crypto_pwhash_argon2id_MEMLIMIT_MIN) {
    throw std::invalid_argument("argon2id parameters below libsodium's minimum");
  }
  auto dummy = hash(random_token());
  if (!dummy) throw std::runtime_error("argon2id: " + dummy.error().message);
  dummy_hash_ = std::move(dummy.value());
}

Result<std::string> PasswordHasher::hash(std::string_view password) const {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params_.opslimit, params_.memlimit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error::internal("password hashing failed (out of memory)");
  }
  return std::string(out);
}

bool PasswordHasher::verify(std::string_view hash, std::string_view password) const {
  // crypto_pwhash_str_verify needs a NUL-terminated string of at most STRBYTES-1 characters.
  const bool usable = hash.size() < crypto_pwhash_STRBYTES && hash.substr(0, kArgon2idPrefix.size()) == kArgon2idPrefix;
  if (!usable) {
    dummy_verify(password);
    return false;
  }
  const std::string text(hash);
  return crypto_pwhash_str_verify(text.c_str(), password.data(), password.size()) == 0;
}

void PasswordHasher::dummy_verify(std::string_view password) const {
  // The result is always "no" (the dummy's password is random and never known); only the work matters.
  const int rc = crypto_pwhash_str_verify(dummy_hash_.c_str(), password.data(), password.size());
  (void)rc;
}

bool PasswordHasher::needs_rehash(std::string_view hash) const {
  if (hash.size() >= crypto_pwhash_STRBYTES || hash.substr(0, kArgon2idPrefix.size()) != kArgon2idPrefix) return true;
  const std::string text(hash);
  return crypto_pwhash_str_needs_rehash(text.c_str(), params_.opslimit, params_.memlimit) != 0;
}

}  // namespace webstream::iam
