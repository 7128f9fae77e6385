#include "registry/exposure.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <boost/url/parse.hpp>

#include <cstring>

namespace webstream::registry {
namespace {

bool link_local_v4(const in_addr& a) {
  const auto host = ntohl(a.s_addr);
  return (host >> 16) == ((169u << 8) | 254u);  // 169.254.0.0/16
}

}  // namespace

bool is_loopback_bind(std::string_view address) {
  if (address == "localhost" || address == "::1" || address == "[::1]") return true;
  in_addr a{};
  const std::string text(address);
  return ::inet_pton(AF_INET, text.c_str(), &a) == 1 && (ntohl(a.s_addr) >> 24) == 127u;
}

bool is_link_local_host(std::string_view host) {
  std::string text(host);
  const bool bracketed = text.size() >= 2 && text.front() == '[' && text.back() == ']';
  if (bracketed || text.find(':') != std::string::npos) {
    if (bracketed) text = text.substr(1, text.size() - 2);
    if (const auto zone = text.find('%'); zone != std::string::npos) text.erase(zone);
    in6_addr a6{};
    if (::inet_pton(AF_INET6, text.c_str(), &a6) != 1) return false;
    if (a6.s6_addr[0] == 0xfe && (a6.s6_addr[1] & 0xc0) == 0x80) return true;  // fe80::/10
    if (IN6_IS_ADDR_V4MAPPED(&a6) || IN6_IS_ADDR_V4COMPAT(&a6)) {
      in_addr a4{};
      std::memcpy(&a4.s_addr, a6.s6_addr + 12, 4);
      return link_local_v4(a4);
    }
    return false;
  }
  while (!text.empty() && text.back() == '.') text.pop_back();  // "169.254.169.254." resolves the same
  // inet_aton also reads the legacy forms a resolver accepts ("2852039166", "0xa9.0xfe.0xa9.0xfe", "169.254.43518").
  in_addr a{};
  return ::inet_aton(text.c_str(), &a) != 0 && link_local_v4(a);
}

Status check_server_url_target(const std::string& server_url, bool allow_link_local) {
  if (allow_link_local) return Status::success();
  auto parsed = boost::urls::parse_absolute_uri(server_url);
  if (!parsed) return Status::success();  // normalize_server_url has refused it already
  if (is_link_local_host(parsed->encoded_host())) {
    return Error::invalid(
        "field 'serverUrl' points at a link-local address (169.254.0.0/16 or fe80::/10, e.g. a cloud "
        "metadata service); set gateway.allowLinkLocalBackends=\"true\" to allow it");
  }
  return Status::success();
}

}  // namespace webstream::registry
