#include "iam/token_service.hpp"

#include <boost/json/array.hpp>

#include <algorithm>

#include "core/ids.hpp"
#include "iam/jwt.hpp"
#include "iam/user_token_rules.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;
using jwt::unauthorized;

}  // namespace

TokenService::TokenService(const KeyRing& keys, const Clock& clock, TokenOptions options)
    : keys_(keys), clock_(clock), options_(std::move(options)),
      leeway_s_(std::clamp<std::int64_t>(options_.leeway_s, 0, kMaxLeewayS)) {}

std::string TokenService::sign_with_header(const json::object& claims, std::string_view typ) const {
  json::object header{{"alg", jwt::kAlgorithm}, {"typ", typ}, {"kid", keys_.signing_kid()}};
  const std::string input = jwt::signing_input(header, claims);
  return jwt::assemble(input, keys_.sign(input));
}

IssuedToken TokenService::issue(const auth::UserRecord& user, std::int64_t not_before_s) const {
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

Result<core::Principal> TokenService::verify(std::string_view token) const {
  // The rules are shared with the verifier of a remote IAM's tokens (user_token_rules.hpp).
  auto header = check_user_token_header(token);
  if (!header) return header.error();
  if (!keys_.knows(header->kid)) return unauthorized("the token's key is unknown");
  if (!keys_.verify(header->kid, header->parsed.signing_input, header->parsed.signature)) {
    return unauthorized("the token's signature is not valid");
  }
  return check_user_token_claims(header->parsed.claims, options_.issuer, clock_.now_s(), leeway_s_);
}

}  // namespace webstream::iam
