/*
 * metrics: Prometheus metrics in a node_exporter textfile (metrics.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <sqlite3.h>

#include "aws.h"
#include "buf.h"
#include "config.h"
#include "custom.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "scenario.h"
#include "util.h"
#include "xmalloc.h"

#define METRICS_MARK		"metrics_seq"
#define METRICS_LATENCY		"cloudsagad_cloudtrail_delivery_latency_seconds"

/* LookupEvents requests not yet added to the table. */
struct metrics_lookups {
	char		*account;
	char		*region;
	unsigned long	 requests;
	unsigned long	 throttles;
};

struct metrics {
	struct event_base	*base;
	struct db		*db;
	const struct config	*cfg;
	char			*path;		/* NULL: no file */
	struct event		*ev;
	int			 armed;
	int			 failing;	/* the last write failed */
	struct metrics_lookups	*lk;
	size_t			 nlk;
};

/* Rows read before the upserts (which would reset the statement). */
struct metrics_vrow {
	int64_t	 seq;
	char	*scenario, *account, *region, *verdict;
	char	*role;
	double	 fired_at, found_at;
};
struct metrics_rrow {
	int64_t	 seq;
	char	*entry;
	double	 started;
	int	 halted, failed, missing, unverified;
};

enum metrics_type { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM };

/* Every family of the file, in the order written. */
static const struct metrics_family {
	const char		*name;
	enum metrics_type	 type;
	const char		*help;
} metrics_families[] = {
	{ "cloudsagad_verdicts_total", METRICS_COUNTER,
	  "Verdicts reported, by scenario, region, account, verdict "
	  "(logged, missing, unverified) and role (signal, context)." },
	{ "cloudsagad_technique_verdicts_total", METRICS_COUNTER,
	  "Verdicts reported, once for each MITRE ATT&CK technique the "
	  "scenario names (a verdict of a scenario with three techniques "
	  "counts three times)." },
	{ "cloudsagad_runs_total", METRICS_COUNTER,
	  "Runs over (every verdict and the summary reported), by schedule "
	  "entry and result (clean, gap, could_not_test, unverified, "
	  "halted)." },
	{ "cloudsagad_could_not_test_runs_total", METRICS_COUNTER,
	  "Runs over in which some calls failed (could not test), by "
	  "schedule entry." },
	{ "cloudsagad_pending_expectations", METRICS_GAUGE,
	  "Calls waiting for their CloudTrail verdict." },
	{ "cloudsagad_last_run_timestamp_seconds", METRICS_GAUGE,
	  "Start time of the last run over, by schedule entry (Unix "
	  "seconds)." },
	{ "cloudsagad_last_clean_run_timestamp_seconds", METRICS_GAUGE,
	  "Start time of the last clean run over (every call as intended, "
	  "every verdict logged), by schedule entry (Unix seconds)." },
	{ "cloudsagad_schedule_interval_seconds", METRICS_GAUGE,
	  "The period of each enabled schedule entry (every; 86400 for a "
	  "daily at), for alerts on the last (clean) run." },
	{ METRICS_LATENCY, METRICS_HISTOGRAM,
	  "CloudTrail delivery latency of logged calls: from the call's "
	  "send time until LookupEvents returned its record (seconds; "
	  "resolution: the verify interval)." },
	{ "cloudsagad_lookup_events_requests_total", METRICS_COUNTER,
	  "LookupEvents requests answered (one per page; the engine's "
	  "retries of a request count once), by account and region." },
	{ "cloudsagad_lookup_events_throttles_total", METRICS_COUNTER,
	  "LookupEvents requests that ended throttled after the engine's "
	  "retries, by account and region." },
};

static const double metrics_buckets[] = METRICS_LATENCY_BUCKETS;
static const char *const metrics_verdicts[] = { "logged", "missing",
    "unverified" };
static const char *const metrics_results[] = { "clean", "gap",
    "could_not_test", "unverified", "halted" };
#define METRICS_NBUCKETS (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

static void	metrics_timer_cb(evutil_socket_t, short, void *);
static void	metrics_arm(struct metrics *, double);

/* ---- labels and values ------------------------------------------------ */

void
metrics_escape(struct buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '\\':
			buf_addstr(b, "\\\\");
			break;
		case '"':
			buf_addstr(b, "\\\"");
			break;
		case '\n':
			buf_addstr(b, "\\n");
			break;
		default:
			buf_addch(b, *s);
		}
	}
}

