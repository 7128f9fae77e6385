// The cluster demo's failover in a real browser (CONTRACT §12, issue 12): `scripts/demo.py --cluster` — a
// throwaway PostgreSQL, three gateways and HAProxy in front (round robin, no stickiness), two simulated hosts —
// with the binaries of this build; Debian's Chromium signs in through HAProxy and launches the demo desktop;
// the gateway that carries the live view (an open /capture WebSocket) is killed with SIGKILL; the page
// reconnects through HAProxy to another gateway: the same session id, frames flow on the canvas again, the
// status is `active`. Run: `node --test cluster_failover.test.js` in tests/browser (needs haproxy and the
// postgresql server package: scripts/setup.sh --cluster). Screenshots and logs go to artifacts/.
"use strict";

const { test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");

const { launchBrowser } = require("./lib/browser.js");
const { REPO_ROOT, Child, call, freePortRange, gatewayBin, tempDir, waitFor } = require("./lib/processes.js");

const ARTIFACTS = path.join(__dirname, "artifacts");
const LOGS = path.join(ARTIFACTS, "logs");
const env = {};

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name + ".png"), fullPage: true });
}

// The open WebSocket relays of the gateway on `port` (its /metrics, on the gateway directly).
async function openWebSockets(port) {
  const r = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
  if (!r || r.status !== 200) return -1;
  const m = (await r.text()).match(/^webstream_websockets_open (\d+)/m);
  return m ? Number(m[1]) : 0;
}

async function frameAdvances(page) {
  const before = Number(await page.locator("#screen").getAttribute("data-frame"));
  await page.waitForFunction((n) => Number(document.getElementById("screen").dataset.frame) > n + 3, before, { timeout: 15000 });
}

before(async () => {
  fs.mkdirSync(LOGS, { recursive: true });
  env.data = tempDir("webstream-cluster-demo-");
  env.port = await freePortRange(4);  // HAProxy on P, gateways on P+1..P+3
  const build = path.resolve(path.dirname(gatewayBin()), "..", "..");  // <build>/src/app/webstream
  env.demo = new Child("cluster-demo", "python3", [path.join(REPO_ROOT, "scripts", "demo.py"), "--build", build,
    "--cluster", "--port", String(env.port), "--data", env.data], { env: {}, logDir: LOGS });
  const printed = await waitFor(() => {
    if (env.demo.exited) throw new Error("the demo exited: " + JSON.stringify(env.demo.exited) + "\n" + env.demo.output.slice(-2000));
    return env.demo.output.includes("is running.") && /Cluster:[\s\S]*pids ([\d, ]+)\)/.exec(env.demo.output);
  }, { timeoutMs: 90000, what: "the cluster demo's banner" });
  env.pids = printed[1].split(",").map((s) => Number(s.trim()));  // gateways 1..3, ports P+1..P+3
  env.demoPassword = /Demo user:\s+demo \/ (\S+)/.exec(env.demo.output)[1];
  env.url = `http://127.0.0.1:${env.port}`;
  assert.equal(env.pids.length, 3);
  // Both simulated hosts registered (through HAProxy) and healthy on every gateway.
  const admin = /Admin:\s+admin \/ (\S+)/.exec(env.demo.output)[1];
  const login = await call(env.url, "POST", "/iam/auth/login", { body: { username: "admin", password: admin } });
  assert.equal(login.status, 200, login.text);
  for (let i = 1; i <= 3; i += 1) {
    await waitFor(async () => {
      const r = await call(`http://127.0.0.1:${env.port + i}`, "GET", "/gateway/admin/backends", { token: login.body.token });
      return r.status === 200 && r.body.items.filter((b) => String(b.state).toLowerCase() === "healthy").length === 2;
    }, { timeoutMs: 30000, what: "two healthy backends on gateway " + i });
  }
  env.browser = await launchBrowser();
});

after(async () => {
  if (env.browser) await env.browser.close();
  if (env.demo) await env.demo.stop(20000);  // the demo stops HAProxy, the gateways, the hosts and PostgreSQL
  if (env.data && !process.env.WEBSTREAM_BROWSER_KEEP) fs.rmSync(env.data, { recursive: true, force: true });
});

test("killing the gateway that carries the live view: the page reconnects through another, same session", async () => {
  const page = await env.browser.context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(env.url + "/");
  await page.getByLabel("Username").fill("demo");
  await page.getByLabel("Password").fill(env.demoPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Launch Test Pattern in Demo Desktop" }).click();
  await page.locator("#session-view").waitFor({ state: "visible", timeout: 15000 });
  await page.waitForFunction(() => document.getElementById("st-connection").dataset.open === "true", null, { timeout: 20000 });
  await frameAdvances(page);
  await page.waitForFunction(() => document.getElementById("st-state").textContent === "active", null, { timeout: 10000 });
  const sessionId = await page.evaluate(() => JSON.parse(sessionStorage.getItem("webstream.session")).sessionId);
  await shot(page, "cluster-01-streaming");

  // Which gateways relay the page's WebSockets (round robin may spread its three channels over several).
  const counts = [];
  for (let i = 1; i <= 3; i += 1) counts.push(await openWebSockets(env.port + i));
  const carrier = counts.findIndex((n) => n > 0);
  assert.ok(carrier >= 0, "no gateway relays the page's WebSockets: " + JSON.stringify(counts));
  process.kill(env.pids[carrier], "SIGKILL");
  const killedAt = Date.now();

  // The page sees the drop and reconnects through HAProxy (to a live gateway); the session is the same one.
  await page.waitForFunction(() => document.getElementById("st-connection").dataset.open !== "true", null, { timeout: 10000 });
  await page.waitForFunction(() => document.getElementById("st-connection").dataset.open === "true", null, { timeout: 45000 });
  const reconnectedMs = Date.now() - killedAt;
  await frameAdvances(page);
  await page.waitForFunction(() => document.getElementById("st-state").textContent === "active", null, { timeout: 10000 });
  assert.equal(await page.evaluate(() => JSON.parse(sessionStorage.getItem("webstream.session")).sessionId), sessionId);
  assert.equal(await openWebSockets(env.port + carrier + 1), -1, "the killed gateway answers no more");
  let relayed = 0;
  for (let i = 1; i <= 3; i += 1) if (i !== carrier + 1) relayed += Math.max(0, await openWebSockets(env.port + i));
  assert.ok(relayed >= 3, "the page's three WebSockets are relayed by the live gateways: " + relayed);
  await shot(page, "cluster-02-reconnected");
  console.log(`  gateway ${carrier + 1} (of 3) killed with SIGKILL; the page streamed again through another after ${reconnectedMs} ms`);
  assert.deepEqual(errors, []);
});
