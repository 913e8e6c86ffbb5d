/*
 * mining-bitcoin: crypto-mining instances in unused regions (CloudSaga
 * chapter).
 *
 * Per region, concurrently:
 *   DescribeInstances (paginated)
 *   no instance pending/running/stopping/stopped:
 *     ssm:GetParameter of the Amazon Linux 2023 AMI public parameter (the
 *     image ID differs per region and changes over time), then
 *     ec2:RunInstances DryRun, c5.24xlarge, 1-2 instances, tagged
 *     CS-Purpose=c-level-mine on the instance.
 */
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "builtin.h"
#include "scenario.h"
#include "xmalloc.h"

#define MB_AMI_PARAMETER \
	"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
#define MB_INSTANCE_TYPE	"c5.24xlarge"

struct mb_state {
	struct region_scan	*rs;
	char			**ami;	/* per region */
	size_t			 n;
};

static const char *
mb_setting_str(struct run *run, const char *key, const char *def)
{
	json_t	*v = scen_setting(run, key);

	return v != NULL && json_is_string(v) ? json_string_value(v) : def;
}

static void
mb_region_end(struct run *run, void *arg)
{
	scan_region_done(arg);
}

static char **
mb_ami_slot(struct region_scan *rs)
{
	return rs->data;
}

static void
mb_ami_cb(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	struct region_scan	*rs = arg;
	const char		*ami;

	if (res->outcome != AWS_OK) {
		scen_region_failed(rs, req, res, "AMI lookup");
		return;
	}
	ami = aws_json_str(res->data, "Parameter.Value");
	if (ami == NULL || strncmp(ami, "ami-", 4) != 0) {
		rs->failed = 1;
		run_error(run, rs->region, "ssm:GetParameter answered no AMI "
		    "ID for %s", mb_setting_str(run, "ami_parameter",
		    MB_AMI_PARAMETER));
		return;
	}
	*mb_ami_slot(rs) = xstrdup(ami);
}

static void
mb_launch(struct run *run, void *arg)
{
	struct region_scan	*rs = arg;
	struct run_group	*g;
	struct aws_request	*req;
	const char		*ami = *mb_ami_slot(rs);

	if (rs->failed || ami == NULL) {
		if (rs->failed)
			run_skip(run, "ec2", "RunInstances", rs->region, NULL,
			    run_region_off(run, rs->region),
			    "no AMI for this region");
		scan_region_done(rs);
		return;
	}
	run_progress(run, rs->region, "mining instances");
	g = run_group_new(run, mb_region_end, rs);
	req = run_request(run, "ec2", "RunInstances", rs->region,
	    AWS_SAFE_DRY_RUN);
	req->role = AWS_ROLE_SIGNAL;
	req->evidence = AWS_EVIDENCE_OBSERVED;
	aws_request_add(req, "ImageId", "%s", ami);
	aws_request_add(req, "InstanceType", "%s",
	    mb_setting_str(run, "instance_type", MB_INSTANCE_TYPE));
	aws_request_add(req, "MinCount", "1");
	aws_request_add(req, "MaxCount", "2");
	aws_request_add(req, "TagSpecification.1.ResourceType", "instance");
	aws_request_add(req, "TagSpecification.1.Tag.1.Key", SCEN_TAG_KEY);
	aws_request_add(req, "TagSpecification.1.Tag.1.Value", "c-level-mine");
	aws_request_add(req, "DryRun", "true");
	run_group_call_detail(g, req, ami, NULL, NULL);
	run_group_close(g);
}

static void
mb_listed(struct run *run, void *arg)
{
	struct region_scan	*rs = arg;
	struct run_group	*g;
	struct aws_request	*req;

	if (rs->failed) {
		scan_region_done(rs);
		return;
	}
	if (rs->active > 0) {
		run_note(run, rs->region, "%zu instance%s in use: region not "
		    "unused, no mining launch", rs->active,
		    rs->active == 1 ? "" : "s");
		scan_region_done(rs);
		return;
	}
	run_progress(run, rs->region, "AMI");
	g = run_group_new(run, mb_launch, rs);
	req = run_request(run, "ssm", "GetParameter", rs->region,
	    AWS_SAFE_READ_ONLY);
	req->role = AWS_ROLE_CONTEXT;
	aws_request_set_str(req, "Name", mb_setting_str(run, "ami_parameter",
	    MB_AMI_PARAMETER));
	run_group_call(g, req, mb_ami_cb, rs);
	run_group_close(g);
}

