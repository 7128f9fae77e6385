// config check: good and bad configurations, and that checking writes nothing.
#include "ops/config_check.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "ops/storage_check.hpp"
#include "store/postgres/testing/pg_test_server.hpp"

namespace webstream::ops {
namespace {

namespace fs = std::filesystem;

constexpr Millis kNow = 1'800'000'000'000;  // 2027-01-15

class ConfigCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("webstream-config-check-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // A config around `inner` (elements inside <configuration>), storage at data/webstream.db unless given.
  std::string config(const std::string& inner, const std::string& storage = "<storage path=\"data/webstream.db\"/>") {
    return write("app.config.xml", "<configuration>\n<gateway publicIP=\"127.0.0.1\" port=\"9000\"/>\n" + storage +
                                       "\n" + inner + "\n</configuration>\n");
  }
  static bool any_contains(const std::vector<std::string>& lines, const std::string& needle) {
    return std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return l.find(needle) != l.npos; });
  }
  void make_sqlite(const std::string& path) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE t(x); INSERT INTO t VALUES(1);", nullptr, nullptr,
                           nullptr),
              SQLITE_OK);
    sqlite3_close(db);
  }

  fs::path dir_;
};

TEST_F(ConfigCheckTest, MinimalConfigIsStartableAndCreatesNothing) {
  const auto path = config("");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  EXPECT_TRUE(report.ok()) << (report.errors.empty() ? "" : report.errors.front());
  EXPECT_TRUE(any_contains(report.warnings, "development mode"));
  EXPECT_TRUE(any_contains(report.warnings, "does not exist yet"));
  // Nothing was created: not the store, not its directory.
  EXPECT_FALSE(fs::exists(dir_ / "data"));
}

