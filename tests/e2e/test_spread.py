"""End to end: 100 concurrent sessions of 100 different users spread over three webstream-sim hosts by each
load-balancing strategy (CONTRACT §4 "Routing a new session").

Cost: every user is created (one argon2id hash) and logs in (another) through the IAM API, about 0.25 s of CPU
each, so the users and their tokens are made once; the gateway is then restarted with each strategy on the same
store, and the tokens keep working (sessions and keys survive a restart, CONTRACT §7). Each strategy gets its own
workspace, so the affinity of a previous run (user + workspace, CONTRACT §4) does not steer the next one.

  RoundRobin        3 hosts x maxSessions 100: 34/33/33 (picks rotate under the registry's lock)
  LeastConnections  the same hosts: even within a few sessions (concurrent selects may see the same loads
                    before their pins land; least-load corrects it)
  Weighted          maxSessions reported as 100/60/40 (weight = maxSessions): 50/30/20 within a few sessions

Standard library only.
"""
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import Gateway, SimProcess, json_request, wait_until, write_config
from iam_seed import Seed

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}
USERS = 100
HOSTS = 3
SEED_WORKERS = 4  # the gateway hashes passwords on a pool of 2: 4 requests keep it busy


def login_retrying(port, user, attempts=20):
    """The user's token. A login the gateway cannot hash yet answers 503 login_busy with Retry-After: wait, retry."""
    for _ in range(attempts):
        status, body, r = json_request(port, "POST", "/iam/auth/login",
                                       body={"username": user["username"], "password": user["password"]}, timeout=60)
        if status == 200:
            return body["token"]
        if status != 503:
            break
        time.sleep(float(r.header("Retry-After") or 1))
    raise AssertionError("login as %s answered %d: %s" % (user["username"], status, r.text[:300]))


def gateway_xml(strategy):
    return ('    <sessions reservationTimeout="600" disconnectGrace="600" />\n'
            '    <loadBalancing strategy="%s" sessionAffinityTimeout="3600" />' % strategy)


