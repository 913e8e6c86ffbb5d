/*
 * report_build: every journal record and JSON line of the report, built
 * from durable fields (report.h): verdicts with what the history made of
 * them, run summaries, calls.  report.c queues them in the outbox and
 * emits them.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws.h"
#include "buf.h"
#include "coverage.h"
#include "history.h"
#include "ledger.h"
#include "log.h"
#include "msgid.h"
#include "report.h"
#include "util.h"
#include "xmalloc.h"

static char	*report_verdict_text(const struct ledger_entry *);

/* ---- small helpers -------------------------------------------------------- */

void
report_time(double t, char buf[21])
{
	time_iso8601((time_t)(t > 0 ? t : now_real()), buf);
}

json_t *
report_str(const char *s)
{
	return s != NULL && *s != '\0' ? json_string(s) : json_null();
}

json_t *
report_secs(double s)
{
	return json_real(round(s * 1000) / 1000);
}

/* "ec2.amazonaws.com" -> "ec2" into buf. */
static const char *
report_service(const char *event_source, char *buf, size_t len)
{
	const char	*dot;
	size_t		 n;

	if (event_source == NULL)
		return "";
	if ((dot = strchr(event_source, '.')) == NULL)
		return event_source;
	n = (size_t)(dot - event_source);
	if (n >= len)
		n = len - 1;
	memcpy(buf, event_source, n);
	buf[n] = '\0';
	return buf;
}

char *
report_json_line(json_t *o)
{
	char	*s, *line;

	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(12));
	if (s == NULL)
		fatalx("%s: out of memory", __func__);
	line = xprintf("%s\n", s);
	free(s);
	return line;
}

/* ---- JSON objects ------------------------------------------------------- */

/* Comma-joined rule names and targets of a coverage "rules" list. */
static void
report_rules(json_t *rules, char **names, char **targets)
{
	struct buf	 n, t;
	json_t		*r, *tg, *x;
	size_t		 i, j;

	buf_init(&n);
	buf_init(&t);
	json_array_foreach(rules, i, r) {
		if (json_is_string(x = json_object_get(r, "name"))) {
			if (n.len > 0)
				buf_addch(&n, ',');
			buf_addstr(&n, json_string_value(x));
		}
		tg = json_object_get(r, "targets");
		json_array_foreach(tg, j, x) {
			if (!json_is_string(x))
				continue;
			if (t.len > 0)
				buf_addch(&t, ',');
			buf_addstr(&t, json_string_value(x));
		}
	}
	*names = buf_release(&n);
	*targets = buf_release(&t);
}

json_t *
report_verdict_json(const struct ledger_entry *e, double now)
{
	json_t	*o = json_object();
	char	 t[21], rid[64];

	json_object_set_new(o, "kind", json_string("verdict"));
	if (e->seq > 0)
		json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
	report_time(e->decided_at > 0 ? e->decided_at : now, t);
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "run_id", json_string(ledger_entry_run_id(e)));
	json_object_set_new(o, "scenario",
	    json_string(ledger_entry_scenario(e)));
	json_object_set_new(o, "account", json_string(ledger_entry_account(e)));
	json_object_set_new(o, "account_id", report_str(e->x.account_id));
	json_object_set_new(o, "region", json_string(e->x.region));
	json_object_set_new(o, "event_source", json_string(e->x.event_source));
	json_object_set_new(o, "event_name", json_string(e->x.event_name));
	json_object_set_new(o, "verdict", json_string(verdict_name(e->verdict)));
	/* #11: what the call is to its technique, how we know CloudTrail
	 * records it; not_found: a complete lookup after the deadline did
	 * not find it (missing, or unverified when only assumed). */
	json_object_set_new(o, "role",
	    json_string(ledger_role_name(e->x.role)));
	json_object_set_new(o, "evidence",
	    json_string(aws_evidence_name(e->x.evidence)));
	if (e->not_found && e->verdict != VERDICT_LOGGED)
		json_object_set_new(o, "not_found", json_true());
	if (e->verdict == VERDICT_LOGGED) {
		json_object_set_new(o, "event_id", report_str(e->event_id));
		json_object_set_new(o, "latency_s",
		    report_secs(e->found_at - e->x.fired_at));
		json_object_set_new(o, "event_time_delta_s", e->event_time > 0 ?
		    report_secs(e->event_time - e->x.fired_at) : json_null());
	} else {
		json_object_set_new(o, "event_id", json_null());
		json_object_set_new(o, "latency_s", json_null());
		json_object_set_new(o, "event_time_delta_s", json_null());
	}
	json_object_set_new(o, "request_id", report_str(e->x.request_id));
	json_object_set_new(o, "error_code", report_str(e->x.error_code));
	report_time(e->x.fired_at, t);
	json_object_set_new(o, "fired_at", json_string(t));
	json_object_set_new(o, "match", report_str(e->match));
	json_object_set_new(o, "reason", report_str(e->reason));
	/* What the history made of it: "regression", "new", "chronic",
	 * "acknowledged", "fixed", "ok" (null when not judged). */
	json_object_set_new(o, "gap", report_str(e->gap));
	if (e->coverage != COVERAGE_NONE)
		json_object_set_new(o, "alert_gap", report_str(e->alert_gap));
	ledger_entry_report_id(e, rid, sizeof(rid));
	json_object_set_new(o, "report_id", json_string(rid));
	if (e->coverage != COVERAGE_NONE) {
		json_object_set_new(o, "coverage",
		    json_string(coverage_name(e->coverage)));
		json_object_set_new(o, "rules", e->rules != NULL ?
		    json_deep_copy(e->rules) : json_array());
		if (e->coverage_reason != NULL)
			json_object_set_new(o, "coverage_reason",
			    json_string(e->coverage_reason));
		if (e->remediation != NULL)
			json_object_set_new(o, "remediation",
			    json_deep_copy(e->remediation));
	}
	return o;
}

