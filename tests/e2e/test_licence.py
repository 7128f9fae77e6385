"""Licence registry end to end (CONTRACT §5, §10, §11a): the real gateway, licence files issued with the real
`webstream license` command and the build directory's TEST key (WEBSTREAM_LICENCE_TEST_KEY, generated at
configure time; no private key is in the repository), check-ins over HTTP.

  fill the seats → 409 capacity_reached; an active streamer refreshes (200); checkout frees a seat;
  200 concurrent check-ins for 50 seats → exactly 50 × 200; seats survive a restart (SIGTERM and SIGKILL);
  a bad streamerGuid → 400; no licence file → evaluation licence of 5; tampered / unsigned / garbage → 403
  license_invalid; expired → 403 license_expired; a silent streamer loses its seat after license.streamerTimeout;
  SIGHUP reloads the licence; X-Backend-Key when backend keys are configured; the streamer gauges in /metrics.
"""

import os
import signal
import sys
import tempfile
import threading
import time
import unittest
import uuid
import shutil
import subprocess

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import Gateway, http_request, metric_value, run_gateway_once, wait_until  # noqa: E402

# Set by tests/e2e/CMakeLists.txt when the build trusts its own test key (-DWEBSTREAM_LICENCE_TEST_KEY=ON).
TEST_KEY = os.environ.get("WEBSTREAM_LICENCE_TEST_KEY", "")
CHECKIN = "/gateway/license/streamer-checkin"
CHECKOUT = "/gateway/license/streamer-checkout"


def new_guid():
    return str(uuid.uuid4())


def issue(path, max_streamers, expires="2099-12-31", not_before=None, licensee="E2E Test Ltd"):
    """Writes a licence file with `webstream license issue` and the build's test key."""
    if not TEST_KEY:
        raise unittest.SkipTest("this build trusts no test licence key (configure with -DWEBSTREAM_LICENCE_TEST_KEY=ON)")
    args = ["license", "issue", "--key", TEST_KEY, "--licensee", licensee, "--max", str(max_streamers),
            "--expires", expires, "--out", path]
    if not_before:
        args += ["--not-before", not_before]
    code, out, err = run_gateway_once(args)
    if code != 0:
        raise AssertionError("license issue exited %d: %s %s" % (code, out, err))
    return path


def post(gw, path, guid=None, body=None, headers=None):
    """(status, parsed JSON body or None)."""
    if body is None:
        body = {"streamerGuid": guid}
    r = http_request(gw.port, "POST", path, headers=headers, body=body, timeout=15)
    try:
        return r.status, r.json() if r.body else None
    except ValueError:
        return r.status, None


def checkin(gw, guid, headers=None):
    return post(gw, CHECKIN, guid, headers=headers)


def checkout(gw, guid, headers=None):
    return post(gw, CHECKOUT, guid, headers=headers)


class LicenceGateway:
    """A gateway whose <license> element is written by the test (file relative to the config dir)."""

    def __init__(self, licence_xml=None, **kwargs):
        self.gw = Gateway(extra_xml=licence_xml or "", **kwargs)

    def __enter__(self):
        return self.gw

    def __exit__(self, *exc):
        self.gw.cleanup()


def licence_xml(file_name, streamer_timeout=None):
    attrs = 'file="%s"' % file_name
    if streamer_timeout is not None:
        attrs += ' streamerTimeout="%d"' % streamer_timeout
    return "  <license %s />" % attrs


