"""TestEventPattern calls are bounded by the distinct questions.

17 regions x 20 EventBridge rules, three calls per region (51 logged
events): asking every rule about every event would be 51 x 20 questions.
The coverage check asks EventBridge each distinct question once per cycle:
a question is the rule's pattern plus the values of the event fields the
pattern names, so a pattern on source/detail-type/eventName is asked once
per event name whatever the region, while the one rule that names
detail.awsRegion is asked once per region (the answer really differs:
it covers eu-west-1 only).  The sandbox counts the calls it serves; the
count is logged per cycle and equals the number of distinct questions
computed here, in both cycles (a new cycle asks again).
"""
import json
import unittest

from coverage_harness import REGIONS17, CoverageTool, client, verdicts
from harness import Sandbox
from verify_harness import Workdir

ALL = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
EC2 = {"source": ["aws.ec2"],
       "detail-type": ["AWS API Call via CloudTrail"]}


def canonical(*names):
    p = dict(EC2)
    p["detail"] = {"eventSource": ["ec2.amazonaws.com"],
                   "eventName": list(names)}
    return p


# (name, state, pattern, has a target)
RULES = [
    ("sg-created", "ENABLED", canonical("CreateSecurityGroup"), True),
    ("vpc-in-ireland", "ENABLED",
     {"detail": {"eventName": ["CreateVpc"], "awsRegion": ["eu-west-1"]}},
     True),
    ("recon", ALL, canonical("DescribeInstances"), True),
    ("recon-enabled-only", "ENABLED", canonical("DescribeInstances"), True),
    ("vpc-disabled", "DISABLED", canonical("CreateVpc"), True),
    ("trail-tamper", "ENABLED",
     {"source": ["aws.cloudtrail"], "detail": {"eventName": [
         "StopLogging", "DeleteTrail", "UpdateTrail"]}}, True),
    ("root-use", "ENABLED",
     {"detail": {"userIdentity": {"type": ["Root"]}}}, True),
    ("iam-changes", "ENABLED",
     {"source": ["aws.iam"], "detail": {"eventName": [{"prefix": "Put"}]}},
     True),
    ("console-login", "ENABLED",
     {"detail-type": ["AWS Console Sign In via CloudTrail"]}, True),
    ("kms-delete", "ENABLED",
     {"source": ["aws.kms"], "detail": {"eventName": [
         "ScheduleKeyDeletion", "DisableKey"]}}, True),
] + [
    ("ec2-watch-%02d" % i, "ENABLED",
     canonical("DeleteSecurityGroup%d" % i, "RevokeSecurityGroup%d" % i),
     True)
    for i in range(10)
]
assert len(RULES) == 20

CALLS = [c for r in REGIONS17 for c in (
    "ec2:CreateSecurityGroup@%s?GroupName=x&GroupDescription=y" % r,
    "ec2:CreateVpc@%s?CidrBlock=10.8.0.0/16" % r,
    "ec2:DescribeInstances@%s" % r)]
READ_ONLY = {"DescribeInstances"}


def sees(state, name):
    if state == ALL:
        return True
    return state == "ENABLED" and name not in READ_ONLY


def paths(pattern, prefix=()):
    for k, v in pattern.items():
        if isinstance(v, dict):
            yield from paths(v, prefix + (k,))
        else:
            yield prefix + (k,)


def model_event(name, region):
    """The envelope fields any of RULES names, as the sandbox records them
    for these calls (the caller is the same everywhere)."""
    return {"source": "aws.ec2",
            "detail-type": "AWS API Call via CloudTrail",
            "detail": {"eventSource": "ec2.amazonaws.com",
                       "eventName": name, "awsRegion": region,
                       "userIdentity": {"type": "same-caller"}}}


def project(event, path):
    v = event
    for k in path:
        if not isinstance(v, dict) or k not in v:
            return ("absent",)
        v = v[k]
    return ("value", json.dumps(v, sort_keys=True))


def expected_questions():
    """(questions asked by rows, distinct questions): a question is a
    pattern and the values of the fields it names."""
    asked, distinct = 0, set()
    for call in CALLS:
        name = call.split(":")[1].split("@")[0]
        region = call.split("@")[1].split("?")[0]
        event = model_event(name, region)
        for rname, state, pattern, _ in RULES:
            if not sees(state, name):
                continue
            asked += 1
            distinct.add((json.dumps(pattern, sort_keys=True),
                          tuple(project(event, p) for p in
                                sorted(paths(pattern)))))
    return asked, len(distinct)


