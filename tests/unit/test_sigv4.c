/*
 * unit.sigv4: the AWS SigV4 test suite (every case under tests/data/sigv4,
 * byte for byte), published known answers, and the edge cases the suite
 * does not cover (path normalisation, S3 rules, empty query values, bad
 * input, the key cache).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "sigv4.h"
#include "sigv4_req.h"
#include "util.h"
#include "xmalloc.h"

#define SUITE_MIN_CASES	34

/* ---- helpers ----------------------------------------------------------- */

static const char *
data_dir(void)
{
	static char	 dir[4096];
	const char	*env;

	if ((env = getenv("CLOUDSAGA_DATA")) != NULL && *env != '\0') {
		snprintf(dir, sizeof(dir), "%s/sigv4", env);
		return dir;
	}
	return SIGV4_DATA_DIR;
}

struct cases {
	char	**dirs;
	size_t	  n;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every folder NAME under dir that holds NAME.req. */
static void
find_cases(const char *dir, struct cases *c)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 st;
	char		*sub, *name, *req;

	if ((d = opendir(dir)) == NULL)
		fail_msg("opendir %s failed", dir);
	name = sigv4_case_name(dir);
	req = xprintf("%s/%s.req", dir, name);
	if (stat(req, &st) == 0 && S_ISREG(st.st_mode)) {
		c->dirs = xreallocarray(c->dirs, c->n + 1, sizeof(*c->dirs));
		c->dirs[c->n++] = xstrdup(dir);
	}
	free(req);
	free(name);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		sub = xprintf("%s/%s", dir, de->d_name);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
			find_cases(sub, c);
		free(sub);
	}
	closedir(d);
}

static char *
read_text(const char *path)
{
	char	*data, *cause;
	size_t	 len;

	if (sigv4_read_file(path, &data, &len, &cause) != 0)
		fail_msg("%s", cause);
	if (strlen(data) != len)
		fail_msg("%s: NUL byte", path);
	return data;
}

/* A sigv4_input with the suite's credentials and the given headers. */
static void
input_init(struct sigv4_input *in, const char *method, const char *path,
    const char *query, const struct sigv4_header *h, size_t nh)
{
	memset(in, 0, sizeof(*in));
	in->method = method;
	in->path = path;
	in->query = query;
	in->headers = h;
	in->nheaders = nh;
	in->access_key = SIGV4_SUITE_ACCESS_KEY;
	in->secret_key = SIGV4_SUITE_SECRET_KEY;
	in->region = SIGV4_SUITE_REGION;
	in->service = SIGV4_SUITE_SERVICE;
}

static const char *
signature_of(const struct sigv4_output *out)
{
	const char	*s = strstr(out->authz, "Signature=");

	assert_non_null(s);
	return s + strlen("Signature=");
}

/* ---- the AWS test suite ------------------------------------------------ */

static void
test_suite(void **state)
{
	struct cases		 c = { NULL, 0 };
	struct sigv4_output	 out;
	struct sigv4_keycache	*kc;
	const char		*what[3] = { "creq", "sts", "authz" };
	char			*got[3], *name, *file, *want, *cause;
	size_t			 i, k, failed = 0;

	find_cases(data_dir(), &c);
	qsort(c.dirs, c.n, sizeof(*c.dirs), cmp_str);
	print_message("%zu cases found under %s\n", c.n, data_dir());
	if (c.n < SUITE_MIN_CASES)
		fail_msg("found %zu cases, want %d", c.n, SUITE_MIN_CASES);

	kc = sigv4_keycache_new();
	for (i = 0; i < c.n; i++) {
		name = sigv4_case_name(c.dirs[i]);
		/*
		 * The one case whose token comes out of band (README section
		 * 2); post-sts-header-after adds its token after signing, so
		 * it is signed without one.
		 */
		if (sigv4_case_sign(c.dirs[i],
		    strcmp(name, "get-vanilla-with-session-token") == 0 ?
		    SIGV4_SUITE_TOKEN : NULL, kc, &out, &cause) != 0) {
			print_error("FAIL %s: %s\n", name, cause);
			free(cause);
			failed++;
			free(name);
			continue;
		}
		got[0] = out.creq;
		got[1] = out.sts;
		got[2] = out.authz;
		for (k = 0; k < 3; k++) {
			file = xprintf("%s/%s.%s", c.dirs[i], name, what[k]);
			want = read_text(file);
			if (strcmp(want, got[k]) != 0) {
				print_error("FAIL %s.%s:\n--- want\n%s\n--- got\n"
				    "%s\n", name, what[k], want, got[k]);
				failed++;
			}
			free(want);
			free(file);
		}
		sigv4_output_free(&out);
		free(name);
		free(c.dirs[i]);
	}
	free(c.dirs);
	sigv4_keycache_free(kc);
	if (failed > 0)
		fail_msg("%zu mismatches", failed);
}

