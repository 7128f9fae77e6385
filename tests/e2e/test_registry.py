"""Backend registry end to end (CONTRACT §4, §10): webstream-sim hosts register and heartbeat with the real
gateway, the gateway probes their /health, and the state it shows follows.

Backend state is read from GET /gateway/admin/backends (admin token from /iam/auth/login) when the gateway has
it; otherwise from the metrics gauge webstream_backends{state="…"} (counts only)."""

import collections
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import json_request, wait_until  # noqa: E402

# Short probe intervals so state changes are seen in seconds (the gateway warns about timeout < 6 and starts).
FAST_HEALTH = {"interval": 2, "unstableInterval": 1, "timeout": 1, "failureThreshold": 3, "successThreshold": 2}
UNREACHABLE_WITHIN = 5.0   # issue 2: a failing or dead host is Unreachable within 5 s
HEALTHY_WITHIN = 5.0       # successThreshold (2) probes at unstableInterval (1 s), with room for scheduling
FIRST_HEALTHY_WITHIN = 10.0


def canonical_state(label):
    """Metric label values may be lower case ("healthy"); the admin list says "Healthy"."""
    return label[:1].upper() + label[1:].lower()


def backend_gauge(samples, state):
    """webstream_backends{state=…} for `state`, matching the label value in any case; 0 when absent."""
    return sum(v for n, l, v in samples if n == "webstream_backends" and l.get("state", "").lower() == state.lower())


class RegistryView:
    """What the gateway says about its backends."""

    def __init__(self, gateway):
        self.gateway = gateway
        self._admin = None  # None: not decided yet; True/False once known

    def admin_available(self):
        if self._admin is None:
            self._admin = self._fetch_items() is not None
        return self._admin

    def _fetch_items(self):
        try:
            token = self.gateway.admin_token()
        except (AssertionError, KeyError, ValueError, OSError):
            return None
        status, body, r = json_request(self.gateway.port, "GET", "/gateway/admin/backends", token=token)
        if status in (404, 405):
            return None
        if status == 401:  # the token of a previous gateway run; log in again once
            self.gateway._token = None
            status, body, r = json_request(self.gateway.port, "GET", "/gateway/admin/backends",
                                           token=self.gateway.admin_token())
        if status != 200:
            raise AssertionError("GET /gateway/admin/backends answered %d: %s" % (status, r.text[:300]))
        return body["items"]

    def items(self):
        """The admin endpoint's items; the test is skipped when the gateway has no admin endpoint."""
        if not self.admin_available():
            raise unittest.SkipTest("GET /gateway/admin/backends is not available")
        return self._fetch_items()

    def item(self, server_url):
        for it in self.items():
            if it["serverUrl"].rstrip("/") == server_url.rstrip("/"):
                return it
        return None

    def counts(self):
        """{state: number of backends} from the admin list, or from the metrics gauge."""
        if self.admin_available():
            return dict(collections.Counter(it["state"] for it in self._fetch_items()))
        out = {}
        for name, labels, value in self.gateway.metrics():
            if name == "webstream_backends" and "state" in labels and value:
                state = canonical_state(labels["state"])
                out[state] = out.get(state, 0) + int(value)
        return out

    def matches(self, expected):
        """expected: {serverUrl: state}. With the admin list every URL must have its state; with metrics the
        number of backends in each expected state must be exactly what `expected` implies."""
        if self.admin_available():
            states = {it["serverUrl"].rstrip("/"): it["state"] for it in self._fetch_items()}
            return all(states.get(url.rstrip("/")) == state for url, state in expected.items())
        counts = self.counts()
        want = collections.Counter(expected.values())
        return all(counts.get(state, 0) == n for state, n in want.items())

    def wait(self, expected, timeout, message=None):
        return wait_until(lambda: self.matches(expected), timeout=timeout, interval=0.1,
                          message=message or "backend states %r" % expected)


