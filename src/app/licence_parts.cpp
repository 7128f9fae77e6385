#include "app/licence_parts.hpp"

#include "licence/licence_api.hpp"

namespace webstream::app {

Result<std::unique_ptr<LicenceParts>> build_licence_parts(WiringContext& ctx, runtime::BlockingPool& blocking,
                                                          KeyListSource backend_keys) {
  auto parts = std::make_unique<LicenceParts>();
  auto store = ctx.stores.licence();
  if (!store) return store.error();
  parts->store = std::move(store.value());
  licence::SeatOptions options;
  options.licence_file = ctx.config.license.file;
  options.streamer_timeout_ms = static_cast<Millis>(ctx.config.license.streamer_timeout_s) * 1000;
  auto seats = licence::SeatRegistry::open(*parts->store, SystemClock::instance(), options);
  if (!seats) return seats.error();
  parts->seats = std::move(seats.value());
  parts->sweeper = std::make_unique<licence::SeatSweeper>(*parts->seats, blocking);
  licence::register_licence_routes(ctx.router, *parts->seats, blocking, std::move(backend_keys));
  return parts;
}

}  // namespace webstream::app
