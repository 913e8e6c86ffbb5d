/*
 * report: the JSON objects and lines, the journal fields, priorities and
 * MESSAGE_IDs, the flat (syslog/stderr) form, the report file's exactly-
 * once protocol (sequence numbers, torn tails, replay after a crash), run
 * summaries, and the message catalog against msgid.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "coverage.h"
#include "db.h"
#include "history.h"
#include "ledger.h"
#include "log.h"
#include "msgid.h"
#include "report.h"
#include "util.h"
#include "verify.h"
#include "xmalloc.h"

#include <sys/wait.h>

#define RUN_A	"0123456789abcdef0123456789abcdef"
#define RUN_B	"fedcba9876543210fedcba9876543210"

static char *
tmpdir(void)
{
	char	*d = xstrdup("/tmp/test_report.XXXXXX");

	if (mkdtemp(d) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	return d;
}

static void
rmtree(const char *path)
{
	char	*cmd = xprintf("rm -rf '%s'", path);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*s;
	long	 n;

	if (f == NULL)
		return xstrdup("");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = xmalloc((size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* $CLOUDSAGA_SRC (ctest), else the tree this file is in. */
static char *
src_path(const char *rel)
{
	const char	*src = getenv("CLOUDSAGA_SRC"), *end;

	if (src != NULL)
		return xprintf("%s/%s", src, rel);
	end = strstr(__FILE__, "tests/unit/");
	if (end == NULL)
		return xprintf("%s", rel);
	return xprintf("%.*s%s", (int)(end - __FILE__), __FILE__, rel);
}

static struct ledger_entry *
add(struct ledger *l, const char *run_id, const char *name,
    const char *request_id, double fired)
{
	struct expectation	 x;

	memset(&x, 0, sizeof(x));
	snprintf(x.run_id, sizeof(x.run_id), "%s", run_id);
	x.scenario = (char *)"network-changes";
	x.account = (char *)"prod";
	x.account_id = (char *)"123456789012";
	x.call_region = (char *)"us-east-1";
	x.region = (char *)"us-east-1";
	x.event_source = (char *)"ec2.amazonaws.com";
	x.event_name = (char *)name;
	x.error_code = (char *)"Client.DryRunOperation";
	x.request_id = (char *)request_id;
	x.access_key_id = (char *)"ASIAEXAMPLE000000001";
	x.user_agent = (char *)"cloudsagad/0.1.0 run/0123";
	x.fired_at = fired;
	return ledger_add(l, &x, fired + 900);
}

static void
logged(struct ledger_entry *e, const char *event_id, double latency)
{
	struct ledger_found	 f;

	memset(&f, 0, sizeof(f));
	f.event_id = event_id;
	f.found_at = e->x.fired_at + latency;
	f.event_time = e->x.fired_at + 1;
	f.match = "request-id";
	assert_int_equal(ledger_decide(e, VERDICT_LOGGED, &f, NULL,
	    f.found_at), 0);
}

/* Parse every line of a JSON-lines file. */
static json_t *
lines_of(const char *path)
{
	json_t	*arr = json_array(), *o;
	char	*text = slurp(path), *p, *nl;

	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);	/* every line is terminated */
		*nl = '\0';
		o = json_loads(p, 0, NULL);
		if (o == NULL)
			fail_msg("not JSON: %s", p);
		json_array_append_new(arr, o);
	}
	free(text);
	return arr;
}

static const char *
str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* ---- JSON objects ------------------------------------------------------- */

static void
test_verdict_json(void **state)
{
	struct ledger		*l = ledger_open(NULL, NULL);
	struct ledger_entry	*e;
	json_t			*o, *back;
	char			*line;
	static const char *const keys[] = {
		"kind", "time", "run_id", "scenario", "account", "region",
		"event_source", "event_name", "verdict", "event_id",
		"latency_s", "request_id", "error_code",
	};
	size_t			 i;

	e = add(l, RUN_A, "CreateSecurityGroup", "req-1", 1700000000.25);
	logged(e, "ev-1", 312.4);
	ledger_queue(e);
	o = report_verdict_json(e, 0);
	for (i = 0; i < nitems(keys); i++)
		if (json_object_get(o, keys[i]) == NULL)
			fail_msg("key %s missing", keys[i]);
	assert_string_equal(str(o, "kind"), "verdict");
	assert_string_equal(str(o, "scenario"), "network-changes");
	assert_string_equal(str(o, "account"), "prod");
	assert_string_equal(str(o, "region"), "us-east-1");
	assert_string_equal(str(o, "event_source"), "ec2.amazonaws.com");
	assert_string_equal(str(o, "event_name"), "CreateSecurityGroup");
	assert_string_equal(str(o, "verdict"), "logged");
	assert_string_equal(str(o, "event_id"), "ev-1");
	assert_string_equal(str(o, "request_id"), "req-1");
	assert_string_equal(str(o, "error_code"), "Client.DryRunOperation");
	assert_string_equal(str(o, "run_id"), RUN_A);
	assert_string_equal(str(o, "time"), "2023-11-14T22:18:32Z");
	assert_string_equal(str(o, "fired_at"), "2023-11-14T22:13:20Z");
	assert_string_equal(str(o, "report_id"), RUN_A "-0");
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 1);
	assert_null(json_object_get(o, "coverage"));
	/* Latency prints as people write it. */
	line = report_json_line(o);
	assert_non_null(strstr(line, "\"latency_s\":312.4,"));
	assert_true(json_number_value(json_object_get(o,
	    "event_time_delta_s")) == 1);
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	back = json_loads(line, 0, NULL);
	assert_true(json_equal(back, o));
	json_decref(back);
	free(line);
	json_decref(o);

	/* Not logged: the same keys, null where they do not apply. */
	e = add(l, RUN_A, "CreateVpc", NULL, 1700000001);
	assert_int_equal(ledger_decide(e, VERDICT_MISSING, NULL,
	    "not found\nat all", 1700000901), 0);
	o = report_verdict_json(e, 0);
	for (i = 0; i < nitems(keys); i++)
		assert_non_null(json_object_get(o, keys[i]));
	assert_string_equal(str(o, "verdict"), "missing");
	assert_true(json_is_null(json_object_get(o, "event_id")));
	assert_true(json_is_null(json_object_get(o, "latency_s")));
	assert_true(json_is_null(json_object_get(o, "request_id")));
	assert_null(json_object_get(o, "seq"));		/* not queued */
	line = report_json_line(o);
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1);
	free(line);
	json_decref(o);

	/* With coverage (issue 6): coverage and rules join the object. */
	e = add(l, RUN_A, "DeleteVpc", "r", 1700000002);
	logged(e, "ev-3", 10);
	o = json_pack("[{s:s,s:[s]}]", "name", "sg-changes", "targets",
	    "arn:aws:sns:us-east-1:123456789012:sec");
	ledger_set_coverage(e, COVERAGE_COVERED, o, NULL);
	json_decref(o);
	o = report_verdict_json(e, 0);
	assert_string_equal(str(o, "coverage"), "covered");
	assert_string_equal(str(json_array_get(json_object_get(o, "rules"), 0),
	    "name"), "sg-changes");
	json_decref(o);
	ledger_free(l);
}