class GatewayTestCase(unittest.TestCase):
    """Starts a gateway with fast health checks for each test; sims started with start_sim() are stopped."""

    gateway_kwargs = {}

    def setUp(self):
        kwargs = {"health": FAST_HEALTH}
        kwargs.update(self.gateway_kwargs)
        self.gw = harness.Gateway(**kwargs)
        self.addCleanup(self.gw.cleanup)
        self.gw.start()
        self.view = RegistryView(self.gw)

    def start_sim(self, hosts=1, args=None, **kwargs):
        sim = harness.SimProcess(self.gw.url, hosts=hosts, args=args or [], log_dir=self.gw.dir,
                                 name="sim%d" % len(getattr(self, "_sims", [])), **kwargs)
        self._sims = getattr(self, "_sims", []) + [sim]
        self.addCleanup(sim.kill)
        sim.start()
        return sim

    def post(self, path, body, headers=None):
        return json_request(self.gw.port, "POST", path, body=body, headers=headers)

    def assert_error(self, response, status, code=None, names=None):
        """The contract's error answer: `status`, body {"error":{"code","message"}}, message naming `names`."""
        self.assertEqual(response.status, status, response.text[:300])
        body = response.json()
        self.assertIsInstance(body.get("error"), dict, body)
        self.assertIsInstance(body["error"].get("code"), str, body)
        self.assertIsInstance(body["error"].get("message"), str, body)
        if code:
            self.assertEqual(body["error"]["code"], code, body)
        if names:
            self.assertIn(names, body["error"]["message"], body)


def register_body(url, **extra):
    body = {"serverUrl": url, "maxSessions": 10, "instanceType": "t.e2e", "ec2InstanceId": "i-e2e",
            "tags": ["a"], "capabilities": ["x"], "version": "1.0"}
    body.update(extra)
    return body


def heartbeat_body(url, **extra):
    body = {"serverUrl": url, "status": "Ready", "activeSessions": 0, "maxSessions": 10, "instanceType": "t.e2e",
            "tags": ["a"], "cpuUsage": 1.5, "memoryUsage": 20.0, "timestamp": "2026-01-01T00:00:00Z"}
    body.update(extra)
    return body


