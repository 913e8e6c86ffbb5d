"""The fault matrix: broken endpoints through the real daemon.

Each case runs its own cloudsagad (`-d`, a schedule of network-changes
every 6 s in a region of its own, verify deadline 5 s, a private
NOTIFY_SOCKET) against a shared sandbox whose faults are scoped to that
region (`SERVICE@REGION:KIND:SHARE`), or against a local instance
metadata / container credential stub (tests/sandbox/metadata_stub.py)
that is down or broken and then heals.  All cases run at once.

Per case, in order:
  1. start; READY=1 within 60 s;
  2. faults for 20 s (the metadata stubs heal after 10 s); at 6 s SIGHUP,
     answered with RELOADING=1 then READY=1; the process stays alive;
  3. SIGTERM: exit status 0 within the drain timeout (5 s) plus 5 s;
  4. restart on the same state, faults still on; wait until every run
     started before the restart has its summary reported, the outbox is
     empty and the report holds each kind of record the case expects
     (90 s at most); SIGTERM, exit 0.
Then, for the case:
  - memory: VmHWM of both daemons (sampled from /proc every 0.3 s while
    they run) under MEM_CEILING_MIB (ASAN_CEILING_MIB under ASan: its
    shadow and quarantine; the daemon gets quarantine_size_mb=32);
  - no sanitizer report on stderr;
  - no `missing` unless the lookups behind it were complete: a case whose
    LookupEvents always fail has no `missing` and some `unverified`; in
    every case a `missing` verdict is a call of which the sandbox holds no
    visible record (its ground truth, GET /_sandbox/events), and a
    `logged` one names a record of that very call;
  - exactly once across the restart (report lines and the state database
    by run_id and seq): no report_id twice, seq only grows, every reported
    row has one verdict line with its verdict, every line its row, every
    reported run one summary line, no undecided row in a summarised run;
  - LookupEvents never above the pacing (2 per second per region);
  - what the fault must do: could-not-test lines where calls fail, logged
    verdicts again once the metadata endpoint heals, every fault rule
    fired (a count rule spent, a share rule counted in the sandbox stats);
    a broken metadata endpoint asked at most STUB_MAX times in 10 s.

The sandbox drops CreateVpc records (a true logging gap in every run) so
that complete lookups do find `missing`; sandbox B runs 10 minutes behind
the machine's clock (`--skew -600`) with 7.5 MiB `huge` answers (under the
8 MiB body limit: the decoders' value caps must hold); sandbox C checks
signatures and runs 20 minutes ahead (AWS refuses requests more than 15
minutes off: the client must learn the server's clock from the refusal).

CLOUDSAGAD picks the binary (e.g. an ASan+UBSan build's).
CLOUDSAGA_FAULT_CASES=name,name runs a subset; CLOUDSAGA_KEEP=1 keeps the
state directories and the daemons' stderr.
"""
import collections
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "sandbox"))
from harness import CLOUDSAGAD, Sandbox, clean_env  # noqa: E402
from metadata_stub import MetadataStub  # noqa: E402

MEM_CEILING_MIB = 64
ASAN_CEILING_MIB = 192
PHASE1 = 20.0
HEAL_AT = 10.0
HUP_AT = 6.0
DRAIN = 5
STUB_MAX = 30       # metadata requests while broken (10 s): no hot loop
SEED = 10

CONF = """
daemon = { state_dir = "%(dir)s/state"; report_file = "%(dir)s/state/report.jsonl";
  drain_timeout = "%(drain)ds"; http_timeout = "5s"; http_connect_timeout = "2s"; };
verify = { initial_delay = "1s"; interval = "1s"; deadline = "5s"; };
coverage = { eventbridge = false; };
%(accounts)s
schedule = ( { name = "fm"; scenario = "network-changes"; every = "6s"; jitter = "0s"; regions = [ "%(region)s" ]; } );
"""

ACCOUNTS = """accounts = ( { name = "role"; role_arn = "arn:aws:iam::123456789012:role/cloudsagad-fault";
  regions = { include = [ "%(region)s" ]; }; } );"""


