/*
 * pipeline: run -> expectations -> ledger -> verifier -> coverage -> report
 * (pipeline.h): runs, credentials per account and configuration lifetimes.
 * An organisation's fan-out is in pipeline_org.c; what the two share is in
 * pipeline_int.h.
 */
#include <sys/queue.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "client.h"
#include "config.h"
#include "coverage.h"
#include "creds.h"
#include "custom.h"
#include "history.h"
#include "http.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "msgid.h"
#include "org.h"
#include "pipeline.h"
#include "pipeline_int.h"
#include "report.h"
#include "scenario.h"
#include "util.h"
#include "verify.h"
#include "xmalloc.h"

/*
 * GuardDuty for a run that is complete (every row reported, ended): not
 * asked yet, being asked (its summary is held), answered or not asked at
 * all (switch off, no rows, coverage draining).
 */
enum pipeline_gd {
	PIPELINE_GD_NONE,
	PIPELINE_GD_ASKED,
	PIPELINE_GD_DONE
};

struct pipeline_run {
	TAILQ_ENTRY(pipeline_run) entry;
	struct pipeline		*p;
	struct cfgref		*cfgref;
	struct run		*run;
	char			 run_id[33];
	char			*scenario;
	char			*account;
	char			*entry_name;
	json_t			*settings;
	struct creds_provider	*own_creds;	/* per-run AssumeRole */
	struct config_account	*member;	/* a discovered account */
	struct ledger_run	*lrun;
	int			 verify_after_run;
	int			 no_verify;
	struct expectation	**held;		/* verify_after_run */
	size_t			 nheld;
	int			 ran;
	int			 halted;
	enum pipeline_gd	 gd;		/* GuardDuty, once complete */
	void			*userdata;
};

/* How often finished runs are dropped from the state directory. */
#define PIPELINE_PRUNE_EVERY	600.0

static void	 pipeline_run_release(struct pipeline_run *);

/* ---- configuration and credentials ------------------------------------- */

static void
pipeline_cfg_unref(struct pipeline *p, struct cfgref *r)
{
	if (--r->refs > 0)
		return;
	TAILQ_REMOVE(&p->cfgs, r, entry);
	config_free(r->cfg);
	free(r);
}

/* The one mapping from configuration and one-shot options to the verifier. */
static void
pipeline_verify_from_config(struct verify_params *vp, const struct config *c,
    const struct pipeline_opts *o)
{
	verify_params_default(vp);
	vp->initial_delay = c->verify.initial_delay;
	vp->interval = c->verify.interval;
	vp->deadline = c->verify.deadline;
	vp->lookup_rate = c->verify.lookup_rate;
	vp->skew = c->verify.skew;
	if (o->verify_interval > 0)
		vp->interval = o->verify_interval;
	if (o->verify_timeout > 0)
		vp->deadline = o->verify_timeout;
	if (vp->interval > vp->deadline)
		vp->interval = vp->deadline;
	vp->fail_fast = o->verify_fail_fast;
	vp->grace = 0;		/* derived from the interval */
	verify_params_resolve(vp);
}

static void
pipeline_coverage_from_config(struct coverage_params *cp,
    const struct config *c)
{
	coverage_params_default(cp);
	cp->eventbridge = c->coverage.eventbridge;
	cp->guardduty = c->coverage.guardduty;
	cp->metric_filters = c->coverage.metric_filters;
	coverage_params_resolve(cp);
}

/* The history's parameters and known gaps; the acks point into cfg. */
static void
pipeline_history_from_config(struct pipeline *p, const struct config *c)
{
	size_t	 i;

	history_params_default(&p->hp);
	p->hp.window = c->history.regression_window;
	p->hp.retention = c->history.retention;
	p->keep_runs = c->history.keep_runs;
	free(p->acks);
	p->acks = xcalloc(c->nknown_gaps > 0 ? c->nknown_gaps : 1,
	    sizeof(*p->acks));
	for (i = 0; i < c->nknown_gaps; i++) {
		p->acks[i].account = c->known_gaps[i].account;
		p->acks[i].region = c->known_gaps[i].region;
		p->acks[i].event_source = c->known_gaps[i].event_source;
		p->acks[i].event_name = c->known_gaps[i].event_name;
		p->acks[i].alert = c->known_gaps[i].alert;
		p->acks[i].reason = c->known_gaps[i].reason;
		p->acks[i].expires = c->known_gaps[i].expires;
	}
	p->hp.acks = p->acks;
	p->hp.nacks = c->nknown_gaps;
	if (p->rp != NULL)
		report_set_history(p->rp, &p->hp);
}

static void
pipeline_creds_ctx(struct pipeline *p, struct creds_ctx *ctx,
    const char *session_name)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->base = p->base;
	ctx->http = p->http;
	ctx->sts = aws_client_sts(p->client);
	ctx->session_name = session_name;
}