class HostLifecycleTests(GatewayTestCase):

    def test_hosts_register_and_heartbeat(self):
        sim = self.start_sim(hosts=2, args=["--heartbeat-interval", "1", "--max-sessions", "10"])
        registered = sim.wait_event("registered", count=2, timeout=10)
        ids = {e["serverUrl"]: e["backendId"] for e in registered}
        self.assertEqual(set(ids), {h["serverUrl"] for h in sim.hosts})
        self.assertTrue(all(ids.values()), ids)
        self.assertEqual(len(set(ids.values())), 2, "each host gets its own backendId")

        urls = [sim.host_url(0), sim.host_url(1)]
        self.view.wait({u: "Healthy" for u in urls}, FIRST_HEALTHY_WITHIN)

        # Heartbeats are accepted.
        wait_until(lambda: sim.stats(0)["registration"]["heartbeatsSent"] >= 2, timeout=5)
        for i in range(2):
            reg = sim.stats(i)["registration"]
            self.assertEqual(reg["lastHeartbeatStatus"], 200)
            self.assertEqual(reg["heartbeatsFailed"], 0)

        if not self.view.admin_available():
            return  # the rest reads fields only the admin endpoint shows
        item = self.view.item(urls[0])
        for field in ("backendId", "serverUrl", "state", "status", "load", "maxSessions"):
            self.assertIn(field, item)
        self.assertEqual(item["backendId"], ids[urls[0]])
        self.assertEqual(item["maxSessions"], 10)
        self.assertEqual(item["status"].lower(), "ready")

        # What a heartbeat reports shows up: status and the reported load.
        sim.set_status(0, status="Draining", activeSessions=3)
        wait_until(lambda: self.view.item(urls[0])["status"].lower() == "draining", timeout=3,
                   message="status Draining")
        wait_until(lambda: self.view.item(urls[0])["load"] == 3, timeout=3, message="load 3")
        self.assertEqual(self.view.item(urls[1])["status"].lower(), "ready")

    def test_register_and_heartbeat_answers(self):
        url = "http://127.0.0.1:%d" % harness.free_port()
        status, body, r = self.post("/gateway/register", register_body(url))
        self.assertEqual(status, 200, r.text)
        self.assertIs(body["success"], True)
        self.assertTrue(body["backendId"])
        self.assertIsInstance(body["heartbeatInterval"], int)
        # Registering the same serverUrl again updates it: same backendId.
        status, again, _ = self.post("/gateway/register", register_body(url, maxSessions=5))
        self.assertEqual((status, again["backendId"]), (200, body["backendId"]))
        if self.view.admin_available():
            self.assertEqual(self.view.item(url)["maxSessions"], 5)  # the update took
        status, hb, r = self.post("/gateway/heartbeat", heartbeat_body(url))
        self.assertEqual((status, hb), (200, {"success": True}), r.text)
        # A heartbeat from an unknown serverUrl registers it.
        other = "http://127.0.0.1:%d" % harness.free_port()
        status, hb, r = self.post("/gateway/heartbeat", heartbeat_body(other))
        self.assertEqual(status, 200, r.text)
        if self.view.admin_available():
            self.assertIsNotNone(self.view.item(other), "heartbeat registered the unknown backend")
            # A heartbeat reports maxSessions too, and the latest report wins.
            self.assertEqual(self.view.item(url)["maxSessions"], heartbeat_body(url)["maxSessions"])
        else:
            self.assertEqual(sum(self.view.counts().values()), 2)
        # Unregister answers success, also for an unknown serverUrl.
        for u in (url, other, "http://127.0.0.1:1"):
            status, ans, r = self.post("/gateway/unregister", {"serverUrl": u})
            self.assertEqual((status, ans), (200, {"success": True}), r.text)
        wait_until(lambda: sum(self.view.counts().values()) == 0, timeout=3, message="registry empty")

    def test_failing_host_goes_unreachable_and_recovers(self):
        sim = self.start_sim(hosts=2, args=["--heartbeat-interval", "1"])
        sick, well = sim.host_url(0), sim.host_url(1)
        self.view.wait({sick: "Healthy", well: "Healthy"}, FIRST_HEALTHY_WITHIN)

        sim.set_health(0, "failing")
        self.view.wait({sick: "Unreachable", well: "Healthy"}, UNREACHABLE_WITHIN,
                       "failing host Unreachable within %.0f s" % UNREACHABLE_WITHIN)

        probes_before = sim.stats(0)["connections"]["healthRequests"]
        sim.set_health(0, "healthy")
        self.view.wait({sick: "Healthy", well: "Healthy"}, HEALTHY_WITHIN, "recovered host Healthy again")
        probes = sim.stats(0)["connections"]["healthRequests"] - probes_before
        # successThreshold = 2: two successful probes bring it back (one more may be in flight, and one failing
        # probe may fall between reading the counter and switching the knob).
        self.assertGreaterEqual(probes, 2, "Healthy after fewer than successThreshold probes")
        self.assertLessEqual(probes, 4, "took %d probes to be Healthy again" % probes)

    def test_hanging_host_times_out_to_unreachable(self):
        sim = self.start_sim(hosts=1, args=["--heartbeat-interval", "1"])
        url = sim.host_url(0)
        self.view.wait({url: "Healthy"}, FIRST_HEALTHY_WITHIN)
        sim.set_health(0, "hanging")
        # A probe that gets no answer fails after healthCheck.timeout (1 s): 3 failures, each 1 s + 1 s apart.
        self.view.wait({url: "Unreachable"}, 10, "hanging host Unreachable")
        sim.set_health(0, "healthy")
        self.view.wait({url: "Healthy"}, HEALTHY_WITHIN + 2, "hanging host Healthy again")

    def test_killed_host_goes_unreachable_and_comes_back(self):
        stays = self.start_sim(hosts=1, args=["--heartbeat-interval", "1"])
        victim = self.start_sim(hosts=1, args=["--heartbeat-interval", "1"])
        stay_url, url, port = stays.host_url(0), victim.host_url(0), victim.host_port(0)
        backend_id = victim.wait_event("registered")[0]["backendId"]
        self.view.wait({stay_url: "Healthy", url: "Healthy"}, FIRST_HEALTHY_WITHIN)

        victim.kill()  # SIGKILL: no unregister, the port refuses connections
        self.view.wait({stay_url: "Healthy", url: "Unreachable"}, UNREACHABLE_WITHIN,
                       "killed host Unreachable within %.0f s" % UNREACHABLE_WITHIN)

        reborn = self.start_sim(hosts=1, args=["--heartbeat-interval", "1", "--base-port", str(port)])
        self.assertEqual(reborn.host_url(0), url)
        self.assertEqual(reborn.wait_event("registered")[0]["backendId"], backend_id,
                         "registering the same serverUrl keeps its backendId")
        self.view.wait({stay_url: "Healthy", url: "Healthy"}, HEALTHY_WITHIN, "restarted host Healthy again")
        probes = reborn.stats(0)["connections"]["healthRequests"]
        self.assertGreaterEqual(probes, 2)
        self.assertLessEqual(probes, 4, "took %d probes to be Healthy again" % probes)

    def test_sigterm_unregisters(self):
        sim = self.start_sim(hosts=2, args=["--heartbeat-interval", "1"])
        self.view.wait({sim.host_url(0): "Healthy", sim.host_url(1): "Healthy"}, FIRST_HEALTHY_WITHIN)
        code, out, err = sim.stop()
        self.assertEqual(code, 0, err)
        unregistered = [e for e in harness.json_lines(out.splitlines()) if e.get("event") == "unregistered"]
        self.assertEqual(len(unregistered), 2, out)
        self.assertTrue(all(e["status"] == 200 for e in unregistered), unregistered)
        wait_until(lambda: sum(self.view.counts().values()) == 0, timeout=3, message="both backends removed")

    def test_restarted_gateway_keeps_registry(self):
        # Heartbeats an hour apart: after the restart nothing but the store can bring the backends back.
        sim = self.start_sim(hosts=2, args=["--heartbeat-interval", "3600"])
        urls = [sim.host_url(0), sim.host_url(1)]
        ids = {e["serverUrl"]: e["backendId"] for e in sim.wait_event("registered", count=2)}
        self.view.wait({u: "Healthy" for u in urls}, FIRST_HEALTHY_WITHIN)

        code, out, err = self.gw.restart()
        self.assertEqual(code, 0, err)
        self.view = RegistryView(self.gw)
        self.assertEqual(sum(self.view.counts().values()), 2, "both backends are in the registry after restart")
        if self.view.admin_available():
            for u in urls:
                self.assertEqual(self.view.item(u)["backendId"], ids[u])
        # Restarted backends are probed before routing, and become Healthy.
        self.view.wait({u: "Healthy" for u in urls}, FIRST_HEALTHY_WITHIN, "backends Healthy after restart")
        self.assertEqual(sim.stats(0)["registration"]["registerAttempts"], 1, "no second registration happened")


