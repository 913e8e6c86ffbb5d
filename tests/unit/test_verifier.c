/*
 * The verifier (daemon/verify.c) end to end against a real HTTP peer: a
 * loopback server (testsrv) that plays CloudTrail LookupEvents, with the
 * engine, the signing client and the ledger all real.  Each test states
 * one rule of the verdicts (verify.h): a `missing` verdict only after a
 * complete lookup that followed the deadline, never from a lookup cut at
 * the page cap, an answer without an Events list, a record that could not
 * be read, a call older than the 90-day window or a row nothing could
 * prove; a decoy (same name, another request ID) proves nothing; lookups
 * refused for the credentials end a one-shot at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "client.h"
#include "creds.h"
#include "db.h"
#include "http.h"
#include "ledger.h"
#include "log.h"
#include "testsrv.h"
#include "util.h"
#include "verify.h"
#include "xmalloc.h"

#define RUN_A	"0123456789abcdef0123456789abcdef"

/* What the fake CloudTrail answers. */
enum mode {
	M_RECORDS,	/* the records below, one page */
	M_ENDLESS,	/* empty pages, always with a NextToken */
	M_NO_EVENTS,	/* 200 {} */
	M_NULL_EVENTS,	/* 200 {"Events": null} */
	M_BAD_RECORD,	/* one record whose CloudTrailEvent is not JSON */
	M_AUTH,		/* 400 UnrecognizedClientException */
	M_THROTTLE,	/* 400 ThrottlingException */
};

struct fake {
	pthread_mutex_t	 lock;
	enum mode	 mode;
	json_t		*records;	/* CloudTrail records (objects) */
	int		 lookups;	/* requests seen */
	/*
	 * Non-zero: the fake's clock runs this far from ours, as AWS's does
	 * from a host whose clock is wrong.  Answers carry Date in it, a
	 * StartTime after its now is InvalidTimeRangeException, and records
	 * (their "fakeTime", in its clock) before StartTime are left out.
	 */
	double		 skew;
	int		 bad_range;	/* InvalidTimeRangeException answers */
};

struct env {
	struct event_base	*base;
	struct http_engine	*http;
	struct aws_client	*client;
	struct creds_provider	*creds;
	struct testsrv		*srv;
	struct ledger		*ledger;
	struct verifier		*v;
	struct fake		 fake;
	struct verify_params	 vp;
	size_t			 decided;
	size_t			 want;
};

static void
fake_reply_json(struct testsrv_resp *r, int status, json_t *j)
{
	char	*s = json_dumps(j, JSON_COMPACT);

	testsrv_reply(r, status, "application/x-amz-json-1.1", s, strlen(s));
	free(s);
	json_decref(j);
}

static void
fake_lookup(const struct testsrv_req *req, struct testsrv_resp *r, void *arg)
{
	struct fake	*f = arg;
	json_t		*events, *rec, *body;
	char		*s, date[64];
	size_t		 i;
	double		 now = 0, start = 0;
	time_t		 t;
	struct tm	 tm;

	pthread_mutex_lock(&f->lock);
	f->lookups++;
	testsrv_resp_header(r, "x-amzn-RequestId: lookup-req");
	if (f->skew != 0) {
		now = (double)time(NULL) + f->skew;
		t = (time_t)now;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "Date: %a, %d %b %Y %H:%M:%S GMT",
		    &tm);
		testsrv_resp_header(r, date);
		body = json_loadb(req->body, req->body_len, 0, NULL);
		start = json_number_value(json_object_get(body, "StartTime"));
		json_decref(body);
		if (start > now) {
			f->bad_range++;
			fake_reply_json(r, 400, json_pack("{s:s,s:s}", "__type",
			    "InvalidTimeRangeException", "message", "Start "
			    "time must be less than or equal to end time."));
			pthread_mutex_unlock(&f->lock);
			return;
		}
	}
	switch (f->mode) {
	case M_RECORDS:
		events = json_array();
		json_array_foreach(f->records, i, rec) {
			if (f->skew != 0 && json_number_value(json_object_get(
			    rec, "fakeTime")) < start)
				continue;
			s = json_dumps(rec, JSON_COMPACT);
			json_array_append_new(events, json_pack("{s:O,s:s}",
			    "EventId", json_object_get(rec, "eventID"),
			    "CloudTrailEvent", s));
			free(s);
		}
		fake_reply_json(r, 200, json_pack("{s:o}", "Events", events));
		break;
	case M_ENDLESS:
		s = xprintf("page-%d", f->lookups);
		fake_reply_json(r, 200, json_pack("{s:[],s:s}", "Events",
		    "NextToken", s));
		free(s);
		break;
	case M_NO_EVENTS:
		fake_reply_json(r, 200, json_object());
		break;
	case M_NULL_EVENTS:
		fake_reply_json(r, 200, json_pack("{s:n}", "Events"));
		break;
	case M_BAD_RECORD:
		fake_reply_json(r, 200, json_pack("{s:[{s:s,s:s}]}", "Events",
		    "EventId", "bad-1", "CloudTrailEvent", "{not json"));
		break;
	case M_AUTH:
		fake_reply_json(r, 400, json_pack("{s:s,s:s}", "__type",
		    "UnrecognizedClientException", "message", "The security "
		    "token included in the request is invalid."));
		break;
	case M_THROTTLE:
		fake_reply_json(r, 400, json_pack("{s:s,s:s}", "__type",
		    "ThrottlingException", "message", "Rate exceeded"));
		break;
	}
	pthread_mutex_unlock(&f->lock);
}

