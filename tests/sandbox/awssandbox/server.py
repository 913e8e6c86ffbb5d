"""The HTTP front end: a threaded HTTP/1.1 server that answers the admin
endpoint, injects faults, lets the sandbox's own handlers answer what moto
lacks, passes the rest to moto's WSGI application, and records every call."""

import calendar
import email.utils
import io
import json
import math
import re
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import admin, dryrun, eventpattern, fixes, guardduty, identity, lookup, metricfilter
from .knobs import ERROR_KINDS, LOOKUP_KINDS, REFUSAL_KINDS, Knobs
from .protocol import (Call, Headers, body_is_json, classify, error_response,
                       fault_error, skew_error)
from .recorder import Store, build_record, new_rng
from .stats import Stats

MAX_BODY = 64 * 1024 * 1024
ADMIN_USER = "sandbox-admin"
_RID_RE = re.compile(rb"<(requestId|RequestId|RequestID)>[^<]*</(requestId|RequestId|RequestID)>")
_DROP_HEADERS = {"x-amzn-requestid", "x-amz-request-id", "content-length",
                 "connection", "transfer-encoding", "server", "date", "keep-alive"}


class Sandbox:
    """All state of one sandbox: knobs, records, counters, findings, moto."""

    def __init__(self, knobs=None, verify_signatures=False, seed=None, verbose=False):
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, \
            create_backend_app
        self.initial_knobs = knobs or Knobs()
        self.knobs = self.initial_knobs.rearmed()
        self.knobs_lock = threading.Lock()
        self.store = Store()
        self.throttle = lookup.Throttle()
        self.stats = Stats()
        self.rng = new_rng(seed)
        self.rng_lock = threading.Lock()
        self.findings = guardduty.FindingStore()
        self.verify = verify_signatures
        self.verbose = verbose
        self.admin_credentials = None
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.reset_lock = threading.Lock()
        self.started = time.time()
        self.special = {
            ("cloudtrail", "LookupEvents"): self._lookup_events,
            ("events", "TestEventPattern"): self._test_event_pattern,
            ("logs", "TestMetricFilter"): self._test_metric_filter,
            ("guardduty", "ListFindings"): self._guardduty,
            ("guardduty", "GetFindings"): self._guardduty,
        }
        if verify_signatures:
            self._setup_admin_user()
        self.warm()

    # --- state -------------------------------------------------------------

    def warm(self):
        """Instantiate the default account's us-east-1 EC2 backend so the first
        request is fast, and remember what a fresh region holds."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ec2.models import ec2_backends
        from moto.iam.models import iam_backends
        ec2_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        iam_backends[DEFAULT_ACCOUNT_ID]["aws"]        # loads AWS managed policies
        from . import inventory
        inventory.learn_pristine(DEFAULT_ACCOUNT_ID, "us-east-1")

    def _setup_admin_user(self):
        """A ready-made IAM user allowed everything, created directly in moto,
        then turn on moto's signature and policy checks."""
        from moto import settings
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.core.authorization import ActionAuthenticatorMixin
        from moto.iam.models import iam_backends
        iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
        iam.create_user(region_name="us-east-1", user_name=ADMIN_USER)
        iam.put_user_policy(ADMIN_USER, "sandbox-admin-all", json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
        key = iam.create_access_key(ADMIN_USER)
        if self.admin_credentials is None:
            self.admin_credentials = (key.access_key_id, key.secret_access_key)
        else:
            # After a reset keep the key that was printed at start-up.
            del iam.access_keys[key.access_key_id]
            key.access_key_id, key.secret_access_key = self.admin_credentials
            iam.access_keys[key.access_key_id] = key
        settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        ActionAuthenticatorMixin.request_count = 0

    def reset(self):
        from moto.moto_api._internal.models import moto_api_backend
        with self.reset_lock:
            if self.verify:
                from moto import settings
                settings.INITIAL_NO_AUTH_ACTION_COUNT = float("inf")
            moto_api_backend.reset()
            self.store.reset()
            self.throttle.reset()
            self.stats.reset()
            self.findings.reset()
            with self.knobs_lock:
                self.knobs = self.initial_knobs.rearmed()
            if self.verify:
                self._setup_admin_user()
            self.warm()

    def set_knobs(self, changes):
        with self.knobs_lock:
            self.knobs = self.knobs.updated(changes)
            return self.knobs

    def random(self):
        with self.rng_lock:
            return self.rng.random()

    def pick_fault(self, knobs, call, lookup=False):
        """The first matching fault rule that fires, or None. Rules of the
        LookupEvents answer kinds are asked only with lookup=True, once the
        sandbox has a successful LookupEvents answer to damage."""
        from .recorder import event_name_for
        name = event_name_for(call)
        for f in knobs.faults:
            if (f.kind in LOOKUP_KINDS) != lookup:
                continue
            if f.matches(call.service, call.scope_region, call.operation, name) \
                    and f.fire(self.random):
                self.stats.fault(call.service, f.kind)
                return f
        return None

    def check_request_time(self, call):
        """With --verify-signatures: refuse a SigV4 request whose date is more
        than 15 minutes off the sandbox's (possibly skewed) clock, as AWS
        does, before anything else. None when fine."""
        if not self.verify or not (call.headers.get("Authorization") or "").startswith(
                "AWS4-HMAC-SHA256"):
            return None
        stamp = call.headers.get("X-Amz-Date")
        when = None
        if stamp:
            try:
                when = calendar.timegm(time.strptime(stamp.strip(), "%Y%m%dT%H%M%SZ"))
            except ValueError:
                when = None
        elif call.headers.get("Date"):
            try:
                when = email.utils.parsedate_to_datetime(call.headers.get("Date")).timestamp()
            except (TypeError, ValueError):
                when = None
        if when is None:
            return None
        server = time.time() + call.skew
        if abs(when - server) <= 900:
            return None
        status, code, message = skew_error(call, when, server)
        extra = None
        if code == "RequestTimeTooSkewed":
            extra = {"RequestTime": stamp or call.headers.get("Date"),
                     "ServerTime": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                 time.gmtime(server)),
                     "MaxAllowedSkewMilliseconds": 900000}
        return error_response(call, status, code, message, extra)

    # --- answering ---------------------------------------------------------

    def dispatch(self, call, handler):
        """(status, headers, body) for an AWS call that got past the faults."""
        if call.model is None:
            return error_response(call, 400, "UnknownService",
                                  "The sandbox knows no AWS service named %r (from the "
                                  "SigV4 credential scope)." % call.service)
        if call.protocol in ("ec2", "query", "json") \
                and call.operation not in call.model.operation_names:
            # Never handled by a service: CloudTrail has nothing to record.
            call.unrecorded = True
            if call.protocol == "json":
                return error_response(call, 400, "UnknownOperationException",
                                      "Unknown operation %s" % call.operation)
            return error_response(call, 400, "InvalidAction",
                                  "The action %s is not valid for this web service."
                                  % call.operation)
        if (call.protocol == "json" or (call.protocol == "rest-json" and call.body
                                         and body_is_json(call))) \
                and not isinstance(call.params, dict):
            call.unrecorded = True
            return error_response(call, 400, "SerializationException",
                                  "The request body is not a JSON object.")
        special = self.special.get((call.service, call.operation))
        if special is not None:
            resp = special(call)
            if resp is not None:
                return resp
        if dryrun.is_dry_run(call):
            resp = dryrun.handle(call)
            if resp is not None:
                return resp
        fix = fixes.HANDLERS.get((call.service, call.operation))
        if fix is not None:
            resp = fix(call)
            if resp is not None:
                from . import auth
                denied = auth.check(call)
                return error_response(call, *denied) if denied else resp
        return self.call_moto(call, handler)

    def _checked(self, call):
        from . import auth
        denied = auth.check(call)
        if denied is not None:
            return error_response(call, *denied)
        return None

    def _lookup_events(self, call):
        knobs = call.knobs or self.knobs
        return self._checked(call) or lookup.handle(
            call, self.store, self.throttle, knobs, self.stats,
            damage_fault=lambda: self.pick_fault(knobs, call, lookup=True))

    def _test_event_pattern(self, call):
        self.stats.count("test_event_pattern")
        return self._checked(call) or eventpattern.handle(call)

    def _test_metric_filter(self, call):
        self.stats.count("test_metric_filter")
        return self._checked(call) or metricfilter.handle(call)

    def _guardduty(self, call):
        return self._checked(call) or guardduty.handle(call, self.findings)

    def call_moto(self, call, handler):
        environ = wsgi_environ(call, handler)
        out = {}
        chunks = []

        def start_response(status, headers, exc_info=None):
            out["status"] = status
            out["headers"] = headers
            return chunks.append

        try:
            result = self.moto(environ, start_response)
            try:
                for chunk in result:
                    chunks.append(chunk)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except NotImplementedError:
            sys.stderr.write("aws-sandbox: moto does not implement %s:%s\n" % (
                call.service, call.operation))
            return error_response(call, 501, "NotImplemented",
                                  "moto %s does not implement %s:%s" % (
                                      moto_version(), call.service, call.operation))
        except Exception:
            sys.stderr.write("aws-sandbox: moto failed on %s:%s\n%s" % (
                call.service, call.operation, traceback.format_exc()))
            return error_response(call, 500, "InternalError" if call.protocol in (
                "ec2", "rest-xml") else "InternalFailure",
                "The sandbox's moto backend failed on this request.")
        status = int(str(out.get("status", "500")).split()[0])
        body = b"".join(c if isinstance(c, bytes) else c.encode() for c in chunks)
        return status, list(out.get("headers", [])), body

    def finish(self, call, resp):
        """Put the call's request ID into the answer and make EC2's access
        errors look like EC2's."""
        status, headers, body = resp
        rid = call.request_id.encode()
        if body and body.lstrip()[:1] == b"<":
            body = _RID_RE.sub(lambda m: b"<%s>%s</%s>" % (m.group(1), rid, m.group(2)),
                               body)
            if call.protocol == "ec2" and status == 403 and b"<Code>AccessDenied</Code>" in body:
                m = re.search(rb"<Message>(.*?)</Message>", body, re.S)
                from . import auth
                status, headers, body = error_response(
                    call, 403, "UnauthorizedOperation", auth.unauthorized_message(
                        m.group(1).decode("utf-8", "replace") if m else ""))
        if call.protocol == "json" and 400 < status < 500:
            status = json_error_status(call, headers, body, status)
        head_length = None
        kept = []
        for k, v in headers:
            lk = k.lower()
            if lk == "content-length":
                head_length = v
            if lk == "content-type" and v.startswith("text/html") \
                    and call.protocol in ("json", "rest-json"):
                # Some moto services label their JSON as HTML.
                v = "application/json" if call.protocol == "rest-json" \
                    else "application/x-amz-json-%s" % call.json_version
            if lk not in _DROP_HEADERS:
                kept.append((k, v))
        kept.append(("x-amzn-RequestId", call.request_id))
        kept.append(("x-amz-request-id", call.request_id))
        return status, kept, body, head_length

    def record(self, call, status, headers, body, knobs):
        if call.unrecorded:
            return
        with self.rng_lock:
            rec = build_record(call, status, headers, body, knobs, self.rng)
        if rec is None:
            return
        self.store.add(rec)
        self.stats.count("records")
        if rec.dropped:
            self.stats.count("dropped")
        if knobs.duplicated(rec.record["eventName"], rec.record["eventSource"]):
            # CloudTrail's documented duplicate delivery: the same event
            # (same eventID) a second time.
            self.store.add(rec.duplicate_of(self.store.next_seq()))
            self.stats.count("duplicates")


