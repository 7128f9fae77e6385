#pragma once
// Bootstrap (CONTRACT §6): on the first start with an empty IAM store, create org "default" (id and name
// "default") and user "admin" with role admin in it. The password is WEBSTREAM_ADMIN_PASSWORD when set;
// otherwise a random one, printed ONCE to stderr — the only place a password is ever printed — so the
// operator can sign in and change it. A store that holds any org or user is left alone.
//
// Thread rules: start-up only, before serving; blocks (argon2id, store writes).
#include <iosfwd>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "iam/passwords.hpp"
#include "store/iam_store.hpp"

namespace webstream::iam {

inline constexpr const char* kAdminPasswordEnv = "WEBSTREAM_ADMIN_PASSWORD";

struct BootstrapOutcome {
  bool created = false;             // false: the store was not empty, nothing done
  bool password_generated = false;  // a random password was printed to `err`
};

// `admin_password`: the value of WEBSTREAM_ADMIN_PASSWORD (nullopt or "" when unset). Error 400 naming
// WEBSTREAM_ADMIN_PASSWORD when it breaks the password rules; 500 on a store failure.
Result<BootstrapOutcome> bootstrap(store::IamStore& store, const PasswordHasher& passwords, const Clock& clock,
                                   const std::optional<std::string>& admin_password, std::ostream& err);

// The same, reading WEBSTREAM_ADMIN_PASSWORD from the environment and printing to stderr.
Result<BootstrapOutcome> bootstrap(store::IamStore& store, const PasswordHasher& passwords, const Clock& clock);

}  // namespace webstream::iam
