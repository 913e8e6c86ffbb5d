/*
 * testsrv: a loopback HTTP/1.1 server for tests, in its own thread with
 * its own event_base.  See testsrv.h.
 *
 * One connection is a small state machine:
 *
 *   READ --complete request--> (handler) --> READ     (keep-alive)
 *                                       \--> WAIT     (delayed answer)
 *                                       \--> CLOSING  (flush, then close)
 *   WAIT --timer--> READ or CLOSING
 *
 * and is freed on EOF or error from the client, after CLOSING's flush, or
 * at once for a reset.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <jansson.h>

#include "buf.h"
#include "testsrv.h"
#include "util.h"
#include "xmalloc.h"

#define TS_MAX_HEAD	(64 * 1024)
#define TS_MAX_BODY	((size_t)64 * 1024 * 1024)
#define TS_URLS		16

enum ts_state {
	TS_READ,
	TS_WAIT,
	TS_CLOSING,
};

struct ts_route {
	TAILQ_ENTRY(ts_route)	 entry;
	char			*method;
	char			*path;
	int			 prefix;
	testsrv_handler		 fn;
	void			*arg;
};

struct ts_conn {
	LIST_ENTRY(ts_conn)	 entry;
	struct testsrv		*srv;
	struct bufferevent	*bev;
	enum ts_state		 state;
	unsigned long		 id;
	unsigned long		 seq;
	int			 sent100;
	int			 inflight;
	struct event		*delay;
	struct evbuffer		*pending;	/* the delayed answer */
	int			 pending_close;
	int			 pending_rst;
};

struct testsrv {
	struct event_base	*base;
	struct evconnlistener	*listener;
	struct event		*stop_ev;
	int			 stop_pipe[2];
	pthread_t		 thread;
	int			 port;
	LIST_HEAD(, ts_conn)	 conns;

	pthread_mutex_t		 lock;		/* below */
	TAILQ_HEAD(, ts_route)	 routes;
	struct testsrv_stats	 stats;
	unsigned long		 next_conn;
};

/* The request with its parsed header names and values. */
struct ts_req {
	struct testsrv_req	 pub;		/* first */
	char			**names;
	char			**values;
	int			 head_only;
	int			 keepalive;
};

struct testsrv_resp {
	int		 answered;
	int		 status;
	struct buf	 headers;
	struct buf	 out;		/* the bytes to send */
	int		 delay_ms;
	int		 close;
	int		 rst;
	int		 head_only;
	int		 keepalive;
};

static void	 ts_conn_free(struct ts_conn *);
static void	 ts_conn_process(struct ts_conn *);

/* ---- responses ------------------------------------------------------- */

static const char *
ts_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default:  return "Status";
	}
}

void
testsrv_resp_header(struct testsrv_resp *r, const char *line)
{
	buf_printf(&r->headers, "%s\r\n", line);
}

void
testsrv_resp_delay(struct testsrv_resp *r, int delay_ms)
{
	r->delay_ms = delay_ms > 0 ? delay_ms : 0;
}

void
testsrv_reply(struct testsrv_resp *r, int status, const char *content_type,
    const void *body, size_t len)
{
	if (r->answered)
		return;
	r->answered = 1;
	r->status = status;
	buf_printf(&r->out, "HTTP/1.1 %d %s\r\n", status, ts_reason(status));
	if (content_type != NULL)
		buf_printf(&r->out, "Content-Type: %s\r\n", content_type);
	buf_add(&r->out, r->headers.data, r->headers.len);
	buf_printf(&r->out, "Content-Length: %zu\r\n", len);
	if (!r->keepalive) {
		buf_addstr(&r->out, "Connection: close\r\n");
		r->close = 1;
	}
	buf_addstr(&r->out, "\r\n");
	if (!r->head_only && len > 0)
		buf_add(&r->out, body, len);
}

