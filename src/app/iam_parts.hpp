#pragma once
// IamParts: the gateway's IAM side and the one token check, with the handles the other components need.
// Two implementations: the built-in IAM (key ring, users, resources, entitlements, logins — also what
// `webstream -am` serves, with its internal API for gateways), and RemoteIam (remote_iam_parts.hpp) for
// accessManagement.mode=standalone|external, where the IAM is another process (docs/access-management.md).
#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "app/wiring.hpp"
#include "core/principal.hpp"
#include "proxy/assertion.hpp"
#include "sessions/entitlement_resolver.hpp"

namespace webstream::app {

class IamParts {
 public:
  virtual ~IamParts() = default;
  virtual sessions::EntitlementResolver& resolver() = 0;
  // Authorization: Bearer … (or the MCP service principal set by in-process dispatch) → principal, or 401.
  virtual std::function<Result<core::Principal>(const http::RequestContext&)> bearer() = 0;
  // A JWT given as ?token= → principal, or 401.
  virtual std::function<Result<core::Principal>(std::string_view)> token() = 0;
  // The same two, answering the token cache's principal without copying it (the proxied routes' hot path).
  virtual std::function<Result<std::shared_ptr<const core::Principal>>(const http::RequestContext&)>
  bearer_shared() = 0;
  virtual std::function<Result<std::shared_ptr<const core::Principal>>(std::string_view)> token_shared() = 0;
  // The cheap re-check open WebSockets make every second.
  virtual std::function<bool(const core::Principal&)> still_valid() = 0;
  // Signs X-WebStream-Assertion tokens (builtin: the IAM's keys; remote: the gateway's own keys).
  virtual proxy::AssertionSigner assertion_signer() = 0;
  // The keys that verify those assertions (GET /gateway/.well-known/jwks.json).
  virtual boost::json::object assertion_jwks() = 0;
  // Audits an /mcp/iam/* call under the key's name.
  virtual void audit_mcp(const std::string& key_name, const std::string& method, const std::string& path,
                         unsigned status) = 0;
  virtual void start(boost::asio::any_io_executor executor) = 0;
  virtual void stop() = 0;
  // Several gateways on one store: another gateway recorded a revocation (a change notification). The
  // builtin IAM reads the revocation log at once; other modes have nothing to read. Never blocks.
  virtual void revocations_changed() {}
};

// builtin mode, and `webstream -am`: builds the IAM over the store, bootstraps an empty store (org default,
// user admin) and registers the /iam/* routes (-am: behind the service gate, plus the internal API).
// standalone/external mode (a gateway): build_remote_iam_parts.
Result<std::unique_ptr<IamParts>> build_iam_parts(WiringContext& ctx);

}  // namespace webstream::app
