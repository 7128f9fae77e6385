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
// True when one of the pattern's segments is "{}".
bool has_param_segment(std::string_view pattern) {
  for (std::size_t at = pattern.find("{}"); at != std::string_view::npos; at = pattern.find("{}", at + 1)) {
    const bool starts = at > 0 && pattern[at - 1] == '/';
    const bool ends = at + 2 == pattern.size() || pattern[at + 2] == '/';
    if (starts && ends) return true;
  }
  return false;
}

bool method_matches(std::string_view route_method, std::string_view method) {
  return route_method == "*" || route_method == method || (method == "HEAD" && route_method == "GET");
}
}  // namespace

void Router::index(std::size_t i) {
  const std::string& pattern = routes_[i].pattern;
  // A pattern not starting with '/' matches no path (match_segments); a prefix pattern is only tried after
  // every exact and {} route has failed, so neither can change what an exact lookup finds.
  if (pattern.empty() || pattern[0] != '/' || is_prefix_pattern(pattern)) return;
  std::vector<std::string> ignored;
  if (has_param_segment(pattern)) {
    templates_.push_back(i);
    for (auto& [path, entry] : exact_) {
      if (match_segments(pattern, path, ignored)) entry.shadowed = true;
    }
    return;
  }
  auto [it, added] = exact_.try_emplace(pattern);
  it->second.routes.push_back(i);
  if (!added) return;
  for (const std::size_t t : templates_) {
    if (match_segments(routes_[t].pattern, pattern, ignored)) it->second.shadowed = true;
  }
}

void Router::add(std::string method, std::string pattern, Exposure exposure, Handler handler) {
  std::string name = pattern;
  routes_.push_back(Route{std::move(method), std::move(pattern), exposure, std::move(handler), {}, std::move(name)});
  index(routes_.size() - 1);
}

void Router::add_upgrade(std::string pattern, Exposure exposure, UpgradeHandler handler) {
  std::string name = pattern;
  routes_.push_back(Route{"GET", std::move(pattern), exposure, {}, std::move(handler), std::move(name)});
  index(routes_.size() - 1);
}

Router::Match Router::match(std::string_view method, std::string_view path, ListenerKind listener,
                            bool dev_mode) const {
  // A literal path no {} pattern can match: the first of its routes (in the order added) that is served on
  // this listener and takes this method is what the scan would find first. Anything else (404, 405 with its
  // Allow list, {} and prefix routes) goes through the scan.
  if (!path.empty() && path[0] == '/') {
    if (auto it = exact_.find(path); it != exact_.end() && !it->second.shadowed) {
      for (const std::size_t i : it->second.routes) {
        const Route& r = routes_[i];
        if (exposed(r.exposure, listener, dev_mode) && method_matches(r.method, method)) {
          Match result;
          result.route = &r;
          return result;
        }
      }
    }
  }
  return scan(method, path, listener, dev_mode);
}

Router::Match Router::scan(std::string_view method, std::string_view path, ListenerKind listener, bool dev_mode) const {
  Match result;
  std::vector<std::string> params;
  std::string allow;
  const Route* best_prefix = nullptr;
  std::vector<std::string> best_prefix_params;
  bool path_known = false;
  auto consider = [&](const Route& r, std::vector<std::string>&& p) -> bool {
    path_known = true;
    if (method_matches(r.method, method)) {
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
