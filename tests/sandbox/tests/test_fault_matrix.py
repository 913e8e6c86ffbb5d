"""Faults for the daemon's fault matrix: huge answers, answers dripped out
slower than a client's total timeout, and a skewed sandbox clock (Date
header, eventTime, LookupEvents time range, and the 15-minute request-time
check under --verify-signatures)."""

import email.utils
import json
import socket
import time
import xml.etree.ElementTree as ET

import harness
from harness import SandboxTestCase

LOOKUP = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
VPCS = "Action=DescribeVpcs&Version=2016-11-15"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def request_bytes(service, body, target=None, region="us-east-1"):
    h = ("POST / HTTP/1.1\r\nHost: x\r\nAuthorization: AWS4-HMAC-SHA256 Credential=%s/"
         "20260101/%s/%s/aws4_request, SignedHeaders=host, Signature=0\r\n"
         % (harness.FAKE_KEY, region, service))
    if target:
        h += "X-Amz-Target: %s\r\nContent-Type: application/x-amz-json-1.1\r\n" % target
    else:
        h += "Content-Type: %s\r\n" % FORM
    h += "Content-Length: %d\r\n\r\n" % len(body)
    return h.encode() + body.encode()


class FaultMatrixTest(SandboxTestCase):
    sandbox_args = ("--lookup-tps", "0", "--huge-mib", "41", "--drip-seconds", "2")

    def setUp(self):
        self.sandbox.reset()

    def test_huge_json_default_size(self):
        self.sandbox.client("ec2").describe_vpcs()
        self.sandbox.config(faults=["cloudtrail:huge:1x"])
        resp, body = self.sandbox.raw("cloudtrail", "{}", target=LOOKUP)
        self.assertEqual(resp.status, 200)
        self.assertEqual(int(resp.getheader("Content-Length")), len(body))
        self.assertGreaterEqual(len(body), 41 * 1024 * 1024)
        # {"Events":[1,1,...,1]}: valid JSON, every value tiny.
        self.assertTrue(body.startswith(b'{"Events":[1,1,'))
        self.assertTrue(body.endswith(b',1]}'))
        inner = body[len(b'{"Events":['):-2]
        self.assertEqual(inner.count(b"1"), (len(inner) + 1) // 2)
        self.assertEqual(inner.replace(b"1,", b""), b"1")
        self.assertTrue(resp.getheader("x-amzn-RequestId"))
        # The call itself happened and was recorded.
        self.assertEqual(len(self.sandbox.events(eventName="LookupEvents")), 1)

    def test_huge_parses_in_each_protocol(self):
        self.sandbox.config(huge_mib=1, faults=["ec2:huge:1", "iam:huge:1", "logs:huge:1"])
        resp, body = self.sandbox.raw("ec2", VPCS)
        self.assertEqual(resp.status, 200)
        self.assertGreaterEqual(len(body), 1024 * 1024)
        root = ET.fromstring(body)
        ns = "{http://ec2.amazonaws.com/doc/2016-11-15/}"
        self.assertEqual(root.tag, ns + "DescribeVpcsResponse")
        items = root.find(ns + "vpcSet")
        self.assertGreater(len(items), 100000)
        resp, body = self.sandbox.raw("iam", "Action=ListUsers&Version=2010-05-08")
        root = ET.fromstring(body)
        self.assertTrue(root.tag.endswith("ListUsersResponse"))
        resp, body = self.sandbox.raw("logs", "{}", target="Logs_20140328.DescribeLogGroups")
        obj = json.loads(body)
        self.assertEqual(list(obj), ["logGroups"])
        self.assertGreater(len(obj["logGroups"]), 400000)
        # Even a DryRun error answer becomes a 200 with a huge body.
        ec2 = self.sandbox.client("ec2")
        self.sandbox.config(faults=["ec2/CreateVpc:huge:1x"])
        resp, body = self.sandbox.raw("ec2", "Action=CreateVpc&Version=2016-11-15&"
                                      "CidrBlock=10.0.0.0%2F16&DryRun=true")
        self.assertEqual(resp.status, 200)
        self.assertEqual(self.sandbox.events(eventName="CreateVpc")[0]["record"]["errorCode"],
                         "Client.DryRunOperation")
        self.assertEqual(len(ec2.describe_vpcs()["Vpcs"]), 1)

    def read_slowly(self, raw, deadline=None):
        """(head, body, arrival times, complete) of one answer read off a
        socket, giving up at `deadline` seconds."""
        s = socket.create_connection(("127.0.0.1", self.sandbox.port), timeout=5)
        t0 = time.monotonic()
        s.sendall(raw)
        data = b""
        arrivals = []
        head = body = b""
        complete = False
        while deadline is None or time.monotonic() - t0 < deadline:
            if deadline is not None:
                s.settimeout(max(0.01, deadline - (time.monotonic() - t0)))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            arrivals.append(time.monotonic() - t0)
            data += chunk
            head, sep, body = data.partition(b"\r\n\r\n")
            if sep:
                length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")][0]
                if len(body) >= length:
                    complete = True
                    break
        s.close()
        return head, body, arrivals, complete

    def test_drip_outlasts_a_total_timeout(self):
        self.sandbox.client("ec2").describe_vpcs()
        self.sandbox.config(faults=["cloudtrail:drip:1x"])
        head, body, arrivals, complete = self.read_slowly(
            request_bytes("cloudtrail", "{}", target=LOOKUP))
        self.assertTrue(complete)
        self.assertTrue(head.startswith(b"HTTP/1.1 200"))
        self.assertGreaterEqual(arrivals[-1], 1.8)
        self.assertLess(arrivals[-1], 6)
        # Bytes keep coming: no idle gap a read timeout would catch, only a
        # total timeout fires.
        gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
        self.assertGreater(len(arrivals), 8)
        self.assertLess(max(gaps), 0.8)
        self.assertEqual(json.loads(body)["Events"][0]["EventName"], "DescribeVpcs")
        # A client with a 1 s total timeout has only part of an EC2 answer,
        # which is the real one once complete.
        self.sandbox.config(faults=["ec2:drip:2x"])
        head, body, arrivals, complete = self.read_slowly(request_bytes("ec2", VPCS), 1.0)
        self.assertFalse(complete)
        self.assertTrue(head.startswith(b"HTTP/1.1 200"))
        self.assertGreater(len(body), 0)
        head, body, arrivals, complete = self.read_slowly(request_bytes("ec2", VPCS))
        self.assertTrue(complete)
        self.assertTrue(ET.fromstring(body).tag.endswith("DescribeVpcsResponse"))
        self.assertEqual(len(self.sandbox.events(eventName="DescribeVpcs")), 3)

    def test_skew_moves_the_clock(self):
        self.sandbox.config(skew=3600)
        ec2 = self.sandbox.client("ec2")
        before = time.time()
        out = ec2.describe_vpcs()
        date = out["ResponseMetadata"]["HTTPHeaders"]["date"]
        served = email.utils.parsedate_to_datetime(date).timestamp()
        self.assertAlmostEqual(served - before, 3600, delta=5)
        rec = self.sandbox.events(eventName="DescribeVpcs")[0]
        self.assertAlmostEqual(rec["eventTimeEpoch"] - before, 3600, delta=5)
        # visibility stays in real time
        self.assertLessEqual(rec["visibleAtEpoch"], time.time())
        ct = self.sandbox.client("cloudtrail")
        attrs = [{"AttributeKey": "EventName", "AttributeValue": "DescribeVpcs"}]
        # A window in the client's (unskewed) clock misses the event...
        now = time.time()
        self.assertEqual(ct.lookup_events(LookupAttributes=attrs, StartTime=now - 300,
                                          EndTime=now + 60)["Events"], [])
        # ...the default window (the sandbox's clock) and a skewed one find it.
        ev = ct.lookup_events(LookupAttributes=attrs)["Events"][0]
        self.assertAlmostEqual(ev["EventTime"].timestamp() - before, 3600, delta=5)
        self.assertEqual(len(ct.lookup_events(LookupAttributes=attrs, StartTime=now + 3300,
                                              EndTime=now + 3900)["Events"]), 1)
        # Without --verify-signatures, skewed requests are still accepted.
        self.assertEqual(self.sandbox.raw("ec2", VPCS)[0].status, 200)
        # Admin answers are not skewed.
        with __import__("urllib.request").request.urlopen(
                self.sandbox.url + "/_sandbox/health") as r:
            served = email.utils.parsedate_to_datetime(r.headers["Date"]).timestamp()
        self.assertLess(abs(served - time.time()), 5)


class SkewVerifyTest(SandboxTestCase):
    sandbox_args = ("--verify-signatures", "--skew", "1200")

    def setUp(self):
        self.sandbox.reset()
        lines = dict(line.split(" ", 1) for line in self.sandbox.lines[:2])
        self.key = lines["access_key_id"]
        self.secret = lines["secret_access_key"]

    def client(self, service):
        return self.sandbox.client(service, key=self.key, secret=self.secret)

    def code(self, fn, **kw):
        try:
            fn(**kw)
        except Exception as e:
            return e.response["Error"]["Code"], e.response["Error"].get("Message", ""), \
                e.response["ResponseMetadata"]
        return None, "", None

    def test_beyond_15_minutes_refused_unrecorded(self):
        code, msg, meta = self.code(self.client("ec2").describe_vpcs)
        self.assertEqual((code, meta["HTTPStatusCode"]), ("RequestExpired", 400))
        code, msg, meta = self.code(self.client("sts").get_caller_identity)
        self.assertEqual((code, meta["HTTPStatusCode"]), ("SignatureDoesNotMatch", 403))
        self.assertIn("Signature expired", msg)
        self.assertIn("- 15 min.", msg)
        code, msg, meta = self.code(self.client("cloudtrail").lookup_events)
        self.assertEqual((code, meta["HTTPStatusCode"]), ("InvalidSignatureException", 400))
        code, msg, meta = self.code(self.client("s3").list_buckets)
        self.assertEqual((code, meta["HTTPStatusCode"]), ("RequestTimeTooSkewed", 403))
        # The answer's Date header carries the sandbox's clock, so a client
        # can correct its own.
        served = email.utils.parsedate_to_datetime(meta["HTTPHeaders"]["date"]).timestamp()
        self.assertAlmostEqual(served - time.time(), 1200, delta=5)
        self.assertEqual(self.sandbox.events(), [])

    def test_within_15_minutes_accepted_and_future_refused(self):
        self.sandbox.config(skew=600)
        self.assertEqual(self.client("sts").get_caller_identity()["Account"], "123456789012")
        self.assertEqual(len(self.sandbox.events(eventName="GetCallerIdentity")), 1)
        self.sandbox.config(skew=-1000)
        code, msg, meta = self.code(self.client("sts").get_caller_identity)
        self.assertEqual(code, "SignatureDoesNotMatch")
        self.assertIn("Signature not yet current", msg)
        self.assertEqual(len(self.sandbox.events(eventName="GetCallerIdentity")), 1)


if __name__ == "__main__":
    harness.main()
