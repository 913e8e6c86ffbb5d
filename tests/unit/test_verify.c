/*
 * verify: the pure parts - parsing LookupEvents records, the run marker,
 * matching (request ID, marker, eventID dedupe), query planning and
 * windows, the verdict rule and the polling schedule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ledger.h"
#include "log.h"
#include "util.h"
#include "verify.h"
#include "xmalloc.h"

#define RUN_A	"0123456789abcdef0123456789abcdef"
#define RUN_B	"fedcba9876543210fedcba9876543210"
#define UA_A	"cloudsagad/0.1.0 run/" RUN_A
#define UA_B	"cloudsagad/0.1.0 run/" RUN_B

static struct ledger *L;

/* The user agent of attempt `attempt` of call `seq` of a run. */
static const char *
ua(const char *run_id, int seq, int attempt)
{
	static char	 buf[8][128];
	static int	 k;
	char		*b = buf[k++ % 8];

	snprintf(b, 128, "cloudsagad/0.1.0 run/%s/%d/%d", run_id, seq,
	    attempt);
	return b;
}

/* A row: call `seq` of the run, answered by attempt `attempt`. */
static struct ledger_entry *
rowx(const char *run_id, int seq, int attempt, const char *name,
    const char *request_id, const char *error_code, double fired)
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
	x.error_code = (char *)error_code;
	x.request_id = (char *)request_id;
	x.access_key_id = (char *)"ASIAEXAMPLE000000001";
	x.user_agent = (char *)(seq >= 0 ? ua(run_id, seq, attempt) :
	    strcmp(run_id, RUN_A) == 0 ? UA_A : UA_B);
	x.fired_at = fired;
	return ledger_add(L, &x, fired + 900);
}

static struct ledger_entry *
row(const char *run_id, const char *name, const char *request_id,
    const char *key, double fired)
{
	static int		 seq;
	struct ledger_entry	*e;

	e = rowx(run_id, seq++, 1, name, request_id, "Client.DryRunOperation",
	    fired);
	free(e->x.access_key_id);
	e->x.access_key_id = xstrdup_or_null(key);
	return e;
}

/* A CloudTrail record as LookupEvents returns it, parsed. */
static void
event(struct ct_event *ev, const char *event_id, const char *name,
    const char *request_id, const char *ua, const char *error_code,
    const char *when)
{
	json_t	*rec, *outer;
	char	*s, *cause = NULL;

	rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s}}",
	    "eventVersion", "1.08", "eventID", event_id, "eventName", name,
	    "eventSource", "ec2.amazonaws.com", "awsRegion", "us-east-1",
	    "recipientAccountId", "123456789012", "userIdentity", "type",
	    "AssumedRole", "accessKeyId", "ASIAEXAMPLE000000001");
	if (request_id != NULL)
		json_object_set_new(rec, "requestID", json_string(request_id));
	if (ua != NULL)
		json_object_set_new(rec, "userAgent", json_string(ua));
	if (error_code != NULL)
		json_object_set_new(rec, "errorCode", json_string(error_code));
	if (when != NULL)
		json_object_set_new(rec, "eventTime", json_string(when));
	s = json_dumps(rec, JSON_COMPACT);
	outer = json_pack("{s:s,s:s,s:s}", "EventId", event_id, "EventName",
	    name, "CloudTrailEvent", s);
	free(s);
	json_decref(rec);
	if (verify_parse_event(outer, 5000, ev, &cause) == -1)
		fail_msg("verify_parse_event: %s", cause);
	json_decref(outer);
}

static int
setup(void **state)
{
	char	*cause = NULL;

	L = ledger_open(NULL, &cause);
	return L == NULL;
}

static int
teardown(void **state)
{
	ledger_free(L);
	L = NULL;
	return 0;
}