class MetricsAndHealthTests(GatewayTestCase):

    def test_gateway_health_is_plain_ok(self):
        r = self.gw.request("GET", "/gateway/health")
        self.assertEqual(r.status, 200)
        self.assertTrue((r.header("Content-Type") or "").startswith("text/plain"), r.headers)
        self.assertEqual(r.body, b"OK")
        # No auth needed, even with a bogus Authorization header.
        r = self.gw.request("GET", "/gateway/health", headers={"Authorization": "Bearer nonsense"})
        self.assertEqual((r.status, r.body), (200, b"OK"))

    def test_metrics_show_backends_by_state(self):
        sim = self.start_sim(hosts=2, args=["--heartbeat-interval", "1"])
        r = self.gw.request("GET", "/metrics")
        self.assertEqual(r.status, 200)
        self.assertTrue((r.header("Content-Type") or "").startswith("text/plain"), r.headers)

        def gauge(state):
            return backend_gauge(self.gw.metrics(), state)

        wait_until(lambda: gauge("Healthy") == 2, timeout=FIRST_HEALTHY_WITHIN,
                   message='webstream_backends{state="Healthy"} == 2')
        sim.set_health(0, "failing")
        wait_until(lambda: gauge("Unreachable") == 1 and gauge("Healthy") == 1, timeout=UNREACHABLE_WITHIN + 1,
                   message='webstream_backends{state="Unreachable"} == 1')
        text = self.gw.request("GET", "/metrics").text
        self.assertIn("# TYPE webstream_backends gauge", text)


