/*
 * Custom scenarios: config snippets parsed with libconfig, validated into
 * steps, with precise FILE:LINE messages for every refusal; the requests
 * built from valid steps pass the client's safety guard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libconfig.h>

#include "aws.h"
#include "client.h"
#include "config_custom.h"
#include "custom.h"
#include "scenario.h"
#include "xmalloc.h"

#define RUN_ID	"0123456789abcdef0123456789abcdef"

struct parsed {
	config_t		 cfg;
	char			 path[64];
	struct custom_scenario	**list;
	char			*cause;
};

/* Write text to a file (so errors carry a file name) and load "custom". */
static void
parse(struct parsed *p, const char *text)
{
	config_setting_t	*list;
	FILE			*f;
	int			 fd;

	memset(p, 0, sizeof(*p));
	snprintf(p->path, sizeof(p->path), "/tmp/test-custom-XXXXXX");
	fd = mkstemp(p->path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	config_init(&p->cfg);
	if (config_read_file(&p->cfg, p->path) != CONFIG_TRUE)
		fail_msg("libconfig: %s:%d: %s", p->path,
		    config_error_line(&p->cfg), config_error_text(&p->cfg));
	list = config_lookup(&p->cfg, "custom");
	assert_non_null(list);
	p->list = config_custom_list_from_setting(list, &p->cause);
}

static void
parsed_free(struct parsed *p)
{
	custom_list_free(p->list);
	free(p->cause);
	config_destroy(&p->cfg);
	unlink(p->path);
}

/*
 * The snippet must fail with, among its errors (one per line, every error
 * of the snippet), one at line with a message containing want.
 */
static void
expect_error(const char *text, int line, const char *want)
{
	struct parsed	 p;
	char		 prefix[128];
	const char	*l, *nl;
	int		 found = 0;

	parse(&p, text);
	if (p.list != NULL)
		fail_msg("accepted, wanted an error with \"%s\"", want);
	assert_non_null(p.cause);
	snprintf(prefix, sizeof(prefix), "%s:%d: ", p.path, line);
	for (l = p.cause; l != NULL && !found; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		if (strncmp(l, prefix, strlen(prefix)) == 0 &&
		    strstr(l, want) != NULL &&
		    (nl == NULL || strstr(l, want) < nl))
			found = 1;
	}
	if (!found)
		fail_msg("got \"%s\", wanted \"%s...%s\"", p.cause, prefix,
		    want);
	parsed_free(&p);
}

static void
test_safe_fail_every_region(void **state)
{
	struct parsed			 p;
	const struct custom_scenario	*cs;
	const struct scenario_def	*d;
	struct aws_request		*req;
	char				*cause = NULL;

	parse(&p,
"custom = (\n"
"  { name = \"trail-evasion\";\n"
"    summary = \"stop a trail that cannot exist\";\n"
"    mitre = [ \"T1562.008 Disable or Modify Cloud Logs\" ];\n"
"    steps = (\n"
"      { service = \"cloudtrail\"; action = \"StopLogging\";\n"
"        params = { Name = \"cloudsaga-{run_id}\"; };\n"
"        regions = \"all\"; safety = \"safe-fail\";\n"
"        expect_error = \"TrailNotFoundException\"; }\n"
"    );\n"
"  }\n"
");\n");
	if (p.list == NULL)
		fail_msg("%s", p.cause);
	assert_null(p.list[1]);
	cs = custom_find(p.list, "trail-evasion");
	assert_non_null(cs);
	assert_null(custom_find(p.list, "network-changes"));
	assert_int_equal(cs->nsteps, 1);
	assert_int_equal(cs->steps[0].safety, AWS_SAFE_FAIL);
	assert_int_equal(cs->steps[0].regions_kind, CUSTOM_REGIONS_ALL);
	assert_int_equal(cs->line, 2);
	d = custom_def(cs);
	assert_string_equal(d->name, "trail-evasion");
	assert_string_equal(d->summary, "stop a trail that cannot exist");
	assert_true(d->needs_regions);
	assert_string_equal(d->permissions[0], "cloudtrail:StopLogging");
	assert_string_equal(d->permissions[1], "ec2:DescribeRegions");
	assert_string_equal(d->mitre[0],
	    "T1562.008 Disable or Modify Cloud Logs");
	assert_non_null(strstr(d->calls[0], "cloudtrail:StopLogging "
	    "(safe-fail: TrailNotFoundException, every region)"));

	req = custom_step_request(&cs->steps[0], "eu-west-1", RUN_ID);
	assert_string_equal(req->region, "eu-west-1");
	assert_string_equal(json_string_value(json_object_get(req->input,
	    "Name")), "cloudsaga-" RUN_ID);
	assert_string_equal(req->expect_error, "TrailNotFoundException");
	assert_string_equal(req->run_id, RUN_ID);
	assert_int_equal(aws_safety_check(req, 0, &cause), 0);
	aws_request_free(req);
	parsed_free(&p);
}

static void
test_ec2_dry_run_list_params(void **state)
{
	struct parsed		 p;
	struct custom_step	*st;
	struct aws_request	*req;
	char			*cause = NULL;

	parse(&p,
"custom = (\n"
"  { name = \"vpc-peek\"; summary = \"a dry-run VPC per region\";\n"
"    steps = (\n"
"      { service = \"ec2\"; action = \"CreateVpc\";\n"
"        params = [ \"CidrBlock=10.9.0.0/16\", \"DryRun=true\",\n"
"                   \"TagSpecification.1.ResourceType=vpc\",\n"
"                   \"TagSpecification.1.Tag.1.Key=run\",\n"
"                   \"TagSpecification.1.Tag.1.Value={run_id}-{region}\" ];\n"
"        regions = [ \"eu-west-1\", \"us-east-1\" ]; },\n"
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        params = { MaxResults = 5; DryRun = false; }; }\n"
"    );\n"
"  }\n"
");\n");
	if (p.list == NULL)
		fail_msg("%s", p.cause);
	st = &p.list[0]->steps[0];
	assert_int_equal(st->safety, AWS_SAFE_DRY_RUN);
	assert_int_equal(st->regions_kind, CUSTOM_REGIONS_LIST);
	assert_string_equal(st->regions[1], "us-east-1");
	assert_null(st->regions[2]);
	req = custom_step_request(st, "us-east-1", RUN_ID);
	assert_string_equal(aws_request_get(req, "CidrBlock"), "10.9.0.0/16");
	assert_string_equal(aws_request_get(req,
	    "TagSpecification.1.Tag.1.Value"), RUN_ID "-us-east-1");
	assert_true(aws_request_is_dry_run(req));
	assert_int_equal(aws_safety_check(req, 0, &cause), 0);
	aws_request_free(req);

	st = &p.list[0]->steps[1];
	assert_int_equal(st->safety, AWS_SAFE_READ_ONLY);
	assert_int_equal(st->regions_kind, CUSTOM_REGIONS_ALL);
	req = custom_step_request(st, "ap-south-1", RUN_ID);
	assert_string_equal(aws_request_get(req, "MaxResults"), "5");
	assert_string_equal(aws_request_get(req, "DryRun"), "false");
	aws_request_free(req);
	parsed_free(&p);
}

