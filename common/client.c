/*
 * client: one signed AWS call, end to end, as a small state machine.
 *
 *   CALL_CREDS  waiting for the credentials provider
 *   CALL_PACED  waiting for a rate-limit token or a retry backoff
 *   CALL_HTTP   the request is on the wire
 *   CALL_DONE   the result is being delivered
 *
 * One attempt = credentials -> sign (with the current clock offset) -> send
 * -> decode -> classify.  Retries follow the SDKs' standard mode (retry.h);
 * RequestTimeTooSkewed-style answers adjust the clock offset from the
 * server's Date header and retry at once; ExpiredToken drops the cached
 * credentials and retries once.
 */
#include <sys/queue.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "aws.h"
#include "buf.h"
#include "client.h"
#include "creds.h"
#include "endpoint.h"
#include "http.h"
#include "log.h"
#include "retry.h"
#include "sigv4.h"
#include "util.h"
#include "xmalloc.h"

/*
 * Following the server's clock (client_follow_date): a disagreement under
 * CLIENT_CLOCK_DRIFT is left alone (the LookupEvents windows have
 * verify.skew of margin, 5 minutes by default), and an answer that took
 * longer than CLIENT_CLOCK_SLOW does not place the server's time closely
 * enough.
 */
#define CLIENT_CLOCK_DRIFT	60.0
#define CLIENT_CLOCK_SLOW	10.0

enum call_state {
	CALL_START,
	CALL_CREDS,
	CALL_PACED,
	CALL_HTTP,
	CALL_DONE,
};

struct client_limit {
	char	*service;
	char	*action;
	double	 rate;
	double	 burst;
};

struct aws_call {
	TAILQ_ENTRY(aws_call)	 entry;
	struct aws_client	*client;
	struct creds_provider	*provider;
	struct aws_request	*req;
	aws_done_cb		 cb;
	void			*arg;

	enum call_state		 state;
	struct aws_endpoint	 ep;
	int			 ep_ok;
	struct aws_http		 enc;
	int			 enc_ok;
	struct creds_req	*creq;
	struct aws_creds	*creds;
	struct http_xfer	*xfer;
	struct event		*timer;

	int			 attempt;	/* attempts made so far */
	int			 last_cost;	/* quota cost of the last retry */
	int			 skew_retried;
	int			 token_retried;
	int			 paced;		/* rate limit already applied */
	struct aws_result	 res;
};

struct aws_client {
	struct event_base	*base;
	struct http_engine	*http;
	char			*user_agent;
	struct endpoint_opts	 eopts;
	char			*endpoint_url;
	char			*explicit_url;
	char			**service_urls;
	int			 max_attempts;
	int			 allow_live;
	long			 timeout_ms;
	long			 connect_timeout_ms;

	struct sigv4_keycache	*keys;
	struct retry_quota	 quota;
	struct ratelimits	*limits;
	struct client_limit	*rules;
	size_t			 nrules;
	double			 clock_offset;
	/* The last Date header parsed, and its time: one parse per second. */
	char			 date_text[40];
	time_t			 date_time;

	TAILQ_HEAD(, aws_call)	 calls;
	struct aws_client_stats	 stats;
	struct creds_sts	 sts;		/* aws_client_sts() */
};

static struct aws_call *aws_client_sts_send(void *, struct creds_provider *,
		    struct aws_request *, creds_sts_done, void *);
static void	 call_attempt(struct aws_call *);
static void	 call_finish(struct aws_call *);
static void	 call_free(struct aws_call *);

