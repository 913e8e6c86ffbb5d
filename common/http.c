/*
 * http: libcurl multi on one libevent event_base.
 *
 * The shape is curl's hiperfifo.c / multi-event.c:
 *
 *   http_socket_cb   CURLMOPT_SOCKETFUNCTION: one persistent event per
 *                    socket, attached to curl's socket with curl_multi_assign
 *   http_timer_cb    CURLMOPT_TIMERFUNCTION: one evtimer; -1 deletes it, 0
 *                    schedules a zero timeout (curl is never called from
 *                    inside its own callbacks)
 *   http_event_cb,   both call curl_multi_socket_action() and then
 *   http_timeout_cb  http_check_multi_info(), which drains
 *                    curl_multi_info_read()
 *
 * A transfer (struct http_xfer) moves through
 *
 *   QUEUED --start--> ACTIVE --curl done--> DONE --deliver--> DELIVERING
 *      \______________________________________/ (invalid request, cancel)
 *
 * QUEUED transfers wait in their host's FIFO until both bounds (global and
 * per host:port) allow them to start; only then an easy handle is made.
 * Across hosts the order is the order of submission (a sequence number
 * per transfer), except that a transfer whose host is full lets later ones
 * for other hosts pass.
 * DONE transfers wait in the done list until http_deliver() runs their
 * callbacks, from an event handler: from http_check_multi_info() or from
 * the zero-timeout "kick" event that http_submit() schedules.  So a callback
 * never runs inside http_submit(), and since every list operation is
 * finished before a callback runs, callbacks may submit and cancel.
 *
 * Size: one state machine (curl multi on libevent, after curl's hiperfifo
 * example) whose callbacks share the file-local handle list; kept whole so
 * the order of list operations and callbacks can be read in one place.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "buf.h"
#include "cloudsaga_limits.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "wipe.h"
#include "xmalloc.h"

#define HTTP_DEFAULT_MAX_TOTAL		64
#define HTTP_DEFAULT_MAX_PER_HOST	16
#define HTTP_DEFAULT_CONNECT_MS		5000L
#define HTTP_DEFAULT_TIMEOUT_MS		30000L
#define HTTP_IDLE_EASY_MAX		16	/* reset easy handles kept */

enum http_state {
	HTTP_QUEUED,
	HTTP_ACTIVE,
	HTTP_DONE,
	HTTP_DELIVERING,
};

struct http_xfer;
TAILQ_HEAD(http_xfers, http_xfer);

/* A host:port with active or queued transfers. */
struct http_host {
	LIST_ENTRY(http_host)	 entry;
	char			*key;		/* "host:port", lower case */
	int			 active;
	struct http_xfers	 queue;		/* QUEUED, FIFO */
};

struct http_sock {
	LIST_ENTRY(http_sock)	 entry;
	struct http_engine	*engine;
	curl_socket_t		 fd;
	struct event		*ev;
};

struct http_xfer {
	struct http_engine	*engine;
	TAILQ_ENTRY(http_xfer)	 entry;
	enum http_state		 state;
	unsigned long		 seq;		/* order of submission */
	struct http_host	*host;		/* while queued or active */

	/* The request, copied. */
	char			*method;
	char			*url;
	char			*logurl;	/* scheme://host[:port]/path */
	char			*hostkey;
	struct curl_slist	*hdrs;
	char			*body;
	size_t			 body_len;
	int			 send_body;
	long			 connect_timeout_ms;
	long			 timeout_ms;
	size_t			 max_body;

	http_done_cb		 cb;
	void			*arg;

	/* While active. */
	CURL			*easy;
	char			 errbuf[CURL_ERROR_SIZE];
	int			 too_many_headers;
	int			 headers_too_large;
	int			 too_large;
	int			 over_budget;	/* max_buffered reached */

	/* The outcome. */
	enum http_error		 error;
	char			*errmsg;
	long			 status;
	struct http_header_parser hp;		/* the response's headers */
	struct buf		 rbody;
	int			 reused;
	double			 submitted;
	double			 started;
	double			 finished;
};

struct http_engine {
	struct event_base	*base;
	CURLM			*multi;
	struct event		*timer;		/* curl's timeout */
	struct event		*kick;		/* start queued, deliver done */
	struct http_engine_opts	 opts;

	struct http_xfers	 active;	/* ACTIVE */
	struct http_xfers	 done;		/* DONE, awaiting delivery */
	LIST_HEAD(, http_host)	 hosts;		/* QUEUED are in there */
	unsigned long		 next_seq;
	LIST_HEAD(, http_sock)	 socks;

	struct http_stats	 stats;
	size_t			 buffered;	/* response bytes held */
	int			 freeing;
	int			 delivering;

	/*
	 * Easy handles of finished transfers, reset (curl_easy_reset) for the
	 * next one: curl_easy_init() and curl_easy_cleanup() per transfer
	 * cost more than the transfer's own work on a kept-alive connection.
	 * A reset handle keeps nothing of its last request but the caches
	 * curl keeps in it (DNS, TLS session IDs); connections are the multi
	 * handle's.  At most HTTP_IDLE_EASY_MAX of them (about 6-7 KB each
	 * with curl 7.88), and only while other transfers are active or
	 * queued: an idle engine (the daemon between runs) keeps none.
	 */
	CURL			**idle;
	int			 nidle;