static void
test_global_and_json_string(void **state)
{
	struct parsed		 p;
	struct aws_request	*req;
	char			*cause = NULL;

	parse(&p,
"custom = (\n"
"  { name = \"users\"; summary = \"list users\";\n"
"    description = \"Two steps.\";\n"
"    steps = (\n"
"      { service = \"iam\"; action = \"ListUsers\"; },\n"
"      { service = \"ssm\"; action = \"GetParameter\"; regions = \"global\";\n"
"        params = \"{\\\"Name\\\": \\\"/x/{region}\\\", \\\"WithDecryption\\\": false}\"; }\n"
"    );\n"
"  }\n"
");\n");
	if (p.list == NULL)
		fail_msg("%s", p.cause);
	assert_int_equal(p.list[0]->steps[0].regions_kind,
	    CUSTOM_REGIONS_GLOBAL);
	assert_false(custom_def(p.list[0])->needs_regions);
	assert_string_equal(custom_def(p.list[0])->description, "Two steps.");
	req = custom_step_request(&p.list[0]->steps[1], "eu-north-1", RUN_ID);
	assert_string_equal(json_string_value(json_object_get(req->input,
	    "Name")), "/x/eu-north-1");
	assert_true(json_is_false(json_object_get(req->input,
	    "WithDecryption")));
	assert_int_equal(aws_safety_check(req, 0, &cause), 0);
	aws_request_free(req);
	parsed_free(&p);
}

