"""The daemon's log with -d (a UTC timestamp on every line, one line per
run start and one per run end), one-line usage errors, and the HTTP
timeouts of the configuration (daemon.http_connect_timeout,
daemon.http_timeout) at work against real peers on loopback."""
import calendar
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, clean_env, cloudsagad

STAMP = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z "
                   r"cloudsagad: ")

CONF = """
daemon = { state_dir = "%(dir)s"; drain_timeout = "3s"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "30s"; };
schedule = ( { name = "alpha"; scenario = "network-changes"; every = "1h";
               regions = [ "us-east-1", "eu-west-1" ]; } );
"""


def stamp_seconds(m):
    y, mo, d, h, mi, s, ms = (int(x) for x in m.groups())
    return calendar.timegm((y, mo, d, h, mi, s)) + ms / 1000.0


class DaemonLog(unittest.TestCase):
    def test_stamps_and_one_line_per_run_start_and_end(self):
        d = tempfile.mkdtemp(prefix="cloudsagad-log.")
        try:
            conf = os.path.join(d, "c.conf")
            with open(conf, "w") as f:
                f.write(CONF % {"dir": d})
            with Sandbox() as sb:
                lines = self.run_daemon(conf, sb.url)
        finally:
            shutil.rmtree(d, ignore_errors=True)

        text = "\n".join(lines)
        for line in lines:
            m = STAMP.match(line)
            self.assertIsNotNone(m, "no timestamp: %r" % line)
            # UTC, now: not local time, not a stale clock.
            self.assertLess(abs(stamp_seconds(m) - self.started), 120, line)
        run_ids = set(re.findall(r"run ([0-9a-f]{32})", text))
        self.assertEqual(len(run_ids), 1, text)
        rid = run_ids.pop()
        starts = [l for l in lines if "starting scenario" in l]
        self.assertEqual(len(starts), 1, text)
        self.assertRegex(starts[0], r"cloudsagad: alpha: starting scenario "
                         r"network-changes for account default: run %s$"
                         % rid)
        ends = [l for l in lines if re.search(r"run %s (done|halted):" % rid,
                                              l)]
        self.assertEqual(len(ends), 1, text)
        self.assertRegex(ends[0], r"alpha: run %s done: \d+ calls in 2 "
                         r"regions \(\d+ permitted, 0 denied, 0 skipped, 0 "
                         r"error\); \d+ expectations, verifying$" % rid)
        # Everything else that names the run is a verdict or its summary.
        others = [l for l in lines if rid in l and l not in starts + ends]
        self.assertTrue(others)
        for l in others:
            self.assertRegex(l, r"cloudsagad: (logged|alert gap|missing|"
                             r"unverified|run %s of network-changes for "
                             r"account default:)" % rid)
        # The next run time is logged when the schedule is armed, not
        # again after each start (STATUS= carries it).
        self.assertEqual(len([l for l in lines if "alpha: next run" in l]),
                         1, text)

    def run_daemon(self, conf, url):
        env = clean_env(AWS_ENDPOINT_URL=url)
        self.started = time.time()
        proc = subprocess.Popen([CLOUDSAGAD, "-d", "-c", conf], env=env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        lines, summary = [], threading.Event()

        def read():
            for line in proc.stderr:
                lines.append(line.rstrip("\n"))
                if "calls expected in CloudTrail" in line:
                    summary.set()
        t = threading.Thread(target=read, daemon=True)
        t.start()
        try:
            self.assertTrue(summary.wait(90), "\n".join(lines))
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(30), 0)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        t.join(10)
        return lines


class UsageErrors(unittest.TestCase):
    def test_one_line_exit_2(self):
        for args, msg in (
                (["--foo"], "unknown option --foo"),
                (["--foo=1", "-n"], "unknown option --foo"),
                (["-q"], "unknown option -q"),
                (["--config"], "option --config needs an argument"),
                (["--version=2"], "option --version takes no argument"),
                (["-n", "extra"], "unexpected argument \"extra\""),
                (["--iam-policy=all"],
                 "--iam-policy=all: permissions or trust")):
            p = cloudsagad(*args)
            self.assertEqual((p.returncode, p.stdout, p.stderr),
                             (2, "", "cloudsagad: %s; see cloudsagad --help\n"
                              % msg), args)
        p = cloudsagad("--help")
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        self.assertIn("-h, --help", p.stdout)


@contextlib.contextmanager
def unanswered_port():
    """A loopback port whose accept queue is full: a connect() to it
    waits (the kernel drops the SYN) instead of being refused."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(0)
    port = srv.getsockname()[1]
    fill = []
    for _ in range(4):
        c = socket.socket()
        c.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            c.connect(("127.0.0.1", port))
        fill.append(c)
    probe = socket.socket()
    probe.settimeout(0.5)
    try:
        probe.connect(("127.0.0.1", port))
        raise unittest.SkipTest("the kernel accepts beyond the backlog")
    except socket.timeout:
        pass
    finally:
        probe.close()
    try:
        yield port
    finally:
        for c in fill:
            c.close()
        srv.close()


class HttpTimeouts(unittest.TestCase):
    def scenario(self, conf_text, *args, env=None):
        with tempfile.NamedTemporaryFile("w", suffix=".conf") as f:
            f.write(conf_text)
            f.flush()
            t = time.monotonic()
            p = cloudsagad("-c", f.name, "--scenario", "iam-credentials",
                           "--no-verify", "--output", "json", *args, env=env)
            took = time.monotonic() - t
        calls = [json.loads(l) for l in p.stdout.splitlines()]
        return p, calls[0], took

    def test_connect_timeout(self):
        with unanswered_port() as port:
            p, call, took = self.scenario(
                'daemon = { http_connect_timeout = "1s"; };\n',
                "--endpoint-url", "http://127.0.0.1:%d" % port)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(call["error_code"], "HttpTimeout", call)
        self.assertEqual(call["note"], "timeout after 3 attempts")
        self.assertRegex(call["error_message"],
                         r"^Failed to connect .* after 1\d\d\d ms")
        # 3 attempts of 1 s plus backoff (< 3 s); the default is 5 s each.
        self.assertGreaterEqual(took, 3.0)
        self.assertLess(took, 9.0)

    def test_total_timeout(self):
        # Every IAM answer comes 3 s late.
        with Sandbox("--fault", "iam:slow:1", "--slow-seconds", "3") as sb:
            env = clean_env(AWS_ENDPOINT_URL=sb.url)
            p, call, took = self.scenario(
                'daemon = { http_timeout = "1s"; };\n', env=env)
            self.assertEqual(p.returncode, 1)
            self.assertEqual(call["error_code"], "HttpTimeout", call)
            self.assertEqual(call["note"], "timeout after 3 attempts")
            self.assertRegex(call["error_message"],
                             r"^Operation timed out after 1\d\d\d milli")
            self.assertLess(took, 9.0)
            # The default (30 s) waits for the slow answer.
            p, call, _ = self.scenario("", env=env)
            self.assertEqual(call["outcome"], "permitted", call)
            self.assertGreaterEqual(call["elapsed_s"], 3.0)
            self.assertEqual(p.returncode, 0, p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
