#include "streamer.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "events.hpp"

namespace webstream::sim {

namespace net = boost::asio;
namespace json = boost::json;

std::string random_uuid() {
  std::array<unsigned char, 16> b{};
  if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char out[37];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return out;
}

SimStreamer::SimStreamer(net::any_io_executor ex, const GatewayClient& client, std::int64_t interval_ms)
    : client_(client), interval_ms_(interval_ms), guid_(random_uuid()), timer_(ex) {}

void SimStreamer::stop() {
  stopping_ = true;
  timer_.cancel();
}

net::awaitable<void> SimStreamer::check_in() {
  json::object o{{"streamerGuid", guid_}};
  std::string body = json::serialize(o);
  std::string path = "/gateway/license/streamer-checkin";
  HttpReply reply = co_await client_.post_json(std::move(path), std::move(body));
  last_status_ = reply.status;
  json::object event{{"event", "streamer_checkin"}, {"streamerGuid", guid_}, {"status", reply.status}};
  boost::system::error_code ec;
  auto v = json::parse(reply.body, ec);
  if (!ec && v.is_object()) {
    const auto& obj = v.as_object();
    if (const auto* n = obj.if_contains("activeStreamers")) event["activeStreamers"] = *n;
    if (const auto* m = obj.if_contains("maxStreamers")) event["maxStreamers"] = *m;
    if (const auto* err = obj.if_contains("error"); err != nullptr && err->is_object()) {
      if (const auto* code = err->as_object().if_contains("code")) event["code"] = *code;
    }
  }
  if (!reply.error.empty()) event["error"] = reply.error;
  emit_event(event);
}

net::awaitable<void> SimStreamer::run() {
  while (!stopping_) {
    co_await check_in();
    if (stopping_) break;
    timer_.expires_after(std::chrono::milliseconds(interval_ms_));
    auto [ec] = co_await timer_.async_wait(net::as_tuple(net::use_awaitable));
    (void)ec;
  }
}

net::awaitable<void> SimStreamer::check_out() {
  json::object o{{"streamerGuid", guid_}};
  std::string body = json::serialize(o);
  std::string path = "/gateway/license/streamer-checkout";
  HttpReply reply = co_await client_.post_json(std::move(path), std::move(body));
  json::object event{{"event", "streamer_checkout"}, {"streamerGuid", guid_}, {"status", reply.status}};
  if (!reply.error.empty()) event["error"] = reply.error;
  emit_event(event);
}

}  // namespace webstream::sim
