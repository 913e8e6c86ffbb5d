/*
 * cli_scenario: CloudSaga's command line, kept.
 *
 *   (--chapters and --about NAME: cli_chapters.c)
 *   --scenario NAME [--regions r1,r2] [--account NAME]
 *                         one run in the foreground: live per-region
 *                         progress on stderr (redrawn in place on a
 *                         terminal, plain lines otherwise), then the table
 *                         of every call on stdout
 *
 * Exit status of --scenario: 0 when every call went as intended and
 * nothing is missing; 1 when a call failed or a logging gap was found; 4
 * when every call went as intended and something could not be verified;
 * 2 for an unknown name or bad arguments (a --regions name that is not a
 * region of the partition included).
 */
#include <sys/queue.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "aws.h"
#include "buf.h"
#include "cli.h"
#include "cli_progress.h"
#include "client.h"
#include "creds.h"
#include "config.h"
#include "custom.h"
#include "endpoint.h"
#include "http.h"
#include "ledger.h"
#include "log.h"
#include "pipeline.h"
#include "report.h"
#include "scenario.h"
#include "strv.h"
#include "verify.h"
#include "util.h"
#include "xmalloc.h"

/* ---- the registry as the CLI sees it --------------------------------------- */

const struct scenario_def *
cli_scenario_find(const char *name, struct custom_scenario *const *custom)
{
	return pipeline_scenario_find(custom, name, NULL);
}

void
cli_scenario_unknown(const char *name, struct custom_scenario *const *custom)
{
	const struct scenario_def	*d;
	size_t				 i;
	const char			*sep = "";

	fprintf(stderr, "cloudsagad: unknown scenario \"%s\"; valid names:",
	    name);
	for (d = scenario_builtins(); d->name != NULL; d++) {
		fprintf(stderr, "%s %s", sep, d->name);
		sep = ",";
	}
	for (i = 0; custom != NULL && custom[i] != NULL; i++)
		fprintf(stderr, ", %s", custom[i]->name);
	fprintf(stderr, "\n");
}

/* ---- --regions ------------------------------------------------------------- */

char **
cli_split_regions(const char *s, char **cause)
{
	char	**v, *copy, *p, *tok;
	size_t	  i;

	copy = xstrdup(s);
	p = copy;
	v = strv_new();
	while ((tok = strsep(&p, ",")) != NULL) {
		while (isspace((u_char)*tok))
			tok++;
		for (i = strlen(tok); i > 0 && isspace((u_char)tok[i - 1]);
		    i--)
			tok[i - 1] = '\0';
		if (*tok == '\0')
			continue;
		for (i = 0; tok[i] != '\0'; i++) {
			if (islower((u_char)tok[i]) ||
			    isdigit((u_char)tok[i]) || strchr("-*?", tok[i]))
				continue;
			xasprintf(cause, "\"%s\" is not a region name or "
			    "pattern (e.g. eu-west-1, eu-*)", tok);
			free(copy);
			strv_free(v);
			return NULL;
		}
		strv_add(&v, tok);
	}
	free(copy);
	if (v[0] == NULL) {
		xasprintf(cause, "--regions wants a comma-separated list of "
		    "regions, e.g. us-east-1,eu-west-1");
		strv_free(v);
		return NULL;
	}
	return v;
}

/* ---- the final table ------------------------------------------------------- */

static const char *
cli_region_label(const struct run_call *c)
{
	return c->global ? "global" : c->region;
}

static char *
cli_code(const struct run_call *c)
{
	if (c->error_code != NULL && c->status != 0)
		return xprintf("%s (%ld)", c->error_code, c->status);
	if (c->error_code != NULL)
		return xstrdup(c->error_code);
	if (c->status != 0 && (c->status < 200 || c->status > 299))
		return xprintf("HTTP %ld", c->status);
	return xstrdup("");
}

static char *
cli_target(const struct run_call *c)
{
	if (c->detail != NULL && c->note != NULL)
		return xprintf("%s; %s", c->detail, c->note);
	if (c->detail != NULL)
		return xstrdup(c->detail);
	if (c->note != NULL)
		return xstrdup(c->note);
	return xstrdup("");
}

