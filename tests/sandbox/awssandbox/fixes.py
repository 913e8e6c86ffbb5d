"""Small moto 5.2.1 gaps on the daemon's safe-fail paths: calls on a
resource that does not exist must fail the way AWS fails them.

* CloudTrail StartLogging/StopLogging on an unknown trail: moto raises a
  KeyError (HTTP 500); AWS answers TrailNotFoundException. DeleteTrail on an
  unknown trail: moto succeeds silently; AWS answers TrailNotFoundException.
* GuardDuty DeleteDetector on an unknown detector: moto succeeds; AWS
  answers 400 BadRequestException.
"""

import json

from .guardduty import NOT_OWNED
from .protocol import error_response


def cloudtrail_trail(call):
    params = call.params if isinstance(call.params, dict) else {}
    name = params.get("Name")
    if not isinstance(name, str):
        return None
    from moto.cloudtrail.models import cloudtrail_backends
    backend = cloudtrail_backends[call.account][call.region]
    try:
        trail = backend.get_trail(name)
    except Exception as e:
        code = getattr(e, "error_type", None)
        if code is None:
            return None
        return error_response(call, 400, code, getattr(e, "message", str(e)))
    if name != trail.trail_name:
        # moto's Start/StopLogging index trails by name only; AWS also takes
        # the ARN.
        params = dict(params, Name=trail.trail_name)
        call.params = params
        call.body = json.dumps(params).encode()
    return None


def guardduty_detector(call):
    detector = call.path_labels.get("DetectorId")
    from moto.guardduty.models import guardduty_backends
    try:
        known = detector in guardduty_backends[call.account][call.region].detectors
    except Exception:
        known = False
    if not known:
        return error_response(call, 400, "BadRequestException", NOT_OWNED)
    return None


HANDLERS = {
    ("cloudtrail", "StartLogging"): cloudtrail_trail,
    ("cloudtrail", "StopLogging"): cloudtrail_trail,
    ("cloudtrail", "DeleteTrail"): cloudtrail_trail,
    ("guardduty", "DeleteDetector"): guardduty_detector,
}
