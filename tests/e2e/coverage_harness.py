"""Driving verify-tool in coverage mode (tests/e2e/verify_tool.c).

The tool fires calls, verifies them in the sandbox's CloudTrail, runs the
alerting check of daemon/coverage on every logged event, and reports.  With
--cycles N it stops after each cycle ("waiting"), the test changes the
world (rules, alarms, findings), and one line on stdin starts the next
cycle with fresh caches.
"""
import json
import os
import re
import subprocess
import time

import boto3

from harness import FAKE_KEY, FAKE_SECRET, SRC, clean_env
from verify_harness import TOOL

FAST = ["--initial-delay", "1", "--interval", "1", "--skew", "5"]

# The 17 regions every account has enabled.
REGIONS17 = ["us-east-1", "us-east-2", "us-west-1", "us-west-2",
             "ap-south-1", "ap-northeast-1", "ap-northeast-2",
             "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
             "ca-central-1", "eu-central-1", "eu-west-1", "eu-west-2",
             "eu-west-3", "eu-north-1", "sa-east-1"]


def client(sandbox, service, region="us-east-1"):
    return boto3.client(service, endpoint_url=sandbox.url,
                        region_name=region, aws_access_key_id=FAKE_KEY,
                        aws_secret_access_key=FAKE_SECRET)


def seed(sandbox, *args):
    """tests/sandbox/seed (a /bin/sh wrapper that finds moto's Python);
    its JSON answer.  (harness.Sandbox.seed runs the wrapper with Python,
    which cannot work.)"""
    p = subprocess.run([os.path.join(SRC, "tests", "sandbox", "seed"),
                        "--endpoint", sandbox.url] + [str(a) for a in args],
                       env=clean_env(), capture_output=True, text=True,
                       timeout=120)
    if p.returncode != 0:
        raise AssertionError("seed %s: %s" % (" ".join(map(str, args)),
                                             p.stderr[-2000:]))
    return json.loads(p.stdout) if p.stdout.strip() else None


def parse_kv(line):
    """'cycle 1 run=x logged=3 ...' -> {'cycle': '1', 'run': 'x', ...}"""
    words = line.split()
    out = {}
    if len(words) > 1 and "=" not in words[1]:
        out[words[0]] = words[1]
        words = words[2:]
    else:
        words = words[1:]
    for w in words:
        k, _, v = w.partition("=")
        out[k] = int(v) if re.fullmatch(r"\d+", v) else v
    return out


class CoverageTool:
    """A running verify-tool in coverage mode; one object per process."""

    def __init__(self, sandbox, work, calls, coverage="eventbridge",
                 cycles=1, extra=(), backend="stderr", role="signal"):
        # Alert coverage is judged for signal calls only (#11): the calls
        # are signal calls unless a call says otherwise ("...#context");
        # role=None leaves untagged calls to the default (read-only
        # actions are context).
        args = [TOOL, "--endpoint", sandbox.url, "--state", work.state,
                "--report", work.report, "--backend", backend,
                "--coverage", coverage, "--cycles", str(cycles)]
        if role is not None:
            args += ["--role", role]
        args += FAST + [str(e) for e in extra] + list(calls)
        self.work = work
        # The log goes to a file: a pipe nobody reads would fill up.
        self.errpath = os.path.join(work.path, "tool.stderr")
        self.err = open(self.errpath, "w")
        self.proc = subprocess.Popen(args, env=clean_env(),
                                     stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=self.err, text=True)
        self.lines = []

    def log(self):
        with open(self.errpath) as f:
            return f.read()

    def read_until(self, *prefixes, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.wait(10)
                raise AssertionError("tool ended (%s) before %r:\n%s" % (
                    self.proc.returncode, prefixes, self.log()[-4000:]))
            line = line.strip()
            self.lines.append(line)
            if line.startswith(prefixes):
                return line
        raise AssertionError("no %r within %ss" % (prefixes, timeout))

    def cycle(self):
        """Wait for the end of a cycle: (cycle line, stats line) parsed."""
        c = parse_kv(self.read_until("cycle "))
        st = parse_kv(self.read_until("coverage-stats "))
        end = self.read_until("waiting", "done")
        return c, st, end

    def next_cycle(self):
        self.proc.stdin.write("next\n")
        self.proc.stdin.flush()

    def finish(self, timeout=30):
        """Wait for exit; returns stderr (the log)."""
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        rc = self.proc.wait(timeout)
        self.proc.stdout.close()
        self.err.close()
        err = self.log()
        if rc != 0:
            raise AssertionError("tool exited %d:\n%s" % (rc, err[-4000:]))
        return err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for f in (self.proc.stdin, self.proc.stdout, self.err):
            try:
                f.close()
            except OSError:
                pass

    def verdicts(self, run_id):
        return verdicts(self.work, run_id)


def verdicts(work, run_id):
    """The run's verdict lines of the report file, by event name and
    region: {(name, region): line}."""
    out = {}
    for line in work.lines():
        if line["kind"] == "verdict" and line["run_id"] == run_id:
            key = (line["event_name"], line["region"])
            assert key not in out, "two verdicts for %s" % (key,)
            out[key] = line
    return out


def rule_names(verdict):
    return [r["name"] for r in verdict.get("rules") or []]


def rule_targets(verdict):
    return [t for r in verdict.get("rules") or [] for t in r["targets"]]
