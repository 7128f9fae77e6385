#pragma once
// Licence documents (CONTRACT §5): what a licence says, how it is signed, and how the gateway checks it.
//
// File format (JSON, docs/licence.md):
//   {
//     "format": "webstream-licence-v1",
//     "licence": { readable copy of the payload },
//     "keyId": "dev-2026",
//     "payload": "<base64url of the licence JSON, byte for byte as signed>",
//     "signature": "<base64url Ed25519 detached signature over those payload bytes>"
//   }
// The signature covers the raw payload bytes, so no JSON canonicalisation is needed. The readable "licence"
// copy is optional, but when present it must equal the signed payload (as JSON values): editing it is
// tampering. Payload fields: id, licensee, maxStreamers (1..1,000,000), notBefore, expiresAt, issuedAt —
// times as ISO-8601 UTC strings ("2027-01-01T00:00:00Z"). A licence is valid while notBefore <= now < expiresAt.
//
// Thread rules: pure functions of their arguments (reading a file is the only I/O).
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "licence/signing_key.hpp"
#include "licence/trusted_keys.hpp"

namespace webstream::licence {

inline constexpr std::string_view kFormat = "webstream-licence-v1";
inline constexpr std::int64_t kEvaluationStreamers = 5;  // no licence file: an evaluation licence of 5
inline constexpr std::int64_t kMaxStreamersLimit = 1'000'000;
inline constexpr Millis kNever = std::numeric_limits<Millis>::max();
inline constexpr std::size_t kMaxFileBytes = 64 * 1024;

struct Licence {
  std::string id;
  std::string licensee;
  std::int64_t max_streamers = 0;
  Millis not_before = 0;
  Millis expires_at = kNever;
  Millis issued_at = 0;          // 0: not stated
  std::string key_id;            // the key that signed it; "" for the evaluation licence
  bool development_key = false;  // signed with a development key (tests and demos only)
  bool evaluation = false;       // no licence file was configured (or the configured one does not exist)
};

enum class LicenceState { kValid, kInvalid, kExpired, kNotYetValid };

// Why a licence is kInvalid.
enum class InvalidReason {
  kNone,
  kUnreadable,   // the file exists but cannot be read (permissions, a directory, too large)
  kUnparseable,  // not JSON, not a licence document, or a signed payload with bad fields
  kUnsigned,     // no signature (or no payload)
  kUnknownKey,   // signed with a key this binary does not trust
  kTampered,     // the signature does not verify, or the readable copy differs from the signed payload
};

const char* to_string(LicenceState state);
const char* to_string(InvalidReason reason);

// The outcome of checking a licence: the state at `now`, and the licence when its signature verified.
struct LicenceCheck {
  LicenceState state = LicenceState::kInvalid;
  InvalidReason reason = InvalidReason::kNone;
  std::string detail;              // human text for logs and `license show` (never a secret)
  std::optional<Licence> licence;  // set for kValid, kExpired and kNotYetValid
  std::string path;                // the file checked ("" for the evaluation licence)
  bool missing_file = false;       // a licence file was configured but does not exist (evaluation licence)

  bool allows_streaming() const { return state == LicenceState::kValid; }
};

// The evaluation licence (no licence file): 5 streamers, no expiry.
Licence evaluation_licence();

// kValid, kExpired or kNotYetValid for a licence whose signature has verified.
LicenceState time_state(const Licence& licence, Millis now);

// Verifies a licence document's text against `keys` and evaluates it at `now`.
LicenceCheck check_licence_text(std::string_view text, const KeyRing& keys, Millis now);

// Reads and checks `path`. "" → the evaluation licence; a path that does not exist → the evaluation licence
// with missing_file set (the caller logs it); a file that cannot be read → kInvalid/kUnreadable.
LicenceCheck check_licence_file(const std::string& path, const KeyRing& keys, Millis now);

// The payload fields of `fields` (id, licensee, max_streamers, not_before, expires_at, issued_at) signed with
// `key`: the text of a licence file. Error 400 naming the field when a value is out of range.
Result<std::string> issue_licence(const Licence& fields, const SigningKey& key);

}  // namespace webstream::licence
