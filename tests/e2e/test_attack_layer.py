"""e2e.attack_layer: cloudsagad --attack-layer, the ATT&CK Navigator layer.

* Golden: the fixed report tests/data/attack/report.jsonl (every score
  class, two accounts, three regions, a could-not-test line, a line older
  than the window, garbage) with tests/data/attack/attack.conf must print
  tests/data/attack/layer.golden.json exactly, and name what it skipped.
* Spec: every layer this file produces is checked against the layer format
  v4.5 property tables (NavigatorSpec below, written from
  layers/spec/v4.5/layerformat.md of mitre-attack/attack-navigator, as of
  the Navigator's v5.1.0 release).
* Rules: --since, standard input, the role of a verdict, halted runs, an
  empty report, the default report file, exit statuses, memory bounded by
  techniques rather than lines.
* End to end: `cloudsagad --scenario cloudtrail-tampering --output json`
  against the sandbox, its stdout as the report: T1562.008 is "logged, no
  alert" (3) without EventBridge rules, "alerted" (4) once a rule with a
  target sees the calls, "logging gap" (1) when the sandbox drops
  StopLogging - and worst first over the three runs together.
"""
import calendar
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest

import boto3

from harness import (CLOUDSAGAD, FAKE_KEY, FAKE_SECRET, SRC, Sandbox,
                     clean_env)

DATA = os.path.join(os.environ.get("CLOUDSAGA_DATA",
                                   os.path.join(SRC, "tests", "data")),
                    "attack")

# Enterprise tactic shortnames (ATT&CK v16), the values "tactic" may take.
TACTICS = {"reconnaissance", "resource-development", "initial-access",
           "execution", "persistence", "privilege-escalation",
           "defense-evasion", "credential-access", "discovery",
           "lateral-movement", "collection", "command-and-control",
           "exfiltration", "impact"}


