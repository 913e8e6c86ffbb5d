/*
 * report: every record of the daemon to the journal (syslog without a
 * journal, stderr in the foreground: the log backend) with the fields and
 * MESSAGE_IDs of msgid.h, and as JSON lines in the report file.
 *
 * Exactly once, across kill -9 at any point (docs/STATE.md):
 *   1. queue: in one transaction of the state database, the row gets its
 *      report sequence number (ledger_queue), what the history makes of it
 *      (history_note), and its record - journal fields, message and JSON
 *      line, built once - goes into the outbox (outbox.h);
 *   2. the JSON line (with "seq") is appended to the report file and the
 *      file fsynced - unless the file's tail already holds that seq (it
 *      was appended before a crash) - then the item is marked file_done;
 *   3. the record goes to the journal (with CLOUDSAGA_REPORT_ID) - after a
 *      crash, only if the journal does not already hold that report id
 *      (checked when the journal is readable; see report_open);
 *   4. in one transaction the item is marked journal_done and the rows it
 *      reports are marked reported.
 * A run's summary is queued the same way once the run has ended and every
 * row of it is reported (and the summary gate lets it: see
 * report_set_summary_gate); could-not-test records, safety events, GuardDuty
 * findings and the chronic-gap digest go through the same outbox.  The
 * report file is an export: rotate it freely (SIGHUP reopens it).
 */
#ifndef CLOUDSAGA_REPORT_H
#define CLOUDSAGA_REPORT_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "ledger.h"
#include "scenario.h"

struct reporter;

/*
 * report_file NULL: no file.  Reads the file's tail (and cuts a torn last
 * line) so appends are idempotent, then replays every report that was
 * queued but not confirmed before the last stop.  NULL + *cause if the
 * file cannot be opened.
 */
struct reporter *report_open(struct ledger *, const char *report_file,
	    char **cause);
void	 report_free(struct reporter *);
/* Also write every JSON object to this stream (--output json); NULL: no. */
void	 report_set_stream(struct reporter *, FILE *);
/*
 * Send records to the log backend (journal/syslog/stderr)?  Default yes;
 * the one-shot CLI may turn it off when it prints its own table.
 */
void	 report_set_log(struct reporter *, int);
/* How long report_open waits for the journal when checking (default 3s). */
void	 report_set_journal_wait(struct reporter *, double seconds);
/*
 * Called after a run's summary was reported: every expectation of the run
 * has its verdict and is reported (the daemon's "entry done").  Not called
 * for summaries replayed by report_open() (set the hook after it).
 */
void	 report_set_summary_hook(struct reporter *,
	    void (*)(const struct ledger_run *, void *arg), void *arg);
/*
 * Asked, for each run that is complete (ended, every row reported) and
 * whose summary is not queued yet, whenever summaries are queued: 1 lets
 * the summary be queued now, 0 holds it.  The owner that held one calls
 * report_flush() once it may go (the pipeline holds a summary while
 * GuardDuty is asked about the run: its records come first).  The gate
 * may be asked again for a run it holds.  NULL (the default): none.
 */
void	 report_set_summary_gate(struct reporter *,
	    int (*)(const struct ledger_run *, void *arg), void *arg);
/*
 * Tests: called after each step of the protocol with "queued" (ledger
 * committed), "file" (lines appended and synced), "journal" (records
 * sent), "confirmed" (ledger committed again) - a test kills itself there
 * to prove that a crash at that point neither loses nor repeats a report.
 */
void	 report_set_step_hook(struct reporter *,
	    void (*)(const char *step, void *arg), void *arg);

/*
 * Report rows that have their final verdict (and coverage): queue, emit,
 * confirm; then queue and emit the summaries of runs that became complete.
 * 0, or -1 + *cause when the ledger could not be committed (nothing owed
 * was lost: call report_flush() later).
 */
int	 report_verdicts(struct reporter *, struct ledger_entry **, size_t n,
	    char **cause);
