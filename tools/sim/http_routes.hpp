#pragma once
// The simulated host's plain HTTP endpoints:
//   GET  /health               200 "OK", or as the /sim/health knob says (failing status, delay, hanging)
//   GET  /getConnection        streamer details + every request header received (names as received)
//   GET  /sim/stats            counters, knobs, registration state
//   GET  /sim/last-upgrade?path=/capture   headers of the last WebSocket upgrade on that path
//   POST /sim/health, /sim/getconnection   {"mode":"healthy|failing|hanging","status":503,"delayMs":0}
//   POST /sim/status           {"status","activeSessions","maxSessions","cpuUsage","memoryUsage","heartbeats"}
//   POST /sim/ws-reject        {"status":N}: answer upgrades with N instead of 101 (0: accept again)
//   POST /sim/register, /sim/unregister    one registry call now
// Thread rules: the sim's io_context thread only.
#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace webstream::sim {

class Host;

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

struct RouteOutcome {
  bool hang = false;  // never answer: keep the connection open and silent
  Response response;
};

boost::asio::awaitable<RouteOutcome> handle_http(Host& host, const Request& req);

// A JSON error body {"error":{"code","message"}} with `status`.
Response error_response(unsigned status, const char* code, const std::string& message, unsigned version);

}  // namespace webstream::sim