static struct creds_provider *
env_creds(const char *account, void *arg)
{
	struct env	*e = arg;

	return e->creds;
}

static void
env_verdicts(struct ledger_entry **rows, size_t n, void *arg)
{
	struct env	*e = arg;

	e->decided += n;
	if (e->decided >= e->want)
		event_base_loopbreak(e->base);
}

static const char *const aws_env[] = {
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDTRAIL", "AWS_MAX_ATTEMPTS",
	"AWS_RETRY_MODE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE",
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", NULL,
};

/* A verifier with deadline 0.6 s, polls every 0.2 s, grace 0.6 s. */
static struct env *
env_new(enum mode mode, int fail_fast, int max_pages)
{
	struct env		*e;
	struct aws_client_opts	 copts;
	struct verify_params	 vp;
	struct verify_hooks	 vh;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; aws_env[i] != NULL; i++)
		unsetenv(aws_env[i]);
	e = xcalloc(1, sizeof(*e));
	pthread_mutex_init(&e->fake.lock, NULL);
	e->fake.mode = mode;
	e->fake.records = json_array();
	e->srv = testsrv_start();
	testsrv_route(e->srv, "POST", "/", fake_lookup, &e->fake);
	assert_non_null(e->base = event_base_new());
	assert_non_null(e->http = http_engine_new(e->base, NULL));
	memset(&copts, 0, sizeof(copts));
	copts.endpoints.explicit_url = testsrv_url(e->srv, NULL);
	copts.max_attempts = 1;
	assert_non_null(e->client = aws_client_new(e->base, e->http, &copts));
	e->creds = creds_static("AKIDEXAMPLETESTKEY00", "fake-secret", NULL);
	assert_non_null(e->ledger = ledger_open(NULL, &cause));

	memset(&vp, 0, sizeof(vp));
	vp.initial_delay = 0.05;
	vp.interval = 0.2;
	vp.deadline = 0.6;
	vp.grace = 0.6;
	vp.skew = 120;
	vp.lookup_rate = 100;
	vp.max_pages = max_pages;
	vp.fail_fast = fail_fast;
	memset(&vh, 0, sizeof(vh));
	vh.creds = env_creds;
	vh.verdicts = env_verdicts;
	vh.arg = e;
	e->vp = vp;
	e->v = verifier_new(e->base, e->client, e->ledger, &vp, &vh);
	return e;
}

/*
 * For a test whose rows end logged or missing: a grace of 3 s, so that the
 * lookup at the deadline may finish however slow the machine (valgrind);
 * such a test ends when that lookup does, not at the grace.
 */
static void
env_patient(struct env *e)
{
	e->vp.grace = 3.0;
	verifier_set_params(e->v, &e->vp);
}

static void
env_free(struct env *e)
{
	verifier_free(e->v);
	ledger_free(e->ledger);
	creds_provider_free(e->creds);
	aws_client_free(e->client);
	http_engine_free(e->http);
	event_base_free(e->base);
	testsrv_free(e->srv);
	json_decref(e->fake.records);
	pthread_mutex_destroy(&e->fake.lock);
	free(e);
}

