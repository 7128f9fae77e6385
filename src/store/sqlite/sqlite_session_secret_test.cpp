#include <gtest/gtest.h>

#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_session_store.hpp"

namespace webstream::store {
namespace {

// The connect-token secret is never empty or short: a damaged stored value is an error, not "" (issue 15).
TEST(SqliteSessionSecret, ADamagedStoredSecretIsAnErrorNeverEmpty) {
  auto db = SqliteDb::open(":memory:").value();
  auto store = SqliteSessionStore::open(*db).value();
  auto first = store->connect_token_secret();
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->size(), kConnectTokenSecretBytes);
  EXPECT_EQ(store->connect_token_secret().value(), *first);
  for (const char* damaged : {"", "not base64 !", "c2hvcnQ"}) {
    ASSERT_TRUE(db->transaction([&](SqliteDb& d) -> Status {
      d.prepare("UPDATE session_secret SET secret=? WHERE id=1").bind(1, damaged).run();
      return Status::success();
    }));
    auto again = store->connect_token_secret();
    EXPECT_FALSE(again) << damaged;
  }
}

}  // namespace
}  // namespace webstream::store
