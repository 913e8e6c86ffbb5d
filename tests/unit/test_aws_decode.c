/*
 * aws decoding: botocore's response-parsing samples decode to the values
 * botocore itself gets (the .json beside each .xml), the Smithy error
 * compliance cases give the right codes, and malformed, empty and
 * transport-failed responses are classified as the header says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "aws.h"
#include "awstest.h"
#include "buf.h"
#include "xmalloc.h"

#define BOTO	"aws-fixtures/botocore-response-parsing/"
#define SMITHY	"aws-fixtures/smithy-aws-protocol-tests/"

/* A response: status, body, and up to 4 headers as name/value pairs. */
static void
mkresp(struct http_response *r, long status, const char *body,
    const char *h1, const char *v1, const char *h2, const char *v2)
{
	memset(r, 0, sizeof(*r));
	r->error = HTTP_OK;
	r->status = status;
	r->body = (char *)(body != NULL ? body : "");
	r->body_len = body != NULL ? strlen(body) : 0;
	r->headers = xcalloc(2, sizeof(*r->headers));
	if (h1 != NULL) {
		r->headers[r->nheaders].name = (char *)h1;
		r->headers[r->nheaders++].value = (char *)v1;
	}
	if (h2 != NULL) {
		r->headers[r->nheaders].name = (char *)h2;
		r->headers[r->nheaders++].value = (char *)v2;
	}
}

static void
decode(const char *svc, const char *action, long status, const char *body,
    const char *h1, const char *v1, struct aws_result *res)
{
	struct aws_request	*req;
	struct http_response	 r;

	req = aws_request_new(aws_service_find(svc), action, "us-east-1");
	mkresp(&r, status, body, h1, v1, NULL, NULL);
	aws_result_init(res);
	aws_decode(req, &r, res);
	free(r.headers);
	aws_request_free(req);
}

static json_t *
load_json(const char *rel)
{
	json_error_t	 err;
	json_t		*j;
	char		*text;

	text = awstest_read(rel, NULL);
	assert_non_null(text);
	j = json_loads(text, 0, &err);
	free(text);
	if (j == NULL)
		fail_msg("%s: %s", rel, err.text);
	return j;
}

/* botocore's typed value as the text our tree keeps. */
static char *
as_text(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	return NULL;
}

static void
expect_same(json_t *boto, const char *bpath, json_t *ours, const char *opath)
{
	json_t	*bv = aws_json_path(boto, bpath);
	char	*want;

	if (bv == NULL)
		fail_msg("botocore sample lacks %s", bpath);
	want = as_text(bv);
	assert_non_null(want);
	if (aws_json_str(ours, opath) == NULL)
		fail_msg("decoded tree lacks %s (want \"%s\")", opath, want);
	if (strcmp(aws_json_str(ours, opath), want) != 0)
		fail_msg("%s: \"%s\" != botocore %s \"%s\"", opath,
		    aws_json_str(ours, opath), bpath, want);
	free(want);
}

/* ---- botocore samples ----------------------------------------------------- */

static void
check_error_sample(const char *svc, const char *name, long status,
    enum aws_outcome outcome)
{
	struct aws_result	 res;
	json_t			*want;
	char			*xml, *rel;

	rel = xprintf(BOTO "errors-%s.xml", name);
	xml = awstest_read(rel, NULL);
	assert_non_null(xml);
	free(rel);
	rel = xprintf(BOTO "errors-%s.json", name);
	want = load_json(rel);
	free(rel);

	decode(svc, "Anything", status, xml, NULL, NULL, &res);
	assert_string_equal(res.error_code, aws_json_str(want, "Error.Code"));
	assert_string_equal(res.error_message,
	    aws_json_str(want, "Error.Message"));
	assert_string_equal(res.request_id,
	    aws_json_str(want, "ResponseMetadata.RequestId"));
	assert_int_equal(res.status, status);
	assert_null(res.data);
	if (res.outcome != outcome)
		fail_msg("%s: outcome %s, want %s", name,
		    aws_outcome_name(res.outcome), aws_outcome_name(outcome));
	aws_result_clear(&res);
	json_decref(want);
	free(xml);
}

static void
test_botocore_errors(void **state)
{
	(void)state;
	check_error_sample("ec2", "ec2-describe-instances", 400, AWS_ERROR);
	check_error_sample("iam", "iam-get-user", 404, AWS_ERROR);
	check_error_sample("sts", "sts-get-session-token", 403, AWS_DENIED);
}

