// app.js: the portal's entry point — sign in, the workspaces and apps this user may launch, launching and
// releasing a session, and switching views (#/workspaces, #/session, #/admin).

import { auth, currentSession, request, describeError, newSessionId, onUnauthorized } from "./api.js";
import { $, el, announce, notify, clearNotice, showView, sleep } from "./ui.js";
import { LiveSession } from "./live.js";
import { initAdmin, enterAdmin, leaveAdmin } from "./admin.js";

const MAX_503_RETRIES = 5;
let live = null;            // the LiveSession of this tab, if any
let entitlements = [];      // the last GET /iam/me/entitlements items
let launching = null;       // AbortController of a launch waiting out a 503

// ---------------------------------------------------------------------------------------------- sign in

function showSignIn(message) {
  $("main-nav").hidden = true;
  $("user-box").hidden = true;
  leaveAdmin();
  showView("signin-view", { focus: false });
  if (message) notify("warning", message);
  $("signin-username").focus();
}

async function onSignInSubmit(event) {
  event.preventDefault();
  const username = $("signin-username").value.trim();
  const password = $("signin-password").value;
  const error = $("signin-error");
  error.hidden = true;
  for (const id of ["signin-username", "signin-password"]) $(id).removeAttribute("aria-invalid");
  if (!username || !password) {
    error.textContent = !username ? "Enter your username." : "Enter your password.";
    error.hidden = false;
    const missing = !username ? "signin-username" : "signin-password";
    $(missing).setAttribute("aria-invalid", "true");
    $(missing).focus();
    return;
  }
  const button = $("signin-button");
  button.disabled = true;
  button.textContent = "Signing in…";
  const r = await request("POST", "/iam/auth/login", { body: { username, password }, signedIn: false });
  button.disabled = false;
  button.textContent = "Sign in";
  if (!r.ok || !r.data || !r.data.token) {
    error.textContent = r.ok ? "The gateway gave an unexpected answer." : describeError(r, "sign in");
    error.hidden = false;
    if (r.status === 401) {
      $("signin-password").setAttribute("aria-invalid", "true");
      $("signin-password").select();
      $("signin-password").focus();
    }
    return;
  }
  auth.save(r.data);
  $("signin-password").value = "";
  clearNotice();
  announce("Signed in as " + (r.data.user && r.data.user.username ? r.data.user.username : username) + ".");
  await enterSignedIn();
}

async function signOut(message) {
  if (launching) launching.abort();
  if (live) {
    const session = live;
    live = null;
    await session.release();
  }
  currentSession.clear();
  if (auth.token()) await request("POST", "/iam/auth/logout", { reportUnauthorized: false });
  auth.clear();
  showSignIn(message);
  if (!message) announce("Signed out.");
}

// Any call answering 401 while signed in: the token expired or was revoked.
function onTokenRejected() {
  if (live) {
    live.stop("signed out");
    live = null;
  }
  auth.clear();
  showSignIn("Your sign-in has expired or was revoked. Please sign in again.");
}

// ------------------------------------------------------------------------------------------- signed in

async function enterSignedIn() {
  const user = auth.user() || {};
  $("user-name").textContent = user.displayName || user.username || "";
  $("user-box").hidden = false;
  $("main-nav").hidden = false;
  $("nav-admin").hidden = !auth.isAdmin();
  await resumeSessionIfAny();
  route();
  loadWorkspaces();
}

async function resumeSessionIfAny() {
  const saved = currentSession.get();
  if (!saved || live) return;
  const r = await request("GET", "/gateway/session/status", { sessionId: saved.sessionId });
  if (r.ok && r.data && (r.data.state === "reserved" || r.data.state === "active")) {
    startLive({ ...saved, state: r.data.state }, { show: false });
    announce("Your session " + label(saved) + " is still running.");
  } else {
    currentSession.clear();
  }
}

function label(session) {
  return "“" + [session.workspaceName, session.appName].filter(Boolean).join(" — ") + "”";
}

