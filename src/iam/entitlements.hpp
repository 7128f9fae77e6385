#pragma once
// EntitlementService: the built-in IAM's EntitlementResolver (what a user may launch, under which policy)
// and the answer of GET /iam/me/entitlements, both over the IamStore.
//
// A user is entitled to a workspace of its own org when an entitlement names the user, one of its groups,
// or its org. The apps it may launch there are the union of those entitlements' app subsets (an empty
// subset means every app of the workspace), always within the workspace's own app list. The policy is
// iam/policy.hpp's merge of those entitlements' policies. A disabled or unknown user is entitled to nothing.
//
// Thread rules: thread-safe (no state of its own); calls block on the store — call from BlockingPool.
#include <boost/json/array.hpp>

#include "sessions/entitlement_resolver.hpp"
#include "store/iam_store.hpp"

namespace webstream::iam {

class EntitlementService final : public sessions::EntitlementResolver {
 public:
  explicit EntitlementService(store::IamStore& store) : store_(store) {}

  // EntitlementResolver
  // 403 not_entitled: unknown or disabled user, unknown workspace or one of another org, no entitlement,
  // or an app outside the allowed subset. 500 on a store failure.
  Result<sessions::Resolution> resolve(const std::string& user_id, const std::string& workspace_id,
                                       const std::optional<std::string>& app_id) override;

  // Items of GET /iam/me/entitlements: [{"workspace":{…},"apps":[{…}],"policy":{…}}], by workspace name.
  Result<boost::json::array> entitlements_for(const std::string& user_id);

 private:
  store::IamStore& store_;
};

}  // namespace webstream::iam
