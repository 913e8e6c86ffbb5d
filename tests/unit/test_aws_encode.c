/*
 * aws encoding: the service table, requests, and the exact HTTP form of
 * requests for every protocol.  Query and JSON bodies are checked against
 * the Smithy AWS protocol compliance tests (expected bytes read from
 * tests/data/aws-fixtures/smithy-aws-protocol-tests/).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "aws.h"
#include "awstest.h"
#include "xmalloc.h"

static const char *
hdr(const struct aws_http *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->nheaders; i++) {
		if (strcasecmp(h->headers[i].name, name) == 0)
			return h->headers[i].value;
	}
	return NULL;
}

static json_t *
J(const char *text)
{
	json_error_t	 err;
	json_t		*j;

	j = json_loads(text, 0, &err);
	if (j == NULL)
		fail_msg("bad JSON in test: %s: %s", text, err.text);
	return j;
}

/* ---- services ----------------------------------------------------------- */

static void
test_service_table(void **state)
{
	static const struct {
		const char		*id, *prefix, *env, *source, *version;
		enum aws_protocol	 proto;
		const char		*target;
		int			 global;
	} want[] = {
		{ "ec2", "ec2", "EC2", "ec2.amazonaws.com", "2016-11-15",
		    AWS_PROTO_EC2, NULL, 0 },
		{ "iam", "iam", "IAM", "iam.amazonaws.com", "2010-05-08",
		    AWS_PROTO_QUERY, NULL, 1 },
		{ "sts", "sts", "STS", "sts.amazonaws.com", "2011-06-15",
		    AWS_PROTO_QUERY, NULL, 0 },
		{ "rds", "rds", "RDS", "rds.amazonaws.com", "2014-10-31",
		    AWS_PROTO_QUERY, NULL, 0 },
		{ "monitoring", "monitoring", "CLOUDWATCH",
		    "monitoring.amazonaws.com", "2010-08-01", AWS_PROTO_QUERY,
		    NULL, 0 },
		{ "cloudtrail", "cloudtrail", "CLOUDTRAIL",
		    "cloudtrail.amazonaws.com", "2013-11-01", AWS_PROTO_JSON,
		    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101",
		    0 },
		{ "events", "events", "EVENTBRIDGE", "events.amazonaws.com",
		    "2015-10-07", AWS_PROTO_JSON, "AWSEvents", 0 },
		{ "ssm", "ssm", "SSM", "ssm.amazonaws.com", "2014-11-06",
		    AWS_PROTO_JSON, "AmazonSSM", 0 },
		{ "logs", "logs", "CLOUDWATCH_LOGS", "logs.amazonaws.com",
		    "2014-03-28", AWS_PROTO_JSON, "Logs_20140328", 0 },
		{ "guardduty", "guardduty", "GUARDDUTY",
		    "guardduty.amazonaws.com", "2017-11-28",
		    AWS_PROTO_RESTJSON, NULL, 0 },
		{ "s3", "s3", "S3", "s3.amazonaws.com", "2006-03-01",
		    AWS_PROTO_RESTXML, NULL, 0 },
		/* #13 Organizations discovery */
		{ "organizations", "organizations", "ORGANIZATIONS",
		    "organizations.amazonaws.com", "2016-11-28", AWS_PROTO_JSON,
		    "AWSOrganizationsV20161128", 1 },
	};
	const struct aws_service	*s;
	size_t				 i, n;

	/* The catalogue's services (#11): host prefix and signing name
	 * differ for SES, SageMaker and the Bedrock runtime. */
	static const struct {
		const char		*id, *prefix, *signing, *env, *source;
		const char		*version;
		enum aws_protocol	 proto;
		const char		*target;
	} want2[] = {
		{ "secretsmanager", "secretsmanager", "secretsmanager",
		    "SECRETS_MANAGER", "secretsmanager.amazonaws.com",
		    "2017-10-17", AWS_PROTO_JSON, "secretsmanager" },
		{ "route53resolver", "route53resolver", "route53resolver",
		    "ROUTE53RESOLVER", "route53resolver.amazonaws.com",
		    "2018-04-01", AWS_PROTO_JSON, "Route53Resolver" },
		{ "ses", "email", "ses", "SES", "ses.amazonaws.com",
		    "2010-12-01", AWS_PROTO_QUERY, NULL },
		{ "sagemaker", "api.sagemaker", "sagemaker", "SAGEMAKER",
		    "sagemaker.amazonaws.com", "2017-07-24", AWS_PROTO_JSON,
		    "SageMaker" },
		{ "ec2-instance-connect", "ec2-instance-connect",
		    "ec2-instance-connect", "EC2_INSTANCE_CONNECT",
		    "ec2-instance-connect.amazonaws.com", "2018-04-02",
		    AWS_PROTO_JSON, "AWSEC2InstanceConnectService" },
		{ "lambda", "lambda", "lambda", "LAMBDA",
		    "lambda.amazonaws.com", "2015-03-31", AWS_PROTO_RESTJSON,
		    NULL },
		{ "bedrock", "bedrock-runtime", "bedrock", "BEDROCK_RUNTIME",
		    "bedrock.amazonaws.com", "2023-09-30", AWS_PROTO_RESTJSON,
		    NULL },
	};

	(void)state;
	for (n = 0, s = aws_services(); s->id != NULL; s++)
		n++;
	assert_int_equal(n, sizeof(want) / sizeof(want[0]) +
	    sizeof(want2) / sizeof(want2[0]));
	for (i = 0; i < sizeof(want2) / sizeof(want2[0]); i++) {
		s = aws_service_find(want2[i].id);
		assert_non_null(s);
		assert_string_equal(s->id, want2[i].id);
		assert_string_equal(s->endpoint_prefix, want2[i].prefix);
		assert_string_equal(s->signing_name, want2[i].signing);
		assert_string_equal(s->env_name, want2[i].env);
		assert_string_equal(s->event_source, want2[i].source);
		assert_string_equal(s->api_version, want2[i].version);
		assert_int_equal(s->protocol, want2[i].proto);
		assert_int_equal(s->global, 0);
		if (want2[i].target == NULL)
			assert_null(s->target_prefix);
		else
			assert_string_equal(s->target_prefix, want2[i].target);
		/* Found by its endpoint prefix and env name too. */
		assert_ptr_equal(aws_service_find(want2[i].prefix), s);
		assert_ptr_equal(aws_service_find(want2[i].env), s);
	}
	n = sizeof(want) / sizeof(want[0]);
	for (i = 0; i < n; i++) {
		s = aws_service_find(want[i].id);
		assert_non_null(s);
		assert_string_equal(s->id, want[i].id);
		assert_string_equal(s->endpoint_prefix, want[i].prefix);
		assert_string_equal(s->signing_name, want[i].prefix);
		assert_string_equal(s->env_name, want[i].env);
		assert_string_equal(s->event_source, want[i].source);
		assert_string_equal(s->api_version, want[i].version);
		assert_int_equal(s->protocol, want[i].proto);
		assert_int_equal(s->global, want[i].global);
		if (want[i].target == NULL)
			assert_null(s->target_prefix);
		else {
			assert_string_equal(s->target_prefix, want[i].target);
			assert_string_equal(s->json_version, "1.1");
		}
	}
}

