#pragma once
// Reading request bodies: parse JSON into an object and pull typed fields out of it, every failure an
// Error that names the field (the contract's 400 invalid_request).
#include <boost/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.hpp"

namespace webstream::json_fields {

namespace json = boost::json;

// Parses `body` as a JSON object. Depth is bounded so no body can exhaust the stack.
Result<json::object> parse_object(std::string_view body);

// Required string: present, a string, at most `max_len` bytes.
Result<std::string> required_string(const json::object& o, std::string_view name, std::size_t max_len = 1024);
// Optional string: absent or null gives nullopt; present but not a string is an error.
Result<std::optional<std::string>> optional_string(const json::object& o, std::string_view name,
                                                   std::size_t max_len = 1024);
// Optional integer within [min, max]; a JSON number with a fraction is an error.
Result<std::optional<std::int64_t>> optional_int(const json::object& o, std::string_view name, std::int64_t min,
                                                 std::int64_t max);
Result<std::int64_t> required_int(const json::object& o, std::string_view name, std::int64_t min, std::int64_t max);
// Optional number (integer or double).
Result<std::optional<double>> optional_number(const json::object& o, std::string_view name);
Result<std::optional<bool>> optional_bool(const json::object& o, std::string_view name);
// Optional array of strings (absent: empty); at most `max_items` items of at most `max_len` bytes.
Result<std::vector<std::string>> string_array(const json::object& o, std::string_view name, std::size_t max_items = 256,
                                              std::size_t max_len = 256);

// Serialises a JSON value as the response body text.
inline std::string to_text(const json::value& v) { return json::serialize(v); }
json::array to_array(const std::vector<std::string>& items);

}  // namespace webstream::json_fields
