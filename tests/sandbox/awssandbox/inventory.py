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


def _is_pristine(account, region, state):
    """Nothing but what moto creates with a region (or no EC2 backend yet)."""
    if state["dbInstances"]:
        return False
    if _ec2(account, region) is None:
        return not (state["vpcs"] or state["securityGroups"] or state["instances"])
    ec2_part = dict(state, dbInstances=[])
    return _pristine is not None and _shape(ec2_part) == _pristine


def region_state(account, region):
    from moto.rds.models import rds_backends
    state = {"vpcs": [], "securityGroups": [], "instances": [], "dbInstances": []}
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
        _pristine = _shape(region_state(account, region))


def _regions(account):
    from moto.ec2.models import ec2_backends
    from moto.rds.models import rds_backends
    names = set()
    for bd in (ec2_backends, rds_backends):
        if account in bd:
            names.update(bd[account].keys())
    return sorted(names)


def inventory(only_regions=None):
    from moto.ec2.models import ec2_backends
    from moto.rds.models import rds_backends
    from moto.s3.models import s3_backends
    accounts = set(ec2_backends.keys()) | set(rds_backends.keys()) | set(s3_backends.keys())
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
                    buckets.append({"name": b.name, "region": b.region_name,
                                    "publicAccessBlock": bool(pab)})
        buckets.sort(key=lambda b: b["name"])
        if regions or buckets:
            out[account] = {"regions": regions, "buckets": buckets}
    return {"accounts": out}
