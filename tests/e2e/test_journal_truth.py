"""Verdicts you can page on, through the daemon: the real cloudsagad as a
service would run it (journal, notify socket, state directory) against an
adversarial sandbox, read back from a real systemd-journald.

  - a decoy (the record of a throttled attempt of the same call) never makes
    a real gap `logged`: the journal holds a logging gap at warning;
  - refused-before-handling answers are never expectations: no verdict for
    those calls, a could-not-test record at warning (its MESSAGE_ID), and
    STATUS= says so;
  - LookupEvents answers without Events never make `missing`;
  - a broken deployment (nothing at the endpoint) is a warning-level
    could-not-test record, not a quiet notice;
  - a safe-fail CreateUser that would create the user: the daemon refuses
    the configuration and sends nothing.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, clean_env, free_port
from journald import Journald, records, wait_records

MSGID_MISSING = "9997f1a77c534c2d99ffbad67e9dfeee"
MSGID_LOGGED = "121fd4057c964ff68b7a8f51d7e25376"
MSGID_UNCOVERED = "3f9a4d952275426e9ae1f114f1288c50"
MSGID_UNVERIFIED = "b628b917cbc44c9cb97a3ae9251c73d1"
MSGID_COULD_NOT_TEST = "382821c816d44cdca671c98ae9c73693"

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "%(deadline)s"; };
coverage = { eventbridge = false; };
schedule = ( { scenario = "network-changes"; every = "1h"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""


class Notify:
    """A NOTIFY_SOCKET of our own: every STATUS= the daemon sends."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.status = []
        self.stopped = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stopped:
            try:
                msg = self.sock.recv(65536).decode()
            except socket.timeout:
                continue
            except OSError:
                return
            for line in msg.split("\n"):
                if line.startswith("STATUS="):
                    self.status.append(line[7:])

    def close(self):
        self.stopped = True
        self.t.join(2)
        self.sock.close()


