/*
 * report: every record of the daemon - verdicts, summaries, could-not-test,
 * safety events, GuardDuty, the chronic-gap digest - queued in the outbox
 * (outbox.h, in the state database) in the same transaction as what it
 * reports, then appended to the JSON-lines report file and sent to the
 * journal (syslog, stderr), exactly once.  The records themselves are
 * built in report_build.c.  See report.h and docs/STATE.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>
#include <systemd/sd-journal.h>

#include "aws.h"
#include "buf.h"
#include "coverage.h"
#include "db.h"
#include "history.h"
#include "ledger.h"
#include "log.h"
#include "msgid.h"
#include "outbox.h"
#include "report.h"
#include "util.h"
#include "xmalloc.h"

/* The report file's tail is read in chunks, at most this far back. */
#define REPORT_TAIL_CHUNK	65536
#define REPORT_TAIL_MAX		(8 * 1024 * 1024)
/* Items emitted per pass; done items kept a day, then deleted. */
#define REPORT_BATCH		1000
#define REPORT_OUTBOX_KEEP	86400.0

struct reporter {
	struct ledger	*ledger;
	struct db	*db;
	struct history_params hist;
	char		*path;
	int		 fd;
	uint64_t	 file_seq;	/* highest seq in the file's tail */
	FILE		*stream;
	uint64_t	 stream_seq;	/* highest seq printed to the stream */
	double		 journal_wait;
	int		 recovering;	/* replaying what a crash left owed */
	int		 journal_checked;
	int		 journal_readable;
	unsigned long	 records, lines, replayed, skipped_lines;
	int		 file_failing;
	void		(*step)(const char *, void *);
	void		*step_arg;
	void		(*summary)(const struct ledger_run *, void *);
	void		*summary_arg;
	int		(*gate)(const struct ledger_run *, void *);
	void		*gate_arg;
	/* Summaries confirmed by an emission that may not call hooks (from
	 * report_extra, which can run inside the owner's callbacks): their
	 * hooks run at the next report_flush. */
	char		(*hooks_owed)[33];
	size_t		 nhooks_owed;
	int		 nolog;
};

static void
report_step(struct reporter *rp, const char *step)
{
	if (rp->step != NULL)
		rp->step(step, rp->step_arg);
}

/* ---- the report file ---------------------------------------------------- */

/* The "seq" of one line, 0 if none or if it is not a JSON object. */
static uint64_t
report_line_seq(const char *line, size_t len)
{
	json_t		*o, *v;
	uint64_t	 seq = 0;

	if ((o = json_loadb(line, len, 0, NULL)) == NULL)
		return 0;
	v = json_object_get(o, "seq");
	if (json_is_integer(v) && json_integer_value(v) > 0)
		seq = (uint64_t)json_integer_value(v);
	json_decref(o);
	return seq;
}

/*
 * The highest seq in the file's tail, and cut a torn last line (a crash
 * mid-append) so the next append starts clean.  Never fails a start: a
 * line it cannot read (garbage, cut, a 100 kB line of an older version) is
 * skipped and counted; only the tail is read (REPORT_TAIL_MAX), since the
 * outbox says which items are already in the file - the tail only has to
 * cover the last batch a crash may have written without saying so.
 */
