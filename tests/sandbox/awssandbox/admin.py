"""The admin endpoint under /_sandbox/ (a path no AWS API uses): JSON in,
JSON out. See README.md for the reference."""

import json
import sys
import time
import traceback
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
    since = None
    if "since" in q:
        try:
            since = int(q["since"][0])
        except ValueError:
            raise KnobError("since: expected a sequence number")
    recs = sb.store.snapshot()

    def want(name, value):
        return name not in q or value in q[name]
    out = []
    for r in recs:
        ev = r.record
        if not (want("eventName", ev.get("eventName")) and want("eventSource", ev.get("eventSource"))
                and want("account", r.account) and want("region", r.region)):
            continue
        if since is not None and r.seq <= since:
            continue
        out.append(r.summary(now))
    return {"now": now, "events": out}


def _inventory(sb, query, body):
    q = urllib.parse.parse_qs(query)
    only = None
    if "region" in q:
        only = set(r for v in q["region"] for r in v.split(",") if r)
    return inventory.inventory(only)


def _credentials(sb, query, body):
    if sb.admin_credentials is None:
        raise LookupError("no ready-made user: start with --verify-signatures")
    return {"accessKeyId": sb.admin_credentials[0],
            "secretAccessKey": sb.admin_credentials[1]}


def _reset(sb, query, body):
    sb.reset()
    return {"reset": True}


ROUTES = {
    "health": {"GET": lambda sb, q, b: {"ok": True, "uptime": round(time.time() - sb.started, 3),
                                        "verifySignatures": sb.verify}},
    "config": {"GET": lambda sb, q, b: sb.knobs.to_json(),
               "POST": lambda sb, q, b: sb.set_knobs(_json_body(b)).to_json()},
    "reset": {"POST": _reset},
    "events": {"GET": lambda sb, q, b: _events(sb, q)},
    "inventory": {"GET": _inventory},
    "findings": {"GET": lambda sb, q, b: {"detectors": sb.findings.list_all()},
                 "POST": lambda sb, q, b: sb.findings.seed(_json_body(b))},
    "stats": {"GET": lambda sb, q, b: sb.stats.to_json()},
    "credentials": {"GET": _credentials},
}
ROUTES[""] = ROUTES["health"]
ROUTES["config"]["PUT"] = ROUTES["config"]["PATCH"] = ROUTES["config"]["POST"]


def handle(sb, method, path, query, body):
    """(HTTP status, JSON object) for an admin request."""
    name = path[len("/_sandbox"):].strip("/")
    route = ROUTES.get(name)
    if route is None:
        return 404, {"error": "no such admin resource: %s" % path}
    fn = route.get("GET" if method == "HEAD" else method)
    if fn is None:
        return 405, {"error": "method %s not allowed on %s (use %s)" % (
            method, path, ", ".join(sorted(route)))}
    try:
        return 200, fn(sb, query, body)
    except LookupError as e:
        return 404, {"error": str(e)}
    except (ValueError, KnobError, FindingError) as e:
        return 400, {"error": str(e)}
    except Exception as e:
        sys.stderr.write("aws-sandbox: admin %s %s failed:\n%s" % (
            method, path, traceback.format_exc()))
        return 500, {"error": "%s: %s" % (type(e).__name__, e)}
