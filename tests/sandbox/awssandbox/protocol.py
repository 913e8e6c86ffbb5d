"""Wire-protocol knowledge: which service, region, key and operation a request
is, and how each protocol shapes an error answer.

Operation names come from botocore's service models (the models the SDKs are
generated from), so REST services such as GuardDuty and S3 get the same
operation names AWS uses.
"""

import json
import re
import threading
import time
import urllib.parse
from xml.sax.saxutils import escape as xml_escape

import botocore.session

# SigV4 signing name -> botocore model name, where they differ.
SIGNING_TO_MODEL = {
    "monitoring": "cloudwatch",
    "email": "ses",
    "eventbridge": "events",
    "states": "stepfunctions",
    "execute-api": "apigateway",
    "tagging": "resourcegroupstaggingapi",
    "cognito-identity": "cognito-identity",
    "mobiletargeting": "pinpoint",
}

# Signing names shared by more than one API: the other models to try when a
# REST request matches no operation of the first.
SHARED_SIGNING_NAMES = {
    "bedrock": ("bedrock-runtime",),
}

# Signing name -> the host label CloudTrail puts in eventSource.
EVENT_SOURCE_OVERRIDE = {
    "eventbridge": "events",
}

# Query actions that are sent unsigned.
UNSIGNED_QUERY_ACTIONS = {
    "AssumeRoleWithWebIdentity": "sts",
    "AssumeRoleWithSAML": "sts",
}

# Services whose events CloudTrail records in us-east-1 whatever the
# credential scope says.
GLOBAL_SERVICES = {"iam": "us-east-1", "cloudfront": "us-east-1",
                   "route53": "us-east-1", "organizations": "us-east-1"}

_AUTH_RE = re.compile(
    r"AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)/(\d{8})/([^/,\s]+)/([^/,\s]+)/aws4_request")

_session = None
_session_lock = threading.Lock()
_models = {}
_rest_tables = {}


def service_model(name):
    """The botocore service model for a signing name, or None."""
    global _session
    model_name = SIGNING_TO_MODEL.get(name, name)
    with _session_lock:
        if model_name in _models:
            return _models[model_name]
        if _session is None:
            _session = botocore.session.get_session()
        try:
            model = _session.get_service_model(model_name)
        except Exception:
            model = None
        _models[model_name] = model
        return model


def service_model_named(model_name):
    """A botocore model by its own name (not a signing name), or None."""
    global _session
    with _session_lock:
        key = "model:" + model_name
        if key in _models:
            return _models[key]
        if _session is None:
            _session = botocore.session.get_session()
        try:
            model = _session.get_service_model(model_name)
        except Exception:
            model = None
        _models[key] = model
        return model


def event_source(service):
    return "%s.amazonaws.com" % EVENT_SOURCE_OVERRIDE.get(service, service)


class Headers:
    """Case-insensitive header view keeping the original names."""

    def __init__(self, pairs):
        self._items = list(pairs)
        self._map = {}
        for k, v in self._items:
            lk = k.lower()
            if lk in self._map:
                self._map[lk] = self._map[lk] + "," + v
            else:
                self._map[lk] = v

    def get(self, name, default=None):
        return self._map.get(name.lower(), default)

    def __contains__(self, name):
        return name.lower() in self._map

    def items(self):
        return list(self._items)


def parse_credential(headers, query):
    """(access_key, region, service) from the SigV4 Authorization header or a
    presigned URL's X-Amz-Credential, or (None, None, None)."""
    auth = headers.get("Authorization") or ""
    m = _AUTH_RE.search(auth)
    if m:
        return m.group(1), m.group(3).lower(), m.group(4).lower()
    cred = (query.get("X-Amz-Credential") or [None])[0]
    if cred:
        parts = cred.split("/")
        if len(parts) == 5:
            return parts[0], parts[2].lower(), parts[3].lower()
    # SigV2-style or anonymous
    legacy = (query.get("AWSAccessKeyId") or [None])[0]
    return legacy, None, None


def parse_form(body):
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return urllib.parse.parse_qs(text, keep_blank_values=True)


def first(params, key):
    v = params.get(key)
    if isinstance(v, list):
        return v[0] if v else None
    return v


def _uri_regex(uri):
    """botocore requestUri -> (path regex, labels, required query)."""
    path, _, q = uri.partition("?")
    labels = []
    regex = ""
    literal = 0
    pos = 0
    for m in re.finditer(r"\{([A-Za-z0-9_]+)(\+?)\}", path):
        lit = path[pos:m.start()]
        regex += re.escape(lit)
        literal += len(lit)
        labels.append(m.group(1))
        regex += "(?P<%s>%s)" % (m.group(1), ".+" if m.group(2) else "[^/]+")
        pos = m.end()
    lit = path[pos:]
    regex += re.escape(lit)
    literal += len(lit)
    required = {}
    if q:
        for part in q.split("&"):
            k, eq, v = part.partition("=")
            required[k] = v if eq else None
    return re.compile("^" + regex + "/?$"), labels, required, literal


