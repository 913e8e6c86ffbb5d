"""Small moto 5.2.1 gaps on the daemon's safe-fail paths: calls on a
resource that does not exist must fail the way AWS fails them.

* CloudTrail StartLogging/StopLogging on an unknown trail: moto raises a
  KeyError (HTTP 500); AWS answers TrailNotFoundException. DeleteTrail on an
  unknown trail: moto succeeds silently; AWS answers TrailNotFoundException.
* GuardDuty DeleteDetector on an unknown detector: moto succeeds; AWS
  answers 400 BadRequestException.
* SSM SendCommand with a document that does not exist: moto runs it; AWS
  answers InvalidDocument. StartSession: not in moto; no target can be
  connected here, so TargetNotConnected.
* Route 53 Resolver DeleteResolverQueryLogConfig: not in moto.
* SES GetAccountSendingEnabled: not in moto.
* SageMaker UpdateNotebookInstance: not in moto (missing notebook:
  ValidationException RecordNotFound, as moto's Stop/Start answer).
* EC2 Instance Connect: moto's SendSSHPublicKey succeeds for any instance;
  SendSerialConsoleSSHPublicKey is missing.
* Bedrock InvokeModel: moto answers any model ID.
* IAM CreateUser/CreateRole with a PermissionsBoundary that does not
  exist: moto creates the principal; AWS answers NoSuchEntity and creates
  nothing.
* STS AssumeRole: moto hands out credentials for any role ARN. Into a
  member account of an organisation, the sandbox checks as AWS does: the
  role must exist and trust the caller, and the account must be active.
* Organizations ListAccounts (and the other account listings) from a
  member account: moto answers; AWS refuses (management account only).
"""

import json
import re

from .guardduty import NOT_OWNED
from .protocol import error_response, json_response


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


def _params(call):
    return call.params if isinstance(call.params, dict) else {}


def _first(call, key):
    v = _params(call).get(key)
    if isinstance(v, list):
        return v[0] if v else None
    return v


# SSM document names beginning with aws, amazon or amzn are reserved for
# the documents AWS owns (AWS-RunShellScript, AmazonCloudWatch-...).
AWS_DOCUMENT_RE = re.compile(r"^(aws|amazon|amzn)", re.I)


def ssm_send_command(call):
    name = _params(call).get("DocumentName")
    if not isinstance(name, str) or not name:
        return None
    from moto.ssm.models import ssm_backends
    backend = ssm_backends[call.account][call.region]
    if name.startswith("arn:"):
        name = name.rsplit("/", 1)[-1]
    if AWS_DOCUMENT_RE.match(name):
        return None     # AWS-owned (moto does not list them); names are reserved
    try:
        backend._get_documents(name)
    except Exception:
        return error_response(call, 400, "InvalidDocument",
                              "Document %s does not exist in your account." % name)
    return None


def ssm_start_session(call):
    target = _params(call).get("Target")
    if not isinstance(target, str) or not target:
        return error_response(call, 400, "ValidationException",
                              "1 validation error detected: Value null at 'target' "
                              "failed to satisfy constraint: Member must not be null")
    return error_response(call, 400, "TargetNotConnected", "%s is not connected." % target)


def resolver_delete_query_log_config(call):
    ident = _params(call).get("ResolverQueryLogConfigId")
    from moto.route53resolver.models import route53resolver_backends
    backend = route53resolver_backends[call.account][call.region]
    config = backend.resolver_query_log_configs.get(ident) if isinstance(ident, str) else None
    if config is None:
        return error_response(call, 400, "ResourceNotFoundException",
                              "Resolver query log config with ID '%s' does not exist" % ident)
    del backend.resolver_query_log_configs[ident]
    desc = config.description()
    desc["Status"] = "DELETING"
    return json_response(call, {"ResolverQueryLogConfig": desc})


def ses_account_sending_enabled(call):
    body = ('<GetAccountSendingEnabledResponse xmlns="http://ses.amazonaws.com/doc/'
            '2010-12-01/"><GetAccountSendingEnabledResult><Enabled>true</Enabled>'
            '</GetAccountSendingEnabledResult><ResponseMetadata><RequestId>%s'
            '</RequestId></ResponseMetadata></GetAccountSendingEnabledResponse>'
            % call.request_id)
    return 200, [("Content-Type", "text/xml")], body.encode()


def sagemaker_update_notebook(call):
    name = _params(call).get("NotebookInstanceName")
    from moto.sagemaker.models import sagemaker_backends
    backend = sagemaker_backends[call.account][call.region]
    if name not in backend.notebook_instances:
        return error_response(call, 400, "ValidationException", "RecordNotFound")
    return None         # exists: moto's answer (it does not implement the update)


def _instance(call, instance_id):
    from moto.ec2.models import ec2_backends
    try:
        backend = ec2_backends[call.account][call.region]
    except Exception:
        return None
    for res in list(backend.reservations.values()):
        for inst in res.instances:
            if inst.id == instance_id and inst._state.name != "terminated":
                return inst
    return None


def instance_connect(call):
    ident = _params(call).get("InstanceId")
    if not isinstance(ident, str) or _instance(call, ident) is None:
        return error_response(call, 400, "EC2InstanceNotFoundException",
                              "Instance not found")
    if call.operation == "SendSerialConsoleSSHPublicKey":
        # Serial console access is off for an account until enabled.
        return error_response(call, 400, "SerialConsoleAccessDisabledException",
                              "Your requested instance type is not supported or serial "
                              "console access is disabled for your account.")
    return None


