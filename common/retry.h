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
 */
#ifndef CLOUDSAGA_RETRY_H
#define CLOUDSAGA_RETRY_H

#define RETRY_MAX_ATTEMPTS	3
#define RETRY_MAX_BACKOFF	20.0
#define RETRY_QUOTA_CAPACITY	500
#define RETRY_COST		5
#define RETRY_TIMEOUT_COST	10
#define RETRY_NO_RETRY_REFUND	1

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
/* Max attempts from AWS_MAX_ATTEMPTS or the default. */
int	 retry_max_attempts(void);

/* Token bucket: rate tokens per second, burst capacity. */
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
/* Push the bucket back after the peer throttled us anyway. */
void	 ratelimit_penalise(struct ratelimit *, double now, double seconds);

/* A set of buckets by key ("account/region/cloudtrail:LookupEvents"). */
struct ratelimits;
struct ratelimits *ratelimits_new(void);
void	 ratelimits_free(struct ratelimits *);
struct ratelimit *ratelimits_get(struct ratelimits *, const char *key,
	    double rate, double burst);

#endif
