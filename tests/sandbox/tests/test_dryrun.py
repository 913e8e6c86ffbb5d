"""EC2 DryRun as AWS does it, proven with the real aws CLI: 412
DryRunOperation, nothing changed, and the CloudTrail record carries
Client.DryRunOperation, the CLI's user agent and the response's request ID."""

import json
import uuid

import harness
from harness import SandboxTestCase


class DryRunTest(SandboxTestCase):

    def lookup_cli(self, event_name):
        r = self.sandbox.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                             "AttributeKey=EventName,AttributeValue=%s" % event_name,
                             "--output", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_create_security_group_dry_run_recorded(self):
        tag = uuid.uuid4().hex
        r = self.sandbox.aws("ec2", "create-security-group", "--group-name", "x",
                             "--description", "y", "--dry-run", "--debug",
                             AWS_EXECUTION_ENV="sbtest-" + tag)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("An error occurred (DryRunOperation) when calling the "
                      "CreateSecurityGroup operation", r.stderr)
        self.assertIn("Request would have succeeded, but DryRun flag is set.", r.stderr)
        rid = harness.request_id_from_debug(r.stderr)
        self.assertIsNotNone(rid, "no x-amzn-RequestId in the CLI's debug output")
        self.assertNotEqual(rid, "request-id")
        # The XML body names the same request ID as the header.
        self.assertIn("<RequestID>%s</RequestID>" % rid, r.stderr)

        result = self.lookup_cli("CreateSecurityGroup")
        mine = [e for e in harness.cloudtrail_events(result)
                if "exec-env/sbtest-" + tag in e["userAgent"]]
        self.assertEqual(len(mine), 1, result)
        ev = mine[0]
        self.assertEqual(ev["errorCode"], "Client.DryRunOperation")
        self.assertEqual(ev["errorMessage"],
                         "Request would have succeeded, but DryRun flag is set.")
        self.assertEqual(ev["requestID"], rid)
        self.assertTrue(ev["userAgent"].startswith("aws-cli/"), ev["userAgent"])
        self.assertEqual(ev["eventSource"], "ec2.amazonaws.com")
        self.assertEqual(ev["awsRegion"], "us-east-1")
        self.assertEqual(ev["eventType"], "AwsApiCall")
        self.assertIs(ev["readOnly"], False)
        self.assertIsNone(ev["responseElements"])
        self.assertEqual(ev["requestParameters"]["groupName"], "x")
        self.assertEqual(ev["userIdentity"]["accessKeyId"], harness.FAKE_KEY)
        top = [e for e in result["Events"] if e["EventId"] == ev["eventID"]][0]
        self.assertEqual(top["EventName"], "CreateSecurityGroup")
        self.assertEqual(top["AccessKeyId"], harness.FAKE_KEY)
        self.assertEqual(top["ReadOnly"], "false")

    def test_create_vpc_dry_run_changes_nothing(self):
        before_inv = self.sandbox.admin("GET", "/_sandbox/inventory")
        before = self.sandbox.aws("ec2", "describe-vpcs", "--output", "json")
        self.assertEqual(before.returncode, 0, before.stderr)
        r = self.sandbox.aws("ec2", "create-vpc", "--cidr-block", "10.9.0.0/16", "--dry-run")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("(DryRunOperation)", r.stderr)
        after = self.sandbox.aws("ec2", "describe-vpcs", "--output", "json")
        self.assertEqual(after.returncode, 0, after.stderr)
        vpcs_before = json.loads(before.stdout)["Vpcs"]
        vpcs_after = json.loads(after.stdout)["Vpcs"]
        self.assertEqual(sorted(v["VpcId"] for v in vpcs_before),
                         sorted(v["VpcId"] for v in vpcs_after))
        self.assertNotIn("10.9.0.0/16", [v["CidrBlock"] for v in vpcs_after])
        self.assertEqual(before_inv, self.sandbox.admin("GET", "/_sandbox/inventory"))
        # The same call without DryRun really creates it (proves the check can fail).
        ec2 = self.sandbox.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        self.assertNotEqual(before_inv, self.sandbox.admin("GET", "/_sandbox/inventory"))
        ec2.delete_vpc(VpcId=vpc)

    def test_run_instances_dry_run_with_al2023_image(self):
        ssm = self.sandbox.client("ssm")
        ami = ssm.get_parameter(
            Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
        )["Parameter"]["Value"]
        ec2 = self.sandbox.client("ec2")
        images = ec2.describe_images(ImageIds=[ami])["Images"]
        self.assertEqual(len(images), 1, "moto does not know the AL2023 image %s" % ami)
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.run_instances(ImageId=ami, InstanceType="c5.24xlarge", MinCount=1,
                              MaxCount=2, DryRun=True,
                              TagSpecifications=[{"ResourceType": "instance", "Tags": [
                                  {"Key": "CS-Purpose", "Value": "c-level-mine"}]}])
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "DryRunOperation")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 412)
        running = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
        self.assertEqual(running, [])

    def test_more_dry_runs(self):
        ec2 = self.sandbox.client("ec2", region="eu-west-1")
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        sg = ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [vpc]},
            {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
        calls = [
            lambda: ec2.describe_instances(DryRun=True, MaxResults=5),
            lambda: ec2.create_security_group(GroupName="open-2-everyone",
                                              Description="open-2-everyone", VpcId=vpc,
                                              DryRun=True),
            lambda: ec2.authorize_security_group_ingress(
                GroupId=sg["GroupId"], DryRun=True, IpPermissions=[
                    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]),
            lambda: ec2.create_vpc(CidrBlock="192.168.220.0/24", DryRun=True),
        ]
        for call in calls:
            with self.assertRaises(ec2.exceptions.ClientError) as cm:
                call()
            self.assertEqual(cm.exception.response["Error"]["Code"], "DryRunOperation")
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 412)
        sg_after = ec2.describe_security_groups(GroupIds=[sg["GroupId"]])["SecurityGroups"][0]
        self.assertEqual(sg["IpPermissions"], sg_after["IpPermissions"])
        names = [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"]]
        self.assertNotIn("open-2-everyone", names)
        recs = self.sandbox.events(region="eu-west-1", eventName="AuthorizeSecurityGroupIngress")
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["record"]["errorCode"], "Client.DryRunOperation")
        self.assertEqual(recs[0]["record"]["awsRegion"], "eu-west-1")

    def test_dry_run_missing_parameter(self):
        ec2 = self.sandbox.client("ec2", parameter_validation=False)
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.create_security_group(GroupName="no-description", DryRun=True)
        self.assertEqual(cm.exception.response["Error"]["Code"], "MissingParameter")
        self.assertIn("GroupDescription", cm.exception.response["Error"]["Message"])
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)

    def test_request_ids_unique(self):
        ec2 = self.sandbox.client("ec2")
        ids = set()
        for _ in range(3):
            r = ec2.describe_regions()
            rid = r["ResponseMetadata"]["RequestId"]
            self.assertNotEqual(rid, "request-id")
            self.assertEqual(r["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"], rid)
            ids.add(rid)
        self.assertEqual(len(ids), 3)
        self.assertGreaterEqual(len(r["Regions"]), 17)
        for reg in ("us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"):
            self.assertIn(reg, [x["RegionName"] for x in r["Regions"]])


if __name__ == "__main__":
    harness.main()