void
testsrv_reply_text(struct testsrv_resp *r, int status, const char *text)
{
	testsrv_reply(r, status, "text/plain", text, strlen(text));
}

void
testsrv_reply_raw(struct testsrv_resp *r, const void *p, size_t len,
    int close_after)
{
	if (r->answered)
		return;
	r->answered = 1;
	buf_add(&r->out, p, len);
	r->close = close_after;
}

void
testsrv_reply_close(struct testsrv_resp *r, int rst)
{
	if (r->answered)
		return;
	r->answered = 1;
	r->close = 1;
	r->rst = rst;
}

const char *
testsrv_req_header(const struct testsrv_req *pub, const char *name)
{
	const struct ts_req	*q = (const struct ts_req *)pub;
	size_t			 i;

	for (i = 0; i < pub->nheaders; i++) {
		if (strcasecmp(q->names[i], name) == 0)
			return q->values[i];
	}
	return NULL;
}

/* ---- built-in routes -------------------------------------------------- */

static json_t *
ts_json_text(const char *p, size_t len)
{
	json_t	*j;

	if ((j = json_stringn(p, len)) == NULL)
		j = json_null();	/* not UTF-8 */
	return j;
}

/* The value of name=N in a query, or 0. */
static int
ts_query_int(const char *query, const char *name)
{
	const char	*p = query;
	size_t		 len = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, name, len) == 0 && p[len] == '=')
			return atoi(p + len + 1);
		if ((p = strchr(p, '&')) != NULL)
			p++;
	}
	return 0;
}

static void
ts_echo(const struct testsrv_req *q, struct testsrv_resp *r)
{
	json_t	*o, *h;
	size_t	 i;
	char	*s, *hex, sha[65];

	o = json_object();
	json_object_set_new(o, "method", json_string(q->method));
	json_object_set_new(o, "target", ts_json_text(q->target,
	    strlen(q->target)));
	h = json_array();
	for (i = 0; i < q->nheaders; i++)
		json_array_append_new(h, ts_json_text(q->headers[i],
		    strlen(q->headers[i])));
	json_object_set_new(o, "headers", h);
	json_object_set_new(o, "body", ts_json_text(q->body, q->body_len));
	hex = xmalloc(2 * q->body_len + 1);
	hex_encode((const uint8_t *)q->body, q->body_len, hex);
	json_object_set_new(o, "body_hex", json_string(hex));
	free(hex);
	json_object_set_new(o, "body_len", json_integer(q->body_len));
	sha256_hex(q->body, q->body_len, sha);
	json_object_set_new(o, "body_sha256", json_string(sha));
	json_object_set_new(o, "conn", json_integer(q->conn));
	json_object_set_new(o, "seq", json_integer(q->seq));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	testsrv_resp_delay(r, ts_query_int(q->query, "delay"));
	testsrv_reply(r, 200, "application/json", s, strlen(s));
	free(s);
}

static long
ts_number(const char *path, const char *prefix)
{
	const char	*p = path + strlen(prefix);
	char		*end;
	long		 n;

	n = strtol(p, &end, 10);
	if (end == p || *end != '\0' || n < 0)
		return -1;
	return n;
}

