/*
 * coverage: the alerting check of logged events (rules in coverage.h,
 * design in docs/COVERAGE.md).  The pure parts are in coverage_logic.c.
 *
 * Everything the check asks AWS goes through one mechanism, the fetch: a
 * read-only request (paginated if the listing is), its answer kept under a
 * key in a per-cycle table, with a list of waiters.  A second asker of a
 * key that is loading waits for the same answer; one that finds it ready
 * is answered at once (synchronously).  A job checks one row: it starts
 * fetches, each callback may start more, and a counter of outstanding
 * steps (held once by whoever is issuing) says when the verdict can be
 * drawn.  Finished jobs are handed back from a zero-timeout event, never
 * from inside coverage_check().
 *
 * Size: three checkers (EventBridge, metric filters, GuardDuty) share the
 * job, its event steps and the issuing queue; to be split per checker.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <jansson.h>

#include "aws.h"
#include "buf.h"
#include "client.h"
#include "coverage.h"
#include "ledger.h"
#include "log.h"
#include "pager.h"
#include "util.h"
#include "xmalloc.h"

#define COV_BUCKETS		4096
#define COV_GD_BATCH		50	/* GetFindings takes up to 50 IDs */

struct cov_spec {
	const char	*service;
	const char	*action;
	const char	*items;		/* list member; NULL: the whole answer */
	const char	*token_in;	/* request member for the next page */
	const char	*token_out;	/* answer member; NULL: one page */
	const char	*limit_in;	/* page size member, or NULL */
	int		 limit;
};

static const struct cov_spec cov_list_rules = {
	"events", "ListRules", "Rules", "NextToken", "NextToken", "Limit", 100
};
static const struct cov_spec cov_list_targets = {
	"events", "ListTargetsByRule", "Targets", "NextToken", "NextToken",
	"Limit", 100
};
static const struct cov_spec cov_test_pattern = {
	"events", "TestEventPattern", NULL, NULL, NULL, NULL, 0
};
static const struct cov_spec cov_trails = {
	"cloudtrail", "DescribeTrails", "trailList", NULL, NULL, NULL, 0
};
static const struct cov_spec cov_trail_status = {
	"cloudtrail", "GetTrailStatus", NULL, NULL, NULL, NULL, 0
};
static const struct cov_spec cov_filters = {
	"logs", "DescribeMetricFilters", "metricFilters", "nextToken",
	"nextToken", "limit", 50
};
static const struct cov_spec cov_test_filter = {
	"logs", "TestMetricFilter", NULL, NULL, NULL, NULL, 0
};
static const struct cov_spec cov_alarms = {
	"monitoring", "DescribeAlarmsForMetric", "MetricAlarms", NULL, NULL,
	NULL, 0
};
static const struct cov_spec cov_gd_detectors = {
	"guardduty", "ListDetectors", "detectorIds", "NextToken", "nextToken",
	"MaxResults", 50
};
static const struct cov_spec cov_gd_list = {
	"guardduty", "ListFindings", "findingIds", "NextToken", "nextToken",
	"MaxResults", 50
};
static const struct cov_spec cov_gd_get = {
	"guardduty", "GetFindings", "findings", NULL, NULL, NULL, 0
};

enum cfetch_state {
	CF_LOADING,
	CF_READY,
	CF_FAILED,
};

struct cfetch;
typedef void (*cfetch_cb)(struct cfetch *, void *);

struct cwait {
	cfetch_cb	 cb;
	void		*arg;
};

struct cfetch {
	TAILQ_ENTRY(cfetch)	 entry;
	struct coverage_ctx	*cov;
	char			*key;		/* NULL: not cached */
	unsigned long		 hash;
	struct cfetch		*hnext;
	int			 in_table;
	int			 busy;		/* notifying its waiters */
	const struct cov_spec	*spec;
	struct aws_request	*tmpl;
	struct creds_provider	*creds;
	enum cfetch_state	 state;
	json_t			*value;		/* READY: list or answer */
	char			*error;		/* FAILED */
	int			 retryable;
	struct pager		 pg;
	struct aws_call		*call;
	struct cwait		*w;
	size_t			 nw;
	double			 made;
};

/* An argument of a fetch callback, owned by its job. */
struct cstep {
	struct cjob		*job;
	struct gdjob		*gd;
	char			*name;
	char			*region;
	char			*extra;
	json_t			*data;
	size_t			 idx;
};

struct cbatch {
	TAILQ_ENTRY(cbatch)	 entry;
	struct ledger_entry	**rows;
	size_t			 n, left;
	coverage_rows_cb	 done;
	void			*arg;
};

struct cjob {
	TAILQ_ENTRY(cjob)	 entry;
	struct coverage_ctx	*cov;
	struct ledger_entry	*e;
	struct creds_provider	*creds;
	coverage_done_cb	 done;
	void			*arg;
	struct cbatch		*batch;
	int			 pending;
	int			 finished;
	char			*account;
	char			*region;
	json_t			*event;		/* the envelope */
	char			*event_text;
	char			*record_text;
	char			*account_id;
	int			 read_only;
	int			 global;	/* a global service's event */

	json_t			*covers;	/* [{name, targets}] */
	struct buf		 errors;
	struct buf		 notes;
	int			 eb_checked, mf_checked;
	unsigned		 rules_total, rules_asked, rules_disabled;
	unsigned		 rules_readonly, rules_matched;
	unsigned		 trails, log_groups, filters, filters_matched;
	char			**groups;	/* log groups seen */
	size_t			 ngroups;
	struct cstep		**steps;
	size_t			 nsteps;
};

struct gdjob {
	TAILQ_ENTRY(gdjob)	 entry;
	struct coverage_ctx	*cov;
	struct creds_provider	*creds;
	struct coverage_gd_report rep;
	struct coverage_gd_call	*calls;
	size_t			 ncalls;
	int			 pending;
	int			 finished;
	void			(*done)(const struct coverage_gd_report *,
				    void *);
	void			*arg;
	struct cstep		**steps;
	size_t			 nsteps;
};

TAILQ_HEAD(cfetch_list, cfetch);
TAILQ_HEAD(cjob_list, cjob);
TAILQ_HEAD(gdjob_list, gdjob);
TAILQ_HEAD(cbatch_list, cbatch);

struct coverage_ctx {
	struct event_base	*base;
	struct aws_client	*client;
	struct coverage_params	 p;
	struct cfetch		*table[COV_BUCKETS];
	struct cfetch_list	 fetches;
	struct cjob_list	 jobs;		/* working */
	struct cjob_list	 completed;	/* waiting for done_ev */
	struct gdjob_list	 gdjobs;
	struct gdjob_list	 gdcompleted;
	struct cbatch_list	 batches;
	struct event		*done_ev;
	struct event		*drain_ev;
	int			 draining;
	int			 drained;
	void			(*drain_done)(void *);
	void			*drain_arg;
	struct coverage_stats	 st;
};

static void	 cov_job_release(struct cjob *);
static void	 cov_gd_release(struct gdjob *);
static void	 cov_check_drained(struct coverage_ctx *);
static void	 cov_apply_params(struct coverage_ctx *,
		    const struct coverage_params *);

