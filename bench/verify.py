"""Benchmark (c) verification efficiency: LookupEvents requests and time
needed to verify a run's expectations, cloudsagad's verifier against a
naive verifier that looks up every expectation on its own (by EventName),
both under CloudTrail's limit of 2 LookupEvents per second per account and
region.

    verify.py [--delay MIN:MAX] [--interval S]

Per workload, on a freshly reset sandbox each time:
  1. cloudsagad --scenario ... --verify-interval 2s: the calls, then its
     verifier (first poll one interval after the last call);
  2. cloudsagad --scenario ... --no-verify (the same calls again), then the
     naive verifier, in this process: one interval after the last call it
     looks up each expectation (EventName, from the call minus 5 minutes,
     every page until the request ID shows up), regions in parallel, each
     region paced at 2 requests/s (a token bucket, bursts of 1, as
     cloudsagad paces itself); what is not found is looked up again every
     interval.
LookupEvents requests are counted by the sandbox (/_sandbox/stats); the
time to verify runs from the last call (the sandbox's record of it) to the
last verdict.
"""
import argparse
import datetime
import json
import os
import sys
import tempfile
import threading
import time

import boto3
import botocore.config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

REGIONS4 = "us-east-1,eu-west-1,ap-southeast-2,sa-east-1"
# Read-only EC2 actions moto answers quickly.
ACTIONS = ["DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups",
           "DescribeInstances", "DescribeVolumes", "DescribeKeyPairs",
           "DescribeAddresses", "DescribeRouteTables",
           "DescribeInternetGateways", "DescribeNetworkAcls",
           "DescribeDhcpOptions", "DescribeNetworkInterfaces"]
SKEW = 300


def config_text(url):
    steps = ",\n".join('      { service = "ec2"; action = "%s"; }' % a
                       for a in ACTIONS)
    return """aws = { endpoint_url = "%s"; };
accounts = (
  { name = "keys"; },
  { name = "role"; role_arn = "arn:aws:iam::123456789012:role/cloudsaga-bench"; }
);
scenarios = (
  { name = "bench-many";
    summary = "%d read-only EC2 calls in every region";
    steps = (
%s
    );
  }
);
""" % (url, len(ACTIONS), steps)


WORKLOADS = [
    # name, scenario, account, regions (None: all enabled)
    ("network-changes, all regions, long-term key", "network-changes",
     "keys", None),
    ("%d actions x 4 regions, long-term key" % len(ACTIONS), "bench-many",
     "keys", REGIONS4),
    ("%d actions x 4 regions, role (session keys)" % len(ACTIONS),
     "bench-many", "role", REGIONS4),
]


def last_call_time(sb, since):
    """Time of the scenario's last call, from the sandbox's records (the
    calls carry the run marker; lookups and AssumeRole do not)."""
    t = 0.0
    for e in sb.events(since=since):
        if " run/" in (e["record"].get("userAgent") or ""):
            t = max(t, e["eventTimeEpoch"])
    return t


def parse_lines(out):
    return [json.loads(line) for line in out.splitlines()
            if line.startswith("{")]


class Bucket:
    """2 requests per second, bursts of 1: cloudsagad's own pacing of
    LookupEvents (CloudTrail allows bursts of 2; the margin absorbs jitter
    between the client's clock and the server's)."""

    def __init__(self, rate=2.0, burst=1.0):
        self.rate, self.burst = rate, burst
        self.tokens, self.t = burst, time.monotonic()

    def take(self):
        while True:
            now = time.monotonic()
            self.tokens = min(self.burst,
                              self.tokens + (now - self.t) * self.rate)
            self.t = now
            if self.tokens >= 1:
                self.tokens -= 1
                return
            time.sleep((1 - self.tokens) / self.rate)


