"""End to end: HTTPS termination from a PFX (CONTRACT §2, §1 SIGHUP; issue 6)."""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from harness import (ADMIN_PASSWORD, ADMIN_USER, Gateway, GatewayProcess, SimProcess, WebSocket, free_port,
                     http_request, json_lines, json_request, parse_capture_header, port_accepts, run_gateway_once,
                     wait_until, write_config)

SECRET = "Pfx-Secret-123!"


def make_pfx(directory, name, cn, secret=SECRET, days=30, legacy=False):
    key = os.path.join(directory, name + ".key")
    crt = os.path.join(directory, name + ".crt")
    pfx = os.path.join(directory, name + ".pfx")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", str(days), "-subj", "/CN=" + cn], check=True, capture_output=True)
    cmd = ["openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", pfx, "-passout", "pass:" + secret]
    if legacy:
        cmd.append("-legacy")
    subprocess.run(cmd, check=True, capture_output=True)
    return pfx


def https_get(port, path, timeout=5, context=None):
    ctx = context or ssl._create_unverified_context()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % path).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            cert = s.getpeercert(binary_form=True)
            return data, cert, s.version()


def status_of(data):
    return int(data.split(b" ", 2)[1])


class HttpsBase(unittest.TestCase):
    """A gateway with an HTTPS listener on a PFX of its own (one per test class)."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="webstream-tls-")
        cls.pfx = make_pfx(cls.dir, "gw", "gateway-one")
        cls.https_port = free_port()
        cls.gw = Gateway(gateway_attrs={"httpsPort": cls.https_port},
                         extra_xml='  <webstreamSettings serverPfxCertificateFile="%s" serverPfxSecret="env:PFX_SECRET" />'
                         % cls.pfx, env={"PFX_SECRET": SECRET})
        cls.gw.start()
        wait_until(lambda: status_of(https_get(cls.https_port, "/gateway/health")[0]) == 200, timeout=10)

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()
        shutil.rmtree(cls.dir, ignore_errors=True)


class Https(HttpsBase):
    def test_health_over_https_with_hsts(self):
        data, _, version = https_get(self.https_port, "/gateway/health")
        self.assertEqual(status_of(data), 200)
        self.assertTrue(data.endswith(b"OK"))
        self.assertIn(b"Strict-Transport-Security", data)
        self.assertIn(version, ("TLSv1.2", "TLSv1.3"))

    def test_registry_and_metrics_are_not_on_https(self):
        data, _, _ = https_get(self.https_port, "/metrics")
        self.assertEqual(status_of(data), 404)
        # the registry answers 404 on HTTPS (any method)
        ctx = ssl._create_unverified_context()
        with socket.create_connection(("127.0.0.1", self.https_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                body = b'{"serverUrl":"http://127.0.0.1:1"}'
                s.sendall(b"POST /gateway/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                          b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                data = s.recv(65536)
        self.assertEqual(status_of(data), 404)
        # ... and keep working on the HTTP listener, with /metrics there
        self.assertEqual(http_request(self.gw.port, "GET", "/metrics").status, 200)
        # browser routes are not on the HTTP listener when HTTPS is on
        r = http_request(self.gw.port, "POST", "/iam/auth/login", body={"username": "a", "password": "b"})
        self.assertEqual(r.status, 404)

    def test_tls_1_0_and_1_1_are_refused(self):
        for flag in ("-tls1", "-tls1_1"):
            p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.https_port, flag,
                                "-cipher", "DEFAULT@SECLEVEL=0"], input=b"", capture_output=True, timeout=10)
            self.assertNotEqual(p.returncode, 0, flag)
        for flag in ("-tls1_2", "-tls1_3"):
            p = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % self.https_port, flag],
                               input=b"", capture_output=True, timeout=10)
            self.assertEqual(p.returncode, 0, flag + p.stderr.decode()[-300:])

    def test_curl_speaks_https(self):
        if not shutil.which("curl"):
            self.skipTest("curl is not installed")
        p = subprocess.run(["curl", "-sk", "https://127.0.0.1:%d/gateway/health" % self.https_port],
                           capture_output=True, timeout=10)
        self.assertEqual(p.stdout, b"OK")


class WebSocketOverHttps(HttpsBase):
    """A browser's WebSockets over the HTTPS listener (wss://): the relay takes over a TLS stream. Before this
    test existed, every successful wss upgrade crashed the gateway (the request loop reached through the TLS
    stream the relay had taken)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.sim = SimProcess(cls.gw.url, hosts=1, args=["--heartbeat-interval", "1", "--fps", "50",
                                                        "--frame-bytes", "4096"])
        cls.sim.start()

        def post(path, body, token):
            status, data, r = json_request(cls.https_port, "POST", path, body=body, token=token, tls=True)
            if status not in (200, 201):
                raise AssertionError("POST %s answered %d: %s" % (path, status, r.text[:300]))
            return data
        admin = post("/iam/auth/login", {"username": ADMIN_USER, "password": ADMIN_PASSWORD}, None)["token"]
        app = post("/iam/apps", {"name": "tls-app", "exe": "notepad.exe", "args": ""}, admin)
        ws = post("/iam/workspaces", {"name": "tls-ws", "type": "desktop", "apps": [app["id"]]}, admin)
        user = post("/iam/users", {"username": "tlsuser", "password": "User-Pa55word!", "roles": ["user"]}, admin)
        post("/iam/entitlements", {"subjectType": "user", "subjectId": user["id"], "workspaceId": ws["id"],
                                   "appIds": []}, admin)
        cls.token = post("/iam/auth/login", {"username": "tlsuser", "password": "User-Pa55word!"}, None)["token"]
        answers = []

        def selected():  # the simulated host registers and turns healthy first
            answers.append(json_request(cls.https_port, "POST", "/gateway/session/select", tls=True,
                                        body={"workspaceId": ws["id"]}, token=cls.token,
                                        headers={"X-Session-ID": "tls-1"}))
            return answers[-1][0] == 200
        wait_until(selected, timeout=20, message="a session selected over HTTPS")
        cls.sel = answers[-1][1]

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        super().tearDownClass()

    def test_capture_and_control_over_wss_and_the_gateway_keeps_serving(self):
        for attempt in range(2):  # a second upgrade after the first relay ended: the gateway is still there
            capture = WebSocket.connect(self.https_port, "/capture?sessionId=tls-1&token=" + self.sel["connectToken"],
                                        tls=True)
            try:
                counters = [parse_capture_header(capture.recv_data(timeout=10).data)["counter"] for _ in range(5)]
                self.assertEqual(counters, sorted(counters), "capture frames in order")
            finally:
                capture.close(1000)
            control = WebSocket.connect(self.https_port, "/control?sessionId=tls-1&token=" + self.sel["connectToken"],
                                        tls=True)
            try:
                control.send_ping(b"p-%d" % attempt)  # passed through; the session host answers it
                m = control.recv(timeout=10, control=True)
                while m.kind != "pong":
                    m = control.recv(timeout=10, control=True)
                self.assertEqual(m.data, b"p-%d" % attempt)
            finally:
                control.close(1000)
            self.assertTrue(self.gw.process.running(), "the gateway is still running after a wss relay")
            data, _, _ = https_get(self.https_port, "/gateway/health")
            self.assertEqual(status_of(data), 200)


