#include "http/server.hpp"

#include <boost/asio/post.hpp>

namespace webstream::http {

Server::Server(const Router& router, const config::LimitsConfig& limits, runtime::Workers& workers, bool dev_mode)
    : router_(router), limits_(limits), workers_(workers), dev_mode_(dev_mode) {}

Server::~Server() = default;

void Server::begin_stop() {
  for (auto& l : listeners_) {
    boost::asio::post(l->acceptor->get_executor(), [acceptor = l->acceptor.get()] {
      boost::system::error_code ignored;
      acceptor->close(ignored);
    });
  }
  lifecycle_.begin_stop();
}

}  // namespace webstream::http
