// Real-browser tests of the portal: the real gateway binary and webstream-sim (2 hosts) on 127.0.0.1,
// Debian's Chromium through playwright-core. Run: `node --test` in tests/browser (see README.md).
// Screenshots and process logs go to tests/browser/artifacts/.
"use strict";

const { describe, test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const { launchBrowser } = require("./lib/browser.js");
const {
  call, freePortRange, startGateway, startSim, sleep, tempDir, waitFor,
} = require("./lib/processes.js");

const ARTIFACTS = path.join(__dirname, "artifacts");
const LOGS = path.join(ARTIFACTS, "logs");
const ADMIN_PASSWORD = process.env.WEBSTREAM_ADMIN_PASSWORD || "Browser-admin-" + crypto.randomBytes(6).toString("hex");
const DEMO_PASSWORD = "Demo-" + crypto.randomBytes(9).toString("base64url");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 375, height: 667 };

const env = {};  // filled by before(): gateway, sim, simBasePort, browser, ids

async function shot(page, name) {
  await page.screenshot({ path: path.join(ARTIFACTS, name + ".png"), fullPage: true });
}

async function newPage(viewport = DESKTOP) {
  const page = await env.browser.context.newPage();
  await page.setViewportSize(viewport);
  page.on("pageerror", (e) => env.pageErrors.push(e.message));
  page.on("console", (m) => { if (m.type() === "error") env.consoleErrors.push(m.text()); });
  return page;
}

