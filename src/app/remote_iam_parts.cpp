// RemoteIam: the IamParts of a gateway in accessManagement.mode=standalone|external (docs/access-management.md).
//
//  - /iam/* is proxied to the access-management service (iam/remote/am_proxy_routes.hpp).
//  - Tokens: auth::Authenticator (cache, revocation sets) over iam::JwksTokenVerifier (the service's JWKS),
//    an in-memory TokenStore (logouts proxied through this gateway), and no user directory: the service
//    vouches for its tokens' claims, and reports disabled/changed users and logouts done elsewhere through
//    its revocation feed, which iam::RevocationPoller follows every 2 s.
//  - While the feed has not answered for 60 s (or never has, or no JWKS is loaded yet) the gateway answers
//    503 access_management_unavailable instead of accepting tokens it cannot know to be unrevoked. Open
//    WebSockets are not cut by that: they are cut only by a revocation.
//  - Entitlements: iam::RemoteEntitlementResolver (POST /iam/internal/resolve).
//  - X-WebStream-Assertion: signed with this gateway's OWN Ed25519 key ring (kept in its store), published at
//    GET /gateway/.well-known/jwks.json: the service's private keys never leave the service.
//  - /mcp/iam/*: forwarded with the service key and the MCP key name (the service acts as that service
//    principal); the MCP call is audited at the service through POST /iam/internal/mcp-audit.
#include "app/remote_iam_parts.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/serialize.hpp>

#include <chrono>

#include "auth/authenticator.hpp"
#include "iam/key_ring.hpp"
#include "iam/remote/am_client.hpp"
#include "iam/remote/am_proxy_routes.hpp"
#include "iam/remote/jwks_refresher.hpp"
#include "iam/remote/jwks_verifier.hpp"
#include "iam/remote/remote_resolver.hpp"
#include "iam/remote/revocation_poller.hpp"
#include "iam/remote/startup_wait.hpp"
#include "iam/token_service.hpp"
#include "observability/log.hpp"
#include "proxy/http_forwarder.hpp"
#include "store/memory_token_store.hpp"

namespace webstream::app {

namespace net = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto kStartupWait = 5000ms;  // how long start-up waits for the service before going on
constexpr auto kFetchTimeout = 2000ms;
// Cutoffs from the service are kept this long (the largest accessManagement.tokenLifetime): this gateway
// does not know the service's token lifetime, and a cutoff forgotten too early would let an old token in.
constexpr std::int64_t kMaxRemoteTokenLifetimeS = 7 * 86400;

Error unavailable() {
  return Error{503, "access_management_unavailable",
               "the access-management service cannot be reached: tokens cannot be checked right now"};
}

// Never consulted (AuthenticatorOptions::check_user_directory = false); the Authenticator needs one.
class NoUserDirectory final : public auth::UserDirectory {
 public:
  Result<std::optional<auth::UserRecord>> find_by_username(const std::string&) override {
    return std::optional<auth::UserRecord>();
  }
  Result<std::optional<auth::UserRecord>> find_by_id(const std::string&) override {
    return std::optional<auth::UserRecord>();
  }
};

class RemoteIam final : public IamParts {
 public:
  RemoteIam(WiringContext& ctx, iam::AmClient client, proxy::BackendUrl service)
      : ctx_(ctx), blocking_(ctx.blocking), client_(std::move(client)), service_(std::move(service)) {}

  Status build() {
    const Clock& clock = SystemClock::instance();
    // This gateway's own assertion keys.
    auto key_store = ctx_.stores.keys();
    if (!key_store) return key_store.error();
    key_store_ = std::move(key_store.value());
    auto keys = iam::KeyRing::open(*key_store_, clock);
    if (!keys) return keys.error();
    keys_ = std::move(keys.value());
    signer_ = std::make_unique<iam::TokenService>(*keys_, clock);

    verifier_ = std::make_unique<iam::JwksTokenVerifier>(iam::am_jwks_fetch(client_), clock);
    jwks_refresher_ = std::make_unique<iam::JwksRefresher>(*verifier_, blocking_);
    auth::AuthenticatorOptions options;
    options.check_user_directory = false;
    options.max_token_lifetime_s = kMaxRemoteTokenLifetimeS;
    authenticator_ = std::make_unique<auth::Authenticator>(*verifier_, users_, revoked_, clock, options);
    resolver_ = std::make_unique<iam::RemoteEntitlementResolver>(client_);
    auto* a = authenticator_.get();
    poller_ = std::make_unique<iam::RevocationPoller>(
        client_,
        iam::RevocationSink{[a](const std::string& jti, std::int64_t exp) { a->revoke_token_id(jti, exp); },
                            [a](const std::string& user, std::int64_t nb) { a->apply_cutoff(user, nb); }},
        clock);

    forwarder_ =
        std::make_unique<proxy::HttpForwarder>(proxy::ForwarderOptions::from_limits(ctx_.config.gateway.limits), clock);
    auto* poller = poller_.get();
    iam::register_am_proxy_routes(
        ctx_.router,
        iam::AmProxyDeps{service_, ctx_.config.access.service_key, *forwarder_, bearer(),
                         [a](const core::Principal& p) { (void)a->revoke(p); }, [poller] { poller->poke(); }});
    wait_for_service();
    return Status::success();
  }

