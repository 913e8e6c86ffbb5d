#!/usr/bin/env python3
"""Reference peers for tests/unit/test_aws_peer.c.

Prints one JSON document on stdout:

  "encode": what botocore's own serializers make of a request (method,
            path, query, headers, body), beside the input cloudsagad's
            encoder gets for the same call;
  "decode": raw HTTP responses (status, headers, body) produced by moto
            (in process, nothing leaves the machine) for the calls the
            daemon makes, beside what botocore parsed out of them, plus
            pairs of (botocore path, cloudsagad path) to compare.

Nothing here talks to a network: botocore serializers need no endpoint,
and moto's mock_aws intercepts every request in process.
"""
import base64
import datetime
import hashlib
import json
import os
import sys

for _v in list(os.environ):
    if _v.startswith("AWS_ENDPOINT_URL") or _v in ("AWS_PROFILE",
                                                    "AWS_DEFAULT_PROFILE"):
        del os.environ[_v]
os.environ.update({
    "AWS_ACCESS_KEY_ID": "AKIDEXAMPLETESTKEY00",
    "AWS_SECRET_ACCESS_KEY": "fake/secret/for/tests/only",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
})

import botocore.session  # noqa: E402
from botocore import serialize  # noqa: E402

SESSION = botocore.session.get_session()


def text(v):
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return v


# ---- encoding -------------------------------------------------------------

