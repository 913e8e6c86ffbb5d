"""An organisation of accounts: `seed org`, Organizations DescribeOrganization
and ListAccounts (paginated, with Status), AssumeRole into member accounts
(refused when the role is missing, does not trust the caller, or the
account is suspended), and records that land in the member account."""

import json

import harness
from harness import SandboxTestCase

MANAGEMENT = "123456789012"


class OrgTest(SandboxTestCase):
    sandbox_args = ("--lookup-tps", "0")

    def setUp(self):
        self.sandbox.reset()

    def seed_org(self, *args):
        r = self.sandbox.seed("org", *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def assume(self, account, role="cloudsaga-audit"):
        sts = self.sandbox.client("sts")
        return sts.assume_role(RoleArn="arn:aws:iam::%s:role/%s" % (account, role),
                               RoleSessionName="cloudsaga")["Credentials"]

    def with_creds(self, service, creds, region="us-east-1"):
        return self.sandbox.client(service, region=region, key=creds["AccessKeyId"],
                                   secret=creds["SecretAccessKey"],
                                   token=creds["SessionToken"])

    def test_five_members_one_without_role(self):
        world = self.seed_org("--accounts", "5", "--no-role", "3")
        self.assertEqual(world["organization"]["managementAccountId"], MANAGEMENT)
        self.assertEqual(world["roleName"], "cloudsaga-audit")
        members = world["accounts"]
        self.assertEqual([m["name"] for m in members], ["member-%d" % i for i in range(1, 6)])
        self.assertEqual([m["status"] for m in members], ["ACTIVE"] * 5)
        self.assertEqual([m["role"] is None for m in members], [False, False, True, False, False])
        ids = [m["id"] for m in members]
        self.assertEqual(len(set(ids + [MANAGEMENT])), 6)

        # The management account sees the organisation, page by page.
        org = self.sandbox.client("organizations", region="eu-west-1")
        desc = org.describe_organization()["Organization"]
        self.assertEqual(desc["MasterAccountId"], MANAGEMENT)
        self.assertEqual(desc["Id"], world["organization"]["id"])
        seen, pages = [], 0
        token = None
        while True:
            kw = {"MaxResults": 2}
            if token:
                kw["NextToken"] = token
            page = org.list_accounts(**kw)
            pages += 1
            self.assertLessEqual(len(page["Accounts"]), 2)
            seen += [(a["Id"], a["Status"]) for a in page["Accounts"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(sorted(seen), sorted([(MANAGEMENT, "ACTIVE")] +
                                              [(i, "ACTIVE") for i in ids]))
        # Organizations is global: recorded in us-east-1.
        rec = self.sandbox.events(eventName="ListAccounts")[-1]
        self.assertEqual((rec["account"], rec["region"], rec["record"]["eventSource"]),
                         (MANAGEMENT, "us-east-1", "organizations.amazonaws.com"))

        # AssumeRole: four work, the account without the role refuses.
        creds = {}
        for m in members:
            if m["role"] is None:
                sts = self.sandbox.client("sts")
                with self.assertRaises(sts.exceptions.ClientError) as cm:
                    self.assume(m["id"])
                err = cm.exception.response
                self.assertEqual((err["Error"]["Code"],
                                  err["ResponseMetadata"]["HTTPStatusCode"]),
                                 ("AccessDenied", 403))
                self.assertIn("sts:AssumeRole", err["Error"]["Message"])
                self.assertIn("%s:role/cloudsaga-audit" % m["id"], err["Error"]["Message"])
            else:
                creds[m["id"]] = self.assume(m["id"])
        self.assertEqual(len(creds), 4)
        calls = [(r["record"].get("errorCode"), r["account"])
                 for r in self.sandbox.events(eventName="AssumeRole")]
        self.assertIn(("AccessDenied", MANAGEMENT), calls)

        # A DryRun call with assumed keys is recorded in that member account.
        member = members[0]["id"]
        c = creds[member]
        ident = self.with_creds("sts", c).get_caller_identity()
        self.assertEqual(ident["Account"], member)
        self.assertTrue(ident["Arn"].endswith(":assumed-role/cloudsaga-audit/cloudsaga"))
        ec2 = self.with_creds("ec2", c, "eu-west-1")
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1,
                              DryRun=True)
        self.assertEqual(cm.exception.response["Error"]["Code"], "DryRunOperation")
        rec = self.sandbox.events(eventName="RunInstances")[0]
        self.assertEqual((rec["account"], rec["region"]), (member, "eu-west-1"))
        r = rec["record"]
        self.assertEqual(r["recipientAccountId"], member)
        self.assertEqual(r["errorCode"], "Client.DryRunOperation")
        self.assertEqual(r["userIdentity"]["type"], "AssumedRole")
        self.assertEqual(r["userIdentity"]["accountId"], member)
        self.assertEqual(r["userIdentity"]["accessKeyId"], c["AccessKeyId"])
        self.assertEqual(r["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"],
                         "arn:aws:iam::%s:role/cloudsaga-audit" % member)
        # LookupEvents with the member's keys sees that account only.
        ct = self.with_creds("cloudtrail", c, "eu-west-1")
        found = ct.lookup_events()["Events"]
        self.assertEqual([e["EventName"] for e in found], ["RunInstances"])
        self.assertEqual(json.loads(found[0]["CloudTrailEvent"])["recipientAccountId"], member)
        other = self.with_creds("cloudtrail", creds[members[1]["id"]], "eu-west-1")
        self.assertEqual(other.lookup_events()["Events"], [])
        mgmt = self.sandbox.client("cloudtrail", region="eu-west-1")
        self.assertNotIn("RunInstances", [e["EventName"] for e in mgmt.lookup_events()["Events"]])
        # Member accounts cannot list the organisation's accounts.
        morg = self.with_creds("organizations", c)
        with self.assertRaises(morg.exceptions.ClientError) as cm:
            morg.list_accounts()
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDeniedException")
        self.assertEqual(morg.describe_organization()["Organization"]["MasterAccountId"],
                         MANAGEMENT)

    def test_suspended_untrusted_and_non_members(self):
        world = self.seed_org("--accounts", "3", "--suspended", "1", "--role-name", "auditor")
        members = world["accounts"]
        self.assertEqual([m["status"] for m in members], ["ACTIVE", "ACTIVE", "SUSPENDED"])
        self.assertTrue(all(m["role"] for m in members))
        sts = self.sandbox.client("sts")
        self.assume(members[0]["id"], "auditor")
        with self.assertRaises(sts.exceptions.ClientError) as cm:
            self.assume(members[2]["id"], "auditor")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        # A role that trusts someone else.
        admin = self.assume(members[1]["id"], "OrganizationAccountAccessRole")
        self.with_creds("iam", admin).create_role(
            RoleName="elsewhere", AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999988887777:root"},
                    "Action": "sts:AssumeRole"}]}))
        with self.assertRaises(sts.exceptions.ClientError) as cm:
            self.assume(members[1]["id"], "elsewhere")
        self.assertEqual(cm.exception.response["Error"]["Code"], "AccessDenied")
        # Outside the organisation moto's behaviour stays: any role ARN works.
        self.assertTrue(self.assume("111122223333", "anything")["AccessKeyId"])
        # A second seed adds members after the first ones.
        more = self.seed_org("--accounts", "1")
        self.assertEqual([m["name"] for m in more["accounts"]], ["member-4"])
        self.assertEqual(more["roleName"], "cloudsaga-audit")

    def test_inventory_and_bad_usage(self):
        world = self.seed_org("--accounts", "2")
        inv = self.sandbox.admin("GET", "/_sandbox/inventory")
        for m in world["accounts"]:
            roles = [r["roleName"] for r in inv["accounts"][m["id"]]["iam"]["roles"]]
            self.assertEqual(roles, ["OrganizationAccountAccessRole", "cloudsaga-audit"])
        c = self.assume(world["accounts"][0]["id"])
        with self.assertRaises(Exception):
            self.with_creds("ec2", c).stop_instances(InstanceIds=["i-0123456789abcdef0"],
                                                     DryRun=True)
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/inventory"), inv)
        for args in (("--accounts", "0"), ("--accounts", "2", "--suspended", "3"),
                     ("--accounts", "2", "--no-role", "7")):
            r = self.sandbox.seed("org", *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn("seed:", r.stderr)


if __name__ == "__main__":
    harness.main()
