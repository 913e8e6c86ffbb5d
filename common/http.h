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
 * A callback may call http_submit() and http_cancel(); it must not call
 * http_engine_free() (free the engine after the loop returns).
 *
 * Requests go out as HTTP/1.1 exactly as given: the request line from the
 * method and the URL's path and query (sent as is, no dot-segment removal),
 * a Host header that libcurl derives from the URL ("host[:port]", the port
 * omitted when it is the scheme's default; see http_host_header()), the
 * caller's header lines byte for byte and in order, and Content-Length
 * when there is a body (always for POST, PUT and PATCH).  Nothing else: no
 * Accept, no Expect: 100-continue, no Content-Type unless given, no
 * User-Agent unless given, no Accept-Encoding, no redirects followed.  A
 * header line with an empty value ("X-Empty:") is sent as such.  Proxies
 * follow libcurl's environment variables (https_proxy, no_proxy).
 *
 * Responses are bounded (cloudsaga_limits.h): the body by max_body, the
 * header block by HTTP_MAX_HEADERS lines (obsolete continuation lines
 * included; they are joined to the previous value with one space) and
 * HTTP_MAX_HEADER_BYTES bytes.  Beyond, the transfer fails:
 * HTTP_ERR_OTHER for the body, HTTP_ERR_PROTOCOL for the headers.
 *
 * Bodies and the values of Authorization, X-Amz-Security-Token, Cookie and
 * the IMDS token headers never reach a log: the verbose trace redacts them.
 * Request and response bodies are wiped when freed, and so is every copy:
 * the response body grows in a secure buffer (buf.h), and libcurl's own
 * buffers are freed through a wiping allocator (wipe.h).
 *
 * libcurl's global state: http_engine_new() calls http_global_init() the
 * first time; a program with threads should call it from main() before it
 * starts any.  http_global_cleanup() is optional, at exit.
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
	/* response body limit; 0 = HTTP_MAX_BODY_DEFAULT (8 MiB) */
	size_t	 max_body;
	/* response bytes held over all transfers at once; 0 =
	 * HTTP_MAX_BUFFERED_DEFAULT (128 MiB) */
	size_t	 max_buffered;
};

struct http_header {
	char	*name;
	char	*value;
};

struct http_request {
	/*
	 * "GET", "POST", "PUT", "DELETE", "HEAD" (any token is accepted).
	 * POST, PUT and PATCH always send a body (maybe empty, with
	 * Content-Length: 0); other methods send one when body_len > 0;
	 * HEAD never.
	 */
	const char	*method;
	const char	*url;
	/*
	 * "Name: value" lines, NULL-terminated; sent byte-identical.  Lines
	 * with CR or LF, without a colon or with a bad name are refused, as
	 * are Transfer-Encoding and a Content-Length other than body_len.
	 */
	const char *const *headers;
	const void	*body;
	size_t		 body_len;
	long		 connect_timeout_ms;	/* 0 = engine default */
	long		 timeout_ms;		/* 0 = engine default */
	/*
	 * Response body limit for this request, 0 = the engine's max_body;
	 * never more than the engine's.  Small answers (credential
	 * endpoints) ask for less.
	 */
	size_t		 max_body;
};

enum http_error {
	HTTP_OK = 0,		/* a response arrived (any status) */
	HTTP_ERR_CONNECT,	/* refused, unreachable, DNS */
	HTTP_ERR_TIMEOUT,	/* connect or total timeout */
	HTTP_ERR_RESET,		/* connection reset / closed mid-response */
	HTTP_ERR_PROTOCOL,	/* malformed HTTP, TLS failure */
	HTTP_ERR_CANCELLED,	/* engine freed while pending */
	HTTP_ERR_OTHER,		/* invalid request, body too large, ... */
};

struct http_response {
	enum http_error		 error;
	char			*errmsg;	/* readable cause when error != 0 */
	/*
	 * With error != HTTP_OK the fields below are empty: status 0, no
	 * headers, body "" (a partial response is not a response).
	 */
	long			 status;	/* 0 when no response */
	struct http_header	*headers;	/* of the final response */
	size_t			 nheaders;
	char			*body;		/* NUL-terminated for convenience */
	size_t			 body_len;
	double			 total_s;	/* time from start to completion */
	int			 reused;	/* the connection was reused */
	double			 queue_s;	/* time waited in the engine's queue */
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
/*
 * Cancel without a callback.  The handle is invalid afterwards.  The handle
 * is valid from http_submit() until its callback starts; cancelling a
 * transfer from inside its own callback does nothing.  NULL is fine.
 */
void			 http_cancel(struct http_xfer *);

/* Case-insensitive header lookup; NULL if absent. */
const char		*http_response_header(const struct http_response *,
			    const char *name);
const char		*http_error_name(enum http_error);

struct http_stats {
	unsigned long	 started, completed, failed;
	unsigned long	 connects;	/* new connections opened */
	int		 active, queued, max_active_seen;
	unsigned long	 cancelled;	/* by http_cancel or engine free */
	size_t		 buffered;	/* response bytes held now */
};
void			 http_engine_stats(const struct http_engine *,
			    struct http_stats *);

/*
 * The Host header libcurl sends for url: "host" or "host:port", the port
 * omitted when it is the scheme's default (80 for http, 443 for https).
 * Allocated; NULL if url is not an absolute http or https URL.  The SigV4
 * signer signs this value.
 */
char			*http_host_header(const char *url);

/*
 * The engine's response header parser, for tests and fuzzing.  Feed it the
 * header lines of a response as received, one per call (CR LF included,
 * as libcurl's header callback gets them): a status line ("HTTP/...")
 * starts over (after a 1xx), a line starting with a blank continues the
 * previous value (obsolete folding: joined with one space), "Name: value"
 * adds a header (both trimmed), a blank line ends the block, anything else
 * is ignored.  Every line counts against HTTP_MAX_HEADERS, every byte
 * against HTTP_MAX_HEADER_BYTES; the line that exceeds one is refused and
 * the parser keeps what it had.  A zeroed struct is an empty parser.
 */
enum http_header_status {
	HTTP_HEADER_OK,
	HTTP_HEADER_TOO_MANY,		/* more than HTTP_MAX_HEADERS lines */
	HTTP_HEADER_TOO_LARGE,		/* more than HTTP_MAX_HEADER_BYTES */
};

struct http_header_parser {
	struct http_header	*headers;
	size_t			 nheaders;
	size_t			 lines;		/* of the current response */
	size_t			 bytes;
	size_t			 last_len;	/* the last value, which a */
	size_t			 last_cap;	/* continuation may extend */
};

enum http_header_status	 http_parse_header_line(struct http_header_parser *,
			    const char *line, size_t len);
/* Free the headers: an empty parser again. */
void			 http_header_parser_clear(struct http_header_parser *);

/* curl_global_init() once (idempotent); see above. */
void			 http_global_init(void);
void			 http_global_cleanup(void);

#endif
