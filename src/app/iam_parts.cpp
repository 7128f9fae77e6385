#include "app/iam_parts.hpp"

#include <thread>

#include "app/remote_iam_parts.hpp"
#include "auth/authenticator.hpp"
#include "core/ids.hpp"
#include "iam/api/auth_api.hpp"
#include "iam/api/internal_api.hpp"
#include "iam/api/resources_api.hpp"
#include "iam/api/service_gate.hpp"
#include "iam/bootstrap.hpp"
#include "iam/entitlements.hpp"
#include "iam/key_ring.hpp"
#include "iam/login_limiter.hpp"
#include "iam/login_service.hpp"
#include "iam/passwords.hpp"
#include "iam/revocation_feed.hpp"
#include "iam/revocation_follower.hpp"
#include "iam/store_user_directory.hpp"
#include "iam/token_service.hpp"
#include "observability/log.hpp"
#include "runtime/bounded_pool.hpp"

namespace webstream::app {

namespace {

// The IAM running in this process (accessManagement.mode=builtin, and the -am service). As the -am service
// it also keeps the revocation feed (logouts go through a FeedingTokenStore, user changes are recorded by
// the UserChanged hook), serves the internal API, and puts its /iam/* routes behind the service gate.
class BuiltinIam final : public IamParts {
 public:
  // `ctx` is only used while build() runs (it lives on Gateway::start()'s stack); what outlives it is kept.
  explicit BuiltinIam(WiringContext& ctx) : ctx_(ctx), blocking_(ctx.blocking), service_(ctx.access_management_only) {}

  Status build() {
    const Clock& clock = SystemClock::instance();
    auto iam_store = ctx_.stores.iam();
    if (!iam_store) return iam_store.error();
    iam_store_ = std::move(iam_store.value());
    auto key_store = ctx_.stores.keys();
    if (!key_store) return key_store.error();
    key_store_ = std::move(key_store.value());
    auto token_store = ctx_.stores.tokens();
    if (!token_store) return token_store.error();
    token_store_ = std::move(token_store.value());
    store::TokenStore* revocations = token_store_.get();
    // -am serves its revocation log to gateways; gateways sharing one store (PostgreSQL) read each other's.
    const bool shared = ctx_.stores.shared();
    if (service_ || shared) {
      auto log = ctx_.stores.revocation_log(clock);
      if (!log) return log.error();
      revocation_log_ = std::move(log.value());
      feed_ = std::make_unique<iam::RevocationFeed>(*revocation_log_, clock, ctx_.config.access.token_lifetime_s);
      feeding_store_ = std::make_unique<iam::FeedingTokenStore>(*token_store_, *feed_);
      revocations = feeding_store_.get();
    }
    auto failure_store = ctx_.stores.login_failures();
    if (!failure_store) return failure_store.error();
    failure_store_ = std::move(failure_store.value());

    auto keys = iam::KeyRing::open(*key_store_, clock);
    if (!keys) return keys.error();
    keys_ = std::move(keys.value());
    iam::TokenOptions token_options;
    token_options.lifetime_s = ctx_.config.access.token_lifetime_s;
    tokens_ = std::make_unique<iam::TokenService>(*keys_, clock, token_options);
    users_ = std::make_unique<iam::StoreUserDirectory>(*iam_store_);
    auth::AuthenticatorOptions auth_options;
    auth_options.max_token_lifetime_s = ctx_.config.access.token_lifetime_s;
    authenticator_ = std::make_unique<auth::Authenticator>(*tokens_, *users_, *revocations, clock, auth_options);
    if (auto s = authenticator_->load(); !s) return s;
    if (shared && !service_) {
      auto* a = authenticator_.get();
      // Woken by the change feed (revocations_changed); its own period is a safety net behind the feed's.
      follower_ = std::make_unique<iam::RevocationFollower>(
          *revocation_log_,
          iam::RevocationTargets{[a](const std::string& jti, std::int64_t exp) { a->revoke_token_id(jti, exp); },
                                 [a](const std::string& user, std::int64_t nb) { a->apply_cutoff(user, nb); }},
          iam::RevocationFollower::Options{
              .period = std::chrono::seconds(5), .overlap_ms = 2000, .page_entries = 10000});
    }
    passwords_ = std::make_unique<iam::PasswordHasher>(iam::PasswordParams::from_settings(
        ctx_.config.access.password_hash_memory_kib, ctx_.config.access.password_hash_passes));
    limiter_ = std::make_unique<iam::LoginLimiter>(clock);
    login_ = std::make_unique<iam::LoginService>(*users_, *passwords_, *tokens_, *authenticator_, *limiter_,
                                                 *failure_store_, clock);
    login_->set_shared_store(shared);
    if (auto s = login_->load(); !s) return s;
    entitlements_ = std::make_unique<iam::EntitlementService>(*iam_store_);

    auto boot = iam::bootstrap(*iam_store_, *passwords_, clock);
    if (!boot) return Error::internal("IAM bootstrap: " + boot.error().message);
    // iam::bootstrap logs the creation itself (with the admin's id and where its password came from).

    auto* authenticator = authenticator_.get();
    auto* feed = feed_.get();
    // -am: the routes are registered apart, then put behind the service gate (iam/api/service_gate.hpp).
    http::Router staging;
    http::Router& routes = service_ ? staging : ctx_.router;
    hashing_ = std::make_unique<runtime::BoundedPool>(iam::login_hashing_options(std::thread::hardware_concurrency()));
    iam::register_auth_routes(
        routes, iam::AuthApiDeps{*login_, *authenticator_, *tokens_, *users_, ctx_.blocking, hashing_.get()});
    iam::register_resource_routes(
        routes, iam::ResourceDeps{*iam_store_, *entitlements_, ctx_.blocking, clock, bearer(),
                                  [authenticator, feed](const std::string& user_id) {
                                    const std::int64_t cutoff = authenticator->on_user_changed(user_id);
                                    if (feed) {
                                      if (auto s = feed->record_user_cutoff(user_id, cutoff); !s) {
                                        log::error("could not record a user change for the gateways",
                                                   {{"userId", user_id}, {"error", s.error().message}});
                                      }
                                    }
                                    return cutoff;
                                  },
                                  *passwords_});
    if (service_) {
      const std::string& key = ctx_.config.access.service_key;
      iam::add_service_gated_routes(ctx_.router, staging, key);
      iam::register_internal_routes(
          ctx_.router, iam::InternalApiDeps{key, *entitlements_, *feed_, ctx_.blocking,
                                            [this](const std::string& k, const std::string& m, const std::string& p,
                                                   unsigned st) { audit_mcp(k, m, p, st); }});
      if (key.empty()) {
        log::warn("accessManagement.serviceKey is not set: every gateway call to the internal API is refused (401)");
      }
    }
    return Status::success();
  }

