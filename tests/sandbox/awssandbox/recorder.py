"""The CloudTrail recorder: turns each AWS call into a CloudTrail record and
keeps the records per account and region for LookupEvents."""

import bisect
import html
import json
import random
import re
import threading
import time
import uuid
import xml.etree.ElementTree as ET

from . import identity
from .protocol import event_source

EVENT_VERSION = "1.08"
MAX_UA = 1024
MAX_ERR = 1024
MAX_PARAMS = 100 * 1024
HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"

READ_ONLY_PREFIXES = ("Describe", "Get", "List", "Lookup", "Head", "Search",
                      "BatchGet", "Test", "Select", "Scan", "Query", "Check",
                      "Estimate", "Preview", "Validate", "View", "Filter")

# Errors that mean the caller never authenticated: CloudTrail has no account
# to attribute such a request to, so it records nothing.
UNAUTHENTICATED = {"InvalidClientTokenId", "SignatureDoesNotMatch",
                   "AuthFailure", "UnrecognizedClientException",
                   "InvalidSignatureException", "IncompleteSignature",
                   "InvalidAccessKeyId", "MissingAuthenticationToken",
                   "MissingAuthenticationTokenException",
                   "IncompleteSignatureException", "InvalidToken"}

# EC2 error codes CloudTrail prefixes with "Server." (all others get
# "Client.", RequestLimitExceeded included, despite its HTTP 503).
EC2_SERVER_CODES = {"InsufficientAddressCapacity", "InsufficientCapacity",
                    "InsufficientInstanceCapacity", "InsufficientHostCapacity",
                    "InsufficientReservedInstanceCapacity", "InternalError",
                    "InternalFailure", "ServiceUnavailable", "Unavailable"}

# S3 API operation names that CloudTrail logs under another eventName.
S3_EVENT_NAMES = {
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "DeleteBucketPublicAccessBlock",
    "ListObjectsV2": "ListObjects",
    "PutBucketLifecycleConfiguration": "PutBucketLifecycle",
    "GetBucketLifecycleConfiguration": "GetBucketLifecycle",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
}

# Lambda: CloudTrail writes the operation with the API version of its URI
# (ListFunctions20150331, GetAccountSettings20160819), and a "v2" for the
# operations revised since (AddPermission20150331v2).
LAMBDA_V2 = {"AddPermission", "RemovePermission", "GetPolicy", "UpdateFunctionCode",
             "UpdateFunctionConfiguration", "GetFunction", "GetFunctionConfiguration",
             "TagResource", "UntagResource"}
LAMBDA_UNVERSIONED = {"Invoke", "InvokeAsync", "InvokeWithResponseStream"}
_URI_VERSION_RE = re.compile(r"^/(\d{4})-(\d{2})-(\d{2})/")

# Calls CloudTrail does not log at all (SES: sending email is not logged).
NOT_LOGGED = {("ses", "SendEmail"), ("ses", "SendRawEmail"),
              ("ses", "SendTemplatedEmail"), ("ses", "SendBulkTemplatedEmail"),
              ("ses", "SendCustomVerificationEmail"), ("ses", "SendBounce")}

_SECRET_KEY_RE = re.compile(
    r"(secretaccesskey|secretkey|password|keymaterial|privatekey|zipfile|secretstring|"
    r"secretbinary)$", re.I)

_EC2_ID_TYPES = [
    ("i-", "AWS::EC2::Instance"), ("vpc-", "AWS::EC2::VPC"),
    ("sg-", "AWS::EC2::SecurityGroup"), ("subnet-", "AWS::EC2::Subnet"),
    ("ami-", "AWS::EC2::Ami"), ("vol-", "AWS::EC2::Volume"),
    ("snap-", "AWS::EC2::Snapshot"), ("eni-", "AWS::EC2::NetworkInterface"),
    ("igw-", "AWS::EC2::InternetGateway"), ("rtb-", "AWS::EC2::RouteTable"),
    ("acl-", "AWS::EC2::NetworkAcl"), ("eipalloc-", "AWS::EC2::EIP"),
    ("nat-", "AWS::EC2::NatGateway"), ("lt-", "AWS::EC2::LaunchTemplate"),
    ("key-", "AWS::EC2::KeyPair"),
]
_EC2_ID_RE = re.compile(r"^(i|vpc|sg|subnet|ami|vol|snap|eni|igw|rtb|acl|eipalloc|"
                        r"nat|lt|key)-[0-9a-f]{8,17}$")

