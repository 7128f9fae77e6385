#pragma once
// The simulated streamer's WebSockets, after the host accepted the upgrade:
//   /capture  binary test-pattern frames (test_pattern.hpp) at --fps, each write awaited (back-pressure)
//   /control  every message echoed back with the same type (text or binary)
//   /audio    binary PCM s16le mono tone frames, paced in real time
// On every path the peer's close frame is answered with the same close code (Beast echoes it).
// Thread rules: the sim's io_context thread only. A WsConn is shared between its reader and sender
// coroutines and the host's shutdown (which closes it with 1001).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <memory>
#include <string>

#include "host_state.hpp"
#include "sim_options.hpp"

namespace webstream::sim {

class WsConn : public std::enable_shared_from_this<WsConn> {
 public:
  explicit WsConn(boost::beast::tcp_stream&& stream);

  boost::beast::websocket::stream<boost::beast::tcp_stream> ws;
  boost::asio::steady_timer pace;  // the sender's frame timer; cancelled when closing
  bool closing = false;            // no new message writes once set

  // Starts the closing handshake with `code` once; later calls do nothing. The reader keeps reading
  // until the peer's close frame arrives.
  void begin_close(boost::beast::websocket::close_code code);
};

enum class WsKind { kCapture, kControl, kAudio };

// Runs one accepted WebSocket until it closes. Counts into `state.stats`.
boost::asio::awaitable<void> run_websocket(std::shared_ptr<WsConn> conn, WsKind kind, HostState& state,
                                           const SimOptions& options);

}  // namespace webstream::sim
