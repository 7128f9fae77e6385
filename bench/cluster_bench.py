#!/usr/bin/env python3
"""Several gateways on one PostgreSQL (issue 12), over HTTP: the same load against 1 gateway on SQLite, 1 gateway on
PostgreSQL and 3 gateways on one PostgreSQL. Prints a table; asserts nothing. Standard library only.

    python3 bench/cluster_bench.py [--build build/ci] [--seconds 10] [--checkin-seconds 60] [--checkin-connections 600]
                                   [--streamers 100000] [--quick]
                                   [--only sqlite,pg1,pg3]

For each set-up: the gateways (workerThreads=2, licence for --streamers streamers signed with the build directory's
test key), one simulated session host registered with the first gateway, and 16 users entitled to a workspace.
- select+release: 16 client threads (one user each), each looping POST /gateway/session/select of a new session
  then POST /gateway/session/release of it, over keep-alive connections, the two requests going round robin over
  the gateways (select on gateway k, release on k+1). Prints pairs/s, the pair's p50/p99, failed pairs.
- GET /getConnection: after the other two phases, every set-up is started again at once (the same PostgreSQL
  server, a database each) and --rounds wrk rounds are interleaved between them (round r starts with the r-th
  set-up), so the shared machine's noise falls on each alike; the table gives the medians and each round.
  wrk (keep-alive, --latency) with one user's Bearer token and a session selected on the first gateway; one
  gateway: wrk -t2 -c64; three: one wrk -t1 -c21 per gateway at once, req/s summed, worst p99. Beside
  it, PostgreSQL's committed + rolled-back transactions per second in the gateways' database over the same seconds
  (pg_stat_database; the background work of every gateway included), and the gateways' proxy store reads: the hot
  path makes no database round trip, so neither grows with the request rate.
- licence check-ins: licence_checkin_bench (bench/licence_checkin_bench.cpp) with 100,000 streamers every 15 s
  (6,667 check-ins/s offered, the first 15 s new seats, then refreshes) for 60 s, over 600 keep-alive connections
  spread round robin over the gateways; latency counted from each check-in's due time. Each connection has one
  check-in in flight, so the connections bound how many new seats a gateway can claim in one transaction: with
  64 (licence_checkin_bench.sh's default) 3 gateways on PostgreSQL fell far behind (2026-12-04: 1,135/s
  answered, p99 145 s), with 600 they kept up; 100,000 real streamers are 100,000 connections. Prints
  answered/s, p99 (all, and refreshes only), non-200 answers and connection errors.

PostgreSQL is a throwaway local server (tests/e2e/pg_server.py) with fsync and synchronous_commit on, as SQLite's
synchronous=FULL: both pay a durable commit. Everything (gateways, PostgreSQL, the session host, wrk and this
script's clients) shares the machine's cores: on the 2-core development machine the figures are a property of
that whole set, and 3 gateways get no more CPU than 1. Run it under `nice -n 19`.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from xml.sax.saxutils import quoteattr

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
from run import ADMIN_PW, call, free_port, stop_all, wait_http  # noqa: E402
from pg_server import PgServer  # noqa: E402

USERS = 16
USER_PW = "bench-user-password-1"
SETUPS = {"sqlite": ("sqlite", 1), "pg1": ("postgresql", 1), "pg3": ("postgresql", 3)}
TITLES = {"sqlite": "1 gw SQLite", "pg1": "1 gw PostgreSQL", "pg3": "3 gw PostgreSQL"}


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[int(p * (len(ordered) - 1))]


def metric_sum(port, name):
    status, body = call(port, "GET", "/metrics")
    text = body.decode() if isinstance(body, bytes) else ""
    return sum(float(m.group(1)) for m in re.finditer(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M))


class Cluster:
    """N gateways on one store, one simulated session host, USERS entitled users with tokens."""

    def __init__(self, build, work, provider, n, conninfo, licence, users=USERS):
        self.build, self.work, self.n, self.users = build, work, n, users
        self.procs = []
        self.ports = []
        for i in range(n):
            port = free_port()
            storage = ('<storage provider="postgresql" connection=%s />' % quoteattr(conninfo) if provider == "postgresql"
                       else '<storage provider="sqlite" path=%s />' % quoteattr(os.path.join(work, "gw.db")))
            path = os.path.join(work, "gw%d.xml" % i)
            with open(path, "w") as f:
                f.write(f"""<configuration>
  <gateway publicIP="127.0.0.1" port="{port}" workerThreads="2">
    <limits maxConnectionsPerIp="100000" maxConnectionsPerListener="100000" />
    <sessions reservationTimeout="3600" disconnectGrace="3600" />
  </gateway>
  {storage}
  <license file={quoteattr(licence)} />
  <logging level="warn" />