static void
test_service_find(void **state)
{
	(void)state;
	assert_string_equal(aws_service_find("eventbridge")->id, "events");
	assert_string_equal(aws_service_find("EventBridge")->id, "events");
	assert_string_equal(aws_service_find("cloudwatch")->id, "monitoring");
	assert_string_equal(aws_service_find("cloudwatch-logs")->id, "logs");
	assert_string_equal(aws_service_find("cloudwatch_logs")->id, "logs");
	assert_string_equal(aws_service_find("CLOUDWATCH_LOGS")->id, "logs");
	assert_string_equal(aws_service_find("EC2")->id, "ec2");
	assert_null(aws_service_find("lambdax"));
	assert_string_equal(aws_service_find("bedrock-runtime")->id, "bedrock");
	assert_string_equal(aws_service_find("email")->id, "ses");
	assert_null(aws_service_find(""));
	assert_null(aws_service_find(NULL));
	assert_null(aws_service_find("ec2x"));
	assert_string_equal(aws_protocol_name(AWS_PROTO_RESTJSON),
	    "rest-json");
}

static void
test_safety_names(void **state)
{
	enum aws_safety	 s;
	int		 i;

	(void)state;
	for (i = AWS_SAFE_AUTO; i <= AWS_SAFE_LIVE; i++) {
		assert_int_equal(aws_safety_from_name(
		    aws_safety_name((enum aws_safety)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(aws_safety_name(AWS_SAFE_FAIL), "safe-fail");
	assert_int_equal(aws_safety_from_name("read_only", &s), 0);
	assert_int_equal(s, AWS_SAFE_READ_ONLY);
	assert_int_equal(aws_safety_from_name("yolo", &s), -1);
	assert_int_equal(aws_safety_from_name(NULL, &s), -1);
}

/* ---- requests ---------------------------------------------------------- */

static void
test_request_params(void **state)
{
	struct aws_request	*req, *dup;

	(void)state;
	req = aws_request_new(aws_service_find("ec2"), "DescribeInstances",
	    "eu-west-1");
	assert_int_equal(req->safety, AWS_SAFE_AUTO);
	aws_request_add(req, "Filter.1.Name", "%s", "instance-state-name");
	aws_request_add(req, "MaxResults", "%d", 5);
	aws_request_add(req, "Filter.1.Value.1", "running");
	assert_string_equal(aws_request_get(req, "MaxResults"), "5");
	assert_null(aws_request_get(req, "NextToken"));
	aws_request_put(req, "NextToken", "%s", "t1");
	aws_request_put(req, "NextToken", "%s", "t2");
	assert_string_equal(aws_request_get(req, "NextToken"), "t2");
	assert_int_equal(req->nparams, 4);
	assert_int_equal(aws_request_remove(req, "NextToken"), 1);
	assert_int_equal(aws_request_remove(req, "NextToken"), 0);
	assert_int_equal(req->nparams, 3);
	assert_string_equal(req->params[2].key, "Filter.1.Value.1");

	req->run_id = xstrdup("0123abcd");
	req->expect_error = xstrdup("X");
	aws_request_set_str(req, "Extra", "v");
	dup = aws_request_dup(req);
	aws_request_free(req);
	assert_int_equal(dup->nparams, 3);
	assert_string_equal(dup->action, "DescribeInstances");
	assert_string_equal(dup->region, "eu-west-1");
	assert_string_equal(dup->run_id, "0123abcd");
	assert_string_equal(dup->expect_error, "X");
	assert_string_equal(json_string_value(json_object_get(dup->input,
	    "Extra")), "v");
	aws_request_free(dup);
	aws_request_free(NULL);
	assert_null(aws_request_dup(NULL));
}

static void
test_read_only(void **state)
{
	static const struct {
		const char	*action;
		int		 ro;
	} cases[] = {
		{ "DescribeInstances", 1 }, { "ListUsers", 1 },
		{ "GetCallerIdentity", 1 }, { "LookupEvents", 1 },
		{ "SearchResources", 1 }, { "TestEventPattern", 1 },
		{ "TestMetricFilter", 1 }, { "HeadBucket", 1 },
		{ "CheckIfPhoneNumberIsOptedOut", 1 }, { "List", 1 },
		{ "GetCredentialReport", 1 },
		{ "GenerateCredentialReport", 0 }, { "CreateVpc", 0 },
		{ "RunInstances", 0 }, { "DeleteTrail", 0 },
		{ "StopLogging", 0 }, { "PutPublicAccessBlock", 0 },
		{ "Getaway", 0 }, { "Listen", 0 }, { "Testify", 0 },
		{ "describeInstances", 0 }, { "BatchGetItem", 0 }, { "", 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (aws_action_is_read_only(aws_service_find("ec2"),
		    cases[i].action) != cases[i].ro)
			fail_msg("read-only(%s) != %d", cases[i].action,
			    cases[i].ro);
	}
	assert_int_equal(aws_action_is_read_only(NULL, NULL), 0);
}

static void
test_dry_run(void **state)
{
	struct aws_request	*req;

	(void)state;
	req = aws_request_new(aws_service_find("ec2"), "CreateVpc",
	    "us-east-1");
	assert_false(aws_request_is_dry_run(req));
	aws_request_add(req, "DryRun", "TRUE");
	assert_true(aws_request_is_dry_run(req));
	aws_request_put(req, "DryRun", "false");
	assert_false(aws_request_is_dry_run(req));
	aws_request_put(req, "DryRun", "1");
	assert_false(aws_request_is_dry_run(req));
	aws_request_remove(req, "DryRun");
	aws_request_set(req, "DryRun", json_true());
	assert_true(aws_request_is_dry_run(req));
	aws_request_free(req);

	/* Only EC2 has DryRun. */
	req = aws_request_new(aws_service_find("rds"), "CreateDBInstance",
	    "us-east-1");
	aws_request_add(req, "DryRun", "true");
	assert_false(aws_request_is_dry_run(req));
	aws_request_free(req);
	assert_false(aws_request_is_dry_run(NULL));
}

static void
test_user_agent(void **state)
{
	struct aws_request	*req, *dup;
	struct aws_marker	 m, m2;
	char			*ua;

	(void)state;
	req = aws_request_new(aws_service_find("sts"), "GetCallerIdentity",
	    "us-east-1");
	assert_int_equal(req->call_seq, -1);
	ua = aws_user_agent("cloudsagad/1.0", req, 1);
	assert_string_equal(ua, "cloudsagad/1.0");
	free(ua);
	req->run_id = xstrdup("00112233445566778899aabbccddeeff");
	ua = aws_user_agent("cloudsagad/1.0", req, 1);
	assert_string_equal(ua,
	    "cloudsagad/1.0 run/00112233445566778899aabbccddeeff");
	free(ua);
	/* Every call and every attempt of it has its own marker. */
	req->call_seq = 17;
	ua = aws_user_agent("cloudsagad/1.0", req, 2);
	assert_string_equal(ua,
	    "cloudsagad/1.0 run/00112233445566778899aabbccddeeff/17/2");
	assert_int_equal(aws_marker_parse(ua, &m), 0);
	assert_string_equal(m.run_id, "00112233445566778899aabbccddeeff");
	assert_int_equal(m.seq, 17);
	assert_int_equal(m.attempt, 2);
	free(ua);
	dup = aws_request_dup(req);
	assert_int_equal(dup->call_seq, 17);
	aws_request_free(dup);
	ua = aws_user_agent(NULL, req, 1);
	assert_true(strncmp(ua, "cloudsagad/", 11) == 0);
	assert_non_null(strstr(ua, " run/00112233445566778899aabbccddeeff/17/1"));
	free(ua);
	aws_request_free(req);

	/* Reading markers back: wrapped (S3), upper case, partial forms. */
	assert_int_equal(aws_marker_parse("[cloudsagad/1 run/"
	    "00112233445566778899AABBCCDDEEFF/3/1]", &m), 0);
	assert_string_equal(m.run_id, "00112233445566778899aabbccddeeff");
	assert_int_equal(m.seq, 3);
	assert_int_equal(m.attempt, 1);
	assert_int_equal(aws_marker_parse("x run/"
	    "00112233445566778899aabbccddeeff/3", &m2), 0);
	assert_int_equal(m2.seq, 3);
	assert_int_equal(m2.attempt, -1);
	assert_false(aws_marker_equal(&m, &m2));
	assert_int_equal(aws_marker_parse("x run/"
	    "00112233445566778899aabbccddeeff", &m2), 0);
	assert_int_equal(m2.seq, -1);
	/* Not markers: glued, short, long, a number glued to letters. */
	assert_int_equal(aws_marker_parse("xrun/"
	    "00112233445566778899aabbccddeeff/1/1", &m), -1);
	assert_int_equal(aws_marker_parse("run/"
	    "00112233445566778899aabbccddeef/1/1", &m), -1);
	assert_int_equal(aws_marker_parse("run/"
	    "00112233445566778899aabbccddeeff0/1/1", &m), -1);
	assert_int_equal(aws_marker_parse("run/"
	    "00112233445566778899aabbccddeeff/1/1x", &m), -1);
	assert_int_equal(aws_marker_parse("run/"
	    "00112233445566778899aabbccddeeff/1234567890/1", &m), -1);
	assert_int_equal(aws_marker_parse(NULL, &m), -1);
	assert_int_equal(aws_marker_parse("", &m), -1);
}

/* ---- EC2 query / query: Smithy compliance bodies ----------------------- */

static const struct aws_service smithy_ec2 = {
	"ec2test", "ec2test", "ec2test", "EC2TEST", "x", AWS_PROTO_EC2,
	"2020-01-08", NULL, NULL, 0, NULL,
};
static const struct aws_service smithy_query = {
	"querytest", "querytest", "querytest", "QUERYTEST", "x",
	AWS_PROTO_QUERY, "2020-01-08", NULL, NULL, 0, NULL,
};

struct smithy_form_case {
	const char	*file;
	const char	*id;
	const char	*action;
	const char	*params;	/* the case's params, as JSON */
};

static void
check_smithy_form(const struct aws_service *svc,
    const struct smithy_form_case *cases, size_t n)
{
	struct aws_request	*req;
	struct aws_http		 h;
	char			*text, *block, *body, *cause = NULL;
	size_t			 i;

	for (i = 0; i < n; i++) {
		text = awstest_read(cases[i].file, NULL);
		assert_non_null(text);
		block = smithy_case(text, cases[i].id);
		if (block == NULL)
			fail_msg("no case %s in %s", cases[i].id,
			    cases[i].file);
		body = smithy_field(block, "body");
		assert_non_null(body);
		req = aws_request_new(svc, cases[i].action, "us-east-1");
		req->input = J(cases[i].params);
		if (aws_encode(req, &h, &cause) != 0)
			fail_msg("%s: %s", cases[i].id, cause);
		if (strcmp(h.body, body) != 0)
			fail_msg("%s:\n got  %s\n want %s", cases[i].id,
			    h.body, body);
		assert_int_equal(h.body_len, strlen(body));
		assert_string_equal(h.method, "POST");
		assert_string_equal(h.path, "/");
		assert_string_equal(h.query, "");
		assert_string_equal(hdr(&h, "Content-Type"),
		    "application/x-www-form-urlencoded; charset=utf-8");
		assert_null(h.bucket);
		aws_http_free(&h);
		aws_request_free(req);
		free(body);
		free(block);
		free(text);
	}
}

#define EC2IN	"aws-fixtures/smithy-aws-protocol-tests/ec2Query/input.smithy"
#define EC2LI	"aws-fixtures/smithy-aws-protocol-tests/ec2Query/input-lists.smithy"
#define QIN	"aws-fixtures/smithy-aws-protocol-tests/awsQuery/input.smithy"
#define QLI	"aws-fixtures/smithy-aws-protocol-tests/awsQuery/input-lists.smithy"

static void
test_smithy_ec2query(void **state)
{
	static const struct smithy_form_case cases[] = {
		{ EC2IN, "Ec2SimpleInputParamsStrings", "SimpleInputParams",
		    "{\"Foo\":\"val1\",\"Bar\":\"val2\"}" },
		{ EC2IN, "Ec2SimpleInputParamsStringAndBooleanTrue",
		    "SimpleInputParams", "{\"Foo\":\"val1\",\"Baz\":true}" },
		{ EC2IN, "Ec2SimpleInputParamsStringsAndBooleanFalse",
		    "SimpleInputParams", "{\"Baz\":false}" },
		{ EC2IN, "Ec2SimpleInputParamsInteger", "SimpleInputParams",
		    "{\"Bam\":10}" },
		{ EC2IN, "Ec2SimpleInputParamsFloat", "SimpleInputParams",
		    "{\"Boo\":10.8}" },
		/* Blobs are base64 strings by the time they get here. */
		{ EC2IN, "Ec2SimpleInputParamsBlob", "SimpleInputParams",
		    "{\"Qux\":\"dmFsdWU=\"}" },
		{ EC2IN, "Ec2Enums", "SimpleInputParams",
		    "{\"FooEnum\":\"Foo\"}" },
		{ EC2IN, "Ec2Query", "SimpleInputParams",
		    "{\"HasQueryName\":\"Hi\"}" },
		/* EC2 upper-cases member names: normalFormat -> NormalFormat;
		 * timestamps arrive as ISO 8601 / epoch numbers. */
		{ EC2IN, "Ec2TimestampsInput", "QueryTimestamps",
		    "{\"normalFormat\":\"2015-01-25T08:00:00Z\","
		    "\"epochMember\":1422172800,\"epochTarget\":1422172800}" },
		{ EC2IN, "Ec2NestedStructures", "NestedStructures",
		    "{\"Nested\":{\"StringArg\":\"foo\",\"OtherArg\":true,"
		    "\"RecursiveArg\":{\"StringArg\":\"baz\"}}}" },
		{ EC2IN, "Ec2ProtocolIdempotencyTokenAutoFillIsSet",
		    "QueryIdempotencyTokenAutoFill",
		    "{\"token\":\"00000000-0000-4000-8000-000000000123\"}" },
		{ EC2LI, "Ec2Lists", "QueryLists",
		    "{\"ListArg\":[\"foo\",\"bar\",\"baz\"],"
		    "\"ComplexListArg\":[{\"hi\":\"hello\"},{\"hi\":\"hola\"}]}" },
		{ EC2LI, "Ec2EmptyQueryLists", "QueryLists",
		    "{\"ListArg\":[]}" },
		{ EC2LI, "Ec2ListArgWithXmlNameMember", "QueryLists",
		    "{\"ListArgWithXmlNameMember\":[\"A\",\"B\"]}" },
		{ EC2LI, "Ec2ListNestedStructWithList", "QueryLists",
		    "{\"NestedWithList\":{\"ListArg\":[\"A\",\"B\"]}}" },
	};

	(void)state;
	check_smithy_form(&smithy_ec2, cases, sizeof(cases) / sizeof(cases[0]));
}

static void
test_smithy_awsquery(void **state)
{
	static const struct smithy_form_case cases[] = {
		{ QIN, "QuerySimpleInputParamsStrings", "SimpleInputParams",
		    "{\"Foo\":\"val1\",\"Bar\":\"val2\"}" },
		{ QIN, "QuerySimpleInputParamsStringAndBooleanTrue",
		    "SimpleInputParams", "{\"Foo\":\"val1\",\"Baz\":true}" },
		{ QIN, "QuerySimpleInputParamsStringsAndBooleanFalse",
		    "SimpleInputParams", "{\"Baz\":false}" },
		{ QIN, "QuerySimpleInputParamsInteger", "SimpleInputParams",
		    "{\"Bam\":10}" },
		{ QIN, "QuerySimpleInputParamsFloat", "SimpleInputParams",
		    "{\"Boo\":10.8}" },
		{ QIN, "QuerySimpleInputParamsBlob", "SimpleInputParams",
		    "{\"Qux\":\"dmFsdWU=\"}" },
		{ QIN, "QueryIntEnums", "SimpleInputParams",
		    "{\"IntegerEnum\":1}" },
		/* Query keeps member names as they are. */
		{ QIN, "QueryTimestampsInput", "QueryTimestamps",
		    "{\"normalFormat\":\"2015-01-25T08:00:00Z\","
		    "\"epochMember\":1422172800,\"epochTarget\":1422172800}" },
		{ QIN, "NestedStructures", "NestedStructures",
		    "{\"Nested\":{\"StringArg\":\"foo\",\"OtherArg\":true,"
		    "\"RecursiveArg\":{\"StringArg\":\"baz\"}}}" },
		{ QIN, "QueryProtocolIdempotencyTokenAutoFillIsSet",
		    "QueryIdempotencyTokenAutoFill",
		    "{\"token\":\"00000000-0000-4000-8000-000000000123\"}" },
		{ QLI, "QueryLists", "QueryLists",
		    "{\"ListArg\":[\"foo\",\"bar\",\"baz\"],"
		    "\"ComplexListArg\":[{\"hi\":\"hello\"},{\"hi\":\"hola\"}]}" },
		{ QLI, "EmptyQueryLists", "QueryLists", "{\"ListArg\":[]}" },
	};

	(void)state;
	check_smithy_form(&smithy_query, cases,
	    sizeof(cases) / sizeof(cases[0]));
}

static void
test_form_params(void **state)
{
	struct aws_request	*req;
	struct aws_http		 h;
	char			*cause = NULL;

	(void)state;
	/* The EC2 DryRun probe of AWS-PROTOCOL.md section 7. */
	req = aws_request_new(aws_service_find("ec2"), "DescribeInstances",
	    "us-east-1");
	aws_request_add(req, "DryRun", "true");
	aws_request_add(req, "MaxResults", "5");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.body,
	    "Action=DescribeInstances&Version=2016-11-15&DryRun=true"
	    "&MaxResults=5");
	aws_http_free(&h);
	aws_request_free(req);

	/* RFC 3986: space %20 (not +), '/', '=', '&', '+', UTF-8 bytes. */
	req = aws_request_new(aws_service_find("ec2"), "CreateSecurityGroup",
	    "us-east-1");
	aws_request_add(req, "GroupName", "open 2/everyone");
	aws_request_add(req, "Description", "a=b&c+d ~-_. \xc3\xa9");
	aws_request_add(req, "TagSpecification.1.ResourceType",
	    "security-group");
	aws_request_add(req, "TagSpecification.1.Tag.1.Key", "CS-Purpose");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.body,
	    "Action=CreateSecurityGroup&Version=2016-11-15"
	    "&GroupName=open%202%2Feveryone"
	    "&Description=a%3Db%26c%2Bd%20~-_.%20%C3%A9"
	    "&TagSpecification.1.ResourceType=security-group"
	    "&TagSpecification.1.Tag.1.Key=CS-Purpose");
	aws_http_free(&h);
	aws_request_free(req);

	/* IAM (query), params then flattened input. */
	req = aws_request_new(aws_service_find("iam"), "ListUsers",
	    "us-east-1");
	aws_request_add(req, "MaxItems", "100");
	aws_request_set_str(req, "Marker", "abc");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.body,
	    "Action=ListUsers&Version=2010-05-08&MaxItems=100&Marker=abc");
	aws_http_free(&h);
	aws_request_free(req);

	/* aws_request_add_flat with EC2 rules: Filter lists. */
	req = aws_request_new(aws_service_find("ec2"), "DescribeInstances",
	    "us-east-1");
	{
		json_t *f = J("[{\"Name\":\"instance-state-name\","
		    "\"Values\":[\"running\",\"stopped\"]}]");
		aws_request_add_flat(req, "Filter", f);
		json_decref(f);
	}
	assert_int_equal(req->nparams, 3);
	assert_string_equal(aws_request_get(req, "Filter.1.Name"),
	    "instance-state-name");
	assert_string_equal(aws_request_get(req, "Filter.1.Values.2"),
	    "stopped");
	aws_request_free(req);

	/* STS AssumeRole with policy ARNs (query lists). */
	req = aws_request_new(aws_service_find("sts"), "AssumeRole",
	    "us-east-1");
	{
		json_t *in = J("{\"RoleArn\":\"arn:aws:iam::1:role/r\","
		    "\"PolicyArns\":[{\"arn\":\"arn:x\"}],"
		    "\"DurationSeconds\":900,\"Null\":null}");
		aws_request_add_flat(req, NULL, in);
		json_decref(in);
	}
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.body,
	    "Action=AssumeRole&Version=2011-06-15"
	    "&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
	    "&PolicyArns.member.1.arn=arn%3Ax&DurationSeconds=900");
	aws_http_free(&h);
	aws_request_free(req);
}

static void
test_encode_errors(void **state)
{
	static const char *const bad_actions[] = {
		"", "Describe Instances", "List\r\nX-Evil: 1", "Get/Thing",
		"A.B",
	};
	struct aws_request	*req;
	struct aws_http		 h;
	char			*cause = NULL;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad_actions) / sizeof(bad_actions[0]); i++) {
		req = aws_request_new(aws_service_find("events"),
		    bad_actions[i], "us-east-1");
		assert_int_equal(aws_encode(req, &h, &cause), -1);
		assert_non_null(strstr(cause, "invalid action"));
		free(cause);
		cause = NULL;
		aws_request_free(req);
	}
	req = aws_request_new(aws_service_find("ec2"), NULL, "us-east-1");
	assert_int_equal(aws_encode(req, &h, &cause), -1);
	free(cause);
	aws_request_free(req);

	req = aws_request_new(aws_service_find("ec2"), "DescribeVpcs",
	    "us-east-1");
	aws_request_add(req, "Version", "2010-01-01");
	assert_int_equal(aws_encode(req, &h, &cause), -1);
	assert_non_null(strstr(cause, "Version"));
	free(cause);
	aws_request_free(req);

	req = aws_request_new(aws_service_find("cloudtrail"), "LookupEvents",
	    "us-east-1");
	req->input = json_array();
	assert_int_equal(aws_encode(req, &h, &cause), -1);
	assert_non_null(strstr(cause, "object"));
	free(cause);
	aws_request_free(req);

	assert_int_equal(aws_encode(NULL, &h, &cause), -1);
	free(cause);
}

