"""End to end: a gateway on PostgreSQL while the database goes away and comes back (CONTRACT §12, "Database
outage"), against a real server the test stops and starts (pg_server.py):

- WebSockets already open keep relaying; a new upgrade, /getConnection and status of a session the gateway knows
  keep working;
- requests that need the database answer 503 store_unavailable with Retry-After — a login too (never 401: an
  outage is not a wrong password, and it must count towards no lockout);
- /gateway/health stays 200; /metrics shows webstream_store_up 0, and 1 again once the database is back, with
  no request needed;
- the gateway reconnects by itself: no restart, selects and logins work again.
"""
import json
import time
import unittest
from xml.sax.saxutils import quoteattr

from harness import (Gateway, SimProcess, WebSocket, http_request, json_request, metric_value, wait_healthy_backends,
                     wait_until)
from iam_seed import Seed
from pg_server import PgServer

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
PASSWORD = "User-Pa55word!"


def session_headers(user, sid):
    return {"Authorization": "Bearer " + user["token"], "X-Session-ID": sid}


class DatabaseOutage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()
        conninfo = cls.pg.create_database()
        cls.gw = Gateway(health=FAST, heartbeat_interval=2,
                         storage_xml="  <storage provider=\"postgresql\" connection=%s />" % quoteattr(conninfo))
        cls.gw.start()
        cls.sim = SimProcess(cls.gw.url, hosts=1,
                             args=["--heartbeat-interval", "1", "--fps", "30", "--frame-bytes", "1024"])
        cls.sim.start()
        wait_healthy_backends(cls.gw, 1)
        seed = Seed(cls.gw)
        cls.app = seed.app()
        cls.ws = seed.workspace([cls.app], type_="app")
        cls.user = seed.entitled_user(cls.ws, password=PASSWORD)
        cls.other = seed.entitled_user(cls.ws, password=PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.gw.cleanup()
        cls.pg.cleanup()

    def select(self, user, sid):
        return http_request(self.gw.port, "POST", "/gateway/session/select",
                            dict(session_headers(user, sid), **{"Content-Type": "application/json"}),
                            json.dumps({"workspaceId": self.ws["id"], "appId": self.app["id"]}).encode())

    def login(self, user):
        return http_request(self.gw.port, "POST", "/iam/auth/login", {"Content-Type": "application/json"},
                            json.dumps({"username": user["username"], "password": PASSWORD}).encode())

    def store_up(self):
        return metric_value(self.gw.metrics(), "webstream_store_up")

    def assert_store_unavailable(self, response, what):
        self.assertEqual(response.status, 503, "%s: %s" % (what, response.body[:300]))
        self.assertEqual(json.loads(response.body)["error"]["code"], "store_unavailable", what)
        retry = [v for k, v in response.headers if k.lower() == "retry-after"]
        self.assertTrue(retry and int(retry[0]) > 0, "%s: no Retry-After" % what)

    def test_an_outage_and_its_end(self):
        self.assertEqual(self.store_up(), 1)
        self.assertEqual(self.select(self.user, "known-1").status, 200)
        status, _, r = json_request(self.gw.port, "GET", "/getConnection", headers=session_headers(self.user, "known-1"))
        self.assertEqual(status, 200, r.text)
        capture = WebSocket.connect(self.gw.port, "/capture?sessionId=known-1&token=" + self.user["token"])
        try:
            capture.recv()
            self.pg.stop_server()
            try:
                # A request that needs the database finds it gone at once; the gauge follows.
                self.assert_store_unavailable(self.select(self.other, "new-1"), "select of a new session")
                wait_until(lambda: self.store_up() == 0, timeout=15, message="webstream_store_up 0 in the outage")
                self.assertEqual(self.gw.request("GET", "/gateway/health").status, 200)
                for _ in range(6):  # more than the 5 failures that would lock the username
                    self.assert_store_unavailable(self.login(self.other), "login")
                admin = http_request(self.gw.port, "GET", "/iam/users",
                                     {"Authorization": "Bearer " + self.gw.admin_token()})
                self.assert_store_unavailable(admin, "IAM list")
                # What the gateway already knows keeps working.
                status, _, r = json_request(self.gw.port, "GET", "/getConnection",
                                            headers=session_headers(self.user, "known-1"))
                self.assertEqual(status, 200, r.text)
                status, body, r = json_request(self.gw.port, "GET", "/gateway/session/status",
                                               headers=session_headers(self.user, "known-1"))
                self.assertEqual(status, 200, r.text)
                frames, until = 0, time.time() + 2
                while time.time() < until:
                    capture.recv()
                    frames += 1
                self.assertGreater(frames, 10, "the open WebSocket stopped relaying in the outage")
                # A new WebSocket upgrade for a session the gateway knows needs no database round trip either.
                second = WebSocket.connect(self.gw.port, "/capture?sessionId=known-1&token=" + self.user["token"])
                try:
                    second.recv()
                finally:
                    second.close()
            finally:
                self.pg.start_server()
            # Back without a restart, and without a request needing it: the gateway's own check notices.
            wait_until(lambda: self.store_up() == 1, timeout=15, message="webstream_store_up 1 after the outage")
            capture.recv()  # still the same WebSocket
        finally:
            capture.close()
        self.assertEqual(self.login(self.other).status, 200, "the outage's refused logins locked the user out")
        self.assertEqual(self.select(self.other, "new-1").status, 200)


if __name__ == "__main__":
    unittest.main()
