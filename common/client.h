/*
 * client: one signed AWS call, end to end, asynchronously.
 *
 *   resolve endpoint -> safety guard -> credentials -> encode -> SigV4 ->
 *   rate limit -> send (http) -> decode -> classify -> retry (standard mode,
 *   clock-offset correction on RequestTimeTooSkewed) -> callback
 *
 * The safety guard: a mutating EC2 action without DryRun=true is never sent;
 * a safe-fail request must carry its run ID in some parameter value; a live
 * request needs opts.allow_live.  Refusals come back as AWS_REFUSED with
 * nothing sent.  A DryRun request answered 2xx comes back as AWS_UNSAFE and
 * is logged at LOG_CRIT.
 */
#ifndef CLOUDSAGA_CLIENT_H
#define CLOUDSAGA_CLIENT_H

#include "aws.h"
#include "endpoint.h"

struct event_base;
struct http_engine;
struct creds_provider;
struct aws_client;
struct aws_call;

struct aws_client_opts {
	const char	*user_agent;	/* NULL = "cloudsagad/VERSION" */
	struct endpoint_opts endpoints;
	int		 max_attempts;	/* 0 = AWS_MAX_ATTEMPTS or 3 */
	int		 allow_live;
	long		 timeout_ms;	/* 0 = http engine default */
	long		 connect_timeout_ms;
};

/* res and everything in it are valid only during the callback. */
typedef void (*aws_done_cb)(const struct aws_request *req,
	    struct aws_result *res, void *arg);

struct aws_client *aws_client_new(struct event_base *, struct http_engine *,
	    const struct aws_client_opts *);
/* Pending calls are cancelled without callbacks. */
void	 aws_client_free(struct aws_client *);

/*
 * Pace an action: at most rate calls per second (burst) per (credentials
 * provider, region) - e.g. cloudtrail LookupEvents at 2/s.
 */
void	 aws_client_set_limit(struct aws_client *, const char *service,
	    const char *action, double rate, double burst);

/*
 * Send req (ownership taken) with credentials from creds.  creds NULL sends
 * the request unsigned (STS AssumeRoleWithWebIdentity).  The callback runs
 * exactly once from the event loop unless the call is cancelled.
 */
struct aws_call *aws_client_send(struct aws_client *, struct creds_provider *,
	    struct aws_request *req, aws_done_cb, void *arg);
void	 aws_call_cancel(struct aws_call *);
/*
 * The client as the STS transport of the AssumeRole providers
 * (creds_ctx.sts): valid as long as the client.
 */
const struct creds_sts *aws_client_sts(struct aws_client *);


struct aws_client_stats {
	unsigned long	 calls, attempts, retries, refused, throttled;
	double		 clock_offset;	/* seconds added to local time */
};
void	 aws_client_stats(const struct aws_client *, struct aws_client_stats *);

#endif
