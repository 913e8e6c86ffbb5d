"""A damaged state database never bricks the daemon (docs/STATE.md,
"Start-up that cannot be bricked").

For each kind of damage — random bytes, a truncated copy of a real
database, a 200 GB sparse file, a database with a newer schema version — put
at <state_dir>/state.db, the real cloudsagad must start (READY=1 on a
NOTIFY_SOCKET of our own), log MSGID_STATE_CORRUPT at err with
CLOUDSAGA_SET_ASIDE naming the file it moved aside (which must exist, with
the damaged content), and work on a fresh database.  The sparse file must
not be read whole: that case has to finish in seconds.

An empty state.db is what the daemon itself creates before SQLite opens it
(a database with no pages): it is used as a fresh database, not set aside.

The JSON layout of earlier versions (runs/<run id>.json, migrated at
start) gets the same treatment: a 200 GB sparse run file is logged with
MSGID_STATE_CORRUPT (CLOUDSAGA_STATE_FILE naming it), never read or
allocated (VmHWM, and VmPeak outside ASan, stay small), kept intact and
sparse in the renamed runs.migrated-<time>/, and the daemon works on a
fresh database.
"""
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, clean_env, state_query
from journald import Journald, records, wait_records

MSGID_STATE_CORRUPT = "14eb6d2df4e6450cb5043adb460707cd"


def schema_version():
    """DB_SCHEMA_VERSION of daemon/db.h: what a fresh database gets."""
    with open(os.path.join(os.environ["CLOUDSAGA_SRC"], "daemon",
                           "db.h")) as f:
        for line in f:
            w = line.split()
            if len(w) == 3 and w[:2] == ["#define", "DB_SCHEMA_VERSION"]:
                return int(w[2])
    raise AssertionError("no DB_SCHEMA_VERSION in daemon/db.h")


