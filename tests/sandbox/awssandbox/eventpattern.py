"""EventBridge event-pattern matching for events:TestEventPattern (moto's is
an empty stub).

Semantics follow the EventBridge user guide ("Event patterns", "Content
filtering"): every field named in the pattern must match; leaves are arrays
of alternatives; event arrays match if any element matches; operators
prefix, suffix, anything-but, numeric, exists, equals-ignore-case,
wildcard, cidr; `$or` at any object level.
"""

import ipaddress
import json
import math
import re

from .protocol import error_response, json_response

MAX_PATTERN = 4096
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region",
                         "resources", "detail-type")
_MISSING = object()
NUMERIC_OPS = ("<", "<=", "=", ">", ">=")


class PatternError(ValueError):
    pass


def _is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _wildcard_regex(text):
    if "**" in text:
        raise PatternError("Consecutive wildcard characters are not allowed.")
    out = ""
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "*\\":
            out += re.escape(text[i + 1])
            i += 2
            continue
        out += ".*" if c == "*" else re.escape(c)
        i += 1
    return re.compile(out + r"\Z", re.S)


def _str_or_eic(op, arg):
    """prefix/suffix argument: a string or {"equals-ignore-case": str}."""
    if isinstance(arg, str):
        return arg, False
    if isinstance(arg, dict) and list(arg) == ["equals-ignore-case"] \
            and isinstance(arg["equals-ignore-case"], str):
        return arg["equals-ignore-case"], True
    raise PatternError("%s match pattern must be a string." % op)


def _numeric(arg):
    if not isinstance(arg, list) or not arg or len(arg) % 2:
        raise PatternError("Value of numeric must be an array of operator/number pairs.")
    conds = []
    for i in range(0, len(arg), 2):
        op, num = arg[i], arg[i + 1]
        if op not in NUMERIC_OPS:
            raise PatternError("Unrecognized numeric range operator: %r" % (op,))
        if not _is_num(num) or math.isinf(num) or math.isnan(num):
            raise PatternError("Value of %s must be numeric" % op)
        conds.append((op, float(num)))
    if len(conds) > 2:
        raise PatternError("Too many elements in numeric expression")
    if len(conds) == 2:
        (a, _), (b, _) = conds
        if a not in (">", ">=") or b not in ("<", "<="):
            raise PatternError("Bad numeric range operator: a range needs a lower "
                               "bound (> or >=) then an upper bound (< or <=)")
        if conds[0][1] >= conds[1][1]:
            raise PatternError("Bad numeric range: lower bound must be below upper bound")
    return conds


class Matcher:
    """One compiled element of a leaf array."""

    def __init__(self, spec):
        self.kind = "literal"
        self.arg = spec
        if isinstance(spec, dict):
            self._compile_op(spec)
        elif isinstance(spec, (list,)):
            raise PatternError("Match value must be String, number, true, false, or null")
        elif isinstance(spec, float) and (math.isinf(spec) or math.isnan(spec)):
            raise PatternError("Match value must be a finite number")

    def _compile_op(self, spec):
        if len(spec) != 1:
            raise PatternError("Only one key allowed in match expression")
        op, arg = next(iter(spec.items()))
        self.kind = op
        if op in ("prefix", "suffix"):
            text, eic = _str_or_eic(op, arg)
            self.arg = (text.casefold() if eic else text, eic)
        elif op == "equals-ignore-case":
            if not isinstance(arg, str):
                raise PatternError("equals-ignore-case match pattern must be a string")
            self.arg = arg.casefold()
        elif op == "wildcard":
            if not isinstance(arg, str):
                raise PatternError("wildcard match pattern must be a string")
            self.arg = _wildcard_regex(arg)
        elif op == "exists":
            if not isinstance(arg, bool):
                raise PatternError("exists match pattern must be either true or false.")
            self.arg = arg
        elif op == "numeric":
            self.arg = _numeric(arg)
        elif op == "cidr":
            if not isinstance(arg, str):
                raise PatternError("cidr match pattern must be a string")
            try:
                self.arg = ipaddress.ip_network(arg, strict=False)
            except ValueError:
                raise PatternError("Nonstandard IP address: %s" % arg)
        elif op == "anything-but":
            self.arg = self._anything_but(arg)
        else:
            raise PatternError("Unrecognized match type %s" % op)

    @staticmethod
    def _anything_but(arg):
        if isinstance(arg, dict):
            if len(arg) != 1:
                raise PatternError("Only one key allowed in anything-but expression")
            op, val = next(iter(arg.items()))
            if op in ("prefix", "suffix"):
                if not isinstance(val, str):
                    raise PatternError("anything-but %s must be a string" % op)
                return (op, val)
            if op in ("equals-ignore-case", "wildcard"):
                vals = val if isinstance(val, list) else [val]
                if not vals or not all(isinstance(v, str) for v in vals):
                    raise PatternError("anything-but %s must be a string or an "
                                       "array of strings" % op)
                if op == "wildcard":
                    return (op, [_wildcard_regex(v) for v in vals])
                return (op, [v.casefold() for v in vals])
            raise PatternError("Unsupported anything-but pattern: %s" % op)
        vals = arg if isinstance(arg, list) else [arg]
        if not vals:
            raise PatternError("anything-but array must not be empty")
        if all(isinstance(v, str) for v in vals):
            return ("strings", set(vals))
        if all(_is_num(v) for v in vals):
            return ("numbers", set(float(v) for v in vals))
        raise PatternError("Inside anything-but list, mixed types are not supported")

    def matches_value(self, v):
        k = self.kind
        if k == "literal":
            m = self.arg
            if m is None:
                return v is None
            if isinstance(m, bool):
                return isinstance(v, bool) and v == m
            if _is_num(m):
                return _is_num(v) and float(v) == float(m)
            return isinstance(v, str) and v == m
        if k == "prefix":
            text, eic = self.arg
            return isinstance(v, str) and (v.casefold() if eic else v).startswith(text)
        if k == "suffix":
            text, eic = self.arg
            return isinstance(v, str) and (v.casefold() if eic else v).endswith(text)
        if k == "equals-ignore-case":
            return isinstance(v, str) and v.casefold() == self.arg
        if k == "wildcard":
            return isinstance(v, str) and self.arg.match(v) is not None
        if k == "numeric":
            if not _is_num(v):
                return False
            x = float(v)
            for op, n in self.arg:
                if not {"<": x < n, "<=": x <= n, "=": x == n, ">": x > n,
                        ">=": x >= n}[op]:
                    return False
            return True
        if k == "cidr":
            if not isinstance(v, str):
                return False
            try:
                return ipaddress.ip_address(v) in self.arg
            except ValueError:
                return False
        if k == "anything-but":
            op, val = self.arg
            if op == "strings":
                return isinstance(v, str) and v not in val
            if op == "numbers":
                return _is_num(v) and float(v) not in val
            if not isinstance(v, str):
                return False
            if op == "prefix":
                return not v.startswith(val)
            if op == "suffix":
                return not v.endswith(val)
            if op == "equals-ignore-case":
                return v.casefold() not in val
            if op == "wildcard":
                return not any(r.match(v) for r in val)
        return False


