/*
 * cli_attack: `cloudsagad --attack-layer`, the report's detection coverage
 * as a MITRE ATT&CK Navigator layer (cli_attack.h).
 *
 * The layer follows "ATT&CK Navigator Layer File Format Definition",
 * Version 4.5 (layers/spec/v4.5/layerformat.md of
 * github.com/mitre-attack/attack-navigator, as of the Navigator's v5.1.0
 * release, commit d5846b4b901bbab0087da789b1dadef511600834, 2024-08-13):
 * required are "name" and "domain" ("enterprise-attack"), and in
 * "versions" the "navigator" version (at least 4.9.0) and "layer" ("4.5");
 * a technique object needs "techniqueID" ("T####" or "T####.###") and may
 * have "tactic" (a tactic shortname such as "defense-evasion"), "comment",
 * "enabled", "score" (a number), "color" (overrides the score's colour),
 * "metadata" ({name, value} strings); "gradient" needs "colors" (two or
 * more), "minValue" and "maxValue" (> minValue); a legend item needs
 * "label" and "color".  tests/e2e/test_attack_layer.py checks our output
 * against the same table.
 *
 * Nothing here is a second catalogue of techniques: they come from the
 * registry's and the configuration's mitre strings (scenario_mitre_id()).
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "cli.h"
#include "cli_attack.h"
#include "config.h"
#include "custom.h"
#include "log.h"
#include "scenario.h"
#include "util.h"
#include "xmalloc.h"

#define CLI_ATTACK_LAYER_VERSION	"4.5"
#define CLI_ATTACK_NAVIGATOR_VERSION	"5.1.0"
/* The ATT&CK release the registry's technique IDs were checked against. */
#define CLI_ATTACK_ATTACK_VERSION	"16"
#define CLI_ATTACK_DOMAIN		"enterprise-attack"

/* Distinct regions / accounts / names kept per scenario (then "..."). */
#define CLI_ATTACK_MAXSET		32
/* Distinct unknown kinds / scenarios named on stderr. */
#define CLI_ATTACK_MAXNAMES		5

/* Enterprise tactics (ATT&CK v16): ID -> the Navigator's shortname. */
static const struct {
	const char	*id;
	const char	*shortname;
} cli_attack_tactics[] = {
	{ "TA0001", "initial-access" },
	{ "TA0002", "execution" },
	{ "TA0003", "persistence" },
	{ "TA0004", "privilege-escalation" },
	{ "TA0005", "defense-evasion" },
	{ "TA0006", "credential-access" },
	{ "TA0007", "discovery" },
	{ "TA0008", "lateral-movement" },
	{ "TA0009", "collection" },
	{ "TA0010", "exfiltration" },
	{ "TA0011", "command-and-control" },
	{ "TA0040", "impact" },
	{ "TA0042", "resource-development" },
	{ "TA0043", "reconnaissance" },
};

/* Report kinds written by daemon/report.c that the layer does not use. */
static const char *const cli_attack_other_kinds[] = {
	"call", "safety", "guardduty", "guardduty_finding", NULL
};

/* The score classes, worst first. */
enum cli_attack_class {
	CLI_ATTACK_GAP,
	CLI_ATTACK_UNTESTED,
	CLI_ATTACK_UNCOVERED,
	CLI_ATTACK_UNCHECKED,
	CLI_ATTACK_ALERTED,
};

static const struct {
	double		 score;
	const char	*color;
	const char	*status;
	const char	*legend;
} cli_attack_classes[] = {
	[CLI_ATTACK_GAP] = { 1, "#ff6666", "logging gap",
	    "1 logging gap: a call is missing from CloudTrail" },
	[CLI_ATTACK_UNTESTED] = { 2, "#bdbdbd", "could not test",
	    "2 could not test: a run failed or was halted, calls could not "
	    "be verified, or no run in the window" },
	[CLI_ATTACK_UNCOVERED] = { 3, "#ffa040", "logged, no alert",
	    "3 logged, no alert: some attack call is in CloudTrail but no "
	    "rule or alarm fires" },
	[CLI_ATTACK_UNCHECKED] = { 3.5, "#ffe766",
	    "logged, alerting not checked",
	    "3.5 logged, alerting not checked" },
	[CLI_ATTACK_ALERTED] = { 4, "#8ec843", "alerted",
	    "4 alerted: every logged attack call is covered by an alert" },
};

/* A small sorted set of distinct strings, capped. */
struct cli_attack_set {
	char	*v[CLI_ATTACK_MAXSET];
	size_t	 n;
	int	 more;		/* some values were not kept */
};

/* What the window holds for one scenario. */
struct cli_attack_scen {
	const char		*name;
	int			 scheduled;	/* 1, 0; -1: no config file */
	size_t			 logged, missing, unverified;
	size_t			 context_logged;
	size_t			 covered, uncovered, unchecked;	/* signal */
	size_t			 runs;		/* summary lines */
	size_t			 failed_runs;	/* summary could_not_test */
	size_t			 halted;	/* summary halted */
	size_t			 cnt;		/* could-not-test lines */
	struct cli_attack_set	 regions, accounts;
	char			*last_run;
	time_t			 last_t;
	int			 seen;
};

