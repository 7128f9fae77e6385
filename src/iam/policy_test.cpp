#include "iam/policy.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace webstream::iam {
namespace {

namespace json = boost::json;

std::optional<json::object> doc(const char* text) {
  if (!text) return std::nullopt;
  return json::parse(text).as_object();
}

struct Case {
  const char* name;
  const char* user;
  std::vector<const char*> groups;
  const char* org;
  const char* expected;
};

const Case kCases[] = {
    {"nothing set: the default", nullptr, {}, nullptr, R"({"maxConcurrentSessions":1})"},
    {"org only",
     nullptr,
     {},
     R"({"maxConcurrentSessions":3,"audio":false})",
     R"({"maxConcurrentSessions":3,"audio":false})"},
    {"group over org, field by field",
     nullptr,
     {R"({"audio":true})"},
     R"({"maxConcurrentSessions":3,"audio":false})",
     R"({"maxConcurrentSessions":3,"audio":true})"},
    {"user over group over org",
     R"({"maxConcurrentSessions":5})",
     {R"({"maxConcurrentSessions":2,"clipboard":true})"},
     R"({"maxConcurrentSessions":3,"idleTimeout":600})",
     R"({"maxConcurrentSessions":5,"idleTimeout":600,"clipboard":true})"},
    {"user may be stricter than the default",
     R"({"maxConcurrentSessions":0})",
     {},
     nullptr,
     R"({"maxConcurrentSessions":0})"},
    {"null means not set", R"({"audio":null})", {}, R"({"audio":true})", R"({"maxConcurrentSessions":1,"audio":true})"},
    {"several groups: booleans true wins",
     nullptr,
     {R"({"clipboard":false,"audio":true})", R"({"clipboard":true,"audio":false})"},
     nullptr,
     R"({"maxConcurrentSessions":1,"clipboard":true,"audio":true})"},
    {"several groups: numbers the largest",
     nullptr,
     {R"({"maxConcurrentSessions":2,"idleTimeout":900})", R"({"maxConcurrentSessions":4,"idleTimeout":300})"},
     nullptr,
     R"({"maxConcurrentSessions":4,"idleTimeout":900})"},
    {"several groups: other values from the first",
     nullptr,
     {R"({"fileTransfer":"download","display":{"dpi":96}})", R"({"fileTransfer":"both","display":{"dpi":120}})"},
     nullptr,
     R"({"maxConcurrentSessions":1,"fileTransfer":"download","display":{"dpi":96}})"},
    {"several groups: a field only one sets",
     nullptr,
     {R"({"audio":false})", R"({"idleTimeout":60})"},
     nullptr,
     R"({"maxConcurrentSessions":1,"audio":false,"idleTimeout":60})"},
    {"groups combined, then the user still wins",
     R"({"clipboard":false})",
     {R"({"clipboard":true})", R"({"clipboard":false})"},
     R"({"clipboard":true})",
     R"({"maxConcurrentSessions":1,"clipboard":false})"},
    {"nested objects replace whole",
     R"({"display":{"dpi":144}})",
     {},
     R"({"display":{"dpi":96,"scale":2}})",
     R"({"maxConcurrentSessions":1,"display":{"dpi":144}})"},
    {"mixed types in groups: first wins",
     nullptr,
     {R"({"clipboard":"read"})", R"({"clipboard":true})"},
     nullptr,
     R"({"maxConcurrentSessions":1,"clipboard":"read"})"},
};

TEST(EffectivePolicy, Table) {
  for (const auto& c : kCases) {
    PolicyLayers layers;
    layers.user = doc(c.user);
    layers.org = doc(c.org);
    for (const char* g : c.groups) layers.groups.push_back(*doc(g));
    EXPECT_EQ(json::value(effective_policy(layers)), json::parse(c.expected)) << c.name;
  }
}

TEST(EffectivePolicy, TheDefaultIsOneSession) {
  EXPECT_EQ(json::value(default_policy()), json::parse(R"({"maxConcurrentSessions":1})"));
}

TEST(ValidatePolicyDocument, AcceptsKnownFieldsWithTheirTypesAndAnyOtherField) {
  EXPECT_TRUE(validate_policy_document(*doc(R"({"maxConcurrentSessions":2,"idleTimeout":600,"clipboard":true,
      "audio":false,"fileTransfer":"download","watermark":{"text":"x"}})"))
                  .ok());
  EXPECT_TRUE(validate_policy_document(json::object{}).ok());
}

TEST(ValidatePolicyDocument, NamesTheBadField) {
  struct Bad {
    const char* text;
    const char* field;
  } cases[] = {
      {R"({"maxConcurrentSessions":"2"})", "document.maxConcurrentSessions"},
      {R"({"maxConcurrentSessions":-1})", "document.maxConcurrentSessions"},
      {R"({"maxConcurrentSessions":1.5})", "document.maxConcurrentSessions"},
      {R"({"maxConcurrentSessions":100000})", "document.maxConcurrentSessions"},
      {R"({"idleTimeout":true})", "document.idleTimeout"},
      {R"({"clipboard":3})", "document.clipboard"},
      {R"({"audio":[]})", "document.audio"},
      {R"({"fileTransfer":{}})", "document.fileTransfer"},
  };
  for (const auto& c : cases) {
    auto s = validate_policy_document(*doc(c.text));
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_EQ(s.error().status, 400);
    EXPECT_NE(s.error().message.find(c.field), std::string::npos) << s.error().message;
  }
}

}  // namespace
}  // namespace webstream::iam
