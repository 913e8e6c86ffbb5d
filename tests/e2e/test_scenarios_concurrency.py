"""Fan-out is concurrent: with the sandbox adding 200 ms to every answer,
network-changes over 8 regions without instances takes about its critical
path (DescribeRegions -> DescribeInstances -> CreateVpc: three dependent
steps) plus start-up, not the sum of its calls."""
import time
import unittest

import boto3

from harness import FAKE_KEY, FAKE_SECRET, Sandbox
import test_scenarios as ts

LATENCY = 0.2


class Concurrency(unittest.TestCase):
    def test_critical_path_not_sum(self):
        with Sandbox("--latency", str(int(LATENCY * 1000))) as sb:
            regions = ts.enabled_regions(sb)[:8]
            self.assertEqual(len(regions), 8, regions)
            # Warm moto's region backends up (their first use is slow and
            # would be charged to the scenario otherwise).
            for r in regions:
                ts.boto(sb, "ec2", r).describe_instances()
            t0 = time.monotonic()
            p, rep = ts.run_scenario(sb, "network-changes", "--regions",
                                     ",".join(regions))
            elapsed = time.monotonic() - t0
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            calls = len(rep["rows"])
            self.assertEqual(calls, 1 + 8 + 8)
            serial = calls * LATENCY
            critical = 3 * LATENCY
            print("network-changes over 8 regions, %d ms latency: %d calls, "
                  "serial sum %.2f s, critical path %.2f s, took %.2f s"
                  % (LATENCY * 1000, calls, serial, critical, elapsed))
            self.assertGreaterEqual(elapsed, critical)
            self.assertLess(elapsed, 0.5 * serial)


if __name__ == "__main__":
    unittest.main(verbosity=2)
