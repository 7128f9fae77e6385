#include "iam/field_rules.hpp"

#include <algorithm>
#include <charconv>

namespace webstream::iam {

namespace {
Error field_error(std::string_view field, std::string_view what) {
  return Error::invalid("field '" + std::string(field) + "' " + std::string(what));
}
bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' '; });
}
}  // namespace

bool has_control_characters(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < s.size()) {
      const auto next = static_cast<unsigned char>(s[i + 1]);
      if (next >= 0x80 && next <= 0x9f) return true;
    }
  }
  return false;
}

Status check_name(std::string_view field, std::string_view value, std::size_t max) {
  if (value.empty() || blank(value)) return field_error(field, "must not be empty");
  if (value.size() > max) return field_error(field, "is longer than " + std::to_string(max) + " bytes");
  if (has_control_characters(value)) return field_error(field, "must not contain control characters");
  return Status::success();
}

Status check_username(std::string_view value) {
  if (auto s = check_name("username", value); !s) return s;
  if (value.find_first_of(" \t") != std::string_view::npos) return field_error("username", "must not contain spaces");
  return Status::success();
}

Status check_email(std::string_view value) {
  if (value.empty()) return Status::success();
  if (value.size() > kMaxEmailBytes) return field_error("email", "is too long");
  const auto at = value.find('@');
  if (has_control_characters(value) || value.find(' ') != std::string_view::npos || at == std::string_view::npos ||
      at == 0 || at + 1 == value.size() || value.find('@', at + 1) != std::string_view::npos) {
    return field_error("email", "is not an e-mail address");
  }
  return Status::success();
}

Status check_text(std::string_view field, std::string_view value, std::size_t max) {
  if (value.size() > max) return field_error(field, "is longer than " + std::to_string(max) + " bytes");
  if (has_control_characters(value)) return field_error(field, "must not contain control characters");
  return Status::success();
}

Result<std::optional<std::string>> read_string(const boost::json::object& body, std::string_view field,
                                               std::size_t max) {
  auto it = body.find(field);
  if (it == body.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_string()) return field_error(field, "must be a string");
  const auto& s = it->value().get_string();
  if (s.size() > max) return field_error(field, "is longer than " + std::to_string(max) + " bytes");
  return std::optional<std::string>{std::string(s)};
}

Result<std::optional<std::vector<std::string>>> read_string_list(const boost::json::object& body,
                                                                 std::string_view field, std::size_t max) {
  auto it = body.find(field);
  if (it == body.end() || it->value().is_null()) return std::optional<std::vector<std::string>>{};
  if (!it->value().is_array()) return field_error(field, "must be an array of strings");
  const auto& a = it->value().get_array();
  if (a.size() > kMaxListItems) return field_error(field, "has more than " + std::to_string(kMaxListItems) + " items");
  std::vector<std::string> out;
  for (const auto& item : a) {
    if (!item.is_string()) return field_error(field, "must be an array of strings");
    const auto& s = item.get_string();
    if (s.empty() || s.size() > max || has_control_characters(s)) {
      return field_error(field, "has an empty, too long or malformed item");
    }
    std::string v(s);
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(std::move(v));
  }
  return std::optional<std::vector<std::string>>{std::move(out)};
}

namespace {
Result<std::int64_t> read_count(std::string_view name, std::string_view text, std::int64_t min, std::int64_t max,
                                std::int64_t fallback) {
  if (text.empty()) return fallback;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n < min || n > max) {
    return Error::invalid("query parameter '" + std::string(name) + "' must be an integer between " +
                          std::to_string(min) + " and " + std::to_string(max));
  }
  return n;
}
}  // namespace

Result<Paging> read_paging(std::string_view limit, std::string_view offset) {
  auto l = read_count("limit", limit, 1, 1000, 50);
  if (!l) return l.error();
  auto o = read_count("offset", offset, 0, 1'000'000'000, 0);
  if (!o) return o.error();
  return Paging{*l, *o};
}

}  // namespace webstream::iam
