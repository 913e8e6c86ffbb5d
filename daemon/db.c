/*
 * db: the state database (db.h; the schema is documented in docs/STATE.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "db.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define DB_NSTMT	64

struct db {
	sqlite3		*h;
	char		*path;		/* NULL: in memory */
	int		 readonly;
	int		 depth;		/* transaction nesting */
	int		 failed;	/* rolled back inside a transaction */
	struct {
		const char	*sql;
		sqlite3_stmt	*st;
	} stmts[DB_NSTMT];
	size_t		 nstmts;
};

/*
 * The schema, version by version: migrations[v - 1] takes a database from
 * version v - 1 to v.  Never edit a released step: add one.
 */
static const char *const db_migrations[] = {
	/* 1: runs, expectations, schedule, outbox, event_state, history. */
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value"
	") WITHOUT ROWID;"
	"CREATE TABLE runs ("
	"  run_id TEXT PRIMARY KEY,"
	"  scenario TEXT NOT NULL,"
	"  account TEXT NOT NULL,"
	"  entry TEXT,"
	"  started REAL NOT NULL,"
	"  finished REAL,"
	"  halted INTEGER NOT NULL DEFAULT 0,"
	"  permitted INTEGER NOT NULL DEFAULT 0,"
	"  denied INTEGER NOT NULL DEFAULT 0,"
	"  skipped INTEGER NOT NULL DEFAULT 0,"
	"  errors INTEGER NOT NULL DEFAULT 0,"
	"  failed INTEGER NOT NULL DEFAULT 0,"
	"  summary_seq INTEGER NOT NULL DEFAULT 0,"
	"  summary_reported INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX runs_open ON runs(summary_reported)"
	"  WHERE summary_reported = 0;"
	"CREATE INDEX runs_entry ON runs(entry, started);"
	"CREATE INDEX runs_finished ON runs(finished);"
	"CREATE TABLE expectations ("
	"  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE,"
	"  idx INTEGER NOT NULL,"
	"  account_id TEXT,"
	"  call_region TEXT,"
	"  region TEXT NOT NULL,"
	"  event_source TEXT NOT NULL,"
	"  event_name TEXT NOT NULL,"
	"  error_code TEXT,"
	"  request_id TEXT,"
	"  access_key_id TEXT,"
	"  user_agent TEXT,"
	"  read_only INTEGER NOT NULL DEFAULT 0,"
	"  fired_at REAL NOT NULL,"
	"  deadline REAL NOT NULL,"
	"  verdict TEXT NOT NULL DEFAULT 'pending' CHECK (verdict IN"
	"    ('pending', 'logged', 'missing', 'unverified')),"
	"  decided_at REAL,"
	"  event_id TEXT,"
	"  found_at REAL,"
	"  event_time REAL,"
	"  match TEXT,"
	"  reason TEXT,"
	"  record TEXT,"
	"  coverage TEXT,"
	"  rules TEXT,"
	"  coverage_reason TEXT,"
	"  gap TEXT,"
	"  alert_gap TEXT,"
	"  seq INTEGER NOT NULL DEFAULT 0,"
	"  reported INTEGER NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (run_id, idx)"
	") WITHOUT ROWID;"
	"CREATE INDEX expectations_event_id ON expectations(event_id)"
	"  WHERE event_id IS NOT NULL;"
	"CREATE INDEX expectations_verdict ON expectations(verdict, decided_at);"
	"CREATE TABLE schedule ("
	"  entry TEXT PRIMARY KEY,"
	"  last_start REAL NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE outbox ("
	"  seq INTEGER PRIMARY KEY,"
	"  report_id TEXT NOT NULL UNIQUE,"
	"  kind TEXT NOT NULL,"
	"  created REAL NOT NULL,"
	"  priority INTEGER NOT NULL,"
	"  message_id TEXT,"
	"  message TEXT NOT NULL,"
	"  fields TEXT NOT NULL,"
	"  line TEXT NOT NULL,"
	"  file_done INTEGER NOT NULL DEFAULT 0,"
	"  journal_done INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX outbox_owed ON outbox(seq)"
	"  WHERE file_done = 0 OR journal_done = 0;"
	"CREATE TABLE event_state ("
	"  account TEXT NOT NULL,"
	"  region TEXT NOT NULL,"
	"  event_source TEXT NOT NULL,"
	"  event_name TEXT NOT NULL,"
	"  first_seen REAL NOT NULL,"
	"  last_seen REAL NOT NULL,"
	"  last_logged REAL,"
	"  last_missing REAL,"
	"  gap_since REAL,"
	"  gap_runs INTEGER NOT NULL DEFAULT 0,"
	"  gap_kind TEXT,"
	"  last_covered REAL,"
	"  last_uncovered REAL,"
	"  alert_gap_since REAL,"
	"  alert_gap_runs INTEGER NOT NULL DEFAULT 0,"
	"  alert_gap_kind TEXT,"
	"  PRIMARY KEY (account, region, event_source, event_name)"
	") WITHOUT ROWID;"
	"CREATE INDEX event_state_seen ON event_state(last_seen);"
	"CREATE TABLE history ("
	"  day TEXT NOT NULL,"
	"  account TEXT NOT NULL,"
	"  region TEXT NOT NULL,"
	"  event_source TEXT NOT NULL,"
	"  event_name TEXT NOT NULL,"
	"  scenario TEXT NOT NULL,"
	"  logged INTEGER NOT NULL DEFAULT 0,"
	"  missing INTEGER NOT NULL DEFAULT 0,"
	"  unverified INTEGER NOT NULL DEFAULT 0,"
	"  covered INTEGER NOT NULL DEFAULT 0,"
	"  uncovered INTEGER NOT NULL DEFAULT 0,"
	"  regressions INTEGER NOT NULL DEFAULT 0,"
	"  last_run_id TEXT,"
	"  last_time REAL,"
	"  PRIMARY KEY (day, account, region, event_source, event_name)"
	") WITHOUT ROWID;"
	"CREATE INDEX history_key ON history(account, region, event_source,"
	"  event_name, day);",
	/* 2: the Prometheus counters (daemon/metrics.c). */
	"CREATE TABLE metrics ("
	"  name TEXT NOT NULL,"
	"  labels TEXT NOT NULL,"
	"  value REAL NOT NULL DEFAULT 0,"
	"  PRIMARY KEY (name, labels)"
	") WITHOUT ROWID;"
	"CREATE INDEX expectations_seq ON expectations(seq) WHERE seq > 0;"
	"CREATE INDEX runs_summary_seq ON runs(summary_seq)"
	"  WHERE summary_seq > 0;",
	/*
	 * 3: every expectation's role (signal/context) and evidence level
	 * (documented/observed/assumed), #11, and whether a complete lookup
	 * after the deadline did not find it.  Rows of versions 1 and 2: the role
	 * the action's read-only flag gives (aws_role_resolve), evidence
	 * "documented" (the built-in calls of version 1 all are), not_found
	 * for every missing row; open alert gaps of events that context
	 * calls make are closed (alerts are judged for signal calls only).
	 */
	"ALTER TABLE expectations ADD COLUMN role TEXT NOT NULL"
	"  DEFAULT 'signal' CHECK (role IN ('signal', 'context'));"
	"ALTER TABLE expectations ADD COLUMN evidence TEXT NOT NULL"
	"  DEFAULT 'documented' CHECK (evidence IN"
	"    ('documented', 'observed', 'assumed'));"
	"ALTER TABLE expectations ADD COLUMN not_found INTEGER NOT NULL"
	"  DEFAULT 0;"
	"UPDATE expectations SET role = 'context' WHERE read_only != 0;"
	"UPDATE expectations SET not_found = 1 WHERE verdict = 'missing';"
	/* A context call's row checked but not yet reported: not judged. */
	"UPDATE expectations SET coverage = 'context', rules = NULL,"
	"  coverage_reason = 'a context call (discovery the technique needs):"
	" alert coverage is judged for signal calls only' WHERE"
	"  role = 'context' AND verdict = 'logged' AND seq = 0 AND"
	"  coverage IS NOT NULL;"
	/* An open alert gap on the event of a context call (read-only,
	 * version 1 judged them all) would stay in the daily digest forever:
	 * closed, without a report. */
	"UPDATE event_state SET alert_gap_since = NULL, alert_gap_runs = 0,"
	"  alert_gap_kind = NULL WHERE alert_gap_since IS NOT NULL AND"
	"  EXISTS (SELECT 1 FROM expectations e JOIN runs r USING (run_id)"
	"    WHERE r.account = event_state.account AND"
	"    e.region = event_state.region AND"
	"    e.event_source = event_state.event_source AND"
	"    e.event_name = event_state.event_name AND e.role = 'context');",
	/*
	 * 4: the remediation of an uncovered row, stored by coverage when it
	 * decides (coverage_set): the JSON object the report line shows and
	 * the journal's one-line text.  Rows of earlier versions judged
	 * uncovered and not yet queued get theirs when the pipeline hands
	 * them to coverage again at start (coverage_fill_remediation).
	 */
	"ALTER TABLE expectations ADD COLUMN remediation TEXT;"
	"ALTER TABLE expectations ADD COLUMN remediation_text TEXT;",
};