class DaemonTruth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journald = Journald()

    @classmethod
    def tearDownClass(cls):
        cls.journald.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-truth.")
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        self.report = os.path.join(self.dir, "state", "report.jsonl")
        self.procs = []
        self.notify = Notify(os.path.join(self.dir, "notify"))

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.notify.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, url, deadline="6s", text=None):
        with open(self.conf, "w") as f:
            f.write(text if text is not None else
                    CONF % {"dir": self.dir, "deadline": deadline})
        env = clean_env(AWS_ENDPOINT_URL=url,
                        NOTIFY_SOCKET=self.notify.path)
        self.err = tempfile.TemporaryFile(mode="w+")
        p = subprocess.Popen([CLOUDSAGAD, "-c", self.conf], env=env,
                             stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=self.err)
        self.procs.append(p)
        return p

    def lines(self):
        if not os.path.exists(self.report):
            return []
        with open(self.report) as f:
            return [json.loads(x) for x in f if x.strip()]

    def wait_summary(self, proc, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ls = self.lines()
            s = [x for x in ls if x["kind"] == "summary"]
            if s:
                return s[0], ls
            if proc.poll() is not None:
                self.err.seek(0)
                self.fail("daemon exited: " + self.err.read()[-3000:])
            time.sleep(0.3)
        self.fail("no run summary; report:\n" + json.dumps(self.lines()))

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        return proc.wait(30)

    def test_decoy_is_a_gap(self):
        with Sandbox("--fault", "ec2/DescribeInstances:throttle:1x",
                     "--drop", "DescribeInstances:ok") as sb:
            proc = self.start(sb.url)
            summ, ls = self.wait_summary(proc)
            run = summ["run_id"]
            gap = wait_records("CLOUDSAGA_RUN_ID=" + run,
                               "MESSAGE_ID=" + MSGID_MISSING)
            self.assertEqual([g["CLOUDSAGA_EVENT_NAME"] for g in gap],
                             ["DescribeInstances"])
            self.assertEqual(gap[0]["PRIORITY"], "4")
            logged = records("CLOUDSAGA_RUN_ID=" + run,
                             "CLOUDSAGA_VERDICT=logged")
            self.assertNotIn("DescribeInstances",
                             [r["CLOUDSAGA_EVENT_NAME"] for r in logged])
            self.assertIn("CreateVpc",
                          [r["CLOUDSAGA_EVENT_NAME"] for r in logged])
            # The decoy is in CloudTrail: same name, its own request ID.
            evs = sb.admin("events?eventName=DescribeInstances")["events"]
            self.assertTrue([e for e in evs if e["record"].get("errorCode")
                             and e["visible"] and not e["dropped"]])
            self.assertEqual(self.stop(proc), 0)

    def test_refusals_are_could_not_test(self):
        with Sandbox("--fault", "ec2/CreateVpc:authfailure:9x") as sb:
            proc = self.start(sb.url)
            summ, ls = self.wait_summary(proc)
            run = summ["run_id"]
            self.assertTrue(summ["could_not_test"])
            self.assertFalse([x for x in ls if x["kind"] == "verdict" and
                              x["event_name"] == "CreateVpc"])
            cnt = wait_records("CLOUDSAGA_RUN_ID=" + run,
                               "MESSAGE_ID=" + MSGID_COULD_NOT_TEST)
            self.assertEqual(len(cnt), 1, cnt)
            self.assertEqual(cnt[0]["PRIORITY"], "4")
            self.assertEqual(cnt[0]["CLOUDSAGA_FAILED_CALLS"], "1")
            self.assertIn("AuthFailure", cnt[0]["CLOUDSAGA_ERROR_CODES"])
            self.assertIn("credentials", cnt[0]["CLOUDSAGA_HINT"])
            self.assertFalse(records("CLOUDSAGA_RUN_ID=" + run,
                                     "MESSAGE_ID=" + MSGID_MISSING))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not any(
                    "could not test" in s for s in self.notify.status):
                time.sleep(0.2)
            self.assertTrue(any("1 runs could not test" in s
                                for s in self.notify.status),
                            self.notify.status)
            self.assertEqual(self.stop(proc), 0)

    def test_lookups_without_events_never_missing(self):
        with Sandbox("--fault", "cloudtrail/LookupEvents:noevents:1",
                     "--drop", "CreateVpc") as sb:
            proc = self.start(sb.url, deadline="4s")
            summ, ls = self.wait_summary(proc)
            run = summ["run_id"]
            self.assertEqual(summ["missing"], 0)
            self.assertEqual(summ["unverified"], summ["expected"])
            self.assertFalse(records("CLOUDSAGA_RUN_ID=" + run,
                                     "MESSAGE_ID=" + MSGID_MISSING))
            unv = wait_records("CLOUDSAGA_RUN_ID=" + run,
                               "MESSAGE_ID=" + MSGID_UNVERIFIED,
                               count=summ["expected"])
            self.assertEqual(len(unv), summ["expected"])
            self.assertIn("Events", unv[0]["CLOUDSAGA_REASON"])
            self.assertEqual(self.stop(proc), 0)

    def test_broken_deployment_is_a_warning(self):
        url = "http://127.0.0.1:%d" % free_port()
        proc = self.start(url, deadline="10m")
        summ, ls = self.wait_summary(proc, timeout=120)
        self.assertTrue(summ["could_not_test"])
        self.assertEqual(summ["expected"], 0)
        cnt = wait_records("CLOUDSAGA_RUN_ID=" + summ["run_id"],
                           "MESSAGE_ID=" + MSGID_COULD_NOT_TEST)
        self.assertEqual(len(cnt), 1)
        self.assertIn("HttpConnectError", cnt[0]["CLOUDSAGA_ERROR_CODES"])
        # journalctl -p warning shows it.
        p = subprocess.run(["journalctl", "--no-pager", "-p", "warning",
                            "-o", "json", "SYSLOG_IDENTIFIER=cloudsagad"],
                           capture_output=True, text=True, timeout=60)
        ids = [json.loads(x).get("MESSAGE_ID") for x in
               p.stdout.splitlines() if x]
        self.assertIn(MSGID_COULD_NOT_TEST, ids)
        self.assertEqual(self.stop(proc), 0)

    def test_safe_fail_create_user_refused(self):
        with Sandbox() as sb:
            text = (CONF % {"dir": self.dir, "deadline": "5s"}).replace(
                '"network-changes"', '"mkuser"') + """
scenarios = ( { name = "mkuser"; summary = "x";
  steps = ( { service = "iam"; action = "CreateUser";
    params = { UserName = "cloudsaga-{run_id}"; };
    safety = "safe-fail"; expect_error = "NoSuchEntity"; } ); } );
"""
            proc = self.start(sb.url, text=text)
            rc = proc.wait(30)
            self.assertNotEqual(rc, 0)
            # Said where a service says things: the journal.
            self.err.seek(0)
            said = self.err.read() + json.dumps(
                wait_records("SYSLOG_IDENTIFIER=cloudsagad", count=2))
            self.assertIn("has the run ID in UserName", said)
            self.assertIn("PermissionsBoundary", said)
            self.assertEqual(sb.admin("stats")["requests_total"], 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