/* One layer entry: a technique (and tactic) and its scenarios. */
struct cli_attack_tech {
	char			 id[16];
	const char		*tactic;	/* shortname or NULL */
	char			*name;		/* from the first string */
	size_t			*scens;		/* indexes */
	size_t			 nscens;
};

/* The sum over a technique's scenarios. */
struct cli_attack_sum {
	struct cli_attack_scen	 s;		/* counts, sets, last run */
	const char		*last_scenario;
	struct cli_attack_set	 names, unscheduled;
};

struct cli_attack_stats {
	size_t			 lines, used, old, other;
	size_t			 bad, malformed, no_time, unknown_kind;
	size_t			 unknown_scen;
	struct cli_attack_set	 kinds, scens;
};

struct cli_attack {
	const char		*report;	/* as given */
	double			 since;
	const struct config	*cfg;
	const char		*cfg_name;	/* NULL: no file */
	struct cli_attack_scen	*scens;
	size_t			 nscens;
	struct cli_attack_tech	*techs;
	size_t			 ntechs;
	time_t			 start, end;
	int			 have_end;
	struct cli_attack_stats	 st;
};

/* ---- helpers ------------------------------------------------------------ */

static int
cli_attack_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
cli_attack_set_add(struct cli_attack_set *s, const char *v)
{
	size_t	 i;

	if (v == NULL || *v == '\0')
		return;
	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], v) == 0)
			return;
	if (s->n == CLI_ATTACK_MAXSET) {
		s->more = 1;
		return;
	}
	s->v[s->n++] = xstrdup(v);
	qsort(s->v, s->n, sizeof(*s->v), cli_attack_strcmp);
}

static void
cli_attack_set_merge(struct cli_attack_set *to, const struct cli_attack_set *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		cli_attack_set_add(to, s->v[i]);
	if (s->more)
		to->more = 1;
}

static void
cli_attack_set_free(struct cli_attack_set *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	s->n = 0;
	s->more = 0;
}

/* "a, b, c" ("a, b, ..." when values were dropped; none: "-"). */
static char *
cli_attack_set_str(const struct cli_attack_set *s)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	for (i = 0; i < s->n; i++)
		buf_printf(&b, "%s%s", i ? ", " : "", s->v[i]);
	if (s->more)
		buf_addstr(&b, ", ...");
	if (b.len == 0)
		buf_addstr(&b, "-");
	return buf_release(&b);
}

/* A word of s equal to "TA" and four digits, after the technique ID. */
const char *
cli_attack_tactic(const char *mitre)
{
	const char	*p;
	size_t		 n, i;

	if (mitre == NULL)
		return NULL;
	p = mitre + strcspn(mitre, " \t");
	for (;;) {
		p += strspn(p, " \t()[],;:/");
		if (*p == '\0')
			return NULL;
		n = strcspn(p, " \t()[],;:/");
		if (n == 6 && p[0] == 'T' && p[1] == 'A' &&
		    isdigit((unsigned char)p[2]) &&
		    isdigit((unsigned char)p[3]) &&
		    isdigit((unsigned char)p[4]) &&
		    isdigit((unsigned char)p[5])) {
			for (i = 0; i < nitems(cli_attack_tactics); i++)
				if (strncmp(p, cli_attack_tactics[i].id,
				    6) == 0)
					return cli_attack_tactics[i].shortname;
		}
		p += n;
	}
}

/* The technique's name in a registry string: what follows the ID and a
 * tactic ID; NULL when there is nothing. */
static char *
cli_attack_tech_name(const char *mitre)
{
	const char	*p = mitre + strcspn(mitre, " \t");
	size_t		 n;

	p += strspn(p, " \t");
	n = strcspn(p, " \t");
	if (n == 6 && strncmp(p, "TA", 2) == 0) {
		p += n;
		p += strspn(p, " \t");
	}
	return *p != '\0' ? xstrdup(p) : NULL;
}

/* ---- the catalogue ------------------------------------------------------ */

static size_t
cli_attack_add_scen(struct cli_attack *a, const char *name, int scheduled)
{
	struct cli_attack_scen	*s;

	a->scens = xreallocarray(a->scens, a->nscens + 1, sizeof(*a->scens));
	s = &a->scens[a->nscens];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->scheduled = scheduled;
	return a->nscens++;
}