class BadBodyTests(unittest.TestCase):
    """400 / 413 answers of the three registry endpoints. One gateway for the class: nothing here registers a
    backend that later tests count."""

    @classmethod
    def setUpClass(cls):
        cls.gw = harness.Gateway(health=FAST_HEALTH)
        try:
            cls.gw.start()
        except BaseException:
            cls.gw.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()

    assert_error = GatewayTestCase.assert_error

    def raw_post(self, path, body, content_type="application/json"):
        return harness.http_request(self.gw.port, "POST", path, body=body,
                                    headers={"Content-Type": content_type})

    def url(self):
        return "http://127.0.0.1:%d" % harness.free_port()

    def test_non_json_bodies(self):
        for path in ("/gateway/register", "/gateway/heartbeat", "/gateway/unregister"):
            for body in (b"not json", b"{\"serverUrl\":", b"", b"[1,2]", b"\"http://x\"", b"null"):
                with self.subTest(path=path, body=body):
                    self.assert_error(self.raw_post(path, body), 400, "invalid_request")

    def test_missing_server_url(self):
        for path, body in (("/gateway/register", {"maxSessions": 3}), ("/gateway/heartbeat", {"status": "Ready"}),
                           ("/gateway/unregister", {})):
            with self.subTest(path=path):
                self.assert_error(self.raw_post(path, body), 400, "invalid_request", "serverUrl")

    def test_wrong_types(self):
        url = self.url()
        cases = [
            ("/gateway/register", {"serverUrl": 5}, "serverUrl"),
            ("/gateway/register", {"serverUrl": None}, "serverUrl"),
            ("/gateway/register", register_body(url, maxSessions="ten"), "maxSessions"),
            ("/gateway/register", register_body(url, maxSessions=2.5), "maxSessions"),
            ("/gateway/register", register_body(url, tags="a"), "tags"),
            ("/gateway/register", register_body(url, capabilities=[1, 2]), "capabilities"),
            ("/gateway/register", register_body(url, instanceType=7), "instanceType"),
            ("/gateway/heartbeat", heartbeat_body(url, activeSessions="x"), "activeSessions"),
            ("/gateway/heartbeat", heartbeat_body(url, status=1), "status"),
            ("/gateway/heartbeat", heartbeat_body(url, cpuUsage="high"), "cpuUsage"),
            ("/gateway/heartbeat", heartbeat_body(url, tags={"a": 1}), "tags"),
            ("/gateway/unregister", {"serverUrl": ["http://x"]}, "serverUrl"),
        ]
        for path, body, field in cases:
            with self.subTest(path=path, field=field, body=body):
                self.assert_error(self.raw_post(path, body), 400, "invalid_request", field)

    def test_server_url_must_be_absolute_http(self):
        for bad in ("127.0.0.1:5000", "/health", "ftp://127.0.0.1/x", "http://", "not a url", "", "//127.0.0.1:1",
                    "javascript:alert(1)"):
            for path, body in (("/gateway/register", register_body(bad)), ("/gateway/heartbeat", heartbeat_body(bad))):
                with self.subTest(path=path, serverUrl=bad):
                    self.assert_error(self.raw_post(path, body), 400, "invalid_request", "serverUrl")

    def test_link_local_and_metadata_server_urls_are_400(self):
        for bad in ("http://169.254.169.254", "http://169.254.169.254/latest/meta-data", "http://2852039166:80",
                    "http://[fe80::1]:8080", "http://[::ffff:169.254.169.254]"):
            for path, body in (("/gateway/register", register_body(bad)), ("/gateway/heartbeat", heartbeat_body(bad))):
                with self.subTest(path=path, serverUrl=bad):
                    self.assert_error(self.raw_post(path, body), 400, "invalid_request", "serverUrl")
        # A loopback bind without backendKeys is no exposure: no warning about it.
        warned = [line for line in harness.json_lines(self.gw.process.stdout_lines())
                  if line.get("setting") == "gateway.backendKeys"]
        self.assertEqual(warned, [])

    def test_link_local_server_urls_can_be_allowed_in_config(self):
        with harness.Gateway(gateway_attrs={"allowLinkLocalBackends": "true"}) as gw:
            r = harness.http_request(gw.port, "POST", "/gateway/register", body=register_body("http://169.254.1.2:9"),
                                     headers={"Content-Type": "application/json"})
            self.assertEqual(r.status, 200, r.text)

    def test_max_sessions_range(self):
        for bad in (-1, 100001, 10 ** 12):
            with self.subTest(maxSessions=bad):
                self.assert_error(self.raw_post("/gateway/register", register_body(self.url(), maxSessions=bad)),
                                  400, "invalid_request", "maxSessions")
        for good in (0, 100000):
            with self.subTest(maxSessions=good):
                url = self.url()
                r = self.raw_post("/gateway/register", register_body(url, maxSessions=good))
                self.assertEqual(r.status, 200, r.text)
                self.raw_post("/gateway/unregister", {"serverUrl": url})

    def test_unknown_fields_are_ignored(self):
        url = self.url()
        r = self.raw_post("/gateway/register", register_body(url, somethingNew={"x": [1]}, another=1))
        self.assertEqual(r.status, 200, r.text)
        r = self.raw_post("/gateway/heartbeat", heartbeat_body(url, gpuUsage=3.5))
        self.assertEqual(r.status, 200, r.text)
        self.raw_post("/gateway/unregister", {"serverUrl": url})

    def test_body_over_64k_is_413(self):
        url = self.url()
        for path, base in (("/gateway/register", register_body(url)), ("/gateway/heartbeat", heartbeat_body(url)),
                           ("/gateway/unregister", {"serverUrl": url})):
            for size in (65 * 1024, 4 * 1024 * 1024):
                body = dict(base, padding="x" * size)
                with self.subTest(path=path, size=size):
                    r = self.raw_post(path, body)
                    self.assertEqual(r.status, 413, r.text[:200])
                    if r.body:
                        self.assertIn("error", r.json())
        # Just under the limit is read (and then judged on its content).
        r = self.raw_post("/gateway/register", dict(register_body(url), padding="x" * (60 * 1024)))
        self.assertEqual(r.status, 200, r.text[:200])
        self.raw_post("/gateway/unregister", {"serverUrl": url})


