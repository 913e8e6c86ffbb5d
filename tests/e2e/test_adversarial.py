"""Verdicts you can page on, through the real binary against an adversarial
sandbox (tests/sandbox: targeted faults, drops by outcome, refusals that
CloudTrail never records, LookupEvents answers not to trust, duplicate,
late and ID-less records).

Every run is judged against the sandbox's ground truth
(GET /_sandbox/events: every record, visible or dropped, with the request
ID the answer carried):
  - a `logged` verdict names the eventID of a record whose request ID is
    that call's request ID;
  - `missing` has precision and recall of 100 %: a verdict is missing
    exactly when no visible record of that call exists (the lookups here
    are complete, so every true gap must be found);
  - no call CloudTrail could not have recorded (refused before the service
    handled it) is ever an expectation;
  - a lookup answer that cannot be trusted never produces `missing`.
"""
import http.server
import json
import os
import socketserver
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REGIONS = "us-east-1,eu-west-1,ap-south-1"


def run_json(sb, *extra, regions=REGIONS, timeout="20s", interval="1s",
             scenario="network-changes", env=None):
    p = harness.cloudsagad("--scenario", scenario, "--regions", regions,
                           "--endpoint-url", sb.url, "--output", "json",
                           "--verify-timeout", timeout,
                           "--verify-interval", interval, *extra,
                           env=env, timeout=240)
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    return p, lines


def kind(lines, k):
    return [x for x in lines if x.get("kind") == k]


class Truth:
    """The sandbox's records, by the request ID each answer carried."""

    def __init__(self, sb):
        evs = sb.admin("events")["events"]
        self.by_event_id = {}
        self.visible_by_rid = {}
        for e in evs:
            eid = e["record"]["eventID"]
            self.by_event_id.setdefault(eid, e)
            if e["visible"] and not e["dropped"]:
                self.visible_by_rid.setdefault(e["requestId"], []).append(e)


