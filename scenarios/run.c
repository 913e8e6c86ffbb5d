/*
 * run: one execution of one scenario for one account.
 *
 * States of a run:
 *   RUN_STARTING     run_start() returned; the first loop pass begins it
 *   RUN_DISCOVERING  ec2:DescribeRegions in the home region
 *   RUN_RUNNING      the scenario's state machine is driving calls
 *   RUN_FINISHED     run_finish(): the done hook is scheduled
 *   RUN_HALTED       run_abort() or a safety event: pending calls dropped
 *
 * Every call goes through run_group_call(): the framework sends it with
 * the client, records its row for the final table, hands the expectation
 * to the owner, follows pagination, and counts it in its group.
 *
 * Size: the run framework (regions, groups, pagination, the final table,
 * hooks) shares the run's private state; to be split when the paginator
 * moves to a file of its own.
 */
#include <sys/queue.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "aws.h"
#include "client.h"
#include "endpoint.h"
#include "log.h"
#include "pager.h"
#include "scenario.h"
#include "strv.h"
#include "util.h"
#include "xmalloc.h"

#define RUN_MAX_PAGES	1000

enum run_state {
	RUN_STARTING,
	RUN_DISCOVERING,
	RUN_RUNNING,
	RUN_FINISHED,
	RUN_HALTED,
};

static const char *const run_state_names[] = {
	"starting", "discovering", "running", "finished", "halted",
};

struct run_call_rec {
	struct run_call	 pub;
	char		*region;
	char		*service;
	char		*action;
	char		*detail;
	char		*error_code;
	char		*error_message;
	char		*request_id;
	char		*note;
};

struct run_pending {
	TAILQ_ENTRY(run_pending) entry;
	struct run		*run;
	struct run_group	*group;
	struct aws_call		*call;
	run_result_cb		 cb;
	void			*arg;
	char			*detail;
	unsigned		 seq;
	char			*region;
	char			*service;
	char			*action;
	enum aws_safety		 safety;
	/* Pagination: the request without a token, and the listing. */
	struct aws_request	*tmpl;
	char			*in_token;
	char			*out_token;
	struct pager		 pager;
};

struct run_timer {
	TAILQ_ENTRY(run_timer)	 entry;
	struct run_group	*group;
	struct event		*ev;
	run_timer_cb		 cb;
	void			*arg;
};

struct run_group {
	TAILQ_ENTRY(run_group)	 entry;
	struct run		*run;
	run_group_cb		 done;
	void			*arg;
	int			 pending;
	int			 closed;
	int			 scheduled;
	struct event		*ev;
};

struct run {
	const struct scenario_def	*def;
	enum run_state			 state;
	struct run_hooks		 hooks;
	struct event_base		*base;
	struct aws_client		*client;
	struct creds_provider		*creds;
	const struct custom_scenario	*custom;
	json_t				*settings;
	int				 allow_live;

	char				 id[33];
	char				*account;
	char				*account_id;
	char				*home_region;
	char				**regions;
	size_t				 nregions;
	char				**include;
	char				**exclude;
	char				**explicit;	/* opts->regions */
	char				**found;	/* DescribeRegions */
	size_t				 nfound;
	int				 discovery_failed;
	char				**off;		/* not enabled */
	size_t				 noff;
	void				*state_mem;
	double				 started_at;
	unsigned			 seq;
	char				*halt_why;

	TAILQ_HEAD(, run_pending)	 pending;
	TAILQ_HEAD(, run_group)		 groups;
	TAILQ_HEAD(, run_timer)		 timers;

	struct run_call_rec		**calls;
	const struct run_call		**pubs;	/* &calls[i]->pub */
	size_t				 ncalls;
	struct expectation		**expects;
	size_t				 nexpects;
	struct run_note			*notes;	/* strings owned */
	size_t				 nnotes;
	size_t				 nfindings;

	struct event			*start_ev;
	struct event			*done_ev;
};

static void	 run_group_check(struct run_group *);
static void	 run_send(struct run_group *, struct aws_request *,
		    const char *detail, run_result_cb, void *,
		    struct aws_request *tmpl, const char *in_token,
		    const char *out_token, struct pager *);

/* ---- small helpers ------------------------------------------------------ */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
run_schedule(struct run *run, struct event *ev)
{
	struct timeval	 tv = { 0, 0 };

	(void)run;
	evtimer_add(ev, &tv);
}

static void
run_set_state(struct run *run, enum run_state st)
{
	if (run->state == st)
		return;
	log_debug("run %s (%s): %s -> %s", run->id, run->def->name,
	    run_state_names[run->state], run_state_names[st]);
	run->state = st;
}

/* ---- outcomes and rows ------------------------------------------------- */

