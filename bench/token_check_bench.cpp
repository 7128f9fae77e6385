// token_check_bench: what one token check costs the gateway, in-process (issue 3). Uses the gateway's own
// auth::Authenticator over iam::TokenService (Ed25519 JWTs from an ephemeral KeyRing) and the SQLite user
// directory (a real file in a temp dir, like the gateway's store), timing plain loops with steady_clock:
//   cached       authenticate_token() on a token already verified (the cache hit: SHA-256 + shard lookup)
//   uncached     authenticate_token() on tokens never seen (Ed25519 verify + claims + one SQLite user read)
//   verify       TokenService::verify() alone (JWT parse + Ed25519 verify, no cache, no store)
//   user_lookup  StoreUserDirectory::find_by_id() alone (the SQLite read of the miss path)
//   cached_2t    the cache hit from 2 threads at once (wall time / total ops: shard locks, shared counters)
// Output: a human table on stderr and one JSON line on stdout.
// Usage: token_check_bench [--quick] [--iterations N]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "auth/authenticator.hpp"
#include "core/clock.hpp"
#include "iam/key_ring.hpp"
#include "iam/store_user_directory.hpp"
#include "iam/testing/seed.hpp"
#include "iam/token_service.hpp"
#include "observability/log.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_iam_store.hpp"
#include "store/sqlite/sqlite_token_store.hpp"

namespace {

using namespace webstream;
using Steady = std::chrono::steady_clock;

// Keeps the optimiser from dropping a result.
template <class T>
void keep(T const& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

template <class F>
double ns_per_op(std::size_t n, F&& body) {
  const auto t0 = Steady::now();
  for (std::size_t i = 0; i < n; ++i) body(i);
  const auto t1 = Steady::now();
  return std::chrono::duration<double, std::nano>(t1 - t0).count() / static_cast<double>(n);
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "token_check_bench: %s\n", what.c_str());
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t iterations = 200'000;
  std::size_t misses = 20'000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      iterations = 20'000;
      misses = 2'000;
    } else if (a == "--iterations" && i + 1 < argc) {
      iterations = std::strtoull(argv[++i], nullptr, 10);
      misses = std::max<std::size_t>(1, iterations / 10);
    } else {
      fail("usage: token_check_bench [--quick] [--iterations N]");
    }
  }
  log::set_min_level(log::Level::kError);

  const auto dir = std::filesystem::temp_directory_path() / ("token-check-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  double cached = 0, uncached = 0, verify = 0, lookup = 0, cached_2t = 0;
  {
    auto db = store::SqliteDb::open((dir / "bench.db").string());
    if (!db) fail(db.error().message);
    auto iam_store = store::SqliteIamStore::open(**db);
    if (!iam_store) fail(iam_store.error().message);
    auto token_store = store::SqliteTokenStore::open(**db);
    if (!token_store) fail(token_store.error().message);
    iam::testing::Seed seed(**iam_store);
    seed.org("org-1");
    for (int u = 0; u < 100; ++u) seed.user("u-" + std::to_string(u), "org-1");

    const webstream::Clock& clock = SystemClock::instance();
    auto ring = iam::KeyRing::ephemeral();
    iam::TokenService tokens(*ring, clock, iam::TokenOptions{"webstream", 3600, 60});
    iam::StoreUserDirectory users(**iam_store);
    auth::AuthenticatorOptions options;
    options.max_cached_tokens = misses * 2 + 1024;  // the misses never evict each other
    auth::Authenticator authenticator(tokens, users, **token_store, clock, options);
    if (auto s = authenticator.load(); !s) fail(s.error().message);

    auto token_of = [&](std::size_t i) {
      auto user = users.find_by_id("u-" + std::to_string(i % 100));
      if (!user || !user.value()) fail("seeded user missing");
      return tokens.issue(*user.value()).jwt;
    };
    // Every issued token has its own jti, so each one is a cache miss the first time.
    std::vector<std::string> fresh(misses);
    for (std::size_t i = 0; i < misses; ++i) fresh[i] = token_of(i);
    std::vector<std::string> warm(64);
    for (std::size_t i = 0; i < warm.size(); ++i) {
      warm[i] = token_of(i);
      if (!authenticator.authenticate_token(warm[i])) fail("a fresh token was refused");
    }

    verify = ns_per_op(misses, [&](std::size_t i) {
      auto p = tokens.verify(fresh[i]);
      if (!p) fail("verify refused a fresh token");
      keep(p);
    });
    lookup = ns_per_op(misses, [&](std::size_t i) {
      auto u = users.find_by_id("u-" + std::to_string(i % 100));
      keep(u);
    });
    uncached = ns_per_op(misses, [&](std::size_t i) {
      auto p = authenticator.authenticate_token(fresh[i]);
      if (!p) fail("authenticate refused a fresh token");
      keep(p);
    });
    cached = ns_per_op(iterations, [&](std::size_t i) {
      auto p = authenticator.authenticate_token(warm[i % warm.size()]);
      keep(p);
    });
    {
      const auto t0 = Steady::now();
      std::vector<std::thread> threads;
      for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
          for (std::size_t i = 0; i < iterations; ++i) {
            auto p = authenticator.authenticate_token(warm[(i * 2 + t) % warm.size()]);
            keep(p);
          }
        });
      }
      for (auto& th : threads) th.join();
      cached_2t = std::chrono::duration<double, std::nano>(Steady::now() - t0).count() / (2.0 * iterations);
    }
  }
  std::filesystem::remove_all(dir);

  std::fprintf(stderr, "token check, ns per op (%zu cached ops, %zu uncached)\n", iterations, misses);
  std::fprintf(stderr, "  cached (cache hit)                   %10.0f\n", cached);
  std::fprintf(stderr, "  uncached (verify + SQLite user read) %10.0f\n", uncached);
  std::fprintf(stderr, "  JWT verify only (Ed25519)            %10.0f\n", verify);
  std::fprintf(stderr, "  user lookup only (SQLite read)       %10.0f\n", lookup);
  std::fprintf(stderr, "  cached, 2 threads at once (per op)   %10.0f\n", cached_2t);
  std::printf(
      "{\"cached_ns\":%.1f,\"uncached_ns\":%.1f,\"verify_ns\":%.1f,\"user_lookup_ns\":%.1f,"
      "\"cached_2t_ns\":%.1f,\"iterations\":%zu,\"misses\":%zu}\n",
      cached, uncached, verify, lookup, cached_2t, iterations, misses);
  return 0;
}
