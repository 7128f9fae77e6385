#pragma once
// Identifiers and secret comparison.
#include <string>
#include <string_view>

namespace webstream {

// A random identifier: `prefix` + 32 lowercase hex characters (128 bits from the OS CSPRNG).
std::string random_id(std::string_view prefix = "");
// A random opaque secret token (256 bits, base64url without padding).
std::string random_token();
// True for a GUID/UUID in the 8-4-4-4-12 hex form, optionally in braces ({...}).
bool is_uuid(std::string_view s);
// Compares two secrets in time that depends only on their lengths, never on where they differ.
bool constant_time_equals(std::string_view a, std::string_view b);

}  // namespace webstream