_ARN_TYPES = {
    ("iam", "user"): "AWS::IAM::User", ("iam", "role"): "AWS::IAM::Role",
    ("iam", "policy"): "AWS::IAM::Policy", ("iam", "group"): "AWS::IAM::Group",
    ("iam", "instance-profile"): "AWS::IAM::InstanceProfile",
    ("events", "rule"): "AWS::Events::Rule",
    ("events", "event-bus"): "AWS::Events::EventBus",
    ("logs", "log-group"): "AWS::Logs::LogGroup",
    ("cloudtrail", "trail"): "AWS::CloudTrail::Trail",
    ("guardduty", "detector"): "AWS::GuardDuty::Detector",
    ("rds", "db"): "AWS::RDS::DBInstance",
    ("cloudwatch", "alarm"): "AWS::CloudWatch::Alarm",
    ("ssm", "parameter"): "AWS::SSM::Parameter",
}

# Request parameter names that name a resource directly.
_PARAM_TYPES = {
    "bucketName": "AWS::S3::Bucket",
    "dBInstanceIdentifier": "AWS::RDS::DBInstance",
    "userName": "AWS::IAM::User",
    "roleName": "AWS::IAM::Role",
    "policyArn": None,
    "logGroupName": "AWS::Logs::LogGroup",
    "detectorId": "AWS::GuardDuty::Detector",
    "alarmName": "AWS::CloudWatch::Alarm",
}
_SERVICE_NAME_TYPES = {
    ("cloudtrail", "name"): "AWS::CloudTrail::Trail",
    ("cloudtrail", "trailName"): "AWS::CloudTrail::Trail",
    ("events", "name"): "AWS::Events::Rule",
    ("events", "rule"): "AWS::Events::Rule",
    ("ssm", "name"): "AWS::SSM::Parameter",
    ("sns", "name"): "AWS::SNS::Topic",
}


def lower_camel(name):
    if not name:
        return name
    return name[0].lower() + name[1:]


def is_read_only(service, event_name):
    if service == "s3" and event_name in ("HeadBucket", "HeadObject"):
        return True
    return event_name.startswith(READ_ONLY_PREFIXES)


def is_data_event(service, operation):
    if service == "lambda":
        return operation in LAMBDA_UNVERSIONED
    if service != "s3":
        return False
    return ("Object" in operation and operation not in ("PutObjectLockConfiguration",
                                                         "GetObjectLockConfiguration")) \
        or "Multipart" in operation or operation == "UploadPart" \
        or operation == "UploadPartCopy"


def lambda_event_name(call, name):
    if name in LAMBDA_UNVERSIONED or call.model is None:
        return name
    try:
        uri = call.model.operation_model(name).http.get("requestUri", "")
    except Exception:
        return name
    m = _URI_VERSION_RE.match(uri)
    if not m:
        return name
    return name + "".join(m.groups()) + ("v2" if name in LAMBDA_V2 else "")


def event_name_for(call):
    name = call.operation or "Unknown"
    if call.service == "s3":
        name = S3_EVENT_NAMES.get(name, name)
    elif call.service == "lambda":
        name = lambda_event_name(call, name)
    return name


_error_shape_names = {}


def cloudtrail_error_code(call, code):
    """The errorCode CloudTrail writes. IAM records the model's error shape
    name, not the wire code (NoSuchEntity -> NoSuchEntityException); EC2
    prefixes Client./Server."""
    if call.service == "ec2" and not code.startswith(("Client.", "Server.")):
        return ("Server." if code in EC2_SERVER_CODES else "Client.") + code
    if call.service == "iam" and call.model is not None:
        table = _error_shape_names.get("iam")
        if table is None:
            table = {}
            for shape in call.model.error_shapes:
                wire = shape.metadata.get("error", {}).get("code")
                if wire:
                    table[wire] = shape.name
            _error_shape_names["iam"] = table
        return table.get(code, code)
    return code


def _scalar(v):
    if v == "true":
        return True
    if v == "false":
        return False
    return v


