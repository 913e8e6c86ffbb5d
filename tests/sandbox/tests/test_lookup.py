"""CloudTrail records and LookupEvents: record shape, per account and region
scoping, every lookup attribute, time range, validation, pagination tokens,
management vs data events, secrets kept out of records."""

import datetime
import json
import time

import harness
from harness import SandboxTestCase

RECORD_FIELDS = ("eventVersion", "userIdentity", "eventTime", "eventSource", "eventName",
                 "awsRegion", "sourceIPAddress", "userAgent", "requestParameters",
                 "responseElements", "requestID", "eventID", "readOnly", "eventType",
                 "managementEvent", "recipientAccountId")


class LookupTest(SandboxTestCase):
    # Throttling has its own test; here every lookup must be answered.
    sandbox_args = ("--lookup-tps", "0")

    def setUp(self):
        self.sandbox.reset()

    def ct(self, region="us-east-1", **kw):
        return self.sandbox.client("cloudtrail", region=region, **kw)

    def lookup(self, key=None, value=None, region="us-east-1", client=None, **kw):
        ct = client or self.ct(region)
        if key:
            kw["LookupAttributes"] = [{"AttributeKey": key, "AttributeValue": value}]
        return ct.lookup_events(**kw)

    def test_record_shape_and_request_id(self):
        ec2 = self.sandbox.client("ec2", user_agent_extra="shape-test")
        resp = ec2.create_vpc(CidrBlock="10.1.0.0/16")
        vpc = resp["Vpc"]["VpcId"]
        rid = resp["ResponseMetadata"]["RequestId"]
        res = self.lookup("EventName", "CreateVpc")
        self.assertEqual(len(res["Events"]), 1)
        top = res["Events"][0]
        self.assertIsInstance(top["CloudTrailEvent"], str)
        ev = json.loads(top["CloudTrailEvent"])
        for f in RECORD_FIELDS:
            self.assertIn(f, ev)
        self.assertEqual(ev["eventVersion"].split(".")[0], "1")
        self.assertEqual(ev["requestID"], rid)
        self.assertEqual(ev["eventID"], top["EventId"])
        self.assertEqual(ev["eventSource"], "ec2.amazonaws.com")
        self.assertEqual(ev["eventName"], "CreateVpc")
        self.assertEqual(ev["awsRegion"], "us-east-1")
        self.assertEqual(ev["sourceIPAddress"], "127.0.0.1")
        self.assertIn("shape-test", ev["userAgent"])
        self.assertIs(ev["readOnly"], False)
        self.assertIs(ev["managementEvent"], True)
        self.assertEqual(ev["eventType"], "AwsApiCall")
        self.assertEqual(ev["eventCategory"], "Management")
        self.assertEqual(ev["recipientAccountId"], "123456789012")
        self.assertEqual(ev["userIdentity"]["accessKeyId"], harness.FAKE_KEY)
        self.assertEqual(ev["userIdentity"]["accountId"], "123456789012")
        self.assertIn("arn", ev["userIdentity"])
        self.assertIn("type", ev["userIdentity"])
        self.assertNotIn("errorCode", ev)
        self.assertEqual(ev["requestParameters"]["cidrBlock"], "10.1.0.0/16")
        self.assertEqual(ev["responseElements"]["vpc"]["vpcId"], vpc)
        self.assertEqual(ev["responseElements"]["requestId"], rid)
        t = datetime.datetime.strptime(ev["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        self.assertLess(abs(t.replace(tzinfo=datetime.timezone.utc).timestamp()
                            - time.time()), 60)
        self.assertEqual(top["EventTime"].timestamp(),
                         t.replace(tzinfo=datetime.timezone.utc).timestamp())
        self.assertIn({"ResourceType": "AWS::EC2::VPC", "ResourceName": vpc},
                      top["Resources"])
        # A read-only call has no responseElements.
        ec2.describe_vpcs()
        ev = json.loads(self.lookup("EventName", "DescribeVpcs")["Events"][0]["CloudTrailEvent"])
        self.assertIs(ev["readOnly"], True)
        self.assertIsNone(ev["responseElements"])

    def test_json_service_request_id_and_error(self):
        ev_client = self.sandbox.client("events")
        resp = ev_client.put_rule(Name="r1", EventPattern='{"source":["aws.ec2"]}')
        with self.assertRaises(ev_client.exceptions.ClientError) as cm:
            ev_client.describe_rule(Name="no-such-rule")
        err_rid = cm.exception.response["ResponseMetadata"]["RequestId"]
        recs = {r["record"]["eventName"]: r["record"] for r in self.sandbox.events()}
        self.assertEqual(recs["PutRule"]["requestID"], resp["ResponseMetadata"]["RequestId"])
        self.assertEqual(recs["PutRule"]["eventSource"], "events.amazonaws.com")
        self.assertEqual(recs["PutRule"]["requestParameters"]["name"], "r1")
        self.assertEqual(recs["DescribeRule"]["requestID"], err_rid)
        self.assertEqual(recs["DescribeRule"]["errorCode"], "ResourceNotFoundException")
        self.assertTrue(recs["DescribeRule"]["errorMessage"])

    def test_region_scoping_and_global_services(self):
        self.sandbox.client("ec2", region="eu-west-1").describe_vpcs()
        self.sandbox.client("ec2", region="us-east-1").describe_instances()
        self.sandbox.client("iam", region="eu-west-1").create_user(UserName="u1")
        names_eu = [e["EventName"] for e in self.lookup(region="eu-west-1")["Events"]]
        names_us = [e["EventName"] for e in self.lookup(region="us-east-1")["Events"]]
        self.assertIn("DescribeVpcs", names_eu)
        self.assertNotIn("DescribeVpcs", names_us)
        self.assertIn("DescribeInstances", names_us)
        self.assertNotIn("DescribeInstances", names_eu)
        # IAM lands in us-east-1 whatever region the client was configured with.
        self.assertIn("CreateUser", names_us)
        self.assertNotIn("CreateUser", names_eu)

    def test_account_scoping(self):
        sts = self.sandbox.client("sts")
        creds = sts.assume_role(RoleArn="arn:aws:iam::111122223333:role/auditor",
                                RoleSessionName="audit-session")["Credentials"]
        other = dict(key=creds["AccessKeyId"], secret=creds["SecretAccessKey"],
                     token=creds["SessionToken"])
        self.sandbox.client("ec2", **other).describe_security_groups()
        mine = self.lookup("EventName", "DescribeSecurityGroups")
        self.assertEqual(mine["Events"], [])
        theirs = self.lookup("EventName", "DescribeSecurityGroups",
                             client=self.ct(**other))
        self.assertEqual(len(theirs["Events"]), 1)
        ev = json.loads(theirs["Events"][0]["CloudTrailEvent"])
        self.assertEqual(ev["recipientAccountId"], "111122223333")
        self.assertEqual(ev["userIdentity"]["type"], "AssumedRole")
        self.assertEqual(ev["userIdentity"]["arn"],
                         "arn:aws:sts::111122223333:assumed-role/auditor/audit-session")
        self.assertEqual(theirs["Events"][0]["Username"], "audit-session")
        self.assertEqual(theirs["Events"][0]["AccessKeyId"], creds["AccessKeyId"])
        # AssumeRole itself is recorded in the caller's account, without the secret.
        ar = self.lookup("EventName", "AssumeRole")["Events"]
        self.assertEqual(len(ar), 1)
        self.assertNotIn(creds["SecretAccessKey"], ar[0]["CloudTrailEvent"])

    def test_every_lookup_attribute(self):
        iam = self.sandbox.client("iam")
        iam.create_user(UserName="dave")
        key = iam.create_access_key(UserName="dave")["AccessKey"]
        self.assertNotIn(key["SecretAccessKey"], json.dumps(self.sandbox.events()))
        ec2 = self.sandbox.client("ec2", key=key["AccessKeyId"], secret=key["SecretAccessKey"])
        sg = ec2.create_security_group(GroupName="g1", Description="d")["GroupId"]
        ec2.describe_regions()
        cases = {
            ("EventName", "CreateSecurityGroup"): {"CreateSecurityGroup"},
            ("EventSource", "iam.amazonaws.com"): {"CreateUser", "CreateAccessKey"},
            ("Username", "dave"): {"CreateSecurityGroup", "DescribeRegions"},
            ("AccessKeyId", key["AccessKeyId"]): {"CreateSecurityGroup", "DescribeRegions"},
            ("ReadOnly", "true"): {"DescribeRegions"},
            ("ResourceType", "AWS::EC2::SecurityGroup"): {"CreateSecurityGroup"},
            ("ResourceName", sg): {"CreateSecurityGroup"},
            ("ResourceType", "AWS::IAM::User"): {"CreateUser", "CreateAccessKey"},
        }
        for (k, v), want in cases.items():
            got = {e["EventName"] for e in self.lookup(k, v)["Events"]}
            got.discard("LookupEvents")     # this test's own lookups are recorded too
            self.assertEqual(got, want, (k, v))
        one = self.lookup("EventName", "DescribeRegions")["Events"][0]
        by_id = self.lookup("EventId", one["EventId"])["Events"]
        self.assertEqual([e["EventId"] for e in by_id], [one["EventId"]])
        self.assertEqual(self.lookup("ReadOnly", "false")["Events"][0]["ReadOnly"], "false")

    def test_time_range_and_order(self):
        ec2 = self.sandbox.client("ec2")
        ec2.describe_vpcs()
        time.sleep(1.1)
        mid = time.time()
        time.sleep(1.1)
        ec2.describe_subnets()
        after = self.lookup(StartTime=mid)["Events"]
        self.assertEqual([e["EventName"] for e in after], ["DescribeSubnets"])
        before = self.lookup(EndTime=mid)["Events"]
        self.assertEqual([e["EventName"] for e in before], ["DescribeVpcs"])
        both = self.lookup()["Events"]
        names = [e["EventName"] for e in both]
        self.assertLess(names.index("DescribeSubnets"), names.index("DescribeVpcs"),
                        "newest first")
        times = [e["EventTime"] for e in both]
        self.assertEqual(times, sorted(times, reverse=True))
        # A window in the past holds nothing.
        self.assertEqual(self.lookup(StartTime=mid - 3600, EndTime=mid - 3000)["Events"], [])

    def test_validation_errors(self):
        ct = self.ct()
        bad = [
            (dict(MaxResults=0), "InvalidMaxResultsException"),
            (dict(MaxResults=51), "InvalidMaxResultsException"),
            (dict(StartTime=time.time(), EndTime=time.time() - 100), "InvalidTimeRangeException"),
            (dict(NextToken="garbage!"), "InvalidNextTokenException"),
            (dict(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "A"},
                                    {"AttributeKey": "EventName", "AttributeValue": "B"}]),
             "InvalidLookupAttributesException"),
        ]
        from botocore.config import Config
        raw = self.sandbox.client("cloudtrail", parameter_validation=False)
        bad.append((dict(LookupAttributes=[{"AttributeKey": "UserAgent",
                                            "AttributeValue": "x"}]),
                    "InvalidLookupAttributesException"))
        for kw, code in bad:
            with self.assertRaises(ct.exceptions.ClientError, msg=kw) as cm:
                raw.lookup_events(**kw)
            self.assertEqual(cm.exception.response["Error"]["Code"], code, kw)
            self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        del Config

    def test_next_token_bound_to_parameters(self):
        ec2 = self.sandbox.client("ec2")
        for _ in range(3):
            ec2.describe_vpcs()
        page = self.lookup("EventName", "DescribeVpcs", MaxResults=1)
        self.assertIn("NextToken", page)
        with self.assertRaises(self.ct().exceptions.ClientError) as cm:
            self.lookup("EventName", "DescribeSubnets", NextToken=page["NextToken"])
        self.assertEqual(cm.exception.response["Error"]["Code"], "InvalidNextTokenException")
        nxt = self.lookup("EventName", "DescribeVpcs", MaxResults=1, NextToken=page["NextToken"])
        self.assertNotEqual(nxt["Events"][0]["EventId"], page["Events"][0]["EventId"])

    def test_data_events_not_in_lookup(self):
        s3 = self.sandbox.client("s3")
        s3.create_bucket(Bucket="data-bucket")
        s3.put_object(Bucket="data-bucket", Key="k", Body=b"hello")
        s3.put_public_access_block(Bucket="data-bucket", PublicAccessBlockConfiguration={
            "BlockPublicAcls": True})
        names = {e["EventName"] for e in self.lookup()["Events"]}
        self.assertIn("CreateBucket", names)
        self.assertIn("PutBucketPublicAccessBlock", names)
        self.assertNotIn("PutObject", names)
        recs = self.sandbox.events(eventName="PutObject")
        self.assertEqual(len(recs), 1)
        self.assertFalse(recs[0]["managementEvent"])
        self.assertFalse(recs[0]["visible"])
        self.assertEqual(recs[0]["record"]["eventCategory"], "Data")
        self.assertEqual(recs[0]["record"]["requestParameters"]["bucketName"], "data-bucket")

    def test_user_agent_cut_at_1kb(self):
        ec2 = self.sandbox.client("ec2", user_agent_extra="x" * 3000)
        ec2.describe_key_pairs()
        ev = json.loads(self.lookup("EventName", "DescribeKeyPairs")["Events"][0]
                        ["CloudTrailEvent"])
        self.assertEqual(len(ev["userAgent"].encode()), 1024)

    def test_safe_fail_errors_recorded(self):
        ct = self.ct()
        for op in (lambda: ct.stop_logging(Name="cloudsaga-abc"),
                   lambda: ct.delete_trail(Name="cloudsaga-abc"),
                   lambda: ct.start_logging(Name="cloudsaga-abc")):
            with self.assertRaises(ct.exceptions.ClientError) as cm:
                op()
            self.assertEqual(cm.exception.response["Error"]["Code"], "TrailNotFoundException")
        gd = self.sandbox.client("guardduty")
        with self.assertRaises(gd.exceptions.ClientError) as cm:
            gd.delete_detector(DetectorId="0" * 32)
        self.assertEqual(cm.exception.response["Error"]["Code"], "BadRequestException")
        rds = self.sandbox.client("rds")
        with self.assertRaises(rds.exceptions.ClientError) as cm:
            rds.create_db_instance(DBInstanceIdentifier="cs-x", DBInstanceClass="db.t3.micro",
                                   Engine="postgres", MasterUsername="a",
                                   MasterUserPassword="secret-pw-123", AllocatedStorage=20,
                                   PubliclyAccessible=True, DBSubnetGroupName="cloudsaga-run1")
        codes = {e["EventName"]: json.loads(e["CloudTrailEvent"]).get("errorCode")
                 for e in self.lookup()["Events"]}
        self.assertEqual(codes["StopLogging"], "TrailNotFoundException")
        self.assertEqual(codes["DeleteTrail"], "TrailNotFoundException")
        self.assertEqual(codes["CreateDBInstance"], "DBSubnetGroupNotFoundFault")
        self.assertEqual(codes["DeleteDetector"], "BadRequestException")
        self.assertNotIn("secret-pw-123", json.dumps(self.sandbox.events()))
        # A trail that exists can be stopped by ARN too.
        self.sandbox.client("s3").create_bucket(Bucket="trail-bucket")
        arn = ct.create_trail(Name="real", S3BucketName="trail-bucket")["TrailARN"]
        ct.start_logging(Name=arn)
        self.assertTrue(ct.get_trail_status(Name="real")["IsLogging"])
        ct.stop_logging(Name=arn)
        self.assertFalse(ct.get_trail_status(Name="real")["IsLogging"])


if __name__ == "__main__":
    harness.main()