class BackendKeyTests(GatewayTestCase):
    KEY_EU = "key-eu-5f0c1d9e7a"
    KEY_US = "key-us-0b8e44a2c3"
    gateway_kwargs = {"backend_keys": [("hosts-eu", KEY_EU), ("hosts-us", KEY_US)]}

    def keyed(self, path, body, key):
        headers = {"X-Backend-Key": key} if key is not None else None
        return harness.http_request(self.gw.port, "POST", path, body=body, headers=headers)

    def test_missing_or_wrong_key_is_401(self):
        url = "http://127.0.0.1:%d" % harness.free_port()
        calls = [("/gateway/register", register_body(url)), ("/gateway/heartbeat", heartbeat_body(url)),
                 ("/gateway/unregister", {"serverUrl": url}),
                 ("/gateway/license/streamer-checkin", {"streamerGuid": "3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b"}),
                 ("/gateway/license/streamer-checkout", {"streamerGuid": "3f2b8c1e-9a4d-4e6f-8b2a-1c3d5e7f9a0b"})]
        for path, body in calls:
            for key in (None, "", "wrong", self.KEY_EU + "x", self.KEY_EU[:-1]):
                with self.subTest(path=path, key=key):
                    r = self.keyed(path, body, key)
                    self.assertEqual(r.status, 401, r.text[:200])
        self.assertEqual(sum(RegistryView(self.gw).counts().values()), 0, "nothing was registered")
        r = self.keyed("/gateway/register", register_body(url), self.KEY_US)
        self.assertEqual(r.status, 200, r.text)

    def test_backend_belongs_to_its_key(self):
        url = "http://127.0.0.1:%d" % harness.free_port()
        self.assertEqual(self.keyed("/gateway/register", register_body(url), self.KEY_EU).status, 200)
        r = self.keyed("/gateway/heartbeat", heartbeat_body(url, status="Draining", maxSessions=1), self.KEY_US)
        self.assertEqual(r.status, 403, r.text)
        r = self.keyed("/gateway/unregister", {"serverUrl": url}, self.KEY_US)
        self.assertEqual(r.status, 403, r.text)
        # Nothing changed: still registered, heartbeat from the US key had no effect.
        self.assertEqual(sum(RegistryView(self.gw).counts().values()), 1)
        view = RegistryView(self.gw)
        if view.admin_available():
            item = view.item(url)
            self.assertIsNotNone(item)
            self.assertEqual(item["status"].lower(), "ready")
            self.assertEqual(item["maxSessions"], 10)
        self.assertEqual(self.keyed("/gateway/heartbeat", heartbeat_body(url), self.KEY_EU).status, 200)
        self.assertEqual(self.keyed("/gateway/unregister", {"serverUrl": url}, self.KEY_EU).status, 200)
        wait_until(lambda: sum(RegistryView(self.gw).counts().values()) == 0, timeout=3)

    def test_sim_with_key(self):
        good = self.start_sim(hosts=1, args=["--backend-key", self.KEY_EU, "--heartbeat-interval", "1"])
        good.wait_event("registered")
        bad = self.start_sim(hosts=1, args=["--backend-key", "nope", "--register-retry", "0.2",
                                            "--register-attempts", "2", "--heartbeat-interval", "60"])
        failed = bad.wait_event("register_failed", count=2)
        self.assertEqual([e["status"] for e in failed], [401, 401])
        self.view.wait({good.host_url(0): "Healthy"}, FIRST_HEALTHY_WITHIN)
        self.assertEqual(sum(self.view.counts().values()), 1, "only the host with a valid key is registered")
        code, out, err = good.stop()
        self.assertEqual(code, 0)
        self.assertEqual(good.events("unregistered")[0]["status"], 200)


if __name__ == "__main__":
    unittest.main()
