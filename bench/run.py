#!/usr/bin/env python3
"""Runs the relay benchmark (see run.sh) and prints a table. Standard library only."""
import argparse
import resource
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(port, method, path, body=None, headers=None, tls=False):
    if tls:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    conn.request(method, path, json.dumps(body) if body is not None else None, h)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    return res.status, (json.loads(data) if data and data[:1] in b"{[" else data)


def wait_http(port, path="/gateway/health", timeout=20, tls=False):
    end = time.time() + timeout
    while time.time() < end:
        try:
            status, _ = call(port, "GET", path, tls=tls)
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


ADMIN_PW = "bench-admin-password-1"


def start_stack(build, work, procs, tls=None, conf=("nginx.conf", "haproxy.cfg"), gw_bin=None):
    """The gateway, one simulated session host, nginx and HAProxy in front of that host, and a bench user with
    a selected session on the gateway. tls: None, or {"pfx", "secret"} to run the gateway with its HTTPS
    listener (browser traffic then goes there; the host still registers on the HTTP port). `conf`: the nginx and
    HAProxy templates; `gw_bin`: another gateway binary than the build's. Returns the ports, processes and the
    session's headers."""
    gw_bin = gw_bin or os.path.join(build, "src/app/webstream")
    sim_bin = os.path.join(build, "tools/sim/webstream-sim")
    p_gw, p_sim, p_nginx, p_haproxy = free_port(), free_port(), free_port(), free_port()
    p_https = free_port() if tls else None
    https_attr = f' httpsPort="{p_https}"' if tls else ""
    pfx_xml = (f'  <webstreamSettings serverPfxCertificateFile="{tls["pfx"]}" serverPfxSecret="env:BENCH_PFX_SECRET" />\n'
               if tls else "")
    with open(os.path.join(work, "app.config.xml"), "w") as f:
        f.write(f"""<configuration>
{pfx_xml}  <gateway publicIP="127.0.0.1" port="{p_gw}"{https_attr} workerThreads="2">
    <limits maxConnectionsPerIp="100000" maxConnectionsPerListener="100000" />
    <sessions reservationTimeout="3600" disconnectGrace="3600" />
  </gateway>
  <storage path="{work}/gw.db" />
  <logging level="warn" />
</configuration>""")
    env = dict(os.environ, WEBSTREAM_ADMIN_PASSWORD=ADMIN_PW)
    if tls:
        env["BENCH_PFX_SECRET"] = tls["secret"]
    gw = subprocess.Popen([gw_bin, "-gw", "--config", os.path.join(work, "app.config.xml")], env=env,
                          stdout=open(os.path.join(work, "gw.log"), "w"), stderr=subprocess.STDOUT)
    procs.append(gw)
    wait_http(p_gw)
    p_pub = p_https or p_gw  # where browser traffic goes
    if tls:
        wait_http(p_pub, tls=True)
    sim = subprocess.Popen([sim_bin, "--gateway", f"http://127.0.0.1:{p_gw}", "--hosts", "1", "--base-port",
                            str(p_sim), "--max-sessions", "100000", "--fps", "0", "--frame-bytes", "65536",
                            "--heartbeat-interval", "2", "--log-level", "warn"],
                           stdout=open(os.path.join(work, "sim.log"), "w"), stderr=subprocess.STDOUT)
    procs.append(sim)
    wait_http(p_sim, "/health")
    for name, port in ((conf[0], p_nginx), (conf[1], p_haproxy)):
        with open(os.path.join(HERE, name + ".in")) as f:
            text = f.read()
        text = text.replace("@PORT@", str(port)).replace("@UPSTREAM@", f"127.0.0.1:{p_sim}").replace("@DIR@", work)
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    nginx = subprocess.Popen(["nginx", "-p", work, "-c", os.path.join(work, conf[0]), "-g", "daemon off;"],
                             stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "nginx.out"), "w"))
    procs.append(nginx)
    haproxy = subprocess.Popen(["haproxy", "-f", os.path.join(work, conf[1]), "-db"],
                               stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "haproxy.out"), "w"))
    procs.append(haproxy)
    wait_http(p_nginx, "/health", tls=bool(tls))
    wait_http(p_haproxy, "/health", tls=bool(tls))

    # The gateway does its full work: a bench user with an entitlement, a selected session.
    t = bool(tls)
    _, login = call(p_pub, "POST", "/iam/auth/login", {"username": "admin", "password": ADMIN_PW}, tls=t)
    admin = {"Authorization": "Bearer " + login["token"]}
    _, app = call(p_pub, "POST", "/iam/apps", {"name": "Bench", "exe": "bench.exe", "args": ""}, admin, tls=t)
    _, pol = call(p_pub, "POST", "/iam/policies", {"name": "bench", "document": {"maxConcurrentSessions": 10}}, admin,
                  tls=t)
    _, ws = call(p_pub, "POST", "/iam/workspaces", {"name": "Bench", "type": "desktop", "apps": [app["id"]]}, admin,
                 tls=t)
    _, user = call(p_pub, "POST", "/iam/users", {"username": "bench", "password": "bench-user-password-1",
                                                 "roles": ["user"]}, admin, tls=t)
    call(p_pub, "POST", "/iam/entitlements", {"subjectType": "user", "subjectId": user["id"],
                                              "workspaceId": ws["id"], "appIds": [], "policyId": pol["id"]}, admin,
         tls=t)
    deadline = time.time() + 15
    while True:
        _, login = call(p_pub, "POST", "/iam/auth/login", {"username": "bench", "password": "bench-user-password-1"},
                        tls=t)
        token = login["token"]
        status, sel = call(p_pub, "POST", "/gateway/session/select", {"workspaceId": ws["id"]},
                           {"Authorization": "Bearer " + token, "X-Session-ID": "bench-1"}, tls=t)
        if status == 200:
            break
        if time.time() > deadline:
            raise RuntimeError(f"select failed: {status} {sel}")
        time.sleep(0.5)
    return {"gw": gw, "sim": sim, "nginx": nginx, "haproxy": haproxy, "p_gw": p_gw, "p_pub": p_pub, "p_sim": p_sim,
            "p_nginx": p_nginx, "p_haproxy": p_haproxy,
            "auth": {"Authorization": "Bearer " + token, "X-Session-ID": "bench-1"},
            "q": f"?sessionId=bench-1&token={sel['connectToken']}"}


