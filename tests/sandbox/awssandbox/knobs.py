"""The run-time knobs: delivery delay, drops, latency, faults.

A Knobs object is immutable once built; changing the configuration builds a
new one and swaps it in, so a request always sees one consistent set.
"""

import ipaddress
import math
import re
import threading

# Kinds answered instead of the call (the call never runs).
ERROR_KINDS = ("500", "503", "throttle")
# Refused before the service handles the request, as AWS refuses a bad or
# missing credential: answered, never executed, never recorded.
REFUSAL_KINDS = ("authfailure", "signature", "expired", "incomplete", "notoken")
# The real answer, damaged or delayed on its way out.
ANSWER_KINDS = ("reset", "malformed", "truncated", "empty", "slow", "huge", "drip")
# Only for cloudtrail LookupEvents: a successful answer a careful client
# must not trust.
LOOKUP_KINDS = ("noevents", "nullevents", "badevents", "badrecord", "truncpage")
FAULT_KINDS = ERROR_KINDS + REFUSAL_KINDS + ANSWER_KINDS + LOOKUP_KINDS

# Names people use for a service -> the SigV4 signing name the sandbox sees.
SERVICE_ALIASES = {
    "cloudwatch": "monitoring",
    "eventbridge": "events",
    "email": "ses",
}


class KnobError(ValueError):
    pass


def normalize_service(name):
    name = name.strip().lower()
    if name.endswith(".amazonaws.com"):
        name = name[: -len(".amazonaws.com")]
    return SERVICE_ALIASES.get(name, name)


def _number(text, what):
    try:
        v = float(text)
    except (TypeError, ValueError):
        raise KnobError("%s: not a number: %r" % (what, text))
    if math.isnan(v) or math.isinf(v):
        raise KnobError("%s: not a finite number: %r" % (what, text))
    return v


def parse_delay(value):
    """'S', 'MIN:MAX', a number, or {"min":..,"max":..} -> (min, max)."""
    if isinstance(value, dict):
        lo = _number(value.get("min", 0), "delay min")
        hi = _number(value.get("max", lo), "delay max")
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        lo = hi = _number(value, "delay")
    elif isinstance(value, str):
        if ":" in value:
            a, _, b = value.partition(":")
            lo, hi = _number(a, "delay min"), _number(b, "delay max")
        else:
            lo = hi = _number(value, "delay")
    else:
        raise KnobError("delay: expected SECONDS or MIN:MAX, got %r" % (value,))
    if lo < 0 or hi < 0:
        raise KnobError("delay: must not be negative")
    if lo > hi:
        raise KnobError("delay: MIN %g is greater than MAX %g" % (lo, hi))
    return lo, hi


class Fault:
    """One fault rule. `share` mode fires on a random fraction of matching
    requests; `count` mode (SHARE written `Nx`) fires on the next N matching
    requests and is then spent. The count is the only mutable part; it is
    shared by every Knobs copy that holds this rule, and re-armed by reset."""

    __slots__ = ("service", "region", "action", "kind", "share", "count",
                 "_left", "_lock")

    def __init__(self, service, region, kind, share, action=None, count=None):
        self.service = service
        self.region = region
        self.action = action
        self.kind = kind
        self.share = share
        self.count = count
        self._left = count
        self._lock = threading.Lock()

    def rearmed(self):
        return Fault(self.service, self.region, self.kind, self.share,
                     self.action, self.count)

    def matches(self, service, region, operation=None, event_name=None):
        if self.service != "*" and self.service != service:
            return False
        if self.region is not None and self.region != region:
            return False
        if self.action is not None and self.action not in (operation, event_name):
            return False
        return True

    def fire(self, random):
        """True when this rule hits the request (consumes one of a count)."""
        if self.count is not None:
            with self._lock:
                if self._left > 0:
                    self._left -= 1
                    return True
                return False
        if self.share <= 0:
            return False
        return self.share >= 1 or random() < self.share

    def remaining(self):
        if self.count is None:
            return None
        with self._lock:
            return self._left

    def to_json(self):
        return {"service": self.service, "region": self.region,
                "action": self.action, "kind": self.kind, "share": self.share,
                "count": self.count, "remaining": self.remaining(),
                "spec": self.spec()}

    def spec(self):
        s = self.service
        if self.region:
            s += "@" + self.region
        if self.action:
            s += "/" + self.action
        if self.count is not None:
            return "%s:%s:%dx" % (s, self.kind, self.count)
        return "%s:%s:%g" % (s, self.kind, self.share)


