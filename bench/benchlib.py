"""Shared plumbing for cloudsagad's benchmarks (bench/README.md).

Starts the local AWS sandbox on loopback, builds environments that cannot
reach real AWS, runs processes with their own resource usage (wait4), and
prints the result tables.  Every benchmark talks to 127.0.0.1 only, with
fake keys.
"""
import json
import os
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD_DIR", os.path.join(TOP, "build"))
if not os.path.isabs(BUILD):
    BUILD = os.path.join(TOP, BUILD)
CLOUDSAGAD = os.path.join(BUILD, "cloudsagad")
SANDBOX = os.path.join(TOP, "tests", "sandbox", "aws-sandbox")
SEED = os.path.join(TOP, "tests", "sandbox", "seed")
PYTHON = sys.executable

FAKE_KEY = "AKIDEXAMPLEBENCHKEY0"
FAKE_SECRET = "bench/fake/secret/not/a/real/key"

# Variables that could lead a client to real credentials or endpoints.
_DROP_PREFIXES = ("AWS_",)
_DROP = ("CREDENTIALS_DIRECTORY", "NOTIFY_SOCKET", "JOURNAL_STREAM",
         "WATCHDOG_USEC", "WATCHDOG_PID", "STATE_DIRECTORY",
         "CONFIGURATION_DIRECTORY")


def _scrub_own_env():
    """This process too: no route to real credentials or endpoints, even if
    a client is made without an explicit endpoint (a closed loopback port
    then answers)."""
    for k in list(os.environ):
        if k.startswith(_DROP_PREFIXES) or k in _DROP:
            del os.environ[k]
    os.environ.update({
        "AWS_ACCESS_KEY_ID": FAKE_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    })


_scrub_own_env()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def check_loopback(url):
    host = urllib.parse.urlsplit(url).hostname or ""
    if not (host.startswith("127.") or host == "localhost"):
        raise SystemExit("bench: refusing non-loopback endpoint %r" % url)


