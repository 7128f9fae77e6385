// The change feed on a real PostgreSQL (store/change_feed.hpp, pg_change_listener.hpp): a change committed
// through another gateway's store wakes the listener by notification; its connection terminated by the server
// (pg_terminate_backend), it reconnects, LISTENs again and reports every topic, so a change made during the gap
// is read; registry writes and IAM writes bump their topics.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <mutex>
#include <vector>

#include "core/testing/eventually.hpp"
#include "core/testing/fake_clock.hpp"
#include "store/postgres/pg_change_listener.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/postgres/testing/pg_test_server.hpp"
#include "store/store_provider.hpp"

namespace webstream::store {
namespace {

using namespace std::chrono_literals;

class PgChangeListenerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = pg::testing::fresh_database();
    ASSERT_TRUE(db.ok()) << db.error().message;
    auto p = open_postgres_provider(*db, clock_, 2);
    ASSERT_TRUE(p.ok()) << p.error().message;
    p.value()->startup_complete();
    provider_ = std::move(p.value());
    sql_ = pg::PgPool::open(*db, 1).value();
    feed_ = provider_->change_feed().value();
    feed_->start([this](const std::string& topic) {
      std::lock_guard lock(mutex_);
      seen_.push_back({topic, std::chrono::steady_clock::now()});
    });
    // Connected: every topic is reported once.
    ASSERT_TRUE(webstream::testing::eventually([&] { return count("revocations") == 1 && count("registry") == 1; }));
  }
  void TearDown() override {
    if (feed_) feed_->stop();
  }
  int count(const std::string& topic) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& s : seen_) n += s.topic == topic ? 1 : 0;
    return n;
  }
  std::chrono::steady_clock::time_point last(const std::string& topic) {
    std::lock_guard lock(mutex_);
    for (auto it = seen_.rbegin(); it != seen_.rend(); ++it) {
      if (it->topic == topic) return it->at;
    }
    return {};
  }
  void revoke(const std::string& jti) {
    auto log = provider_->revocation_log(clock_).value();
    RevocationEntry e;
    e.kind = RevocationKind::kToken;
    e.subject = jti;
    e.value = clock_.now_ms() / 1000 + 3600;
    e.relevant_until = e.value;
    ASSERT_TRUE(log->append(e));
  }
  std::int64_t scalar(const std::string& query) {
    return sql_->read([&](pg::PgConnection& c) -> Result<std::int64_t> { return c.exec(query).integer(0, 0); }).value();
  }

  struct Seen {
    std::string topic;
    std::chrono::steady_clock::time_point at;
  };
  webstream::testing::FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<StoreProvider> provider_;
  std::unique_ptr<pg::PgPool> sql_;
  std::unique_ptr<ChangeFeed> feed_;
  std::mutex mutex_;
  std::vector<Seen> seen_;
};

TEST_F(PgChangeListenerTest, ACommittedChangeWakesTheListenerByNotification) {
  std::vector<double> ms;
  for (int i = 0; i < 10; ++i) {
    const int before = count("revocations");
    const auto start = std::chrono::steady_clock::now();
    revoke("jti-" + std::to_string(i));
    ASSERT_TRUE(webstream::testing::eventually([&] { return count("revocations") > before; }, 3s));
    ms.push_back(std::chrono::duration<double, std::milli>(last("revocations") - start).count());
  }
  std::sort(ms.begin(), ms.end());
  // Printed, not asserted (speed belongs to bench/): a notification takes milliseconds, the fallback check 1 s.
  std::printf("  change → listener woken: median %.1f ms, max %.1f ms over %zu changes\n", ms[ms.size() / 2], ms.back(),
              ms.size());
  EXPECT_EQ(count("iam"), 1);  // a revocation is no IAM change
}