/* ---- JSON 1.1 ------------------------------------------------------------ */

#define KS "aws-fixtures/smithy-aws-protocol-tests/awsJson1_1/kitchen-sink.smithy"
#define EO "aws-fixtures/smithy-aws-protocol-tests/awsJson1_1/empty-operation.smithy"

static const struct aws_service smithy_json = {
	"jsontest", "jsontest", "jsontest", "JSONTEST", "x", AWS_PROTO_JSON,
	"2018-01-01", "JsonProtocol", "1.1", 0, NULL,
};

static void
test_smithy_json(void **state)
{
	static const struct {
		const char	*id;
		const char	*params;
	} cases[] = {
		{ "serializes_string_shapes", "{\"String\":\"abc xyz\"}" },
		{ "serializes_integer_shapes", "{\"Integer\":1234}" },
		{ "serializes_long_shapes", "{\"Long\":999999999999}" },
		{ "serializes_float_shapes", "{\"Float\":1234.5}" },
		{ "serializes_double_shapes", "{\"Double\":1234.5}" },
		{ "serializes_boolean_shapes_true", "{\"Boolean\":true}" },
		{ "serializes_boolean_shapes_false", "{\"Boolean\":false}" },
		{ "serializes_timestamp_shapes", "{\"Timestamp\":946845296}" },
		{ "serializes_list_shapes",
		    "{\"ListOfStrings\":[\"abc\",\"mno\",\"xyz\"]}" },
		{ "serializes_empty_list_shapes", "{\"ListOfStrings\":[]}" },
		{ "serializes_list_of_structure_shapes",
		    "{\"ListOfStructs\":[{\"Value\":\"abc\"},"
		    "{\"Value\":\"mno\"},{\"Value\":\"xyz\"}]}" },
		{ "serializes_map_shapes",
		    "{\"MapOfStrings\":{\"abc\":\"xyz\",\"mno\":\"hjk\"}}" },
		{ "serializes_structure_shapes",
		    "{\"SimpleStruct\":{\"Value\":\"abc\"}}" },
		{ "serializes_empty_structure_shapes", "{\"SimpleStruct\":{}}" },
	};
	struct aws_request	*req;
	struct aws_http		 h;
	char			*text, *block, *body, *target, *ctype;
	char			*cause = NULL;
	size_t			 i;

	(void)state;
	text = awstest_read(KS, NULL);
	assert_non_null(text);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		block = smithy_case(text, cases[i].id);
		if (block == NULL)
			fail_msg("no case %s", cases[i].id);
		body = smithy_field(block, "body");
		target = smithy_header(block, "X-Amz-Target");
		ctype = smithy_header(block, "Content-Type");
		assert_non_null(body);
		assert_non_null(target);
		req = aws_request_new(&smithy_json, "KitchenSinkOperation",
		    "us-east-1");
		req->input = J(cases[i].params);
		assert_int_equal(aws_encode(req, &h, &cause), 0);
		if (strcmp(h.body, body) != 0)
			fail_msg("%s:\n got  %s\n want %s", cases[i].id,
			    h.body, body);
		assert_string_equal(hdr(&h, "X-Amz-Target"), target);
		assert_string_equal(hdr(&h, "Content-Type"), ctype);
		assert_string_equal(h.method, "POST");
		assert_string_equal(h.path, "/");
		aws_http_free(&h);
		aws_request_free(req);
		free(body);
		free(target);
		free(ctype);
		free(block);
	}
	free(text);

	/* No input: "{}" (json_1_1_client_sends_empty_payload_...). */
	text = awstest_read(EO, NULL);
	assert_non_null(text);
	block = smithy_case(text,
	    "json_1_1_client_sends_empty_payload_for_no_input_shape");
	assert_non_null(block);
	body = smithy_field(block, "body");
	req = aws_request_new(&smithy_json, "EmptyOperation", "us-east-1");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.body, body);
	assert_string_equal(hdr(&h, "X-Amz-Target"),
	    "JsonProtocol.EmptyOperation");
	aws_http_free(&h);
	aws_request_free(req);
	free(body);
	free(block);
	free(text);
}

