"""End to end: an open WebSocket relay keeps its connection counted against gateway.limits.maxConnectionsPerIp
(CONTRACT §11), although it runs detached from the request loop that accepted it (docs/proxy.md, "Memory of
an idle relay"), and gives its slot back when it closes."""
import time
import unittest

from harness import (wait_healthy_backends, Gateway, SimProcess, WebSocket, WebSocketHandshakeError, json_request,
                     wait_until)
from iam_seed import Seed

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
CAP = 6
MAX_TRIES = 3 * CAP


def health_ok(port):
    try:
        status, _, _ = json_request(port, "GET", "/gateway/health", timeout=3)
        return status == 200
    except OSError:
        return False


class WebSocketsCountAgainstTheCaps(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.gw = Gateway(health=FAST, heartbeat_interval=2,
                         extra_gateway_xml='<limits maxConnectionsPerIp="%d" />' % CAP)
        cls.gw.start()
        cls.sim = SimProcess(cls.gw.url, hosts=1, args=["--heartbeat-interval", "1", "--max-sessions", "50",
                                                         "--fps", "0"])
        cls.sim.start()

        wait_healthy_backends(cls.gw)
        seed = Seed(cls.gw)
        app = seed.app(exe="notepad.exe", args="")
        cls.ws = seed.workspace([app], type_="desktop")
        cls.user = seed.entitled_user(cls.ws, policy=seed.policy({"maxConcurrentSessions": 2}))

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.gw.cleanup()

    def open_until_refused(self, query):
        opened = []
        refused = False
        for _ in range(MAX_TRIES):
            try:
                opened.append(WebSocket.connect(self.gw.port, "/control" + query, timeout=5))
            except (WebSocketHandshakeError, OSError):
                refused = True
                break
        return opened, refused

    def test_open_relays_hold_their_slots_until_closed(self):
        status, sel, r = json_request(self.gw.port, "POST", "/gateway/session/select",
                                      body={"workspaceId": self.ws["id"]},
                                      headers={"Authorization": "Bearer " + self.user["token"],
                                               "X-Session-ID": "caps-1"})
        self.assertEqual(status, 200, r.text)
        query = "?sessionId=caps-1&token=" + sel["connectToken"]

        opened, refused = self.open_until_refused(query)
        try:
            self.assertTrue(refused, "%d WebSockets opened with maxConnectionsPerIp=%d" % (len(opened), CAP))
            self.assertGreaterEqual(len(opened), 1)
            self.assertLessEqual(len(opened), CAP)
            # The relays still work while they hold the slots.
            opened[0].send_text("still here")
            self.assertEqual(opened[0].recv().data, "still here")
            # Every slot is taken by a relay (or the sim's own connections): a plain request is refused too.
            self.assertFalse(health_ok(self.gw.port))
        finally:
            for ws in opened:
                try:
                    ws.close(1000)
                except OSError:
                    pass

        # Closed relays give their slots back.
        wait_until(lambda: health_ok(self.gw.port), timeout=10, message="a slot after the relays closed")
        again, _ = self.open_until_refused(query)
        try:
            self.assertGreaterEqual(len(again), len(opened) - 1)
        finally:
            for ws in again:
                try:
                    ws.close(1000)
                except OSError:
                    pass
        time.sleep(0.2)


if __name__ == "__main__":
    unittest.main()