/* ---- parameters ------------------------------------------------------------ */

void
coverage_params_default(struct coverage_params *p)
{
	memset(p, 0, sizeof(*p));
	p->eventbridge = 1;
	coverage_params_resolve(p);
}

void
coverage_params_resolve(struct coverage_params *p)
{
	if (p->test_rate <= 0)
		p->test_rate = 10;
	if (p->max_pages <= 0)
		p->max_pages = 100;
	if (p->max_age <= 0)
		p->max_age = 3600;
}

/* ---- the fetch table ---------------------------------------------------------- */

static unsigned long
cov_hash(const char *s)
{
	unsigned long	 h = 1469598103934665603UL;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211UL;
	}
	return h;
}

static struct cfetch *
cov_table_get(struct coverage_ctx *cov, const char *key)
{
	struct cfetch	*f;
	unsigned long	 h = cov_hash(key);

	for (f = cov->table[h % COV_BUCKETS]; f != NULL; f = f->hnext)
		if (f->hash == h && strcmp(f->key, key) == 0)
			return f;
	return NULL;
}

static void
cov_table_remove(struct coverage_ctx *cov, struct cfetch *f)
{
	struct cfetch	**pp;

	if (!f->in_table)
		return;
	for (pp = &cov->table[f->hash % COV_BUCKETS]; *pp != NULL;
	    pp = &(*pp)->hnext)
		if (*pp == f) {
			*pp = f->hnext;
			break;
		}
	f->hnext = NULL;
	f->in_table = 0;
}

static void
cov_fetch_free(struct cfetch *f)
{
	struct coverage_ctx	*cov;

	if (f == NULL)
		return;
	cov = f->cov;
	cov_table_remove(cov, f);
	TAILQ_REMOVE(&cov->fetches, f, entry);
	if (f->call != NULL)
		aws_call_cancel(f->call);
	aws_request_free(f->tmpl);
	json_decref(f->value);
	free(f->error);
	pager_clear(&f->pg);
	free(f->w);
	free(f->key);
	free(f);
}

static void
cov_fetch_notify(struct cfetch *f)
{
	struct coverage_ctx	*cov = f->cov;
	struct cwait	*w = f->w;
	size_t		 nw = f->nw, i;

	f->w = NULL;
	f->nw = 0;
	f->busy = 1;
	for (i = 0; i < nw; i++)
		w[i].cb(f, w[i].arg);
	f->busy = 0;
	free(w);
	/* Transient failures are not remembered: the next asker retries. */
	if (f->state == CF_FAILED && f->retryable)
		cov_table_remove(cov, f);
	if (!f->in_table)
		cov_fetch_free(f);
}

static void	cov_fetch_send(struct cfetch *);

static void
cov_fetch_fail(struct cfetch *f, int retryable, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
cov_fetch_fail(struct cfetch *f, int retryable, const char *fmt, ...)
{
	va_list	 ap;

	f->state = CF_FAILED;
	f->retryable = retryable;
	free(f->error);
	va_start(ap, fmt);
	xvasprintf(&f->error, fmt, ap);
	va_end(ap);
	json_decref(f->value);
	f->value = NULL;
	f->made = now_real();
	f->cov->st.failures++;
	cov_fetch_notify(f);
}

static void
cov_fetch_cb(const struct aws_request *req, struct aws_result *res, void *arg)
{
	struct cfetch		*f = arg;
	struct coverage_ctx	*cov = f->cov;
	const struct cov_spec	*spec = f->spec;
	json_t			*list;
	char			*why;

	f->call = NULL;
	if (res->outcome != AWS_OK) {
		/* Without an error code (no answer, or no code in it) the
		 * next asker tries again. */
		why = aws_result_describe(res);
		cov_fetch_fail(f, res->error_code == NULL ||
		    res->outcome == AWS_RETRYABLE, "%s: %s", spec->action, why);
		free(why);
		return;
	}
	if (spec->items != NULL) {
		list = aws_json_list(aws_json_path(res->data, spec->items));
		if (f->value == NULL)
			f->value = json_array();
		json_array_extend(f->value, list);
		json_decref(list);
	} else {
		json_decref(f->value);
		f->value = json_incref(res->data);
	}
	switch (pager_next(&f->pg, pager_token_of(res->data,
	    spec->token_out))) {
	case PAGER_MORE:
		cov_fetch_send(f);
		return;
	case PAGER_REPEAT:
		cov_fetch_fail(f, 0, "%s returned the same page token twice",
		    spec->action);
		return;
	case PAGER_CAPPED:
		cov_fetch_fail(f, 0, "%s: more than %d pages", spec->action,
		    cov->p.max_pages);
		return;
	case PAGER_DONE:
		break;
	}
	f->state = CF_READY;
	f->made = now_real();
	cov_fetch_notify(f);
}

static void
cov_fetch_send(struct cfetch *f)
{
	struct coverage_ctx	*cov = f->cov;
	const struct cov_spec	*spec = f->spec;
	struct aws_request	*req;

	req = aws_request_dup(f->tmpl);
	if (pager_token(&f->pg) != NULL && spec->token_in != NULL)
		aws_request_set_str(req, spec->token_in, pager_token(&f->pg));
	if (spec->limit_in != NULL)
		aws_request_set(req, spec->limit_in,
		    json_integer(spec->limit));
	cov->st.api_calls++;
	cov->st.api_calls_total++;
	if (spec == &cov_test_pattern) {
		cov->st.tep_calls++;
		cov->st.tep_calls_total++;
	} else if (spec == &cov_test_filter)
		cov->st.tmf_calls++;
	f->call = aws_client_send(cov->client, f->creds, req, cov_fetch_cb, f);
}

/*
 * Ask: input is stolen.  key NULL: not cached.  cb may run before this
 * returns (the answer was cached).
 */
static void
cov_fetch(struct coverage_ctx *cov, struct creds_provider *creds,
    const char *key, const struct cov_spec *spec, const char *region,
    json_t *input, cfetch_cb cb, void *arg)
{
	const struct aws_service *svc;
	struct cfetch		*f = NULL;
	double			 now = now_real();

	if (key != NULL && (f = cov_table_get(cov, key)) != NULL &&
	    f->state != CF_LOADING && now - f->made > cov->p.max_age) {
		cov_table_remove(cov, f);
		if (!f->busy)
			cov_fetch_free(f);
		f = NULL;
	}
	if (f != NULL) {
		json_decref(input);
		if (f->state == CF_LOADING) {
			f->w = xreallocarray(f->w, f->nw + 1, sizeof(*f->w));
			f->w[f->nw].cb = cb;
			f->w[f->nw++].arg = arg;
		} else
			cb(f, arg);
		return;
	}
	if ((svc = aws_service_find(spec->service)) == NULL)
		fatalx("%s: no service %s", __func__, spec->service);
	f = xcalloc(1, sizeof(*f));
	f->cov = cov;
	f->spec = spec;
	f->creds = creds;
	f->state = CF_LOADING;
	pager_init(&f->pg, cov->p.max_pages);
	f->tmpl = aws_request_new(svc, spec->action, region);
	f->tmpl->safety = AWS_SAFE_READ_ONLY;
	f->tmpl->input = input != NULL ? input : json_object();
	f->w = xcalloc(1, sizeof(*f->w));
	f->w[0].cb = cb;
	f->w[0].arg = arg;
	f->nw = 1;
	TAILQ_INSERT_TAIL(&cov->fetches, f, entry);
	if (key != NULL) {
		f->key = xstrdup(key);
		f->hash = cov_hash(key);
		f->hnext = cov->table[f->hash % COV_BUCKETS];
		cov->table[f->hash % COV_BUCKETS] = f;
		f->in_table = 1;
	}
	cov_fetch_send(f);
}

/* Drop every cached answer; loading ones go when they are done. */
static void
cov_table_clear(struct coverage_ctx *cov)
{
	struct cfetch	*f, *next;

	for (f = TAILQ_FIRST(&cov->fetches); f != NULL; f = next) {
		next = TAILQ_NEXT(f, entry);
		if (!f->in_table)
			continue;
		cov_table_remove(cov, f);
		if (f->state != CF_LOADING && !f->busy)
			cov_fetch_free(f);
	}
}

/* ---- completion ------------------------------------------------------------------- */

static void
cov_step_free(struct cstep *s)
{
	if (s == NULL)
		return;
	free(s->name);
	free(s->region);
	free(s->extra);
	json_decref(s->data);
	free(s);
}

static void
cov_job_free(struct cjob *j)
{
	size_t	 i;

	if (j == NULL)
		return;
	for (i = 0; i < j->nsteps; i++)
		cov_step_free(j->steps[i]);
	free(j->steps);
	for (i = 0; i < j->ngroups; i++)
		free(j->groups[i]);
	free(j->groups);
	free(j->account);
	free(j->region);
	free(j->account_id);
	json_decref(j->event);
	free(j->event_text);
	free(j->record_text);
	json_decref(j->covers);
	buf_free(&j->errors);
	buf_free(&j->notes);
	free(j);
}

static void
cov_gd_free(struct gdjob *g)
{
	struct coverage_gd_report *r;
	size_t			 i;

	if (g == NULL)
		return;
	r = &g->rep;
	for (i = 0; i < g->nsteps; i++)
		cov_step_free(g->steps[i]);
	free(g->steps);
	for (i = 0; i < g->ncalls; i++) {
		free(g->calls[i].region);
		free(g->calls[i].event_source);
		free(g->calls[i].event_name);
		free(g->calls[i].access_key_id);
	}
	free(g->calls);
	for (i = 0; i < r->nfindings; i++) {
		free(r->findings[i].region);
		free(r->findings[i].detector_id);
		free(r->findings[i].id);
		free(r->findings[i].type);
		free(r->findings[i].title);
		free(r->findings[i].updated_at);
		free(r->findings[i].api);
		free(r->findings[i].service);
		free(r->findings[i].access_key_id);
	}
	free(r->findings);
	for (i = 0; i < r->nregions; i++) {
		free(r->regions[i].region);
		free(r->regions[i].error);
	}
	free(r->regions);
	free(r->scenario);
	free(r->account);
	free(g);
}

static void
cov_done_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct coverage_ctx	*cov = arg;
	struct cjob	*j;
	struct gdjob	*g;
	struct cbatch	*b;

	while ((j = TAILQ_FIRST(&cov->completed)) != NULL) {
		TAILQ_REMOVE(&cov->completed, j, entry);
		if ((b = j->batch) != NULL) {
			if (--b->left == 0) {
				TAILQ_REMOVE(&cov->batches, b, entry);
				b->done(b->rows, b->n, b->arg);
				free(b->rows);
				free(b);
			}
		} else if (j->done != NULL)
			j->done(j->e, j->arg);
		cov_job_free(j);
	}
	while ((g = TAILQ_FIRST(&cov->gdcompleted)) != NULL) {
		TAILQ_REMOVE(&cov->gdcompleted, g, entry);
		if (g->done != NULL)
			g->done(&g->rep, g->arg);
		cov_gd_free(g);
	}
	cov_check_drained(cov);
}

