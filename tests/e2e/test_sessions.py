"""End to end: sessions and the relay (CONTRACT §7, §8) against webstream-sim hosts."""
import base64
import json
import os
import socket
import time
import unittest

from harness import (wait_healthy_backends, Gateway, SimProcess, WebSocket, WebSocketHandshakeError, json_request,
                     http_request, wait_until, raw_exchange)
from iam_seed import Seed

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}


def headers(user, session_id):
    return {"Authorization": "Bearer " + user["token"], "X-Session-ID": session_id}


class SessionsBase(unittest.TestCase):
    sessions_xml = '    <sessions reservationTimeout="120" disconnectGrace="300" />'
    strategy = "LeastConnections"
    hosts = 2

    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(health=FAST, heartbeat_interval=2,
                         extra_gateway_xml=cls.sessions_xml +
                         '\n    <loadBalancing strategy="%s" sessionAffinityTimeout="3600" />' % cls.strategy)
        cls.gw.start()
        cls.sim = SimProcess(cls.gw.url, hosts=cls.hosts, args=["--heartbeat-interval", "1", "--max-sessions", "50",
                                                                "--fps", "30", "--frame-bytes", "4096"])
        cls.sim.start()
        cls.wait_healthy(cls.hosts)
        cls.seed = Seed(cls.gw)
        cls.app = cls.seed.app(exe="notepad.exe", args="/A")
        cls.other_app = cls.seed.app(exe="calc.exe", args="")
        cls.ws = cls.seed.workspace([cls.app, cls.other_app], type_="app")
        cls.policy3 = cls.seed.policy({"maxConcurrentSessions": 3, "clipboard": True})

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.gw.cleanup()

    @classmethod
    def wait_healthy(cls, n):
        wait_healthy_backends(cls.gw, n)

    def select(self, user, sid, body=None):
        return json_request(self.gw.port, "POST", "/gateway/session/select",
                            body=body if body is not None else {"workspaceId": self.ws["id"], "appId": self.app["id"]},
                            headers=headers(user, sid))


