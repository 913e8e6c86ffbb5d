/*
 * sigv4: AWS Signature Version 4 (AWS4-HMAC-SHA256).  See sigv4.h and
 * shared/design/AWS-PROTOCOL.md section 1 for the rules and their sources.
 *
 * Speed (bench/sigv4, bench/README.md).  OpenSSL 3 looks the algorithm up
 * in its provider tables on every EVP_Digest()/HMAC() call given
 * EVP_sha256(), which cost more than the hashing itself.  Here SHA-256 is
 * fetched once per process (EVP_MD_fetch, under CRYPTO_THREAD_run_once) and
 * every hash runs on a reused EVP_MD_CTX; HMAC-SHA256 is done by hand
 * (RFC 2104) from two contexts that already hold the key's inner and outer
 * pads, copied into the working context for each message, so a signing key
 * kept in the cache costs no key setup at all.  The canonical request is
 * built in a stack buffer (the heap only for very large requests) and the
 * four output strings share one allocation.  Everything goes through the
 * EVP interface, so the configured provider (a FIPS provider included)
 * does the hashing.
 *
 * Threads: the fetched SHA-256 is shared and immutable; everything else is
 * on the stack or in the key cache.  sigv4_sign() without a cache is safe
 * from any thread; a cache, with its contexts, must be used by one thread
 * at a time (the daemon is single-threaded: one cache per client).
 *
 * Size: the four SigV4 steps (canonical request, string to sign, key
 * derivation with its cache, signature) and their input checks; about a
 * third of the file is the canonicalisation rules with their sources.
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
#define SIGV4_BLOCK		64	/* SHA-256 block size (HMAC pads) */
#define SIGV4_STACK_HDRS	16	/* canonical headers kept on the stack */
#define SIGV4_STACK_SCRATCH	1024	/* header names and values */
#define SIGV4_STACK_TEXT	2048	/* canonical request and the rest */

/*
 * HMAC-SHA256 with its key already absorbed: the SHA-256 states after the
 * key's inner (0x36) and outer (0x5c) pad blocks.  Equivalent to the key:
 * wiped when freed (OpenSSL clears a digest context's state on free and on
 * re-initialisation).
 */
struct sigv4_mac {
	EVP_MD_CTX	*inner;
	EVP_MD_CTX	*outer;
};

struct sigv4_keyent {
	int		 used;
	uint64_t	 stamp;			/* LRU clock at last use */
	unsigned char	 secret_id[32];		/* HMAC(cache salt, secret) */
	char		 date[9];
	char		 region[SIGV4_SCOPE_MAX];
	char		 service[SIGV4_SCOPE_MAX];
	struct sigv4_mac mac;			/* keyed with the signing key */
};

struct sigv4_keycache {
	struct sigv4_mac	 salt;		/* keyed with 32 random bytes */
	EVP_MD_CTX		*work;		/* every hash of a signature */
	uint64_t		 clock;
	unsigned long		 hits;
	unsigned long		 misses;
	unsigned long		 evictions;
	struct sigv4_keyent	*last;		/* most recent hit, tried first */
	struct sigv4_keyent	 ent[SIGV4_KEYCACHE_SIZE];
};

/*
 * A byte string built in a caller's stack array that moves to the heap
 * only when it must grow past it; wiped when dropped (it may hold a
 * session token).
 */
struct sigv4_sb {
	char	*p;
	size_t	 len;
	size_t	 cap;
	int	 heap;
};

/* One canonical header: offsets of its lower-cased name and normalised
 * value in the scratch string, then (sorting) pointers into it. */
struct sigv4_chdr {
	size_t		 name_off;
	size_t		 value_off;
	const char	*name;
	const char	*value;
	size_t		 namelen;
	size_t		 valuelen;
	size_t		 index;		/* original position, for a stable sort */
};

struct sigv4_qparam {
	char	*key;		/* encoded */
	char	*value;		/* encoded */
};

/*
 * Headers SDKs leave unsigned (botocore SIGNED_HEADERS_BLACKLIST, aws-c-auth
 * s_skipped_headers, Go's ignored headers) plus authorization itself.
 */
static const struct {
	const char	*name;
	size_t		 len;
} sigv4_skipped[] = {
#define SIGV4_SKIP(s)	{ s, sizeof(s) - 1 }
	SIGV4_SKIP("authorization"),
	SIGV4_SKIP("connection"),
	SIGV4_SKIP("expect"),
	SIGV4_SKIP("keep-alive"),
	SIGV4_SKIP("proxy-authenticate"),
	SIGV4_SKIP("proxy-authorization"),
	SIGV4_SKIP("sec-websocket-key"),
	SIGV4_SKIP("sec-websocket-protocol"),
	SIGV4_SKIP("sec-websocket-version"),
	SIGV4_SKIP("te"),
	SIGV4_SKIP("trailer"),
	SIGV4_SKIP("transfer-encoding"),
	SIGV4_SKIP("upgrade"),
	SIGV4_SKIP("user-agent"),
	SIGV4_SKIP("x-amzn-trace-id"),
#undef SIGV4_SKIP
};

