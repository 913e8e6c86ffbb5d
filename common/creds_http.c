/*
 * creds_http: credentials from local metadata endpoints over the HTTP
 * engine - the container endpoint (ECS, EKS Pod Identity) and EC2 instance
 * metadata (IMDSv2 with botocore's IMDSv1 fallback).
 *
 * Each fetch is a small state machine (one enum, one driver): IMDS goes
 * TOKEN -> ROLE -> CREDS, the container endpoint is one GET retried on
 * transport errors and 5xx.  Response bodies held secrets: they are wiped
 * before the engine frees them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "cloudsaga_limits.h"
#include "creds.h"
#include "creds_int.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

#define CONTAINER_HOST		"http://169.254.170.2"
#define CONTAINER_TIMEOUT_MS	2000
#define CONTAINER_ATTEMPTS	3
#define CONTAINER_RETRY_DELAY_S	1
#define IMDS_ENDPOINT		"http://169.254.169.254"
#define IMDS_ENDPOINT_V6	"http://[fd00:ec2::254]"
#define IMDS_TOKEN_TTL		"21600"
#define IMDS_TIMEOUT_MS		1000
#define IMDS_ROLE_PATH		"/latest/meta-data/iam/security-credentials/"

/* Wipe a response body that carried secrets (the engine frees it next). */
static void
http_body_wipe(const struct http_response *res)
{
	if (res->body != NULL && res->body_len > 0)
		explicit_bzero(res->body, res->body_len);
}

/* A short, printable excerpt of an error body for messages. */
static char *
http_body_excerpt(const struct http_response *res)
{
	size_t	 i, n;
	char	*s;

	if (res->body == NULL || res->body_len == 0)
		return xstrdup("");
	n = res->body_len < 200 ? res->body_len : 200;
	s = xmalloc(n + 3);
	s[0] = ':';
	s[1] = ' ';
	for (i = 0; i < n; i++)
		s[i + 2] = isprint((unsigned char)res->body[i]) ?
		    res->body[i] : ' ';
	s[n + 2] = '\0';
	return s;
}

/* ---- parsing the answers (creds_int.h) ------------------------------ */

char *
creds_imds_parse_token(const char *body, size_t len, char **cause)
{
	size_t	 n = len, i;

	while (n > 0 && isspace((unsigned char)body[n - 1]))
		n--;
	for (i = 0; i < n; i++) {
		/* it goes into a header line: printable ASCII only */
		if ((unsigned char)body[i] < 0x20 ||
		    (unsigned char)body[i] >= 0x7f)
			break;
	}
	if (n == 0 || n > CREDS_HTTP_TOKEN_MAX || i < n) {
		*cause = xstrdup("bad session token");
		return NULL;
	}
	return xstrndup(body, n);
}

char *
creds_imds_parse_role(const char *body, size_t len, char **cause)
{
	size_t	 n = 0, i;

	while (n < len && body[n] != '\r' && body[n] != '\n')
		n++;
	while (n > 0 && isspace((unsigned char)body[n - 1]))
		n--;
	if (n == 0) {
		*cause = xstrdup("no IAM role attached to this instance");
		return NULL;
	}
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)body[i]) && (body[i] == '\0' ||
		    strchr("+=,.@_-", body[i]) == NULL))
			break;
	if (i < n || n > 128) {
		*cause = xstrdup("bad IAM role name in the listing");
		return NULL;
	}
	return xstrndup(body, n);
}

/* A credential document; for IMDS, its "Code" must be "Success". */
static struct aws_creds *
creds_http_parse_json(const char *body, size_t len, int imds, char **cause)
{
	struct aws_creds	*c;
	json_error_t		 jerr;
	json_t			*j;
	const char		*code;
	char			*s;

	if ((j = json_loadb(body, len, 0, &jerr)) == NULL) {
		*cause = xprintf("bad JSON (line %d)", jerr.line);
		return NULL;
	}
	code = json_string_value(json_object_get(j, "Code"));
	if (imds && code != NULL && strcmp(code, "Success") != 0) {
		s = str_cap_utf8(code, 64);
		*cause = xprintf("Code %s", s);
		free(s);
		c = NULL;
	} else
		c = creds_from_json(j, "Token", imds, cause);
	creds_json_wipe(j);
	json_decref(j);
	return c;
}

