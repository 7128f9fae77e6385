"""webstream-sim on its own: its HTTP and WebSocket endpoints, knobs, and the registry and licence calls it
makes (checked against a small fake gateway written here). Needs only WEBSTREAM_SIM_BIN."""

import json
import os
import signal
import sys
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import WebSocket, WebSocketHandshakeError, http_request, wait_until  # noqa: E402


class FakeGateway:
    """Records every POST to /gateway/* and answers as the contract says (or with a forced status)."""

    def __init__(self):
        self.calls = []  # (path, headers dict lower-case, parsed body)
        self.lock = threading.Lock()
        self.force_status = {}  # path → status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with outer.lock:
                    outer.calls.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    status = outer.force_status.get(self.path, 200)
                answer = {"success": True}
                if self.path == "/gateway/register":
                    answer = {"success": True, "backendId": "b-" + body["serverUrl"].rsplit(":", 1)[1],
                              "heartbeatInterval": 10}
                elif self.path.endswith("streamer-checkin"):
                    answer = {"success": True, "activeStreamers": 1, "maxStreamers": 5}
                if status != 200:
                    answer = {"error": {"code": "forced", "message": "forced by the test"}}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((harness.LOCALHOST, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://%s:%d" % (harness.LOCALHOST, self.port)

    def calls_to(self, path):
        with self.lock:
            return [c for c in self.calls if c[0] == path]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class SimHostTests(unittest.TestCase):
    """One plain backend (--no-register) shared by the tests of its endpoints."""

    @classmethod
    def setUpClass(cls):
        cls.sim = harness.SimProcess(hosts=2, args=["--no-register", "--frame-bytes", "4096", "--fps", "50"])
        cls.sim.start()
        cls.port = cls.sim.host_port(0)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()

    def setUp(self):
        self.sim.set_health(0, "healthy", delayMs=0)
        self.sim.sim_post(0, "/sim/ws-reject", {"status": 0})

    def test_host_ready_lines(self):
        self.assertEqual(len(self.sim.hosts), 2)
        for i, h in enumerate(self.sim.hosts):
            self.assertEqual(h["serverUrl"], "http://127.0.0.1:%d" % h["port"])
            self.assertEqual(h["index"], i)
        self.assertNotEqual(self.sim.host_port(0), self.sim.host_port(1))

    def test_health_modes(self):
        r = http_request(self.port, "GET", "/health")
        self.assertEqual((r.status, r.body), (200, b"OK"))
        self.sim.set_health(0, "failing")
        self.assertEqual(http_request(self.port, "GET", "/health").status, 503)
        self.sim.set_health(0, "failing", status=500)
        self.assertEqual(http_request(self.port, "GET", "/health").status, 500)
        self.sim.set_health(0, "hanging")
        with self.assertRaises(OSError):
            http_request(self.port, "GET", "/health", timeout=0.5)
        self.sim.set_health(0, "healthy", delayMs=300)
        t0 = time.monotonic()
        self.assertEqual(http_request(self.port, "GET", "/health").status, 200)
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        # The other host keeps its own knob.
        self.assertEqual(http_request(self.sim.host_port(1), "GET", "/health").status, 200)
        status, body = self.sim.sim_post(0, "/sim/health", {"mode": "sleepy"})
        self.assertEqual(status, 400)

    def test_get_connection_echoes_headers_with_duplicates(self):
        r = http_request(self.port, "GET", "/getConnection?x=1&y=2",
                         headers=[("X-Session-ID", "s-1"), ("X-Dup", "one"), ("x-dup", "two"), ("X-Workspace-ID", "w")])
        self.assertEqual(r.status, 200)
        body = r.json()
        self.assertEqual(body["target"], "/getConnection?x=1&y=2")
        self.assertEqual(body["sessionId"], "s-1")
        self.assertIn(["X-Dup", "one"], body["headers"])
        self.assertIn(["x-dup", "two"], body["headers"])
        self.assertEqual(body["streamer"]["capture"]["frameBytes"], 4096)
        self.assertTrue(r.header("Set-Cookie"))

    def test_get_connection_knob(self):
        self.sim.sim_post(0, "/sim/getconnection", {"mode": "failing", "status": 500})
        try:
            self.assertEqual(http_request(self.port, "GET", "/getConnection").status, 500)
        finally:
            self.sim.sim_post(0, "/sim/getconnection", {"mode": "healthy"})
        self.assertEqual(http_request(self.port, "GET", "/getConnection").status, 200)

    def test_control_echoes_text_binary_fragments_and_close_code(self):
        with WebSocket.connect(self.port, "/control?sessionId=abc", headers=[("X-User-ID", "u1")]) as ws:
            ws.send_text("hello")
            m = ws.recv_data()
            self.assertEqual((m.kind, m.data), ("text", "hello"))
            ws.send_binary(b"\x00\x01\x02" * 1000)
            m = ws.recv_data()
            self.assertEqual((m.kind, m.data), ("binary", b"\x00\x01\x02" * 1000))
            ws.send_binary(os.urandom(200000), fragments=7)
            m = ws.recv_data()
            self.assertEqual((m.kind, len(m.data)), ("binary", 200000))
            ws.send_ping(b"p1")
            m = ws.recv(control=True)
            self.assertEqual((m.kind, m.data), ("pong", b"p1"))
            self.assertEqual(ws.close(4321, "bye"), 4321)
        status, up = self.sim.sim_get(0, "/sim/last-upgrade?path=/control")
        self.assertEqual(status, 200)
        self.assertEqual(up["target"], "/control?sessionId=abc")
        self.assertIn(["X-User-ID", "u1"], up["headers"])
        stats = wait_until(lambda: (lambda s: s if s["connections"]["wsOpen"] == 0 else None)(self.sim.stats(0)))
        self.assertGreaterEqual(stats["closeCodesReceived"].get("4321", 0), 1)

    def test_capture_frames_are_paced_and_counted(self):
        with WebSocket.connect(self.port, "/capture") as ws:
            frames = [ws.recv_data() for _ in range(10)]
            headers = [harness.parse_capture_header(m.data) for m in frames]
            self.assertTrue(all(m.kind == "binary" and len(m.data) == 4096 for m in frames))
            self.assertEqual([h["counter"] for h in headers], list(range(10)))
            self.assertEqual(headers[0]["width"], 256)
            self.assertEqual(headers[0]["height"], (4096 - 32) // 1024)
            # 50 fps: 10 frames take about 0.18 s after the first.
            span = headers[9]["timestampMs"] - headers[0]["timestampMs"]
            self.assertGreaterEqual(span, 150)
            self.assertLess(span, 1000)
            self.assertEqual(ws.close(1000), 1000)

    def test_audio_frames(self):
        with WebSocket.connect(self.port, "/audio") as ws:
            m = ws.recv_data()
            self.assertEqual((m.kind, len(m.data)), ("binary", 1920))  # 20 ms at 48 kHz, 16-bit mono
            ws.close()

    def test_upgrade_refusals(self):
        with self.assertRaises(WebSocketHandshakeError) as e:
            WebSocket.connect(self.port, "/nope")
        self.assertEqual(e.exception.status, 404)
        self.sim.sim_post(0, "/sim/ws-reject", {"status": 403})
        with self.assertRaises(WebSocketHandshakeError) as e:
            WebSocket.connect(self.port, "/capture", headers=[("X-Probe", "1")])
        self.assertEqual(e.exception.status, 403)
        status, up = self.sim.sim_get(0, "/sim/last-upgrade?path=/capture")
        self.assertIn(["X-Probe", "1"], up["headers"])

    def test_no_permessage_deflate(self):
        with WebSocket.connect(self.port, "/control",
                               headers=[("Sec-WebSocket-Extensions", "permessage-deflate")]) as ws:
            self.assertIsNone(ws.response.header("Sec-WebSocket-Extensions"))
            ws.close()


class SimLifecycleTests(unittest.TestCase):

    def test_sigterm_closes_websockets_with_1001_and_exits_0(self):
        sim = harness.SimProcess(hosts=1, args=["--no-register", "--fps", "5", "--frame-bytes", "64"])
        sim.start()
        ws = WebSocket.connect(sim.host_port(), "/capture")
        ws.recv_data()
        sim.proc.send_signal(signal.SIGTERM)
        self.assertEqual(ws.wait_close(timeout=5), 1001)
        code, out, err = sim.stop()
        self.assertEqual(code, 0, err)
        self.assertTrue(any(e.get("event") == "stopped" for e in harness.json_lines(out.splitlines())))

    def test_bad_arguments_exit_2_with_one_line(self):
        import subprocess
        p = subprocess.run([harness.sim_bin(), "--hosts", "x", "--no-register"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)
        self.assertIn("--hosts", p.stderr)
        p = subprocess.run([harness.sim_bin(), "--help"], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        self.assertIn("--heartbeat-interval", p.stdout)

    def test_taken_port_exits_2(self):
        import socket
        import subprocess
        with socket.socket() as s:
            s.bind((harness.LOCALHOST, 0))
            s.listen()
            port = s.getsockname()[1]
            p = subprocess.run([harness.sim_bin(), "--no-register", "--base-port", str(port)], capture_output=True,
                               text=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(str(port), p.stderr)


class SimRegistryCallsTests(unittest.TestCase):
    """The sim's registry and licence calls, seen by a fake gateway."""

    def setUp(self):
        self.gw = FakeGateway()
        self.addCleanup(self.gw.close)

    def test_register_heartbeat_status_unregister(self):
        sim = harness.SimProcess(self.gw.url, hosts=2, args=[
            "--heartbeat-interval", "0.2", "--backend-key", "k1", "--tags", "a,b", "--capabilities", "x",
            "--max-sessions", "7", "--instance-type", "t.test"])
        sim.start()
        self.addCleanup(sim.kill)
        events = sim.wait_event("registered", count=2)
        self.assertEqual({e["backendId"] for e in events}, {"b-%d" % h["port"] for h in sim.hosts})
        regs = self.gw.calls_to("/gateway/register")
        self.assertEqual(len(regs), 2)
        _, headers, body = regs[0]
        self.assertEqual(headers.get("x-backend-key"), "k1")
        self.assertEqual(headers.get("content-type"), "application/json")
        self.assertEqual(set(body), {"serverUrl", "maxSessions", "instanceType", "ec2InstanceId", "tags",
                                     "capabilities", "version"})
        self.assertEqual((body["maxSessions"], body["instanceType"], body["tags"], body["capabilities"]),
                         (7, "t.test", ["a", "b"], ["x"]))
        self.assertIn(body["serverUrl"], [h["serverUrl"] for h in sim.hosts])

        wait_until(lambda: len(self.gw.calls_to("/gateway/heartbeat")) >= 4, timeout=5)
        _, headers, hb = self.gw.calls_to("/gateway/heartbeat")[0]
        self.assertEqual(set(hb), {"serverUrl", "status", "activeSessions", "maxSessions", "instanceType", "tags",
                                   "cpuUsage", "memoryUsage", "timestamp"})
        self.assertEqual((hb["status"], hb["activeSessions"], hb["maxSessions"]), ("Ready", 0, 7))
        self.assertEqual(headers.get("x-backend-key"), "k1")

        # A status change is reported at once.
        url0 = sim.host_url(0)
        sim.set_status(0, status="Draining", activeSessions=3)
        wait_until(lambda: any(b["serverUrl"] == url0 and b["status"] == "Draining" and b["activeSessions"] == 3
                               for _, _, b in self.gw.calls_to("/gateway/heartbeat")), timeout=2)

        # An open /capture counts as an active session when no number was set.
        sim.set_status(1, activeSessions=None)
        url1 = sim.host_url(1)
        with WebSocket.connect(sim.host_port(1), "/capture") as ws:
            ws.recv_data()
            wait_until(lambda: any(b["serverUrl"] == url1 and b["activeSessions"] == 1
                                   for _, _, b in self.gw.calls_to("/gateway/heartbeat")), timeout=3)
            ws.close()

        code, out, err = sim.stop()
        self.assertEqual(code, 0, err)
        unregs = self.gw.calls_to("/gateway/unregister")
        self.assertEqual(sorted(b["serverUrl"] for _, _, b in unregs), sorted(h["serverUrl"] for h in sim.hosts))
        self.assertEqual(unregs[0][1].get("x-backend-key"), "k1")
        self.assertNotIn("k1", out + err)  # the key is never printed

    def test_register_retries_then_gives_up(self):
        self.gw.force_status["/gateway/register"] = 503
        sim = harness.SimProcess(self.gw.url, hosts=1, args=[
            "--register-retry", "0.2", "--register-attempts", "3", "--heartbeat-interval", "60"])
        sim.start()
        self.addCleanup(sim.kill)
        sim.wait_event("register_gave_up", timeout=5)
        failed = sim.events("register_failed")
        self.assertEqual([e["attempt"] for e in failed], [1, 2, 3])
        self.assertEqual(failed[0]["status"], 503)
        self.assertEqual(len(self.gw.calls_to("/gateway/register")), 3)

    def test_register_retry_succeeds_when_gateway_appears(self):
        self.gw.force_status["/gateway/register"] = 500
        sim = harness.SimProcess(self.gw.url, hosts=1, args=["--register-retry", "0.3", "--heartbeat-interval", "60"])
        sim.start()
        self.addCleanup(sim.kill)
        sim.wait_event("register_failed")
        self.gw.force_status.clear()
        e = sim.wait_event("registered", timeout=5)[0]
        self.assertGreaterEqual(e["attempt"], 2)

    def test_admin_register_unregister_and_heartbeat_switch(self):
        sim = harness.SimProcess(self.gw.url, hosts=1, args=["--heartbeat-interval", "0.1"])
        sim.start()
        self.addCleanup(sim.kill)
        sim.wait_event("registered")
        status, body = sim.sim_post(0, "/sim/unregister")
        self.assertEqual((status, body["registered"]), (200, False))
        n = len(self.gw.calls_to("/gateway/heartbeat"))
        time.sleep(0.5)
        self.assertLessEqual(len(self.gw.calls_to("/gateway/heartbeat")), n + 1)  # paused after unregister
        status, body = sim.sim_post(0, "/sim/register")
        self.assertEqual((status, body["registered"]), (200, True))
        wait_until(lambda: len(self.gw.calls_to("/gateway/heartbeat")) >= n + 3, timeout=3)
        sim.set_status(0, heartbeats=False)
        time.sleep(0.2)
        n = len(self.gw.calls_to("/gateway/heartbeat"))
        time.sleep(0.5)
        self.assertEqual(len(self.gw.calls_to("/gateway/heartbeat")), n)

    def test_streamers_check_in_and_out(self):
        sim = harness.SimProcess(self.gw.url, hosts=0, streamers=3, args=["--checkin-interval", "0.2",
                                                                          "--no-register"])
        sim.start()
        self.addCleanup(sim.kill)
        self.assertEqual(len(sim.streamers), 3)
        for guid in sim.streamers:
            self.assertEqual(str(uuid.UUID(guid)), guid)
        wait_until(lambda: len(self.gw.calls_to("/gateway/license/streamer-checkin")) >= 9, timeout=5)
        bodies = [b for _, _, b in self.gw.calls_to("/gateway/license/streamer-checkin")]
        self.assertEqual({b["streamerGuid"] for b in bodies}, set(sim.streamers))
        self.assertEqual(sim.events("streamer_checkin")[0]["status"], 200)
        code, _, err = sim.stop()
        self.assertEqual(code, 0, err)
        outs = [b["streamerGuid"] for _, _, b in self.gw.calls_to("/gateway/license/streamer-checkout")]
        self.assertEqual(sorted(outs), sorted(sim.streamers))


if __name__ == "__main__":
    unittest.main()
