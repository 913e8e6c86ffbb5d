"""The admin endpoint under /_sandbox/ (a path no AWS API uses): JSON in,
JSON out. See README.md for the reference."""

import json
import time
import urllib.parse

from . import inventory
from .guardduty import FindingError
from .knobs import KnobError


def _json_body(body):
    if not body or not body.strip():
        return {}
    return json.loads(body.decode("utf-8"))


def _events(sb, query):
    q = urllib.parse.parse_qs(query)
    now = time.time()
    recs = sb.store.snapshot()

    def want(name, value):
        return name not in q or value in q[name]
    out = []
    for r in recs:
        ev = r.record
        if not (want("eventName", ev.get("eventName")) and want("eventSource", ev.get("eventSource"))
                and want("account", r.account) and want("region", r.region)):
            continue
        if "since" in q:
            try:
                if r.seq <= int(q["since"][0]):
                    continue
            except ValueError:
                raise KnobError("since: expected a sequence number")
        out.append(r.summary(now))
    return {"now": now, "events": out}


def handle(sb, method, path, query, body):
    """(HTTP status, JSON object) for an admin request."""
    name = path[len("/_sandbox"):].strip("/")
    try:
        if name in ("", "health") and method in ("GET", "HEAD"):
            return 200, {"ok": True, "uptime": round(time.time() - sb.started, 3),
                         "verifySignatures": sb.verify}
        if name == "config":
            if method in ("GET", "HEAD"):
                return 200, sb.knobs.to_json()
            if method in ("POST", "PUT", "PATCH"):
                return 200, sb.set_knobs(_json_body(body)).to_json()
        elif name == "reset" and method == "POST":
            sb.reset()
            return 200, {"reset": True}
        elif name == "events" and method in ("GET", "HEAD"):
            return 200, _events(sb, query)
        elif name == "inventory" and method in ("GET", "HEAD"):
            q = urllib.parse.parse_qs(query)
            only = None
            if "region" in q:
                only = set(r for v in q["region"] for r in v.split(",") if r)
            return 200, inventory.inventory(only)
        elif name == "findings":
            if method == "POST":
                return 200, sb.findings.seed(_json_body(body))
            if method in ("GET", "HEAD"):
                return 200, {"detectors": sb.findings.list_all()}
        elif name == "stats" and method in ("GET", "HEAD"):
            return 200, sb.stats.to_json()
        elif name == "credentials" and method in ("GET", "HEAD"):
            if sb.admin_credentials is None:
                return 404, {"error": "no ready-made user: start with --verify-signatures"}
            return 200, {"accessKeyId": sb.admin_credentials[0],
                         "secretAccessKey": sb.admin_credentials[1]}
        else:
            return 404, {"error": "no such admin resource: %s %s" % (method, path)}
        return 405, {"error": "method %s not allowed on %s" % (method, path)}
    except (ValueError, KnobError, FindingError) as e:
        return 400, {"error": str(e)}