/* name="value",... of a NULL-terminated list of names and values. */
static char *
metrics_labels(const char *const *kv)
{
	struct buf	 b;
	size_t		 i;

	buf_init(&b);
	for (i = 0; kv[i] != NULL; i += 2) {
		if (i > 0)
			buf_addch(&b, ',');
		buf_printf(&b, "%s=\"", kv[i]);
		metrics_escape(&b, kv[i + 1]);
		buf_addch(&b, '"');
	}
	return buf_release(&b);
}

static void
metrics_value(struct buf *b, double v)
{
	if (v == floor(v) && fabs(v) < 1e15)
		buf_printf(b, "%.0f", v);
	else
		buf_printf(b, "%.17g", v);
}

/* ---- the table ----------------------------------------------------------- */

/* Add v to a counter (max: keep the larger, for timestamps). */
static int
metrics_add(struct metrics *m, const char *name, const char *labels,
    double v, int max, char **cause)
{
	static const char	*sql_add = "INSERT INTO metrics (name, labels, "
	    "value) VALUES (?, ?, ?) ON CONFLICT (name, labels) DO UPDATE SET "
	    "value = value + excluded.value";
	static const char	*sql_max = "INSERT INTO metrics (name, labels, "
	    "value) VALUES (?, ?, ?) ON CONFLICT (name, labels) DO UPDATE SET "
	    "value = max(value, excluded.value)";
	sqlite3_stmt		*st;

	if ((st = db_stmt(m->db, max ? sql_max : sql_add, cause)) == NULL)
		return -1;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, labels);
	sqlite3_bind_double(st, 3, v);
	return db_done(m->db, st, cause);
}

static int
metrics_add_kv(struct metrics *m, const char *name, const char *const *kv,
    double v, int max, char **cause)
{
	char	*labels = metrics_labels(kv);
	int	 rc;

	rc = metrics_add(m, name, labels, v, max, cause);
	free(labels);
	return rc;
}

/* The techniques of a scenario (built-in, or custom of the config). */
static const char *const *
metrics_mitre(struct metrics *m, const char *scenario)
{
	const struct scenario_def	*def;
	const struct custom_scenario	*cs;

	if ((def = scenario_find(scenario)) != NULL)
		return def->mitre;
	if (m->cfg != NULL && m->cfg->custom_list != NULL &&
	    (cs = custom_find(m->cfg->custom_list, scenario)) != NULL)
		return custom_def(cs)->mitre;
	return NULL;
}

/*
 * The role of a row (its `role` column, schema 3): signal (the call a
 * detection should fire on) or context (discovery the technique needs).
 */
static const char *
metrics_role(const char *role)
{
	return role != NULL && strcmp(role, "context") == 0 ? "context" :
	    "signal";
}