static void
ts_builtin(const struct testsrv_req *q, struct testsrv_resp *r)
{
	const char	*p = q->path;
	long		 n, i;
	char		*body;
	struct buf	 b;

	if (strncmp(p, "/echo", 5) == 0)
		ts_echo(q, r);
	else if (strncmp(p, "/raw", 4) == 0)
		testsrv_reply(r, 200, "application/octet-stream", q->raw,
		    q->raw_len);
	else if (strncmp(p, "/delay/", 7) == 0 &&
	    (n = ts_number(p, "/delay/")) >= 0) {
		body = xprintf("delayed %ld\n", n);
		testsrv_resp_delay(r, (int)n);
		testsrv_reply_text(r, 200, body);
		free(body);
	} else if (strncmp(p, "/status/", 8) == 0 &&
	    (n = ts_number(p, "/status/")) >= 100 && n <= 999) {
		body = xprintf("status %ld\n", n);
		testsrv_reply_text(r, (int)n, body);
		free(body);
	} else if ((strncmp(p, "/bytes/", 7) == 0 &&
	    (n = ts_number(p, "/bytes/")) >= 0 && n <= 256L << 20) ||
	    (strncmp(p, "/stream/", 8) == 0 &&
	    (n = ts_number(p, "/stream/")) >= 0 && n <= 256L << 20)) {
		body = xmalloc(n + 1);
		for (i = 0; i < n; i++)
			body[i] = 'a' + i % 26;
		if (p[1] == 'b')
			testsrv_reply(r, 200, "application/octet-stream",
			    body, n);
		else {
			buf_init(&b);
			buf_addstr(&b, "HTTP/1.1 200 OK\r\n"
			    "Connection: close\r\n\r\n");
			buf_add(&b, body, n);
			testsrv_reply_raw(r, b.data, b.len, 1);
			buf_free(&b);
		}
		free(body);
	} else if (strcmp(p, "/close") == 0)
		testsrv_reply_close(r, 0);
	else if (strcmp(p, "/reset") == 0)
		testsrv_reply_close(r, 1);
	else if (strcmp(p, "/truncate") == 0) {
		buf_init(&b);
		buf_addstr(&b, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n"
		    "Content-Type: text/plain\r\n\r\n");
		for (i = 0; i < 50; i++)
			buf_addch(&b, 'x');
		testsrv_reply_raw(r, b.data, b.len, 1);
		buf_free(&b);
	} else if (strcmp(p, "/garbage") == 0) {
		body = "this is not HTTP at all\r\n\r\n";
		testsrv_reply_raw(r, body, strlen(body), 1);
	} else
		testsrv_reply_text(r, 404, "not found\n");
}

/* ---- connections ------------------------------------------------------ */

static void
ts_stats_lock(struct testsrv *srv)
{
	pthread_mutex_lock(&srv->lock);
}

static void
ts_stats_unlock(struct testsrv *srv)
{
	pthread_mutex_unlock(&srv->lock);
}

static void
ts_inflight(struct ts_conn *c, int up)
{
	struct testsrv	*srv = c->srv;

	if (up == c->inflight)
		return;
	c->inflight = up;
	ts_stats_lock(srv);
	if (up) {
		srv->stats.requests++;
		if (++srv->stats.inflight > srv->stats.max_inflight)
			srv->stats.max_inflight = srv->stats.inflight;
	} else
		srv->stats.inflight--;
	ts_stats_unlock(srv);
}

static void
ts_conn_free(struct ts_conn *c)
{
	struct testsrv	*srv = c->srv;

	ts_inflight(c, 0);
	ts_stats_lock(srv);
	srv->stats.open--;
	ts_stats_unlock(srv);
	LIST_REMOVE(c, entry);
	if (c->delay != NULL)
		event_free(c->delay);
	if (c->pending != NULL)
		evbuffer_free(c->pending);
	bufferevent_free(c->bev);
	free(c);
}

static void
ts_conn_reset(struct ts_conn *c)
{
	struct linger	 l = { 1, 0 };

	setsockopt(bufferevent_getfd(c->bev), SOL_SOCKET, SO_LINGER, &l,
	    sizeof l);
	ts_conn_free(c);
}

/* Send the pending answer; returns -1 if the connection is gone. */
static int
ts_conn_send(struct ts_conn *c)
{
	struct evbuffer	*out = bufferevent_get_output(c->bev);

	ts_inflight(c, 0);
	if (c->pending_rst) {
		ts_conn_reset(c);
		return -1;
	}
	evbuffer_add_buffer(out, c->pending);
	if (c->pending_close) {
		c->state = TS_CLOSING;
		bufferevent_disable(c->bev, EV_READ);
		if (evbuffer_get_length(out) == 0) {
			ts_conn_free(c);
			return -1;
		}
		return 0;	/* the write callback closes */
	}
	c->state = TS_READ;
	return 0;
}

