"""Benchmark (b) SigV4 signing throughput: libcloudsaga's signer
(bench/sigv4_bench.c, linked with build/libcloudsaga.a) against botocore's
SigV4Auth signing the same requests.

    sigv4.py [--count N] [--repeat N] [--no-callgrind] [--baseline REV]

First both sign the same requests at a fixed date and the Authorization
values are compared (they must be identical, or the benchmark stops).
Then requests per second (median of --repeat runs), and, with valgrind,
instructions per signature from callgrind, which do not depend on the
machine's load.

"before": the signer of commit REV (default BASELINE_REV, the last one
before the signer was made faster), built from git into
BUILD/bench/base-REV/ with the same bench program and linked with the same
libcloudsaga.a, timed and counted in the same run.  Without git or that
commit, its instruction count as measured on main (BASELINE_IR) is shown
instead.
"""
import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

# The requests of sigv4_bench.c, byte for byte.
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"]
AKID = "AKIDEXAMPLEBENCHKEY0"
SECRET = "bench/secret/not/a/real/key/0000000000"
ASIA = "ASIAEXAMPLEBENCHKEY0"
SECRET2 = "bench/session/secret/not/real/111111111"
TOKEN = ("IQoJb3JpZ2luX2VjEBenchSessionTokenNotReal" + "A" * 53 + "B" * 53 +
         "==")
DATE = datetime.datetime(2025, 3, 1, 12, 0, 0)

# The signer before HMAC/SHA-256 contexts were reused (HMAC() and
# EVP_Digest() fetching the algorithm on every call): main at 932205e.
BASELINE_REV = "932205e95c2d1a7fe286779ca2e68d262171c140"
# Its instructions per signature with the key cache (callgrind, measured on
# main on 2026-12-04), shown when the commit cannot be built.
BASELINE_IR = 110637


