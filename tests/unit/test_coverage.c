/*
 * coverage: the pure parts of the alerting check - the EventBridge
 * envelope, rule states, the fields a pattern looks at and the cache key
 * of a question (the soundness argument of the TestEventPattern cache),
 * the remediation hint, log group ARNs, GuardDuty matching - and what the
 * report makes of coverage verdicts and GuardDuty findings.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "aws.h"
#include "coverage.h"
#include "ledger.h"
#include "log.h"
#include "msgid.h"
#include "report.h"
#include "util.h"
#include "xmalloc.h"

#define RUN_A	"0123456789abcdef0123456789abcdef"

static const char *record_text =
    "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
    "\"accountId\":\"111111111111\",\"accessKeyId\":\"AKIDEXAMPLE\"},"
    "\"eventTime\":\"2026-01-02T03:04:05Z\","
    "\"eventSource\":\"ec2.amazonaws.com\","
    "\"eventName\":\"CreateSecurityGroup\",\"awsRegion\":\"eu-west-1\","
    "\"sourceIPAddress\":\"127.0.0.1\","
    "\"userAgent\":\"cloudsagad/0.1 run/" RUN_A "\","
    "\"errorCode\":\"Client.DryRunOperation\","
    "\"requestParameters\":{\"groupName\":\"x\",\"tags\":[{\"k\":1}]},"
    "\"responseElements\":null,\"requestID\":\"req-1\","
    "\"eventID\":\"11111111-2222-3333-4444-555555555555\","
    "\"readOnly\":false,\"eventType\":\"AwsApiCall\","
    "\"managementEvent\":true,\"recipientAccountId\":\"123456789012\"}";

static json_t *
load(const char *s)
{
	json_error_t	 err;
	json_t		*j = json_loads(s, 0, &err);

	if (j == NULL)
		fail_msg("bad test JSON: %s", err.text);
	return j;
}

static struct ledger_entry *
row(struct ledger *l, const char *name, int read_only, const char *rec)
{
	struct expectation	 x;
	struct ledger_entry	*e;
	struct ledger_found	 f;
	json_t			*r = NULL;

	memset(&x, 0, sizeof(x));
	snprintf(x.run_id, sizeof(x.run_id), "%s", RUN_A);
	x.scenario = (char *)"network-changes";
	x.account = (char *)"prod";
	x.account_id = (char *)"123456789012";
	x.call_region = (char *)"eu-west-1";
	x.region = (char *)"eu-west-1";
	x.event_source = (char *)"ec2.amazonaws.com";
	x.event_name = (char *)name;
	x.error_code = (char *)"Client.DryRunOperation";
	x.request_id = (char *)"req-1";
	x.access_key_id = (char *)"AKIDEXAMPLE";
	x.user_agent = (char *)"cloudsagad/0.1 run/" RUN_A;
	x.read_only = read_only;
	x.fired_at = 1767323045;
	e = ledger_add(l, &x, x.fired_at + 900);
	memset(&f, 0, sizeof(f));
	f.event_id = "11111111-2222-3333-4444-555555555555";
	f.found_at = x.fired_at + 3;
	f.event_time = x.fired_at;
	f.match = "request-id";
	if (rec != NULL)
		f.record = r = load(rec);
	assert_int_equal(ledger_decide(e, VERDICT_LOGGED, &f, NULL,
	    f.found_at), 0);
	json_decref(r);
	return e;
}

/* ---- source, states, read-only ----------------------------------------------- */

static void
test_source_and_states(void **state)
{
	char	*s;

	s = coverage_source("ec2.amazonaws.com");
	assert_string_equal(s, "aws.ec2");
	free(s);
	s = coverage_source("monitoring.amazonaws.com");
	assert_string_equal(s, "aws.monitoring");
	free(s);
	s = coverage_source("iam");
	assert_string_equal(s, "aws.iam");
	free(s);
	assert_null(coverage_source(NULL));
	assert_null(coverage_source(""));
	assert_null(coverage_source(".amazonaws.com"));

	assert_false(coverage_state_sees("DISABLED", 0));
	assert_false(coverage_state_sees("DISABLED", 1));
	assert_true(coverage_state_sees("ENABLED", 0));
	assert_false(coverage_state_sees("ENABLED", 1));
	assert_true(coverage_state_sees(COVERAGE_STATE_ALL, 0));
	assert_true(coverage_state_sees(COVERAGE_STATE_ALL, 1));
	assert_false(coverage_state_sees(NULL, 0));
	assert_false(coverage_state_sees("enabled", 0));
	assert_false(coverage_state_sees("SOMETHING_NEW", 0));
}