static void
report_scan(struct reporter *rp)
{
	struct stat	 sb;
	char		*chunk;
	off_t		 end, start, cut, floor_at;
	size_t		 len, i, ls;
	ssize_t		 n;
	uint64_t	 seq;

	rp->file_seq = 0;
	if (fstat(rp->fd, &sb) == -1 || !S_ISREG(sb.st_mode))
		return;
	end = sb.st_size;
	floor_at = end > REPORT_TAIL_MAX ? end - REPORT_TAIL_MAX : 0;
	chunk = xmalloc(REPORT_TAIL_CHUNK + 1);
	/* Torn tail? */
	if (end > 0) {
		start = end > REPORT_TAIL_CHUNK ? end - REPORT_TAIL_CHUNK : 0;
		n = pread(rp->fd, chunk, (size_t)(end - start), start);
		if (n == end - start && chunk[n - 1] != '\n') {
			for (i = (size_t)n; i > 0 && chunk[i - 1] != '\n'; i--)
				;
			cut = start + (off_t)i;
			log_warnx("%s: cutting a torn last line (%lld bytes)",
			    rp->path, (long long)(end - cut));
			if (ftruncate(rp->fd, cut) == 0)
				end = cut;
		}
	}
	/* Backwards, chunk by chunk, until a line with a seq. */
	while (end > floor_at) {
		start = end > REPORT_TAIL_CHUNK ? end - REPORT_TAIL_CHUNK : 0;
		if (start < floor_at)
			start = floor_at;
		len = (size_t)(end - start);
		if ((n = pread(rp->fd, chunk, len, start)) != (ssize_t)len)
			break;
		i = len;
		while (i > 0) {
			ls = i - 1;
			while (ls > 0 && chunk[ls - 1] != '\n')
				ls--;
			if (ls == 0 && start > floor_at)
				break;	/* partial line: next chunk */
			if ((seq = report_line_seq(chunk + ls, i - ls)) > 0) {
				rp->file_seq = seq;
				free(chunk);
				return;
			}
			if (i - ls > 1)
				rp->skipped_lines++;
			i = ls;
		}
		if (start <= floor_at)
			break;
		if (i == len) {
			/* A line longer than a chunk: skip it whole. */
			rp->skipped_lines++;
			while (end > floor_at) {
				start = end > REPORT_TAIL_CHUNK ?
				    end - REPORT_TAIL_CHUNK : 0;
				len = (size_t)(end - start);
				if (pread(rp->fd, chunk, len, start) !=
				    (ssize_t)len)
					break;
				for (i = len; i > 0 && chunk[i - 1] != '\n';
				    i--)
					;
				end = start + (off_t)i;
				if (i > 0 || start == 0)
					break;
			}
			if (i > 0)
				end--;	/* before that line's '\n' */
			continue;
		}
		end = start + (off_t)i;
	}
	free(chunk);
	if (rp->skipped_lines > 0)
		log_warnx("%s: %lu line(s) at the end could not be read; "
		    "skipped", rp->path, rp->skipped_lines);
}

static int
report_file_open(struct reporter *rp, char **cause)
{
	rp->fd = open(rp->path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (rp->fd == -1) {
		*cause = xprintf("report file %s: %s", rp->path,
		    strerror(errno));
		return -1;
	}
	report_scan(rp);
	return 0;
}

int
report_reopen(struct reporter *rp, char **cause)
{
	int	 old = rp->fd;

	if (rp->path == NULL)
		return 0;
	if (report_file_open(rp, cause) == -1) {
		rp->fd = old;	/* keep writing where we were */
		return -1;
	}
	if (old != -1)
		close(old);
	log_info("report file %s reopened", rp->path);
	return 0;
}

static int
report_write(struct reporter *rp, const char *line)
{
	size_t	 len = strlen(line);
	ssize_t	 n;

	/* One write(2) per line: O_APPEND keeps lines whole. */
	while ((n = write(rp->fd, line, len)) == -1 && errno == EINTR)
		;
	if (n == (ssize_t)len)
		return 0;
	if (n >= 0) {
		/* Short write (disk full): take the fragment back. */
		struct stat sb;

		if (fstat(rp->fd, &sb) == 0)
			(void)ftruncate(rp->fd, sb.st_size - n);
		errno = ENOSPC;
	}
	return -1;
}

static int	 report_emit(struct reporter *, int, char **);

/* ---- journal read-back for replays --------------------------------------- */

/*
 * Can we see our own records in the journal?  Send a marker and wait for
 * it: the journal socket is a FIFO, so once the marker is stored every
 * record sent before it (by the process that crashed) is stored too.
 */
static int
report_journal_sync(struct reporter *rp, unsigned owed, sd_journal **jp)
{
	sd_journal	*j = NULL;
	char		 marker[33], match[64];
	double		 until;
	int		 r;

	*jp = NULL;
	if (log_getbackend() != LOG_TO_JOURNAL || rp->journal_wait <= 0)
		return 0;
	random_id128(marker);
	r = sd_journal_send("MESSAGE=checking the journal for %u report(s) "
	    "owed from before the last stop", owed, "PRIORITY=%d", LOG_INFO,
	    "SYSLOG_IDENTIFIER=cloudsagad", "CLOUDSAGA_SYNC=%s", marker, NULL);
	if (r < 0)
		return 0;
	if (sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY) < 0)
		return 0;
	snprintf(match, sizeof(match), "CLOUDSAGA_SYNC=%s", marker);
	if (sd_journal_add_match(j, match, 0) < 0)
		goto fail;
	until = now_mono() + rp->journal_wait;
	for (;;) {
		if ((r = sd_journal_next(j)) > 0)
			break;
		if (r < 0 || now_mono() >= until)
			goto fail;
		(void)sd_journal_wait(j, (uint64_t)(fmin(until - now_mono(),
		    0.2) * 1e6));
	}
	sd_journal_flush_matches(j);
	*jp = j;
	return 1;
fail:
	sd_journal_close(j);
	return 0;
}

