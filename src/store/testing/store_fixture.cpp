#include "store/testing/store_fixture.hpp"

#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "store/postgres/testing/pg_test_server.hpp"

namespace webstream::store::testing {

void StoreFixture::SetUp() {
  if (postgres()) {
    auto db = pg::testing::fresh_database();
    ASSERT_TRUE(db.ok()) << db.error().message;
    location_ = *db;
  } else {
    static std::atomic<int> n{0};
    location_ = (std::filesystem::temp_directory_path() /
                 ("store_suite_" + std::to_string(::getpid()) + "_" + std::to_string(++n) + ".db"))
                    .string();
    std::filesystem::remove(location_);
  }
  auto p = open_another();
  ASSERT_TRUE(p.ok()) << p.error().message;
  provider_ = std::move(p.value());
}

void StoreFixture::TearDown() {
  provider_.reset();
  if (!postgres() && !location_.empty()) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(location_ + suffix);
  }
}

Result<std::unique_ptr<StoreProvider>> StoreFixture::open_another(std::size_t pool_size) {
  auto p = postgres() ? open_postgres_provider(location_, clock, pool_size) : open_sqlite_provider(location_);
  if (p) p.value()->startup_complete();  // the next provider (another gateway) may open at once
  return p;
}

}  // namespace webstream::store::testing
