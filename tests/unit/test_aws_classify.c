/*
 * aws classification: the one table every module relies on (aws.h,
 * ARCHITECTURE.md "result"), the retry code lists of AWS-PROTOCOL.md
 * section 6, and CloudTrail's errorCode form.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "xmalloc.h"

struct cls_case {
	const char		*svc;
	const char		*action;
	const char		*region;
	int			 dry_run;
	const char		*expect;
	long			 status;
	const char		*code;
	enum aws_outcome	 want;
};

static const struct cls_case cls_cases[] = {
	/* 2xx */
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 200, NULL, AWS_OK },
	{ "s3", "DeletePublicAccessBlock", "us-east-1", 0, NULL, 204, NULL,
	    AWS_OK },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 200,
	    AWS_CODE_MALFORMED, AWS_ERROR },
	/* DryRun answered 2xx: unsafe, whatever the body was. */
	{ "ec2", "CreateVpc", "us-east-1", 1, NULL, 200, NULL, AWS_UNSAFE },
	{ "ec2", "CreateVpc", "us-east-1", 1, NULL, 200, AWS_CODE_MALFORMED,
	    AWS_UNSAFE },
	/* permitted */
	{ "ec2", "CreateVpc", "us-east-1", 1, NULL, 412, "DryRunOperation",
	    AWS_PERMITTED },
	{ "ec2", "RunInstances", "ap-south-2", 1, NULL, 400,
	    "DryRunOperation", AWS_PERMITTED },
	{ "cloudtrail", "StopLogging", "us-east-1", 0,
	    "TrailNotFoundException", 400, "TrailNotFoundException",
	    AWS_PERMITTED },
	{ "s3", "PutPublicAccessBlock", "us-east-1", 0,
	    "NoSuchBucket, AccessDenied", 404, "NoSuchBucket", AWS_PERMITTED },
	{ "rds", "CreateDBInstance", "us-east-1", 0,
	    "InvalidSubnet|DBSubnetGroupNotFoundFault", 404,
	    "DBSubnetGroupNotFoundFault", AWS_PERMITTED },
	/* an expectation matches exactly, not by prefix */
	{ "cloudtrail", "StopLogging", "us-east-1", 0, "TrailNotFound", 400,
	    "TrailNotFoundException", AWS_ERROR },
	{ "cloudtrail", "StopLogging", "us-east-1", 0,
	    "TrailNotFoundException", 400, "InvalidTrailNameException",
	    AWS_ERROR },
	/* the expected error also wins over "denied" when it is one */
	{ "s3", "PutPublicAccessBlock", "us-east-1", 0, "AccessDenied", 403,
	    "AccessDenied", AWS_PERMITTED },
	/* denied */
	{ "ec2", "CreateVpc", "us-east-1", 1, NULL, 403,
	    "UnauthorizedOperation", AWS_DENIED },
	{ "iam", "GetCredentialReport", "us-east-1", 0, NULL, 403,
	    "AccessDenied", AWS_DENIED },
	{ "cloudtrail", "LookupEvents", "us-east-1", 0, NULL, 400,
	    "AccessDeniedException", AWS_DENIED },
	{ "guardduty", "ListDetectors", "us-east-1", 0, NULL, 401,
	    "UnauthorizedAccess", AWS_DENIED },
	{ "sns", NULL, "us-east-1", 0, NULL, 403, "AuthorizationError",
	    AWS_DENIED },
	{ "s3", "ListBuckets", "us-east-1", 0, NULL, 403,
	    "AccessDeniedForReasons", AWS_DENIED },
	{ "cloudtrail", "StopLogging", "us-east-1", 0,
	    "TrailNotFoundException", 403, "AccessDeniedException",
	    AWS_DENIED },
	/* region not enabled */
	{ "ec2", "DescribeInstances", "af-south-1", 0, NULL, 401,
	    "AuthFailure", AWS_REGION_OFF },
	{ "ec2", "DescribeInstances", "me-central-1", 0, NULL, 403,
	    "OptInRequired", AWS_REGION_OFF },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 403,
	    "OptInRequired", AWS_REGION_OFF },
	{ "cloudtrail", "LookupEvents", "ap-east-1", 0, NULL, 400,
	    "UnrecognizedClientException", AWS_REGION_OFF },
	{ "sts", "GetCallerIdentity", "il-central-1", 0, NULL, 403,
	    "InvalidClientTokenId", AWS_REGION_OFF },
	/* ... but in an always-on region those codes mean bad keys */
	{ "ec2", "DescribeRegions", "us-east-1", 0, NULL, 401, "AuthFailure",
	    AWS_ERROR },
	{ "ec2", "DescribeInstances", "eu-west-3", 0, NULL, 401, "AuthFailure",
	    AWS_ERROR },
	{ "cloudtrail", "LookupEvents", "eu-central-1", 0, NULL, 400,
	    "UnrecognizedClientException", AWS_ERROR },
	{ "iam", "ListUsers", "us-east-1", 0, NULL, 403,
	    "InvalidClientTokenId", AWS_ERROR },
	{ "ec2", "DescribeInstances", "cn-northwest-1", 0, NULL, 401,
	    "AuthFailure", AWS_ERROR },
	{ "ec2", "DescribeInstances", "us-gov-east-1", 0, NULL, 401,
	    "AuthFailure", AWS_ERROR },
	{ "sts", "GetCallerIdentity", "us-east-1", 0, NULL, 403,
	    "SignatureDoesNotMatch", AWS_ERROR },
	{ "sts", "GetCallerIdentity", "us-east-1", 0, NULL, 400,
	    "ExpiredToken", AWS_ERROR },
	/* retryable */
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 503,
	    "RequestLimitExceeded", AWS_RETRYABLE },
	{ "cloudtrail", "LookupEvents", "us-east-1", 0, NULL, 400,
	    "ThrottlingException", AWS_RETRYABLE },
	{ "iam", "ListUsers", "us-east-1", 0, NULL, 400, "Throttling",
	    AWS_RETRYABLE },
	{ "s3", "ListBuckets", "us-east-1", 0, NULL, 503, "SlowDown",
	    AWS_RETRYABLE },
	{ "events", "ListRules", "us-east-1", 0, NULL, 400,
	    "TooManyRequestsException", AWS_RETRYABLE },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 500,
	    "InternalError", AWS_RETRYABLE },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 503,
	    "Unavailable", AWS_RETRYABLE },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 502, "Whatever",
	    AWS_RETRYABLE },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 504, NULL,
	    AWS_RETRYABLE },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 429, NULL,
	    AWS_RETRYABLE },
	{ "s3", "ListBuckets", "us-east-1", 0, NULL, 400, "RequestTimeout",
	    AWS_RETRYABLE },
	{ "sts", "AssumeRoleWithWebIdentity", "us-east-1", 0, NULL, 400,
	    "IDPCommunicationError", AWS_RETRYABLE },
	{ "s3", "ListBuckets", "us-east-1", 0, NULL, 403,
	    "RequestTimeTooSkewed", AWS_RETRYABLE },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 400,
	    "RequestExpired", AWS_RETRYABLE },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 503,
	    AWS_CODE_MALFORMED, AWS_RETRYABLE },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 0,
	    AWS_CODE_HTTP_TIMEOUT, AWS_RETRYABLE },
	/* tool errors */
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 400,
	    "InvalidParameterValue", AWS_ERROR },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 400,
	    AWS_CODE_MALFORMED, AWS_ERROR },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 501,
	    "NotImplemented", AWS_ERROR },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 404, NULL,
	    AWS_ERROR },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 0,
	    AWS_CODE_HTTP_CANCELLED, AWS_ERROR },
	{ "ec2", "DescribeInstances", "us-east-1", 0, NULL, 0, NULL,
	    AWS_ERROR },
};

