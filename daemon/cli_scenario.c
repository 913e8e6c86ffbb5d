/*
 * cli_scenario: CloudSaga's command line, kept.
 *
 *   --chapters            every scenario with its one-line summary
 *   --about NAME          description, calls, permissions, MITRE ATT&CK
 *   --scenario NAME [--regions r1,r2] [--account NAME]
 *                         one run in the foreground: live per-region
 *                         progress on stderr (redrawn in place on a
 *                         terminal, plain lines otherwise), then the table
 *                         of every call on stdout
 *
 * Exit status of --scenario: 0 when every call went as intended, 1
 * otherwise, 2 for an unknown name or bad arguments.
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
#include "cli.h"
#include "client.h"
#include "creds.h"
#include "custom.h"
#include "http.h"
#include "log.h"
#include "scenario.h"
#include "util.h"
#include "xmalloc.h"

/* ---- the registry as the CLI sees it --------------------------------------- */

static const struct scenario_def *
cli_find(const char *name, struct custom_scenario *const *custom)
{
	const struct scenario_def	*d;
	const struct custom_scenario	*cs;

	if ((d = scenario_find(name)) != NULL)
		return d;
	if ((cs = custom_find(custom, name)) != NULL)
		return custom_def(cs);
	return NULL;
}

static void
cli_unknown(const char *name, struct custom_scenario *const *custom)
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

int
cli_chapters(const struct cli_opts *o, struct custom_scenario *const *custom)
{
	const struct scenario_def	*d;
	size_t				 i, w = 0;

	for (d = scenario_builtins(); d->name != NULL; d++)
		if (strlen(d->name) > w)
			w = strlen(d->name);
	for (i = 0; custom != NULL && custom[i] != NULL; i++)
		if (strlen(custom[i]->name) > w)
			w = strlen(custom[i]->name);
	for (d = scenario_builtins(); d->name != NULL; d++)
		printf("%-*s  %s\n", (int)w, d->name, d->summary);
	for (i = 0; custom != NULL && custom[i] != NULL; i++)
		printf("%-*s  %s (custom, %s:%d)\n", (int)w, custom[i]->name,
		    custom[i]->summary, custom[i]->file, custom[i]->line);
	return CLI_EXIT_OK;
}

static void
cli_list(const char *title, const char *const *v)
{
	size_t	 i;

	if (v == NULL || v[0] == NULL)
		return;
	printf("\n%s:\n", title);
	for (i = 0; v[i] != NULL; i++)
		printf("  %s\n", v[i]);
}

int
cli_about(const struct cli_opts *o, struct custom_scenario *const *custom)
{
	const struct scenario_def	*d;
	const char			*p, *nl;

	if ((d = cli_find(o->about, custom)) == NULL) {
		cli_unknown(o->about, custom);
		return CLI_EXIT_USAGE;
	}
	printf("%s - %s\n\n", d->name, d->summary);
	for (p = d->description; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL) {
			printf("  %s\n", p);
			break;
		}
		if (nl == p)
			printf("\n");
		else
			printf("  %.*s\n", (int)(nl - p), p);
	}
	cli_list("Calls", d->calls);
	cli_list("Permissions", d->permissions);
	cli_list("MITRE ATT&CK", d->mitre);
	if (d->settings_help != NULL) {
		printf("\nSettings:\n");
		for (p = d->settings_help; *p != '\0'; p = nl + 1) {
			if ((nl = strchr(p, '\n')) == NULL) {
				printf("  %s\n", p);
				break;
			}
			printf("  %.*s\n", (int)(nl - p), p);
		}
	}
	return CLI_EXIT_OK;
}

/* ---- --regions ------------------------------------------------------------- */