static void
test_read_only(void **state)
{
	struct ledger		*l = ledger_open(NULL, NULL);
	struct ledger_entry	*e;

	/* The record's readOnly wins over the row's guess. */
	e = row(l, "CreateSecurityGroup", 1, record_text);
	assert_false(coverage_read_only(e));
	e = row(l, "DescribeInstances", 0,
	    "{\"eventName\":\"DescribeInstances\",\"readOnly\":true}");
	assert_true(coverage_read_only(e));
	e = row(l, "DescribeInstances", 0,
	    "{\"eventName\":\"DescribeInstances\",\"readOnly\":\"true\"}");
	assert_true(coverage_read_only(e));
	/* No readOnly in the record: the row's. */
	e = row(l, "DescribeInstances", 1, "{\"eventName\":\"x\"}");
	assert_true(coverage_read_only(e));
	e = row(l, "CreateVpc", 0, NULL);
	assert_false(coverage_read_only(e));
	ledger_free(l);
}

/* ---- the envelope ------------------------------------------------------------------ */

static void
test_envelope(void **state)
{
	struct ledger		*l = ledger_open(NULL, NULL);
	struct ledger_entry	*e;
	json_t			*ev;
	char			*cause = NULL, *s;
	const char		*keys[] = { "version", "id", "detail-type",
				    "source", "account", "time", "region",
				    "resources", "detail" };
	void			*it;
	size_t			 i;

	e = row(l, "CreateSecurityGroup", 0, record_text);
	ev = coverage_envelope(e, &cause);
	assert_non_null(ev);
	/* The fields TestEventPattern requires, in the usual order. */
	for (i = 0, it = json_object_iter(ev); it != NULL;
	    i++, it = json_object_iter_next(ev, it))
		assert_string_equal(json_object_iter_key(it), keys[i]);
	assert_int_equal(i, 9);
	assert_string_equal(aws_json_str(ev, "version"), "0");
	assert_string_equal(aws_json_str(ev, "id"),
	    "11111111-2222-3333-4444-555555555555");
	assert_string_equal(aws_json_str(ev, "detail-type"),
	    "AWS API Call via CloudTrail");
	assert_string_equal(aws_json_str(ev, "source"), "aws.ec2");
	/* recipientAccountId, not the caller's account. */
	assert_string_equal(aws_json_str(ev, "account"), "123456789012");
	assert_string_equal(aws_json_str(ev, "time"), "2026-01-02T03:04:05Z");
	assert_string_equal(aws_json_str(ev, "region"), "eu-west-1");
	assert_int_equal(json_array_size(json_object_get(ev, "resources")), 0);
	/* detail is the record itself, not a string. */
	assert_true(json_equal(json_object_get(ev, "detail"), e->record));
	json_decref(ev);

	/* Fallbacks: the row's account, event time and region. */
	e = row(l, "CreateVpc", 0, "{\"eventSource\":\"ec2.amazonaws.com\","
	    "\"eventName\":\"CreateVpc\"}");
	ev = coverage_envelope(e, &cause);
	assert_non_null(ev);
	assert_string_equal(aws_json_str(ev, "account"), "123456789012");
	assert_string_equal(aws_json_str(ev, "time"), "2026-01-02T03:04:05Z");
	assert_string_equal(aws_json_str(ev, "region"), "eu-west-1");
	assert_string_equal(aws_json_str(ev, "id"),
	    "11111111-2222-3333-4444-555555555555");
	json_decref(ev);

	/* No record: a clear cause, no crash. */
	e = row(l, "CreateVpc", 0, NULL);
	assert_null(coverage_envelope(e, &cause));
	assert_non_null(strstr(cause, "record"));
	free(cause);
	cause = NULL;
	/* A record that is not an object. */
	e = row(l, "CreateVpc", 0, "[1,2]");
	assert_null(coverage_envelope(e, &cause));
	free(cause);
	cause = NULL;
	/* No account anywhere. */
	e = row(l, "CreateVpc", 0, "{\"eventSource\":\"ec2.amazonaws.com\"}");
	free(e->x.account_id);
	e->x.account_id = NULL;
	assert_null(coverage_envelope(e, &cause));
	assert_non_null(strstr(cause, "account"));
	free(cause);
	cause = NULL;
	/* ... but userIdentity.accountId will do. */
	e = row(l, "CreateVpc", 0, "{\"eventSource\":\"ec2.amazonaws.com\","
	    "\"userIdentity\":{\"accountId\":\"222222222222\"}}");
	free(e->x.account_id);
	e->x.account_id = NULL;
	ev = coverage_envelope(e, &cause);
	assert_non_null(ev);
	assert_string_equal(aws_json_str(ev, "account"), "222222222222");
	s = json_dumps(ev, JSON_COMPACT);
	assert_non_null(strstr(s, "\"detail\":{\"eventSource\""));
	free(s);
	json_decref(ev);
	ledger_free(l);
}

