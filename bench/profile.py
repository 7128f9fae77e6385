#!/usr/bin/env python3
"""Where a proxy's CPU goes under load: `perf record -g` on one proxy of bench/run.py's stack while wrk drives
`GET /getConnection` or ws_bench drives a 16-connection `/capture` download, then perf's summary.

    python3 bench/profile.py --build build/release [--seconds 10] [--load getconnection,capture16]
                             [--target gateway,nginx,haproxy] [--gateway-bin OTHER_BUILD/src/app/webstream]

For each load and target it prints: the load's figure (req/s or MB/s), the target's CPU over the recording
(/proc), its system calls per request or per MiB (`perf stat -e raw_syscalls:sys_enter` over the same
window), its samples by DSO (kernel, the binary, libc, libssl ...) and its top symbols (perf report
--no-children, self time). Needs linux-perf (scripts/setup.sh --bench) and perf_event_paranoid allowing it
(root here).
Nothing is asserted; the figures go, with when and how they were taken, in docs/proxy.md.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run  # noqa: E402  (bench/run.py: the same stack and load generators)


# Symbol families, first match wins: what a share of the samples is spent on.
FAMILIES = (
    ("kernel", lambda dso, sym: dso == "[kernel.kallsyms]"),
    ("Beast HTTP (parser, fields, serializer, read/write ops)", lambda dso, sym: "beast::http" in sym),
    ("Beast other", lambda dso, sym: "beast::" in sym),
    ("Asio (reactor, scheduler, handlers, coroutines)", lambda dso, sym: "boost::asio" in sym),
    ("own code (webstream::)", lambda dso, sym: "webstream::" in sym),
    ("allocator", lambda dso, sym: "mimalloc" in dso or "malloc" in sym or "free" == sym or "operator new" in sym
                                    or "operator delete" in sym),
    ("libc (syscall wrappers, memcpy, locks)", lambda dso, sym: dso.startswith("libc.")),
    ("OpenSSL", lambda dso, sym: dso.startswith("libcrypto") or dso.startswith("libssl")),
)


def families(data):
    """The target's samples grouped into FAMILIES (self time, % of all its samples)."""
    out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym", "--stdio",
                          "--percent-limit", "0", "-g", "none"], capture_output=True, text=True).stdout
    shares = {}
    for line in out.splitlines():
        parts = line.split(None, 2)
        if len(parts) < 3 or line.lstrip().startswith("#") or not parts[0].endswith("%"):
            continue
        pct, dso, sym = float(parts[0].rstrip("%")), parts[1], parts[2].split("] ", 1)[-1]
        name = next((n for n, match in FAMILIES if match(dso, sym)), "other")
        shares[name] = shares.get(name, 0.0) + pct
    return sorted(shares.items(), key=lambda kv: -kv[1])