static const char *
pipeline_home_region(void)
{
	const char	*r;

	if ((r = getenv("AWS_REGION")) != NULL && *r != '\0')
		return r;
	if ((r = getenv("AWS_DEFAULT_REGION")) != NULL && *r != '\0')
		return r;
	return "us-east-1";
}

/*
 * Credentials for an account: the ambient chain, with an AssumeRole on
 * top for role accounts under session_name.  A discovered member of an
 * organisation (parent: the organisation account) assumes its role on
 * top of the organisation account's credentials (its own role first, if
 * it has one: role chaining, which STS limits to one-hour sessions).
 */
static struct creds_provider *
pipeline_make_creds_via(struct pipeline *p, const struct config *cfg,
    const struct config_account *a, const struct config_account *parent,
    const char *session_name)
{
	struct creds_ctx	 ctx;
	struct creds_provider	*base;
	const char		*profile;
	double			 duration;

	profile = p->profile != NULL ? p->profile : cfg->aws.profile;
	pipeline_creds_ctx(p, &ctx, session_name);
	base = creds_default_chain(&ctx, profile);
	if (a == NULL || a->role_arn == NULL)
		return base;
	duration = a->session_duration;
	if (parent != NULL && parent->role_arn != NULL) {
		base = creds_assume_role(&ctx, base, parent->role_arn,
		    parent->external_id, session_name,
		    (int)(parent->session_duration < 3600 ?
		    parent->session_duration : 3600), pipeline_home_region());
		if (duration > 3600)
			duration = 3600;
	}
	return creds_assume_role(&ctx, base, a->role_arn, a->external_id,
	    session_name, (int)duration, pipeline_home_region());
}

static struct creds_provider *
pipeline_make_creds(struct pipeline *p, const struct config *cfg,
    const struct config_account *a, const char *session_name)
{
	return pipeline_make_creds_via(p, cfg, a, NULL, session_name);
}

static void
pipeline_accounts_build(struct pipeline *p)
{
	const struct config	*cfg = p->cur->cfg;
	size_t			 i;

	for (i = 0; i < p->naccts; i++) {
		p->retired = xreallocarray(p->retired, p->nretired + 1,
		    sizeof(*p->retired));
		p->retired[p->nretired++] = p->accts[i].provider;
		free(p->accts[i].name);
	}
	free(p->accts);
	p->naccts = cfg->naccounts;
	p->accts = xcalloc(p->naccts > 0 ? p->naccts : 1, sizeof(*p->accts));
	for (i = 0; i < cfg->naccounts; i++) {
		p->accts[i].name = xstrdup(cfg->accounts[i].name);
		p->accts[i].provider = pipeline_make_creds(p, cfg,
		    &cfg->accounts[i], "cloudsagad-verify");
	}
}

struct creds_provider *
pipeline_account_provider(struct pipeline *p, const char *name)
{
	const struct config		*cfg = p->cur->cfg;
	const struct config_account	*parent;
	struct config_account		*m;
	size_t				 i;

	for (i = 0; i < p->naccts; i++)
		if (strcmp(p->accts[i].name, name) == 0)
			return p->accts[i].provider;
	/* A discovered member "ORG/ID" (also one resumed after a restart):
	 * its long-lived provider is made on first use. */
	if ((m = org_member_account(cfg, name, &parent)) == NULL)
		return NULL;
	p->accts = xreallocarray(p->accts, p->naccts + 1, sizeof(*p->accts));
	p->accts[p->naccts].name = xstrdup(name);
	p->accts[p->naccts].provider = pipeline_make_creds_via(p, cfg, m,
	    parent, "cloudsagad-verify");
	org_member_free(m);
	return p->accts[p->naccts++].provider;
}

static struct creds_provider *
pipeline_verify_creds(const char *account, void *arg)
{
	struct pipeline	*p = arg;

	return pipeline_account_provider(p, account);
}

void
pipeline_set_config(struct pipeline *p, struct config *cfg)
{
	struct cfgref	*r, *old = p->cur;

	r = xcalloc(1, sizeof(*r));
	r->cfg = cfg;
	r->refs = 1;			/* the pipeline's */
	TAILQ_INSERT_TAIL(&p->cfgs, r, entry);
	p->cur = r;
	if (old != NULL)
		pipeline_cfg_unref(p, old);
	pipeline_accounts_build(p);
	pipeline_verify_from_config(&p->vp, cfg, &p->opts);
	if (p->v != NULL)
		verifier_set_params(p->v, &p->vp);
	pipeline_coverage_from_config(&p->cp, cfg);
	if (p->cov != NULL)
		coverage_set_params(p->cov, &p->cp);
	pipeline_history_from_config(p, cfg);
	if (p->metrics != NULL)
		metrics_set_config(p->metrics, cfg);
}

