/*
 * The scenario registry, expectations built from answered calls, outcome
 * classes, deterministic call order and the --scenario table.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "aws.h"
#include "cli.h"
#include "scenario.h"
#include "xmalloc.h"

static const char *const expected_names[] = {
	"cloudtrail-tampering", "iam-credentials", "imds-reveal",
	"mining-bitcoin", "network-changes", "public-resources", NULL
};

static void
test_registry_names_sorted(void **state)
{
	const struct scenario_def	*d = scenario_builtins();
	size_t				 i;

	/* CloudSaga's five and cloudtrail-tampering, among the catalogue's
	 * techniques (#11): at least 30 in all, sorted, unique. */
	for (i = 0; expected_names[i] != NULL; i++)
		assert_non_null(scenario_find(expected_names[i]));
	for (i = 0; d[i].name != NULL; i++)
		if (i > 0)
			assert_true(strcmp(d[i - 1].name, d[i].name) < 0);
	assert_true(i >= 30);
}

static size_t
strv_len(const char *const *v)
{
	size_t	 n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

static void
test_registry_complete(void **state)
{
	const struct scenario_def	*d;
	const char			*p;
	char				 id[32];
	size_t				 i, j;

	for (d = scenario_builtins(); d->name != NULL; d++) {
		assert_non_null(d->summary);
		assert_null(strchr(d->summary, '\n'));
		assert_true(strlen(d->summary) < 100);
		assert_true(strlen(d->description) > 100);
		assert_true(strv_len(d->services) >= 1);
		assert_true(strv_len(d->permissions) >= 1);
		assert_true(strv_len(d->mitre) >= 1);
		assert_true(strv_len(d->calls) >= 1);
		assert_non_null(d->start);
		for (i = 0; d->permissions[i] != NULL; i++) {
			/* "svc:Action", lower-case service. */
			p = strchr(d->permissions[i], ':');
			assert_non_null(p);
			for (j = 0; d->permissions[i] + j < p; j++)
				assert_true(islower((unsigned char)
				    d->permissions[i][j]) || isdigit(
				    (unsigned char)d->permissions[i][j]) ||
				    d->permissions[i][j] == '-');
			assert_true(isupper((unsigned char)p[1]));
		}
		for (i = 0; d->mitre[i] != NULL; i++) {
			scenario_mitre_id(d->mitre[i], id, sizeof(id));
			assert_int_equal(id[0], 'T');
			assert_true(strlen(id) == 5 || (strlen(id) == 9 &&
			    id[5] == '.'));
			for (j = 1; id[j] != '\0'; j++)
				assert_true(isdigit((unsigned char)id[j]) ||
				    j == 5);
		}
		/* Every region fan-out discovers regions first. */
		if (d->needs_regions)
			assert_string_equal(d->permissions[0],
			    "ec2:DescribeRegions");
		/* The catalogue's fields (#11). */
		assert_non_null(d->tactic);
		assert_non_null(d->tactic_id);
		assert_true(strncmp(d->tactic_id, "TA00", 4) == 0);
		assert_non_null(d->call_info);
		for (i = 0; d->call_info[i].service != NULL; i++) {
			assert_non_null(aws_service_find(
			    d->call_info[i].service));
			assert_true(d->call_info[i].role == AWS_ROLE_SIGNAL ||
			    d->call_info[i].role == AWS_ROLE_CONTEXT);
			assert_non_null(d->call_info[i].where);
			assert_true(d->call_info[i].safety !=
			    AWS_SAFE_AUTO && d->call_info[i].safety !=
			    AWS_SAFE_LIVE);
		}
		assert_true(i >= 1);
		for (i = 0; d->stratus != NULL && d->stratus[i] != NULL; i++)
			assert_true(strncmp(d->stratus[i], "aws.", 4) == 0);
	}
	assert_false(scenario_find("iam-credentials")->needs_regions);
	assert_true(scenario_find("network-changes")->needs_regions);
}

static void
test_registry_find(void **state)
{
	assert_non_null(scenario_find("network-changes"));
	assert_string_equal(scenario_find("imds-reveal")->name, "imds-reveal");
	assert_null(scenario_find("network_changes"));
	assert_null(scenario_find(""));
	assert_null(scenario_find(NULL));
	assert_null(scenario_find("Network-Changes"));
}

static void
test_registry_mitre(void **state)
{
	const struct scenario_def	*d;
	char				 id[32];
	int				 found = 0;
	size_t				 i;

	d = scenario_find("cloudtrail-tampering");
	for (i = 0; d->mitre[i] != NULL; i++) {
		scenario_mitre_id(d->mitre[i], id, sizeof(id));
		if (strcmp(id, "T1562.008") == 0)
			found = 1;
	}
	assert_true(found);
}

/* ---- expectations ------------------------------------------------------- */

static struct aws_request *
req_new(const char *svc, const char *action, const char *region)
{
	struct aws_request	*req;

	req = aws_request_new(aws_service_find(svc), action, region);
	free(req->run_id);
	req->run_id = xstrdup("0123456789abcdef0123456789abcdef");
	return req;
}

static void
res_set(struct aws_result *res, enum aws_outcome o, long status,
    const char *code)
{
	aws_result_init(res);
	res->outcome = o;
	res->status = status;
	res->error_code = code ? xstrdup(code) : NULL;
	res->request_id = xstrdup("req-1");
	res->access_key_id = xstrdup("AKIDEXAMPLETESTKEY00");
	res->user_agent = xstrdup("cloudsagad/0.1.0 run/0123");
	res->fired_at = 1700000000.5;
}

static void
test_expect_dryrun(void **state)
{
	struct aws_request	*req = req_new("ec2", "CreateVpc", "eu-west-1");
	struct aws_result	 res;
	struct expectation	*e, *d;

	res_set(&res, AWS_PERMITTED, 412, "DryRunOperation");
	e = expectation_for(req, &res);
	assert_non_null(e);
	assert_string_equal(e->event_source, "ec2.amazonaws.com");
	assert_string_equal(e->event_name, "CreateVpc");
	assert_string_equal(e->region, "eu-west-1");
	assert_string_equal(e->call_region, "eu-west-1");
	assert_string_equal(e->error_code, "Client.DryRunOperation");
	assert_string_equal(e->request_id, "req-1");
	assert_string_equal(e->access_key_id, "AKIDEXAMPLETESTKEY00");
	assert_string_equal(e->run_id, "0123456789abcdef0123456789abcdef");
	assert_false(e->read_only);
	assert_true(e->fired_at == 1700000000.5);
	d = expectation_dup(e);
	assert_string_equal(d->error_code, "Client.DryRunOperation");
	assert_string_equal(d->user_agent, e->user_agent);
	expectation_free(d);
	expectation_free(e);
	aws_result_clear(&res);

	/* Denied: still an event, with CloudTrail's prefix. */
	res_set(&res, AWS_DENIED, 403, "UnauthorizedOperation");
	e = expectation_for(req, &res);
	assert_string_equal(e->error_code, "Client.UnauthorizedOperation");
	expectation_free(e);
	aws_result_clear(&res);
	aws_request_free(req);
}

static void
test_expect_global_and_ok(void **state)
{
	struct aws_request	*req;
	struct aws_result	 res;
	struct expectation	*e;

	req = req_new("iam", "GenerateCredentialReport", "eu-west-1");
	res_set(&res, AWS_OK, 200, NULL);
	e = expectation_for(req, &res);
	assert_non_null(e);
	assert_string_equal(e->region, "us-east-1");
	assert_string_equal(e->call_region, "eu-west-1");
	assert_string_equal(e->event_source, "iam.amazonaws.com");
	assert_null(e->error_code);
	expectation_free(e);
	aws_result_clear(&res);
	aws_request_free(req);

	req = req_new("ec2", "DescribeInstances", "ap-south-1");
	res_set(&res, AWS_OK, 200, NULL);
	e = expectation_for(req, &res);
	assert_true(e->read_only);
	assert_string_equal(e->region, "ap-south-1");
	expectation_free(e);
	aws_result_clear(&res);
	aws_request_free(req);

	/* Safe-fail answered with the expected error. */
	req = req_new("cloudtrail", "StopLogging", "eu-west-1");
	res_set(&res, AWS_PERMITTED, 400, "TrailNotFoundException");
	e = expectation_for(req, &res);
	assert_string_equal(e->event_source, "cloudtrail.amazonaws.com");
	assert_string_equal(e->error_code, "TrailNotFoundException");
	expectation_free(e);
	aws_result_clear(&res);
	aws_request_free(req);
}

static void
test_expect_s3_names(void **state)
{
	struct aws_request	*req;
	struct aws_result	 res;
	struct expectation	*e;

	req = req_new("s3", "PutPublicAccessBlock", "eu-west-1");
	res_set(&res, AWS_PERMITTED, 404, "NoSuchBucket");
	e = expectation_for(req, &res);
	assert_string_equal(e->event_name, "PutBucketPublicAccessBlock");
	assert_string_equal(e->event_source, "s3.amazonaws.com");
	assert_string_equal(e->error_code, "NoSuchBucket");
	expectation_free(e);
	aws_result_clear(&res);
	aws_request_free(req);
	assert_string_equal(expectation_event_name(aws_service_find("s3"),
	    "DeletePublicAccessBlock"), "DeleteBucketPublicAccessBlock");
	assert_string_equal(expectation_event_name(aws_service_find("s3"),
	    "ListBuckets"), "ListBuckets");
	assert_string_equal(expectation_event_name(aws_service_find("s3"),
	    "PutBucketLifecycleConfiguration"), "PutBucketLifecycle");
	/* Only S3 and Lambda rename. */
	assert_string_equal(expectation_event_name(aws_service_find("ec2"),
	    "PutPublicAccessBlock"), "PutPublicAccessBlock");
	/* Lambda: the URI's API version, "v2" for the revised operations. */
	assert_string_equal(expectation_event_name(aws_service_find("lambda"),
	    "AddPermission"), "AddPermission20150331v2");
	assert_string_equal(expectation_event_name(aws_service_find("lambda"),
	    "UpdateFunctionCode"), "UpdateFunctionCode20150331v2");
	assert_string_equal(expectation_event_name(aws_service_find("lambda"),
	    "UpdateFunctionConfiguration"),
	    "UpdateFunctionConfiguration20150331v2");
	assert_string_equal(expectation_event_name(aws_service_find("lambda"),
	    "ListFunctions"), "ListFunctions20150331");
	/* The Bedrock runtime logs as bedrock, SES as ses. */
	assert_string_equal(aws_service_find("bedrock-runtime")->event_source,
	    "bedrock.amazonaws.com");
	assert_string_equal(aws_service_find("email")->event_source,
	    "ses.amazonaws.com");
}

static void
test_expect_none(void **state)
{
	struct aws_request	*req = req_new("ec2", "CreateVpc", "eu-west-1");
	struct aws_result	 res;

	/* Refused by the guard: never sent. */
	res_set(&res, AWS_REFUSED, 0, "SafetyGuard");
	assert_null(expectation_for(req, &res));
	aws_result_clear(&res);
	/* Region not enabled. */
	res_set(&res, AWS_REGION_OFF, 401, "AuthFailure");
	assert_null(expectation_for(req, &res));
	aws_result_clear(&res);
	res_set(&res, AWS_REGION_OFF, 401, "OptInRequired");
	assert_null(expectation_for(req, &res));
	aws_result_clear(&res);
	/* Transport failure. */
	res_set(&res, AWS_RETRYABLE, 0, NULL);
	res.http_error = HTTP_ERR_CONNECT;
	assert_null(expectation_for(req, &res));
	aws_result_clear(&res);
	/* 5xx after retries, throttled. */
	res_set(&res, AWS_RETRYABLE, 500, "InternalError");
	assert_null(expectation_for(req, &res));
	aws_result_clear(&res);
	res_set(&res, AWS_RETRYABLE, 503, "RequestLimitExceeded");
	assert_null(expectation_for(req, &res));
	aws_result_clear(&res);
	aws_request_free(req);
}

/*
 * Refused before the service handled it: CloudTrail records none of these,
 * so none may become an expectation (it would end as a false "missing").
 */
static void
test_expect_none_unhandled(void **state)
{
	static const struct {
		const char	*svc, *action;
		long		 status;
		const char	*code;
	} cases[] = {
		{ "ec2", "DescribeInstances", 401, "AuthFailure" },
		{ "iam", "GetUser", 403, "InvalidClientTokenId" },
		{ "cloudtrail", "DescribeTrails", 400,
		    "UnrecognizedClientException" },
		{ "iam", "GetUser", 403, "SignatureDoesNotMatch" },
		{ "iam", "GetUser", 403, "IncompleteSignature" },
		{ "cloudtrail", "DescribeTrails", 403,
		    "MissingAuthenticationTokenException" },
		{ "iam", "GetUser", 403, "MissingAuthenticationToken" },
		{ "s3", "ListBuckets", 403, "InvalidAccessKeyId" },
		{ "sts", "GetCallerIdentity", 403, "ExpiredToken" },
		{ "cloudtrail", "DescribeTrails", 400, "ExpiredTokenException" },
		{ "cloudtrail", "DescribeTrails", 400,
		    "InvalidSignatureException" },
		{ "ec2", "DescribeVpcz", 400, "InvalidAction" },
		{ "cloudtrail", "DescribeTrailz", 400,
		    "UnknownOperationException" },
		{ "events", "ListRules", 400, "SerializationException" },
		{ "iam", "GetUser", 404, "MalformedQueryString" },
	};
	struct aws_request	*req;
	struct aws_result	 res;
	size_t			 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req = req_new(cases[i].svc, cases[i].action, "us-east-1");
		res_set(&res, aws_classify(req, cases[i].status,
		    cases[i].code), cases[i].status, cases[i].code);
		assert_int_not_equal(res.outcome, AWS_PERMITTED);
		assert_int_not_equal(res.outcome, AWS_OK);
		assert_int_equal(aws_record_of(req, &res),
		    AWS_RECORD_UNHANDLED);
		if (expectation_for(req, &res) != NULL)
			fail_msg("%s: an expectation for a call CloudTrail "
			    "cannot have recorded", cases[i].code);
		aws_result_clear(&res);
		aws_request_free(req);
	}
	/* What the service handled stays an expectation: its own errors,
	 * denials, validation. */
	req = req_new("iam", "AttachUserPolicy", "us-east-1");
	res_set(&res, AWS_PERMITTED, 404, "NoSuchEntity");
	assert_int_equal(aws_record_of(req, &res), AWS_RECORD_HANDLED);
	aws_result_clear(&res);
	res_set(&res, AWS_DENIED, 403, "AccessDenied");
	assert_int_equal(aws_record_of(req, &res), AWS_RECORD_HANDLED);
	aws_result_clear(&res);
	res_set(&res, AWS_ERROR, 400, "ValidationError");
	assert_int_equal(aws_record_of(req, &res), AWS_RECORD_HANDLED);
	aws_result_clear(&res);
	res_set(&res, AWS_RETRYABLE, 400, "Throttling");
	assert_int_equal(aws_record_of(req, &res), AWS_RECORD_UNCERTAIN);
	aws_result_clear(&res);
	res_set(&res, AWS_ERROR, 0, "HttpConnectError");
	assert_int_equal(aws_record_of(req, &res), AWS_RECORD_NOT_SENT);
	aws_result_clear(&res);
	aws_request_free(req);
}

