#pragma once
// The MCP proxy (CONTRACT §9).
//   /mcp/api/*  → mcp.metricsEngineUrl + /api/* (every method; query and body passed through; X-MCP-Key
//                 stripped, X-MCP-Key-Name added)
//   /mcp/iam/*  → the in-process IAM handlers as a service principal with admin rights; `read` keys may only
//                 GET there (else 403), `readwrite` keys may do all. Every call is audited with the key's name.
// A missing or unknown X-MCP-Key is 401 (keys compared in constant time); no keys configured: every /mcp/*
// request is 401. A path that decodes to a '..' segment or outside its prefix: 400, never forwarded.
#include <functional>
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "http/router.hpp"
#include "proxy/http_forwarder.hpp"

namespace webstream::mcp {

using KeysSource = std::function<std::shared_ptr<const std::vector<config::NamedKey>>()>;
// Records an /mcp/iam/* call: key name, method, IAM path, resulting status.
using AuditSink = std::function<void(const std::string& key_name, const std::string& method, const std::string& path,
                                     unsigned status)>;

// Finds the configured key matching `presented` (every key is compared, in constant time).
const config::NamedKey* match_key(const std::vector<config::NamedKey>& keys, std::string_view presented);

struct McpDeps {
  KeysSource keys;
  std::string metrics_engine_url;
  const proxy::HttpForwarder& forwarder;
  const http::Router& router;  // for /mcp/iam/* dispatch into the IAM routes
  AuditSink audit;
};

// Registers /mcp/api/* and /mcp/iam/* (Exposure::kPublic). Error: the metrics engine URL is unusable.
Status register_mcp_routes(http::Router& router, McpDeps deps);

}  // namespace webstream::mcp
