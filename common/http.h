/*
 * http: the asynchronous HTTP engine - libcurl multi on one libevent
 * event_base, in the shape of curl's hiperfifo.c / multi-event.c: the socket
 * callback keeps one persistent event per socket (curl_multi_assign), the
 * timer callback keeps one timer, both handlers call
 * curl_multi_socket_action() and then drain curl_multi_info_read().
 * CURLOPT_PRIVATE links each easy handle to its transfer.  libcurl is never
 * called from inside its own callbacks.
 *
 * Connections are reused (keep-alive) per host.  Concurrency is bounded
 * globally and per host: transfers beyond the bounds wait in a FIFO queue
 * inside the engine and start as others finish.
 *
 * Completion callbacks always run from the event loop, never from inside
 * http_submit(), and run exactly once per transfer unless it is cancelled.
 */
#ifndef CLOUDSAGA_HTTP_H
#define CLOUDSAGA_HTTP_H

#include <stddef.h>

struct event_base;
struct http_engine;
struct http_xfer;

struct http_engine_opts {
	int	 max_total;		/* concurrent transfers; 0 = 64 */
	int	 max_per_host;		/* concurrent per host:port; 0 = 16 */
	long	 connect_timeout_ms;	/* default per transfer; 0 = 5000 */
	long	 timeout_ms;		/* default total per transfer; 0 = 30000 */
	int	 verbose;		/* CURLOPT_VERBOSE to stderr (debug) */
};

struct http_header {
	char	*name;
	char	*value;
};

struct http_request {
	const char	*method;	/* "GET", "POST", "PUT", "DELETE", "HEAD" */
	const char	*url;
	/* "Name: value" lines, NULL-terminated; sent byte-identical. */
	const char *const *headers;
	const void	*body;
	size_t		 body_len;
	long		 connect_timeout_ms;	/* 0 = engine default */
	long		 timeout_ms;		/* 0 = engine default */
};

enum http_error {
	HTTP_OK = 0,		/* a response arrived (any status) */
	HTTP_ERR_CONNECT,	/* refused, unreachable, DNS */
	HTTP_ERR_TIMEOUT,	/* connect or total timeout */
	HTTP_ERR_RESET,		/* connection reset / closed mid-response */
	HTTP_ERR_PROTOCOL,	/* malformed HTTP, TLS failure */
	HTTP_ERR_CANCELLED,	/* engine freed while pending */
	HTTP_ERR_OTHER,
};

struct http_response {
	enum http_error		 error;
	char			*errmsg;	/* readable cause when error != 0 */
	long			 status;	/* 0 when no response */
	struct http_header	*headers;	/* of the final response */
	size_t			 nheaders;
	char			*body;		/* NUL-terminated for convenience */
	size_t			 body_len;
	double			 total_s;	/* time from start to completion */
	int			 reused;	/* the connection was reused */
};

/* The response is valid only during the call. */
typedef void (*http_done_cb)(const struct http_response *, void *arg);

struct http_engine	*http_engine_new(struct event_base *,
			    const struct http_engine_opts *);
/*
 * Pending transfers are cancelled: their callbacks run with
 * HTTP_ERR_CANCELLED before this returns.
 */
void			 http_engine_free(struct http_engine *);

/* The request is copied; the caller may free it at once. */
struct http_xfer	*http_submit(struct http_engine *,
			    const struct http_request *, http_done_cb,
			    void *arg);
/* Cancel without a callback.  The handle is invalid afterwards. */
void			 http_cancel(struct http_xfer *);

/* Case-insensitive header lookup; NULL if absent. */
const char		*http_response_header(const struct http_response *,
			    const char *name);
const char		*http_error_name(enum http_error);

struct http_stats {
	unsigned long	 started, completed, failed;
	unsigned long	 connects;	/* new connections opened */
	int		 active, queued, max_active_seen;
};
void			 http_engine_stats(const struct http_engine *,
			    struct http_stats *);

#endif
