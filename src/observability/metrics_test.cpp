#include "observability/metrics.hpp"

#include <gtest/gtest.h>

namespace webstream::metrics {
namespace {

TEST(Metrics, RendersCountersGaugesAndHistograms) {
  Registry r;
  r.counter("http_requests_total", "Requests", {{"route", "/a"}, {"status", "200"}}).inc(3);
  r.gauge("open_websockets", "Open").set(7);
  auto& h = r.histogram("latency_seconds", "Latency", {{"route", "/a"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  const auto text = r.render();
  EXPECT_NE(text.find("http_requests_total{route=\"/a\",status=\"200\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("open_websockets 7\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("latency_seconds_count{route=\"/a\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE latency_seconds histogram"), std::string::npos);
}

TEST(Metrics, SameNameAndLabelsIsTheSameSeries) {
  Registry r;
  auto& a = r.counter("c", "h", {{"k", "v"}});
  auto& b = r.counter("c", "h", {{"k", "v"}});
  EXPECT_EQ(&a, &b);
  EXPECT_EQ(render_labels({{"k", "a\"b"}}), "{k=\"a\\\"b\"}");
}

}  // namespace
}  // namespace webstream::metrics
