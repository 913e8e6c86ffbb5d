"""Benchmark (e) engine throughput: signed EC2 DryRun calls sent, answered,
decoded and classified per second through cloudsagad's real engine, against
the machine's HTTP ceiling (wrk) and a boto3 client on a thread pool.

    engine.py [--concurrency 1,16,64,256] [--calls N] [--boto3-calls N]
              [--wrk-seconds S] [--repeat N]

A private nginx (unprivileged, its own temporary prefix and configuration,
one worker, 127.0.0.1 on a free port) answers every request with what EC2
answers a permitted DryRun call: HTTP 412 and a DryRunOperation XML error
body, over keep-alive.  At each concurrency K, in the same run:

  cloudsagad engine  bench/engine_bench.c, linked with libcloudsaga.a:
                     ec2:CreateVpc DryRun=true through aws_client_send()
                     (safety guard, encode, SigV4 with fake static keys,
                     curl multi on libevent, XML decode, classification:
                     every answer must come back AWS_PERMITTED /
                     DryRunOperation), K calls in flight on K connections
                     (the engine's max_total = max_per_host = K)
  wrk                the same request bytes (method, path, headers of the
                     same sizes, body) sent by wrk, one thread, K
                     connections: what the machine's loopback and nginx
                     can do when the client does no work at all
  boto3              ec2.create_vpc(DryRun=True) on a ThreadPoolExecutor of
                     K threads sharing one client with max_pool_connections
                     K (what a user would write), ClientError
                     DryRunOperation expected

Calls/s is calls completed over the time from the first to the last of the
measured ones (after a warm-up of K calls on each side); latency is per
call, from the send to the decoded result (wrk: its own percentiles);
client CPU per call is the client process's user + system time over the
measured calls (wrk: its whole run), which the other work on a shared
machine disturbs much less than calls/s; peak RSS is the process's own
(wait4, bench/rusage.c).

Needs nginx and wrk (apt-get install nginx wrk).
"""
import argparse
import json
import os
import pwd
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

DRYRUN_BODY = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors>'
               '<Error><Code>DryRunOperation</Code><Message>Request would '
               'have succeeded, but DryRun flag is set.</Message></Error>'
               '</Errors><RequestID>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE'
               '</RequestID></Response>')

NGINX_CONF = """worker_processes 1;
daemon off;
master_process on;
pid %(prefix)s/nginx.pid;
error_log %(prefix)s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %(prefix)s/body;
  proxy_temp_path %(prefix)s/proxy;
  fastcgi_temp_path %(prefix)s/fastcgi;
  uwsgi_temp_path %(prefix)s/uwsgi;
  scgi_temp_path %(prefix)s/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:%(port)d;
    location / {
      default_type text/xml;
      return 412 '%(body)s';
    }
  }
}
"""

