"""End to end: what an unauthenticated caller can make a gateway on a shared PostgreSQL read (CONTRACT §8, §12).

On a shared store, a /getConnection or WebSocket upgrade naming a session this gateway does not know may be a
session selected through another gateway, so the gateway reads it from the database. That read must not be
free for an attacker: it is made only for a caller whose JWT verified (valid, not revoked), or for a connect
token — which cannot be checked without the session's row — under a negative cache (ids found absent, 1 s)
and a cap on concurrent reads (beyond it: 503 store_unavailable with Retry-After).

The reads are counted by the gateway's `webstream_proxy_session_store_reads_total` (result found / absent).
Two gateways on one real PostgreSQL (pg_server.py), the real simulator as the session host.
"""
import base64
import os
import sys
import threading
import time
import unittest
import uuid
from xml.sax.saxutils import quoteattr

from harness import (Gateway, SimProcess, WebSocket, WebSocketHandshakeError, json_request, metric_value,
                     wait_healthy_backends)
from iam_seed import Seed
from pg_server import PgServer

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
READS = "webstream_proxy_session_store_reads_total"
SKIPPED = "webstream_proxy_session_store_reads_skipped_total"
ABSENT_TTL_S = 1.0  # the negative cache's time to live (edge/store_lookup_gate.hpp)


def random_sid():
    return "probe-" + uuid.uuid4().hex


def garbage_jwt():
    part = lambda n: base64.urlsafe_b64encode(os.urandom(n)).rstrip(b"=").decode()
    return "eyJhbGciOiJFZERTQSJ9." + part(48) + "." + part(64)


def forged_connect_token():
    return "ct." + base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()


def upgrade_status(gw, sid, token):
    """The status a WebSocket upgrade of /capture with ?sessionId=&token= is answered with (101 or the refusal)."""
    try:
        WebSocket.connect(gw.port, "/capture?sessionId=%s&token=%s" % (sid, token)).close()
        return 101, None
    except WebSocketHandshakeError as e:
        return e.status, e.response


