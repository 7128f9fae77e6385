"""End to end: chunk extensions and trailers count against the header limits (CONTRACT §11, §11a)."""
import os
import socket
import time
import unittest

from harness import http_request, parse_response, raw_exchange
from test_mcp import McpGatewayFixture, READ_KEY

HEAD = (b"POST /iam/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n")


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def status_of(data):
    return parse_response(data).status if data else 0


class ChunkedLimits(McpGatewayFixture, unittest.TestCase):
    def test_megabytes_of_trailer_lines_are_431_and_memory_stays_flat(self):
        pid = self.gw.process.proc.pid
        body = b'{"username":"a","password":"b"}'
        before = rss_kib(pid)
        line = b"X-Trailer-" + b"a" * 50 + b": " + b"b" * 60 + b"\r\n"
        block = line * (64 * 1024 // len(line))
        sent = 0
        with socket.create_connection(("127.0.0.1", self.gw.port), timeout=10) as sock:
            sock.sendall(HEAD + b"%x\r\n" % len(body) + body + b"\r\n0\r\n")
            try:
                while sent < 8 * 1024 * 1024:
                    sock.sendall(block)
                    sent += len(block)
                peak = rss_kib(pid)
                sock.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                peak = rss_kib(pid)
            sock.settimeout(10)
            data = b""
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except (ConnectionResetError, socket.timeout):
                pass
        self.assertEqual(status_of(data), 431, data[:300])
        # Not on a sanitizer build (scripts/asan-test.sh sets WEBSTREAM_SANITIZERS): ASan keeps freed blocks in
        # quarantine instead of reusing them, so there the RSS measures the sanitizer (3.7 MiB for 8 MiB sent on
        # 2026-12-04), not the gateway. The README's test command (the unsanitized ci build) holds the bound.
        if not os.environ.get("WEBSTREAM_SANITIZERS"):
            self.assertLess(peak - before, 2048, "RSS grew from %d KiB to %d KiB for %d bytes of trailers"
                            % (before, peak, sent))
        self.assertEqual(self.gw.request("GET", "/gateway/health").status, 200)

    def test_too_many_trailer_fields_are_431(self):
        body = b'{"username":"a","password":"b"}'
        trailers = b"".join(b"X-T%d: v\r\n" % i for i in range(101))
        data = raw_exchange(self.gw.port, HEAD + b"%x\r\n" % len(body) + body + b"\r\n0\r\n" + trailers + b"\r\n")
        self.assertEqual(status_of(data), 431, data[:300])

    def test_chunk_extensions_count_against_the_header_bytes(self):
        ext = b";name=" + b"e" * 1024
        chunks = b"".join(b"1" + ext + b"\r\n{\r\n" if i == 0 else b"1" + ext + b"\r\n \r\n" for i in range(20))
        data = raw_exchange(self.gw.port, HEAD + chunks + b"0\r\n\r\n")
        self.assertEqual(status_of(data), 431, data[:300])

    def test_trailers_are_never_forwarded_as_headers(self):
        before = len(self.engine.requests)
        body = b'{"q":1}'
        data = raw_exchange(self.gw.port, b"POST /mcp/api/v1/query HTTP/1.1\r\nHost: x\r\nX-MCP-Key: " + READ_KEY.encode()
                            + b"\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nTrailer: X-From-Trailer"
                            b"\r\nConnection: close\r\n\r\n" + b"%x\r\n" % len(body) + body +
                            b"\r\n0\r\nX-From-Trailer: yes\r\nX-MCP-Key-Name: spoofed\r\n\r\n")
        self.assertEqual(status_of(data), 200, data[:300])
        seen = self.engine.requests[before]
        self.assertEqual(seen["body"], body)
        names = [k.lower() for k, _ in seen["headers"]]
        self.assertNotIn("x-from-trailer", names)
        self.assertEqual([v for k, v in seen["headers"] if k.lower() == "x-mcp-key-name"], ["ops-agent"])


if __name__ == "__main__":
    unittest.main()
