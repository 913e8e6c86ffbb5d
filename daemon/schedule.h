/*
 * schedule (sched_*): when each schedule entry runs next, and whether it
 * may start.  (Not "sched.h": that name would shadow the C library's
 * <sched.h> for every file compiled with -Idaemon.)
 *
 * Pure timing, no event loop: the daemon keeps one libevent timer per slot
 * and arms it for sched_delay(); when it fires the daemon asks sched_fire()
 * what to do.  Times are wall-clock seconds (the `at` key is a UTC time of
 * day); the clock and the random source are injected so tests control them.
 *
 * Each entry has a nominal time (un-jittered) and a due time = nominal +
 * uniform [0, jitter].  The nominal times form a grid:
 *   - no `at`: the first nominal is the moment the entry is loaded (it runs
 *     at once, plus jitter), then every `every`;
 *   - `at`: the first nominal is the next occurrence of that UTC time of
 *     day, then every `every` (daily when every is not set).
 * A fire that comes late (suspend, clock jump, busy loop) runs once and the
 * next nominal is the first grid point after now: missed periods are
 * skipped, never caught up in a burst.  A fire that comes early (the wall
 * clock was set back) is SCHED_EARLY: re-arm for sched_delay(); when the
 * due time is more than one period away it is pulled back to the grid
 * computed from now.
 *
 * No overlap: an entry whose previous run is still running (or verifying)
 * when due does not start again; sched_fire() answers SCHED_BUSY, counts
 * the skip and moves on to the next period.  The daemon calls
 * sched_done() when a run (including its verification) has finished.
 */
#ifndef CLOUDSAGA_SCHEDULE_H
#define CLOUDSAGA_SCHEDULE_H

#include <stddef.h>

struct buf;
struct config;
struct config_entry;

struct sched_spec {
	double		 every;		/* seconds; 0: daily (needs at) */
	double		 jitter;	/* seconds, >= 0 */
	int		 at;		/* UTC seconds after midnight, -1 */
};

/* ---- pure functions --------------------------------------------------- */

/* The grid step: every, or one day when only at is set. */
double	 sched_period(const struct sched_spec *);
/* First nominal time at or after now. */
double	 sched_first(const struct sched_spec *, double now);
/* Next grid point after nominal that is later than now. */
double	 sched_next(const struct sched_spec *, double nominal, double now);
/* nominal + rnd * jitter, rnd clamped to [0, 1]. */
double	 sched_jitter(const struct sched_spec *, double nominal, double rnd);
/* "2024-05-01T12:00:30Z" into buf (at least 21 bytes). */
void	 sched_format_time(double t, char *buf, size_t len);

/* ---- the schedule ------------------------------------------------------ */

struct sched_slot {
	char			*name;
	char			*scenario;
	struct sched_spec	 spec;
	int			 enabled;
	/* The entry in the config given to the last sched_load(). */
	const struct config_entry *entry;

	double			 nominal;
	double			 due;
	double			 last_nominal;	/* of the last fire, 0: never */
	int			 running;
	double			 last_start;	/* 0: never */
	double			 last_finish;	/* 0: never */
	unsigned long		 runs;
	unsigned long		 skipped;	/* overlaps avoided */
};

enum sched_fire {
	SCHED_START,	/* start a run now; the slot is marked running */
	SCHED_BUSY,	/* due, but the previous run is still going: skipped */
	SCHED_EARLY,	/* not due yet (clock moved back): re-arm */
	SCHED_OFF,	/* disabled */
};

typedef double (*sched_clock_fn)(void);

struct sched;

/* clock NULL: now_real(); rnd NULL: random_unit(). */
struct sched	*sched_new(sched_clock_fn clock, sched_clock_fn rnd);
void		 sched_free(struct sched *);

/*
 * Take the entries of cfg (start and reload).  Slots are matched by name:
 * a kept slot keeps its running flag, counters and - when its timing did
 * not change - its next due time; a slot whose timing changed keeps its
 * phase (next grid point after its last fire).  Slots of removed entries
 * are dropped (a run they started may still call sched_done(): ignored).
 * Slot pointers and indexes are valid until the next sched_load().
 */
void		 sched_load(struct sched *, const struct config *cfg);
size_t		 sched_count(const struct sched *);
struct sched_slot *sched_slot(struct sched *, size_t);
struct sched_slot *sched_find(struct sched *, const char *name);

/* The slot's timer went off: see enum sched_fire. */
enum sched_fire	 sched_fire(struct sched *, struct sched_slot *);
/* The run started for name has finished; -1 if there is no such slot. */
int		 sched_done(struct sched *, const char *name);
/*
 * Resume after a restart: name last started at last_start (wall clock, from
 * persisted state).  The next nominal becomes the first grid point after
 * it (at least now), so a restart does not fire everything at once.
 */
int		 sched_resume(struct sched *, const char *name,
		    double last_start);

/*
 * After a restart, a run of name resumed from the state is still being
 * verified: the slot counts as running (no overlap) until sched_done().
 */
int		 sched_mark_running(struct sched *, const char *name);

/* Seconds until the slot is due (0 when overdue). */
double		 sched_delay(const struct sched *, const struct sched_slot *);
/* The enabled slot due first, NULL if none. */
const struct sched_slot *sched_earliest(const struct sched *);
size_t		 sched_nrunning(const struct sched *);

/*
 * One line for STATUS= (absolute times only, so it does not go stale):
 * "2 scheduled, 1 running; next network-changes at 2024-05-01T12:00:30Z,
 * iam-credentials at 2024-05-02T03:00:00Z" (at most three, soonest
 * first, then "+N more").
 */
void		 sched_status(const struct sched *, struct buf *);
/* "next run 2024-05-01T12:00:30Z (in 25s)" for one slot. */
void		 sched_describe(const struct sched *, const struct sched_slot *,
		    struct buf *);

#endif