/* The deadline and the window follow the attempt that answered. */
static void
test_expect_final_attempt(void **state)
{
	struct aws_request	*req = req_new("ec2", "DescribeInstances",
				    "us-east-1");
	struct aws_result	 res;
	struct expectation	*e;

	res_set(&res, AWS_OK, 200, NULL);
	res.fired_at = 1700000000;
	res.sent_at = 1700000090;	/* third attempt, 90 s later */
	res.sent_mono = 5000;
	e = expectation_for(req, &res);
	assert_true(e->fired_at == 1700000090);
	assert_true(e->fired_mono == 5000);
	expectation_free(e);
	aws_result_clear(&res);
	aws_request_free(req);
}

static void
test_outcome_classes(void **state)
{
	assert_int_equal(run_call_outcome_of(AWS_OK), RUN_PERMITTED);
	assert_int_equal(run_call_outcome_of(AWS_PERMITTED), RUN_PERMITTED);
	assert_int_equal(run_call_outcome_of(AWS_DENIED), RUN_DENIED);
	assert_int_equal(run_call_outcome_of(AWS_REGION_OFF), RUN_SKIPPED);
	assert_int_equal(run_call_outcome_of(AWS_REFUSED), RUN_SKIPPED);
	assert_int_equal(run_call_outcome_of(AWS_RETRYABLE), RUN_ERROR);
	assert_int_equal(run_call_outcome_of(AWS_ERROR), RUN_ERROR);
	assert_int_equal(run_call_outcome_of(AWS_UNSAFE), RUN_ERROR);
	assert_string_equal(run_call_outcome_name(RUN_PERMITTED), "permitted");
	assert_string_equal(run_call_outcome_name(RUN_DENIED), "denied");
	assert_string_equal(run_call_outcome_name(RUN_SKIPPED), "skipped");
	assert_string_equal(run_call_outcome_name(RUN_ERROR), "error");
}