#define DB_NMIGRATIONS	(sizeof(db_migrations) / sizeof(db_migrations[0]))

/* ---- small helpers ---------------------------------------------------------- */

char *
db_errmsg(struct db *d, const char *what)
{
	return xprintf("%s%s%s: %s", d->path ? d->path : "state database",
	    what ? ": " : "", what ? what : "", sqlite3_errmsg(d->h));
}

sqlite3 *
db_handle(struct db *d)
{
	return d->h;
}

const char *
db_path(const struct db *d)
{
	return d->path;
}

int
db_exec(struct db *d, const char *sql, char **cause)
{
	char	*err = NULL;

	if (sqlite3_exec(d->h, sql, NULL, NULL, &err) != SQLITE_OK) {
		*cause = xprintf("%s: %s", d->path ? d->path :
		    "state database", err ? err : sqlite3_errmsg(d->h));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

sqlite3_stmt *
db_stmt(struct db *d, const char *sql, char **cause)
{
	sqlite3_stmt	*st;
	size_t		 i;

	for (i = 0; i < d->nstmts; i++)
		if (d->stmts[i].sql == sql) {
			st = d->stmts[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	if (sqlite3_prepare_v3(d->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st,
	    NULL) != SQLITE_OK) {
		*cause = db_errmsg(d, "prepare");
		return NULL;
	}
	if (d->nstmts < DB_NSTMT) {
		d->stmts[d->nstmts].sql = sql;
		d->stmts[d->nstmts++].st = st;
	} else
		fatalx("%s: statement cache full", __func__);
	return st;
}

int
db_done(struct db *d, sqlite3_stmt *st, char **cause)
{
	int	 r;

	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW) {
		*cause = db_errmsg(d, NULL);
		return -1;
	}
	return 0;
}

void
db_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

void
db_bind_real(sqlite3_stmt *st, int i, double v)
{
	if (v == 0)
		sqlite3_bind_null(st, i);
	else
		sqlite3_bind_double(st, i, v);
}

char *
db_col_text(sqlite3_stmt *st, int i)
{
	const unsigned char	*s;

	if (sqlite3_column_type(st, i) == SQLITE_NULL ||
	    (s = sqlite3_column_text(st, i)) == NULL)
		return NULL;
	return xstrdup((const char *)s);
}

double
db_col_real(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return 0;
	return sqlite3_column_double(st, i);
}

/* ---- transactions ------------------------------------------------------------ */

int
db_begin(struct db *d, char **cause)
{
	if (d->depth++ > 0)
		return 0;
	d->failed = 0;
	if (db_exec(d, "BEGIN IMMEDIATE", cause) == -1) {
		d->depth = 0;
		return -1;
	}
	return 0;
}

int
db_commit(struct db *d, char **cause)
{
	if (d->depth == 0)
		return 0;
	if (--d->depth > 0)
		return 0;
	if (d->failed) {
		d->failed = 0;
		*cause = xstrdup("the transaction was rolled back");
		return -1;
	}
	if (db_exec(d, "COMMIT", cause) == -1) {
		(void)sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

void
db_rollback(struct db *d)
{
	if (d->depth == 0)
		return;
	if (!d->failed)
		(void)sqlite3_exec(d->h, "ROLLBACK", NULL, NULL, NULL);
	d->failed = 1;
	if (--d->depth == 0)
		d->failed = 0;
}

int
db_in_transaction(const struct db *d)
{
	return d->depth > 0;
}

/* ---- meta -------------------------------------------------------------------- */

int
db_meta_get_int(struct db *d, const char *key, int64_t *ret)
{
	static const char	*sql = "SELECT value FROM meta WHERE key = ?";
	sqlite3_stmt		*st;
	char			*cause = NULL;
	int			 found = 0;

	*ret = 0;
	if ((st = db_stmt(d, sql, &cause)) == NULL) {
		free(cause);
		return -1;
	}
	db_bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		found = 1;
	}
	sqlite3_reset(st);
	return found ? 0 : -1;
}

int
db_meta_set_int(struct db *d, const char *key, int64_t value, char **cause)
{
	static const char	*sql = "INSERT INTO meta (key, value) "
	    "VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = "
	    "excluded.value";
	sqlite3_stmt		*st;

	if ((st = db_stmt(d, sql, cause)) == NULL)
		return -1;
	db_bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, value);
	return db_done(d, st, cause);
}

/* ---- open, check, migrate ----------------------------------------------- */

static void
db_free(struct db *d)
{
	size_t	 i;

	if (d == NULL)
		return;
	for (i = 0; i < d->nstmts; i++)
		sqlite3_finalize(d->stmts[i].st);
	if (d->h != NULL)
		sqlite3_close_v2(d->h);
	free(d->path);
	free(d);
}

void
db_close(struct db *d)
{
	if (d != NULL && d->depth > 0)
		db_rollback(d);
	db_free(d);
}

/* The database cannot be used as it is: set aside, never repaired in place. */
#define DB_DAMAGED	-2

static int
db_try_open(struct db *d, char **cause)
{
	sqlite3_stmt	*st;
	const char	*s;
	int		 flags, r, version, ok, fd;
	char		*sql;

	/* Private from the start (SQLite gives its -wal and -shm files the
	 * database file's mode), and never through a symbolic link. */
	if (d->path != NULL && !d->readonly) {
		if ((fd = open(d->path, O_RDWR | O_CREAT | O_CLOEXEC |
		    O_NOFOLLOW, 0600)) == -1) {
			*cause = xprintf("%s: %s", d->path, strerror(errno));
			return -1;
		}
		(void)fchmod(fd, 0600);
		close(fd);
	}
	flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW;
	flags |= d->readonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	r = sqlite3_open_v2(d->path != NULL ? d->path : ":memory:", &d->h,
	    flags, NULL);
	if (r != SQLITE_OK) {
		*cause = d->h != NULL ? db_errmsg(d, "open") :
		    xstrdup("sqlite3_open_v2 failed");
		return r == SQLITE_CANTOPEN ? -1 : DB_DAMAGED;
	}
	sqlite3_extended_result_codes(d->h, 1);
	sqlite3_busy_timeout(d->h, DB_BUSY_MS);
	/* Not a database at all (random bytes, a truncated header)? */
	if (sqlite3_exec(d->h, "SELECT count(*) FROM sqlite_schema", NULL,
	    NULL, NULL) != SQLITE_OK) {
		r = sqlite3_errcode(d->h);
		*cause = db_errmsg(d, NULL);
		return r == SQLITE_BUSY || r == SQLITE_CANTOPEN ||
		    r == SQLITE_PERM || r == SQLITE_READONLY ? -1 : DB_DAMAGED;
	}
	if (!d->readonly) {
		if (db_exec(d, "PRAGMA journal_mode = WAL", cause) == -1)
			return -1;
		/* Every commit reaches the disk before it returns: the
		 * exactly-once protocol counts on it. */
		if (db_exec(d, "PRAGMA synchronous = FULL", cause) == -1)
			return -1;
	}
	if (db_exec(d, "PRAGMA foreign_keys = ON", cause) == -1)
		return -1;
	/* A page-level check of what is there. */
	if (sqlite3_prepare_v2(d->h, "PRAGMA quick_check(1)", -1, &st,
	    NULL) != SQLITE_OK) {
		*cause = db_errmsg(d, "quick_check");
		return DB_DAMAGED;
	}
	ok = sqlite3_step(st) == SQLITE_ROW &&
	    (s = (const char *)sqlite3_column_text(st, 0)) != NULL &&
	    strcmp(s, "ok") == 0;
	if (!ok)
		*cause = xprintf("%s: quick_check: %s", d->path,
		    sqlite3_column_text(st, 0) ? (const char *)
		    sqlite3_column_text(st, 0) : sqlite3_errmsg(d->h));
	sqlite3_finalize(st);
	if (!ok)
		return DB_DAMAGED;

	if (sqlite3_prepare_v2(d->h, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
		*cause = db_errmsg(d, "user_version");
		sqlite3_finalize(st);
		return DB_DAMAGED;
	}
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > DB_SCHEMA_VERSION || version < 0) {
		*cause = xprintf("%s: schema version %d is newer than this "
		    "cloudsagad knows (%d)", d->path, version,
		    DB_SCHEMA_VERSION);
		return DB_DAMAGED;
	}
	if (version == 0 && !d->readonly) {
		/* A fresh file, or a database that is not ours? */
		if (sqlite3_prepare_v2(d->h, "SELECT count(*) FROM "
		    "sqlite_schema", -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW) {
			sqlite3_finalize(st);
			*cause = db_errmsg(d, NULL);
			return DB_DAMAGED;
		}
		r = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (r != 0) {
			*cause = xprintf("%s: a database with tables but no "
			    "cloudsagad schema version", d->path);
			return DB_DAMAGED;
		}
	}
	if (d->readonly) {
		if (version != DB_SCHEMA_VERSION) {
			*cause = xprintf("%s: schema version %d, this "
			    "cloudsagad reads %d (start the daemon once to "
			    "migrate it)", d->path, version,
			    DB_SCHEMA_VERSION);
			return -1;
		}
		return 0;
	}
	while (version < DB_SCHEMA_VERSION) {
		if (db_begin(d, cause) == -1)
			return -1;
		sql = xprintf("%s; PRAGMA user_version = %d",
		    db_migrations[version], version + 1);
		r = db_exec(d, sql, cause);
		free(sql);
		if (r == -1) {
			db_rollback(d);
			return DB_DAMAGED;
		}
		if (db_commit(d, cause) == -1)
			return -1;
		version++;
	}
	return 0;
}

/* Move path (and its -wal, -shm) aside under a name not yet taken. */
static char *
db_set_aside(const char *path)
{
	char	 when[32], *to, *from, *side;
	time_t	 t = time(NULL);
	struct tm tm;
	int	 n;
	const char *const sfx[] = { "-wal", "-shm" };
	size_t	 i;

	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
	to = xprintf("%s.corrupt-%s", path, when);
	for (n = 1; access(to, F_OK) == 0 && n < 1000; n++) {
		free(to);
		to = xprintf("%s.corrupt-%s-%d", path, when, n);
	}
	if (rename(path, to) == -1 && errno != ENOENT) {
		log_warn("setting %s aside", path);
		free(to);
		return NULL;
	}
	for (i = 0; i < 2; i++) {
		from = xprintf("%s%s", path, sfx[i]);
		side = xprintf("%s%s", to, sfx[i]);
		if (rename(from, side) == -1 && errno != ENOENT)
			log_warn("setting %s aside", from);
		free(from);
		free(side);
	}
	return to;
}

struct db *
db_open(const char *path, int flags, char **aside, char **whyp,
    char **cause)
{
	struct db	*d;
	char		*why = NULL, *to;
	int		 r;

	if (aside != NULL)
		*aside = NULL;
	if (whyp != NULL)
		*whyp = NULL;
	d = xcalloc(1, sizeof(*d));
	d->path = path != NULL ? xstrdup(path) : NULL;
	d->readonly = (flags & DB_READONLY) != 0;
	if ((flags & DB_FRESH) && path != NULL && !d->readonly) {
		r = DB_DAMAGED;
		why = xstrdup("its content could not be loaded");
	} else if ((r = db_try_open(d, &why)) == 0)
		return d;
	if (r != DB_DAMAGED || d->readonly || path == NULL) {
		*cause = why;
		db_free(d);
		return NULL;
	}
	/* Damaged: set it aside and start afresh. */
	db_free(d);
	if ((to = db_set_aside(path)) == NULL) {
		*cause = xprintf("%s (and it could not be set aside)", why);
		free(why);
		return NULL;
	}
	if (aside != NULL)
		*aside = to;
	else
		free(to);
	if (whyp != NULL)
		*whyp = why;
	else
		free(why);
	d = xcalloc(1, sizeof(*d));
	d->path = xstrdup(path);
	if (db_try_open(d, cause) != 0) {
		db_free(d);
		return NULL;
	}
	return d;
}
