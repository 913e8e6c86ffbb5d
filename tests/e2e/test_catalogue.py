"""The whole catalogue (#11) against one seeded sandbox: every scenario of
--chapters, one --scenario invocation each (a few at a time), with
verification on.

Checked against the sandbox's ground truth (GET /_sandbox/events, the
records by the request ID each answer carried), independently of the
daemon's own tables:
  - every call that reached the service is recorded as CloudTrail would:
    eventSource, eventName (Lambda's versioned names, S3's renamed ones),
    region (IAM in us-east-1) and errorCode (EC2's "Client." prefix, IAM's
    "...Exception" shape names);
  - every verdict is `logged`, and names the record of its own call;
  - every signal call (the --about table) has a `logged` verdict;
  - the run's records are exactly its expectations;
  - the inventory of every service touched is unchanged (EC2, RDS, IAM,
    S3, Secrets Manager, SSM, Lambda, SageMaker, Route 53 Resolver);
  - a DryRun aims at a real instance where one exists (us-east-1 is
    seeded) and at i-<17 digits of the run ID where none does.
"""
import concurrent.futures
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

REGIONS = "us-east-1,eu-west-1"
WORKERS = 3

# CloudTrail's eventName where it is not the API operation's name.
EVENT_NAMES = {
    ("lambda", "AddPermission"): "AddPermission20150331v2",
    ("lambda", "UpdateFunctionCode"): "UpdateFunctionCode20150331v2",
    ("lambda", "UpdateFunctionConfiguration"):
        "UpdateFunctionConfiguration20150331v2",
    ("s3", "PutBucketLifecycleConfiguration"): "PutBucketLifecycle",
    ("s3", "PutPublicAccessBlock"): "PutBucketPublicAccessBlock",
    ("s3", "DeletePublicAccessBlock"): "DeleteBucketPublicAccessBlock",
}
# CloudTrail's eventSource: the signing name, not the host prefix.
EVENT_SOURCES = {"ses": "ses.amazonaws.com",
                 "bedrock": "bedrock.amazonaws.com"}
GLOBAL = {"iam"}
# CloudTrail's errorCode for a wire code.
IAM_CODES = {"NoSuchEntity": "NoSuchEntityException"}


def chapter_names():
    p = harness.cloudsagad("--chapters")
    assert p.returncode == 0, p.stderr
    return [l.split()[0] for l in p.stdout.splitlines()
            if l.startswith("  ") and not l.startswith("   ")]


def signal_calls(name):
    """{(service, action)} of the calls --about marks signal."""
    out = harness.cloudsagad("--about", name).stdout
    each = out.split("\nEach call")[1].split("\n\n")[0]
    sig = set()
    for l in each.strip().splitlines()[1:]:
        f = l.split()
        if f[2] == "signal":
            sig.add(tuple(f[0].split(":", 1)))
    return sig


def expected_code(service, code):
    if code is None:
        return None
    if service == "ec2":
        return "Client." + code
    if service == "iam":
        return IAM_CODES.get(code, code)
    return code


def run(sb, name):
    t0 = time.monotonic()
    p = harness.cloudsagad("--scenario", name, "--regions", REGIONS,
                           "--endpoint-url", sb.url, "--output", "json",
                           "--verify-timeout", "60s",
                           "--verify-interval", "2s", timeout=240)
    lines = [json.loads(x) for x in p.stdout.splitlines() if x.strip()]
    return name, p, lines, time.monotonic() - t0


