#include "licence/claim_batcher.hpp"

#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace webstream::licence {

namespace net = boost::asio;

std::shared_ptr<ClaimBatcher> ClaimBatcher::create(SeatRegistry& seats, runtime::BlockingPool& blocking,
                                                   std::size_t max_batch) {
  return std::shared_ptr<ClaimBatcher>(new ClaimBatcher(seats, blocking, std::max<std::size_t>(1, max_batch)));
}

net::awaitable<Result<CheckinAnswer>> ClaimBatcher::checkin(std::string guid) {
  // The initiation is a named local, not a temporary inside the co_await (GCC 12 destroys those twice).
  net::any_io_executor caller = co_await net::this_coro::executor;
  auto initiation = [self = shared_from_this(), g = std::move(guid), caller](auto handler) mutable {
    self->enqueue(std::move(g), Handler(std::move(handler)), caller);
  };
  Result<CheckinAnswer> answer =
      co_await net::async_initiate<const net::use_awaitable_t<>, void(Result<CheckinAnswer>)>(std::move(initiation),
                                                                                              net::use_awaitable);
  co_return answer;
}

std::size_t ClaimBatcher::largest_batch() const {
  std::lock_guard lock(mutex_);
  return largest_batch_;
}

void ClaimBatcher::enqueue(std::string guid, Handler handler, net::any_io_executor caller) {
  net::any_io_executor work = net::prefer(caller, net::execution::outstanding_work.tracked);
  bool start = false;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Pending{std::move(guid), std::move(handler), std::move(work)});
    if (!draining_) {
      draining_ = true;
      start = true;
    }
  }
  if (start) net::post(blocking_.executor(), [self = shared_from_this()] { self->drain(); });
}

void ClaimBatcher::drain() {
  for (;;) {
    std::vector<Pending> batch;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) {
        draining_ = false;
        return;
      }
      const std::size_t n = std::min(queue_.size(), max_batch_);
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      largest_batch_ = std::max(largest_batch_, n);
    }
    std::vector<std::string> guids;
    guids.reserve(batch.size());
    for (const auto& p : batch) guids.push_back(p.guid);
    std::vector<Result<CheckinAnswer>> answers = seats_.checkin_many(guids);
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto ex = batch[i].work;
      net::post(ex, [h = std::move(batch[i].handler), a = std::move(answers[i]),
                     w = std::move(batch[i].work)]() mutable { std::move(h)(std::move(a)); });
    }
  }
}

}  // namespace webstream::licence
