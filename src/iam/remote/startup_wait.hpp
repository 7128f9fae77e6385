#pragma once
// Start-up of a gateway in accessManagement.mode=standalone|external: fetch the service's keys and a first
// revocation snapshot, retrying every 250 ms for at most `wait`. If the service is still unreachable the
// gateway starts anyway and answers 503 access_management_unavailable to token checks until it is
// (the JwksRefresher and the RevocationPoller keep trying in the background).
//
// Thread rules: blocks the calling thread (start-up, before the workers run).
#include <chrono>

#include "core/error.hpp"
#include "iam/remote/jwks_verifier.hpp"
#include "iam/remote/revocation_poller.hpp"

namespace webstream::iam {

// Success when both the keys and the feed answered; otherwise the error of the one still failing (the keys'
// first).
Status wait_for_access_management(JwksTokenVerifier& verifier, RevocationPoller& poller,
                                  std::chrono::milliseconds wait);

}  // namespace webstream::iam
