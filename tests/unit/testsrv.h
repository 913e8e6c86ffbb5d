/*
 * testsrv: a real HTTP/1.1 server on loopback for tests, running in its own
 * thread with its own libevent event_base, so a test can drive its client
 * (the http engine) on the main thread's loop.
 *
 * Link: target_link_libraries(test_NAME PRIVATE testsrv) in a
 * fragment under tests/cmake/ (see tests/cmake/http.cmake).
 *
 *	struct testsrv *srv = testsrv_start();
 *	testsrv_route(srv, "PUT", "/latest/api/token", imds_token, &state);
 *	url = testsrv_url(srv, "/latest/api/token");  // http://127.0.0.1:PORT/...
 *	...
 *	testsrv_free(srv);
 *
 * The server speaks keep-alive HTTP/1.1 with Content-Length bodies (no
 * chunked requests: 501), answers "Expect: 100-continue" with a 100,
 * honours "Connection: close", and never sends a body for HEAD.
 *
 * Built-in routes, used when no route of the test matches:
 *
 *   /echo...      200 application/json: {"method", "target", "headers"
 *                 (the raw "Name: value" lines as received), "body" (the
 *                 body as text, invalid UTF-8 bytes as \u00XX), "body_len",
 *                 "body_sha256", "conn" (connection number), "seq"};
 *                 a query parameter delay=N delays the answer N ms
 *   /raw...       200 application/octet-stream: the request bytes exactly
 *                 as received (request line, headers, blank line, body)
 *   /delay/N      200 "delayed N\n" after N milliseconds
 *   /status/N     status N, body "status N\n"
 *   /bytes/N      200 with N bytes 'a'..'z' repeating (Content-Length)
 *   /stream/N     200 with N bytes, no Content-Length, then close
 *   /close        close the connection without a response (FIN)
 *   /reset        close with a TCP reset (SO_LINGER 0), no response
 *   /truncate     Content-Length: 100, 50 bytes, then close
 *   /garbage      a reply that is not HTTP, then close
 *   anything else 404
 *
 * Handlers run on the server thread.  Whatever they share with the test
 * needs a lock or atomics; counters can simply be read after the client
 * is done and testsrv_stats() (which synchronises) was called.
 *
 * SIGPIPE is ignored process-wide by testsrv_start() (a client may vanish
 * while the server writes).
 */
#ifndef CLOUDSAGA_TESTSRV_H
#define CLOUDSAGA_TESTSRV_H

#include <stddef.h>

struct testsrv;
struct testsrv_resp;

/* A request as the handler sees it; valid during the handler only. */
struct testsrv_req {
	const char		*method;
	const char		*target;	/* as on the request line */
	const char		*path;		/* target without the query */
	const char		*query;		/* after '?', or "" */
	const char *const	*headers;	/* raw lines, NULL-terminated */
	size_t			 nheaders;
	const char		*body;		/* NUL-terminated */
	size_t			 body_len;
	const char		*raw;		/* all bytes as received */
	size_t			 raw_len;
	unsigned long		 conn;		/* 1, 2, ... per connection */
	unsigned long		 seq;		/* 1 for a connection's first */
};

/* Value of a request header (case-insensitive, trimmed), or NULL. */
const char	*testsrv_req_header(const struct testsrv_req *,
		    const char *name);

/*
 * A handler answers with exactly one of the testsrv_reply* calls (more
 * headers first with testsrv_resp_header); no answer gives 500.
 */
typedef void	(*testsrv_handler)(const struct testsrv_req *,
		    struct testsrv_resp *, void *arg);

/* Add a response header line ("Name: value"), before the reply. */
void	 testsrv_resp_header(struct testsrv_resp *, const char *line);
/* Answer after delay_ms milliseconds instead of at once. */
void	 testsrv_resp_delay(struct testsrv_resp *, int delay_ms);
/* Status, body (copied), Content-Length added; content_type may be NULL. */
void	 testsrv_reply(struct testsrv_resp *, int status,
	    const char *content_type, const void *body, size_t len);
/* Shorthand: status with a text body. */
void	 testsrv_reply_text(struct testsrv_resp *, int status,
	    const char *text);
/* Send these bytes as they are (nothing added); close after if asked. */
void	 testsrv_reply_raw(struct testsrv_resp *, const void *, size_t,
	    int close_after);
/* No response: close the connection, with a reset if rst. */
void	 testsrv_reply_close(struct testsrv_resp *, int rst);

/* Start on 127.0.0.1, an ephemeral port.  Aborts the test on failure. */
struct testsrv	*testsrv_start(void);
/* Start on addr:port (port 0 = ephemeral); NULL with errno on failure. */
struct testsrv	*testsrv_start_at(const char *addr, int port);
/* Stop the thread, close every connection, free.  NULL is fine. */
void		 testsrv_free(struct testsrv *);

int		 testsrv_port(const struct testsrv *);
/*
 * "http://127.0.0.1:PORT" + path (path may be NULL), in a thread-local
 * ring of 16 buffers: a result stays valid for the next 15 calls from the
 * same thread.  Copy it to keep it longer.
 */
const char	*testsrv_url(struct testsrv *, const char *path);

/*
 * Route method + path to a handler; method NULL matches any; a path ending
 * in '*' is a prefix.  Routes are tried in the order added, before the
 * built-in ones.  Thread-safe; may be called while running.
 */
void		 testsrv_route(struct testsrv *, const char *method,
		    const char *path, testsrv_handler, void *arg);

struct testsrv_stats {
	unsigned long	 connections;	/* accepted */
	unsigned long	 requests;	/* complete requests received */
	int		 open;		/* connections open now */
	int		 max_open;
	int		 inflight;	/* requests received, not answered */
	int		 max_inflight;
};
void		 testsrv_stats(struct testsrv *, struct testsrv_stats *);
/* Zero the counters; the maxima restart from the current values. */
void		 testsrv_reset_stats(struct testsrv *);

#endif