static int
report_journal_has(sd_journal *j, const char *report_id)
{
	char	 match[160];

	sd_journal_flush_matches(j);
	snprintf(match, sizeof(match), "CLOUDSAGA_REPORT_ID=%s", report_id);
	if (sd_journal_add_match(j, match, 0) < 0)
		return 0;
	if (sd_journal_seek_head(j) < 0)
		return 0;
	return sd_journal_next(j) > 0;
}

/* ---- queueing -------------------------------------------------------------- */

/*
 * The JSON line of an item: "seq" as the second key, after "kind", and
 * "report_id" (the journal's CLOUDSAGA_REPORT_ID) on every line, also on
 * records whose object does not carry it.
 */
static char *
report_line_with_seq(json_t *o, uint64_t seq, const char *report_id)
{
	json_t		*n, *v;
	const char	*k;
	char		*line, *nl;

	n = json_object();
	if ((v = json_object_get(o, "kind")) != NULL)
		json_object_set(n, "kind", v);
	json_object_set_new(n, "seq", json_integer((json_int_t)seq));
	if (json_object_get(o, "report_id") == NULL)
		json_object_set_new(n, "report_id", json_string(report_id));
	json_object_foreach(o, k, v)
		if (strcmp(k, "kind") != 0 && strcmp(k, "seq") != 0)
			json_object_set(n, k, v);
	line = report_json_line(n);
	json_decref(n);
	if ((nl = strrchr(line, '\n')) != NULL)
		*nl = '\0';
	return line;
}

/* Store one record in the outbox (inside the caller's transaction). */
static int
report_store(struct reporter *rp, uint64_t seq, const char *kind,
    const char *report_id, int priority, const char *msgid, char **fields,
    const char *message, json_t *o, char **cause)
{
	struct outbox_item	 it;
	char			**f;
	size_t			 n = 0, i;
	int			 rc;

	/* Every record names its report ID and sequence number. */
	for (i = 0; fields != NULL && fields[i] != NULL; i++)
		;
	f = xcalloc(i + 3, sizeof(*f));
	for (i = 0; fields != NULL && fields[i] != NULL; i++)
		if (strncmp(fields[i], "CLOUDSAGA_REPORT_", 17) != 0)
			f[n++] = fields[i];
	f[n] = xprintf("CLOUDSAGA_REPORT_SEQ=%llu", (unsigned long long)seq);
	f[n + 1] = xprintf("CLOUDSAGA_REPORT_ID=%s", report_id);
	memset(&it, 0, sizeof(it));
	it.seq = seq;
	it.report_id = (char *)report_id;
	it.kind = (char *)kind;
	it.created = now_real();
	it.priority = priority;
	it.message_id = (char *)msgid;
	it.message = (char *)message;
	it.line = report_line_with_seq(o, seq, report_id);
	it.fields = f;
	rc = outbox_add(rp->db, &it, cause);
	if (rc == 1 && strcmp(kind, "verdict") != 0 &&
	    strcmp(kind, "summary") != 0)
		rc = 1;
	else if (rc == 1)
		rc = 0;		/* a row's item is its own: never twice */
	free(f[n]);
	free(f[n + 1]);
	free(f);
	free(it.line);
	return rc;
}

void
report_posture(struct reporter *rp, const char *run_id, const char *scenario,
    const char *account, const struct run_finding *x)
{
	char	**fields, *msg;

	if (rp != NULL && rp->nolog)
		return;
	fields = report_posture_fields(run_id, scenario, account, x);
	msg = report_posture_message(x);
	log_fields(LOG_NOTICE, MSGID_POSTURE, (const char *const *)fields,
	    "%s", msg);
	free(msg);
	report_fields_free(fields);
}

void
report_call(struct reporter *rp, const char *run_id, const char *scenario,
    const char *account, const struct run_call *c)
{
	const struct aws_service *svc;
	json_t			*j;
	char			*line;

	if (rp == NULL || rp->stream == NULL)
		return;
	svc = aws_service_find(c->service);
	j = report_call_json(run_id, scenario, account, svc != NULL ?
	    svc->event_source : NULL, c, now_real());
	line = report_json_line(j);
	fputs(line, rp->stream);
	fflush(rp->stream);
	free(line);
	json_decref(j);
}

