#pragma once
// ClaimBatcher: group commit for new seats. A check-in that needs a seat (not a refresh) waits in a queue; one
// job on the BlockingPool takes everything queued (up to `max_batch`) and claims it in ONE store transaction
// (SeatRegistry::checkin_many), so 6,700 newcomers a second cost a few hundred fsyncs, not 6,700. Each claim
// is still counted against maxStreamers in turn inside that transaction, so the limit holds exactly.
//
// Thread rules: checkin() may be awaited from any executor; it resumes on that executor. At most one drain
// job runs at a time (it never holds more than one pool thread); the queue is guarded by mutex_. The batcher
// is shared (shared_from_this) with the jobs it posts, so it lives until the last one ends; the SeatRegistry
// and the BlockingPool must outlive it.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "licence/seat_registry.hpp"
#include "runtime/blocking_pool.hpp"

namespace webstream::licence {

class ClaimBatcher : public std::enable_shared_from_this<ClaimBatcher> {
 public:
  static std::shared_ptr<ClaimBatcher> create(SeatRegistry& seats, runtime::BlockingPool& blocking,
                                              std::size_t max_batch = 1024);

  // The check-in of `guid` (canonical) through the next batch. The same answers as SeatRegistry::checkin.
  boost::asio::awaitable<Result<CheckinAnswer>> checkin(std::string guid);

  // Largest batch written so far (tests, diagnostics).
  std::size_t largest_batch() const;

 private:
  using Handler = boost::asio::any_completion_handler<void(Result<CheckinAnswer>)>;
  struct Pending {
    std::string guid;
    Handler handler;
    boost::asio::any_io_executor
        work;  // the caller's executor, tracked: keeps the caller's executor busy until the answer is posted
  };

  ClaimBatcher(SeatRegistry& seats, runtime::BlockingPool& blocking, std::size_t max_batch)
      : seats_(seats), blocking_(blocking), max_batch_(max_batch) {}
  void enqueue(std::string guid, Handler handler, boost::asio::any_io_executor caller);
  void drain();  // on the pool: batches until the queue is empty

  SeatRegistry& seats_;
  runtime::BlockingPool& blocking_;
  const std::size_t max_batch_;
  mutable std::mutex mutex_;
  std::vector<Pending> queue_;     // GUARDED_BY(mutex_)
  bool draining_ = false;          // GUARDED_BY(mutex_): a drain job is posted or running
  std::size_t largest_batch_ = 0;  // GUARDED_BY(mutex_)
};

}  // namespace webstream::licence
