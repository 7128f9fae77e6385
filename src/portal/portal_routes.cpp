#include "portal/portal_routes.hpp"

#include "portal/embedded_files.hpp"

namespace webstream::portal {
namespace {

namespace bhttp = boost::beast::http;

void add_security_headers(http::Response& res) {
  res.set("Content-Security-Policy", kContentSecurityPolicy);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("X-Frame-Options", "DENY");
  res.set("Cross-Origin-Opener-Policy", "same-origin");
}

// True when an If-None-Match value (a list of entity tags, or "*") names `etag`. Weak tags (W/"…") match
// too: If-None-Match uses the weak comparison (RFC 9110 §13.1.2).
bool matches_etag(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const auto comma = if_none_match.find(',');
    std::string_view item = if_none_match.substr(0, comma);
    if_none_match = comma == std::string_view::npos ? std::string_view{} : if_none_match.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == "*" || item == etag) return true;
  }
  return false;
}

}  // namespace

http::Response portal_file_response(std::string_view name, const http::Request& req) {
  const EmbeddedFile* file = find_embedded_file(name);
  if (file == nullptr) {
    http::Response res = http::error_response(Error::not_found("not_found", "no such portal file"), req);
    add_security_headers(res);
    return res;
  }
  const auto if_none_match = req.find(bhttp::field::if_none_match);
  if (if_none_match != req.end() && matches_etag(if_none_match->value(), file->etag)) {
    http::Response res{bhttp::status::not_modified, req.version()};
    res.set(bhttp::field::etag, file->etag);
    res.set(bhttp::field::cache_control, "no-cache");
    add_security_headers(res);
    res.keep_alive(req.keep_alive());
    return res;  // no body and no Content-Length: a 304 never has a body
  }
  http::Response res = http::text_response(200, std::string(file->content), content_type_for(file->name), req);
  res.set(bhttp::field::cache_control, "no-cache");
  res.set(bhttp::field::etag, file->etag);
  add_security_headers(res);
  return res;
}

void register_portal_routes(http::Router& router) {
  router.add("GET", "/", http::Exposure::kPublic,
             [](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
               http::Response res = portal_file_response("index.html", ctx.req);
               co_return res;
             });
  router.add("GET", "/portal/{}", http::Exposure::kPublic,
             [](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
               const std::string name = ctx.params.empty() ? std::string{} : ctx.params[0];
               http::Response res = portal_file_response(name, ctx.req);
               co_return res;
             });
}

}  // namespace webstream::portal
