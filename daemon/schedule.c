/*
 * schedule: next-run computation and per-entry run bookkeeping (schedule.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "config.h"
#include "schedule.h"
#include "util.h"
#include "xmalloc.h"

#define SCHED_DAY	86400.0
#define SCHED_EPSILON	1e-3	/* timers may fire a hair early */

struct sched {
	sched_clock_fn		 clock;
	sched_clock_fn		 rnd;
	struct sched_slot	*slots;
	size_t			 nslots;
};

/* ---- pure functions --------------------------------------------------- */

double
sched_period(const struct sched_spec *s)
{
	return s->every > 0 ? s->every : SCHED_DAY;
}

double
sched_first(const struct sched_spec *s, double now)
{
	double	 t;

	if (s->at < 0)
		return now;
	t = floor(now / SCHED_DAY) * SCHED_DAY + s->at;
	if (t < now)
		t += SCHED_DAY;
	return t;
}

double
sched_next(const struct sched_spec *s, double nominal, double now)
{
	double	 p = sched_period(s), n, k;

	n = nominal + p;
	if (n <= now) {
		k = floor((now - nominal) / p) + 1;
		n = nominal + k * p;
		while (n <= now)	/* rounding */
			n += p;
	}
	return n;
}

double
sched_jitter(const struct sched_spec *s, double nominal, double rnd)
{
	if (s->jitter <= 0)
		return nominal;
	if (rnd < 0)
		rnd = 0;
	if (rnd > 1)
		rnd = 1;
	return nominal + rnd * s->jitter;
}

void
sched_format_time(double t, char *buf, size_t len)
{
	struct tm	 tm;
	time_t		 tt = (time_t)floor(t);

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "@%.0f", t);
}

/* ---- the schedule ------------------------------------------------------ */

struct sched *
sched_new(sched_clock_fn clock, sched_clock_fn rnd)
{
	struct sched	*s = xcalloc(1, sizeof(*s));

	s->clock = clock != NULL ? clock : now_real;
	s->rnd = rnd != NULL ? rnd : random_unit;
	return s;
}

static void
sched_slot_clear(struct sched_slot *sl)
{
	free(sl->name);
	free(sl->scenario);
}

void
sched_free(struct sched *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nslots; i++)
		sched_slot_clear(&s->slots[i]);
	free(s->slots);
	free(s);
}

static void
sched_set_nominal(struct sched *s, struct sched_slot *sl, double nominal)
{
	sl->nominal = nominal;
	sl->due = sched_jitter(&sl->spec, nominal, s->rnd());
}

static int
sched_spec_equal(const struct sched_spec *a, const struct sched_spec *b)
{
	return a->every == b->every && a->jitter == b->jitter && a->at == b->at;
}

/* Timing for a slot whose spec changed or that was just enabled. */
static void
sched_replan(struct sched *s, struct sched_slot *sl, double now)
{
	if (sl->last_nominal > 0 && sl->spec.at < 0)
		sched_set_nominal(s, sl, sched_next(&sl->spec,
		    sl->last_nominal, now));
	else
		sched_set_nominal(s, sl, sched_first(&sl->spec, now));
}

void
sched_load(struct sched *s, const struct config *cfg)
{
	struct sched_slot	*slots, *sl, *old;
	const struct config_entry *e;
	struct sched_spec	 spec;
	double			 now = s->clock();
	size_t			 i, j, n = cfg->nentries;
	int			 was_enabled;

	slots = xcalloc(n > 0 ? n : 1, sizeof(*slots));
	for (i = 0; i < n; i++) {
		e = &cfg->entries[i];
		sl = &slots[i];
		spec.every = e->every;
		spec.jitter = e->jitter;
		spec.at = e->at;
		old = NULL;
		for (j = 0; j < s->nslots; j++)
			if (s->slots[j].name != NULL &&
			    strcmp(s->slots[j].name, e->name) == 0) {
				old = &s->slots[j];
				break;
			}
		if (old != NULL) {
			*sl = *old;		/* takes name and scenario */
			old->name = old->scenario = NULL;
			free(sl->scenario);
			sl->scenario = xstrdup(e->scenario);
			was_enabled = sl->enabled;
			sl->entry = e;
			sl->enabled = e->enabled;
			if (!sched_spec_equal(&sl->spec, &spec) ||
			    (!was_enabled && sl->enabled)) {
				sl->spec = spec;
				sched_replan(s, sl, now);
			}
			continue;
		}
		sl->name = xstrdup(e->name);
		sl->scenario = xstrdup(e->scenario);
		sl->spec = spec;
		sl->entry = e;
		sl->enabled = e->enabled;
		sched_set_nominal(s, sl, sched_first(&spec, now));
	}
	for (j = 0; j < s->nslots; j++)
		sched_slot_clear(&s->slots[j]);
	free(s->slots);
	s->slots = slots;
	s->nslots = n;
}

size_t
sched_count(const struct sched *s)
{
	return s->nslots;
}

struct sched_slot *
sched_slot(struct sched *s, size_t i)
{
	return i < s->nslots ? &s->slots[i] : NULL;
}

