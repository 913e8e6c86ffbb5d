/*
 * verify: the LookupEvents poller.  The rules are in verify.h; the pure
 * parts (matching, planning, judging, scheduling) in verify_logic.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <jansson.h>

#include "aws.h"
#include "client.h"
#include "http.h"
#include "ledger.h"
#include "log.h"
#include "pager.h"
#include "report.h"
#include "util.h"
#include "verify.h"
#include "xmalloc.h"

struct vgroup;

struct vpoll {
	struct vgroup		*g;
	struct creds_provider	*creds;
	struct ledger_entry	**rows;		/* snapshot of pending rows */
	size_t			 nrows;
	char			(*runs)[33];	/* their distinct run IDs */
	size_t			 nruns;
	struct verify_query	*q;
	size_t			 nq, qi;
	double			*complete;	/* per query: start, 0 = not */
	double			 qstart;
	struct pager		 pg;		/* the current query's pages */
	struct aws_call		*call;
	struct ct_event		*events;	/* relevant records only */
	size_t			 nevents;
	char			*error;		/* the poll failed */
	char			*incomplete;	/* a query was cut short, or an
						   answer could not be trusted */
	int			 qbad;		/* the current query is */
	int			 refused;	/* lookups refused for the
						   credentials (fail_fast) */
};

struct vgroup {
	struct verifier		*v;
	char			*account;
	char			*region;
	struct verify_item	*items;
	size_t			 nitems;
	struct event		*timer;
	double			 last_start;
	struct vpoll		*poll;
	char			*last_error;	/* why lookups do not work */
	int			 failing;
};

struct verifier {
	struct event_base	*base;
	struct aws_client	*client;
	struct ledger		*ledger;
	struct verify_params	 p;
	struct verify_hooks	 hooks;
	struct vgroup		**groups;
	size_t			 ngroups;
	struct event		*commit_ev;
	struct event		*drained_ev;
	int			 draining;
	void			(*drained)(void *);
	void			*drained_arg;
	struct verify_stats	 stats;
};

static void	verify_group_schedule(struct vgroup *);
static void	verify_poll_start(struct vgroup *);
static void	verify_poll_send(struct vpoll *);
static void	verify_poll_finish(struct vpoll *);

/* ---- groups ------------------------------------------------------------ */

static void
verify_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	verify_poll_start(arg);
}

static struct vgroup *
verify_group(struct verifier *v, const char *account, const char *region)
{
	struct vgroup	*g;
	size_t		 i;

	for (i = 0; i < v->ngroups; i++) {
		g = v->groups[i];
		if (strcmp(g->account, account) == 0 &&
		    strcmp(g->region, region) == 0)
			return g;
	}
	g = xcalloc(1, sizeof(*g));
	g->v = v;
	g->account = xstrdup(account);
	g->region = xstrdup(region);
	g->timer = evtimer_new(v->base, verify_timer_cb, g);
	if (g->timer == NULL)
		fatalx("%s: evtimer_new", __func__);
	v->groups = xreallocarray(v->groups, v->ngroups + 1,
	    sizeof(*v->groups));
	v->groups[v->ngroups++] = g;
	return g;
}

static void
verify_poll_free(struct vpoll *p)
{
	size_t	 i;

	if (p == NULL)
		return;
	if (p->call != NULL)
		aws_call_cancel(p->call);
	for (i = 0; i < p->nevents; i++)
		verify_event_clear(&p->events[i]);
	free(p->events);
	free(p->rows);
	free(p->runs);
	verify_plan_free(p->q, p->nq);
	free(p->complete);
	pager_clear(&p->pg);
	free(p->error);
	free(p->incomplete);
	free(p);
}

static void
verify_group_free(struct vgroup *g)
{
	if (g == NULL)
		return;
	verify_poll_free(g->poll);
	if (g->timer != NULL)
		event_free(g->timer);
	free(g->items);
	free(g->account);
	free(g->region);
	free(g->last_error);
	free(g);
}