int
report_extra(struct reporter *rp, const char *kind, const char *report_id,
    int priority, const char *msgid, char **fields, const char *message,
    json_t *o)
{
	char		*cause = NULL;
	uint64_t	 seq;
	int		 r;

	if (rp == NULL) {
		/* No reporter (tests, early failures): the log only. */
		log_fields(priority, msgid, (const char *const *)fields, "%s",
		    message);
		return 0;
	}
	if (db_begin(rp->db, &cause) == -1)
		goto fail;
	seq = ledger_next_seq(rp->ledger);
	if ((r = report_store(rp, seq, kind, report_id, priority, msgid,
	    fields, message, o, &cause)) == -1 ||
	    ledger_commit(rp->ledger, &cause) == -1) {
		db_rollback(rp->db);
		goto fail;
	}
	if (r == 1) {
		/* Queued before (a digest of the same day, a finding seen
		 * again): reported once. */
		db_rollback(rp->db);
		return 0;
	}
	if (db_commit(rp->db, &cause) == -1)
		goto fail;
	/*
	 * Emit now, but queue no summary and call no hook: this may run
	 * inside the owner's callbacks (a run that just ended), which must
	 * not see their run released under them.  The next report_flush()
	 * does the rest.
	 */
	while ((r = report_emit(rp, 0, &cause)) == 1)
		;
	if (r == -1) {
		log_warnx("report: %s (will retry)", cause);
		free(cause);
	}
	return 0;
fail:
	/* Said at least once, even if it cannot be queued. */
	log_warnx("report: queueing %s %s: %s", kind, report_id, cause);
	free(cause);
	if (!rp->nolog)
		log_fields(priority, msgid, (const char *const *)fields, "%s",
		    message);
	return -1;
}

/*
 * A row with its sequence number: what the history makes of it, and its
 * record into the outbox (inside the caller's transaction).
 */
static int
report_queue_row(struct reporter *rp, struct ledger_entry *e, char **cause)
{
	struct history_verdict	 hv;
	struct history_result	 hr;
	char			**fields, *msg, rid[64];
	json_t			*o;
	int			 rc;

	memset(&hv, 0, sizeof(hv));
	hv.account = ledger_entry_account(e);
	hv.region = e->x.region;
	hv.event_source = e->x.event_source;
	hv.event_name = e->x.event_name;
	hv.scenario = ledger_entry_scenario(e);
	hv.run_id = ledger_entry_run_id(e);
	hv.verdict = verdict_name(e->verdict);
	hv.coverage = e->coverage != COVERAGE_NONE ?
	    coverage_name(e->coverage) : NULL;
	hv.context = e->x.role == AWS_ROLE_CONTEXT;
	hv.time = e->decided_at;
	if (history_note(rp->db, &rp->hist, &hv, &hr, cause) == -1)
		return -1;
	ledger_set_gap(e, history_class_name(hr.gap),
	    history_class_name(hr.alert));
	o = report_verdict_json(e, now_real());
	fields = report_verdict_fields(e, &hr);
	msg = report_verdict_message(e, &hr);
	ledger_entry_report_id(e, rid, sizeof(rid));
	rc = report_store(rp, e->seq, "verdict", rid,
	    report_verdict_priority(e), report_verdict_msgid(e), fields, msg,
	    o, cause);
	json_decref(o);
	report_fields_free(fields);
	free(msg);
	return rc;
}

/* Undo the in-memory half of a queueing whose transaction failed. */
static void
report_unqueue(struct reporter *rp, struct ledger_entry **v, size_t n,
    struct ledger_run **runs, size_t nruns)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (ledger_entry_state(v[i]) == LEDGER_ROW_REPORTED)
			continue;
		ledger_unqueue(v[i]);
		ledger_set_gap(v[i], NULL, NULL);
	}
	for (i = 0; i < nruns; i++)
		if (!runs[i]->summary_reported)
			runs[i]->summary_seq = 0;
	ledger_mark_all_dirty(rp->ledger);
}

/*
 * Queue rows with their final verdict (and coverage): what the history
 * makes of each, its record, its sequence number - one transaction.
 */
static int
report_queue_rows(struct reporter *rp, struct ledger_entry **v, size_t n,
    char **cause)
{
	struct ledger_entry	*e;
	enum ledger_row_state	 st;
	size_t			 i;
	int			 rc = 0;

	if (db_begin(rp->db, cause) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		e = v[i];
		st = ledger_entry_state(e);
		if (st != LEDGER_ROW_DECIDED && st != LEDGER_ROW_JUDGED)
			continue;
		ledger_queue(e);
		rc = report_queue_row(rp, e, cause);
	}
	if (rc == 0)
		rc = ledger_commit(rp->ledger, cause);
	if (rc == -1) {
		db_rollback(rp->db);
		report_unqueue(rp, v, n, NULL, 0);
		return -1;
	}
	if (db_commit(rp->db, cause) == -1) {
		report_unqueue(rp, v, n, NULL, 0);
		return -1;
	}
	return 0;
}

