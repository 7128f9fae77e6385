#!/usr/bin/env python3
"""The WebStream Gateway demo: the gateway (SQLite store, demo config) plus two simulated session hosts,
a demo user entitled to a demo desktop, all on this machine. Standard library only.

Usage: scripts/demo.py --build build/release [--port 9000] [--bind 127.0.0.1] [--data DIR] [--cluster]

--cluster: a throwaway PostgreSQL (Debian's server binaries, as user nobody when run as root, in a temp dir),
three gateways on it (ports PORT+1..PORT+3) and HAProxy in front of them on PORT (round robin, no stickiness,
health checks on /gateway/health): one service whichever gateway answers (docs/scale-out.md). Kill one of
the gateways while the portal streams: the page reconnects through another and keeps its session.
"""
import argparse
import atexit
import http.client
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time

CONFIG = """<configuration>
  <gateway enabled="true" publicIP="{bind}" port="{port}">
    <loadBalancing strategy="LeastConnections" sessionAffinityTimeout="3600" />
    <healthCheck interval="10" unstableInterval="1" timeout="8" failureThreshold="4" successThreshold="2" />
    <sessions reservationTimeout="120" disconnectGrace="300" />
  </gateway>
  <accessManagement mode="builtin" tokenLifetime="3600" />
  {storage}
</configuration>
"""
SQLITE = '<storage provider="sqlite" path="data/webstream.db" />'
POSTGRES = '<storage provider="postgresql" connection="env:WEBSTREAM_PG" />'

HAPROXY = """global
  maxconn 4000
defaults
  mode http
  timeout connect 3s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
frontend webstream
  bind {bind}:{port}
  default_backend gateways
backend gateways
  balance roundrobin
  option httpchk GET /gateway/health
{servers}
"""


STARTED = []  # processes, and the PostgreSQL server, to stop however the demo ends


def stop_everything():
    for item in reversed(STARTED):
        if isinstance(item, subprocess.Popen):
            if item.poll() is None:
                item.send_signal(signal.SIGTERM)
            try:
                item.wait(timeout=15)
            except subprocess.TimeoutExpired:
                item.kill()
        else:
            item.cleanup()
    STARTED.clear()


atexit.register(stop_everything)


def start_gateway(gateway_bin, config_path, port, env, log_path):
    log = open(log_path, "a")
    gateway = subprocess.Popen([gateway_bin, "-gw", "--config", config_path], env=env, stdout=log,
                               stderr=subprocess.PIPE)
    STARTED.append(gateway)
    deadline = time.time() + 30
    while True:
        try:
            if call(port, "GET", "/gateway/health")[0] == 200:
                return gateway
        except OSError:
            pass
        if gateway.poll() is not None or time.time() > deadline:
            sys.exit("demo: a gateway did not start: " + gateway.stderr.read().decode())
        time.sleep(0.2)