ENCODE = [
    # (name, botocore service, operation, botocore params,
    #  our service, our action, our input)
    ("ec2-describe-instances", "ec2", "DescribeInstances",
     {"Filters": [{"Name": "instance-state-name",
                   "Values": ["pending", "running"]}],
      "MaxResults": 5, "NextToken": "tok/en+=", "DryRun": True},
     "ec2", "DescribeInstances",
     {"Filter": [{"Name": "instance-state-name",
                  "Value": ["pending", "running"]}],
      "MaxResults": 5, "NextToken": "tok/en+=", "DryRun": True}),
    ("ec2-run-instances", "ec2", "RunInstances",
     {"ImageId": "ami-12345678", "InstanceType": "c5.24xlarge",
      "MinCount": 1, "MaxCount": 2, "DryRun": True,
      "TagSpecifications": [{"ResourceType": "instance",
                             "Tags": [{"Key": "CS-Purpose",
                                       "Value": "c-level-mine"}]}]},
     "ec2", "RunInstances",
     {"ImageId": "ami-12345678", "InstanceType": "c5.24xlarge",
      "MinCount": 1, "MaxCount": 2, "DryRun": True,
      "TagSpecification": [{"ResourceType": "instance",
                            "Tag": [{"Key": "CS-Purpose",
                                     "Value": "c-level-mine"}]}]}),
    ("ec2-authorize-ingress", "ec2", "AuthorizeSecurityGroupIngress",
     {"GroupId": "sg-1", "DryRun": True,
      "IpPermissions": [{"IpProtocol": "-1",
                         "IpRanges": [{"CidrIp": "0.0.0.0/0",
                                       "Description": "open 2 all"}]}]},
     "ec2", "AuthorizeSecurityGroupIngress",
     {"GroupId": "sg-1", "DryRun": True,
      "IpPermissions": [{"IpProtocol": "-1",
                         "IpRanges": [{"CidrIp": "0.0.0.0/0",
                                       "Description": "open 2 all"}]}]}),
    ("iam-list-users", "iam", "ListUsers",
     {"MaxItems": 100, "Marker": "m a/r+k"},
     "iam", "ListUsers", {"MaxItems": 100, "Marker": "m a/r+k"}),
    ("sts-assume-role", "sts", "AssumeRole",
     {"RoleArn": "arn:aws:iam::123456789012:role/audit",
      "RoleSessionName": "cloudsaga-0123", "ExternalId": "ext id",
      "DurationSeconds": 900,
      "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
      "Tags": [{"Key": "run", "Value": "0123"}]},
     "sts", "AssumeRole",
     {"RoleArn": "arn:aws:iam::123456789012:role/audit",
      "RoleSessionName": "cloudsaga-0123", "ExternalId": "ext id",
      "DurationSeconds": 900,
      "PolicyArns": [{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}],
      "Tags": [{"Key": "run", "Value": "0123"}]}),
    ("rds-create-db-instance", "rds", "CreateDBInstance",
     {"DBInstanceIdentifier": "cloudsaga-0123", "DBInstanceClass":
      "db.t3.micro", "Engine": "mysql", "PubliclyAccessible": True,
      "DBSubnetGroupName": "cloudsaga-0123"},
     "rds", "CreateDBInstance",
     {"DBInstanceIdentifier": "cloudsaga-0123", "DBInstanceClass":
      "db.t3.micro", "Engine": "mysql", "PubliclyAccessible": True,
      "DBSubnetGroupName": "cloudsaga-0123"}),
    ("cloudtrail-lookup-events", "cloudtrail", "LookupEvents",
     {"LookupAttributes": [{"AttributeKey": "EventName",
                            "AttributeValue": "CreateVpc"}],
      "StartTime": datetime.datetime(2026, 1, 1,
                                     tzinfo=datetime.timezone.utc),
      "MaxResults": 50},
     "cloudtrail", "LookupEvents",
     {"LookupAttributes": [{"AttributeKey": "EventName",
                            "AttributeValue": "CreateVpc"}],
      "StartTime": 1767225600, "MaxResults": 50}),
    ("events-test-event-pattern", "events", "TestEventPattern",
     {"EventPattern": "{\"source\":[\"aws.ec2\"]}",
      "Event": "{\"source\":\"aws.ec2\"}"},
     "events", "TestEventPattern",
     {"EventPattern": "{\"source\":[\"aws.ec2\"]}",
      "Event": "{\"source\":\"aws.ec2\"}"}),
    ("ssm-get-parameter", "ssm", "GetParameter",
     {"Name": "/aws/service/ami-amazon-linux-latest/"
              "al2023-ami-kernel-default-x86_64"},
     "ssm", "GetParameter",
     {"Name": "/aws/service/ami-amazon-linux-latest/"
              "al2023-ami-kernel-default-x86_64"}),
    ("logs-describe-metric-filters", "logs", "DescribeMetricFilters",
     {"logGroupName": "trail"}, "logs", "DescribeMetricFilters",
     {"logGroupName": "trail"}),
    ("cloudwatch-describe-alarms-for-metric", "cloudwatch",
     "DescribeAlarmsForMetric",
     {"MetricName": "UnauthorizedAPICalls", "Namespace": "CIS"},
     "monitoring", "DescribeAlarmsForMetric",
     {"MetricName": "UnauthorizedAPICalls", "Namespace": "CIS"}),
    ("guardduty-list-detectors", "guardduty", "ListDetectors",
     {"MaxResults": 50, "NextToken": "a/b"},
     "guardduty", "ListDetectors", {"MaxResults": 50, "NextToken": "a/b"}),
    ("guardduty-list-findings", "guardduty", "ListFindings",
     {"DetectorId": "d1", "MaxResults": 50,
      "FindingCriteria": {"Criterion": {
          "service.action.awsApiCallAction.api": {"Eq": ["StopLogging"]},
          "updatedAt": {"GreaterThanOrEqual": 1767225600000}}},
      "SortCriteria": {"AttributeName": "updatedAt", "OrderBy": "DESC"}},
     "guardduty", "ListFindings",
     {"DetectorId": "d1", "MaxResults": 50,
      "FindingCriteria": {"Criterion": {
          "service.action.awsApiCallAction.api": {"Eq": ["StopLogging"]},
          "updatedAt": {"GreaterThanOrEqual": 1767225600000}}},
      "SortCriteria": {"AttributeName": "updatedAt", "OrderBy": "DESC"}}),
    ("guardduty-get-findings", "guardduty", "GetFindings",
     {"DetectorId": "d 1", "FindingIds": ["f1", "f2"]},
     "guardduty", "GetFindings",
     {"DetectorId": "d 1", "FindingIds": ["f1", "f2"]}),
    ("guardduty-update-detector", "guardduty", "UpdateDetector",
     {"DetectorId": "d1", "Enable": False,
      "FindingPublishingFrequency": "SIX_HOURS"},
     "guardduty", "UpdateDetector",
     {"DetectorId": "d1", "Enable": False,
      "FindingPublishingFrequency": "SIX_HOURS"}),
    ("guardduty-delete-detector", "guardduty", "DeleteDetector",
     {"DetectorId": "cloudsaga-0123"}, "guardduty", "DeleteDetector",
     {"DetectorId": "cloudsaga-0123"}),
    ("s3-list-buckets", "s3", "ListBuckets", {}, "s3", "ListBuckets", {}),
    ("s3-get-bucket-location", "s3", "GetBucketLocation",
     {"Bucket": "cloudsaga-1-abc"}, "s3", "GetBucketLocation",
     {"Bucket": "cloudsaga-1-abc"}),
    ("s3-put-public-access-block", "s3", "PutPublicAccessBlock",
     {"Bucket": "cloudsaga-1-abc", "ExpectedBucketOwner": "123456789012",
      "PublicAccessBlockConfiguration": {
          "BlockPublicAcls": False, "IgnorePublicAcls": False,
          "BlockPublicPolicy": False, "RestrictPublicBuckets": False}},
     "s3", "PutPublicAccessBlock",
     {"Bucket": "cloudsaga-1-abc", "ExpectedBucketOwner": "123456789012",
      "PublicAccessBlockConfiguration": {
          "BlockPublicAcls": False, "IgnorePublicAcls": False,
          "BlockPublicPolicy": False, "RestrictPublicBuckets": False}}),
    ("s3-delete-public-access-block", "s3", "DeletePublicAccessBlock",
     {"Bucket": "cloudsaga-1-abc"}, "s3", "DeletePublicAccessBlock",
     {"Bucket": "cloudsaga-1-abc"}),
]


