#include "iam/policy.hpp"

#include <boost/json.hpp>

#include <cmath>
#include <string>

namespace webstream::iam {

namespace json = boost::json;

json::object default_policy() { return json::object{{"maxConcurrentSessions", 1}}; }

namespace {

void overlay(json::object& into, const json::object& layer) {
  for (const auto& field : layer) {
    if (field.value().is_null()) continue;
    into[field.key()] = field.value();
  }
}

// The more permissive of two values of one field from two group layers (`first` is from the
// entitlement whose id sorts first).
json::value more_permissive(const json::value& first, const json::value& second) {
  if (first.is_bool() && second.is_bool()) return first.get_bool() || second.get_bool();
  if (first.is_number() && second.is_number()) {
    return first.to_number<double>() >= second.to_number<double>() ? first : second;
  }
  return first;
}

json::object combine_groups(const std::vector<json::object>& groups) {
  json::object out;
  for (const auto& group : groups) {
    for (const auto& field : group) {
      if (field.value().is_null()) continue;
      auto it = out.find(field.key());
      if (it == out.end()) {
        out[field.key()] = field.value();
      } else {
        it->value() = more_permissive(it->value(), field.value());
      }
    }
  }
  return out;
}

Error doc_error(std::string_view field, std::string_view what) {
  return Error::invalid("field 'document." + std::string(field) + "' " + std::string(what));
}

Status check_int(const json::object& d, std::string_view field, std::int64_t max) {
  auto it = d.find(field);
  if (it == d.end() || it->value().is_null()) return Status::success();
  const auto& v = it->value();
  double n = 0;
  if (v.is_int64()) {
    n = static_cast<double>(v.get_int64());
  } else if (v.is_uint64()) {
    n = static_cast<double>(v.get_uint64());
  } else if (v.is_double() && std::isfinite(v.get_double()) && std::floor(v.get_double()) == v.get_double()) {
    n = v.get_double();
  } else {
    return doc_error(field, "must be an integer");
  }
  if (n < 0 || n > static_cast<double>(max)) {
    return doc_error(field, "must be between 0 and " + std::to_string(max));
  }
  return Status::success();
}

Status check_switch(const json::object& d, std::string_view field) {
  auto it = d.find(field);
  if (it == d.end() || it->value().is_null()) return Status::success();
  if (!it->value().is_bool() && !it->value().is_string()) return doc_error(field, "must be a boolean or a string");
  if (it->value().is_string() && it->value().get_string().size() > 64) return doc_error(field, "is too long");
  return Status::success();
}

}  // namespace

json::object effective_policy(const PolicyLayers& layers) {
  json::object out = default_policy();
  if (layers.org) overlay(out, *layers.org);
  if (!layers.groups.empty()) overlay(out, combine_groups(layers.groups));
  if (layers.user) overlay(out, *layers.user);
  return out;
}

Status validate_policy_document(const json::object& d) {
  if (d.size() > 64) return Error::invalid("field 'document' has more than 64 fields");
  for (const auto& field : d) {
    if (field.key().empty() || field.key().size() > 64) return Error::invalid("field 'document' has a bad field name");
  }
  if (auto s = check_int(d, "maxConcurrentSessions", 10000); !s) return s;
  if (auto s = check_int(d, "idleTimeout", 2592000); !s) return s;
  for (const char* name : {"clipboard", "audio", "fileTransfer"}) {
    if (auto s = check_switch(d, name); !s) return s;
  }
  return Status::success();
}

}  // namespace webstream::iam