_json_status_cache = {}


def json_error_status(call, headers, body, status):
    """JSON 1.0/1.1 services answer client errors with 400 unless the model
    gives the error another status; moto sometimes says 404 (Secrets
    Manager's ResourceNotFoundException, ...)."""
    from .recorder import extract_error
    code, _ = extract_error(status, headers, body)
    if code is None or call.model is None:
        return status
    key = (call.model.service_name, code)
    if key not in _json_status_cache:
        wanted = 400
        for shape in call.model.error_shapes:
            if shape.name == code or shape.metadata.get("error", {}).get("code") == code:
                wanted = shape.metadata.get("error", {}).get("httpStatusCode", 400)
                break
        _json_status_cache[key] = wanted
    return _json_status_cache[key]


def moto_version():
    import moto
    return getattr(moto, "__version__", "?")


def _dance(s):
    return s.encode("utf-8").decode("latin-1")


def wsgi_environ(call, handler):
    host, port = handler.server.server_address[:2]
    environ = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(call.body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "aws-sandbox",
        "REQUEST_METHOD": call.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": _dance(urllib.parse.unquote(call.path)),
        "QUERY_STRING": _dance(call.query_string),
        "REQUEST_URI": _dance(call.raw_path),
        "RAW_URI": _dance(call.raw_path),
        "REMOTE_ADDR": call.client_ip,
        "REMOTE_PORT": call.client_port,
        "SERVER_NAME": host,
        "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": str(len(call.body)),
    }
    for key, value in call.headers.items():
        if "_" in key:
            continue
        k = key.upper().replace("-", "_")
        if k in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue
        if k != "CONTENT_TYPE":
            k = "HTTP_" + k
            if k in environ:
                value = environ[k] + "," + value
        environ[k] = value
    return environ


