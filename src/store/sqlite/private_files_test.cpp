#include "store/sqlite/private_files.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "store/sqlite/sqlite_db.hpp"

namespace webstream::store {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// A temp directory and a permissive umask (0000) for the test's life: the modes must not depend on it.
class PrivateFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("webstream-private-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    old_umask_ = ::umask(0);
  }
  void TearDown() override {
    ::umask(old_umask_);
    fs::remove_all(dir_);
  }
  fs::path dir_;
  mode_t old_umask_ = 0;
};

TEST_F(PrivateFiles, DirectoriesAre0700AndFilesAre0600WhateverTheUmask) {
  const auto nested = dir_ / "a" / "b";
  ASSERT_TRUE(create_private_directories(nested.string()));
  EXPECT_EQ(mode_of(dir_ / "a"), 0700u);
  EXPECT_EQ(mode_of(nested), 0700u);
  auto created = create_private_file((nested / "f").string());
  ASSERT_TRUE(created);
  EXPECT_FALSE(created.value());
  EXPECT_EQ(mode_of(nested / "f"), 0600u);
  ASSERT_TRUE(create_private_directories(nested.string()));  // existing: fine, unchanged
}

TEST_F(PrivateFiles, AnExistingExposedFileIsReportedAndKept) {
  const auto path = dir_ / "store.db";
  std::ofstream(path) << "x";
  ::chmod(path.c_str(), 0644);
  auto created = create_private_file(path.string());
  ASSERT_TRUE(created);
  EXPECT_TRUE(created.value());
  EXPECT_EQ(mode_of(path), 0644u);
  ::chmod(path.c_str(), 0600);
  EXPECT_FALSE(create_private_file(path.string()).value());
}

TEST_F(PrivateFiles, TheStoreAndItsWalAndShmAre0600) {
  const auto path = dir_ / "webstream.db";
  auto db = SqliteDb::open(path.string());
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_FALSE(readable_by_others(path.string()));
  ASSERT_TRUE(db.value()->migrate("t", {"CREATE TABLE t(x INTEGER)", "INSERT INTO t VALUES(1)"}));
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path p = path.string() + suffix;
    ASSERT_TRUE(fs::exists(p)) << p;
    EXPECT_EQ(mode_of(p), 0600u) << p;
  }
}

TEST_F(PrivateFiles, AnExposedStoreIsReported) {
  const auto path = dir_ / "webstream.db";
  ASSERT_TRUE(SqliteDb::open(path.string()));
  EXPECT_FALSE(readable_by_others(path.string()));
  ::chmod(path.c_str(), 0640);
  EXPECT_TRUE(readable_by_others(path.string()));
  EXPECT_FALSE(readable_by_others((dir_ / "missing.db").string()));
}

}  // namespace
}  // namespace webstream::store