static void
test_botocore_ec2_instances(void **state)
{
	/* botocore member (relative to an instance) -> our XML path. */
	static const char *const inst_fields[][2] = {
		{ "InstanceId", "instanceId" }, { "ImageId", "imageId" },
		{ "State.Code", "instanceState.code" },
		{ "State.Name", "instanceState.name" },
		{ "PrivateDnsName", "privateDnsName" },
		{ "PublicDnsName", "dnsName" },
		{ "StateTransitionReason", "reason" }, { "KeyName", "keyName" },
		{ "AmiLaunchIndex", "amiLaunchIndex" },
		{ "InstanceType", "instanceType" },
		{ "LaunchTime", "launchTime" },
		{ "Placement.AvailabilityZone", "placement.availabilityZone" },
		{ "Placement.GroupName", "placement.groupName" },
		{ "Placement.Tenancy", "placement.tenancy" },
		{ "Monitoring.State", "monitoring.state" },
		{ "SecurityGroups.0.GroupId", "groupSet.0.groupId" },
		{ "SecurityGroups.0.GroupName", "groupSet.0.groupName" },
		{ "Architecture", "architecture" },
		{ "RootDeviceType", "rootDeviceType" },
		{ "RootDeviceName", "rootDeviceName" },
		{ "BlockDeviceMappings.0.DeviceName",
		    "blockDeviceMapping.0.deviceName" },
		{ "BlockDeviceMappings.0.Ebs.VolumeId",
		    "blockDeviceMapping.0.ebs.volumeId" },
		{ "BlockDeviceMappings.0.Ebs.Status",
		    "blockDeviceMapping.0.ebs.status" },
		{ "BlockDeviceMappings.0.Ebs.AttachTime",
		    "blockDeviceMapping.0.ebs.attachTime" },
		{ "BlockDeviceMappings.0.Ebs.DeleteOnTermination",
		    "blockDeviceMapping.0.ebs.deleteOnTermination" },
		{ "VirtualizationType", "virtualizationType" },
		{ "ClientToken", "clientToken" }, { "Hypervisor", "hypervisor" },
		{ "EbsOptimized", "ebsOptimized" },
	};
	/* Present on some instances only. */
	static const char *const opt_fields[][2] = {
		{ "KernelId", "kernelId" }, { "Platform", "platform" },
		{ "PublicIpAddress", "ipAddress" },
		{ "PrivateIpAddress", "privateIpAddress" },
		{ "StateReason.Code", "stateReason.code" },
		{ "StateReason.Message", "stateReason.message" },
		{ "Tags.0.Key", "tagSet.0.key" },
		{ "Tags.0.Value", "tagSet.0.value" },
	};
	struct aws_result	 res;
	json_t			*want, *wres, *ores, *winst, *oinst, *l;
	json_t			*wr, *or;
	char			*xml;
	size_t			 i, j, k;

	(void)state;
	xml = awstest_read(BOTO "responses-ec2-describe-instances.xml", NULL);
	assert_non_null(xml);
	want = load_json(BOTO "responses-ec2-describe-instances.json");
	decode("ec2", "DescribeInstances", 200, xml, NULL, NULL, &res);
	assert_int_equal(res.outcome, AWS_OK);
	assert_null(res.error_code);
	assert_non_null(res.data);
	assert_string_equal(res.request_id,
	    aws_json_str(want, "ResponseMetadata.RequestId"));

	wres = json_object_get(want, "Reservations");
	ores = aws_json_list(json_object_get(res.data, "reservationSet"));
	assert_int_equal(json_array_size(ores), json_array_size(wres));
	assert_int_equal(json_array_size(ores), 2);
	json_array_foreach(wres, i, wr) {
		or = json_array_get(ores, i);
		expect_same(wr, "ReservationId", or, "reservationId");
		expect_same(wr, "OwnerId", or, "ownerId");
		expect_same(wr, "Groups.0.GroupId", or, "groupSet.0.groupId");
		l = aws_json_list(json_object_get(or, "instancesSet"));
		assert_int_equal(json_array_size(l), json_array_size(
		    json_object_get(wr, "Instances")));
		json_array_foreach(json_object_get(wr, "Instances"), j,
		    winst) {
			oinst = json_array_get(l, j);
			for (k = 0; k < sizeof(inst_fields) /
			    sizeof(inst_fields[0]); k++)
				expect_same(winst, inst_fields[k][0], oinst,
				    inst_fields[k][1]);
			for (k = 0; k < sizeof(opt_fields) /
			    sizeof(opt_fields[0]); k++) {
				if (aws_json_path(winst, opt_fields[k][0])
				    != NULL)
					expect_same(winst, opt_fields[k][0],
					    oinst, opt_fields[k][1]);
				else
					assert_null(aws_json_path(oinst,
					    opt_fields[k][1]));
			}
			/* Empty lists come back empty, whatever shape. */
			{
				json_t *e = aws_json_list(json_object_get(
				    oinst, "productCodes"));
				assert_int_equal(json_array_size(e), 0);
				json_decref(e);
				e = aws_json_list(json_object_get(oinst,
				    "networkInterfaceSet"));
				assert_int_equal(json_array_size(e), 0);
				json_decref(e);
			}
		}
		json_decref(l);
	}
	json_decref(ores);
	aws_result_clear(&res);
	json_decref(want);
	free(xml);
}

static void
test_botocore_iam_users(void **state)
{
	static const char *const fields[] = {
		"Path", "UserName", "UserId", "Arn",
	};
	struct aws_result	 res;
	json_t			*want, *users, *u;
	char			*xml;
	size_t			 i, k;

	(void)state;
	xml = awstest_read(BOTO "responses-iam-list-users.xml", NULL);
	assert_non_null(xml);
	want = load_json(BOTO "responses-iam-list-users.json");
	decode("iam", "ListUsers", 200, xml, NULL, NULL, &res);
	assert_int_equal(res.outcome, AWS_OK);
	assert_string_equal(res.request_id,
	    aws_json_str(want, "ResponseMetadata.RequestId"));
	/* The Result wrapper and ResponseMetadata are gone. */
	assert_null(json_object_get(res.data, "ListUsersResult"));
	assert_null(json_object_get(res.data, "ResponseMetadata"));
	expect_same(want, "IsTruncated", res.data, "IsTruncated");
	users = aws_json_list(json_object_get(res.data, "Users"));
	assert_int_equal(json_array_size(users), 2);
	json_array_foreach(json_object_get(want, "Users"), i, u) {
		for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++) {
			char *p = xprintf("%zu.%s", i, fields[k]);

			expect_same(u, fields[k], users, p);
			free(p);
		}
	}
	json_decref(users);
	aws_result_clear(&res);
	json_decref(want);
	free(xml);
}