/* ---- the fields a pattern looks at ------------------------------------------------ */

static char *
paths_text(const char *pattern)
{
	json_t	*p = NULL;
	char	*cause = NULL, *s;

	if (coverage_pattern_paths(pattern, &p, &cause) == -1) {
		s = xprintf("error: %s", cause);
		free(cause);
		return s;
	}
	s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return s;
}

static void
expect_paths(const char *pattern, const char *want)
{
	char	*got = paths_text(pattern);

	if (strncmp(want, "error", 5) == 0) {
		if (strncmp(got, "error", 5) != 0)
			fail_msg("%s: expected an error, got %s", pattern, got);
	} else if (strcmp(got, want) != 0)
		fail_msg("%s: got %s, want %s", pattern, got, want);
	free(got);
}

static void
test_pattern_paths(void **state)
{
	expect_paths("{\"source\":[\"aws.ec2\"]}", "[[\"source\"]]");
	/* The canonical CloudTrail pattern: sorted by their text. */
	expect_paths("{\"source\":[\"aws.ec2\"],\"detail-type\":[\"AWS API "
	    "Call via CloudTrail\"],\"detail\":{\"eventSource\":"
	    "[\"ec2.amazonaws.com\"],\"eventName\":[\"CreateVpc\"]}}",
	    "[[\"detail\",\"eventName\"],[\"detail\",\"eventSource\"],"
	    "[\"detail-type\"],[\"source\"]]");
	/* Operators are values, not fields. */
	expect_paths("{\"detail\":{\"eventName\":[{\"prefix\":\"Create\"}],"
	    "\"errorCode\":[{\"exists\":false}]}}",
	    "[[\"detail\",\"errorCode\"],[\"detail\",\"eventName\"]]");
	/* $or: both branches, relative to where it stands; no duplicates. */
	expect_paths("{\"detail\":{\"$or\":[{\"awsRegion\":[\"eu-west-1\"]},"
	    "{\"userIdentity\":{\"type\":[\"Root\"]}},"
	    "{\"awsRegion\":[\"us-east-1\"]}]}}",
	    "[[\"detail\",\"awsRegion\"],[\"detail\",\"userIdentity\","
	    "\"type\"]]");
	/* Deep fields. */
	expect_paths("{\"detail\":{\"requestParameters\":{\"ipPermissions\":"
	    "{\"items\":{\"ipRanges\":{\"items\":{\"cidrIp\":"
	    "[\"0.0.0.0/0\"]}}}}}}}",
	    "[[\"detail\",\"requestParameters\",\"ipPermissions\",\"items\","
	    "\"ipRanges\",\"items\",\"cidrIp\"]]");
	/* An empty object is a leaf: its whole subtree counts. */
	expect_paths("{\"detail\":{}}", "[[\"detail\"]]");
	expect_paths("{}", "[]");
	/* What cannot be analysed is refused (the caller keys on it all). */
	expect_paths("{\"$and\":[{\"a\":[1]}]}", "error");
	expect_paths("{\"$or\":{\"a\":[1]}}", "error");
	expect_paths("{\"$or\":[1]}", "error");
	expect_paths("[1]", "error");
	expect_paths("{\"a\":", "error");
	expect_paths("{\"a\":[1],\"a\":[2]}", "error");
}

/* ---- the cache key: the soundness of sharing answers ---------------------------- */

static char *
qkey(const char *pattern, const char *event)
{
	json_t	*paths = NULL, *ev = load(event);
	char	*cause = NULL, *k;

	if (coverage_pattern_paths(pattern, &paths, &cause) == -1) {
		free(cause);
		paths = NULL;
	}
	k = coverage_question_key(pattern, paths, ev);
	json_decref(paths);
	json_decref(ev);
	return k;
}

static void
expect_same(const char *pattern, const char *a, const char *b, int same)
{
	char	*ka = qkey(pattern, a), *kb = qkey(pattern, b);

	if ((strcmp(ka, kb) == 0) != same)
		fail_msg("pattern %s: events\n  %s\n  %s\nshould %sshare an "
		    "answer", pattern, a, b, same ? "" : "not ");
	free(ka);
	free(kb);
}