static void
test_live_with_switch(void **state)
{
	struct parsed		 p;
	struct aws_request	*req;
	char			*cause = NULL;

	parse(&p,
"custom = (\n"
"  { name = \"make-user\"; summary = \"really creates a user\";\n"
"    allow_live = true;\n"
"    steps = ( { service = \"iam\"; action = \"CreateUser\";\n"
"                params = { UserName = \"cloudsaga-{run_id}\"; };\n"
"                safety = \"live\"; } );\n"
"  }\n"
");\n");
	if (p.list == NULL)
		fail_msg("%s", p.cause);
	req = custom_step_request(&p.list[0]->steps[0], "us-east-1", RUN_ID);
	/* The client still needs its own switch. */
	assert_int_equal(aws_safety_check(req, 0, &cause), -1);
	assert_non_null(strstr(cause, "live"));
	free(cause);
	cause = NULL;
	assert_int_equal(aws_safety_check(req, 1, &cause), 0);
	aws_request_free(req);
	parsed_free(&p);
}

static void
test_subst(void **state)
{
	char	*s, *cause = NULL;

	s = custom_subst("a-{run_id}-{region}-{}-{X}-{{run_id}}", "R", "eu",
	    &cause);
	assert_string_equal(s, "a-R-eu-{}-{X}-{R}");
	free(s);
	s = custom_subst("{\"Version\": \"2012\"}", "R", "eu", &cause);
	assert_string_equal(s, "{\"Version\": \"2012\"}");
	free(s);
	assert_null(custom_subst("x{runid}", "R", "eu", &cause));
	assert_string_equal(cause, "unknown placeholder {runid} (known: "
	    "{run_id}, {region})");
	free(cause);
}

/* ---- refusals: one per rule, each with its line ------------------------ */

#define HEAD	"custom = (\n  { name = \"x\"; summary = \"s\";\n    steps = (\n"
#define TAIL	"    );\n  }\n);\n"

static void
test_err_unknown_service(void **state)
{
	expect_error(HEAD
"      { service = \"ec3\"; action = \"DescribeVpcs\"; }\n" TAIL,
	    4, "unknown service \"ec3\" (known: ");
}

static void
test_err_ec2_mutating_without_dryrun(void **state)
{
	expect_error(HEAD
"      { service = \"ec2\"; action = \"CreateVpc\";\n"
"        params = { CidrBlock = \"10.0.0.0/16\"; };\n"
"        safety = \"dry-run\"; }\n" TAIL,
	    6, "refused: ec2:CreateVpc changes the account and has no "
	    "DryRun=true");
	/* Not even live lifts it. */
	expect_error("custom = (\n  { name = \"x\"; summary = \"s\"; "
	    "allow_live = true;\n    steps = (\n"
"      { service = \"ec2\"; action = \"TerminateInstances\";\n"
"        params = [ \"InstanceId.1=i-1\" ]; safety = \"live\"; }\n" TAIL,
	    5, "refused: ec2:TerminateInstances changes the account and has "
	    "no DryRun=true");
	/* Without a safety class at all. */
	expect_error(HEAD
"      { service = \"ec2\"; action = \"CreateVpc\"; }\n" TAIL,
	    4, "ec2:CreateVpc changes the account: state its safety class");
}

static void
test_err_live_without_switch(void **state)
{
	expect_error(HEAD
"      { service = \"iam\"; action = \"CreateUser\";\n"
"        params = { UserName = \"u\"; };\n"
"        safety = \"live\"; }\n" TAIL,
	    6, "live step iam:CreateUser changes the account: it needs "
	    "allow_live = true in scenario \"x\"");
}

static void
test_err_safe_fail_without_run_id(void **state)
{
	expect_error(HEAD
"      { service = \"cloudtrail\"; action = \"DeleteTrail\";\n"
"        params = { Name = \"prod-trail\"; };\n"
"        safety = \"safe-fail\";\n"
"        expect_error = \"TrailNotFoundException\"; }\n" TAIL,
	    6, "refused: safe-fail call cloudtrail:DeleteTrail does not name "
	    "a target containing the run ID: put the run ID ({run_id}) in "
	    "Name, which must already exist (e.g. Name = "
	    "\"cloudsaga-{run_id}\")");
	expect_error(HEAD
"      { service = \"cloudtrail\"; action = \"DeleteTrail\";\n"
"        params = { Name = \"t-{run_id}\"; };\n"
"        safety = \"safe-fail\"; }\n" TAIL,
	    6, "needs expect_error");
}

/*
 * Safe-fail only through a reference that must already exist: a create
 * call whose run ID is the name it would create is refused (it would
 * create it), with what to do instead; the boundary form is accepted; an
 * action outside the engine's table cannot be safe-fail at all.
 */