struct aws_client *
aws_client_new(struct event_base *base, struct http_engine *http,
    const struct aws_client_opts *opts)
{
	struct aws_client	*c;
	size_t			 n = 0, i;

	c = xcalloc(1, sizeof(*c));
	c->base = base;
	c->http = http;
	TAILQ_INIT(&c->calls);
	c->sts.owner = c;
	c->sts.send = aws_client_sts_send;
	c->sts.cancel = aws_call_cancel;
	c->keys = sigv4_keycache_new();
	c->limits = ratelimits_new();
	retry_quota_init(&c->quota);
	c->max_attempts = retry_max_attempts();
	if (opts != NULL) {
		if (opts->user_agent != NULL)
			c->user_agent = xstrdup(opts->user_agent);
		if (opts->max_attempts > 0)
			c->max_attempts = opts->max_attempts;
		c->allow_live = opts->allow_live;
		c->timeout_ms = opts->timeout_ms;
		c->connect_timeout_ms = opts->connect_timeout_ms;
		c->eopts.partition = opts->endpoints.partition;
		if (opts->endpoints.endpoint_url != NULL)
			c->endpoint_url = xstrdup(opts->endpoints.endpoint_url);
		if (opts->endpoints.service_urls != NULL) {
			while (opts->endpoints.service_urls[n] != NULL)
				n++;
			c->service_urls = xcalloc(n + 1, sizeof(char *));
			for (i = 0; i < n; i++)
				c->service_urls[i] =
				    xstrdup(opts->endpoints.service_urls[i]);
		}
	}
	if (c->user_agent == NULL)
		c->user_agent = xstrdup("cloudsagad/" CLOUDSAGA_VERSION);
	c->eopts.endpoint_url = c->endpoint_url;
	if (opts != NULL && opts->endpoints.explicit_url != NULL)
		c->explicit_url = xstrdup(opts->endpoints.explicit_url);
	c->eopts.explicit_url = c->explicit_url;
	c->eopts.service_urls = (const char *const *)c->service_urls;
	if (c->eopts.partition != NULL)
		c->eopts.partition = xstrdup(c->eopts.partition);
	return c;
}

void
aws_client_free(struct aws_client *c)
{
	struct aws_call	*call;
	size_t		 i;

	if (c == NULL)
		return;
	while ((call = TAILQ_FIRST(&c->calls)) != NULL)
		call_free(call);
	for (i = 0; i < c->nrules; i++) {
		free(c->rules[i].service);
		free(c->rules[i].action);
	}
	free(c->rules);
	if (c->service_urls != NULL) {
		for (i = 0; c->service_urls[i] != NULL; i++)
			free(c->service_urls[i]);
		free(c->service_urls);
	}
	free((char *)c->eopts.partition);
	free(c->endpoint_url);
	free(c->explicit_url);
	free(c->user_agent);
	sigv4_keycache_free(c->keys);
	ratelimits_free(c->limits);
	free(c);
}

void
aws_client_set_limit(struct aws_client *c, const char *service,
    const char *action, double rate, double burst)
{
	struct client_limit	*r;
	size_t			 i;

	for (i = 0; i < c->nrules; i++) {
		r = &c->rules[i];
		if (strcmp(r->service, service) == 0 &&
		    strcmp(r->action, action) == 0) {
			r->rate = rate;
			r->burst = burst;
			return;
		}
	}
	c->rules = xreallocarray(c->rules, c->nrules + 1, sizeof(*c->rules));
	r = &c->rules[c->nrules++];
	r->service = xstrdup(service);
	r->action = xstrdup(action);
	r->rate = rate;
	r->burst = burst < 1 ? 1 : burst;
}

void
aws_client_stats(const struct aws_client *c, struct aws_client_stats *st)
{
	*st = c->stats;
	st->clock_offset = c->clock_offset;
}

/* ---- call life cycle --------------------------------------------------- */

static void
call_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct aws_call	*call = arg;

	if (call->state == CALL_DONE)
		call_finish(call);
	else
		call_attempt(call);
}

static void
call_schedule(struct aws_call *call, double seconds)
{
	struct timeval	 tv;

	if (seconds < 0)
		seconds = 0;
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(call->timer, &tv);
}

/* Deliver an error without sending anything. */
static void
call_fail(struct aws_call *call, enum aws_outcome outcome, const char *code,
    const char *msg)
{
	free(call->res.error_code);
	free(call->res.error_message);
	call->res.outcome = outcome;
	call->res.error_code = xstrdup(code);
	call->res.error_message = xstrdup(msg);
	call->state = CALL_DONE;
	call_schedule(call, 0);
}

struct aws_call *
aws_client_send(struct aws_client *c, struct creds_provider *provider,
    struct aws_request *req, aws_done_cb cb, void *arg)
{
	struct aws_call	*call;
	char		*cause = NULL;
	const char	*bucket = NULL;

