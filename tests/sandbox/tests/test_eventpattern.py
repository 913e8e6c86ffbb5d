"""events:TestEventPattern: the matcher operator by operator, and the API
over the wire (aws CLI and boto3)."""

import json
import unittest

import harness
from harness import SandboxTestCase

from awssandbox.eventpattern import PatternError, test_event_pattern as tep

EVENT = {
    "version": "0", "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2",
    "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-1"],
    "detail": {
        "eventSource": "ec2.amazonaws.com", "eventName": "RunInstances",
        "errorCode": "Client.DryRunOperation", "userAgent": "cloudsagad/0.1.0 run/abc",
        "sourceIPAddress": "10.0.1.17", "awsRegion": "us-east-1",
        "requestParameters": {"instanceType": "c5.24xlarge", "maxCount": 2,
                              "tags": ["a", "b"], "nothing": None},
        "readOnly": False, "count": 7.5,
        "items": [{"name": "x", "size": 3}, {"name": "y", "size": 9}],
    },
}


def m(pattern, event=EVENT):
    return tep(json.dumps(pattern), json.dumps(event))


class MatcherTest(unittest.TestCase):

    def test_exact_values(self):
        self.assertTrue(m({"source": ["aws.ec2"]}))
        self.assertFalse(m({"source": ["aws.iam"]}))
        self.assertTrue(m({"source": ["aws.iam", "aws.ec2"]}))
        self.assertTrue(m({"detail": {"eventName": ["RunInstances"],
                                      "eventSource": ["ec2.amazonaws.com"]}}))
        self.assertFalse(m({"detail": {"eventName": ["runinstances"]}}), "case sensitive")
        self.assertTrue(m({"detail": {"requestParameters": {"maxCount": [2]}}}))
        self.assertFalse(m({"detail": {"requestParameters": {"maxCount": ["2"]}}}))
        self.assertTrue(m({"detail": {"readOnly": [False]}}))
        self.assertTrue(m({"detail": {"requestParameters": {"nothing": [None]}}}))
        self.assertFalse(m({"detail": {"requestParameters": {"absent": [None]}}}))
        self.assertTrue(m({"detail": {"requestParameters": {"tags": ["b"]}}}), "array element")
        self.assertTrue(m({"detail": {"items": {"name": ["y"]}}}), "array of objects")
        self.assertFalse(m({"detail": {"missing": ["x"]}}))

    def test_prefix_suffix(self):
        self.assertTrue(m({"detail": {"userAgent": [{"prefix": "cloudsagad/"}]}}))
        self.assertFalse(m({"detail": {"userAgent": [{"prefix": "CLOUDSAGAD/"}]}}))
        self.assertTrue(m({"detail": {"userAgent": [
            {"prefix": {"equals-ignore-case": "CLOUDSAGAD/"}}]}}))
        self.assertTrue(m({"detail": {"errorCode": [{"suffix": "DryRunOperation"}]}}))
        self.assertFalse(m({"detail": {"errorCode": [{"suffix": "Unauthorized"}]}}))
        self.assertTrue(m({"detail": {"errorCode": [
            {"suffix": {"equals-ignore-case": "dryrunoperation"}}]}}))

    def test_anything_but(self):
        self.assertTrue(m({"detail": {"eventName": [{"anything-but": "StopLogging"}]}}))
        self.assertFalse(m({"detail": {"eventName": [{"anything-but": ["RunInstances", "X"]}]}}))
        self.assertTrue(m({"detail": {"requestParameters": {"maxCount": [{"anything-but": [1, 3]}]}}}))
        self.assertFalse(m({"detail": {"requestParameters": {"maxCount": [{"anything-but": 2}]}}}))
        self.assertFalse(m({"detail": {"eventName": [{"anything-but": {"prefix": "Run"}}]}}))
        self.assertTrue(m({"detail": {"eventName": [{"anything-but": {"prefix": "Stop"}}]}}))
        self.assertFalse(m({"detail": {"eventName": [{"anything-but": {"suffix": "Instances"}}]}}))
        self.assertFalse(m({"detail": {"eventName": [
            {"anything-but": {"equals-ignore-case": ["runinstances"]}}]}}))
        self.assertFalse(m({"detail": {"eventName": [{"anything-but": {"wildcard": "Run*"}}]}}))
        self.assertFalse(m({"detail": {"missing": [{"anything-but": "x"}]}}),
                         "anything-but needs the field")

    def test_exists(self):
        self.assertTrue(m({"detail": {"errorCode": [{"exists": True}]}}))
        self.assertFalse(m({"detail": {"errorCode": [{"exists": False}]}}))
        self.assertTrue(m({"detail": {"errorMessage": [{"exists": False}]}}))
        self.assertFalse(m({"detail": {"errorMessage": [{"exists": True}]}}))
        self.assertTrue(m({"detail": {"nope": {"deeper": [{"exists": False}]}}}))
        self.assertFalse(m({"detail": {"requestParameters": [{"exists": True}]}}),
                         "exists only matches leaves")

    def test_numeric(self):
        self.assertTrue(m({"detail": {"count": [{"numeric": [">", 7]}]}}))
        self.assertTrue(m({"detail": {"count": [{"numeric": [">=", 7.5, "<", 8]}]}}))
        self.assertFalse(m({"detail": {"count": [{"numeric": ["<", 7.5]}]}}))
        self.assertTrue(m({"detail": {"count": [{"numeric": ["=", 7.5]}]}}))
        self.assertTrue(m({"detail": {"items": {"size": [{"numeric": [">", 5]}]}}}))
        self.assertFalse(m({"detail": {"eventName": [{"numeric": [">", 0]}]}}),
                         "strings never match numeric")

    def test_wildcard_and_equals_ignore_case(self):
        self.assertTrue(m({"detail": {"eventName": [{"wildcard": "Run*s"}]}}))
        self.assertTrue(m({"detail": {"userAgent": [{"wildcard": "*run/*"}]}}))
        self.assertFalse(m({"detail": {"eventName": [{"wildcard": "*Stop*"}]}}))
        self.assertTrue(m({"detail": {"eventName": [{"equals-ignore-case": "RUNINSTANCES"}]}}))
        self.assertFalse(m({"detail": {"eventName": [{"equals-ignore-case": "RUN"}]}}))

    def test_cidr(self):
        self.assertTrue(m({"detail": {"sourceIPAddress": [{"cidr": "10.0.0.0/16"}]}}))
        self.assertFalse(m({"detail": {"sourceIPAddress": [{"cidr": "10.1.0.0/16"}]}}))

    def test_or(self):
        p = {"source": ["aws.ec2"], "$or": [{"detail": {"eventName": ["StopLogging"]}},
                                            {"detail": {"errorCode": [{"suffix": "DryRun"
                                                                                  "Operation"}]}}]}
        self.assertTrue(m(p))
        p["$or"][1] = {"detail": {"errorCode": ["AccessDenied"]}}
        self.assertFalse(m(p))
        self.assertTrue(m({"detail": {"$or": [{"eventName": ["X"]},
                                              {"count": [{"numeric": [">", 1]}]}]}}))

    def test_cloudtrail_style_rule(self):
        p = {"source": ["aws.ec2"], "detail-type": ["AWS API Call via CloudTrail"],
             "detail": {"eventSource": ["ec2.amazonaws.com"],
                        "eventName": ["RunInstances", "CreateVpc"]}}
        self.assertTrue(m(p))
        ev = dict(EVENT, detail=dict(EVENT["detail"], eventName="DescribeInstances"))
        self.assertFalse(m(p, ev))

    def test_invalid_patterns(self):
        for bad in ({"source": "aws.ec2"}, {"source": []}, {}, {"detail": {}},
                    {"source": [{"prefix": 1}]}, {"source": [{"bogus": "x"}]},
                    {"source": [{"numeric": [">"]}]}, {"source": [{"numeric": ["<", 5, ">", 1]}]},
                    {"source": [{"exists": "yes"}]}, {"source": [{"cidr": "nope"}]},
                    {"source": [{"anything-but": ["a", 1]}]}, {"$or": [{"a": ["b"]}]},
                    {"source": [{"wildcard": "a**b"}]}, ["aws.ec2"]):
            with self.assertRaises(PatternError, msg=bad):
                m(bad)
        with self.assertRaises(PatternError):
            tep("{not json", json.dumps(EVENT))
        with self.assertRaises(PatternError):
            tep(json.dumps({"source": ["x"]}), json.dumps({"source": "x"}))