static void
ts_delay_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ts_conn	*c = arg;

	if (ts_conn_send(c) == 0 && c->state == TS_READ)
		ts_conn_process(c);
}

static char *
ts_trim(const char *p, size_t len)
{
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
		len--;
	return xstrndup(p, len);
}

static testsrv_handler
ts_find_route(struct testsrv *srv, const char *method, const char *path,
    void **arg)
{
	struct ts_route	*rt;
	testsrv_handler	 fn = NULL;

	ts_stats_lock(srv);
	TAILQ_FOREACH(rt, &srv->routes, entry) {
		if (rt->method != NULL && strcmp(rt->method, method) != 0)
			continue;
		if (rt->prefix ? strncmp(path, rt->path, strlen(rt->path)) != 0 :
		    strcmp(path, rt->path) != 0)
			continue;
		fn = rt->fn;
		*arg = rt->arg;
		break;
	}
	ts_stats_unlock(srv);
	return fn;
}

/*
 * One complete request in raw[0 .. headlen + bodylen): call the handler
 * and send (or schedule) its answer.  -1 if the connection is gone.
 */
static int
ts_dispatch(struct ts_conn *c, char *raw, size_t headlen, size_t bodylen,
    int keepalive)
{
	struct ts_req		 q;
	struct testsrv_resp	 r;
	char			*head, *line, *next, *sp1, *sp2, *qm, *colon;
	char			*path;
	char			**lines = NULL;
	size_t			 n = 0, i;
	testsrv_handler		 fn;
	void			*arg = NULL;
	int			 ret;

	memset(&q, 0, sizeof q);
	memset(&r, 0, sizeof r);
	head = xstrndup(raw, headlen - 4);

	/* request line (already checked by the caller) */
	line = head;
	next = strstr(line, "\r\n");
	if (next != NULL) {
		*next = '\0';
		next += 2;
	}
	sp1 = strchr(line, ' ');
	*sp1 = '\0';
	sp2 = strchr(sp1 + 1, ' ');
	*sp2 = '\0';
	q.pub.method = line;
	q.pub.target = sp1 + 1;
	q.pub.path = path = xstrdup(q.pub.target);
	if ((qm = strchr(path, '?')) != NULL) {
		*qm = '\0';
		q.pub.query = qm + 1;
	} else
		q.pub.query = "";

	for (line = next; line != NULL && *line != '\0'; line = next) {
		next = strstr(line, "\r\n");
		if (next != NULL) {
			*next = '\0';
			next += 2;
		}
		lines = xreallocarray(lines, n + 2, sizeof *lines);
		lines[n++] = line;
		lines[n] = NULL;
	}
	q.pub.headers = (const char *const *)lines;
	q.pub.nheaders = n;
	q.names = xcalloc(n + 1, sizeof *q.names);
	q.values = xcalloc(n + 1, sizeof *q.values);
	for (i = 0; i < n; i++) {
		colon = strchr(lines[i], ':');
		if (colon == NULL) {
			q.names[i] = xstrdup(lines[i]);
			q.values[i] = xstrdup("");
		} else {
			q.names[i] = ts_trim(lines[i], colon - lines[i]);
			q.values[i] = ts_trim(colon + 1, strlen(colon + 1));
		}
	}
	q.pub.body = raw + headlen;
	q.pub.body_len = bodylen;
	q.pub.raw = raw;
	q.pub.raw_len = headlen + bodylen;
	q.pub.conn = c->id;
	q.pub.seq = ++c->seq;

	r.keepalive = keepalive;
	r.head_only = strcmp(q.pub.method, "HEAD") == 0;
	buf_init(&r.headers);
	buf_init(&r.out);

	ts_inflight(c, 1);
	if ((fn = ts_find_route(c->srv, q.pub.method, q.pub.path, &arg)) !=
	    NULL)
		fn(&q.pub, &r, arg);
	else
		ts_builtin(&q.pub, &r);
	if (!r.answered)
		testsrv_reply_text(&r, 500, "handler did not answer\n");
	if (!keepalive)
		r.close = 1;

	c->pending_close = r.close;
	c->pending_rst = r.rst;
	evbuffer_drain(c->pending, evbuffer_get_length(c->pending));
	evbuffer_add(c->pending, r.out.data, r.out.len);
	if (r.delay_ms > 0) {
		struct timeval	 tv;

		tv.tv_sec = r.delay_ms / 1000;
		tv.tv_usec = (r.delay_ms % 1000) * 1000;
		c->state = TS_WAIT;
		evtimer_add(c->delay, &tv);
		ret = 0;
	} else
		ret = ts_conn_send(c);

	buf_free(&r.headers);
	buf_free(&r.out);
	for (i = 0; i < n; i++) {
		free(q.names[i]);
		free(q.values[i]);
	}
	free(q.names);
	free(q.values);
	free(path);
	free(lines);
	free(head);
	return ret;
}

