// tls_handshake_bench: new TLS connections per second that a server completes (issue 6). Each of --threads
// threads loops: TCP connect, a FULL TLS handshake (a fresh SSL object every time, client session cache
// off, no tickets asked for: never a resumption — the JSON counts `resumed` to prove it), one
// "GET <path> HTTP/1.1" with "Connection: close", read the answer until the server closes, close.
// Blocking sockets with OpenSSL directly, so the client does the least work it can per handshake (x25519 and
// a signature check; the server also signs with its key).
//   tls_handshake_bench --port 8443 [--host 127.0.0.1] [--path /gateway/health] [--threads 4] [--seconds 10]
//                       [--tls 1.2|1.3]   (default: whatever both sides prefer, i.e. TLS 1.3)
// Output: one JSON line on stdout: handshakes/s (connections completed with a 2xx answer), latency
// percentiles of the whole exchange (connect → answer read), failures, protocol and cipher seen.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Steady = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/gateway/health";
  int threads = 4;
  int seconds = 10;
  int tls = 0;  // 0: any of 1.2/1.3; 12 or 13: only that version
};

struct ThreadStats {
  std::vector<std::int64_t> latency_us;
  std::uint64_t ok = 0;
  std::uint64_t failed = 0;
  std::uint64_t resumed = 0;
  std::string protocol;
  std::string cipher;
};

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: tls_handshake_bench --port P [--host H] [--path /p] [--threads N] [--seconds S] "
               "[--tls 1.2|1.3]\n");
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage();
    const std::string v = argv[++i];
    if (a == "--port")
      o.port = std::atoi(v.c_str());
    else if (a == "--host")
      o.host = v;
    else if (a == "--path")
      o.path = v;
    else if (a == "--threads")
      o.threads = std::max(1, std::atoi(v.c_str()));
    else if (a == "--seconds")
      o.seconds = std::max(1, std::atoi(v.c_str()));
    else if (a == "--tls")
      o.tls = v == "1.2" ? 12 : v == "1.3" ? 13 : -1;
    else
      usage();
  }
  if (o.port <= 0 || o.tls < 0) usage();
  return o;
}

int connect_tcp(const sockaddr_in& addr) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// One connection: handshake, request, answer. True when the answer was a 2xx.
bool one_exchange(SSL_CTX* ctx, const sockaddr_in& addr, const std::string& request, ThreadStats& st) {
  const int fd = connect_tcp(addr);
  if (fd < 0) return false;
  SSL* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  SSL_set_tlsext_host_name(ssl, "localhost");
  bool good = SSL_connect(ssl) == 1;
  if (good) {
    if (SSL_session_reused(ssl)) ++st.resumed;
    if (st.protocol.empty()) {
      st.protocol = SSL_get_version(ssl);
      st.cipher = SSL_get_cipher_name(ssl);
    }
    good = SSL_write(ssl, request.data(), static_cast<int>(request.size())) == static_cast<int>(request.size());
  }
  std::string head;
  if (good) {
    char buf[4096];
    for (;;) {
      const int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) break;
      if (head.size() < 16) head.append(buf, static_cast<std::size_t>(n));
    }
    good = head.size() >= 12 && head.compare(0, 5, "HTTP/") == 0 && head[9] == '2';
  }
  SSL_shutdown(ssl);
  SSL_free(ssl);
  ::close(fd);
  ERR_clear_error();
  return good;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
  if (::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) usage();

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);  // a self-signed benchmark certificate
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
  SSL_CTX_set_min_proto_version(ctx, o.tls == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(ctx, o.tls == 12 ? TLS1_2_VERSION : TLS1_3_VERSION);

  const std::string request = "GET " + o.path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
  std::vector<ThreadStats> stats(static_cast<std::size_t>(o.threads));
  std::atomic<bool> stop{false};
  const auto start = Steady::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      ThreadStats& st = stats[static_cast<std::size_t>(t)];
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = Steady::now();
        if (one_exchange(ctx, addr, request, st)) {
          ++st.ok;
          st.latency_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - t0).count());
        } else {
          ++st.failed;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
  stop = true;
  for (auto& th : threads) th.join();
  const double elapsed = std::chrono::duration<double>(Steady::now() - start).count();

  ThreadStats all;
  for (auto& st : stats) {
    all.ok += st.ok;
    all.failed += st.failed;
    all.resumed += st.resumed;
    all.latency_us.insert(all.latency_us.end(), st.latency_us.begin(), st.latency_us.end());
    if (all.protocol.empty()) {
      all.protocol = st.protocol;
      all.cipher = st.cipher;
    }
  }
  std::sort(all.latency_us.begin(), all.latency_us.end());
  auto pct = [&](double p) -> double {
    if (all.latency_us.empty()) return 0;
    const auto i = static_cast<std::size_t>(p * static_cast<double>(all.latency_us.size() - 1));
    return static_cast<double>(all.latency_us[i]) / 1000.0;
  };
  std::printf(
      "{\"handshakes_per_s\":%.1f,\"ok\":%llu,\"failed\":%llu,\"resumed\":%llu,\"p50_ms\":%.2f,"
      "\"p99_ms\":%.2f,\"threads\":%d,\"seconds\":%.1f,\"protocol\":\"%s\",\"cipher\":\"%s\"}\n",
      static_cast<double>(all.ok) / elapsed, static_cast<unsigned long long>(all.ok),
      static_cast<unsigned long long>(all.failed), static_cast<unsigned long long>(all.resumed), pct(0.5), pct(0.99),
      o.threads, elapsed, all.protocol.c_str(), all.cipher.c_str());
  SSL_CTX_free(ctx);
  return 0;
}