	/*
	 * The last URL submitted and what http_submit() derives from it: an
	 * AWS client sends most calls to the same few URLs ("https://host/"),
	 * and parsing one with curl's URL API costs as much as signing.
	 */
	char			*last_url;
	char			*last_hostkey;
	char			*last_logurl;
};

static int	 http_global_done;

static void	 http_kick(struct http_engine *);
static void	 http_start_queued(struct http_engine *);
static void	 http_deliver(struct http_engine *);
static void	 http_xfer_free(struct http_xfer *);

void
http_global_init(void)
{
	CURLcode	 rc;

	if (http_global_done)
		return;
	/*
	 * libcurl's buffers hold what goes over the wire: request headers
	 * (Authorization, tokens), response bodies (credentials).  Its free
	 * wipes them (wipe.h).
	 */
	if ((rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, malloc, wipe_free,
	    wipe_realloc, strdup, calloc)) != CURLE_OK)
		fatalx("curl_global_init: %s", curl_easy_strerror(rc));
	http_global_done = 1;
}

void
http_global_cleanup(void)
{
	if (!http_global_done)
		return;
	curl_global_cleanup();
	http_global_done = 0;
}

const char *
http_error_name(enum http_error e)
{
	switch (e) {
	case HTTP_OK:
		return "ok";
	case HTTP_ERR_CONNECT:
		return "connect";
	case HTTP_ERR_TIMEOUT:
		return "timeout";
	case HTTP_ERR_RESET:
		return "reset";
	case HTTP_ERR_PROTOCOL:
		return "protocol";
	case HTTP_ERR_CANCELLED:
		return "cancelled";
	case HTTP_ERR_OTHER:
		return "other";
	}
	return "unknown";
}

const char *
http_response_header(const struct http_response *r, const char *name)
{
	size_t	 i;

	if (r == NULL || name == NULL)
		return NULL;
	for (i = 0; i < r->nheaders; i++) {
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	}
	return NULL;
}

void
http_engine_stats(const struct http_engine *e, struct http_stats *st)
{
	*st = e->stats;
	st->buffered = e->buffered;
}

/* ---- URLs ----------------------------------------------------------- */

struct http_url {
	char	*scheme;
	char	*host;
	char	*port;		/* explicit or the scheme's default */
	char	*path;
	int	 default_port;
};

static void
http_url_clear(struct http_url *u)
{
	curl_free(u->scheme);
	curl_free(u->host);
	curl_free(u->port);
	curl_free(u->path);
	memset(u, 0, sizeof *u);
}

/* Parse url with libcurl's own parser, so we agree with what it sends. */
static int
http_url_parse(const char *url, struct http_url *u, char **cause)
{
	CURLU		*h;
	CURLUcode	 rc;
	char		*user = NULL, *password = NULL;
	long		 port, def;

	memset(u, 0, sizeof *u);
	if ((h = curl_url()) == NULL)
		fatalx("curl_url: out of memory");
	if ((rc = curl_url_set(h, CURLUPART_URL, url, 0)) != CURLUE_OK) {
		*cause = xprintf("bad URL: %s", curl_url_strerror(rc));
		goto fail;
	}
	if (curl_url_get(h, CURLUPART_SCHEME, &u->scheme, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_HOST, &u->host, 0) != CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PORT, &u->port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PATH, &u->path, 0) != CURLUE_OK) {
		*cause = xstrdup("bad URL: no scheme, host or path");
		goto fail;
	}
	if (strcasecmp(u->scheme, "http") == 0)
		def = 80;
	else if (strcasecmp(u->scheme, "https") == 0)
		def = 443;
	else {
		*cause = xstrdup("bad URL: scheme is not http or https");
		goto fail;
	}
	if (curl_url_get(h, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(h, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK) {
		/* Never: curl would send them as Basic authentication. */
		*cause = xstrdup("bad URL: user information is not allowed");
		goto fail;
	}
	port = strtol(u->port, NULL, 10);
	u->default_port = (port == def);
	curl_url_cleanup(h);
	return 0;

fail:
	if (password != NULL)
		explicit_bzero(password, strlen(password));
	curl_free(user);
	curl_free(password);
	curl_url_cleanup(h);
	http_url_clear(u);
	return -1;
}

char *
http_host_header(const char *url)
{
	struct http_url	 u;
	char		*cause = NULL, *s;

	if (url == NULL)
		return NULL;
	if (http_url_parse(url, &u, &cause) != 0) {
		free(cause);
		return NULL;
	}
	if (u.default_port)
		s = xstrdup(u.host);
	else
		s = xprintf("%s:%s", u.host, u.port);
	http_url_clear(&u);
	return s;
}

/* ---- hosts ---------------------------------------------------------- */

static struct http_host *
http_host_get(struct http_engine *e, const char *key)
{
	struct http_host	*h;

	LIST_FOREACH(h, &e->hosts, entry) {
		if (strcmp(h->key, key) == 0)
			return h;
	}
	h = xcalloc(1, sizeof *h);
	h->key = xstrdup(key);
	TAILQ_INIT(&h->queue);
	LIST_INSERT_HEAD(&e->hosts, h, entry);
	return h;
}

/* Forget h once nothing is active or queued for it. */
static void
http_host_gc(struct http_host *h)
{
	if (h == NULL || h->active > 0 || !TAILQ_EMPTY(&h->queue))
		return;
	LIST_REMOVE(h, entry);
	free(h->key);
	free(h);
}

/* ---- verbose trace, redacted ---------------------------------------- */

static const char *const http_secret_headers[] = {
	"authorization",
	"proxy-authorization",
	"x-amz-security-token",
	"x-aws-ec2-metadata-token",
	"cookie",
	"set-cookie",
};

static int
http_is_secret_header(const char *line, size_t len)
{
	size_t	 i, n;

	for (i = 0; i < nitems(http_secret_headers); i++) {
		n = strlen(http_secret_headers[i]);
		if (len > n && strncasecmp(line, http_secret_headers[i], n) == 0 &&
		    (line[n] == ':' || line[n] == ';'))
			return 1;
	}
	return 0;
}

/*
 * Print header lines, up to the blank line that ends a header block:
 * whatever follows it in the same chunk would be body.
 */
static void
http_trace_lines(const char *prefix, const char *data, size_t size)
{
	const char	*p = data, *end = data + size, *nl;
	size_t		 len, n;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		len = (nl != NULL ? nl : end) - p;
		n = len;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0 && *prefix != '*')
			break;
		if (n > 0) {
			if (http_is_secret_header(p, n)) {
				n = strcspn(p, ":;");
				fprintf(stderr, "http: %s %.*s: <redacted>\n",
				    prefix, (int)n, p);
			} else
				fprintf(stderr, "http: %s %.*s\n", prefix,
				    (int)n, p);
		}
		p += len + (nl != NULL);
	}
}