json_t *
report_summary_json(const struct ledger_run *r, double now)
{
	struct ledger_counts	 c;
	json_t			*o = json_object(), *calls;
	char			 t[21], rid[64];
	double			 last;
	size_t			 i;

	ledger_run_counts(r, &c);
	json_object_set_new(o, "kind", json_string("summary"));
	if (r->summary_seq > 0)
		json_object_set_new(o, "seq",
		    json_integer((json_int_t)r->summary_seq));
	/* From durable fields only, so a replay writes the same line. */
	last = r->finished;
	for (i = 0; i < r->nentries; i++)
		if (r->entries[i]->decided_at > last)
			last = r->entries[i]->decided_at;
	report_time(last > 0 ? last : now, t);
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "run_id", json_string(r->run_id));
	json_object_set_new(o, "scenario", json_string(r->scenario));
	json_object_set_new(o, "account", json_string(r->account));
	report_time(r->started, t);
	json_object_set_new(o, "started", json_string(t));
	if (r->finished > 0) {
		report_time(r->finished, t);
		json_object_set_new(o, "finished", json_string(t));
	} else
		json_object_set_new(o, "finished", json_null());
	json_object_set_new(o, "halted", json_boolean(r->halted));
	json_object_set_new(o, "could_not_test", json_boolean(r->failed > 0));
	json_object_set_new(o, "failed_calls", json_integer(r->failed));
	json_object_set_new(o, "expected", json_integer(c.expected));
	json_object_set_new(o, "logged", json_integer(c.logged));
	json_object_set_new(o, "missing", json_integer(c.missing));
	json_object_set_new(o, "unverified", json_integer(c.unverified));
	json_object_set_new(o, "pending", json_integer(c.pending));
	/* #11: of unverified, not found with an assumed recording; rows by
	 * role (alert coverage below counts signal calls only). */
	json_object_set_new(o, "unconfirmed", json_integer(c.unconfirmed));
	json_object_set_new(o, "signal", json_integer(c.signal));
	json_object_set_new(o, "context", json_integer(c.context));
	if (c.covered + c.uncovered + c.coverage_unknown > 0) {
		json_object_set_new(o, "covered", json_integer(c.covered));
		json_object_set_new(o, "uncovered", json_integer(c.uncovered));
		json_object_set_new(o, "coverage_unknown",
		    json_integer(c.coverage_unknown));
	}
	json_object_set_new(o, "latency_max_s", c.logged > 0 ?
	    report_secs(c.latency_max) : json_null());
	json_object_set_new(o, "latency_avg_s", c.logged > 0 ?
	    report_secs(c.latency_sum / c.logged) : json_null());
	calls = json_object();
	for (i = 0; i < RUN_NCALL_OUTCOMES; i++)
		json_object_set_new(calls, run_call_outcome_name(
		    (enum run_call_outcome)i), json_integer(r->calls[i]));
	json_object_set_new(o, "calls", calls);
	ledger_run_report_id(r, rid, sizeof(rid));
	json_object_set_new(o, "report_id", json_string(rid));
	return o;
}

json_t *
report_call_json(const char *run_id, const char *scenario,
    const char *account, const char *event_source, const struct run_call *c,
    double now)
{
	json_t	*o = json_object();
	char	 t[21];

	json_object_set_new(o, "kind", json_string("call"));
	report_time(c->fired_at > 0 ? c->fired_at : now, t);
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "run_id", report_str(run_id));
	json_object_set_new(o, "scenario", report_str(scenario));
	json_object_set_new(o, "account", report_str(account));
	json_object_set_new(o, "region", report_str(c->region));
	json_object_set_new(o, "event_source", report_str(event_source));
	json_object_set_new(o, "event_name", report_str(c->action));
	json_object_set_new(o, "verdict", json_null());
	json_object_set_new(o, "event_id", json_null());
	json_object_set_new(o, "latency_s", json_null());
	json_object_set_new(o, "request_id", report_str(c->request_id));
	json_object_set_new(o, "error_code", report_str(c->error_code));
	json_object_set_new(o, "service", report_str(c->service));
	json_object_set_new(o, "outcome",
	    json_string(run_call_outcome_name(c->outcome)));
	json_object_set_new(o, "status", json_integer(c->status));
	json_object_set_new(o, "error_message", report_str(c->error_message));
	json_object_set_new(o, "note", report_str(c->note));
	json_object_set_new(o, "elapsed_s", report_secs(c->elapsed_s));
	json_object_set_new(o, "expected", json_boolean(c->expected));
	return o;
}

/* ---- journal records ------------------------------------------------------ */

static int
report_is(const char *gap, const char *what)
{
	return gap != NULL && strcmp(gap, what) == 0;
}

int
report_verdict_priority(const struct ledger_entry *e)
{
	switch (e->verdict) {
	case VERDICT_MISSING:
		if (report_is(e->gap, "regression"))
			return LOG_ERR;
		if (report_is(e->gap, "chronic"))
			return LOG_NOTICE;
		if (report_is(e->gap, "acknowledged"))
			return LOG_INFO;
		return LOG_WARNING;
	case VERDICT_UNVERIFIED:
		/* Not found, recorded only by assumption: no gap (#11). */
		if (ledger_entry_unconfirmed(e))
			return LOG_NOTICE;
		return LOG_WARNING;
	case VERDICT_LOGGED:
		if (e->coverage == COVERAGE_UNCOVERED) {
			if (report_is(e->alert_gap, "regression"))
				return LOG_ERR;
			if (report_is(e->alert_gap, "chronic"))
				return LOG_NOTICE;
			if (report_is(e->alert_gap, "acknowledged"))
				return LOG_INFO;
			return LOG_WARNING;
		}
		if (e->coverage == COVERAGE_UNKNOWN)
			return LOG_NOTICE;
		if (report_is(e->gap, "fixed") ||
		    report_is(e->alert_gap, "fixed"))
			return LOG_NOTICE;
		return LOG_INFO;
	case VERDICT_PENDING:
		break;
	}
	return LOG_INFO;
}

