"""GuardDuty after the deadline: findings that concern the run.

verify-tool with --coverage guardduty: after the run's verdicts it asks
each region of the run for its detectors (ListDetectors), the findings
updated since the run started (ListFindings with an updatedAt criterion)
and their details (GetFindings), and reports the findings that concern the
run - by its marker in the caller's user agent, by an access key the run
used, or by an API call the run made in that region - as information.  No
finding is information too, never a gap.
"""
import os
import subprocess
import time
import unittest

from coverage_harness import FAST
from harness import FAKE_KEY, Sandbox, clean_env
from verify_harness import TOOL, Workdir

CALLS = [
    "ec2:CreateSecurityGroup@us-east-1?GroupName=x&GroupDescription=y",
    "ec2:CreateVpc@eu-west-1?CidrBlock=10.7.0.0/16",
    "ec2:DescribeInstances@ap-south-1",
]


def finding(api, service="ec2.amazonaws.com", key="AKIAIOSFODNN7EXAMPLE",
            user_agent="aws-cli/2", updated=None, ftype=None):
    f = {"type": ftype or "Recon:IAMUser/MaliciousIPCaller",
         "service": {"action": {"awsApiCallAction": {
             "api": api, "serviceName": service,
             "userAgent": {"fullUserAgent": user_agent,
                           "userAgentCategory": "CLI"}}}},
         "resource": {"accessKeyDetails": {"accessKeyId": key}}}
    if updated is not None:
        f["updatedAt"] = updated
    return f


class GuardDutyTest(unittest.TestCase):
    def setUp(self):
        self.work = Workdir()
        self.proc = None

    def tearDown(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.work.cleanup()

    def start(self, sb, run_id, *extra):
        self.err = open(os.path.join(self.work.path, "tool.stderr"), "w")
        self.proc = subprocess.Popen(
            [TOOL, "--endpoint", sb.url, "--state", self.work.state,
             "--report", self.work.report, "--run-id", run_id,
             "--coverage", "guardduty"] + FAST + list(extra) + CALLS,
            env=clean_env(), stdout=subprocess.PIPE, stderr=self.err,
            text=True)

    def wait_line(self, prefix, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            if line.startswith(prefix):
                return line.strip()
        self.fail("no %r from the tool" % prefix)

    def finish(self):
        self.assertEqual(self.proc.wait(30), 0)
        self.proc.stdout.close()
        self.err.close()
        with open(os.path.join(self.work.path, "tool.stderr")) as f:
            return f.read()

    def test_findings_of_the_run_are_reported(self):
        run_id = os.urandom(16).hex()
        with Sandbox() as sb:
            # A finding from before the run, and detectors in two of the
            # run's three regions.
            old = sb.admin("findings", {"region": "us-east-1", "findings": [
                finding("CreateSecurityGroup",
                        updated="2020-01-01T00:00:00.000Z")]})
            sb.admin("findings", {"region": "eu-west-1", "findings": []})
            self.start(sb, run_id, "--deadline", "6")
            self.wait_line("fired")
            # GuardDuty reports while the run is being verified.
            sb.admin("findings", {"region": "us-east-1", "findings": [
                finding("CreateSecurityGroup"),                 # api
                finding("DeleteTrail", "cloudtrail.amazonaws.com"),
                finding("CreateVpc"),        # the run's, but in eu-west-1
            ]})
            sb.admin("findings", {"region": "eu-west-1", "findings": [
                finding("RunInstances", key=FAKE_KEY),          # key
                finding("GetCallerIdentity", service="sts.amazonaws.com",
                        user_agent="cloudsagad/0.1 run/" + run_id),
            ]})
            line = self.wait_line("guardduty ")
            self.assertEqual(line, "guardduty findings=3")
            self.wait_line("done")
            log = self.finish()
        lines = self.work.lines()
        found = [l for l in lines if l["kind"] == "guardduty_finding"]
        self.assertEqual(sorted((f["region"], f["event_name"], f["match"])
                                for f in found),
                         [("eu-west-1", "GetCallerIdentity", "marker"),
                          ("eu-west-1", "RunInstances", "access-key"),
                          ("us-east-1", "CreateSecurityGroup", "api")])
        self.assertNotIn(old["findingIds"][0],
                         [f["finding_id"] for f in found])
        for f in found:
            self.assertEqual(f["run_id"], run_id)
            self.assertEqual(f["type"], "Recon:IAMUser/MaliciousIPCaller")
        summary = [l for l in lines if l["kind"] == "guardduty"]
        self.assertEqual(len(summary), 1)
        s = summary[0]
        self.assertEqual(s["findings"], 3)
        regions = {r["region"]: r for r in s["regions"]}
        self.assertEqual(regions["us-east-1"]["detectors"], 1)
        # Updated since the run started: 3 of the 4 in us-east-1.
        self.assertEqual(regions["us-east-1"]["findings_seen"], 3)
        self.assertEqual(regions["eu-west-1"]["findings_seen"], 2)
        self.assertEqual(regions["ap-south-1"]["detectors"], 0)
        self.assertIsNone(regions["ap-south-1"]["error"])
        # Verdicts are untouched (GuardDuty is not the alerting check).
        verdicts = [l for l in lines if l["kind"] == "verdict"]
        self.assertEqual(len(verdicts), 3)
        self.assertTrue(all("coverage" not in v for v in verdicts))
        self.assertIn("GuardDuty finding Recon:IAMUser/MaliciousIPCaller "
                      "(severity 5) in us-east-1 concerns "
                      "CreateSecurityGroup of run " + run_id, log)

    def test_no_finding_is_information_not_a_gap(self):
        run_id = os.urandom(16).hex()
        with Sandbox() as sb:
            sb.admin("findings", {"region": "us-east-1", "findings": []})
            self.start(sb, run_id, "--deadline", "4")
            self.assertEqual(self.wait_line("guardduty "),
                             "guardduty findings=0")
            self.wait_line("done")
            log = self.finish()
        s = [l for l in self.work.lines() if l["kind"] == "guardduty"][0]
        self.assertEqual(s["findings"], 0)
        self.assertIn("GuardDuty: 0 findings concern run %s" % run_id, log)
        nodet = log.split("no detector in: ", 1)[1].split(")")[0]
        self.assertEqual(sorted(nodet.split(",")), ["ap-south-1",
                                                    "eu-west-1"])
        self.assertIn("information, not a gap", log)
        self.assertNotIn("alert gap", log)

    def test_guardduty_denied_is_reported_per_region(self):
        run_id = os.urandom(16).hex()
        with Sandbox("--fault", "guardduty@eu-west-1:500:1") as sb:
            sb.admin("findings", {"region": "us-east-1", "findings": []})
            self.start(sb, run_id, "--deadline", "4")
            self.assertEqual(self.wait_line("guardduty "),
                             "guardduty findings=0")
            self.wait_line("done")
            log = self.finish()
        s = [l for l in self.work.lines() if l["kind"] == "guardduty"][0]
        regions = {r["region"]: r for r in s["regions"]}
        self.assertIn("ListDetectors", regions["eu-west-1"]["error"])
        self.assertIsNone(regions["us-east-1"]["error"])
        self.assertIn("not checked: eu-west-1: ListDetectors", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