/*
 * CURLOPT_DEBUGFUNCTION: curl's informational text and the header lines,
 * with secret header values replaced; bodies are only counted.
 */
static int
http_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size,
    void *arg)
{
	flockfile(stderr);
	switch (type) {
	case CURLINFO_TEXT:
		http_trace_lines("*", data, size);
		break;
	case CURLINFO_HEADER_OUT:
		http_trace_lines(">", data, size);
		break;
	case CURLINFO_HEADER_IN:
		http_trace_lines("<", data, size);
		break;
	case CURLINFO_DATA_OUT:
		fprintf(stderr, "http: > [%zu bytes of body]\n", size);
		break;
	case CURLINFO_DATA_IN:
		fprintf(stderr, "http: < [%zu bytes of body]\n", size);
		break;
	default:
		break;
	}
	funlockfile(stderr);
	return 0;
}

/* ---- curl data callbacks -------------------------------------------- */

void
http_header_parser_clear(struct http_header_parser *hp)
{
	size_t	 i;

	for (i = 0; i < hp->nheaders; i++) {
		free(hp->headers[i].name);
		free(hp->headers[i].value);
	}
	free(hp->headers);
	memset(hp, 0, sizeof(*hp));
}

/* p[0..*len) without leading and trailing blanks: the new start. */
static const char *
http_trim_span(const char *p, size_t *len)
{
	while (*len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		(*len)--;
	}
	while (*len > 0 && (p[*len - 1] == ' ' || p[*len - 1] == '\t'))
		(*len)--;
	return p;
}

static char *
http_trim(const char *p, size_t len)
{
	p = http_trim_span(p, &len);
	return xstrndup(p, len);
}

/*
 * Obsolete line folding (RFC 9112, section 5.2): a line starting with
 * blanks continues the previous header's value, joined with one space.
 * The value grows by doubling, so joining n lines is linear.
 */
static void
http_header_fold(struct http_header_parser *hp, const char *data, size_t n)
{
	struct http_header	*h;
	const char		*v;
	size_t			 need, cap;

	if (hp->nheaders == 0)
		return;
	h = &hp->headers[hp->nheaders - 1];
	v = http_trim_span(data, &n);
	if (n == 0)
		return;
	need = hp->last_len + 1 + n + 1;
	if (need > hp->last_cap) {
		cap = hp->last_cap * 2 > need ? hp->last_cap * 2 : need;
		h->value = xreallocarray(h->value, 1, cap);
		hp->last_cap = cap;
	}
	if (hp->last_len > 0)
		h->value[hp->last_len++] = ' ';
	memcpy(h->value + hp->last_len, v, n);
	hp->last_len += n;
	h->value[hp->last_len] = '\0';
}

enum http_header_status
http_parse_header_line(struct http_header_parser *hp, const char *data,
    size_t len)
{
	const char		*colon;
	struct http_header	*h;
	size_t			 n;

	n = len;
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	if (n >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		http_header_parser_clear(hp);
		if (len > HTTP_MAX_HEADER_BYTES)
			return HTTP_HEADER_TOO_LARGE;
		hp->bytes = len;
		return HTTP_HEADER_OK;
	}
	if (len > HTTP_MAX_HEADER_BYTES - hp->bytes)
		return HTTP_HEADER_TOO_LARGE;
	hp->bytes += len;
	if (n == 0)
		return HTTP_HEADER_OK;
	if (hp->lines >= HTTP_MAX_HEADERS)
		return HTTP_HEADER_TOO_MANY;
	hp->lines++;
	if (data[0] == ' ' || data[0] == '\t') {
		http_header_fold(hp, data, n);
		return HTTP_HEADER_OK;
	}
	if ((colon = memchr(data, ':', n)) == NULL || colon == data)
		return HTTP_HEADER_OK;	/* not a header (curl complains) */
	hp->headers = xreallocarray(hp->headers, hp->nheaders + 1,
	    sizeof(*hp->headers));
	h = &hp->headers[hp->nheaders++];
	h->name = http_trim(data, colon - data);
	h->value = http_trim(colon + 1, n - (colon + 1 - data));
	hp->last_len = strlen(h->value);
	hp->last_cap = hp->last_len + 1;
	return HTTP_HEADER_OK;
}

