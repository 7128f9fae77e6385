// ui.js: small DOM helpers shared by the portal's views. Everything is built with createElement and
// textContent — never innerHTML with data — so names coming from the server cannot inject markup.

export function $(id) {
  return document.getElementById(id);
}

// el("button", {class: "primary", type: "button", onclick: fn, "aria-label": "…"}, "text", child, …)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Screen-reader announcement through the page's polite live region.
export function announce(message) {
  const region = $("announcer");
  region.textContent = "";
  // A new text node after a tick makes screen readers read the same message twice in a row.
  setTimeout(() => {
    region.textContent = message;
  }, 30);
}

// The visible message bar at the top of the main area. kind: "error" | "warning" | "info" | "success".
// Errors use role=alert (read at once); others are polite.
export function notify(kind, message, { actionLabel, onAction } = {}) {
  const bar = $("notice");
  bar.replaceChildren();
  bar.className = "notice notice-" + kind;
  bar.setAttribute("role", kind === "error" ? "alert" : "status");
  bar.append(el("span", { class: "notice-text" }, message));
  if (actionLabel && onAction) {
    bar.append(el("button", { type: "button", class: "link-button", onclick: onAction }, actionLabel));
  }
  bar.append(
    el("button", { type: "button", class: "notice-close", "aria-label": "Dismiss message", onclick: clearNotice }, "×"),
  );
  bar.hidden = false;
}

export function clearNotice() {
  const bar = $("notice");
  bar.hidden = true;
  bar.replaceChildren();
}

// Shows one of the main views (sections with class "view") and moves focus to its heading.
export function showView(id, { focus = true } = {}) {
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== id;
  for (const link of document.querySelectorAll("[data-view-link]")) {
    if (link.dataset.viewLink === id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (focus) {
    const heading = document.querySelector("#" + id + " h2");
    if (heading) heading.focus({ preventScroll: false });
  }
}

export function formatDateTime(value) {
  if (!value) return "—";
  const date = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
}

// "12 s ago", "3 min ago", … for a timestamp (ISO string, or seconds/ms since the epoch).
export function formatAgo(value, now = Date.now()) {
  if (!value) return "never";
  const date = typeof value === "number" ? new Date(value < 1e12 ? value * 1000 : value) : new Date(value);
  const ms = now - date.getTime();
  if (Number.isNaN(ms)) return String(value);
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + " s ago";
  if (s < 3600) return Math.floor(s / 60) + " min ago";
  if (s < 86400) return Math.floor(s / 3600) + " h ago";
  return Math.floor(s / 86400) + " d ago";
}

// A setTimeout that can be awaited and cancelled: await sleep(ms, signal).
export function sleep(ms, signal) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    if (signal) signal.addEventListener("abort", () => { clearTimeout(timer); resolve(); }, { once: true });
  });
}

// Replaces a container's children, skipping null/undefined/false (replaceChildren would print "null").
export function fill(container, ...children) {
  container.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

// A data table inside a horizontally scrollable, keyboard-focusable region (for narrow screens).
// columns: [{label, render(item) → Node|string, class?}]
export function table({ caption, columns, items, empty = "Nothing to show.", rowKey }) {
  if (!items.length) return el("p", { class: "muted empty" }, empty);
  const head = el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.class }, c.label)));
  const rows = items.map((item) => el("tr", rowKey ? { "data-key": rowKey(item) } : {},
    columns.map((c, i) => {
      const value = c.render(item);
      const content = value === undefined || value === null || value === "" ? "—" : value;
      return i === 0 ? el("th", { scope: "row", class: c.class }, content) : el("td", { class: c.class }, content);
    })));
  return el("div", { class: "table-scroll", role: "region", "aria-label": caption, tabindex: "0" },
    el("table", {}, el("caption", { class: "visually-hidden" }, caption), el("thead", {}, head), el("tbody", {}, rows)));
}

// "a, b, c" for a list, "—" when empty.
export function listText(values) {
  return Array.isArray(values) && values.length ? values.join(", ") : "—";
}