def perf_summary(data, binary_name, limit):
    """perf's self-time shares of `data` by DSO and by symbol (the first `limit` symbols)."""
    def report(sort):
        out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", sort, "--stdio",
                              "--percent-limit", "0.5", "-g", "none"], capture_output=True, text=True).stdout
        rows = []
        for line in out.splitlines():
            line = line.strip()
            parts = line.split(None, 1)
            if len(parts) < 2 or line.startswith("#") or not parts[0].endswith("%"):
                continue
            pct, rest = parts
            rows.append((float(pct.rstrip("%")), " ".join(rest.split())))
        return rows
    return report("dso"), report("dso,sym")[:limit]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--load", default="getconnection,capture16")
    ap.add_argument("--target", default="gateway,nginx")
    ap.add_argument("--symbols", type=int, default=25, help="top symbols printed per profile")
    ap.add_argument("--gateway-bin", help="another gateway binary than the build's (an A/B of two builds)")
    ap.add_argument("--tls", action="store_true",
                    help="every proxy terminates TLS (https:// and wss://, bench/run.py --tls's certificate)")
    args = ap.parse_args()
    if shutil.which("perf") is None:
        sys.exit("perf is not installed: scripts/setup.sh --bench")
    run.raise_fd_limit()
    build = os.path.abspath(args.build)
    ws_bin = os.path.join(build, "bench/ws_bench")
    work = tempfile.mkdtemp(prefix="webstream-profile-")
    procs = []
    try:
        tls, conf, scheme = None, ("nginx.conf", "haproxy.cfg"), ("http", "ws")
        if args.tls:
            secret = "bench-pfx-secret-1"
            tls = {"pfx": run.make_certificate(work, "rsa", secret), "secret": secret}
            conf, scheme = ("nginx-tls.conf", "haproxy-tls.cfg"), ("https", "wss")
        st = run.start_stack(build, work, procs, tls=tls, conf=conf, gw_bin=args.gateway_bin)
        ports = {"gateway": st["p_pub"], "nginx": st["p_nginx"], "haproxy": st["p_haproxy"]}
        pids = {"gateway": lambda: [st["gw"].pid], "nginx": lambda: run.children(st["nginx"].pid),
                "haproxy": lambda: [st["haproxy"].pid]}
        for load in args.load.split(","):
            for target in args.target.split(","):
                port = ports[target]
                if load == "getconnection":
                    cmd = ["wrk", "-t2", "-c64", f"-d{args.seconds + 2}s"]
                    for k, v in st["auth"].items():
                        cmd += ["-H", f"{k}: {v}"]
                    cmd.append(f"{scheme[0]}://127.0.0.1:{port}/getConnection")
                elif load == "capture16":
                    cmd = [ws_bin, "capture", "--url", f"{scheme[1]}://127.0.0.1:{port}/capture{st['q']}",
                           "--seconds", str(args.seconds + 2), "--connections", "16"]
                else:
                    sys.exit("unknown load " + load)
                data = os.path.join(work, f"perf-{load}-{target}.data")
                loader = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
                time.sleep(1)
                target_pids = pids[target]()
                cpu0 = run.cpu_s(target_pids)
                # The target's system calls over the same window (every thread), beside the sampling.
                stat = subprocess.Popen(["perf", "stat", "-x", ",", "-e", "raw_syscalls:sys_enter", "-p",
                                         ",".join(str(p) for p in target_pids), "--", "sleep", str(args.seconds)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                subprocess.run(["perf", "record", "-g", "-F", "999", "-o", data, "-p",
                                ",".join(str(p) for p in target_pids), "--", "sleep", str(args.seconds)],
                               capture_output=True)
                cpu = run.cpu_s(target_pids) - cpu0
                _, stat_err = stat.communicate()
                syscalls = next((float(line.split(",")[0]) for line in stat_err.splitlines()
                                 if "raw_syscalls:sys_enter" in line and line.split(",")[0].replace(".", "").isdigit()),
                                float("nan"))
                out, _ = loader.communicate()
                if load == "getconnection":
                    figure = next((line.strip() for line in out.splitlines() if "Requests/sec" in line), "?")
                    try:
                        units = float(figure.split()[-1]) * args.seconds
                        per = f"{syscalls / units:.2f} system calls per request"
                    except (ValueError, IndexError, ZeroDivisionError):
                        per = "?"
                else:
                    try:
                        mbps = json.loads(out.strip().splitlines()[-1])["MBps"]
                        figure = "%.0f MB/s" % mbps
                        per = f"{syscalls / (mbps * 1e6 * args.seconds / (1024 * 1024)):.1f} system calls per MiB"
                    except (ValueError, IndexError, KeyError, ZeroDivisionError):
                        figure, per = "?", "?"
                dsos, syms = perf_summary(data, target, args.symbols)
                over = " over TLS" if args.tls else ""
                print(f"\n## {load}{over}, {target}: {figure}; {target} CPU {cpu:.2f} s over the {args.seconds} s "
                      f"recorded ({time.strftime('%H:%M:%S', time.gmtime())} UTC)")
                print(f"system calls: {syscalls:.0f} over the {args.seconds} s, {per}")
                print("by kind of work (self time, % of the target's samples):")
                for name, pct in families(data):
                    print(f"  {pct:6.2f}%  {name}")
                print("by DSO (self time, % of the target's samples):")
                for pct, name in dsos:
                    print(f"  {pct:6.2f}%  {name}")
                print(f"top {args.symbols} symbols:")
                for pct, name in syms:
                    print(f"  {pct:6.2f}%  {name}")
                sys.stdout.flush()
    finally:
        run.stop_all(procs)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
