"""History that answers questions, through the daemon and a real journald:
regressions told apart from chronic gaps and acknowledged ones.

  - an event logged in two runs, then dropped: one regression record at err
    (its own MESSAGE_ID), then chronic (notice) while the gap stays open;
  - an event dropped from the first run on: one logging-gap record at
    warning, then chronic at notice, then only the daily digest;
  - an acknowledged gap (known_gaps) stays quiet (info) until its expiry; an
    expired acknowledgement is loud again; logged again, it is reported as
    fixed;
  - the state database answers the documented queries read-only while the
    daemon runs.
"""
import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import (CLOUDSAGAD, SRC, Sandbox, clean_env, state_query,
                     state_rows)
from journald import Journald, records, wait_records

MSGID_MISSING = "9997f1a77c534c2d99ffbad67e9dfeee"
MSGID_REGRESSION = "321ea0d8a642412ba78254431c63a0b9"
MSGID_DIGEST = "442827faace94ffdbd7b3eb7c9a911e7"

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "4s"; };
coverage = { eventbridge = false; };
history = { digest_at = "00:00"; };
%(extra)s
schedule = ( { name = "nc"; scenario = "network-changes"; every = "12s"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""


def day(offset):
    d = datetime.datetime.now(datetime.timezone.utc).date() + \
        datetime.timedelta(days=offset)
    return d.isoformat()


class History(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journald = Journald()

    @classmethod
    def tearDownClass(cls):
        cls.journald.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-history.")
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        self.report = os.path.join(self.dir, "state", "report.jsonl")
        self.state = os.path.join(self.dir, "state")
        self.proc = None

    def tearDown(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, sb, extra=""):
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir, "extra": extra})
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [CLOUDSAGAD, "-c", self.conf],
            env=clean_env(AWS_ENDPOINT_URL=sb.url),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def lines(self):
        if not os.path.exists(self.report):
            return []
        with open(self.report) as f:
            return [json.loads(x) for x in f if x.strip()]

    def wait_runs(self, n, timeout=150):
        """The CreateVpc verdicts of the first n reported runs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ls = self.lines()
            runs = [x["run_id"] for x in ls if x["kind"] == "summary"]
            if len(runs) >= n:
                out = []
                for r in runs[:n]:
                    out += [x for x in ls if x["kind"] == "verdict" and
                            x["run_id"] == r and
                            x["event_name"] == "CreateVpc"]
                self.assertEqual(len(out), n, out)
                return out
            if self.proc.poll() is not None:
                self.err.seek(0)
                self.fail("daemon exited: " + self.err.read()[-2000:])
            time.sleep(0.3)
        self.fail("%d runs never reported: %s" % (n, self.lines()))

    def journal_of(self, run_id):
        return wait_records("CLOUDSAGA_RUN_ID=" + run_id,
                            "CLOUDSAGA_EVENT_NAME=CreateVpc")[0]

    def test_regression_raised_once(self):
        with Sandbox() as sb:
            self.start(sb)
            v = self.wait_runs(2)
            self.assertEqual([x["verdict"] for x in v], ["logged"] * 2)
            self.assertEqual([x["gap"] for x in v], ["ok"] * 2)
            sb.admin("config", {"drop": ["CreateVpc"]})
            v = self.wait_runs(4)
            self.assertEqual([x["verdict"] for x in v[2:]], ["missing"] * 2)
            self.assertEqual(v[2]["gap"], "regression")
            self.assertEqual(v[3]["gap"], "chronic")
            reg = self.journal_of(v[2]["run_id"])
            self.assertEqual(reg["MESSAGE_ID"], MSGID_REGRESSION)
            self.assertEqual(reg["PRIORITY"], "3")
            self.assertEqual(reg["CLOUDSAGA_GAP"], "regression")
            self.assertIn("CLOUDSAGA_LAST_LOGGED", reg)
            self.assertIn("logging regression", reg["MESSAGE"])
            chron = self.journal_of(v[3]["run_id"])
            self.assertEqual(chron["MESSAGE_ID"], MSGID_MISSING)
            self.assertEqual(chron["PRIORITY"], "5")
            self.assertEqual(chron["CLOUDSAGA_GAP"], "chronic")
            # One regression record in all.
            mine = {x["run_id"] for x in v}
            self.assertEqual(len([r for r in records(
                "MESSAGE_ID=" + MSGID_REGRESSION)
                if r["CLOUDSAGA_RUN_ID"] in mine]), 1)
            # The documented queries work read-only while it runs.
            got = state_query(self.state, "SELECT account, region, "
                              "event_name, gap_kind, gap_runs FROM "
                              "event_state WHERE gap_since IS NOT NULL")
            self.assertIn(("default", "us-east-1", "CreateVpc",
                           "regression"), [g[:4] for g in got])
            self.run_doc_queries()
            self.check_status(v)

    def check_status(self, v):
        """cloudsagad status reads the same state, read-only, while the
        daemon runs; the last run has a gap, so it exits 1."""
        p = subprocess.run([CLOUDSAGAD, "status", "--json", "-c",
                            self.conf], capture_output=True, text=True,
                           env=clean_env(), timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        st = json.loads(p.stdout)
        self.assertFalse(st["clean"])
        nc = [e for e in st["entries"] if e["name"] == "nc"][0]
        self.assertEqual(nc["scenario"], "network-changes")
        self.assertTrue(nc["next_run"])
        last = nc["last_run"]
        self.assertIn(last["run_id"], {x["run_id"] for x in self.lines()})
        self.assertGreaterEqual(last["verdicts"]["missing"] +
                                last["verdicts"]["pending"], 1)
        gaps = st["last_gaps"]
        self.assertTrue(gaps)
        self.assertEqual(gaps[0]["event_name"], "CreateVpc")
        self.assertIn(gaps[0]["run_id"], {x["run_id"] for x in v})
        self.assertIn(gaps[0]["gap"], ("regression", "chronic"))
        # The text form, and no state at all.
        p = subprocess.run([CLOUDSAGAD, "status", "-c", self.conf],
                           capture_output=True, text=True, env=clean_env(),
                           timeout=60)
        self.assertIn("last gaps", p.stdout)
        self.assertIn("CreateVpc", p.stdout)
        empty = os.path.join(self.dir, "empty.conf")
        with open(empty, "w") as f:
            f.write('daemon = { state_dir = "%s/nostate"; };\n' % self.dir)
        p = subprocess.run([CLOUDSAGAD, "status", "-c", empty],
                           capture_output=True, text=True, env=clean_env(),
                           timeout=60)
        self.assertEqual(p.returncode, 3, p.stderr)

    def test_chronic_gap_then_digest(self):
        with Sandbox("--drop", "CreateVpc") as sb:
            self.start(sb)
            v = self.wait_runs(3)
            self.assertEqual([x["gap"] for x in v],
                             ["new", "chronic", "chronic"])
            first = self.journal_of(v[0]["run_id"])
            self.assertEqual(first["PRIORITY"], "4")
            self.assertEqual(first["MESSAGE_ID"], MSGID_MISSING)
            for x in v[1:]:
                self.assertEqual(self.journal_of(x["run_id"])["PRIORITY"],
                                 "5")
            # Only one warning-level logging-gap record for CreateVpc.
            mine = {x["run_id"] for x in v}
            warn = [r for r in records("MESSAGE_ID=" + MSGID_MISSING,
                                       "CLOUDSAGA_EVENT_NAME=CreateVpc")
                    if r["PRIORITY"] == "4" and
                    r["CLOUDSAGA_RUN_ID"] in mine]
            self.assertEqual(len(warn), 1)
            self.assertFalse([r for r in records(
                "MESSAGE_ID=" + MSGID_REGRESSION)
                if r["CLOUDSAGA_RUN_ID"] in mine])
            # The daily digest (its time of day has passed: 00:00) comes
            # with the next start, once.
            self.stop()
            self.start(sb)
            dg = wait_records("MESSAGE_ID=" + MSGID_DIGEST, timeout=30)
            self.assertEqual(len(dg), 1, dg)
            self.assertEqual(dg[0]["PRIORITY"], "4")
            self.assertIn("CreateVpc", dg[0]["MESSAGE"])
            self.assertEqual(dg[0]["CLOUDSAGA_CHRONIC_LOGGING_GAPS"], "1")
            line = [x for x in self.lines() if x["kind"] == "digest"]
            self.assertEqual(len(line), 1)
            self.assertEqual(line[0]["gaps"][0]["event_name"], "CreateVpc")
            self.stop()
            self.start(sb)
            self.wait_runs(5)
            self.assertEqual(len(records("MESSAGE_ID=" + MSGID_DIGEST)), 1)

    def test_acknowledged_until_expiry_then_fixed(self):
        ack = ('known_gaps = ( { region = "us-east-1"; event_name = '
               '"CreateVpc"; reason = "trail excludes EC2 writes, '
               'ticket SEC-42"; expires = "%s"; } );')
        # An expired acknowledgement: -n says so; the gap is loud.
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir, "extra": ack % day(-1)})
        p = subprocess.run([CLOUDSAGAD, "-n", "-c", self.conf],
                           capture_output=True, text=True, env=clean_env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("expired on", p.stderr)
        with Sandbox("--drop", "CreateVpc") as sb:
            self.start(sb, ack % day(-1))
            v = self.wait_runs(1)
            self.assertEqual(v[0]["gap"], "new")
            self.assertEqual(self.journal_of(v[0]["run_id"])["PRIORITY"],
                             "4")
            self.stop()
            # Acknowledged until tomorrow: quiet.
            self.start(sb, ack % day(1))
            v = self.wait_runs(3)
            for x in v[1:]:
                self.assertEqual(x["gap"], "acknowledged")
                rec = self.journal_of(x["run_id"])
                self.assertEqual(rec["PRIORITY"], "6")
                self.assertIn("SEC-42", rec["CLOUDSAGA_ACK_REASON"])
            # Logged again: fixed, said at notice.
            sb.admin("config", {"drop": []})
            deadline = time.monotonic() + 90
            while True:
                v = self.wait_runs(len([x for x in self.lines()
                                        if x["kind"] == "summary"]) or 1)
                if v[-1]["verdict"] == "logged":
                    break
                self.assertLess(time.monotonic(), deadline)
                time.sleep(1)
            self.assertEqual(v[-1]["gap"], "fixed")
            rec = self.journal_of(v[-1]["run_id"])
            self.assertEqual(rec["CLOUDSAGA_GAP"], "fixed")
            self.assertEqual(rec["PRIORITY"], "5")
            self.assertIn("gap fixed", rec["MESSAGE"])

    def run_doc_queries(self):
        """Every SQL block of docs/STATE.md's "Querying it" runs."""
        with open(os.path.join(SRC, "docs", "STATE.md")) as f:
            doc = f.read()
        sql = doc[doc.index("## Querying it"):]
        blocks = re.findall(r"```sql\n(.*?)```", sql, re.S)
        self.assertTrue(blocks)
        stmts = [s.strip() for b in blocks for s in b.split(";")
                 if s.strip() and not s.strip().startswith("--") or
                 (s.strip() and "SELECT" in s)]
        n = 0
        for s in stmts:
            s = "\n".join(l for l in s.splitlines()
                          if not l.strip().startswith("--"))
            if not s.strip():
                continue
            state_query(self.state, s)
            n += 1
        self.assertGreaterEqual(n, 5)
        # ...and so does the sqlite3 shell, read-only.
        path = os.path.join(self.state, "state.db")
        p = subprocess.run(["sqlite3", "-readonly", path,
                            "SELECT count(*) FROM runs"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertGreaterEqual(int(p.stdout.strip()), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
