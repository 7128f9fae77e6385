"""The webstream process (CONTRACT §1): command line, start-up errors (exit 2, one stderr line naming the
setting or port), signals (exit 0), JSON log lines, and no secret in the output."""

import base64
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import run_gateway_once  # noqa: E402


def nonempty_lines(text):
    return [line for line in text.splitlines() if line.strip()]


class TempDirTestCase(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="webstream-e2e-proc-")
        if not harness.keep_temp():
            self.addCleanup(shutil.rmtree, self.dir, True)

    def write(self, text, name="app.config.xml"):
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def assert_one_line_exit_2(self, args, config_path, *needles):
        code, out, err = run_gateway_once(args, config_path)
        self.assertEqual(code, 2, "exit code; stderr: %s" % err)
        lines = nonempty_lines(err)
        self.assertEqual(len(lines), 1, "exactly one stderr line, got:\n%s" % err)
        for needle in needles:
            self.assertIn(needle, lines[0])
        return lines[0], out


class CommandLineTests(TempDirTestCase):

    def test_help_and_version_exit_0(self):
        code, out, err = run_gateway_once(["--help"])
        self.assertEqual(code, 0, err)
        self.assertIn("-gw", out)
        self.assertIn("--config", out)
        code, out, err = run_gateway_once(["--version"])
        self.assertEqual(code, 0, err)
        self.assertRegex(out, r"\d+\.\d+")

    def test_every_gateway_spelling_starts(self):
        for spelling in ("-gw", "-gateway", "--gateway"):
            with self.subTest(spelling=spelling):
                port = harness.free_port()
                config = harness.write_config(self.dir, port, store_path="spell.db")
                gw = harness.GatewayProcess(config, port, mode_arg=spelling)
                try:
                    gw.start()
                    r = harness.http_request(port, "GET", "/gateway/health")
                    self.assertEqual((r.status, r.body), (200, b"OK"))
                finally:
                    code, out, err = gw.stop()
                self.assertEqual(code, 0, err)


class BadConfigTests(TempDirTestCase):

    def test_malformed_xml(self):
        path = self.write("<configuration><gateway port=\"9000\"")
        self.assert_one_line_exit_2(["-gw"], path, "app.config.xml")

    def test_missing_config_file(self):
        path = os.path.join(self.dir, "nowhere.config.xml")
        self.assert_one_line_exit_2(["-gw"], path, "nowhere.config.xml")

    def test_port_out_of_range(self):
        path = self.write("<configuration><gateway port=\"70000\" /></configuration>")
        line, out = self.assert_one_line_exit_2(["-gw"], path, "gateway.port", "70000")
        self.assertNotIn("gateway started", out)

    def test_bad_values_name_the_setting(self):
        cases = [
            ("<gateway httpsPort=\"-1\" />", "gateway.httpsPort"),
            ("<gateway port=\"nine\" />", "gateway.port"),
            ("<gateway><healthCheck interval=\"abc\" /></gateway>", "gateway.healthCheck.interval"),
            ("<gateway><loadBalancing strategy=\"Fastest\" /></gateway>", "gateway.loadBalancing.strategy"),
            ("<gateway enabled=\"perhaps\" />", "gateway.enabled"),
            ("<gateway><healthCheck><timeout>soon</timeout></healthCheck></gateway>", "gateway.healthCheck.timeout"),
        ]
        for xml, setting in cases:
            with self.subTest(setting=setting):
                path = self.write("<configuration>%s<storage path=\"x.db\" /></configuration>" % xml)
                self.assert_one_line_exit_2(["-gw"], path, setting)

    def test_gateway_disabled(self):
        path = harness.write_config(self.dir, harness.free_port(), enabled=False)
        self.assert_one_line_exit_2(["-gw"], path, "gateway.enabled")

    def test_taken_port(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
            holder.bind((harness.LOCALHOST, 0))
            holder.listen()
            port = holder.getsockname()[1]
            path = harness.write_config(self.dir, port)
            line, out = self.assert_one_line_exit_2(["-gw"], path, str(port))
            self.assertNotIn("gateway started", out)


class RunningProcessTests(unittest.TestCase):

    def start_gateway(self, **kwargs):
        gw = harness.Gateway(**kwargs)
        self.addCleanup(gw.cleanup)
        gw.start()
        return gw

    def test_sigterm_and_sigint_exit_0(self):
        for sig in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=sig.name):
                gw = self.start_gateway()
                self.assertEqual(gw.request("GET", "/gateway/health").status, 200)
                code, out, err = gw.stop(sig)
                self.assertFalse(gw.process.proc.returncode < 0, "killed by a signal")
                self.assertEqual(code, 0, err)
                self.assertFalse(harness.port_accepts(gw.port), "the port is released")

    def test_log_lines_are_json_objects(self):
        gw = self.start_gateway(health={"interval": 2, "timeout": 1, "failureThreshold": 3})
        gw.request("GET", "/gateway/health")
        gw.request("GET", "/no/such/path")
        gw.request("POST", "/gateway/register", body=b"not json")
        code, out, err = gw.stop()
        self.assertEqual(code, 0, err)
        lines = nonempty_lines(out)
        self.assertTrue(lines, "the gateway logs something on stdout")
        for line in lines:
            value = json.loads(line)  # raises if a line is not JSON
            self.assertIsInstance(value, dict, line)
            for field in ("level", "ts", "msg"):
                self.assertIn(field, value, line)
        # The warning for the short probe timeout names the setting (CONTRACT §3).
        warnings = [json.loads(l) for l in lines if json.loads(l)["level"] in ("warn", "warning")]
        self.assertTrue(any("healthCheck.timeout" in json.dumps(w) for w in warnings), warnings)

    def test_admin_password_never_in_output(self):
        password = "Pw-e2e-" + base64.b32encode(os.urandom(10)).decode().rstrip("=")
        gw = self.start_gateway(env={"WEBSTREAM_ADMIN_PASSWORD": password})
        port = gw.port
        # Use the password: a good login, and failed ones with it in other places.
        harness.http_request(port, "POST", "/iam/auth/login", body={"username": "admin", "password": password})
        harness.http_request(port, "POST", "/iam/auth/login", body={"username": "nobody", "password": password})
        harness.http_request(port, "POST", "/iam/auth/login", body={"username": password, "password": "x"})
        harness.http_request(port, "GET", "/gateway/health", headers={"Authorization": "Basic " + password})
        code, out, err = gw.stop()
        self.assertEqual(code, 0, err)
        forms = {password, base64.b64encode(password.encode()).decode().rstrip("="),
                 base64.urlsafe_b64encode(password.encode()).decode().rstrip("="),
                 password.encode().hex(), urllib.parse.quote(password)}
        for form in forms:
            self.assertNotIn(form, out, "the admin password appears on stdout")
            self.assertNotIn(form, err, "the admin password appears on stderr")


if __name__ == "__main__":
    unittest.main()