class Case:
    def __init__(self, name, region, fault=None, sandbox="A", creds="env",
                 stub=None, broken_lookups=False, could_not_test=False,
                 no_verdicts=False, logged=False, missing=False,
                 role=False):
        self.name = name
        self.region = region
        self.fault = fault          # sandbox fault specs, region-scoped
        self.sandbox = sandbox
        self.creds = creds          # env | imds | container | signed
        self.stub = stub            # the metadata stub's mode until healed
        self.broken_lookups = broken_lookups
        self.could_not_test = could_not_test
        self.no_verdicts = no_verdicts
        self.logged = logged
        self.missing = missing
        self.role = role            # an account reached by AssumeRole


def F(service, region, kind, share):
    return ["%s@%s:%s:%s" % (service, region, kind, share)]


def P(service, region, kind, share):
    """Partial: the next 2 calls (a call retried, then answered), then a
    share of the rest."""
    return F(service, region, kind, "2x") + F(service, region, kind, share)


CASES = [
    Case("control", "us-east-1", logged=True, missing=True),
    # the calls
    Case("ec2-reset", "us-east-2", P("ec2", "us-east-2", "reset", "0.4")),
    Case("ec2-500", "us-west-1", P("ec2", "us-west-1", "500", "0.4")),
    Case("ec2-503", "us-west-2", P("ec2", "us-west-2", "503", "0.4")),
    Case("ec2-throttle", "ca-central-1",
         P("ec2", "ca-central-1", "throttle", "0.5")),
    Case("ec2-malformed-xml", "eu-west-1",
         P("ec2", "eu-west-1", "malformed", "0.4")),
    Case("ec2-truncated-xml", "eu-west-2",
         P("ec2", "eu-west-2", "truncated", "0.4")),
    Case("ec2-huge-xml-40m", "eu-west-3",
         P("ec2", "eu-west-3", "huge", "0.4")),
    Case("ec2-empty", "ap-southeast-4",
         P("ec2", "ap-southeast-4", "empty", "0.4")),
    Case("ec2-slow", "mx-central-1", P("ec2", "mx-central-1", "slow", "0.3")),
    Case("ec2-expired", "eu-central-1", F("ec2", "eu-central-1", "expired",
                                          "1"),
         could_not_test=True, no_verdicts=True),
    # LookupEvents
    Case("lookup-reset", "eu-north-1",
         F("cloudtrail", "eu-north-1", "reset", "1"), broken_lookups=True),
    Case("lookup-503", "ap-south-1",
         F("cloudtrail", "ap-south-1", "503", "1"), broken_lookups=True),
    Case("lookup-throttle", "ap-northeast-1",
         F("cloudtrail", "ap-northeast-1", "throttle", "1"),
         broken_lookups=True),
    Case("lookup-malformed-json", "ap-northeast-2",
         F("cloudtrail", "ap-northeast-2", "malformed", "1"),
         broken_lookups=True),
    Case("lookup-truncated-json", "ap-northeast-3",
         F("cloudtrail", "ap-northeast-3", "truncated", "1"),
         broken_lookups=True),
    Case("lookup-huge-json-40m", "ap-southeast-1",
         F("cloudtrail", "ap-southeast-1", "huge", "1"),
         broken_lookups=True),
    Case("lookup-drip", "ap-southeast-2",
         F("cloudtrail", "ap-southeast-2", "drip", "1"),
         broken_lookups=True),
    Case("lookup-empty", "ca-west-1",
         F("cloudtrail", "ca-west-1", "empty", "1"), broken_lookups=True),
    Case("lookup-slow", "eu-south-2",
         F("cloudtrail", "eu-south-2", "slow", "1"), broken_lookups=True),
    # every page's first record damaged: that query is incomplete, yet an
    # empty page (the dropped CreateVpc) is a complete lookup
    Case("lookup-badrecord", "ap-southeast-6",
         F("cloudtrail", "ap-southeast-6", "badrecord", "1"), missing=True),
    # some lookups fail, some complete: `missing` only from complete ones
    Case("lookup-mixed", "il-central-1",
         F("cloudtrail", "il-central-1", "truncated", "0.3") +
         F("cloudtrail", "il-central-1", "500", "0.3") +
         F("cloudtrail", "il-central-1", "badrecord", "0.3"), logged=True),
    Case("lookup-expired", "sa-east-1",
         F("cloudtrail", "sa-east-1", "expired", "1"), broken_lookups=True),
    # the credential endpoints: broken for 10 s, then healed
    Case("imds-down", "ap-east-1", creds="imds", stub="down",
         could_not_test=True, logged=True),
    Case("imds-500", "me-south-1", creds="imds", stub="500",
         could_not_test=True, logged=True),
    Case("imds-hang", "eu-south-1", creds="imds", stub="hang",
         could_not_test=True, logged=True),
    Case("imds-huge", "af-south-1", creds="imds", stub="huge",
         could_not_test=True, logged=True),
    Case("imds-malformed", "ap-southeast-3", creds="imds", stub="malformed",
         could_not_test=True, logged=True),
    # an account behind AssumeRole: the first AssumeRole attempts fail,
    # then the assumed keys are refused as expired (fetched again)
    Case("role-sts-500-expired", "ap-southeast-5",
         ["sts/AssumeRole:500:2x"] +
         F("ec2", "ap-southeast-5", "expired", "2x"), role=True,
         logged=True, missing=True),
    Case("imds-expired", "ap-south-2", creds="imds", stub="expired",
         logged=True),
    Case("container-reset", "me-central-1", creds="container", stub="reset",
         could_not_test=True, logged=True),
    Case("container-huge", "eu-central-2", creds="container", stub="huge",
         could_not_test=True, logged=True),
    # sandbox B: 10 minutes behind, 7.5 MiB huge answers
    Case("clock-skew", "us-east-1", sandbox="B", logged=True, missing=True),
    Case("lookup-huge-json-7m", "us-east-2",
         F("cloudtrail", "us-east-2", "huge", "1"), sandbox="B",
         broken_lookups=True),
    Case("ec2-huge-xml-7m", "us-west-2",
         F("ec2", "us-west-2", "huge", "0.5"), sandbox="B"),
    # sandbox C: signatures checked, its clock 20 minutes ahead: every
    # request is refused as skewed until the client corrects its clock
    Case("clock-skew-signed", "us-east-1", sandbox="C", creds="signed",
         logged=True, missing=True),
]


