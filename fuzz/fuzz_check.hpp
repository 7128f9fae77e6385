#pragma once
// Shared by the libFuzzer targets (docs/dev/fuzzing.md): FUZZ_CHECK(cond, what) reports a broken property
// and aborts, which libFuzzer records as a crash with the input that caused it.
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(cond, what)                                                                 \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   std::string_view(what).data());                                             \
      std::abort();                                                                            \
    }                                                                                          \
  } while (false)

namespace webstream::fuzz {

inline std::string_view as_text(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace webstream::fuzz
