/*
 * The HTTP engine against a real HTTP/1.1 server on 127.0.0.1 (testsrv,
 * in its own thread): throughput and bounds, keep-alive, timeouts, refused
 * and broken connections, byte-exact requests, callbacks, cancellation,
 * engine teardown, and the redacted verbose trace.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <jansson.h>

#include "buf.h"
#include "cloudsaga_limits.h"
#include "http.h"
#include "log.h"
#include "testsrv.h"
#include "util.h"
#include "xmalloc.h"

/* ---- harness ---------------------------------------------------------- */

struct result {
	int		 calls;
	enum http_error	 error;
	char		*errmsg;
	long		 status;
	char		*body;
	size_t		 body_len;
	int		 reused;
	double		 total_s;
	double		 at;		/* when the callback ran */
	json_t		*json;		/* body parsed, if it is JSON */
	char		*hdr_final, *hdr_folded, *hdr_ctype, *hdr_clen;
	size_t		 nheaders;
};

static struct event_base	*base;
static int			 pending;
static int			 in_submit;
static int			 callback_in_submit;

static void
result_clear(struct result *r)
{
	free(r->errmsg);
	free(r->body);
	free(r->hdr_final);
	free(r->hdr_folded);
	free(r->hdr_ctype);
	free(r->hdr_clen);
	json_decref(r->json);
	memset(r, 0, sizeof *r);
}

static void
store_cb(const struct http_response *resp, void *arg)
{
	struct result	*r = arg;

	if (in_submit)
		callback_in_submit++;
	r->calls++;
	r->error = resp->error;
	free(r->errmsg);
	r->errmsg = xstrdup_or_null(resp->errmsg);
	r->status = resp->status;
	free(r->body);
	r->body = xmalloc(resp->body_len + 1);
	memcpy(r->body, resp->body, resp->body_len + 1);
	r->body_len = resp->body_len;
	r->reused = resp->reused;
	r->total_s = resp->total_s;
	r->at = now_mono();
	r->nheaders = resp->nheaders;
	r->hdr_final = xstrdup_or_null(http_response_header(resp, "x-final"));
	r->hdr_folded = xstrdup_or_null(http_response_header(resp,
	    "X-FOLDED"));
	r->hdr_ctype = xstrdup_or_null(http_response_header(resp,
	    "Content-Type"));
	r->hdr_clen = xstrdup_or_null(http_response_header(resp,
	    "content-length"));
	json_decref(r->json);
	r->json = json_loadb(resp->body, resp->body_len, 0, NULL);
	pending--;
}

static struct http_xfer *
submit(struct http_engine *eng, const struct http_request *req,
    struct result *r)
{
	struct http_xfer	*x;

	pending++;
	in_submit = 1;
	x = http_submit(eng, req, store_cb, r);
	in_submit = 0;
	assert_non_null(x);
	return x;
}

static struct http_xfer *
get(struct http_engine *eng, const char *url, struct result *r)
{
	struct http_request	 req = { .method = "GET", .url = url };

	return submit(eng, &req, r);
}

static void
guard_cb(evutil_socket_t fd, short what, void *arg)
{
	*(int *)arg = 1;
}

/* Run the loop until nothing is pending; fail after max_s seconds. */
static void
run(double max_s)
{
	struct event	*guard;
	struct timeval	 tv;
	int		 expired = 0;

	guard = evtimer_new(base, guard_cb, &expired);
	tv.tv_sec = (time_t)max_s;
	tv.tv_usec = (suseconds_t)((max_s - (time_t)max_s) * 1e6);
	evtimer_add(guard, &tv);
	while (pending > 0 && !expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(guard);
	if (expired)
		fail_msg("%d transfers still pending after %.1fs", pending,
		    max_s);
	assert_int_equal(callback_in_submit, 0);
}

/* Run the loop for s seconds whatever happens. */
static void
run_for(double s)
{
	struct event	*guard;
	struct timeval	 tv;
	int		 expired = 0;

	guard = evtimer_new(base, guard_cb, &expired);
	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (time_t)s) * 1e6);
	evtimer_add(guard, &tv);
	while (!expired)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(guard);
}

static struct http_engine *
engine(int max_total, int max_per_host)
{
	struct http_engine_opts	 o = { .max_total = max_total,
				    .max_per_host = max_per_host };

	return http_engine_new(base, &o);
}

static int
setup(void **state)
{
	base = event_base_new();
	pending = 0;
	in_submit = 0;
	callback_in_submit = 0;
	return base == NULL;
}

static int
teardown(void **state)
{
	event_base_free(base);
	base = NULL;
	return 0;
}

/* A port with nothing listening on it. */
static int
closed_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* ---- throughput, bounds, reuse --------------------------------------- */

#define NREQ	1000

static void
test_thousand_at_64(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(64, 64);
	struct result		*res = xcalloc(NREQ, sizeof *res);
	char			*urls[NREQ], *bodies[NREQ];
	struct http_request	 req;
	struct http_stats	 st;
	struct testsrv_stats	 ss;
	const char *const	 hdrs[] = { "Content-Type: text/plain", NULL };
	int			 i, reused = 0;
	char			 path[64];

	for (i = 0; i < NREQ; i++) {
		snprintf(path, sizeof path, "/echo?i=%d&delay=2", i);
		urls[i] = xstrdup(testsrv_url(srv, path));
		bodies[i] = xprintf("request number %d", i);
		memset(&req, 0, sizeof req);
		req.method = "POST";
		req.url = urls[i];
		req.headers = hdrs;
		req.body = bodies[i];
		req.body_len = strlen(bodies[i]);
		submit(eng, &req, &res[i]);
	}
	http_engine_stats(eng, &st);
	assert_int_equal(st.queued, NREQ);	/* nothing starts in submit */
	assert_int_equal(st.active, 0);
	run(15);

	for (i = 0; i < NREQ; i++) {
		snprintf(path, sizeof path, "/echo?i=%d&delay=2", i);
		assert_int_equal(res[i].calls, 1);
		assert_int_equal(res[i].error, HTTP_OK);
		assert_int_equal(res[i].status, 200);
		assert_non_null(res[i].json);
		assert_string_equal(json_string_value(json_object_get(
		    res[i].json, "target")), path);
		assert_string_equal(json_string_value(json_object_get(
		    res[i].json, "body")), bodies[i]);
		assert_string_equal(json_string_value(json_object_get(
		    res[i].json, "method")), "POST");
		reused += res[i].reused;
		result_clear(&res[i]);
		free(urls[i]);
		free(bodies[i]);
	}
	http_engine_stats(eng, &st);
	testsrv_stats(srv, &ss);
	print_message("1000 requests: %lu connections, max active %d, "
	    "server max in flight %d, %d reused\n", ss.connections,
	    st.max_active_seen, ss.max_inflight, reused);
	assert_int_equal(st.completed, NREQ);
	assert_int_equal(st.failed, 0);
	assert_int_equal(st.started, NREQ);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.queued, 0);
	assert_true(st.max_active_seen <= 64);
	assert_int_equal(st.max_active_seen, 64);	/* the bound was used */
	assert_true(ss.max_inflight <= 64);
	assert_true(ss.max_inflight >= 32);	/* it really was concurrent */
	assert_int_equal(ss.requests, NREQ);
	/* keep-alive: connections are reused, not one per request */
	assert_true(ss.connections <= 64);
	assert_int_equal(st.connects, ss.connections);
	assert_int_equal(reused, NREQ - (int)ss.connections);

	free(res);
	http_engine_free(eng);
	testsrv_free(srv);
}

