"""LookupEvents answers a careful client must not trust (noevents,
nullevents, badevents, badrecord, truncpage), duplicate deliveries,
per-name delivery delays and records without a requestID."""

import json
import time

import harness
from harness import SandboxTestCase

LOOKUP = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
VPCS = "Action=DescribeVpcs&Version=2016-11-15"


class LookupFaultTest(SandboxTestCase):
    sandbox_args = ("--lookup-tps", "0", "--delay-name", "CreateKeyPair=0.5:0.5",
                    "--duplicate", "DescribeSubnets", "--strip-request-id",
                    "DescribeRegions")

    def setUp(self):
        self.sandbox.reset()

    def lookup(self, body=None):
        resp, data = self.sandbox.raw("cloudtrail", json.dumps(body or {}), target=LOOKUP)
        return resp, data

    def three_calls(self):
        ec2 = self.sandbox.client("ec2")
        ec2.describe_vpcs()
        ec2.describe_security_groups()
        ec2.describe_instances()

    def test_wire_shapes(self):
        self.three_calls()
        self.sandbox.config(faults=["cloudtrail:noevents:1x", "cloudtrail:nullevents:1x",
                                    "cloudtrail/LookupEvents:badevents:1x",
                                    "cloudtrail:badevents:1x"])
        cfg = self.sandbox.admin("GET", "/_sandbox/config")["faults"]
        self.assertEqual([f["action"] for f in cfg], ["LookupEvents"] * 4)
        answers = []
        for _ in range(3):
            resp, data = self.lookup()
            self.assertEqual(resp.status, 200)
            answers.append(json.loads(data))
        self.assertEqual(answers[0], {})
        self.assertEqual(answers[1], {"Events": None})
        # An object where the list belongs: the newest event, unwrapped.
        self.assertIsInstance(answers[2]["Events"], dict)
        self.assertEqual(answers[2]["Events"]["EventName"], "LookupEvents")
        self.assertIn("CloudTrailEvent", answers[2]["Events"])
        # Spent: the fourth rule is the first to fire on an empty result.
        resp, data = self.lookup({"LookupAttributes": [
            {"AttributeKey": "EventName", "AttributeValue": "NoSuchCall"}]})
        self.assertEqual(json.loads(data), {"Events": "[]"})
        resp, data = self.lookup()
        self.assertEqual(len(json.loads(data)["Events"]), 3 + 4)   # + the lookups
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/stats")["faults"],
                         {"cloudtrail/badevents": 2, "cloudtrail/noevents": 1,
                          "cloudtrail/nullevents": 1})
        # The damaged lookups were real, recorded calls.
        self.assertEqual(len(self.sandbox.events(eventName="LookupEvents")), 5)

    def test_badrecord(self):
        self.three_calls()
        self.sandbox.config(faults=["cloudtrail:badrecord:1x"])
        resp, data = self.lookup()
        events = json.loads(data)["Events"]
        with self.assertRaises(ValueError):
            json.loads(events[0]["CloudTrailEvent"])
        self.assertEqual(events[0]["EventName"], "DescribeInstances")
        for ev in events[1:]:
            self.assertEqual(json.loads(ev["CloudTrailEvent"])["eventID"], ev["EventId"])
        # boto3 hands the broken string on; the next answer is whole.
        events = self.sandbox.client("cloudtrail").lookup_events()["Events"]
        for ev in events:
            json.loads(ev["CloudTrailEvent"])

    def test_truncpage(self):
        self.three_calls()
        attrs = [{"AttributeKey": "EventSource", "AttributeValue": "ec2.amazonaws.com"}]
        self.sandbox.config(faults=["cloudtrail:truncpage:1x"])
        # A complete single page gets a NextToken it never had...
        resp, data = self.lookup({"LookupAttributes": attrs})
        page = json.loads(data)
        self.assertEqual(len(page["Events"]), 3)
        self.assertIn("NextToken", page)
        resp, data = self.lookup({"LookupAttributes": attrs, "NextToken": page["NextToken"]})
        self.assertEqual(resp.status, 400)
        self.assertEqual(json.loads(data)["__type"], "InvalidNextTokenException")
        # ...and a real NextToken is replaced by one that fails.
        self.sandbox.config(faults=["cloudtrail:truncpage:1x"])
        ct = self.sandbox.client("cloudtrail")
        first = ct.lookup_events(LookupAttributes=attrs, MaxResults=1)
        self.assertEqual(len(first["Events"]), 1)
        with self.assertRaises(ct.exceptions.InvalidNextTokenException):
            ct.lookup_events(LookupAttributes=attrs, MaxResults=1,
                             NextToken=first["NextToken"])
        # Unfaulted pagination sees all three.
        seen = []
        for page in ct.get_paginator("lookup_events").paginate(
                LookupAttributes=attrs, PaginationConfig={"PageSize": 1}):
            seen += [e["EventName"] for e in page["Events"]]
        self.assertEqual(seen, ["DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs"])

    def test_lookup_kinds_only_touch_lookup_events(self):
        self.sandbox.config(faults=["cloudtrail:noevents:1"])
        self.assertIn("trailList", self.sandbox.client("cloudtrail").describe_trails())
        # A throttled lookup is not damaged and spends nothing.
        self.sandbox.config(faults=["cloudtrail:throttle:1x", "cloudtrail:nullevents:1x"])
        resp, data = self.lookup()
        self.assertEqual(json.loads(data)["__type"], "ThrottlingException")
        resp, data = self.lookup()
        self.assertEqual(json.loads(data), {"Events": None})
        resp, data = self.lookup()
        self.assertIsInstance(json.loads(data)["Events"], list)

    def test_duplicate_delivery(self):
        ec2 = self.sandbox.client("ec2")
        ec2.describe_subnets()
        ec2.describe_vpcs()
        ct = self.sandbox.client("cloudtrail")
        attrs = [{"AttributeKey": "EventName", "AttributeValue": "DescribeSubnets"}]
        events = ct.lookup_events(LookupAttributes=attrs)["Events"]
        self.assertEqual(len(events), 2)
        self.assertEqual(events[0]["EventId"], events[1]["EventId"])
        self.assertEqual(events[0]["CloudTrailEvent"], events[1]["CloudTrailEvent"])
        # Page by page too: the same event on two pages.
        ids = []
        for page in ct.get_paginator("lookup_events").paginate(
                LookupAttributes=attrs, PaginationConfig={"PageSize": 1}):
            ids += [e["EventId"] for e in page["Events"]]
        self.assertEqual(ids, [events[0]["EventId"]] * 2)
        self.assertEqual(len(ct.lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "DescribeVpcs"}])["Events"]), 1)
        admin = self.sandbox.events(eventName="DescribeSubnets")
        self.assertEqual([e["duplicate"] for e in admin], [False, True])
        self.assertEqual(admin[0]["record"], admin[1]["record"])
        self.assertLess(admin[0]["seq"], admin[1]["seq"])
        stats = self.sandbox.admin("GET", "/_sandbox/stats")
        self.assertEqual(stats["duplicates"], 1)
        # At run time, by eventSource.
        self.sandbox.config(duplicate=["iam.amazonaws.com"])
        self.sandbox.client("iam").list_roles()
        self.assertEqual(len(self.sandbox.events(eventName="ListRoles")), 2)

    def test_delay_by_name(self):
        cfg = self.sandbox.admin("GET", "/_sandbox/config")
        self.assertEqual(cfg["delay_by_name"], {"CreateKeyPair": {"min": 0.5, "max": 0.5}})
        self.sandbox.config(delay_by_name={"DescribeVpcs": "2"})
        ec2 = self.sandbox.client("ec2")
        ec2.describe_vpcs()
        ec2.describe_subnets()
        vpcs = self.sandbox.events(eventName="DescribeVpcs")[0]
        subnets = self.sandbox.events(eventName="DescribeSubnets")[0]
        self.assertAlmostEqual(vpcs["visibleAtEpoch"] - vpcs["eventTimeEpoch"], 2.0, places=2)
        self.assertAlmostEqual(subnets["visibleAtEpoch"], subnets["eventTimeEpoch"], places=2)
        ct = self.sandbox.client("cloudtrail")

        def names():
            return [e["EventName"] for e in ct.lookup_events(LookupAttributes=[
                {"AttributeKey": "EventSource", "AttributeValue": "ec2.amazonaws.com"}])["Events"]]
        early = names()
        if time.time() < vpcs["visibleAtEpoch"]:
            self.assertEqual(early, ["DescribeSubnets"] * 2)     # duplicated, prompt
        self.assertTrue(harness.wait_for(lambda: "DescribeVpcs" in names(), timeout=8))
        self.assertGreaterEqual(time.time(), vpcs["visibleAtEpoch"])
        for bad in ({"X": "3:1"}, {"X": -1}, ["X"], "X=a", {"": 1}):
            self.sandbox.admin("POST", "/_sandbox/config", {"delay_by_name": bad}, expect=400)
        # A list of NAME=MIN:MAX strings, as on the command line.
        cfg = self.sandbox.config(delay_by_name=["A=1:2", "ec2.amazonaws.com=3"])
        self.assertEqual(cfg["delay_by_name"], {"A": {"min": 1.0, "max": 2.0},
                                                "ec2.amazonaws.com": {"min": 3.0, "max": 3.0}})

    def test_strip_request_id(self):
        ec2 = self.sandbox.client("ec2")
        rid = ec2.describe_regions()["ResponseMetadata"]["RequestId"]
        other = ec2.describe_vpcs()["ResponseMetadata"]["RequestId"]
        recs = self.sandbox.events(eventName="DescribeRegions")
        self.assertNotIn("requestID", recs[0]["record"])
        self.assertEqual(recs[0]["requestId"], rid)             # admin view keeps it
        self.assertEqual(self.sandbox.events(eventName="DescribeVpcs")[0]["record"]["requestID"],
                         other)
        ev = self.sandbox.client("cloudtrail").lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "DescribeRegions"}])["Events"][0]
        self.assertNotIn("requestID", json.loads(ev["CloudTrailEvent"]))
        # A mutating EC2 call loses the requestId in responseElements too.
        self.sandbox.config(strip_request_id=["CreateVpc"])
        ec2.create_vpc(CidrBlock="10.1.0.0/16")
        rec = self.sandbox.events(eventName="CreateVpc")[0]["record"]
        self.assertNotIn("requestID", rec)
        self.assertNotIn("requestId", rec["responseElements"])
        self.assertIn("vpc", rec["responseElements"])


if __name__ == "__main__":
    harness.main()
