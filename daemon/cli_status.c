/*
 * cli_status: `cloudsagad status [--json] [-c FILE]` - what the daemon has
 * done, read from its state database through a read-only connection (WAL:
 * safe while the daemon runs, no lock taken): per schedule entry the last
 * run (when, calls failed, logged / missing / unverified, alert coverage
 * of signal calls) and the next one, the expectations still pending with
 * their deadlines, and the last gaps with their run IDs.
 *
 * Exit status: 0 when the last run of every enabled entry is clean (no
 * failed call, nothing missing or unverified - a call not found whose
 * recording is only assumed is neither; still verifying counts as clean),
 * 1 otherwise, 2 for usage and configuration errors, 3 when there is no
 * state database yet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cli.h"
#include "config.h"
#include "db.h"
#include "util.h"
#include "xmalloc.h"

#define STATUS_GAPS	10

static json_t *
status_time(double t)
{
	char	 b[21];

	if (t <= 0)
		return json_null();
	time_iso8601((time_t)t, b);
	return json_string(b);
}

/* The last run of one entry, with its verdict counts; NULL if none. */
static json_t *
status_last_run(struct db *d, const char *entry, int *clean)
{
	static const char *sql_run = "SELECT run_id, scenario, account, "
	    "started, finished, failed, halted FROM runs WHERE entry = ? "
	    "ORDER BY started DESC LIMIT 1";
	/* Alert coverage is judged for signal calls only (#11). */
	static const char *sql_counts = "SELECT verdict, coverage, role, "
	    "not_found, count(*) FROM expectations WHERE run_id = ? "
	    "GROUP BY verdict, coverage, role, not_found";
	sqlite3_stmt	*st;
	json_t		*o, *v;
	char		*cause = NULL, *run_id;
	const char	*verdict, *cov, *role;
	long		 n, logged = 0, missing = 0, unverified = 0, pending = 0;
	long		 covered = 0, uncovered = 0, unknown = 0;
	long		 unconfirmed = 0, signal = 0, context = 0;
	int		 not_found;

	if ((st = db_stmt(d, sql_run, &cause)) == NULL) {
		free(cause);
		return NULL;
	}
	db_bind_text(st, 1, entry);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return NULL;
	}
	run_id = db_col_text(st, 0);
	o = json_pack("{s:s,s:o,s:o,s:o,s:o,s:i,s:b}", "run_id", run_id,
	    "scenario", json_string(sqlite3_column_text(st, 1) ?
	    (const char *)sqlite3_column_text(st, 1) : ""), "account",
	    json_string(sqlite3_column_text(st, 2) ?
	    (const char *)sqlite3_column_text(st, 2) : ""), "started",
	    status_time(db_col_real(st, 3)), "finished",
	    status_time(db_col_real(st, 4)), "calls_failed",
	    sqlite3_column_int(st, 5), "halted", sqlite3_column_int(st, 6));
	if (sqlite3_column_int(st, 5) > 0 || sqlite3_column_int(st, 6))
		*clean = 0;
	sqlite3_reset(st);
	if ((st = db_stmt(d, sql_counts, &cause)) == NULL) {
		free(cause);
		free(run_id);
		return o;
	}
	db_bind_text(st, 1, run_id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		verdict = (const char *)sqlite3_column_text(st, 0);
		cov = (const char *)sqlite3_column_text(st, 1);
		role = (const char *)sqlite3_column_text(st, 2);
		not_found = sqlite3_column_int(st, 3);
		n = sqlite3_column_int(st, 4);
		if (verdict == NULL)
			continue;
		if (role != NULL && strcmp(role, "context") == 0)
			context += n;
		else
			signal += n;
		if (strcmp(verdict, "logged") == 0)
			logged += n;
		else if (strcmp(verdict, "missing") == 0)
			missing += n;
		else if (strcmp(verdict, "unverified") == 0) {
			unverified += n;
			/* Not found, recorded only by assumption: no gap. */
			if (not_found)
				unconfirmed += n;
		} else
			pending += n;
		if (role != NULL && strcmp(role, "context") == 0)
			continue;
		if (cov != NULL && strcmp(cov, "covered") == 0)
			covered += n;
		else if (cov != NULL && strcmp(cov, "uncovered") == 0)
			uncovered += n;
		else if (cov != NULL && strcmp(cov, "unknown") == 0)
			unknown += n;
	}
	sqlite3_reset(st);
	/* An assumed recording not found is neither a gap nor a failure to
	 * look: it does not make the run unclean. */
	if (missing > 0 || unverified - unconfirmed > 0)
		*clean = 0;
	v = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "logged",
	    (json_int_t)logged, "missing", (json_int_t)missing, "unverified",
	    (json_int_t)unverified, "pending", (json_int_t)pending, "covered",
	    (json_int_t)covered, "uncovered", (json_int_t)uncovered,
	    "coverage_unknown", (json_int_t)unknown, "unconfirmed",
	    (json_int_t)unconfirmed, "signal", (json_int_t)signal, "context",
	    (json_int_t)context);
	json_object_set_new(o, "verdicts", v);
	free(run_id);
	return o;
}

