"""CloudTrail LookupEvents, served from the recorder's store, with the
2-requests-per-second-per-account-and-region limit AWS enforces."""

import base64
import calendar
import hashlib
import json
import math
import re
import threading
import time

from .protocol import error_response, json_response

ATTRIBUTE_KEYS = ("EventId", "EventName", "ReadOnly", "Username",
                  "ResourceType", "ResourceName", "EventSource", "AccessKeyId")
NINETY_DAYS = 90 * 86400


class LookupError_(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code
        self.message = message


class Throttle:
    """Token bucket per (account, region): `tps` tokens a second, bursts of
    at most max(tps, 1)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}

    def reset(self):
        with self.lock:
            self.buckets = {}

    def allow(self, key, tps, now):
        if tps <= 0:
            return True
        cap = max(tps, 1.0)
        with self.lock:
            tokens, last = self.buckets.get(key, (cap, now))
            tokens = min(cap, tokens + (now - last) * tps)
            if tokens >= 1.0:
                self.buckets[key] = (tokens - 1.0, now)
                return True
            self.buckets[key] = (tokens, now)
            return False


_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?"
                     r"(Z|[+-]\d{2}:?\d{2})?$")


def parse_time(value, what):
    if isinstance(value, bool):
        raise LookupError_("ValidationException", "%s is not a timestamp" % what)
    if isinstance(value, (int, float)):
        if math.isnan(value) or math.isinf(value):
            raise LookupError_("ValidationException", "%s is not a timestamp" % what)
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
        m = _ISO_RE.match(value.strip())
        if m:
            y, mo, d, hh, mm, ss, tz = m.groups()
            t = calendar.timegm((int(y), int(mo), int(d), int(hh or 0), int(mm or 0),
                                 int(ss or 0), 0, 0, 0))
            if tz and tz != "Z":
                sign = 1 if tz[0] == "+" else -1
                digits = tz[1:].replace(":", "")
                t -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
            return float(t)
    raise LookupError_("ValidationException", "%s is not a timestamp: %r" % (what, value))


def _token_hash(params):
    basis = json.dumps([params.get("LookupAttributes"), params.get("StartTime"),
                        params.get("EndTime"), params.get("EventCategory")],
                       sort_keys=True, default=str)
    return hashlib.sha256(basis.encode()).hexdigest()[:16]


def make_token(seq, params, poisoned=False):
    obj = {"v": 1, "s": seq, "h": _token_hash(params)}
    if poisoned:
        obj["x"] = 1        # the truncpage fault: refused when it comes back
    raw = json.dumps(obj).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def read_token(token, params):
    if not isinstance(token, str) or not token:
        raise LookupError_("InvalidNextTokenException", "Invalid NextToken.")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        obj = json.loads(raw)
        seq = int(obj["s"])
        h = obj["h"]
    except (ValueError, KeyError, TypeError):
        raise LookupError_("InvalidNextTokenException", "Invalid NextToken.")
    if h != _token_hash(params):
        raise LookupError_("InvalidNextTokenException",
                           "NextToken was issued for different request parameters.")
    if obj.get("x"):
        raise LookupError_("InvalidNextTokenException", "Invalid NextToken.")
    return seq


def _matches(rec, key, value):
    ev = rec.event
    if key == "ResourceType":
        return any(r["ResourceType"] == value for r in ev["Resources"])
    if key == "ResourceName":
        return any(r["ResourceName"] == value for r in ev["Resources"])
    return ev.get(key) == value


def query(store, account, region, params, now, skew=0.0):
    """The LookupEvents answer as a dict; raises LookupError_. `now` is the
    real time (for visibility), `now + skew` the sandbox's clock (for the
    time range, as eventTime is in that clock)."""
    clock = now + skew
    if not isinstance(params, dict):
        raise LookupError_("SerializationException", "Request body is not a JSON object.")
    attrs = params.get("LookupAttributes")
    if attrs is None:
        attrs = []
    if not isinstance(attrs, list):
        raise LookupError_("InvalidLookupAttributesException",
                           "LookupAttributes must be a list.")
    if len(attrs) > 1:
        raise LookupError_("InvalidLookupAttributesException",
                           "You can only specify one lookup attribute.")
    attr = None
    if attrs:
        a = attrs[0]
        if not isinstance(a, dict):
            raise LookupError_("InvalidLookupAttributesException",
                               "A lookup attribute must be an object.")
        key, value = a.get("AttributeKey"), a.get("AttributeValue")
        if key not in ATTRIBUTE_KEYS:
            raise LookupError_("InvalidLookupAttributesException",
                               "Lookup attribute key %r is not valid. Valid keys: %s."
                               % (key, ", ".join(ATTRIBUTE_KEYS)))
        if not isinstance(value, str) or not 1 <= len(value) <= 2000:
            raise LookupError_("InvalidLookupAttributesException",
                               "Lookup attribute value must be 1 to 2000 characters.")
        attr = (key, value)
    max_results = params.get("MaxResults", 50)
    if isinstance(max_results, bool) or not isinstance(max_results, int) \
            or not 1 <= max_results <= 50:
        raise LookupError_("InvalidMaxResultsException",
                           "MaxResults must be an integer from 1 to 50.")
    end = parse_time(params["EndTime"], "EndTime") if params.get("EndTime") is not None \
        else clock
    start = parse_time(params["StartTime"], "StartTime") \
        if params.get("StartTime") is not None else clock - NINETY_DAYS
    if start > end:
        raise LookupError_("InvalidTimeRangeException",
                           "Start time must be less than or equal to end time.")
    category = params.get("EventCategory")
    if category is not None and category != "insight":
        raise LookupError_("InvalidEventCategoryException",
                           "Event category %r is not valid." % (category,))
    before = None
    if params.get("NextToken") is not None:
        before = read_token(params["NextToken"], params)
    if category == "insight":
        return {"Events": []}
    out = []
    more = False
    for rec in reversed(store.scope(account, region)):
        if before is not None and rec.seq >= before:
            continue
        if rec.dropped or not rec.management or rec.visible_at > now:
            continue
        t = math.floor(rec.event_time)
        if t < start or t > end:
            continue
        if attr is not None and not _matches(rec, *attr):
            continue
        if len(out) == max_results:
            more = True
            break
        out.append(rec)
    result = {"Events": []}
    for rec in out:
        ev = dict(rec.event)
        ev["CloudTrailEvent"] = rec.record_json
        result["Events"].append(ev)
    if more:
        result["NextToken"] = make_token(out[-1].seq, params)
    return result


def damage(kind, result, params):
    """A LookupEvents answer a careful client must not trust (the fault kinds
    on cloudtrail/LookupEvents) -> the JSON object to send."""
    events = result.get("Events") or []
    if kind == "noevents":
        return {}
    if kind == "nullevents":
        return {"Events": None}
    if kind == "badevents":
        # An object where the list belongs (the first event, unwrapped), or
        # a string when there is no event.
        return {"Events": dict(events[0]) if events else "[]"}
    if kind == "badrecord":
        if events:
            first = dict(events[0])
            text = first["CloudTrailEvent"]
            first["CloudTrailEvent"] = text[: len(text) // 2]
            result = dict(result, Events=[first] + events[1:])
        return result
    if kind == "truncpage":
        # A NextToken (replacing the real one, if any) that the next request
        # will be refused for.
        seq = read_token(result["NextToken"], params) if result.get("NextToken") else 0
        return dict(result, NextToken=make_token(seq, params, poisoned=True))
    return result


def handle(call, store, throttle, knobs, stats, damage_fault=None):
    now = time.time()
    key = (call.account, call.region)
    if not throttle.allow(key, knobs.lookup_tps, time.monotonic()):
        stats.lookup(key, throttled=True)
        return error_response(call, 400, "ThrottlingException", "Rate exceeded")
    stats.lookup(key, throttled=False)
    try:
        result = query(store, call.account, call.region, call.params, now, knobs.skew)
    except LookupError_ as e:
        return error_response(call, 400, e.code, e.message)
    fault = damage_fault() if damage_fault is not None else None
    if fault is not None:
        result = damage(fault.kind, result, call.params)
    return json_response(call, result)
