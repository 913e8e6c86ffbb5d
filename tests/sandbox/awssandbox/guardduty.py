"""GuardDuty ListFindings / GetFindings (absent from moto), answering from
findings seeded through POST /_sandbox/findings."""

import base64
import calendar
import copy
import fnmatch
import json
import threading
import time
import uuid

from .protocol import error_response, json_response

NOT_OWNED = ("The request is rejected because the input detectorId is not owned "
             "by the current account.")


class FindingError(ValueError):
    pass


def _iso_ms(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts)) + ".%03dZ" % (
        int(ts * 1000) % 1000)


def _backend(account, region):
    from moto.guardduty.models import guardduty_backends
    return guardduty_backends[account][region]


def _merge(base, extra):
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def default_finding(account, region, detector_id, given):
    now = time.time()
    fid = given.get("id") or uuid.uuid4().hex
    ftype = given.get("type") or "Recon:IAMUser/MaliciousIPCaller"
    api = "DescribeInstances"
    finding = {
        "accountId": account,
        "arn": "arn:aws:guardduty:%s:%s:detector/%s/finding/%s" % (
            region, account, detector_id, fid),
        "confidence": 5.0,
        "createdAt": _iso_ms(now),
        "description": "Sandbox finding of type %s." % ftype,
        "id": fid,
        "partition": "aws",
        "region": region,
        "resource": {
            "resourceType": "AccessKey",
            "accessKeyDetails": {"accessKeyId": "AKIAIOSFODNN7EXAMPLE",
                                 "principalId": "AIDACKCEVSQ6C2EXAMPLE",
                                 "userName": "sandbox-user", "userType": "IAMUser"},
        },
        "schemaVersion": "2.0",
        "service": {
            "serviceName": "guardduty",
            "detectorId": detector_id,
            "action": {
                "actionType": "AWS_API_CALL",
                "awsApiCallAction": {
                    "api": api, "callerType": "Remote IP",
                    "serviceName": "ec2.amazonaws.com",
                    "remoteIpDetails": {"ipAddressV4": "198.51.100.7"},
                },
            },
            "archived": False,
            "count": 1,
            "eventFirstSeen": _iso_ms(now),
            "eventLastSeen": _iso_ms(now),
            "resourceRole": "TARGET",
        },
        "severity": 5.0,
        "title": "Sandbox finding: %s" % ftype,
        "type": ftype,
        "updatedAt": _iso_ms(now),
    }
    return _merge(finding, given)


class FindingStore:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.findings = {}   # (account, region, detector) -> {id: finding}

    def seed(self, spec):
        """POST /_sandbox/findings body -> summary; raises FindingError."""
        if not isinstance(spec, dict):
            raise FindingError("expected a JSON object")
        from moto.core import DEFAULT_ACCOUNT_ID
        account = str(spec.get("account") or DEFAULT_ACCOUNT_ID)
        region = spec.get("region") or "us-east-1"
        findings = spec.get("findings")
        if findings is None:
            findings = [spec["finding"]] if isinstance(spec.get("finding"), dict) else []
        if not isinstance(findings, list) or not all(isinstance(f, dict) for f in findings):
            raise FindingError("'findings' must be a list of objects")
        if not isinstance(region, str) or not region:
            raise FindingError("'region' must be a region name")
        backend = _backend(account, region)
        detector_id = spec.get("detectorId")
        if detector_id:
            if detector_id not in backend.detectors:
                raise FindingError("no detector %s in %s/%s" % (detector_id, account, region))
        elif backend.detectors:
            detector_id = sorted(backend.detectors)[0]
        else:
            detector_id = backend.create_detector(True, "SIX_HOURS", {}, {}, [])
        ids = []
        with self.lock:
            bucket = self.findings.setdefault((account, region, detector_id), {})
            for given in findings:
                f = default_finding(account, region, detector_id, given)
                bucket[f["id"]] = f
                ids.append(f["id"])
        return {"account": account, "region": region, "detectorId": detector_id,
                "findingIds": ids}

    def list_all(self):
        with self.lock:
            return [{"account": a, "region": r, "detectorId": d, "findings": list(v.values())}
                    for (a, r, d), v in sorted(self.findings.items())]

    def get(self, account, region, detector):
        with self.lock:
            return [copy.deepcopy(f) for f in
                    self.findings.get((account, region, detector), {}).values()]


def _values(obj, path):
    cur = [obj]
    for part in path.split("."):
        nxt = []
        for c in cur:
            if isinstance(c, dict) and part in c:
                v = c[part]
                if isinstance(v, list):
                    nxt.extend(v)
                else:
                    nxt.append(v)
        cur = nxt
    return cur


