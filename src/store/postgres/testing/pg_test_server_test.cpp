// The state file through which a CTest run's test processes share one PostgreSQL (pg_test_server.hpp).
#include "store/postgres/testing/pg_test_server.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "store/postgres/pg_connection.hpp"

namespace webstream::store::pg::testing {
namespace {

namespace fs = std::filesystem;

class PgTestServerStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // mkdtemp's template: it replaces the trailing six X's with a unique name.
    std::string tmpl = (fs::temp_directory_path() / "wspg-state-").string() + std::string(6, 'X');
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string write(const std::string& text) {
    const auto path = dir_ + "/state";
    std::ofstream(path, std::ios::trunc) << text;
    return path;
  }
  std::string dir_;
};

TEST_F(PgTestServerStateTest, AMissingStateFileIsAnErrorNamingTheFixture) {
  auto attached = PgTestServer::attach(dir_ + "/absent");
  ASSERT_FALSE(attached.ok());
  EXPECT_NE(attached.error().message.find("pg_test_server.start"), std::string::npos) << attached.error().message;
}

TEST_F(PgTestServerStateTest, AMalformedStateFileIsAnErrorAndRemovesNothing) {
  // A bad file must not make the object believe it owns the dir it names (its stop() removes that dir).
  const auto decoy = dir_ + "/decoy";
  fs::create_directories(decoy);
  std::ofstream(decoy + "/keep") << "x";
  for (const std::string& text :
       {std::string(), "dir=" + decoy + "\nbindir=/usr\nport=abc\n", "dir=" + decoy + "\nbindir=/usr\nport=70000\n",
        "dir=" + decoy + "\nport=5432\n", std::string("garbage without equals signs\n")}) {
    auto attached = PgTestServer::attach(write(text));
    ASSERT_FALSE(attached.ok()) << text;
    EXPECT_NE(attached.error().message.find("malformed"), std::string::npos) << attached.error().message;
  }
  EXPECT_TRUE(fs::exists(decoy + "/keep"));
}

// What the fixture relies on: a process that attached, made databases and went away leaves the server up for the
// others, and drops only its own databases.
TEST_F(PgTestServerStateTest, AnAttachedServerOutlivesItsUserAndLosesOnlyItsDatabases) {
  auto server = PgTestServer::shared();
  ASSERT_TRUE(server.ok()) << server.error().message;
  const auto path = write("dir=" + (*server)->dir() +
                          "\nbindir=/nonexistent\nport=" + std::to_string((*server)->port()) + "\nas_nobody=0\n");
  std::string mine;
  {
    auto attached = PgTestServer::attach(path);
    ASSERT_TRUE(attached.ok()) << attached.error().message;
    EXPECT_FALSE((*attached)->owned());
    auto db = (*attached)->create_database();
    ASSERT_TRUE(db.ok()) << db.error().message;
    mine = *db;
    (*attached)->drop_created_databases();
    (*attached)->stop();
  }  // and its destructor: neither may stop the server
  auto other = (*server)->create_database();
  ASSERT_TRUE(other.ok()) << "the server did not outlive an attached user: " << other.error().message;
  EXPECT_TRUE(PgConnection::open(*other, "test").ok());
  // The attached user's database is gone: connecting to it fails.
  EXPECT_FALSE(PgConnection::open(mine, "test").ok());
}

}  // namespace
}  // namespace webstream::store::pg::testing