static int
metrics_count_verdicts(struct metrics *m, int64_t mark, int64_t *top,
    char **cause)
{
	static const char	*sql = "SELECT e.seq, r.scenario, r.account, "
	    "e.region, e.verdict, e.role, e.fired_at, e.found_at FROM "
	    "expectations e JOIN runs r USING (run_id) WHERE e.seq > ? AND "
	    "e.seq > 0 AND e.verdict != 'pending' ORDER BY e.seq";
	sqlite3_stmt		*st;
	const char *const	*mitre;
	char			*scenario, *account, *region, *verdict;
	char			 tech[32], le[32];
	struct metrics_vrow	*rows = NULL;
	double			 lat;
	int			 rc = 0, r;
	size_t			 i, k, n = 0;

	/* "seq > 0" too: the partial index expectations_seq is used. */
	if ((st = db_stmt(m->db, sql, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mark);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		rows = xreallocarray(rows, n + 1, sizeof(*rows));
		rows[n].seq = sqlite3_column_int64(st, 0);
		rows[n].scenario = db_col_text(st, 1);
		rows[n].account = db_col_text(st, 2);
		rows[n].region = db_col_text(st, 3);
		rows[n].verdict = db_col_text(st, 4);
		rows[n].role = db_col_text(st, 5);
		rows[n].fired_at = db_col_real(st, 6);
		rows[n].found_at = db_col_real(st, 7);
		n++;
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		*cause = db_errmsg(m->db, "counting verdicts");
		rc = -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		scenario = rows[i].scenario ? rows[i].scenario : "";
		account = rows[i].account ? rows[i].account : "";
		region = rows[i].region ? rows[i].region : "";
		verdict = rows[i].verdict ? rows[i].verdict : "";
		if (rows[i].seq > *top)
			*top = rows[i].seq;
		/* Every verdict's series, the others at 0: a first gap is
		 * then an increase that rate() and increase() see. */
		for (k = 0; rc == 0 && k < nitems(metrics_verdicts); k++)
			rc = metrics_add_kv(m, "cloudsagad_verdicts_total",
			    (const char *const []){ "scenario", scenario,
			    "region", region, "account", account, "verdict",
			    metrics_verdicts[k], "role",
			    metrics_role(rows[i].role), NULL },
			    strcmp(verdict, metrics_verdicts[k]) == 0, 0,
			    cause);
		mitre = metrics_mitre(m, scenario);
		for (; rc == 0 && mitre != NULL && *mitre != NULL; mitre++) {
			scenario_mitre_id(*mitre, tech, sizeof(tech));
			for (k = 0; rc == 0 && k < nitems(metrics_verdicts);
			    k++)
				rc = metrics_add_kv(m,
				    "cloudsagad_technique_verdicts_total",
				    (const char *const []){ "technique", tech,
				    "verdict", metrics_verdicts[k], NULL },
				    strcmp(verdict, metrics_verdicts[k]) == 0,
				    0, cause);
		}
		if (rc != 0 || strcmp(verdict, "logged") != 0 ||
		    rows[i].found_at <= 0 || rows[i].fired_at <= 0)
			continue;
		lat = rows[i].found_at - rows[i].fired_at;
		if (lat < 0)
			lat = 0;
		for (k = 0; rc == 0 && k < METRICS_NBUCKETS; k++)
			if (lat <= metrics_buckets[k]) {
				snprintf(le, sizeof(le), "le=\"%g\"",
				    metrics_buckets[k]);
				rc = metrics_add(m, METRICS_LATENCY "_bucket",
				    le, 1, 0, cause);
			}
		if (rc == 0)
			rc = metrics_add(m, METRICS_LATENCY "_bucket",
			    "le=\"+Inf\"", 1, 0, cause);
		if (rc == 0)
			rc = metrics_add(m, METRICS_LATENCY "_sum", "", lat, 0,
			    cause);
		if (rc == 0)
			rc = metrics_add(m, METRICS_LATENCY "_count", "", 1, 0,
			    cause);
	}
	for (i = 0; i < n; i++) {
		free(rows[i].scenario);
		free(rows[i].account);
		free(rows[i].region);
		free(rows[i].verdict);
		free(rows[i].role);
	}
	free(rows);
	return rc;
}

static int
metrics_count_runs(struct metrics *m, int64_t mark, int64_t *top,
    char **cause)
{
	static const char	*sql = "SELECT r.summary_seq, r.entry, "
	    "r.started, r.halted, r.failed, (SELECT count(*) FROM "
	    "expectations e WHERE e.run_id = r.run_id AND e.verdict = "
	    "'missing'), (SELECT count(*) FROM expectations e WHERE "
	    "e.run_id = r.run_id AND e.verdict = 'unverified') FROM runs r "
	    "WHERE r.summary_seq > ? AND r.summary_seq > 0 ORDER BY "
	    "r.summary_seq";
	sqlite3_stmt		*st;
	const char		*result, *entry;
	struct metrics_rrow	*runs = NULL;
	size_t			 n = 0, i, k;
	int			 r, rc = 0;

	if ((st = db_stmt(m->db, sql, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, mark);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		runs = xreallocarray(runs, n + 1, sizeof(*runs));
		runs[n].seq = sqlite3_column_int64(st, 0);
		runs[n].entry = db_col_text(st, 1);
		runs[n].started = db_col_real(st, 2);
		runs[n].halted = sqlite3_column_int(st, 3);
		runs[n].failed = sqlite3_column_int(st, 4);
		runs[n].missing = sqlite3_column_int(st, 5);
		runs[n].unverified = sqlite3_column_int(st, 6);
		n++;
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		*cause = db_errmsg(m->db, "counting runs");
		rc = -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		entry = runs[i].entry ? runs[i].entry : "";
		if (runs[i].seq > *top)
			*top = runs[i].seq;
		/* The worst first. */
		if (runs[i].halted)
			result = "halted";
		else if (runs[i].missing > 0)
			result = "gap";
		else if (runs[i].failed > 0)
			result = "could_not_test";
		else if (runs[i].unverified > 0)
			result = "unverified";
		else
			result = "clean";
		/* Every result's series, the others at 0 (see above). */
		for (k = 0; rc == 0 && k < nitems(metrics_results); k++)
			rc = metrics_add_kv(m, "cloudsagad_runs_total",
			    (const char *const []){ "entry", entry, "result",
			    metrics_results[k], NULL },
			    strcmp(result, metrics_results[k]) == 0, 0, cause);
		if (rc == 0)
			rc = metrics_add_kv(m,
			    "cloudsagad_could_not_test_runs_total",
			    (const char *const []){ "entry", entry, NULL },
			    runs[i].failed > 0, 0, cause);
		if (rc == 0)
			rc = metrics_add_kv(m,
			    "cloudsagad_last_run_timestamp_seconds",
			    (const char *const []){ "entry", entry, NULL },
			    runs[i].started, 1, cause);
		if (rc == 0 && strcmp(result, "clean") == 0)
			rc = metrics_add_kv(m,
			    "cloudsagad_last_clean_run_timestamp_seconds",
			    (const char *const []){ "entry", entry, NULL },
			    runs[i].started, 1, cause);
	}
	for (i = 0; i < n; i++)
		free(runs[i].entry);
	free(runs);
	return rc;
}

static int
metrics_count_lookups(struct metrics *m, char **cause)
{
	struct metrics_lookups	*l;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < m->nlk && rc == 0; i++) {
		l = &m->lk[i];
		if (l->requests > 0)
			rc = metrics_add_kv(m,
			    "cloudsagad_lookup_events_requests_total",
			    (const char *const []){ "account", l->account,
			    "region", l->region, NULL }, (double)l->requests, 0,
			    cause);
		if (rc == 0 && l->requests > 0)
			rc = metrics_add_kv(m,
			    "cloudsagad_lookup_events_throttles_total",
			    (const char *const []){ "account", l->account,
			    "region", l->region, NULL }, (double)l->throttles,
			    0, cause);
	}
	return rc;
}

int
metrics_count(struct metrics *m, char **cause)
{
	int64_t	 mark = 0, top;
	size_t	 i;

	/* Inside someone's transaction, rows may not be final yet. */
	if (db_in_transaction(m->db)) {
		*cause = xstrdup("a transaction is open");
		return -1;
	}
	if (db_begin(m->db, cause) == -1)
		return -1;
	(void)db_meta_get_int(m->db, METRICS_MARK, &mark);
	top = mark;
	if (metrics_count_verdicts(m, mark, &top, cause) == -1 ||
	    metrics_count_runs(m, mark, &top, cause) == -1 ||
	    metrics_count_lookups(m, cause) == -1 ||
	    (top != mark && db_meta_set_int(m->db, METRICS_MARK, top,
	    cause) == -1)) {
		db_rollback(m->db);
		return -1;
	}
	if (db_commit(m->db, cause) == -1)
		return -1;
	for (i = 0; i < m->nlk; i++)
		m->lk[i].requests = m->lk[i].throttles = 0;
	return 0;
}

/* ---- the text ------------------------------------------------------------ */

static int
metrics_render_rows(struct metrics *m, struct buf *b, const char *name,
    char **cause)
{
	static const char	*sql = "SELECT labels, value FROM metrics "
	    "WHERE name = ? ORDER BY labels";
	sqlite3_stmt		*st;
	const char		*labels;
	int			 r;

	if ((st = db_stmt(m->db, sql, cause)) == NULL)
		return -1;
	db_bind_text(st, 1, name);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		labels = (const char *)sqlite3_column_text(st, 0);
		buf_addstr(b, name);
		if (labels != NULL && *labels != '\0')
			buf_printf(b, "{%s}", labels);
		buf_addch(b, ' ');
		metrics_value(b, sqlite3_column_double(st, 1));
		buf_addch(b, '\n');
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		*cause = db_errmsg(m->db, NULL);
		return -1;
	}
	return 0;
}

