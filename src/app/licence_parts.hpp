#pragma once
// LicenceParts: the licence registry's pieces (store, seats, sweeper) and their routes, built together.
#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <vector>

#include "app/wiring.hpp"
#include "licence/seat_registry.hpp"
#include "licence/seat_sweeper.hpp"
#include "store/licence_store.hpp"

namespace webstream::app {

struct LicenceParts {
  std::unique_ptr<store::LicenceStore> store;
  std::unique_ptr<licence::SeatRegistry> seats;
  std::unique_ptr<licence::SeatSweeper> sweeper;

  void start(boost::asio::any_io_executor executor) { sweeper->start(executor); }
  void stop() { sweeper->stop(); }
  void reload(const config::LicenseConfig& next) { seats->reload_licence(next.file); }
  // At shutdown: write batched refreshes so a restarted gateway does not lose seats.
  void flush() { (void)seats->expire_silent(); }
};

using KeyListSource = std::function<std::shared_ptr<const std::vector<config::NamedKey>>()>;

Result<std::unique_ptr<LicenceParts>> build_licence_parts(WiringContext& ctx, runtime::BlockingPool& blocking,
                                                          KeyListSource backend_keys);

}  // namespace webstream::app
