"""The aws-sandbox command: ready line, loopback-only --host, option errors,
clean exit on SIGTERM and SIGINT, port conflicts."""

import os
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

import harness


def run(*args, env=None, timeout=60):
    e = dict(os.environ)
    e.setdefault("CLOUDSAGA_PYTHON", harness.python())
    e.update(env or {})
    return subprocess.run([harness.SANDBOX] + list(args), capture_output=True, text=True,
                          timeout=timeout, env=e)


class CliTest(unittest.TestCase):

    def test_ready_line_and_sigterm(self):
        sb = harness.SandboxProcess()
        try:
            self.assertEqual(len(sb.lines), 1)
            self.assertRegex(sb.lines[0], r"^ready http://127\.0\.0\.1:\d+$")
            s = socket.create_connection(("127.0.0.1", sb.port), timeout=5)
            s.close()
            sb.client("ec2").describe_regions()
        finally:
            rc = sb.stop(signal.SIGTERM)
        self.assertEqual(rc, 0)

    def test_sigint_with_request_in_flight(self):
        sb = harness.SandboxProcess("--latency", "3000")
        errors = []

        def slow():
            try:
                sb.client("sts").get_caller_identity()
            except Exception as e:     # the answer may be cut off by the exit
                errors.append(e)
        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.5)
        t0 = time.monotonic()
        rc = sb.stop(signal.SIGINT)
        self.assertEqual(rc, 0)
        self.assertLess(time.monotonic() - t0, 2.5, "exit waited for the slow request")
        t.join()

    def test_other_loopback_address(self):
        sb = harness.SandboxProcess("--host", "127.0.0.2")
        try:
            self.assertTrue(sb.url.startswith("http://127.0.0.2:"))
        finally:
            self.assertEqual(sb.stop(), 0)

    def test_refuses_non_loopback_hosts(self):
        for host in ("0.0.0.0", "10.0.0.1", "192.0.2.1", "::1", "example.com", "::"):
            r = run("--host", host)
            self.assertEqual(r.returncode, 2, host)
            self.assertEqual(r.stdout, "", host)
            self.assertIn("127.0.0.0/8", r.stderr, host)

    def test_bad_options(self):
        for args in (["--fault", "ec2:explode:1"], ["--fault", "ec2:500"],
                     ["--fault", "ec2:500:1.5"], ["--delay", "5:1"], ["--delay", "x"],
                     ["--latency", "-1"], ["--port", "70000"], ["--lookup-tps", "-2"],
                     ["--fault", "ec2:500:0x"], ["--fault", "ec2:noevents:1"],
                     ["--drop", ":ok"], ["--delay-name", "CreateVpc"],
                     ["--delay-name", "CreateVpc=3:1"], ["--skew", "soon"],
                     ["--huge-mib", "0"], ["--drip-seconds", "-1"], ["--bogus"]):
            r = run(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stdout, "", args)
            self.assertTrue(r.stderr.strip(), args)
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        for opt in ("--port", "--host", "--delay", "--drop", "--latency", "--fault",
                    "--verify-signatures", "--slow-seconds", "--lookup-tps", "--seed",
                    "--delay-name", "--duplicate", "--strip-request-id", "--skew",
                    "--huge-mib", "--drip-seconds"):
            self.assertIn(opt, r.stdout)

    def test_port_in_use(self):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        try:
            r = run("--port", str(port))
        finally:
            s.close()
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertTrue(re.search(r"cannot listen on 127\.0\.0\.1:%d" % port, r.stderr))

    def test_verbose_log_keeps_query_strings_out(self):
        sb = harness.SandboxProcess("--verbose")
        try:
            import urllib.request
            url = (sb.url + "/some-bucket/key?X-Amz-Signature=SECRETSIG&X-Amz-Credential="
                   + harness.FAKE_KEY + "/20260101/us-east-1/s3/aws4_request")
            try:
                urllib.request.urlopen(url).read()
            except Exception:
                pass
            sb.client("sts").get_caller_identity()
            err = sb.stderr()
        finally:
            self.assertEqual(sb.stop(), 0)
        self.assertIn("GET /some-bucket/key 404", err)
        self.assertIn("POST / 200", err)
        self.assertNotIn("SECRETSIG", err)
        self.assertNotIn("Authorization", err)

    def test_wrapper_uses_cloudsaga_python(self):
        r = run("--help", env={"CLOUDSAGA_PYTHON": "/nonexistent/python3"})
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    harness.main()