/*
 * Queue the summaries of runs that became complete (and that the summary
 * gate, if any, lets through now).
 */
static int
report_queue_summaries(struct reporter *rp, char **cause)
{
	struct ledger_run	**runs, **due = NULL;
	char			**fields, *msg, rid[64];
	json_t			*o;
	size_t			 nr, i, nd = 0;
	int			 rc = 0;

	runs = ledger_runs(rp->ledger, &nr);
	for (i = 0; i < nr; i++)
		if (runs[i]->summary_seq == 0 && ledger_run_complete(runs[i]) &&
		    (rp->gate == NULL || rp->gate(runs[i], rp->gate_arg))) {
			due = xreallocarray(due, nd + 1, sizeof(*due));
			due[nd++] = runs[i];
		}
	if (nd == 0)
		return 0;
	if (db_begin(rp->db, cause) == -1) {
		free(due);
		return -1;
	}
	for (i = 0; i < nd && rc == 0; i++) {
		ledger_queue_summary(due[i]);
		o = report_summary_json(due[i], now_real());
		fields = report_summary_fields(due[i]);
		msg = report_summary_message(due[i]);
		ledger_run_report_id(due[i], rid, sizeof(rid));
		rc = report_store(rp, due[i]->summary_seq, "summary", rid,
		    LOG_NOTICE, MSGID_RUN_SUMMARY, fields, msg, o, cause);
		json_decref(o);
		report_fields_free(fields);
		free(msg);
	}
	if (rc == 0)
		rc = ledger_commit(rp->ledger, cause);
	if (rc == -1 || db_commit(rp->db, cause) == -1) {
		if (rc == -1)
			db_rollback(rp->db);
		report_unqueue(rp, NULL, 0, due, nd);
		free(due);
		return -1;
	}
	free(due);
	return 1;
}

/*
 * Rows and summaries that hold a sequence number but have no item in the
 * outbox: queued by the protocol of a version before the database (a
 * migrated state directory).  Their items are made now, with the same
 * sequence numbers, so they are reported like everything else.
 */
static int
report_requeue_orphans(struct reporter *rp, char **cause)
{
	static const char	*sql = "SELECT 1 FROM outbox WHERE "
	    "report_id = ?";
	struct ledger_run	**runs, *r;
	struct ledger_entry	*e;
	sqlite3_stmt		*st;
	char			**fields, *msg, rid[64];
	json_t			*o;
	size_t			 nr, i, j;
	int			 found, rc = 0, n = 0;

	runs = ledger_runs(rp->ledger, &nr);
	if (db_begin(rp->db, cause) == -1)
		return -1;
	for (i = 0; i < nr && rc == 0; i++) {
		r = runs[i];
		for (j = 0; j <= r->nentries && rc == 0; j++) {
			e = j < r->nentries ? r->entries[j] : NULL;
			if (e != NULL &&
			    ledger_entry_state(e) != LEDGER_ROW_QUEUED)
				continue;
			if (e == NULL && (r->summary_seq == 0 ||
			    r->summary_reported))
				continue;
			if (e != NULL)
				ledger_entry_report_id(e, rid, sizeof(rid));
			else
				ledger_run_report_id(r, rid, sizeof(rid));
			if ((st = db_stmt(rp->db, sql, cause)) == NULL) {
				rc = -1;
				break;
			}
			db_bind_text(st, 1, rid);
			found = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_reset(st);
			if (found)
				continue;
			n++;
			if (e == NULL) {
				o = report_summary_json(r, now_real());
				fields = report_summary_fields(r);
				msg = report_summary_message(r);
				rc = report_store(rp, r->summary_seq, "summary",
				    rid, LOG_NOTICE, MSGID_RUN_SUMMARY, fields,
				    msg, o, cause);
			} else {
				rc = report_queue_row(rp, e, cause);
				continue;
			}
			json_decref(o);
			report_fields_free(fields);
			free(msg);
		}
	}
	if (rc == 0)
		rc = ledger_commit(rp->ledger, cause);
	if (rc == -1) {
		db_rollback(rp->db);
		ledger_mark_all_dirty(rp->ledger);
		return -1;
	}
	if (db_commit(rp->db, cause) == -1) {
		ledger_mark_all_dirty(rp->ledger);
		return -1;
	}
	if (n > 0)
		log_info("%d report(s) queued by an earlier version, owed", n);
	return n;
}

/* ---- emission --------------------------------------------------------------- */