static void
test_per_host_bound(void **state)
{
	struct testsrv		*a = testsrv_start(), *b = testsrv_start();
	struct http_engine	*eng = engine(64, 4);
	struct result		 ra[20], rb[20];
	struct http_stats	 st;
	struct testsrv_stats	 sa, sb;
	double			 t0;
	int			 i;

	memset(ra, 0, sizeof ra);
	memset(rb, 0, sizeof rb);
	t0 = now_mono();
	for (i = 0; i < 20; i++) {
		get(eng, testsrv_url(a, "/delay/100"), &ra[i]);
		get(eng, testsrv_url(b, "/delay/100"), &rb[i]);
	}
	run(10);
	for (i = 0; i < 20; i++) {
		assert_int_equal(ra[i].error, HTTP_OK);
		assert_int_equal(rb[i].error, HTTP_OK);
		assert_string_equal(ra[i].body, "delayed 100\n");
		result_clear(&ra[i]);
		result_clear(&rb[i]);
	}
	http_engine_stats(eng, &st);
	testsrv_stats(a, &sa);
	testsrv_stats(b, &sb);
	print_message("per host 4: in flight %d and %d, connections %lu and "
	    "%lu, engine max active %d, %.2fs\n", sa.max_inflight,
	    sb.max_inflight, sa.connections, sb.connections,
	    st.max_active_seen, now_mono() - t0);
	assert_int_equal(sa.max_inflight, 4);
	assert_int_equal(sb.max_inflight, 4);
	assert_true(sa.connections <= 4);
	assert_true(sb.connections <= 4);
	assert_int_equal(st.max_active_seen, 8);	/* both hosts at once */
	assert_true(now_mono() - t0 >= 0.45);		/* 5 rounds of 100ms */

	http_engine_free(eng);
	testsrv_free(a);
	testsrv_free(b);
}

static void
test_global_bound(void **state)
{
	struct testsrv		*a = testsrv_start(), *b = testsrv_start();
	struct http_engine	*eng = engine(3, 16);
	struct result		 r[20];
	struct http_stats	 st;
	struct testsrv_stats	 sa, sb;
	int			 i;

	memset(r, 0, sizeof r);
	for (i = 0; i < 20; i++)
		get(eng, testsrv_url(i % 2 ? a : b, "/delay/30"), &r[i]);
	run(10);
	for (i = 0; i < 20; i++) {
		assert_int_equal(r[i].error, HTTP_OK);
		result_clear(&r[i]);
	}
	http_engine_stats(eng, &st);
	testsrv_stats(a, &sa);
	testsrv_stats(b, &sb);
	assert_int_equal(st.max_active_seen, 3);
	assert_true(sa.max_inflight <= 3 && sb.max_inflight <= 3);
	assert_true(sa.max_inflight + sb.max_inflight >= 3);
	http_engine_free(eng);
	testsrv_free(a);
	testsrv_free(b);
}

static void
test_keepalive_reuse(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(0, 0);
	struct result		 r;
	struct http_stats	 st;
	struct testsrv_stats	 ss;
	int			 i;

	memset(&r, 0, sizeof r);
	for (i = 0; i < 5; i++) {
		get(eng, testsrv_url(srv, "/echo"), &r);
		run(5);
		assert_int_equal(r.error, HTTP_OK);
		assert_int_equal(r.reused, i > 0);
		assert_int_equal(json_integer_value(json_object_get(r.json,
		    "seq")), i + 1);
		result_clear(&r);
	}
	/* HEAD: headers only, and the connection stays usable */
	{
		struct http_request req = { .method = "HEAD",
		    .url = testsrv_url(srv, "/bytes/123") };

		submit(eng, &req, &r);
		run(5);
		assert_int_equal(r.error, HTTP_OK);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body_len, 0);
		assert_string_equal(r.body, "");
		assert_string_equal(r.hdr_clen, "123");
		assert_int_equal(r.reused, 1);
		result_clear(&r);
	}
	get(eng, testsrv_url(srv, "/bytes/10"), &r);
	run(5);
	assert_string_equal(r.body, "abcdefghij");
	assert_int_equal(r.reused, 1);
	result_clear(&r);

	http_engine_stats(eng, &st);
	testsrv_stats(srv, &ss);
	assert_int_equal(ss.connections, 1);
	assert_int_equal(st.connects, 1);
	http_engine_free(eng);
	testsrv_free(srv);
}

/* ---- failures ---------------------------------------------------------- */

static void
test_total_timeout(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(0, 0);
	struct http_engine_opts	 o = { .timeout_ms = 300 };
	struct http_engine	*eng2;
	struct http_request	 req = { .method = "GET",
				    .url = testsrv_url(srv, "/delay/2000"),
				    .timeout_ms = 300 };
	struct result		 r;
	double			 t0, dt;

	memset(&r, 0, sizeof r);
	t0 = now_mono();
	submit(eng, &req, &r);
	run(5);
	dt = now_mono() - t0;
	print_message("timeout after %.3fs: %s\n", dt, r.errmsg);
	assert_int_equal(r.error, HTTP_ERR_TIMEOUT);
	assert_int_equal(r.status, 0);
	assert_non_null(r.errmsg);
	assert_true(dt >= 0.25 && dt < 1.0);
	result_clear(&r);

	/* the engine's default applies when the request has none */
	eng2 = http_engine_new(base, &o);
	t0 = now_mono();
	get(eng2, testsrv_url(srv, "/delay/2000"), &r);
	run(5);
	dt = now_mono() - t0;
	assert_int_equal(r.error, HTTP_ERR_TIMEOUT);
	assert_true(dt >= 0.25 && dt < 1.0);
	result_clear(&r);

	/* and the engine is fine afterwards */
	get(eng, testsrv_url(srv, "/status/204"), &r);
	run(5);
	assert_int_equal(r.error, HTTP_OK);
	assert_int_equal(r.status, 204);
	result_clear(&r);
	http_engine_free(eng);
	http_engine_free(eng2);
	testsrv_free(srv);
}

