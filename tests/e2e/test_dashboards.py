"""The operator's dashboard (docs/grafana/webstream.json), alert rules (docs/grafana/alerts.yml) and metrics
reference (docs/metrics.md) against the metrics a real gateway exposes: every webstream_* metric they query
exists on /metrics, every label they select or group by is one that metric has, and every label value they
match exactly is one it takes; docs/metrics.md lists exactly the families /metrics shows, with their types and
labels.

The gateway is exercised first (a backend, a streamer, a login failure, a session with a relayed WebSocket) so
that the metric families created on first use are on /metrics too. A dashboard that names a metric the binary
does not expose would show "No data" to an operator forever: this test fails instead.
"""
import json
import os
import re
import unittest

from harness import (REPO_ROOT, Gateway, SimProcess, WebSocket, json_request, http_request, parse_metrics,
                     wait_healthy_backends, wait_until)
from iam_seed import Seed

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
DASHBOARD = os.path.join(REPO_ROOT, "docs", "grafana", "webstream.json")
ALERTS = os.path.join(REPO_ROOT, "docs", "grafana", "alerts.yml")
METRICS_DOC = os.path.join(REPO_ROOT, "docs", "metrics.md")
DOC_ROW = re.compile(r"^\|\s*`(webstream_[a-z0-9_]+)`\s*\|\s*(counter|gauge|histogram)\s*\|([^|]*)\|")

