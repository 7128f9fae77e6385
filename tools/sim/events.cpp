#include "events.hpp"

#include <boost/json/serialize.hpp>

#include <cstdio>
#include <string>

namespace webstream::sim {

void emit_event(const boost::json::object& event) {
  std::string line = boost::json::serialize(event);
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace webstream::sim
