// The PostgreSQL connection layer against a real server: pool, transaction retries, pipeline mode,
// migrations under the lock, the schema-version check, and errors that never show the connection string.
#include "store/postgres/pg_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "store/postgres/pg_schema.hpp"
#include "store/postgres/testing/pg_test_server.hpp"

namespace webstream::store::pg {
namespace {

class PgPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = testing::PgTestServer::shared();
    ASSERT_TRUE(server.ok()) << "cannot start the test PostgreSQL: " << server.error().message;
    auto db = (*server)->create_database();
    ASSERT_TRUE(db.ok()) << db.error().message;
    conninfo_ = *db;
    auto pool = PgPool::open(conninfo_, 4);
    ASSERT_TRUE(pool.ok()) << pool.error().message;
    pool_ = std::move(pool.value());
  }
  std::string conninfo_;
  std::unique_ptr<PgPool> pool_;
};

TEST_F(PgPoolTest, UnreachableDatabaseNamesTheSettingNeverTheString) {
  const std::string secret = "host=127.0.0.1 port=1 user=u password=hunter2-secret dbname=x connect_timeout=2";
  auto pool = PgPool::open(secret, 1);
  ASSERT_FALSE(pool.ok());
  EXPECT_EQ(pool.error().status, 503);
  EXPECT_EQ(pool.error().code, "store_unavailable");
  EXPECT_NE(pool.error().message.find("storage.connection"), std::string::npos) << pool.error().message;
  EXPECT_EQ(pool.error().message.find("hunter2"), std::string::npos) << pool.error().message;
  EXPECT_EQ(mask_connection_error("bad: password=abc def " + secret, secret).find("abc"), std::string::npos);
}

TEST_F(PgPoolTest, TransactionCommitsRollsBackAndMapsErrors) {
  ASSERT_TRUE(pool_->transaction([](PgConnection& c) -> Status {
    c.exec_script("CREATE TABLE t(k text PRIMARY KEY, v bigint NOT NULL)");
    return Status::success();
  }));
  ASSERT_TRUE(pool_->transaction([](PgConnection& c) -> Status {
    c.exec("INSERT INTO t VALUES($1,$2)", Params().add("a").add(std::int64_t{1}));
    return Status::success();
  }));
  // An error value rolls back.
  auto s = pool_->transaction([](PgConnection& c) -> Status {
    c.exec("INSERT INTO t VALUES($1,$2)", Params().add("b").add(std::int64_t{2}));
    return Error::invalid("no");
  });
  EXPECT_FALSE(s.ok());
  // A unique violation is a 409; a syntax error a 500.
  auto dup = pool_->transaction([](PgConnection& c) -> Status {
    c.exec("INSERT INTO t VALUES($1,$2)", Params().add("a").add(std::int64_t{3}));
    return Status::success();
  });
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().status, 409);
  auto bad = pool_->read([](PgConnection& c) -> Status {
    c.exec("SELEC 1");
    return Status::success();
  });
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().status, 500);
  auto n = pool_->read(
      [](PgConnection& c) -> Result<std::int64_t> { return c.exec("SELECT COUNT(*) FROM t").integer(0, 0); });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
}

TEST_F(PgPoolTest, SerializationFailuresAreRetriedUntilEveryIncrementLands) {
  ASSERT_TRUE(pool_->transaction([](PgConnection& c) -> Status {
    c.exec_script("CREATE TABLE counter(id int PRIMARY KEY, n bigint NOT NULL); INSERT INTO counter VALUES(1, 0)");
    return Status::success();
  }));
  // Read-modify-write at SERIALIZABLE from 4 threads: conflicting transactions fail with 40001 and the
  // pool runs them again, so every one of them counts exactly once.
  std::atomic<int> failures{0};
  std::atomic<int> attempts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i) {
        auto s = pool_->serializable([&](PgConnection& c) -> Status {
          ++attempts;
          const auto n = c.exec("SELECT n FROM counter WHERE id=1").integer(0, 0);
          c.exec("UPDATE counter SET n=$1 WHERE id=1", Params().add(n + 1));
          return Status::success();
        });
        if (!s) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto n = pool_->read(
      [](PgConnection& c) -> Result<std::int64_t> { return c.exec("SELECT n FROM counter WHERE id=1").integer(0, 0); });
  EXPECT_EQ(*n, 100);
  EXPECT_GE(attempts.load(), 100);
}