  // IamParts
  sessions::EntitlementResolver& resolver() override { return *resolver_; }
  std::function<Result<core::Principal>(const http::RequestContext&)> bearer() override {
    auto* a = authenticator_.get();
    auto* p = poller_.get();
    return [a, p](const http::RequestContext& ctx) -> Result<core::Principal> {
      if (!ctx.preauthenticated && !p->fresh()) return unavailable();
      return a->authenticate_bearer(ctx);
    };
  }
  std::function<Result<core::Principal>(std::string_view)> token() override {
    auto* a = authenticator_.get();
    auto* p = poller_.get();
    return [a, p](std::string_view jwt) -> Result<core::Principal> {
      if (!p->fresh()) return unavailable();
      return a->authenticate_token(jwt);
    };
  }
  std::function<Result<std::shared_ptr<const core::Principal>>(const http::RequestContext&)> bearer_shared() override {
    auto* a = authenticator_.get();
    auto* p = poller_.get();
    return [a, p](const http::RequestContext& ctx) -> Result<std::shared_ptr<const core::Principal>> {
      if (!ctx.preauthenticated && !p->fresh()) return unavailable();
      return a->authenticate_bearer_shared(ctx);
    };
  }
  std::function<Result<std::shared_ptr<const core::Principal>>(std::string_view)> token_shared() override {
    auto* a = authenticator_.get();
    auto* p = poller_.get();
    return [a, p](std::string_view jwt) -> Result<std::shared_ptr<const core::Principal>> {
      if (!p->fresh()) return unavailable();
      return a->authenticate_token_shared(jwt);
    };
  }
  std::function<bool(const core::Principal&)> still_valid() override {
    auto* a = authenticator_.get();
    return [a](const core::Principal& p) { return a->still_valid(p); };
  }
  proxy::AssertionSigner assertion_signer() override {
    auto* t = signer_.get();
    return [t](const boost::json::object& claims, std::string_view typ) { return t->sign(claims, typ); };
  }
  boost::json::object assertion_jwks() override { return keys_->jwks(); }
  void audit_mcp(const std::string& key_name, const std::string& method, const std::string& path,
                 unsigned status) override {
    iam::AmRequest request;
    request.method = http::bhttp::verb::post;
    request.target = "/iam/internal/mcp-audit";
    request.body = boost::json::serialize(
        boost::json::object{{"keyName", key_name}, {"method", method}, {"path", path}, {"status", status}});
    if (!executor_) return;
    auto* client = &client_;
    auto task = [client, request = std::move(request), key_name]() -> net::awaitable<void> {
      auto op = client->async_call(request, kFetchTimeout);
      auto reply = co_await std::move(op);
      if (!reply || reply->status >= 300) {
        log::error("could not audit an MCP call at the access-management service",
                   {{"key", key_name}, {"status", reply ? reply->status : 0u}});
      }
    };
    net::co_spawn(*executor_, std::move(task), net::detached);
  }
  void start(net::any_io_executor executor) override {
    executor_ = executor;
    poller_->start(executor);
    jwks_refresher_->start(executor);
  }
  void stop() override {
    poller_->stop();
    jwks_refresher_->stop();
  }

 private:
  // Start-up: see iam/remote/startup_wait.hpp.
  void wait_for_service() {
    const Status reached = iam::wait_for_access_management(*verifier_, *poller_, kStartupWait);
    if (reached) {
      log::info("access-management service reachable",
                {{"url", ctx_.config.access.url}, {"keys", verifier_->key_count()}});
    } else {
      const Error& e = reached.error();
      log::warn("access-management service not reachable at start; token checks answer 503 until it is",
                {{"url", ctx_.config.access.url}, {"status", e.status}, {"error", e.message}});
    }
  }

  WiringContext& ctx_;  // valid during build() only
  runtime::BlockingPool& blocking_;
  iam::AmClient client_;
  proxy::BackendUrl service_;
  std::unique_ptr<store::KeyStore> key_store_;
  std::unique_ptr<iam::KeyRing> keys_;
  std::unique_ptr<iam::TokenService> signer_;
  std::unique_ptr<iam::JwksTokenVerifier> verifier_;
  NoUserDirectory users_;
  store::MemoryTokenStore revoked_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<iam::RemoteEntitlementResolver> resolver_;
  std::unique_ptr<iam::RevocationPoller> poller_;
  std::unique_ptr<proxy::HttpForwarder> forwarder_;
  std::unique_ptr<iam::JwksRefresher> jwks_refresher_;
  std::optional<net::any_io_executor> executor_;
};

}  // namespace

Result<std::unique_ptr<IamParts>> build_remote_iam_parts(WiringContext& ctx) {
  const auto& am = ctx.config.access;
  if (am.service_key.empty()) {
    return Error::invalid(ctx.config.source_path +
                          ": accessManagement.serviceKey: required when accessManagement.mode is standalone or "
                          "external (the key shared with the webstream -am service)");
  }
  auto client = iam::AmClient::create(am.url, am.service_key);
  if (!client) return Error::invalid(ctx.config.source_path + ": accessManagement.url: " + client.error().message);
  auto service = proxy::parse_backend_url(am.url);
  if (!service) return Error::invalid(ctx.config.source_path + ": accessManagement.url: " + service.error().message);
  auto iam = std::make_unique<RemoteIam>(ctx, std::move(client.value()), std::move(service.value()));
  if (auto s = iam->build(); !s) return s.error();
  return std::unique_ptr<IamParts>(std::move(iam));
}

}  // namespace webstream::app