static void
test_botocore_sts_credentials(void **state)
{
	static const char *const fields[] = {
		"Credentials.AccessKeyId", "Credentials.SecretAccessKey",
		"Credentials.SessionToken", "Credentials.Expiration",
	};
	struct aws_result	 res;
	json_t			*want;
	char			*xml;
	size_t			 k;

	(void)state;
	xml = awstest_read(BOTO "responses-sts-get-session-token.xml", NULL);
	assert_non_null(xml);
	want = load_json(BOTO "responses-sts-get-session-token.json");
	decode("sts", "GetSessionToken", 200, xml, NULL, NULL, &res);
	assert_int_equal(res.outcome, AWS_OK);
	for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
		expect_same(want, fields[k], res.data, fields[k]);
	assert_string_equal(res.request_id,
	    aws_json_str(want, "ResponseMetadata.RequestId"));
	aws_result_clear(&res);
	json_decref(want);
	free(xml);
}

/* ---- Smithy error cases ---------------------------------------------------- */

static void
check_smithy_xml(const char *svc, const char *file, const char *id,
    const char *code, const char *message, const char *reqid)
{
	struct aws_result	 res;
	char			*text, *block, *body;
	long			 status;

	text = awstest_read(file, NULL);
	assert_non_null(text);
	block = smithy_case(text, id);
	if (block == NULL)
		fail_msg("no case %s", id);
	body = smithy_field(block, "body");
	status = smithy_code(block);
	assert_non_null(body);
	decode(svc, "GreetingWithErrors", status, body, "Content-Type",
	    "text/xml", &res);
	if (code == NULL) {
		assert_null(res.error_code);
		assert_int_equal(res.outcome, AWS_OK);
		assert_string_equal(aws_json_str(res.data, "greeting"),
		    "Hello");
	} else {
		assert_string_equal(res.error_code, code);
		assert_int_equal(res.status, status);
		assert_int_equal(res.outcome, AWS_ERROR);
	}
	if (message == NULL)
		assert_null(res.error_message);
	else
		assert_string_equal(res.error_message, message);
	if (reqid == NULL)
		assert_null(res.request_id);
	else
		assert_string_equal(res.request_id, reqid);
	aws_result_clear(&res);
	free(body);
	free(block);
	free(text);
}

static void
test_smithy_xml_errors(void **state)
{
	(void)state;
	check_smithy_xml("ec2", SMITHY "ec2Query/xml-errors.smithy",
	    "Ec2GreetingWithErrors", NULL, NULL, "requestid");
	check_smithy_xml("ec2", SMITHY "ec2Query/xml-errors.smithy",
	    "Ec2InvalidGreetingError", "InvalidGreeting", "Hi", "foo-id");
	check_smithy_xml("ec2", SMITHY "ec2Query/xml-errors.smithy",
	    "Ec2ComplexError", "ComplexError", "Hi", "foo-id");
	check_smithy_xml("iam", SMITHY "awsQuery/xml-errors.smithy",
	    "QueryGreetingWithErrors", NULL, NULL, NULL);
	check_smithy_xml("iam", SMITHY "awsQuery/xml-errors.smithy",
	    "QueryInvalidGreetingError", "InvalidGreeting", "Hi", "foo-id");
	check_smithy_xml("iam", SMITHY "awsQuery/xml-errors.smithy",
	    "QueryComplexError", "ComplexError", NULL, "foo-id");
	check_smithy_xml("iam", SMITHY "awsQuery/xml-errors.smithy",
	    "QueryCustomizedError", "Customized", "Hi", "foo-id");
}