static void
mb_start(struct run *run)
{
	struct mb_state		*st = run_state(run);

	st->n = run_nregions(run);
	st->ami = xcalloc(st->n + 1, sizeof(*st->ami));
	scan_instances_everywhere(run, &st->rs, st->ami, sizeof(*st->ami), NULL,
	    mb_listed);
}

static void
mb_cleanup(struct run *run)
{
	struct mb_state	*st = run_state(run);
	size_t		 i;

	for (i = 0; i < st->n; i++)
		free(st->ami[i]);
	free(st->ami);
	free(st->rs);
}

static const char *const mb_services[] = { "ec2", "ssm", NULL };
static const char *const mb_permissions[] = {
	"ec2:DescribeRegions",
	"ec2:DescribeInstances",
	"ssm:GetParameter",
	"ec2:RunInstances",
	"ec2:CreateTags",
	NULL
};
static const char *const mb_mitre[] = {
	"T1496 Resource Hijacking",
	"T1578.002 Modify Cloud Compute Infrastructure: Create Cloud Instance",
	"T1535 Unused/Unsupported Cloud Regions",
	NULL
};
static const char *const mb_calls[] = {
	"ec2:DescribeRegions (read-only, once: the enabled regions)",
	"ec2:DescribeInstances (read-only, every region, paginated)",
	"ssm:GetParameter " MB_AMI_PARAMETER " (read-only, each region "
	    "without instances)",
	"ec2:RunInstances c5.24xlarge x1-2 tagged CS-Purpose=c-level-mine "
	    "(dry-run, each region without instances)",
	NULL
};

static const char *const mb_stratus[] = {
	"aws.execution.ec2-launch-unusual-instances",
	NULL
};

static const struct scenario_call_info mb_call_info[] = {
	{ "ec2", "DescribeRegions", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "home region, once", NULL, NULL },
	{ "ec2", "DescribeInstances", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "every region", NULL, NULL },
	{ "ssm", "GetParameter", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "each region without instances", NULL, NULL },
	{ "ec2", "RunInstances", AWS_SAFE_DRY_RUN,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_OBSERVED, "EC2-dry",
	    "each region without instances", NULL, NULL },
	{ NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL },
};

const struct scenario_def scenario_mining_bitcoin = {
	.name = "mining-bitcoin",
	.summary = "large compute instances launched in regions the "
	    "account does not use (EC2 DryRun)",
	.description =
"Stolen cloud credentials are most often turned into crypto-mining: big\n"
"instances launched where nobody looks, in regions the account does not\n"
"use.\n"
"\n"
"In every enabled region the instances are listed; a region counts as used\n"
"when an instance is pending, running, stopping or stopped.  In each\n"
"unused region the current Amazon Linux 2023 image is looked up in the SSM\n"
"public parameter (AMI IDs differ per region and change over time), then a\n"
"DryRun RunInstances asks for one to two c5.24xlarge instances tagged\n"
"CS-Purpose=c-level-mine.  Nothing is launched: CloudTrail records the\n"
"attempt with errorCode Client.DryRunOperation (or\n"
"Client.UnauthorizedOperation when denied).",
	.services = mb_services,
	.permissions = mb_permissions,
	.mitre = mb_mitre,
	.calls = mb_calls,
	.start = mb_start,
	.state_size = sizeof(struct mb_state),
	.cleanup = mb_cleanup,
	.needs_regions = 1,
	.settings_help =
"instance_type  instance type asked for (default c5.24xlarge)\n"
"ami_parameter  SSM public parameter naming the image (default the\n"
"               Amazon Linux 2023 x86_64 one)",
	.tactic = "Impact",
	.tactic_id = "TA0040",
	.stratus = mb_stratus,
	.call_info = mb_call_info,
};
