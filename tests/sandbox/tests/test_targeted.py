"""Targeted, counted faults (SERVICE[@REGION][/ACTION]:KIND:Nx), drops by
outcome (NAME:ok / NAME:error), refusals that CloudTrail never records
(authfailure, signature, expired, incomplete, notoken) and requests no
service ever parsed (unknown action, body that is not JSON)."""

import json

import harness
from harness import SandboxTestCase

VPCS = "Action=DescribeVpcs&Version=2016-11-15"
SUBNETS = "Action=DescribeSubnets&Version=2016-11-15"
USERS = "Action=ListUsers&Version=2010-05-08"
IDENT = "Action=GetCallerIdentity&Version=2011-06-15"

# kind -> protocol -> (HTTP status, wire code)
REFUSALS = {
    "authfailure": {"ec2": (401, "AuthFailure"), "query": (403, "InvalidClientTokenId"),
                    "json": (400, "UnrecognizedClientException"),
                    "rest-json": (403, "UnrecognizedClientException"),
                    "s3": (403, "InvalidAccessKeyId")},
    "signature": {"ec2": (401, "AuthFailure"), "query": (403, "SignatureDoesNotMatch"),
                  "json": (400, "InvalidSignatureException"),
                  "rest-json": (403, "InvalidSignatureException"),
                  "s3": (403, "SignatureDoesNotMatch")},
    "expired": {"ec2": (400, "RequestExpired"), "query": (403, "ExpiredToken"),
                "json": (400, "ExpiredTokenException"),
                "rest-json": (403, "ExpiredTokenException"),
                "s3": (400, "ExpiredToken")},
    "incomplete": {"ec2": (400, "IncompleteSignature"), "query": (400, "IncompleteSignature"),
                   "json": (400, "IncompleteSignatureException"),
                   "rest-json": (403, "IncompleteSignatureException"),
                   "s3": (400, "AuthorizationHeaderMalformed")},
    "notoken": {"ec2": (401, "MissingAuthenticationToken"),
                "query": (403, "MissingAuthenticationToken"),
                "json": (400, "MissingAuthenticationTokenException"),
                "rest-json": (403, "MissingAuthenticationTokenException"),
                "s3": (403, "AccessDenied")},
}


def wire_code(resp, body):
    if resp.getheader("X-Amzn-ErrorType"):
        return resp.getheader("X-Amzn-ErrorType")
    text = body.decode()
    if text.startswith("{"):
        return json.loads(text)["__type"]
    import re
    return re.search(r"<Code>(.*?)</Code>", text).group(1)


