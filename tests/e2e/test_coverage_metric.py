"""Alert coverage through CloudWatch metric-filter alarms (the CIS path).

A trail sends the account's events to a CloudWatch Logs group; metric
filters on it count matching events; alarms on those metrics alert through
their actions.  verify-tool checks each logged event with the real
coverage code: DescribeTrails -> GetTrailStatus -> DescribeMetricFilters
-> TestMetricFilter (with the real CloudTrail record) ->
DescribeAlarmsForMetric.  An alarm with actions covers its event; one
without actions, a filter without an alarm, a trail that is not logging
do not.
"""
import unittest

from coverage_harness import (CoverageTool, rule_names, rule_targets, seed,
                              verdicts)
from harness import Sandbox
from verify_harness import Workdir

CIS_SG = ("{ ($.eventName = AuthorizeSecurityGroupIngress) || "
          "($.eventName = CreateSecurityGroup) || "
          "($.eventName = DeleteSecurityGroup) }")
VPC = "{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) }"
DRYRUN = '{ $.errorCode = "*DryRunOperation" }'

CALLS = [
    "ec2:CreateSecurityGroup@us-east-1?GroupName=x&GroupDescription=y",
    "ec2:CreateVpc@us-east-1?CidrBlock=10.9.0.0/16",
    "ec2:CreateVpc@eu-west-1?CidrBlock=10.9.0.0/16",
    "ec2:DescribeInstances@us-east-1",
    "ec2:DescribeVpcs@us-east-1",
]


