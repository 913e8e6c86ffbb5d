/*
 * ledger: expectations and verdicts.  The working set (runs whose report
 * is not finished) lives in memory; every change is written to the state
 * database (db.c, state.db) by ledger_commit() in one transaction.  See
 * ledger.h and docs/STATE.md.
 *
 * Size: the working set and its one-transaction persistence belong
 * together (every change and its SQL in one place).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>

#include "cloudsaga_limits.h"
#include "db.h"
#include "ledger_impl.h"
#include "log.h"
#include "report.h"
#include "schedmem.h"
#include "util.h"
#include "xmalloc.h"

#define LEDGER_LOCK	"lock"

struct ledger {
	char		 *dir;		/* NULL: in memory */
	int		  dirfd;
	int		  lockfd;
	struct db	 *db;
	struct ledger_run **runs;	/* the working set */
	size_t		  nruns;
	uint64_t	  last_seq;
	unsigned	  corrupt;
	struct schedmem	 *sched;	/* written by ledger_commit, or NULL */
	json_t		 *used;		/* {"eventID": true}: proofs given by
					   rows of the working set */
	int		  seq_dirty;
};

static const char *const ledger_verdicts[] = {
	"pending", "logged", "missing", "unverified",
};
static const char *const ledger_coverages[] = {
	"none", "covered", "uncovered", "unknown", "context",
};
static const char *const ledger_row_states[] = {
	"pending", "decided", "judged", "queued", "reported",
};

static void	 ledger_free_runs(struct ledger *);

const char *
verdict_name(enum verdict v)
{
	if ((size_t)v < nitems(ledger_verdicts))
		return ledger_verdicts[v];
	return "unknown";
}

int
verdict_from_name(const char *s, enum verdict *ret)
{
	size_t	 i;

	for (i = 0; s != NULL && i < nitems(ledger_verdicts); i++)
		if (strcmp(s, ledger_verdicts[i]) == 0) {
			*ret = (enum verdict)i;
			return 0;
		}
	return -1;
}

const char *
coverage_name(enum coverage c)
{
	if ((size_t)c < nitems(ledger_coverages))
		return ledger_coverages[c];
	return "unknown";
}

int
coverage_from_name(const char *s, enum coverage *ret)
{
	size_t	 i;

	for (i = 0; s != NULL && i < nitems(ledger_coverages); i++)
		if (strcmp(s, ledger_coverages[i]) == 0) {
			*ret = (enum coverage)i;
			return 0;
		}
	return -1;
}

const char *
ledger_row_state_name(enum ledger_row_state st)
{
	if ((size_t)st < nitems(ledger_row_states))
		return ledger_row_states[st];
	return "unknown";
}

/* ---- a row's state ------------------------------------------------- */

/*
 * The one writer of a row's state.  Forward only: a move back is refused
 * (-1), except an undo, which only moves back (ledger_unqueue: the
 * transaction that queued the row failed).  Every move is logged.
 */
static int
ledger_entry_move(struct ledger_entry *e, enum ledger_row_state to, int undo)
{
	enum ledger_row_state	 from = e->state;

	if (to == from)
		return 0;
	if ((to < from) != (undo != 0)) {
		log_debug("state: run %.8s row %u: %s -> %s refused",
		    e->run->run_id, e->idx, ledger_row_state_name(from),
		    ledger_row_state_name(to));
		return -1;
	}
	log_debug("state: run %.8s row %u: %s -> %s%s", e->run->run_id,
	    e->idx, ledger_row_state_name(from), ledger_row_state_name(to),
	    undo ? " (undone)" : "");
	e->state = to;
	return 0;
}

enum ledger_row_state
ledger_entry_state(const struct ledger_entry *e)
{
	return e->state;
}

/* The state the columns say (a row of an earlier process). */
void
ledger_entry_restore(struct ledger_entry *e)
{
	enum ledger_row_state	 to;

	if (e->verdict == VERDICT_PENDING)
		to = LEDGER_ROW_PENDING;
	else if (e->seq == 0)
		to = e->coverage != COVERAGE_NONE ? LEDGER_ROW_JUDGED :
		    LEDGER_ROW_DECIDED;
	else if (!e->reported)
		to = LEDGER_ROW_QUEUED;
	else
		to = LEDGER_ROW_REPORTED;
	(void)ledger_entry_move(e, to, 0);
}

/* ---- objects ------------------------------------------------------------ */

void
ledger_entry_free(struct ledger_entry *e)
{
	if (e == NULL)
		return;
	expectation_clear(&e->x);
	free(e->event_id);
	free(e->match);
	free(e->reason);
	json_decref(e->record);
	json_decref(e->rules);
	free(e->coverage_reason);
	json_decref(e->remediation);
	free(e->remediation_text);
	free(e->gap);
	free(e->alert_gap);
	free(e);
}

void
ledger_run_free(struct ledger_run *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nentries; i++)
		ledger_entry_free(r->entries[i]);
	free(r->entries);
	free(r->scenario);
	free(r->account);
	free(r->entry);
	free(r);
}

int
ledger_valid_run_id(const char *s)
{
	size_t	 i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[32] == '\0';
}

