"""The verifier against the sandbox: real calls, real LookupEvents.

verify-tool fires calls through the C client (tagged with the run marker),
records expectations in a real state directory, polls the sandbox's
LookupEvents and writes the JSON-lines report.  The sandbox's knobs make
the cases: delivery delay, a dropped event (a logging gap), LookupEvents
failing with 5xx (unverified, never missing), a stricter rate limit
(throttling), many events (pagination), and kill -9 mid-verification.
"""
import collections
import json
import os
import signal
import time
import unittest

import boto3

from harness import FAKE_KEY, FAKE_SECRET, Sandbox
from verify_harness import (CALLS, FAST, Workdir, kill9, read_until,
                            run_tool, start_tool)


def by_name(verdicts):
    return {v["event_name"]: v for v in verdicts}


def lookup_event(sandbox, region, name, request_id):
    """The record the sandbox serves for a request, via boto3."""
    ct = boto3.client("cloudtrail", endpoint_url=sandbox.url,
                      region_name=region, aws_access_key_id=FAKE_KEY,
                      aws_secret_access_key=FAKE_SECRET)
    pages = ct.get_paginator("lookup_events").paginate(LookupAttributes=[
        {"AttributeKey": "EventName", "AttributeValue": name}])
    for page in pages:
        for ev in page["Events"]:
            rec = json.loads(ev["CloudTrailEvent"])
            if rec.get("requestID") == request_id:
                return ev, rec
    return None, None


