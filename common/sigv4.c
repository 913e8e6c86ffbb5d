/*
 * sigv4: AWS Signature Version 4 (AWS4-HMAC-SHA256).  See sigv4.h and
 * shared/design/AWS-PROTOCOL.md section 1 for the rules and their sources.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "buf.h"
#include "log.h"
#include "sigv4.h"
#include "util.h"
#include "xmalloc.h"

#define SIGV4_ALGORITHM		"AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR	"aws4_request"
#define SIGV4_SCOPE_MAX		64	/* region/service length kept in cache */
#define SIGV4_SECRET_MAX	1024

struct sigv4_keyent {
	int		 used;
	uint64_t	 stamp;			/* LRU clock at last use */
	unsigned char	 secret_id[32];		/* HMAC(cache salt, secret) */
	char		 date[9];
	char		 region[SIGV4_SCOPE_MAX];
	char		 service[SIGV4_SCOPE_MAX];
	unsigned char	 key[32];
};

struct sigv4_keycache {
	unsigned char		 salt[32];
	uint64_t		 clock;
	unsigned long		 hits;
	unsigned long		 misses;
	unsigned long		 evictions;
	struct sigv4_keyent	 ent[SIGV4_KEYCACHE_SIZE];
};

/* One canonical header: lower-cased name, normalised value. */
struct sigv4_chdr {
	char	*name;
	char	*value;
	size_t	 index;		/* original position, for a stable sort */
};

struct sigv4_qparam {
	char	*key;		/* encoded */
	char	*value;		/* encoded */
};

/*
 * Headers SDKs leave unsigned (botocore SIGNED_HEADERS_BLACKLIST, aws-c-auth
 * s_skipped_headers, Go's ignored headers) plus authorization itself.
 */
static const char *const sigv4_skipped[] = {
	"authorization",
	"connection",
	"expect",
	"keep-alive",
	"proxy-authenticate",
	"proxy-authorization",
	"sec-websocket-key",
	"sec-websocket-protocol",
	"sec-websocket-version",
	"te",
	"trailer",
	"transfer-encoding",
	"upgrade",
	"user-agent",
	"x-amzn-trace-id",
};

static const char sigv4_hexdig[] = "0123456789ABCDEF";

static void
sigv4_hmac(const void *key, size_t keylen, const void *data, size_t len,
    unsigned char out[32])
{
	unsigned int	 outlen = 32;

	if (HMAC(EVP_sha256(), key, (int)keylen, data, len, out,
	    &outlen) == NULL || outlen != 32)
		fatalx("sigv4: HMAC-SHA256 failed");
}

void
sigv4_signing_key(const char *secret, const char *date8, const char *region,
    const char *service, unsigned char out[32])
{
	unsigned char	 k[32];
	size_t		 slen = strlen(secret);
	char		*ksecret;

	ksecret = xmalloc(slen + 5);
	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen + 1);
	sigv4_hmac(ksecret, slen + 4, date8, strlen(date8), k);
	freezero(ksecret, slen + 5);
	sigv4_hmac(k, sizeof(k), region, strlen(region), k);
	sigv4_hmac(k, sizeof(k), service, strlen(service), k);
	sigv4_hmac(k, sizeof(k), SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR),
	    out);
	OPENSSL_cleanse(k, sizeof(k));
}

/* ---- key cache --------------------------------------------------------- */

struct sigv4_keycache *
sigv4_keycache_new(void)
{
	struct sigv4_keycache	*kc;

	kc = xcalloc(1, sizeof(*kc));
	if (RAND_bytes(kc->salt, sizeof(kc->salt)) != 1)
		fatalx("sigv4: RAND_bytes failed");
	return kc;
}

void
sigv4_keycache_free(struct sigv4_keycache *kc)
{
	if (kc == NULL)
		return;
	OPENSSL_cleanse(kc, sizeof(*kc));
	free(kc);
}

void
sigv4_keycache_stats(const struct sigv4_keycache *kc,
    struct sigv4_keycache_stats *st)
{
	size_t	 i;

	memset(st, 0, sizeof(*st));
	if (kc == NULL)
		return;
	st->hits = kc->hits;
	st->misses = kc->misses;
	st->evictions = kc->evictions;
	for (i = 0; i < SIGV4_KEYCACHE_SIZE; i++)
		if (kc->ent[i].used)
			st->entries++;
}