struct ledger_run *
ledger_run_alloc(struct ledger *l, const char *run_id, const char *scenario,
    const char *account, double started)
{
	struct ledger_run	*r;

	r = xcalloc(1, sizeof(*r));
	r->ledger = l;
	snprintf(r->run_id, sizeof(r->run_id), "%s", run_id);
	r->scenario = xstrdup(scenario != NULL ? scenario : "");
	r->account = xstrdup(account != NULL ? account : "");
	r->started = started;
	return r;
}

static void
ledger_run_append(struct ledger *l, struct ledger_run *r)
{
	l->runs = xreallocarray(l->runs, l->nruns + 1, sizeof(*l->runs));
	l->runs[l->nruns++] = r;
}

void
ledger_entry_append(struct ledger_run *r, struct ledger_entry *e)
{
	r->entries = xreallocarray(r->entries, r->nentries + 1,
	    sizeof(*r->entries));
	e->run = r;
	e->idx = (unsigned)r->nentries;
	/* The row's run ID is its run's (scenario, account: ledger.h). */
	memcpy(e->x.run_id, r->run_id, sizeof(e->x.run_id));
	r->entries[r->nentries++] = e;
}

/* ---- the state database ---------------------------------------------------- */

struct db *
ledger_db(struct ledger *l)
{
	return l->db;
}

static const char *const ledger_sql_run =
    "INSERT INTO runs (run_id, scenario, account, entry, started, finished, "
    "halted, permitted, denied, skipped, errors, failed, summary_seq, "
    "summary_reported) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
    "?12, ?13, ?14) ON CONFLICT (run_id) DO UPDATE SET entry = ?4, "
    "finished = ?6, halted = ?7, permitted = ?8, denied = ?9, skipped = ?10, "
    "errors = ?11, failed = ?12, summary_seq = ?13, summary_reported = ?14";

static const char *const ledger_sql_row =
    "INSERT INTO expectations (run_id, idx, account_id, call_region, region, "
    "event_source, event_name, error_code, request_id, access_key_id, "
    "user_agent, read_only, fired_at, deadline, verdict, decided_at, "
    "event_id, found_at, event_time, match, reason, record, coverage, rules, "
    "coverage_reason, gap, alert_gap, seq, reported, role, evidence, "
    "not_found, remediation, remediation_text) VALUES (?1, ?2, ?3, "
    "?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, "
    "?33, ?34) "
    "ON CONFLICT "
    "(run_id, idx) DO UPDATE SET verdict = ?15, decided_at = ?16, "
    "event_id = ?17, found_at = ?18, event_time = ?19, match = ?20, "
    "reason = ?21, record = ?22, coverage = ?23, rules = ?24, "
    "coverage_reason = ?25, gap = ?26, alert_gap = ?27, seq = ?28, "
    "reported = ?29, role = ?30, evidence = ?31, not_found = ?32, "
    "remediation = ?33, remediation_text = ?34";

static int
ledger_store_run(struct ledger *l, struct ledger_run *r, char **cause)
{
	sqlite3_stmt	*st;

	if ((st = db_stmt(l->db, ledger_sql_run, cause)) == NULL)
		return -1;
	db_bind_text(st, 1, r->run_id);
	db_bind_text(st, 2, r->scenario);
	db_bind_text(st, 3, r->account);
	db_bind_text(st, 4, r->entry);
	sqlite3_bind_double(st, 5, r->started);
	db_bind_real(st, 6, r->finished);
	sqlite3_bind_int(st, 7, r->halted);
	sqlite3_bind_int(st, 8, (int)r->calls[0]);
	sqlite3_bind_int(st, 9, (int)r->calls[1]);
	sqlite3_bind_int(st, 10, (int)r->calls[2]);
	sqlite3_bind_int(st, 11, (int)r->calls[3]);
	sqlite3_bind_int(st, 12, (int)r->failed);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)r->summary_seq);
	sqlite3_bind_int(st, 14, r->summary_reported);
	return db_done(l->db, st, cause);
}

