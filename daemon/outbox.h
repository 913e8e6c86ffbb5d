/*
 * outbox: the report items owed, in the state database (db.h).  Every
 * journal record and report line is built once, when it is queued, and
 * stored here with its sequence number in the same transaction as the
 * state change it reports; the reporter (report.c) then appends the line
 * to the report file, sends the record, and marks each step done.  A
 * replay after a crash sends the very same bytes.  docs/STATE.md has the
 * protocol and its crash points.
 */
#ifndef CLOUDSAGA_OUTBOX_H
#define CLOUDSAGA_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

struct db;

struct outbox_item {
	uint64_t	 seq;		/* the report sequence number */
	char		*report_id;	/* CLOUDSAGA_REPORT_ID: unique */
	char		*kind;		/* "verdict", "summary", ... */
	double		 created;
	int		 priority;	/* LOG_* */
	char		*message_id;	/* NULL: none */
	char		*message;
	char		**fields;	/* "KEY=value", NULL-terminated */
	char		*line;		/* the JSON line, no '\n' */
	int		 file_done;
	int		 journal_done;
};

/*
 * Store an item (inside the caller's transaction): 0, 1 when an item with
 * that report_id is already there (nothing stored), -1 + *cause.
 */
int	 outbox_add(struct db *, const struct outbox_item *, char **cause);
/* Items not done, in seq order (at most max).  -1 + *cause. */
int	 outbox_owed(struct db *, size_t max, struct outbox_item **,
	    size_t *n, char **cause);
/* Mark items file_done / journal_done.  -1 + *cause. */
int	 outbox_mark(struct db *, const struct outbox_item *, size_t n,
	    int file, int journal, char **cause);
/* Delete up to max done items created before `before`. */
int	 outbox_prune(struct db *, double before, int max, char **cause);
void	 outbox_item_clear(struct outbox_item *);
void	 outbox_items_free(struct outbox_item *, size_t);

#endif
