#include "iam/api/service_gate.hpp"

#include <boost/asio/ip/address.hpp>

#include <memory>

#include "auth/authenticator.hpp"
#include "iam/api/internal_api.hpp"
#include "iam/service_headers.hpp"

namespace webstream::iam {

namespace net = boost::asio;

namespace {

constexpr std::size_t kMaxPrincipalBytes = 128;

// The first address of an X-Forwarded-For value, when it is an IP literal.
std::string first_forwarded_ip(std::string_view value) {
  const auto comma = value.find(',');
  std::string_view first = value.substr(0, comma);
  while (!first.empty() && (first.front() == ' ' || first.front() == '\t')) first.remove_prefix(1);
  while (!first.empty() && (first.back() == ' ' || first.back() == '\t')) first.remove_suffix(1);
  boost::system::error_code ec;
  const auto address = net::ip::make_address(std::string(first), ec);
  return ec ? std::string() : address.to_string();
}

bool usable_principal(std::string_view name) {
  if (name.empty() || name.size() > kMaxPrincipalBytes) return false;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

void add_service_gated_routes(http::Router& to, const http::Router& from, std::string service_key) {
  auto key = std::make_shared<const std::string>(std::move(service_key));
  for (const auto& route : from.routes()) {
    if (route.upgrade) {
      to.add_upgrade(route.pattern, route.exposure, route.upgrade);  // the IAM has none; kept as it is
      continue;
    }
    http::Handler inner = route.handler;
    to.add(route.method, route.pattern, route.exposure,
           [key, inner](http::RequestContext& ctx) -> net::awaitable<http::Response> {
             if (!ctx.header(kServiceKeyHeader).empty()) {
               if (auto s = check_service_key(ctx, *key); !s) co_return http::error_response(s.error(), ctx.req);
               if (auto ip = first_forwarded_ip(ctx.header("X-Forwarded-For")); !ip.empty()) {
                 ctx.remote_ip = std::move(ip);
               }
               const std::string_view name = ctx.header(kServicePrincipalHeader);
               if (!name.empty()) {
                 if (!usable_principal(name)) {
                   Error bad = Error::invalid("X-WebStream-Service-Principal is not a usable key name");
                   co_return http::error_response(bad, ctx.req);
                 }
                 ctx.preauthenticated =
                     std::make_shared<const core::Principal>(auth::service_principal(std::string(name)));
               }
             }
             auto op = inner(ctx);  // named: no temporary inside the co_await (GCC 12)
             auto answer = co_await std::move(op);
             co_return answer;
           });
  }
}

}  // namespace webstream::iam
