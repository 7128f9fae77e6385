#include "app/wiring.hpp"

#include "app/components.hpp"
#include "observability/log.hpp"

namespace webstream::app {

Result<std::unique_ptr<Components>> build_components(WiringContext& ctx) {
  auto c = std::make_unique<Components>();
  c->config = ctx.config;
  return c;
}

void start_components(Components&) {}

void reload(Components& c, const std::string& config_path, http::TlsContextProvider* tls) {
  config::Config next;
  try {
    next = config::load_xml(config_path);
  } catch (const config::ConfigError& e) {
    log::error("SIGHUP: the new configuration is refused; the old one stays", {{"error", e.what()}});
    return;
  }
  if (tls && next.tls.enabled()) {
    if (auto s = tls->reload(next.tls.pfx_file, next.tls.pfx_secret); !s) {
      log::error("SIGHUP: certificate not reloaded; the old one stays", {{"error", s.error().message}});
    } else {
      log::info("SIGHUP: certificate reloaded", {{"subject", tls->subject()}});
    }
  }
  c.config = std::move(next);
}

void stop_components_accepting(Components&) {}
void stop_components(Components&) {}
void flush_components(Components&) {}

}  // namespace webstream::app