static void
cli_attack_add_tech(struct cli_attack *a, const char *mitre, size_t scen)
{
	struct cli_attack_tech	*t = NULL;
	const char		*tactic;
	char			 id[16];
	size_t			 i;

	scenario_mitre_id(mitre, id, sizeof(id));
	if (!scenario_mitre_ok(id)) {
		fprintf(stderr, "cloudsagad: --attack-layer: scenario %s: "
		    "\"%s\" does not start with a technique ID: left out\n",
		    a->scens[scen].name, mitre);
		return;
	}
	tactic = cli_attack_tactic(mitre);
	for (i = 0; i < a->ntechs; i++)
		if (strcmp(a->techs[i].id, id) == 0 && (a->techs[i].tactic ==
		    tactic || (a->techs[i].tactic != NULL && tactic != NULL &&
		    strcmp(a->techs[i].tactic, tactic) == 0))) {
			t = &a->techs[i];
			break;
		}
	if (t == NULL) {
		a->techs = xreallocarray(a->techs, a->ntechs + 1,
		    sizeof(*a->techs));
		t = &a->techs[a->ntechs++];
		memset(t, 0, sizeof(*t));
		snprintf(t->id, sizeof(t->id), "%s", id);
		t->tactic = tactic;
	}
	if (t->name == NULL)
		t->name = cli_attack_tech_name(mitre);
	for (i = 0; i < t->nscens; i++)
		if (t->scens[i] == scen)
			return;
	t->scens = xreallocarray(t->scens, t->nscens + 1, sizeof(*t->scens));
	t->scens[t->nscens++] = scen;
}

/* 1 when an enabled schedule entry runs the scenario; -1 without a file. */
static int
cli_attack_scheduled(const struct cli_attack *a, const char *name)
{
	size_t	 i;

	if (a->cfg_name == NULL)
		return -1;
	for (i = 0; i < a->cfg->nentries; i++)
		if (a->cfg->entries[i].enabled &&
		    strcmp(a->cfg->entries[i].scenario, name) == 0)
			return 1;
	return 0;
}

/*
 * A scenario and its techniques.  The tactic comes from each mitre string
 * (cli_attack_tactic()); a tactic field that struct scenario_def may gain
 * belongs in cli_attack_add_tech() next to it, taking precedence.
 */
static void
cli_attack_add_def(struct cli_attack *a, const struct scenario_def *d)
{
	const char *const	*m;
	size_t			 scen;

	scen = cli_attack_add_scen(a, d->name, cli_attack_scheduled(a,
	    d->name));
	for (m = d->mitre; m != NULL && *m != NULL; m++)
		cli_attack_add_tech(a, *m, scen);
}

static int
cli_attack_tech_cmp(const void *x, const void *y)
{
	const struct cli_attack_tech	*a = x, *b = y;
	int				 c;

	if ((c = strcmp(a->id, b->id)) != 0)
		return c;
	/* Without a tactic first: a tactic's own entry comes after it and
	 * wins in that tactic. */
	if (a->tactic == NULL || b->tactic == NULL)
		return (a->tactic != NULL) - (b->tactic != NULL);
	return strcmp(a->tactic, b->tactic);
}

static void
cli_attack_catalogue(struct cli_attack *a)
{
	const struct scenario_def	*d;
	size_t				 i;

	for (d = scenario_builtins(); d->name != NULL; d++)
		cli_attack_add_def(a, d);
	for (i = 0; a->cfg->custom_list != NULL &&
	    a->cfg->custom_list[i] != NULL; i++)
		cli_attack_add_def(a, custom_def(a->cfg->custom_list[i]));
	if (a->ntechs > 0)
		qsort(a->techs, a->ntechs, sizeof(*a->techs),
		    cli_attack_tech_cmp);
}

static struct cli_attack_scen *
cli_attack_find_scen(struct cli_attack *a, const char *name)
{
	size_t	 i;

	for (i = 0; i < a->nscens; i++)
		if (strcmp(a->scens[i].name, name) == 0)
			return &a->scens[i];
	return NULL;
}

/* ---- reading the report ------------------------------------------------- */

/*
 * The report as a seekable stream: the file itself, or (standard input, a
 * pipe) a copy in an unlinked temporary file.  NULL and *cause on error.
 */
static FILE *
cli_attack_open(const char *path, char **cause)
{
	struct stat	 sb;
	FILE		*in, *tmp;
	char		 b[65536];
	size_t		 n;
	int		 std = strcmp(path, "-") == 0;

	if (std)
		in = stdin;
	else if ((in = fopen(path, "r")) == NULL) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(in), &sb) == -1) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		goto fail;
	}
	if (S_ISDIR(sb.st_mode)) {
		*cause = xprintf("%s: %s", path, strerror(EISDIR));
		goto fail;
	}
	if (S_ISREG(sb.st_mode))
		return in;
	if ((tmp = tmpfile()) == NULL) {
		*cause = xprintf("%s: a temporary copy: %s", path,
		    strerror(errno));
		goto fail;
	}
	while ((n = fread(b, 1, sizeof(b), in)) > 0)
		if (fwrite(b, 1, n, tmp) != n) {
			*cause = xprintf("%s: a temporary copy: %s", path,
			    strerror(errno));
			fclose(tmp);
			goto fail;
		}
	if (ferror(in)) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		fclose(tmp);
		goto fail;
	}
	if (!std)
		fclose(in);
	rewind(tmp);
	return tmp;
