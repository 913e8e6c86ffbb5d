"""Shared plumbing for cloudsagad's end-to-end tests.

Starts real peers on loopback (moto_server, the AWS sandbox, journald),
runs the real cloudsagad binary, and cleans up.  Everything talks to
127.0.0.1 only, with fake keys.
"""
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

SRC = os.environ.get("CLOUDSAGA_SRC",
                     os.path.dirname(os.path.dirname(os.path.dirname(
                         os.path.abspath(__file__)))))
BUILD = os.environ.get("CLOUDSAGA_BUILD", os.path.join(SRC, "build"))
CLOUDSAGAD = os.environ.get("CLOUDSAGAD", os.path.join(BUILD, "cloudsagad"))
PYTHON = os.environ.get("CLOUDSAGA_PYTHON", sys.executable)

FAKE_KEY = "AKIDEXAMPLETESTKEY00"
FAKE_SECRET = "fake/secret/for/tests/only"


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra):
    """An environment with no route to real AWS credentials or endpoints."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("CREDENTIALS_DIRECTORY",
                                                     "NOTIFY_SOCKET",
                                                     "JOURNAL_STREAM")}
    env.update({
        "AWS_ACCESS_KEY_ID": FAKE_KEY,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_DEFAULT_REGION": "us-east-1",
        # Safety net: a daemon or CLI started without an explicit endpoint
        # talks to a closed loopback port, never to real AWS.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    })
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_port(port, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.closing(socket.socket()) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("nothing listening on 127.0.0.1:%d" % port)


class Moto:
    """A plain moto_server on a free loopback port."""

    def __init__(self, initial_no_auth=None):
        self.port = free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        env = clean_env()
        if initial_no_auth is not None:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(initial_no_auth)
        moto = os.path.join(os.path.dirname(PYTHON), "moto_server")
        cmd = [moto] if os.path.exists(moto) else [PYTHON, "-m", "moto.server"]
        self.proc = subprocess.Popen(cmd + ["-H", "127.0.0.1", "-p",
                                            str(self.port)], env=env,
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


class Sandbox:
    """tests/sandbox/aws-sandbox on a free port; knobs as CLI options."""

    def __init__(self, *options, env=None):
        cmd = [os.path.join(SRC, "tests", "sandbox", "aws-sandbox"),
               "--port", "0"] + [str(o) for o in options]
        self.proc = subprocess.Popen(cmd, env=env or clean_env(),
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.extra = {}
        deadline = time.monotonic() + 60
        while True:
            line = self.proc.stdout.readline()
            if not line:
                err = self.proc.stderr.read()
                raise RuntimeError("sandbox did not start: " + err[-2000:])
            line = line.strip()
            if line.startswith("ready "):
                self.url = line.split(" ", 1)[1]
                break
            if " " in line:
                k, v = line.split(" ", 1)
                self.extra[k] = v
            if time.monotonic() > deadline:
                raise RuntimeError("sandbox start timed out")
        self.port = int(self.url.rsplit(":", 1)[1].rstrip("/"))

    def admin(self, path, body=None, method=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + "/_sandbox/" + path,
                                     data=data, method=method or
                                     ("POST" if data is not None else "GET"))
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def seed(self, *args):
        # seed is a /bin/sh wrapper that picks the Python with moto.
        cmd = [os.path.join(SRC, "tests", "sandbox", "seed"),
               "--endpoint", self.url] + [str(a) for a in args]
        subprocess.run(cmd, check=True, env=clean_env(),
                       stdout=subprocess.DEVNULL)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()


def cloudsagad(*args, env=None, timeout=120, check=False):
    """Run the real binary; returns subprocess.CompletedProcess (text)."""
    return subprocess.run([CLOUDSAGAD] + [str(a) for a in args],
                          env=env or clean_env(), capture_output=True,
                          text=True, timeout=timeout, check=check)


def aws_cli(endpoint, *args, env=None, check=True):
    """The real aws CLI against a loopback endpoint; parsed JSON or None."""
    e = env or clean_env()
    e["AWS_ENDPOINT_URL"] = endpoint
    aws = os.path.join(os.path.dirname(PYTHON), "aws")
    cmd = [aws if os.path.exists(aws) else "aws"] + list(args) + [
        "--output", "json"]
    p = subprocess.run(cmd, env=e, capture_output=True, text=True, timeout=60)
    if check and p.returncode != 0:
        raise RuntimeError("aws %s failed: %s" % (" ".join(args), p.stderr))
    return json.loads(p.stdout) if p.stdout.strip() else None


def state_rows(state_dir, run_id=None):
    """The expectations of a state directory's database (read-only, as a
    reader beside the daemon would), as dicts with the columns that are not
    NULL (so "coverage" is absent until the check ran, "record" present
    while it is kept)."""
    import sqlite3
    path = os.path.join(state_dir, "state.db")
    if not os.path.exists(path):
        return []
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    db.row_factory = sqlite3.Row
    try:
        q = "SELECT * FROM expectations"
        args = ()
        if run_id is not None:
            q += " WHERE run_id = ?"
            args = (run_id,)
        try:
            rows = db.execute(q + " ORDER BY run_id, idx", args).fetchall()
        except sqlite3.OperationalError:
            return []       # not created yet
        return [{k: r[k] for k in r.keys() if r[k] is not None}
                for r in rows]
    finally:
        db.close()


def state_query(state_dir, sql, args=()):
    """Rows of a read-only query on a state directory's database."""
    import sqlite3
    path = os.path.join(state_dir, "state.db")
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()
