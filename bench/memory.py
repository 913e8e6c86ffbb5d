"""Benchmark (d) memory: the daemon's resident memory with many pending
expectations, against the same daemon idle.

    memory.py [--runs 4,16] [--steps 12]

The daemon (cloudsagad -d, its own state directory) is configured with a
custom scenario of --steps read-only EC2 calls in every enabled region and
N schedule entries that all start it at once; CloudTrail verification is
set far off (initial_delay 10m), so every expectation stays pending in
memory and in the ledger.  Measured from /proc/PID/status once every run
has ended and its expectations are in the ledger:
  idle           the same configuration with every entry disabled
  N runs         VmRSS with N runs' expectations pending (and VmHWM, the
                 peak, which includes the runs' calls in flight)
  restart        after SIGTERM (drain: pending rows stay in the ledger) a
                 daemon with the entries disabled resumes them from disk
"""
import argparse
import glob
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402
from verify import ACTIONS  # noqa: E402


def config_text(url, state, nentries, nsteps, enabled):
    steps = ",\n".join('      { service = "ec2"; action = "%s"; }' % a
                       for a in ACTIONS[:nsteps])
    entries = ",\n".join(
        '  { name = "load-%d"; scenario = "bench-many"; every = "1h"; '
        'jitter = "0s"; enabled = %s; }' % (i, "true" if enabled else "false")
        for i in range(nentries))
    return """daemon = { state_dir = "%s"; log_level = "notice";
           drain_timeout = "10s"; };
aws = { endpoint_url = "%s"; };
verify = { initial_delay = "10m"; interval = "1m"; deadline = "20m"; };
coverage = { eventbridge = false; };
scenarios = (
  { name = "bench-many";
    summary = "%d read-only EC2 calls in every region";
    steps = (
%s
    );
  }
);
schedule = (
%s
);
""" % (state, url, nsteps, steps, entries)