static void
verify_group_schedule(struct vgroup *g)
{
	struct verifier	*v = g->v;
	struct timeval	 tv;
	double		 t, d;

	evtimer_del(g->timer);
	if (v->draining || g->poll != NULL)
		return;
	if (verify_next_poll(g->items, g->nitems, g->last_start, &v->p,
	    &t) == -1)
		return;
	d = fmax(0, t - now_mono());
	tv.tv_sec = (time_t)d;
	tv.tv_usec = (suseconds_t)((d - (double)tv.tv_sec) * 1e6);
	evtimer_add(g->timer, &tv);
}

/* ---- commits and drain ---------------------------------------------------- */

static void
verify_commit_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct verifier	*v = arg;
	char		*cause = NULL;

	if (ledger_commit(v->ledger, &cause) == -1) {
		log_warnx("saving the ledger: %s", cause);
		free(cause);
	}
}

void
verifier_commit_soon(struct verifier *v)
{
	struct timeval	 tv = { 0, 0 };

	if (!evtimer_pending(v->commit_ev, NULL))
		evtimer_add(v->commit_ev, &tv);
}

static void
verify_drained_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct verifier	*v = arg;

	if (v->drained != NULL) {
		void (*cb)(void *) = v->drained;

		v->drained = NULL;
		cb(v->drained_arg);
	}
}

static int
verify_busy(const struct verifier *v)
{
	size_t	 i;

	for (i = 0; i < v->ngroups; i++)
		if (v->groups[i]->poll != NULL)
			return 1;
	return 0;
}

static void
verify_check_drained(struct verifier *v)
{
	struct timeval	 tv = { 0, 0 };

	if (v->draining && v->drained != NULL && !verify_busy(v))
		evtimer_add(v->drained_ev, &tv);
}

/* ---- polls ---------------------------------------------------------------- */

