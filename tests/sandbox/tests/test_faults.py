"""Fault injection (--fault SERVICE[@REGION]:KIND:SHARE and the admin
endpoint), each kind observed on the wire, plus added latency that does
not serialise concurrent requests."""

import http.client
import json
import socket
import threading
import time

import harness
from harness import SandboxTestCase

FORM = "application/x-www-form-urlencoded; charset=utf-8"


class FaultTest(SandboxTestCase):
    sandbox_args = ("--fault", "iam:throttle:1", "--seed", "7", "--slow-seconds", "1.2")

    def setUp(self):
        self.sandbox.reset()

    def raw(self, *args, **kw):
        return self.sandbox.raw(*args, **kw)

    def test_command_line_fault_and_config(self):
        cfg = self.sandbox.admin("GET", "/_sandbox/config")
        self.assertEqual(cfg["faults"], [{"service": "iam", "region": None, "action": None,
                                          "kind": "throttle", "share": 1.0, "count": None,
                                          "remaining": None, "spec": "iam:throttle:1"}])
        resp, body = self.raw("iam", "Action=ListUsers&Version=2010-05-08")
        self.assertEqual(resp.status, 400)
        self.assertIn(b"<Code>Throttling</Code>", body)
        self.assertIn(b"<ErrorResponse", body)
        self.assertIn(("<RequestId>%s</RequestId>" % resp.getheader("x-amzn-RequestId")).encode(),
                      body)
        # Only IAM is affected.
        resp, _ = self.raw("sts", "Action=GetCallerIdentity&Version=2011-06-15")
        self.assertEqual(resp.status, 200)

    def test_throttle_shapes_per_protocol(self):
        self.sandbox.config(faults=["ec2:throttle:1", "events:throttle:1",
                                    "guardduty:throttle:1", "s3:throttle:1",
                                    "cloudtrail:throttle:1"])
        resp, body = self.raw("ec2", "Action=DescribeVpcs&Version=2016-11-15")
        self.assertEqual(resp.status, 503)
        self.assertIn(b"<Response><Errors><Error><Code>RequestLimitExceeded</Code>", body)
        resp, body = self.raw("events", "{}", target="AWSEvents.ListRules")
        self.assertEqual(resp.status, 400)
        self.assertEqual(json.loads(body)["__type"], "ThrottlingException")
        resp, body = self.raw("guardduty", None, path="/detector", method="GET")
        self.assertEqual(resp.status, 429)
        self.assertEqual(resp.getheader("X-Amzn-ErrorType"), "TooManyRequestsException")
        resp, body = self.raw("s3", None, path="/", method="GET")
        self.assertEqual(resp.status, 503)
        self.assertIn(b"<Code>SlowDown</Code>", body)
        # boto3 sees the same codes.
        ec2 = self.sandbox.client("ec2")
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.describe_vpcs()
        self.assertEqual(cm.exception.response["Error"]["Code"], "RequestLimitExceeded")
        # The throttled EC2 call is recorded as CloudTrail records it.
        recs = self.sandbox.events(eventName="DescribeVpcs")
        self.assertEqual(recs[0]["record"]["errorCode"], "Client.RequestLimitExceeded")

    def test_lookup_events_fails_for_a_whole_deadline(self):
        self.sandbox.config(faults=["cloudtrail:throttle:1"])
        ct = self.sandbox.client("cloudtrail")
        deadline = time.time() + 1.5
        n = 0
        while time.time() < deadline or n < 4:      # at least 4, however slow
            with self.assertRaises(ct.exceptions.ClientError) as cm:
                ct.lookup_events(MaxResults=1)
            self.assertEqual(cm.exception.response["Error"]["Code"], "ThrottlingException")
            n += 1
            time.sleep(0.1)
        self.sandbox.config(faults=[])
        time.sleep(1.0)     # the real 2 TPS bucket refills
        self.assertIn("Events", ct.lookup_events(MaxResults=1))

    def test_500_and_503(self):
        self.sandbox.config(faults=["ec2:500:1", "sts:503:1", "logs:500:1"])
        resp, body = self.raw("ec2", "Action=DescribeVpcs&Version=2016-11-15")
        self.assertEqual(resp.status, 500)
        self.assertIn(b"<Code>InternalError</Code>", body)
        self.assertIn(("<RequestID>%s</RequestID>" % resp.getheader("x-amzn-RequestId")).encode(),
                      body)
        resp, body = self.raw("sts", "Action=GetCallerIdentity&Version=2011-06-15")
        self.assertEqual(resp.status, 503)
        self.assertIn(b"<Code>ServiceUnavailable</Code>", body)
        resp, body = self.raw("logs", "{}", target="Logs_20140328.DescribeLogGroups")
        self.assertEqual(resp.status, 500)
        self.assertEqual(json.loads(body)["__type"], "InternalFailure")
        recs = self.sandbox.events(eventName="DescribeVpcs")
        self.assertEqual(recs[0]["record"]["errorCode"], "Server.InternalError")
        stats = self.sandbox.admin("GET", "/_sandbox/stats")["faults"]
        self.assertEqual(stats, {"ec2/500": 1, "logs/500": 1, "sts/503": 1})

    def test_region_scoped_fault(self):
        self.sandbox.config(faults=["ec2@eu-west-1:500:1"])
        resp, _ = self.raw("ec2", "Action=DescribeVpcs&Version=2016-11-15", region="us-east-1")
        self.assertEqual(resp.status, 200)
        resp, _ = self.raw("ec2", "Action=DescribeVpcs&Version=2016-11-15", region="eu-west-1")
        self.assertEqual(resp.status, 500)

    def test_any_service_fault_spares_admin(self):
        self.sandbox.config(faults=["*:503:1"])
        for svc, body, target in (("ec2", "Action=DescribeVpcs&Version=2016-11-15", None),
                                  ("cloudtrail", "{}", "com.amazonaws.cloudtrail.v20131101."
                                   "CloudTrail_20131101.LookupEvents")):
            resp, _ = self.raw(svc, body, target=target)
            self.assertEqual(resp.status, 503, svc)
        self.assertTrue(self.sandbox.admin("GET", "/_sandbox/health")["ok"])

    def test_reset_closes_without_answer(self):
        self.sandbox.config(faults=["sts:reset:1"])
        s = socket.create_connection(("127.0.0.1", self.sandbox.port), timeout=10)
        body = b"Action=GetCallerIdentity&Version=2011-06-15"
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: " + FORM.encode() +
                  b"\r\nAuthorization: AWS4-HMAC-SHA256 Credential=" +
                  harness.FAKE_KEY.encode() + b"/20260101/us-east-1/sts/aws4_request, "
                  b"SignedHeaders=host, Signature=0\r\nContent-Length: " +
                  str(len(body)).encode() + b"\r\n\r\n" + body)
        try:
            got = s.recv(4096)
        except ConnectionResetError:
            got = b""
        s.close()
        self.assertEqual(got, b"")
        sts = self.sandbox.client("sts")
        with self.assertRaises(Exception) as cm:
            sts.get_caller_identity()
        self.assertNotIsInstance(cm.exception, sts.exceptions.ClientError)
        # A reset request never reached AWS: nothing is recorded.
        self.assertEqual(self.sandbox.events(eventName="GetCallerIdentity"), [])

    def test_malformed_truncated_empty(self):
        self.sandbox.config(faults=["ec2:malformed:1"])
        resp, body = self.raw("ec2", "Action=DescribeVpcs&Version=2016-11-15")
        self.assertEqual(resp.status, 200)
        self.assertEqual(int(resp.getheader("Content-Length")), len(body))
        import xml.etree.ElementTree as ET
        with self.assertRaises(ET.ParseError):
            ET.fromstring(body)
        self.sandbox.config(faults=["events:malformed:1"])
        resp, body = self.raw("events", "{}", target="AWSEvents.ListRules")
        self.assertEqual(resp.status, 200)
        with self.assertRaises(ValueError):
            json.loads(body)

        self.sandbox.config(faults=["ec2:truncated:1"])
        conn = http.client.HTTPConnection("127.0.0.1", self.sandbox.port, timeout=10)
        conn.request("POST", "/", body=b"Action=DescribeVpcs&Version=2016-11-15", headers={
            "Content-Type": FORM,
            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/us-east-1/ec2/"
                             "aws4_request, SignedHeaders=host, Signature=0" % harness.FAKE_KEY})
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        claimed = int(resp.getheader("Content-Length"))
        with self.assertRaises(http.client.IncompleteRead) as cm:
            resp.read()
        self.assertLess(len(cm.exception.partial), claimed)
        self.assertGreater(len(cm.exception.partial), 0)
        conn.close()

        self.sandbox.config(faults=["ec2:empty:1"])
        resp, body = self.raw("ec2", "Action=DescribeVpcs&Version=2016-11-15")
        self.assertEqual((resp.status, body, resp.getheader("Content-Length")), (200, b"", "0"))
        # The damaged answers were real calls: all recorded.
        self.assertEqual(len(self.sandbox.events(eventName="DescribeVpcs")), 3)

    def test_slow(self):
        self.sandbox.config(faults=["sts:slow:1"])
        t = time.monotonic()
        ident = self.sandbox.client("sts").get_caller_identity()
        self.assertGreaterEqual(time.monotonic() - t, 1.2)
        self.assertEqual(ident["Account"], "123456789012")

    def test_share_is_a_fraction(self):
        self.sandbox.config(faults=["sts:500:0.5"])
        n = 120
        fails = 0
        for _ in range(n):
            resp, _ = self.raw("sts", "Action=GetCallerIdentity&Version=2011-06-15")
            fails += resp.status == 500
        self.assertGreater(fails, n * 0.25)
        self.assertLess(fails, n * 0.75)
        self.sandbox.config(faults=["sts:500:0"])
        resp, _ = self.raw("sts", "Action=GetCallerIdentity&Version=2011-06-15")
        self.assertEqual(resp.status, 200)

    def concurrent(self, n):
        results = []

        def one():
            t = time.monotonic()
            resp, _ = self.raw("sts", "Action=GetCallerIdentity&Version=2011-06-15")
            results.append((resp.status, time.monotonic() - t))
        threads = [threading.Thread(target=one) for _ in range(n)]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        return results, time.monotonic() - t0

    def test_latency_does_not_serialise(self):
        self.sandbox.config(faults=[])
        _, base = self.concurrent(4)              # the machine's own cost, under load
        self.sandbox.config(latency=1000)
        results, total = self.concurrent(4)
        self.assertEqual([r[0] for r in results], [200] * 4)
        for _, took in results:
            self.assertGreaterEqual(took, 1.0)
        # Serialised, four answers would take 4 s or more.
        self.assertLess(total, base + 2.5, "4 requests with 1 s latency took %.2fs "
                        "(%.2fs without latency)" % (total, base))
        # Admin requests get no latency.
        t = time.monotonic()
        self.sandbox.admin("GET", "/_sandbox/health")
        self.assertLess(time.monotonic() - t, 0.9)

    def test_bad_fault_specs(self):
        for spec in ("ec2:boom:1", "ec2:500", "ec2:500:2", "ec2@:500:1", ":500:1",
                     "ec2:500:x"):
            err = self.sandbox.admin("POST", "/_sandbox/config", {"faults": [spec]},
                                     expect=400)
            self.assertIn("fault", err["error"])


if __name__ == "__main__":
    harness.main()
