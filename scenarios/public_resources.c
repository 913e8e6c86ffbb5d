/*
 * public-resources: public databases and buckets (CloudSaga chapter).
 *
 *   every region:   rds:DescribeDBInstances (paginated, Marker); each
 *                   PubliclyAccessible instance is a posture finding
 *   home region:    sts:GetCallerIdentity, s3:ListBuckets (read-only)
 *                   rds:CreateDBInstance PubliclyAccessible=true into the
 *                   DB subnet group "cloudsaga-<runid>" (safe-fail:
 *                   DBSubnetGroupNotFoundFault)
 *   once the account ID is known:
 *                   s3:PutPublicAccessBlock (all four blocks off) and
 *                   s3:DeletePublicAccessBlock on the bucket
 *                   "cloudsaga-<account>-<runid>" (safe-fail: NoSuchBucket)
 *
 * CloudSaga really created the database and the bucket (and left the
 * bucket behind), with different bucket names for the create and the
 * public-access-block calls.  Here every target carries the run ID, so the
 * calls fail server-side and change nothing; whether such failed attempts
 * reach CloudTrail is what the daemon measures.  The bucket name is
 * "cloudsaga-" + 12-digit account + "-" + 32-hex run ID = 55 characters,
 * within S3's 63, lowercase, and contains the full run ID (the client's
 * safe-fail check).
 */
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "builtin.h"
#include "scenario.h"
#include "xmalloc.h"

struct pr_state {
	struct region_scan	*rs;
	struct run_group	*all;
	int			 identity_failed;
};

static void
pr_region_end(struct run *run, void *arg)
{
	scan_region_done(arg);
}

static void
pr_db_page(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	struct region_scan	*rs = arg;
	json_t			*dbs, *list, *db;
	const char		*id, *pub, *engine, *host;
	char			*detail;
	size_t			 i;

	if (res->outcome != AWS_OK) {
		scen_region_failed(rs, req, res, "DB instance listing");
		return;
	}
	/* <DBInstances><DBInstance>..</DBInstance>...: an array, or an
	 * object holding one or more DBInstance. */
	dbs = aws_json_path(res->data, "DBInstances");
	if (dbs != NULL && json_is_object(dbs) &&
	    json_object_get(dbs, "DBInstance") != NULL)
		dbs = json_object_get(dbs, "DBInstance");
	list = aws_json_list(dbs);
	json_array_foreach(list, i, db) {
		id = aws_json_str(db, "DBInstanceIdentifier");
		pub = aws_json_str(db, "PubliclyAccessible");
		if (id == NULL || pub == NULL || strcmp(pub, "true") != 0)
			continue;
		engine = aws_json_str(db, "Engine");
		host = aws_json_str(db, "Endpoint.Address");
		detail = xprintf("publicly accessible%s%s%s%s",
		    engine ? " " : "", engine ? engine : "",
		    host ? " at " : "", host ? host : "");
		run_finding(run, rs->region, "public-db-instance", id, detail);
		free(detail);
	}
	json_decref(list);
}

static void
pr_identity(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	struct pr_state	*st = run_state(run);
	const char	*acct;
	char		 why[256];
	size_t		 i;

	acct = res->outcome == AWS_OK ? aws_json_str(res->data, "Account") :
	    NULL;
	for (i = 0; acct != NULL && acct[i] != '\0'; i++)
		if (acct[i] < '0' || acct[i] > '9')
			break;
	if (acct == NULL || i != 12 || acct[i] != '\0') {
		st->identity_failed = 1;
		run_error(run, NULL, "sts:GetCallerIdentity %s: the bucket "
		    "name needs the account ID", res->outcome == AWS_OK ?
		    "answered no 12-digit account" : scen_failure(res, why,
		    sizeof(why)));
		return;
	}
	run_set_account_id(run, acct);
}

static void
pr_s3_done(struct run *run, void *arg)
{
	struct pr_state	*st = run_state(run);

	run_group_release(st->all);
}

