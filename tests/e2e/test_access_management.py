"""End to end: standalone access management (CONTRACT §6 last bullet, docs/access-management.md).

Two processes: `webstream -am` (the IAM only, its own store) and `webstream -gw` with
accessManagement.mode=standalone pointing at it, sharing accessManagement.serviceKey; a webstream-sim host
registers with the gateway. Everything a browser does goes THROUGH the gateway (login, IAM resources, session
select); revocations done directly AT the service must reach the gateway within a few seconds."""
import base64
import json
import os
import time
import unittest
import uuid

from harness import (wait_healthy_backends, ADMIN_PASSWORD, ADMIN_USER, HEALTH_TIMEOUT, Gateway, GatewayProcess,
                     SimProcess, free_port, http_request, json_request, login, metric_value, parse_metrics,
                     run_gateway_once, wait_until, write_config)
from iam_seed import Seed

SERVICE_KEY = "e2e-service-key-" + uuid.uuid4().hex
READ_KEY = "mcp-read-key-" + uuid.uuid4().hex
RW_KEY = "mcp-rw-key-" + uuid.uuid4().hex
FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
JWKS_ROUTE = "/iam/.well-known/jwks.json"
# The feed is polled every 2 s; a WebSocket re-checks every 1 s. Generous for a loaded CI machine.
REVOCATION_DEADLINE = 8.0


class AmService(Gateway):
    """`webstream -am` in its own temp directory (config + store + logs)."""

    def start(self, timeout=HEALTH_TIMEOUT):
        self.runs += 1
        self.process = GatewayProcess(self.config_path, self.port, env=self.env, log_dir=self.dir,
                                      name="am%d" % self.runs, mode_arg="-am")
        self.process.start(wait=True, timeout=timeout)
        self._token = None
        return self


def am_xml(service_key=SERVICE_KEY):
    return '  <accessManagement serviceKey="%s" />' % service_key if service_key else ""


def standalone_xml(am_port, service_key=SERVICE_KEY):
    key = ' serviceKey="%s"' % service_key if service_key else ""
    return '  <accessManagement mode="standalone" url="http://127.0.0.1:%d"%s />' % (am_port, key)


def mcp_keys_xml():
    return ('  <mcpApiKeys>\n    <add name="ops-agent" key="%s" />\n'
            '    <add name="writer" key="%s" access="readwrite" />\n  </mcpApiKeys>' % (READ_KEY, RW_KEY))


def b64url_json(segment):
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def forge_token(kid):
    """A token-shaped string with `kid`: the gateway must refuse it (and may fetch the JWKS once)."""
    enc = lambda o: base64.urlsafe_b64encode(json.dumps(o).encode()).rstrip(b"=").decode()
    now = int(time.time())
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    claims = {"iss": "webstream", "sub": "u", "name": "n", "org": "o", "roles": ["user"], "iat": now, "nbf": now,
              "exp": now + 600, "jti": uuid.uuid4().hex}
    return "%s.%s.%s" % (enc(header), enc(claims), base64.urlsafe_b64encode(os.urandom(64)).rstrip(b"=").decode())


