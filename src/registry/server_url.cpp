#include "registry/server_url.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <cctype>

namespace webstream::registry {
namespace {

Error bad(std::string_view why) { return Error::invalid("field 'serverUrl' " + std::string(why)); }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// 1..65535 in decimal (Boost.URL's port_number() wraps values over 65535).
bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5) return false;
  unsigned value = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  return value >= 1 && value <= 65535;
}

}  // namespace

Result<std::string> normalize_server_url(std::string_view url) {
  if (url.size() > kMaxServerUrlBytes) return bad("is longer than 2048 bytes");
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return bad("must be an absolute http(s) URL");
  const boost::urls::url_view& u = *parsed;
  const std::string scheme = lower(u.scheme());
  if (scheme != "http" && scheme != "https") return bad("must be an http or https URL");
  if (!u.has_authority() || u.encoded_host().empty()) return bad("must name a host");
  if (u.has_userinfo()) return bad("must not contain user information");
  if (u.has_query() || u.has_fragment()) return bad("must not contain a query or fragment");
  if (u.has_port() && !valid_port(u.port())) return bad("has an invalid port");
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  return scheme + "://" + lower(u.encoded_host_and_port()) + path;
}

}  // namespace webstream::registry