  // IamParts
  sessions::EntitlementResolver& resolver() override { return *entitlements_; }
  std::function<Result<core::Principal>(const http::RequestContext&)> bearer() override {
    auto* a = authenticator_.get();
    return [a](const http::RequestContext& ctx) { return a->authenticate_bearer(ctx); };
  }
  std::function<Result<core::Principal>(std::string_view)> token() override {
    auto* a = authenticator_.get();
    return [a](std::string_view jwt) { return a->authenticate_token(jwt); };
  }
  std::function<Result<std::shared_ptr<const core::Principal>>(const http::RequestContext&)> bearer_shared() override {
    auto* a = authenticator_.get();
    return [a](const http::RequestContext& ctx) { return a->authenticate_bearer_shared(ctx); };
  }
  std::function<Result<std::shared_ptr<const core::Principal>>(std::string_view)> token_shared() override {
    auto* a = authenticator_.get();
    return [a](std::string_view jwt) { return a->authenticate_token_shared(jwt); };
  }
  std::function<bool(const core::Principal&)> still_valid() override {
    auto* a = authenticator_.get();
    return [a](const core::Principal& p) { return a->still_valid(p); };
  }
  proxy::AssertionSigner assertion_signer() override {
    auto* t = tokens_.get();
    return [t](const boost::json::object& claims, std::string_view typ) { return t->sign(claims, typ); };
  }
  boost::json::object assertion_jwks() override { return tokens_->jwks(); }
  void audit_mcp(const std::string& key_name, const std::string& method, const std::string& path,
                 unsigned status) override {
    store::AuditRow row;
    row.id = random_id("a-");
    row.at = SystemClock::instance().now_ms();
    row.actor = "mcp:" + key_name;
    row.actor_name = "mcp:" + key_name;
    row.action = "mcp " + method + " " + std::to_string(status);
    row.object_type = "mcp";
    row.object_id = path;
    // The audit write fsyncs: keep it off the I/O thread.
    boost::asio::post(blocking_.executor(), [store = iam_store_.get(), row] {
      if (auto s = store->append_audit(row); !s) log::error("MCP audit write failed", {{"error", s.error().message}});
    });
  }
  void start(boost::asio::any_io_executor) override {
    if (follower_) follower_->start();
  }
  void stop() override {
    if (follower_) follower_->stop();
  }
  void revocations_changed() override {
    if (follower_) follower_->wake();
  }

 private:
  WiringContext& ctx_;  // valid during build() only
  runtime::BlockingPool& blocking_;
  const bool service_;  // webstream -am
  std::unique_ptr<store::IamStore> iam_store_;
  std::unique_ptr<store::KeyStore> key_store_;
  std::unique_ptr<store::TokenStore> token_store_;
  std::unique_ptr<store::LoginFailureStore> failure_store_;
  std::unique_ptr<store::RevocationLogStore> revocation_log_;  // -am, or a shared store
  std::unique_ptr<iam::RevocationFeed> feed_;                  // -am, or a shared store
  std::unique_ptr<iam::FeedingTokenStore> feeding_store_;      // -am, or a shared store
  std::unique_ptr<iam::RevocationFollower> follower_;          // a gateway on a shared store
  std::unique_ptr<iam::KeyRing> keys_;
  std::unique_ptr<iam::TokenService> tokens_;
  std::unique_ptr<iam::StoreUserDirectory> users_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<iam::PasswordHasher> passwords_;
  std::unique_ptr<iam::LoginLimiter> limiter_;
  std::unique_ptr<iam::LoginService> login_;
  std::unique_ptr<iam::EntitlementService> entitlements_;
  // Logins' argon2id (iam/api/auth_api.hpp). Last: destroyed (its threads joined) before what its jobs use.
  std::unique_ptr<runtime::BoundedPool> hashing_;
};

}  // namespace

Result<std::unique_ptr<IamParts>> build_iam_parts(WiringContext& ctx) {
  if (ctx.config.access.mode != config::AccessMode::kBuiltin && !ctx.access_management_only) {
    return build_remote_iam_parts(ctx);
  }
  auto iam = std::make_unique<BuiltinIam>(ctx);
  if (auto s = iam->build(); !s) return s.error();
  return std::unique_ptr<IamParts>(std::move(iam));
}

}  // namespace webstream::app
