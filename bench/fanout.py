"""Benchmark (a) fan-out: network-changes over every enabled region with
200 ms of latency per AWS answer, cloudsagad (all regions at once) against
a serial boto3 baseline making the same calls one after another
(CloudSaga's approach, bench/cloudsaga_serial.py).

    fanout.py [--latency MS] [--repeat N]

Reports wall time, the calls each side made (counted by the sandbox, not
by the clients), the ratio, and the peak RSS of both processes.
"""
import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as B  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def seed(sb, env):
    """Instances in two regions, extra VPCs: every branch of the scenario."""
    for args in (["instances", "us-east-1=2", "eu-west-1=1"],
                 ["vpcs", "us-east-1=2", "eu-west-1=1"]):
        B.run_measured([B.SEED, "--endpoint", sb.url] + args, env,
                       timeout=120)


def run_cloudsagad(sb, env, conf):
    before = sb.stats()
    r = B.run_measured([B.CLOUDSAGAD, "-c", conf, "--scenario",
                        "network-changes", "--no-verify"], env, timeout=120)
    after = sb.stats()
    return r, B.stats_diff(before, after)


def run_serial(sb, env):
    before = sb.stats()
    r = B.run_measured([B.PYTHON, os.path.join(HERE, "cloudsaga_serial.py")],
                       env, timeout=300)
    after = sb.stats()
    return r, json.loads(r.stdout), B.stats_diff(before, after)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--latency", type=int, default=200)
    ap.add_argument("--repeat", type=int,
                    default=int(os.environ.get("BENCH_REPEAT", "3")))
    a = ap.parse_args()

    bt = B.build_type()
    with B.Sandbox("--latency", str(a.latency), "--seed", "1") as sb, \
            tempfile.TemporaryDirectory() as tmp:
        env = B.clean_env(sb.url)
        conf = os.path.join(tmp, "bench.conf")
        with open(conf, "w") as f:
            f.write('aws = { endpoint_url = "%s"; };\n' % sb.url)
        seed(sb, env)
        # Warm-up: moto builds each region's backend on first use.
        B.log("fanout: warm-up")
        run_cloudsagad(sb, env, conf)
        run_serial(sb, env)

        cs, bl = [], []
        for i in range(a.repeat):
            B.log("fanout: round %d/%d" % (i + 1, a.repeat))
            order = (0, 1) if i % 2 == 0 else (1, 0)
            for side in order:
                if side == 0:
                    cs.append(run_cloudsagad(sb, env, conf))
                else:
                    bl.append(run_serial(sb, env))

    cs_calls = cs[-1][1]
    bl_calls = bl[-1][2]
    n_cs = sum(cs_calls.values())
    n_bl = sum(bl_calls.values())
    regions = bl[-1][1]["regions"]
    cs_wall = [r.wall for r, _ in cs]
    bl_calls_s = [j["calls_s"] for _, j, _ in bl]
    bl_wall = [r.wall for r, _, _ in bl]
    cs_rss = max(r.maxrss_kb for r, _ in cs) / 1024
    bl_rss = max(r.maxrss_kb for r, _, _ in bl) / 1024

    B.heading("fan-out: network-changes, %d regions, %d ms latency per "
              "answer" % (regions, a.latency), [
                  "%s (%s build), %s" % (B.cloudsagad_version(), bt,
                                        B.machine()),
                  "sandbox seeded: instances in us-east-1 (2) and eu-west-1 "
                  "(1), 2+1 extra VPCs",
                  "median of %d runs (min-max); calls counted by the "
                  "sandbox" % a.repeat])
    B.table(["", "calls", "wall s", "calls-only s", "peak RSS MB"], [
        ["cloudsagad (fan-out)", n_cs, B.spread(cs_wall), "-",
         "%.1f" % cs_rss],
        ["boto3 serial (CloudSaga)", n_bl, B.spread(bl_wall),
         B.spread(bl_calls_s), "%.1f" % bl_rss],
    ])
    print()
    if cs_calls != bl_calls:
        print("WARNING: the two sides made different calls:")
        print("  cloudsagad: %s" % json.dumps(cs_calls, sort_keys=True))
        print("  serial:     %s" % json.dumps(bl_calls, sort_keys=True))
    else:
        print("same calls on both sides: " + ", ".join(
            "%s %d" % (k.split(":")[1], v) for k, v in
            sorted(cs_calls.items())))
    print("serial lower bound: %d calls x %d ms = %.1f s" % (
        n_bl, a.latency, n_bl * a.latency / 1000))
    print("ratio (serial calls-only / cloudsagad whole process): %.1fx "
          "faster" % (B.median(bl_calls_s) / B.median(cs_wall)))
    print("ratio (process wall / process wall): %.1fx faster" % (
        B.median(bl_wall) / B.median(cs_wall)))


if __name__ == "__main__":
    main()