class HttpsReload(HttpsBase):
    """Replaces its gateway's certificate: a fixture of its own, so no other test sees the second one."""

    def test_sighup_reloads_the_certificate(self):
        _, before, _ = https_get(self.https_port, "/gateway/health")
        second = make_pfx(self.dir, "gw2", "gateway-two")
        shutil.copyfile(second, self.pfx)
        self.gw.process.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: https_get(self.https_port, "/gateway/health")[1] != before, timeout=10,
                   message="a new connection to see the new certificate")
        self.assertTrue(self.gw.process.running())


class ListenersOnTwoAddresses(unittest.TestCase):
    """gateway.internalIP: the HTTP listener (registry, /metrics, /gateway/health) binds an address of its own,
    apart from publicIP's HTTPS listener (the packaged config keeps the registry off the public address)."""

    def test_each_listener_binds_only_its_address(self):
        directory = tempfile.mkdtemp(prefix="webstream-tls-two-")
        self.addCleanup(shutil.rmtree, directory, True)
        pfx = make_pfx(directory, "gw", "gateway-apart")
        https_port = free_port()
        # The harness polls /gateway/health on 127.0.0.1: that is internalIP; HTTPS goes to 127.0.0.2.
        gw = Gateway(gateway_attrs={"httpsPort": https_port, "publicIP": "127.0.0.2", "internalIP": "127.0.0.1"},
                     extra_xml='  <webstreamSettings serverPfxCertificateFile="%s" serverPfxSecret="env:PFX_SECRET" />'
                     % pfx, env={"PFX_SECRET": SECRET})
        self.addCleanup(gw.cleanup)
        gw.start()
        self.assertEqual(http_request(gw.port, "GET", "/metrics").status, 200)
        self.assertFalse(port_accepts(gw.port, host="127.0.0.2"), "the HTTP listener is on publicIP too")
        ctx = ssl._create_unverified_context()
        with socket.create_connection(("127.0.0.2", https_port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.sendall(b"GET /gateway/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                self.assertEqual(status_of(s.recv(65536)), 200)
        self.assertFalse(port_accepts(https_port, host="127.0.0.1"), "the HTTPS listener is on internalIP too")
        started = [line for line in json_lines(gw.process.stdout_lines()) if line.get("msg") == "gateway started"]
        self.assertEqual(started[0]["http"], "127.0.0.1:%d" % gw.port)
        self.assertEqual(started[0]["https"], "127.0.0.2:%d" % https_port)


class BadPfx(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="webstream-tls-bad-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_with(self, pfx, secret):
        config = write_config(self.dir, free_port(), gateway_attrs={"httpsPort": free_port()},
                              extra_xml='  <webstreamSettings serverPfxCertificateFile="%s" serverPfxSecret="%s" />'
                              % (pfx, secret))
        return run_gateway_once(["-gw", "--config", config])

    def test_wrong_secret_exits_2_naming_the_file_not_the_secret(self):
        pfx = make_pfx(self.dir, "gw", "x")
        code, out, err = self.run_with(pfx, "Wrong-Secret-987")
        self.assertEqual(code, 2)
        self.assertIn(pfx, err)
        self.assertNotIn("Wrong-Secret-987", err + out)
        self.assertEqual(len(err.strip().splitlines()), 1)

    def test_missing_and_garbage_files_exit_2(self):
        code, _, err = self.run_with(os.path.join(self.dir, "absent.pfx"), SECRET)
        self.assertEqual(code, 2)
        garbage = os.path.join(self.dir, "garbage.pfx")
        with open(garbage, "wb") as f:
            f.write(b"not a pfx at all")
        code, _, err = self.run_with(garbage, SECRET)
        self.assertEqual(code, 2)
        self.assertIn("garbage.pfx", err)

    def test_legacy_pfx_loads(self):
        pfx = make_pfx(self.dir, "legacy", "legacy", legacy=True)
        port, https_port = free_port(), free_port()
        config = write_config(self.dir, port, gateway_attrs={"httpsPort": https_port},
                              extra_xml='  <webstreamSettings serverPfxCertificateFile="%s" serverPfxSecret="%s" />'
                              % (pfx, SECRET))
        proc = GatewayProcess(config, port)
        proc.start()
        try:
            data, _, _ = https_get(https_port, "/gateway/health")
            self.assertEqual(status_of(data), 200)
        finally:
            proc.stop()


if __name__ == "__main__":
    unittest.main()
