"""Benchmark scale: one cycle over a simulated organisation (#13).

    scale.py [--accounts 200] [--regions 17] [--initial-delay 30]
             [--per-host 64] [--keep]

The sandbox builds an organisation of --accounts member accounts (`seed
org`, each with the role cloudsaga-audit); the daemon (cloudsagad -d) is
configured with that organisation (discovery through Organizations
ListAccounts, sts:AssumeRole into every member) and one schedule entry: a
custom scenario of one read-only EC2 call (DescribeVpcs) in each of the
--regions always-enabled regions, CloudTrail verification on.  The cycle
starts when the daemon starts and ends when every member's run summary is
in the report file.  Sampled once a second: the daemon's VmRSS/VmHWM and
RssAnon, its TCP connections, its CPU and the sandbox's, the sandbox's
LookupEvents counters per account and region.

Printed: wall time of the cycle (firing, then verification), peak RSS,
bytes per pending expectation ((VmRSS with every row pending - VmRSS of the
same daemon idle) / rows: an upper bound, it includes the runs and the
credentials of every member), LookupEvents requests per account-region
(the most any one made in any 1 s and 5 s window) and throttles, the
connections open (peak), requests per second through the sandbox and
whether the sandbox (one Python process) was the bottleneck.
"""
import argparse
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

# The 17 regions enabled in every account (no opt-in), botocore 1.43.
REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2",
           "ap-south-1", "ap-northeast-1", "ap-northeast-2",
           "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
           "ca-central-1", "eu-central-1", "eu-west-1", "eu-west-2",
           "eu-west-3", "eu-north-1", "sa-east-1"]
ROLE = "cloudsaga-audit"
HZ = os.sysconf("SC_CLK_TCK")


def config_text(url, state, regions, initial, per_host, enabled):
    return """daemon = { state_dir = "%(state)s"; log_level = "info";
           drain_timeout = "10s"; max_connections = 64;
           max_connections_per_host = %(per_host)d; };
aws = { endpoint_url = "%(url)s"; };
verify = { initial_delay = "%(initial)ds"; interval = "5s";
           deadline = "15m"; };
coverage = { eventbridge = false; };
accounts = ( { name = "org"; organization = { role_name = "%(role)s"; }; } );
scenarios = (
  { name = "bench-one";
    summary = "one read-only EC2 call per region";
    steps = ( { service = "ec2"; action = "DescribeVpcs"; } );
  }
);
schedule = (
  { name = "cycle"; scenario = "bench-one"; every = "1d"; jitter = "0s";
    regions = [ %(regions)s ]; enabled = %(enabled)s; }
);
""" % {"state": state, "url": url, "initial": initial, "per_host": per_host,
       "role": ROLE, "regions": ", ".join('"%s"' % r for r in regions),
       "enabled": "true" if enabled else "false"}


