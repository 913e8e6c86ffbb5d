/*
 * network-changes: rogue VPCs and open security groups (CloudSaga chapter).
 *
 * Per region, concurrently:
 *   DescribeInstances (paginated)
 *   no instances:  CreateVpc DryRun (192.168.220.0/24, CS-Purpose tag)
 *   instances:     DescribeVpcs (paginated) and DescribeSecurityGroups
 *                  (group-name=default, paginated) side by side, then for
 *                  EVERY VPC: CreateSecurityGroup DryRun in that VPC and
 *                  AuthorizeSecurityGroupIngress DryRun opening 0.0.0.0/0
 *                  on the VPC's default group
 * That is three dependent steps per region; regions never wait for each
 * other, and one region's failure is that region's note.
 */
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "builtin.h"
#include "scenario.h"
#include "xmalloc.h"

#define NC_VPC_CIDR	"192.168.220.0/24"
#define NC_SG_NAME	"open-2-everyone"

struct nc_vpc {
	char	*vpc;
	char	*default_sg;
	int	 listed;	/* by DescribeVpcs, not only by its group */
};

struct nc_region {
	struct nc_vpc	*vpcs;
	size_t		 nvpcs;
	int		 sg_failed;
};

struct nc_state {
	struct region_scan	*rs;
	struct nc_region	*nr;
	size_t			 n;
};

static void
nc_region_end(struct run *run, void *arg)
{
	scan_region_done(arg);
}

static void
nc_tag(struct aws_request *req, const char *type, const char *value)
{
	aws_request_add(req, "TagSpecification.1.ResourceType", "%s", type);
	aws_request_add(req, "TagSpecification.1.Tag.1.Key", SCEN_TAG_KEY);
	aws_request_add(req, "TagSpecification.1.Tag.1.Value", "%s", value);
}

static struct nc_vpc *
nc_find_vpc(struct nc_region *nr, const char *vpc)
{
	size_t	 i;

	for (i = 0; i < nr->nvpcs; i++)
		if (strcmp(nr->vpcs[i].vpc, vpc) == 0)
			return &nr->vpcs[i];
	return NULL;
}

static struct nc_vpc *
nc_add_vpc(struct nc_region *nr, const char *vpc)
{
	struct nc_vpc	*v;

	if ((v = nc_find_vpc(nr, vpc)) != NULL)
		return v;
	nr->vpcs = xreallocarray(nr->vpcs, nr->nvpcs + 1, sizeof(*nr->vpcs));
	v = &nr->vpcs[nr->nvpcs++];
	v->vpc = xstrdup(vpc);
	v->default_sg = NULL;
	v->listed = 0;
	return v;
}

static void
nc_vpc_page(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	struct region_scan	*rs = arg;
	struct nc_region	*nr = rs->data;
	json_t			*list, *v;
	const char		*id;
	size_t			 i;

	if (res->outcome != AWS_OK) {
		scen_region_failed(rs, req, res, "VPC listing");
		return;
	}
	list = aws_json_list(aws_json_path(res->data, "vpcSet"));
	json_array_foreach(list, i, v) {
		if ((id = aws_json_str(v, "vpcId")) != NULL && *id != '\0')
			nc_add_vpc(nr, id)->listed = 1;
	}
	json_decref(list);
}

static void
nc_sg_page(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	struct region_scan	*rs = arg;
	struct nc_region	*nr = rs->data;
	json_t			*list, *g;
	const char		*vpc, *sg, *name;
	struct nc_vpc		*v;
	size_t			 i;

	if (res->outcome != AWS_OK) {
		char	 why[256];

		nr->sg_failed = 1;
		if (res->outcome != AWS_REGION_OFF)
			run_error(run, rs->region, "ec2:DescribeSecurityGroups "
			    "failed (%s): default groups unknown, ingress step "
			    "skipped", scen_failure(res, why, sizeof(why)));
		return;
	}
	list = aws_json_list(aws_json_path(res->data, "securityGroupInfo"));
	json_array_foreach(list, i, g) {
		vpc = aws_json_str(g, "vpcId");
		sg = aws_json_str(g, "groupId");
		name = aws_json_str(g, "groupName");
		if (vpc == NULL || sg == NULL || name == NULL ||
		    strcmp(name, "default") != 0)
			continue;
		/* Recorded even for a VPC DescribeVpcs does not list;
		 * nc_targets only walks the listed ones. */
		v = nc_add_vpc(nr, vpc);
		if (v->default_sg == NULL)
			v->default_sg = xstrdup(sg);
	}
	json_decref(list);
}

static int
nc_vpc_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nc_vpc *)a)->vpc,
	    ((const struct nc_vpc *)b)->vpc);
}