def _rest_table(model):
    with _session_lock:
        table = _rest_tables.get(model.service_name)
        if table is not None:
            return table
    table = []
    for name in model.operation_names:
        op = model.operation_model(name)
        http = op.http
        if "requestUri" not in http:
            continue
        regex, labels, required, literal = _uri_regex(http["requestUri"])
        headers = []
        shape = op.input_shape
        if shape is not None:
            for member in shape.required_members:
                ser = shape.members[member].serialization
                if ser.get("location") == "header":
                    headers.append(ser.get("name", member))
                elif ser.get("location") == "querystring":
                    required.setdefault(ser.get("name", member), None)
        table.append((http.get("method", "POST"), regex, labels, required,
                      headers, literal, name))
    with _session_lock:
        _rest_tables[model.service_name] = table
    return table


def match_rest_operation(model, method, path, query, headers=None):
    """Find the operation of a REST request: (name, path labels)."""
    best = None
    for op_method, regex, labels, required, need_headers, literal, name \
            in _rest_table(model):
        if op_method != method:
            continue
        m = regex.match(path)
        if not m:
            continue
        ok = True
        for k, v in required.items():
            if k not in query or (v is not None and first(query, k) != v):
                ok = False
                break
        if not ok:
            continue
        if need_headers and (headers is None or not all(h in headers for h in need_headers)):
            continue
        score = (len(required) + len(need_headers), literal, -len(labels))
        if best is None or score > best[0]:
            best = (score, name, {k: urllib.parse.unquote(m.group(k))
                                  for k in labels})
    if best is None:
        return None, {}
    return best[1], best[2]


class Call:
    """One AWS request as the recorder sees it."""

    def __init__(self):
        self.method = "GET"
        self.path = "/"
        self.raw_path = "/"
        self.query_string = ""
        self.query = {}
        self.headers = Headers([])
        self.body = b""
        self.client_ip = "127.0.0.1"
        self.client_port = 0
        self.service = None          # signing name, e.g. "ec2"
        self.region = "us-east-1"    # where the record lands
        self.scope_region = None     # region of the credential scope
        self.access_key = None
        self.session_token = None
        self.account = None
        self.protocol = None         # ec2, query, json, rest-json, rest-xml, rpcv2
        self.json_version = "1.1"
        self.operation = None
        self.params = {}             # form params (query) or JSON body
        self.path_labels = {}
        self.user_agent = ""
        self.start = 0.0
        self.seq = 0
        self.request_id = None
        self.model = None
        self.unrecorded = False      # refused before the service handled it
        self.knobs = None            # the knobs this request saw
        self.skew = 0.0              # the sandbox clock's offset


def body_is_json(call):
    """Whether a REST-JSON request body is the operation's JSON document (not
    a blob payload such as Bedrock InvokeModel's)."""
    if call.model is None or not call.operation:
        return True
    try:
        op = call.model.operation_model(call.operation)
    except Exception:
        return True
    shape = op.input_shape
    if shape is None:
        return True
    payload = shape.serialization.get("payload")
    if payload and payload in shape.members:
        return shape.members[payload].type_name == "structure"
    return True