static void
test_parse_event(void **state)
{
	struct ct_event	 ev;
	json_t		*o;
	char		*cause = NULL;

	event(&ev, "ev-1", "CreateVpc", "REQ-1", UA_A, "Client.DryRunOperation",
	    "2024-05-01T10:00:03Z");
	assert_string_equal(ev.event_id, "ev-1");
	assert_string_equal(ev.event_name, "CreateVpc");
	assert_string_equal(ev.event_source, "ec2.amazonaws.com");
	assert_string_equal(ev.request_id, "REQ-1");
	assert_string_equal(ev.user_agent, UA_A);
	assert_string_equal(ev.error_code, "Client.DryRunOperation");
	assert_string_equal(ev.aws_region, "us-east-1");
	assert_string_equal(ev.account_id, "123456789012");
	assert_string_equal(ev.access_key_id, "ASIAEXAMPLE000000001");
	assert_true(ev.event_time == 1714557603);
	assert_true(ev.seen_at == 5000);
	assert_non_null(json_object_get(ev.record, "eventVersion"));
	verify_event_clear(&ev);

	/* The outer members fill in; EventTime as epoch seconds. */
	o = json_pack("{s:s,s:s,s:f,s:s}", "EventId", "ev-2", "EventName",
	    "DeleteVpc", "EventTime", 1714557600.0, "CloudTrailEvent",
	    "{\"requestID\":\"x\"}");
	assert_int_equal(verify_parse_event(o, 1, &ev, &cause), 0);
	assert_string_equal(ev.event_id, "ev-2");
	assert_string_equal(ev.event_name, "DeleteVpc");
	assert_true(ev.event_time == 1714557600.0);
	verify_event_clear(&ev);
	json_decref(o);

	/* Unusable records: a clear reason, no crash. */
	o = json_pack("{s:s,s:s}", "EventId", "e", "CloudTrailEvent", "{oops");
	assert_int_equal(verify_parse_event(o, 1, &ev, &cause), -1);
	assert_non_null(strstr(cause, "not JSON"));
	free(cause);
	json_decref(o);
	o = json_pack("{s:s}", "EventId", "e");
	assert_int_equal(verify_parse_event(o, 1, &ev, &cause), -1);
	assert_non_null(strstr(cause, "no CloudTrailEvent"));
	free(cause);
	json_decref(o);
	o = json_pack("{s:s}", "CloudTrailEvent", "{\"eventName\":\"X\"}");
	assert_int_equal(verify_parse_event(o, 1, &ev, &cause), -1);
	assert_non_null(strstr(cause, "eventID"));
	free(cause);
	json_decref(o);
	o = json_pack("{s:s}", "CloudTrailEvent", "[1,2]");
	assert_int_equal(verify_parse_event(o, 1, &ev, &cause), -1);
	free(cause);
	json_decref(o);
	o = json_string("x");
	assert_int_equal(verify_parse_event(o, 1, &ev, &cause), -1);
	free(cause);
	json_decref(o);
}

static void
test_marker(void **state)
{
	char	 id[33];

	assert_int_equal(verify_marker(UA_A, id), 0);
	assert_string_equal(id, RUN_A);
	assert_int_equal(verify_marker("[" UA_A "]", id), 0);
	assert_string_equal(id, RUN_A);
	assert_int_equal(verify_marker("aws-sdk run/" RUN_B " extra", id), 0);
	assert_string_equal(id, RUN_B);
	assert_int_equal(verify_marker("x run/0123456789ABCDEF0123456789ABCDEF",
	    id), 0);
	assert_string_equal(id, RUN_A);
	/* Not a marker: glued prefix, short or long ids. */
	assert_int_equal(verify_marker("xrun/" RUN_A, id), -1);
	assert_int_equal(verify_marker("run/0123456789abcdef0123456789abcde",
	    id), -1);
	assert_int_equal(verify_marker("run/" RUN_A "0", id), -1);
	assert_int_equal(verify_marker("run/", id), -1);
	assert_int_equal(verify_marker("", id), -1);
	assert_int_equal(verify_marker(NULL, id), -1);
	/* The first real one wins after false starts. */
	assert_int_equal(verify_marker("run/zz run/" RUN_B, id), 0);
	assert_string_equal(id, RUN_B);
}

static void
test_error_code(void **state)
{
	/* Success expected: only a record without errorCode agrees. */
	assert_true(verify_error_code_match(NULL, NULL));
	assert_true(verify_error_code_match(NULL, ""));
	assert_true(verify_error_code_match("", NULL));
	assert_false(verify_error_code_match(NULL, "AccessDenied"));
	assert_false(verify_error_code_match(NULL,
	    "Client.RequestLimitExceeded"));
	/* EC2's prefixes. */
	assert_true(verify_error_code_match("Client.DryRunOperation",
	    "Client.DryRunOperation"));
	assert_true(verify_error_code_match("Client.DryRunOperation",
	    "DryRunOperation"));
	assert_true(verify_error_code_match("DryRunOperation",
	    "Client.DryRunOperation"));
	assert_true(verify_error_code_match("Server.InternalError",
	    "InternalError"));
	/* The wire's NoSuchEntity is CloudTrail's NoSuchEntityException. */
	assert_true(verify_error_code_match("NoSuchEntity",
	    "NoSuchEntityException"));
	assert_true(verify_error_code_match("TrailNotFoundException",
	    "TrailNotFound"));
	/* Different codes, or a failure expected and none recorded. */
	assert_false(verify_error_code_match("Client.DryRunOperation",
	    "Client.UnauthorizedOperation"));
	assert_false(verify_error_code_match("NoSuchEntity", "NoSuchBucket"));
	assert_false(verify_error_code_match("Exception", "Client."));
	assert_false(verify_error_code_match("Client.DryRunOperation", NULL));
	assert_false(verify_error_code_match("TrailNotFoundException", ""));
}