fail:
	if (!std)
		fclose(in);
	return NULL;
}

/* A line as a JSON object, or NULL (blank lines: *blank). */
static json_t *
cli_attack_parse(char *line, ssize_t len, int *blank)
{
	json_error_t	 err;
	json_t		*o;
	ssize_t		 i;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	*blank = 1;
	for (i = 0; i < len; i++)
		if (!isspace((unsigned char)line[i]))
			*blank = 0;
	if (*blank)
		return NULL;
	o = json_loadb(line, (size_t)len, 0, &err);
	if (o != NULL && !json_is_object(o)) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

/* The kinds the layer reads. */
static int
cli_attack_used_kind(const char *k)
{
	return strcmp(k, "verdict") == 0 || strcmp(k, "summary") == 0 ||
	    strcmp(k, "could-not-test") == 0;
}

static int
cli_attack_time(json_t *o, time_t *ret)
{
	const char	*s = json_string_value(json_object_get(o, "time"));

	return s != NULL && time_parse_iso8601(s, ret) == 0 ? 0 : -1;
}

/* First pass: the window ends at the newest line the layer reads. */
static int
cli_attack_pass_end(struct cli_attack *a, FILE *f, char **cause)
{
	json_t		*o;
	const char	*k;
	char		*line = NULL;
	size_t		 cap = 0;
	ssize_t		 len;
	time_t		 t;
	int		 blank;

	while ((len = getline(&line, &cap, f)) != -1) {
		if ((o = cli_attack_parse(line, len, &blank)) == NULL)
			continue;
		k = json_string_value(json_object_get(o, "kind"));
		if (k != NULL && cli_attack_used_kind(k) &&
		    cli_attack_time(o, &t) == 0 && (!a->have_end ||
		    t > a->end)) {
			a->end = t;
			a->have_end = 1;
		}
		json_decref(o);
	}
	free(line);
	if (ferror(f)) {
		*cause = xprintf("%s: %s", a->report, strerror(errno));
		return -1;
	}
	if (a->have_end)
		a->start = a->end - (time_t)a->since;
	return 0;
}

static void
cli_attack_last_run(struct cli_attack_scen *s, json_t *o, time_t t)
{
	const char	*run = json_string_value(json_object_get(o, "run_id"));

	if (run == NULL)
		return;
	/* The newest line; of equal times, the later one in the file. */
	if (s->last_run == NULL || t >= s->last_t) {
		free(s->last_run);
		s->last_run = xstrdup(run);
		s->last_t = t;
	}
}

/* A verdict line; -1 when it is malformed. */
static int
cli_attack_verdict(struct cli_attack_scen *s, json_t *o)
{
	const char	*v, *role, *cov;
	int		 signal;

	if ((v = json_string_value(json_object_get(o, "verdict"))) == NULL)
		return -1;
	role = json_string_value(json_object_get(o, "role"));
	signal = role == NULL || strcmp(role, "context") != 0;
	if (strcmp(v, "logged") == 0) {
		s->logged++;
		if (!signal) {
			s->context_logged++;
			return 0;
		}
		cov = json_string_value(json_object_get(o, "coverage"));
		if (cov != NULL && strcmp(cov, "covered") == 0)
			s->covered++;
		else if (cov != NULL && strcmp(cov, "uncovered") == 0)
			s->uncovered++;
		else
			s->unchecked++;
	} else if (strcmp(v, "missing") == 0)
		s->missing++;
	else if (strcmp(v, "unverified") == 0)
		s->unverified++;
	else
		return -1;
	cli_attack_set_add(&s->regions,
	    json_string_value(json_object_get(o, "region")));
	return 0;
}

static void
cli_attack_could_not_test(struct cli_attack_scen *s, json_t *o)
{
	json_t	*x;
	size_t	 i;

	s->cnt++;
	json_array_foreach(json_object_get(o, "failures"), i, x) {
		const char	*r = json_string_value(json_object_get(x,
		    "region"));

		/* "global": an IAM call, not a region. */
		if (r != NULL && strcmp(r, "global") != 0)
			cli_attack_set_add(&s->regions, r);
	}
}

static void
cli_attack_line(struct cli_attack *a, json_t *o)
{
	struct cli_attack_stats	*st = &a->st;
	struct cli_attack_scen	*s;
	const char		*k, *name;
	time_t			 t;
	size_t			 i;

	if ((k = json_string_value(json_object_get(o, "kind"))) == NULL) {
		st->unknown_kind++;
		cli_attack_set_add(&st->kinds, "(none)");
		return;
	}
	if (!cli_attack_used_kind(k)) {
		for (i = 0; cli_attack_other_kinds[i] != NULL; i++)
			if (strcmp(k, cli_attack_other_kinds[i]) == 0) {
				st->other++;
				return;
			}
		st->unknown_kind++;
		if (st->kinds.n < CLI_ATTACK_MAXNAMES)
			cli_attack_set_add(&st->kinds, k);
		else
			st->kinds.more = 1;
		return;
	}
	if (cli_attack_time(o, &t) == -1) {
		st->no_time++;
		return;
	}
	if (t < a->start) {
		st->old++;
		return;
	}
	if ((name = json_string_value(json_object_get(o, "scenario"))) ==
	    NULL) {
		st->malformed++;
		return;
	}
	if ((s = cli_attack_find_scen(a, name)) == NULL) {
		st->unknown_scen++;
		if (st->scens.n < CLI_ATTACK_MAXNAMES)
			cli_attack_set_add(&st->scens, name);
		else
			st->scens.more = 1;
		return;
	}
	if (strcmp(k, "verdict") == 0) {
		if (cli_attack_verdict(s, o) == -1) {
			st->malformed++;
			return;
		}
	} else if (strcmp(k, "summary") == 0) {
		s->runs++;
		if (json_is_true(json_object_get(o, "could_not_test")))
			s->failed_runs++;
		if (json_is_true(json_object_get(o, "halted")))
			s->halted++;
	} else
		cli_attack_could_not_test(s, o);
	cli_attack_set_add(&s->accounts,
	    json_string_value(json_object_get(o, "account")));
	cli_attack_last_run(s, o, t);
	s->seen = 1;
	st->used++;
}

/* Second pass: count the window's lines. */
static int
cli_attack_pass_count(struct cli_attack *a, FILE *f, char **cause)
{
	json_t	*o;
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 len;
	int	 blank;

	while ((len = getline(&line, &cap, f)) != -1) {
		o = cli_attack_parse(line, len, &blank);
		if (blank)
			continue;
		a->st.lines++;
		if (o == NULL) {
			a->st.bad++;
			continue;
		}
		cli_attack_line(a, o);
		json_decref(o);
	}
	free(line);
	if (ferror(f)) {
		*cause = xprintf("%s: %s", a->report, strerror(errno));
		return -1;
	}
	return 0;
}

/* ", 2 not JSON" (with " (a, b)": the names). */
static void
cli_attack_count(struct buf *b, size_t n, const char *what,
    const struct cli_attack_set *names)
{
	char	*s;

	if (n == 0)
		return;
	buf_printf(b, "%s%zu %s", b->len ? ", " : "", n, what);
	if (names != NULL && names->n > 0) {
		s = cli_attack_set_str(names);
		buf_printf(b, " (%s)", s);
		free(s);
	}
}

/* What was skipped, on stderr; the rest at -v. */
static void
cli_attack_report_stats(const struct cli_attack *a)
{
	const struct cli_attack_stats	*st = &a->st;
	struct buf			 b;

	buf_init(&b);
	cli_attack_count(&b, st->bad, "not JSON", NULL);
	cli_attack_count(&b, st->unknown_kind, "of an unknown kind",
	    &st->kinds);
	cli_attack_count(&b, st->no_time, "without a valid \"time\"", NULL);
	cli_attack_count(&b, st->malformed, "without a scenario or a known "
	    "verdict", NULL);
	cli_attack_count(&b, st->unknown_scen, "of scenarios neither built "
	    "in nor in the configuration", &st->scens);
	if (b.len > 0)
		fprintf(stderr, "cloudsagad: --attack-layer: %s: skipped "
		    "lines: %s\n",
		    a->report, buf_str(&b));
	buf_free(&b);
	log_info("--attack-layer: %s: %zu lines: %zu used, %zu older than "
	    "the window, %zu of kinds the layer does not read (call, safety, "
	    "guardduty)", a->report, st->lines, st->used, st->old, st->other);
	if (!a->have_end)
		fprintf(stderr, "cloudsagad: --attack-layer: %s holds no "
		    "verdict, summary or could-not-test line: every technique "
		    "is \"could not test\"\n", a->report);
	else if ((double)(time(NULL) - a->end) > a->since) {
		char	 t[21], d[32];

		time_iso8601(a->end, t);
		duration_format(a->since, d, sizeof(d));
		fprintf(stderr, "cloudsagad: --attack-layer: the newest line "
		    "of %s is from %s, more than %s ago: the layer shows "
		    "the %s before it\n", a->report, t, d, d);
	}
}

/* ---- the layer ---------------------------------------------------------- */

static void
cli_attack_sum(const struct cli_attack *a, const struct cli_attack_tech *t,
    struct cli_attack_sum *sum)
{
	const struct cli_attack_scen	*s;
	size_t				 i;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < t->nscens; i++) {
		s = &a->scens[t->scens[i]];
		cli_attack_set_add(&sum->names, s->name);
		if (s->scheduled == 0)
			cli_attack_set_add(&sum->unscheduled, s->name);
		sum->s.logged += s->logged;
		sum->s.missing += s->missing;
		sum->s.unverified += s->unverified;
		sum->s.context_logged += s->context_logged;
		sum->s.covered += s->covered;
		sum->s.uncovered += s->uncovered;
		sum->s.unchecked += s->unchecked;
		sum->s.runs += s->runs;
		sum->s.failed_runs += s->failed_runs;
		sum->s.halted += s->halted;
		sum->s.cnt += s->cnt;
		sum->s.seen |= s->seen;
		cli_attack_set_merge(&sum->s.regions, &s->regions);
		cli_attack_set_merge(&sum->s.accounts, &s->accounts);
		if (s->last_run != NULL && (sum->s.last_run == NULL ||
		    s->last_t > sum->s.last_t)) {
			sum->s.last_run = s->last_run;	/* borrowed */
			sum->s.last_t = s->last_t;
			sum->last_scenario = s->name;
		}
	}
}

