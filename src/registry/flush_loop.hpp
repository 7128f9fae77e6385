#pragma once
// FlushLoop: writes the registry's in-memory heartbeat refreshes to the store every `period`
// (Registry::flush() on the blocking pool, never on an I/O thread). See registry.hpp "Persistence". With
// `sync_from_store` (several gateways on one store) each round then reads what the other gateways wrote
// (Registry::sync_from_store()).
//
// wake(): end the current wait, so the round (flush, then read) runs now: another gateway changed the registry
// (a change notification, store/change_feed.hpp). A wake while a round runs is absorbed by it.
//
// Thread rules: start()/stop()/wake() from any thread. stop() cancels the wait; it does not flush: at shutdown
// the gateway calls Registry::flush() itself once the listeners are closed. The Registry and BlockingPool
// must outlive the executor's last run of the loop.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>

#include "registry/registry.hpp"
#include "runtime/blocking_pool.hpp"

namespace webstream::registry {

class FlushLoop {
 public:
  FlushLoop(boost::asio::any_io_executor executor, runtime::BlockingPool& blocking, Registry& registry,
            std::chrono::milliseconds period, bool sync_from_store = false);
  ~FlushLoop();
  FlushLoop(const FlushLoop&) = delete;
  FlushLoop& operator=(const FlushLoop&) = delete;

  void start();
  void stop();
  void wake();

  struct Core;

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace webstream::registry
