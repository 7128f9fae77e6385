#include "iam/token_service.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <optional>

#include "core/ids.hpp"
#include "iam/jwt.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;
using jwt::unauthorized;

constexpr std::string_view kAlgorithm = "EdDSA";

std::optional<std::string_view> string_member(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || !it->value().is_string()) return std::nullopt;
  return std::string_view(it->value().get_string());
}

std::optional<std::int64_t> int_member(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end()) return std::nullopt;
  const auto& v = it->value();
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  return std::nullopt;
}

Status check_header(const json::object& header, const KeyRing& keys) {
  auto alg = string_member(header, "alg");
  if (!alg || *alg != kAlgorithm) return unauthorized("the token's algorithm is not accepted");
  auto typ = string_member(header, "typ");
  if (!typ || *typ != kUserTokenTyp) return unauthorized("the token is not a user token");
  if (header.contains("crit")) return unauthorized("the token has critical header parameters");
  auto kid = string_member(header, "kid");
  if (!kid || !keys.knows(*kid)) return unauthorized("the token's key is unknown");
  return Status::success();
}

}  // namespace

TokenService::TokenService(const KeyRing& keys, const Clock& clock, TokenOptions options)
    : keys_(keys),
      clock_(clock),
      options_(std::move(options)),
      leeway_s_(std::clamp<std::int64_t>(options_.leeway_s, 0, kMaxLeewayS)) {}

std::string TokenService::sign_with_header(const json::object& claims, std::string_view typ) const {
  json::object header{{"alg", kAlgorithm}, {"typ", typ}, {"kid", keys_.signing_kid()}};
  const std::string input = jwt::signing_input(header, claims);
  return jwt::assemble(input, keys_.sign(input));
}

IssuedToken TokenService::issue(const UserRecord& user, std::int64_t not_before_s) const {
  IssuedToken out;
  out.jti = random_id();
  out.issued_at = std::max(clock_.now_s(), not_before_s);
  out.expires_at = out.issued_at + options_.lifetime_s;
  json::array roles;
  for (const auto& r : user.roles) roles.emplace_back(r);
  json::object claims{{"iss", options_.issuer},
                      {"sub", user.id},
                      {"name", user.username},
                      {"org", user.org_id},
                      {"roles", std::move(roles)},
                      {"iat", out.issued_at},
                      {"nbf", out.issued_at},
                      {"exp", out.expires_at},
                      {"jti", out.jti}};
  out.jwt = sign_with_header(claims, kUserTokenTyp);
  return out;
}

std::string TokenService::sign(const json::object& claims, std::string_view typ) const {
  if (typ.empty() || typ == kUserTokenTyp) return {};
  if (claims.contains("iss")) return sign_with_header(claims, typ);
  json::object with_issuer = claims;
  with_issuer["iss"] = options_.issuer;
  return sign_with_header(with_issuer, typ);
}

Result<auth::Principal> TokenService::verify(std::string_view token) const {
  auto parsed = jwt::parse(token);
  if (!parsed) return parsed.error();
  if (auto s = check_header(parsed->header, keys_); !s) return s.error();
  const auto kid = *string_member(parsed->header, "kid");
  if (!keys_.verify(kid, parsed->signing_input, parsed->signature)) {
    return unauthorized("the token's signature is not valid");
  }

  const json::object& c = parsed->claims;
  auto iss = string_member(c, "iss");
  if (!iss || *iss != options_.issuer) return unauthorized("the token's issuer is not accepted");
  if (c.contains("aud")) return unauthorized("the token is not a user token");
  auto sub = string_member(c, "sub");
  auto jti = string_member(c, "jti");
  auto org = string_member(c, "org");
  auto name = string_member(c, "name");
  auto iat = int_member(c, "iat");
  auto nbf = int_member(c, "nbf");
  auto exp = int_member(c, "exp");
  auto roles_it = c.find("roles");
  if (!sub || sub->empty() || !jti || jti->empty() || !org || !name || !iat || !nbf || !exp || *exp <= *iat ||
      roles_it == c.end() || !roles_it->value().is_array()) {
    return unauthorized("the token's claims are not valid");
  }
  auth::Principal p;
  for (const auto& r : roles_it->value().get_array()) {
    if (!r.is_string()) return unauthorized("the token's claims are not valid");
    p.roles.emplace_back(r.get_string());
  }

  const std::int64_t now = clock_.now_s();
  if (now >= *exp + leeway_s_) return unauthorized("the token has expired");
  if (now + leeway_s_ < *nbf || now + leeway_s_ < *iat) return unauthorized("the token is not valid yet");

  p.user_id = std::string(*sub);
  p.username = std::string(*name);
  p.org_id = std::string(*org);
  p.token_id = std::string(*jti);
  p.issued_at = *iat;
  p.expires_at = *exp;
  return p;
}

}  // namespace webstream::iam
