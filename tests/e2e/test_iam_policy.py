"""cloudsagad --iam-policy: the printed policy is enough and every action
in it is needed.

The sandbox runs with --verify-signatures (moto checks SigV4 and IAM
policies on every call).  With its ready-made admin key the test creates an
IAM user whose only policy is the printed one and runs every built-in
scenario with that user's keys, with CloudTrail verification and the
EventBridge alert check: no call may be denied, every call must reach
CloudTrail, no alert verdict may be unknown.  Then, for each action of the
policy, a user with the policy minus that action runs a scenario that
exercises it: its calls must come back denied (cloudtrail:LookupEvents:
every verdict unverified; the EventBridge actions: alert coverage unknown).
Actions that no sandbox run can exercise are named in the output.

moto 5.2.1 authorises a few calls under other names than AWS does; the
policy given to moto translates exactly those (MOTO_NAMES below) and
nothing else.
"""
import concurrent.futures
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

from harness import SRC, Sandbox, clean_env, cloudsagad

REGIONS = "us-east-1,eu-west-1"
RULE_PATTERN = json.dumps({"source": ["aws.cloudtrail"]})

# AWS action -> what moto 5.2.1 checks instead.
MOTO_NAMES = {
    # moto names every action by the SigV4 signing name: CloudWatch's is
    # "monitoring" (AWS: cloudwatch:*).
    "cloudwatch:": "monitoring:",
    # moto/s3/responses.py ACTION_MAP looks for "public_access_block" in
    # the query while the request says "publicAccessBlock", so PUT and
    # DELETE ?publicAccessBlock fall back to the DEFAULT actions (AWS:
    # s3:PutBucketPublicAccessBlock for both).
    "s3:PutBucketPublicAccessBlock": ["s3:CreateBucket", "s3:DeleteBucket"],
}

# IAM never denies it: "No permissions are required to perform this
# operation" (AWS STS API Reference, GetCallerIdentity); moto alike.
NEVER_DENIED = {"sts:GetCallerIdentity"}

VERIFY_CALL = "cloudtrail:LookupEvents"
BUILTINS = {"cloudtrail-tampering", "iam-credentials", "imds-reveal",
            "mining-bitcoin", "network-changes", "public-resources"}


def chapter_names():
    """The scenario names of --chapters (two spaces, then the name)."""
    p = cloudsagad("--chapters")
    assert p.returncode == 0, p.stderr
    return [line.split()[0] for line in p.stdout.splitlines()
            if line.startswith("  ") and not line.startswith("   ")]


def catalogue_permissions():
    """The permissions --about lists for the catalogue's techniques and
    for none of the built-ins."""
    perms = {}
    for name in chapter_names():
        about = cloudsagad("--about", name).stdout
        block = about.split("\nPermissions:\n")[1].split("\n\n")[0]
        for line in block.strip().splitlines():
            perms.setdefault(line.split()[0], set()).add(name)
    return {a for a, users in perms.items() if not users & BUILTINS}


EVENTBRIDGE = {"events:ListRules", "events:TestEventPattern",
               "events:ListTargetsByRule"}


def moto_names(action):
    if action in MOTO_NAMES:
        return MOTO_NAMES[action]
    for prefix, alias in MOTO_NAMES.items():
        if prefix.endswith(":") and action.startswith(prefix):
            return [alias + action[len(prefix):]]
    return [action]


def for_moto(policy):
    p = copy.deepcopy(policy)
    for st in p["Statement"]:
        st["Action"] = [m for a in st["Action"] for m in moto_names(a)]
    return p


def without(policy, action):
    p = copy.deepcopy(policy)
    for st in p["Statement"]:
        st["Action"] = [a for a in st["Action"] if a != action]
    p["Statement"] = [st for st in p["Statement"] if st["Action"]]
    return p


def actions_of(policy):
    return [a for st in policy["Statement"] for a in st["Action"]]


# The IAM action that authorises an API call, written down here from the
# Service Authorization Reference (independently of daemon/cli_iam.c).
IAM_PREFIX = {"monitoring": "cloudwatch"}
IAM_RENAMED = {("s3", "ListBuckets"): "ListAllMyBuckets",
               ("s3", "PutBucketLifecycleConfiguration"):
               "PutLifecycleConfiguration",
               ("s3", "PutPublicAccessBlock"): "PutBucketPublicAccessBlock",
               ("s3", "DeletePublicAccessBlock"): "PutBucketPublicAccessBlock"}