def compile_pattern(pattern, depth=0):
    """Validate a pattern object and compile its leaves."""
    if depth > 32:
        raise PatternError("Event pattern is nested too deeply")
    if not isinstance(pattern, dict):
        raise PatternError("Filter is not an object")
    if not pattern:
        raise PatternError("Empty objects are not allowed")
    out = {}
    for key, sub in pattern.items():
        if key == "$or":
            if not isinstance(sub, list) or len(sub) < 2:
                raise PatternError("Value of $or must be an array of at least two objects")
            out[key] = [compile_pattern(alt, depth + 1) for alt in sub]
        elif isinstance(sub, dict):
            out[key] = compile_pattern(sub, depth + 1)
        elif isinstance(sub, list):
            if not sub:
                raise PatternError("Empty arrays are not allowed")
            out[key] = [Matcher(m) for m in sub]
        else:
            raise PatternError('"%s" must be an object or an array' % key)
    return out


def _leaf(matchers, value):
    if value is _MISSING:
        return any(m.kind == "exists" and m.arg is False for m in matchers)
    values = value if isinstance(value, list) else [value]
    for m in matchers:
        if m.kind == "exists":
            if m.arg is True and not isinstance(value, dict):
                return True
            continue
        if any(not isinstance(v, (dict, list)) and m.matches_value(v) for v in values):
            return True
    return False


def match(compiled, event):
    for key, sub in compiled.items():
        if key == "$or":
            if not any(match(alt, event) for alt in sub):
                return False
            continue
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(sub, dict):
            if isinstance(value, list):
                ok = any(isinstance(v, dict) and match(sub, v) for v in value) \
                    or (not any(isinstance(v, dict) for v in value) and match(sub, _MISSING))
            elif isinstance(value, dict):
                ok = match(sub, value)
            else:
                ok = match(sub, _MISSING)
        else:
            ok = _leaf(sub, value)
        if not ok:
            return False
    return True


def test_event_pattern(pattern_text, event_text):
    """True/False, or raises PatternError (InvalidEventPatternException)."""
    try:
        pattern = json.loads(pattern_text)
    except (TypeError, ValueError) as e:
        raise PatternError("Event pattern is not valid JSON: %s" % e)
    compiled = compile_pattern(pattern)
    try:
        event = json.loads(event_text)
    except (TypeError, ValueError):
        raise PatternError("Parameter Event is not valid.")
    if not isinstance(event, dict) or any(f not in event for f in REQUIRED_EVENT_FIELDS):
        raise PatternError("Parameter Event is not valid.")
    return match(compiled, event)


def handle(call):
    params = call.params
    if not isinstance(params, dict):
        return error_response(call, 400, "SerializationException",
                              "Request body is not a JSON object.")
    pattern, event = params.get("EventPattern"), params.get("Event")
    if not isinstance(pattern, str) or not isinstance(event, str):
        return error_response(call, 400, "ValidationException",
                              "EventPattern and Event are required strings.")
    if len(pattern) > MAX_PATTERN:
        return error_response(call, 400, "ValidationException",
                              "1 validation error detected: Value at 'eventPattern' failed "
                              "to satisfy constraint: Member must have length less than "
                              "or equal to %d" % MAX_PATTERN)
    try:
        result = test_event_pattern(pattern, event)
    except PatternError as e:
        msg = str(e)
        if not msg.startswith("Parameter Event"):
            msg = "Event pattern is not valid. Reason: " + msg
        return error_response(call, 400, "InvalidEventPatternException", msg)
    return json_response(call, {"Result": result})
