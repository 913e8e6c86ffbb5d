"""The admin endpoint under /_sandbox/: config, reset, events, inventory,
stats, health, and its errors."""

import json
import urllib.request

import harness
from harness import SandboxTestCase


class AdminTest(SandboxTestCase):
    sandbox_args = ("--latency", "20", "--drop", "ListUsers")

    def setUp(self):
        self.sandbox.reset()

    def test_config_round_trip(self):
        cfg = self.sandbox.admin("GET", "/_sandbox/config")
        self.assertEqual(cfg, {"delay": {"min": 0.0, "max": 0.0}, "drop": ["ListUsers"],
                               "latency": 20.0, "faults": [], "slow_seconds": 5.0,
                               "lookup_tps": 2.0, "delay_by_name": {}, "duplicate": [],
                               "strip_request_id": [], "skew": 0.0, "huge_mib": 40.0,
                               "drip_seconds": 60.0})
        new = self.sandbox.config(delay="1:2", latency=0, faults=["ec2@us-west-2:503:0.25"],
                                  drop=["CreateVpc", "s3.amazonaws.com"], slow_seconds=2)
        self.assertEqual(new["delay"], {"min": 1.0, "max": 2.0})
        self.assertEqual(new["faults"][0], {"service": "ec2", "region": "us-west-2",
                                            "action": None, "kind": "503", "share": 0.25,
                                            "count": None, "remaining": None,
                                            "spec": "ec2@us-west-2:503:0.25"})
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/config"), new)
        # Partial updates leave the rest alone.
        self.assertEqual(self.sandbox.config(latency=5)["drop"], ["CreateVpc", "s3.amazonaws.com"])
        # Reset restores the command-line knobs.
        self.sandbox.reset()
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/config"), cfg)

    def test_reset_clears_everything(self):
        ec2 = self.sandbox.client("ec2")
        ec2.create_vpc(CidrBlock="10.5.0.0/16")
        self.sandbox.client("cloudtrail").lookup_events()
        self.sandbox.client("events").test_event_pattern(
            EventPattern='{"source":["a"]}', Event=json.dumps({
                "id": "1", "account": "123456789012", "source": "a", "time": "2026-01-01T00:00:00Z",
                "region": "us-east-1", "resources": [], "detail-type": "x"}))
        self.assertTrue(self.sandbox.events())
        stats = self.sandbox.admin("GET", "/_sandbox/stats")
        self.assertEqual(stats["requests"]["ec2"]["CreateVpc"], 1)
        self.assertEqual(stats["test_event_pattern"], 1)
        self.assertTrue(self.sandbox.admin("GET", "/_sandbox/inventory")["accounts"])
        self.sandbox.reset()
        self.assertEqual(self.sandbox.events(), [])
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/inventory"), {"accounts": {}})
        stats = self.sandbox.admin("GET", "/_sandbox/stats")
        self.assertEqual(stats["requests"], {})
        self.assertEqual(stats["lookup_events"], {})
        self.assertEqual(stats["test_event_pattern"], 0)
        cidrs = [v["CidrBlock"] for v in ec2.describe_vpcs()["Vpcs"]]
        self.assertEqual(cidrs, ["172.31.0.0/16"])

    def test_inventory_deterministic_and_reads_change_nothing(self):
        ec2 = self.sandbox.client("ec2", region="eu-central-1")
        vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
        ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)
        first = self.sandbox.admin("GET", "/_sandbox/inventory")
        # Reading more regions instantiates them in moto, but adds nothing.
        for region in ("ap-northeast-1", "sa-east-1"):
            self.sandbox.client("ec2", region=region).describe_instances()
            self.sandbox.client("rds", region=region).describe_db_instances()
        self.sandbox.client("rds", region="ca-central-1").describe_db_instances()
        second = self.sandbox.admin("GET", "/_sandbox/inventory")
        self.assertEqual(first, second)
        raw1 = urllib.request.urlopen(self.sandbox.url + "/_sandbox/inventory").read()
        raw2 = urllib.request.urlopen(self.sandbox.url + "/_sandbox/inventory").read()
        self.assertEqual(raw1, raw2)
        region = first["accounts"]["123456789012"]["regions"]["eu-central-1"]
        self.assertEqual(sorted(g["groupName"] for g in region["securityGroups"]
                                if g["vpcId"] == vpc), ["default", "web"])
        ids = [g["groupId"] for g in region["securityGroups"]]
        self.assertEqual(ids, sorted(ids))
        # A real change shows: opening the default group.
        sg = [g for g in region["securityGroups"] if g["groupName"] == "web"][0]
        ec2.authorize_security_group_ingress(GroupId=sg["groupId"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        third = self.sandbox.admin("GET", "/_sandbox/inventory")
        self.assertNotEqual(first, third)
        web = [g for g in third["accounts"]["123456789012"]["regions"]["eu-central-1"]
               ["securityGroups"] if g["groupName"] == "web"][0]
        self.assertIn({"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidr": "0.0.0.0/0",
                       "group": None, "prefixList": None}, web["ingress"])
        # ?region= lists the named regions even when pristine.
        only = self.sandbox.admin("GET", "/_sandbox/inventory?region=sa-east-1")
        self.assertEqual(list(only["accounts"]["123456789012"]["regions"]), ["sa-east-1"])

    def test_events_filters(self):
        self.sandbox.client("ec2", region="eu-west-1").describe_vpcs()
        self.sandbox.client("ec2").describe_vpcs()
        self.sandbox.client("iam").list_users()
        allev = self.sandbox.events()
        self.assertEqual(len(allev), 3)
        self.assertEqual([e["seq"] for e in allev], sorted(e["seq"] for e in allev))
        self.assertEqual(len(self.sandbox.events(region="eu-west-1")), 1)
        self.assertEqual(len(self.sandbox.events(eventSource="iam.amazonaws.com")), 1)
        lu = self.sandbox.events(eventName="ListUsers")[0]
        self.assertTrue(lu["dropped"])          # --drop ListUsers
        self.assertFalse(lu["visible"])
        since = self.sandbox.events(since=allev[0]["seq"])
        self.assertEqual(len(since), 2)
        for e in allev:
            for k in ("seq", "account", "region", "eventTime", "visibleAt", "visible",
                      "dropped", "managementEvent", "lookup", "record"):
                self.assertIn(k, e)

    def test_errors_and_health(self):
        self.assertTrue(self.sandbox.admin("GET", "/_sandbox/health")["ok"])
        self.sandbox.admin("GET", "/_sandbox/nope", expect=404)
        self.sandbox.admin("DELETE", "/_sandbox/config", expect=405)
        self.sandbox.admin("GET", "/_sandbox/reset", expect=405)
        self.sandbox.admin("POST", "/_sandbox/config", b"[1,2", expect=400)
        self.sandbox.admin("POST", "/_sandbox/config", [1, 2], expect=400)
        self.sandbox.admin("GET", "/_sandbox/events?since=abc", expect=400)
        self.sandbox.admin("GET", "/_sandbox/credentials", expect=404)
        # Admin calls are neither recorded nor counted.
        self.assertEqual(self.sandbox.events(), [])
        self.assertEqual(self.sandbox.admin("GET", "/_sandbox/stats")["requests_total"], 0)

    def test_bad_aws_requests_get_clear_errors(self):
        sb = self.sandbox
        resp, body = sb.raw("nonsense", "Action=Foo")
        self.assertEqual(resp.status, 400)
        self.assertIn(b"<Code>UnknownService</Code>", body)
        resp, body = sb.raw("ec2", "Action=NoSuchAction&Version=2016-11-15&DryRun=true")
        self.assertEqual(resp.status, 400)
        self.assertIn(b"<Code>InvalidAction</Code>", body)
        resp, body = sb.raw("events", "{}", target="AWSEvents.NoSuchOperation")
        self.assertEqual((resp.status, json.loads(body)["__type"]),
                         (400, "UnknownOperationException"))
        lookup = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents"
        sb.config(lookup_tps=0)     # validation, not throttling, is under test here
        for bad in ("{broken", "[]", '{"StartTime": "yesterday"}', '{"MaxResults": "5"}'):
            resp, body = sb.raw("cloudtrail", bad, target=lookup)
            self.assertEqual(resp.status, 400, bad)
            self.assertIn(json.loads(body)["__type"], ("SerializationException",
                                                       "ValidationException",
                                                       "InvalidMaxResultsException"), bad)
        # An operation moto lacks: 501 NotImplemented, not a crash.
        ec2 = sb.client("ec2")
        with self.assertRaises(ec2.exceptions.ClientError) as cm:
            ec2.get_serial_console_access_status()
        self.assertEqual(cm.exception.response["Error"]["Code"], "NotImplemented")
        self.assertEqual(cm.exception.response["ResponseMetadata"]["HTTPStatusCode"], 501)
        # A body shorter than its Content-Length is refused once the client gives up.
        import socket
        s = socket.create_connection(("127.0.0.1", sb.port), timeout=5)
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        s.shutdown(socket.SHUT_WR)
        self.assertIn(b"400", s.recv(1000).split(b"\r\n")[0])
        s.close()
        self.assertTrue(sb.admin("GET", "/_sandbox/health")["ok"])

    def test_moto_api_passes_through_unrecorded(self):
        with urllib.request.urlopen(self.sandbox.url + "/moto-api/data.json") as r:
            self.assertEqual(r.status, 200)
            json.loads(r.read())
        self.assertEqual(self.sandbox.events(), [])


if __name__ == "__main__":
    harness.main()
