#pragma once
// The tests' PasswordHasher: libsodium's minimum cost (PasswordParams::fast_for_tests), so that tests that hash
// hundreds of passwords stay quick. One instance, shared; never for production.
#include "iam/passwords.hpp"

namespace webstream::iam::testing {

inline const PasswordHasher& fast_hasher() {
  static const PasswordHasher hasher(PasswordParams::fast_for_tests());
  return hasher;
}

}  // namespace webstream::iam::testing
