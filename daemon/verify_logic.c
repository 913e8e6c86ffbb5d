/*
 * verify_logic: the pure parts of the verifier - parsing CloudTrail
 * records, matching them to expectations, planning the queries of a poll,
 * the verdict rule and the polling schedule.  No I/O, no event loop: unit
 * tested in tests/unit/test_verify.c.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "aws.h"
#include "ledger.h"
#include "util.h"
#include "verify.h"
#include "xmalloc.h"

void
verify_params_default(struct verify_params *p)
{
	memset(p, 0, sizeof(*p));
	p->initial_delay = 300;
	p->interval = 60;
	p->deadline = 900;
	p->lookup_rate = 2;
	p->skew = 120;
	verify_params_resolve(p);
}

void
verify_params_resolve(struct verify_params *p)
{
	if (p->interval <= 0)
		p->interval = 60;
	if (p->initial_delay < 0)
		p->initial_delay = 0;
	if (p->deadline <= 0)
		p->deadline = 900;
	if (p->lookup_rate <= 0)
		p->lookup_rate = 2;
	if (p->skew < 0)
		p->skew = 0;
	if (p->grace <= 0)
		p->grace = fmax(2 * p->interval, 10);
	if (p->max_pages <= 0)
		p->max_pages = 200;
	if (p->max_queries <= 0)
		p->max_queries = 4;
}

/* ---- records -------------------------------------------------------------- */

static char *
verify_dup_str(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (json_is_string(v) && json_string_length(v) > 0)
		return xstrdup(json_string_value(v));
	return NULL;
}

int
verify_parse_event(json_t *ev, double seen_at, struct ct_event *out,
    char **cause)
{
	json_error_t	 jerr;
	json_t		*rec, *v;
	time_t		 t;

	memset(out, 0, sizeof(*out));
	out->seen_at = seen_at;
	if (!json_is_object(ev)) {
		*cause = xstrdup("an event is not an object");
		return -1;
	}
	v = json_object_get(ev, "CloudTrailEvent");
	if (json_is_string(v)) {
		rec = json_loadb(json_string_value(v), json_string_length(v),
		    0, &jerr);
		if (rec == NULL) {
			*cause = xprintf("CloudTrailEvent is not JSON: %s",
			    jerr.text);
			return -1;
		}
	} else if (json_is_object(v))
		rec = json_incref(v);
	else {
		*cause = xstrdup("the event has no CloudTrailEvent");
		return -1;
	}
	if (!json_is_object(rec)) {
		json_decref(rec);
		*cause = xstrdup("CloudTrailEvent is not a JSON object");
		return -1;
	}
	out->record = rec;
	if ((out->event_id = verify_dup_str(rec, "eventID")) == NULL)
		out->event_id = verify_dup_str(ev, "EventId");
	if ((out->event_name = verify_dup_str(rec, "eventName")) == NULL)
		out->event_name = verify_dup_str(ev, "EventName");
	if ((out->event_source = verify_dup_str(rec, "eventSource")) == NULL)
		out->event_source = verify_dup_str(ev, "EventSource");
	out->request_id = verify_dup_str(rec, "requestID");
	out->user_agent = verify_dup_str(rec, "userAgent");
	out->error_code = verify_dup_str(rec, "errorCode");
	out->aws_region = verify_dup_str(rec, "awsRegion");
	out->account_id = verify_dup_str(rec, "recipientAccountId");
	v = json_object_get(rec, "userIdentity");
	if ((out->access_key_id = verify_dup_str(v, "accessKeyId")) == NULL)
		out->access_key_id = verify_dup_str(ev, "AccessKeyId");
	v = json_object_get(rec, "eventTime");
	if (json_is_string(v) &&
	    time_parse_iso8601(json_string_value(v), &t) == 0)
		out->event_time = (double)t;
	else if (json_is_number(v = json_object_get(ev, "EventTime")))
		out->event_time = json_number_value(v);
	if (out->event_id == NULL || out->event_name == NULL) {
		*cause = xstrdup(out->event_id == NULL ? "the event has no "
		    "eventID" : "the event has no eventName");
		verify_event_clear(out);
		return -1;
	}
	return 0;
}

void
verify_event_clear(struct ct_event *ev)
{
	free(ev->event_id);
	free(ev->event_name);
	free(ev->event_source);
	free(ev->request_id);
	free(ev->user_agent);
	free(ev->error_code);
	free(ev->aws_region);
	free(ev->account_id);
	free(ev->access_key_id);
	json_decref(ev->record);
	memset(ev, 0, sizeof(*ev));
}