static void
cov_done_soon(struct coverage_ctx *cov)
{
	struct timeval	 tv = { 0, 0 };

	if (!evtimer_pending(cov->done_ev, NULL))
		evtimer_add(cov->done_ev, &tv);
}

static void
cov_job_complete(struct cjob *j)
{
	struct coverage_ctx	*cov = j->cov;

	TAILQ_REMOVE(&cov->jobs, j, entry);
	TAILQ_INSERT_TAIL(&cov->completed, j, entry);
	cov_done_soon(cov);
}

/* ---- a job: one row ------------------------------------------------------------------- */

static struct cstep *
cov_step(struct cjob *j, const char *name, const char *region,
    const char *extra, json_t *data)
{
	struct cstep	*s = xcalloc(1, sizeof(*s));

	s->job = j;
	s->name = xstrdup_or_null(name);
	s->region = xstrdup_or_null(region);
	s->extra = xstrdup_or_null(extra);
	s->data = data != NULL ? json_incref(data) : NULL;
	j->steps = xreallocarray(j->steps, j->nsteps + 1, sizeof(*j->steps));
	j->steps[j->nsteps++] = s;
	return s;
}

static void
cov_add(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
cov_add(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;

	if (b->len > 0)
		buf_addstr(b, "; ");
	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

static void
cov_cover(struct cjob *j, const char *name, json_t *targets)
{
	json_t	*r;
	size_t	 i;

	json_array_foreach(j->covers, i, r)
		if (strcmp(json_string_value(json_object_get(r, "name")),
		    name) == 0)
			return;
	json_array_append_new(j->covers, json_pack("{s:s,s:O}", "name", name,
	    "targets", targets));
}

static char *
cov_key(const char *kind, const char *a, const char *b, const char *c,
    const char *d)
{
	return xprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s", kind, a ? a : "",
	    b ? b : "", c ? c : "", d ? d : "");
}

/* The part of the reason about EventBridge when nothing covers. */
static void
cov_eb_summary(struct cjob *j, struct buf *b)
{
	if (!j->eb_checked)
		return;
	if (j->rules_total == 0) {
		cov_add(b, "no EventBridge rule on the default event bus in %s",
		    j->region);
		return;
	}
	if (j->rules_matched == 0)
		cov_add(b, "none of the %u EventBridge rule%s on the default "
		    "event bus in %s matches (%u asked", j->rules_total,
		    j->rules_total == 1 ? "" : "s", j->region,
		    j->rules_asked);
	else
		cov_add(b, "%u of the %u EventBridge rule%s on the default "
		    "event bus in %s match%s, without a target (%u asked",
		    j->rules_matched, j->rules_total,
		    j->rules_total == 1 ? "" : "s", j->region,
		    j->rules_matched == 1 ? "es" : "", j->rules_asked);
	if (j->rules_readonly > 0)
		buf_printf(b, ", %u in state ENABLED, which does not receive "
		    "read-only events", j->rules_readonly);
	if (j->rules_disabled > 0)
		buf_printf(b, ", %u disabled", j->rules_disabled);
	buf_addch(b, ')');
}

static void
cov_mf_summary(struct cjob *j, struct buf *b)
{
	if (!j->mf_checked)
		return;
	if (j->trails == 0)
		cov_add(b, "no logging trail sends the events of %s to "
		    "CloudWatch Logs", j->region);
	else if (j->filters == 0)
		cov_add(b, "no metric filter on the trail log group%s",
		    j->log_groups == 1 ? "" : "s");
	else if (j->filters_matched == 0)
		cov_add(b, "none of the %u metric filter%s on the trail log "
		    "group%s matches", j->filters, j->filters == 1 ? "" : "s",
		    j->log_groups == 1 ? "" : "s");
}

static void
cov_job_finish(struct cjob *j)
{
	struct coverage_ctx	*cov = j->cov;
	struct buf	 b;
	enum coverage	 c;
	char		*reason = NULL;
	size_t		 n = json_array_size(j->covers);

	buf_init(&b);
	if (n > 0) {
		c = COVERAGE_COVERED;
		if (j->notes.len > 0)
			reason = xprintf("also: %s", buf_str(&j->notes));
	} else if (j->errors.len > 0) {
		c = COVERAGE_UNKNOWN;
		buf_addstr(&b, buf_str(&j->errors));
		if (j->notes.len > 0)
			cov_add(&b, "%s", buf_str(&j->notes));
		reason = buf_release(&b);
	} else {
		c = COVERAGE_UNCOVERED;
		cov_eb_summary(j, &b);
		cov_mf_summary(j, &b);
		if (j->notes.len > 0)
			cov_add(&b, "%s", buf_str(&j->notes));
		reason = buf_release(&b);
	}
	buf_free(&b);
	coverage_set(j->e, c, n > 0 ? j->covers : NULL, reason);
	switch (c) {
	case COVERAGE_COVERED:
		cov->st.covered++;
		break;
	case COVERAGE_UNCOVERED:
		cov->st.uncovered++;
		break;
	default:
		cov->st.unknown++;
		break;
	}
	log_debug("coverage %s/%s %s:%s: %s%s%s", j->account, j->region,
	    j->e->x.event_source, j->e->x.event_name, coverage_name(c),
	    reason != NULL ? ": " : "", reason != NULL ? reason : "");
	free(reason);
	j->finished = 1;
	cov_job_complete(j);
}

static void
cov_job_release(struct cjob *j)
{
	if (--j->pending == 0)
		cov_job_finish(j);
}

/* -- EventBridge -- */

static void
cov_targets_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg;
	struct cjob	*j = s->job;
	json_t		*arns, *t;
	size_t		 i;

	if (f->state == CF_FAILED)
		cov_add(&j->errors, "rule %s matches, its targets are "
		    "unknown: %s", s->name, f->error);
	else {
		arns = json_array();
		json_array_foreach(f->value, i, t)
			if (aws_json_str(t, "Arn") != NULL)
				json_array_append_new(arns, json_string(
				    aws_json_str(t, "Arn")));
		if (json_array_size(arns) == 0)
			cov_add(&j->notes, "rule %s matches but has no targets: "
			    "it alerts nobody", s->name);
		else
			cov_cover(j, s->name, arns);
		json_decref(arns);
	}
	cov_job_release(j);
}

