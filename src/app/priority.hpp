#pragma once
// gateway.elevateGatewayPriority: raise the priority of the calling thread (Linux: nice -5 per thread).
namespace webstream::app {

// Returns false (and errno is set) when the system does not permit it; the caller logs a warning once.
bool elevate_current_thread_priority();

}  // namespace webstream::app
