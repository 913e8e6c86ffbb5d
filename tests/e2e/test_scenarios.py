"""--scenario network-changes against the sandbox, call for call.

Instances are seeded in two regions and three VPCs in one of them. The
sandbox's CloudTrail must then hold exactly the calls SCENARIOS.md asks
for - DryRun CreateVpc in every other enabled region, DryRun
CreateSecurityGroup once per VPC and DryRun AuthorizeSecurityGroupIngress on
each VPC's default group in the seeded regions, plus the read-only listings
- computed here from the seeded world, not from cloudsagad's output; and the
sandbox's inventory must be unchanged.

The helpers at the top are shared by the other test_scenarios_*.py files
(imported as a module, so their TestCase classes are not collected twice).
"""
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import unittest

import boto3

from harness import (CLOUDSAGAD, FAKE_KEY, FAKE_SECRET, SRC, Sandbox,
                     clean_env, cloudsagad)

ENABLED = ("opt-in-not-required", "opted-in")


def seed(sandbox, *args):
    """tests/sandbox/seed is a shell wrapper: run it as such (harness.py's
    Sandbox.seed() runs it with Python)."""
    cmd = [os.path.join(SRC, "tests", "sandbox", "seed"), "--endpoint",
           sandbox.url] + [str(a) for a in args]
    p = subprocess.run(cmd, env=clean_env(), capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 0:
        raise RuntimeError("seed %s: %s" % (" ".join(args), p.stderr))
    return json.loads(p.stdout) if p.stdout.strip() else None


def boto(sandbox, service, region):
    return boto3.client(service, endpoint_url=sandbox.url, region_name=region,
                        aws_access_key_id=FAKE_KEY,
                        aws_secret_access_key=FAKE_SECRET)


def enabled_regions(sandbox):
    """Enabled regions of the aws partition (moto also lists aws-cn and
    GovCloud regions, which AWS never does and cloudsagad ignores)."""
    ec2 = boto(sandbox, "ec2", "us-east-1")
    return sorted(r["RegionName"] for r in ec2.describe_regions()["Regions"]
                  if r.get("OptInStatus", "opt-in-not-required") in ENABLED
                  and not r["RegionName"].startswith(("cn-", "us-gov-",
                                                      "us-iso")))


def run_scenario(sandbox, name, *args, timeout=300, verify=False):
    """Run --scenario (calls only, unless verify); returns
    (CompletedProcess, parsed report)."""
    env = clean_env(AWS_ENDPOINT_URL=sandbox.url)
    extra = () if verify else ("--no-verify",)
    p = cloudsagad("--scenario", name, *args, *extra, env=env,
                   timeout=timeout)
    return p, parse_report(p.stdout)


def parse_report(out):
    """The --scenario report on stdout: run ID, rows of the call table,
    notes, findings, failed regions, result line."""
    rep = {"run_id": None, "rows": [], "notes": [], "findings": [],
           "failed": [], "result": None, "summary": None}
    lines = out.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^scenario (\S+)\s+run ([0-9a-f]{32})\s+account (\S+)$",
                     line)
        if m:
            rep["scenario"], rep["run_id"], rep["account"] = m.groups()
        elif line.startswith("REGION "):
            cols = [line.index(h) for h in ("REGION", "CALL", "OUTCOME",
                                            "CODE", "TARGET / NOTE")]
            i += 1
            while i < len(lines) and lines[i].strip():
                row = lines[i]
                cut = [row[cols[k]:cols[k + 1]].strip()
                       for k in range(len(cols) - 1)]
                cut.append(row[cols[-1]:].strip())
                svc, _, action = cut[1].partition(":")
                rep["rows"].append({"region": cut[0], "service": svc,
                                    "action": action, "outcome": cut[2],
                                    "code": cut[3], "target": cut[4]})
                i += 1
            continue
        elif line == "notes:":
            i += 1
            while i < len(lines) and lines[i].startswith("  "):
                rep["notes"].append(lines[i].strip())
                i += 1
            continue
        elif line == "findings:":
            i += 1
            while i < len(lines) and lines[i].startswith("  "):
                rep["findings"].append(lines[i].strip())
                i += 1
            continue
        elif line.startswith("failed regions:"):
            rep["failed"] = [r.strip() for r in
                             line.split(":", 1)[1].split(",")]
        elif line.startswith("result: "):
            rep["result"] = line[len("result: "):]
        elif re.match(r"^\d+ calls: ", line):
            rep["summary"] = line
        i += 1
    return rep


def run_events(sandbox, run_id):
    """CloudTrail records of one run (its marker is in the user agent)."""
    evs = sandbox.admin("events")["events"]
    return [e["record"] for e in evs
            if "run/" + run_id in (e["record"].get("userAgent") or "")]


def event_key(rec):
    return (rec["awsRegion"], rec["eventName"], rec.get("errorCode"))