class MetricFilterCoverageTest(unittest.TestCase):
    def setUp(self):
        self.work = Workdir()
        self.tool = None

    def tearDown(self):
        if self.tool is not None:
            self.tool.kill()
        self.work.cleanup()

    def run_tool(self, sb, coverage="metric-filters"):
        self.tool = CoverageTool(sb, self.work, CALLS, coverage=coverage,
                                 extra=["--deadline", "10"])
        c, st, end = self.tool.cycle()
        self.assertTrue(end.startswith("done"), end)
        log = self.tool.finish()
        self.tool = None
        self.assertEqual(c["logged"], len(CALLS), c)
        return c, st, verdicts(self.work, c["run"]), log

    def test_alarm_with_actions_covers_without_does_not(self):
        with Sandbox() as sb:
            t = seed(sb, "trail", "org-trail", "--log-group",
                     "CloudTrail/org", "--multi-region")
            self.assertTrue(t["logging"])
            # CIS 4.10: security group changes, alarm -> SNS.
            sg = seed(sb, "metric-filter", "SecurityGroupChanges",
                      "--log-group", "CloudTrail/org", "--pattern", CIS_SG,
                      "--alarm", "sg-changes", "--alarm-topic", "cis")
            # CIS 4.14: VPC changes, an alarm without any action.
            seed(sb, "metric-filter", "VpcChanges", "--log-group",
                 "CloudTrail/org", "--pattern", VPC, "--alarm",
                 "vpc-changes")
            # A filter nobody watches.
            seed(sb, "metric-filter", "DryRuns", "--log-group",
                 "CloudTrail/org", "--pattern", DRYRUN, "--metric",
                 "DryRunCount")
            before = sb.admin("stats")["requests"]
            c, st, v, log = self.run_tool(sb)
            sgv = v[("CreateSecurityGroup", "us-east-1")]
            self.assertEqual(sgv["coverage"], "covered", sgv)
            self.assertEqual(rule_names(sgv), [
                "metric-filter:SecurityGroupChanges/alarm:sg-changes"])
            self.assertEqual(rule_targets(sgv), sg["alarmActions"])
            self.assertIn("DryRuns matches but no alarm watches its "
                          "metric CISBenchmark/DryRunCount",
                          sgv["coverage_reason"])
            # CreateVpc matches VpcChanges (and DryRuns), but that alarm
            # has no action: nobody would hear of it.
            for region in ("us-east-1", "eu-west-1"):
                vpc = v[("CreateVpc", region)]
                self.assertEqual(vpc["coverage"], "uncovered", vpc)
                self.assertIn("metric filter VpcChanges matches but alarm "
                              "vpc-changes has no actions",
                              vpc["coverage_reason"])
                self.assertEqual(vpc["rules"], [])
            # Read-only calls match no filter.
            di = v[("DescribeInstances", "us-east-1")]
            self.assertEqual(di["coverage"], "uncovered", di)
            self.assertIn("none of the 3 metric filters on the trail log "
                          "group matches", di["coverage_reason"])
            self.assertEqual((c["covered"], c["uncovered"],
                              c["coverage_unknown"]), (1, 4, 0), c)
            # One TestMetricFilter per (filter, event), nothing else.
            stats = sb.admin("stats")
            self.assertEqual(stats["test_metric_filter"], 3 * len(CALLS))
            self.assertEqual(st["tmf_calls"], 3 * len(CALLS), st)
            self.assertEqual(st["tep_calls"], 0, st)
            # Listings are asked once per cycle, not once per event.
            reqs = stats["requests"]

            def delta(svc, action):
                return (reqs.get(svc, {}).get(action, 0) -
                        before.get(svc, {}).get(action, 0))
            self.assertEqual(delta("logs", "DescribeMetricFilters"), 1)
            # us-east-1 and eu-west-1 (the multi-region trail's shadow).
            self.assertEqual(delta("cloudtrail", "DescribeTrails"), 2)
            self.assertEqual(delta("cloudtrail", "GetTrailStatus"), 1)
            self.assertEqual(delta("monitoring",
                                   "DescribeAlarmsForMetric"), 3)
            self.assertIn("TestMetricFilter: 15 calls", log)

    def test_trail_not_logging_or_without_log_group_covers_nothing(self):
        with Sandbox() as sb:
            seed(sb, "trail", "stopped-trail", "--log-group", "CloudTrail/x",
                 "--multi-region", "--stopped")
            seed(sb, "metric-filter", "SecurityGroupChanges",
                 "--log-group", "CloudTrail/x", "--pattern", CIS_SG,
                 "--alarm", "sg-changes", "--alarm-topic", "cis")
            c, st, v, log = self.run_tool(sb)
            sgv = v[("CreateSecurityGroup", "us-east-1")]
            self.assertEqual(sgv["coverage"], "uncovered", sgv)
            self.assertIn("trail stopped-trail is not logging",
                          sgv["coverage_reason"])
            self.assertIn("no logging trail sends the events of us-east-1 "
                          "to CloudWatch Logs", sgv["coverage_reason"])
            self.assertEqual(sb.admin("stats")["test_metric_filter"], 0)

    def test_both_paths_name_both(self):
        # EventBridge and metric filters together: every way an alert
        # would be raised is listed.
        with Sandbox() as sb:
            seed(sb, "trail", "org-trail", "--log-group", "CloudTrail/org",
                 "--multi-region")
            seed(sb, "metric-filter", "SecurityGroupChanges",
                 "--log-group", "CloudTrail/org", "--pattern", CIS_SG,
                 "--alarm", "sg-changes", "--alarm-topic", "cis")
            r = seed(sb, "rule", "detect-sg", "--pattern",
                     '{"detail":{"eventName":["CreateSecurityGroup"]}}',
                     "--sns-topic", "sec")
            c, st, v, log = self.run_tool(
                sb, coverage="eventbridge,metric-filters")
            sgv = v[("CreateSecurityGroup", "us-east-1")]
            self.assertEqual(sgv["coverage"], "covered", sgv)
            self.assertEqual(sorted(rule_names(sgv)), [
                "detect-sg",
                "metric-filter:SecurityGroupChanges/alarm:sg-changes"])
            self.assertIn(r["topicArn"], rule_targets(sgv))
            self.assertEqual((c["covered"], c["uncovered"]), (1, 4), c)


if __name__ == "__main__":
    unittest.main(verbosity=2)
