#include "iam/sodium_init.hpp"

#include <sodium.h>

#include <mutex>
#include <stdexcept>

namespace webstream::iam {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
  });
}

}  // namespace webstream::iam
