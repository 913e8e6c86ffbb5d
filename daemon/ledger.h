/*
 * ledger: every expectation of every run, with its verdict, persisted in
 * the state database (db.h: <state_dir>/state.db, SQLite in WAL mode) so
 * that a restart (even after kill -9) loses none and reports none twice.
 * The schema, the transactions and the exactly-once argument are in
 * docs/STATE.md.
 *
 * The working set - runs whose report is not finished - is kept in memory
 * (struct ledger_run, struct ledger_entry); mutations go through the
 * functions below, which mark the run dirty, and ledger_commit() writes
 * every dirty run, the schedule memory (schedmem.h, when attached) and the
 * report sequence high-water mark in one transaction.  Runs that are over
 * stay in the database (for status, metrics and history) until
 * ledger_expire() deletes them.
 *
 * A row's life is an explicit state (enum ledger_row_state), moved forward
 * only, by the functions that change what it stands for:
 *   pending   the verifier is looking for it            (ledger_add)
 *   decided   verdict set: in the post-verdict pipeline (ledger_decide)
 *   judged    its alert coverage set (coverage)         (ledger_set_coverage)
 *   queued    seq > 0: its report is in the outbox      (ledger_queue)
 *   reported  emitted to the report file and the journal/syslog
 *                                                        (ledger_mark_reported)
 * A row with no coverage check goes from decided to queued.  The state is
 * not a column: a load derives it from the verdict, coverage, seq and
 * reported columns (docs/STATE.md).  Each move is logged at debug.
 * Nothing secret is stored: the access key ID is an identifier, never a
 * secret key or session token.
 *
 * ledger_open(NULL) gives an in-memory database (the one-shot CLI,
 * tests): same behaviour, nothing on disk.  A state directory in the JSON
 * layout of earlier versions (ledger.json, runs/) is migrated once and
 * renamed out of the way (ledger_legacy.c).
 */
#ifndef CLOUDSAGA_LEDGER_H
#define CLOUDSAGA_LEDGER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "scenario.h"

#define LEDGER_FORMAT		"cloudsagad-ledger"
#define LEDGER_VERSION		1
/* Default age after which complete runs are dropped (ledger_prune). */
#define LEDGER_KEEP_DEFAULT	3600.0

enum verdict {
	VERDICT_PENDING = 0,
	VERDICT_LOGGED,		/* found in CloudTrail */
	VERDICT_MISSING,	/* a logging gap */
	VERDICT_UNVERIFIED,	/* could not look: never reported as missing */
};
const char	*verdict_name(enum verdict);
int		 verdict_from_name(const char *, enum verdict *);

/* The alerting check of a logged row (issue 6). */
enum coverage {
	COVERAGE_NONE = 0,	/* not checked (coverage off, or not logged) */
	COVERAGE_COVERED,
	COVERAGE_UNCOVERED,	/* an alert gap */
	COVERAGE_UNKNOWN,
	COVERAGE_CONTEXT,	/* not judged: a context call (#11) never
				   needs an alert of its own */
};
const char	*coverage_name(enum coverage);
int		 coverage_from_name(const char *, enum coverage *);

/* A row's life (see above); the order is the order of the moves. */
enum ledger_row_state {
	LEDGER_ROW_PENDING = 0,
	LEDGER_ROW_DECIDED,
	LEDGER_ROW_JUDGED,
	LEDGER_ROW_QUEUED,
	LEDGER_ROW_REPORTED,
};
/* "pending", "decided", "judged", "queued", "reported". */
const char	*ledger_row_state_name(enum ledger_row_state);

struct ledger;
struct ledger_run;

struct ledger_entry {
	struct ledger_run *run;
	unsigned	 idx;		/* position in the run: stable id */

	/*
	 * The expectation (scenarios/expectation.h).  Its run_id is the run's;
	 * its scenario and account are NULL in a row: the run holds them
	 * (ledger_entry_scenario(), ledger_entry_account()), no copy per row.
	 * region, event_source and event_name are never NULL; role is never
	 * AWS_ROLE_DEFAULT (ledger_add); x.fired_mono is 0 after a load (not
	 * stored).
	 */
	struct expectation x;
	double		 deadline;	/* absolute: fired_at + verify deadline */

	/* Where the row is in its life: written by ledger.c only. */
	enum ledger_row_state state;

