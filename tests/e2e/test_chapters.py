"""CloudSaga's command line: --chapters, --about NAME, and unknown names
(exit 2 with the list of valid names). Nothing here talks to any endpoint:
AWS_ENDPOINT_URL points at a closed loopback port to prove it."""
import re
import unittest

from harness import clean_env, cloudsagad, free_port

NAMES = ["cloudtrail-tampering", "iam-credentials", "imds-reveal",
         "mining-bitcoin", "network-changes", "public-resources"]


def env():
    return clean_env(AWS_ENDPOINT_URL="http://127.0.0.1:%d" % free_port())


class Chapters(unittest.TestCase):
    def test_chapters(self):
        p = cloudsagad("--chapters", env=env())
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual([l.split()[0] for l in lines], NAMES)
        for l in lines:
            name, summary = l.split(None, 1)
            self.assertGreater(len(summary), 20, l)
        # Summaries line up in one column.
        self.assertEqual(len(set(len(l) - len(l.split(None, 1)[1])
                                 for l in lines)), 1)
        self.assertRegex(p.stdout, r"network-changes\s+rogue VPCs")

    def test_about_each(self):
        for name in NAMES:
            p = cloudsagad("--about", name, env=env())
            self.assertEqual(p.returncode, 0, p.stderr)
            out = p.stdout
            self.assertTrue(out.startswith(name + " - "), out)
            for section in ("Calls:", "Permissions:", "MITRE ATT&CK:"):
                self.assertIn("\n" + section + "\n", out)
            self.assertRegex(out, r"\n  T\d{4}(\.\d{3})? ")

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
        self.assertEqual(m.group(2).split(", "), NAMES)

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
