"""CloudSaga's command line: --chapters, --about NAME, and unknown names
(exit 2 with the list of valid names). Nothing here talks to any endpoint:
AWS_ENDPOINT_URL points at a closed loopback port to prove it."""
import os
import re
import unittest

from harness import SRC, clean_env, cloudsagad, free_port

NAMES = ["cloudtrail-tampering", "iam-credentials", "imds-reveal",
         "mining-bitcoin", "network-changes", "public-resources"]
TACTICS = ["Execution (TA0002)", "Persistence (TA0003)",
           "Privilege Escalation (TA0004)", "Defense Evasion (TA0005)",
           "Credential Access (TA0006)", "Discovery (TA0007)",
           "Lateral Movement (TA0008)", "Exfiltration (TA0010)",
           "Impact (TA0040)"]
NO_SAFE_FORM = ["ec2-steal-instance-credentials", "organizations-leave",
                "s3-ransomware-batch-deletion",
                "s3-ransomware-client-side-encryption",
                "s3-ransomware-individual-deletion",
                "console-login-without-mfa",
                "rolesanywhere-create-trust-anchor", "sts-federation-token"]
ID = r"T\d{4}(\.\d{3})?"


def env():
    return clean_env(AWS_ENDPOINT_URL="http://127.0.0.1:%d" % free_port())


def chapters():
    """--chapters as (tactic, name, ids, summary) rows, and the
    no-safe-form rows (name, id, stratus)."""
    p = cloudsagad("--chapters", env=env())
    assert p.returncode == 0, p.stderr
    rows, unsafe, tactic, section = [], [], None, None
    for line in p.stdout.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            tactic = line
            continue
        if line.startswith("    "):
            unsafe.append(line.split())
            continue
        name, ids, summary = line.split(None, 2)
        rows.append((tactic, name, ids, summary, line))
    return p.stdout, rows, unsafe


def all_names():
    return [r[1] for r in chapters()[1]]


