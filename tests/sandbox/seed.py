"""seed: create the world a scenario needs in the sandbox through ordinary AWS
calls (boto3), and print what was created as one JSON object on stdout.

Run through the tests/sandbox/seed wrapper. See README.md for the commands.
Refuses any endpoint that is not on loopback: nothing here may reach AWS.
"""

import argparse
import ipaddress
import json
import os
import sys
import urllib.parse
import urllib.request

AL2023_PARAM = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
DEFAULT_KEY = "AKIDEXAMPLETESTKEY00"
DEFAULT_SECRET = "fake/secret/for/tests/only"


class SeedError(Exception):
    pass


def check_endpoint(url):
    if not url:
        raise SeedError("no endpoint: pass --endpoint URL or set AWS_ENDPOINT_URL")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SeedError("endpoint %r is not an http(s) URL" % url)
    host = parts.hostname
    if host != "localhost":
        try:
            addr = ipaddress.ip_address(host)
        except ValueError:
            raise SeedError("endpoint host %r is not a loopback address" % host)
        if not addr.is_loopback:
            raise SeedError("endpoint host %s is not a loopback address" % host)
    return url.rstrip("/")


class World:
    def __init__(self, endpoint, region):
        import boto3
        from botocore.config import Config
        self.endpoint = endpoint
        self.region = region
        self.session = boto3.session.Session(
            aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID") or DEFAULT_KEY,
            aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY") or DEFAULT_SECRET,
            aws_session_token=os.environ.get("AWS_SESSION_TOKEN") or None,
            region_name=region)
        self.config = Config(retries={"max_attempts": 3, "mode": "standard"},
                             s3={"addressing_style": "path"})
        self._account = None

    def client(self, service, region=None):
        return self.session.client(service, region_name=region or self.region,
                                   endpoint_url=self.endpoint, config=self.config)

    def account(self):
        if self._account is None:
            self._account = self.client("sts").get_caller_identity()["Account"]
        return self._account

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise SeedError("%s %s: HTTP %d %s" % (method, path, e.code,
                                                     e.read().decode(errors="replace")))


def region_counts(specs):
    out = []
    for s in specs:
        region, eq, n = s.partition("=")
        if not eq or not region:
            raise SeedError("expected REGION=COUNT, got %r" % s)
        try:
            count = int(n)
        except ValueError:
            raise SeedError("count in %r is not a number" % s)
        if count < 0 or count > 100:
            raise SeedError("count in %r must be 0..100" % s)
        out.append((region, count))
    return out


def cmd_instances(w, a):
    result = {}
    for region, count in region_counts(a.counts):
        if count == 0:
            continue
        ec2 = w.client("ec2", region)
        ami = w.client("ssm", region).get_parameter(Name=AL2023_PARAM)["Parameter"]["Value"]
        kwargs = dict(ImageId=ami, InstanceType=a.type, MinCount=count, MaxCount=count,
                      TagSpecifications=[{"ResourceType": "instance",
                                          "Tags": [{"Key": "seeded-by", "Value": "seed"}]}])
        if a.metadata_tokens:
            kwargs["MetadataOptions"] = {"HttpTokens": a.metadata_tokens}
        ids = [i["InstanceId"] for i in ec2.run_instances(**kwargs)["Instances"]]
        if a.state == "stopped":
            ec2.stop_instances(InstanceIds=ids)
        result[region] = ids
    return {"instances": result}