# Labels Prometheus adds when it scrapes (not the gateway's), and metrics it makes itself.
SCRAPE_LABELS = {"instance", "job"}
PROMETHEUS_METRICS = {"up"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")

SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"')
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
PROMQL_WORDS = {"sum", "max", "min", "avg", "count", "rate", "increase", "irate", "histogram_quantile", "by",
                "without", "on", "ignoring", "and", "or", "unless", "bool", "offset", "topk", "bottomk"}


def dashboard_expressions():
    with open(DASHBOARD, encoding="utf-8") as f:
        dashboard = json.load(f)
    out = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            out.append(("panel %r" % panel["title"], target["expr"]))
    for variable in dashboard.get("templating", {}).get("list", []):
        query = variable.get("query")
        if variable.get("type") == "query" and isinstance(query, str):
            inner = re.match(r"label_values\((\w+),\s*(\w+)\)", query)
            if inner:
                out.append(("variable %r" % variable["name"], inner.group(1)))
    return out


def alert_expressions():
    """(alert name, expr) for each rule; the file keeps each expr on one `expr:` line."""
    out, name = [], None
    with open(ALERTS, encoding="utf-8") as f:
        for line in f:
            alert = re.match(r"\s*- alert:\s*(\S+)", line)
            if alert:
                name = alert.group(1)
            expr = re.match(r"\s*expr:\s*(.+?)\s*$", line)
            if expr:
                out.append(("alert %s" % name, expr.group(1)))
    return out


def grafana_free(expr):
    """The expression with Grafana's variables made plain PromQL."""
    return expr.replace("$__rate_interval", "5m").replace('"$instance"', '".*"')


def selectors(expr):
    """[(metric, {label: (op, value)})] for each metric selector in a PromQL expression."""
    out = []
    text = re.sub(r'"(?:[^"\\]|\\.)*"', lambda m: m.group(0).replace("(", " ").replace(")", " "), expr)
    text = GROUPING.sub(" ", text)
    for m in SELECTOR.finditer(text):
        name, braces = m.group(1), m.group(2)
        following = text[m.end():].lstrip()[:1]
        if name in PROMQL_WORDS or following == "(" or re.fullmatch(r"\d+[smhd]?", name):
            continue
        if not (name.startswith("webstream_") or name in PROMETHEUS_METRICS):
            continue
        matchers = {k: (op, v) for k, op, v in MATCHER.findall(braces or "")}
        out.append((name, matchers))
    return out


class DashboardsMatchTheMetrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(health=FAST, heartbeat_interval=2)
        cls.gw.start()
        cls.sim = SimProcess(cls.gw.url, hosts=1, streamers=1,
                             args=["--heartbeat-interval", "1", "--fps", "30", "--frame-bytes", "1024"])
        cls.sim.start()
        wait_healthy_backends(cls.gw, 1)
        seed = Seed(cls.gw)
        app = seed.app(exe="notepad.exe", args="/A")
        ws = seed.workspace([app], type_="app")
        user = seed.entitled_user(ws)
        http_request(cls.gw.port, "POST", "/iam/auth/login", {"Content-Type": "application/json"},
                     json.dumps({"username": user["username"], "password": "wrong"}).encode())
        status, _, r = json_request(cls.gw.port, "POST", "/gateway/session/select",
                                    body={"workspaceId": ws["id"], "appId": app["id"]},
                                    headers={"Authorization": "Bearer " + user["token"], "X-Session-ID": "dash-1"})
        assert status == 200, r.text
        status, _, r = json_request(cls.gw.port, "GET", "/getConnection",
                                    headers={"Authorization": "Bearer " + user["token"], "X-Session-ID": "dash-1"})
        assert status == 200, r.text  # the upstream connection families exist from here on
        http_request(cls.gw.port, "POST", "/gateway/license/streamer-checkout", {"Content-Type": "application/json"},
                     json.dumps({"streamerGuid": "00000000-0000-4000-8000-000000000001"}).encode())
        capture = WebSocket.connect(cls.gw.port, "/capture?sessionId=dash-1&token=" + user["token"])
        try:
            capture.recv()  # one relayed frame: the relay's metric families exist from here on
        finally:
            capture.close()

        def scraped():
            cls.samples = cls.gw.metrics()
            return any(name == "webstream_websocket_relayed_bytes_total" for name, _, _ in cls.samples) and any(
                name == "webstream_active_streamers" and value >= 1 for name, _, value in cls.samples)
        wait_until(scraped, timeout=15, message="relay and licence metrics on /metrics")
        cls.types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", cls.gw.request("GET", "/metrics").body.decode(),
                                    re.MULTILINE))
        cls.families = {}
        for name, labels, _ in cls.samples:
            family = cls.families.setdefault(name, {})
            for key, value in labels.items():
                family.setdefault(key, set()).add(value)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.gw.cleanup()

    def family(self, name):
        """The label sets of a metric as /metrics shows it; a histogram's base name means its _bucket series."""
        if name in self.families:
            return self.families[name]
        if name + "_bucket" in self.families:
            return self.families[name + "_bucket"]
        return None

    def check_expression(self, where, expr):
        expr = grafana_free(expr)
        found = selectors(expr)
        self.assertTrue(found, "%s: no webstream_* metric found in %r" % (where, expr))
        labels_in_expr = set()
        for name, matchers in found:
            if name in PROMETHEUS_METRICS:
                continue
            family = self.family(name)
            self.assertIsNotNone(family, "%s queries %s, which /metrics does not have" % (where, name))
            labels_in_expr |= set(family)
            for label, (op, value) in matchers.items():
                if label in SCRAPE_LABELS:
                    continue
                self.assertIn(label, family, "%s: %s has no label %r (it has %s)" % (where, name, label, sorted(family)))
                if op == "=":
                    self.assertIn(value, family[label], "%s: %s{%s} never takes %r (seen %s)" % (
                        where, name, label, value, sorted(family[label])))
                else:  # a regular expression may be about values not seen yet (5xx): it must only compile
                    re.compile(value)
        for group in GROUPING.findall(expr):
            for label in (x.strip() for x in group.split(",") if x.strip()):
                if label in SCRAPE_LABELS:
                    continue
                self.assertIn(label, labels_in_expr,
                              "%s groups by %r, which none of its metrics has" % (where, label))

    def test_every_dashboard_query_names_metrics_and_labels_the_gateway_exposes(self):
        expressions = dashboard_expressions()
        self.assertGreaterEqual(len(expressions), 8)
        for where, expr in expressions:
            with self.subTest(where=where, expr=expr):
                self.check_expression(where, expr)

    def test_every_alert_rule_names_metrics_and_labels_the_gateway_exposes(self):
        expressions = alert_expressions()
        self.assertGreaterEqual(len(expressions), 6)
        for where, expr in expressions:
            with self.subTest(where=where, expr=expr):
                self.check_expression(where, expr)

    def test_the_dashboard_covers_what_an_operator_watches(self):
        wanted = {"webstream_sessions", "webstream_websocket_relayed_bytes_total", "webstream_backends",
                  "webstream_login_failures_total", "webstream_login_lockouts_total", "webstream_active_streamers",
                  "webstream_max_streamers", "webstream_http_request_duration_seconds_bucket"}
        used = {name for _, expr in dashboard_expressions() for name, _ in selectors(grafana_free(expr))}
        self.assertFalse(wanted - used, "the dashboard has no panel for %s" % sorted(wanted - used))

    def test_the_metrics_reference_lists_exactly_what_metrics_shows(self):
        documented = {}
        with open(METRICS_DOC, encoding="utf-8") as f:
            for line in f:
                m = DOC_ROW.match(line)
                if m:
                    labels = {x.strip() for x in m.group(3).split(",") if x.strip() not in ("", "—")}
                    documented[m.group(1)] = (m.group(2), labels)
        shown = {name for name in self.types if name.startswith("webstream_")}
        self.assertFalse(shown - set(documented), "on /metrics but not in docs/metrics.md: %s" % sorted(shown - set(documented)))
        self.assertFalse(set(documented) - shown, "in docs/metrics.md but not on /metrics: %s" % sorted(set(documented) - shown))
        for name, (type_, labels) in documented.items():
            with self.subTest(metric=name):
                self.assertEqual(self.types[name], type_, "%s: the page says %s" % (name, type_))
                seen = set(self.family(name) or {}) - {"le"}
                self.assertEqual(seen, labels, "%s: /metrics has labels %s, the page %s" % (name, sorted(seen), sorted(labels)))

    def test_the_checker_catches_a_metric_or_label_that_does_not_exist(self):
        with self.assertRaises(AssertionError):
            self.check_expression("probe", "sum(rate(webstream_no_such_metric_total[5m]))")
        with self.assertRaises(AssertionError):
            self.check_expression("probe", 'sum(webstream_backends{state="broken"})')
        with self.assertRaises(AssertionError):
            self.check_expression("probe", "sum by (colour) (webstream_sessions)")


if __name__ == "__main__":
    unittest.main()
