/*
 * sigv4_req: parse the SigV4 test suite's .req files.  See sigv4_req.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "sigv4_req.h"
#include "xmalloc.h"

static int
sigv4_req_fail(char **cause, size_t lineno, const char *msg)
{
	if (cause != NULL)
		*cause = xprintf("line %zu: %s", lineno, msg);
	return -1;
}

/* Last occurrence of needle in s[0..len). */
static const char *
sigv4_req_memrstr(const char *s, size_t len, const char *needle)
{
	size_t	 n = strlen(needle), i;

	if (len < n)
		return NULL;
	for (i = len - n + 1; i-- > 0;)
		if (memcmp(s + i, needle, n) == 0)
			return s + i;
	return NULL;
}

void
sigv4_req_free(struct sigv4_req *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	free(r->method);
	free(r->path);
	free(r->query);
	for (i = 0; i < r->nheaders; i++) {
		free((char *)r->headers[i].name);
		free((char *)r->headers[i].value);
	}
	free(r->headers);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

int
sigv4_req_parse(const char *data, size_t len, struct sigv4_req *ret,
    char **cause)
{
	struct sigv4_req	 r;
	const char		*p = data, *end = data + len, *nl, *line, *sp;
	const char		*http, *target, *q, *colon;
	size_t			 llen, lineno = 0, cap = 0, vlen, tlen;
	char			*v;

	memset(&r, 0, sizeof(r));
	if (len == 0)
		return sigv4_req_fail(cause, 1, "empty request");

	while (p < end) {
		lineno++;
		line = p;
		nl = memchr(p, '\n', (size_t)(end - p));
		llen = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		p = nl != NULL ? nl + 1 : end;
		if (llen > 0 && line[llen - 1] == '\r')
			llen--;
		if (memchr(line, '\0', llen) != NULL) {
			sigv4_req_fail(cause, lineno, "NUL byte in request head");
			goto fail;
		}

		if (lineno == 1) {
			/* METHOD SP TARGET SP HTTP/x */
			if ((sp = memchr(line, ' ', llen)) == NULL ||
			    sp == line) {
				sigv4_req_fail(cause, lineno, "bad request line "
				    "(want METHOD PATH HTTP/1.1)");
				goto fail;
			}
			target = sp + 1;
			http = sigv4_req_memrstr(target,
			    llen - (size_t)(target - line), " HTTP/");
			if (http == NULL || http == target) {
				sigv4_req_fail(cause, lineno, "bad request line "
				    "(want METHOD PATH HTTP/1.1)");
				goto fail;
			}
			r.method = xstrndup(line, (size_t)(sp - line));
			tlen = (size_t)(http - target);
			if ((q = memchr(target, '?', tlen)) != NULL) {
				r.path = xstrndup(target, (size_t)(q - target));
				r.query = xstrndup(q + 1,
				    tlen - (size_t)(q - target) - 1);
			} else
				r.path = xstrndup(target, tlen);
			continue;
		}

		if (llen == 0)
			break;		/* end of head: the rest is the body */

		if (line[0] == ' ' || line[0] == '\t') {
			/* Continuation of the previous header line. */
			if (r.nheaders == 0) {
				sigv4_req_fail(cause, lineno, "continuation "
				    "line before any header");
				goto fail;
			}
			v = (char *)r.headers[r.nheaders - 1].value;
			vlen = strlen(v);
			v = xreallocarray(v, vlen + llen + 2, 1);
			v[vlen] = '\n';
			memcpy(v + vlen + 1, line, llen);
			v[vlen + 1 + llen] = '\0';
			r.headers[r.nheaders - 1].value = v;
			continue;
		}

		if ((colon = memchr(line, ':', llen)) == NULL) {
			sigv4_req_fail(cause, lineno, "header line without ':'");
			goto fail;
		}
		if (colon == line) {
			sigv4_req_fail(cause, lineno, "empty header name");
			goto fail;
		}
		if (r.nheaders == cap) {
			cap = cap ? cap * 2 : 8;
			r.headers = xreallocarray(r.headers, cap,
			    sizeof(*r.headers));
		}
		r.headers[r.nheaders].name = xstrndup(line,
		    (size_t)(colon - line));
		r.headers[r.nheaders].value = xstrndup(colon + 1,
		    llen - (size_t)(colon - line) - 1);
		r.nheaders++;
	}

	r.body_len = (size_t)(end - p);
	r.body = xmalloc(r.body_len + 1);
	if (r.body_len > 0)
		memcpy(r.body, p, r.body_len);
	r.body[r.body_len] = '\0';
	*ret = r;
	return 0;

fail:
	sigv4_req_free(&r);
	return -1;
}

int
sigv4_read_file(const char *path, char **ret_data, size_t *ret_len,
    char **cause)
{
	FILE	*f;
	char	*data;
	size_t	 len;

	if ((f = fopen(path, "rb")) == NULL) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	data = xmalloc(SIGV4_REQ_MAX + 1);
	len = fread(data, 1, SIGV4_REQ_MAX + 1, f);
	if (ferror(f)) {
		*cause = xprintf("%s: read error", path);
		goto fail;
	}
	if (len > SIGV4_REQ_MAX) {
		*cause = xprintf("%s: larger than %d bytes", path,
		    SIGV4_REQ_MAX);
		goto fail;
	}
	fclose(f);
	data[len] = '\0';
	*ret_data = data;
	*ret_len = len;
	return 0;
fail:
	fclose(f);
	free(data);
	return -1;
}

char *
sigv4_case_name(const char *dir)
{
	size_t		 len = strlen(dir);
	const char	*s;

	while (len > 1 && dir[len - 1] == '/')
		len--;
	for (s = dir + len; s > dir && s[-1] != '/'; s--)
		;
	return xstrndup(s, len - (size_t)(s - dir));
}

int
sigv4_case_sign(const char *dir, const char *token,
    struct sigv4_keycache *kc, struct sigv4_output *out, char **cause)
{
	struct sigv4_input	 in;
	struct sigv4_req	 r;
	char			*name, *file, *data, *why;
	size_t			 len;
	int			 rv;

	name = sigv4_case_name(dir);
	if (*name == '\0' || strcmp(name, "/") == 0 ||
	    strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		*cause = xprintf("%s: not a case folder", dir);
		free(name);
		return -1;
	}
	file = xprintf("%s/%s.req", dir, name);
	free(name);
	if (sigv4_read_file(file, &data, &len, cause) != 0) {
		free(file);
		return -1;
	}
	if (sigv4_req_parse(data, len, &r, &why) != 0) {
		*cause = xprintf("%s: %s", file, why);
		free(why);
		free(data);
		free(file);
		return -1;
	}
	free(data);

	memset(&in, 0, sizeof(in));
	in.method = r.method;
	in.path = r.path;
	in.query = r.query;
	in.headers = r.headers;
	in.nheaders = r.nheaders;
	in.payload = r.body;
	in.payload_len = r.body_len;
	in.access_key = SIGV4_SUITE_ACCESS_KEY;
	in.secret_key = SIGV4_SUITE_SECRET_KEY;
	in.session_token = token;
	in.region = SIGV4_SUITE_REGION;
	in.service = SIGV4_SUITE_SERVICE;

	rv = sigv4_sign(&in, kc, out, &why);
	if (rv != 0) {
		*cause = xprintf("%s: %s", file, why);
		free(why);
	}
	sigv4_req_free(&r);
	free(file);
	return rv;
}
