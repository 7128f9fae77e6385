#pragma once
// The mapping between a Backend and its stored row (store/registry_store.hpp). Health state and pin
// counts are not stored: from_row() gives an Unknown backend with no pins.
#include "registry/backend.hpp"
#include "store/registry_store.hpp"

namespace webstream::registry {

store::BackendRow to_row(const Backend& b);
Backend from_row(const store::BackendRow& r);

}  // namespace webstream::registry