static void
test_connect_timeout(void **state)
{
	struct http_engine	*eng = engine(0, 0);
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	struct result		 r;
	struct http_request	 req = { .method = "GET",
				    .connect_timeout_ms = 200,
				    .timeout_ms = 5000 };
	char			 url[64];
	int			 lfd, fill[4], i;
	double			 t0, dt;

	/*
	 * A listener that never accepts, with a full accept queue: the
	 * kernel drops further SYNs, so connecting hangs.
	 */
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(listen(lfd, 0), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	for (i = 0; i < 4; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&sin, sizeof sin);
	}
	usleep(50000);

	snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	req.url = url;
	memset(&r, 0, sizeof r);
	t0 = now_mono();
	submit(eng, &req, &r);
	run(5);
	dt = now_mono() - t0;
	print_message("connect timeout after %.3fs: %s\n", dt, r.errmsg);
	assert_int_equal(r.error, HTTP_ERR_TIMEOUT);
	assert_true(dt >= 0.15 && dt < 1.5);
	result_clear(&r);

	for (i = 0; i < 4; i++)
		close(fill[i]);
	close(lfd);
	http_engine_free(eng);
}

static void
test_refused(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(0, 0);
	struct result		 r, ok;
	struct http_stats	 st;
	char			 url[64];

	snprintf(url, sizeof url, "http://127.0.0.1:%d/x", closed_port());
	memset(&r, 0, sizeof r);
	memset(&ok, 0, sizeof ok);
	get(eng, url, &r);
	run(5);
	print_message("refused: %s\n", r.errmsg);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.error, HTTP_ERR_CONNECT);
	assert_int_equal(r.status, 0);
	assert_non_null(r.errmsg);
	assert_string_equal(http_error_name(r.error), "connect");

	/* later requests still work, also mixed with refused ones */
	get(eng, url, &r);
	get(eng, testsrv_url(srv, "/echo"), &ok);
	run(5);
	assert_int_equal(r.error, HTTP_ERR_CONNECT);
	assert_int_equal(ok.error, HTTP_OK);
	assert_int_equal(ok.status, 200);
	http_engine_stats(eng, &st);
	assert_int_equal(st.failed, 2);
	assert_int_equal(st.completed, 1);
	result_clear(&r);
	result_clear(&ok);
	http_engine_free(eng);
	testsrv_free(srv);
}

static void
test_reset_truncated(void **state)
{
	static const struct {
		const char	*path;
		enum http_error	 want;
	} cases[] = {
		{ "/close", HTTP_ERR_RESET },
		{ "/reset", HTTP_ERR_RESET },
		{ "/truncate", HTTP_ERR_RESET },
		{ "/garbage", HTTP_ERR_PROTOCOL },
	};
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(0, 0);
	struct result		 r;
	size_t			 i;

	memset(&r, 0, sizeof r);
	for (i = 0; i < nitems(cases); i++) {
		/* after a successful request, so the connection is reused */
		get(eng, testsrv_url(srv, "/echo"), &r);
		run(5);
		assert_int_equal(r.error, HTTP_OK);
		result_clear(&r);

		get(eng, testsrv_url(srv, cases[i].path), &r);
		run(5);
		print_message("%s: %s: %s\n", cases[i].path,
		    http_error_name(r.error), r.errmsg);
		assert_int_equal(r.error, cases[i].want);
		assert_int_equal(r.status, 0);
		assert_int_equal(r.body_len, 0);
		assert_string_equal(r.body, "");
		assert_int_equal(r.nheaders, 0);
		result_clear(&r);
	}
	/* read-until-close bodies are complete, not an error */
	get(eng, testsrv_url(srv, "/stream/100"), &r);
	run(5);
	assert_int_equal(r.error, HTTP_OK);
	assert_int_equal(r.body_len, 100);
	result_clear(&r);
	http_engine_free(eng);
	testsrv_free(srv);
}

static void
test_body_limit(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine_opts	 o = { .max_body = 1000 };
	struct http_engine	*eng = http_engine_new(base, &o);
	struct result		 r1, r2, r3, r4;
	struct http_request	 head = { .method = "HEAD" };

	memset(&r4, 0, sizeof r4);
	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	memset(&r3, 0, sizeof r3);
	get(eng, testsrv_url(srv, "/bytes/1000"), &r1);
	get(eng, testsrv_url(srv, "/bytes/1001"), &r2);	/* Content-Length */
	get(eng, testsrv_url(srv, "/stream/5000"), &r3);	/* no length */
	head.url = testsrv_url(srv, "/bytes/5000");	/* S3 HeadObject */
	submit(eng, &head, &r4);
	run(5);
	assert_int_equal(r4.error, HTTP_OK);
	assert_string_equal(r4.hdr_clen, "5000");
	result_clear(&r4);
	assert_int_equal(r1.error, HTTP_OK);
	assert_int_equal(r1.body_len, 1000);
	assert_int_equal(r2.error, HTTP_ERR_OTHER);
	assert_non_null(strstr(r2.errmsg, "larger than 1000"));
	assert_int_equal(r2.body_len, 0);
	assert_int_equal(r3.error, HTTP_ERR_OTHER);
	assert_non_null(strstr(r3.errmsg, "larger than 1000"));
	result_clear(&r1);
	result_clear(&r2);
	result_clear(&r3);
	http_engine_free(eng);
	testsrv_free(srv);
}

/*
 * The default limit is HTTP_MAX_BODY_DEFAULT (8 MiB): an endpoint cannot
 * make the engine hold more, with or without Content-Length; a request
 * can lower it (max_body) for itself.
 */
static void
test_body_limit_default(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = http_engine_new(base, NULL);
	struct result		 r1, r2, r3, r4, r5;
	struct http_request	 req = { .method = "GET", .max_body = 100 };
	char			 path[64], want[64];

	memset(&r1, 0, sizeof r1);
	memset(&r2, 0, sizeof r2);
	memset(&r3, 0, sizeof r3);
	memset(&r4, 0, sizeof r4);
	memset(&r5, 0, sizeof r5);
	snprintf(path, sizeof path, "/bytes/%zu", HTTP_MAX_BODY_DEFAULT);
	get(eng, testsrv_url(srv, path), &r1);
	snprintf(path, sizeof path, "/bytes/%zu", HTTP_MAX_BODY_DEFAULT + 1);
	get(eng, testsrv_url(srv, path), &r2);
	snprintf(path, sizeof path, "/stream/%zu", HTTP_MAX_BODY_DEFAULT + 1);
	get(eng, testsrv_url(srv, path), &r3);
	req.url = testsrv_url(srv, "/bytes/100");
	submit(eng, &req, &r4);
	req.url = testsrv_url(srv, "/stream/101");
	submit(eng, &req, &r5);
	run(20);
	assert_int_equal(r1.error, HTTP_OK);
	assert_int_equal(r1.body_len, HTTP_MAX_BODY_DEFAULT);
	snprintf(want, sizeof want, "larger than %zu bytes",
	    HTTP_MAX_BODY_DEFAULT);
	assert_int_equal(r2.error, HTTP_ERR_OTHER);
	assert_non_null(strstr(r2.errmsg, want));
	assert_int_equal(r3.error, HTTP_ERR_OTHER);
	assert_non_null(strstr(r3.errmsg, want));
	assert_int_equal(r4.error, HTTP_OK);
	assert_int_equal(r4.body_len, 100);
	assert_int_equal(r5.error, HTTP_ERR_OTHER);
	assert_non_null(strstr(r5.errmsg, "larger than 100 bytes"));
	result_clear(&r1);
	result_clear(&r2);
	result_clear(&r3);
	result_clear(&r4);
	result_clear(&r5);
	http_engine_free(eng);
	testsrv_free(srv);
}

