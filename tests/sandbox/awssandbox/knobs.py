"""The run-time knobs: delivery delay, drops, latency, faults.

A Knobs object is immutable once built; changing the configuration builds a
new one and swaps it in, so a request always sees one consistent set.
"""

import ipaddress
import math

FAULT_KINDS = ("500", "503", "throttle", "reset", "malformed", "truncated",
               "empty", "slow")

# Names people use for a service -> the SigV4 signing name the sandbox sees.
SERVICE_ALIASES = {
    "cloudwatch": "monitoring",
    "eventbridge": "events",
    "ses": "email",
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
    __slots__ = ("service", "region", "kind", "share")

    def __init__(self, service, region, kind, share):
        self.service = service
        self.region = region
        self.kind = kind
        self.share = share

    def matches(self, service, region):
        if self.service != "*" and self.service != service:
            return False
        return self.region is None or self.region == region

    def to_json(self):
        return {"service": self.service, "region": self.region,
                "kind": self.kind, "share": self.share,
                "spec": self.spec()}

    def spec(self):
        s = self.service
        if self.region:
            s += "@" + self.region
        return "%s:%s:%g" % (s, self.kind, self.share)


def parse_fault(value):
    """'SERVICE[@REGION]:KIND:SHARE' or a JSON object -> Fault."""
    if isinstance(value, dict):
        service = value.get("service")
        region = value.get("region")
        kind = value.get("kind")
        share = value.get("share", 1)
        if not isinstance(service, str) or not service:
            raise KnobError("fault: 'service' must be a non-empty string")
    elif isinstance(value, str):
        parts = value.split(":")
        if len(parts) != 3:
            raise KnobError("fault %r: expected SERVICE[@REGION]:KIND:SHARE" % value)
        service, kind, share = parts
        region = None
        if "@" in service:
            service, _, region = service.partition("@")
            if not region:
                raise KnobError("fault %r: empty region after '@'" % value)
    else:
        raise KnobError("fault: expected a string or an object, got %r" % (value,))
    kind = str(kind).lower()
    if kind not in FAULT_KINDS:
        raise KnobError("fault: unknown kind %r (one of %s)"
                        % (kind, ", ".join(FAULT_KINDS)))
    if isinstance(share, str) and share.endswith("%"):
        share = _number(share[:-1], "fault share") / 100.0
    else:
        share = _number(share, "fault share")
    if not 0 <= share <= 1:
        raise KnobError("fault: share %g is not between 0 and 1" % share)
    service = "*" if service.strip() == "*" else normalize_service(service)
    if not service:
        raise KnobError("fault: empty service")
    if region is not None and not isinstance(region, str):
        raise KnobError("fault: 'region' must be a string")
    return Fault(service, region or None, kind, share)


class Knobs:
    def __init__(self):
        self.delay = (0.0, 0.0)
        self.drop = ()
        self.latency_ms = 0.0
        self.faults = ()
        self.slow_seconds = 5.0
        self.lookup_tps = 2.0

    def copy(self):
        k = Knobs()
        k.__dict__.update(self.__dict__)
        return k

    def to_json(self):
        return {
            "delay": {"min": self.delay[0], "max": self.delay[1]},
            "drop": list(self.drop),
            "latency": self.latency_ms,
            "faults": [f.to_json() for f in self.faults],
            "slow_seconds": self.slow_seconds,
            "lookup_tps": self.lookup_tps,
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
                if isinstance(value, str):
                    value = [value]
                if not isinstance(value, list) or not all(
                        isinstance(v, str) and v for v in value):
                    raise KnobError("drop: expected a list of names")
                k.drop = tuple(value)
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