static void
test_smithy_json_errors(void **state)
{
	static const struct {
		const char	*id, *code, *message;
	} cases[] = {
		{ "AwsJson11InvalidGreetingError", "InvalidGreeting", "Hi" },
		{ "AwsJson11ComplexError", "ComplexError", NULL },
		{ "AwsJson11EmptyComplexError", "ComplexError", NULL },
		{ "AwsJson11FooErrorUsingXAmznErrorType", "FooError", NULL },
		{ "AwsJson11FooErrorUsingXAmznErrorTypeWithUri", "FooError",
		    NULL },
		{ "AwsJson11FooErrorUsingXAmznErrorTypeWithUriAndNamespace",
		    "FooError", NULL },
		{ "AwsJson11FooErrorUsingCode", "FooError", NULL },
		{ "AwsJson11FooErrorUsingCodeAndNamespace", "FooError", NULL },
		{ "AwsJson11FooErrorUsingCodeUriAndNamespace", "FooError",
		    NULL },
		{ "AwsJson11FooErrorWithDunderType", "FooError", NULL },
		{ "AwsJson11FooErrorWithDunderTypeAndNamespace", "FooError",
		    NULL },
		{ "AwsJson11FooErrorWithDunderTypeAndDifferentNamespace",
		    "FooError", NULL },
		{ "AwsJson11FooErrorWithDunderTypeUriAndNamespace", "FooError",
		    NULL },
		{ "AwsJson11FooErrorWithNestedTypeProperty", "FooError", NULL },
	};
	struct aws_request	*req;
	struct http_response	 r;
	struct aws_result	 res;
	char			*text, *block, *body, *etype;
	long			 status;
	size_t			 i;

	(void)state;
	text = awstest_read(SMITHY "awsJson1_1/errors.smithy", NULL);
	assert_non_null(text);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		block = smithy_case(text, cases[i].id);
		if (block == NULL)
			fail_msg("no case %s", cases[i].id);
		body = smithy_field(block, "body");
		etype = smithy_header(block, "X-Amzn-Errortype");
		status = smithy_code(block);
		req = aws_request_new(aws_service_find("cloudtrail"),
		    "GreetingWithErrors", "us-east-1");
		mkresp(&r, status, body, "X-Amzn-Errortype", etype,
		    "x-amzn-RequestId", "rid-1");
		aws_result_init(&res);
		aws_decode(req, &r, &res);
		if (res.error_code == NULL ||
		    strcmp(res.error_code, cases[i].code) != 0)
			fail_msg("%s: code %s, want %s", cases[i].id,
			    res.error_code, cases[i].code);
		if (cases[i].message != NULL)
			assert_string_equal(res.error_message,
			    cases[i].message);
		else
			assert_null(res.error_message);
		assert_int_equal(res.status, status);
		assert_int_equal(res.outcome, status >= 500 ? AWS_RETRYABLE :
		    AWS_ERROR);
		assert_string_equal(res.request_id, "rid-1");
		aws_result_clear(&res);
		aws_request_free(req);
		free(r.headers);
		free(body);
		free(etype);
		free(block);
	}
	free(text);
}

static void
test_json_error_code(void **state)
{
	static const char *const cases[][2] = {
		{ "FooError", "FooError" },
		{ "aws.protocoltests.json#FooError", "FooError" },
		{ "FooError:http://internal.amazon.com/coral/x/", "FooError" },
		{ "a.b#FooError:http://x#y", "FooError" },
		{ "  ThrottlingException ", "ThrottlingException" },
		{ "com.amazon.coral.service#UnrecognizedClientException",
		    "UnrecognizedClientException" },
		{ "#", NULL }, { "", NULL }, { ":x", NULL },
	};
	size_t	 i;
	char	*c;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = aws_json_error_code(cases[i][0]);
		if (cases[i][1] == NULL)
			assert_null(c);
		else
			assert_string_equal(c, cases[i][1]);
		free(c);
	}
	assert_null(aws_json_error_code(NULL));
}

/* ---- shapes of real services ------------------------------------------- */

static void
test_s3_shapes(void **state)
{
	struct aws_result	 res;
	json_t			*l;

	(void)state;
	decode("s3", "GetBucketLocation", 200,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\">eu-west-1</LocationConstraint>",
	    "x-amz-request-id", "S3REQ1", &res);
	assert_int_equal(res.outcome, AWS_OK);
	assert_string_equal(aws_json_str(res.data, "LocationConstraint"),
	    "eu-west-1");
	assert_string_equal(res.request_id, "S3REQ1");
	aws_result_clear(&res);

	decode("s3", "GetBucketLocation", 200,
	    "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/"
	    "2006-03-01/\"/>", NULL, NULL, &res);
	assert_string_equal(aws_json_str(res.data, "LocationConstraint"), "");
	aws_result_clear(&res);

	decode("s3", "ListBuckets", 200,
	    "<ListAllMyBucketsResult><Owner><ID>o</ID></Owner><Buckets>"
	    "<Bucket><Name>a</Name><CreationDate>2020-01-01T00:00:00.000Z"
	    "</CreationDate></Bucket><Bucket><Name>b</Name></Bucket>"
	    "</Buckets></ListAllMyBucketsResult>", NULL, NULL, &res);
	l = aws_json_list(aws_json_path(res.data, "Buckets.Bucket"));
	assert_int_equal(json_array_size(l), 2);
	assert_string_equal(aws_json_str(l, "1.Name"), "b");
	json_decref(l);
	aws_result_clear(&res);

	/* One bucket: still iterable as a list. */
	decode("s3", "ListBuckets", 200,
	    "<ListAllMyBucketsResult><Buckets><Bucket><Name>a</Name></Bucket>"
	    "</Buckets></ListAllMyBucketsResult>", NULL, NULL, &res);
	l = aws_json_list(aws_json_path(res.data, "Buckets.Bucket"));
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(aws_json_str(l, "0.Name"), "a");
	json_decref(l);
	aws_result_clear(&res);

	/* S3 error shape: <Error> at the root, RequestId inside. */
	decode("s3", "PutPublicAccessBlock", 404,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
	    "NoSuchBucket</Code><Message>The specified bucket does not exist"
	    "</Message><BucketName>cloudsaga-1-x</BucketName><RequestId>"
	    "4442587FB7D0A2F9</RequestId><HostId>h</HostId></Error>",
	    NULL, NULL, &res);
	assert_string_equal(res.error_code, "NoSuchBucket");
	assert_string_equal(res.error_message,
	    "The specified bucket does not exist");
	assert_string_equal(res.request_id, "4442587FB7D0A2F9");
	assert_int_equal(res.outcome, AWS_ERROR);
	aws_result_clear(&res);

	/* DELETE 204 without a body is a success. */
	decode("s3", "DeletePublicAccessBlock", 204, "", NULL, NULL, &res);
	assert_int_equal(res.outcome, AWS_OK);
	assert_true(json_is_object(res.data));
	aws_result_clear(&res);

	/* A body-less REST error gets the status as its code. */
	decode("s3", "GetBucketLocation", 404, "", NULL, NULL, &res);
	assert_string_equal(res.error_code, "404");
	assert_int_equal(res.outcome, AWS_ERROR);
	aws_result_clear(&res);
}