static const char *const run_call_outcome_names[RUN_NCALL_OUTCOMES] = {
	[RUN_PERMITTED] = "permitted",
	[RUN_DENIED] = "denied",
	[RUN_SKIPPED] = "skipped",
	[RUN_ERROR] = "error",
};

const char *
run_call_outcome_name(enum run_call_outcome o)
{
	if ((size_t)o < nitems(run_call_outcome_names))
		return run_call_outcome_names[o];
	return "unknown";
}

enum run_call_outcome
run_call_outcome_of(enum aws_outcome o)
{
	switch (o) {
	case AWS_OK:
	case AWS_PERMITTED:
		return RUN_PERMITTED;
	case AWS_DENIED:
		return RUN_DENIED;
	case AWS_REGION_OFF:
	case AWS_REFUSED:
		return RUN_SKIPPED;
	case AWS_RETRYABLE:
	case AWS_ERROR:
	case AWS_UNSAFE:
		break;
	}
	return RUN_ERROR;
}

static int
run_call_cmp(const void *a, const void *b)
{
	const struct run_call	*x = *(const struct run_call *const *)a;
	const struct run_call	*y = *(const struct run_call *const *)b;
	int			 c;

	if (x->global != y->global)
		return x->global ? -1 : 1;
	if (!x->global && (c = strcmp(x->region, y->region)) != 0)
		return c;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

void
run_calls_sort(const struct run_call **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), run_call_cmp);
}

static struct run_call_rec *
run_rec_new(struct run *run, const char *service, const char *action,
    const char *region, const char *detail, unsigned seq)
{
	struct run_call_rec		*r;
	const struct aws_service	*svc;

	r = xcalloc(1, sizeof(*r));
	r->service = xstrdup(service);
	r->action = xstrdup(action);
	r->region = xstrdup(region);
	r->detail = xstrdup_or_null(detail);
	r->pub.service = r->service;
	r->pub.action = r->action;
	r->pub.region = r->region;
	r->pub.detail = r->detail;
	r->pub.seq = seq;
	if ((svc = aws_service_find(service)) != NULL)
		r->pub.global = svc->global;
	(void)run;
	return r;
}

static void
run_rec_add(struct run *run, struct run_call_rec *r)
{
	run->calls = xreallocarray(run->calls, run->ncalls + 1,
	    sizeof(*run->calls));
	run->pubs = xreallocarray(run->pubs, run->ncalls + 1,
	    sizeof(*run->pubs));
	run->pubs[run->ncalls] = &r->pub;
	run->calls[run->ncalls++] = r;
	log_debug("run %s: %s %s:%s %s%s%s%s", run->id, r->region, r->service,
	    r->action, run_call_outcome_name(r->pub.outcome),
	    r->error_code ? " " : "", r->error_code ? r->error_code : "",
	    r->note ? " (note)" : "");
	if (run->hooks.call != NULL)
		run->hooks.call(run, &r->pub, run->hooks.arg);
}

static void
run_rec_free(struct run_call_rec *r)
{
	if (r == NULL)
		return;
	free(r->region);
	free(r->service);
	free(r->action);
	free(r->detail);
	free(r->error_code);
	free(r->error_message);
	free(r->request_id);
	free(r->note);
	free(r);
}

static void
run_record_skip(struct run *run, const char *service, const char *action,
    const char *region, const char *detail, enum aws_safety safety,
    unsigned seq, int intended, const char *note)
{
	struct run_call_rec	*r;

	r = run_rec_new(run, service, action, region, detail, seq);
	r->pub.safety = safety;
	r->pub.outcome = RUN_SKIPPED;
	r->pub.aws_outcome = AWS_REFUSED;
	r->pub.intended = intended;
	r->note = xstrdup_or_null(note);
	r->pub.note = r->note;
	run_rec_add(run, r);
}

/* ---- notes -------------------------------------------------------------- */

static void
run_note_add(struct run *run, const char *region, int error, const char *msg)
{
	struct run_note	*n;

	run->notes = xreallocarray(run->notes, run->nnotes + 1,
	    sizeof(*run->notes));
	n = &run->notes[run->nnotes++];
	n->region = xstrdup_or_null(region);
	n->msg = xstrdup(msg);
	n->error = error;
	if (error)
		log_info("run %s (%s)%s%s: %s", run->id, run->def->name,
		    region ? " " : "", region ? region : "", msg);
	else
		log_debug("run %s (%s)%s%s: %s", run->id, run->def->name,
		    region ? " " : "", region ? region : "", msg);
	if (run->hooks.note != NULL)
		run->hooks.note(run, region, msg, run->hooks.arg);
}

void
run_note(struct run *run, const char *region, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	run_note_add(run, region, 0, msg);
	free(msg);
}

