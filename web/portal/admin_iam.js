// admin_iam.js: the IAM tabs of the administration view — users (create, disable/enable), apps and
// workspaces (create), entitlements (grant, remove). Lists are read with ?limit=500; the views say when
// there are more.

import { request, describeError, auth } from "./api.js";
import { el, fill, table, listText, announce } from "./ui.js";
import { failure } from "./admin.js";

const PAGE = 500;

async function list(path) {
  const r = await request("GET", path + "?limit=" + PAGE + "&offset=0");
  return { r, items: r.ok && r.data && Array.isArray(r.data.items) ? r.data.items : [], total: r.data ? r.data.total : 0 };
}

function moreNote(result, what) {
  return result.total > result.items.length
    ? el("p", { class: "muted small" }, "Showing the first " + result.items.length + " of " + result.total + " " + what + ".")
    : null;
}

let fieldCounter = 0;
function field(labelText, input, hint) {
  const id = input.id || "f" + (++fieldCounter);
  input.id = id;
  const hintId = hint ? id + "-hint" : null;
  if (hintId) input.setAttribute("aria-describedby", hintId);
  return el("div", { class: "field" }, el("label", { for: id }, labelText), input,
    hint ? el("span", { id: hintId, class: "muted small" }, hint) : null);
}

function select(name, options, value) {
  return el("select", { name }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)));
}

// A form that POSTs and then re-renders the panel. build(form) returns the body, or a string error.
function createForm({ title, fields, submitLabel, path, build, onDone, what }) {
  const message = el("p", { class: "form-error", role: "alert", hidden: true });
  const button = el("button", { type: "submit", class: "button-primary" }, submitLabel);
  const form = el("form", { class: "card form-grid", novalidate: true, "aria-label": title },
    el("h4", {}, title), fields, message, el("div", { class: "button-row" }, button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.hidden = true;
    const body = build(form);
    if (typeof body === "string") {
      message.textContent = body;
      message.hidden = false;
      return;
    }
    button.disabled = true;
    const r = await request("POST", path, { body });
    button.disabled = false;
    if (!r.ok) {
      message.textContent = describeError(r, what);
      message.hidden = false;
      return;
    }
    announce(title.replace(/^Add an? /, "").replace(/^Grant /, "") + " created.");
    await onDone();
  });
  return form;
}

function value(form, name) {
  const input = form.elements.namedItem(name);
  return input ? input.value.trim() : "";
}

