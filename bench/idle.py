"""Benchmark (f) idle cost: what the daemon costs while it waits for its
next run, and whether 1,000 short cycles leave memory behind.

    idle.py [--seconds 60] [--cycles 1000] [--entries 17] [--strace]
            [--no-watchdog]

The daemon (cloudsagad -d, its own state directory, the local sandbox)
runs as systemd runs it as far as timing goes: NOTIFY_SOCKET (a datagram
socket of this script: READY=1 marks the start) and WATCHDOG_USEC of the
shipped unit (WatchdogSec=1min, so a WATCHDOG=1 ping every 30 s).  Its
schedule has one entry whose next run is an hour away (`at` = now + 1 h,
UTC) and --entries cycle entries, disabled at first.

  idle, before   --seconds of observation from /proc: CPU seconds (utime +
                 stime of /proc/PID/stat), wakeups per second (voluntary +
                 involuntary context switches of /proc/PID/status), VmRSS,
                 RssAnon (private anonymous memory) and, from
                 /proc/PID/smaps_rollup, Pss and Private_Clean +
                 Private_Dirty
  cycles         SIGHUP with the cycle entries enabled: each its own region,
                 every 1 s, a custom scenario of one read-only call
                 (ec2:DescribeVpcs), verification with initial_delay 0s,
                 interval 1s, deadline 10s (the sandbox delivers records at
                 once), coverage with EventBridge as configured by default;
                 until --cycles runs have written their summary to the
                 report file
  idle, after    SIGHUP with the cycle entries disabled again, wait until
                 the report file is quiet, then the same observation

Targets (bench/README.md): no CPU between timers, <= 1 wakeup/s, private
memory <= 2 MiB idle, no growth over the cycles.  --strace adds a
syscall count of the idle daemon (strace -c -f for --seconds) after the
last window, which shows what wakes it.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2",
           "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
           "eu-central-1", "eu-north-1", "ap-south-1", "ap-northeast-1",
           "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
           "ap-southeast-2", "sa-east-1"]
WATCHDOG_USEC = 60 * 1000000		# systemd/cloudsagad.service


def config_text(url, state, at, nentries, enabled):
    entries = ['  { name = "hourly"; scenario = "one-call"; at = "%s"; '
               'regions = [ "us-east-1" ]; }' % at]
    for i in range(nentries):
        entries.append('  { name = "cycle-%d"; scenario = "one-call"; '
                       'every = "1s"; jitter = "0s"; regions = [ "%s" ]; '
                       'enabled = %s; }' % (i, REGIONS[i % len(REGIONS)],
                                            "true" if enabled else "false"))
    return """daemon = { state_dir = "%s"; drain_timeout = "10s"; };