# The request the engine sends (bench/engine_bench.c), for wrk: same
# method, path, header names and value sizes, body.
WRK_LUA = """wrk.method = "POST"
wrk.path = "/"
wrk.body = "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%%2F16&DryRun=true"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
wrk.headers["X-Amz-Date"] = "20261204T120000Z"
wrk.headers["User-Agent"] = "cloudsagad/0.1.0 run/0123456789abcdef0123456789abcdef"
wrk.headers["Authorization"] = "%s"
"""
FAKE_AUTHZ = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLEBENCHKEY0/20261204/"
              "us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;"
              "x-amz-date, Signature=" + "0" * 64)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    """A private nginx on 127.0.0.1, unprivileged (nobody when run as
    root), in its own temporary prefix."""

    def __init__(self):
        if shutil.which("nginx") is None:
            raise SystemExit("bench: engine needs nginx (apt-get install "
                             "nginx)")
        self.prefix = tempfile.mkdtemp(prefix="cloudsaga-bench-nginx.")
        os.chmod(self.prefix, 0o755)
        self.uid = self.gid = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            self.uid, self.gid = pw.pw_uid, pw.pw_gid
            os.chown(self.prefix, self.uid, self.gid)
        for attempt in range(5):
            self.port = free_port()
            conf = os.path.join(self.prefix, "nginx.conf")
            with open(conf, "w") as f:
                f.write(NGINX_CONF % {"prefix": self.prefix,
                                      "port": self.port,
                                      "body": DRYRUN_BODY})
            self.proc = subprocess.Popen(
                ["nginx", "-p", self.prefix, "-c", conf, "-e",
                 os.path.join(self.prefix, "error.log")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                preexec_fn=self._drop, start_new_session=True)
            if self._ready():
                self.url = "http://127.0.0.1:%d" % self.port
                B.check_loopback(self.url)
                return
            self.stop(keep=True)
        raise SystemExit("bench: nginx did not start:\n" + self.errors())

    def _drop(self):
        if self.uid is not None:
            os.setgroups([])
            os.setgid(self.gid)
            os.setuid(self.uid)

    def _ready(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                              timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False

    def errors(self):
        try:
            with open(os.path.join(self.prefix, "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self, keep=False):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if not keep:
            shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def boto3_worker(url, n, k):
    """n create_vpc(DryRun=True) calls on k threads; JSON on stdout."""
    import concurrent.futures
    import boto3
    import botocore.config
    from botocore.exceptions import ClientError

    B.check_loopback(url)
    client = boto3.client(
        "ec2", region_name="us-east-1", endpoint_url=url,
        aws_access_key_id=B.FAKE_KEY, aws_secret_access_key=B.FAKE_SECRET,
        config=botocore.config.Config(max_pool_connections=k))

    def one(i):
        t0 = time.perf_counter()
        try:
            client.create_vpc(CidrBlock="10.%d.0.0/16" % (i % 256),
                              DryRun=True)
            code = "no error"
        except ClientError as e:
            code = e.response["Error"]["Code"]
        return time.perf_counter() - t0, code

    def cpu():
        ru = resource.getrusage(resource.RUSAGE_SELF)
        return ru.ru_utime + ru.ru_stime

    with concurrent.futures.ThreadPoolExecutor(max_workers=k) as pool:
        list(pool.map(one, range(k)))			# warm-up
        t0 = time.perf_counter()
        c0 = cpu()
        res = list(pool.map(one, range(n)))
        dt = time.perf_counter() - t0
        c1 = cpu()
    lat = sorted(r[0] for r in res)
    bad = [r[1] for r in res if r[1] != "DryRunOperation"]
    print(json.dumps({
        "n": n, "concurrency": k, "seconds": dt, "calls_per_s": n / dt,
        "p50_ms": lat[len(lat) // 2] * 1e3,
        "p99_ms": lat[min(len(lat) - 1, int(0.99 * (len(lat) - 1) + 0.5))]
        * 1e3, "other": len(bad), "first_other": bad[0] if bad else "",
        "cpu_us_per_call": (c1 - c0) * 1e6 / n}))
    if bad:
        sys.exit(1)


def wrk_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s)$", s)
    if not m:
        return float("nan")
    v = float(m.group(1))
    return v / 1000 if m.group(2) == "us" else v if m.group(2) == "ms" \
        else v * 1000


def run_wrk(url, k, seconds, script, env):
    r = B.run_measured(["wrk", "-t1", "-c%d" % k, "-d%ds" % seconds,
                        "--latency", "-s", script, url + "/"], env,
                       timeout=seconds + 60)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    p50 = re.search(r"^\s+50%\s+(\S+)", r.stdout, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", r.stdout, re.M)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", r.stdout)
    total = re.search(r"(\d+) requests in", r.stdout)
    if not (rps and p50 and p99 and total):
        raise SystemExit("bench: cannot read wrk's output:\n" + r.stdout)
    # Every answer is the 412: all of them must be "non-2xx".
    if non2xx is None or non2xx.group(1) != total.group(1):
        raise SystemExit("bench: wrk got answers other than the 412:\n" +
                         r.stdout)
    return {"calls_per_s": float(rps.group(1)),
            "p50_ms": wrk_ms(p50.group(1)), "p99_ms": wrk_ms(p99.group(1)),
            "rss_kb": r.maxrss_kb,
            "cpu_us_per_call": (r.user_s + r.sys_s) * 1e6 /
            int(total.group(1))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--concurrency", default="1,16,64,256")
    ap.add_argument("--calls", type=int, default=30000,
                    help="engine calls per concurrency and round")
    ap.add_argument("--boto3-calls", type=int, default=3000)
    ap.add_argument("--wrk-seconds", type=int, default=3)
    ap.add_argument("--repeat", type=int,
                    default=int(os.environ.get("BENCH_REPEAT", "3")))
    ap.add_argument("--boto3-worker", nargs=3, metavar=("URL", "N", "K"),
                    help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.boto3_worker:
        boto3_worker(a.boto3_worker[0], int(a.boto3_worker[1]),
                     int(a.boto3_worker[2]))
        return
    if shutil.which("wrk") is None:
        raise SystemExit("bench: engine needs wrk (apt-get install wrk)")

    bt = B.build_type()
    tool = B.tool("engine_bench")
    ks = [int(x) for x in a.concurrency.split(",")]
    me = os.path.abspath(__file__)
    rows = {(side, k): [] for side in ("engine", "wrk", "boto3")
            for k in ks}

    with Nginx() as ngx, tempfile.NamedTemporaryFile(
            "w", suffix=".lua") as lua:
        lua.write(WRK_LUA % FAKE_AUTHZ)
        lua.flush()
        env = B.clean_env(ngx.url)
        for rnd in range(a.repeat):
            for k in ks:
                B.log("engine: round %d/%d, concurrency %d" %
                      (rnd + 1, a.repeat, k))
                r = B.run_measured([tool, ngx.url, str(a.calls), str(k)],
                                   env, ok=None)
                j = json.loads(r.stdout)
                if r.rc != 0 or j["other"]:
                    raise SystemExit("bench: engine: %d calls not "
                                     "permitted, first: %s" % (
                                         j["other"], j["first_other"]))
                j["rss_kb"] = r.maxrss_kb
                rows[("engine", k)].append(j)
                rows[("wrk", k)].append(run_wrk(ngx.url, k, a.wrk_seconds,
                                                lua.name, env))
                r = B.run_measured([B.PYTHON, me, "--boto3-worker", ngx.url,
                                    str(a.boto3_calls), str(k)], env,
                                   timeout=900)
                j = json.loads(r.stdout)
                j["rss_kb"] = r.maxrss_kb
                rows[("boto3", k)].append(j)

    import boto3
    B.heading("Engine throughput: signed EC2 DryRun calls through "
              "libcloudsaga vs wrk and boto3 %s" % boto3.__version__, [
                  "%s (%s build), %s" % (B.cloudsagad_version(), bt,
                                         B.machine()),
                  "local nginx (1 worker) answering HTTP 412 "
                  "DryRunOperation over keep-alive, 127.0.0.1",
                  "calls/s: median of %d rounds (min-max); latency and RSS "
                  "of the median round" % a.repeat,
                  "per round: engine %d calls, boto3 %d calls, wrk %d s" % (
                      a.calls, a.boto3_calls, a.wrk_seconds)])

    def med(side, k):
        xs = rows[(side, k)]
        order = sorted(xs, key=lambda x: x["calls_per_s"])
        return order[len(order) // 2]

    table = []
    for k in ks:
        for side, name in (("engine", "cloudsagad engine"),
                           ("wrk", "wrk (HTTP ceiling)"),
                           ("boto3", "boto3 thread pool")):
            m = med(side, k)
            table.append([
                "%s, K=%d" % (name, k),
                B.spread([x["calls_per_s"] for x in rows[(side, k)]],
                         "%.0f"),
                "%.2f" % m["p50_ms"], "%.2f" % m["p99_ms"],
                "%.1f" % B.median([x["cpu_us_per_call"]
                                   for x in rows[(side, k)]]),
                "%.1f" % (m["rss_kb"] / 1024)])
    B.table(["client, concurrency", "calls/s", "p50 ms", "p99 ms",
             "client CPU us/call", "peak RSS MB"], table)
    print()
    for k in ks:
        e = B.median([x["calls_per_s"] for x in rows[("engine", k)]])
        w = B.median([x["calls_per_s"] for x in rows[("wrk", k)]])
        b = B.median([x["calls_per_s"] for x in rows[("boto3", k)]])
        ec, wc, bc = (B.median([x["cpu_us_per_call"]
                                for x in rows[(side, k)]])
                      for side in ("engine", "wrk", "boto3"))
        print("K=%d: engine at %.0f%% of wrk (target 30%%), %.1fx boto3 "
              "(target 20x); client CPU per call: engine %.1f us = %.1fx "
              "wrk's, 1/%.0f of boto3's; engine connections %d" % (
                  k, 100 * e / w, e / b, ec, ec / wc, bc / ec,
                  med("engine", k)["connects"]))


if __name__ == "__main__":
    main()
