#include "http/router.hpp"

#include <algorithm>

namespace webstream::http {
namespace {
bool exposed(Exposure exposure, ListenerKind listener, bool dev_mode) {
  switch (exposure) {
    case Exposure::kBoth: return true;
    case Exposure::kPublic: return listener == ListenerKind::kPublic || dev_mode;
    case Exposure::kInternal: return listener == ListenerKind::kInternal;
  }
  return false;
}

bool is_prefix_pattern(std::string_view p) { return p.size() >= 2 && p.substr(p.size() - 2) == "/*"; }

// Matches "/a/{}/b" against a path segment by segment; fills params.
bool match_segments(std::string_view pattern, std::string_view path, std::vector<std::string>& params) {
  params.clear();
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty()) return false;
    if (pattern[0] != '/' || path[0] != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    const auto pe = pattern.find('/');
    const auto se = path.find('/');
    const auto pseg = pattern.substr(0, pe);
    const auto seg = path.substr(0, se);
    if (pseg == "{}") {
      if (seg.empty()) return false;
      params.emplace_back(seg);
    } else if (pseg != seg) {
      return false;
    }
    pattern = pe == std::string_view::npos ? std::string_view{} : pattern.substr(pe);
    path = se == std::string_view::npos ? std::string_view{} : path.substr(se);
  }
  return true;
}
}  // namespace

void Router::add(std::string method, std::string pattern, Exposure exposure, Handler handler) {
  std::string name = pattern;
  routes_.push_back(Route{std::move(method), std::move(pattern), exposure, std::move(handler), {}, std::move(name)});
}

void Router::add_upgrade(std::string pattern, Exposure exposure, UpgradeHandler handler) {
  std::string name = pattern;
  routes_.push_back(Route{"GET", std::move(pattern), exposure, {}, std::move(handler), std::move(name)});
}

Router::Match Router::match(std::string_view method, std::string_view path, ListenerKind listener,
                            bool dev_mode) const {
  Match result;
  std::vector<std::string> params;
  std::string allow;
  const Route* best_prefix = nullptr;
  std::vector<std::string> best_prefix_params;
  bool path_known = false;
  auto consider = [&](const Route& r, std::vector<std::string>&& p) -> bool {
    path_known = true;
    if (r.method == "*" || r.method == method || (method == "HEAD" && r.method == "GET")) {
      result.route = &r;
      result.params = std::move(p);
      return true;
    }
    if (allow.find(r.method) == std::string::npos) allow += (allow.empty() ? "" : ", ") + r.method;
    return false;
  };
  for (const auto& r : routes_) {
    if (!exposed(r.exposure, listener, dev_mode) || is_prefix_pattern(r.pattern)) continue;
    if (match_segments(r.pattern, path, params) && consider(r, std::move(params))) return result;
  }
  for (const auto& r : routes_) {
    if (!exposed(r.exposure, listener, dev_mode) || !is_prefix_pattern(r.pattern)) continue;
    const std::string_view base = std::string_view(r.pattern).substr(0, r.pattern.size() - 1);  // keeps '/'
    if (path.substr(0, base.size()) != base) continue;
    if (best_prefix && best_prefix->pattern.size() > r.pattern.size()) continue;
    path_known = true;
    if (r.method == "*" || r.method == method) {
      best_prefix = &r;
      best_prefix_params = {std::string(path.substr(base.size()))};
    } else if (allow.find(r.method) == std::string::npos) {
      allow += (allow.empty() ? "" : ", ") + r.method;
    }
  }
  if (best_prefix) {
    result.route = best_prefix;
    result.params = std::move(best_prefix_params);
    return result;
  }
  result.status = path_known ? 405 : 404;
  result.allow = allow;
  return result;
}

}  // namespace webstream::http
