#pragma once
// StoreFixture: the one store test suite's fixture. Each test runs once per backend ("sqlite",
// "postgresql") on a fresh, empty store: SQLite in a temp file, PostgreSQL in a new database of the binary's
// throwaway server (store/postgres/testing/pg_test_server.hpp). A test that cannot get its store FAILS with the
// reason (the PostgreSQL server must start; CI installs it).
//
//   class MyStoreTest : public StoreFixture {};
//   TEST_P(MyStoreTest, Something) { auto s = provider().sessions().value(); … }
//   WEBSTREAM_STORE_BACKENDS(MyStoreTest);
//
// open_another() opens a second provider on the same data: a restart, or another gateway (on PostgreSQL,
// separate connections — what several gateways are).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/testing/fake_clock.hpp"
#include "store/store_provider.hpp"

namespace webstream::store::testing {

class StoreFixture : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  bool postgres() const { return GetParam() == "postgresql"; }
  StoreProvider& provider() { return *provider_; }
  Result<std::unique_ptr<StoreProvider>> open_another(std::size_t pool_size = 4);

  webstream::testing::FakeClock clock{1'700'000'000'000};

 private:
  std::string location_;  // SQLite file or PostgreSQL connection string
  std::unique_ptr<StoreProvider> provider_;
};

}  // namespace webstream::store::testing

#define WEBSTREAM_STORE_BACKENDS(Suite)                                                \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values("sqlite", "postgresql"), \
                           [](const ::testing::TestParamInfo<std::string>& info) { return info.param; })
