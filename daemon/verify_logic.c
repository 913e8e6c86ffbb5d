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

/* ---- matching ------------------------------------------------------------- */

int
verify_marker(const char *ua, char run_id[33])
{
	const char	*p;
	size_t		 i;

	for (p = ua; p != NULL && (p = strstr(p, "run/")) != NULL; p += 4) {
		if (p != ua && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		for (i = 0; i < 32; i++)
			if (!isxdigit((unsigned char)p[4 + i]))
				break;
		if (i != 32 || isalnum((unsigned char)p[4 + 32]))
			continue;
		for (i = 0; i < 32; i++)
			run_id[i] = (char)tolower((unsigned char)p[4 + i]);
		run_id[32] = '\0';
		return 0;
	}
	return -1;
}

static const char *
verify_code_tail(const char *code)
{
	const char	*dot = strrchr(code, '.');

	return dot != NULL ? dot + 1 : code;
}

int
verify_error_code_match(const char *expected, const char *actual)
{
	if (expected == NULL || *expected == '\0')
		return 1;
	if (actual == NULL || *actual == '\0')
		return 0;
	return strcmp(verify_code_tail(expected), verify_code_tail(actual)) == 0;
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
verify_same(const char *a, const char *b)
{
	/* Unknown on either side does not contradict. */
	return a == NULL || b == NULL || *a == '\0' || *b == '\0' ||
	    strcmp(a, b) == 0;
}

enum verify_how
verify_match_one(const struct ledger_entry *e, const struct ct_event *ev)
{
	char	 run_id[33];

	if (ev->event_name == NULL || strcmp(e->event_name, ev->event_name) != 0)
		return VERIFY_NO_MATCH;
	if (!verify_same(e->account_id, ev->account_id) ||
	    !verify_same(e->region, ev->aws_region))
		return VERIFY_NO_MATCH;
	if (e->request_id != NULL && ev->request_id != NULL &&
	    *e->request_id != '\0' &&
	    strcasecmp(e->request_id, ev->request_id) == 0)
		return VERIFY_BY_REQUEST_ID;
	if (verify_marker(ev->user_agent, run_id) == -1 ||
	    strcmp(run_id, ledger_entry_run_id(e)) != 0)
		return VERIFY_NO_MATCH;
	if (!verify_same(e->event_source, ev->event_source) ||
	    !verify_error_code_match(e->error_code, ev->error_code))
		return VERIFY_NO_MATCH;
	return VERIFY_BY_MARKER;
}

/* Is this eventID already the proof of another row of e's run? */
static int
verify_used_in_run(const struct ledger_entry *e, const char *event_id)
{
	const struct ledger_run	*r = e->run;
	size_t			 i;

	for (i = 0; i < r->nentries; i++)
		if (r->entries[i]->event_id != NULL &&
		    strcmp(r->entries[i]->event_id, event_id) == 0)
			return 1;
	return 0;
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

static int
verify_cmp_event_time(const void *a, const void *b, void *arg)
{
	const struct ct_event	*ev = arg;
	size_t			 i = *(const size_t *)a, j = *(const size_t *)b;

	if (ev[i].event_time != ev[j].event_time)
		return ev[i].event_time < ev[j].event_time ? -1 : 1;
	return i < j ? -1 : i > j;
}

size_t
verify_match(struct ledger_entry *const *rows, size_t nrows,
    const struct ct_event *events, size_t nevents, struct verify_assign *out)
{
	unsigned char	*taken, *done;
	size_t		*order, i, j, k, n = 0, best;
	double		 d, bestd;
	int		 pref, bestpref;

	if (nrows == 0 || nevents == 0)
		return 0;
	taken = xcalloc(nrows, 1);
	done = xcalloc(nevents, 1);
	order = xcalloc(nevents, sizeof(*order));

	/* The same eventID twice in one poll (pages shift): keep the first. */
	for (i = 0; i < nevents; i++)
		order[i] = i;
	qsort_r(order, nevents, sizeof(*order), verify_cmp_event_id,
	    (void *)events);
	for (i = 1; i < nevents; i++)
		if (strcmp(events[order[i]].event_id,
		    events[order[i - 1]].event_id) == 0)
			done[order[i]] = 1;

	/* Pass 1: request IDs, which name one call. */
	for (i = 0; i < nevents; i++) {
		if (done[i])
			continue;
		for (j = 0; j < nrows; j++) {
			if (taken[j] || verify_match_one(rows[j], &events[i]) !=
			    VERIFY_BY_REQUEST_ID)
				continue;
			if (verify_used_in_run(rows[j], events[i].event_id))
				continue;
			taken[j] = done[i] = 1;
			out[n].entry = j;
			out[n].event = i;
			out[n++].how = VERIFY_BY_REQUEST_ID;
			break;
		}
	}

	/* Pass 2: the run marker, earliest events first. */
	for (i = 0; i < nevents; i++)
		order[i] = i;
	qsort_r(order, nevents, sizeof(*order), verify_cmp_event_time,
	    (void *)events);
	for (k = 0; k < nevents; k++) {
		i = order[k];
		if (done[i])
			continue;
		best = nrows;
		bestd = 0;
		bestpref = 0;
		for (j = 0; j < nrows; j++) {
			if (taken[j] || verify_match_one(rows[j], &events[i]) !=
			    VERIFY_BY_MARKER)
				continue;
			if (verify_used_in_run(rows[j], events[i].event_id))
				continue;
			/* A row whose own request ID is known is a worse
			 * candidate: its call's record has another ID. */
			pref = rows[j]->request_id == NULL ||
			    *rows[j]->request_id == '\0';
			d = events[i].event_time > 0 ?
			    fabs(rows[j]->fired_at - events[i].event_time) :
			    rows[j]->fired_at;
			if (best == nrows || pref > bestpref ||
			    (pref == bestpref && d < bestd)) {
				best = j;
				bestd = d;
				bestpref = pref;
			}
		}
		if (best == nrows)
			continue;
		taken[best] = done[i] = 1;
		out[n].entry = best;
		out[n].event = i;
		out[n++].how = VERIFY_BY_MARKER;
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
		v = key ? rows[i]->access_key_id : rows[i]->event_name;
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
			    rows[j]->access_key_id : rows[j]->event_name;

			if (kind != VERIFY_Q_SWEEP && strcmp(v, vals[i]) != 0)
				continue;
			q[i].members[q[i].nmembers++] = j;
			if (q[i].start < 0 || rows[j]->fired_at < q[i].start)
				q[i].start = rows[j]->fired_at;
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

double
verify_next_poll(const struct verify_item *it, size_t n, double last_start,
    const struct verify_params *p)
{
	double	 first = -1, t, gap, d, cand;
	size_t	 i;

	if (n == 0)
		return -1;
	for (i = 0; i < n; i++)
		if (first < 0 || it[i].e->fired_at < first)
			first = it[i].e->fired_at;
	first += p->initial_delay;
	t = last_start <= 0 ? first : fmax(first, last_start + p->interval);
	gap = fmin(p->interval, 5.0);
	for (i = 0; i < n; i++) {
		d = it[i].e->deadline;
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
	return t;
}
