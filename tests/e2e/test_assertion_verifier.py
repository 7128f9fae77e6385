"""End to end: the backend verifier example (docs/examples/verify_assertion.mjs) against what a real gateway
sends a session host (CONTRACT §8 "X-WebStream-Assertion", docs/proxy.md "Backend assertion").

A webstream-sim host echoes every request header it receives on /getConnection and records every WebSocket
upgrade. The test feeds those headers and the gateway's JWKS to `node docs/examples/verify_assertion.mjs` and
checks that it accepts them and returns the session's identity, and that it rejects a tampered X-Policy-JSON,
a wrong audience, a swapped X-User-ID, a broken signature, an expired assertion and a user token posing as an
assertion. Skipped when `node` (>= 18) is not on PATH (scripts/setup.sh --browser installs it).
"""
import base64
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import (wait_healthy_backends, REPO_ROOT, Gateway, SimProcess, WebSocket, json_request, wait_until)
from iam_seed import Seed

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
VERIFIER = os.path.join(REPO_ROOT, "docs", "examples", "verify_assertion.mjs")
JWKS_PATHS = ("/gateway/.well-known/jwks.json", "/iam/.well-known/jwks.json")


def node_problem():
    """Why the verifier cannot run here, or None."""
    node = shutil.which("node")
    if node is None:
        return "node is not on PATH (scripts/setup.sh --browser installs it)"
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=20).stdout.strip()
        major = int(out.lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError) as e:
        return "node --version failed: %r" % (e,)
    return None if major >= 18 else "node %s is older than 18" % out


NODE_PROBLEM = node_problem()