static void
sigv4_keycache_key(struct sigv4_keycache *kc, const char *secret,
    const char *date8, const char *region, const char *service,
    unsigned char out[32])
{
	struct sigv4_keyent	*e, *victim = NULL;
	unsigned char		 id[32];
	size_t			 i;

	if (kc == NULL || strlen(region) >= SIGV4_SCOPE_MAX ||
	    strlen(service) >= SIGV4_SCOPE_MAX) {
		sigv4_signing_key(secret, date8, region, service, out);
		return;
	}
	/* Keyed hash: the cache never holds the secret, nor a plain hash. */
	sigv4_hmac(kc->salt, sizeof(kc->salt), secret, strlen(secret), id);

	for (i = 0; i < SIGV4_KEYCACHE_SIZE; i++) {
		e = &kc->ent[i];
		if (!e->used) {
			if (victim == NULL || victim->used)
				victim = e;
			continue;
		}
		if (CRYPTO_memcmp(e->secret_id, id, sizeof(id)) == 0 &&
		    strcmp(e->date, date8) == 0 &&
		    strcmp(e->region, region) == 0 &&
		    strcmp(e->service, service) == 0) {
			e->stamp = ++kc->clock;
			kc->hits++;
			memcpy(out, e->key, 32);
			OPENSSL_cleanse(id, sizeof(id));
			return;
		}
		if (victim == NULL || (victim->used && e->stamp < victim->stamp))
			victim = e;
	}

	kc->misses++;
	sigv4_signing_key(secret, date8, region, service, out);
	if (victim->used)
		kc->evictions++;
	OPENSSL_cleanse(victim, sizeof(*victim));
	victim->used = 1;
	victim->stamp = ++kc->clock;
	memcpy(victim->secret_id, id, sizeof(id));
	memcpy(victim->date, date8, 9);
	snprintf(victim->region, sizeof(victim->region), "%s", region);
	snprintf(victim->service, sizeof(victim->service), "%s", service);
	memcpy(victim->key, out, 32);
	OPENSSL_cleanse(id, sizeof(id));
}

/* ---- path -------------------------------------------------------------- */

static int
sigv4_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

static int
sigv4_hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
sigv4_encode_byte(struct buf *b, unsigned char c)
{
	char	 x[3];

	x[0] = '%';
	x[1] = sigv4_hexdig[c >> 4];
	x[2] = sigv4_hexdig[c & 0xf];
	buf_add(b, x, 3);
}

/* Encode every byte except the unreserved ones (and '/' if keep_slash). */
static void
sigv4_encode(struct buf *b, const char *s, size_t len, int keep_slash)
{
	size_t		 i;
	unsigned char	 c;

	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (sigv4_unreserved(c) || (keep_slash && c == '/'))
			buf_addch(b, (char)c);
		else
			sigv4_encode_byte(b, c);
	}
}

/*
 * Non-S3: RFC 3986 5.2.4 dot-segment removal with empty segments dropped
 * (repeated slashes collapse); a trailing slash survives, and a final "." or
 * ".." leaves one, as in the RFC ("/a/b/.." -> "/a/").  The result is then
 * URI-encoded: a '%' already on the wire becomes "%25".
 */
static char *
sigv4_path_normalised(const char *path)
{
	struct buf	 out;
	const char	**seg;
	size_t		*seglen, nseg = 0, cap, i, n;
	const char	*p, *s;
	int		 trailing = 0;

	cap = 1;
	for (p = path; *p != '\0'; p++)
		if (*p == '/')
			cap++;
	seg = xreallocarray(NULL, cap, sizeof(*seg));
	seglen = xreallocarray(NULL, cap, sizeof(*seglen));

	for (p = path; *p != '\0'; p = s) {
		while (*p == '/')
			p++;
		if (*p == '\0') {
			trailing = 1;
			break;
		}
		s = p + strcspn(p, "/");
		n = (size_t)(s - p);
		trailing = 0;
		if (n == 1 && p[0] == '.')
			trailing = 1;
		else if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
			trailing = 1;
		} else {
			seg[nseg] = p;
			seglen[nseg++] = n;
		}
	}

	buf_init(&out);
	buf_addch(&out, '/');
	for (i = 0; i < nseg; i++) {
		if (i > 0)
			buf_addch(&out, '/');
		sigv4_encode(&out, seg[i], seglen[i], 0);
	}
	if (trailing && nseg > 0)
		buf_addch(&out, '/');
	free(seg);
	free(seglen);
	return buf_release(&out);
}

