#pragma once
// IamParts: the built-in IAM (key ring, users, resources, entitlements, logins) and the one token check,
// built together, with the handles the other components need.
#include <boost/asio/any_io_executor.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "app/wiring.hpp"
#include "auth/principal.hpp"
#include "iam/entitlement_resolver.hpp"
#include "proxy/assertion.hpp"

namespace webstream::app {

class IamParts {
 public:
  virtual ~IamParts() = default;
  virtual iam::EntitlementResolver& resolver() = 0;
  // Authorization: Bearer … (or the MCP service principal set by in-process dispatch) → principal, or 401.
  virtual std::function<Result<auth::Principal>(const http::RequestContext&)> bearer() = 0;
  // A JWT given as ?token= → principal, or 401.
  virtual std::function<Result<auth::Principal>(std::string_view)> token() = 0;
  // The cheap re-check open WebSockets make every second.
  virtual std::function<bool(const auth::Principal&)> still_valid() = 0;
  // Signs X-WebStream-Assertion tokens with the IAM's keys.
  virtual proxy::AssertionSigner assertion_signer() = 0;
  // Audits an /mcp/iam/* call under the key's name.
  virtual void audit_mcp(const std::string& key_name, const std::string& method, const std::string& path,
                         unsigned status) = 0;
  virtual void start(boost::asio::any_io_executor executor) = 0;
  virtual void stop() = 0;
};

// Builds the IAM over the store, bootstraps an empty store (org default, user admin) and registers the
// /iam/* routes.
Result<std::unique_ptr<IamParts>> build_iam_parts(WiringContext& ctx);

}  // namespace webstream::app
