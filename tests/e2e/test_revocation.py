"""End to end: revocation reaches every WebSocket (CONTRACT §6, §11a). A WebSocket opened with the session's
connectToken (what the portal uses) is closed with 1008 within 5 s when the user is disabled, deleted or changes
password, when the token that selected the session logs out, or when the entitlement the session was started
under is removed; from then on the connectToken opens nothing (401)."""
import time
import unittest

from harness import (Gateway, SimProcess, WebSocket, WebSocketHandshakeError, json_request, login,
                     wait_healthy_backends)
from iam_seed import Seed

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
CLOSE_WITHIN = 5.0


class Revocation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(health=FAST, heartbeat_interval=2)
        cls.gw.start()
        cls.sim = SimProcess(cls.gw.url, hosts=1, args=["--heartbeat-interval", "1", "--max-sessions", "50"])
        cls.sim.start()
        wait_healthy_backends(cls.gw, 1)
        cls.seed = Seed(cls.gw)
        cls.app = cls.seed.app(exe="notepad.exe", args="/A")
        cls.ws = cls.seed.workspace([cls.app], type_="app")
        cls.count = 0

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.gw.cleanup()

    def launch(self):
        """A new entitled user, a session selected with its token, and a /control WebSocket opened with the
        session's connectToken. Returns (user, entitlement, session id, connectToken, websocket)."""
        Revocation.count += 1
        user = self.seed.user()
        entitlement = self.seed.entitle(user, self.ws)
        user["token"] = self.seed.token(user)
        sid = "revoke-%d" % Revocation.count
        status, sel, r = json_request(self.gw.port, "POST", "/gateway/session/select",
                                      body={"workspaceId": self.ws["id"], "appId": self.app["id"]},
                                      headers={"Authorization": "Bearer " + user["token"], "X-Session-ID": sid})
        self.assertEqual(status, 200, r.text)
        ws = self.open(sid, sel["connectToken"])
        ws.send_text("still here")
        self.assertEqual(ws.recv_data().data, "still here")
        return user, entitlement, sid, sel["connectToken"], ws

    def open(self, sid, connect_token):
        return WebSocket.connect(self.gw.port, "/control?sessionId=%s&token=%s" % (sid, connect_token))

    def admin(self, method, path, body=None):
        status, data, r = json_request(self.gw.port, method, path, body=body, token=self.gw.admin_token())
        self.assertIn(status, (200, 204), r.text)
        return data

    def assert_revoked(self, sid, connect_token, ws, started):
        code = ws.wait_close(timeout=CLOSE_WITHIN + 2)
        elapsed = time.monotonic() - started
        self.assertEqual(code, 1008)
        self.assertLess(elapsed, CLOSE_WITHIN)
        with self.assertRaises(WebSocketHandshakeError) as caught:
            self.open(sid, connect_token)
        self.assertEqual(caught.exception.response.status, 401)

    def test_disabling_the_user(self):
        user, _, sid, ct, ws = self.launch()
        started = time.monotonic()
        self.admin("PATCH", "/iam/users/" + user["id"], {"disabled": True})
        self.assert_revoked(sid, ct, ws, started)

    def test_deleting_the_user(self):
        user, _, sid, ct, ws = self.launch()
        started = time.monotonic()
        self.admin("DELETE", "/iam/users/" + user["id"])
        self.assert_revoked(sid, ct, ws, started)

    def test_a_password_change(self):
        user, _, sid, ct, ws = self.launch()
        started = time.monotonic()
        self.admin("PUT", "/iam/users/%s/password" % user["id"], {"password": "Another-Pa55word!"})
        self.assert_revoked(sid, ct, ws, started)

    def test_logging_out_of_the_selecting_token(self):
        user, _, sid, ct, ws = self.launch()
        # Logging out of ANOTHER token of the same user leaves the session alone.
        other = login(self.gw.port, user["username"], user["password"])
        status, _, r = json_request(self.gw.port, "POST", "/iam/auth/logout", token=other)
        self.assertEqual(status, 200, r.text)
        time.sleep(2.5)  # more than a sweep and a relay check
        ws.send_text("after another logout")
        self.assertEqual(ws.recv_data().data, "after another logout")
        started = time.monotonic()
        status, _, r = json_request(self.gw.port, "POST", "/iam/auth/logout", token=user["token"])
        self.assertEqual(status, 200, r.text)
        self.assert_revoked(sid, ct, ws, started)

    def test_removing_the_entitlement(self):
        user, entitlement, sid, ct, ws = self.launch()
        started = time.monotonic()
        self.admin("DELETE", "/iam/entitlements/" + entitlement["id"])
        self.assert_revoked(sid, ct, ws, started)
        status, st, _ = json_request(self.gw.port, "GET", "/gateway/session/status",
                                     headers={"Authorization": "Bearer " + user["token"], "X-Session-ID": sid})
        self.assertEqual((status, st["state"]), (200, "ended"))


if __name__ == "__main__":
    unittest.main()
