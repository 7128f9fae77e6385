#include "iam/user_token_rules.hpp"

#include <boost/json/array.hpp>

#include <optional>

#include "iam/token_service.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;
using jwt::unauthorized;

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

}  // namespace

Result<CheckedHeader> check_user_token_header(std::string_view token) {
  auto parsed = jwt::parse(token);
  if (!parsed) return parsed.error();
  const json::object& header = parsed->header;
  auto alg = string_member(header, "alg");
  if (!alg || *alg != jwt::kAlgorithm) return unauthorized("the token's algorithm is not accepted");
  auto typ = string_member(header, "typ");
  if (!typ || *typ != kUserTokenTyp) return unauthorized("the token is not a user token");
  if (header.contains("crit")) return unauthorized("the token has critical header parameters");
  auto kid = string_member(header, "kid");
  if (!kid || kid->empty()) return unauthorized("the token's key is unknown");
  CheckedHeader out;
  out.kid = std::string(*kid);
  out.parsed = std::move(parsed.value());
  return out;
}

Result<core::Principal> check_user_token_claims(const json::object& c, std::string_view issuer, std::int64_t now,
                                                std::int64_t leeway_s) {
  auto iss = string_member(c, "iss");
  if (!iss || *iss != issuer) return unauthorized("the token's issuer is not accepted");
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
  core::Principal p;
  for (const auto& r : roles_it->value().get_array()) {
    if (!r.is_string()) return unauthorized("the token's claims are not valid");
    p.roles.emplace_back(r.get_string());
  }
  if (now >= *exp + leeway_s) return unauthorized("the token has expired");
  if (now + leeway_s < *nbf || now + leeway_s < *iat) return unauthorized("the token is not valid yet");

  p.user_id = std::string(*sub);
  p.username = std::string(*name);
  p.org_id = std::string(*org);
  p.token_id = std::string(*jti);
  p.issued_at = *iat;
  p.expires_at = *exp;
  return p;
}

}  // namespace webstream::iam