class UnknownSessionProbes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()
        storage = "  <storage provider=\"postgresql\" connection=%s />" % quoteattr(cls.pg.create_database())
        cls.gws = [Gateway(health=FAST, heartbeat_interval=1, storage_xml=storage) for _ in range(2)]
        for gw in cls.gws:
            gw.start()
        cls.sim = SimProcess(cls.gws[0].url, hosts=1, args=["--heartbeat-interval", "1", "--max-sessions", "20"])
        cls.sim.start()
        cls.seed = Seed(cls.gws[0])
        cls.app = cls.seed.app()
        cls.ws = cls.seed.workspace([cls.app], type_="app")
        # A token that verified once and was then refused: its user logged out.
        cls.revoked = cls.seed.entitled_user(cls.ws)["token"]
        assert json_request(cls.gws[0].port, "POST", "/iam/auth/logout", token=cls.revoked)[0] == 200
        for gw in cls.gws:
            # The logout reaches the other gateway through the database's revocation log (about 1 s).
            deadline = time.time() + 5
            while json_request(gw.port, "GET", "/iam/auth/me", token=cls.revoked)[0] != 401:
                assert time.time() < deadline, "the logged-out token still accepted"
                time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        for gw in cls.gws:
            gw.cleanup()
        cls.pg.cleanup()

    def reads(self, gw, result=None):
        samples = gw.metrics()
        value = metric_value(samples, READS, **({"result": result} if result else {}))
        return value or 0

    def skipped(self, gw, reason):
        return metric_value(gw.metrics(), SKIPPED, reason=reason) or 0

    def test_1000_unauthenticated_requests_for_unknown_sessions_read_nothing(self):
        gw = self.gws[1]
        before = self.reads(gw)
        kinds = {
            "getConnection without a token": lambda sid: json_request(
                gw.port, "GET", "/getConnection", headers={"X-Session-ID": sid})[0],
            "getConnection with a garbage token": lambda sid: json_request(
                gw.port, "GET", "/getConnection", headers={"X-Session-ID": sid}, token=garbage_jwt())[0],
            "getConnection with a logged-out token": lambda sid: json_request(
                gw.port, "GET", "/getConnection", headers={"X-Session-ID": sid}, token=self.revoked)[0],
            "WebSocket with a garbage ?token=": lambda sid: upgrade_status(gw, sid, garbage_jwt())[0],
            "WebSocket with a logged-out ?token=": lambda sid: upgrade_status(gw, sid, self.revoked)[0],
        }
        for name, call in kinds.items():
            statuses = {call(random_sid()) for _ in range(200)}
            self.assertEqual(statuses, {401}, name)
        self.assertEqual(self.reads(gw) - before, 0,
                         "1000 unauthenticated requests for unknown sessions read the database")

    def test_connect_token_probes_of_one_absent_session_are_answered_from_the_negative_cache(self):
        gw = self.gws[1]
        sid = random_sid()
        before = self.reads(gw)
        start = time.time()
        statuses = {upgrade_status(gw, sid, forged_connect_token())[0] for _ in range(300)}
        elapsed = time.time() - start
        self.assertEqual(statuses, {401})
        reads = self.reads(gw) - before
        # One read, then at most one more each time the entry expires.
        self.assertGreaterEqual(reads, 1)
        self.assertLessEqual(reads, 1 + int(elapsed / ABSENT_TTL_S) + 1,
                             "%d reads for 300 probes of one session in %.1f s" % (reads, elapsed))

    def test_concurrent_connect_token_probes_read_once_each_or_are_refused_503(self):
        gw = self.gws[1]
        reads_before, busy_before = self.reads(gw), self.skipped(gw, "busy")
        answers = []
        lock = threading.Lock()

        def probe():
            for _ in range(25):
                status, response = upgrade_status(gw, random_sid(), forged_connect_token())
                with lock:
                    answers.append((status, response))
        threads = [threading.Thread(target=probe) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(len(answers), 500)
        for status, response in answers:
            self.assertIn(status, (401, 503))
            if status == 503:
                self.assertEqual(response.error_code(), "store_unavailable")
                self.assertIsNotNone(response.header("Retry-After"))
        refused = sum(1 for status, _ in answers if status == 503)
        reads = self.reads(gw) - reads_before
        busy = self.skipped(gw, "busy") - busy_before
        print("\n500 concurrent probes: %d store reads, %d refused 503" % (reads, refused), file=sys.stderr)
        self.assertEqual(busy, refused)
        self.assertEqual(reads + busy, 500, "each probe of a new id reads once or is refused")

    def test_a_session_selected_through_another_gateway_still_opens_here(self):
        wait_healthy_backends(self.gws[0], 1)
        for way in ("jwt", "connect token"):
            user = self.seed.entitled_user(self.ws)
            sid = random_sid()
            status, sel, r = json_request(self.gws[0].port, "POST", "/gateway/session/select",
                                          headers={"X-Session-ID": sid}, token=user["token"],
                                          body={"workspaceId": self.ws["id"], "appId": self.app["id"]})
            self.assertEqual(status, 200, r.text)
            found_before = self.reads(self.gws[1], "found")
            if way == "jwt":
                status, _, r = json_request(self.gws[1].port, "GET", "/getConnection", headers={"X-Session-ID": sid},
                                            token=user["token"])
                self.assertEqual(status, 200, r.text)
            else:
                status, response = upgrade_status(self.gws[1], sid, sel["connectToken"])
                self.assertEqual(status, 101, response and response.text)
            # Read from the database on this first use, unless the second-by-second sync took it in first.
            self.assertLessEqual(self.reads(self.gws[1], "found") - found_before, 1)
            self.assertEqual(json_request(self.gws[0].port, "POST", "/gateway/session/release",
                                          headers={"X-Session-ID": sid}, token=user["token"])[0], 200)


if __name__ == "__main__":
    unittest.main()