/*
 * S3: no normalisation, single encoding.  The path as on the wire is used
 * as it is when it is already encoded; bytes that would not be valid on the
 * wire are encoded, %XY escapes are kept (hex upper-cased, escapes of
 * unreserved bytes decoded), so an SDK-encoded key comes out unchanged.
 */
static char *
sigv4_path_s3(const char *path)
{
	struct buf	 out;
	const char	*p;
	unsigned char	 c;
	int		 hi, lo;

	buf_init(&out);
	if (*path != '/')
		buf_addch(&out, '/');
	for (p = path; *p != '\0'; p++) {
		c = (unsigned char)*p;
		if (c == '%' && (hi = sigv4_hexval(p[1])) >= 0 &&
		    (lo = sigv4_hexval(p[2])) >= 0) {
			c = (unsigned char)(hi << 4 | lo);
			if (sigv4_unreserved(c))
				buf_addch(&out, (char)c);
			else
				sigv4_encode_byte(&out, c);
			p += 2;
		} else if (sigv4_unreserved(c) || c == '/')
			buf_addch(&out, (char)c);
		else
			sigv4_encode_byte(&out, c);
	}
	return buf_release(&out);
}

char *
sigv4_canonical_path(const char *path, int s3)
{
	if (path == NULL)
		path = "";
	return s3 ? sigv4_path_s3(path) : sigv4_path_normalised(path);
}

/* ---- query ------------------------------------------------------------- */

/* Decode %XY (not '+'), then encode for the canonical query string. */
static char *
sigv4_query_component(const char *s, size_t len)
{
	struct buf	 out;
	size_t		 i;
	unsigned char	 c;
	int		 hi, lo;

	buf_init(&out);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '%' && i + 2 < len &&
		    (hi = sigv4_hexval(s[i + 1])) >= 0 &&
		    (lo = sigv4_hexval(s[i + 2])) >= 0) {
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (sigv4_unreserved(c))
			buf_addch(&out, (char)c);
		else
			sigv4_encode_byte(&out, c);
	}
	return buf_release(&out);
}

static int
sigv4_qparam_cmp(const void *a, const void *b)
{
	const struct sigv4_qparam	*pa = a, *pb = b;
	int				 r;

	if ((r = strcmp(pa->key, pb->key)) != 0)
		return r;
	return strcmp(pa->value, pb->value);
}

char *
sigv4_canonical_query(const char *query)
{
	struct sigv4_qparam	*params = NULL;
	struct buf		 out;
	size_t			 n = 0, cap = 0, i, len, klen;
	const char		*p, *amp, *eq;

	if (query == NULL)
		return xstrdup("");
	for (p = query; *p != '\0'; p = *amp == '\0' ? amp : amp + 1) {
		amp = p + strcspn(p, "&");
		len = (size_t)(amp - p);
		if (len == 0)
			continue;		/* "a=1&&b=2", trailing '&' */
		eq = memchr(p, '=', len);
		klen = eq != NULL ? (size_t)(eq - p) : len;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			params = xreallocarray(params, cap, sizeof(*params));
		}
		params[n].key = sigv4_query_component(p, klen);
		if (eq != NULL)
			params[n].value = sigv4_query_component(eq + 1,
			    len - klen - 1);
		else
			params[n].value = xstrdup("");
		n++;
	}
	if (n > 1)
		qsort(params, n, sizeof(*params), sigv4_qparam_cmp);

	buf_init(&out);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addch(&out, '&');
		buf_addstr(&out, params[i].key);
		buf_addch(&out, '=');
		buf_addstr(&out, params[i].value);
		free(params[i].key);
		free(params[i].value);
	}
	free(params);
	return buf_release(&out);
}

/* ---- headers ----------------------------------------------------------- */

static int
sigv4_tchar(unsigned char c)
{
	if (isalnum(c))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
sigv4_is_token(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!sigv4_tchar((unsigned char)*s))
			return 0;
	return 1;
}

static int
sigv4_skipped_header(const char *lname)
{
	size_t	 i;

	for (i = 0; i < nitems(sigv4_skipped); i++)
		if (strcmp(lname, sigv4_skipped[i]) == 0)
			return 1;
	return 0;
}

static int
sigv4_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/*
 * Trim, collapse whitespace runs (folded lines included) into one space.
 * Returns NULL for a value that could not be sent as is: a line break not
 * followed by a space or tab (that would be a new header line), a bare CR,
 * or another control character.
 */
