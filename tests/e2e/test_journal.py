"""Verdicts in a real systemd-journald (and in syslog when there is none).

verify-tool runs the real verifier and reporter against the sandbox with
the journal backend; the records are read back with `journalctl -o json`.
Covered: the logging-gap record (PRIORITY=4, the gap MESSAGE_ID,
CLOUDSAGA_EVENT_NAME), logged records with eventID and latency, the run
summary, unverified records when LookupEvents fails, the same verdicts in
the JSON-lines file, crashes inside the report protocol (no duplicate, no
loss), the message catalog as journalctl -x shows it, and the syslog path.
"""
import collections
import os
import re
import shutil
import socket
import subprocess
import tempfile
import unittest

from harness import Sandbox, clean_env
from journald import Journald, records, wait_records
from verify_harness import (CALLS, FAST, TOOL, Workdir, read_until,
                            run_tool)

# This tree's own files (the sandbox may come from elsewhere).
TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MSGID = {}
with open(os.path.join(TOP, "daemon", "msgid.h")) as _f:
    for _m in re.finditer(r'#define\s+MSGID_(\w+)\s+"([0-9a-f]{32})"',
                          _f.read()):
        MSGID[_m.group(1)] = _m.group(2)


def new_run_id():
    return os.urandom(16).hex()