static void
test_json_services(void **state)
{
	struct aws_request	*req;
	struct aws_http		 h;
	char			*cause = NULL;

	(void)state;
	req = aws_request_new(aws_service_find("cloudtrail"), "LookupEvents",
	    "us-east-1");
	aws_request_set(req, "LookupAttributes", J("[{\"AttributeKey\":"
	    "\"EventName\",\"AttributeValue\":\"DescribeInstances\"}]"));
	aws_request_set(req, "StartTime", json_integer(1767225600));
	aws_request_set(req, "MaxResults", json_integer(50));
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(hdr(&h, "X-Amz-Target"),
	    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
	    "LookupEvents");
	assert_string_equal(hdr(&h, "Content-Type"),
	    "application/x-amz-json-1.1");
	assert_string_equal(h.body, "{\"LookupAttributes\":[{\"AttributeKey\":"
	    "\"EventName\",\"AttributeValue\":\"DescribeInstances\"}],"
	    "\"StartTime\":1767225600,\"MaxResults\":50}");
	aws_http_free(&h);
	aws_request_free(req);

	/* Params become string members unless the input has them. */
	req = aws_request_new(aws_service_find("ssm"), "GetParameter",
	    "eu-west-1");
	aws_request_add(req, "Name", "/aws/service/ami-amazon-linux-latest/"
	    "al2023-ami-kernel-default-x86_64");
	aws_request_set(req, "WithDecryption", json_false());
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(hdr(&h, "X-Amz-Target"), "AmazonSSM.GetParameter");
	assert_string_equal(h.body, "{\"WithDecryption\":false,\"Name\":"
	    "\"/aws/service/ami-amazon-linux-latest/"
	    "al2023-ami-kernel-default-x86_64\"}");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(aws_service_find("events"), "ListRules",
	    "eu-west-1");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(hdr(&h, "X-Amz-Target"), "AWSEvents.ListRules");
	assert_string_equal(h.body, "{}");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(aws_service_find("logs"),
	    "DescribeMetricFilters", "eu-west-1");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(hdr(&h, "X-Amz-Target"),
	    "Logs_20140328.DescribeMetricFilters");
	aws_http_free(&h);
	aws_request_free(req);
}