const char *
report_verdict_msgid(const struct ledger_entry *e)
{
	switch (e->verdict) {
	case VERDICT_MISSING:
		return report_is(e->gap, "regression") ? MSGID_REGRESSION :
		    MSGID_MISSING;
	case VERDICT_UNVERIFIED:
		return ledger_entry_unconfirmed(e) ? MSGID_UNCONFIRMED :
		    MSGID_UNVERIFIED;
	case VERDICT_LOGGED:
		switch (e->coverage) {
		case COVERAGE_UNCOVERED:
			return report_is(e->alert_gap, "regression") ?
			    MSGID_ALERT_REGRESSION : MSGID_UNCOVERED;
		case COVERAGE_UNKNOWN:
			return MSGID_COVERAGE_UNKNOWN;
		case COVERAGE_COVERED:
		case COVERAGE_NONE:
		case COVERAGE_CONTEXT:
			break;
		}
		/* A gap that closed keeps the verdict's MESSAGE_ID (people
		 * filter on them): CLOUDSAGA_GAP / CLOUDSAGA_ALERT_GAP "fixed"
		 * and notice say it. */
		return e->coverage == COVERAGE_COVERED ? MSGID_COVERED :
		    MSGID_LOGGED;
	case VERDICT_PENDING:
		break;
	}
	return MSGID_LOGGED;
}

