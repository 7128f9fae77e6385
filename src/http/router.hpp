#pragma once
// Router: maps (method, path) to a handler. Patterns are literal paths with {} for one segment
// ("/iam/users/{}"), or a prefix ending in "/*" ("/mcp/api/*": params[0] is the rest, without the
// leading slash). Exact and {} routes win over prefixes; among prefixes the longest wins.
// Each route says which listeners serve it. A path that matches no route answers 404; a path that matches
// with another method answers 405 with Allow.
//
// Cost: a literal path ("/getConnection") is one hash lookup — the routes whose pattern is that path, in the
// order they were added — unless a {} pattern could also match it (then, and for every other path, the
// route list is scanned as the rules above say; the answer is the same either way, router_test.cpp).
//
// Thread rules: built once at start-up, then read-only (lookups from every worker, no lock).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "http/types.hpp"

namespace webstream::http {

using Handler = std::function<boost::asio::awaitable<Response>(RequestContext&)>;

// The browser's connection, plain (development mode) or TLS. An upgrade handler takes it over.
using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
using ClientStream = std::variant<PlainStream, TlsStream>;

// A WebSocket upgrade (GET with Upgrade: websocket). The handler owns `stream` from then on: it answers
// failures itself as plain HTTP (http::write_response), or accepts and relays. ctx.req is the complete
// upgrade request; no bytes beyond it have been read from the stream.
using UpgradeHandler = std::function<boost::asio::awaitable<void>(RequestContext&, ClientStream&&)>;

// Where a route is served.
enum class Exposure {
  kPublic,    // browser traffic: public listener (HTTPS, or HTTP in development mode)
  kInternal,  // registry and metrics: the HTTP listener only
  kBoth,      // e.g. /gateway/health
};

struct Route {
  std::string method;  // "GET", "POST", … or "*" for any
  std::string pattern;
  Exposure exposure;
  Handler handler;
  UpgradeHandler upgrade;  // set for WebSocket routes (method GET); then `handler` is unused
  std::string name;        // metric label: the pattern
};

class Router {
 public:
  void add(std::string method, std::string pattern, Exposure exposure, Handler handler);
  // A WebSocket route. A plain GET on it (no Upgrade header) answers 426 Upgrade Required.
  void add_upgrade(std::string pattern, Exposure exposure, UpgradeHandler handler);

  struct Match {
    const Route* route = nullptr;  // null: see status
    std::vector<std::string> params;
    unsigned status = 404;  // 404 no such path, 405 wrong method
    std::string allow;      // for 405
  };
  // `dev_mode`: no HTTPS listener, so the HTTP listener serves public routes too.
  Match match(std::string_view method, std::string_view path, ListenerKind listener, bool dev_mode) const;
  const std::vector<Route>& routes() const { return routes_; }
  // The scan of the route list alone, without the exact-path table (tests hold the two equal).
  Match scan_for_test(std::string_view method, std::string_view path, ListenerKind listener, bool dev_mode) const {
    return scan(method, path, listener, dev_mode);
  }

 private:
  void index(std::size_t i);
  Match scan(std::string_view method, std::string_view path, ListenerKind listener, bool dev_mode) const;

  struct Exact {
    std::vector<std::size_t> routes;  // indexes into routes_ of the literal patterns equal to this path
    bool shadowed = false;            // a {} pattern matches this path too: scan instead
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>()(s); }
  };
  std::vector<Route> routes_;
  std::unordered_map<std::string, Exact, StringHash, std::equal_to<>> exact_;
  std::vector<std::size_t> templates_;  // routes_ indexes of the patterns with a {} segment
};

// Writes a whole response on a client stream (for upgrade handlers answering an error).
boost::asio::awaitable<void> write_response(ClientStream& stream, Response response);

}  // namespace webstream::http