/* The same cases with the token added after signing are really unsigned. */
static void
test_suite_token_placement(void **state)
{
	struct sigv4_output	 before, after, tok;
	char			*dir, *file, *cause, *token, *p;

	/* post-sts-header-after = the request signed without the token. */
	dir = xprintf("%s/post-sts-token/post-sts-header-after", data_dir());
	assert_int_equal(sigv4_case_sign(dir, NULL, NULL, &after, &cause), 0);
	assert_string_equal(after.signed_headers, "host;x-amz-date");
	assert_int_equal(after.token_header, 0);
	free(dir);

	/*
	 * post-sts-header-before carries the token as a header; passing the
	 * same token as session_token signs it once, not twice.
	 */
	dir = xprintf("%s/post-sts-token/post-sts-header-before", data_dir());
	file = xprintf("%s/post-sts-header-before.creq", dir);
	token = read_text(file);
	free(file);
	p = strstr(token, "x-amz-security-token:");
	assert_non_null(p);
	p += strlen("x-amz-security-token:");
	p[strcspn(p, "\n")] = '\0';
	assert_int_equal(sigv4_case_sign(dir, NULL, NULL, &before, &cause), 0);
	assert_int_equal(sigv4_case_sign(dir, p, NULL, &tok, &cause), 0);
	assert_string_equal(before.authz, tok.authz);
	assert_int_equal(tok.token_header, 0);
	assert_string_not_equal(before.authz, after.authz);
	/* A different token than the header's is an error. */
	assert_int_equal(sigv4_case_sign(dir, "other", NULL, &tok, &cause), -1);
	assert_non_null(strstr(cause, "differs"));
	free(cause);
	free(dir);
	free(token);
	sigv4_output_free(&before);
	sigv4_output_free(&after);
	sigv4_output_free(&tok);
}

/* ---- known answers ----------------------------------------------------- */