def iam_action(service, operation):
    return "%s:%s" % (IAM_PREFIX.get(service, service),
                      IAM_RENAMED.get((service, operation), operation))


def parse_json_lines(out):
    calls, verdicts, summary = [], [], None
    for line in out.splitlines():
        o = json.loads(line)
        if o["kind"] == "call":
            calls.append(o)
        elif o["kind"] == "verdict":
            verdicts.append(o)
        elif o["kind"] == "summary":
            summary = o
    return calls, verdicts, summary


class IamPolicy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.sb = Sandbox("--verify-signatures")
        try:
            cls.admin = (cls.sb.extra["access_key_id"],
                         cls.sb.extra["secret_access_key"])
            # One instance in us-east-1 (network-changes opens its default
            # group there, mining-bitcoin and CreateVpc go to eu-west-1),
            # and a rule with a target that sees the CloudTrail calls.
            cls.seed("instances", "us-east-1=1")
            cls.seed("rule", "trail-changes", "--pattern", RULE_PATTERN,
                     "--sns-topic", "security", "--region", "us-east-1")
            p = cloudsagad("--iam-policy")
            assert p.returncode == 0, p.stderr
            cls.policy = json.loads(p.stdout)
            cls.users = 0
        except Exception:
            cls.sb.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sb.stop()

    @classmethod
    def seed(cls, *args):
        env = clean_env(AWS_ACCESS_KEY_ID=cls.admin[0],
                        AWS_SECRET_ACCESS_KEY=cls.admin[1])
        p = subprocess.run([os.path.join(SRC, "tests", "sandbox", "seed"),
                            "--endpoint", cls.sb.url] + list(args), env=env,
                           capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("seed %s: %s" % (" ".join(args), p.stderr))
        return json.loads(p.stdout) if p.stdout.strip() else None

    def user_env(self, policy):
        """A new IAM user whose only policy is policy (as moto names it)."""
        type(self).users += 1
        u = self.seed("user", "policy-user-%d" % self.users, "--policy",
                      json.dumps(for_moto(policy)))
        return clean_env(AWS_ENDPOINT_URL=self.sb.url,
                         AWS_ACCESS_KEY_ID=u["accessKeyId"],
                         AWS_SECRET_ACCESS_KEY=u["secretAccessKey"])

    def run_scenario(self, env, name, *args, verify=True):
        extra = ("--verify-timeout", "20s", "--verify-interval", "1s") \
            if verify else ("--no-verify",)
        p = cloudsagad("--scenario", name, "--output", "json", "--regions",
                       REGIONS, *extra, *args, env=env, timeout=300)
        calls, verdicts, summary = parse_json_lines(p.stdout)
        return p, calls, verdicts, summary

    def test_policy_shape(self):
        pol = self.policy
        self.assertEqual(pol["Version"], "2012-10-17")
        self.assertEqual([st["Sid"] for st in pol["Statement"]],
                         ["Verification", "Scenarios", "AlertCoverage"])
        seen = []
        for st in pol["Statement"]:
            self.assertEqual(st["Effect"], "Allow")
            self.assertEqual(st["Resource"], "*")
            self.assertEqual(st["Action"], sorted(set(st["Action"])))
            seen += st["Action"]
        self.assertEqual(len(seen), len(set(seen)), "an action twice")
        self.assertIn(VERIFY_CALL, seen)
        self.assertTrue(EVENTBRIDGE <= set(seen))
        # Every permission --about lists for a built-in is in it.
        names = chapter_names()
        self.assertGreaterEqual(len(names), 30, names)
        for name in names:
            about = cloudsagad("--about", name).stdout
            perms = about.split("\nPermissions:\n")[1].split("\n\n")[0]
            for line in perms.strip().splitlines():
                self.assertIn(line.split()[0], seen, name)

    def test_enough_and_each_action_needed(self):
        env = self.user_env(self.policy)
        # CloudSaga's five and cloudtrail-tampering, run with the policy.
        names = [n for n in chapter_names() if n in BUILTINS]
        self.assertEqual(len(names), 6, names)
        exercised = {}      # IAM action -> the first scenario calling it
        covered = None      # a scenario with covered (rule-matched) rows
        for name in names:
            p, calls, verdicts, summary = self.run_scenario(env, name)
            sys.stdout.write("== %s with the printed policy: exit %d, %d "
                             "calls, %d verdicts\n" % (name, p.returncode,
                                                       len(calls),
                                                       len(verdicts)))
            self.assertEqual(p.returncode, 0, p.stderr[-3000:])
            self.assertTrue(calls, name)
            for c in calls:
                self.assertEqual(c["outcome"], "permitted",
                                 "%s: %s" % (name, c))
                exercised.setdefault(iam_action(c["service"],
                                                c["event_name"]), name)
            self.assertEqual(summary["expected"], len(verdicts))
            for v in verdicts:
                self.assertEqual(v["verdict"], "logged", v)
                # Alert coverage of signal calls; context calls (#11)
                # are not judged.
                self.assertIn(v["coverage"], ("covered", "uncovered")
                              if v["role"] == "signal" else ("context",), v)
                if v["coverage"] == "covered" and covered is None:
                    covered = name
        for a in exercised:
            self.assertIn(a, actions_of(self.policy),
                          "a call the policy does not name")
        self.assertEqual(covered, "cloudtrail-tampering")

        skipped = []
        for action in actions_of(self.policy):
            if action in NEVER_DENIED:
                skipped.append("%s (IAM never denies it)" % action)
                continue
            if action == VERIFY_CALL:
                self.check_verify_denied()
            elif action in EVENTBRIDGE:
                self.check_coverage_denied(action, covered)
            elif action in exercised:
                self.check_call_denied(action, exercised[action])
            else:
                skipped.append("%s (no sandbox call is authorised by it "
                               "alone)" % action)
        sys.stdout.write("not exercised: %s\n" % ", ".join(skipped))
        # Tag permissions are separate in AWS, never checked by moto; the
        # catalogue's own are checked by test_catalogue_with_policy.
        catalogue = catalogue_permissions()
        self.assertEqual(sorted(s.split()[0] for s in skipped
                                if s.split()[0] not in catalogue),
                         ["ec2:CreateTags", "rds:AddTagsToResource",
                          "sts:GetCallerIdentity"])

    def test_catalogue_with_policy(self):
        """The catalogue's techniques (#11), run with the printed policy
        as their only permissions: every call permitted, every verdict
        logged, every permission only they need exercised; a sample of
        their actions, taken out of the policy, is denied."""
        env = self.user_env(self.policy)
        names = [n for n in chapter_names() if n not in BUILTINS]
        self.assertGreaterEqual(len(names), 24, names)
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            results = list(ex.map(lambda n: (n, self.run_scenario(env, n)),
                                  names))
        exercised = {}
        for name, (p, calls, verdicts, summary) in results:
            # moto 5.2.1 with --verify-signatures refuses every GuardDuty
            # ListDetectors (the aws CLI's too): SignatureDoesNotMatch.
            moto_bug = [c for c in calls if (c["service"], c["event_name"],
                                             c["error_code"]) ==
                        ("guardduty", "ListDetectors",
                         "SignatureDoesNotMatch")]
            calls = [c for c in calls if c not in moto_bug]
            self.assertEqual(p.returncode, 1 if moto_bug else 0,
                             "%s: %s" % (name, p.stderr[-3000:]))
            for c in calls:
                self.assertIn(c["outcome"], ("permitted", "skipped"),
                              "%s: %s" % (name, c))
                if c["outcome"] == "permitted":
                    exercised.setdefault(iam_action(c["service"],
                                                    c["event_name"]), name)
            for v in verdicts:
                self.assertEqual(v["verdict"], "logged", v)
        for a in exercised:
            self.assertIn(a, actions_of(self.policy))
        for a in catalogue_permissions():
            if a not in NEVER_DENIED and a != "guardduty:ListDetectors":
                self.assertIn(a, exercised, "no call needs %s" % a)
        for action in ("secretsmanager:GetSecretValue", "lambda:AddPermission",
                       "iam:CreateUser", "ec2:ModifySnapshotAttribute",
                       "s3:PutLifecycleConfiguration"):
            if moto_names(action) == [action]:
                self.check_call_denied(action, exercised[action])

    def check_call_denied(self, action, scenario):
        env = self.user_env(without(self.policy, action))
        p, calls, _, _ = self.run_scenario(env, scenario, verify=False)
        mine = [c for c in calls
                if iam_action(c["service"], c["event_name"]) == action]
        sys.stdout.write("-- without %s: %s: %d calls denied\n" % (
            action, scenario, len(mine)))
        self.assertTrue(mine, "%s made no %s call:\n%s" % (scenario, action,
                                                           p.stderr))
        for c in mine:
            self.assertEqual(c["outcome"], "denied", c)
        self.assertNotEqual(p.returncode, 0)

    def check_verify_denied(self):
        env = self.user_env(without(self.policy, VERIFY_CALL))
        p, calls, verdicts, _ = self.run_scenario(
            env, "iam-credentials", "--verify-timeout", "2s")
        sys.stdout.write("-- without %s: %d verdicts %s\n" % (
            VERIFY_CALL, len(verdicts),
            sorted(set(v["verdict"] for v in verdicts))))
        self.assertTrue(calls)
        self.assertTrue(all(c["outcome"] == "permitted" for c in calls))
        self.assertTrue(verdicts)
        for v in verdicts:
            self.assertEqual(v["verdict"], "unverified", v)
        self.assertEqual(p.returncode, 4, p.stderr[-2000:])

    def check_coverage_denied(self, action, scenario):
        env = self.user_env(without(self.policy, action))
        p, _, verdicts, _ = self.run_scenario(env, scenario)
        ct = [v for v in verdicts
              if v["event_source"] == "cloudtrail.amazonaws.com" and
              v["region"] == "us-east-1" and v["role"] == "signal"]
        sys.stdout.write("-- without %s: %s: coverage %s (%s)\n" % (
            action, scenario, sorted(set(v["coverage"] for v in ct)),
            ct[0]["coverage_reason"] if ct else "-"))
        self.assertTrue(ct)
        for v in ct:
            self.assertEqual(v["verdict"], "logged", v)
            self.assertEqual(v["coverage"], "unknown", v)

    def test_config_policy(self):
        """With -c: the enabled entries' scenarios (custom ones by their
        steps, tags included), the switched-on checks, nothing else."""
        conf = """
coverage = { eventbridge = false; metric_filters = true; guardduty = true; };
scenarios = (
  { name = "cw-sweep"; summary = "alarms, buckets, a VPC";
    steps = (
      { service = "cloudwatch"; action = "DescribeAlarms"; },
      { service = "s3"; action = "ListBuckets"; regions = "global"; },
      { service = "ec2"; action = "CreateVpc";
        params = [ "CidrBlock=10.9.0.0/16", "DryRun=true",
                   "TagSpecification.1.ResourceType=vpc" ];
        regions = [ "eu-west-1" ]; }
    ); }
);
schedule = (
  { scenario = "iam-credentials"; every = "1d"; },
  { scenario = "cw-sweep"; every = "1d"; },
  { scenario = "mining-bitcoin"; every = "1d"; enabled = false; }
);
"""
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
            f.write(conf)
            f.flush()
            p = cloudsagad("--iam-policy", "-c", f.name)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("mining-bitcoin", p.stderr)   # disabled: said so
        pol = json.loads(p.stdout)
        got = {st["Sid"]: st["Action"] for st in pol["Statement"]}
        self.assertEqual(got, {
            "Verification": ["cloudtrail:LookupEvents"],
            "Scenarios": ["cloudwatch:DescribeAlarms", "ec2:CreateTags",
                          "ec2:CreateVpc", "ec2:DescribeRegions",
                          "iam:GenerateCredentialReport",
                          "iam:GetCredentialReport", "s3:ListAllMyBuckets"],
            "AlertCoverage": ["cloudtrail:DescribeTrails",
                              "cloudtrail:GetTrailStatus",
                              "cloudwatch:DescribeAlarmsForMetric",
                              "guardduty:GetFindings",
                              "guardduty:ListDetectors",
                              "guardduty:ListFindings",
                              "logs:DescribeMetricFilters",
                              "logs:TestMetricFilter"],
        })

    def test_trust(self):
        """--iam-policy=trust: the caller's account (sts:GetCallerIdentity)
        may assume each role, with the external ID as a condition; the
        caller may assume exactly those roles.  Then for real, in moto: a
        base user with only the caller policy assumes a role that has the
        printed trust and permissions policies and runs a scenario; a wrong
        external ID is refused."""
        iam_env = clean_env(AWS_ACCESS_KEY_ID=self.admin[0],
                            AWS_SECRET_ACCESS_KEY=self.admin[1])
        import boto3
        iam = boto3.client("iam", endpoint_url=self.sb.url,
                           region_name="us-east-1",
                           aws_access_key_id=self.admin[0],
                           aws_secret_access_key=self.admin[1])
        account = boto3.client(
            "sts", endpoint_url=self.sb.url, region_name="us-east-1",
            aws_access_key_id=self.admin[0],
            aws_secret_access_key=self.admin[1]).get_caller_identity()[
                "Account"]
        role_arn = "arn:aws:iam::%s:role/cloudsaga-audit" % account
        conf_text = """
accounts = (
  { name = "audit"; role_arn = "%s"; external_id = "%s"; },
  { name = "self"; }
);
schedule = ( { scenario = "iam-credentials"; every = "1d"; } );
"""
        with tempfile.TemporaryDirectory() as d:
            conf = os.path.join(d, "c.conf")
            with open(conf, "w") as f:
                f.write(conf_text % (role_arn, "ext-1234"))
            env = dict(iam_env, AWS_ENDPOINT_URL=self.sb.url)
            p = cloudsagad("--iam-policy=trust", "-c", conf, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            doc = json.loads(p.stdout)
            trust = {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::%s:root" % account},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {
                    "sts:ExternalId": "ext-1234"}}}]}
            self.assertEqual(doc, {
                "caller_account": account,
                "accounts": [{"account": "audit", "role_arn": role_arn,
                              "trust_policy": trust}],
                "caller_policy": {"Version": "2012-10-17", "Statement": [{
                    "Sid": "AssumeAccountRoles", "Effect": "Allow",
                    "Action": "sts:AssumeRole",
                    "Resource": [role_arn]}]}})
            p = cloudsagad("--iam-policy=trust", "--account", "audit", "-c",
                           conf, env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout), trust)
            p = cloudsagad("--iam-policy=trust", "--account", "self", "-c",
                           conf, env=env)
            self.assertEqual(p.returncode, 2)
            self.assertIn("no role_arn", p.stderr)
            # Without an endpoint that answers: a clear failure, exit 1.
            p = cloudsagad("--iam-policy=trust", "-c", conf)
            self.assertEqual(p.returncode, 1)
            self.assertIn("GetCallerIdentity", p.stderr)

            # The policies at work.  moto only matches a trust policy's
            # principal literally (an account's root does not stand for
            # its users), so the role trusts the base user's ARN; the
            # condition is the printed one.
            base = self.seed("user", "cloudsaga-base", "--policy",
                             json.dumps(doc["caller_policy"]))
            base_arn = iam.get_user(UserName="cloudsaga-base")["User"]["Arn"]
            moto_trust = copy.deepcopy(trust)
            moto_trust["Statement"][0]["Principal"]["AWS"] = base_arn
            iam.create_role(RoleName="cloudsaga-audit",
                            AssumeRolePolicyDocument=json.dumps(moto_trust))
            iam.put_role_policy(RoleName="cloudsaga-audit",
                                PolicyName="cloudsagad", PolicyDocument=
                                json.dumps(for_moto(self.policy)))
            run_env = clean_env(AWS_ENDPOINT_URL=self.sb.url,
                                AWS_ACCESS_KEY_ID=base["accessKeyId"],
                                AWS_SECRET_ACCESS_KEY=base["secretAccessKey"])
            p = cloudsagad("-c", conf, "--scenario", "iam-credentials",
                           "--account", "audit", "--output", "json",
                           "--verify-timeout", "20s", "--verify-interval",
                           "1s", env=run_env, timeout=300)
            calls, verdicts, _ = parse_json_lines(p.stdout)
            self.assertEqual(p.returncode, 0, p.stderr[-2000:])
            self.assertTrue(calls)
            self.assertTrue(all(c["outcome"] == "permitted" for c in calls))
            self.assertTrue(all(v["verdict"] == "logged" for v in verdicts))
            with open(conf, "w") as f:
                f.write(conf_text % (role_arn, "wrong-id"))
            p = cloudsagad("-c", conf, "--scenario", "iam-credentials",
                           "--account", "audit", "--no-verify", "--output",
                           "json", env=run_env, timeout=300)
            self.assertNotEqual(p.returncode, 0)
            calls, _, _ = parse_json_lines(p.stdout)
            sys.stdout.write("-- wrong external ID: %s\n" % calls[0])
            self.assertEqual(calls[0]["error_code"], "CredentialsError")
            self.assertIn("AccessDenied", calls[0]["error_message"])
            self.assertIn("sts:AssumeRole", calls[0]["error_message"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