struct config *
pipeline_config(const struct pipeline *p)
{
	return p->cur->cfg;
}

void
pipeline_set_verify(struct pipeline *p, const struct verify_params *vp)
{
	p->vp = *vp;
	verify_params_resolve(&p->vp);
	verifier_set_params(p->v, &p->vp);
}

const struct verify_params *
pipeline_verify_params(const struct pipeline *p)
{
	return &p->vp;
}

const struct scenario_def *
pipeline_scenario_find(struct custom_scenario *const *custom,
    const char *name, const struct custom_scenario **csp)
{
	const struct scenario_def	*def;
	const struct custom_scenario	*cs = NULL;

	if ((def = scenario_find(name)) == NULL &&
	    (cs = custom_find(custom, name)) != NULL)
		def = custom_def(cs);
	if (csp != NULL)
		*csp = cs;
	return def;
}

const struct config_account *
pipeline_account_find(const struct config *cfg, const char *name)
{
	if (name == NULL) {
		if (cfg->naccounts == 0)
			return NULL;
		name = cfg->accounts[0].name;
	}
	return config_account_find(cfg, name);
}

struct ledger *
pipeline_ledger(struct pipeline *p)
{
	return p->ledger;
}

/* ---- verdicts ------------------------------------------------------------ */

static void
pipeline_count(struct pipeline *p, const struct ledger_entry *e)
{
	switch (e->verdict) {
	case VERDICT_LOGGED:
		p->stats.logged++;
		break;
	case VERDICT_MISSING:
		p->stats.missing++;
		break;
	case VERDICT_UNVERIFIED:
		p->stats.unverified++;
		break;
	case VERDICT_PENDING:
		break;
	}
	if (e->coverage == COVERAGE_COVERED)
		p->stats.covered++;
	else if (e->coverage == COVERAGE_UNCOVERED)
		p->stats.uncovered++;
}

static void
pipeline_report(struct pipeline *p, struct ledger_entry **rows, size_t n)
{
	char	*cause = NULL;
	size_t	 i;

	if (report_verdicts(p->rp, rows, n, &cause) == -1) {
		log_warnx("reporting %zu verdicts: %s (will retry)", n, cause);
		free(cause);
		return;
	}
	for (i = 0; i < n; i++) {
		pipeline_count(p, rows[i]);
		if (p->hooks.verdict != NULL)
			p->hooks.verdict(rows[i], p->hooks.arg);
	}
	metrics_touch(p->metrics);
}

static void
pipeline_covered(struct ledger_entry **rows, size_t n, void *arg)
{
	pipeline_report(arg, rows, n);
}

/* The verifier decided rows: alert coverage of the logged ones, then the
 * report. */
static void
pipeline_verdicts(struct ledger_entry **rows, size_t n, void *arg)
{
	struct pipeline	*p = arg;

	if (p->cov != NULL && coverage_enabled(p->cov))
		coverage_check_rows(p->cov, pipeline_verify_creds, p, rows, n,
		    pipeline_covered, p);
	else
		pipeline_report(p, rows, n);
}

static void
pipeline_lookup(const char *account, const char *region, int throttled,
    void *arg)
{
	struct pipeline	*p = arg;

	metrics_lookup(p->metrics, account, region, throttled);
}

static struct pipeline_run *
pipeline_find_run(struct pipeline *p, const char *run_id)
{
	struct pipeline_run	*pr;

	TAILQ_FOREACH(pr, &p->runs, entry)
		if (strcmp(pr->run_id, run_id) == 0)
			return pr;
	return NULL;
}

/*
 * GuardDuty answered (findings, or regions that could not be checked):
 * its records, then the run's summary it held.
 */
static void
pipeline_guardduty_done(const struct coverage_gd_report *rep, void *arg)
{
	struct pipeline		*p = arg;
	struct pipeline_run	*pr;
	char			*cause = NULL;

	report_guardduty(p->rp, rep);
	if ((pr = pipeline_find_run(p, rep->run_id)) == NULL ||
	    pr->gd != PIPELINE_GD_ASKED)
		return;		/* one-shot: asked after the summary */
	pr->gd = PIPELINE_GD_DONE;
	if (report_flush(p->rp, &cause) == -1) {
		log_warnx("report: %s", cause);
		free(cause);
	}
}

/*
 * Ask GuardDuty for the findings since a complete run started (its rows'
 * regions, the account's long-lived credentials); 1 when asked (the
 * answer comes to pipeline_guardduty_done), 0 when there is nothing to
 * ask.  Each run is asked once.  Bounded by coverage's own limits: every
 * request has the HTTP timeout and the client's retries, every listing at
 * most coverage's max_pages.
 */