static void
cli_attack_sum_free(struct cli_attack_sum *sum)
{
	cli_attack_set_free(&sum->s.regions);
	cli_attack_set_free(&sum->s.accounts);
	cli_attack_set_free(&sum->names);
	cli_attack_set_free(&sum->unscheduled);
}

/* The class and the sentence that explains it. */
static enum cli_attack_class
cli_attack_judge(const struct cli_attack_sum *sum, char **why)
{
	const struct cli_attack_scen	*s = &sum->s;
	size_t				 signal = s->logged - s->context_logged;

	if (s->missing > 0) {
		*why = xprintf("%zu call%s missing from CloudTrail",
		    s->missing, s->missing == 1 ? "" : "s");
		return CLI_ATTACK_GAP;
	}
	if (s->cnt > 0 || s->failed_runs > 0 || s->halted > 0) {
		*why = xprintf("%s", s->halted > 0 ? "a run was halted by a "
		    "safety event" : "a run could not test (some calls "
		    "failed: see its could-not-test report)");
		return CLI_ATTACK_UNTESTED;
	}
	if (!s->seen) {
		*why = xstrdup("no run in the window");
		return CLI_ATTACK_UNTESTED;
	}
	if (signal == 0) {
		if (s->unverified > 0)
			*why = xprintf("no attack call verified: CloudTrail "
			    "could not be searched for %zu call%s%s",
			    s->unverified, s->unverified == 1 ? "" : "s",
			    s->context_logged > 0 ? " (context calls were "
			    "logged)" : "");
		else if (s->context_logged > 0)
			*why = xstrdup("only context calls were logged; no "
			    "attack call was verified");
		else
			*why = xstrdup("no verdict in the window");
		return CLI_ATTACK_UNTESTED;
	}
	if (s->uncovered > 0) {
		*why = xprintf("%zu logged attack call%s alert%s nobody",
		    s->uncovered, s->uncovered == 1 ? "" : "s",
		    s->uncovered == 1 ? "s" : "");
		return CLI_ATTACK_UNCOVERED;
	}
	if (s->unchecked > 0) {
		*why = xprintf("for %zu logged attack call%s", s->unchecked,
		    s->unchecked == 1 ? "" : "s");
		return CLI_ATTACK_UNCHECKED;
	}
	*why = xprintf("every logged attack call (%zu) alerted", s->covered);
	return CLI_ATTACK_ALERTED;
}