struct sched_slot *
sched_find(struct sched *s, const char *name)
{
	size_t	 i;

	for (i = 0; i < s->nslots; i++)
		if (strcmp(s->slots[i].name, name) == 0)
			return &s->slots[i];
	return NULL;
}

enum sched_fire
sched_fire(struct sched *s, struct sched_slot *sl)
{
	double	 now = s->clock(), period = sched_period(&sl->spec);

	if (!sl->enabled)
		return SCHED_OFF;
	if (now + SCHED_EPSILON < sl->due) {
		if (sl->due - now > period + sl->spec.jitter) {
			/* The wall clock went back: rebuild the grid. */
			if (sl->spec.at >= 0)
				sched_set_nominal(s, sl,
				    sched_first(&sl->spec, now));
			else
				sched_set_nominal(s, sl, sl->last_nominal > 0 ?
				    now + period : now);
		}
		return SCHED_EARLY;
	}
	sl->last_nominal = sl->nominal;
	sched_set_nominal(s, sl, sched_next(&sl->spec, sl->nominal, now));
	if (sl->running) {
		sl->skipped++;
		return SCHED_BUSY;
	}
	sl->running = 1;
	sl->last_start = now;
	sl->runs++;
	return SCHED_START;
}

int
sched_done(struct sched *s, const char *name)
{
	struct sched_slot	*sl;

	if ((sl = sched_find(s, name)) == NULL)
		return -1;
	sl->running = 0;
	sl->last_finish = s->clock();
	return 0;
}

int
sched_resume(struct sched *s, const char *name, double last_start)
{
	struct sched_slot	*sl;
	double			 now = s->clock(), anchor, n;

	if ((sl = sched_find(s, name)) == NULL)
		return -1;
	if (last_start <= 0 || last_start > now)
		return 0;		/* nothing usable: keep the plan */
	sl->last_start = last_start;
	sl->last_nominal = last_start;
	if (sl->spec.at < 0) {
		n = last_start + sched_period(&sl->spec);
		if (n < now)
			n = now;	/* overdue: run now */
	} else {
		/* The grid point of the at-anchor at or before last_start. */
		anchor = sched_first(&sl->spec, last_start);
		if (anchor > last_start)
			anchor -= SCHED_DAY;
		n = sched_next(&sl->spec, anchor, last_start);
		if (n < now)		/* keep to the time of day */
			n = sched_next(&sl->spec, n, now);
	}
	sched_set_nominal(s, sl, n);
	return 0;
}

int
sched_mark_running(struct sched *s, const char *name)
{
	struct sched_slot	*sl;

	if ((sl = sched_find(s, name)) == NULL)
		return -1;
	sl->running = 1;
	return 0;
}

double
sched_delay(const struct sched *s, const struct sched_slot *sl)
{
	double	 d = sl->due - s->clock();

	return d > 0 ? d : 0;
}

const struct sched_slot *
sched_earliest(const struct sched *s)
{
	const struct sched_slot	*best = NULL;
	size_t			 i;

	for (i = 0; i < s->nslots; i++) {
		if (!s->slots[i].enabled)
			continue;
		if (best == NULL || s->slots[i].due < best->due)
			best = &s->slots[i];
	}
	return best;
}

size_t
sched_nrunning(const struct sched *s)
{
	size_t	 i, n = 0;

	for (i = 0; i < s->nslots; i++)
		if (s->slots[i].running)
			n++;
	return n;
}

void
sched_describe(const struct sched *s, const struct sched_slot *sl,
    struct buf *b)
{
	char	 when[32], in[32];

	if (!sl->enabled) {
		buf_addstr(b, "disabled");
		return;
	}
	sched_format_time(sl->due, when, sizeof(when));
	duration_format(ceil(sched_delay(s, sl)), in, sizeof(in));
	buf_printf(b, "next run %s (in %s)", when, in);
}

static int
sched_due_cmp(const void *a, const void *b)
{
	const struct sched_slot *x = *(const struct sched_slot *const *)a;
	const struct sched_slot *y = *(const struct sched_slot *const *)b;

	if (x->due != y->due)
		return x->due < y->due ? -1 : 1;
	return strcmp(x->name, y->name);
}

void
sched_status(const struct sched *s, struct buf *b)
{
	const struct sched_slot	**v;
	char			 when[32];
	size_t			 i, n = 0;

	v = xcalloc(s->nslots + 1, sizeof(*v));
	for (i = 0; i < s->nslots; i++)
		if (s->slots[i].enabled)
			v[n++] = &s->slots[i];
	qsort(v, n, sizeof(*v), sched_due_cmp);
	if (n == 0)
		buf_addstr(b, "nothing scheduled");
	else
		buf_printf(b, "%zu scheduled", n);
	if (n < s->nslots)
		buf_printf(b, " (%zu disabled)", s->nslots - n);
	buf_printf(b, ", %zu running", sched_nrunning(s));
	for (i = 0; i < n && i < 3; i++) {
		sched_format_time(v[i]->due, when, sizeof(when));
		buf_printf(b, "%s%s at %s", i == 0 ? "; next " : ", ",
		    v[i]->name, when);
	}
	if (n > 3)
		buf_printf(b, ", +%zu more", n - 3);
	free(v);
}