int
verify_page_read(json_t *data, double seen_at, struct ct_event **events,
    size_t *nevents, const char **next_token, char **problem)
{
	json_t		*list, *e, *tok;
	struct ct_event	 ev;
	char		*cause;
	size_t		 i, nbad = 0;

	*next_token = NULL;
	*problem = NULL;
	if (!json_is_object(data)) {
		*problem = xstrdup("LookupEvents answered something that is "
		    "not a JSON object");
		return -1;
	}
	tok = json_object_get(data, "NextToken");
	if (tok != NULL && !json_is_null(tok) && !json_is_string(tok)) {
		*problem = xstrdup("LookupEvents answered a NextToken that is "
		    "not a string");
		return -1;
	}
	if (json_is_string(tok) && json_string_length(tok) > 0)
		*next_token = json_string_value(tok);
	list = json_object_get(data, "Events");
	if (!json_is_array(list)) {
		*problem = xstrdup(list == NULL ? "LookupEvents answered "
		    "without an Events list" : "LookupEvents answered an "
		    "Events member that is not a list");
		return -1;
	}
	json_array_foreach(list, i, e) {
		cause = NULL;
		if (verify_parse_event(e, seen_at, &ev, &cause) == -1) {
			if (nbad++ == 0)
				*problem = xprintf("a record in the LookupEvents "
				    "answer could not be read (%s)", cause);
			free(cause);
			continue;
		}
		*events = xreallocarray(*events, *nevents + 1,
		    sizeof(**events));
		(*events)[(*nevents)++] = ev;
	}
	if (nbad > 1) {
		cause = *problem;
		*problem = xprintf("%s, and %zu more", cause, nbad - 1);
		free(cause);
	}
	return 0;
}

/* ---- matching ------------------------------------------------------------- */

int
verify_marker(const char *ua, char run_id[33])
{
	struct aws_marker	 m;

	if (aws_marker_parse(ua, &m) == -1)
		return -1;
	memcpy(run_id, m.run_id, 33);
	return 0;
}

/*
 * An error code as CloudTrail and the wire spell it alike: without the
 * EC2 "Client."/"Server." prefix and the "Exception" suffix (IAM answers
 * NoSuchEntity, CloudTrail records NoSuchEntityException).
 */
static void
verify_code_norm(const char *code, const char **start, size_t *len)
{
	size_t	 n;

	if (strncmp(code, "Client.", 7) == 0 || strncmp(code, "Server.", 7) == 0)
		code += 7;
	n = strlen(code);
	if (n > 9 && strcmp(code + n - 9, "Exception") == 0)
		n -= 9;
	*start = code;
	*len = n;
}

int
verify_error_code_match(const char *expected, const char *actual)
{
	const char	*a, *b;
	size_t		 na, nb;

	/* Success expected: a record of a failure is another call's. */
	if (expected == NULL || *expected == '\0')
		return actual == NULL || *actual == '\0';
	if (actual == NULL || *actual == '\0')
		return 0;
	verify_code_norm(expected, &a, &na);
	verify_code_norm(actual, &b, &nb);
	return na == nb && na > 0 && strncmp(a, b, na) == 0;
}

const char *
verify_how_name(enum verify_how h)
{
	switch (h) {
	case VERIFY_BY_REQUEST_ID:
		return "request-id";
	case VERIFY_BY_MARKER:
		return "marker";
	case VERIFY_NO_MATCH:
		break;
	}
	return "none";
}

static int
verify_known(const char *s)
{
	return s != NULL && *s != '\0';
}

static int
verify_same(const char *a, const char *b)
{
	/* Unknown on either side does not contradict. */
	return !verify_known(a) || !verify_known(b) || strcmp(a, b) == 0;
}

int
verify_row_provable(const struct ledger_entry *e)
{
	struct aws_marker	 m;

	if (verify_known(e->x.request_id))
		return 1;
	return aws_marker_parse(e->x.user_agent, &m) == 0 && m.seq >= 0 &&
	    m.attempt >= 0;
}

enum verify_how
verify_match_one(const struct ledger_entry *e, const struct ct_event *ev)
{
	struct aws_marker	 rm, em;

	if (ev->event_name == NULL ||
	    strcmp(e->x.event_name, ev->event_name) != 0)
		return VERIFY_NO_MATCH;
	if (!verify_same(e->x.account_id, ev->account_id) ||
	    !verify_same(e->x.region, ev->aws_region) ||
	    !verify_same(e->x.event_source, ev->event_source))
		return VERIFY_NO_MATCH;
	/* Both request IDs known: they alone decide. */
	if (verify_known(e->x.request_id) && verify_known(ev->request_id))
		return strcasecmp(e->x.request_id, ev->request_id) == 0 ?
		    VERIFY_BY_REQUEST_ID : VERIFY_NO_MATCH;
	/*
	 * One side has none: the call marker of the very attempt that
	 * answered (run, call, attempt), and the outcome it had.
	 */
	if (aws_marker_parse(e->x.user_agent, &em) == -1 || em.seq < 0 ||
	    em.attempt < 0)
		return VERIFY_NO_MATCH;
	if (aws_marker_parse(ev->user_agent, &rm) == -1 ||
	    !aws_marker_equal(&em, &rm))
		return VERIFY_NO_MATCH;
	if (!verify_error_code_match(e->x.error_code, ev->error_code))
		return VERIFY_NO_MATCH;
	return VERIFY_BY_MARKER;
}

