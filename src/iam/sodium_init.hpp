#pragma once
// ensure_sodium(): initialises libsodium once per process (thread-safe). Every IAM entry point that calls
// libsodium (passwords, key ring) calls it first; it throws only if the library cannot start, which is a
// start-up failure.
namespace webstream::iam {

void ensure_sodium();

}  // namespace webstream::iam