void
report_field(struct report_fields *f, const char *key, const char *fmt, ...)
{
	va_list	 ap;
	char	*val, *p;

	va_start(ap, fmt);
	xvasprintf(&val, fmt, ap);
	va_end(ap);
	/* One line per field: the journal's export format and syslog. */
	for (p = val; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	f->v = xreallocarray(f->v, f->n + 2, sizeof(*f->v));
	f->v[f->n++] = xprintf("%s=%s", key, val);
	f->v[f->n] = NULL;
	free(val);
}

void
report_fields_free(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* The remediation coverage stored in an uncovered row (coverage_set). */
static void
report_remediation(struct report_fields *f, const struct ledger_entry *e)
{
	json_t		*pat = json_object_get(e->remediation, "event_pattern");
	const char	*state = json_string_value(json_object_get(
			    e->remediation, "rule_state"));
	char		*s;

	if (pat != NULL && (s = json_dumps(pat, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) != NULL) {
		report_field(f, "CLOUDSAGA_EVENT_PATTERN", "%s", s);
		free(s);
	}
	if (state != NULL)
		report_field(f, "CLOUDSAGA_RULE_STATE", "%s", state);
	report_field(f, "CLOUDSAGA_REMEDIATION", "%s", e->remediation_text);
}

char **
report_verdict_fields(const struct ledger_entry *e,
    const struct history_result *h)
{
	struct report_fields	 f = { NULL, 0 };
	char			 t[21], rid[64], *names, *targets;

	report_field(&f, "CLOUDSAGA_RUN_ID", "%s", ledger_entry_run_id(e));
	report_field(&f, "CLOUDSAGA_SCENARIO", "%s", ledger_entry_scenario(e));
	report_field(&f, "CLOUDSAGA_ACCOUNT", "%s", ledger_entry_account(e));
	if (e->x.account_id != NULL)
		report_field(&f, "CLOUDSAGA_ACCOUNT_ID", "%s", e->x.account_id);
	report_field(&f, "CLOUDSAGA_REGION", "%s", e->x.region);
	if (e->x.call_region != NULL &&
	    strcmp(e->x.call_region, e->x.region) != 0)
		report_field(&f, "CLOUDSAGA_CALL_REGION", "%s",
		    e->x.call_region);
	report_field(&f, "CLOUDSAGA_EVENT_SOURCE", "%s", e->x.event_source);
	report_field(&f, "CLOUDSAGA_EVENT_NAME", "%s", e->x.event_name);
	report_field(&f, "CLOUDSAGA_VERDICT", "%s", verdict_name(e->verdict));
	report_field(&f, "CLOUDSAGA_ROLE", "%s", ledger_role_name(e->x.role));
	report_field(&f, "CLOUDSAGA_EVIDENCE", "%s",
	    aws_evidence_name(e->x.evidence));
	if (e->verdict == VERDICT_LOGGED) {
		report_field(&f, "CLOUDSAGA_EVENT_ID", "%s",
		    e->event_id != NULL ? e->event_id : "");
		report_field(&f, "CLOUDSAGA_LATENCY_S", "%.3f",
		    e->found_at - e->x.fired_at);
		if (e->event_time > 0)
			report_field(&f, "CLOUDSAGA_EVENT_TIME_DELTA_S", "%.0f",
			    e->event_time - e->x.fired_at);
		if (e->match != NULL)
			report_field(&f, "CLOUDSAGA_MATCH", "%s", e->match);
	}
	if (e->x.request_id != NULL)
		report_field(&f, "CLOUDSAGA_REQUEST_ID", "%s", e->x.request_id);
	if (e->x.error_code != NULL)
		report_field(&f, "CLOUDSAGA_ERROR_CODE", "%s", e->x.error_code);
	report_time(e->x.fired_at, t);
	report_field(&f, "CLOUDSAGA_FIRED_AT", "%s", t);
	if (e->reason != NULL)
		report_field(&f, "CLOUDSAGA_REASON", "%s", e->reason);
	if (e->coverage != COVERAGE_NONE) {
		report_field(&f, "CLOUDSAGA_COVERAGE", "%s",
		    coverage_name(e->coverage));
		if (e->rules != NULL && json_array_size(e->rules) > 0) {
			report_rules(e->rules, &names, &targets);
			if (*names != '\0')
				report_field(&f, "CLOUDSAGA_RULE", "%s", names);
			if (*targets != '\0')
				report_field(&f, "CLOUDSAGA_TARGETS", "%s",
				    targets);
			free(names);
			free(targets);
		}
		if (e->coverage_reason != NULL)
			report_field(&f, "CLOUDSAGA_COVERAGE_REASON", "%s",
			    e->coverage_reason);
		if (e->remediation != NULL)
			report_remediation(&f, e);
	}
	if (e->gap != NULL && !report_is(e->gap, "ok"))
		report_field(&f, "CLOUDSAGA_GAP", "%s", e->gap);
	if (e->alert_gap != NULL && !report_is(e->alert_gap, "ok"))
		report_field(&f, "CLOUDSAGA_ALERT_GAP", "%s", e->alert_gap);
	if (h != NULL) {
		if (h->since > 0) {
			report_time(h->since, t);
			report_field(&f, "CLOUDSAGA_GAP_SINCE", "%s", t);
		}
		if (h->runs > 0)
			report_field(&f, "CLOUDSAGA_GAP_RUNS", "%d", h->runs);
		if (h->last_good > 0 && (h->gap == HISTORY_REGRESSION ||
		    h->alert == HISTORY_REGRESSION)) {
			report_time(h->last_good, t);
			report_field(&f, h->gap == HISTORY_REGRESSION ?
			    "CLOUDSAGA_LAST_LOGGED" : "CLOUDSAGA_LAST_COVERED",
			    "%s", t);
		}
		if (h->ack != NULL) {
			report_field(&f, "CLOUDSAGA_ACK_REASON", "%s",
			    h->ack->reason != NULL ? h->ack->reason : "");
			if (h->ack->expires > 0) {
				report_time(h->ack->expires, t);
				report_field(&f, "CLOUDSAGA_ACK_EXPIRES", "%s",
				    t);
			}
		}
	}
	if (e->seq > 0)
		report_field(&f, "CLOUDSAGA_REPORT_SEQ", "%llu",
		    (unsigned long long)e->seq);
	ledger_entry_report_id(e, rid, sizeof(rid));
	report_field(&f, "CLOUDSAGA_REPORT_ID", "%s", rid);
	return f.v;
}

char *
report_verdict_message(const struct ledger_entry *e,
    const struct history_result *h)
{
	char		*m = report_verdict_text(e), *x;
	char		 t[21], svc[64];
	const char	*s = report_service(e->x.event_source, svc,
	    sizeof(svc));

	if (h == NULL)
		return m;
	if (h->gap == HISTORY_REGRESSION) {
		report_time(h->last_good, t);
		x = xprintf("logging regression: %s:%s in %s was logged on %s "
		    "and is now missing; %s", s, e->x.event_name, e->x.region,
		    t, m);
	} else if (h->gap == HISTORY_CHRONIC) {
		report_time(h->since, t);
		x = xprintf("%s (chronic: missing since %s, %d runs; in the "
		    "daily digest)", m, t, h->runs);
	} else if (h->gap == HISTORY_ACKNOWLEDGED && h->ack != NULL) {
		x = xprintf("%s (acknowledged: %s)", m, h->ack->reason ?
		    h->ack->reason : "known gap");
	} else if (h->gap == HISTORY_FIXED) {
		report_time(h->since, t);
		x = xprintf("gap fixed: %s:%s in %s is logged again after %d "
		    "missing run%s since %s; %s", s, e->x.event_name,
		    e->x.region, h->runs, h->runs == 1 ? "" : "s", t, m);
	} else if (h->alert == HISTORY_REGRESSION) {
		report_time(h->last_good, t);
		x = xprintf("alert regression: a rule alerted on %s:%s in %s "
		    "on %s and none would now; %s", s, e->x.event_name,
		    e->x.region, t, m);
	} else if (h->alert == HISTORY_CHRONIC) {
		report_time(h->since, t);
		x = xprintf("%s (chronic alert gap since %s; in the daily "
		    "digest)", m, t);
	} else if (h->alert == HISTORY_FIXED) {
		x = xprintf("alert gap fixed: %s", m);
	} else
		return m;
	free(m);
	return x;
}

/* The message of a verdict record, without history. */
static char *
report_verdict_text(const struct ledger_entry *e)
{
	char		 svc[64];
	const char	*s = report_service(e->x.event_source, svc,
	    sizeof(svc));
	char		*m, *cov = NULL, *names = NULL, *targets = NULL;

	switch (e->verdict) {
	case VERDICT_LOGGED:
		m = xprintf("logged: %s:%s in %s reached CloudTrail %.0fs after "
		    "the call (event %s; run %s, %s, account %s)", s,
		    e->x.event_name, e->x.region, e->found_at - e->x.fired_at,
		    e->event_id != NULL ? e->event_id : "?",
		    ledger_entry_run_id(e), ledger_entry_scenario(e),
		    ledger_entry_account(e));
		break;
	case VERDICT_MISSING:
		return xprintf("logging gap: %s:%s in %s is not in CloudTrail "
		    "%.0fs after the call (request %s; run %s, %s, account %s)",
		    s, e->x.event_name, e->x.region,
		    e->deadline - e->x.fired_at,
		    e->x.request_id != NULL ? e->x.request_id : "unknown",
		    ledger_entry_run_id(e), ledger_entry_scenario(e),
		    ledger_entry_account(e));
	case VERDICT_UNVERIFIED:
		if (ledger_entry_unconfirmed(e))
			return xprintf("unconfirmed: %s:%s in %s is not in "
			    "CloudTrail %.0fs after the call, but that "
			    "CloudTrail records it is only assumed: not a "
			    "logging gap (request %s; run %s, %s, account %s)",
			    s, e->x.event_name, e->x.region,
			    e->deadline - e->x.fired_at,
			    e->x.request_id != NULL ? e->x.request_id :
			    "unknown", ledger_entry_run_id(e),
			    ledger_entry_scenario(e), ledger_entry_account(e));
		return xprintf("unverified: %s:%s in %s could not be checked in "
		    "CloudTrail: %s (run %s, %s, account %s)", s,
		    e->x.event_name, e->x.region,
		    e->reason != NULL ? e->reason : "no lookup succeeded",
		    ledger_entry_run_id(e),
		    ledger_entry_scenario(e), ledger_entry_account(e));
	default:
		return xprintf("pending: %s:%s in %s", s, e->x.event_name,
		    e->x.region);
	}
	switch (e->coverage) {
	case COVERAGE_COVERED:
		if (e->rules != NULL)
			report_rules(e->rules, &names, &targets);
		cov = xprintf("%s; would alert: rule %s -> %s", m,
		    names != NULL && *names ? names : "?",
		    targets != NULL && *targets ? targets : "no target");
		break;
	case COVERAGE_UNCOVERED:
		cov = xprintf("alert gap: no rule would alert on %s:%s in %s "
		    "(%s); %s", s, e->x.event_name, e->x.region,
		    e->coverage_reason != NULL ? e->coverage_reason :
		    "no rule matches the event", m);
		break;
	case COVERAGE_UNKNOWN:
		cov = xprintf("%s; alert coverage unknown: %s", m,
		    e->coverage_reason != NULL ? e->coverage_reason : "?");
		break;
	case COVERAGE_CONTEXT:	/* not judged: nothing to add */
	case COVERAGE_NONE:
		break;
	}
	free(names);
	free(targets);
	if (cov != NULL) {
		free(m);
		return cov;
	}
	return m;
}

char **
report_summary_fields(const struct ledger_run *r)
{
	struct report_fields	 f = { NULL, 0 };
	struct ledger_counts	 c;
	char			 rid[64];

	ledger_run_counts(r, &c);
	report_field(&f, "CLOUDSAGA_RUN_ID", "%s", r->run_id);
	report_field(&f, "CLOUDSAGA_SCENARIO", "%s", r->scenario);
	report_field(&f, "CLOUDSAGA_ACCOUNT", "%s", r->account);
	report_field(&f, "CLOUDSAGA_EXPECTED", "%u", c.expected);
	report_field(&f, "CLOUDSAGA_LOGGED", "%u", c.logged);
	report_field(&f, "CLOUDSAGA_MISSING", "%u", c.missing);
	report_field(&f, "CLOUDSAGA_UNVERIFIED", "%u", c.unverified);
	if (c.unconfirmed > 0)
		report_field(&f, "CLOUDSAGA_UNCONFIRMED", "%u",
		    c.unconfirmed);
	if (c.covered + c.uncovered + c.coverage_unknown > 0) {
		report_field(&f, "CLOUDSAGA_COVERED", "%u", c.covered);
		report_field(&f, "CLOUDSAGA_UNCOVERED", "%u", c.uncovered);
		report_field(&f, "CLOUDSAGA_COVERAGE_UNKNOWN", "%u",
		    c.coverage_unknown);
	}
	if (c.logged > 0) {
		report_field(&f, "CLOUDSAGA_LATENCY_MAX_S", "%.3f",
		    c.latency_max);
		report_field(&f, "CLOUDSAGA_LATENCY_AVG_S", "%.3f",
		    c.latency_sum / c.logged);
	}
	report_field(&f, "CLOUDSAGA_CALLS_PERMITTED", "%u",
	    r->calls[RUN_PERMITTED]);
	report_field(&f, "CLOUDSAGA_CALLS_DENIED", "%u", r->calls[RUN_DENIED]);
	report_field(&f, "CLOUDSAGA_CALLS_SKIPPED", "%u",
	    r->calls[RUN_SKIPPED]);
	report_field(&f, "CLOUDSAGA_CALLS_ERROR", "%u", r->calls[RUN_ERROR]);
	report_field(&f, "CLOUDSAGA_HALTED", "%d", r->halted);
	if (r->summary_seq > 0)
		report_field(&f, "CLOUDSAGA_REPORT_SEQ", "%llu",
		    (unsigned long long)r->summary_seq);
	ledger_run_report_id(r, rid, sizeof(rid));
	report_field(&f, "CLOUDSAGA_REPORT_ID", "%s", rid);
	return f.v;
}

char *
report_summary_message(const struct ledger_run *r)
{
	struct ledger_counts	 c;
	char			 cov[128] = "", unc[96] = "";

	ledger_run_counts(r, &c);
	if (c.covered + c.uncovered + c.coverage_unknown > 0)
		snprintf(cov, sizeof(cov), "; alerts on signal calls: %u "
		    "covered, %u uncovered, %u unknown", c.covered,
		    c.uncovered, c.coverage_unknown);
	if (c.unconfirmed > 0)
		snprintf(unc, sizeof(unc), " (%u not found but only assumed "
		    "to be recorded)", c.unconfirmed);
	return xprintf("run %s of %s for account %s%s: %u calls expected in "
	    "CloudTrail, %u logged, %u missing, %u unverified%s%s",
	    r->run_id, r->scenario, r->account, r->halted ? " (halted)" : "",
	    c.expected, c.logged, c.missing, c.unverified, unc, cov);
}


/* ---- runs that could not test, safety events, GuardDuty ------------------ */

const char *
report_failure_hint(const char *code, const char *outcome)
{
	unsigned	 f = aws_code_flags(code);

	if (code != NULL && (strcmp(code, AWS_CODE_HTTP_CONNECT) == 0 ||
	    strcmp(code, AWS_CODE_HTTP_RESET) == 0 ||
	    strcmp(code, AWS_CODE_HTTP_PROTOCOL) == 0 ||
	    strcmp(code, AWS_CODE_HTTP_OTHER) == 0))
		return "the endpoint cannot be reached: check the network, "
		    "DNS, proxy and the endpoint settings (aws.endpoint_url, "
		    "AWS_ENDPOINT_URL*)";
	if (code != NULL && strcmp(code, AWS_CODE_HTTP_TIMEOUT) == 0)
		return "the endpoint does not answer in time: check the "
		    "network and proxy, and daemon.http_timeout";
	if (code != NULL && strcmp(code, "CredentialsError") == 0)
		return "no credentials: check the credential chain (keys, "
		    "LoadCredential, role, instance profile)";
	if (f & AWS_CODE_CLOCK_SKEW)
		return "the signatures' time is off: check the host's clock";
	if (f & AWS_CODE_AUTH)
		return "the credentials were refused before the call was "
		    "handled: check the keys, session token and its expiry";
	if (f & AWS_CODE_UNPARSED)
		return "the service could not parse the request: check the "
		    "action and parameters of the step";
	if ((f & AWS_CODE_DENIED) || (outcome != NULL &&
	    strcmp(outcome, "denied") == 0))
		return "the caller lacks a permission: cloudsagad --iam-policy "
		    "prints the policy the configured scenarios need";
	if (f & AWS_CODE_THROTTLE)
		return "throttled until the retries ran out: lower the "
		    "concurrency or spread the schedule";
	if (code != NULL && strcmp(code, "SafetyGuard") == 0)
		return "the safety guard refused the call: fix the step's "
		    "safety class or target";
	return "see the error code and message";
}

void
report_could_not_test(struct reporter *rp, const struct report_cnt *c)
{
	struct report_fields	 f = { NULL, 0 };
	struct buf		 b, codes, regions;
	json_t			*o, *arr, *notes;
	const struct report_failure *x;
	char			 t[21], *msg, *rid;
	size_t			 i, shown = 0;

	buf_init(&b);
	buf_init(&codes);
	buf_init(&regions);
	for (i = 0; i < c->nfailures; i++) {
		x = &c->failures[i];
		if (shown < 5) {
			buf_printf(&b, "%s%s:%s in %s: %s%s%s", shown ? "; " : "",
			    x->service, x->action, x->region ? x->region : "-",
			    x->error_code ? x->error_code : x->outcome,
			    x->reason ? " - " : "", x->reason ? x->reason : "");
			shown++;
		}
		if (x->error_code != NULL && strstr(buf_str(&codes),
		    x->error_code) == NULL)
			buf_printf(&codes, "%s%s", codes.len ? "," : "",
			    x->error_code);
		if (x->region != NULL && strstr(buf_str(&regions),
		    x->region) == NULL)
			buf_printf(&regions, "%s%s", regions.len ? "," : "",
			    x->region);
	}
	if (c->nfailures > shown)
		buf_printf(&b, "; and %zu more", c->nfailures - shown);
	for (i = 0; i < c->nnotes; i++)
		buf_printf(&b, "%s%s", b.len ? "; " : "", c->notes[i]);

	report_field(&f, "CLOUDSAGA_RUN_ID", "%s", c->run_id);
	report_field(&f, "CLOUDSAGA_SCENARIO", "%s", c->scenario);
	report_field(&f, "CLOUDSAGA_ACCOUNT", "%s", c->account);
	report_field(&f, "CLOUDSAGA_VERDICT", "could-not-test");
	report_field(&f, "CLOUDSAGA_CALLS", "%zu", c->calls);
	report_field(&f, "CLOUDSAGA_FAILED_CALLS", "%zu", c->nfailures);
	report_field(&f, "CLOUDSAGA_EXPECTATIONS", "%zu", c->expectations);
	if (codes.len > 0)
		report_field(&f, "CLOUDSAGA_ERROR_CODES", "%s",
		    buf_str(&codes));
	if (regions.len > 0)
		report_field(&f, "CLOUDSAGA_REGIONS", "%s", buf_str(&regions));
	report_field(&f, "CLOUDSAGA_REASON", "%s", buf_str(&b));
	report_field(&f, "CLOUDSAGA_HINT", "%s", c->nfailures > 0 ?
	    report_failure_hint(c->failures[0].error_code,
	    c->failures[0].outcome) : "see the run's notes");
	msg = xprintf("detection test could not run: %s for account %s (run "
	    "%s): %zu of %zu calls failed%s%s; check: %s", c->scenario,
	    c->account, c->run_id, c->nfailures, c->calls, b.len ? ": " : "",
	    buf_str(&b), c->nfailures > 0 ? report_failure_hint(
	    c->failures[0].error_code, c->failures[0].outcome) :
	    "see the run's notes");

	report_time(now_real(), t);
	arr = json_array();
	for (i = 0; i < c->nfailures; i++) {
		x = &c->failures[i];
		json_array_append_new(arr, json_pack("{s:s,s:s,s:o,s:s,s:o,"
		    "s:o,s:s}", "service", x->service, "action", x->action,
		    "region", report_str(x->region), "outcome", x->outcome,
		    "error_code", report_str(x->error_code), "reason",
		    report_str(x->reason), "hint",
		    report_failure_hint(x->error_code, x->outcome)));
	}
	notes = json_array();
	for (i = 0; i < c->nnotes; i++)
		json_array_append_new(notes, json_string(c->notes[i]));
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:o,s:o}",
	    "kind", "could-not-test", "time", t, "run_id", c->run_id,
	    "scenario", c->scenario, "account", c->account, "verdict",
	    "could-not-test", "calls", (json_int_t)c->calls, "failed",
	    (json_int_t)c->nfailures, "expected", (json_int_t)c->expectations,
	    "failures", arr, "notes", notes);
	rid = xprintf("%s-could-not-test", c->run_id);
	report_extra(rp, "could-not-test", rid, LOG_WARNING,
	    MSGID_COULD_NOT_TEST, f.v, msg, o);
	free(rid);
	free(msg);
	report_fields_free(f.v);
	json_decref(o);
	buf_free(&b);
	buf_free(&codes);
	buf_free(&regions);
}

void
report_safety(struct reporter *rp, const char *run_id, const char *scenario,
    const char *account, const char *region, const char *service,
    const char *action, const char *detail)
{
	struct report_fields	 f = { NULL, 0 };
	json_t			*o;
	char			*msg, *rid, t[21];

	report_field(&f, "CLOUDSAGA_RUN_ID", "%s", run_id ? run_id : "");
	report_field(&f, "CLOUDSAGA_SCENARIO", "%s", scenario ? scenario : "");
	report_field(&f, "CLOUDSAGA_ACCOUNT", "%s", account ? account : "");
	report_field(&f, "CLOUDSAGA_REGION", "%s", region ? region : "");
	report_field(&f, "CLOUDSAGA_SERVICE", "%s", service ? service : "");
	report_field(&f, "CLOUDSAGA_EVENT_NAME", "%s", action ? action : "");
	report_field(&f, "CLOUDSAGA_VERDICT", "safety");
	msg = xprintf("safety event: %s:%s in %s was answered as if it had "
	    "run (%s); run %s of %s halted", service ? service : "?",
	    action ? action : "?", region ? region : "?",
	    detail ? detail : "DryRun ignored", run_id ? run_id : "?",
	    scenario ? scenario : "?");
	report_time(now_real(), t);
	o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:o,s:s,s:o}",
	    "kind", "safety", "time", t, "run_id", report_str(run_id),
	    "scenario", report_str(scenario), "account", report_str(account),
	    "region", report_str(region), "service", report_str(service),
	    "event_name", report_str(action), "verdict", "safety",
	    "detail", report_str(detail));
	rid = xprintf("%s-safety-%s-%s-%s", run_id ? run_id : "none",
	    region ? region : "", service ? service : "", action ? action :
	    "");
	report_extra(rp, "safety", rid, LOG_CRIT, MSGID_SAFETY, f.v, msg, o);
	free(rid);
	free(msg);
	report_fields_free(f.v);
	json_decref(o);
}

