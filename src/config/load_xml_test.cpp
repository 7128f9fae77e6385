#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "config/config.hpp"

namespace webstream::config {
namespace {

Config load(const std::string& body) {
  return load_xml_text("<configuration>" + body + "</configuration>", "/etc/ws", "app.config.xml");
}

std::string error_of(const std::string& body) {
  try {
    load(body);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(LoadXml, DefaultsMatchTheContract) {
  auto c = load("");
  EXPECT_TRUE(c.gateway.enabled);
  EXPECT_EQ(c.gateway.public_ip, "0.0.0.0");
  EXPECT_EQ(c.gateway.internal_ip, "0.0.0.0");
  EXPECT_EQ(c.gateway.port, 9000);
  EXPECT_EQ(c.gateway.https_port, 443);
  EXPECT_FALSE(c.gateway.elevate_priority);
  EXPECT_EQ(c.gateway.load_balancing.strategy, Strategy::kLeastConnections);
  EXPECT_EQ(c.gateway.load_balancing.session_affinity_timeout_s, 3600);
  EXPECT_EQ(c.gateway.health_check.interval_s, 10);
  EXPECT_EQ(c.gateway.health_check.unstable_interval_s, 1);
  EXPECT_EQ(c.gateway.health_check.timeout_s, 8);
  EXPECT_EQ(c.gateway.health_check.failure_threshold, 4);
  EXPECT_EQ(c.gateway.health_check.success_threshold, 2);
  EXPECT_EQ(c.gateway.sessions.reservation_timeout_s, 120);
  EXPECT_EQ(c.gateway.sessions.disconnect_grace_s, 300);
  EXPECT_EQ(c.gateway.limits.max_header_bytes, 16384u);
  EXPECT_EQ(c.gateway.limits.max_body_bytes, 65536u);
  EXPECT_EQ(c.gateway.limits.max_connections_per_ip, 256u);
  EXPECT_EQ(c.access.mode, AccessMode::kBuiltin);
  EXPECT_EQ(c.access.token_lifetime_s, 3600);
  EXPECT_EQ(c.access.password_hash_memory_kib, 65536u);
  EXPECT_EQ(c.access.password_hash_passes, 3);
  EXPECT_EQ(c.storage.provider, "sqlite");
  EXPECT_EQ(c.storage.path, "/etc/ws/data/webstream.db");
  EXPECT_EQ(c.license.file, "");
  EXPECT_EQ(c.mcp.metrics_engine_url, "http://localhost:9009");
  EXPECT_TRUE(c.mcp.api_keys.empty());
  EXPECT_FALSE(c.tls.enabled());
  EXPECT_TRUE(c.warnings.empty());
}

TEST(LoadXml, EverySettingAsAttributes) {
  setenv("WS_TEST_PFX_SECRET", "s3cret", 1);
  auto c = load(R"(
    <webstreamSettings serverPfxCertificateFile="certs/gw.pfx" serverPfxSecret="env:WS_TEST_PFX_SECRET" />
    <gateway enabled="true" publicIP="127.0.0.1" port="9100" httpsPort="9443" elevateGatewayPriority="true"
             workerThreads="3" heartbeatInterval="5">
      <loadBalancing strategy="weighted" sessionAffinityTimeout="60" />
      <healthCheck interval="12" unstableInterval="2" timeout="7" failureThreshold="5" successThreshold="3" />
      <sessions reservationTimeout="30" disconnectGrace="40" />
      <limits maxHeaderBytes="8192" maxHeaderFields="50" maxBodyBytes="4096" headerTimeout="3" bodyIdleTimeout="4"
              keepAliveIdle="5" maxWebSocketMessageBytes="2048" backendConnectTimeout="2" backendResponseTimeout="9"
              maxConnectionsPerListener="100" maxConnectionsPerIp="10" />
      <backendKeys><add name="hosts-eu" key="0123456789abcdef0123" /></backendKeys>
    </gateway>
    <accessManagement mode="standalone" url="http://127.0.0.1:9500" tokenLifetime="600" serviceKey="am-service-key-0123456789"
                      passwordHashMemory="19456" passwordHashPasses="2" />
    <storage provider="SQLite" path="/var/lib/ws.db" />
    <license file="lic/webstream.lic" streamerTimeout="20" />
    <mcp metricsEngineUrl="http://127.0.0.1:9009" />
    <mcpApiKeys>
      <add name="ops-agent" key="abcdefabcdefabcdef12" />
      <add name="writer" key="zzzzzzzzzzzzzzzzzzzz" access="readwrite" />
    </mcpApiKeys>
    <logging level="debug" />)");
  EXPECT_EQ(c.tls.pfx_file, "/etc/ws/certs/gw.pfx");
  EXPECT_EQ(c.tls.pfx_secret, "s3cret");
  EXPECT_EQ(c.gateway.public_ip, "127.0.0.1");
  EXPECT_EQ(c.gateway.port, 9100);
  EXPECT_EQ(c.gateway.https_port, 9443);
  EXPECT_TRUE(c.gateway.elevate_priority);
  EXPECT_EQ(c.gateway.worker_threads, 3);
  EXPECT_EQ(c.gateway.heartbeat_interval_s, 5);
  EXPECT_EQ(c.gateway.load_balancing.strategy, Strategy::kWeighted);
  EXPECT_EQ(c.gateway.load_balancing.session_affinity_timeout_s, 60);
  EXPECT_EQ(c.gateway.health_check.interval_s, 12);
  EXPECT_EQ(c.gateway.health_check.unstable_interval_s, 2);
  EXPECT_EQ(c.gateway.health_check.timeout_s, 7);
  EXPECT_EQ(c.gateway.health_check.failure_threshold, 5);
  EXPECT_EQ(c.gateway.health_check.success_threshold, 3);
  EXPECT_EQ(c.gateway.sessions.reservation_timeout_s, 30);
  EXPECT_EQ(c.gateway.sessions.disconnect_grace_s, 40);
  EXPECT_EQ(c.gateway.limits.max_header_bytes, 8192u);
  EXPECT_EQ(c.gateway.limits.max_header_fields, 50u);
  EXPECT_EQ(c.gateway.limits.max_body_bytes, 4096u);
  EXPECT_EQ(c.gateway.limits.header_timeout_s, 3);
  EXPECT_EQ(c.gateway.limits.body_idle_timeout_s, 4);
  EXPECT_EQ(c.gateway.limits.keepalive_idle_s, 5);
  EXPECT_EQ(c.gateway.limits.max_ws_message_bytes, 2048u);
  EXPECT_EQ(c.gateway.limits.backend_connect_timeout_s, 2);
  EXPECT_EQ(c.gateway.limits.backend_response_timeout_s, 9);
  EXPECT_EQ(c.gateway.limits.max_connections_per_listener, 100u);
  EXPECT_EQ(c.gateway.limits.max_connections_per_ip, 10u);
  ASSERT_EQ(c.gateway.backend_keys.size(), 1u);
  EXPECT_EQ(c.gateway.backend_keys[0].name, "hosts-eu");
  EXPECT_EQ(c.access.mode, AccessMode::kStandalone);
  EXPECT_EQ(c.access.url, "http://127.0.0.1:9500");
  EXPECT_EQ(c.access.token_lifetime_s, 600);
  EXPECT_EQ(c.access.service_key, "am-service-key-0123456789");
  EXPECT_EQ(c.access.password_hash_memory_kib, 19456u);
  EXPECT_EQ(c.access.password_hash_passes, 2);
  EXPECT_EQ(c.storage.path, "/var/lib/ws.db");
  EXPECT_EQ(c.license.file, "/etc/ws/lic/webstream.lic");
  EXPECT_EQ(c.license.streamer_timeout_s, 20);
  EXPECT_EQ(c.mcp.metrics_engine_url, "http://127.0.0.1:9009");
  ASSERT_EQ(c.mcp.api_keys.size(), 2u);
  EXPECT_FALSE(c.mcp.api_keys[0].readwrite);
  EXPECT_TRUE(c.mcp.api_keys[1].readwrite);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

// The HTTP listener (registry, /metrics) binds gateway.internalIP, which follows publicIP unless set.
TEST(LoadXml, InternalIpFollowsPublicIpUnlessSet) {
  auto same = load(R"(<gateway publicIP="192.0.2.10" />)");
  EXPECT_EQ(same.gateway.public_ip, "192.0.2.10");
  EXPECT_EQ(same.gateway.internal_ip, "192.0.2.10");
  auto apart = load(R"(<gateway publicIP="0.0.0.0" internalIP="10.0.0.5" />)");
  EXPECT_EQ(apart.gateway.public_ip, "0.0.0.0");
  EXPECT_EQ(apart.gateway.internal_ip, "10.0.0.5");
  EXPECT_TRUE(apart.warnings.empty());
  auto v6 = load(R"(<gateway internalIP="::1" />)");
  EXPECT_EQ(v6.gateway.public_ip, "0.0.0.0");
  EXPECT_EQ(v6.gateway.internal_ip, "::1");
}

TEST(LoadXml, ChildElementSpellingWorksToo) {
  auto c =
      load(R"(<gateway><port>9200</port><loadBalancing><strategy>RoundRobin</strategy></loadBalancing></gateway>)");
  EXPECT_EQ(c.gateway.port, 9200);
  EXPECT_EQ(c.gateway.load_balancing.strategy, Strategy::kRoundRobin);
}

TEST(LoadXml, RiskyHealthCheckTuningWarnsAndNamesTheSetting) {
  auto c = load(R"(<gateway><healthCheck timeout="2" failureThreshold="2" /></gateway>)");
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_NE(c.warnings[0].find("gateway.healthCheck.timeout"), std::string::npos);
  EXPECT_NE(c.warnings[1].find("gateway.healthCheck.failureThreshold"), std::string::npos);
}

TEST(LoadXml, PasswordHashCostDownToEachOfOwaspsFiveMinimums) {
  const std::pair<std::size_t, int> minimums[] = {{47104, 1}, {19456, 2}, {12288, 3}, {9216, 4}, {7168, 5}};
  for (const auto& [memory, passes] : minimums) {
    auto c = load("<accessManagement passwordHashMemory=\"" + std::to_string(memory) + "\" passwordHashPasses=\"" +
                  std::to_string(passes) + "\" />");
    EXPECT_EQ(c.access.password_hash_memory_kib, memory);
    EXPECT_EQ(c.access.password_hash_passes, passes);
    EXPECT_TRUE(c.warnings.empty());
  }
  // More memory than a line asks for makes up for fewer passes only down to that line's passes.
  EXPECT_EQ(
      load(R"(<accessManagement passwordHashMemory="19456" passwordHashPasses="9" />)").access.password_hash_passes, 9);
}

TEST(LoadXml, UnknownElementsWarn) {
  auto c = load(R"(<gateway colour="red"><turbo /></gateway><mystery />)");
  EXPECT_EQ(c.warnings.size(), 3u);
}

struct BadCase {
  const char* xml;
  const char* names;  // the message must contain this
};

class BadValues : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadValues, FailNamingTheSetting) {
  const auto message = error_of(GetParam().xml);
  ASSERT_FALSE(message.empty()) << GetParam().xml;
  EXPECT_NE(message.find(GetParam().names), std::string::npos) << message;
  EXPECT_NE(message.find("app.config.xml"), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Config, BadValues,
    ::testing::Values(
        BadCase{R"(<gateway port="70000"/>)", "gateway.port"}, BadCase{R"(<gateway port="abc"/>)", "gateway.port"},
        BadCase{R"(<gateway port="-1"/>)", "gateway.port"},
        BadCase{R"(<gateway httpsPort="99999"/>)", "gateway.httpsPort"},
        BadCase{R"(<gateway enabled="maybe"/>)", "gateway.enabled"},
        BadCase{R"(<gateway publicIP="not-an-ip"/>)", "gateway.publicIP"},
        BadCase{R"(<gateway internalIP="10.0.0"/>)", "gateway.internalIP"},
        BadCase{R"(<gateway elevateGatewayPriority="2"/>)", "gateway.elevateGatewayPriority"},
        BadCase{R"(<gateway><loadBalancing strategy="Random"/></gateway>)", "gateway.loadBalancing.strategy"},
        BadCase{R"(<gateway><loadBalancing sessionAffinityTimeout="-5"/></gateway>)", "sessionAffinityTimeout"},
        BadCase{R"(<gateway><healthCheck interval="0"/></gateway>)", "gateway.healthCheck.interval"},
        BadCase{R"(<gateway><healthCheck timeout="x"/></gateway>)", "gateway.healthCheck.timeout"},
        BadCase{R"(<gateway><healthCheck failureThreshold="0"/></gateway>)", "failureThreshold"},
        BadCase{R"(<gateway><healthCheck successThreshold="0"/></gateway>)", "successThreshold"},
        BadCase{R"(<gateway><healthCheck unstableInterval="0"/></gateway>)", "unstableInterval"},
        BadCase{R"(<gateway><sessions reservationTimeout="0"/></gateway>)", "reservationTimeout"},
        BadCase{R"(<gateway><sessions disconnectGrace="-1"/></gateway>)", "disconnectGrace"},
        BadCase{R"(<gateway><limits maxBodyBytes="1"/></gateway>)", "maxBodyBytes"},
        BadCase{R"(<gateway><backendKeys><add name="a"/></backendKeys></gateway>)", "key"},
        BadCase{R"(<gateway><backendKeys><add name="a" key="short"/></backendKeys></gateway>)", "key"},
        BadCase{
            R"(<gateway><backendKeys><add name="a" key="0123456789abcdef0"/><add name="a" key="0123456789abcdef1"/></backendKeys></gateway>)",
            "twice"},
        BadCase{R"(<accessManagement mode="cloud"/>)", "accessManagement.mode"},
        BadCase{R"(<accessManagement mode="standalone"/>)", "accessManagement.url"},
        BadCase{R"(<accessManagement tokenLifetime="1"/>)", "accessManagement.tokenLifetime"},
        BadCase{R"(<accessManagement serviceKey="short"/>)", "accessManagement.serviceKey"},
        // Below OWASP's argon2id minimum: each line's memory one KiB short, and too few passes for the memory.
        BadCase{R"(<accessManagement passwordHashMemory="47103" passwordHashPasses="1"/>)",
                "accessManagement.passwordHashMemory"},
        BadCase{R"(<accessManagement passwordHashMemory="19455" passwordHashPasses="2"/>)", "OWASP"},
        BadCase{R"(<accessManagement passwordHashMemory="12287" passwordHashPasses="3"/>)", "OWASP"},
        BadCase{R"(<accessManagement passwordHashMemory="9215" passwordHashPasses="4"/>)", "OWASP"},
        BadCase{R"(<accessManagement passwordHashMemory="7167" passwordHashPasses="5"/>)", "passwordHashMemory"},
        BadCase{R"(<accessManagement passwordHashMemory="8192" passwordHashPasses="4"/>)", "OWASP"},
        BadCase{R"(<accessManagement passwordHashMemory="8192" passwordHashPasses="1"/>)",
                "47104 x 1, 19456 x 2, 12288 x 3, 9216 x 4, 7168 x 5"},
        BadCase{R"(<accessManagement passwordHashPasses="0"/>)", "accessManagement.passwordHashPasses"},
        BadCase{R"(<accessManagement passwordHashPasses="17"/>)", "accessManagement.passwordHashPasses"},
        BadCase{R"(<accessManagement passwordHashMemory="64MB"/>)", "accessManagement.passwordHashMemory"},
        BadCase{R"(<accessManagement passwordHashMemory="99999999999"/>)", "accessManagement.passwordHashMemory"},
        BadCase{R"(<storage provider="oracle"/>)", "storage.provider"},
        BadCase{R"(<storage path=""/>)", "storage.path"},
        BadCase{R"(<storage provider="postgresql"/>)", "storage.connection"},
        BadCase{R"(<storage provider="postgresql" connection="env:WS_TEST_SURELY_UNSET_PG"/>)",
                "WS_TEST_SURELY_UNSET_PG"},
        BadCase{R"(<mcp metricsEngineUrl="ftp://x"/>)", "mcp.metricsEngineUrl"},
        BadCase{R"(<mcpApiKeys><add name="k" key="0123456789abcdef0" access="admin"/></mcpApiKeys>)", "access"},
        BadCase{R"(<webstreamSettings serverPfxSecret="env:WS_TEST_SURELY_UNSET_VAR"/>)", "WS_TEST_SURELY_UNSET_VAR"},
        BadCase{R"(<logging level="loud"/>)", "logging.level"},
        BadCase{R"(<license streamerTimeout="1"/>)", "license.streamerTimeout"}));

TEST(LoadXml, MalformedXmlAndWrongRoot) {
  EXPECT_THROW(load_xml_text("<configuration><gateway></configuration>", "/", "a.xml"), ConfigError);
  EXPECT_THROW(load_xml_text("<settings/>", "/", "a.xml"), ConfigError);
  EXPECT_THROW(load_xml("/nonexistent/app.config.xml"), ConfigError);
}

TEST(LoadXml, PostgresqlProviderTakesAConnectionStringOrEnv) {
  auto c = load_xml_text(
      R"(<configuration><storage provider="PostgreSQL" connection="postgresql://u:pw@db/ws"/></configuration>)",
      "/etc/ws", "a.xml");
  EXPECT_EQ(c.storage.provider, "postgresql");
  EXPECT_EQ(c.storage.connection, "postgresql://u:pw@db/ws");
  ::setenv("WS_TEST_PG_CONN", "host=db dbname=ws password=s3cret", 1);
  auto e =
      load_xml_text(R"(<configuration><storage provider="postgres" connection="env:WS_TEST_PG_CONN"/></configuration>)",
                    "/etc/ws", "a.xml");
  EXPECT_EQ(e.storage.provider, "postgresql");
  EXPECT_EQ(e.storage.connection, "host=db dbname=ws password=s3cret");
  ::unsetenv("WS_TEST_PG_CONN");
}

TEST(LoadXml, SecretsNeverAppearInErrors) {
  const auto message = error_of(R"(<gateway><backendKeys><add name="a" key="tiny"/></backendKeys></gateway>)");
  EXPECT_EQ(message.find("tiny"), std::string::npos) << message;
}

}  // namespace
}  // namespace webstream::config