/* ---- REST-JSON: GuardDuty ----------------------------------------------- */

static void
test_guardduty(void **state)
{
	struct aws_request	*req;
	struct aws_http		 h;
	char			*cause = NULL;
	const struct aws_service *gd = aws_service_find("guardduty");

	(void)state;
	req = aws_request_new(gd, "ListDetectors", "us-east-1");
	aws_request_add(req, "MaxResults", "5");
	aws_request_add(req, "NextToken", "a/b c");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.path, "/detector");
	assert_string_equal(h.query, "maxResults=5&nextToken=a%2Fb%20c");
	assert_int_equal(h.body_len, 0);
	assert_null(hdr(&h, "Content-Type"));
	aws_http_free(&h);
	aws_request_free(req);

	/* PascalCase model names in, camelCase wire names out; map keys
	 * under criterion kept; the path member URI-encoded and not in
	 * the body. */
	req = aws_request_new(gd, "ListFindings", "us-east-1");
	req->input = J("{\"DetectorId\":\"12ab/34 cd\","
	    "\"FindingCriteria\":{\"Criterion\":{"
	    "\"service.action.awsApiCallAction.api\":{\"Eq\":[\"StopLogging\"]},"
	    "\"updatedAt\":{\"GreaterThanOrEqual\":1700000000000}}},"
	    "\"SortCriteria\":{\"AttributeName\":\"updatedAt\","
	    "\"OrderBy\":\"DESC\"},\"MaxResults\":\"50\"}");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "POST");
	assert_string_equal(h.path, "/detector/12ab%2F34%20cd/findings");
	assert_string_equal(h.query, "");
	assert_string_equal(hdr(&h, "Content-Type"), "application/json");
	assert_string_equal(h.body, "{\"findingCriteria\":{\"criterion\":{"
	    "\"service.action.awsApiCallAction.api\":{\"eq\":[\"StopLogging\"]},"
	    "\"updatedAt\":{\"greaterThanOrEqual\":1700000000000}}},"
	    "\"sortCriteria\":{\"attributeName\":\"updatedAt\","
	    "\"orderBy\":\"DESC\"},\"maxResults\":50}");
	aws_http_free(&h);
	aws_request_free(req);

	/* camelCase wire names in work the same. */
	req = aws_request_new(gd, "GetFindings", "us-east-1");
	req->input = J("{\"detectorId\":\"d1\",\"findingIds\":[\"f1\",\"f2\"]}");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.path, "/detector/d1/findings/get");
	assert_string_equal(h.body, "{\"findingIds\":[\"f1\",\"f2\"]}");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(gd, "GetDetector", "us-east-1");
	aws_request_add(req, "DetectorId", "d1");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.path, "/detector/d1");
	assert_string_equal(h.body, "");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(gd, "DeleteDetector", "us-east-1");
	aws_request_add(req, "DetectorId", "cloudsaga-0123");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "DELETE");
	assert_string_equal(h.path, "/detector/cloudsaga-0123");
	assert_int_equal(h.body_len, 0);
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(gd, "UpdateDetector", "us-east-1");
	aws_request_add(req, "DetectorId", "cloudsaga-0123");
	aws_request_add(req, "Enable", "false");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "POST");
	assert_string_equal(h.path, "/detector/cloudsaga-0123");
	assert_string_equal(h.body, "{\"enable\":false}");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(gd, "UpdateDetector", "us-east-1");
	aws_request_add(req, "DetectorId", "d");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.body, "{}");
	aws_http_free(&h);
	aws_request_free(req);
}

