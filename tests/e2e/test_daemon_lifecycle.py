"""The daemon's life cycle against a real notify socket.

The test binds an AF_UNIX datagram socket, starts the real binary with
NOTIFY_SOCKET (and WATCHDOG_USEC) pointing at it, and reads what systemd
would read: READY=1, STATUS=, WATCHDOG=1, RELOADING=1 around SIGHUP (with a
valid file and with a broken one), STOPPING=1 on SIGTERM/SIGINT.  The
daemon's log (stderr, -d) shows which schedule is in force.
"""
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

from harness import CLOUDSAGAD, clean_env


class NotifySocket:
    """What a service manager receives, with arrival times."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []          # (monotonic time, text)
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.messages.append((time.monotonic(), data.decode()))

    def snapshot(self):
        with self.lock:
            return list(self.messages)

    def wait(self, pred, start=0, timeout=10.0):
        """Index of the first message at or after start matching pred."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msgs = self.snapshot()
            for i in range(start, len(msgs)):
                if pred(msgs[i][1]):
                    return i
            time.sleep(0.02)
        raise AssertionError("no matching notify message; got %r"
                             % [m for _, m in self.snapshot()[start:]])

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


class Daemon:
    """The real cloudsagad in the foreground, its stderr collected."""

    def __init__(self, config, notify_path, watchdog_usec=None, extra=()):
        env = clean_env(NOTIFY_SOCKET=notify_path)
        if watchdog_usec is not None:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        self.proc = subprocess.Popen([CLOUDSAGAD, "-d", "-c", config] +
                                     list(extra), env=env,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stderr:
            with self.lock:
                self.lines.append(line.rstrip("\n"))

    def log(self):
        with self.lock:
            return list(self.lines)

    def count(self, regex):
        r = re.compile(regex)
        return sum(1 for line in self.log() if r.search(line))

    def wait_log(self, regex, timeout=10.0, start=0):
        r = re.compile(regex)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = not self.thread.is_alive()   # stderr fully read
            for line in self.log()[start:]:
                if r.search(line):
                    return line
            if done:
                break
            time.sleep(0.02)
        raise AssertionError("no log line matching %r in:\n%s"
                             % (regex, "\n".join(self.log())))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=15):
        rc = self.proc.wait(timeout)
        self.thread.join(5)
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


ALPHA = """
daemon = { state_dir = "%(dir)s"; drain_timeout = "3s"; };
verify = { initial_delay = "5s"; interval = "5s"; deadline = "60s"; };
schedule = ( { name = "alpha"; scenario = "network-changes";
               every = "1s"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""

BETA = """
daemon = { state_dir = "%(dir)s"; drain_timeout = "3s"; };
schedule = ( { name = "beta"; scenario = "iam-credentials";
               every = "1s"; } );
"""

# Line 4 names a scenario that does not exist.
BROKEN = """daemon = { state_dir = "%(dir)s"; };
schedule = (
  { name = "gamma";
    scenario = "no-such-scenario"; every = "1s"; } );