class TargetedFaultTest(SandboxTestCase):
    sandbox_args = ("--fault", "iam/ListUsers:throttle:1x", "--lookup-tps", "0")

    def setUp(self):
        self.sandbox.reset()

    def raw(self, *args, **kw):
        return self.sandbox.raw(*args, **kw)

    def fault_stats(self):
        return self.sandbox.admin("GET", "/_sandbox/stats")["faults"]

    def test_count_mode_with_action_filter(self):
        cfg = self.sandbox.config(faults=["ec2/DescribeVpcs:500:2x"])
        self.assertEqual(cfg["faults"], [{
            "service": "ec2", "region": None, "action": "DescribeVpcs", "kind": "500",
            "share": 1.0, "count": 2, "remaining": 2, "spec": "ec2/DescribeVpcs:500:2x"}])
        # Another action of the same service is not touched and spends nothing.
        self.assertEqual(self.raw("ec2", SUBNETS)[0].status, 200)
        self.assertEqual([self.raw("ec2", VPCS)[0].status for _ in range(4)],
                         [500, 500, 200, 200])
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/config")["faults"][0]["remaining"],
                         0)
        self.assertEqual(self.fault_stats(), {"ec2/500": 2})
        codes = [e["record"].get("errorCode") for e in self.sandbox.events(eventName="DescribeVpcs")]
        self.assertEqual(codes, ["Server.InternalError", "Server.InternalError", None, None])

    def test_object_form_region_and_order(self):
        # A count rule first, then a share rule: 503, 503, then 500 for ever.
        self.sandbox.config(faults=[
            {"service": "sts", "region": "eu-west-1", "action": "GetCallerIdentity",
             "kind": "503", "count": 2},
            "sts@eu-west-1:500:1"])
        self.assertEqual(self.raw("sts", IDENT, region="us-east-1")[0].status, 200)
        got = [self.raw("sts", IDENT, region="eu-west-1")[0].status for _ in range(4)]
        self.assertEqual(got, [503, 503, 500, 500])
        cfg = self.sandbox.admin("GET", "/_sandbox/config")["faults"]
        self.assertEqual(cfg[0]["spec"], "sts@eu-west-1/GetCallerIdentity:503:2x")
        # GET's output can be posted back: the count is re-armed.
        self.sandbox.config(faults=cfg)
        self.assertEqual(self.raw("sts", IDENT, region="eu-west-1")[0].status, 503)

    def test_command_line_count_rearmed_by_reset(self):
        self.assertEqual(self.raw("iam", USERS)[0].status, 400)     # Throttling
        self.assertEqual(self.raw("iam", USERS)[0].status, 200)
        # A partial config change keeps the spent count.
        self.sandbox.config(latency=0)
        self.assertEqual(self.raw("iam", USERS)[0].status, 200)
        self.sandbox.reset()
        resp, body = self.raw("iam", USERS)
        self.assertEqual((resp.status, wire_code(resp, body)), (400, "Throttling"))

    def test_action_matches_the_event_name_too(self):
        # S3's PutBucketLifecycleConfiguration is recorded as PutBucketLifecycle.
        self.sandbox.config(faults=["s3/PutBucketLifecycle:503:1x"])
        s3 = self.sandbox.client("s3")
        s3.create_bucket(Bucket="bkt-one")
        lc = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""},
                         "Expiration": {"Days": 1}}]}
        with self.assertRaises(s3.exceptions.ClientError) as cm:
            s3.put_bucket_lifecycle_configuration(Bucket="bkt-one", LifecycleConfiguration=lc)
        self.assertEqual(cm.exception.response["Error"]["Code"], "ServiceUnavailable")
        s3.put_bucket_lifecycle_configuration(Bucket="bkt-one", LifecycleConfiguration=lc)

    def test_bad_specs(self):
        for spec in ("ec2/:500:1", "ec2:500:0x", "ec2:500:-1x", "ec2/Describe-Vpcs:500:1",
                     "ec2:noevents:1", "cloudtrail/DescribeTrails:badrecord:1",
                     "ec2@/X:500:1", "ec2:500:1y"):
            err = self.sandbox.admin("POST", "/_sandbox/config", {"faults": [spec]},
                                     expect=400)
            self.assertIn("fault", err["error"], spec)
        err = self.sandbox.admin("POST", "/_sandbox/config",
                                 {"faults": [{"service": "ec2", "kind": "500", "count": 0}]},
                                 expect=400)
        self.assertIn("count", err["error"])
        # Nothing changed.
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/config")["faults"][0]["spec"],
                         "iam/ListUsers:throttle:1x")

    def test_throttled_attempt_recorded_success_lost(self):
        """The record of the throttled first attempt stays; the successful
        retry's record never arrives."""
        self.sandbox.config(faults=["ec2/DescribeVpcs:throttle:1x"], drop=["DescribeVpcs:ok"])
        ec2 = self.sandbox.client("ec2", retries=2)
        ok = ec2.describe_vpcs()
        final_id = ok["ResponseMetadata"]["RequestId"]
        self.assertEqual(ok["ResponseMetadata"]["RetryAttempts"], 1)
        recs = self.sandbox.events(eventName="DescribeVpcs")
        self.assertEqual([(r["record"].get("errorCode"), r["dropped"]) for r in recs],
                         [("Client.RequestLimitExceeded", False), (None, True)])
        self.assertEqual(recs[1]["record"]["requestID"], final_id)
        throttled_id = recs[0]["record"]["requestID"]
        self.assertNotEqual(throttled_id, final_id)
        found = self.sandbox.client("cloudtrail").lookup_events(LookupAttributes=[
            {"AttributeKey": "EventName", "AttributeValue": "DescribeVpcs"}])["Events"]
        self.assertEqual([json.loads(e["CloudTrailEvent"])["requestID"] for e in found],
                         [throttled_id])
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/stats")["dropped"], 1)

    def test_drop_error_records_only(self):
        cfg = self.sandbox.config(faults=[], drop=["ec2.amazonaws.com:error", "ListUsers"])
        self.assertEqual(cfg["drop"], ["ec2.amazonaws.com:error", "ListUsers"])
        ec2 = self.sandbox.client("ec2")
        ec2.describe_vpcs()
        with self.assertRaises(ec2.exceptions.ClientError):
            ec2.describe_vpcs(DryRun=True)
        self.sandbox.client("iam").list_users()
        recs = [(r["record"]["eventName"], r["record"].get("errorCode"), r["dropped"])
                for r in self.sandbox.events()]
        self.assertEqual(recs, [("DescribeVpcs", None, False),
                                ("DescribeVpcs", "Client.DryRunOperation", True),
                                ("ListUsers", None, True)])
        for bad in ([":ok"], [":error"], [""], [3], {"a": 1}):
            self.sandbox.admin("POST", "/_sandbox/config", {"drop": bad}, expect=400)

    def _refusal_requests(self):
        return (("ec2", dict(body=VPCS)), ("query", dict(service="iam", body=USERS)),
                ("json", dict(service="logs", body="{}",
                              target="Logs_20140328.DescribeLogGroups")),
                ("rest-json", dict(service="guardduty", body=None, path="/detector",
                                   method="GET")),
                ("s3", dict(service="s3", body=None, path="/", method="GET")))

    def test_refusals_per_protocol_are_not_recorded(self):
        for kind, table in REFUSALS.items():
            self.sandbox.reset()
            self.sandbox.config(faults=["*:%s:1" % kind])
            for proto, req in self._refusal_requests():
                req = dict(req)
                service = req.pop("service", proto)
                body = req.pop("body")
                resp, data = self.raw(service, body, **req)
                self.assertEqual((resp.status, wire_code(resp, data)), table[proto],
                                 (kind, proto, data))
                rid = resp.getheader("x-amzn-RequestId")
                self.assertTrue(rid)
                self.assertIn(rid.encode(), data + b"".join(
                    v.encode() for v in resp.headers.values()))
            self.assertEqual(self.sandbox.events(), [], kind)
            stats = self.sandbox.admin("GET", "/_sandbox/stats")
            self.assertEqual(stats["records"], 0)
            self.assertEqual(sum(stats["faults"].values()), 5)

    def test_refusals_seen_by_boto3_and_cli(self):
        self.sandbox.config(faults=["ec2:expired:1x", "sts:authfailure:1x",
                                    "cloudtrail:signature:1x"])
        ec2 = self.sandbox.client("ec2")
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.describe_vpcs(DryRun=True)
        self.assertEqual(cm.exception.response["Error"]["Code"], "RequestExpired")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        r = self.sandbox.aws("sts", "get-caller-identity")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("(InvalidClientTokenId)", r.stderr)
        ct = self.sandbox.client("cloudtrail")
        with self.assertRaises(ct.exceptions.ClientError) as cm:
            ct.lookup_events()
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidSignatureException")
        self.assertEqual(self.sandbox.events(), [])
        # Spent: the same calls now go through and are recorded.
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.describe_vpcs(DryRun=True)
        self.assertEqual(cm.exception.response["Error"]["Code"], "DryRunOperation")
        self.assertEqual(self.sandbox.aws("sts", "get-caller-identity").returncode, 0)
        self.assertEqual(sorted(e["record"]["eventName"] for e in self.sandbox.events()),
                         ["DescribeVpcs", "GetCallerIdentity"])

    def test_unparsed_requests_are_not_recorded(self):
        resp, body = self.raw("iam", "Action=ListUsersX&Version=2010-05-08")
        self.assertEqual((resp.status, wire_code(resp, body)), (400, "InvalidAction"))
        resp, body = self.raw("ec2", "Action=DescribeVpcz&Version=2016-11-15")
        self.assertEqual((resp.status, wire_code(resp, body)), (400, "InvalidAction"))
        resp, body = self.raw("logs", "{}", target="Logs_20140328.DescribeLogGroupz")
        self.assertEqual((resp.status, wire_code(resp, body)), (400, "UnknownOperationException"))
        for bad in ("{not json", "[1, 2]", "\"text\""):
            resp, body = self.raw("logs", bad, target="Logs_20140328.DescribeLogGroups")
            self.assertEqual((resp.status, wire_code(resp, body)), (400, "SerializationException"))
            resp, body = self.raw("cloudtrail", bad, target="com.amazonaws.cloudtrail."
                                  "v20131101.CloudTrail_20131101.LookupEvents")
            self.assertEqual((resp.status, wire_code(resp, body)), (400, "SerializationException"))
        # REST-JSON with a body that is not JSON.
        resp, body = self.raw("guardduty", "{oops", path="/detector", method="POST",
                              ctype="application/json")
        self.assertEqual((resp.status, wire_code(resp, body)), (400, "SerializationException"))
        self.assertEqual(self.sandbox.events(), [])
        # A well-formed call still is.
        resp, _ = self.raw("logs", "{}", target="Logs_20140328.DescribeLogGroups")
        self.assertEqual(resp.status, 200)
        self.assertEqual([e["record"]["eventName"] for e in self.sandbox.events()],
                         ["DescribeLogGroups"])


if __name__ == "__main__":
    harness.main()
