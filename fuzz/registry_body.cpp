// Fuzz target: the backend registry's JSON bodies (CONTRACT §4) — POST /gateway/register, /heartbeat and
// /unregister, parsed by the functions the routes call. The first byte picks the endpoint, the rest is the
// body. Properties: a body is accepted or refused with 400 invalid_request (never another status, never a
// crash); an accepted serverUrl is an absolute http(s) URL that normalises to itself (one backend, one
// identity) and maxSessions stays within 0..100000.
#include "fuzz_check.hpp"
#include "registry/registry_api.hpp"
#include "registry/server_url.hpp"

namespace {

using namespace webstream;

void check_url(const std::string& url) {
  FUZZ_CHECK(url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0, "serverUrl is not http(s): " + url);
  FUZZ_CHECK(url.size() <= registry::kMaxServerUrlBytes, "serverUrl longer than its limit");
  auto again = registry::normalize_server_url(url);
  FUZZ_CHECK(again.ok() && again.value() == url, "a normalised serverUrl does not normalise to itself: " + url);
}

void check_report(const Result<registry::BackendReport>& r) {
  if (!r) {
    FUZZ_CHECK(r.error().status == 400, "a refused body answers " + std::to_string(r.error().status));
    return;
  }
  check_url(r.value().server_url);
  if (r.value().max_sessions) {
    FUZZ_CHECK(*r.value().max_sessions >= 0 && *r.value().max_sessions <= 100000, "maxSessions out of range");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (size == 0) return 0;
  const auto body = webstream::fuzz::as_text(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: check_report(registry::parse_register_body(body)); break;
    case 1: check_report(registry::parse_heartbeat_body(body)); break;
    default: {
      auto url = registry::parse_unregister_body(body);
      if (url) {
        check_url(url.value());
      } else {
        FUZZ_CHECK(url.error().status == 400,
                   "a refused unregister body answers " + std::to_string(url.error().status));
      }
    }
  }
  return 0;
}