static int
verify_cmp_event_id(const void *a, const void *b, void *arg)
{
	const struct ct_event	*ev = arg;
	size_t			 i = *(const size_t *)a, j = *(const size_t *)b;
	int			 c;

	if ((c = strcmp(ev[i].event_id, ev[j].event_id)) != 0)
		return c;
	return i < j ? -1 : i > j;
}

size_t
verify_match(struct ledger_entry *const *rows, size_t nrows,
    const struct ct_event *events, size_t nevents, struct verify_assign *out)
{
	unsigned char	*taken, *done;
	size_t		*order, i, j, n = 0;
	enum verify_how	 how, pass;

	if (nrows == 0 || nevents == 0)
		return 0;
	taken = xcalloc(nrows, 1);
	done = xcalloc(nevents, 1);
	order = xcalloc(nevents, sizeof(*order));

	/*
	 * The same eventID twice (a duplicate delivery, pages that shifted):
	 * one record.  An eventID that already proves a row anywhere in the
	 * ledger proves nothing else.
	 */
	for (i = 0; i < nevents; i++)
		order[i] = i;
	qsort_r(order, nevents, sizeof(*order), verify_cmp_event_id,
	    (void *)events);
	for (i = 0; i < nevents; i++) {
		if (i > 0 && strcmp(events[order[i]].event_id,
		    events[order[i - 1]].event_id) == 0)
			done[order[i]] = 1;
		else if (ledger_event_used(rows[0]->run->ledger,
		    events[order[i]].event_id))
			done[order[i]] = 1;
	}

	/* Request IDs first (they name one call), then markers. */
	for (pass = VERIFY_BY_REQUEST_ID; pass <= VERIFY_BY_MARKER; pass++) {
		for (i = 0; i < nevents; i++) {
			if (done[i])
				continue;
			for (j = 0; j < nrows; j++) {
				if (taken[j])
					continue;
				how = verify_match_one(rows[j], &events[i]);
				if (how != pass)
					continue;
				taken[j] = done[i] = 1;
				out[n].entry = j;
				out[n].event = i;
				out[n++].how = how;
				break;
			}
		}
	}
	free(order);
	free(done);
	free(taken);
	return n;
}

/* ---- planning ------------------------------------------------------------- */

const char *
verify_qkind_name(enum verify_qkind k)
{
	switch (k) {
	case VERIFY_Q_ACCESS_KEY:
		return "AccessKeyId";
	case VERIFY_Q_EVENT_NAME:
		return "EventName";
	case VERIFY_Q_SWEEP:
		break;
	}
	return "sweep";
}

/* Distinct values of a field over the rows (borrowed), at most max + 1. */
static size_t
verify_distinct(struct ledger_entry *const *rows, size_t n, int key,
    const char **vals, size_t max, int *missing)
{
	const char	*v;
	size_t		 i, j, nv = 0;

	*missing = 0;
	for (i = 0; i < n; i++) {
		v = key ? rows[i]->x.access_key_id : rows[i]->x.event_name;
		if (v == NULL || *v == '\0') {
			*missing = 1;
			continue;
		}
		for (j = 0; j < nv; j++)
			if (strcmp(vals[j], v) == 0)
				break;
		if (j == nv) {
			if (nv == max + 1)
				return nv;
			vals[nv++] = v;
		}
	}
	return nv;
}