static void
cov_pattern_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg;
	struct cjob	*j = s->job;
	struct coverage_ctx	*cov = j->cov;
	char		*key;

	if (f->state == CF_FAILED)
		cov_add(&j->errors, "rule %s: %s", s->name, f->error);
	else if (json_is_true(json_object_get(f->value, "Result"))) {
		j->rules_matched++;
		j->pending++;
		key = cov_key("targets", j->account, j->region, s->name, NULL);
		cov_fetch(cov, j->creds, key, &cov_list_targets, j->region,
		    json_pack("{s:s}", "Rule", s->name), cov_targets_cb, s);
		free(key);
	}
	cov_job_release(j);
}

static void
cov_rules_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg, *q;
	struct cjob	*j = s->job;
	struct coverage_ctx	*cov = j->cov;
	json_t		*rule, *paths;
	const char	*name, *pattern, *state;
	char		*key, *qk, *cause;
	size_t		 i;

	if (f->state == CF_FAILED) {
		cov_add(&j->errors, "EventBridge rules in %s: %s", j->region,
		    f->error);
		cov_job_release(j);
		return;
	}
	j->eb_checked = 1;
	json_array_foreach(f->value, i, rule) {
		name = aws_json_str(rule, "Name");
		pattern = aws_json_str(rule, "EventPattern");
		state = aws_json_str(rule, "State");
		if (name == NULL)
			continue;
		j->rules_total++;
		if (pattern == NULL || *pattern == '\0')
			continue;	/* a scheduled rule */
		if (!coverage_state_sees(state, j->read_only)) {
			if (state != NULL && strcmp(state, "ENABLED") == 0)
				j->rules_readonly++;
			else
				j->rules_disabled++;
			continue;
		}
		j->rules_asked++;
		cov->st.questions++;
		cause = NULL;
		paths = NULL;
		if (coverage_pattern_paths(pattern, &paths, &cause) == -1) {
			log_debug("coverage: rule %s: %s: asking about the "
			    "whole event", name, cause);
			free(cause);
		}
		qk = coverage_question_key(pattern, paths, j->event);
		json_decref(paths);
		key = xprintf("tep\x1f%s", qk);
		free(qk);
		q = cov_step(j, name, NULL, NULL, NULL);
		j->pending++;
		cov_fetch(cov, j->creds, key, &cov_test_pattern, j->region,
		    json_pack("{s:s,s:s}", "EventPattern", pattern, "Event",
		    j->event_text), cov_pattern_cb, q);
		free(key);
	}
	cov_job_release(j);
}

static void
cov_eb_start(struct cjob *j)
{
	char	*key;

	key = cov_key("rules", j->account, j->region, NULL, NULL);
	j->pending++;
	cov_fetch(j->cov, j->creds, key, &cov_list_rules, j->region,
	    json_object(), cov_rules_cb, cov_step(j, NULL, NULL, NULL, NULL));
	free(key);
}

/* -- CloudTrail -> CloudWatch Logs metric filters -> alarms -- */

static int
cov_truthy(json_t *v, int dflt)
{
	if (json_is_boolean(v))
		return json_is_true(v);
	if (json_is_string(v))
		return strcasecmp(json_string_value(v), "true") == 0;
	return dflt;
}

