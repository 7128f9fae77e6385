"""A throwaway PostgreSQL server for end-to-end tests (standard library only).

Runs Debian's initdb/pg_ctl (the postgresql package; the server binaries are not on PATH: $WEBSTREAM_PG_BINDIR,
else the newest /usr/lib/postgresql/<version>/bin) in a temp dir, as user `nobody` when the tests run as root
(PostgreSQL refuses root; the dir is chowned to nobody and the commands go through `runuser -u nobody --`).
It listens on a free 127.0.0.1 port and on a Unix socket in its dir, fsync off (PgServer(durable=True): fsync and
synchronous_commit as PostgreSQL's defaults, for benchmarks that compare with SQLite's durable commits). If it cannot start, start()
raises with the reason: tests FAIL on it, never skip (CI installs the package with scripts/setup.sh).

    with PgServer() as pg:
        conninfo = pg.create_database()          # "host=127.0.0.1 port=… user=postgres dbname=…"
        pg.sql("SELECT 1", dbname)               # psql -c, for tests that poke at the database
        pg.stop_server() / pg.start_server()     # an outage and its end (same data, same port)
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile


def _bindir():
    env = os.environ.get("WEBSTREAM_PG_BINDIR")
    if env:
        return env
    found = [d for d in glob.glob("/usr/lib/postgresql/*/bin") if os.path.exists(os.path.join(d, "pg_ctl"))]
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                           "(install the postgresql package: scripts/setup.sh) or set WEBSTREAM_PG_BINDIR")
    return sorted(found, key=lambda d: int(d.split("/")[-2].split(".")[0]))[-1]


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self, durable=False):
        self.bindir = _bindir()
        self.durable = durable
        self.dir = tempfile.mkdtemp(prefix="wspg-e2e-")
        self.data = os.path.join(self.dir, "data")
        self.port = None
        self.running = False
        self._next_db = 0
        self._prefix = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.dir, nobody.pw_uid, nobody.pw_gid)
            self._prefix = ["runuser", "-u", "nobody", "--"]

    def _run(self, args, check=True):
        proc = subprocess.run(self._prefix + args, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=120)
        out = proc.stdout.decode("utf-8", "replace")
        if check and proc.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (os.path.basename(args[0]), proc.returncode, out[-800:]))
        return out

    def start(self):
        self._run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                   "--locale=C", "--no-sync"])
        self.start_server()
        return self

    def start_server(self):
        last = None
        for _ in range(3):
            port = self.port or _free_port()
            options = "-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200" % (port, self.dir)
            if not self.durable:
                options += " -c fsync=off -c synchronous_commit=off"
            try:
                self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", os.path.join(self.dir, "server.log"),
                           "-w", "-t", "60", "-o", options, "start"])
                self.port = port
                self.running = True
                return
            except RuntimeError as e:
                last = e
                if self.port:
                    break
        log = ""
        try:
            with open(os.path.join(self.dir, "server.log"), encoding="utf-8", errors="replace") as f:
                log = f.read()[-800:]
        except OSError:
            pass
        raise RuntimeError("cannot start the test PostgreSQL: %s %s" % (last, log))

    def stop_server(self):
        if self.running:
            self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "fast", "-w", "stop"], check=False)
            self.running = False

    def conninfo(self, dbname):
        return "host=127.0.0.1 port=%d user=postgres dbname=%s connect_timeout=5" % (self.port, dbname)

    def create_database(self):
        self._next_db += 1
        name = "e2e_%d_%d" % (os.getpid(), self._next_db)
        self.sql("CREATE DATABASE %s TEMPLATE template0" % name, "postgres")
        return self.conninfo(name)

    def sql(self, statement, dbname):
        """Runs one statement with psql; returns its unaligned output."""
        psql = os.path.join(self.bindir, "psql")
        if not os.path.exists(psql):
            psql = shutil.which("psql") or psql
        return self._run([psql, "-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d",
                          dbname, "-v", "ON_ERROR_STOP=1", "-c", statement])

    def cleanup(self):
        if self.running:
            self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate", "-w", "stop"],
                      check=False)
            self.running = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except Exception:
            self.cleanup()
            raise

    def __exit__(self, *exc):
        self.cleanup()
