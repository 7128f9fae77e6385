#pragma once
// StoreUserDirectory: auth::UserDirectory over the IAM store, for login and the authenticator. Returns
// disabled users too (the caller decides what disabled means); a store failure reads as "not found" and
// is logged, so login answers 401 rather than leaking an internal error.
//
// Thread rules: thread-safe; calls block on the store (call from BlockingPool).
#include "auth/user_directory.hpp"
#include "store/iam_store.hpp"

namespace webstream::iam {

class StoreUserDirectory final : public auth::UserDirectory {
 public:
  explicit StoreUserDirectory(store::IamStore& store) : store_(store) {}

  // UserDirectory
  Result<std::optional<auth::UserRecord>> find_by_username(const std::string& username) override;
  Result<std::optional<auth::UserRecord>> find_by_id(const std::string& user_id) override;

 private:
  store::IamStore& store_;
};

auth::UserRecord to_user_record(const store::UserRow& row);

}  // namespace webstream::iam