static void
test_signing_key_known_answer(void **state)
{
	unsigned char	 key[32];
	char		 hex[65];

	/* README section 6 (docs "Examples of how to derive a signing key"). */
	sigv4_signing_key(SIGV4_SUITE_SECRET_KEY, "20120215", "us-east-1",
	    "iam", key);
	hex_encode(key, sizeof(key), hex);
	assert_string_equal(hex,
	    "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");

	sigv4_signing_key(SIGV4_SUITE_SECRET_KEY, "20150830", "us-east-1",
	    "iam", key);
	hex_encode(key, sizeof(key), hex);
	assert_string_equal(hex,
	    "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

static void
test_iam_listusers_known_answer(void **state)
{
	static const struct sigv4_header h[] = {
		{ "Content-Type",
		    "application/x-www-form-urlencoded; charset=utf-8" },
		{ "Host", "iam.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	struct sigv4_input	 in;
	struct sigv4_output	 out;
	char			*cause = NULL, hash[65];

	input_init(&in, "GET", "/", "Action=ListUsers&Version=2010-05-08", h,
	    nitems(h));
	in.service = "iam";
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), 0);
	assert_string_equal(out.signed_headers, "content-type;host;x-amz-date");
	sha256_hex(out.creq, strlen(out.creq), hash);
	assert_string_equal(hash,
	    "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
	assert_string_equal(out.authz, "AWS4-HMAC-SHA256 "
	    "Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
	    "SignedHeaders=content-type;host;x-amz-date, Signature="
	    "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
	assert_int_equal(out.token_header, 0);
	assert_int_equal(out.content_sha256_header, 0);
	sigv4_output_free(&out);
}

/*
 * A REST path with a percent-encoded wire path, dot segments and a session
 * token.  Expected signature computed with botocore 1.x SigV4Auth (an
 * independent implementation) for the same request.
 */
static void
test_rest_double_encoding(void **state)
{
	static const struct sigv4_header h[] = {
		{ "Content-Type", "application/json" },
		{ "Host", "guardduty.us-east-1.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
		{ "User-Agent", "cloudsagad/0.1 (not signed)" },
	};
	struct sigv4_input	 in;
	struct sigv4_output	 out;
	char			*cause = NULL;

	input_init(&in, "POST", "/detector/a%20b%2Fc/findings/./x/..//get",
	    NULL, h, nitems(h));
	in.service = "guardduty";
	in.payload = "{}";
	in.payload_len = 2;
	in.session_token = "tok/en+1=";
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), 0);
	assert_non_null(strstr(out.creq,
	    "POST\n/detector/a%2520b%252Fc/findings/get\n\n"));
	assert_non_null(strstr(out.creq, "\nx-amz-security-token:tok/en+1=\n"));
	assert_null(strstr(out.creq, "user-agent"));
	assert_string_equal(out.signed_headers,
	    "content-type;host;x-amz-date;x-amz-security-token");
	assert_int_equal(out.token_header, 1);
	assert_string_equal(signature_of(&out),
	    "c00af8c276f314dc14d2daaf66263aa8d34d63f99035024a2cbe808cd066a751");
	sigv4_output_free(&out);
}

/* ---- path normalisation ------------------------------------------------ */

static void
test_canonical_path(void **state)
{
	static const struct {
		const char	*in;
		const char	*plain;		/* non-S3 */
		const char	*s3;
	} t[] = {
		{ "", "/", "/" },
		{ "/", "/", "/" },
		{ "//", "/", "//" },
		{ "/a/b/..", "/a/", "/a/b/.." },
		{ "/a/b/.", "/a/b/", "/a/b/." },
		{ "/a/./b", "/a/b", "/a/./b" },
		{ "/a/b/../c/./d", "/a/c/d", "/a/b/../c/./d" },
		{ "/../a", "/a", "/../a" },
		{ "/../../", "/", "/../../" },
		{ "/a/../../b/", "/b/", "/a/../../b/" },
		{ "//a///b//", "/a/b/", "//a///b//" },
		{ "/a/..b/.c/...", "/a/..b/.c/...", "/a/..b/.c/..." },
		{ "a/b", "/a/b", "/a/b" },
		{ "/a b", "/a%20b", "/a%20b" },
		{ "/a%20b", "/a%2520b", "/a%20b" },
		{ "/a%2fb", "/a%252fb", "/a%2Fb" },
		{ "/%7e%41", "/%257e%2541", "/~A" },
		{ "/50%", "/50%25", "/50%25" },
		{ "/50%4", "/50%254", "/50%254" },
		{ "/\xe1\x88\xb4", "/%E1%88%B4", "/%E1%88%B4" },
		{ "/a+b=c$!*", "/a%2Bb%3Dc%24%21%2A", "/a%2Bb%3Dc%24%21%2A" },
		{ "/-._~AZaz09", "/-._~AZaz09", "/-._~AZaz09" },
		{ "/my-object//example//photo.user",
		    "/my-object/example/photo.user",
		    "/my-object//example//photo.user" },
	};
	size_t	 i;
	char	*p;

	for (i = 0; i < nitems(t); i++) {
		p = sigv4_canonical_path(t[i].in, 0);
		if (strcmp(p, t[i].plain) != 0)
			fail_msg("path '%s': got '%s', want '%s'", t[i].in, p,
			    t[i].plain);
		free(p);
		p = sigv4_canonical_path(t[i].in, 1);
		if (strcmp(p, t[i].s3) != 0)
			fail_msg("s3 path '%s': got '%s', want '%s'", t[i].in,
			    p, t[i].s3);
		free(p);
	}
	p = sigv4_canonical_path(NULL, 0);
	assert_string_equal(p, "/");
	free(p);
}

/* ---- query ------------------------------------------------------------- */

static void
test_canonical_query(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} t[] = {
		{ "", "" },
		{ "key=", "key=" },
		{ "key", "key=" },
		{ "b=2&a=&a", "a=&a=&b=2" },
		{ "a=&b", "a=&b=" },
		{ "&&a=1&", "a=1" },
		{ "=v", "=v" },
		{ "a=1=2", "a=1%3D2" },
		{ "a+b=c d", "a%2Bb=c%20d" },
		{ "k=%2f%2F/", "k=%2F%2F%2F" },
		{ "k=%7e%41", "k=~A" },
		{ "k=%zz%4", "k=%25zz%254" },
		{ "k=%00x", "k=%00x" },
		{ "a-b=1&a=2", "a=2&a-b=1" },
		{ "Param1=value2&Param1=Value1", "Param1=Value1&Param1=value2" },
		{ "b=1&B=2&a=3", "B=2&a=3&b=1" },
		{ "\xe1\x88\xb4=bar&Param=x", "%E1%88%B4=bar&Param=x" },
		{ "list-type=2&prefix=a%2Fb&delimiter=%2F",
		    "delimiter=%2F&list-type=2&prefix=a%2Fb" },
	};
	size_t	 i;
	char	*q;

	for (i = 0; i < nitems(t); i++) {
		q = sigv4_canonical_query(t[i].in);
		if (strcmp(q, t[i].want) != 0)
			fail_msg("query '%s': got '%s', want '%s'", t[i].in, q,
			    t[i].want);
		free(q);
	}
	q = sigv4_canonical_query(NULL);
	assert_string_equal(q, "");
	free(q);
}

/* An empty value through the whole signer: "Action=&x" canonicalises. */
static void
test_empty_query_value_signed(void **state)
{
	static const struct sigv4_header h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
	};
	struct sigv4_input	 in;
	struct sigv4_output	 a, b;
	char			*cause = NULL;

	input_init(&in, "GET", "/", "Param1=&Param2", h, nitems(h));
	assert_int_equal(sigv4_sign(&in, NULL, &a, &cause), 0);
	assert_non_null(strstr(a.creq, "GET\n/\nParam1=&Param2=\nhost:"));
	in.query = "Param2=&Param1";
	assert_int_equal(sigv4_sign(&in, NULL, &b, &cause), 0);
	assert_string_equal(a.authz, b.authz);
	sigv4_output_free(&a);
	sigv4_output_free(&b);
}

/* ---- S3 ---------------------------------------------------------------- */

/*
 * The S3 documentation's GET Object example (sig-v4-header-based-auth,
 * "Example: GET Object"): secret with '/', service s3, signature
 * f0e8bdb8...; botocore's S3SigV4Auth gives the same.
 */
static void
test_s3_get_object_example(void **state)
{
	static const struct sigv4_header h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "Range", "bytes=0-9" },
		{ "x-amz-date", "20130524T000000Z" },
	};
	struct sigv4_input	 in;
	struct sigv4_output	 out;
	char			*cause = NULL;

	input_init(&in, "GET", "/test.txt", NULL, h, nitems(h));
	in.access_key = "AKIAIOSFODNN7EXAMPLE";
	in.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	in.service = "s3";
	in.s3 = 1;
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), 0);
	assert_string_equal(out.creq, "GET\n/test.txt\n\n"
	    "host:examplebucket.s3.amazonaws.com\n"
	    "range:bytes=0-9\n"
	    "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b"
	    "934ca495991b7852b855\n"
	    "x-amz-date:20130524T000000Z\n\n"
	    "host;range;x-amz-content-sha256;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(out.content_sha256_header, 1);
	assert_string_equal(out.payload_hash,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_string_equal(out.authz, "AWS4-HMAC-SHA256 "
	    "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
	    "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
	    "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6"
	    "036bdb41");
	sigv4_output_free(&out);
}

/*
 * S3: the path is not normalised and encoded once, the body hash is signed
 * as x-amz-content-sha256.  Signature from botocore's S3SigV4Auth for PUT
 * //my-object//example//photo.user?tagging with body "hello world".
 */
static void
test_s3_rules(void **state)
{
	struct sigv4_header	 h[] = {
		{ "Host", "bucket.s3.us-east-1.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
		{ "x-amz-content-sha256", NULL },
	};
	struct sigv4_input	 in;
	struct sigv4_output	 out, out2;
	char			*cause = NULL;
	const char		*body_hash =
	    "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9";

	input_init(&in, "PUT", "//my-object//example//photo.user", "tagging",
	    h, 2);
	in.service = "s3";
	in.s3 = 1;
	in.payload = "hello world";
	in.payload_len = 11;
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), 0);
	assert_non_null(strstr(out.creq,
	    "PUT\n//my-object//example//photo.user\ntagging=\n"));
	assert_string_equal(out.payload_hash, body_hash);
	assert_int_equal(out.content_sha256_header, 1);
	assert_string_equal(out.signed_headers,
	    "host;x-amz-content-sha256;x-amz-date");
	assert_string_equal(signature_of(&out),
	    "5bf2a8d6b5e3f77aaa756cf9f4c731bde243656bd2e997d0a942c40acab284c6");

	/* The caller sends the header itself: same signature, not added. */
	h[2].value = body_hash;
	in.nheaders = 3;
	assert_int_equal(sigv4_sign(&in, NULL, &out2, &cause), 0);
	assert_int_equal(out2.content_sha256_header, 0);
	assert_string_equal(out.authz, out2.authz);
	sigv4_output_free(&out2);

	/* A header that disagrees with payload_hash is refused. */
	in.payload_hash = "UNSIGNED-PAYLOAD";
	assert_int_equal(sigv4_sign(&in, NULL, &out2, &cause), -1);
	assert_non_null(strstr(cause, "x-amz-content-sha256"));
	free(cause);

	/* UNSIGNED-PAYLOAD: both the header and the last line. */
	in.nheaders = 2;
	assert_int_equal(sigv4_sign(&in, NULL, &out2, &cause), 0);
	assert_non_null(strstr(out2.creq,
	    "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
	assert_int_equal(strcmp(out2.creq + strlen(out2.creq) -
	    strlen("\nUNSIGNED-PAYLOAD"), "\nUNSIGNED-PAYLOAD"), 0);
	sigv4_output_free(&out2);

	/* The same request for a non-S3 service: normalised, no header. */
	in.s3 = 0;
	in.payload_hash = NULL;
	assert_int_equal(sigv4_sign(&in, NULL, &out2, &cause), 0);
	assert_non_null(strstr(out2.creq,
	    "PUT\n/my-object/example/photo.user\ntagging=\n"));
	assert_null(strstr(out2.creq, "x-amz-content-sha256"));
	assert_int_equal(out2.content_sha256_header, 0);
	sigv4_output_free(&out2);
	sigv4_output_free(&out);
}

/* ---- headers ----------------------------------------------------------- */

static void
test_headers(void **state)
{
	static const struct sigv4_header h[] = {
		{ "X-Amz-Date", "20150830T123600Z" },
		{ "HOST", "  Example.amazonaws.com  " },
		{ "My-Header", "\t a \t  b\r\n\tc  " },
		{ "my-header", "" },
		{ "Authorization", "AWS4-HMAC-SHA256 old" },
		{ "user-agent", "x" },
		{ "X-Amzn-Trace-Id", "Root=1" },
		{ "Connection", "keep-alive" },
		{ "Expect", "100-continue" },
		{ "Transfer-Encoding", "chunked" },
		{ "Empty", "   " },
	};
	struct sigv4_input	 in;
	struct sigv4_output	 out;
	char			*cause = NULL;

	input_init(&in, "POST", "/", NULL, h, nitems(h));
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), 0);
	assert_string_equal(out.creq, "POST\n/\n\n"
	    "empty:\n"
	    "host:Example.amazonaws.com\n"
	    "my-header:a b c,\n"
	    "x-amz-date:20150830T123600Z\n\n"
	    "empty;host;my-header;x-amz-date\n"
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sigv4_output_free(&out);
}

/* Date header instead of X-Amz-Date, and an explicit amz_date. */
static void
test_date_sources(void **state)
{
	struct sigv4_header	 h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "Date", "Sun, 30 Aug 2015 12:36:00 GMT" },
	};
	struct sigv4_input	 in;
	struct sigv4_output	 out;
	char			*cause = NULL;

	input_init(&in, "GET", "/", NULL, h, nitems(h));
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), 0);
	assert_non_null(strstr(out.sts, "\n20150830T123600Z\n20150830/"));
	assert_string_equal(out.signed_headers, "date;host");
	sigv4_output_free(&out);

	h[1].value = "20150830T123600Z";
	in.amz_date = "20150830T123600Z";
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), 0);
	sigv4_output_free(&out);

	in.amz_date = "20150831T000000Z";
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), -1);
	assert_non_null(strstr(cause, "does not match"));
	free(cause);

	h[1].value = "yesterday";
	in.amz_date = NULL;
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), -1);
	assert_non_null(strstr(cause, "bad date header"));
	free(cause);
}