async function signIn(page, username, password) {
  await page.goto(env.gateway.baseUrl + "/");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

// Two reads of the canvas 400 ms apart: how many pixels changed, and a sample of the test pattern.
async function canvasSample(page) {
  return page.evaluate(async () => {
    const canvas = document.getElementById("screen");
    const ctx = canvas.getContext("2d");
    const read = () => ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    const a = read();
    const frameA = Number(canvas.dataset.frame || -1);
    await new Promise((r) => setTimeout(r, 400));
    const b = read();
    const frameB = Number(canvas.dataset.frame || -1);
    let changed = 0;
    for (let i = 0; i < a.length; i += 4) if (a[i] !== b[i] || a[i + 1] !== b[i + 1] || a[i + 2] !== b[i + 2]) changed += 1;
    // The sim's pattern: G = 4y mod 256 for every pixel of row y.
    const row10 = ctx.getImageData(5, 10, 1, 1).data;
    return { width: canvas.width, height: canvas.height, changed, frameA, frameB, greenAtRow10: row10[1] };
  });
}

async function launchFromLauncher(page) {
  await page.getByRole("button", { name: "Launch Pattern in Browser Desktop" }).click();
  await page.locator("#session-view").waitFor({ state: "visible", timeout: 15000 });
  await page.waitForFunction(() => document.getElementById("st-connection").dataset.open === "true", null, { timeout: 15000 });
}

before(async () => {
  fs.mkdirSync(LOGS, { recursive: true });
  env.pageErrors = [];
  env.consoleErrors = [];
  env.workDir = tempDir("webstream-browser-");
  env.gateway = await startGateway({ workDir: env.workDir, logDir: LOGS, adminPassword: ADMIN_PASSWORD });
  env.simBasePort = await freePortRange(2);
  env.sim = await startSim({ gatewayUrl: env.gateway.baseUrl, basePort: env.simBasePort, hosts: 2, logDir: LOGS });

  // Seed through the IAM API: an app, a workspace with it, a demo user, and the user's entitlement.
  const base = env.gateway.baseUrl;
  const login = await call(base, "POST", "/iam/auth/login", { body: { username: "admin", password: ADMIN_PASSWORD } });
  assert.equal(login.status, 200, "admin login: " + login.text);
  const token = login.body.token;
  env.adminToken = token;
  const created = async (p, body) => {
    const r = await call(base, "POST", p, { body, token });
    assert.ok(r.status === 200 || r.status === 201, "POST " + p + ": " + r.status + " " + r.text);
    return r.body;
  };
  const app = await created("/iam/apps", { name: "Pattern", exe: "C:\\WebStream\\pattern.exe", args: "--fps 20" });
  const workspace = await created("/iam/workspaces", { name: "Browser Desktop", type: "desktop", apps: [app.id] });
  const user = await created("/iam/users", { username: "demo", password: DEMO_PASSWORD, roles: ["user"], displayName: "Demo User" });
  await created("/iam/entitlements", { subjectType: "user", subjectId: user.id, workspaceId: workspace.id, appIds: [] });
  env.ids = { app: app.id, workspace: workspace.id, user: user.id };

  // Both simulated hosts registered and healthy before any browser work.
  await waitFor(async () => {
    const r = await call(base, "GET", "/gateway/admin/backends", { token });
    return r.status === 200 && r.body.items.filter((b) => String(b.state).toLowerCase() === "healthy").length === 2;
  }, { timeoutMs: 20000, what: "two healthy backends" });

  env.browser = await launchBrowser({ viewport: DESKTOP });
});

after(async () => {
  if (env.browser) await env.browser.close();
  if (env.sim) await env.sim.stop();
  if (env.sim2) await env.sim2.stop();
  if (env.gateway) await env.gateway.child.stop();
  if (env.workDir && !process.env.WEBSTREAM_BROWSER_KEEP) fs.rmSync(env.workDir, { recursive: true, force: true });
});

describe("portal in Chromium", { concurrency: false }, () => {
  test("the gateway serves the portal with its security headers", async () => {
    const base = env.gateway.baseUrl;
    const index = await fetch(base + "/");
    assert.equal(index.status, 200);
    assert.match(index.headers.get("content-type"), /^text\/html/);
    assert.equal(index.headers.get("cache-control"), "no-cache");
    const csp = index.headers.get("content-security-policy") || "";
    for (const part of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "connect-src 'self' ws: wss:"]) {
      assert.ok(csp.includes(part), "CSP has " + part + ": " + csp);
    }
    assert.equal(index.headers.get("x-content-type-options"), "nosniff");
    assert.equal(index.headers.get("referrer-policy"), "no-referrer");
    const js = await fetch(base + "/portal/app.js");
    assert.equal(js.status, 200);
    assert.match(js.headers.get("content-type"), /^text\/javascript/);
    const css = await fetch(base + "/portal/styles.css");
    assert.match(css.headers.get("content-type"), /^text\/css/);
    const missing = await call(base, "GET", "/portal/missing.js");
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, "not_found");
  });

  test("a wrong password shows the error (keyboard only)", async () => {
    const page = await newPage();
    await page.goto(env.gateway.baseUrl + "/");
    // The username field has focus on arrival; Tab to the password, Enter submits.
    await page.keyboard.type("demo");
    await page.keyboard.press("Tab");
    await page.keyboard.type("not-the-password");
    await page.keyboard.press("Enter");
    const error = page.locator("#signin-error");
    await error.waitFor({ state: "visible" });
    assert.match(await error.textContent(), /Wrong username or password/);
    assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");
    assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0);
    await shot(page, "01-wrong-password");
    await page.close();
  });

  test("sign in, launch: frames on the canvas, control echo round trip, status", async () => {
    const page = await newPage();
    env.userPage = page;
    await signIn(page, "demo", DEMO_PASSWORD);
    await page.getByRole("heading", { name: "Your workspaces" }).waitFor();
    await page.getByRole("heading", { name: "Browser Desktop" }).waitFor();
    await shot(page, "02-workspaces");

    // The token lives in sessionStorage only, never in localStorage or the page URL.
    const storage = await page.evaluate(() => ({ session: sessionStorage.getItem("webstream.token"), local: localStorage.length }));
    assert.ok(storage.session && storage.session.split(".").length === 3, "a JWT in sessionStorage");
    assert.equal(storage.local, 0);

    const sockets = [];
    page.on("websocket", (ws) => sockets.push(ws.url()));
    await launchFromLauncher(page);
    assert.ok(!page.url().includes(storage.session), "no token in the page URL");
    for (const channel of ["capture", "control", "audio"]) {
      const url = sockets.find((u) => new URL(u).pathname === "/" + channel);
      assert.ok(url, "a /" + channel + " WebSocket was opened");
      const q = new URL(url).searchParams;
      assert.ok(q.get("sessionId") && q.get("token").startsWith("ct."), "sessionId and connectToken on /" + channel);
    }

    // Frames arrive and the pattern moves.
    await page.waitForFunction(() => Number(document.getElementById("screen").dataset.frame || -1) > 3, null, { timeout: 10000 });
    const sample = await canvasSample(page);
    assert.equal(sample.width, 256);
    assert.equal(sample.height, 144);
    assert.ok(sample.frameB > sample.frameA, "frame counter advances: " + JSON.stringify(sample));
    assert.ok(sample.changed > 1000, "canvas pixels change between frames: " + JSON.stringify(sample));
    assert.equal(sample.greenAtRow10, 40, "the test pattern is decoded (G = 4y)");

    // Pointer input on /control comes back as an echo; the round trip is shown.
    const box = await page.locator("#screen").boundingBox();
    for (let i = 0; i < 10; i += 1) {
      await page.mouse.move(box.x + 20 + i * 15, box.y + 20 + i * 5);
      await sleep(40);
    }
    await page.waitForFunction(() => document.getElementById("st-rtt").dataset.ms !== undefined, null, { timeout: 10000 });
    const rtt = Number(await page.locator("#st-rtt").getAttribute("data-ms"));
    assert.ok(rtt >= 0 && rtt < 2000, "round trip " + rtt + " ms");
    assert.match(await page.locator("#st-rtt").textContent(), /ms/);

    // Status from GET /gateway/session/status.
    await page.waitForFunction(() => document.getElementById("st-state").textContent === "active", null, { timeout: 10000 });
    await page.waitForFunction(() => /^Healthy/.test(document.getElementById("st-backend").textContent), null, { timeout: 10000 });
    await sleep(600);  // one more stats refresh for the screenshot
    await shot(page, "03-live-session");
  });

  test("a second launch over the concurrency limit says so (409)", async () => {
    const page = await newPage();
    await signIn(page, "demo", DEMO_PASSWORD);
    await page.getByRole("button", { name: "Launch Pattern in Browser Desktop" }).click();
    const notice = page.locator("#notice");
    await notice.waitFor({ state: "visible" });
    assert.match(await notice.textContent(), /as many sessions running as your policy allows/);
    assert.equal(await notice.getAttribute("role"), "alert");
    await shot(page, "04-concurrency-limit");
    await page.close();
  });

  test("an admin sees both backends and the live session", async () => {
    const page = await newPage();
    await signIn(page, "admin", ADMIN_PASSWORD);
    await page.getByRole("link", { name: "Admin" }).click();
    await page.getByRole("heading", { name: "Administration" }).waitFor();
    const rows = page.locator("#panel-backends tbody tr");
    await waitFor(async () => (await rows.count()) === 2, { what: "two backend rows" });
    const text = await page.locator("#panel-backends").textContent();
    assert.equal((text.match(/Healthy/g) || []).length, 2, "both backends healthy: " + text);
    assert.match(text, new RegExp("127\\.0\\.0\\.1:" + env.simBasePort));
    assert.match(text, new RegExp("127\\.0\\.0\\.1:" + (env.simBasePort + 1)));
    await shot(page, "05-admin-backends");

    await page.getByRole("tab", { name: "Sessions" }).click();
    await page.locator("#panel-sessions tbody tr").first().waitFor();
    assert.match(await page.locator("#panel-sessions").textContent(), /demo/);
    await shot(page, "06-admin-sessions");

    await page.getByRole("tab", { name: "Users" }).click();
    await page.locator("#panel-users tbody tr").first().waitFor();
    assert.match(await page.locator("#panel-users").textContent(), /demo/);
    await page.getByRole("tab", { name: "Workspaces & apps" }).click();
    await page.locator("#panel-workspaces tbody tr").first().waitFor();
    assert.match(await page.locator("#panel-workspaces").textContent(), /Browser Desktop/);
    await page.getByRole("tab", { name: "Entitlements" }).click();
    await page.locator("#panel-entitlements tbody tr").first().waitFor();
    assert.match(await page.locator("#panel-entitlements").textContent(), /user: demo/);
    await shot(page, "07-admin-entitlements");
    await page.close();
  });

  test("release frees the slot: launching again works", async () => {
    const page = env.userPage;
    await page.getByRole("button", { name: "Release session" }).click();
    await page.locator("#launcher-view").waitFor({ state: "visible" });
    assert.match(await page.locator("#notice").textContent(), /released/);
    await shot(page, "08-released");
    await launchFromLauncher(page);
    await page.waitForFunction(() => Number(document.getElementById("screen").dataset.frame || -1) > 3, null, { timeout: 10000 });
    assert.ok((await canvasSample(page)).changed > 1000, "frames again after a new select");
  });

  test("no session host available (503): the page retries after Retry-After and launches when one is back", async () => {
    const page = env.userPage;
    await page.getByRole("button", { name: "Release session" }).click();
    await page.locator("#launcher-view").waitFor({ state: "visible" });
    const simStatus = (i, body) => call("http://127.0.0.1:" + (env.simBasePort + i), "POST", "/sim/status", { body });
    for (const i of [0, 1]) assert.equal((await simStatus(i, { status: "Draining" })).status, 200);
    await waitFor(async () => {
      const r = await call(env.gateway.baseUrl, "GET", "/gateway/admin/backends", { token: env.adminToken });
      return r.status === 200 && r.body.items.every((b) => String(b.status).toLowerCase() === "draining");
    }, { what: "both backends draining" });

    await page.getByRole("button", { name: "Launch Pattern in Browser Desktop" }).click();
    await page.waitForFunction(() => /No session host is available right now\. Trying again in \d+ s/.test(document.getElementById("notice").textContent), null, { timeout: 10000 });
    await shot(page, "09-no-session-host");

    for (const i of [0, 1]) assert.equal((await simStatus(i, { status: "Ready" })).status, 200);
    await page.locator("#session-view").waitFor({ state: "visible", timeout: 40000 });
    await page.waitForFunction(() => Number(document.getElementById("screen").dataset.frame || -1) > 3, null, { timeout: 15000 });
    assert.ok(await page.locator("#notice").isHidden(), "the 'no session host' warning is gone once launched");
  });

  test("phone-sized window: no sideways scrolling, the screen fits", async () => {
    const page = env.userPage;
    await page.setViewportSize(PHONE);
    await sleep(300);
    const layout = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      canvasWidth: document.getElementById("screen").getBoundingClientRect().width,
    }));
    assert.ok(layout.scrollWidth <= PHONE.width, "page width " + layout.scrollWidth);
    assert.ok(layout.canvasWidth <= PHONE.width && layout.canvasWidth > 300, "canvas width " + layout.canvasWidth);
    await shot(page, "10-phone-session");
    await page.getByRole("link", { name: "Workspaces" }).click();
    await page.locator("#launcher-view").waitFor({ state: "visible" });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth) <= PHONE.width);
    await shot(page, "11-phone-workspaces");
    await page.getByRole("button", { name: "Return to session" }).click();
    await page.setViewportSize(DESKTOP);
  });

  test("error messages for 401, 403, 409 and 503 answers", async () => {
    const page = env.userPage;
    const messages = await page.evaluate(async () => {
      const { describeError } = await import("/portal/api.js");
      const e = (status, code, retryAfter = null) => describeError({ status, error: { code, message: "x" }, retryAfter }, "launch this app");
      return {
        unauthorized: e(401, "unauthorized"),
        notEntitled: e(403, "not_entitled"),
        mismatch: e(403, "app_mismatch"),
        limit: e(409, "concurrency_limit"),
        conflict: e(409, "session_conflict"),
        busy: e(503, "no_backend_available", 7),
        locked: e(429, "locked_out", 600),
      };
    });
    assert.match(messages.unauthorized, /sign in again/);
    assert.match(messages.notEntitled, /not entitled/);
    assert.match(messages.mismatch, /do not match/);
    assert.match(messages.limit, /Release a session/);
    assert.match(messages.conflict, /someone else/);
    assert.match(messages.busy, /No session host is available.*7 seconds/);
    assert.match(messages.locked, /10 minutes/);
  });

  test("a killed session host shows the reconnect path; the session resumes when it is back", async () => {
    const page = env.userPage;
    await page.waitForFunction(() => document.getElementById("st-connection").dataset.open === "true", null, { timeout: 10000 });
    await env.sim.kill();  // SIGKILL: a crash, no unregister

    const banner = page.locator("#reconnect-banner");
    await banner.waitFor({ state: "visible", timeout: 10000 });
    await page.waitForFunction(() => /Reconnecting in \d+ s \(attempt \d+\)/.test(document.getElementById("reconnect-text").textContent), null, { timeout: 15000 });
    assert.equal(await page.locator("#st-state").textContent(), "reconnecting");
    assert.match(await banner.textContent(), /Connection to the session host lost/);
    await shot(page, "12-reconnecting");
    // Let it fail at least once more (attempt 2+) so the backoff path is exercised.
    await page.waitForFunction(() => /attempt [2-9]/.test(document.getElementById("reconnect-text").textContent), null, { timeout: 20000 });

    // The host comes back on the same ports (same serverUrl, so the same backendId): the page reconnects.
    env.sim2 = await startSim({ gatewayUrl: env.gateway.baseUrl, basePort: env.simBasePort, hosts: 2, logDir: LOGS, name: "sim-restarted" });
    await page.waitForFunction(() => document.getElementById("st-connection").dataset.open === "true", null, { timeout: 45000 });
    const before = Number(await page.locator("#screen").getAttribute("data-frame"));
    await page.waitForFunction((n) => Number(document.getElementById("screen").dataset.frame) !== n, before, { timeout: 10000 });
    assert.ok((await canvasSample(page)).changed > 1000, "frames flow again after the reconnect");
    assert.equal(await page.locator("#st-state").textContent(), "active");
    await shot(page, "13-reconnected");
  });

  test("sign out releases the session and forgets the token", async () => {
    const page = env.userPage;
    const sessionId = await page.evaluate(() => JSON.parse(sessionStorage.getItem("webstream.session")).sessionId);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    const r = await call(env.gateway.baseUrl, "GET", "/gateway/admin/sessions", { token: env.adminToken });
    const mine = r.body.items.find((x) => x.sessionId === sessionId);
    assert.ok(!mine || !["reserved", "active"].includes(mine.state), "the session is no longer live: " + JSON.stringify(mine));
  });

  test("a user disabled by an admin is sent back to sign in", async () => {
    const page = env.userPage;
    await signIn(page, "demo", DEMO_PASSWORD);
    await launchFromLauncher(page);
    const r = await call(env.gateway.baseUrl, "PATCH", "/iam/users/" + env.ids.user, { body: { disabled: true }, token: env.adminToken });
    assert.equal(r.status, 200, r.text);
    await page.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: 15000 });
    assert.match(await page.locator("#notice").textContent(), /sign in again/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem("webstream.token")), null);
    await shot(page, "14-disabled-user");
  });

  test("no script errors on any page", () => {
    assert.deepEqual(env.pageErrors, []);
  });
});