static void
pr_account_done(struct run *run, void *arg)
{
	struct pr_state		*st = run_state(run);
	struct run_group	*g;
	struct aws_request	*req;
	json_t			*cfg;
	char			*bucket;
	const char		*home = run_home_region(run);

	if (st->identity_failed || run_account_id(run) == NULL) {
		run_skip(run, "s3", "PutPublicAccessBlock", home, NULL, 0,
		    "account ID unknown");
		run_skip(run, "s3", "DeletePublicAccessBlock", home, NULL, 0,
		    "account ID unknown");
		run_group_release(st->all);
		return;
	}
	bucket = xprintf("cloudsaga-%s-%s", run_account_id(run), run_id(run));
	run_progress(run, home, "public bucket");
	g = run_group_new(run, pr_s3_done, NULL);

	req = run_request(run, "s3", "PutPublicAccessBlock", home,
	    AWS_SAFE_FAIL);
	req->role = AWS_ROLE_SIGNAL;
	req->evidence = AWS_EVIDENCE_ASSUMED;
	aws_request_set_str(req, "Bucket", bucket);
	cfg = json_pack("{s:b, s:b, s:b, s:b}", "BlockPublicAcls", 0,
	    "IgnorePublicAcls", 0, "BlockPublicPolicy", 0,
	    "RestrictPublicBuckets", 0);
	aws_request_set(req, "PublicAccessBlockConfiguration", cfg);
	free(req->expect_error);
	req->expect_error = xstrdup("NoSuchBucket");
	run_group_call_detail(g, req, bucket, NULL, NULL);

	req = run_request(run, "s3", "DeletePublicAccessBlock", home,
	    AWS_SAFE_FAIL);
	req->role = AWS_ROLE_SIGNAL;
	req->evidence = AWS_EVIDENCE_ASSUMED;
	aws_request_set_str(req, "Bucket", bucket);
	free(req->expect_error);
	req->expect_error = xstrdup("NoSuchBucket");
	run_group_call_detail(g, req, bucket, NULL, NULL);

	run_group_close(g);
	free(bucket);
}

static void
pr_start(struct run *run)
{
	struct pr_state		*st = run_state(run);
	struct run_group	*g;
	struct aws_request	*req;
	const char		*home = run_home_region(run);
	char			*name;
	size_t			 i, n = run_nregions(run);

	st->rs = scan_regions_new(run, &st->all);
	for (i = 0; i < n; i++) {
		g = run_group_new(run, pr_region_end, &st->rs[i]);
		req = run_request(run, "rds", "DescribeDBInstances",
		    st->rs[i].region, AWS_SAFE_READ_ONLY);
	req->role = AWS_ROLE_CONTEXT;
		aws_request_add(req, "MaxRecords", "100");
		run_group_paginate(g, req, "Marker", "Marker", pr_db_page,
		    &st->rs[i]);
		run_group_close(g);
	}

	/* The account-wide chain holds the same group as the regions. */
	run_group_hold(st->all);
	run_progress(run, home, "identity and buckets");
	g = run_group_new(run, pr_account_done, NULL);
	req = run_request(run, "sts", "GetCallerIdentity", home,
	    AWS_SAFE_READ_ONLY);
	req->role = AWS_ROLE_CONTEXT;
	run_group_call(g, req, pr_identity, NULL);
	req = run_request(run, "s3", "ListBuckets", home, AWS_SAFE_READ_ONLY);
	req->role = AWS_ROLE_CONTEXT;
	run_group_call(g, req, NULL, NULL);

	name = scen_safe_name(run);
	req = run_request(run, "rds", "CreateDBInstance", home, AWS_SAFE_FAIL);
	req->role = AWS_ROLE_SIGNAL;
	req->evidence = AWS_EVIDENCE_OBSERVED;
	aws_request_add(req, "DBInstanceIdentifier", "%s", name);
	aws_request_add(req, "DBInstanceClass", "db.t3.micro");
	aws_request_add(req, "Engine", "mysql");
	aws_request_add(req, "AllocatedStorage", "20");
	aws_request_add(req, "MasterUsername", "cloudsaga");
	/* No password on the wire: RDS would manage it in Secrets Manager. */
	aws_request_add(req, "ManageMasterUserPassword", "true");
	aws_request_add(req, "PubliclyAccessible", "true");
	aws_request_add(req, "DBSubnetGroupName", "%s", name);
	aws_request_add(req, "Tags.member.1.Key", SCEN_TAG_KEY);
	aws_request_add(req, "Tags.member.1.Value", "public-resources");
	free(req->expect_error);
	req->expect_error = xstrdup("DBSubnetGroupNotFoundFault");
	run_group_call_detail(g, req, name, NULL, NULL);
	free(name);
	run_group_close(g);

	run_group_close(st->all);
}

