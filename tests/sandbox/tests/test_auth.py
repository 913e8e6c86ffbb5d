"""--verify-signatures: SigV4 and IAM policies are checked (moto's
INITIAL_NO_AUTH_ACTION_COUNT=0 mode) with a ready-made IAM user printed on
stdout; DryRun answers 403 UnauthorizedOperation when IAM says no."""

import json
import re

import harness
from harness import SandboxTestCase


class VerifySignaturesTest(SandboxTestCase):
    sandbox_args = ("--verify-signatures", "--lookup-tps", "0")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        lines = cls.sandbox.lines
        assert len(lines) == 3, lines
        m1 = re.match(r"^access_key_id (AKIA[A-Z0-9]{16})$", lines[0])
        m2 = re.match(r"^secret_access_key (\S{40})$", lines[1])
        assert m1 and m2, lines
        assert lines[2] == "ready " + cls.sandbox.url
        cls.key, cls.secret = m1.group(1), m2.group(1)

    def admin_client(self, service, **kw):
        return self.sandbox.client(service, key=self.key, secret=self.secret, **kw)

    def limited_user(self, name, actions):
        iam = self.admin_client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]}))
        k = iam.create_access_key(UserName=name)["AccessKey"]
        return k["AccessKeyId"], k["SecretAccessKey"]

    def test_ready_made_user_works_and_unknown_keys_fail(self):
        ident = self.admin_client("sts").get_caller_identity()
        self.assertTrue(ident["Arn"].endswith(":user/sandbox-admin"))
        ec2 = self.sandbox.client("ec2")           # the fake test key
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.describe_vpcs()
        self.assertEqual(cm.exception.response["Error"]["Code"], "AuthFailure")
        bad = self.sandbox.client("ec2", key=self.key, secret="x" * 40)
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            bad.create_vpc(CidrBlock="10.0.0.0/16", DryRun=True)
        self.assertEqual(cm.exception.response["Error"]["Code"], "AuthFailure")
        ct = self.sandbox.client("cloudtrail")
        with self.assertRaises(ct.exceptions.ClientError) as cm:
            ct.lookup_events()
        self.assertEqual(cm.exception.response["Error"]["Code"], "UnrecognizedClientException")
        # Unauthenticated calls are not recorded (no account to attribute them to).
        self.assertEqual([e for e in self.sandbox.events()
                          if e["lookup"]["AccessKeyId"] == harness.FAKE_KEY
                          or e["record"]["userIdentity"].get("accessKeyId") == self.key
                          and e["record"].get("errorCode") == "Client.AuthFailure"], [])
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/credentials"),
                         {"accessKeyId": self.key, "secretAccessKey": self.secret})

    def test_dry_run_permission_check(self):
        key, secret = self.limited_user("viewer", ["ec2:Describe*", "cloudtrail:LookupEvents"])
        ec2 = self.sandbox.client("ec2", key=key, secret=secret)
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.describe_instances(DryRun=True)
        self.assertEqual(cm.exception.response["Error"]["Code"], "DryRunOperation")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 412)
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.create_vpc(CidrBlock="192.168.220.0/24", DryRun=True)
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], "UnauthorizedOperation")
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], 403)
        self.assertIn("You are not authorized to perform this operation.", err["Error"]["Message"])
        self.assertIn("ec2:CreateVpc", err["Error"]["Message"])
        # Without DryRun, moto's AccessDenied is answered the EC2 way too.
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.create_vpc(CidrBlock="192.168.220.0/24")
        self.assertEqual(cm.exception.response["Error"]["Code"], "UnauthorizedOperation")
        ct = self.sandbox.client("cloudtrail", key=key, secret=secret)
        res = ct.lookup_events(LookupAttributes=[
            {"AttributeKey": "Username", "AttributeValue": "viewer"}])
        codes = sorted((e["EventName"], json.loads(e["CloudTrailEvent"]).get("errorCode"))
                       for e in res["Events"])
        self.assertEqual(codes, [("CreateVpc", "Client.UnauthorizedOperation"),
                                 ("CreateVpc", "Client.UnauthorizedOperation"),
                                 ("DescribeInstances", "Client.DryRunOperation")])
        ev = json.loads(res["Events"][0]["CloudTrailEvent"])
        self.assertEqual(ev["userIdentity"]["type"], "IAMUser")
        self.assertEqual(ev["userIdentity"]["userName"], "viewer")
        self.assertEqual(ev["userIdentity"]["accessKeyId"], key)
        cidrs = [v["CidrBlock"] for v in self.admin_client("ec2").describe_vpcs()["Vpcs"]]
        self.assertNotIn("192.168.220.0/24", cidrs)

    def test_sandbox_answered_apis_check_policies(self):
        key, secret = self.limited_user("nolookup", ["ec2:Describe*"])
        ct = self.sandbox.client("cloudtrail", key=key, secret=secret)
        with self.assertRaises(ct.exceptions.ClientError) as cm:
            ct.lookup_events()
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        ev = self.sandbox.client("events", key=key, secret=secret)
        with self.assertRaises(ev.exceptions.ClientError) as cm:
            ev.test_event_pattern(EventPattern='{"source":["a"]}', Event="{}")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        self.assertIn("Events", self.admin_client("cloudtrail").lookup_events(MaxResults=1))

    def test_reset_keeps_the_printed_key(self):
        self.limited_user("temp", ["ec2:*"])
        self.sandbox.reset()
        iam = self.admin_client("iam")
        self.assertEqual([u["UserName"] for u in iam.list_users()["Users"]], ["sandbox-admin"])
        with self.assertRaises(self.sandbox.client("ec2").exceptions.ClientError):
            self.sandbox.client("ec2").describe_vpcs()


if __name__ == "__main__":
    harness.main()