static int
pipeline_guardduty_ask(struct pipeline *p, struct pipeline_run *pr,
    const struct ledger_run *lr)
{
	pr->gd = PIPELINE_GD_DONE;
	if (!p->cp.guardduty || lr->nentries == 0)
		return 0;
	if (coverage_guardduty(p->cov, pipeline_account_provider(p,
	    lr->account), lr, NULL, 0, lr->started, pipeline_guardduty_done,
	    p) == -1)
		return 0;
	pr->gd = PIPELINE_GD_ASKED;
	return 1;
}

/*
 * The reporter's summary gate (a pipeline with a state directory: the
 * daemon): a run of this process that is complete gets its GuardDuty
 * check first, and its summary only once the check has answered.  Runs
 * resumed from the state, runs without rows and GuardDuty off: at once.
 */
static int
pipeline_summary_gate(const struct ledger_run *lr, void *arg)
{
	struct pipeline		*p = arg;
	struct pipeline_run	*pr;

	if ((pr = pipeline_find_run(p, lr->run_id)) == NULL || !pr->ran)
		return 1;
	switch (pr->gd) {
	case PIPELINE_GD_NONE:
		return !pipeline_guardduty_ask(p, pr, lr);
	case PIPELINE_GD_ASKED:
		return 0;
	case PIPELINE_GD_DONE:
		break;
	}
	return 1;
}

/* Every row of a run reported, and its summary: the run is over. */
static void
pipeline_summary(const struct ledger_run *lr, void *arg)
{
	struct pipeline		*p = arg;
	struct pipeline_run	*pr;

	metrics_touch(p->metrics);
	if ((pr = pipeline_find_run(p, lr->run_id)) == NULL) {
		/* A run of the previous process, resumed from the state. */
		if (p->hooks.resumed_verified != NULL)
			p->hooks.resumed_verified(lr, p->hooks.arg);
		return;
	}
	if (!pr->ran)
		return;
	/* One-shot (no summary gate): GuardDuty is asked after the summary,
	 * and the CLI does not wait for it. */
	if (pr->gd == PIPELINE_GD_NONE)
		(void)pipeline_guardduty_ask(p, pr, lr);
	if (p->hooks.verified != NULL)
		p->hooks.verified(pr, lr, p->hooks.arg);
	pipeline_run_release(pr);
}

/* ---- runs ------------------------------------------------------------------ */

static void
pipeline_hook_call(struct run *run, const struct run_call *c, void *arg)
{
	struct pipeline_run	*pr = arg;
	struct pipeline		*p = pr->p;

	ledger_run_call(pr->lrun, c->outcome);
	if (c->aws_outcome == AWS_UNSAFE)
		report_safety(p->rp, pr->run_id, pr->scenario, pr->account,
		    c->region, c->service, c->action, "the endpoint ignored "
		    "DryRun=true and answered with success; the run was halted");
	report_call(p->rp, pr->run_id, pr->scenario, pr->account, c);
	if (p->hooks.call != NULL)
		p->hooks.call(pr, c, p->hooks.arg);
}

/* The expectation's row in the ledger, handed to the verifier. */
static void
pipeline_expect(struct pipeline *p, const struct expectation *x)
{
	struct ledger_entry	*e;

	e = ledger_add(p->ledger, x, verifier_deadline(p->v, x));
	verifier_watch(p->v, e);
	verifier_commit_soon(p->v);
}

static void
pipeline_hook_expect(struct run *run, const struct expectation *x, void *arg)
{
	struct pipeline_run	*pr = arg;

	if (pr->no_verify)
		return;
	if (pr->verify_after_run) {
		pr->held = xreallocarray(pr->held, pr->nheld + 1,
		    sizeof(*pr->held));
		pr->held[pr->nheld++] = expectation_dup(x);
		return;
	}
	pipeline_expect(pr->p, x);
}

static void
pipeline_hook_note(struct run *run, const char *region, const char *msg,
    void *arg)
{
	struct pipeline_run	*pr = arg;

	log_info("%s %s (run %.8s)%s%s: %s", pr->scenario, pr->account,
	    pr->run_id, region ? " " : "", region ? region : "", msg);
}

static void
pipeline_hook_progress(struct run *run, const char *region, const char *step,
    void *arg)
{
	struct pipeline_run	*pr = arg;

	if (pr->p->hooks.progress != NULL)
		pr->p->hooks.progress(pr, region, step, pr->p->hooks.arg);
}

static void
pipeline_hook_finding(struct run *run, const struct run_finding *f, void *arg)
{
	struct pipeline_run	*pr = arg;
	struct pipeline		*p = pr->p;

	report_posture(p->rp, pr->run_id, pr->scenario, pr->account, f);
	if (p->hooks.finding != NULL)
		p->hooks.finding(pr, f, p->hooks.arg);
}

