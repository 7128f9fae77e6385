#pragma once
// Events: one JSON object per line on stdout, {"event":"…",…}, flushed at once so a test harness reading
// the pipe sees it immediately. Diagnostics go through observability/log (also JSON lines, with "msg").
#include <boost/json/object.hpp>

namespace webstream::sim {

void emit_event(const boost::json::object& event);

}  // namespace webstream::sim
