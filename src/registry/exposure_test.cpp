#include "registry/exposure.hpp"

#include <gtest/gtest.h>

namespace webstream::registry {
namespace {

TEST(Exposure, LoopbackBinds) {
  for (const char* a : {"127.0.0.1", "127.1.2.3", "::1", "localhost"}) EXPECT_TRUE(is_loopback_bind(a)) << a;
  for (const char* a : {"0.0.0.0", "::", "10.0.0.5", "192.168.1.1", "128.0.0.1"})
    EXPECT_FALSE(is_loopback_bind(a)) << a;
}

TEST(Exposure, LinkLocalHostsInEverySpelling) {
  for (const char* h :
       {"169.254.169.254", "169.254.0.1", "169.254.169.254.", "2852039166", "0xa9fea9fe", "0xa9.0xfe.0xa9.0xfe",
        "169.254.43518", "[fe80::1]", "[FE80::1%25eth0]", "[febf::1]", "[::ffff:169.254.169.254]", "fe80::1"}) {
    EXPECT_TRUE(is_link_local_host(h)) << h;
  }
  for (const char* h : {"169.253.1.1", "169.255.0.1", "10.0.0.1", "127.0.0.1", "[fec0::1]", "[::1]", "host.example",
                        "metadata", "[2001:db8::1]", "[::ffff:10.0.0.1]"}) {
    EXPECT_FALSE(is_link_local_host(h)) << h;
  }
}

TEST(Exposure, ServerUrlTargets) {
  EXPECT_FALSE(check_server_url_target("http://169.254.169.254", false));
  EXPECT_FALSE(check_server_url_target("http://[fe80::1]:8080/x", false));
  EXPECT_TRUE(check_server_url_target("http://169.254.169.254", true));
  EXPECT_TRUE(check_server_url_target("http://10.0.0.7:8080", false));
  auto refused = check_server_url_target("https://169.254.1.2:443", false);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().status, 400);
  EXPECT_NE(refused.error().message.find("serverUrl"), std::string::npos);
  EXPECT_NE(refused.error().message.find("allowLinkLocalBackends"), std::string::npos);
}

}  // namespace
}  // namespace webstream::registry
