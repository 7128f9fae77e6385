#include "iam/jwt.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <optional>

#include "core/encoding.hpp"

namespace webstream::iam::jwt {
namespace {

namespace json = boost::json;

std::optional<json::object> decode_object(std::string_view segment) {
  auto bytes = base64url_decode(segment);
  if (!bytes) return std::nullopt;
  json::parse_options options;
  options.max_depth = 8;
  boost::system::error_code ec;
  json::value v = json::parse(*bytes, ec, {}, options);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

}  // namespace

Error unauthorized(std::string message) { return Error{401, "unauthorized", std::move(message)}; }

Result<Parsed> parse(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenBytes) return unauthorized("the token is malformed");
  const auto first = token.find('.');
  if (first == std::string_view::npos) return unauthorized("the token is malformed");
  const auto second = token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return unauthorized("the token is malformed");
  }
  const std::string_view header_text = token.substr(0, first);
  const std::string_view claims_text = token.substr(first + 1, second - first - 1);
  const std::string_view signature_text = token.substr(second + 1);
  if (header_text.empty() || claims_text.empty() || signature_text.empty()) {
    return unauthorized("the token is malformed");
  }
  auto header = decode_object(header_text);
  auto claims = decode_object(claims_text);
  auto signature = base64url_decode(signature_text);
  if (!header || !claims || !signature) return unauthorized("the token is malformed");
  Parsed out;
  out.header = std::move(*header);
  out.claims = std::move(*claims);
  out.signing_input = token.substr(0, second);
  out.signature = std::move(*signature);
  return out;
}

std::string signing_input(const json::object& header, const json::object& claims) {
  std::string out = base64url_encode(json::serialize(header));
  out += '.';
  out += base64url_encode(json::serialize(claims));
  return out;
}

std::string assemble(std::string_view signing_input, std::string_view signature) {
  std::string out(signing_input);
  out += '.';
  out += base64url_encode(signature);
  return out;
}

}  // namespace webstream::iam::jwt
