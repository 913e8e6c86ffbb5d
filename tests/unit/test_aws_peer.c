/*
 * aws against real peers: botocore's own serializers and moto's responses.
 *
 * tests/unit/aws_peer.py (run with $CLOUDSAGA_PYTHON, the Python that has
 * moto) prints (1) what botocore sends for the calls the scenarios make -
 * method, path, query, headers, body - beside the input our encoder gets
 * for the same call, and (2) the raw responses moto gives for the calls
 * the daemon makes (in process: nothing leaves the machine) beside what
 * botocore parsed out of them.  Here our encoder must produce the same
 * request and our decoder the same codes, messages, request IDs and
 * values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "aws.h"
#include "buf.h"
#include "endpoint.h"
#include "util.h"
#include "xmalloc.h"

static json_t	*peer_doc;

static int
peer_setup(void **state)
{
	const char	*py = getenv("CLOUDSAGA_PYTHON");
	const char	*src = getenv("CLOUDSAGA_SRC");
	json_error_t	 err;
	struct buf	 out;
	char		*cmd, chunk[65536];
	FILE		*f;
	size_t		 n;
	int		 status;

	(void)state;
	if (py == NULL || src == NULL)
		return 0;	/* the tests skip themselves */
	cmd = xprintf("'%s' '%s/tests/unit/aws_peer.py'", py, src);
	if ((f = popen(cmd, "r")) == NULL) {
		free(cmd);
		return -1;
	}
	free(cmd);
	buf_init(&out);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&out, chunk, n);
	status = pclose(f);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "aws_peer.py failed (status %d)\n", status);
		buf_free(&out);
		return -1;
	}
	peer_doc = json_loadb(out.data, out.len, 0, &err);
	buf_free(&out);
	if (peer_doc == NULL) {
		fprintf(stderr, "aws_peer.py output: %s\n", err.text);
		return -1;
	}
	return 0;
}

static int
peer_teardown(void **state)
{
	(void)state;
	json_decref(peer_doc);
	return 0;
}

static const char *
our_header(const struct aws_http *h, const char *name)
{
	size_t	 i;

	for (i = 0; i < h->nheaders; i++) {
		if (strcasecmp(h->headers[i].name, name) == 0)
			return h->headers[i].value;
	}
	return NULL;
}

/* "a=1&b&c=%20" -> {"a":"1","b":"","c":" "} */
static json_t *
split_form(const char *s)
{
	json_t		*o = json_object();
	const char	*p, *e, *eq;
	char		*k, *v;

	for (p = s; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, "&");
		eq = memchr(p, '=', (size_t)(e - p));
		if (eq == NULL)
			eq = e;
		k = uri_decode(p, (size_t)(eq - p), 0);
		v = eq < e ? uri_decode(eq + 1, (size_t)(e - eq - 1), 0) :
		    xstrdup("");
		if (json_object_get(o, k) != NULL)
			fail_msg("parameter %s twice in %s", k, s);
		json_object_set_new(o, k, json_string(v));
		free(k);
		free(v);
	}
	return o;
}

static void
expect_json_equal(const char *what, json_t *got, json_t *want)
{
	char	*g, *w;

	if (json_equal(got, want))
		return;
	g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
	w = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
	fail_msg("%s:\n ours     %s\n botocore %s", what, g, w);
}

static void
test_encode_like_botocore(void **state)
{
	json_t			*c, *want, *got, *v;
	struct aws_request	*req;
	struct aws_http		 h;
	struct aws_endpoint	 ep;
	const char		*name, *k, *body;
	char			*cause = NULL, *path;
	size_t			 i;

	(void)state;
	if (peer_doc == NULL)
		skip();
	json_array_foreach(json_object_get(peer_doc, "encode"), i, c) {
		name = json_string_value(json_object_get(c, "name"));
		req = aws_request_new(aws_service_find(json_string_value(
		    json_object_get(c, "service"))), json_string_value(
		    json_object_get(c, "action")), "us-east-1");
		assert_non_null(req->svc);
		req->input = json_deep_copy(json_object_get(c, "input"));
		if (aws_encode(req, &h, &cause) != 0)
			fail_msg("%s: %s", name, cause);

		assert_string_equal(h.method, json_string_value(
		    json_object_get(c, "method")));

		/* The path as it goes on the wire, bucket included. */
		memset(&ep, 0, sizeof(ep));
		ep.url = (char *)"http://x";
		ep.base_path = (char *)"";
		ep.path_style = 1;
		endpoint_target(&ep, h.bucket, h.path, h.query, &path, NULL);
		if (strcmp(path, json_string_value(json_object_get(c,
		    "path"))) != 0)
			fail_msg("%s: path %s, botocore %s", name, path,
			    json_string_value(json_object_get(c, "path")));
		free(path);

		got = split_form(h.query);
		expect_json_equal(name, got, json_object_get(c, "query"));
		json_decref(got);

		json_object_foreach(json_object_get(c, "headers"), k, v) {
			if (our_header(&h, k) == NULL ||
			    strcmp(our_header(&h, k), json_string_value(v)) != 0)
				fail_msg("%s: header %s: ours %s, botocore %s",
				    name, k, our_header(&h, k),
				    json_string_value(v));
		}

		if ((want = json_object_get(c, "form")) != NULL) {
			got = split_form(h.body);
			expect_json_equal(name, got, want);
			json_decref(got);
		} else {
			body = json_string_value(json_object_get(c, "body"));
			assert_non_null(body);
			if (*body == '\0' || strcmp(json_string_value(
			    json_object_get(c, "protocol")), "rest-xml") == 0) {
				if (strcmp(h.body, body) != 0)
					fail_msg("%s: body\n ours     %s\n "
					    "botocore %s", name, h.body, body);
			} else {
				got = json_loads(h.body, 0, NULL);
				want = json_loads(body, 0, NULL);
				assert_non_null(got);
				assert_non_null(want);
				expect_json_equal(name, got, want);
				json_decref(got);
				json_decref(want);
			}
		}
		if ((v = json_object_get(c, "content_md5")) != NULL)
			assert_string_equal(our_header(&h, "Content-MD5"),
			    json_string_value(v));
		aws_http_free(&h);
		aws_request_free(req);
	}
}