def start_cluster(args, build, data, env):
    """PostgreSQL, three gateways and HAProxy; returns (processes to stop, the PgServer)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
    from pg_server import PgServer  # the same throwaway server the tests use (Debian's initdb/pg_ctl)
    pg = PgServer()
    STARTED.append(pg)
    pg.start()
    env = dict(env, WEBSTREAM_PG=pg.create_database())
    gateway_bin = os.path.join(build, "src/app/webstream")
    processes, servers = [], []
    for i in range(1, 4):
        port = args.port + i
        gw_dir = os.path.join(data, "gateway%d" % i)
        os.makedirs(gw_dir, exist_ok=True)
        config_path = os.path.join(gw_dir, "app.config.xml")
        with open(config_path, "w") as f:
            f.write(CONFIG.format(bind="127.0.0.1", port=port, storage=POSTGRES))
        processes.append(start_gateway(gateway_bin, config_path, port, env, os.path.join(gw_dir, "gateway.log")))
        servers.append("  server gw%d 127.0.0.1:%d check inter 1s fall 2 rise 2" % (i, port))
    haproxy_cfg = os.path.join(data, "haproxy.cfg")
    with open(haproxy_cfg, "w") as f:
        f.write(HAPROXY.format(bind=args.bind, port=args.port, servers="\n".join(servers)))
    haproxy_bin = shutil.which("haproxy") or "/usr/sbin/haproxy"
    if not os.path.exists(haproxy_bin):
        sys.exit("demo: HAProxy not found (scripts/setup.sh --bench installs it)")
    haproxy = subprocess.Popen([haproxy_bin, "-db", "-f", haproxy_cfg], stdout=subprocess.DEVNULL,
                               stderr=open(os.path.join(data, "haproxy.log"), "a"))
    STARTED.append(haproxy)
    deadline = time.time() + 20
    while True:
        try:
            if call(args.port, "GET", "/gateway/health")[0] == 200:
                break
        except OSError:
            pass
        if haproxy.poll() is not None or time.time() > deadline:
            sys.exit("demo: HAProxy did not start (see %s)" % os.path.join(data, "haproxy.log"))
        time.sleep(0.2)
    return [haproxy] + processes, pg


def call(port, method, path, body=None, token=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    res = conn.getresponse()
    data = res.read()
    conn.close()
    try:
        return res.status, json.loads(data) if data else None
    except ValueError:
        return res.status, data.decode("utf-8", "replace")


def find_or_create(port, token, collection, match, body):
    status, listing = call(port, "GET", f"/iam/{collection}?limit=1000", token=token)
    if status == 200:
        for item in listing.get("items", []):
            if all(item.get(k) == v for k, v in match.items()):
                return item
    status, created = call(port, "POST", f"/iam/{collection}", body, token)
    if status not in (200, 201):
        raise RuntimeError(f"creating {collection} failed: {status} {created}")
    return created


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", required=True)
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--bind", default="127.0.0.1")
    parser.add_argument("--data", default=None)
    parser.add_argument("--cluster", action="store_true", help="PostgreSQL, three gateways and HAProxy")
    args = parser.parse_args()

    build = os.path.abspath(args.build)
    gateway_bin = os.path.join(build, "src/app/webstream")
    sim_bin = os.path.join(build, "tools/sim/webstream-sim")
    data = os.path.abspath(args.data or os.path.join(build, "demo-cluster" if args.cluster else "demo"))
    os.makedirs(data, exist_ok=True)
    secrets_path = os.path.join(data, "demo-passwords.json")
    if os.path.exists(secrets_path) and not args.cluster:
        with open(secrets_path) as f:
            passwords = json.load(f)
    else:  # the cluster's database is new each time: so are its passwords
        passwords = {"admin": secrets.token_urlsafe(12), "demo": secrets.token_urlsafe(12)}
        if os.path.exists(secrets_path):
            os.remove(secrets_path)
        with open(os.open(secrets_path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            json.dump(passwords, f)

    env = dict(os.environ, WEBSTREAM_ADMIN_PASSWORD=passwords["admin"])
    pg = None
    if args.cluster:
        processes, pg = start_cluster(args, build, data, env)
        sim_gateway = f"http://127.0.0.1:{args.port}"  # the hosts register and heartbeat through HAProxy too
    else:
        config_path = os.path.join(data, "app.config.xml")
        with open(config_path, "w") as f:
            f.write(CONFIG.format(bind=args.bind, port=args.port, storage=SQLITE))
        processes = [start_gateway(gateway_bin, config_path, args.port, env, os.path.join(data, "gateway.log"))]
        sim_gateway = f"http://127.0.0.1:{args.port}"

    sim_log = open(os.path.join(data, "sim.log"), "a")
    sim = subprocess.Popen([sim_bin, "--gateway", sim_gateway, "--hosts", "2", "--streamers", "2",
                            "--max-sessions", "10"], stdout=sim_log, stderr=sim_log)
    STARTED.append(sim)

    status, login = call(args.port, "POST", "/iam/auth/login", {"username": "admin", "password": passwords["admin"]})
    if status != 200:
        sys.exit(f"demo: admin login failed ({status}); delete {data} to start from an empty store")
    token = login["token"]
    app = find_or_create(args.port, token, "apps", {"name": "Test Pattern"},
                         {"name": "Test Pattern", "exe": "C:\\WebStream\\testpattern.exe", "args": "--fps 30"})
    workspace = find_or_create(args.port, token, "workspaces", {"name": "Demo Desktop"},
                               {"name": "Demo Desktop", "type": "desktop", "apps": [app["id"]]})
    user = find_or_create(args.port, token, "users", {"username": "demo"},
                          {"username": "demo", "password": passwords["demo"], "roles": ["user"],
                           "displayName": "Demo User"})
    find_or_create(args.port, token, "entitlements", {"subjectId": user["id"], "workspaceId": workspace["id"]},
                   {"subjectType": "user", "subjectId": user["id"], "workspaceId": workspace["id"], "appIds": []})

    cluster_note = ""
    if args.cluster:
        pids = ", ".join(str(p.pid) for p in processes[1:])
        cluster_note = (f"\n  Cluster:       HAProxy on {args.port} -> gateways on {args.port + 1}-{args.port + 3} "
                        f"(pids {pids}), one PostgreSQL\n                 kill one while streaming: the portal "
                        "reconnects through another")
    print(f"""
WebStream Gateway demo is running.
  Portal:        http://{args.bind if args.bind != '0.0.0.0' else '127.0.0.1'}:{args.port}/
  Admin:         admin / {passwords['admin']}
  Demo user:     demo / {passwords['demo']}   (entitled to "Demo Desktop" on two simulated session hosts)
  Metrics:       http://127.0.0.1:{args.port}/metrics
  Data and logs: {data}{cluster_note}
Ctrl-C stops it.
""", flush=True)

    stopping = []
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    # One gateway: the demo ends with it. A cluster goes on while any gateway lives (kill them to try failover).
    while not stopping and any(p.poll() is None for p in processes[-3:] if p is not None):
        time.sleep(0.5)
    stop_everything()
    print("demo stopped")


if __name__ == "__main__":
    main()
