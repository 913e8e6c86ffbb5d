/*
 * fuzz_sigv4: arbitrary bytes as a .req-like request (request line,
 * headers, body: tests/sigv4_req.h) through the canonicaliser and the
 * signer, in both the normal and the S3 rules, with and without a session
 * token and a precomputed payload hash.  Must never crash, leak or trip a
 * sanitizer; a successful signature must be well formed and repeatable.
 *
 * Seeds: tests/fuzz/corpus/sigv4/ (the AWS suite's .req files).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "sigv4_req.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sigv4_keycache	*fuzz_cache;

static void
fuzz_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_sigv4: %s\n", what);
		abort();
	}
}

static void
fuzz_sign(const struct sigv4_req *r, int s3, const char *token,
    const char *payload_hash)
{
	struct sigv4_input	 in;
	struct sigv4_output	 out, again;
	char			*cause = NULL;
	size_t			 i;

	memset(&in, 0, sizeof(in));
	in.method = r->method;
	in.path = r->path;
	in.query = r->query;
	in.headers = r->headers;
	in.nheaders = r->nheaders;
	in.payload = r->body;
	in.payload_len = r->body_len;
	in.payload_hash = payload_hash;
	in.access_key = SIGV4_SUITE_ACCESS_KEY;
	in.secret_key = SIGV4_SUITE_SECRET_KEY;
	in.session_token = token;
	in.region = SIGV4_SUITE_REGION;
	in.service = s3 ? "s3" : SIGV4_SUITE_SERVICE;
	in.s3 = s3;

	if (sigv4_sign(&in, fuzz_cache, &out, &cause) != 0) {
		fuzz_check(cause != NULL && *cause != '\0', "no cause");
		fuzz_check(strstr(cause, SIGV4_SUITE_SECRET_KEY) == NULL,
		    "secret in cause");
		free(cause);
		return;
	}

	/* Well formed: no raw line breaks where none may be. */
	fuzz_check(strchr(out.sts, '\r') == NULL, "CR in string to sign");
	fuzz_check(strchr(out.authz, '\n') == NULL &&
	    strchr(out.authz, '\r') == NULL, "line break in Authorization");
	fuzz_check(strncmp(out.authz, "AWS4-HMAC-SHA256 Credential=", 28) == 0,
	    "bad Authorization prefix");
	fuzz_check(strlen(out.payload_hash) > 0, "no payload hash");
	for (i = 0; out.creq[i] != '\0'; i++)
		fuzz_check(out.creq[i] != '\r', "CR in canonical request");
	fuzz_check(!s3 || strstr(out.signed_headers, "x-amz-content-sha256") !=
	    NULL, "S3 without x-amz-content-sha256");

	/* Deterministic, with or without the key cache. */
	fuzz_check(sigv4_sign(&in, NULL, &again, &cause) == 0,
	    "second signature failed");
	fuzz_check(strcmp(out.creq, again.creq) == 0 &&
	    strcmp(out.authz, again.authz) == 0, "not repeatable");
	sigv4_output_free(&again);
	sigv4_output_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sigv4_req	 r;
	char			*cause = NULL, *s, *p;

	if (fuzz_cache == NULL)
		fuzz_cache = sigv4_keycache_new();

	if (sigv4_req_parse((const char *)data, size, &r, &cause) != 0) {
		fuzz_check(cause != NULL, "parse: no cause");
		free(cause);
	} else {
		fuzz_sign(&r, 0, NULL, NULL);
		fuzz_sign(&r, 1, NULL, NULL);
		fuzz_sign(&r, 0, "token/with+chars=", NULL);
		fuzz_sign(&r, 1, "token", "UNSIGNED-PAYLOAD");
		sigv4_req_free(&r);
	}

	/* The pieces on the raw bytes, as one string. */
	s = xstrndup((const char *)data, size);
	p = sigv4_canonical_path(s, 0);
	free(p);
	p = sigv4_canonical_path(s, 1);
	free(p);
	p = sigv4_canonical_query(s);
	free(p);
	free(s);
	return 0;
}