#define EV(region, account, name, extra)				\
	"{\"version\":\"0\",\"id\":\"" region account name "\","	\
	"\"detail-type\":\"AWS API Call via CloudTrail\","		\
	"\"source\":\"aws.ec2\",\"account\":\"" account "\","		\
	"\"time\":\"2026-01-01T00:00:00Z\",\"region\":\"" region "\","	\
	"\"resources\":[],\"detail\":{\"eventSource\":"			\
	"\"ec2.amazonaws.com\",\"eventName\":\"" name "\","		\
	"\"awsRegion\":\"" region "\",\"recipientAccountId\":\""	\
	account "\"" extra "}}"

static void
test_question_key(void **state)
{
	const char *canon = "{\"source\":[\"aws.ec2\"],\"detail-type\":"
	    "[\"AWS API Call via CloudTrail\"],\"detail\":{\"eventName\":"
	    "[\"CreateSecurityGroup\"]}}";
	const char *by_region = "{\"detail\":{\"awsRegion\":[\"eu-west-1\"]}}";
	const char *by_account = "{\"account\":[\"111111111111\"]}";
	const char *by_param = "{\"detail\":{\"requestParameters\":"
	    "{\"groupName\":[\"x\"]}}}";
	const char *by_error = "{\"detail\":{\"errorCode\":[{\"exists\":"
	    "true}]}}";
	const char *by_array = "{\"detail\":{\"tags\":{\"k\":[1]}}}";
	char	   *k1, *k2;

	/* Fields the pattern does not name: one question for all. */
	expect_same(canon, EV("us-east-1", "111111111111", "CreateVpc", ""),
	    EV("eu-west-1", "222222222222", "CreateVpc", ""), 1);
	expect_same(canon, EV("us-east-1", "111111111111", "CreateVpc", ""),
	    EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"requestParameters\":{\"cidrBlock\":\"10.0.0.0/16\"}"), 1);
	/* A field it names: one question per value. */
	expect_same(canon, EV("us-east-1", "111111111111", "CreateVpc", ""),
	    EV("us-east-1", "111111111111", "CreateSecurityGroup", ""), 0);
	expect_same(by_region, EV("us-east-1", "111111111111", "CreateVpc",
	    ""), EV("eu-west-1", "111111111111", "CreateVpc", ""), 0);
	expect_same(by_region, EV("eu-west-1", "111111111111", "CreateVpc",
	    ""), EV("eu-west-1", "222222222222", "CreateSecurityGroup", ""),
	    1);
	expect_same(by_account, EV("us-east-1", "111111111111", "CreateVpc",
	    ""), EV("us-east-1", "222222222222", "CreateVpc", ""), 0);
	expect_same(by_account, EV("us-east-1", "111111111111", "CreateVpc",
	    ""), EV("eu-west-1", "111111111111", "DeleteVpc", ""), 1);
	expect_same(by_param, EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"requestParameters\":{\"groupName\":\"x\"}"),
	    EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"requestParameters\":{\"groupName\":\"y\"}"), 0);
	expect_same(by_param, EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"requestParameters\":{\"groupName\":\"x\",\"a\":1}"),
	    EV("eu-west-1", "111111111111", "CreateVpc",
	    ",\"requestParameters\":{\"groupName\":\"x\",\"a\":2}"), 1);
	/* Absent, null and present are three different answers. */
	expect_same(by_error, EV("us-east-1", "111111111111", "CreateVpc", ""),
	    EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"errorCode\":null"), 0);
	expect_same(by_error, EV("us-east-1", "111111111111", "CreateVpc", ""),
	    EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"errorCode\":\"X\""), 0);
	/* An array on the way: the whole array is part of the question. */
	expect_same(by_array, EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"tags\":[{\"k\":1},{\"k\":2}]"),
	    EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"tags\":[{\"k\":2},{\"k\":1}]"), 0);
	expect_same(by_array, EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"tags\":[{\"k\":1}]"),
	    EV("eu-west-1", "111111111111", "CreateVpc",
	    ",\"tags\":[{\"k\":1}]"), 1);
	/* Key order in the event does not matter. */
	expect_same(by_param, EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"requestParameters\":{\"groupName\":{\"a\":1,\"b\":2}}"),
	    EV("us-east-1", "111111111111", "CreateVpc",
	    ",\"requestParameters\":{\"groupName\":{\"b\":2,\"a\":1}}"), 1);
	/* Different patterns never share. */
	k1 = qkey(canon, EV("us-east-1", "111111111111", "CreateVpc", ""));
	k2 = qkey(by_region, EV("us-east-1", "111111111111", "CreateVpc", ""));
	assert_string_not_equal(k1, k2);
	free(k1);
	free(k2);
	/* A pattern that cannot be analysed keys on the whole event (the
	 * id differs per event: no sharing at all). */
	expect_same("{\"$and\":[]}", EV("us-east-1", "111111111111",
	    "CreateVpc", ""), EV("eu-west-1", "111111111111", "CreateVpc",
	    ""), 0);
	expect_same("{\"$and\":[]}", EV("us-east-1", "111111111111",
	    "CreateVpc", ""), EV("us-east-1", "111111111111", "CreateVpc",
	    ""), 1);
}