	/* The verdict. */
	enum verdict	 verdict;
	double		 decided_at;
	char		*event_id;	/* logged */
	double		 found_at;	/* logged: when the verifier saw it */
	double		 event_time;	/* logged: CloudTrail eventTime */
	char		*match;		/* logged: "request-id" or "marker" */
	char		*reason;	/* missing/unverified: why */
	/* A complete lookup started after the deadline did not find it:
	 * missing, or unverified when its recording is only assumed
	 * (verify_decide_absent, ledger_entry_unconfirmed). */
	int		 not_found;
	json_t		*record;	/* logged: the CloudTrail record, kept
					   until reported (coverage needs it) */

	/* The alerting check (issue 6). */
	enum coverage	 coverage;
	json_t		*rules;		/* [{"name":..,"targets":[..]}] or NULL */
	char		*coverage_reason;
	/* Uncovered: what to do about it, decided by coverage with the
	 * verdict (coverage_set): {"event_pattern", "rule_state", "note"}
	 * as the JSON line shows it, and the one-line text for the journal.
	 * NULL otherwise. */
	json_t		*remediation;
	char		*remediation_text;

	/* What the history made of the verdict and of its alert coverage
	 * (history.h): "ok", "new", "regression", "chronic",
	 * "acknowledged", "fixed", or NULL (not judged). */
	char		*gap;
	char		*alert_gap;

	/* The report. */
	uint64_t	 seq;		/* 0 = not queued */
	int		 reported;
};

struct ledger_run {
	struct ledger	*ledger;
	char		 run_id[33];
	char		*scenario;
	char		*account;
	char		*entry;		/* schedule entry, NULL: one-shot */
	double		 started;
	double		 finished;	/* 0 = still running */
	int		 halted;	/* stopped by a safety event / abort */
	unsigned	 failed;	/* calls and error notes that did not
					   go as intended (could not test) */
	/* Call outcomes, indexed by enum run_call_outcome. */
	unsigned	 calls[RUN_NCALL_OUTCOMES];

	struct ledger_entry **entries;
	size_t		 nentries;

	uint64_t	 summary_seq;	/* 0 = summary not queued */
	int		 summary_reported;
	int		 dirty;
};

/* Counts over a run's rows, for summaries. */
struct ledger_counts {
	unsigned	 expected, pending, logged, missing, unverified;
	/* Of unverified: not found, recording only assumed. */
	unsigned	 unconfirmed;
	unsigned	 signal, context;	/* rows by role */
	/* Alert coverage: of signal calls only (context calls are never
	 * judged). */
	unsigned	 covered, uncovered, coverage_unknown;
	double		 latency_min, latency_max, latency_sum;	/* logged */
};

/*
 * Open (creating) the state directory and load it.  dir NULL: in memory.
 * Unreadable files are set aside, never fatal.  NULL + *cause only when
 * the directory cannot be created/opened/locked.
 */
struct ledger	*ledger_open(const char *dir, char **cause);
/* Frees without committing: commit first. */
void		 ledger_free(struct ledger *);
const char	*ledger_dir(const struct ledger *);
/* Files set aside while loading (for tests and STATUS=). */
unsigned	 ledger_corrupt_count(const struct ledger *);

/* Runs. */
struct ledger_run *ledger_run_get(struct ledger *, const char *run_id);
/* Find or create; scenario/account are kept from the first call. */
struct ledger_run *ledger_run_begin(struct ledger *, const char *run_id,
		    const char *scenario, const char *account, double started);
void		 ledger_run_call(struct ledger_run *, enum run_call_outcome);
void		 ledger_run_end(struct ledger_run *, double finished, int halted);
/* Calls (and error notes) that did not go as intended: could not test. */
void		 ledger_run_failed(struct ledger_run *, unsigned failed);
/* Every row reported and the run ended: a summary may be queued. */
int		 ledger_run_complete(const struct ledger_run *);
void		 ledger_run_counts(const struct ledger_run *,
		    struct ledger_counts *);
/* All runs, in creation/load order (run_id order after a load). */
struct ledger_run **ledger_runs(struct ledger *, size_t *n);

/* Rows.  The run is created from the expectation when unknown. */
struct ledger_entry *ledger_add(struct ledger *, const struct expectation *,
		    double deadline);
const char	*ledger_entry_run_id(const struct ledger_entry *);
const char	*ledger_entry_scenario(const struct ledger_entry *);
const char	*ledger_entry_account(const struct ledger_entry *);
/* "<runid>-<idx>" (verdicts) / "<runid>-summary": stable report ids. */
void		 ledger_entry_report_id(const struct ledger_entry *,
		    char *buf, size_t len);
