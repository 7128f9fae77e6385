#include "iam/remote/jwks_refresher.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <optional>

#include "observability/log.hpp"

namespace webstream::iam {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto kJwksRetry = 2s;      // background fetch while no key set is loaded
constexpr auto kJwksRefresh = 300s;  // background re-fetch afterwards (picks up dropped keys)
constexpr auto kFetchTimeout = 2000ms;

}  // namespace

JwksFetch am_jwks_fetch(const AmClient& client) {
  const AmClient* c = &client;
  return [c](std::chrono::milliseconds timeout) -> Result<std::string> {
    AmRequest request;
    request.target = "/iam/.well-known/jwks.json";
    auto reply = c->call(request, timeout);
    if (!reply) return reply.error();
    if (reply->status != 200) return reply_error(*reply, "access_management_error");
    return std::move(reply->body);
  };
}

// Shared with the running coroutine, so stop() and the destructor never race its last wake-up.
struct JwksRefresher::Loop {
  std::atomic<bool> stopping{false};
  std::unique_ptr<net::steady_timer> timer;
  std::optional<net::any_io_executor> executor;

  static net::awaitable<void> run(std::shared_ptr<Loop> self, JwksTokenVerifier* verifier,
                                  runtime::BlockingPool* blocking) {
    constexpr auto kToken = net::as_tuple(net::use_awaitable);
    self->timer = std::make_unique<net::steady_timer>(co_await net::this_coro::executor);
    while (!self->stopping.load()) {
      self->timer->expires_after(verifier->ready() ? std::chrono::duration_cast<std::chrono::milliseconds>(kJwksRefresh)
                                                   : std::chrono::duration_cast<std::chrono::milliseconds>(kJwksRetry));
      auto [ec] = co_await self->timer->async_wait(kToken);
      (void)ec;
      if (self->stopping.load()) break;
      auto work = [verifier] { return verifier->refresh(kFetchTimeout); };
      auto status = co_await blocking->run(std::move(work));
      if (!status) log::debug("access-management JWKS fetch failed", {{"error", status.error().message}});
    }
  }
};

JwksRefresher::JwksRefresher(JwksTokenVerifier& verifier, runtime::BlockingPool& blocking)
    : verifier_(verifier), blocking_(blocking), loop_(std::make_shared<Loop>()) {}

JwksRefresher::~JwksRefresher() = default;

void JwksRefresher::start(net::any_io_executor executor) {
  loop_->executor = executor;
  net::co_spawn(executor, Loop::run(loop_, &verifier_, &blocking_), net::detached);
}

void JwksRefresher::stop() {
  loop_->stopping.store(true);
  if (loop_->executor) {
    net::post(*loop_->executor, [loop = loop_] {
      if (loop->timer) loop->timer->cancel();
    });
  }
}

}  // namespace webstream::iam