struct aws_creds *
creds_imds_parse_creds(const char *body, size_t len, char **cause)
{
	return creds_http_parse_json(body, len, 1, cause);
}

struct aws_creds *
creds_container_parse(const char *body, size_t len, char **cause)
{
	return creds_http_parse_json(body, len, 0, cause);
}

/* Transport trouble and 5xx; not a refused request or an oversized body. */
static int
http_retryable(const struct http_response *res)
{
	if (res->error != HTTP_OK)
		return res->error != HTTP_ERR_CANCELLED &&
		    res->error != HTTP_ERR_OTHER;
	return res->status >= 500 || res->status == 429;
}

/* ---- container ------------------------------------------------------- */

struct container {
	struct http_engine	*http;
	char			*url;
	int			 attempt;
	struct http_xfer	*xfer;
	struct event		*retry;
};

/* May a full URI be used?  https anywhere; http only to known hosts. */
static int
container_host_ok(const char *url, char **cause)
{
	const char		*a, *end, *at, *h;
	char			*host;
	size_t			 n;
	unsigned char		 addr[16], want[16];
	static const char	*names[] = {
		"169.254.170.2", "169.254.170.23", "fd00:ec2::23",
	};
	size_t			 i;
	int			 ok = 0;

	if (strncasecmp(url, "https://", 8) == 0)
		return 0;
	if (strncasecmp(url, "http://", 7) != 0) {
		*cause = xstrdup("AWS_CONTAINER_CREDENTIALS_FULL_URI must be "
		    "an http or https URL");
		return -1;
	}
	a = url + 7;
	end = a + strcspn(a, "/?#");
	for (at = NULL, h = a; h < end; h++)
		if (*h == '@')
			at = h;
	if (at != NULL)
		a = at + 1;
	if (*a == '[') {
		if ((h = memchr(a, ']', end - a)) == NULL) {
			*cause = xstrdup("AWS_CONTAINER_CREDENTIALS_FULL_URI: "
			    "bad IPv6 host");
			return -1;
		}
		host = xstrndup(a + 1, h - a - 1);
	} else {
		n = 0;
		while (a + n < end && a[n] != ':')
			n++;
		host = xstrndup(a, n);
	}

	if (strcasecmp(host, "localhost") == 0)
		ok = 1;
	else if (inet_pton(AF_INET, host, addr) == 1)
		ok = addr[0] == 127;
	else if (inet_pton(AF_INET6, host, addr) == 1)
		ok = IN6_IS_ADDR_LOOPBACK((struct in6_addr *)addr);
	for (i = 0; !ok && i < nitems(names); i++) {
		int af = strchr(names[i], ':') != NULL ? AF_INET6 : AF_INET;

		if (inet_pton(af, host, addr) == 1 &&
		    inet_pton(af, names[i], want) == 1 &&
		    memcmp(addr, want, af == AF_INET ? 4 : 16) == 0)
			ok = 1;
	}
	if (!ok)
		*cause = xprintf("AWS_CONTAINER_CREDENTIALS_FULL_URI: host "
		    "\"%.100s\" is not allowed over http (only https, a "
		    "loopback address, 169.254.170.2, 169.254.170.23 or "
		    "fd00:ec2::23)", host);
	free(host);
	return ok ? 0 : -1;
}

