/*
 * retry: the SDKs' "standard" retry mode (botocore retries/standard.py and
 * retries/quota.py; shared/design/AWS-PROTOCOL.md section 6) and token
 * bucket rate limiting.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "retry.h"
#include "util.h"
#include "xmalloc.h"

/* ---- retry quota ------------------------------------------------------- */

void
retry_quota_init(struct retry_quota *q)
{
	q->capacity = RETRY_QUOTA_CAPACITY;
	q->available = RETRY_QUOTA_CAPACITY;
}

int
retry_quota_acquire(struct retry_quota *q, int timeout)
{
	int	 cost = timeout ? RETRY_TIMEOUT_COST : RETRY_COST;

	if (q->available < cost)
		return -1;
	q->available -= cost;
	return cost;
}

void
retry_quota_success(struct retry_quota *q, int last_cost)
{
	int	 refund = last_cost > 0 ? last_cost : RETRY_NO_RETRY_REFUND;

	if (q->available > q->capacity - refund)
		q->available = q->capacity;
	else
		q->available += refund;
}

/* ---- backoff and attempts ---------------------------------------------- */

double
retry_backoff_u(int n, double u)
{
	double	 cap;

	if (n < 1)
		n = 1;
	/* 2^(n-1) reaches the 20 s ceiling at n = 6; no overflow after. */
	cap = n > 6 ? RETRY_MAX_BACKOFF : ldexp(1.0, n - 1);
	if (cap > RETRY_MAX_BACKOFF)
		cap = RETRY_MAX_BACKOFF;
	if (!(u >= 0.0))
		u = 0.0;
	if (u >= 1.0)
		u = nextafter(1.0, 0.0);
	return u * cap;
}

double
retry_backoff(int n)
{
	return retry_backoff_u(n, random_unit());
}

int
retry_parse_max_attempts(const char *s)
{
	size_t	 i;
	int	 v = 0;

	if (s == NULL || *s == '\0' || strlen(s) > 3)
		return -1;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v < 1 || v > RETRY_MAX_ATTEMPTS_LIMIT)
		return -1;
	return v;
}

int
retry_max_attempts(void)
{
	const char	*s = getenv("AWS_MAX_ATTEMPTS");
	int		 v;

	if (s == NULL || *s == '\0')
		return RETRY_MAX_ATTEMPTS;
	if ((v = retry_parse_max_attempts(s)) == -1) {
		log_warnx("AWS_MAX_ATTEMPTS: \"%.32s\" is not a number from 1 "
		    "to %d; using %d", s, RETRY_MAX_ATTEMPTS_LIMIT,
		    RETRY_MAX_ATTEMPTS);
		return RETRY_MAX_ATTEMPTS;
	}
	return v;
}

/* ---- one call's retry state -------------------------------------------- */

void
retry_state_init(struct retry_state *st, int max_attempts)
{
	if (max_attempts <= 0)
		max_attempts = retry_max_attempts();
	if (max_attempts > RETRY_MAX_ATTEMPTS_LIMIT)
		max_attempts = RETRY_MAX_ATTEMPTS_LIMIT;
	st->attempts = 0;
	st->max_attempts = max_attempts;
	st->last_cost = 0;
	st->reason = RETRY_NONE;
}

double
retry_state_failed(struct retry_state *st, struct retry_quota *q,
    enum retry_error kind)
{
	int	 cost;

	st->attempts++;
	if (kind == RETRY_FINAL) {
		st->reason = RETRY_STOP_FINAL;
		return -1;
	}
	if (st->attempts >= st->max_attempts) {
		st->reason = RETRY_STOP_ATTEMPTS;
		return -1;
	}
	if (q != NULL) {
		cost = retry_quota_acquire(q, kind == RETRY_TIMEOUT);
		if (cost == -1) {
			st->reason = RETRY_STOP_QUOTA;
			return -1;
		}
		st->last_cost = cost;
	}
	st->reason = RETRY_NONE;
	return retry_backoff(st->attempts);
}

void
retry_state_succeeded(struct retry_state *st, struct retry_quota *q)
{
	st->attempts++;
	if (q != NULL)
		retry_quota_success(q, st->last_cost);
	st->last_cost = 0;
	st->reason = RETRY_NONE;
}

const char *
retry_stop_name(enum retry_stop r)
{
	switch (r) {
	case RETRY_NONE:
		return "none";
	case RETRY_STOP_FINAL:
		return "not retryable";
	case RETRY_STOP_ATTEMPTS:
		return "max attempts reached";
	case RETRY_STOP_QUOTA:
		return "retry quota exhausted";
	}
	return "unknown";
}

/* ---- clock skew -------------------------------------------------------- */

