"""LookupEvents is limited to 2 requests per second per account and region
(ThrottlingException above that); other regions and accounts are unaffected."""

import json
import time

import harness
from harness import SandboxTestCase


class ThrottleTest(SandboxTestCase):

    def setUp(self):
        self.sandbox.reset()
        # Let every bucket refill completely.
        time.sleep(1.1)

    def burst(self, ct, n):
        """Fire n lookups back to back: (outcomes, elapsed seconds)."""
        out = []
        t0 = time.monotonic()
        for _ in range(n):
            try:
                ct.lookup_events(MaxResults=1)
                out.append("ok")
            except ct.exceptions.ClientError as e:
                out.append(e.response["Error"]["Code"])
                self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        return out, time.monotonic() - t0

    def test_burst_is_throttled_other_region_not(self):
        us = self.sandbox.client("cloudtrail", region="us-east-1")
        eu = self.sandbox.client("cloudtrail", region="eu-west-1")
        out, elapsed = self.burst(us, 6)
        self.assertEqual(out[:2], ["ok", "ok"], out)
        self.assertTrue(set(out) <= {"ok", "ThrottlingException"}, out)
        # 2 at once, then at most 2 more per second of the burst.
        self.assertLessEqual(out.count("ok"), 2 + int(2 * elapsed) + 1, (out, elapsed))
        self.assertGreaterEqual(out.count("ThrottlingException"), 1, out)
        if elapsed < 0.5:
            self.assertEqual(out.count("ThrottlingException"), 6 - out.count("ok"))
            self.assertLessEqual(out.count("ok"), 3)
        # Another region of the same account has its own budget.
        out_eu, _ = self.burst(eu, 2)
        self.assertEqual(out_eu, ["ok", "ok"])
        stats = self.sandbox.admin("GET", "/_sandbox/stats")["lookup_events"]
        self.assertEqual(stats["123456789012/us-east-1"]["calls"], 6)
        self.assertEqual(stats["123456789012/us-east-1"]["throttled"],
                         out.count("ThrottlingException"))
        self.assertEqual(stats["123456789012/eu-west-1"], {"calls": 2, "throttled": 0})
        # Throttled calls are recorded like AWS records them.
        recs = self.sandbox.events(eventName="LookupEvents", region="us-east-1")
        codes = [r["record"].get("errorCode") for r in recs]
        self.assertEqual(codes.count("ThrottlingException"), out.count("ThrottlingException"))

    def test_other_account_not_affected(self):
        sts = self.sandbox.client("sts")
        c = sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/r",
                            RoleSessionName="s2")["Credentials"]
        mine = self.sandbox.client("cloudtrail")
        theirs = self.sandbox.client("cloudtrail", key=c["AccessKeyId"],
                                     secret=c["SecretAccessKey"], token=c["SessionToken"])
        out, _ = self.burst(mine, 4)
        self.assertIn("ThrottlingException", out)
        out2, _ = self.burst(theirs, 2)
        self.assertEqual(out2, ["ok", "ok"])

    def test_paced_two_per_second_never_throttled(self):
        ct = self.sandbox.client("cloudtrail")
        outcomes = []
        for _ in range(6):
            t = time.monotonic()
            out, _ = self.burst(ct, 1)
            outcomes += out
            time.sleep(max(0, 0.55 - (time.monotonic() - t)))
        self.assertEqual(outcomes, ["ok"] * 6)

    def test_cli_sees_throttling_exception(self):
        # A slower limit so the CLI's own start-up time cannot refill the bucket.
        self.sandbox.config(lookup_tps=0.1)
        try:
            ct = self.sandbox.client("cloudtrail")
            ct.lookup_events(MaxResults=1)
            r = self.sandbox.aws("cloudtrail", "lookup-events", "--max-results", "1")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("An error occurred (ThrottlingException) when calling the "
                          "LookupEvents operation", r.stderr)
        finally:
            self.sandbox.config(lookup_tps=2)
        cfg = self.sandbox.admin("GET", "/_sandbox/config")
        self.assertEqual(cfg["lookup_tps"], 2)

    def test_wire_shape(self):
        import urllib.request
        body = json.dumps({"MaxResults": 1}).encode()
        hdrs = {"Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
                                ".LookupEvents",
                "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/ap-south-1/"
                                 "cloudtrail/aws4_request, SignedHeaders=host, Signature=0"
                                 % harness.FAKE_KEY}
        statuses = []
        for _ in range(4):
            req = urllib.request.Request(self.sandbox.url + "/", data=body, headers=hdrs)
            try:
                with urllib.request.urlopen(req) as r:
                    statuses.append((r.status, json.loads(r.read()), r.headers))
            except urllib.error.HTTPError as e:
                statuses.append((e.code, json.loads(e.read()), e.headers))
        self.assertEqual(statuses[0][0], 200)
        self.assertIn("Events", statuses[0][1])
        throttled = [s for s in statuses if s[0] == 400]
        self.assertTrue(throttled)
        self.assertEqual(throttled[0][1]["__type"], "ThrottlingException")
        self.assertTrue(throttled[0][2]["x-amzn-RequestId"])
        self.assertTrue(throttled[0][2]["Content-Type"].startswith("application/x-amz-json-1.1"))


if __name__ == "__main__":
    harness.main()
