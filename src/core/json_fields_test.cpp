#include "core/json_fields.hpp"

#include <gtest/gtest.h>

namespace webstream::json_fields {
namespace {

TEST(JsonFields, ParseRejectsNonObjects) {
  EXPECT_FALSE(parse_object("not json"));
  EXPECT_FALSE(parse_object("[1,2]"));
  EXPECT_EQ(parse_object("{").error().status, 400);
  EXPECT_TRUE(parse_object(R"({"a":1})"));
  std::string deep(100, '[');
  EXPECT_FALSE(parse_object("{\"a\":" + deep));
}

TEST(JsonFields, FieldsNameThemselvesInErrors) {
  auto o = parse_object(R"({"s":"x","n":5,"f":1.5,"b":true,"a":["x","y"],"bad":[1]})").value();
  EXPECT_EQ(required_string(o, "s").value(), "x");
  auto missing = required_string(o, "serverUrl");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("serverUrl"), std::string::npos);
  EXPECT_FALSE(required_string(o, "n"));
  EXPECT_EQ(*optional_int(o, "n", 0, 10).value(), 5);
  EXPECT_FALSE(optional_int(o, "n", 0, 4));
  EXPECT_FALSE(optional_int(o, "f", 0, 10));
  EXPECT_FALSE(optional_int(o, "s", 0, 10));
  EXPECT_FALSE(optional_int(o, "zz", 0, 10).value().has_value());
  EXPECT_TRUE(*optional_bool(o, "b").value());
  EXPECT_EQ(string_array(o, "a").value().size(), 2u);
  EXPECT_FALSE(string_array(o, "bad"));
  EXPECT_TRUE(string_array(o, "none").value().empty());
}

}  // namespace
}  // namespace webstream::json_fields
