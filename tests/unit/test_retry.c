/*
 * unit.retry: standard-mode backoff and quota, AWS_MAX_ATTEMPTS, the retry
 * state of a call, clock-skew helpers, token-bucket pacing and the keyed
 * set of buckets.
 */
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "retry.h"
#include "xmalloc.h"

/* ---- backoff ----------------------------------------------------------- */

static void
test_backoff_bounds(void **state)
{
	static const struct {
		int	 n;
		double	 cap;
	} t[] = {
		{ INT_MIN, 1 }, { -1, 1 }, { 0, 1 }, { 1, 1 }, { 2, 2 },
		{ 3, 4 }, { 4, 8 }, { 5, 16 }, { 6, 20 }, { 7, 20 },
		{ 30, 20 }, { 64, 20 }, { 1100, 20 }, { INT_MAX, 20 },
	};
	size_t	 i;
	double	 top;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_true(retry_backoff_u(t[i].n, 0.0) == 0.0);
		assert_true(retry_backoff_u(t[i].n, 0.5) == t[i].cap / 2);
		assert_true(retry_backoff_u(t[i].n, 0.25) == t[i].cap / 4);
		top = retry_backoff_u(t[i].n, nextafter(1.0, 0.0));
		assert_true(top < t[i].cap);
		assert_true(top > t[i].cap * 0.999999);
		/* Out-of-range draws are clamped into [0, cap). */
		assert_true(retry_backoff_u(t[i].n, -3) == 0.0);
		assert_true(retry_backoff_u(t[i].n, NAN) == 0.0);
		assert_true(retry_backoff_u(t[i].n, 1.0) < t[i].cap);
		assert_true(retry_backoff_u(t[i].n, 7.0) < t[i].cap);
	}
}

/* Many draws: inside [0, cap), mean near cap/2, spread evenly. */
static void
check_distribution(int n, double cap)
{
	const int	 draws = 40000;
	int		 i, bins[4] = { 0, 0, 0, 0 }, b;
	double		 d, sum = 0, lo = cap, hi = 0;

	for (i = 0; i < draws; i++) {
		d = retry_backoff(n);
		if (!(d >= 0 && d < cap))
			fail_msg("retry_backoff(%d) = %g outside [0, %g)", n, d,
			    cap);
		sum += d;
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
		b = (int)(d / cap * 4);
		bins[b > 3 ? 3 : b]++;
	}
	/* Mean of U(0, cap): cap/2, standard error cap/sqrt(12 draws). */
	if (fabs(sum / draws - cap / 2) > 8 * cap / sqrt(12.0 * draws))
		fail_msg("retry_backoff(%d): mean %g, want %g", n, sum / draws,
		    cap / 2);
	for (b = 0; b < 4; b++)
		if (abs(bins[b] - draws / 4) > draws / 40)
			fail_msg("retry_backoff(%d): quarter %d has %d of %d",
			    n, b, bins[b], draws);
	assert_true(lo < cap * 0.01);
	assert_true(hi > cap * 0.99);
}

static void
test_backoff_distribution(void **state)
{
	check_distribution(1, 1);
	check_distribution(3, 4);
	check_distribution(10, RETRY_MAX_BACKOFF);
}

/* ---- quota ------------------------------------------------------------- */