/*
 * CURLOPT_HEADERFUNCTION: one complete line per call, to the parser above;
 * beyond a limit the transfer stops (returning 0) and fails.
 */
static size_t
http_header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer	*x = arg;
	size_t			 len = size * nmemb;

	switch (http_parse_header_line(&x->hp, data, len)) {
	case HTTP_HEADER_OK:
		return len;
	case HTTP_HEADER_TOO_MANY:
		x->too_many_headers = 1;
		break;
	case HTTP_HEADER_TOO_LARGE:
		x->headers_too_large = 1;
		break;
	}
	return 0;
}

static size_t
http_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer	*x = arg;
	size_t			 len = size * nmemb;

	if (len > x->max_body - x->rbody.len) {
		x->too_large = 1;
		return 0;
	}
	if (len > x->engine->opts.max_buffered - x->engine->buffered) {
		x->over_budget = 1;
		return 0;
	}
	buf_add(&x->rbody, data, len);
	x->engine->buffered += len;
	return len;
}

/* The response body goes: the engine no longer holds its bytes. */
static void
http_xfer_drop_body(struct http_xfer *x)
{
	x->engine->buffered -= x->rbody.len;
	buf_freezero(&x->rbody);
}

/* ---- the curl <-> libevent glue ------------------------------------- */

static void
http_check_multi_info(struct http_engine *);

static void
http_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_engine	*e = arg;
	int			 action = 0, running;
	CURLMcode		 rc;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	if ((rc = curl_multi_socket_action(e->multi, fd, action, &running)) !=
	    CURLM_OK)
		log_warnx("http: curl_multi_socket_action: %s",
		    curl_multi_strerror(rc));
	http_check_multi_info(e);
}

static void
http_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_engine	*e = arg;
	int			 running;
	CURLMcode		 rc;

	if ((rc = curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0,
	    &running)) != CURLM_OK)
		log_warnx("http: curl_multi_socket_action: %s",
		    curl_multi_strerror(rc));
	http_check_multi_info(e);
}

/* CURLMOPT_TIMERFUNCTION: only (re)arm or delete the timer here. */
static int
http_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct http_engine	*e = arg;
	struct timeval		 tv;

	if (timeout_ms < 0) {
		evtimer_del(e->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(e->timer, &tv);
	return 0;
}

/* CURLMOPT_SOCKETFUNCTION: one persistent event per socket. */
static int
http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *arg,
    void *sockp)
{
	struct http_engine	*e = arg;
	struct http_sock	*s = sockp;
	short			 flags = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			LIST_REMOVE(s, entry);
			free(s);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		flags |= EV_READ;
	if (what & CURL_POLL_OUT)
		flags |= EV_WRITE;
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		s->engine = e;
		s->fd = fd;
		s->ev = event_new(e->base, fd, flags, http_event_cb, e);
		if (s->ev == NULL)
			fatalx("event_new failed");
		LIST_INSERT_HEAD(&e->socks, s, entry);
		curl_multi_assign(e->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, e->base, fd, flags, http_event_cb, e);
	}
	event_add(s->ev, NULL);
	return 0;
}

/* ---- transfers ------------------------------------------------------ */

static enum http_error
http_classify(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return HTTP_OK;
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		return HTTP_ERR_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_ERR_TIMEOUT;
	case CURLE_PARTIAL_FILE:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		return HTTP_ERR_RESET;
	case CURLE_UNSUPPORTED_PROTOCOL:	/* e.g. an HTTP/0.9 reply */
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_TOO_MANY_REDIRECTS:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
		return HTTP_ERR_PROTOCOL;
	default:
		return HTTP_ERR_OTHER;
	}
}

/* Put x, in no list now, on the done list with an error. */
static void
http_xfer_fail(struct http_xfer *x, enum http_error error, char *errmsg)
{
	struct http_engine	*e = x->engine;

	x->error = error;
	free(x->errmsg);
	x->errmsg = errmsg;
	x->status = 0;
	http_header_parser_clear(&x->hp);
	http_xfer_drop_body(x);
	x->finished = now_mono();
	x->state = HTTP_DONE;
	TAILQ_INSERT_TAIL(&e->done, x, entry);
	e->stats.failed++;
}