	call = xcalloc(1, sizeof(*call));
	call->client = c;
	call->provider = provider;
	call->req = req;
	call->cb = cb;
	call->arg = arg;
	call->timer = evtimer_new(c->base, call_timer_cb, call);
	aws_result_init(&call->res);
	TAILQ_INSERT_TAIL(&c->calls, call, entry);
	c->stats.calls++;

	/* The first attempt's marker; call_send() sets each attempt's. */
	call->res.user_agent = aws_user_agent(c->user_agent, req, 1);

	if (aws_safety_check(req, c->allow_live, &cause) != 0) {
		c->stats.refused++;
		log_warnx("%s:%s in %s: %s", req->svc->id, req->action,
		    req->region, cause);
		call_fail(call, AWS_REFUSED, "SafetyGuard", cause);
		free(cause);
		return call;
	}
	if (aws_encode(req, &call->enc, &cause) != 0) {
		call_fail(call, AWS_ERROR, "RequestEncoding", cause);
		free(cause);
		return call;
	}
	call->enc_ok = 1;
	bucket = call->enc.bucket;
	if (endpoint_resolve(req->svc, req->region, bucket, &c->eopts,
	    &call->ep, &cause) != 0) {
		call_fail(call, AWS_ERROR, "EndpointResolution", cause);
		free(cause);
		return call;
	}
	call->ep_ok = 1;
	if (provider != NULL)
		creds_provider_attach(provider, c->base);
	call->state = CALL_START;
	call_schedule(call, 0);
	return call;
}

static void
call_free(struct aws_call *call)
{
	struct aws_client	*c = call->client;

	TAILQ_REMOVE(&c->calls, call, entry);
	if (call->creq != NULL)
		creds_cancel(call->creq);
	if (call->xfer != NULL)
		http_cancel(call->xfer);
	if (call->timer != NULL)
		event_free(call->timer);
	if (call->creds != NULL)
		creds_unref(call->creds);
	if (call->ep_ok)
		endpoint_free(&call->ep);
	if (call->enc_ok)
		aws_http_free(&call->enc);
	aws_result_clear(&call->res);
	aws_request_free(call->req);
	free(call);
}

void
aws_call_cancel(struct aws_call *call)
{
	if (call != NULL)
		call_free(call);
}

static void
call_finish(struct aws_call *call)
{
	struct aws_request	*req = call->req;

	call->res.done_at = now_real();
	call->res.attempts = call->attempt;
	if (call->res.outcome == AWS_UNSAFE)
		log_crit("SAFETY: %s:%s in %s was sent with DryRun=true and "
		    "answered HTTP %ld: the endpoint ignored DryRun (request "
		    "%s)", req->svc->id, req->action, req->region,
		    call->res.status, call->res.request_id ?
		    call->res.request_id : "unknown");
	if (call->cb != NULL)
		call->cb(req, &call->res, call->arg);
	call_free(call);
}

static void
call_creds_cb(struct aws_creds *creds, const char *error, void *arg)
{
	struct aws_call	*call = arg;

	call->creq = NULL;
	if (error != NULL || creds == NULL) {
		call_fail(call, AWS_ERROR, "CredentialsError",
		    error ? error : "no credentials");
		return;
	}
	if (call->creds != NULL)
		creds_unref(call->creds);
	call->creds = creds_ref(creds);
	call_attempt(call);
}

static struct client_limit *
client_rule(struct aws_client *c, const struct aws_request *req)
{
	size_t	 i;

	for (i = 0; i < c->nrules; i++)
		if (strcmp(c->rules[i].service, req->svc->id) == 0 &&
		    strcmp(c->rules[i].action, req->action) == 0)
			return &c->rules[i];
	return NULL;
}

static struct ratelimit *
call_bucket(struct aws_call *call)
{
	struct aws_client	*c = call->client;
	struct client_limit	*rule;
	char			 key[512];

	if ((rule = client_rule(c, call->req)) == NULL)
		return NULL;
	snprintf(key, sizeof(key), "%p/%s/%s:%s", (void *)call->provider,
	    call->req->region, call->req->svc->id, call->req->action);
	return ratelimits_get(c->limits, key, rule->rate, rule->burst);
}