void
run_error(struct run *run, const char *region, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	run_note_add(run, region, 1, msg);
	free(msg);
}

void
run_skip(struct run *run, const char *service, const char *action,
    const char *region, const char *detail, int intended, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	run_record_skip(run, service, action, region, detail,
	    AWS_SAFE_AUTO, run->seq++, intended, msg);
	free(msg);
}

void
run_finding(struct run *run, const char *region, const char *kind,
    const char *resource, const char *detail)
{
	struct run_finding	 f;

	run->nfindings++;
	f.region = region;
	f.kind = kind;
	f.resource = resource;
	f.detail = detail;
	log_info("run %s (%s) %s: finding %s %s%s%s", run->id,
	    run->def->name, region ? region : "-", kind, resource,
	    detail ? ": " : "", detail ? detail : "");
	if (run->hooks.finding != NULL)
		run->hooks.finding(run, &f, run->hooks.arg);
}

void
run_progress(struct run *run, const char *region, const char *step)
{
	if (run->hooks.progress != NULL)
		run->hooks.progress(run, region, step, run->hooks.arg);
}

/* ---- regions -------------------------------------------------------------- */

int
run_region_off(const struct run *run, const char *region)
{
	return strv_has(run->off, region);
}

static void
run_mark_off(struct run *run, const char *region, const char *code)
{
	if (run_region_off(run, region))
		return;
	run->off = xreallocarray(run->off, run->noff + 2, sizeof(*run->off));
	run->off[run->noff++] = xstrdup(region);
	run->off[run->noff] = NULL;
	run_note(run, region, "region not enabled (%s): skipped",
	    code ? code : "no answer");
}

/* Sorted, de-duplicated, filtered by include/exclude. */
static void
run_set_regions(struct run *run, char *const *cand, size_t n, int filter)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (strv_has(run->regions, cand[i]))
			continue;
		if (filter && run->include != NULL &&
		    !strv_match(run->include, cand[i]))
			continue;
		if (run->exclude != NULL && strv_match(run->exclude, cand[i]))
			continue;
		run->regions = xreallocarray(run->regions, run->nregions + 2,
		    sizeof(*run->regions));
		run->regions[run->nregions++] = xstrdup(cand[i]);
		run->regions[run->nregions] = NULL;
	}
	if (run->nregions > 1)
		qsort(run->regions, run->nregions, sizeof(*run->regions),
		    cmp_str);
}

static int
region_optin_ok(const char *status)
{
	/* AllRegions=false already answers enabled regions only; the status
	 * is checked as well because not every endpoint honours that. */
	return status == NULL || *status == '\0' ||
	    strcmp(status, "opt-in-not-required") == 0 ||
	    strcmp(status, "opted-in") == 0;
}

static void
run_regions_cb(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	json_t		*list, *item;
	const char	*name, *status, *part, *home;
	char		*why;
	size_t		 i, disabled = 0, foreign = 0;

	if (res->outcome != AWS_OK) {
		run->discovery_failed = 1;
		why = aws_result_describe(res);
		run_error(run, req->region, "cannot discover regions: "
		    "ec2:DescribeRegions answered %s", why);
		free(why);
		return;
	}
	home = endpoint_partition(run->home_region);
	list = aws_json_list(aws_json_path(res->data, "regionInfo"));
	json_array_foreach(list, i, item) {
		name = aws_json_str(item, "regionName");
		status = aws_json_str(item, "optInStatus");
		if (name == NULL || *name == '\0')
			continue;
		if (!region_optin_ok(status)) {
			disabled++;
			continue;
		}
		/* AWS lists its own partition only; an endpoint that lists
		 * more (moto) must not send us to aws-cn or GovCloud. */
		part = endpoint_partition(name);
		if (part == NULL || home == NULL || strcmp(part, home) != 0) {
			foreign++;
			continue;
		}
		run->found = xreallocarray(run->found, run->nfound + 2,
		    sizeof(*run->found));
		run->found[run->nfound++] = xstrdup(name);
		run->found[run->nfound] = NULL;
	}
	json_decref(list);
	if (foreign > 0)
		run_note(run, NULL, "%zu regions of other partitions than "
		    "%s's ignored", foreign, run->home_region);
	log_debug("run %s: %zu enabled regions (%zu not enabled)", run->id,
	    run->nfound, disabled);
}

static void
run_begin_scenario(struct run *run)
{
	run_set_state(run, RUN_RUNNING);
	log_debug("run %s: %s for account %s in %zu regions", run->id,
	    run->def->name, run->account, run->nregions);
	run->def->start(run);
}

