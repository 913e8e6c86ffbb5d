"""--call against a real moto_server that verifies every signature.

moto runs with INITIAL_NO_AUTH_ACTION_COUNT: the first calls (made here with
boto3) create an IAM user with an allow-all inline policy and an access
key; after them moto checks SigV4 and IAM policy on every request.
"""
import http.server
import json
import os
import socket
import threading
import unittest

import boto3

from harness import Moto, clean_env, cloudsagad

SETUP_CALLS = 3


class Recorder(http.server.BaseHTTPRequestHandler):
    """Records requests and answers like IAM ListUsers."""
    seen = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n).decode()
        Recorder.seen.append({"path": self.path, "headers": dict(self.headers),
                              "body": body})
        out = (b'<ListUsersResponse xmlns="https://iam.amazonaws.com/doc/'
               b'2010-05-08/"><ListUsersResult><IsTruncated>false'
               b'</IsTruncated><Users/></ListUsersResult><ResponseMetadata>'
               b'<RequestId>rec-1</RequestId></ResponseMetadata>'
               b'</ListUsersResponse>')
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *a):
        pass


class CallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.moto = Moto(initial_no_auth=SETUP_CALLS)
        iam = boto3.client("iam", endpoint_url=cls.moto.url,
                           region_name="us-east-1",
                           aws_access_key_id="AKIDSETUP0000000000",
                           aws_secret_access_key="setup")
        iam.create_user(UserName="cloudsaga-tester")
        iam.put_user_policy(
            UserName="cloudsaga-tester", PolicyName="allow-all",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(UserName="cloudsaga-tester")["AccessKey"]
        cls.akid = key["AccessKeyId"]
        cls.secret = key["SecretAccessKey"]

    @classmethod
    def tearDownClass(cls):
        cls.moto.stop()

    def call(self, *args, secret=None, endpoint=None):
        env = clean_env(AWS_ACCESS_KEY_ID=self.akid,
                        AWS_SECRET_ACCESS_KEY=secret or self.secret,
                        AWS_ENDPOINT_URL=endpoint or self.moto.url)
        p = cloudsagad("--call", *args, env=env)
        out = json.loads(p.stdout) if p.stdout.strip() else None
        return p, out

    def test_describe_regions_signed(self):
        p, out = self.call("ec2:DescribeRegions")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(out["outcome"], "ok")
        names = [r["regionName"] for r in out["data"]["regionInfo"]]
        self.assertIn("eu-west-1", names)
        self.assertTrue(out["request_id"])

    def test_wrong_secret_is_auth_failure(self):
        p, out = self.call("ec2:DescribeRegions", secret="not-the-secret")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(out["error"]["code"], "AuthFailure")
        self.assertNotIn("not-the-secret", p.stdout + p.stderr)
        self.assertNotIn(self.secret, p.stdout + p.stderr)

    def test_dry_run_is_permitted(self):
        p, out = self.call("ec2:CreateSecurityGroup", "--param", "GroupName=x",
                           "--param", "Description=y", "--param",
                           "DryRun=true")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(out["error"]["code"], "DryRunOperation")
        self.assertEqual(out["outcome"], "permitted")
        self.assertEqual(out["http_status"], 412)

    def test_mutating_without_dry_run_is_refused_before_sending(self):
        # Point at a listener that counts connections: none may arrive.
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(8)
        lsock.settimeout(0.5)
        url = "http://127.0.0.1:%d" % lsock.getsockname()[1]
        try:
            p, out = self.call("ec2:CreateSecurityGroup", "--param",
                               "GroupName=x", "--param", "Description=y",
                               endpoint=url)
            self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
            self.assertEqual(out["outcome"], "refused")
            self.assertIn("DryRun", out["error"]["message"])
            with self.assertRaises(socket.timeout):
                conn, _ = lsock.accept()
                conn.close()
        finally:
            lsock.close()
        # And moto has no such group.
        ec2 = boto3.client("ec2", endpoint_url=self.moto.url,
                           region_name="us-east-1",
                           aws_access_key_id=self.akid,
                           aws_secret_access_key=self.secret)
        groups = ec2.describe_security_groups()["SecurityGroups"]
        self.assertNotIn("x", [g["GroupName"] for g in groups])

    def test_sts_get_caller_identity(self):
        p, out = self.call("sts:GetCallerIdentity")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("cloudsaga-tester", out["data"]["Arn"])

    def test_iam_list_users_global(self):
        p, out = self.call("iam:ListUsers", "--region", "eu-west-1")
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        users = [u["UserName"] for u in out["data"]["Users"]]
        self.assertIn("cloudsaga-tester", users)

    def test_iam_signed_for_us_east_1(self):
        Recorder.seen = []
        srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        t = threading.Thread(target=srv.serve_forever, daemon=True)
        t.start()
        try:
            p, out = self.call("iam:ListUsers", "--region", "eu-west-1",
                               endpoint="http://127.0.0.1:%d" %
                               srv.server_address[1])
        finally:
            srv.shutdown()
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(len(Recorder.seen), 1)
        authz = Recorder.seen[0]["headers"]["Authorization"]
        self.assertIn("/us-east-1/iam/aws4_request", authz)
        self.assertIn("Action=ListUsers", Recorder.seen[0]["body"])
        self.assertIn("Version=2010-05-08", Recorder.seen[0]["body"])
        self.assertTrue(Recorder.seen[0]["headers"]["User-Agent"]
                        .startswith("cloudsagad/"))

    def test_unknown_service_is_usage_error(self):
        p, _ = self.call("nosuch:Thing")
        self.assertEqual(p.returncode, 2)
        self.assertIn("unknown service", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