/* Answer an unparseable request and close. */
static void
ts_conn_error(struct ts_conn *c, int status)
{
	char	*s;

	s = xprintf("HTTP/1.1 %d %s\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n", status, ts_reason(status));
	evbuffer_add(c->pending, s, strlen(s));
	free(s);
	c->pending_close = 1;
	c->pending_rst = 0;
	ts_conn_send(c);
}

/* Header value of name in the head (NUL-terminated), or NULL. */
static char *
ts_head_header(const char *head, const char *name)
{
	const char	*p = strstr(head, "\r\n"), *eol, *colon;
	size_t		 nlen = strlen(name);

	while (p != NULL && p[2] != '\0' && p[2] != '\r') {
		p += 2;
		eol = strstr(p, "\r\n");
		colon = strchr(p, ':');
		if (colon != NULL && (eol == NULL || colon < eol) &&
		    (size_t)(colon - p) == nlen && strncasecmp(p, name, nlen) == 0)
			return ts_trim(colon + 1, (eol ? eol : p + strlen(p)) -
			    (colon + 1));
		p = eol;
	}
	return NULL;
}

static void
ts_conn_process(struct ts_conn *c)
{
	struct evbuffer		*in;
	struct evbuffer_ptr	 end;
	size_t			 headlen, bodylen;
	char			*head, *raw, *v, *sp1, *sp2, *eol, *endp;
	int			 keepalive, expect;
	long long		 cl;

	while (c->state == TS_READ) {
		in = bufferevent_get_input(c->bev);
		end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
		if (end.pos < 0) {
			if (evbuffer_get_length(in) > TS_MAX_HEAD)
				ts_conn_error(c, 431);
			return;
		}
		headlen = end.pos + 4;
		if (headlen > TS_MAX_HEAD) {
			ts_conn_error(c, 431);
			return;
		}
		head = xmalloc(headlen + 1);
		evbuffer_copyout(in, head, headlen);
		head[headlen] = '\0';

		eol = strstr(head, "\r\n");
		*eol = '\0';
		sp1 = strchr(head, ' ');
		sp2 = sp1 != NULL ? strchr(sp1 + 1, ' ') : NULL;
		if (sp1 == NULL || sp2 == NULL || sp1 == head ||
		    sp2 == sp1 + 1 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
			free(head);
			ts_conn_error(c, 400);
			return;
		}
		keepalive = strcmp(sp2 + 1, "HTTP/1.1") == 0;
		*eol = '\r';

		if ((v = ts_head_header(head, "Transfer-Encoding")) != NULL) {
			free(v);
			free(head);
			ts_conn_error(c, 501);
			return;
		}
		cl = 0;
		if ((v = ts_head_header(head, "Content-Length")) != NULL) {
			cl = strtoll(v, &endp, 10);
			if (*v == '\0' || *endp != '\0' || cl < 0) {
				free(v);
				free(head);
				ts_conn_error(c, 400);
				return;
			}
			free(v);
		}
		if ((size_t)cl > TS_MAX_BODY) {
			free(head);
			ts_conn_error(c, 413);
			return;
		}
		bodylen = cl;
		if ((v = ts_head_header(head, "Connection")) != NULL) {
			if (strcasecmp(v, "close") == 0)
				keepalive = 0;
			else if (strcasecmp(v, "keep-alive") == 0)
				keepalive = 1;
			free(v);
		}
		expect = 0;
		if ((v = ts_head_header(head, "Expect")) != NULL) {
			expect = strcasecmp(v, "100-continue") == 0;
			free(v);
		}
		free(head);

		if (evbuffer_get_length(in) < headlen + bodylen) {
			if (expect && !c->sent100) {
				c->sent100 = 1;
				evbuffer_add_printf(bufferevent_get_output(
				    c->bev), "HTTP/1.1 100 Continue\r\n\r\n");
			}
			return;
		}
		c->sent100 = 0;
		raw = xmalloc(headlen + bodylen + 1);
		evbuffer_remove(in, raw, headlen + bodylen);
		raw[headlen + bodylen] = '\0';
		if (ts_dispatch(c, raw, headlen, bodylen, keepalive) != 0) {
			free(raw);
			return;		/* gone */
		}
		free(raw);
	}
}

