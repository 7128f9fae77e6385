"""`webstream store backup` end to end: an online backup taken while the gateway is under write load restores
to a store that starts and holds every write acknowledged before the backup began.

The writes are IAM objects (orgs): each POST /iam/orgs is answered 201 only after its store transaction has
committed, so an acknowledged org is an acknowledged write."""

import os
import shutil
import stat
import threading
import unittest

import harness
from harness import Gateway, run_gateway_once


class StoreBackupTest(unittest.TestCase):
    def test_backup_under_write_load_restores_every_acknowledged_write(self):
        with Gateway() as gw:
            token = gw.admin_token()
            acked = []  # org ids, in the order their 201 arrived
            lock = threading.Lock()
            progressed = threading.Condition(lock)
            stop = threading.Event()
            failures = []

            def writer(n):
                i = 0
                while not stop.is_set():
                    i += 1
                    r = gw.request("POST", "/iam/orgs", headers={"Authorization": "Bearer " + token},
                                   body={"name": "backup-load-%d-%d" % (n, i)})
                    if r.status != 201:
                        failures.append((r.status, r.text[:200]))
                        return
                    with progressed:
                        acked.append(r.json()["id"])
                        progressed.notify_all()

            threads = [threading.Thread(target=writer, args=(n,), daemon=True) for n in range(3)]
            for t in threads:
                t.start()
            try:
                with progressed:
                    self.assertTrue(progressed.wait_for(lambda: len(acked) >= 60 or failures, timeout=60),
                                    "the writers did not get going")
                    before = list(acked)
                backup = os.path.join(gw.dir, "backup.db")
                code, out, err = run_gateway_once(["store", "backup", "--to", backup], config_path=gw.config_path)
                with lock:
                    during = len(acked) - len(before)
            finally:
                stop.set()
                for t in threads:
                    t.join(15)
            self.assertEqual(failures, [])
            self.assertEqual(code, 0, err)
            self.assertIn("consistent", out)
            self.assertEqual(stat.S_IMODE(os.stat(backup).st_mode), 0o600)
            self.assertEqual(gw.request("GET", "/gateway/health").status, 200)  # the gateway never noticed

            # A second backup to the same name is refused and the first is untouched.
            size = os.path.getsize(backup)
            code2, _, err2 = run_gateway_once(["store", "backup", "--to", backup], config_path=gw.config_path)
            self.assertEqual(code2, 1)
            self.assertIn("already exists", err2)
            self.assertEqual(os.path.getsize(backup), size)

            # Restore: a new gateway whose store is the copy.
            restored = Gateway()
            try:
                shutil.copyfile(backup, os.path.join(restored.dir, "webstream.db"))
                os.chmod(os.path.join(restored.dir, "webstream.db"), 0o600)
                restored.start()
                admin = restored.admin_token()
                missing = [org_id for org_id in before
                           if restored.request("GET", "/iam/orgs/" + org_id,
                                               headers={"Authorization": "Bearer " + admin}).status != 200]
                self.assertEqual(missing, [], "acknowledged before the backup but missing from it (%d written "
                                 "during the backup)" % during)
            finally:
                restored.cleanup()

    def test_usage_and_bad_source(self):
        self.assertEqual(run_gateway_once(["store"])[0], 2)
        self.assertEqual(run_gateway_once(["store", "backup"])[0], 2)  # no --to
        self.assertEqual(run_gateway_once(["store", "frob"])[0], 2)
        code, out, _ = run_gateway_once(["store", "backup", "--help"])
        self.assertEqual(code, 0)
        self.assertIn("pg_dump", out)
        gw = Gateway()  # configured, never started: its store does not exist
        try:
            target = os.path.join(gw.dir, "b.db")
            code, _, err = run_gateway_once(["store", "backup", "--to", target], config_path=gw.config_path)
            self.assertEqual(code, 1)
            self.assertIn("no such store file", err)
            self.assertFalse(os.path.exists(os.path.join(gw.dir, "webstream.db")))
            self.assertFalse(os.path.exists(target))
        finally:
            gw.cleanup()


if __name__ == "__main__":
    unittest.main()
