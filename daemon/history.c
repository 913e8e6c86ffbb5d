/*
 * history: regressions versus chronic gaps (history.h).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "db.h"
#include "history.h"
#include "util.h"
#include "xmalloc.h"

#define HISTORY_WINDOW		(7 * 86400.0)
#define HISTORY_RETENTION	(90 * 86400.0)

const char *
history_class_name(enum history_class c)
{
	switch (c) {
	case HISTORY_OK:
		return "ok";
	case HISTORY_FIXED:
		return "fixed";
	case HISTORY_REGRESSION:
		return "regression";
	case HISTORY_NEW:
		return "new";
	case HISTORY_CHRONIC:
		return "chronic";
	case HISTORY_ACKNOWLEDGED:
		return "acknowledged";
	case HISTORY_NONE:
		break;
	}
	return NULL;
}

void
history_params_default(struct history_params *p)
{
	memset(p, 0, sizeof(*p));
	p->window = HISTORY_WINDOW;
	p->retention = HISTORY_RETENTION;
}

static double
history_window(const struct history_params *p)
{
	return p != NULL && p->window > 0 ? p->window : HISTORY_WINDOW;
}

static double
history_retention(const struct history_params *p)
{
	return p != NULL && p->retention > 0 ? p->retention :
	    HISTORY_RETENTION;
}

static int
history_field_match(const char *pattern, const char *value)
{
	if (pattern == NULL || strcmp(pattern, "*") == 0)
		return 1;
	if (value == NULL)
		return 0;
	return fnmatch(pattern, value, 0) == 0;
}

const struct history_ack *
history_ack_find(const struct history_params *p, const char *account,
    const char *region, const char *event_source, const char *event_name,
    int alert, double now)
{
	const struct history_ack	*a;
	size_t				 i;

	for (i = 0; p != NULL && i < p->nacks; i++) {
		a = &p->acks[i];
		if (a->alert != alert || (a->expires > 0 && now >= a->expires))
			continue;
		if (history_field_match(a->account, account) &&
		    history_field_match(a->region, region) &&
		    history_field_match(a->event_source, event_source) &&
		    history_field_match(a->event_name, event_name))
			return a;
	}
	return NULL;
}

/* The state of one key as event_state holds it. */
struct history_state {
	int	 found;
	double	 first_seen, last_seen, last_logged, last_missing;
	double	 gap_since;
	int	 gap_runs;
	char	*gap_kind;
	double	 last_covered, last_uncovered, alert_gap_since;
	int	 alert_gap_runs;
	char	*alert_gap_kind;
};

static const char *const history_sql_get =
    "SELECT first_seen, last_seen, last_logged, last_missing, gap_since, "
    "gap_runs, gap_kind, last_covered, last_uncovered, alert_gap_since, "
    "alert_gap_runs, alert_gap_kind FROM event_state WHERE account = ? AND "
    "region = ? AND event_source = ? AND event_name = ?";
static const char *const history_sql_put =
    "INSERT INTO event_state (account, region, event_source, event_name, "
    "first_seen, last_seen, last_logged, last_missing, gap_since, gap_runs, "
    "gap_kind, last_covered, last_uncovered, alert_gap_since, "
    "alert_gap_runs, alert_gap_kind) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
    "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) ON CONFLICT (account, "
    "region, event_source, event_name) DO UPDATE SET last_seen = ?6, "
    "last_logged = ?7, last_missing = ?8, gap_since = ?9, gap_runs = ?10, "
    "gap_kind = ?11, last_covered = ?12, last_uncovered = ?13, "
    "alert_gap_since = ?14, alert_gap_runs = ?15, alert_gap_kind = ?16";