static void
test_err_safe_fail_reference(void **state)
{
	struct parsed	 p;

	expect_error(HEAD
"      { service = \"iam\"; action = \"CreateUser\";\n"
"        params = { UserName = \"cloudsaga-{run_id}\"; };\n"
"        safety = \"safe-fail\"; expect_error = \"NoSuchEntity\"; }\n"
	    TAIL, 6, "refused: safe-fail call iam:CreateUser has the run ID in "
	    "UserName, which names what the call would act on or create, not "
	    "a resource it needs: it would not fail.  Put the run ID "
	    "({run_id}) in PermissionsBoundary, which must already exist "
	    "(e.g. PermissionsBoundary = "
	    "\"arn:aws:iam::aws:policy/cloudsaga-{run_id}\")");
	expect_error(HEAD
"      { service = \"iam\"; action = \"CreateRole\";\n"
"        params = { RoleName = \"cloudsaga-{run_id}\";\n"
"          AssumeRolePolicyDocument = \"{}\"; };\n"
"        safety = \"safe-fail\"; expect_error = \"NoSuchEntity\"; }\n"
	    TAIL, 7, "Put the run ID ({run_id}) in PermissionsBoundary");
	expect_error(HEAD
"      { service = \"iam\"; action = \"CreateGroup\";\n"
"        params = { GroupName = \"cloudsaga-{run_id}\"; };\n"
"        safety = \"safe-fail\"; expect_error = \"NoSuchEntity\"; }\n"
	    TAIL, 6, "refused: iam:CreateGroup cannot be safe-fail: it is not "
	    "in the engine's safe-fail table");
	parse(&p, HEAD
"      { service = \"iam\"; action = \"CreateUser\";\n"
"        params = { UserName = \"cloudsaga-{run_id}\";\n"
"          PermissionsBoundary = "
	    "\"arn:aws:iam::aws:policy/cloudsaga-{run_id}\"; };\n"
"        safety = \"safe-fail\"; expect_error = \"NoSuchEntity\"; },\n"
"      { service = \"iam\"; action = \"AttachUserPolicy\";\n"
"        params = { UserName = \"cloudsaga-{run_id}\";\n"
"          PolicyArn = \"arn:aws:iam::aws:policy/AdministratorAccess\"; };\n"
"        safety = \"safe-fail\"; expect_error = \"NoSuchEntity\"; }\n"
	    TAIL);
	if (p.list == NULL)
		fail_msg("refused: %s", p.cause);
	parsed_free(&p);
}

/* An action the service does not have is answered InvalidAction and
 * never recorded: refused at load time. */
static void
test_err_unknown_action(void **state)
{
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcz\"; }\n" TAIL,
	    4, "ec2 has no action \"DescribeVpcz\"");
	expect_error(HEAD
"      { service = \"cloudtrail\"; action = \"LookupEvent\"; }\n" TAIL,
	    4, "cloudtrail has no action \"LookupEvent\"");
	assert_int_equal(aws_action_known(aws_service_find("ec2"),
	    "DescribeVpcs"), 1);
	assert_int_equal(aws_action_known(aws_service_find("iam"),
	    "CreateUser"), 1);
	assert_int_equal(aws_action_known(aws_service_find("s3"),
	    "PutPublicAccessBlock"), 1);
	assert_int_equal(aws_action_known(aws_service_find("ec2"),
	    "describevpcs"), 0);
}

static void
test_err_placeholder(void **state)
{
	expect_error(HEAD
"      { service = \"cloudtrail\"; action = \"DeleteTrail\";\n"
"        params = { Name = \"t-{runid}\"; };\n"
"        safety = \"safe-fail\"; expect_error = \"X\"; }\n" TAIL,
	    5, "unknown placeholder {runid}");
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        params = [ \"VpcId.1={vpc}\" ]; }\n" TAIL,
	    5, "parameter \"VpcId.1\": unknown placeholder {vpc}");
}

static void
test_err_keys(void **state)
{
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        regoins = \"all\"; }\n" TAIL,
	    5, "unknown key \"regoins\" in step (known: service, action, "
	    "params, regions, safety, expect_error, role, evidence)");
	expect_error("custom = (\n  { name = \"x\"; summary = \"s\";\n"
	    "    stpes = ();\n  }\n);\n",
	    3, "unknown key \"stpes\" in custom scenario");
	expect_error(HEAD
"      { action = \"DescribeVpcs\"; }\n" TAIL,
	    4, "step needs \"service\"");
	expect_error("custom = (\n  { name = \"x\"; summary = \"s\";\n"
	    "    steps = ();\n  }\n);\n",
	    3, "custom scenario \"x\" needs steps");
}