/* ---- the remediation hint ---------------------------------------------------------- */

static void
test_remediation(void **state)
{
	struct ledger		*l = ledger_open(NULL, NULL);
	struct ledger_entry	*e;
	json_t			*r, *want;
	char			*s;

	s = coverage_suggest_pattern("ec2.amazonaws.com",
	    "CreateSecurityGroup");
	assert_string_equal(s, "{\"source\":[\"aws.ec2\"],\"detail-type\":"
	    "[\"AWS API Call via CloudTrail\"],\"detail\":{\"eventSource\":"
	    "[\"ec2.amazonaws.com\"],\"eventName\":"
	    "[\"CreateSecurityGroup\"]}}");
	free(s);

	e = row(l, "CreateSecurityGroup", 0, record_text);
	r = coverage_remediation_json(e);
	want = load("{\"source\":[\"aws.ec2\"],\"detail-type\":[\"AWS API "
	    "Call via CloudTrail\"],\"detail\":{\"eventSource\":"
	    "[\"ec2.amazonaws.com\"],\"eventName\":"
	    "[\"CreateSecurityGroup\"]}}");
	assert_true(json_equal(json_object_get(r, "event_pattern"), want));
	json_decref(want);
	assert_string_equal(aws_json_str(r, "rule_state"), "ENABLED");
	json_decref(r);
	s = coverage_remediation_text(e);
	assert_non_null(strstr(s, "default event bus in eu-west-1"));
	assert_non_null(strstr(s, "\"eventName\":[\"CreateSecurityGroup\"]"));
	assert_null(strstr(s, COVERAGE_STATE_ALL));
	free(s);

	/* A read-only event needs the other state, and says so. */
	e = row(l, "DescribeInstances", 1, NULL);
	r = coverage_remediation_json(e);
	assert_string_equal(aws_json_str(r, "rule_state"), COVERAGE_STATE_ALL);
	assert_non_null(strstr(aws_json_str(r, "note"), COVERAGE_STATE_ALL));
	json_decref(r);
	s = coverage_remediation_text(e);
	assert_non_null(strstr(s, "in state " COVERAGE_STATE_ALL));
	free(s);
	ledger_free(l);
}

/* ---- log group ARNs ------------------------------------------------------------------ */

static void
test_log_group_arn(void **state)
{
	char	*r = NULL, *a = NULL, *n = NULL;

	assert_int_equal(coverage_log_group_arn("arn:aws:logs:us-east-1:"
	    "123456789012:log-group:CloudTrail/logs:*", &r, &a, &n), 0);
	assert_string_equal(r, "us-east-1");
	assert_string_equal(a, "123456789012");
	assert_string_equal(n, "CloudTrail/logs");
	free(r);
	free(a);
	free(n);
	assert_int_equal(coverage_log_group_arn("arn:aws-us-gov:logs:"
	    "us-gov-west-1:123456789012:log-group:lg", &r, &a, &n), 0);
	assert_string_equal(r, "us-gov-west-1");
	assert_string_equal(n, "lg");
	free(r);
	free(a);
	free(n);
	assert_int_equal(coverage_log_group_arn(NULL, &r, &a, &n), -1);
	assert_int_equal(coverage_log_group_arn("", &r, &a, &n), -1);
	assert_int_equal(coverage_log_group_arn("arn:aws:s3:::bucket", &r, &a,
	    &n), -1);
	assert_int_equal(coverage_log_group_arn("arn:aws:logs:us-east-1:1:"
	    "log-stream:x", &r, &a, &n), -1);
	assert_int_equal(coverage_log_group_arn("arn:aws:logs:us-east-1:1:"
	    "log-group:", &r, &a, &n), -1);
	assert_int_equal(coverage_log_group_arn("arn:aws:logs:us-east-1:1:"
	    "log-group:a:b", &r, &a, &n), -1);
	assert_int_equal(coverage_log_group_arn("arn:aws:logs::1:"
	    "log-group:a", &r, &a, &n), -1);
}

/* ---- GuardDuty ------------------------------------------------------------------------- */