def asan(path):
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "4s"; };
coverage = { eventbridge = false; };
schedule = ( { name = "nc"; scenario = "network-changes"; every = "1h"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""


class Damaged(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journald = Journald()
        cls.sandbox = Sandbox()
        cls.seeded = tempfile.mkdtemp(prefix="cloudsagad-damaged-real.")
        # A real database, made by the daemon itself.
        cls.real = os.path.join(cls.seeded, "real.db")
        t = cls()
        t.dir = cls.seeded
        t.start_ready()
        t.stop()
        src = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            cls.seeded, "state", "state.db"), uri=True)
        dst = sqlite3.connect(cls.real)
        src.backup(dst)
        src.close()
        dst.close()

    @classmethod
    def tearDownClass(cls):
        cls.sandbox.stop()
        cls.journald.stop()
        shutil.rmtree(cls.seeded, ignore_errors=True)

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-damaged.")
        os.makedirs(os.path.join(self.dir, "state"), mode=0o700)
        self.db = os.path.join(self.dir, "state", "state.db")

    def tearDown(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    proc = None

    def start_ready(self, timeout=30):
        """Start the daemon; return seconds until it said READY=1."""
        conf = os.path.join(self.dir, "cloudsagad.conf")
        with open(conf, "w") as f:
            f.write(CONF % {"dir": self.dir})
        sockpath = os.path.join(self.dir, "notify")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(sockpath)
        ns.settimeout(0.5)
        self.err = tempfile.TemporaryFile(mode="w+")
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [CLOUDSAGAD, "-c", conf],
            env=clean_env(AWS_ENDPOINT_URL=self.sandbox.url,
                          NOTIFY_SOCKET=sockpath),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)
        try:
            while time.monotonic() - t0 < timeout:
                try:
                    msg = ns.recv(4096).decode()
                except socket.timeout:
                    if self.proc.poll() is not None:
                        self.err.seek(0)
                        self.fail("daemon exited %d: %s" % (
                            self.proc.returncode, self.err.read()[-2000:]))
                    continue
                if "READY=1" in msg.split("\n"):
                    return time.monotonic() - t0
            self.fail("no READY=1 within %ds" % timeout)
        finally:
            ns.close()
            os.unlink(sockpath)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.assertEqual(self.proc.wait(30), 0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        self.proc = None

    def set_aside(self):
        return [n for n in os.listdir(os.path.join(self.dir, "state"))
                if n.startswith("state.db.corrupt-") and
                not n.endswith(("-wal", "-shm"))]

    def check_set_aside(self, kind, content_check):
        t = self.start_ready()
        recs = wait_records("MESSAGE_ID=" + MSGID_STATE_CORRUPT,
                            "CLOUDSAGA_STATE_FILE=" + self.db)
        self.assertEqual(len(recs), 1, recs)
        r = recs[0]
        self.assertEqual(r["PRIORITY"], "3")
        aside = r["CLOUDSAGA_SET_ASIDE"]
        self.assertTrue(os.path.basename(aside).startswith(
            "state.db.corrupt-"), aside)
        self.assertEqual(os.path.dirname(aside), os.path.dirname(self.db))
        self.assertTrue(os.path.exists(aside), aside)
        self.assertEqual(self.set_aside(), [os.path.basename(aside)])
        self.assertTrue(r.get("CLOUDSAGA_ERROR"), r)
        content_check(aside)
        # A fresh, working database took its place.
        self.assertEqual(state_query(os.path.dirname(self.db),
                                     "PRAGMA user_version")[0][0],
                         schema_version())
        self.assertEqual(state_query(os.path.dirname(self.db),
                                     "PRAGMA quick_check")[0][0], "ok")
        self.stop()
        print("%s: READY after %.2fs, set aside as %s (%s)" % (
            kind, t, os.path.basename(aside), r["CLOUDSAGA_ERROR"]))
        return t

    def test_random_bytes(self):
        rng = random.Random(8)
        data = bytes(rng.getrandbits(8) for _ in range(64 * 1024))
        with open(self.db, "wb") as f:
            f.write(data)

        def same(aside):
            with open(aside, "rb") as f:
                self.assertEqual(f.read(), data)
        self.check_set_aside("random bytes", same)

    def test_truncated_real_database(self):
        with open(self.real, "rb") as f:
            data = f.read()
        page = int.from_bytes(data[16:18], "big")
        page = 65536 if page == 1 else page
        self.assertGreaterEqual(len(data) // page, 4,
                                "the real database is too small to cut")
        cut = data[:len(data) // 2 + 100]       # mid-page, half the pages
        with open(self.db, "wb") as f:
            f.write(cut)

        def same(aside):
            self.assertEqual(os.path.getsize(aside), len(cut))
        self.check_set_aside("truncated (%d of %d bytes)" % (
            len(cut), len(data)), same)

    def test_200gb_sparse_file(self):
        with open(self.db, "wb") as f:
            f.truncate(200 * 1024 ** 3)
        t0 = time.monotonic()

        def sparse(aside):
            st = os.stat(aside)
            self.assertEqual(st.st_size, 200 * 1024 ** 3)
            # Still sparse: nobody wrote (or copied) 200 GB.
            self.assertLess(st.st_blocks * 512, 1024 ** 2)
        t = self.check_set_aside("200 GB sparse", sparse)
        self.assertLess(t, 10.0, "the sparse file was read")
        self.assertLess(time.monotonic() - t0, 30.0)

    def test_200gb_sparse_legacy_run_file(self):
        run_id = "0123456789abcdef0123456789abcdef"
        runs = os.path.join(self.dir, "state", "runs")
        os.makedirs(runs, mode=0o700)
        path = os.path.join(runs, run_id + ".json")
        with open(path, "wb") as f:
            f.truncate(200 * 1024 ** 3)
        t0 = time.monotonic()
        t = self.start_ready()
        with open("/proc/%d/status" % self.proc.pid) as f:
            st = dict(x.split(":", 1) for x in f if ":" in x)
        hwm = int(st["VmHWM"].split()[0]) // 1024
        peak = int(st["VmPeak"].split()[0]) // 1024
        recs = wait_records("MESSAGE_ID=" + MSGID_STATE_CORRUPT,
                            "CLOUDSAGA_STATE_FILE=" + path)
        self.assertEqual(len(recs), 1, recs)
        r = recs[0]
        self.assertEqual(r["PRIORITY"], "3")
        self.assertIn("214748364800 bytes", r["CLOUDSAGA_ERROR"])
        # A fresh, working database; the run file kept, still sparse,
        # with the rest of the old layout, out of the way.
        self.assertEqual(state_query(os.path.dirname(self.db),
                                     "PRAGMA user_version")[0][0],
                         schema_version())
        self.assertEqual(state_query(os.path.dirname(self.db),
                                     "SELECT count(*) FROM runs WHERE "
                                     "run_id = ?", (run_id,))[0][0], 0)
        self.stop()
        moved = [n for n in os.listdir(os.path.join(self.dir, "state"))
                 if n.startswith("runs.migrated-")]
        self.assertEqual(len(moved), 1, os.listdir(os.path.join(
            self.dir, "state")))
        kept = os.stat(os.path.join(self.dir, "state", moved[0],
                                    run_id + ".json"))
        self.assertEqual(kept.st_size, 200 * 1024 ** 3)
        self.assertLess(kept.st_blocks * 512, 1024 ** 2)
        # Not allocated: the resident peak is the daemon's usual, and
        # (without ASan's shadow reservations) so is the virtual peak.
        self.assertLess(hwm, 200, "VmHWM %d MiB" % hwm)
        if not asan(CLOUDSAGAD):
            self.assertLess(peak, 4096, "VmPeak %d MiB" % peak)
        self.assertLess(t, 10.0, "the sparse file was read")
        self.assertLess(time.monotonic() - t0, 30.0)
        print("200 GB sparse runs/%s.json: READY after %.2fs, VmHWM %d "
              "MiB, VmPeak %d MiB, logged (%s), kept in %s" % (
                  run_id, t, hwm, peak, r["CLOUDSAGA_ERROR"], moved[0]))

    def test_newer_schema_version(self):
        shutil.copy(self.real, self.db)
        db = sqlite3.connect(self.db)
        db.execute("PRAGMA user_version = 99")
        db.commit()
        db.close()

        def kept(aside):
            db = sqlite3.connect("file:%s?mode=ro" % aside, uri=True)
            try:
                self.assertEqual(db.execute("PRAGMA user_version")
                                 .fetchone()[0], 99)
            finally:
                db.close()
        self.check_set_aside("user_version 99", kept)

    def test_empty_file_is_a_fresh_database(self):
        open(self.db, "wb").close()
        self.start_ready()
        self.assertEqual(state_query(os.path.dirname(self.db),
                                     "PRAGMA user_version")[0][0],
                         schema_version())
        self.stop()
        self.assertEqual(self.set_aside(), [])
        self.assertEqual(records("MESSAGE_ID=" + MSGID_STATE_CORRUPT,
                                 "CLOUDSAGA_STATE_FILE=" + self.db), [])
        print("empty file: used as a fresh database, nothing set aside")


if __name__ == "__main__":
    unittest.main(verbosity=2)