static json_t *
status_build(struct db *d, const struct config *cfg, int *clean)
{
	static const char *sql_last = "SELECT last_start FROM schedule WHERE "
	    "entry = ?";
	static const char *sql_pending = "SELECT e.run_id, r.entry, "
	    "e.region, e.event_name, e.deadline FROM expectations e JOIN runs "
	    "r USING (run_id) WHERE e.verdict = 'pending' ORDER BY e.deadline";
	static const char *sql_gaps = "SELECT e.run_id, r.entry, r.account, "
	    "e.region, e.event_source, e.event_name, e.gap, e.decided_at, "
	    "e.reason FROM expectations e JOIN runs r USING (run_id) WHERE "
	    "e.verdict = 'missing' ORDER BY e.decided_at DESC LIMIT ?";
	const struct config_entry *e;
	sqlite3_stmt	*st;
	json_t		*o, *entries, *ent, *pending, *gaps;
	char		*cause = NULL;
	double		 last, next;
	size_t		 i;

	entries = json_array();
	for (i = 0; i < cfg->nentries; i++) {
		e = &cfg->entries[i];
		ent = json_pack("{s:s,s:s,s:b}", "name", e->name, "scenario",
		    e->scenario, "enabled", e->enabled);
		last = 0;
		if ((st = db_stmt(d, sql_last, &cause)) != NULL) {
			db_bind_text(st, 1, e->name);
			if (sqlite3_step(st) == SQLITE_ROW)
				last = db_col_real(st, 0);
			sqlite3_reset(st);
		} else {
			free(cause);
			cause = NULL;
		}
		next = 0;
		if (e->enabled && e->every > 0)
			next = last > 0 ? last + e->every : now_real();
		json_object_set_new(ent, "last_start", status_time(last));
		json_object_set_new(ent, "next_run", e->enabled && e->every > 0 ?
		    status_time(next) : json_null());
		json_object_set_new(ent, "last_run", e->enabled ?
		    (status_last_run(d, e->name, clean) ?: json_null()) :
		    json_null());
		json_array_append_new(entries, ent);
	}
	pending = json_array();
	if ((st = db_stmt(d, sql_pending, &cause)) != NULL) {
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(pending, json_pack("{s:s?,s:s?,"
			    "s:s?,s:s?,s:o}", "run_id",
			    sqlite3_column_text(st, 0), "entry",
			    sqlite3_column_text(st, 1), "region",
			    sqlite3_column_text(st, 2), "event_name",
			    sqlite3_column_text(st, 3), "deadline",
			    status_time(db_col_real(st, 4))));
		sqlite3_reset(st);
	} else {
		free(cause);
		cause = NULL;
	}
	gaps = json_array();
	if ((st = db_stmt(d, sql_gaps, &cause)) != NULL) {
		sqlite3_bind_int(st, 1, STATUS_GAPS);
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(gaps, json_pack("{s:s?,s:s?,s:s?,"
			    "s:s?,s:s?,s:s?,s:s?,s:o,s:s?}", "run_id",
			    sqlite3_column_text(st, 0), "entry",
			    sqlite3_column_text(st, 1), "account",
			    sqlite3_column_text(st, 2), "region",
			    sqlite3_column_text(st, 3), "event_source",
			    sqlite3_column_text(st, 4), "event_name",
			    sqlite3_column_text(st, 5), "gap",
			    sqlite3_column_text(st, 6), "decided_at",
			    status_time(db_col_real(st, 7)), "reason",
			    sqlite3_column_text(st, 8)));
		sqlite3_reset(st);
	} else
		free(cause);
	o = json_pack("{s:o,s:o,s:o,s:b}", "entries", entries, "pending",
	    pending, "last_gaps", gaps, "clean", *clean);
	return o;
}

