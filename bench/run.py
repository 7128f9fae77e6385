#!/usr/bin/env python3
"""Runs the relay benchmark (see run.sh) and prints a table. Standard library only."""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    conn.request(method, path, json.dumps(body) if body is not None else None, h)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, (json.loads(data) if data and data[:1] in b"{[" else data)


def wait_http(port, path="/gateway/health", timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        try:
            status, _ = call(port, "GET", path)
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def rss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def children(pid):
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
        return [int(p) for p in out.split()]
    except OSError:
        return []


def wrk(url, headers, seconds, connections):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    return {
        "rps": float(rps.group(1)) if rps else 0.0,
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else 0.0,
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def ws_bench(binary, mode, url, seconds, connections, extra=()):
    cmd = [binary, mode, "--url", url, "--seconds", str(seconds), "--connections", str(connections), *extra]
    out = subprocess.run(cmd, capture_output=True, text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": out.stderr.strip()[:200]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    secs = 3 if args.quick else 15
    ws_secs = 3 if args.quick else 10
    idle_n = 200 if args.quick else 1000

    build = os.path.abspath(args.build)
    gw_bin = os.path.join(build, "src/app/webstream")
    sim_bin = os.path.join(build, "tools/sim/webstream-sim")
    ws_bin = os.path.join(build, "bench/ws_bench")
    work = tempfile.mkdtemp(prefix="webstream-bench-")
    procs = []
    try:
        p_gw, p_sim, p_nginx, p_haproxy = free_port(), free_port(), free_port(), free_port()
        admin_pw = "bench-admin-password-1"
        with open(os.path.join(work, "app.config.xml"), "w") as f:
            f.write(f"""<configuration>
  <gateway publicIP="127.0.0.1" port="{p_gw}" workerThreads="2">
    <limits maxConnectionsPerIp="100000" maxConnectionsPerListener="100000" />
    <sessions reservationTimeout="3600" disconnectGrace="3600" />
  </gateway>
  <storage path="{work}/gw.db" />
  <logging level="warn" />
</configuration>""")
        env = dict(os.environ, WEBSTREAM_ADMIN_PASSWORD=admin_pw)
        gw = subprocess.Popen([gw_bin, "-gw", "--config", os.path.join(work, "app.config.xml")], env=env,
                              stdout=open(os.path.join(work, "gw.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(gw)
        wait_http(p_gw)
        sim = subprocess.Popen([sim_bin, "--gateway", f"http://127.0.0.1:{p_gw}", "--hosts", "1", "--base-port",
                                str(p_sim), "--max-sessions", "100000", "--fps", "0", "--frame-bytes", "65536",
                                "--heartbeat-interval", "2", "--log-level", "warn"],
                               stdout=open(os.path.join(work, "sim.log"), "w"), stderr=subprocess.STDOUT)
        procs.append(sim)
        wait_http(p_sim, "/health")
        for name, port in (("nginx.conf", p_nginx), ("haproxy.cfg", p_haproxy)):
            with open(os.path.join(HERE, name + ".in")) as f:
                text = f.read()
            text = text.replace("@PORT@", str(port)).replace("@UPSTREAM@", f"127.0.0.1:{p_sim}").replace("@DIR@", work)
            with open(os.path.join(work, name), "w") as f:
                f.write(text)
        nginx = subprocess.Popen(["nginx", "-p", work, "-c", os.path.join(work, "nginx.conf"), "-g", "daemon off;"],
                                 stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "nginx.out"), "w"))
        procs.append(nginx)
        haproxy = subprocess.Popen(["haproxy", "-f", os.path.join(work, "haproxy.cfg"), "-db"],
                                   stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "haproxy.out"), "w"))
        procs.append(haproxy)
        wait_http(p_nginx, "/health")
        wait_http(p_haproxy, "/health")

        # The gateway does its full work: a bench user with an entitlement, a selected session.
        _, login = call(p_gw, "POST", "/iam/auth/login", {"username": "admin", "password": admin_pw})
        admin = {"Authorization": "Bearer " + login["token"]}
        _, app = call(p_gw, "POST", "/iam/apps", {"name": "Bench", "exe": "bench.exe", "args": ""}, admin)
        _, pol = call(p_gw, "POST", "/iam/policies", {"name": "bench", "document": {"maxConcurrentSessions": 10}}, admin)
        _, ws = call(p_gw, "POST", "/iam/workspaces", {"name": "Bench", "type": "desktop", "apps": [app["id"]]}, admin)
        _, user = call(p_gw, "POST", "/iam/users", {"username": "bench", "password": "bench-user-password-1",
                                                   "roles": ["user"]}, admin)
        call(p_gw, "POST", "/iam/entitlements", {"subjectType": "user", "subjectId": user["id"],
                                                 "workspaceId": ws["id"], "appIds": [], "policyId": pol["id"]}, admin)
        deadline = time.time() + 15
        while True:
            _, login = call(p_gw, "POST", "/iam/auth/login", {"username": "bench", "password": "bench-user-password-1"})
            token = login["token"]
            status, sel = call(p_gw, "POST", "/gateway/session/select", {"workspaceId": ws["id"]},
                               {"Authorization": "Bearer " + token, "X-Session-ID": "bench-1"})
            if status == 200:
                break
            if time.time() > deadline:
                raise RuntimeError(f"select failed: {status} {sel}")
            time.sleep(0.5)
        auth = {"Authorization": "Bearer " + token, "X-Session-ID": "bench-1"}
        q = f"?sessionId=bench-1&token={sel['connectToken']}"

        targets = [("direct", p_sim, [sim.pid]), ("nginx", p_nginx, None), ("haproxy", p_haproxy, [haproxy.pid]),
                   ("gateway", p_gw, [gw.pid])]
        results = {}
        for name, port, _ in targets:
            r = {}
            r["http"] = wrk(f"http://127.0.0.1:{port}/getConnection", auth, secs, 64)
            r["echo"] = ws_bench(ws_bin, "echo", f"ws://127.0.0.1:{port}/control{q}", ws_secs, 100, ["--rate", "20"])
            r["cap1"] = ws_bench(ws_bin, "capture", f"ws://127.0.0.1:{port}/capture{q}", ws_secs, 1)
            r["cap50"] = ws_bench(ws_bin, "capture", f"ws://127.0.0.1:{port}/capture{q}", ws_secs, 50)
            results[name] = r
            print(f"  measured {name}", file=sys.stderr, flush=True)

        # RSS per 1,000 idle proxied WebSockets: the proxy's RSS while they are open minus before.
        for name, port, pids in targets:
            if name == "direct":
                continue
            pids = pids or ([nginx.pid] + children(nginx.pid))
            before = rss_kib(pids)
            holder = subprocess.Popen([ws_bin, "idle", "--url", f"ws://127.0.0.1:{port}/control{q}", "--seconds", "8",
                                       "--connections", str(idle_n)], stdout=subprocess.PIPE, text=True)
            time.sleep(6)
            during = rss_kib(pids)
            out, _ = holder.communicate()
            opened = json.loads(out.strip().splitlines()[-1]).get("opened", 0) if out.strip() else 0
            results[name]["idle"] = {"opened": opened,
                                     "kib_per_1000": (during - before) * 1000 / opened if opened else float("nan")}
            time.sleep(1)

        def row(label, key, fmt):
            cells = []
            for name, _, _ in targets:
                try:
                    cells.append(fmt(results[name]))
                except (KeyError, TypeError):
                    cells.append("n/a")
            print(f"| {label:<38} | " + " | ".join(f"{c:>10}" for c in cells) + " |")

        print()
        print(f"| {'measure':<38} | " + " | ".join(f"{n:>10}" for n, _, _ in targets) + " |")
        print("|" + "-" * 40 + "|" + "|".join("-" * 12 for _ in targets) + "|")
        row("GET /getConnection req/s (wrk c64)", "http", lambda r: f"{r['http']['rps']:.0f}")
        row("GET /getConnection p99 ms", "http", lambda r: f"{r['http']['p99_ms']:.2f}")
        row("/control echo RTT p50 µs (100 conns)", "echo", lambda r: f"{r['echo']['rtt_p50_us']}")
        row("/control echo RTT p99 µs (100 conns)", "echo", lambda r: f"{r['echo']['rtt_p99_us']}")
        row("/capture MB/s, 1 conn", "cap1", lambda r: f"{r['cap1']['MBps']:.0f}")
        row("/capture MB/s, 50 conns", "cap50", lambda r: f"{r['cap50']['MBps']:.0f}")
        row(f"RSS KiB per 1,000 idle WS", "idle", lambda r: f"{r['idle']['kib_per_1000']:.0f}")
        g, n, d = results["gateway"], results["nginx"], results["direct"]

        def ratio(a, b):
            return f"{a / b:.2f}" if b else "n/a"
        print()
        print("ratios gateway/nginx:  req/s", ratio(g["http"]["rps"], n["http"]["rps"]),
              " echo p99", ratio(g["echo"].get("rtt_p99_us", 0), n["echo"].get("rtt_p99_us", 0)),
              " capture1", ratio(g["cap1"].get("MBps", 0), n["cap1"].get("MBps", 0)),
              " capture50", ratio(g["cap50"].get("MBps", 0), n["cap50"].get("MBps", 0)),
              " idle RSS", ratio(g.get("idle", {}).get("kib_per_1000", 0), n.get("idle", {}).get("kib_per_1000", 0)))
        print("ratios gateway/direct: req/s", ratio(g["http"]["rps"], d["http"]["rps"]),
              " capture1", ratio(g["cap1"].get("MBps", 0), d["cap1"].get("MBps", 0)),
              " capture50", ratio(g["cap50"].get("MBps", 0), d["cap50"].get("MBps", 0)))
        print("non-2xx answers during wrk:", {k: v["http"]["non2xx"] for k, v in results.items()})
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