static void
run_discovered(struct run *run, void *arg)
{
	size_t	 i;

	if (run->discovery_failed) {
		run_finish(run);
		return;
	}
	run_set_regions(run, run->found, run->nfound, 1);
	/* A region asked for by name that is not enabled: say so. */
	for (i = 0; run->include != NULL && run->include[i] != NULL; i++) {
		if (strpbrk(run->include[i], "*?[") != NULL)
			continue;
		if (!strv_has(run->found, run->include[i]))
			run_note(run, run->include[i], "not an enabled region "
			    "of this account: skipped");
	}
	if (run->nregions == 0) {
		run_error(run, NULL, "no enabled region left after the "
		    "region filters");
		run_finish(run);
		return;
	}
	run_begin_scenario(run);
}

static void
run_start_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct run		*run = arg;
	struct run_group	*g;
	struct aws_request	*req;
	size_t			 n = 0;

	if (run->state != RUN_STARTING)
		return;
	if (run->def->needs_regions && run->explicit == NULL) {
		run_set_state(run, RUN_DISCOVERING);
		g = run_group_new(run, run_discovered, NULL);
		req = run_request(run, "ec2", "DescribeRegions",
		    run->home_region, AWS_SAFE_READ_ONLY);
		req->role = AWS_ROLE_CONTEXT;
		aws_request_add(req, "AllRegions", "false");
		run_group_call(g, req, run_regions_cb, NULL);
		run_group_close(g);
		return;
	}
	if (run->explicit != NULL) {
		while (run->explicit[n] != NULL)
			n++;
		run_set_regions(run, run->explicit, n, 0);
		if (run->nregions == 0 && run->def->needs_regions) {
			run_error(run, NULL, "no region left after the "
			    "exclude filter");
			run_finish(run);
			return;
		}
	}
	run_begin_scenario(run);
}

/* ---- the done hook ----------------------------------------------------- */

static void
run_done_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct run	*run = arg;
	int		 halted = run->state == RUN_HALTED;

	log_debug("run %s (%s) %s: %zu calls, %zu expectations", run->id,
	    run->def->name, halted ? "halted" : "finished", run->ncalls,
	    run->nexpects);
	/* Last thing: the owner may free the run. */
	if (run->hooks.done != NULL)
		run->hooks.done(run, halted, run->hooks.arg);
}

/* ---- pending calls ------------------------------------------------------- */

static void
run_pending_free(struct run_pending *p)
{
	if (p == NULL)
		return;
	pager_clear(&p->pager);
	aws_request_free(p->tmpl);
	free(p->in_token);
	free(p->out_token);
	free(p->detail);
	free(p->region);
	free(p->service);
	free(p->action);
	free(p);
}

static void
run_drop_pending(struct run *run, const char *why)
{
	struct run_pending	*p;
	struct run_timer	*t;

	while ((p = TAILQ_FIRST(&run->pending)) != NULL) {
		TAILQ_REMOVE(&run->pending, p, entry);
		aws_call_cancel(p->call);
		p->call = NULL;
		run_record_skip(run, p->service, p->action, p->region,
		    p->detail, p->safety, p->seq, 0, why);
		run_pending_free(p);
	}
	while ((t = TAILQ_FIRST(&run->timers)) != NULL) {
		TAILQ_REMOVE(&run->timers, t, entry);
		event_free(t->ev);
		free(t);
	}
}

static void
run_groups_free(struct run *run)
{
	struct run_group	*g;

	while ((g = TAILQ_FIRST(&run->groups)) != NULL) {
		TAILQ_REMOVE(&run->groups, g, entry);
		event_free(g->ev);
		free(g);
	}
}

static void
run_record_result(struct run *run, struct run_pending *p,
    const struct aws_request *req, const struct aws_result *res, int expected)
{
	struct run_call_rec	*r;
	char			*note = NULL;

	r = run_rec_new(run, p->service, p->action, p->region, p->detail,
	    p->seq);
	r->pub.safety = p->safety;
	r->pub.aws_outcome = res->outcome;
	r->pub.outcome = run_call_outcome_of(res->outcome);
	r->pub.status = res->status;
	r->error_code = xstrdup_or_null(res->error_code);
	r->error_message = xstrdup_or_null(res->error_message);
	r->request_id = xstrdup_or_null(res->request_id);
	r->pub.error_code = r->error_code;
	r->pub.error_message = r->error_message;
	r->pub.request_id = r->request_id;
	r->pub.fired_at = res->fired_at;
	if (res->done_at > 0 && res->fired_at > 0)
		r->pub.elapsed_s = res->done_at - res->fired_at;
	r->pub.expected = expected;

	switch (res->outcome) {
	case AWS_REGION_OFF:
		note = xstrdup("region not enabled");
		r->pub.intended = 1;
		break;
	case AWS_REFUSED:
		note = xprintf("%s", res->error_message ? res->error_message :
		    "refused by the safety guard");
		break;
	case AWS_UNSAFE:
		note = xstrdup("SAFETY: DryRun ignored by the endpoint; "
		    "run halted");
		break;
	case AWS_OK:
		if (p->safety == AWS_SAFE_FAIL) {
			/* Nothing can exist under the run ID, yet it
			 * answered 2xx: not what the scenario intends. */
			r->pub.outcome = RUN_ERROR;
			note = xprintf("answered HTTP %ld where %s was "
			    "expected: the endpoint did not check that the "
			    "target exists", res->status, req->expect_error ?
			    req->expect_error : "a not-found error");
		} else
			r->pub.intended = 1;
		break;
	case AWS_PERMITTED:
		r->pub.intended = 1;
		break;
	case AWS_RETRYABLE:
		if (res->status == 0 && res->http_error != HTTP_OK)
			note = xprintf("%s after %d attempts",
			    http_error_name(res->http_error), res->attempts);
		else
			note = xprintf("HTTP %ld after %d attempts",
			    res->status, res->attempts);
		break;
	default:
		break;
	}
	r->note = note;
	r->pub.note = note;
	run_rec_add(run, r);
}