static void
test_summary_and_call_json(void **state)
{
	struct ledger		*l = ledger_open(NULL, NULL);
	struct ledger_entry	*e;
	struct run_call		 c;
	json_t			*o;

	e = add(l, RUN_A, "CreateVpc", "a", 1000);
	logged(e, "x", 100);
	e = add(l, RUN_A, "DeleteVpc", "b", 1000);
	logged(e, "y", 300);
	e = add(l, RUN_A, "CreateSecurityGroup", "c", 1000);
	ledger_decide(e, VERDICT_MISSING, NULL, "gone", 1900);
	ledger_run_call(e->run, RUN_PERMITTED);
	ledger_run_call(e->run, RUN_DENIED);
	ledger_run_end(e->run, 1010, 0);
	o = report_summary_json(e->run, 2000);
	assert_string_equal(str(o, "kind"), "summary");
	assert_string_equal(str(o, "run_id"), RUN_A);
	assert_int_equal(json_integer_value(json_object_get(o, "expected")), 3);
	assert_int_equal(json_integer_value(json_object_get(o, "logged")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "missing")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "unverified")),
	    0);
	assert_true(json_real_value(json_object_get(o, "latency_max_s")) ==
	    300);
	assert_true(json_real_value(json_object_get(o, "latency_avg_s")) ==
	    200);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o,
	    "calls"), "denied")), 1);
	json_decref(o);

	memset(&c, 0, sizeof(c));
	c.region = "eu-west-1";
	c.service = "ec2";
	c.action = "CreateVpc";
	c.outcome = RUN_PERMITTED;
	c.status = 412;
	c.error_code = "DryRunOperation";
	c.request_id = "rq";
	c.elapsed_s = 0.1234;
	c.expected = 1;
	o = report_call_json(RUN_A, "network-changes", "prod",
	    "ec2.amazonaws.com", &c, 1000);
	assert_string_equal(str(o, "kind"), "call");
	assert_string_equal(str(o, "event_source"), "ec2.amazonaws.com");
	assert_true(json_is_null(json_object_get(o, "verdict")));
	assert_true(json_is_null(json_object_get(o, "latency_s")));
	assert_string_equal(str(o, "region"), "eu-west-1");
	assert_string_equal(str(o, "event_name"), "CreateVpc");
	assert_string_equal(str(o, "outcome"), "permitted");
	assert_string_equal(str(o, "request_id"), "rq");
	assert_true(json_real_value(json_object_get(o, "elapsed_s")) == 0.123);
	json_decref(o);
	ledger_free(l);
}

/* ---- journal records ------------------------------------------------------ */

static int
has_field(char **f, const char *kv)
{
	size_t	 i;

	for (i = 0; f[i] != NULL; i++)
		if (strcmp(f[i], kv) == 0)
			return 1;
	return 0;
}

static int
has_key(char **f, const char *key)
{
	size_t	 i, n = strlen(key);

	for (i = 0; f[i] != NULL; i++)
		if (strncmp(f[i], key, n) == 0 && f[i][n] == '=')
			return 1;
	return 0;
}