static void	 call_http_cb(const struct http_response *, void *);

/* "Name: value" (allocated; the caller wipes it: it may be a secret). */
static char *
call_header_line(const char *name, const char *value)
{
	size_t	 nlen = strlen(name), vlen = strlen(value);
	char	*line;

	line = xmalloc(nlen + vlen + 3);
	memcpy(line, name, nlen);
	line[nlen] = ':';
	line[nlen + 1] = ' ';
	memcpy(line + nlen + 2, value, vlen + 1);
	return line;
}

static void
call_send(struct aws_call *call)
{
	struct aws_client	*c = call->client;
	struct aws_http		*enc = &call->enc;
	struct sigv4_header	*sh;
	struct sigv4_input	 in;
	struct sigv4_output	 out;
	struct http_request	 hr;
	const char		**lines;
	char			 amzdate[17], *cause = NULL, *p;
	char			*wirepath = NULL, *wireurl = NULL;
	size_t			 nh = 0, nl = 0, i;
	time_t			 t;

	/* Wire path and URL: base path, bucket (path style), operation path. */
	endpoint_target(&call->ep, enc->bucket, enc->path, enc->query,
	    &wirepath, &wireurl);

	t = (time_t)(now_real() + c->clock_offset);
	time_amz(t, amzdate);

	sh = xcalloc(enc->nheaders + 4, sizeof(*sh));
	sh[nh].name = "host";
	sh[nh++].value = call->ep.host;
	sh[nh].name = "x-amz-date";
	sh[nh++].value = amzdate;
	for (i = 0; i < enc->nheaders; i++) {
		sh[nh].name = enc->headers[i].name;
		sh[nh++].value = enc->headers[i].value;
	}

	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	in.method = enc->method;
	in.path = wirepath;
	in.query = enc->query;
	in.headers = sh;
	in.nheaders = nh;
	in.payload = enc->body;
	in.payload_len = enc->body_len;
	in.region = call->ep.signing_region;
	in.service = call->ep.signing_name;
	in.amz_date = amzdate;
	in.s3 = strcmp(call->req->svc->id, "s3") == 0;

	lines = xcalloc(enc->nheaders + 8, sizeof(*lines));
	if (call->creds != NULL) {
		in.access_key = call->creds->access_key_id;
		in.secret_key = call->creds->secret_access_key;
		in.session_token = call->creds->session_token;
		if (sigv4_sign(&in, c->keys, &out, &cause) != 0) {
			free(sh);
			free(lines);
			free(wirepath);
			free(wireurl);
			call_fail(call, AWS_ERROR, "SigningError", cause);
			free(cause);
			return;
		}
		lines[nl++] = call_header_line("Authorization", out.authz);
		if (out.token_header)
			lines[nl++] = call_header_line("X-Amz-Security-Token",
			    call->creds->session_token);
		if (out.content_sha256_header)
			lines[nl++] = call_header_line("x-amz-content-sha256",
			    out.payload_hash);
		free(call->res.access_key_id);
		call->res.access_key_id =
		    xstrdup(call->creds->access_key_id);
	} else if (in.s3) {
		char	 h[65];

		sha256_hex(enc->body ? enc->body : "", enc->body_len, h);
		lines[nl++] = call_header_line("x-amz-content-sha256", h);
	}
	/* Every attempt carries its own marker: a record of a failed attempt
	 * can never pass for the record of the attempt that answered. */
	free(call->res.user_agent);
	call->res.user_agent = aws_user_agent(c->user_agent, call->req,
	    call->attempt + 1);
	lines[nl++] = call_header_line("X-Amz-Date", amzdate);
	lines[nl++] = call_header_line("User-Agent", call->res.user_agent);
	for (i = 0; i < enc->nheaders; i++)
		lines[nl++] = call_header_line(enc->headers[i].name,
		    enc->headers[i].value);
	lines[nl] = NULL;
	sigv4_output_free(&out);
	free(sh);

	memset(&hr, 0, sizeof(hr));
	hr.method = enc->method;
	hr.url = wireurl;
	hr.headers = lines;
	hr.body = enc->body;
	hr.body_len = enc->body_len;
	hr.timeout_ms = c->timeout_ms;
	hr.connect_timeout_ms = c->connect_timeout_ms;

	call->res.sent_at = now_real();
	call->res.sent_mono = now_mono();
	if (call->attempt == 0)
		call->res.fired_at = call->res.sent_at;
	call->attempt++;
	c->stats.attempts++;
	call->state = CALL_HTTP;
	log_debug("%s:%s %s attempt %d -> %s", call->req->svc->id,
	    call->req->action, call->req->region, call->attempt, wireurl);
	call->xfer = http_submit(c->http, &hr, call_http_cb, call);

	for (i = 0; i < nl; i++) {
		p = (char *)lines[i];
		freezero_str(p);	/* Authorization, token */
	}
	free(lines);
	free(wirepath);
	free(wireurl);
}