static int
ledger_store_row(struct ledger *l, struct ledger_entry *e, char **cause)
{
	sqlite3_stmt	*st;
	char		*rec = NULL, *rules = NULL, *rem = NULL;
	int		 rc;

	if ((st = db_stmt(l->db, ledger_sql_row, cause)) == NULL)
		return -1;
	if (e->remediation != NULL)
		rem = json_dumps(e->remediation, JSON_COMPACT |
		    JSON_PRESERVE_ORDER);
	if (e->record != NULL)
		rec = json_dumps(e->record, JSON_COMPACT);
	if (e->rules != NULL)
		rules = json_dumps(e->rules, JSON_COMPACT);
	db_bind_text(st, 1, e->run->run_id);
	sqlite3_bind_int(st, 2, (int)e->idx);
	db_bind_text(st, 3, e->x.account_id);
	db_bind_text(st, 4, e->x.call_region);
	db_bind_text(st, 5, e->x.region);
	db_bind_text(st, 6, e->x.event_source);
	db_bind_text(st, 7, e->x.event_name);
	db_bind_text(st, 8, e->x.error_code);
	db_bind_text(st, 9, e->x.request_id);
	db_bind_text(st, 10, e->x.access_key_id);
	db_bind_text(st, 11, e->x.user_agent);
	sqlite3_bind_int(st, 12, e->x.read_only);
	sqlite3_bind_double(st, 13, e->x.fired_at);
	sqlite3_bind_double(st, 14, e->deadline);
	db_bind_text(st, 15, verdict_name(e->verdict));
	db_bind_real(st, 16, e->decided_at);
	db_bind_text(st, 17, e->event_id);
	db_bind_real(st, 18, e->found_at);
	db_bind_real(st, 19, e->event_time);
	db_bind_text(st, 20, e->match);
	db_bind_text(st, 21, e->reason);
	db_bind_text(st, 22, rec);
	db_bind_text(st, 23, e->coverage != COVERAGE_NONE ?
	    coverage_name(e->coverage) : NULL);
	db_bind_text(st, 24, rules);
	db_bind_text(st, 25, e->coverage_reason);
	db_bind_text(st, 26, e->gap);
	db_bind_text(st, 27, e->alert_gap);
	sqlite3_bind_int64(st, 28, (sqlite3_int64)e->seq);
	sqlite3_bind_int(st, 29, e->reported);
	db_bind_text(st, 30, ledger_role_name(e->x.role));
	db_bind_text(st, 31, aws_evidence_name(e->x.evidence));
	sqlite3_bind_int(st, 32, e->not_found);
	db_bind_text(st, 33, rem);
	db_bind_text(st, 34, e->remediation_text);
	rc = db_done(l->db, st, cause);
	free(rec);
	free(rules);
	free(rem);
	return rc;
}

static int
ledger_store_run_all(struct ledger *l, struct ledger_run *r, char **cause)
{
	size_t	 i;

	if (ledger_store_run(l, r, cause) == -1)
		return -1;
	for (i = 0; i < r->nentries; i++)
		if (ledger_store_row(l, r->entries[i], cause) == -1)
			return -1;
	return 0;
}

/* A plausible time: finite, not before 1970, before 2096. */
static int
ledger_time_ok(double t)
{
	return isfinite(t) && t >= 0 && t < 4e9;
}

static struct ledger_entry *
ledger_row_from(sqlite3_stmt *st, char **why)
{
	struct ledger_entry	*e;
	json_error_t		 jerr;
	char			*s;
	int			 r;

	e = xcalloc(1, sizeof(*e));
	e->x.account_id = db_col_text(st, 2);
	e->x.call_region = db_col_text(st, 3);
	e->x.region = db_col_text(st, 4);
	e->x.event_source = db_col_text(st, 5);
	e->x.event_name = db_col_text(st, 6);
	e->x.error_code = db_col_text(st, 7);
	e->x.request_id = db_col_text(st, 8);
	e->x.access_key_id = db_col_text(st, 9);
	e->x.user_agent = db_col_text(st, 10);
	e->x.read_only = sqlite3_column_int(st, 11);
	e->x.fired_at = db_col_real(st, 12);
	e->deadline = db_col_real(st, 13);
	s = db_col_text(st, 14);
	if (s == NULL || verdict_from_name(s, &e->verdict) == -1)
		*why = xprintf("unknown verdict \"%s\"", s ? s : "");
	free(s);
	e->decided_at = db_col_real(st, 15);
	e->event_id = db_col_text(st, 16);
	e->found_at = db_col_real(st, 17);
	e->event_time = db_col_real(st, 18);
	e->match = db_col_text(st, 19);
	e->reason = db_col_text(st, 20);
	if ((s = db_col_text(st, 21)) != NULL) {
		e->record = json_loads(s, 0, &jerr);
		free(s);
	}
	if ((s = db_col_text(st, 22)) != NULL) {
		(void)coverage_from_name(s, &e->coverage);
		free(s);
	}
	if ((s = db_col_text(st, 23)) != NULL) {
		e->rules = json_loads(s, 0, &jerr);
		free(s);
	}
	e->coverage_reason = db_col_text(st, 24);
	e->gap = db_col_text(st, 25);
	e->alert_gap = db_col_text(st, 26);
	e->seq = (uint64_t)sqlite3_column_int64(st, 27);
	e->reported = sqlite3_column_int(st, 28);
	/* Schema 2 (db.c): a role and an evidence level on every row. */
	if ((s = db_col_text(st, 29)) != NULL &&
	    (r = aws_role_parse(s)) != -1)
		e->x.role = (enum aws_role)r;
	else
		e->x.role = e->x.read_only ? AWS_ROLE_CONTEXT : AWS_ROLE_SIGNAL;
	free(s);
	if ((s = db_col_text(st, 30)) != NULL &&
	    (r = aws_evidence_parse(s)) != -1)
		e->x.evidence = (enum aws_evidence)r;
	else
		e->x.evidence = AWS_EVIDENCE_DOCUMENTED;
	free(s);
	e->not_found = sqlite3_column_int(st, 31) != 0;
	/* Schema 4: the remediation coverage decided with the verdict. */
	if ((s = db_col_text(st, 32)) != NULL) {
		e->remediation = json_loads(s, JSON_DECODE_ANY, &jerr);
		if (!json_is_object(e->remediation)) {
			json_decref(e->remediation);
			e->remediation = NULL;
		}
		free(s);
	}
	e->remediation_text = db_col_text(st, 33);
	if (e->remediation == NULL || e->remediation_text == NULL) {
		json_decref(e->remediation);
		e->remediation = NULL;
		free(e->remediation_text);
		e->remediation_text = NULL;
	}
	if (*why == NULL && (e->x.region == NULL || e->x.event_source == NULL ||
	    e->x.event_name == NULL))
		*why = xstrdup("a row without region or event");
	/* Never trust times: a deadline of 1e300 would poll forever. */
	if (*why == NULL && (!ledger_time_ok(e->x.fired_at) ||
	    !ledger_time_ok(e->deadline) || e->deadline < e->x.fired_at ||
	    e->deadline - e->x.fired_at > 7 * 86400.0))
		*why = xprintf("implausible times (fired %g, deadline %g)",
		    e->x.fired_at, e->deadline);
	if (*why == NULL && e->verdict != VERDICT_PENDING &&
	    e->decided_at != 0 && !ledger_time_ok(e->decided_at))
		*why = xstrdup("an implausible decision time");
	return e;
}

