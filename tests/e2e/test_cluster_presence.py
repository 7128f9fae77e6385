"""End to end: a dead gateway leaks nothing, and the grace of its sessions runs from its death (CONTRACT §12).

Three gateways on one real PostgreSQL (pg_server.py) and the real simulator. Each gateway renews its liveness row
every 5 s; a gateway not renewed for 15 s by the database's clock is dead, and the open-WebSocket presence it held
stops counting: its sessions start their disconnectGrace (here 4 s) at its death.

- A gateway holding two live WebSockets is killed with SIGKILL: its sessions stay live on the survivors while
  it is not yet dead (an open WebSocket is presence however old the session's written activity), then expire
  within 15 s + grace (+ the sweeps) of the kill; the user's and the backend's slots are free again; the dead
  gateway's rows are gone from the database.
- A browser that reconnects through another gateway within the grace keeps its session: frames keep coming
  well past 15 s + grace, and the session is still `active`.
- A gateway stopped cleanly (SIGTERM) leaves at once: no 15 s wait.

Each test starts the gateway it kills (a victim of its own), so the tests do not depend on their order.
"""
import threading
import time
import unittest
from xml.sax.saxutils import quoteattr

from harness import Gateway, SimProcess, WebSocket, json_request, wait_healthy_backends, wait_until
from iam_seed import Seed
from pg_server import PgServer

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
PASSWORD = "User-Pa55word!"
GRACE_S = 4
DEAD_AFTER_S = 15
RENEW_S = 5
SESSIONS_XML = '    <sessions reservationTimeout="60" disconnectGrace="%d" />' % GRACE_S


class Drain:
    """Reads a WebSocket's frames on a thread (the simulator streams 30 a second) and records when the last came
    and how it ended."""

    def __init__(self, ws):
        self.ws = ws
        self.frames = 0
        self.last = time.monotonic()
        self.ended = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                m = self.ws.recv(timeout=30)
                if m.kind == "close":
                    self.ended = "close %s" % m.close_code
                    return
                self.frames += 1
                self.last = time.monotonic()
        except Exception as e:  # a killed gateway drops the connection: that is the end we expect
            self.ended = type(e).__name__