def unflatten_query(params):
    """Query/EC2 form parameters -> nested JSON in CloudTrail's lowerCamel."""
    root = {}
    for key in sorted(params):
        if key in ("Action", "Version") or key.startswith("X-Amz-") \
                or key in ("AWSAccessKeyId", "Signature", "SignatureMethod",
                           "SignatureVersion", "Timestamp"):
            continue
        values = params[key]
        value = values[0] if isinstance(values, list) and values else values
        parts = [p for p in key.split(".") if p != "member"]
        node = root
        for i, part in enumerate(parts):
            k = int(part) if part.isdigit() else lower_camel(part)
            last = i == len(parts) - 1
            if last:
                if isinstance(node, dict):
                    node[k] = _scalar(value)
            else:
                if not isinstance(node, dict):
                    break
                node = node.setdefault(k, {})
    return _lists(root)


def _lists(node):
    if isinstance(node, dict):
        if node and all(isinstance(k, int) for k in node):
            return [_lists(node[k]) for k in sorted(node)]
        return {str(k): _lists(v) for k, v in node.items()}
    return node


def camel_json(obj, depth=0):
    if depth > 32:
        return obj
    if isinstance(obj, dict):
        return {lower_camel(k) if isinstance(k, str) else k: camel_json(v, depth + 1)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [camel_json(v, depth + 1) for v in obj]
    return obj


def redact(obj, depth=0):
    if depth > 32:
        return obj
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if isinstance(k, str) and _SECRET_KEY_RE.search(k) and v not in (None, ""):
                out[k] = HIDDEN
            else:
                out[k] = redact(v, depth + 1)
        return out
    if isinstance(obj, list):
        return [redact(v, depth + 1) for v in obj]
    return obj


def _strip_ns(tag):
    return tag.rsplit("}", 1)[-1]


def xml_to_obj(elem, ec2):
    children = list(elem)
    if not children:
        text = (elem.text or "").strip()
        return _scalar(text) if text else None
    tags = [_strip_ns(c.tag) for c in children]
    if all(t == "item" for t in tags):
        items = [xml_to_obj(c, ec2) for c in children]
        return {"items": items} if ec2 else items
    if all(t == "member" for t in tags):
        return [xml_to_obj(c, ec2) for c in children]
    out = {}
    for c, t in zip(children, tags):
        k = lower_camel(t)
        v = xml_to_obj(c, ec2)
        if k in out:
            if not isinstance(out[k], list):
                out[k] = [out[k]]
            out[k].append(v)
        else:
            out[k] = v
    return out


def response_elements(call, status, body):
    """CloudTrail's responseElements: the answer of a successful mutating call."""
    if not body:
        return None
    p = call.protocol
    try:
        if p in ("ec2", "query", "rest-xml"):
            root = ET.fromstring(body)
            ec2 = p == "ec2"
            if p == "query":
                result = None
                for c in root:
                    if _strip_ns(c.tag).endswith("Result"):
                        result = c
                if result is None:
                    return None
                obj = xml_to_obj(result, False)
            else:
                obj = xml_to_obj(root, ec2)
            if ec2 and isinstance(obj, dict):
                obj.pop("requestId", None)
                obj = dict([("requestId", call.request_id)] + list(obj.items()))
            if obj in ({}, None, ""):
                return None
            return obj if isinstance(obj, dict) else {"result": obj}
        if p in ("json", "rest-json"):
            obj = json.loads(body)
            if obj in ({}, None):
                return None
            return camel_json(obj) if isinstance(obj, dict) else {"result": obj}
    except (ET.ParseError, ValueError, UnicodeDecodeError):
        return None
    return None


def request_parameters(call):
    p = call.protocol
    if p in ("ec2", "query"):
        params = unflatten_query(call.params or {})
    elif p == "json":
        params = camel_json(call.params) if isinstance(call.params, dict) else None
    elif p in ("rest-json", "rest-xml"):
        params = {}
        for k, v in (call.path_labels or {}).items():
            if call.service == "s3" and k == "Bucket":
                params["bucketName"] = v
            else:
                params[lower_camel(k)] = v
        for k, v in call.query.items():
            if k.startswith("X-Amz-"):
                continue
            params[k] = v[0] if len(v) == 1 else v
        if call.service == "s3":
            params["Host"] = call.headers.get("Host") or ""
        if isinstance(call.params, dict):
            params.update(camel_json(call.params))
    else:
        params = None
    if params is not None:
        params = redact(params)
        if params == {}:
            params = None
    if params is not None and len(json.dumps(params)) > MAX_PARAMS:
        params = None
    return params


def extract_error(status, headers, body):
    """(code, message) of an error answer, or (None, None)."""
    if status < 300:
        return None, None
    code = message = None
    for k, v in headers:
        if k.lower() == "x-amzn-errortype" and v:
            code = v.split(":", 1)[0].rsplit("#", 1)[-1]
    text = body.decode("utf-8", "replace") if body else ""
    if text.lstrip().startswith("{"):
        try:
            obj = json.loads(text)
            if isinstance(obj, dict):
                if code is None:
                    t = obj.get("__type") or obj.get("code") or obj.get("Code")
                    if isinstance(t, str):
                        code = t.split(":", 1)[0].rsplit("#", 1)[-1]
                m = obj.get("message") or obj.get("Message")
                if isinstance(m, str):
                    message = m
        except ValueError:
            pass
    elif text:
        m = re.search(r"<Code>(.*?)</Code>", text, re.S)
        if m and code is None:
            code = html.unescape(m.group(1).strip())
        m = re.search(r"<Message>(.*?)</Message>", text, re.S)
        if m:
            message = html.unescape(m.group(1).strip())
    if status < 400 and code is None:
        return None, None
    if code is None:
        code = str(status)
    return code, message


def _arn_resource(arn):
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return None
    service, res = parts[2], parts[5]
    if service == "s3":
        return ("AWS::S3::Bucket", res.split("/")[0]) if res else None
    if service == "sns":
        return ("AWS::SNS::Topic", arn)
    rtype, sep, _ = res.partition("/")
    if not sep:
        rtype, sep, _ = res.partition(":")
    t = _ARN_TYPES.get((service, rtype))
    return (t, arn) if t else None


def extract_resources(call, params, resp):
    found = []

    def add(rtype, name):
        if rtype and name and (rtype, name) not in found and len(found) < 20:
            found.append((rtype, name))

    def walk(obj, depth, key=None):
        if depth > 12:
            return
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, depth + 1, k)
        elif isinstance(obj, list):
            for v in obj:
                walk(v, depth + 1, key)
        elif isinstance(obj, str):
            if _EC2_ID_RE.match(obj):
                for prefix, rtype in _EC2_ID_TYPES:
                    if obj.startswith(prefix):
                        add(rtype, obj)
                        break
            elif obj.startswith("arn:aws"):
                r = _arn_resource(obj)
                if r:
                    add(*r)
            elif key in _PARAM_TYPES and _PARAM_TYPES[key]:
                add(_PARAM_TYPES[key], obj)
            elif (call.service, key) in _SERVICE_NAME_TYPES and depth <= 1:
                add(_SERVICE_NAME_TYPES[(call.service, key)], obj)

    walk(params, 0)
    walk(resp, 0)
    return [{"ResourceType": t, "ResourceName": n} for t, n in found]