static void
test_err_safety_classes(void **state)
{
	expect_error(HEAD
"      { service = \"iam\"; action = \"DeleteUser\";\n"
"        params = { UserName = \"u-{run_id}\"; };\n"
"        safety = \"read-only\"; }\n" TAIL,
	    6, "iam:DeleteUser is declared read-only but is not a read-only action");
	expect_error(HEAD
"      { service = \"iam\"; action = \"DeleteUser\";\n"
"        params = { UserName = \"u-{run_id}\"; DryRun = true; };\n"
"        safety = \"dry-run\"; }\n" TAIL,
	    4, "DryRun is an EC2 parameter");
	expect_error(HEAD
"      { service = \"iam\"; action = \"DeleteUser\";\n"
"        params = { UserName = \"u-{run_id}\"; }; }\n" TAIL,
	    4, "iam:DeleteUser changes the account: state its safety class");
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        safety = \"careful\"; }\n" TAIL,
	    5, "safety must be \"read-only\", \"dry-run\", \"safe-fail\" or "
	    "\"live\"");
}

static void
test_err_regions(void **state)
{
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        regions = [ \"eu-west-1\", \"Europe\" ]; }\n" TAIL,
	    5, "bad region name \"Europe\"");
	expect_error(HEAD
"      { service = \"iam\"; action = \"ListUsers\"; regions = \"all\"; }\n"
	    TAIL, 4, "iam is a global service: regions must be \"global\"");
	/* A single region name is refused as a list of one would be. */
	expect_error(HEAD
"      { service = \"iam\"; action = \"ListUsers\"; regions = \"eu-west-1\"; }\n"
	    TAIL, 4, "iam is a global service: regions must be \"global\"");
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        regions = \"everywhere\"; }\n" TAIL,
	    5, "regions must be \"all\", \"global\" or a list");
}

static void
test_err_names(void **state)
{
	expect_error("custom = (\n  { name = \"network-changes\"; "
	    "summary = \"s\";\n    steps = ( { service = \"ec2\"; "
	    "action = \"DescribeVpcs\"; } );\n  }\n);\n",
	    2, "\"network-changes\" is a built-in scenario");
	expect_error("custom = (\n  { name = \"My Scenario\"; "
	    "summary = \"s\";\n    steps = ( { service = \"ec2\"; "
	    "action = \"DescribeVpcs\"; } );\n  }\n);\n",
	    2, "bad scenario name \"My Scenario\"");
	expect_error("custom = (\n"
	    "  { name = \"a\"; summary = \"s\"; steps = ( { service = \"ec2\";"
	    " action = \"DescribeVpcs\"; } ); },\n"
	    "  { name = \"a\"; summary = \"t\"; steps = ( { service = \"ec2\";"
	    " action = \"DescribeVpcs\"; } ); }\n);\n",
	    3, "duplicate scenario \"a\" (first at line 2)");
	expect_error(HEAD
"      { service = \"ec2\"; action = \"describe-vpcs\"; }\n" TAIL,
	    4, "\"describe-vpcs\" is not an action name");
}

