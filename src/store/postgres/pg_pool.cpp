#include "store/postgres/pg_pool.hpp"

#include <chrono>
#include <random>
#include <thread>

namespace webstream::store::pg {

Error store_unavailable(const std::string& why) {
  Error e{503, "store_unavailable", "the store is unavailable: " + why};
  e.retry_after = 2;
  return e;
}

PgLease::~PgLease() {
  if (pool_ && conn_) pool_->give_back(std::move(conn_));
}

Result<std::unique_ptr<PgPool>> PgPool::open(std::string conninfo, std::size_t size, std::string setting) {
  std::unique_ptr<PgPool> pool(new PgPool(std::move(conninfo), std::move(setting)));
  pool->size_ = size == 0 ? 1 : size;
  for (std::size_t i = 0; i < pool->size_; ++i) {
    auto conn = PgConnection::open(pool->conninfo_, pool->setting_);
    if (!conn) return conn.error();
    pool->idle_.push_back(std::move(conn.value()));
  }
  return pool;
}

PgPool::~PgPool() = default;

Result<PgLease> PgPool::acquire() {
  std::unique_ptr<PgConnection> conn;
  {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty(); });
    conn = std::move(idle_.back());
    idle_.pop_back();
  }
  PgLease lease(this, std::move(conn));
  if (!lease->healthy() && !lease->reset()) {
    reachable_.store(false, std::memory_order_relaxed);
    return store_unavailable("cannot reach PostgreSQL (" + setting_ + ")");
  }
  return lease;
}

void PgPool::give_back(std::unique_ptr<PgConnection> conn) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(conn));
  }
  available_.notify_one();
}

Status PgPool::ping() {
  return read([](PgConnection& c) -> Status {
    c.exec_script("SELECT 1");
    return Status::success();
  });
}

Error PgPool::to_error(const PgError& e) {
  if (e.connection_lost) {
    reachable_.store(false, std::memory_order_relaxed);
    return store_unavailable("lost the connection to PostgreSQL (" + setting_ + ")");
  }
  if (e.sqlstate == kUniqueViolation) return Error{409, "conflict", "conflicts with an existing object"};
  if (e.sqlstate == kSerializationFailure || e.sqlstate == kDeadlockDetected) {
    Error busy = store_unavailable("too much contention, try again");
    return busy;
  }
  return Error::internal("store: " + e.message + (e.sqlstate.empty() ? "" : " (" + e.sqlstate + ")"));
}

void PgPool::backoff(int attempt) {
  // Jittered, growing: two transactions that conflicted do not meet again on the same beat.
  thread_local std::minstd_rand rng(std::random_device{}());
  const int cap = 2 << std::min(attempt, 6);  // 4 … 128 ms
  std::uniform_int_distribution<int> ms(1, cap);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
}

}  // namespace webstream::store::pg
