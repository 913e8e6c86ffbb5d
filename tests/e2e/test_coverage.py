"""Alert coverage, the story behind the product, end to end.

A team runs the network-changes calls, sees them logged in CloudTrail, and
learns that nothing alerted.  verify-tool (the real verifier, coverage
check and reporter) runs the calls against the sandbox with an instance in
us-east-1 and reports to a real systemd-journald; between cycles the test
builds EventBridge rules with the real aws CLI, and the next cycle (fresh
caches) reports the calls covered, naming rule and SNS topic.  Rule state
matters: ENABLED does not see the read-only DescribeInstances,
ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS does.  When EventBridge
cannot be asked, coverage is unknown - never an alert gap.
"""
import json
import os
import re
import unittest

from coverage_harness import (CoverageTool, client, rule_names, rule_targets,
                              seed)
from harness import Sandbox, aws_cli
from journald import Journald, records, wait_records
from verify_harness import Workdir

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
MSGID = {}
with open(os.path.join(TOP, "daemon", "msgid.h")) as _f:
    for _m in re.finditer(r'#define\s+MSGID_(\w+)\s+"([0-9a-f]{32})"',
                          _f.read()):
        MSGID[_m.group(1)] = _m.group(2)


def network_changes(sb):
    """The calls network-changes makes in us-east-1 (an instance there:
    the security-group step runs) and in eu-west-1 (none: CreateVpc)."""
    ec2 = client(sb, "ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault",
                                      "Values": ["true"]}])["Vpcs"][0]
    sg = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    return [
        "ec2:DescribeInstances@us-east-1",
        "ec2:DescribeVpcs@us-east-1",
        "ec2:CreateSecurityGroup@us-east-1?GroupName=open-2-everyone&"
        "GroupDescription=open-2-everyone&VpcId=" + vpc["VpcId"],
        "ec2:DescribeSecurityGroups@us-east-1",
        "ec2:AuthorizeSecurityGroupIngress@us-east-1?GroupId=%s&"
        "IpPermissions.1.IpProtocol=-1&"
        "IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0" % sg["GroupId"],
        "ec2:DescribeInstances@eu-west-1",
        "ec2:CreateVpc@eu-west-1?CidrBlock=192.168.220.0/24",
    ]


class CoverageStoryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journald = Journald()

    @classmethod
    def tearDownClass(cls):
        cls.journald.stop()

    def setUp(self):
        self.work = Workdir()
        self.tool = None

    def tearDown(self):
        if self.tool is not None:
            self.tool.kill()
        self.work.cleanup()

    def journal(self, run_id, count):
        recs = wait_records("CLOUDSAGA_RUN_ID=" + run_id, count=count + 1)
        out = {}
        for r in recs:
            if "CLOUDSAGA_VERDICT" in r:
                out[(r["CLOUDSAGA_EVENT_NAME"], r["CLOUDSAGA_REGION"])] = r
        self.assertEqual(len(out), count, recs)
        return out

    def test_story_no_rule_then_rule_then_state(self):
        with Sandbox() as sb:
            seed(sb, "instances", "us-east-1=1")
            calls = network_changes(sb)
            self.tool = tool = CoverageTool(
                sb, self.work, calls, cycles=3, backend="journal",
                extra=["--deadline", "12"])

            # Cycle 1: no rules.  Everything is logged, nothing alerts.
            c, st, end = tool.cycle()
            self.assertEqual(end, "waiting")
            self.assertEqual((c["logged"], c["missing"], c["uncovered"],
                              c["covered"], c["coverage_unknown"]),
                             (7, 0, 7, 0, 0), c)
            v = tool.verdicts(c["run"])
            sg = v[("CreateSecurityGroup", "us-east-1")]
            self.assertEqual(sg["verdict"], "logged")
            self.assertEqual(sg["coverage"], "uncovered")
            self.assertEqual(sg["rules"], [])
            self.assertIn("no EventBridge rule on the default event bus "
                          "in us-east-1", sg["coverage_reason"])
            pattern = sg["remediation"]["event_pattern"]
            self.assertEqual(pattern["detail"]["eventName"],
                             ["CreateSecurityGroup"])
            self.assertEqual(pattern["source"], ["aws.ec2"])
            self.assertEqual(sg["remediation"]["rule_state"], "ENABLED")
            self.assertEqual(v[("DescribeInstances", "us-east-1")]
                             ["remediation"]["rule_state"],
                             "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
            # The alert gap in the journal: a warning with its own ID.
            j = self.journal(c["run"], 7)
            gap = j[("CreateSecurityGroup", "us-east-1")]
            self.assertEqual(gap["PRIORITY"], "4")
            self.assertEqual(gap["MESSAGE_ID"], MSGID["UNCOVERED"])
            self.assertEqual(gap["CLOUDSAGA_COVERAGE"], "uncovered")
            self.assertEqual(gap["CLOUDSAGA_VERDICT"], "logged")
            self.assertNotIn("CLOUDSAGA_RULE", gap)
            self.assertEqual(json.loads(gap["CLOUDSAGA_EVENT_PATTERN"]),
                             pattern)
            self.assertIn("no rule would alert on ec2:CreateSecurityGroup",
                          gap["MESSAGE"])
            self.assertTrue(gap["MESSAGE"].startswith("alert gap: "))
            self.assertEqual(st["questions"], 0)   # nothing to ask

            # The fix, as the team built it by hand: the pattern the gap
            # names, an SNS topic as target, with the real aws CLI.  Also a
            # rule on DescribeInstances in plain ENABLED state, and one on
            # AuthorizeSecurityGroupIngress that nobody listens to.
            topic = aws_cli(sb.url, "sns", "create-topic", "--region",
                            "us-east-1", "--name", "security-alerts")
            topic_arn = topic["TopicArn"]
            aws_cli(sb.url, "events", "put-rule", "--region", "us-east-1",
                    "--name", "detect-open-sg", "--event-pattern",
                    json.dumps(pattern))
            aws_cli(sb.url, "events", "put-targets", "--region", "us-east-1",
                    "--rule", "detect-open-sg", "--targets",
                    json.dumps([{"Id": "email", "Arn": topic_arn}]))
            describe = {"source": ["aws.ec2"],
                        "detail-type": ["AWS API Call via CloudTrail"],
                        "detail": {"eventName": ["DescribeInstances"]}}
            aws_cli(sb.url, "events", "put-rule", "--region", "us-east-1",
                    "--name", "watch-describe", "--state", "ENABLED",
                    "--event-pattern", json.dumps(describe))
            aws_cli(sb.url, "events", "put-targets", "--region", "us-east-1",
                    "--rule", "watch-describe", "--targets",
                    json.dumps([{"Id": "email", "Arn": topic_arn}]))
            aws_cli(sb.url, "events", "put-rule", "--region", "us-east-1",
                    "--name", "ingress-nobody-reads", "--event-pattern",
                    json.dumps({"detail": {"eventName": [
                        "AuthorizeSecurityGroupIngress"]}}))
            tool.next_cycle()

            # Cycle 2: the new rules are seen (a new cycle, fresh caches).
            c, st, end = tool.cycle()
            self.assertEqual(end, "waiting")
            v = tool.verdicts(c["run"])
            sg = v[("CreateSecurityGroup", "us-east-1")]
            self.assertEqual(sg["coverage"], "covered", sg)
            self.assertEqual(sg["rules"], [{"name": "detect-open-sg",
                                            "targets": [topic_arn]}])
            # ENABLED does not receive the read-only DescribeInstances.
            di = v[("DescribeInstances", "us-east-1")]
            self.assertEqual(di["coverage"], "uncovered", di)
            self.assertIn("in state ENABLED, which does not receive "
                          "read-only events", di["coverage_reason"])
            # A rule that matches without targets alerts nobody.
            ingress = v[("AuthorizeSecurityGroupIngress", "us-east-1")]
            self.assertEqual(ingress["coverage"], "uncovered", ingress)
            self.assertIn("rule ingress-nobody-reads matches but has no "
                          "targets", ingress["coverage_reason"])
            # Rules are regional: eu-west-1 still has none.
            self.assertEqual(v[("CreateVpc", "eu-west-1")]["coverage"],
                             "uncovered")
            self.assertEqual((c["covered"], c["uncovered"]), (1, 6), c)
            # Questions: the non-read-only us-east-1 events (CreateSecurity
            # Group, AuthorizeSecurityGroupIngress) x the two rules that
            # see them (watch-describe is ENABLED too); read-only events
            # reach no rule in ENABLED state.
            self.assertEqual(st["questions"], 2 * 3, st)
            self.assertEqual(st["tep_calls"], st["questions"], st)
            j = self.journal(c["run"], 7)
            ok = j[("CreateSecurityGroup", "us-east-1")]
            # Uncovered in the first cycle, covered now: the alert gap
            # closed, said at notice, under the verdict's MESSAGE_ID.
            self.assertEqual(ok["PRIORITY"], "5")
            self.assertEqual(ok["CLOUDSAGA_ALERT_GAP"], "fixed")
            self.assertEqual(ok["MESSAGE_ID"], MSGID["COVERED"])
            self.assertEqual(ok["CLOUDSAGA_COVERAGE"], "covered")
            self.assertEqual(ok["CLOUDSAGA_RULE"], "detect-open-sg")
            self.assertEqual(ok["CLOUDSAGA_TARGETS"], topic_arn)
            self.assertIn("would alert: rule detect-open-sg -> " + topic_arn,
                          ok["MESSAGE"])
            self.assertEqual(j[("DescribeInstances", "us-east-1")]
                             ["MESSAGE_ID"], MSGID["UNCOVERED"])

            # The state that lets read-only events through.
            aws_cli(sb.url, "events", "put-rule", "--region", "us-east-1",
                    "--name", "watch-describe", "--state",
                    "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS",
                    "--event-pattern", json.dumps(describe))
            tool.next_cycle()

            # Cycle 3: DescribeInstances is covered in us-east-1 only.
            c, st, end = tool.cycle()
            self.assertTrue(end.startswith("done"), end)
            v = tool.verdicts(c["run"])
            di = v[("DescribeInstances", "us-east-1")]
            self.assertEqual(di["coverage"], "covered", di)
            self.assertEqual(rule_names(di), ["watch-describe"])
            self.assertEqual(rule_targets(di), [topic_arn])
            self.assertEqual(v[("DescribeInstances", "eu-west-1")]
                             ["coverage"], "uncovered")
            self.assertEqual(v[("DescribeVpcs", "us-east-1")]["coverage"],
                             "uncovered")
            self.assertEqual((c["covered"], c["uncovered"]), (2, 5), c)
            j = self.journal(c["run"], 7)
            self.assertEqual(j[("DescribeInstances", "us-east-1")]
                             ["CLOUDSAGA_RULE"], "watch-describe")
            pid = tool.proc.pid
            tool.finish()
            self.tool = None
            # The TestEventPattern calls of each cycle are logged.
            logs = [r["MESSAGE"] for r in records("_PID=%d" % pid)
                    if r["MESSAGE"].startswith("coverage cycle ")]
            self.assertEqual(len(logs), 3, logs)
            self.assertIn("coverage cycle 1: 7 logged events checked "
                          "(0 covered, 7 uncovered, 0 unknown); "
                          "TestEventPattern: 0 calls for 0 questions",
                          logs[0])
            self.assertIn("TestEventPattern: 6 calls for 6 questions",
                          logs[1])
            # Cycle 3: the three read-only us-east-1 events reach
            # watch-describe now.
            self.assertIn("TestEventPattern: 9 calls for 9 questions",
                          logs[2])
            # The summary counts coverage too.
            summaries = [l for l in self.work.lines()
                         if l["kind"] == "summary"]
            self.assertEqual([(s["covered"], s["uncovered"])
                              for s in summaries], [(0, 7), (1, 6), (2, 5)])

    def test_unreachable_eventbridge_is_unknown_never_a_gap(self):
        with Sandbox("--fault", "events:500:1") as sb:
            self.tool = tool = CoverageTool(
                sb, self.work, ["ec2:CreateSecurityGroup@us-east-1?"
                                "GroupName=x&GroupDescription=y",
                                "ec2:DescribeInstances@us-east-1"],
                backend="journal", extra=["--deadline", "8"])
            c, st, end = tool.cycle()
            self.assertTrue(end.startswith("done"), end)
            self.assertEqual((c["logged"], c["coverage_unknown"],
                              c["uncovered"], c["covered"]), (2, 2, 0, 0), c)
            for v in tool.verdicts(c["run"]).values():
                self.assertEqual(v["coverage"], "unknown", v)
                self.assertIn("EventBridge rules in us-east-1: ListRules: "
                              "InternalFailure", v["coverage_reason"])
                self.assertNotIn("remediation", v)
            # ListRules was really tried, with the client's retries (the
            # two rows shared the one listing in flight).
            self.assertGreaterEqual(
                sb.admin("stats")["faults"].get("events/500", 0), 3)
            self.assertNotIn("TestEventPattern",
                             sb.admin("stats")["requests"].get("events", {}))
            j = self.journal(c["run"], 2)
            for r in j.values():
                self.assertEqual(r["MESSAGE_ID"], MSGID["COVERAGE_UNKNOWN"])
                self.assertEqual(r["PRIORITY"], "5")
                self.assertEqual(r["CLOUDSAGA_COVERAGE"], "unknown")
            tool.finish()
            self.tool = None


if __name__ == "__main__":
    unittest.main(verbosity=2)
