#pragma once
// What a test of logins and tokens stands on, built the same way for the login service's tests and the auth
// API's: a fake clock, one in-memory SQLite database holding the revoked tokens and the login failures, a fake
// user directory, an ephemeral key ring and the token service over them. A fixture derives from it (after
// ::testing::Test) and builds its authenticator, limiter and login service on these members, which are
// constructed first.
//
// Thread rules: the members' own (the stores serialise on the database's mutex).
#include <cstdint>
#include <memory>

#include "auth/testing/fake_user_directory.hpp"
#include "core/testing/fake_clock.hpp"
#include "iam/key_ring.hpp"
#include "iam/token_service.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_login_failure_store.hpp"
#include "store/sqlite/sqlite_token_store.hpp"

namespace webstream::iam::testing {

class LoginStores {
 protected:
  explicit LoginStores(std::int64_t token_lifetime_s)
      : db_(store::SqliteDb::open(":memory:").value()), revoked_(store::SqliteTokenStore::open(*db_).value()),
        failures_(store::SqliteLoginFailureStore::open(*db_).value()), ring_(KeyRing::ephemeral()),
        tokens_(*ring_, clock_, TokenOptions{.issuer = "webstream", .lifetime_s = token_lifetime_s, .leeway_s = 60}) {}

  webstream::testing::FakeClock clock_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteTokenStore> revoked_;
  std::unique_ptr<store::SqliteLoginFailureStore> failures_;
  auth::fakes::FakeUserDirectory users_;
  std::unique_ptr<KeyRing> ring_;
  TokenService tokens_;
};

}  // namespace webstream::iam::testing