def naive_verify(env, expectations, t_last, interval, deadline):
    """One LookupEvents query (all pages) per expectation and poll."""
    cfg = botocore.config.Config(retries={"mode": "standard",
                                          "max_attempts": 3})
    by_region = {}
    for e in expectations:
        by_region.setdefault(e["region"], []).append(e)
    found_at = {}
    errors = []
    lock = threading.Lock()
    B.check_loopback(env["AWS_ENDPOINT_URL"])
    clients = {r: boto3.client("cloudtrail", region_name=r, config=cfg,
                               endpoint_url=env["AWS_ENDPOINT_URL"],
                               aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                               aws_secret_access_key=env[
                                   "AWS_SECRET_ACCESS_KEY"])
               for r in by_region}

    def worker(region, pending):
        ct, bucket = clients[region], Bucket()
        t_poll = t_last + interval
        while pending and time.time() < t_last + deadline:
            time.sleep(max(0.0, t_poll - time.time()))
            for e in list(pending):
                start = datetime.datetime.fromtimestamp(
                    e["fired"] - SKEW, datetime.timezone.utc)
                args = {"LookupAttributes": [{
                    "AttributeKey": "EventName",
                    "AttributeValue": e["event_name"]}],
                    "StartTime": start, "MaxResults": 50}
                while True:
                    bucket.take()
                    try:
                        resp = ct.lookup_events(**args)
                    except Exception as x:  # noqa: BLE001 - count and go on
                        with lock:
                            errors.append(str(x))
                        break
                    ids = set()
                    for ev in resp.get("Events", []):
                        rec = json.loads(ev["CloudTrailEvent"])
                        ids.add(rec.get("requestID"))
                    if e["request_id"] in ids:
                        with lock:
                            found_at[e["request_id"]] = time.time()
                        pending.remove(e)
                        break
                    if not resp.get("NextToken"):
                        break
                    args["NextToken"] = resp["NextToken"]
                args.pop("NextToken", None)
            t_poll += interval

    threads = [threading.Thread(target=worker, args=(r, list(v)))
               for r, v in by_region.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return found_at, errors


def run_workload(sb, conf, wl, interval, timeout):
    name, scenario, account, regions = wl
    base = [B.CLOUDSAGAD, "-c", conf, "--scenario", scenario, "--account",
            account, "--output", "json"]
    if regions:
        base += ["--regions", regions]
    env = B.clean_env(sb.url)
    res = {}

    # 1. cloudsagad with its verifier.
    sb.reset()
    since = sb.last_seq()
    st0 = sb.stats()
    r = B.run_measured(base + ["--verify-interval", "%gs" % interval,
                               "--verify-timeout", "%gs" % timeout], env,
                       timeout=timeout + 120)
    t_end = time.time()
    st1 = sb.stats()
    lines = parse_lines(r.stdout)
    verdicts = [x for x in lines if x["kind"] == "verdict"]
    calls, thr = B.lookup_diff(st0, st1)
    t_last = last_call_time(sb, since)
    res["cloudsagad"] = {
        "expectations": len(verdicts),
        "logged": sum(v["verdict"] == "logged" for v in verdicts),
        "lookups": calls, "throttled": thr, "time": t_end - t_last,
        "regions": len({v["region"] for v in verdicts}),
    }

    # 2. The same calls, then the naive verifier.
    sb.reset()
    since = sb.last_seq()
    r = B.run_measured(base + ["--no-verify"], env, timeout=120)
    calls_json = [x for x in parse_lines(r.stdout)
                  if x["kind"] == "call" and x.get("expected")]
    t_last = last_call_time(sb, since)
    exps = []
    for c in calls_json:
        fired = datetime.datetime.strptime(
            c["time"], "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()
        exps.append({"region": c["region"], "event_name": c["event_name"],
                     "request_id": c["request_id"], "fired": fired})
    st0 = sb.stats()
    found, errors = naive_verify(env, exps, t_last, interval, timeout)
    st1 = sb.stats()
    calls, thr = B.lookup_diff(st0, st1)
    res["naive"] = {
        "expectations": len(exps), "logged": len(found), "lookups": calls,
        "throttled": thr, "errors": len(errors),
        "time": (max(found.values()) - t_last) if found else float("nan"),
        "regions": len({e["region"] for e in exps}),
    }
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--delay", default="1:2",
                    help="sandbox delivery delay, seconds (MIN:MAX)")
    ap.add_argument("--interval", type=float, default=2.0)
    ap.add_argument("--timeout", type=float, default=60.0)
    a = ap.parse_args()

    bt = B.build_type()
    results = []
    with B.Sandbox("--delay", a.delay, "--seed", "1") as sb, \
            tempfile.TemporaryDirectory() as tmp:
        conf = os.path.join(tmp, "bench.conf")
        with open(conf, "w") as f:
            f.write(config_text(sb.url))
        for wl in WORKLOADS:
            B.log("verify: %s" % wl[0])
            results.append((wl, run_workload(sb, conf, wl, a.interval,
                                             a.timeout)))

    B.heading("verification: LookupEvents needed to verify a run, 2 TPS "
              "per account and region", [
                  "%s (%s build), %s" % (B.cloudsagad_version(), bt,
                                        B.machine()),
                  "sandbox delivery delay %s s; first poll %gs after the "
                  "last call, then every %gs" % (a.delay, a.interval,
                                                 a.interval),
                  "lookups counted by the sandbox; time = last call to last "
                  "verdict"])
    rows = []
    for wl, res in results:
        for side in ("cloudsagad", "naive"):
            x = res[side]
            rows.append([
                "%s: %s" % (wl[0], "cloudsagad" if side == "cloudsagad"
                            else "naive, 1 lookup/expectation"),
                "%d/%d" % (x["logged"], x["expectations"]),
                x["regions"], x["lookups"], x["throttled"],
                "%.2f" % (x["lookups"] / max(1, x["expectations"])),
                "%.1f" % x["time"]])
    B.table(["workload: verifier", "logged", "regions", "lookups",
             "throttled", "lookups/exp", "verify s"], rows)
    print()
    for wl, res in results:
        c, n = res["cloudsagad"], res["naive"]
        print("%s: %.1fx fewer lookups, %.1fx less time" % (
            wl[0], n["lookups"] / max(1, c["lookups"]),
            n["time"] / c["time"] if c["time"] > 0 else float("nan")))
        if n.get("errors"):
            print("  (naive verifier: %d failed lookups)" % n["errors"])


if __name__ == "__main__":
    main()