class NavigatorSpec:
    """The ATT&CK Navigator layer file format, version 4.5: each object's
    properties (name -> (check, required)).  Properties outside the tables
    are errors here: the layer must use the format's own names."""

    def __init__(self):
        self.errors = []

    def err(self, where, msg):
        self.errors.append("%s: %s" % (where, msg))

    @staticmethod
    def is_str(v):
        return isinstance(v, str)

    @staticmethod
    def is_bool(v):
        return isinstance(v, bool)

    @staticmethod
    def is_num(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    @staticmethod
    def is_color(v):
        return isinstance(v, str) and re.fullmatch(r"#[0-9a-fA-F]{6}", v)

    def check_obj(self, where, obj, table):
        if not isinstance(obj, dict):
            self.err(where, "not an object")
            return
        for k, v in obj.items():
            if k not in table:
                self.err(where, "property %r is not in the format" % k)
                continue
            if not table[k][0](where + "." + k, v):
                self.err(where + "." + k, "bad value %r" % (v,))
        for k, (_, required) in table.items():
            if required and k not in obj:
                self.err(where, "required property %r is missing" % k)

    def array_of(self, table_or_check, dividers=False):
        def check(where, v):
            if not isinstance(v, list):
                return False
            for i, x in enumerate(v):
                w = "%s[%d]" % (where, i)
                if dividers and isinstance(x, dict) and "divider" in x:
                    self.check_obj(w, x, {"divider": (self.val(
                        self.is_bool), True)})
                elif isinstance(table_or_check, dict):
                    self.check_obj(w, x, table_or_check)
                elif not table_or_check(x):
                    self.err(w, "bad element %r" % (x,))
            return True
        return check

    def obj(self, table):
        def check(where, v):
            self.check_obj(where, v, table)
            return True
        return check

    @staticmethod
    def val(pred):
        return lambda where, v: bool(pred(v))

    def check(self, layer):
        s = self.val(self.is_str)
        b = self.val(self.is_bool)
        n = self.val(self.is_num)
        color = self.val(self.is_color)

        def navigator(v):
            m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", v or "")
            return m and tuple(map(int, m.groups())) >= (4, 9, 0)

        versions = {"attack": (s, False),
                    "navigator": (self.val(lambda v: self.is_str(v) and
                                           navigator(v)), True),
                    "layer": (self.val(lambda v: v == "4.5"), True)}
        metadata = {"name": (s, True), "value": (s, True)}
        links = {"label": (s, True),
                 "url": (self.val(lambda v: self.is_str(v) and re.match(
                     r"[a-z]+://", v)), True)}
        technique = {
            "techniqueID": (self.val(lambda v: self.is_str(v) and
                                     re.fullmatch(r"T\d{4}(\.\d{3})?", v)),
                            True),
            "tactic": (self.val(lambda v: v in TACTICS), False),
            "comment": (s, False),
            "enabled": (b, False),
            "score": (n, False),
            "color": (color, False),
            "metadata": (self.array_of(metadata, dividers=True), False),
            "links": (self.array_of(links, dividers=True), False),
            "showSubtechniques": (b, False),
        }
        gradient = {
            "colors": (self.val(lambda v: isinstance(v, list) and
                                len(v) >= 2 and all(map(self.is_color, v))),
                       True),
            "minValue": (n, True),
            "maxValue": (n, True),
        }
        legend = {"label": (s, True), "color": (color, True)}
        layout = {
            "layout": (self.val(lambda v: v in ("side", "flat", "mini")),
                       False),
            "showID": (b, False), "showName": (b, False),
            "showAggregateScores": (b, False), "countUnscored": (b, False),
            "aggregateFunction": (self.val(lambda v: v in (
                "average", "min", "max", "sum")), False),
            "expandedSubtechniques": (self.val(lambda v: v in (
                "none", "all", "annotated")), False),
        }
        top = {
            "versions": (self.obj(versions), False),
            "name": (s, True),
            "description": (s, False),
            "domain": (self.val(lambda v: v in (
                "enterprise-attack", "mobile-attack", "ics-attack")), True),
            "customDataURL": (s, False),
            "filters": (self.obj({"platforms": (self.array_of(
                self.is_str), False)}), False),
            "sorting": (self.val(lambda v: v in (0, 1, 2, 3) and
                                 self.is_num(v)), False),
            "layout": (self.obj(layout), False),
            "hideDisabled": (b, False),
            "techniques": (self.array_of(technique), False),
            "gradient": (self.obj(gradient), False),
            "legendItems": (self.array_of(legend), False),
            "showTacticRowBackground": (b, False),
            "tacticRowBackground": (color, False),
            "selectTechniquesAcrossTactics": (b, False),
            "selectSubtechniquesWithParent": (b, False),
            "selectVisibleTechniques": (b, False),
            "metadata": (self.array_of(metadata, dividers=True), False),
            "links": (self.array_of(links, dividers=True), False),
        }
        self.check_obj("layer", layer, top)
        g = layer.get("gradient") or {}
        if self.is_num(g.get("minValue")) and self.is_num(g.get("maxValue")) \
                and not g["maxValue"] > g["minValue"]:
            self.err("layer.gradient", "maxValue must be > minValue")
        return self.errors


def run_layer(*args, cwd=None, env=None, stdin=None, timeout=120):
    p = subprocess.run([CLOUDSAGAD, "--attack-layer"] + [str(a) for a in
                                                          args],
                       cwd=cwd, env=env or clean_env(), input=stdin,
                       capture_output=True, text=True, timeout=timeout)
    return p


def techniques(layer):
    return {(t["techniqueID"], t.get("tactic")): t
            for t in layer["techniques"]}


def meta(t):
    return {m["name"]: m["value"] for m in t.get("metadata", [])}


def version():
    out = subprocess.run([CLOUDSAGAD, "--version"], capture_output=True,
                         text=True, check=True).stdout.strip()
    return out   # "cloudsagad 0.1.0"


def verdict(t, scen, verdict, region="us-east-1", account="prod",
            run="0" * 32, **extra):
    o = {"kind": "verdict", "time": t, "run_id": run, "scenario": scen,
         "account": account, "region": region, "verdict": verdict}
    o.update(extra)
    return json.dumps(o)


def summary(t, scen, account="prod", run="0" * 32, **extra):
    o = {"kind": "summary", "time": t, "run_id": run, "scenario": scen,
         "account": account, "halted": False, "could_not_test": False}
    o.update(extra)
    return json.dumps(o)


class Base(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        # A configuration of its own: the machine's default one never
        # leaks into these tests.
        self.conf = os.path.join(self.tmp.name, "empty.conf")
        with open(self.conf, "w") as f:
            f.write("daemon = { state_dir = \"%s\"; };\n" % self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, lines):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in lines))
        return path

    def layer_ok(self, p):
        self.assertEqual(p.returncode, 0, p.stderr)
        layer = json.loads(p.stdout)
        self.assertEqual(NavigatorSpec().check(layer), [])
        return layer