static void
test_json_shapes(void **state)
{
	struct aws_result	 res;
	json_t			*ev;
	const char		*ct;
	char			*cause = NULL;

	(void)state;
	decode("cloudtrail", "LookupEvents", 200,
	    "{\"Events\":[{\"EventId\":\"e1\",\"EventName\":\"CreateVpc\","
	    "\"EventTime\":1.7672256E9,\"CloudTrailEvent\":\"{\\\"errorCode"
	    "\\\":\\\"Client.DryRunOperation\\\"}\"}],\"NextToken\":\"n\"}",
	    "x-amzn-RequestId", "ct-req", &res);
	assert_int_equal(res.outcome, AWS_OK);
	assert_string_equal(res.request_id, "ct-req");
	assert_string_equal(aws_json_str(res.data, "Events.0.EventName"),
	    "CreateVpc");
	ct = aws_json_str(res.data, "Events.0.CloudTrailEvent");
	assert_non_null(ct);
	ev = aws_json_parse(ct, strlen(ct), &cause);
	assert_non_null(ev);
	assert_string_equal(aws_json_str(ev, "errorCode"),
	    "Client.DryRunOperation");
	json_decref(ev);
	aws_result_clear(&res);

	/* GuardDuty: X-Amzn-Errortype wins over the body. */
	decode("guardduty", "ListFindings", 400,
	    "{\"message\":\"The request is rejected\",\"__type\":\"Other\"}",
	    "X-Amzn-ErrorType", "BadRequestException:http://internal/", &res);
	assert_string_equal(res.error_code, "BadRequestException");
	assert_string_equal(res.error_message, "The request is rejected");
	aws_result_clear(&res);

	decode("guardduty", "GetDetector", 403,
	    "{\"Message\":\"no\",\"__type\":\"AccessDeniedException\"}",
	    NULL, NULL, &res);
	assert_string_equal(res.error_code, "AccessDeniedException");
	assert_string_equal(res.error_message, "no");
	assert_int_equal(res.outcome, AWS_DENIED);
	aws_result_clear(&res);

	/* A JSON service answering with an XML error (a proxy, a WAF). */
	decode("events", "ListRules", 403,
	    "<Error><Code>AccessDenied</Code></Error>", NULL, NULL, &res);
	assert_string_equal(res.error_code, "AccessDenied");
	assert_int_equal(res.outcome, AWS_DENIED);
	aws_result_clear(&res);
}

/* ---- malformed, empty, transport --------------------------------------- */

static void
test_malformed(void **state)
{
	static const struct {
		const char		*svc, *action;
		long			 status;
		const char		*body;
		const char		*code;
		enum aws_outcome	 outcome;
	} cases[] = {
		/* 2xx empty: never for EC2/query, nor read-only calls. */
		{ "ec2", "DescribeInstances", 200, "", AWS_CODE_MALFORMED,
		    AWS_ERROR },
		{ "ec2", "DeleteVpc", 200, "  \n", AWS_CODE_MALFORMED,
		    AWS_ERROR },
		{ "iam", "ListUsers", 200, "", AWS_CODE_MALFORMED, AWS_ERROR },
		{ "cloudtrail", "LookupEvents", 200, "", AWS_CODE_MALFORMED,
		    AWS_ERROR },
		{ "events", "TestEventPattern", 200, "", AWS_CODE_MALFORMED,
		    AWS_ERROR },
		{ "s3", "ListBuckets", 200, "", AWS_CODE_MALFORMED, AWS_ERROR },
		/* ... but fine for JSON operations without output. */
		{ "events", "DeleteRule", 200, "", NULL, AWS_OK },
		{ "guardduty", "DeleteDetector", 200, "", NULL, AWS_OK },
		/* 2xx garbage or truncated. */
		{ "ec2", "DescribeInstances", 200, "<DescribeInstancesResponse>"
		    "<reservationSet>", AWS_CODE_MALFORMED, AWS_ERROR },
		{ "iam", "ListUsers", 200, "not xml", AWS_CODE_MALFORMED,
		    AWS_ERROR },
		{ "cloudtrail", "LookupEvents", 200, "{\"Events\":[",
		    AWS_CODE_MALFORMED, AWS_ERROR },
		{ "cloudtrail", "LookupEvents", 200, "[]", AWS_CODE_MALFORMED,
		    AWS_ERROR },
		{ "events", "DeleteRule", 200, "garbage", AWS_CODE_MALFORMED,
		    AWS_ERROR },
		/* Errors without a readable body. */
		{ "ec2", "DescribeInstances", 503, "<html>Service Unavailable",
		    AWS_CODE_MALFORMED, AWS_RETRYABLE },
		{ "ec2", "DescribeInstances", 503, "Service Unavailable",
		    AWS_CODE_MALFORMED, AWS_RETRYABLE },
		{ "ec2", "DescribeInstances", 500, "", AWS_CODE_MALFORMED,
		    AWS_RETRYABLE },
		{ "ec2", "DescribeInstances", 501, "", AWS_CODE_MALFORMED,
		    AWS_RETRYABLE },
		{ "iam", "ListUsers", 400, "<html><body>Bad</body></html>",
		    AWS_CODE_MALFORMED, AWS_ERROR },
		{ "iam", "ListUsers", 400, "", AWS_CODE_MALFORMED, AWS_ERROR },
		{ "logs", "DescribeLogGroups", 400, "{\"message\":\"x\"}",
		    AWS_CODE_MALFORMED, AWS_ERROR },
		{ "logs", "DescribeLogGroups", 400, "{\"__type\":",
		    AWS_CODE_MALFORMED, AWS_ERROR },
		{ "sts", "GetCallerIdentity", 403, "<ErrorResponse><Error>"
		    "<Message>x</Message></Error></ErrorResponse>",
		    AWS_CODE_MALFORMED, AWS_ERROR },
	};
	struct aws_result	 res;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		decode(cases[i].svc, cases[i].action, cases[i].status,
		    cases[i].body, NULL, NULL, &res);
		if (cases[i].code == NULL) {
			if (res.error_code != NULL)
				fail_msg("case %zu: unexpected code %s (%s)",
				    i, res.error_code, res.error_message);
		} else if (res.error_code == NULL ||
		    strcmp(res.error_code, cases[i].code) != 0)
			fail_msg("case %zu: code %s, want %s", i,
			    res.error_code, cases[i].code);
		if (res.outcome != cases[i].outcome)
			fail_msg("case %zu (%s %ld): outcome %s, want %s", i,
			    cases[i].action, cases[i].status,
			    aws_outcome_name(res.outcome),
			    aws_outcome_name(cases[i].outcome));
		if (cases[i].code != NULL) {
			assert_null(res.data);
			assert_non_null(res.error_message);
		}
		aws_result_clear(&res);
	}
}