def iso(ts):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class Record:
    __slots__ = ("seq", "account", "region", "event_time", "visible_at",
                 "dropped", "management", "event", "record", "record_json",
                 "duplicate", "request_id")

    def duplicate_of(self, seq):
        """The same event delivered a second time (same eventID)."""
        r = Record()
        for k in Record.__slots__:
            setattr(r, k, getattr(self, k))
        r.seq = seq
        r.duplicate = True
        return r

    def summary(self, now):
        return {"seq": self.seq, "account": self.account, "region": self.region,
                "eventTime": iso(self.event_time),
                "eventTimeEpoch": round(self.event_time, 3),
                "visibleAtEpoch": round(self.visible_at, 3),
                "visibleAt": "%s.%03dZ" % (iso(self.visible_at)[:-1],
                                           int(self.visible_at * 1000) % 1000),
                "visible": (not self.dropped and self.management
                            and self.visible_at <= now),
                "dropped": self.dropped, "managementEvent": self.management,
                "duplicate": self.duplicate, "requestId": self.request_id,
                "lookup": {k: v for k, v in self.event.items()},
                "record": self.record}


def build_record(call, status, headers, body, knobs, rng):
    """A Record for this call, or None when CloudTrail would not log it."""
    if call.unrecorded:
        return None
    code, message = extract_error(status, headers, body)
    if code in UNAUTHENTICATED:
        return None
    if call.service is None or call.model is None:
        return None
    if (call.service, call.operation) in NOT_LOGGED:
        return None
    account = call.account
    ident, username = identity.user_identity(call.access_key, account)
    name = event_name_for(call)
    source = event_source(call.service)
    read_only = is_read_only(call.service, name)
    management = not is_data_event(call.service, call.operation or "")
    params = request_parameters(call)
    if code is None and not read_only:
        resp = response_elements(call, status, body)
        if resp is not None:
            resp = redact(resp)
            if len(json.dumps(resp)) > MAX_PARAMS:
                resp = None
    else:
        resp = None
    event_id = str(uuid.uuid4())
    # eventTime is in the sandbox's clock (skew knob); visibility in real time.
    event_time = call.start + knobs.skew
    rec = {
        "eventVersion": EVENT_VERSION,
        "userIdentity": ident,
        "eventTime": iso(event_time),
        "eventSource": source,
        "eventName": name,
        "awsRegion": call.region,
        "sourceIPAddress": call.client_ip,
        "userAgent": call.user_agent.encode("utf-8")[:MAX_UA].decode("utf-8", "ignore"),
    }
    if code is not None:
        code = cloudtrail_error_code(call, code)
        rec["errorCode"] = code
        rec["errorMessage"] = (message or "").encode("utf-8")[:MAX_ERR].decode(
            "utf-8", "ignore")
    rec["requestParameters"] = params
    rec["responseElements"] = resp
    strip = knobs.strips_request_id(name, source)
    if strip:
        # Some records carry no requestID; a client must fall back to other
        # evidence (its User-Agent marker).
        if isinstance(resp, dict) and "requestId" in resp:
            resp = {k: v for k, v in resp.items() if k != "requestId"}
            rec["responseElements"] = resp
    else:
        rec["requestID"] = call.request_id
    rec["eventID"] = event_id
    rec["readOnly"] = read_only
    rec["eventType"] = "AwsApiCall"
    if call.model is not None:
        api_version = call.model.metadata.get("apiVersion")
        if api_version and call.protocol in ("ec2", "query"):
            rec["apiVersion"] = api_version
    rec["managementEvent"] = management
    rec["recipientAccountId"] = account
    rec["eventCategory"] = "Management" if management else "Data"
    if not management and call.service == "lambda":
        fn = call.path_labels.get("FunctionName", "")
        if not fn.startswith("arn:"):
            fn = "arn:aws:lambda:%s:%s:function:%s" % (call.region, account, fn)
        rec["resources"] = [{"type": "AWS::Lambda::Function", "ARN": fn}]
    elif not management:
        rec["resources"] = [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::%s/%s" % (
            call.path_labels.get("Bucket", ""), call.path_labels.get("Key", ""))}]

    r = Record()
    r.seq = call.seq
    r.account = account
    r.region = call.region
    r.event_time = event_time
    lo, hi = knobs.delay_for(name, source)
    delay = lo if hi <= lo else rng.uniform(lo, hi)
    r.visible_at = call.start + delay
    r.dropped = knobs.dropped(name, source, code is not None)
    r.duplicate = False
    r.request_id = call.request_id
    r.management = management
    r.record = rec
    r.record_json = json.dumps(rec, separators=(",", ":"))
    r.event = {
        "EventId": event_id, "EventName": name,
        "ReadOnly": "true" if read_only else "false",
        "AccessKeyId": call.access_key or "",
        "EventTime": float(int(event_time)),
        "EventSource": source, "Username": username,
        "Resources": extract_resources(call, params, resp),
    }
    return r


class Store:
    """All records, kept sorted by sequence number (= arrival order)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            # Sequence numbers keep growing across resets, so a NextToken
            # from before a reset can never point into the new history.
            self._seq = getattr(self, "_seq", 0)
            self.all = []
            self.by_scope = {}

    def next_seq(self):
        with self.lock:
            self._seq += 1
            return self._seq

    def add(self, rec):
        with self.lock:
            bisect.insort(self.all, (rec.seq, rec))
            lst = self.by_scope.setdefault((rec.account, rec.region), [])
            bisect.insort(lst, (rec.seq, rec))

    def snapshot(self):
        with self.lock:
            return [r for _, r in self.all]

    def scope(self, account, region):
        with self.lock:
            return [r for _, r in self.by_scope.get((account, region), [])]


def new_rng(seed=None):
    return random.Random(seed)