static void
cov_alarms_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg;
	struct cjob	*j = s->job;
	json_t		*alarm, *actions;
	const char	*aname;
	char		*name;
	size_t		 i;

	if (f->state == CF_FAILED) {
		cov_add(&j->errors, "alarms on the metric of filter %s: %s",
		    s->name, f->error);
		cov_job_release(j);
		return;
	}
	if (json_array_size(f->value) == 0)
		cov_add(&j->notes, "metric filter %s matches but no alarm "
		    "watches its metric %s", s->name, s->extra);
	json_array_foreach(f->value, i, alarm) {
		if ((aname = aws_json_str(alarm, "AlarmName")) == NULL)
			continue;
		actions = aws_json_list(json_object_get(alarm, "AlarmActions"));
		if (json_array_size(actions) == 0)
			cov_add(&j->notes, "metric filter %s matches but alarm "
			    "%s has no actions: it alerts nobody", s->name,
			    aname);
		else if (!cov_truthy(json_object_get(alarm, "ActionsEnabled"),
		    1))
			cov_add(&j->notes, "metric filter %s matches but the "
			    "actions of alarm %s are disabled", s->name, aname);
		else {
			name = xprintf("metric-filter:%s/alarm:%s", s->name,
			    aname);
			cov_cover(j, name, actions);
			free(name);
		}
		json_decref(actions);
	}
	cov_job_release(j);
}

static void
cov_test_filter_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg, *q;
	struct cjob	*j = s->job;
	json_t		*mts, *mt;
	const char	*metric, *ns;
	char		*key, *what;
	size_t		 i;

	if (f->state == CF_FAILED) {
		cov_add(&j->errors, "metric filter %s: %s", s->name, f->error);
		cov_job_release(j);
		return;
	}
	if (json_array_size(json_object_get(f->value, "matches")) > 0) {
		j->filters_matched++;
		mts = aws_json_list(json_object_get(s->data,
		    "metricTransformations"));
		if (json_array_size(mts) == 0)
			cov_add(&j->notes, "metric filter %s matches but "
			    "publishes no metric", s->name);
		json_array_foreach(mts, i, mt) {
			metric = aws_json_str(mt, "metricName");
			ns = aws_json_str(mt, "metricNamespace");
			if (metric == NULL || ns == NULL)
				continue;
			what = xprintf("%s/%s", ns, metric);
			key = cov_key("alarms", j->account, s->region, ns,
			    metric);
			q = cov_step(j, s->name, s->region, what, NULL);
			j->pending++;
			cov_fetch(j->cov, j->creds, key, &cov_alarms,
			    s->region, json_pack("{s:s,s:s}", "MetricName",
			    metric, "Namespace", ns), cov_alarms_cb, q);
			free(key);
			free(what);
		}
		json_decref(mts);
	}
	cov_job_release(j);
}

static void
cov_filters_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg, *q;
	struct cjob	*j = s->job;
	json_t		*mf;
	const char	*name, *pattern;
	char		*key;
	size_t		 i;

	if (f->state == CF_FAILED) {
		cov_add(&j->errors, "metric filters of log group %s: %s",
		    s->name, f->error);
		cov_job_release(j);
		return;
	}
	json_array_foreach(f->value, i, mf) {
		name = aws_json_str(mf, "filterName");
		pattern = aws_json_str(mf, "filterPattern");
		if (name == NULL)
			continue;
		if (pattern == NULL)
			pattern = "";
		j->filters++;
		key = xprintf("tmf\x1f%s\x1e%s", pattern, j->record_text);
		q = cov_step(j, name, s->region, NULL, mf);
		j->pending++;
		cov_fetch(j->cov, j->creds, key, &cov_test_filter, s->region,
		    json_pack("{s:s,s:[s]}", "filterPattern", pattern,
		    "logEventMessages", j->record_text), cov_test_filter_cb, q);
		free(key);
	}
	cov_job_release(j);
}

static void
cov_status_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg, *q;
	struct cjob	*j = s->job;
	const char	*lg = aws_json_str(s->data, "CloudWatchLogsLogGroupArn");
	char		*region = NULL, *account = NULL, *name = NULL, *key;
	size_t		 i;

	if (f->state == CF_FAILED) {
		cov_add(&j->errors, "status of trail %s: %s", s->name,
		    f->error);
		goto out;
	}
	if (!cov_truthy(json_object_get(f->value, "IsLogging"), 0)) {
		cov_add(&j->notes, "trail %s is not logging", s->name);
		goto out;
	}
	j->trails++;
	if (coverage_log_group_arn(lg, &region, &account, &name) == -1) {
		cov_add(&j->errors, "trail %s: unusable log group ARN %s",
		    s->name, lg);
		goto out;
	}
	if (j->account_id != NULL && strcmp(account, j->account_id) != 0) {
		cov_add(&j->errors, "trail %s sends to log group %s of account "
		    "%s, whose metric filters these credentials cannot read",
		    s->name, name, account);
		goto out;
	}
	key = xprintf("%s/%s", region, name);
	for (i = 0; i < j->ngroups; i++)
		if (strcmp(j->groups[i], key) == 0)
			break;
	if (i < j->ngroups) {
		free(key);
		goto out;
	}
	j->groups = xreallocarray(j->groups, j->ngroups + 1,
	    sizeof(*j->groups));
	j->groups[j->ngroups++] = key;
	j->log_groups++;
	key = cov_key("filters", j->account, region, name, NULL);
	q = cov_step(j, name, region, NULL, NULL);
	j->pending++;
	cov_fetch(j->cov, j->creds, key, &cov_filters, region,
	    json_pack("{s:s}", "logGroupName", name), cov_filters_cb, q);
	free(key);
out:
	free(region);
	free(account);
	free(name);
	cov_job_release(j);
}

static void
cov_trails_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg, *q;
	struct cjob	*j = s->job;
	json_t		*t;
	const char	*arn, *home, *name;
	char		*key;
	size_t		 i;

	if (f->state == CF_FAILED) {
		cov_add(&j->errors, "CloudTrail trails in %s: %s", j->region,
		    f->error);
		cov_job_release(j);
		return;
	}
	j->mf_checked = 1;
	json_array_foreach(f->value, i, t) {
		arn = aws_json_str(t, "TrailARN");
		home = aws_json_str(t, "HomeRegion");
		name = aws_json_str(t, "Name");
		if (arn == NULL || aws_json_str(t,
		    "CloudWatchLogsLogGroupArn") == NULL)
			continue;
		/* Shadow trails are listed too: keep those logging here. */
		if (!cov_truthy(json_object_get(t, "IsMultiRegionTrail"), 0) &&
		    home != NULL && strcmp(home, j->region) != 0)
			continue;
		if (j->global && !cov_truthy(json_object_get(t,
		    "IncludeGlobalServiceEvents"), 1)) {
			cov_add(&j->notes, "trail %s leaves out global "
			    "service events", name != NULL ? name : arn);
			continue;
		}
		key = cov_key("status", j->account, arn, NULL, NULL);
		q = cov_step(j, name != NULL ? name : arn, home, NULL, t);
		j->pending++;
		cov_fetch(j->cov, j->creds, key, &cov_trail_status,
		    home != NULL ? home : j->region, json_pack("{s:s}", "Name",
		    arn), cov_status_cb, q);
		free(key);
	}
	cov_job_release(j);
}