static void
ts_read_cb(struct bufferevent *bev, void *arg)
{
	ts_conn_process(arg);
}

static void
ts_write_cb(struct bufferevent *bev, void *arg)
{
	struct ts_conn	*c = arg;

	if (c->state == TS_CLOSING &&
	    evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		ts_conn_free(c);
}

static void
ts_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct ts_conn	*c = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		ts_conn_free(c);
}

static void
ts_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct testsrv	*srv = arg;
	struct ts_conn	*c;

	c = xcalloc(1, sizeof *c);
	c->srv = srv;
	c->state = TS_READ;
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->pending = evbuffer_new();
	c->delay = evtimer_new(srv->base, ts_delay_cb, c);
	if (c->bev == NULL || c->pending == NULL || c->delay == NULL) {
		fprintf(stderr, "testsrv: out of memory\n");
		abort();
	}
	ts_stats_lock(srv);
	c->id = ++srv->next_conn;
	srv->stats.connections++;
	if (++srv->stats.open > srv->stats.max_open)
		srv->stats.max_open = srv->stats.open;
	ts_stats_unlock(srv);
	LIST_INSERT_HEAD(&srv->conns, c, entry);
	bufferevent_setcb(c->bev, ts_read_cb, ts_write_cb, ts_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- the server ------------------------------------------------------- */

static void
ts_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct testsrv	*srv = arg;

	event_base_loopbreak(srv->base);
}

static void *
ts_thread(void *arg)
{
	struct testsrv	*srv = arg;

	event_base_dispatch(srv->base);
	return NULL;
}

struct testsrv *
testsrv_start_at(const char *addr, int port)
{
	struct testsrv		*srv;
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 saved;

	signal(SIGPIPE, SIG_IGN);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
		errno = EINVAL;
		return NULL;
	}

	srv = xcalloc(1, sizeof *srv);
	pthread_mutex_init(&srv->lock, NULL);
	TAILQ_INIT(&srv->routes);
	LIST_INIT(&srv->conns);
	srv->stop_pipe[0] = srv->stop_pipe[1] = -1;
	if ((srv->base = event_base_new()) == NULL)
		goto fail;
	srv->listener = evconnlistener_new_bind(srv->base, ts_accept_cb, srv,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
	    (struct sockaddr *)&sin, sizeof sin);
	if (srv->listener == NULL)
		goto fail;
	if (getsockname(evconnlistener_get_fd(srv->listener),
	    (struct sockaddr *)&sin, &len) != 0)
		goto fail;
	srv->port = ntohs(sin.sin_port);
	if (pipe(srv->stop_pipe) != 0)
		goto fail;
	srv->stop_ev = event_new(srv->base, srv->stop_pipe[0], EV_READ,
	    ts_stop_cb, srv);
	if (srv->stop_ev == NULL || event_add(srv->stop_ev, NULL) != 0)
		goto fail;
	if ((errno = pthread_create(&srv->thread, NULL, ts_thread, srv)) != 0)
		goto fail;
	return srv;

