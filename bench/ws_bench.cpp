// ws_bench: a WebSocket load client for bench/run.sh.
//   ws_bench echo    --url ws://127.0.0.1:PORT/control?... --connections 100 --rate 20 --seconds 10 --bytes 64
//       each connection sends `rate` messages/s (the connections' phases spread evenly over the period) and
//       times the echo: prints p50/p99/max round-trip in µs.
//   ws_bench capture --url ws://…/capture?… --connections 1 --seconds 10
//       reads as fast as it can: prints MB/s and messages/s over all connections.
//   ws_bench idle    --url ws://…/control?… --connections 1000 --seconds 10
//       opens and holds connections (for RSS per idle WebSocket measured by the caller), prints how many opened.
// wss:// URLs go over TLS (certificate not verified: the benchmark's own self-signed one).
// Extra request headers: --header "Name: value" (repeatable). Output: one JSON line on stdout.
#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using tcp = net::ip::tcp;
using namespace std::chrono;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

using PlainWs = ws::stream<beast::tcp_stream>;
using TlsWs = ws::stream<beast::ssl_stream<beast::tcp_stream>>;

struct Options {
  std::string mode;
  bool tls = false;
  std::string host = "127.0.0.1";
  std::string port = "80";
  std::string target = "/";
  int connections = 1;
  int rate = 10;
  int seconds = 10;
  std::size_t bytes = 64;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Stats {
  std::vector<std::int64_t> rtts_us;
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
  int opened = 0;
  int failed = 0;
};

template <class Ws>
net::awaitable<bool> open(Ws& s, const Options& o) {
  auto ex = co_await net::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(o.host, o.port, kNoThrow);
  if (rec) co_return false;
  beast::get_lowest_layer(s).expires_after(seconds(10));
  auto [cec, ep] = co_await beast::get_lowest_layer(s).async_connect(results, kNoThrow);
  if (cec) co_return false;
  if constexpr (std::is_same_v<Ws, TlsWs>) {
    SSL_set_tlsext_host_name(s.next_layer().native_handle(), o.host.c_str());
    auto [tec] = co_await s.next_layer().async_handshake(net::ssl::stream_base::client, kNoThrow);
    if (tec) co_return false;
  }
  beast::get_lowest_layer(s).expires_never();
  s.set_option(ws::stream_base::timeout::suggested(beast::role_type::client));
  s.set_option(ws::stream_base::decorator([&o](ws::request_type& req) {
    for (const auto& [k, v] : o.headers) req.set(k, v);
  }));
  s.read_message_max(64 * 1024 * 1024);
  auto [hec] = co_await s.async_handshake(o.host + ":" + o.port, o.target, kNoThrow);
  co_return !hec;
}

net::ssl::context& tls_context() {
  static net::ssl::context ctx(net::ssl::context::tls_client);  // no verification: the bench's own certificate
  return ctx;
}

template <class Ws>
Ws make_stream(const net::any_io_executor& ex) {
  if constexpr (std::is_same_v<Ws, TlsWs>) {
    return Ws(ex, tls_context());
  } else {
    return Ws(ex);
  }
}

// Connection `index` of `o.connections` sends at phase index/connections of the period: the connections
// together send at an even o.rate × connections messages/s. (Started in step, every connection sent in the
// same instant, and the round trip measured how long the proxy and the host took to drain a burst of
// `connections` messages, not one message's trip; the figures then swung by 3x between identical runs.)
template <class Ws>
net::awaitable<void> run_echo(const Options& o, Stats& st, steady_clock::time_point end, int index) {
  Ws s = make_stream<Ws>(co_await net::this_coro::executor);
  if (!co_await open(s, o)) {
    ++st.failed;
    co_return;
  }
  ++st.opened;
  s.binary(true);
  std::string payload(o.bytes, 'x');
  beast::flat_buffer buffer;
  net::steady_timer timer(co_await net::this_coro::executor);
  const auto period = microseconds(1'000'000 / std::max(1, o.rate));
  auto next = steady_clock::now() + period * index / std::max(1, o.connections);
  timer.expires_at(next);
  co_await timer.async_wait(kNoThrow);
  while (steady_clock::now() < end) {
    const auto sent = steady_clock::now();
    auto [wec, wn] = co_await s.async_write(net::buffer(payload), kNoThrow);
    if (wec) break;
    buffer.clear();
    auto [rec, rn] = co_await s.async_read(buffer, kNoThrow);
    if (rec) break;
    st.rtts_us.push_back(duration_cast<microseconds>(steady_clock::now() - sent).count());
    next += period;
    timer.expires_at(next);
    co_await timer.async_wait(kNoThrow);
  }
  co_await s.async_close(ws::close_code::normal, kNoThrow);
}

template <class Ws>
net::awaitable<void> run_capture(const Options& o, Stats& st, steady_clock::time_point end) {
  Ws s = make_stream<Ws>(co_await net::this_coro::executor);
  if (!co_await open(s, o)) {
    ++st.failed;
    co_return;
  }
  ++st.opened;
  beast::flat_buffer buffer;
  while (steady_clock::now() < end) {
    buffer.clear();
    auto [rec, rn] = co_await s.async_read(buffer, kNoThrow);
    if (rec) break;
    st.bytes += rn;
    ++st.messages;
  }
  beast::get_lowest_layer(s).close();
}

template <class Ws>
net::awaitable<void> run_idle(const Options& o, Stats& st, steady_clock::time_point end) {
  Ws s = make_stream<Ws>(co_await net::this_coro::executor);
  if (!co_await open(s, o)) {
    ++st.failed;
    co_return;
  }
  ++st.opened;
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_at(end);
  co_await timer.async_wait(kNoThrow);
  co_await s.async_close(ws::close_code::normal, kNoThrow);
}

int main(int argc, char** argv) {
  Options o;
  std::string url;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (i == 1)
      o.mode = a;
    else if (a == "--url")
      url = next();
    else if (a == "--connections")
      o.connections = std::stoi(next());
    else if (a == "--rate")
      o.rate = std::stoi(next());
    else if (a == "--seconds")
      o.seconds = std::stoi(next());
    else if (a == "--bytes")
      o.bytes = std::stoul(next());
    else if (a == "--header") {
      auto h = next();
      auto c = h.find(':');
      if (c != std::string::npos) o.headers.emplace_back(h.substr(0, c), h.substr(c + 1 + (h[c + 1] == ' ')));
    } else {
      std::cerr << "ws_bench: unknown argument " << a << "\n";
      return 2;
    }
  }
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed || (o.mode != "echo" && o.mode != "capture" && o.mode != "idle")) {
    std::cerr << "usage: ws_bench echo|capture|idle --url ws://host:port/path?query [--connections N] [--rate N] "
                 "[--seconds N] [--bytes N] [--header 'Name: value']\n";
    return 2;
  }
  o.host = std::string(parsed->host());
  o.tls = parsed->scheme() == "wss";
  o.port = parsed->has_port() ? std::string(parsed->port()) : (o.tls ? "443" : "80");
  o.target = std::string(parsed->encoded_path().empty() ? "/" : parsed->encoded_path());
  if (parsed->has_query()) o.target += "?" + std::string(parsed->encoded_query());

  net::io_context io;
  Stats st;
  const auto start = steady_clock::now();
  const auto end = start + seconds(o.seconds);
  for (int i = 0; i < o.connections; ++i) {
    if (o.tls) {
      if (o.mode == "echo")
        net::co_spawn(io, run_echo<TlsWs>(o, st, end, i), net::detached);
      else if (o.mode == "capture")
        net::co_spawn(io, run_capture<TlsWs>(o, st, end), net::detached);
      else
        net::co_spawn(io, run_idle<TlsWs>(o, st, end), net::detached);
    } else {
      if (o.mode == "echo")
        net::co_spawn(io, run_echo<PlainWs>(o, st, end, i), net::detached);
      else if (o.mode == "capture")
        net::co_spawn(io, run_capture<PlainWs>(o, st, end), net::detached);
      else
        net::co_spawn(io, run_idle<PlainWs>(o, st, end), net::detached);
    }
  }
  io.run();
  const double elapsed = duration<double>(steady_clock::now() - start).count();
  std::sort(st.rtts_us.begin(), st.rtts_us.end());
  auto pct = [&](double p) -> long long {
    if (st.rtts_us.empty()) return 0;
    return st.rtts_us[std::min(st.rtts_us.size() - 1, static_cast<std::size_t>(p * st.rtts_us.size()))];
  };
  std::printf(
      "{\"mode\":\"%s\",\"connections\":%d,\"opened\":%d,\"failed\":%d,\"seconds\":%.2f,\"messages\":%llu,"
      "\"MBps\":%.2f,\"rtt_samples\":%zu,\"rtt_p50_us\":%lld,\"rtt_p99_us\":%lld,\"rtt_p999_us\":%lld,"
      "\"rtt_max_us\":%lld}\n",
      o.mode.c_str(), o.connections, st.opened, st.failed, elapsed, static_cast<unsigned long long>(st.messages),
      st.bytes / elapsed / 1e6, st.rtts_us.size(), pct(0.5), pct(0.99), pct(0.999),
      st.rtts_us.empty() ? 0LL : (long long)st.rtts_us.back());
  return st.failed > 0 && st.opened == 0 ? 1 : 0;
}