static json_t *
cli_attack_number(double v)
{
	if (v == (double)(json_int_t)v)
		return json_integer((json_int_t)v);
	return json_real(v);
}

static void
cli_attack_meta(json_t *arr, const char *name, const char *value)
{
	json_array_append_new(arr, json_pack("{s:s,s:s}", "name", name,
	    "value", value));
}

static void
cli_attack_meta_n(json_t *arr, const char *name, size_t n)
{
	char	 v[32];

	snprintf(v, sizeof(v), "%zu", n);
	cli_attack_meta(arr, name, v);
}

static json_t *
cli_attack_technique(const struct cli_attack *a,
    const struct cli_attack_tech *t)
{
	struct cli_attack_sum	 sum;
	enum cli_attack_class	 c;
	struct buf		 b;
	json_t			*o, *meta;
	char			*why, *names, *uns, *regions, *accounts;
	char			 tm[21];

	cli_attack_sum(a, t, &sum);
	c = cli_attack_judge(&sum, &why);
	names = cli_attack_set_str(&sum.names);
	uns = cli_attack_set_str(&sum.unscheduled);
	regions = cli_attack_set_str(&sum.s.regions);
	accounts = cli_attack_set_str(&sum.s.accounts);
	if (sum.s.last_run != NULL)
		time_iso8601(sum.s.last_t, tm);

	buf_init(&b);
	buf_printf(&b, "%s: %s.\n", cli_attack_classes[c].status, why);
	buf_printf(&b, "Scenarios: %s", names);
	if (sum.unscheduled.n > 0)
		buf_printf(&b, " (not scheduled: %s)", uns);
	buf_printf(&b, ".\nAccounts: %s.\nRegions: %s.\n", accounts, regions);
	buf_printf(&b, "Verdicts: %zu logged (%zu of context calls), %zu "
	    "missing, %zu unverified.\n", sum.s.logged, sum.s.context_logged,
	    sum.s.missing, sum.s.unverified);
	buf_printf(&b, "Alerting of logged attack calls: %zu covered, %zu "
	    "uncovered, %zu not checked.\n", sum.s.covered, sum.s.uncovered,
	    sum.s.unchecked);
	buf_printf(&b, "Runs: %zu (%zu could not test, %zu halted); "
	    "could-not-test reports: %zu.\n", sum.s.runs, sum.s.failed_runs,
	    sum.s.halted, sum.s.cnt);
	if (sum.s.last_run != NULL)
		buf_printf(&b, "Last run: %s (%s) at %s.", sum.s.last_run,
		    sum.last_scenario, tm);
	else
		buf_addstr(&b, "Last run: none in the window.");

	meta = json_array();
	if (t->name != NULL)
		cli_attack_meta(meta, "technique", t->name);
	cli_attack_meta(meta, "status", cli_attack_classes[c].status);
	cli_attack_meta(meta, "scenarios", names);
	if (sum.unscheduled.n > 0)
		cli_attack_meta(meta, "not scheduled", uns);
	cli_attack_meta(meta, "accounts", accounts);
	cli_attack_meta(meta, "regions", regions);
	cli_attack_meta_n(meta, "logged", sum.s.logged);
	cli_attack_meta_n(meta, "missing", sum.s.missing);
	cli_attack_meta_n(meta, "unverified", sum.s.unverified);
	cli_attack_meta_n(meta, "covered", sum.s.covered);
	cli_attack_meta_n(meta, "uncovered", sum.s.uncovered);
	cli_attack_meta_n(meta, "alerting not checked", sum.s.unchecked);
	cli_attack_meta_n(meta, "runs", sum.s.runs);
	cli_attack_meta_n(meta, "runs that could not test", sum.s.failed_runs);
	cli_attack_meta_n(meta, "runs halted", sum.s.halted);
	cli_attack_meta_n(meta, "could-not-test reports", sum.s.cnt);
	cli_attack_meta(meta, "last run", sum.s.last_run != NULL ?
	    sum.s.last_run : "-");
	cli_attack_meta(meta, "last run time", sum.s.last_run != NULL ?
	    tm : "-");

	o = json_object();
	json_object_set_new(o, "techniqueID", json_string(t->id));
	if (t->tactic != NULL)
		json_object_set_new(o, "tactic", json_string(t->tactic));
	json_object_set_new(o, "score",
	    cli_attack_number(cli_attack_classes[c].score));
	json_object_set_new(o, "color",
	    json_string(cli_attack_classes[c].color));
	json_object_set_new(o, "comment", json_string(buf_str(&b)));
	json_object_set_new(o, "enabled", json_true());
	json_object_set_new(o, "metadata", meta);

	buf_free(&b);
	free(why);
	free(names);
	free(uns);
	free(regions);
	free(accounts);
	cli_attack_sum_free(&sum);
	return o;
}

