#include "licence/licence_file.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/json.hpp>

#include <string>
#include <utility>
#include <vector>

#include "core/encoding.hpp"
#include "core/testing/fake_clock.hpp"
#include "licence/licence_test_support.hpp"

namespace webstream::licence {
namespace {

namespace json = boost::json;
using namespace webstream::licence::testing;

// Replaces the string member `name` of a licence document.
std::string with_member(const std::string& text, const std::string& name, json::value value) {
  json::value doc = json::parse(text);
  doc.as_object()[name] = std::move(value);
  return json::serialize(doc);
}

std::string without_member(const std::string& text, const std::string& name) {
  json::value doc = json::parse(text);
  doc.as_object().erase(name);
  return json::serialize(doc);
}

class LicenceFileTest : public ::testing::Test {
 protected:
  TestKeys keys;
  webstream::testing::FakeClock clock;  // inside [kNotBefore, kExpiresAt)
};

TEST_F(LicenceFileTest, ValidLicenceVerifiesAndCarriesItsFields) {
  const std::string text = signed_text(keys.key, licence_fields(50));
  LicenceCheck c = check_licence_text(text, keys.ring, clock.now_ms());
  ASSERT_EQ(c.state, LicenceState::kValid) << c.detail;
  ASSERT_TRUE(c.licence.has_value());
  EXPECT_EQ(c.licence->id, "lic-test");
  EXPECT_EQ(c.licence->licensee, "Example Ltd");
  EXPECT_EQ(c.licence->max_streamers, 50);
  EXPECT_EQ(c.licence->not_before, kNotBefore);
  EXPECT_EQ(c.licence->expires_at, kExpiresAt);
  EXPECT_EQ(c.licence->key_id, "test-1");
  EXPECT_FALSE(c.licence->development_key);
  EXPECT_FALSE(c.licence->evaluation);
  EXPECT_TRUE(c.allows_streaming());
}

TEST_F(LicenceFileTest, TamperedPayloadIsRefused) {
  const std::string text = signed_text(keys.key, licence_fields(50));
  json::value doc = json::parse(text);
  // Re-encode the payload with one more streamer: a valid base64url payload, but not the signed bytes.
  auto payload = *base64url_decode(std::string(doc.at("payload").as_string()));
  const auto pos = payload.find("\"maxStreamers\":50");
  ASSERT_NE(pos, std::string::npos);
  payload.replace(pos, 17, "\"maxStreamers\":500");
  const std::string forged = with_member(text, "payload", json::value(base64url_encode(payload)));
  LicenceCheck c = check_licence_text(without_member(forged, "licence"), keys.ring, clock.now_ms());
  EXPECT_EQ(c.state, LicenceState::kInvalid);
  EXPECT_EQ(c.reason, InvalidReason::kTampered);
  EXPECT_FALSE(c.licence.has_value());
}

TEST_F(LicenceFileTest, EditedReadableCopyIsTampering) {
  const std::string text = signed_text(keys.key, licence_fields(50));
  json::value doc = json::parse(text);
  json::object copy = doc.at("licence").as_object();
  copy["maxStreamers"] = 5000;
  LicenceCheck c = check_licence_text(with_member(text, "licence", copy), keys.ring, clock.now_ms());
  EXPECT_EQ(c.state, LicenceState::kInvalid);
  EXPECT_EQ(c.reason, InvalidReason::kTampered);
  // Without the readable copy the signed payload alone is enough.
  EXPECT_EQ(check_licence_text(without_member(text, "licence"), keys.ring, clock.now_ms()).state, LicenceState::kValid);
}

TEST_F(LicenceFileTest, FlippedSignatureBitIsTampering) {
  const std::string text = signed_text(keys.key, licence_fields(50));
  json::value doc = json::parse(text);
  auto sig = *base64url_decode(std::string(doc.at("signature").as_string()));
  sig[10] = static_cast<char>(sig[10] ^ 0x01);
  LicenceCheck c =
      check_licence_text(with_member(text, "signature", json::value(base64url_encode(sig))), keys.ring, clock.now_ms());
  EXPECT_EQ(c.reason, InvalidReason::kTampered);
  c = check_licence_text(with_member(text, "signature", json::value("not base64url!")), keys.ring, clock.now_ms());
  EXPECT_EQ(c.reason, InvalidReason::kTampered);
}

TEST_F(LicenceFileTest, UnsignedLicenceIsRefused) {
  const std::string text = signed_text(keys.key, licence_fields(50));
  LicenceCheck c = check_licence_text(without_member(text, "signature"), keys.ring, clock.now_ms());
  EXPECT_EQ(c.state, LicenceState::kInvalid);
  EXPECT_EQ(c.reason, InvalidReason::kUnsigned);
  c = check_licence_text(with_member(text, "signature", json::value("")), keys.ring, clock.now_ms());
  EXPECT_EQ(c.reason, InvalidReason::kUnsigned);
  // A bare licence object, as someone might write by hand.
  c = check_licence_text(R"({"id":"x","licensee":"Me","maxStreamers":1000,"notBefore":"2023-01-01T00:00:00Z",)"
                         R"("expiresAt":"2099-01-01T00:00:00Z"})",
                         keys.ring, clock.now_ms());
  EXPECT_EQ(c.reason, InvalidReason::kUnsigned);
}

TEST_F(LicenceFileTest, WrongKeyIsRefused) {
  // Signed by a key with the trusted id but another secret: the signature does not verify.
  LicenceCheck c = check_licence_text(signed_text(keys.other, licence_fields(50)), keys.ring, clock.now_ms());
  EXPECT_EQ(c.state, LicenceState::kInvalid);
  EXPECT_EQ(c.reason, InvalidReason::kTampered);
  // Signed by a key this binary has never heard of.
  SigningKey stranger = generate_signing_key("someone-else");
  c = check_licence_text(signed_text(stranger, licence_fields(50)), keys.ring, clock.now_ms());
  EXPECT_EQ(c.reason, InvalidReason::kUnknownKey);
  // keyId swapped to the trusted one on a stranger's licence.
  c = check_licence_text(with_member(signed_text(stranger, licence_fields(50)), "keyId", json::value("test-1")),
                         keys.ring, clock.now_ms());
  EXPECT_EQ(c.reason, InvalidReason::kTampered);
}

TEST_F(LicenceFileTest, NotYetValidAndExpiredFollowTheClock) {
  const std::string text = signed_text(keys.key, licence_fields(50));
  LicenceCheck early = check_licence_text(text, keys.ring, kNotBefore - 1);
  EXPECT_EQ(early.state, LicenceState::kNotYetValid);
  ASSERT_TRUE(early.licence.has_value());
  EXPECT_FALSE(early.allows_streaming());
  EXPECT_EQ(check_licence_text(text, keys.ring, kNotBefore).state, LicenceState::kValid);
  EXPECT_EQ(check_licence_text(text, keys.ring, kExpiresAt - 1).state, LicenceState::kValid);
  LicenceCheck late = check_licence_text(text, keys.ring, kExpiresAt);
  EXPECT_EQ(late.state, LicenceState::kExpired);
  EXPECT_NE(late.detail.find("2024-01-01T00:00:00Z"), std::string::npos);
  EXPECT_EQ(time_state(*late.licence, kExpiresAt + 1), LicenceState::kExpired);
}

TEST_F(LicenceFileTest, UnparseableDocumentsAreInvalid) {
  for (const char* bad : {"", "not json", "[1,2]", "{\"format\":\"webstream-licence-v9\",\"payload\":\"x\"}"}) {
    LicenceCheck c = check_licence_text(bad, keys.ring, clock.now_ms());
    EXPECT_EQ(c.state, LicenceState::kInvalid) << bad;
    EXPECT_EQ(c.reason, InvalidReason::kUnparseable) << bad;
  }
}

TEST_F(LicenceFileTest, SignedPayloadWithBadFieldsIsUnparseable) {
  // Sign a payload by hand that issue_licence would refuse (maxStreamers 0).
  const std::string payload =
      R"({"id":"x","licensee":"Me","maxStreamers":0,"notBefore":"2023-01-01T00:00:00Z","expiresAt":"2024-01-01T00:00:00Z"})";
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(payload.data()), payload.size(),
                       reinterpret_cast<const unsigned char*>(keys.key.secret_key.data()));
  json::object doc{{"format", "webstream-licence-v1"},
                   {"keyId", "test-1"},
                   {"payload", base64url_encode(payload)},
                   {"signature", base64url_encode(sig)}};
  LicenceCheck c = check_licence_text(json::serialize(doc), keys.ring, clock.now_ms());
  EXPECT_EQ(c.reason, InvalidReason::kUnparseable);
  EXPECT_NE(c.detail.find("maxStreamers"), std::string::npos);
}

TEST_F(LicenceFileTest, FilesMissingUnreadableAndEmptyPath) {
  TempDir dir;
  LicenceCheck none = check_licence_file("", keys.ring, clock.now_ms());
  EXPECT_EQ(none.state, LicenceState::kValid);
  ASSERT_TRUE(none.licence.has_value());
  EXPECT_TRUE(none.licence->evaluation);
  EXPECT_EQ(none.licence->max_streamers, kEvaluationStreamers);
  EXPECT_FALSE(none.missing_file);

  LicenceCheck missing = check_licence_file(dir.file("nope.json"), keys.ring, clock.now_ms());
  EXPECT_EQ(missing.state, LicenceState::kValid);
  EXPECT_TRUE(missing.missing_file);
  EXPECT_EQ(missing.licence->max_streamers, 5);

  LicenceCheck directory = check_licence_file(dir.path(), keys.ring, clock.now_ms());
  EXPECT_EQ(directory.state, LicenceState::kInvalid);
  EXPECT_EQ(directory.reason, InvalidReason::kUnreadable);

  const std::string good = dir.write("licence.json", signed_text(keys.key, licence_fields(7)));
  LicenceCheck ok = check_licence_file(good, keys.ring, clock.now_ms());
  EXPECT_EQ(ok.state, LicenceState::kValid);
  EXPECT_EQ(ok.licence->max_streamers, 7);
  EXPECT_EQ(ok.path, good);

  const std::string big = dir.write("big.json", std::string(kMaxFileBytes + 1, ' '));
  EXPECT_EQ(check_licence_file(big, keys.ring, clock.now_ms()).reason, InvalidReason::kUnreadable);
}

TEST_F(LicenceFileTest, IssueRefusesBadFields) {
  EXPECT_FALSE(issue_licence(licence_fields(0), keys.key).ok());
  EXPECT_FALSE(issue_licence(licence_fields(kMaxStreamersLimit + 1), keys.key).ok());
  EXPECT_FALSE(issue_licence(licence_fields(5, kExpiresAt, kNotBefore), keys.key).ok());
  Licence no_name = licence_fields(5);
  no_name.licensee.clear();
  EXPECT_FALSE(issue_licence(no_name, keys.key).ok());
}

TEST(SigningKeyTest, TextRoundTripsAndMismatchIsRefused) {
  SigningKey key = generate_signing_key("rt-1");
  auto back = parse_signing_key(signing_key_text(key));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->key_id, "rt-1");
  EXPECT_EQ(back->secret_key, key.secret_key);
  EXPECT_EQ(back->public_key, key.public_key);

