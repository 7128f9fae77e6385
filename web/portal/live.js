// live.js: one launched session in this tab — the three WebSockets (/capture, /control, /audio), the test
// pattern on the canvas, input with its echo round-trip time, session status, and reconnecting after a drop.
//
// Reconnect rule: when a socket closes without us asking (1006 abnormal, 1011 backend gone, 1001 gateway
// restarting, …), ask GET /gateway/session/status first. 401: signed out. 404 or a final state
// (released/expired/ended): the session is over. Otherwise wait (0.5 s, 1 s, 2 s, 4 s, 8 s, then 15 s, with
// jitter) and reopen the closed sockets. One recovery runs at a time for all three sockets.

import { request, describeError } from "./api.js";
import { $, el, announce, formatDateTime, sleep } from "./ui.js";
import { parseFrame, AudioPlayer } from "./media.js";

const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];
const STATUS_POLL_MS = 5000;
const PING_INTERVAL_MS = 2000;
const POINTER_MIN_INTERVAL_MS = 33;
const STABLE_AFTER_MS = 5000;
const FINAL_STATES = new Set(["released", "expired", "ended"]);
const CHANNEL_LABELS = { capture: "screen", control: "input", audio: "audio" };

export function socketUrl(channel, sessionId, connectToken) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const query = "sessionId=" + encodeURIComponent(sessionId) + "&token=" + encodeURIComponent(connectToken);
  return scheme + "//" + location.host + "/" + channel + "?" + query;
}

export class LiveSession {
  // session: the select answer plus {workspaceName, appName, policy}.
  // hooks: {onEnded(message), onSignedOut(message), onStateChange(state)}.
  constructor(session, hooks) {
    this.session = session;
    this.hooks = hooks;
    const policy = session.policy || {};
    this.channels = policy.audio === false ? ["capture", "control"] : ["capture", "control", "audio"];
    this.sockets = {};
    this.stopped = false;
    this.recovering = false;
    this.attempt = 0;
    this.lastCloseCode = null;
    this.skipWait = null;
    this.timers = [];
    this.state = session.state || "reserved";
    this.stats = { frames: 0, badFrames: 0, frameTimes: [], delayMs: null, rtt: [], audioFrames: 0 };
    this.pending = new Map();
    this.seq = 0;
    this.lastPointerSend = 0;
    this.pendingFrame = null;
    this.drawScheduled = false;
    this.canvas = $("screen");
    this.context = this.canvas.getContext("2d", { alpha: false });
    this.audio = new AudioPlayer();
    this.listeners = [];
  }

  start() {
    this.renderStatic();
    this.bindInput();
    for (const channel of this.channels) this.open(channel);
    this.timers.push(setInterval(() => this.renderStats(), 500));
    this.timers.push(setInterval(() => this.sendPing(), PING_INTERVAL_MS));
    this.timers.push(setInterval(() => this.pollStatus(), STATUS_POLL_MS));
    this.pollStatus();
  }