static void
cov_mf_start(struct cjob *j)
{
	char	*key;

	key = cov_key("trails", j->account, j->region, NULL, NULL);
	j->pending++;
	cov_fetch(j->cov, j->creds, key, &cov_trails, j->region,
	    json_pack("{s:b}", "includeShadowTrails", 1), cov_trails_cb,
	    cov_step(j, NULL, NULL, NULL, NULL));
	free(key);
}

/* -- the job -- */

static int
cov_global_source(const char *event_source)
{
	const struct aws_service *s;

	for (s = aws_services(); event_source != NULL && s->id != NULL; s++)
		if (s->global && s->event_source != NULL &&
		    strcmp(s->event_source, event_source) == 0)
			return 1;
	return 0;
}

static int
cov_wants(const struct coverage_ctx *cov, const struct ledger_entry *e)
{
	return coverage_enabled(cov) && e->verdict == VERDICT_LOGGED &&
	    e->coverage == COVERAGE_NONE;
}

static struct cjob *
cov_job_new(struct coverage_ctx *cov, struct creds_provider *creds,
    struct ledger_entry *e)
{
	struct cjob	*j = xcalloc(1, sizeof(*j));

	j->cov = cov;
	j->e = e;
	j->creds = creds;
	buf_init(&j->errors);
	buf_init(&j->notes);
	j->covers = json_array();
	TAILQ_INSERT_TAIL(&cov->jobs, j, entry);
	return j;
}

static void
cov_job_start(struct cjob *j)
{
	struct coverage_ctx	*cov = j->cov;
	struct ledger_entry	*e = j->e;
	const char		*s;
	char			*cause = NULL;

	/* A context call is not judged (#11, coverage_logic.c). */
	if (cov_wants(cov, e))
		(void)coverage_mark_context(e);
	if (!cov_wants(cov, e)) {
		/* Judged uncovered by a version before schema 4. */
		coverage_fill_remediation(e);
		j->finished = 1;
		cov_job_complete(j);
		return;
	}
	cov->st.rows++;
	j->account = xstrdup(ledger_entry_account(e));
	j->region = xstrdup(e->x.region);
	j->pending = 1;
	if (j->creds == NULL) {
		cov_add(&j->errors, "no credentials for account %s",
		    j->account);
		cov_job_release(j);
		return;
	}
	if ((j->event = coverage_envelope(e, &cause)) == NULL) {
		cov_add(&j->errors, "%s", cause);
		free(cause);
		cov_job_release(j);
		return;
	}
	if ((s = aws_json_str(j->event, "account")) != NULL)
		j->account_id = xstrdup(s);
	j->read_only = coverage_read_only(e);
	j->global = cov_global_source(e->x.event_source);
	j->event_text = json_dumps(j->event, JSON_COMPACT |
	    JSON_PRESERVE_ORDER);
	j->record_text = json_dumps(e->record, JSON_COMPACT |
	    JSON_PRESERVE_ORDER);
	if (j->event_text == NULL || j->record_text == NULL)
		fatalx("%s: out of memory", __func__);
	if (cov->p.eventbridge)
		cov_eb_start(j);
	if (cov->p.metric_filters)
		cov_mf_start(j);
	cov_job_release(j);
}

/* ---- public: rows ------------------------------------------------------------------ */

void
coverage_check(struct coverage_ctx *cov, struct creds_provider *creds,
    struct ledger_entry *e, coverage_done_cb done, void *arg)
{
	struct cjob	*j;

	if (cov->draining)
		return;		/* stays decided: checked after a restart */
	j = cov_job_new(cov, creds, e);
	j->done = done;
	j->arg = arg;
	cov_job_start(j);
}

void
coverage_check_rows(struct coverage_ctx *cov, coverage_creds_fn creds,
    void *creds_arg, struct ledger_entry **rows, size_t n,
    coverage_rows_cb done, void *arg)
{
	struct cbatch	*b;
	struct cjob	*j;
	size_t		 i;

	if (cov->draining)
		return;
	b = xcalloc(1, sizeof(*b));
	b->rows = xcalloc(n > 0 ? n : 1, sizeof(*b->rows));
	if (n > 0)
		memcpy(b->rows, rows, n * sizeof(*rows));
	b->n = n;
	b->done = done;
	b->arg = arg;
	TAILQ_INSERT_TAIL(&cov->batches, b, entry);
	if (n == 0) {
		/* Nothing to check: a job-less completion. */
		b->left = 1;
		j = cov_job_new(cov, NULL, NULL);
		j->batch = b;
		j->finished = 1;
		cov_job_complete(j);
		return;
	}
	b->left = n;
	for (i = 0; i < n; i++) {
		j = cov_job_new(cov, NULL, rows[i]);
		j->batch = b;
		if (cov_wants(cov, rows[i]) && creds != NULL)
			j->creds = creds(ledger_entry_account(rows[i]),
			    creds_arg);
		cov_job_start(j);
	}
}

/* ---- public: GuardDuty ----------------------------------------------------------------- */

static struct cstep *
cov_gd_step(struct gdjob *g, size_t idx, const char *name)
{
	struct cstep	*s = xcalloc(1, sizeof(*s));

	s->gd = g;
	s->idx = idx;
	s->name = xstrdup_or_null(name);
	g->steps = xreallocarray(g->steps, g->nsteps + 1, sizeof(*g->steps));
	g->steps[g->nsteps++] = s;
	return s;
}

static void
cov_gd_error(struct gdjob *g, size_t idx, const char *error)
{
	struct coverage_gd_region *r = &g->rep.regions[idx];

	if (r->error == NULL)
		r->error = xstrdup(error);
}

static const char *
cov_gd_str(json_t *o, const char *path)
{
	const char	*s = aws_json_str(o, path);

	return s != NULL && *s != '\0' ? s : NULL;
}

static void
cov_gd_get_cb(struct cfetch *f, void *arg)
{
	struct cstep			*s = arg;
	struct gdjob			*g = s->gd;
	struct coverage_gd_report	*r = &g->rep;
	struct coverage_gd_finding	*x;
	json_t				*fd, *sev;
	const char			*match;
	size_t				 i;

	if (f->state == CF_FAILED)
		cov_gd_error(g, s->idx, f->error);
	else
		json_array_foreach(f->value, i, fd) {
			r->regions[s->idx].seen++;
			match = coverage_gd_match(fd, r->run_id, g->calls,
			    g->ncalls);
			if (match == NULL)
				continue;
			r->findings = xreallocarray(r->findings,
			    r->nfindings + 1, sizeof(*r->findings));
			x = &r->findings[r->nfindings++];
			memset(x, 0, sizeof(*x));
			x->region = xstrdup(r->regions[s->idx].region);
			x->detector_id = xstrdup_or_null(s->name);
			x->id = xstrdup_or_null(cov_gd_str(fd, "id"));
			x->type = xstrdup_or_null(cov_gd_str(fd, "type"));
			x->title = xstrdup_or_null(cov_gd_str(fd, "title"));
			x->updated_at = xstrdup_or_null(cov_gd_str(fd,
			    "updatedAt"));
			sev = json_object_get(fd, "severity");
			x->severity = json_is_number(sev) ?
			    json_number_value(sev) : 0;
			x->api = xstrdup_or_null(cov_gd_str(fd,
			    "service.action.awsApiCallAction.api"));
			x->service = xstrdup_or_null(cov_gd_str(fd,
			    "service.action.awsApiCallAction.serviceName"));
			x->access_key_id = xstrdup_or_null(cov_gd_str(fd,
			    "resource.accessKeyDetails.accessKeyId"));
			x->match = match;
		}
	cov_gd_release(g);
}