static json_t *
cli_attack_layer_json(const struct cli_attack *a)
{
	json_t		*o, *arr, *colors, *meta;
	struct buf	 d;
	char		 since[32], ts[21], te[21];
	size_t		 i;

	duration_format(a->since, since, sizeof(since));
	buf_init(&d);
	if (a->have_end) {
		time_iso8601(a->start, ts);
		time_iso8601(a->end, te);
		buf_printf(&d, "Detection coverage tested by cloudsagad: the "
		    "verdicts of %s from %s to %s (the last %s of the report). "
		    "Score and colour per technique, worst first: 1 logging "
		    "gap, 2 could not test, 3 logged but no alert, 3.5 logged "
		    "but alerting not checked, 4 alerted.", a->report, ts, te,
		    since);
	} else
		buf_printf(&d, "Detection coverage tested by cloudsagad: %s "
		    "holds no verdict, so nothing shows as tested.",
		    a->report);

	o = json_object();
	json_object_set_new(o, "name", json_string("cloudsagad detection "
	    "coverage"));
	json_object_set_new(o, "versions", json_pack("{s:s,s:s,s:s}",
	    "attack", CLI_ATTACK_ATTACK_VERSION, "navigator",
	    CLI_ATTACK_NAVIGATOR_VERSION, "layer", CLI_ATTACK_LAYER_VERSION));
	json_object_set_new(o, "domain", json_string(CLI_ATTACK_DOMAIN));
	json_object_set_new(o, "description", json_string(buf_str(&d)));
	/* Ascending scores: the gaps first in every tactic. */
	json_object_set_new(o, "sorting", json_integer(2));
	json_object_set_new(o, "hideDisabled", json_false());
	json_object_set_new(o, "layout", json_pack("{s:s,s:b,s:b,s:s}",
	    "layout", "side", "showID", 1, "showName", 1,
	    "expandedSubtechniques", "annotated"));

	arr = json_array();
	for (i = 0; i < a->ntechs; i++)
		json_array_append_new(arr, cli_attack_technique(a,
		    &a->techs[i]));
	json_object_set_new(o, "techniques", arr);

	colors = json_array();
	arr = json_array();
	for (i = 0; i < nitems(cli_attack_classes); i++) {
		if (cli_attack_classes[i].score ==
		    (double)(json_int_t)cli_attack_classes[i].score)
			json_array_append_new(colors,
			    json_string(cli_attack_classes[i].color));
		json_array_append_new(arr, json_pack("{s:s,s:s}", "label",
		    cli_attack_classes[i].legend, "color",
		    cli_attack_classes[i].color));
	}
	/* Scores 1..4, one colour at each integer (3.5 falls between). */
	json_object_set_new(o, "gradient", json_pack("{s:o,s:i,s:i}",
	    "colors", colors, "minValue", 1, "maxValue", 4));
	json_object_set_new(o, "legendItems", arr);

	meta = json_array();
	cli_attack_meta(meta, "generator", "cloudsagad " CLOUDSAGA_VERSION);
	cli_attack_meta(meta, "report", a->report);
	cli_attack_meta(meta, "configuration", a->cfg_name != NULL ?
	    a->cfg_name : "(defaults)");
	cli_attack_meta(meta, "since", since);
	cli_attack_meta(meta, "window start", a->have_end ? ts : "-");
	cli_attack_meta(meta, "window end", a->have_end ? te : "-");
	json_object_set_new(o, "metadata", meta);
	buf_free(&d);
	return o;
}

