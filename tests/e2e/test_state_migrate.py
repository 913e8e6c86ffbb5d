"""The JSON state layout of earlier versions is migrated once.

A state directory as the previous cloudsagad left it (ledger.json +
runs/<runid>.json, format "cloudsagad-ledger" version 1; see
`git show 932205e:docs/STATE.md`) holds:

  - run A, with two pending rows for calls that really happened in the
    sandbox (made here with boto3 under A's user-agent marker; their
    request IDs taken from the answers), fired now, deadline now + 20 s;
  - run B, ended, with one decided row (missing) that was queued (seq 3)
    but never reported;
  - ledger.json: last_seq 3, the schedule entry last started now (so no
    new run is due for an hour).

The real daemon started on it must migrate it (runs/ and ledger.json
renamed *.migrated-<time>), verify A's rows (logged, with the sandbox's
eventIDs for those request IDs), report B's queued row once (its verdict
line with a seq above 3, one journal record), and both runs' summaries;
a restart must not migrate or report anything again.
"""
import collections
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import uuid

import boto3
import botocore.config
import botocore.exceptions

from harness import CLOUDSAGAD, FAKE_KEY, Sandbox, clean_env, state_query
from journald import Journald, records

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "20s"; };
coverage = { eventbridge = false; };
schedule = ( { name = "mig"; scenario = "network-changes"; every = "1h"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""
UA = "cloudsagad/0.1.0 run/%s"


class Migrate(unittest.TestCase):
    def setUp(self):
        self.journald = Journald()
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-migrate.")
        self.state = os.path.join(self.dir, "state")
        os.makedirs(os.path.join(self.state, "runs"), mode=0o700)
        self.report = os.path.join(self.state, "report.jsonl")
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir})
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.journald.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_json(self, rel, obj):
        path = os.path.join(self.state, rel)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f)

    def calls(self, sb, run_id):
        """Two real calls in the sandbox under run_id's marker."""
        ec2 = boto3.client(
            "ec2", region_name="us-east-1", endpoint_url=sb.url,
            aws_access_key_id=FAKE_KEY,
            aws_secret_access_key=clean_env()["AWS_SECRET_ACCESS_KEY"],
            config=botocore.config.Config(user_agent=UA % run_id,
                                          retries={"max_attempts": 1}))
        out = []
        t = time.time()
        ans = ec2.describe_vpcs()
        out.append(("DescribeVpcs", None, True, t,
                    ans["ResponseMetadata"]["RequestId"]))
        t = time.time()
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            ec2.create_security_group(GroupName="cloudsagad-migrate",
                                      Description="x", DryRun=True)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "DryRunOperation")
        out.append(("CreateSecurityGroup", "Client.DryRunOperation", False,
                    t, err["ResponseMetadata"]["RequestId"]))
        return out

    def row(self, idx, name, code, ro, fired, rid, run_id, **kw):
        r = {"idx": idx, "account_id": "123456789012",
             "call_region": "us-east-1", "region": "us-east-1",
             "event_source": "ec2.amazonaws.com", "event_name": name,
             "request_id": rid, "access_key_id": FAKE_KEY,
             "user_agent": UA % run_id, "read_only": ro,
             "fired_at": fired, "deadline": fired + 20,
             "verdict": "pending", "seq": 0, "reported": False}
        if code is not None:
            r["error_code"] = code
        r.update(kw)
        return r

    def start(self, sb):
        """Start the daemon; return once it said READY=1."""
        sockpath = os.path.join(self.dir, "notify")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(sockpath)
        ns.settimeout(0.5)
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [CLOUDSAGAD, "-c", self.conf],
            env=clean_env(AWS_ENDPOINT_URL=sb.url, NOTIFY_SOCKET=sockpath),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)
        deadline = time.monotonic() + 30
        try:
            while time.monotonic() < deadline:
                try:
                    if "READY=1" in ns.recv(4096).decode().split("\n"):
                        return
                except socket.timeout:
                    self.alive()
            self.fail("no READY=1")
        finally:
            ns.close()
            os.unlink(sockpath)

    def alive(self):
        if self.proc.poll() is not None:
            self.err.seek(0)
            self.fail("daemon exited %d: %s" % (self.proc.returncode,
                                                self.err.read()[-3000:]))

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(30), 0)
        self.err.close()

    def lines(self):
        if not os.path.exists(self.report):
            return []
        with open(self.report) as f:
            return [json.loads(x) for x in f if x.strip()]

    def listing(self):
        return sorted(os.listdir(self.state))

    def journal_ids(self):
        return collections.Counter(
            r["CLOUDSAGA_REPORT_ID"] for r in
            records("SYSLOG_IDENTIFIER=cloudsagad")
            if "CLOUDSAGA_REPORT_ID" in r)

    def test_json_layout_migrated_once(self):
        run_a, run_b = uuid.uuid4().hex, uuid.uuid4().hex
        with Sandbox() as sb:
            sb.seed("instances", "us-east-1=1")
            made = self.calls(sb, run_a)
            now = time.time()
            self.write_json("runs/%s.json" % run_a, {
                "format": "cloudsagad-ledger", "version": 1,
                "run_id": run_a, "scenario": "network-changes",
                "account": "default", "started": made[0][3] - 0.5,
                "finished": now, "halted": False,
                "calls": {"permitted": 1, "denied": 0, "skipped": 0,
                          "error": 0},
                "summary_seq": 0, "summary_reported": False,
                "expectations": [self.row(i, n, c, ro, t, rid, run_a)
                                 for i, (n, c, ro, t, rid)
                                 in enumerate(made)]})
            b_row = self.row(0, "CreateVpc", "Client.DryRunOperation",
                             False, now - 600, "req-of-an-older-run",
                             run_b, verdict="missing", decided_at=now - 60,
                             reason="no record of the call by its deadline",
                             seq=3)
            self.write_json("runs/%s.json" % run_b, {
                "format": "cloudsagad-ledger", "version": 1,
                "run_id": run_b, "scenario": "network-changes",
                "account": "default", "started": now - 601,
                "finished": now - 590, "halted": False,
                "calls": {"permitted": 1, "denied": 0, "skipped": 0,
                          "error": 0},
                "summary_seq": 0, "summary_reported": False,
                "expectations": [b_row]})
            self.write_json("ledger.json", {
                "format": "cloudsagad-ledger", "version": 1, "last_seq": 3,
                "schedule": {"mig": now}})

            # First start: migrate, verify, report.
            self.start(sb)
            want = {"%s-0" % run_a, "%s-1" % run_a, "%s-0" % run_b,
                    run_a + "-summary", run_b + "-summary"}
            deadline = time.monotonic() + 60
            while not want <= {x["report_id"] for x in self.lines()}:
                self.alive()
                self.assertLess(time.monotonic(), deadline,
                                "never reported: %s" % self.lines())
                time.sleep(0.2)
            self.stop()
            lines = self.lines()
            after_first = self.listing()
            ids1 = self.journal_ids()

            events = sb.admin("events")["events"]
            by_req = {e["requestId"]: e["record"]["eventID"]
                      for e in events if e.get("requestId")}

        # Migrated: the JSON layout renamed, the database made.
        print("after the first start: %s" % after_first)
        self.assertNotIn("runs", after_first)
        self.assertNotIn("ledger.json", after_first)
        self.assertEqual(len([n for n in after_first
                              if n.startswith("runs.migrated-")]), 1)
        self.assertEqual(len([n for n in after_first
                              if n.startswith("ledger.json.migrated-")]), 1)
        self.assertIn("state.db", after_first)
        self.assertEqual(state_query(self.state, "SELECT count(*) FROM "
                                     "meta WHERE key = 'migrated_at'")[0][0],
                         1)

        byid = collections.Counter(x["report_id"] for x in lines)
        self.assertEqual([k for k, c in byid.items() if c > 1], [])
        v = {x["report_id"]: x for x in lines if x["kind"] == "verdict"}
        # A's pending rows: verified, logged with the sandbox's eventIDs.
        for i, (name, _, _, _, rid) in enumerate(made):
            line = v["%s-%d" % (run_a, i)]
            self.assertEqual(line["verdict"], "logged", line)
            self.assertEqual(line["event_name"], name)
            self.assertEqual(line["event_id"], by_req[rid], line)
            print("%s (%s): logged, event %s" % (name, rid,
                                                 line["event_id"]))
        # B's queued row: reported once, as it was decided, above seq 3.
        line = v["%s-0" % run_b]
        self.assertEqual(line["verdict"], "missing")
        self.assertEqual(line["event_name"], "CreateVpc")
        self.assertGreaterEqual(line["seq"], 3)
        self.assertEqual([x["seq"] for x in lines],
                         sorted(x["seq"] for x in lines))
        self.assertGreater(lines[0]["seq"], 0)
        for k in want:
            self.assertEqual(byid[k], 1, k)
            self.assertEqual(ids1[k], 1, k)
        rows = state_query(self.state, "SELECT run_id, idx, verdict, "
                           "reported FROM expectations ORDER BY run_id, idx")
        self.assertEqual(sorted(rows), sorted([
            (run_a, 0, "logged", 1), (run_a, 1, "logged", 1),
            (run_b, 0, "missing", 1)]), rows)

        # Second start: nothing migrated or reported again.
        with Sandbox() as sb:
            self.start(sb)
            time.sleep(2)       # an absence: nothing to wait for
            self.stop()
        self.assertEqual(self.listing(), after_first)
        again = self.lines()
        self.assertEqual(again, lines)
        ids2 = self.journal_ids()
        for k in want:
            self.assertEqual(ids2[k], 1, k)
        self.assertEqual(state_query(self.state, "SELECT count(*) FROM "
                                     "runs")[0][0], 2)
        print("migrated once: %d lines (%s), journal records %d; the "
              "restart added none" % (len(lines), ", ".join(
                  sorted(collections.Counter(x["kind"] for x in lines))),
                  sum(ids1.values())))


if __name__ == "__main__":
    unittest.main(verbosity=2)