/* ---- bad input --------------------------------------------------------- */

static void
expect_fail(struct sigv4_input *in, const char *want)
{
	struct sigv4_output	 out;
	char			*cause = NULL;

	memset(&out, 0xa5, sizeof(out));
	if (sigv4_sign(in, NULL, &out, &cause) != -1)
		fail_msg("signed, want error '%s'", want);
	assert_non_null(cause);
	if (strstr(cause, want) == NULL)
		fail_msg("cause '%s' lacks '%s'", cause, want);
	/* Never a secret in the message. */
	assert_null(strstr(cause, SIGV4_SUITE_SECRET_KEY));
	assert_null(strstr(cause, "SECRET-HEADER-VALUE"));
	/* ret untouched on failure. */
	assert_int_equal(out.token_header, (int)0xa5a5a5a5);
	free(cause);
}

static void
test_bad_input(void **state)
{
	struct sigv4_header	 h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", "20150830T123600Z" },
		{ "X-Extra", "ok" },
	};
	struct sigv4_input	 in;
	struct sigv4_output	 out;
	char			*cause = NULL;

	input_init(&in, "GET", "/", NULL, h, 3);
	assert_int_equal(sigv4_sign(&in, NULL, &out, &cause), 0);
	sigv4_output_free(&out);

	in.nheaders = 0;
	expect_fail(&in, "missing host");
	in.headers = h + 1;
	in.nheaders = 2;
	expect_fail(&in, "missing host");
	in.headers = h;
	in.nheaders = 1;
	expect_fail(&in, "missing x-amz-date");

	in.nheaders = 3;
	h[0].value = "   ";
	expect_fail(&in, "missing host");
	h[0].value = "example.amazonaws.com";

	h[1].value = "2015-08-30T12:36:00Z";
	expect_fail(&in, "bad x-amz-date");
	h[1].value = "20150830T123600Z";

	h[2].name = "Bad Name";
	expect_fail(&in, "bad name");
	h[2].name = "";
	expect_fail(&in, "bad name");
	h[2].name = "X-Extra";
	h[2].value = "SECRET-HEADER-VALUE\r\nX-Injected: 1";
	expect_fail(&in, "line break");
	h[2].value = "SECRET-HEADER-VALUE\x01";
	expect_fail(&in, "control character");
	h[2].value = "a\rb";
	expect_fail(&in, "X-Extra");
	h[2].value = NULL;
	expect_fail(&in, "no value");
	h[2].value = "ok";

	in.method = "";
	expect_fail(&in, "method");
	in.method = "GET /x";
	expect_fail(&in, "method");
	in.method = NULL;
	expect_fail(&in, "method");
	in.method = "GET";

	in.region = "US-EAST-1";
	expect_fail(&in, "region");
	in.region = "us-east-1/x";
	expect_fail(&in, "region");
	in.region = NULL;
	expect_fail(&in, "region");
	in.region = "us-east-1";
	in.service = "";
	expect_fail(&in, "service");
	in.service = "service";

	in.access_key = "AKID/EXAMPLE";
	expect_fail(&in, "access key");
	in.access_key = NULL;
	expect_fail(&in, "access key");
	in.access_key = SIGV4_SUITE_ACCESS_KEY;
	in.secret_key = "";
	expect_fail(&in, "secret key");
	in.secret_key = NULL;
	expect_fail(&in, "secret key");
	in.secret_key = SIGV4_SUITE_SECRET_KEY;

	in.payload_len = 3;
	expect_fail(&in, "payload");
	in.payload_len = 0;
	in.payload_hash = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
	expect_fail(&in, "payload hash");
	in.payload_hash = "abc";
	expect_fail(&in, "payload hash");
	in.payload_hash = NULL;

	in.session_token = "";
	expect_fail(&in, "session token");
	in.session_token = "a\nb";
	expect_fail(&in, "session token");
	in.session_token = NULL;

	in.amz_date = "20150830";
	expect_fail(&in, "amz_date");
	in.amz_date = NULL;

	in.headers = NULL;
	expect_fail(&in, "nheaders");
}