static void
pipeline_release_held(struct pipeline_run *pr)
{
	size_t	 i;

	for (i = 0; i < pr->nheld; i++)
		expectation_free(pr->held[i]);
	free(pr->held);
	pr->held = NULL;
	pr->nheld = 0;
}

/*
 * The run's calls are over: when some did not go as intended, say at once
 * that the detection test could not run (in full or in part).
 */
static void
pipeline_could_not_test(struct pipeline_run *pr, struct run *run)
{
	struct pipeline			*p = pr->p;
	const struct run_call *const	*calls;
	const struct run_note		*notes;
	struct report_failure		*fl;
	struct run_summary		 s;
	struct report_cnt		 c;
	const char			**nv;
	size_t				 n, nn, i, k = 0, kn = 0;

	run_summarize(run, &s);
	if (s.ok)
		return;
	calls = run_calls(run, &n);
	notes = run_notes(run, &nn);
	fl = xcalloc(n > 0 ? n : 1, sizeof(*fl));
	nv = xcalloc(nn > 0 ? nn : 1, sizeof(*nv));
	for (i = 0; i < n; i++) {
		if (calls[i]->intended)
			continue;
		fl[k].service = calls[i]->service;
		fl[k].action = calls[i]->action;
		fl[k].region = calls[i]->global ? "global" : calls[i]->region;
		fl[k].outcome = run_call_outcome_name(calls[i]->outcome);
		fl[k].error_code = calls[i]->error_code;
		fl[k].reason = calls[i]->note != NULL ? calls[i]->note :
		    calls[i]->error_message;
		k++;
	}
	for (i = 0; i < nn; i++)
		if (notes[i].error)
			nv[kn++] = notes[i].msg;
	memset(&c, 0, sizeof(c));
	c.run_id = pr->run_id;
	c.scenario = pr->scenario;
	c.account = pr->account;
	c.calls = n;
	c.expectations = s.expectations;
	c.failures = fl;
	c.nfailures = k;
	c.notes = nv;
	c.nnotes = kn;
	p->stats.could_not_test++;
	ledger_run_failed(pr->lrun, k + kn);
	report_could_not_test(p->rp, &c);
	free(fl);
	free(nv);
}

static void
pipeline_hook_done(struct run *run, int halted, void *arg)
{
	struct pipeline_run	*pr = arg;
	struct pipeline		*p = pr->p;
	struct verify_params	 vp;
	double			 first = 0, last = 0, now = now_real();
	char			*cause = NULL;
	size_t			 i;

	pr->ran = 1;
	pr->halted = halted;
	ledger_run_end(pr->lrun, now, halted);
	pipeline_could_not_test(pr, run);
	/* The run's own AssumeRole session was for its calls only (the
	 * verifier and the alert checks use the account's long-lived
	 * credentials): not held while the run verifies (bench/scale). */
	creds_provider_free(pr->own_creds);
	pr->own_creds = NULL;

	if (pr->nheld > 0) {
		/* One-shot: the first poll one interval after the last call. */
		for (i = 0; i < pr->nheld; i++) {
			if (first == 0 || pr->held[i]->fired_at < first)
				first = pr->held[i]->fired_at;
			if (pr->held[i]->fired_at > last)
				last = pr->held[i]->fired_at;
		}
		vp = p->vp;
		vp.initial_delay = (now - first) + vp.interval;
		if (vp.initial_delay >= vp.deadline)
			vp.initial_delay = vp.deadline;
		verifier_set_params(p->v, &vp);
		for (i = 0; i < pr->nheld; i++)
			pipeline_expect(p, pr->held[i]);
	}
	pipeline_release_held(pr);
	verifier_commit_soon(p->v);
	metrics_touch(p->metrics);
	if (p->hooks.ran != NULL)
		p->hooks.ran(pr, halted, p->hooks.arg);
	/*
	 * The daemon keeps nothing of the scenario run once its calls are
	 * answered: the ledger's rows prove the verdicts and its run holds
	 * the counts, while the run's call records and expectation copies
	 * were about 1 KB per row for as long as the run verified
	 * (bench/scale).  The one-shot CLI keeps it for its final table.
	 * (run.c: the done hook is the run's last act; the owner may free
	 * it.)
	 */
	if (p->persistent) {
		run_free(pr->run);
		pr->run = NULL;
	}
	/* A run without expectations (or all reported) is complete now. */
	if (report_flush(p->rp, &cause) == -1) {
		log_warnx("report: %s", cause);
		free(cause);
	}
	if (p->draining)
		pipeline_drain(p, p->drained, p->drained_arg);
}

