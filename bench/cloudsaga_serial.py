"""The serial baseline of bench/fanout.py: network-changes as CloudSaga runs
it - boto3, one call after another, region after region - but with exactly
the calls and parameters cloudsagad's network-changes makes (every VPC,
pagination, the same DryRun requests), so both sides do the same work.

    cloudsaga_serial.py            (endpoint and fake keys from the env)

Prints one JSON object: the time spent making the calls (clients made
before the clock starts, as a generous baseline), the time to make the
clients, the number of calls and regions.
"""
import json
import os
import time
import urllib.parse

import boto3
import botocore.config
import botocore.exceptions

# Started by fanout.py with fake keys and the sandbox's endpoint; refuse
# anything else.
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL", "")
_host = urllib.parse.urlsplit(ENDPOINT).hostname or ""
if not _host.startswith("127.") or os.environ.get(
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
    raise SystemExit("cloudsaga_serial: AWS_ENDPOINT_URL must be loopback")
# The same retry budget as cloudsagad (SDK standard mode, 3 attempts).
CONFIG = botocore.config.Config(retries={"mode": "standard",
                                         "max_attempts": 3})
CALLS = 0


def dry_run(fn, **kw):
    """A DryRun call: DryRunOperation is the expected answer."""
    global CALLS
    CALLS += 1
    try:
        fn(DryRun=True, **kw)
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        if code not in ("DryRunOperation", "UnauthorizedOperation"):
            raise


def pages(client, op, key, **kw):
    """Every page of a listing (NextToken), counted."""
    global CALLS
    token = None
    while True:
        args = dict(kw)
        if token:
            args["NextToken"] = token
        CALLS += 1
        resp = getattr(client, op)(**args)
        yield resp
        token = resp.get("NextToken")
        if not token:
            return


def partition(region):
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def main():
    global CALLS
    t0 = time.monotonic()
    home = boto3.client("ec2", region_name="us-east-1", config=CONFIG)
    t_setup = time.monotonic() - t0

    t0 = time.monotonic()
    CALLS += 1
    regions = sorted(r["RegionName"] for r in
                     home.describe_regions(AllRegions=False)["Regions"]
                     if r.get("OptInStatus") in ("opt-in-not-required",
                                                 "opted-in")
                     and partition(r["RegionName"]) == "aws")
    t_calls = time.monotonic() - t0
    # One client per region, as CloudSaga makes them; not timed as calls.
    t0 = time.monotonic()
    clients = {r: boto3.client("ec2", region_name=r, config=CONFIG)
               for r in regions}
    t_setup += time.monotonic() - t0

    t0 = time.monotonic()
    for region in regions:
        ec2 = clients[region]
        active = 0
        for page in pages(ec2, "describe_instances", "Reservations",
                          MaxResults=1000):
            for res in page.get("Reservations", []):
                for inst in res.get("Instances", []):
                    if inst["State"]["Name"] in ("pending", "running",
                                                 "stopping", "stopped"):
                        active += 1
        if active == 0:
            dry_run(ec2.create_vpc, CidrBlock="192.168.220.0/24",
                    TagSpecifications=[{"ResourceType": "vpc", "Tags": [
                        {"Key": "CS-Purpose", "Value": "c-level-mine"}]}])
            continue
        vpcs = []
        for page in pages(ec2, "describe_vpcs", "Vpcs", MaxResults=1000):
            vpcs += [v["VpcId"] for v in page.get("Vpcs", [])]
        default_sg = {}
        for page in pages(ec2, "describe_security_groups", "SecurityGroups",
                          Filters=[{"Name": "group-name",
                                    "Values": ["default"]}],
                          MaxResults=1000):
            for g in page.get("SecurityGroups", []):
                if g.get("GroupName") == "default":
                    default_sg.setdefault(g["VpcId"], g["GroupId"])
        for vpc in sorted(vpcs):
            dry_run(ec2.create_security_group, GroupName="open-2-everyone",
                    Description="open-2-everyone", VpcId=vpc,
                    TagSpecifications=[{"ResourceType": "security-group",
                                        "Tags": [{"Key": "CS-Purpose",
                                                  "Value":
                                                  "public-access-for-all"}]}])
            if vpc in default_sg:
                dry_run(ec2.authorize_security_group_ingress,
                        GroupId=default_sg[vpc],
                        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [
                            {"CidrIp": "0.0.0.0/0",
                             "Description": "open-2-everyone"}]}])
    t_calls += time.monotonic() - t0
    print(json.dumps({
        "calls_s": t_calls, "setup_s": t_setup, "calls": CALLS,
        "regions": len(regions),
    }))


if __name__ == "__main__":
    main()