static void
status_text(FILE *f, json_t *o)
{
	json_t		*e, *r, *v, *p;
	size_t		 i;

	json_array_foreach(json_object_get(o, "entries"), i, e) {
		fprintf(f, "%s (%s)%s\n", json_string_value(json_object_get(e,
		    "name")), json_string_value(json_object_get(e,
		    "scenario")), json_is_true(json_object_get(e, "enabled")) ?
		    "" : ": disabled");
		r = json_object_get(e, "last_run");
		if (json_is_object(r)) {
			v = json_object_get(r, "verdicts");
			fprintf(f, "  last run  %s  %s  %lld logged, %lld "
			    "missing, %lld unverified (%lld only assumed "
			    "recorded), %lld pending; alerts on signal calls: "
			    "%lld covered, %lld uncovered; %lld calls failed\n",
			    json_string_value(json_object_get(r, "started")),
			    json_string_value(json_object_get(r, "run_id")),
			    (long long)json_integer_value(json_object_get(v,
			    "logged")), (long long)json_integer_value(
			    json_object_get(v, "missing")), (long long)
			    json_integer_value(json_object_get(v,
			    "unverified")), (long long)json_integer_value(
			    json_object_get(v, "unconfirmed")),
			    (long long)json_integer_value(
			    json_object_get(v, "pending")), (long long)
			    json_integer_value(json_object_get(v, "covered")),
			    (long long)json_integer_value(json_object_get(v,
			    "uncovered")), (long long)json_integer_value(
			    json_object_get(r, "calls_failed")));
		} else
			fprintf(f, "  last run  none\n");
		if (json_is_string(json_object_get(e, "next_run")))
			fprintf(f, "  next run  %s\n", json_string_value(
			    json_object_get(e, "next_run")));
	}
	p = json_object_get(o, "pending");
	fprintf(f, "\n%zu expectations pending\n", json_array_size(p));
	json_array_foreach(p, i, e)
		if (i < 20)
			fprintf(f, "  %s %s %s deadline %s\n",
			    json_string_value(json_object_get(e, "run_id")),
			    json_string_value(json_object_get(e, "region")),
			    json_string_value(json_object_get(e, "event_name")),
			    json_string_value(json_object_get(e, "deadline")));
	p = json_object_get(o, "last_gaps");
	fprintf(f, "\nlast gaps\n");
	if (json_array_size(p) == 0)
		fprintf(f, "  none\n");
	json_array_foreach(p, i, e)
		fprintf(f, "  %s  %s %s %s (%s) run %s\n",
		    json_string_value(json_object_get(e, "decided_at")),
		    json_string_value(json_object_get(e, "account")),
		    json_string_value(json_object_get(e, "region")),
		    json_string_value(json_object_get(e, "event_name")),
		    json_is_string(json_object_get(e, "gap")) ?
		    json_string_value(json_object_get(e, "gap")) : "gap",
		    json_string_value(json_object_get(e, "run_id")));
}

int
cli_status(const struct cli_opts *o)
{
	struct config	*cfg;
	struct db	*d;
	json_t		*out;
	char		*cause = NULL, *path, *line;
	int		 clean = 1;

	if (config_load(o->config_file, &cfg, &cause) == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return CLI_EXIT_USAGE;
	}
	path = xprintf("%s/%s", cfg->daemon.state_dir, DB_FILE);
	if (access(path, F_OK) == -1) {
		fprintf(stderr, "cloudsagad: no state yet (%s): the daemon has "
		    "not run with this configuration\n", path);
		free(path);
		config_free(cfg);
		return 3;
	}
	if ((d = db_open(path, DB_READONLY, NULL, NULL, &cause)) == NULL) {
		fprintf(stderr, "cloudsagad: %s\n", cause);
		free(cause);
		free(path);
		config_free(cfg);
		return 3;
	}
	out = status_build(d, cfg, &clean);
	if (o->output_json) {
		line = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("%s\n", line);
		free(line);
	} else
		status_text(stdout, out);
	json_decref(out);
	db_close(d);
	free(path);
	config_free(cfg);
	return clean ? 0 : 1;
}
