#pragma once
// JwksRefresher: the background fetches that keep a gateway's JwksTokenVerifier current in
// accessManagement.mode=standalone|external (docs/access-management.md): every 2 s while no key set is loaded,
// every 5 min afterwards (a key the service dropped stops verifying). The first fetches are made at start-up
// by wait_for_access_management() (startup_wait.hpp).
//
// Thread rules: start() once, on the executor the timer is to run on; each fetch blocks (AmClient::call), so it
// runs on the BlockingPool and the loop resumes on its executor. stop() from any thread: the loop ends at its
// next wake-up (the timer is cancelled on its own executor). The verifier and the pool outlive the refresher.
#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "iam/remote/am_client.hpp"
#include "iam/remote/jwks_verifier.hpp"
#include "runtime/blocking_pool.hpp"

namespace webstream::iam {

// The verifier's fetch from the service: GET /iam/.well-known/jwks.json with the service key; a reply other
// than 200 is the service's error. `client` outlives the fetch.
JwksFetch am_jwks_fetch(const AmClient& client);

class JwksRefresher {
 public:
  JwksRefresher(JwksTokenVerifier& verifier, runtime::BlockingPool& blocking);
  ~JwksRefresher();
  JwksRefresher(const JwksRefresher&) = delete;
  JwksRefresher& operator=(const JwksRefresher&) = delete;

  void start(boost::asio::any_io_executor executor);
  void stop();

 private:
  struct Loop;
  JwksTokenVerifier& verifier_;
  runtime::BlockingPool& blocking_;
  std::shared_ptr<Loop> loop_;
};

}  // namespace webstream::iam