static void
nc_targets(struct run *run, void *arg)
{
	struct region_scan	*rs = arg;
	struct nc_region	*nr = rs->data;
	struct run_group	*g;
	struct aws_request	*req;
	char			*detail;
	size_t			 i, nlisted = 0;

	if (rs->failed) {
		scan_region_done(rs);
		return;
	}
	for (i = 0; i < nr->nvpcs; i++)
		nlisted += nr->vpcs[i].listed;
	if (nlisted == 0) {
		run_note(run, rs->region, "instances but no VPC listed: "
		    "nothing to open");
		scan_region_done(rs);
		return;
	}
	qsort(nr->vpcs, nr->nvpcs, sizeof(*nr->vpcs), nc_vpc_cmp);
	run_progress(run, rs->region, "security groups");
	g = run_group_new(run, nc_region_end, rs);
	for (i = 0; i < nr->nvpcs; i++) {
		if (!nr->vpcs[i].listed)
			continue;
		req = run_request(run, "ec2", "CreateSecurityGroup",
		    rs->region, AWS_SAFE_DRY_RUN);
	req->role = AWS_ROLE_SIGNAL;
	req->evidence = AWS_EVIDENCE_OBSERVED;
		aws_request_add(req, "GroupName", NC_SG_NAME);
		aws_request_add(req, "GroupDescription", NC_SG_NAME);
		aws_request_add(req, "VpcId", "%s", nr->vpcs[i].vpc);
		nc_tag(req, "security-group", "public-access-for-all");
		aws_request_add(req, "DryRun", "true");
		run_group_call_detail(g, req, nr->vpcs[i].vpc, NULL, NULL);

		if (nr->vpcs[i].default_sg == NULL) {
			run_skip(run, "ec2", "AuthorizeSecurityGroupIngress",
			    rs->region, nr->vpcs[i].vpc, 0, nr->sg_failed ?
			    "default security group unknown (listing failed)" :
			    "no default security group found for this VPC");
			continue;
		}
		req = run_request(run, "ec2", "AuthorizeSecurityGroupIngress",
		    rs->region, AWS_SAFE_DRY_RUN);
	req->role = AWS_ROLE_SIGNAL;
	req->evidence = AWS_EVIDENCE_OBSERVED;
		aws_request_add(req, "GroupId", "%s", nr->vpcs[i].default_sg);
		aws_request_add(req, "IpPermissions.1.IpProtocol", "-1");
		aws_request_add(req, "IpPermissions.1.IpRanges.1.CidrIp",
		    "0.0.0.0/0");
		aws_request_add(req, "IpPermissions.1.IpRanges.1.Description",
		    NC_SG_NAME);
		aws_request_add(req, "DryRun", "true");
		detail = xprintf("%s (%s)", nr->vpcs[i].default_sg,
		    nr->vpcs[i].vpc);
		run_group_call_detail(g, req, detail, NULL, NULL);
		free(detail);
	}
	run_group_close(g);
}

static void
nc_listed(struct run *run, void *arg)
{
	struct region_scan	*rs = arg;
	struct run_group	*g;
	struct aws_request	*req;

	if (rs->failed) {
		scan_region_done(rs);
		return;
	}
	if (rs->active == 0) {
		run_progress(run, rs->region, "rogue VPC");
		g = run_group_new(run, nc_region_end, rs);
		req = run_request(run, "ec2", "CreateVpc", rs->region,
		    AWS_SAFE_DRY_RUN);
	req->role = AWS_ROLE_SIGNAL;
	req->evidence = AWS_EVIDENCE_OBSERVED;
		aws_request_add(req, "CidrBlock", NC_VPC_CIDR);
		nc_tag(req, "vpc", "c-level-mine");
		aws_request_add(req, "DryRun", "true");
		run_group_call_detail(g, req, NC_VPC_CIDR, NULL, NULL);
		run_group_close(g);
		return;
	}
	run_progress(run, rs->region, "VPCs");
	g = run_group_new(run, nc_targets, rs);
	req = run_request(run, "ec2", "DescribeVpcs", rs->region,
	    AWS_SAFE_READ_ONLY);
	req->role = AWS_ROLE_CONTEXT;
	aws_request_add(req, "MaxResults", "1000");
	run_group_paginate(g, req, "NextToken", "nextToken", nc_vpc_page, rs);
	req = run_request(run, "ec2", "DescribeSecurityGroups", rs->region,
	    AWS_SAFE_READ_ONLY);
	req->role = AWS_ROLE_CONTEXT;
	aws_request_add(req, "Filter.1.Name", "group-name");
	aws_request_add(req, "Filter.1.Value.1", "default");
	aws_request_add(req, "MaxResults", "1000");
	run_group_paginate(g, req, "NextToken", "nextToken", nc_sg_page, rs);
	run_group_close(g);
}

static void
nc_start(struct run *run)
{
	struct nc_state		*st = run_state(run);

	st->n = run_nregions(run);
	st->nr = xcalloc(st->n + 1, sizeof(*st->nr));
	scan_instances_everywhere(run, &st->rs, st->nr, sizeof(*st->nr), NULL,
	    nc_listed);
}