/* ---- posture findings (scenario.h) -------------------------------------- */

char **
report_posture_fields(const char *run_id, const char *scenario,
    const char *account, const struct run_finding *x)
{
	struct report_fields	 f = { NULL, 0 };

	report_field(&f, "CLOUDSAGA_RUN_ID", "%s", run_id);
	report_field(&f, "CLOUDSAGA_SCENARIO", "%s", scenario);
	report_field(&f, "CLOUDSAGA_ACCOUNT", "%s", account);
	report_field(&f, "CLOUDSAGA_REGION", "%s", x->region ? x->region : "");
	report_field(&f, "CLOUDSAGA_FINDING", "%s", x->kind);
	report_field(&f, "CLOUDSAGA_RESOURCE", "%s", x->resource);
	return f.v;
}

char *
report_posture_message(const struct run_finding *x)
{
	return xprintf("posture finding in %s: %s %s%s%s", x->region ?
	    x->region : "the account", x->kind, x->resource, x->detail ?
	    ": " : "", x->detail ? x->detail : "");
}

/* ---- records of the verifier and the state (the log only) ----------------- */

void
report_lookup_failing(const char *account, const char *region,
    const char *error, double grace)
{
	struct report_fields	 f = { NULL, 0 };
	char			 g[32];

	duration_format(grace, g, sizeof(g));
	report_field(&f, "CLOUDSAGA_ACCOUNT", "%s", account);
	report_field(&f, "CLOUDSAGA_REGION", "%s", region);
	report_field(&f, "CLOUDSAGA_REASON", "%s", error);
	log_fields(LOG_WARNING, MSGID_LOOKUP_FAILING, (const char *const *)f.v,
	    "cannot look up CloudTrail events for account %s in %s: %s; "
	    "expectations there become unverified %s after their deadline "
	    "unless a lookup succeeds", account, region, error, g);
	report_fields_free(f.v);
}

