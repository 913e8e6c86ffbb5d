/*
 * history: what each (account, region, event source + name) has been over
 * the last days, and what a new verdict means against it - the difference
 * between a regression ("this used to be logged and now is not", raised
 * once, loudly) and a chronic gap (missing every time: said when first
 * seen, then only in a daily digest).  The same for alert coverage.  State
 * in two tables of the state database (db.h, docs/STATE.md): event_state
 * (one row per key: the current gap, when it was last logged/covered) and
 * history (verdict counts per key and UTC day, kept `retention`).
 *
 * Classes of a logging verdict (history_class_name):
 *   logged         logged, no gap open
 *   fixed          logged again after a gap (acknowledged or not)
 *   regression     missing, and the same event was logged within the
 *                  regression window: err, its own MESSAGE_ID
 *   new            missing, first of a gap (never logged in the window):
 *                  warning, as a logging gap always was
 *   chronic        missing again, the gap still open: notice, and in the
 *                  daily digest
 *   acknowledged   missing, and a known_gaps entry (not expired) covers it:
 *                  info
 *   unverified     nothing known: no change (so also a call not found
 *                  whose recording is only assumed, #11: never a
 *                  regression, new or chronic gap)
 * Alert coverage of a logged verdict, the same way: covered / fixed /
 * regression (covered within the window, now uncovered) / new / chronic /
 * acknowledged.  Signal calls only: a context call's alert coverage is not
 * judged (HISTORY_NONE) and leaves the key's alert state as it is.
 */
#ifndef CLOUDSAGA_HISTORY_H
#define CLOUDSAGA_HISTORY_H

#include <stddef.h>

struct db;

enum history_class {
	HISTORY_NONE = 0,	/* unverified, or coverage not checked */
	HISTORY_OK,		/* logged / covered, no gap open */
	HISTORY_FIXED,
	HISTORY_REGRESSION,
	HISTORY_NEW,
	HISTORY_CHRONIC,
	HISTORY_ACKNOWLEDGED,
};
const char	*history_class_name(enum history_class);

/* A known gap from the configuration (known_gaps). */
struct history_ack {
	const char	*account;	/* config name, "*" any */
	const char	*region;	/* "*" any */
	const char	*event_source;	/* NULL any */
	const char	*event_name;	/* "*" any */
	int		 alert;		/* an alert gap, not a logging gap */
	const char	*reason;
	double		 expires;	/* wall clock; the ack ends then */
};

struct history_params {
	double			 window;	/* regression window; 0 = 7 d */
	double			 retention;	/* history kept; 0 = 90 d */
	const struct history_ack *acks;
	size_t			 nacks;
};
void	 history_params_default(struct history_params *);

/* One verdict, as the history sees it. */
struct history_verdict {
	const char	*account;	/* config name */
	const char	*region;	/* where the event lands */
	const char	*event_source;
	const char	*event_name;
	const char	*scenario;
	const char	*run_id;
	const char	*verdict;	/* "logged", "missing", "unverified" */
	const char	*coverage;	/* "covered", "uncovered", NULL/other */
	int		 context;	/* a context call (#11): its alert
					   coverage is never judged */
	double		 time;		/* when it was decided */
};

struct history_result {
	enum history_class	 gap;		/* the logging verdict */
	enum history_class	 alert;		/* its alert coverage */
	double			 since;		/* the gap's first missing
						   (chronic, fixed), 0 */
	double			 last_good;	/* last logged (regression),
						   last covered (alert) */
	int			 runs;		/* runs the gap has lasted */
	const struct history_ack *ack;		/* acknowledged by */
};

/*
 * Record a verdict in event_state and history and say what it means.
 * Must be called inside a transaction (db_begin); -1 + *cause.
 */
int	 history_note(struct db *, const struct history_params *,
	    const struct history_verdict *, struct history_result *,
	    char **cause);

/* The matching, unexpired ack for a key, or NULL. */
const struct history_ack *history_ack_find(const struct history_params *,
	    const char *account, const char *region, const char *event_source,
	    const char *event_name, int alert, double now);

/* One open chronic gap (for the digest). */
struct history_gap {
	char	*account, *region, *event_source, *event_name;
	int	 alert;
	double	 since;
	int	 runs;
	double	 last_good;	/* 0: never logged/covered in memory */
};
/*
 * Every open gap that has lasted more than one run and is not
 * acknowledged, oldest first (at most max); *ngaps.  -1 + *cause.
 */
int	 history_chronic(struct db *, const struct history_params *,
	    double now, size_t max, struct history_gap **gaps, size_t *ngaps,
	    char **cause);
void	 history_gaps_free(struct history_gap *, size_t);

/*
 * Delete what is older than the retention: at most max rows of history
 * and of event_state (keys not seen since), in the caller's transaction or
 * its own.  Returns the number of rows deleted, -1 + *cause.
 */
int	 history_prune(struct db *, const struct history_params *, double now,
	    int max, char **cause);

#endif