static void
test_err_params(void **state)
{
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        params = { Filter = { Name = \"x\"; }; }; }\n" TAIL,
	    5, "\"Filter\" is not a scalar");
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        params = [ \"MaxResults\" ]; }\n" TAIL,
	    5, "params entry \"MaxResults\" is not \"Key=Value\"");
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        params = [ \"MaxResults=5\", \"MaxResults=6\" ]; }\n" TAIL,
	    5, "parameter \"MaxResults\" given twice");
	expect_error(HEAD
"      { service = \"ssm\"; action = \"GetParameter\";\n"
"        params = \"{not json\"; }\n" TAIL,
	    5, "params is not valid JSON");
	expect_error(HEAD
"      { service = \"ssm\"; action = \"GetParameter\";\n"
"        params = [ 1, 2 ]; }\n" TAIL,
	    5, "must be a group or a string holding a JSON object");
}

static void
test_err_mitre(void **state)
{
	expect_error("custom = (\n  { name = \"x\"; summary = \"s\";\n"
	    "    mitre = [ \"T1562.008\", \"Impair\" ];\n"
	    "    steps = ( { service = \"ec2\"; action = \"DescribeVpcs\"; } );"
	    "\n  }\n);\n", 3, "mitre entries are technique IDs");
}

/*
 * role and evidence: parsed with aws_role_parse/aws_evidence_parse, carried
 * into the request the step sends; absent, the defaults (role resolved
 * from the action, evidence documented); a bad value is an error at its
 * line, reported with every other error of the snippet.
 */
static void
test_role_evidence(void **state)
{
	struct parsed			 p;
	const struct custom_scenario	*cs;
	struct aws_request		*req;

	parse(&p,
"custom = (\n"
"  { name = \"roles\"; summary = \"s\";\n"
"    steps = (\n"
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        role = \"signal\"; evidence = \"assumed\"; },\n"
"      { service = \"ec2\"; action = \"DescribeSubnets\"; }\n"
"    );\n"
"  }\n"
");\n");
	if (p.list == NULL)
		fail_msg("%s", p.cause);
	cs = custom_find(p.list, "roles");
	assert_non_null(cs);
	assert_int_equal(cs->steps[0].role, AWS_ROLE_SIGNAL);
	assert_int_equal(cs->steps[0].evidence, AWS_EVIDENCE_ASSUMED);
	req = custom_step_request(&cs->steps[0], "eu-west-1", RUN_ID);
	assert_int_equal(req->role, AWS_ROLE_SIGNAL);
	assert_int_equal(req->evidence, AWS_EVIDENCE_ASSUMED);
	assert_int_equal(aws_role_resolve(req), AWS_ROLE_SIGNAL);
	aws_request_free(req);
	req = custom_step_request(&cs->steps[1], "eu-west-1", RUN_ID);
	assert_int_equal(req->role, AWS_ROLE_DEFAULT);
	assert_int_equal(aws_role_resolve(req), AWS_ROLE_CONTEXT);
	assert_int_equal(req->evidence, AWS_EVIDENCE_DOCUMENTED);
	aws_request_free(req);
	parsed_free(&p);

	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        role = \"alarm\"; }\n" TAIL,
	    5, "role must be \"signal\" or \"context\"");
	expect_error(HEAD
"      { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"        evidence = 3; }\n" TAIL,
	    5, "evidence must be \"documented\", \"observed\" or "
	    "\"assumed\"");
}

/* Every error of every step and scenario at once, each at its line. */
static void
test_every_error(void **state)
{
	const char	*text = "custom = (\n"
"  { name = \"a\"; summary = \"s\";\n"
"    steps = (\n"
"      { service = \"ec3\"; action = \"DescribeVpcs\"; },\n"
"      { service = \"ec2\"; action = \"DescribeVpcz\";\n"
"        role = \"alarm\"; }\n"
"    );\n"
"  },\n"
"  { name = \"b\"; summary = \"s\";\n"
"    steps = ( { service = \"iam\"; action = \"ListUsers\";\n"
"                regions = \"all\"; } );\n"
"  },\n"
"  { name = \"a\"; summary = \"s\";\n"
"    steps = ( { service = \"ec2\"; action = \"DescribeVpcs\"; } ); }\n"
");\n";

	expect_error(text, 4, "unknown service \"ec3\"");
	expect_error(text, 5, "ec2 has no action \"DescribeVpcz\"");
	expect_error(text, 6, "role must be");
	expect_error(text, 11, "iam is a global service");
	/* The first "a" has errors: the second is still a duplicate. */
	expect_error(text, 13, "duplicate scenario \"a\" (first at line 2)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_safe_fail_every_region),
		cmocka_unit_test(test_ec2_dry_run_list_params),
		cmocka_unit_test(test_global_and_json_string),
		cmocka_unit_test(test_live_with_switch),
		cmocka_unit_test(test_subst),
		cmocka_unit_test(test_err_unknown_service),
		cmocka_unit_test(test_err_ec2_mutating_without_dryrun),
		cmocka_unit_test(test_err_live_without_switch),
		cmocka_unit_test(test_err_safe_fail_without_run_id),
		cmocka_unit_test(test_err_safe_fail_reference),
		cmocka_unit_test(test_err_unknown_action),
		cmocka_unit_test(test_err_placeholder),
		cmocka_unit_test(test_err_keys),
		cmocka_unit_test(test_err_safety_classes),
		cmocka_unit_test(test_err_regions),
		cmocka_unit_test(test_err_names),
		cmocka_unit_test(test_err_params),
		cmocka_unit_test(test_err_mitre),
		cmocka_unit_test(test_role_evidence),
		cmocka_unit_test(test_every_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
