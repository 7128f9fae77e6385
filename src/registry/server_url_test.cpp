#include "registry/server_url.hpp"

#include <gtest/gtest.h>

namespace webstream::registry {
namespace {

TEST(ServerUrl, NormalisesSchemeHostAndTrailingSlash) {
  EXPECT_EQ(normalize_server_url("http://10.0.0.1:8080").value(), "http://10.0.0.1:8080");
  EXPECT_EQ(normalize_server_url("HTTP://Host.Example:8080/").value(), "http://host.example:8080");
  EXPECT_EQ(normalize_server_url("https://h/base/").value(), "https://h/base");
  EXPECT_EQ(normalize_server_url("https://h/Base//").value(), "https://h/Base");  // the path keeps its case
  EXPECT_EQ(normalize_server_url("http://[::1]:9000/").value(), "http://[::1]:9000");
  EXPECT_EQ(health_url("http://h:1/base"), "http://h:1/base/health");
}

TEST(ServerUrl, RefusesWhatIsNotAnAbsoluteHttpUrl) {
  for (const char* bad :
       {"", "h:8080", "10.0.0.1:8080", "/path", "ftp://h/", "ws://h/", "http://", "http:///x", "http://user:pw@h/",
        "http://h/?q=1", "http://h/#f", "http://h:0/", "http://h:99999/", "http://h:/", "http://h h/"}) {
    auto r = normalize_server_url(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 400) << bad;
    EXPECT_EQ(r.error().code, "invalid_request");
    EXPECT_NE(r.error().message.find("serverUrl"), std::string::npos);
  }
  EXPECT_FALSE(normalize_server_url("http://h/" + std::string(3000, 'a')));
}

}  // namespace
}  // namespace webstream::registry