static void
test_fields_and_priorities(void **state)
{
	struct ledger		*l = ledger_open(NULL, NULL);
	struct ledger_entry	*e;
	json_t			*rules;
	char			**f, *m;
	size_t			 i;

	e = add(l, RUN_A, "CreateSecurityGroup", "req-9", 1000);
	ledger_decide(e, VERDICT_MISSING, NULL, "line one\nline two", 1900);
	ledger_queue(e);
	assert_int_equal(report_verdict_priority(e), LOG_WARNING);
	assert_string_equal(report_verdict_msgid(e), MSGID_MISSING);
	f = report_verdict_fields(e, NULL);
	assert_true(has_field(f, "CLOUDSAGA_RUN_ID=" RUN_A));
	assert_true(has_field(f, "CLOUDSAGA_SCENARIO=network-changes"));
	assert_true(has_field(f, "CLOUDSAGA_ACCOUNT=prod"));
	assert_true(has_field(f, "CLOUDSAGA_REGION=us-east-1"));
	assert_true(has_field(f, "CLOUDSAGA_EVENT_SOURCE=ec2.amazonaws.com"));
	assert_true(has_field(f, "CLOUDSAGA_EVENT_NAME=CreateSecurityGroup"));
	assert_true(has_field(f, "CLOUDSAGA_VERDICT=missing"));
	assert_true(has_field(f, "CLOUDSAGA_REQUEST_ID=req-9"));
	assert_true(has_field(f, "CLOUDSAGA_ERROR_CODE=Client.DryRunOperation"));
	assert_true(has_field(f, "CLOUDSAGA_REASON=line one line two"));
	assert_true(has_field(f, "CLOUDSAGA_REPORT_ID=" RUN_A "-0"));
	assert_true(has_field(f, "CLOUDSAGA_REPORT_SEQ=1"));
	assert_false(has_key(f, "CLOUDSAGA_EVENT_ID"));
	assert_false(has_key(f, "CLOUDSAGA_LATENCY_S"));
	assert_false(has_key(f, "CLOUDSAGA_CALL_REGION"));
	for (i = 0; f[i] != NULL; i++) {
		assert_null(strchr(f[i], '\n'));
		assert_non_null(strchr(f[i], '='));
	}
	report_fields_free(f);
	m = report_verdict_message(e, NULL);
	assert_non_null(strstr(m, "logging gap: ec2:CreateSecurityGroup in "
	    "us-east-1"));
	assert_non_null(strstr(m, "req-9"));
	free(m);

	e = add(l, RUN_A, "DescribeInstances", "req-10", 1000);
	free(e->x.call_region);
	e->x.call_region = xstrdup("eu-west-1");
	logged(e, "ev-10", 61.5);
	assert_int_equal(report_verdict_priority(e), LOG_INFO);
	assert_string_equal(report_verdict_msgid(e), MSGID_LOGGED);
	f = report_verdict_fields(e, NULL);
	assert_true(has_field(f, "CLOUDSAGA_VERDICT=logged"));
	assert_true(has_field(f, "CLOUDSAGA_EVENT_ID=ev-10"));
	assert_true(has_field(f, "CLOUDSAGA_LATENCY_S=61.500"));
	assert_true(has_field(f, "CLOUDSAGA_EVENT_TIME_DELTA_S=1"));
	assert_true(has_field(f, "CLOUDSAGA_MATCH=request-id"));
	assert_true(has_field(f, "CLOUDSAGA_CALL_REGION=eu-west-1"));
	assert_false(has_key(f, "CLOUDSAGA_COVERAGE"));
	report_fields_free(f);
	m = report_verdict_message(e, NULL);
	assert_non_null(strstr(m, "logged: ec2:DescribeInstances in us-east-1 "
	    "reached CloudTrail 62s after the call (event ev-10"));
	free(m);

	/* An alert gap outranks the logged verdict. */
	ledger_set_coverage(e, COVERAGE_UNCOVERED, NULL, "no rule matches");
	assert_int_equal(report_verdict_priority(e), LOG_WARNING);
	assert_string_equal(report_verdict_msgid(e), MSGID_UNCOVERED);
	m = report_verdict_message(e, NULL);
	assert_true(strncmp(m, "alert gap: ", 11) == 0);
	free(m);
	rules = json_pack("[{s:s,s:[s,s]},{s:s,s:[]}]", "name", "r1",
	    "targets", "arn:t1", "arn:t2", "name", "r2", "targets");
	ledger_set_coverage(e, COVERAGE_COVERED, rules, NULL);
	json_decref(rules);
	assert_string_equal(report_verdict_msgid(e), MSGID_COVERED);
	f = report_verdict_fields(e, NULL);
	assert_true(has_field(f, "CLOUDSAGA_COVERAGE=covered"));
	assert_true(has_field(f, "CLOUDSAGA_RULE=r1,r2"));
	assert_true(has_field(f, "CLOUDSAGA_TARGETS=arn:t1,arn:t2"));
	report_fields_free(f);
	ledger_set_coverage(e, COVERAGE_UNKNOWN, NULL, "AccessDenied");
	assert_int_equal(report_verdict_priority(e), LOG_NOTICE);
	assert_string_equal(report_verdict_msgid(e), MSGID_COVERAGE_UNKNOWN);

	e = add(l, RUN_A, "CreateVpc", NULL, 1000);
	ledger_decide(e, VERDICT_UNVERIFIED, NULL, "LookupEvents: "
	    "AccessDeniedException: no", 2100);
	assert_int_equal(report_verdict_priority(e), LOG_WARNING);
	assert_string_equal(report_verdict_msgid(e), MSGID_UNVERIFIED);
	f = report_verdict_fields(e, NULL);
	assert_false(has_key(f, "CLOUDSAGA_REQUEST_ID"));
	assert_false(has_key(f, "CLOUDSAGA_REPORT_SEQ"));
	report_fields_free(f);
	m = report_verdict_message(e, NULL);
	assert_non_null(strstr(m, "AccessDeniedException"));
	free(m);

	ledger_run_end(e->run, 1010, 1);
	f = report_summary_fields(e->run);
	assert_true(has_field(f, "CLOUDSAGA_EXPECTED=3"));
	assert_true(has_field(f, "CLOUDSAGA_MISSING=1"));
	assert_true(has_field(f, "CLOUDSAGA_HALTED=1"));
	assert_true(has_field(f, "CLOUDSAGA_REPORT_ID=" RUN_A "-summary"));
	report_fields_free(f);
	m = report_summary_message(e->run);
	assert_non_null(strstr(m, "(halted)"));
	free(m);
	ledger_free(l);
}

/*
 * #11 in the records: every verdict names its role and evidence; a call
 * not found whose recording is only assumed is unverified at notice with
 * its own MESSAGE_ID (never a logging gap); a context call's alert
 * coverage is "context" - no alert gap, no remediation, not counted in the
 * summary's alert coverage, not judged by the history.
 */