/* ---- order and the table ------------------------------------------------ */

static struct run_call
mkcall(const char *region, const char *svc, const char *action, unsigned seq,
    int global, enum run_call_outcome o, const char *code, long status,
    const char *detail, const char *note)
{
	struct run_call	 c;

	memset(&c, 0, sizeof(c));
	c.region = region;
	c.service = svc;
	c.action = action;
	c.seq = seq;
	c.global = global;
	c.outcome = o;
	c.error_code = code;
	c.status = status;
	c.detail = detail;
	c.note = note;
	return c;
}

static void
test_calls_sort(void **state)
{
	struct run_call		 c[6];
	const struct run_call	*v[6];
	size_t			 i;

	c[0] = mkcall("us-east-1", "ec2", "CreateVpc", 9, 0, RUN_PERMITTED,
	    NULL, 0, NULL, NULL);
	c[1] = mkcall("eu-west-1", "ec2", "DescribeVpcs", 7, 0, RUN_PERMITTED,
	    NULL, 0, NULL, NULL);
	c[2] = mkcall("us-east-1", "iam", "GetCredentialReport", 8, 1,
	    RUN_PERMITTED, NULL, 0, NULL, NULL);
	c[3] = mkcall("eu-west-1", "ec2", "DescribeInstances", 2, 0,
	    RUN_PERMITTED, NULL, 0, NULL, NULL);
	c[4] = mkcall("us-east-1", "ec2", "DescribeInstances", 1, 0,
	    RUN_PERMITTED, NULL, 0, NULL, NULL);
	c[5] = mkcall("ap-south-1", "ec2", "DescribeInstances", 3, 0,
	    RUN_PERMITTED, NULL, 0, NULL, NULL);
	for (i = 0; i < 6; i++)
		v[i] = &c[i];
	run_calls_sort(v, 6);
	assert_ptr_equal(v[0], &c[2]);		/* global first */
	assert_ptr_equal(v[1], &c[5]);		/* ap-south-1 */
	assert_ptr_equal(v[2], &c[3]);		/* eu-west-1, seq 2 */
	assert_ptr_equal(v[3], &c[1]);		/* eu-west-1, seq 7 */
	assert_ptr_equal(v[4], &c[4]);		/* us-east-1, seq 1 */
	assert_ptr_equal(v[5], &c[0]);		/* us-east-1, seq 9 */
}