static void
verify_poll_fail(struct vpoll *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
verify_poll_fail(struct vpoll *p, const char *fmt, ...)
{
	va_list	 ap;

	free(p->error);
	va_start(ap, fmt);
	xvasprintf(&p->error, fmt, ap);
	va_end(ap);
	verify_poll_finish(p);
}

/*
 * Rows no lookup can decide are unverified now, with the reason, and left
 * out of the plan: a call no record could ever prove (no request ID, no
 * call marker), and a call older than LookupEvents' 90-day window (a
 * window cut at 90 days cannot contain it, so its silence proves nothing).
 */
static void
verify_set_aside(struct vpoll *p, double offset)
{
	struct verifier		*v = p->g->v;
	struct ledger_entry	*e;
	double			 now = now_real();
	char			 when[21];
	char			*reason;
	size_t			 i, j;

	for (i = 0, j = 0; i < p->nrows; i++) {
		e = p->rows[i];
		reason = NULL;
		if (!verify_row_provable(e))
			reason = xstrdup("no record can prove this call: its "
			    "answer carried no request ID and it was sent "
			    "without a call marker");
		else if (verify_too_old(e->x.fired_at, now, offset,
		    v->p.skew)) {
			time_iso8601((time_t)e->x.fired_at, when);
			reason = xprintf("the call (%s) is older than the 90 "
			    "days LookupEvents can look back", when);
		}
		if (reason == NULL) {
			p->rows[j++] = e;
			continue;
		}
		if (ledger_decide(e, VERDICT_UNVERIFIED, NULL, reason,
		    now) == 0)
			v->stats.unverified++;
		free(reason);
	}
	p->nrows = j;
}

static void
verify_poll_start(struct vgroup *g)
{
	struct verifier		*v = g->v;
	struct vpoll		*p;
	struct aws_client_stats	 cst;
	size_t			 i, j;

	if (g->poll != NULL || v->draining)
		return;
	evtimer_del(g->timer);
	p = xcalloc(1, sizeof(*p));
	p->g = g;
	pager_init(&p->pg, v->p.max_pages);
	p->rows = xcalloc(g->nitems, sizeof(*p->rows));
	p->runs = xcalloc(g->nitems, sizeof(*p->runs));
	for (i = 0; i < g->nitems; i++) {
		if (ledger_entry_state(g->items[i].e) != LEDGER_ROW_PENDING)
			continue;
		p->rows[p->nrows++] = g->items[i].e;
		for (j = 0; j < p->nruns; j++)
			if (strcmp(p->runs[j],
			    ledger_entry_run_id(g->items[i].e)) == 0)
				break;
		if (j == p->nruns)
			memcpy(p->runs[p->nruns++],
			    ledger_entry_run_id(g->items[i].e), 33);
	}
	if (p->nrows == 0) {
		verify_poll_free(p);
		return;
	}
	g->poll = p;
	g->last_start = now_mono();
	v->stats.polls++;
	if (v->hooks.creds == NULL ||
	    (p->creds = v->hooks.creds(g->account, v->hooks.arg)) == NULL) {
		verify_poll_fail(p, "no credentials for account %s", g->account);
		return;
	}
	aws_client_stats(v->client, &cst);
	verify_set_aside(p, cst.clock_offset);
	if (p->nrows == 0) {
		verify_poll_finish(p);
		return;
	}
	p->q = verify_plan(p->rows, p->nrows, &v->p, now_real(),
	    cst.clock_offset, &p->nq);
	p->complete = xcalloc(p->nq, sizeof(*p->complete));
	log_debug("verify %s/%s: %zu pending, %zu %s quer%s", g->account,
	    g->region, p->nrows, p->nq, verify_qkind_name(p->q[0].kind),
	    p->nq == 1 ? "y" : "ies");
	p->qstart = now_mono();
	verify_poll_send(p);
}

static void	verify_page_cb(const struct aws_request *, struct aws_result *,
		    void *);

static void
verify_poll_send(struct vpoll *p)
{
	struct verifier		*v = p->g->v;
	const struct aws_service *svc;
	struct verify_query	*q = &p->q[p->qi];
	struct aws_request	*req;

	if ((svc = aws_service_find("cloudtrail")) == NULL)
		fatalx("%s: no cloudtrail service", __func__);
	req = aws_request_new(svc, "LookupEvents", p->g->region);
	req->safety = AWS_SAFE_READ_ONLY;
	if (q->kind != VERIFY_Q_SWEEP)
		aws_request_set(req, "LookupAttributes",
		    json_pack("[{s:s,s:s}]", "AttributeKey",
		    verify_qkind_name(q->kind), "AttributeValue", q->value));
	aws_request_set(req, "StartTime", json_integer((json_int_t)q->start));
	aws_request_set(req, "MaxResults", json_integer(VERIFY_PAGE_SIZE));
	if (pager_token(&p->pg) != NULL)
		aws_request_set_str(req, "NextToken", pager_token(&p->pg));
	v->stats.pages++;
	if (p->pg.pages == 0)
		v->stats.lookups++;
	p->call = aws_client_send(v->client, p->creds, req, verify_page_cb, p);
}

/* Could this record concern one of the rows?  (Cheap filter.) */
static int
verify_relevant(const struct vpoll *p, const struct ct_event *ev)
{
	char	 run_id[33];
	size_t	 i;

	if (verify_marker(ev->user_agent, run_id) == 0)
		for (i = 0; i < p->nruns; i++)
			if (strcmp(p->runs[i], run_id) == 0)
				return 1;
	if (ev->request_id != NULL)
		for (i = 0; i < p->nrows; i++)
			if (p->rows[i]->x.request_id != NULL &&
			    strcasecmp(p->rows[i]->x.request_id,
			    ev->request_id) == 0)
				return 1;
	return 0;
}

static void
verify_page_cb(const struct aws_request *req, struct aws_result *res,
    void *arg)
{
	struct vpoll	*p = arg;
	struct verifier	*v = p->g->v;
	struct ct_event	*evs = NULL;
	const char	*token;
	char		*problem = NULL;
	size_t		 nev = 0, i;
	double		 seen = now_real();

	p->call = NULL;
	if (v->hooks.lookup != NULL)
		v->hooks.lookup(p->g->account, p->g->region,
		    res->error_code != NULL &&
		    aws_code_is_throttle(res->error_code), v->hooks.arg);
	if (res->outcome != AWS_OK) {
		v->stats.failures++;
		if (v->p.fail_fast && res->error_code != NULL &&
		    (aws_code_unhandled(res->error_code) ||
		    aws_code_is_denied(res->error_code)))
			p->refused = 1;
		problem = aws_result_describe(res);
		verify_poll_fail(p, "LookupEvents: %s", problem);
		free(problem);
		return;
	}
	if (verify_page_read(res->data, seen, &evs, &nev, &token,
	    &problem) == -1) {
		v->stats.failures++;
		verify_poll_fail(p, "%s", problem);
		free(problem);
		return;
	}
	if (problem != NULL) {
		/* The records read still prove their rows; the query's
		 * silence proves nothing. */
		p->qbad = 1;
		free(p->incomplete);
		p->incomplete = problem;
	}
	for (i = 0; i < nev; i++) {
		v->stats.events_seen++;
		if (!verify_relevant(p, &evs[i])) {
			verify_event_clear(&evs[i]);
			continue;
		}
		p->events = xreallocarray(p->events, p->nevents + 1,
		    sizeof(*p->events));
		p->events[p->nevents++] = evs[i];
	}
	free(evs);

	switch (pager_next(&p->pg, token)) {
	case PAGER_MORE:
		verify_poll_send(p);
		return;
	case PAGER_REPEAT:
		verify_poll_fail(p, "LookupEvents returned the same "
		    "NextToken twice");
		return;
	case PAGER_CAPPED:
		/* Cut at the cap: incomplete, never a basis for missing. */
		free(p->incomplete);
		p->incomplete = xprintf("more than %d pages of events in the "
		    "window", v->p.max_pages);
		break;
	case PAGER_DONE:
		if (!p->qbad)
			p->complete[p->qi] = p->qstart;
		break;
	}

	/* Next query, or done. */
	pager_clear(&p->pg);
	p->qbad = 0;
	if (++p->qi < p->nq) {
		p->qstart = now_mono();
		verify_poll_send(p);
		return;
	}
	verify_poll_finish(p);
}

static struct verify_item *
verify_item_of(struct vgroup *g, const struct ledger_entry *e)
{
	size_t	 i;

	for (i = 0; i < g->nitems; i++)
		if (g->items[i].e == e)
			return &g->items[i];
	return NULL;
}

static void
verify_lookup_state(struct vgroup *g, const char *error)
{
	if (error == NULL) {
		if (g->failing)
			log_info("CloudTrail lookups for account %s in %s work "
			    "again", g->account, g->region);
		g->failing = 0;
		return;
	}
	free(g->last_error);
	g->last_error = xstrdup(error);
	if (g->failing)
		return;
	g->failing = 1;
	report_lookup_failing(g->account, g->region, error, g->v->p.grace);
}

static void
verify_poll_finish(struct vpoll *p)
{
	struct vgroup		*g = p->g;
	struct verifier		*v = g->v;
	struct verify_assign	*as;
	struct verify_item	*it;
	struct ledger_entry	**decided = NULL, *e;
	struct ledger_found	 f;
	const struct ct_event	*ev;
	enum verdict		 vd;
	int			 refused;
	char			*reason, *cause = NULL, when[21];
	size_t			 n, i, j, nd = 0;
	double			 now = now_mono(), wall = now_real();

	g->poll = NULL;

	/* Matches count even when the poll failed half-way. */
	as = xcalloc(p->nrows > 0 ? p->nrows : 1, sizeof(*as));
	n = verify_match(p->rows, p->nrows, p->events, p->nevents, as);
	for (i = 0; i < n; i++) {
		e = p->rows[as[i].entry];
		ev = &p->events[as[i].event];
		memset(&f, 0, sizeof(f));
		f.event_id = ev->event_id;
		f.found_at = ev->seen_at;
		f.event_time = ev->event_time;
		f.match = verify_how_name(as[i].how);
		f.record = ev->record;
		if (ledger_decide(e, VERDICT_LOGGED, &f, NULL, wall) == 0) {
			v->stats.logged++;
			log_debug("verify %s/%s: %s %s found by %s: event %s",
			    g->account, g->region, ledger_entry_run_id(e),
			    e->x.event_name, f.match, f.event_id);
		}
	}
	free(as);

	/* Completed queries cover their rows. */
	for (i = 0; i < p->nq; i++) {
		if (p->complete[i] <= 0)
			continue;
		for (j = 0; j < p->q[i].nmembers; j++) {
			it = verify_item_of(g, p->rows[p->q[i].members[j]]);
			if (it != NULL && p->complete[i] > it->covered_at)
				it->covered_at = p->complete[i];
		}
	}
	refused = p->refused && p->error != NULL;
	if (p->error != NULL)
		verify_lookup_state(g, p->error);
	else if (p->incomplete != NULL)
		verify_lookup_state(g, p->incomplete);
	else
		verify_lookup_state(g, NULL);

	/* Judge every row of the group; keep the pending ones. */
	for (i = 0, j = 0; i < g->nitems; i++) {
		it = &g->items[i];
		e = it->e;
		if (ledger_entry_state(e) == LEDGER_ROW_PENDING) {
			vd = verify_judge(it->deadline, it->covered_at, now,
			    v->p.grace);
			/* One-shot: lookups refused for the credentials will
			 * not work by waiting. */
			if (vd == VERDICT_PENDING && refused)
				vd = VERDICT_UNVERIFIED;
			if (vd == VERDICT_MISSING) {
				time_iso8601((time_t)(wall - (now -
				    it->covered_at)), when);
				reason = xprintf("not found by a complete "
				    "lookup started at %s, %.1fs after the "
				    "deadline", when, it->covered_at -
				    it->deadline);
				/* Assumed evidence: unverified (#11). */
				if (verify_decide_absent(e, reason, wall) ==
				    VERDICT_MISSING)
					v->stats.missing++;
				else
					v->stats.unverified++;
				free(reason);
			} else if (vd == VERDICT_UNVERIFIED) {
				if (g->failing && g->last_error != NULL)
					reason = xstrdup(g->last_error);
				else if (it->covered_at > 0)
					reason = xstrdup("no complete lookup "
					    "after the deadline");
				else
					reason = xstrdup("no lookup completed");
				ledger_decide(e, vd, NULL, reason, wall);
				free(reason);
				v->stats.unverified++;
			}
		}
		if (ledger_entry_state(e) != LEDGER_ROW_PENDING) {
			decided = xreallocarray(decided, nd + 1,
			    sizeof(*decided));
			decided[nd++] = e;
			continue;
		}
		g->items[j++] = *it;
	}
	g->nitems = j;
	verify_poll_free(p);

	if (nd > 0) {
		if (ledger_commit(v->ledger, &cause) == -1) {
			log_warnx("saving the ledger: %s", cause);
			free(cause);
		}
		if (v->hooks.verdicts != NULL)
			v->hooks.verdicts(decided, nd, v->hooks.arg);
	}
	free(decided);
	verify_group_schedule(g);
	verify_check_drained(v);
}

/* ---- public ------------------------------------------------------------- */

struct verifier *
verifier_new(struct event_base *base, struct aws_client *client,
    struct ledger *ledger, const struct verify_params *params,
    const struct verify_hooks *hooks)
{
	struct verifier	*v;

	v = xcalloc(1, sizeof(*v));
	v->base = base;
	v->client = client;
	v->ledger = ledger;
	if (hooks != NULL)
		v->hooks = *hooks;
	v->commit_ev = evtimer_new(base, verify_commit_cb, v);
	v->drained_ev = evtimer_new(base, verify_drained_cb, v);
	if (v->commit_ev == NULL || v->drained_ev == NULL)
		fatalx("%s: evtimer_new", __func__);
	verifier_set_params(v, params);
	return v;
}

void
verifier_set_params(struct verifier *v, const struct verify_params *params)
{
	size_t	 i;

	if (params != NULL)
		v->p = *params;
	else
		verify_params_default(&v->p);
	verify_params_resolve(&v->p);
	/* LookupEvents: 2 per second per account and region, burst 1. */
	aws_client_set_limit(v->client, "cloudtrail", "LookupEvents",
	    v->p.lookup_rate, 1);
	for (i = 0; i < v->ngroups; i++)
		verify_group_schedule(v->groups[i]);
}

void
verifier_free(struct verifier *v)
{
	size_t	 i;
	char	*cause = NULL;

	if (v == NULL)
		return;
	for (i = 0; i < v->ngroups; i++)
		verify_group_free(v->groups[i]);
	free(v->groups);
	if (evtimer_pending(v->commit_ev, NULL) &&
	    ledger_commit(v->ledger, &cause) == -1) {
		log_warnx("saving the ledger: %s", cause);
		free(cause);
	}
	event_free(v->commit_ev);
	event_free(v->drained_ev);
	free(v);
}

void
verifier_watch(struct verifier *v, struct ledger_entry *e)
{
	struct vgroup		*g;
	struct verify_item	*it;
	double			 mono, wall;

	if (ledger_entry_state(e) != LEDGER_ROW_PENDING)
		return;
	g = verify_group(v, ledger_entry_account(e), e->x.region);
	if (verify_item_of(g, e) != NULL)
		return;
	g->items = xreallocarray(g->items, g->nitems + 1, sizeof(*g->items));
	it = &g->items[g->nitems++];
	memset(it, 0, sizeof(*it));
	it->e = e;
	mono = now_mono();
	wall = now_real();
	if (e->x.fired_mono > 0 && e->x.fired_mono <= mono) {
		/* Fired in this process: the deadline counts from the final
		 * attempt's send time on the monotonic clock. */
		it->fired = e->x.fired_mono;
		it->deadline = e->x.fired_mono + (e->deadline - e->x.fired_at);
	} else {
		/* Loaded from the state directory: the wall clock is all a
		 * restart has; from here on the monotonic clock counts. */
		it->fired = mono - fmax(0, wall - e->x.fired_at);
		it->deadline = mono + (e->deadline - wall);
	}
	if (g->poll == NULL)
		verify_group_schedule(g);
}

double
verifier_deadline(const struct verifier *v, const struct expectation *x)
{
	return x->fired_at + v->p.deadline;
}

size_t
verifier_resume(struct verifier *v)
{
	struct ledger_run	**runs;
	struct ledger_entry	**decided = NULL, *e;
	enum ledger_row_state	 st;
	size_t			 nr, i, j, nd = 0, watched = 0;

	runs = ledger_runs(v->ledger, &nr);
	for (i = 0; i < nr; i++)
		for (j = 0; j < runs[i]->nentries; j++) {
			e = runs[i]->entries[j];
			st = ledger_entry_state(e);
			if (st == LEDGER_ROW_PENDING) {
				verifier_watch(v, e);
				watched++;
			} else if (st == LEDGER_ROW_DECIDED ||
			    st == LEDGER_ROW_JUDGED) {
				decided = xreallocarray(decided, nd + 1,
				    sizeof(*decided));
				decided[nd++] = e;
			}
		}
	if (nd > 0 && v->hooks.verdicts != NULL)
		v->hooks.verdicts(decided, nd, v->hooks.arg);
	free(decided);
	return watched;
}

size_t
verifier_pending_count(const struct verifier *v)
{
	size_t	 i, n = 0;

	for (i = 0; i < v->ngroups; i++)
		n += v->groups[i]->nitems;
	return n;
}

void
verifier_progress(const struct verifier *v, struct verify_progress *vp)
{
	const struct vgroup	*g;
	double			 t;
	size_t			 i, j;

	memset(vp, 0, sizeof(*vp));
	for (i = 0; i < v->ngroups; i++) {
		g = v->groups[i];
		vp->pending += g->nitems;
		for (j = 0; j < g->nitems; j++)
			if (g->items[j].deadline > vp->deadline)
				vp->deadline = g->items[j].deadline;
		if (g->poll != NULL)
			vp->polling++;
		else if (verify_next_poll(g->items, g->nitems, g->last_start,
		    &v->p, &t) == 0 && (vp->next_poll == 0 ||
		    t < vp->next_poll))
			vp->next_poll = t;
	}
}

void
verifier_poll_now(struct verifier *v)
{
	size_t	 i;

	for (i = 0; i < v->ngroups; i++)
		if (v->groups[i]->nitems > 0)
			verify_poll_start(v->groups[i]);
}

void
verifier_drain(struct verifier *v, void (*done)(void *), void *arg)
{
	size_t	 i;

	v->draining = 1;
	v->drained = done;
	v->drained_arg = arg;
	for (i = 0; i < v->ngroups; i++)
		evtimer_del(v->groups[i]->timer);
	verify_check_drained(v);
}

void
verifier_stats(const struct verifier *v, struct verify_stats *st)
{
	*st = v->stats;
}
