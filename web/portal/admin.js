// admin.js: the administration view (users with role "admin"): tabs, the live gateway views (backends,
// sessions; refreshed every 5 s while shown) and, through admin_iam.js, users, workspaces, apps and
// entitlements.

import { request, describeError } from "./api.js";
import { $, el, fill, table, listText, formatAgo, formatDateTime } from "./ui.js";
import { renderUsers, renderWorkspaces, renderEntitlements } from "./admin_iam.js";

const REFRESH_MS = 5000;
const TABS = ["backends", "sessions", "users", "workspaces", "entitlements"];
const LIVE_TABS = new Set(["backends", "sessions"]);
let activeTab = "backends";
let refreshTimer = null;
let visible = false;
let loading = false;

export function initAdmin() {
  const tablist = $("admin-tabs");
  for (const name of TABS) {
    $("tab-" + name).addEventListener("click", () => selectTab(name, false));
  }
  tablist.addEventListener("keydown", (event) => {
    const index = TABS.indexOf(activeTab);
    let next = null;
    if (event.key === "ArrowRight") next = TABS[(index + 1) % TABS.length];
    else if (event.key === "ArrowLeft") next = TABS[(index - 1 + TABS.length) % TABS.length];
    else if (event.key === "Home") next = TABS[0];
    else if (event.key === "End") next = TABS[TABS.length - 1];
    if (next) {
      event.preventDefault();
      selectTab(next, true);
    }
  });
  $("admin-refresh").addEventListener("click", () => refresh(true));
  $("admin-autorefresh").addEventListener("change", schedule);
}

export function enterAdmin() {
  if (visible) return;
  visible = true;
  refresh(true);
  schedule();
}

export function leaveAdmin() {
  visible = false;
  schedule();
}

function selectTab(name, focus) {
  activeTab = name;
  for (const tab of TABS) {
    const button = $("tab-" + tab);
    const selected = tab === name;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $("panel-" + tab).hidden = !selected;
  }
  if (focus) $("tab-" + name).focus();
  refresh(true);
}

function schedule() {
  clearInterval(refreshTimer);
  refreshTimer = null;
  if (visible && $("admin-autorefresh").checked) {
    refreshTimer = setInterval(() => { if (LIVE_TABS.has(activeTab)) refresh(false); }, REFRESH_MS);
  }
}

// Reloads the active tab. `full`: also the IAM tabs (they hold forms, so the timer never reloads them).
export async function refresh(full) {
  if (!visible || (loading && !full)) return;
  loading = true;
  const panel = $("panel-" + activeTab);
  panel.setAttribute("aria-busy", "true");
  try {
    if (activeTab === "backends") await renderBackends(panel);
    else if (activeTab === "sessions") await renderSessions(panel);
    else if (full && activeTab === "users") await renderUsers(panel);
    else if (full && activeTab === "workspaces") await renderWorkspaces(panel);
    else if (full && activeTab === "entitlements") await renderEntitlements(panel);
  } finally {
    panel.removeAttribute("aria-busy");
    loading = false;
  }
}

// The panel's content after a failed call, or null when `r` is fine.
export function failure(r, what) {
  if (r.ok) return null;
  return el("p", { class: "form-error", role: "alert" }, describeError(r, what));
}

function stateBadge(state) {
  const text = state || "Unknown";
  return el("span", { class: "badge badge-" + text.toLowerCase() }, text);
}

function loadCell(b) {
  const load = Number(b.load) || 0;
  const max = Number(b.maxSessions) || 0;
  return el("span", { class: "load" },
    el("meter", { min: "0", max: String(Math.max(max, 1)), value: String(Math.min(load, Math.max(max, 1))),
      "aria-label": "Load " + load + " of " + max }),
    " " + load + " / " + max);
}

function updatedLine() {
  return el("p", { class: "muted small" }, "Updated " + new Date().toLocaleTimeString() + ".");
}

async function renderBackends(panel) {
  const r = await request("GET", "/gateway/admin/backends");
  if (!visible || activeTab !== "backends") return;
  const error = failure(r, "load the backends");
  if (error) return fill(panel, el("h3", {}, "Backends"), error);
  const items = (r.data && r.data.items) || [];
  const routable = items.filter((b) => ["healthy", "suspect"].includes(String(b.state).toLowerCase())).length;
  fill(panel,
    el("h3", {}, "Backends"),
    el("p", { class: "summary", id: "backends-summary" },
      items.length + (items.length === 1 ? " backend" : " backends") + ", " + routable + " healthy or suspect."),
    table({
      caption: "Backends",
      items,
      empty: "No session host has registered yet.",
      rowKey: (b) => b.backendId,
      columns: [
        { label: "Backend", render: (b) => el("span", { class: "mono" }, b.backendId) },
        { label: "Server URL", render: (b) => el("span", { class: "mono" }, b.serverUrl) },
        { label: "Health", render: (b) => stateBadge(b.state) },
        { label: "Status", render: (b) => b.status },
        { label: "Load", render: loadCell },
        { label: "Tags", render: (b) => listText(b.tags) },
        { label: "Capabilities", render: (b) => listText(b.capabilities) },
        { label: "Last heartbeat", render: (b) => el("time", { datetime: b.lastHeartbeatAt || "", title: formatDateTime(b.lastHeartbeatAt) }, formatAgo(b.lastHeartbeatAt)) },
      ],
    }),
    updatedLine());
}

async function renderSessions(panel) {
  const r = await request("GET", "/gateway/admin/sessions");
  if (!visible || activeTab !== "sessions") return;
  const error = failure(r, "load the sessions");
  if (error) return fill(panel, el("h3", {}, "Sessions"), error);
  const items = (r.data && r.data.items) || [];
  fill(panel,
    el("h3", {}, "Sessions"),
    el("p", { class: "summary" }, items.length + (items.length === 1 ? " session." : " sessions.")),
    table({
      caption: "Sessions",
      items,
      empty: "No live sessions.",
      rowKey: (s) => s.sessionId,
      columns: [
        { label: "Session", render: (s) => el("span", { class: "mono" }, s.sessionId) },
        { label: "User", render: (s) => s.username || s.userId },
        { label: "State", render: (s) => el("span", { class: "badge badge-" + s.state }, s.state) },
        { label: "Workspace", render: (s) => el("span", { class: "mono" }, s.workspaceId) },
        { label: "App", render: (s) => s.appId ? el("span", { class: "mono" }, s.appId) : "—" },
        { label: "Backend", render: (s) => el("span", { class: "mono" }, s.backendId) },
        { label: "WebSockets", render: (s) => String(s.openWebSockets ?? 0) },
        { label: "Created", render: (s) => formatDateTime(s.createdAt) },
        { label: "Last activity", render: (s) => formatAgo(s.lastActivityAt) },
      ],
    }),
    updatedLine());
}
