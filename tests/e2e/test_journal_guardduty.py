"""GuardDuty through the real daemon: checked when the run is complete,
reported before the run's summary (#14).

The daemon runs network-changes once against the sandbox, with
coverage.guardduty on and a real journald.  Once every row of the run is
reported and the run has ended, the pipeline asks GuardDuty about the run
and holds the run's summary until GuardDuty has answered: the run's
guardduty_finding and guardduty records come before its summary, in the
report file and in the journal.  A GuardDuty that never answers (the
sandbox holds every GuardDuty answer for ten minutes) does not hold the
summary for ever: the check fails at the HTTP timeout, its regions are
reported as not checked, then the summary follows.
(GuardDuty's matching and its records: e2e.coverage_guardduty.)
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, clean_env
from journald import Journald, records, wait_records

MSGID_SUMMARY = "6c4b6d07ef144b20ac538296a8cf3833"
MSGID_GD_FINDING = "f1117afdfa244a8eaf849a8ceb67e78f"
MSGID_GD_SUMMARY = "65e7190b4c764654a320b4303838d7d8"

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "report.jsonl";
           http_connect_timeout = "2s"; http_timeout = "3s"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "20s"; };
coverage = { eventbridge = false; guardduty = true; };
schedule = ( { scenario = "network-changes"; every = "1h"; jitter = "0s";
               regions = [ "us-east-1" ]; } );
"""

# Updated after any run of this test started: every run sees it, and it
# concerns the run by its CreateSecurityGroup in us-east-1 ("api").
FINDING = {"type": "Recon:IAMUser/MaliciousIPCaller",
           "updatedAt": "2099-01-01T00:00:00.000Z",
           "service": {"action": {"awsApiCallAction": {
               "api": "CreateSecurityGroup",
               "serviceName": "ec2.amazonaws.com"}}}}


def report_lines(path):
    """The report file's objects, in line order ([] before it exists)."""
    try:
        with open(path) as f:
            return [json.loads(x) for x in f if x.strip()]
    except FileNotFoundError:
        return []


class GuardDutyBeforeSummaryTest(unittest.TestCase):
    def setUp(self):
        # Cleanups run last first: the daemon, the directory, journald.
        self.journald = Journald()
        self.addCleanup(self.journald.stop)
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-gd.")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir})
        self.report = os.path.join(self.dir, "state", "report.jsonl")
        self.proc = None
        self.addCleanup(self.kill)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def start(self, sb):
        sb.seed("instances", "us-east-1=1")
        self.proc = subprocess.Popen([CLOUDSAGAD, "-c", self.conf],
                                     env=clean_env(AWS_ENDPOINT_URL=sb.url),
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)

    def summary(self, timeout):
        """The report file's lines once the first run's summary is in it,
        and that run's id."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ls = report_lines(self.report)
            for line in ls:
                if line["kind"] == "summary":
                    return ls, line["run_id"]
            self.assertIsNone(self.proc.poll(), "the daemon exited")
            time.sleep(0.3)
        self.fail("no run summary in %ds" % timeout)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(30), 0)

    def assert_before_summary(self, ls, rid, kinds):
        """Every record of kinds of run rid precedes its summary: in the
        report file (line order and seq) and in the journal."""
        mine = [(i, x) for i, x in enumerate(ls) if x.get("run_id") == rid]
        at = [i for i, x in mine if x["kind"] == "summary"]
        self.assertEqual(len(at), 1)
        gd = [(i, x) for i, x in mine if x["kind"] in kinds]
        self.assertEqual(sorted({x["kind"] for _, x in gd}), sorted(kinds))
        for i, x in gd:
            self.assertLess(i, at[0], x)
        seq = [x["seq"] for i, x in gd if "seq" in x]
        if seq and "seq" in ls[at[0]]:
            self.assertLess(max(seq), ls[at[0]]["seq"])
        # The journal, in its own order.
        wait_records("CLOUDSAGA_RUN_ID=" + rid,
                     "MESSAGE_ID=" + MSGID_SUMMARY)
        recs = records("CLOUDSAGA_RUN_ID=" + rid)
        ids = [r.get("MESSAGE_ID") for r in recs]
        self.assertEqual(ids.count(MSGID_SUMMARY), 1, ids)
        self.assertEqual(ids.count(MSGID_GD_SUMMARY), 1, ids)
        s = ids.index(MSGID_SUMMARY)
        for k, m in enumerate(ids):
            if m in (MSGID_GD_FINDING, MSGID_GD_SUMMARY):
                self.assertLess(k, s, ids)
        return recs

    def test_guardduty_records_come_before_the_summary(self):
        with Sandbox() as sb:
            sb.admin("findings", {"region": "us-east-1",
                                  "findings": [FINDING]})
            self.start(sb)
            ls, rid = self.summary(120)
            recs = self.assert_before_summary(
                ls, rid, ("guardduty_finding", "guardduty"))
            self.stop()
        found = [x for x in ls if x["kind"] == "guardduty_finding"]
        self.assertEqual([(f["run_id"], f["region"], f["event_name"],
                           f["match"]) for f in found],
                         [(rid, "us-east-1", "CreateSecurityGroup", "api")])
        gd = [x for x in ls if x["kind"] == "guardduty"][0]
        self.assertEqual(gd["findings"], 1)
        self.assertEqual([r["detectors"] for r in gd["regions"]], [1])
        self.assertEqual([r.get("MESSAGE_ID") for r in recs].count(
            MSGID_GD_FINDING), 1)
        # Every row of the run was reported before GuardDuty was asked.
        verdicts = [i for i, x in enumerate(ls)
                    if x["kind"] == "verdict" and x["run_id"] == rid]
        first_gd = min(i for i, x in enumerate(ls)
                       if x["kind"].startswith("guardduty"))
        self.assertTrue(verdicts)
        self.assertLess(max(verdicts), first_gd)

    def test_guardduty_that_never_answers_does_not_hold_the_summary(self):
        # Every GuardDuty answer held ten minutes; the daemon's HTTP
        # timeout is 3 s.
        with Sandbox("--fault", "guardduty:slow:1",
                     "--slow-seconds", "600") as sb:
            self.start(sb)
            ls, rid = self.summary(150)
            self.assert_before_summary(ls, rid, ("guardduty",))
            self.stop()
        gd = [x for x in ls if x["kind"] == "guardduty"][0]
        self.assertEqual(gd["findings"], 0)
        self.assertEqual([r["region"] for r in gd["regions"]],
                         ["us-east-1"])
        self.assertIn("ListDetectors", gd["regions"][0]["error"])
        self.assertIn("timed out", gd["regions"][0]["error"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
