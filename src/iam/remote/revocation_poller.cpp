#include "iam/remote/revocation_poller.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>

#include "observability/log.hpp"

namespace webstream::iam {

namespace net = boost::asio;
namespace json = boost::json;

struct RevocationPoller::Core : std::enable_shared_from_this<RevocationPoller::Core> {
  Core(AmClient c, RevocationSink s, const Clock& clk, RevocationPollerOptions o)
      : client(std::move(c)), sink(std::move(s)), clock(clk), options(o) {}

  const AmClient client;
  const RevocationSink sink;
  const Clock& clock;
  const RevocationPollerOptions options;

  std::atomic<bool> stopping{false};
  std::atomic<bool> synced{false};
  std::atomic<bool> failing{false};
  std::atomic<Millis> last_success_ms{0};
  std::atomic<Millis> next_since{0};
  std::atomic<bool> more_pending{false};  // the last answer was a page with more to come

  // Loop-only state (the loop's executor).
  std::optional<net::any_io_executor> executor;
  std::unique_ptr<net::steady_timer> timer;
  bool poked = false;

  AmRequest request() const {
    AmRequest r;
    r.target = "/iam/internal/revocations?since=" + std::to_string(next_since.load());
    return r;
  }

  Status apply(std::string_view body) {
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) return Error{502, "access_management_error", "the revocation feed is not JSON"};
    const auto& o = v.as_object();
    const auto* now = o.if_contains("now");
    const auto* revoked = o.if_contains("revoked");
    const auto* cutoffs = o.if_contains("userCutoffs");
    const auto* more = o.if_contains("more");  // absent: a service from before paging, one whole answer
    if (!now || !now->is_int64() || !revoked || !revoked->is_array() || !cutoffs || !cutoffs->is_array() ||
        (more && !more->is_bool())) {
      return Error{502, "access_management_error", "the revocation feed answer is not one"};
    }
    const bool partial = more && more->get_bool();
    for (const auto& r : revoked->get_array()) {
      const auto* entry = r.if_object();
      if (!entry) continue;
      const auto* jti = entry->if_contains("jti");
      const auto* exp = entry->if_contains("exp");
      if (jti && jti->is_string() && exp && exp->is_int64() && sink.revoke) {
        sink.revoke(std::string(jti->get_string()), exp->get_int64());
      }
    }
    for (const auto& c : cutoffs->get_array()) {
      const auto* entry = c.if_object();
      if (!entry) continue;
      const auto* user = entry->if_contains("userId");
      const auto* not_before = entry->if_contains("notBefore");
      if (user && user->is_string() && not_before && not_before->is_int64() && sink.cutoff) {
        sink.cutoff(std::string(user->get_string()), not_before->get_int64());
      }
    }
    if (partial) {
      next_since.store(std::max<Millis>(0, now->get_int64()));
    } else {
      next_since.store(std::max<Millis>(0, now->get_int64() - options.overlap_ms));
      synced.store(true);
    }
    more_pending.store(partial);
    last_success_ms.store(clock.now_ms());
    return Status::success();
  }

  // Logs the start and the end of a run of failures (not every poll).
  Status settle(Result<AmReply> reply) {
    Status result;
    if (!reply) {
      result = reply.error();
    } else if (reply->status != 200) {
      result = reply_error(*reply, "access_management_error");
    } else {
      result = apply(reply->body);
    }
    if (!result && !failing.exchange(true)) {
      if (reply && reply->status == 401) {
        // Not an outage: the service refuses our key. Said as an error naming the setting, because after
        // the staleness limit every token is refused with access_management_unavailable.
        log::error(
            "access-management service refuses the gateway's service key (check accessManagement "
            "serviceKey on both sides); retrying",
            {{"status", 401}});
      } else {
        log::warn("access-management revocation feed unavailable; retrying",
                  {{"status", result.error().status}, {"error", result.error().message}});
      }
    } else if (result && failing.exchange(false)) {
      log::info("access-management revocation feed reachable again");
    }
    return result;
  }

  static net::awaitable<void> loop(std::shared_ptr<Core> self) {
    constexpr auto kToken = net::as_tuple(net::use_awaitable);
    self->timer = std::make_unique<net::steady_timer>(co_await net::this_coro::executor);
    while (!self->stopping.load()) {
      auto op = self->client.async_call(self->request(), self->options.timeout);
      auto reply = co_await std::move(op);
      if (self->stopping.load()) break;
      const bool ok = self->settle(std::move(reply)).ok();
      if (ok && self->more_pending.load()) continue;  // the next page at once
      if (self->poked) {
        self->poked = false;
        continue;
      }
      self->timer->expires_after(self->options.interval);
      auto [ec] = co_await self->timer->async_wait(kToken);
      (void)ec;  // cancelled: poked or stopping; the loop condition decides
      self->poked = false;
    }
  }
};

RevocationPoller::RevocationPoller(AmClient client, RevocationSink sink, const Clock& clock,
                                   RevocationPollerOptions options)
    : core_(std::make_shared<Core>(std::move(client), std::move(sink), clock, options)) {}

RevocationPoller::~RevocationPoller() { stop(); }

void RevocationPoller::start(net::any_io_executor executor) {
  core_->executor = executor;
  net::co_spawn(executor, Core::loop(core_), net::detached);
}

void RevocationPoller::stop() {
  core_->stopping.store(true);
  if (!core_->executor) return;
  net::post(*core_->executor, [core = core_] {
    if (core->timer) core->timer->cancel();
  });
}

void RevocationPoller::poke() {
  if (!core_->executor || core_->stopping.load()) return;
  net::post(*core_->executor, [core = core_] {
    core->poked = true;
    if (core->timer) core->timer->cancel();
  });
}

Status RevocationPoller::poll_blocking() {
  constexpr int kMaxPages = 1000;  // 10 million entries: far past any real log; bounds a misbehaving service
  for (int page = 0;; ++page) {
    auto reply = core_->client.call(core_->request(), core_->options.timeout);
    auto status = core_->settle(std::move(reply));
    if (!status || !core_->more_pending.load() || page + 1 >= kMaxPages) return status;
  }
}

Status RevocationPoller::apply(std::string_view body) { return core_->apply(body); }

bool RevocationPoller::synced() const { return core_->synced.load(); }

bool RevocationPoller::fresh() const {
  return core_->synced.load() &&
         core_->clock.now_ms() - core_->last_success_ms.load() <= core_->options.max_staleness_ms;
}

Millis RevocationPoller::next_since() const { return core_->next_since.load(); }

}  // namespace webstream::iam
