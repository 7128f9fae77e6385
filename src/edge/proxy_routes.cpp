#include "edge/proxy_routes.hpp"

#include <boost/beast/http/field.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "edge/websocket_observer.hpp"
#include "http/wire.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "proxy/header_policy.hpp"
#include "sessions/session_id.hpp"
#include "sessions/sessions_api.hpp"

namespace webstream::edge {

namespace net = boost::asio;

namespace {

// The session's identity as one slice (core::SessionIdentity), its id; the assertion is added by the caller.
proxy::Identity identity_of(const sessions::LiveSession& s) {
  proxy::Identity id;
  static_cast<core::SessionIdentity&>(id) = s.record;
  id.session_id = s.record.id;
  return id;
}

proxy::ForwardInfo forward_info(const http::RequestContext& ctx) {
  return proxy::ForwardInfo{
      .client_ip = ctx.remote_ip, .proto = ctx.tls ? "https" : "http", .host = std::string(ctx.header("Host"))};
}

// Who is calling, and which of their live sessions: from headers (Bearer + X-Session-ID) or, for a
// WebSocket that cannot set headers, from ?sessionId=&token= (a JWT or the session's connect token).
struct Caller {
  std::shared_ptr<sessions::LiveSession> session;
  std::shared_ptr<const core::Principal> principal;  // null when a connect token was used
};

// What find_caller did not find in memory but the shared store may have: a session id this gateway does not
// know, named by a caller whose JWT verified (its user id) or with a connect token of the right shape (no user
// id: the token can only be checked against the session's row). Nothing else ever reads the store.
struct Miss {
  std::string session_id;
  std::string user_id;
  bool connect_token = false;
};

Result<Caller> find_caller(const http::RequestContext& ctx, const ProxyRoutesDeps& deps, bool allow_query,
                           Miss* miss = nullptr) {
  std::string token;
  const bool has_bearer = !ctx.header("Authorization").empty();
  const bool from_query = allow_query && !has_bearer;
  if (from_query) token = ctx.query_param("token");
  if (!has_bearer && token.empty()) return Error{401, "unauthorized", "a Bearer token or ?token= is required"};
  auto read_id = sessions::proxied_session_id(
      ctx, from_query ? sessions::SessionIdQuery::kRead : sessions::SessionIdQuery::kIgnored);
  if (!read_id) return read_id.error();
  const std::string session_id = std::move(read_id.value());
  Caller caller;
  if (!has_bearer && token.rfind("ct.", 0) == 0) {
    caller.session = deps.sessions.lookup_by_connect_token(session_id, token);
    // A connect token is only as good as the token that selected its session (logout, user disabled,
    // deleted or changed password): from then on it opens nothing, before the sweeper ends the session.
    if (!caller.session || !deps.sessions.selector_still_valid(*caller.session)) {
      if (!caller.session && miss && sessions::is_connect_token_shaped(token) && !deps.sessions.knows(session_id)) {
        *miss = Miss{.session_id = session_id, .user_id = {}, .connect_token = true};
      }
      return Error{401, "unauthorized", "the connect token is not valid for this session"};
    }
    return caller;
  }
  auto principal = has_bearer ? deps.auth.bearer(ctx) : deps.auth.token(token);
  if (!principal) return principal.error();  // no store read for a token that did not verify
  const core::Principal& who = *principal.value();
  caller.session = deps.sessions.lookup(session_id, who.user_id);
  if (!caller.session) {
    if (miss && !deps.sessions.knows(session_id)) {
      *miss = Miss{.session_id = session_id, .user_id = who.user_id, .connect_token = false};
    }
    return Error::not_found("session_not_found", "no live session with this id");
  }
  caller.principal = std::move(principal.value());
  return caller;
}

metrics::Counter& store_read_counter(bool found) {
  static const std::string help = "reads of the shared store for a session this gateway does not know, by result";
  static metrics::Counter& found_reads =
      metrics::Registry::global().counter("webstream_proxy_session_store_reads_total", help, {{"result", "found"}});
  static metrics::Counter& absent_reads =
      metrics::Registry::global().counter("webstream_proxy_session_store_reads_total", help, {{"result", "absent"}});
  return found ? found_reads : absent_reads;
}

// Connect-token reads not made: the id was found absent within the negative cache's TTL, or the cap on
// concurrent reads was reached (answered 503).
metrics::Counter& skipped_read_counter(bool busy) {
  static const std::string help =
      "connect-token reads of the shared store not made: the id was known absent, or too many reads were running";
  static metrics::Counter& known_absent = metrics::Registry::global().counter(
      "webstream_proxy_session_store_reads_skipped_total", help, {{"reason", "known_absent"}});
  static metrics::Counter& busy_reads = metrics::Registry::global().counter(
      "webstream_proxy_session_store_reads_skipped_total", help, {{"reason", "busy"}});
  return busy ? busy_reads : known_absent;
}

Error store_unavailable(const std::string& why) {
  Error e{503, "store_unavailable", why};
  e.retry_after = 1;
  return e;
}

// find_caller, and on a shared store, once more after reading a session this gateway does not know from the
// store (it was selected through another gateway). Only a Miss pays the store's round trip, on the blocking
// pool: never a caller without a verified JWT or a well-formed connect token; a connect token's read goes
// through the gate (negative cache, cap on concurrent reads). A session found is in memory from then on.
net::awaitable<Result<Caller>> find_caller_anywhere(const http::RequestContext& ctx, const ProxyRoutesDeps& deps,
                                                    bool allow_query) {
  Miss miss;
  auto caller = find_caller(ctx, deps, allow_query, &miss);
  if (caller || miss.session_id.empty() || !deps.blocking || !deps.sessions.shared_store()) co_return caller;
  StoreLookupGate::Slot slot;
  if (miss.connect_token) {
    if (deps.store_lookups->known_absent(miss.session_id)) {
      skipped_read_counter(false).inc();
      co_return caller;
    }
    slot = deps.store_lookups->try_acquire();
    if (!slot) {
      skipped_read_counter(true).inc();
      co_return store_unavailable("too many sessions are being looked up in the store; retry");
    }
  }
  auto* sessions = &deps.sessions;
  auto work = [sessions, session_id = miss.session_id, user_id = miss.user_id] {
    return sessions->adopt(session_id, user_id) != nullptr;
  };
  const bool adopted = co_await deps.blocking->run(std::move(work));
  slot = StoreLookupGate::Slot();
  store_read_counter(adopted).inc();
  if (!adopted) {
    // An outage is not an absence: 503 (CONTRACT §12), and nothing is remembered.
    if (deps.store_reachable && !deps.store_reachable()) co_return store_unavailable("the store is unavailable");
    if (miss.connect_token) deps.store_lookups->record_absent(miss.session_id);
    co_return caller;
  }
  co_return find_caller(ctx, deps, allow_query);
}

// The parsed form of a backend's serverUrl. Parsed once per worker thread and URL, not per request (a
// registry change gives a new URL string, hence a new entry; the map is cleared if it ever grows large).
Result<std::shared_ptr<const proxy::BackendUrl>> parsed_backend_url(const std::string& server_url) {
  thread_local std::unordered_map<std::string, std::shared_ptr<const proxy::BackendUrl>> cache;
  constexpr std::size_t kMaxCached = 4096;
  if (auto it = cache.find(server_url); it != cache.end()) return it->second;
  auto url = proxy::parse_backend_url(server_url);
  if (!url) return Error{502, "backend_unavailable", "the session host's address cannot be used"};
  if (cache.size() >= kMaxCached) cache.clear();
  auto parsed = std::make_shared<const proxy::BackendUrl>(std::move(url.value()));
  cache.emplace(server_url, parsed);
  return parsed;
}

Result<std::shared_ptr<const proxy::BackendUrl>> backend_url_of(const sessions::LiveSession& s,
                                                                const ProxyRoutesDeps& deps) {
  auto location = deps.routing.locate(s.record.backend_id);
  if (!location) return Error{502, "backend_unavailable", "the session host of this session is gone"};
  return parsed_backend_url(location->server_url);
}

struct Upstream {
  proxy::Identity identity;
  proxy::BackendUrl url;
};

Result<Upstream> upstream_for(const sessions::LiveSession& s, const ProxyRoutesDeps& deps) {
  auto url = backend_url_of(s, deps);
  if (!url) return url.error();
  Upstream up{identity_of(s), *url.value()};
  auto assertion = deps.assertions.get(up.identity, s.record.backend_id);
  if (!assertion) return assertion.error();
  up.identity.assertion = std::move(assertion.value());
  return up;
}

bool method_has_body(http::bhttp::verb method) {
  using http::bhttp::verb;
  return method == verb::post || method == verb::put || method == verb::patch;
}

// The backend request in wire form, written straight from the client's request: start line, the client's
// fields that survive the header policy, the session's identity block (signed once per session), the
// forward headers, Host and Content-Length (docs/proxy.md "Hot path").
Result<proxy::WireRequest> backend_request(const http::RequestContext& ctx, const proxy::BackendUrl& url,
                                           const std::string& identity_lines) {
  proxy::WireRequest wire;
  wire.method = ctx.req.method();
  std::string& head = wire.head;
  head.reserve(1024 + identity_lines.size());
  head.append(ctx.req.method_string());
  head.push_back(' ');
  const auto slash = ctx.raw_target.find('?');
  const std::string_view encoded_path =
      std::string_view(ctx.raw_target).substr(0, slash == std::string::npos ? ctx.raw_target.size() : slash);
  // `token` is the gateway's (a credential), never the backend's, whichever route it came on.
  head.append(proxy::join_target(url.base_path, encoded_path, proxy::remove_query_param(ctx.query, "token")));
  head.append(" HTTP/1.1\r\n");
  proxy::append_surviving_fields(ctx.req.base(), head);
  head.append(identity_lines);
  if (auto s = proxy::append_forward_lines(forward_info(ctx), head); !s) return s.error();
  http::append_field(head, "Host", url.host_header);
  const std::string& body = ctx.req.body();
  if (!body.empty() || method_has_body(wire.method))
    http::append_field(head, "Content-Length", std::to_string(body.size()));
  head.append("\r\n");
  wire.body = body;
  return wire;
}

net::awaitable<http::Response> get_connection(http::RequestContext& ctx, const ProxyRoutesDeps& deps) {
  auto caller = co_await find_caller_anywhere(ctx, deps, false);
  if (!caller) co_return http::error_response(caller.error(), ctx.req);
  const sessions::LiveSession& session = *caller->session;
  auto url = backend_url_of(session, deps);
  if (!url) co_return http::error_response(url.error(), ctx.req);
  // Identity fields of a live session never change, so the block signed for this session object is reused
  // without rebuilding the identity.
  const std::function<proxy::Identity()> make_identity = [&session] { return identity_of(session); };
  auto identity_lines =
      deps.assertions.identity_headers(caller->session, session.record.id, session.record.backend_id, make_identity);
  if (!identity_lines) co_return http::error_response(identity_lines.error(), ctx.req);
  auto wire = backend_request(ctx, *url.value(), *identity_lines.value());
  if (!wire) co_return http::error_response(wire.error(), ctx.req);
  deps.sessions.mark_used(caller->session);
  const std::shared_ptr<const proxy::BackendUrl> backend = url.value();  // kept alive across the await
  if (ctx.wire_answer) {
    // The backend's answer goes back in wire form, filtered as it is parsed (docs/proxy.md "Hot path").
    auto done = co_await deps.forwarder.forward_answer(*backend, std::move(wire.value()), *ctx.wire_answer);
    if (!done) co_return http::error_response(done.error(), ctx.req);
    http::Response res;
    res.result(ctx.wire_answer->status);
    res.version(ctx.req.version());
    res.keep_alive(ctx.req.keep_alive());
    co_return res;
  }
  auto answer = co_await deps.forwarder.forward_wire(*backend, std::move(wire.value()));
  if (!answer) co_return http::error_response(answer.error(), ctx.req);
  http::Response res = std::move(answer.value());
  res.version(ctx.req.version());
  res.keep_alive(ctx.req.keep_alive());
  co_return res;
}

net::awaitable<void> websocket(http::RequestContext& ctx, http::ClientStream&& stream, const ProxyRoutesDeps& deps) {
  auto caller = co_await find_caller_anywhere(ctx, deps, true);
  if (!caller) {
    // Named before the co_await: GCC 12 destroys temporaries inside a co_await twice.
    http::Response refusal = http::error_response(caller.error(), ctx.req.version(), false);
    co_await http::write_response(stream, std::move(refusal));
    co_return;
  }
  auto upstream = upstream_for(*caller->session, deps);
  if (!upstream) {
    http::Response refusal = http::error_response(upstream.error(), ctx.req.version(), false);
    co_await http::write_response(stream, std::move(refusal));
    co_return;
  }
  const auto slash = ctx.raw_target.find('?');
  std::string path = ctx.raw_target.substr(0, slash == std::string::npos ? ctx.raw_target.size() : slash);
  const std::string query = proxy::remove_query_param(ctx.query, "token");
  proxy::RelayRequest request{ctx.req, {}, std::move(upstream->identity), forward_info(ctx)};
  request.target = proxy::BackendTarget{upstream->url.host, upstream->url.port,
                                        proxy::join_target(upstream->url.base_path, path, query)};
  // The relay runs detached from this request loop: a WebSocket can stay open for hours, and the loop's
  // frame (parser, buffers, request) would otherwise stay with it (docs/proxy.md, "Memory"). The
  // connection ticket rides along in the observer, keeping the connection counted against the listener caps.
  auto observer =
      std::make_shared<WebSocketObserver>(WebSocketObserver::Parts{.sessions = deps.sessions,
                                                                   .auth = deps.auth,
                                                                   .session = caller->session,
                                                                   .principal = std::move(caller->principal),
                                                                   .connection_ticket = ctx.connection_ticket,
                                                                   .path = std::move(path)});
  proxy::start_relay(std::move(stream), std::move(request), deps.relay_options, std::move(observer));
}

}  // namespace

void register_proxy_routes(http::Router& router, ProxyRoutesDeps deps) {
  // The store-read families are on /metrics from the start (at 0; they stay there on SQLite).
  for (const bool found : {true, false}) {
    store_read_counter(found);
    skipped_read_counter(found);
  }
  if (!deps.store_lookups) {
    deps.store_lookups = std::make_shared<StoreLookupGate>(StoreLookupGateOptions{}, SystemClock::instance());
  }
  // Graceful stop closes the relays with 1001: they register with the lifecycle once per thread (RelayWatch).
  deps.relay_options.lifecycle = &deps.lifecycle;
  auto shared = std::make_shared<ProxyRoutesDeps>(std::move(deps));
  router.add("GET", "/getConnection", http::Exposure::kPublic,
             [shared](http::RequestContext& ctx) { return get_connection(ctx, *shared); });
  for (const char* path : {"/capture", "/control", "/audio"}) {
    router.add_upgrade(path, http::Exposure::kPublic, [shared](http::RequestContext& ctx, http::ClientStream&& stream) {
      return websocket(ctx, std::move(stream), *shared);
    });
  }
}

}  // namespace webstream::edge