/* "<run id>-<idx>" / "<run id>-summary" of an outbox item. */
static void
report_confirm(struct reporter *rp, const struct outbox_item *it,
    struct ledger_run ***done, size_t *ndone)
{
	struct ledger_entry	*e;
	struct ledger_run	*r;
	char			 run_id[33];
	const char		*p;
	char			*end;
	unsigned long		 idx;

	if (strlen(it->report_id) < 34 || it->report_id[32] != '-')
		return;
	memcpy(run_id, it->report_id, 32);
	run_id[32] = '\0';
	p = it->report_id + 33;
	if (strcmp(it->kind, "summary") == 0) {
		if ((r = ledger_run_get(rp->ledger, run_id)) != NULL &&
		    !r->summary_reported) {
			ledger_mark_summary_reported(r);
			*done = xreallocarray(*done, *ndone + 1,
			    sizeof(**done));
			(*done)[(*ndone)++] = r;
		}
	} else if (strcmp(it->kind, "verdict") == 0) {
		errno = 0;
		idx = strtoul(p, &end, 10);
		if (errno == 0 && *end == '\0' && (e = ledger_entry_find(
		    rp->ledger, run_id, (unsigned)idx)) != NULL)
			ledger_mark_reported(e);
	}
}

static int
report_emit(struct reporter *rp, int hooks, char **cause)
{
	struct outbox_item	*it;
	struct ledger_run	**done = NULL;
	sd_journal		*j = NULL;
	char			*line;
	size_t			 n, i, ndone = 0;
	int			 appended = 0, check = 0, rc;

	if (outbox_owed(rp->db, REPORT_BATCH, &it, &n, cause) == -1)
		return -1;
	if (n == 0)
		return 0;

	/* The stream (--output json): each item once. */
	for (i = 0; rp->stream != NULL && i < n; i++)
		if (it[i].seq > rp->stream_seq) {
			fprintf(rp->stream, "%s\n", it[i].line);
			rp->stream_seq = it[i].seq;
		}
	if (rp->stream != NULL)
		fflush(rp->stream);

	/* 2. The report file, idempotent by seq. */
	for (i = 0; i < n; i++) {
		if (it[i].file_done || rp->fd == -1 ||
		    it[i].seq <= rp->file_seq)
			continue;
		line = xprintf("%s\n", it[i].line);
		if (report_write(rp, line) == -1) {
			if (!rp->file_failing)
				log_warn("report file %s: lines are being "
				    "lost", rp->path);
			rp->file_failing = 1;
		} else {
			rp->file_seq = it[i].seq;
			rp->lines++;
			appended = 1;
			if (rp->file_failing)
				log_info("report file %s writable again",
				    rp->path);
			rp->file_failing = 0;
		}
		free(line);
	}
	if (appended && fsync(rp->fd) == -1)
		log_warn("fsync %s", rp->path);
	if (db_begin(rp->db, cause) == -1 ||
	    outbox_mark(rp->db, it, n, 1, 0, cause) == -1 ||
	    db_commit(rp->db, cause) == -1) {
		db_rollback(rp->db);
		outbox_items_free(it, n);
		return -1;
	}
	report_step(rp, "file");

	/* 3. The journal; after a crash, only what it does not hold yet. */
	if (rp->recovering && !rp->journal_checked) {
		rp->journal_checked = 1;
		rp->journal_readable = report_journal_sync(rp, (unsigned)n, &j);
		if (!rp->journal_readable && log_getbackend() == LOG_TO_JOURNAL)
			log_notice("the journal cannot be read back: re-sending "
			    "%zu report(s) owed from before the last stop "
			    "(duplicates carry the same CLOUDSAGA_REPORT_ID)",
			    n);
		check = rp->journal_readable;
	}
	for (i = 0; i < n; i++) {
		if (it[i].journal_done)
			continue;
		if (check && report_journal_has(j, it[i].report_id)) {
			log_debug("report %s already in the journal",
			    it[i].report_id);
			continue;
		}
		if (!rp->nolog)
			log_fields(it[i].priority, it[i].message_id,
			    (const char *const *)it[i].fields, "%s",
			    it[i].message);
		rp->records++;
		if (rp->recovering)
			rp->replayed++;
	}
	if (j != NULL)
		sd_journal_close(j);
	rp->recovering = 0;
	report_step(rp, "journal");

	/* 4. Confirmed: the items and the rows they report, together. */
	for (i = 0; i < n; i++)
		report_confirm(rp, &it[i], &done, &ndone);
	rc = -1;
	if (db_begin(rp->db, cause) == 0) {
		if (outbox_mark(rp->db, it, n, 1, 1, cause) == 0 &&
		    ledger_commit(rp->ledger, cause) == 0)
			rc = db_commit(rp->db, cause);
		else
			db_rollback(rp->db);
	}
	outbox_items_free(it, n);
	if (rc == -1) {
		ledger_mark_all_dirty(rp->ledger);
		free(done);
		return -1;
	}
	report_step(rp, "confirmed");
	for (i = 0; i < ndone; i++) {
		if (hooks) {
			if (rp->summary != NULL)
				rp->summary(done[i], rp->summary_arg);
			continue;
		}
		rp->hooks_owed = xreallocarray(rp->hooks_owed,
		    rp->nhooks_owed + 1, sizeof(*rp->hooks_owed));
		memcpy(rp->hooks_owed[rp->nhooks_owed++], done[i]->run_id, 33);
	}
	free(done);
	return n == REPORT_BATCH ? 1 : 0;
}

