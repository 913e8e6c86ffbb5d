"""Report rotation: logrotate renames report.jsonl and sends SIGHUP (the
packaged snippet); the daemon reopens the file.  Rotated again and again
while runs are reported, no line is lost and none is written twice: the
rotated files and the live one together hold every report item of the
state database exactly once.
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import CLOUDSAGAD, Sandbox, clean_env, state_query
from journald import Journald

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "3s"; };
coverage = { eventbridge = false; };
schedule = ( { name = "nc"; scenario = "network-changes"; every = "4s"; jitter = "0s"; regions = [ "us-east-1", "eu-west-1" ]; } );
"""


class Rotate(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.journald = Journald()

    @classmethod
    def tearDownClass(cls):
        cls.journald.stop()

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-rotate.")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_rotation_loses_nothing(self):
        conf = os.path.join(self.dir, "c.conf")
        with open(conf, "w") as f:
            f.write(CONF % {"dir": self.dir})
        report = os.path.join(self.dir, "state", "report.jsonl")
        with Sandbox("--delay", "0:1") as sb:
            proc = subprocess.Popen([CLOUDSAGAD, "-c", conf],
                                    env=clean_env(AWS_ENDPOINT_URL=sb.url),
                                    stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            try:
                rotated = []
                deadline = time.monotonic() + 120
                while len(rotated) < 6:
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(1.5)
                    if not os.path.exists(report) or \
                            os.path.getsize(report) == 0:
                        continue
                    # As logrotate does: rename, then SIGHUP.
                    dst = "%s.%d" % (report, len(rotated) + 1)
                    os.rename(report, dst)
                    rotated.append(dst)
                    proc.send_signal(signal.SIGHUP)
                time.sleep(8)
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(30), 0)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        seen = []
        for path in rotated + [report]:
            if os.path.exists(path):
                with open(path) as f:
                    seen += [json.loads(x)["report_id"] for x in f
                             if x.strip()]
        self.assertEqual(len(seen), len(set(seen)), "a line twice")
        emitted = {r[0] for r in state_query(
            os.path.join(self.dir, "state"),
            "SELECT report_id FROM outbox WHERE file_done = 1")}
        self.assertTrue(emitted)
        self.assertEqual(emitted - set(seen), set(), "lines lost")
        self.assertGreater(len([p for p in rotated
                                if os.path.getsize(p) > 0]), 3)
        print("rotations %d, lines %d, none lost, none twice"
              % (len(rotated), len(seen)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