static void
test_roles_and_evidence(void **state)
{
	struct ledger		*l = ledger_open(NULL, NULL);
	struct ledger_entry	*e, *ctx;
	struct history_verdict	 hv;
	struct history_result	 hr;
	char			**f, *m, *cause = NULL;
	json_t			*o;

	/* A documented signal call, missing: the logging gap as before. */
	e = add(l, RUN_A, "CreateVpc", "req-1", 1000);
	assert_int_equal(verify_decide_absent(e, "not found", 1900),
	    VERDICT_MISSING);
	assert_int_equal(report_verdict_priority(e), LOG_WARNING);
	assert_string_equal(report_verdict_msgid(e), MSGID_MISSING);
	f = report_verdict_fields(e, NULL);
	assert_true(has_field(f, "CLOUDSAGA_ROLE=signal"));
	assert_true(has_field(f, "CLOUDSAGA_EVIDENCE=documented"));
	report_fields_free(f);
	o = report_verdict_json(e, 2000);
	assert_string_equal(str(o, "role"), "signal");
	assert_string_equal(str(o, "evidence"), "documented");
	assert_true(json_is_true(json_object_get(o, "not_found")));
	json_decref(o);

	/* Assumed, not found: unverified, notice, its own MESSAGE_ID. */
	e = add(l, RUN_A, "PutBucketPolicy", "req-2", 1000);
	e->x.evidence = AWS_EVIDENCE_ASSUMED;
	assert_int_equal(verify_decide_absent(e, "not found by a complete "
	    "lookup", 1900), VERDICT_UNVERIFIED);
	assert_int_equal(report_verdict_priority(e), LOG_NOTICE);
	assert_string_equal(report_verdict_msgid(e), MSGID_UNCONFIRMED);
	f = report_verdict_fields(e, NULL);
	assert_true(has_field(f, "CLOUDSAGA_VERDICT=unverified"));
	assert_true(has_field(f, "CLOUDSAGA_EVIDENCE=assumed"));
	report_fields_free(f);
	m = report_verdict_message(e, NULL);
	assert_non_null(strstr(m, "only assumed"));
	assert_null(strstr(m, "logging gap: "));
	free(m);
	o = report_verdict_json(e, 2000);
	assert_string_equal(str(o, "verdict"), "unverified");
	assert_string_equal(str(o, "evidence"), "assumed");
	assert_true(json_is_true(json_object_get(o, "not_found")));
	assert_non_null(strstr(str(o, "reason"), "only assumed"));
	json_decref(o);
	/* ...and the history makes no gap of it. */
	memset(&hv, 0, sizeof(hv));
	hv.account = "prod";
	hv.region = "us-east-1";
	hv.event_source = "s3.amazonaws.com";
	hv.event_name = "PutBucketPolicy";
	hv.verdict = verdict_name(e->verdict);
	hv.time = 1900;
	assert_int_equal(db_begin(ledger_db(l), &cause), 0);
	assert_int_equal(history_note(ledger_db(l), NULL, &hv, &hr, &cause),
	    0);
	assert_int_equal(hr.gap, HISTORY_NONE);
	/* Unverified because lookups failed: the warning it always was. */
	e = add(l, RUN_A, "GetBucketAcl", "req-3", 1000);
	e->x.evidence = AWS_EVIDENCE_ASSUMED;
	ledger_decide(e, VERDICT_UNVERIFIED, NULL, "no lookup completed",
	    2100);
	assert_int_equal(report_verdict_priority(e), LOG_WARNING);
	assert_string_equal(report_verdict_msgid(e), MSGID_UNVERIFIED);

	/* A context call, logged: coverage "context", never an alert gap. */
	ctx = add(l, RUN_A, "DescribeVpcs", "req-4", 1000);
	assert_int_equal(ctx->x.role, AWS_ROLE_SIGNAL);	/* read_only 0 */
	ctx->x.role = AWS_ROLE_CONTEXT;
	assert_int_equal(coverage_mark_context(ctx), 0);	/* not logged */
	logged(ctx, "ev-4", 30);
	assert_int_equal(coverage_mark_context(ctx), 1);
	assert_int_equal(ctx->coverage, COVERAGE_CONTEXT);
	assert_int_equal(coverage_mark_context(ctx), 0);	/* once */
	assert_int_equal(report_verdict_priority(ctx), LOG_INFO);
	assert_string_equal(report_verdict_msgid(ctx), MSGID_LOGGED);
	f = report_verdict_fields(ctx, NULL);
	assert_true(has_field(f, "CLOUDSAGA_ROLE=context"));
	assert_true(has_field(f, "CLOUDSAGA_COVERAGE=context"));
	assert_false(has_key(f, "CLOUDSAGA_REMEDIATION"));
	assert_false(has_key(f, "CLOUDSAGA_EVENT_PATTERN"));
	report_fields_free(f);
	o = report_verdict_json(ctx, 2000);
	assert_string_equal(str(o, "role"), "context");
	assert_string_equal(str(o, "coverage"), "context");
	assert_null(json_object_get(o, "remediation"));
	assert_null(json_object_get(o, "not_found"));
	json_decref(o);
	/* A signal call checked and uncovered beside it. */
	e = add(l, RUN_A, "CreateSecurityGroup", "req-5", 1000);
	logged(e, "ev-5", 30);
	assert_int_equal(coverage_mark_context(e), 0);
	ledger_set_coverage(e, COVERAGE_UNCOVERED, NULL, "no rule matches");
	/* The history judges the alert coverage of signal calls only, even
	 * when told "uncovered" for a context call. */
	hv.event_source = "ec2.amazonaws.com";
	hv.event_name = "DescribeVpcs";
	hv.verdict = "logged";
	hv.coverage = "uncovered";
	hv.context = 1;
	assert_int_equal(history_note(ledger_db(l), NULL, &hv, &hr, &cause),
	    0);
	assert_int_equal(hr.gap, HISTORY_OK);
	assert_int_equal(hr.alert, HISTORY_NONE);
	hv.context = 0;
	hv.event_name = "CreateSecurityGroup";
	assert_int_equal(history_note(ledger_db(l), NULL, &hv, &hr, &cause),
	    0);
	assert_int_equal(hr.alert, HISTORY_NEW);
	assert_int_equal(db_commit(ledger_db(l), &cause), 0);

	/* The summary: alert coverage of signal calls only. */
	ledger_run_end(e->run, 1010, 0);
	o = report_summary_json(e->run, 2000);
	assert_int_equal(json_integer_value(json_object_get(o, "expected")),
	    5);
	assert_int_equal(json_integer_value(json_object_get(o, "context")),
	    1);
	assert_int_equal(json_integer_value(json_object_get(o, "signal")), 4);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "unconfirmed")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "covered")),
	    0);
	assert_int_equal(json_integer_value(json_object_get(o, "uncovered")),
	    1);
	json_decref(o);
	f = report_summary_fields(e->run);
	assert_true(has_field(f, "CLOUDSAGA_UNCONFIRMED=1"));
	report_fields_free(f);
	m = report_summary_message(e->run);
	assert_non_null(strstr(m, "alerts on signal calls: 0 covered, 1 "
	    "uncovered"));
	free(m);
	ledger_free(l);
}