static void
test_classify_table(void **state)
{
	struct aws_request	*req;
	const struct aws_service *svc;
	enum aws_outcome	 got;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cls_cases) / sizeof(cls_cases[0]); i++) {
		const struct cls_case *c = &cls_cases[i];

		svc = aws_service_find(c->svc);
		if (svc == NULL)
			svc = aws_service_find("iam");
		req = aws_request_new(svc, c->action != NULL ? c->action :
		    "Publish", c->region);
		if (c->dry_run)
			aws_request_add(req, "DryRun", "true");
		req->expect_error = xstrdup_or_null(c->expect);
		got = aws_classify(req, c->status, c->code);
		if (got != c->want)
			fail_msg("%s:%s %s %ld %s (expect %s): %s, want %s",
			    c->svc, c->action, c->region, c->status,
			    c->code != NULL ? c->code : "-",
			    c->expect != NULL ? c->expect : "-",
			    aws_outcome_name(got), aws_outcome_name(c->want));
		aws_request_free(req);
	}
}

static void
test_classify_without_request(void **state)
{
	(void)state;
	assert_int_equal(aws_classify(NULL, 200, NULL), AWS_OK);
	assert_int_equal(aws_classify(NULL, 412, "DryRunOperation"),
	    AWS_PERMITTED);
	assert_int_equal(aws_classify(NULL, 401, "AuthFailure"),
	    AWS_REGION_OFF);
	assert_int_equal(aws_classify(NULL, 400,
	    "UnrecognizedClientException"), AWS_ERROR);
	assert_int_equal(aws_classify(NULL, 403, "AccessDenied"), AWS_DENIED);
	assert_int_equal(aws_classify(NULL, 400, "Throttling"), AWS_RETRYABLE);
}