class JournalTest(unittest.TestCase):
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

    def run_journal(self, sb, run_id, *extra):
        p = run_tool(sb, self.work, "--backend", "journal", "--run-id",
                     run_id, *FAST, *extra)
        self.assertEqual(p.returncode, 0, p.stderr + p.stdout)
        return p

    def test_gap_and_logged_verdicts_in_the_journal(self):
        rid = new_run_id()
        with Sandbox("--delay", "2", "--drop", "CreateSecurityGroup") as sb:
            self.run_journal(sb, rid, "--deadline", "8", *CALLS)
        recs = wait_records("CLOUDSAGA_RUN_ID=" + rid, count=6)
        verdicts = [r for r in recs if "CLOUDSAGA_VERDICT" in r]
        self.assertEqual(len(verdicts), 5, recs)
        gaps = [r for r in verdicts if r["CLOUDSAGA_VERDICT"] == "missing"]
        self.assertEqual(len(gaps), 1, verdicts)
        gap = gaps[0]
        self.assertEqual(gap["PRIORITY"], "4")
        self.assertEqual(gap["MESSAGE_ID"], MSGID["MISSING"])
        self.assertEqual(gap["CLOUDSAGA_EVENT_NAME"], "CreateSecurityGroup")
        self.assertEqual(gap["CLOUDSAGA_EVENT_SOURCE"], "ec2.amazonaws.com")
        self.assertEqual(gap["CLOUDSAGA_REGION"], "us-east-1")
        self.assertEqual(gap["CLOUDSAGA_SCENARIO"], "verify-e2e")
        self.assertEqual(gap["CLOUDSAGA_ACCOUNT"], "sandbox")
        self.assertEqual(gap["CLOUDSAGA_ERROR_CODE"], "Client.DryRunOperation")
        self.assertEqual(gap["SYSLOG_IDENTIFIER"], "cloudsagad")
        self.assertTrue(gap["MESSAGE"].startswith("logging gap: "
                                                  "ec2:CreateSecurityGroup"))
        self.assertNotIn("CLOUDSAGA_EVENT_ID", gap)
        for r in verdicts:
            if r is gap:
                continue
            self.assertEqual(r["CLOUDSAGA_VERDICT"], "logged", r)
            self.assertEqual(r["PRIORITY"], "6")
            self.assertEqual(r["MESSAGE_ID"], MSGID["LOGGED"])
            self.assertRegex(r["CLOUDSAGA_EVENT_ID"], r"^[0-9a-f-]{36}$")
            self.assertGreaterEqual(float(r["CLOUDSAGA_LATENCY_S"]), 2.0)
            self.assertIn("CLOUDSAGA_REQUEST_ID", r)
        summary = [r for r in recs if r.get("MESSAGE_ID") ==
                   MSGID["RUN_SUMMARY"]]
        self.assertEqual(len(summary), 1)
        self.assertEqual(summary[0]["PRIORITY"], "5")
        self.assertEqual(summary[0]["CLOUDSAGA_MISSING"], "1")
        self.assertEqual(summary[0]["CLOUDSAGA_LOGGED"], "4")
        # The JSON-lines report says the same, verdict for verdict.
        lines = {l["report_id"]: l for l in self.work.verdicts()}
        self.assertEqual(len(lines), 5)
        for r in verdicts:
            line = lines[r["CLOUDSAGA_REPORT_ID"]]
            self.assertEqual(line["verdict"], r["CLOUDSAGA_VERDICT"])
            self.assertEqual(line["event_name"], r["CLOUDSAGA_EVENT_NAME"])
            self.assertEqual(line["region"], r["CLOUDSAGA_REGION"])
            self.assertEqual(line["request_id"], r.get("CLOUDSAGA_REQUEST_ID"))
            self.assertEqual(line["event_id"], r.get("CLOUDSAGA_EVENT_ID"))
            self.assertEqual(line["seq"], int(r["CLOUDSAGA_REPORT_SEQ"]))

    def test_failing_lookups_give_unverified_warnings(self):
        rid = new_run_id()
        with Sandbox("--fault", "cloudtrail:503:1",
                     "--drop", "CreateSecurityGroup") as sb:
            self.run_journal(sb, rid, "--deadline", "3", "--grace", "3",
                             *CALLS[:2])
        recs = wait_records("CLOUDSAGA_RUN_ID=" + rid, count=3)
        verdicts = [r for r in recs if "CLOUDSAGA_VERDICT" in r]
        self.assertEqual(len(verdicts), 2, recs)
        for r in verdicts:
            self.assertEqual(r["CLOUDSAGA_VERDICT"], "unverified")
            self.assertEqual(r["PRIORITY"], "4")
            self.assertEqual(r["MESSAGE_ID"], MSGID["UNVERIFIED"])
            self.assertIn("LookupEvents", r["CLOUDSAGA_REASON"])
        failing = records("MESSAGE_ID=" + MSGID["LOOKUP_FAILING"],
                          "CLOUDSAGA_ACCOUNT=sandbox")
        self.assertTrue(any(f["CLOUDSAGA_REGION"] == "us-east-1"
                            for f in failing), failing)

    def crash_and_resume(self, step, delay):
        rid = new_run_id()
        with Sandbox("--delay", delay) as sb:
            p = run_tool(sb, self.work, "--backend", "journal", "--run-id",
                         rid, *FAST, "--deadline", "10", "--crash-at", step,
                         *CALLS)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("fired 5", p.stdout)
            self.assertNotIn("done", p.stdout)     # it really stopped
            before = records("CLOUDSAGA_RUN_ID=" + rid)
            self.run_journal(sb, rid, "--deadline", "10", "--resume")
        recs = wait_records("CLOUDSAGA_RUN_ID=" + rid, count=6)
        ids = collections.Counter(r["CLOUDSAGA_REPORT_ID"] for r in recs
                                  if "CLOUDSAGA_REPORT_ID" in r)
        self.assertEqual(len(ids), 6, recs)        # 5 verdicts + summary
        self.assertEqual(set(ids.values()), {1}, ids)
        lines = collections.Counter(l["report_id"] for l in
                                    self.work.lines())
        self.assertEqual(len(lines), 6)
        self.assertEqual(set(lines.values()), {1}, lines)
        return before

    def test_crash_after_the_journal_step_sends_nothing_twice(self):
        # Killed after the records went to the journal, before the ledger
        # confirmed them: the restart finds them in the journal.
        before = self.crash_and_resume("journal", "0")
        self.assertGreater(len([r for r in before
                                if "CLOUDSAGA_VERDICT" in r]), 0)
        syncs = [r for r in records("SYSLOG_IDENTIFIER=cloudsagad")
                 if "CLOUDSAGA_SYNC" in r]
        self.assertTrue(syncs, "the restart did not check the journal")

    def test_crash_after_the_file_step_sends_each_once(self):
        # Killed after the lines were appended, before the journal: the
        # restart sends the records but does not append the lines again.
        before = self.crash_and_resume("file", "0")
        self.assertEqual([r for r in before if "CLOUDSAGA_VERDICT" in r],
                         [])

    def test_catalog_explains_the_gap(self):
        rid = new_run_id()
        with Sandbox("--drop", "CreateSecurityGroup") as sb:
            self.run_journal(sb, rid, "--deadline", "3",
                             CALLS[1])
        self.assertTrue(wait_records("CLOUDSAGA_RUN_ID=" + rid, count=2))
        # journalctl -x reads the system catalog database only: build one
        # from our catalog alone, in a private mount namespace, so the
        # machine's catalog is not touched.
        tmp = tempfile.mkdtemp(prefix="cloudsaga-catalog-")
        try:
            src = os.path.join(tmp, "src")
            db = os.path.join(tmp, "db")
            os.makedirs(src)
            os.makedirs(db)
            shutil.copy(os.path.join(TOP, "systemd", "cloudsagad.catalog"),
                        src)
            script = ('mount --bind "$0" /usr/lib/systemd/catalog && '
                      'mount --bind "$1" /var/lib/systemd/catalog && '
                      'journalctl --update-catalog && '
                      'exec journalctl --no-pager -x "$2" "$3"')
            p = subprocess.run(["unshare", "-m", "sh", "-c", script, src, db,
                                "CLOUDSAGA_RUN_ID=" + rid,
                                "MESSAGE_ID=" + MSGID["MISSING"]],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(os.path.exists(os.path.join(db, "database")))
            self.assertIn("Subject: Logging gap: CreateSecurityGroup did "
                          "not reach CloudTrail in us-east-1", p.stdout)
            self.assertIn("aws cloudtrail lookup-events --region us-east-1",
                          p.stdout)
            self.assertIn("AttributeValue=CreateSecurityGroup", p.stdout)
            # Fields substituted into the body.
            self.assertIn("verify-e2e, run " + rid,
                          p.stdout.replace("░░ ", ""))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class SyslogTest(unittest.TestCase):
    """No journal: the records go to syslog(3), i.e. /dev/log."""

    def test_gap_reaches_syslog_with_every_field(self):
        tmp = tempfile.mkdtemp(prefix="cloudsaga-syslog-")
        work = Workdir()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        path = os.path.join(tmp, "log")
        sock.bind(path)
        sock.settimeout(30)
        created = None
        try:
            with Sandbox("--drop", "CreateSecurityGroup") as sb:
                args = [TOOL, "--endpoint", sb.url, "--state", work.state,
                        "--report", work.report, "--backend", "syslog"] + \
                    FAST + ["--deadline", "3", CALLS[0], CALLS[1]]
                if os.path.lexists("/dev/log"):
                    # Someone's /dev/log: ours over it, in a private
                    # mount namespace.
                    cmd = ["unshare", "-m", "sh", "-c",
                           'mount --bind "$0" /dev/log && exec "$@"',
                           path] + args
                else:
                    os.symlink(path, "/dev/log")
                    created = "/dev/log"
                    cmd = args
                p = subprocess.Popen(cmd, env=clean_env(),
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                read_until(p, "done", timeout=60)
                p.wait(30)
                p.stdout.close()
                p.stderr.close()
            got = []
            sock.settimeout(1)
            try:
                while True:
                    got.append(sock.recv(65536).decode())
            except socket.timeout:
                pass
        finally:
            if created:
                os.unlink(created)
            sock.close()
            shutil.rmtree(tmp, ignore_errors=True)
            work.cleanup()
        gap = [g for g in got if "verdict=missing" in g]
        self.assertEqual(len(gap), 1, got)
        # LOG_DAEMON | LOG_WARNING, the identifier, every field flattened.
        self.assertTrue(gap[0].startswith("<28>"), gap[0])
        self.assertIn(" cloudsagad[", gap[0])
        self.assertIn("logging gap: ec2:CreateSecurityGroup", gap[0])
        self.assertIn(" event_name=CreateSecurityGroup", gap[0])
        self.assertIn(" event_source=ec2.amazonaws.com", gap[0])
        self.assertIn(" region=us-east-1", gap[0])
        self.assertRegex(gap[0], r" run_id=[0-9a-f]{32}")
        logged = [g for g in got if "verdict=logged" in g]
        self.assertEqual(len(logged), 1, got)
        self.assertTrue(logged[0].startswith("<30>"), logged[0])
        self.assertRegex(logged[0], r" event_id=[0-9a-f-]{36}")
        summary = [g for g in got if " missing=1 " in g]
        self.assertEqual(len(summary), 1, got)
        self.assertTrue(summary[0].startswith("<29>"), summary[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
