"""Test harness: start tests/sandbox/aws-sandbox on a free loopback port, talk
to it with the real `aws` CLI and boto3, stop it at the end.

Every test file starts its own sandbox, so ctest may run them in parallel.
"""

import json
import os
import re
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SANDBOX_DIR = os.path.dirname(HERE)
SANDBOX = os.path.join(SANDBOX_DIR, "aws-sandbox")
SEED = os.path.join(SANDBOX_DIR, "seed")
sys.path.insert(0, SANDBOX_DIR)

FAKE_KEY = "AKIDEXAMPLETESTKEY00"
FAKE_SECRET = "fake/secret/for/tests/only"
START_TIMEOUT = 60


def scrub_environment(env):
    """Drop every AWS_* (and moto's account override) the caller may have
    exported, so neither the sandbox, boto3 here nor the aws CLI sees them
    (AWS_MAX_ATTEMPTS, AWS_ENDPOINT_URL_EC2, AWS_PROFILE, ...), then set
    the safe defaults."""
    for k in list(env):
        if k.startswith("AWS_") or k == "MOTO_ACCOUNT_ID":
            del env[k]
    env.update({"AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": "/dev/null",
                "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    return env


scrub_environment(os.environ)


def python():
    return os.environ.get("CLOUDSAGA_PYTHON") or sys.executable


def aws_cli():
    """The aws CLI next to the Python that has moto (ctest puts its bin dir
    first on PATH; fall back to the interpreter's own bin dir)."""
    cand = os.path.join(os.path.dirname(python()), "aws")
    if os.path.exists(cand):
        return cand
    return "aws"


class SandboxProcess:
    def __init__(self, *args, env=None):
        self.args = list(args)
        self.errfile = tempfile.TemporaryFile(mode="w+")
        e = dict(os.environ)
        e.setdefault("CLOUDSAGA_PYTHON", python())
        if env:
            e.update(env)
        self.proc = subprocess.Popen([SANDBOX, "--port", "0"] + self.args,
                                     stdout=subprocess.PIPE, stderr=self.errfile,
                                     env=e, bufsize=0)
        self.lines = []
        self.url = None
        buf = b""
        fd = self.proc.stdout.fileno()
        deadline = time.time() + START_TIMEOUT
        while self.url is None and time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.5)
            if r:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    line = line.decode()
                    self.lines.append(line)
                    if line.startswith("ready "):
                        self.url = line.split(None, 1)[1].strip()
            elif self.proc.poll() is not None:
                break
        if self.url is None:
            self.proc.kill()
            self.proc.wait()
            self.proc.stdout.close()
            err = self.stderr()
            self.errfile.close()
            raise RuntimeError("aws-sandbox did not become ready: stdout=%r stderr=%s" % (
                self.lines, err))
        self.port = int(self.url.rsplit(":", 1)[1])

    def stderr(self):
        self.errfile.seek(0)
        return self.errfile.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("aws-sandbox did not exit on signal %d" % sig)
        self.proc.stdout.close()
        rc = self.proc.returncode
        self.errfile.close()
        return rc

    # --- admin endpoint ---------------------------------------------------

    def admin(self, method, path, body=None, expect=200):
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        if expect is not None and status != expect:
            raise AssertionError("%s %s: HTTP %d (wanted %d): %s" % (
                method, path, status, expect, text[:500]))
        return json.loads(text)

    def config(self, **changes):
        return self.admin("POST", "/_sandbox/config", changes)

    def reset(self):
        return self.admin("POST", "/_sandbox/reset")

    def events(self, **filters):
        q = "&".join("%s=%s" % kv for kv in filters.items())
        return self.admin("GET", "/_sandbox/events" + ("?" + q if q else ""))["events"]

    # --- clients ------------------------------------------------------------

    def raw(self, service, body, region="us-east-1", target=None, path="/",
            method="POST", ctype="application/x-www-form-urlencoded; charset=utf-8",
            key=FAKE_KEY, headers=None):
        """One request with a SigV4-shaped Authorization header (signatures
        are not checked without --verify-signatures): (response, body)."""
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = {
            "Authorization": "AWS4-HMAC-SHA256 Credential=%s/20260101/%s/%s/aws4_request, "
                             "SignedHeaders=host;x-amz-date, Signature=00"
                             % (key, region, service),
            "X-Amz-Date": "20260101T000000Z", "Content-Type": ctype,
            "User-Agent": "cloudsagad/0.1.0 run/0123456789abcdef0123456789abcdef"}
        if target:
            h["X-Amz-Target"] = target
            h["Content-Type"] = "application/x-amz-json-1.1"
        h.update(headers or {})
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp, data

    def env(self, **extra):
        e = scrub_environment(dict(os.environ))
        e.update({
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": FAKE_KEY,
            "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_MAX_ATTEMPTS": "1",
            "AWS_RETRY_MODE": "standard",
            "CLOUDSAGA_PYTHON": python(),
        })
        e.update(extra)
        return e

    def aws(self, *args, **env):
        """Run the real aws CLI: CompletedProcess with text stdout/stderr."""
        return subprocess.run([aws_cli()] + list(args), env=self.env(**env),
                              capture_output=True, text=True, timeout=120)

    def seed(self, *args, **env):
        return subprocess.run([SEED, "--endpoint", self.url] + list(args),
                              env=self.env(**env), capture_output=True, text=True,
                              timeout=120)

    def client(self, service, region="us-east-1", key=FAKE_KEY, secret=FAKE_SECRET,
               token=None, retries=1, **config):
        import boto3
        from botocore.config import Config
        return boto3.session.Session().client(
            service, region_name=region, endpoint_url=self.url,
            aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
            config=Config(retries={"total_max_attempts": retries, "mode": "standard"},
                          s3={"addressing_style": "path"}, **config))


def wait_for(pred, timeout=10.0, interval=0.1):
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= deadline:
            return v
        time.sleep(interval)


def cloudtrail_events(lookup_result):
    return [json.loads(e["CloudTrailEvent"]) for e in lookup_result.get("Events", [])]


def request_id_from_debug(stderr):
    """The request ID an aws --debug run received (from the response headers)."""
    m = re.findall(r"'x-amzn-RequestId': '([^']+)'", stderr)
    return m[-1] if m else None


class SandboxTestCase(unittest.TestCase):
    sandbox_args = ()
    sandbox = None

    @classmethod
    def setUpClass(cls):
        cls.sandbox = SandboxProcess(*cls.sandbox_args)

    @classmethod
    def tearDownClass(cls):
        if cls.sandbox is not None:
            err = cls.sandbox.stderr()
            rc = cls.sandbox.stop()
            if rc != 0:
                raise AssertionError("aws-sandbox exited %d: %s" % (rc, err[-2000:]))
            if "Traceback" in err:
                raise AssertionError("aws-sandbox logged a traceback:\n" + err[-4000:])


def main():
    unittest.main(verbosity=2)
