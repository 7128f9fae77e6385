#include "http/socket_deadline.hpp"

namespace webstream::http {

struct SocketDeadline::State {
  explicit State(const boost::asio::any_io_executor& ex, boost::asio::ip::tcp::socket& s) : timer(ex), socket(&s) {}
  boost::asio::steady_timer timer;
  boost::asio::ip::tcp::socket* socket;  // null once the owner is gone
  clock::time_point deadline = clock::time_point::max();
  clock::time_point pending_until = clock::time_point::max();  // max: no wait pending
  bool fired = false;
};

SocketDeadline::SocketDeadline(const boost::asio::any_io_executor& executor, boost::asio::ip::tcp::socket& socket)
    : state_(std::make_shared<State>(executor, socket)) {}

SocketDeadline::~SocketDeadline() {
  state_->socket = nullptr;
  state_->deadline = clock::time_point::max();
  state_->timer.cancel();
}

void SocketDeadline::wait(const std::shared_ptr<State>& state, clock::time_point until) {
  state->pending_until = until;
  state->timer.expires_at(until);  // cancels a wait still pending (it then completes as aborted)
  state->timer.async_wait([state, until](boost::system::error_code ec) {
    if (ec || state->pending_until != until) return;  // superseded by an earlier deadline, or destroyed
    state->pending_until = clock::time_point::max();
    if (!state->socket || state->deadline == clock::time_point::max()) return;  // disarmed meanwhile: stop
    if (clock::now() >= state->deadline) {
      state->fired = true;
      state->deadline = clock::time_point::max();
      boost::system::error_code ignored;
      state->socket->cancel(ignored);
      return;
    }
    wait(state, state->deadline);  // re-armed later while we slept: sleep until then
  });
}

void SocketDeadline::arm(clock::duration after) {
  state_->fired = false;
  state_->deadline = clock::now() + after;
  if (state_->deadline < state_->pending_until) wait(state_, state_->deadline);
}

void SocketDeadline::disarm() { state_->deadline = clock::time_point::max(); }

bool SocketDeadline::fired() const { return state_->fired; }

}  // namespace webstream::http
