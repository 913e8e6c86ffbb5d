"""metadata_stub.py: every mode on the wire, as the daemon's IMDS and
container credential code sees it (urllib over loopback)."""
import datetime
import http.client
import json
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(
    __file__))))
from metadata_stub import MetadataStub, ROLE, ROLE_PATH  # noqa: E402


def request(stub, method, path, headers=None, timeout=2):
    c = http.client.HTTPConnection("127.0.0.1", stub.port, timeout=timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def imds_document(stub):
    st, token = request(stub, "PUT", "/latest/api/token",
                        {"X-aws-ec2-metadata-token-ttl-seconds": "21600"})
    assert st == 200, st
    h = {"X-aws-ec2-metadata-token": token.decode()}
    st, role = request(stub, "GET", ROLE_PATH, h)
    assert st == 200 and role.decode() == ROLE, (st, role)
    return request(stub, "GET", ROLE_PATH + ROLE, h)


def expiry(doc):
    return datetime.datetime.strptime(
        doc["Expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()


class Stub(unittest.TestCase):
    def setUp(self):
        self.stub = MetadataStub("ok")

    def tearDown(self):
        self.stub.close()

    def test_ok(self):
        st, body = imds_document(self.stub)
        self.assertEqual(st, 200)
        doc = json.loads(body)
        self.assertEqual(doc["Code"], "Success")
        self.assertTrue(doc["AccessKeyId"].startswith("ASIA"))
        self.assertGreater(expiry(doc), time.time() + 3600)
        st, body = request(self.stub, "GET", "/creds")
        self.assertEqual(st, 200)
        doc = json.loads(body)
        self.assertNotIn("Code", doc)
        self.assertEqual(set(doc), {"AccessKeyId", "SecretAccessKey",
                                    "Token", "Expiration"})
        self.assertEqual(request(self.stub, "GET", ROLE_PATH + "other")[0],
                         404)
        self.assertEqual(self.stub.issued, 2)
        self.assertEqual(self.stub.count("imds-creds"), 2)   # with the 404
        self.assertEqual(self.stub.count("container-creds"), 1)

    def test_down_then_up(self):
        self.stub.set_mode("down")
        with self.assertRaises(ConnectionRefusedError):
            request(self.stub, "GET", "/creds")
        self.stub.set_mode("ok")
        self.assertEqual(request(self.stub, "GET", "/creds")[0], 200)

    def test_500(self):
        self.stub.set_mode("500")
        self.assertEqual(request(self.stub, "PUT", "/latest/api/token")[0],
                         500)

    def test_reset(self):
        self.stub.set_mode("reset")
        with self.assertRaises((ConnectionResetError,
                                http.client.RemoteDisconnected)):
            request(self.stub, "GET", "/creds")

    def test_hang(self):
        self.stub.set_mode("hang")
        t0 = time.monotonic()
        with self.assertRaises(socket.timeout):
            request(self.stub, "GET", "/creds", timeout=0.5)
        self.assertGreaterEqual(time.monotonic() - t0, 0.5)

    def test_huge_malformed_expired(self):
        self.stub.set_mode("huge")
        st, body = imds_document(self.stub)
        self.assertEqual(st, 200)
        self.assertGreaterEqual(len(body), 1 << 20)
        self.assertEqual(json.loads(body)["Code"], "Success")
        self.stub.set_mode("malformed")
        st, body = request(self.stub, "GET", "/creds")
        self.assertEqual(st, 200)
        with self.assertRaises(ValueError):
            json.loads(body)
        self.stub.set_mode("expired")
        st, body = request(self.stub, "GET", "/creds")
        self.assertLess(expiry(json.loads(body)), time.time())

    def test_container_token(self):
        self.stub.close()
        self.stub = MetadataStub("ok", container_token="Bearer x")
        self.assertEqual(request(self.stub, "GET", "/creds")[0], 401)
        self.assertEqual(request(self.stub, "GET", "/creds",
                                 {"Authorization": "Bearer x"})[0], 200)


if __name__ == "__main__":
    unittest.main(verbosity=2)