void
cli_scenario_table(FILE *f, const struct run_call *const *calls, size_t n)
{
	const struct run_call	**v;
	size_t			  i, wr = 6, wc = 4, wo = 7, wx = 4, len;
	char			 *call, *code, *target, *line;

	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		v[i] = calls[i];
		if ((len = strlen(cli_region_label(v[i]))) > wr)
			wr = len;
		len = strlen(v[i]->service) + 1 + strlen(v[i]->action);
		if (len > wc)
			wc = len;
		code = cli_code(v[i]);
		if (strlen(code) > wx)
			wx = strlen(code);
		free(code);
	}
	run_calls_sort(v, n);
	fprintf(f, "%-*s  %-*s  %-*s  %-*s  %s\n", (int)wr, "REGION",
	    (int)wc, "CALL", (int)wo, "OUTCOME", (int)wx, "CODE",
	    "TARGET / NOTE");
	for (i = 0; i < n; i++) {
		call = xprintf("%s:%s", v[i]->service, v[i]->action);
		code = cli_code(v[i]);
		target = cli_target(v[i]);
		line = xprintf("%-*s  %-*s  %-*s  %-*s  %s", (int)wr,
		    cli_region_label(v[i]), (int)wc, call, (int)wo,
		    run_call_outcome_name(v[i]->outcome), (int)wx, code,
		    target);
		/* No trailing blanks. */
		for (len = strlen(line); len > 0 && line[len - 1] == ' '; len--)
			line[len - 1] = '\0';
		fprintf(f, "%s\n", line);
		free(line);
		free(call);
		free(code);
		free(target);
	}
	free(v);
}

/* ---- live progress ---------------------------------------------------------- */

struct cli_region {
	char	*name;
	char	*step;
	int	 calls;
	int	 bad;
};

struct cli_run {
	const struct cli_opts	*o;
	struct pipeline		*p;
	struct pipeline_run	*pr;
	int			 done;		/* every call answered */
	int			 verified;	/* every verdict reported */
	int			 halted;
	int			 json;		/* --output json */
	int			 interrupted;
	int			 ok_calls;	/* every call as intended */
	struct ledger_entry	**verdicts;	/* as they arrive */
	size_t			 nverdicts;
	struct ledger_counts	 counts;
	int			 tty;
	FILE			*out;		/* progress: stderr */
	struct cli_region	*regions;
	size_t			 nregions;
	int			 drawn;		/* lines of the block on screen */
	struct run_finding	*findings;	/* strings owned */
	size_t			 nfindings;
	struct cli_progress	*progress;	/* while verifying */
};

static struct cli_region *
cli_region(struct cli_run *cr, const char *name)
{
	struct cli_region	*r;
	size_t			 i, at;

	for (i = 0; i < cr->nregions; i++)
		if (strcmp(cr->regions[i].name, name) == 0)
			return &cr->regions[i];
	/* Keep them sorted for a stable display. */
	for (at = 0; at < cr->nregions; at++)
		if (strcmp(cr->regions[at].name, name) > 0)
			break;
	cr->regions = xreallocarray(cr->regions, cr->nregions + 1,
	    sizeof(*cr->regions));
	memmove(&cr->regions[at + 1], &cr->regions[at],
	    (cr->nregions - at) * sizeof(*cr->regions));
	cr->nregions++;
	r = &cr->regions[at];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	r->step = xstrdup("");
	return r;
}

static void
cli_draw(struct cli_run *cr)
{
	struct cli_region	*r;
	size_t			 i;

	if (!cr->tty)
		return;
	if (cr->drawn > 0)
		fprintf(cr->out, "\033[%dA", cr->drawn);
	for (i = 0; i < cr->nregions; i++) {
		r = &cr->regions[i];
		fprintf(cr->out, "\r\033[K  %-16s %3d call%s  %s%s\n",
		    r->name, r->calls, r->calls == 1 ? " " : "s", r->step,
		    r->bad ? "  (problems)" : "");
	}
	cr->drawn = (int)cr->nregions;
	fflush(cr->out);
}