def cmd_vpcs(w, a):
    result = {}
    for region, count in region_counts(a.counts):
        ec2 = w.client("ec2", region)
        used = set()
        for page in ec2.get_paginator("describe_vpcs").paginate():
            for v in page["Vpcs"]:
                used.add(v["CidrBlock"])
        ids = []
        k = 0
        while len(ids) < count:
            k += 1
            if k > 250:
                raise SeedError("no free 10.K.0.0/16 block left in %s" % region)
            cidr = "10.%d.0.0/16" % k
            if cidr in used:
                continue
            ids.append(ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"])
            used.add(cidr)
        result[region] = ids
    return {"vpcs": result}


def _topic(w, name, region):
    return w.client("sns", region).create_topic(Name=name)["TopicArn"]


def cmd_rule(w, a):
    region = a.cmd_region or w.region
    try:
        json.loads(a.pattern)
    except ValueError as e:
        raise SeedError("--pattern is not JSON: %s" % e)
    ev = w.client("events", region)
    kwargs = dict(Name=a.name, EventPattern=a.pattern, State=a.state)
    if a.bus:
        kwargs["EventBusName"] = a.bus
    out = {"rule": a.name, "region": region, "ruleArn": ev.put_rule(**kwargs)["RuleArn"]}
    if a.sns_topic:
        arn = _topic(w, a.sns_topic, region)
        targets = dict(Rule=a.name, Targets=[{"Id": "seed-" + a.sns_topic, "Arn": arn}])
        if a.bus:
            targets["EventBusName"] = a.bus
        ev.put_targets(**targets)
        out["topicArn"] = arn
    return out


def _log_group(w, name, region):
    logs = w.client("logs", region)
    try:
        logs.create_log_group(logGroupName=name)
    except logs.exceptions.ResourceAlreadyExistsException:
        pass
    return "arn:aws:logs:%s:%s:log-group:%s:*" % (region, w.account(), name)


def cmd_trail(w, a):
    region = a.cmd_region or w.region
    account = w.account()
    bucket = a.bucket or ("%s-trail-%s" % (a.name, account)).lower()
    s3 = w.client("s3", region)
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={
                "LocationConstraint": region})
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        pass
    group_arn = _log_group(w, a.log_group, region)
    iam = w.client("iam", region)
    role = "%s-to-cloudwatch-logs" % a.name
    try:
        role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                           "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role_arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    ct = w.client("cloudtrail", region)
    trail = ct.create_trail(Name=a.name, S3BucketName=bucket,
                            CloudWatchLogsLogGroupArn=group_arn,
                            CloudWatchLogsRoleArn=role_arn,
                            IsMultiRegionTrail=a.multi_region)
    if not a.stopped:
        ct.start_logging(Name=a.name)
    return {"trail": a.name, "region": region, "trailArn": trail["TrailARN"],
            "bucket": bucket, "logGroupArn": group_arn, "roleArn": role_arn,
            "logging": not a.stopped}


def cmd_metric_filter(w, a):
    region = a.cmd_region or w.region
    _log_group(w, a.log_group, region)
    metric = a.metric or a.name
    logs = w.client("logs", region)
    logs.put_metric_filter(logGroupName=a.log_group, filterName=a.name,
                           filterPattern=a.pattern,
                           metricTransformations=[{"metricName": metric,
                                                   "metricNamespace": a.namespace,
                                                   "metricValue": "1"}])
    out = {"metricFilter": a.name, "region": region, "logGroup": a.log_group,
           "metric": metric, "namespace": a.namespace}
    if a.alarm:
        kwargs = dict(AlarmName=a.alarm, MetricName=metric, Namespace=a.namespace,
                      Statistic="Sum", Period=300, EvaluationPeriods=1, Threshold=1.0,
                      ComparisonOperator="GreaterThanOrEqualToThreshold")
        if a.alarm_topic:
            out["topicArn"] = _topic(w, a.alarm_topic, region)
            kwargs["AlarmActions"] = [out["topicArn"]]
        w.client("cloudwatch", region).put_metric_alarm(**kwargs)
        out["alarm"] = a.alarm
        out["alarmActions"] = kwargs.get("AlarmActions", [])
    return out


def cmd_bucket(w, a):
    region = a.cmd_region or w.region
    s3 = w.client("s3", region)
    if region == "us-east-1":
        s3.create_bucket(Bucket=a.name)
    else:
        s3.create_bucket(Bucket=a.name, CreateBucketConfiguration={"LocationConstraint": region})
    if a.block_public:
        s3.put_public_access_block(Bucket=a.name, PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True,
            "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    return {"bucket": a.name, "region": region}


def cmd_db(w, a):
    region = a.cmd_region or w.region
    rds = w.client("rds", region)
    db = rds.create_db_instance(DBInstanceIdentifier=a.name, DBInstanceClass=a.instance_class,
                                Engine=a.engine, MasterUsername="seedadmin",
                                MasterUserPassword=os.urandom(12).hex(),
                                AllocatedStorage=20, PubliclyAccessible=a.public)
    return {"db": a.name, "region": region,
            "publiclyAccessible": db["DBInstance"].get("PubliclyAccessible", a.public)}


def cmd_finding(w, a):
    finding = {"type": a.type}
    if a.severity is not None:
        finding["severity"] = a.severity
    if a.title:
        finding["title"] = a.title
    if a.api:
        finding.setdefault("service", {})["action"] = {
            "actionType": "AWS_API_CALL", "awsApiCallAction": {"api": a.api}}
    body = {"region": a.cmd_region or w.region, "findings": [finding] * a.count}
    if a.account:
        body["account"] = a.account
    return w.admin("POST", "/_sandbox/findings", body)


def cmd_user(w, a):
    iam = w.client("iam")
    iam.create_user(UserName=a.name)
    if a.policy:
        try:
            json.loads(a.policy)
        except ValueError as e:
            raise SeedError("--policy is not JSON: %s" % e)
        policy = a.policy
    else:
        actions = a.allow or ["*"]
        policy = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": actions, "Resource": "*"}]})
    iam.put_user_policy(UserName=a.name, PolicyName="seed", PolicyDocument=policy)
    key = iam.create_access_key(UserName=a.name)["AccessKey"]
    return {"user": a.name, "accessKeyId": key["AccessKeyId"],
            "secretAccessKey": key["SecretAccessKey"]}


def _member_session(w, account, role):
    """A boto3 session in a member account, through AssumeRole."""
    import boto3
    creds = w.client("sts", "us-east-1").assume_role(
        RoleArn="arn:aws:iam::%s:role/%s" % (account, role),
        RoleSessionName="seed")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                 aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"],
                                 region_name="us-east-1")