class SessionFlow(SessionsBase):
    def test_whole_flow_select_getconnection_websockets_release(self):
        user = self.seed.entitled_user(self.ws, policy=self.policy3)
        status, sel, r = self.select(user, "flow-1")
        self.assertEqual(status, 200, r.text)
        for key in ("sessionId", "state", "workspaceId", "appId", "backendId", "connectToken", "expiresAt"):
            self.assertIn(key, sel)
        self.assertEqual(sel["state"], "reserved")
        self.assertNotIn("127.0.0.1", r.text)  # the backend's URL is never sent to the browser

        status, conn, r = json_request(self.gw.port, "GET", "/getConnection", headers=headers(user, "flow-1"))
        self.assertEqual(status, 200, r.text)
        got = {}
        for name, value in conn["headers"]:
            got.setdefault(name.lower(), []).append(value)
        self.assertEqual(got["x-user-id"], [user["id"]])
        self.assertEqual(got["x-username"], [user["username"]])
        self.assertEqual(got["x-workspace-id"], [self.ws["id"]])
        self.assertEqual(got["x-app-id"], [self.app["id"]])
        self.assertEqual(got["x-app-exe"], ["notepad.exe"])
        self.assertEqual(got["x-app-args"], ["/A"])
        self.assertEqual(got["x-session-id"], ["flow-1"])
        policy = json.loads(base64.b64decode(got["x-policy-json"][0]))
        self.assertEqual(policy["maxConcurrentSessions"], 3)
        self.assertIn("x-webstream-assertion", got)
        self.assertNotIn("authorization", got)
        self.assertIsNone(r.header("Set-Cookie"))  # dropped from the backend's answer
        self.assertIsNotNone(r.header("X-Sim-Server"))  # other headers pass

        q = "?sessionId=flow-1&token=" + sel["connectToken"]
        control = WebSocket.connect(self.gw.port, "/control" + q)
        control.send_text("hello")
        self.assertEqual(control.recv().data, "hello")
        control.send_binary(b"\x00\x01\x02", fragments=3)
        m = control.recv()
        self.assertEqual((m.kind, m.data), ("binary", b"\x00\x01\x02"))
        capture = WebSocket.connect(self.gw.port, "/capture?sessionId=flow-1&token=" + user["token"])
        frame = capture.recv()
        self.assertEqual(frame.kind, "binary")
        self.assertEqual(frame.data[:4], b"WSIM")
        audio = WebSocket.connect(self.gw.port, "/audio" + q)
        self.assertEqual(audio.recv().kind, "binary")
        status, st, _ = json_request(self.gw.port, "GET", "/gateway/session/status", headers=headers(user, "flow-1"))
        self.assertEqual(st["state"], "active")
        self.assertTrue(st["backendHealthy"])
        # the token never reaches the backend's query
        status, up, _ = json_request(self.sim.host_port(0) if sel["backendId"] else 0, "GET",
                                     "/sim/last-upgrade?path=/control")
        if status != 200:
            status, up, _ = json_request(self.sim.host_port(1), "GET", "/sim/last-upgrade?path=/control")
        self.assertNotIn("token=", up["target"])
        self.assertIn("sessionId=flow-1", up["target"])
        control.send_close(4000, "bye")
        m = control.recv()
        self.assertEqual(m.kind, "close")
        self.assertEqual(m.close_code, 4000)
        capture.send_close(1000)
        audio.send_close(1000)

        status, body, _ = json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "flow-1"))
        self.assertEqual((status, body), (200, {"success": True}))
        status, body, _ = json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "flow-1"))
        self.assertEqual(status, 200)
        status, st, _ = json_request(self.gw.port, "GET", "/gateway/session/status", headers=headers(user, "flow-1"))
        self.assertEqual(st["state"], "released")

    def test_errors_of_section_7(self):
        user = self.seed.entitled_user(self.ws)
        stranger = self.seed.user()
        stranger["token"] = self.seed.token(stranger)
        # 401 without a valid token
        status, _, r = json_request(self.gw.port, "POST", "/gateway/session/select", body={"workspaceId": "x"},
                                    headers={"X-Session-ID": "e-1"})
        self.assertEqual(status, 401)
        status, _, r = json_request(self.gw.port, "POST", "/gateway/session/select", body={"workspaceId": "x"},
                                    headers={"X-Session-ID": "e-1", "Authorization": "Bearer not.a.jwt"})
        self.assertEqual(status, 401)
        # 400 for a bad or missing X-Session-ID
        for sid in ("", "has space", "x" * 129, "semi;colon"):
            status, _, r = self.select(user, sid) if sid else json_request(
                self.gw.port, "POST", "/gateway/session/select", body={"workspaceId": self.ws["id"]},
                token=user["token"])
            self.assertEqual(status, 400, (sid, r.text))
        # 400 for a bad body
        status, _, r = json_request(self.gw.port, "POST", "/gateway/session/select", body=b"{not json",
                                    headers=headers(user, "e-2"))
        self.assertEqual(status, 400)
        self.assertEqual(r.error_code(), "invalid_request")
        # 403 not entitled
        status, _, r = self.select(stranger, "e-3")
        self.assertEqual((status, r.error_code()), (403, "not_entitled"))
        # 403 app mismatch: exe/args come from the IAM
        status, _, r = self.select(user, "e-4", {"workspaceId": self.ws["id"], "appId": self.app["id"], "appExe": "cmd.exe"})
        self.assertEqual((status, r.error_code()), (403, "app_mismatch"))
        status, _, r = self.select(user, "e-4", {"workspaceId": self.ws["id"], "appId": self.app["id"],
                                                 "appExe": "notepad.exe", "appArgs": "/A"})
        self.assertEqual(status, 200, r.text)
        # the same session again: the same answer, no second slot (default policy: 1 session)
        status2, again, _ = self.select(user, "e-4")
        self.assertEqual(status2, 200)
        # 409 concurrency limit (default maxConcurrentSessions 1)
        status, _, r = self.select(user, "e-5")
        self.assertEqual((status, r.error_code()), (409, "concurrency_limit"))
        # 409 another user's session id
        other = self.seed.entitled_user(self.ws)
        status, _, r = self.select(other, "e-4")
        self.assertEqual((status, r.error_code()), (409, "session_conflict"))
        # 404 status for an unknown id or another user's
        status, _, r = json_request(self.gw.port, "GET", "/gateway/session/status", headers=headers(user, "nope"))
        self.assertEqual((status, r.error_code()), (404, "session_not_found"))
        status, _, r = json_request(self.gw.port, "GET", "/gateway/session/status", headers=headers(other, "e-4"))
        self.assertEqual(status, 404)
        # getConnection for a session that is not the caller's
        status, _, r = json_request(self.gw.port, "GET", "/getConnection", headers=headers(other, "e-4"))
        self.assertEqual(status, 404)
        json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "e-4"))

    def test_websocket_auth_failures_are_plain_http(self):
        user = self.seed.entitled_user(self.ws)
        status, sel, r = self.select(user, "wsauth-1")
        self.assertEqual(status, 200, r.text)
        for query, expected in (("", 401), ("?sessionId=wsauth-1", 401), ("?sessionId=wsauth-1&token=ct.forged", 401),
                                ("?sessionId=nope&token=" + user["token"], 404),
                                ("?sessionId=bad id&token=" + user["token"], 400)):
            with self.assertRaises(WebSocketHandshakeError) as caught:
                WebSocket.connect(self.gw.port, "/control" + query.replace(" ", "%20"))
            self.assertEqual(caught.exception.response.status, expected, query)
        json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "wsauth-1"))

    def test_spoofed_identity_headers_never_reach_the_backend(self):
        user = self.seed.entitled_user(self.ws)
        status, sel, r = self.select(user, "spoof-1")
        self.assertEqual(status, 200, r.text)
        spoof = [("X-User-ID", "admin"), ("x-user-id", "admin2"), ("X-USER-ID", "admin3"),
                 ("X-Policy-JSON", base64.b64encode(b'{"maxConcurrentSessions":99}').decode()),
                 ("X-Org-ID", "other-org"), ("X-WebStream-Assertion", "forged"), ("X-Forwarded-For", "1.2.3.4"),
                 ("Connection", "X-Username, keep-alive"), ("X-Username", "root"), ("Cookie", "a=b"),
                 ("X-MCP-Key", "k"), ("X-Backend-Key", "k")]
        hdrs = list(headers(user, "spoof-1").items()) + spoof
        r = http_request(self.gw.port, "GET", "/getConnection", headers=hdrs)
        self.assertEqual(r.status, 200, r.text)
        got = {}
        for name, value in r.json()["headers"]:
            got.setdefault(name.lower(), []).append(value)
        self.assertEqual(got["x-user-id"], [user["id"]])
        self.assertEqual(got["x-username"], [user["username"]])
        self.assertNotEqual(got["x-org-id"], ["other-org"])
        self.assertEqual(len(got["x-policy-json"]), 1)
        self.assertNotIn(b"99", base64.b64decode(got["x-policy-json"][0]))
        self.assertEqual(len(got["x-webstream-assertion"]), 1)
        self.assertNotEqual(got["x-webstream-assertion"], ["forged"])
        self.assertEqual(got["x-forwarded-for"], ["127.0.0.1"])
        for gone in ("cookie", "x-mcp-key", "x-backend-key", "authorization"):
            self.assertNotIn(gone, got)
        # the same on a WebSocket upgrade
        ws = WebSocket.connect(self.gw.port, "/control?sessionId=spoof-1&token=" + sel["connectToken"], headers=spoof)
        ws.send_close(1000)
        for port in (self.sim.host_port(0), self.sim.host_port(1)):
            status, up, _ = json_request(port, "GET", "/sim/last-upgrade?path=/control")
            if status == 200 and "spoof-1" in up["target"]:
                names = [n.lower() for n, _ in up["headers"]]
                values = dict((n.lower(), v) for n, v in up["headers"])
                self.assertEqual(names.count("x-user-id"), 1)
                self.assertEqual(values["x-user-id"], user["id"])
                self.assertNotIn("cookie", names)
                break
        else:
            self.fail("no backend saw the upgrade")
        json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "spoof-1"))

    def test_consumed_token_and_upgrade_body_headers_never_reach_the_backend(self):
        user = self.seed.entitled_user(self.ws)
        status, sel, r = self.select(user, "consumed-1")
        self.assertEqual(status, 200, r.text)
        status, conn, r = json_request(self.gw.port, "GET", "/getConnection?a=1&token=%s&b=2&token=x" % user["token"],
                                       headers=headers(user, "consumed-1"))
        self.assertEqual(status, 200, r.text)
        self.assertNotIn("token", conn["target"])
        self.assertTrue(conn["target"].endswith("/getConnection?a=1&b=2"), conn["target"])
        ws = WebSocket.connect(self.gw.port, "/control?sessionId=consumed-1&token=" + sel["connectToken"],
                               headers=[("Content-Length", "0")])
        ws.send_text("ping")
        self.assertEqual(ws.recv().data, "ping")
        ws.send_close(1000)
        for port in (self.sim.host_port(0), self.sim.host_port(1)):
            status, up, _ = json_request(port, "GET", "/sim/last-upgrade?path=/control")
            if status == 200 and "consumed-1" in up["target"]:
                names = [n.lower() for n, _ in up["headers"]]
                self.assertNotIn("content-length", names)
                self.assertNotIn("transfer-encoding", names)
                self.assertNotIn("token=", up["target"])
                break
        else:
            self.fail("no backend saw the upgrade")
        json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "consumed-1"))

    def test_affinity_after_release(self):
        user = self.seed.entitled_user(self.ws)
        status, first, r = self.select(user, "aff-1")
        self.assertEqual(status, 200, r.text)
        json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "aff-1"))
        for i in range(3):
            status, again, r = self.select(user, "aff-%d" % (i + 2))
            self.assertEqual(status, 200, r.text)
            self.assertEqual(again["backendId"], first["backendId"])
            json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "aff-%d" % (i + 2)))


