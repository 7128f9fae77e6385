#pragma once
// SocketDeadline: a deadline on whatever a socket is waiting for, that costs almost nothing to move.
//
// On expiry it cancels the socket's pending operations (it does not close the socket, so a server can
// still answer 408 before closing). Arming it on every read and write is the normal use, so arm() and
// disarm() must be cheap: they only store the new deadline. The steady_timer behind it is (re)started only
// when the new deadline is EARLIER than the wait already pending; otherwise the pending wait wakes up,
// sees a later deadline (or none), and goes back to sleep until then (or stops). A keep-alive connection
// doing thousands of requests therefore wakes its timer about once per (shortest armed duration), not
// twice per request — Asio's timer queue insert/cancel and the completion of every cancelled wait were a
// visible share of the gateway's per-request CPU (docs/proxy.md "Hot path").
//
// Precision: the deadline fires no earlier than asked and at most one scheduler round late.
//
// Lifetime: the timer's handler owns the shared state, so destroying a SocketDeadline while its wait is
// queued is safe; the socket must outlive the SocketDeadline (the destructor detaches from it).
//
// Thread rules: one strand — the socket's. Not thread-safe.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace webstream::http {

class SocketDeadline {
 public:
  using clock = std::chrono::steady_clock;

  SocketDeadline(const boost::asio::any_io_executor& executor, boost::asio::ip::tcp::socket& socket);
  ~SocketDeadline();
  SocketDeadline(const SocketDeadline&) = delete;
  SocketDeadline& operator=(const SocketDeadline&) = delete;

  // From now on, the socket's operations are cancelled `after` from now (clears fired()).
  void arm(clock::duration after);
  // No deadline until the next arm().
  void disarm();
  // True when the deadline expired (and cancelled the socket) since the last arm().
  bool fired() const;

 private:
  struct State;
  static void wait(const std::shared_ptr<State>& state, clock::time_point until);
  std::shared_ptr<State> state_;
};

}  // namespace webstream::http