"""


class LifecycleTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-life.")
        self.notify = NotifySocket(self.dir)
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        self.daemon = None

    def tearDown(self):
        if self.daemon is not None:
            self.daemon.kill()
        self.notify.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, text):
        tmp = self.conf + ".tmp"
        with open(tmp, "w") as f:
            f.write(text % {"dir": self.dir})
        os.rename(tmp, self.conf)

    def test_ready_watchdog_reload_broken_reload_stop(self):
        self.write(ALPHA)
        d = self.daemon = Daemon(self.conf, self.notify.path,
                                 watchdog_usec=400000)
        n = self.notify
        ready = n.wait(lambda m: m == "READY=1")
        msgs = [m for _, m in n.snapshot()]
        # STATUS= with the next run time before READY=1.
        status = [m for m in msgs[:ready] if m.startswith("STATUS=")]
        self.assertTrue(status, msgs)
        self.assertRegex(status[-1], r"^STATUS=1 scheduled, 0 running; "
                         r"next alpha at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; "
                         r"0 runs active, 0 expectations pending; "
                         r"0 logged, 0 missing, 0 unverified$")
        # The schedule runs; next-run times are logged.
        d.wait_log(r"alpha: starting scenario network-changes")
        d.wait_log(r"alpha: next run \S+Z \(in \d")
        # WATCHDOG=1 at half of WATCHDOG_USEC: every 200 ms.
        first = n.wait(lambda m: m == "WATCHDOG=1")
        time.sleep(1.0)
        pings = [t for t, m in n.snapshot()[first:] if m == "WATCHDOG=1"]
        self.assertGreaterEqual(len(pings), 4)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        self.assertLess(max(gaps), 0.4)     # never the full interval

        # SIGHUP with a valid new file: RELOADING=1, then READY=1, and the
        # new schedule replaces the old one.
        self.write(BETA)
        mark = len(n.snapshot())
        d.signal(signal.SIGHUP)
        rel = n.wait(lambda m: m.startswith("RELOADING=1"), start=mark)
        self.assertRegex(n.snapshot()[rel][1],
                         r"^RELOADING=1\nMONOTONIC_USEC=\d+$")
        n.wait(lambda m: m == "READY=1", start=rel + 1)
        d.wait_log(r"configuration reloaded: 1 schedule entries")
        d.wait_log(r"beta: starting scenario iam-credentials")
        alpha_runs = d.count(r"alpha: starting scenario")
        time.sleep(2.0)
        self.assertEqual(d.count(r"alpha: starting scenario"), alpha_runs)

        # SIGHUP with a broken file: still RELOADING=1/READY=1, FILE:LINE
        # in the log, the daemon keeps running the previous schedule.
        self.write(BROKEN)
        mark = len(n.snapshot())
        log_mark = len(d.log())
        d.signal(signal.SIGHUP)
        rel = n.wait(lambda m: m.startswith("RELOADING=1"), start=mark)
        n.wait(lambda m: m == "READY=1", start=rel + 1)
        d.wait_log(re.escape(self.conf) + r":4: schedule\[0\]\.scenario: "
                   r"unknown scenario \"no-such-scenario\"", start=log_mark)
        d.wait_log(r"reload failed, keeping the previous configuration",
                   start=log_mark)
        beta_runs = d.count(r"beta: starting scenario")
        # The old schedule goes on: another beta run starts (a run against
        # the closed endpoint takes a few seconds of retries, and runs of
        # one entry never overlap, so allow for that).
        deadline = time.monotonic() + 20
        while (d.count(r"beta: starting scenario") <= beta_runs and
               time.monotonic() < deadline):
            time.sleep(0.1)
        self.assertIsNone(d.proc.poll())
        self.assertGreater(d.count(r"beta: starting scenario"), beta_runs)
        self.assertEqual(d.count(r"gamma"), 0)
        statuses = [m for _, m in n.snapshot()[mark:]
                    if m.startswith("STATUS=reload failed")]
        self.assertTrue(statuses)

        # SIGTERM: STOPPING=1, then a clean exit 0.
        mark = len(n.snapshot())
        d.signal(signal.SIGTERM)
        n.wait(lambda m: m == "STOPPING=1", start=mark)
        self.assertEqual(d.wait(), 0)
        d.wait_log(r"SIGTERM: stopping")
        stop_at = next(i for i, l in enumerate(d.log()) if "SIGTERM" in l)
        self.assertFalse([l for l in d.log()[stop_at:] if "starting scenario" in l])

    def test_broken_config_at_start(self):
        self.write(BROKEN)
        d = self.daemon = Daemon(self.conf, self.notify.path)
        self.assertEqual(d.wait(), 1)
        d.wait_log(re.escape(self.conf) + r":4: schedule\[0\]\.scenario: "
                   r"unknown scenario")
        d.wait_log(r"cannot start")
        time.sleep(0.2)
        self.assertNotIn("READY=1", [m for _, m in self.notify.snapshot()])

    def test_sigint_without_watchdog(self):
        self.write(ALPHA)
        d = self.daemon = Daemon(self.conf, self.notify.path)
        self.notify.wait(lambda m: m == "READY=1")
        time.sleep(0.6)
        self.assertNotIn("WATCHDOG=1",
                         [m for _, m in self.notify.snapshot()])
        d.signal(signal.SIGINT)
        self.notify.wait(lambda m: m == "STOPPING=1")
        self.assertEqual(d.wait(), 0)

    def test_configuration_directory_default(self):
        # Under systemd, ConfigurationDirectory= sets the default path.
        self.write(ALPHA)
        env = clean_env(CONFIGURATION_DIRECTORY=self.dir)
        p = subprocess.run([CLOUDSAGAD, "-n"], env=env, capture_output=True,
                           text=True, timeout=30)
        # ALPHA runs every second, its lookups start after 5: -n says so.
        self.assertEqual((p.returncode, p.stdout, p.stderr),
                         (0, "configuration OK\n", self.conf + ":5: warning: "
                          "schedule[0].every: the period (1s) is not longer "
                          "than verify.initial_delay (5s): a run is still "
                          "waiting for its first lookup when the next comes "
                          "due, so runs are skipped every time\n"))
        env = clean_env(CONFIGURATION_DIRECTORY=os.path.join(self.dir, "no"))
        p = subprocess.run([CLOUDSAGAD, "-n"], env=env, capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 1)
        self.assertIn(os.path.join(self.dir, "no", "cloudsagad.conf") +
                      ": No such file or directory", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