static void
test_match_one(void **state)
{
	struct ledger_entry	*a, *b;
	struct ct_event		 ev;

	a = rowx(RUN_A, 4, 1, "CreateVpc", "req-a", "Client.DryRunOperation",
	    1000);
	b = rowx(RUN_A, 5, 1, "CreateVpc", NULL, "Client.DryRunOperation",
	    1001);

	/* Request IDs compare without case; the name must agree. */
	event(&ev, "e1", "CreateVpc", "REQ-A", "aws-cli/2", NULL, NULL);
	assert_int_equal(verify_match_one(a, &ev), VERIFY_BY_REQUEST_ID);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	event(&ev, "e1", "DeleteVpc", "req-a", ua(RUN_A, 4, 1),
	    "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match_one(a, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	/* A known request ID that differs never proves the row, whatever
	 * the marker says. */
	event(&ev, "e2", "CreateVpc", "other", ua(RUN_A, 4, 1),
	    "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match_one(a, &ev), VERIFY_NO_MATCH);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	/* The row has no request ID: the call marker of its attempt. */
	event(&ev, "e3", "CreateVpc", "other", ua(RUN_A, 5, 1),
	    "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_BY_MARKER);
	verify_event_clear(&ev);
	/* The record has none: the marker too. */
	event(&ev, "e3", "CreateVpc", NULL, ua(RUN_A, 4, 1),
	    "DryRunOperation", NULL);
	assert_int_equal(verify_match_one(a, &ev), VERIFY_BY_MARKER);
	verify_event_clear(&ev);
	/* Another run, another call, another attempt: not this row. */
	event(&ev, "e4", "CreateVpc", NULL, ua(RUN_B, 5, 1),
	    "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	event(&ev, "e4", "CreateVpc", NULL, ua(RUN_A, 6, 1),
	    "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	event(&ev, "e4", "CreateVpc", NULL, ua(RUN_A, 5, 2),
	    "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	/* Only the run's marker (no call): not proof of one call. */
	event(&ev, "e4", "CreateVpc", NULL, UA_A, "Client.DryRunOperation",
	    NULL);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	/* Same marker, another outcome: not the attempt that answered. */
	event(&ev, "e5", "CreateVpc", NULL, ua(RUN_A, 5, 1),
	    "Client.UnauthorizedOperation", NULL);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	/* Another tool's agent that merely looks like ours. */
	event(&ev, "e6", "CreateVpc", NULL, "othertool/1.0 xrun/" RUN_A "/5/1",
	    "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	event(&ev, "e6", "CreateVpc", NULL, "othertool/1.0 run/" RUN_A "/5/1x",
	    "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match_one(b, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	/* Another region, account or event source is never ours. */
	event(&ev, "e7", "CreateVpc", "req-a", ua(RUN_A, 4, 1),
	    "DryRunOperation", NULL);
	free(ev.aws_region);
	ev.aws_region = xstrdup("eu-west-1");
	assert_int_equal(verify_match_one(a, &ev), VERIFY_NO_MATCH);
	free(ev.aws_region);
	ev.aws_region = NULL;
	free(ev.account_id);
	ev.account_id = xstrdup("999999999999");
	assert_int_equal(verify_match_one(a, &ev), VERIFY_NO_MATCH);
	free(ev.account_id);
	ev.account_id = NULL;
	free(ev.event_source);
	ev.event_source = xstrdup("iam.amazonaws.com");
	assert_int_equal(verify_match_one(a, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
}

/* A success is expected: a record with an errorCode never proves it. */
static void
test_match_success_needs_no_error(void **state)
{
	struct ledger_entry	*r;
	struct ct_event		 ev;

	r = rowx(RUN_A, 1, 3, "DescribeInstances", NULL, NULL, 1000);
	event(&ev, "t1", "DescribeInstances", NULL, ua(RUN_A, 1, 3),
	    "Client.RequestLimitExceeded", NULL);
	assert_int_equal(verify_match_one(r, &ev), VERIFY_NO_MATCH);
	verify_event_clear(&ev);
	event(&ev, "t2", "DescribeInstances", NULL, ua(RUN_A, 1, 3), NULL,
	    NULL);
	assert_int_equal(verify_match_one(r, &ev), VERIFY_BY_MARKER);
	verify_event_clear(&ev);
}

/*
 * Retries: CloudTrail holds the throttled attempts (their own request IDs,
 * errorCode RequestLimitExceeded, the same call's marker but their own
 * attempt number).  When the record of the attempt that answered is
 * missing, nothing else may stand in for it.
 */
static void
test_match_retried_attempts(void **state)
{
	struct ledger_entry	*rows[2];
	struct ct_event		 ev[3];
	struct verify_assign	 out[3];

	/* Answered by attempt 3 (request ID r3); attempts 1 and 2 were
	 * throttled.  A second row whose answer had no request ID. */
	rows[0] = rowx(RUN_A, 7, 3, "DescribeInstances", "r3", NULL, 1090);
	rows[1] = rowx(RUN_A, 8, 2, "DescribeInstances", NULL, NULL, 1095);
	event(&ev[0], "a1", "DescribeInstances", "r1", ua(RUN_A, 7, 1),
	    "Client.RequestLimitExceeded", "1970-01-01T00:16:40Z");
	event(&ev[1], "a2", "DescribeInstances", "r2", ua(RUN_A, 7, 2),
	    "Client.RequestLimitExceeded", "1970-01-01T00:17:10Z");
	event(&ev[2], "b1", "DescribeInstances", "rb1", ua(RUN_A, 8, 1),
	    "Client.RequestLimitExceeded", "1970-01-01T00:17:15Z");
	assert_int_equal(verify_match(rows, 2, ev, 3, out), 0);
	verify_event_clear(&ev[0]);
	verify_event_clear(&ev[1]);
	verify_event_clear(&ev[2]);

	/* The answering attempts' records arrive: each proves its own row. */
	event(&ev[0], "a3", "DescribeInstances", "r3", ua(RUN_A, 7, 3), NULL,
	    "1970-01-01T00:18:10Z");
	event(&ev[1], "b2", "DescribeInstances", "rb2", ua(RUN_A, 8, 2), NULL,
	    "1970-01-01T00:18:15Z");
	assert_int_equal(verify_match(rows, 2, ev, 2, out), 2);
	assert_int_equal(out[0].entry, 0);
	assert_int_equal(out[0].event, 0);
	assert_int_equal(out[0].how, VERIFY_BY_REQUEST_ID);
	assert_int_equal(out[1].entry, 1);
	assert_int_equal(out[1].event, 1);
	assert_int_equal(out[1].how, VERIFY_BY_MARKER);
	verify_event_clear(&ev[0]);
	verify_event_clear(&ev[1]);
}

static void
test_match_request_ids(void **state)
{
	struct ledger_entry	*rows[3];
	struct ct_event		 ev[4];
	struct verify_assign	 out[4];
	size_t			 n, i;

	/* Three pages of one paginated call: three calls, three records. */
	rows[0] = rowx(RUN_A, 1, 1, "DescribeInstances", "r1", NULL, 1000);
	rows[1] = rowx(RUN_A, 2, 1, "DescribeInstances", "r2", NULL, 1001);
	rows[2] = rowx(RUN_A, 3, 1, "DescribeInstances", "r3", NULL, 1002);
	/* Out of order, and a duplicate delivery of the third. */
	event(&ev[0], "e3", "DescribeInstances", "r3", ua(RUN_A, 3, 1), NULL,
	    "1970-01-01T00:16:40Z");
	event(&ev[1], "e1", "DescribeInstances", "r1", ua(RUN_A, 1, 1), NULL,
	    "1970-01-01T00:16:42Z");
	event(&ev[2], "e2", "DescribeInstances", "r2", ua(RUN_A, 2, 1), NULL,
	    "1970-01-01T00:16:41Z");
	event(&ev[3], "e3", "DescribeInstances", "r3", ua(RUN_A, 3, 1), NULL,
	    "1970-01-01T00:16:40Z");
	n = verify_match(rows, 3, ev, 4, out);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_int_equal(out[i].how, VERIFY_BY_REQUEST_ID);
		assert_string_equal(ev[out[i].event].request_id,
		    rows[out[i].entry]->x.request_id);
	}
	/* The duplicate's two copies went to one row only. */
	for (i = 0; i < n; i++)
		if (out[i].entry == 2)
			assert_true(out[i].event == 0 || out[i].event == 3);
	for (i = 0; i < 4; i++)
		verify_event_clear(&ev[i]);
}

/* One record proves one call: across rows, polls and runs. */
static void
test_match_once(void **state)
{
	struct ledger_entry	*rows[2], *done;
	struct ledger_found	 f;
	struct ct_event		 ev[2];
	struct verify_assign	 out[2];

	/* A record already proving a decided row of another run (a late,
	 * repeated delivery) proves no pending row, even one whose marker
	 * and request ID are unknown-compatible. */
	done = rowx(RUN_B, 9, 1, "AuthorizeSecurityGroupIngress", "z",
	    "Client.DryRunOperation", 1000);
	memset(&f, 0, sizeof(f));
	f.event_id = "z1";
	f.found_at = 1200;
	assert_int_equal(ledger_decide(done, VERDICT_LOGGED, &f, NULL, 1200),
	    0);
	assert_true(ledger_event_used(L, "z1"));
	assert_false(ledger_event_used(L, "z2"));
	rows[0] = rowx(RUN_A, 9, 1, "AuthorizeSecurityGroupIngress", NULL,
	    "Client.DryRunOperation", 1001);
	event(&ev[0], "z1", "AuthorizeSecurityGroupIngress", NULL,
	    ua(RUN_A, 9, 1), "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match(rows, 1, ev, 1, out), 0);
	verify_event_clear(&ev[0]);

	/* A late record of a decided row of the same run: its marker and
	 * request ID are that row's, so no other row takes it. */
	rows[0] = rowx(RUN_B, 10, 1, "AuthorizeSecurityGroupIngress", NULL,
	    "Client.DryRunOperation", 1001);
	event(&ev[0], "z3", "AuthorizeSecurityGroupIngress", "z",
	    ua(RUN_B, 9, 1), "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match(rows, 1, ev, 1, out), 0);
	verify_event_clear(&ev[0]);

	/* Two rows, one record that fits one of them: one assignment. */
	rows[0] = rowx(RUN_A, 11, 1, "CreateVpc", NULL,
	    "Client.DryRunOperation", 1000);
	rows[1] = rowx(RUN_A, 12, 1, "CreateVpc", NULL,
	    "Client.DryRunOperation", 1000);
	event(&ev[0], "c1", "CreateVpc", NULL, ua(RUN_A, 12, 1),
	    "Client.DryRunOperation", NULL);
	assert_int_equal(verify_match(rows, 2, ev, 1, out), 1);
	assert_int_equal(out[0].entry, 1);
	verify_event_clear(&ev[0]);

	/* Nothing to match: nothing assigned. */
	event(&ev[0], "w1", "CreateVpc", "zz", "aws-cli/2.0", NULL, NULL);
	assert_int_equal(verify_match(rows, 2, ev, 1, out), 0);
	assert_int_equal(verify_match(rows, 0, ev, 1, out), 0);
	verify_event_clear(&ev[0]);
}

/* A row no record could ever prove is never judged missing. */
static void
test_provable(void **state)
{
	struct ledger_entry	*e;

	e = rowx(RUN_A, 1, 1, "CreateVpc", "r", NULL, 1000);
	assert_true(verify_row_provable(e));
	e = rowx(RUN_A, 2, 1, "CreateVpc", NULL, NULL, 1000);
	assert_true(verify_row_provable(e));
	e = rowx(RUN_A, -1, 1, "CreateVpc", "r", NULL, 1000);
	assert_true(verify_row_provable(e));
	/* A per-run marker only (a row from an older version). */
	e = rowx(RUN_A, -1, 1, "CreateVpc", NULL, NULL, 1000);
	assert_false(verify_row_provable(e));
	free(e->x.user_agent);
	e->x.user_agent = NULL;
	assert_false(verify_row_provable(e));
}

/* The page reader: an answer that cannot be trusted is never complete. */
static void
test_page_read(void **state)
{
	struct ct_event	*evs = NULL;
	const char	*tok;
	char		*problem, *good, *rec;
	json_t		*page;
	size_t		 n = 0, i;

	page = json_pack("{s:s,s:s}", "eventID", "g1", "eventName",
	    "CreateVpc");
	rec = json_dumps(page, JSON_COMPACT);
	json_decref(page);
	page = json_pack("{s:s,s:s}", "EventId", "g1", "CloudTrailEvent", rec);
	good = json_dumps(page, JSON_COMPACT);
	json_decref(page);
	free(rec);

	/* A good last page. */
	page = json_pack("{s:[o]}", "Events", json_loads(good, 0, NULL));
	assert_int_equal(verify_page_read(page, 1, &evs, &n, &tok, &problem),
	    0);
	assert_null(problem);
	assert_null(tok);
	assert_int_equal(n, 1);
	json_decref(page);
	/* A page with a token; an empty token is the last page. */
	page = json_pack("{s:[],s:s}", "Events", "NextToken", "t2");
	assert_int_equal(verify_page_read(page, 1, &evs, &n, &tok, &problem),
	    0);
	assert_string_equal(tok, "t2");
	json_decref(page);
	page = json_pack("{s:[],s:s}", "Events", "NextToken", "");
	assert_int_equal(verify_page_read(page, 1, &evs, &n, &tok, &problem),
	    0);
	assert_null(tok);
	json_decref(page);

	/* 200 without Events, Events null, Events not a list: unusable. */
	page = json_object();
	assert_int_equal(verify_page_read(page, 1, &evs, &n, &tok, &problem),
	    -1);
	assert_non_null(strstr(problem, "without an Events list"));
	free(problem);
	json_decref(page);
	page = json_pack("{s:n}", "Events");
	assert_int_equal(verify_page_read(page, 1, &evs, &n, &tok, &problem),
	    -1);
	assert_non_null(problem);
	free(problem);
	json_decref(page);
	page = json_pack("{s:{}}", "Events");
	assert_int_equal(verify_page_read(page, 1, &evs, &n, &tok, &problem),
	    -1);
	assert_non_null(strstr(problem, "not a list"));
	free(problem);
	json_decref(page);
	page = json_pack("{s:[],s:i}", "Events", "NextToken", 3);
	assert_int_equal(verify_page_read(page, 1, &evs, &n, &tok, &problem),
	    -1);
	free(problem);
	json_decref(page);
	page = json_string("x");
	assert_int_equal(verify_page_read(page, 1, &evs, &n, &tok, &problem),
	    -1);
	free(problem);
	json_decref(page);
	assert_int_equal(verify_page_read(NULL, 1, &evs, &n, &tok, &problem),
	    -1);
	free(problem);

	/* Records that do not parse: the others are kept, the page is not
	 * complete. */
	page = json_pack("{s:[o,{s:s,s:s},{s:s},i]}", "Events",
	    json_loads(good, 0, NULL), "EventId", "b1", "CloudTrailEvent",
	    "{oops", "EventId", "b2", 7);
	assert_int_equal(verify_page_read(page, 1, &evs, &n, &tok, &problem),
	    0);
	assert_non_null(problem);
	assert_non_null(strstr(problem, "could not be read"));
	assert_non_null(strstr(problem, "2 more"));
	assert_int_equal(n, 2);
	free(problem);
	json_decref(page);

	for (i = 0; i < n; i++)
		verify_event_clear(&evs[i]);
	free(evs);
	free(good);
}

static struct verify_params
params(void)
{
	struct verify_params	 p;

	memset(&p, 0, sizeof(p));
	p.initial_delay = 300;
	p.interval = 60;
	p.deadline = 900;
	p.skew = 120;
	verify_params_resolve(&p);
	return p;
}

static void
test_plan(void **state)
{
	struct verify_params	 p = params();
	struct ledger_entry	*rows[6];
	struct verify_query	*q;
	size_t			 nq, i;
	double			 now = 2000000000;
	static const char *const names[] = { "A", "B", "C", "D", "E", "F" };

	/* One session key for the run: one AccessKeyId query. */
	rows[0] = row(RUN_A, "CreateVpc", "1", "ASIAKEY1", now - 600.5);
	rows[1] = row(RUN_A, "DeleteVpc", "2", "ASIAKEY1", now - 500);
	q = verify_plan(rows, 2, &p, now, 0, &nq);
	assert_int_equal(nq, 1);
	assert_int_equal(q[0].kind, VERIFY_Q_ACCESS_KEY);
	assert_string_equal(q[0].value, "ASIAKEY1");
	assert_true(q[0].start == now - 600.5 - 120 - 0.5);	/* floor */
	assert_int_equal(q[0].nmembers, 2);
	verify_plan_free(q, nq);

	/* Two runs, two session keys: two queries, each its own window. */
	rows[2] = row(RUN_B, "CreateVpc", "3", "ASIAKEY2", now - 100);
	q = verify_plan(rows, 3, &p, now, 0, &nq);
	assert_int_equal(nq, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(q[i].kind, VERIFY_Q_ACCESS_KEY);
		if (strcmp(q[i].value, "ASIAKEY2") == 0) {
			assert_int_equal(q[i].nmembers, 1);
			assert_int_equal(q[i].members[0], 2);
			assert_true(q[i].start == now - 220);
		} else
			assert_int_equal(q[i].nmembers, 2);
	}
	verify_plan_free(q, nq);

	/* A long-term key is shared with everything else: a single pending
	 * event name is narrower. */
	rows[0] = row(RUN_A, "CreateVpc", "1", "AKIAKEY", now - 600);
	rows[1] = row(RUN_A, "CreateVpc", "2", "AKIAKEY", now - 500);
	q = verify_plan(rows, 2, &p, now, 0, &nq);
	assert_int_equal(nq, 1);
	assert_int_equal(q[0].kind, VERIFY_Q_EVENT_NAME);
	assert_string_equal(q[0].value, "CreateVpc");
	verify_plan_free(q, nq);

	/* Many names, one long-term key: the key. */
	for (i = 0; i < 6; i++)
		rows[i] = row(RUN_A, names[i], "x", "AKIAKEY", now - 60);
	q = verify_plan(rows, 6, &p, now, 0, &nq);
	assert_int_equal(nq, 1);
	assert_int_equal(q[0].kind, VERIFY_Q_ACCESS_KEY);
	assert_int_equal(q[0].nmembers, 6);
	verify_plan_free(q, nq);

	/* Many names, keys unknown: a sweep over everything. */
	for (i = 0; i < 6; i++)
		rows[i] = row(RUN_A, names[i], "x", NULL, now - 60 * (double)i);
	q = verify_plan(rows, 6, &p, now, 0, &nq);
	assert_int_equal(nq, 1);
	assert_int_equal(q[0].kind, VERIFY_Q_SWEEP);
	assert_null(q[0].value);
	assert_int_equal(q[0].nmembers, 6);
	assert_true(q[0].start == now - 300 - 120);
	verify_plan_free(q, nq);

	/* Three names, keys unknown: one query per name. */
	q = verify_plan(rows, 3, &p, now, 0, &nq);
	assert_int_equal(nq, 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(q[i].kind, VERIFY_Q_EVENT_NAME);
		assert_int_equal(q[i].nmembers, 1);
	}
	verify_plan_free(q, nq);

	/* Our clock 30 s behind the server's: the window follows the
	 * server's clock. */
	rows[0] = row(RUN_A, "CreateVpc", "1", "ASIAKEY1", now - 600);
	q = verify_plan(rows, 1, &p, now, 30, &nq);
	assert_true(q[0].start == now - 600 + 30 - 120);
	verify_plan_free(q, nq);
	/* A call "in the future" (clock step): start no later than now. */
	rows[0] = row(RUN_A, "CreateVpc", "1", "ASIAKEY1", now + 1000);
	q = verify_plan(rows, 1, &p, now, 0, &nq);
	assert_true(q[0].start == now);
	verify_plan_free(q, nq);

	/* Never further back than LookupEvents can look. */
	rows[0] = row(RUN_A, "CreateVpc", "1", "ASIAKEY1", now - 100 * 86400.0);
	q = verify_plan(rows, 1, &p, now, 0, &nq);
	assert_true(q[0].start >= now - VERIFY_LOOKBACK);
	assert_true(q[0].start <= now);
	verify_plan_free(q, nq);
	assert_null(verify_plan(rows, 0, &p, now, 0, &nq));
	assert_int_equal(nq, 0);

	/* What LookupEvents cannot reach is set aside (unverified). */
	assert_true(verify_too_old(now - 100 * 86400.0, now, 0, 120));
	assert_true(verify_too_old(now - VERIFY_LOOKBACK + 100, now, 0, 120));
	assert_false(verify_too_old(now - VERIFY_LOOKBACK + 300, now, 0, 120));
	assert_false(verify_too_old(now - 60, now, 0, 120));
	/* The server's clock decides: ours 1 h behind. */
	assert_true(verify_too_old(now - VERIFY_LOOKBACK + 300, now, 3600,
	    120) == 0);
	assert_int_equal(nq, 0);
}

static void
test_judge(void **state)
{
	double	 D = 1900, grace = 120;

	/* Before the deadline nothing is decided. */
	assert_int_equal(verify_judge(D, 0, 1800, grace), VERDICT_PENDING);
	assert_int_equal(verify_judge(D, 1899, 1899, grace), VERDICT_PENDING);
	/* A complete lookup that started at or after D: missing. */
	assert_int_equal(verify_judge(D, 1900, 1901, grace), VERDICT_MISSING);
	assert_int_equal(verify_judge(D, 1950, 1951, grace), VERDICT_MISSING);
	/* Only lookups before D succeeded: wait, then unverified. */
	assert_int_equal(verify_judge(D, 1899, 1950, grace), VERDICT_PENDING);
	assert_int_equal(verify_judge(D, 1899, 2020, grace),
	    VERDICT_UNVERIFIED);
	/* Nothing ever succeeded: unverified, never missing. */
	assert_int_equal(verify_judge(D, 0, 2019.9, grace), VERDICT_PENDING);
	assert_int_equal(verify_judge(D, 0, 2020, grace), VERDICT_UNVERIFIED);
	assert_int_equal(verify_judge(D, 0, 1e12, grace), VERDICT_UNVERIFIED);
}

/*
 * #11: not found by a complete lookup after the deadline is a logging gap
 * only when CloudTrail is known to record the call; when that is only
 * assumed the row is unverified, with its own reason, marked not found.
 */
static void
test_absent_evidence(void **state)
{
	struct ledger_entry	*e;

	assert_int_equal(verify_absent_verdict(AWS_EVIDENCE_DOCUMENTED),
	    VERDICT_MISSING);
	assert_int_equal(verify_absent_verdict(AWS_EVIDENCE_OBSERVED),
	    VERDICT_MISSING);
	assert_int_equal(verify_absent_verdict(AWS_EVIDENCE_ASSUMED),
	    VERDICT_UNVERIFIED);

	e = row(RUN_A, "PutBucketPolicy", "req-1", NULL, 1000);
	e->x.evidence = AWS_EVIDENCE_ASSUMED;
	assert_int_equal(verify_decide_absent(e, "not found by a complete "
	    "lookup", 1950), VERDICT_UNVERIFIED);
	assert_int_equal(e->verdict, VERDICT_UNVERIFIED);
	assert_int_equal(e->not_found, 1);
	assert_true(ledger_entry_unconfirmed(e));
	assert_non_null(strstr(e->reason, "not found by a complete lookup"));
	assert_non_null(strstr(e->reason, "only assumed"));
	/* A verdict is final. */
	assert_int_equal(verify_decide_absent(e, "again", 1960),
	    VERDICT_PENDING);
	assert_int_equal(e->verdict, VERDICT_UNVERIFIED);

	e = row(RUN_A, "CreateVpc", "req-2", NULL, 1000);
	e->x.evidence = AWS_EVIDENCE_OBSERVED;
	assert_int_equal(verify_decide_absent(e, "not found", 1950),
	    VERDICT_MISSING);
	assert_int_equal(e->verdict, VERDICT_MISSING);
	assert_int_equal(e->not_found, 1);
	assert_false(ledger_entry_unconfirmed(e));
	assert_string_equal(e->reason, "not found");

	/* Unverified for another reason (lookups failed) is not it. */
	e = row(RUN_A, "GetBucketAcl", "req-3", NULL, 1000);
	e->x.evidence = AWS_EVIDENCE_ASSUMED;
	assert_int_equal(ledger_decide(e, VERDICT_UNVERIFIED, NULL,
	    "no lookup completed", 1950), 0);
	assert_false(ledger_entry_unconfirmed(e));
}

static double
next_poll(const struct verify_item *it, size_t n, double last,
    const struct verify_params *p)
{
	double	 t;

	if (verify_next_poll(it, n, last, p, &t) == -1)
		return -1;
	return t;
}

static void
test_schedule(void **state)
{
	struct verify_params	 p = params();
	struct verify_item	 it[2];
	double			 t;

	memset(it, 0, sizeof(it));
	it[0].e = row(RUN_A, "CreateVpc", "1", NULL, 1000);
	it[1].e = row(RUN_A, "DeleteVpc", "2", NULL, 1003);
	assert_true(it[1].e->deadline == 1903);
	assert_true(p.grace == 120);
	/* The schedule runs on the items' (monotonic) times only. */
	it[0].fired = 1000;
	it[0].deadline = 1900;
	it[1].fired = 1003;
	it[1].deadline = 1903;
	/* a clock step */
	it[0].e->x.fired_at = it[1].e->x.fired_at = 5e9;

	assert_true(next_poll(it, 0, 0, &p) < 0);
	/* First poll: the initial delay after the first call. */
	assert_true(next_poll(it, 2, 0, &p) == 1300);
	/* Then every interval. */
	assert_true(next_poll(it, 2, 1300, &p) == 1360);
	assert_true(next_poll(it, 2, 1870, &p) == 1900);	/* D0 */
	/* At D0 a poll ran; D1 is 3 s later: not before the 5 s gap. */
	t = next_poll(it, 2, 1900, &p);
	assert_true(t == 1905);
	/* Row 0 covered after its deadline: only row 1 drives. */
	it[0].covered_at = 1900;
	assert_true(next_poll(it, 2, 1900, &p) == 1905);
	/* Lookups after D failed: keep the interval, judge at D + grace. */
	it[0].covered_at = 0;
	it[1].covered_at = 0;
	assert_true(next_poll(it, 2, 1990, &p) == 2020);
	assert_true(next_poll(it, 2, 2020, &p) == 2025);
	/* Restarted long after: the first poll time is in the past (= now). */
	assert_true(next_poll(it, 2, 0, &p) == 1300);
	/* Times before this boot are negative on the monotonic clock. */
	it[0].fired = -9000;
	it[0].deadline = -8100;
	assert_true(next_poll(it, 2, 0, &p) == -8700);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_event),
		cmocka_unit_test(test_marker),
		cmocka_unit_test(test_error_code),
		cmocka_unit_test_setup_teardown(test_match_one, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_request_ids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_match_success_needs_no_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_retried_attempts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_provable, setup, teardown),
		cmocka_unit_test(test_page_read),
		cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
		cmocka_unit_test(test_judge),
		cmocka_unit_test_setup_teardown(test_absent_evidence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_schedule, setup, teardown),
	};

	log_init(LOG_TO_STDERR, "test_verify", LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
