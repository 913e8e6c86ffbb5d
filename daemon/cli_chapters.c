/*
 * cli_chapters: the catalogue on the command line (#11).
 *
 *   --chapters      every scenario, grouped by ATT&CK tactic (in the
 *                   tactics' ID order), one line each: name, ATT&CK
 *                   technique IDs, summary; custom scenarios last; then
 *                   the Stratus techniques cloudsagad cannot exercise
 *   --about NAME    description, tactic, Stratus techniques, calls, each
 *                   call's safety, role, evidence and where it goes,
 *                   permissions, ATT&CK, the lookup-events command that
 *                   confirms each assumed expectation, settings; for a
 *                   Stratus technique without a safe form (by name or
 *                   Stratus ID): why, and what cloudsagad offers instead
 *
 * Line format of --chapters (parsed by the bash completion and tests): a
 * scenario line is two spaces, the name, at least two spaces, the IDs,
 * the summary; tactic headings start in column 0; the no-safe-form lines
 * are indented by four spaces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "buf.h"
#include "cli.h"
#include "custom.h"
#include "scenario.h"
#include "technique.h"
#include "util.h"
#include "xmalloc.h"

/* "T1562.008, T1578.005" from a scenario's mitre strings. */
static char *
cli_chapters_ids(const char *const *mitre)
{
	struct buf	 b;
	char		 id[32];
	size_t		 i;

	buf_init(&b);
	for (i = 0; mitre != NULL && mitre[i] != NULL; i++) {
		scenario_mitre_id(mitre[i], id, sizeof(id));
		buf_printf(&b, "%s%s", i > 0 ? "," : "", id);
	}
	if (b.len == 0)
		buf_addstr(&b, "-");
	return buf_release(&b);
}

/* Tactic order: the TA number; no tactic last. */
static long
cli_tactic_rank(const char *tactic_id)
{
	if (tactic_id == NULL || strncmp(tactic_id, "TA", 2) != 0)
		return 1000000;
	return strtol(tactic_id + 2, NULL, 10);
}

int
cli_chapters(const struct cli_opts *o, struct custom_scenario *const *custom)
{
	const struct scenario_def	*d, *all = scenario_builtins();
	const struct technique_unsafe	*u;
	const char			*seen[64];
	size_t				 nseen = 0, i, j, w = 0, wi = 0;
	long				 rank, best;
	int				 other;
	char				*ids, id[32];

	(void)o;
	for (d = all; d->name != NULL; d++) {
		if (strlen(d->name) > w)
			w = strlen(d->name);
		ids = cli_chapters_ids(d->mitre);
		if (strlen(ids) > wi)
			wi = strlen(ids);
		free(ids);
	}
	for (i = 0; custom != NULL && custom[i] != NULL; i++)
		if (strlen(custom[i]->name) > w)
			w = strlen(custom[i]->name);

	/* One group per tactic, in ATT&CK's order. */
	for (;;) {
		best = -1;
		for (d = all; d->name != NULL; d++) {
			if (d->tactic == NULL)
				continue;
			for (j = 0; j < nseen; j++)
				if (strcmp(seen[j], d->tactic) == 0)
					break;
			if (j < nseen)
				continue;
			rank = cli_tactic_rank(d->tactic_id);
			if (best == -1 || rank < best)
				best = rank;
		}
		if (best == -1 || nseen == nitems(seen))
			break;
		for (d = all; d->name != NULL; d++)
			if (d->tactic != NULL &&
			    cli_tactic_rank(d->tactic_id) == best)
				break;
		seen[nseen++] = d->tactic;
		printf("%s%s (%s)\n", nseen > 1 ? "\n" : "", d->tactic,
		    d->tactic_id != NULL ? d->tactic_id : "-");
		for (d = all; d->name != NULL; d++) {
			if (d->tactic == NULL ||
			    strcmp(d->tactic, seen[nseen - 1]) != 0)
				continue;
			ids = cli_chapters_ids(d->mitre);
			printf("  %-*s  %-*s  %s\n", (int)w, d->name, (int)wi,
			    ids, d->summary);
			free(ids);
		}
	}
	other = 0;
	for (d = all; d->name != NULL; d++) {
		if (d->tactic != NULL)
			continue;
		if (other++ == 0)
			printf("\nOther\n");
		ids = cli_chapters_ids(d->mitre);
		printf("  %-*s  %-*s  %s\n", (int)w, d->name, (int)wi, ids,
		    d->summary);
		free(ids);
	}
	if (custom != NULL && custom[0] != NULL) {
		printf("\nCustom (configuration)\n");
		for (i = 0; custom[i] != NULL; i++) {
			ids = cli_chapters_ids((const char *const *)
			    custom[i]->mitre);
			printf("  %-*s  %-*s  %s (custom, %s:%d)\n", (int)w,
			    custom[i]->name, (int)wi, ids, custom[i]->summary,
			    custom[i]->file, custom[i]->line);
			free(ids);
		}
	}
	printf("\nStratus techniques with no safe form (cloudsagad --about NAME "
	    "says why)\n");
	for (u = technique_unsafe_list(); u->name != NULL; u++) {
		scenario_mitre_id(u->mitre, id, sizeof(id));
		printf("    %-*s  %-*s  %s\n", (int)w - 2, u->name, (int)wi, id,
		    u->stratus);
	}
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

/* Text with "\n" paragraphs, indented by two. */
static void
cli_text(const char *text)
{
	const char	*p, *nl;

	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL) {
			printf("  %s\n", p);
			break;
		}
		if (nl == p)
			printf("\n");
		else
			printf("  %.*s\n", (int)(nl - p), p);
	}
}

