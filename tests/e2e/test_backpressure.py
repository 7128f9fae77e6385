"""End to end: a browser that stops reading a /capture WebSocket slows the session host down; it never grows the
gateway's memory (CONTRACT §8: "per-connection buffering bounded (a slow reader slows its writer, it never grows
memory without bound)"; docs/proxy.md "WebSocket relay").

A webstream-sim host pushes 256 KiB /capture frames as fast as they are taken (--fps 0). The test reads for a
moment, then stops reading while keeping the connection open, and watches:
  - the host's sent-bytes counter stops growing (the relay stopped reading from it), with no more in flight than
    the kernel's socket buffers of the two TCP connections can hold;
  - the gateway's resident memory (VmRSS) stays within 16 MiB of what it was while the stream flowed;
  - /gateway/health keeps answering;
then reads again: every frame arrives, in order, with no gap in the frame counter (back-pressure, not drop), and
new frames follow. Standard library only.
"""
import time
import unittest

from harness import (wait_healthy_backends, Gateway, SimProcess, WebSocket, json_request, http_request,
                     parse_capture_header, wait_until)
from iam_seed import Seed

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
FRAME_BYTES = 256 * 1024
MIB = 1024 * 1024
RSS_GROWTH_LIMIT = 16 * MIB
STALL_SECONDS = 6.0
HEALTH_LIMIT_S = 2.0  # generous: the machine is shared; a blocked gateway would not answer at all


def rss_bytes(pid):
    """VmRSS of process `pid` in bytes (Linux /proc)."""
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def socket_buffer_max():
    """The most a loopback TCP connection can hold in its kernel buffers: tcp_rmem max + tcp_wmem max."""
    total = 0
    for name in ("tcp_rmem", "tcp_wmem"):
        try:
            with open("/proc/sys/net/ipv4/" + name, encoding="ascii") as f:
                total += int(f.read().split()[2])
        except (OSError, ValueError, IndexError):
            total += 8 * MIB
    return total


class SlowReader(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(health=FAST, heartbeat_interval=2,
                         extra_gateway_xml='    <sessions reservationTimeout="120" disconnectGrace="300" />')
        cls.gw.start()
        cls.sim = SimProcess(cls.gw.url, hosts=1, args=["--heartbeat-interval", "1", "--fps", "0",
                                                        "--frame-bytes", str(FRAME_BYTES)])
        cls.sim.start()

        wait_healthy_backends(cls.gw)
        cls.seed = Seed(cls.gw)
        app = cls.seed.app()
        cls.ws = cls.seed.workspace([app])
        cls.user = cls.seed.entitled_user(cls.ws)

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.gw.cleanup()

    def sim_bytes_out(self):
        return self.sim.stats(0)["bytes"]["out"]

    def test_stalled_reader_is_backpressure_not_memory(self):
        hdrs = {"Authorization": "Bearer " + self.user["token"], "X-Session-ID": "slow-1"}
        status, sel, r = json_request(self.gw.port, "POST", "/gateway/session/select",
                                      body={"workspaceId": self.ws["id"]}, headers=hdrs)
        self.assertEqual(status, 200, r.text)
        pid = self.gw.process.proc.pid
        ws = WebSocket.connect(self.gw.port, "/capture?sessionId=slow-1&token=" + sel["connectToken"])
        try:
            # The stream flows: read 40 frames (10 MiB) in order.
            expected = 0
            received = 0
            for _ in range(40):
                m = ws.recv_data(timeout=10)
                header = parse_capture_header(m.data)
                self.assertIsNotNone(header)
                self.assertEqual(header["counter"], expected)
                self.assertEqual(len(m.data), FRAME_BYTES)
                expected += 1
                received += len(m.data)
            baseline = rss_bytes(pid)

            # Stop reading. The host keeps trying to send; soon it is blocked.
            def host_blocked():
                before = self.sim_bytes_out()
                time.sleep(1.0)
                return self.sim_bytes_out() == before
            wait_until(host_blocked, timeout=15, interval=0, message="the host's sending to stop")
            stalled_at = self.sim_bytes_out()
            in_flight = stalled_at - received
            # Two TCP connections (host→gateway, gateway→browser), the relay's 64 KiB buffers, one frame being
            # written: anything much beyond that would be a queue in the gateway.
            bound = 2 * socket_buffer_max() + 2 * FRAME_BYTES + 4 * MIB
            self.assertLess(in_flight, bound, "bytes sent by the host but not read by the browser")

            # While stalled: memory stays flat, the host stays blocked, the gateway answers.
            samples = []
            health_times = []
            deadline = time.monotonic() + STALL_SECONDS
            while time.monotonic() < deadline:
                samples.append(rss_bytes(pid))
                t0 = time.monotonic()
                h = http_request(self.gw.port, "GET", "/gateway/health", timeout=10)
                health_times.append(time.monotonic() - t0)
                self.assertEqual((h.status, h.body), (200, b"OK"))
                time.sleep(0.25)
            samples.append(rss_bytes(pid))
            growth = max(samples) - baseline
            self.assertLess(growth, RSS_GROWTH_LIMIT, "gateway RSS grew by %.1f MiB while the reader was stalled "
                            "(baseline %.1f MiB)" % (growth / MIB, baseline / MIB))
            self.assertLess(max(health_times), HEALTH_LIMIT_S, health_times)
            # The host is still held back: what it sent in all is still within the buffers' reach.
            self.assertLess(self.sim_bytes_out() - received, bound, "the host kept sending")

            # Read again: every frame is there, in order, and new ones follow.
            frames_at_stall = stalled_at // FRAME_BYTES
            target = frames_at_stall + 20
            while expected < target:
                m = ws.recv_data(timeout=10)
                header = parse_capture_header(m.data)
                self.assertIsNotNone(header)
                self.assertEqual(header["counter"], expected, "a frame was lost or reordered")
                self.assertEqual(len(m.data), FRAME_BYTES)
                expected += 1
            self.assertGreater(self.sim_bytes_out(), stalled_at)
            self.assertEqual(ws.close(1000), 1000)
        finally:
            ws._finish()
        after = rss_bytes(pid)
        self.assertLess(after - baseline, RSS_GROWTH_LIMIT)
        json_request(self.gw.port, "POST", "/gateway/session/release", headers=hdrs)


if __name__ == "__main__":
    unittest.main()