_COUNT_RE = re.compile(r"^\s*(\d+)\s*[xX]\s*$")
_ACTION_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _parse_share(share):
    """-> (share, count): '0.5', 0.5, '25%' or 'Nx'."""
    if isinstance(share, str):
        m = _COUNT_RE.match(share)
        if m:
            n = int(m.group(1))
            if n < 1:
                raise KnobError("fault: count %r must be at least 1x" % share)
            return 1.0, n
        if share.endswith("%"):
            share = _number(share[:-1], "fault share") / 100.0
    share = _number(share, "fault share")
    if not 0 <= share <= 1:
        raise KnobError("fault: share %g is not between 0 and 1" % share)
    return share, None


def parse_fault(value):
    """'SERVICE[@REGION][/ACTION]:KIND:SHARE' (SHARE a fraction, 'P%' or
    'Nx') or a JSON object -> Fault."""
    action = None
    count = None
    if isinstance(value, dict):
        unknown = set(value) - {"service", "region", "action", "kind", "share",
                                "count", "remaining", "spec"}
        if unknown:
            raise KnobError("fault: unknown keys %s" % ", ".join(sorted(unknown)))
        service = value.get("service")
        region = value.get("region")
        action = value.get("action")
        kind = value.get("kind")
        if not isinstance(service, str) or not service:
            raise KnobError("fault: 'service' must be a non-empty string")
        if value.get("count") is not None:
            c = value["count"]
            if isinstance(c, bool) or not isinstance(c, int) or c < 1:
                raise KnobError("fault: 'count' must be an integer >= 1")
            share, count = 1.0, c
        else:
            share, count = _parse_share(value.get("share", 1))
    elif isinstance(value, str):
        parts = value.split(":")
        if len(parts) != 3:
            raise KnobError("fault %r: expected SERVICE[@REGION][/ACTION]:KIND:SHARE" % value)
        service, kind, share = parts
        region = None
        if "/" in service:
            service, _, action = service.partition("/")
            if not action:
                raise KnobError("fault %r: empty action after '/'" % value)
        if "@" in service:
            service, _, region = service.partition("@")
            if not region:
                raise KnobError("fault %r: empty region after '@'" % value)
        share, count = _parse_share(share)
    else:
        raise KnobError("fault: expected a string or an object, got %r" % (value,))
    kind = str(kind).lower()
    if kind not in FAULT_KINDS:
        raise KnobError("fault: unknown kind %r (one of %s)"
                        % (kind, ", ".join(FAULT_KINDS)))
    service = "*" if service.strip() == "*" else normalize_service(service)
    if not service:
        raise KnobError("fault: empty service")
    if region is not None and not isinstance(region, str):
        raise KnobError("fault: 'region' must be a string")
    if action is not None and (not isinstance(action, str) or not _ACTION_RE.match(action)):
        raise KnobError("fault: action %r is not an operation name" % (action,))
    if kind in LOOKUP_KINDS:
        if service != "cloudtrail" or action not in (None, "LookupEvents"):
            raise KnobError("fault: kind %s applies to cloudtrail/LookupEvents only" % kind)
        action = "LookupEvents"
    return Fault(service, region or None, kind, share, action, count)


DROP_OUTCOMES = ("ok", "error")


def parse_drop(value):
    """'NAME', 'NAME:ok' or 'NAME:error' -> (name, outcome or None)."""
    if not isinstance(value, str) or not value.strip():
        raise KnobError("drop: expected a name, got %r" % (value,))
    name, sep, outcome = value.strip().rpartition(":")
    if sep and outcome in DROP_OUTCOMES:
        if not name:
            raise KnobError("drop %r: empty name" % value)
        return name, outcome
    return value.strip(), None


def _names(key, value):
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip()
                                              for v in value):
        raise KnobError("%s: expected a list of names" % key)
    return tuple(v.strip() for v in value)


def parse_delay_by_name(value):
    """{"NAME": delay} (delay as for --delay), or a list of 'NAME=MIN[:MAX]'
    strings -> {name: (min, max)}."""
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        out = {}
        for item in value:
            if not isinstance(item, str) or "=" not in item:
                raise KnobError("delay_by_name: expected NAME=MIN[:MAX], got %r" % (item,))
            name, _, d = item.partition("=")
            if not name.strip():
                raise KnobError("delay_by_name %r: empty name" % item)
            out[name.strip()] = parse_delay(d.strip())
        return out
    if not isinstance(value, dict):
        raise KnobError("delay_by_name: expected an object {NAME: SECONDS|\"MIN:MAX\"}")
    out = {}
    for name, d in value.items():
        if not name.strip():
            raise KnobError("delay_by_name: empty name")
        out[name.strip()] = parse_delay(d)
    return out