static const char *const history_sql_day =
    "INSERT INTO history (day, account, region, event_source, event_name, "
    "scenario, logged, missing, unverified, covered, uncovered, "
    "regressions, last_run_id, last_time) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
    "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT (day, account, "
    "region, event_source, event_name) DO UPDATE SET scenario = ?6, "
    "logged = logged + ?7, missing = missing + ?8, unverified = "
    "unverified + ?9, covered = covered + ?10, uncovered = uncovered + "
    "?11, regressions = regressions + ?12, last_run_id = ?13, "
    "last_time = ?14";

static int
history_get(struct db *d, const struct history_verdict *v,
    struct history_state *s, char **cause)
{
	sqlite3_stmt	*st;
	int		 r;

	memset(s, 0, sizeof(*s));
	if ((st = db_stmt(d, history_sql_get, cause)) == NULL)
		return -1;
	db_bind_text(st, 1, v->account);
	db_bind_text(st, 2, v->region);
	db_bind_text(st, 3, v->event_source);
	db_bind_text(st, 4, v->event_name);
	if ((r = sqlite3_step(st)) == SQLITE_ROW) {
		s->found = 1;
		s->first_seen = db_col_real(st, 0);
		s->last_seen = db_col_real(st, 1);
		s->last_logged = db_col_real(st, 2);
		s->last_missing = db_col_real(st, 3);
		s->gap_since = db_col_real(st, 4);
		s->gap_runs = sqlite3_column_int(st, 5);
		s->gap_kind = db_col_text(st, 6);
		s->last_covered = db_col_real(st, 7);
		s->last_uncovered = db_col_real(st, 8);
		s->alert_gap_since = db_col_real(st, 9);
		s->alert_gap_runs = sqlite3_column_int(st, 10);
		s->alert_gap_kind = db_col_text(st, 11);
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		*cause = db_errmsg(d, "event_state");
		return -1;
	}
	return 0;
}

static void
history_kind(char **slot, enum history_class c)
{
	free(*slot);
	*slot = xstrdup_or_null(history_class_name(c));
}

