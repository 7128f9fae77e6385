#!/usr/bin/env python3
"""Login benchmark (issue 3): a storm of POST /iam/auth/login against a real gateway (built-in IAM, SQLite in a
temp dir) and, at the same time, paced probes of GET /gateway/health (no store, no pool) and GET /iam/auth/me
(one store read on the blocking pool), compared with the same probes without the storm. Then the token check
cost in-process (bench/token_check_bench). Prints a table. Standard library only; see bench/README.md."""
import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run import call, free_port, wait_http  # noqa: E402  (same helpers as the relay benchmark)

HERE = os.path.dirname(os.path.abspath(__file__))
USER_PREFIX = "bench-user-"
USER_PASSWORD = "bench-user-password-1"


def parse_wrk(out):
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        return float(m.group(1)) * scale[m.group(2)] if m else float("nan")
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)", out)
    timeouts = re.search(r"timeout (\d+)", out)
    statuses = re.search(r"^login-statuses (\{.*\})$", out, re.M)
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "requests": int(total.group(1)) if total else 0,
        "p50_ms": pct(50), "p90_ms": pct(90), "p99_ms": pct(99),
        "timeouts": int(timeouts.group(1)) if timeouts else 0,
        "statuses": json.loads(statuses.group(1)) if statuses else {},
        "raw": out,
    }