class NetworkChanges(unittest.TestCase):
    def test_exact_calls_and_nothing_changed(self):
        with Sandbox() as sb:
            seed(sb, "instances", "us-east-1=1", "eu-west-1=2")
            seed(sb, "vpcs", "eu-west-1=2")
            regions = enabled_regions(sb)
            seeded = ("eu-west-1", "us-east-1")
            vpcs, defaults = {}, {}
            for r in seeded:
                ec2 = boto(sb, "ec2", r)
                vpcs[r] = sorted(v["VpcId"] for v in
                                 ec2.describe_vpcs()["Vpcs"])
                defaults[r] = sorted(
                    g["GroupId"] for g in ec2.describe_security_groups(
                        Filters=[{"Name": "group-name",
                                  "Values": ["default"]}])["SecurityGroups"])
            self.assertEqual(len(vpcs["eu-west-1"]), 3, vpcs)
            self.assertEqual(len(defaults["eu-west-1"]), 3, defaults)
            before = sb.admin("inventory")

            p, rep = run_scenario(sb, "network-changes")
            sys.stdout.write(p.stdout[-3000:])
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(rep["result"], "OK (every call went as intended)")
            self.assertIsNotNone(rep["run_id"])

            after = sb.admin("inventory")
            self.assertEqual(before, after, "the inventory changed")

            # What CloudTrail must hold, from the world itself.
            exp = collections.Counter()
            exp[("us-east-1", "DescribeRegions", None)] += 1
            dry = "Client.DryRunOperation"
            for r in regions:
                exp[(r, "DescribeInstances", None)] += 1
                if r not in seeded:
                    exp[(r, "CreateVpc", dry)] += 1
            for r in seeded:
                exp[(r, "DescribeVpcs", None)] += 1
                exp[(r, "DescribeSecurityGroups", None)] += 1
                exp[(r, "CreateSecurityGroup", dry)] += len(vpcs[r])
                exp[(r, "AuthorizeSecurityGroupIngress", dry)] += \
                    len(vpcs[r])
            recs = run_events(sb, rep["run_id"])
            got = collections.Counter(event_key(r) for r in recs)
            self.assertEqual(got, exp)

            # Every VPC once; each VPC's default group once.
            for r in seeded:
                sg_vpcs = sorted(json.dumps(x.get("requestParameters"))
                                 for x in recs if x["awsRegion"] == r and
                                 x["eventName"] == "CreateSecurityGroup")
                for v in vpcs[r]:
                    self.assertEqual(sum(v in s for s in sg_vpcs), 1,
                                     (v, sg_vpcs))
                ingress = [json.dumps(x.get("requestParameters"))
                           for x in recs if x["awsRegion"] == r and
                           x["eventName"] == "AuthorizeSecurityGroupIngress"]
                for g in defaults[r]:
                    self.assertEqual(sum(g in s for s in ingress), 1,
                                     (g, ingress))

            # The report agrees: one row per call, every one permitted,
            # in sorted region order.
            self.assertEqual(len(rep["rows"]), sum(exp.values()))
            self.assertTrue(all(x["outcome"] == "permitted"
                                for x in rep["rows"]), rep["rows"])
            order = [x["region"] for x in rep["rows"]]
            self.assertEqual(order, sorted(order))
            self.assertEqual(
                sorted(x["target"] for x in rep["rows"]
                       if x["region"] == "eu-west-1" and
                       x["action"] == "CreateSecurityGroup"),
                vpcs["eu-west-1"])
            # One expectation per call, and the same request IDs as
            # CloudTrail (the ledger will match on them).
            self.assertIn("%d CloudTrail expectations" % sum(exp.values()),
                          rep["summary"])

    def test_regions_option(self):
        with Sandbox() as sb:
            seed(sb, "instances", "eu-west-1=1")
            p, rep = run_scenario(sb, "network-changes", "--regions",
                                  "eu-west-1,ap-south-1", "--account",
                                  "prod")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(rep["account"], "prod")
            self.assertEqual(sorted(set(r["region"] for r in rep["rows"])),
                             ["ap-south-1", "eu-west-1", "us-east-1"])
            acts = [(r["region"], r["action"]) for r in rep["rows"]]
            self.assertIn(("ap-south-1", "CreateVpc"), acts)
            self.assertIn(("eu-west-1", "CreateSecurityGroup"), acts)
            self.assertNotIn(("us-east-1", "DescribeInstances"), acts)
            # Plain progress lines on a pipe, one per call.
            self.assertIn("ap-south-1: ec2:CreateVpc permitted "
                          "DryRunOperation (412)", p.stderr)
            # A region that is not enabled is named, not silently dropped.
            p, rep = run_scenario(sb, "network-changes", "--regions",
                                  "eu-west-1,ap-east-1")
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertTrue(any(n.startswith("ap-east-1: not an enabled "
                                             "region") for n in rep["notes"]),
                            rep["notes"])

    @unittest.skipIf(shutil.which("script") is None, "no script(1)")
    def test_tty_progress(self):
        """On a terminal, one line per region redrawn in place."""
        with Sandbox() as sb:
            env = clean_env(AWS_ENDPOINT_URL=sb.url, TERM="xterm")
            cmd = "%s --scenario network-changes --no-verify --regions " \
                  "eu-west-1,us-east-1 2>&1 >/dev/null" % CLOUDSAGAD
            p = subprocess.run(["script", "-qec", cmd, "/dev/null"],
                               env=env, capture_output=True, timeout=120)
            out = p.stdout.decode(errors="replace")
            self.assertEqual(p.returncode, 0, out)
            self.assertIn("\x1b[2A", out)         # redraws two lines
            self.assertRegex(out, r"\x1b\[K  eu-west-1 +2 calls  done")
            self.assertRegex(out, r"\x1b\[K  us-east-1 +3 calls  done")
            # No plain per-call lines on a terminal.
            self.assertNotIn("eu-west-1: ec2:CreateVpc permitted", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