class TestEventPatternApiTest(SandboxTestCase):

    def test_cli(self):
        pattern = json.dumps({"source": ["aws.ec2"], "detail": {
            "errorCode": [{"suffix": "DryRunOperation"}]}})
        r = self.sandbox.aws("events", "test-event-pattern", "--event-pattern", pattern,
                             "--event", json.dumps(EVENT), "--output", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), {"Result": True})
        r = self.sandbox.aws("events", "test-event-pattern", "--event-pattern",
                             json.dumps({"source": ["aws.iam"]}),
                             "--event", json.dumps(EVENT), "--output", "json")
        self.assertEqual(json.loads(r.stdout), {"Result": False})
        r = self.sandbox.aws("events", "test-event-pattern", "--event-pattern",
                             '{"source": "aws.ec2"}', "--event", json.dumps(EVENT))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("(InvalidEventPatternException)", r.stderr)

    def test_boto3_and_stats(self):
        ev = self.sandbox.client("events", region="eu-west-1")
        before = self.sandbox.admin("GET", "/_sandbox/stats")["test_event_pattern"]
        self.assertTrue(ev.test_event_pattern(
            EventPattern=json.dumps({"detail": {"eventName": [{"prefix": "Run"}]}}),
            Event=json.dumps(EVENT))["Result"])
        with self.assertRaises(ev.exceptions.InvalidEventPatternException):
            ev.test_event_pattern(EventPattern=json.dumps({"source": ["aws.ec2"]}),
                                  Event=json.dumps({"source": "aws.ec2"}))
        after = self.sandbox.admin("GET", "/_sandbox/stats")["test_event_pattern"]
        self.assertEqual(after - before, 2)
        rec = self.sandbox.events(eventName="TestEventPattern", region="eu-west-1")
        self.assertEqual(len(rec), 2)
        self.assertIs(rec[0]["record"]["readOnly"], True)


if __name__ == "__main__":
    harness.main()