static char *
table_of(const struct run_call *const *v, size_t n)
{
	FILE	*f = tmpfile();
	char	*buf;
	long	 len;

	assert_non_null(f);
	cli_scenario_table(f, v, n);
	len = ftell(f);
	rewind(f);
	buf = xcalloc(1, (size_t)len + 1);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return buf;
}

static void
test_table(void **state)
{
	struct run_call		 c[3];
	const struct run_call	*v[3];
	char			*t, *line2, *line3;

	c[0] = mkcall("us-east-1", "ec2", "CreateSecurityGroup", 5, 0,
	    RUN_PERMITTED, "DryRunOperation", 412, "vpc-1", NULL);
	c[1] = mkcall("eu-west-1", "ec2", "DescribeInstances", 1, 0,
	    RUN_ERROR, "InternalError", 500, NULL, "HTTP 500 after 3 attempts");
	c[2] = mkcall("us-east-1", "iam", "GenerateCredentialReport", 0, 1,
	    RUN_PERMITTED, NULL, 200, NULL, NULL);
	v[0] = &c[0];
	v[1] = &c[1];
	v[2] = &c[2];
	t = table_of(v, 3);
	/* Header, then global, eu-west-1, us-east-1. */
	assert_true(strncmp(t, "REGION", 6) == 0);
	assert_non_null(strstr(t, "TARGET / NOTE"));
	line2 = strchr(t, '\n') + 1;
	assert_true(strncmp(line2, "global ", 7) == 0);
	assert_non_null(strstr(line2, "iam:GenerateCredentialReport"));
	line3 = strchr(line2, '\n') + 1;
	assert_true(strncmp(line3, "eu-west-1 ", 10) == 0);
	assert_non_null(strstr(line3, " error "));
	assert_non_null(strstr(line3, "InternalError (500)"));
	assert_non_null(strstr(line3, "HTTP 500 after 3 attempts"));
	assert_non_null(strstr(t, "ec2:CreateSecurityGroup"));
	assert_non_null(strstr(t, "DryRunOperation (412)  vpc-1\n"));
	/* Columns line up: OUTCOME starts at the same offset everywhere. */
	{
		const char	*h = strstr(t, "OUTCOME");
		const char	*e = strstr(line3, "error");

		assert_int_equal(h - t, e - line3);
	}
	free(t);

	/* No calls: the header alone. */
	t = table_of(NULL, 0);
	assert_true(strncmp(t, "REGION", 6) == 0);
	assert_int_equal(strchr(t, '\n')[1], '\0');
	free(t);
}

