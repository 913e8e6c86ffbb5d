"""What lands at warning, through the real daemon and a real journald (#11).

Acceptance: "With the README's minimal configuration, `journalctl -p
warning` holds only logging gaps, alert gaps on signal calls and
could-not-test records."  The daemon runs etc/cloudsagad.conf.minimal (the
configuration the README shows and the package installs: network-changes
and cloudtrail-tampering in every enabled region, alert coverage on by
default) against the sandbox, with only what a test needs changed: the
state directory, CloudTrail timings of seconds instead of minutes, and no
jitter (the runs start at once).  The sandbox has an instance in us-east-1
(so network-changes makes its security-group calls there), no EventBridge
rule (every signal call is an alert gap), drops the records of
CreateSecurityGroup (a signal call) and DescribeSecurityGroups (a context
call): two logging gaps, and refuses every EC2 call in eu-west-3 as bad
credentials there (could not test).

`journalctl -p warning -o json` must then hold exactly those kinds, each at
least once: logging gaps (context calls too: they are verified like any
call), alert gaps whose CLOUDSAGA_ROLE is signal, could-not-test records
(could-not-verify ones, unverified verdicts and LookupEvents failing,
would be allowed too).
The many context calls (DescribeRegions, DescribeInstances, DescribeVpcs,
...) are logged with alert coverage "context" (not judged) at info, and
`cloudsagad status` counts the alert coverage of signal calls only.
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

from harness import CLOUDSAGAD, SRC, Sandbox, clean_env
from journald import Journald, records

MSGID = {}
with open(os.path.join(SRC, "daemon", "msgid.h")) as _f:
    for _m in re.finditer(r'#define\s+MSGID_(\w+)\s+"([0-9a-f]{32})"',
                          _f.read()):
        MSGID[_m.group(1)] = _m.group(2)

# What a test changes in the README's configuration.
PREFIX = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; };
verify = { initial_delay = "2s"; interval = "2s"; deadline = "20s"; };
"""


def minimal_config(workdir):
    with open(os.path.join(SRC, "etc", "cloudsagad.conf.minimal")) as f:
        text = f.read()
    text, n = re.subn(r'jitter\s*=\s*"[^"]*";', 'jitter = "0s";', text)
    assert n == 2, "the minimal configuration changed: %d jitters" % n
    assert "coverage" not in text and "verify" not in text, text
    return PREFIX % {"dir": workdir} + text


class WarningsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journald = Journald()

    @classmethod
    def tearDownClass(cls):
        cls.journald.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-warning.")
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        with open(self.conf, "w") as f:
            f.write(minimal_config(self.dir))
        self.report = os.path.join(self.dir, "state", "report.jsonl")
        self.proc = None
        self.err = tempfile.TemporaryFile(mode="w+")

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def lines(self):
        if not os.path.exists(self.report):
            return []
        with open(self.report) as f:
            return [json.loads(x) for x in f if x.strip()]

    def wait_runs(self, timeout=300):
        """Both schedule entries' runs summarised: the report lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ls = self.lines()
            done = {x["scenario"] for x in ls if x["kind"] == "summary"}
            if {"network-changes", "cloudtrail-tampering"} <= done:
                return ls
            if self.proc.poll() is not None:
                self.err.seek(0)
                self.fail("daemon exited: " + self.err.read()[-3000:])
            time.sleep(0.5)
        self.fail("runs never summarised; report: %s" % self.lines())

    def test_warnings_are_gaps_and_could_not_test(self):
        with Sandbox("--delay", "1:2",
                     "--drop", "CreateSecurityGroup",
                     "--drop", "DescribeSecurityGroups",
                     "--fault", "ec2@eu-west-3:authfailure:100%") as sb:
            sb.seed("instances", "us-east-1=1")
            self.proc = subprocess.Popen(
                [CLOUDSAGAD, "-c", self.conf],
                env=clean_env(AWS_ENDPOINT_URL=sb.url),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self.err)
            ls = self.wait_runs()
            pid = str(self.proc.pid)
            status = subprocess.run(
                [CLOUDSAGAD, "status", "--json", "-c", self.conf],
                capture_output=True, text=True, env=clean_env(),
                timeout=60)
            self.proc.send_signal(signal.SIGTERM)
            self.assertEqual(self.proc.wait(60), 0)

        verdicts = [x for x in ls if x["kind"] == "verdict"]
        self.assertTrue(verdicts)
        by_role = {"signal": [], "context": []}
        for v in verdicts:
            by_role[v["role"]].append(v)
            self.assertIn(v["evidence"], ("documented", "observed",
                                          "assumed"), v)
        # Context calls were made, verified and never judged for alerts.
        ctx = [v for v in by_role["context"] if v["verdict"] == "logged"]
        self.assertGreaterEqual(len(ctx), 3, by_role["context"])
        names = {v["event_name"] for v in ctx}
        self.assertTrue({"DescribeInstances", "DescribeVpcs"} <= names,
                        names)
        for v in by_role["context"]:
            if v["verdict"] == "logged":
                self.assertEqual(v["coverage"], "context", v)
            self.assertNotIn("remediation", v)
            self.assertIn(v.get("alert_gap"), (None,), v)
        # Signal calls logged were judged (no rule: alert gaps).
        sig = [v for v in by_role["signal"] if v["verdict"] == "logged"]
        self.assertTrue(sig)
        for v in sig:
            self.assertIn(v["coverage"], ("covered", "uncovered",
                                          "unknown"), v)
        self.assertTrue(any(v["coverage"] == "uncovered" for v in sig))
        # The two logging gaps the sandbox made, one of each role.
        missing = {(v["event_name"], v["role"]) for v in verdicts
                   if v["verdict"] == "missing"}
        self.assertIn(("CreateSecurityGroup", "signal"), missing)
        self.assertIn(("DescribeSecurityGroups", "context"), missing)

        # The journal: everything at warning or above.
        # (The private journald also stores the kernel's ring buffer and
        # its own messages: not the daemon's.)
        warn = [r for r in records("-p", "warning")
                if r.get("_TRANSPORT") not in ("kernel", "driver") and
                r.get("SYSLOG_IDENTIFIER") != "systemd-journald"]
        self.assertTrue(warn)
        kinds = {"logging gap": 0, "alert gap": 0, "could not test": 0,
                 "could not verify": 0}
        for r in warn:
            self.assertEqual(r.get("_PID"), pid, r)
            mid = r.get("MESSAGE_ID")
            if mid in (MSGID["MISSING"], MSGID["REGRESSION"]):
                self.assertEqual(r["CLOUDSAGA_VERDICT"], "missing", r)
                kinds["logging gap"] += 1
            elif mid in (MSGID["UNCOVERED"], MSGID["ALERT_REGRESSION"]):
                self.assertEqual(r["CLOUDSAGA_ROLE"], "signal", r)
                self.assertEqual(r["CLOUDSAGA_COVERAGE"], "uncovered", r)
                kinds["alert gap"] += 1
            elif mid == MSGID["COULD_NOT_TEST"]:
                kinds["could not test"] += 1
            elif mid in (MSGID["UNVERIFIED"], MSGID["LOOKUP_FAILING"]):
                # Could not verify: as loud as could not test, though
                # the sandbox gives no reason for it here.
                kinds["could not verify"] += 1
            else:
                self.fail("at warning, neither a gap nor could-not-test: "
                          "%s" % json.dumps(r, indent=1))
        self.assertTrue(kinds["logging gap"] and kinds["alert gap"] and
                        kinds["could not test"], kinds)
        gaps = {(r["CLOUDSAGA_EVENT_NAME"], r["CLOUDSAGA_ROLE"])
                for r in warn if r.get("MESSAGE_ID") == MSGID["MISSING"]}
        self.assertEqual(gaps, missing)
        # Every alert gap of the report is at warning, and only those.
        self.assertEqual(kinds["alert gap"], len(
            [v for v in sig if v["coverage"] == "uncovered"]))
        # The context calls' records: info, coverage not judged.
        for r in records("CLOUDSAGA_ROLE=context", "CLOUDSAGA_VERDICT=logged"):
            self.assertEqual(r["PRIORITY"], "6", r)
            self.assertEqual(r["CLOUDSAGA_COVERAGE"], "context", r)
            self.assertNotIn("CLOUDSAGA_REMEDIATION", r)

        # cloudsagad status: alert coverage of signal calls only.
        self.assertEqual(status.returncode, 1, status.stderr)
        st = json.loads(status.stdout)
        for e in st["entries"]:
            run = e["last_run"]
            self.assertIsNotNone(run, e)
            mine = [v for v in verdicts if v["run_id"] == run["run_id"]]
            c = run["verdicts"]
            self.assertEqual(c["uncovered"], len(
                [v for v in mine if v["role"] == "signal" and
                 v.get("coverage") == "uncovered"]), (e, c))
            self.assertEqual(c["context"], len(
                [v for v in mine if v["role"] == "context"]), (e, c))
            self.assertEqual(c["signal"] + c["context"], len(mine))
        print("warnings: %s; %d verdicts (%d context)" % (
            kinds, len(verdicts), len(by_role["context"])))


if __name__ == "__main__":
    unittest.main(verbosity=2)