function commaList(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function checkboxGroup(legend, name, options, hint) {
  return el("fieldset", { class: "checks" }, el("legend", {}, legend),
    options.length ? options.map(([v, text]) => el("label", { class: "inline-check" },
      el("input", { type: "checkbox", name, value: v }), " " + text)) : el("span", { class: "muted small" }, "None yet."),
    hint ? el("span", { class: "muted small" }, hint) : null);
}

function checked(form, name) {
  return [...form.querySelectorAll("input[name='" + name + "']:checked")].map((i) => i.value);
}

// ---------------------------------------------------------------------------------------------- users

export async function renderUsers(panel) {
  const users = await list("/iam/users");
  const error = failure(users.r, "load the users");
  if (error) return fill(panel, el("h3", {}, "Users"), error);
  const me = auth.user() || {};
  const toggle = (user) => el("button", {
    type: "button",
    class: user.disabled ? "button-quiet" : "button-danger-quiet",
    disabled: user.id === me.id,
    title: user.id === me.id ? "You cannot disable yourself." : null,
    "aria-label": (user.disabled ? "Enable " : "Disable ") + user.username,
    onclick: async (event) => {
      event.currentTarget.disabled = true;
      const r = await request("PATCH", "/iam/users/" + encodeURIComponent(user.id), { body: { disabled: !user.disabled } });
      if (!r.ok) {
        panel.prepend(el("p", { class: "form-error", role: "alert" }, describeError(r, "change the user")));
        return;
      }
      announce(user.username + (user.disabled ? " enabled." : " disabled."));
      await renderUsers(panel);
    },
  }, user.disabled ? "Enable" : "Disable");

  const form = createForm({
    title: "Add a user",
    what: "create the user",
    path: "/iam/users",
    submitLabel: "Add user",
    fields: [
      field("Username", el("input", { name: "username", autocomplete: "off", required: true })),
      field("Display name", el("input", { name: "displayName", autocomplete: "off" })),
      field("Password", el("input", { name: "password", type: "password", autocomplete: "new-password", required: true })),
      field("Role", select("role", [["user", "User"], ["org-admin", "Organisation admin"], ["admin", "Admin"]], "user")),
    ],
    build: (f) => {
      if (!value(f, "username")) return "Enter a username.";
      if (!f.elements.namedItem("password").value) return "Enter a password.";
      const body = { username: value(f, "username"), password: f.elements.namedItem("password").value, roles: [value(f, "role")] };
      if (value(f, "displayName")) body.displayName = value(f, "displayName");
      return body;
    },
    onDone: () => renderUsers(panel),
  });

  fill(panel,
    el("h3", {}, "Users"),
    table({
      caption: "Users",
      items: users.items,
      rowKey: (u) => u.id,
      columns: [
        { label: "Username", render: (u) => u.username },
        { label: "Display name", render: (u) => u.displayName },
        { label: "Roles", render: (u) => listText(u.roles) },
        { label: "Organisation", render: (u) => el("span", { class: "mono" }, u.orgId) },
        { label: "State", render: (u) => el("span", { class: "badge " + (u.disabled ? "badge-disabled" : "badge-active") }, u.disabled ? "disabled" : "active") },
        { label: "Action", render: toggle },
      ],
    }),
    moreNote(users, "users"),
    form);
}

// ------------------------------------------------------------------------------------ workspaces, apps

export async function renderWorkspaces(panel) {
  const [apps, workspaces] = await Promise.all([list("/iam/apps"), list("/iam/workspaces")]);
  const error = failure(apps.r, "load the apps") || failure(workspaces.r, "load the workspaces");
  if (error) return fill(panel, el("h3", {}, "Workspaces & apps"), error);
  const appName = new Map(apps.items.map((a) => [a.id, a.name]));

  const appForm = createForm({
    title: "Add an app",
    what: "create the app",
    path: "/iam/apps",
    submitLabel: "Add app",
    fields: [
      field("Name", el("input", { name: "name", autocomplete: "off", required: true })),
      field("Executable", el("input", { name: "exe", autocomplete: "off", class: "mono" })),
      field("Arguments", el("input", { name: "args", autocomplete: "off", class: "mono" })),
    ],
    build: (f) => (value(f, "name") ? { name: value(f, "name"), exe: value(f, "exe"), args: value(f, "args") } : "Enter a name."),
    onDone: () => renderWorkspaces(panel),
  });
  const workspaceForm = createForm({
    title: "Add a workspace",
    what: "create the workspace",
    path: "/iam/workspaces",
    submitLabel: "Add workspace",
    fields: [
      field("Name", el("input", { name: "name", autocomplete: "off", required: true })),
      field("Type", select("type", [["desktop", "Desktop"], ["app", "App"]], "desktop")),
      checkboxGroup("Apps", "apps", apps.items.map((a) => [a.id, a.name])),
      field("Required tags", el("input", { name: "requiredTags", autocomplete: "off" }), "Comma-separated; a backend needs all of them."),
      field("Required capabilities", el("input", { name: "requiredCapabilities", autocomplete: "off" }), "Comma-separated."),
    ],
    build: (f) => (value(f, "name") ? {
      name: value(f, "name"),
      type: value(f, "type"),
      apps: checked(f, "apps"),
      requiredTags: commaList(value(f, "requiredTags")),
      requiredCapabilities: commaList(value(f, "requiredCapabilities")),
    } : "Enter a name."),
    onDone: () => renderWorkspaces(panel),
  });

  fill(panel,
    el("h3", {}, "Workspaces"),
    table({
      caption: "Workspaces",
      items: workspaces.items,
      rowKey: (w) => w.id,
      columns: [
        { label: "Name", render: (w) => w.name },
        { label: "Type", render: (w) => w.type },
        { label: "Apps", render: (w) => listText((w.apps || []).map((id) => appName.get(id) || id)) },
        { label: "Required tags", render: (w) => listText(w.requiredTags) },
        { label: "Required capabilities", render: (w) => listText(w.requiredCapabilities) },
        { label: "ID", render: (w) => el("span", { class: "mono" }, w.id) },
      ],
    }),
    moreNote(workspaces, "workspaces"),
    el("h3", {}, "Apps"),
    table({
      caption: "Apps",
      items: apps.items,
      rowKey: (a) => a.id,
      columns: [
        { label: "Name", render: (a) => a.name },
        { label: "Executable", render: (a) => el("span", { class: "mono" }, a.exe || "") },
        { label: "Arguments", render: (a) => el("span", { class: "mono" }, a.args || "") },
        { label: "ID", render: (a) => el("span", { class: "mono" }, a.id) },
      ],
    }),
    moreNote(apps, "apps"),
    el("div", { class: "form-pair" }, workspaceForm, appForm));
}

// ------------------------------------------------------------------------------------- entitlements

export async function renderEntitlements(panel) {
  const [ents, users, groups, orgs, workspaces, apps, policies] = await Promise.all(
    ["/iam/entitlements", "/iam/users", "/iam/groups", "/iam/orgs", "/iam/workspaces", "/iam/apps", "/iam/policies"].map(list));
  const error = failure(ents.r, "load the entitlements") || failure(workspaces.r, "load the workspaces");
  if (error) return fill(panel, el("h3", {}, "Entitlements"), error);
  const names = {
    user: new Map(users.items.map((u) => [u.id, u.username])),
    group: new Map(groups.items.map((g) => [g.id, g.name])),
    org: new Map(orgs.items.map((o) => [o.id, o.name])),
  };
  const wsName = new Map(workspaces.items.map((w) => [w.id, w.name]));
  const appName = new Map(apps.items.map((a) => [a.id, a.name]));
  const policyName = new Map(policies.items.map((p) => [p.id, p.name]));

  const remove = (e) => el("button", {
    type: "button",
    class: "button-danger-quiet",
    "aria-label": "Remove entitlement of " + (names[e.subjectType]?.get(e.subjectId) || e.subjectId) + " to " + (wsName.get(e.workspaceId) || e.workspaceId),
    onclick: async () => {
      if (!window.confirm("Remove this entitlement?")) return;
      const r = await request("DELETE", "/iam/entitlements/" + encodeURIComponent(e.id));
      if (!r.ok) {
        panel.prepend(el("p", { class: "form-error", role: "alert" }, describeError(r, "remove the entitlement")));
        return;
      }
      announce("Entitlement removed.");
      await renderEntitlements(panel);
    },
  }, "Remove");

  const subjectOptions = (type) => [...names[type].entries()].map(([id, name]) => [id, name]);
  const subjectSelect = select("subjectId", subjectOptions("user"));
  const typeSelect = select("subjectType", [["user", "User"], ["group", "Group"], ["org", "Organisation"]], "user");
  typeSelect.addEventListener("change", () => {
    subjectSelect.replaceChildren(...subjectOptions(typeSelect.value).map(([v, t]) => el("option", { value: v }, t)));
  });
  const form = createForm({
    title: "Grant a workspace",
    what: "create the entitlement",
    path: "/iam/entitlements",
    submitLabel: "Grant",
    fields: [
      field("Subject type", typeSelect),
      field("Subject", subjectSelect),
      field("Workspace", select("workspaceId", workspaces.items.map((w) => [w.id, w.name]))),
      checkboxGroup("Apps", "appIds", apps.items.map((a) => [a.id, a.name]), "None checked: every app of the workspace."),
      field("Policy", select("policyId", [["", "Default"], ...policies.items.map((p) => [p.id, p.name])], "")),
    ],
    build: (f) => {
      if (!value(f, "subjectId")) return "Choose a subject.";
      if (!value(f, "workspaceId")) return "Choose a workspace (add one first).";
      const body = { subjectType: value(f, "subjectType"), subjectId: value(f, "subjectId"), workspaceId: value(f, "workspaceId"), appIds: checked(f, "appIds") };
      if (value(f, "policyId")) body.policyId = value(f, "policyId");
      return body;
    },
    onDone: () => renderEntitlements(panel),
  });

  fill(panel,
    el("h3", {}, "Entitlements"),
    table({
      caption: "Entitlements",
      items: ents.items,
      rowKey: (e) => e.id,
      columns: [
        { label: "Subject", render: (e) => e.subjectType + ": " + (names[e.subjectType]?.get(e.subjectId) || e.subjectId) },
        { label: "Workspace", render: (e) => wsName.get(e.workspaceId) || e.workspaceId },
        { label: "Apps", render: (e) => (e.appIds && e.appIds.length ? listText(e.appIds.map((id) => appName.get(id) || id)) : "all") },
        { label: "Policy", render: (e) => (e.policyId ? policyName.get(e.policyId) || e.policyId : "default") },
        { label: "Action", render: remove },
      ],
    }),
    moreNote(ents, "entitlements"),
    form);
}