static void
cov_gd_list_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg;
	struct gdjob	*g = s->gd;
	json_t		*ids;
	size_t		 i, k, n;

	if (f->state == CF_FAILED) {
		cov_gd_error(g, s->idx, f->error);
		cov_gd_release(g);
		return;
	}
	n = json_array_size(f->value);
	for (i = 0; i < n; i += COV_GD_BATCH) {
		ids = json_array();
		for (k = i; k < n && k < i + COV_GD_BATCH; k++)
			json_array_append(ids, json_array_get(f->value, k));
		g->pending++;
		cov_fetch(g->cov, g->creds, NULL, &cov_gd_get,
		    g->rep.regions[s->idx].region, json_pack("{s:s,s:o}",
		    "DetectorId", s->name, "FindingIds", ids), cov_gd_get_cb,
		    cov_gd_step(g, s->idx, s->name));
	}
	cov_gd_release(g);
}

static void
cov_gd_detectors_cb(struct cfetch *f, void *arg)
{
	struct cstep	*s = arg;
	struct gdjob	*g = s->gd;
	json_t		*id, *crit;
	size_t		 i;

	if (f->state == CF_FAILED) {
		cov_gd_error(g, s->idx, f->error);
		cov_gd_release(g);
		return;
	}
	json_array_foreach(f->value, i, id) {
		if (!json_is_string(id))
			continue;
		g->rep.regions[s->idx].detectors++;
		crit = json_pack("{s:{s:{s:I}}}", "criterion", "updatedAt",
		    "greaterThanOrEqual", (json_int_t)floor(g->rep.since *
		    1000));
		g->pending++;
		cov_fetch(g->cov, g->creds, NULL, &cov_gd_list,
		    g->rep.regions[s->idx].region, json_pack("{s:s,s:o}",
		    "DetectorId", json_string_value(id), "FindingCriteria",
		    crit), cov_gd_list_cb, cov_gd_step(g, s->idx,
		    json_string_value(id)));
	}
	cov_gd_release(g);
}

static void
cov_gd_release(struct gdjob *g)
{
	struct coverage_ctx	*cov = g->cov;

	if (--g->pending > 0)
		return;
	g->finished = 1;
	TAILQ_REMOVE(&cov->gdjobs, g, entry);
	TAILQ_INSERT_TAIL(&cov->gdcompleted, g, entry);
	cov_done_soon(cov);
}

static void
cov_gd_add_region(struct coverage_gd_report *r, const char *region)
{
	size_t	 i;

	if (region == NULL || *region == '\0')
		return;
	for (i = 0; i < r->nregions; i++)
		if (strcmp(r->regions[i].region, region) == 0)
			return;
	r->regions = xreallocarray(r->regions, r->nregions + 1,
	    sizeof(*r->regions));
	memset(&r->regions[r->nregions], 0, sizeof(*r->regions));
	r->regions[r->nregions++].region = xstrdup(region);
}

int
coverage_guardduty(struct coverage_ctx *cov, struct creds_provider *creds,
    const struct ledger_run *run, const char *const *regions,
    size_t nregions, double since,
    void (*done)(const struct coverage_gd_report *, void *), void *arg)
{
	struct gdjob		*g;
	struct ledger_entry	*e;
	struct coverage_gd_call	*c;
	size_t			 i;

	if (!cov->p.guardduty || cov->draining)
		return -1;
	g = xcalloc(1, sizeof(*g));
	g->cov = cov;
	g->creds = creds;
	g->done = done;
	g->arg = arg;
	memcpy(g->rep.run_id, run->run_id, sizeof(g->rep.run_id));
	g->rep.scenario = xstrdup_or_null(run->scenario);
	g->rep.account = xstrdup_or_null(run->account);
	g->rep.since = since;
	for (i = 0; i < run->nentries; i++) {
		e = run->entries[i];
		g->calls = xreallocarray(g->calls, g->ncalls + 1,
		    sizeof(*g->calls));
		c = &g->calls[g->ncalls++];
		c->region = xstrdup_or_null(e->x.region);
		c->event_source = xstrdup_or_null(e->x.event_source);
		c->event_name = xstrdup_or_null(e->x.event_name);
		c->access_key_id = xstrdup_or_null(e->x.access_key_id);
	}
	if (regions != NULL)
		for (i = 0; i < nregions; i++)
			cov_gd_add_region(&g->rep, regions[i]);
	else
		for (i = 0; i < g->ncalls; i++)
			cov_gd_add_region(&g->rep, g->calls[i].region);
	TAILQ_INSERT_TAIL(&cov->gdjobs, g, entry);
	g->pending = 1;
	for (i = 0; i < g->rep.nregions; i++) {
		if (creds == NULL) {
			cov_gd_error(g, i, "no credentials");
			continue;
		}
		g->pending++;
		cov_fetch(cov, creds, NULL, &cov_gd_detectors,
		    g->rep.regions[i].region, json_object(),
		    cov_gd_detectors_cb, cov_gd_step(g, i, NULL));
	}
	cov_gd_release(g);
	return 0;
}

/* ---- public: life cycle ------------------------------------------------------------- */

struct coverage_ctx *
coverage_new(struct event_base *base, struct aws_client *client,
    const struct coverage_params *p)
{
	struct coverage_ctx	*cov = xcalloc(1, sizeof(*cov));

	cov->base = base;
	cov->client = client;
	TAILQ_INIT(&cov->fetches);
	TAILQ_INIT(&cov->jobs);
	TAILQ_INIT(&cov->completed);
	TAILQ_INIT(&cov->gdjobs);
	TAILQ_INIT(&cov->gdcompleted);
	TAILQ_INIT(&cov->batches);
	cov->done_ev = evtimer_new(base, cov_done_cb, cov);
	if (cov->done_ev == NULL)
		fatalx("%s: evtimer_new", __func__);
	cov->st.cycle = 1;
	cov_apply_params(cov, p);
	return cov;
}

static void
cov_cancel_all(struct coverage_ctx *cov)
{
	struct cfetch	*f;
	struct cjob	*j;
	struct gdjob	*g;
	struct cbatch	*b;

	while ((f = TAILQ_FIRST(&cov->fetches)) != NULL)
		cov_fetch_free(f);
	while ((j = TAILQ_FIRST(&cov->jobs)) != NULL) {
		TAILQ_REMOVE(&cov->jobs, j, entry);
		cov_job_free(j);
	}
	while ((j = TAILQ_FIRST(&cov->completed)) != NULL) {
		TAILQ_REMOVE(&cov->completed, j, entry);
		cov_job_free(j);
	}
	while ((g = TAILQ_FIRST(&cov->gdjobs)) != NULL) {
		TAILQ_REMOVE(&cov->gdjobs, g, entry);
		cov_gd_free(g);
	}
	while ((g = TAILQ_FIRST(&cov->gdcompleted)) != NULL) {
		TAILQ_REMOVE(&cov->gdcompleted, g, entry);
		cov_gd_free(g);
	}
	while ((b = TAILQ_FIRST(&cov->batches)) != NULL) {
		TAILQ_REMOVE(&cov->batches, b, entry);
		free(b->rows);
		free(b);
	}
}

