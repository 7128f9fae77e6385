"""End-to-end test harness: the real `webstream` binary and `webstream-sim` on 127.0.0.1.

Standard library only. What it offers:

  ports        free_port(), free_ports(n)
  waiting      wait_until(predicate, timeout, interval, message)
  config       write_config(directory, port, ...) -> path of a temp app.config.xml (SQLite store beside it)
  gateway      GatewayProcess(config_path).start() / .stop() -> (exit_code, stdout, stderr);
               Gateway(...) = temp dir + config + process, .restart() keeps the store;
               run_gateway_once(args, ...) for a process that should exit by itself (bad config, --help)
  sim          SimProcess(gateway_url, hosts=..., args=[...]).start() -> host_ready events;
               .sim_get(i, path), .sim_post(i, path, body), .stop(), .kill()
  HTTP         http_request(port, method, path, headers, body) -> HttpResponse (headers as a list);
               raw_exchange(port, data) -> bytes; parse_response(bytes) -> HttpResponse
  WebSocket    WebSocket.connect(port, path, headers) -> WebSocket (send_text/send_binary/send_ping/
               send_close/send_frame, recv() with fragment reassembly, close())
  gateway API  login(port, username, password) -> token; parse_metrics(text); metric_value(...)

Environment:
  WEBSTREAM_BIN             gateway binary (default build/release/src/app/webstream)
  WEBSTREAM_SIM_BIN         simulator binary (default build/release/tools/sim/webstream-sim)
  WEBSTREAM_ADMIN_PASSWORD  the admin password given to the gateway (default ADMIN_PASSWORD below)
  WEBSTREAM_E2E_KEEP=1      keep temp directories (configs, stores, process logs) after the tests
"""

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import tempfile
import threading
import time
from xml.sax.saxutils import quoteattr

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LOCALHOST = "127.0.0.1"
ADMIN_USER = "admin"
ADMIN_PASSWORD = os.environ.get("WEBSTREAM_ADMIN_PASSWORD") or "E2e-admin-Pa55word!"
HEALTH_TIMEOUT = 20.0
STOP_GRACE = 10.0


def gateway_bin():
    return os.environ.get("WEBSTREAM_BIN") or os.path.join(REPO_ROOT, "build", "release", "src", "app", "webstream")


def sim_bin():
    return os.environ.get("WEBSTREAM_SIM_BIN") or os.path.join(
        REPO_ROOT, "build", "release", "tools", "sim", "webstream-sim")


def keep_temp():
    return os.environ.get("WEBSTREAM_E2E_KEEP", "") not in ("", "0")


# ---------------------------------------------------------------------------------------------- waiting


def wait_until(predicate, timeout=10.0, interval=0.05, message=None):
    """Calls predicate() until it returns a truthy value, which is returned. Raises AssertionError after
    `timeout` seconds with `message` and the last value (or the last exception the predicate raised)."""
    deadline = time.monotonic() + timeout
    last = None
    last_error = None
    while True:
        try:
            last = predicate()
            last_error = None
            if last:
                return last
        except Exception as e:  # a probe that fails while the system settles is retried
            last_error = e
        if time.monotonic() >= deadline:
            detail = "last value: %r" % (last,)
            if last_error is not None:
                detail = "last error: %r" % (last_error,)
            raise AssertionError("timed out after %.1f s waiting for %s (%s)" % (
                timeout, message or getattr(predicate, "__name__", "condition"), detail))
        time.sleep(interval)


# ------------------------------------------------------------------------------------------------ ports


