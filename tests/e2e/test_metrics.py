"""Prometheus metrics (daemon.metrics_file) from the real daemon.

The daemon runs network-changes against the sandbox with metrics_file set;
the file is parsed with a real exposition-format parser (the Python
client's, Debian's python3-prometheus-client) and checked against the
report file and the state database: verdict counts per label set, runs per
result, pending expectations, the last (clean) run's time, the delivery
latency histogram, LookupEvents requests against what the sandbox served.
A restart never makes a counter go back; LookupEvents throttles are
counted; the file is replaced atomically (mode 0644, no temporary file
left).  `promtool check metrics` runs too when promtool is installed
(optional: the prometheus package is large).
"""
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest

from harness import (CLOUDSAGAD, SRC, Sandbox, clean_env, state_query,
                     state_rows)

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    # Debian's python3-prometheus-client (scripts/deps) is pure Python and
    # lives beside the system Python, not in the one that has moto.
    sys.path.append("/usr/lib/python3/dist-packages")
    from prometheus_client.parser import text_string_to_metric_families

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl";
           %(metrics)s };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "%(deadline)s"; };
coverage = { eventbridge = false; };
schedule = ( { name = "nc"; scenario = "network-changes"; every = "10s"; jitter = "0s"; regions = [ "us-east-1" ]; } );
"""

TECHNIQUES = ("T1578.005", "T1562.007", "T1535")   # network-changes' mitre
TYPES = {
    "cloudsagad_verdicts": "counter",
    "cloudsagad_technique_verdicts": "counter",
    "cloudsagad_runs": "counter",
    "cloudsagad_could_not_test_runs": "counter",
    "cloudsagad_pending_expectations": "gauge",
    "cloudsagad_last_run_timestamp_seconds": "gauge",
    "cloudsagad_last_clean_run_timestamp_seconds": "gauge",
    "cloudsagad_schedule_interval_seconds": "gauge",
    "cloudsagad_cloudtrail_delivery_latency_seconds": "histogram",
    "cloudsagad_lookup_events_requests": "counter",
    "cloudsagad_lookup_events_throttles": "counter",
}


def iso(t):
    return time.mktime(time.strptime(t, "%Y-%m-%dT%H:%M:%SZ")) - \
        time.mktime(time.gmtime(0))


def parse(text):
    """{family: (type, {(sample name, frozenset(labels)): value})}"""
    out = {}
    for fam in text_string_to_metric_families(text):
        samples = {}
        for s in fam.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, "duplicate sample %r" % (key,)
            samples[key] = s.value
        out[fam.name] = (fam.type, samples)
    return out


def nonzero(d):
    return {k: v for k, v in d.items() if v != 0}


def values(m, family, sample=None):
    """{sorted label tuple: value} of one family's samples named sample
    (default: the family's name)."""
    _, samples = m.get(family, (None, {}))
    sample = sample or family
    return {tuple(sorted(dict(k[1]).items())): v
            for k, v in samples.items() if k[0] == sample}


class Metrics(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cloudsagad-metrics.")
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        self.state = os.path.join(self.dir, "state")
        self.report = os.path.join(self.state, "report.jsonl")
        self.textdir = os.path.join(self.dir, "textfile")
        self.prom = os.path.join(self.textdir, "cloudsagad.prom")
        os.makedirs(self.textdir)
        self.proc = None

    def tearDown(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_conf(self, deadline="4s", metrics=None):
        if metrics is None:
            metrics = self.prom
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir, "deadline": deadline,
                            "metrics": 'metrics_file = "%s";' % metrics
                            if metrics else ""})

    def start(self, sb, deadline="4s", metrics=None):
        self.write_conf(deadline, metrics)
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [CLOUDSAGAD, "-d", "-c", self.conf],
            env=clean_env(AWS_ENDPOINT_URL=sb.url),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.assertEqual(self.proc.wait(30), 0)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.fail("the daemon did not stop on SIGTERM")
            finally:
                self.err.close()
        self.proc = None

    def lines(self):
        if not os.path.exists(self.report):
            return []
        with open(self.report) as f:
            return [json.loads(x) for x in f if x.strip()]

    def wait_for(self, what, pred, timeout=120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = pred()
            if got:
                return got
            if self.proc is not None and self.proc.poll() is not None:
                self.err.seek(0)
                self.fail("daemon exited: " + self.err.read()[-2000:])
            time.sleep(0.2)
        self.fail("timed out waiting for " + what)

    def metrics(self):
        with open(self.prom) as f:
            text = f.read()
        m = parse(text)
        # Every family announced with HELP and TYPE, of the right type.
        for fam, typ in TYPES.items():
            self.assertIn(fam, m, text)
            self.assertEqual(m[fam][0], typ, fam)
            self.assertIn("# HELP %s" % (fam if typ != "counter" else
                                         fam + "_total"), text)
        return m

    def summaries(self):
        return [x for x in self.lines() if x["kind"] == "summary"]

    def check_against_report(self, m):
        lines = self.lines()
        verdicts = [x for x in lines if x["kind"] == "verdict"]
        sums = [x for x in lines if x["kind"] == "summary"]
        rows = {(r["run_id"], r["idx"]): r for r in state_rows(self.state)}
        self.assertTrue(verdicts)

        # Verdicts per (scenario, region, account, verdict, role).
        want = {}
        for v in verdicts:
            idx = int(v["report_id"].rsplit("-", 1)[1])
            role = rows[(v["run_id"], idx)]["role"]
            self.assertEqual(role, v["role"])
            k = tuple(sorted({"scenario": v["scenario"], "region":
                              v["region"], "account": v["account"],
                              "verdict": v["verdict"],
                              "role": role}.items()))
            want[k] = want.get(k, 0) + 1
        got = values(m, "cloudsagad_verdicts", "cloudsagad_verdicts_total")
        self.assertEqual(nonzero(got), want)
        # Each label set has all three verdicts' series (0 until one
        # happens, so that increase() sees a first gap).
        for k in want:
            for vd in ("logged", "missing", "unverified"):
                kk = tuple(sorted(dict(k, verdict=vd).items()))
                self.assertIn(kk, got)
        self.assertEqual(set(got), {
            tuple(sorted(dict(k, verdict=vd).items())) for k in want
            for vd in ("logged", "missing", "unverified")})
        per_verdict = {}
        for v in verdicts:
            per_verdict[v["verdict"]] = per_verdict.get(v["verdict"], 0) + 1
        tech = values(m, "cloudsagad_technique_verdicts",
                      "cloudsagad_technique_verdicts_total")
        self.assertEqual(tech, {
            (("technique", t), ("verdict", vd)): per_verdict.get(vd, 0)
            for t in TECHNIQUES for vd in ("logged", "missing",
                                           "unverified")})

        # Runs per result, could-not-test, last (clean) run.
        want = {}
        for s in sums:
            r = ("halted" if s["halted"] else "gap" if s["missing"] else
                 "could_not_test" if s["could_not_test"] else
                 "unverified" if s["unverified"] else "clean")
            k = (("entry", "nc"), ("result", r))
            want[k] = want.get(k, 0) + 1
        got = values(m, "cloudsagad_runs", "cloudsagad_runs_total")
        self.assertEqual(nonzero(got), want)
        self.assertEqual(set(got), {(("entry", "nc"), ("result", r)) for r in
                                    ("clean", "gap", "could_not_test",
                                     "unverified", "halted")})
        self.assertEqual(values(m, "cloudsagad_could_not_test_runs",
                                "cloudsagad_could_not_test_runs_total"),
                         {(("entry", "nc"),): 0})
        self.assertEqual(values(m, "cloudsagad_schedule_interval_seconds"),
                         {(("entry", "nc"),): 10})
        last = values(m, "cloudsagad_last_run_timestamp_seconds")
        self.assertEqual(list(last), [(("entry", "nc"),)])
        self.assertLess(abs(last[(("entry", "nc"),)] -
                            max(iso(s["started"]) for s in sums)), 1.0)
        clean = [iso(s["started"]) for s in sums
                 if not s["missing"] and not s["unverified"] and
                 not s["could_not_test"] and not s["halted"]]
        lc = values(m, "cloudsagad_last_clean_run_timestamp_seconds")
        if clean:
            self.assertLess(abs(lc[(("entry", "nc"),)] - max(clean)), 1.0)
        else:
            self.assertEqual(lc, {})

        # The delivery latency of the logged verdicts.
        fam = "cloudsagad_cloudtrail_delivery_latency_seconds"
        logged = [v["latency_s"] for v in verdicts
                  if v["verdict"] == "logged"]
        b = values(m, fam, fam + "_bucket")
        les = sorted(b, key=lambda k: float(dict(k)["le"]))
        counts = [b[k] for k in les]
        self.assertEqual(counts, sorted(counts))        # cumulative
        self.assertEqual([float(dict(k)["le"]) for k in les],
                         [30, 60, 120, 300, 600, 900, 1800, float("inf")])
        for k in les:
            le = float(dict(k)["le"])
            self.assertEqual(b[k], len([x for x in logged if x <= le]), k)
        self.assertEqual(values(m, fam, fam + "_count")[()], len(logged))
        self.assertAlmostEqual(values(m, fam, fam + "_sum")[()],
                               sum(logged), delta=0.001 * len(logged) + 1e-6)

        # Pending, as the state database has it.
        self.assertEqual(values(m, "cloudsagad_pending_expectations")[()],
                         state_query(self.state, "SELECT count(*) FROM "
                                     "expectations WHERE verdict = "
                                     "'pending'")[0][0])
        return want

    def test_metrics_match_report_and_survive_restart(self):
        with Sandbox("--delay", "1:2", "--lookup-tps", "0") as sb:
            self.start(sb)
            # A clean run first, then logging gaps.
            self.wait_for("a clean run", lambda: [
                s for s in self.summaries() if not s["missing"] and
                not s["unverified"] and not s["could_not_test"]])
            sb.admin("config", {"drop": ["CreateVpc"]})
            self.wait_for("a run with a gap", lambda: [
                s for s in self.summaries() if s["missing"]])
            # While it runs: the file parses and counts what is reported.
            self.wait_for("the metrics file", lambda: os.path.exists(
                self.prom))
            m = self.metrics()
            runs = sum(values(m, "cloudsagad_runs",
                              "cloudsagad_runs_total").values())
            self.assertGreaterEqual(runs, 1)
            self.stop()

            # Stopped: the last write is from the final state.
            m = self.metrics()
            self.check_against_report(m)
            st = os.stat(self.prom)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o644)
            self.assertEqual(os.listdir(self.textdir), ["cloudsagad.prom"])
            lk = values(m, "cloudsagad_lookup_events_requests",
                        "cloudsagad_lookup_events_requests_total")
            served = sb.admin("stats")["lookup_events"]
            self.assertEqual(list(lk), [(("account", "default"),
                                         ("region", "us-east-1"))])
            # No throttling (--lookup-tps 0): one request, one call.
            self.assertEqual(lk[(("account", "default"),
                                 ("region", "us-east-1"))],
                             sum(x["calls"] for x in served.values()))
            self.assertEqual(values(m, "cloudsagad_lookup_events_throttles",
                                    "cloudsagad_lookup_events_throttles_"
                                    "total"), {list(lk)[0]: 0})
            self.promtool()

            # Restart: nothing goes back, and it goes on counting.
            before = {(f, k): v for f, (_, s) in m.items()
                      for k, v in s.items()}
            os.unlink(self.prom)
            self.start(sb)
            self.wait_for("the metrics file after the restart",
                          lambda: os.path.exists(self.prom))
            n = len(self.summaries())
            self.wait_for("a run after the restart",
                          lambda: len(self.summaries()) > n)
            self.wait_for("the run in the metrics", lambda: sum(
                values(self.metrics(), "cloudsagad_runs",
                       "cloudsagad_runs_total").values()) > runs)
            after = self.metrics()
            now = {(f, k): v for f, (_, s) in after.items()
                   for k, v in s.items()}
            for key, v in before.items():
                if key[0] == "cloudsagad_pending_expectations":
                    continue
                self.assertIn(key, now)
                self.assertGreaterEqual(now[key], v, key)
            self.stop()
            self.check_against_report(self.metrics())

    def test_reload_sets_and_moves_the_file(self):
        """metrics_file set by a reload counts what was reported before;
        a directory that is not there is said once, the daemon goes on."""
        with Sandbox("--delay", "1:2") as sb:
            self.start(sb, metrics="")
            self.wait_for("a summary", self.summaries)
            self.assertFalse(os.path.exists(self.prom))
            self.write_conf()
            self.proc.send_signal(signal.SIGHUP)
            self.wait_for("the metrics file after the reload",
                          lambda: os.path.exists(self.prom))
            n = len(self.summaries())
            self.wait_for("every run so far in the file", lambda: sum(
                values(self.metrics(), "cloudsagad_runs",
                       "cloudsagad_runs_total").values()) >= n)
            gone = os.path.join(self.dir, "nowhere", "cloudsagad.prom")
            self.write_conf(metrics=gone)
            self.proc.send_signal(signal.SIGHUP)
            self.wait_for("a run after the second reload",
                          lambda: len(self.summaries()) > n + 1)

            def warned():
                self.err.seek(0)
                return [ln for ln in self.err.read().splitlines()
                        if "metrics file %s" % gone in ln]
            self.assertEqual(len(self.wait_for("the warning", warned)), 1)
            self.stop()
            self.assertFalse(os.path.exists(os.path.dirname(gone)))
            self.assertEqual(os.listdir(self.textdir), ["cloudsagad.prom"])

    def test_kill9_counts_once(self):
        """kill -9 while a run verifies: after the restart every verdict
        and run is counted exactly once, as the report has it."""
        with Sandbox("--delay", "1:2", "--drop", "CreateVpc") as sb:
            self.start(sb)
            self.wait_for("a summary", self.summaries)
            self.wait_for("verdicts of the next run", lambda: len(
                [x for x in self.lines() if x["kind"] == "verdict"]) >
                len([x for x in self.lines() if x["kind"] == "verdict" and
                     x["run_id"] in {s["run_id"] for s in
                                     self.summaries()}]))
            self.proc.kill()
            self.proc.wait()
            self.err.close()
            self.proc = None
            n = len(self.summaries())
            self.start(sb)
            self.wait_for("two more runs", lambda: len(self.summaries()) >=
                          n + 2)
            self.stop()
            self.check_against_report(self.metrics())

    def test_lookup_throttles(self):
        with Sandbox("--fault", "cloudtrail:throttle:1") as sb:
            self.start(sb, deadline="3s")
            self.wait_for("a summary", self.summaries)
            self.stop()
            m = self.metrics()
            key = (("account", "default"), ("region", "us-east-1"))
            req = values(m, "cloudsagad_lookup_events_requests",
                         "cloudsagad_lookup_events_requests_total")
            thr = values(m, "cloudsagad_lookup_events_throttles",
                         "cloudsagad_lookup_events_throttles_total")
            self.assertGreater(req[key], 0)
            self.assertEqual(thr[key], req[key])
            # Every verdict unverified: never reported missing.
            self.check_against_report(m)
            self.assertEqual({dict(k)["verdict"] for k in nonzero(values(
                m, "cloudsagad_verdicts", "cloudsagad_verdicts_total"))},
                {"unverified"})

    def test_check_warns_without_prom_suffix(self):
        """-n: a name the textfile collector would skip is a warning."""
        with open(self.conf, "w") as f:
            f.write('daemon = { state_dir = "%s/state";\n'
                    '  metrics_file = "cloudsagad.txt"; };\n' % self.dir)
        p = subprocess.run([CLOUDSAGAD, "-n", "-c", self.conf],
                           capture_output=True, text=True, env=clean_env(),
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "configuration OK\n")
        self.assertEqual(p.stderr, "%s:2: warning: daemon.metrics_file "
                         "\"%s/state/cloudsagad.txt\" does not end in "
                         "\".prom\": node_exporter's textfile collector "
                         "skips it\n" % (self.conf, self.dir))

    def test_readme_alert_rules(self):
        """The README's two example rules, through promtool's rule unit
        tests: the gap alert fires after a missing verdict and resolves,
        the no-clean-run alert fires for a stale entry and for one that
        never had a clean run."""
        tool = os.environ.get("PROMTOOL") or shutil.which("promtool")
        if tool is None:
            self.skipTest("promtool not installed (optional: the "
                          "prometheus package is large)")
        with open(os.path.join(SRC, "README.md")) as f:
            readme = f.read()
        rules = re.findall(r"```yaml\n(.*?)```", readme, re.S)
        self.assertEqual(len(rules), 1)
        with open(os.path.join(self.dir, "rules.yml"), "w") as f:
            f.write(rules[0])
        shutil.copy(os.path.join(SRC, "tests", "data", "metrics",
                                 "readme_rules_test.yml"), self.dir)
        p = subprocess.run([tool, "test", "rules", "readme_rules_test.yml"],
                           cwd=self.dir, capture_output=True, text=True,
                           timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("SUCCESS", p.stdout)

    def promtool(self):
        """promtool's own linter, when the prometheus package is there."""
        tool = os.environ.get("PROMTOOL") or shutil.which("promtool")
        if tool is None:
            print("promtool not installed: its check skipped")
            return
        with open(self.prom, "rb") as f:
            p = subprocess.run([tool, "check", "metrics"], stdin=f,
                               capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout.strip() + p.stderr.strip(), "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