def is_asan(path):
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


def vm(pid):
    """(VmRSS, VmHWM) in KiB, or None once the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            d = dict(line.split(":", 1) for line in f if ":" in line)
        return (int(d["VmRSS"].split()[0]), int(d["VmHWM"].split()[0]))
    except (OSError, KeyError, ValueError):
        return None


class Daemon:
    """One cloudsagad process with a private NOTIFY_SOCKET and a memory
    sampler."""

    def __init__(self, run, env, tag):
        self.run = run
        self.notes = []         # (monotonic time, message)
        self.cv = threading.Condition()
        self.sock_path = os.path.join(run.dir, "notify-%s" % tag)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(0.2)
        self.err_path = os.path.join(run.dir, "stderr-%s" % tag)
        self.err = open(self.err_path, "w")
        env = dict(env, NOTIFY_SOCKET=self.sock_path)
        self.proc = subprocess.Popen(
            [CLOUDSAGAD, "-d", "-c", run.conf], env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=self.err)
        self.hwm = 0
        self.rss_max = 0
        self.stop_took = None
        self.stop_ev = threading.Event()
        self.threads = [threading.Thread(target=self._listen, daemon=True),
                        threading.Thread(target=self._sample, daemon=True)]
        for t in self.threads:
            t.start()

    def _listen(self):
        while not self.stop_ev.is_set():
            try:
                msg = self.sock.recv(65536).decode(errors="replace")
            except socket.timeout:
                continue
            except OSError:
                return
            with self.cv:
                self.notes.append((time.monotonic(), msg))
                self.cv.notify_all()

    def _sample(self):
        while not self.stop_ev.is_set() and self.proc.poll() is None:
            m = vm(self.proc.pid)
            if m is not None:
                self.rss_max = max(self.rss_max, m[0])
                self.hwm = max(self.hwm, m[1])
            self.stop_ev.wait(0.3)

    def wait_note(self, pred, timeout, after=0.0):
        """Wait for a notify message, received after `after`, whose lines
        satisfy pred; its time, or None."""
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                for t, msg in self.notes:
                    if t >= after and pred(msg.split("\n")):
                        return t
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return None
                self.cv.wait(min(left, 0.5))

    def status(self):
        with self.cv:
            for _, msg in reversed(self.notes):
                for line in msg.split("\n"):
                    if line.startswith("STATUS="):
                        return line[7:]
        return None

    def alive(self):
        return self.proc.poll() is None

    def terminate(self, timeout):
        m = vm(self.proc.pid)
        if m is not None:
            self.hwm = max(self.hwm, m[1])
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
            self.stop_took = time.monotonic() - t0
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            rc = "no exit within %ds of SIGTERM" % timeout
        self.close()
        return rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stop_ev.set()
        for t in self.threads:
            t.join(5)
        self.sock.close()
        self.err.close()

    def stderr(self, tail=3000):
        with open(self.err_path, errors="replace") as f:
            return f.read()[-tail:]


class CaseRun:
    """Runs one case in a thread; collects problems instead of raising."""

    def __init__(self, case, top, sandboxes, asan):
        self.case = case
        self.sb = sandboxes[case.sandbox]
        self.asan = asan
        self.dir = os.path.join(top, case.name)
        os.makedirs(os.path.join(self.dir, "state"), mode=0o700)
        self.conf = os.path.join(self.dir, "cloudsagad.conf")
        with open(self.conf, "w") as f:
            f.write(CONF % {"dir": self.dir, "region": case.region,
                            "drain": DRAIN, "accounts": ACCOUNTS % {
                                "region": case.region} if case.role else ""})
        self.problems = []
        self.info = {}
        self.stub = None
        self.daemons = []

    def problem(self, msg):
        self.problems.append(msg)

    def env(self):
        env = clean_env(AWS_ENDPOINT_URL=self.sb.url)
        if self.asan and "ASAN_OPTIONS" not in os.environ:
            env["ASAN_OPTIONS"] = "quarantine_size_mb=32"
        if self.case.creds in ("imds", "container"):
            del env["AWS_ACCESS_KEY_ID"]
            del env["AWS_SECRET_ACCESS_KEY"]
        if self.case.creds == "signed":
            env["AWS_ACCESS_KEY_ID"] = self.sb.extra["access_key_id"]
            env["AWS_SECRET_ACCESS_KEY"] = self.sb.extra["secret_access_key"]
        if self.case.creds == "imds":
            del env["AWS_EC2_METADATA_DISABLED"]
            env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = self.stub.url
        elif self.case.creds == "container":
            env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = \
                self.stub.url + "/creds"
        return env

    def start(self, tag):
        d = Daemon(self, self.env(), tag)
        self.daemons.append(d)
        t = d.wait_note(lambda ls: "READY=1" in ls, 60)
        if t is None:
            self.problem("%s: no READY=1 within 60 s (exit %s): %s" % (
                tag, d.proc.poll(), d.stderr()))
            return None
        return d

    def query(self, sql):
        path = os.path.join(self.dir, "state", "state.db")
        if not os.path.exists(path):
            return []
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
        try:
            return db.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            db.close()

    def run(self):
        try:
            self._run()
        except Exception as e:          # a bug here is a failure too
            import traceback
            self.problem("test error: %s" % traceback.format_exc())
            for d in self.daemons:
                d.close()
            raise e
        finally:
            if self.stub is not None:
                self.stub.close()

    def _run(self):
        c = self.case
        if c.stub is not None:
            self.stub = MetadataStub(c.stub)
        t0 = time.monotonic()
        d = self.start("1")
        if d is None:
            return
        healed = c.stub is None
        hup_done = False
        while time.monotonic() - t0 < PHASE1:
            if not d.alive():
                self.problem("phase 1: exited %s by itself: %s" % (
                    d.proc.returncode, d.stderr()))
                d.close()
                return
            el = time.monotonic() - t0
            if not hup_done and el >= HUP_AT:
                hup_done = True
                th = time.monotonic()
                d.proc.send_signal(signal.SIGHUP)
                tr = d.wait_note(lambda ls: "RELOADING=1" in ls, 15, th)
                ty = tr and d.wait_note(lambda ls: "READY=1" in ls, 15, tr)
                if tr is None or ty is None:
                    self.problem("SIGHUP not answered (RELOADING=1 %s, "
                                 "READY=1 after it %s)" % (
                                     tr is not None, ty is not None))
                else:
                    self.info["sighup"] = "%.2fs" % (ty - th)
            if not healed and el >= HEAL_AT:
                healed = True
                self.stub.set_mode("ok")
                self.info["stub_before_heal"] = self.stub.count()
            time.sleep(0.2)
        self.info["status1"] = d.status()
        rc = d.terminate(30)
        if rc != 0:
            self.problem("phase 1: SIGTERM gave exit %s: %s" % (
                rc, d.stderr()))
        t_restart = time.time()

        # Phase 2: same state, faults still on; runs before the restart
        # must all be decided and reported.
        d = self.start("2")
        if d is None:
            return
        deadline = time.monotonic() + 90
        decided = False
        while time.monotonic() < deadline:
            if not d.alive():
                self.problem("phase 2: exited %s by itself: %s" % (
                    d.proc.returncode, d.stderr()))
                d.close()
                return
            if not self.query(
                    "SELECT 1 FROM runs WHERE started < %f AND "
                    "(summary_reported = 0 OR finished IS NULL) UNION ALL "
                    "SELECT 1 FROM outbox WHERE file_done = 0 OR "
                    "journal_done = 0" % t_restart) and self.seen_enough():
                decided = True
                break
            time.sleep(0.3)
        if not decided:
            self.problem("runs before the restart never all reported, or "
                         "not every expected kind of record seen: %s"
                         % self.query("SELECT run_id, started, finished, "
                                      "summary_reported FROM runs"))
        self.info["status2"] = d.status()
        rc = d.terminate(30)
        if rc != 0:
            self.problem("phase 2: SIGTERM gave exit %s: %s" % (
                rc, d.stderr()))
        self.info["seconds"] = time.monotonic() - t0
        for i, d in enumerate(self.daemons, 1):
            if d.stop_took is not None and d.stop_took > DRAIN + 5:
                self.problem("daemon %d took %.1f s to stop (drain "
                             "timeout %d s)" % (i, d.stop_took, DRAIN))
        if not self.info.get("status2"):
            self.problem("no STATUS= on the notify socket")
        self.check()

    def seen_enough(self):
        """The report holds each kind of record the case expects (on a
        slow machine phase 1 may end before a run was decided)."""
        c = self.case
        kinds = set()
        for x in self.lines(quiet=True):
            kinds.add(x.get("verdict") if x.get("kind") == "verdict"
                      else x.get("kind"))
        want = set()
        if c.logged:
            want.add("logged")
        if c.missing:
            want.add("missing")
        if c.broken_lookups:
            want.add("unverified")
        if c.could_not_test:
            want.add("could-not-test")
        return want <= kinds

    # ---- the checks ----------------------------------------------------

    def lines(self, quiet=False):
        path = os.path.join(self.dir, "state", "report.jsonl")
        if not os.path.exists(path):
            return []
        out = []
        with open(path) as f:
            for n, x in enumerate(f, 1):
                if not x.strip():
                    continue
                try:
                    out.append(json.loads(x))
                except ValueError:
                    if not quiet:       # (a line being written)
                        self.problem("report line %d is not JSON" % n)
        return out

    def check(self):
        c = self.case
        ceiling = ASAN_CEILING_MIB if self.asan else MEM_CEILING_MIB
        hwm = max(d.hwm for d in self.daemons)
        self.info["hwm_mib"] = hwm / 1024.0
        if hwm > ceiling * 1024:
            self.problem("VmHWM %.1f MiB over the %d MiB ceiling" % (
                hwm / 1024.0, ceiling))
        for d in self.daemons:
            err = d.stderr(10 ** 7)
            for mark in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                         "runtime error:"):
                if mark in err:
                    i = err.index(mark)
                    self.problem("sanitizer report: %s" % err[i:i + 3000])

        lines = self.lines()
        rows = self.query("SELECT run_id, idx, verdict, reported, seq "
                          "FROM expectations")
        runs = self.query("SELECT run_id, summary_reported FROM runs")
        by_id = collections.Counter(x.get("report_id") for x in lines)
        dups = sorted(k for k, n in by_id.items() if n > 1)
        if dups:
            self.problem("report_id twice in the report: %s" % dups[:5])
        if None in by_id:
            self.problem("a report line without report_id")
        seqs = [x.get("seq") for x in lines]
        if seqs != sorted(seqs):
            self.problem("seq goes down in the report")
        verdicts = {x["report_id"]: x for x in lines
                    if x.get("kind") == "verdict"}
        rowkey = {"%s-%d" % (r[0], r[1]): r for r in rows}
        summarised = {r[0] for r in runs if r[1] == 1}
        for k, r in rowkey.items():
            if r[3] == 1:
                if k not in verdicts:
                    self.problem("row %s reported but has no line" % k)
                elif verdicts[k]["verdict"] != r[2]:
                    self.problem("row %s is %s, its line %s" % (
                        k, r[2], verdicts[k]["verdict"]))
            elif r[0] in summarised:
                self.problem("row %s (%s) not reported in a summarised run"
                             % (k, r[2]))
        for k in verdicts:
            if k not in rowkey:
                self.problem("verdict line %s has no row" % k)
        for run_id in summarised:
            if by_id.get(run_id + "-summary", 0) != 1:
                self.problem("run %s: summary lines %d" % (
                    run_id, by_id.get(run_id + "-summary", 0)))

        # Against the sandbox's ground truth.
        events = self.sb.admin("events?region=%s" % c.region)["events"]
        by_eid = {}
        visible = collections.defaultdict(list)
        for e in events:
            by_eid.setdefault(e["record"]["eventID"], e)
            if e["visible"] and not e["dropped"]:
                visible[e["requestId"]].append(e["record"]["eventName"])
        count = collections.Counter(v["verdict"] for v in verdicts.values())
        for v in verdicts.values():
            if v["verdict"] == "logged":
                e = by_eid.get(v.get("event_id"))
                if e is None or e["requestId"] != v["request_id"]:
                    self.problem("logged names another call's record: %s"
                                 % json.dumps(v)[:400])
            elif v["verdict"] == "missing":
                if v["event_name"] in visible.get(v["request_id"], []):
                    self.problem("missing although CloudTrail holds the "
                                 "record: %s" % json.dumps(v)[:400])
        cnt = sum(1 for x in lines if x.get("kind") == "could-not-test")
        self.info["verdicts"] = dict(count)
        self.info["could_not_test"] = cnt
        if c.broken_lookups:
            if count["missing"]:
                self.problem("%d missing while every LookupEvents failed"
                             % count["missing"])
            if not count["unverified"]:
                self.problem("no unverified verdict: did the fault bite?")
        if c.could_not_test and not cnt:
            self.problem("no could-not-test line")
        if c.no_verdicts and verdicts:
            self.problem("%d verdicts of calls refused before handling"
                         % len(verdicts))
        if c.logged and not count["logged"]:
            self.problem("no logged verdict")
        if c.missing and not count["missing"]:
            self.problem("no missing verdict although CreateVpc records "
                         "are dropped")
        if c.stub is not None and \
                self.info.get("stub_before_heal", 0) > STUB_MAX:
            self.problem("%d metadata requests in %.0f s: a hot loop" % (
                self.info["stub_before_heal"], HEAL_AT))
        if c.stub is not None and self.stub.count("imds-creds") + \
                self.stub.count("container-creds") == 0:
            self.problem("the metadata stub was never asked for "
                         "credentials")


class FaultMatrix(unittest.TestCase):
    results = {}

    @classmethod
    def setUpClass(cls):
        want = os.environ.get("CLOUDSAGA_FAULT_CASES")
        cases = [c for c in CASES
                 if not want or c.name in want.split(",")]
        cls.asan = is_asan(CLOUDSAGAD)
        cls.top = tempfile.mkdtemp(prefix="cloudsagad-faults.")
        common = ["--drop", "CreateVpc", "--seed", SEED, "--drip-seconds",
                  "30", "--slow-seconds", "8"]
        sb = {}
        starts = []
        failed = []

        def start_sandbox(name, args):
            try:
                sb[name] = Sandbox(*args)
            except Exception as e:
                failed.append(e)
        t0 = time.monotonic()
        try:
            for name, extra in (("A", []),
                                ("B", ["--skew", "-600", "--huge-mib",
                                       "7.5"]),
                                ("C", ["--skew", "1200",
                                       "--verify-signatures"])):
                faults = []
                for c in cases:
                    if c.sandbox == name and c.fault:
                        for f in c.fault:
                            faults += ["--fault", f]
                if any(c.sandbox == name for c in cases):
                    starts.append(threading.Thread(
                        target=start_sandbox,
                        args=(name, common + extra + faults)))
            for t in starts:
                t.start()
            for t in starts:
                t.join()
            if failed:
                raise failed[0]
            runs = [CaseRun(c, cls.top, sb, cls.asan) for c in cases]
            threads = [threading.Thread(target=r.run, daemon=True)
                       for r in runs]
            for t in threads:
                t.start()
            for t in threads:
                t.join(300)
            stats = {k: s.admin("stats") for k, s in sb.items()}
            config = {k: s.admin("config") for k, s in sb.items()}
        finally:
            for s in sb.values():
                s.stop()
        cls.elapsed = time.monotonic() - t0
        for r in runs:
            cls.check_stats(r, stats[r.case.sandbox],
                            config[r.case.sandbox])
            cls.results[r.case.name] = r
        cls.print_matrix(runs)

    @classmethod
    def check_stats(cls, r, stats, config):
        c = r.case
        le = stats.get("lookup_events", {}).get("123456789012/" + c.region)
        secs = r.info.get("seconds", 0)
        if le is not None and secs:
            r.info["lookups"] = le["calls"]
            # 2 per second, plus a burst of 2 per daemon start
            if le["calls"] > 2 * secs + 6:
                r.problem("%d LookupEvents in %.0f s: above the pacing"
                          % (le["calls"], secs))
        rules = {f["spec"]: f for f in config.get("faults", [])}
        for spec in c.fault or []:
            svc = spec.split(":")[0].split("@")[0].split("/")[0]
            kind = spec.split(":")[1]
            rule = rules.get(spec, {})
            if rule.get("count"):
                # a count rule: spent when it fired
                fired = rule["remaining"] < rule["count"]
            else:
                fired = stats.get("faults", {}).get("%s/%s" % (svc, kind))
            if not fired:
                r.problem("the fault %s never fired (sandbox stats: %s)"
                          % (spec, stats.get("faults")))

    @classmethod
    def print_matrix(cls, runs):
        print("\nfault matrix: %d cases in %.0f s, binary %s%s; memory "
              "ceiling %d MiB" % (
                  len(runs), cls.elapsed, CLOUDSAGAD,
                  " (ASan)" if cls.asan else "",
                  ASAN_CEILING_MIB if cls.asan else MEM_CEILING_MIB))
        print("%-22s %-17s %7s %6s %4s %7s %5s  %-34s %s" % (
            "case", "region/sandbox", "VmHWM", "SIGHUP", "CNT", "lookups",
            "stub", "verdicts", "result"))
        for r in runs:
            v = r.info.get("verdicts", {})
            print("%-22s %-17s %6.1fM %6s %4s %7s %5s  %-34s %s" % (
                r.case.name, r.case.region + "/" + r.case.sandbox,
                r.info.get("hwm_mib", 0), r.info.get("sighup", "-"),
                r.info.get("could_not_test", "-"),
                r.info.get("lookups", "-"),
                r.info.get("stub_before_heal", "-"),
                ", ".join("%s %d" % kv for kv in sorted(v.items())) or "-",
                "ok" if not r.problems else "FAIL (%d)" % len(r.problems)))
        sys.stdout.flush()

    @classmethod
    def tearDownClass(cls):
        if all(not r.problems for r in cls.results.values()) and \
                not os.environ.get("CLOUDSAGA_KEEP"):
            shutil.rmtree(cls.top, ignore_errors=True)
        else:
            print("state and stderr kept in %s" % cls.top)

    def check_case(self, name):
        r = self.results.get(name)
        if r is None:
            self.skipTest("not selected")
        self.assertEqual(r.problems, [], "%s: %s" % (name, "\n".join(
            r.problems)))


def _make(name):
    return lambda self: self.check_case(name)


for _c in CASES:
    setattr(FaultMatrix, "test_" + _c.name.replace("-", "_"),
            _make(_c.name))


if __name__ == "__main__":
    unittest.main(verbosity=2)