static CURL *
http_easy_get(struct http_engine *e)
{
	CURL	*easy;

	if (e->nidle > 0)
		return e->idle[--e->nidle];
	if ((easy = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	return easy;
}

static void
http_easy_put(struct http_engine *e, CURL *easy)
{
	if (e->freeing || e->nidle >= HTTP_IDLE_EASY_MAX) {
		curl_easy_cleanup(easy);
		return;
	}
	curl_easy_reset(easy);
	e->idle[e->nidle++] = easy;
}

/* Detach an active transfer from curl and from the bounds. */
static void
http_xfer_detach(struct http_xfer *x)
{
	struct http_engine	*e = x->engine;
	long			 nconnects = 0;

	if (x->easy != NULL) {
		curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &nconnects);
		e->stats.connects += nconnects;
		x->reused = (nconnects == 0);
		curl_multi_remove_handle(e->multi, x->easy);
		http_easy_put(e, x->easy);
		x->easy = NULL;
	}
	if (x->state == HTTP_ACTIVE) {
		TAILQ_REMOVE(&e->active, x, entry);
		e->stats.active--;
		x->host->active--;
		http_host_gc(x->host);
		x->host = NULL;
	}
	if (e->stats.active == 0 && e->stats.queued == 0)
		while (e->nidle > 0)
			curl_easy_cleanup(e->idle[--e->nidle]);
}

/* curl finished an active transfer with rc. */
static void
http_xfer_finish(struct http_xfer *x, CURLcode rc)
{
	struct http_engine	*e = x->engine;
	long			 status = 0;
	enum http_error		 err;
	char			*msg;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	x->finished = now_mono();
	http_xfer_detach(x);
	x->state = HTTP_DONE;	/* in no list now */

	err = http_classify(rc);
	if (x->too_large || rc == CURLE_FILESIZE_EXCEEDED) {
		err = HTTP_ERR_OTHER;
		msg = xprintf("response body larger than %zu bytes",
		    x->max_body);
	} else if (x->over_budget) {
		err = HTTP_ERR_OTHER;
		msg = xprintf("response bytes in flight together would pass "
		    "the engine's %zu-byte bound", e->opts.max_buffered);
	} else if (x->too_many_headers) {
		err = HTTP_ERR_PROTOCOL;
		msg = xprintf("more than %d response header lines",
		    HTTP_MAX_HEADERS);
	} else if (x->headers_too_large) {
		err = HTTP_ERR_PROTOCOL;
		msg = xprintf("response headers larger than %d bytes",
		    HTTP_MAX_HEADER_BYTES);
	} else if (err != HTTP_OK)
		msg = xprintf("%s (curl error %d)", x->errbuf[0] != '\0' ?
		    x->errbuf : curl_easy_strerror(rc), (int)rc);
	else
		msg = NULL;

	if (err != HTTP_OK) {
		log_debug("http: %s %s: %s: %s", x->method, x->logurl,
		    http_error_name(err), msg);
		http_xfer_fail(x, err, msg);
		return;
	}
	log_debug("http: %s %s: %ld, %zu bytes, %.3fs%s", x->method, x->logurl,
	    status, x->rbody.len, x->finished - x->started,
	    x->reused ? ", reused" : "");
	x->state = HTTP_DONE;
	x->error = HTTP_OK;
	x->status = status;
	TAILQ_INSERT_TAIL(&e->done, x, entry);
	e->stats.completed++;
}

static void
http_check_multi_info(struct http_engine *e)
{
	CURLMsg			*m;
	int			 left;
	struct http_xfer	*x;
	char			*p;

	while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		p = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		if ((x = (struct http_xfer *)p) == NULL)
			fatalx("http: transfer without private data");
		http_xfer_finish(x, m->data.result);
	}
	/* Fill the freed slots first: FIFO order before new submissions. */
	http_start_queued(e);
	http_deliver(e);
}

#define HTTP_SETOPT(opt, val) do {					\
	if ((rc = curl_easy_setopt(easy, opt, val)) != CURLE_OK) {	\
		what = #opt;						\
		goto fail;						\
	}								\
} while (0)

static int
http_xfer_start(struct http_xfer *x)
{
	struct http_engine	*e = x->engine;
	CURL			*easy;
	CURLcode		 rc;
	CURLMcode		 mrc;
	const char		*what;

	easy = http_easy_get(e);
	x->errbuf[0] = '\0';
	HTTP_SETOPT(CURLOPT_PRIVATE, (char *)x);
	HTTP_SETOPT(CURLOPT_ERRORBUFFER, x->errbuf);
	HTTP_SETOPT(CURLOPT_URL, x->url);
	HTTP_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_SETOPT(CURLOPT_PATH_AS_IS, 1L);
	HTTP_SETOPT(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	HTTP_SETOPT(CURLOPT_NOSIGNAL, 1L);
	HTTP_SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	HTTP_SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, x->connect_timeout_ms);
	HTTP_SETOPT(CURLOPT_TIMEOUT_MS, x->timeout_ms);
	/* early refusal by Content-Length; not for HEAD, which has no body
	 * (curl would refuse HEAD of a large S3 object) */
	if (strcmp(x->method, "HEAD") != 0)
		HTTP_SETOPT(CURLOPT_MAXFILESIZE_LARGE,
		    (curl_off_t)x->max_body);
	HTTP_SETOPT(CURLOPT_HTTPHEADER, x->hdrs);
	HTTP_SETOPT(CURLOPT_HEADERFUNCTION, http_header_cb);
	HTTP_SETOPT(CURLOPT_HEADERDATA, x);
	HTTP_SETOPT(CURLOPT_WRITEFUNCTION, http_write_cb);
	HTTP_SETOPT(CURLOPT_WRITEDATA, x);
	if (e->opts.verbose) {
		HTTP_SETOPT(CURLOPT_DEBUGFUNCTION, http_debug_cb);
		HTTP_SETOPT(CURLOPT_VERBOSE, 1L);
	}

	if (strcmp(x->method, "HEAD") == 0)
		HTTP_SETOPT(CURLOPT_NOBODY, 1L);
	else if (x->send_body) {
		HTTP_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)x->body_len);
		HTTP_SETOPT(CURLOPT_POSTFIELDS, x->body);
		if (strcmp(x->method, "POST") != 0)
			HTTP_SETOPT(CURLOPT_CUSTOMREQUEST, x->method);
	} else if (strcmp(x->method, "GET") == 0)
		HTTP_SETOPT(CURLOPT_HTTPGET, 1L);
	else {
		HTTP_SETOPT(CURLOPT_HTTPGET, 1L);
		HTTP_SETOPT(CURLOPT_CUSTOMREQUEST, x->method);
	}

	x->easy = easy;
	x->host->active++;
	x->state = HTTP_ACTIVE;
	x->started = now_mono();
	TAILQ_INSERT_TAIL(&e->active, x, entry);
	e->stats.active++;
	e->stats.started++;
	if (e->stats.active > e->stats.max_active_seen)
		e->stats.max_active_seen = e->stats.active;
	if ((mrc = curl_multi_add_handle(e->multi, easy)) != CURLM_OK) {
		http_xfer_detach(x);
		x->state = HTTP_DONE;
		http_xfer_fail(x, HTTP_ERR_OTHER, xprintf(
		    "curl_multi_add_handle: %s", curl_multi_strerror(mrc)));
		return -1;
	}
	return 0;

