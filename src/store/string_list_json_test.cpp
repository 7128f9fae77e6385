#include "store/string_list_json.hpp"

#include <gtest/gtest.h>

namespace webstream::store {
namespace {

TEST(StringListJson, RoundTripsEvenQuotesAndEmptyLists) {
  const std::vector<std::string> roles{"admin", "say \"hi\"", "", "ünïcode"};
  EXPECT_EQ(decode_strings(encode_strings(roles)), roles);
  EXPECT_EQ(encode_strings({}), "[]");
  EXPECT_TRUE(decode_strings("[]").empty());
}

TEST(StringListJson, DamagedTextOrOtherItemsAreDroppedNotFatal) {
  EXPECT_TRUE(decode_strings("").empty());
  EXPECT_TRUE(decode_strings("{\"a\":1}").empty());
  EXPECT_TRUE(decode_strings("[\"a\"").empty());
  EXPECT_EQ(decode_strings("[\"a\",1,null,\"b\"]"), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace webstream::store