class Knobs:
    def __init__(self):
        self.delay = (0.0, 0.0)
        self.drop = ()
        self.latency_ms = 0.0
        self.faults = ()
        self.slow_seconds = 5.0
        self.lookup_tps = 2.0
        self.delay_by_name = {}
        self.duplicate = ()
        self.strip_request_id = ()
        self.skew = 0.0
        self.huge_mib = 40.0
        self.drip_seconds = 60.0

    def copy(self):
        k = Knobs()
        k.__dict__.update(self.__dict__)
        return k

    def rearmed(self):
        """A copy whose count-mode faults are full again (for reset)."""
        k = self.copy()
        k.faults = tuple(f.rearmed() for f in self.faults)
        return k

    # --- what the recorder asks -----------------------------------------

    def dropped(self, name, source, failed):
        """Whether a record (eventName, eventSource, has an errorCode) is
        dropped."""
        for entry in self.drop:
            what, outcome = parse_drop(entry)
            if what != name and what != source:
                continue
            if outcome is None or (outcome == "error") == failed:
                return True
        return False

    def delay_for(self, name, source):
        d = self.delay_by_name.get(name)
        if d is None:
            d = self.delay_by_name.get(source)
        return d if d is not None else self.delay

    def duplicated(self, name, source):
        return name in self.duplicate or source in self.duplicate

    def strips_request_id(self, name, source):
        return name in self.strip_request_id or source in self.strip_request_id

    def to_json(self):
        return {
            "delay": {"min": self.delay[0], "max": self.delay[1]},
            "drop": list(self.drop),
            "latency": self.latency_ms,
            "faults": [f.to_json() for f in self.faults],
            "slow_seconds": self.slow_seconds,
            "lookup_tps": self.lookup_tps,
            "delay_by_name": {n: {"min": d[0], "max": d[1]}
                              for n, d in sorted(self.delay_by_name.items())},
            "duplicate": list(self.duplicate),
            "strip_request_id": list(self.strip_request_id),
            "skew": self.skew,
            "huge_mib": self.huge_mib,
            "drip_seconds": self.drip_seconds,
        }

    def updated(self, changes):
        """A new Knobs with the given JSON changes applied; raises KnobError."""
        if not isinstance(changes, dict):
            raise KnobError("config: expected a JSON object")
        k = self.copy()
        for key, value in changes.items():
            if key == "delay":
                k.delay = parse_delay(value)
            elif key == "drop":
                value = _names("drop", value)
                for v in value:
                    parse_drop(v)
                k.drop = value
            elif key in ("latency", "latency_ms"):
                v = _number(value, "latency")
                if v < 0:
                    raise KnobError("latency: must not be negative")
                k.latency_ms = v
            elif key == "faults":
                if isinstance(value, (str, dict)):
                    value = [value]
                if not isinstance(value, list):
                    raise KnobError("faults: expected a list")
                k.faults = tuple(parse_fault(v) for v in value)
            elif key == "slow_seconds":
                v = _number(value, "slow_seconds")
                if v < 0:
                    raise KnobError("slow_seconds: must not be negative")
                k.slow_seconds = v
            elif key == "lookup_tps":
                v = _number(value, "lookup_tps")
                if v < 0:
                    raise KnobError("lookup_tps: must not be negative")
                k.lookup_tps = v
            elif key == "delay_by_name":
                k.delay_by_name = parse_delay_by_name(value)
            elif key == "duplicate":
                k.duplicate = _names("duplicate", value)
            elif key == "strip_request_id":
                k.strip_request_id = _names("strip_request_id", value)
            elif key == "skew":
                v = _number(value, "skew")
                if abs(v) > 10 * 365 * 86400:
                    raise KnobError("skew: more than ten years")
                k.skew = v
            elif key == "huge_mib":
                v = _number(value, "huge_mib")
                if not 0 < v <= 1024:
                    raise KnobError("huge_mib: must be in (0, 1024]")
                k.huge_mib = v
            elif key == "drip_seconds":
                v = _number(value, "drip_seconds")
                if not 0 < v <= 3600:
                    raise KnobError("drip_seconds: must be in (0, 3600]")
                k.drip_seconds = v
            else:
                raise KnobError("config: unknown key %r" % key)
        return k


def check_loopback_host(host):
    """Refuse any bind address outside 127.0.0.0/8."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise KnobError("--host %r: not an IPv4 address in 127.0.0.0/8" % host)
    if addr.version != 4 or addr not in ipaddress.ip_network("127.0.0.0/8"):
        raise KnobError("--host %s: refusing to listen outside 127.0.0.0/8" % host)
    return str(addr)