/* Summary hooks an emission without hooks left owed. */
static void
report_run_owed_hooks(struct reporter *rp)
{
	struct ledger_run	*r;
	char			(*ids)[33] = rp->hooks_owed;
	size_t			 n = rp->nhooks_owed, i;

	rp->hooks_owed = NULL;
	rp->nhooks_owed = 0;
	for (i = 0; i < n; i++)
		if (rp->summary != NULL &&
		    (r = ledger_run_get(rp->ledger, ids[i])) != NULL)
			rp->summary(r, rp->summary_arg);
	free(ids);
}

int
report_flush(struct reporter *rp, char **cause)
{
	int	 pass, r;

	for (pass = 0; pass < 64; pass++) {
		/* 1. Durable before anything is emitted. */
		if (ledger_commit(rp->ledger, cause) == -1)
			return -1;
		report_step(rp, "queued");
		if ((r = report_emit(rp, 1, cause)) == -1)
			return -1;
		if (r == 1)
			continue;	/* a full batch: more owed */
		if ((r = report_queue_summaries(rp, cause)) == -1)
			return -1;
		if (r == 0)
			break;
	}
	if (rp->nhooks_owed > 0)
		report_run_owed_hooks(rp);
	return 0;
}

int
report_verdicts(struct reporter *rp, struct ledger_entry **v, size_t n,
    char **cause)
{
	if (report_queue_rows(rp, v, n, cause) == -1)
		return -1;
	return report_flush(rp, cause);
}

/* ---- the chronic-gap digest ---------------------------------------------- */

int
report_digest(struct reporter *rp, double now, char **cause)
{
	struct history_gap	*g;
	struct report_fields	 f = { NULL, 0 };
	struct buf		 b;
	json_t			*o, *arr;
	char			 day[11], t[21], *msg, *rid;
	struct tm		 tm;
	time_t			 tt = (time_t)now;
	size_t			 n, i, logging = 0, alert = 0;

	if (history_chronic(rp->db, &rp->hist, now, 10000, &g, &n,
	    cause) == -1)
		return -1;
	if (n == 0)
		return 0;
	gmtime_r(&tt, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d", &tm);
	buf_init(&b);
	arr = json_array();
	for (i = 0; i < n; i++) {
		if (g[i].alert)
			alert++;
		else
			logging++;
		report_time(g[i].since, t);
		if (i < 20)
			buf_printf(&b, "%s%s %s:%s in %s of %s since %s (%d runs)",
			    i ? "; " : "", g[i].alert ? "alert gap" :
			    "logging gap", g[i].event_source, g[i].event_name,
			    g[i].region, g[i].account, t, g[i].runs);
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,"
		    "s:s,s:i}", "kind", g[i].alert ? "alert" : "logging",
		    "account", g[i].account, "region", g[i].region,
		    "event_source", g[i].event_source, "event_name",
		    g[i].event_name, "since", t, "runs", g[i].runs));
	}
	if (n > 20)
		buf_printf(&b, "; and %zu more", n - 20);
	report_time(now, t);
	report_field(&f, "CLOUDSAGA_VERDICT", "chronic-digest");
	report_field(&f, "CLOUDSAGA_CHRONIC_GAPS", "%zu", n);
	report_field(&f, "CLOUDSAGA_CHRONIC_LOGGING_GAPS", "%zu", logging);
	report_field(&f, "CLOUDSAGA_CHRONIC_ALERT_GAPS", "%zu", alert);
	report_field(&f, "CLOUDSAGA_DIGEST_DAY", "%s", day);
	msg = xprintf("chronic gaps (%s): %zu logging gap%s and %zu alert "
	    "gap%s still open: %s", day, logging, logging == 1 ? "" : "s",
	    alert, alert == 1 ? "" : "s", buf_str(&b));
	o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:o}", "kind", "digest", "time",
	    t, "day", day, "logging_gaps", (json_int_t)logging, "alert_gaps",
	    (json_int_t)alert, "gaps", arr);
	rid = xprintf("digest-%s", day);
	report_extra(rp, "digest", rid, LOG_WARNING, MSGID_CHRONIC_DIGEST,
	    f.v, msg, o);
	free(rid);
	free(msg);
	json_decref(o);
	report_fields_free(f.v);
	buf_free(&b);
	history_gaps_free(g, n);
	return 1;
}

