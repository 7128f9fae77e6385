"""`webstream config check` end to end: the real binary on good and bad configurations.

It must exit 0 for a configuration a start accepts and 2 for one a start refuses, print the warnings, name the
file and setting of every error (never a secret), and start nothing: no listener, no store created. It must also
pass on the configuration of a gateway that is running (a reload runs it first, with the ports held)."""

import os
import re
import shutil
import sqlite3
import tempfile
import unittest

import harness
from harness import Gateway, config_check, free_port, port_accepts, run_gateway_once, write_config
from test_tls import SECRET, make_pfx


class ConfigCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="webstream-e2e-config-check-")

    def tearDown(self):
        if not harness.keep_temp():
            shutil.rmtree(self.dir, ignore_errors=True)

    def https_config(self, secret_ref="env:PFX_SECRET", pfx_name="gw.pfx", extra_xml=""):
        port, https_port = harness.free_ports(2)
        xml = ('<webstreamSettings serverPfxCertificateFile="%s" serverPfxSecret="%s" />' % (pfx_name, secret_ref)
               + extra_xml)
        return write_config(self.dir, port, gateway_attrs={"httpsPort": https_port}, extra_xml=xml,
                            store_path="data/webstream.db"), port, https_port

    def test_good_https_config_passes_and_starts_nothing(self):
        make_pfx(self.dir, "gw", "check-me")
        path, port, https_port = self.https_config()
        code, out, err = config_check(path, env={"PFX_SECRET": SECRET})
        self.assertEqual(code, 0, err)
        self.assertIn("OK", out)
        self.assertIn("does not exist yet", out)  # the store: a warning, not created
        self.assertNotIn(SECRET, out + err)
        self.assertFalse(os.path.exists(os.path.join(self.dir, "data")), "config check created the store directory")
        self.assertFalse(port_accepts(port) or port_accepts(https_port))

    def test_wrong_pfx_secret_exits_2_naming_the_file_not_the_secret(self):
        make_pfx(self.dir, "gw", "check-me")
        path, _, _ = self.https_config()
        code, out, err = config_check(path, env={"PFX_SECRET": "Wrong-Secret-987"})
        self.assertEqual(code, 2, out + err)
        self.assertIn("serverPfxCertificateFile", err)
        self.assertIn("gw.pfx", err)
        self.assertNotIn("Wrong-Secret-987", out + err)

    def test_unset_secret_variable_exits_2(self):
        make_pfx(self.dir, "gw", "check-me")
        path, _, _ = self.https_config(secret_ref="env:WEBSTREAM_E2E_UNSET_SECRET")
        os.environ.pop("WEBSTREAM_E2E_UNSET_SECRET", None)
        code, _, err = config_check(path)
        self.assertEqual(code, 2)
        self.assertIn("WEBSTREAM_E2E_UNSET_SECRET is not set", err)

    def test_bad_value_exits_2_and_warnings_are_printed(self):
        path = write_config(self.dir, free_port(), health={"timeout": 3}, extra_xml="<frobnicate />")
        code, out, err = config_check(path)
        self.assertEqual(code, 0, err)
        self.assertIn("gateway.healthCheck.timeout", out)
        self.assertIn("frobnicate", out)
        path = write_config(self.dir, free_port(), gateway_attrs={"port": "70000"})
        code, out, err = config_check(path)
        self.assertEqual(code, 2)
        self.assertIn("gateway.port", err)

    def test_store_that_is_not_a_database_exits_2(self):
        with open(os.path.join(self.dir, "webstream.db"), "wb") as f:
            f.write(b"definitely not sqlite" * 100)
        path = write_config(self.dir, free_port())
        code, _, err = config_check(path)
        self.assertEqual(code, 2)
        self.assertIn("storage.path", err)

    def test_disabled_gateway_fails_for_gw_but_not_for_am(self):
        path = write_config(self.dir, free_port(), enabled=False)
        self.assertEqual(config_check(path)[0], 2)
        self.assertEqual(config_check(path, "-gw")[0], 2)
        self.assertEqual(config_check(path, "-am")[0], 0)

    def test_usage_errors_exit_2(self):
        self.assertEqual(run_gateway_once(["config"])[0], 2)
        self.assertEqual(run_gateway_once(["config", "frob"])[0], 2)
        code, out, _ = run_gateway_once(["config", "check", "--help"])
        self.assertEqual(code, 0)
        self.assertIn("--config", out)

    def test_running_gateways_config_passes_and_the_gateway_is_untouched(self):
        # What ExecReload does: check the config of the gateway that holds the ports and the store open.
        with Gateway() as gw:
            gw.admin_token()  # the store is in use
            code, out, err = config_check(gw.config_path)
            self.assertEqual(code, 0, err)
            self.assertNotIn("does not exist yet", out)
            self.assertEqual(gw.request("GET", "/gateway/health").status, 200)
            self.assertTrue(gw.process.running())

    def test_password_hash_cost_below_owasps_minimum_exits_2(self):
        for memory, passes in (("19455", "2"), ("47103", "1"), ("8192", "4")):
            path = write_config(self.dir, free_port(), extra_xml='<accessManagement passwordHashMemory="%s" '
                                'passwordHashPasses="%s" />' % (memory, passes))
            code, _, err = config_check(path)
            self.assertEqual(code, 2, err)
            self.assertIn("accessManagement.passwordHashMemory", err)
            self.assertIn("OWASP", err)


class PasswordHashCostTest(unittest.TestCase):
    """accessManagement.passwordHashMemory/passwordHashPasses reach the hasher: the stored hash names the cost that
    made it (argon2id's own "$m=…,t=…,p=…$" field)."""

    def hash_cost_of(self, gw, username):
        with sqlite3.connect("file:%s?mode=ro" % os.path.join(gw.dir, "webstream.db"), uri=True) as db:
            row = db.execute("SELECT password_hash FROM iam_users WHERE username = ?", (username,)).fetchone()
        self.assertIsNotNone(row, username)
        return re.search(r"\$m=(\d+),t=(\d+),p=(\d+)\$", row[0]).groups()

    def test_new_hashes_take_the_configured_cost(self):
        gw = Gateway()  # the tests' cost: OWASP's 19456 KiB x 2
        self.addCleanup(gw.cleanup)
        gw.start()
        self.assertEqual(self.hash_cost_of(gw, harness.ADMIN_USER), ("19456", "2", "1"))
        gw.stop()
        # The default cost (the element written out, as an operator who copied the example config would).
        gw.config_kwargs = {"extra_xml": '<accessManagement passwordHashMemory="65536" passwordHashPasses="3" />'}
        write_config(gw.dir, gw.port, **gw.config_kwargs)
        gw.start()
        token = gw.admin_token()  # the admin's 19456 x 2 hash still verifies at its own cost
        status, _, r = harness.json_request(gw.port, "POST", "/iam/users", token=token,
                                            body={"username": "costly", "password": "Costly-Pa55word!"})
        self.assertEqual(status, 201, r.text[:300])
        self.assertEqual(self.hash_cost_of(gw, "costly"), ("65536", "3", "1"))
        self.assertEqual(self.hash_cost_of(gw, harness.ADMIN_USER), ("19456", "2", "1"))
        self.assertTrue(harness.login(gw.port, "costly", "Costly-Pa55word!"))


if __name__ == "__main__":
    unittest.main()