fail:
	saved = errno;
	if (srv->stop_ev != NULL)
		event_free(srv->stop_ev);
	if (srv->stop_pipe[0] != -1) {
		close(srv->stop_pipe[0]);
		close(srv->stop_pipe[1]);
	}
	if (srv->listener != NULL)
		evconnlistener_free(srv->listener);
	if (srv->base != NULL)
		event_base_free(srv->base);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	errno = saved;
	return NULL;
}

struct testsrv *
testsrv_start(void)
{
	struct testsrv	*srv;

	if ((srv = testsrv_start_at("127.0.0.1", 0)) == NULL) {
		fprintf(stderr, "testsrv: cannot start: %s\n", strerror(errno));
		abort();
	}
	return srv;
}

void
testsrv_free(struct testsrv *srv)
{
	struct ts_route	*rt;
	char		 ch = 0;

	if (srv == NULL)
		return;
	while (write(srv->stop_pipe[1], &ch, 1) == -1 && errno == EINTR)
		;
	pthread_join(srv->thread, NULL);
	while (!LIST_EMPTY(&srv->conns))
		ts_conn_free(LIST_FIRST(&srv->conns));
	while ((rt = TAILQ_FIRST(&srv->routes)) != NULL) {
		TAILQ_REMOVE(&srv->routes, rt, entry);
		free(rt->method);
		free(rt->path);
		free(rt);
	}
	event_free(srv->stop_ev);
	close(srv->stop_pipe[0]);
	close(srv->stop_pipe[1]);
	evconnlistener_free(srv->listener);
	event_base_free(srv->base);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}

int
testsrv_port(const struct testsrv *srv)
{
	return srv->port;
}

const char *
testsrv_url(struct testsrv *srv, const char *path)
{
	static __thread char	 urls[TS_URLS][1024];
	static __thread int	 next;
	char			*u = urls[next++ % TS_URLS];

	snprintf(u, sizeof urls[0], "http://127.0.0.1:%d%s", srv->port,
	    path != NULL ? path : "");
	return u;
}

void
testsrv_route(struct testsrv *srv, const char *method, const char *path,
    testsrv_handler fn, void *arg)
{
	struct ts_route	*rt;
	size_t		 len = strlen(path);

	rt = xcalloc(1, sizeof *rt);
	rt->method = xstrdup_or_null(method);
	rt->prefix = len > 0 && path[len - 1] == '*';
	rt->path = xstrndup(path, rt->prefix ? len - 1 : len);
	rt->fn = fn;
	rt->arg = arg;
	ts_stats_lock(srv);
	TAILQ_INSERT_TAIL(&srv->routes, rt, entry);
	ts_stats_unlock(srv);
}

void
testsrv_stats(struct testsrv *srv, struct testsrv_stats *st)
{
	ts_stats_lock(srv);
	*st = srv->stats;
	ts_stats_unlock(srv);
}

void
testsrv_reset_stats(struct testsrv *srv)
{
	ts_stats_lock(srv);
	srv->stats.connections = 0;
	srv->stats.requests = 0;
	srv->stats.max_open = srv->stats.open;
	srv->stats.max_inflight = srv->stats.inflight;
	ts_stats_unlock(srv);
}