fail:
	http_easy_put(e, easy);
	http_host_gc(x->host);
	x->host = NULL;
	http_xfer_fail(x, HTTP_ERR_OTHER, xprintf("curl_easy_setopt %s: %s",
	    what, curl_easy_strerror(rc)));
	return -1;
}

#undef HTTP_SETOPT

/*
 * Start queued transfers as far as the bounds allow: each time the oldest
 * head of a host queue whose host has room.
 */
static void
http_start_queued(struct http_engine *e)
{
	struct http_xfer	*x, *best;
	struct http_host	*h;

	while (e->stats.active < e->opts.max_total) {
		best = NULL;
		LIST_FOREACH(h, &e->hosts, entry) {
			if (h->active >= e->opts.max_per_host ||
			    (x = TAILQ_FIRST(&h->queue)) == NULL)
				continue;
			if (best == NULL || x->seq < best->seq)
				best = x;
		}
		if ((x = best) == NULL)
			break;
		TAILQ_REMOVE(&x->host->queue, x, entry);
		e->stats.queued--;
		x->state = HTTP_DONE;	/* in no list until started */
		http_xfer_start(x);
	}
}

/* Run the callbacks of finished transfers. */
static void
http_deliver(struct http_engine *e)
{
	struct http_xfer	*x;
	struct http_response	 r;

	e->delivering++;
	while ((x = TAILQ_FIRST(&e->done)) != NULL) {
		TAILQ_REMOVE(&e->done, x, entry);
		x->state = HTTP_DELIVERING;
		memset(&r, 0, sizeof r);
		r.error = x->error;
		r.errmsg = x->errmsg;
		r.status = x->status;
		r.headers = x->hp.headers;
		r.nheaders = x->hp.nheaders;
		buf_add(&x->rbody, "", 0);	/* body is never NULL */
		r.body = x->rbody.data;
		r.body_len = x->rbody.len;
		r.reused = x->reused;
		if (x->started > 0) {
			r.total_s = x->finished - x->started;
			r.queue_s = x->started - x->submitted;
		} else
			r.queue_s = x->finished - x->submitted;
		if (x->cb != NULL)
			x->cb(&r, x->arg);
		http_xfer_free(x);
	}
	e->delivering--;
}

static void
http_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_engine	*e = arg;

	http_start_queued(e);
	http_deliver(e);
}

static void
http_kick(struct http_engine *e)
{
	struct timeval	 tv = { 0, 0 };

	if (!evtimer_pending(e->kick, NULL))
		evtimer_add(e->kick, &tv);
}

/* ---- requests ------------------------------------------------------- */