/* Start the next page if there is one; takes over p's pagination state. */
static void
run_next_page(struct run *run, struct run_pending *p,
    const struct aws_result *res)
{
	struct aws_request	*nreq;
	const char		*token;
	struct pager		 pg;

	if (res->outcome != AWS_OK || res->data == NULL)
		return;
	switch (pager_next(&p->pager, pager_token_of(res->data,
	    p->out_token))) {
	case PAGER_DONE:
		return;
	case PAGER_REPEAT:
		run_error(run, p->region, "%s:%s: the same pagination token "
		    "came back twice: listing incomplete", p->service,
		    p->action);
		return;
	case PAGER_CAPPED:
		run_error(run, p->region, "%s:%s: more than %d pages: listing "
		    "incomplete", p->service, p->action, RUN_MAX_PAGES);
		return;
	case PAGER_MORE:
		break;
	}
	token = pager_token(&p->pager);
	nreq = aws_request_dup(p->tmpl);
	if (nreq->svc->protocol == AWS_PROTO_EC2 ||
	    nreq->svc->protocol == AWS_PROTO_QUERY)
		aws_request_add(nreq, p->in_token, "%s", token);
	else
		aws_request_set_str(nreq, p->in_token, token);
	pager_move(&pg, &p->pager);
	run_send(p->group, nreq, p->detail, p->cb, p->arg, p->tmpl,
	    p->in_token, p->out_token, &pg);
	p->tmpl = NULL;
}

static void
run_call_done(const struct aws_request *req, struct aws_result *res,
    void *arg)
{
	struct run_pending	*p = arg;
	struct run		*run = p->run;
	struct run_group	*g = p->group;
	struct expectation	*e;
	int			 expected = 0;

	p->call = NULL;
	TAILQ_REMOVE(&run->pending, p, entry);

	if ((e = expectation_for(req, res)) != NULL) {
		e->scenario = xstrdup(run->def->name);
		e->account = xstrdup(run->account);
		e->account_id = xstrdup_or_null(run->account_id);
		run->expects = xreallocarray(run->expects, run->nexpects + 1,
		    sizeof(*run->expects));
		run->expects[run->nexpects++] = e;
		expected = 1;
		if (run->hooks.expect != NULL)
			run->hooks.expect(run, e, run->hooks.arg);
	}
	if (res->outcome == AWS_REGION_OFF)
		run_mark_off(run, req->region, res->error_code);

	if (res->outcome == AWS_UNSAFE) {
		log_crit("SAFETY: run %s (%s): %s:%s in %s was sent with "
		    "DryRun=true and answered HTTP %ld: halting the run",
		    run->id, run->def->name, req->svc->id, req->action,
		    req->region, res->status);
		run_record_result(run, p, req, res, expected);
		run_pending_free(p);
		run_abort(run, "safety: an endpoint ignored DryRun");
		return;
	}

	if (p->cb != NULL)
		p->cb(run, req, res, p->arg);
	/* The callback may have finished or halted the run (groups gone). */
	if (run->state == RUN_RUNNING || run->state == RUN_DISCOVERING) {
		if (p->tmpl != NULL)
			run_next_page(run, p, res);
	} else {
		run_record_result(run, p, req, res, expected);
		run_pending_free(p);
		return;
	}
	run_record_result(run, p, req, res, expected);
	run_pending_free(p);
	g->pending--;
	run_group_check(g);
}