static void
call_attempt(struct aws_call *call)
{
	struct ratelimit	*rl;
	double			 wait;

	if (call->state == CALL_START || (call->provider != NULL &&
	    call->creds == NULL && call->state != CALL_CREDS)) {
		if (call->provider != NULL && call->creds == NULL) {
			call->state = CALL_CREDS;
			call->creq = creds_get(call->provider, call_creds_cb,
			    call);
			return;
		}
		call->state = CALL_PACED;
	}
	if (!call->paced && (rl = call_bucket(call)) != NULL) {
		call->paced = 1;
		wait = ratelimit_reserve(rl, now_mono());
		if (wait > 0) {
			call->state = CALL_PACED;
			log_debug("%s:%s %s paced %.3fs", call->req->svc->id,
			    call->req->action, call->req->region, wait);
			call_schedule(call, wait);
			return;
		}
	}
	call_send(call);
}

static int
code_is_skew(const char *code)
{
	return code != NULL && (strcmp(code, "RequestTimeTooSkewed") == 0 ||
	    strcmp(code, "RequestExpired") == 0 ||
	    strcmp(code, "InvalidSignatureException") == 0 ||
	    strcmp(code, "SignatureDoesNotMatch") == 0 ||
	    strcmp(code, "AuthFailure") == 0);
}

static int
code_is_expired_token(const char *code)
{
	return code != NULL && (strcmp(code, "ExpiredToken") == 0 ||
	    strcmp(code, "ExpiredTokenException") == 0 ||
	    strcmp(code, "RequestExpiredToken") == 0);
}

/*
 * The server's clock from an answer's Date (whole seconds, stamped between
 * our send and our receipt): the offset lies in [date - now, date + 1 -
 * sent].  Outside that range by more than CLIENT_CLOCK_DRIFT, take its
 * middle; an answer slower than CLIENT_CLOCK_SLOW says too little.
 */
static void
client_follow_date(struct aws_client *c, const struct aws_call *call,
    const struct aws_result *res)
{
	double	 now = now_real(), lo, hi, off;

	if (res->sent_at <= 0 || now - res->sent_at > CLIENT_CLOCK_SLOW)
		return;
	lo = res->server_time - now;
	hi = res->server_time + 1 - res->sent_at;
	if (c->clock_offset >= lo - CLIENT_CLOCK_DRIFT &&
	    c->clock_offset <= hi + CLIENT_CLOCK_DRIFT)
		return;
	off = round((lo + hi) / 2);
	log_warnx("clock differs from %s's by %.0f s: following the server's "
	    "time (LookupEvents windows, signing); fix this host's clock",
	    call->ep.host, off);
	c->clock_offset = off;
}

