"""EC2 DryRun as AWS does it: check permission, answer 412 DryRunOperation or
403 UnauthorizedOperation, and never let the call reach moto (whose CreateVpc,
for one, ignores DryRun and creates the VPC)."""

import re

from . import auth
from .protocol import error_response, first

DRYRUN_MESSAGE = "Request would have succeeded, but DryRun flag is set."

# Resource ID parameters EC2 checks for syntax before anything else, also
# with DryRun: wire name (without the .N list suffix) -> (prefix, code).
# An ID is PREFIX-HEX with 8 or 17 lowercase hex digits. Whether the
# resource exists is not checked with DryRun.
ID_PARAMS = {
    "InstanceId": ("i", "InvalidInstanceID.Malformed"),
    "ImageId": ("ami", "InvalidAMIID.Malformed"),
    "SnapshotId": ("snap", "InvalidSnapshotID.Malformed"),
    "VpcId": ("vpc", "InvalidVpcID.Malformed"),
    "GroupId": ("sg", "InvalidGroupId.Malformed"),
    "SubnetId": ("subnet", "InvalidSubnetID.Malformed"),
    "VolumeId": ("vol", "InvalidVolumeID.Malformed"),
}
_HEX_ID_RE = re.compile(r"^([a-z]+)-([0-9a-f]{8}|[0-9a-f]{17})$")


def malformed_id(call):
    """(code, message) for the first syntactically invalid resource ID, or
    None."""
    for key in sorted(call.params):
        base = key.split(".", 1)[0]
        if base not in ID_PARAMS or (key != base and not key[len(base) + 1:].isdigit()):
            continue
        prefix, code = ID_PARAMS[base]
        value = first(call.params, key) or ""
        m = _HEX_ID_RE.match(value)
        if not m or m.group(1) != prefix:
            return code, 'Invalid id: "%s"' % value
    return None


def is_dry_run(call):
    if call.protocol != "ec2" or not isinstance(call.params, dict):
        return False
    return (first(call.params, "DryRun") or "").strip().lower() == "true"


def _wire_name(name, shape):
    ser = shape.serialization
    if "queryName" in ser:
        return ser["queryName"]
    if "name" in ser:
        n = ser["name"]
        return n[0].upper() + n[1:]
    return name


def _missing(call, op):
    shape = op.input_shape
    if shape is None:
        return None
    keys = list(call.params.keys())
    for name in shape.required_members:
        wire = _wire_name(name, shape.members[name])
        if wire in call.params:
            continue
        if any(k.startswith(wire + ".") for k in keys):
            continue
        return wire
    return None


def handle(call):
    """The DryRun answer, or None to let moto answer (unknown operation, or
    one without a DryRun parameter)."""
    model = call.model
    if model is None:
        return None
    try:
        op = model.operation_model(call.operation)
    except Exception:
        return None
    if op.input_shape is None or "DryRun" not in op.input_shape.members:
        return None
    missing = _missing(call, op)
    if missing:
        return error_response(call, 400, "MissingParameter",
                              "The request must contain the parameter %s" % missing)
    bad = malformed_id(call)
    if bad is not None:
        return error_response(call, 400, *bad)
    denied = auth.check(call)
    if denied is not None:
        return error_response(call, *denied)
    return error_response(call, 412, "DryRunOperation", DRYRUN_MESSAGE)