def encode_cases():
    out = []
    for name, svc, op, params, our_svc, our_action, our_input in ENCODE:
        model = SESSION.get_service_model(svc)
        om = model.operation_model(op)
        proto = model.metadata["protocol"]
        if proto == "smithy-rpc-v2-cbor":
            proto = "query"      # what cloudsagad speaks to CloudWatch
            model.metadata["protocol"] = "query"
        req = serialize.create_serializer(proto, True).serialize_to_request(
            params, om)
        case = {"name": name, "protocol": proto, "method": req["method"],
                "service": our_svc, "action": our_action,
                "input": our_input}
        path = req["url_path"]
        qs = req["query_string"]
        query = dict((k, str(v)) for k, v in qs.items()) if \
            isinstance(qs, dict) else {}
        if "?" in path:                  # S3: "/{Bucket}?publicAccessBlock"
            path, q = path.split("?", 1)
            for item in q.split("&"):
                k, _, v = item.partition("=")
                query[k] = v
        case["path"] = path
        case["query"] = query
        case["headers"] = dict((k, text(v)) for k, v in
                               req["headers"].items())
        body = req["body"]
        if isinstance(body, dict):
            case["form"] = dict((k, str(v)) for k, v in body.items())
        else:
            body = text(body) or ""
            case["body"] = body
            if body and proto == "rest-xml":
                case["content_md5"] = base64.b64encode(
                    hashlib.md5(body.encode()).digest()).decode()
        out.append(case)
    return out


# ---- decoding (moto in process) --------------------------------------------

def jsonable(v):
    if isinstance(v, dict):
        return dict((k, jsonable(x)) for k, x in v.items())
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, (datetime.datetime, datetime.date)):
        return None                   # formats differ; never compared
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


