#include "store/sqlite/sqlite_db.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace webstream::store {
namespace {

TEST(SqliteDb, MigratesOncePerDomainAndVersion) {
  auto db = SqliteDb::open(":memory:").value();
  std::vector<std::string> steps = {"CREATE TABLE t(a INTEGER)", "ALTER TABLE t ADD COLUMN b TEXT"};
  ASSERT_TRUE(db->migrate("test", steps));
  ASSERT_TRUE(db->migrate("test", steps));  // applying again is a no-op
  steps.push_back("CREATE TABLE u(x)");
  ASSERT_TRUE(db->migrate("test", steps));
  auto count = db->locked([](SqliteDb& d) {
    auto& q = d.prepare("SELECT COUNT(*) FROM schema_migrations WHERE domain='test'");
    q.step();
    return q.integer(0);
  });
  EXPECT_EQ(count, 3);
}

TEST(SqliteDb, FailedTransactionRollsBack) {
  auto db = SqliteDb::open(":memory:").value();
  ASSERT_TRUE(db->migrate("t", {"CREATE TABLE t(a INTEGER UNIQUE)"}));
  Status s = db->transaction([](SqliteDb& d) -> Status {
    d.prepare("INSERT INTO t(a) VALUES(1)").run();
    return Error{409, "conflict", "no"};
  });
  EXPECT_FALSE(s);
  Status dup = db->transaction([](SqliteDb& d) -> Status {
    d.prepare("INSERT INTO t(a) VALUES(2)").run();
    d.prepare("INSERT INTO t(a) VALUES(2)").run();  // throws StoreError: unique
    return Status::success();
  });
  EXPECT_FALSE(dup);
  auto count = db->locked([](SqliteDb& d) {
    auto& q = d.prepare("SELECT COUNT(*) FROM t");
    q.step();
    return q.integer(0);
  });
  EXPECT_EQ(count, 0);
}

TEST(SqliteDb, CountAnswersAOneParameterQueryForItsKey) {
  auto db = SqliteDb::open(":memory:").value();
  ASSERT_TRUE(db->migrate("t", {"CREATE TABLE t(k TEXT)", "INSERT INTO t(k) VALUES('a'),('a'),('b')"}));
  db->locked([](SqliteDb& d) {
    EXPECT_EQ(d.count("SELECT COUNT(*) FROM t WHERE k=?", "a"), 2);
    EXPECT_EQ(d.count("SELECT COUNT(*) FROM t WHERE k=?", "b"), 1);
    EXPECT_EQ(d.count("SELECT COUNT(*) FROM t WHERE k=?", "z"), 0);
    // The cached statement was reset: the same query with another key runs again.
    EXPECT_EQ(d.count("SELECT COUNT(*) FROM t WHERE k=?", "a"), 2);
    return 0;
  });
}

TEST(SqliteDb, OpenErrorNamesTheFile) {
  auto r = SqliteDb::open("/nonexistent-dir/x/y.db");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/nonexistent-dir/x/y.db"), std::string::npos);
}

}  // namespace
}  // namespace webstream::store