static int
metrics_get(struct metrics *m, const char *name, const char *labels,
    double *v, char **cause)
{
	static const char	*sql = "SELECT value FROM metrics WHERE name = ? "
	    "AND labels = ?";
	sqlite3_stmt		*st;

	*v = 0;
	if ((st = db_stmt(m->db, sql, cause)) == NULL)
		return -1;
	db_bind_text(st, 1, name);
	db_bind_text(st, 2, labels);
	if (sqlite3_step(st) == SQLITE_ROW)
		*v = sqlite3_column_double(st, 0);
	sqlite3_reset(st);
	return 0;
}

static int
metrics_render_histogram(struct metrics *m, struct buf *b, char **cause)
{
	char	 le[32];
	double	 v;
	size_t	 i;

	for (i = 0; i <= METRICS_NBUCKETS; i++) {
		if (i < METRICS_NBUCKETS)
			snprintf(le, sizeof(le), "le=\"%g\"", metrics_buckets[i]);
		else
			snprintf(le, sizeof(le), "le=\"+Inf\"");
		if (metrics_get(m, METRICS_LATENCY "_bucket", le, &v,
		    cause) == -1)
			return -1;
		buf_printf(b, "%s_bucket{%s} ", METRICS_LATENCY, le);
		metrics_value(b, v);
		buf_addch(b, '\n');
	}
	if (metrics_get(m, METRICS_LATENCY "_sum", "", &v, cause) == -1)
		return -1;
	buf_printf(b, "%s_sum ", METRICS_LATENCY);
	metrics_value(b, v);
	if (metrics_get(m, METRICS_LATENCY "_count", "", &v, cause) == -1)
		return -1;
	buf_printf(b, "\n%s_count ", METRICS_LATENCY);
	metrics_value(b, v);
	buf_addch(b, '\n');
	return 0;
}