def build(i):
    """Request i as an AWSRequest and the signer botocore would use."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    region = REGIONS[(i // 2) % 4]
    if i % 2 == 0:
        body = ("Action=DescribeInstances&Version=2016-11-15"
                "&Filter.1.Name=instance-state-name&Filter.1.Value.1=running"
                "&Filter.1.Value.2=stopped&MaxResults=1000&NextToken=bench%d"
                % i)
        req = AWSRequest("POST", "https://ec2.%s.amazonaws.com/" % region,
                         data=body.encode(), headers={
                             "Content-Type": "application/x-www-form-"
                                             "urlencoded; charset=utf-8"})
        return req, SigV4Auth(Credentials(AKID, SECRET), "ec2", region)
    body = ('{"LookupAttributes": [{"AttributeKey": "AccessKeyId", '
            '"AttributeValue": "%s"}], "StartTime": 1740830000, '
            '"MaxResults": 50, "NextToken": "bench%d"}' % (ASIA, i))
    req = AWSRequest("POST", "https://cloudtrail.%s.amazonaws.com/" % region,
                     data=body.encode(), headers={
                         "Content-Type": "application/x-amz-json-1.1",
                         "X-Amz-Target": "com.amazonaws.cloudtrail.v20131101."
                                         "CloudTrail_20131101.LookupEvents"})
    return req, SigV4Auth(Credentials(ASIA, SECRET2, TOKEN), "cloudtrail",
                          region)


def botocore_worker(nbuild, nsign):
    """Build nbuild requests, then time add_auth on the first nsign."""
    reqs = [build(i) for i in range(nbuild)]
    warm = max(1, nsign // 10)
    for req, auth in reqs[:warm]:
        auth.add_auth(req)
    t0 = time.perf_counter()
    for req, auth in reqs[:nsign]:
        auth.add_auth(req)
    dt = time.perf_counter() - t0
    print(json.dumps({"n": nsign, "seconds": dt, "per_second": nsign / dt,
                      "us_per_sign": dt * 1e6 / nsign}))


def botocore_authz(n):
    with mock.patch("botocore.auth.get_current_datetime", return_value=DATE):
        out = []
        for i in range(n):
            req, auth = build(i)
            auth.add_auth(req)
            out.append(req.headers["Authorization"])
        return out


def callgrind(cmd, toggles=()):
    """Instructions executed (Ir), optionally only inside functions."""
    vg = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"]
    vg += ["--toggle-collect=" + t for t in toggles]
    r = subprocess.run(vg + cmd, capture_output=True, text=True)
    m = re.search(r"Collected : (\d+)", r.stderr)
    if r.returncode != 0 or not m:
        raise SystemExit("bench: callgrind failed:\n" + r.stderr[-2000:])
    return int(m.group(1))


def baseline_tool(rev):
    """sigv4_bench linked with common/sigv4.c of commit rev, or None."""
    d = os.path.join(B.BUILD, "bench", "base-" + rev[:12])
    srcs = {}
    for f in ("sigv4.c", "sigv4.h"):
        r = subprocess.run(["git", "-C", B.TOP, "show",
                            "%s:common/%s" % (rev, f)], capture_output=True)
        if r.returncode != 0:
            B.log("sigv4: no baseline (git show %s:common/%s failed)" %
                  (rev[:12], f))
            return None
        srcs[f] = r.stdout
    os.makedirs(d, exist_ok=True)
    for f, data in srcs.items():
        path = os.path.join(d, f)
        try:
            with open(path, "rb") as fh:
                same = fh.read() == data
        except OSError:
            same = False
        if not same:
            with open(path, "wb") as fh:
                fh.write(data)
    return B.tool("sigv4_bench", out=os.path.join(d, "sigv4_bench"),
                  extra_src=[os.path.join(d, "sigv4.c")], include=[d],
                  deps=[os.path.join(d, "sigv4.h")])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=200000,
                    help="requests per C run (botocore signs a tenth)")
    ap.add_argument("--repeat", type=int,
                    default=int(os.environ.get("BENCH_REPEAT", "3")))
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--baseline", default=BASELINE_REV, metavar="REV",
                    help="commit whose signer is the 'before' row")
    ap.add_argument("--botocore-worker", nargs=2, type=int,
                    metavar=("NBUILD", "NSIGN"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.botocore_worker:
        botocore_worker(*a.botocore_worker)
        return

    bt = B.build_type()
    tool = B.tool("sigv4_bench")
    base = baseline_tool(a.baseline)
    me = os.path.abspath(__file__)

    # Same requests, same signatures.
    k = 8
    c = json.loads(subprocess.run([tool, str(k), "--print-authz", str(k)],
                                  capture_output=True, text=True,
                                  check=True).stdout)
    py = botocore_authz(k)
    if c["authz"] != py:
        for x, y in zip(c["authz"], py):
            print("C:        %s\nbotocore: %s" % (x, y))
        raise SystemExit("bench: the two signers disagree; not comparing "
                         "the speed of different work")

    if base is not None:
        cb = json.loads(subprocess.run([base, str(k), "--print-authz",
                                        str(k)], capture_output=True,
                                       text=True, check=True).stdout)
        if cb["authz"] != py:
            raise SystemExit("bench: the baseline signer disagrees with "
                             "botocore")

    def c_run(extra, prog=tool):
        return json.loads(subprocess.run([prog, str(a.count)] + extra,
                                         capture_output=True, text=True,
                                         check=True).stdout)

    nb = max(1000, a.count // 10)
    rows = {"cache": [], "nocache": [], "botocore": [], "base": []}
    for i in range(a.repeat):
        B.log("sigv4: round %d/%d" % (i + 1, a.repeat))
        if base is not None:
            rows["base"].append(c_run([], base)["per_second"])
        rows["cache"].append(c_run([])["per_second"])
        rows["nocache"].append(c_run(["--no-cache"])["per_second"])
        r = subprocess.run([B.PYTHON, me, "--botocore-worker", str(nb),
                            str(nb)], capture_output=True, text=True,
                           check=True)
        rows["botocore"].append(json.loads(r.stdout)["per_second"])

    ir = {}
    if not a.no_callgrind and shutil.which("valgrind"):
        B.log("sigv4: callgrind")
        n = 2000
        signs = n + n // 10		# sigv4_bench warms up on a tenth
        toggles = ("sigv4_sign", "sigv4_output_free")
        ir["cache"] = callgrind([tool, str(n)], toggles) / signs
        ir["nocache"] = callgrind([tool, str(n), "--no-cache"],
                                  toggles) / signs
        if base is not None:
            ir["base"] = callgrind([base, str(n)], toggles) / signs
        # botocore: the difference between signing 1100 and 100 of the
        # same 1100 prepared requests (interpreter start, imports and
        # building cancel out).
        lo = callgrind([B.PYTHON, me, "--botocore-worker", "1100", "100"])
        hi = callgrind([B.PYTHON, me, "--botocore-worker", "1100", "1100"])
        # each worker also signs a tenth as warm-up: 110 vs 10
        ir["botocore"] = (hi - lo) / (1100 + 110 - 100 - 10)

    def fmt_ir(key):
        return "{:,.0f}".format(ir[key]) if key in ir else "-"

    import botocore
    B.heading("SigV4 signing: libcloudsaga (C) vs botocore %s SigV4Auth" %
              botocore.__version__, [
                  "%s (%s build, %s), %s" % (
                      B.cloudsagad_version(), bt, os.environ.get("CC", "cc"),
                      B.machine()),
                  "EC2 Query POST (long-term key) and CloudTrail JSON 1.1 "
                  "POST (session token), alternating, 4 regions",
                  "the %d first Authorization values are identical on both "
                  "sides" % k,
                  "signs/s: median of %d runs (min-max), C %d signatures a "
                  "run, botocore %d" % (a.repeat, a.count, nb)])
    if base is None and ir:
        ir["base"] = BASELINE_IR
    base_row = ["libcloudsaga before (%s), key cache" % a.baseline[:7],
                B.spread(rows["base"], "%.0f") if rows["base"] else "-",
                "%.2f" % (1e6 / B.median(rows["base"])) if rows["base"]
                else "-",
                fmt_ir("base") + ("" if base is not None else " (main)")]
    B.table(["signer", "signs/s", "us/sign", "instructions/sign"], [
        base_row,
        ["libcloudsaga, key cache (the daemon)",
         B.spread(rows["cache"], "%.0f"),
         "%.2f" % (1e6 / B.median(rows["cache"])), fmt_ir("cache")],
        ["libcloudsaga, no key cache", B.spread(rows["nocache"], "%.0f"),
         "%.2f" % (1e6 / B.median(rows["nocache"])), fmt_ir("nocache")],
        ["botocore SigV4Auth.add_auth", B.spread(rows["botocore"], "%.0f"),
         "%.2f" % (1e6 / B.median(rows["botocore"])), fmt_ir("botocore")],
    ])
    print()
    bc = B.median(rows["botocore"])
    print("ratio (signs/s): %.1fx botocore with the key cache, %.1fx "
          "without" % (B.median(rows["cache"]) / bc,
                       B.median(rows["nocache"]) / bc))
    if ir:
        print("ratio (instructions): %.1fx fewer with the key cache, %.1fx "
              "without" % (ir["botocore"] / ir["cache"],
                           ir["botocore"] / ir["nocache"]))
    if rows["base"]:
        print("before -> after (signs/s, key cache): %.1fx faster; before "
              "was %.1fx botocore" % (
                  B.median(rows["cache"]) / B.median(rows["base"]),
                  B.median(rows["base"]) / bc))
    if ir:
        print("before -> after (instructions/sign, key cache): %s -> %s "
              "(%.1fx fewer)" % (fmt_ir("base"), fmt_ir("cache"),
                                  ir["base"] / ir["cache"]))


if __name__ == "__main__":
    main()
