/*
 * schedule (sched_*): next-run computation (every, jitter, at), late and early fires,
 * no overlap, reload, resume, status lines - with an injected clock and
 * random source.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "schedule.h"

/* 2024-05-01T12:00:00Z */
#define T0	1714564800.0
#define DAY	86400.0

static double	 fake_now;
static double	 fake_rnd;

static double
clock_fake(void)
{
	return fake_now;
}

static double
rnd_fake(void)
{
	return fake_rnd;
}

static struct config *
load(const char *text)
{
	struct config	*c = NULL;
	char		*cause = NULL;

	if (config_load_string(text, "t.conf", &c, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		fail();
	}
	return c;
}

static void
test_pure_first_next(void **state)
{
	struct sched_spec	 every = { 30, 0, -1 };
	struct sched_spec	 at3 = { 0, 0, 3 * 3600 };
	struct sched_spec	 at13 = { 6 * 3600, 0, 13 * 3600 };
	struct sched_spec	 noon = { 0, 0, 12 * 3600 };

	assert_true(sched_period(&every) == 30);
	assert_true(sched_period(&at3) == DAY);
	/* Without at: at once. */
	assert_true(sched_first(&every, T0 + 0.25) == T0 + 0.25);
	/* 03:00 has passed today (12:00): tomorrow. */
	assert_true(sched_first(&at3, T0) == T0 + 15 * 3600);
	/* 13:00 is still ahead today. */
	assert_true(sched_first(&at13, T0) == T0 + 3600);
	/* Exactly now counts as now. */
	assert_true(sched_first(&noon, T0) == T0);
	assert_true(sched_first(&noon, T0 + 1) == T0 + DAY);

	/* The grid: on time, late (missed periods skipped), on the edge. */
	assert_true(sched_next(&every, T0, T0) == T0 + 30);
	assert_true(sched_next(&every, T0, T0 + 29.9) == T0 + 30);
	assert_true(sched_next(&every, T0, T0 + 95) == T0 + 120);
	assert_true(sched_next(&every, T0, T0 + 120) == T0 + 150);
	assert_true(sched_next(&at3, T0 + 15 * 3600, T0 + 15 * 3600) ==
	    T0 + 15 * 3600 + DAY);
	/* at + every: 13:00, 19:00, 01:00 ... */
	assert_true(sched_next(&at13, T0 + 3600, T0 + 3600) ==
	    T0 + 7 * 3600);
	assert_true(sched_next(&at13, T0 + 3600, T0 + 13 * 3600) ==
	    T0 + 19 * 3600);
}

static void
test_pure_jitter_and_format(void **state)
{
	struct sched_spec	 s = { 600, 60, -1 };
	struct sched_spec	 none = { 600, 0, -1 };
	char			 buf[32];

	assert_true(sched_jitter(&s, T0, 0) == T0);
	assert_true(sched_jitter(&s, T0, 0.5) == T0 + 30);
	assert_true(sched_jitter(&s, T0, 1.0) == T0 + 60);
	assert_true(sched_jitter(&s, T0, 7) == T0 + 60);
	assert_true(sched_jitter(&s, T0, -3) == T0);
	assert_true(sched_jitter(&none, T0, 0.9) == T0);
	sched_format_time(T0 + 30.7, buf, sizeof(buf));
	assert_string_equal(buf, "2024-05-01T12:00:30Z");
}

static void
test_every_with_jitter(void **state)
{
	struct config		*c;
	struct sched		*s;
	struct sched_slot	*sl;

	c = load("schedule = ( { scenario = \"network-changes\"; "
	    "every = \"10m\"; jitter = \"1m\"; } );");
	fake_now = T0;
	fake_rnd = 0.5;
	s = sched_new(clock_fake, rnd_fake);
	sched_load(s, c);
	assert_int_equal(sched_count(s), 1);
	sl = sched_slot(s, 0);
	assert_string_equal(sl->name, "network-changes");
	assert_string_equal(sl->scenario, "network-changes");
	assert_ptr_equal(sl->entry, &c->entries[0]);
	/* First run at once plus jitter. */
	assert_true(sl->nominal == T0);
	assert_true(sl->due == T0 + 30);
	assert_true(sched_delay(s, sl) == 30);

	/* Early: nothing changes. */
	fake_now = T0 + 10;
	assert_int_equal(sched_fire(s, sl), SCHED_EARLY);
	assert_true(sl->due == T0 + 30);
	assert_int_equal(sl->runs, 0);

	fake_now = T0 + 30;
	fake_rnd = 0.25;
	assert_int_equal(sched_fire(s, sl), SCHED_START);
	assert_true(sl->running);
	assert_true(sl->last_start == T0 + 30);
	/* The jitter does not shift the grid: next nominal T0 + 10m. */
	assert_true(sl->nominal == T0 + 600);
	assert_true(sl->due == T0 + 615);
	assert_true(sched_delay(s, sl) == 585);
	assert_int_equal(sched_done(s, "network-changes"), 0);
	assert_false(sl->running);
	assert_true(sl->last_finish == T0 + 30);
	sched_free(s);
	config_free(c);
}

static void
test_no_overlap(void **state)
{
	struct config		*c;
	struct sched		*s;
	struct sched_slot	*sl;
	struct buf		 b;

	c = load("schedule = ( { name = \"nc\"; scenario = \"network-changes\"; "
	    "every = \"30s\"; } );");
	fake_now = T0;
	fake_rnd = 0;
	s = sched_new(clock_fake, rnd_fake);
	sched_load(s, c);
	sl = sched_find(s, "nc");
	assert_non_null(sl);
	assert_int_equal(sched_fire(s, sl), SCHED_START);
	assert_int_equal(sched_nrunning(s), 1);

	/* Still verifying at the next two periods: skipped, counted. */
	fake_now = T0 + 30;
	assert_int_equal(sched_fire(s, sl), SCHED_BUSY);
	assert_int_equal(sl->skipped, 1);
	assert_true(sl->due == T0 + 60);
	assert_true(sl->last_start == T0);
	fake_now = T0 + 60.2;
	assert_int_equal(sched_fire(s, sl), SCHED_BUSY);
	assert_int_equal(sl->skipped, 2);
	assert_int_equal(sl->runs, 1);
	buf_init(&b);
	sched_status(s, &b);
	assert_string_equal(buf_str(&b), "1 scheduled, 1 running; next nc at "
	    "2024-05-01T12:01:30Z");
	buf_free(&b);

	/* Finished: the next period starts again. */
	fake_now = T0 + 75;
	assert_int_equal(sched_done(s, "nc"), 0);
	assert_int_equal(sched_nrunning(s), 0);
	fake_now = T0 + 90;
	assert_int_equal(sched_fire(s, sl), SCHED_START);
	assert_int_equal(sl->runs, 2);
	assert_int_equal(sched_done(s, "nope"), -1);
	sched_free(s);
	config_free(c);
}

static void
test_late_and_clock_back(void **state)
{
	struct config		*c;
	struct sched		*s;
	struct sched_slot	*sl;

	c = load("schedule = ( { scenario = \"imds-reveal\"; every = \"30s\"; "
	    "} );");
	fake_now = T0;
	fake_rnd = 0;
	s = sched_new(clock_fake, rnd_fake);
	sched_load(s, c);
	sl = sched_slot(s, 0);
	assert_int_equal(sched_fire(s, sl), SCHED_START);
	sched_done(s, sl->name);
	/* Woken 65 s late (suspend): one run, then back on the grid. */
	fake_now = T0 + 95;
	assert_int_equal(sched_fire(s, sl), SCHED_START);
	assert_true(sl->due == T0 + 120);
	sched_done(s, sl->name);

	/* The wall clock is set back a day: not due, grid rebuilt from now
	 * so the entry does not sleep for a day. */
	fake_now = T0 + 100 - DAY;
	assert_int_equal(sched_fire(s, sl), SCHED_EARLY);
	assert_true(sl->due == fake_now + 30);
	fake_now += 30;
	assert_int_equal(sched_fire(s, sl), SCHED_START);
	sched_free(s);
	config_free(c);
}

static void
test_at(void **state)
{
	struct config		*c;
	struct sched		*s;
	struct sched_slot	*daily, *six;
	struct buf		 b;

	c = load("schedule = ( { name = \"daily\"; scenario = \"iam-credentials\"; "
	    "at = \"03:00\"; jitter = \"10m\"; },\n"
	    "{ name = \"six\"; scenario = \"network-changes\"; at = \"13:30\"; "
	    "every = \"6h\"; } );");
	fake_now = T0;
	fake_rnd = 0.5;
	s = sched_new(clock_fake, rnd_fake);
	sched_load(s, c);
	daily = sched_find(s, "daily");
	six = sched_find(s, "six");
	/* Tomorrow 03:00 plus half the jitter; today 13:30. */
	assert_true(daily->nominal == T0 + 15 * 3600);
	assert_true(daily->due == T0 + 15 * 3600 + 300);
	assert_true(six->due == T0 + 5400);
	buf_init(&b);
	sched_status(s, &b);
	assert_string_equal(buf_str(&b), "2 scheduled, 0 running; next six at "
	    "2024-05-01T13:30:00Z, daily at 2024-05-02T03:05:00Z");
	buf_reset(&b);
	sched_describe(s, six, &b);
	assert_string_equal(buf_str(&b),
	    "next run 2024-05-01T13:30:00Z (in 1h30m)");
	buf_free(&b);

	fake_now = T0 + 5400;
	assert_int_equal(sched_fire(s, six), SCHED_START);
	assert_true(six->due == T0 + 5400 + 6 * 3600);
	fake_now = daily->due;
	assert_int_equal(sched_fire(s, daily), SCHED_START);
	assert_true(daily->nominal == T0 + 15 * 3600 + DAY);
	sched_free(s);
	config_free(c);
}

static void
test_reload(void **state)
{
	struct config		*c1, *c2, *c3;
	struct sched		*s;
	struct sched_slot	*a, *b;

	c1 = load("schedule = ( { name = \"a\"; scenario = \"network-changes\"; "
	    "every = \"10m\"; },\n{ name = \"b\"; scenario = \"imds-reveal\"; "
	    "every = \"1h\"; },\n{ name = \"gone\"; scenario = \"imds-reveal\"; "
	    "every = \"1h\"; } );");
	fake_now = T0;
	fake_rnd = 0;
	s = sched_new(clock_fake, rnd_fake);
	sched_load(s, c1);
	a = sched_find(s, "a");
	b = sched_find(s, "b");
	assert_int_equal(sched_fire(s, a), SCHED_START);	/* running */
	assert_int_equal(sched_fire(s, b), SCHED_START);
	sched_done(s, "b");
	assert_int_equal(sched_fire(s, sched_find(s, "gone")), SCHED_START);

	/* a unchanged (still running, same due); b every 1h -> 15m keeps
	 * its phase; gone removed; new added due at once. */
	fake_now = T0 + 120;
	c2 = load("schedule = ( { name = \"new\"; scenario = \"iam-credentials\"; "
	    "every = \"1d\"; },\n{ name = \"a\"; scenario = \"network-changes\"; "
	    "every = \"10m\"; },\n{ name = \"b\"; scenario = \"imds-reveal\"; "
	    "every = \"15m\"; } );");
	sched_load(s, c2);
	config_free(c1);
	assert_int_equal(sched_count(s), 3);
	a = sched_find(s, "a");
	b = sched_find(s, "b");
	assert_true(a->running);
	assert_int_equal(a->runs, 1);
	assert_true(a->due == T0 + 600);
	assert_ptr_equal(a->entry, config_entry_find(c2, "a"));
	assert_true(b->due == T0 + 900);
	assert_int_equal(b->runs, 1);
	assert_true(sched_find(s, "new")->due == T0 + 120);
	assert_null(sched_find(s, "gone"));
	assert_int_equal(sched_done(s, "gone"), -1);	/* late finisher */

	/* Disabled, then enabled again. */
	c3 = load("schedule = ( { name = \"a\"; scenario = \"network-changes\"; "
	    "every = \"10m\"; enabled = false; } );");
	sched_load(s, c3);
	config_free(c2);
	a = sched_find(s, "a");
	assert_int_equal(sched_fire(s, a), SCHED_OFF);
	assert_null(sched_earliest(s));
	{
		struct buf	 st;

		buf_init(&st);
		sched_status(s, &st);
		assert_string_equal(buf_str(&st),
		    "nothing scheduled (1 disabled), 1 running");
		buf_free(&st);
	}
	sched_free(s);
	config_free(c3);
}

static void
test_resume(void **state)
{
	struct config		*c;
	struct sched		*s;
	struct sched_slot	*e, *d;

	c = load("schedule = ( { name = \"e\"; scenario = \"network-changes\"; "
	    "every = \"1h\"; },\n{ name = \"d\"; scenario = \"iam-credentials\"; "
	    "at = \"03:00\"; every = \"6h\"; } );");
	fake_now = T0;
	fake_rnd = 0;
	s = sched_new(clock_fake, rnd_fake);
	sched_load(s, c);
	e = sched_find(s, "e");
	d = sched_find(s, "d");
	/* Ran 10 minutes ago: next in 50 minutes, not at once. */
	assert_int_equal(sched_resume(s, "e", T0 - 600), 0);
	assert_true(e->due == T0 + 3000);
	/* Ran 3 hours ago: overdue, run now. */
	sched_resume(s, "e", T0 - 3 * 3600);
	assert_true(e->due == T0);
	/* at 03:00 every 6h (03, 09, 15, 21); ran at 09:00: next 15:00. */
	sched_resume(s, "d", T0 - 3 * 3600);
	assert_true(d->due == T0 + 3 * 3600);
	/* Ran yesterday 21:00, now 12:00: the 03:00 and 09:00 runs were
	 * missed; keep to the grid: 15:00. */
	sched_resume(s, "d", T0 - 15 * 3600);
	assert_true(d->due == T0 + 3 * 3600);
	/* Nonsense (the future, zero) leaves the plan alone. */
	sched_resume(s, "e", T0 + 100);
	assert_true(e->due == T0);
	assert_int_equal(sched_resume(s, "x", T0), -1);
	sched_free(s);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pure_first_next),
		cmocka_unit_test(test_pure_jitter_and_format),
		cmocka_unit_test(test_every_with_jitter),
		cmocka_unit_test(test_no_overlap),
		cmocka_unit_test(test_late_and_clock_back),
		cmocka_unit_test(test_at),
		cmocka_unit_test(test_reload),
		cmocka_unit_test(test_resume),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