class LicenceCommandTests(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="webstream-e2e-licence-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_issue_show_and_tamper(self):
        path = issue(os.path.join(self.dir, "licence.json"), 50)
        code, out, err = run_gateway_once(["license", "show", path])
        self.assertEqual(code, 0, out + err)
        self.assertIn("status: valid", out)
        self.assertIn("maxStreamers: 50", out)
        self.assertIn("DEVELOPMENT", out)  # the build's test key is flagged
        with open(path) as f:
            text = f.read()
        tampered = os.path.join(self.dir, "tampered.json")
        with open(tampered, "w") as f:
            f.write(text.replace('"maxStreamers":50', '"maxStreamers":5000'))
        code, out, err = run_gateway_once(["license", "show", tampered])
        self.assertNotEqual(code, 0)
        self.assertIn("invalid", out)

    def test_keygen_makes_a_private_key_file_once(self):
        key = os.path.join(self.dir, "prod.key")
        code, out, err = run_gateway_once(["license", "keygen", "--out-private", key, "--key-id", "prod-e2e",
                                           "--print-public"])
        self.assertEqual(code, 0, err)
        self.assertIn("publicKey:", out)
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        code, _, _ = run_gateway_once(["license", "keygen", "--out-private", key])
        self.assertNotEqual(code, 0)
        # A licence signed with a key the binary does not trust is not valid.
        path = os.path.join(self.dir, "licence.json")
        code, _, err = run_gateway_once(["license", "issue", "--key", key, "--licensee", "X", "--max", "5",
                                         "--expires", "2099-01-01", "--out", path])
        self.assertEqual(code, 0, err)
        code, out, _ = run_gateway_once(["license", "show", path])
        self.assertNotEqual(code, 0)
        self.assertIn("unknown_key", out)

    def test_the_retired_repository_key_is_not_trusted(self):
        """The private key once committed at tools/licence/dev-private.key stays readable in the history: a licence
        it signs must be refused by every build (CONTRACT §11a)."""
        path_in_repo = "tools/licence/dev-private.key"
        text = None
        try:
            last = subprocess.run(["git", "-C", harness.REPO_ROOT, "rev-list", "-n", "1", "HEAD", "--", path_in_repo],
                                  capture_output=True, text=True, timeout=30).stdout.strip()
            for rev in ("HEAD", last, last + "^"):
                if not rev or rev == "^":
                    continue
                got = subprocess.run(["git", "-C", harness.REPO_ROOT, "show", "%s:%s" % (rev, path_in_repo)],
                                     capture_output=True, text=True, timeout=30)
                if got.returncode == 0:
                    text = got.stdout
                    break
        except (OSError, subprocess.SubprocessError):
            pass
        if not text:
            self.skipTest("no git history with the retired key here")
        key = os.path.join(self.dir, "retired.key")
        with open(key, "w") as f:
            f.write(text)
        path = os.path.join(self.dir, "forged.json")
        code, _, err = run_gateway_once(["license", "issue", "--key", key, "--licensee", "Forger", "--max", "100000",
                                         "--expires", "2099-01-01", "--out", path])
        self.assertEqual(code, 0, err)
        code, out, _ = run_gateway_once(["license", "show", path])
        self.assertEqual(code, 1, out)
        self.assertIn("unknown_key", out)

    def test_usage_error_exits_2(self):
        code, _, _ = run_gateway_once(["license", "issue", "--licensee", "X"])
        self.assertEqual(code, 2)


class SeatTests(unittest.TestCase):
    def test_fill_refresh_checkout(self):
        with LicenceGateway(licence_xml("licence.json")) as gw:
            issue(os.path.join(gw.dir, "licence.json"), 4)
            gw.start()
            streamers = [new_guid() for _ in range(4)]
            for i, g in enumerate(streamers):
                status, body = checkin(gw, g)
                self.assertEqual(status, 200, body)
                self.assertEqual(body, {"success": True, "activeStreamers": i + 1, "maxStreamers": 4})
            status, body = checkin(gw, new_guid())
            self.assertEqual(status, 409, body)
            self.assertEqual(body["error"]["code"], "capacity_reached")
            status, body = checkin(gw, streamers[2])  # an active streamer refreshes
            self.assertEqual(status, 200, body)
            self.assertEqual(body["activeStreamers"], 4)
            # The same GUID in braces and capitals is the same streamer.
            status, body = checkin(gw, "{%s}" % streamers[3].upper())
            self.assertEqual(status, 200, body)
            status, body = checkout(gw, streamers[0])
            self.assertEqual((status, body), (200, {"success": True, "activeStreamers": 3}))
            status, body = checkout(gw, streamers[0])  # idempotent
            self.assertEqual((status, body), (200, {"success": True, "activeStreamers": 3}))
            newcomer = new_guid()
            status, body = checkin(gw, newcomer)
            self.assertEqual(status, 200, body)
            self.assertEqual(body["activeStreamers"], 4)
            status, body = checkin(gw, streamers[0])  # the one that left is a newcomer now
            self.assertEqual(status, 409, body)
            samples = gw.metrics()
            self.assertEqual(metric_value(samples, "webstream_active_streamers"), 4)
            self.assertEqual(metric_value(samples, "webstream_max_streamers"), 4)
            self.assertGreaterEqual(metric_value(samples, "webstream_streamer_checkins_total", code="capacity_reached"), 2)
            self.assertGreaterEqual(metric_value(samples, "webstream_streamer_checkins_total", code="ok"), 6)

    def test_200_concurrent_checkins_for_50_seats(self):
        with LicenceGateway(licence_xml("licence.json"), worker_threads=4) as gw:
            issue(os.path.join(gw.dir, "licence.json"), 50)
            gw.start()
            results = []
            lock = threading.Lock()
            barrier = threading.Barrier(200)

            def one():
                g = new_guid()
                barrier.wait()
                try:
                    status, body = checkin(gw, g)
                except OSError as e:
                    status, body = None, repr(e)
                with lock:
                    results.append((status, body))

            threads = [threading.Thread(target=one) for _ in range(200)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            statuses = [s for s, _ in results]
            self.assertEqual(len(results), 200)
            self.assertEqual(statuses.count(200), 50, statuses)
            self.assertEqual(statuses.count(409), 150, statuses)
            self.assertTrue(all(b["activeStreamers"] <= 50 for s, b in results if s == 200))
            self.assertEqual(metric_value(gw.metrics(), "webstream_active_streamers"), 50)

    def test_seats_survive_a_restart(self):
        with LicenceGateway() as gw:  # no licence file: evaluation, 5 seats
            gw.start()
            streamers = [new_guid() for _ in range(5)]
            for g in streamers:
                self.assertEqual(checkin(gw, g)[0], 200)
            gw.restart()  # SIGTERM: refreshes flushed, seats in the store
            status, body = checkin(gw, new_guid())
            self.assertEqual(status, 409, body)
            status, body = checkin(gw, streamers[1])
            self.assertEqual(status, 200, body)
            self.assertEqual(body["activeStreamers"], 5)
            # kill -9: seats were written when they were taken, so the house stays full.
            gw.stop(signal.SIGKILL)
            wait_until(lambda: not harness.port_accepts(gw.port), timeout=5, message="port to close")
            gw.start()
            self.assertEqual(checkin(gw, new_guid())[0], 409)
            self.assertEqual(metric_value(gw.metrics(), "webstream_active_streamers"), 5)

    def test_bad_guid_and_bad_bodies_answer_400(self):
        with LicenceGateway() as gw:
            gw.start()
            for body in ({"streamerGuid": "streamer-1"}, {"streamerGuid": 42}, {"streamerGuid": None}, {},
                         {"streamerGuid": "3f2504e0-4f89-41d3-9a0c"}, "not json", [1, 2]):
                for path in (CHECKIN, CHECKOUT):
                    status, answer = post(gw, path, body=body)
                    self.assertEqual(status, 400, (path, body, answer))
                    self.assertEqual(answer["error"]["code"], "invalid_request")

    def test_get_on_a_licence_route_answers_405(self):
        # Without a PFX the HTTP listener serves everything (development mode), so only the method is checked.
        with LicenceGateway() as gw:
            gw.start()
            r = http_request(gw.port, "GET", CHECKIN)
            self.assertEqual(r.status, 405)


class LicenceFileTests(unittest.TestCase):
    def test_no_licence_file_is_an_evaluation_licence_of_5(self):
        with LicenceGateway() as gw:
            gw.start()
            for i in range(5):
                status, body = checkin(gw, new_guid())
                self.assertEqual(status, 200, body)
                self.assertEqual(body["maxStreamers"], 5)
            self.assertEqual(checkin(gw, new_guid())[0], 409)

    def test_configured_file_that_does_not_exist_is_an_evaluation_licence(self):
        with LicenceGateway(licence_xml("not-there.json")) as gw:
            gw.start()
            status, body = checkin(gw, new_guid())
            self.assertEqual(status, 200, body)
            self.assertEqual(body["maxStreamers"], 5)
            self.assertTrue(any("evaluation" in l.get("msg", "") and "not found" in l.get("msg", "")
                                for l in gw.process.logs()))

    def _refused(self, text, code="license_invalid"):
        with LicenceGateway(licence_xml("licence.json")) as gw:
            with open(os.path.join(gw.dir, "licence.json"), "w") as f:
                f.write(text)
            gw.start()  # a bad licence is not a config error: the gateway starts
            for _ in range(2):
                status, body = checkin(gw, new_guid())
                self.assertEqual(status, 403, body)
                self.assertEqual(body["error"]["code"], code)
            self.assertEqual(metric_value(gw.metrics(), "webstream_max_streamers"), 0)
            self.assertTrue(any(l.get("level") == "error" and "licence" in l.get("msg", "")
                                for l in gw.process.logs()))
            return gw

    def test_tampered_licence_answers_403(self):
        with tempfile.TemporaryDirectory() as d:
            path = issue(os.path.join(d, "l.json"), 5)
            with open(path) as f:
                text = f.read()
        self._refused(text.replace('"maxStreamers":5', '"maxStreamers":500'))

    def test_unsigned_and_garbage_licences_answer_403(self):
        self._refused('{"licensee":"Me","maxStreamers":1000,"notBefore":"2020-01-01T00:00:00Z",'
                      '"expiresAt":"2099-01-01T00:00:00Z"}')
        self._refused("this is not a licence")

    def test_expired_licence_answers_403_license_expired(self):
        with tempfile.TemporaryDirectory() as d:
            path = issue(os.path.join(d, "l.json"), 5, expires="2021-01-01", not_before="2020-01-01")
            with open(path) as f:
                text = f.read()
        self._refused(text, code="license_expired")

    def test_sighup_reloads_the_licence(self):
        with LicenceGateway(licence_xml("licence.json")) as gw:
            path = issue(os.path.join(gw.dir, "licence.json"), 1)
            gw.start()
            self.assertEqual(checkin(gw, new_guid())[0], 200)
            self.assertEqual(checkin(gw, new_guid())[0], 409)
            issue(path, 2)
            gw.process.proc.send_signal(signal.SIGHUP)
            status, body = wait_until(lambda: (lambda r: r if r[0] == 200 else None)(checkin(gw, new_guid())),
                                      timeout=10, message="a second seat after SIGHUP")
            self.assertEqual(body["maxStreamers"], 2)


class TimeoutAndKeyTests(unittest.TestCase):
    def test_silent_streamer_loses_its_seat(self):
        # streamerTimeout=5 (the default 45 s = 3 × 15 s check-ins would make this test slow).
        with LicenceGateway(licence_xml("licence.json", streamer_timeout=5)) as gw:
            issue(os.path.join(gw.dir, "licence.json"), 2)
            gw.start()
            talker, silent = new_guid(), new_guid()
            self.assertEqual(checkin(gw, talker)[0], 200)
            self.assertEqual(checkin(gw, silent)[0], 200)
            self.assertEqual(checkin(gw, new_guid())[0], 409)
            deadline = time.monotonic() + 5.5
            while time.monotonic() < deadline:  # the talker keeps checking in every second
                self.assertEqual(checkin(gw, talker)[0], 200)
                time.sleep(1)
            newcomer = new_guid()
            status, body = wait_until(lambda: (lambda r: r if r[0] == 200 else None)(checkin(gw, newcomer)),
                                      timeout=5, message="the silent streamer's seat to free")
            self.assertEqual(body["activeStreamers"], 2)
            self.assertEqual(checkin(gw, talker)[0], 200)  # the talker kept its seat throughout
            self.assertEqual(checkin(gw, silent)[0], 409)  # the silent one is a newcomer now, and it is full

    def test_backend_key_required_when_configured(self):
        with LicenceGateway(backend_keys=[("hosts-eu", "e2e-backend-key-0123456789")]) as gw:
            gw.start()
            g = new_guid()
            for path in (CHECKIN, CHECKOUT):
                status, body = post(gw, path, g)
                self.assertEqual(status, 401, body)
                status, body = post(gw, path, g, headers={"X-Backend-Key": "wrong"})
                self.assertEqual(status, 401, body)
            status, body = checkin(gw, g, headers={"X-Backend-Key": "e2e-backend-key-0123456789"})
            self.assertEqual(status, 200, body)
            status, body = checkout(gw, g, headers={"X-Backend-Key": "e2e-backend-key-0123456789"})
            self.assertEqual(status, 200, body)


if __name__ == "__main__":
    unittest.main()