static void
pr_cleanup(struct run *run)
{
	struct pr_state	*st = run_state(run);

	free(st->rs);
}

static const char *const pr_services[] = { "rds", "sts", "s3", NULL };
static const char *const pr_permissions[] = {
	"ec2:DescribeRegions",
	"rds:DescribeDBInstances",
	"sts:GetCallerIdentity (no permission needed)",
	"s3:ListAllMyBuckets",
	"rds:CreateDBInstance",
	"rds:AddTagsToResource",
	"s3:PutBucketPublicAccessBlock (also for DeletePublicAccessBlock)",
	NULL
};
static const char *const pr_mitre[] = {
	"T1530 Data from Cloud Storage",
	"T1619 Cloud Storage Object Discovery",
	"T1578 Modify Cloud Compute Infrastructure",
	NULL
};
static const char *const pr_calls[] = {
	"ec2:DescribeRegions (read-only, once: the enabled regions)",
	"rds:DescribeDBInstances (read-only, every region, paginated)",
	"sts:GetCallerIdentity (read-only, home region)",
	"s3:ListBuckets (read-only, home region)",
	"rds:CreateDBInstance PubliclyAccessible=true in DB subnet group "
	    "cloudsaga-<runid> (safe-fail: DBSubnetGroupNotFoundFault, home "
	    "region)",
	"s3:PutPublicAccessBlock all blocks off on bucket "
	    "cloudsaga-<account>-<runid> (safe-fail: NoSuchBucket, home region)",
	"s3:DeletePublicAccessBlock on the same bucket (safe-fail: "
	    "NoSuchBucket, home region)",
	NULL
};

static const struct scenario_call_info pr_call_info[] = {
	{ "ec2", "DescribeRegions", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "home region, once", NULL, NULL },
	{ "rds", "DescribeDBInstances", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "every region", NULL, NULL },
	{ "sts", "GetCallerIdentity", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-glob",
	    "home region, once", NULL, NULL },
	{ "s3", "ListBuckets", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "S3-ct",
	    "home region, once",
	    NULL, "s3:ListAllMyBuckets" },
	{ "rds", "CreateDBInstance", AWS_SAFE_FAIL,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_OBSERVED, "CT-rec",
	    "home region, once",
	    "DB subnet group cloudsaga-<runid>", NULL },
	{ "s3", "PutPublicAccessBlock", AWS_SAFE_FAIL,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_ASSUMED, "S3-ct",
	    "home region, once",
	    "cloudsaga-<account>-<runid>",
	    "s3:PutBucketPublicAccessBlock" },
	{ "s3", "DeletePublicAccessBlock", AWS_SAFE_FAIL,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_ASSUMED, "S3-ct",
	    "home region, once",
	    "cloudsaga-<account>-<runid>",
	    "s3:PutBucketPublicAccessBlock" },
	{ NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL },
};

const struct scenario_def scenario_public_resources = {
	.name = "public-resources",
	.summary = "public databases and buckets: posture check plus "
	    "safe-fail exposure attempts",
	.description =
"Making data public is the shortest way out of an account: a database\n"
"reachable from the internet, a bucket whose public access block is gone.\n"
"\n"
"In every enabled region the RDS instances are listed and each publicly\n"
"accessible one is reported as a finding.  In the home region the caller's\n"
"identity and the bucket list are read.  Then the exposure attempts are\n"
"made safe-fail: CreateDBInstance with PubliclyAccessible=true into a DB\n"
"subnet group named after the run, and Put/DeletePublicAccessBlock on a\n"
"bucket named cloudsaga-<account>-<runid>.  Neither target can exist, so\n"
"the calls fail server-side and change nothing; whether such failed\n"
"attempts reach CloudTrail is what the daemon verifies.",
	.services = pr_services,
	.permissions = pr_permissions,
	.mitre = pr_mitre,
	.calls = pr_calls,
	.start = pr_start,
	.state_size = sizeof(struct pr_state),
	.cleanup = pr_cleanup,
	.needs_regions = 1,
	.tactic = "Discovery",
	.tactic_id = "TA0007",
	.call_info = pr_call_info,
};
