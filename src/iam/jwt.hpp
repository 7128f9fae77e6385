#pragma once
// Compact JWS (RFC 7515 §7.1) as used by our JWTs: BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(sig).
// Only the framing lives here — splitting, strict decoding, JSON parsing, assembling. Which algorithm and
// key are acceptable, and what the claims must say, is the token service's business (token_service.hpp).
//
// Parsing is strict so that one token has exactly one reading: exactly three segments, base64url without
// padding and with zero leftover bits (no two texts decode to the same bytes), header and claims JSON
// objects, at most kMaxTokenBytes in all. Pure functions; any thread.
#include <boost/json/object.hpp>

#include <cstddef>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace webstream::iam::jwt {

inline constexpr std::size_t kMaxTokenBytes = 8192;
// The one JWS algorithm our tokens are signed with and accepted in (Ed25519, RFC 8037); the key ring's keys are
// of it too.
inline constexpr std::string_view kAlgorithm = "EdDSA";

struct Parsed {
  boost::json::object header;
  boost::json::object claims;
  std::string_view signing_input;  // "header.claims" exactly as received (a view into the token)
  std::string signature;           // decoded bytes
};

// Error 401 `unauthorized` ("the token is malformed") for anything that is not a well-formed compact JWS.
Result<Parsed> parse(std::string_view token);

// "BASE64URL(header).BASE64URL(claims)" of the serialised objects.
std::string signing_input(const boost::json::object& header, const boost::json::object& claims);
// signing_input + "." + BASE64URL(signature).
std::string assemble(std::string_view signing_input, std::string_view signature);

// The 401 every token failure answers with.
Error unauthorized(std::string message);

}  // namespace webstream::iam::jwt