def wrk_cmd(url, seconds, connections, script, latency=True, timeout_s=10):
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={timeout_s}s", "-s", script]
    if latency:
        cmd.append("--latency")
    return cmd + [url]


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def probes(port, seconds, token, delay_ms):
    """Starts the two paced probes; returns their Popen objects."""
    env = dict(os.environ, DELAY_MS=str(delay_ms))
    health = subprocess.Popen(wrk_cmd(f"http://127.0.0.1:{port}/gateway/health", seconds, 2,
                                      os.path.join(HERE, "paced.lua")),
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    me = subprocess.Popen(wrk_cmd(f"http://127.0.0.1:{port}/iam/auth/me", seconds, 1, os.path.join(HERE, "paced.lua")),
                          env=dict(env, AUTH=token, DELAY_MS=str(delay_ms * 5)),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return health, me


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true", help="5 s phases, 10 users (a smoke test of the script)")
    ap.add_argument("--seconds", type=int, default=15, help="length of each phase (default 15)")
    ap.add_argument("--users", type=int, default=50, help="users the storm rotates over (default 50)")
    ap.add_argument("--connections", type=int, default=32, help="concurrent login clients (default 32)")
    ap.add_argument("--retry-ms", type=int, default=1000,
                    help="storm clients wait this long after a 503 before their next login (default 1000, as Retry-After: 1 says; 0: they retry at once)")
    ap.add_argument("--probe-delay-ms", type=int, default=10,
                    help="health probe: 2 connections, each waits this long between requests (default 10: ~200/s)")
    ap.add_argument("--gateway-bin", help="the webstream binary to measure (default: BUILD/src/app/webstream)")
    args = ap.parse_args()
    secs = 5 if args.quick else args.seconds
    n_users = 10 if args.quick else args.users

    build = os.path.abspath(args.build)
    gw_bin = os.path.abspath(args.gateway_bin) if args.gateway_bin else os.path.join(build, "src/app/webstream")
    token_bin = os.path.join(build, "bench/token_check_bench")
    work = tempfile.mkdtemp(prefix="webstream-login-bench-")
    gw = None
    try:
        port = free_port()
        admin_pw = "bench-admin-password-1"
        with open(os.path.join(work, "app.config.xml"), "w") as f:
            f.write(f"""<configuration>
  <gateway publicIP="127.0.0.1" port="{port}" workerThreads="2">
    <limits maxConnectionsPerIp="100000" maxConnectionsPerListener="100000" />
  </gateway>
  <storage path="{work}/gw.db" />
  <logging level="warn" />
</configuration>""")
        env = dict(os.environ, WEBSTREAM_ADMIN_PASSWORD=admin_pw)
        gw = subprocess.Popen([gw_bin, "-gw", "--config", os.path.join(work, "app.config.xml")], env=env,
                              stdout=open(os.path.join(work, "gw.log"), "w"), stderr=subprocess.STDOUT)
        wait_http(port)
        _, login = call(port, "POST", "/iam/auth/login", {"username": "admin", "password": admin_pw})
        admin = {"Authorization": "Bearer " + login["token"]}

        # The users, created through the IAM API (each creation hashes a password: a few in parallel).
        def create(i):
            status, body = call(port, "POST", "/iam/users", {"username": f"{USER_PREFIX}{i}", "password": USER_PASSWORD,
                                                             "roles": ["user"]}, admin)
            if status != 201:
                raise RuntimeError(f"creating user {i}: {status} {body}")
        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            list(pool.map(create, range(1, n_users + 1)))
        print(f"  {n_users} users created in {time.time() - t0:.1f} s", file=sys.stderr, flush=True)
        _, login = call(port, "POST", "/iam/auth/login", {"username": f"{USER_PREFIX}1", "password": USER_PASSWORD})
        probe_token = login["token"]

        # Baseline: the probes alone.
        health, me = probes(port, secs, probe_token, args.probe_delay_ms)
        base_health, base_me = parse_wrk(health.communicate()[0]), parse_wrk(me.communicate()[0])
        print("  baseline measured", file=sys.stderr, flush=True)
        time.sleep(1)

        # The storm, with the same probes beside it.
        storm_env = dict(os.environ, USERS=str(n_users), PREFIX=USER_PREFIX, PASSWORD=USER_PASSWORD,
                         RETRY_MS=str(args.retry_ms))
        cpu0, t0 = cpu_seconds(gw.pid), time.time()
        storm = subprocess.Popen(wrk_cmd(f"http://127.0.0.1:{port}", secs, args.connections,
                                         os.path.join(HERE, "login.lua"), timeout_s=30),
                                 env=storm_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(0.5)  # let the queue fill before the probes start
        health, me = probes(port, secs - 1, probe_token, args.probe_delay_ms)
        storm_health, storm_me = parse_wrk(health.communicate()[0]), parse_wrk(me.communicate()[0])
        login_r = parse_wrk(storm.communicate()[0])
        cpu = (cpu_seconds(gw.pid) - cpu0) / (time.time() - t0)
        print("  storm measured", file=sys.stderr, flush=True)

        # Token check cost, in-process.
        token = {}
        if os.path.exists(token_bin):
            out = subprocess.run([token_bin, "--quick"] if args.quick else [token_bin], capture_output=True, text=True)
            try:
                token = json.loads(out.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                token = {"error": out.stderr.strip()[:200]}
        else:
            token = {"error": f"{token_bin} not built"}

        st = login_r["statuses"]
        answered = sum(st.values())
        ok = st.get("200", 0)
        print()
        print(f"login storm: {args.connections} clients, {n_users} users, {secs} s, after a 503 a client waits "
              f"{args.retry_ms} ms; probes: /gateway/health 2 conns every {args.probe_delay_ms} ms, /iam/auth/me 1 conn "
              f"every {args.probe_delay_ms * 5} ms; gateway workerThreads=2; {os.cpu_count()} cores shared with the "
              f"load generators")
        print(f"| {'measure':<52} | {'value':>22} |")
        print("|" + "-" * 54 + "|" + "-" * 24 + "|")

        def row(label, value):
            print(f"| {label:<52} | {value:>22} |")

        def lat(r):
            return f"{r['p50_ms']:.2f} / {r['p99_ms']:.2f}" if r["requests"] else "no answer"
        row("logins/s (200 answers per second)", f"{ok / secs:.1f}")
        row("login answers/s (any status)", f"{login_r['rps']:.1f}")
        row("login latency p50 / p99 ms (all answers)", f"{login_r['p50_ms']:.0f} / {login_r['p99_ms']:.0f}")
        row("share of 200 answers", f"{ok / answered * 100:.1f}%" if answered else "n/a")
        row("answers by status", " ".join(f"{k}:{v}" for k, v in sorted(st.items())) or "n/a")
        row("wrk timeouts (30 s)", f"{login_r['timeouts']}")
        row("gateway CPU during the storm (% of one core)", f"{cpu * 100:.0f}")
        row("/gateway/health p50 / p99 ms, no storm", lat(base_health))
        row("/gateway/health p50 / p99 ms, during the storm", lat(storm_health))
        row("/gateway/health req/s (paced), no storm / storm", f"{base_health['rps']:.0f} / {storm_health['rps']:.0f}")
        row("/iam/auth/me p50 / p99 ms, no storm", lat(base_me))
        row("/iam/auth/me p50 / p99 ms, during the storm", lat(storm_me))
        row("/iam/auth/me answers, no storm / storm", f"{base_me['requests']} / {storm_me['requests']}")
        row("/iam/auth/me non-2xx during the storm",
            re.search(r"Non-2xx or 3xx responses: (\d+)", storm_me["raw"]).group(1)
            if "Non-2xx" in storm_me["raw"] else "0")
        if "error" in token:
            row("token check", token["error"][:22])
        else:
            row("token check ns/op, cached (cache hit)", f"{token['cached_ns']:.0f}")
            row("token check ns/op, uncached (verify + SQLite user)", f"{token['uncached_ns']:.0f}")
            row("  of which Ed25519 JWT verify only", f"{token['verify_ns']:.0f}")
            row("  of which user lookup (SQLite read)", f"{token['user_lookup_ns']:.0f}")
            row("token check ns/op, cached, 2 threads (per op)", f"{token['cached_2t_ns']:.0f}")
    finally:
        if gw and gw.poll() is None:
            gw.send_signal(signal.SIGTERM)
            try:
                gw.wait(timeout=15)
            except subprocess.TimeoutExpired:
                gw.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
