"""CloudWatch Logs filter patterns for logs:TestMetricFilter (moto answers
500). Three pattern families, as in the CloudWatch Logs user guide:

* JSON:   { ($.eventName = ConsoleLogin) && ($.errorCode = "AccessDenied*") }
          operators = != < > <= >=, IS TRUE/FALSE/NULL, NOT EXISTS, EXISTS,
          && || and parentheses, * wildcards, %regex% values.
* space-delimited: [ip, user, ..., status = 4*, bytes > 1000]
* terms:  ERROR  "quoted phrase"  ?ERROR ?WARN  ERROR -DEBUG
          (empty pattern = every event)

A comparison on a property the event does not have is false (only NOT
EXISTS matches a missing property).
"""

import fnmatch
import json
import math
import re

from .protocol import error_response, json_response


class FilterError(ValueError):
    pass


# --- JSON patterns -----------------------------------------------------------

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<and>&&)
  | (?P<or>\|\|)
  | (?P<lp>\()
  | (?P<rp>\))
  | (?P<op>!=|<=|>=|=|<|>)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<regex>%(?:[^%\\]|\\.)*%)
  | (?P<word>[^\s()&|=!<>"]+)
""", re.X)


def _tokens(text):
    pos = 0
    out = []
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise FilterError("Invalid character at position %d in filter pattern" % pos)
        pos = m.end()
        kind = m.lastgroup
        if kind == "ws":
            continue
        out.append((kind, m.group(kind)))
    return out


_SELECTOR_RE = re.compile(r"^\$((?:\.[^.\[\]\s]+|\[(?:\d+|\*)\])*)$")
_SEL_PART_RE = re.compile(r"\.([^.\[\]\s]+)|\[(\d+|\*)\]")


def _selector(word):
    m = _SELECTOR_RE.match(word)
    if not m or word == "$":
        raise FilterError("Invalid selector %r (expected $.field...)" % word)
    parts = []
    for pm in _SEL_PART_RE.finditer(m.group(1)):
        if pm.group(1) is not None:
            parts.append(pm.group(1))
        else:
            parts.append("*" if pm.group(2) == "*" else int(pm.group(2)))
    return parts


def _resolve(doc, parts):
    """All values the selector reaches (empty list = property missing)."""
    cur = [doc]
    for p in parts:
        nxt = []
        for c in cur:
            if p == "*":
                if isinstance(c, list):
                    nxt.extend(c)
            elif isinstance(p, int):
                if isinstance(c, list) and 0 <= p < len(c):
                    nxt.append(c[p])
            elif isinstance(c, dict) and p in c:
                nxt.append(c[p])
        cur = nxt
    return cur


def _unquote(s):
    return re.sub(r'\\(.)', r"\1", s[1:-1])


def _num(text):
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if not (math.isnan(v) or math.isinf(v)) else None


class _Cmp:
    def __init__(self, sel, op, kind, value):
        self.sel, self.op, self.kind, self.value = sel, op, kind, value
        if op in ("<", ">", "<=", ">=") and (kind != "word" or _num(value) is None):
            raise FilterError("Operator %s needs a number, not %r" % (op, value))
        if kind == "regex":
            try:
                self.regex = re.compile(value)
            except re.error as e:
                raise FilterError("Invalid regular expression %r: %s" % (value, e))

    def _one(self, v):
        op, kind, value = self.op, self.kind, self.value
        if op in ("<", ">", "<=", ">="):
            n = _num(value) if kind == "word" else None
            if n is None:
                raise FilterError("Operator %s needs a number" % op)
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return False
            return {"<": v < n, ">": v > n, "<=": v <= n, ">=": v >= n}[op]
        if isinstance(v, (dict, list)):
            eq = False
        elif kind == "regex":
            eq = isinstance(v, str) and self.regex.search(v) is not None
        elif kind == "word" and _num(value) is not None and isinstance(v, (int, float)) \
                and not isinstance(v, bool):
            eq = float(v) == _num(value)
        else:
            if isinstance(v, bool):
                text = "true" if v else "false"
            elif v is None:
                text = "null"
            elif isinstance(v, float) and v.is_integer():
                text = str(int(v))
            else:
                text = str(v)
            if "*" in value:
                eq = fnmatch.fnmatchcase(text, value.replace("[", "[[]"))
            else:
                eq = text == value
        return eq if op == "=" else not eq

    def eval(self, doc):
        values = _resolve(doc, self.sel)
        if not values:
            return False
        flat = []
        for v in values:
            if isinstance(v, list) and self.op in ("=", "!="):
                flat.extend(v)
            else:
                flat.append(v)
        if self.op == "!=":
            return bool(flat) and all(self._one(v) for v in flat)
        return any(self._one(v) for v in flat)


class _Is:
    def __init__(self, sel, what):
        self.sel, self.what = sel, what

    def eval(self, doc):
        values = _resolve(doc, self.sel)
        if self.what == "NOT EXISTS":
            return not values
        if self.what == "EXISTS":
            return bool(values)
        if not values:
            return False
        want = {"TRUE": True, "FALSE": False, "NULL": None}[self.what]
        return any(v is want for v in values)


class _Bool:
    def __init__(self, op, items):
        self.op, self.items = op, items

    def eval(self, doc):
        if self.op == "&&":
            return all(i.eval(doc) for i in self.items)
        return any(i.eval(doc) for i in self.items)


class _Parser:
    def __init__(self, tokens):
        self.t = tokens
        self.i = 0

    def peek(self):
        return self.t[self.i] if self.i < len(self.t) else (None, None)

    def take(self, kind=None):
        tok = self.peek()
        if tok[0] is None or (kind and tok[0] != kind):
            raise FilterError("Unexpected %s in filter pattern" % (
                repr(tok[1]) if tok[1] is not None else "end"))
        self.i += 1
        return tok

    def parse(self):
        e = self.expr()
        if self.peek()[0] is not None:
            raise FilterError("Unexpected %r in filter pattern" % self.peek()[1])
        return e

    def expr(self):
        items = [self.conj()]
        while self.peek()[0] == "or":
            self.take()
            items.append(self.conj())
        return items[0] if len(items) == 1 else _Bool("||", items)

    def conj(self):
        items = [self.unary()]
        while self.peek()[0] == "and":
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else _Bool("&&", items)

    def unary(self):
        if self.peek()[0] == "lp":
            self.take()
            e = self.expr()
            self.take("rp")
            return e
        return self.comparison()

    def comparison(self):
        _, word = self.take("word")
        sel = _selector(word)
        kind, val = self.peek()
        if kind == "op":
            self.take()
            vkind, vtext = self.take()
            if vkind == "str":
                return _Cmp(sel, val, "str", _unquote(vtext))
            if vkind == "regex":
                return _Cmp(sel, val, "regex", _unquote(vtext))
            if vkind == "word":
                return _Cmp(sel, val, "word", vtext)
            raise FilterError("Expected a value after %s" % val)
        if kind == "word" and val.upper() == "IS":
            self.take()
            _, what = self.take("word")
            what = what.upper()
            if what not in ("TRUE", "FALSE", "NULL"):
                raise FilterError("Expected TRUE, FALSE or NULL after IS")
            return _Is(sel, what)
        if kind == "word" and val.upper() == "NOT":
            self.take()
            _, what = self.take("word")
            if what.upper() != "EXISTS":
                raise FilterError("Expected EXISTS after NOT")
            return _Is(sel, "NOT EXISTS")
        if kind == "word" and val.upper() == "EXISTS":
            self.take()
            return _Is(sel, "EXISTS")
        raise FilterError("Expected an operator after %s" % word)


def compile_json(text):
    inner = text.strip()
    if not (inner.startswith("{") and inner.endswith("}")):
        raise FilterError("A JSON filter pattern must be enclosed in { }")
    inner = inner[1:-1].strip()
    if not inner:
        raise FilterError("Empty JSON filter pattern")
    return _Parser(_tokens(inner)).parse()


# --- space-delimited patterns ------------------------------------------------

def _split_fields(msg):
    out = []
    i, n = 0, len(msg)
    while i < n:
        if msg[i].isspace():
            i += 1
            continue
        if msg[i] == '"':
            j = msg.find('"', i + 1)
            j = n if j < 0 else j
            out.append(msg[i + 1:j])
            i = j + 1
        elif msg[i] == "[":
            j = msg.find("]", i + 1)
            j = n if j < 0 else j
            out.append(msg[i + 1:j])
            i = j + 1
        else:
            j = i
            while j < n and not msg[j].isspace():
                j += 1
            out.append(msg[i:j])
            i = j
    return out


_FIELD_COND_RE = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>)\s*("(?:[^"\\]|\\.)*"|\S+)\s*$')
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _split_top(text, sep):
    parts, depth, cur, i = [], 0, "", 0
    inq = False
    while i < len(text):
        c = text[i]
        if c == '"':
            inq = not inq
        if not inq and text.startswith(sep, i):
            parts.append(cur)
            cur = ""
            i += len(sep)
            continue
        cur += c
        i += 1
    parts.append(cur)
    return parts


class _Slot:
    def __init__(self, spec):
        spec = spec.strip()
        self.ellipsis = spec == "..."
        self.name = None
        self.alts = []     # list (||) of lists (&&) of (op, kind, value)
        if self.ellipsis:
            return
        if _NAME_RE.match(spec):
            self.name = spec
            return
        for alt in _split_top(spec, "||"):
            conds = []
            for part in _split_top(alt, "&&"):
                m = _FIELD_COND_RE.match(part)
                if not m:
                    raise FilterError("Invalid field condition %r" % part.strip())
                name, op, val = m.groups()
                if self.name is None:
                    self.name = name
                elif name != self.name:
                    raise FilterError("A field condition may only test its own field")
                kind = "str" if val.startswith('"') else "word"
                conds.append(_Cmp([], op, kind, _unquote(val) if kind == "str" else val))
            self.alts.append(conds)

    def test(self, value):
        if not self.alts:
            return True
        v = value
        n = _num(value)
        for conds in self.alts:
            ok = True
            for c in conds:
                arg = n if (n is not None and c.kind == "word" and _num(c.value) is not None) else v
                if not c._one(arg):
                    ok = False
                    break
            if ok:
                return True
        return False


class _Delimited:
    def __init__(self, text):
        inner = text.strip()[1:-1]
        if not inner.strip():
            raise FilterError("Empty space-delimited filter pattern")
        self.slots = [_Slot(s) for s in _split_top(inner, ",")]

    def match(self, msg):
        fields = _split_fields(msg)
        found = {}

        def go(si, fi):
            if si == len(self.slots):
                return fi == len(fields)
            slot = self.slots[si]
            if slot.ellipsis:
                for k in range(fi, len(fields) + 1):
                    if go(si + 1, k):
                        return True
                return False
            if fi >= len(fields) or not slot.test(fields[fi]):
                return False
            if go(si + 1, fi + 1):
                if slot.name:
                    found["$" + slot.name] = fields[fi]
                return True
            return False
        if not go(0, 0):
            return None
        return found


# --- term patterns -----------------------------------------------------------

class _Terms:
    def __init__(self, text):
        self.required, self.optional, self.excluded = [], [], []
        for m in re.finditer(r'([?-]?)("(?:[^"\\]|\\.)*"|\S+)', text):
            prefix, term = m.groups()
            if term.startswith('"'):
                term = _unquote(term)
            if not term:
                continue
            {"": self.required, "?": self.optional, "-": self.excluded}[prefix].append(term)

    def match(self, msg):
        if any(t not in msg for t in self.required):
            return False
        if any(t in msg for t in self.excluded):
            return False
        if self.optional and not any(t in msg for t in self.optional):
            return False
        return True


def compile_pattern(text):
    """A callable message -> extractedValues dict (match) or None."""
    if text is None or not text.strip():
        return lambda msg: {}
    t = text.strip()
    if t.startswith("{"):
        expr = compile_json(t)

        def run(msg):
            try:
                doc = json.loads(msg)
            except ValueError:
                return None
            if not isinstance(doc, (dict, list)):
                return None
            return {} if expr.eval(doc) else None
        return run
    if t.startswith("["):
        if not t.endswith("]"):
            raise FilterError("A space-delimited filter pattern must end with ]")
        d = _Delimited(t)
        return d.match
    terms = _Terms(t)
    return lambda msg: {} if terms.match(msg) else None


def test_metric_filter(pattern, messages):
    run = compile_pattern(pattern)
    matches = []
    for i, msg in enumerate(messages, 1):
        found = run(msg)
        if found is not None:
            matches.append({"eventNumber": i, "eventMessage": msg,
                            "extractedValues": found})
    return matches


def handle(call):
    params = call.params
    if not isinstance(params, dict):
        return error_response(call, 400, "SerializationException",
                              "Request body is not a JSON object.")
    pattern = params.get("filterPattern")
    messages = params.get("logEventMessages")
    if not isinstance(pattern, str) or len(pattern) > 1024:
        return error_response(call, 400, "InvalidParameterException",
                              "filterPattern must be a string of at most 1024 characters.")
    if not isinstance(messages, list) or not 1 <= len(messages) <= 50 \
            or not all(isinstance(m, str) for m in messages):
        return error_response(call, 400, "InvalidParameterException",
                              "logEventMessages must list 1 to 50 strings.")
    try:
        matches = test_metric_filter(pattern, messages)
    except FilterError as e:
        return error_response(call, 400, "InvalidParameterException",
                              "Invalid metric filter pattern: %s" % e)
    return json_response(call, {"matches": matches})
