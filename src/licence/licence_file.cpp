#include "licence/licence_file.hpp"

#include <sodium.h>

#include <boost/json.hpp>

#include "core/encoding.hpp"
#include "licence/file_text.hpp"
#include "licence/licence_time.hpp"

namespace webstream::licence {

namespace json = boost::json;

namespace {

constexpr std::size_t kMaxIdBytes = 128;
constexpr std::size_t kMaxLicenseeBytes = 256;

LicenceCheck invalid(InvalidReason reason, std::string detail) {
  LicenceCheck c;
  c.state = LicenceState::kInvalid;
  c.reason = reason;
  c.detail = std::move(detail);
  return c;
}

std::optional<json::value> parse_json(std::string_view text) {
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec, {}, options);
  if (ec) return std::nullopt;
  return v;
}

// A string member, or nullopt when absent or not a string.
std::optional<std::string> string_member(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string(it->value().get_string());
}

std::optional<Millis> time_member(const json::object& o, std::string_view name) {
  auto s = string_member(o, name);
  if (!s) return std::nullopt;
  return parse_utc_timestamp(*s);
}

// The payload's fields, validated; the error message names the field.
Result<Licence> parse_payload(const json::object& o) {
  Licence l;
  auto id = string_member(o, "id");
  if (!id || id->empty() || id->size() > kMaxIdBytes) return Error::invalid("field 'id' must be a non-empty string");
  l.id = std::move(*id);
  auto licensee = string_member(o, "licensee");
  if (!licensee || licensee->empty() || licensee->size() > kMaxLicenseeBytes) {
    return Error::invalid("field 'licensee' must be a non-empty string");
  }
  l.licensee = std::move(*licensee);
  auto max = o.find("maxStreamers");
  if (max == o.end() || !max->value().is_int64() || max->value().get_int64() < 1 ||
      max->value().get_int64() > kMaxStreamersLimit) {
    return Error::invalid("field 'maxStreamers' must be an integer from 1 to " + std::to_string(kMaxStreamersLimit));
  }
  l.max_streamers = max->value().get_int64();
  auto not_before = time_member(o, "notBefore");
  if (!not_before) return Error::invalid("field 'notBefore' must be an ISO-8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
  l.not_before = *not_before;
  auto expires_at = time_member(o, "expiresAt");
  if (!expires_at) return Error::invalid("field 'expiresAt' must be an ISO-8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
  l.expires_at = *expires_at;
  if (l.expires_at <= l.not_before) return Error::invalid("field 'expiresAt' must be later than 'notBefore'");
  if (o.contains("issuedAt")) {
    auto issued = time_member(o, "issuedAt");
    if (!issued) return Error::invalid("field 'issuedAt' must be an ISO-8601 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
    l.issued_at = *issued;
  }
  return l;
}

json::object payload_object(const Licence& l) {
  json::object o;
  o["id"] = l.id;
  o["licensee"] = l.licensee;
  o["maxStreamers"] = l.max_streamers;
  o["notBefore"] = format_utc_timestamp(l.not_before);
  o["expiresAt"] = format_utc_timestamp(l.expires_at);
  if (l.issued_at != 0) o["issuedAt"] = format_utc_timestamp(l.issued_at);
  return o;
}

}  // namespace

const char* to_string(LicenceState state) {
  switch (state) {
    case LicenceState::kValid: return "valid";
    case LicenceState::kInvalid: return "invalid";
    case LicenceState::kExpired: return "expired";
    case LicenceState::kNotYetValid: return "not_yet_valid";
  }
  return "invalid";
}

const char* to_string(InvalidReason reason) {
  switch (reason) {
    case InvalidReason::kNone: return "none";
    case InvalidReason::kUnreadable: return "unreadable";
    case InvalidReason::kUnparseable: return "unparseable";
    case InvalidReason::kUnsigned: return "unsigned";
    case InvalidReason::kUnknownKey: return "unknown_key";
    case InvalidReason::kTampered: return "tampered";
  }
  return "unparseable";
}

Licence evaluation_licence() {
  Licence l;
  l.id = "evaluation";
  l.licensee = "Evaluation";
  l.max_streamers = kEvaluationStreamers;
  l.not_before = 0;
  l.expires_at = kNever;
  l.evaluation = true;
  return l;
}

LicenceState time_state(const Licence& licence, Millis now) {
  if (now < licence.not_before) return LicenceState::kNotYetValid;
  if (now >= licence.expires_at) return LicenceState::kExpired;
  return LicenceState::kValid;
}

LicenceCheck check_licence_text(std::string_view text, const KeyRing& keys, Millis now) {
  ensure_sodium();
  auto doc = parse_json(text);
  if (!doc || !doc->is_object()) return invalid(InvalidReason::kUnparseable, "the licence file is not a JSON object");
  const auto& o = doc->as_object();
  auto format = string_member(o, "format");
  if (format && *format != kFormat) {
    return invalid(InvalidReason::kUnparseable, "unknown licence format '" + *format + "'");
  }
  auto payload_text = string_member(o, "payload");
  auto signature_text = string_member(o, "signature");
  if (!payload_text || payload_text->empty() || !signature_text || signature_text->empty()) {
    return invalid(InvalidReason::kUnsigned, "the licence is not signed (no payload or signature)");
  }
  auto key_id = string_member(o, "keyId");
  const TrustedKey* key = key_id ? keys.find(*key_id) : nullptr;
  if (key == nullptr) {
    return invalid(InvalidReason::kUnknownKey,
                   "the licence is signed with a key this gateway does not trust ('" + key_id.value_or("") + "')");
  }
  auto payload = base64url_decode(*payload_text);
  auto signature = base64url_decode(*signature_text);
  if (!payload || !signature || signature->size() != crypto_sign_BYTES ||
      key->public_key.size() != crypto_sign_PUBLICKEYBYTES) {
    return invalid(InvalidReason::kTampered, "the licence signature does not verify");
  }
  const int verified =
      crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature->data()),
                                  reinterpret_cast<const unsigned char*>(payload->data()), payload->size(),
                                  reinterpret_cast<const unsigned char*>(key->public_key.data()));
  if (verified != 0) return invalid(InvalidReason::kTampered, "the licence signature does not verify");
  // Signed by a trusted key from here on.
  auto fields = parse_json(*payload);
  if (!fields || !fields->is_object()) {
    return invalid(InvalidReason::kUnparseable, "the signed licence payload is not a JSON object");
  }
  if (auto copy = o.find("licence"); copy != o.end() && copy->value() != *fields) {
    return invalid(InvalidReason::kTampered, "the readable 'licence' copy differs from the signed payload");
  }
  auto licence = parse_payload(fields->as_object());
  if (!licence) return invalid(InvalidReason::kUnparseable, "the signed licence payload: " + licence.error().message);
  licence->key_id = key->key_id;
  licence->development_key = key->development;
  LicenceCheck c;
  c.state = time_state(*licence, now);
  if (c.state == LicenceState::kExpired) {
    c.detail = "the licence expired at " + format_utc_timestamp(licence->expires_at);
  } else if (c.state == LicenceState::kNotYetValid) {
    c.detail = "the licence is not valid before " + format_utc_timestamp(licence->not_before);
  }
  c.licence = std::move(licence.value());
  return c;
}

LicenceCheck check_licence_file(const std::string& path, const KeyRing& keys, Millis now) {
  LicenceCheck c;
  if (path.empty()) {
    c.state = LicenceState::kValid;
    c.licence = evaluation_licence();
    c.detail = "no licence file is configured: evaluation licence";
    return c;
  }
  FileText file = read_file_text(path, kMaxFileBytes);
  if (file.problem == ReadProblem::kMissing) {
    c.state = LicenceState::kValid;
    c.licence = evaluation_licence();
    c.missing_file = true;
    c.detail = "the licence file does not exist (" + file.detail + "): evaluation licence";
  } else if (file.problem == ReadProblem::kUnreadable) {
    c = invalid(InvalidReason::kUnreadable, "the licence file cannot be read: " + file.detail);
  } else {
    c = check_licence_text(file.text, keys, now);
  }
  c.path = path;
  return c;
}

Result<std::string> issue_licence(const Licence& fields, const SigningKey& key) {
  ensure_sodium();
  if (fields.id.empty() || fields.id.size() > kMaxIdBytes) return Error::invalid("the licence id must be 1..128 bytes");
  if (fields.licensee.empty() || fields.licensee.size() > kMaxLicenseeBytes) {
    return Error::invalid("the licensee must be 1..256 bytes");
  }
  if (fields.max_streamers < 1 || fields.max_streamers > kMaxStreamersLimit) {
    return Error::invalid("maxStreamers must be from 1 to " + std::to_string(kMaxStreamersLimit));
  }
  if (fields.expires_at <= fields.not_before) return Error::invalid("expiresAt must be later than notBefore");
  if (key.secret_key.size() != crypto_sign_SECRETKEYBYTES || !valid_key_id(key.key_id)) {
    return Error::invalid("the signing key is not a valid Ed25519 key");
  }
  const json::object payload = payload_object(fields);
  const std::string payload_bytes = json::serialize(payload);
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(payload_bytes.data()), payload_bytes.size(),
                       reinterpret_cast<const unsigned char*>(key.secret_key.data()));
  // One member per line so the file reads well and diffs well; the readable copy is checked on load.
  std::string out = "{\n";
  out += "  \"format\": " + json::serialize(json::value(json::string(kFormat))) + ",\n";
  out += "  \"licence\": " + payload_bytes + ",\n";
  out += "  \"keyId\": " + json::serialize(json::value(json::string(key.key_id))) + ",\n";
  out += "  \"payload\": \"" + base64url_encode(payload_bytes) + "\",\n";
  out += "  \"signature\": \"" + base64url_encode(signature) + "\"\n";
  out += "}\n";
  return out;
}

}  // namespace webstream::licence
