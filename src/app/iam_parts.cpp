#include "app/iam_parts.hpp"

#include "auth/authenticator.hpp"
#include "core/ids.hpp"
#include "iam/auth_api.hpp"
#include "iam/bootstrap.hpp"
#include "iam/entitlements.hpp"
#include "iam/key_ring.hpp"
#include "iam/login_limiter.hpp"
#include "iam/login_service.hpp"
#include "iam/passwords.hpp"
#include "iam/resources_api.hpp"
#include "iam/store_user_directory.hpp"
#include "iam/token_service.hpp"
#include "observability/log.hpp"
#include "store/sqlite/sqlite_iam_store.hpp"
#include "store/sqlite/sqlite_key_store.hpp"
#include "store/sqlite/sqlite_login_failure_store.hpp"
#include "store/sqlite/sqlite_token_store.hpp"

namespace webstream::app {

namespace {

// The IAM running in this process (accessManagement.mode=builtin, and the -am service).
class BuiltinIam final : public IamParts {
 public:
  // `ctx` is only used while build() runs (it lives on Gateway::start()'s stack); what outlives it is kept.
  explicit BuiltinIam(WiringContext& ctx) : ctx_(ctx), blocking_(ctx.blocking) {}

  Status build() {
    const Clock& clock = SystemClock::instance();
    auto iam_store = store::SqliteIamStore::open(ctx_.db);
    if (!iam_store) return iam_store.error();
    iam_store_ = std::move(iam_store.value());
    auto key_store = store::SqliteKeyStore::open(ctx_.db);
    if (!key_store) return key_store.error();
    key_store_ = std::move(key_store.value());
    auto token_store = store::SqliteTokenStore::open(ctx_.db);
    if (!token_store) return token_store.error();
    token_store_ = std::move(token_store.value());
    auto failure_store = store::SqliteLoginFailureStore::open(ctx_.db);
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
    authenticator_ = std::make_unique<auth::Authenticator>(*tokens_, *users_, *token_store_, clock, auth_options);
    if (auto s = authenticator_->load(); !s) return s;
    passwords_ = std::make_unique<iam::PasswordHasher>();
    limiter_ = std::make_unique<iam::LoginLimiter>(clock);
    login_ = std::make_unique<iam::LoginService>(*users_, *passwords_, *tokens_, *authenticator_, *limiter_,
                                                 *failure_store_, clock);
    if (auto s = login_->load(); !s) return s;
    entitlements_ = std::make_unique<iam::EntitlementService>(*iam_store_);

    auto boot = iam::bootstrap(*iam_store_, *passwords_, clock);
    if (!boot) return Error::internal("IAM bootstrap: " + boot.error().message);
    if (boot->created) log::info("IAM bootstrapped: org 'default' and user 'admin' created");

    auto* authenticator = authenticator_.get();
    iam::register_auth_routes(ctx_.router, iam::AuthApiDeps{*login_, *authenticator_, *tokens_, *users_, ctx_.blocking});
    iam::register_resource_routes(
        ctx_.router, iam::ResourceDeps{*iam_store_, *entitlements_, ctx_.blocking, clock, bearer(),
                                       [authenticator](const std::string& user_id) {
                                         return authenticator->on_user_changed(user_id);
                                       },
                                       *passwords_});
    return Status::success();
  }

  // IamParts
  iam::EntitlementResolver& resolver() override { return *entitlements_; }
  std::function<Result<auth::Principal>(const http::RequestContext&)> bearer() override {
    auto* a = authenticator_.get();
    return [a](const http::RequestContext& ctx) { return a->authenticate_bearer(ctx); };
  }
  std::function<Result<auth::Principal>(std::string_view)> token() override {
    auto* a = authenticator_.get();
    return [a](std::string_view jwt) { return a->authenticate_token(jwt); };
  }
  std::function<bool(const auth::Principal&)> still_valid() override {
    auto* a = authenticator_.get();
    return [a](const auth::Principal& p) { return a->still_valid(p); };
  }
  proxy::AssertionSigner assertion_signer() override {
    auto* t = tokens_.get();
    return [t](const boost::json::object& claims, std::string_view typ) { return t->sign(claims, typ); };
  }
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
  void start(boost::asio::any_io_executor) override {}
  void stop() override {}

 private:
  WiringContext& ctx_;  // valid during build() only
  runtime::BlockingPool& blocking_;
  std::unique_ptr<store::SqliteIamStore> iam_store_;
  std::unique_ptr<store::SqliteKeyStore> key_store_;
  std::unique_ptr<store::SqliteTokenStore> token_store_;
  std::unique_ptr<store::SqliteLoginFailureStore> failure_store_;
  std::unique_ptr<iam::KeyRing> keys_;
  std::unique_ptr<iam::TokenService> tokens_;
  std::unique_ptr<iam::StoreUserDirectory> users_;
  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<iam::PasswordHasher> passwords_;
  std::unique_ptr<iam::LoginLimiter> limiter_;
  std::unique_ptr<iam::LoginService> login_;
  std::unique_ptr<iam::EntitlementService> entitlements_;
};

}  // namespace

Result<std::unique_ptr<IamParts>> build_iam_parts(WiringContext& ctx) {
  if (ctx.config.access.mode != config::AccessMode::kBuiltin && !ctx.access_management_only) {
    return Error::invalid(ctx.config.source_path +
                          ": accessManagement.mode: standalone/external access management is not available in this "
                          "build; use mode=\"builtin\"");
  }
  auto iam = std::make_unique<BuiltinIam>(ctx);
  if (auto s = iam->build(); !s) return s.error();
  return std::unique_ptr<IamParts>(std::move(iam));
}

}  // namespace webstream::app