struct pipeline_run *
pipeline_start(struct pipeline *p, const struct pipeline_run_opts *o,
    char **cause)
{
	struct config			*cfg = p->cur->cfg;
	const struct scenario_def	*def;
	const struct custom_scenario	*cs = NULL;
	const struct config_account	*a;
	struct pipeline_run		*pr;
	struct config_account		*member = NULL;
	const struct config_account	*parent;
	struct run_opts			 ropts;
	struct run_hooks		 hooks;
	char				 session[64];
	const char *const		*exclude = NULL, *const *include;

	if ((def = pipeline_scenario_find(cfg->custom_list, o->scenario,
	    &cs)) == NULL) {
		xasprintf(cause, "unknown scenario \"%s\"", o->scenario);
		return NULL;
	}
	parent = NULL;
	if ((a = pipeline_account_find(cfg, o->account)) == NULL &&
	    (o->account == NULL || (a = member = org_member_account(cfg,
	    o->account, &parent)) == NULL)) {
		xasprintf(cause, "unknown account \"%s\"", o->account != NULL ?
		    o->account : "(none)");
		return NULL;
	}
	if (a->org != NULL) {
		xasprintf(cause, "account \"%s\" is an organisation: its "
		    "members are listed first (pipeline_start_org)", a->name);
		return NULL;
	}

	pr = xcalloc(1, sizeof(*pr));
	pr->p = p;
	pr->cfgref = p->cur;
	pr->cfgref->refs++;
	random_id128(pr->run_id);
	pr->scenario = xstrdup(def->name);
	pr->account = xstrdup(a->name);
	pr->entry_name = xstrdup_or_null(o->entry);
	pr->verify_after_run = o->verify_after_run;
	pr->no_verify = o->no_verify;
	pr->member = member;
	if (o->settings != NULL)
		pr->settings = json_deep_copy(o->settings);
	TAILQ_INSERT_TAIL(&p->runs, pr, entry);
	p->stats.runs_active++;

	if (a->role_arn != NULL) {
		/* The run's own session: its keys identify its calls. */
		snprintf(session, sizeof(session), "cloudsagad-%s", pr->run_id);
		pr->own_creds = pipeline_make_creds_via(p, cfg, a, parent,
		    session);
	}
	pr->lrun = ledger_run_begin(p->ledger, pr->run_id, pr->scenario,
	    pr->account, now_real());
	ledger_run_set_entry(pr->lrun, o->entry);

	include = o->include;
	if (include == NULL || include[0] == NULL)
		include = (const char *const *)a->include;
	if (a->exclude != NULL && a->exclude[0] != NULL)
		exclude = (const char *const *)a->exclude;

	memset(&ropts, 0, sizeof(ropts));
	ropts.base = p->base;
	ropts.client = p->client;
	ropts.creds = pr->own_creds != NULL ? pr->own_creds :
	    pipeline_account_provider(p, a->name);
	ropts.account = pr->account;
	ropts.regions = o->regions != NULL && o->regions[0] != NULL ?
	    o->regions : NULL;
	ropts.include = include != NULL && include[0] != NULL ? include : NULL;
	ropts.exclude = exclude;
	ropts.allow_live = cfg->live || p->opts.allow_live;
	ropts.custom = cs;
	ropts.settings = pr->settings;
	ropts.run_id = pr->run_id;

	memset(&hooks, 0, sizeof(hooks));
	hooks.call = pipeline_hook_call;
	hooks.expect = pipeline_hook_expect;
	hooks.note = pipeline_hook_note;
	hooks.progress = pipeline_hook_progress;
	hooks.finding = pipeline_hook_finding;
	hooks.done = pipeline_hook_done;
	hooks.arg = pr;

	/* A new cycle: rules created since the last one are seen. */
	coverage_cycle_reset(p->cov);
	log_info("%s: starting scenario %s for account %s: run %s", o->entry ?
	    o->entry : "one-shot", pr->scenario, pr->account, pr->run_id);
	pr->run = run_start(def, &ropts, &hooks);
	return pr;
}

void
pipeline_abort(struct pipeline_run *pr, const char *why)
{
	if (pr->run != NULL && !pr->ran && !run_finished(pr->run))
		run_abort(pr->run, why);
}

static void
pipeline_run_release(struct pipeline_run *pr)
{
	struct pipeline	*p = pr->p;

	TAILQ_REMOVE(&p->runs, pr, entry);
	if (p->stats.runs_active > 0)
		p->stats.runs_active--;
	run_free(pr->run);
	creds_provider_free(pr->own_creds);
	org_member_free(pr->member);
	pipeline_release_held(pr);
	json_decref(pr->settings);
	pipeline_cfg_unref(p, pr->cfgref);
	free(pr->scenario);
	free(pr->account);
	free(pr->entry_name);
	free(pr);
}

const char *
pipeline_run_id(const struct pipeline_run *pr)
{
	return pr->run_id;
}