/* Without a journal the record is flattened: syslog and stderr lose no
 * field.  Captured from stderr. */
static void
test_flat_record(void **state)
{
	struct ledger		*l = ledger_open(NULL, NULL);
	struct ledger_entry	*e;
	struct reporter		*rp;
	char			 path[] = "/tmp/test_report_err.XXXXXX", *out;
	int			 fd, saved;

	e = add(l, RUN_A, "CreateSecurityGroup", "req-1", 1000);
	ledger_decide(e, VERDICT_MISSING, NULL, "not \"found\"", 1900);
	ledger_run_end(e->run, 1001, 0);
	rp = report_open(l, NULL, NULL);
	assert_non_null(rp);
	fd = mkstemp(path);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	assert_int_equal(report_verdicts(rp, &e, 1, NULL), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	out = slurp(path);
	unlink(path);
	assert_non_null(strstr(out, "logging gap: ec2:CreateSecurityGroup"));
	assert_non_null(strstr(out, " event_name=CreateSecurityGroup"));
	assert_non_null(strstr(out, " verdict=missing"));
	assert_non_null(strstr(out, " run_id=" RUN_A));
	assert_non_null(strstr(out, " reason=\"not \\\"found\\\"\""));
	/* The summary follows once the run is complete. */
	assert_non_null(strstr(out, "run " RUN_A " of network-changes for "
	    "account prod: 1 calls expected in CloudTrail, 0 logged, 1 "
	    "missing"));
	assert_true(e->reported);
	assert_true(e->run->summary_reported);
	free(out);

	/* Records can be turned off (the one-shot CLI's own table). */
	report_set_log(rp, 0);
	e = add(l, RUN_B, "CreateVpc", "req-2", 1000);
	ledger_decide(e, VERDICT_MISSING, NULL, "gone", 1900);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	assert_int_equal(report_verdicts(rp, &e, 1, NULL), 0);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	out = slurp(path);
	unlink(path);
	assert_string_equal(out, "");
	assert_true(e->reported);
	free(out);
	report_free(rp);
	ledger_free(l);
}

/* ---- the report file ---------------------------------------------------- */

static void
quiet_stderr(int *saved)
{
	int	 fd = open("/dev/null", O_WRONLY);

	*saved = dup(STDERR_FILENO);
	if (getenv("TEST_VERBOSE") != NULL) {
		close(fd);
		return;
	}
	dup2(fd, STDERR_FILENO);
	close(fd);
}

static void
loud_stderr(int saved)
{
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
}

static struct reporter *
open_rp(struct ledger *l, const char *path)
{
	struct reporter	*rp;
	char		*cause = NULL;

	if ((rp = report_open(l, path, &cause)) == NULL)
		fail_msg("report_open: %s", cause);
	return rp;
}

static void
count_summary(const struct ledger_run *r, void *arg)
{
	(*(int *)arg)++;
	assert_true(ledger_run_complete(r));
}

static void
test_file_lines(void **state)
{
	struct ledger		*l;
	struct ledger_entry	*e[3];
	struct reporter		*rp;
	json_t			*lines;
	char			*dir = tmpdir(), *state_dir, *file;
	int			 saved;
	FILE			*stream;
	char			*streamed, *text;
	int			 summaries = 0;
	size_t			 len;

	state_dir = xprintf("%s/state", dir);
	file = xprintf("%s/report.jsonl", dir);
	quiet_stderr(&saved);
	l = ledger_open(state_dir, NULL);
	rp = open_rp(l, file);
	assert_int_equal(report_file_seq(rp), 0);
	stream = open_memstream(&streamed, &len);
	report_set_stream(rp, stream);
	report_set_summary_hook(rp, count_summary, &summaries);
	e[0] = add(l, RUN_A, "CreateVpc", "a", 1000);
	e[1] = add(l, RUN_A, "DeleteVpc", "b", 1000);
	e[2] = add(l, RUN_B, "CreateVpc", "c", 1000);
	logged(e[0], "ev-a", 30);
	ledger_decide(e[1], VERDICT_MISSING, NULL, "gone", 1900);
	ledger_decide(e[2], VERDICT_UNVERIFIED, NULL, "denied", 2100);
	assert_int_equal(report_verdicts(rp, e, 2, NULL), 0);
	/* Run A is not ended: no summary yet. */
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 2);
	json_decref(lines);
	assert_int_equal(summaries, 0);
	ledger_run_end(e[0]->run, 1010, 0);
	ledger_run_end(e[2]->run, 1010, 0);
	assert_int_equal(report_verdicts(rp, &e[2], 1, NULL), 0);
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 5);
	/* Sequence numbers increase with the lines. */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    lines, 0), "seq")), 1);
	assert_string_equal(str(json_array_get(lines, 0), "verdict"),
	    "logged");
	assert_string_equal(str(json_array_get(lines, 1), "verdict"),
	    "missing");
	assert_string_equal(str(json_array_get(lines, 2), "verdict"),
	    "unverified");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    lines, 2), "seq")), 3);
	assert_string_equal(str(json_array_get(lines, 3), "kind"), "summary");
	assert_string_equal(str(json_array_get(lines, 4), "kind"), "summary");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    lines, 4), "seq")), 5);
	json_decref(lines);
	assert_int_equal(report_file_seq(rp), 5);
	assert_int_equal(summaries, 2);
	/* The stream (--output json) got the same lines. */
	fclose(stream);
	text = slurp(file);
	assert_string_equal(streamed, text);
	free(text);
	free(streamed);
	report_free(rp);
	ledger_free(l);

	/* Reopen: nothing owed, nothing written, seq continues. */
	l = ledger_open(state_dir, NULL);
	rp = open_rp(l, file);
	assert_int_equal(report_file_seq(rp), 5);
	assert_int_equal(ledger_last_seq(l), 5);
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 5);
	json_decref(lines);
	report_free(rp);
	ledger_free(l);
	loud_stderr(saved);
	rmtree(dir);
	free(dir);
	free(state_dir);
	free(file);
}