def together(calls):
    """Runs every call at once (a barrier releases them together); returns their results in order."""
    results = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i):
        barrier.wait()
        results[i] = calls[i]()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def free_ports(n):
    """n distinct TCP ports that were free on 127.0.0.1 a moment ago (all bound at once, then released)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((LOCALHOST, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port():
    return free_ports(1)[0]


def port_accepts(port, host=LOCALHOST, timeout=0.5):
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# ----------------------------------------------------------------------------------------------- config


# Every gateway the tests start hashes passwords at OWASP's minimum argon2id cost (19 MiB x 2 passes), the lowest
# that accessManagement allows, instead of the default 64 MiB x 3: the tests create and log in hundreds of users,
# and at the default cost their hashes were about half of the end-to-end files' CPU (226 -> 111 CPU s for
# `ctest -L e2e`, 2026-12-04 20:45 UTC). test_config_check keeps the default and the floor under test.
TEST_PASSWORD_HASH_ATTRS = 'passwordHashMemory="19456" passwordHashPasses="2"'


def write_config(directory, port, health=None, backend_keys=None, gateway_attrs=None, extra_gateway_xml="",
                 extra_xml="", store_path="webstream.db", log_level="info", enabled=True, worker_threads=2,
                 heartbeat_interval=None, license_file=None, storage_xml=None):
    """Writes app.config.xml into `directory` and returns its path.

    health: dict of healthCheck attributes (interval, unstableInterval, timeout, failureThreshold,
            successThreshold); None leaves the gateway's defaults.
    backend_keys: list of (name, key) for <backendKeys>.
    gateway_attrs: extra attributes on <gateway> (they override the ones written here).
    storage_xml: the whole <storage …/> element instead of the SQLite one (e.g. provider="postgresql").
    """
    attrs = {"enabled": "true" if enabled else "false", "publicIP": LOCALHOST, "port": str(port)}
    if worker_threads is not None:
        attrs["workerThreads"] = str(worker_threads)
    if heartbeat_interval is not None:
        attrs["heartbeatInterval"] = str(heartbeat_interval)
    attrs.update({k: str(v) for k, v in (gateway_attrs or {}).items()})
    inner = []
    if health:
        inner.append("    <healthCheck %s />" % " ".join("%s=%s" % (k, quoteattr(str(v))) for k, v in health.items()))
    if backend_keys:
        inner.append("    <backendKeys>")
        for name, key in backend_keys:
            inner.append("      <add name=%s key=%s />" % (quoteattr(name), quoteattr(key)))
        inner.append("    </backendKeys>")
    if extra_gateway_xml:
        inner.append(extra_gateway_xml)
    lines = ["<?xml version=\"1.0\" encoding=\"utf-8\"?>", "<configuration>",
             "  <gateway %s>" % " ".join("%s=%s" % (k, quoteattr(v)) for k, v in attrs.items())]
    lines += inner
    lines += ["  </gateway>",
              storage_xml or "  <storage provider=\"sqlite\" path=%s />" % quoteattr(store_path),
              "  <logging level=%s />" % quoteattr(log_level)]
    if license_file is not None:
        lines.append("  <license file=%s />" % quoteattr(license_file))
    if "passwordHash" in extra_xml:
        pass  # the test sets the password hash cost itself
    elif "<accessManagement" in extra_xml:
        extra_xml = extra_xml.replace("<accessManagement", "<accessManagement " + TEST_PASSWORD_HASH_ATTRS, 1)
    else:
        lines.append("  <accessManagement %s />" % TEST_PASSWORD_HASH_ATTRS)
    if extra_xml:
        lines.append(extra_xml)
    lines.append("</configuration>")
    path = os.path.join(directory, "app.config.xml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------------------------- processes


class _OutputCollector:
    """Reads a process's stdout and stderr on two threads (so pipes never fill up), keeps every line, and
    optionally mirrors them to log files."""

    def __init__(self, proc, log_dir=None, name="proc"):
        self._lines = {"stdout": [], "stderr": []}
        self._cond = threading.Condition()
        self._threads = []
        for stream_name, stream in (("stdout", proc.stdout), ("stderr", proc.stderr)):
            log_path = os.path.join(log_dir, "%s.%s.log" % (name, stream_name)) if log_dir else None
            t = threading.Thread(target=self._pump, args=(stream_name, stream, log_path), daemon=True)
            t.start()
            self._threads.append(t)

    def _pump(self, stream_name, stream, log_path):
        log = open(log_path, "ab") if log_path else None
        try:
            for raw in iter(stream.readline, b""):
                if log:
                    log.write(raw)
                    log.flush()
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                with self._cond:
                    self._lines[stream_name].append(line)
                    self._cond.notify_all()
        finally:
            if log:
                log.close()
            stream.close()

    def lines(self, stream_name="stdout"):
        with self._cond:
            return list(self._lines[stream_name])

    def text(self, stream_name="stdout"):
        return "\n".join(self.lines(stream_name))

    def wait_line(self, predicate, timeout, stream_name="stdout", start=0):
        """Returns the first line (from index `start`) for which predicate(line) is true, or None."""
        deadline = time.monotonic() + timeout
        index = start
        with self._cond:
            while True:
                lines = self._lines[stream_name]
                while index < len(lines):
                    if predicate(lines[index]):
                        return lines[index]
                    index += 1
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def join(self, timeout=5.0):
        for t in self._threads:
            t.join(timeout)


def json_lines(lines):
    """The lines that are JSON objects, parsed."""
    out = []
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def _stop_process(proc, collector, sig, grace):
    """Sends `sig`, waits `grace` seconds, then SIGKILL. Returns (exit_code, stdout, stderr, killed)."""
    killed = False
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            killed = True
            proc.kill()
            proc.wait(timeout=10)
    collector.join()
    return proc.returncode, collector.text("stdout"), collector.text("stderr"), killed


class _ChildProcess:
    """What a started binary (GatewayProcess, SimProcess) has in common: `proc` (the Popen, None before start()),
    `output` (its _OutputCollector) and `result` (exit_code, stdout, stderr) once stopped."""

    proc = None
    output = None
    result = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, grace=STOP_GRACE):
        """Stops the process (`sig`, SIGTERM by default, then SIGKILL after `grace` s); the first stop's
        (exit_code, stdout, stderr) is kept and returned by every later one. None if it was never started."""
        if self.proc is None:
            return None
        if self.result is None:
            code, out, err, _ = _stop_process(self.proc, self.output, sig, grace)
            self.result = (code, out, err)
        return self.result

    def kill(self):
        """SIGKILL: the process gets no chance to clean up (a gateway's or a sim's hosts vanish at once)."""
        return self.stop(signal.SIGKILL, grace=5)


class GatewayProcess(_ChildProcess):
    """One run of `webstream -gw --config PATH`; stop() sends SIGTERM (graceful shutdown)."""

    def __init__(self, config_path, port, env=None, binary=None, extra_args=None, log_dir=None, name="gateway",
                 mode_arg="-gw"):
        self.config_path = config_path
        self.mode_arg = mode_arg  # -gw, -gateway or --gateway
        self.port = port
        self.binary = binary or gateway_bin()
        self.extra_args = list(extra_args or [])
        self.env = dict(os.environ)
        self.env["WEBSTREAM_ADMIN_PASSWORD"] = ADMIN_PASSWORD
        self.env.update(env or {})
        self.log_dir = log_dir
        self.name = name
        self.proc = None
        self.output = None
        self.result = None  # (exit_code, stdout, stderr) once stopped

    @property
    def url(self):
        return "http://%s:%d" % (LOCALHOST, self.port)

    def start(self, wait=True, timeout=HEALTH_TIMEOUT):
        if not os.path.exists(self.binary):
            raise RuntimeError("gateway binary not found: %s (set WEBSTREAM_BIN)" % self.binary)
        args = [self.binary, self.mode_arg, "--config", self.config_path] + self.extra_args
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=self.env, cwd=os.path.dirname(self.config_path))
        self.output = _OutputCollector(self.proc, self.log_dir, self.name)
        if wait:
            self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout=HEALTH_TIMEOUT):
        """Waits until GET /gateway/health answers 200 OK; raises with the process's output if it exits or
        does not answer within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.output.join()
                raise RuntimeError("gateway exited with %s before it was healthy\nstdout:\n%s\nstderr:\n%s" % (
                    self.proc.returncode, self.output.text("stdout")[-4000:], self.output.text("stderr")[-4000:]))
            try:
                r = http_request(self.port, "GET", "/gateway/health", timeout=2)
                if r.status == 200 and r.body.strip() == b"OK":
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("gateway did not answer /gateway/health within %.0f s\nstdout:\n%s\nstderr:\n%s" % (
            timeout, self.output.text("stdout")[-4000:], self.output.text("stderr")[-4000:]))

    def stdout_lines(self):
        return self.output.lines("stdout") if self.output else []

    def stderr_lines(self):
        return self.output.lines("stderr") if self.output else []

    def logs(self):
        """The stdout lines that are JSON log objects."""
        return json_lines(self.stdout_lines())