class SpreadByStrategy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        started = time.monotonic()
        cls.gw = Gateway(health=FAST, heartbeat_interval=2, extra_gateway_xml=gateway_xml("RoundRobin"))
        cls.gw.start()
        cls.sim = SimProcess(cls.gw.url, hosts=HOSTS, args=["--heartbeat-interval", "1", "--max-sessions", "100",
                                                            "--fps", "1", "--frame-bytes", "1024"])
        cls.sim.start()
        cls.seed = Seed(cls.gw)
        app = cls.seed.app()
        cls.workspaces = {s: cls.seed.workspace([app], name="spread-%s-%d" % (s, time.time_ns()))
                          for s in ("RoundRobin", "LeastConnections", "Weighted")}
        # One org entitlement per workspace instead of 300 user entitlements.
        status, me, r = json_request(cls.gw.port, "GET", "/iam/auth/me", token=cls.gw.admin_token())
        assert status == 200, r.text
        for ws in cls.workspaces.values():
            cls.seed.entitle({"id": me["orgId"]}, ws, subject_type="org")

        def make_user(i):
            user = cls.seed.user(username="spread-%03d-%d" % (i, time.time_ns()))
            user["token"] = login_retrying(cls.gw.port, user)
            return user
        with ThreadPoolExecutor(SEED_WORKERS) as pool:
            cls.users = list(pool.map(make_user, range(USERS)))
        cls.seed_seconds = time.monotonic() - started

    @classmethod
    def tearDownClass(cls):
        cls.sim.stop()
        cls.gw.cleanup()

    # --- helpers
    def backends(self):
        status, data, r = json_request(self.gw.port, "GET", "/gateway/admin/backends", token=self.gw.admin_token())
        self.assertEqual(status, 200, r.text)
        return {b["serverUrl"]: b for b in data["items"]}

    def wait_routable(self, max_sessions):
        """All three hosts Healthy, routable, reporting the given maxSessions, with nothing pinned."""
        urls = [self.sim.host_url(i) for i in range(HOSTS)]

        def ready():
            b = self.backends()
            return all(u in b and b[u]["state"] == "Healthy" and b[u]["routable"] and
                       b[u]["maxSessions"] == max_sessions[i] and b[u]["load"] == 0 for i, u in enumerate(urls))
        wait_until(ready, timeout=30, interval=0.2, message="3 routable hosts with maxSessions %s" % (max_sessions,))

    def restart_with(self, strategy):
        self.gw.config_kwargs["extra_gateway_xml"] = gateway_xml(strategy)
        write_config(self.gw.dir, self.gw.port, **self.gw.config_kwargs)
        self.gw.restart()

    def select_all(self, strategy):
        """100 users select at once; returns {host index: sessions}."""
        ws = self.workspaces[strategy]
        results = [None] * USERS
        go = threading.Barrier(USERS)

        def select(i):
            user = self.users[i]
            go.wait()
            results[i] = json_request(self.gw.port, "POST", "/gateway/session/select", body={"workspaceId": ws["id"]},
                                      headers={"Authorization": "Bearer " + user["token"],
                                               "X-Session-ID": "spread-%s-%d" % (strategy, i)}, timeout=60)
        threads = [threading.Thread(target=select, args=(i,)) for i in range(USERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        by_id = {}
        for status, sel, r in results:
            self.assertEqual(status, 200, r.text)
            by_id[sel["backendId"]] = by_id.get(sel["backendId"], 0) + 1
        # The gateway's own view agrees: each host has exactly the sessions pinned that were answered.
        backends = self.backends()
        counts = {}
        for i in range(HOSTS):
            b = backends[self.sim.host_url(i)]
            counts[i] = by_id.pop(b["backendId"], 0)
            self.assertEqual(b["pinnedSessions"], counts[i], (strategy, i))
        self.assertEqual(by_id, {}, "sessions pinned to unknown backends")
        return counts

    def release_all(self, strategy):
        def release(i):
            return json_request(self.gw.port, "POST", "/gateway/session/release",
                                headers={"Authorization": "Bearer " + self.users[i]["token"],
                                         "X-Session-ID": "spread-%s-%d" % (strategy, i)}, timeout=60)[0]
        with ThreadPoolExecutor(8) as pool:
            self.assertEqual(set(pool.map(release, range(USERS))), {200})

    # --- the test (one method: the phases share the users, the store and the order of restarts)
    def test_100_users_spread_by_each_strategy(self):
        timings = {"seed": self.seed_seconds}

        # RoundRobin: strict rotation.
        t = time.monotonic()
        self.wait_routable([100, 100, 100])
        rr = self.select_all("RoundRobin")
        self.assertEqual(sorted(rr.values()), [33, 33, 34], rr)
        self.release_all("RoundRobin")
        timings["RoundRobin"] = time.monotonic() - t

        # LeastConnections, after a restart on the same store; the tokens made before still work.
        t = time.monotonic()
        self.restart_with("LeastConnections")
        self.wait_routable([100, 100, 100])
        lc = self.select_all("LeastConnections")
        self.assertEqual(sum(lc.values()), USERS)
        self.assertLessEqual(max(lc.values()) - min(lc.values()), 4, lc)
        self.release_all("LeastConnections")
        timings["LeastConnections"] = time.monotonic() - t

        # Weighted: weights from what the hosts report (maxSessions 100/60/40 → 5:3:2).
        t = time.monotonic()
        self.restart_with("Weighted")
        for i, m in enumerate((100, 60, 40)):
            self.sim.set_status(i, maxSessions=m)
        self.wait_routable([100, 60, 40])
        w = self.select_all("Weighted")
        self.assertEqual(sum(w.values()), USERS)
        for i, want in enumerate((50, 30, 20)):
            self.assertLessEqual(abs(w[i] - want), 3, w)
        self.release_all("Weighted")
        timings["Weighted"] = time.monotonic() - t
        print("\nspread: RoundRobin %s, LeastConnections %s, Weighted %s; seconds %s" % (
            rr, lc, w, {k: round(v, 1) for k, v in timings.items()}))


if __name__ == "__main__":
    unittest.main()
