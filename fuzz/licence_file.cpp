// Fuzz target: the licence file (CONTRACT §5) — check_licence_text, what the gateway runs on the file's
// contents. The first byte picks the mode:
//   even: the rest is the whole file (framing, base64url, JSON, signature check);
//   odd:  the rest is a licence PAYLOAD, which the harness signs with its own key and frames as
//         {"format","keyId","payload","signature"} — so the fuzzer reaches the field checks behind the
//         signature, which it could never forge.
// The key ring trusts only the harness's fixed key (derived from a constant seed here: it signs nothing
// outside this fuzzer). Properties: never a crash; a licence that checks as valid was verified (licence set,
// signed by the trusted key), has 1..1,000,000 streamers, and notBefore <= now < expiresAt.
#include <sodium.h>

#include <boost/json.hpp>

#include "core/encoding.hpp"
#include "fuzz_check.hpp"
#include "licence/licence_file.hpp"

namespace {

using namespace webstream;

constexpr Millis kNow = 1'800'000'000'000;  // 2027-01-15

struct FuzzKey {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  licence::KeyRing ring;
  FuzzKey() {
    FUZZ_CHECK(sodium_init() >= 0, "sodium_init");
    unsigned char seed[crypto_sign_SEEDBYTES] = {'w', 'e', 'b', 's', 't', 'r', 'e', 'a', 'm', '-', 'f', 'u', 'z', 'z'};
    crypto_sign_seed_keypair(pk, sk, seed);
    ring = licence::KeyRing({licence::TrustedKey{.key_id = "fuzz-key",
                                                 .public_key = std::string(reinterpret_cast<char*>(pk), sizeof pk),
                                                 .development = false}});
  }
};
const FuzzKey& key() {
  static const FuzzKey k;
  return k;
}

std::string signed_document(std::string_view payload) {
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(payload.data()), payload.size(), key().sk);
  boost::json::object doc{{"format", licence::kFormat},
                          {"keyId", "fuzz-key"},
                          {"payload", base64url_encode(payload)},
                          {"signature", base64url_encode(std::string_view(reinterpret_cast<char*>(sig), sizeof sig))}};
  return boost::json::serialize(doc);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (size == 0) return 0;
  const auto rest = webstream::fuzz::as_text(data + 1, size - 1);
  const std::string text = (data[0] & 1) ? signed_document(rest) : std::string(rest);
  const auto check = licence::check_licence_text(text, key().ring, kNow);
  if (check.state == licence::LicenceState::kValid) {
    FUZZ_CHECK(check.licence.has_value(), "a valid licence without its fields");
    const auto& l = *check.licence;
    FUZZ_CHECK(l.key_id == "fuzz-key", "valid, but not signed by the trusted key");
    FUZZ_CHECK(l.max_streamers >= 1 && l.max_streamers <= licence::kMaxStreamersLimit, "maxStreamers out of range");
    FUZZ_CHECK(l.not_before <= kNow && kNow < l.expires_at, "valid outside notBefore..expiresAt");
    FUZZ_CHECK(check.allows_streaming(), "valid but does not allow streaming");
  } else {
    FUZZ_CHECK(!check.allows_streaming(), "a licence that is not valid allows streaming");
  }
  return 0;
}
