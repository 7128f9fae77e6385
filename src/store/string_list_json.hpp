#pragma once
// A list of strings (a user's roles, an entitlement's app ids, a user's group ids) kept in one text column as a
// JSON array, the same way in SQLite and PostgreSQL, so `store copy` moves the column as it is.
#include <string>
#include <vector>

namespace webstream::store {

std::string encode_strings(const std::vector<std::string>& items);  // ["a","b"]
// The strings of a JSON array; anything else (damaged text, non-string items) is dropped, never an error,
// because the column is only ever written by encode_strings.
std::vector<std::string> decode_strings(const std::string& text);

}  // namespace webstream::store