class Expiry(SessionsBase):
    sessions_xml = '    <sessions reservationTimeout="2" disconnectGrace="2" />'
    hosts = 1

    def test_unused_reservation_expires_and_frees_the_slot(self):
        user = self.seed.entitled_user(self.ws)
        status, _, r = self.select(user, "exp-1")
        self.assertEqual(status, 200, r.text)
        wait_until(lambda: json_request(self.gw.port, "GET", "/gateway/session/status",
                                        headers=headers(user, "exp-1"))[1]["state"] == "expired", timeout=8)
        status, _, r = self.select(user, "exp-2")
        self.assertEqual(status, 200, r.text)

    def test_active_session_expires_after_disconnect_grace(self):
        user = self.seed.entitled_user(self.ws)
        status, sel, r = self.select(user, "exp-3")
        self.assertEqual(status, 200, r.text)
        ws = WebSocket.connect(self.gw.port, "/control?sessionId=exp-3&token=" + sel["connectToken"])
        time.sleep(3)  # longer than the reservation timeout: a WebSocket is open, so it stays
        st = json_request(self.gw.port, "GET", "/gateway/session/status", headers=headers(user, "exp-3"))[1]
        self.assertEqual(st["state"], "active")
        ws.send_close(1000)
        ws.recv()
        wait_until(lambda: json_request(self.gw.port, "GET", "/gateway/session/status",
                                        headers=headers(user, "exp-3"))[1]["state"] == "expired", timeout=8)


