// Online backup: consistent under concurrent writes, 0600 whatever the umask, never overwrites, leaves nothing
// behind on failure.
#include "store/sqlite/sqlite_backup.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "store/sqlite/sqlite_db.hpp"

namespace webstream::store {
namespace {

namespace fs = std::filesystem;

class SqliteBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("webstream-backup-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    source_ = (dir_ / "store.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<SqliteDb> open_source() {
    auto db = SqliteDb::open(source_);
    EXPECT_TRUE(db.ok());
    auto s = db.value()->transaction([](SqliteDb& d) -> Status {
      d.exec_unlocked("CREATE TABLE IF NOT EXISTS acks(id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
      return Status::success();
    });
    EXPECT_TRUE(s.ok());
    return std::move(db.value());
  }

  // The ids in the copy, checked to be exactly 1..n (a consistent prefix of the writer's commits).
  static std::int64_t contiguous_rows(const std::string& path) {
    auto db = SqliteDb::open(path);
    EXPECT_TRUE(db.ok());
    return db.value()->locked([](SqliteDb& d) {
      auto& q = d.prepare("SELECT COUNT(*), COALESCE(MIN(id),0), COALESCE(MAX(id),0) FROM acks");
      EXPECT_TRUE(q.step());
      const auto count = q.integer(0), min = q.integer(1), max = q.integer(2);
      if (count > 0) {
        EXPECT_EQ(min, 1);
        EXPECT_EQ(max, count);
      }
      return count;
    });
  }

  fs::path dir_;
  std::string source_;
};

TEST_F(SqliteBackupTest, CopyUnderWriteLoadHoldsEveryCommitBeforeItAndIsConsistent) {
  auto db = open_source();
  std::atomic<std::int64_t> acked{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable progressed;
  std::thread writer([&] {
    const std::string payload(512, 'p');
    for (std::int64_t id = 1; !stop.load(); ++id) {
      auto s = db->transaction([&](SqliteDb& d) -> Status {
        d.prepare("INSERT INTO acks(id, payload) VALUES(?, ?)").bind(1, id).bind(2, payload).run();
        return Status::success();
      });
      ASSERT_TRUE(s.ok());
      acked.store(id);
      if (id % 50 == 0) progressed.notify_all();
    }
  });
  {
    std::unique_lock lock(mutex);
    progressed.wait_for(lock, std::chrono::seconds(30), [&] { return acked.load() >= 300; });
  }
  const std::int64_t before = acked.load();
  ASSERT_GE(before, 300);
  const auto dest = (dir_ / "backup.db").string();
  auto info = backup_sqlite(source_, dest);
  const std::int64_t after = acked.load();
  stop = true;
  writer.join();
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_GT(info.value().pages, 0);
  EXPECT_EQ(info.value().bytes, static_cast<std::int64_t>(fs::file_size(dest)));
  const auto rows = contiguous_rows(dest);
  EXPECT_GE(rows, before);     // every write acknowledged before the backup began
  EXPECT_LE(rows, after + 1);  // at most one commit in flight when it ended
  EXPECT_FALSE(fs::exists(dest + "-wal"));
}

TEST_F(SqliteBackupTest, CopyIsMode0600WhateverTheUmask) {
  auto db = open_source();
  const auto old_mask = ::umask(0);
  const auto dest = (dir_ / "backup.db").string();
  auto info = backup_sqlite(source_, dest);
  ::umask(old_mask);
  ASSERT_TRUE(info.ok()) << info.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(dest.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(SqliteBackupTest, ExistingDestinationIsNeverOverwritten) {
  auto db = open_source();
  const auto dest = (dir_ / "backup.db").string();
  std::ofstream(dest) << "precious";
  auto info = backup_sqlite(source_, dest);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message.find("already exists"), std::string::npos);
  std::ifstream in(dest);
  std::string text;
  in >> text;
  EXPECT_EQ(text, "precious");
}

TEST_F(SqliteBackupTest, MissingSourceIsAnErrorAndIsNotCreated) {
  const auto dest = (dir_ / "backup.db").string();
  auto info = backup_sqlite((dir_ / "absent.db").string(), dest);
  ASSERT_FALSE(info.ok());
  EXPECT_NE(info.error().message.find("absent.db"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / "absent.db"));
  EXPECT_FALSE(fs::exists(dest));
}

TEST_F(SqliteBackupTest, SourceThatIsNotADatabaseLeavesNoPartialFile) {
  std::ofstream(source_) << std::string(8192, 'x');
  const auto dest = (dir_ / "backup.db").string();
  auto info = backup_sqlite(source_, dest);
  ASSERT_FALSE(info.ok());
  EXPECT_FALSE(fs::exists(dest));
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().find("partial"), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace webstream::store
