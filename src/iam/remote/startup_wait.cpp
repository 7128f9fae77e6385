#include "iam/remote/startup_wait.hpp"

#include <thread>

namespace webstream::iam {

using namespace std::chrono_literals;

Status wait_for_access_management(JwksTokenVerifier& verifier, RevocationPoller& poller,
                                  std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  Status keys = Error::internal("not tried");
  Status feed = Error::internal("not tried");
  while (true) {
    if (!keys) keys = verifier.refresh(1000ms);
    if (!feed) feed = poller.poll_blocking();
    if ((keys && feed) || std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(250ms);
  }
  if (!keys) return keys.error();
  if (!feed) return feed.error();
  return Status::success();
}

}  // namespace webstream::iam