void		 ledger_run_report_id(const struct ledger_run *, char *buf,
		    size_t len);
struct ledger_found {
	const char	*event_id;
	double		 found_at;
	double		 event_time;	/* 0 = unknown */
	const char	*match;		/* "request-id", "marker" */
	json_t		*record;	/* borrowed; the ledger takes a ref */
};
/*
 * Set the verdict of a pending row (a no-op returning -1 if it already has
 * one: a verdict is final).  found for VERDICT_LOGGED, reason otherwise.
 */
int		 ledger_decide(struct ledger_entry *, enum verdict,
		    const struct ledger_found *found, const char *reason,
		    double now);
enum ledger_row_state ledger_entry_state(const struct ledger_entry *);
/* Unverified because it was not found and its recording is only assumed. */
int		 ledger_entry_unconfirmed(const struct ledger_entry *);
/* The role and evidence as stored and reported ("signal", "assumed"). */
const char	*ledger_role_name(enum aws_role);
/* rules is borrowed (the ledger takes a ref); NULL for none.  A decided
 * row becomes judged (a pending row keeps its state: a verdict comes
 * first). */
void		 ledger_set_coverage(struct ledger_entry *, enum coverage,
		    json_t *rules, const char *reason);
/* rem is borrowed (the ledger takes a ref); NULL, NULL: none.  A new
 * ledger_set_coverage() drops it. */
void		 ledger_set_remediation(struct ledger_entry *, json_t *rem,
		    const char *text);
/* Assign the next report sequence number to a decided or judged row
 * (idempotent); returns it (0: pending). */
uint64_t	 ledger_queue(struct ledger_entry *);
/* The transaction that queued the row failed: back to decided or judged,
 * no sequence number (a no-op unless queued). */
void		 ledger_unqueue(struct ledger_entry *);
uint64_t	 ledger_queue_summary(struct ledger_run *);
/* Reported: also drops the kept CloudTrail record. */
void		 ledger_mark_reported(struct ledger_entry *);
void		 ledger_mark_summary_reported(struct ledger_run *);

/* Does this eventID already prove a row (one record, one call)? */
int		 ledger_event_used(const struct ledger *, const char *event_id);
/* The row idx of a run of the working set, or NULL. */
struct ledger_entry *ledger_entry_find(struct ledger *, const char *run_id,
		    unsigned idx);
void		 ledger_set_gap(struct ledger_entry *, const char *gap,
		    const char *alert_gap);
void		 ledger_run_set_entry(struct ledger_run *, const char *entry);
/* The next report sequence number (outbox items other than rows). */
uint64_t	 ledger_next_seq(struct ledger *);
/* The state database (db.h), for the outbox, the history and readers. */
struct db	*ledger_db(struct ledger *);
/* After a failed outer transaction: write everything again. */
void		 ledger_mark_all_dirty(struct ledger *);

uint64_t	 ledger_last_seq(const struct ledger *);
/* Never hand out a sequence number <= seq (report file high-water mark). */
void		 ledger_bump_seq(struct ledger *, uint64_t seq);
size_t		 ledger_pending_count(const struct ledger *);

/*
 * The schedule's memory (schedmem.h, on ledger_db()): its changes are
 * written by every ledger_commit(), in the same transaction.  The ledger
 * does not own it: detach (NULL) or free the ledger before freeing it.
 */
struct schedmem;
void		 ledger_attach_schedmem(struct ledger *, struct schedmem *);

/*
 * Write every change (dirty runs and their rows, the attached schedule
 * memory's changes, the sequence high-water mark) in one transaction
 * (nested in the caller's when one is open).  -1 + *cause; everything
 * stays dirty.
 */
int		 ledger_commit(struct ledger *, char **cause);
/*
 * Drop from memory the runs that are complete, summary reported, and ended
 * before `before` (wall clock): they stay in the database.  Returns the
 * number dropped, -1 + *cause.
 */
int		 ledger_prune(struct ledger *, double before, char **cause);
/*
 * Delete from the database up to max reported runs (and their rows) that
 * ended before `before`.  Returns the number deleted, -1 + *cause.
 */
int		 ledger_expire(struct ledger *, double before, int max,
		    char **cause);

#endif