@unittest.skipIf(NODE_PROBLEM is not None, NODE_PROBLEM or "")
class AssertionVerifierExample(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="webstream-e2e-verifier-")
        cls.gw = Gateway(health=FAST, heartbeat_interval=2)
        cls.gw.start()
        cls.sim = SimProcess(cls.gw.url, hosts=1, args=["--heartbeat-interval", "1", "--fps", "5",
                                                        "--frame-bytes", "1024"])
        cls.sim.start()

        wait_healthy_backends(cls.gw)
        seed = Seed(cls.gw)
        cls.app = seed.app(exe="notepad.exe", args="/A")
        cls.ws = seed.workspace([cls.app], type_="app")
        cls.policy = seed.policy({"maxConcurrentSessions": 2, "clipboard": False})
        cls.user = seed.entitled_user(cls.ws, policy=cls.policy)
        cls.hdrs = {"Authorization": "Bearer " + cls.user["token"], "X-Session-ID": "verify-1"}
        status, cls.sel, r = json_request(cls.gw.port, "POST", "/gateway/session/select",
                                          body={"workspaceId": cls.ws["id"], "appId": cls.app["id"]}, headers=cls.hdrs)
        assert status == 200, r.text
        # Both places the keys are published (docs/proxy.md "Backend assertion"): the gateway's, which a session
        # host should load, and the IAM's (the same set in builtin mode).
        cls.jwks = {}
        for path in JWKS_PATHS:
            status, body, r = json_request(cls.gw.port, "GET", path)
            assert status == 200 and isinstance(body, dict) and body.get("keys"), (path, r.text)
            cls.jwks[path] = body

    @classmethod
    def tearDownClass(cls):
        try:
            json_request(cls.gw.port, "POST", "/gateway/session/release", headers=cls.hdrs)
        finally:
            cls.sim.stop()
            cls.gw.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        # The headers exactly as the session host received them, fetched for each test: the assertion lives 60 s.
        status, conn, r = json_request(self.gw.port, "GET", "/getConnection", headers=self.hdrs)
        self.assertEqual(status, 200, r.text)
        self.received = [list(pair) for pair in conn["headers"]]

    # --- helpers
    def write(self, name, value):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(value, f)
        return path

    def verify(self, headers, backend_id=None, jwks=None, jwks_source=None, extra=()):
        """Runs the example's CLI; returns (exit code, parsed stdout or None, stderr)."""
        source = jwks_source or self.write("jwks.json", jwks or self.jwks["/gateway/.well-known/jwks.json"])
        args = ["node", VERIFIER, "--jwks", source, "--backend-id", backend_id or self.sel["backendId"],
                "--headers", self.write("headers.json", headers)] + list(extra)
        p = subprocess.run(args, capture_output=True, text=True, timeout=30)
        out = json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None
        return p.returncode, out, p.stderr

    def with_header(self, name, value):
        """The received headers with every `name` replaced by one `value`."""
        out = [pair for pair in self.received if pair[0].lower() != name.lower()]
        out.append([name, value])
        return out

    def header(self, name):
        values = [v for k, v in self.received if k.lower() == name.lower()]
        self.assertEqual(len(values), 1, (name, values))
        return values[0]

    def assert_rejected(self, result, code):
        exit_code, out, err = result
        self.assertEqual(exit_code, 1, (out, err))
        self.assertIn("rejected: %s:" % code, err)

    # --- tests
    def test_accepts_what_the_gateway_sent_and_returns_the_identity(self):
        for path, jwks in self.jwks.items():
            with self.subTest(jwks=path):
                code, identity, err = self.verify(self.received, jwks=jwks, extra=["--issuer", "webstream"])
                self.assertEqual(code, 0, err)
                self.assertEqual(identity["userId"], self.user["id"])
                self.assertEqual(identity["orgId"], self.user["orgId"])
                self.assertEqual(identity["sessionId"], "verify-1")
                self.assertEqual(identity["workspaceId"], self.ws["id"])
                self.assertEqual(identity["appId"], self.app["id"])
                self.assertEqual(identity["policy"]["maxConcurrentSessions"], 2)
                self.assertEqual(identity["unsigned"]["username"], self.user["username"])
                self.assertEqual(identity["unsigned"]["appExe"], "notepad.exe")
        # The JWKS straight from the gateway's URL (the way a backend would load it).
        code, identity, err = self.verify(self.received, jwks_source=self.gw.url + "/gateway/.well-known/jwks.json")
        self.assertEqual(code, 0, err)
        self.assertEqual(identity["userId"], self.user["id"])

    def test_accepts_the_websocket_upgrade_headers(self):
        ws = WebSocket.connect(self.gw.port, "/control?sessionId=verify-1&token=" + self.sel["connectToken"])
        ws.send_text("x")
        self.assertEqual(ws.recv().data, "x")
        ws.close()
        status, up, _ = json_request(self.sim.host_port(0), "GET", "/sim/last-upgrade?path=/control")
        self.assertEqual(status, 200)
        code, identity, err = self.verify(up["headers"])
        self.assertEqual(code, 0, err)
        self.assertEqual((identity["userId"], identity["sessionId"]), (self.user["id"], "verify-1"))

    def test_rejects_a_tampered_policy(self):
        policy = json.loads(base64.b64decode(self.header("X-Policy-JSON")))
        policy["clipboard"] = True
        forged = base64.b64encode(json.dumps(policy).encode()).decode()
        self.assert_rejected(self.verify(self.with_header("X-Policy-JSON", forged)), "policy_mismatch")
        self.assert_rejected(self.verify(self.with_header("X-Policy-JSON", "")), "policy_mismatch")

    def test_rejects_another_backends_assertion(self):
        self.assert_rejected(self.verify(self.received, backend_id="b-" + "0" * 32), "wrong_audience")

    def test_rejects_headers_the_signature_does_not_cover(self):
        stranger = "usr_" + "0" * 32
        self.assert_rejected(self.verify(self.with_header("X-User-ID", stranger)), "header_mismatch")
        self.assert_rejected(self.verify(self.with_header("X-Session-ID", "verify-2")), "header_mismatch")
        # Two assertions (a client copy next to the gateway's): refused, whatever the order.
        doubled = self.received + [["X-WebStream-Assertion", self.header("X-WebStream-Assertion")]]
        self.assert_rejected(self.verify(doubled), "malformed")
        self.assert_rejected(self.verify([p for p in self.received if p[0].lower() != "x-webstream-assertion"]),
                             "no_assertion")

    def test_rejects_forgeries(self):
        token = self.header("X-WebStream-Assertion")
        head, payload, signature = token.split(".")
        # A claim changed after signing.
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["sub"] = "usr_" + "1" * 32
        changed = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
        self.assert_rejected(self.verify(self.with_header("X-WebStream-Assertion", "%s.%s.%s" % (head, changed, signature))),
                             "bad_signature")
        # A signature bit flipped.
        raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
        raw[0] ^= 1
        flipped = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
        self.assert_rejected(self.verify(self.with_header("X-WebStream-Assertion", "%s.%s.%s" % (head, payload, flipped))),
                             "bad_signature")
        # alg none.
        none_head = base64.urlsafe_b64encode(b'{"alg":"none","typ":"webstream-assertion+jwt"}').rstrip(b"=").decode()
        self.assert_rejected(self.verify(self.with_header("X-WebStream-Assertion", "%s.%s." % (none_head, payload))),
                             "bad_header")
        # The user's own login token, signed by the same keys, is not an assertion (typ).
        self.assert_rejected(self.verify(self.with_header("X-WebStream-Assertion", self.user["token"])), "bad_header")
        # Keys that are not the gateway's.
        self.assert_rejected(self.verify(self.received, jwks={"keys": []}), "unknown_kid")

    def test_library_use_and_expiry(self):
        # The module used as a library, as a backend would: accepted now, refused once exp (+ leeway) has passed.
        script = (
            "import { verifyAssertion, AssertionRejected } from %s;\n"
            "const [headers, jwks, backendId] = JSON.parse(process.argv[1]);\n"
            "const id = verifyAssertion(headers, jwks, { backendId });\n"
            "let late = 'accepted';\n"
            "try { verifyAssertion(headers, jwks, { backendId, nowSeconds: id.expiresAt + 31 }); }\n"
            "catch (e) { if (!(e instanceof AssertionRejected)) throw e; late = e.code; }\n"
            "console.log(JSON.stringify({ userId: id.userId, lifetime: id.expiresAt - Math.floor(Date.now() / 1000),"
            " late }));\n") % json.dumps("file://" + VERIFIER)
        # Node lowercases incoming header names and keeps values as strings: give it that shape.
        node_headers = {k.lower(): v for k, v in self.received}
        arg = json.dumps([node_headers, self.jwks["/gateway/.well-known/jwks.json"], self.sel["backendId"]])
        p = subprocess.run(["node", "--input-type=module", "-e", script, arg], capture_output=True, text=True,
                           timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        result = json.loads(p.stdout)
        self.assertEqual(result["userId"], self.user["id"])
        self.assertLessEqual(result["lifetime"], 60)  # exp = iat + 60 (CONTRACT §8)
        self.assertGreater(result["lifetime"], 0)
        self.assertEqual(result["late"], "expired")


if __name__ == "__main__":
    unittest.main()
