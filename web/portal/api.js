// api.js: the portal's only way to talk to the gateway over HTTP, and where the sign-in lives.
//
// The token is kept in sessionStorage (gone when the tab closes, never shared with other tabs, never in
// localStorage), and it only ever travels in the Authorization header — the one exception, the WebSocket
// ?token= that the gateway's contract requires, uses the session's connectToken (see live.js).

const TOKEN_KEY = "webstream.token";
const USER_KEY = "webstream.user";
const EXPIRES_KEY = "webstream.expiresAt";
const SESSION_KEY = "webstream.session";

// ---------------------------------------------------------------------------------------------- storage

function readJson(key) {
  try {
    const text = sessionStorage.getItem(key);
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

export const auth = {
  token() {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const expiresAt = Number(sessionStorage.getItem(EXPIRES_KEY) || 0);
    if (!token || (expiresAt && Date.now() >= expiresAt)) return null;
    return token;
  },
  user() {
    return readJson(USER_KEY);
  },
  isAdmin() {
    const user = this.user();
    return Boolean(user && Array.isArray(user.roles) && user.roles.includes("admin"));
  },
  save(login) {
    sessionStorage.setItem(TOKEN_KEY, login.token);
    sessionStorage.setItem(USER_KEY, JSON.stringify(login.user || {}));
    const seconds = Number(login.expiresIn) || 0;
    if (seconds > 0) sessionStorage.setItem(EXPIRES_KEY, String(Date.now() + seconds * 1000));
    else sessionStorage.removeItem(EXPIRES_KEY);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(USER_KEY);
    sessionStorage.removeItem(EXPIRES_KEY);
    sessionStorage.removeItem(SESSION_KEY);
  },
};

// The session this tab launched (so a reload can resume it): {sessionId, connectToken, workspace, app, …}.
export const currentSession = {
  get() {
    return readJson(SESSION_KEY);
  },
  set(value) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION_KEY);
  },
};

// A new X-Session-ID: 22 random characters of [A-Za-z0-9_-] (132 bits).
export function newSessionId() {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
  const bytes = new Uint8Array(22);
  crypto.getRandomValues(bytes);
  let id = "";
  for (const b of bytes) id += alphabet[b & 63];
  return id;
}

// ----------------------------------------------------------------------------------------------- calls

// Listeners told when any call answers 401 while signed in (the token expired or was revoked).
const unauthorizedListeners = new Set();
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

// request(method, path, {body, sessionId, signedIn = true, reportUnauthorized = true, timeoutMs = 15000})
// → {ok, status, data, error: {code, message} | null, retryAfter (seconds) | null}. Never throws:
// a network failure is {ok:false, status:0, error:{code:"network_error", …}}.
export async function request(method, path, options = {}) {
  const { body, sessionId, signedIn = true, reportUnauthorized = true, timeoutMs = 15000 } = options;
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const token = auth.token();
  if (signedIn && token) headers.Authorization = "Bearer " + token;
  if (sessionId) headers["X-Session-ID"] = sessionId;

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "same-origin",
      signal: controller.signal,
    });
  } catch (e) {
    clearTimeout(timer);
    const timedOut = e && e.name === "AbortError";
    return {
      ok: false,
      status: 0,
      data: null,
      retryAfter: null,
      error: {
        code: timedOut ? "timeout" : "network_error",
        message: timedOut ? "The gateway did not answer in time." : "The gateway cannot be reached.",
      },
    };
  }
  clearTimeout(timer);

  let data = null;
  const text = await response.text().catch(() => "");
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  const retryHeader = response.headers.get("Retry-After");
  const retryAfter = retryHeader !== null && /^\d+$/.test(retryHeader.trim()) ? Number(retryHeader) : null;
  let error = null;
  if (!response.ok) {
    const e = data && typeof data === "object" && data.error ? data.error : {};
    error = { code: String(e.code || "http_" + response.status), message: String(e.message || response.statusText || "") };
    // Signed-in calls only: a login's 401 is a wrong password, not an expired sign-in.
    if (response.status === 401 && signedIn && reportUnauthorized) {
      for (const listener of unauthorizedListeners) listener(error);
    }
  }
  return { ok: response.ok, status: response.status, data, error, retryAfter };
}

// ------------------------------------------------------------------------------------------- messages

function humanSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 90) return seconds + (seconds === 1 ? " second" : " seconds");
  const minutes = Math.ceil(seconds / 60);
  return minutes + " minutes";
}

// A sentence for a failed call, by status and the contract's error code. `what` names the action
// ("launch", "sign in", "load the workspaces", …).
export function describeError(result, what) {
  const code = result.error ? result.error.code : "";
  const detail = result.error && result.error.message ? " (" + result.error.message + ")" : "";
  switch (result.status) {
    case 0:
      return result.error.message + " Check your connection and try again.";
    case 400:
      return "The request to " + what + " was not accepted" + detail + ".";
    case 401:
      if (code === "invalid_credentials") return "Wrong username or password.";
      return "Your sign-in has expired or was revoked. Please sign in again.";
    case 403:
      if (code === "not_entitled") return "You are not entitled to launch this app. Ask your administrator for access.";
      if (code === "app_mismatch") return "This app's settings do not match the ones your administrator published. Reload the list and try again.";
      return "You are not allowed to " + what + detail + ".";
    case 404:
      if (code === "session_not_found") return "That session no longer exists.";
      return "Not found" + detail + ".";
    case 409:
      if (code === "concurrency_limit") {
        return "You already have as many sessions running as your policy allows. Release a session, then launch again.";
      }
      if (code === "session_conflict") return "That session belongs to someone else. A new session ID will be used; try again.";
      return "Conflict: could not " + what + detail + ".";
    case 429:
      return "Too many failed sign-in attempts. Try again in " + (humanSeconds(result.retryAfter) || "a few minutes") + ".";
    case 502:
    case 504:
      return "The session host is not responding" + detail + ". Try again shortly.";
    case 503:
      return "No session host is available right now" +
        (result.retryAfter ? "; retrying in " + humanSeconds(result.retryAfter) : "") + ".";
    default:
      return "Could not " + what + " (HTTP " + result.status + ")" + detail + ".";
  }
}