class Chapters(unittest.TestCase):
    def test_chapters(self):
        out, rows, unsafe = chapters()
        names = [r[1] for r in rows]
        self.assertGreaterEqual(len(names), 30, names)
        self.assertEqual(len(names), len(set(names)))
        for n in NAMES:
            self.assertIn(n, names)
        # Grouped by tactic, the tactics in ATT&CK's ID order, each once.
        tactics = []
        for r in rows:
            if not tactics or tactics[-1] != r[0]:
                tactics.append(r[0])
        self.assertEqual(tactics, TACTICS)
        # Within a tactic, sorted by name.
        for t in TACTICS:
            mine = [r[1] for r in rows if r[0] == t]
            self.assertEqual(mine, sorted(mine), t)
        for tactic, name, ids, summary, line in rows:
            for i in ids.split(","):
                self.assertRegex(i, "^" + ID + "$", line)
            self.assertGreater(len(summary), 20, line)
        # IDs and summaries line up in columns.
        self.assertEqual(len(set(r[4].index(r[2]) for r in rows)), 1)
        self.assertEqual(len(set(len(r[4]) - len(r[3]) for r in rows)), 1)
        self.assertRegex(out, r"  network-changes\s+T1578.005,T1562.007,"
                         r"T1535\s+rogue VPCs")
        self.assertRegex(out, r"\n  cloudtrail-tampering\s+T1562.008\s")
        # The Stratus techniques without a safe form close the list.
        self.assertIn("\nStratus techniques with no safe form", out)
        self.assertEqual([u[0] for u in unsafe], NO_SAFE_FORM)
        for u in unsafe:
            self.assertRegex(u[1], "^" + ID + "$")
            self.assertTrue(u[2].startswith("aws."), u)

    def test_about_each(self):
        for name in all_names():
            p = cloudsagad("--about", name, env=env())
            self.assertEqual(p.returncode, 0, p.stderr)
            out = p.stdout
            self.assertTrue(out.startswith(name + " - "), out)
            for section in ("Calls:", "Permissions:", "MITRE ATT&CK:",
                            "Tactic:", "Each call (safety, role, evidence "
                            "[source], where):"):
                self.assertIn("\n" + section + "\n", out, name)
            self.assertRegex(out, r"\n  " + ID + " ")
            each = out.split("\nEach call")[1].split("\n\n")[0]
            lines = each.strip().splitlines()[1:]
            self.assertTrue(lines, name)
            signals = 0
            for l in lines:
                f = l.split()
                self.assertRegex(f[0], r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$", l)
                self.assertIn(f[1], ("read-only", "dry-run", "safe-fail"), l)
                self.assertIn(f[2], ("signal", "context"), l)
                self.assertIn(f[3], ("documented", "observed", "assumed"), l)
                signals += f[2] == "signal"
                # Every call's permission is listed.
                if "ec2:" in f[0] or "iam:" in f[0]:
                    perms = out.split("\nPermissions:\n")[1]
                    self.assertIn(f[0], perms, name)
            # Every technique has a signal, but the posture check.
            if name != "imds-reveal":
                self.assertGreater(signals, 0, name)
            # An assumed expectation comes with its confirmation.
            n_assumed = sum(1 for l in lines if l.split()[3] == "assumed")
            self.assertEqual(out.count("aws cloudtrail lookup-events "
                                       "--lookup-attributes AttributeKey="
                                       "EventName,AttributeValue="),
                             n_assumed, name)

    def test_about_catalogue(self):
        p = cloudsagad("--about", "cloudtrail-lifecycle-rule", env=env())
        out = p.stdout
        self.assertIn("\n  aws.defense-evasion.cloudtrail-lifecycle-rule\n",
                      out)
        self.assertIn("AttributeValue=PutBucketLifecycle --region", out)
        self.assertRegex(out, r"s3:PutBucketLifecycleConfiguration\s+"
                         r"safe-fail\s+signal\s+assumed \[S3-ct\]")
        perms = out.split("\nPermissions:\n")[1].split("\n\n")[0].split()
        self.assertIn("s3:PutLifecycleConfiguration", perms)
        self.assertIn("sts:GetCallerIdentity", perms)
        p = cloudsagad("--about", "cloudtrail-tampering", env=env())
        for s in ("cloudtrail-stop", "cloudtrail-delete",
                  "cloudtrail-event-selectors"):
            self.assertIn("  aws.defense-evasion.%s\n" % s, p.stdout)
        p = cloudsagad("--about", "ec2-share-ebs-snapshot", env=env())
        self.assertRegex(p.stdout, r"ec2:DescribeSnapshots\s+read-only\s+"
                         r"context\s+documented")
        self.assertRegex(p.stdout, r"ec2:ModifySnapshotAttribute\s+dry-run"
                         r"\s+signal\s+observed \[EC2-dry\]\s+every region")
        p = cloudsagad("--about", "lambda-backdoor-function", env=env())
        self.assertIn("lambda:AddPermission on cloudsaga-<runid>", p.stdout)
        # The built-ins' context calls are context.
        p = cloudsagad("--about", "network-changes", env=env())
        self.assertRegex(p.stdout, r"ec2:DescribeInstances\s+read-only\s+"
                         r"context")
        self.assertRegex(p.stdout, r"ec2:CreateVpc\s+dry-run\s+signal")

    def test_catalogue_doc(self):
        """docs/CATALOGUE.md names every scenario, every technique without
        a safe form, and the lookup-events command of every assumed
        expectation --about prints."""
        with open(os.path.join(SRC, "docs", "CATALOGUE.md")) as f:
            doc = f.read()
        for name in all_names() + NO_SAFE_FORM:
            self.assertIn("`%s`" % name, doc, name)
        for name in all_names():
            out = cloudsagad("--about", name, env=env()).stdout
            for line in out.splitlines():
                if line.startswith("  aws cloudtrail lookup-events "):
                    self.assertIn(line.strip(), doc, name)

    def test_about_no_safe_form(self):
        for name in NO_SAFE_FORM:
            p = cloudsagad("--about", name, env=env())
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(p.stdout.startswith(
                name + " - no safe form"), p.stdout)
            for section in ("Why:", "Instead:", "MITRE ATT&CK:",
                            "Stratus Red Team:"):
                self.assertIn("\n" + section + "\n", p.stdout)
        p = cloudsagad("--about", "aws.impact.s3-ransomware-batch-deletion",
                       env=env())
        self.assertEqual(p.returncode, 0)
        self.assertIn("data events", p.stdout)
        self.assertIn("public-resources", p.stdout)
        p = cloudsagad("--about", "ec2-steal-instance-credentials", env=env())
        self.assertIn("imds-reveal", p.stdout)
        # Not runnable.
        p = cloudsagad("--scenario", "organizations-leave", env=env())
        self.assertEqual(p.returncode, 2)

    def test_about_network_changes(self):
        p = cloudsagad("--about", "network-changes", env=env())
        out = p.stdout
        self.assertIn("default security group", out)
        calls = out.split("\nCalls:\n")[1].split("\n\n")[0]
        for c in ("ec2:DescribeRegions", "ec2:DescribeInstances",
                  "ec2:CreateVpc", "ec2:DescribeVpcs",
                  "ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup",
                  "ec2:AuthorizeSecurityGroupIngress"):
            self.assertIn("  " + c + " ", calls)
        self.assertIn("(dry-run, every VPC", calls)
        perms = out.split("\nPermissions:\n")[1].split("\n\n")[0].split()
        self.assertIn("ec2:CreateSecurityGroup", perms)
        self.assertIn("T1562.007", out)

    def test_about_settings(self):
        p = cloudsagad("--about", "imds-reveal", env=env())
        self.assertIn("\nSettings:\n  probe_targets", p.stdout)
        self.assertIn("not implemented", p.stdout)

    def check_unknown(self, p):
        self.assertEqual(p.returncode, 2)
        self.assertEqual(p.stdout, "")
        m = re.search(r'unknown scenario "([^"]*)"; valid names: (.*)',
                      p.stderr)
        self.assertIsNotNone(m, p.stderr)
        self.assertEqual(m.group(2).split(", "), sorted(all_names()))

    def test_unknown_names(self):
        self.check_unknown(cloudsagad("--about", "network_changes",
                                      env=env()))
        self.check_unknown(cloudsagad("--scenario", "bitcoin", env=env()))
        self.check_unknown(cloudsagad("--scenario", "", env=env()))

    def test_bad_arguments(self):
        p = cloudsagad("--scenario", "network-changes", "--regions",
                       "us-east-1;reboot", env=env())
        self.assertEqual(p.returncode, 2)
        self.assertIn('"us-east-1;reboot" is not a region name', p.stderr)
        p = cloudsagad("--scenario", "network-changes", "--regions", ",",
                       env=env())
        self.assertEqual(p.returncode, 2)
        p = cloudsagad("--about", env=env())
        self.assertEqual(p.returncode, 2)

    def test_no_endpoint_fails_cleanly(self):
        # Nothing listens: every call fails, the run still reports.
        p = cloudsagad("--scenario", "iam-credentials", env=env(),
                       timeout=120)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("result: FAILED", p.stdout)
        self.assertIn("iam:GenerateCredentialReport", p.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
