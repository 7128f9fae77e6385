#pragma once
// HealthProber: probes every registered backend (CONTRACT §4 "Health probes") and feeds the results to the
// Registry, whose pure state machine (health_state.hpp) decides the state and the next probe's delay.
//
// One coroutine per backend, all on one strand of the given executor: a slow or hanging backend only
// delays its own loop (its probe is cut off at healthCheck.timeout and counts as a failure), never
// another's. Probing never touches request handling: it only takes the registry's mutex briefly to record
// a result. New backends are probed at once (restarted backends are Unknown until then, so they are
// probed before routing); loops start and stop as backends come and go (Registry::on_membership_changed).
//
// Time: the probe timeout and the delay between probes are waits on a runtime::Timers (runtime/timers.hpp),
// steady timers in production; tests pass FakeTimers and drive the loops with a FakeClock.
//
// Thread rules: start() and stop() may be called from any thread. stop() cancels every loop; they end on
// the executor soon after. The Registry and the HealthProbe must outlive the executor's last run of the
// loops (stop(), then let the io_context finish, then destroy).
#include <boost/asio/any_io_executor.hpp>

#include <atomic>
#include <memory>

#include "registry/health_probe.hpp"
#include "registry/registry.hpp"
#include "runtime/timers.hpp"

namespace webstream::registry {

class HealthProber {
 public:
  HealthProber(boost::asio::any_io_executor executor, Registry& registry, HealthProbe& probe,
               runtime::Timers& timers = runtime::SteadyTimers::instance());
  ~HealthProber();
  HealthProber(const HealthProber&) = delete;
  HealthProber& operator=(const HealthProber&) = delete;

  // Starts a loop for every backend in the registry and follows membership changes.
  void start();
  // Cancels every loop (in-flight probes included). Idempotent.
  void stop();
  // Backends with a running probe loop (for tests and the admin view).
  std::size_t probing_count() const;

  struct Core;  // state shared with the loops (health_prober.cpp)

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace webstream::registry