static void
test_gd_match(void **state)
{
	struct coverage_gd_call	 calls[2] = {
		{ (char *)"us-east-1", (char *)"ec2.amazonaws.com",
		  (char *)"CreateSecurityGroup", (char *)"ASIARUNKEY" },
		{ (char *)"us-east-1", (char *)"iam.amazonaws.com",
		  (char *)"ListUsers", (char *)"ASIARUNKEY" },
	};
	json_t			*f;

#define GD(region, api, svc, key, ua)					\
	"{\"region\":\"" region "\",\"service\":{\"action\":"		\
	"{\"awsApiCallAction\":{\"api\":\"" api "\",\"serviceName\":\""	\
	svc "\",\"userAgent\":{\"fullUserAgent\":\"" ua "\"}}}},"	\
	"\"resource\":{\"accessKeyDetails\":{\"accessKeyId\":\"" key	\
	"\"}}}"
	f = load(GD("us-east-1", "Other", "x", "AKIAOTHER",
	    "cloudsagad/0.1 run/" RUN_A));
	assert_string_equal(coverage_gd_match(f, RUN_A, calls, 2), "marker");
	json_decref(f);
	f = load(GD("eu-west-1", "Other", "x", "ASIARUNKEY", "boto3"));
	assert_string_equal(coverage_gd_match(f, RUN_A, calls, 2),
	    "access-key");
	json_decref(f);
	f = load(GD("us-east-1", "CreateSecurityGroup", "ec2.amazonaws.com",
	    "AKIAOTHER", "boto3"));
	assert_string_equal(coverage_gd_match(f, RUN_A, calls, 2), "api");
	json_decref(f);
	/* Same API in another region, or from another service: no. */
	f = load(GD("eu-west-1", "CreateSecurityGroup", "ec2.amazonaws.com",
	    "AKIAOTHER", "boto3"));
	assert_null(coverage_gd_match(f, RUN_A, calls, 2));
	json_decref(f);
	f = load(GD("us-east-1", "ListUsers", "ec2.amazonaws.com",
	    "AKIAOTHER", "boto3"));
	assert_null(coverage_gd_match(f, RUN_A, calls, 2));
	json_decref(f);
	/* Another run's marker is not ours. */
	f = load(GD("eu-west-1", "Other", "x", "AKIAOTHER",
	    "cloudsagad/0.1 run/ffffffffffffffffffffffffffffffff"));
	assert_null(coverage_gd_match(f, RUN_A, calls, 2));
	json_decref(f);
	/* A finding that is not about an API call at all. */
	f = load("{\"region\":\"us-east-1\",\"type\":\"Backdoor:EC2/X\"}");
	assert_null(coverage_gd_match(f, RUN_A, calls, 2));
	json_decref(f);
	/* The older string form of userAgent. */
	f = load("{\"service\":{\"action\":{\"awsApiCallAction\":{"
	    "\"userAgent\":\"x run/" RUN_A "\"}}}}");
	assert_string_equal(coverage_gd_match(f, RUN_A, calls, 2), "marker");
	json_decref(f);
}

/* ---- the report's side ----------------------------------------------------------------- */

static int
has_field(char **fields, const char *kv)
{
	size_t	 i;

	for (i = 0; fields[i] != NULL; i++)
		if (strcmp(fields[i], kv) == 0)
			return 1;
	return 0;
}

static const char *
field(char **fields, const char *key)
{
	size_t	 i, n = strlen(key);

	for (i = 0; fields[i] != NULL; i++)
		if (strncmp(fields[i], key, n) == 0 && fields[i][n] == '=')
			return fields[i] + n + 1;
	return NULL;
}