TEST_F(PgChangeListenerTest, RegistryAndIamWritesBumpTheirTopics) {
  auto registry = provider_->registry().value();
  BackendRow b;
  b.id = "b-1";
  b.server_url = "http://10.0.0.1:8080";
  b.max_sessions = 4;
  b.status = "healthy";
  b.registered_at = b.last_heartbeat_at = clock_.now_ms();
  ASSERT_TRUE(registry->upsert({b}));
  EXPECT_TRUE(webstream::testing::eventually([&] { return count("registry") == 2; }, 3s));
  ASSERT_TRUE(registry->remove("b-1"));
  EXPECT_TRUE(webstream::testing::eventually([&] { return count("registry") == 3; }, 3s));
  ASSERT_TRUE(sql_->read([](pg::PgConnection& c) -> Status {
    c.exec_script("INSERT INTO iam_orgs(id, name, created_at, updated_at) VALUES('o-1', 'one', 0, 0)");
    return Status::success();
  }));
  EXPECT_TRUE(webstream::testing::eventually([&] { return count("iam") == 2; }, 3s));
  EXPECT_EQ(scalar("SELECT version FROM change_versions WHERE topic='registry'"), 2);
}

TEST_F(PgChangeListenerTest, ATerminatedListenerReconnectsListensAgainAndReadsWhatChangedInTheGap) {
  const std::string name_like =
      "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE "
      "'webstream-listen:%'";
  ASSERT_EQ(scalar(name_like), 1);
  const std::int64_t old_pid = scalar(
      "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE "
      "'webstream-listen:%'");
  const int before = count("revocations");
  ASSERT_TRUE(sql_->read([&](pg::PgConnection& c) -> Status {
    c.exec("SELECT pg_terminate_backend($1::int)", pg::Params().add(old_pid));
    return Status::success();
  }));
  revoke("jti-in-the-gap");  // committed while the listener has no connection: its notification goes nowhere
  // Reconnected (every second), LISTENing again, and every topic reported: the gap's change is read.
  ASSERT_TRUE(webstream::testing::eventually([&] { return count("revocations") > before; }, 5s));
  ASSERT_TRUE(webstream::testing::eventually([&] { return count("iam") == 2 && count("registry") == 2; }, 5s));
  EXPECT_EQ(scalar(name_like), 1);
  EXPECT_NE(scalar("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE "
                   "'webstream-listen:%'"),
            old_pid);
  // And the new connection is LISTENing: the next change comes by notification again.
  const int now = count("revocations");
  revoke("jti-after");
  EXPECT_TRUE(webstream::testing::eventually([&] { return count("revocations") > now; }, 3s));
}

TEST(PgChangeListenerAlone, UnableToConnectItWakesEveryTopicEverySecondAndLogsNoSecret) {
  const std::string secret = "host=127.0.0.1 port=1 user=u password=hunter2-listen dbname=x connect_timeout=2";
  pg::PgChangeListener listener(secret, "storage.connection");
  std::mutex m;
  std::map<std::string, int> woken;
  ::testing::internal::CaptureStdout();
  listener.start([&](const std::string& topic) {
    std::lock_guard lock(m);
    ++woken[topic];
  });
  const bool polled = webstream::testing::eventually(
      [&] {
        std::lock_guard lock(m);
        return woken["revocations"] >= 2 && woken["iam"] >= 2 && woken["registry"] >= 2;
      },
      6s);
  listener.stop();
  const std::string logged = ::testing::internal::GetCapturedStdout();
  EXPECT_TRUE(polled) << "every topic woken at each failed connection attempt";
  EXPECT_NE(logged.find("change listener cannot connect; retrying"), std::string::npos) << logged;
  EXPECT_EQ(logged.find("hunter2"), std::string::npos) << logged;
}

TEST_F(PgChangeListenerTest, SqliteHasNoChangeFeed) {
  auto sqlite = open_sqlite_provider(":memory:");
  ASSERT_TRUE(sqlite.ok());
  EXPECT_FALSE(sqlite.value()->change_feed().ok());
}

}  // namespace
}  // namespace webstream::store