struct gate {
	int	 open;
	int	 asked;
};

static int
gate_summary(const struct ledger_run *r, void *arg)
{
	struct gate	*g = arg;

	assert_true(ledger_run_complete(r));
	assert_string_equal(r->run_id, RUN_A);
	g->asked++;
	return g->open;
}

/*
 * The summary gate holds a complete run's summary until it opens; what is
 * reported meanwhile (GuardDuty's records, in the daemon) comes first.
 */
static void
test_summary_gate(void **state)
{
	struct ledger		*l;
	struct ledger_entry	*e;
	struct reporter		*rp;
	struct gate		 g = { 0, 0 };
	json_t			*lines, *o;
	char			 dir[] = "/tmp/test_report.XXXXXX";
	char			 state_dir[64], file[64];
	unsigned long		 records, replayed;
	int			 saved, summaries = 0;

	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	snprintf(state_dir, sizeof(state_dir), "%s/state", dir);
	snprintf(file, sizeof(file), "%s/report.jsonl", dir);
	quiet_stderr(&saved);
	l = ledger_open(state_dir, NULL);
	rp = open_rp(l, file);
	report_set_summary_hook(rp, count_summary, &summaries);
	report_set_summary_gate(rp, gate_summary, &g);
	e = add(l, RUN_A, "CreateVpc", "a", 1000);
	logged(e, "ev-a", 30);
	/* Not complete yet: the gate is not asked. */
	assert_int_equal(report_verdicts(rp, &e, 1, NULL), 0);
	assert_int_equal(g.asked, 0);
	ledger_run_end(e->run, 1010, 0);
	assert_int_equal(report_flush(rp, NULL), 0);
	assert_int_equal(g.asked, 1);
	assert_int_equal(report_flush(rp, NULL), 0);
	assert_int_equal(g.asked, 2);		/* asked again, still held */
	assert_int_equal(summaries, 0);
	assert_int_equal(e->run->summary_seq, 0);
	o = json_pack("{s:s,s:s}", "kind", "guardduty", "run_id", RUN_A);
	assert_int_equal(report_extra(rp, "guardduty", RUN_A "-guardduty",
	    LOG_NOTICE, MSGID_GUARDDUTY_SUMMARY, NULL, "held", o), 0);
	json_decref(o);
	assert_int_equal(g.asked, 2);		/* report_extra queues none */
	g.open = 1;
	assert_int_equal(report_flush(rp, NULL), 0);
	assert_int_equal(g.asked, 3);
	assert_int_equal(summaries, 1);
	assert_int_equal(report_flush(rp, NULL), 0);
	assert_int_equal(g.asked, 3);		/* queued: not asked again */
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 3);
	assert_string_equal(str(json_array_get(lines, 0), "kind"), "verdict");
	assert_string_equal(str(json_array_get(lines, 1), "kind"),
	    "guardduty");
	assert_string_equal(str(json_array_get(lines, 2), "kind"), "summary");
	json_decref(lines);
	report_free(rp);
	ledger_free(l);
	/* A restart owes nothing: the summary is not emitted again. */
	l = ledger_open(state_dir, NULL);
	rp = open_rp(l, file);
	assert_int_equal(report_flush(rp, NULL), 0);
	report_counts(rp, &records, NULL, &replayed);
	assert_int_equal(records, 0);
	assert_int_equal(replayed, 0);
	assert_int_equal(report_file_seq(rp), 3);
	report_free(rp);
	ledger_free(l);
	loud_stderr(saved);
	rmtree(dir);
}

/* A crash after the verdicts were queued (step 1) but before anything
 * was emitted: the next start emits each exactly once. */
static void
test_replay_owed(void **state)
{
	struct ledger		*l;
	struct ledger_entry	*e[2];
	struct reporter		*rp;
	json_t			*lines;
	char			*dir = tmpdir(), *state_dir, *file;
	unsigned long		 replayed;
	int			 saved;

	state_dir = xprintf("%s/state", dir);
	file = xprintf("%s/report.jsonl", dir);
	quiet_stderr(&saved);
	l = ledger_open(state_dir, NULL);
	e[0] = add(l, RUN_A, "CreateVpc", "a", 1000);
	e[1] = add(l, RUN_A, "DeleteVpc", "b", 1000);
	ledger_decide(e[0], VERDICT_MISSING, NULL, "gone", 1900);
	ledger_decide(e[1], VERDICT_MISSING, NULL, "gone", 1900);
	ledger_queue(e[0]);
	ledger_queue(e[1]);
	assert_int_equal(ledger_commit(l, NULL), 0);
	ledger_free(l);			/* "crash" */

	l = ledger_open(state_dir, NULL);
	rp = open_rp(l, file);		/* replays */
	report_counts(rp, NULL, NULL, &replayed);
	assert_int_equal(replayed, 2);
	report_free(rp);
	ledger_free(l);
	lines = lines_of(file);
	/* Two verdicts, then the summary: the run never ended, so it was
	 * closed as halted when loaded. */
	assert_int_equal(json_array_size(lines), 3);
	assert_string_equal(str(json_array_get(lines, 2), "kind"), "summary");
	assert_true(json_is_true(json_object_get(json_array_get(lines, 2),
	    "halted")));
	json_decref(lines);

	/* And nothing more on the next start. */
	l = ledger_open(state_dir, NULL);
	rp = open_rp(l, file);
	report_counts(rp, NULL, NULL, &replayed);
	assert_int_equal(replayed, 0);
	report_free(rp);
	ledger_free(l);
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 3);
	json_decref(lines);
	loud_stderr(saved);
	rmtree(dir);
	free(dir);
	free(state_dir);
	free(file);
}

static void
crash_hook(const char *step, void *arg)
{
	if (strcmp(step, arg) == 0)
		_exit(0);	/* as abrupt as kill -9: no cleanup at all */
}