/* ---- key cache --------------------------------------------------------- */

static void
sign_with(struct sigv4_keycache *kc, const char *secret, const char *date,
    const char *region, char sig[65])
{
	struct sigv4_header	 h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Amz-Date", date },
	};
	struct sigv4_input	 in;
	struct sigv4_output	 out;
	char			*cause = NULL;

	input_init(&in, "GET", "/", NULL, h, nitems(h));
	in.secret_key = secret;
	in.region = region;
	if (sigv4_sign(&in, kc, &out, &cause) != 0)
		fail_msg("%s", cause);
	snprintf(sig, 65, "%s", signature_of(&out));
	sigv4_output_free(&out);
}

static void
test_keycache(void **state)
{
	struct sigv4_keycache		*kc;
	struct sigv4_keycache_stats	 st;
	char				 a[65], b[65], region[32];
	int				 i;

	kc = sigv4_keycache_new();
	sigv4_keycache_stats(kc, &st);
	assert_int_equal(st.entries, 0);

	/* Cached and uncached signatures agree; the second use is a hit. */
	sign_with(kc, "secret-1", "20150830T123600Z", "us-east-1", a);
	sign_with(NULL, "secret-1", "20150830T123600Z", "us-east-1", b);
	assert_string_equal(a, b);
	sign_with(kc, "secret-1", "20150830T235959Z", "us-east-1", b);
	sigv4_keycache_stats(kc, &st);
	assert_int_equal(st.misses, 1);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.entries, 1);

	/* Another secret, date or region is another key. */
	sign_with(kc, "secret-2", "20150830T123600Z", "us-east-1", b);
	assert_string_not_equal(a, b);
	sign_with(kc, "secret-1", "20150831T123600Z", "us-east-1", b);
	sign_with(kc, "secret-1", "20150830T123600Z", "eu-west-1", b);
	sigv4_keycache_stats(kc, &st);
	assert_int_equal(st.misses, 4);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.entries, 4);

	/* Fill up; the least recently used one goes, not the hot one. */
	for (i = 0; i < SIGV4_KEYCACHE_SIZE - 4; i++) {
		snprintf(region, sizeof(region), "fill-%d", i);
		sign_with(kc, "secret-1", "20150830T123600Z", region, b);
	}
	sigv4_keycache_stats(kc, &st);
	assert_int_equal(st.entries, SIGV4_KEYCACHE_SIZE);
	assert_int_equal(st.evictions, 0);
	/* Touch the oldest (secret-1/us-east-1) so secret-2 is now oldest. */
	sign_with(kc, "secret-1", "20150830T123600Z", "us-east-1", b);
	sign_with(kc, "secret-3", "20150830T123600Z", "us-east-1", b);
	sigv4_keycache_stats(kc, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, SIGV4_KEYCACHE_SIZE);
	i = (int)st.misses;
	sign_with(kc, "secret-1", "20150830T123600Z", "us-east-1", b);
	sigv4_keycache_stats(kc, &st);
	assert_int_equal((int)st.misses, i);		/* still cached */
	sign_with(kc, "secret-2", "20150830T123600Z", "us-east-1", b);
	sigv4_keycache_stats(kc, &st);
	assert_int_equal((int)st.misses, i + 1);	/* was evicted */

	/* Long scope parts bypass the cache but still sign. */
	sign_with(kc, "secret-1", "20150830T123600Z",
	    "a-region-name-that-is-longer-than-sixty-four-characters-xxxxxxxxxx",
	    b);
	sigv4_keycache_stats(kc, &st);
	assert_int_equal((int)st.misses, i + 1);

	sigv4_keycache_free(kc);
	sigv4_keycache_free(NULL);
	sigv4_keycache_stats(NULL, &st);
	assert_int_equal(st.hits, 0);
}