static void
test_report_verdicts(void **state)
{
	struct ledger		*l = ledger_open(NULL, NULL);
	struct ledger_entry	*e;
	json_t			*o, *rules;
	char			**f, *m, *pat;

	/* Uncovered: an alert gap with the pattern that would match. */
	e = row(l, "CreateSecurityGroup", 0, record_text);
	coverage_set(e, COVERAGE_UNCOVERED, NULL, "no EventBridge "
	    "rule on the default event bus in eu-west-1");
	/* Coverage stored the remediation in the row when it decided. */
	assert_non_null(e->remediation);
	m = coverage_remediation_text(e);
	assert_string_equal(e->remediation_text, m);
	free(m);
	assert_int_equal(report_verdict_priority(e), LOG_WARNING);
	assert_string_equal(report_verdict_msgid(e), MSGID_UNCOVERED);
	m = report_verdict_message(e, NULL);
	assert_non_null(strstr(m, "alert gap: no rule would alert on "
	    "ec2:CreateSecurityGroup in eu-west-1 (no EventBridge rule"));
	free(m);
	f = report_verdict_fields(e, NULL);
	assert_true(has_field(f, "CLOUDSAGA_COVERAGE=uncovered"));
	assert_null(field(f, "CLOUDSAGA_RULE"));
	pat = coverage_suggest_pattern("ec2.amazonaws.com",
	    "CreateSecurityGroup");
	assert_string_equal(field(f, "CLOUDSAGA_EVENT_PATTERN"), pat);
	assert_string_equal(field(f, "CLOUDSAGA_RULE_STATE"), "ENABLED");
	assert_non_null(strstr(field(f, "CLOUDSAGA_REMEDIATION"), pat));
	free(pat);
	report_fields_free(f);
	o = report_verdict_json(e, now_real());
	assert_string_equal(aws_json_str(o, "coverage"), "uncovered");
	assert_int_equal(json_array_size(json_object_get(o, "rules")), 0);
	assert_string_equal(aws_json_str(o,
	    "remediation.event_pattern.detail.eventName.0"),
	    "CreateSecurityGroup");
	assert_string_equal(aws_json_str(o, "remediation.rule_state"),
	    "ENABLED");
	json_decref(o);
	/* The report reads the remediation from the row, never from
	 * coverage: what the row holds is what the records say. */
	rules = load("{\"event_pattern\":{\"source\":[\"aws.x\"]},"
	    "\"rule_state\":\"ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS\","
	    "\"note\":\"n\"}");
	ledger_set_remediation(e, rules, "the stored text");
	json_decref(rules);
	f = report_verdict_fields(e, NULL);
	assert_string_equal(field(f, "CLOUDSAGA_REMEDIATION"),
	    "the stored text");
	assert_string_equal(field(f, "CLOUDSAGA_EVENT_PATTERN"),
	    "{\"source\":[\"aws.x\"]}");
	assert_string_equal(field(f, "CLOUDSAGA_RULE_STATE"),
	    "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS");
	report_fields_free(f);
	o = report_verdict_json(e, now_real());
	assert_string_equal(aws_json_str(o, "remediation.note"), "n");
	json_decref(o);
	/* Uncovered without a stored remediation (judged by schema 3):
	 * coverage adds it when the row comes back to it. */
	ledger_set_coverage(e, COVERAGE_UNCOVERED, NULL, "no rule");
	assert_null(e->remediation);
	coverage_fill_remediation(e);
	assert_string_equal(aws_json_str(e->remediation,
	    "event_pattern.detail.eventName.0"), "CreateSecurityGroup");
	assert_non_null(e->remediation_text);

	/* Covered by two: an EventBridge rule and a metric-filter alarm. */
	rules = load("[{\"name\":\"detect-sg\",\"targets\":"
	    "[\"arn:aws:sns:eu-west-1:123456789012:sec\"]},"
	    "{\"name\":\"metric-filter:sg/alarm:sg-alarm\",\"targets\":"
	    "[\"arn:aws:sns:eu-west-1:123456789012:a\","
	    "\"arn:aws:sns:eu-west-1:123456789012:b\"]}]");
	ledger_set_coverage(e, COVERAGE_COVERED, rules, NULL);
	json_decref(rules);
	assert_int_equal(report_verdict_priority(e), LOG_INFO);
	assert_string_equal(report_verdict_msgid(e), MSGID_COVERED);
	f = report_verdict_fields(e, NULL);
	assert_string_equal(field(f, "CLOUDSAGA_COVERAGE"), "covered");
	assert_string_equal(field(f, "CLOUDSAGA_RULE"),
	    "detect-sg,metric-filter:sg/alarm:sg-alarm");
	assert_string_equal(field(f, "CLOUDSAGA_TARGETS"),
	    "arn:aws:sns:eu-west-1:123456789012:sec,"
	    "arn:aws:sns:eu-west-1:123456789012:a,"
	    "arn:aws:sns:eu-west-1:123456789012:b");
	assert_null(field(f, "CLOUDSAGA_REMEDIATION"));
	report_fields_free(f);
	m = report_verdict_message(e, NULL);
	assert_non_null(strstr(m, "would alert: rule detect-sg,"));
	free(m);
	o = report_verdict_json(e, now_real());
	assert_string_equal(aws_json_str(o, "rules.0.name"), "detect-sg");
	assert_string_equal(aws_json_str(o, "rules.1.targets.1"),
	    "arn:aws:sns:eu-west-1:123456789012:b");
	assert_null(json_object_get(o, "remediation"));
	json_decref(o);

	/* Unknown: a notice, never a gap. */
	ledger_set_coverage(e, COVERAGE_UNKNOWN, NULL, "ListRules: "
	    "AccessDeniedException");
	assert_int_equal(report_verdict_priority(e), LOG_NOTICE);
	f = report_verdict_fields(e, NULL);
	assert_string_equal(field(f, "CLOUDSAGA_COVERAGE"), "unknown");
	assert_string_equal(field(f, "CLOUDSAGA_COVERAGE_REASON"),
	    "ListRules: AccessDeniedException");
	report_fields_free(f);
	ledger_free(l);
}

