#pragma once
// Password hashing (CONTRACT §6 "Passwords"): argon2id through libsodium's crypto_pwhash_str, whose output
// ("$argon2id$v=19$m=65536,t=3,p=1$salt$hash") carries its own salt and parameters, so verify() needs no
// settings and old hashes keep verifying after the parameters are raised.
//
// Parameters: opslimit 3, memlimit 64 MiB (argon2id, one lane, as libsodium does) by default; the settings
// accessManagement.passwordHashMemory/passwordHashPasses may lower them to OWASP's minimum, not below. OWASP's Password Storage
// Cheat Sheet asks for at least m=19 MiB, t=2, p=1 (or m=46 MiB, t=1); RFC 9106's second recommended option
// is m=64 MiB, t=3. We take the latter: above OWASP's floor, about 0.1–0.3 s per hash on a server core,
// which bounds a login's cost without making brute force cheap. Each concurrent hash holds 64 MiB, so the
// number of threads that run them (the BlockingPool's size) bounds the memory.
//
// dummy_verify(): a login for an unknown user runs a verification of the same cost against a hash made at
// construction, so "no such user" and "wrong password" take about the same time (no user enumeration by
// timing).
//
// Thread rules: a PasswordHasher is immutable after construction; any thread may call it. Every call but
// needs_rehash() BLOCKS for the hash time: never call it on an I/O thread — run it through
// runtime::BlockingPool.
#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace webstream::iam {

struct PasswordParams {
  unsigned long long opslimit = 3;           // argon2id passes (t)
  std::size_t memlimit = 64u * 1024 * 1024;  // bytes (m)

  // The production parameters above.
  static PasswordParams production() { return {}; }
  // The operator's accessManagement.passwordHashMemory (KiB) and passwordHashPasses, which config/load_xml has
  // held to at least OWASP's minimum.
  static PasswordParams from_settings(std::size_t memory_kib, int passes) {
    return {static_cast<unsigned long long>(passes), memory_kib * 1024};
  }
  // libsodium's minimum (t=1, m=8 KiB): ONLY for unit tests, where hundreds of hashes must be quick.
  static PasswordParams fast_for_tests();
};

// Password rules for new passwords: 8 to 1024 bytes (NIST SP 800-63B: at least 8; the upper bound keeps
// a request from costing more than its size). Error 400 invalid_request naming `field`.
Status validate_new_password(std::string_view password, std::string_view field = "password");

class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordParams params = PasswordParams::production());

  // An argon2id hash string of `password`. Error 500 when libsodium cannot allocate the memory.
  Result<std::string> hash(std::string_view password) const;
  // True when `password` matches `hash` (an argon2id crypto_pwhash_str string). Any other or malformed
  // hash is false — and still costs one verification, so a broken row is not distinguishable by timing.
  bool verify(std::string_view hash, std::string_view password) const;
  // Spends the time of one verification and returns nothing: for unknown users.
  void dummy_verify(std::string_view password) const;
  // True when `hash` was made with other parameters than this hasher's (rehash at the next login).
  bool needs_rehash(std::string_view hash) const;

  const PasswordParams& params() const { return params_; }

 private:
  const PasswordParams params_;
  std::string dummy_hash_;  // a hash of a random password, made with params_
};

}  // namespace webstream::iam