class Catalogue(unittest.TestCase):
    def test_every_technique_recorded_nothing_changed(self):
        names = chapter_names()
        self.assertGreaterEqual(len(names), 30, names)
        signals = {n: signal_calls(n) for n in names}
        with harness.Sandbox() as sb:
            sb.seed("instances", "us-east-1=1")
            seeded = [i for i in
                      sb.admin("inventory")["accounts"]["123456789012"]
                      ["regions"]["us-east-1"]["instances"]]
            self.assertEqual(len(seeded), 1, seeded)
            instance = seeded[0].get("instanceId") or seeded[0].get("id")
            self.assertRegex(instance, r"^i-[0-9a-f]{17}$")
            before = sb.admin("inventory")

            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
                results = list(ex.map(lambda n: run(sb, n), names))
            sys.stdout.write("%d scenarios in %.0fs\n" % (
                len(names), time.monotonic() - t0))

            after = sb.admin("inventory")
            self.assertEqual(before, after, "a technique changed the "
                             "account")
            events = sb.admin("events")["events"]

        self.aimed = {"real": 0, "fake": 0}
        by_rid = {}
        for e in events:
            by_rid.setdefault(e["requestId"], []).append(e)
        for name, p, lines, took in results:
            with self.subTest(scenario=name):
                self.check_run(name, p, lines, by_rid, events,
                               signals[name], instance)
                sys.stdout.write("== %s: exit %d, %d calls, %.0fs\n" % (
                    name, p.returncode, len([x for x in lines
                                             if x["kind"] == "call"]),
                    took))
        # Both kinds of DryRun target were exercised.
        self.assertGreaterEqual(self.aimed["real"], 3, self.aimed)
        self.assertGreaterEqual(self.aimed["fake"], 5, self.aimed)

    def check_run(self, name, p, lines, by_rid, events, signals, instance):
        self.assertNotIn("SAFETY", p.stdout + p.stderr)
        self.assertEqual(p.returncode, 0, "%s:\n%s" % (name, p.stderr[-3000:]))
        calls = [x for x in lines if x["kind"] == "call"]
        verdicts = [x for x in lines if x["kind"] == "verdict"]
        summary = [x for x in lines if x["kind"] == "summary"][0]
        self.assertFalse(summary["could_not_test"])
        self.assertEqual(summary["missing"], 0)
        self.assertEqual(summary["unverified"], 0)
        run_id = summary["run_id"]
        for c in calls:
            self.assertIn(c["outcome"], ("permitted", "skipped"), c)
        expected = [c for c in calls if c["expected"]]
        self.assertTrue(expected)
        self.assertEqual(len(verdicts), len(expected))

        # Each call as CloudTrail records it (the sandbox's records).
        vby = {v["request_id"]: v for v in verdicts}
        logged_signals = set()
        for c in expected:
            svc, rid = c["service"], c["request_id"]
            recs = [e for e in by_rid.get(rid, [])
                    if not e["duplicate"]]
            self.assertEqual(len(recs), 1, c)
            rec = recs[0]["record"]
            # The call line names the API operation.
            action = c["event_name"]
            self.assertEqual(rec["eventSource"], EVENT_SOURCES.get(
                svc, svc + ".amazonaws.com"), c)
            self.assertEqual(rec["eventName"], EVENT_NAMES.get(
                (svc, action), action), c)
            region = "us-east-1" if svc in GLOBAL else c["region"]
            self.assertEqual(rec["awsRegion"], region, c)
            self.assertEqual(rec.get("errorCode"),
                             expected_code(svc, c["error_code"]), c)
            self.assertIn("run/" + run_id, rec["userAgent"])
            v = vby[rid]
            self.assertEqual(v["verdict"], "logged", v)
            self.assertEqual(v["event_id"], rec["eventID"], v)
            self.assertEqual(v["region"], rec["awsRegion"], v)
            self.assertEqual(v["event_name"], rec["eventName"], v)
            if (svc, action) in signals:
                logged_signals.add((svc, action))
        self.assertEqual(logged_signals, signals,
                         "a signal call was not verified")

        # The run's records are exactly its expectations.
        mine = [e for e in events if not e["duplicate"] and
                "run/" + run_id in e["record"].get("userAgent", "")]
        self.assertEqual(sorted(e["requestId"] for e in mine),
                         sorted(c["request_id"] for c in expected))

        # Targets: a real instance where there is one, a fake elsewhere.
        for e in mine:
            params = e["record"].get("requestParameters") or {}
            iid = params.get("instanceId")
            if not isinstance(iid, str):
                continue
            if e["record"]["awsRegion"] == "us-east-1" and \
                    e["record"]["eventSource"] == "ec2.amazonaws.com":
                self.assertEqual(iid, instance, e["record"])
                self.aimed["real"] += 1
            else:
                self.assertEqual(iid, "i-" + run_id[:17], e["record"])
                self.aimed["fake"] += 1


if __name__ == "__main__":
    unittest.main(verbosity=2)