def proc_mem(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon"):
                out[k] = int(v.split()[0])
    return out


def ledger(state):
    """(runs, runs ended, rows, pending rows, bytes on disk)."""
    runs = ended = rows = pending = size = 0
    for path in glob.glob(os.path.join(state, "runs", "*.json")):
        try:
            with open(path) as f:
                text = f.read()
            j = json.loads(text)
        except (OSError, ValueError):
            continue		# being replaced
        runs += 1
        size += len(text)
        ended += j.get("finished") is not None
        rows += len(j.get("expectations", []))
        pending += sum(e.get("verdict") == "pending"
                       for e in j.get("expectations", []))
    return runs, ended, rows, pending, size


class Daemon:
    def __init__(self, conf, env, logpath):
        self.log = open(logpath, "ab")
        self.proc = subprocess.Popen([B.CLOUDSAGAD, "-d", "-c", conf],
                                     stdout=self.log, stderr=self.log,
                                     env=env)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


def wait_for(cond, timeout, what, daemon, logpath):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        if not daemon.alive():
            break
        time.sleep(0.2)
    with open(logpath, errors="replace") as f:
        tail = f.read()[-3000:]
    raise SystemExit("bench: memory: %s did not happen:\n%s" % (what, tail))


def settle(pid, seconds=2.0):
    """VmRSS once it stops moving (sampled every 0.2 s)."""
    last, t_end = None, time.monotonic() + 15
    stable_since = time.monotonic()
    while time.monotonic() < t_end:
        m = proc_mem(pid)
        if last is None or abs(m["VmRSS"] - last["VmRSS"]) > 64:
            stable_since = time.monotonic()
        elif time.monotonic() - stable_since >= seconds:
            return m
        last = m
        time.sleep(0.2)
    return last


def measure(sb, tmp, nruns, nsteps, nregions):
    """One load point: idle, loaded, restarted."""
    env = B.clean_env(sb.url)
    state = os.path.join(tmp, "state-%d" % nruns)
    os.makedirs(state, mode=0o700)
    logpath = os.path.join(tmp, "daemon-%d.log" % nruns)
    on = os.path.join(tmp, "on-%d.conf" % nruns)
    off = os.path.join(tmp, "off-%d.conf" % nruns)
    with open(on, "w") as f:
        f.write(config_text(sb.url, state, nruns, nsteps, True))
    with open(off, "w") as f:
        f.write(config_text(sb.url, state, nruns, nsteps, False))
    expected = nruns * (nsteps * nregions + 1)	# + DescribeRegions

    out = {}
    d = Daemon(off, env, logpath)
    time.sleep(1)
    out["idle"] = settle(d.proc.pid)
    d.stop()

    d = Daemon(on, env, logpath)
    t0 = time.monotonic()
    wait_for(lambda: ledger(state)[1] == nruns and
             ledger(state)[3] >= expected, 300,
             "%d runs ending with %d pending expectations" % (nruns,
                                                             expected),
             d, logpath)
    out["fire_s"] = time.monotonic() - t0
    out["loaded"] = settle(d.proc.pid)
    out["ledger"] = ledger(state)
    rc = d.stop()
    if rc != 0:
        raise SystemExit("bench: memory: the daemon exited %s" % rc)
    out["after_stop"] = ledger(state)

    d = Daemon(off, env, logpath)
    def resumed():
        with open(logpath, errors="replace") as f:
            return "resumed verifying" in f.read()

    wait_for(resumed, 60, "resume", d, logpath)
    out["restart"] = settle(d.proc.pid)
    d.stop()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", default="4,16",
                    help="comma-separated numbers of concurrent runs")
    ap.add_argument("--steps", type=int, default=12)
    a = ap.parse_args()
    loads = [int(x) for x in a.runs.split(",")]
    if not 1 <= a.steps <= len(ACTIONS):
        raise SystemExit("bench: --steps 1..%d" % len(ACTIONS))

    bt = B.build_type()
    results = []
    with B.Sandbox("--seed", "1") as sb, \
            tempfile.TemporaryDirectory() as tmp:
        env = B.clean_env(sb.url)
        # The regions the daemon will discover, counted by a one-shot run
        # (which also warms moto's region backends up).
        conf = os.path.join(tmp, "probe.conf")
        with open(conf, "w") as f:
            f.write('aws = { endpoint_url = "%s"; };\n' % sb.url)
        r = B.run_measured([B.CLOUDSAGAD, "-c", conf, "--scenario",
                            "network-changes", "--no-verify", "--output",
                            "json"], env, timeout=120)
        nregions = len({json.loads(x)["region"] for x in
                        r.stdout.splitlines() if '"DescribeInstances"' in x})
        for n in loads:
            B.log("memory: %d runs" % n)
            results.append((n, measure(sb, tmp, n, a.steps, nregions)))

    B.heading("memory: daemon RSS with pending expectations vs idle", [
        "%s (%s build), %s" % (B.cloudsagad_version(), bt, B.machine()),
        "custom scenario: %d read-only EC2 calls in each of %d regions "
        "(+ DescribeRegions) per run" % (a.steps, nregions),
        "VmRSS once settled; VmHWM = peak; ledger = runs/*.json on disk"])
    rows = []
    idle = results[0][1]["idle"]
    rows.append(["idle daemon (entries disabled)", "-", "%.1f" % (
        idle["VmRSS"] / 1024), "%.1f" % (idle["VmHWM"] / 1024), "-", "-"])
    for n, o in results:
        pend = o["ledger"][3]
        for label, key in (("%d runs fired, all pending" % n, "loaded"),
                           ("restart, resumed from disk", "restart")):
            m = o[key]
            rows.append([label, pend, "%.1f" % (m["VmRSS"] / 1024),
                         "%.1f" % (m["VmHWM"] / 1024),
                         "%.2f" % ((m["VmRSS"] - o["idle"]["VmRSS"]) /
                                   max(1, pend)),
                         "%.1f" % (o["ledger"][4] / 1024 / 1024)])
    B.table(["daemon", "pending", "VmRSS MB", "VmHWM MB", "KB/pending",
             "ledger MB"], rows)
    print()
    for n, o in results:
        pend = o["ledger"][3]
        print("%d runs: %d pending expectations, %.1fx the idle RSS "
              "(+%.1f MB, %.2f KB each); fired in %.1f s; %d pending kept "
              "in the ledger after SIGTERM" % (
                  n, pend, o["loaded"]["VmRSS"] / o["idle"]["VmRSS"],
                  (o["loaded"]["VmRSS"] - o["idle"]["VmRSS"]) / 1024,
                  (o["loaded"]["VmRSS"] - o["idle"]["VmRSS"]) / max(1, pend),
                  o["fire_s"], o["after_stop"][3]))
    if len(results) > 1:
        (n1, o1), (n2, o2) = results[0], results[-1]
        dp = o2["ledger"][3] - o1["ledger"][3]
        if dp > 0:
            print("marginal cost from %d to %d pending: %.2f KB per pending "
                  "expectation in memory (%.2f KB after a restart), %.2f KB "
                  "in the ledger" % (
                      o1["ledger"][3], o2["ledger"][3],
                      (o2["loaded"]["VmRSS"] - o1["loaded"]["VmRSS"]) / dp,
                      (o2["restart"]["VmRSS"] - o1["restart"]["VmRSS"]) / dp,
                      (o2["ledger"][4] - o1["ledger"][4]) / 1024 / dp))


if __name__ == "__main__":
    main()
