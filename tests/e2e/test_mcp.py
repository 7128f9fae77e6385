"""End to end: the MCP proxy (CONTRACT §9) against a fake metrics engine on 127.0.0.1."""
import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Gateway, free_port, http_request, raw_exchange

READ_KEY = "read-key-0123456789abcdef"
RW_KEY = "readwrite-key-0123456789abcdef"


class FakeEngine:
    def __init__(self):
        self.requests = []
        engine = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                engine.requests.append({"method": self.command, "path": self.path,
                                        "headers": [(k, v) for k, v in self.headers.items()], "body": body})
                out = json.dumps({"ok": True, "path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def keys_xml():
    return ('  <mcpApiKeys>\n    <add name="ops-agent" key="%s" />\n'
            '    <add name="writer" key="%s" access="readwrite" />\n  </mcpApiKeys>' % (READ_KEY, RW_KEY))


class McpGatewayFixture:
    """A class fixture (mix in before unittest.TestCase): `engine`, a FakeEngine, and `gw`, a Gateway whose MCP
    routes go to it with the two keys of keys_xml(); started once for the class."""

    @classmethod
    def setUpClass(cls):
        cls.engine = FakeEngine()
        cls.gw = Gateway(extra_xml='  <mcp metricsEngineUrl="http://127.0.0.1:%d" />\n%s' % (cls.engine.port, keys_xml()))
        cls.gw.start()

    @classmethod
    def tearDownClass(cls):
        cls.gw.cleanup()
        cls.engine.stop()


class McpProxy(McpGatewayFixture, unittest.TestCase):

    def test_missing_or_unknown_key_is_401(self):
        self.assertEqual(self.gw.request("GET", "/mcp/api/metrics").status, 401)
        self.assertEqual(self.gw.request("GET", "/mcp/api/metrics", headers={"X-MCP-Key": "nope"}).status, 401)
        self.assertEqual(self.gw.request("GET", "/mcp/iam/users", headers={"X-MCP-Key": READ_KEY[:-1]}).status, 401)

    def test_api_is_forwarded_with_the_key_name_not_the_key(self):
        before = len(self.engine.requests)
        r = self.gw.request("POST", "/mcp/api/v1/query?range=5m&q=a%20b", headers={
            "X-MCP-Key": READ_KEY, "X-MCP-Key-Name": "spoofed", "Content-Type": "application/json"},
            body={"expr": "cpu"})
        self.assertEqual(r.status, 200, r.text)
        seen = self.engine.requests[before]
        self.assertEqual(seen["method"], "POST")
        self.assertEqual(seen["path"], "/api/v1/query?range=5m&q=a%20b")
        self.assertEqual(json.loads(seen["body"]), {"expr": "cpu"})
        names = {k.lower(): v for k, v in seen["headers"]}
        self.assertEqual(names.get("x-mcp-key-name"), "ops-agent")
        self.assertNotIn("x-mcp-key", names)
        self.assertEqual([k.lower() for k, _ in seen["headers"]].count("x-mcp-key-name"), 1)

    def test_traversal_in_any_encoding_is_400_and_never_forwarded(self):
        before = len(self.engine.requests)
        for path in ("/mcp/api/../iam/users", "/mcp/api/%2e%2e/secret", "/mcp/api/%2E%2E/secret",
                     "/mcp/api/a/%252e%252e/%252e%252e/etc", "/mcp/api/..%2fetc", "/mcp/api/..%5cetc",
                     "/mcp/api/x/.%2e/.%2e/y", "/mcp/iam/%2e%2e/gateway/admin/backends"):
            data = raw_exchange(self.gw.port, ("GET %s HTTP/1.1\r\nHost: x\r\nX-MCP-Key: %s\r\nConnection: close\r\n\r\n"
                                               % (path, RW_KEY)).encode())
            status = int(data.split(b" ", 2)[1]) if data else 0
            self.assertIn(status, (400, 404), path)
            self.assertNotEqual(status, 200, path)
        self.assertEqual(len(self.engine.requests), before)

    def _raw_status(self, path):
        data = raw_exchange(self.gw.port, ("GET %s HTTP/1.1\r\nHost: x\r\nX-MCP-Key: %s\r\nConnection: close\r\n\r\n"
                                           % (path, RW_KEY)).encode())
        return int(data.split(b" ", 2)[1]) if data else 0

    def test_servlet_parameters_overlong_utf8_and_multiple_encoding_are_400_and_never_forwarded(self):
        before = len(self.engine.requests)
        for path in ("/mcp/api/..;/admin", "/mcp/api/.;/admin", "/mcp/api/%c0%ae%c0%ae/admin",
                     "/mcp/api/%2525252e%2525252e/admin", "/mcp/api/%252e/x", "/mcp/api/a%5cb", "/mcp/api/a%00b",
                     "/mcp/iam/..;/gateway/admin/backends", "/mcp/iam/%c0%ae%c0%ae/x"):
            self.assertEqual(self._raw_status(path), 400, path)
        self.assertEqual(len(self.engine.requests), before, self.engine.requests[before:])

    def test_the_guarded_path_is_the_routed_and_forwarded_path(self):
        before = len(self.engine.requests)
        self.assertEqual(self._raw_status("/mcp/%61pi/metrics"), 200)
        self.assertEqual(self._raw_status("/mcp/api/v1/cpu%20load/%c3%a9/x%3By"), 200)
        paths = [r["path"] for r in self.engine.requests[before:]]
        self.assertEqual(paths, ["/api/metrics", "/api/v1/cpu%20load/%C3%A9/x%3By"])
        # /mcp/iam/* is routed on the decoded path too.
        self.assertEqual(self._raw_status("/mcp/%69am/users"), 200)

    def test_iam_read_key_may_only_get(self):
        r = self.gw.request("GET", "/mcp/iam/users", headers={"X-MCP-Key": READ_KEY})
        self.assertEqual(r.status, 200, r.text)
        self.assertIn("items", r.json())
        r = self.gw.request("POST", "/mcp/iam/apps", headers={"X-MCP-Key": READ_KEY},
                            body={"name": "mcp-app", "exe": "x.exe", "args": ""})
        self.assertEqual(r.status, 403)
        r = self.gw.request("POST", "/mcp/iam/apps", headers={"X-MCP-Key": RW_KEY},
                            body={"name": "mcp-app", "exe": "x.exe", "args": ""})
        self.assertIn(r.status, (200, 201), r.text)
        audit = self.gw.request("GET", "/iam/audit?limit=100",
                                headers={"Authorization": "Bearer " + self.gw.admin_token()}).json()
        self.assertTrue(any("writer" in json.dumps(item) for item in audit["items"]), audit)


class McpEdges(unittest.TestCase):
    def test_no_keys_configured_rejects_everything(self):
        with Gateway() as gw:
            self.assertEqual(gw.request("GET", "/mcp/api/x", headers={"X-MCP-Key": READ_KEY}).status, 401)
            self.assertEqual(gw.request("GET", "/mcp/iam/users", headers={"X-MCP-Key": READ_KEY}).status, 401)

    def test_engine_down_is_502(self):
        with Gateway(extra_xml='  <mcp metricsEngineUrl="http://127.0.0.1:%d" />\n%s' % (free_port(), keys_xml())) as gw:
            r = gw.request("GET", "/mcp/api/v1/x", headers={"X-MCP-Key": READ_KEY})
            self.assertEqual(r.status, 502)


if __name__ == "__main__":
    unittest.main()