TEST_F(ConfigCheckTest, NotWellFormedXmlIsAnErrorNamingTheFile) {
  const auto path = write("app.config.xml", "<configuration><gateway port=\"9000\"></configuration>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("app.config.xml"), std::string::npos);
  EXPECT_NE(report.errors[0].find("not well-formed"), std::string::npos);
}

TEST_F(ConfigCheckTest, BadValueIsAnErrorNamingTheSetting) {
  const auto path = config("<accessManagement tokenLifetime=\"5\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.errors[0].find("accessManagement.tokenLifetime"), std::string::npos);
}

TEST_F(ConfigCheckTest, UnknownElementAndRiskyHealthCheckAreWarnings) {
  const auto path = write("app.config.xml",
                          "<configuration><gateway port=\"9000\"><healthCheck timeout=\"3\"/></gateway>"
                          "<storage path=\"s.db\"/><frobnicate/></configuration>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(any_contains(report.warnings, "frobnicate"));
  EXPECT_TRUE(any_contains(report.warnings, "gateway.healthCheck.timeout"));
}

TEST_F(ConfigCheckTest, MissingEnvSecretIsAnErrorWithoutTheValue) {
  ::unsetenv("WEBSTREAM_CONFIG_CHECK_ABSENT");
  const auto path = config(
      "<webstreamSettings serverPfxCertificateFile=\"gw.pfx\" "
      "serverPfxSecret=\"env:WEBSTREAM_CONFIG_CHECK_ABSENT\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.errors[0].find("WEBSTREAM_CONFIG_CHECK_ABSENT is not set"), std::string::npos);
}

TEST_F(ConfigCheckTest, UnreadablePfxIsAnErrorNamingTheFileNotTheSecret) {
  write("gw.pfx", "not a pfx at all");
  const auto path = config("<webstreamSettings serverPfxCertificateFile=\"gw.pfx\" serverPfxSecret=\"S3cret-Value\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(any_contains(report.errors, "webstreamSettings.serverPfxCertificateFile"));
  EXPECT_TRUE(any_contains(report.errors, "gw.pfx"));
  EXPECT_FALSE(any_contains(report.errors, "S3cret-Value"));
  EXPECT_FALSE(any_contains(report.warnings, "development mode"));
}

TEST_F(ConfigCheckTest, DisabledGatewayFailsForGatewayModeOnly) {
  const auto path =
      write("app.config.xml", "<configuration><gateway enabled=\"false\"/><storage path=\"s.db\"/></configuration>");
  EXPECT_TRUE(any_contains(check_config(path, CheckMode::kGateway, kNow).errors, "gateway.enabled is false"));
  EXPECT_TRUE(check_config(path, CheckMode::kAccessManagement, kNow).ok());
}

TEST_F(ConfigCheckTest, StandaloneModeWithoutServiceKeyIsAnError) {
  const auto path = config("<accessManagement mode=\"standalone\" url=\"http://127.0.0.1:9500\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  EXPECT_TRUE(any_contains(report.errors, "accessManagement.serviceKey"));
}

TEST_F(ConfigCheckTest, StoreThatIsNotSqliteIsAnError) {
  write("store.db", std::string(4096, 'x'));
  const auto path = config("", "<storage path=\"store.db\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(any_contains(report.errors, "storage.path"));
  EXPECT_TRUE(any_contains(report.errors, "store.db"));
}

TEST_F(ConfigCheckTest, PostgresqlStoreIsReachedAndItsSchemaVersionRead) {
  auto server = webstream::store::pg::testing::PgTestServer::shared();
  ASSERT_TRUE(server.ok()) << "cannot start the test PostgreSQL: " << server.error().message;
  const auto conninfo = (*server)->create_database().value();
  const auto path = config("", "<storage provider=\"postgresql\" connection=\"" + conninfo + "\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  EXPECT_TRUE(report.ok()) << (report.errors.empty() ? "" : report.errors.front());
  EXPECT_TRUE(any_contains(report.warnings, "the first start creates it"));
}

TEST_F(ConfigCheckTest, UnreachablePostgresqlIsAnErrorNamingTheSettingNotTheSecret) {
  const auto path = config("",
                           "<storage provider=\"postgresql\" connection=\"host=127.0.0.1 port=1 "
                           "password=Hunter2-secret connect_timeout=2\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  ASSERT_FALSE(report.ok());
  EXPECT_TRUE(any_contains(report.errors, "storage.connection"));
  EXPECT_FALSE(any_contains(report.errors, "Hunter2"));
  EXPECT_FALSE(any_contains(report.warnings, "Hunter2"));
}

TEST_F(ConfigCheckTest, StoreUnderARegularFileCannotBeCreated) {
  write("blocker", "a file, not a directory");
  const auto path = config("", "<storage path=\"blocker/data/webstream.db\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  EXPECT_TRUE(any_contains(report.errors, "is not a directory"));
}

TEST_F(ConfigCheckTest, StoreThatIsADirectoryIsAnError) {
  fs::create_directories(dir_ / "store.db");
  const auto path = config("", "<storage path=\"store.db\"/>");
  EXPECT_TRUE(any_contains(check_config(path, CheckMode::kGateway, kNow).errors, "not a regular file"));
}

TEST_F(ConfigCheckTest, ExistingStoreIsOpenedReadOnlyAndAWorldReadableOneIsAWarning) {
  const auto store = (dir_ / "store.db").string();
  make_sqlite(store);
  ASSERT_FALSE(fs::exists(store + "-wal"));
  ::chmod(store.c_str(), 0644);
  const auto path = config("", "<storage path=\"store.db\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  EXPECT_TRUE(report.ok()) << (report.errors.empty() ? "" : report.errors.front());
  EXPECT_TRUE(any_contains(report.warnings, "mode 0644"));
  EXPECT_FALSE(fs::exists(store + "-wal"));  // not opened through SQLite: no -wal/-shm owned by the checker

  ::chmod(store.c_str(), 0600);
  EXPECT_FALSE(any_contains(check_config(path, CheckMode::kGateway, kNow).warnings, "mode 0"));
}

TEST_F(ConfigCheckTest, LicenceThatDoesNotVerifyIsAWarningNotAnError) {
  write("licence.json", "{\"format\":\"webstream-licence-v1\",\"payload\":\"e30\",\"signature\":\"AAAA\"}");
  const auto path = config("<license file=\"licence.json\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(any_contains(report.warnings, "license.file"));
  EXPECT_TRUE(any_contains(report.warnings, "403"));
}

TEST_F(ConfigCheckTest, MissingLicenceFileMeansTheEvaluationLicence) {
  const auto path = config("<license file=\"absent.json\"/>");
  const auto report = check_config(path, CheckMode::kGateway, kNow);
  EXPECT_TRUE(report.ok());
  EXPECT_TRUE(any_contains(report.warnings, "evaluation licence"));
}

TEST_F(ConfigCheckTest, UnreadableConfigFileIsAnError) {
  const auto report = check_config((dir_ / "absent.xml").string(), CheckMode::kGateway, kNow);
  ASSERT_EQ(report.errors.size(), 1u);
  EXPECT_NE(report.errors[0].find("cannot read"), std::string::npos);
}

}  // namespace
}  // namespace webstream::ops