function route() {
  if (!auth.token()) return showSignIn();
  const hash = location.hash;
  if (hash === "#/admin" && auth.isAdmin()) {
    showView("admin-view");
    enterAdmin();
    return;
  }
  leaveAdmin();
  if (hash === "#/session" && live) {
    showView("session-view");
    return;
  }
  showView("launcher-view");
  renderCurrentSessionCard();
}

// ----------------------------------------------------------------------------------------- workspaces

async function loadWorkspaces() {
  const status = $("launcher-status");
  status.textContent = "Loading your workspaces…";
  const r = await request("GET", "/iam/me/entitlements");
  if (!r.ok) {
    if (r.status === 401) return;
    status.textContent = describeError(r, "load your workspaces");
    return;
  }
  entitlements = Array.isArray(r.data && r.data.items) ? r.data.items : [];
  renderWorkspaces();
  status.textContent = entitlements.length
    ? entitlements.length + (entitlements.length === 1 ? " workspace" : " workspaces") + " available."
    : "No workspaces are available to you yet. Ask your administrator for access.";
}

function policySummary(policy) {
  if (!policy || typeof policy !== "object") return "";
  const parts = [];
  if (policy.maxConcurrentSessions !== undefined) {
    parts.push("up to " + policy.maxConcurrentSessions + (policy.maxConcurrentSessions === 1 ? " session" : " sessions"));
  }
  if (policy.audio !== undefined) parts.push("audio " + (policy.audio ? "on" : "off"));
  if (policy.clipboard !== undefined) parts.push("clipboard " + (policy.clipboard === false ? "off" : String(policy.clipboard === true ? "on" : policy.clipboard)));
  if (policy.fileTransfer !== undefined) parts.push("file transfer " + (policy.fileTransfer ? "on" : "off"));
  return parts.join(" · ");
}

function renderWorkspaces() {
  const list = $("workspace-list");
  list.replaceChildren();
  for (const item of entitlements) {
    const ws = item.workspace || {};
    const apps = Array.isArray(item.apps) ? item.apps : [];
    const titleId = "ws-" + ws.id;
    const launchButton = (app) => {
      const name = app ? app.name : "desktop";
      return el("button", {
        type: "button",
        class: "button-primary",
        "aria-label": "Launch " + (app ? app.name : "the desktop") + " in " + (ws.name || "workspace"),
        "data-launch": app ? app.id : "",
        disabled: Boolean(live),
        onclick: (event) => launch(item, app, event.currentTarget),
      }, app ? "Launch" : "Launch " + name);
    };
    const appRows = apps.map((app) => el("li", { class: "app-row" },
      el("div", { class: "app-text" },
        el("span", { class: "app-name" }, app.name || app.id),
        app.exe ? el("span", { class: "app-exe mono" }, app.exe + (app.args ? " " + app.args : "")) : null),
      launchButton(app)));
    const summary = policySummary(item.policy);
    list.append(el("li", { class: "card workspace", "aria-labelledby": titleId },
      el("div", { class: "workspace-head" },
        el("h3", { id: titleId }, ws.name || ws.id),
        el("span", { class: "badge badge-type" }, ws.type === "app" ? "App" : "Desktop")),
      summary ? el("p", { class: "muted small" }, summary) : null,
      apps.length
        ? el("ul", { class: "app-list", "aria-label": "Apps in " + (ws.name || "this workspace") }, appRows)
        : el("div", { class: "app-row" }, el("span", { class: "muted" }, "The whole desktop"), launchButton(null))));
  }
  renderCurrentSessionCard();
}

function renderCurrentSessionCard() {
  const card = $("current-session-card");
  card.hidden = !live;
  for (const button of document.querySelectorAll("[data-launch]")) {
    button.disabled = Boolean(live) || Boolean(launching);
    if (live) button.title = "Release your current session before launching another.";
    else button.removeAttribute("title");
  }
  if (live) {
    $("current-session-name").textContent = label(live.session);
    $("current-session-state").textContent = live.state;
    $("current-session-state").className = "badge badge-" + live.state;
  }
}