def classify(call):
    """Fill service, region, key, protocol, operation and params of a Call."""
    h = call.headers
    key, scope_region, service = parse_credential(h, call.query)
    call.access_key = key
    call.session_token = h.get("X-Amz-Security-Token") or first(
        call.query, "X-Amz-Security-Token")
    ctype = (h.get("Content-Type") or "").lower()
    form = {}
    if ctype.startswith("application/x-www-form-urlencoded") and call.body:
        form = parse_form(call.body)
    if "Action" in call.query and not form:
        form = {k: v for k, v in call.query.items()}
    action = first(form, "Action")
    if service is None:
        if action in UNSIGNED_QUERY_ACTIONS:
            service = UNSIGNED_QUERY_ACTIONS[action]
            scope_region = scope_region or "us-east-1"
        elif h.get("X-Amz-Target", "").startswith("AWSCognito"):
            service = "cognito-identity"
        else:
            service = "s3"          # moto's default for unsigned requests
    if service == "eventbridge":
        service = "events"
    call.service = service
    call.scope_region = scope_region or "us-east-1"
    call.region = GLOBAL_SERVICES.get(service, call.scope_region)
    call.user_agent = h.get("User-Agent") or ""
    model = service_model(service)
    call.model = model
    target = h.get("X-Amz-Target")
    m = re.match(r"^/service/([^/]+)/operation/([^/?]+)", call.path)
    if target:
        call.protocol = "json"
        if "json-1.0" in ctype:
            call.json_version = "1.0"
        call.operation = target.rsplit(".", 1)[-1]
        try:
            call.params = json.loads(call.body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError):
            call.params = None
    elif m and (h.get("smithy-protocol") or "").startswith("rpc-v2"):
        call.protocol = "rpcv2"
        call.operation = m.group(2)
        call.params = {}
    elif action:
        call.protocol = "ec2" if service == "ec2" else "query"
        call.operation = action
        call.params = form
    else:
        mp = model.protocol if model is not None else None
        call.protocol = mp if mp in ("rest-json", "rest-xml") else "rest-xml"
        if model is not None:
            op, labels = match_rest_operation(model, call.method, call.path,
                                              call.query, h)
            call.operation = op
            call.path_labels = labels
            if op is None and service in SHARED_SIGNING_NAMES:
                # One signing name, several APIs (bedrock, bedrock-runtime).
                for other in SHARED_SIGNING_NAMES[service]:
                    alt = service_model_named(other)
                    if alt is None:
                        continue
                    op, labels = match_rest_operation(alt, call.method, call.path,
                                                      call.query, h)
                    if op is not None:
                        call.model = model = alt
                        call.operation = op
                        call.path_labels = labels
                        break
        if call.operation is None:
            call.operation = "%s%s" % (call.method.capitalize(), "Unknown")
        if call.protocol == "rest-json" and call.body and body_is_json(call):
            try:
                call.params = json.loads(call.body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                call.params = None
        else:
            call.params = {}
    return call


# --- error answers in each protocol's own shape ---------------------------

EC2_XML_ERR = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
               '<Code>%s</Code><Message>%s</Message></Error></Errors>'
               '<RequestID>%s</RequestID></Response>')


def error_response(call, status, code, message, extra=None):
    """(status, headers, body) for an error in the call's protocol; `extra`
    adds elements to an S3 (REST-XML) error."""
    rid = call.request_id
    p = call.protocol
    if p == "ec2":
        body = EC2_XML_ERR % (xml_escape(code), xml_escape(message), rid)
        return status, [("Content-Type", "text/xml;charset=UTF-8")], body.encode()
    if p == "query":
        ns = ""
        if call.model is not None:
            ns = call.model.metadata.get("xmlNamespace") or ""
        typ = "Receiver" if status >= 500 else "Sender"
        body = ('<ErrorResponse%s><Error><Type>%s</Type><Code>%s</Code>'
                '<Message>%s</Message></Error><RequestId>%s</RequestId>'
                '</ErrorResponse>') % (' xmlns="%s"' % ns if ns else "", typ,
                                       xml_escape(code), xml_escape(message), rid)
        return status, [("Content-Type", "text/xml")], body.encode()
    if p in ("json", "rpcv2"):
        body = json.dumps({"__type": code, "message": message})
        return status, [("Content-Type", "application/x-amz-json-%s"
                         % call.json_version)], body.encode()
    if p == "rest-json":
        body = json.dumps({"message": message, "__type": code})
        return status, [("Content-Type", "application/json"),
                        ("X-Amzn-ErrorType", code)], body.encode()
    more = "".join("<%s>%s</%s>" % (k, xml_escape(str(v)), k)
                   for k, v in (extra or {}).items())
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code>'
            '<Message>%s</Message>%s<RequestId>%s</RequestId></Error>') % (
                xml_escape(code), xml_escape(message), more, rid)
    return status, [("Content-Type", "application/xml")], body.encode()


def json_response(call, obj, status=200):
    body = json.dumps(obj).encode()
    if call.protocol == "rest-json":
        ctype = "application/json"
    else:
        ctype = "application/x-amz-json-%s" % call.json_version
    return status, [("Content-Type", ctype)], body


INVALID_TOKEN = "The security token included in the request is invalid."
SIG_MISMATCH = ("The request signature we calculated does not match the signature you "
                "provided. Check your AWS Secret Access Key and signing method. Consult "
                "the service documentation for details.")
EXPIRED_TOKEN = "The security token included in the request is expired"

