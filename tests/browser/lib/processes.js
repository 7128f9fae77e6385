// The real gateway binary and webstream-sim on 127.0.0.1, for the browser tests: free ports, a temp
// app.config.xml, start/stop with logs kept in the artifacts folder, and small HTTP helpers.
"use strict";

const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { spawn } = require("node:child_process");

const REPO_ROOT = path.resolve(__dirname, "..", "..", "..");
const HOST = "127.0.0.1";

function gatewayBin() {
  return process.env.WEBSTREAM_BIN || path.join(REPO_ROOT, "build", "release", "src", "app", "webstream");
}
function simBin() {
  return process.env.WEBSTREAM_SIM_BIN || path.join(REPO_ROOT, "build", "release", "tools", "sim", "webstream-sim");
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Calls fn() until it returns a truthy value (returned); throws after timeoutMs naming `what`.
async function waitFor(fn, { timeoutMs = 15000, intervalMs = 100, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error("timed out waiting for " + what + " (last: " + String(last && last.message || JSON.stringify(last)) + ")");
    await sleep(intervalMs);
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

// The lowest port the kernel hands out for outgoing connections (Linux: ip_local_port_range).
function ephemeralLow() {
  try {
    const low = parseInt(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0], 10);
    return Number.isFinite(low) ? low : 32768;
  } catch {
    return 32768;
  }
}

// A port P with P .. P+count-1 all free a moment ago (the sim's --base-port, so a restarted sim gets the
// same serverUrls back). Picked below the ephemeral range: the tests running beside this one (ctest -j) hold
// thousands of outgoing connections and TIME_WAIT sockets on ephemeral ports, so the neighbours of a port the
// kernel picks there are often taken (CI failed once with 50 tries and no range found); below it only
// listeners take ports.
async function freePortRange(count) {
  const low = 20000;
  const high = ephemeralLow() - count;
  for (let tries = 0; tries < 200; tries += 1) {
    const base = high > low ? low + Math.floor(Math.random() * (high - low)) : await freePort();
    if (base + count > 65535) continue;
    let ok = true;
    for (let i = 0; i < count && ok; i += 1) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error("no range of " + count + " free ports found");
}

// Passwords are hashed at OWASP's minimum argon2id cost (19 MiB x 2), the lowest accessManagement allows, as in
// tests/e2e/harness.py: the tests' logins need no more, and the default (64 MiB x 3) costs ~0.25 s of CPU each.
function writeConfig(dir, port) {
  const xml = `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <gateway enabled="true" publicIP="${HOST}" port="${port}" workerThreads="2" heartbeatInterval="2">
    <loadBalancing strategy="LeastConnections" sessionAffinityTimeout="3600" />
    <healthCheck interval="1" unstableInterval="1" timeout="2" failureThreshold="3" successThreshold="1" />
    <sessions reservationTimeout="120" disconnectGrace="300" />
  </gateway>
  <accessManagement mode="builtin" tokenLifetime="3600" passwordHashMemory="19456" passwordHashPasses="2" />
  <storage provider="sqlite" path="webstream.db" />
  <logging level="info" />
</configuration>
`;
  const file = path.join(dir, "app.config.xml");
  fs.writeFileSync(file, xml);
  return file;
}

// A child process whose stdout/stderr go to log files and are kept in memory (for events and errors).
class Child {
  constructor(name, bin, args, { env, logDir }) {
    this.name = name;
    this.output = "";
    this.exited = null;
    const log = fs.openSync(path.join(logDir, name + ".log"), "w");  // this run only
    this.proc = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const take = (chunk) => {
      this.output += chunk.toString("utf8");
      fs.writeSync(log, chunk);
    };
    this.proc.stdout.on("data", take);
    this.proc.stderr.on("data", take);
    this.done = new Promise((resolve) => {
      this.proc.on("exit", (code, signal) => {
        this.exited = { code, signal };
        fs.closeSync(log);
        resolve(this.exited);
      });
      this.proc.on("error", (e) => {
        this.output += String(e) + "\n";
        this.exited = { code: -1, signal: null };
        resolve(this.exited);
      });
    });
  }

  // JSON lines on stdout that carry {"event": name}.
  events(name) {
    const out = [];
    for (const line of this.output.split("\n")) {
      if (!line.startsWith("{")) continue;
      try {
        const obj = JSON.parse(line);
        if (obj.event === name) out.push(obj);
      } catch { /* a log line cut in the middle */ }
    }
    return out;
  }

  async stop(graceMs = 10000) {
    if (this.exited) return this.exited;
    this.proc.kill("SIGTERM");
    const result = await Promise.race([this.done, sleep(graceMs).then(() => null)]);
    if (result) return result;
    this.proc.kill("SIGKILL");
    return this.done;
  }

  async kill() {
    if (this.exited) return this.exited;
    this.proc.kill("SIGKILL");
    return this.done;
  }
}

// HTTP to the gateway: → {status, headers, body (parsed JSON when it is JSON), text}.
async function call(baseUrl, method, urlPath, { body, token, headers = {} } = {}) {
  const h = { ...headers };
  if (body !== undefined) h["Content-Type"] = "application/json";
  if (token) h.Authorization = "Bearer " + token;
  const res = await fetch(baseUrl + urlPath, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

// A port picked by freePort() can be taken by a parallel test before the gateway binds it (ctest -j): the
// gateway then exits 2 naming "Address already in use", and is started again on a new port.
async function startGateway({ workDir, logDir, adminPassword }) {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    const config = writeConfig(workDir, port);
    const child = new Child("gateway", gatewayBin(), ["-gw", "--config", config], {
      env: { WEBSTREAM_ADMIN_PASSWORD: adminPassword }, logDir,
    });
    const baseUrl = `http://${HOST}:${port}`;
    try {
      await waitFor(async () => {
        if (child.exited) throw new Error("the gateway exited: " + JSON.stringify(child.exited) + "\n" + child.output.slice(-2000));
        // Bounded: whatever holds the port when our bind failed may accept and never answer.
        const r = await fetch(baseUrl + "/gateway/health", { signal: AbortSignal.timeout(2000) }).catch(() => null);
        return r && r.status === 200;
      }, { timeoutMs: 30000, what: "the gateway's /gateway/health" });
    } catch (e) {
      if (attempt < 5 && child.exited) {
        await sleep(200);  // "exit" can come before the last of stderr
        if (child.output.includes("Address already in use")) continue;
      }
      throw e;
    }
    return { child, port, baseUrl };
  }
}

async function startSim({ gatewayUrl, basePort, hosts, logDir, name = "sim" }) {
  const args = [
    "--gateway", gatewayUrl, "--hosts", String(hosts), "--base-port", String(basePort),
    "--heartbeat-interval", "1", "--register-retry", "1", "--max-sessions", "4",
    "--frame-bytes", String(32 + 256 * 144 * 4), "--fps", "20", "--tags", "sim",
  ];
  const child = new Child(name, simBin(), args, { env: {}, logDir });
  await waitFor(() => {
    if (child.exited) throw new Error("webstream-sim exited: " + JSON.stringify(child.exited) + "\n" + child.output.slice(-2000));
    return child.events("ready").length > 0;
  }, { timeoutMs: 20000, what: "webstream-sim's ready event" });
  return child;
}

function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

module.exports = {
  REPO_ROOT, HOST, gatewayBin, simBin, sleep, waitFor, freePort, freePortRange, writeConfig, Child, call,
  startGateway, startSim, tempDir,
};
