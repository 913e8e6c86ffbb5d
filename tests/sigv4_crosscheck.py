#!/usr/bin/env python3
"""Differential test: sigv4-vector against botocore's SigV4Auth.

    sigv4_crosscheck.py TOOL [COUNT [SEED]]

Generates COUNT random requests (seeded, so a failure can be replayed),
writes each as a .req case folder, signs it with TOOL (build/tests/
sigv4-vector) and with botocore (an independent implementation, the one
moto uses to verify signatures) and compares the Authorization values.

The requests stay inside the rules both implement the same way: paths with
dot segments and repeated slashes (never a final "." or ".."; there botocore
drops the trailing slash that RFC 3986 keeps), queries already in canonical
encoding (botocore sorts them as they are, without decoding), header values
with runs of whitespace, folded lines and duplicates, skipped headers,
bodies, session tokens.  Exit 0 on success, 1 on a mismatch, 77 (skip)
without botocore.
"""
import datetime
import os
import random
import subprocess
import sys
import tempfile
from unittest import mock
from urllib.parse import quote

try:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError:
    print("botocore not available: skipped")
    sys.exit(77)

ACCESS_KEY = "AKIDEXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
REGION = "us-east-1"
SERVICE = "service"

SEG_CHARS = "abcXYZ019-._~ !$&'()*+,;=:@%\u00e9\u1234"
QCHARS = "abcXYZ019-._~ /?=&+%\u00e9"
NAMES = ["My-Header", "X-Amz-Meta-Thing", "Content-Type", "x-amz-target",
         "Accept", "X-Custom", "user-agent", "X-Amzn-Trace-Id", "Zeta",
         "a", "A-B_C.d!e#f$g%h&i'j*k+l^m`n|o~p"]
VCHARS = "abc XYZ 019 \t\"'(),;=/:?@[]{}<>\\\u00e9"


def rand_segment(r):
    if r.random() < 0.1:
        return r.choice([".", ".."])
    return "".join(r.choice(SEG_CHARS) for _ in range(r.randint(1, 8)))


def rand_path(r):
    segs = [rand_segment(r) for _ in range(r.randint(0, 5))]
    while segs and segs[-1] in (".", ".."):
        segs.pop()
    path = "/" + "/".join(segs)
    path = path.replace("//", "/" * r.randint(1, 3))
    if segs and r.random() < 0.3:
        path += "/"
    return path


def rand_query(r):
    if r.random() < 0.3:
        return None
    params = []
    for _ in range(r.randint(0, 5)):
        k = "".join(r.choice(QCHARS) for _ in range(r.randint(0, 6)))
        v = "".join(r.choice(QCHARS) for _ in range(r.randint(0, 6)))
        if not k:
            k = "k"
        params.append("%s=%s" % (quote(k, safe="-_.~"), quote(v, safe="-_.~")))
    if params and r.random() < 0.3:
        params.append(params[0])    # a repeated key and value
    return "&".join(params)


def rand_value(r):
    v = "".join(r.choice(VCHARS) for _ in range(r.randint(0, 12)))
    return " " * r.randint(0, 2) + v + " " * r.randint(0, 2)


def rand_headers(r, host):
    hs = [("Host", host)]
    for _ in range(r.randint(0, 6)):
        name = r.choice(NAMES)
        value = rand_value(r)
        if r.random() < 0.2:
            # Folded over lines: each continuation starts with blanks.
            value += "\n" + r.choice([" ", "\t", "   "]) + "more" + rand_value(r).strip()
        hs.append((name, value))
    r.shuffle(hs)
    return hs


def write_req(path, method, target, headers, body):
    with open(path, "wb") as f:
        f.write(("%s %s HTTP/1.1\n" % (method, target)).encode())
        for name, value in headers:
            f.write(("%s:%s\n" % (name, value)).encode())
        if body:
            f.write(b"\n" + body)


def botocore_sign(method, path, query, headers, body, token, when):
    """(canonical request, Authorization) from botocore."""
    url = "https://example.amazonaws.com" + path
    if query is not None:
        url += "?" + query
    req = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        req.headers[name] = value   # email.message: repeated names append
    creds = Credentials(ACCESS_KEY, SECRET_KEY, token)
    auth = SigV4Auth(creds, SERVICE, REGION)
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        auth.add_auth(req)
    authz = req.headers["Authorization"]
    del req.headers["Authorization"]
    return auth.canonical_request(req), authz


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    tool = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 20150830
    r = random.Random(seed)
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            when = datetime.datetime(2015, 8, 30, 12, 36, 0) + \
                datetime.timedelta(seconds=r.randint(0, 10 ** 8))
            amz = when.strftime("%Y%m%dT%H%M%SZ")
            method = r.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
            # The path as on the wire: percent-encoded, sometimes twice
            # over or with sub-delimiters left as they are.
            path = quote(rand_path(r), safe=r.choice(["/~", "/~!$&'()*+,;=:@"]))
            if r.random() < 0.2:
                path = quote(path, safe="/~")
            query = rand_query(r)
            headers = rand_headers(r, "example.amazonaws.com")
            headers.insert(r.randint(0, len(headers)), ("X-Amz-Date", amz))
            body = bytes(r.randint(0, 255) for _ in range(r.randint(0, 40))) \
                if r.random() < 0.5 else b""
            token = "tok/%d+%s=" % (i, "x" * r.randint(0, 20)) \
                if r.random() < 0.3 else None

            name = "case-%d" % i
            os.mkdir(os.path.join(tmp, name))
            target = path + ("?" + query if query is not None else "")
            write_req(os.path.join(tmp, name, name + ".req"), method, target,
                      headers, body)
            args = [tool, os.path.join(tmp, name)]
            if token:
                args += ["--token", token]
            res = subprocess.run(args, capture_output=True)
            if res.returncode != 0:
                print("FAIL %s: sigv4-vector exit %d: %s" % (
                    name, res.returncode, res.stderr.decode(errors="replace")))
                bad += 1
                continue
            creq, sts, authz = res.stdout.decode().split("\n----\n")
            authz = authz.rstrip("\n")
            want_creq, want = botocore_sign(method, path, query, headers,
                                            body, token, when)
            if authz != want:
                bad += 1
                print("FAIL %s (seed %d)\n--- request\n%s\n--- our canonical "
                      "request\n%s\n--- botocore's\n%s\n--- ours\n%s\n"
                      "--- botocore's\n%s\n" % (
                          name, seed, open(os.path.join(tmp, name, name + ".req"),
                                           "rb").read().decode(errors="replace"),
                          creq, want_creq, authz, want))
    print("%d requests, %d mismatches (seed %d)" % (count, bad, seed))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