class Gateway:
    """A gateway in its own temp directory: config + SQLite store + logs. restart() keeps the store.

    Keyword arguments go to write_config (health=..., backend_keys=..., ...)."""

    def __init__(self, port=None, env=None, **config_kwargs):
        self.dir = tempfile.mkdtemp(prefix="webstream-e2e-")
        self.port = port or free_port()
        self._port_picked = port is None  # a picked port may be taken by a parallel test before we bind it
        self._started_once = False
        self.env = env
        self.config_kwargs = config_kwargs
        self.config_path = write_config(self.dir, self.port, **config_kwargs)
        self.process = None
        self.runs = 0
        self._token = None

    @property
    def url(self):
        return "http://%s:%d" % (LOCALHOST, self.port)

    def start(self, timeout=HEALTH_TIMEOUT):
        for attempt in range(5):
            self.runs += 1
            self.process = GatewayProcess(self.config_path, self.port, env=self.env, log_dir=self.dir,
                                          name="gateway%d" % self.runs)
            try:
                self.process.start(wait=True, timeout=timeout)
                break
            except RuntimeError as e:
                # Another test (ctest -j) bound the port between free_port() and our bind: pick a new one, but
                # only before the first successful start (a restart must keep its port).
                if not (self._port_picked and not self._started_once and attempt < 4
                        and "Address already in use" in str(e)):
                    raise
                self.port = free_port()
                self.config_path = write_config(self.dir, self.port, **self.config_kwargs)
        self._started_once = True
        self._token = None
        return self

    def stop(self, sig=signal.SIGTERM, grace=STOP_GRACE):
        return self.process.stop(sig, grace) if self.process else None

    def restart(self, timeout=HEALTH_TIMEOUT):
        """SIGTERM, then a new process on the same config, port and store. Returns the old exit result."""
        result = self.stop()
        # The port may linger a moment in the kernel after the old listener closed.
        wait_until(lambda: not port_accepts(self.port), timeout=5, message="old gateway port to close")
        self.start(timeout)
        return result

    def cleanup(self):
        if self.process and self.process.running():
            self.process.stop()
        if not keep_temp():
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    # --- convenience: requests to this gateway
    def request(self, method, path, headers=None, body=None, timeout=10):
        return http_request(self.port, method, path, headers=headers, body=body, timeout=timeout)

    def admin_token(self):
        if self._token is None:
            self._token = login(self.port, ADMIN_USER, ADMIN_PASSWORD)
        return self._token

    def metrics(self):
        r = self.request("GET", "/metrics")
        if r.status != 200:
            raise AssertionError("/metrics answered %d" % r.status)
        return parse_metrics(r.body.decode("utf-8", "replace"))


