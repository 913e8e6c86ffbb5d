"""kill -9 at random moments: every verdict reported exactly once.

The real cloudsagad runs against the sandbox (records visible 1-3 s after
the call, CreateSecurityGroup never logged: both logged and missing
verdicts), with a private journald, a schedule every few seconds and a
verify deadline of a few seconds.  It is killed with SIGKILL at least 50
times, restarted each time on the same state directory; the moment of each
kill is drawn from a seeded RNG (the seed is printed; CLOUDSAGA_KILL9_SEED
replays it) over four phases:

  start      0-300 ms after exec (opening the database, replaying)
  calls      300 ms-1.5 s after exec (a run's calls are being fired)
  pending    0-2 s after the database holds a pending row (verifying)
  reporting  0-50 ms after report.jsonl grew (between the file, the
             journal and the confirmation)

At the end the daemon runs undisturbed until every run started before that
last start has its summary reported, and is stopped with SIGTERM.  Then,
against the database, report.jsonl and the journal (docs/STATE.md,
"Exactly-once reporting"; root reads the journal, so no duplicate is
excused):

  - every reported expectation (SELECT run_id, idx FROM expectations) has
    exactly one verdict line ("report_id" <run_id>-<idx>) and exactly one
    journal record (CLOUDSAGA_REPORT_ID), with the row's verdict;
  - no report_id appears twice in the file, and seq only goes up;
  - no verdict line lacks its row;
  - rows not reported (pending or queued) only in runs whose summary is not
    reported, i.e. runs not yet decided;
  - every reported run has its summary line and record exactly once.
"""
import collections
import json
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

from harness import CLOUDSAGAD, Sandbox, clean_env
from journald import Journald, records