int
history_note(struct db *d, const struct history_params *p,
    const struct history_verdict *v, struct history_result *res,
    char **cause)
{
	struct history_state	 s;
	sqlite3_stmt		*st;
	double			 t = v->time > 0 ? v->time : now_real();
	double			 window = history_window(p);
	char			 day[11];
	struct tm		 tm;
	time_t			 tt;
	int			 logged, missing, covered, uncovered, rc = -1;

	memset(res, 0, sizeof(*res));
	if (history_get(d, v, &s, cause) == -1)
		return -1;
	if (!s.found)
		s.first_seen = t;
	s.last_seen = t;
	logged = strcmp(v->verdict, "logged") == 0;
	missing = strcmp(v->verdict, "missing") == 0;
	/* Alert coverage: of signal calls only (#11). */
	covered = logged && !v->context && v->coverage != NULL &&
	    strcmp(v->coverage, "covered") == 0;
	uncovered = logged && !v->context && v->coverage != NULL &&
	    strcmp(v->coverage, "uncovered") == 0;

	/* The logging verdict. */
	if (logged) {
		if (s.gap_since > 0) {
			res->gap = HISTORY_FIXED;
			res->since = s.gap_since;
			res->runs = s.gap_runs;
		} else
			res->gap = HISTORY_OK;
		s.gap_since = 0;
		s.gap_runs = 0;
		history_kind(&s.gap_kind, HISTORY_NONE);
		s.last_logged = t;
	} else if (missing) {
		res->last_good = s.last_logged;
		res->ack = history_ack_find(p, v->account, v->region,
		    v->event_source, v->event_name, 0, t);
		if (s.gap_since > 0) {
			res->gap = HISTORY_CHRONIC;
			res->since = s.gap_since;
		} else {
			res->gap = s.last_logged > 0 &&
			    t - s.last_logged <= window ? HISTORY_REGRESSION :
			    HISTORY_NEW;
			s.gap_since = t;
			history_kind(&s.gap_kind, res->gap);
		}
		s.gap_runs++;
		res->runs = s.gap_runs;
		if (res->ack != NULL)
			res->gap = HISTORY_ACKNOWLEDGED;
		s.last_missing = t;
	}

	/* Its alert coverage. */
	if (covered) {
		if (s.alert_gap_since > 0) {
			res->alert = HISTORY_FIXED;
			if (res->since == 0)
				res->since = s.alert_gap_since;
		} else
			res->alert = HISTORY_OK;
		s.alert_gap_since = 0;
		s.alert_gap_runs = 0;
		history_kind(&s.alert_gap_kind, HISTORY_NONE);
		s.last_covered = t;
	} else if (uncovered) {
		if (res->last_good == 0)
			res->last_good = s.last_covered;
		if (s.alert_gap_since > 0) {
			res->alert = HISTORY_CHRONIC;
			if (res->since == 0)
				res->since = s.alert_gap_since;
		} else {
			res->alert = s.last_covered > 0 &&
			    t - s.last_covered <= window ?
			    HISTORY_REGRESSION : HISTORY_NEW;
			s.alert_gap_since = t;
			history_kind(&s.alert_gap_kind, res->alert);
		}
		s.alert_gap_runs++;
		if (res->runs == 0)
			res->runs = s.alert_gap_runs;
		if (history_ack_find(p, v->account, v->region,
		    v->event_source, v->event_name, 1, t) != NULL) {
			res->alert = HISTORY_ACKNOWLEDGED;
			if (res->ack == NULL)
				res->ack = history_ack_find(p, v->account,
				    v->region, v->event_source, v->event_name,
				    1, t);
		}
		s.last_uncovered = t;
	}

	if ((st = db_stmt(d, history_sql_put, cause)) == NULL)
		goto out;
	db_bind_text(st, 1, v->account);
	db_bind_text(st, 2, v->region);
	db_bind_text(st, 3, v->event_source);
	db_bind_text(st, 4, v->event_name);
	sqlite3_bind_double(st, 5, s.first_seen);
	sqlite3_bind_double(st, 6, s.last_seen);
	db_bind_real(st, 7, s.last_logged);
	db_bind_real(st, 8, s.last_missing);
	db_bind_real(st, 9, s.gap_since);
	sqlite3_bind_int(st, 10, s.gap_runs);
	db_bind_text(st, 11, s.gap_kind);
	db_bind_real(st, 12, s.last_covered);
	db_bind_real(st, 13, s.last_uncovered);
	db_bind_real(st, 14, s.alert_gap_since);
	sqlite3_bind_int(st, 15, s.alert_gap_runs);
	db_bind_text(st, 16, s.alert_gap_kind);
	if (db_done(d, st, cause) == -1)
		goto out;

	tt = (time_t)t;
	gmtime_r(&tt, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if ((st = db_stmt(d, history_sql_day, cause)) == NULL)
		goto out;
	db_bind_text(st, 1, day);
	db_bind_text(st, 2, v->account);
	db_bind_text(st, 3, v->region);
	db_bind_text(st, 4, v->event_source);
	db_bind_text(st, 5, v->event_name);
	db_bind_text(st, 6, v->scenario != NULL ? v->scenario : "");
	sqlite3_bind_int(st, 7, logged);
	sqlite3_bind_int(st, 8, missing);
	sqlite3_bind_int(st, 9, !logged && !missing);
	sqlite3_bind_int(st, 10, covered);
	sqlite3_bind_int(st, 11, uncovered);
	sqlite3_bind_int(st, 12, (res->gap == HISTORY_REGRESSION) +
	    (res->alert == HISTORY_REGRESSION));
	db_bind_text(st, 13, v->run_id);
	sqlite3_bind_double(st, 14, t);
	if (db_done(d, st, cause) == -1)
		goto out;
	rc = 0;
out:
	free(s.gap_kind);
	free(s.alert_gap_kind);
	return rc;
}

void
history_gaps_free(struct history_gap *g, size_t n)
{
	size_t	 i;

	for (i = 0; g != NULL && i < n; i++) {
		free(g[i].account);
		free(g[i].region);
		free(g[i].event_source);
		free(g[i].event_name);
	}
	free(g);
}

int
history_chronic(struct db *d, const struct history_params *p, double now,
    size_t max, struct history_gap **gaps, size_t *ngaps, char **cause)
{
	static const char	*sql = "SELECT account, region, event_source, "
	    "event_name, gap_since, gap_runs, last_logged, alert_gap_since, "
	    "alert_gap_runs, last_covered FROM event_state WHERE "
	    "(gap_since IS NOT NULL AND gap_runs >= 2) OR "
	    "(alert_gap_since IS NOT NULL AND alert_gap_runs >= 2) "
	    "ORDER BY coalesce(gap_since, alert_gap_since)";
	sqlite3_stmt		*st;
	struct history_gap	*g = NULL;
	size_t			 n = 0;
	int			 r, a;
	char			*acct, *reg, *src, *name;

	*gaps = NULL;
	*ngaps = 0;
	if ((st = db_stmt(d, sql, cause)) == NULL)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		acct = db_col_text(st, 0);
		reg = db_col_text(st, 1);
		src = db_col_text(st, 2);
		name = db_col_text(st, 3);
		for (a = 0; a < 2 && n < max; a++) {
			if (sqlite3_column_type(st, a ? 7 : 4) == SQLITE_NULL ||
			    sqlite3_column_int(st, a ? 8 : 5) < 2)
				continue;
			if (history_ack_find(p, acct, reg, src, name, a, now)
			    != NULL)
				continue;
			g = xreallocarray(g, n + 1, sizeof(*g));
			g[n].account = xstrdup_or_null(acct);
			g[n].region = xstrdup_or_null(reg);
			g[n].event_source = xstrdup_or_null(src);
			g[n].event_name = xstrdup_or_null(name);
			g[n].alert = a;
			g[n].since = db_col_real(st, a ? 7 : 4);
			g[n].runs = sqlite3_column_int(st, a ? 8 : 5);
			g[n].last_good = db_col_real(st, a ? 9 : 6);
			n++;
		}
		free(acct);
		free(reg);
		free(src);
		free(name);
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		history_gaps_free(g, n);
		*cause = db_errmsg(d, "event_state");
		return -1;
	}
	*gaps = g;
	*ngaps = n;
	return 0;
}

