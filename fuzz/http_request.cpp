// Fuzz target: the HTTP/1.1 request reader (CONTRACT §11, §11a) — the gateway's own http::Server (listener,
// connection loop, Beast parser with the default limits, head checks, chunked bodies with extensions and
// trailers, pipelined requests, lingering close), fed over a real loopback connection. Each input is the
// byte stream a client sends; the harness sends it, half-closes, and reads until the server closes.
// Every request that reaches a handler is checked against what the handlers (and the forwarder behind them)
// rely on: at most 100 header fields and 16 KiB of them, no CR/LF/NUL in a value, never Content-Length together
// with Transfer-Encoding, Transfer-Encoding only as one "chunked", a body of at most 64 KiB. What the
// server writes back must be well-formed HTTP responses with no 5xx, and it must close after the client's EOF
// (no hang: the read has a 60 s deadline).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <csignal>

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <string>

#include "fuzz_check.hpp"
#include "http/server.hpp"
#include "observability/log.hpp"

namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using namespace webstream;

const config::LimitsConfig kLimits{};

void check_request(const http::Request& req) {
  std::size_t fields = 0, bytes = 0, te = 0;
  bool cl = false;
  for (const auto& f : req) {
    ++fields;
    bytes += f.name_string().size() + f.value().size() + 4;
    for (char c : f.value()) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0', "a header value with CR, LF or NUL");
    if (f.name() == bhttp::field::transfer_encoding) {
      ++te;
      FUZZ_CHECK(boost::beast::iequals(f.value(), "chunked"), "Transfer-Encoding other than chunked");
    }
    if (f.name() == bhttp::field::content_length) cl = true;
  }
  FUZZ_CHECK(fields <= kLimits.max_header_fields, "a request with more header fields than the limit");
  FUZZ_CHECK(bytes <= kLimits.max_header_bytes, "a request with more header bytes than the limit");
  FUZZ_CHECK(te <= 1, "more than one Transfer-Encoding");
  FUZZ_CHECK(!(te == 1 && cl), "both Content-Length and Transfer-Encoding");
  FUZZ_CHECK(req.body().size() <= kLimits.max_body_bytes, "a body over the limit");
}

struct World {
  http::Router router;
  std::unique_ptr<runtime::Workers> workers;
  std::unique_ptr<http::Server> server;
  int port = 0;
  World() {
    webstream::log::set_min_level(webstream::log::Level::kError);
    router.add("*", "/*", http::Exposure::kBoth, [](http::RequestContext& ctx) -> net::awaitable<http::Response> {
      check_request(ctx.req);
      co_return http::text_response(200, "", "text/plain", ctx.req);  // empty: a HEAD answer stays parseable
    });
    router.add_upgrade("/capture", http::Exposure::kBoth,
                       [](http::RequestContext& ctx, http::ClientStream&& stream) -> net::awaitable<void> {
                         check_request(ctx.req);
                         http::ClientStream owned = std::move(stream);
                         auto answer = http::text_response(403, "no", "text/plain", ctx.req);
                         answer.keep_alive(false);
                         co_await http::write_response(owned, std::move(answer));
                       });
    workers = std::make_unique<runtime::Workers>(1);
    server = std::make_unique<http::Server>(router, kLimits, *workers, true);
    FUZZ_CHECK(server->listen(http::ListenerKind::kInternal, "127.0.0.1", 0, nullptr).ok(), "listen");
    port = server->bound_port(0);
    server->start();
    workers->start();
  }
};
World& world() {
  static World* w = new World;  // never destroyed: its threads serve until the process exits
  return *w;
}

// Every response in `bytes` parses; none is a 5xx.
void check_responses(std::string_view bytes) {
  while (!bytes.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(1 << 20);
    boost::system::error_code ec;
    const auto used = parser.put(net::buffer(bytes.data(), bytes.size()), ec);
    if (ec == bhttp::error::need_more) {
      parser.put_eof(ec);
    }
    FUZZ_CHECK(!ec, "the server wrote a malformed response: " + ec.message());
    FUZZ_CHECK(parser.get().result_int() < 500, "the server answered " + std::to_string(parser.get().result_int()));
    if (used == 0) break;
    bytes.remove_prefix(used);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const int port = world().port;
  // libFuzzer's -timeout alarm (SIGALRM, every second) would interrupt the blocking calls below (EINTR):
  // let the server's thread take it instead.
  static const bool alarm_elsewhere = [] {
    sigset_t alarm;
    sigemptyset(&alarm);
    sigaddset(&alarm, SIGALRM);
    return pthread_sigmask(SIG_BLOCK, &alarm, nullptr) == 0;
  }();
  FUZZ_CHECK(alarm_elsewhere, "pthread_sigmask");
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  FUZZ_CHECK(fd >= 0, "socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0, "connect");
  timeval deadline{60, 0};  // generous: a loaded machine (and nice 10) delays the server thread by seconds
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &deadline, sizeof deadline);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &deadline, sizeof deadline);
  std::size_t sent = 0;
  while (sent < size) {
    const auto n = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;  // libFuzzer's -timeout alarm
    if (n <= 0) break;                      // the server answered early and closed (413, 431, 400): fine
    sent += static_cast<std::size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string answer;
  char buf[16384];
  for (;;) {
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;  // libFuzzer's -timeout alarm interrupts blocking calls
    if (n < 0) {
      FUZZ_CHECK(errno == ECONNRESET, "the server neither answered nor closed within 60 s");
      break;
    }
    answer.append(buf, static_cast<std::size_t>(n));
  }
  linger hard{1, 0};  // close with RST: no TIME_WAIT pile-up over millions of runs
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
  ::close(fd);
  check_responses(answer);
  return 0;
}
