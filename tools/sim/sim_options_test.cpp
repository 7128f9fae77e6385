#include "sim_options.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <vector>

namespace webstream::sim {
namespace {

Result<ParsedArgs> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "webstream-sim");
  return parse_sim_args(static_cast<int>(args.size()), args.data());
}

TEST(SimOptions, DefaultsAndValues) {
  auto r = parse({"--gateway", "http://127.0.0.1:9000", "--hosts=3", "--tags", "a, b,,c", "--heartbeat-interval", "0.5",
                  "--fps", "0", "--frame-bytes", "1024", "--capabilities", "gpu"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& o = r->options;
  EXPECT_EQ(r->action, SimAction::kRun);
  EXPECT_EQ(o.gateway_url, "http://127.0.0.1:9000");
  EXPECT_EQ(o.hosts, 3);
  EXPECT_EQ(o.tags, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(o.capabilities, (std::vector<std::string>{"gpu"}));
  EXPECT_EQ(o.heartbeat_interval_ms, 500);
  EXPECT_EQ(o.register_retry_ms, 30000);
  EXPECT_EQ(o.register_attempts, 10);
  EXPECT_EQ(o.checkin_interval_ms, 15000);
  EXPECT_EQ(o.fps, 0);
  EXPECT_EQ(o.frame_bytes, 1024u);
  EXPECT_TRUE(o.register_hosts);
}

TEST(SimOptions, ErrorsNameTheOption) {
  auto r = parse({"--gateway", "http://x", "--hosts", "many"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--hosts"), std::string::npos);
  r = parse({"--gateway", "http://x", "--frame-bytes", "8"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--frame-bytes"), std::string::npos);
  r = parse({"--bogus"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--bogus"), std::string::npos);
  r = parse({"--hosts", "1"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("--gateway"), std::string::npos);
  r = parse({"--gateway"});
  ASSERT_FALSE(r.ok());
  r = parse({"--gateway", "http://x", "--health", "sleepy"});
  ASSERT_FALSE(r.ok());
}

TEST(SimOptions, NoRegisterNeedsNoGatewayAndHelpWins) {
  auto r = parse({"--no-register", "--hosts", "2"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->options.register_hosts);
  r = parse({"--bogus-is-never-read", "x"});
  EXPECT_FALSE(r.ok());
  r = parse({"--help"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action, SimAction::kHelp);
  r = parse({"--version"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->action, SimAction::kVersion);
}

TEST(SimOptions, BackendKeyFromEnvironment) {
  ::setenv("SIM_TEST_KEY", "k-from-env", 1);
  auto r = parse({"--gateway", "http://x", "--backend-key", "env:SIM_TEST_KEY"});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->options.backend_key, "k-from-env");
  r = parse({"--gateway", "http://x", "--backend-key", "env:SIM_TEST_KEY_UNSET_XYZ"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("SIM_TEST_KEY_UNSET_XYZ"), std::string::npos);
}

TEST(SimOptions, SplitList) {
  EXPECT_TRUE(split_list("").empty());
  EXPECT_EQ(split_list("x"), (std::vector<std::string>{"x"}));
  EXPECT_EQ(split_list(" a ,b "), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace webstream::sim
