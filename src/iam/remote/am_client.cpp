#include "iam/remote/am_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/json/parse.hpp>
#include <boost/url/parse.hpp>

#include "http/tcp_connect.hpp"

#include <chrono>
#include <exception>
#include <optional>

namespace webstream::iam {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kToken = net::as_tuple(net::use_awaitable);
constexpr std::size_t kMaxReplyBody = 8 * 1024 * 1024;
constexpr std::size_t kMaxReplyHeader = 64 * 1024;

Error unavailable() {
  return Error{503, "access_management_unavailable", "the access-management service cannot be reached"};
}
Error bad_answer() {
  return Error{502, "access_management_error", "the access-management service sent an unusable answer"};
}

}  // namespace

Result<AmClient> AmClient::create(std::string_view base_url, std::string service_key) {
  auto parsed = boost::urls::parse_absolute_uri(base_url);
  if (!parsed) return Error::invalid("'" + std::string(base_url) + "' is not a URL");
  const auto& u = *parsed;
  if (u.scheme_id() != boost::urls::scheme::http) {
    return Error::invalid("only http:// is supported for the access-management service");
  }
  if (u.has_userinfo() || u.has_query() || u.has_fragment()) {
    return Error::invalid("the URL must not have user info, a query or a fragment");
  }
  AmClient c;
  c.host_ = u.host_address();
  if (c.host_.empty()) return Error::invalid("the URL has no host");
  c.port_ = u.has_port() ? u.port_number() : 80;
  if (c.port_ == 0) return Error::invalid("the URL has no usable port");
  c.host_header_ = u.encoded_host_and_port();
  std::string path(u.encoded_path());
  while (!path.empty() && path.back() == '/') path.pop_back();
  c.base_path_ = std::move(path);
  c.service_key_ = std::move(service_key);
  return c;
}

net::awaitable<Result<AmReply>> AmClient::async_call(AmRequest request, std::chrono::milliseconds timeout) const {
  beast::tcp_stream stream(co_await net::this_coro::executor);
  // One deadline for connect, write and read together.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (auto cec = co_await http::connect_tcp(stream, host_, port_, timeout); cec) co_return unavailable();
  stream.expires_at(deadline);

  bhttp::request<bhttp::string_body> req{request.method, base_path_ + request.target, 11};
  req.set(bhttp::field::host, host_header_);
  req.set(bhttp::field::user_agent, "webstream-gateway");
  req.set(bhttp::field::connection, "close");
  req.set(bhttp::field::accept, "application/json");
  if (!service_key_.empty()) req.set(kServiceKeyHeader, service_key_);
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = std::move(request.body);
  }
  req.prepare_payload();
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kToken);
  if (wec) co_return unavailable();

  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.header_limit(kMaxReplyHeader);
  parser.body_limit(kMaxReplyBody);
  auto [rec, rn] = co_await bhttp::async_read(stream, buffer, parser, kToken);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  if (rec == beast::error::timeout || rec == net::error::connection_reset || rec == net::error::eof ||
      rec == bhttp::error::end_of_stream) {
    co_return unavailable();
  }
  if (rec) co_return bad_answer();
  AmReply reply;
  reply.status = parser.get().result_int();
  reply.body = std::move(parser.get().body());
  co_return reply;
}

Result<AmReply> AmClient::call(const AmRequest& request, std::chrono::milliseconds timeout) const {
  net::io_context io;
  std::optional<Result<AmReply>> out;
  // co_spawn needs a default-constructible result: carry the Result in an optional.
  auto task = [this, request, timeout]() -> net::awaitable<std::optional<Result<AmReply>>> {
    auto op = async_call(request, timeout);  // named: no temporary inside the co_await (GCC 12)
    auto reply = co_await std::move(op);
    co_return std::optional<Result<AmReply>>(std::move(reply));
  };
  net::co_spawn(io, std::move(task), [&out](std::exception_ptr e, std::optional<Result<AmReply>> r) {
    if (!e && r) out = std::move(r);
  });
  io.run();
  if (!out) return unavailable();
  return std::move(*out);
}

Error reply_error(const AmReply& reply, std::string_view fallback_code) {
  boost::system::error_code ec;
  auto v = boost::json::parse(reply.body, ec);
  if (!ec && v.is_object()) {
    const auto* err = v.as_object().if_contains("error");
    if (err && err->is_object()) {
      const auto* code = err->as_object().if_contains("code");
      const auto* message = err->as_object().if_contains("message");
      if (code && code->is_string() && message && message->is_string()) {
        return Error{static_cast<int>(reply.status), std::string(code->get_string()),
                     std::string(message->get_string())};
      }
    }
  }
  return Error{static_cast<int>(reply.status), std::string(fallback_code),
               "the access-management service answered " + std::to_string(reply.status)};
}

}  // namespace webstream::iam