static void
test_split_regions(void **state)
{
	char	**v, *cause = NULL;

	v = cli_split_regions(" us-east-1, eu-* ,,ap-south-1", &cause);
	assert_non_null(v);
	assert_string_equal(v[0], "us-east-1");
	assert_string_equal(v[1], "eu-*");
	assert_string_equal(v[2], "ap-south-1");
	assert_null(v[3]);
	free(v[0]);
	free(v[1]);
	free(v[2]);
	free(v);

	assert_null(cli_split_regions("us-east-1,EU-WEST-1", &cause));
	assert_non_null(strstr(cause, "\"EU-WEST-1\" is not a region name"));
	free(cause);
	cause = NULL;
	assert_null(cli_split_regions(" , ", &cause));
	assert_non_null(strstr(cause, "comma-separated"));
	free(cause);
	cause = NULL;
	assert_null(cli_split_regions("us-east-1;rm", &cause));
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registry_names_sorted),
		cmocka_unit_test(test_registry_complete),
		cmocka_unit_test(test_registry_find),
		cmocka_unit_test(test_registry_mitre),
		cmocka_unit_test(test_expect_dryrun),
		cmocka_unit_test(test_expect_global_and_ok),
		cmocka_unit_test(test_expect_s3_names),
		cmocka_unit_test(test_expect_none),
		cmocka_unit_test(test_expect_none_unhandled),
		cmocka_unit_test(test_expect_final_attempt),
		cmocka_unit_test(test_outcome_classes),
		cmocka_unit_test(test_calls_sort),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_split_regions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