void
coverage_free(struct coverage_ctx *cov)
{
	if (cov == NULL)
		return;
	cov_cancel_all(cov);
	event_free(cov->done_ev);
	if (cov->drain_ev != NULL)
		event_free(cov->drain_ev);
	free(cov);
}

static void
cov_apply_params(struct coverage_ctx *cov, const struct coverage_params *p)
{
	if (p != NULL)
		cov->p = *p;
	else
		coverage_params_default(&cov->p);
	coverage_params_resolve(&cov->p);
	aws_client_set_limit(cov->client, "events", "TestEventPattern",
	    cov->p.test_rate, cov->p.test_rate);
	aws_client_set_limit(cov->client, "logs", "TestMetricFilter",
	    cov->p.test_rate, cov->p.test_rate);
}

void
coverage_set_params(struct coverage_ctx *cov, const struct coverage_params *p)
{
	cov_apply_params(cov, p);
	coverage_cycle_reset(cov);
}

int
coverage_enabled(const struct coverage_ctx *cov)
{
	return cov->p.eventbridge || cov->p.metric_filters;
}

void
coverage_cycle_reset(struct coverage_ctx *cov)
{
	struct coverage_stats	*st = &cov->st;

	if (st->rows > 0 || st->api_calls > 0)
		log_info("coverage cycle %u: %lu logged event%s checked "
		    "(%lu covered, %lu uncovered, %lu unknown); "
		    "TestEventPattern: %lu call%s for %lu question%s; "
		    "TestMetricFilter: %lu call%s; %lu request%s in all, "
		    "%lu failed", st->cycle, st->rows, st->rows == 1 ? "" : "s",
		    st->covered, st->uncovered, st->unknown, st->tep_calls,
		    st->tep_calls == 1 ? "" : "s", st->questions,
		    st->questions == 1 ? "" : "s", st->tmf_calls,
		    st->tmf_calls == 1 ? "" : "s", st->api_calls,
		    st->api_calls == 1 ? "" : "s", st->failures);
	st->cycle++;
	st->rows = st->covered = st->uncovered = st->unknown = 0;
	st->questions = st->tep_calls = st->tmf_calls = 0;
	st->api_calls = st->failures = 0;
	cov_table_clear(cov);
}

void
coverage_stats(const struct coverage_ctx *cov, struct coverage_stats *st)
{
	*st = cov->st;
}

size_t
coverage_pending(const struct coverage_ctx *cov)
{
	const struct cjob	*j;
	const struct gdjob	*g;
	size_t			 n = 0;

	TAILQ_FOREACH(j, &cov->jobs, entry)
		n++;
	TAILQ_FOREACH(j, &cov->completed, entry)
		n++;
	TAILQ_FOREACH(g, &cov->gdjobs, entry)
		n++;
	TAILQ_FOREACH(g, &cov->gdcompleted, entry)
		n++;
	return n;
}

static void
cov_drain_finish(struct coverage_ctx *cov)
{
	void	(*cb)(void *) = cov->drain_done;

	if (cov->drained)
		return;
	cov->drained = 1;
	if (cov->drain_ev != NULL)
		evtimer_del(cov->drain_ev);
	cov->drain_done = NULL;
	if (cb != NULL)
		cb(cov->drain_arg);
}

static void
cov_drain_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct coverage_ctx	*cov = arg;
	size_t		 n = coverage_pending(cov);

	if (n > 0)
		log_info("coverage: %zu check%s cancelled at shutdown; "
		    "they run again after the next start", n,
		    n == 1 ? "" : "s");
	cov_cancel_all(cov);
	cov_drain_finish(cov);
}

static void
cov_check_drained(struct coverage_ctx *cov)
{
	struct timeval	 tv = { 0, 0 };

	if (cov->draining && !cov->drained && coverage_pending(cov) == 0 &&
	    cov->drain_ev != NULL)
		evtimer_add(cov->drain_ev, &tv);
}

void
coverage_drain(struct coverage_ctx *cov, double timeout, void (*done)(void *),
    void *arg)
{
	struct timeval	 tv;

	cov->draining = 1;
	cov->drained = 0;
	cov->drain_done = done;
	cov->drain_arg = arg;
	if (cov->drain_ev == NULL &&
	    (cov->drain_ev = evtimer_new(cov->base, cov_drain_timeout,
	    cov)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	if (coverage_pending(cov) == 0 || timeout <= 0) {
		tv.tv_sec = 0;
		tv.tv_usec = 0;
	} else {
		tv.tv_sec = (time_t)timeout;
		tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) *
		    1e6);
	}
	evtimer_add(cov->drain_ev, &tv);
}

/* Which check makes which call (coverage_calls). */
enum cov_check { COV_EVENTBRIDGE, COV_METRIC_FILTERS, COV_GUARDDUTY };
static const struct {
	enum cov_check		 check;
	const struct cov_spec	*spec;
} cov_calls_table[] = {
	{ COV_EVENTBRIDGE, &cov_list_rules },
	{ COV_EVENTBRIDGE, &cov_test_pattern },
	{ COV_EVENTBRIDGE, &cov_list_targets },
	{ COV_METRIC_FILTERS, &cov_trails },
	{ COV_METRIC_FILTERS, &cov_trail_status },
	{ COV_METRIC_FILTERS, &cov_filters },
	{ COV_METRIC_FILTERS, &cov_test_filter },
	{ COV_METRIC_FILTERS, &cov_alarms },
	{ COV_GUARDDUTY, &cov_gd_detectors },
	{ COV_GUARDDUTY, &cov_gd_list },
	{ COV_GUARDDUTY, &cov_gd_get },
};
#define COV_NCALLS	(sizeof(cov_calls_table) / sizeof(cov_calls_table[0]))

const char **
coverage_calls(const struct coverage_params *p)
{
	static char	 names[COV_NCALLS][64];
	const char	**v;
	size_t		 i, n = 0;
	int		 on;

	v = xcalloc(COV_NCALLS + 1, sizeof(*v));
	for (i = 0; i < COV_NCALLS; i++) {
		switch (cov_calls_table[i].check) {
		case COV_EVENTBRIDGE:
			on = p->eventbridge;
			break;
		case COV_METRIC_FILTERS:
			on = p->metric_filters;
			break;
		default:
			on = p->guardduty;
			break;
		}
		if (!on)
			continue;
		snprintf(names[i], sizeof(names[i]), "%s:%s",
		    cov_calls_table[i].spec->service,
		    cov_calls_table[i].spec->action);
		v[n++] = names[i];
	}
	return v;
}