static void
test_guardduty_errors(void **state)
{
	static const struct {
		const char	*action;
		const char	*input;
		const char	*cause;
	} cases[] = {
		{ "CreateDetector", "{}", "not supported" },
		{ "ListFindings", "{}", "needs DetectorId" },
		{ "ListFindings", "{\"DetectorId\":\"\"}", "empty" },
		{ "GetDetector", "{\"DetectorId\":\"d\",\"Foo\":1}",
		    "no input member Foo" },
		{ "ListDetectors", "{\"MaxResults\":\"many\"}", "integer" },
		{ "UpdateDetector", "{\"DetectorId\":\"d\",\"Enable\":\"yes\"}",
		    "boolean" },
		{ "GetFindings", "{\"DetectorId\":\"d\"}", "needs FindingIds" },
		{ "GetDetector", "{\"DetectorId\":\"d\",\"detectorId\":\"e\"}",
		    "twice" },
		{ "GetDetector", "{\"DetectorId\":[\"d\"]}", "string" },
	};
	struct aws_request	*req;
	struct aws_http		 h;
	char			*cause = NULL;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req = aws_request_new(aws_service_find("guardduty"),
		    cases[i].action, "us-east-1");
		req->input = J(cases[i].input);
		assert_int_equal(aws_encode(req, &h, &cause), -1);
		if (strstr(cause, cases[i].cause) == NULL)
			fail_msg("%s %s: cause \"%s\" lacks \"%s\"",
			    cases[i].action, cases[i].input, cause,
			    cases[i].cause);
		free(cause);
		cause = NULL;
		aws_request_free(req);
	}
}

