/*
 * schedmem: the schedule's memory - when each schedule entry last started,
 * so that a restart resumes the entry's phase instead of firing everything
 * at once (daemon.c: sched_resume()).  Kept in the state database's
 * schedule table (docs/STATE.md).
 *
 * schedmem_set() changes memory only; the change is written by the next
 * ledger_commit(), in its transaction, with the runs it started
 * (ledger_attach_schedmem()): a start is remembered exactly when its run
 * is.
 */
#ifndef CLOUDSAGA_SCHEDMEM_H
#define CLOUDSAGA_SCHEDMEM_H

struct db;
struct schedmem;

/* Load the schedule table of db (implausible times are ignored).  Never
 * NULL: a table that cannot be read is logged and the memory starts empty
 * (every entry starts its phase afresh; the daemon can always start). */
struct schedmem	*schedmem_open(struct db *);
void		 schedmem_free(struct schedmem *);
/* When entry last started (wall clock), 0 when unknown. */
double		 schedmem_get(const struct schedmem *, const char *entry);
void		 schedmem_set(struct schedmem *, const char *entry,
		    double last_start);
/* Write what changed since the last write (in the caller's transaction);
 * -1 + *cause, the changes are kept.  written: the transaction committed. */
int		 schedmem_write(struct schedmem *, char **cause);
void		 schedmem_written(struct schedmem *);
/* One entry's last start, straight to db (the migration of the JSON
 * layout). */
int		 schedmem_store(struct db *, const char *entry,
		    double last_start, char **cause);

#endif