static void
test_no_secret_in_messages(void **state)
{
	struct aws_result	 res;

	(void)state;
	decode("sts", "AssumeRole", 200, "<AssumeRoleResponse><AssumeRoleResult>"
	    "<Credentials><SecretAccessKey>TOPSECRETxyz</SecretAccessKey>"
	    "<Sess", NULL, NULL, &res);
	assert_string_equal(res.error_code, AWS_CODE_MALFORMED);
	assert_null(strstr(res.error_message, "TOPSECRET"));
	aws_result_clear(&res);

	decode("cloudtrail", "LookupEvents", 200,
	    "{\"SecretAccessKey\": \"TOPSECRETxyz", NULL, NULL, &res);
	assert_string_equal(res.error_code, AWS_CODE_MALFORMED);
	assert_null(strstr(res.error_message, "TOPSECRET"));
	aws_result_clear(&res);

	decode("cloudtrail", "LookupEvents", 200, "{\"a\": TOPSECRETxyz}",
	    NULL, NULL, &res);
	assert_null(strstr(res.error_message, "TOPSECRET"));
	aws_result_clear(&res);
}

static void
test_transport(void **state)
{
	static const struct {
		enum http_error		 e;
		const char		*code;
		enum aws_outcome	 outcome;
	} cases[] = {
		{ HTTP_ERR_CONNECT, AWS_CODE_HTTP_CONNECT, AWS_RETRYABLE },
		{ HTTP_ERR_TIMEOUT, AWS_CODE_HTTP_TIMEOUT, AWS_RETRYABLE },
		{ HTTP_ERR_RESET, AWS_CODE_HTTP_RESET, AWS_RETRYABLE },
		{ HTTP_ERR_PROTOCOL, AWS_CODE_HTTP_PROTOCOL, AWS_RETRYABLE },
		{ HTTP_ERR_CANCELLED, AWS_CODE_HTTP_CANCELLED, AWS_ERROR },
		{ HTTP_ERR_OTHER, AWS_CODE_HTTP_OTHER, AWS_ERROR },
	};
	struct aws_request	*req;
	struct http_response	 r;
	struct aws_result	 res;
	size_t			 i;

	(void)state;
	req = aws_request_new(aws_service_find("ec2"), "CreateVpc",
	    "us-east-1");
	aws_request_add(req, "DryRun", "true");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.error = cases[i].e;
		r.errmsg = (char *)"Connection refused";
		aws_result_init(&res);
		aws_decode(req, &r, &res);
		assert_string_equal(res.error_code, cases[i].code);
		assert_string_equal(res.error_message, "Connection refused");
		assert_int_equal(res.outcome, cases[i].outcome);
		assert_int_equal(res.http_error, cases[i].e);
		assert_int_equal(res.status, 0);
		assert_true(aws_code_is_transient(res.error_code) ==
		    (cases[i].outcome == AWS_RETRYABLE));
		aws_result_clear(&res);
	}
	aws_request_free(req);
}