static void
call_http_cb(const struct http_response *resp, void *arg)
{
	struct aws_call		*call = arg;
	struct aws_client	*c = call->client;
	struct aws_result	*res = &call->res;
	struct ratelimit	*rl;
	const char		*date;
	double			 skew, delay;
	int			 throttled, cost;
	time_t			 st;
	struct tm		 tm;

	call->xfer = NULL;
	/* Keep what survives attempts, decode the rest afresh. */
	free(res->error_code);
	free(res->error_message);
	free(res->request_id);
	json_decref(res->data);
	res->error_code = res->error_message = res->request_id = NULL;
	res->data = NULL;
	res->server_time = 0;

	aws_decode(call->req, resp, res);
	res->status = resp->status;
	res->http_error = resp->error;
	if (resp->error == HTTP_ERR_CANCELLED) {
		res->outcome = AWS_ERROR;
		call->state = CALL_DONE;
		call_finish(call);
		return;
	}
	if ((date = http_response_header(resp, "Date")) != NULL) {
		if (strcmp(date, c->date_text) == 0)
			res->server_time = (double)c->date_time;
		else {
			memset(&tm, 0, sizeof(tm));
			if (strptime(date, "%a, %d %b %Y %H:%M:%S GMT", &tm) !=
			    NULL) {
				st = timegm(&tm);
				res->server_time = (double)st;
				if (strlen(date) < sizeof(c->date_text)) {
					memcpy(c->date_text, date,
					    strlen(date) + 1);
					c->date_time = st;
				}
			}
		}
	}

	/*
	 * Any answer: when the server's Date says our estimate of its clock
	 * is off by more than CLIENT_CLOCK_DRIFT, follow the server.  AWS
	 * accepts signatures 15 minutes off, so a host clock 5-15 minutes
	 * fast raises no skew error, yet would place every LookupEvents
	 * window after the records it must find.  Only an answer that came
	 * back quickly says what the server's time is.
	 */
	if (resp->error == HTTP_OK && res->server_time > 0 &&
	    !code_is_skew(res->error_code))
		client_follow_date(c, call, res);

	/* Clock skew: correct the offset from the server's Date, retry once. */
	if (resp->error == HTTP_OK && code_is_skew(res->error_code) &&
	    res->server_time > 0 && !call->skew_retried) {
		skew = res->server_time - now_real();
		if (skew > 60 || skew < -60) {
			c->clock_offset = skew;
			call->skew_retried = 1;
			log_warnx("clock differs from %s by %.0f s: signing "
			    "with corrected time", call->ep.host, skew);
			call->state = CALL_PACED;
			call_schedule(call, 0);
			return;
		}
	}
	/* Expired session token: refetch credentials once. */
	if (code_is_expired_token(res->error_code) && call->provider != NULL &&
	    !call->token_retried) {
		call->token_retried = 1;
		creds_invalidate(call->provider);
		creds_unref(call->creds);
		call->creds = NULL;
		call->state = CALL_START;
		call_schedule(call, 0);
		return;
	}

	if (res->outcome == AWS_RETRYABLE && call->attempt < c->max_attempts) {
		throttled = aws_code_is_throttle(res->error_code);
		cost = retry_quota_acquire(&c->quota,
		    resp->error == HTTP_ERR_TIMEOUT);
		if (cost >= 0) {
			call->last_cost = cost;
			c->stats.retries++;
			delay = retry_backoff(call->attempt);
			if (throttled) {
				c->stats.throttled++;
				if ((rl = call_bucket(call)) != NULL)
					ratelimit_penalise(rl, now_mono(),
					    delay);
			}
			log_debug("%s:%s %s: %s, retry %d in %.2fs",
			    call->req->svc->id, call->req->action,
			    call->req->region, res->error_code ?
			    res->error_code : http_error_name(resp->error),
			    call->attempt, delay);
			call->paced = 0;
			call->state = CALL_PACED;
			call_schedule(call, delay);
			return;
		}
		log_info("retry quota exhausted: not retrying %s:%s",
		    call->req->svc->id, call->req->action);
	} else if (res->outcome == AWS_RETRYABLE &&
	    aws_code_is_throttle(res->error_code))
		c->stats.throttled++;
	if (res->outcome != AWS_RETRYABLE)
		retry_quota_success(&c->quota, call->attempt > 1 ?
		    call->last_cost : 0);
	call->state = CALL_DONE;
	call_finish(call);
}

/* ---- the STS transport of the AssumeRole providers ---------------------- */

static struct aws_call *
aws_client_sts_send(void *owner, struct creds_provider *signer,
    struct aws_request *req, creds_sts_done done, void *arg)
{
	return aws_client_send(owner, signer, req, done, arg);
}

const struct creds_sts *
aws_client_sts(struct aws_client *c)
{
	return &c->sts;
}