static void
test_quota(void **state)
{
	struct retry_quota	 q;
	int			 n;

	retry_quota_init(&q);
	assert_int_equal(q.capacity, 500);
	assert_int_equal(q.available, 500);

	assert_int_equal(retry_quota_acquire(&q, 0), 5);
	assert_int_equal(q.available, 495);
	assert_int_equal(retry_quota_acquire(&q, 1), 10);
	assert_int_equal(q.available, 485);

	/* Success after a retry refunds what the last retry took. */
	retry_quota_success(&q, 10);
	assert_int_equal(q.available, 495);
	retry_quota_success(&q, 5);
	assert_int_equal(q.available, 500);
	/* Success without retry refunds 1, never above capacity. */
	retry_quota_success(&q, 0);
	assert_int_equal(q.available, 500);
	q.available = 480;
	retry_quota_success(&q, 0);
	assert_int_equal(q.available, 481);
	retry_quota_success(&q, 10);
	assert_int_equal(q.available, 491);
	retry_quota_success(&q, 10);
	assert_int_equal(q.available, 500);

	/* Exhaustion: 500 / 5 = 100 retries, then none. */
	for (n = 0; retry_quota_acquire(&q, 0) != -1; n++)
		;
	assert_int_equal(n, 100);
	assert_int_equal(q.available, 0);
	assert_int_equal(retry_quota_acquire(&q, 1), -1);
	assert_int_equal(q.available, 0);

	/* 7 left: a timeout retry (10) is refused, a normal one (5) is not. */
	q.available = 7;
	assert_int_equal(retry_quota_acquire(&q, 1), -1);
	assert_int_equal(q.available, 7);
	assert_int_equal(retry_quota_acquire(&q, 0), 5);
	assert_int_equal(q.available, 2);
	assert_int_equal(retry_quota_acquire(&q, 0), -1);
	/* Refunds bring retries back. */
	retry_quota_success(&q, 0);
	retry_quota_success(&q, 0);
	retry_quota_success(&q, 0);
	assert_int_equal(q.available, 5);
	assert_int_equal(retry_quota_acquire(&q, 0), 5);
}

/* ---- attempts ---------------------------------------------------------- */

static void
test_max_attempts_env(void **state)
{
	static const struct {
		const char	*v;
		int		 want;
	} t[] = {
		{ "1", 1 }, { "5", 5 }, { "10", 10 }, { "3", 3 },
		{ "0", 3 }, { "11", 3 }, { "100", 3 }, { "-1", 3 }, { "+5", 3 },
		{ " 5", 3 }, { "5 ", 3 }, { "5x", 3 }, { "abc", 3 }, { "", 3 },
		{ "0x5", 3 }, { "99999999999999999999", 3 }, { "2.5", 3 },
	};
	size_t	 i;

	unsetenv("AWS_MAX_ATTEMPTS");
	assert_int_equal(retry_max_attempts(), RETRY_MAX_ATTEMPTS);
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		setenv("AWS_MAX_ATTEMPTS", t[i].v, 1);
		if (retry_max_attempts() != t[i].want)
			fail_msg("AWS_MAX_ATTEMPTS=\"%s\": got %d, want %d",
			    t[i].v, retry_max_attempts(), t[i].want);
	}
	assert_int_equal(retry_parse_max_attempts(NULL), -1);
	assert_int_equal(retry_parse_max_attempts("7"), 7);
	assert_int_equal(retry_parse_max_attempts("007"), 7);
	unsetenv("AWS_MAX_ATTEMPTS");
}

