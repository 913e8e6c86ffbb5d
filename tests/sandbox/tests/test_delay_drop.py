"""Delivery delay, drops (simulated logging gaps) and LookupEvents
pagination that returns every record exactly once."""

import json
import time

import harness
from harness import SandboxTestCase


class DelayDropTest(SandboxTestCase):
    sandbox_args = ("--delay", "2", "--drop", "StopInstances", "--lookup-tps", "0")

    def setUp(self):
        self.sandbox.reset()     # restores the command-line knobs

    def names(self, name=None, region="us-east-1"):
        ct = self.sandbox.client("cloudtrail", region=region)
        kw = {}
        if name:
            kw["LookupAttributes"] = [{"AttributeKey": "EventName", "AttributeValue": name}]
        return [e["EventName"] for e in ct.lookup_events(**kw)["Events"]]

    def test_delay_from_command_line(self):
        cfg = self.sandbox.admin("GET", "/_sandbox/config")
        self.assertEqual(cfg["delay"], {"min": 2.0, "max": 2.0})
        ec2 = self.sandbox.client("ec2")
        ct = self.sandbox.client("cloudtrail")
        attrs = [{"AttributeKey": "EventName", "AttributeValue": "DescribeVpcs"}]
        t0 = time.time()
        ec2.describe_vpcs()
        rec = self.sandbox.events(eventName="DescribeVpcs")[0]
        self.assertAlmostEqual(rec["visibleAtEpoch"] - rec["eventTimeEpoch"], 2.0, places=2)
        early = ct.lookup_events(LookupAttributes=attrs)["Events"]
        if time.time() < rec["visibleAtEpoch"]:     # the lookup surely came before
            self.assertEqual(early, [])
            self.assertFalse(self.sandbox.events(eventName="DescribeVpcs")[0]["visible"])
        seen = harness.wait_for(lambda: "DescribeVpcs" in self.names("DescribeVpcs"),
                                timeout=8, interval=0.1)
        waited = time.time() - t0
        self.assertTrue(seen, "event never became visible")
        self.assertGreaterEqual(waited, 1.95)
        self.assertTrue(self.sandbox.events(eventName="DescribeVpcs")[0]["visible"])

    def test_cli_dry_run_appears_after_the_delay(self):
        t0 = time.time()
        r = self.sandbox.aws("ec2", "create-security-group", "--group-name", "x",
                             "--description", "y", "--dry-run")
        self.assertIn("(DryRunOperation)", r.stderr)
        rec = self.sandbox.events(eventName="CreateSecurityGroup")[0]
        self.assertAlmostEqual(rec["visibleAtEpoch"] - rec["eventTimeEpoch"], 2.0, places=2)
        found = None
        while time.time() - t0 < 15 and not found:
            started = time.time()
            r = self.sandbox.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                                 "AttributeKey=EventName,AttributeValue=CreateSecurityGroup",
                                 "--output", "json")
            self.assertEqual(r.returncode, 0, r.stderr)
            found = json.loads(r.stdout)["Events"]
            if not found:
                # The lookup reached the sandbox after `started`: if it saw
                # nothing, it must have come before the record's visibility.
                self.assertLess(started, rec["visibleAtEpoch"] + 0.05,
                                "still invisible after the delay")
        self.assertTrue(found)
        self.assertGreaterEqual(time.time(), rec["visibleAtEpoch"])
        ev = json.loads(found[0]["CloudTrailEvent"])
        self.assertEqual(ev["errorCode"], "Client.DryRunOperation")
        self.assertTrue(ev["userAgent"].startswith("aws-cli/"))

    def test_delay_range_at_run_time(self):
        cfg = self.sandbox.config(delay="0.5:1.5")
        self.assertEqual(cfg["delay"], {"min": 0.5, "max": 1.5})
        ec2 = self.sandbox.client("ec2")
        for _ in range(12):
            ec2.describe_subnets()
        deltas = [r["visibleAtEpoch"] - r["eventTimeEpoch"]
                  for r in self.sandbox.events(eventName="DescribeSubnets")]
        self.assertEqual(len(deltas), 12)
        for d in deltas:
            self.assertGreaterEqual(d, 0.499)
            self.assertLessEqual(d, 1.501)
        self.assertGreater(max(deltas) - min(deltas), 0.01, "delays were not drawn")

    def test_drop_from_command_line(self):
        self.sandbox.config(delay=0)
        ec2 = self.sandbox.client("ec2")
        with self.assertRaises(ec2.exceptions.ClientError):
            ec2.stop_instances(InstanceIds=["i-0123456789abcdef0"])
        ec2.describe_instances()
        time.sleep(1.0)
        names = self.names()
        self.assertIn("DescribeInstances", names)
        self.assertNotIn("StopInstances", names)
        rec = self.sandbox.events(eventName="StopInstances")
        self.assertEqual(len(rec), 1)
        self.assertTrue(rec[0]["dropped"])
        self.assertFalse(rec[0]["visible"])
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/stats")["dropped"], 1)

    def test_drop_by_name_and_source_at_run_time(self):
        cfg = self.sandbox.config(delay=0, drop=["DeleteSecurityGroup", "iam.amazonaws.com"])
        self.assertEqual(cfg["drop"], ["DeleteSecurityGroup", "iam.amazonaws.com"])
        ec2 = self.sandbox.client("ec2")
        sg = ec2.create_security_group(GroupName="tmp", Description="tmp")["GroupId"]
        ec2.delete_security_group(GroupId=sg)
        self.sandbox.client("iam").create_user(UserName="ghost")
        self.sandbox.client("iam").list_users()
        time.sleep(0.5)     # delay is 0: anything not dropped is visible by now
        names = self.names()
        self.assertIn("CreateSecurityGroup", names)
        self.assertNotIn("DeleteSecurityGroup", names)
        self.assertNotIn("CreateUser", names)
        self.assertNotIn("ListUsers", names)
        ct = self.sandbox.client("cloudtrail")
        by_source = ct.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventSource", "AttributeValue": "iam.amazonaws.com"}])
        self.assertEqual(by_source["Events"], [])
        # Clearing the drop list does not resurrect dropped records.
        self.sandbox.config(drop=[])
        self.assertNotIn("DeleteSecurityGroup", self.names())
        self.sandbox.client("iam").list_users()
        self.assertIn("ListUsers", self.names())

    def test_pagination_exactly_once_cli(self):
        self.sandbox.config(delay=0)
        ec2 = self.sandbox.client("ec2")
        n = 103
        for _ in range(n):
            ec2.describe_availability_zones()
        want = {r["record"]["eventID"] for r in
                self.sandbox.events(eventName="DescribeAvailabilityZones")}
        self.assertEqual(len(want), n)
        r = self.sandbox.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                             "AttributeKey=EventName,AttributeValue=DescribeAvailabilityZones",
                             "--page-size", "50", "--output", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        ids = [e["EventId"] for e in json.loads(r.stdout)["Events"]]
        self.assertEqual(len(ids), n)
        self.assertEqual(set(ids), want)
        calls = self.sandbox.admin("GET", "/_sandbox/stats")["requests"]["cloudtrail"]
        self.assertEqual(calls["LookupEvents"], 3)

    def test_pagination_while_events_arrive(self):
        self.sandbox.config(delay="0:1.5")
        ec2 = self.sandbox.client("ec2")
        ct = self.sandbox.client("cloudtrail")
        for _ in range(30):
            ec2.describe_key_pairs()
        attrs = [{"AttributeKey": "EventName", "AttributeValue": "DescribeKeyPairs"}]
        seen = []
        token = None
        pages = 0
        while True:
            kw = dict(LookupAttributes=attrs, MaxResults=4)
            if token:
                kw["NextToken"] = token
            page = ct.lookup_events(**kw)
            pages += 1
            seen += [e["EventId"] for e in page["Events"]]
            ec2.describe_key_pairs()          # newer events keep arriving
            time.sleep(0.15)
            token = page.get("NextToken")
            if not token:
                break
        self.assertGreater(pages, 2)
        self.assertEqual(len(seen), len(set(seen)), "a record came back twice")
        # Once everything is delivered, one full pass returns each record once.
        time.sleep(1.6)
        full, token = [], None
        while True:
            kw = dict(LookupAttributes=attrs, MaxResults=7)
            if token:
                kw["NextToken"] = token
            page = ct.lookup_events(**kw)
            full += [e["EventId"] for e in page["Events"]]
            token = page.get("NextToken")
            if not token:
                break
        all_ids = {r["record"]["eventID"] for r in
                   self.sandbox.events(eventName="DescribeKeyPairs")}
        self.assertEqual(len(full), len(set(full)))
        self.assertEqual(set(full), all_ids)
        self.assertTrue(set(seen) <= all_ids)

    def test_bad_knobs_rejected(self):
        for body in ({"delay": "3:1"}, {"delay": "-1"}, {"delay": "abc"},
                     {"drop": [""]}, {"latency": -5}, {"nonsense": 1}):
            err = self.sandbox.admin("POST", "/_sandbox/config", body, expect=400)
            self.assertIn("error", err)
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/config")["delay"],
                         {"min": 2.0, "max": 2.0})


if __name__ == "__main__":
    harness.main()
