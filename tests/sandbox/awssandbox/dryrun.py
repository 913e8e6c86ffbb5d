"""EC2 DryRun as AWS does it: check permission, answer 412 DryRunOperation or
403 UnauthorizedOperation, and never let the call reach moto (whose CreateVpc,
for one, ignores DryRun and creates the VPC)."""

from . import auth
from .protocol import error_response, first

DRYRUN_MESSAGE = "Request would have succeeded, but DryRun flag is set."


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
    denied = auth.check(call)
    if denied is not None:
        return error_response(call, *denied)
    return error_response(call, 412, "DryRunOperation", DRYRUN_MESSAGE)