static void
run_send(struct run_group *g, struct aws_request *req, const char *detail,
    run_result_cb cb, void *arg, struct aws_request *tmpl,
    const char *in_token, const char *out_token, struct pager *pg)
{
	struct run		*run = g->run;
	struct run_pending	*p;
	unsigned		 seq = run->seq++;
	char			*step;

	req->call_seq = seq;	/* the call marker: run/<id>/<seq>/<attempt> */

	if (run_finished(run)) {
		run_record_skip(run, req->svc->id, req->action, req->region,
		    detail, req->safety, seq, 0, run->state == RUN_HALTED ?
		    "run halted" : "run already finished");
		aws_request_free(req);
		aws_request_free(tmpl);
		pager_clear(pg);
		return;
	}
	if (run_region_off(run, req->region)) {
		run_record_skip(run, req->svc->id, req->action, req->region,
		    detail, req->safety, seq, 1, "region not enabled");
		aws_request_free(req);
		aws_request_free(tmpl);
		pager_clear(pg);
		run_group_check(g);
		return;
	}
	if (req->safety == AWS_SAFE_LIVE && !run->allow_live) {
		log_warnx("run %s: %s:%s in %s refused: live calls are not "
		    "enabled for this run", run->id, req->svc->id,
		    req->action, req->region);
		run_record_skip(run, req->svc->id, req->action, req->region,
		    detail, req->safety, seq, 0, "refused: live calls are not "
		    "enabled for this run");
		aws_request_free(req);
		aws_request_free(tmpl);
		pager_clear(pg);
		run_group_check(g);
		return;
	}

	p = xcalloc(1, sizeof(*p));
	p->run = run;
	p->group = g;
	p->cb = cb;
	p->arg = arg;
	p->seq = seq;
	p->detail = xstrdup_or_null(detail);
	p->region = xstrdup(req->region);
	p->service = xstrdup(req->svc->id);
	p->action = xstrdup(req->action);
	p->safety = req->safety;
	p->tmpl = tmpl;
	p->in_token = xstrdup_or_null(in_token);
	p->out_token = xstrdup_or_null(out_token);
	if (pg != NULL)
		pager_move(&p->pager, pg);
	else
		pager_init(&p->pager, RUN_MAX_PAGES);
	g->pending++;
	TAILQ_INSERT_TAIL(&run->pending, p, entry);

	step = xprintf("%s:%s", req->svc->id, req->action);
	run_progress(run, req->region, step);
	free(step);
	/* The client calls back from the loop, never from here. */
	p->call = aws_client_send(run->client, run->creds, req, run_call_done,
	    p);
}

/* ---- groups ------------------------------------------------------------- */

static void
run_group_fire(evutil_socket_t fd, short ev, void *arg)
{
	struct run_group	*g = arg;
	struct run		*run = g->run;

	TAILQ_REMOVE(&run->groups, g, entry);
	event_free(g->ev);
	if (g->done != NULL)
		g->done(run, g->arg);
	free(g);
}

static void
run_group_check(struct run_group *g)
{
	if (g->closed && g->pending == 0 && !g->scheduled) {
		g->scheduled = 1;
		run_schedule(g->run, g->ev);
	}
}

struct run_group *
run_group_new(struct run *run, run_group_cb done, void *arg)
{
	struct run_group	*g;

	g = xcalloc(1, sizeof(*g));
	g->run = run;
	g->done = done;
	g->arg = arg;
	g->ev = evtimer_new(run->base, run_group_fire, g);
	TAILQ_INSERT_TAIL(&run->groups, g, entry);
	return g;
}

void
run_group_call(struct run_group *g, struct aws_request *req,
    run_result_cb cb, void *arg)
{
	run_send(g, req, NULL, cb, arg, NULL, NULL, NULL, NULL);
}

void
run_group_call_detail(struct run_group *g, struct aws_request *req,
    const char *detail, run_result_cb cb, void *arg)
{
	run_send(g, req, detail, cb, arg, NULL, NULL, NULL, NULL);
}

void
run_group_paginate(struct run_group *g, struct aws_request *req,
    const char *in_token, const char *out_token, run_result_cb page_cb,
    void *arg)
{
	struct aws_request	*tmpl = aws_request_dup(req);

	run_send(g, req, NULL, page_cb, arg, tmpl, in_token, out_token,
	    NULL);
}

static void
run_timer_fire(evutil_socket_t fd, short ev, void *arg)
{
	struct run_timer	*t = arg;
	struct run_group	*g = t->group;
	struct run		*run = g->run;

	TAILQ_REMOVE(&run->timers, t, entry);
	event_free(t->ev);
	if (t->cb != NULL)
		t->cb(run, t->arg);
	free(t);
	if (run_finished(run))
		return;
	g->pending--;
	run_group_check(g);
}