static void
test_dry_run_outcomes(void **state)
{
	struct aws_request	*req;
	struct http_response	 r;
	struct aws_result	 res;

	(void)state;
	req = aws_request_new(aws_service_find("ec2"), "CreateVpc",
	    "eu-west-1");
	aws_request_add(req, "DryRun", "true");
	aws_result_init(&res);

	mkresp(&r, 412, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Response><Errors><Error><Code>DryRunOperation</Code><Message>"
	    "Request would have succeeded, but DryRun flag is set.</Message>"
	    "</Error></Errors><RequestID>a1b2</RequestID></Response>",
	    NULL, NULL, NULL, NULL);
	aws_decode(req, &r, &res);
	assert_int_equal(res.outcome, AWS_PERMITTED);
	assert_string_equal(res.error_code, "DryRunOperation");
	assert_string_equal(res.request_id, "a1b2");
	free(r.headers);

	/* The same result reused: fields replaced, client fields kept. */
	res.attempts = 2;
	res.access_key_id = xstrdup("AKIDEXAMPLE");
	mkresp(&r, 403, "<Response><Errors><Error><Code>UnauthorizedOperation"
	    "</Code><Message>You are not authorized</Message></Error>"
	    "</Errors><RequestID>c3</RequestID></Response>", "Date",
	    "Thu, 01 Jan 2026 00:00:07 GMT", NULL, NULL);
	aws_decode(req, &r, &res);
	assert_int_equal(res.outcome, AWS_DENIED);
	assert_string_equal(res.error_code, "UnauthorizedOperation");
	assert_string_equal(res.request_id, "c3");
	assert_int_equal(res.attempts, 2);
	assert_string_equal(res.access_key_id, "AKIDEXAMPLE");
	assert_true(res.server_time == 1767225607.0);
	free(r.headers);

	/* The endpoint ignored DryRun: a safety event. */
	mkresp(&r, 200, "<CreateVpcResponse><requestId>d4</requestId><vpc>"
	    "<vpcId>vpc-1</vpcId></vpc></CreateVpcResponse>", NULL, NULL,
	    NULL, NULL);
	aws_decode(req, &r, &res);
	assert_int_equal(res.outcome, AWS_UNSAFE);
	assert_null(res.error_code);
	assert_string_equal(res.request_id, "d4");
	assert_string_equal(aws_json_str(res.data, "vpc.vpcId"), "vpc-1");
	assert_true(res.server_time == 0);
	free(r.headers);

	/* ... even with a body we cannot read. */
	mkresp(&r, 200, "", NULL, NULL, NULL, NULL);
	aws_decode(req, &r, &res);
	assert_int_equal(res.outcome, AWS_UNSAFE);
	free(r.headers);

	aws_result_clear(&res);
	assert_null(res.access_key_id);
	assert_int_equal(res.outcome, AWS_ERROR);
	aws_result_clear(NULL);
	aws_request_free(req);
}

static void
test_request_ids(void **state)
{
	struct aws_request	*req;
	struct http_response	 r;
	struct aws_result	 res;

	(void)state;
	req = aws_request_new(aws_service_find("sts"), "GetCallerIdentity",
	    "us-east-1");
	aws_result_init(&res);
	/* EC2/query: the body's ID beats the header's (botocore does the
	 * same; moto's EC2 sends a constant body ID and random headers). */
	mkresp(&r, 200, "<GetCallerIdentityResponse><GetCallerIdentityResult>"
	    "<Account>123456789012</Account></GetCallerIdentityResult>"
	    "<ResponseMetadata><RequestId>body-id</RequestId>"
	    "</ResponseMetadata></GetCallerIdentityResponse>",
	    "X-Amzn-RequestId", "hdr-id", NULL, NULL);
	aws_decode(req, &r, &res);
	assert_string_equal(res.request_id, "body-id");
	assert_string_equal(aws_json_str(res.data, "Account"),
	    "123456789012");
	free(r.headers);
	/* ... and the header is the fallback. */
	mkresp(&r, 200, "<X><a>1</a></X>", "x-amzn-requestid", "hdr-id", NULL,
	    NULL);
	aws_decode(req, &r, &res);
	assert_string_equal(res.request_id, "hdr-id");
	free(r.headers);
	mkresp(&r, 200, "<X/>", "x-amz-request-id", "s3-id", "bogus", "1");
	aws_decode(req, &r, &res);
	assert_string_equal(res.request_id, "s3-id");
	free(r.headers);
	aws_result_clear(&res);
	aws_request_free(req);

	/* S3 (and JSON): the header beats the body. */
	req = aws_request_new(aws_service_find("s3"), "GetBucketLocation",
	    "us-east-1");
	aws_result_init(&res);
	mkresp(&r, 404, "<Error><Code>NoSuchBucket</Code><RequestId>body-id"
	    "</RequestId></Error>", "x-amz-request-id", "hdr-id", NULL, NULL);
	aws_decode(req, &r, &res);
	assert_string_equal(res.request_id, "hdr-id");
	free(r.headers);
	r.headers = NULL;
	r.nheaders = 0;
	aws_decode(req, &r, &res);
	assert_string_equal(res.request_id, "body-id");
	aws_result_clear(&res);
	aws_request_free(req);

	/* No request at all: still decodes. */
	mkresp(&r, 400, "<Response><Errors><Error><Code>AuthFailure</Code>"
	    "</Error></Errors></Response>", NULL, NULL, NULL, NULL);
	aws_result_init(&res);
	aws_decode(NULL, &r, &res);
	assert_string_equal(res.error_code, "AuthFailure");
	assert_int_equal(res.outcome, AWS_REGION_OFF);
	free(r.headers);
	aws_result_clear(&res);
}

/* ---- list/path helpers ------------------------------------------------- */