static int
metrics_pending(struct metrics *m, double *v, char **cause)
{
	static const char	*sql = "SELECT count(*) FROM expectations "
	    "WHERE verdict = 'pending'";
	sqlite3_stmt		*st;

	*v = 0;
	if ((st = db_stmt(m->db, sql, cause)) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		*v = sqlite3_column_double(st, 0);
	sqlite3_reset(st);
	return 0;
}

static void
metrics_render_intervals(struct metrics *m, struct buf *b, const char *name)
{
	const struct config_entry	*e;
	size_t				 i;
	char				*labels;

	for (i = 0; m->cfg != NULL && i < m->cfg->nentries; i++) {
		e = &m->cfg->entries[i];
		if (!e->enabled)
			continue;
		labels = metrics_labels((const char *const []){ "entry",
		    e->name, NULL });
		buf_printf(b, "%s{%s} ", name, labels);
		metrics_value(b, e->every > 0 ? e->every : 86400);
		buf_addch(b, '\n');
		free(labels);
	}
}

int
metrics_render(struct metrics *m, struct buf *b, char **cause)
{
	const struct metrics_family	*f;
	size_t				 i;
	double				 v;
	int				 rc = 0;
	static const char *const	 types[] = { "counter", "gauge",
	    "histogram" };

	for (i = 0; i < nitems(metrics_families) && rc == 0; i++) {
		f = &metrics_families[i];
		buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help,
		    f->name, types[f->type]);
		if (f->type == METRICS_HISTOGRAM)
			rc = metrics_render_histogram(m, b, cause);
		else if (strcmp(f->name,
		    "cloudsagad_schedule_interval_seconds") == 0)
			metrics_render_intervals(m, b, f->name);
		else if (strcmp(f->name, "cloudsagad_pending_expectations")
		    == 0) {
			if ((rc = metrics_pending(m, &v, cause)) == 0) {
				buf_printf(b, "%s ", f->name);
				metrics_value(b, v);
				buf_addch(b, '\n');
			}
		} else
			rc = metrics_render_rows(m, b, f->name, cause);
	}
	return rc;
}

/* ---- the file ------------------------------------------------------------ */