/* Path with list semantics: an index into a non-array is the element
 * itself for 0 (a single element), absent otherwise. */
static json_t *
list_path(json_t *v, const char *path)
{
	char		*copy, *seg, *save = NULL, *end;
	unsigned long	 idx;

	copy = xstrdup(path);
	for (seg = strtok_r(copy, ".", &save); seg != NULL && v != NULL;
	    seg = strtok_r(NULL, ".", &save)) {
		idx = strtoul(seg, &end, 10);
		if (*seg >= '0' && *seg <= '9' && *end == '\0') {
			if (json_is_array(v))
				v = json_array_get(v, idx);
			else if (idx != 0)
				v = NULL;
		} else
			v = json_object_get(v, seg);
	}
	free(copy);
	return v;
}

static char *
as_text(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	return NULL;
}

static void
test_decode_moto(void **state)
{
	json_t			*c, *parsed, *hv, *pair, *bv;
	struct aws_request	*req;
	struct http_response	 r;
	struct aws_result	 res;
	const char		*k, *svc, *action, *want, *ours;
	char			*what, *wtext;
	size_t			 i, j, nh;
	long			 status;

	(void)state;
	if (peer_doc == NULL)
		skip();
	json_array_foreach(json_object_get(peer_doc, "decode"), i, c) {
		svc = json_string_value(json_object_get(c, "service"));
		action = json_string_value(json_object_get(c, "action"));
		status = (long)json_integer_value(json_object_get(c,
		    "status"));
		what = xprintf("%s:%s (HTTP %ld)", svc, action, status);
		parsed = json_object_get(c, "parsed");
		req = aws_request_new(aws_service_find(svc), action,
		    json_string_value(json_object_get(c, "region")));
		if (json_is_true(json_object_get(c, "dry_run")))
			aws_request_add(req, "DryRun", "true");

		memset(&r, 0, sizeof(r));
		r.status = status;
		r.body = (char *)json_string_value(json_object_get(c, "body"));
		r.body_len = strlen(r.body);
		r.headers = xcalloc(json_object_size(json_object_get(c,
		    "headers")) + 1, sizeof(*r.headers));
		nh = 0;
		json_object_foreach(json_object_get(c, "headers"), k, hv) {
			r.headers[nh].name = (char *)k;
			r.headers[nh++].value = (char *)json_string_value(hv);
		}
		r.nheaders = nh;
		aws_result_init(&res);
		aws_decode(req, &r, &res);

		want = json_string_value(aws_json_path(parsed,
		    "ResponseMetadata.RequestId"));
		if (want != NULL && *want != '\0' && (res.request_id == NULL ||
		    strcmp(res.request_id, want) != 0))
			fail_msg("%s: request ID %s, botocore %s", what,
			    res.request_id, want);

		if (status >= 300) {
			want = aws_json_str(parsed, "Error.Code");
			assert_non_null(want);
			if (res.error_code == NULL ||
			    strcmp(res.error_code, want) != 0)
				fail_msg("%s: code %s, botocore %s", what,
				    res.error_code, want);
			want = aws_json_str(parsed, "Error.Message");
			if (want != NULL && *want != '\0' &&
			    (res.error_message == NULL ||
			    strcmp(res.error_message, want) != 0))
				fail_msg("%s: message \"%s\", botocore \"%s\"",
				    what, res.error_message, want);
			assert_null(res.data);
			assert_true(res.outcome != AWS_OK);
			if (strcmp(res.error_code, "DryRunOperation") == 0)
				assert_int_equal(res.outcome, AWS_PERMITTED);
		} else {
			if (res.outcome != AWS_OK)
				fail_msg("%s: %s %s: %s", what,
				    aws_outcome_name(res.outcome),
				    res.error_code, res.error_message);
			assert_non_null(res.data);
		}

		json_array_foreach(json_object_get(c, "checks"), j, pair) {
			bv = list_path(parsed, json_string_value(
			    json_array_get(pair, 0)));
			wtext = as_text(bv);
			if (wtext == NULL)
				fail_msg("%s: botocore has no %s", what,
				    json_string_value(json_array_get(pair, 0)));
			ours = json_string_value(list_path(res.data,
			    json_string_value(json_array_get(pair, 1))));
			if (ours == NULL || strcmp(ours, wtext) != 0)
				fail_msg("%s: %s = \"%s\", botocore %s = "
				    "\"%s\"", what, json_string_value(
				    json_array_get(pair, 1)), ours,
				    json_string_value(json_array_get(pair, 0)),
				    wtext);
			free(wtext);
		}
		aws_result_clear(&res);
		aws_request_free(req);
		free(r.headers);
		free(what);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_like_botocore),
		cmocka_unit_test(test_decode_moto),
	};

	return cmocka_run_group_tests(tests, peer_setup, peer_teardown);
}