def decode_cases():
    import boto3
    from botocore.exceptions import ClientError
    from moto import mock_aws

    out = []
    captured = {}

    def after_call(http_response, parsed, model, **kwargs):
        captured["resp"] = http_response
        captured["parsed"] = parsed

    def call(client, our_svc, action, region, checks, **kw):
        captured.clear()
        method = getattr(client, _snake(action))
        try:
            method(**kw)
        except ClientError:
            pass
        r = captured["resp"]
        out.append({
            "service": our_svc, "action": action, "region": region,
            "dry_run": bool(kw.get("DryRun")),
            "status": r.status_code,
            "headers": dict((k, v) for k, v in r.headers.items()),
            "body": r.content.decode("utf-8"),
            "parsed": jsonable(captured["parsed"]),
            "checks": checks,
        })

    with mock_aws():
        def client(name, region="us-east-1"):
            c = boto3.client(name, region_name=region)
            c.meta.events.register("after-call", after_call)
            return c

        ec2 = client("ec2", "eu-west-1")
        ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ec2.run_instances(ImageId=ami, MinCount=2, MaxCount=2,
                          InstanceType="t3.micro",
                          MetadataOptions={"HttpTokens": "optional"})
        I = "Reservations.0.Instances."
        call(ec2, "ec2", "DescribeInstances", "eu-west-1", [
            ["Reservations.0.ReservationId", "reservationSet.0.reservationId"],
            ["Reservations.0.OwnerId", "reservationSet.0.ownerId"],
            [I + "0.InstanceId", "reservationSet.0.instancesSet.0.instanceId"],
            [I + "1.InstanceId", "reservationSet.0.instancesSet.1.instanceId"],
            [I + "0.ImageId", "reservationSet.0.instancesSet.0.imageId"],
            [I + "0.State.Name",
             "reservationSet.0.instancesSet.0.instanceState.name"],
            [I + "0.State.Code",
             "reservationSet.0.instancesSet.0.instanceState.code"],
            [I + "0.InstanceType",
             "reservationSet.0.instancesSet.0.instanceType"],
            [I + "0.Placement.AvailabilityZone",
             "reservationSet.0.instancesSet.0.placement.availabilityZone"],
            [I + "0.PrivateIpAddress",
             "reservationSet.0.instancesSet.0.privateIpAddress"],
            [I + "0.MetadataOptions.HttpTokens",
             "reservationSet.0.instancesSet.0.metadataOptions.httpTokens"],
        ])
        call(ec2, "ec2", "DescribeRegions", "eu-west-1", [
            ["Regions.0.RegionName", "regionInfo.0.regionName"],
            ["Regions.0.Endpoint", "regionInfo.0.regionEndpoint"],
        ])
        call(ec2, "ec2", "DescribeVpcs", "eu-west-1", [
            ["Vpcs.0.VpcId", "vpcSet.0.vpcId"],
            ["Vpcs.0.CidrBlock", "vpcSet.0.cidrBlock"],
            ["Vpcs.0.IsDefault", "vpcSet.0.isDefault"],
        ])
        call(ec2, "ec2", "CreateSecurityGroup", "eu-west-1", [],
             GroupName="open-2-everyone", Description="open-2-everyone",
             DryRun=True)
        call(ec2, "ec2", "DescribeInstances", "eu-west-1", [],
             InstanceIds=["i-00000000000000000"])

        iam = client("iam")
        iam.create_user(UserName="alice", Path="/ops/")
        iam.create_user(UserName="bob")
        call(iam, "iam", "ListUsers", "us-east-1", [
            ["Users.0.UserName", "Users.0.UserName"],
            ["Users.1.UserName", "Users.1.UserName"],
            ["Users.0.Path", "Users.0.Path"],
            ["Users.0.Arn", "Users.0.Arn"],
            ["IsTruncated", "IsTruncated"],
        ])
        call(iam, "iam", "GetUser", "us-east-1", [], UserName="nobody")
        call(iam, "iam", "GenerateCredentialReport", "us-east-1",
             [["State", "State"]])

        sts = client("sts")
        call(sts, "sts", "GetCallerIdentity", "us-east-1", [
            ["Account", "Account"], ["Arn", "Arn"], ["UserId", "UserId"],
        ])
        call(sts, "sts", "AssumeRole", "us-east-1", [
            ["Credentials.AccessKeyId", "Credentials.AccessKeyId"],
            ["Credentials.SecretAccessKey", "Credentials.SecretAccessKey"],
            ["Credentials.SessionToken", "Credentials.SessionToken"],
            ["AssumedRoleUser.Arn", "AssumedRoleUser.Arn"],
        ], RoleArn="arn:aws:iam::123456789012:role/audit",
            RoleSessionName="cloudsaga-0123")

        rds = client("rds", "eu-west-1")
        call(rds, "rds", "CreateDBInstance", "eu-west-1", [],
             DBInstanceIdentifier="cloudsaga-0123",
             DBInstanceClass="db.t3.micro", Engine="mysql",
             PubliclyAccessible=True, DBSubnetGroupName="cloudsaga-0123",
             MasterUsername="admin", MasterUserPassword="notreal123",
             AllocatedStorage=20)
        call(rds, "rds", "DescribeDBInstances", "eu-west-1", [])

        ct = client("cloudtrail", "eu-west-1")
        call(ct, "cloudtrail", "GetTrailStatus", "eu-west-1", [],
             Name="cloudsaga-0123")
        call(ct, "cloudtrail", "DescribeTrails", "eu-west-1", [])

        ev = client("events", "eu-west-1")
        ev.put_rule(Name="cis-unauth", State="ENABLED",
                    EventPattern=json.dumps({"source": ["aws.ec2"]}))
        call(ev, "events", "ListRules", "eu-west-1", [
            ["Rules.0.Name", "Rules.0.Name"],
            ["Rules.0.EventPattern", "Rules.0.EventPattern"],
            ["Rules.0.State", "Rules.0.State"],
        ])
        call(ev, "events", "DescribeRule", "eu-west-1", [], Name="missing")
        call(ev, "events", "DeleteRule", "eu-west-1", [], Name="cis-unauth")

        ssm = client("ssm", "eu-west-1")
        call(ssm, "ssm", "GetParameter", "eu-west-1", [
            ["Parameter.Name", "Parameter.Name"],
            ["Parameter.Value", "Parameter.Value"],
        ], Name="/aws/service/ami-amazon-linux-latest/"
                "al2023-ami-kernel-default-x86_64")
        call(ssm, "ssm", "GetParameter", "eu-west-1", [],
             Name="/cloudsaga/missing")

        logs = client("logs", "eu-west-1")
        logs.create_log_group(logGroupName="trail")
        call(logs, "logs", "DescribeLogGroups", "eu-west-1", [
            ["logGroups.0.logGroupName", "logGroups.0.logGroupName"],
        ])

        gd = client("guardduty", "eu-west-1")
        det = gd.create_detector(Enable=True)["DetectorId"]
        call(gd, "guardduty", "ListDetectors", "eu-west-1", [
            ["DetectorIds.0", "detectorIds.0"],
        ])
        call(gd, "guardduty", "GetDetector", "eu-west-1", [
            ["Status", "status"],
        ], DetectorId=det)
        call(gd, "guardduty", "GetDetector", "eu-west-1", [],
             DetectorId="cloudsaga-0123")

        s3 = client("s3", "us-east-1")
        s3.create_bucket(Bucket="cloudsaga-one")
        s3.create_bucket(Bucket="cloudsaga-two")
        s3.create_bucket(Bucket="cloudsaga-eu", CreateBucketConfiguration={
            "LocationConstraint": "eu-west-1"})
        call(s3, "s3", "ListBuckets", "us-east-1", [
            ["Buckets.0.Name", "Buckets.Bucket.0.Name"],
            ["Buckets.2.Name", "Buckets.Bucket.2.Name"],
            ["Owner.ID", "Owner.ID"],
        ])
        call(s3, "s3", "GetBucketLocation", "us-east-1", [
            ["LocationConstraint", "LocationConstraint"],
        ], Bucket="cloudsaga-eu")
        call(s3, "s3", "PutPublicAccessBlock", "us-east-1", [],
             Bucket="cloudsaga-1-missing",
             PublicAccessBlockConfiguration={"BlockPublicAcls": False})
        call(s3, "s3", "PutPublicAccessBlock", "us-east-1", [],
             Bucket="cloudsaga-one",
             PublicAccessBlockConfiguration={"BlockPublicAcls": True})
        call(s3, "s3", "GetPublicAccessBlock", "us-east-1", [
            ["PublicAccessBlockConfiguration.BlockPublicAcls",
             "BlockPublicAcls"],
        ], Bucket="cloudsaga-one")
        call(s3, "s3", "DeletePublicAccessBlock", "us-east-1", [],
             Bucket="cloudsaga-one")
    return out


def _snake(name):
    from botocore import xform_name
    return xform_name(name)


def main():
    doc = {"encode": encode_cases(), "decode": decode_cases()}
    json.dump(doc, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