const char *
pipeline_run_entry(const struct pipeline_run *pr)
{
	return pr->entry_name;
}

struct run *
pipeline_run_run(struct pipeline_run *pr)
{
	return pr->run;
}

void *
pipeline_run_userdata(struct pipeline_run *pr)
{
	return pr->userdata;
}

void
pipeline_run_set_userdata(struct pipeline_run *pr, void *u)
{
	pr->userdata = u;
}


/* ---- life cycle ------------------------------------------------------------ */

struct pipeline *
pipeline_new(const struct pipeline_opts *o, struct config *cfg,
    const struct pipeline_hooks *hooks, char **cause)
{
	struct pipeline		*p;
	struct http_engine_opts	 hopts;
	struct aws_client_opts	 copts;
	struct verify_hooks	 vh;

	p = xcalloc(1, sizeof(*p));
	p->base = o->base;
	p->opts = *o;
	p->persistent = o->state_dir != NULL;
	p->opts.state_dir = p->opts.report_file = NULL;	/* not kept */
	p->endpoint_url = xstrdup_or_null(o->endpoint_url);
	p->profile = xstrdup_or_null(o->profile);
	p->opts.endpoint_url = p->endpoint_url;
	p->opts.profile = p->profile;
	if (hooks != NULL)
		p->hooks = *hooks;
	TAILQ_INIT(&p->cfgs);
	TAILQ_INIT(&p->runs);
	pipeline_orgs_init(p);

	if ((p->ledger = ledger_open(o->state_dir, cause)) == NULL) {
		free(p->endpoint_url);
		free(p->profile);
		free(p);
		config_free(cfg);
		return NULL;
	}
	if ((p->rp = report_open(p->ledger, o->report_file, cause)) == NULL) {
		ledger_free(p->ledger);
		free(p->endpoint_url);
		free(p->profile);
		free(p);
		config_free(cfg);
		return NULL;
	}
	report_set_log(p->rp, o->log_records);
	report_set_stream(p->rp, o->json);
	report_set_history(p->rp, &p->hp);

	memset(&hopts, 0, sizeof(hopts));
	hopts.max_total = o->max_connections > 0 ? o->max_connections :
	    cfg->daemon.max_connections;
	hopts.connect_timeout_ms = (long)(cfg->daemon.http_connect_timeout *
	    1000);
	hopts.timeout_ms = (long)(cfg->daemon.http_timeout * 1000);
	hopts.max_per_host = cfg->daemon.max_connections_per_host;
	p->http = http_engine_new(p->base, &hopts);
	memset(&copts, 0, sizeof(copts));
	copts.allow_live = cfg->live || o->allow_live;
	copts.endpoints.partition = cfg->aws.partition;
	copts.endpoints.endpoint_url = cfg->aws.endpoint_url;
	copts.endpoints.explicit_url = p->endpoint_url;	/* --endpoint-url */
	copts.endpoints.service_urls = (const char *const *)
	    cfg->aws.service_urls;
	p->client = aws_client_new(p->base, p->http, &copts);

	pipeline_set_config(p, cfg);
	if (p->persistent)
		p->metrics = metrics_new(p->base, ledger_db(p->ledger), cfg);

	memset(&vh, 0, sizeof(vh));
	vh.creds = pipeline_verify_creds;
	vh.verdicts = pipeline_verdicts;
	vh.lookup = pipeline_lookup;
	vh.arg = p;
	p->v = verifier_new(p->base, p->client, p->ledger, &p->vp, &vh);
	p->cov = coverage_new(p->base, p->client, &p->cp);
	report_set_summary_hook(p->rp, pipeline_summary, p);
	if (p->persistent)
		report_set_summary_gate(p->rp, pipeline_summary_gate, p);
	return p;
}

/*
 * Housekeeping, every few minutes: runs that are over (every verdict and
 * the summary reported) leave memory after LEDGER_KEEP_DEFAULT; the
 * database keeps what the retention says, in small transactions; the
 * daily digest of chronic gaps once the day's digest_at has passed.
 */
static void
pipeline_prune(struct pipeline *p)
{
	const struct config	*cfg = p->cur->cfg;
	char			*cause = NULL;
	double			 now = now_real();
	int			 n;

	if ((n = ledger_prune(p->ledger, now - LEDGER_KEEP_DEFAULT,
	    &cause)) == -1) {
		log_warnx("pruning the state: %s", cause);
		free(cause);
		cause = NULL;
	} else if (n > 0)
		log_debug("%d finished runs left memory", n);
	if ((n = report_expire(p->rp, now, p->keep_runs, &cause)) == -1) {
		log_warnx("expiring old state: %s", cause);
		free(cause);
		cause = NULL;
	} else if (n > 0)
		log_debug("expired %d rows of old state", n);
	if (fmod(now, 86400.0) >= cfg->history.digest_at &&
	    report_digest(p->rp, now, &cause) == -1) {
		log_warnx("the chronic-gap digest: %s", cause);
		free(cause);
	}
}