static int
http_is_tchar(int c)
{
	return isalnum((unsigned char)c) || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
http_is_token(const char *s, size_t len)
{
	size_t	 i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (!http_is_tchar((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static int
http_name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && strncasecmp(name, want, len) == 0;
}

/*
 * Build curl's header list from the caller's lines, so that curl sends
 * exactly those lines: an empty value is written "Name;" (curl's way of
 * sending "Name:"), and curl's own Accept, Expect and Content-Type are
 * removed unless given.
 */
static int
http_build_headers(struct http_xfer *x, const char *const *lines,
    char **cause)
{
	const char	*line, *colon, *v;
	size_t		 nlen, i;
	int		 has_ct = 0, has_expect = 0, has_accept = 0;
	char		*s;
	long long	 cl;

	for (i = 0; lines != NULL && (line = lines[i]) != NULL; i++) {
		if (strpbrk(line, "\r\n") != NULL) {
			*cause = xprintf("header %zu contains CR or LF", i + 1);
			return -1;
		}
		if ((colon = strchr(line, ':')) == NULL ||
		    !http_is_token(line, colon - line)) {
			*cause = xprintf("header %zu is not \"Name: value\"",
			    i + 1);
			return -1;
		}
		nlen = colon - line;
		v = colon + 1;
		v += strspn(v, " \t");
		if (http_name_is(line, nlen, "transfer-encoding")) {
			*cause = xstrdup("Transfer-Encoding is not supported");
			return -1;
		}
		if (http_name_is(line, nlen, "content-length")) {
			cl = strtoll(v, &s, 10);
			s += strspn(s, " \t");
			if (*v < '0' || *v > '9' || *s != '\0' || cl < 0 ||
			    (unsigned long long)cl != x->body_len) {
				*cause = xstrdup("Content-Length does not "
				    "match the body");
				return -1;
			}
		}
		has_ct |= http_name_is(line, nlen, "content-type");
		has_expect |= http_name_is(line, nlen, "expect");
		has_accept |= http_name_is(line, nlen, "accept");
		if (*v == '\0') {
			/* "Name:" would remove a header: curl sends "Name;"
			 * as "Name:" (whitespace-only values become empty) */
			s = xprintf("%.*s;", (int)nlen, line);
		} else
			s = xstrdup(line);
		x->hdrs = curl_slist_append(x->hdrs, s);
		freezero_str(s);
		if (x->hdrs == NULL)
			fatalx("curl_slist_append: out of memory");
	}
	if (!has_accept)
		x->hdrs = curl_slist_append(x->hdrs, "Accept:");
	if (!has_expect)
		x->hdrs = curl_slist_append(x->hdrs, "Expect:");
	if (!has_ct)
		x->hdrs = curl_slist_append(x->hdrs, "Content-Type:");
	if (x->hdrs == NULL)
		fatalx("curl_slist_append: out of memory");
	return 0;
}

static int
http_xfer_setup(struct http_xfer *x, const struct http_request *req,
    char **cause)
{
	struct http_engine	*e = x->engine;
	struct http_url		 u;
	const char		*m = req->method;
	char			*p;

	if (m == NULL || !http_is_token(m, strlen(m))) {
		*cause = xstrdup("missing or invalid method");
		return -1;
	}
	x->method = xstrdup(m);
	if (req->url == NULL) {
		*cause = xstrdup("missing URL");
		return -1;
	}
	x->url = xstrdup(req->url);
	if (e->last_url != NULL && strcmp(e->last_url, req->url) == 0) {
		x->hostkey = xstrdup(e->last_hostkey);
		x->logurl = xstrdup(e->last_logurl);
	} else {
		if (http_url_parse(req->url, &u, cause) != 0)
			return -1;
		x->hostkey = xprintf("%s:%s", u.host, u.port);
		for (p = x->hostkey; *p != '\0'; p++)
			*p = tolower((unsigned char)*p);
		x->logurl = xprintf("%s://%s%s%s%s", u.scheme, u.host,
		    u.default_port ? "" : ":", u.default_port ? "" : u.port,
		    u.path);
		http_url_clear(&u);
		free(e->last_url);
		free(e->last_hostkey);
		free(e->last_logurl);
		e->last_url = xstrdup(req->url);
		e->last_hostkey = xstrdup(x->hostkey);
		e->last_logurl = xstrdup(x->logurl);
	}

	if (req->body_len > 0 && req->body == NULL) {
		*cause = xstrdup("body_len without a body");
		return -1;
	}
	if (strcmp(m, "HEAD") == 0 && req->body_len > 0) {
		*cause = xstrdup("HEAD with a body");
		return -1;
	}
	x->send_body = req->body_len > 0 || strcmp(m, "POST") == 0 ||
	    strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
	x->body_len = req->body_len;
	x->body = xmalloc(req->body_len + 1);
	if (req->body_len > 0)
		memcpy(x->body, req->body, req->body_len);
	x->body[req->body_len] = '\0';

	if (req->connect_timeout_ms < 0 || req->timeout_ms < 0) {
		*cause = xstrdup("negative timeout");
		return -1;
	}
	x->connect_timeout_ms = req->connect_timeout_ms > 0 ?
	    req->connect_timeout_ms : e->opts.connect_timeout_ms;
	x->timeout_ms = req->timeout_ms > 0 ? req->timeout_ms :
	    e->opts.timeout_ms;
	x->max_body = e->opts.max_body;
	if (req->max_body > 0 && req->max_body < x->max_body)
		x->max_body = req->max_body;

	return http_build_headers(x, req->headers, cause);
}

struct http_xfer *
http_submit(struct http_engine *e, const struct http_request *req,
    http_done_cb cb, void *arg)
{
	struct http_xfer	*x;
	char			*cause = NULL, *msg;

	if (e == NULL)
		fatalx("http_submit: no engine");
	x = xcalloc(1, sizeof *x);
	x->engine = e;
	x->cb = cb;
	x->arg = arg;
	x->submitted = now_mono();
	buf_init_secure(&x->rbody);	/* bodies may hold credentials */

	if (req == NULL)
		cause = xstrdup("no request");
	else if (http_xfer_setup(x, req, &cause) == 0) {
		x->state = HTTP_QUEUED;
		x->seq = ++e->next_seq;
		x->host = http_host_get(e, x->hostkey);
		TAILQ_INSERT_TAIL(&x->host->queue, x, entry);
		e->stats.queued++;
	}
	if (cause != NULL) {
		/* reported through the callback, from the event loop */
		msg = xprintf("invalid request: %s", cause);
		log_debug("http: %s", msg);
		free(cause);
		http_xfer_fail(x, HTTP_ERR_OTHER, msg);
	}
	if (!e->freeing)
		http_kick(e);
	return x;
}

static void
http_xfer_free(struct http_xfer *x)
{
	struct curl_slist	*l;

	if (x == NULL)
		return;
	free(x->method);
	free(x->url);
	free(x->logurl);
	free(x->hostkey);
	/* header values include Authorization and security tokens */
	for (l = x->hdrs; l != NULL; l = l->next)
		explicit_bzero(l->data, strlen(l->data));
	curl_slist_free_all(x->hdrs);
	freezero(x->body, x->body_len + 1);
	free(x->errmsg);
	http_header_parser_clear(&x->hp);
	http_xfer_drop_body(x);
	free(x);
}

/* Take x out of whatever list or state it is in; not for DELIVERING. */
static void
http_xfer_unlink(struct http_xfer *x)
{
	struct http_engine	*e = x->engine;

	switch (x->state) {
	case HTTP_QUEUED:
		TAILQ_REMOVE(&x->host->queue, x, entry);
		e->stats.queued--;
		http_host_gc(x->host);
		x->host = NULL;
		break;
	case HTTP_ACTIVE:
		http_xfer_detach(x);
		break;
	case HTTP_DONE:
		TAILQ_REMOVE(&e->done, x, entry);
		/* it was counted as completed or failed: undo that */
		if (x->error == HTTP_OK)
			e->stats.completed--;
		else
			e->stats.failed--;
		break;
	case HTTP_DELIVERING:
		break;
	}
}

void
http_cancel(struct http_xfer *x)
{
	struct http_engine	*e;
	int			 was_active;

	if (x == NULL || x->state == HTTP_DELIVERING)
		return;
	e = x->engine;
	was_active = (x->state == HTTP_ACTIVE);
	log_debug("http: %s %s: cancelled", x->method ? x->method : "-",
	    x->logurl ? x->logurl : "-");
	http_xfer_unlink(x);
	e->stats.cancelled++;
	http_xfer_free(x);
	if (was_active && !e->freeing)
		http_kick(e);	/* a slot is free */
}

/* ---- the engine ----------------------------------------------------- */

struct http_engine *
http_engine_new(struct event_base *base, const struct http_engine_opts *o)
{
	struct http_engine	*e;

	if (base == NULL)
		fatalx("http_engine_new: no event base");
	http_global_init();

	e = xcalloc(1, sizeof *e);
	e->base = base;
	if (o != NULL)
		e->opts = *o;
	if (e->opts.max_total <= 0)
		e->opts.max_total = HTTP_DEFAULT_MAX_TOTAL;
	if (e->opts.max_per_host <= 0)
		e->opts.max_per_host = HTTP_DEFAULT_MAX_PER_HOST;
	if (e->opts.connect_timeout_ms <= 0)
		e->opts.connect_timeout_ms = HTTP_DEFAULT_CONNECT_MS;
	if (e->opts.timeout_ms <= 0)
		e->opts.timeout_ms = HTTP_DEFAULT_TIMEOUT_MS;
	if (e->opts.max_body == 0)
		e->opts.max_body = HTTP_MAX_BODY_DEFAULT;
	if (e->opts.max_buffered == 0)
		e->opts.max_buffered = HTTP_MAX_BUFFERED_DEFAULT;
	TAILQ_INIT(&e->active);
	TAILQ_INIT(&e->done);
	LIST_INIT(&e->hosts);
	LIST_INIT(&e->socks);

	e->idle = xcalloc(HTTP_IDLE_EASY_MAX, sizeof(*e->idle));
	if ((e->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	if ((e->timer = evtimer_new(base, http_timeout_cb, e)) == NULL ||
	    (e->kick = evtimer_new(base, http_kick_cb, e)) == NULL)
		fatalx("evtimer_new failed");
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
	/*
	 * Keep-alive: the multi handle's connection cache holds the idle
	 * connections for reuse.  Our queue enforces the bounds; curl's
	 * per-host limit agrees with it.
	 */
	curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	    (long)e->opts.max_per_host);
	curl_multi_setopt(e->multi, CURLMOPT_MAXCONNECTS,
	    (long)e->opts.max_total);
	return e;
}

void
http_engine_free(struct http_engine *e)
{
	struct http_xfer	*x;
	struct http_sock	*s;
	struct http_host	*h;
	struct http_response	 r;

	if (e == NULL)
		return;
	if (e->delivering)
		fatalx("http_engine_free called from a completion callback");
	e->freeing = 1;

	/*
	 * Cancel in order: done but not yet delivered (an invalid request
	 * submitted just before), active, queued.  Callbacks may submit
	 * more; those are queued and cancelled in turn.
	 */
	for (;;) {
		x = TAILQ_FIRST(&e->done);
		if (x == NULL)
			x = TAILQ_FIRST(&e->active);
		if (x == NULL && (h = LIST_FIRST(&e->hosts)) != NULL)
			x = TAILQ_FIRST(&h->queue);
		if (x == NULL)
			break;
		http_xfer_unlink(x);
		x->state = HTTP_DELIVERING;
		e->stats.cancelled++;
		memset(&r, 0, sizeof r);
		r.error = HTTP_ERR_CANCELLED;
		r.errmsg = "cancelled: the HTTP engine was freed";
		buf_add(&x->rbody, "", 0);
		r.body = x->rbody.data;
		r.queue_s = (x->started > 0 ? x->started : now_mono()) -
		    x->submitted;
		e->delivering++;
		if (x->cb != NULL)
			x->cb(&r, x->arg);
		e->delivering--;
		http_xfer_free(x);
	}

	while (e->nidle > 0)
		curl_easy_cleanup(e->idle[--e->nidle]);
	free(e->idle);
	free(e->last_url);
	free(e->last_hostkey);
	free(e->last_logurl);
	curl_multi_cleanup(e->multi);
	while ((s = LIST_FIRST(&e->socks)) != NULL) {
		LIST_REMOVE(s, entry);
		event_free(s->ev);
		free(s);
	}
	if (!LIST_EMPTY(&e->hosts))
		fatalx("http_engine_free: host accounting is wrong");
	event_free(e->timer);
	event_free(e->kick);
	free(e);
}