class GoldenTest(Base):
    def test_golden(self):
        p = run_layer("-c", "attack.conf", "--report", "report.jsonl",
                      cwd=DATA)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(DATA, "layer.golden.json")) as f:
            golden = f.read().replace("cloudsagad @VERSION@", version())
        self.assertEqual(p.stdout, golden)
        err = p.stderr.splitlines()
        self.assertIn(
            "cloudsagad: --attack-layer: report.jsonl: skipped lines: 2 "
            "not JSON, 1 of an unknown kind (heartbeat), 1 without a valid "
            "\"time\", 1 of scenarios neither built in nor in the "
            "configuration (retired-scenario)", err)
        # Once the fixture is older than the window (it is since
        # 2026-03-15): said loudly, on stderr only.
        stale = ("cloudsagad: --attack-layer: the newest line of "
                 "report.jsonl is from 2026-03-08T12:00:00Z, more than 7d "
                 "ago: the layer shows the 7d before it")
        if time.time() > calendar.timegm((2026, 3, 15, 12, 0, 1)):
            self.assertIn(stale, err)
            self.assertEqual(len(err), 2, p.stderr)
        else:
            self.assertEqual(len(err), 1, p.stderr)

    def test_golden_classes(self):
        """What the golden file says, class by class (so that a
        regenerated golden cannot quietly change a verdict)."""
        layer = self.layer_ok(run_layer("-c", "attack.conf", "--report",
                                        "report.jsonl", cwd=DATA))
        tech = techniques(layer)
        score = {k[0]: (v["score"], v["color"]) for k, v in tech.items()}
        red, grey, orange, yellow, green = (
            "#ff6666", "#bdbdbd", "#ffa040", "#ffe766", "#8ec843")
        self.assertEqual(score, {
            "T1562.008": (1, red),        # a missing StopLogging
            "T1530": (2, grey),           # could-not-test line
            "T1619": (2, grey),
            "T1578": (2, grey),
            "T1087.004": (2, grey),       # only unverified verdicts
            "T1552": (2, grey),
            "T1552.005": (2, grey),       # no run in the window
            "T1535": (3, orange),         # worst of mining + network
            "T1562.007": (3, orange),
            "T1578.005": (3, orange),
            "T1580": (3.5, yellow),       # custom vpc-sweep, no coverage
            "T1098.001": (3.5, yellow),   # custom key-sweep, "unknown"
            "T1496": (4, green),          # context "uncovered" not counted
            "T1578.002": (4, green),      # the old gap is outside 7d
            # The catalogue's techniques (#11) without a run in the window.
            "T1021.008": (2, grey), "T1059.009": (2, grey),
            "T1098": (2, grey), "T1098.003": (2, grey),
            "T1136.003": (2, grey), "T1485": (2, grey),
            "T1496.004": (2, grey), "T1526": (2, grey),
            "T1537": (2, grey), "T1555.006": (2, grey),
            "T1648": (2, grey), "T1651": (2, grey),
        })
        self.assertEqual(tech[("T1098.001", None)]["score"], 2)
        self.assertIn("no run in the window",
                      tech[("T1098.001", None)]["comment"])
        # Sorted by technique ID; every score's colour in the legend.
        ids = [t["techniqueID"] for t in layer["techniques"]]
        self.assertEqual(ids, sorted(ids))
        self.assertEqual([i["color"] for i in layer["legendItems"]],
                         [red, grey, orange, yellow, green])
        # The tactic named in the custom scenario's mitre string (TA0003).
        self.assertIn(("T1098.001", "persistence"), tech)
        self.assertNotIn("tactic", tech[("T1562.008", None)])
        gap = tech[("T1562.008", None)]
        m = meta(gap)
        self.assertEqual(m["accounts"], "prod, staging")
        self.assertEqual(m["regions"], "ap-southeast-2, eu-west-1, us-east-1")
        self.assertEqual((m["logged"], m["missing"], m["unverified"],
                          m["covered"], m["uncovered"]),
                         ("3", "1", "0", "3", "0"))
        self.assertEqual(m["last run time"], "2026-03-08T09:05:00Z")
        self.assertIn("Last run: %s (cloudtrail-tampering) at "
                      "2026-03-08T09:05:00Z." % m["last run"],
                      gap["comment"])
        self.assertTrue(gap["comment"].startswith(
            "logging gap: 1 call missing from CloudTrail."))
        cnt = meta(tech[("T1530", None)])
        self.assertEqual((cnt["could-not-test reports"],
                          cnt["runs that could not test"]), ("1", "1"))
        # The failure's region counts among the regions.
        self.assertEqual(cnt["regions"], "eu-west-1, us-east-1")
        self.assertEqual(meta(tech[("T1552", None)])["not scheduled"],
                         "ec2-download-user-data, ec2-get-password-data, "
                         "iam-credentials")
        # The window comes from the report, not from the clock.
        self.assertIn("from 2026-03-01T12:00:00Z to 2026-03-08T12:00:00Z "
                      "(the last 7d of the report)", layer["description"])


