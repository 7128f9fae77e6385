// The backend registry's durable part, on every backend.
#include <gtest/gtest.h>

#include "store/testing/store_fixture.hpp"

namespace webstream::store {
namespace {

class RegistryStoreTest : public testing::StoreFixture {};
WEBSTREAM_STORE_BACKENDS(RegistryStoreTest);

BackendRow row(const std::string& id, const std::string& url) {
  BackendRow r;
  r.id = id;
  r.server_url = url;
  r.max_sessions = 10;
  r.instance_type = "g4dn.xlarge";
  r.ec2_instance_id = "i-0abc";
  r.tags = {"gpu", "weight=3"};
  r.capabilities = {"h264", "audio"};
  r.version = "1.2.3";
  r.status = "Ready";
  r.active_sessions = 2;
  r.cpu_usage = 12.5;
  r.memory_usage = 40.25;
  r.registered_at = 1000;
  r.last_heartbeat_at = 2000;
  r.owner_key = "hosts-eu";
  return r;
}

TEST_P(RegistryStoreTest, WritesAndReadsEveryField) {
  auto store = provider().registry().value();
  ASSERT_TRUE(store->upsert({row("b-2", "http://10.0.0.2:8080"), row("b-1", "http://10.0.0.1:8080")}));
  auto all = store->load_all();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  const auto& r = (*all)[0];  // ordered by id
  EXPECT_EQ(r.id, "b-1");
  EXPECT_EQ(r.server_url, "http://10.0.0.1:8080");
  EXPECT_EQ(r.max_sessions, 10);
  EXPECT_EQ(r.instance_type, "g4dn.xlarge");
  EXPECT_EQ(r.ec2_instance_id, "i-0abc");
  EXPECT_EQ(r.tags, (std::vector<std::string>{"gpu", "weight=3"}));
  EXPECT_EQ(r.capabilities, (std::vector<std::string>{"h264", "audio"}));
  EXPECT_EQ(r.version, "1.2.3");
  EXPECT_EQ(r.status, "Ready");
  EXPECT_EQ(r.active_sessions, 2);
  EXPECT_DOUBLE_EQ(r.cpu_usage, 12.5);
  EXPECT_DOUBLE_EQ(r.memory_usage, 40.25);
  EXPECT_EQ(r.registered_at, 1000);
  EXPECT_EQ(r.last_heartbeat_at, 2000);
  EXPECT_EQ(r.owner_key, "hosts-eu");
}

TEST_P(RegistryStoreTest, UpsertUpdatesByIdAndUrlIsUnique) {
  auto store = provider().registry().value();
  ASSERT_TRUE(store->upsert({row("b-1", "http://h:1")}));
  auto changed = row("b-1", "http://h:1");
  changed.max_sessions = 99;
  changed.tags = {};
  ASSERT_TRUE(store->upsert({changed}));
  auto all = store->load_all().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].max_sessions, 99);
  EXPECT_TRUE(all[0].tags.empty());

  // A new id for the same serverUrl replaces the old row instead of failing on the unique URL.
  ASSERT_TRUE(store->upsert({row("b-9", "http://h:1")}));
  all = store->load_all().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, "b-9");
}

TEST_P(RegistryStoreTest, RemoveDeletesAndUnknownIsFine) {
  auto store = provider().registry().value();
  ASSERT_TRUE(store->upsert({row("b-1", "http://h:1"), row("b-2", "http://h:2")}));
  ASSERT_TRUE(store->remove("b-1"));
  ASSERT_TRUE(store->remove("b-unknown"));
  auto all = store->load_all().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].id, "b-2");
}

TEST_P(RegistryStoreTest, SurvivesAReopen) {
  ASSERT_TRUE(provider().registry().value()->upsert({row("b-1", "http://h:1")}));
  // A restart, or another gateway on the same database.
  auto other = open_another().value();
  auto all = other->registry().value()->load_all().value();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].server_url, "http://h:1");
  EXPECT_EQ(all[0].owner_key, "hosts-eu");
}

}  // namespace
}  // namespace webstream::store