/*
 * A row the database holds but that cannot be trusted: decided unverified
 * (never missing), so its report is still owed and nothing is lost.
 */
static void
ledger_row_heal(struct ledger_entry *e, const char *why, double now)
{
	char	*reason;

	if (!ledger_time_ok(e->x.fired_at))
		e->x.fired_at = now;
	if (!ledger_time_ok(e->deadline) || e->deadline < e->x.fired_at)
		e->deadline = e->x.fired_at;
	if (e->verdict == VERDICT_PENDING) {
		e->verdict = VERDICT_UNVERIFIED;
		e->decided_at = now;
		reason = xprintf("the state of this expectation could not be "
		    "trusted (%s)", why);
		free(e->reason);
		e->reason = reason;
	} else if (!ledger_time_ok(e->decided_at))
		e->decided_at = now;
	if (e->x.region == NULL)
		e->x.region = xstrdup("unknown");
	if (e->x.event_source == NULL)
		e->x.event_source = xstrdup("");
	if (e->x.event_name == NULL)
		e->x.event_name = xstrdup("");
}

static const char *const ledger_sql_open_runs =
    "SELECT run_id, scenario, account, entry, started, finished, halted, "
    "permitted, denied, skipped, errors, failed, summary_seq, "
    "summary_reported FROM runs WHERE summary_reported = 0 "
    "ORDER BY started, run_id";
static const char *const ledger_sql_rows_of =
    "SELECT run_id, idx, account_id, call_region, region, event_source, "
    "event_name, error_code, request_id, access_key_id, user_agent, "
    "read_only, fired_at, deadline, verdict, decided_at, event_id, found_at, "
    "event_time, match, reason, record, coverage, rules, coverage_reason, "
    "gap, alert_gap, seq, reported, role, evidence, not_found, "
    "remediation, remediation_text "
    "FROM expectations WHERE run_id = ? ORDER BY idx";