/* Retention: history, expired runs, done outbox items; small batches. */
int
report_expire(struct reporter *rp, double now, double keep_runs,
    char **cause)
{
	int	 n, total = 0, rounds;

	for (rounds = 0; rounds < 100; rounds++) {
		if ((n = history_prune(rp->db, &rp->hist, now, 500,
		    cause)) == -1)
			return -1;
		total += n;
		if (db_begin(rp->db, cause) == -1)
			return -1;
		if ((n = ledger_expire(rp->ledger, now - keep_runs, 100,
		    cause)) == -1) {
			db_rollback(rp->db);
			return -1;
		}
		total += n;
		if ((n = outbox_prune(rp->db, now - REPORT_OUTBOX_KEEP, 500,
		    cause)) == -1) {
			db_rollback(rp->db);
			return -1;
		}
		total += n;
		if (db_commit(rp->db, cause) == -1)
			return -1;
		if (n == 0 && total < 100 * (rounds + 1))
			break;
	}
	return total;
}

/* ---- life cycle ---------------------------------------------------------- */

struct reporter *
report_open(struct ledger *l, const char *path, char **cause)
{
	struct reporter		*rp;
	struct outbox_item	*it;
	char			*why = NULL;
	size_t			 n;

	rp = xcalloc(1, sizeof(*rp));
	rp->ledger = l;
	rp->db = ledger_db(l);
	history_params_default(&rp->hist);
	rp->fd = -1;
	rp->journal_wait = 3;
	if (path != NULL) {
		rp->path = xstrdup(path);
		if (report_file_open(rp, cause) == -1) {
			report_free(rp);
			return NULL;
		}
		/* Never reuse a sequence number the file already holds. */
		ledger_bump_seq(l, rp->file_seq);
	}
	if (report_requeue_orphans(rp, &why) == -1) {
		log_warnx("report: %s", why);
		free(why);
		why = NULL;
	}
	if (outbox_owed(rp->db, REPORT_BATCH, &it, &n, &why) == -1) {
		log_warnx("report: %s", why);
		free(why);
		why = NULL;
		n = 0;
		it = NULL;
	}
	outbox_items_free(it, n);
	if (n > 0) {
		rp->recovering = 1;
		log_info("%zu%s report(s) owed from before the last stop", n,
		    n == REPORT_BATCH ? " or more" : "");
		if (report_flush(rp, &why) == -1) {
			log_warnx("replaying reports: %s", why);
			free(why);
		}
	}
	return rp;
}

void
report_free(struct reporter *rp)
{
	if (rp == NULL)
		return;
	if (rp->fd != -1)
		close(rp->fd);
	free(rp->hooks_owed);
	free(rp->path);
	free(rp);
}

void
report_set_history(struct reporter *rp, const struct history_params *h)
{
	if (h != NULL)
		rp->hist = *h;
	else
		history_params_default(&rp->hist);
}

void
report_set_stream(struct reporter *rp, FILE *f)
{
	rp->stream = f;
}

void
report_set_log(struct reporter *rp, int on)
{
	rp->nolog = !on;
}

void
report_set_journal_wait(struct reporter *rp, double seconds)
{
	rp->journal_wait = seconds;
}

void
report_set_summary_hook(struct reporter *rp,
    void (*cb)(const struct ledger_run *, void *), void *arg)
{
	rp->summary = cb;
	rp->summary_arg = arg;
}

void
report_set_summary_gate(struct reporter *rp,
    int (*gate)(const struct ledger_run *, void *), void *arg)
{
	rp->gate = gate;
	rp->gate_arg = arg;
}

void
report_set_step_hook(struct reporter *rp, void (*cb)(const char *, void *),
    void *arg)
{
	rp->step = cb;
	rp->step_arg = arg;
}

uint64_t
report_file_seq(const struct reporter *rp)
{
	return rp->file_seq;
}

void
report_counts(const struct reporter *rp, unsigned long *records,
    unsigned long *lines, unsigned long *replayed)
{
	if (records != NULL)
		*records = rp->records;
	if (lines != NULL)
		*lines = rp->lines;
	if (replayed != NULL)
		*replayed = rp->replayed;
}
