"""Coverage across a crash: a verdict decided but not yet checked for
alerting is neither lost nor reported twice nor reported without coverage.

The verifier decides rows and commits them (verdict set, not queued); the
coverage check runs; only then are rows queued and reported.  kill -9 while
EventBridge answers slowly leaves logged rows without coverage in the state
directory; the restart (verify-tool --resume, i.e. verifier_resume) hands
them to the coverage check again, and each gets exactly one verdict line,
with its coverage.
"""
import collections
import json
import os
import time
import unittest

from coverage_harness import CoverageTool
from harness import Sandbox, state_rows
from verify_harness import Workdir

CALLS = [
    "ec2:CreateSecurityGroup@us-east-1?GroupName=x&GroupDescription=y",
    "ec2:CreateVpc@us-east-1?CidrBlock=10.6.0.0/16",
    "ec2:DescribeInstances@eu-west-1",
]


def rows(state):
    return state_rows(state)


class RestartTest(unittest.TestCase):
    def setUp(self):
        self.work = Workdir()
        self.tool = None

    def tearDown(self):
        if self.tool is not None:
            self.tool.kill()
        self.work.cleanup()

    def test_kill9_during_the_check_then_resume(self):
        with Sandbox("--fault", "events:slow:1", "--slow-seconds", "30") as sb:
            self.tool = tool = CoverageTool(sb, self.work, CALLS,
                                            extra=["--deadline", "10"])
            tool.read_until("fired")
            # Wait until every row is logged and committed, still without
            # coverage (ListRules hangs), then kill.
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                rs = rows(self.work.state)
                if len(rs) == 3 and all(r["verdict"] == "logged" and
                                        "coverage" not in r for r in rs):
                    break
                time.sleep(0.2)
            else:
                self.fail("rows never logged: %s" % rows(self.work.state))
            time.sleep(0.5)
            self.assertGreater(sb.admin("stats")["faults"].get(
                "events/slow", 0), 0)
            tool.kill()             # SIGKILL
            self.tool = None
            self.assertEqual([l for l in self.work.lines()
                              if l["kind"] == "verdict"], [])
            for r in rows(self.work.state):
                self.assertEqual(r.get("seq", 0), 0, r)
                self.assertIn("record", r)     # kept for the check

            # EventBridge answers again; the restart checks and reports.
            sb.admin("config", {"faults": []})
            self.tool = tool = CoverageTool(sb, self.work, ["--resume"],
                                            extra=["--deadline", "10"])
            c, st, end = tool.cycle()
            self.assertTrue(end.startswith("done"), end)
            tool.finish()
            self.tool = None
            self.assertEqual(st["rows"], 3, st)
            lines = self.work.lines()
            verdicts = [l for l in lines if l["kind"] == "verdict"]
            counts = collections.Counter(v["report_id"] for v in verdicts)
            self.assertEqual(len(counts), 3, verdicts)
            self.assertEqual(set(counts.values()), {1})
            for v in verdicts:
                self.assertEqual(v["verdict"], "logged")
                self.assertEqual(v["coverage"], "uncovered", v)
            # Reported rows no longer keep their CloudTrail record.
            for r in rows(self.work.state):
                self.assertTrue(r["reported"])
                self.assertNotIn("record", r)
            # A third start has nothing to do.
            self.tool = tool = CoverageTool(sb, self.work, ["--resume"],
                                            extra=["--deadline", "10"])
            c, st, end = tool.cycle()
            tool.finish()
            self.tool = None
            self.assertEqual(st["rows"], 0, st)
            self.assertEqual(self.work.lines(), lines)

    def test_sigterm_waits_for_the_check_then_reports(self):
        with Sandbox("--fault", "events:slow:1", "--slow-seconds", "2") as sb:
            self.tool = tool = CoverageTool(sb, self.work, CALLS,
                                            extra=["--deadline", "10"])
            tool.read_until("fired")
            deadline = time.monotonic() + 30
            while sb.admin("stats")["faults"].get("events/slow", 0) == 0:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)
            # Every row decided (a record can arrive after a poll began:
            # its row is decided by the next one), the check in flight.
            while any(r["verdict"] == "pending"
                      for r in rows(self.work.state)) or \
                    len(rows(self.work.state)) < 3:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)
            t0 = time.monotonic()
            tool.proc.send_signal(15)
            # The check in flight finishes (its answer comes 2 s late) and
            # its rows are reported before the tool stops: "done" when the
            # run completes first, "drained" otherwise.
            end = tool.read_until("drained", "done")
            self.assertIn(end, ("drained pending=0",
                                "done logged=3 missing=0 unverified=0"))
            self.assertLess(time.monotonic() - t0, 10)
            tool.finish()
            self.tool = None
            verdicts = [l for l in self.work.lines()
                        if l["kind"] == "verdict"]
            self.assertEqual(len(verdicts), 3)
            self.assertTrue(all(v["coverage"] == "uncovered"
                                for v in verdicts), verdicts)


    def test_sigterm_cancels_a_hung_check_and_the_restart_does_it(self):
        with Sandbox("--fault", "events:slow:1", "--slow-seconds", "30") as sb:
            self.tool = tool = CoverageTool(sb, self.work, CALLS,
                                            extra=["--deadline", "10"])
            tool.read_until("fired")
            deadline = time.monotonic() + 30
            while sb.admin("stats")["faults"].get("events/slow", 0) == 0:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)
            # Every row decided (a record can arrive after a poll began:
            # its row is decided by the next one), the check in flight.
            while any(r["verdict"] == "pending"
                      for r in rows(self.work.state)) or \
                    len(rows(self.work.state)) < 3:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.1)
            t0 = time.monotonic()
            tool.proc.send_signal(15)
            # The tool gives the check 5 s, then cancels it.
            self.assertEqual(tool.read_until("drained"), "drained pending=0")
            self.assertLess(time.monotonic() - t0, 12)
            tool.finish()
            self.tool = None
            self.assertIn("coverage: 3 checks cancelled at shutdown",
                          tool.log())
            self.assertEqual([l for l in self.work.lines()
                              if l["kind"] == "verdict"], [])
            sb.admin("config", {"faults": []})
            self.tool = tool = CoverageTool(sb, self.work, ["--resume"],
                                            extra=["--deadline", "10"])
            c, st, end = tool.cycle()
            tool.finish()
            self.tool = None
            verdicts = [l for l in self.work.lines()
                        if l["kind"] == "verdict"]
            self.assertEqual(len(verdicts), 3)
            self.assertTrue(all(v["coverage"] == "uncovered"
                                for v in verdicts), verdicts)


if __name__ == "__main__":
    unittest.main(verbosity=2)
