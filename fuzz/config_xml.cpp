// Fuzz target: app.config.xml loading (CONTRACT §3) — the operator's file, read with load_xml_text exactly as
// load_xml reads it. Property: the loader either returns a Config or throws ConfigError (the message the
// gateway prints before exit 2); any other exception, crash or sanitizer report is a bug.
#include <string>

#include "config/config.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string text(webstream::fuzz::as_text(data, size));
  try {
    const auto config = webstream::config::load_xml_text(text, "/etc/webstream", "app.config.xml");
    FUZZ_CHECK(!config.storage.path.empty() && config.storage.path.front() == '/',
               "storage.path is absolute after loading");
    FUZZ_CHECK(config.license.file.empty() || config.license.file.front() == '/',
               "license.file is absolute after loading");
  } catch (const webstream::config::ConfigError&) {
    // the documented refusal
  }
  return 0;
}