int
retry_code_is_clock_skew(const char *code)
{
	static const char *const codes[] = {
		"RequestTimeTooSkewed",
		"RequestExpired",
		"RequestInTheFuture",
		"InvalidSignatureException",
		"SignatureDoesNotMatch",
		"AuthFailure",
	};
	size_t	 i;

	if (code == NULL)
		return 0;
	for (i = 0; i < nitems(codes); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

int
retry_clock_skewed(double server_time, double local_time)
{
	if (server_time <= 0)
		return 0;
	return fabs(server_time - local_time) >= RETRY_CLOCK_SKEW;
}

/* ---- token bucket ------------------------------------------------------ */

void
ratelimit_init(struct ratelimit *rl, double rate, double burst)
{
	if (!(rate > 0) || !isfinite(rate))
		rate = 0;		/* unlimited */
	if (!(burst >= 1) || !isfinite(burst))
		burst = 1;
	rl->rate = rate;
	rl->burst = burst;
	rl->tokens = burst;
	rl->last = -1;
}

/* Add the tokens earned since the last update (time never runs back). */
static void
ratelimit_refill(struct ratelimit *rl, double now)
{
	if (rl->last < 0) {
		rl->last = now;
		return;
	}
	if (now <= rl->last)
		return;
	rl->tokens += (now - rl->last) * rl->rate;
	if (rl->tokens > rl->burst)
		rl->tokens = rl->burst;
	rl->last = now;
}

double
ratelimit_reserve(struct ratelimit *rl, double now)
{
	if (rl->rate <= 0)
		return 0;
	ratelimit_refill(rl, now);
	rl->tokens -= 1;
	if (rl->tokens >= 0)
		return 0;
	/* Reservations made before us are in the deficit: we queue behind. */
	return -rl->tokens / rl->rate + (rl->last - now);
}

void
ratelimit_penalise(struct ratelimit *rl, double now, double seconds)
{
	if (rl->rate <= 0)
		return;
	ratelimit_refill(rl, now);
	if (!(seconds >= 0) || !isfinite(seconds))
		seconds = 0;
	if (rl->tokens > 0)
		rl->tokens = 0;
	rl->tokens -= seconds * rl->rate;
}

void
ratelimit_set(struct ratelimit *rl, double now, double rate, double burst)
{
	struct ratelimit	 fresh;

	ratelimit_init(&fresh, rate, burst);
	if (rl->rate > 0)
		ratelimit_refill(rl, now);
	if (fresh.rate > 0 && rl->rate > 0) {
		/* Keep the debt in time units, so queued waits stay valid. */
		fresh.tokens = rl->tokens / rl->rate * fresh.rate;
		if (fresh.tokens > fresh.burst)
			fresh.tokens = fresh.burst;
		fresh.last = rl->last;
	}
	*rl = fresh;
}

/* ---- keyed set: a chained hash table that doubles as it fills ----------- */

struct ratelimits_ent {
	struct ratelimits_ent	*next;
	uint64_t		 hash;
	struct ratelimit	 rl;
	char			 key[];
};

struct ratelimits {
	struct ratelimits_ent	**slots;
	size_t			  nslots;	/* power of two */
	size_t			  count;
};

static uint64_t
ratelimits_hash(const char *s)
{
	uint64_t	 h = 0xcbf29ce484222325ULL;	/* FNV-1a */

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct ratelimits *
ratelimits_new(void)
{
	struct ratelimits	*rs;

	rs = xcalloc(1, sizeof(*rs));
	rs->nslots = 16;
	rs->slots = xcalloc(rs->nslots, sizeof(*rs->slots));
	return rs;
}

void
ratelimits_free(struct ratelimits *rs)
{
	struct ratelimits_ent	*e, *next;
	size_t			 i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nslots; i++) {
		for (e = rs->slots[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(rs->slots);
	free(rs);
}

static void
ratelimits_grow(struct ratelimits *rs)
{
	struct ratelimits_ent	**slots, *e, *next;
	size_t			  n = rs->nslots * 2, i;

	slots = xcalloc(n, sizeof(*slots));
	for (i = 0; i < rs->nslots; i++) {
		for (e = rs->slots[i]; e != NULL; e = next) {
			next = e->next;
			e->next = slots[e->hash & (n - 1)];
			slots[e->hash & (n - 1)] = e;
		}
	}
	free(rs->slots);
	rs->slots = slots;
	rs->nslots = n;
}

struct ratelimit *
ratelimits_find(struct ratelimits *rs, const char *key)
{
	struct ratelimits_ent	*e;
	uint64_t		 h = ratelimits_hash(key);

	for (e = rs->slots[h & (rs->nslots - 1)]; e != NULL; e = e->next)
		if (e->hash == h && strcmp(e->key, key) == 0)
			return &e->rl;
	return NULL;
}

struct ratelimit *
ratelimits_get(struct ratelimits *rs, const char *key, double rate,
    double burst)
{
	struct ratelimits_ent	*e;
	struct ratelimit	*rl;
	uint64_t		 h;
	size_t			 len;

	if ((rl = ratelimits_find(rs, key)) != NULL) {
		/* A changed limit applies from now on. */
		if (rl->rate != rate || rl->burst != burst)
			ratelimit_set(rl, rl->last, rate, burst);
		return rl;
	}
	if (rs->count >= rs->nslots * 3 / 4)
		ratelimits_grow(rs);
	h = ratelimits_hash(key);
	len = strlen(key);
	e = xmalloc(sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	e->hash = h;
	ratelimit_init(&e->rl, rate, burst);
	e->next = rs->slots[h & (rs->nslots - 1)];
	rs->slots[h & (rs->nslots - 1)] = e;
	rs->count++;
	return &e->rl;
}

size_t
ratelimits_count(const struct ratelimits *rs)
{
	return rs != NULL ? rs->count : 0;
}