static void
test_retry_state(void **state)
{
	struct retry_quota	 q;
	struct retry_state	 st;
	double			 d;

	unsetenv("AWS_MAX_ATTEMPTS");
	retry_quota_init(&q);

	/* Three attempts: two retries with growing caps, then stop. */
	retry_state_init(&st, 0);
	assert_int_equal(st.max_attempts, 3);
	d = retry_state_failed(&st, &q, RETRY_TRANSIENT);
	assert_true(d >= 0 && d < 1);
	d = retry_state_failed(&st, &q, RETRY_THROTTLE);
	assert_true(d >= 0 && d < 2);
	assert_int_equal(q.available, 490);
	assert_true(retry_state_failed(&st, &q, RETRY_TRANSIENT) == -1);
	assert_int_equal(st.reason, RETRY_STOP_ATTEMPTS);
	assert_int_equal(st.attempts, 3);
	assert_int_equal(q.available, 490);	/* no refund on failure */
	assert_string_equal(retry_stop_name(st.reason), "max attempts reached");

	/* Success after a timeout retry refunds 10. */
	retry_state_init(&st, 3);
	assert_true(retry_state_failed(&st, &q, RETRY_TIMEOUT) >= 0);
	assert_int_equal(q.available, 480);
	retry_state_succeeded(&st, &q);
	assert_int_equal(st.attempts, 2);
	assert_int_equal(q.available, 490);

	/* First-time success refunds 1. */
	retry_state_init(&st, 3);
	retry_state_succeeded(&st, &q);
	assert_int_equal(q.available, 491);

	/* Not retryable: stop at once, quota untouched. */
	retry_state_init(&st, 3);
	assert_true(retry_state_failed(&st, &q, RETRY_FINAL) == -1);
	assert_int_equal(st.reason, RETRY_STOP_FINAL);
	assert_int_equal(q.available, 491);

	/* Quota exhausted: stop although attempts are left. */
	q.available = 4;
	retry_state_init(&st, 10);
	assert_true(retry_state_failed(&st, &q, RETRY_THROTTLE) == -1);
	assert_int_equal(st.reason, RETRY_STOP_QUOTA);
	assert_string_equal(retry_stop_name(st.reason),
	    "retry quota exhausted");

	/* No quota at all: attempts alone decide. */
	retry_state_init(&st, 2);
	assert_true(retry_state_failed(&st, NULL, RETRY_TRANSIENT) >= 0);
	assert_true(retry_state_failed(&st, NULL, RETRY_TRANSIENT) == -1);

	/* AWS_MAX_ATTEMPTS=1: never retry; explicit values are capped. */
	setenv("AWS_MAX_ATTEMPTS", "1", 1);
	retry_state_init(&st, 0);
	assert_int_equal(st.max_attempts, 1);
	assert_true(retry_state_failed(&st, NULL, RETRY_TRANSIENT) == -1);
	unsetenv("AWS_MAX_ATTEMPTS");
	retry_state_init(&st, 50);
	assert_int_equal(st.max_attempts, RETRY_MAX_ATTEMPTS_LIMIT);
}

static void
test_clock_skew(void **state)
{
	assert_true(retry_code_is_clock_skew("RequestTimeTooSkewed"));
	assert_true(retry_code_is_clock_skew("RequestExpired"));
	assert_true(retry_code_is_clock_skew("SignatureDoesNotMatch"));
	assert_false(retry_code_is_clock_skew("Throttling"));
	assert_false(retry_code_is_clock_skew("requesttimetooskewed"));
	assert_false(retry_code_is_clock_skew(NULL));

	assert_false(retry_clock_skewed(1000, 1000));
	assert_false(retry_clock_skewed(1000 + 299.9, 1000));
	assert_true(retry_clock_skewed(1000 + 300, 1000));
	assert_true(retry_clock_skewed(1000, 1000 + 900));
	assert_false(retry_clock_skewed(0, 1000));	/* no Date header */
}

/* ---- token bucket ------------------------------------------------------ */

/*
 * 2 per second, burst 1: N requests arriving together are given
 * reservations exactly 0.5 s apart, in arrival order.
 */
static void
test_ratelimit_pacing(void **state)
{
	struct ratelimit	 rl;
	const double		 t0 = 5000;
	double			 w;
	int			 k, n;

	ratelimit_init(&rl, 2, 1);
	for (k = 0; k < 20; k++) {
		w = ratelimit_reserve(&rl, t0);
		if (w != 0.5 * k)
			fail_msg("request %d: wait %.17g, want %g", k, w,
			    0.5 * k);
	}

	/* Arrivals every 0.25 s (faster than 2/s): goes at t0' + 0.5 k. */
	ratelimit_init(&rl, 2, 1);
	for (k = 0; k < 40; k++) {
		w = ratelimit_reserve(&rl, t0 + 0.25 * k);
		if (t0 + 0.25 * k + w != t0 + 0.5 * k)
			fail_msg("request %d at +%g: goes at +%.17g, want +%g",
			    k, 0.25 * k, 0.25 * k + w, 0.5 * k);
	}

	/* Arrivals every 0.5 s or slower never wait. */
	ratelimit_init(&rl, 2, 1);
	for (k = 0; k < 40; k++)
		assert_true(ratelimit_reserve(&rl, t0 + 0.5 * k) == 0);
	for (k = 0; k < 40; k++)
		assert_true(ratelimit_reserve(&rl, t0 + 20 + 0.75 * k) == 0);

	/*
	 * Back to back, each going when told: burst + rate * 60 requests
	 * go within the first 60 s, no more.
	 */
	ratelimit_init(&rl, 2, 1);
	for (n = 0, w = t0;; n++) {
		w += ratelimit_reserve(&rl, w);
		if (w > t0 + 60)
			break;
	}
	assert_int_equal(n, 1 + 2 * 60);
}

