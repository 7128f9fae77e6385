"""End to end: what one gateway changes reaches the others through the database's change feed (CONTRACT §12,
"Revocation everywhere" and "Per-request cost"): a versioned change table, LISTEN/NOTIFY as the wake-up and a
version check every second as the fallback; after its listening connection is lost a gateway reconnects,
LISTENs again and re-reads, so a change made during the gap still arrives.

Two gateways on one real PostgreSQL (pg_server.py), the real simulator as the session host.
- A logout on gateway A is refused by gateway B: measured ten times (printed), every one within 2 s, the median
  well under the fallback's period (a notification, not the poll, carried it: B's notification counter moved).
- B's listening connection killed with pg_terminate_backend; a logout on A right then (B is not listening):
  B refuses that token within 2 s, has reconnected once, LISTENs again (a new backend in pg_stat_activity) and
  the next logout reaches it by notification again.
- An entitlement deleted through A ends that user's session held through B within 2 s (IAM changes wake B's
  entitlement check).
"""
import statistics
import time
import unittest
from xml.sax.saxutils import quoteattr

from harness import SimProcess, Gateway, json_request, login, metric_value, wait_healthy_backends, wait_until
from iam_seed import Seed
from pg_server import PgServer

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
PASSWORD = "User-Pa55word!"
FALLBACK_S = 1.0  # the version check's period (store/change_feed.hpp)


class ChangeFeed(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()
        conninfo = cls.pg.create_database()
        cls.dbname = conninfo.split("dbname=")[1].split()[0]
        storage = "  <storage provider=\"postgresql\" connection=%s />" % quoteattr(conninfo)
        cls.a, cls.b = [Gateway(health=FAST, heartbeat_interval=1, storage_xml=storage) for _ in range(2)]
        cls.a.start()
        cls.b.start()
        cls.sim = SimProcess(cls.a.url, hosts=1, args=["--heartbeat-interval", "1", "--max-sessions", "8"])
        cls.sim.start()
        cls.seed = Seed(cls.a)
        cls.app = cls.seed.app()
        cls.ws = cls.seed.workspace([cls.app], type_="app")

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.a.cleanup()
        cls.b.cleanup()
        cls.pg.cleanup()

    def sql(self, statement):
        return self.pg.sql(statement, self.dbname).strip()

    def metric(self, gw, name, **labels):
        return metric_value(gw.metrics(), name, **labels) or 0

    def me(self, gw, token):
        return json_request(gw.port, "GET", "/iam/auth/me", token=token)[0]

    def logout_reaches_b(self, user):
        """Logs a fresh token out on A; returns the seconds until B refuses it (polled every 5 ms)."""
        token = login(self.a.port, user["username"], PASSWORD)
        self.assertEqual(self.me(self.b, token), 200)
        self.assertEqual(json_request(self.a.port, "POST", "/iam/auth/logout", token=token)[0], 200)
        start = time.monotonic()
        while self.me(self.b, token) != 401:
            self.assertLess(time.monotonic() - start, 2.0, "B still accepts a token logged out on A after 2 s")
            time.sleep(0.005)
        return time.monotonic() - start

    def b_listener_pid(self):
        return self.sql("SELECT pid FROM pg_stat_activity WHERE application_name = 'webstream-listen:%d'"
                        % self.b.process.proc.pid)

    def test_a_logout_reaches_the_other_gateway_by_notification(self):
        user = self.seed.user(password=PASSWORD)
        notified = self.metric(self.b, "webstream_store_change_notifications_total")
        seconds = [self.logout_reaches_b(user) for _ in range(10)]
        print("\n  logout on A → refused by B: median %.0f ms, max %.0f ms (10 logouts)" % (
            statistics.median(seconds) * 1000, max(seconds) * 1000))
        self.assertGreaterEqual(self.metric(self.b, "webstream_store_change_notifications_total") - notified, 10)
        self.assertLess(statistics.median(seconds), FALLBACK_S / 2,
                        "the median delay is the fallback's, not a notification's: %s" % seconds)

    def test_a_terminated_listening_connection_reconnects_listens_again_and_reads_the_gap(self):
        user = self.seed.user(password=PASSWORD)
        old_pid = self.b_listener_pid()
        self.assertTrue(old_pid, "B has no listening connection")
        reconnects = self.metric(self.b, "webstream_store_change_listen_reconnects_total")
        woken = self.metric(self.b, "webstream_store_change_wakeups_total", topic="revocations")
        token = login(self.a.port, user["username"], PASSWORD)
        self.assertEqual(self.me(self.b, token), 200)
        self.assertEqual(self.sql("SELECT pg_terminate_backend(%s)" % old_pid), "t")
        # B waits half a second before reconnecting: this logout's notification reaches no listener of B's.
        self.assertEqual(json_request(self.a.port, "POST", "/iam/auth/logout", token=token)[0], 200)
        start = time.monotonic()
        wait_until(lambda: self.me(self.b, token) == 401, timeout=2.0, interval=0.01,
                   message="B refusing a token logged out while its listener was down")
        print("\n  logout during B's listener gap → refused by B after %.0f ms" % ((time.monotonic() - start) * 1000))
        wait_until(lambda: self.metric(self.b, "webstream_store_change_listen_reconnects_total") == reconnects + 1,
                   timeout=3, message="B's listener reconnecting")
        self.assertEqual(self.metric(self.b, "webstream_store_change_listening"), 1)
        self.assertGreater(self.metric(self.b, "webstream_store_change_wakeups_total", topic="revocations"), woken)
        new_pid = self.b_listener_pid()
        self.assertTrue(new_pid and new_pid != old_pid, (old_pid, new_pid))
        # LISTENing again: the next change arrives by notification.
        notified = self.metric(self.b, "webstream_store_change_notifications_total")
        seconds = self.logout_reaches_b(user)
        print("  the next logout → refused by B after %.0f ms" % (seconds * 1000))
        self.assertGreater(self.metric(self.b, "webstream_store_change_notifications_total"), notified)

    def test_an_entitlement_deleted_on_one_gateway_ends_the_session_held_through_the_other(self):
        wait_healthy_backends(self.b, 1)
        user = self.seed.user(password=PASSWORD)
        entitlement = self.seed.entitle(user, self.ws)
        token = login(self.b.port, user["username"], PASSWORD)
        headers = {"Authorization": "Bearer " + token, "X-Session-ID": "ent-1"}
        status, _, r = json_request(self.b.port, "POST", "/gateway/session/select", headers=headers,
                                    body={"workspaceId": self.ws["id"], "appId": self.app["id"]})
        self.assertEqual(status, 200, r.text)
        status, _, r = json_request(self.a.port, "DELETE", "/iam/entitlements/" + entitlement["id"],
                                    token=self.a.admin_token())
        self.assertIn(status, (200, 204), r.text)
        start = time.monotonic()
        wait_until(lambda: json_request(self.b.port, "GET", "/gateway/session/status",
                                        headers=headers)[1].get("state") == "ended",
                   timeout=2.0, interval=0.02, message="B ending the session of a user no longer entitled")
        print("\n  entitlement deleted on A → session ended on B after %.0f ms" % (
            (time.monotonic() - start) * 1000))


if __name__ == "__main__":
    unittest.main()