char **
cli_split_regions(const char *s, char **cause)
{
	char	**v = NULL, *copy, *p, *tok;
	size_t	  n = 0, i;

	copy = xstrdup(s);
	p = copy;
	v = xcalloc(1, sizeof(*v));
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
			for (i = 0; i < n; i++)
				free(v[i]);
			free(v);
			return NULL;
		}
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = xstrdup(tok);
		v[n] = NULL;
	}
	free(copy);
	if (n == 0) {
		xasprintf(cause, "--regions wants a comma-separated list of "
		    "regions, e.g. us-east-1,eu-west-1");
		free(v);
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
	struct run		*run;
	int			 done;
	int			 halted;
	int			 tty;
	FILE			*out;		/* progress: stderr */
	struct cli_region	*regions;
	size_t			 nregions;
	int			 drawn;		/* lines of the block on screen */
	struct run_finding	*findings;	/* strings owned */
	size_t			 nfindings;
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
cli_hook_progress(struct run *run, const char *region, const char *step,
    void *arg)
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
cli_hook_call(struct run *run, const struct run_call *c, void *arg)
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
cli_hook_finding(struct run *run, const struct run_finding *f, void *arg)
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

static void
cli_hook_done(struct run *run, int halted, void *arg)
{
	struct cli_run	*cr = arg;

	cr->done = 1;
	cr->halted = halted;
}

static void
cli_signal(evutil_socket_t sig, short ev, void *arg)
{
	struct cli_run	*cr = arg;

	if (cr->run != NULL && !run_finished(cr->run))
		run_abort(cr->run, sig == SIGINT ? "interrupted" :
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
	    "error; %zu CloudTrail expectations (not verified)\n", s.calls,
	    s.permitted, s.denied, s.skipped, s.errors, s.expectations);
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
}

int
cli_scenario(const struct cli_opts *o, struct custom_scenario *const *custom)
{
	const struct scenario_def	*d;
	const struct custom_scenario	*cs;
	struct event_base		*base;
	struct http_engine		*http;
	struct aws_client		*client;
	struct aws_client_opts		 copts;
	struct creds_provider		*creds;
	struct creds_ctx		 cctx;
	struct run_opts			 ropts;
	struct run_hooks		 hooks;
	struct run_summary		 s;
	struct cli_run			 cr;
	struct event			*sigint, *sigterm;
	char				**include = NULL, *cause = NULL;
	const char			*term;
	size_t				 i;
	int				 rc;

	if ((d = cli_find(o->scenario, custom)) == NULL) {
		cli_unknown(o->scenario, custom);
		return CLI_EXIT_USAGE;
	}
	cs = custom_find(custom, o->scenario);
	if (o->regions != NULL &&
	    (include = cli_split_regions(o->regions, &cause)) == NULL) {
		fprintf(stderr, "cloudsagad: %s\n", cause);
		free(cause);
		return CLI_EXIT_USAGE;
	}
	if (o->account != NULL && *o->account == '\0') {
		fprintf(stderr, "cloudsagad: --account wants a name\n");
		free(include);
		return CLI_EXIT_USAGE;
	}

	memset(&cr, 0, sizeof(cr));
	cr.out = stderr;
	term = getenv("TERM");
	cr.tty = isatty(STDERR_FILENO) && (term == NULL ||
	    strcmp(term, "dumb") != 0);

	base = event_base_new();
	if (base == NULL)
		fatalx("event_base_new failed");
	http = http_engine_new(base, NULL);
	memset(&copts, 0, sizeof(copts));
	copts.allow_live = o->allow_live;
	copts.endpoints.endpoint_url = o->endpoint_url;
	client = aws_client_new(base, http, &copts);
	memset(&cctx, 0, sizeof(cctx));
	cctx.base = base;
	cctx.http = http;
	cctx.client = client;
	creds = creds_default_chain(&cctx, o->profile);

	memset(&ropts, 0, sizeof(ropts));
	ropts.base = base;
	ropts.client = client;
	ropts.creds = creds;
	ropts.account = o->account ? o->account : "default";
	ropts.include = (const char *const *)include;
	ropts.allow_live = o->allow_live;
	ropts.custom = cs;

	memset(&hooks, 0, sizeof(hooks));
	hooks.call = cli_hook_call;
	hooks.progress = cli_hook_progress;
	hooks.finding = cli_hook_finding;
	hooks.done = cli_hook_done;
	hooks.arg = &cr;

	sigint = evsignal_new(base, SIGINT, cli_signal, &cr);
	sigterm = evsignal_new(base, SIGTERM, cli_signal, &cr);
	evsignal_add(sigint, NULL);
	evsignal_add(sigterm, NULL);

	fprintf(cr.out, "cloudsagad: running %s for account %s\n", d->name,
	    ropts.account);
	cr.run = run_start(d, &ropts, &hooks);
	while (!cr.done)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	cli_draw(&cr);

	cli_report(stdout, &cr, cr.run);
	fflush(stdout);
	run_summarize(cr.run, &s);
	rc = s.ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;

	run_free(cr.run);
	event_free(sigint);
	event_free(sigterm);
	/* Providers first: an AssumeRole provider may hold a client call. */
	creds_provider_free(creds);
	aws_client_free(client);
	http_engine_free(http);
	event_base_free(base);

	for (i = 0; i < cr.nregions; i++) {
		free(cr.regions[i].name);
		free(cr.regions[i].step);
	}
	free(cr.regions);
	for (i = 0; i < cr.nfindings; i++) {
		free((char *)cr.findings[i].region);
		free((char *)cr.findings[i].kind);
		free((char *)cr.findings[i].resource);
		free((char *)cr.findings[i].detail);
	}
	free(cr.findings);
	if (include != NULL) {
		for (i = 0; include[i] != NULL; i++)
			free(include[i]);
		free(include);
	}
	return rc;
}
