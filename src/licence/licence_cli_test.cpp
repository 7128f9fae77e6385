#include "licence/licence_cli.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "licence/licence_test_support.hpp"

namespace webstream::licence {
namespace {

using namespace webstream::licence::testing;

int run(std::initializer_list<std::string> args) {
  std::vector<std::string> storage(args);
  storage.insert(storage.begin(), "license");
  std::vector<char*> argv;
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  return run_licence_cli(static_cast<int>(storage.size()), argv.data());
}

std::string read(const std::string& path) {
  FileText f = read_file_text(path, 1 << 20);
  EXPECT_EQ(f.problem, ReadProblem::kNone) << f.detail;
  return f.text;
}

TEST(LicenceCli, UsageErrorsExitTwo) {
  EXPECT_EQ(run({}), 2);
  EXPECT_EQ(run({"frobnicate"}), 2);
  EXPECT_EQ(run({"issue", "--licensee", "X"}), 2);
  EXPECT_EQ(run({"issue", "--key", "k", "--licensee", "X", "--max", "ten", "--expires", "2030-01-01"}), 2);
  EXPECT_EQ(run({"issue", "--key", "k", "--licensee", "X", "--max", "10", "--expires", "2030-02-30"}), 2);
  EXPECT_EQ(run({"show"}), 2);
  EXPECT_EQ(run({"keygen"}), 2);
  EXPECT_EQ(run({"keygen", "--out-private", "/tmp/x", "--key-id", "bad id"}), 2);
  EXPECT_EQ(run({"--help"}), 0);
}

TEST(LicenceCli, KeygenWritesAPrivateKeyOnceWithMode0600) {
  TempDir dir;
  const std::string key = dir.file("prod.key");
  EXPECT_EQ(run({"keygen", "--out-private", key, "--key-id", "prod-test", "--print-public"}), 0);
  auto parsed = parse_signing_key(read(key));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->key_id, "prod-test");
  struct stat st {};
  ASSERT_EQ(::stat(key.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(run({"keygen", "--out-private", key}), 1);  // never overwrites a key
}

TEST(LicenceCli, IssueThenShow) {
  TempDir dir;
  const std::string key = dir.file("k.key");
  ASSERT_EQ(run({"keygen", "--out-private", key, "--key-id", "cli-test"}), 0);
  const std::string out = dir.file("licence.json");
  ASSERT_EQ(run({"issue", "--key", key, "--licensee", "Example Ltd", "--max", "50", "--expires", "2099-12-31",
                 "--not-before", "2020-01-01", "--id", "lic-cli", "--out", out}),
            0);
  // `show` trusts only the built-in keys, so verify with a ring holding the test key.
  auto signing = parse_signing_key(read(key));
  ASSERT_TRUE(signing.ok());
  KeyRing ring({TrustedKey{.key_id = "cli-test", .public_key = signing->public_key, .development = false}});
  LicenceCheck c = check_licence_file(out, ring, SystemClock::instance().now_ms());
  ASSERT_EQ(c.state, LicenceState::kValid) << c.detail;
  EXPECT_EQ(c.licence->id, "lic-cli");
  EXPECT_EQ(c.licence->max_streamers, 50);
  EXPECT_EQ(c.licence->not_before, *parse_utc_timestamp("2020-01-01T00:00:00Z"));
  // --expires 2099-12-31 is valid through that whole day.
  EXPECT_EQ(c.licence->expires_at, *parse_utc_timestamp("2100-01-01T00:00:00Z"));
  EXPECT_EQ(run({"show", out}), 1);  // not signed by a built-in key
  EXPECT_EQ(run({"show", dir.file("missing.json")}), 1);
}

TEST(LicenceCli, ShowAcceptsATestKeyLicenceAndRefusesATamperedOne) {
  const std::string key = WEBSTREAM_LICENCE_TEST_PRIVATE_KEY;
  if (key.empty()) GTEST_SKIP() << "built without WEBSTREAM_LICENCE_TEST_KEY: no key pair to sign with";
  TempDir dir;
  const std::string out = dir.file("dev.json");
  ASSERT_EQ(run({"issue", "--key", key, "--licensee", "Demo", "--max", "5", "--expires", "2099-01-01", "--out", out}),
            0);
  EXPECT_EQ(run({"show", out}), 0);
  std::string text = read(out);
  const auto pos = text.find("\"maxStreamers\":5");
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, 16, "\"maxStreamers\":9");
  const std::string tampered = dir.write("tampered.json", text);
  EXPECT_EQ(run({"show", tampered}), 1);
  const std::string expired = dir.file("expired.json");
  ASSERT_EQ(run({"issue", "--key", key, "--licensee", "Demo", "--max", "5", "--not-before", "2020-01-01", "--expires",
                 "2021-01-01", "--out", expired}),
            0);
  EXPECT_EQ(run({"show", expired}), 1);
}

}  // namespace
}  // namespace webstream::licence