// ---------------------------------------------------------------------------------------------- launch

async function launch(item, app, button) {
  if (live || launching) return;
  clearNotice();
  const ws = item.workspace;
  const sessionId = newSessionId();
  const body = { workspaceId: ws.id, workspaceType: ws.type };
  if (app) body.appId = app.id;
  const names = { workspaceName: ws.name, appName: app ? app.name : "Desktop", policy: item.policy || {} };
  launching = new AbortController();
  const signal = launching.signal;
  renderCurrentSessionCard();
  const original = button.textContent;
  button.textContent = "Launching…";
  button.setAttribute("aria-busy", "true");
  announce("Launching " + names.appName + "…");
  try {
    for (let tries = 0; ; tries += 1) {
      const r = await request("POST", "/gateway/session/select", { sessionId, body });
      if (signal.aborted) return;
      if (r.ok && r.data) {
        clearNotice();  // e.g. the "no session host, trying again" warning
        const session = { ...r.data, sessionId: r.data.sessionId || sessionId, ...names };
        currentSession.set(session);
        startLive(session, { show: true });
        return;
      }
      if (r.status === 401) return;  // onTokenRejected takes over
      if (r.status === 503 && tries < MAX_503_RETRIES) {
        const wait = Math.min(Math.max(r.retryAfter || 5, 1), 60);
        notify("warning", "No session host is available right now. Trying again in " + wait + " s (attempt " +
          (tries + 1) + " of " + MAX_503_RETRIES + ").", { actionLabel: "Cancel", onAction: () => launching && launching.abort() });
        await sleep(wait * 1000, signal);
        if (signal.aborted) {
          notify("info", "Launch cancelled.");
          return;
        }
        continue;
      }
      notify("error", describeError(r, "launch this app"));
      return;
    }
  } finally {
    launching = null;
    button.textContent = original;
    button.removeAttribute("aria-busy");
    renderCurrentSessionCard();
  }
}

function startLive(session, { show }) {
  live = new LiveSession(session, {
    onEnded: (message) => endLive(message, "warning"),
    onSignedOut: () => onTokenRejected(),
    onStateChange: () => renderCurrentSessionCard(),
  });
  live.start();
  $("nav-session").hidden = false;
  renderCurrentSessionCard();
  if (show) {
    if (location.hash === "#/session") route();
    else location.hash = "#/session";
  }
}

function endLive(message, kind) {
  live = null;
  currentSession.clear();
  $("nav-session").hidden = true;
  renderCurrentSessionCard();
  if (location.hash === "#/session") location.hash = "#/workspaces";
  if (message) notify(kind, message);
}

async function releaseSession() {
  if (!live) return;
  const session = live;
  const name = label(session.session);
  live = null;
  const r = await session.release();
  if (r.ok || r.status === 404) {
    endLive("Session " + name + " released.", "success");
    announce("Session released.");
  } else if (r.status !== 401) {
    endLive(describeError(r, "release the session") + " It will expire on its own.", "error");
  }
}

// ------------------------------------------------------------------------------------------------ start

function init() {
  onUnauthorized(onTokenRejected);
  $("signin-form").addEventListener("submit", onSignInSubmit);
  $("signout-button").addEventListener("click", () => signOut());
  $("refresh-workspaces").addEventListener("click", loadWorkspaces);
  $("release-button").addEventListener("click", releaseSession);
  $("release-from-launcher").addEventListener("click", releaseSession);
  $("resume-session").addEventListener("click", () => { location.hash = "#/session"; });
  $("sound-button").addEventListener("click", () => live && live.toggleSound());
  $("reconnect-now").addEventListener("click", () => live && live.reconnectNow());
  window.addEventListener("hashchange", () => { if (auth.token()) route(); });
  initAdmin();
  if (auth.token()) enterSignedIn();
  else {
    auth.clear();
    showSignIn();
  }
}

init();
