"""A local stand-in for the credential endpoints of an instance or a
container: EC2 instance metadata (IMDSv2 token, role listing, credential
document) and the container credential endpoint (ECS, EKS Pod Identity),
on one loopback port, with faults.

    stub = MetadataStub(mode="ok")          # listens on 127.0.0.1:<port>
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = stub.url       # IMDS
    env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = stub.url + "/creds"
    stub.set_mode("500")                    # at any time
    stub.close()

or as a program: `metadata_stub.py [--port 0] [--mode ok]` prints
`ready http://127.0.0.1:PORT` and serves until SIGTERM.

Modes (what every request gets):

  ok        the real thing: a session token for PUT /latest/api/token, the
            role name for GET /latest/meta-data/iam/security-credentials/,
            the role's credential document (Code Success, temporary keys
            that expire in 6 hours) for .../ROLE, the container document
            for GET /creds (with Authorization checked when a token is set)
  down      nothing listens on the port: connection refused
  500       HTTP 500 with a short text body
  reset     the request is read, then the connection is reset (TCP RST)
  hang      the request is read and never answered (the connection stays
            open until the stub closes or the mode changes)
  huge      token and role as `ok`, but the credential documents are
            `huge_bytes` (default 1 MiB) of valid JSON: far above the 64 KiB
            that a metadata answer may be
  malformed the credential documents are cut in half (not JSON)
  expired   the credential documents' keys expired an hour ago

Keys are fake (ASIA... / "stub-secret-N"), numbered per document handed
out (`issued`); `requests` counts requests per (mode, path kind).  It binds
to 127.0.0.1 only.
"""
import collections
import datetime
import http.server
import json
import socket
import socketserver
import struct
import sys
import threading
import time

TOKEN = "stub-imds-session-token-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
ROLE = "cloudsagad-fault-role"
ROLE_PATH = "/latest/meta-data/iam/security-credentials/"
MODES = ("ok", "down", "500", "reset", "hang", "huge", "malformed",
         "expired")


def _iso(t):
    return datetime.datetime.fromtimestamp(
        t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class MetadataStub:
    def __init__(self, mode="ok", port=0, huge_bytes=1 << 20,
                 container_token=None):
        if mode not in MODES:
            raise ValueError("unknown mode %r" % mode)
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.mode = mode
        self.huge_bytes = huge_bytes
        self.container_token = container_token
        self.requests = collections.Counter()
        self.issued = 0
        self.server = None
        self.thread = None
        # Reserve the port: bind once, keep the number.
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        self.port = s.getsockname()[1]
        s.close()
        self.url = "http://127.0.0.1:%d" % self.port
        if mode != "down":
            self._listen()

    # ---- listening -----------------------------------------------------

    def _listen(self):
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_PUT(self):
                stub._serve(self)

            def do_GET(self):
                stub._serve(self)

        self.server = _Server(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def _unlisten(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None
            self.thread = None

    def set_mode(self, mode):
        if mode not in MODES:
            raise ValueError("unknown mode %r" % mode)
        with self.lock:
            old, self.mode = self.mode, mode
            self.changed.notify_all()
        if old == "down" and mode != "down":
            self._listen()
        elif old != "down" and mode == "down":
            self._unlisten()

    def close(self):
        with self.lock:
            self.mode = "closed"
            self.changed.notify_all()
        self._unlisten()

    def count(self, kind=None):
        with self.lock:
            if kind is None:
                return sum(self.requests.values())
            return sum(n for (m, k), n in self.requests.items()
                       if k == kind)

    # ---- answers -------------------------------------------------------

    def _document(self, mode, container):
        with self.lock:
            self.issued += 1
            n = self.issued
        now = time.time()
        exp = now - 3600 if mode == "expired" else now + 6 * 3600
        doc = {"AccessKeyId": "ASIASTUBFAULT%07d" % n,
               "SecretAccessKey": "stub-secret-%d" % n,
               "Token": "stub-session-token-%d" % n,
               "Expiration": _iso(exp)}
        if not container:
            doc = dict({"Code": "Success", "LastUpdated": _iso(now),
                        "Type": "AWS-HMAC"}, **doc)
        body = json.dumps(doc).encode()
        if mode == "huge":
            pad = self.huge_bytes - len(body)
            doc["Padding"] = "x" * max(pad, 0)
            body = json.dumps(doc).encode()
        elif mode == "malformed":
            body = body[:len(body) // 2]
        return body

    def _serve(self, h):
        path = h.path.split("?", 1)[0]
        if h.command == "PUT" and path == "/latest/api/token":
            kind = "token"
        elif h.command == "GET" and path == ROLE_PATH:
            kind = "role"
        elif h.command == "GET" and path.startswith(ROLE_PATH):
            kind = "imds-creds"
        elif h.command == "GET" and path == "/creds":
            kind = "container-creds"
        else:
            kind = "other"
        with self.lock:
            mode = self.mode
            self.requests[(mode, kind)] += 1
        if mode == "reset":
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
            h.connection.close()
            h.close_connection = True
            return
        if mode == "hang":
            with self.lock:
                self.changed.wait_for(lambda: self.mode != "hang", 120)
            h.close_connection = True
            return
        if mode == "500" or mode == "closed":
            self._reply(h, 500, b"stub: internal error\n", "text/plain")
            return
        if kind == "token":
            self._reply(h, 200, TOKEN.encode(), "text/plain")
        elif kind == "role":
            self._reply(h, 200, ROLE.encode(), "text/plain")
        elif kind == "imds-creds":
            if path[len(ROLE_PATH):] != ROLE:
                self._reply(h, 404, b"Not Found", "text/plain")
            else:
                self._reply(h, 200, self._document(mode, False),
                            "text/plain")
        elif kind == "container-creds":
            if self.container_token is not None and \
                    h.headers.get("Authorization") != self.container_token:
                self._reply(h, 401, b"bad token", "text/plain")
            else:
                self._reply(h, 200, self._document(mode, True),
                            "application/json")
        else:
            self._reply(h, 404, b"Not Found", "text/plain")

    @staticmethod
    def _reply(h, status, body, ctype):
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            h.close_connection = True


def main(argv):
    import argparse
    import signal
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--mode", default="ok", choices=MODES)
    a = ap.parse_args(argv)
    stub = MetadataStub(a.mode, a.port)
    print("ready %s" % stub.url, flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *x: done.set())
    signal.signal(signal.SIGINT, lambda *x: done.set())
    done.wait()
    stub.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