def run_gateway_once(args, config_path=None, env=None, timeout=20, binary=None):
    """Runs the gateway binary with `args` (plus `--config PATH` when given) and waits for it to exit by
    itself. Returns (exit_code, stdout, stderr). Kills it (and fails) if it is still running at `timeout`."""
    full = [binary or gateway_bin()] + list(args)
    if config_path is not None:
        full += ["--config", config_path]
    run_env = dict(os.environ)
    run_env["WEBSTREAM_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    run_env.update(env or {})
    proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=run_env, cwd=os.path.dirname(config_path) if config_path else None)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("%s still running after %d s; stderr:\n%s" % (full, timeout, err.decode(errors="replace")))
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")



def config_check(config_path, *extra, env=None):
    """`webstream config check [EXTRA…] --config CONFIG_PATH` run once: (exit_code, stdout, stderr)."""
    return run_gateway_once(["config", "check"] + list(extra), config_path=config_path, env=env)

class SimProcess(_ChildProcess):
    """One run of webstream-sim. Events (JSON lines with "event") are parsed as they arrive. stop() sends SIGTERM:
    the sim closes its WebSockets, unregisters its hosts and checks out; kill() makes the hosts vanish without
    unregistering."""

    def __init__(self, gateway_url=None, hosts=1, streamers=0, args=None, env=None, binary=None, log_dir=None,
                 name="sim"):
        self.binary = binary or sim_bin()
        self.args = ["--hosts", str(hosts), "--streamers", str(streamers)]
        if gateway_url:
            self.args += ["--gateway", gateway_url]
        self.args += list(args or [])
        self.host_count = hosts
        self.streamer_count = streamers
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.log_dir = log_dir
        self.name = name
        self.proc = None
        self.output = None
        self.hosts = []      # host_ready events, in index order
        self.streamers = []  # streamerGuid values
        self.result = None

    def start(self, timeout=10):
        """Starts the sim and waits for its "ready" event. Returns the host_ready events."""
        if not os.path.exists(self.binary):
            raise RuntimeError("sim binary not found: %s (set WEBSTREAM_SIM_BIN)" % self.binary)
        self.proc = subprocess.Popen([self.binary] + self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=self.env)
        self.output = _OutputCollector(self.proc, self.log_dir, self.name)
        ready = self.output.wait_line(lambda l: _event_name(l) == "ready" or self.proc.poll() is not None, timeout)
        if ready is None or _event_name(ready) != "ready":
            self.stop(signal.SIGKILL, grace=2)
            raise RuntimeError("webstream-sim did not start (exit %s)\nstdout:\n%s\nstderr:\n%s" % (
                self.proc.returncode, self.output.text("stdout")[-3000:], self.output.text("stderr")[-3000:]))
        self.hosts = sorted(self.events("host_ready"), key=lambda e: e["index"])
        self.streamers = [e["streamerGuid"] for e in self.events("streamer_ready")]
        return self.hosts

    # --- events
    def events(self, name=None):
        out = [e for e in json_lines(self.output.lines("stdout")) if "event" in e]
        return [e for e in out if name is None or e["event"] == name]

    def wait_event(self, name, predicate=None, timeout=10, count=1):
        """Waits until at least `count` events named `name` (matching predicate) were printed; returns them."""
        def found():
            matches = [e for e in self.events(name) if predicate is None or predicate(e)]
            return matches if len(matches) >= count else None
        return wait_until(found, timeout=timeout, interval=0.02, message="sim event %r" % name)

    # --- hosts
    def host_url(self, index=0):
        return self.hosts[index]["serverUrl"]

    def host_port(self, index=0):
        return self.hosts[index]["port"]

    def sim_get(self, index, path):
        r = http_request(self.host_port(index), "GET", path, timeout=5)
        return r.status, r.json() if r.body else None

    def sim_post(self, index, path, body=None):
        r = http_request(self.host_port(index), "POST", path, body=body if body is not None else {}, timeout=15)
        return r.status, r.json() if r.body else None

    def stats(self, index=0):
        status, body = self.sim_get(index, "/sim/stats")
        if status != 200:
            raise AssertionError("/sim/stats answered %d" % status)
        return body

    def set_health(self, index, mode, **extra):
        body = {"mode": mode}
        body.update(extra)
        status, answer = self.sim_post(index, "/sim/health", body)
        if status != 200:
            raise AssertionError("/sim/health answered %d: %r" % (status, answer))
        return answer

    def set_status(self, index, **fields):
        status, answer = self.sim_post(index, "/sim/status", fields)
        if status != 200:
            raise AssertionError("/sim/status answered %d: %r" % (status, answer))
        return answer