static void
nc_cleanup(struct run *run)
{
	struct nc_state	*st = run_state(run);
	size_t		 i, j;

	for (i = 0; i < st->n; i++) {
		for (j = 0; j < st->nr[i].nvpcs; j++) {
			free(st->nr[i].vpcs[j].vpc);
			free(st->nr[i].vpcs[j].default_sg);
		}
		free(st->nr[i].vpcs);
	}
	free(st->nr);
	free(st->rs);
}

static const char *const nc_services[] = { "ec2", NULL };
static const char *const nc_permissions[] = {
	"ec2:DescribeRegions",
	"ec2:DescribeInstances",
	"ec2:CreateVpc",
	"ec2:DescribeVpcs",
	"ec2:CreateSecurityGroup",
	"ec2:DescribeSecurityGroups",
	"ec2:AuthorizeSecurityGroupIngress",
	"ec2:CreateTags",
	NULL
};
static const char *const nc_mitre[] = {
	"T1578.005 Modify Cloud Compute Infrastructure: Modify Cloud "
	    "Compute Configurations",
	"T1562.007 Impair Defenses: Disable or Modify Cloud Firewall",
	"T1535 Unused/Unsupported Cloud Regions",
	NULL
};
static const char *const nc_calls[] = {
	"ec2:DescribeRegions (read-only, once: the enabled regions)",
	"ec2:DescribeInstances (read-only, every region, paginated)",
	"ec2:CreateVpc 192.168.220.0/24 tagged CS-Purpose=c-level-mine "
	    "(dry-run, each region without instances)",
	"ec2:DescribeVpcs (read-only, each region with instances, paginated)",
	"ec2:DescribeSecurityGroups group-name=default (read-only, each "
	    "region with instances, paginated)",
	"ec2:CreateSecurityGroup open-2-everyone tagged "
	    "CS-Purpose=public-access-for-all (dry-run, every VPC of a region "
	    "with instances)",
	"ec2:AuthorizeSecurityGroupIngress all traffic from 0.0.0.0/0 on the "
	    "VPC's default group (dry-run, every VPC of a region with "
	    "instances)",
	NULL
};

static const char *const nc_stratus[] = {
	"aws.exfiltration.ec2-security-group-open-port-22-ingress",
	NULL
};

static const struct scenario_call_info nc_call_info[] = {
	{ "ec2", "DescribeRegions", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "home region, once", NULL, NULL },
	{ "ec2", "DescribeInstances", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "every region", NULL, NULL },
	{ "ec2", "CreateVpc", AWS_SAFE_DRY_RUN,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_OBSERVED, "EC2-dry",
	    "each region without instances", NULL, NULL },
	{ "ec2", "DescribeVpcs", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "each region with instances", NULL, NULL },
	{ "ec2", "DescribeSecurityGroups", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "each region with instances", NULL, NULL },
	{ "ec2", "CreateSecurityGroup", AWS_SAFE_DRY_RUN,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_OBSERVED, "EC2-dry",
	    "every VPC of a region with instances", NULL, NULL },
	{ "ec2", "AuthorizeSecurityGroupIngress", AWS_SAFE_DRY_RUN,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_OBSERVED, "EC2-dry",
	    "every VPC of a region with instances",
	    "the default security group", NULL },
	{ NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL },
};

const struct scenario_def scenario_network_changes = {
	.name = "network-changes",
	.summary = "rogue VPCs in unused regions and security groups open to "
	    "the world (EC2 DryRun)",
	.description =
"An attacker with EC2 rights builds network paths nobody watches: a VPC in\n"
"a region the account does not use, and a security group open to the\n"
"whole internet next to the workloads it does run.\n"
"\n"
"In every enabled region the instances are listed (terminated ones do not\n"
"count).  A region without instances gets a DryRun CreateVpc.  In a region\n"
"with instances every VPC gets a DryRun CreateSecurityGroup, and the VPC's\n"
"default security group a DryRun AuthorizeSecurityGroupIngress opening all\n"
"traffic from 0.0.0.0/0.  DryRun calls change nothing: a permitted one\n"
"answers DryRunOperation, a denied one UnauthorizedOperation, and\n"
"CloudTrail records both (errorCode Client.DryRunOperation /\n"
"Client.UnauthorizedOperation).",
	.services = nc_services,
	.permissions = nc_permissions,
	.mitre = nc_mitre,
	.calls = nc_calls,
	.start = nc_start,
	.state_size = sizeof(struct nc_state),
	.cleanup = nc_cleanup,
	.needs_regions = 1,
	.tactic = "Defense Evasion",
	.tactic_id = "TA0005",
	.stratus = nc_stratus,
	.call_info = nc_call_info,
};