/* In a child: report one missing verdict and die at `step`. */
static void
crash_child(const char *state_dir, const char *file, const char *step)
{
	struct ledger		*l;
	struct ledger_entry	*e;
	struct reporter		*rp;
	pid_t			 pid;
	int			 status;

	if ((pid = fork()) == 0) {
		l = ledger_open(state_dir, NULL);
		rp = report_open(l, file, NULL);
		report_set_step_hook(rp, crash_hook, (void *)step);
		e = add(l, RUN_A, "CreateVpc", "a", 1000);
		ledger_decide(e, VERDICT_MISSING, NULL, "gone", 1900);
		report_verdicts(rp, &e, 1, NULL);
		_exit(3);	/* the hook did not run */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* A crash after the line was appended (step 2) but before the row was
 * confirmed: the line is not written again; a torn line is cut. */
static void
test_replay_after_file(void **state)
{
	struct ledger		*l;
	struct reporter		*rp;
	json_t			*lines;
	char			*dir = tmpdir(), *state_dir, *file, *text;
	int			 saved, fd;
	size_t			 n;

	state_dir = xprintf("%s/state", dir);
	file = xprintf("%s/report.jsonl", dir);
	quiet_stderr(&saved);
	crash_child(state_dir, file, "file");
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 1);
	json_decref(lines);
	/* And a torn half line of something else after it. */
	fd = open(file, O_WRONLY | O_APPEND);
	assert_int_equal(write(fd, "{\"kind\":\"verd", 13), 13);
	close(fd);

	l = ledger_open(state_dir, NULL);
	assert_false(ledger_runs(l, &n)[0]->entries[0]->reported);
	assert_int_equal(ledger_runs(l, &n)[0]->entries[0]->seq, 1);
	rp = open_rp(l, file);
	/* The verdict was not appended again; the summary followed. */
	assert_int_equal(report_file_seq(rp), 2);
	assert_true(ledger_runs(l, &n)[0]->entries[0]->reported);
	report_free(rp);
	ledger_free(l);
	text = slurp(file);
	assert_null(strstr(text, "verd\n"));
	free(text);
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 2);	/* verdict, summary */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    lines, 0), "seq")), 1);
	assert_string_equal(str(json_array_get(lines, 1), "kind"), "summary");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    lines, 1), "seq")), 2);
	json_decref(lines);

	/* A crash right after queueing: nothing emitted, all of it later. */
	rmtree(state_dir);
	unlink(file);
	crash_child(state_dir, file, "queued");
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 0);
	json_decref(lines);
	l = ledger_open(state_dir, NULL);
	rp = open_rp(l, file);
	report_free(rp);
	ledger_free(l);
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 2);
	json_decref(lines);

	/* A crash after confirming: nothing owed, nothing repeated. */
	rmtree(state_dir);
	unlink(file);
	crash_child(state_dir, file, "confirmed");
	l = ledger_open(state_dir, NULL);
	rp = open_rp(l, file);
	report_free(rp);
	ledger_free(l);
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 1);	/* run not ended */
	json_decref(lines);
	loud_stderr(saved);
	rmtree(dir);
	free(dir);
	free(state_dir);
	free(file);
}

/* The state was lost but the report file remains: sequence numbers go on
 * from the file, and lines without a seq (safety) are skipped over. */
/*
 * A report file that cannot be read back is never a reason not to start:
 * a line of 100 kB (an old version's unbounded error message), garbage
 * and a cut line at the end are skipped; the seq before them still
 * counts, and new lines are appended after them.
 */
static void
test_hostile_report_file(void **state)
{
	struct ledger		*l;
	struct ledger_entry	*e;
	struct reporter		*rp;
	char			*dir = tmpdir(), *state_dir, *file, *cause = NULL;
	FILE			*f;
	int			 saved, i;

	state_dir = xprintf("%s/state", dir);
	file = xprintf("%s/report.jsonl", dir);
	f = fopen(file, "w");
	fprintf(f, "{\"kind\":\"verdict\",\"seq\":7}\n");
	fprintf(f, "{\"kind\":\"verdict\",\"reason\":\"");
	for (i = 0; i < 100 * 1024; i++)
		fputc('x', f);
	fprintf(f, "\"}\n");
	fprintf(f, "\x01\x02 not json at all\n");
	fprintf(f, "{\"kind\":\"verd");		/* torn, no newline */
	fclose(f);
	quiet_stderr(&saved);
	l = ledger_open(state_dir, NULL);
	rp = report_open(l, file, &cause);
	if (rp == NULL)
		fail_msg("report_open refused a hostile file: %s", cause);
	assert_int_equal(report_file_seq(rp), 7);
	e = add(l, RUN_A, "CreateVpc", "a", 1000);
	ledger_decide(e, VERDICT_MISSING, NULL, "gone", 1900);
	assert_int_equal(report_verdicts(rp, &e, 1, NULL), 0);
	assert_true(e->seq > 7);
	report_free(rp);
	ledger_free(l);
	loud_stderr(saved);
	{
		char	*text = slurp(file), *last;

		/* The torn line was cut, the new line appended whole. */
		assert_null(strstr(text, "{\"kind\":\"verd{"));
		last = strrchr(text, '{');
		assert_non_null(strstr(last, "\"CreateVpc\""));
		free(text);
	}
	rmtree(dir);
	free(dir);
	free(state_dir);
	free(file);
}