static void
cli_hook_progress(struct pipeline_run *pr, const char *region,
    const char *step, void *arg)
{
	struct cli_run		*cr = arg;
	struct cli_region	*r;

	if (region == NULL)
		return;
	r = cli_region(cr, region);
	free(r->step);
	r->step = xstrdup(step);
	cli_draw(cr);
}

static void
cli_hook_call(struct pipeline_run *pr, const struct run_call *c, void *arg)
{
	struct cli_run		*cr = arg;
	struct cli_region	*r;
	char			*code;

	r = cli_region(cr, c->region);
	r->calls++;
	if (!c->intended)
		r->bad = 1;
	if (cr->tty) {
		cli_draw(cr);
		return;
	}
	code = cli_code(c);
	fprintf(cr->out, "%s: %s:%s %s%s%s\n", cli_region_label(c),
	    c->service, c->action, run_call_outcome_name(c->outcome),
	    *code ? " " : "", code);
	fflush(cr->out);
	free(code);
}

static void
cli_hook_finding(struct pipeline_run *pr, const struct run_finding *f,
    void *arg)
{
	struct cli_run		*cr = arg;
	struct run_finding	*n;

	cr->findings = xreallocarray(cr->findings, cr->nfindings + 1,
	    sizeof(*cr->findings));
	n = &cr->findings[cr->nfindings++];
	n->region = xstrdup_or_null(f->region);
	n->kind = xstrdup(f->kind);
	n->resource = xstrdup(f->resource);
	n->detail = xstrdup_or_null(f->detail);
}

static void	 cli_report(FILE *, struct cli_run *, struct run *);

static void
cli_hook_ran(struct pipeline_run *pr, int halted, void *arg)
{
	struct cli_run	*cr = arg;

	cr->done = 1;
	cr->halted = halted;
	cli_draw(cr);
	/* The call table now, while verification goes on. */
	cli_report(cr->json ? stderr : stdout, cr, pipeline_run_run(pr));
	fflush(stdout);
}

static void
cli_hook_verdict(const struct ledger_entry *e, void *arg)
{
	struct cli_run	*cr = arg;
	char		*m;

	cr->verdicts = xreallocarray(cr->verdicts, cr->nverdicts + 1,
	    sizeof(*cr->verdicts));
	cr->verdicts[cr->nverdicts++] = (struct ledger_entry *)e;
	m = report_verdict_message(e, NULL);
	cli_progress_clear(cr->progress);
	fprintf(stderr, "  %s\n", m);
	fflush(stderr);
	free(m);
}

static void
cli_hook_verified(struct pipeline_run *pr, const struct ledger_run *lr,
    void *arg)
{
	struct cli_run	*cr = arg;

	ledger_run_counts(lr, &cr->counts);
	cr->verified = 1;
	cr->pr = NULL;		/* freed by the pipeline after this */
}

static void
cli_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct cli_run	*cr = arg;

	if (cr->interrupted++ > 0 || cr->done) {
		/* Second signal, or while verifying: stop waiting. */
		cr->verified = 1;
		return;
	}
	if (cr->pr != NULL)
		pipeline_abort(cr->pr, sig == SIGINT ? "interrupted" :
		    "terminated");
}

