"""No overlapping runs after a restart: a run resumed from the state (its
expectations still pending) keeps its schedule entry busy, so the entry does
not start again until the resumed run's verdicts and summary are reported.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, clean_env, state_query, state_rows
from journald import Journald

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "12s"; };
coverage = { eventbridge = false; };
schedule = ( { name = "nc"; scenario = "network-changes"; every = "3s"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""


class ResumeBusy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journald = Journald()

    @classmethod
    def tearDownClass(cls):
        cls.journald.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-resume.")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, sb):
        return subprocess.Popen([CLOUDSAGAD, "-c", self.conf],
                                env=clean_env(AWS_ENDPOINT_URL=sb.url),
                                stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)

    def test_resumed_run_keeps_its_entry_busy(self):
        self.conf = os.path.join(self.dir, "c.conf")
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir})
        state = os.path.join(self.dir, "state")
        # Records show up 8 s after the calls: the first run stays pending.
        with Sandbox("--delay", "8") as sb:
            p = self.start(sb)
            try:
                deadline = time.monotonic() + 60
                while not state_rows(state):
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.1)
                first = state_rows(state)[0]["run_id"]
                p.send_signal(signal.SIGKILL)
                p.wait()
                # The entry is overdue at once (every 3s) when restarted.
                time.sleep(3.5)
                p = self.start(sb)
                deadline = time.monotonic() + 90
                while True:
                    runs = state_query(state, "SELECT run_id, started, "
                                       "summary_reported FROM runs "
                                       "ORDER BY started")
                    done = [r for r in runs if r[0] == first and r[2]]
                    if done and len(runs) >= 2:
                        break
                    self.assertLess(time.monotonic(), deadline, runs)
                    time.sleep(0.2)
                with open(os.path.join(state, "report.jsonl")) as f:
                    lines = [json.loads(x) for x in f if x.strip()]
                summary = [x for x in lines if x["kind"] == "summary" and
                           x["run_id"] == first]
                self.assertEqual(len(summary), 1)
                # The next run of the entry started only after the
                # resumed run was over (its summary reported).
                started = {r[0]: r[1] for r in runs}
                later = [rid for rid in started if rid != first]
                self.assertTrue(later)
                end_first = max(x["time"] for x in lines
                                if x["run_id"] == first)
                for rid in later:
                    t = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                      time.gmtime(started[rid]))
                    self.assertGreaterEqual(t, end_first[:19] + "Z"
                                            if len(end_first) > 20 else
                                            end_first, (rid, t, end_first))
            finally:
                if p.poll() is None:
                    p.send_signal(signal.SIGTERM)
                    try:
                        p.wait(30)
                    except subprocess.TimeoutExpired:
                        p.kill()
                        p.wait()


if __name__ == "__main__":
    unittest.main(verbosity=2)
