#include "http/wire.hpp"

#include <gtest/gtest.h>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

namespace webstream::http {
namespace {

// A SyncWriteStream that collects what is written.
struct StringStream {
  std::string data;
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers) {
    const auto before = data.size();
    data += boost::beast::buffers_to_string(buffers);
    return data.size() - before;
  }
  template <class ConstBufferSequence>
  std::size_t write_some(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
    ec = {};
    return write_some(buffers);
  }
};

// What Beast writes for the head of `message` (the reference the wire functions must match byte for byte).
template <bool isRequest>
std::string beast_head(bhttp::message<isRequest, bhttp::string_body>& message) {
  StringStream out;
  bhttp::serializer<isRequest, bhttp::string_body> sr{message};
  sr.split(true);
  boost::system::error_code ec;
  bhttp::write_header(out, sr, ec);
  EXPECT_FALSE(ec) << ec.message();
  return out.data;
}

TEST(Wire, ResponseHeadMatchesBeast) {
  Response res{bhttp::status::ok, 11};
  res.set(bhttp::field::content_type, "application/json");
  res.insert("X-Custom", "a");
  res.insert("x-custom", "b");  // duplicates and case kept as they are
  res.body() = "{}";
  res.prepare_payload();
  std::string wire;
  append_response_head(res, wire);
  EXPECT_EQ(wire, beast_head(res));
  EXPECT_EQ(wire.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
}

TEST(Wire, ResponseReasonsVersionsAndEmptyValues) {
  for (unsigned code : {100u, 204u, 301u, 404u, 431u, 502u, 599u}) {
    for (unsigned version : {10u, 11u}) {
      Response res{static_cast<bhttp::status>(code), version};
      res.insert("X-Empty", "");
      res.keep_alive(false);
      std::string wire;
      append_response_head(res, wire);
      EXPECT_EQ(wire, beast_head(res)) << code << " " << version;
    }
  }
  Response custom{bhttp::status::ok, 11};
  custom.reason("Fine Thanks");
  std::string wire;
  append_response_head(custom, wire);
  EXPECT_EQ(wire, beast_head(custom));
}

TEST(Wire, RequestHeadMatchesBeast) {
  Request req{bhttp::verb::get, "/getConnection?a=%20b", 11};
  req.set(bhttp::field::host, "127.0.0.1:8080");
  req.insert("X-User-ID", "u-1");
  std::string wire;
  append_request_head(req, wire);
  EXPECT_EQ(wire, beast_head(req));

  Request post{bhttp::verb::post, "/api/x", 11};
  post.body() = "payload";
  post.prepare_payload();
  wire.clear();
  append_request_head(post, wire);
  EXPECT_EQ(wire, beast_head(post));

  Request odd;
  odd.method_string("PURGE");
  odd.target("/");
  odd.version(10);
  wire.clear();
  append_request_head(odd, wire);
  EXPECT_EQ(wire, beast_head(odd));
}

TEST(Wire, AppendsWithoutClearing) {
  Response res{bhttp::status::no_content, 11};
  std::string wire = "prefix";
  append_response_head(res, wire);
  EXPECT_EQ(wire, "prefixHTTP/1.1 204 No Content\r\n\r\n");
}

TEST(Wire, EraseFieldLinesRemovesEveryLineOfThatName) {
  std::string head =
      "HTTP/1.1 200 OK\r\nStrict-Transport-Security: a\r\nX-A: 1\r\nstrict-transport-security: b\r\n"
      "X-Strict-Transport-Security: c\r\nStrict-Transport-Security: d\r\n";
  erase_field_lines(head, "Strict-Transport-Security");
  EXPECT_EQ(head, "HTTP/1.1 200 OK\r\nX-A: 1\r\nX-Strict-Transport-Security: c\r\n");
  std::string only_status = "HTTP/1.1 204 No Content\r\n";
  erase_field_lines(only_status, "X-A");
  EXPECT_EQ(only_status, "HTTP/1.1 204 No Content\r\n");
}

}  // namespace
}  // namespace webstream::http
