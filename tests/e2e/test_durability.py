"""Durability order on disk, watched with strace on the real daemon.

Exactly-once reporting (docs/STATE.md) rests on an order of system calls
that no functional test sees until the power fails: a line appended to
report.jsonl is on disk (fsync) before the database marks the file step
done, and a database commit is on disk (synchronous=FULL: the WAL is
synced) before anything it decided is written to the report or the
journal.  Remove either fsync and every other test still passes; this one
fails.  A mutation check found exactly that survivor for the old JSON
ledger ("fsync before rename removed").

The daemon runs one scheduled run with verification against the sandbox
(one logged and one missing verdict: CreateSecurityGroup is dropped) under
`strace -f -y`, with a private journald, until the run's summary is
reported; then the trace is checked:

  1. report.jsonl: after every write to it, an fsync/fdatasync of it comes
     before the next write to the database (state.db or its WAL);
  2. the database: after every write to the WAL, an fsync/fdatasync of the
     WAL comes before the next write to report.jsonl and before the next
     message to the journal;
  3. every file renamed into place by the daemon (rename/renameat) was
     fsynced after its last write.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, clean_env
from journald import Journald

STRACE = shutil.which("strace")

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; metrics_file = "%(dir)s/state/cloudsagad.prom"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "5s"; };
coverage = { eventbridge = false; };
schedule = ( { name = "nc"; scenario = "network-changes"; every = "1h"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""

# 1234 write(5</tmp/x/state/report.jsonl>, "..."..., 123) = 123
CALL = re.compile(r'^(?:\[pid\s+)?(\d+)\]?\s+(\w+)\((.*)$')
FD = re.compile(r'^(-?\d+)<([^>]*)>')


def parse(path):
    """(syscall, [fd paths in the arguments], raw) for each complete line."""
    out = []
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = CALL.match(line)
            if not m or "<unfinished" in line or "resumed>" in line:
                continue
            name, args = m.group(2), m.group(3)
            paths = re.findall(r'\d+<([^>]*)>', args)
            names = re.findall(r'"((?:[^"\\]|\\.)*)"', args)
            out.append((name, paths, names, line))
    return out


WRITES = ("write", "pwrite64", "writev", "pwritev", "pwritev2")
SYNCS = ("fsync", "fdatasync")


class Durability(unittest.TestCase):
    @unittest.skipIf(STRACE is None, "strace is not installed")
    def test_fsync_order(self):
        tmp = tempfile.mkdtemp(prefix="cloudsagad-durability.")
        self.addCleanup(shutil.rmtree, tmp, True)
        state = os.path.join(tmp, "state")
        report = os.path.join(state, "report.jsonl")
        conf = os.path.join(tmp, "cloudsagad.conf")
        trace = os.path.join(tmp, "trace")
        with open(conf, "w") as f:
            f.write(CONF % {"dir": tmp})
        jd = Journald()
        self.addCleanup(jd.stop)
        with Sandbox("--delay", "1:2", "--drop", "CreateSecurityGroup") as sb:
            sb.seed("instances", "us-east-1=1")
            err = open(os.path.join(tmp, "stderr"), "w+")
            self.addCleanup(err.close)
            proc = subprocess.Popen(
                [STRACE, "-f", "-yy", "-qq", "-s", "0", "-o", trace,
                 "-e", "trace=write,pwrite64,writev,pwritev,pwritev2,"
                 "fsync,fdatasync,rename,renameat,renameat2,sendmsg,sendto,"
                 "openat", CLOUDSAGAD, "-c", conf],
                env=clean_env(AWS_ENDPOINT_URL=sb.url),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=err)
            self.addCleanup(lambda: proc.poll() is None and proc.kill())
            deadline = time.monotonic() + 120
            summary = False
            while time.monotonic() < deadline and not summary:
                if proc.poll() is not None:
                    err.seek(0)
                    self.fail("daemon exited %d: %s" %
                              (proc.returncode, err.read()[-3000:]))
                if os.path.exists(report):
                    with open(report) as f:
                        for line in f:
                            if line.strip() and \
                                    json.loads(line).get("kind") == "summary":
                                summary = True
                time.sleep(0.1)
            self.assertTrue(summary, "no run summary reported in 120 s")
            # SIGTERM to the daemon itself (strace would only detach).
            with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
                kids = [int(x) for x in f.read().split()]
            self.assertEqual(len(kids), 1, "strace has no single child")
            os.kill(kids[0], signal.SIGTERM)
            proc.wait(60)

        with open(report) as f:
            lines = [json.loads(x) for x in f if x.strip()]
        verdicts = [x.get("verdict") for x in lines
                    if x.get("kind") == "verdict"]
        self.assertIn("logged", verdicts)
        self.assertIn("missing", verdicts)

        keep = os.environ.get("CLOUDSAGA_KEEP_TRACE")
        if keep:
            shutil.copy(trace, keep)
        calls = parse(trace)
        wal = os.path.join(state, "state.db-wal")
        db = os.path.join(state, "state.db")

        def is_write(c, path):
            return c[0] in WRITES and c[1][:1] == [path]

        def is_sync(c, path):
            return c[0] in SYNCS and c[1][:1] == [path]

        def is_db_write(c):
            return c[0] in WRITES and c[1][:1] and c[1][0] in (db, wal)

        def is_journal(c):
            return c[0] in ("sendmsg", "sendto", "writev") and \
                "/run/systemd/journal/" in c[3]

        # 1. report.jsonl synced before the database hears of it.
        report_writes = 0
        dirty = False
        for c in calls:
            if is_write(c, report):
                dirty = True
                report_writes += 1
            elif is_sync(c, report):
                dirty = False
            elif dirty and is_db_write(c):
                self.fail("a database write follows a report.jsonl write "
                          "with no fsync of report.jsonl between: %s"
                          % c[3])
        self.assertGreater(report_writes, 0, "no write to %s traced" % report)

        # 2. every commit synced before its consequences leave the database.
        wal_writes = 0
        journal_msgs = 0
        dirty = None
        for c in calls:
            if is_journal(c):
                journal_msgs += 1
                if dirty:
                    self.fail("a journal record is sent while a database "
                              "write is not synced: %s" % dirty)
            elif is_write(c, wal):
                dirty = dirty or c[3]
                wal_writes += 1
            elif is_sync(c, wal):
                dirty = None
            elif dirty and is_write(c, report):
                self.fail("report.jsonl is written while a database "
                          "write is not synced: %s" % dirty)
        self.assertGreater(wal_writes, 0, "no WAL write traced")
        self.assertGreater(journal_msgs, 0, "no journal record traced")

        # 3. files renamed into place were synced after their last write.
        last_write = {}
        synced = {}
        renames = 0
        for c in calls:
            if c[0] in WRITES and c[1]:
                last_write[c[1][0]] = True
                synced[c[1][0]] = False
            elif c[0] in SYNCS and c[1]:
                synced[c[1][0]] = True
            elif c[0] in ("rename", "renameat", "renameat2") and \
                    " = 0" in c[3]:
                for s in c[2][:1]:
                    p = s if os.path.isabs(s) else None
                    if p is None and c[1]:
                        p = os.path.join(c[1][0], s)
                    if p and last_write.get(p):
                        renames += 1
                        self.assertTrue(synced.get(p),
                                        "%s renamed into place without an "
                                        "fsync after its last write" % p)
        self.assertGreater(renames, 0, "no file renamed into place (the "
                           "metrics file is)")
        print("traced: %d report writes, %d WAL writes, %d journal records, "
              "%d renames checked" % (report_writes, wal_writes,
                                      journal_msgs, renames))


if __name__ == "__main__":
    unittest.main(verbosity=2)
