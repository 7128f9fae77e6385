// store_bench: the store layer's throughput on SQLite and on PostgreSQL, in process (issue 12). Printed, not
// asserted. What one gateway's store does per user action:
//   select+release — SessionStore::reserve (user, org and backend limits decided in one transaction) then
//                    set_state(released), from `threads` threads (the gateway's BlockingPool has 2);
//   new check-ins  — LicenceStore::claim_seats in batches of `batch` new streamers (the claim batcher's shape);
//   refreshes      — LicenceStore::flush_and_expire of `batch` known streamers (pipeline mode on PostgreSQL).
// PostgreSQL is a throwaway local server (initdb/pg_ctl) with fsync and synchronous_commit ON, like SQLite's
// temp file with synchronous=FULL: both pay one durable commit per transaction on the same disk.
//   store_bench [--seconds 3] [--threads 2] [--batch 64] [--only sqlite|postgresql]
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "core/clock.hpp"
#include "store/postgres/testing/pg_test_server.hpp"
#include "store/store_provider.hpp"

using namespace webstream;
using Steady = std::chrono::steady_clock;

namespace {

struct Options {
  double seconds = 3;
  int threads = 2;
  int batch = 64;
  std::string only;
};

// Runs op(thread, i) on `threads` threads for `seconds`; returns completed ops per second (op returns false on error).
double rate(const Options& o, int threads, const std::function<bool(int, long)>& op, long* errors) {
  std::atomic<long> done{0};
  std::atomic<long> failed{0};
  const auto until = Steady::now() + std::chrono::duration<double>(o.seconds);
  const auto start = Steady::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (long i = 0; Steady::now() < until; ++i) {
        if (op(t, i)) {
          ++done;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& th : pool) th.join();
  *errors += failed.load();
  return static_cast<double>(done.load()) / std::chrono::duration<double>(Steady::now() - start).count();
}

std::string guid(long n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012lx", n);
  return buf;
}

void run(const Options& o, const std::string& name, store::StoreProvider& p) {
  long errors = 0;
  auto sessions = p.sessions().value();
  auto* s = sessions.get();
  const Millis now = webstream::SystemClock::instance().now_ms();
  const double select_release = rate(
      o, o.threads,
      [&](int t, long i) {
        store::SessionRecord r;
        r.id = name + "-" + std::to_string(t) + "-" + std::to_string(i);
        r.user_id = "u-" + std::to_string(t) + "-" + std::to_string(i % 1000);
        r.org_id = "org-1";
        r.workspace_id = "ws-1";
        r.app_id = "app-1";
        r.backend_id = "b-" + std::to_string(i % 8);
        r.created_at = now;
        store::ReserveLimits l;
        l.user_max = 1;
        l.org_max = 1'000'000;
        l.backend_max = 1'000'000;
        if (!s->reserve(r, l).ok()) return false;
        return s->set_state(r.id, store::kReleased, now).ok();
      },
      &errors);

  auto licence = p.licence().value();
  std::atomic<long> next{0};
  const double claims = rate(
                            o, 1,
                            [&](int, long) {
                              std::vector<std::string> guids;
                              for (int k = 0; k < o.batch; ++k) guids.push_back(guid(next++));
                              return licence->claim_seats(guids, now, now - 45'000, 10'000'000).ok();
                            },
                            &errors) *
                        o.batch;
  const long held = next.load();
  std::atomic<long> cursor{0};
  const double refreshes = rate(
                               o, 1,
                               [&](int, long) {
                                 std::vector<store::SeatTouch> touches;
                                 for (int k = 0; k < o.batch; ++k) touches.push_back({guid(cursor++ % held), now + 1});
                                 return licence->flush_and_expire(touches, now - 45'000, 10'000'000).ok();
                               },
                               &errors) *
                           o.batch;
  std::printf("| %-10s | %9.0f | %11.0f | %10.0f | %6ld |\n", name.c_str(), select_release, claims, refreshes, errors);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seconds"))
      o.seconds = std::atof(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads"))
      o.threads = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--batch"))
      o.batch = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--only"))
      o.only = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: store_bench [--seconds 3] [--threads 2] [--batch 64] [--only sqlite|postgresql]\n");
      return 2;
    }
  }
  std::printf("store_bench: %.1f s per figure, %d threads for select+release, batches of %d\n", o.seconds, o.threads,
              o.batch);
  std::printf("| store      | select+release/s | new check-ins/s | refreshes/s | errors |\n");
  std::printf("|---|---:|---:|---:|---:|\n");
  if (o.only.empty() || o.only == "sqlite") {
    const auto path =
        (std::filesystem::temp_directory_path() / ("store_bench_" + std::to_string(::getpid()) + ".db")).string();
    {
      auto p = store::open_sqlite_provider(path);
      if (!p) {
        std::fprintf(stderr, "sqlite: %s\n", p.error().message.c_str());
        return 1;
      }
      run(o, "sqlite", **p);
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }
  if (o.only.empty() || o.only == "postgresql") {
    auto server = store::pg::testing::PgTestServer::start(/*durable=*/true);
    if (!server) {
      std::fprintf(stderr, "postgresql: %s\n", server.error().message.c_str());
      return 1;
    }
    auto db = (*server)->create_database();
    if (!db) {
      std::fprintf(stderr, "postgresql: %s\n", db.error().message.c_str());
      return 1;
    }
    auto p = store::open_postgres_provider(*db, webstream::SystemClock::instance());
    if (!p) {
      std::fprintf(stderr, "postgresql: %s\n", p.error().message.c_str());
      return 1;
    }
    run(o, "postgresql", **p);
  }
  return 0;
}