static void
test_seq_from_file(void **state)
{
	struct ledger		*l;
	struct ledger_entry	*e;
	struct reporter		*rp;
	json_t			*lines;
	char			*dir = tmpdir(), *state_dir, *file;
	FILE			*f;
	int			 saved, i;

	state_dir = xprintf("%s/state", dir);
	file = xprintf("%s/report.jsonl", dir);
	f = fopen(file, "w");
	fprintf(f, "{\"kind\":\"verdict\",\"seq\":41}\n");
	fprintf(f, "{\"kind\":\"verdict\",\"seq\":42}\n");
	/* Enough seq-less lines to push the last seq out of the first chunk
	 * read from the end. */
	for (i = 0; i < 2000; i++)
		fprintf(f, "{\"kind\":\"safety\",\"detail\":\"%050d\"}\n", i);
	fclose(f);
	quiet_stderr(&saved);
	l = ledger_open(state_dir, NULL);
	rp = open_rp(l, file);
	assert_int_equal(report_file_seq(rp), 42);
	e = add(l, RUN_A, "CreateVpc", "a", 1000);
	ledger_decide(e, VERDICT_MISSING, NULL, "gone", 1900);
	assert_int_equal(report_verdicts(rp, &e, 1, NULL), 0);
	assert_int_equal(e->seq, 43);
	report_safety(rp, RUN_A, "network-changes", "prod", "us-east-1", "ec2",
	    "CreateVpc", "DryRun answered 200");
	report_free(rp);
	ledger_free(l);
	lines = lines_of(file);
	assert_int_equal(json_array_size(lines), 2 + 2000 + 1 + 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    lines, 2002), "seq")), 43);
	assert_string_equal(str(json_array_get(lines, 2003), "kind"),
	    "safety");
	json_decref(lines);
	loud_stderr(saved);
	rmtree(dir);
	free(dir);
	free(state_dir);
	free(file);
}

static void
test_file_errors(void **state)
{
	struct ledger	*l = ledger_open(NULL, NULL);
	char		*cause = NULL, *dir = tmpdir(), *link_path;

	assert_null(report_open(l, "/nonexistent/dir/report.jsonl", &cause));
	assert_non_null(strstr(cause, "/nonexistent/dir/report.jsonl"));
	free(cause);
	/* No symlink following into someone else's file. */
	link_path = xprintf("%s/report.jsonl", dir);
	assert_int_equal(symlink("/etc/passwd", link_path), 0);
	cause = NULL;
	assert_null(report_open(l, link_path, &cause));
	assert_non_null(cause);
	free(cause);
	free(link_path);
	rmtree(dir);
	free(dir);
	ledger_free(l);
}

/* ---- the catalog ------------------------------------------------------------ */

static void
test_catalog(void **state)
{
	char		*hpath = src_path("daemon/msgid.h");
	char		*cpath = src_path("systemd/cloudsagad.catalog");
	char		*h = slurp(hpath), *cat = slurp(cpath), *p, *code;
	char		 id[33], *needle, *srcs[6];
	regex_t		 re;
	regmatch_t	 m[3];
	int		 ids = 0, entries = 0, i;
	const char	*q;

	assert_true(strlen(h) > 0);
	assert_true(strlen(cat) > 0);
	/* Every MESSAGE_ID of msgid.h has exactly one entry... */
	assert_int_equal(regcomp(&re, "#define[ \t]+MSGID_[A-Z_]+[ \t]+\""
	    "([0-9a-f]{32})\"", REG_EXTENDED), 0);
	for (p = h; regexec(&re, p, 2, m, 0) == 0; p += m[0].rm_eo) {
		memcpy(id, p + m[1].rm_so, 32);
		id[32] = '\0';
		needle = xprintf("\n-- %s\n", id);
		q = strstr(cat, needle);
		if (q == NULL)
			fail_msg("MESSAGE_ID %s has no catalog entry", id);
		assert_null(strstr(q + 1, needle));
		/* ...with a subject and the catalog's fields. */
		q += strlen(needle);
		assert_true(strncmp(q, "Subject: ", 9) == 0);
		assert_non_null(strstr(q, "Defined-By: cloudsagad\n"));
		free(needle);
		ids++;
	}
	regfree(&re);
	assert_true(ids >= 10);
	/* ...and the catalog has no entry msgid.h does not know. */
	for (q = cat; (q = strstr(q, "\n-- ")) != NULL; q += 4) {
		memcpy(id, q + 4, 32);
		id[32] = '\0';
		needle = xprintf("\"%s\"", id);
		if (strstr(h, needle) == NULL)
			fail_msg("catalog entry %s is not in msgid.h", id);
		free(needle);
		entries++;
	}
	assert_int_equal(entries, ids);
	/* Every @FIELD@ in the texts is a field the code emits. */
	srcs[0] = src_path("daemon/report.c");
	srcs[1] = src_path("daemon/verify.c");
	srcs[2] = src_path("daemon/ledger.c");
	srcs[3] = src_path("daemon/pipeline.c");
	srcs[4] = src_path("daemon/coverage.c");
	srcs[5] = src_path("daemon/report_build.c");
	code = xstrdup("");
	for (i = 0; i < 6; i++) {
		char *s = slurp(srcs[i]), *joined = xprintf("%s%s", code, s);

		free(code);
		free(s);
		code = joined;
		free(srcs[i]);
	}
	assert_int_equal(regcomp(&re, "@(CLOUDSAGA_[A-Z_]+)@", REG_EXTENDED), 0);
	for (p = cat; regexec(&re, p, 2, m, 0) == 0; p += m[0].rm_eo) {
		char *field = xstrndup(p + m[1].rm_so,
		    (size_t)(m[1].rm_eo - m[1].rm_so));
		char *quoted = xprintf("\"%s=", field);
		char *quoted2 = xprintf("\"%s\"", field);

		if (strstr(code, quoted) == NULL && strstr(code, quoted2) == NULL)
			fail_msg("catalog uses @%s@, which no record carries",
			    field);
		free(field);
		free(quoted);
		free(quoted2);
	}
	regfree(&re);
	free(code);
	free(h);
	free(cat);
	free(hpath);
	free(cpath);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_json),
		cmocka_unit_test(test_summary_and_call_json),
		cmocka_unit_test(test_fields_and_priorities),
		cmocka_unit_test(test_roles_and_evidence),
		cmocka_unit_test(test_flat_record),
		cmocka_unit_test(test_file_lines),
		cmocka_unit_test(test_summary_gate),
		cmocka_unit_test(test_replay_owed),
		cmocka_unit_test(test_replay_after_file),
		cmocka_unit_test(test_seq_from_file),
		cmocka_unit_test(test_hostile_report_file),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_catalog),
	};

	log_init(LOG_TO_STDERR, "test_report", LOG_INFO);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
