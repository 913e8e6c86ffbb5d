"""Running verify-tool (tests/e2e/verify_tool.c) against the sandbox."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from harness import BUILD, clean_env

TOOL = os.environ.get("CLOUDSAGA_VERIFY_TOOL",
                      os.path.join(BUILD, "tests", "tools", "verify-tool"))

# Calls the sandbox answers without any seeding: two read-only, two EC2
# dry runs (CreateSecurityGroup: the one the story is about), one IAM.
CALLS = [
    "ec2:DescribeInstances@us-east-1",
    "ec2:CreateSecurityGroup@us-east-1?GroupName=cloudsaga-e2e&"
    "GroupDescription=cloudsaga",
    "ec2:CreateVpc@us-east-1?CidrBlock=10.99.0.0/16",
    "ec2:DescribeSecurityGroups@eu-west-1",
    "iam:ListUsers",
]

FAST = ["--initial-delay", "1", "--interval", "1", "--skew", "5"]


class Workdir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="cloudsaga-verify-")
        self.state = os.path.join(self.path, "state")
        self.report = os.path.join(self.path, "report.jsonl")

    def lines(self):
        if not os.path.exists(self.report):
            return []
        with open(self.report) as f:
            text = f.read()
        assert text == "" or text.endswith("\n"), "torn report file"
        return [json.loads(l) for l in text.splitlines()]

    def verdicts(self):
        return [l for l in self.lines() if l["kind"] == "verdict"]

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)


def tool_args(sandbox, work, *extra):
    return [TOOL, "--endpoint", sandbox.url, "--state", work.state,
            "--report", work.report] + [str(e) for e in extra]


def run_tool(sandbox, work, *extra, timeout=120, env=None):
    """Run to completion; CompletedProcess (text)."""
    return subprocess.run(tool_args(sandbox, work, *extra),
                          env=env or clean_env(), capture_output=True,
                          text=True, timeout=timeout)


def start_tool(sandbox, work, *extra, env=None):
    return subprocess.Popen(tool_args(sandbox, work, *extra),
                            env=env or clean_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_until(proc, prefix, timeout=60):
    """Lines of proc's stdout until one starts with prefix; returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("tool ended before %r: %s" %
                               (prefix, proc.stderr.read()[-3000:]))
        if line.startswith(prefix):
            return line.strip()
    raise RuntimeError("no %r within %ss" % (prefix, timeout))


def kill9(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()
    proc.stderr.close()