def clean_env(endpoint, **extra):
    """Fake keys, loopback endpoint, no other source of credentials."""
    check_loopback(endpoint)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(_DROP_PREFIXES) and k not in _DROP}
    env.update({
        "AWS_ACCESS_KEY_ID": FAKE_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Sandbox:
    """tests/sandbox/aws-sandbox on a free loopback port."""

    def __init__(self, *args):
        self.args = list(args)
        self.errfile = tempfile.TemporaryFile()
        env = clean_env("http://127.0.0.1:9")
        env["CLOUDSAGA_PYTHON"] = PYTHON
        self.proc = subprocess.Popen([SANDBOX, "--port", "0"] + self.args,
                                     stdout=subprocess.PIPE,
                                     stderr=self.errfile, env=env)
        deadline = time.monotonic() + 60
        line = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                line = self.proc.stdout.readline()
                if line.startswith(b"ready "):
                    break
            if self.proc.poll() is not None:
                break
        if not line.startswith(b"ready "):
            self.stop()
            self.errfile.seek(0)
            raise SystemExit("bench: the sandbox did not start:\n" +
                             self.errfile.read().decode(errors="replace")[-2000:])
        self.url = line.split()[1].decode()
        check_loopback(self.url)

    def _req(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method)
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.load(resp)

    def get(self, path):
        return self._req("GET", path)

    def post(self, path, body=None):
        return self._req("POST", path, body if body is not None else {})

    def stats(self):
        return self.get("/_sandbox/stats")

    def reset(self):
        return self.post("/_sandbox/reset")

    def configure(self, **knobs):
        return self.post("/_sandbox/config", knobs)

    def events(self, **filters):
        q = urllib.parse.urlencode(filters)
        return self.get("/_sandbox/events" + ("?" + q if q else ""))["events"]

    def last_seq(self):
        ev = self.events()
        return ev[-1]["seq"] if ev else 0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def stats_diff(before, after):
    """Requests per "service:Action" made between two /_sandbox/stats."""
    out = {}
    for svc, actions in after["requests"].items():
        for act, n in actions.items():
            d = n - before["requests"].get(svc, {}).get(act, 0)
            if d:
                out["%s:%s" % (svc, act)] = d
    return out


def lookup_diff(before, after):
    """(LookupEvents calls, throttled) between two stats, all regions."""
    calls = thr = 0
    for key, v in after["lookup_events"].items():
        b = before["lookup_events"].get(key, {"calls": 0, "throttled": 0})
        calls += v["calls"] - b["calls"]
        thr += v["throttled"] - b["throttled"]
    return calls, thr


class Result:
    def __init__(self, rc, wall, maxrss_kb, stdout, stderr, user_s=0.0,
                 sys_s=0.0):
        self.rc = rc
        self.wall = wall
        self.maxrss_kb = maxrss_kb
        self.stdout = stdout
        self.stderr = stderr
        self.user_s = user_s		# CPU time of the command (wait4)
        self.sys_s = sys_s


PKG_LIBS = ("libevent", "libcurl", "libconfig", "libsystemd", "jansson",
            "expat", "libcrypto")


# Programs linked with BUILD/libcloudsaga.a (the others need only libc).
LIB_TOOLS = ("sigv4_bench", "engine_bench")


def tool(name, out=None, extra_src=(), include=(), deps=()):
    """bench/NAME.c compiled into BUILD/bench/NAME (when out of date).

    out, extra_src, include: another output path, more sources and include
    folders searched before common/ (bench/sigv4.py builds the signer of
    an older commit this way); deps: more files the output depends on."""
    src = os.path.join(TOP, "bench", name + ".c")
    if out is None:
        out = os.path.join(BUILD, "bench", name)
    deps = [src] + list(extra_src) + list(deps)
    # The project's warning flags (CMakeLists.txt); a warning is an error.
    cmd = [os.environ.get("CC", "cc"), "-O2", "-g", "-std=gnu11", "-Wall",
           "-Wextra", "-Wformat=2", "-Wshadow", "-Wno-unused-parameter",
           "-Wmissing-prototypes",
           "-Wstrict-prototypes", "-D_GNU_SOURCE", "-o", out, src]
    cmd += list(extra_src)
    if name in LIB_TOOLS:
        lib = os.path.join(BUILD, "libcloudsaga.a")
        deps += [lib] + [os.path.join(TOP, "common", h) for h in
                         os.listdir(os.path.join(TOP, "common"))
                         if h.endswith(".h")]
        libs = subprocess.run(["pkg-config", "--libs"] + list(PKG_LIBS),
                              capture_output=True, text=True, check=True)
        cmd[1:1] = ["-I" + d for d in list(include) +
                    [os.path.join(TOP, "common")]]
        cmd += [lib] + libs.stdout.split() + ["-lm"]
    if os.path.exists(out) and all(os.path.getmtime(out) >=
                                   os.path.getmtime(d) for d in deps):
        return out
    os.makedirs(os.path.dirname(out), exist_ok=True)
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0 or r.stderr.strip():
        raise SystemExit("bench: building %s failed or warned:\n%s\n%s" % (
            name, " ".join(cmd), r.stderr))
    return out


def run_measured(cmd, env, timeout=300, ok=(0,)):
    """Run cmd under bench/rusage: its wall time and its own peak RSS."""
    rusage = tool("rusage")
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as ru:
        proc = subprocess.Popen([rusage, ru.name] + list(cmd), stdout=out,
                                stderr=err, env=env, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise SystemExit("bench: %s timed out" % cmd[0])
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode()
        stderr = err.read().decode(errors="replace")
        try:
            m = json.load(ru)
        except ValueError:
            raise SystemExit("bench: %s: no measurement (exit %d):\n%s" % (
                cmd[0], proc.returncode, stderr[-3000:]))
    r = Result(m["status"], m["wall_s"], m["maxrss_kb"], stdout, stderr,
               m.get("user_s", 0.0), m.get("sys_s", 0.0))
    if ok is not None and r.rc not in ok:
        raise SystemExit("bench: %s exited %d:\n%s" % (
            " ".join(cmd), r.rc, r.stderr[-3000:]))
    return r


def median(xs):
    return statistics.median(xs)


def spread(xs, fmt="%.2f"):
    """"median (min-max)" of a list of numbers."""
    if len(xs) == 1:
        return fmt % xs[0]
    return (fmt + " (" + fmt + "-" + fmt + ")") % (median(xs), min(xs),
                                                  max(xs))


def table(headers, rows):
    cols = [headers] + [[str(c) for c in r] for r in rows]
    w = [max(len(r[i]) for r in cols) for i in range(len(headers))]
    lines = []
    for j, r in enumerate(cols):
        cells = []
        for i, c in enumerate(r):
            cells.append(c.ljust(w[i]) if i == 0 else c.rjust(w[i]))
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * x for x in w))
    print("\n".join(lines))


def heading(title, setup):
    print()
    print("== %s" % title)
    for line in setup:
        print("   " + line)
    print()


def machine():
    """One line describing the machine, for the tables."""
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d cores%s" % (os.cpu_count() or 0, ", " + model if model else "")


def cloudsagad_version():
    r = subprocess.run([CLOUDSAGAD, "--version"], capture_output=True,
                       text=True)
    return r.stdout.strip()


def build_type():
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            cache = f.read()
    except OSError:
        return "?"
    bt = "?"
    san = False
    for line in cache.splitlines():
        if line.startswith("CMAKE_BUILD_TYPE:"):
            bt = line.split("=", 1)[1] or "?"
        if line.startswith("CLOUDSAGA_SANITIZE:") and \
                line.split("=", 1)[1].upper() in ("ON", "1", "TRUE", "YES"):
            san = True
    if san:
        raise SystemExit("bench: %s is a sanitizer build; benchmark a "
                         "plain build (BUILD_DIR=build)" % BUILD)
    return bt
