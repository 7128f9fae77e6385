#include "iam/bootstrap.hpp"

#include <sodium.h>

#include <cstdlib>
#include <iostream>

#include "core/ids.hpp"
#include "iam/field_rules.hpp"
#include "iam/sodium_init.hpp"
#include "observability/log.hpp"

namespace webstream::iam {

namespace {

// 20 characters from a 57-letter alphabet without look-alikes (about 116 bits), easy to type once.
std::string random_password() {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  constexpr std::uint32_t kSize = sizeof(kAlphabet) - 1;
  std::string out;
  for (int i = 0; i < 20; ++i) out += kAlphabet[randombytes_uniform(kSize)];
  return out;
}

store::AuditRow audit(const Clock& clock, const char* type, const std::string& id) {
  return store::AuditRow{random_id("aud_"), clock.now_ms(), "bootstrap", "bootstrap",
                         "create",          type,           id,          kDefaultOrgId};
}

}  // namespace

Result<BootstrapOutcome> bootstrap(store::IamStore& store, const PasswordHasher& passwords, const Clock& clock,
                                   const std::optional<std::string>& admin_password, std::ostream& err) {
  auto empty = store.is_empty();
  if (!empty) return empty.error();
  if (!*empty) return BootstrapOutcome{};

  BootstrapOutcome outcome;
  outcome.created = true;
  std::string password;
  if (admin_password && !admin_password->empty()) {
    if (auto s = validate_new_password(*admin_password, kAdminPasswordEnv); !s) return s.error();
    password = *admin_password;
  } else {
    ensure_sodium();
    password = random_password();
    outcome.password_generated = true;
  }
  auto hash = passwords.hash(password);
  if (!hash) return hash.error();

  const Millis now = clock.now_ms();
  store::OrgRow org{kDefaultOrgId, kDefaultOrgId, std::nullopt, now, now};
  if (auto s = store.create_org(org, audit(clock, "org", org.id)); !s) return s.error();
  store::UserRow admin;
  admin.id = random_id("usr_");
  admin.org_id = org.id;
  admin.username = "admin";
  admin.password_hash = std::move(hash.value());
  admin.roles = {"admin"};
  admin.display_name = "Administrator";
  admin.created_at = admin.updated_at = now;
  if (auto s = store.create_user(admin, audit(clock, "user", admin.id)); !s) return s.error();

  log::info("IAM bootstrapped: org 'default' and user 'admin' created",
            {{"userId", admin.id}, {"passwordFrom", outcome.password_generated ? "generated" : kAdminPasswordEnv}});
  if (outcome.password_generated) {
    err << "webstream: created user 'admin' (role admin) in org 'default' with the password:\n\n    " << password
        << "\n\nIt is shown only this once. Sign in and change it (PUT /iam/users/{id}/password), or set "
        << kAdminPasswordEnv << " before the first start.\n";
    err.flush();
  }
  sodium_memzero(password.data(), password.size());
  return outcome;
}

Result<BootstrapOutcome> bootstrap(store::IamStore& store, const PasswordHasher& passwords, const Clock& clock) {
  const char* env = std::getenv(kAdminPasswordEnv);
  std::optional<std::string> password;
  if (env) password = std::string(env);
  return bootstrap(store, passwords, clock, password, std::cerr);
}

}  // namespace webstream::iam