struct verify_query *
verify_plan(struct ledger_entry *const *rows, size_t n,
    const struct verify_params *p, double now, double offset, size_t *nq)
{
	struct verify_query	*q;
	enum verify_qkind	 kind;
	const char		**keys, **names, **vals;
	size_t			 nkeys, nnames, nv, i, j, max;
	int			 nokey, noname, temporary = 1;
	double			 floor_start;

	*nq = 0;
	if (n == 0)
		return NULL;
	max = p->max_queries > 0 ? (size_t)p->max_queries : 4;
	keys = xcalloc(max + 1, sizeof(*keys));
	names = xcalloc(max + 1, sizeof(*names));
	nkeys = verify_distinct(rows, n, 1, keys, max, &nokey);
	nnames = verify_distinct(rows, n, 0, names, max, &noname);
	for (i = 0; i < nkeys; i++)
		if (strncmp(keys[i], "ASIA", 4) != 0)
			temporary = 0;

	if (!nokey && temporary && nkeys <= max) {
		kind = VERIFY_Q_ACCESS_KEY;
		vals = keys;
		nv = nkeys;
	} else if (!noname && nnames <= max) {
		kind = VERIFY_Q_EVENT_NAME;
		vals = names;
		nv = nnames;
	} else if (!nokey && nkeys <= max) {
		kind = VERIFY_Q_ACCESS_KEY;
		vals = keys;
		nv = nkeys;
	} else {
		kind = VERIFY_Q_SWEEP;
		vals = NULL;
		nv = 1;
	}

	/* LookupEvents cannot look further back than 90 days. */
	floor_start = floor(now + offset - VERIFY_LOOKBACK + 60);
	q = xcalloc(nv, sizeof(*q));
	for (i = 0; i < nv; i++) {
		q[i].kind = kind;
		q[i].value = vals != NULL ? xstrdup(vals[i]) : NULL;
		q[i].members = xcalloc(n, sizeof(*q[i].members));
		q[i].start = -1;
		for (j = 0; j < n; j++) {
			const char *v = kind == VERIFY_Q_ACCESS_KEY ?
			    rows[j]->x.access_key_id : rows[j]->x.event_name;

			if (kind != VERIFY_Q_SWEEP && strcmp(v, vals[i]) != 0)
				continue;
			q[i].members[q[i].nmembers++] = j;
			if (q[i].start < 0 || rows[j]->x.fired_at < q[i].start)
				q[i].start = rows[j]->x.fired_at;
		}
		q[i].start = floor(q[i].start + offset - p->skew);
		if (q[i].start < floor_start)
			q[i].start = floor_start;
		if (q[i].start > floor(now + offset))
			q[i].start = floor(now + offset);
	}
	free(keys);
	free(names);
	*nq = nv;
	return q;
}

void
verify_plan_free(struct verify_query *q, size_t n)
{
	size_t	 i;

	for (i = 0; q != NULL && i < n; i++) {
		free(q[i].value);
		free(q[i].members);
	}
	free(q);
}

/* ---- verdicts and schedule ------------------------------------------------ */

enum verdict
verify_judge(double deadline, double covered_at, double now, double grace)
{
	if (covered_at > 0 && covered_at >= deadline)
		return VERDICT_MISSING;
	if (now >= deadline + grace)
		return VERDICT_UNVERIFIED;
	return VERDICT_PENDING;
}

enum verdict
verify_absent_verdict(enum aws_evidence ev)
{
	switch (ev) {
	case AWS_EVIDENCE_ASSUMED:
		return VERDICT_UNVERIFIED;
	case AWS_EVIDENCE_DOCUMENTED:
	case AWS_EVIDENCE_OBSERVED:
		break;
	}
	return VERDICT_MISSING;
}

enum verdict
verify_decide_absent(struct ledger_entry *e, const char *reason, double now)
{
	enum verdict	 v = verify_absent_verdict(e->x.evidence);
	char		*r = NULL;
	int		 rc;

	if (ledger_entry_state(e) != LEDGER_ROW_PENDING)
		return VERDICT_PENDING;
	if (v == VERDICT_UNVERIFIED)
		r = xprintf("%s; %s", reason != NULL ? reason : "not found",
		    VERIFY_UNCONFIRMED_REASON);
	rc = ledger_decide(e, v, NULL, r != NULL ? r : reason, now);
	free(r);
	if (rc == -1)
		return VERDICT_PENDING;
	e->not_found = 1;
	return v;
}

int
verify_too_old(double fired_at, double now, double offset, double skew)
{
	double	 floor_start = floor(now + offset - VERIFY_LOOKBACK + 60);

	return fired_at + offset - skew < floor_start;
}

int
verify_next_poll(const struct verify_item *it, size_t n, double last_start,
    const struct verify_params *p, double *when)
{
	double	 first = 0, t, gap, d, cand;
	size_t	 i;

	if (n == 0)
		return -1;
	/* Monotonic times may be negative (a row from before this boot). */
	for (i = 0; i < n; i++)
		if (i == 0 || it[i].fired < first)
			first = it[i].fired;
	first += p->initial_delay;
	t = last_start <= 0 ? first : fmax(first, last_start + p->interval);
	gap = fmin(p->interval, 5.0);
	for (i = 0; i < n; i++) {
		d = it[i].deadline;
		if (it[i].covered_at >= d && it[i].covered_at > 0)
			continue;	/* decided at the next judgement */
		/* A lookup must start at or after the deadline... */
		if (d > last_start) {
			cand = last_start > 0 ? fmax(d, last_start + gap) : d;
			t = fmin(t, cand);
		}
		/* ...and the row is judged unverified at deadline + grace. */
		cand = last_start > 0 ? fmax(d + p->grace, last_start + gap) :
		    d + p->grace;
		t = fmin(t, cand);
	}
	*when = t;
	return 0;
}
