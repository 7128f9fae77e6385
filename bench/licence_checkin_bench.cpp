// licence_checkin_bench: simulated streamers checking in with the gateway's licence registry (issue 4).
//   licence_checkin_bench --port 9000[,9001,…] [--host 127.0.0.1] [--streamers 100000] [--period 15]
//                         [--seconds 60] [--connections 64] [--key BACKEND_KEY] [--pid GATEWAY_PID[,…]]
// Each streamer has a random GUID and checks in every `period` seconds, spread evenly, so the offered rate is
// streamers / period (100,000 / 15 s ≈ 6,700 req/s). The first period is every streamer's first check-in (a new
// seat: a store transaction each); after that they are refreshes. Requests go over `connections` keep-alive
// connections; each request's latency is measured from the moment it was DUE, so a gateway that falls behind
// shows it in the percentiles (no coordinated omission).
// Several ports (gateways on one PostgreSQL, issue 12): connection c goes to port c mod N, so the streamers are spread
// round robin over the gateways. With --pid, the gateways' CPU time over the run is read from /proc (summed over
// the pids). /metrics of every port is scraped before and after for the licence store's write counters (summed).
// Output: one JSON object on stdout.
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using namespace std::chrono;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

struct Options {
  std::string host = "127.0.0.1";
  std::vector<std::string> ports{"9000"};
  int streamers = 100'000;
  double period_s = 15;
  int seconds = 60;
  int connections = 64;
  std::string key;
  std::vector<int> pids;
};