void
run_group_after(struct run_group *g, double seconds, run_timer_cb cb,
    void *arg)
{
	struct run		*run = g->run;
	struct run_timer	*t;
	struct timeval		 tv;

	if (run_finished(run))
		return;
	if (seconds < 0)
		seconds = 0;
	t = xcalloc(1, sizeof(*t));
	t->group = g;
	t->cb = cb;
	t->arg = arg;
	t->ev = evtimer_new(run->base, run_timer_fire, t);
	TAILQ_INSERT_TAIL(&run->timers, t, entry);
	g->pending++;
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(t->ev, &tv);
}

void
run_group_hold(struct run_group *g)
{
	g->pending++;
}

void
run_group_release(struct run_group *g)
{
	if (g->pending <= 0)
		fatalx("%s: group released more often than held", __func__);
	g->pending--;
	if (!run_finished(g->run))
		run_group_check(g);
}

void
run_group_close(struct run_group *g)
{
	g->closed = 1;
	if (!run_finished(g->run))
		run_group_check(g);
}

/* ---- requests ------------------------------------------------------------ */

struct aws_request *
run_request(struct run *run, const char *service, const char *action,
    const char *region, enum aws_safety safety)
{
	const struct aws_service	*svc;
	struct aws_request		*req;

	if ((svc = aws_service_find(service)) == NULL)
		fatalx("%s: unknown service %s", __func__, service);
	req = aws_request_new(svc, action, region);
	req->safety = safety;
	free(req->run_id);
	req->run_id = xstrdup(run->id);
	return req;
}

/* ---- life cycle ------------------------------------------------------------ */

static const char *
run_default_region(void)
{
	const char	*r;

	if ((r = getenv("AWS_REGION")) != NULL && *r != '\0')
		return r;
	if ((r = getenv("AWS_DEFAULT_REGION")) != NULL && *r != '\0')
		return r;
	return "us-east-1";
}

struct run *
run_start(const struct scenario_def *def, const struct run_opts *opts,
    const struct run_hooks *hooks)
{
	struct run	*run;

	if (opts->base == NULL || opts->client == NULL)
		fatalx("%s: run_opts needs base and client", __func__);
	if (def->start == NULL)
		fatalx("%s: scenario %s has no start", __func__, def->name);

	run = xcalloc(1, sizeof(*run));
	run->def = def;
	run->state = RUN_STARTING;
	if (hooks != NULL)
		run->hooks = *hooks;
	run->base = opts->base;
	run->client = opts->client;
	run->creds = opts->creds;
	run->custom = opts->custom;
	run->settings = opts->settings;
	run->allow_live = opts->allow_live;
	if (opts->run_id != NULL)
		snprintf(run->id, sizeof(run->id), "%s", opts->run_id);
	else
		random_id128(run->id);
	run->account = xstrdup(opts->account ? opts->account : "default");
	run->home_region = xstrdup(opts->home_region ? opts->home_region :
	    run_default_region());
	run->include = strv_dup(opts->include);
	run->exclude = strv_dup(opts->exclude);
	run->explicit = strv_dup(opts->regions);
	run->regions = xcalloc(1, sizeof(*run->regions));
	run->started_at = now_real();
	if (def->state_size > 0)
		run->state_mem = xcalloc(1, def->state_size);
	TAILQ_INIT(&run->pending);
	TAILQ_INIT(&run->groups);
	TAILQ_INIT(&run->timers);
	run->start_ev = evtimer_new(run->base, run_start_cb, run);
	run->done_ev = evtimer_new(run->base, run_done_cb, run);
	log_debug("run %s: %s for account %s starting", run->id, def->name,
	    run->account);
	run_schedule(run, run->start_ev);
	return run;
}

void
run_finish(struct run *run)
{
	if (run->state == RUN_FINISHED || run->state == RUN_HALTED)
		return;
	if (!TAILQ_EMPTY(&run->pending) || !TAILQ_EMPTY(&run->timers)) {
		log_warnx("run %s (%s): finished with calls pending: dropped",
		    run->id, run->def->name);
		run_drop_pending(run, "scenario finished first");
	}
	run_set_state(run, RUN_FINISHED);
	run_groups_free(run);
	run_schedule(run, run->done_ev);
}

void
run_abort(struct run *run, const char *why)
{
	if (run->state == RUN_FINISHED || run->state == RUN_HALTED)
		return;
	run_set_state(run, RUN_HALTED);
	free(run->halt_why);
	run->halt_why = xstrdup(why ? why : "aborted");
	log_notice("run %s (%s) halted: %s", run->id, run->def->name,
	    run->halt_why);
	run_error(run, NULL, "halted: %s", run->halt_why);
	event_del(run->start_ev);
	run_drop_pending(run, "run halted");
	run_groups_free(run);
	run_schedule(run, run->done_ev);
}