# Refusals before the service handles a request, per protocol:
# kind -> {protocol: (status, code, message)}; "rest-xml" is S3.
REFUSALS = {
    "authfailure": {
        "ec2": (401, "AuthFailure",
                "AWS was not able to validate the provided access credentials"),
        "query": (403, "InvalidClientTokenId", INVALID_TOKEN),
        "json": (400, "UnrecognizedClientException", INVALID_TOKEN),
        "rest-json": (403, "UnrecognizedClientException", INVALID_TOKEN),
        "rest-xml": (403, "InvalidAccessKeyId",
                     "The AWS Access Key Id you provided does not exist in our records."),
    },
    "signature": {
        # EC2 does not say which part of the credentials failed.
        "ec2": (401, "AuthFailure",
                "AWS was not able to validate the provided access credentials"),
        "query": (403, "SignatureDoesNotMatch", SIG_MISMATCH),
        "json": (400, "InvalidSignatureException", SIG_MISMATCH),
        "rest-json": (403, "InvalidSignatureException", SIG_MISMATCH),
        "rest-xml": (403, "SignatureDoesNotMatch", SIG_MISMATCH),
    },
    "expired": {
        "ec2": (400, "RequestExpired", "Request has expired."),
        "query": (403, "ExpiredToken", EXPIRED_TOKEN),
        "json": (400, "ExpiredTokenException", EXPIRED_TOKEN),
        "rest-json": (403, "ExpiredTokenException", EXPIRED_TOKEN),
        "rest-xml": (400, "ExpiredToken", "The provided token has expired."),
    },
    "incomplete": {
        "ec2": (400, "IncompleteSignature",
                "The request signature does not conform to AWS standards."),
        "query": (400, "IncompleteSignature",
                  "The request signature does not conform to AWS standards."),
        "json": (400, "IncompleteSignatureException",
                 "The request signature does not conform to AWS standards."),
        "rest-json": (403, "IncompleteSignatureException",
                      "The request signature does not conform to AWS standards."),
        "rest-xml": (400, "AuthorizationHeaderMalformed",
                     "The authorization header is malformed."),
    },
    "notoken": {
        "ec2": (401, "MissingAuthenticationToken",
                "The request must contain either a valid (registered) AWS access key "
                "ID or X.509 certificate."),
        "query": (403, "MissingAuthenticationToken",
                  "Request is missing Authentication Token"),
        "json": (400, "MissingAuthenticationTokenException",
                 "Missing Authentication Token"),
        "rest-json": (403, "MissingAuthenticationTokenException",
                      "Missing Authentication Token"),
        "rest-xml": (403, "AccessDenied", "Access Denied"),
    },
}


def _refusal(call, kind):
    p = call.protocol
    if p == "rpcv2":
        p = "json"
    table = REFUSALS[kind]
    return table.get(p) or table["json"]


def skew_error(call, request_time, server_time):
    """(status, code, message) for a SigV4 date more than 15 minutes off the
    server's clock."""
    fmt = "%Y%m%dT%H%M%SZ"
    req = time.strftime(fmt, time.gmtime(request_time))
    srv = time.strftime(fmt, time.gmtime(server_time))
    if request_time < server_time:
        edge = time.strftime(fmt, time.gmtime(server_time - 900))
        detail = "Signature expired: %s is now earlier than %s (%s - 15 min.)" % (
            req, edge, srv)
    else:
        edge = time.strftime(fmt, time.gmtime(server_time + 900))
        detail = "Signature not yet current: %s is still later than %s (%s + 15 min.)" % (
            req, edge, srv)
    p = call.protocol
    if p == "ec2":
        return 400, "RequestExpired", "Request has expired."
    if p == "query":
        return 403, "SignatureDoesNotMatch", detail
    if p == "rest-xml":
        return 403, "RequestTimeTooSkewed", ("The difference between the request time "
                                             "and the current time is too large.")
    if p == "rest-json":
        return 403, "InvalidSignatureException", detail
    return 400, "InvalidSignatureException", detail


# Throttling, 500 and 503 as each protocol's services answer them, and the
# refusals above.
def fault_error(call, kind):
    if kind in REFUSALS:
        return _refusal(call, kind)
    p = call.protocol
    if kind == "throttle":
        if p == "ec2":
            return 503, "RequestLimitExceeded", "Request limit exceeded."
        if p == "query":
            return 400, "Throttling", "Rate exceeded"
        if p == "rest-json":
            return 429, "TooManyRequestsException", "Rate exceeded"
        if p == "rest-xml":
            return 503, "SlowDown", "Please reduce your request rate."
        return 400, "ThrottlingException", "Rate exceeded"
    if kind == "500":
        if p == "ec2":
            return 500, "InternalError", "An internal error has occurred"
        if p == "rest-xml":
            return 500, "InternalError", ("We encountered an internal error. "
                                          "Please try again.")
        if p == "rest-json":
            return 500, "InternalServerErrorException", "Internal server error"
        return 500, "InternalFailure", ("The request processing has failed "
                                        "because of an unknown error, exception or failure.")
    # 503
    if p == "ec2":
        return 503, "Unavailable", "The server is overloaded and can't handle the request."
    if p == "rest-xml":
        return 503, "ServiceUnavailable", "Service is unable to handle request."
    if p == "rest-json":
        return 503, "ServiceUnavailableException", "Service unavailable"
    return 503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