/* The authorization token: from the file (preferred) or the variable. */
static int
container_auth(char **ret, char **cause)
{
	const char	*file, *env;
	char		*why = NULL;
	size_t		 len;

	*ret = NULL;
	if ((file = creds_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) !=
	    NULL) {
		if (creds_read_secret_file(file, CREDS_HTTP_TOKEN_MAX, ret, &len,
		    &why) == -1 || len > CREDS_HTTP_TOKEN_MAX) {
			*cause = xprintf("container authorization token file "
			    "%s: %s", file, why != NULL ? why : "too large");
			free(why);
			if (*ret != NULL)
				freezero(*ret, len + 1);
			*ret = NULL;
			return -1;
		}
	} else if ((env = creds_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")) !=
	    NULL)
		*ret = xstrdup(env);
	else
		return 0;

	if (strpbrk(*ret, "\r\n") != NULL || strlen(*ret) == 0) {
		*cause = xstrdup("the container authorization token is empty "
		    "or contains CR or LF");
		freezero_str(*ret);
		*ret = NULL;
		return -1;
	}
	return 0;
}

static void	container_done(const struct http_response *, void *);

static void
container_send(struct creds_provider *p)
{
	struct container	*ct = p->data;
	struct http_request	 req;
	const char		*hdrs[3];
	char			*auth = NULL, *authhdr = NULL, *cause = NULL;
	int			 nh = 0;

	if (container_auth(&auth, &cause) != 0) {
		creds_fetch_done(p, NULL, cause);
		free(cause);
		return;
	}
	hdrs[nh++] = "Accept: application/json";
	if (auth != NULL) {
		authhdr = xprintf("Authorization: %s", auth);
		hdrs[nh++] = authhdr;
	}
	hdrs[nh] = NULL;

	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = ct->url;
	req.headers = hdrs;
	req.connect_timeout_ms = CONTAINER_TIMEOUT_MS;
	req.timeout_ms = CONTAINER_TIMEOUT_MS;
	req.max_body = CREDS_HTTP_MAX_BODY;
	ct->attempt++;
	ct->xfer = http_submit(ct->http, &req, container_done, p);
	freezero_str(authhdr);
	freezero_str(auth);
}

static void
container_retry_cb(evutil_socket_t fd, short events, void *arg)
{
	container_send(arg);
}

static void
container_done(const struct http_response *res, void *arg)
{
	struct creds_provider	*p = arg;
	struct container	*ct = p->data;
	struct aws_creds	*c = NULL;
	struct timeval		 tv = { CONTAINER_RETRY_DELAY_S, 0 };
	char			*cause = NULL, *ex;

	ct->xfer = NULL;
	if (res->error == HTTP_ERR_CANCELLED) {
		creds_fetch_done(p, NULL, "cancelled");
		return;
	}
	if (http_retryable(res) && ct->attempt < CONTAINER_ATTEMPTS) {
		log_debug("creds: %s: attempt %d failed (%s %ld), retrying",
		    p->name, ct->attempt, http_error_name(res->error),
		    res->status);
		if (ct->retry == NULL)
			ct->retry = evtimer_new(p->base, container_retry_cb,
			    p);
		evtimer_add(ct->retry, &tv);
		return;
	}
	if (res->error != HTTP_OK) {
		cause = xprintf("container credentials %s: %s", ct->url,
		    res->errmsg != NULL ? res->errmsg :
		    http_error_name(res->error));
	} else if (res->status != 200) {
		ex = http_body_excerpt(res);
		cause = xprintf("container credentials %s: HTTP %ld%s",
		    ct->url, res->status, ex);
		free(ex);
	} else if ((c = creds_container_parse(res->body, res->body_len,
	    &cause)) == NULL) {
		ex = xprintf("container credentials %s: %s", ct->url, cause);
		free(cause);
		cause = ex;
	}
	http_body_wipe(res);
	creds_fetch_done(p, c, cause);
	free(cause);
}

static void
container_fetch(struct creds_provider *p)
{
	struct container	*ct = p->data;

	ct->attempt = 0;
	container_send(p);
}

static void
container_abort(struct creds_provider *p)
{
	struct container	*ct = p->data;

	if (ct->xfer != NULL) {
		http_cancel(ct->xfer);
		ct->xfer = NULL;
	}
	if (ct->retry != NULL)
		evtimer_del(ct->retry);
}

static void
container_free(void *data)
{
	struct container	*ct = data;

	if (ct == NULL)
		return;
	if (ct->retry != NULL)
		event_free(ct->retry);
	free(ct->url);
	free(ct);
}

static const struct creds_ops container_ops = {
	.kind = "container",
	.fetch = container_fetch,
	.abort = container_abort,
	.free = container_free,
};

struct creds_provider *
creds_container(const struct creds_ctx *ctx)
{
	struct container	*ct;
	struct creds_provider	*p;
	const char		*rel, *full;
	char			*url = NULL, *cause = NULL;

	rel = creds_getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	full = creds_getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	if (rel == NULL && full == NULL)
		return NULL;
	if (rel != NULL) {
		if (*rel != '/')
			cause = xstrdup("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI "
			    "must start with '/'");
		else
			url = xprintf("%s%s", CONTAINER_HOST, rel);
	} else if (container_host_ok(full, &cause) == 0)
		url = xstrdup(full);
	if (cause == NULL && ctx->http == NULL)
		cause = xstrdup("container credentials need an HTTP engine");
	if (cause != NULL) {
		p = creds_error_provider("container", ctx->base, cause);
		free(cause);
		free(url);
		return p;
	}
	ct = xcalloc(1, sizeof(*ct));
	ct->http = ctx->http;
	ct->url = url;
	p = creds_provider_new(&container_ops, ct, "container", ctx->base);
	return p;
}

/* ---- EC2 instance metadata ------------------------------------------- */

enum imds_state {
	IMDS_TOKEN,
	IMDS_ROLE,
	IMDS_CREDS,
};

struct imds {
	struct http_engine	*http;
	char			*endpoint;	/* no trailing '/' */
	char			*note;		/* error prefix, or NULL */
	int			 v1_disabled;
	long			 timeout_ms;
	int			 max_attempts;

	enum imds_state		 state;
	int			 attempt;
	char			*token;		/* NULL: IMDSv1 */
	char			*role;
	struct http_xfer	*xfer;
};

static const char *imds_state_names[] = { "token", "role", "credentials" };

static void	imds_done(const struct http_response *, void *);

static void
imds_reset(struct imds *im)
{
	freezero_str(im->token);
	im->token = NULL;
	free(im->role);
	im->role = NULL;
}

static void
imds_fail(struct creds_provider *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
imds_fail(struct creds_provider *p, const char *fmt, ...)
{
	struct imds	*im = p->data;
	va_list		 ap;
	char		*msg, *full;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (im->note != NULL)
		full = xprintf("%s; EC2 instance metadata (%s): %s", im->note,
		    im->endpoint, msg);
	else
		full = xprintf("EC2 instance metadata (%s): %s", im->endpoint,
		    msg);
	imds_reset(im);
	creds_fetch_done(p, NULL, full);
	free(full);
	free(msg);
}

/* Send the request of the current state. */
static void
imds_send(struct creds_provider *p)
{
	struct imds		*im = p->data;
	struct http_request	 req;
	const char		*hdrs[2] = { NULL, NULL };
	char			*url, *hdr = NULL;

	memset(&req, 0, sizeof(req));
	switch (im->state) {
	case IMDS_TOKEN:
		req.method = "PUT";
		url = xprintf("%s/latest/api/token", im->endpoint);
		hdrs[0] = "X-aws-ec2-metadata-token-ttl-seconds: "
		    IMDS_TOKEN_TTL;
		break;
	case IMDS_ROLE:
		req.method = "GET";
		url = xprintf("%s%s", im->endpoint, IMDS_ROLE_PATH);
		break;
	case IMDS_CREDS:
	default:
		/* As botocore: the name as listed (checked in imds_done). */
		req.method = "GET";
		url = xprintf("%s%s%s", im->endpoint, IMDS_ROLE_PATH, im->role);
		break;
	}
	if (im->state != IMDS_TOKEN && im->token != NULL) {
		hdr = xprintf("X-aws-ec2-metadata-token: %s", im->token);
		hdrs[0] = hdr;
	}
	req.url = url;
	req.headers = hdrs;
	req.connect_timeout_ms = im->timeout_ms;
	req.timeout_ms = im->timeout_ms;
	req.max_body = CREDS_HTTP_MAX_BODY;
	im->attempt++;
	im->xfer = http_submit(im->http, &req, imds_done, p);
	freezero_str(hdr);
	free(url);
}

static void
imds_next(struct creds_provider *p, enum imds_state state)
{
	struct imds	*im = p->data;

	im->state = state;
	im->attempt = 0;
	imds_send(p);
}

/* Credentials close to expiry: use them, try again later (botocore). */
static void
imds_extend(struct creds_provider *p, struct aws_creds *c)
{
	time_t	 now = creds_now();
	int	 window;
	char	 when[21];

	if (c->expiration - now > CREDS_REFRESH_MARGIN)
		return;
	window = 120 + (int)(random_unit() * 480);	/* 2..10 min */
	time_iso8601(c->expiration, when);
	log_warnx("creds: %s: the credentials expire at %s; using them and "
	    "trying again within %d minutes (credential service "
	    "availability issue)", p->name, when, window / 60 + 1);
	c->expiration = now + CREDS_REFRESH_MARGIN + window;
}

static void
imds_creds(struct creds_provider *p, const struct http_response *res)
{
	struct imds		*im = p->data;
	struct aws_creds	*c;
	char			*cause = NULL;

	c = creds_imds_parse_creds(res->body, res->body_len, &cause);
	if (c == NULL) {
		imds_fail(p, "role %s: %s", im->role, cause);
		free(cause);
		return;
	}
	imds_extend(p, c);
	log_debug("creds: %s: role %s (IMDSv%d)", p->name, im->role,
	    im->token != NULL ? 2 : 1);
	imds_reset(im);
	creds_fetch_done(p, c, NULL);
}

static void
imds_done(const struct http_response *res, void *arg)
{
	struct creds_provider	*p = arg;
	struct imds		*im = p->data;
	const char		*what = imds_state_names[im->state];
	char			*ex, *cause = NULL;

	im->xfer = NULL;
	if (res->error == HTTP_ERR_CANCELLED) {
		imds_fail(p, "cancelled");
		return;
	}
	if (http_retryable(res) && im->attempt < im->max_attempts) {
		imds_send(p);
		return;
	}

	if (im->state == IMDS_TOKEN) {
		if (res->error == HTTP_OK && res->status == 200) {
			im->token = creds_imds_parse_token(res->body,
			    res->body_len, &cause);
			http_body_wipe(res);
			if (im->token == NULL) {
				imds_fail(p, "%s", cause);
				free(cause);
				return;
			}
			imds_next(p, IMDS_ROLE);
			return;
		}
		/*
		 * botocore: 403/404/405 mean no IMDSv2 here, a read timeout
		 * means the token response did not make it back (hop limit):
		 * both fall back to IMDSv1.
		 */
		if ((res->error == HTTP_OK && (res->status == 403 ||
		    res->status == 404 || res->status == 405)) ||
		    res->error == HTTP_ERR_TIMEOUT) {
			if (im->v1_disabled) {
				imds_fail(p, "no session token (%s) and "
				    "IMDSv1 is disabled "
				    "(AWS_EC2_METADATA_V1_DISABLED)",
				    res->error != HTTP_OK ?
				    http_error_name(res->error) :
				    res->status == 403 ? "HTTP 403" :
				    res->status == 404 ? "HTTP 404" :
				    "HTTP 405");
				return;
			}
			log_debug("creds: %s: no session token (%s %ld), "
			    "using IMDSv1", p->name,
			    http_error_name(res->error), res->status);
			imds_next(p, IMDS_ROLE);
			return;
		}
	}

	if (res->error != HTTP_OK) {
		imds_fail(p, "%s: %s", what, res->errmsg != NULL ?
		    res->errmsg : http_error_name(res->error));
		return;
	}
	if (res->status != 200) {
		ex = http_body_excerpt(res);
		if (im->state == IMDS_ROLE && res->status == 404)
			imds_fail(p, "no IAM role attached to this instance "
			    "(HTTP 404)");
		else
			imds_fail(p, "%s: HTTP %ld%s", what, res->status,
			    res->status == 401 ? " (session token rejected)" :
			    ex);
		free(ex);
		return;
	}

	switch (im->state) {
	case IMDS_ROLE:
		if ((im->role = creds_imds_parse_role(res->body,
		    res->body_len, &cause)) == NULL) {
			imds_fail(p, "%s", cause);
			free(cause);
			return;
		}
		imds_next(p, IMDS_CREDS);
		break;
	case IMDS_CREDS:
		imds_creds(p, res);
		http_body_wipe(res);
		break;
	default:
		imds_fail(p, "unexpected state");
		break;
	}
}

static void
imds_fetch(struct creds_provider *p)
{
	struct imds	*im = p->data;

	imds_reset(im);
	imds_next(p, IMDS_TOKEN);
}

static void
imds_abort(struct creds_provider *p)
{
	struct imds	*im = p->data;

	if (im->xfer != NULL) {
		http_cancel(im->xfer);
		im->xfer = NULL;
	}
	imds_reset(im);
}

static void
imds_free(void *data)
{
	struct imds	*im = data;

	if (im == NULL)
		return;
	imds_reset(im);
	free(im->endpoint);
	free(im->note);
	free(im);
}

static const struct creds_ops imds_ops = {
	.kind = "imds",
	.fetch = imds_fetch,
	.abort = imds_abort,
	.free = imds_free,
};

struct creds_provider *
creds_imds_new(const struct creds_ctx *ctx, const char *note)
{
	struct imds	*im;
	const char	*ep, *mode, *v;
	char		*end;
	double		 d;
	long		 l;
	size_t		 n;

	if (creds_env_true("AWS_EC2_METADATA_DISABLED"))
		return NULL;
	if (ctx->http == NULL)
		return creds_error_provider("imds", ctx->base,
		    "EC2 instance metadata needs an HTTP engine");

	im = xcalloc(1, sizeof(*im));
	im->http = ctx->http;
	im->note = xstrdup_or_null(note);
	if ((ep = creds_getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT")) == NULL) {
		mode = creds_getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
		ep = mode != NULL && strcasecmp(mode, "IPv6") == 0 ?
		    IMDS_ENDPOINT_V6 : IMDS_ENDPOINT;
	}
	n = strlen(ep);
	while (n > 0 && ep[n - 1] == '/')
		n--;
	im->endpoint = xstrndup(ep, n);
	im->v1_disabled = creds_env_true("AWS_EC2_METADATA_V1_DISABLED");

	im->timeout_ms = IMDS_TIMEOUT_MS;
	if ((v = creds_getenv("AWS_METADATA_SERVICE_TIMEOUT")) != NULL) {
		d = strtod(v, &end);
		if (*end == '\0' && d > 0 && d <= 60)
			im->timeout_ms = (long)(d * 1000);
		else
			log_warnx("creds: ignoring bad "
			    "AWS_METADATA_SERVICE_TIMEOUT");
	}
	im->max_attempts = 1;
	if ((v = creds_getenv("AWS_METADATA_SERVICE_NUM_ATTEMPTS")) != NULL) {
		l = strtol(v, &end, 10);
		if (*end == '\0' && l >= 1 && l <= 10)
			im->max_attempts = (int)l;
		else
			log_warnx("creds: ignoring bad "
			    "AWS_METADATA_SERVICE_NUM_ATTEMPTS");
	}
	return creds_provider_new(&imds_ops, im, "imds", ctx->base);
}

struct creds_provider *
creds_imds(const struct creds_ctx *ctx)
{
	return creds_imds_new(ctx, NULL);
}