/* ---- the command -------------------------------------------------------- */

/*
 * The configuration: -c FILE, else the default file; when that does not
 * exist, the defaults (built-in scenarios only, the default report file).
 * NULL on error (printed).  *name: the file's name, NULL for defaults.
 */
static struct config *
cli_attack_config(const struct cli_opts *o, const char **name)
{
	struct config	*cfg = NULL;
	char		*cause = NULL, *def = NULL;
	const char	*path;
	int		 r;

	path = o->config_given ? o->config_file : (def = config_default_path());
	if (!o->config_given && access(path, F_OK) == -1 && errno == ENOENT) {
		free(def);
		*name = NULL;
		r = config_load_string("", "(defaults)", &cfg, &cause);
	} else {
		*name = o->config_given ? o->config_file : NULL;
		r = config_load(path, &cfg, &cause);
		if (r == 0 && !o->config_given)
			*name = cfg->path;
		free(def);
	}
	if (r == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return NULL;
	}
	return cfg;
}

int
cli_attack_layer(const struct cli_opts *o)
{
	struct cli_attack	 a;
	struct config		*cfg;
	json_t			*layer;
	FILE			*f;
	char			*cause = NULL;
	size_t			 i;
	int			 rc = CLI_EXIT_FAIL;

	memset(&a, 0, sizeof(a));
	if ((cfg = cli_attack_config(o, &a.cfg_name)) == NULL)
		return CLI_EXIT_USAGE;
	a.cfg = cfg;
	a.report = o->report != NULL ? o->report : cfg->daemon.report_file;
	a.since = o->since > 0 ? o->since : CLI_ATTACK_SINCE_DEFAULT;
	cli_attack_catalogue(&a);

	if ((f = cli_attack_open(a.report, &cause)) == NULL)
		goto out;
	if (cli_attack_pass_end(&a, f, &cause) == -1)
		goto close;
	if (fseeko(f, 0, SEEK_SET) == -1) {
		cause = xprintf("%s: %s", a.report, strerror(errno));
		goto close;
	}
	if (cli_attack_pass_count(&a, f, &cause) == -1)
		goto close;
	cli_attack_report_stats(&a);

	layer = cli_attack_layer_json(&a);
	if (json_dumpf(layer, stdout, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 &&
	    fputc('\n', stdout) != EOF && fflush(stdout) == 0)
		rc = CLI_EXIT_OK;
	else
		cause = xprintf("standard output: %s", strerror(errno));
	json_decref(layer);
close:
	if (f != stdin)
		fclose(f);
out:
	if (cause != NULL) {
		fprintf(stderr, "cloudsagad: --attack-layer: %s\n", cause);
		free(cause);
	}
	for (i = 0; i < a.nscens; i++) {
		free(a.scens[i].last_run);
		cli_attack_set_free(&a.scens[i].regions);
		cli_attack_set_free(&a.scens[i].accounts);
	}
	free(a.scens);
	for (i = 0; i < a.ntechs; i++) {
		free(a.techs[i].name);
		free(a.techs[i].scens);
	}
	free(a.techs);
	cli_attack_set_free(&a.st.kinds);
	cli_attack_set_free(&a.st.scens);
	config_free(cfg);
	return rc;
}