int
history_prune(struct db *d, const struct history_params *p, double now,
    int max, char **cause)
{
	static const char	*sql_days = "DELETE FROM history WHERE "
	    "(day, account, region, event_source, event_name) IN (SELECT day, "
	    "account, region, event_source, event_name FROM history WHERE "
	    "day < ? LIMIT ?)";
	static const char	*sql_keys = "DELETE FROM event_state WHERE "
	    "(account, region, event_source, event_name) IN (SELECT account, "
	    "region, event_source, event_name FROM event_state WHERE "
	    "last_seen < ? LIMIT ?)";
	sqlite3_stmt		*st;
	double			 cut = now - history_retention(p);
	char			 day[11];
	struct tm		 tm;
	time_t			 tt = (time_t)cut;
	int			 n;

	gmtime_r(&tt, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	if (db_begin(d, cause) == -1)
		return -1;
	if ((st = db_stmt(d, sql_days, cause)) == NULL)
		goto fail;
	db_bind_text(st, 1, day);
	sqlite3_bind_int(st, 2, max);
	if (db_done(d, st, cause) == -1)
		goto fail;
	n = sqlite3_changes(db_handle(d));
	if ((st = db_stmt(d, sql_keys, cause)) == NULL)
		goto fail;
	sqlite3_bind_double(st, 1, cut);
	sqlite3_bind_int(st, 2, max);
	if (db_done(d, st, cause) == -1)
		goto fail;
	n += sqlite3_changes(db_handle(d));
	if (db_commit(d, cause) == -1)
		return -1;
	return n;
fail:
	db_rollback(d);
	return -1;
}