class RulesTest(Base):
    def test_since(self):
        """--since 30d takes in the old gap of mining-bitcoin; --since 1d
        leaves it without a run."""
        p = run_layer("-c", "attack.conf", "--report", "report.jsonl",
                      "--since", "30d", cwd=DATA)
        tech = techniques(self.layer_ok(p))
        self.assertEqual(tech[("T1496", None)]["score"], 1)
        self.assertEqual(tech[("T1578.002", None)]["score"], 1)
        p = run_layer("-c", "attack.conf", "--report", "report.jsonl",
                      "--since", "1d", cwd=DATA)
        layer = self.layer_ok(p)
        tech = techniques(layer)
        self.assertEqual(tech[("T1496", None)]["score"], 2)
        self.assertIn("no run in the window",
                      tech[("T1496", None)]["comment"])
        # Lines of 2026-03-07T09:00 are out: staging's run alone.
        self.assertEqual(meta(tech[("T1562.008", None)])["accounts"],
                         "staging")
        self.assertEqual(tech[("T1562.008", None)]["score"], 4)
        self.assertIn("from 2026-03-07T12:00:00Z to 2026-03-08T12:00:00Z",
                      layer["description"])

    def test_stdin_and_pipe(self):
        with open(os.path.join(DATA, "report.jsonl")) as f:
            report = f.read()
        ref = run_layer("-c", "attack.conf", "--report", "report.jsonl",
                        cwd=DATA).stdout
        p = run_layer("-c", "attack.conf", "--report", "-", cwd=DATA,
                      stdin=report)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, ref.replace('"value": "report.jsonl"',
                                               '"value": "-"').replace(
            "verdicts of report.jsonl", "verdicts of -"))

    def test_roles_halted_and_tactics(self):
        t = "2026-05-01T10:00:00Z"
        report = self.write("r.jsonl", [
            # mining-bitcoin: only a context call logged -> could not test
            verdict(t, "mining-bitcoin", "logged", role="context",
                    coverage="covered"),
            verdict(t, "mining-bitcoin", "unverified", role="signal"),
            # network-changes: a context "uncovered" does not count, a
            # signal without coverage does -> alerting not checked
            verdict(t, "network-changes", "logged", role="context",
                    coverage="uncovered"),
            verdict(t, "network-changes", "logged", role="signal"),
            # cloudtrail-tampering: alerted, but a run was halted
            verdict(t, "cloudtrail-tampering", "logged", coverage="covered"),
            summary(t, "cloudtrail-tampering", halted=True),
            # public-resources: nothing but a context call
            verdict(t, "public-resources", "logged", role="context",
                    coverage="covered"),
            # imds-reveal: a role nobody knows counts as an attack call
            verdict(t, "imds-reveal", "logged", role="other",
                    coverage="uncovered"),
        ])
        conf = os.path.join(self.tmp.name, "tactics.conf")
        with open(conf, "w") as f:
            f.write('daemon = { state_dir = "%s"; };\n'
                    'scenarios = (\n'
                    ' { name = "s1"; summary = "one"; mitre = [ "T1535 '
                    'TA0005 Unused Regions" ];\n'
                    '   steps = ( { service = "ec2"; action = '
                    '"DescribeVpcs"; } ); },\n'
                    ' { name = "s2"; summary = "two"; mitre = [ "T1535 '
                    'Unused/Unsupported Cloud Regions (TA0040)", '
                    '"T1578.005" ];\n'
                    '   steps = ( { service = "ec2"; action = '
                    '"DescribeVpcs"; } ); }\n'
                    ');\n' % self.tmp.name)
        layer = self.layer_ok(run_layer("-c", conf, "--report", report))
        tech = techniques(layer)
        self.assertEqual(tech[("T1496", None)]["score"], 2)
        self.assertIn("no attack call verified: CloudTrail could not be "
                      "searched for 1 call (context calls were logged)",
                      tech[("T1496", None)]["comment"])
        self.assertEqual(tech[("T1530", None)]["score"], 2)
        self.assertIn("only context calls were logged",
                      tech[("T1530", None)]["comment"])
        self.assertEqual(tech[("T1578.005", None)]["score"], 3.5)
        self.assertEqual(tech[("T1562.008", None)]["score"], 2)
        self.assertIn("halted", tech[("T1562.008", None)]["comment"])
        self.assertEqual(tech[("T1580", None)]["score"], 3)
        # T1535: the built-ins' entry for every tactic, then one per
        # tactic a custom scenario names, in that order (the later entry
        # wins in its tactic in the Navigator).
        order = [(x["techniqueID"], x.get("tactic"))
                 for x in layer["techniques"]
                 if x["techniqueID"] == "T1535"]
        self.assertEqual(order, [("T1535", None),
                                 ("T1535", "defense-evasion"),
                                 ("T1535", "impact")])
        self.assertEqual(meta(tech[("T1535", "impact")])["scenarios"], "s2")
        self.assertEqual(meta(tech[("T1578.005", None)])["scenarios"],
                         "ec2-user-data, network-changes, s2, "
                         "sagemaker-update-lifecycle-config")

    def test_empty_report(self):
        report = self.write("empty.jsonl", [])
        p = run_layer("-c", self.conf, "--report", report)
        layer = self.layer_ok(p)
        self.assertTrue(layer["techniques"])
        self.assertTrue(all(t["score"] == 2 for t in layer["techniques"]))
        self.assertIn("holds no verdict", layer["description"])
        self.assertIn("holds no verdict, summary or could-not-test line",
                      p.stderr)

    def test_default_report_file(self):
        """Without --report: daemon.report_file of -c, and of the default
        configuration ($CONFIGURATION_DIRECTORY under systemd)."""
        t = "2026-05-01T10:00:00Z"
        self.write("report.jsonl", [
            verdict(t, "cloudtrail-tampering", "missing")])
        confdir = os.path.join(self.tmp.name, "etc")
        os.mkdir(confdir)
        with open(os.path.join(confdir, "cloudsagad.conf"), "w") as f:
            f.write('daemon = { state_dir = "%s"; report_file = '
                    '"report.jsonl"; };\n' % self.tmp.name)
        for args, env in (
                (("-c", os.path.join(confdir, "cloudsagad.conf")), None),
                ((), clean_env(CONFIGURATION_DIRECTORY=confdir))):
            layer = self.layer_ok(run_layer(*args, env=env))
            self.assertEqual(techniques(layer)[("T1562.008", None)]["score"],
                             1)
            self.assertEqual(
                {m["name"]: m["value"] for m in layer["metadata"]}["report"],
                os.path.join(self.tmp.name, "report.jsonl"))

    def test_exit_statuses(self):
        p = run_layer("-c", self.conf, "--report",
                      os.path.join(self.tmp.name, "nonexistent.jsonl"))
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, "")
        self.assertIn("nonexistent.jsonl: No such file or directory",
                      p.stderr)
        p = run_layer("-c", self.conf, "--report", self.tmp.name)
        self.assertEqual(p.returncode, 1)
        self.assertIn("Is a directory", p.stderr)
        for bad in ("0s", "soon", "-1d"):
            p = run_layer("-c", self.conf, "--since", bad)
            self.assertEqual(p.returncode, 2, bad)
            self.assertIn("--since: bad duration", p.stderr)
        p = subprocess.run([CLOUDSAGAD, "--report", "x.jsonl"],
                           capture_output=True, text=True, env=clean_env())
        self.assertEqual(p.returncode, 2)
        self.assertIn("--report and --since go with --attack-layer",
                      p.stderr)
        broken = self.write("broken.conf", ["daemon = { nonsense = 1; };"])
        p = run_layer("-c", broken, "--report", broken)
        self.assertEqual(p.returncode, 2)
        self.assertIn("broken.conf:1:", p.stderr)
        p = run_layer("-c", os.path.join(self.tmp.name, "missing.conf"))
        self.assertEqual(p.returncode, 2)

    def test_memory_bounded_by_techniques(self):
        """A report 200 times larger (40 MB, 80000 lines, 80000 runs, 500
        accounts) costs the same memory: the lines are streamed, the sets
        capped."""
        def maxrss(report):
            code = ("import resource, subprocess, sys\n"
                    "p = subprocess.run(sys.argv[1:], stdout=subprocess."
                    "DEVNULL, stderr=subprocess.DEVNULL)\n"
                    "print(p.returncode, resource.getrusage(resource."
                    "RUSAGE_CHILDREN).ru_maxrss)\n")
            out = subprocess.run(
                [sys.executable, "-c", code, CLOUDSAGAD, "--attack-layer",
                 "-c", self.conf, "--report", report], capture_output=True,
                text=True, check=True, env=clean_env()).stdout.split()
            self.assertEqual(out[0], "0")
            return int(out[1])   # KiB

        pad = "x" * 400
        lines = []
        for i in range(80000):
            lines.append(verdict(
                "2026-05-01T%02d:%02d:%02dZ" % (i // 3600 % 24,
                                               i // 60 % 60, i % 60),
                ("network-changes", "mining-bitcoin")[i % 2],
                ("logged", "missing", "unverified")[i % 3],
                region="region-%d" % (i % 40), account="acct-%d" % (i % 500),
                run="%032x" % i, coverage="covered", reason=pad))
        big = self.write("big.jsonl", lines)
        small = self.write("small.jsonl", lines[:400])
        self.assertGreater(os.path.getsize(big), 35 * 1024 * 1024)
        rss_small, rss_big = maxrss(small), maxrss(big)
        self.assertLess(rss_big, rss_small + 4096,
                        (rss_small, rss_big))
        layer = self.layer_ok(run_layer("-c", self.conf, "--report", big))
        m = meta(techniques(layer)[("T1535", None)])
        self.assertTrue(m["accounts"].endswith(", ..."), m["accounts"])
        self.assertEqual(int(m["logged"]) + int(m["missing"]) +
                         int(m["unverified"]), 80000)


def boto(sb, service, region):
    return boto3.client(service, endpoint_url=sb.url, region_name=region,
                        aws_access_key_id=FAKE_KEY,
                        aws_secret_access_key=FAKE_SECRET)


class SandboxTest(Base):
    REGIONS = ("us-east-1", "eu-west-1")

    def scenario(self, sb):
        """One cloudtrail-tampering run with verification; its JSON lines."""
        p = subprocess.run(
            [CLOUDSAGAD, "--scenario", "cloudtrail-tampering", "--regions",
             ",".join(self.REGIONS), "--verify-interval", "1s",
             "--verify-timeout", "8s", "--output", "json", "-c", self.conf],
            env=clean_env(AWS_ENDPOINT_URL=sb.url), capture_output=True,
            text=True, timeout=300)
        self.assertIn(p.returncode, (0, 1), p.stderr[-3000:])
        self.assertIn('"kind":"summary"', p.stdout)
        return p.stdout

    @staticmethod
    def records(sb, run_id):
        """The sandbox's CloudTrail records of one run (its marker is in
        the user agent)."""
        return [e["record"] for e in sb.admin("events")["events"]
                if "run/" + run_id in (e["record"].get("userAgent") or "")
                and e["visible"]]

    def layer(self, name, text):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            f.write(text)
        p = run_layer("-c", self.conf, "--report", path)
        layer = self.layer_ok(p)
        # --output json's "call" lines are known: nothing is skipped.
        self.assertNotIn("skipped", p.stderr)
        return techniques(layer)[("T1562.008", None)]

    def test_cloudtrail_tampering(self):
        with Sandbox() as sb:
            # No EventBridge rule: logged, but nothing alerts.
            out1 = self.scenario(sb)
            t = self.layer("run1.jsonl", out1)
            self.assertEqual(t["score"], 3, t["comment"])
            m = meta(t)
            self.assertEqual(m["missing"], "0")
            # Every logged signal call alerts nobody; the context calls
            # (discovery, #11) are not judged.
            lines = [json.loads(x) for x in out1.splitlines() if x.strip()]
            ctx = [x for x in lines if x["kind"] == "verdict" and
                   x["role"] == "context" and x["verdict"] == "logged"]
            self.assertTrue(all(x["coverage"] == "context" for x in ctx))
            self.assertEqual(int(m["logged"]),
                             int(m["uncovered"]) + len(ctx))
            # Every record the sandbox's CloudTrail holds of the run, and
            # the four tampering calls in each region among them.
            run1 = json.loads(out1.strip().splitlines()[-1])["run_id"]
            recs = self.records(sb, run1)
            self.assertEqual(int(m["logged"]), len(recs))
            for r in self.REGIONS:
                self.assertEqual(sorted(x["eventName"] for x in recs
                                        if x["awsRegion"] == r and
                                        x["eventSource"] ==
                                        "cloudtrail.amazonaws.com"),
                                 ["DeleteTrail", "PutEventSelectors",
                                  "StopLogging", "UpdateTrail"])
            self.assertEqual(m["regions"], ", ".join(sorted(self.REGIONS)))
            self.assertEqual(m["accounts"], "default")
            self.assertEqual(m["last run"], run1)

            # A rule that sees every management call, with a target, in
            # each region: alerted.
            for r in self.REGIONS:
                topic = boto(sb, "sns", r).create_topic(
                    Name="soc")["TopicArn"]
                ev = boto(sb, "events", r)
                ev.put_rule(Name="api-calls", State="ENABLED_WITH_ALL_"
                            "CLOUDTRAIL_MANAGEMENT_EVENTS",
                            EventPattern=json.dumps({
                                "detail-type": ["AWS API Call via "
                                                "CloudTrail"]}))
                ev.put_targets(Rule="api-calls", Targets=[
                    {"Id": "soc", "Arn": topic}])
            out2 = self.scenario(sb)
            t = self.layer("run2.jsonl", out2)
            self.assertEqual(t["score"], 4, t["comment"])
            self.assertEqual(int(meta(t)["covered"]),
                             int(meta(t)["logged"]) - len(ctx))

            # The sandbox loses StopLogging: a logging gap.
            sb.admin("config", {"drop": ["StopLogging"]})
            out3 = self.scenario(sb)
            t = self.layer("run3.jsonl", out3)
            self.assertEqual(t["score"], 1, t["comment"])
            self.assertEqual(meta(t)["missing"], str(len(self.REGIONS)))

            # The three runs in one report: worst first, counts summed.
            t = self.layer("all.jsonl", out1 + out2 + out3)
            self.assertEqual(t["score"], 1)
            m = meta(t)
            self.assertEqual(m["runs"], "3")
            self.assertEqual(int(m["logged"]) + int(m["missing"]),
                             3 * len(recs))
            run3 = json.loads(out3.strip().splitlines()[-1])["run_id"]
            self.assertEqual(m["last run"], run3)


if __name__ == "__main__":
    unittest.main(verbosity=2)
