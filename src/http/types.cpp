#include "http/types.hpp"

#include <boost/json/serialize.hpp>
#include <boost/url/parse_query.hpp>

namespace webstream::http {

std::string RequestContext::query_param(std::string_view name) const {
  if (query.empty()) return {};
  auto params = boost::urls::parse_query(query);
  if (!params) return {};
  for (const auto& p : *params) {
    if (p.key == name) return std::string(p.value);
  }
  return {};
}

std::string_view RequestContext::header(std::string_view name) const {
  auto it = req.find(name);
  return it == req.end() ? std::string_view{} : std::string_view(it->value());
}

namespace {
Response make(unsigned status, std::string body, std::string_view content_type, unsigned version, bool keep_alive) {
  Response res{static_cast<bhttp::status>(status), version};
  res.set(bhttp::field::content_type, content_type);
  res.set(bhttp::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.body() = std::move(body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}
}  // namespace

Response json_response(unsigned status, const boost::json::value& body, const Request& req) {
  return make(status, boost::json::serialize(body), "application/json", req.version(), req.keep_alive());
}

Response text_response(unsigned status, std::string body, std::string_view content_type, const Request& req) {
  return make(status, std::move(body), content_type, req.version(), req.keep_alive());
}

Response error_response(const Error& error, unsigned version, bool keep_alive) {
  boost::json::object inner{{"code", error.code}, {"message", error.message}};
  boost::json::object body{{"error", std::move(inner)}};
  Response res = make(error.status, boost::json::serialize(body), "application/json", version, keep_alive);
  if (error.retry_after > 0) res.set(bhttp::field::retry_after, std::to_string(error.retry_after));
  if (error.status == 401) res.set(bhttp::field::www_authenticate, "Bearer");
  return res;
}

Response error_response(const Error& error, const Request& req) {
  return error_response(error, req.version(), req.keep_alive());
}

}  // namespace webstream::http