class StandaloneBase(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.am = AmService(extra_xml=am_xml())
        cls.am.start()
        cls.gw = Gateway(health=FAST, heartbeat_interval=2,
                         extra_xml=standalone_xml(cls.am.port) + "\n" + mcp_keys_xml())
        cls.gw.start()
        cls.gw_started = time.monotonic()  # the gateway fetched the service's JWKS just before this
        cls.sim = SimProcess(cls.gw.url, hosts=1, args=["--heartbeat-interval", "1", "--max-sessions", "50"])
        cls.sim.start()
        cls.seed = Seed(cls.gw)  # seeding goes through the gateway's /iam/* proxy
        cls.app = cls.seed.app(exe="notepad.exe", args="/A")
        cls.ws = cls.seed.workspace([cls.app], type_="app")
        cls.policy = cls.seed.policy({"maxConcurrentSessions": 5})

        wait_healthy_backends(cls.gw)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.gw.cleanup()
        cls.am.cleanup()

    def gw_status(self, token, sid="probe-1"):
        """401 when the gateway refuses the token; 404 (no such session) when it accepts it."""
        r = http_request(self.gw.port, "GET", "/gateway/session/status",
                         headers={"Authorization": "Bearer " + token, "X-Session-ID": sid})
        return r.status

    def am_admin(self):
        return login(self.am.port, ADMIN_USER, ADMIN_PASSWORD)

    def user_with_token(self):
        u = self.seed.entitled_user(self.ws, policy=self.policy)  # login THROUGH the gateway
        self.assertEqual(self.gw_status(u["token"]), 404)
        return u


class Standalone(StandaloneBase):
    def test_login_through_the_gateway_gives_a_token_of_the_service(self):
        r = http_request(self.gw.port, "POST", "/iam/auth/login", body={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        self.assertEqual(r.status, 200, r.text)
        token = r.json()["token"]
        kid = b64url_json(token.split(".")[0])["kid"]
        service_keys = json_request(self.am.port, "GET", JWKS_ROUTE)[1]["keys"]
        self.assertIn(kid, [k["kid"] for k in service_keys])
        # The gateway's /iam/* is the service's: same JWKS, same me.
        self.assertEqual(json_request(self.gw.port, "GET", JWKS_ROUTE)[1]["keys"], service_keys)
        status, me, _ = json_request(self.gw.port, "GET", "/iam/auth/me", token=token)
        self.assertEqual((status, me["username"]), (200, ADMIN_USER))
        bad = http_request(self.gw.port, "POST", "/iam/auth/login", body={"username": ADMIN_USER, "password": "nope"})
        self.assertEqual(bad.status, 401)
        self.assertEqual(bad.json()["error"]["code"], "invalid_credentials")

    def test_select_a_session_through_the_gateway_with_its_own_assertion_keys(self):
        user = self.user_with_token()
        hdrs = {"Authorization": "Bearer " + user["token"], "X-Session-ID": "am-flow-1"}
        status, sel, r = json_request(self.gw.port, "POST", "/gateway/session/select",
                                      body={"workspaceId": self.ws["id"], "appId": self.app["id"]}, headers=hdrs)
        self.assertEqual(status, 200, r.text)
        self.assertEqual(sel["state"], "reserved")
        # Not entitled: the service's 403 reaches the browser.
        other_ws = self.seed.workspace([self.app], type_="app")
        status, err, r = json_request(self.gw.port, "POST", "/gateway/session/select",
                                      body={"workspaceId": other_ws["id"]},
                                      headers={"Authorization": "Bearer " + user["token"], "X-Session-ID": "am-flow-2"})
        self.assertEqual((status, err["error"]["code"]), (403, "not_entitled"), r.text)
        # app_mismatch is decided with the service's app definition.
        status, err, r = json_request(self.gw.port, "POST", "/gateway/session/select",
                                      body={"workspaceId": self.ws["id"], "appId": self.app["id"], "appExe": "evil.exe"},
                                      headers={"Authorization": "Bearer " + user["token"], "X-Session-ID": "am-flow-3"})
        self.assertEqual((status, err["error"]["code"]), (403, "app_mismatch"), r.text)

        status, conn, r = json_request(self.gw.port, "GET", "/getConnection", headers=hdrs)
        self.assertEqual(status, 200, r.text)
        got = {}
        for name, value in conn["headers"]:
            got.setdefault(name.lower(), []).append(value)
        self.assertEqual(got["x-user-id"], [user["id"]])
        self.assertEqual(got["x-app-exe"], ["notepad.exe"])
        self.assertEqual(json.loads(base64.b64decode(got["x-policy-json"][0]))["maxConcurrentSessions"], 5)
        assertion = got["x-webstream-assertion"][0]
        head = b64url_json(assertion.split(".")[0])
        self.assertEqual(head["typ"], "webstream-assertion+jwt")
        gateway_keys = json_request(self.gw.port, "GET", "/gateway/.well-known/jwks.json")[1]["keys"]
        service_keys = json_request(self.am.port, "GET", JWKS_ROUTE)[1]["keys"]
        self.assertIn(head["kid"], [k["kid"] for k in gateway_keys])
        self.assertNotIn(head["kid"], [k["kid"] for k in service_keys])  # the gateway's own key
        self.verify_ed25519(assertion, [k for k in gateway_keys if k["kid"] == head["kid"]][0])
        # The assertion is never a user token.
        self.assertEqual(self.gw_status(assertion), 401)
        status, _, _ = json_request(self.gw.port, "POST", "/gateway/session/release", headers=hdrs)
        self.assertEqual(status, 200)

    def verify_ed25519(self, jwt, jwk):
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        except ImportError:  # standard library only: the kid check above has to do
            return
        pad = lambda s: s + "=" * (-len(s) % 4)
        key = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(pad(jwk["x"])))
        head, claims, sig = jwt.split(".")
        key.verify(base64.urlsafe_b64decode(pad(sig)), ("%s.%s" % (head, claims)).encode())  # raises if invalid

    def test_logout_at_the_service_is_refused_by_the_gateway_within_seconds(self):
        user = self.user_with_token()
        status, _, r = json_request(self.am.port, "POST", "/iam/auth/logout", token=user["token"])
        self.assertEqual(status, 200, r.text)
        started = time.monotonic()
        wait_until(lambda: self.gw_status(user["token"]) == 401, timeout=REVOCATION_DEADLINE, interval=0.1,
                   message="the gateway to refuse a token logged out at the service")
        print("logout at the service refused by the gateway after %.2f s" % (time.monotonic() - started))

    def test_logout_through_the_gateway_takes_effect_there_at_once(self):
        user = self.user_with_token()
        status, body, r = json_request(self.gw.port, "POST", "/iam/auth/logout", token=user["token"])
        self.assertEqual((status, body), (200, {"success": True}), r.text)
        self.assertEqual(self.gw_status(user["token"]), 401)
        self.assertEqual(json_request(self.am.port, "GET", "/iam/auth/me", token=user["token"])[0], 401)

    def test_user_disabled_at_the_service_is_refused_by_the_gateway(self):
        user = self.user_with_token()
        admin = self.am_admin()
        status, _, r = json_request(self.am.port, "PATCH", "/iam/users/" + user["id"], body={"disabled": True},
                                    token=admin)
        self.assertEqual(status, 200, r.text)
        started = time.monotonic()
        wait_until(lambda: self.gw_status(user["token"]) == 401, timeout=REVOCATION_DEADLINE, interval=0.1,
                   message="the gateway to refuse a user disabled at the service")
        print("disable at the service refused by the gateway after %.2f s" % (time.monotonic() - started))
        # And the user cannot sign in again through the gateway.
        r = http_request(self.gw.port, "POST", "/iam/auth/login",
                         body={"username": user["username"], "password": user["password"]})
        self.assertEqual(r.status, 401)

    def test_password_change_through_the_gateway_refuses_old_tokens_there_at_once(self):
        user = self.user_with_token()
        status, _, r = json_request(self.gw.port, "PUT", "/iam/users/%s/password" % user["id"],
                                    body={"password": "New-Pa55word!x"}, token=self.gw.admin_token())
        self.assertEqual(status, 204, r.text)
        # The change through this gateway makes it poll at once; allow one round trip.
        wait_until(lambda: self.gw_status(user["token"]) == 401, timeout=2.0, interval=0.05,
                   message="old token refused after a password change through the gateway")
        fresh = login(self.gw.port, user["username"], "New-Pa55word!x")
        self.assertEqual(self.gw_status(fresh), 404)

    def test_internal_api_needs_the_service_key(self):
        for path in ("/iam/internal/revocations?since=0",):
            r = http_request(self.am.port, "GET", path)
            self.assertEqual(r.status, 401)
            self.assertEqual(r.header("WWW-Authenticate"), "WebStream-Service-Key")  # not "Bearer"
            self.assertEqual(http_request(self.am.port, "GET", path,
                                          headers={"X-WebStream-Service-Key": "wrong-" + SERVICE_KEY}).status, 401)
            r = http_request(self.am.port, "GET", path, headers={"X-WebStream-Service-Key": SERVICE_KEY})
            self.assertEqual(r.status, 200, r.text)
            body = r.json()
            self.assertIn("now", body)
            self.assertIsInstance(body["revoked"], list)
            self.assertIsInstance(body["userCutoffs"], list)
        body = {"userId": "x", "workspaceId": "y"}
        self.assertEqual(http_request(self.am.port, "POST", "/iam/internal/resolve", body=body).status, 401)
        r = http_request(self.am.port, "POST", "/iam/internal/resolve", body=body,
                         headers={"X-WebStream-Service-Key": SERVICE_KEY})
        self.assertEqual(r.status, 403, r.text)
        self.assertEqual(r.json()["error"]["code"], "not_entitled")
        # The internal API is never reachable through the gateway, even though the gateway holds the key.
        for path in ("/iam/internal/revocations?since=0", "/iam/internal/resolve", "/iam/internal"):
            r = http_request(self.gw.port, "GET", path)
            self.assertEqual(r.status, 404, path)
        r = http_request(self.gw.port, "GET", "/iam/apps/..%2finternal/revocations")
        self.assertIn(r.status, (400, 404))
        # The key is never logged by either process.
        self.assertNotIn(SERVICE_KEY, "\n".join(self.am.process.stdout_lines() + self.am.process.stderr_lines()))
        self.assertNotIn(SERVICE_KEY, "\n".join(self.gw.process.stdout_lines() + self.gw.process.stderr_lines()))

    def test_client_sent_service_headers_are_stripped(self):
        # Without a token, a claimed service principal must not give admin rights at the service.
        for headers in ({"X-WebStream-Service-Principal": "evil"},
                        {"X-WebStream-Service-Principal": "evil", "X-WebStream-Service-Key": "guess-" + SERVICE_KEY},
                        {"x_webstream_service_principal": "evil"}):
            r = http_request(self.gw.port, "GET", "/iam/users", headers=headers)
            self.assertEqual(r.status, 401, (headers, r.text))
        # A spoofed X-Forwarded-For from the browser is replaced by the gateway's view of the client.
        user = self.user_with_token()
        status, me, _ = json_request(self.gw.port, "GET", "/iam/auth/me", token=user["token"],
                                     headers={"X-Forwarded-For": "198.51.100.1"})
        self.assertEqual((status, me["id"]), (200, user["id"]))

    def test_mcp_iam_is_served_by_the_service_as_the_key_and_audited_there(self):
        r = self.gw.request("GET", "/mcp/iam/users", headers={"X-MCP-Key": READ_KEY})
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("items", r.json())
        r = self.gw.request("POST", "/mcp/iam/apps", headers={"X-MCP-Key": READ_KEY},
                            body={"name": "mcp-app", "exe": "x.exe", "args": ""})
        self.assertEqual(r.status, 403)
        r = self.gw.request("POST", "/mcp/iam/apps", headers={"X-MCP-Key": RW_KEY},
                            body={"name": "mcp-app-" + uuid.uuid4().hex[:6], "exe": "x.exe", "args": ""})
        self.assertEqual(r.status, 201, r.text)
        self.assertEqual(self.gw.request("GET", "/mcp/iam/users").status, 401)

        def audited():
            status, audit, _ = json_request(self.am.port, "GET", "/iam/audit?limit=200", token=self.am_admin())
            text = json.dumps(audit["items"])
            return status == 200 and "mcp:writer" in text and "mcp:ops-agent" in text and audit
        audit = wait_until(audited, timeout=5, message="MCP calls audited at the service")
        actions = [(i["actor"], i["action"]) for i in audit["items"]]
        self.assertIn(("mcp:ops-agent", "mcp POST 403"), actions)
        self.assertTrue(any(a == "mcp:writer" and act == "create" for a, act in actions), actions)

    def test_a_flood_of_unknown_kids_does_not_hammer_the_service(self):
        def jwks_requests():
            samples = parse_metrics(http_request(self.am.port, "GET", "/metrics").text)
            return metric_value(samples, "webstream_http_requests_total", route=JWKS_ROUTE) or 0
        # Past the 10 s floor of the gateway's start-up fetch, so the first unknown kid may fetch once.
        time.sleep(max(0.0, 11.0 - (time.monotonic() - self.gw_started)))
        before = jwks_requests()
        started = time.monotonic()
        refused = 0
        for i in range(300):
            if self.gw_status(forge_token("made-up-%d-%s" % (i, uuid.uuid4().hex))) == 401:
                refused += 1
        elapsed = time.monotonic() - started
        self.assertEqual(refused, 300)
        fetched = jwks_requests() - before
        # An unknown kid makes the gateway look for a rotated key — at most once per 10 s floor.
        self.assertGreaterEqual(fetched, 1, "an unknown kid should have refreshed the keys once")
        self.assertLessEqual(fetched, 1 + int(elapsed // 10), "%d JWKS fetches in %.1f s" % (fetched, elapsed))
        print("300 unknown kids in %.1f s cost the service %d JWKS request(s)" % (elapsed, fetched))


class ServiceDown(StandaloneBase):
    """Stops its access-management service: a fixture of its own, so no other test finds the service down."""

    def test_service_down_select_answers_503_with_a_json_error(self):
        # A token verified before stays usable (cached keys, fresh feed), but the entitlement check cannot
        # be made.
        user = self.user_with_token()
        self.am.stop()
        r = http_request(self.gw.port, "POST", "/gateway/session/select",
                         body={"workspaceId": self.ws["id"], "appId": self.app["id"]},
                         headers={"Authorization": "Bearer " + user["token"], "X-Session-ID": "am-down-1"})
        self.assertEqual(r.status, 503, r.text)
        self.assertEqual(r.json()["error"]["code"], "access_management_unavailable")
        r = http_request(self.gw.port, "POST", "/iam/auth/login", body={"username": "a", "password": "b"})
        self.assertEqual(r.status, 503, r.text)
        self.assertEqual(r.json()["error"]["code"], "access_management_unavailable")


class StartupChecks(unittest.TestCase):
    def test_gateway_without_service_key_exits_2_naming_it(self):
        d = Gateway(extra_xml=standalone_xml(free_port(), service_key=None))
        try:
            code, out, err = run_gateway_once(["-gw"], config_path=d.config_path)
            self.assertEqual(code, 2, err)
            self.assertIn("accessManagement.serviceKey", err)
        finally:
            d.cleanup()

    def test_https_service_url_is_refused(self):
        d = Gateway(extra_xml='  <accessManagement mode="external" url="https://127.0.0.1:1" serviceKey="%s" />'
                    % SERVICE_KEY)
        try:
            code, out, err = run_gateway_once(["-gw"], config_path=d.config_path)
            self.assertEqual(code, 2, err)
            self.assertIn("accessManagement.url", err)
            self.assertNotIn(SERVICE_KEY, out + err)
        finally:
            d.cleanup()

    def test_service_unreachable_at_start_then_up(self):
        am_port = free_port()
        gw = Gateway(extra_xml=standalone_xml(am_port))
        am = AmService(port=am_port, extra_xml=am_xml())
        try:
            gw.start(timeout=HEALTH_TIMEOUT + 10)  # waits ~5 s for the service, then starts anyway
            r = http_request(gw.port, "GET", "/gateway/session/status",
                             headers={"Authorization": "Bearer " + forge_token("x"), "X-Session-ID": "s"})
            self.assertEqual(r.status, 503, r.text)
            self.assertEqual(r.json()["error"]["code"], "access_management_unavailable")
            am.start()
            token = wait_until(lambda: self._try_login(gw.port), timeout=10, message="login through the gateway")
            wait_until(lambda: http_request(gw.port, "GET", "/gateway/session/status",
                                            headers={"Authorization": "Bearer " + token,
                                                     "X-Session-ID": "s"}).status == 404,
                       timeout=10, message="the gateway to accept tokens once the service is up")
        finally:
            gw.cleanup()
            am.cleanup()

    def test_a_gateway_whose_key_the_service_refuses_says_so_as_an_error(self):
        # Not an outage: a wrong key must be told apart, naming the setting, without printing either key.
        other_key = "another-service-key-0123456789"
        with AmService(extra_xml=am_xml()) as am:
            gw = Gateway(extra_xml=standalone_xml(am.port, service_key=other_key))
            try:
                gw.start(timeout=HEALTH_TIMEOUT + 10)
                def refused():
                    return [l for l in gw.process.logs()
                            if l.get("level") == "error" and "accessManagement serviceKey" in l.get("msg", "")]
                lines = wait_until(refused, timeout=10, message="an error log line naming accessManagement serviceKey")
                self.assertEqual(lines[0].get("status"), 401)
                out = "\n".join(gw.process.stdout_lines() + gw.process.stderr_lines())
                self.assertNotIn(other_key, out)
                self.assertNotIn(SERVICE_KEY, out)
            finally:
                gw.cleanup()

    @staticmethod
    def _try_login(port):
        r = http_request(port, "POST", "/iam/auth/login", body={"username": ADMIN_USER, "password": ADMIN_PASSWORD})
        return r.json()["token"] if r.status == 200 else None

    def test_am_without_service_key_refuses_internal_calls(self):
        with AmService() as am:
            r = http_request(am.port, "GET", "/iam/internal/revocations?since=0",
                             headers={"X-WebStream-Service-Key": SERVICE_KEY})
            self.assertEqual(r.status, 401)
            # It still serves the IAM itself.
            self.assertTrue(login(am.port, ADMIN_USER, ADMIN_PASSWORD))


if __name__ == "__main__":
    unittest.main()