TEST_F(PgPoolTest, PipelineReturnsEveryResultInOrderAndStopsAtTheFirstError) {
  auto r = pool_->transaction([](PgConnection& c) -> Result<std::vector<std::int64_t>> {
    c.exec_script("CREATE TABLE p(k int PRIMARY KEY)");
    std::vector<PgQuery> batch;
    for (int i = 0; i < 50; ++i) batch.push_back({"INSERT INTO p VALUES($1) RETURNING k * 2", Params().add(i)});
    std::vector<std::int64_t> out;
    for (const auto& res : c.pipeline(batch)) out.push_back(res.integer(0, 0));
    return out;
  });
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 50u);
  EXPECT_EQ((*r)[49], 98);
  auto dup = pool_->transaction([](PgConnection& c) -> Status {
    c.pipeline({{"INSERT INTO p VALUES($1)", Params().add(100)},
                {"INSERT INTO p VALUES($1)", Params().add(1)},
                {"INSERT INTO p VALUES($1)", Params().add(101)}});
    return Status::success();
  });
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().status, 409);
  // The failed batch rolled back whole, and the connection is usable again.
  auto n = pool_->read(
      [](PgConnection& c) -> Result<std::int64_t> { return c.exec("SELECT COUNT(*) FROM p").integer(0, 0); });
  EXPECT_EQ(*n, 50);
}

TEST_F(PgPoolTest, GatewaysStartingTogetherOnAnEmptyDatabaseAllMigrateOnce) {
  constexpr int kGateways = 6;
  std::vector<std::thread> threads;
  std::vector<Status> results(kGateways);
  for (int g = 0; g < kGateways; ++g) {
    threads.emplace_back([&, g] {
      auto pool = PgPool::open(conninfo_, 1);
      if (!pool) {
        results[g] = pool.error();
        return;
      }
      results[g] = migrate(**pool);
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& s : results) EXPECT_TRUE(s.ok()) << s.error().message;
  auto version = database_schema_version(*pool_);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, schema_version());
  auto rows = pool_->read([](PgConnection& c) -> Result<std::int64_t> {
    return c.exec("SELECT COUNT(*) FROM webstream_schema").integer(0, 0);
  });
  EXPECT_EQ(*rows, schema_version());
}

TEST_F(PgPoolTest, ABinaryOlderThanTheSchemaRefusesNamingBothVersions) {
  auto steps = schema_migrations();
  steps.push_back("CREATE TABLE from_the_future(x int)");
  ASSERT_TRUE(migrate(*pool_, steps));  // a newer gateway migrated the database
  auto s = migrate(*pool_);             // this binary knows one step less
  ASSERT_FALSE(s.ok());
  const auto newer = std::to_string(schema_version() + 1);
  const auto ours = std::to_string(schema_version());
  EXPECT_NE(s.error().message.find("schema version " + newer), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("schema version " + ours), std::string::npos) << s.error().message;
}

TEST_F(PgPoolTest, ReachableFollowsTheDatabaseThroughAnOutageAndBack) {
  auto name = pool_->read(
      [](PgConnection& c) -> Result<std::string> { return c.exec("SELECT current_database()").text(0, 0); });
  ASSERT_TRUE(name.ok()) << name.error().message;
  EXPECT_TRUE(pool_->ping().ok());
  EXPECT_TRUE(pool_->reachable());
  // The database refuses connections and drops the pool's: what an outage looks like from the gateway. (Done
  // from another database: PostgreSQL will not disallow connections to the one the session is in.)
  auto admin = PgPool::open((*testing::PgTestServer::shared())->conninfo("postgres"), 1).value();
  const auto set_allowed = [&](bool allowed) {
    return admin->read([&](PgConnection& c) -> Status {
      c.exec_script("ALTER DATABASE \"" + *name + "\" WITH ALLOW_CONNECTIONS " + (allowed ? "true" : "false"));
      if (!allowed) {
        c.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
               Params().add(*name));
      }
      return Status::success();
    });
  };
  auto refused = set_allowed(false);
  ASSERT_TRUE(refused.ok()) << refused.error().message;
  auto down = pool_->ping();
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.error().status, 503);
  EXPECT_EQ(down.error().code, "store_unavailable");
  EXPECT_FALSE(pool_->reachable());
  ASSERT_TRUE(set_allowed(true).ok());
  EXPECT_TRUE(pool_->ping().ok());  // reconnected by itself
  EXPECT_TRUE(pool_->reachable());
}

TEST_F(PgPoolTest, TerminatedConnectionsAreReplacedWithoutFailingTheCall) {
  ASSERT_TRUE(pool_->transaction([](PgConnection& c) -> Status {
    c.exec_script("CREATE TABLE k(v int)");
    return Status::success();
  }));
  // Every pooled connection is killed by the server (what a database restart or pg_terminate_backend does).
  auto admin = PgPool::open(conninfo_, 1).value();
  auto killed = admin->read([](PgConnection& c) -> Result<std::int64_t> {
    return c
        .exec(
            "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()")
        .integer(0, 0);
  });
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  EXPECT_EQ(*killed, 4);
  // Reads and writes go on: each finds its connection dead, reconnects and runs once more.
  for (int i = 0; i < 4; ++i) {
    auto w = pool_->transaction([i](PgConnection& c) -> Status {
      c.exec("INSERT INTO k VALUES($1)", Params().add(i));
      return Status::success();
    });
    EXPECT_TRUE(w.ok()) << w.error().message;
  }
  auto n = pool_->read(
      [](PgConnection& c) -> Result<std::int64_t> { return c.exec("SELECT COUNT(*) FROM k").integer(0, 0); });
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 4);
}

}  // namespace
}  // namespace webstream::store::pg