static int
ledger_load(struct ledger *l, char **cause)
{
	sqlite3_stmt		*st, *rs;
	struct ledger_run	*r;
	struct ledger_entry	*e;
	char			*id, *scen, *acct, *why;
	double			 now = now_real();
	int64_t			 v;
	size_t			 i;
	int			 rc, heal = 0;

	if ((st = db_stmt(l->db, ledger_sql_open_runs, cause)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		id = db_col_text(st, 0);
		scen = db_col_text(st, 1);
		acct = db_col_text(st, 2);
		if (id == NULL || !ledger_valid_run_id(id)) {
			free(id);
			free(scen);
			free(acct);
			continue;
		}
		r = ledger_run_alloc(l, id, scen, acct, db_col_real(st, 4));
		free(id);
		free(scen);
		free(acct);
		r->entry = db_col_text(st, 3);
		r->finished = db_col_real(st, 5);
		r->halted = sqlite3_column_int(st, 6);
		for (i = 0; i < 4; i++)
			r->calls[i] = (unsigned)sqlite3_column_int(st,
			    7 + (int)i);
		r->failed = (unsigned)sqlite3_column_int(st, 11);
		r->summary_seq = (uint64_t)sqlite3_column_int64(st, 12);
		r->summary_reported = sqlite3_column_int(st, 13);
		if (!ledger_time_ok(r->started)) {
			r->started = now;
			r->dirty = 1;
		}
		l->runs = xreallocarray(l->runs, l->nruns + 1,
		    sizeof(*l->runs));
		l->runs[l->nruns++] = r;
	}
	if (rc != SQLITE_DONE) {
		*cause = db_errmsg(l->db, NULL);
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	for (i = 0; i < l->nruns; i++) {
		r = l->runs[i];
		if ((rs = db_stmt(l->db, ledger_sql_rows_of, cause)) == NULL)
			return -1;
		db_bind_text(rs, 1, r->run_id);
		while ((rc = sqlite3_step(rs)) == SQLITE_ROW) {
			why = NULL;
			e = ledger_row_from(rs, &why);
			if (why != NULL) {
				log_warnx("state: run %s, row %d: %s",
				    r->run_id, sqlite3_column_int(rs, 1), why);
				ledger_row_heal(e, why, now);
				free(why);
				r->dirty = 1;
				heal++;
			}
			ledger_entry_append(r, e);
			ledger_entry_restore(e);
			if ((unsigned)sqlite3_column_int(rs, 1) != e->idx)
				r->dirty = 1;
		}
		sqlite3_reset(rs);
		if (rc != SQLITE_DONE) {
			*cause = db_errmsg(l->db, NULL);
			return -1;
		}
		/* A run the previous process did not see end: it never will. */
		if (r->finished == 0) {
			r->finished = now;
			r->halted = 1;
			r->dirty = 1;
		}
	}
	if (heal > 0)
		log_warnx("state: %d expectation(s) could not be trusted and "
		    "were made unverified", heal);
	/* Sequence numbers never go back. */
	if (db_meta_get_int(l->db, "last_seq", &v) == 0 && v > 0)
		ledger_bump_seq(l, (uint64_t)v);
	if ((st = db_stmt(l->db, "SELECT max(seq) FROM outbox", cause)) ==
	    NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		ledger_bump_seq(l, (uint64_t)sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	if ((st = db_stmt(l->db, "SELECT max(seq) FROM expectations",
	    cause)) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		ledger_bump_seq(l, (uint64_t)sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	return 0;
}

/* The JSON layout of earlier versions: into the database, once. */
static int
ledger_migrate(struct ledger *l, char **cause)
{
	struct ledger_legacy	 lg;
	const char		*k;
	json_t			*t;
	size_t			 i;
	int			 rc = 0;

	if (!ledger_legacy_load(l, l->dirfd, l->dir, &lg)) {
		json_decref(lg.sched);
		return 0;
	}
	l->corrupt += lg.bad;
	if (db_begin(l->db, cause) == -1)
		goto out;
	for (i = 0; i < lg.nruns && rc == 0; i++)
		rc = ledger_store_run_all(l, lg.runs[i], cause);
	json_object_foreach(lg.sched, k, t)
		if (rc == 0)
			rc = schedmem_store(l->db, k, json_number_value(t),
			    cause);
	if (rc == 0 && lg.last_seq > 0)
		rc = db_meta_set_int(l->db, "last_seq", (int64_t)lg.last_seq,
		    cause);
	if (rc == 0)
		rc = db_meta_set_int(l->db, "migrated_at", (int64_t)now_real(),
		    cause);
	if (rc == -1) {
		db_rollback(l->db);
		goto out;
	}
	if ((rc = db_commit(l->db, cause)) == -1)
		goto out;
	log_info("state: migrated %zu run(s) from the JSON layout of %s into "
	    "%s", lg.nruns, l->dir, DB_FILE);
	ledger_legacy_retire(l->dirfd, l->dir);
out:
	for (i = 0; i < lg.nruns; i++)
		ledger_run_free(lg.runs[i]);
	free(lg.runs);
	json_decref(lg.sched);
	return rc;
}

/* ---- open / close -------------------------------------------------------- */

/* Every eventID that proves a row of the working set. */
static void
ledger_used_rebuild(struct ledger *l)
{
	size_t	 i, j;

	json_object_clear(l->used);
	for (i = 0; i < l->nruns; i++)
		for (j = 0; j < l->runs[i]->nentries; j++)
			if (l->runs[i]->entries[j]->event_id != NULL &&
			    *l->runs[i]->entries[j]->event_id != '\0')
				json_object_set_new(l->used,
				    l->runs[i]->entries[j]->event_id,
				    json_true());
}

int
ledger_event_used(const struct ledger *l, const char *event_id)
{
	static const char	*sql = "SELECT 1 FROM expectations WHERE "
	    "event_id = ? LIMIT 1";
	sqlite3_stmt		*st;
	char			*cause = NULL;
	int			 used;

	if (event_id == NULL || *event_id == '\0')
		return 0;
	if (json_object_get(l->used, event_id) != NULL)
		return 1;
	/* A row no longer in memory (its run was reported). */
	if ((st = db_stmt(l->db, sql, &cause)) == NULL) {
		free(cause);
		return 0;
	}
	db_bind_text(st, 1, event_id);
	used = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return used;
}

struct ledger *
ledger_open(const char *dir, char **cause)
{
	struct ledger	*l;
	char		*path = NULL, *aside = NULL, *why = NULL;

	l = xcalloc(1, sizeof(*l));
	l->dirfd = l->lockfd = -1;
	l->used = json_object();
	if (dir == NULL) {
		if ((l->db = db_open(NULL, 0, NULL, NULL, cause)) == NULL)
			goto fail;
		return l;
	}
	l->dir = xstrdup(dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		*cause = xprintf("state directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		*cause = xprintf("state directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	l->lockfd = openat(l->dirfd, LEDGER_LOCK, O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (l->lockfd == -1) {
		*cause = xprintf("%s/%s: %s", dir, LEDGER_LOCK, strerror(errno));
		goto fail;
	}
	if (flock(l->lockfd, LOCK_EX | LOCK_NB) == -1) {
		*cause = errno == EWOULDBLOCK ? xprintf("state directory %s is "
		    "in use by another cloudsagad", dir) :
		    xprintf("lock %s/%s: %s", dir, LEDGER_LOCK, strerror(errno));
		goto fail;
	}
	path = xprintf("%s/%s", dir, DB_FILE);
	l->db = db_open(path, 0, &aside, &why, cause);
	if (aside != NULL) {
		report_state_set_aside(path, aside, why);
		l->corrupt++;
	}
	free(aside);
	free(why);
	if (l->db == NULL)
		goto fail;
	if (ledger_migrate(l, cause) == -1)
		goto fail;
	if (ledger_load(l, cause) == -1) {
		/* Readable pages, unusable content: start afresh. */
		log_warnx("%s", *cause);
		free(*cause);
		*cause = NULL;
		ledger_free_runs(l);
		db_close(l->db);
		aside = why = NULL;
		l->db = db_open(path, DB_FRESH, &aside, &why, cause);
		if (aside != NULL) {
			report_state_set_aside(path, aside, why);
			l->corrupt++;
		}
		free(aside);
		free(why);
		if (l->db == NULL || ledger_load(l, cause) == -1)
			goto fail;
	}
	ledger_used_rebuild(l);
	free(path);
	return l;
fail:
	free(path);
	ledger_free(l);
	return NULL;
}

static void
ledger_free_runs(struct ledger *l)
{
	size_t	 i;

	for (i = 0; i < l->nruns; i++)
		ledger_run_free(l->runs[i]);
	free(l->runs);
	l->runs = NULL;
	l->nruns = 0;
}

void
ledger_free(struct ledger *l)
{
	if (l == NULL)
		return;
	ledger_free_runs(l);
	json_decref(l->used);
	db_close(l->db);
	if (l->dirfd != -1)
		close(l->dirfd);
	if (l->lockfd != -1)
		close(l->lockfd);	/* releases the flock */
	free(l->dir);
	free(l);
}

const char *
ledger_dir(const struct ledger *l)
{
	return l->dir;
}

unsigned
ledger_corrupt_count(const struct ledger *l)
{
	return l->corrupt;
}

/* ---- runs --------------------------------------------------------------- */

struct ledger_run *
ledger_run_get(struct ledger *l, const char *run_id)
{
	size_t	 i;

	for (i = l->nruns; i > 0; i--)
		if (strcmp(l->runs[i - 1]->run_id, run_id) == 0)
			return l->runs[i - 1];
	return NULL;
}

struct ledger_run *
ledger_run_begin(struct ledger *l, const char *run_id, const char *scenario,
    const char *account, double started)
{
	struct ledger_run	*r;

	if ((r = ledger_run_get(l, run_id)) != NULL)
		return r;
	if (!ledger_valid_run_id(run_id))
		fatalx("%s: bad run id \"%s\"", __func__, run_id);
	r = ledger_run_alloc(l, run_id, scenario, account, started);
	r->dirty = 1;
	ledger_run_append(l, r);
	return r;
}

void
ledger_run_call(struct ledger_run *r, enum run_call_outcome o)
{
	if ((size_t)o < nitems(r->calls)) {
		r->calls[o]++;
		r->dirty = 1;
	}
}

void
ledger_run_failed(struct ledger_run *r, unsigned failed)
{
	r->failed = failed;
	r->dirty = 1;
}

void
ledger_run_end(struct ledger_run *r, double finished, int halted)
{
	r->finished = finished > 0 ? finished : now_real();
	r->halted = halted;
	r->dirty = 1;
}

int
ledger_run_complete(const struct ledger_run *r)
{
	size_t	 i;

	if (r->finished == 0)
		return 0;
	for (i = 0; i < r->nentries; i++)
		if (r->entries[i]->state != LEDGER_ROW_REPORTED)
			return 0;
	return 1;
}

void
ledger_run_counts(const struct ledger_run *r, struct ledger_counts *c)
{
	const struct ledger_entry	*e;
	double				 lat;
	size_t				 i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < r->nentries; i++) {
		e = r->entries[i];
		c->expected++;
		switch (e->verdict) {
		case VERDICT_PENDING:
			c->pending++;
			break;
		case VERDICT_LOGGED:
			c->logged++;
			lat = e->found_at - e->x.fired_at;
			if (c->logged == 1 || lat < c->latency_min)
				c->latency_min = lat;
			if (c->logged == 1 || lat > c->latency_max)
				c->latency_max = lat;
			c->latency_sum += lat;
			break;
		case VERDICT_MISSING:
			c->missing++;
			break;
		case VERDICT_UNVERIFIED:
			c->unverified++;
			if (e->not_found)
				c->unconfirmed++;
			break;
		}
		if (e->x.role == AWS_ROLE_CONTEXT) {
			/* Alert coverage is judged for signal calls only. */
			c->context++;
			continue;
		}
		c->signal++;
		switch (e->coverage) {
		case COVERAGE_COVERED:
			c->covered++;
			break;
		case COVERAGE_UNCOVERED:
			c->uncovered++;
			break;
		case COVERAGE_UNKNOWN:
			c->coverage_unknown++;
			break;
		case COVERAGE_NONE:
		case COVERAGE_CONTEXT:
			break;
		}
	}
}

struct ledger_run **
ledger_runs(struct ledger *l, size_t *n)
{
	*n = l->nruns;
	return l->runs;
}

/* ---- rows ------------------------------------------------------------------ */

struct ledger_entry *
ledger_add(struct ledger *l, const struct expectation *x, double deadline)
{
	struct ledger_run	*r;
	struct ledger_entry	*e;
	struct expectation	 copy;

	r = ledger_run_begin(l, x->run_id, x->scenario, x->account,
	    x->fired_at);
	/* The run holds the scenario and the account: no copy per row. */
	copy = *x;
	copy.scenario = copy.account = NULL;
	e = xcalloc(1, sizeof(*e));
	expectation_copy(&e->x, &copy);
	if (e->x.region == NULL)
		e->x.region = xstrdup(x->call_region != NULL ? x->call_region :
		    "us-east-1");
	if (e->x.event_source == NULL)
		e->x.event_source = xstrdup("");
	if (e->x.event_name == NULL)
		e->x.event_name = xstrdup("");
	/* AWS_ROLE_DEFAULT (an expectation built by hand): as
	 * aws_role_resolve() would. */
	if (e->x.role == AWS_ROLE_DEFAULT)
		e->x.role = x->read_only ? AWS_ROLE_CONTEXT : AWS_ROLE_SIGNAL;
	e->deadline = deadline;
	ledger_entry_append(r, e);
	r->dirty = 1;
	return e;
}

const char *
ledger_entry_run_id(const struct ledger_entry *e)
{
	return e->run->run_id;
}

const char *
ledger_entry_scenario(const struct ledger_entry *e)
{
	return e->run->scenario;
}

const char *
ledger_entry_account(const struct ledger_entry *e)
{
	return e->run->account;
}

void
ledger_entry_report_id(const struct ledger_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", e->run->run_id, e->idx);
}

void
ledger_run_report_id(const struct ledger_run *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s-summary", r->run_id);
}

int
ledger_decide(struct ledger_entry *e, enum verdict v,
    const struct ledger_found *found, const char *reason, double now)
{
	if (e->state != LEDGER_ROW_PENDING || v == VERDICT_PENDING)
		return -1;
	(void)ledger_entry_move(e, LEDGER_ROW_DECIDED, 0);
	e->verdict = v;
	e->decided_at = now;
	if (v == VERDICT_LOGGED && found != NULL) {
		e->event_id = xstrdup(found->event_id != NULL ?
		    found->event_id : "");
		if (*e->event_id != '\0')
			json_object_set_new(e->run->ledger->used,
			    e->event_id, json_true());
		e->found_at = found->found_at;
		e->event_time = found->event_time;
		e->match = xstrdup_or_null(found->match);
		if (found->record != NULL)
			e->record = json_incref(found->record);
	}
	free(e->reason);
	/* Bounded, valid UTF-8: a reason ends up in every record. */
	e->reason = reason != NULL ? str_cap_utf8(reason,
	    AWS_ERROR_MESSAGE_MAX + 256) : NULL;
	e->run->dirty = 1;
	return 0;
}

int
ledger_entry_unconfirmed(const struct ledger_entry *e)
{
	return e->verdict == VERDICT_UNVERIFIED && e->not_found;
}

const char *
ledger_role_name(enum aws_role r)
{
	/* AWS_ROLE_DEFAULT never reaches the ledger (ledger_add). */
	return r == AWS_ROLE_CONTEXT ? "context" : "signal";
}

void
ledger_set_coverage(struct ledger_entry *e, enum coverage c, json_t *rules,
    const char *reason)
{
	if (e->state != LEDGER_ROW_PENDING && c != COVERAGE_NONE)
		(void)ledger_entry_move(e, LEDGER_ROW_JUDGED, 0);
	e->coverage = c;
	json_decref(e->rules);
	e->rules = rules != NULL ? json_incref(rules) : NULL;
	free(e->coverage_reason);
	e->coverage_reason = xstrdup_or_null(reason);
	ledger_set_remediation(e, NULL, NULL);
	e->run->dirty = 1;
}

void
ledger_set_remediation(struct ledger_entry *e, json_t *rem, const char *text)
{
	json_decref(e->remediation);
	free(e->remediation_text);
	e->remediation = NULL;
	e->remediation_text = NULL;
	if (rem != NULL && text != NULL) {
		e->remediation = json_incref(rem);
		e->remediation_text = xstrdup(text);
	}
	e->run->dirty = 1;
}

uint64_t
ledger_queue(struct ledger_entry *e)
{
	if (e->state == LEDGER_ROW_DECIDED || e->state == LEDGER_ROW_JUDGED) {
		(void)ledger_entry_move(e, LEDGER_ROW_QUEUED, 0);
		e->seq = ledger_next_seq(e->run->ledger);
		e->run->dirty = 1;
	}
	return e->seq;
}

void
ledger_unqueue(struct ledger_entry *e)
{
	if (e->state != LEDGER_ROW_QUEUED)
		return;
	(void)ledger_entry_move(e, e->coverage != COVERAGE_NONE ?
	    LEDGER_ROW_JUDGED : LEDGER_ROW_DECIDED, 1);
	e->seq = 0;
	e->run->dirty = 1;
}

uint64_t
ledger_queue_summary(struct ledger_run *r)
{
	if (r->summary_seq == 0) {
		r->summary_seq = ledger_next_seq(r->ledger);
		r->dirty = 1;
	}
	return r->summary_seq;
}

void
ledger_mark_reported(struct ledger_entry *e)
{
	if (e->state != LEDGER_ROW_QUEUED)
		return;
	(void)ledger_entry_move(e, LEDGER_ROW_REPORTED, 0);
	e->reported = 1;
	json_decref(e->record);
	e->record = NULL;
	e->run->dirty = 1;
}

void
ledger_mark_summary_reported(struct ledger_run *r)
{
	if (r->summary_reported || r->summary_seq == 0)
		return;
	r->summary_reported = 1;
	r->dirty = 1;
}

uint64_t
ledger_last_seq(const struct ledger *l)
{
	return l->last_seq;
}

void
ledger_bump_seq(struct ledger *l, uint64_t seq)
{
	if (seq > l->last_seq) {
		l->last_seq = seq;
		l->seq_dirty = 1;
	}
}

uint64_t
ledger_next_seq(struct ledger *l)
{
	l->seq_dirty = 1;
	return ++l->last_seq;
}

void
ledger_set_gap(struct ledger_entry *e, const char *gap, const char *alert_gap)
{
	free(e->gap);
	e->gap = xstrdup_or_null(gap);
	free(e->alert_gap);
	e->alert_gap = xstrdup_or_null(alert_gap);
	e->run->dirty = 1;
}

void
ledger_run_set_entry(struct ledger_run *r, const char *entry)
{
	free(r->entry);
	r->entry = xstrdup_or_null(entry);
	r->dirty = 1;
}

struct ledger_entry *
ledger_entry_find(struct ledger *l, const char *run_id, unsigned idx)
{
	struct ledger_run	*r;

	if ((r = ledger_run_get(l, run_id)) == NULL || idx >= r->nentries)
		return NULL;
	return r->entries[idx];
}

size_t
ledger_pending_count(const struct ledger *l)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < l->nruns; i++)
		for (j = 0; j < l->runs[i]->nentries; j++)
			if (l->runs[i]->entries[j]->state ==
			    LEDGER_ROW_PENDING)
				n++;
	return n;
}

/* ---- commit / prune ------------------------------------------------------- */

void
ledger_attach_schedmem(struct ledger *l, struct schedmem *sm)
{
	l->sched = sm;
}

int
ledger_commit(struct ledger *l, char **cause)
{
	size_t		 i;

	if (db_begin(l->db, cause) == -1)
		return -1;
	for (i = 0; i < l->nruns; i++)
		if (l->runs[i]->dirty &&
		    ledger_store_run_all(l, l->runs[i], cause) == -1)
			goto fail;
	if (l->sched != NULL && schedmem_write(l->sched, cause) == -1)
		goto fail;
	if (l->seq_dirty && db_meta_set_int(l->db, "last_seq",
	    (int64_t)l->last_seq, cause) == -1)
		goto fail;
	if (db_commit(l->db, cause) == -1)
		return -1;	/* everything stays dirty: written again */
	/* Inside an outer transaction this is not durable yet: the flags
	 * are cleared now and the outer commit decides (a failed outer
	 * commit makes the caller retry from the in-memory state). */
	for (i = 0; i < l->nruns; i++)
		l->runs[i]->dirty = 0;
	if (l->sched != NULL)
		schedmem_written(l->sched);
	l->seq_dirty = 0;
	return 0;
fail:
	db_rollback(l->db);
	return -1;
}

void
ledger_mark_all_dirty(struct ledger *l)
{
	size_t	 i;

	for (i = 0; i < l->nruns; i++)
		l->runs[i]->dirty = 1;
	l->seq_dirty = 1;
}

int
ledger_prune(struct ledger *l, double before, char **cause)
{
	struct ledger_run	*r;
	size_t			 i, j;
	int			 n = 0;

	/* The high-water mark first, so sequence numbers never go back. */
	l->seq_dirty = 1;
	if (ledger_commit(l, cause) == -1)
		return -1;
	for (i = 0, j = 0; i < l->nruns; i++) {
		r = l->runs[i];
		if (ledger_run_complete(r) && r->summary_reported &&
		    r->finished < before && !r->dirty) {
			ledger_run_free(r);
			n++;
		} else
			l->runs[j++] = r;
	}
	l->nruns = j;
	if (n > 0)
		ledger_used_rebuild(l);
	return n;
}

int
ledger_expire(struct ledger *l, double before, int max, char **cause)
{
	static const char	*sql = "DELETE FROM runs WHERE run_id IN "
	    "(SELECT run_id FROM runs WHERE summary_reported = 1 AND "
	    "finished < ? LIMIT ?)";
	sqlite3_stmt		*st;
	int			 n;

	if ((st = db_stmt(l->db, sql, cause)) == NULL)
		return -1;
	sqlite3_bind_double(st, 1, before);
	sqlite3_bind_int(st, 2, max);
	if (db_done(l->db, st, cause) == -1)
		return -1;
	n = sqlite3_changes(db_handle(l->db));
	return n;
}