static void
test_ratelimit_burst(void **state)
{
	struct ratelimit	 rl;
	int			 k;

	ratelimit_init(&rl, 2, 5);
	for (k = 0; k < 5; k++)
		assert_true(ratelimit_reserve(&rl, 100) == 0);
	assert_true(ratelimit_reserve(&rl, 100) == 0.5);
	assert_true(ratelimit_reserve(&rl, 100) == 1.0);
	/* Long idle refills to the burst, not beyond. */
	for (k = 0; k < 5; k++)
		assert_true(ratelimit_reserve(&rl, 1000) == 0);
	assert_true(ratelimit_reserve(&rl, 1000) == 0.5);

	/* Burst below 1 is taken as 1; rate <= 0 means no limit. */
	ratelimit_init(&rl, 2, 0);
	assert_true(ratelimit_reserve(&rl, 0) == 0);
	assert_true(ratelimit_reserve(&rl, 0) == 0.5);
	ratelimit_init(&rl, 0, 1);
	for (k = 0; k < 100; k++)
		assert_true(ratelimit_reserve(&rl, 0) == 0);
	ratelimit_init(&rl, -1, 1);
	assert_true(ratelimit_reserve(&rl, 0) == 0);
	assert_true(ratelimit_reserve(&rl, 0) == 0);
	ratelimit_penalise(&rl, 0, 10);
	assert_true(ratelimit_reserve(&rl, 0) == 0);

	/* A clock read earlier than the last one still queues correctly. */
	ratelimit_init(&rl, 1, 1);
	assert_true(ratelimit_reserve(&rl, 10) == 0);
	assert_true(ratelimit_reserve(&rl, 9) == 2);	/* goes at 11 */
}

static void
test_ratelimit_penalise(void **state)
{
	struct ratelimit	 rl;

	/* Idle, full bucket: the next one waits seconds + 1/rate. */
	ratelimit_init(&rl, 2, 5);
	ratelimit_penalise(&rl, 100, 1);
	assert_true(ratelimit_reserve(&rl, 100) == 1.5);
	assert_true(ratelimit_reserve(&rl, 100) == 2.0);

	/* With a queue: everyone after waits 2 s more. */
	ratelimit_init(&rl, 2, 1);
	assert_true(ratelimit_reserve(&rl, 0) == 0);
	assert_true(ratelimit_reserve(&rl, 0) == 0.5);
	assert_true(ratelimit_reserve(&rl, 0) == 1.0);
	ratelimit_penalise(&rl, 0, 2);
	assert_true(ratelimit_reserve(&rl, 0) == 3.5);
	assert_true(ratelimit_reserve(&rl, 0) == 4.0);

	/* After the penalty the bucket fills again at the normal rate. */
	assert_true(ratelimit_reserve(&rl, 100) == 0);
	assert_true(ratelimit_reserve(&rl, 100) == 0.5);

	/* Zero or bad seconds: only empties the bucket. */
	ratelimit_init(&rl, 2, 5);
	ratelimit_penalise(&rl, 0, -4);
	assert_true(ratelimit_reserve(&rl, 0) == 0.5);
	ratelimit_init(&rl, 2, 5);
	ratelimit_penalise(&rl, 0, NAN);
	assert_true(ratelimit_reserve(&rl, 0) == 0.5);
}