class DeadGatewayPresence(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()
        cls.dbname = None
        conninfo = cls.pg.create_database()
        cls.dbname = conninfo.split("dbname=")[1].split()[0]
        cls.storage_xml = "  <storage provider=\"postgresql\" connection=%s />" % quoteattr(conninfo)
        cls.gws = [Gateway(health=FAST, heartbeat_interval=1, storage_xml=cls.storage_xml,
                           extra_gateway_xml=SESSIONS_XML) for _ in range(2)]
        for gw in cls.gws:
            gw.start()
        # One host with room for exactly 2 sessions: a slot the dead gateway leaked would show as a 503.
        cls.sim = SimProcess(cls.gws[0].url, hosts=1, args=["--heartbeat-interval", "1", "--max-sessions", "2",
                                                            "--fps", "30", "--frame-bytes", "256"])
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

    def sql(self, statement):
        return self.pg.sql(statement, self.dbname).strip()

    def user(self):
        return self.seed.entitled_user(self.ws, policy=self.policy2, password=PASSWORD)

    def call(self, gw, method, path, user, sid, body=None):
        return json_request(gw.port, method, path, body=body,
                            headers={"Authorization": "Bearer " + user["token"], "X-Session-ID": sid})

    def select(self, gw, user, sid):
        return self.call(gw, "POST", "/gateway/session/select", user, sid,
                         body={"workspaceId": self.ws["id"], "appId": self.app["id"]})

    def state(self, gw, user, sid):
        status, body, r = self.call(gw, "GET", "/gateway/session/status", user, sid)
        self.assertEqual(status, 200, r.text)
        return body["state"]

    def victim(self):
        gw = Gateway(health=FAST, heartbeat_interval=1, storage_xml=self.storage_xml, extra_gateway_xml=SESSIONS_XML)
        self.addCleanup(gw.cleanup)
        gw.start()
        for g in self.gws + [gw]:
            wait_healthy_backends(g, 1)
        return gw

    def open_capture(self, gw, sid, connect_token):
        ws = WebSocket.connect(gw.port, "/capture?sessionId=%s&token=%s" % (sid, connect_token))
        drain = Drain(ws)
        self.addCleanup(lambda: ws.close() if not ws.closed else None)
        wait_until(lambda: drain.frames > 0, timeout=5, message="frames through the WebSocket")
        return drain

    def release_all(self, user, sids):
        for sid in sids:
            self.call(self.gws[0], "POST", "/gateway/session/release", user, sid)

    def test_a_killed_gateways_sessions_expire_from_its_death_and_free_every_slot(self):
        victim = self.victim()
        user = self.user()
        drains = []
        for sid in ("dead-1", "dead-2"):
            status, sel, r = self.select(victim, user, sid)
            self.assertEqual(status, 200, r.text)
            drains.append(self.open_capture(victim, sid, sel["connectToken"]))
        # Held by the victim: both live everywhere; the user's limit (2) and the host's (2) are both full.
        wait_until(lambda: self.sql("SELECT COUNT(*) FROM session_presence") == "2", timeout=RENEW_S + 2,
                   message="the victim's presence rows")
        other = self.user()
        self.assertIn(self.select(self.gws[0], user, "dead-3")[0], (409, 503))  # the host is full first
        self.assertEqual(self.select(self.gws[1], other, "other-1")[0], 503)
        # Long enough idle by written activity alone (2 graces) before the kill: presence is what keeps them.
        time.sleep(2 * GRACE_S)
        self.assertEqual(self.state(self.gws[1], user, "dead-1"), "active")

        victim.process.kill()
        killed = time.monotonic()
        expired_at = {}

        def both_expired():
            for sid in ("dead-1", "dead-2"):
                if sid not in expired_at and self.state(self.gws[0], user, sid) == "expired":
                    expired_at[sid] = time.monotonic() - killed
            return len(expired_at) == 2
        wait_until(both_expired, timeout=DEAD_AFTER_S + GRACE_S + 15, interval=0.25,
                   message="the killed gateway's sessions expiring on the survivors")
        print("\n  kill -9 → expired on a survivor after %s s (dead after %d s, grace %d s)" % (
            ", ".join("%.1f" % t for t in sorted(expired_at.values())), DEAD_AFTER_S, GRACE_S))
        for sid, t in expired_at.items():
            # Not before the death (last renewal ≤ 5 s before the kill, + 15 s) plus the grace, and within 15 s +
            # grace of the kill plus the sweeps (1 s each) and a renewal period for the survivors to declare it.
            self.assertGreaterEqual(t, DEAD_AFTER_S - RENEW_S + GRACE_S - 1, sid)
            self.assertLessEqual(t, DEAD_AFTER_S + GRACE_S + 3, sid)
        # Every slot is free: the user's two, the host's two (on each survivor once its next sync, within a
        # second, has dropped the expired sessions' pins from its memory).
        for i, sid in enumerate(("after-1", "after-2")):
            wait_until(lambda i=i, sid=sid: self.select(self.gws[i], user, sid)[0] == 200, timeout=3, interval=0.25,
                       message="a slot of the dead gateway's sessions through gateway %d" % i)
        self.release_all(user, ("after-1", "after-2"))
        # Nothing of the dead gateway is left in the database.
        wait_until(lambda: self.sql("SELECT COUNT(*) FROM gateways") == "2", timeout=RENEW_S + 2,
                   message="the dead gateway's liveness row removed")
        self.assertEqual(self.sql("SELECT COUNT(*) FROM session_presence"), "0")

    def test_a_browser_reconnecting_through_another_gateway_keeps_its_session(self):
        victim = self.victim()
        user = self.user()
        status, sel, r = self.select(victim, user, "roam-1")
        self.assertEqual(status, 200, r.text)
        first = self.open_capture(victim, "roam-1", sel["connectToken"])
        victim.process.kill()
        wait_until(lambda: first.ended is not None, timeout=5, message="the killed gateway's WebSocket dropping")
        # The page reconnects through another gateway (HAProxy's next server) with the same id and token.
        second = self.open_capture(self.gws[1], "roam-1", sel["connectToken"])
        reconnected = time.monotonic()
        # Past the victim's death and a grace after it: the session lives, frames keep coming.
        while time.monotonic() - reconnected < DEAD_AFTER_S + GRACE_S + 3:
            time.sleep(1)
            self.assertIsNone(second.ended, "the reconnected WebSocket ended: %s" % second.ended)
        self.assertLess(time.monotonic() - second.last, 2)
        for gw in self.gws:
            self.assertEqual(self.state(gw, user, "roam-1"), "active")
        self.release_all(user, ["roam-1"])
        wait_until(lambda: second.ended is not None, timeout=5, message="the released session's WebSocket closing")

    def test_a_gateway_stopped_cleanly_hands_its_sessions_their_grace_at_once(self):
        victim = self.victim()
        user = self.user()
        status, sel, r = self.select(victim, user, "leave-1")
        self.assertEqual(status, 200, r.text)
        self.open_capture(victim, "leave-1", sel["connectToken"])
        victim.stop()
        stopped = time.monotonic()
        wait_until(lambda: self.state(self.gws[0], user, "leave-1") == "expired", timeout=GRACE_S + 10,
                   interval=0.25, message="the stopped gateway's session expiring")
        self.assertLess(time.monotonic() - stopped, DEAD_AFTER_S, "a clean stop waited for a death")
        self.assertEqual(self.sql("SELECT COUNT(*) FROM gateways"), "2")


if __name__ == "__main__":
    unittest.main()