/* ---- REST-XML: S3 -------------------------------------------------------- */

#define PAB_XML	"<PublicAccessBlockConfiguration " \
	"xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" \
	"<BlockPublicAcls>true</BlockPublicAcls>" \
	"<IgnorePublicAcls>false</IgnorePublicAcls>" \
	"<BlockPublicPolicy>true</BlockPublicPolicy>" \
	"<RestrictPublicBuckets>false</RestrictPublicBuckets>" \
	"</PublicAccessBlockConfiguration>"
/* base64(md5(PAB_XML)), computed independently with Python hashlib. */
#define PAB_MD5	"7Jt+sTbIyR3BHY+p64CCbQ=="

/* The catalogue's REST operations: Lambda, Bedrock runtime, S3 payloads. */
static void
test_rest_catalogue(void **state)
{
	struct aws_request	*req;
	struct aws_http		 h;
	char			*cause = NULL;
	size_t			 i;
	const char		*md5 = NULL, *ctype = NULL;

	(void)state;
	req = aws_request_new(aws_service_find("lambda"), "AddPermission",
	    "us-east-1");
	req->input = J("{\"FunctionName\":\"cloudsaga-x y\","
	    "\"StatementId\":\"s\",\"Action\":\"lambda:InvokeFunction\","
	    "\"Principal\":\"*\"}");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "POST");
	assert_string_equal(h.path, "/2015-03-31/functions/cloudsaga-x%20y/policy");
	assert_string_equal(h.body, "{\"StatementId\":\"s\",\"Action\":"
	    "\"lambda:InvokeFunction\",\"Principal\":\"*\"}");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(aws_service_find("lambda"), "UpdateFunctionCode",
	    "us-east-1");
	req->input = J("{\"FunctionName\":\"f\",\"S3Bucket\":\"b\","
	    "\"S3Key\":\"k\",\"Publish\":\"true\"}");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "PUT");
	assert_string_equal(h.path, "/2015-03-31/functions/f/code");
	assert_string_equal(h.body,
	    "{\"S3Bucket\":\"b\",\"S3Key\":\"k\",\"Publish\":true}");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(aws_service_find("lambda"),
	    "UpdateFunctionConfiguration", "us-east-1");
	req->input = J("{\"FunctionName\":\"f\",\"Layers\":[\"arn:x\"]}");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.path, "/2015-03-31/functions/f/configuration");
	assert_string_equal(h.body, "{\"Layers\":[\"arn:x\"]}");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(aws_service_find("bedrock"), "InvokeModel",
	    "us-west-2");
	req->input = J("{\"modelId\":\"cloudsaga-1\","
	    "\"body\":{\"inputText\":\"x\"}}");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "POST");
	assert_string_equal(h.path, "/model/cloudsaga-1/invoke");
	assert_string_equal(h.body, "{\"inputText\":\"x\"}");
	for (i = 0; i < h.nheaders; i++)
		if (strcmp(h.headers[i].name, "Content-Type") == 0)
			ctype = h.headers[i].value;
	assert_non_null(ctype);
	assert_string_equal(ctype, "application/json");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(aws_service_find("s3"), "PutBucketPolicy",
	    "us-east-1");
	req->input = J("{\"Bucket\":\"b\",\"Policy\":\"{}\"}");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "PUT");
	assert_string_equal(h.query, "policy");
	assert_string_equal(h.bucket, "b");
	assert_string_equal(h.body, "{}");
	for (i = 0; i < h.nheaders; i++)
		if (strcmp(h.headers[i].name, "Content-MD5") == 0)
			md5 = h.headers[i].value;
	assert_non_null(md5);
	assert_string_equal(md5, "mZFLkyvTelC5g8XnyQrpOw==");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(aws_service_find("s3"),
	    "PutBucketLifecycleConfiguration", "us-east-1");
	req->input = J("{\"Bucket\":\"b\"}");
	assert_int_equal(aws_encode(req, &h, &cause), -1);
	assert_non_null(strstr(cause, "needs LifecycleConfiguration"));
	free(cause);
	cause = NULL;
	aws_request_free(req);
}

