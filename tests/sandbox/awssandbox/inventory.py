"""GET /_sandbox/inventory: what exists in moto, per account and region, in
a deterministic order, so tests can diff it before and after a scenario.

moto creates a region's backend (with its default VPC and default security
group) the first time anything touches that region. A region whose state is
exactly that fresh state is left out, so that merely reading a region does
not show up as a change."""

_pristine = None


def _rule(r):
    return {
        "protocol": r.ip_protocol,
        "fromPort": r.from_port,
        "toPort": r.to_port,
        "cidr": (r.ip_range or {}).get("CidrIp") or (r.ip_range or {}).get("CidrIpv6"),
        "group": (r.source_group or {}).get("GroupId"),
        "prefixList": r.prefix_list_id,
    }


def _rules(rules):
    out = [_rule(r) for r in rules]
    return sorted(out, key=lambda x: repr(sorted(x.items(), key=lambda kv: kv[0])))


def _tags(backend, resource_id):
    try:
        tags = backend.tags.get(resource_id, {})
    except Exception:
        tags = {}
    return dict(sorted(tags.items()))


def _ec2(account, region):
    from moto.ec2.models import ec2_backends
    acct = ec2_backends.get(account) if account in ec2_backends else None
    return acct.get(region) if acct is not None and region in acct.keys() else None


EC2_KEYS = ("vpcs", "securityGroups", "instances")


def _is_pristine(account, region, state):
    """Nothing but what moto creates with a region (or no EC2 backend yet)."""
    if any(state[k] for k in state if k not in EC2_KEYS):
        return False
    if _ec2(account, region) is None:
        return not any(state[k] for k in EC2_KEYS)
    ec2_part = {k: state[k] for k in EC2_KEYS}
    return _pristine is not None and _shape(ec2_part) == _pristine


def _backend(backends, account, region):
    acct = backends.get(account) if account in backends else None
    return acct.get(region) if acct is not None and region in acct.keys() else None


def _regional_extras(account, region, state):
    """Secrets, SSM parameters, Lambda functions, SageMaker notebook
    instances and Route 53 Resolver query log configs."""
    from moto.awslambda.models import lambda_backends
    from moto.route53resolver.models import route53resolver_backends
    from moto.sagemaker.models import sagemaker_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.ssm.models import ssm_backends
    sm = _backend(secretsmanager_backends, account, region)
    if sm is not None:
        for name in list(sm.secrets.keys()):
            secret = sm.secrets[name]
            state["secrets"].append({
                "name": secret.name, "versions": len(getattr(secret, "versions", {}) or {}),
                "deleted": bool(getattr(secret, "deleted_date", None))})
    ssm = _backend(ssm_backends, account, region)
    if ssm is not None:
        for name in list(dict.keys(ssm._parameters)):
            if name.startswith("/aws/"):
                continue
            versions = dict.get(ssm._parameters, name) or []
            if versions:
                last = versions[-1]
                state["parameters"].append({"name": name, "type": last.parameter_type,
                                            "version": last.version})
    lam = _backend(lambda_backends, account, region)
    if lam is not None:
        for name, group in list(lam._lambdas._functions.items()):
            fn = group["latest"]
            state["lambdaFunctions"].append({
                "functionName": name, "codeSha256": getattr(fn, "code_sha_256", None),
                "role": fn.role, "handler": fn.handler,
                "layers": sorted(str(layer.get("Arn", layer)) if isinstance(layer, dict)
                                 else str(layer) for layer in (fn.layers or [])),
                "environment": dict(sorted((fn.environment_vars or {}).items())),
                "policyStatements": sorted(str(st.get("Sid")) for st in fn.policy.statements),
                "versions": len(group.get("versions") or [])})
    sg = _backend(sagemaker_backends, account, region)
    if sg is not None:
        for name, nb in list(sg.notebook_instances.items()):
            state["notebookInstances"].append({
                "name": name, "status": nb.status,
                "lifecycleConfigName": nb.lifecycle_config_name})
    r53 = _backend(route53resolver_backends, account, region)
    if r53 is not None:
        for ident, cfg in list(r53.resolver_query_log_configs.items()):
            state["resolverQueryLogConfigs"].append({
                "id": ident, "name": cfg.name, "destinationArn": cfg.destination_arn})
    for key, field in (("secrets", "name"), ("parameters", "name"),
                       ("lambdaFunctions", "functionName"), ("notebookInstances", "name"),
                       ("resolverQueryLogConfigs", "id")):
        state[key].sort(key=lambda x: x[field])


def region_state(account, region):
    from moto.rds.models import rds_backends
    state = {"vpcs": [], "securityGroups": [], "instances": [], "dbInstances": [],
             "secrets": [], "parameters": [], "lambdaFunctions": [],
             "notebookInstances": [], "resolverQueryLogConfigs": []}
    ec2 = _ec2(account, region)
    if ec2 is not None:
        for vpc in list(ec2.vpcs.values()):
            state["vpcs"].append({"vpcId": vpc.id, "cidrBlock": vpc.cidr_block,
                                  "isDefault": bool(vpc.is_default),
                                  "tags": _tags(ec2, vpc.id)})
        for vpc_id, groups in list(ec2.groups.items()):
            for g in list(groups.values()):
                state["securityGroups"].append({
                    "groupId": g.id, "groupName": g.name, "vpcId": g.vpc_id,
                    "ingress": _rules(g.ingress_rules), "egress": _rules(g.egress_rules),
                    "tags": _tags(ec2, g.id)})
        for res in list(ec2.reservations.values()):
            for inst in list(res.instances):
                st = inst._state.name
                if st == "terminated":
                    continue
                state["instances"].append({"instanceId": inst.id, "state": st,
                                           "imageId": inst.image_id,
                                           "instanceType": inst.instance_type,
                                           "vpcId": getattr(inst, "vpc_id", None),
                                           "tags": _tags(ec2, inst.id)})
    acct_rds = rds_backends.get(account) if account in rds_backends else None
    rds = acct_rds.get(region) if acct_rds is not None and region in acct_rds.keys() else None
    if rds is not None:
        for db in list(rds.databases.values()):
            state["dbInstances"].append({
                "dbInstanceIdentifier": db.db_instance_identifier,
                "status": db.status, "engine": db.engine,
                "publiclyAccessible": bool(db.publicly_accessible)})
    _regional_extras(account, region, state)
    state["vpcs"].sort(key=lambda v: v["vpcId"])
    state["securityGroups"].sort(key=lambda g: g["groupId"])
    state["instances"].sort(key=lambda i: i["instanceId"])
    state["dbInstances"].sort(key=lambda d: d["dbInstanceIdentifier"])
    return state


