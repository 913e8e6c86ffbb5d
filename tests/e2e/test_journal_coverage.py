"""The alert-gap story through the real daemon (issue 6, #11).

A team ran network-changes, saw the calls in CloudTrail, and nothing
alerted until they built an EventBridge rule for CreateSecurityGroup by
hand.  Here the daemon runs network-changes on a schedule against the
sandbox and a real journald:

  cycle 1  no rules: CreateSecurityGroup (a signal call) is logged and
           uncovered (an alert gap, a warning with its own MESSAGE_ID);
           DescribeInstances, the discovery the scenario needs (a context
           call), is logged and its alert coverage is not judged
           ("context"): no alert gap, no remediation, info;
  then     the rule is created with the real aws CLI (put-rule with a
           pattern on detail.eventName, put-targets with an SNS topic), and
           a rule for DescribeInstances that would see it;
  cycle 2  CreateSecurityGroup is covered, naming the rule and the topic;
           DescribeInstances is still not judged, whatever the rules.
(Rule states and read-only signal calls: e2e.coverage.)
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, aws_cli, clean_env
from journald import Journald, wait_records

MSGID_UNCOVERED = "3f9a4d952275426e9ae1f114f1288c50"
MSGID_COVERED = "b91e03a6394f4a1f80fa7540826dd4d2"

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "report.jsonl"; };
verify = { initial_delay = "2s"; interval = "2s"; deadline = "15s"; };
coverage = { eventbridge = true; };
schedule = ( { scenario = "network-changes"; every = "5s"; jitter = "0s";
               regions = [ "us-east-1" ]; } );
"""

SG_PATTERN = json.dumps({"source": ["aws.ec2"],
                         "detail-type": ["AWS API Call via CloudTrail"],
                         "detail": {"eventName": ["CreateSecurityGroup"]}})
RO_PATTERN = json.dumps({"source": ["aws.ec2"],
                         "detail-type": ["AWS API Call via CloudTrail"],
                         "detail": {"eventName": ["DescribeInstances"]}})


class CoverageStoryTest(unittest.TestCase):
    def setUp(self):
        self.journald = Journald()
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-cov.")
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir})
        self.report = os.path.join(self.dir, "state", "report.jsonl")
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.journald.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def lines(self):
        if not os.path.exists(self.report):
            return []
        with open(self.report) as f:
            return [json.loads(x) for x in f if x.strip()]

    def next_run(self, after):
        """Verdicts of the first run summarised after the runs in after."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            ls = self.lines()
            for s in ls:
                if s["kind"] == "summary" and s["run_id"] not in after:
                    return s["run_id"], {
                        v["event_name"]: v for v in ls
                        if v["kind"] == "verdict" and
                        v["run_id"] == s["run_id"]}
            self.assertIsNone(self.proc.poll(), "the daemon exited")
            time.sleep(0.3)
        self.fail("no new run summary")

    def test_story(self):
        with Sandbox("--delay", "1") as sb:
            sb.seed("instances", "us-east-1=1")
            env = clean_env(AWS_ENDPOINT_URL=sb.url)
            self.proc = subprocess.Popen([CLOUDSAGAD, "-c", self.conf],
                                         env=env, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL)
            seen = set()

            # Cycle 1: no rules at all.
            rid, v = self.next_run(seen)
            seen.add(rid)
            sg = v["CreateSecurityGroup"]
            self.assertEqual(sg["verdict"], "logged")
            self.assertEqual(sg["coverage"], "uncovered")
            self.assertEqual(sg["rules"], [])
            gap = wait_records("CLOUDSAGA_RUN_ID=" + rid,
                               "CLOUDSAGA_EVENT_NAME=CreateSecurityGroup")
            self.assertEqual(len(gap), 1)
            self.assertEqual(gap[0]["MESSAGE_ID"], MSGID_UNCOVERED)
            self.assertEqual(gap[0]["PRIORITY"], "4")
            self.assertEqual(gap[0]["CLOUDSAGA_COVERAGE"], "uncovered")
            self.assertEqual(gap[0]["CLOUDSAGA_VERDICT"], "logged")
            # The remediation names a pattern that would match.
            self.assertIn("CreateSecurityGroup",
                          gap[0].get("CLOUDSAGA_EVENT_PATTERN", ""))

            # The context call: logged, alert coverage not judged.
            di = v["DescribeInstances"]
            self.assertEqual(di["verdict"], "logged")
            self.assertEqual(di["role"], "context")
            self.assertEqual(di["coverage"], "context")
            self.assertNotIn("remediation", di)
            self.assertIsNone(di["alert_gap"])
            self.assertEqual(sg["role"], "signal")
            rec = wait_records("CLOUDSAGA_RUN_ID=" + rid,
                               "CLOUDSAGA_EVENT_NAME=DescribeInstances")
            self.assertTrue(rec)
            for r in rec:
                self.assertEqual(r["PRIORITY"], "6", r)
                self.assertEqual(r["CLOUDSAGA_ROLE"], "context")
                self.assertEqual(r["CLOUDSAGA_COVERAGE"], "context")
                self.assertNotIn("CLOUDSAGA_REMEDIATION", r)
                self.assertNotEqual(r["MESSAGE_ID"], MSGID_UNCOVERED)

            # The rule the story describes, with the real aws CLI.
            topic = aws_cli(sb.url, "sns", "create-topic", "--name",
                            "security-alerts", "--region", "us-east-1",
                            env=env)["TopicArn"]
            aws_cli(sb.url, "events", "put-rule", "--name", "sg-created",
                    "--event-pattern", SG_PATTERN, "--region", "us-east-1",
                    env=env)
            aws_cli(sb.url, "events", "put-targets", "--rule", "sg-created",
                    "--targets", "Id=mail,Arn=" + topic, "--region",
                    "us-east-1", env=env)
            aws_cli(sb.url, "events", "put-rule", "--name", "ro-instances",
                    "--event-pattern", RO_PATTERN, "--state",
                    "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
                    "--region", "us-east-1", env=env)
            aws_cli(sb.url, "events", "put-targets", "--rule",
                    "ro-instances", "--targets", "Id=mail,Arn=" + topic,
                    "--region", "us-east-1", env=env)
            # Runs that started before the rules existed may still finish.
            start = time.monotonic()
            while True:
                rid, v = self.next_run(seen)
                seen.add(rid)
                if v["CreateSecurityGroup"]["coverage"] == "covered":
                    break
                self.assertLess(time.monotonic() - start, 90)

            # Cycle 2: covered, naming the rule and the SNS topic.
            sg = v["CreateSecurityGroup"]
            self.assertEqual(sg["rules"], [{"name": "sg-created",
                                            "targets": [topic]}])
            rec = wait_records("CLOUDSAGA_RUN_ID=" + rid,
                               "CLOUDSAGA_EVENT_NAME=CreateSecurityGroup")
            self.assertEqual(rec[0]["CLOUDSAGA_COVERAGE"], "covered")
            self.assertEqual(rec[0]["CLOUDSAGA_RULE"], "sg-created")
            self.assertEqual(rec[0]["CLOUDSAGA_TARGETS"], topic)
            self.assertEqual(rec[0]["MESSAGE_ID"], MSGID_COVERED)
            # A rule on DescribeInstances changes nothing: context calls
            # are never judged, so never covered or uncovered.
            di = v["DescribeInstances"]
            self.assertEqual(di["verdict"], "logged")
            self.assertEqual(di["coverage"], "context")
            self.assertEqual(v["CreateSecurityGroup"]["coverage"], "covered")

            self.proc.send_signal(signal.SIGTERM)
            self.assertEqual(self.proc.wait(30), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