/* An expectation of call `seq` (answered by attempt 1), fired now. */
static struct ledger_entry *
env_expect_ev(struct env *e, int seq, const char *name,
    const char *request_id, const char *error_code, double fired_at,
    enum aws_evidence evidence);

static struct ledger_entry *
env_expect(struct env *e, int seq, const char *name, const char *request_id,
    const char *error_code, double fired_at)
{
	return env_expect_ev(e, seq, name, request_id, error_code, fired_at,
	    AWS_EVIDENCE_DOCUMENTED);
}

static struct ledger_entry *
env_expect_ev(struct env *e, int seq, const char *name,
    const char *request_id, const char *error_code, double fired_at,
    enum aws_evidence evidence)
{
	struct expectation	 x;
	struct ledger_entry	*row;
	char			 ua[128];

	snprintf(ua, sizeof(ua), "cloudsagad/0.1.0 run/%s/%d/1", RUN_A, seq);
	memset(&x, 0, sizeof(x));
	memcpy(x.run_id, RUN_A, 33);
	x.scenario = (char *)"network-changes";
	x.account = (char *)"prod";
	x.account_id = (char *)"123456789012";
	x.call_region = x.region = (char *)"us-east-1";
	x.event_source = (char *)"ec2.amazonaws.com";
	x.event_name = (char *)name;
	x.error_code = (char *)error_code;
	x.request_id = (char *)request_id;
	x.access_key_id = (char *)"AKIDEXAMPLETESTKEY00";
	x.user_agent = seq >= 0 ? ua : (char *)"cloudsagad/0.1.0 run/" RUN_A;
	x.fired_at = fired_at > 0 ? fired_at : now_real();
	x.fired_mono = fired_at > 0 ? 0 : now_mono();
	x.evidence = evidence;
	row = ledger_add(e->ledger, &x, verifier_deadline(e->v, &x));
	verifier_watch(e->v, row);
	verifier_commit_soon(e->v);
	e->want++;
	return row;
}

/* A CloudTrail record the fake serves. */
static void
env_record(struct env *e, const char *event_id, const char *name,
    const char *request_id, int seq, int attempt, const char *error_code)
{
	json_t	*rec;
	char	 ua[128];

	snprintf(ua, sizeof(ua), "cloudsagad/0.1.0 run/%s/%d/%d", RUN_A, seq,
	    attempt);
	rec = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "eventVersion",
	    "1.08", "eventID", event_id, "eventName", name, "eventSource",
	    "ec2.amazonaws.com", "awsRegion", "us-east-1",
	    "recipientAccountId", "123456789012", "userAgent", ua);
	if (request_id != NULL)
		json_object_set_new(rec, "requestID", json_string(request_id));
	if (error_code != NULL)
		json_object_set_new(rec, "errorCode", json_string(error_code));
	pthread_mutex_lock(&e->fake.lock);
	json_array_append_new(e->fake.records, rec);
	pthread_mutex_unlock(&e->fake.lock);
}

/* Run the loop until every expectation is decided (or 20 s pass). */
static double
env_run(struct env *e)
{
	struct timeval	 tv = { 20, 0 };
	double		 t0 = now_mono();

	event_base_loopexit(e->base, &tv);
	event_base_dispatch(e->base);
	assert_int_equal(e->decided, e->want);
	return now_mono() - t0;
}

/* Sanity: complete lookups after the deadline make a real gap missing,
 * and the record of a call proves it. */
static void
test_complete_lookup(void **state)
{
	struct env		*e = env_new(M_RECORDS, 0, 0);
	struct ledger_entry	*gap, *found;

	env_patient(e);
	gap = env_expect(e, 1, "CreateVpc", "req-gap",
	    "Client.DryRunOperation", 0);
	found = env_expect(e, 2, "CreateVpc", "req-found",
	    "Client.DryRunOperation", 0);
	env_record(e, "ev-found", "CreateVpc", "req-found", 2, 1,
	    "Client.DryRunOperation");
	env_run(e);
	assert_int_equal(found->verdict, VERDICT_LOGGED);
	assert_string_equal(found->event_id, "ev-found");
	assert_string_equal(found->match, "request-id");
	assert_int_equal(gap->verdict, VERDICT_MISSING);
	assert_non_null(strstr(gap->reason, "complete lookup"));
	env_free(e);
}

/*
 * #11: the same complete lookups after the deadline, for calls whose
 * recording is only assumed: not found is unverified (its own reason,
 * not_found, stored so), never missing; found is logged as any call.
 */
