/*
 * sigv4: AWS Signature Version 4 (AWS4-HMAC-SHA256).
 *
 * Input is the request as it will go on the wire (method, path and query
 * exactly as sent, headers, payload); output is the canonical request, the
 * string to sign and the Authorization header value.  Reproduces every case
 * of the AWS SigV4 test suite byte for byte (tests/data/sigv4).
 *
 * Non-S3 services: the path is normalised (RFC 3986 5.2.4 dot segments,
 * repeated slashes collapsed, trailing slash kept) and then URI-encoded once
 * more ("double encoding": a wire "%20" becomes "%2520").  S3: the path is
 * used as on the wire, not normalised, and x-amz-content-sha256 is signed.
 *
 * Header handling: names lower-cased and sorted; values trimmed, inner runs
 * of whitespace collapsed, folded continuation lines joined with a single
 * space; duplicate names joined with ',' in their original order.  Headers
 * that SDKs leave unsigned (user-agent, authorization, connection, expect,
 * transfer-encoding, x-amzn-trace-id, ...) are skipped.
 *
 * Signing keys are derived once per (secret, date, region, service) and
 * kept in a small cache; cached keys are wiped when evicted or freed.
 *
 * Details beyond the rules above (all covered by tests/unit/test_sigv4.c):
 * - Non-S3 paths: dot segments are removed as in RFC 3986 5.2.4, so a final
 *   "." or ".." leaves a trailing slash ("/a/b/.." -> "/a/"), which is also
 *   what libcurl puts on the wire.
 * - S3 paths: single encoding means bytes that cannot appear on the wire
 *   are encoded and existing %XY escapes are kept (hex upper-cased; escapes
 *   of unreserved characters decoded), so an encoded key is used unchanged.
 * - Query: split on '&' (empty pieces dropped) and the first '='; each part
 *   is %-decoded ('+' is a literal plus, as in aws-c-auth) and re-encoded;
 *   "key" and "key=" both give "key="; sorted by encoded key, then value.
 * - Header values: a line break must be followed by a space or tab (a
 *   folded line); other control characters are refused, so a value that
 *   would inject a header line never gets signed.
 * - The date is taken from x-amz-date, else from a Date header (basic ISO
 *   8601 or IMF-fixdate); amz_date, when given, must agree with it.
 * - Region, service: lowercase letters, digits, '-', '_', '.'.  Access key
 *   id: letters, digits, '_', '-'.  Messages in *cause never contain header
 *   values, tokens or keys.
 * - The key cache is keyed by an HMAC of the secret under a per-cache
 *   random key, never by the secret; it holds each signing key as the
 *   HMAC-SHA256 state after its pads, so a cached key costs no key setup.
 * - Threads: sigv4_sign() with a NULL cache may be called from any thread
 *   (SHA-256 is fetched from OpenSSL once per process, under
 *   CRYPTO_THREAD_run_once); a cache, with the OpenSSL contexts it keeps,
 *   belongs to one thread at a time (the daemon: one per client, one event
 *   loop).
 * - Hashing goes through OpenSSL's EVP interface (the configured provider,
 *   a FIPS provider included); the implementation and its costs are
 *   described at the top of sigv4.c and in bench/README.md.
 */
#ifndef CLOUDSAGA_SIGV4_H
#define CLOUDSAGA_SIGV4_H

#include <stddef.h>

struct sigv4_header {
	const char	*name;
	const char	*value;
};

struct sigv4_input {
	const char			*method;	/* "GET", "POST" */
	const char			*path;		/* as on the wire, "" = "/" */
	const char			*query;		/* as on the wire, no '?'; NULL ok */
	const struct sigv4_header	*headers;	/* must include host, x-amz-date */
	size_t				 nheaders;
	const void			*payload;
	size_t				 payload_len;
	/* Precomputed hex payload hash or "UNSIGNED-PAYLOAD"; NULL = hash it. */
	const char			*payload_hash;

	const char	*access_key;
	const char	*secret_key;
	/*
	 * Session token.  When non-NULL and no x-amz-security-token header is
	 * among headers, it is signed as if that header were present (the
	 * caller must then send it: see sigv4_output.token_header).
	 */
	const char	*session_token;
	const char	*region;	/* credential scope region, lowercase */
	const char	*service;	/* signing name, lowercase */
	/*
	 * X-Amz-Date value ("20150830T123600Z").  NULL: taken from the
	 * x-amz-date header (or the date header) among headers.
	 */
	const char	*amz_date;
	int		 s3;		/* S3 rules: no normalisation, single
					   encoding, x-amz-content-sha256 */
};

/*
 * The four strings share one allocation (creq first, signed_headers last),
 * wiped and freed by sigv4_output_free() only (creq holds the session
 * token).
 */
struct sigv4_output {
	char	*creq;		/* canonical request */
	char	*sts;		/* string to sign */
	char	*authz;		/* Authorization header value */
	char	*signed_headers;/* "host;x-amz-date" */
	char	 payload_hash[65];
	/* 1 when session_token was signed as an added header. */
	int	 token_header;
	/* 1 when x-amz-content-sha256 was signed as an added header (S3). */
	int	 content_sha256_header;
};

struct sigv4_keycache;

/* Entries kept by a key cache (least recently used evicted first). */
#define SIGV4_KEYCACHE_SIZE	8

struct sigv4_keycache_stats {
	unsigned long	 hits;
	unsigned long	 misses;	/* keys derived */
	unsigned long	 evictions;
	unsigned int	 entries;	/* in use now */
};

struct sigv4_keycache	*sigv4_keycache_new(void);
void			 sigv4_keycache_free(struct sigv4_keycache *);
/* Counters, for tests and debug logs; NULL cache gives zeros. */
void			 sigv4_keycache_stats(const struct sigv4_keycache *,
			    struct sigv4_keycache_stats *);

/*
 * Sign.  cache may be NULL.  Returns 0 and fills *out (free with
 * sigv4_output_free), or -1 with an allocated message in *cause.
 */
int	 sigv4_sign(const struct sigv4_input *, struct sigv4_keycache *,
	    struct sigv4_output *out, char **cause);
void	 sigv4_output_free(struct sigv4_output *);

/* Derive the 32-byte signing key (exposed for the known-answer test). */
void	 sigv4_signing_key(const char *secret, const char *date8,
	    const char *region, const char *service, unsigned char out[32]);

/* Pieces, exposed for tests and fuzzing.  Allocated results. */
char	*sigv4_canonical_path(const char *path, int s3);
char	*sigv4_canonical_query(const char *query);

#endif