static void
test_s3(void **state)
{
	const struct aws_service	*s3 = aws_service_find("s3");
	struct aws_request		*req;
	struct aws_http			 h;
	char				*cause = NULL;

	(void)state;
	req = aws_request_new(s3, "ListBuckets", "us-east-1");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.path, "/");
	assert_string_equal(h.query, "");
	assert_null(h.bucket);
	assert_int_equal(h.body_len, 0);
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(s3, "ListBuckets", "us-east-1");
	aws_request_add(req, "MaxBuckets", "10");
	aws_request_add(req, "Prefix", "cloudsaga-");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.query, "max-buckets=10&prefix=cloudsaga-");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(s3, "GetBucketLocation", "us-east-1");
	aws_request_add(req, "Bucket", "my.bucket");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.path, "/");
	assert_string_equal(h.query, "location");
	assert_string_equal(h.bucket, "my.bucket");
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(s3, "PutPublicAccessBlock", "us-east-1");
	req->input = J("{\"Bucket\":\"cloudsaga-1-abc\","
	    "\"ExpectedBucketOwner\":\"123456789012\","
	    "\"PublicAccessBlockConfiguration\":{\"RestrictPublicBuckets\":false,"
	    "\"BlockPublicAcls\":true,\"IgnorePublicAcls\":false,"
	    "\"BlockPublicPolicy\":true}}");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "PUT");
	assert_string_equal(h.path, "/");
	assert_string_equal(h.query, "publicAccessBlock");
	assert_string_equal(h.bucket, "cloudsaga-1-abc");
	assert_string_equal(h.body, PAB_XML);
	assert_int_equal(h.body_len, strlen(PAB_XML));
	assert_string_equal(hdr(&h, "Content-MD5"), PAB_MD5);
	assert_string_equal(hdr(&h, "x-amz-expected-bucket-owner"),
	    "123456789012");
	aws_http_free(&h);
	aws_request_free(req);

	/* The four members as plain params (the CLI's --param form). */
	req = aws_request_new(s3, "PutPublicAccessBlock", "us-east-1");
	aws_request_add(req, "Bucket", "cloudsaga-1-abc");
	aws_request_add(req, "BlockPublicAcls", "true");
	aws_request_add(req, "IgnorePublicAcls", "FALSE");
	aws_request_add(req, "BlockPublicPolicy", "true");
	aws_request_add(req, "RestrictPublicBuckets", "false");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.body, PAB_XML);
	assert_string_equal(hdr(&h, "Content-MD5"), PAB_MD5);
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(s3, "DeletePublicAccessBlock", "us-east-1");
	aws_request_add(req, "Bucket", "cloudsaga-1-abc");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "DELETE");
	assert_string_equal(h.query, "publicAccessBlock");
	assert_int_equal(h.body_len, 0);
	aws_http_free(&h);
	aws_request_free(req);

	req = aws_request_new(s3, "GetPublicAccessBlock", "us-east-1");
	aws_request_add(req, "Bucket", "b-1");
	assert_int_equal(aws_encode(req, &h, &cause), 0);
	assert_string_equal(h.method, "GET");
	assert_string_equal(h.query, "publicAccessBlock");
	aws_http_free(&h);
	aws_request_free(req);
}

static void
test_s3_errors(void **state)
{
	static const struct {
		const char	*action;
		const char	*input;
		const char	*cause;
	} cases[] = {
		{ "PutObject", "{\"Bucket\":\"b\"}", "not supported" },
		{ "GetBucketLocation", "{}", "needs Bucket" },
		{ "GetBucketLocation", "{\"Bucket\":\"a/b\"}", "invalid bucket" },
		{ "GetBucketLocation", "{\"Bucket\":\"a b\"}", "invalid bucket" },
		{ "GetBucketLocation", "{\"Bucket\":\"\"}", "invalid bucket" },
		{ "PutPublicAccessBlock", "{\"Bucket\":\"b\"}",
		    "PublicAccessBlockConfiguration" },
		{ "PutPublicAccessBlock", "{\"Bucket\":\"b\","
		    "\"PublicAccessBlockConfiguration\":{}}",
		    "PublicAccessBlockConfiguration" },
		{ "PutPublicAccessBlock", "{\"Bucket\":\"b\","
		    "\"BlockPublicAcls\":\"yes\"}", "true or false" },
		{ "PutPublicAccessBlock", "{\"Bucket\":\"b\","
		    "\"PublicAccessBlockConfiguration\":{\"Foo\":true}}",
		    "no member Foo" },
		{ "PutPublicAccessBlock", "{\"Bucket\":\"b\","
		    "\"PublicAccessBlockConfiguration\":{\"BlockPublicAcls\":"
		    "true},\"IgnorePublicAcls\":true}", "not both" },
		{ "GetPublicAccessBlock", "{\"Bucket\":\"b\","
		    "\"ExpectedBucketOwner\":\"1\\r\\nX: y\"}",
		    "control character" },
	};
	struct aws_request	*req;
	struct aws_http		 h;
	char			*cause = NULL;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		req = aws_request_new(aws_service_find("s3"), cases[i].action,
		    "us-east-1");
		req->input = J(cases[i].input);
		assert_int_equal(aws_encode(req, &h, &cause), -1);
		if (strstr(cause, cases[i].cause) == NULL)
			fail_msg("%s %s: cause \"%s\" lacks \"%s\"",
			    cases[i].action, cases[i].input, cause,
			    cases[i].cause);
		free(cause);
		cause = NULL;
		aws_request_free(req);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_service_table),
		cmocka_unit_test(test_service_find),
		cmocka_unit_test(test_safety_names),
		cmocka_unit_test(test_request_params),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_dry_run),
		cmocka_unit_test(test_user_agent),
		cmocka_unit_test(test_smithy_ec2query),
		cmocka_unit_test(test_smithy_awsquery),
		cmocka_unit_test(test_form_params),
		cmocka_unit_test(test_encode_errors),
		cmocka_unit_test(test_smithy_json),
		cmocka_unit_test(test_json_services),
		cmocka_unit_test(test_guardduty),
		cmocka_unit_test(test_guardduty_errors),
		cmocka_unit_test(test_rest_catalogue),
		cmocka_unit_test(test_s3),
		cmocka_unit_test(test_s3_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
