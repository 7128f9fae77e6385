#include "iam/remote/jwks_verifier.hpp"

#include <sodium.h>

#include <boost/json/parse.hpp>

#include <algorithm>

#include "core/encoding.hpp"
#include "iam/jwt.hpp"
#include "iam/sodium_init.hpp"
#include "iam/token_service.hpp"
#include "iam/user_token_rules.hpp"
#include "observability/log.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;

Error no_keys() {
  return Error{503, "access_management_unavailable",
               "the access-management service's keys are not available yet: try again shortly"};
}

std::string_view member(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

}  // namespace

JwksTokenVerifier::JwksTokenVerifier(JwksFetch fetch, const Clock& clock, JwksVerifierOptions options)
    : fetch_(std::move(fetch)), clock_(clock), options_(std::move(options)),
      leeway_s_(std::clamp<std::int64_t>(options_.leeway_s, 0, kMaxLeewayS)) {
  ensure_sodium();
}

Result<JwksKeys> JwksTokenVerifier::parse_jwks(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options limits;
  limits.max_depth = 8;
  json::value v = json::parse(text, ec, {}, limits);
  if (ec || !v.is_object()) return Error::invalid("the JWKS is not a JSON object");
  const auto* keys = v.as_object().if_contains("keys");
  if (!keys || !keys->is_array()) return Error::invalid("the JWKS has no \"keys\" array");
  JwksKeys out;
  for (const auto& k : keys->get_array()) {
    if (!k.is_object()) continue;
    const auto& o = k.get_object();
    const auto alg = member(o, "alg");
    const auto use = member(o, "use");
    if (member(o, "kty") != "OKP" || member(o, "crv") != "Ed25519" || (!alg.empty() && alg != "EdDSA") ||
        (!use.empty() && use != "sig")) {
      continue;
    }
    const auto kid = member(o, "kid");
    auto x = base64url_decode(member(o, "x"));
    if (kid.empty() || !x || x->size() != crypto_sign_PUBLICKEYBYTES) continue;
    out.emplace(std::string(kid), std::move(*x));
  }
  if (out.empty()) return Error::invalid("the JWKS holds no Ed25519 key");
  return out;
}

std::shared_ptr<const JwksKeys> JwksTokenVerifier::snapshot() const {
  std::lock_guard lock(keys_mutex_);
  return keys_;
}

bool JwksTokenVerifier::ready() const { return snapshot() != nullptr; }

std::size_t JwksTokenVerifier::key_count() const {
  auto keys = snapshot();
  return keys ? keys->size() : 0;
}

std::uint64_t JwksTokenVerifier::fetches() const { return fetches_.load(std::memory_order_relaxed); }

Status JwksTokenVerifier::fetch_locked(std::chrono::milliseconds timeout) const {
  attempted_ = true;
  last_attempt_ms_ = clock_.now_ms();
  fetches_.fetch_add(1, std::memory_order_relaxed);
  auto text = fetch_(timeout);
  if (!text) return text.error();
  auto parsed = parse_jwks(*text);
  if (!parsed) return Error{502, "access_management_error", parsed.error().message};
  auto fresh = std::make_shared<const JwksKeys>(std::move(parsed.value()));
  std::size_t count = fresh->size();
  bool changed = false;
  {
    std::lock_guard lock(keys_mutex_);
    changed = !keys_ || *keys_ != *fresh;
    keys_ = std::move(fresh);
  }
  if (changed) log::info("access-management JWKS loaded", {{"keys", count}});
  return Status::success();
}

Status JwksTokenVerifier::refresh(std::chrono::milliseconds timeout) {
  std::lock_guard lock(fetch_mutex_);
  return fetch_locked(timeout);
}

bool JwksTokenVerifier::refresh_for_unknown_kid() const {
  std::unique_lock lock(fetch_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return false;  // another thread is fetching: answer now rather than queue
  if (attempted_ && clock_.now_ms() - last_attempt_ms_ < options_.refresh_floor_ms) return false;
  if (auto s = fetch_locked(options_.inline_timeout); !s) {
    log::warn("access-management JWKS refresh failed", {{"error", s.error().message}});
  }
  return true;
}

Result<core::Principal> JwksTokenVerifier::verify(std::string_view token) const {
  auto header = check_user_token_header(token);
  if (!header) return header.error();
  auto keys = snapshot();
  auto key = keys ? keys->find(header->kid) : JwksKeys::const_iterator{};
  if (!keys || key == keys->end()) {
    if (refresh_for_unknown_kid()) keys = snapshot();
    if (!keys) return no_keys();
    key = keys->find(header->kid);
    if (key == keys->end()) return jwt::unauthorized("the token's key is unknown");
  }
  const auto& signature = header->parsed.signature;
  const auto input = header->parsed.signing_input;
  if (signature.size() != crypto_sign_BYTES ||
      crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                  reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                                  reinterpret_cast<const unsigned char*>(key->second.data())) != 0) {
    return jwt::unauthorized("the token's signature is not valid");
  }
  return check_user_token_claims(header->parsed.claims, options_.issuer, clock_.now_s(), leeway_s_);
}

}  // namespace webstream::iam