/* The .req parser on the suite's awkward shapes. */
static void
test_req_parser(void **state)
{
	struct sigv4_req	 r;
	char			*cause;
	const char		*s;

	s = "GET /example space/?a=b c HTTP/1.1\r\nHost:h\r\n"
	    "My-Header1:value1\r\n  value2\r\n\tvalue3\r\nDup:1\r\nDup:2\r\n"
	    "\r\nbody\nline 2\n";
	assert_int_equal(sigv4_req_parse(s, strlen(s), &r, &cause), 0);
	assert_string_equal(r.method, "GET");
	assert_string_equal(r.path, "/example space/");
	assert_string_equal(r.query, "a=b c");
	assert_int_equal(r.nheaders, 4);
	assert_string_equal(r.headers[1].value, "value1\n  value2\n\tvalue3");
	assert_string_equal(r.headers[3].name, "Dup");
	assert_string_equal(r.body, "body\nline 2\n");
	assert_int_equal(r.body_len, 12);
	sigv4_req_free(&r);

	/* Headers then EOF, or then a blank line: both an empty body. */
	s = "POST / HTTP/1.1\nHost:h\n";
	assert_int_equal(sigv4_req_parse(s, strlen(s), &r, &cause), 0);
	assert_null(r.query);
	assert_int_equal(r.body_len, 0);
	sigv4_req_free(&r);
	s = "POST / HTTP/1.1\nHost:h\n\n";
	assert_int_equal(sigv4_req_parse(s, strlen(s), &r, &cause), 0);
	assert_int_equal(r.body_len, 0);
	sigv4_req_free(&r);
	/* A body with a NUL byte. */
	s = "PUT / HTTP/1.1\n\na\0b";
	assert_int_equal(sigv4_req_parse(s, sizeof("PUT / HTTP/1.1\n\na\0b") - 1,
	    &r, &cause), 0);
	assert_int_equal(r.body_len, 3);
	assert_memory_equal(r.body, "a\0b", 3);
	sigv4_req_free(&r);

	s = "GET / HTTP/1.1\nH\0:v\n";
	assert_int_equal(sigv4_req_parse(s, sizeof("GET / HTTP/1.1\nH\0:v\n") - 1,
	    &r, &cause), -1);
	assert_string_equal(cause, "line 2: NUL byte in request head");
	free(cause);
	s = "GET HTTP/1.1\n";
	assert_int_equal(sigv4_req_parse(s, strlen(s), &r, &cause), -1);
	free(cause);
	s = " GET / HTTP/1.1\n";
	assert_int_equal(sigv4_req_parse(s, strlen(s), &r, &cause), -1);
	free(cause);
	s = "GET / HTTP/1.1\n:v\n";
	assert_int_equal(sigv4_req_parse(s, strlen(s), &r, &cause), -1);
	assert_string_equal(cause, "line 2: empty header name");
	free(cause);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_suite),
		cmocka_unit_test(test_suite_token_placement),
		cmocka_unit_test(test_signing_key_known_answer),
		cmocka_unit_test(test_iam_listusers_known_answer),
		cmocka_unit_test(test_rest_double_encoding),
		cmocka_unit_test(test_canonical_path),
		cmocka_unit_test(test_canonical_query),
		cmocka_unit_test(test_empty_query_value_signed),
		cmocka_unit_test(test_s3_get_object_example),
		cmocka_unit_test(test_s3_rules),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_date_sources),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_keycache),
		cmocka_unit_test(test_req_parser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