def stop_all(procs):
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()


def median(values):
    v = sorted(x for x in values if x == x)  # drop NaN
    if not v:
        return float("nan")
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def raise_fd_limit():
    """As many descriptors as the hard limit allows, for this process and the proxies it starts (inherited)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def relay(args, build):
    """The plain-HTTP relay table: every proxy measured the same way in each round, rounds interleaved (round 1
    of every proxy, then round 2...), medians printed with the spread. CPU is the proxy's own (/proc), per
    request and per MiB relayed."""
    secs = 3 if args.quick else 10
    ws_secs = 3 if args.quick else 8
    rounds = args.rounds or (1 if args.quick else 3)
    fd_limit = raise_fd_limit()
    # An idle proxied WebSocket holds two descriptors in the proxy: 10,000 need 20,000 and more, and the hard
    # limit here may be lower (20,000 on the development machine), so the count is capped below it.
    idle_n = args.idle or (200 if args.quick else min(10000, (fd_limit - 2000) // 2))
    ws_bin = os.path.join(build, "bench/ws_bench")
    work = tempfile.mkdtemp(prefix="webstream-bench-")
    procs = []
    try:
        st = start_stack(build, work, procs)
        gw, sim, nginx, haproxy = st["gw"], st["sim"], st["nginx"], st["haproxy"]
        p_gw, p_sim, p_nginx, p_haproxy = st["p_gw"], st["p_sim"], st["p_nginx"], st["p_haproxy"]
        auth, q = st["auth"], st["q"]

        targets = [("direct", p_sim, lambda: [sim.pid]), ("nginx", p_nginx, lambda: [nginx.pid] + children(nginx.pid)),
                   ("haproxy", p_haproxy, lambda: [haproxy.pid]), ("gateway", p_gw, lambda: [gw.pid])]
        runs = {name: [] for name, _, _ in targets}

        def timed(pids, fn):
            # The proxy's own CPU, the session host's (the one behind every proxy) and the whole machine's
            # (every process, /proc/stat), over the same run.
            before, sim_before, busy_before, t0 = cpu_s(pids), cpu_s([sim.pid]), machine_busy_s(), time.monotonic()
            out = fn()
            out["cpu_s"] = cpu_s(pids) - before
            out["sim_cpu_s"] = cpu_s([sim.pid]) - sim_before
            out["machine_cpu_s"] = machine_busy_s() - busy_before
            out["wall_s"] = time.monotonic() - t0
            return out

        # RSS per idle proxied WebSocket (every proxy's heap warm from the round's throughput runs): the proxy's
        # RSS while idle_n are open minus before; then RSS again once they are closed (does memory come back?).
        # RSS is read every second while they are held: the first reading (6 s + 1 s per 1,000 after the batch
        # began) can still count the handshakes' short-lived buffers that an allocator returns a few seconds
        # later, so the figure is the settled one (unchanged over 3 s), and the first is printed beside it. One
        # proxy's figure spreads by 2 KiB from run to run (bench/README.md), so every round opens a batch.
        first_s = 6 + idle_n // 1000

        def idle_batch(port, pids):
            before = rss_kib(pids())
            holder = subprocess.Popen([ws_bin, "idle", "--url", f"ws://127.0.0.1:{port}/control{q}", "--seconds",
                                       str(first_s + 17), "--connections", str(idle_n)],
                                      stdout=subprocess.PIPE, text=True)
            time.sleep(first_s)
            readings = [rss_kib(pids())]
            while len(readings) < 15 and not (len(readings) >= 4 and len(set(readings[-4:])) == 1):
                time.sleep(1)
                readings.append(rss_kib(pids()))
            out, _ = holder.communicate()
            opened = json.loads(out.strip().splitlines()[-1]).get("opened", 0) if out.strip() else 0
            time.sleep(2)
            after = rss_kib(pids())
            each = (lambda kib: (kib - before) / opened if opened else float("nan"))
            return {"opened": opened, "kib_each": each(readings[-1]), "first_kib_each": each(readings[0]),
                    "settled_s": first_s + len(readings) - 1, "kept_kib": after - before}

        for rnd in range(rounds):
            for name, port, pids in targets:
                r = {}
                r["http"] = timed(pids(), lambda: wrk(f"http://127.0.0.1:{port}/getConnection", auth, secs, 64))
                r["http"]["requests"] = r["http"]["rps"] * secs
                r["echo"] = ws_bench(ws_bin, "echo", f"ws://127.0.0.1:{port}/control{q}", ws_secs, 50,
                                     ["--rate", "200"])
                r["cap1"] = timed(pids(), lambda: ws_bench(ws_bin, "capture", f"ws://127.0.0.1:{port}/capture{q}",
                                                           ws_secs, 1))
                r["cap16"] = timed(pids(), lambda: ws_bench(ws_bin, "capture", f"ws://127.0.0.1:{port}/capture{q}",
                                                            ws_secs, 16))
                runs[name].append(r)
                print(f"  round {rnd + 1}/{rounds}: measured {name}", file=sys.stderr, flush=True)
            for name, port, pids in targets:
                if name != "direct":
                    runs[name][-1]["idle"] = idle_batch(port, pids)
            print(f"  round {rnd + 1}/{rounds}: idle WebSockets measured", file=sys.stderr, flush=True)

        def med(name, fn):
            vals = []
            for r in runs[name]:
                try:
                    vals.append(float(fn(r)))
                except (KeyError, TypeError, ZeroDivisionError):
                    pass
            return median(vals), (min(vals) if vals else float("nan")), (max(vals) if vals else float("nan"))

        def row(label, fn, fmt="{:.0f}", spread=True):
            cells = []
            for name, _, _ in targets:
                m, lo, hi = med(name, fn)
                cell = fmt.format(m) if m == m else "n/a"
                if spread and rounds > 1 and m == m:
                    cell += f" ({fmt.format(lo)}-{fmt.format(hi)})"
                cells.append(cell)
            print(f"| {label:<42} | " + " | ".join(f"{c:>19}" for c in cells) + " |")

        mib = 1024 * 1024
        print()
        print(f"plain HTTP, {rounds} round(s), medians (min-max); {secs} s wrk, {ws_secs} s per WebSocket run; "
              f"idle: {idle_n} WebSockets")
        print(f"| {'measure':<42} | " + " | ".join(f"{n:>19}" for n, _, _ in targets) + " |")
        print("|" + "-" * 44 + "|" + "|".join("-" * 21 for _ in targets) + "|")
        row("GET /getConnection req/s (wrk c64)", lambda r: r["http"]["rps"])
        row("GET /getConnection p99 ms", lambda r: r["http"]["p99_ms"], "{:.2f}")
        row("GET /getConnection proxy CPU µs/request", lambda r: r["http"]["cpu_s"] * 1e6 / (r["http"]["rps"] * secs),
            "{:.1f}")
        row("  session host CPU µs/request", lambda r: r["http"]["sim_cpu_s"] * 1e6 / r["http"]["requests"], "{:.1f}")
        row("  machine CPU µs/request (every process)",
            lambda r: r["http"]["machine_cpu_s"] * 1e6 / r["http"]["requests"], "{:.1f}")
        row("  machine busy, % of its cores",
            lambda r: 100 * r["http"]["machine_cpu_s"] / (r["http"]["wall_s"] * os.cpu_count()), "{:.0f}")
        row("/control echo p50 µs (50 conns x 200/s)", lambda r: r["echo"]["rtt_p50_us"])
        row("/control echo p99 µs", lambda r: r["echo"]["rtt_p99_us"])
        row("/control echo p99.9 µs", lambda r: r["echo"]["rtt_p999_us"])
        row("/capture MB/s, 1 conn", lambda r: r["cap1"]["MBps"])
        row("/capture MB/s, 16 conns", lambda r: r["cap16"]["MBps"])
        row("/capture proxy CPU µs/MiB, 16 conns",
            lambda r: r["cap16"]["cpu_s"] * 1e6 / (r["cap16"]["MBps"] * 1e6 * r["cap16"]["seconds"] / mib), "{:.0f}")
        for key, label in (("cap1", "1 conn"), ("cap16", "16 conns")):
            row(f"  machine CPU µs/MiB, {label}",
                lambda r, k=key: r[k]["machine_cpu_s"] * 1e6 / (r[k]["MBps"] * 1e6 * r[k]["seconds"] / mib), "{:.0f}")
            row(f"  machine busy, % of its cores, {label}",
                lambda r, k=key: 100 * r[k]["machine_cpu_s"] / (r[k]["wall_s"] * os.cpu_count()), "{:.0f}")
        # Round 1's batch is the issue's figure (after throughput runs only); a later round's batch also reuses
        # what the proxy kept of the batch before it, so those are printed one by one, not folded into a median.
        def idle_row(label, key, fmt):
            cells = []
            for name, _, _ in targets:
                vals = [r["idle"][key] for r in runs[name] if "idle" in r]
                cell = fmt.format(vals[0]) if vals else "n/a"
                if len(vals) > 1:
                    cell += " (" + ", ".join(fmt.format(v) for v in vals[1:]) + ")"
                cells.append(cell)
            print(f"| {label:<42} | " + " | ".join(f"{c:>19}" for c in cells) + " |")

        idle_row("RSS KiB per idle WebSocket (later rounds)", "kib_each", "{:.2f}")
        idle_row("  first reading", "first_kib_each", "{:.2f}")
        idle_row("  seconds until settled", "settled_s", "{:.0f}")
        idle_row("RSS KiB kept once they closed", "kept_kib", "{:.0f}")

        def m(name, fn):
            return med(name, fn)[0]

        def ratio(a, b):
            return f"{a / b:.2f}" if b and a == a and b == b else "n/a"
        best_peer_rps = max(m("nginx", lambda r: r["http"]["rps"]), m("haproxy", lambda r: r["http"]["rps"]))
        print()
        print("gateway / best of nginx and HAProxy, GET /getConnection req/s:",
              ratio(m("gateway", lambda r: r["http"]["rps"]), best_peer_rps))
        # When the machine is saturated, req/s = busy cores / machine CPU per request (load generator, session
        # host and proxy together). 1.25x the best peer's req/s at the same saturation needs the whole machine's
        # CPU per request at 0.8x that peer's; with the rest (wrk, the session host) unchanged, this is the
        # gateway's own CPU per request that would give it.
        best = max(("nginx", "haproxy"), key=lambda n: m(n, lambda r: r["http"]["rps"]))
        per_req = {n: {k: m(n, lambda r, k=k: r["http"][k] * 1e6 / r["http"]["requests"])
                       for k in ("cpu_s", "machine_cpu_s")} for n in ("gateway", best)}
        rest = per_req["gateway"]["machine_cpu_s"] - per_req["gateway"]["cpu_s"]
        print(f"gateway CPU µs/request that 1.25x {best}'s req/s would need (machine {per_req[best]['machine_cpu_s']:.1f}"
              f" x 0.8 minus the gateway run's other {rest:.1f}): {0.8 * per_req[best]['machine_cpu_s'] - rest:.1f}"
              f" (it used {per_req['gateway']['cpu_s']:.1f}; {best} {per_req[best]['cpu_s']:.1f})")
        for key, label in (("cap1", "capture 1 conn"), ("cap16", "capture 16 conns")):
            print(f"gateway / direct, {label}:", ratio(m("gateway", lambda r, k=key: r[k]["MBps"]),
                                                       m("direct", lambda r, k=key: r[k]["MBps"])))
        print("gateway echo p99 minus direct, µs:",
              f"{m('gateway', lambda r: r['echo']['rtt_p99_us']) - m('direct', lambda r: r['echo']['rtt_p99_us']):.0f}")
        print("idle WebSockets opened:", {name: [r["idle"]["opened"] for r in runs[name]]
                                          for name, _, _ in targets if name != "direct"})
        print("non-2xx answers during wrk:", {k: sum(r["http"]["non2xx"] for r in v) for k, v in runs.items()})
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


def http_table(args, build):
    """Only the plain-HTTP `GET /getConnection` rows, for A/B work on the HTTP hot path: direct, nginx, HAProxy
    and one gateway per `--gateway-bin` (each with its own simulated host; nginx and HAProxy front the first
    one), rounds interleaved, each target's CPU from /proc over its wrk run. With --capture, each target's
    /capture download (1 and 16 connections) and its CPU per MiB follow its wrk run in every round."""
    secs = 3 if args.quick else args.seconds
    rounds = args.rounds or (1 if args.quick else 3)
    raise_fd_limit()
    bins = args.gateway_bin or [os.path.join(build, "src/app/webstream")]
    ws_bin = os.path.join(build, "bench/ws_bench")
    works, procs, stacks = [], [], []
    try:
        for b in bins:
            works.append(tempfile.mkdtemp(prefix="webstream-bench-http-"))
            stacks.append(start_stack(build, works[-1], procs, gw_bin=b))
        st = stacks[0]
        sim, nginx, haproxy = st["sim"], st["nginx"], st["haproxy"]
        targets = [("direct", st["p_sim"], st["auth"], lambda: [sim.pid]),
                   ("nginx", st["p_nginx"], st["auth"], lambda: [nginx.pid] + children(nginx.pid)),
                   ("haproxy", st["p_haproxy"], st["auth"], lambda: [haproxy.pid])]
        for i, s in enumerate(stacks):
            name = "gateway" if len(stacks) == 1 else f"gw{i + 1}"
            targets.append((name, s["p_gw"], s["auth"], lambda g=s["gw"]: [g.pid]))
        runs = {t[0]: [] for t in targets}
        for rnd in range(rounds):
            for name, port, auth, pids in targets:
                before = cpu_s(pids())
                r = wrk(f"http://127.0.0.1:{port}/getConnection", auth, secs, 64)
                r["cpu_us"] = (cpu_s(pids()) - before) * 1e6 / max(1.0, r["rps"] * secs)
                if args.capture:
                    # The same target's /capture download at 1 and 16 connections, its CPU per MiB relayed.
                    for key, conns in (("cap1", 1), ("cap16", 16)):
                        c0 = cpu_s(pids())
                        q = stacks[0]["q"] if name in ("direct", "nginx", "haproxy") else \
                            next(s["q"] for s in stacks if s["p_gw"] == port)
                        c = ws_bench(ws_bin, "capture", f"ws://127.0.0.1:{port}/capture{q}", 8, conns)
                        mib = c.get("MBps", 0) * 1e6 * c.get("seconds", 0) / (1024 * 1024)
                        r[key + "_MBps"] = c.get("MBps", float("nan"))
                        r[key + "_cpu_us_per_mib"] = (cpu_s(pids()) - c0) * 1e6 / mib if mib else float("nan")
                runs[name].append(r)
                print(f"  round {rnd + 1}/{rounds}: {name} {r['rps']:.0f} req/s {r['cpu_us']:.1f} µs/req",
                      file=sys.stderr, flush=True)
        print()
        print(f"GET /getConnection, plain HTTP, wrk -t2 -c64 {secs} s, {rounds} interleaved round(s), medians "
              f"(min-max); {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC")
        for i, b in enumerate(bins):
            if len(bins) > 1:
                print(f"  gw{i + 1} = {b}")
        names = [t[0] for t in targets]
        print(f"| {'measure':<34} | " + " | ".join(f"{n:>19}" for n in names) + " |")
        print("|" + "-" * 36 + "|" + "|".join("-" * 21 for _ in names) + "|")
        measures = [("req/s", "rps", "{:.0f}"), ("p99 ms", "p99_ms", "{:.2f}"),
                    ("proxy CPU µs/request", "cpu_us", "{:.1f}")]
        if args.capture:
            measures += [("/capture MB/s, 1 conn", "cap1_MBps", "{:.0f}"),
                         ("/capture MB/s, 16 conns", "cap16_MBps", "{:.0f}"),
                         ("  proxy CPU µs/MiB, 1 conn", "cap1_cpu_us_per_mib", "{:.0f}"),
                         ("  proxy CPU µs/MiB, 16 conns", "cap16_cpu_us_per_mib", "{:.0f}")]
        for label, key, fmt in measures:
            cells = []
            for n in names:
                vals = [r[key] for r in runs[n]]
                cell = fmt.format(median(vals))
                if rounds > 1:
                    cell += f" ({fmt.format(min(vals))}-{fmt.format(max(vals))})"
                cells.append(cell)
            print(f"| {label:<34} | " + " | ".join(f"{c:>19}" for c in cells) + " |")
        for n in names[3:]:
            per_round = [runs[n][k]["rps"] / max(runs["nginx"][k]["rps"], runs["haproxy"][k]["rps"])
                         for k in range(rounds)]
            print(f"{n} / best of nginx and HAProxy, req/s: median {median(per_round):.2f} (rounds: "
                  + " ".join(f"{x:.2f}" for x in per_round) + ")")
        print("non-2xx answers during wrk:", {k: sum(r["non2xx"] for r in v) for k, v in runs.items()})
    finally:
        stop_all(procs)
        for w in works:
            shutil.rmtree(w, ignore_errors=True)


def machine_busy_s():
    """Seconds of CPU the whole machine spent busy (every core, every process and the kernel) since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal ...: busy is user, nice, system, irq and softirq (steal is
    # time the hypervisor gave to other machines)
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]
    return busy / os.sysconf("SC_CLK_TCK")