void
run_free(struct run *run)
{
	size_t	 i;

	if (run == NULL)
		return;
	while (!TAILQ_EMPTY(&run->pending)) {
		struct run_pending *p = TAILQ_FIRST(&run->pending);

		TAILQ_REMOVE(&run->pending, p, entry);
		aws_call_cancel(p->call);
		run_pending_free(p);
	}
	run_drop_pending(run, NULL);
	run_groups_free(run);
	if (run->def->cleanup != NULL && run->state_mem != NULL)
		run->def->cleanup(run);
	free(run->state_mem);
	if (run->start_ev != NULL)
		event_free(run->start_ev);
	if (run->done_ev != NULL)
		event_free(run->done_ev);
	for (i = 0; i < run->ncalls; i++)
		run_rec_free(run->calls[i]);
	free(run->calls);
	free(run->pubs);
	for (i = 0; i < run->nexpects; i++)
		expectation_free(run->expects[i]);
	free(run->expects);
	for (i = 0; i < run->nnotes; i++) {
		free((char *)run->notes[i].region);
		free((char *)run->notes[i].msg);
	}
	free(run->notes);
	strv_free(run->off);
	strv_free(run->regions);
	strv_free(run->found);
	strv_free(run->include);
	strv_free(run->exclude);
	strv_free(run->explicit);
	free(run->account);
	free(run->account_id);
	free(run->home_region);
	free(run->halt_why);
	free(run);
}

/* ---- accessors ---------------------------------------------------------- */

const char *
run_id(const struct run *run)
{
	return run->id;
}

const char *
run_scenario(const struct run *run)
{
	return run->def->name;
}

const char *
run_account(const struct run *run)
{
	return run->account;
}

const char *
run_account_id(const struct run *run)
{
	return run->account_id;
}

void
run_set_account_id(struct run *run, const char *id)
{
	free(run->account_id);
	run->account_id = xstrdup_or_null(id);
}

const char *
run_home_region(const struct run *run)
{
	return run->home_region;
}

const char *const *
run_regions(const struct run *run)
{
	return (const char *const *)run->regions;
}

size_t
run_nregions(const struct run *run)
{
	return run->nregions;
}

void *
run_state(struct run *run)
{
	return run->state_mem;
}

json_t *
run_settings(const struct run *run)
{
	return run->settings;
}

const struct custom_scenario *
run_custom(const struct run *run)
{
	return run->custom;
}

int
run_allow_live(const struct run *run)
{
	return run->allow_live;
}

int
run_halted(const struct run *run)
{
	return run->state == RUN_HALTED;
}

int
run_finished(const struct run *run)
{
	return run->state == RUN_FINISHED || run->state == RUN_HALTED;
}

double
run_started_at(const struct run *run)
{
	return run->started_at;
}

const struct run_call *const *
run_calls(const struct run *run, size_t *n)
{
	*n = run->ncalls;
	return run->pubs;
}

const struct expectation *const *
run_expectations(const struct run *run, size_t *n)
{
	*n = run->nexpects;
	return (const struct expectation *const *)run->expects;
}

const struct run_note *
run_notes(const struct run *run, size_t *n)
{
	*n = run->nnotes;
	return run->notes;
}

void
run_summarize(const struct run *run, struct run_summary *s)
{
	size_t	 i;
	int	 ok = 1;

	memset(s, 0, sizeof(*s));
	s->calls = run->ncalls;
	for (i = 0; i < run->ncalls; i++) {
		switch (run->calls[i]->pub.outcome) {
		case RUN_PERMITTED:
			s->permitted++;
			break;
		case RUN_DENIED:
			s->denied++;
			break;
		case RUN_SKIPPED:
			s->skipped++;
			break;
		case RUN_ERROR:
			s->errors++;
			break;
		}
		if (!run->calls[i]->pub.intended)
			ok = 0;
	}
	for (i = 0; i < run->nnotes; i++)
		if (run->notes[i].error)
			s->failures++;
	s->expectations = run->nexpects;
	s->findings = run->nfindings;
	s->halted = run->state == RUN_HALTED;
	s->ok = ok && s->failures == 0 && !s->halted;
}

char **
run_failed_regions(const struct run *run)
{
	char		**v = strv_new();
	size_t		  n = 0, i;
	const char	 *r;

	for (i = 0; i < run->ncalls + run->nnotes; i++) {
		if (i < run->ncalls) {
			if (run->calls[i]->pub.intended)
				continue;
			r = run->calls[i]->region;
		} else {
			if (!run->notes[i - run->ncalls].error)
				continue;
			r = run->notes[i - run->ncalls].region;
		}
		if (r != NULL && strv_add_unique(&v, r))
			n++;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_str);
	return v;
}