def _event_name(line):
    if '"event"' not in line:
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value.get("event") if isinstance(value, dict) else None


# -------------------------------------------------------------------------------------------------- HTTP


class HttpResponse:
    def __init__(self, status, reason, headers, body, version="HTTP/1.1"):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (name, value), names as received, in order
        self.body = body        # bytes
        self.version = version

    def header(self, name, default=None):
        """The first value of header `name` (any case), or `default`."""
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return default

    def header_all(self, name):
        lname = name.lower()
        return [v for k, v in self.headers if k.lower() == lname]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def error_code(self):
        """The contract's error code from {"error":{"code":…}}, or None."""
        try:
            return self.json()["error"]["code"]
        except (ValueError, KeyError, TypeError):
            return None

    def __repr__(self):
        return "HttpResponse(%d %s, %r)" % (self.status, self.reason, self.body[:300])


class _Reader:
    """Buffered reads from a socket."""

    def __init__(self, sock, initial=b""):
        self.sock = sock
        self.buf = bytearray(initial)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by peer")
        self.buf += chunk

    def read_until(self, marker, limit=1 << 20):
        while True:
            i = self.buf.find(marker)
            if i >= 0:
                out = bytes(self.buf[:i + len(marker)])
                del self.buf[:i + len(marker)]
                return out
            if len(self.buf) > limit:
                raise ValueError("no %r within %d bytes" % (marker, limit))
            self._fill()

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_to_close(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except (socket.timeout, ConnectionResetError):
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out


def _parse_head(head):
    lines = head.decode("iso-8859-1").split("\r\n")
    status_line = lines[0]
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError("bad status line: %r" % status_line)
    headers = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(":")
        headers.append((name.strip(), value.strip()))
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", headers


def _read_response(reader, method="GET"):
    head = reader.read_until(b"\r\n\r\n", limit=1 << 20)
    version, status, reason, headers = _parse_head(head)
    resp = HttpResponse(status, reason, headers, b"", version)
    if method == "HEAD" or 100 <= status < 200 or status in (204, 304):
        return resp
    te = (resp.header("Transfer-Encoding") or "").lower()
    if "chunked" in te:
        body = bytearray()
        while True:
            size_line = reader.read_until(b"\r\n").strip()
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                # trailers until the empty line
                while reader.read_until(b"\r\n") != b"\r\n":
                    pass
                break
            body += reader.read_exact(size)
            reader.read_exact(2)
        resp.body = bytes(body)
    elif resp.header("Content-Length") is not None:
        resp.body = reader.read_exact(int(resp.header("Content-Length")))
    else:
        resp.body = reader.read_to_close()
    return resp


def _encode_body(body, headers):
    if body is None:
        return b""
    if isinstance(body, (dict, list)):
        if not any(k.lower() == "content-type" for k, _ in headers):
            headers.append(("Content-Type", "application/json"))
        return json.dumps(body).encode("utf-8")
    if isinstance(body, str):
        return body.encode("utf-8")
    return bytes(body)


def _header_list(headers):
    if headers is None:
        return []
    if isinstance(headers, dict):
        return list(headers.items())
    return [tuple(h) for h in headers]


def _connect(host, port, timeout, tls=False, rcvbuf=None):
    """A TCP connection, over TLS when asked (certificate not verified)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(timeout)
    try:
        sock.connect((host, port))
        if tls:
            sock = ssl._create_unverified_context().wrap_socket(sock, server_hostname="localhost")
    except BaseException:
        sock.close()
        raise
    return sock


def http_request(port, method, path, headers=None, body=None, host=LOCALHOST, timeout=10, host_header=True,
                 content_length=True, tls=False):
    """One HTTP/1.1 request on a new connection. `headers`: dict or list of (name, value) pairs (duplicates and
    any case kept as given). `body`: bytes, str, or a dict/list sent as JSON. `tls`: over TLS, the server's
    certificate not verified (tests make their own). Returns an HttpResponse whose headers are a list of
    (name, value)."""
    hdrs = _header_list(headers)
    payload = _encode_body(body, hdrs)
    names = {k.lower() for k, _ in hdrs}
    if host_header and "host" not in names:
        hdrs.insert(0, ("Host", "%s:%d" % (host, port)))
    if content_length and "content-length" not in names and "transfer-encoding" not in names and (
            payload or method in ("POST", "PUT", "PATCH")):
        hdrs.append(("Content-Length", str(len(payload))))
    if "connection" not in names:
        hdrs.append(("Connection", "close"))
    head = "%s %s HTTP/1.1\r\n" % (method, path) + "".join("%s: %s\r\n" % (k, v) for k, v in hdrs) + "\r\n"
    with _connect(host, port, timeout, tls) as sock:
        try:
            sock.sendall(head.encode("latin-1") + payload)
        except (BrokenPipeError, ConnectionResetError) as send_error:
            # The server answered early (e.g. 413) and closed while we were still sending: read its answer.
            try:
                return _read_response(_Reader(sock), method)
            except (OSError, ValueError):
                raise send_error
        return _read_response(_Reader(sock), method)


def wait_healthy_backends(gw, n=1, timeout=20):
    """Waits until the gateway's admin view (/gateway/admin/backends) lists at least `n` Healthy backends."""
    def healthy():
        status, data, _ = json_request(gw.port, "GET", "/gateway/admin/backends", token=gw.admin_token())
        return status == 200 and sum(1 for b in data["items"] if b["state"] == "Healthy") >= n
    wait_until(healthy, timeout=timeout, message="%d healthy backend(s)" % n)


def raw_exchange(port, data, host=LOCALHOST, timeout=5, read_timeout=None, half_close=False):
    """Sends raw bytes and returns every byte the server sends until it closes the connection or stays
    silent for `read_timeout` (default `timeout`) seconds. `half_close` shuts down our sending side first."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        if data:
            sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        sock.settimeout(read_timeout if read_timeout is not None else timeout)
        return _Reader(sock).read_to_close()


def parse_response(data, method="GET"):
    """Parses the first HTTP response in `data` (bytes from raw_exchange)."""
    reader = _Reader(_NoSocket(), data)
    return _read_response(reader, method)


class _NoSocket:
    def recv(self, n):
        return b""


def json_request(port, method, path, body=None, headers=None, token=None, timeout=10, tls=False):
    """http_request with an optional Bearer token; returns (status, parsed JSON or None, HttpResponse)."""
    hdrs = _header_list(headers)
    if token:
        hdrs.append(("Authorization", "Bearer " + token))
    r = http_request(port, method, path, headers=hdrs, body=body, timeout=timeout, tls=tls)
    try:
        parsed = r.json() if r.body else None
    except ValueError:
        parsed = None
    return r.status, parsed, r


def login(port, username, password):
    """POST /iam/auth/login; returns the token or raises AssertionError with the answer."""
    r = http_request(port, "POST", "/iam/auth/login", body={"username": username, "password": password})
    if r.status != 200:
        raise AssertionError("login as %s answered %d: %s" % (username, r.status, r.text[:300]))
    return r.json()["token"]


# ----------------------------------------------------------------------------------------------- metrics

_METRIC_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text → list of (name, {label: value}, float)."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _METRIC_LINE.match(line)
        if not m:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in _LABEL.findall(m.group(3) or "")}
        try:
            value = float(m.group(4))
        except ValueError:
            continue
        out.append((m.group(1), labels, value))
    return out


def metric_value(samples, name, **labels):
    """The sum of the samples named `name` whose labels include `labels`; None if there is none."""
    values = [v for n, l, v in samples if n == name and all(l.get(k) == want for k, want in labels.items())]
    return sum(values) if values else None


# --------------------------------------------------------------------------------------------- WebSocket

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


class WebSocketHandshakeError(Exception):
    """The server did not answer the upgrade with a valid 101."""

    def __init__(self, response, problem=None):
        self.response = response
        self.status = response.status
        super().__init__(problem or "upgrade answered %d %s: %r" % (response.status, response.reason,
                                                                    response.body[:200]))


class WebSocketProtocolError(Exception):
    pass


class Message:
    """A received message: kind is 'text', 'binary', 'close', 'ping' or 'pong'."""

    def __init__(self, kind, data, close_code=None, close_reason=""):
        self.kind = kind
        self.data = data  # str for text, bytes otherwise
        self.close_code = close_code
        self.close_reason = close_reason

    def __repr__(self):
        if self.kind == "close":
            return "Message(close %s %r)" % (self.close_code, self.close_reason)
        return "Message(%s, %d bytes)" % (self.kind, len(self.data))


def ws_accept_value(key):
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode("ascii")).digest()).decode("ascii")


class WebSocket:
    """A minimal RFC 6455 client: masked frames, fragmentation, ping/pong, close codes."""

    def __init__(self, sock, reader, response):
        self.sock = sock
        self._reader = reader
        self.response = response          # the 101 HttpResponse
        self.closed = False               # both close frames exchanged or the connection dropped
        self.close_sent = False
        self.close_code = None            # code in the peer's close frame (1005: none given)
        self.close_reason = ""
        self.pings = []                   # payloads of pings received (answered automatically)
        self.pongs = []                   # payloads of pongs received
        self.auto_pong = True
        self._send_lock = threading.Lock()

    @classmethod
    def connect(cls, port, path, headers=None, host=LOCALHOST, timeout=10, host_header=None, origin=None,
                rcvbuf=None, tls=False):
        """Opens a TCP connection (over TLS if `tls`) and performs the handshake. Raises
        WebSocketHandshakeError if the answer is not a 101 with the right Sec-WebSocket-Accept. `rcvbuf` sets
        SO_RCVBUF (small values make a slow reader)."""
        sock = _connect(host, port, timeout, tls, rcvbuf)
        try:
            key = base64.b64encode(os.urandom(16)).decode("ascii")
            hdrs = [("Host", host_header or "%s:%d" % (host, port)), ("Upgrade", "websocket"),
                    ("Connection", "Upgrade"), ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]
            if origin:
                hdrs.append(("Origin", origin))
            hdrs += _header_list(headers)
            head = "GET %s HTTP/1.1\r\n" % path + "".join("%s: %s\r\n" % (k, v) for k, v in hdrs) + "\r\n"
            sock.sendall(head.encode("latin-1"))
            reader = _Reader(sock)
            raw_head = reader.read_until(b"\r\n\r\n")
            version, status, reason, resp_headers = _parse_head(raw_head)
            response = HttpResponse(status, reason, resp_headers, b"", version)
            if status != 101:
                try:
                    if response.header("Content-Length") is not None:
                        response.body = reader.read_exact(int(response.header("Content-Length")))
                    else:
                        sock.settimeout(1.0)
                        response.body = reader.read_to_close()
                except (OSError, ConnectionError):
                    pass
                raise WebSocketHandshakeError(response)
            if (response.header("Upgrade") or "").lower() != "websocket":
                raise WebSocketHandshakeError(response, "101 without Upgrade: websocket")
            if response.header("Sec-WebSocket-Accept") != ws_accept_value(key):
                raise WebSocketHandshakeError(response, "bad Sec-WebSocket-Accept")
            return cls(sock, reader, response)
        except BaseException:
            sock.close()
            raise

    # --- sending
    def send_frame(self, opcode, payload=b"", fin=True, rsv=0, mask=True):
        """Sends one frame exactly as described (for fragmentation and protocol tests)."""
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        b0 = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)
        n = len(payload)
        mask_bit = 0x80 if mask else 0
        if n < 126:
            header = struct.pack("!BB", b0, mask_bit | n)
        elif n < 65536:
            header = struct.pack("!BBH", b0, mask_bit | 126, n)
        else:
            header = struct.pack("!BBQ", b0, mask_bit | 127, n)
        if mask:
            key = os.urandom(4)
            header += key
            payload = _mask(payload, key)
        with self._send_lock:
            self.sock.sendall(header + payload)

    def send_text(self, text, fragments=1):
        self._send_message(OP_TEXT, text.encode("utf-8") if isinstance(text, str) else text, fragments)

    def send_binary(self, data, fragments=1):
        self._send_message(OP_BINARY, bytes(data), fragments)

    def _send_message(self, opcode, payload, fragments):
        if fragments <= 1:
            self.send_frame(opcode, payload)
            return
        size = max(1, -(-len(payload) // fragments))
        pieces = [payload[i:i + size] for i in range(0, len(payload), size)] or [b""]
        for i, piece in enumerate(pieces):
            self.send_frame(opcode if i == 0 else OP_CONT, piece, fin=(i == len(pieces) - 1))

    def send_ping(self, payload=b""):
        self.send_frame(OP_PING, payload)

    def send_pong(self, payload=b""):
        self.send_frame(OP_PONG, payload)

    def send_close(self, code=1000, reason=""):
        """Sends a close frame (code None: no status code)."""
        payload = b"" if code is None else struct.pack("!H", code) + reason.encode("utf-8")
        self.send_frame(OP_CLOSE, payload)
        self.close_sent = True

    # --- receiving
    def _read_frame(self):
        b0, b1 = self._reader.read_exact(2)
        fin = bool(b0 & 0x80)
        rsv = (b0 >> 4) & 0x7
        opcode = b0 & 0xF
        masked = bool(b1 & 0x80)
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack("!H", self._reader.read_exact(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", self._reader.read_exact(8))[0]
        key = self._reader.read_exact(4) if masked else None
        payload = self._reader.read_exact(n)
        if masked:
            raise WebSocketProtocolError("the server sent a masked frame")
        if rsv:
            raise WebSocketProtocolError("the server set RSV bits %d (no extension was negotiated)" % rsv)
        return fin, opcode, payload

    def recv(self, timeout=10, control=False):
        """The next message. Fragments are reassembled. Pings are answered (auto_pong) and, like pongs,
        returned only with control=True. A close frame is answered with the same code (unless we sent one)
        and returned as Message('close'). Raises socket.timeout after `timeout` seconds of silence and
        ConnectionError if the connection drops."""
        self.sock.settimeout(timeout)
        parts = []
        first_opcode = None
        while True:
            fin, opcode, payload = self._read_frame()
            if opcode >= 0x8:
                if not fin or len(payload) > 125:
                    raise WebSocketProtocolError("bad control frame")
                if opcode == OP_PING:
                    self.pings.append(payload)
                    if self.auto_pong and not self.close_sent:
                        self.send_pong(payload)
                    if control:
                        return Message("ping", payload)
                elif opcode == OP_PONG:
                    self.pongs.append(payload)
                    if control:
                        return Message("pong", payload)
                elif opcode == OP_CLOSE:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    reason = payload[2:].decode("utf-8", "replace")
                    self.close_code, self.close_reason = code, reason
                    if not self.close_sent:
                        try:
                            self.send_close(None if code == 1005 else code)
                        except OSError:
                            pass
                    self._finish()
                    return Message("close", payload, code, reason)
                else:
                    raise WebSocketProtocolError("unknown control opcode %d" % opcode)
                continue
            if opcode == OP_CONT:
                if first_opcode is None:
                    raise WebSocketProtocolError("continuation without a first frame")
            elif opcode in (OP_TEXT, OP_BINARY):
                if first_opcode is not None:
                    raise WebSocketProtocolError("new message inside a fragmented one")
                first_opcode = opcode
            else:
                raise WebSocketProtocolError("unknown opcode %d" % opcode)
            parts.append(payload)
            if fin:
                data = b"".join(parts)
                if first_opcode == OP_TEXT:
                    return Message("text", data.decode("utf-8"))
                return Message("binary", data)

    def recv_data(self, timeout=10):
        """The next text/binary message; raises AssertionError if the connection closes instead."""
        m = self.recv(timeout)
        if m.kind == "close":
            raise AssertionError("connection closed with %s %r" % (m.close_code, m.close_reason))
        return m

    def wait_close(self, timeout=10):
        """Reads (and drops) messages until the peer's close frame or the end of the connection. Returns the
        peer's close code, or None if the connection dropped without one."""
        deadline = time.monotonic() + timeout
        while not self.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise socket.timeout("no close frame within %.1f s" % timeout)
            try:
                m = self.recv(timeout=remaining)
            except (ConnectionError, OSError) as e:
                if isinstance(e, socket.timeout):
                    raise
                self._finish()
                return None
            if m.kind == "close":
                return m.close_code
        return self.close_code

    def close(self, code=1000, reason="", timeout=5):
        """Closing handshake: sends close, waits for the peer's, closes the socket. Returns the peer's code."""
        if self.closed:
            return self.close_code
        try:
            if not self.close_sent:
                self.send_close(code, reason)
            return self.wait_close(timeout)
        except (OSError, ConnectionError):
            return self.close_code
        finally:
            self._finish()

    def _finish(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._finish()


def _mask(payload, key):
    if not payload:
        return b""
    n = len(payload)
    # XOR with the repeated 4-byte key, done on big integers for speed.
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(repeated, "little")).to_bytes(n, "little")


# ------------------------------------------------------------------------------------------ sim frames


def parse_capture_header(data):
    """The header of a webstream-sim /capture frame (docs/sim.md) as a dict, or None."""
    if len(data) < 32 or data[:4] != b"WSIM":
        return None
    version, header_bytes, counter, ts, width, height, total = struct.unpack_from("<HHQQHHI", data, 4)
    return {"version": version, "headerBytes": header_bytes, "counter": counter, "timestampMs": ts,
            "width": width, "height": height, "totalBytes": total}