std::vector<std::string> split_commas(const std::string& v) {
  std::vector<std::string> out;
  std::string::size_type at = 0;
  while (at <= v.size()) {
    const auto comma = v.find(',', at);
    const auto end = comma == std::string::npos ? v.size() : comma;
    if (end > at) out.push_back(v.substr(at, end - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

struct Stats {
  std::vector<std::int64_t> latency_us;         // every answered request
  std::vector<std::int64_t> steady_latency_us;  // after the first period (refreshes)
  std::map<unsigned, std::uint64_t> statuses;
  std::uint64_t errors = 0;
};

std::string random_guid(std::mt19937_64& rng) {
  const std::uint64_t a = rng(), b = rng();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((b >> 48) & 0x3fff)),
                static_cast<unsigned long long>(b & 0xffffffffffffULL));
  return buf;
}

net::awaitable<bool> connect(beast::tcp_stream& s, const tcp::resolver::results_type& endpoints) {
  s.expires_after(seconds(5));
  auto [ec, ep] = co_await s.async_connect(endpoints, kNoThrow);
  co_return !ec;
}

// One keep-alive connection serving streamers c, c + C, c + 2C, …: each at its own due time.
net::awaitable<void> run_connection(int c, const Options& o, const std::vector<std::string>& guids,
                                    tcp::resolver::results_type endpoints, steady_clock::time_point start, Stats& st) {
  auto ex = co_await net::this_coro::executor;
  beast::tcp_stream stream(ex);
  bool open = co_await connect(stream, endpoints);
  net::steady_timer timer(ex);
  beast::flat_buffer buffer;
  const auto period = duration_cast<nanoseconds>(duration<double>(o.period_s));
  const auto end = start + seconds(o.seconds);
  const int n = static_cast<int>(guids.size());
  // Due times: streamer i at start + i/n·period + k·period.
  for (std::int64_t k = 0;; ++k) {
    for (int i = c; i < n; i += o.connections) {
      const auto due = start + period * k + period * i / n;
      if (due >= end) co_return;
      if (steady_clock::now() < due) {
        timer.expires_at(due);
        co_await timer.async_wait(kNoThrow);
      }
      if (!open) {
        stream.close();
        open = co_await connect(stream, endpoints);
        if (!open) {
          ++st.errors;
          continue;
        }
      }
      http::request<http::string_body> req{http::verb::post, "/gateway/license/streamer-checkin", 11};
      req.set(http::field::host, o.host);
      req.set(http::field::content_type, "application/json");
      if (!o.key.empty()) req.set("X-Backend-Key", o.key);
      req.body() = "{\"streamerGuid\":\"" + guids[i] + "\"}";
      req.keep_alive(true);
      req.prepare_payload();
      stream.expires_after(seconds(30));
      auto [wec, wn] = co_await http::async_write(stream, req, kNoThrow);
      http::response<http::string_body> res;
      boost::system::error_code rec;
      if (!wec) {
        auto [ec2, rn] = co_await http::async_read(stream, buffer, res, kNoThrow);
        rec = ec2;
      }
      if (wec || rec) {
        ++st.errors;
        open = false;
        continue;
      }
      const auto us = duration_cast<microseconds>(steady_clock::now() - due).count();
      st.latency_us.push_back(us);
      if (k > 0) st.steady_latency_us.push_back(us);
      ++st.statuses[res.result_int()];
      if (!res.keep_alive()) open = false;
    }
  }
}

double percentile(std::vector<std::int64_t>& v, double p) {
  if (v.empty()) return 0;
  const auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(idx), v.end());
  return static_cast<double>(v[idx]) / 1000.0;
}

boost::json::object latency_ms(std::vector<std::int64_t> v) {
  boost::json::object o;
  o["count"] = v.size();
  o["p50"] = percentile(v, 0.50);
  o["p90"] = percentile(v, 0.90);
  o["p99"] = percentile(v, 0.99);
  o["max"] = v.empty() ? 0.0 : static_cast<double>(*std::max_element(v.begin(), v.end())) / 1000.0;
  return o;
}

// Sum of the samples of `name` in a Prometheus text page (every label set).
std::map<std::string, double> scrape(const Options& o, const std::string& port) {
  std::map<std::string, double> out;
  try {
    net::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream s(io);
    s.connect(resolver.resolve(o.host, port));
    http::request<http::empty_body> req{http::verb::get, "/metrics", 11};
    req.set(http::field::host, o.host);
    http::write(s, req);
    beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(s, b, res);
    std::istringstream in(res.body());
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#') continue;
      const auto name_end = line.find_first_of("{ ");
      const auto value_at = line.rfind(' ');
      if (name_end == std::string::npos || value_at == std::string::npos) continue;
      std::string name = line.substr(0, name_end);
      if (line[name_end] == '{') {
        const auto close = line.find('}', name_end);
        if (close != std::string::npos) name += line.substr(name_end, close - name_end + 1);
      }
      out[name] += std::atof(line.c_str() + value_at + 1);
    }
  } catch (const std::exception&) {}
  return out;
}