KILLS = 50
PHASES = ("start", "calls", "pending", "reporting")

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "4s"; };
coverage = { eventbridge = false; };
schedule = ( { name = "nc"; scenario = "network-changes"; every = "4s"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""


class Kill9(unittest.TestCase):
    def setUp(self):
        self.journald = Journald()
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-kill9.")
        self.state = os.path.join(self.dir, "state")
        self.report = os.path.join(self.state, "report.jsonl")
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir})
        self.proc = None
        self.err = tempfile.TemporaryFile(mode="w+")

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.journald.stop()
        self.err.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, sb, notify=None):
        self.err.seek(0, os.SEEK_END)
        self.err.write("---- start\n")
        self.err.flush()
        extra = {"NOTIFY_SOCKET": notify} if notify else {}
        self.proc = subprocess.Popen(
            [CLOUDSAGAD, "-c", self.conf],
            env=clean_env(AWS_ENDPOINT_URL=sb.url, **extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)
        return time.monotonic()

    def start_ready(self, sb, timeout=60):
        """Start and wait for READY=1: the daemon handles SIGTERM from
        then on (before it, SIGTERM's default action would kill it)."""
        path = os.path.join(self.dir, "notify")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(path)
        ns.settimeout(0.2)
        try:
            t0 = self.start(sb, notify=path)
            while time.monotonic() - t0 < timeout:
                self.alive()
                try:
                    msg = ns.recv(4096).decode()
                except socket.timeout:
                    continue
                if "READY=1" in msg.split("\n"):
                    return t0
            self.fail("no READY=1 within %ds" % timeout)
        finally:
            ns.close()
            os.unlink(path)

    def alive(self):
        if self.proc.poll() is not None:
            self.err.seek(0)
            self.fail("daemon exited %d by itself: %s" % (
                self.proc.returncode, self.err.read()[-3000:]))

    def query(self, sql):
        path = os.path.join(self.state, "state.db")
        if not os.path.exists(path):
            return []
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []           # schema not there yet
        finally:
            db.close()

    def report_size(self):
        try:
            return os.path.getsize(self.report)
        except FileNotFoundError:
            return 0

    def wait_for(self, pred, timeout):
        """Wait for pred() (polled); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.alive()
            if pred():
                return True
            time.sleep(0.02)
        return False

    def lines(self):
        if not os.path.exists(self.report):
            return []
        with open(self.report) as f:
            return [json.loads(x) for x in f if x.strip()]

    def test_kill9_at_random_moments(self):
        seed = int(os.environ.get("CLOUDSAGA_KILL9_SEED") or
                   int(time.time() * 1000) % 1000000)
        rng = random.Random(seed)
        print("seed %d (CLOUDSAGA_KILL9_SEED=%d replays the schedule)"
              % (seed, seed))
        t_test = time.monotonic()
        kills = collections.Counter()
        with Sandbox("--delay", "1:3", "--drop", "CreateSecurityGroup",
                     "--seed", seed) as sb:
            sb.seed("instances", "us-east-1=1")
            n = 0
            while n < KILLS:
                phase = PHASES[n % len(PHASES)] if n < len(PHASES) else \
                    rng.choice(PHASES)
                size0 = self.report_size()
                t0 = self.start(sb)
                if phase == "start":
                    delay = rng.uniform(0, 0.3)
                    self.wait_for(lambda: False, delay)
                elif phase == "calls":
                    delay = rng.uniform(0.3, 1.5)
                    self.wait_for(lambda: False, delay)
                elif phase == "pending":
                    delay = rng.uniform(0, 2.0)
                    if not self.wait_for(lambda: self.query(
                            "SELECT 1 FROM expectations WHERE verdict = "
                            "'pending' LIMIT 1"), 10):
                        print("kill %d: no pending row within 10 s" % n)
                    self.wait_for(lambda: False, delay)
                else:
                    delay = rng.uniform(0, 0.05)
                    if not self.wait_for(
                            lambda: self.report_size() > size0, 15):
                        print("kill %d: report did not grow in 15 s" % n)
                    self.wait_for(lambda: False, delay)
                self.alive()
                self.proc.send_signal(signal.SIGKILL)
                self.proc.wait()
                kills[phase] += 1
                n += 1
                print("kill %2d %-9s +%.3fs (after %.2fs) report %d bytes"
                      % (n, phase, delay, time.monotonic() - t0,
                         self.report_size()))
            # The last start: runs undisturbed until every run started
            # before it is reported, then SIGTERM.
            t_last = time.time()
            self.start_ready(sb)
            decided = self.wait_for(lambda: not self.query(
                "SELECT 1 FROM runs WHERE started < %f AND "
                "(summary_reported = 0 OR finished IS NULL) UNION ALL "
                "SELECT 1 FROM outbox WHERE file_done = 0 OR "
                "journal_done = 0" % t_last), 120)
            self.assertTrue(decided, "runs before the last start were "
                            "never all reported: %s" % self.query(
                                "SELECT run_id, started, finished, "
                                "summary_reported FROM runs"))
            self.proc.send_signal(signal.SIGTERM)
            self.assertEqual(self.proc.wait(60), 0)
            elapsed_kills = time.monotonic() - t_test

        rows = self.query(
            "SELECT e.run_id, e.idx, e.verdict, e.reported, e.seq, "
            "r.summary_reported FROM expectations e JOIN runs r "
            "USING (run_id)")
        runs = self.query("SELECT run_id, summary_reported, summary_seq "
                          "FROM runs")
        lines = self.lines()
        self.assertEqual([x for x in lines if "report_id" not in x], [])
        by_id = collections.Counter(x["report_id"] for x in lines)
        file_dups = sorted(k for k, c in by_id.items() if c > 1)
        seqs = [x["seq"] for x in lines]
        verdict_lines = {x["report_id"]: x for x in lines
                         if x["kind"] == "verdict"}
        summary_lines = {x["report_id"]: x for x in lines
                         if x["kind"] == "summary"}

        # The journal: wait until it holds a record per line (journald
        # may still be writing), then count report IDs.
        want = set(by_id)
        deadline = time.monotonic() + 20
        while True:
            recs = [r for r in records("SYSLOG_IDENTIFIER=cloudsagad")
                    if "CLOUDSAGA_REPORT_ID" in r]
            jids = collections.Counter(r["CLOUDSAGA_REPORT_ID"]
                                       for r in recs)
            if want <= set(jids) or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        journal_dups = sorted(k for k, c in jids.items() if c > 1)

        rowkey = {"%s-%d" % (r[0], r[1]): r for r in rows}
        reported = [k for k, r in rowkey.items() if r[3] == 1]
        lost_file = sorted(k for k in reported if by_id.get(k, 0) == 0)
        lost_journal = sorted(k for k in reported if jids.get(k, 0) == 0)
        wrong = sorted(k for k in reported if k in verdict_lines and
                       verdict_lines[k]["verdict"] != rowkey[k][2])
        orphans = sorted(k for k in verdict_lines if k not in rowkey)
        undecided = [k for k, r in rowkey.items()
                     if r[3] != 1 and r[5] == 1]
        pending_end = [k for k, r in rowkey.items() if r[2] == "pending"]
        reported_runs = [r[0] for r in runs if r[1] == 1]
        summary_lost = sorted(
            r for r in reported_runs
            if by_id.get(r + "-summary", 0) != 1 or
            jids.get(r + "-summary", 0) != 1)
        verdicts = collections.Counter(rowkey[k][2] for k in reported)
        print("kills %d (%s), runs %d (%d reported), expectations %d, "
              "verdicts %d (%s), lines %d (%d verdict, %d summary), "
              "journal records %d, duplicates %d (file %d, journal %d), "
              "lost %d (file %d, journal %d), pending at the end %d, "
              "%.0f s" % (
                  sum(kills.values()), ", ".join(
                      "%s %d" % (p, kills[p]) for p in PHASES),
                  len(runs), len(reported_runs), len(rows), len(reported),
                  ", ".join("%s %d" % kv for kv in sorted(verdicts.items())),
                  len(lines), len(verdict_lines), len(summary_lines),
                  sum(jids.values()), len(file_dups) + len(journal_dups),
                  len(file_dups), len(journal_dups),
                  len(lost_file) + len(lost_journal), len(lost_file),
                  len(lost_journal), len(pending_end), elapsed_kills))

        self.assertGreaterEqual(sum(kills.values()), KILLS)
        for p in PHASES:
            self.assertGreater(kills[p], 0, p)
        self.assertEqual(file_dups, [])
        self.assertEqual(journal_dups, [])
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(lost_file, [])
        self.assertEqual(lost_journal, [])
        self.assertEqual(wrong, [])
        self.assertEqual(orphans, [])
        self.assertEqual(undecided, [])
        self.assertEqual(summary_lost, [])
        # Every reported row: exactly one line, one record.
        for k in reported:
            self.assertEqual(by_id[k], 1, k)
            self.assertEqual(jids[k], 1, k)
        # Both kinds of verdict happened, over several runs.
        self.assertGreater(verdicts["logged"], 0)
        self.assertGreater(verdicts["missing"], 0)
        self.assertGreaterEqual(len(reported_runs), 3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