static void
test_transport_classes(void **state)
{
	(void)state;
	assert_int_equal(aws_classify_transport(HTTP_ERR_CONNECT),
	    AWS_RETRYABLE);
	assert_int_equal(aws_classify_transport(HTTP_ERR_TIMEOUT),
	    AWS_RETRYABLE);
	assert_int_equal(aws_classify_transport(HTTP_ERR_RESET),
	    AWS_RETRYABLE);
	assert_int_equal(aws_classify_transport(HTTP_ERR_PROTOCOL),
	    AWS_RETRYABLE);
	assert_int_equal(aws_classify_transport(HTTP_ERR_CANCELLED),
	    AWS_ERROR);
	assert_int_equal(aws_classify_transport(HTTP_ERR_OTHER), AWS_ERROR);
}

static void
test_code_lists(void **state)
{
	/* AWS-PROTOCOL.md section 6, botocore standard mode. */
	static const char *const throttle[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded",
		"BandwidthLimitExceeded", "LimitExceededException",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException",
	};
	static const char *const transient[] = {
		"RequestTimeout", "RequestTimeoutException",
		"PriorRequestNotComplete", "IDPCommunicationError",
	};
	static const char *const neither[] = {
		"DryRunOperation", "UnauthorizedOperation", "AccessDenied",
		"SignatureDoesNotMatch", "InvalidParameterValue", "throttling",
		"Throttlingx", "", "InternalError",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(throttle) / sizeof(throttle[0]); i++)
		assert_true(aws_code_is_throttle(throttle[i]));
	for (i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
		assert_true(aws_code_is_transient(transient[i]));
	for (i = 0; i < sizeof(neither) / sizeof(neither[0]); i++) {
		assert_false(aws_code_is_throttle(neither[i]));
		assert_false(aws_code_is_transient(neither[i]));
	}
	assert_false(aws_code_is_throttle(NULL));
	assert_false(aws_code_is_transient(NULL));
	assert_true(aws_code_is_clock_skew("RequestTimeTooSkewed"));
	assert_true(aws_code_is_clock_skew("RequestExpired"));
	assert_false(aws_code_is_clock_skew("AuthFailure"));
	assert_false(aws_code_is_clock_skew(NULL));
	assert_true(aws_code_is_denied("AccessDenied"));
	assert_true(aws_code_is_denied("AccessDeniedException"));
	assert_true(aws_code_is_denied("UnauthorizedOperation"));
	assert_false(aws_code_is_denied("Unauthorized"));
	assert_false(aws_code_is_denied(NULL));
}

static void
test_opt_in_regions(void **state)
{
	static const char *const always_on[] = {
		"us-east-1", "us-east-2", "us-west-1", "us-west-2",
		"ca-central-1", "sa-east-1", "eu-west-1", "eu-west-2",
		"eu-west-3", "eu-central-1", "eu-north-1", "ap-south-1",
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-southeast-1", "ap-southeast-2", "cn-north-1",
		"cn-northwest-1", "us-gov-west-1", "us-gov-east-1",
		/* Other partitions than aws, as endpoint_partition() has
		 * them: never opt-in regions of aws. */
		"us-iso-east-1", "us-isob-east-1", "eu-isoe-west-1",
		"us-isof-south-1", "eusc-de-east-1",
	};
	static const char *const opt_in[] = {
		"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3",
		"ap-southeast-4", "ca-west-1", "eu-south-1", "eu-south-2",
		"eu-central-2", "il-central-1", "me-south-1", "me-central-1",
		"mx-central-1", "xx-future-9",
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(always_on) / sizeof(always_on[0]); i++)
		if (aws_region_is_opt_in(always_on[i]))
			fail_msg("%s is not opt-in", always_on[i]);
	for (i = 0; i < sizeof(opt_in) / sizeof(opt_in[0]); i++)
		if (!aws_region_is_opt_in(opt_in[i]))
			fail_msg("%s is opt-in", opt_in[i]);
	assert_false(aws_region_is_opt_in(NULL));
	assert_false(aws_region_is_opt_in(""));
}

static void
test_cloudtrail_codes(void **state)
{
	const struct aws_service	*ec2 = aws_service_find("ec2");
	char				*c;

	(void)state;
	c = aws_cloudtrail_error_code(ec2, "DryRunOperation");
	assert_string_equal(c, "Client.DryRunOperation");
	free(c);
	c = aws_cloudtrail_error_code(ec2, "UnauthorizedOperation");
	assert_string_equal(c, "Client.UnauthorizedOperation");
	free(c);
	c = aws_cloudtrail_error_code(ec2, "Client.DryRunOperation");
	assert_string_equal(c, "Client.DryRunOperation");
	free(c);
	c = aws_cloudtrail_error_code_status(ec2, "InternalError", 500);
	assert_string_equal(c, "Server.InternalError");
	free(c);
	c = aws_cloudtrail_error_code_status(ec2, "InvalidVpcID.NotFound",
	    400);
	assert_string_equal(c, "Client.InvalidVpcID.NotFound");
	free(c);
	c = aws_cloudtrail_error_code(aws_service_find("cloudtrail"),
	    "TrailNotFoundException");
	assert_string_equal(c, "TrailNotFoundException");
	free(c);
	c = aws_cloudtrail_error_code(aws_service_find("iam"), "AccessDenied");
	assert_string_equal(c, "AccessDenied");
	free(c);
	assert_null(aws_cloudtrail_error_code(ec2, NULL));
}

static void
test_outcome_names(void **state)
{
	(void)state;
	assert_string_equal(aws_outcome_name(AWS_OK), "ok");
	assert_string_equal(aws_outcome_name(AWS_PERMITTED), "permitted");
	assert_string_equal(aws_outcome_name(AWS_DENIED), "denied");
	assert_string_equal(aws_outcome_name(AWS_REGION_OFF), "region-off");
	assert_string_equal(aws_outcome_name(AWS_RETRYABLE), "retryable");
	assert_string_equal(aws_outcome_name(AWS_ERROR), "error");
	assert_string_equal(aws_outcome_name(AWS_REFUSED), "refused");
	assert_string_equal(aws_outcome_name(AWS_UNSAFE), "unsafe");
	assert_string_equal(aws_outcome_name((enum aws_outcome)99), "unknown");
}

/* The one description of a failed result: code and message, else the
 * HTTP status, else the outcome and the transport error. */
static void
test_result_describe(void **state)
{
	struct aws_result	 res;
	char			*d;

	(void)state;
	aws_result_init(&res);
	res.outcome = AWS_DENIED;
	res.status = 403;
	res.error_code = xstrdup("AccessDenied");
	res.error_message = xstrdup("not authorized");
	d = aws_result_describe(&res);
	assert_string_equal(d, "AccessDenied: not authorized");
	free(d);
	free(res.error_message);
	res.error_message = NULL;
	d = aws_result_describe(&res);
	assert_string_equal(d, "AccessDenied");
	free(d);
	aws_result_clear(&res);

	res.outcome = AWS_RETRYABLE;
	res.status = 503;
	d = aws_result_describe(&res);
	assert_string_equal(d, "HTTP 503");
	free(d);

	res.status = 0;
	res.http_error = HTTP_ERR_TIMEOUT;
	d = aws_result_describe(&res);
	assert_string_equal(d, "retryable (timeout)");
	free(d);
	aws_result_clear(&res);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_classify_without_request),
		cmocka_unit_test(test_transport_classes),
		cmocka_unit_test(test_code_lists),
		cmocka_unit_test(test_opt_in_regions),
		cmocka_unit_test(test_cloudtrail_codes),
		cmocka_unit_test(test_outcome_names),
		cmocka_unit_test(test_result_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