def malformed_body(call):
    if call.protocol in ("ec2", "query", "rest-xml"):
        return ('<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse><requestId>%s'
                '</requestId><<broken &&& </%sRespons' % (
                    call.operation or "", call.request_id, call.operation or "")).encode()
    return b'{"sandbox": "malformed", "Events": [{"EventId": "' + \
        call.request_id.encode() + b'", ]]'


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300           # idle keep-alive connections and stalled bodies
    server_version = "aws-sandbox"
    sys_version = ""

    def log_message(self, fmt, *args):
        if self.server.sandbox is not None and self.server.sandbox.verbose:
            sys.stderr.write("aws-sandbox: %s %s\n" % (self.address_string(), fmt % args))

    def log_request(self, code="-", size="-"):
        # The path only: a presigned URL's query string holds credentials.
        path = (getattr(self, "path", "") or "").split("?", 1)[0]
        self.log_message("%s %s %s", getattr(self, "command", "-"), path, code)

    def handle(self):
        try:
            BaseHTTPRequestHandler.handle(self)
        except (ConnectionError, BrokenPipeError, socket.timeout, OSError, ValueError):
            self.close_connection = True

    def do_GET(self):
        self.serve()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = do_GET

    def read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            data = bytearray()
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ValueError("truncated chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:
                        trailer = self.rfile.readline(65537)
                        if trailer in (b"\r\n", b"\n", b""):
                            break
                    return bytes(data)
                if len(data) + size > MAX_BODY:
                    raise OverflowError()
                data += self.rfile.read(size)
                self.rfile.readline(3)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        n = int(length)
        if n < 0:
            raise ValueError("negative Content-Length")
        if n > MAX_BODY:
            raise OverflowError()
        data = self.rfile.read(n)
        if len(data) != n:
            raise ValueError("short body")
        return data

    def send_plain(self, status, obj):
        body = json.dumps(obj, indent=1, sort_keys=False).encode() + b"\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reset_connection(self):
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        self.close_connection = True

    def date_time_string(self, timestamp=None):
        # The Date header, in the sandbox's (possibly skewed) clock.
        if timestamp is None:
            timestamp = time.time() + getattr(self, "skew", 0.0)
        return email.utils.formatdate(timestamp, usegmt=True)

    def serve(self):
        sb = self.server.sandbox
        self.skew = 0.0
        try:
            body = self.read_body()
        except OverflowError:
            self.close_connection = True
            self.send_plain(413, {"error": "request body too large"})
            return
        except ValueError as e:
            self.close_connection = True
            self.send_plain(400, {"error": "bad request body: %s" % e})
            return
        split = urllib.parse.urlsplit(self.path)
        path = split.path or "/"
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            status, obj = admin.handle(sb, self.command, path, split.query, body)
            self.send_plain(status, obj)
            return

        call = Call()
        call.start = time.time()
        call.seq = sb.store.next_seq()
        call.request_id = str(uuid.uuid4())
        call.method = self.command
        call.path = path
        call.raw_path = self.path
        call.query_string = split.query
        call.query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        call.headers = Headers(self.headers.items())
        call.body = body
        call.client_ip, call.client_port = self.client_address[:2]
        if path.startswith("/moto-api"):
            self.send_answer(call, sb.finish(call, sb.call_moto(call, self)), None, None)
            return
        knobs = sb.knobs
        call.knobs = knobs
        call.skew = self.skew = knobs.skew
        classify(call)
        call.account = identity.resolve_account(call.access_key, call.headers)
        sb.stats.request(call.service, call.operation)
        kind = None
        resp = sb.check_request_time(call)
        if resp is not None:
            call.unrecorded = True
        else:
            fault = sb.pick_fault(knobs, call)
            kind = fault.kind if fault is not None else None
            if kind == "reset":
                self.reset_connection()
                return
            if kind in ERROR_KINDS or kind in REFUSAL_KINDS:
                resp = error_response(call, *fault_error(call, kind))
                # Refused before the service saw it: nothing to record.
                call.unrecorded = kind in REFUSAL_KINDS
            else:
                resp = sb.dispatch(call, self)
        status, headers, rbody, head_length = sb.finish(call, resp)
        sb.record(call, status, headers, rbody, knobs)
        wait = knobs.latency_ms / 1000.0
        if kind == "slow":
            wait += knobs.slow_seconds
        if wait > 0:
            time.sleep(wait)
        self.send_answer(call, (status, headers, rbody, head_length), kind, knobs)

    def send_answer(self, call, resp, kind, knobs):
        status, headers, body, head_length = resp
        if kind == "empty":
            status, body = 200, b""
        elif kind == "malformed":
            status, body = 200, malformed_body(call)
        elif kind == "huge" and self.command != "HEAD":
            self.send_huge(call, headers, knobs.huge_mib)
            return
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", head_length or str(len(body)))
            self.end_headers()
            return
        if kind == "truncated":
            claimed = max(len(body), 64)
            self.send_header("Content-Length", str(claimed))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if kind == "drip":
            self.drip(body, knobs.drip_seconds)
            return
        self.wfile.write(body)

    def drip(self, body, seconds):
        """The answer in small pieces, one every DRIP_INTERVAL or more, so
        that the whole takes about `seconds`."""
        self.wfile.flush()
        steps = max(1, int(round(seconds / DRIP_INTERVAL)))
        size = max(1, int(math.ceil(len(body) / float(steps))))
        pieces = [body[i:i + size] for i in range(0, len(body), size)] or [b""]
        interval = seconds / len(pieces)
        for i, piece in enumerate(pieces):
            if i:
                time.sleep(interval)
            self.wfile.write(piece)
            self.wfile.flush()

    def send_huge(self, call, headers, mib):
        """200 with a syntactically valid body of at least `mib` MiB made of
        tiny values, streamed."""
        head, unit, sep, tail = huge_parts(call)
        want = int(mib * 1024 * 1024)
        n = max(1, (want - len(head) - len(tail)) // (len(unit) + len(sep)) + 2)
        length = len(head) + n * len(unit) + (n - 1) * len(sep) + len(tail)
        self.send_response(200)
        for k, v in headers:
            if k.lower() != "content-type":
                self.send_header(k, v)
        self.send_header("Content-Type", "application/x-amz-json-1.1"
                         if call.protocol == "json" else "application/json"
                         if call.protocol == "rest-json" else "text/xml")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(head)
        block = 65536
        chunk = (unit + sep) * block
        left = n - 1            # elements followed by a separator
        while left >= block:
            self.wfile.write(chunk)
            left -= block
        if left:
            self.wfile.write((unit + sep) * left)
        self.wfile.write(unit + tail)
        self.wfile.flush()


DRIP_INTERVAL = 0.2


def _first_list_member(call, default):
    """The wire name of the first list member of the operation's output, so
    that a huge answer has the shape of the real one."""
    try:
        shape = call.model.operation_model(call.operation).output_shape
    except Exception:
        return default
    if shape is None:
        return default
    for name, member in shape.members.items():
        if member.type_name == "list":
            return member.serialization.get("name", name)
    return default


def huge_parts(call):
    """(head, unit, separator, tail) of a huge answer in the call's protocol."""
    op = call.operation or "Sandbox"
    rid = call.request_id
    p = call.protocol
    if p in ("json", "rest-json", "rpcv2"):
        key = "Events" if op == "LookupEvents" else _first_list_member(call, "Items")
        return ('{"%s":[' % key).encode(), b"1", b",", b"]}"
    if p == "ec2":
        key = _first_list_member(call, "itemSet")
        key = key[0].lower() + key[1:]
        return (('<?xml version="1.0" encoding="UTF-8"?>\n<%sResponse xmlns="http://'
                 'ec2.amazonaws.com/doc/2016-11-15/"><requestId>%s</requestId><%s>'
                 % (op, rid, key)).encode(), b"<item/>", b"",
                ("</%s></%sResponse>" % (key, op)).encode())
    if p == "query":
        key = _first_list_member(call, "Items")
        ns = call.model.metadata.get("xmlNamespace", "") if call.model is not None else ""
        return (('<%sResponse xmlns="%s"><%sResult><%s>' % (op, ns, op, key)).encode(),
                b"<member/>", b"",
                ("</%s></%sResult><ResponseMetadata><RequestId>%s</RequestId>"
                 "</ResponseMetadata></%sResponse>" % (key, op, rid, op)).encode())
    return (('<?xml version="1.0" encoding="UTF-8"?>\n<%sResult xmlns="http://'
             's3.amazonaws.com/doc/2006-03-01/">' % op).encode(), b"<Item/>", b"",
            ("</%sResult>" % op).encode())


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address, sandbox):
        self.sandbox = sandbox
        ThreadingHTTPServer.__init__(self, address, Handler)

    def handle_error(self, request, client_address):
        if self.sandbox.verbose:
            ThreadingHTTPServer.handle_error(self, request, client_address)