aws = { endpoint_url = "%s"; };
verify = { initial_delay = "0s"; interval = "1s"; deadline = "10s"; };
scenarios = (
  { name = "one-call";
    summary = "one read-only EC2 call";
    steps = ( { service = "ec2"; action = "DescribeVpcs"; } );
  }
);
schedule = (
%s
);
""" % (state, url, ",\n".join(entries))


class Notify:
    """The NOTIFY_SOCKET end: a thread reads every sd_notify datagram at
    once, as systemd does (the daemon's send blocks on a full socket)."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.msgs.append(data.decode(errors="replace"))

    def count(self, needle):
        with self.lock:
            return sum(1 for m in self.msgs if needle in m.split("\n"))

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def proc_sample(pid):
    s = {}
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    s["cpu_s"] = (int(fields[11]) + int(fields[12])) / tick
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            v = v.split()
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                s[k] = int(v[0])
            elif k in ("voluntary_ctxt_switches",
                       "nonvoluntary_ctxt_switches"):
                s[k] = int(v[0])
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Pss", "Pss_Anon", "Private_Clean", "Private_Dirty"):
                s[k] = int(v.split()[0])
    s["private_kb"] = s.get("Private_Clean", 0) + s.get("Private_Dirty", 0)
    s["t"] = time.monotonic()
    return s


def observe(pid, seconds, notify):
    a = proc_sample(pid)
    pings0 = notify.count("WATCHDOG=1")
    time.sleep(seconds)
    b = proc_sample(pid)
    dt = b["t"] - a["t"]
    sw = (b["voluntary_ctxt_switches"] + b["nonvoluntary_ctxt_switches"] -
          a["voluntary_ctxt_switches"] - a["nonvoluntary_ctxt_switches"])
    return {"seconds": dt, "cpu_s": b["cpu_s"] - a["cpu_s"],
            "wakeups_per_s": sw / dt, "switches": sw,
            "pings": notify.count("WATCHDOG=1") - pings0,
            "start": a, "end": b}


def malloc_stats(pid, logpath):
    """glibc's malloc_stats() in the daemon (gdb calls it; the process
    stops for a moment, outside the observation windows): (in use, system)
    bytes of all arenas and mmap, read back from the daemon's stderr."""
    if shutil.which("gdb") is None:
        return None
    with open(logpath) as f:
        f.seek(0, 2)
        start = f.tell()
    subprocess.run(["gdb", "-p", str(pid), "-batch", "-nx", "-ex",
                    "call (void)malloc_stats()", "-ex", "detach"],
                   capture_output=True, timeout=120)
    time.sleep(0.2)
    with open(logpath) as f:
        f.seek(start)
        text = f.read()
    i = text.rfind("Total (incl. mmap):")
    if i < 0:
        return None
    vals = {}
    for line in text[i:].splitlines()[1:3]:
        k, _, v = line.partition("=")
        vals[k.strip()] = int(v)
    return vals.get("in use bytes"), vals.get("system bytes")


def summaries(path):
    n = 0
    try:
        with open(path) as f:
            for line in f:
                try:
                    if json.loads(line).get("kind") == "summary":
                        n += 1
                except ValueError:
                    pass
    except OSError:
        pass
    return n


def report_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--cycles", type=int, default=1000)
    ap.add_argument("--entries", type=int, default=len(REGIONS))
    ap.add_argument("--strace", action="store_true")
    ap.add_argument("--no-watchdog", action="store_true",
                    help="no WATCHDOG_USEC: the daemon outside systemd")
    a = ap.parse_args()
    bt = B.build_type()

    work = tempfile.mkdtemp(prefix="cloudsaga-bench-idle.")
    state = os.path.join(work, "state")
    os.makedirs(state)
    conf = os.path.join(work, "cloudsagad.conf")
    report = os.path.join(state, "report.jsonl")
    at = (datetime.datetime.now(datetime.timezone.utc) +
          datetime.timedelta(hours=1)).strftime("%H:%M")
    notify = Notify(os.path.join(work, "notify"))
    daemon = None
    try:
        with B.Sandbox() as sb:
            def write_conf(enabled):
                """The daemon reloads its own file: replace it."""
                with open(conf + ".new", "w") as f:
                    f.write(config_text(sb.url, state, at, a.entries,
                                        enabled))
                os.rename(conf + ".new", conf)

            write_conf(False)
            extra = {"NOTIFY_SOCKET": notify.path}
            if not a.no_watchdog:
                extra["WATCHDOG_USEC"] = WATCHDOG_USEC
            env = B.clean_env(sb.url, **extra)
            errlog = open(os.path.join(work, "daemon.log"), "w")
            daemon = subprocess.Popen([B.CLOUDSAGAD, "-d", "-c", conf],
                                      stdout=errlog, stderr=errlog, env=env,
                                      start_new_session=True)
            pid = daemon.pid
            deadline = time.monotonic() + 60
            while notify.count("READY=1") == 0:
                if daemon.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("bench: the daemon did not start:\n" +
                                     open(errlog.name).read()[-3000:])
                time.sleep(0.05)
            time.sleep(2)		# let start-up work settle
            B.log("idle: observing the idle daemon for %.0f s" % a.seconds)
            before = observe(pid, a.seconds, notify)
            before["malloc"] = malloc_stats(pid, errlog.name)

            B.log("idle: %d cycles over %d entries" % (a.cycles, a.entries))
            n0 = summaries(report)
            c0 = proc_sample(pid)
            write_conf(True)
            daemon.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + max(600, a.cycles * 2)
            while summaries(report) - n0 < a.cycles:
                if daemon.poll() is not None:
                    raise SystemExit("bench: the daemon exited:\n" +
                                     open(errlog.name).read()[-3000:])
                if time.monotonic() > deadline:
                    raise SystemExit("bench: only %d cycles in time" %
                                     (summaries(report) - n0))
                time.sleep(0.5)
            write_conf(False)
            daemon.send_signal(signal.SIGHUP)
            c1 = proc_sample(pid)
            # Quiet: runs still verifying finish (deadline 10 s).
            last, still = report_size(report), time.monotonic()
            while time.monotonic() - still < 15:
                time.sleep(1)
                if report_size(report) != last:
                    last, still = report_size(report), time.monotonic()
            ncycles = summaries(report) - n0
            time.sleep(2)
            B.log("idle: observing the daemon after the cycles for %.0f s" %
                  a.seconds)
            after = observe(pid, a.seconds, notify)
            after["malloc"] = malloc_stats(pid, errlog.name)
            try:	# the JSON ledger's layout (docs/STATE.md)
                runs_kept = len(os.listdir(os.path.join(state, "runs")))
            except OSError:
                runs_kept = None

            strace = None
            if a.strace and shutil.which("strace"):
                B.log("idle: strace -c for %.0f s" % a.seconds)
                r = subprocess.run(["timeout", "-s", "INT", str(a.seconds),
                                    "strace", "-c", "-f", "-p", str(pid)],
                                   capture_output=True, text=True)
                strace = r.stderr.strip()

            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)
            errlog.close()
    finally:
        if daemon is not None and daemon.poll() is None:
            os.killpg(daemon.pid, signal.SIGKILL)
            daemon.wait()
        notify.close()

    cyc_s = c1["t"] - c0["t"]
    B.heading("Idle cost: the daemon waiting for a run an hour away, "
              "before and after %d short cycles" % ncycles, [
                  "%s (%s build), %s" % (B.cloudsagad_version(), bt,
                                         B.machine()),
                  ("no WATCHDOG_USEC" if a.no_watchdog else
                   "WATCHDOG_USEC=%d (WatchdogSec=1min: a ping every 30 s)"
                   % WATCHDOG_USEC) + ", NOTIFY_SOCKET of the benchmark",
                  "%d cycle entries, each every 1 s in its own region: %d "
                  "runs with verification in %.0f s (%.1f CPU s, %.1f ms "
                  "CPU per run)" % (
                      a.entries, ncycles, cyc_s, c1["cpu_s"] - c0["cpu_s"],
                      (c1["cpu_s"] - c0["cpu_s"]) * 1e3 / max(1, ncycles))])

    def mb(kb):
        return "%.2f" % (kb / 1024)

    rows = []
    for name, o in (("idle, before the cycles", before),
                    ("idle, after %d cycles" % ncycles, after)):
        e = o["end"]
        rows.append([name, "%.0f" % o["seconds"], "%.2f" % o["cpu_s"],
                     "%.3f" % o["wakeups_per_s"], str(o["pings"]),
                     mb(e["VmRSS"]), mb(e["RssAnon"]), mb(e["private_kb"]),
                     mb(e["Pss"]), mb(e["Pss_Anon"])])
    B.table(["daemon", "s", "CPU s", "wakeups/s", "pings", "VmRSS MB",
             "RssAnon MB", "private MB", "Pss MB", "Pss_Anon MB"], rows)
    print()
    ea, eb = before["end"], after["end"]
    print("CPU while idle: %.2f s in %.0f s before, %.2f s after (target "
          "0: no CPU between timers)" % (before["cpu_s"], before["seconds"],
                                         after["cpu_s"]))
    print("wakeups: %.3f/s before, %.3f/s after (target <= 1/s); watchdog "
          "pings seen: %d and %d" % (before["wakeups_per_s"],
                                     after["wakeups_per_s"],
                                     before["pings"], after["pings"]))
    print("private memory (RssAnon): %s MB before, %s MB after: %+.2f MB "
          "over %d cycles (target <= 2 MB idle, no growth); peak VmHWM %s MB"
          % (mb(ea["RssAnon"]), mb(eb["RssAnon"]),
             (eb["RssAnon"] - ea["RssAnon"]) / 1024, ncycles,
             mb(eb["VmHWM"])))
    if before["malloc"] and after["malloc"] and all(before["malloc"]) \
            and all(after["malloc"]):
        (u0, s0), (u1, s1) = before["malloc"], after["malloc"]
        print("malloc_stats (gdb): in use %.2f -> %.2f MB (%+.2f), held "
              "from the system %.2f -> %.2f MB (%+.2f), free inside malloc "
              "after: %.2f MB" % (u0 / 2**20, u1 / 2**20, (u1 - u0) / 2**20,
                                  s0 / 2**20, s1 / 2**20, (s1 - s0) / 2**20,
                                  (s1 - u1) / 2**20))
    if runs_kept is not None:
        print("finished runs kept in the state directory (and the ledger) "
              "after the cycles: %d (pruned after an hour)" % runs_kept)
    if strace:
        print()
        print("strace -c -f of the idle daemon for %.0f s:" % a.seconds)
        print(strace)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
