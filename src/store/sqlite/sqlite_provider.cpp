#include "store/sqlite/sqlite_provider.hpp"

#include "store/sqlite/sqlite_iam_store.hpp"
#include "store/sqlite/sqlite_key_store.hpp"
#include "store/sqlite/sqlite_licence_store.hpp"
#include "store/sqlite/sqlite_login_failure_store.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"
#include "store/sqlite/sqlite_revocation_log_store.hpp"
#include "store/sqlite/sqlite_session_store.hpp"
#include "store/sqlite/sqlite_token_store.hpp"

namespace webstream::store {
namespace {
// Result<unique_ptr<Derived>> → Result<unique_ptr<Base>>.
template <class Base, class Derived>
Result<std::unique_ptr<Base>> up(Result<std::unique_ptr<Derived>> r) {
  if (!r) return r.error();
  return std::unique_ptr<Base>(std::move(r.value()));
}
}  // namespace

Result<std::unique_ptr<StoreProvider>> open_sqlite_provider(const std::string& path) {
  auto db = SqliteDb::open(path);
  if (!db) return db.error();
  return std::unique_ptr<StoreProvider>(new SqliteProvider(std::move(db.value()), path));
}

Result<std::unique_ptr<IamStore>> SqliteProvider::iam() { return up<IamStore>(SqliteIamStore::open(*db_)); }
Result<std::unique_ptr<KeyStore>> SqliteProvider::keys() { return up<KeyStore>(SqliteKeyStore::open(*db_)); }
Result<std::unique_ptr<TokenStore>> SqliteProvider::tokens() { return up<TokenStore>(SqliteTokenStore::open(*db_)); }
Result<std::unique_ptr<RevocationLogStore>> SqliteProvider::revocation_log(const Clock& clock) {
  return up<RevocationLogStore>(SqliteRevocationLogStore::open(*db_, clock));
}
Result<std::unique_ptr<LoginFailureStore>> SqliteProvider::login_failures() {
  return up<LoginFailureStore>(SqliteLoginFailureStore::open(*db_));
}
Result<std::unique_ptr<RegistryStore>> SqliteProvider::registry() {
  return up<RegistryStore>(SqliteRegistryStore::open(*db_));
}
Result<std::unique_ptr<SessionStore>> SqliteProvider::sessions() {
  return up<SessionStore>(SqliteSessionStore::open(*db_));
}
Result<std::unique_ptr<LicenceStore>> SqliteProvider::licence() {
  return up<LicenceStore>(SqliteLicenceStore::open(*db_));
}

}  // namespace webstream::store