  SigningKey other = generate_signing_key("rt-1");
  json::value doc = json::parse(signing_key_text(key));
  doc.as_object()["publicKey"] = base64url_encode(other.public_key);
  EXPECT_FALSE(parse_signing_key(json::serialize(doc)).ok());
  EXPECT_FALSE(parse_signing_key("{}").ok());
  EXPECT_FALSE(parse_signing_key("nonsense").ok());
}

// The built-in ring is exactly what the build was given (CMake's lists from WEBSTREAM_LICENCE_TRUSTED_KEYS_FILE
// and the build directory's test key): a default build trusts nothing.
TEST(BuiltInKeysTest, AreExactlyTheKeysTheBuildWasGiven) {
  auto production = parse_key_list(WEBSTREAM_LICENCE_PUBLIC_KEYS, false);
  auto test_keys = parse_key_list(WEBSTREAM_LICENCE_TEST_KEYS, true);
  ASSERT_TRUE(production && test_keys);
  std::vector<std::pair<std::string, bool>> expected;
  for (const auto& k : *production) expected.emplace_back(base64url_encode(k.public_key), false);
  for (const auto& k : *test_keys) expected.emplace_back(base64url_encode(k.public_key), true);
  std::vector<std::pair<std::string, bool>> built;
  for (const auto& k : KeyRing::built_in().keys()) built.emplace_back(base64url_encode(k.public_key), k.development);
  EXPECT_EQ(built, expected);
}

