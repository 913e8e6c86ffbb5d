"""Signature and IAM policy checks for the calls the sandbox answers itself
(DryRun, LookupEvents, TestEventPattern, TestMetricFilter, GuardDuty
findings), done with moto's own IAMRequest so they agree with moto."""

from werkzeug.datastructures import Headers as WzHeaders


def enabled():
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin
    if ActionAuthenticatorMixin.request_count >= settings.INITIAL_NO_AUTH_ACTION_COUNT:
        return True
    ActionAuthenticatorMixin.request_count += 1
    return False


def check(call):
    """None when the call may proceed, else (status, code, message) in the
    call's protocol vocabulary."""
    if not enabled():
        return None
    ec2 = call.protocol == "ec2"
    jsonish = call.protocol in ("json", "rest-json", "rpcv2")
    if not call.headers.get("Authorization"):
        if ec2:
            return 401, "AuthFailure", "AWS was not able to validate the provided access credentials"
        if jsonish:
            return 400 if call.protocol == "json" else 403, \
                "MissingAuthenticationTokenException", "Missing Authentication Token"
        return 403, "MissingAuthenticationToken", "Request is missing Authentication Token"
    from moto.iam.access_control import IAMRequest
    headers = WzHeaders(call.headers.items())
    data = {}
    if isinstance(call.params, dict) and call.protocol in ("ec2", "query"):
        data = {k: (v[0] if isinstance(v, list) and v else v)
                for k, v in call.params.items()}
    path = call.raw_path
    try:
        req = IAMRequest(account_id=call.account, method=call.method, path=path,
                         data=data, body=call.body, headers=headers,
                         action=call.operation)
        req.check_signature()
        req.check_action_permitted("*")
    except Exception as e:  # moto's _RESTError family
        code = getattr(e, "error_type", None)
        message = getattr(e, "message", None) or str(e)
        status = getattr(e, "code", 403)
        if not isinstance(status, int):
            status = 403
        if code is None:
            raise
        if ec2 and code == "AccessDenied":
            return 403, "UnauthorizedOperation", unauthorized_message(message)
        if jsonish:
            code = {"InvalidClientTokenId": "UnrecognizedClientException",
                    "SignatureDoesNotMatch": "InvalidSignatureException",
                    "AccessDenied": "AccessDeniedException"}.get(code, code)
            if call.protocol == "json":
                status = 400
        return status, code, message
    return None


def unauthorized_message(moto_message):
    # moto: "User: arn:... is not authorized to perform: ec2:CreateVpc"
    import base64
    import json
    detail = moto_message or ""
    blob = base64.b64encode(json.dumps({"allowed": False, "explicitDeny": False,
                                        "context": detail}).encode()).decode()
    return ("You are not authorized to perform this operation. %s because no "
            "identity-based policy allows the action. Encoded authorization "
            "failure message: %s" % (detail, blob))