/*
 * Whatever a peer puts in an error, the decoded message stays within
 * AWS_ERROR_MESSAGE_MAX bytes of valid UTF-8, cut on a character boundary
 * and marked; codes and request IDs within AWS_ID_MAX.  (A 100 kB
 * message once went into a verdict reason and a report line.)
 */
static void
check_capped(const char *s, size_t max, const char *start)
{
	json_t	*j;

	assert_non_null(s);
	if (strlen(s) > max)
		fail_msg("%zu bytes, more than %zu", strlen(s), max);
	assert_non_null(strstr(s, " [truncated "));
	assert_memory_equal(s, start, strlen(start));
	assert_non_null(j = json_string(s));	/* valid UTF-8 */
	json_decref(j);
}

static void
test_long_error_message(void **state)
{
	struct aws_result	 res;
	struct buf		 b, big;
	int			 i;

	(void)state;
	buf_init(&big);
	for (i = 0; i < 50000; i++)
		buf_addstr(&big, "\xc3\xa9");	/* 100 kB of e-acute */
	/* EC2 XML */
	buf_init(&b);
	buf_printf(&b, "<Response><Errors><Error><Code>InvalidThing</Code>"
	    "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID>"
	    "</Response>", big.data, big.data);
	decode("ec2", "DescribeVpcs", 400, b.data, NULL, NULL, &res);
	assert_string_equal(res.error_code, "InvalidThing");
	check_capped(res.error_message, AWS_ERROR_MESSAGE_MAX,
	    "\xc3\xa9\xc3\xa9");
	check_capped(res.request_id, AWS_ID_MAX, "\xc3\xa9");
	aws_result_clear(&res);
	/* JSON, with a long code */
	buf_reset(&b);
	buf_printf(&b, "{\"__type\":\"com.amazon#%s\",\"message\":\"%s\"}",
	    big.data, big.data);
	decode("cloudtrail", "LookupEvents", 400, b.data, NULL, NULL, &res);
	check_capped(res.error_code, AWS_ID_MAX, "\xc3\xa9");
	check_capped(res.error_message, AWS_ERROR_MESSAGE_MAX, "\xc3\xa9");
	aws_result_clear(&res);
	/* A message of exactly the limit is kept whole. */
	buf_reset(&b);
	buf_addstr(&b, "{\"__type\":\"Boom\",\"message\":\"");
	for (i = 0; i < AWS_ERROR_MESSAGE_MAX; i++)
		buf_addch(&b, 'm');
	buf_addstr(&b, "\"}");
	decode("cloudtrail", "LookupEvents", 400, b.data, NULL, NULL, &res);
	assert_int_equal(strlen(res.error_message), AWS_ERROR_MESSAGE_MAX);
	assert_null(strstr(res.error_message, "truncated"));
	aws_result_clear(&res);
	buf_free(&b);
	buf_free(&big);
}

static void
test_json_helpers(void **state)
{
	json_t	*doc, *l;
	char	*cause = NULL;
	const char *text = "{\"a\":{\"b\":[{\"c\":\"x\"},{\"c\":\"y\"}],"
	    "\"one\":{\"c\":\"z\"},\"empty\":\"\",\"n\":5,\"nul\":null},"
	    "\"s\":\"str\"}";

	(void)state;
	doc = aws_json_parse(text, strlen(text), &cause);
	assert_non_null(doc);
	assert_string_equal(aws_json_str(doc, "a.b.1.c"), "y");
	assert_string_equal(aws_json_str(doc, "s"), "str");
	assert_null(aws_json_str(doc, "a.n"));		/* not a string */
	assert_non_null(aws_json_path(doc, "a.n"));
	assert_null(aws_json_path(doc, "a.b.2"));
	assert_null(aws_json_path(doc, "a.b.x"));
	assert_null(aws_json_path(doc, "s.x"));
	assert_null(aws_json_path(doc, "missing.x"));
	assert_null(aws_json_path(NULL, "a"));
	assert_ptr_equal(aws_json_path(doc, ""), doc);

	l = aws_json_list(aws_json_path(doc, "a.b"));
	assert_int_equal(json_array_size(l), 2);
	assert_ptr_equal(l, aws_json_path(doc, "a.b"));	/* borrowed + ref */
	json_decref(l);
	l = aws_json_list(aws_json_path(doc, "a.one"));
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(aws_json_str(l, "0.c"), "z");
	json_decref(l);
	l = aws_json_list(aws_json_path(doc, "s"));
	assert_int_equal(json_array_size(l), 1);
	json_decref(l);
	l = aws_json_list(aws_json_path(doc, "a.empty"));
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	l = aws_json_list(aws_json_path(doc, "a.nul"));
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	l = aws_json_list(NULL);
	assert_int_equal(json_array_size(l), 0);
	json_decref(l);
	json_decref(doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_botocore_errors),
		cmocka_unit_test(test_botocore_ec2_instances),
		cmocka_unit_test(test_botocore_iam_users),
		cmocka_unit_test(test_botocore_sts_credentials),
		cmocka_unit_test(test_smithy_xml_errors),
		cmocka_unit_test(test_smithy_json_errors),
		cmocka_unit_test(test_json_error_code),
		cmocka_unit_test(test_s3_shapes),
		cmocka_unit_test(test_json_shapes),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_no_secret_in_messages),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_dry_run_outcomes),
		cmocka_unit_test(test_request_ids),
		cmocka_unit_test(test_json_helpers),
		cmocka_unit_test(test_long_error_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