/*
 * A server that answers one request with Content-Length 1200, sends the
 * first 1000 bytes and holds the rest until the test writes to its pipe:
 * the engine holds 1000 bytes of that answer meanwhile.
 */
struct holdsrv {
	int		 lfd, gate[2];
	int		 port;
	pthread_t	 thread;
};

static void *
holdsrv_main(void *arg)
{
	struct holdsrv	*h = arg;
	char		 req[4096], body[1200], c;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd, i;

	if ((fd = accept(h->lfd, NULL, NULL)) == -1)
		return NULL;
	while (got < sizeof(req) - 1 && (n = read(fd, req + got,
	    sizeof(req) - 1 - got)) > 0) {
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	for (i = 0; i < (int)sizeof(body); i++)
		body[i] = 'a' + i % 26;
	dprintf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1200\r\n"
	    "Content-Type: application/octet-stream\r\n\r\n");
	(void)!write(fd, body, 1000);
	(void)!read(h->gate[0], &c, 1);
	(void)!write(fd, body + 1000, 200);
	(void)!read(fd, req, sizeof(req));	/* until the client closes */
	close(fd);
	return NULL;
}

static void
holdsrv_start(struct holdsrv *h)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true((h->lfd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	assert_int_equal(bind(h->lfd, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	assert_int_equal(listen(h->lfd, 4), 0);
	assert_int_equal(getsockname(h->lfd, (struct sockaddr *)&sin, &len),
	    0);
	h->port = ntohs(sin.sin_port);
	assert_int_equal(pipe(h->gate), 0);
	assert_int_equal(pthread_create(&h->thread, NULL, holdsrv_main, h),
	    0);
}

/* Run the loop until the engine holds at least n response bytes. */
static void
run_until_buffered(struct http_engine *eng, size_t n, double max_s)
{
	struct http_stats	 st;
	double			 end = now_mono() + max_s;

	for (;;) {
		http_engine_stats(eng, &st);
		if (st.buffered >= n)
			return;
		if (now_mono() > end)
			fail_msg("the engine holds %zu bytes, not %zu",
			    st.buffered, n);
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
}

/*
 * The engine's bound on response bytes held together
 * (http_engine_opts.max_buffered): while one answer holds 1000 bytes of
 * 1500, another of 1000 fails with the bound named - whatever each body's
 * own limit allows - and the bytes come back when answers are freed.
 */
static void
test_buffered_bound(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine_opts	 o = { .max_buffered = 1500 };
	struct http_engine	*eng = http_engine_new(base, &o);
	struct holdsrv		 h;
	struct http_stats	 st;
	struct result		 ra, rb, rc;
	char			 url[64];

	memset(&ra, 0, sizeof ra);
	memset(&rb, 0, sizeof rb);
	memset(&rc, 0, sizeof rc);
	holdsrv_start(&h);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/held", h.port);
	get(eng, url, &ra);
	run_until_buffered(eng, 1000, 10);
	get(eng, testsrv_url(srv, "/bytes/1000"), &rb);
	while (rb.calls == 0)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(rb.error, HTTP_ERR_OTHER);
	assert_non_null(strstr(rb.errmsg, "in flight together"));
	assert_non_null(strstr(rb.errmsg, "1500-byte bound"));
	assert_int_equal(rb.body_len, 0);
	http_engine_stats(eng, &st);
	assert_int_equal(st.buffered, 1000);
	/* The held answer ends within the bound: 1200 of 1500. */
	assert_int_equal(write(h.gate[1], "x", 1), 1);
	run(10);
	assert_int_equal(ra.error, HTTP_OK);
	assert_int_equal(ra.body_len, 1200);
	http_engine_stats(eng, &st);
	assert_int_equal(st.buffered, 0);
	/* Freed: the same answer that failed now fits. */
	get(eng, testsrv_url(srv, "/bytes/1000"), &rc);
	run(10);
	assert_int_equal(rc.error, HTTP_OK);
	assert_int_equal(rc.body_len, 1000);
	http_engine_stats(eng, &st);
	assert_int_equal(st.buffered, 0);
	http_engine_free(eng);
	pthread_join(h.thread, NULL);
	close(h.lfd);
	close(h.gate[0]);
	close(h.gate[1]);
	result_clear(&ra);
	result_clear(&rb);
	result_clear(&rc);
	testsrv_free(srv);
}

/* ---- what goes on the wire -------------------------------------------- */

static void
test_request_bytes(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(0, 0);
	const char *const	 hdrs[] = {
		"X-Amz-Date: 20150830T123600Z",
		"x-lower-case:value",
		"X-Spaces:   two  inner   spaces  ",
		"X-Empty:",
		"Content-Type: application/x-amz-json-1.1",
		"User-Agent: cloudsagad/0.1.0 run/0123456789abcdef",
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x",
		NULL,
	};
	const size_t		 blen = 2 * 1024 * 1024 + 3;
	struct http_request	 req;
	struct result		 r;
	struct buf		 want;
	char			*body, *host;
	const char		*url;
	size_t			 i;

	body = xmalloc(blen);
	for (i = 0; i < blen; i++)
		body[i] = (char)(i * 7 + (i >> 8));
	url = testsrv_url(srv, "/raw/a/../b/./c?b=2&a=1&x=%2F");
	host = http_host_header(url);
	assert_non_null(host);

	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.body = body;
	req.body_len = blen;
	memset(&r, 0, sizeof r);
	submit(eng, &req, &r);
	run(10);
	assert_int_equal(r.error, HTTP_OK);

	/* exactly these bytes, in this order, and nothing else */
	buf_init(&want);
	buf_printf(&want, "POST /raw/a/../b/./c?b=2&a=1&x=%%2F HTTP/1.1\r\n"
	    "Host: %s\r\n", host);
	for (i = 0; hdrs[i] != NULL; i++)
		buf_printf(&want, "%s\r\n", hdrs[i]);
	buf_printf(&want, "Content-Length: %zu\r\n\r\n", blen);
	buf_add(&want, body, blen);
	if (r.body_len != want.len || memcmp(r.body, want.data, want.len) != 0)
		fail_msg("request differs; head sent:\n%.*s", (int)(strstr(
		    r.body, "\r\n\r\n") - r.body), r.body);
	assert_null(strstr(r.body, "Expect:"));
	assert_string_equal(host, testsrv_url(srv, NULL) + 7);
	buf_free(&want);
	result_clear(&r);
	free(host);
	free(body);
	http_engine_free(eng);
	testsrv_free(srv);
}

static const char *
echo_header(struct result *r, const char *prefix)
{
	json_t		*h = json_object_get(r->json, "headers"), *v;
	size_t		 i;
	const char	*s;

	json_array_foreach(h, i, v) {
		s = json_string_value(v);
		if (s != NULL && strncasecmp(s, prefix, strlen(prefix)) == 0)
			return s;
	}
	return NULL;
}

static void
test_methods(void **state)
{
	static const struct {
		const char	*method;
		const char	*body;
		const char	*clen;	/* Content-Length line, or NULL */
	} cases[] = {
		{ "GET", NULL, NULL },
		{ "DELETE", NULL, NULL },
		{ "DELETE", "{\"Quiet\":true}", "Content-Length: 14" },
		{ "PUT", "", "Content-Length: 0" },
		{ "PUT", "<CreateBucketConfiguration/>", "Content-Length: 28" },
		{ "POST", "", "Content-Length: 0" },
		{ "POST", "Action=GetCallerIdentity", "Content-Length: 24" },
		{ "PATCH", "{}", "Content-Length: 2" },
	};
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(0, 0);
	struct http_request	 req;
	struct result		 r;
	size_t			 i;

	memset(&r, 0, sizeof r);
	for (i = 0; i < nitems(cases); i++) {
		memset(&req, 0, sizeof req);
		req.method = cases[i].method;
		req.url = testsrv_url(srv, "/echo/m");
		req.body = cases[i].body;
		req.body_len = cases[i].body ? strlen(cases[i].body) : 0;
		submit(eng, &req, &r);
		run(5);
		assert_int_equal(r.error, HTTP_OK);
		assert_string_equal(json_string_value(json_object_get(r.json,
		    "method")), cases[i].method);
		assert_string_equal(json_string_value(json_object_get(r.json,
		    "body")), cases[i].body ? cases[i].body : "");
		if (cases[i].clen != NULL)
			assert_string_equal(echo_header(&r, "Content-Length:"),
			    cases[i].clen);
		else
			assert_null(echo_header(&r, "Content-Length:"));
		/* curl adds none of its own */
		assert_null(echo_header(&r, "Content-Type:"));
		assert_null(echo_header(&r, "Accept:"));
		assert_null(echo_header(&r, "Expect:"));
		assert_null(echo_header(&r, "User-Agent:"));
		assert_null(echo_header(&r, "Accept-Encoding:"));
		assert_null(echo_header(&r, "Transfer-Encoding:"));
		assert_int_equal(json_array_size(json_object_get(r.json,
		    "headers")), cases[i].clen ? 2 : 1);
		result_clear(&r);
	}

	/* empty values are sent as empty headers, not dropped */
	{
		const char *const hdrs[] = { "Content-Type:", "X-Blank:   ",
		    NULL };
		json_t	*h;

		memset(&req, 0, sizeof req);
		req.method = "POST";
		req.url = testsrv_url(srv, "/echo");
		req.headers = hdrs;
		req.body = "a=b";
		req.body_len = 3;
		submit(eng, &req, &r);
		run(5);
		assert_int_equal(r.error, HTTP_OK);
		h = json_object_get(r.json, "headers");
		assert_int_equal(json_array_size(h), 4);
		assert_string_equal(json_string_value(json_array_get(h, 1)),
		    "Content-Type:");
		assert_string_equal(json_string_value(json_array_get(h, 2)),
		    "X-Blank:");
		assert_string_equal(json_string_value(json_array_get(h, 3)),
		    "Content-Length: 3");
		result_clear(&r);
	}
	http_engine_free(eng);
	testsrv_free(srv);
}

static void
test_host_header(void **state)
{
	static const struct {
		const char	*url;
		const char	*host;
	} cases[] = {
		{ "https://ec2.us-east-1.amazonaws.com/", "ec2.us-east-1.amazonaws.com" },
		{ "https://sts.amazonaws.com", "sts.amazonaws.com" },
		{ "https://h.example:443/x?y", "h.example" },
		{ "https://h.example:8443/", "h.example:8443" },
		{ "http://127.0.0.1:80/x", "127.0.0.1" },
		{ "http://127.0.0.1/x", "127.0.0.1" },
		{ "http://127.0.0.1:443/", "127.0.0.1:443" },
		{ "http://127.0.0.1:5000/", "127.0.0.1:5000" },
		{ "http://[::1]:8080/", "[::1]:8080" },
		{ "HTTPS://Bucket.s3.amazonaws.com/key", "Bucket.s3.amazonaws.com" },
		{ "ftp://h.example/", NULL },
		{ "h.example/path", NULL },
		{ "http://user:secret@h.example/", NULL },
		{ "", NULL },
	};
	struct testsrv		*srv;
	struct http_engine	*eng;
	struct result		 r;
	size_t			 i;
	char			*h;

	for (i = 0; i < nitems(cases); i++) {
		h = http_host_header(cases[i].url);
		if (cases[i].host == NULL)
			assert_null(h);
		else {
			assert_non_null(h);
			assert_string_equal(h, cases[i].host);
		}
		free(h);
	}
	assert_null(http_host_header(NULL));

	/* what curl really sends for the default port */
	if ((srv = testsrv_start_at("127.0.0.1", 80)) == NULL) {
		print_message("port 80 unavailable (%s): on-the-wire check "
		    "skipped\n", strerror(errno));
		return;
	}
	eng = engine(0, 0);
	memset(&r, 0, sizeof r);
	get(eng, "http://127.0.0.1/echo", &r);
	run(5);
	assert_int_equal(r.error, HTTP_OK);
	assert_string_equal(echo_header(&r, "Host:"), "Host: 127.0.0.1");
	result_clear(&r);
	http_engine_free(eng);
	testsrv_free(srv);
}

static void
raw_response(const struct testsrv_req *q, struct testsrv_resp *resp,
    void *arg)
{
	const char	*s = arg;

	testsrv_reply_raw(resp, s, strlen(s), 0);
}

static void
test_response_headers(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(0, 0);
	struct result		 r;
	static const char	 interim[] =
	    "HTTP/1.1 100 Continue\r\nX-Final: no\r\n\r\n"
	    "HTTP/1.1 403 Forbidden\r\n"
	    "X-Final:   yes  \r\n"
	    "Content-Type: text/xml\r\n"
	    "X-Folded: first\r\n"
	    "  second\r\n"
	    "Content-Length: 2\r\n\r\nno";

	testsrv_route(srv, "GET", "/interim", raw_response, (void *)interim);
	memset(&r, 0, sizeof r);
	get(eng, testsrv_url(srv, "/interim"), &r);
	run(5);
	assert_int_equal(r.error, HTTP_OK);
	assert_int_equal(r.status, 403);	/* any status is a response */
	assert_string_equal(r.body, "no");
	assert_string_equal(r.hdr_final, "yes");	/* the final one */
	assert_string_equal(r.hdr_folded, "first second");
	assert_string_equal(r.hdr_ctype, "text/xml");
	assert_int_equal(r.nheaders, 4);
	result_clear(&r);

	get(eng, testsrv_url(srv, "/status/503"), &r);
	run(5);
	assert_int_equal(r.error, HTTP_OK);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "status 503\n");
	result_clear(&r);
	http_engine_free(eng);
	testsrv_free(srv);
}

/*
 * Obsolete line folding cannot get around the header limits: continuation
 * lines count as header lines (HTTP_MAX_HEADERS) and the header block is
 * bounded in bytes (HTTP_MAX_HEADER_BYTES).  Such a response fails with a
 * clear error; one within the limits is folded as before.
 */
static char *
folded_response(int lines, size_t each, int regular)
{
	struct buf	 b;
	int		 i;

	buf_init(&b);
	buf_addstr(&b, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	    "X-Folded: first\r\n");
	for (i = 0; i < lines; i++) {
		if (regular)
			buf_printf(&b, "X-H%d: ", i);
		else
			buf_addch(&b, i % 2 ? ' ' : '\t');
		buf_printf(&b, "%0*d\r\n", (int)each, 0);
	}
	buf_addstr(&b, "\r\nok");
	return buf_release(&b);
}

static void
test_folded_headers(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(0, 0);
	struct result		 r;
	char			*many, *fewlong, *wide, *within, want[64];
	size_t			 i;

	/* 20000 continuation lines of 4 bytes: 80 KB, 1 header */
	many = folded_response(20000, 1, 0);
	/* 12 continuation lines of 6 KB: only the bytes are too many */
	fewlong = folded_response(12, 6000, 0);
	/* 70 regular headers of 1 KB */
	wide = folded_response(70, 1000, 1);
	/* just within: 400 continuation lines, 40 KB */
	within = folded_response(400, 100, 0);
	testsrv_route(srv, "GET", "/many", raw_response, many);
	testsrv_route(srv, "GET", "/fewlong", raw_response, fewlong);
	testsrv_route(srv, "GET", "/wide", raw_response, wide);
	testsrv_route(srv, "GET", "/within", raw_response, within);

	memset(&r, 0, sizeof r);
	get(eng, testsrv_url(srv, "/many"), &r);
	run(10);
	assert_int_equal(r.error, HTTP_ERR_PROTOCOL);
	snprintf(want, sizeof want, "more than %d response header lines",
	    HTTP_MAX_HEADERS);
	if (strstr(r.errmsg, want) == NULL)
		fail_msg("errmsg \"%s\" lacks \"%s\"", r.errmsg, want);
	result_clear(&r);

	snprintf(want, sizeof want, "response headers larger than %d bytes",
	    HTTP_MAX_HEADER_BYTES);
	get(eng, testsrv_url(srv, "/fewlong"), &r);
	run(10);
	assert_int_equal(r.error, HTTP_ERR_PROTOCOL);
	if (strstr(r.errmsg, want) == NULL)
		fail_msg("errmsg \"%s\" lacks \"%s\"", r.errmsg, want);
	result_clear(&r);
	get(eng, testsrv_url(srv, "/wide"), &r);
	run(10);
	assert_int_equal(r.error, HTTP_ERR_PROTOCOL);
	if (strstr(r.errmsg, want) == NULL)
		fail_msg("errmsg \"%s\" lacks \"%s\"", r.errmsg, want);
	result_clear(&r);

	get(eng, testsrv_url(srv, "/within"), &r);
	run(10);
	assert_int_equal(r.error, HTTP_OK);
	assert_string_equal(r.body, "ok");
	assert_int_equal(r.nheaders, 2);
	/* "first" and 400 values of 100 digits, joined by single spaces */
	assert_int_equal(strlen(r.hdr_folded), 5 + 400 * 101);
	assert_memory_equal(r.hdr_folded, "first 000", 9);
	for (i = 5; i < strlen(r.hdr_folded); i += 101)
		assert_int_equal(r.hdr_folded[i], ' ');
	result_clear(&r);

	/* the engine is fine afterwards */
	get(eng, testsrv_url(srv, "/status/204"), &r);
	run(5);
	assert_int_equal(r.error, HTTP_OK);
	assert_int_equal(r.status, 204);
	result_clear(&r);
	http_engine_free(eng);
	testsrv_free(srv);
	free(many);
	free(fewlong);
	free(wide);
	free(within);
}

/* The parser itself: the limits are exact, and it reads only len bytes. */
static void
test_header_parser(void **state)
{
	struct http_header_parser	 hp;
	char				 line[1024];
	size_t				 total, n;
	int				 i;

	memset(&hp, 0, sizeof hp);
	assert_int_equal(http_parse_header_line(&hp, "HTTP/1.1 200 OK\r\n", 17),
	    HTTP_HEADER_OK);
	for (i = 0; i < HTTP_MAX_HEADERS; i++) {
		n = (size_t)snprintf(line, sizeof line, i % 2 ? " c%d\r\n" :
		    "H%d: v\r\n", i);
		assert_int_equal(http_parse_header_line(&hp, line, n),
		    HTTP_HEADER_OK);
	}
	assert_int_equal(hp.nheaders, HTTP_MAX_HEADERS / 2);
	assert_string_equal(hp.headers[0].value, "v c1");
	assert_int_equal(http_parse_header_line(&hp, "X: y\r\n", 6),
	    HTTP_HEADER_TOO_MANY);
	assert_int_equal(http_parse_header_line(&hp, " more\r\n", 7),
	    HTTP_HEADER_TOO_MANY);
	assert_int_equal(hp.nheaders, HTTP_MAX_HEADERS / 2);
	/* the blank line ending the block is not a header line */
	assert_int_equal(http_parse_header_line(&hp, "\r\n", 2),
	    HTTP_HEADER_OK);
	/* a status line starts over */
	assert_int_equal(http_parse_header_line(&hp, "HTTP/1.1 204 \r\n", 15),
	    HTTP_HEADER_OK);
	assert_int_equal(hp.nheaders, 0);
	/* bytes: exactly HTTP_MAX_HEADER_BYTES is fine, one more is not */
	total = 15;
	memset(line, 'a', sizeof line);
	while (total + 1000 <= HTTP_MAX_HEADER_BYTES) {
		memcpy(line, "X-Long: ", 8);
		memcpy(line + 998, "\r\n", 2);
		assert_int_equal(http_parse_header_line(&hp, line, 1000),
		    HTTP_HEADER_OK);
		total += 1000;
	}
	n = HTTP_MAX_HEADER_BYTES - total;
	memcpy(line + n - 2, "\r\n", 2);
	assert_int_equal(http_parse_header_line(&hp, line, n), HTTP_HEADER_OK);
	assert_int_equal(http_parse_header_line(&hp, "\r\n", 2),
	    HTTP_HEADER_TOO_LARGE);
	/* a status line longer than the block may be is refused too */
	http_header_parser_clear(&hp);
	{
		char	*big = xmalloc(HTTP_MAX_HEADER_BYTES + 1);

		memset(big, 'x', HTTP_MAX_HEADER_BYTES + 1);
		memcpy(big, "HTTP/1.1 200 ", 13);
		assert_int_equal(http_parse_header_line(&hp, big,
		    HTTP_MAX_HEADER_BYTES + 1), HTTP_HEADER_TOO_LARGE);
		free(big);
	}
	/* only len bytes are read: "Name: v" of "Name: value" */
	http_header_parser_clear(&hp);
	assert_int_equal(http_parse_header_line(&hp, "Name: value", 7),
	    HTTP_HEADER_OK);
	assert_string_equal(hp.headers[0].value, "v");
	/* a continuation with nothing before it, a line without a colon */
	http_header_parser_clear(&hp);
	assert_int_equal(http_parse_header_line(&hp, " orphan\r\n", 9),
	    HTTP_HEADER_OK);
	assert_int_equal(http_parse_header_line(&hp, "garbage\r\n", 9),
	    HTTP_HEADER_OK);
	assert_int_equal(hp.nheaders, 0);
	http_header_parser_clear(&hp);
}

/* ---- queue order ------------------------------------------------------ */

struct order {
	int	 seq[8];
	int	 n;
};

struct order_item {
	struct order	*order;
	int		 id;
};

static void
order_cb(const struct http_response *resp, void *arg)
{
	struct order_item	*it = arg;

	assert_int_equal(resp->error, HTTP_OK);
	it->order->seq[it->order->n++] = it->id;
	pending--;
}

static void
submit_order(struct http_engine *eng, const char *url,
    struct order_item *it)
{
	struct http_request	 req = { .method = "GET", .url = url };

	pending++;
	http_submit(eng, &req, order_cb, it);
}

static void
test_queue_order(void **state)
{
	struct testsrv		*a = testsrv_start(), *b = testsrv_start();
	struct http_engine	*eng;
	struct order		 o;
	struct order_item	 it[8];
	int			 i;

	/* one at a time: submission order across hosts */
	memset(&o, 0, sizeof o);
	eng = engine(1, 16);
	for (i = 0; i < 6; i++) {
		it[i].order = &o;
		it[i].id = i;
		submit_order(eng, testsrv_url(i % 3 ? a : b, "/delay/5"),
		    &it[i]);
	}
	run(5);
	assert_int_equal(o.n, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(o.seq[i], i);
	http_engine_free(eng);

	/* a full host does not hold up another host's transfers */
	memset(&o, 0, sizeof o);
	eng = engine(2, 1);
	submit_order(eng, testsrv_url(a, "/delay/300"), &it[0]);
	submit_order(eng, testsrv_url(a, "/delay/10"), &it[1]);
	submit_order(eng, testsrv_url(b, "/delay/10"), &it[2]);
	run(5);
	assert_int_equal(o.n, 3);
	assert_int_equal(o.seq[0], 2);
	assert_int_equal(o.seq[1], 0);
	assert_int_equal(o.seq[2], 1);
	http_engine_free(eng);
	testsrv_free(a);
	testsrv_free(b);
}

/* ---- callbacks, cancellation, teardown ---------------------------------- */

struct chain {
	struct http_engine	*eng;
	struct testsrv		*srv;
	int			 left;
	int			 done;
	int			 violations;
};

static void
chain_cb(const struct http_response *resp, void *arg)
{
	struct chain		*c = arg;
	struct http_request	 req = { .method = "GET" };

	if (in_submit)
		c->violations++;
	if (resp->error != HTTP_OK || resp->status != 200)
		c->violations++;
	c->done++;
	pending--;
	if (--c->left > 0) {
		req.url = testsrv_url(c->srv, "/echo");
		pending++;
		in_submit = 1;
		http_submit(c->eng, &req, chain_cb, c);
		in_submit = 0;
	}
}

static void
test_submit_from_callback(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct chain		 c = { .srv = srv, .left = 10 };
	struct http_request	 req = { .method = "GET" };

	c.eng = engine(0, 0);
	req.url = testsrv_url(srv, "/echo");
	pending++;
	in_submit = 1;
	http_submit(c.eng, &req, chain_cb, &c);
	in_submit = 0;
	assert_int_equal(c.done, 0);
	run(5);
	assert_int_equal(c.done, 10);
	assert_int_equal(c.violations, 0);
	http_engine_free(c.eng);
	testsrv_free(srv);
}

static void
test_invalid_requests(void **state)
{
	const char *const	 crlf[] = { "X-A: b\r\nX-Injected: 1", NULL };
	const char *const	 nocolon[] = { "X-A b", NULL };
	const char *const	 badname[] = { "X A: b", NULL };
	const char *const	 te[] = { "Transfer-Encoding: chunked", NULL };
	const char *const	 cl[] = { "Content-Length: 5", NULL };
	struct http_request	 reqs[] = {
		{ .method = NULL, .url = "http://127.0.0.1:1/" },
		{ .method = "GE T", .url = "http://127.0.0.1:1/" },
		{ .method = "GET", .url = NULL },
		{ .method = "GET", .url = "not a url" },
		{ .method = "GET", .url = "ftp://127.0.0.1/" },
		{ .method = "GET", .url = "http://u:p@127.0.0.1/" },
		{ .method = "GET", .url = "http://127.0.0.1:1/", .headers = crlf },
		{ .method = "GET", .url = "http://127.0.0.1:1/", .headers = nocolon },
		{ .method = "GET", .url = "http://127.0.0.1:1/", .headers = badname },
		{ .method = "POST", .url = "http://127.0.0.1:1/", .headers = te },
		{ .method = "POST", .url = "http://127.0.0.1:1/", .headers = cl,
		  .body = "abc", .body_len = 3 },
		{ .method = "POST", .url = "http://127.0.0.1:1/", .body_len = 3 },
		{ .method = "HEAD", .url = "http://127.0.0.1:1/", .body = "x",
		  .body_len = 1 },
		{ .method = "GET", .url = "http://127.0.0.1:1/", .timeout_ms = -1 },
	};
	struct http_engine	*eng = engine(0, 0);
	struct result		 r[nitems(reqs) + 1];
	struct http_stats	 st;
	size_t			 i;

	memset(r, 0, sizeof r);
	for (i = 0; i < nitems(reqs); i++) {
		submit(eng, &reqs[i], &r[i]);
		assert_int_equal(r[i].calls, 0);	/* never inside submit */
	}
	pending++;
	in_submit = 1;
	assert_non_null(http_submit(eng, NULL, store_cb, &r[nitems(reqs)]));
	in_submit = 0;
	run(5);
	for (i = 0; i <= nitems(reqs); i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].error, HTTP_ERR_OTHER);
		assert_non_null(r[i].errmsg);
		assert_non_null(strstr(r[i].errmsg, "invalid request"));
		result_clear(&r[i]);
	}
	http_engine_stats(eng, &st);
	assert_int_equal(st.started, 0);
	assert_int_equal(st.failed, nitems(reqs) + 1);
	http_engine_free(eng);
}

struct canceller {
	struct http_xfer	*victim;
	int			 fired;
};

static void
cancel_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct canceller	*c = arg;

	http_cancel(c->victim);
	c->fired = 1;
}

struct cancel_in_cb {
	struct http_xfer	*victim;
	struct http_xfer	*self;
	int			 calls;
};

static void
cancel_other_cb(const struct http_response *resp, void *arg)
{
	struct cancel_in_cb	*c = arg;

	c->calls++;
	http_cancel(c->victim);		/* another transfer */
	http_cancel(c->self);		/* itself: does nothing */
	pending -= 2;			/* for itself and the victim */
}

static void
test_cancel(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine	*eng = engine(1, 1);
	struct result		 ra, rb, rc;
	struct canceller	 cn;
	struct cancel_in_cb	 ci;
	struct http_xfer	*xa, *xb;
	struct http_stats	 st;
	struct event		*ev;
	struct timeval		 tv = { 0, 100000 };
	struct http_request	 req = { .method = "GET" };
	double			 t0;

	memset(&ra, 0, sizeof ra);
	memset(&rb, 0, sizeof rb);
	memset(&rc, 0, sizeof rc);
	http_cancel(NULL);

	/* a: active when cancelled; b: cancelled while queued */
	t0 = now_mono();
	xa = get(eng, testsrv_url(srv, "/delay/1000"), &ra);
	xb = get(eng, testsrv_url(srv, "/delay/1000"), &rb);
	get(eng, testsrv_url(srv, "/echo"), &rc);
	http_cancel(xb);
	pending--;
	cn.victim = xa;
	cn.fired = 0;
	ev = evtimer_new(base, cancel_timer_cb, &cn);
	evtimer_add(ev, &tv);
	/* wait for a to be cancelled, then c runs */
	while (!cn.fired)
		event_base_loop(base, EVLOOP_ONCE);
	pending--;
	run(5);
	event_free(ev);
	assert_int_equal(ra.calls, 0);
	assert_int_equal(rb.calls, 0);
	assert_int_equal(rc.calls, 1);
	assert_int_equal(rc.error, HTTP_OK);
	assert_true(now_mono() - t0 < 0.8);	/* did not wait for a */
	http_engine_stats(eng, &st);
	assert_int_equal(st.cancelled, 2);
	assert_int_equal(st.active, 0);
	assert_int_equal(st.queued, 0);
	result_clear(&rc);

	/* cancelling from inside a callback, a transfer still queued */
	memset(&ci, 0, sizeof ci);
	req.url = testsrv_url(srv, "/echo");
	pending += 2;
	ci.self = http_submit(eng, &req, cancel_other_cb, &ci);
	ci.victim = http_submit(eng, &req, store_cb, &ra);
	run(5);
	assert_int_equal(ci.calls, 1);
	assert_int_equal(ra.calls, 0);
	http_engine_stats(eng, &st);
	assert_int_equal(st.cancelled, 3);
	assert_int_equal(st.queued, 0);
	http_engine_free(eng);
	testsrv_free(srv);
}

struct freeing {
	struct http_engine	*eng;
	const char		*url;
	int			 cancelled;
	int			 other;
	int			 resubmitted;
};

static void
freeing_cb(const struct http_response *resp, void *arg)
{
	struct freeing		*f = arg;
	struct http_request	 req = { .method = "GET", .url = f->url };

	if (resp->error == HTTP_ERR_CANCELLED)
		f->cancelled++;
	else
		f->other++;
	assert_string_equal(resp->body, "");
	assert_int_equal(resp->status, 0);
	if (!f->resubmitted) {
		/* a callback that submits again while the engine goes away */
		f->resubmitted = 1;
		http_submit(f->eng, &req, freeing_cb, f);
	}
}

static void
test_free_pending(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct freeing		 f;
	struct http_request	 req = { .method = "POST", .body = "x",
				    .body_len = 1 };
	struct http_stats	 st;
	int			 i;

	memset(&f, 0, sizeof f);
	f.eng = engine(4, 4);
	f.url = testsrv_url(srv, "/delay/2000");
	req.url = f.url;
	for (i = 0; i < 10; i++)
		http_submit(f.eng, &req, freeing_cb, &f);
	run_for(0.2);
	http_engine_stats(f.eng, &st);
	assert_int_equal(st.active, 4);
	assert_int_equal(st.queued, 6);
	assert_int_equal(f.cancelled + f.other, 0);
	http_engine_free(f.eng);	/* ASan: nothing may leak */
	assert_int_equal(f.cancelled, 11);
	assert_int_equal(f.other, 0);
	testsrv_free(srv);
}

/* ---- secrets never reach the verbose trace ------------------------------ */

static void
test_verbose_redacts(void **state)
{
	struct testsrv		*srv = testsrv_start();
	struct http_engine_opts	 o = { .verbose = 1 };
	struct http_engine	*eng;
	const char *const	 hdrs[] = {
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, "
		    "Signature=SIGSECRET0123",
		"X-Amz-Security-Token: TOKENSECRET4567",
		"x-aws-ec2-metadata-token: IMDSSECRET89",
		"X-Visible: shown",
		NULL,
	};
	struct http_request	 req = { .method = "POST", .headers = hdrs,
				    .body = "Password=BODYSECRET",
				    .body_len = 19 };
	struct result		 r;
	char			 path[] = "/tmp/test_http_trace.XXXXXX";
	char			*trace;
	int			 fd, saved;
	FILE			*f;
	long			 len;

	eng = http_engine_new(base, &o);
	req.url = testsrv_url(srv, "/echo");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	memset(&r, 0, sizeof r);
	submit(eng, &req, &r);
	run(5);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);

	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	trace = xcalloc(1, len + 1);
	assert_int_equal(fread(trace, 1, len, f), (size_t)len);
	fclose(f);
	unlink(path);

	assert_int_equal(r.error, HTTP_OK);
	/* the server got the secrets, the trace shows none of them */
	assert_non_null(strstr(r.body, "SIGSECRET0123"));
	assert_non_null(strstr(trace, "> POST /echo HTTP/1.1"));
	assert_non_null(strstr(trace, "X-Visible: shown"));
	assert_non_null(strstr(trace, "Authorization: <redacted>"));
	assert_non_null(strstr(trace, "X-Amz-Security-Token: <redacted>"));
	assert_non_null(strstr(trace, "< HTTP/1.1 200 OK"));
	assert_null(strstr(trace, "SIGSECRET"));
	assert_null(strstr(trace, "TOKENSECRET"));
	assert_null(strstr(trace, "IMDSSECRET"));
	assert_null(strstr(trace, "BODYSECRET"));
	free(trace);
	result_clear(&r);
	http_engine_free(eng);
	testsrv_free(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_thousand_at_64, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_per_host_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_global_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_keepalive_reuse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_total_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_connect_timeout, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_truncated, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body_limit_default, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_buffered_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_request_bytes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_methods, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_header, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_response_headers, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_folded_headers, setup,
		    teardown),
		cmocka_unit_test(test_header_parser),
		cmocka_unit_test_setup_teardown(test_queue_order, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_submit_from_callback,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_requests, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_pending, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verbose_redacts, setup,
		    teardown),
	};
	int	 rc;

	/* loopback only: no proxy may intercept */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	log_init(LOG_TO_STDERR, "test_http",
	    getenv("TEST_HTTP_DEBUG") ? LOG_DEBUG : LOG_WARNING);
	http_global_init();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	http_global_cleanup();
	return rc;
}
