"""The daemon end to end: schedule -> run -> CloudTrail -> journal.

The real cloudsagad runs as a service would (no -d: it picks the journal
because the journal socket exists), against the sandbox and a real
systemd-journald started here.  Its verdicts are read back with
`journalctl -o json` and from the JSON-lines report file.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, clean_env, state_rows
from journald import Journald, records, wait_records

MSGID_MISSING = "9997f1a77c534c2d99ffbad67e9dfeee"
MSGID_LOGGED = "121fd4057c964ff68b7a8f51d7e25376"
MSGID_UNCOVERED = "3f9a4d952275426e9ae1f114f1288c50"
MSGID_UNVERIFIED = "b628b917cbc44c9cb97a3ae9251c73d1"
MSGID_SUMMARY = "6c4b6d07ef144b20ac538296a8cf3833"

# The minimal config, with the paths moved into a temporary
# directory (and, for the slower checks, shorter durations).
MINIMAL = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; };
verify = { initial_delay = "%(initial)s"; interval = "%(interval)s"; deadline = "%(deadline)s"; };
schedule = ( { scenario = "network-changes"; every = "30s"; jitter = "0s"; regions = [ "us-east-1", "eu-west-1" ]; } );
"""

# Calls network-changes makes here (the regions are listed, so there is no
# DescribeRegions): DescribeInstances x2, DescribeVpcs,
# DescribeSecurityGroups, CreateSecurityGroup, AuthorizeSecurityGroupIngress
# (us-east-1 has an instance), CreateVpc (eu-west-1 has none).
EXPECTED = 7


class Service:
    """cloudsagad started like systemd would, stderr kept for diagnosis."""

    def __init__(self, conf, sandbox, extra_env=None):
        env = clean_env(AWS_ENDPOINT_URL=sandbox.url)
        env.update(extra_env or {})
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen([CLOUDSAGAD, "-c", conf], env=env,
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.err)

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()
        return self.proc.returncode

    def stderr(self):
        self.err.seek(0)
        return self.err.read()


class DaemonJournalTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journald = Journald()

    @classmethod
    def tearDownClass(cls):
        cls.journald.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-daemon.")
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        self.report = os.path.join(self.dir, "state", "report.jsonl")
        self.services = []

    def tearDown(self):
        for s in self.services:
            s.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, **kw):
        v = {"dir": self.dir, "initial": "5s", "interval": "5s",
             "deadline": "60s"}
        v.update(kw)
        with open(self.conf, "w") as f:
            f.write(MINIMAL % v)

    def start(self, sandbox, **env):
        s = Service(self.conf, sandbox, env)
        self.services.append(s)
        return s

    def report_lines(self):
        if not os.path.exists(self.report):
            return []
        with open(self.report) as f:
            return [json.loads(line) for line in f if line.strip()]

    def wait_report(self, pred, timeout, service=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.report_lines()
            if pred(lines):
                return lines
            if service is not None and service.proc.poll() is not None:
                self.fail("daemon exited: " + service.stderr()[-3000:])
            time.sleep(0.5)
        self.fail("report file never matched; it has:\n%s" %
                  "\n".join(json.dumps(x) for x in self.report_lines()))

    def run_ids(self, lines):
        return {x["run_id"] for x in lines}

    def test_logging_gap_reaches_the_journal(self):
        with Sandbox("--delay", "5", "--drop", "CreateSecurityGroup") as sb:
            sb.seed("instances", "us-east-1=1")
            self.write()
            svc = self.start(sb)
            lines = self.wait_report(
                lambda ls: any(x["kind"] == "summary" for x in ls), 150,
                svc)
            run = next(x for x in lines if x["kind"] == "summary")
            run_id = run["run_id"]
            verdicts = [x for x in lines if x["kind"] == "verdict" and
                        x["run_id"] == run_id]
            self.assertEqual(len(verdicts), EXPECTED, verdicts)
            self.assertEqual(run["expected"], EXPECTED)
            self.assertEqual(run["missing"], 1)
            self.assertEqual(run["logged"], EXPECTED - 1)
            # The report file: logged with eventID and latency, one gap.
            for v in verdicts:
                if v["event_name"] == "CreateSecurityGroup":
                    self.assertEqual(v["verdict"], "missing")
                    self.assertIsNone(v["event_id"])
                else:
                    self.assertEqual(v["verdict"], "logged", v)
                    self.assertTrue(v["event_id"])
                    self.assertGreaterEqual(v["latency_s"], 5.0)
                    self.assertLess(v["latency_s"], 60.0)
            # The journal holds the same, with the documented fields.
            gap = wait_records("CLOUDSAGA_RUN_ID=" + run_id,
                               "CLOUDSAGA_VERDICT=missing")
            self.assertEqual(len(gap), 1, gap)
            g = gap[0]
            self.assertEqual(g["CLOUDSAGA_EVENT_NAME"], "CreateSecurityGroup")
            self.assertEqual(g["PRIORITY"], "4")
            self.assertEqual(g["MESSAGE_ID"], MSGID_MISSING)
            self.assertEqual(g["CLOUDSAGA_SCENARIO"], "network-changes")
            self.assertEqual(g["CLOUDSAGA_REGION"], "us-east-1")
            self.assertEqual(g["CLOUDSAGA_EVENT_SOURCE"], "ec2.amazonaws.com")
            self.assertEqual(g["SYSLOG_IDENTIFIER"], "cloudsagad")
            logged = records("CLOUDSAGA_RUN_ID=" + run_id,
                             "CLOUDSAGA_VERDICT=logged")
            self.assertEqual(len(logged), EXPECTED - 1)
            by_id = {v["event_id"]: v for v in verdicts if v["event_id"]}
            for r in logged:
                self.assertIn(r["CLOUDSAGA_EVENT_ID"], by_id)
                self.assertAlmostEqual(
                    float(r["CLOUDSAGA_LATENCY_S"]),
                    by_id[r["CLOUDSAGA_EVENT_ID"]]["latency_s"], places=1)
                # Alert coverage is on by default and the sandbox has no
                # rules: every logged signal event is also an alert gap;
                # the context calls (discovery: Describe*) are not judged
                # (#11), logged at info.
                if r["CLOUDSAGA_ROLE"] == "signal":
                    self.assertEqual(r["CLOUDSAGA_COVERAGE"], "uncovered")
                    self.assertEqual(r["MESSAGE_ID"], MSGID_UNCOVERED)
                    self.assertEqual(int(r["PRIORITY"]), 4)
                else:
                    self.assertEqual(r["CLOUDSAGA_ROLE"], "context")
                    self.assertEqual(r["CLOUDSAGA_COVERAGE"], "context")
                    self.assertEqual(r["MESSAGE_ID"], MSGID_LOGGED)
                    self.assertEqual(int(r["PRIORITY"]), 6)
            # CreateVpc (eu-west-1, empty) and AuthorizeSecurityGroupIngress
            # are signal calls; DescribeInstances x2, DescribeVpcs and
            # DescribeSecurityGroups context.
            self.assertEqual(sorted(r["CLOUDSAGA_ROLE"] for r in logged),
                             ["context"] * 4 + ["signal"] * 2)
            summ = wait_records("CLOUDSAGA_RUN_ID=" + run_id,
                                "MESSAGE_ID=" + MSGID_SUMMARY)
            self.assertEqual(len(summ), 1)
            self.assertEqual(summ[0]["PRIORITY"], "5")
            self.assertEqual(svc.stop(), 0, svc.stderr())
            # The secret never reaches the journal.
            everything = json.dumps(records("SYSLOG_IDENTIFIER=cloudsagad"))
            self.assertNotIn(clean_env()["AWS_SECRET_ACCESS_KEY"],
                             everything)

    def test_lookup_failures_give_unverified_never_missing(self):
        with Sandbox("--fault", "cloudtrail:500:1") as sb:
            sb.seed("instances", "us-east-1=1")
            self.write(initial="2s", interval="2s", deadline="12s")
            svc = self.start(sb)
            lines = self.wait_report(
                lambda ls: any(x["kind"] == "summary" for x in ls), 120,
                svc)
            run_id = next(x for x in lines if x["kind"] == "summary")[
                "run_id"]
            verdicts = [x for x in lines if x["kind"] == "verdict" and
                        x["run_id"] == run_id]
            self.assertEqual(len(verdicts), EXPECTED)
            self.assertEqual({v["verdict"] for v in verdicts},
                             {"unverified"})
            self.assertFalse(records("CLOUDSAGA_VERDICT=missing",
                                     "CLOUDSAGA_RUN_ID=" + run_id))
            unv = wait_records("CLOUDSAGA_RUN_ID=" + run_id,
                               "MESSAGE_ID=" + MSGID_UNVERIFIED,
                               count=EXPECTED)
            self.assertEqual(len(unv), EXPECTED)
            self.assertEqual(svc.stop(), 0)

    def test_kill9_restart_gives_each_expectation_one_verdict(self):
        # Records become visible 10-14 s after the calls; the daemon is
        # killed while every expectation is still pending.
        with Sandbox("--delay", "10:14", "--drop", "CreateSecurityGroup") \
                as sb:
            sb.seed("instances", "us-east-1=1")
            self.write(initial="3s", interval="3s", deadline="25s")
            svc = self.start(sb)
            state = os.path.join(self.dir, "state")
            deadline = time.monotonic() + 60
            pending, run_id = 0, None
            while time.monotonic() < deadline:
                rows = state_rows(state)
                by_run = {}
                for r in rows:
                    by_run.setdefault(r["run_id"], []).append(r)
                for rid, rs in by_run.items():
                    if len(rs) >= EXPECTED:
                        pending = sum(1 for r in rs
                                      if r["verdict"] == "pending")
                        run_id = rid
                if run_id is not None:
                    break
                time.sleep(0.2)
            self.assertEqual(pending, EXPECTED,
                             "expectations never persisted as pending")
            svc.stop(signal.SIGKILL)
            self.assertEqual([x for x in self.report_lines()
                              if x["kind"] == "verdict"], [])
            # Restart: the killed run is resumed (a new run starts too).
            svc2 = self.start(sb)
            lines = self.wait_report(
                lambda ls: any(x["kind"] == "summary" and
                               x["run_id"] == run_id for x in ls), 120, svc2)
            verdicts = [x for x in lines if x["kind"] == "verdict" and
                        x["run_id"] == run_id]
            self.assertEqual(len(verdicts), EXPECTED, verdicts)
            reported = [v["report_id"] for v in verdicts]
            self.assertEqual(len(reported), len(set(reported)))
            gap = [v for v in verdicts if v["verdict"] == "missing"]
            self.assertEqual([v["event_name"] for v in gap],
                             ["CreateSecurityGroup"])
            # Latency counts from the original call, across the restart.
            for v in verdicts:
                if v["verdict"] == "logged":
                    self.assertGreaterEqual(v["latency_s"], 10.0)
            self.assertEqual(svc2.stop(), 0, svc2.stderr())
            # Exactly one journal record per expectation of that run.
            recs = records("CLOUDSAGA_RUN_ID=" + run_id,
                           "CLOUDSAGA_VERDICT=logged") + \
                records("CLOUDSAGA_RUN_ID=" + run_id,
                        "CLOUDSAGA_VERDICT=missing")
            self.assertEqual(len(recs), EXPECTED)


if __name__ == "__main__":
    unittest.main(verbosity=2)
