#include "core/json_fields.hpp"

#include <cmath>

namespace webstream::json_fields {
namespace {
Error field_error(std::string_view name, std::string_view what) {
  return Error::invalid("field '" + std::string(name) + "' " + std::string(what));
}
}  // namespace

Result<json::object> parse_object(std::string_view body) {
  json::parse_options options;
  options.max_depth = 32;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, {}, options);
  if (ec) return Error::invalid("body is not valid JSON");
  if (!v.is_object()) return Error::invalid("body must be a JSON object");
  return std::move(v.as_object());
}

Result<std::string> required_string(const json::object& o, std::string_view name, std::size_t max_len) {
  auto v = optional_string(o, name, max_len);
  if (!v) return v.error();
  if (!v->has_value()) return field_error(name, "is required");
  return std::move(**v);
}

Result<std::optional<std::string>> optional_string(const json::object& o, std::string_view name, std::size_t max_len) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_string()) return field_error(name, "must be a string");
  const auto& s = it->value().get_string();
  if (s.size() > max_len) return field_error(name, "is longer than " + std::to_string(max_len) + " bytes");
  return std::optional<std::string>{std::string(s)};
}

Result<std::optional<std::int64_t>> optional_int(const json::object& o, std::string_view name, std::int64_t min,
                                                 std::int64_t max) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<std::int64_t>{};
  const auto& v = it->value();
  std::int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(max)) {
      return field_error(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    n = static_cast<std::int64_t>(v.get_uint64());
  } else if (v.is_double() && std::isfinite(v.get_double()) && std::floor(v.get_double()) == v.get_double() &&
             std::fabs(v.get_double()) < 9e15) {
    n = static_cast<std::int64_t>(v.get_double());
  } else {
    return field_error(name, "must be an integer");
  }
  if (n < min || n > max) {
    return field_error(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return std::optional<std::int64_t>{n};
}

Result<std::int64_t> required_int(const json::object& o, std::string_view name, std::int64_t min, std::int64_t max) {
  auto v = optional_int(o, name, min, max);
  if (!v) return v.error();
  if (!v->has_value()) return field_error(name, "is required");
  return **v;
}

Result<std::optional<double>> optional_number(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<double>{};
  const auto& v = it->value();
  if (!v.is_number()) return field_error(name, "must be a number");
  return std::optional<double>{v.to_number<double>()};
}

Result<std::optional<bool>> optional_bool(const json::object& o, std::string_view name) {
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return std::optional<bool>{};
  if (!it->value().is_bool()) return field_error(name, "must be true or false");
  return std::optional<bool>{it->value().get_bool()};
}

Result<std::vector<std::string>> string_array(const json::object& o, std::string_view name, std::size_t max_items,
                                              std::size_t max_len) {
  std::vector<std::string> out;
  auto it = o.find(name);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) return field_error(name, "must be an array of strings");
  const auto& a = it->value().get_array();
  if (a.size() > max_items) return field_error(name, "has more than " + std::to_string(max_items) + " items");
  for (const auto& item : a) {
    if (!item.is_string()) return field_error(name, "must be an array of strings");
    if (item.get_string().size() > max_len) return field_error(name, "has an item that is too long");
    out.emplace_back(item.get_string());
  }
  return out;
}

json::array to_array(const std::vector<std::string>& items) {
  json::array a;
  a.reserve(items.size());
  for (const auto& s : items) a.emplace_back(s);
  return a;
}

}  // namespace webstream::json_fields