static char *
slurp(const char *path)
{
	FILE	*fp = fopen(path, "r");
	char	*s;
	long	 n;

	if (fp == NULL)
		return xstrdup("");
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	s = xmalloc((size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
	s[n] = '\0';
	fclose(fp);
	return s;
}

static void
test_report_guardduty(void **state)
{
	struct ledger			*l = ledger_open(NULL, NULL);
	struct reporter			*rp;
	struct coverage_gd_report	 r;
	struct coverage_gd_finding	 x;
	struct coverage_gd_region	 g[3];
	char				 path[] = "/tmp/test_coverage.XXXXXX";
	char				*text, *cause = NULL, *line2;
	json_t				*a, *b;
	int				 fd;

	fd = mkstemp(path);
	assert_true(fd != -1);
	close(fd);
	rp = report_open(l, path, &cause);
	assert_non_null(rp);
	report_set_log(rp, 0);

	memset(&r, 0, sizeof(r));
	memcpy(r.run_id, RUN_A, sizeof(r.run_id));
	r.scenario = (char *)"network-changes";
	r.account = (char *)"prod";
	memset(&x, 0, sizeof(x));
	x.region = (char *)"us-east-1";
	x.id = (char *)"f1";
	x.type = (char *)"Recon:IAMUser/MaliciousIPCaller";
	x.severity = 5;
	x.api = (char *)"CreateSecurityGroup";
	x.service = (char *)"ec2.amazonaws.com";
	x.match = "api";
	r.findings = &x;
	r.nfindings = 1;
	memset(g, 0, sizeof(g));
	g[0].region = (char *)"us-east-1";
	g[0].detectors = 1;
	g[0].seen = 3;
	g[1].region = (char *)"eu-west-1";
	g[2].region = (char *)"ap-south-1";
	g[2].error = (char *)"ListDetectors: AccessDeniedException";
	r.regions = g;
	r.nregions = 3;
	report_guardduty(rp, &r);
	report_free(rp);

	text = slurp(path);
	line2 = strchr(text, '\n');
	assert_non_null(line2);
	*line2++ = '\0';
	a = load(text);
	b = load(line2);
	assert_string_equal(aws_json_str(a, "kind"), "guardduty_finding");
	assert_string_equal(aws_json_str(a, "run_id"), RUN_A);
	assert_string_equal(aws_json_str(a, "type"),
	    "Recon:IAMUser/MaliciousIPCaller");
	assert_string_equal(aws_json_str(a, "event_name"),
	    "CreateSecurityGroup");
	assert_string_equal(aws_json_str(a, "match"), "api");
	/* Queued in the outbox like every record: sequenced, once. */
	assert_true(json_integer_value(json_object_get(a, "seq")) > 0);
	assert_true(json_integer_value(json_object_get(b, "seq")) >
	    json_integer_value(json_object_get(a, "seq")));
	assert_string_equal(aws_json_str(b, "kind"), "guardduty");
	assert_int_equal(json_integer_value(json_object_get(b, "findings")), 1);
	assert_int_equal(json_array_size(json_object_get(b, "regions")), 3);
	assert_string_equal(aws_json_str(b, "regions.2.error"),
	    "ListDetectors: AccessDeniedException");
	assert_int_equal(json_integer_value(aws_json_path(b,
	    "regions.0.findings_seen")), 3);
	json_decref(a);
	json_decref(b);
	free(text);
	unlink(path);
	ledger_free(l);
}

/* ---- the object's life cycle without any AWS ---------------------------------------- */

static void
test_params(void **state)
{
	struct coverage_params	 p;

	coverage_params_default(&p);
	assert_true(p.eventbridge);
	assert_false(p.guardduty);
	assert_false(p.metric_filters);
	assert_true(p.test_rate > 0);
	assert_true(p.max_pages > 0);
	assert_true(p.max_age > 0);
	memset(&p, 0, sizeof(p));
	coverage_params_resolve(&p);
	assert_false(p.eventbridge);
	assert_int_equal(p.max_pages, 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_and_states),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_pattern_paths),
		cmocka_unit_test(test_question_key),
		cmocka_unit_test(test_remediation),
		cmocka_unit_test(test_log_group_arn),
		cmocka_unit_test(test_gd_match),
		cmocka_unit_test(test_report_verdicts),
		cmocka_unit_test(test_report_guardduty),
		cmocka_unit_test(test_params),
	};

	log_init(LOG_TO_STDERR, "test_coverage", LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
