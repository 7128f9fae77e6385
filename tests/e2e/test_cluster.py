"""End to end: three gateways on one PostgreSQL are one service (CONTRACT §12), against a real server the test
starts itself (pg_server.py) and the real simulator. Each bullet of §12 that a client can see:

- one service whichever gateway answers: the same JWKS, a token from one accepted by all, an IAM write on one
  visible on the others at once, a session selected on one used, watched and released through the others;
- counts exact across gateways under concurrency: a user's maxConcurrentSessions, a backend's maxSessions and
  licence seats, with the requests spread over the three gateways and fired together, several rounds;
- login lockout counted wherever the failures were made;
- revocation everywhere: a logout on one gateway is refused by the others within 2 s;
- a gateway killed with SIGKILL leaks nothing: its session's slot is freed by the usual expiry rules (the
  gateway killed is one the test starts for itself, so the tests do not depend on their order).
"""
import json
import time
import unittest
import uuid
from xml.sax.saxutils import quoteattr

from harness import (ADMIN_PASSWORD, ADMIN_USER, Gateway, SimProcess, WebSocket, http_request, json_request, login,
                     together, wait_healthy_backends, wait_until)
from iam_seed import Seed
from pg_server import PgServer

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
PASSWORD = "User-Pa55word!"
SESSIONS_XML = '    <sessions reservationTimeout="4" disconnectGrace="4" />'


def headers(user, sid):
    return {"Authorization": "Bearer " + user["token"], "X-Session-ID": sid}