class ScaleTest(unittest.TestCase):
    def setUp(self):
        self.work = Workdir()
        self.tool = None

    def tearDown(self):
        if self.tool is not None:
            self.tool.kill()
        self.work.cleanup()

    def seed_rules(self, sb):
        for region in REGIONS17:
            ev = client(sb, "events", region)
            for name, state, pattern, target in RULES:
                ev.put_rule(Name=name, State=state,
                            EventPattern=json.dumps(pattern))
                if target:
                    ev.put_targets(Rule=name, Targets=[{
                        "Id": "t", "Arn": "arn:aws:sns:%s:123456789012:"
                        "alerts" % region}])

    def test_17_regions_20_rules(self):
        asked, distinct = expected_questions()
        self.assertEqual(len(CALLS), 51)
        # The naive count would be the rule x event pairs.
        self.assertEqual(asked, 34 * 19 + 17 * 1)
        # 16 rules with 15 distinct patterns (recon and recon-enabled-only
        # have the same one: the answer does not depend on the rule) name
        # eventName: 2 questions each for the two write calls; root-use
        # and console-login name nothing that differs here: 1 each;
        # vpc-in-ireland names awsRegion: 2 x 17; recon (ALL) also sees
        # DescribeInstances: 1 more.
        self.assertEqual(distinct, 15 * 2 + 2 + 2 * 17 + 1)
        with Sandbox("--lookup-tps", "0") as sb:
            self.seed_rules(sb)
            self.tool = tool = CoverageTool(
                sb, self.work, CALLS, cycles=2,
                extra=["--deadline", "20", "--test-rate", "50"])
            base = sb.admin("stats")["test_event_pattern"]
            for cycle in (1, 2):
                c, st, end = tool.cycle()
                served = sb.admin("stats")["test_event_pattern"] - base
                base += served
                self.assertEqual(c["logged"], 51, c)
                self.assertEqual(st["rows"], 51, st)
                self.assertEqual(st["questions"], asked, st)
                # Every distinct question once, and nothing more.
                self.assertEqual(st["tep_calls"], distinct, st)
                self.assertEqual(served, distinct)
                self.assertEqual(st["failures"], 0, st)
                v = verdicts(self.work, c["run"])
                for region in REGIONS17:
                    sg = v[("CreateSecurityGroup", region)]
                    self.assertEqual(sg["coverage"], "covered", sg)
                    self.assertEqual([r["name"] for r in sg["rules"]],
                                     ["sg-created"])
                    self.assertEqual(sg["rules"][0]["targets"], [
                        "arn:aws:sns:%s:123456789012:alerts" % region])
                    di = v[("DescribeInstances", region)]
                    self.assertEqual([r["name"] for r in di["rules"]],
                                     ["recon"], di)
                    vpc = v[("CreateVpc", region)]
                    if region == "eu-west-1":
                        self.assertEqual([r["name"] for r in vpc["rules"]],
                                         ["vpc-in-ireland"], vpc)
                    else:
                        self.assertEqual(vpc["coverage"], "uncovered", vpc)
                        self.assertIn("none of the 20 EventBridge rules",
                                      vpc["coverage_reason"])
                        self.assertIn("1 disabled", vpc["coverage_reason"])
                self.assertEqual((c["covered"], c["uncovered"]),
                                 (35, 16), c)
                if cycle == 1:
                    self.assertEqual(end, "waiting")
                    tool.next_cycle()
            log = tool.finish()
            self.tool = None
            for cycle in (1, 2):
                self.assertIn("coverage cycle %d: 51 logged events checked "
                              "(35 covered, 16 uncovered, 0 unknown); "
                              "TestEventPattern: %d calls for %d questions"
                              % (cycle, distinct, asked), log)
            # Rules were listed once per region and cycle.
            reqs = sb.admin("stats")["requests"]["events"]
            self.assertEqual(reqs["ListRules"], 17 * 2, reqs)


if __name__ == "__main__":
    unittest.main(verbosity=2)