void
report_state_set_aside(const char *path, const char *aside, const char *why)
{
	struct report_fields	 f = { NULL, 0 };

	report_field(&f, "CLOUDSAGA_STATE_FILE", "%s", path);
	report_field(&f, "CLOUDSAGA_SET_ASIDE", "%s", aside != NULL ? aside :
	    "");
	report_field(&f, "CLOUDSAGA_ERROR", "%s", why != NULL ? why : "");
	if (aside != NULL)
		log_fields(LOG_ERR, MSGID_STATE_CORRUPT,
		    (const char *const *)f.v, "state %s is unreadable (%s): "
		    "moved aside to %s, continuing without it", path, why,
		    aside);
	else
		log_fields(LOG_ERR, MSGID_STATE_CORRUPT,
		    (const char *const *)f.v, "state %s is unreadable (%s): "
		    "left where it is, continuing without it", path, why);
	report_fields_free(f.v);
}

/* ---- GuardDuty (coverage_guardduty) ------------------------------------- */

void
report_guardduty(struct reporter *rp, const struct coverage_gd_report *r)
{
	const struct coverage_gd_finding *x;
	const struct coverage_gd_region	*g;
	struct report_fields		 f;
	struct buf			 checked, off, failed;
	json_t				*o, *regions;
	char				 t[21], sev[32], *msg, *rid;
	size_t				 i;

	report_time(now_real(), t);
	for (i = 0; i < r->nfindings; i++) {
		x = &r->findings[i];
		snprintf(sev, sizeof(sev), "%g", x->severity);
		memset(&f, 0, sizeof(f));
		report_field(&f, "CLOUDSAGA_RUN_ID", "%s", r->run_id);
		report_field(&f, "CLOUDSAGA_SCENARIO", "%s",
		    r->scenario ? r->scenario : "");
		report_field(&f, "CLOUDSAGA_ACCOUNT", "%s",
		    r->account ? r->account : "");
		report_field(&f, "CLOUDSAGA_REGION", "%s", x->region);
		report_field(&f, "CLOUDSAGA_FINDING_ID", "%s",
		    x->id ? x->id : "");
		report_field(&f, "CLOUDSAGA_FINDING_TYPE", "%s",
		    x->type ? x->type : "");
		report_field(&f, "CLOUDSAGA_FINDING_SEVERITY", "%s", sev);
		if (x->title != NULL)
			report_field(&f, "CLOUDSAGA_FINDING_TITLE", "%s",
			    x->title);
		if (x->api != NULL)
			report_field(&f, "CLOUDSAGA_EVENT_NAME", "%s", x->api);
		if (x->service != NULL)
			report_field(&f, "CLOUDSAGA_EVENT_SOURCE", "%s",
			    x->service);
		report_field(&f, "CLOUDSAGA_MATCH", "%s", x->match);
		if (x->detector_id != NULL)
			report_field(&f, "CLOUDSAGA_DETECTOR_ID", "%s",
			    x->detector_id);
		msg = xprintf("GuardDuty finding %s (severity %s) in %s "
		    "concerns %s of run %s (%s, account %s; matched by %s)",
		    x->type ? x->type : "?", sev, x->region, x->api ? x->api :
		    "a call", r->run_id, r->scenario ? r->scenario : "?",
		    r->account ? r->account : "?", x->match);
		o = json_object();
		json_object_set_new(o, "kind", json_string("guardduty_finding"));
		json_object_set_new(o, "time", json_string(t));
		json_object_set_new(o, "run_id", json_string(r->run_id));
		json_object_set_new(o, "scenario", report_str(r->scenario));
		json_object_set_new(o, "account", report_str(r->account));
		json_object_set_new(o, "region", report_str(x->region));
		json_object_set_new(o, "finding_id", report_str(x->id));
		json_object_set_new(o, "type", report_str(x->type));
		json_object_set_new(o, "title", report_str(x->title));
		json_object_set_new(o, "severity", json_real(x->severity));
		json_object_set_new(o, "updated_at", report_str(x->updated_at));
		json_object_set_new(o, "event_name", report_str(x->api));
		json_object_set_new(o, "event_source", report_str(x->service));
		json_object_set_new(o, "access_key_id",
		    report_str(x->access_key_id));
		json_object_set_new(o, "match", json_string(x->match));
		json_object_set_new(o, "detector_id",
		    report_str(x->detector_id));
		rid = xprintf("%s-guardduty-%s", r->run_id, x->id ? x->id :
		    "?");
		report_extra(rp, "guardduty_finding", rid, LOG_NOTICE,
		    MSGID_GUARDDUTY_FINDING, f.v, msg, o);
		free(rid);
		free(msg);
		report_fields_free(f.v);
		json_decref(o);
	}

	buf_init(&checked);
	buf_init(&off);
	buf_init(&failed);
	regions = json_array();
	for (i = 0; i < r->nregions; i++) {
		g = &r->regions[i];
		if (g->error != NULL) {
			buf_printf(&failed, "%s%s: %s", failed.len ? "; " : "",
			    g->region, g->error);
		} else if (g->detectors == 0)
			buf_printf(&off, "%s%s", off.len ? "," : "", g->region);
		else
			buf_printf(&checked, "%s%s", checked.len ? "," : "",
			    g->region);
		json_array_append_new(regions, json_pack("{s:s,s:i,s:i,s:o}",
		    "region", g->region, "detectors", (int)g->detectors,
		    "findings_seen", (int)g->seen, "error",
		    report_str(g->error)));
	}
	memset(&f, 0, sizeof(f));
	report_field(&f, "CLOUDSAGA_RUN_ID", "%s", r->run_id);
	report_field(&f, "CLOUDSAGA_SCENARIO", "%s",
	    r->scenario ? r->scenario : "");
	report_field(&f, "CLOUDSAGA_ACCOUNT", "%s",
	    r->account ? r->account : "");
	report_field(&f, "CLOUDSAGA_FINDINGS", "%zu", r->nfindings);
	report_field(&f, "CLOUDSAGA_REGIONS_CHECKED", "%s", buf_str(&checked));
	report_field(&f, "CLOUDSAGA_REGIONS_NO_DETECTOR", "%s", buf_str(&off));
	if (failed.len > 0)
		report_field(&f, "CLOUDSAGA_REGIONS_FAILED", "%s",
		    buf_str(&failed));
	msg = xprintf("GuardDuty: %zu finding%s concern%s run %s of %s for "
		    "account %s (detectors in: %s; no detector in: %s%s%s)%s",
		    r->nfindings, r->nfindings == 1 ? "" : "s",
		    r->nfindings == 1 ? "s" : "", r->run_id,
		    r->scenario ? r->scenario : "?",
		    r->account ? r->account : "?",
		    checked.len ? buf_str(&checked) : "none",
		    off.len ? buf_str(&off) : "none",
		    failed.len ? "; not checked: " : "", buf_str(&failed),
		    r->nfindings == 0 ? "; information, not a gap: GuardDuty "
		    "does not promise findings for dry-run calls" : "");
	o = json_object();
	json_object_set_new(o, "kind", json_string("guardduty"));
	json_object_set_new(o, "time", json_string(t));
	json_object_set_new(o, "run_id", json_string(r->run_id));
	json_object_set_new(o, "scenario", report_str(r->scenario));
	json_object_set_new(o, "account", report_str(r->account));
	json_object_set_new(o, "findings", json_integer((json_int_t)
	    r->nfindings));
	json_object_set_new(o, "regions", regions);
	rid = xprintf("%s-guardduty", r->run_id);
	report_extra(rp, "guardduty", rid, r->nfindings > 0 ? LOG_NOTICE :
	    LOG_INFO, MSGID_GUARDDUTY_SUMMARY, f.v, msg, o);
	free(rid);
	free(msg);
	report_fields_free(f.v);
	json_decref(o);
	buf_free(&checked);
	buf_free(&off);
	buf_free(&failed);
}