def _to_number(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            pass
        try:
            base = v.rstrip("Z")
            frac = 0.0
            if "." in base:
                base, f = base.split(".", 1)
                frac = float("0." + f) if f.isdigit() else 0.0
            t = calendar.timegm(time.strptime(base, "%Y-%m-%dT%H:%M:%S"))
            return (t + frac) * 1000.0   # GuardDuty compares times in epoch ms
        except ValueError:
            return None
    return None


def _text(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _equal(field_value, wanted):
    a, b = _to_number(field_value), _to_number(wanted)
    if a is not None and b is not None and not isinstance(field_value, str):
        return a == b
    return _text(field_value) == _text(wanted)


def _condition(values, cond):
    if not isinstance(cond, dict):
        raise FindingError("a criterion condition must be an object")
    for op, arg in cond.items():
        if op in ("eq", "equals"):
            arg = arg if isinstance(arg, list) else [arg]
            if not any(_equal(v, w) for v in values for w in arg):
                return False
        elif op in ("neq", "notEquals"):
            arg = arg if isinstance(arg, list) else [arg]
            if any(_equal(v, w) for v in values for w in arg):
                return False
        elif op in ("gt", "greaterThan", "gte", "greaterThanOrEqual",
                    "lt", "lessThan", "lte", "lessThanOrEqual"):
            limit = _to_number(arg)
            if limit is None:
                raise FindingError("%s needs a number" % op)
            nums = [n for n in (_to_number(v) for v in values) if n is not None]
            test = {"gt": lambda n: n > limit, "greaterThan": lambda n: n > limit,
                    "gte": lambda n: n >= limit, "greaterThanOrEqual": lambda n: n >= limit,
                    "lt": lambda n: n < limit, "lessThan": lambda n: n < limit,
                    "lte": lambda n: n <= limit, "lessThanOrEqual": lambda n: n <= limit}[op]
            if not any(test(n) for n in nums):
                return False
        elif op in ("matches", "notMatches"):
            arg = arg if isinstance(arg, list) else [arg]
            hit = any(fnmatch.fnmatchcase(_text(v), str(p)) for v in values for p in arg)
            if hit != (op == "matches"):
                return False
        else:
            raise FindingError("unknown criterion operator %r" % op)
    return True


def matches(finding, criteria):
    if not criteria:
        return True
    if not isinstance(criteria, dict):
        raise FindingError("findingCriteria must be an object")
    crit = criteria.get("criterion", {})
    if not isinstance(crit, dict):
        raise FindingError("findingCriteria.criterion must be an object")
    return all(_condition(_values(finding, field), cond) for field, cond in crit.items())


def _sort(findings, sort):
    if not sort:
        return findings
    if not isinstance(sort, dict) or not isinstance(sort.get("attributeName"), str):
        raise FindingError("sortCriteria needs attributeName")
    attr = sort["attributeName"]
    desc = str(sort.get("orderBy", "ASC")).upper() == "DESC"

    def key(f):
        vals = _values(f, attr)
        if not vals:
            return (1, 0, "")
        n = _to_number(vals[0])
        return (0, n if n is not None else 0, _text(vals[0]))
    present = [f for f in findings if _values(f, attr)]
    absent = [f for f in findings if not _values(f, attr)]
    return sorted(present, key=key, reverse=desc) + absent


def handle(call, store):
    detector = call.path_labels.get("DetectorId")
    try:
        backend = _backend(call.account, call.region)
        known = detector in backend.detectors
    except Exception:
        known = False
    if not known:
        return error_response(call, 400, "BadRequestException", NOT_OWNED)
    params = call.params if call.params is not None else None
    if params is None and call.body:
        return error_response(call, 400, "BadRequestException", "The request body is not valid JSON.")
    params = params or {}
    if not isinstance(params, dict):
        return error_response(call, 400, "BadRequestException", "The request body must be an object.")
    findings = store.get(call.account, call.region, detector)
    try:
        if call.operation == "GetFindings":
            ids = params.get("findingIds")
            if not isinstance(ids, list) or not ids or len(ids) > 50 \
                    or not all(isinstance(i, str) for i in ids):
                return error_response(call, 400, "BadRequestException",
                                      "findingIds must list 1 to 50 finding IDs.")
            wanted = set(ids)
            out = [f for f in findings if f["id"] in wanted]
            return json_response(call, {"findings": _sort(out, params.get("sortCriteria"))})
        max_results = params.get("maxResults", 50)
        if isinstance(max_results, bool) or not isinstance(max_results, int) \
                or not 1 <= max_results <= 50:
            return error_response(call, 400, "BadRequestException",
                                  "maxResults must be between 1 and 50.")
        hits = [f for f in findings if matches(f, params.get("findingCriteria"))]
        hits = _sort(hits, params.get("sortCriteria"))
        offset = 0
        token = params.get("nextToken")
        if token:
            try:
                offset = int(json.loads(base64.urlsafe_b64decode(
                    token + "=" * (-len(token) % 4)))["o"])
            except (ValueError, KeyError, TypeError):
                return error_response(call, 400, "BadRequestException",
                                      "The nextToken is not valid.")
        page = hits[offset:offset + max_results]
        result = {"findingIds": [f["id"] for f in page]}
        if offset + max_results < len(hits):
            result["nextToken"] = base64.urlsafe_b64encode(json.dumps(
                {"o": offset + max_results}).encode()).decode().rstrip("=")
        return json_response(call, result)
    except FindingError as e:
        return error_response(call, 400, "BadRequestException", str(e))
