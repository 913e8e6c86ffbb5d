"""The seeding helper builds a scenario's world through ordinary AWS calls;
each result is checked through the AWS APIs and the inventory."""

import json

import harness
from harness import SandboxTestCase


class SeedTest(SandboxTestCase):

    def setUp(self):
        self.sandbox.reset()

    def seed(self, *args):
        r = self.sandbox.seed(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_instances_and_vpcs(self):
        out = self.seed("instances", "us-east-1=1", "eu-west-1=2")
        self.assertEqual(len(out["instances"]["us-east-1"]), 1)
        self.assertEqual(len(out["instances"]["eu-west-1"]), 2)
        out2 = self.seed("instances", "ap-south-1=1", "--state", "stopped",
                         "--metadata-tokens", "optional")
        out3 = self.seed("vpcs", "us-east-1=3")
        self.assertEqual(len(out3["vpcs"]["us-east-1"]), 3)
        inv = self.sandbox.admin("GET", "/_sandbox/inventory")["accounts"]["123456789012"]
        regions = inv["regions"]
        self.assertEqual(sorted(regions), ["ap-south-1", "eu-west-1", "us-east-1"])
        self.assertEqual(len(regions["eu-west-1"]["instances"]), 2)
        self.assertEqual(regions["ap-south-1"]["instances"][0]["state"], "stopped")
        self.assertEqual(regions["ap-south-1"]["instances"][0]["instanceId"],
                         out2["instances"]["ap-south-1"][0])
        vpcs = regions["us-east-1"]["vpcs"]
        self.assertEqual(len(vpcs), 4)          # the default VPC and three more
        self.assertEqual(sorted(v["cidrBlock"] for v in vpcs if not v["isDefault"]),
                         ["10.1.0.0/16", "10.2.0.0/16", "10.3.0.0/16"])
        ec2 = self.sandbox.client("ec2", region="ap-south-1")
        inst = ec2.describe_instances()["Reservations"][0]["Instances"][0]
        self.assertEqual(inst["MetadataOptions"]["HttpTokens"], "optional")
        # Seeding more VPCs skips CIDR blocks already in use.
        more = self.seed("vpcs", "us-east-1=1")
        cidr = self.sandbox.client("ec2").describe_vpcs(
            VpcIds=more["vpcs"]["us-east-1"])["Vpcs"][0]["CidrBlock"]
        self.assertEqual(cidr, "10.4.0.0/16")

    def test_rule_with_sns_target(self):
        pattern = json.dumps({"source": ["aws.ec2"], "detail-type": [
            "AWS API Call via CloudTrail"], "detail": {"eventName": ["RunInstances"]}})
        out = self.seed("rule", "cis-run", "--pattern", pattern, "--state",
                        "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", "--sns-topic",
                        "alerts", "--region", "eu-west-1")
        ev = self.sandbox.client("events", region="eu-west-1")
        rule = ev.describe_rule(Name="cis-run")
        self.assertEqual(rule["State"], "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
        self.assertEqual(json.loads(rule["EventPattern"]), json.loads(pattern))
        targets = ev.list_targets_by_rule(Rule="cis-run")["Targets"]
        self.assertEqual([t["Arn"] for t in targets], [out["topicArn"]])
        self.assertTrue(out["topicArn"].startswith("arn:aws:sns:eu-west-1:"))
        self.assertEqual(self.sandbox.client("events").list_rules()["Rules"], [])
        plain = self.seed("rule", "no-target", "--pattern", '{"source":["aws.iam"]}')
        self.assertNotIn("topicArn", plain)
        self.assertEqual(self.sandbox.client("events").describe_rule(Name="no-target")["State"],
                         "ENABLED")

    def test_trail_metric_filter_alarm(self):
        out = self.seed("trail", "main", "--log-group", "ct-logs", "--multi-region")
        ct = self.sandbox.client("cloudtrail")
        trail = ct.get_trail(Name="main")["Trail"]
        self.assertTrue(trail["IsMultiRegionTrail"])
        self.assertEqual(trail["CloudWatchLogsLogGroupArn"], out["logGroupArn"])
        self.assertTrue(ct.get_trail_status(Name="main")["IsLogging"])
        pattern = '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
        mf = self.seed("metric-filter", "unauth", "--log-group", "ct-logs", "--pattern",
                       pattern, "--alarm", "unauth-alarm", "--alarm-topic", "alarms")
        self.seed("metric-filter", "root", "--log-group", "ct-logs", "--pattern",
                  '{ $.userIdentity.type = "Root" }', "--alarm", "root-alarm")
        logs = self.sandbox.client("logs")
        filters = {f["filterName"]: f for f in
                   logs.describe_metric_filters(logGroupName="ct-logs")["metricFilters"]}
        self.assertEqual(filters["unauth"]["filterPattern"], pattern)
        self.assertEqual(filters["unauth"]["metricTransformations"][0]["metricNamespace"],
                         "CISBenchmark")
        cw = self.sandbox.client("cloudwatch")
        alarms = {a["AlarmName"]: a for a in cw.describe_alarms()["MetricAlarms"]}
        self.assertEqual(alarms["unauth-alarm"]["AlarmActions"], [mf["topicArn"]])
        self.assertEqual(alarms["unauth-alarm"]["MetricName"], "unauth")
        self.assertEqual(alarms["root-alarm"]["AlarmActions"], [])

    def test_bucket_db_finding_user(self):
        self.seed("bucket", "seed-bucket-eu", "--region", "eu-west-1", "--block-public")
        db = self.seed("db", "pubdb", "--public")
        self.assertTrue(db["publiclyAccessible"])
        self.seed("db", "privdb")
        inv = self.sandbox.admin("GET", "/_sandbox/inventory")["accounts"]["123456789012"]
        self.assertEqual(inv["buckets"], [{"name": "seed-bucket-eu", "region": "eu-west-1",
                                           "publicAccessBlock": True, "policy": None,
                                           "lifecycleRules": []}])
        dbs = {d["dbInstanceIdentifier"]: d for d in inv["regions"]["us-east-1"]["dbInstances"]}
        self.assertTrue(dbs["pubdb"]["publiclyAccessible"])
        self.assertFalse(dbs["privdb"]["publiclyAccessible"])
        f = self.seed("finding", "PenTest:IAMUser/KaliLinux", "--severity", "8", "--count", "2",
                      "--api", "RunInstances")
        gd = self.sandbox.client("guardduty")
        got = gd.get_findings(DetectorId=f["detectorId"], FindingIds=f["findingIds"])["Findings"]
        self.assertEqual(len(got), 2)
        self.assertEqual(got[0]["Service"]["Action"]["AwsApiCallAction"]["Api"], "RunInstances")
        u = self.seed("user", "limited", "--allow", "ec2:Describe*")
        ident = self.sandbox.client("sts", key=u["accessKeyId"],
                                    secret=u["secretAccessKey"]).get_caller_identity()
        self.assertTrue(ident["Arn"].endswith(":user/limited"))

    def test_refuses_non_loopback_and_bad_input(self):
        r = self.sandbox.seed("--endpoint", "http://192.0.2.10:4566", "vpcs", "us-east-1=1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("not a loopback address", r.stderr)
        r = self.sandbox.seed("--endpoint", "https://ec2.us-east-1.amazonaws.com", "vpcs",
                              "us-east-1=1")
        self.assertEqual(r.returncode, 2)
        r = self.sandbox.seed("vpcs", "us-east-1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("REGION=COUNT", r.stderr)
        r = self.sandbox.seed("rule", "x", "--pattern", "{nope")
        self.assertEqual(r.returncode, 2)
        r = self.sandbox.seed("bucket", "x")       # too short for S3: AWS-side error
        self.assertEqual(r.returncode, 1)
        self.assertIn("InvalidBucketName", r.stderr)
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/inventory")["accounts"], {})


if __name__ == "__main__":
    harness.main()