// The key whose private half was once in the repository can sign anything: no build may trust it.
TEST(BuiltInKeysTest, NeverTheRetiredRepositoryKey) {
  for (const auto& k : KeyRing::built_in().keys()) {
    EXPECT_NE(base64url_encode(k.public_key), kRetiredDevPublicKey) << k.key_id;
    EXPECT_NE(k.key_id, "dev-2026");
  }
  EXPECT_EQ(KeyRing::built_in().find("dev-2026"), nullptr);
}

TEST(BuiltInKeysTest, TheBuildDirectorysTestKeySignsDevelopmentLicences) {
  const std::string path = WEBSTREAM_LICENCE_TEST_PRIVATE_KEY;
  if (path.empty()) GTEST_SKIP() << "built without WEBSTREAM_LICENCE_TEST_KEY";
  auto key = read_signing_key(path);
  ASSERT_TRUE(key.ok()) << key.error().message;
  const TrustedKey* trusted = KeyRing::built_in().find(key->key_id);
  ASSERT_NE(trusted, nullptr);
  EXPECT_EQ(trusted->public_key, key->public_key);
  EXPECT_TRUE(trusted->development);
  LicenceCheck c = check_licence_text(signed_text(*key, licence_fields(3)), KeyRing::built_in(),
                                      webstream::testing::FakeClock().now_ms());
  ASSERT_EQ(c.state, LicenceState::kValid) << c.detail;
  EXPECT_TRUE(c.licence->development_key);
}

}  // namespace
}  // namespace webstream::licence
