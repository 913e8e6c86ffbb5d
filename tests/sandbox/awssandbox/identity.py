"""Who made a call: the account moto associates with the access key, and the
CloudTrail userIdentity block for it."""

import os

from moto.core import DEFAULT_ACCOUNT_ID


def resolve_account(access_key, headers):
    """The account moto itself would use for this request (same order as
    moto's BaseResponse.get_current_account)."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    hdr = headers.get("x-moto-account-id")
    if hdr:
        return hdr
    if not access_key:
        return DEFAULT_ACCOUNT_ID
    from moto.iam.models import get_account_id_from
    try:
        return get_account_id_from(access_key)
    except Exception:
        return DEFAULT_ACCOUNT_ID


def _iam_backend(account):
    from moto.iam.models import iam_backends
    try:
        return iam_backends[account]["aws"]
    except Exception:
        return None


def user_identity(access_key, account):
    """(userIdentity dict, LookupEvents Username)."""
    if not access_key:
        return ({"type": "AWSAccount", "principalId": "",
                 "accountId": "anonymous"}, "anonymous")
    iam = _iam_backend(account)
    key = None
    if iam is not None:
        key = iam.access_keys.get(access_key)
    if key is not None and key.user_name:
        user = iam.users.get(key.user_name)
        uid = user.id if user is not None else "AIDA" + access_key[4:]
        return ({"type": "IAMUser", "principalId": uid,
                 "arn": "arn:aws:iam::%s:user/%s" % (account, key.user_name),
                 "accountId": account, "accessKeyId": access_key,
                 "userName": key.user_name}, key.user_name)
    if key is not None:
        from moto.sts.models import sts_backends
        try:
            role = sts_backends[account]["aws"].get_assumed_role_from_access_key(
                access_key)
        except Exception:
            role = None
        if role is not None:
            role_name = role.role_arn.split("/")[-1]
            role_id = "AROA" + access_key[4:]
            try:
                role_id = iam.get_role_by_arn(arn=role.role_arn).id
            except Exception:
                pass
            issuer = {"type": "Role", "principalId": role_id,
                      "arn": role.role_arn, "accountId": account,
                      "userName": role_name}
            created = getattr(key, "create_date", None)
            attrs = {"mfaAuthenticated": "false"}
            if created is not None:
                attrs["creationDate"] = created.strftime("%Y-%m-%dT%H:%M:%SZ")
            return ({"type": "AssumedRole",
                     "principalId": "%s:%s" % (role_id, role.session_name),
                     "arn": role.arn, "accountId": account,
                     "accessKeyId": access_key,
                     "sessionContext": {"sessionIssuer": issuer,
                                        "attributes": attrs}},
                    role.session_name)
    # A key moto does not know: moto answers GetCallerIdentity with its
    # built-in "moto" user; record the same principal.
    return ({"type": "IAMUser", "principalId": "AKIAIOSFODNN7EXAMPLE",
             "arn": "arn:aws:sts::%s:user/moto" % account,
             "accountId": account, "accessKeyId": access_key,
             "userName": "moto"}, "moto")