static char *
sigv4_header_value(const char *v)
{
	struct buf	 out;
	const char	*p;
	unsigned char	 c;
	int		 pending = 0;

	buf_init(&out);
	for (p = v; *p != '\0'; p++) {
		c = (unsigned char)*p;
		if (c == '\r' && p[1] != '\n')
			goto bad;
		if (c == '\n' && p[1] != ' ' && p[1] != '\t')
			goto bad;
		if (sigv4_ws(c)) {
			pending = 1;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			goto bad;
		if (pending && out.len > 0)
			buf_addch(&out, ' ');
		pending = 0;
		buf_addch(&out, (char)c);
	}
	return buf_release(&out);
bad:
	buf_free(&out);
	return NULL;
}

static char *
sigv4_lower(const char *s)
{
	char	*l, *p;

	l = xstrdup(s);
	for (p = l; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return l;
}

static int
sigv4_chdr_cmp(const void *a, const void *b)
{
	const struct sigv4_chdr	*ha = a, *hb = b;
	int			 r;

	if ((r = strcmp(ha->name, hb->name)) != 0)
		return r;
	return ha->index < hb->index ? -1 : ha->index > hb->index;
}

static void
sigv4_chdrs_free(struct sigv4_chdr *h, size_t n)
{
	size_t	 i;

	if (h == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(h[i].name);
		freezero_str(h[i].value);	/* may hold a session token */
	}
	free(h);
}

/* The (normalised) value of header lname among hs, or NULL. */
static const char *
sigv4_chdr_find(const struct sigv4_chdr *hs, size_t n, const char *lname)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(hs[i].name, lname) == 0)
			return hs[i].value;
	return NULL;
}

/* ---- date and checks --------------------------------------------------- */

static int
sigv4_valid_amzdate(const char *d)
{
	size_t	 i;

	if (strlen(d) != 16 || d[8] != 'T' || d[15] != 'Z')
		return 0;
	for (i = 0; i < 15; i++)
		if (i != 8 && !isdigit((unsigned char)d[i]))
			return 0;
	return 1;
}

/* A Date header: basic ISO 8601 as is, or RFC 7231 IMF-fixdate. */
static int
sigv4_date_header(const char *v, char out[17])
{
	struct tm	 tm;
	const char	*end;
	time_t		 t;

	if (sigv4_valid_amzdate(v)) {
		memcpy(out, v, 17);
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (end == NULL || *end != '\0')
		return -1;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	time_amz(t, out);
	return sigv4_valid_amzdate(out) ? 0 : -1;
}

/* Credential scope parts: non-empty, lowercase, no separators. */
static int
sigv4_valid_scope_part(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

static int
sigv4_valid_access_key(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return 0;
	return 1;
}

static int
sigv4_valid_payload_hash(const char *h)
{
	size_t	 i, len = strlen(h);

	if (strcmp(h, "UNSIGNED-PAYLOAD") == 0)
		return 1;
	if (strncmp(h, "STREAMING-", 10) == 0 && len <= 64)
		return sigv4_is_token(h);
	if (len != 64)
		return 0;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)h[i]) && (h[i] < 'a' || h[i] > 'f'))
			return 0;
	return 1;
}

/* ---- signing ----------------------------------------------------------- */

void
sigv4_output_free(struct sigv4_output *out)
{
	if (out == NULL)
		return;
	freezero_str(out->creq);	/* holds the session token */
	free(out->sts);
	free(out->authz);
	free(out->signed_headers);
	out->creq = out->sts = out->authz = out->signed_headers = NULL;
}

