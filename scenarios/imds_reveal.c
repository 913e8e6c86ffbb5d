/*
 * imds-reveal: instances still allowing IMDSv1 (CloudSaga chapter).
 *
 * Per region, concurrently: DescribeInstances (paginated, terminated
 * instances skipped); each instance is classified by
 * MetadataOptions.HttpTokens: "optional" = IMDSv1 allowed, a posture
 * finding (instance ID, region, public IP or none); "required" = IMDSv2
 * only; HttpEndpoint "disabled" = no metadata service at all.
 *
 * CloudSaga then fetched metadata through an SSRF-prone web app on every
 * IMDSv1 instance's public IP: real traffic to customer hosts.  cloudsagad
 * keeps that off.  The settings key "probe_targets" is reserved for the
 * explicit list of allowed targets; active probing is not implemented in
 * this version, and with targets configured the run says so in a note and
 * sends nothing to them.
 */
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "builtin.h"
#include "scenario.h"
#include "xmalloc.h"

struct imds_region {
	size_t	 v1, v2, off, unknown;
};

struct imds_state {
	struct region_scan	*rs;
	struct imds_region	*ir;
	size_t			 n;
};

static void
imds_instance(struct region_scan *rs, json_t *inst)
{
	struct imds_region	*ir = rs->data;
	const char		*id, *tokens, *endpoint, *ip;
	char			*detail;

	id = aws_json_str(inst, "instanceId");
	tokens = aws_json_str(inst, "metadataOptions.httpTokens");
	endpoint = aws_json_str(inst, "metadataOptions.httpEndpoint");
	ip = aws_json_str(inst, "ipAddress");
	if (id == NULL)
		return;
	if (endpoint != NULL && strcmp(endpoint, "disabled") == 0) {
		ir->off++;
		return;
	}
	if (tokens == NULL || *tokens == '\0') {
		ir->unknown++;
		return;
	}
	if (strcmp(tokens, "required") == 0) {
		ir->v2++;
		return;
	}
	if (strcmp(tokens, "optional") != 0) {
		ir->unknown++;
		return;
	}
	ir->v1++;
	if (ip != NULL && *ip != '\0')
		detail = xprintf("IMDSv1 allowed, public IP %s", ip);
	else
		detail = xstrdup("IMDSv1 allowed, no public IP");
	run_finding(rs->run, rs->region, "imdsv1-allowed", id, detail);
	free(detail);
}

static void
imds_listed(struct run *run, void *arg)
{
	struct region_scan	*rs = arg;
	struct imds_region	*ir = rs->data;

	if (!rs->failed && rs->listed > 0)
		run_note(run, rs->region, "%zu instance%s: %zu allow IMDSv1, "
		    "%zu IMDSv2 only, %zu without metadata service%s",
		    rs->listed, rs->listed == 1 ? "" : "s", ir->v1, ir->v2,
		    ir->off, ir->unknown ? ", some unclassified" : "");
	scan_region_done(rs);
}

static void
imds_start(struct run *run)
{
	struct imds_state	*st = run_state(run);
	json_t			*targets;

	targets = scen_setting(run, "probe_targets");
	if (targets == NULL || (json_is_array(targets) &&
	    json_array_size(targets) == 0))
		run_note(run, NULL, "IMDSv1 probing off (no probe_targets "
		    "configured): posture check only");
	else
		run_note(run, NULL, "probe_targets configured, but active "
		    "IMDSv1 probing is not implemented in this version: no "
		    "traffic was sent to any target");

	st->n = run_nregions(run);
	st->ir = xcalloc(st->n + 1, sizeof(*st->ir));
	scan_instances_everywhere(run, &st->rs, st->ir, sizeof(*st->ir), imds_instance,
	    imds_listed);
}

static void
imds_cleanup(struct run *run)
{
	struct imds_state	*st = run_state(run);

	free(st->ir);
	free(st->rs);
}

static const char *const imds_services[] = { "ec2", NULL };
static const char *const imds_permissions[] = {
	"ec2:DescribeRegions",
	"ec2:DescribeInstances",
	NULL
};
static const char *const imds_mitre[] = {
	"T1552.005 Unsecured Credentials: Cloud Instance Metadata API",
	"T1580 Cloud Infrastructure Discovery",
	NULL
};
static const char *const imds_calls[] = {
	"ec2:DescribeRegions (read-only, once: the enabled regions)",
	"ec2:DescribeInstances (read-only, every region, paginated)",
	NULL
};

static const struct scenario_call_info imds_call_info[] = {
	{ "ec2", "DescribeRegions", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "home region, once", NULL, NULL },
	{ "ec2", "DescribeInstances", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "every region", NULL, NULL },
	{ NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL },
};

const struct scenario_def scenario_imds_reveal = {
	.name = "imds-reveal",
	.summary = "find instances that still allow IMDSv1 (posture, "
	    "read-only)",
	.description =
"IMDSv1 answers any HTTP GET from the instance, so a server-side request\n"
"forgery in a web app hands out the instance role's credentials.  IMDSv2\n"
"needs a session token obtained with a PUT, which SSRF rarely can send.\n"
"\n"
"In every enabled region the instances are listed (terminated ones\n"
"skipped) and classified by their metadata options: HttpTokens=optional\n"
"allows IMDSv1 and is reported as a finding with the instance ID, region\n"
"and public IP; HttpTokens=required is IMDSv2 only.  CloudTrail records\n"
"one read-only DescribeInstances per region.\n"
"\n"
"CloudSaga went on to fetch metadata from each IMDSv1 instance through an\n"
"assumed SSRF-prone web application.  That is real traffic to real hosts:\n"
"cloudsagad does not do it unless the configuration names the allowed\n"
"targets, and active probing is not implemented in this version.",
	.services = imds_services,
	.permissions = imds_permissions,
	.mitre = imds_mitre,
	.calls = imds_calls,
	.start = imds_start,
	.state_size = sizeof(struct imds_state),
	.cleanup = imds_cleanup,
	.needs_regions = 1,
	.settings_help =
"probe_targets  explicit list of hosts that may be probed for IMDSv1\n"
"               (reserved: probing is not implemented; without it the\n"
"               scenario is a posture check only)",
	.tactic = "Credential Access",
	.tactic_id = "TA0006",
	.call_info = imds_call_info,
};