static void
pipeline_prune_cb(evutil_socket_t fd, short what, void *arg)
{
	struct pipeline	*p = arg;
	struct timeval	 tv = { (time_t)PIPELINE_PRUNE_EVERY, 0 };

	pipeline_prune(p);
	evtimer_add(p->prune_ev, &tv);
}

void
pipeline_reopen_report(struct pipeline *p)
{
	char	*cause = NULL;

	if (report_reopen(p->rp, &cause) == -1) {
		log_warnx("reopening the report file: %s", cause);
		free(cause);
	}
}

size_t
pipeline_resume(struct pipeline *p)
{
	size_t	 n;
	char	*cause = NULL;

	n = verifier_resume(p->v);
	if (report_flush(p->rp, &cause) == -1) {
		log_warnx("report: %s", cause);
		free(cause);
	}
	metrics_touch(p->metrics);
	if (p->persistent) {
		struct timeval	 tv = { (time_t)PIPELINE_PRUNE_EVERY, 0 };

		pipeline_prune(p);
		p->prune_ev = evtimer_new(p->base, pipeline_prune_cb, p);
		evtimer_add(p->prune_ev, &tv);
	}
	return n;
}

void
pipeline_stats(const struct pipeline *p, struct pipeline_stats *st)
{
	*st = p->stats;
	st->pending = verifier_pending_count(p->v);
}

void
pipeline_verify_progress(const struct pipeline *p, struct verify_progress *vp)
{
	verifier_progress(p->v, vp);
}

static void
pipeline_coverage_drained(void *arg);

static void
pipeline_verifier_drained(void *arg)
{
	struct pipeline	*p = arg;

	/* Coverage checks in flight get a moment, then are cancelled: their
	 * rows stay decided in the ledger and are checked after a restart. */
	coverage_drain(p->cov, 5.0, pipeline_coverage_drained, p);
}

static void
pipeline_coverage_drained(void *arg)
{
	struct pipeline	*p = arg;
	char		*cause = NULL;

	if (ledger_commit(p->ledger, &cause) == -1) {
		log_warnx("saving state: %s", cause);
		free(cause);
	}
	if (p->drained != NULL) {
		void (*done)(void *) = p->drained;

		p->drained = NULL;
		done(p->drained_arg);
	}
}

void
pipeline_drain(struct pipeline *p, void (*done)(void *), void *arg)
{
	struct pipeline_run	*pr;
	int			 firing = 0;

	p->drained = done;
	p->drained_arg = arg;
	if (!p->draining) {
		p->draining = 1;
		pipeline_orgs_cancel(p);	/* no new runs */
		/* Calls still being fired are stopped: nothing is lost, the
		 * expectations already made stay in the ledger. */
		TAILQ_FOREACH(pr, &p->runs, entry)
			if (!pr->ran)
				pipeline_abort(pr, "stopping");
	}
	TAILQ_FOREACH(pr, &p->runs, entry)
		if (!pr->ran)
			firing++;
	if (firing > 0)
		return;		/* pipeline_hook_done comes back here */
	verifier_drain(p->v, pipeline_verifier_drained, p);
}

void
pipeline_free(struct pipeline *p)
{
	struct pipeline_run	*pr;
	struct cfgref		*r;
	char			*cause = NULL;
	size_t			 i;

	if (p == NULL)
		return;
	if (p->prune_ev != NULL)
		event_free(p->prune_ev);
	free(p->acks);
	verifier_free(p->v);
	coverage_free(p->cov);
	pipeline_orgs_free(p);
	/* run_free() cancels whatever a run still has in flight. */
	while ((pr = TAILQ_FIRST(&p->runs)) != NULL)
		pipeline_run_release(pr);
	if (ledger_commit(p->ledger, &cause) == -1) {
		log_warnx("saving state: %s", cause);
		free(cause);
	}
	metrics_free(p->metrics);	/* a last write, from the final state */
	report_free(p->rp);
	ledger_free(p->ledger);
	/* Providers before the client they use. */
	for (i = 0; i < p->naccts; i++) {
		creds_provider_free(p->accts[i].provider);
		free(p->accts[i].name);
	}
	free(p->accts);
	for (i = 0; i < p->nretired; i++)
		creds_provider_free(p->retired[i]);
	free(p->retired);
	aws_client_free(p->client);
	http_engine_free(p->http);
	while ((r = TAILQ_FIRST(&p->cfgs)) != NULL) {
		TAILQ_REMOVE(&p->cfgs, r, entry);
		config_free(r->cfg);
		free(r);
	}
	free(p->endpoint_url);
	free(p->profile);
	free(p);
}