class RestartAndFailures(SessionsBase):
    hosts = 1

    def test_sessions_survive_a_restart(self):
        user = self.seed.entitled_user(self.ws)
        status, sel, r = self.select(user, "rs-1")
        self.assertEqual(status, 200, r.text)
        self.gw.restart()
        self.wait_healthy(1)
        user["token"] = self.seed.token(user)
        status, st, r = json_request(self.gw.port, "GET", "/gateway/session/status", headers=headers(user, "rs-1"))
        self.assertEqual(status, 200, r.text)
        self.assertEqual(st["state"], "reserved")
        status, again, r = self.select(user, "rs-1")
        self.assertEqual(status, 200, r.text)
        self.assertEqual(again["connectToken"], sel["connectToken"])
        status, _, r = self.select(user, "rs-2")  # the slot is still taken
        self.assertEqual(status, 409)
        ws = WebSocket.connect(self.gw.port, "/control?sessionId=rs-1&token=" + sel["connectToken"])
        ws.send_text("after restart")
        self.assertEqual(ws.recv().data, "after restart")
        ws.send_close(1000)
        json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "rs-1"))

    def test_backend_refusing_the_upgrade_is_plain_http(self):
        user = self.seed.entitled_user(self.ws)
        status, sel, r = self.select(user, "ref-1")
        self.assertEqual(status, 200, r.text)
        self.sim.sim_post(0, "/sim/ws-reject", {"status": 403})
        try:
            with self.assertRaises(WebSocketHandshakeError) as caught:
                WebSocket.connect(self.gw.port, "/control?sessionId=ref-1&token=" + sel["connectToken"])
            self.assertEqual(caught.exception.response.status, 403)
            self.sim.sim_post(0, "/sim/ws-reject", {"status": 500})
            with self.assertRaises(WebSocketHandshakeError) as caught:
                WebSocket.connect(self.gw.port, "/control?sessionId=ref-1&token=" + sel["connectToken"])
            self.assertEqual(caught.exception.response.status, 502)
        finally:
            self.sim.sim_post(0, "/sim/ws-reject", {"status": 0})
        json_request(self.gw.port, "POST", "/gateway/session/release", headers=headers(user, "ref-1"))