/*
 * Emit whatever is queued and not yet confirmed; queue due summaries.
 * Call it after ledger_run_end(): a run whose rows were all reported
 * before it ended (or that has none) gets its summary here.
 */
int	 report_flush(struct reporter *, char **cause);

/*
 * Queue one record that reports no row (could-not-test, safety, GuardDuty,
 * digest: report_build.c) and emit it.  report_id must be unique: an item
 * whose report_id is already queued is not queued again.  rp NULL: the
 * log only.  0, or -1 when it could not be queued (it was logged anyway).
 */
int	 report_extra(struct reporter *, const char *kind,
	    const char *report_id, int priority, const char *msgid,
	    char **fields, const char *message, json_t *);
/* SIGHUP: reopen the report file (after a rotation by renaming). */
int	 report_reopen(struct reporter *, char **cause);
/* The history's parameters (regression window, retention, known gaps). */
struct history_params;
void	 report_set_history(struct reporter *, const struct history_params *);
/*
 * The daily digest: one record (MSGID_CHRONIC_DIGEST, warning) listing
 * every open chronic gap; nothing when there is none.  1 queued, 0 none,
 * -1 + *cause.  report_id "digest-<UTC day>": once a day at most.
 */
int	 report_digest(struct reporter *, double now, char **cause);
/*
 * Retention, in small transactions: history older than its retention,
 * runs reported and ended more than keep_runs ago, emitted outbox items
 * older than a day.  Returns the number of rows deleted, -1 + *cause.
 */
int	 report_expire(struct reporter *, double now, double keep_runs,
	    char **cause);

/* Highest sequence number found in / written to the report file. */
uint64_t report_file_seq(const struct reporter *);
/* Records emitted by this reporter: verdicts, summaries, file lines. */
void	 report_counts(const struct reporter *, unsigned long *records,
	    unsigned long *lines, unsigned long *replayed);

/* ---- the JSON objects (also the one-shot CLI's --output json) ----------- */

/*
 * {"kind":"verdict","time","run_id","scenario","account","region",
 *  "event_source","event_name","verdict","event_id","latency_s",
 *  "request_id","error_code",...} - keys always present (null when not
 * applicable); "coverage" and "rules" once the coverage check ran.
 */
json_t	*report_verdict_json(const struct ledger_entry *, double now);
/* {"kind":"summary","run_id","scenario","account","expected","logged",
 *  "missing","unverified",...} */
json_t	*report_summary_json(const struct ledger_run *, double now);
/*
 * {"kind":"call","time","run_id","scenario","account","region",
 *  "event_source","event_name","verdict":null,"event_id":null,
 *  "latency_s":null,"request_id","error_code","service","outcome",
 *  "status","error_message","note","elapsed_s","expected"} - the same
 * leading keys as a verdict, so a --output json consumer can treat every
 * line alike.  event_source: the service's ("ec2.amazonaws.com"), NULL if
 * unknown.
 */
json_t	*report_call_json(const char *run_id, const char *scenario,
	    const char *account, const char *event_source,
	    const struct run_call *, double now);
/*
 * A call of a run: its JSON line (report_call_json, now) to the stream
 * (--output json) at once; nothing when there is no stream.  Calls are not
 * in the report file nor in the journal.
 */
void	 report_call(struct reporter *, const char *run_id,
	    const char *scenario, const char *account, const struct run_call *);
/* One line: compact, keys in order, '\n' terminated (allocated). */
char	*report_json_line(json_t *);

/* ---- journal records ------------------------------------------------------- */

/* Priority and MESSAGE_ID of a row's verdict record (its gap classes:
 * a regression is err, a chronic gap notice, an acknowledged one info). */
int	 report_verdict_priority(const struct ledger_entry *);
const char *report_verdict_msgid(const struct ledger_entry *);
/* The record's fields ("KEY=value", NULL-terminated, allocated: free with
 * report_fields_free) and its MESSAGE text (allocated); h (may be NULL):
 * what the history made of it. */
struct history_result;
char	**report_verdict_fields(const struct ledger_entry *,
	    const struct history_result *h);