static void
test_ratelimit_set(void **state)
{
	struct ratelimit	 rl;

	/* A debt of 1 s at 2/s stays a debt of 1 s at 1/s. */
	ratelimit_init(&rl, 2, 1);
	assert_true(ratelimit_reserve(&rl, 0) == 0);
	assert_true(ratelimit_reserve(&rl, 0) == 0.5);
	assert_true(ratelimit_reserve(&rl, 0) == 1.0);
	ratelimit_set(&rl, 0, 1, 1);
	assert_true(ratelimit_reserve(&rl, 0) == 2.0);
	assert_true(ratelimit_reserve(&rl, 0) == 3.0);
	/* From unlimited to limited: starts full. */
	ratelimit_init(&rl, 0, 1);
	ratelimit_set(&rl, 0, 4, 2);
	assert_true(ratelimit_reserve(&rl, 7) == 0);
	assert_true(ratelimit_reserve(&rl, 7) == 0);
	assert_true(ratelimit_reserve(&rl, 7) == 0.25);
}

/* ---- keyed set --------------------------------------------------------- */

static void
test_ratelimits(void **state)
{
	struct ratelimits	*rs;
	struct ratelimit	*a, *b, **all;
	char			 key[64];
	const int		 n = 20000;
	int			 i;

	rs = ratelimits_new();
	assert_int_equal(ratelimits_count(rs), 0);
	assert_null(ratelimits_find(rs, "x"));

	a = ratelimits_get(rs, "111111111111/us-east-1/cloudtrail:LookupEvents",
	    2, 1);
	b = ratelimits_get(rs, "111111111111/eu-west-1/cloudtrail:LookupEvents",
	    2, 1);
	assert_ptr_not_equal(a, b);
	assert_ptr_equal(a, ratelimits_get(rs,
	    "111111111111/us-east-1/cloudtrail:LookupEvents", 2, 1));
	assert_ptr_equal(b, ratelimits_find(rs,
	    "111111111111/eu-west-1/cloudtrail:LookupEvents"));
	assert_int_equal(ratelimits_count(rs), 2);

	/* Buckets pace independently. */
	assert_true(ratelimit_reserve(a, 50) == 0);
	assert_true(ratelimit_reserve(a, 50) == 0.5);
	assert_true(ratelimit_reserve(b, 50) == 0);
	assert_true(ratelimit_reserve(a, 50) == 1.0);

	/* Asking with a new rate changes the bucket, keeping its debt. */
	assert_ptr_equal(a, ratelimits_get(rs,
	    "111111111111/us-east-1/cloudtrail:LookupEvents", 1, 1));
	assert_true(a->rate == 1);
	assert_true(ratelimit_reserve(a, 50) == 2.0);

	/* Many keys: every pointer stays valid and is found again. */
	all = xcalloc(n, sizeof(*all));
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%012d/region-%d/svc:Op", i, i % 17);
		all[i] = ratelimits_get(rs, key, 1 + i % 5, 1);
		assert_non_null(all[i]);
	}
	assert_int_equal(ratelimits_count(rs), (size_t)n + 2);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%012d/region-%d/svc:Op", i, i % 17);
		if (ratelimits_find(rs, key) != all[i])
			fail_msg("key %s moved or lost", key);
		assert_true(all[i]->rate == 1 + i % 5);
	}
	assert_ptr_equal(a, ratelimits_find(rs,
	    "111111111111/us-east-1/cloudtrail:LookupEvents"));
	assert_null(ratelimits_find(rs, "000000000000/region-0/svc:Op2"));
	free(all);
	ratelimits_free(rs);
	ratelimits_free(NULL);
	assert_int_equal(ratelimits_count(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_backoff_distribution),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_max_attempts_env),
		cmocka_unit_test(test_retry_state),
		cmocka_unit_test(test_clock_skew),
		cmocka_unit_test(test_ratelimit_pacing),
		cmocka_unit_test(test_ratelimit_burst),
		cmocka_unit_test(test_ratelimit_penalise),
		cmocka_unit_test(test_ratelimit_set),
		cmocka_unit_test(test_ratelimits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
