"""One region answering 5xx to every EC2 call (sandbox fault
ec2@eu-west-1:500:1): the other regions complete, the report names the
failed region, and the exit status says not everything went as intended."""
import unittest

from harness import Sandbox
import test_scenarios as ts

REGIONS = ["ap-south-1", "eu-west-1", "sa-east-1", "us-east-1", "us-west-2"]


class RegionFault(unittest.TestCase):
    def test_failed_region_isolated(self):
        with Sandbox("--fault", "ec2@eu-west-1:500:1") as sb:
            ts.seed(sb, "instances", "us-west-2=1")
            p, rep = ts.run_scenario(sb, "network-changes", "--regions",
                                     ",".join(REGIONS))
            print(p.stdout)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
            self.assertEqual(rep["failed"], ["eu-west-1"])
            self.assertTrue(rep["result"].startswith("FAILED"))
            rows = [(r["region"], r["action"], r["outcome"])
                    for r in rep["rows"]]
            self.assertIn(("eu-west-1", "DescribeInstances", "error"), rows)
            self.assertEqual([r for r in rows if r[0] == "eu-west-1"],
                             [("eu-west-1", "DescribeInstances", "error")])
            # Every other region went all the way.
            for r in ("ap-south-1", "sa-east-1", "us-east-1"):
                self.assertIn((r, "CreateVpc", "permitted"), rows)
            self.assertIn(("us-west-2", "CreateSecurityGroup", "permitted"),
                          rows)
            self.assertIn(("us-west-2", "AuthorizeSecurityGroupIngress",
                           "permitted"), rows)
            self.assertTrue(all(o == "permitted" for (reg, _, o) in rows
                                if reg != "eu-west-1"), rows)
            self.assertTrue(any(n.startswith("ERROR eu-west-1: "
                                             "ec2:DescribeInstances failed")
                                for n in rep["notes"]), rep["notes"])
            # The failed call produced no CloudTrail expectation; every
            # other call did.
            self.assertIn("%d CloudTrail expectations" % (len(rows) - 1),
                          rep["summary"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