  // Closes everything for good (release, sign-out, session over). No reconnect after this.
  stop(reason = "closed by the user") {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    if (this.skipWait) this.skipWait.abort();
    for (const [target, type, fn] of this.listeners) target.removeEventListener(type, fn);
    this.listeners = [];
    for (const ws of Object.values(this.sockets)) {
      if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, reason.slice(0, 100));
    }
    this.sockets = {};
    this.audio.stop();
    $("reconnect-banner").hidden = true;
    this.renderConnection();
  }

  async release() {
    this.stop("released");
    return request("POST", "/gateway/session/release", { sessionId: this.session.sessionId });
  }

  // ------------------------------------------------------------------------------------------ sockets

  open(channel) {
    const ws = new WebSocket(socketUrl(channel, this.session.sessionId, this.session.connectToken));
    ws.binaryType = "arraybuffer";
    this.sockets[channel] = ws;
    ws.addEventListener("open", () => {
      if (this.sockets[channel] !== ws) return;
      this.renderConnection();
      if (this.allOpen()) this.onAllOpen();
    });
    ws.addEventListener("message", (event) => this.onMessage(channel, event));
    ws.addEventListener("close", (event) => {
      if (this.sockets[channel] !== ws) return;
      this.sockets[channel] = null;
      this.renderConnection();
      if (!this.stopped) this.onDrop(channel, event.code, event.reason);
    });
  }

  isOpen(channel) {
    const ws = this.sockets[channel];
    return Boolean(ws && ws.readyState === WebSocket.OPEN);
  }

  allOpen() {
    return this.channels.every((c) => this.isOpen(c));
  }

  onAllOpen() {
    const reconnected = this.attempt > 0;
    this.setState("active");
    if (reconnected) {
      this.showBanner("Reconnected.", false);
      announce("Reconnected to the session.");
      const banner = setTimeout(() => { if (!this.recovering) $("reconnect-banner").hidden = true; }, 3000);
      this.timers.push(banner);
    } else {
      announce("Connected to the session.");
    }
    // Reset the backoff only once the connection has stayed up for a while (a host that accepts and then
    // drops at once must not be hammered).
    const attemptAtOpen = this.attempt;
    this.timers.push(setTimeout(() => {
      if (this.allOpen() && this.attempt === attemptAtOpen) this.attempt = 0;
    }, STABLE_AFTER_MS));
  }

  onDrop(channel, code, reason) {
    this.lastCloseCode = code;
    if (!this.recovering) this.recover(channel, code, reason);
  }

  async recover(channel, code, reason) {
    this.recovering = true;
    for (;;) {
      const why = "Connection to the session host lost (" + CHANNEL_LABELS[channel] + ", code " + code +
        (reason ? ": " + reason : "") + ").";
      this.setState("reconnecting");
      this.showBanner(why + " Checking the session…", false);
      const verdict = await this.preflight();
      if (this.stopped) return;
      if (verdict.stop) {
        this.recovering = false;
        return;
      }
      const base = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
      const delay = Math.round(base * (0.8 + Math.random() * 0.4));
      this.attempt += 1;
      const hostNote = verdict.backendHealthy === false ? " The session host is not responding." : "";
      this.showBanner(why + hostNote + " Reconnecting in " + Math.max(1, Math.round(delay / 1000)) +
        " s (attempt " + this.attempt + ")…", true);
      announce("Connection lost. Reconnecting, attempt " + this.attempt + ".");
      this.skipWait = new AbortController();
      await sleep(delay, this.skipWait.signal);
      this.skipWait = null;
      if (this.stopped) return;
      this.showBanner("Reconnecting (attempt " + this.attempt + ")…", false);
      for (const c of this.channels) {
        if (!this.sockets[c]) this.open(c);
      }
      // Wait for every socket to open or one to fail again; a failure loops with a longer wait.
      const outcome = await this.waitOpenOrDrop();
      if (this.stopped) return;
      if (outcome.open) {
        this.recovering = false;
        return;
      }
      channel = outcome.channel;
      code = outcome.code;
      reason = "";
    }
  }

  waitOpenOrDrop() {
    return new Promise((resolve) => {
      const check = setInterval(() => {
        if (this.stopped) { clearInterval(check); resolve({ open: false }); return; }
        if (this.allOpen()) { clearInterval(check); resolve({ open: true }); return; }
        const down = this.channels.find((c) => !this.sockets[c]);
        if (down) {
          clearInterval(check);
          // Close the others that are still connecting so the next attempt starts clean.
          resolve({ open: false, channel: down, code: this.lastCloseCode });
        }
      }, 100);
    });
  }

  // GET /gateway/session/status: decides whether reconnecting makes sense. Network errors and 5xx keep
  // trying (the gateway may be restarting).
  async preflight() {
    const r = await request("GET", "/gateway/session/status", { sessionId: this.session.sessionId });
    if (this.stopped) return { stop: true };
    if (r.status === 401) {
      this.stop("signed out");
      this.hooks.onSignedOut(describeError(r, "check the session"));
      return { stop: true };
    }
    if (r.status === 404) {
      this.stop("session gone");
      this.hooks.onEnded("The session no longer exists on the gateway. Launch it again.");
      return { stop: true };
    }
    if (r.ok && r.data) {
      this.applyStatus(r.data);
      if (FINAL_STATES.has(r.data.state)) {
        this.stop("session " + r.data.state);
        this.hooks.onEnded("The session has " + r.data.state + ". Launch it again to continue.");
        return { stop: true };
      }
      return { stop: false, backendHealthy: r.data.backendHealthy };
    }
    return { stop: false };
  }

  async pollStatus() {
    if (this.stopped || this.recovering) return;
    const r = await request("GET", "/gateway/session/status", { sessionId: this.session.sessionId });
    if (this.stopped || this.recovering) return;
    if (r.status === 401) {
      this.stop("signed out");
      this.hooks.onSignedOut(describeError(r, "check the session"));
    } else if (r.status === 404) {
      this.stop("session gone");
      this.hooks.onEnded("The session no longer exists on the gateway. Launch it again.");
    } else if (r.ok && r.data) {
      this.applyStatus(r.data);
      if (FINAL_STATES.has(r.data.state)) {
        this.stop("session " + r.data.state);
        this.hooks.onEnded("The session has " + r.data.state + ". Launch it again to continue.");
      }
    }
  }

  applyStatus(status) {
    if (!this.recovering || FINAL_STATES.has(status.state)) this.setState(status.state);
    this.renderHost(status.backendId || this.session.backendId, status.backendHealthy);
    if (status.createdAt) $("st-created").textContent = formatDateTime(status.createdAt);
  }

  // "Healthy" / "Not responding" over the backend's id (long: cut with an ellipsis, whole in the tooltip).
  renderHost(backendId, healthy) {
    const health = healthy === true ? "Healthy" : healthy === false ? "Not responding" : "—";
    $("st-backend").replaceChildren(el("span", { class: healthy === false ? "text-danger" : null }, health),
      backendId ? el("span", { class: "mono small host-id", title: backendId }, backendId) : "");
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    const badge = $("st-state");
    badge.textContent = state;
    badge.className = "badge badge-" + state;
    if (this.hooks.onStateChange) this.hooks.onStateChange(state);
  }

  showBanner(text, withButton) {
    $("reconnect-text").textContent = text;
    $("reconnect-now").hidden = !withButton;
    $("reconnect-banner").hidden = false;
  }

  reconnectNow() {
    if (this.skipWait) this.skipWait.abort();
  }

  // ------------------------------------------------------------------------------------------ messages

  onMessage(channel, event) {
    if (channel === "capture") {
      if (!(event.data instanceof ArrayBuffer)) return;
      const frame = parseFrame(event.data);
      if (!frame) {
        this.stats.badFrames += 1;
        return;
      }
      this.stats.frames += 1;
      this.stats.frameTimes.push(performance.now());
      if (frame.timestampMs) this.stats.delayMs = Date.now() - frame.timestampMs;
      this.pendingFrame = frame;
      if (!this.drawScheduled) {
        this.drawScheduled = true;
        requestAnimationFrame(() => this.draw());
      }
    } else if (channel === "control") {
      if (typeof event.data !== "string") return;
      let msg;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      const sentAt = this.pending.get(msg.seq);
      if (sentAt === undefined) return;
      this.pending.delete(msg.seq);
      this.stats.rtt.push(performance.now() - sentAt);
      if (this.stats.rtt.length > 20) this.stats.rtt.shift();
    } else if (channel === "audio") {
      if (!(event.data instanceof ArrayBuffer)) return;
      this.stats.audioFrames += 1;
      this.audio.push(event.data);
    }
  }

  draw() {
    this.drawScheduled = false;
    const frame = this.pendingFrame;
    this.pendingFrame = null;
    if (!frame || this.stopped) return;
    if (this.canvas.width !== frame.width || this.canvas.height !== frame.height) {
      this.canvas.width = frame.width;
      this.canvas.height = frame.height;
    }
    this.context.putImageData(new ImageData(frame.pixels, frame.width, frame.height), 0, 0);
    this.canvas.dataset.frame = String(frame.counter);
  }

  // --------------------------------------------------------------------------------------------- input

  send(message) {
    const ws = this.sockets.control;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    this.seq += 1;
    const now = performance.now();
    const full = { ...message, seq: this.seq, t: Math.round(now * 1000) / 1000, sentAt: Date.now() };
    this.pending.set(this.seq, now);
    // Echoes that never come back must not grow the map without bound.
    if (this.pending.size > 200) this.pending.delete(this.pending.keys().next().value);
    ws.send(JSON.stringify(full));
    return true;
  }

  sendPing() {
    this.send({ type: "ping" });
  }

  listen(target, type, fn, options) {
    target.addEventListener(type, fn, options);
    this.listeners.push([target, type, fn]);
  }

  bindInput() {
    const canvas = this.canvas;
    const position = (event) => {
      const rect = canvas.getBoundingClientRect();
      const x = Math.round(((event.clientX - rect.left) / Math.max(1, rect.width)) * canvas.width);
      const y = Math.round(((event.clientY - rect.top) / Math.max(1, rect.height)) * canvas.height);
      return { x: Math.max(0, Math.min(canvas.width - 1, x)), y: Math.max(0, Math.min(canvas.height - 1, y)) };
    };
    this.listen(canvas, "pointermove", (event) => {
      const now = performance.now();
      if (now - this.lastPointerSend < POINTER_MIN_INTERVAL_MS) return;
      this.lastPointerSend = now;
      this.send({ type: "mouse_move", ...position(event), buttons: event.buttons });
    });
    this.listen(canvas, "pointerdown", (event) => {
      canvas.focus();
      this.send({ type: "mouse_down", ...position(event), button: event.button });
    });
    this.listen(canvas, "pointerup", (event) => this.send({ type: "mouse_up", ...position(event), button: event.button }));
    this.listen(canvas, "wheel", (event) => {
      event.preventDefault();
      this.send({ type: "mouse_wheel", dx: Math.round(event.deltaX), dy: Math.round(event.deltaY) });
    }, { passive: false });
    this.listen(canvas, "contextmenu", (event) => event.preventDefault());
    const key = (type) => (event) => {
      // Tab and Shift+Tab stay with the browser so keyboard users can always leave the screen.
      if (event.key === "Tab") return;
      event.preventDefault();
      this.send({
        type, key: event.key, code: event.code,
        modifiers: { alt: event.altKey, ctrl: event.ctrlKey, meta: event.metaKey, shift: event.shiftKey },
      });
    };
    this.listen(canvas, "keydown", key("key_down"));
    this.listen(canvas, "keyup", key("key_up"));
  }

  toggleSound() {
    const on = this.audio.toggle();
    const button = $("sound-button");
    button.setAttribute("aria-pressed", String(on));
    button.textContent = on ? "Sound on" : "Sound off";
    announce(on ? "Sound on." : "Sound off.");
  }

  // -------------------------------------------------------------------------------------------- render

  renderStatic() {
    const s = this.session;
    $("session-title").textContent = [s.workspaceName, s.appName].filter(Boolean).join(" — ") || "Session";
    $("st-session-id").textContent = s.sessionId;
    this.renderHost(s.backendId, undefined);
    $("st-state").textContent = this.state;
    $("st-state").className = "badge badge-" + this.state;
    $("st-frames").textContent = "0";
    for (const id of ["st-fps", "st-delay", "st-rtt", "st-audio", "st-created"]) $(id).textContent = "—";
    if (!this.channels.includes("audio")) $("st-audio").textContent = "Off (policy)";
    $("sound-button").hidden = !this.channels.includes("audio");
    $("reconnect-banner").hidden = true;
    // A new session starts from a black screen, not the previous session's last picture.
    this.context.fillStyle = "#000";
    this.context.fillRect(0, 0, this.canvas.width, this.canvas.height);
    delete this.canvas.dataset.frame;
    delete $("st-rtt").dataset.ms;
    this.renderConnection();
  }

  renderConnection() {
    const parts = this.channels.map((c) => {
      const ws = this.sockets[c];
      const state = !ws ? "closed" : ws.readyState === WebSocket.OPEN ? "open" : ws.readyState === WebSocket.CONNECTING ? "connecting" : "closed";
      return CHANNEL_LABELS[c] + " " + state;
    });
    $("st-connection").textContent = this.allOpen()
      ? "Connected (" + this.channels.map((c) => CHANNEL_LABELS[c]).join(", ") + ")"
      : parts.join(", ");
    $("st-connection").dataset.open = String(this.allOpen());
    // The last picture stays, greyed out, while the screen socket is down.
    this.canvas.parentElement.classList.toggle("stale", !this.stopped && !this.isOpen("capture"));
  }

  renderStats() {
    const now = performance.now();
    const times = this.stats.frameTimes;
    while (times.length && now - times[0] > 2000) times.shift();
    $("st-frames").textContent = String(this.stats.frames) + (this.stats.badFrames ? " (" + this.stats.badFrames + " unreadable)" : "");
    $("st-fps").textContent = times.length ? (times.length / 2).toFixed(1) + " fps" : "—";
    $("st-delay").textContent = this.stats.delayMs === null ? "—" : Math.max(0, this.stats.delayMs) + " ms";
    const rtt = this.stats.rtt;
    if (rtt.length) {
      const last = rtt[rtt.length - 1];
      const avg = rtt.reduce((a, b) => a + b, 0) / rtt.length;
      $("st-rtt").textContent = last.toFixed(1) + " ms (average " + avg.toFixed(1) + " ms)";
      $("st-rtt").dataset.ms = last.toFixed(3);
    }
    if (this.channels.includes("audio")) {
      $("st-audio").textContent = this.stats.audioFrames
        ? this.stats.audioFrames + " packets" + (this.audio.on ? ", playing" : ", muted") : "—";
    }
  }
}