class ThreeGateways(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()
        conninfo = cls.pg.create_database()
        cls.storage_xml = "  <storage provider=\"postgresql\" connection=%s />" % quoteattr(conninfo)
        cls.gws = [Gateway(health=FAST, heartbeat_interval=1, storage_xml=cls.storage_xml,
                           extra_gateway_xml=SESSIONS_XML) for _ in range(3)]
        cls.gws[0].start()  # the first start bootstraps the database; the others find it
        for gw in cls.gws[1:]:
            gw.start()
        # The session host registers with gateway 0 only; the other gateways learn it through the database.
        cls.sim = SimProcess(cls.gws[0].url, hosts=1, args=["--heartbeat-interval", "1", "--max-sessions", "6",
                                                            "--fps", "30", "--frame-bytes", "1024"])
        cls.sim.start()
        cls.seed = Seed(cls.gws[0])
        cls.app = cls.seed.app()
        cls.ws = cls.seed.workspace([cls.app], type_="app")
        cls.policy2 = cls.seed.policy({"maxConcurrentSessions": 2})

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        for gw in cls.gws:
            gw.cleanup()
        cls.pg.cleanup()

    def gw(self, i):
        return self.gws[i % len(self.gws)]

    def user(self, policy=None):
        return self.seed.entitled_user(self.ws, policy=policy, password=PASSWORD)

    def select(self, gw, user, sid):
        return json_request(gw.port, "POST", "/gateway/session/select", headers=headers(user, sid),
                            body={"workspaceId": self.ws["id"], "appId": self.app["id"]})

    def release(self, gw, user, sid):
        return json_request(gw.port, "POST", "/gateway/session/release", headers=headers(user, sid))

    def wait_backend_everywhere(self):
        for gw in self.gws:
            wait_healthy_backends(gw, 1)

    def test_one_service_whichever_gateway_answers(self):
        for path in ("/iam/.well-known/jwks.json", "/gateway/.well-known/jwks.json"):
            answers = {self.gw(i).request("GET", path).body for i in range(3)}
            self.assertEqual(len(answers), 1, "%s differs between gateways" % path)
        token = login(self.gw(1).port, ADMIN_USER, ADMIN_PASSWORD)
        created = json_request(self.gw(2).port, "POST", "/iam/users", token=token,
                               body={"username": "everywhere-" + uuid.uuid4().hex[:8], "password": PASSWORD,
                                     "roles": ["user"]})
        self.assertEqual(created[0], 201, created[2].text)
        for i in range(3):  # read-your-writes on every gateway, at once
            status, body, r = json_request(self.gw(i).port, "GET", "/iam/users/" + created[1]["id"], token=token)
            self.assertEqual(status, 200, "gateway %d: %s" % (i, r.text))

        self.wait_backend_everywhere()
        user = self.user()
        status, sel, r = self.select(self.gw(0), user, "roam-1")
        self.assertEqual(status, 200, r.text)
        status, _, r = json_request(self.gw(1).port, "GET", "/getConnection", headers=headers(user, "roam-1"))
        self.assertEqual(status, 200, "getConnection through another gateway: " + r.text)
        status, body, r = json_request(self.gw(2).port, "GET", "/gateway/session/status",
                                       headers=headers(user, "roam-1"))
        self.assertEqual(status, 200, "status through another gateway: " + r.text)
        capture = WebSocket.connect(self.gw(2).port, "/capture?sessionId=roam-1&token=" + sel["connectToken"])
        try:
            capture.recv()
        finally:
            capture.close()
        status, _, r = self.release(self.gw(1), user, "roam-1")
        self.assertEqual(status, 200, r.text)
        status, body, r = json_request(self.gw(0).port, "GET", "/gateway/session/status",
                                       headers=headers(user, "roam-1"))
        self.assertEqual((status, body and body.get("state")), (200, "released"), r.text)

    def test_a_users_session_limit_holds_across_gateways(self):
        self.wait_backend_everywhere()
        for round_ in range(3):
            user = self.user(policy=self.policy2)
            sids = ["lim-%d-%d" % (round_, i) for i in range(12)]
            results = together([lambda i=i: self.select(self.gw(i), user, sids[i]) for i in range(12)])
            granted = [sids[i] for i, (status, _, _) in enumerate(results) if status == 200]
            refused = [status for status, _, _ in results if status != 200]
            self.assertEqual(len(granted), 2, "round %d: %d sessions granted for a limit of 2 (%s)" % (
                round_, len(granted), sorted(set(refused))))
            self.assertEqual(set(refused), {409})
            for i, sid in enumerate(granted):
                self.assertEqual(self.release(self.gw(i), user, sid)[0], 200)

    def test_a_backends_max_sessions_holds_across_gateways(self):
        self.wait_backend_everywhere()
        for round_ in range(2):
            users = [self.user() for _ in range(12)]
            sids = ["cap-%d-%d" % (round_, i) for i in range(12)]
            results = together([lambda i=i: self.select(self.gw(i), users[i], sids[i]) for i in range(12)])
            granted = [i for i, (status, _, _) in enumerate(results) if status == 200]
            self.assertEqual(len(granted), 6, "round %d: %d sessions on a host with maxSessions 6 (%s)" % (
                round_, len(granted), sorted({s for s, _, _ in results})))
            self.assertEqual({s for s, _, _ in results} - {200}, {503})
            for i in granted:
                self.assertEqual(self.release(self.gw(i + 1), users[i], sids[i])[0], 200)

    def test_licence_seats_are_exact_across_gateways(self):
        # No licence file: the evaluation licence's 5 seats, whichever gateway the streamers check into.
        guids = [str(uuid.uuid4()) for _ in range(15)]
        results = together([lambda i=i: http_request(self.gw(i).port, "POST", "/gateway/license/streamer-checkin",
                                                     {"Content-Type": "application/json"},
                                                     json.dumps({"streamerGuid": guids[i]}).encode())
                            for i in range(15)])
        statuses = [r.status for r in results]
        self.assertEqual(statuses.count(200), 5, statuses)
        for i, r in enumerate(results):
            if r.status == 200:
                http_request(self.gw(i).port, "POST", "/gateway/license/streamer-checkout",
                             {"Content-Type": "application/json"}, json.dumps({"streamerGuid": guids[i]}).encode())

    def test_lockout_counts_failures_made_on_every_gateway(self):
        user = self.user()
        for i in range(5):
            r = http_request(self.gw(i).port, "POST", "/iam/auth/login", {"Content-Type": "application/json"},
                             json.dumps({"username": user["username"], "password": "wrong"}).encode())
            self.assertEqual(r.status, 401)
        for i in range(3):
            r = http_request(self.gw(i).port, "POST", "/iam/auth/login", {"Content-Type": "application/json"},
                             json.dumps({"username": user["username"], "password": PASSWORD}).encode())
            self.assertEqual(r.status, 429, "gateway %d let a locked-out user in" % i)

    def test_a_logout_on_one_gateway_is_refused_by_every_other_within_2_s(self):
        user = self.user()
        token = login(self.gw(0).port, user["username"], PASSWORD)
        for i in range(3):
            self.assertEqual(json_request(self.gw(i).port, "GET", "/iam/auth/me", token=token)[0], 200)
        self.assertEqual(json_request(self.gw(0).port, "POST", "/iam/auth/logout", token=token)[0], 200)
        start = time.time()
        for i in (1, 2):
            wait_until(lambda i=i: json_request(self.gw(i).port, "GET", "/iam/auth/me", token=token)[0] == 401,
                       timeout=2.5, message="gateway %d refusing the logged-out token" % i)
        self.assertLess(time.time() - start, 2.5)

    def test_a_killed_gateway_leaks_no_slot(self):
        # The gateway this test kills is a fourth one of its own on the same database, so the three the other
        # tests use stay up whatever order the tests run in.
        victim = Gateway(health=FAST, heartbeat_interval=1, storage_xml=self.storage_xml,
                         extra_gateway_xml=SESSIONS_XML)
        self.addCleanup(victim.cleanup)
        victim.start()
        self.wait_backend_everywhere()
        wait_healthy_backends(victim, 1)
        user = self.user(policy=self.policy2)
        for sid in ("kill-1", "kill-2"):
            status, _, r = self.select(victim, user, sid)
            self.assertEqual(status, 200, r.text)
        capture = WebSocket.connect(victim.port, "/capture?sessionId=kill-1&token=" + user["token"])
        capture.recv()
        self.assertEqual(self.select(self.gw(0), user, "kill-3")[0], 409)  # the limit of 2 is held
        victim.process.kill()
        capture.close()
        # The dead gateway's sessions expire by the usual rules (reservationTimeout / disconnectGrace of 4 s,
        # plus the 15 s after which a gateway that stopped renewing its liveness row is dead): both slots free.
        wait_until(lambda: self.select(self.gw(0), user, "kill-3")[0] == 200, timeout=40, interval=1,
                   message="the killed gateway's sessions freeing their slots")
        wait_until(lambda: self.select(self.gw(1), user, "kill-4")[0] == 200, timeout=40, interval=1,
                   message="the killed gateway's second session freeing its slot")
        # Leave the backend's slots as the other tests expect them.
        for i, sid in ((0, "kill-3"), (1, "kill-4")):
            self.assertEqual(self.release(self.gw(i), user, sid)[0], 200)


if __name__ == "__main__":
    unittest.main()
