#include "http/wire.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/status.hpp>

namespace webstream::http {
namespace {

void append_version(unsigned version, std::string& out) {
  out.append("HTTP/", 5);
  out.push_back(static_cast<char>('0' + version / 10));
  out.push_back('.');
  out.push_back(static_cast<char>('0' + version % 10));
}

}  // namespace

void append_fields(const bhttp::fields& fields, std::string& out) {
  for (const auto& f : fields) append_field(out, f.name_string(), f.value());
}

void erase_field_lines(std::string& head, std::string_view name) {
  std::size_t at = head.find("\r\n");
  if (at == std::string::npos) return;
  at += 2;
  while (at < head.size()) {
    const std::size_t end = head.find("\r\n", at);
    const std::size_t next = end == std::string::npos ? head.size() : end + 2;
    const std::string_view field_line(head.data() + at, next - at);
    const std::size_t colon = field_line.find(':');
    if (colon != std::string_view::npos && boost::beast::iequals(field_line.substr(0, colon), name)) {
      head.erase(at, next - at);
    } else {
      at = next;
    }
  }
}

void append_response_head(const Response& response, std::string& out) {
  append_version(response.version(), out);
  out.push_back(' ');
  const unsigned code = response.result_int();
  char digits[3] = {static_cast<char>('0' + code / 100 % 10), static_cast<char>('0' + code / 10 % 10),
                    static_cast<char>('0' + code % 10)};
  out.append(digits, 3);
  out.push_back(' ');
  out.append(response.reason());
  out.append("\r\n", 2);
  append_fields(response.base(), out);
  out.append("\r\n", 2);
}

void append_request_head(const Request& request, std::string& out) {
  out.append(request.method_string());
  out.push_back(' ');
  out.append(request.target());
  out.push_back(' ');
  append_version(request.version(), out);
  out.append("\r\n", 2);
  append_fields(request.base(), out);
  out.append("\r\n", 2);
}

}  // namespace webstream::http
