// Fuzz target: the body of POST /gateway/session/select (CONTRACT §7), parsed by sessions::parse_select as the
// route parses it. Properties: accepted or refused with 400 invalid_request (never another status, never a
// crash); an accepted request has a workspaceId of at most 128 bytes, an appId that is absent or
// non-empty (at most 128), appExe at most 1024 and appArgs at most 4096 bytes.
#include "fuzz_check.hpp"
#include "sessions/sessions_api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  using namespace webstream;
  auto r = sessions::parse_select(webstream::fuzz::as_text(data, size));
  if (!r) {
    FUZZ_CHECK(r.error().status == 400 && r.error().code == "invalid_request",
               "a refused select body answers " + std::to_string(r.error().status) + " " + r.error().code);
    return 0;
  }
  const auto& s = r.value();
  FUZZ_CHECK(s.workspace_id.size() <= 128, "workspaceId over 128 bytes");
  FUZZ_CHECK(!s.app_id || (!s.app_id->empty() && s.app_id->size() <= 128), "appId empty or over 128 bytes");
  FUZZ_CHECK(!s.workspace_type || s.workspace_type->size() <= 32, "workspaceType over 32 bytes");
  FUZZ_CHECK(!s.app_exe || s.app_exe->size() <= 1024, "appExe over 1024 bytes");
  FUZZ_CHECK(!s.app_args || s.app_args->size() <= 4096, "appArgs over 4096 bytes");
  return 0;
}