class VerifyTest(unittest.TestCase):
    def setUp(self):
        self.work = Workdir()

    def tearDown(self):
        self.work.cleanup()

    def check_report_shape(self, expected):
        """One verdict per expectation, seqs increasing, then summaries."""
        lines = self.work.lines()
        verdicts = [l for l in lines if l["kind"] == "verdict"]
        self.assertEqual(len(verdicts), expected, lines)
        ids = [v["report_id"] for v in verdicts]
        self.assertEqual(len(ids), len(set(ids)), "a verdict twice")
        seqs = [l["seq"] for l in lines]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(seqs), len(set(seqs)))
        summaries = [l for l in lines if l["kind"] == "summary"]
        self.assertEqual(len(summaries), 1)
        self.assertEqual(lines[-1]["kind"], "summary")
        return verdicts, summaries[0]

    def test_logged_with_latency_and_a_logging_gap(self):
        with Sandbox("--delay", "2", "--drop", "CreateSecurityGroup") as sb:
            p = run_tool(sb, self.work, *FAST, "--deadline", "8", *CALLS)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("done logged=4 missing=1 unverified=0", p.stdout)
            verdicts, summary = self.check_report_shape(5)
            v = by_name(verdicts)
            gap = v["CreateSecurityGroup"]
            self.assertEqual(gap["verdict"], "missing")
            self.assertIsNone(gap["event_id"])
            self.assertIsNone(gap["latency_s"])
            self.assertEqual(gap["error_code"], "Client.DryRunOperation")
            self.assertEqual(gap["region"], "us-east-1")
            self.assertIn("after the deadline", gap["reason"])
            for name in ("DescribeInstances", "CreateVpc",
                         "DescribeSecurityGroups", "ListUsers"):
                got = v[name]
                self.assertEqual(got["verdict"], "logged", got)
                # Delivered after the sandbox's 2 s delay, before 8 s.
                self.assertGreaterEqual(got["latency_s"], 2.0, got)
                self.assertLess(got["latency_s"], 8.0, got)
                self.assertEqual(got["match"], "request-id")
                # The eventID is the sandbox's record of that very call.
                ev, rec = lookup_event(sb, got["region"], name,
                                       got["request_id"])
                self.assertIsNotNone(ev, name)
                self.assertEqual(ev["EventId"], got["event_id"])
                self.assertIn("run/" + got["run_id"], rec["userAgent"])
            self.assertEqual(v["DescribeSecurityGroups"]["region"],
                             "eu-west-1")
            self.assertEqual(v["ListUsers"]["event_source"],
                             "iam.amazonaws.com")
            self.assertEqual(v["CreateVpc"]["error_code"],
                             "Client.DryRunOperation")
            self.assertEqual((summary["expected"], summary["logged"],
                              summary["missing"], summary["unverified"]),
                             (5, 4, 1, 0))
            self.assertGreaterEqual(summary["latency_max_s"], 2.0)

    def test_failing_lookups_are_unverified_never_missing(self):
        with Sandbox("--fault", "cloudtrail:500:1",
                     "--drop", "CreateSecurityGroup") as sb:
            p = run_tool(sb, self.work, *FAST, "--deadline", "3",
                         "--grace", "3", *CALLS)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("done logged=0 missing=0 unverified=5", p.stdout)
            verdicts, summary = self.check_report_shape(5)
            for v in verdicts:
                self.assertEqual(v["verdict"], "unverified", v)
                self.assertIn("LookupEvents", v["reason"])
            self.assertEqual(summary["missing"], 0)
            # It did try, and kept trying (the client retries each).
            faults = sb.admin("stats")["faults"]
            self.assertGreaterEqual(faults.get("cloudtrail/500", 0), 6,
                                    faults)
            self.assertIn("cannot look up CloudTrail events", p.stderr)

    def test_throttled_lookups_recover(self):
        # The sandbox allows a quarter of the client's rate: lookups get
        # ThrottlingException, the client backs off, the verifier polls
        # again; nothing is declared missing because of it.
        with Sandbox("--lookup-tps", "0.5", "--delay", "1") as sb:
            p = run_tool(sb, self.work, *FAST, "--deadline", "20",
                         "--interval", "0.5", *CALLS)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("done logged=5 missing=0 unverified=0", p.stdout)
            stats = sb.admin("stats")["lookup_events"]
            self.assertGreater(sum(s["throttled"] for s in stats.values()),
                               0, stats)
            self.check_report_shape(5)

    def test_two_lookups_per_second_per_region(self):
        # Frequent polls with several queries each (five names, keys are
        # long-term: one query per name), in two regions, for 6 s: the
        # client's limiter keeps each region at 2/s, the sandbox (which
        # enforces AWS's 2/s) never throttles.
        calls = [c.replace("@us-east-1", "@%s" % r) for r in
                 ("us-east-1", "eu-west-1") for c in CALLS[:4]]
        with Sandbox("--drop", "CreateSecurityGroup") as sb:
            p = run_tool(sb, self.work, *FAST, "--interval", "0.2",
                         "--deadline", "6", "--max-queries", "4", *calls)
            self.assertEqual(p.returncode, 0, p.stderr)
            stats = sb.admin("stats")["lookup_events"]
            self.assertEqual(len(stats), 2, stats)
            for key, s in stats.items():
                self.assertEqual(s["throttled"], 0, stats)
                # At most 2/s over about 6 s, plus a burst.
                self.assertLessEqual(s["calls"], 2 * 8 + 1, stats)
                self.assertGreaterEqual(s["calls"], 5, stats)
            self.assertIn("missing=2", p.stdout)

    def test_pagination_over_many_events(self):
        # 120 calls of one name: one EventName query, three pages of 50.
        calls = ["ec2:DescribeInstances@us-east-1"] * 120
        with Sandbox("--lookup-tps", "0") as sb:
            p = run_tool(sb, self.work, *FAST, "--deadline", "30", *calls)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("done logged=120 missing=0", p.stdout)
            verdicts, _ = self.check_report_shape(120)
            ids = [v["event_id"] for v in verdicts]
            self.assertEqual(len(set(ids)), 120, "an event used twice")
            stats = sb.admin("stats")["lookup_events"]
            self.assertGreaterEqual(sum(s["calls"] for s in stats.values()),
                                    3)

    def test_kill9_then_restart_gives_each_expectation_one_verdict(self):
        with Sandbox("--delay", "4", "--drop", "CreateSecurityGroup") as sb:
            proc = start_tool(sb, self.work, *FAST, "--deadline", "10",
                              *CALLS)
            self.assertEqual(read_until(proc, "fired"), "fired 5")
            kill9(proc)
            self.assertEqual(self.work.lines(), [])
            p = run_tool(sb, self.work, *FAST, "--deadline", "10",
                         "--resume")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("resumed 5", p.stdout)
            self.assertIn("done logged=4 missing=1 unverified=0", p.stdout)
            verdicts, summary = self.check_report_shape(5)
            self.assertEqual(by_name(verdicts)["CreateSecurityGroup"]
                             ["verdict"], "missing")
            # Latency counts from the original call, across the restart.
            for v in verdicts:
                if v["verdict"] == "logged":
                    self.assertGreaterEqual(v["latency_s"], 4.0)
            # Every call was made before the kill: the run ended normally.
            self.assertFalse(summary["halted"])
            self.assertEqual(summary["missing"], 1)
            # A third start has nothing to do and writes nothing.
            before = self.work.lines()
            p = run_tool(sb, self.work, *FAST, "--resume")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("resumed 0", p.stdout)
            self.assertEqual(self.work.lines(), before)

    def test_sigterm_drains_then_resume_finishes(self):
        with Sandbox("--delay", "3", "--latency", "300") as sb:
            proc = start_tool(sb, self.work, *FAST, "--deadline", "15",
                              "--interval", "0.5", *CALLS)
            read_until(proc, "fired")
            time.sleep(1.2)         # a lookup is in flight or due
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            line = read_until(proc, "drained", timeout=10)
            self.assertEqual(proc.wait(10), 0)
            proc.stdout.close()
            proc.stderr.close()
            self.assertLess(time.monotonic() - t0, 5)
            self.assertEqual(line, "drained pending=5")
            self.assertEqual(self.work.verdicts(), [])
            p = run_tool(sb, self.work, *FAST, "--deadline", "15",
                         "--resume")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("done logged=5 missing=0", p.stdout)
            self.check_report_shape(5)

    def test_kill9_at_random_points_never_loses_or_repeats(self):
        # Verdicts arrive over several seconds (delays 1-5 s); kill at
        # different moments, restart until done: every expectation has
        # exactly one verdict line.
        for kill_after in (1.3, 2.6, 3.9):
            work = Workdir()
            try:
                with Sandbox("--delay", "1:5", "--seed", "7") as sb:
                    calls = CALLS * 3
                    proc = start_tool(sb, work, *FAST, "--interval", "0.3",
                                      "--deadline", "12", *calls)
                    read_until(proc, "fired")
                    time.sleep(kill_after)
                    kill9(proc)
                    p = run_tool(sb, work, *FAST, "--interval", "0.3",
                                 "--deadline", "12", "--resume")
                    self.assertEqual(p.returncode, 0, p.stderr)
                    lines = work.lines()
                    verdicts = [l for l in lines if l["kind"] == "verdict"]
                    ids = collections.Counter(v["report_id"]
                                              for v in verdicts)
                    self.assertEqual(len(ids), 15, (kill_after, lines))
                    self.assertEqual(set(ids.values()), {1},
                                     (kill_after, ids))
                    for v in verdicts:
                        self.assertEqual(v["verdict"], "logged", v)
                    self.assertEqual(
                        sum(1 for l in lines if l["kind"] == "summary"), 1)
            finally:
                work.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