double cpu_seconds_of(int pid) {
  if (pid <= 0) return 0;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(text.substr(close + 2));
  std::vector<std::string> fields;
  std::string field;
  while (in >> field) fields.push_back(field);
  if (fields.size() < 13) return 0;
  // After ")": state is field 3 of stat; utime and stime are fields 14 and 15 → indices 11 and 12 here.
  return (std::stod(fields[11]) + std::stod(fields[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double cpu_seconds(const std::vector<int>& pids) {
  double total = 0;
  for (int pid : pids) total += cpu_seconds_of(pid);
  return total;
}

// The pages of every port, summed.
std::map<std::string, double> scrape_all(const Options& o) {
  std::map<std::string, double> out;
  for (const auto& port : o.ports) {
    for (const auto& [name, value] : scrape(o, port)) out[name] += value;
  }
  return out;
}

int usage() {
  std::fprintf(stderr,
               "usage: licence_checkin_bench --port P[,P2,…] [--host H] [--streamers N] [--period S] [--seconds D]\n"
               "                             [--connections C] [--key BACKEND_KEY] [--pid GATEWAY_PID[,…]]\n");
  return 2;
}

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage();
    const std::string v = argv[++i];
    if (a == "--host")
      o.host = v;
    else if (a == "--port")
      o.ports = split_commas(v);
    else if (a == "--streamers")
      o.streamers = std::stoi(v);
    else if (a == "--period")
      o.period_s = std::stod(v);
    else if (a == "--seconds")
      o.seconds = std::stoi(v);
    else if (a == "--connections")
      o.connections = std::stoi(v);
    else if (a == "--key")
      o.key = v;
    else if (a == "--pid") {
      o.pids.clear();
      for (const auto& pid : split_commas(v)) o.pids.push_back(std::stoi(pid));
    } else
      return usage();
  }
  if (o.streamers < 1 || o.connections < 1 || o.period_s <= 0 || o.seconds < 1 || o.ports.empty()) return usage();
  std::mt19937_64 rng(std::random_device{}());
  std::vector<std::string> guids;
  guids.reserve(static_cast<std::size_t>(o.streamers));
  for (int i = 0; i < o.streamers; ++i) guids.push_back(random_guid(rng));

  net::io_context io(1);
  tcp::resolver resolver(io);
  std::vector<tcp::resolver::results_type> endpoints;
  for (const auto& port : o.ports) endpoints.push_back(resolver.resolve(o.host, port));
  const auto before = scrape_all(o);
  const double cpu_before = cpu_seconds(o.pids);
  std::vector<Stats> stats(static_cast<std::size_t>(o.connections));
  const auto start = steady_clock::now() + milliseconds(200);
  for (int c = 0; c < o.connections; ++c) {
    const auto& to = endpoints[static_cast<std::size_t>(c) % endpoints.size()];
    net::co_spawn(io, run_connection(c, o, guids, to, start, stats[static_cast<std::size_t>(c)]), net::detached);
  }
  io.run();
  const double wall = duration<double>(steady_clock::now() - start).count();
  const double cpu = cpu_seconds(o.pids) - cpu_before;
  const auto after = scrape_all(o);

  Stats all;
  for (auto& s : stats) {
    all.latency_us.insert(all.latency_us.end(), s.latency_us.begin(), s.latency_us.end());
    all.steady_latency_us.insert(all.steady_latency_us.end(), s.steady_latency_us.begin(), s.steady_latency_us.end());
    for (auto [code, n] : s.statuses) all.statuses[code] += n;
    all.errors += s.errors;
  }
  auto delta = [&](const std::string& name) {
    auto a = after.find(name);
    auto b = before.find(name);
    return (a == after.end() ? 0.0 : a->second) - (b == before.end() ? 0.0 : b->second);
  };
  boost::json::object out;
  out["gateways"] = o.ports.size();
  out["streamers"] = o.streamers;
  out["periodSeconds"] = o.period_s;
  out["seconds"] = wall;
  out["offeredRate"] = o.streamers / o.period_s;
  out["achievedRate"] = static_cast<double>(all.latency_us.size()) / wall;
  boost::json::object statuses;
  for (auto [code, n] : all.statuses) statuses[std::to_string(code)] = n;
  out["statuses"] = statuses;
  out["errors"] = all.errors;
  out["latencyMs"] = latency_ms(all.latency_us);
  out["refreshLatencyMs"] = latency_ms(all.steady_latency_us);
  if (!o.pids.empty()) {
    out["gatewayCpuSeconds"] = cpu;
    out["gatewayCpuPercentOfOneCore"] = 100.0 * cpu / wall;
  }
  const double claims = delta("webstream_licence_store_transactions_total{kind=\"claim\"}");
  const double flushes = delta("webstream_licence_store_transactions_total{kind=\"flush\"}");
  const double rows = delta("webstream_licence_seat_refreshes_written_total");
  out["storeClaimTransactions"] = claims;
  out["storeFlushTransactions"] = flushes;
  out["storeTransactionsPerSecond"] = (claims + flushes) / wall;
  out["storeRefreshRowsWrittenPerSecond"] = rows / wall;
  std::printf("%s\n", boost::json::serialize(out).c_str());
  return all.errors == 0 ? 0 : 1;
}