char	*report_verdict_message(const struct ledger_entry *,
	    const struct history_result *h);
char	**report_summary_fields(const struct ledger_run *);
char	*report_summary_message(const struct ledger_run *);
void	 report_fields_free(char **);

/*
 * A posture finding of a run (scenario.h): a journal record at notice
 * (MSGID_POSTURE: CLOUDSAGA_RUN_ID, _SCENARIO, _ACCOUNT, _REGION, _FINDING,
 * _RESOURCE), not queued and not in the report file; nothing when the log
 * is off (report_set_log).  rp NULL: the log.
 */
void	 report_posture(struct reporter *, const char *run_id,
	    const char *scenario, const char *account,
	    const struct run_finding *);
char	**report_posture_fields(const char *run_id, const char *scenario,
	    const char *account, const struct run_finding *);
char	*report_posture_message(const struct run_finding *);

/*
 * Records said when no reporter can be used (the log only, not queued, no
 * JSON line), built here like every other record:
 * - CloudTrail lookups failing for an account and region (the verifier,
 *   once when they start failing): warning, MSGID_LOOKUP_FAILING
 *   (CLOUDSAGA_ACCOUNT, _REGION, _REASON); grace: the verifier's grace
 *   after a deadline, seconds;
 * - the state unreadable (the ledger, when it opens the state): err,
 *   MSGID_STATE_CORRUPT (CLOUDSAGA_STATE_FILE, _SET_ASIDE, _ERROR); aside:
 *   where it was moved, NULL when it was left where it is.
 */
void	 report_lookup_failing(const char *account, const char *region,
	    const char *error, double grace);
void	 report_state_set_aside(const char *path, const char *aside,
	    const char *why);

/* Building blocks of records (report_build.c). */
struct report_fields {
	char	**v;
	size_t	  n;
};
void	 report_field(struct report_fields *, const char *key,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	 report_time(double t, char buf[21]);
json_t	*report_str(const char *);
json_t	*report_secs(double);

/*
 * GuardDuty findings that concern a run (coverage_guardduty): one record
 * per finding (LOG_NOTICE, MSGID_GUARDDUTY_FINDING) and one summary
 * (MSGID_GUARDDUTY_SUMMARY, LOG_INFO when nothing was found: information,
 * never a gap - GuardDuty does not promise findings for dry runs), and
 * "guardduty_finding"/"guardduty" lines (without "seq") in the report file
 * and stream.  rp may be NULL (journal only).
 */
struct coverage_gd_report;
void	 report_guardduty(struct reporter *, const struct coverage_gd_report *);

/*
 * A safety event (a DryRun call answered 2xx, the run halted): LOG_CRIT,
 * MSGID_SAFETY, and a "safety" line in the report file.
 */
/*
 * A run whose calls did not go as intended (transport failures, timeouts,
 * credentials refused, denials, throttling to the end, an endpoint that
 * did not check a target, error notes such as a region that failed
 * discovery): the detection test could not run, in full or in part.  A
 * journal record at warning (MSGID_COULD_NOT_TEST: which calls, why, what
 * to check) and a JSON line of kind "could-not-test".
 */
struct report_failure {
	const char	*service, *action, *region;
	const char	*outcome;	/* "error", "denied", "skipped" */
	const char	*error_code;	/* NULL when none */
	const char	*reason;	/* the message or note */
};
struct report_cnt {
	const char			*run_id, *scenario, *account;
	size_t				 calls, expectations;
	const struct report_failure	*failures;
	size_t				 nfailures;
	const char *const		*notes;		/* error notes */
	size_t				 nnotes;
};
void	 report_could_not_test(struct reporter *, const struct report_cnt *);
/* What to check for a failed call's error code (static text). */
const char *report_failure_hint(const char *error_code, const char *outcome);

void	 report_safety(struct reporter *, const char *run_id,
	    const char *scenario, const char *account, const char *region,
	    const char *service, const char *action, const char *detail);

#endif