static int
sigv4_fail(char **cause, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
sigv4_fail(char **cause, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (cause != NULL)
		*cause = msg;
	else
		free(msg);
	return -1;
}

int
sigv4_sign(const struct sigv4_input *in, struct sigv4_keycache *kc,
    struct sigv4_output *ret, char **cause)
{
	struct sigv4_output	 out;
	struct sigv4_chdr	*hs = NULL;
	struct buf		 creq, sts, sh, authz;
	unsigned char		 key[32], sig[32];
	char			 date[17], date8[9], creq_hash[65], sighex[65];
	char			*cpath = NULL, *cquery = NULL, *v;
	const char		*hv, *tok;
	size_t			 nh = 0, i, j;
	int			 rv = -1;

	memset(&out, 0, sizeof(out));
	buf_init_secure(&creq);		/* holds X-Amz-Security-Token */
	buf_init(&sts);
	buf_init(&sh);
	buf_init(&authz);

	if (in->method == NULL || !sigv4_is_token(in->method))
		return sigv4_fail(cause, "sigv4: bad or missing HTTP method");
	if (!sigv4_valid_access_key(in->access_key))
		return sigv4_fail(cause, "sigv4: bad or missing access key id");
	if (in->secret_key == NULL || *in->secret_key == '\0' ||
	    strlen(in->secret_key) > SIGV4_SECRET_MAX)
		return sigv4_fail(cause, "sigv4: bad or missing secret key");
	if (!sigv4_valid_scope_part(in->region))
		return sigv4_fail(cause, "sigv4: bad or missing region "
		    "(lowercase letters, digits, '-', '_', '.')");
	if (!sigv4_valid_scope_part(in->service))
		return sigv4_fail(cause, "sigv4: bad or missing service "
		    "(lowercase letters, digits, '-', '_', '.')");
	if (in->payload == NULL && in->payload_len > 0)
		return sigv4_fail(cause, "sigv4: payload_len without payload");
	if (in->nheaders > 0 && in->headers == NULL)
		return sigv4_fail(cause, "sigv4: nheaders without headers");
	if (in->payload_hash != NULL &&
	    !sigv4_valid_payload_hash(in->payload_hash))
		return sigv4_fail(cause, "sigv4: bad payload hash (64 lowercase "
		    "hex digits or UNSIGNED-PAYLOAD)");

	/* Canonical headers: lower-case, normalise, drop unsigned ones. */
	hs = xreallocarray(NULL, in->nheaders + 2, sizeof(*hs));
	for (i = 0; i < in->nheaders; i++) {
		const struct sigv4_header *h = &in->headers[i];

		if (h->name == NULL || !sigv4_is_token(h->name)) {
			sigv4_fail(cause, "sigv4: header %zu: bad name", i);
			goto out;
		}
		if (h->value == NULL) {
			sigv4_fail(cause, "sigv4: header %s: no value",
			    h->name);
			goto out;
		}
		if ((v = sigv4_header_value(h->value)) == NULL) {
			sigv4_fail(cause, "sigv4: header %s: control "
			    "character or line break in value", h->name);
			goto out;
		}
		hs[nh].name = sigv4_lower(h->name);
		hs[nh].value = v;
		hs[nh].index = i;
		if (sigv4_skipped_header(hs[nh].name)) {
			free(hs[nh].name);
			freezero_str(hs[nh].value);
			continue;
		}
		nh++;
	}

	if ((hv = sigv4_chdr_find(hs, nh, "host")) == NULL || *hv == '\0') {
		sigv4_fail(cause, "sigv4: missing host header");
		goto out;
	}

	/* Date: argument, x-amz-date header, or Date header. */
	if ((hv = sigv4_chdr_find(hs, nh, "x-amz-date")) != NULL) {
		if (!sigv4_valid_amzdate(hv)) {
			sigv4_fail(cause, "sigv4: bad x-amz-date header "
			    "(want YYYYMMDDTHHMMSSZ)");
			goto out;
		}
		memcpy(date, hv, 17);
	} else if ((hv = sigv4_chdr_find(hs, nh, "date")) != NULL) {
		if (sigv4_date_header(hv, date) != 0) {
			sigv4_fail(cause, "sigv4: bad date header");
			goto out;
		}
	} else {
		sigv4_fail(cause, "sigv4: missing x-amz-date (or date) header");
		goto out;
	}
	if (in->amz_date != NULL) {
		if (!sigv4_valid_amzdate(in->amz_date)) {
			sigv4_fail(cause, "sigv4: bad amz_date (want "
			    "YYYYMMDDTHHMMSSZ)");
			goto out;
		}
		if (strcmp(in->amz_date, date) != 0) {
			sigv4_fail(cause, "sigv4: amz_date %s does not match "
			    "the request's date %s", in->amz_date, date);
			goto out;
		}
	}
	memcpy(date8, date, 8);
	date8[8] = '\0';

	/* Session token: signed as a header unless the caller sent one. */
	if (in->session_token != NULL) {
		if ((v = sigv4_header_value(in->session_token)) == NULL ||
		    *v == '\0') {
			freezero_str(v);
			sigv4_fail(cause, "sigv4: bad session token");
			goto out;
		}
		tok = sigv4_chdr_find(hs, nh, "x-amz-security-token");
		if (tok == NULL) {
			hs[nh].name = xstrdup("x-amz-security-token");
			hs[nh].value = v;
			hs[nh].index = in->nheaders;
			nh++;
			out.token_header = 1;
		} else {
			j = strcmp(tok, v);
			freezero_str(v);
			if (j != 0) {
				sigv4_fail(cause, "sigv4: session token differs "
				    "from the x-amz-security-token header");
				goto out;
			}
		}
	}

	/* Payload hash. */
	hv = in->s3 ? sigv4_chdr_find(hs, nh, "x-amz-content-sha256") : NULL;
	if (hv != NULL && !sigv4_valid_payload_hash(hv)) {
		sigv4_fail(cause, "sigv4: bad x-amz-content-sha256 header");
		goto out;
	}
	if (hv != NULL && in->payload_hash != NULL &&
	    strcmp(hv, in->payload_hash) != 0) {
		sigv4_fail(cause, "sigv4: payload_hash differs from the "
		    "x-amz-content-sha256 header");
		goto out;
	}
	if (in->payload_hash != NULL)
		snprintf(out.payload_hash, sizeof(out.payload_hash), "%s",
		    in->payload_hash);
	else if (hv != NULL)
		snprintf(out.payload_hash, sizeof(out.payload_hash), "%s", hv);
	else
		sha256_hex(in->payload_len > 0 ? in->payload : "",
		    in->payload_len, out.payload_hash);
	if (in->s3 && hv == NULL) {
		hs[nh].name = xstrdup("x-amz-content-sha256");
		hs[nh].value = xstrdup(out.payload_hash);
		hs[nh].index = in->nheaders + 1;
		nh++;
		out.content_sha256_header = 1;
	}

	/* Sort (stable for duplicates), join duplicates with ','. */
	qsort(hs, nh, sizeof(*hs), sigv4_chdr_cmp);

	cpath = sigv4_canonical_path(in->path, in->s3);
	cquery = sigv4_canonical_query(in->query);

	buf_addstr(&creq, in->method);
	buf_addch(&creq, '\n');
	buf_addstr(&creq, cpath);
	buf_addch(&creq, '\n');
	buf_addstr(&creq, cquery);
	buf_addch(&creq, '\n');
	for (i = 0; i < nh; i = j) {
		buf_addstr(&creq, hs[i].name);
		buf_addch(&creq, ':');
		buf_addstr(&creq, hs[i].value);
		for (j = i + 1; j < nh && strcmp(hs[j].name, hs[i].name) == 0;
		    j++) {
			buf_addch(&creq, ',');
			buf_addstr(&creq, hs[j].value);
		}
		buf_addch(&creq, '\n');
		if (sh.len > 0)
			buf_addch(&sh, ';');
		buf_addstr(&sh, hs[i].name);
	}
	buf_addch(&creq, '\n');
	buf_addstr(&creq, buf_str(&sh));
	buf_addch(&creq, '\n');
	buf_addstr(&creq, out.payload_hash);

	sha256_hex(creq.data, creq.len, creq_hash);
	buf_printf(&sts, SIGV4_ALGORITHM "\n%s\n%s/%s/%s/" SIGV4_TERMINATOR
	    "\n%s", date, date8, in->region, in->service, creq_hash);

	sigv4_keycache_key(kc, in->secret_key, date8, in->region, in->service,
	    key);
	sigv4_hmac(key, sizeof(key), sts.data, sts.len, sig);
	OPENSSL_cleanse(key, sizeof(key));
	hex_encode(sig, sizeof(sig), sighex);

	buf_printf(&authz, SIGV4_ALGORITHM " Credential=%s/%s/%s/%s/"
	    SIGV4_TERMINATOR ", SignedHeaders=%s, Signature=%s",
	    in->access_key, date8, in->region, in->service, buf_str(&sh),
	    sighex);

	out.creq = buf_release(&creq);
	out.sts = buf_release(&sts);
	out.authz = buf_release(&authz);
	out.signed_headers = buf_release(&sh);
	*ret = out;
	rv = 0;
out:
	sigv4_chdrs_free(hs, nh);
	free(cpath);
	free(cquery);
	buf_freezero(&creq);	/* the canonical request holds the token */
	buf_free(&sts);
	buf_free(&sh);
	buf_free(&authz);
	return rv;
}