class Adversarial(unittest.TestCase):

    def check_invariants(self, sb, lines, complete=True):
        """The promises, for every verdict of the run."""
        truth = Truth(sb)
        verdicts = kind(lines, "verdict")
        self.assertTrue(verdicts, "no verdicts at all")
        for v in verdicts:
            rid = v["request_id"]
            seen = truth.visible_by_rid.get(rid, [])
            seen = [e for e in seen
                    if e["record"]["eventName"] == v["event_name"]]
            if v["verdict"] == "logged":
                rec = truth.by_event_id.get(v["event_id"])
                self.assertIsNotNone(rec, "logged names an unknown "
                                     "event: %r" % v)
                self.assertEqual(rec["requestId"], rid,
                                 "logged names another call's record: %r"
                                 % v)
            elif v["verdict"] == "missing":
                self.assertFalse(seen, "missing although CloudTrail holds "
                                 "the record: %r" % v)
            if complete:
                # Recall: with complete lookups every true gap is missing,
                # every recorded call logged.
                if seen:
                    self.assertEqual(v["verdict"], "logged", v)
                else:
                    self.assertEqual(v["verdict"], "missing", v)
        return verdicts

    def test_decoy_of_throttled_attempts(self):
        """CloudTrail holds the throttled attempts (own request IDs,
        RequestLimitExceeded); the successful retries are never recorded.
        Each is a real logging gap, never `logged` by a decoy."""
        with harness.Sandbox("--fault", "ec2/DescribeInstances:throttle:3x",
                             "--drop", "DescribeInstances:ok") as sb:
            p, lines = run_json(sb)
            verdicts = self.check_invariants(sb, lines)
            di = [v for v in verdicts
                  if v["event_name"] == "DescribeInstances"]
            self.assertEqual(len(di), 3, di)
            self.assertEqual({v["verdict"] for v in di}, {"missing"}, di)
            # The decoys are there, in CloudTrail, for the same calls.
            evs = sb.admin("events?eventName=DescribeInstances")["events"]
            decoys = [e for e in evs if e["record"].get("errorCode")]
            self.assertGreaterEqual(len(decoys), 3)
            self.assertEqual(p.returncode, 1, p.stderr)

    def test_decoy_same_name_other_request(self):
        """Another call of the same name in the same region (another run of
        ours, another tool with a look-alike user agent) proves nothing."""
        import boto3
        from botocore.config import Config
        with harness.Sandbox() as sb:
            # Records of CreateVpc from other agents, before our run: a run
            # of ours long gone, another tool using a look-alike marker.
            for ua in ("cloudsagad/0.1.0 run/" + "0" * 32 + "/1/1",
                       "othertool/1.0 run/" + "f" * 32,
                       "aws-cli/1.45 xrun/" + "a" * 32 + "/3/1"):
                ec2 = boto3.client(
                    "ec2", region_name="us-east-1", endpoint_url=sb.url,
                    aws_access_key_id=harness.FAKE_KEY,
                    aws_secret_access_key=harness.FAKE_SECRET,
                    config=Config(user_agent=ua,
                                  retries={"max_attempts": 1}))
                try:
                    ec2.create_vpc(CidrBlock="10.9.0.0/16", DryRun=True)
                except ec2.exceptions.ClientError:
                    pass
            # Our own CreateVpc records are lost.
            sb.admin("config", {"drop": ["CreateVpc"]})
            p, lines = run_json(sb, regions="us-east-1")
            verdicts = self.check_invariants(sb, lines)
            cv = [v for v in verdicts if v["event_name"] == "CreateVpc"]
            self.assertTrue(cv)
            self.assertEqual({v["verdict"] for v in cv}, {"missing"}, cv)

    def test_duplicate_late_and_id_less_records(self):
        """Duplicate deliveries count once, a late record still proves its
        call, a record without requestID is found by the call marker."""
        with harness.Sandbox("--duplicate", "CreateVpc",
                             "--delay-name", "CreateSecurityGroup=3:4",
                             "--strip-request-id", "DescribeInstances",
                             "--strip-request-id", "DescribeVpcs") as sb:
            sb.seed("instances", "us-east-1=1")
            p, lines = run_json(sb)
            verdicts = self.check_invariants(sb, lines)
            self.assertEqual({v["verdict"] for v in verdicts}, {"logged"},
                             [v for v in verdicts
                              if v["verdict"] != "logged"])
            by = {}
            for v in verdicts:
                by.setdefault(v["event_name"], set()).add(v["match"])
            self.assertEqual(by["DescribeInstances"], {"marker"})
            self.assertEqual(by["CreateVpc"], {"request-id"})
            ids = [v["event_id"] for v in verdicts]
            self.assertEqual(len(ids), len(set(ids)), "one record proved "
                             "two calls")
            self.assertEqual(p.returncode, 0, p.stderr)

    def test_lookup_answers_not_to_trust(self):
        """200 answers without Events, with Events null or not a list, with
        a record that cannot be read, or a page chain that breaks: never
        missing."""
        for fault in ("noevents", "nullevents", "badevents", "truncpage"):
            with self.subTest(fault=fault):
                with harness.Sandbox("--fault",
                                     "cloudtrail/LookupEvents:%s:1" % fault,
                                     "--drop", "CreateVpc") as sb:
                    p, lines = run_json(sb, regions="us-east-1",
                                        timeout="4s")
                    verdicts = self.check_invariants(sb, lines,
                                                     complete=False)
                    self.assertNotIn("missing",
                                     {v["verdict"] for v in verdicts})
                    self.assertIn("unverified",
                                  {v["verdict"] for v in verdicts})
                    # Every call went as intended: 4, not 1.
                    self.assertEqual(p.returncode, 4, p.stderr)
        # A record that cannot be read: its query proves nothing, so its
        # call is unverified; a query of another name whose page was whole
        # still proves the true gap.
        with harness.Sandbox("--fault", "cloudtrail/LookupEvents:badrecord:1",
                             "--drop", "CreateVpc") as sb:
            p, lines = run_json(sb, regions="us-east-1", timeout="4s")
            verdicts = self.check_invariants(sb, lines, complete=False)
            by = {v["event_name"]: v["verdict"] for v in verdicts}
            self.assertEqual(by["DescribeInstances"], "unverified", by)
            self.assertEqual(by["CreateVpc"], "missing", by)

    def test_refused_before_handling_is_never_an_expectation(self):
        """Answers CloudTrail never records (bad, expired or missing
        credentials or signature) make the call a failure: no expectation,
        no `missing`, a could-not-test record, exit 1."""
        for fault in ("authfailure", "signature", "expired", "incomplete",
                      "notoken"):
            with self.subTest(fault=fault):
                with harness.Sandbox("--fault",
                                     "ec2/DescribeInstances:%s:9x" % fault
                                     ) as sb:
                    p, lines = run_json(sb, regions="us-east-1",
                                        timeout="6s")
                    calls = [c for c in kind(lines, "call")
                             if c["event_name"] == "DescribeInstances"]
                    self.assertTrue(calls)
                    for c in calls:
                        self.assertFalse(c["expected"], c)
                        self.assertEqual(c["outcome"], "error", c)
                    verdicts = kind(lines, "verdict")
                    self.assertFalse([v for v in verdicts if
                                      v["event_name"] ==
                                      "DescribeInstances"])
                    cnt = kind(lines, "could-not-test")
                    self.assertEqual(len(cnt), 1, lines)
                    self.assertIn("DescribeInstances",
                                  [f["action"] for f in cnt[0]["failures"]])
                    summary = kind(lines, "summary")[-1]
                    self.assertTrue(summary["could_not_test"])
                    self.assertEqual(p.returncode, 1, p.stderr)

    def test_broken_deployment_is_loud_and_quick(self):
        """Nothing listens at the endpoint: every call fails, nothing can be
        verified, the run says it could not test and ends at once."""
        port = harness.free_port()
        p = harness.cloudsagad("--scenario", "network-changes", "--regions",
                               "us-east-1", "--endpoint-url",
                               "http://127.0.0.1:%d" % port, "--output",
                               "json", "--verify-timeout", "10m",
                               timeout=120)
        lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
        self.assertEqual(p.returncode, 1, p.stderr)
        cnt = kind(lines, "could-not-test")
        self.assertEqual(len(cnt), 1, lines)
        self.assertIn("HttpConnectError",
                      {f["error_code"] for f in cnt[0]["failures"]})
        self.assertIn("cannot be reached", cnt[0]["failures"][0]["hint"])
        self.assertFalse(kind(lines, "verdict"))
        # A misspelt region is a usage error, before anything is sent.
        p = harness.cloudsagad("--scenario", "network-changes", "--regions",
                               "us-east-1,mars-1", "--endpoint-url",
                               "http://127.0.0.1:%d" % port, timeout=30)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("mars-1", p.stderr)

    def test_safe_fail_create_refused_creates_nothing(self):
        """A config-declared safe-fail CreateUser whose run ID is only the
        name it would create is refused by -n and never sent."""
        conf = os.path.join(self.tmp, "createuser.conf")
        with open(conf, "w") as f:
            f.write('scenarios = ( { name = "mkuser"; summary = "x";\n'
                    '  steps = ( { service = "iam"; action = "CreateUser";\n'
                    '    params = { UserName = "cloudsaga-{run_id}"; };\n'
                    '    safety = "safe-fail"; expect_error = "NoSuchEntity";'
                    ' } ); } );\n')
        p = harness.cloudsagad("-n", "-c", conf)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("createuser.conf:4: refused: safe-fail call "
                      "iam:CreateUser has the run ID in UserName", p.stderr)
        self.assertIn("PermissionsBoundary", p.stderr)
        with harness.Sandbox() as sb:
            p = harness.cloudsagad("--scenario", "mkuser", "-c", conf,
                                   "--endpoint-url", sb.url, "--no-verify")
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertEqual(sb.admin("stats")["requests_total"], 0)
            users = harness.aws_cli(sb.url, "iam", "list-users")["Users"]
            self.assertFalse([u for u in users
                              if u["UserName"].startswith("cloudsaga-")])

    def test_ignored_dry_run_halts(self):
        """An endpoint that answers a DryRun call with success (it ignored
        DryRun): a safety event, the run halted, exit 1."""
        class Yes(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", 0))
                self.rfile.read(n)
                body = (b'<?xml version="1.0"?><R xmlns="http://ec2.'
                        b'amazonaws.com/doc/2016-11-15/"><requestId>r-'
                        + str(id(self)).encode() + b'</requestId>'
                        b'<regionInfo><item><regionName>us-east-1'
                        b'</regionName><optInStatus>opt-in-not-required'
                        b'</optInStatus></item></regionInfo>'
                        b'<reservationSet/><vpc><vpcId>vpc-1</vpcId></vpc>'
                        b'</R>')
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Yes)
        srv.daemon_threads = True
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            url = "http://127.0.0.1:%d" % srv.server_address[1]
            p = harness.cloudsagad("--scenario", "network-changes",
                                   "--regions", "us-east-1",
                                   "--endpoint-url", url, "--output", "json",
                                   "--no-verify", timeout=60)
        finally:
            srv.shutdown()
            srv.server_close()
        lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertTrue(kind(lines, "safety"), lines)
        self.assertTrue(kind(lines, "summary")[-1]["halted"])
        self.assertIn("SAFETY", p.stderr)

    def setUp(self):
        import tempfile
        self.tmp = tempfile.mkdtemp(prefix="adversarial-")

    def tearDown(self):
        import shutil
        shutil.rmtree(self.tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