static void
cli_report(FILE *f, struct cli_run *cr, struct run *run)
{
	const struct run_call *const	*calls;
	const struct run_note		*notes;
	struct run_summary		 s;
	char				**failed;
	size_t				 n, i;

	calls = run_calls(run, &n);
	fprintf(f, "\nscenario %s  run %s  account %s\n\n", run_scenario(run),
	    run_id(run), run_account(run));
	cli_scenario_table(f, calls, n);

	notes = run_notes(run, &n);
	if (n > 0) {
		fprintf(f, "\nnotes:\n");
		for (i = 0; i < n; i++)
			fprintf(f, "  %s%s%s%s\n", notes[i].error ? "ERROR " :
			    "", notes[i].region ? notes[i].region : "",
			    notes[i].region ? ": " : "", notes[i].msg);
	}
	if (cr->nfindings > 0) {
		fprintf(f, "\nfindings:\n");
		for (i = 0; i < cr->nfindings; i++)
			fprintf(f, "  %s %s %s%s%s\n", cr->findings[i].region ?
			    cr->findings[i].region : "-",
			    cr->findings[i].kind, cr->findings[i].resource,
			    cr->findings[i].detail ? ": " : "",
			    cr->findings[i].detail ? cr->findings[i].detail :
			    "");
	}
	run_summarize(run, &s);
	fprintf(f, "\n%zu calls: %zu permitted, %zu denied, %zu skipped, %zu "
	    "error; %zu CloudTrail expectations (%s)\n", s.calls,
	    s.permitted, s.denied, s.skipped, s.errors, s.expectations,
	    cr->o->no_verify ? "not verified" : s.expectations > 0 ?
	    "verifying" : "nothing to verify");
	failed = run_failed_regions(run);
	if (failed[0] != NULL) {
		fprintf(f, "failed regions:");
		for (i = 0; failed[i] != NULL; i++)
			fprintf(f, "%s %s", i ? "," : "", failed[i]);
		fprintf(f, "\n");
	}
	for (i = 0; failed[i] != NULL; i++)
		free(failed[i]);
	free(failed);
	fprintf(f, "result: %s\n", s.ok ? "OK (every call went as intended)" :
	    s.halted ? "HALTED" : "FAILED (not every call went as intended)");
	cr->halted = s.halted;
	cr->ok_calls = s.ok;
}

