#!/usr/bin/env python3
"""The WebStream Gateway demo: the gateway (SQLite store, demo config) plus two simulated session hosts,
a demo user entitled to a demo desktop, all on this machine. Standard library only.

Usage: scripts/demo.py --build build/release [--port 9000] [--bind 127.0.0.1] [--data DIR]
"""
import argparse
import http.client
import json
import os
import secrets
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
  <storage provider="sqlite" path="data/webstream.db" />
</configuration>
"""


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
    args = parser.parse_args()

    build = os.path.abspath(args.build)
    gateway_bin = os.path.join(build, "src/app/webstream")
    sim_bin = os.path.join(build, "tools/sim/webstream-sim")
    data = os.path.abspath(args.data or os.path.join(build, "demo"))
    os.makedirs(data, exist_ok=True)
    config_path = os.path.join(data, "app.config.xml")
    with open(config_path, "w") as f:
        f.write(CONFIG.format(bind=args.bind, port=args.port))
    secrets_path = os.path.join(data, "demo-passwords.json")
    if os.path.exists(secrets_path):
        with open(secrets_path) as f:
            passwords = json.load(f)
    else:
        passwords = {"admin": secrets.token_urlsafe(12), "demo": secrets.token_urlsafe(12)}
        with open(os.open(secrets_path, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            json.dump(passwords, f)

    env = dict(os.environ, WEBSTREAM_ADMIN_PASSWORD=passwords["admin"])
    log = open(os.path.join(data, "gateway.log"), "a")
    gateway = subprocess.Popen([gateway_bin, "-gw", "--config", config_path], env=env, stdout=log, stderr=subprocess.PIPE)
    deadline = time.time() + 20
    while True:
        try:
            if call(args.port, "GET", "/gateway/health")[0] == 200:
                break
        except OSError:
            pass
        if gateway.poll() is not None or time.time() > deadline:
            sys.exit("demo: the gateway did not start: " + gateway.stderr.read().decode())
        time.sleep(0.2)

    sim_log = open(os.path.join(data, "sim.log"), "a")
    sim = subprocess.Popen([sim_bin, "--gateway", f"http://127.0.0.1:{args.port}", "--hosts", "2", "--streamers", "2",
                            "--max-sessions", "10"], stdout=sim_log, stderr=sim_log)

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

    print(f"""
WebStream Gateway demo is running.
  Portal:        http://{args.bind if args.bind != '0.0.0.0' else '127.0.0.1'}:{args.port}/
  Admin:         admin / {passwords['admin']}
  Demo user:     demo / {passwords['demo']}   (entitled to "Demo Desktop" on two simulated session hosts)
  Metrics:       http://127.0.0.1:{args.port}/metrics
  Data and logs: {data}
Ctrl-C stops it.
""", flush=True)

    stopping = []
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    while not stopping and gateway.poll() is None:
        time.sleep(0.5)
    for proc in (sim, gateway):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in (sim, gateway):
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    print("demo stopped")


if __name__ == "__main__":
    main()