static const char sigv4_hexdig[] = "0123456789ABCDEF";

/* ---- SHA-256 and HMAC-SHA256 -------------------------------------------- */

static CRYPTO_ONCE	 sigv4_once = CRYPTO_ONCE_STATIC_INIT;
static EVP_MD		*sigv4_md;	/* fetched once, never freed */

static void
sigv4_fetch(void)
{
	sigv4_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static const EVP_MD *
sigv4_sha256(void)
{
	if (!CRYPTO_THREAD_run_once(&sigv4_once, sigv4_fetch) ||
	    sigv4_md == NULL)
		fatalx("sigv4: cannot fetch SHA-256 from OpenSSL");
	return sigv4_md;
}

static EVP_MD_CTX *
sigv4_ctx_new(void)
{
	EVP_MD_CTX	*ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("sigv4: EVP_MD_CTX_new failed");
	return ctx;
}

static void
sigv4_update(EVP_MD_CTX *ctx, const void *data, size_t len)
{
	if (EVP_DigestUpdate(ctx, data, len) != 1)
		fatalx("sigv4: SHA-256 update failed");
}

static void
sigv4_final(EVP_MD_CTX *ctx, unsigned char out[32])
{
	unsigned int	 outlen = 32;

	if (EVP_DigestFinal_ex(ctx, out, &outlen) != 1 || outlen != 32)
		fatalx("sigv4: SHA-256 final failed");
}

static void
sigv4_digest(EVP_MD_CTX *work, const void *data, size_t len,
    unsigned char out[32])
{
	if (EVP_DigestInit_ex2(work, sigv4_sha256(), NULL) != 1)
		fatalx("sigv4: SHA-256 init failed");
	sigv4_update(work, data, len);
	sigv4_final(work, out);
}

/* Key an HMAC (RFC 2104): hash the key's inner and outer pad blocks. */
static void
sigv4_mac_key(struct sigv4_mac *m, EVP_MD_CTX *work, const void *key,
    size_t keylen)
{
	unsigned char		 pad[SIGV4_BLOCK], kh[32];
	const unsigned char	*k = key;
	size_t			 i;

	if (m->inner == NULL) {
		m->inner = sigv4_ctx_new();
		m->outer = sigv4_ctx_new();
	}
	if (keylen > SIGV4_BLOCK) {
		sigv4_digest(work, key, keylen, kh);
		k = kh;
		keylen = sizeof(kh);
	}
	if (EVP_DigestInit_ex2(m->inner, sigv4_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex2(m->outer, sigv4_sha256(), NULL) != 1)
		fatalx("sigv4: SHA-256 init failed");
	memset(pad, 0x36, sizeof(pad));
	for (i = 0; i < keylen; i++)
		pad[i] ^= k[i];
	sigv4_update(m->inner, pad, sizeof(pad));
	memset(pad, 0x5c, sizeof(pad));
	for (i = 0; i < keylen; i++)
		pad[i] ^= k[i];
	sigv4_update(m->outer, pad, sizeof(pad));
	OPENSSL_cleanse(pad, sizeof(pad));
	OPENSSL_cleanse(kh, sizeof(kh));
}

static void
sigv4_mac_run(const struct sigv4_mac *m, EVP_MD_CTX *work, const void *data,
    size_t len, unsigned char out[32])
{
	unsigned char	 ih[32];

	if (EVP_MD_CTX_copy_ex(work, m->inner) != 1)
		fatalx("sigv4: EVP_MD_CTX_copy_ex failed");
	sigv4_update(work, data, len);
	sigv4_final(work, ih);
	if (EVP_MD_CTX_copy_ex(work, m->outer) != 1)
		fatalx("sigv4: EVP_MD_CTX_copy_ex failed");
	sigv4_update(work, ih, sizeof(ih));
	sigv4_final(work, out);
}

static void
sigv4_mac_free(struct sigv4_mac *m)
{
	EVP_MD_CTX_free(m->inner);	/* clears the state */
	EVP_MD_CTX_free(m->outer);
	m->inner = m->outer = NULL;
}

/*
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request").
 */
static void
sigv4_derive(EVP_MD_CTX *work, const char *secret, const char *date8,
    const char *region, const char *service, unsigned char out[32])
{
	struct sigv4_mac	 m = { NULL, NULL };
	unsigned char		 k[32], stack[4 + SIGV4_SECRET_MAX], *ks = stack;
	size_t			 slen = strlen(secret);

	if (slen > SIGV4_SECRET_MAX)
		ks = xmalloc(4 + slen);
	memcpy(ks, "AWS4", 4);
	memcpy(ks + 4, secret, slen);
	sigv4_mac_key(&m, work, ks, 4 + slen);
	OPENSSL_cleanse(ks, 4 + slen);
	if (ks != stack)
		free(ks);
	sigv4_mac_run(&m, work, date8, strlen(date8), k);
	sigv4_mac_key(&m, work, k, sizeof(k));
	sigv4_mac_run(&m, work, region, strlen(region), k);
	sigv4_mac_key(&m, work, k, sizeof(k));
	sigv4_mac_run(&m, work, service, strlen(service), k);
	sigv4_mac_key(&m, work, k, sizeof(k));
	sigv4_mac_run(&m, work, SIGV4_TERMINATOR, strlen(SIGV4_TERMINATOR),
	    out);
	sigv4_mac_free(&m);
	OPENSSL_cleanse(k, sizeof(k));
}

void
sigv4_signing_key(const char *secret, const char *date8, const char *region,
    const char *service, unsigned char out[32])
{
	EVP_MD_CTX	*work = sigv4_ctx_new();

	sigv4_derive(work, secret, date8, region, service, out);
	EVP_MD_CTX_free(work);
}

/* ---- key cache --------------------------------------------------------- */

struct sigv4_keycache *
sigv4_keycache_new(void)
{
	struct sigv4_keycache	*kc;
	unsigned char		 salt[32];

	kc = xcalloc(1, sizeof(*kc));
	kc->work = sigv4_ctx_new();
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		fatalx("sigv4: RAND_bytes failed");
	sigv4_mac_key(&kc->salt, kc->work, salt, sizeof(salt));
	OPENSSL_cleanse(salt, sizeof(salt));
	return kc;
}

void
sigv4_keycache_free(struct sigv4_keycache *kc)
{
	size_t	 i;

	if (kc == NULL)
		return;
	for (i = 0; i < SIGV4_KEYCACHE_SIZE; i++)
		sigv4_mac_free(&kc->ent[i].mac);
	sigv4_mac_free(&kc->salt);
	EVP_MD_CTX_free(kc->work);
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

static int
sigv4_keyent_match(const struct sigv4_keyent *e, const unsigned char id[32],
    const char *date8, const char *region, const char *service)
{
	return e->used && memcmp(e->date, date8, 9) == 0 &&
	    strcmp(e->region, region) == 0 &&
	    strcmp(e->service, service) == 0 &&
	    CRYPTO_memcmp(e->secret_id, id, 32) == 0;
}

/*
 * The HMAC keyed with the signing key of (secret, date, region, service),
 * from the cache or derived into it (the least recently used entry goes).
 * The caller has checked that region and service fit.
 */
static const struct sigv4_mac *
sigv4_keycache_mac(struct sigv4_keycache *kc, const char *secret,
    const char *date8, const char *region, const char *service)
{
	struct sigv4_keyent	*e, *victim = NULL;
	unsigned char		 id[32], key[32];
	size_t			 i;

	/* Keyed hash: the cache never holds the secret, nor a plain hash. */
	sigv4_mac_run(&kc->salt, kc->work, secret, strlen(secret), id);

	e = kc->last;
	if (e != NULL && sigv4_keyent_match(e, id, date8, region, service))
		goto hit;
	for (i = 0; i < SIGV4_KEYCACHE_SIZE; i++) {
		e = &kc->ent[i];
		if (!e->used) {
			if (victim == NULL || victim->used)
				victim = e;
			continue;
		}
		if (sigv4_keyent_match(e, id, date8, region, service))
			goto hit;
		if (victim == NULL || (victim->used && e->stamp < victim->stamp))
			victim = e;
	}

	kc->misses++;
	if (victim->used)
		kc->evictions++;
	/* Re-keying the entry's contexts overwrites the old key's state. */
	sigv4_derive(kc->work, secret, date8, region, service, key);
	sigv4_mac_key(&victim->mac, kc->work, key, sizeof(key));
	OPENSSL_cleanse(key, sizeof(key));
	victim->used = 1;
	victim->stamp = ++kc->clock;
	memcpy(victim->secret_id, id, sizeof(id));
	memcpy(victim->date, date8, 9);
	snprintf(victim->region, sizeof(victim->region), "%s", region);
	snprintf(victim->service, sizeof(victim->service), "%s", service);
	OPENSSL_cleanse(id, sizeof(id));
	kc->last = victim;
	return &victim->mac;
hit:
	e->stamp = ++kc->clock;
	kc->hits++;
	kc->last = e;
	OPENSSL_cleanse(id, sizeof(id));
	return &e->mac;
}

/* ---- scratch strings ---------------------------------------------------- */

static void
sigv4_sb_init(struct sigv4_sb *sb, char *stack, size_t cap)
{
	sb->p = stack;
	sb->len = 0;
	sb->cap = cap;
	sb->heap = 0;
}

static void
sigv4_sb_grow(struct sigv4_sb *sb, size_t extra)
{
	size_t	 cap = sb->cap;
	char	*p;

	if (extra > SIZE_MAX / 2 - sb->len)
		fatalx("sigv4: request too large");
	while (cap < sb->len + extra)
		cap *= 2;
	p = xmalloc(cap);
	memcpy(p, sb->p, sb->len);
	if (sb->heap)
		freezero(sb->p, sb->cap);
	else
		explicit_bzero(sb->p, sb->len);
	sb->p = p;
	sb->cap = cap;
	sb->heap = 1;
}

static inline void
sigv4_sb_add(struct sigv4_sb *sb, const void *s, size_t len)
{
	if (sb->cap - sb->len < len)
		sigv4_sb_grow(sb, len);
	memcpy(sb->p + sb->len, s, len);
	sb->len += len;
}

static inline void
sigv4_sb_addch(struct sigv4_sb *sb, char c)
{
	if (sb->cap == sb->len)
		sigv4_sb_grow(sb, 1);
	sb->p[sb->len++] = c;
}

static inline void
sigv4_sb_addstr(struct sigv4_sb *sb, const char *s)
{
	sigv4_sb_add(sb, s, strlen(s));
}

/* Append len bytes found at off in the same string. */
static void
sigv4_sb_addself(struct sigv4_sb *sb, size_t off, size_t len)
{
	if (sb->cap - sb->len < len)
		sigv4_sb_grow(sb, len);
	memcpy(sb->p + sb->len, sb->p + off, len);
	sb->len += len;
}

static void
sigv4_sb_wipe(struct sigv4_sb *sb)
{
	if (sb->heap)
		freezero(sb->p, sb->cap);
	else
		explicit_bzero(sb->p, sb->len);
	sb->p = NULL;
	sb->len = sb->cap = 0;
	sb->heap = 0;
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

/* RFC 7230 tchar (ASCII only). */
static int
sigv4_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
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
sigv4_skipped_header(const char *lname, size_t len)
{
	size_t	 i;

	for (i = 0; i < nitems(sigv4_skipped); i++)
		if (sigv4_skipped[i].len == len &&
		    memcmp(lname, sigv4_skipped[i].name, len) == 0)
			return 1;
	return 0;
}

/* Append the name lower-cased (it is a token: ASCII); its length. */
static size_t
sigv4_add_lower(struct sigv4_sb *sb, const char *s)
{
	size_t	 len = strlen(s), i;
	char	*q;

	if (sb->cap - sb->len < len)
		sigv4_sb_grow(sb, len);
	q = sb->p + sb->len;
	for (i = 0; i < len; i++)
		q[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	sb->len += len;
	return len;
}

/*
 * Append the value trimmed, with whitespace runs (folded lines included)
 * collapsed into one space.  -1, with nothing appended, for a value that
 * could not be sent as is: a line break not followed by a space or tab
 * (that would be a new header line), a bare CR, or another control
 * character.
 */
static int
sigv4_add_value(struct sigv4_sb *sb, const char *v)
{
	size_t		 len = strlen(v);
	unsigned char	 c;
	char		*q, *start;
	int		 pending = 0;

	if (sb->cap - sb->len < len)
		sigv4_sb_grow(sb, len);	/* never longer than the input */
	q = start = sb->p + sb->len;
	for (; (c = (unsigned char)*v) != '\0'; v++) {
		if (!pending && c > 0x20 && c != 0x7f) {
			/* The common case: a run of visible bytes. */
			*q++ = (char)c;
			while ((c = (unsigned char)v[1]) > 0x20 && c != 0x7f) {
				*q++ = (char)c;
				v++;
			}
		} else if (c > 0x20 && c != 0x7f) {
			if (pending && q > start)
				*q++ = ' ';
			pending = 0;
			*q++ = (char)c;
		} else if (c == ' ' || c == '\t')
			pending = 1;
		else if (c == '\r' && v[1] == '\n')
			pending = 1;
		else if (c == '\n' && (v[1] == ' ' || v[1] == '\t'))
			pending = 1;
		else {
			explicit_bzero(start, (size_t)(q - start));
			return -1;
		}
	}
	sb->len += (size_t)(q - start);
	return 0;
}

/* Drop everything from off on (wiped: it may be a secret). */
static void
sigv4_sb_truncate(struct sigv4_sb *sb, size_t off)
{
	explicit_bzero(sb->p + off, sb->len - off);
	sb->len = off;
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

/* Offset of the (normalised) value of header lname among hs, or 0. */
static size_t
sigv4_chdr_find(const struct sigv4_sb *sc, const struct sigv4_chdr *hs,
    size_t n, const char *lname, size_t len)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (hs[i].namelen == len &&
		    memcmp(sc->p + hs[i].name_off, lname, len) == 0)
			return hs[i].value_off;
	return 0;
}
#define SIGV4_FIND(sc, hs, n, s)	sigv4_chdr_find(sc, hs, n, s, sizeof(s) - 1)

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
	/* One allocation, creq first and signed_headers last (sigv4.h). */
	if (out->creq != NULL)
		freezero(out->creq, (size_t)(out->signed_headers - out->creq) +
		    strlen(out->signed_headers) + 1);
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

/* Stable sort of the (few) canonical headers by name. */
static void
sigv4_chdrs_sort(struct sigv4_chdr *hs, size_t n)
{
	struct sigv4_chdr	 t;
	size_t			 i, j;

	if (n > SIGV4_STACK_HDRS) {
		qsort(hs, n, sizeof(*hs), sigv4_chdr_cmp);
		return;
	}
	for (i = 1; i < n; i++) {
		t = hs[i];
		for (j = i; j > 0 && sigv4_chdr_cmp(&hs[j - 1], &t) > 0; j--)
			hs[j] = hs[j - 1];
		hs[j] = t;
	}
}

/*
 * One signature in progress.  sigv4_sign() runs the phases in order:
 * check the input, canonical headers (into the scratch string sc), the
 * request's date, the session token header, the payload hash, then the
 * texts (into tx): canonical request, string to sign, signature and
 * Authorization value.  The stack buffers are sigv4_sign()'s; they grow
 * onto the heap only for unusual requests.
 */
struct sigv4_job {
	const struct sigv4_input *in;
	struct sigv4_keycache	*kc;
	struct sigv4_chdr	*hs;	/* canonical headers */
	size_t			 nh;
	struct sigv4_sb		 sc;	/* their names and values */
	struct sigv4_sb		 tx;	/* the texts, the output's block */
	EVP_MD_CTX		*work;
	struct sigv4_output	 out;
	char			 date[17], date8[9];
	char			*cpath, *cquery;
	size_t			 sh_off, sh_len;	/* signed headers */
	size_t			 sts_off, authz_off, shcopy_off;
	char			**cause;
};

/* Phase 0: the input's own fields. */
static int
sigv4_check_input(const struct sigv4_input *in, char **cause)
{
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
	return 0;
}

/*
 * Phase 1, canonical headers: lower-cased names and normalised values,
 * each NUL-terminated, in the scratch string sc; unsigned ones dropped.
 * Offsets until sc stops growing, then pointers.  A value never sits at
 * offset 0 (its name comes first), so 0 means "not found".  A host header
 * is required.
 */
static int
sigv4_job_headers(struct sigv4_job *j)
{
	const struct sigv4_input	*in = j->in;
	struct sigv4_sb			*sc = &j->sc;
	struct sigv4_chdr		*c;
	size_t				 i, off;

	for (i = 0; i < in->nheaders; i++) {
		const struct sigv4_header *h = &in->headers[i];

		if (h->name == NULL || !sigv4_is_token(h->name))
			return sigv4_fail(j->cause, "sigv4: header %zu: bad "
			    "name", i);
		if (h->value == NULL)
			return sigv4_fail(j->cause, "sigv4: header %s: no "
			    "value", h->name);
		c = &j->hs[j->nh];
		c->name_off = sc->len;
		c->namelen = sigv4_add_lower(sc, h->name);
		sigv4_sb_addch(sc, '\0');
		c->value_off = sc->len;
		if (sigv4_add_value(sc, h->value) != 0)
			return sigv4_fail(j->cause, "sigv4: header %s: control "
			    "character or line break in value", h->name);
		c->valuelen = sc->len - c->value_off;
		sigv4_sb_addch(sc, '\0');
		c->index = i;
		if (sigv4_skipped_header(sc->p + c->name_off, c->namelen)) {
			sigv4_sb_truncate(sc, c->name_off);
			continue;
		}
		j->nh++;
	}
	if ((off = SIGV4_FIND(sc, j->hs, j->nh, "host")) == 0 ||
	    sc->p[off] == '\0')
		return sigv4_fail(j->cause, "sigv4: missing host header");
	return 0;
}

/* Phase 2, the date: x-amz-date header, or Date header; amz_date agrees. */
static int
sigv4_job_date(struct sigv4_job *j)
{
	const struct sigv4_input	*in = j->in;
	const char			*hv;
	size_t				 off;

	if ((off = SIGV4_FIND(&j->sc, j->hs, j->nh, "x-amz-date")) != 0) {
		hv = j->sc.p + off;
		if (!sigv4_valid_amzdate(hv))
			return sigv4_fail(j->cause, "sigv4: bad x-amz-date "
			    "header (want YYYYMMDDTHHMMSSZ)");
		memcpy(j->date, hv, 17);
	} else if ((off = SIGV4_FIND(&j->sc, j->hs, j->nh, "date")) != 0) {
		if (sigv4_date_header(j->sc.p + off, j->date) != 0)
			return sigv4_fail(j->cause, "sigv4: bad date header");
	} else
		return sigv4_fail(j->cause, "sigv4: missing x-amz-date (or "
		    "date) header");
	if (in->amz_date != NULL) {
		if (!sigv4_valid_amzdate(in->amz_date))
			return sigv4_fail(j->cause, "sigv4: bad amz_date (want "
			    "YYYYMMDDTHHMMSSZ)");
		if (strcmp(in->amz_date, j->date) != 0)
			return sigv4_fail(j->cause, "sigv4: amz_date %s does "
			    "not match the request's date %s", in->amz_date,
			    j->date);
	}
	memcpy(j->date8, j->date, 8);
	j->date8[8] = '\0';
	return 0;
}

/* A header the signer adds (lname: lower case, len bytes): its name in sc,
 * its value to follow at c->value_off; not counted until the caller does. */
static struct sigv4_chdr *
sigv4_job_add_header(struct sigv4_job *j, const char *lname, size_t len,
    size_t index)
{
	struct sigv4_chdr	*c = &j->hs[j->nh];

	c->name_off = j->sc.len;
	c->namelen = len;
	sigv4_sb_add(&j->sc, lname, len + 1);
	c->value_off = j->sc.len;
	c->index = index;
	return c;
}

/* Phase 3, the session token: signed as a header unless the caller sent
 * one (which must then be the same). */
static int
sigv4_job_token(struct sigv4_job *j)
{
	struct sigv4_sb		*sc = &j->sc;
	struct sigv4_chdr	*c;
	size_t			 tok;
	int			 differs;

	if (j->in->session_token == NULL)
		return 0;
	c = sigv4_job_add_header(j, "x-amz-security-token",
	    sizeof("x-amz-security-token") - 1, j->in->nheaders);
	if (sigv4_add_value(sc, j->in->session_token) != 0 ||
	    sc->len == c->value_off)
		return sigv4_fail(j->cause, "sigv4: bad session token");
	c->valuelen = sc->len - c->value_off;
	sigv4_sb_addch(sc, '\0');
	tok = SIGV4_FIND(sc, j->hs, j->nh, "x-amz-security-token");
	if (tok == 0) {
		j->nh++;
		j->out.token_header = 1;
		return 0;
	}
	differs = strcmp(sc->p + tok, sc->p + c->value_off) != 0;
	sigv4_sb_truncate(sc, c->name_off);
	if (differs)
		return sigv4_fail(j->cause, "sigv4: session token differs "
		    "from the x-amz-security-token header");
	return 0;
}

/* Phase 4, the payload hash: given, the S3 header's, or computed; S3
 * signs it as x-amz-content-sha256. */
static int
sigv4_job_payload(struct sigv4_job *j)
{
	const struct sigv4_input	*in = j->in;
	struct sigv4_sb			*sc = &j->sc;
	struct sigv4_chdr		*c;
	unsigned char			 md[32];
	const char			*hv;
	size_t				 off;

	off = in->s3 ? SIGV4_FIND(sc, j->hs, j->nh, "x-amz-content-sha256") :
	    0;
	hv = off != 0 ? sc->p + off : NULL;
	if (hv != NULL && !sigv4_valid_payload_hash(hv))
		return sigv4_fail(j->cause, "sigv4: bad x-amz-content-sha256 "
		    "header");
	if (hv != NULL && in->payload_hash != NULL &&
	    strcmp(hv, in->payload_hash) != 0)
		return sigv4_fail(j->cause, "sigv4: payload_hash differs from "
		    "the x-amz-content-sha256 header");
	j->work = j->kc != NULL ? j->kc->work : sigv4_ctx_new();
	if (in->payload_hash != NULL)
		snprintf(j->out.payload_hash, sizeof(j->out.payload_hash),
		    "%s", in->payload_hash);
	else if (hv != NULL)
		snprintf(j->out.payload_hash, sizeof(j->out.payload_hash),
		    "%s", hv);
	else {
		sigv4_digest(j->work, in->payload_len > 0 ? in->payload : "",
		    in->payload_len, md);
		hex_encode(md, sizeof(md), j->out.payload_hash);
	}
	if (in->s3 && hv == NULL) {
		c = sigv4_job_add_header(j, "x-amz-content-sha256",
		    sizeof("x-amz-content-sha256") - 1, in->nheaders + 1);
		c->valuelen = strlen(j->out.payload_hash);
		sigv4_sb_add(sc, j->out.payload_hash, c->valuelen + 1);
		j->nh++;
		j->out.content_sha256_header = 1;
	}
	return 0;
}

/*
 * Phase 5, the canonical request into tx (sc is complete: pointers, sorted
 * stably for duplicates), and its digest into md.  tx then holds the
 * canonical request, the string to sign, the Authorization value and the
 * signed headers, each NUL-terminated: the output's one allocation.
 */
static void
sigv4_job_creq(struct sigv4_job *j, unsigned char md[32])
{
	const struct sigv4_input	*in = j->in;
	struct sigv4_chdr		*hs = j->hs;
	struct sigv4_sb			*tx = &j->tx;
	const char			*path;
	size_t				 i, k, nh = j->nh;

	for (i = 0; i < nh; i++) {
		hs[i].name = j->sc.p + hs[i].name_off;
		hs[i].value = j->sc.p + hs[i].value_off;
	}
	sigv4_chdrs_sort(hs, nh);

	sigv4_sb_addstr(tx, in->method);
	sigv4_sb_addch(tx, '\n');
	path = in->path != NULL ? in->path : "";
	if (path[0] == '\0' || (path[0] == '/' && path[1] == '\0'))
		sigv4_sb_addch(tx, '/');
	else {
		j->cpath = sigv4_canonical_path(path, in->s3);
		sigv4_sb_addstr(tx, j->cpath);
	}
	sigv4_sb_addch(tx, '\n');
	if (in->query != NULL && in->query[0] != '\0') {
		j->cquery = sigv4_canonical_query(in->query);
		sigv4_sb_addstr(tx, j->cquery);
	}
	sigv4_sb_addch(tx, '\n');
	/* Duplicate names: one line, values joined with ','. */
	for (i = 0; i < nh; i = k) {
		sigv4_sb_add(tx, hs[i].name, hs[i].namelen);
		sigv4_sb_addch(tx, ':');
		sigv4_sb_add(tx, hs[i].value, hs[i].valuelen);
		for (k = i + 1; k < nh && strcmp(hs[k].name, hs[i].name) == 0;
		    k++) {
			sigv4_sb_addch(tx, ',');
			sigv4_sb_add(tx, hs[k].value, hs[k].valuelen);
		}
		sigv4_sb_addch(tx, '\n');
	}
	sigv4_sb_addch(tx, '\n');
	j->sh_off = tx->len;
	for (i = 0; i < nh; i = k) {
		if (i > 0)
			sigv4_sb_addch(tx, ';');
		sigv4_sb_add(tx, hs[i].name, hs[i].namelen);
		for (k = i + 1; k < nh && strcmp(hs[k].name, hs[i].name) == 0;
		    k++)
			;
	}
	j->sh_len = tx->len - j->sh_off;
	sigv4_sb_addch(tx, '\n');
	sigv4_sb_addstr(tx, j->out.payload_hash);

	sigv4_digest(j->work, tx->p, tx->len, md);
	sigv4_sb_addch(tx, '\0');
}

/* Phase 6, the string to sign, from the canonical request's digest. */
static void
sigv4_job_sts(struct sigv4_job *j, const unsigned char md[32])
{
	struct sigv4_sb	*tx = &j->tx;
	char		 hex[65];

	j->sts_off = tx->len;
	sigv4_sb_add(tx, SIGV4_ALGORITHM "\n", sizeof(SIGV4_ALGORITHM));
	sigv4_sb_add(tx, j->date, 16);
	sigv4_sb_addch(tx, '\n');
	sigv4_sb_add(tx, j->date8, 8);
	sigv4_sb_addch(tx, '/');
	sigv4_sb_addstr(tx, j->in->region);
	sigv4_sb_addch(tx, '/');
	sigv4_sb_addstr(tx, j->in->service);
	sigv4_sb_add(tx, "/" SIGV4_TERMINATOR "\n",
	    sizeof(SIGV4_TERMINATOR) + 1);
	hex_encode(md, 32, hex);
	sigv4_sb_add(tx, hex, 64);
}

/*
 * Phase 7, the signature: the signing key from the cache, or derived for
 * this request (and wiped); the string to sign's HMAC; then the
 * Authorization value and a copy of the signed headers.
 */
static void
sigv4_job_sign(struct sigv4_job *j)
{
	const struct sigv4_input	*in = j->in;
	struct sigv4_sb			*tx = &j->tx;
	struct sigv4_mac		 own = { NULL, NULL };
	const struct sigv4_mac		*mac;
	unsigned char			 md[32], key[32];
	char				 hex[65];

	if (j->kc != NULL && strlen(in->region) < SIGV4_SCOPE_MAX &&
	    strlen(in->service) < SIGV4_SCOPE_MAX)
		mac = sigv4_keycache_mac(j->kc, in->secret_key, j->date8,
		    in->region, in->service);
	else {
		sigv4_derive(j->work, in->secret_key, j->date8, in->region,
		    in->service, key);
		sigv4_mac_key(&own, j->work, key, sizeof(key));
		OPENSSL_cleanse(key, sizeof(key));
		mac = &own;
	}
	sigv4_mac_run(mac, j->work, tx->p + j->sts_off, tx->len - j->sts_off,
	    md);
	sigv4_mac_free(&own);
	hex_encode(md, sizeof(md), hex);
	sigv4_sb_addch(tx, '\0');

	j->authz_off = tx->len;
	sigv4_sb_add(tx, SIGV4_ALGORITHM " Credential=",
	    sizeof(SIGV4_ALGORITHM " Credential=") - 1);
	sigv4_sb_addstr(tx, in->access_key);
	sigv4_sb_addch(tx, '/');
	sigv4_sb_add(tx, j->date8, 8);
	sigv4_sb_addch(tx, '/');
	sigv4_sb_addstr(tx, in->region);
	sigv4_sb_addch(tx, '/');
	sigv4_sb_addstr(tx, in->service);
	sigv4_sb_add(tx, "/" SIGV4_TERMINATOR ", SignedHeaders=",
	    sizeof("/" SIGV4_TERMINATOR ", SignedHeaders=") - 1);
	sigv4_sb_addself(tx, j->sh_off, j->sh_len);
	sigv4_sb_add(tx, ", Signature=", sizeof(", Signature=") - 1);
	sigv4_sb_add(tx, hex, 64);
	sigv4_sb_addch(tx, '\0');

	j->shcopy_off = tx->len;
	sigv4_sb_addself(tx, j->sh_off, j->sh_len);
	sigv4_sb_addch(tx, '\0');
}

int
sigv4_sign(const struct sigv4_input *in, struct sigv4_keycache *kc,
    struct sigv4_output *ret, char **cause)
{
	struct sigv4_chdr	 hstack[SIGV4_STACK_HDRS];
	struct sigv4_job	 j;
	unsigned char		 md[32];
	char			 scstack[SIGV4_STACK_SCRATCH];
	char			 txstack[SIGV4_STACK_TEXT];
	char			*block;
	int			 rv = -1;

	if (sigv4_check_input(in, cause) != 0)
		return -1;

	memset(&j, 0, sizeof(j));
	j.in = in;
	j.kc = kc;
	j.cause = cause;
	/* Room for the session token and x-amz-content-sha256 headers. */
	j.hs = hstack;
	if (in->nheaders > SIGV4_STACK_HDRS - 2)
		j.hs = xreallocarray(NULL, in->nheaders + 2, sizeof(*j.hs));
	sigv4_sb_init(&j.sc, scstack, sizeof(scstack));
	sigv4_sb_init(&j.tx, txstack, sizeof(txstack));

	if (sigv4_job_headers(&j) != 0 || sigv4_job_date(&j) != 0 ||
	    sigv4_job_token(&j) != 0 || sigv4_job_payload(&j) != 0)
		goto out;
	sigv4_job_creq(&j, md);
	sigv4_job_sts(&j, md);
	sigv4_job_sign(&j);

	block = xmalloc(j.tx.len);
	memcpy(block, j.tx.p, j.tx.len);
	j.out.creq = block;
	j.out.sts = block + j.sts_off;
	j.out.authz = block + j.authz_off;
	j.out.signed_headers = block + j.shcopy_off;
	*ret = j.out;
	rv = 0;
out:
	if (kc == NULL && j.work != NULL)
		EVP_MD_CTX_free(j.work);
	if (j.hs != hstack)
		free(j.hs);
	free(j.cpath);
	free(j.cquery);
	sigv4_sb_wipe(&j.sc);	/* header values: the session token */
	sigv4_sb_wipe(&j.tx);	/* the canonical request holds it too */
	return rv;
}
