"""End to end: files that hold secrets are private (CONTRACT §11a): the store and its -wal/-shm are created
0600 and the directories the gateway makes for it 0700, whatever the umask; an existing store that group or
others may read is warned about at start."""
import os
import sqlite3
import stat
import subprocess
import unittest

from harness import Gateway, json_lines, login, port_accepts, wait_until, ADMIN_USER, ADMIN_PASSWORD


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class SecretFiles(unittest.TestCase):
    def test_store_files_0600_and_directories_0700_with_umask_0(self):
        gw = Gateway(store_path="data/private/webstream.db")
        old = os.umask(0)  # the gateway inherits it: the most permissive umask there is
        try:
            gw.start()
        finally:
            os.umask(old)
        try:
            login(gw.port, ADMIN_USER, ADMIN_PASSWORD)  # a write: the WAL is in use
            store = os.path.join(gw.dir, "data", "private", "webstream.db")
            self.assertEqual(mode(os.path.join(gw.dir, "data")), 0o700)
            self.assertEqual(mode(os.path.join(gw.dir, "data", "private")), 0o700)
            for suffix in ("", "-wal", "-shm"):
                self.assertTrue(os.path.exists(store + suffix), suffix)
                self.assertEqual(mode(store + suffix), 0o600, "webstream.db" + suffix)
            gw.stop()
            self.assertFalse(any("storage.path" in line.get("msg", "") + str(line.get("setting", ""))
                                 for line in json_lines(gw.process.stdout_lines()) if line.get("level") == "warn"))
        finally:
            gw.cleanup()

    def test_an_existing_store_readable_by_others_is_warned_about(self):
        with Gateway() as gw:
            gw.stop()
            os.chmod(os.path.join(gw.dir, "webstream.db"), 0o644)
            wait_until(lambda: not port_accepts(gw.port), timeout=5, message="old gateway port to close")
            gw.start()
            warnings = [line for line in json_lines(gw.process.stdout_lines())
                        if line.get("level") == "warn" and line.get("setting") == "storage.path"]
            self.assertEqual(len(warnings), 1, gw.process.stdout_lines()[-20:])
            self.assertIn("group or others", warnings[0]["msg"])


class ConnectTokenSecret(unittest.TestCase):
    """The connect-token secret can never be empty (CONTRACT §7, §11a): a damaged one stops the start."""

    def test_a_damaged_secret_fails_the_start_with_exit_2(self):
        with Gateway() as gw:
            gw.stop()
            store = os.path.join(gw.dir, "webstream.db")
            for damaged in ("", "not base64 !", "c2hvcnQ"):  # empty, not base64url, 5 bytes
                with sqlite3.connect(store) as db:
                    db.execute("UPDATE session_secret SET secret=? WHERE id=1", (damaged,))
                    self.assertEqual(db.total_changes, 1)
                proc = subprocess.run([gw.process.binary, "-gw", "--config", gw.config_path], cwd=gw.dir,
                                      capture_output=True, text=True, timeout=30, env=gw.process.env)
                self.assertEqual(proc.returncode, 2, (damaged, proc.stdout[-2000:], proc.stderr[-2000:]))
                self.assertIn("connect-token secret", proc.stderr, proc.stderr)
                self.assertLessEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)


if __name__ == "__main__":
    unittest.main()
