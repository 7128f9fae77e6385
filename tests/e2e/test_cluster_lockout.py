"""End to end: login lockout is exact across gateways under concurrency (CONTRACT §6, §12: 5 failures per username
and 50 per address, wherever they were made).

Three gateways on one real PostgreSQL (pg_server.py). Each gateway's database transaction admits a login attempt
(the username's and the address's failures plus the attempts in flight on every gateway, under their locks) before
the password is checked; so a burst of wrong passwords spread over the gateways gets exactly 5 password checks
through per username (each answered 401), every other attempt 429 (or 503 login_busy when a gateway's hashing
pool is full: that attempt never ran). Several rounds, a new user each; then a spray of unknown names from the
one test address gets exactly the rest of the address's 50 through.
"""
import json
import unittest
import uuid
from collections import Counter
from xml.sax.saxutils import quoteattr

from harness import Gateway, http_request, together
from iam_seed import Seed
from pg_server import PgServer

PASSWORD = "User-Pa55word!"
ROUNDS = 5
BURST = 30


class ExactLockoutAcrossGateways(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()
        storage = "  <storage provider=\"postgresql\" connection=%s />" % quoteattr(cls.pg.create_database())
        cls.gws = [Gateway(storage_xml=storage) for _ in range(3)]
        for gw in cls.gws:
            gw.start()
        cls.seed = Seed(cls.gws[0])
        cls.app = cls.seed.app()
        cls.ws = cls.seed.workspace([cls.app], type_="app")

    @classmethod
    def tearDownClass(cls):
        for gw in cls.gws:
            gw.cleanup()
        cls.pg.cleanup()

    def login(self, i, username, password):
        return http_request(self.gws[i % 3].port, "POST", "/iam/auth/login", {"Content-Type": "application/json"},
                            json.dumps({"username": username, "password": password}).encode(), timeout=60).status

    def bursts_until_locked(self, call, size):
        """Bursts of `size` attempts at once over the three gateways until one gets no password checked and none
        refused for a busy hashing pool; returns the password checks (401s) of every burst."""
        checks = []
        for _ in range(6):
            statuses = Counter(together([lambda i=i: call(i) for i in range(size)]))
            self.assertEqual(set(statuses) - {401, 429, 503}, set(), statuses)
            checks.append(statuses[401])
            if statuses[401] == 0 and statuses[503] == 0:
                return checks, statuses
        self.fail("never locked: %s" % checks)

    def test_bursts_of_wrong_passwords_get_exactly_5_checks_through_per_username_and_50_per_address(self):
        checked = 0
        for round_ in range(ROUNDS):
            user = self.seed.entitled_user(self.ws, password=PASSWORD)
            checks, last = self.bursts_until_locked(lambda i: self.login(i, user["username"], "wrong-%d" % i), BURST)
            print("\n  username round %d: password checks per burst of %d: %s" % (round_, BURST, checks), end="")
            self.assertEqual(sum(checks), 5, "round %d: %s password checks for a limit of 5" % (round_, checks))
            checked += sum(checks)
            # Locked everywhere, the right password included.
            for i in range(3):
                self.assertEqual(self.login(i, user["username"], PASSWORD), 429, "gateway %d" % i)
        # The address has `checked` failures; unknown names sprayed from it get exactly the rest of 50 through.
        left = 50 - checked
        checks, _ = self.bursts_until_locked(lambda i: self.login(i, "nobody-" + uuid.uuid4().hex, "x"), left + 15)
        print("\n  address: password checks per burst of %d unknown names: %s (%d left of 50)" % (
            left + 15, checks, left))
        self.assertEqual(sum(checks), left, checks)
        for i in range(3):
            self.assertEqual(self.login(i, "nobody-" + uuid.uuid4().hex, "x"), 429, "gateway %d" % i)

if __name__ == "__main__":
    unittest.main()
