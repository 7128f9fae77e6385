#pragma once
// Test helpers: write IAM rows straight into a store (no RBAC, no hashing) so tests can set a scene.
#include <boost/json.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "store/iam_store.hpp"

namespace webstream::iam::testing {

class Seed {
 public:
  explicit Seed(store::IamStore& store) : store_(store) {}

  void org(const std::string& id, std::optional<std::int64_t> max_sessions = std::nullopt) {
    check(store_.create_org(store::OrgRow{id, id, max_sessions, tick(), tick()}, audit(id)));
  }
  void user(const std::string& id, const std::string& org, std::vector<std::string> roles = {"user"},
            bool disabled = false) {
    store::UserRow u;
    u.id = id;
    u.org_id = org;
    u.username = id;
    u.password_hash = "$argon2id$v=19$not-a-real-hash";
    u.roles = std::move(roles);
    u.disabled = disabled;
    u.created_at = u.updated_at = tick();
    check(store_.create_user(u, audit(org)));
  }
  void app(const std::string& id, const std::string& org, const std::string& exe = "app.exe") {
    object(store::kApp, id, org, {{"exe", exe}, {"args", "--" + id}});
  }
  void workspace(const std::string& id, const std::string& org, std::vector<std::string> apps,
                 const std::string& type = "app") {
    boost::json::array a;
    for (auto& s : apps) a.emplace_back(s);
    object(store::kWorkspace, id, org,
           {{"type", type},
            {"apps", a},
            {"requiredTags", boost::json::array{}},
            {"requiredCapabilities", boost::json::array{}}});
  }
  void policy(const std::string& id, const std::string& org, const char* document_json) {
    object(store::kPolicy, id, org, {{"document", boost::json::parse(document_json)}});
  }
  void group(const std::string& id, const std::string& org, const std::vector<std::string>& members = {}) {
    object(store::kGroup, id, org, {});
    for (const auto& m : members) check(store_.add_member(id, m, tick(), audit(org)));
  }
  void entitle(const std::string& id, const std::string& org, const std::string& subject_type,
               const std::string& subject_id, const std::string& workspace, std::vector<std::string> apps = {},
               std::optional<std::string> policy = std::nullopt) {
    store::EntitlementRow e;
    e.id = id;
    e.org_id = org;
    e.subject_type = subject_type;
    e.subject_id = subject_id;
    e.workspace_id = workspace;
    e.app_ids = std::move(apps);
    e.policy_id = std::move(policy);
    e.created_at = e.updated_at = tick();
    check(store_.create_entitlement(e, audit(org)));
  }
  void object(const char* type, const std::string& id, const std::string& org, boost::json::object doc) {
    check(store_.create_object(store::ObjectRow{type, id, org, id, std::move(doc), tick(), tick()}, audit(org)));
  }

 private:
  static void check(const Status& s) {
    if (!s) throw std::runtime_error("seed: " + s.error().message);
  }
  store::AuditRow audit(const std::string& org) {
    return store::AuditRow{"aud_seed_" + std::to_string(++n_), tick(), "seed", "seed", "create", "seed", "x", org};
  }
  Millis tick() { return 1'700'000'000'000 + (++t_); }

  store::IamStore& store_;
  int n_ = 0;
  Millis t_ = 0;
};

}  // namespace webstream::iam::testing
