#pragma once
// HeapTrimmer: gives memory that malloc holds free back to the kernel. glibc returns freed memory to the kernel
// only from the top of each heap; after a storm of connections (each handshake's short-lived buffers freed
// between the long-lived relays it leaves behind) the freed memory stays resident, even once every connection
// has closed. Measured with bench/run.py's stack (docs/proxy.md, "Memory of an idle relay"): 5,000 idle
// WebSockets opened and closed left the gateway at 71 MB (20 MB before them); malloc_trim(0), which also
// releases the whole free pages inside the heaps, brought it to 48 MB.
//
// malloc_trim locks each arena while it walks it, so it runs only when much is free: every `interval` the
// trimmer reads the allocator's free bytes (mallinfo2) and trims when they exceed `threshold`.
// Metrics: webstream_heap_free_bytes (at the last check), webstream_heap_trims_total.
//
// Thread rules: start() and stop() from one thread; the checks run on the executor given to start().
// trim_heap_if_above() may be called from any thread (glibc locks its arenas).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>

namespace webstream::runtime {

struct HeapCheck {
  std::size_t free_bytes = 0;  // free memory inside malloc's heaps when checked
  bool trimmed = false;        // malloc_trim ran
};

// Reads malloc's free bytes and, above `threshold`, trims.
HeapCheck trim_heap_if_above(std::size_t threshold);

class HeapTrimmer {
 public:
  struct Options {
    std::chrono::milliseconds interval{10000};
    std::size_t threshold = 32u * 1024 * 1024;
  };

  HeapTrimmer() = default;
  explicit HeapTrimmer(Options options) : options_(options) {}
  void start(boost::asio::any_io_executor executor);
  void stop();

 private:
  Options options_;
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::shared_ptr<std::atomic<bool>> stopped_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace webstream::runtime
