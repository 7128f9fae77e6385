"""End to end: a gateway on PostgreSQL (CONTRACT §12), against a throwaway server the test starts itself
(pg_server.py). Covers the store half of issue 12: the whole session flow on PostgreSQL, a restart keeping
everything, the schema-version refusal, an unreachable database at start (exit 2 naming storage.connection,
never its value), and `webstream store copy` moving a SQLite gateway's users, keys and sessions."""
import os
import shutil
import tempfile
import threading
import unittest
from xml.sax.saxutils import quoteattr

from harness import (ADMIN_PASSWORD, ADMIN_USER, Gateway, SimProcess, json_request, login, run_gateway_once,
                     wait_healthy_backends, write_config, free_port, gateway_bin)
from iam_seed import Seed
from pg_server import PgServer

FAST = {"interval": 2, "unstableInterval": 1, "timeout": 2, "failureThreshold": 3, "successThreshold": 1}


def pg_storage(conninfo):
    return "  <storage provider=\"postgresql\" connection=%s />" % quoteattr(conninfo)


def headers(user, sid):
    return {"Authorization": "Bearer " + user["token"], "X-Session-ID": sid}


class OnPostgres(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.pg = PgServer().start()

    @classmethod
    def tearDownClass(cls):
        cls.pg.cleanup()

    def gateway(self, conninfo, **kwargs):
        gw = Gateway(health=FAST, heartbeat_interval=2, storage_xml=pg_storage(conninfo), **kwargs)
        self.addCleanup(gw.cleanup)
        return gw

    def test_login_select_getconnection_release_and_a_restart_keeps_everything(self):
        conninfo = self.pg.create_database()
        gw = self.gateway(conninfo).start()
        sim = SimProcess(gw.url, hosts=1, args=["--heartbeat-interval", "1", "--max-sessions", "5"])
        self.addCleanup(sim.stop)
        sim.start()
        wait_healthy_backends(gw, 1)
        seed = Seed(gw)
        app = seed.app(exe="notepad.exe", args="/A")
        ws = seed.workspace([app], type_="app")
        user = seed.entitled_user(ws)
        body = {"workspaceId": ws["id"], "appId": app["id"]}
        status, sel, r = json_request(gw.port, "POST", "/gateway/session/select", body=body, headers=headers(user, "pg-1"))
        self.assertEqual(status, 200, r.text)
        self.assertEqual(sel["state"], "reserved")
        # The default policy allows one session: the database counts it.
        status, _, r = json_request(gw.port, "POST", "/gateway/session/select", body=body, headers=headers(user, "pg-2"))
        self.assertEqual(status, 409, r.text)
        status, conn, r = json_request(gw.port, "GET", "/getConnection", headers=headers(user, "pg-1"))
        self.assertEqual(status, 200, r.text)
        self.assertIn(("x-session-id", "pg-1"), [(n.lower(), v) for n, v in conn["headers"]])
        status, body_, _ = json_request(gw.port, "POST", "/gateway/session/release", headers=headers(user, "pg-1"))
        self.assertEqual((status, body_), (200, {"success": True}))

        # Everything is in PostgreSQL: a restart keeps users, keys (the old token still works), sessions.
        gw.restart()
        status, me, r = json_request(gw.port, "GET", "/iam/auth/me", token=user["token"])
        self.assertEqual(status, 200, r.text)
        status, st, r = json_request(gw.port, "GET", "/gateway/session/status", headers=headers(user, "pg-1"))
        self.assertEqual((status, st.get("state")), (200, "released"), r.text)
        rows = self.pg.sql("SELECT COUNT(*) FROM sessions", conninfo.split("dbname=")[1].split()[0]).strip()
        self.assertEqual(rows, "1")
        # Nothing of the connection string in the logs.
        output = "\n".join(gw.process.stdout_lines() + gw.process.stderr_lines())
        self.assertNotIn(conninfo, output)
        self.assertNotIn("dbname=", output)

    def test_three_gateways_starting_together_on_an_empty_database_all_come_up_as_one_service(self):
        conninfo = self.pg.create_database()
        gws = [self.gateway(conninfo) for _ in range(3)]
        errors = {}

        def start(i):
            try:
                gws[i].start()
            except Exception as e:  # reported below with the gateway's stderr
                errors[i] = str(e)[-500:]
        threads = [threading.Thread(target=start, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, {})
        dbname = conninfo.split("dbname=")[1].split()[0]
        # One bootstrap (one admin, one org default), one signing key: a token from any gateway works on all.
        self.assertEqual(self.pg.sql("SELECT COUNT(*) FROM iam_users", dbname).strip(), "1")
        self.assertEqual(self.pg.sql("SELECT COUNT(*) FROM signing_keys", dbname).strip(), "1")
        for issuer in gws:
            token = login(issuer.port, ADMIN_USER, ADMIN_PASSWORD)
            for other in gws:
                status, _, r = json_request(other.port, "GET", "/iam/auth/me", token=token)
                self.assertEqual(status, 200, r.text)

    def test_unreachable_database_at_start_exits_2_naming_storage_connection(self):
        d = tempfile.mkdtemp(prefix="webstream-e2e-")
        self.addCleanup(shutil.rmtree, d, True)
        secret = "host=127.0.0.1 port=%d user=u password=Hunter2-secret dbname=x connect_timeout=3" % free_port()
        cfg = write_config(d, free_port(), storage_xml=pg_storage(secret))
        code, out, err = run_gateway_once(["-gw"], config_path=cfg)
        self.assertEqual(code, 2, err)
        lines = [l for l in err.splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, err)
        self.assertIn("storage.connection", lines[0])
        self.assertNotIn("Hunter2", err + out)

    def test_a_gateway_older_than_the_schema_refuses_naming_both_versions(self):
        conninfo = self.pg.create_database()
        gw = self.gateway(conninfo).start()
        gw.stop()
        dbname = conninfo.split("dbname=")[1].split()[0]
        current = int(self.pg.sql("SELECT MAX(version) FROM webstream_schema", dbname).strip())
        self.pg.sql("INSERT INTO webstream_schema(version) VALUES(%d)" % (current + 1), dbname)
        code, out, err = run_gateway_once(["-gw"], config_path=gw.config_path)
        self.assertEqual(code, 2, err)
        self.assertIn("schema version %d" % (current + 1), err)
        self.assertIn("schema version %d" % current, err)

    def test_store_copy_moves_a_sqlite_gateway_with_its_users_keys_and_sessions(self):
        # A single gateway on SQLite, with a user who logged in.
        sqlite_gw = Gateway(health=FAST)
        self.addCleanup(sqlite_gw.cleanup)
        sqlite_gw.start()
        seed = Seed(sqlite_gw)
        user = seed.user()
        token = seed.token(user)
        sqlite_gw.stop()
        store = os.path.join(sqlite_gw.dir, "webstream.db")

        conninfo = self.pg.create_database()
        d = tempfile.mkdtemp(prefix="webstream-e2e-")
        self.addCleanup(shutil.rmtree, d, True)
        cfg = write_config(d, free_port(), storage_xml=pg_storage(conninfo))
        code, out, err = run_gateway_once(["store", "copy", "--from", store], config_path=cfg)
        self.assertEqual(code, 0, err)
        self.assertIn("iam_users", out)
        # Refused the second time: the target is no longer empty.
        code, out2, err2 = run_gateway_once(["store", "copy", "--from", store], config_path=cfg)
        self.assertEqual(code, 1, out2 + err2)
        self.assertIn("not empty", err2)

        pg_gw = self.gateway(conninfo).start()
        # The token issued by the SQLite gateway is valid here (same signing keys), the password too.
        status, me, r = json_request(pg_gw.port, "GET", "/iam/auth/me", token=token)
        self.assertEqual(status, 200, r.text)
        self.assertEqual(me["user"]["username"] if "user" in me else me["username"], user["username"])
        self.assertTrue(login(pg_gw.port, user["username"], user["password"]))
        self.assertTrue(login(pg_gw.port, ADMIN_USER, ADMIN_PASSWORD))


if __name__ == "__main__":
    unittest.main()