/* A paragraph wrapped at 76 columns, indented by two. */
static void
cli_wrap(const char *text)
{
	const char	*p = text, *sp;
	size_t		 col = 0, n;

	printf("  ");
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if ((sp = strchr(p, ' ')) == NULL)
			sp = p + strlen(p);
		n = (size_t)(sp - p);
		if (col > 0 && col + 1 + n > 74) {
			printf("\n  ");
			col = 0;
		} else if (col > 0) {
			printf(" ");
			col++;
		}
		printf("%.*s", (int)n, p);
		col += n;
		p = sp;
	}
	printf("\n");
}

static int
cli_about_unsafe(const struct technique_unsafe *u)
{
	printf("%s - no safe form: cloudsagad does not exercise it\n\n",
	    u->name);
	printf("Stratus Red Team:\n  %s\n\n", u->stratus);
	printf("Why:\n");
	cli_wrap(u->why);
	printf("\nInstead:\n");
	cli_wrap(u->instead != NULL ? u->instead :
	    "nothing: no safe call or posture check covers it.");
	printf("\nTactic:\n  %s (%s)\n", u->tactic, u->tactic_id);
	printf("\nMITRE ATT&CK:\n  %s\n", u->mitre);
	return CLI_EXIT_OK;
}

static const char *
cli_evidence_text(enum aws_evidence e)
{
	switch (e) {
	case AWS_EVIDENCE_OBSERVED:
		return "seen in real CloudTrail records";
	case AWS_EVIDENCE_ASSUMED:
		return "no source says this form is recorded: a record not "
		    "found is reported at notice, not as a logging gap";
	case AWS_EVIDENCE_DOCUMENTED:
		break;
	}
	return "AWS documents that CloudTrail records it";
}

static char *
cli_evidence_label(const struct scenario_call_info *c)
{
	if (c->source == NULL)
		return xstrdup(aws_evidence_name(c->evidence));
	return xprintf("%s [%s]", aws_evidence_name(c->evidence), c->source);
}

static void
cli_about_calls(const struct scenario_def *d)
{
	const struct scenario_call_info	*c;
	const struct aws_service	*svc;
	size_t				 w = 0, we = 0, len, nassumed = 0;
	char				*call, *ev, *legend;

	for (c = d->call_info; c->service != NULL; c++) {
		len = strlen(c->service) + 1 + strlen(c->action);
		if (len > w)
			w = len;
		ev = cli_evidence_label(c);
		if (strlen(ev) > we)
			we = strlen(ev);
		free(ev);
	}
	printf("\nEach call (safety, role, evidence [source], where):\n");
	for (c = d->call_info; c->service != NULL; c++) {
		call = xprintf("%s:%s", c->service, c->action);
		ev = cli_evidence_label(c);
		printf("  %-*s  %-9s  %-7s  %-*s  %s\n", (int)w, call,
		    aws_safety_name(c->safety), aws_role_name(c->role),
		    (int)we, ev, c->where);
		free(ev);
		free(call);
		if (c->evidence == AWS_EVIDENCE_ASSUMED)
			nassumed++;
	}
	legend = xprintf("(signal: a detection should fire on it, alert "
	    "coverage is judged; context: discovery the technique needs, "
	    "verified in CloudTrail, never an alert gap.  Evidence: "
	    "documented = %s; observed = %s; assumed = %s.)",
	    cli_evidence_text(AWS_EVIDENCE_DOCUMENTED),
	    cli_evidence_text(AWS_EVIDENCE_OBSERVED),
	    cli_evidence_text(AWS_EVIDENCE_ASSUMED));
	printf("\n");
	cli_wrap(legend);
	free(legend);
	if (nassumed == 0)
		return;
	printf("\nConfirm the assumed expectations after a run (use the region "
	    "the call\nwent to, shown in --scenario's table, for us-east-1):"
	    "\n");
	for (c = d->call_info; c->service != NULL; c++) {
		if (c->evidence != AWS_EVIDENCE_ASSUMED)
			continue;
		if ((svc = aws_service_find(c->service)) == NULL)
			continue;
		printf("  aws cloudtrail lookup-events --lookup-attributes "
		    "AttributeKey=EventName,AttributeValue=%s --region "
		    "us-east-1\n", expectation_event_name(svc, c->action));
	}
}

int
cli_about(const struct cli_opts *o, struct custom_scenario *const *custom)
{
	const struct scenario_def	*d;
	const struct technique_unsafe	*u;
	const char			*p, *nl;

	if ((d = cli_scenario_find(o->about, custom)) == NULL) {
		if ((u = technique_unsafe_find(o->about)) != NULL)
			return cli_about_unsafe(u);
		cli_scenario_unknown(o->about, custom);
		return CLI_EXIT_USAGE;
	}
	printf("%s - %s\n\n", d->name, d->summary);
	cli_text(d->description);
	if (d->tactic != NULL)
		printf("\nTactic:\n  %s (%s)\n", d->tactic,
		    d->tactic_id != NULL ? d->tactic_id : "-");
	cli_list("Stratus Red Team", d->stratus);
	cli_list("Calls", d->calls);
	if (d->call_info != NULL)
		cli_about_calls(d);
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