</configuration>""")
            env = dict(os.environ, WEBSTREAM_ADMIN_PASSWORD=ADMIN_PW)
            gw = subprocess.Popen([os.path.join(build, "src/app/webstream"), "-gw", "--config", path], env=env,
                                  stdout=open(os.path.join(work, "gw%d.log" % i), "w"), stderr=subprocess.STDOUT)
            self.procs.append(gw)
            self.ports.append(port)
            wait_http(port, timeout=60)  # the first start bootstraps the database; the others find it
        self.pids = [p.pid for p in self.procs]
        p_sim = free_port()
        self.procs.append(subprocess.Popen(
            [os.path.join(build, "tools/sim/webstream-sim"), "--gateway", f"http://127.0.0.1:{self.ports[0]}",
             "--hosts", "1", "--base-port", str(p_sim), "--max-sessions", "100000", "--fps", "0",
             "--heartbeat-interval", "1", "--log-level", "warn"],
            stdout=open(os.path.join(work, "sim.log"), "w"), stderr=subprocess.STDOUT))
        wait_http(p_sim, "/health")
        self.seed()

    def seed(self):
        p = self.ports[0]
        _, login = call(p, "POST", "/iam/auth/login", {"username": "admin", "password": ADMIN_PW})
        admin = {"Authorization": "Bearer " + login["token"]}
        _, app = call(p, "POST", "/iam/apps", {"name": "Bench", "exe": "bench.exe", "args": ""}, admin)
        _, pol = call(p, "POST", "/iam/policies", {"name": "bench", "document": {"maxConcurrentSessions": 1000}}, admin)
        _, ws = call(p, "POST", "/iam/workspaces", {"name": "Bench", "type": "desktop", "apps": [app["id"]]}, admin)
        self.workspace = ws["id"]
        self.tokens = []
        for i in range(self.users):
            _, user = call(p, "POST", "/iam/users", {"username": "bench%d" % i, "password": USER_PW, "roles": ["user"]},
                           admin)
            call(p, "POST", "/iam/entitlements", {"subjectType": "user", "subjectId": user["id"],
                                                  "workspaceId": ws["id"], "appIds": [], "policyId": pol["id"]}, admin)
            _, login = call(self.ports[i % self.n], "POST", "/iam/auth/login",
                            {"username": "bench%d" % i, "password": USER_PW})
            self.tokens.append(login["token"])
        # Every gateway has the session host (the others learn it through the database).
        deadline = time.time() + 30
        for k, port in enumerate(self.ports):
            while True:
                sid = "warm-%d" % k
                status, body = self.select(port, self.tokens[0], sid)
                if status == 200:
                    self.release(port, self.tokens[0], sid)
                    break
                if time.time() > deadline:
                    raise RuntimeError(f"select on gateway {k} answered {status} {body}")
                time.sleep(0.5)

    def select(self, port, token, sid, conn=None):
        return self._json(port, "POST", "/gateway/session/select", {"workspaceId": self.workspace},
                          {"Authorization": "Bearer " + token, "X-Session-ID": sid}, conn)

    def release(self, port, token, sid, conn=None):
        return self._json(port, "POST", "/gateway/session/release", None,
                          {"Authorization": "Bearer " + token, "X-Session-ID": sid}, conn)

    @staticmethod
    def _json(port, method, path, body, headers, conn=None):
        if conn is None:
            return call(port, method, path, body, headers)
        h = {"Content-Type": "application/json"}
        h.update(headers)
        conn.request(method, path, json.dumps(body) if body is not None else "", h)
        res = conn.getresponse()
        data = res.read()
        return res.status, data

    def stop(self):
        stop_all(self.procs)


def select_release(cluster, seconds):
    """USERS threads looping select + release of a new session, round robin over the gateways."""
    stop_at = time.time() + seconds
    pairs, failed, latencies = [0] * USERS, [0] * USERS, [[] for _ in range(USERS)]

    def client(i):
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for port in cluster.ports]
        k = 0
        while time.time() < stop_at:
            sid = "sr-%d-%d" % (i, k)
            a, b = (i + k) % cluster.n, (i + k + 1) % cluster.n
            start = time.perf_counter()
            try:
                s1, _ = cluster.select(cluster.ports[a], cluster.tokens[i], sid, conns[a])
                s2, _ = cluster.release(cluster.ports[b], cluster.tokens[i], sid, conns[b])
            except (OSError, http.client.HTTPException):
                s1 = s2 = 0
                conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for port in cluster.ports]
            if s1 == 200 and s2 == 200:
                pairs[i] += 1
                latencies[i].append((time.perf_counter() - start) * 1000)
            else:
                failed[i] += 1
            k += 1
        for c in conns:
            c.close()

    began = time.time()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(USERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.time() - began
    lat = [x for per in latencies for x in per]
    return {"pairs_per_s": sum(pairs) / wall, "p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99),
            "failed": sum(failed)}


def wrk_run(url, headers, seconds, threads, connections):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    return subprocess.Popen(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wrk_result(proc):
    out = proc.communicate()[0]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {"rps": float(rps.group(1)) if rps else 0.0,
            "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else 0.0,
            "non2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors.group(1) if errors else ""}


def pg_transactions(pg, conninfo):
    dbname = re.search(r"dbname=(\S+)", conninfo).group(1)
    out = pg.sql("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '%s'" % dbname, "postgres")
    return int(out.strip())


def prepare_get_connection(cluster):
    """A session selected on the first gateway, taken in by every gateway (a store read on each one's first use)."""
    token = cluster.tokens[0]
    status, body = cluster.select(cluster.ports[0], token, "bench-gc")
    if status != 200:
        raise RuntimeError(f"select for /getConnection answered {status} {body}")
    headers = {"Authorization": "Bearer " + token, "X-Session-ID": "bench-gc"}
    for port in cluster.ports:
        status, _ = call(port, "GET", "/getConnection", None, headers)
        if status != 200:
            raise RuntimeError(f"/getConnection on port {port} answered {status}")
    return headers


def get_connection(cluster, headers, seconds, pg=None, conninfo=None):
    """One wrk round: one gateway: wrk -t2 -c64; several: one wrk -t1 -c21 per gateway at once."""
    reads_before = sum(metric_sum(p, "webstream_proxy_session_store_reads_total") for p in cluster.ports)
    if pg:
        # pg_stat_database counts a transaction when its backend reports, at most every 0.5 s: wait that out.
        time.sleep(1)
        xacts_before, t0 = pg_transactions(pg, conninfo), time.time()
    if cluster.n == 1:
        procs = [wrk_run(f"http://127.0.0.1:{cluster.ports[0]}/getConnection", headers, seconds, 2, 64)]
    else:
        procs = [wrk_run(f"http://127.0.0.1:{port}/getConnection", headers, seconds, 1, 21) for port in cluster.ports]
    results = [wrk_result(p) for p in procs]
    out = {"rps": sum(r["rps"] for r in results), "p99_ms": max(r["p99_ms"] for r in results),
           "non2xx": sum(r["non2xx"] for r in results),
           "socket_errors": "; ".join(r["socket_errors"] for r in results if r["socket_errors"])}
    if pg:
        time.sleep(1)
        out["pg_xacts_per_s"] = (pg_transactions(pg, conninfo) - xacts_before) / (time.time() - t0)
    out["store_reads"] = sum(metric_sum(p, "webstream_proxy_session_store_reads_total") for p in cluster.ports) - \
        reads_before
    return out


def median(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2] if len(ordered) % 2 else (ordered[len(ordered) // 2 - 1] +
                                                               ordered[len(ordered) // 2]) / 2


def get_connection_rounds(names, args, build, pg, licence):
    """Every set-up up at once; wrk rounds interleaved (round r starts with the r-th set-up), so that the machine's
    noise falls on all of them alike. Returns per set-up the rounds and their medians."""
    clusters, works, conninfos, headers = {}, [], {}, {}
    try:
        for n in names:
            provider, count = SETUPS[n]
            work = tempfile.mkdtemp(prefix="webstream-cluster-bench-gc-")
            works.append(work)
            conninfos[n] = pg.create_database() if provider == "postgresql" else None
            print(f"[{time.strftime('%H:%M:%S')}] /getConnection: starting {TITLES[n]}", file=sys.stderr)
            clusters[n] = Cluster(build, work, provider, count, conninfos[n], licence, users=1)
            headers[n] = prepare_get_connection(clusters[n])
        rounds = {n: [] for n in names}
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for n in order:
                res = get_connection(clusters[n], headers[n], args.seconds, pg if conninfos[n] else None, conninfos[n])
                rounds[n].append(res)
                print(f"[{time.strftime('%H:%M:%S')}] /getConnection round {r + 1} {TITLES[n]}: {res}", file=sys.stderr)
        out = {}
        for n in names:
            rs = rounds[n]
            out[n] = {"rounds": rs, "rps": median([x["rps"] for x in rs]), "p99_ms": median([x["p99_ms"] for x in rs]),
                      "non2xx": sum(x["non2xx"] for x in rs), "store_reads": sum(x["store_reads"] for x in rs)}
            if conninfos[n]:
                out[n]["pg_xacts_per_s"] = median([x["pg_xacts_per_s"] for x in rs])
        return out
    finally:
        for c in clusters.values():
            c.stop()
        for w in works:
            shutil.rmtree(w, ignore_errors=True)


def checkins(cluster, build, streamers, seconds, connections):
    client = os.path.join(build, "src/licence/licence_checkin_bench")
    cmd = [client, "--port", ",".join(str(p) for p in cluster.ports), "--streamers", str(streamers), "--period", "15",
           "--seconds", str(seconds), "--connections", str(connections), "--pid", ",".join(str(p) for p in cluster.pids)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (out.stderr or out.stdout).strip()[:300]}


def run_setup(name, args, build, pg, licence):
    provider, n = SETUPS[name]
    work = tempfile.mkdtemp(prefix="webstream-cluster-bench-")
    conninfo = pg.create_database() if provider == "postgresql" else None
    cluster = None
    try:
        print(f"[{time.strftime('%H:%M:%S')}] {TITLES[name]}: starting", file=sys.stderr)
        cluster = Cluster(build, work, provider, n, conninfo, licence)
        result = {"select_release": select_release(cluster, args.seconds)}
        print(f"[{time.strftime('%H:%M:%S')}] {TITLES[name]}: select+release {result['select_release']}",
              file=sys.stderr)
        result["checkins"] = checkins(cluster, build, args.streamers, args.checkin_seconds, args.checkin_connections)
        print(f"[{time.strftime('%H:%M:%S')}] {TITLES[name]}: check-ins {json.dumps(result['checkins'])}",
              file=sys.stderr)
        return result
    finally:
        if cluster:
            cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


def table(results, streamers):
    names = list(results)
    rows = []

    def row(label, fn):
        cells = []
        for n in names:
            try:
                cells.append(fn(results[n]))
            except (KeyError, TypeError):
                cells.append("n/a")
        rows.append([label] + cells)

    sr = lambda r: r["select_release"]
    gc = lambda r: r["get_connection"]
    ci = lambda r: r["checkins"]
    row("select+release pairs/s (16 clients)", lambda r: "%.0f" % sr(r)["pairs_per_s"])
    row("select+release pair p50 / p99 ms", lambda r: "%.1f / %.1f" % (sr(r)["p50_ms"], sr(r)["p99_ms"]))
    row("select+release failed pairs", lambda r: "%d" % sr(r)["failed"])
    row("GET /getConnection req/s (wrk c64), median", lambda r: "%.0f" % gc(r)["rps"])
    row("  each round", lambda r: " ".join("%.0f" % x["rps"] for x in gc(r)["rounds"]))
    row("GET /getConnection p99 ms, median", lambda r: "%.2f" % gc(r)["p99_ms"])
    row("GET /getConnection non-2xx", lambda r: "%d" % gc(r)["non2xx"])
    row("  PostgreSQL transactions/s meanwhile", lambda r: "%.0f" % gc(r)["pg_xacts_per_s"])
    row("  proxy store reads meanwhile", lambda r: "%d" % gc(r)["store_reads"])
    row("check-ins answered/s (%.0f/s offered)" % (streamers / 15), lambda r: "%.0f" % ci(r)["achievedRate"])
    row("check-in p99 ms (all / refreshes)",
        lambda r: "%.1f / %.1f" % (ci(r)["latencyMs"]["p99"], ci(r)["refreshLatencyMs"]["p99"]))
    row("check-in non-200 / errors",
        lambda r: "%d / %d" % (sum(v for k, v in ci(r)["statuses"].items() if k != "200"), ci(r)["errors"]))
    row("gateways' CPU % of one core (check-ins)", lambda r: "%.0f" % ci(r)["gatewayCpuPercentOfOneCore"])
    widths = [max(len(r[i]) for r in rows + [["measure"] + [TITLES[n] for n in names]]) for i in range(len(names) + 1)]
    header = ["measure"] + [TITLES[n] for n in names]
    lines = ["| " + " | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))
             + " |",
             "|" + "|".join(("-" * (w + 2)) if i == 0 else ("-" * (w + 1) + ":") for i, w in enumerate(widths)) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                     + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(HERE, "..", "build", "ci"),
                    help="where webstream, webstream-sim and licence_checkin_bench are built (default build/ci)")
    ap.add_argument("--seconds", type=int, default=10,
                    help="seconds of select+release and of each /getConnection round")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved /getConnection rounds per set-up (default 3)")
    ap.add_argument("--checkin-seconds", type=int, default=60, help="seconds of check-ins (the first 15: new seats)")
    ap.add_argument("--checkin-connections", type=int, default=600,
                    help="keep-alive connections of the check-in client, spread round robin (default 600)")
    ap.add_argument("--streamers", type=int, default=100000, help="streamers checking in every 15 s")
    ap.add_argument("--only", default="sqlite,pg1,pg3", help="set-ups to run: sqlite, pg1, pg3 (comma-separated)")
    ap.add_argument("--quick", action="store_true", help="3 s phases, 10,000 streamers for 20 s: a smoke test")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.checkin_seconds, args.streamers, args.rounds = 3, 20, 10000, 1
    build = os.path.abspath(args.build)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    for n in names:
        if n not in SETUPS:
            ap.error("unknown set-up %r (sqlite, pg1, pg3)" % n)
    for binary in ("src/app/webstream", "tools/sim/webstream-sim", "src/licence/licence_checkin_bench"):
        if not os.access(os.path.join(build, binary), os.X_OK):
            sys.exit(f"missing {os.path.join(build, binary)} (build webstream webstream-sim licence_checkin_bench)")
    key = os.path.join(build, "licence-test-key", "test-private.key")
    if not os.path.exists(key):
        sys.exit(f"missing {key} (configure the build with -DWEBSTREAM_LICENCE_TEST_KEY=ON, as the ci preset does)")
    if not shutil.which("wrk"):
        sys.exit("wrk not found (scripts/setup.sh --bench)")

    licence_dir = tempfile.mkdtemp(prefix="webstream-cluster-bench-licence-")
    licence = os.path.join(licence_dir, "licence.json")
    subprocess.run([os.path.join(build, "src/app/webstream"), "license", "issue", "--key", key, "--licensee",
                    "Benchmark", "--max", str(args.streamers), "--expires", "2099-12-31", "--out", licence],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pg = PgServer(durable=True).start() if any(SETUPS[n][0] == "postgresql" for n in names) else None
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = {}
    try:
        for n in names:
            results[n] = run_setup(n, args, build, pg, licence)
        for n, gc in get_connection_rounds(names, args, build, pg, licence).items():
            results[n]["get_connection"] = gc
    finally:
        if pg:
            pg.cleanup()
        shutil.rmtree(licence_dir, ignore_errors=True)
    print(f"cluster_bench {started}, {os.cpu_count()} cores; select+release {args.seconds} s, /getConnection "
          f"{args.rounds} interleaved rounds of {args.seconds} s, check-ins {args.checkin_seconds} s over "
          f"{args.checkin_connections} connections")
    print(table(results, args.streamers))


if __name__ == "__main__":
    main()
