/*
 * retry: the SDKs' "standard" retry mode and token-bucket rate limiting.
 *
 * Standard mode: max 3 attempts (AWS_MAX_ATTEMPTS overrides); retry
 * transient errors (RequestTimeout, RequestTimeoutException,
 * PriorRequestNotComplete, HTTP 500/502/503/504, transport failures) and
 * throttling codes; full-jitter backoff delay = rand[0,1) * min(2^i, 20 s)
 * with i = 0 for the first retry; a retry quota (capacity 500, a retry costs
 * 5, a timeout retry 10, success without retry refunds 1, success after
 * retry refunds the last cost).
 *
 * Which errors are transient or throttling is decided by aws.h
 * (aws_code_is_transient, aws_code_is_throttle); this module turns that
 * verdict into "retry after d seconds" or "stop" (struct retry_state).
 * Clock skew: on a skew error (retry_code_is_clock_skew) whose response
 * Date differs from the corrected local clock by RETRY_CLOCK_SKEW or more
 * (retry_clock_skewed), the client corrects its clock offset and retries
 * as a transient error.
 *
 * Rate limiting: a token bucket per key paces calls before they are sent
 * (CloudTrail LookupEvents: 2 per second per account and region).  None of
 * this is thread-safe: one instance per event loop.
 */
#ifndef CLOUDSAGA_RETRY_H
#define CLOUDSAGA_RETRY_H

#include <stddef.h>

#define RETRY_MAX_ATTEMPTS	3
#define RETRY_MAX_BACKOFF	20.0
#define RETRY_QUOTA_CAPACITY	500
#define RETRY_COST		5
#define RETRY_TIMEOUT_COST	10
#define RETRY_NO_RETRY_REFUND	1
#define RETRY_MAX_ATTEMPTS_LIMIT 10	/* AWS_MAX_ATTEMPTS above: ignored */
#define RETRY_CLOCK_SKEW	300.0	/* seconds (aws-sdk-js-v3) */

struct retry_quota {
	int	 capacity;
	int	 available;
};

void	 retry_quota_init(struct retry_quota *);
/* Take the cost of one retry; returns the cost taken, or -1 = don't retry. */
int	 retry_quota_acquire(struct retry_quota *, int timeout);
/* After a success: last_cost = cost of the last retry, 0 if none. */
void	 retry_quota_success(struct retry_quota *, int last_cost);

/* Delay before retry number n (n = 1 for the first retry), in seconds. */
double	 retry_backoff(int n);
/* The same with the random draw u in [0, 1) given (n < 1 counts as 1). */
double	 retry_backoff_u(int n, double u);
/*
 * Max attempts from AWS_MAX_ATTEMPTS or the default.  A value that is not
 * a plain number from 1 to RETRY_MAX_ATTEMPTS_LIMIT is ignored (with a
 * warning) and the default used.
 */
int	 retry_max_attempts(void);
/* "1".."10" -> 1..10, anything else -> -1. */
int	 retry_parse_max_attempts(const char *);

/* What went wrong with an attempt, as the caller classified it. */
enum retry_error {
	RETRY_FINAL,		/* not retryable (denied, invalid, ...) */
	RETRY_TRANSIENT,	/* 5xx, RequestTimeout, connection failure */
	RETRY_THROTTLE,		/* a throttling code */
	RETRY_TIMEOUT,		/* transport timeout: costs more quota */
};

/* Why retry_state_failed said stop. */
enum retry_stop {
	RETRY_NONE,
	RETRY_STOP_FINAL,
	RETRY_STOP_ATTEMPTS,
	RETRY_STOP_QUOTA,
};
const char *retry_stop_name(enum retry_stop);

/* The retry bookkeeping of one call. */
struct retry_state {
	int		 attempts;	/* attempts finished */
	int		 max_attempts;
	int		 last_cost;	/* quota taken by the last retry */
	enum retry_stop	 reason;	/* set when failed() returns -1 */
};

/* max_attempts 0 = retry_max_attempts(); capped at the limit. */
void	 retry_state_init(struct retry_state *, int max_attempts);
/*
 * An attempt failed: returns the delay in seconds before the next attempt,
 * or -1 to stop (st->reason says why).  Takes the retry's cost from the
 * quota (q may be NULL: no quota).
 */
double	 retry_state_failed(struct retry_state *, struct retry_quota *,
	    enum retry_error);
/* An attempt succeeded: refunds the quota (q may be NULL). */
void	 retry_state_succeeded(struct retry_state *, struct retry_quota *);

/*
 * Error codes that can mean our clock is off (aws-sdk-js-v3
 * CLOCK_SKEW_ERROR_CODES): RequestTimeTooSkewed, RequestExpired,
 * RequestInTheFuture, InvalidSignatureException, SignatureDoesNotMatch,
 * AuthFailure.  Only with retry_clock_skewed() is it worth a retry.
 */
int	 retry_code_is_clock_skew(const char *code);
/* |server_time - local_time| >= RETRY_CLOCK_SKEW; 0 when server_time <= 0. */
int	 retry_clock_skewed(double server_time, double local_time);

/*
 * Token bucket: rate tokens per second, burst capacity (>= 1).  rate <= 0
 * means no limit.  The bucket starts full; last < 0 until first used.
 */
struct ratelimit {
	double	 rate;
	double	 burst;
	double	 tokens;
	double	 last;		/* monotonic seconds */
};

void	 ratelimit_init(struct ratelimit *, double rate, double burst);
/*
 * Reserve one token at time now (monotonic).  Returns 0 when it may go at
 * once, else the number of seconds to wait; the token is reserved either
 * way (the bucket goes negative), so calls are paced in order.
 */
double	 ratelimit_reserve(struct ratelimit *, double now);
/*
 * Push the bucket back after the peer throttled us anyway: the bucket is
 * emptied and every later reservation waits `seconds` longer (on an idle
 * bucket the next one goes at now + seconds + 1/rate).
 */
void	 ratelimit_penalise(struct ratelimit *, double now, double seconds);
/* Change rate and burst, keeping the current debt (in seconds). */
void	 ratelimit_set(struct ratelimit *, double now, double rate,
	    double burst);

/*
 * A set of buckets by key ("account/region/cloudtrail:LookupEvents"): a
 * hash table; pointers returned stay valid until ratelimits_free.
 * ratelimits_get creates the bucket on first use; when rate or burst
 * differ from the bucket's they are updated (ratelimit_set).
 */
struct ratelimits;
struct ratelimits *ratelimits_new(void);
void	 ratelimits_free(struct ratelimits *);
struct ratelimit *ratelimits_get(struct ratelimits *, const char *key,
	    double rate, double burst);
/* The bucket of key, or NULL. */
struct ratelimit *ratelimits_find(struct ratelimits *, const char *key);
size_t	 ratelimits_count(const struct ratelimits *);

#endif
