"""Evidence levels in a real systemd-journald (#11).

verify-tool runs the real verifier, history and reporter against the
sandbox with the journal backend, twice on the same state directory.  The
sandbox drops two calls' records: one whose recording is only assumed
(#assumed), one observed in a real trail (#observed).  The observed one is
a logging gap (warning, then chronic); the assumed one is unverified at
notice with its own MESSAGE_ID and reason, both runs, and never becomes a
gap in the history.  An assumed call that is found is simply logged.
"""
import os
import re
import unittest

from harness import Sandbox, state_query
from journald import Journald, wait_records
from verify_harness import FAST, Workdir, run_tool

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MSGID = {}
with open(os.path.join(TOP, "daemon", "msgid.h")) as _f:
    for _m in re.finditer(r'#define\s+MSGID_(\w+)\s+"([0-9a-f]{32})"',
                          _f.read()):
        MSGID[_m.group(1)] = _m.group(2)

CALLS = [
    # Dropped by the sandbox, only assumed to be recorded.
    "ec2:CreateSecurityGroup@us-east-1?GroupName=cloudsaga-e2e&"
    "GroupDescription=cloudsaga#signal#assumed",
    # Dropped by the sandbox, observed in a real trail: a logging gap.
    "ec2:CreateVpc@us-east-1?CidrBlock=10.99.0.0/16#observed",
    # Assumed, and recorded: logged like any call.
    "ec2:DescribeVpcs@us-east-1#context#assumed",
]


def new_run_id():
    return os.urandom(16).hex()


class EvidenceTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journald = Journald()

    @classmethod
    def tearDownClass(cls):
        cls.journald.stop()

    def setUp(self):
        self.work = Workdir()

    def tearDown(self):
        self.work.cleanup()

    def run_once(self, sb):
        rid = new_run_id()
        p = run_tool(sb, self.work, "--backend", "journal", "--run-id", rid,
                     *FAST, "--deadline", "6", *CALLS)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        recs = wait_records("CLOUDSAGA_RUN_ID=" + rid, count=4)
        by_name = {r["CLOUDSAGA_EVENT_NAME"]: r for r in recs
                   if "CLOUDSAGA_VERDICT" in r}
        lines = {l["event_name"]: l for l in self.work.verdicts()
                 if l["run_id"] == rid}
        summary = [r for r in recs
                   if r.get("MESSAGE_ID") == MSGID["RUN_SUMMARY"]]
        self.assertEqual(len(by_name), 3, recs)
        self.assertEqual(len(summary), 1, recs)
        return by_name, lines, summary[0]

    def test_assumed_not_found_is_no_gap(self):
        with Sandbox("--delay", "1", "--drop", "CreateSecurityGroup",
                     "--drop", "CreateVpc") as sb:
            for run in (1, 2):
                j, l, summ = self.run_once(sb)
                # The assumed call not found: unverified, notice.
                a, al = j["CreateSecurityGroup"], l["CreateSecurityGroup"]
                self.assertEqual(a["CLOUDSAGA_VERDICT"], "unverified")
                self.assertEqual(a["CLOUDSAGA_EVIDENCE"], "assumed")
                self.assertEqual(a["CLOUDSAGA_ROLE"], "signal")
                self.assertEqual(a["PRIORITY"], "5")
                self.assertEqual(a["MESSAGE_ID"], MSGID["UNCONFIRMED"])
                self.assertIn("complete lookup", a["CLOUDSAGA_REASON"])
                self.assertIn("only assumed", a["CLOUDSAGA_REASON"])
                self.assertNotIn("CLOUDSAGA_GAP", a)
                self.assertTrue(a["MESSAGE"].startswith("unconfirmed: "))
                self.assertEqual(al["verdict"], "unverified")
                self.assertEqual(al["evidence"], "assumed")
                self.assertIs(al["not_found"], True)
                self.assertIsNone(al["gap"])
                # The observed call not found: a logging gap, new then
                # chronic.
                o, ol = j["CreateVpc"], l["CreateVpc"]
                self.assertEqual(o["CLOUDSAGA_VERDICT"], "missing")
                self.assertEqual(o["CLOUDSAGA_EVIDENCE"], "observed")
                self.assertEqual(o["MESSAGE_ID"], MSGID["MISSING"])
                self.assertEqual(ol["gap"], "new" if run == 1 else
                                 "chronic")
                self.assertEqual(o["PRIORITY"], "4" if run == 1 else "5")
                self.assertIs(ol["not_found"], True)
                # The assumed call found: logged.
                f = j["DescribeVpcs"]
                self.assertEqual(f["CLOUDSAGA_VERDICT"], "logged")
                self.assertEqual(f["CLOUDSAGA_EVIDENCE"], "assumed")
                self.assertEqual(f["CLOUDSAGA_ROLE"], "context")
                self.assertNotIn("not_found", l["DescribeVpcs"])
                # The summary counts it apart.
                self.assertEqual(summ["CLOUDSAGA_UNVERIFIED"], "1")
                self.assertEqual(summ["CLOUDSAGA_UNCONFIRMED"], "1")
                self.assertEqual(summ["CLOUDSAGA_MISSING"], "1")
            # The history: a gap for CreateVpc, none for the assumed call.
            rows = dict(state_query(
                self.work.state, "SELECT event_name, gap_runs FROM "
                "event_state WHERE gap_since IS NOT NULL"))
            self.assertEqual(rows, {"CreateVpc": 2})
            self.assertEqual(state_query(
                self.work.state, "SELECT count(*) FROM expectations WHERE "
                "evidence = 'assumed' AND verdict = 'unverified' AND "
                "not_found = 1")[0][0], 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