def cmd_org(w, a):
    if not 1 <= a.accounts <= 100:
        raise SeedError("--accounts must be 1..100")
    if not 0 <= a.suspended <= a.accounts:
        raise SeedError("--suspended must be 0..--accounts")
    org = w.client("organizations", "us-east-1")
    try:
        o = org.create_organization(FeatureSet="ALL")["Organization"]
    except org.exceptions.AlreadyInOrganizationException:
        o = org.describe_organization()["Organization"]
    management = o["MasterAccountId"]
    existing = []
    for page in org.get_paginator("list_accounts").paginate():
        existing += [x for x in page["Accounts"] if x["Id"] != management]
    members = []
    for i in range(len(existing) + 1, len(existing) + a.accounts + 1):
        name = "member-%d" % i
        st = org.create_account(Email="%s@example.com" % name,
                                AccountName=name)["CreateAccountStatus"]
        while st["State"] == "IN_PROGRESS":
            st = org.describe_create_account_status(
                CreateAccountRequestId=st["Id"])["CreateAccountStatus"]
        if st["State"] != "SUCCEEDED":
            raise SeedError("CreateAccount %s: %s" % (name, st.get("FailureReason")))
        members.append({"id": st["AccountId"], "name": name,
                        "email": "%s@example.com" % name, "role": None})
    # --no-role: 1-based positions among the new accounts, names or IDs.
    skip = set()
    for ref in a.no_role or []:
        hit = [m for k, m in enumerate(members, 1)
               if ref in (str(k), m["name"], m["id"])]
        if not hit:
            raise SeedError("--no-role %s: no such new account (give 1..%d, a name "
                            "or an ID)" % (ref, len(members)))
        skip.add(hit[0]["id"])
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % management},
        "Action": "sts:AssumeRole"}]})
    for m in members:
        if m["id"] in skip:
            continue
        iam = _member_session(w, m["id"], "OrganizationAccountAccessRole").client(
            "iam", endpoint_url=w.endpoint, config=w.config)
        role = iam.create_role(RoleName=a.role_name, AssumeRolePolicyDocument=trust,
                               Description="cloudsaga audit role (seeded)")["Role"]
        iam.attach_role_policy(RoleName=a.role_name,
                               PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
        m["role"] = role["Arn"]
    for m in members[len(members) - a.suspended:] if a.suspended else []:
        org.close_account(AccountId=m["id"])
    status = {}
    for page in org.get_paginator("list_accounts").paginate():
        status.update({x["Id"]: x["Status"] for x in page["Accounts"]})
    for m in members:
        m["status"] = status.get(m["id"])
    return {"organization": {"id": o["Id"], "arn": o["Arn"],
                             "managementAccountId": management},
            "roleName": a.role_name, "accounts": members}


def cmd_reset(w, a):
    return w.admin("POST", "/_sandbox/reset")


def build_parser():
    p = argparse.ArgumentParser(
        prog="seed", description="Create resources in the AWS sandbox (loopback only).")
    p.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"),
                   help="sandbox URL (default $AWS_ENDPOINT_URL)")
    p.add_argument("--region", default=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
                   help="default region (default $AWS_DEFAULT_REGION or us-east-1)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    s = sub.add_parser("instances", help="run instances: REGION=COUNT ...")
    s.add_argument("counts", nargs="+", metavar="REGION=COUNT")
    s.add_argument("--type", default="t3.micro")
    s.add_argument("--state", choices=("running", "stopped"), default="running")
    s.add_argument("--metadata-tokens", choices=("optional", "required"), default=None,
                   help="IMDS HttpTokens of the instances")
    s.set_defaults(func=cmd_instances)

    s = sub.add_parser("vpcs", help="create extra VPCs: REGION=COUNT ...")
    s.add_argument("counts", nargs="+", metavar="REGION=COUNT")
    s.set_defaults(func=cmd_vpcs)

    s = sub.add_parser("rule", help="EventBridge rule, optionally with an SNS target")
    s.add_argument("name")
    s.add_argument("--pattern", required=True, help="event pattern (JSON)")
    s.add_argument("--state", default="ENABLED",
                   choices=("ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"))
    s.add_argument("--sns-topic", help="create this SNS topic and make it the target")
    s.add_argument("--bus", help="event bus name (default: the default bus)")
    s.add_argument("--region", dest="cmd_region", help="region (default: the global --region)")
    s.set_defaults(func=cmd_rule)

    s = sub.add_parser("trail", help="CloudTrail trail delivering to a log group")
    s.add_argument("name")
    s.add_argument("--log-group", required=True)
    s.add_argument("--bucket", help="S3 bucket for the trail (created; default NAME-trail-ACCOUNT)")
    s.add_argument("--multi-region", action="store_true")
    s.add_argument("--stopped", action="store_true", help="do not start logging")
    s.add_argument("--region", dest="cmd_region", help="region (default: the global --region)")
    s.set_defaults(func=cmd_trail)

    s = sub.add_parser("metric-filter", help="log metric filter, optionally with an alarm")
    s.add_argument("name")
    s.add_argument("--log-group", required=True)
    s.add_argument("--pattern", required=True, help="CloudWatch Logs filter pattern")
    s.add_argument("--metric", help="metric name (default: the filter name)")
    s.add_argument("--namespace", default="CISBenchmark")
    s.add_argument("--alarm", help="also create a CloudWatch alarm with this name")
    s.add_argument("--alarm-topic", help="SNS topic (created) as the alarm's action; "
                   "without it the alarm has no actions")
    s.add_argument("--region", dest="cmd_region", help="region (default: the global --region)")
    s.set_defaults(func=cmd_metric_filter)

    s = sub.add_parser("bucket", help="S3 bucket")
    s.add_argument("name")
    s.add_argument("--block-public", action="store_true",
                   help="also put a public access block that blocks everything")
    s.add_argument("--region", dest="cmd_region", help="region (default: the global --region)")
    s.set_defaults(func=cmd_bucket)

    s = sub.add_parser("db", help="RDS DB instance")
    s.add_argument("name")
    s.add_argument("--public", action="store_true", help="PubliclyAccessible=true")
    s.add_argument("--engine", default="postgres")
    s.add_argument("--instance-class", default="db.t3.micro")
    s.add_argument("--region", dest="cmd_region", help="region (default: the global --region)")
    s.set_defaults(func=cmd_db)

    s = sub.add_parser("finding", help="GuardDuty finding(s) through the admin endpoint")
    s.add_argument("type", help="finding type, e.g. Recon:IAMUser/MaliciousIPCaller")
    s.add_argument("--severity", type=float)
    s.add_argument("--title")
    s.add_argument("--api", help="service.action.awsApiCallAction.api")
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--account")
    s.add_argument("--region", dest="cmd_region", help="region (default: the global --region)")
    s.set_defaults(func=cmd_finding)

    s = sub.add_parser("user", help="IAM user with an inline policy and an access key")
    s.add_argument("name")
    s.add_argument("--allow", action="append", metavar="ACTION",
                   help="allowed action (repeatable; default '*')")
    s.add_argument("--policy", help="the whole policy document (JSON)")
    s.set_defaults(func=cmd_user)

    s = sub.add_parser("org", help="an organisation with member accounts, each with an "
                       "IAM role trusting the management account")
    s.add_argument("--accounts", type=int, required=True, metavar="N",
                   help="member accounts to create")
    s.add_argument("--suspended", type=int, default=0, metavar="K",
                   help="close the last K of them (status SUSPENDED)")
    s.add_argument("--no-role", nargs="+", metavar="ACCOUNT",
                   help="new accounts (1-based position, name member-K, or ID) that get "
                   "no role")
    s.add_argument("--role-name", default="cloudsaga-audit",
                   help="the role's name (default cloudsaga-audit)")
    s.set_defaults(func=cmd_org)

    s = sub.add_parser("reset", help="POST /_sandbox/reset")
    s.set_defaults(func=cmd_reset)
    return p


def main(argv=None):
    parser = build_parser()
    a = parser.parse_args(argv)
    try:
        endpoint = check_endpoint(a.endpoint)
        w = World(endpoint, a.region)
        result = a.func(w, a)
    except SeedError as e:
        sys.stderr.write("seed: %s\n" % e)
        return 2
    except Exception as e:  # botocore ClientError, connection errors
        sys.stderr.write("seed: %s failed: %s\n" % (a.command, e))
        return 1
    json.dump(result, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