static void
test_assumed_evidence(void **state)
{
	struct env		*e = env_new(M_RECORDS, 0, 0);
	struct ledger_entry	*absent, *found, *gap;
	struct verify_stats	 st;

	absent = env_expect_ev(e, 1, "CreateVpc", "req-absent",
	    "Client.DryRunOperation", 0, AWS_EVIDENCE_ASSUMED);
	found = env_expect_ev(e, 2, "CreateVpc", "req-found",
	    "Client.DryRunOperation", 0, AWS_EVIDENCE_ASSUMED);
	gap = env_expect_ev(e, 3, "CreateVpc", "req-gap",
	    "Client.DryRunOperation", 0, AWS_EVIDENCE_OBSERVED);
	env_record(e, "ev-found", "CreateVpc", "req-found", 2, 1,
	    "Client.DryRunOperation");
	env_run(e);
	assert_int_equal(found->verdict, VERDICT_LOGGED);
	assert_int_equal(found->not_found, 0);
	assert_int_equal(absent->verdict, VERDICT_UNVERIFIED);
	assert_int_equal(absent->not_found, 1);
	assert_true(ledger_entry_unconfirmed(absent));
	assert_non_null(strstr(absent->reason, "complete lookup"));
	assert_non_null(strstr(absent->reason, "only assumed"));
	assert_int_equal(gap->verdict, VERDICT_MISSING);
	assert_int_equal(gap->not_found, 1);
	verifier_stats(e->v, &st);
	assert_int_equal(st.missing, 1);
	assert_int_equal(st.unverified, 1);
	/* Committed as decided. */
	{
		sqlite3_stmt	*q;

		assert_int_equal(sqlite3_prepare_v2(db_handle(ledger_db(
		    e->ledger)), "SELECT verdict, evidence, not_found FROM "
		    "expectations WHERE request_id = 'req-absent'", -1, &q,
		    NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_string_equal((const char *)sqlite3_column_text(q, 0),
		    "unverified");
		assert_string_equal((const char *)sqlite3_column_text(q, 1),
		    "assumed");
		assert_int_equal(sqlite3_column_int(q, 2), 1);
		sqlite3_finalize(q);
	}
	env_free(e);
}

/* A decoy - the record of a throttled attempt of the same call, its own
 * request ID - never stands in for the answer's record: a real gap. */
static void
test_decoy(void **state)
{
	struct env		*e = env_new(M_RECORDS, 0, 0);
	struct ledger_entry	*row;

	env_patient(e);
	row = env_expect(e, 3, "DescribeInstances", "req-final", NULL, 0);
	env_record(e, "ev-decoy", "DescribeInstances", "req-throttled", 3, 1,
	    "Client.RequestLimitExceeded");
	env_record(e, "ev-other", "DescribeInstances", NULL, 3, 1,
	    "Client.RequestLimitExceeded");
	env_run(e);
	assert_int_equal(row->verdict, VERDICT_MISSING);
	assert_null(row->event_id);
	env_free(e);
}

/* A lookup cut at the page cap saw only part of the window. */
static void
test_page_cap(void **state)
{
	struct env		*e = env_new(M_ENDLESS, 0, 2);
	struct ledger_entry	*row;

	row = env_expect(e, 1, "CreateVpc", "req-1", "Client.DryRunOperation",
	    0);
	env_run(e);
	assert_int_equal(row->verdict, VERDICT_UNVERIFIED);
	assert_non_null(strstr(row->reason, "pages"));
	assert_true(e->fake.lookups >= 4);
	env_free(e);
}

/* 200 answers without a usable Events list are not empty lookups. */
static void
test_no_events(void **state)
{
	static const enum mode modes[] = { M_NO_EVENTS, M_NULL_EVENTS,
	    M_BAD_RECORD };
	struct env		*e;
	struct ledger_entry	*row;
	size_t			 i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		e = env_new(modes[i], 0, 0);
		row = env_expect(e, 1, "CreateVpc", "req-1",
		    "Client.DryRunOperation", 0);
		env_run(e);
		assert_int_equal(row->verdict, VERDICT_UNVERIFIED);
		assert_true(strstr(row->reason, "Events") != NULL ||
		    strstr(row->reason, "could not be read") != NULL);
		env_free(e);
	}
}

/* Throttled lookups to the end: unverified, never missing. */
static void
test_throttled(void **state)
{
	struct env		*e = env_new(M_THROTTLE, 1, 0);
	struct ledger_entry	*row;
	double			 took;

	row = env_expect(e, 1, "CreateVpc", "req-1", "Client.DryRunOperation",
	    0);
	took = env_run(e);
	assert_int_equal(row->verdict, VERDICT_UNVERIFIED);
	assert_non_null(strstr(row->reason, "ThrottlingException"));
	/* Throttling is no reason to give up early: deadline + grace. */
	assert_true(took >= 1.1);
	env_free(e);
}

/* One-shot: lookups refused for the credentials end the wait at once. */
static void
test_fail_fast(void **state)
{
	struct env		*e = env_new(M_AUTH, 1, 0);
	struct ledger_entry	*row;
	double			 took;

	row = env_expect(e, 1, "CreateVpc", "req-1", "Client.DryRunOperation",
	    0);
	took = env_run(e);
	assert_int_equal(row->verdict, VERDICT_UNVERIFIED);
	assert_non_null(strstr(row->reason, "UnrecognizedClientException"));
	assert_true(took < 0.55);	/* before the deadline itself */
	env_free(e);

	/* The daemon keeps trying to the deadline (someone may fix the
	 * credentials), and still never says missing. */
	e = env_new(M_AUTH, 0, 0);
	row = env_expect(e, 1, "CreateVpc", "req-1", "Client.DryRunOperation",
	    0);
	took = env_run(e);
	assert_int_equal(row->verdict, VERDICT_UNVERIFIED);
	assert_true(took >= 1.1);
	env_free(e);
}

/*
 * This host's clock runs 10 minutes ahead of AWS's (signatures still pass:
 * AWS allows 15): the windows must follow the server's clock, learnt from
 * the Date of its answers, or every lookup starts after AWS's now
 * (InvalidTimeRangeException: unverified forever) or, with a longer
 * deadline, after the record (a false `missing`).
 */
static void
test_clock_ahead(void **state)
{
	struct env		*e = env_new(M_RECORDS, 0, 0);
	struct ledger_entry	*row, *gap;
	json_t			*rec;

	e->fake.skew = -600;
	env_patient(e);
	row = env_expect(e, 1, "CreateVpc", "req-1", "Client.DryRunOperation",
	    0);
	gap = env_expect(e, 2, "CreateVpc", "req-2", "Client.DryRunOperation",
	    0);
	env_record(e, "ev-1", "CreateVpc", "req-1", 1, 1,
	    "Client.DryRunOperation");
	rec = json_array_get(e->fake.records, 0);
	json_object_set_new(rec, "fakeTime", json_real(now_real() - 600));
	env_run(e);
	assert_int_equal(row->verdict, VERDICT_LOGGED);
	assert_string_equal(row->event_id, "ev-1");
	/* Complete lookups in the server's clock: a real gap is still one. */
	assert_int_equal(gap->verdict, VERDICT_MISSING);
	/* One lookup at most before the offset was known. */
	assert_true(e->fake.bad_range <= 1);
	env_free(e);
}

/* Rows no lookup can decide: older than 90 days, or unprovable. */
static void
test_set_aside(void **state)
{
	struct env		*e = env_new(M_RECORDS, 0, 0);
	struct ledger_entry	*old, *legacy;

	old = env_expect(e, 1, "CreateVpc", "req-1", "Client.DryRunOperation",
	    now_real() - 100 * 86400.0);
	legacy = env_expect(e, -1, "CreateVpc", NULL,
	    "Client.DryRunOperation", 0);
	env_run(e);
	assert_int_equal(old->verdict, VERDICT_UNVERIFIED);
	assert_non_null(strstr(old->reason, "90 days"));
	assert_int_equal(legacy->verdict, VERDICT_UNVERIFIED);
	assert_non_null(strstr(legacy->reason, "no record can prove"));
	env_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_complete_lookup),
		cmocka_unit_test(test_assumed_evidence),
		cmocka_unit_test(test_decoy),
		cmocka_unit_test(test_page_cap),
		cmocka_unit_test(test_no_events),
		cmocka_unit_test(test_throttled),
		cmocka_unit_test(test_fail_fast),
		cmocka_unit_test(test_set_aside),
		cmocka_unit_test(test_clock_ahead),
	};

	log_init(LOG_TO_STDERR, "test_verifier", getenv("TEST_DEBUG") ? LOG_DEBUG : LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