class BackendKilled(SessionsBase):
    """Kills its simulated host: a fixture of its own, so no other test runs against a dead backend."""
    hosts = 1

    def test_backend_killed_mid_stream(self):
        user = self.seed.entitled_user(self.ws)
        status, sel, r = self.select(user, "kill-1")
        self.assertEqual(status, 200, r.text)
        ws = WebSocket.connect(self.gw.port, "/capture?sessionId=kill-1&token=" + sel["connectToken"])
        self.assertEqual(ws.recv().kind, "binary")
        self.sim.kill()
        deadline = time.time() + 10
        code = None
        while time.time() < deadline:
            m = ws.recv(timeout=10)
            if m.kind == "close":
                code = m.close_code
                break
        self.assertEqual(code, 1011)
        status, st, _ = json_request(self.gw.port, "GET", "/gateway/session/status", headers=headers(user, "kill-1"))
        self.assertEqual(st["state"], "active")
        status, _, r = json_request(self.gw.port, "GET", "/getConnection", headers=headers(user, "kill-1"))
        self.assertEqual((status, r.error_code()), (502, "backend_unavailable"))


class NoBackend(unittest.TestCase):
    def test_no_candidate_is_503_with_retry_after(self):
        with Gateway(health=FAST) as gw:
            seed = Seed(gw)
            app = seed.app()
            ws = seed.workspace([app], tags=["gpu"])
            user = seed.entitled_user(ws)
            status, _, r = json_request(gw.port, "POST", "/gateway/session/select", body={"workspaceId": ws["id"]},
                                        headers=headers(user, "nb-1"))
            self.assertEqual((status, r.error_code()), (503, "no_backend_available"))
            self.assertIsNotNone(r.header("Retry-After"))


if __name__ == "__main__":
    unittest.main()
