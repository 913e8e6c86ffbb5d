"""Every scenario, run in turn against one seeded sandbox, changes nothing
in its inventory (VPCs, security groups, instances, buckets, DB instances),
and each call that should reach CloudTrail does, with the outcome the
scenario intends."""
import collections
import re
import sys
import unittest

from harness import Sandbox, clean_env, cloudsagad
import test_scenarios as ts

# S3 operations CloudTrail logs under another eventName.
S3_EVENT_NAMES = {"PutPublicAccessBlock": "PutBucketPublicAccessBlock",
                  "DeletePublicAccessBlock": "DeleteBucketPublicAccessBlock"}


# CloudSaga's scenarios and cloudtrail-tampering; the catalogue's
# techniques run in e2e.catalogue.
BUILTINS = ["cloudtrail-tampering", "iam-credentials", "imds-reveal",
            "mining-bitcoin", "network-changes", "public-resources"]


def scenario_names():
    p = cloudsagad("--chapters")
    assert p.returncode == 0, p.stderr
    names = sorted(line.split()[0] for line in p.stdout.splitlines()
                   if re.match(r"  [^ ]", line))
    assert set(BUILTINS) <= set(names), names
    return BUILTINS


class AllScenarios(unittest.TestCase):
    def test_all_change_nothing(self):
        names = scenario_names()
        self.assertEqual(len(names), 6, names)
        with Sandbox() as sb:
            ts.seed(sb, "instances", "us-east-1=1", "--metadata-tokens",
                    "optional")
            ts.seed(sb, "instances", "eu-west-1=2", "--metadata-tokens",
                    "required")
            ts.seed(sb, "vpcs", "eu-west-1=1")
            ts.seed(sb, "db", "shop", "--public", "--region", "eu-west-1")
            ts.seed(sb, "bucket", "cloudsaga-e2e-existing")
            before = sb.admin("inventory")
            self.assertTrue(before["accounts"], before)

            reports = {}
            for name in names:
                p, rep = ts.run_scenario(sb, name)
                sys.stdout.write("== %s: exit %d, %s\n%s" % (
                    name, p.returncode, rep["summary"],
                    "\n".join(rep["notes"]) + "\n"))
                self.assertNotIn("SAFETY", p.stdout + p.stderr)
                self.assertEqual(p.returncode, 0,
                                 "%s:\n%s%s" % (name, p.stdout, p.stderr))
                self.assertEqual(rep["scenario"], name)
                reports[name] = rep

                # CloudTrail holds one record per call the report says
                # was expected (every call here reached AWS).
                recs = ts.run_events(sb, rep["run_id"])
                got = collections.Counter((r["eventName"]) for r in recs)
                want = collections.Counter(
                    S3_EVENT_NAMES.get(r["action"], r["action"])
                    for r in reports[name]["rows"]
                    if r["outcome"] != "skipped")
                self.assertEqual(got, want, name)

            after = sb.admin("inventory")
            self.assertEqual(before, after, "a scenario changed the world")

            # What each found, spot-checked against the seeded world.
            imds = reports["imds-reveal"]
            self.assertEqual(len([f for f in imds["findings"]
                                  if "imdsv1-allowed" in f]), 1,
                             imds["findings"])
            self.assertTrue(imds["findings"][0].startswith(
                "us-east-1 imdsv1-allowed i-"), imds["findings"])
            pub = reports["public-resources"]
            self.assertIn("eu-west-1 public-db-instance shop",
                          " ".join(pub["findings"]))
            rows = {(r["service"], r["action"]): r for r in pub["rows"]}
            self.assertEqual(rows[("rds", "CreateDBInstance")]["code"],
                             "DBSubnetGroupNotFoundFault (404)")
            self.assertIn("NoSuchBucket",
                          rows[("s3", "PutPublicAccessBlock")]["code"])
            bucket = rows[("s3", "PutPublicAccessBlock")]["target"]
            self.assertRegex(bucket, r"^cloudsaga-\d{12}-%s$" %
                             pub["run_id"])
            self.assertEqual(
                rows[("s3", "DeletePublicAccessBlock")]["target"], bucket)
            mine = reports["mining-bitcoin"]
            launched = set(r["region"] for r in mine["rows"]
                           if r["action"] == "RunInstances")
            self.assertNotIn("us-east-1", launched)
            self.assertNotIn("eu-west-1", launched)
            self.assertIn("ap-south-1", launched)
            self.assertTrue(all(r["target"].startswith("ami-") for r in
                                mine["rows"] if r["action"] ==
                                "RunInstances"))
            trail = reports["cloudtrail-tampering"]
            self.assertTrue(all(r["code"].startswith(
                "TrailNotFoundException") for r in trail["rows"]
                if r["service"] == "cloudtrail"), trail["rows"])
            iam = reports["iam-credentials"]
            self.assertEqual([r["action"] for r in iam["rows"]][:1],
                             ["GenerateCredentialReport"])
            self.assertTrue(all(r["region"] == "global" for r in
                                iam["rows"]))
            # The report's content never reaches the output.
            self.assertNotIn("arn:aws:iam", repr(iam))


if __name__ == "__main__":
    unittest.main(verbosity=2)