def _shape(state):
    """The state with every ID replaced by its role, to compare with a fresh
    region."""
    ids = {}

    def sub(v):
        if isinstance(v, str) and (v.startswith("vpc-") or v.startswith("sg-")):
            return ids.setdefault(v, "id%d" % len(ids))
        return v

    def walk(o):
        if isinstance(o, dict):
            return {k: walk(sub(v)) for k, v in o.items()}
        if isinstance(o, list):
            return [walk(sub(v)) for v in o]
        return sub(o)
    return walk(state)


def learn_pristine(account, region):
    """Remember the shape of a fresh region (called before any request)."""
    global _pristine
    if _pristine is None:
        st = region_state(account, region)
        _pristine = _shape({k: st[k] for k in EC2_KEYS})


def _regional_backends():
    from moto.awslambda.models import lambda_backends
    from moto.ec2.models import ec2_backends
    from moto.rds.models import rds_backends
    from moto.route53resolver.models import route53resolver_backends
    from moto.sagemaker.models import sagemaker_backends
    from moto.secretsmanager.models import secretsmanager_backends
    from moto.ssm.models import ssm_backends
    return (ec2_backends, rds_backends, secretsmanager_backends, ssm_backends,
            lambda_backends, sagemaker_backends, route53resolver_backends)


def _regions(account):
    names = set()
    for bd in _regional_backends():
        if account in bd:
            names.update(bd[account].keys())
    return sorted(names)


def _policy_names(policies):
    return sorted(p.arn for p in policies.values())


def iam_state(account):
    """Users (with keys, login profile, policies, boundary), roles (with
    trust policy) and customer managed policies; None when there are none."""
    from moto.iam.models import iam_backends
    if account not in iam_backends or "aws" not in iam_backends[account].keys():
        return None
    iam = iam_backends[account]["aws"]
    users = []
    for name, u in sorted(list(iam.users.items())):
        users.append({
            "userName": name, "arn": u.arn,
            "permissionsBoundary": getattr(u, "permissions_boundary_arn", None) or None,
            "attachedPolicies": _policy_names(u.managed_policies),
            "inlinePolicies": sorted(u.policies),
            "accessKeys": sorted((k.access_key_id, k.status) for k in u.access_keys),
            "loginProfile": u.password is not None})
    for entry in users:
        entry["accessKeys"] = [{"accessKeyId": k, "status": st} for k, st in entry["accessKeys"]]
    roles = []
    for ident, r in sorted(list(iam.roles.items()), key=lambda kv: kv[1].name):
        roles.append({
            "roleName": r.name, "arn": r.arn,
            "assumeRolePolicyDocument": r.assume_role_policy_document,
            "permissionsBoundary": r.permissions_boundary_arn or None,
            "attachedPolicies": _policy_names(r.managed_policies),
            "inlinePolicies": sorted(r.policies)})
    policies = []
    for arn, p in sorted(list(iam.managed_policies.items())):
        if arn.startswith("arn:aws:iam::aws:"):
            continue
        policies.append({"arn": arn, "defaultVersion": p.default_version_id,
                         "attachments": p.attachment_count})
    if not (users or roles or policies):
        return None
    return {"users": users, "roles": roles, "policies": policies}


def inventory(only_regions=None):
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends
    accounts = set(s3_backends.keys()) | set(iam_backends.keys())
    for bd in _regional_backends():
        accounts |= set(bd.keys())
    out = {}
    for account in sorted(accounts):
        regions = {}
        for region in _regions(account):
            if only_regions and region not in only_regions:
                continue
            st = region_state(account, region)
            if not only_regions and _is_pristine(account, region, st):
                continue
            regions[region] = st
        buckets = []
        if account in s3_backends:
            for part in list(s3_backends[account].keys()):
                for b in list(s3_backends[account][part].buckets.values()):
                    pab = getattr(b, "public_access_block", None)
                    policy = getattr(b, "policy", None)
                    if isinstance(policy, bytes):
                        policy = policy.decode("utf-8", "replace")
                    rules = getattr(b, "rules", None) or []
                    buckets.append({"name": b.name, "region": b.region_name,
                                    "publicAccessBlock": bool(pab),
                                    "policy": policy or None,
                                    "lifecycleRules": sorted(
                                        str(getattr(r, "id", None)) for r in rules)})
        buckets.sort(key=lambda b: b["name"])
        iam = iam_state(account)
        if regions or buckets or iam:
            entry = {"regions": regions, "buckets": buckets}
            if iam:
                entry["iam"] = iam
            out[account] = entry
    return {"accounts": out}
