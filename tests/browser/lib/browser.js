// Debian's Chromium driven by playwright-core. Never downloads a browser: the executable is
// CHROMIUM_BIN (default /usr/bin/chromium), with a fresh profile in a temp dir for every launch.
"use strict";

const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");

const CHROMIUM_BIN = process.env.CHROMIUM_BIN || "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

// → {context, userDataDir, close()}. Playwright manages --user-data-dir itself (it refuses it in args), so the
// fresh profile directory is passed as launchPersistentContext's userDataDir.
async function launchBrowser({ viewport = { width: 1280, height: 800 } } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "webstream-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_BIN,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    timeout: 60_000,
  });
  return {
    context,
    userDataDir,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

module.exports = { launchBrowser, CHROMIUM_BIN, CHROMIUM_ARGS };
