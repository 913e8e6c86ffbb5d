"""aws-sandbox command line: parse options, start the server, print the
ready line, run until SIGTERM/SIGINT."""

import argparse
import os
import signal
import sys
import threading

from .knobs import FAULT_KINDS, KnobError, Knobs, check_loopback_host


def build_parser():
    p = argparse.ArgumentParser(
        prog="aws-sandbox",
        description="A local AWS endpoint (moto) with CloudTrail LookupEvents, "
                    "EC2 DryRun, fault injection and an admin API under /_sandbox/.")
    p.add_argument("--port", type=int, default=0,
                   help="TCP port to listen on; 0 (default) picks a free port")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on; must be in 127.0.0.0/8 (default 127.0.0.1)")
    p.add_argument("--delay", metavar="SECONDS|MIN:MAX", default=None,
                   help="delivery delay before a record is visible in LookupEvents")
    p.add_argument("--drop", metavar="NAME[:ok|:error]", action="append", default=[],
                   help="eventName or eventSource whose records never appear; with "
                   ":ok only records without an errorCode, with :error only those "
                   "with one (repeatable)")
    p.add_argument("--delay-name", metavar="NAME=SECONDS|NAME=MIN:MAX", action="append",
                   default=[], help="delivery delay for one eventName or eventSource, "
                   "instead of --delay (repeatable)")
    p.add_argument("--duplicate", metavar="NAME", action="append", default=[],
                   help="eventName or eventSource whose records appear twice in "
                   "LookupEvents, same eventID (repeatable)")
    p.add_argument("--strip-request-id", metavar="NAME", action="append", default=[],
                   help="eventName or eventSource whose records carry no requestID "
                   "(repeatable)")
    p.add_argument("--skew", metavar="SECONDS", default=None,
                   help="the sandbox's clock runs SECONDS ahead (negative: behind): "
                   "Date headers, eventTime, LookupEvents time range, and with "
                   "--verify-signatures the 15-minute request-time check")
    p.add_argument("--latency", metavar="MS", default=None,
                   help="milliseconds added to every AWS response")
    p.add_argument("--fault", metavar="SERVICE[@REGION][/ACTION]:KIND:SHARE",
                   action="append", default=[],
                   help="inject faults (repeatable); SHARE a fraction, a percentage or Nx (the "
                   "next N matching requests); KIND one of %s" % ", ".join(FAULT_KINDS))
    p.add_argument("--slow-seconds", metavar="SECONDS", default=None,
                   help="how long the 'slow' fault holds an answer (default 5)")
    p.add_argument("--huge-mib", metavar="MIB", default=None,
                   help="size of the 'huge' fault's answer (default 40)")
    p.add_argument("--drip-seconds", metavar="SECONDS", default=None,
                   help="how long the 'drip' fault takes to send an answer (default 60)")
    p.add_argument("--lookup-tps", metavar="N", default=None,
                   help="LookupEvents requests per second per account and region "
                   "(default 2, as AWS; 0 disables throttling)")
    p.add_argument("--verify-signatures", action="store_true",
                   help="check SigV4 signatures and IAM policies (moto's "
                   "INITIAL_NO_AUTH_ACTION_COUNT=0 mode) and print a ready-made "
                   "IAM user's key on stdout")
    p.add_argument("--seed", type=int, default=None,
                   help="random seed for fault shares and delay draws")
    p.add_argument("--verbose", action="store_true", help="log every request to stderr")
    return p


def knobs_from_args(args):
    changes = {}
    if args.delay is not None:
        changes["delay"] = args.delay
    if args.drop:
        changes["drop"] = args.drop
    if args.latency is not None:
        changes["latency"] = args.latency
    if args.fault:
        changes["faults"] = args.fault
    if args.slow_seconds is not None:
        changes["slow_seconds"] = args.slow_seconds
    if args.lookup_tps is not None:
        changes["lookup_tps"] = args.lookup_tps
    if args.delay_name:
        changes["delay_by_name"] = args.delay_name
    if args.duplicate:
        changes["duplicate"] = args.duplicate
    if args.strip_request_id:
        changes["strip_request_id"] = args.strip_request_id
    if args.skew is not None:
        changes["skew"] = args.skew
    if args.huge_mib is not None:
        changes["huge_mib"] = args.huge_mib
    if args.drip_seconds is not None:
        changes["drip_seconds"] = args.drip_seconds
    return Knobs().updated(changes)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        host = check_loopback_host(args.host)
        knobs = knobs_from_args(args)
    except KnobError as e:
        parser.error(str(e))
    if not 0 <= args.port <= 65535:
        parser.error("--port %d: not a TCP port" % args.port)

    # AWS managed policies (arn:aws:iam::aws:policy/...) exist in every
    # account, as in AWS: attachable, and valid as permissions boundaries.
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    from .server import Sandbox, Server
    # Bind first, so a busy port fails at once, before moto is loaded.
    try:
        server = Server((host, args.port), None)
    except OSError as e:
        sys.stderr.write("aws-sandbox: cannot listen on %s:%d: %s\n" % (
            host, args.port, e.strerror or e))
        return 1
    server.sandbox = Sandbox(knobs, verify_signatures=args.verify_signatures,
                             seed=args.seed, verbose=args.verbose)
    sandbox = server.sandbox
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="serve", daemon=True)
    thread.start()
    out = sys.stdout
    if sandbox.admin_credentials is not None:
        out.write("access_key_id %s\n" % sandbox.admin_credentials[0])
        out.write("secret_access_key %s\n" % sandbox.admin_credentials[1])
    out.write("ready http://%s:%d\n" % (host, port))
    out.flush()
    # Anything moto prints later goes to stderr, so stdout stays parseable.
    sys.stdout = sys.stderr
    while not stop.wait(3600):
        pass
    server.shutdown()
    server.server_close()
    sys.stderr.flush()
    sys.__stdout__.flush()
    # Skip the interpreter's slow teardown of moto's module graph; the
    # state is in memory only, there is nothing to save.
    os._exit(0)