int
metrics_write_file(const char *path, const char *data, size_t len,
    char **cause)
{
	const char	*slash = strrchr(path, '/');
	char		*dir, *tmp, id[33];
	size_t		 off = 0;
	ssize_t		 w;
	int		 fd, dfd, saved;

	dir = slash == NULL ? xstrdup(".") : slash == path ? xstrdup("/") :
	    xstrndup(path, (size_t)(slash - path));
	random_id128(id);
	/* A dot name without ".prom": the collector never reads it. */
	tmp = xprintf("%s/.%s.%.8s.tmp", dir, slash != NULL ? slash + 1 :
	    path, id);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644)) == -1) {
		*cause = xprintf("%s: %s", tmp, strerror(errno));
		goto fail;
	}
	(void)fchmod(fd, 0644);		/* whatever the umask */
	while (off < len) {
		if ((w = write(fd, data + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		off += (size_t)w;
	}
	if (off < len || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlink(tmp);
		*cause = xprintf("%s: %s", tmp, strerror(saved));
		goto fail;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		saved = errno;
		unlink(tmp);
		*cause = xprintf("%s: %s", path, strerror(saved));
		goto fail;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) != -1) {
		if (fsync(dfd) == -1)
			log_debug("fsync %s: %s", dir, strerror(errno));
		close(dfd);
	}
	free(tmp);
	free(dir);
	return 0;
fail:
	free(tmp);
	free(dir);
	return -1;
}

int
metrics_write(struct metrics *m, char **cause)
{
	struct buf	 b;
	int		 rc;

	if (m->path == NULL)
		return 0;
	if (metrics_count(m, cause) == -1)
		return -1;
	buf_init(&b);
	if ((rc = metrics_render(m, &b, cause)) == 0)
		rc = metrics_write_file(m->path, b.data ? b.data : "", b.len,
		    cause);
	buf_free(&b);
	return rc;
}

/* ---- life cycle ---------------------------------------------------------- */

static void
metrics_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics	*m = arg;
	char		*cause = NULL;

	m->armed = 0;
	if (metrics_write(m, &cause) == -1) {
		/* Said once per failing streak. */
		if (!m->failing)
			log_warnx("metrics file %s: %s (will retry)", m->path,
			    cause);
		m->failing = 1;
		free(cause);
		/* Not every second: an idle daemon stays idle. */
		metrics_arm(m, METRICS_RETRY_DELAY);
		return;
	}
	if (m->failing)
		log_info("metrics file %s written again", m->path);
	m->failing = 0;
}

static void
metrics_arm(struct metrics *m, double delay)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)delay;
	tv.tv_usec = (suseconds_t)((delay - (double)tv.tv_sec) * 1e6);
	if (m->ev == NULL &&
	    (m->ev = evtimer_new(m->base, metrics_timer_cb, m)) == NULL)
		fatalx("evtimer_new");
	evtimer_add(m->ev, &tv);
	m->armed = 1;
}

void
metrics_touch(struct metrics *m)
{
	if (m == NULL || m->path == NULL || m->armed)
		return;
	metrics_arm(m, METRICS_WRITE_DELAY);
}

void
metrics_lookup(struct metrics *m, const char *account, const char *region,
    int throttled)
{
	struct metrics_lookups	*l = NULL;
	size_t			 i;

	if (m == NULL || account == NULL || region == NULL)
		return;
	for (i = 0; i < m->nlk; i++)
		if (strcmp(m->lk[i].account, account) == 0 &&
		    strcmp(m->lk[i].region, region) == 0) {
			l = &m->lk[i];
			break;
		}
	if (l == NULL) {
		m->lk = xreallocarray(m->lk, m->nlk + 1, sizeof(*m->lk));
		l = &m->lk[m->nlk++];
		memset(l, 0, sizeof(*l));
		l->account = xstrdup(account);
		l->region = xstrdup(region);
	}
	l->requests++;
	if (throttled)
		l->throttles++;
	metrics_touch(m);
}

void
metrics_set_config(struct metrics *m, const struct config *cfg)
{
	const char	*path = cfg->daemon.metrics_file;

	m->cfg = cfg;
	if (path == NULL || m->path == NULL || strcmp(path, m->path) != 0) {
		free(m->path);
		m->path = xstrdup_or_null(path);
		m->failing = 0;
	}
	if (m->path == NULL && m->armed) {
		event_del(m->ev);
		m->armed = 0;
	}
	metrics_touch(m);
}

struct metrics *
metrics_new(struct event_base *base, struct db *db, const struct config *cfg)
{
	struct metrics	*m;

	m = xcalloc(1, sizeof(*m));
	m->base = base;
	m->db = db;
	metrics_set_config(m, cfg);
	return m;
}

void
metrics_free(struct metrics *m)
{
	char	*cause = NULL;
	size_t	 i;

	if (m == NULL)
		return;
	if (m->path != NULL && metrics_write(m, &cause) == -1) {
		log_warnx("metrics file %s: %s", m->path, cause);
		free(cause);
	}
	if (m->ev != NULL)
		event_free(m->ev);
	for (i = 0; i < m->nlk; i++) {
		free(m->lk[i].account);
		free(m->lk[i].region);
	}
	free(m->lk);
	free(m->path);
	free(m);
}