def proc_status(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM", "RssAnon"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def cpu_s(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / HZ
    except (OSError, IndexError):
        return 0.0


def tcp_established(pid, port):
    """Established TCP connections of pid to 127.0.0.1:port."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            m = re.match(r"socket:\[(\d+)\]", link)
            if m:
                inodes.add(m.group(1))
    except OSError:
        return 0
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if p[3] != "01" or p[9] not in inodes:
                        continue
                    if int(p[2].rsplit(":", 1)[1], 16) == port:
                        n += 1
        except OSError:
            pass
    return n


def seed_org(sb, n):
    env = B.clean_env(sb.url)
    env["CLOUDSAGA_PYTHON"] = B.PYTHON
    left, ids = n, []
    while left > 0:
        k = min(left, 100)		# seed org's own bound per call
        r = subprocess.run([B.SEED, "--endpoint", sb.url, "org",
                            "--accounts", str(k), "--role-name", ROLE],
                           env=env, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("bench: scale: seed org failed:\n" + r.stderr)
        ids = [a["id"] for a in json.loads(r.stdout)["accounts"]]
        left -= k
    return ids


def summaries(report):
    n = 0
    try:
        with open(report) as f:
            for line in f:
                if '"kind":"summary"' in line.replace(" ", ""):
                    n += 1
    except OSError:
        pass
    return n


def pending_rows(state):
    path = os.path.join(state, "state.db")
    try:
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
        try:
            return db.execute("SELECT count(*) FROM expectations WHERE "
                              "verdict = 'pending'").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return -1


def idle_rss(sb, tmp, regions, a):
    """VmRSS of the same daemon with the entry disabled (settled)."""
    state = os.path.join(tmp, "idle-state")
    os.makedirs(state)
    conf = os.path.join(tmp, "idle.conf")
    with open(conf, "w") as f:
        f.write(config_text(sb.url, state, regions, a.initial_delay,
                            a.per_host, False))
    log = open(os.path.join(tmp, "idle.log"), "wb")
    p = subprocess.Popen([B.CLOUDSAGAD, "-d", "-c", conf],
                         env=B.clean_env(sb.url), stdout=log, stderr=log)
    time.sleep(3)
    m = proc_status(p.pid)
    p.send_signal(signal.SIGTERM)
    p.wait(30)
    log.close()
    return m.get("VmRSS", 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--regions", type=int, default=17)
    ap.add_argument("--initial-delay", type=int, default=60,
                    help="verify.initial_delay (s): long enough for every "
                    "run to fire before the first poll, so that the rows "
                    "pile up pending")
    ap.add_argument("--per-host", type=int, default=64,
                    help="daemon.max_connections_per_host (the sandbox is "
                    "one host)")
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    regions = REGIONS[:a.regions]
    bt = B.build_type()
    tmp = tempfile.mkdtemp(prefix="cloudsaga-bench-scale.")
    try:
        with B.Sandbox() as sb:
            t0 = time.monotonic()
            B.log("scale: seeding an organisation of %d accounts" %
                  a.accounts)
            seed_org(sb, a.accounts)
            seed_s = time.monotonic() - t0
            idle = idle_rss(sb, tmp, regions, a)
            run(sb, tmp, regions, a, idle, seed_s, bt)
    finally:
        if a.keep:
            B.log("scale: kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def run(sb, tmp, regions, a, idle_kb, seed_s, bt):
    state = os.path.join(tmp, "state")
    os.makedirs(state)
    report = os.path.join(state, "report.jsonl")
    conf = os.path.join(tmp, "cloudsagad.conf")
    with open(conf, "w") as f:
        f.write(config_text(sb.url, state, regions, a.initial_delay,
                            a.per_host, True))
    logpath = os.path.join(tmp, "daemon.log")
    log = open(logpath, "wb")
    members = a.accounts + 1		# the management account is listed
    before = sb.stats()
    sb_pid = sb.proc.pid
    port = int(sb.url.rstrip("/").rsplit(":", 1)[1])
    # aws-sandbox execs the Python: the same pid.
    sb_cpu0 = cpu_s(sb_pid)
    t0 = time.monotonic()
    d = subprocess.Popen([B.CLOUDSAGAD, "-d", "-c", conf],
                         env=B.clean_env(sb.url), stdout=log, stderr=log)
    samples = []
    fired_at = None
    loaded = None
    try:
        while True:
            time.sleep(1.0)
            now = time.monotonic() - t0
            if d.poll() is not None:
                raise SystemExit("bench: scale: the daemon exited")
            with open(logpath, errors="replace") as f:
                text = f.read()
            done = len(re.findall(r": run \w+ done: ", text))
            st = sb.stats()
            m = proc_status(d.pid)
            s = {"t": now, "rss": m.get("VmRSS", 0),
                 "hwm": m.get("VmHWM", 0), "anon": m.get("RssAnon", 0),
                 "conns": tcp_established(d.pid, port),
                 "cpu": cpu_s(d.pid), "sbcpu": cpu_s(sb_pid) - sb_cpu0,
                 "lookups": {k: v["calls"] for k, v in
                             st["lookup_events"].items()},
                 "throttled": sum(v["throttled"] for v in
                                  st["lookup_events"].values()),
                 "requests": st["requests_total"], "done": done,
                 "summaries": summaries(report),
                 "pending": pending_rows(state)}
            samples.append(s)
            if fired_at is None and done >= members:
                fired_at = now
            if loaded is None or s["pending"] > loaded[1]:
                loaded = (s["rss"], s["pending"])
            if s["summaries"] >= members:
                break
            if now > 1800:
                raise SystemExit("bench: scale: no end after 30 min")
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            d.wait(60)
        except subprocess.TimeoutExpired:
            d.kill()
        log.close()
    after = sb.stats()
    wall = samples[-1]["t"]
    report_lines = []
    with open(report) as f:
        report_lines = [json.loads(x) for x in f if x.strip()]
    verdicts = {}
    for x in report_lines:
        if x["kind"] == "verdict":
            verdicts[x["verdict"]] = verdicts.get(x["verdict"], 0) + 1
    cnt = sum(1 for x in report_lines if x["kind"] == "could-not-test")

    # LookupEvents per account-region: the most in any 1 s / 5 s window.
    peak1 = peak5 = 0
    for i in range(1, len(samples)):
        for k, v in samples[i]["lookups"].items():
            peak1 = max(peak1, v - samples[i - 1]["lookups"].get(k, 0))
            if i >= 5:
                d5 = v - samples[i - 5]["lookups"].get(k, 0)
                peak5 = max(peak5, d5)
    calls, throttled = B.lookup_diff(before, after)
    groups = len([k for k in after["lookup_events"]
                  if after["lookup_events"][k]["calls"] >
                  before["lookup_events"].get(k, {"calls": 0})["calls"]])
    diff = B.stats_diff(before, after)
    reqs = after["requests_total"] - before["requests_total"]
    sbcpu = samples[-1]["sbcpu"]
    dcpu = samples[-1]["cpu"]
    hwm = max(s["hwm"] for s in samples)
    conns = max(s["conns"] for s in samples)
    rss_loaded, rows = loaded if loaded else (0, 0)
    per_row = ((rss_loaded - idle_kb) * 1024 / rows) if rows > 0 else 0
    # Marginal: VmRSS against pending rows while the rows pile up (least
    # squares over the samples before the peak), each run's own state
    # included in its rows' share.
    pts = []
    for s in samples:
        if s["pending"] > 0:
            pts.append((s["pending"], s["rss"] * 1024))
        if s["pending"] == rows:
            break
    slope = 0.0
    if len(pts) >= 3:
        mx = sum(p[0] for p in pts) / len(pts)
        my = sum(p[1] for p in pts) / len(pts)
        sxx = sum((p[0] - mx) ** 2 for p in pts)
        if sxx > 0:
            slope = sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx

    B.heading("scale: one cycle over an organisation of %d accounts x %d "
              "regions" % (a.accounts, len(regions)), [
                  B.machine() + "; " + B.cloudsagad_version() + ", " + bt,
                  "the sandbox (one Python process, moto) on loopback; "
                  "seeding took %.0f s" % seed_s,
                  "verify.initial_delay %d s, interval 5 s; "
                  "max_connections 64, per host %d" % (a.initial_delay,
                                                       a.per_host)])
    B.table(["figure", "value"], [
        ["accounts listed (members + management)", members],
        ["runs fired by (s)", "%.0f" % (fired_at or 0)],
        ["cycle: every summary reported (s)", "%.0f" % wall],
        ["  of which waiting for initial_delay (s)", "%d" % a.initial_delay],
        ["verdicts", ", ".join("%s %d" % kv for kv in
                               sorted(verdicts.items()))],
        ["could-not-test records", cnt],
        ["peak RSS, VmHWM (MiB)", "%.1f" % (hwm / 1024)],
        ["idle VmRSS, same config (MiB)", "%.1f" % (idle_kb / 1024)],
        ["VmRSS with every row pending (MiB)", "%.1f" % (rss_loaded / 1024)],
        ["pending rows (peak) / rows in all", "%d / %d" % (
            rows, sum(verdicts.values()))],
        ["bytes per pending row (upper bound; target <= 512)",
         "%.0f" % per_row],
        ["bytes per pending row, marginal (%d samples)" % len(pts),
         "%.0f" % slope if slope else "-"],
        ["LookupEvents calls / account-regions polled",
         "%d / %d" % (calls, groups)],
        ["LookupEvents max per account-region in 1 s / 5 s",
         "%d / %d (limit 2/s)" % (peak1, peak5)],
        ["LookupEvents throttled", throttled],
        ["connections open (peak)", conns],
        ["requests through the sandbox", reqs],
        ["requests/s through the sandbox", "%.0f" % (reqs / wall)],
        ["AssumeRole / ListAccounts / DescribeVpcs",
         "%d / %d / %d" % (diff.get("sts:AssumeRole", 0),
                           diff.get("organizations:ListAccounts", 0),
                           diff.get("ec2:DescribeVpcs", 0))],
        ["CPU seconds: daemon / sandbox", "%.1f / %.1f" % (dcpu, sbcpu)],
        ["daemon CPU per request (ms)", "%.2f" % (dcpu * 1000 / reqs)
         if reqs else "-"],
        ["sandbox busy (CPU / wall)", "%.0f %%" % (100 * sbcpu / wall)],
    ])
    print()
    if sbcpu / wall > 0.8:
        print("   the sandbox was the bottleneck: its one Python process "
              "was busy %.0f %% of the cycle while the daemon used %.0f %%"
              % (100 * sbcpu / wall, 100 * dcpu / wall))


if __name__ == "__main__":
    main()