# Model IDs Bedrock knows look like PROVIDER.NAME (optionally with a
# region-set prefix such as us.), or are ARNs; anything else is invalid.
BEDROCK_PROVIDERS = ("amazon", "anthropic", "ai21", "cohere", "meta", "mistral",
                     "stability", "deepseek", "writer", "openai", "qwen",
                     "twelvelabs", "luma")
_BEDROCK_ID_RE = re.compile(r"^(?:(?:us|eu|apac|global|us-gov)\.)?(%s)\.[A-Za-z0-9._:-]+$"
                            % "|".join(BEDROCK_PROVIDERS))


def bedrock_invoke_model(call):
    model_id = (call.path_labels or {}).get("modelId") or ""
    if _BEDROCK_ID_RE.match(model_id) or model_id.startswith("arn:aws:bedrock:"):
        return None
    return error_response(call, 400, "ValidationException",
                          "The provided model identifier is invalid.")


def _policy_exists(account, arn):
    from moto.iam.models import iam_backends
    iam = iam_backends[account]["aws"]
    if arn in iam.managed_policies:
        return True
    if arn.startswith("arn:aws:iam::aws:policy/"):
        from moto.iam.aws_managed_policies import aws_managed_policies_data
        global _AWS_POLICY_NAMES
        if _AWS_POLICY_NAMES is None:
            _AWS_POLICY_NAMES = set(json.loads(aws_managed_policies_data))
        return arn.rsplit("/", 1)[-1] in _AWS_POLICY_NAMES
    return False


_AWS_POLICY_NAMES = None


def iam_permissions_boundary(call):
    arn = _first(call, "PermissionsBoundary")
    if not arn or _policy_exists(call.account, arn):
        return None
    return error_response(call, 404, "NoSuchEntity",
                          "Scope ARN: %s does not exist or is not attachable." % arn)


_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")


def org_member(account):
    """(FakeAccount, management account ID) when `account` is a member
    account of an organisation (not its management account), else None."""
    from moto.organizations.models import organizations_backends
    owner = organizations_backends.master_accounts.get(account)
    if owner is None or owner[0] == account:
        return None
    master, partition = owner
    try:
        backend = organizations_backends[master][partition]
    except Exception:
        return None
    for acct in list(backend.accounts):
        if acct.id == account:
            return acct, master
    return None


def _listify(v):
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def _trusts(document, caller_account, caller_arn):
    try:
        doc = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return False
    if not isinstance(doc, dict):
        return False
    wanted = {"*", caller_account, "arn:aws:iam::%s:root" % caller_account}
    if caller_arn:
        wanted.add(caller_arn)
    for st in _listify(doc.get("Statement")):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        actions = _listify(st.get("Action"))
        if not any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions):
            continue
        principal = st.get("Principal")
        if principal == "*":
            return True
        if isinstance(principal, dict) and wanted & set(_listify(principal.get("AWS"))):
            return True
    return False


def sts_assume_role_into_member(call):
    arn = _first(call, "RoleArn")
    m = _ROLE_ARN_RE.match(arn or "")
    if not m:
        return None
    target, name = m.groups()
    member = org_member(target)
    if member is None:
        return None     # not an organisation's member account: moto's behaviour
    acct, _ = member
    from . import identity
    ident, _ = identity.user_identity(call.access_key, call.account)
    caller = ident.get("arn") or "arn:aws:iam::%s:root" % call.account
    denied = error_response(call, 403, "AccessDenied",
                            "User: %s is not authorized to perform: sts:AssumeRole on "
                            "resource: %s" % (caller, arn))
    if acct.status != "ACTIVE":
        return denied
    from moto.iam.models import iam_backends
    roles = [r for r in list(iam_backends[target]["aws"].roles.values()) if r.name == name]
    if not roles or not _trusts(roles[0].assume_role_policy_document, call.account,
                                ident.get("arn")):
        return denied
    return None


def organizations_management_only(call):
    if org_member(call.account) is None:
        return None
    return error_response(call, 400, "AccessDeniedException",
                          "You don't have permissions to access this resource.")


HANDLERS = {
    ("sts", "AssumeRole"): sts_assume_role_into_member,
    ("organizations", "ListAccounts"): organizations_management_only,
    ("organizations", "ListAccountsForParent"): organizations_management_only,
    ("organizations", "DescribeAccount"): organizations_management_only,
    ("organizations", "ListCreateAccountStatus"): organizations_management_only,
    ("ssm", "SendCommand"): ssm_send_command,
    ("ssm", "StartSession"): ssm_start_session,
    ("route53resolver", "DeleteResolverQueryLogConfig"): resolver_delete_query_log_config,
    ("ses", "GetAccountSendingEnabled"): ses_account_sending_enabled,
    ("sagemaker", "UpdateNotebookInstance"): sagemaker_update_notebook,
    ("ec2-instance-connect", "SendSSHPublicKey"): instance_connect,
    ("ec2-instance-connect", "SendSerialConsoleSSHPublicKey"): instance_connect,
    ("bedrock", "InvokeModel"): bedrock_invoke_model,
    ("iam", "CreateUser"): iam_permissions_boundary,
    ("iam", "CreateRole"): iam_permissions_boundary,
    ("cloudtrail", "StartLogging"): cloudtrail_trail,
    ("cloudtrail", "StopLogging"): cloudtrail_trail,
    ("cloudtrail", "DeleteTrail"): cloudtrail_trail,
    ("guardduty", "DeleteDetector"): guardduty_detector,
}
