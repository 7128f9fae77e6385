#pragma once
// HeapTrimmer: gives memory that malloc holds free back to the kernel. glibc returns freed memory to the kernel
// only from the top of each heap; after a storm of connections (each handshake's short-lived buffers freed
// between the long-lived relays it leaves behind) the freed memory stays resident, even once every connection
// has closed. Measured with bench/run.py's stack (docs/proxy.md, "Memory of an idle relay"): 5,000 idle
// WebSockets opened and closed left the gateway at 71 MB (20 MB before them); malloc_trim(0), which also
// releases the whole free pages inside the heaps, brought it to 48 MB.
//
// malloc_trim locks each arena while it walks it, so it runs only when much is free: every `interval` the
// trimmer reads the allocator's free bytes (mallinfo2) and trims when they exceed `threshold`. Both walk the
// heap's free chunks, so they run on the blocking pool, never on an I/O thread: after 40,000 freed 16 KiB
// holes (625 MB free) mallinfo2 took 9-15 ms and malloc_trim 81-90 ms on this machine (a stand-alone
// program, 2026-12-04), a stall no worker's connections should see.
// Metrics: webstream_heap_free_bytes (at the last check), webstream_heap_trims_total.
//
// Thread rules: start() and stop() from one thread; the loop's timer runs on the executor given to start(), the
// checks on the blocking pool.
// trim_heap_if_above() may be called from any thread (glibc locks its arenas).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>

#include "runtime/blocking_pool.hpp"

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

  explicit HeapTrimmer(BlockingPool& blocking) : blocking_(blocking) {}
  HeapTrimmer(BlockingPool& blocking, Options options) : blocking_(blocking), options_(options) {}
  void start(boost::asio::any_io_executor executor);
  void stop();

 private:
  BlockingPool& blocking_;
  Options options_;
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::shared_ptr<std::atomic<bool>> stopped_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace webstream::runtime