static int
cli_verdict_cmp(const void *a, const void *b)
{
	const struct ledger_entry *x = *(const struct ledger_entry *const *)a;
	const struct ledger_entry *y = *(const struct ledger_entry *const *)b;
	int	 c;

	if ((c = strcmp(x->x.region, y->x.region)) != 0)
		return c;
	if ((c = strcmp(x->x.event_name, y->x.event_name)) != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static const char *
cli_coverage_label(const struct ledger_entry *e)
{
	switch (e->coverage) {
	case COVERAGE_COVERED:
		return "covered";
	case COVERAGE_UNCOVERED:
		return "UNCOVERED";
	case COVERAGE_UNKNOWN:
		return "unknown";
	case COVERAGE_CONTEXT:
		return "context";
	case COVERAGE_NONE:
		break;
	}
	return "-";
}

/* Event ID, and the rules that would alert on it. */
static char *
cli_logged_detail(const struct ledger_entry *e)
{
	struct buf	 b;
	json_t		*r, *t;
	size_t		 i, j;

	buf_init(&b);
	buf_addstr(&b, e->event_id ? e->event_id : "");
	if (e->coverage == COVERAGE_COVERED && json_is_array(e->rules)) {
		json_array_foreach(e->rules, i, r) {
			buf_printf(&b, "%s %s", i == 0 ? "; alert:" : ",",
			    json_string_value(json_object_get(r, "name")) ?
			    json_string_value(json_object_get(r, "name")) :
			    "?");
			json_array_foreach(json_object_get(r, "targets"), j, t)
				buf_printf(&b, "%s%s", j == 0 ? " -> " : " ",
				    json_string_value(t) ? json_string_value(t) :
				    "?");
		}
	}
	return buf_release(&b);
}

/* The verdict table: one row per expectation, sorted. */
static void
cli_verdict_table(FILE *f, struct cli_run *cr)
{
	struct ledger_entry	**v;
	struct ledger_counts	*c = &cr->counts;
	size_t			  i, wr = 6, we = 5, len;
	char			  lat[32], *ev, *line, *detail;

	if (cr->nverdicts == 0)
		return;
	v = xcalloc(cr->nverdicts, sizeof(*v));
	memcpy(v, cr->verdicts, cr->nverdicts * sizeof(*v));
	qsort(v, cr->nverdicts, sizeof(*v), cli_verdict_cmp);
	for (i = 0; i < cr->nverdicts; i++) {
		if ((len = strlen(v[i]->x.region)) > wr)
			wr = len;
		if ((len = strlen(v[i]->x.event_name)) > we)
			we = len;
	}
	fprintf(f, "\nCloudTrail verdicts\n\n%-*s  %-*s  %-10s  %-8s  %-9s  "
	    "%s\n", (int)wr, "REGION", (int)we, "EVENT", "VERDICT",
	    "LATENCY", "ALERT", "EVENT ID / REASON");
	for (i = 0; i < cr->nverdicts; i++) {
		ev = xstrdup(v[i]->x.event_name);
		if (v[i]->verdict == VERDICT_LOGGED)
			snprintf(lat, sizeof(lat), "%.1fs",
			    v[i]->found_at - v[i]->x.fired_at);
		else
			lat[0] = '\0';
		if (v[i]->verdict == VERDICT_LOGGED)
			detail = cli_logged_detail(v[i]);
		else if (v[i]->verdict == VERDICT_MISSING)
			detail = xprintf("LOGGING GAP: not in CloudTrail %.0fs "
			    "after the call (request %s)", v[i]->deadline -
			    v[i]->x.fired_at, v[i]->x.request_id ?
			    v[i]->x.request_id : "?");
		else
			detail = xstrdup(v[i]->reason ? v[i]->reason : "");
		line = xprintf("%-*s  %-*s  %-10s  %-8s  %-9s  %s", (int)wr,
		    v[i]->x.region, (int)we, ev, verdict_name(v[i]->verdict),
		    lat, cli_coverage_label(v[i]), detail);
		for (len = strlen(line); len > 0 && line[len - 1] == ' '; len--)
			line[len - 1] = '\0';
		fprintf(f, "%s\n", line);
		free(line);
		free(detail);
		free(ev);
	}
	free(v);
	fprintf(f, "\n%u expectations: %u logged", c->expected, c->logged);
	if (c->logged > 0)
		fprintf(f, " (latency %.1fs to %.1fs, mean %.1fs)",
		    c->latency_min, c->latency_max,
		    c->latency_sum / c->logged);
	fprintf(f, ", %u missing, %u unverified", c->missing, c->unverified);
	if (c->unconfirmed > 0)
		fprintf(f, " (%u not found, but only assumed to be recorded: "
		    "not gaps)", c->unconfirmed);
	if (c->covered + c->uncovered + c->coverage_unknown > 0)
		fprintf(f, "; alerts on signal calls: %u covered, %u "
		    "uncovered, %u unknown", c->covered, c->uncovered,
		    c->coverage_unknown);
	fprintf(f, "\n");
	if (c->missing > 0)
		fprintf(f, "logging gaps: %u call%s never reached CloudTrail\n",
		    c->missing, c->missing == 1 ? "" : "s");
}

/* The one-shot config: the -c file, or the defaults with one account. */
static struct config *
cli_config(const struct cli_opts *o, int *rc)
{
	struct config	*cfg;
	char		*cause = NULL, *text;
	int		 r;

	if (o->config_given) {
		if (config_load(o->config_file, &cfg, &cause) == -1) {
			fprintf(stderr, "%s\n", cause);
			free(cause);
			*rc = CLI_EXIT_USAGE;
			return NULL;
		}
		return cfg;
	}
	/* No file: the implicit account, named as --account says. */
	if (o->account != NULL)
		text = xprintf("accounts = ( { name = \"%s\"; } );\n",
		    o->account);
	else
		text = xstrdup("");
	r = config_load_string(text, "(command line)", &cfg, &cause);
	free(text);
	if (r == -1) {
		fprintf(stderr, "cloudsagad: %s\n", cause);
		free(cause);
		*rc = CLI_EXIT_USAGE;
		return NULL;
	}
	return cfg;
}

/*
 * Phase 1: what to run, checked before anything starts - the scenario
 * (built-in or of the config), --regions (names of the partition, or
 * patterns over the discovered ones) and the account (--account, or the
 * config's first), resolved by the pipeline's own functions.
 */
static int
cli_scenario_resolve(const struct cli_opts *o, const struct config *cfg,
    struct custom_scenario *const *custom, const struct scenario_def **dp,
    const char **accountp, char ***includep)
{
	const struct config_account	*a;
	char				**include = NULL, *cause = NULL;
	size_t				 i;

	if ((*dp = cli_scenario_find(o->scenario, custom)) == NULL) {
		cli_scenario_unknown(o->scenario, custom);
		return CLI_EXIT_USAGE;
	}
	if (o->regions != NULL &&
	    (include = cli_split_regions(o->regions, &cause)) == NULL) {
		fprintf(stderr, "cloudsagad: %s\n", cause);
		free(cause);
		return CLI_EXIT_USAGE;
	}
	for (i = 0; include != NULL && include[i] != NULL; i++) {
		if (strpbrk(include[i], "*?[") != NULL)
			continue;	/* a pattern over discovered regions */
		if (endpoint_region_check(include[i], cfg->aws.partition,
		    (const char *const *)cfg->aws.extra_regions, &cause) == -1) {
			fprintf(stderr, "cloudsagad: --regions: %s\n", cause);
			free(cause);
			strv_free(include);
			return CLI_EXIT_USAGE;
		}
	}
	if (o->account != NULL && *o->account == '\0') {
		fprintf(stderr, "cloudsagad: --account wants a name\n");
		strv_free(include);
		return CLI_EXIT_USAGE;
	}
	if ((a = pipeline_account_find(cfg, o->account)) == NULL) {
		fprintf(stderr, "cloudsagad: unknown account \"%s\" (not in "
		    "%s)\n", o->account != NULL ? o->account : "",
		    cfg->path ? cfg->path : "the config");
		strv_free(include);
		return CLI_EXIT_USAGE;
	}
	*accountp = a->name;
	*includep = include;
	return CLI_EXIT_OK;
}

/*
 * Phase 2: the pipeline, with the command line's options in its options
 * (the one path from CLI options to pipeline options: endpoints, profile,
 * live calls, verification interval and deadline) and the CLI's hooks.
 * Takes cfg.
 */
static int
cli_scenario_pipeline(const struct cli_opts *o, struct config *cfg,
    struct event_base *base, struct cli_run *cr)
{
	struct pipeline_opts	 popts;
	struct pipeline_hooks	 phooks;
	char			*cause = NULL;

	memset(&popts, 0, sizeof(popts));
	popts.base = base;
	popts.json = cr->json ? stdout : NULL;
	popts.log_records = 0;
	popts.endpoint_url = o->endpoint_url;
	popts.profile = o->profile;
	popts.allow_live = o->allow_live;
	popts.verify_interval = o->verify_interval;
	popts.verify_timeout = o->verify_timeout;
	/* Lookups refused for the credentials: no use waiting. */
	popts.verify_fail_fast = 1;
	memset(&phooks, 0, sizeof(phooks));
	phooks.call = cli_hook_call;
	phooks.progress = cli_hook_progress;
	phooks.finding = cli_hook_finding;
	phooks.ran = cli_hook_ran;
	phooks.verdict = cli_hook_verdict;
	phooks.verified = cli_hook_verified;
	phooks.arg = cr;
	if ((cr->p = pipeline_new(&popts, cfg, &phooks, &cause)) == NULL) {
		fprintf(stderr, "cloudsagad: %s\n", cause);
		free(cause);
		return CLI_EXIT_FAIL;
	}
	return CLI_EXIT_OK;
}

/* Phase 3: the run, then its verification, on the loop. */
static int
cli_scenario_run(const struct cli_opts *o, struct cli_run *cr,
    struct event_base *base, const struct scenario_def *d,
    const char *account, char **include)
{
	const struct verify_params	*vp;
	struct pipeline_run_opts	 ro;
	char				*cause = NULL, a[32], b[32];

	memset(&ro, 0, sizeof(ro));
	ro.scenario = d->name;
	ro.account = account;
	ro.include = (const char *const *)include;
	ro.verify_after_run = 1;
	ro.no_verify = o->no_verify;
	fprintf(cr->out, "cloudsagad: running %s for account %s\n", d->name,
	    account);
	if ((cr->pr = pipeline_start(cr->p, &ro, &cause)) == NULL) {
		fprintf(stderr, "cloudsagad: %s\n", cause);
		free(cause);
		return CLI_EXIT_USAGE;
	}
	while (!cr->done)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	if (!o->no_verify && !cr->verified) {
		vp = pipeline_verify_params(cr->p);
		duration_format(vp->interval, a, sizeof(a));
		duration_format(vp->deadline, b, sizeof(b));
		fprintf(stderr, "\ncloudsagad: verifying in CloudTrail: polling "
		    "every %s, deadline %s after each call\n", a, b);
		cr->progress = cli_progress_new(base, cr->p, stderr, cr->tty);
	}
	while (!cr->verified)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	cli_progress_free(cr->progress);
	cr->progress = NULL;
	if (!o->no_verify && !cr->json)
		cli_verdict_table(stdout, cr);
	fflush(stdout);
	return CLI_EXIT_OK;
}

/* Phase 4, the exit status: 1 when a call failed or a gap was found; 4
 * only when every call went as intended and something could not be
 * verified. */
static int
cli_scenario_status(const struct cli_run *cr)
{
	if (cr->halted || !cr->ok_calls)
		return CLI_EXIT_FAIL;
	if (cr->counts.missing > 0)
		return CLI_EXIT_FAIL;
	if (!cr->verified || cr->interrupted)
		return CLI_EXIT_FAIL;
	if (cr->counts.unverified > cr->counts.unconfirmed)
		return CLI_EXIT_UNVERIFIED;	/* not for assumed ones */
	return CLI_EXIT_OK;
}

static void
cli_run_clear(struct cli_run *cr)
{
	size_t	 i;

	for (i = 0; i < cr->nregions; i++) {
		free(cr->regions[i].name);
		free(cr->regions[i].step);
	}
	free(cr->regions);
	for (i = 0; i < cr->nfindings; i++) {
		free((char *)cr->findings[i].region);
		free((char *)cr->findings[i].kind);
		free((char *)cr->findings[i].resource);
		free((char *)cr->findings[i].detail);
	}
	free(cr->findings);
	free(cr->verdicts);
}

int
cli_scenario(const struct cli_opts *o, struct custom_scenario *const *custom)
{
	const struct scenario_def	*d;
	struct event_base		*base;
	struct config			*cfg;
	struct cli_run			 cr;
	struct event			*sigint, *sigterm;
	char				**include = NULL;
	const char			*term, *account;
	int				 rc = CLI_EXIT_OK;

	if ((cfg = cli_config(o, &rc)) == NULL)
		return rc;
	if (custom == NULL)
		custom = cfg->custom_list;
	if ((rc = cli_scenario_resolve(o, cfg, custom, &d, &account,
	    &include)) != CLI_EXIT_OK) {
		config_free(cfg);
		return rc;
	}

	memset(&cr, 0, sizeof(cr));
	cr.o = o;
	cr.out = stderr;
	cr.json = o->output_json;
	term = getenv("TERM");
	cr.tty = isatty(STDERR_FILENO) && (term == NULL ||
	    strcmp(term, "dumb") != 0);

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	/* account points into cfg, which the pipeline keeps alive. */
	if ((rc = cli_scenario_pipeline(o, cfg, base, &cr)) != CLI_EXIT_OK) {
		event_base_free(base);
		strv_free(include);
		return rc;
	}

	sigint = evsignal_new(base, SIGINT, cli_signal, &cr);
	sigterm = evsignal_new(base, SIGTERM, cli_signal, &cr);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);

	if ((rc = cli_scenario_run(o, &cr, base, d, account, include)) ==
	    CLI_EXIT_OK)
		rc = cli_scenario_status(&cr);

	event_free(sigint);
	event_free(sigterm);
	pipeline_free(cr.p);
	event_base_free(base);
	cli_run_clear(&cr);
	strv_free(include);
	return rc;
}