def cpu_s(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def make_certificate(work, key_type, secret):
    """A self-signed certificate for localhost/127.0.0.1: key.pem + cert.pem (nginx), bundle.pem (HAProxy) and
    gw.pfx (the gateway), all the same key."""
    key, crt = os.path.join(work, "key.pem"), os.path.join(work, "cert.pem")
    newkey = ["-newkey", "rsa:2048"] if key_type == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True)
    pfx = os.path.join(work, "gw.pfx")
    subprocess.run(["openssl", "pkcs12", "-export", "-in", crt, "-inkey", key, "-out", pfx, "-passout", "pass:" + secret],
                   check=True, capture_output=True)
    with open(os.path.join(work, "bundle.pem"), "w") as out:
        for name in (crt, key):
            with open(name) as f:
                out.write(f.read())
    return pfx


def tls_relay(args, build):
    """The HTTPS table: nginx, HAProxy and the gateway terminating TLS with the same certificate, all in front
    of the same simulated host: keep-alive GET /getConnection with wrk over https, and full handshakes per
    second with bench/tls_handshake_bench (a fresh TLS session per connection, one GET /gateway/health each,
    answered by the proxy itself). Each server's CPU time over each test is read from /proc."""
    secs = 3 if args.quick else 15
    hs_secs = 3 if args.quick else 10
    hs_bin = os.path.join(build, "bench/tls_handshake_bench")
    work = tempfile.mkdtemp(prefix="webstream-bench-tls-")
    procs = []
    try:
        secret = "bench-pfx-secret-1"
        pfx = make_certificate(work, args.tls_key, secret)
        st = start_stack(build, work, procs, tls={"pfx": pfx, "secret": secret},
                         conf=("nginx-tls.conf", "haproxy-tls.cfg"))
        nginx = st["nginx"]
        targets = [("nginx", st["p_nginx"], lambda: [nginx.pid] + children(nginx.pid)),
                   ("haproxy", st["p_haproxy"], lambda: [st["haproxy"].pid]),
                   ("gateway", st["p_pub"], lambda: [st["gw"].pid])]
        results = {}
        for name, port, pids in targets:
            r = {}
            c0 = cpu_s(pids())
            r["http"] = wrk(f"https://127.0.0.1:{port}/getConnection", st["auth"], secs, 64)
            r["http"]["cpu_us"] = (cpu_s(pids()) - c0) * 1e6 / max(1.0, r["http"]["rps"] * secs)
            time.sleep(1)
            c0 = cpu_s(pids())
            out = subprocess.run([hs_bin, "--port", str(port), "--path", "/gateway/health", "--threads",
                                  str(args.handshake_threads), "--seconds", str(hs_secs)],
                                 capture_output=True, text=True)
            try:
                r["hs"] = json.loads(out.stdout.strip().splitlines()[-1])
                r["hs"]["cpu_us"] = (cpu_s(pids()) - c0) * 1e6 / max(1, r["hs"]["ok"])
            except (ValueError, IndexError):
                r["hs"] = {"error": out.stderr.strip()[:200]}
            ws_bin = os.path.join(build, "bench/ws_bench")
            for key, conns in (("cap1", 1), ("cap16", 16)):
                c0 = cpu_s(pids())
                r[key] = ws_bench(ws_bin, "capture", f"wss://127.0.0.1:{port}/capture{st['q']}", 3 if args.quick else 8,
                                  conns)
                mib = r[key].get("MBps", 0) * 1e6 * r[key].get("seconds", 0) / (1024 * 1024)
                r[key]["cpu_us_per_mib"] = (cpu_s(pids()) - c0) * 1e6 / mib if mib else float("nan")
            results[name] = r
            print(f"  measured {name} (TLS)", file=sys.stderr, flush=True)
            time.sleep(1)

        names = [n for n, _, _ in targets]

        def row(label, fmt):
            cells = []
            for name in names:
                try:
                    cells.append(fmt(results[name]))
                except (KeyError, TypeError, ZeroDivisionError):
                    cells.append("n/a")
            print(f"| {label:<50} | " + " | ".join(f"{c:>10}" for c in cells) + " |")

        key = "RSA 2048" if args.tls_key == "rsa" else "ECDSA P-256"
        hs = results["gateway"].get("hs", {})
        print()
        print(f"HTTPS (TLS terminated by each; {key} self-signed certificate; {hs.get('protocol', '?')} "
              f"{hs.get('cipher', '?')} seen by the handshake client)")
        print(f"| {'measure':<50} | " + " | ".join(f"{n:>10}" for n in names) + " |")
        print("|" + "-" * 52 + "|" + "|".join("-" * 12 for _ in names) + "|")
        row("HTTPS GET /getConnection req/s (wrk -t2 -c64)", lambda r: f"{r['http']['rps']:.0f}")
        row("HTTPS GET /getConnection p99 ms", lambda r: f"{r['http']['p99_ms']:.2f}")
        row("  server CPU µs per request", lambda r: f"{r['http']['cpu_us']:.0f}")
        row(f"new TLS handshakes/s ({args.handshake_threads} client threads)", lambda r: f"{r['hs']['handshakes_per_s']:.0f}")
        row("  handshake + GET + close, p50 ms", lambda r: f"{r['hs']['p50_ms']:.2f}")
        row("  handshake + GET + close, p99 ms", lambda r: f"{r['hs']['p99_ms']:.2f}")
        row("  server CPU µs per handshake", lambda r: f"{r['hs']['cpu_us']:.0f}")
        row("  resumed / failed", lambda r: f"{r['hs']['resumed']} / {r['hs']['failed']}")
        row("wss /capture MB/s, 1 conn", lambda r: f"{r['cap1']['MBps']:.0f}")
        row("wss /capture MB/s, 16 conns", lambda r: f"{r['cap16']['MBps']:.0f}")
        row("  server CPU µs per MiB, 16 conns", lambda r: f"{r['cap16']['cpu_us_per_mib']:.0f}")
        g, n = results["gateway"], results["nginx"]

        def ratio(a, b):
            return f"{a / b:.2f}" if b else "n/a"
        print()
        print("ratios gateway/nginx (TLS):  req/s", ratio(g["http"]["rps"], n["http"]["rps"]),
              " p99", ratio(g["http"]["p99_ms"], n["http"]["p99_ms"]),
              " CPU/request", ratio(g["http"].get("cpu_us", 0), n["http"].get("cpu_us", 0)),
              " handshakes/s", ratio(g.get("hs", {}).get("handshakes_per_s", 0), n.get("hs", {}).get("handshakes_per_s", 0)),
              " CPU/handshake", ratio(g.get("hs", {}).get("cpu_us", 0), n.get("hs", {}).get("cpu_us", 0)))
        print("non-2xx answers during wrk (TLS):", {k: v["http"]["non2xx"] for k, v in results.items()})
    finally:
        stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true", help="short runs: a smoke test of the script")
    ap.add_argument("--rounds", type=int, default=0, help="rounds of the plain table (default 3, --quick 1)")
    ap.add_argument("--idle", type=int, default=0,
                    help="idle WebSockets held for the RSS row (default 10,000, capped by the descriptor limit)")
    ap.add_argument("--tls", action="store_true", help="also the HTTPS table (TLS terminated by each proxy)")
    ap.add_argument("--tls-only", action="store_true", help="only the HTTPS table")
    ap.add_argument("--tls-key", choices=("rsa", "ec"), default="rsa",
                    help="certificate key: RSA 2048 (default) or ECDSA P-256")
    ap.add_argument("--handshake-threads", type=int, default=4, help="handshake client threads (default 4)")
    ap.add_argument("--http-only", action="store_true",
                    help="only the plain-HTTP GET /getConnection rows (A/B work on the HTTP hot path)")
    ap.add_argument("--gateway-bin", action="append", default=[],
                    help="with --http-only: a gateway binary to measure (repeat to compare builds in one run)")
    ap.add_argument("--capture", action="store_true",
                    help="with --http-only: also /capture download at 1 and 16 connections (8 s each) per target")
    ap.add_argument("--seconds", type=int, default=10, help="with --http-only: seconds per wrk run (default 10)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    if args.http_only:
        http_table(args, build)
        return
    if not args.tls_only:
        relay(args, build)
    if args.tls or args.tls_only:
        tls_relay(args, build)


if __name__ == "__main__":
    main()
