/*
 * creds over HTTP: EC2 IMDSv2 (token PUT with its TTL header, the token on
 * every GET, IMDSv1 fallback and its opt-out, expiry extension, refresh)
 * and the container endpoint (Authorization from file or variable, CR/LF
 * rejected, allowed hosts, retries), each against a real HTTP server on
 * loopback (testsrv) through the real HTTP engine.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "cloudsaga_limits.h"
#include "creds.h"
#include "creds_int.h"
#include "http.h"
#include "log.h"
#include "testsrv.h"
#include "util.h"
#include "xmalloc.h"

static const char *aws_env[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "CREDENTIALS_DIRECTORY", "AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
	"AWS_EC2_METADATA_V1_DISABLED", "AWS_METADATA_SERVICE_TIMEOUT",
	"AWS_METADATA_SERVICE_NUM_ATTEMPTS", NULL,
};

static time_t		 fake_now;
static char		 tmpdir[64];

static time_t
fake_clock(void)
{
	return fake_now;
}

struct env {
	struct event_base	*base;
	struct http_engine	*http;
	struct testsrv		*srv;
	struct creds_ctx	 ctx;
};

static int
setup(void **state)
{
	struct env	*e;
	size_t		 i;

	for (i = 0; aws_env[i] != NULL; i++)
		unsetenv(aws_env[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	fake_now = time(NULL);
	creds_set_clock(fake_clock);

	e = xcalloc(1, sizeof(*e));
	assert_non_null(e->base = event_base_new());
	assert_non_null(e->http = http_engine_new(e->base, NULL));
	e->srv = testsrv_start();
	e->ctx.base = e->base;
	e->ctx.http = e->http;
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*e = *state;

	testsrv_free(e->srv);
	http_engine_free(e->http);
	event_base_free(e->base);
	free(e);
	creds_set_clock(NULL);
	return 0;
}

struct result {
	int			 called;
	struct aws_creds	*creds;
	char			*error;
};

static void
result_cb(struct aws_creds *c, const char *error, void *arg)
{
	struct result	*r = arg;

	r->called++;
	r->creds = creds_ref(c);
	r->error = error != NULL ? xstrdup(error) : NULL;
}

static void
result_clear(struct result *r)
{
	creds_unref(r->creds);
	free(r->error);
	memset(r, 0, sizeof(*r));
}

static void
timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	fail_msg("timed out waiting for credentials");
}

static void
get_sync(struct env *e, struct creds_provider *p, struct result *r)
{
	struct timeval	 tv = { 20, 0 };
	struct event	*to;

	result_clear(r);
	creds_provider_attach(p, e->base);
	to = evtimer_new(e->base, timeout_cb, NULL);
	evtimer_add(to, &tv);
	creds_get(p, result_cb, r);
	while (r->called == 0)
		event_base_loop(e->base, EVLOOP_ONCE);
	event_free(to);
}

static void
assert_error_contains(struct result *r, const char *what)
{
	assert_null(r->creds);
	assert_non_null(r->error);
	if (strstr(r->error, what) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", r->error, what);
}

/* Answer 200 with head, n bytes of c, tail. */
static void
reply_padded(struct testsrv_resp *resp, const char *head, const char *tail,
    size_t n, char c)
{
	size_t	 hl = strlen(head), tl = strlen(tail);
	char	*body;

	body = xmalloc(hl + n + tl);
	memcpy(body, head, hl);
	memset(body + hl, c, n);
	memcpy(body + hl + n, tail, tl);
	testsrv_reply(resp, 200, "text/plain", body, hl + n + tl);
	free(body);
}

/* ---- a fake IMDS ------------------------------------------------------- */

enum imds_mode {
	IMDS_V2,		/* tokens required on every GET */
	IMDS_V1_ONLY,		/* token PUT answered token_status */
	IMDS_REJECT,		/* GETs always 401 */
};

struct imds_srv {
	pthread_mutex_t	 lock;
	enum imds_mode	 mode;
	int		 token_status;
	int		 puts, gets, gets_without_token, unauthorized;
	int		 issued;
	char		 ttl[32];
	char		 token[64];
	char		 role[64];		/* "" = no role */
	char		 code[32];
	time_t		 expiration;
	int		 bad_json;
	size_t		 pad_token, pad_role, pad_creds;	/* bytes added */
};

static struct imds_srv	 im;

static void
imds_token(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	const char	*ttl;

	pthread_mutex_lock(&im.lock);
	im.puts++;
	ttl = testsrv_req_header(req, "X-aws-ec2-metadata-token-ttl-seconds");
	snprintf(im.ttl, sizeof(im.ttl), "%s", ttl != NULL ? ttl : "");
	if (im.mode == IMDS_V1_ONLY)
		testsrv_reply_text(resp, im.token_status, "no\n");
	else if (ttl == NULL)
		testsrv_reply_text(resp, 400, "missing TTL\n");
	else {
		snprintf(im.token, sizeof(im.token), "TOKEN-%d-%ld", im.puts,
		    (long)getpid());
		if (im.pad_token > 0)
			reply_padded(resp, im.token, "", im.pad_token, 'x');
		else
			testsrv_reply(resp, 200, "text/plain", im.token,
			    strlen(im.token));
	}
	pthread_mutex_unlock(&im.lock);
}

/* 1 = may answer; 0 = answered 401 */
static int
imds_check_token(const struct testsrv_req *req, struct testsrv_resp *resp)
{
	const char	*tok;

	im.gets++;
	tok = testsrv_req_header(req, "X-aws-ec2-metadata-token");
	if (tok == NULL)
		im.gets_without_token++;
	if (im.mode == IMDS_REJECT || (im.mode == IMDS_V2 &&
	    (tok == NULL || strcmp(tok, im.token) != 0))) {
		im.unauthorized++;
		testsrv_reply_text(resp, 401, "Unauthorized\n");
		return 0;
	}
	return 1;
}

static void
imds_roles(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	char	 body[80];

	pthread_mutex_lock(&im.lock);
	if (imds_check_token(req, resp)) {
		if (im.role[0] == '\0')
			testsrv_reply_text(resp, 404, "Not Found\n");
		else if (im.pad_role > 0) {
			/* more roles, one per line, after the real one */
			snprintf(body, sizeof(body), "%s\n", im.role);
			reply_padded(resp, body, "", im.pad_role, '\n');
		} else {
			snprintf(body, sizeof(body), "%s\n", im.role);
			testsrv_reply_text(resp, 200, body);
		}
	}
	pthread_mutex_unlock(&im.lock);
}

static void
imds_role_creds(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	char	 exp[21], *body;

	pthread_mutex_lock(&im.lock);
	if (!imds_check_token(req, resp))
		goto out;
	if (strcmp(req->path + strlen("/latest/meta-data/iam/"
	    "security-credentials/"), im.role) != 0) {
		testsrv_reply_text(resp, 404, "Not Found\n");
		goto out;
	}
	if (im.bad_json) {
		testsrv_reply_text(resp, 200, "{\"Code\": ");
		goto out;
	}
	im.issued++;
	time_iso8601(im.expiration, exp);
	body = xprintf("{\n  \"Code\" : \"%s\",\n"
	    "  \"LastUpdated\" : \"2024-01-01T00:00:00Z\",\n"
	    "  \"Type\" : \"AWS-HMAC\",\n"
	    "  \"AccessKeyId\" : \"ASIAIMDS%d\",\n"
	    "  \"SecretAccessKey\" : \"imds/secret/%d\",\n"
	    "  \"Token\" : \"imds-session-token-%d\",\n"
	    "  \"Expiration\" : \"%s\",\n  \"Padding\" : \"", im.code, im.issued,
	    im.issued, im.issued, exp);
	reply_padded(resp, body, "\"\n}", im.pad_creds, ' ');
	free(body);
out:
	pthread_mutex_unlock(&im.lock);
}

static void
imds_start(struct env *e, enum imds_mode mode)
{
	pthread_mutex_destroy(&im.lock);
	memset(&im, 0, sizeof(im));
	pthread_mutex_init(&im.lock, NULL);
	im.mode = mode;
	im.token_status = 404;
	snprintf(im.role, sizeof(im.role), "cloudsaga-test-role");
	snprintf(im.code, sizeof(im.code), "Success");
	im.expiration = fake_now + 6 * 3600;
	testsrv_route(e->srv, "PUT", "/latest/api/token", imds_token, NULL);
	testsrv_route(e->srv, "GET", "/latest/meta-data/iam/"
	    "security-credentials/", imds_roles, NULL);
	testsrv_route(e->srv, "GET", "/latest/meta-data/iam/"
	    "security-credentials/*", imds_role_creds, NULL);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", testsrv_url(e->srv, "/"),
	    1);
}

static void
test_imds_v2(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };

	imds_start(e, IMDS_V2);
	assert_non_null(p = creds_imds(&e->ctx));
	assert_string_equal(creds_provider_name(p), "imds");
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_string_equal(r.creds->access_key_id, "ASIAIMDS1");
	assert_string_equal(r.creds->secret_access_key, "imds/secret/1");
	assert_string_equal(r.creds->session_token, "imds-session-token-1");
	assert_int_equal(r.creds->expiration, im.expiration);
	assert_string_equal(r.creds->source, "imds");
	/* One token, asked for six hours, carried on both GETs. */
	assert_int_equal(im.puts, 1);
	assert_string_equal(im.ttl, "21600");
	assert_int_equal(im.gets, 2);
	assert_int_equal(im.gets_without_token, 0);
	assert_int_equal(im.unauthorized, 0);

	/* Cached while valid; refreshed (with a new token) near expiry. */
	get_sync(e, p, &r);
	assert_int_equal(im.puts, 1);
	fake_now = im.expiration - 200;
	im.expiration = fake_now + 6 * 3600;
	get_sync(e, p, &r);
	assert_string_equal(r.creds->access_key_id, "ASIAIMDS2");
	assert_int_equal(im.puts, 2);
	assert_int_equal(im.gets, 4);
	assert_int_equal(im.unauthorized, 0);
	result_clear(&r);
	creds_provider_free(p);

	/* A trailing slash on the endpoint is fine. */
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT",
	    testsrv_url(e->srv, "//"), 1);
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_null(r.error);
	result_clear(&r);
	creds_provider_free(p);

	/* Disabled: not configured at all. */
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	assert_null(creds_imds(&e->ctx));
}

static void
test_imds_token_required(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };

	/* The server really checks the token: a GET without it is 401. */
	imds_start(e, IMDS_V2);
	setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_int_equal(im.unauthorized, 0);
	result_clear(&r);
	creds_provider_free(p);

	/* A server that rejects every token: a clear error. */
	imds_start(e, IMDS_REJECT);
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "role: HTTP 401 (session token rejected)");
	assert_non_null(strstr(r.error, testsrv_url(e->srv, NULL)));
	assert_int_equal(im.puts, 1);
	result_clear(&r);
	creds_provider_free(p);
}

static void
test_imds_v1_fallback(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };
	static const int	 codes[] = { 403, 404, 405 };
	size_t			 i;

	for (i = 0; i < nitems(codes); i++) {
		imds_start(e, IMDS_V1_ONLY);
		im.token_status = codes[i];
		p = creds_imds(&e->ctx);
		get_sync(e, p, &r);
		assert_null(r.error);
		assert_string_equal(r.creds->access_key_id, "ASIAIMDS1");
		assert_int_equal(im.puts, 1);
		assert_int_equal(im.gets, 2);
		assert_int_equal(im.gets_without_token, 2);
		result_clear(&r);
		creds_provider_free(p);

		/* ... unless IMDSv1 is switched off. */
		setenv("AWS_EC2_METADATA_V1_DISABLED", "true", 1);
		p = creds_imds(&e->ctx);
		get_sync(e, p, &r);
		assert_error_contains(&r, "IMDSv1 is disabled");
		assert_int_equal(im.gets, 2);
		result_clear(&r);
		creds_provider_free(p);
		unsetenv("AWS_EC2_METADATA_V1_DISABLED");
	}

	/* 400 from the token PUT is an error, not a fallback. */
	imds_start(e, IMDS_V1_ONLY);
	im.token_status = 400;
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "token: HTTP 400");
	assert_int_equal(im.gets, 0);
	result_clear(&r);
	creds_provider_free(p);
}

static void
test_imds_expiry_extension(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };

	/* IMDS hands out credentials 2 minutes from expiry (an outage of
	 * its own refresh): use them, and try again in 2..10 minutes
	 * rather than at every get. */
	imds_start(e, IMDS_V2);
	im.expiration = fake_now + 120;
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_true(r.creds->expiration >= fake_now + CREDS_REFRESH_MARGIN +
	    120);
	assert_true(r.creds->expiration <= fake_now + CREDS_REFRESH_MARGIN +
	    600);
	get_sync(e, p, &r);
	assert_int_equal(im.issued, 1);
	/* Even already expired ones (static stability). */
	fake_now = r.creds->expiration - CREDS_REFRESH_MARGIN;
	im.expiration = fake_now - 30;
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_int_equal(im.issued, 2);
	assert_true(r.creds->expiration > fake_now + CREDS_REFRESH_MARGIN);
	result_clear(&r);
	creds_provider_free(p);
}

static void
test_imds_errors(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };
	struct testsrv		*dead;
	char			*url;

	imds_start(e, IMDS_V2);
	im.role[0] = '\0';
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "no IAM role attached");
	creds_provider_free(p);

	/* Role names are IAM names: anything else is refused, not sent. */
	imds_start(e, IMDS_V2);
	snprintf(im.role, sizeof(im.role), "../../user-data");
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "bad IAM role name");
	assert_int_equal(im.gets, 1);
	creds_provider_free(p);

	/* IAM's other characters go as they are. */
	imds_start(e, IMDS_V2);
	snprintf(im.role, sizeof(im.role), "ops+audit=1,a.b@c_d-e");
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_null(r.error);
	creds_provider_free(p);

	imds_start(e, IMDS_V2);
	snprintf(im.code, sizeof(im.code), "Failure");
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "Code Failure");
	creds_provider_free(p);

	imds_start(e, IMDS_V2);
	im.bad_json = 1;
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "bad JSON");
	creds_provider_free(p);

	/* Nothing listening: reported, with the endpoint. */
	dead = testsrv_start();
	url = xstrdup(testsrv_url(dead, NULL));
	testsrv_free(dead);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, url);
	assert_non_null(strstr(r.error, "EC2 instance metadata"));
	creds_provider_free(p);

	/* At the end of the default chain, the error says what else was
	 * looked at. */
	p = creds_default_chain(&e->ctx, NULL);
	assert_string_equal(creds_provider_name(p), "imds");
	get_sync(e, p, &r);
	assert_error_contains(&r, "no credentials in the environment");
	assert_non_null(strstr(r.error, url));
	result_clear(&r);
	creds_provider_free(p);
	free(url);
}

/*
 * IMDS answers are small (the credential document is under 2 KiB): none
 * may make the daemon hold more than CREDS_HTTP_MAX_BODY (64 KiB), not the
 * token, not the role listing (only its first line is used), not the
 * document.  Just under the limit is fine.
 */
static void
test_imds_size_limits(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };
	char			 want[64];

	snprintf(want, sizeof(want), "larger than %d bytes",
	    CREDS_HTTP_MAX_BODY);

	imds_start(e, IMDS_V2);
	im.pad_creds = CREDS_HTTP_MAX_BODY - 1024;
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_string_equal(r.creds->secret_access_key, "imds/secret/1");
	result_clear(&r);
	creds_provider_free(p);

	imds_start(e, IMDS_V2);
	im.pad_creds = CREDS_HTTP_MAX_BODY;
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "credentials: ");
	assert_error_contains(&r, want);
	creds_provider_free(p);

	imds_start(e, IMDS_V2);
	im.pad_role = CREDS_HTTP_MAX_BODY;
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "role: ");
	assert_error_contains(&r, want);
	assert_int_equal(im.gets, 1);
	creds_provider_free(p);

	imds_start(e, IMDS_V2);
	im.pad_token = CREDS_HTTP_MAX_BODY;
	p = creds_imds(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "token: ");
	assert_error_contains(&r, want);
	assert_int_equal(im.gets, 0);
	result_clear(&r);
	creds_provider_free(p);
}

/*
 * The parsers on their own (the fetches above use them; the fuzzer calls
 * them): bodies are length-bound, not NUL-terminated, and whatever they
 * hold, a token or role goes on only when it is clean.
 */
static void
test_parsers(void **state)
{
	struct aws_creds	*c;
	char			*s, *cause = NULL, exp[21], *doc;

	(void)state;
	assert_non_null(s = creds_imds_parse_token("AQAE-tok==\r\n", 12,
	    &cause));
	assert_string_equal(s, "AQAE-tok==");
	free(s);
	/* only the first 4 bytes count: no NUL is read past len */
	assert_non_null(s = creds_imds_parse_token("abcdXXXX", 4, &cause));
	assert_string_equal(s, "abcd");
	free(s);
	assert_null(creds_imds_parse_token("a\x01b", 3, &cause));
	assert_string_equal(cause, "bad session token");
	free(cause);
	assert_null(creds_imds_parse_token("a\0b", 3, &cause));
	free(cause);
	assert_null(creds_imds_parse_token("a\nb", 3, &cause));
	free(cause);
	assert_null(creds_imds_parse_token("  \n", 3, &cause));
	free(cause);

	assert_non_null(s = creds_imds_parse_role("r-1\nr-2\n", 8, &cause));
	assert_string_equal(s, "r-1");
	free(s);
	assert_null(creds_imds_parse_role("r\0x\n", 4, &cause));
	assert_string_equal(cause, "bad IAM role name in the listing");
	free(cause);
	assert_null(creds_imds_parse_role("\n\n", 2, &cause));
	assert_string_equal(cause, "no IAM role attached to this instance");
	free(cause);
	assert_null(creds_imds_parse_role("role", 0, &cause));
	free(cause);

	time_iso8601(time(NULL) + 3600, exp);
	doc = xprintf("{\"Code\":\"Success\",\"AccessKeyId\":\"ASIA1\","
	    "\"SecretAccessKey\":\"s\",\"Token\":\"t\",\"Expiration\":"
	    "\"%s\"}", exp);
	assert_non_null(c = creds_imds_parse_creds(doc, strlen(doc), &cause));
	assert_string_equal(c->session_token, "t");
	creds_unref(c);
	assert_non_null(c = creds_container_parse(doc, strlen(doc), &cause));
	creds_unref(c);
	/* cut short: bad JSON, not a read past the end */
	assert_null(creds_imds_parse_creds(doc, 20, &cause));
	assert_non_null(strstr(cause, "bad JSON"));
	free(cause);
	free(doc);
	doc = xstrdup("{\"Code\":\"Fail\xc3\",\"AccessKeyId\":\"A\"}");
	assert_null(creds_imds_parse_creds(doc, strlen(doc), &cause));
	free(cause);
	free(doc);
	doc = xstrdup("{\"Code\":\"Failure\"}");
	assert_null(creds_imds_parse_creds(doc, strlen(doc), &cause));
	assert_string_equal(cause, "Code Failure");
	free(cause);
	/* the container answer has no Code and may lack Expiration */
	free(doc);
	doc = xstrdup("{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}");
	assert_non_null(c = creds_container_parse(doc, strlen(doc), &cause));
	creds_unref(c);
	free(doc);
}

/* ---- a fake container endpoint ----------------------------------------- */

struct ct_srv {
	pthread_mutex_t	 lock;
	int		 requests;
	int		 fail_first;	/* answer 500 to this many */
	int		 status;	/* after that; 200 */
	char		 auth[128];
	char		 accept[64];
	size_t		 pad;		/* bytes of padding in the answer */
};

static struct ct_srv	 ct;

static void
ct_handler(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	const char	*a;
	char		 exp[21], *body;

	pthread_mutex_lock(&ct.lock);
	ct.requests++;
	a = testsrv_req_header(req, "Authorization");
	snprintf(ct.auth, sizeof(ct.auth), "%s", a != NULL ? a : "");
	a = testsrv_req_header(req, "Accept");
	snprintf(ct.accept, sizeof(ct.accept), "%s", a != NULL ? a : "");
	if (ct.requests <= ct.fail_first)
		testsrv_reply_text(resp, 500, "{\"code\":\"Busy\"}");
	else if (ct.status != 200)
		testsrv_reply_text(resp, ct.status,
		    "{\"code\":\"AccessDenied\",\"message\":\"bad token\"}");
	else {
		time_iso8601(fake_now + 3600, exp);
		body = xprintf("{\"AccessKeyId\":\"ASIACONTAINER%d\","
		    "\"SecretAccessKey\":\"ct/secret\","
		    "\"Token\":\"ct-token\",\"Expiration\":\"%s\","
		    "\"AccountId\":\"210987654321\",\"Padding\":\"",
		    ct.requests, exp);
		reply_padded(resp, body, "\"}", ct.pad, ' ');
		free(body);
	}
	pthread_mutex_unlock(&ct.lock);
}

static void
ct_start(struct env *e)
{
	pthread_mutex_destroy(&ct.lock);
	memset(&ct, 0, sizeof(ct));
	pthread_mutex_init(&ct.lock, NULL);
	ct.status = 200;
	testsrv_route(e->srv, "GET", "/v2/credentials/*", ct_handler, NULL);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    testsrv_url(e->srv, "/v2/credentials/abc"), 1);
}

static char *
write_token(const char *text)
{
	char	*path;
	FILE	*f;

	path = xprintf("%s/token", tmpdir);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_container(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };
	char			*file;

	assert_null(creds_container(&e->ctx));
	ct_start(e);

	/* Token from the variable. */
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "env-token-1", 1);
	assert_non_null(p = creds_container(&e->ctx));
	assert_string_equal(creds_provider_name(p), "container");
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_string_equal(r.creds->access_key_id, "ASIACONTAINER1");
	assert_string_equal(r.creds->secret_access_key, "ct/secret");
	assert_string_equal(r.creds->session_token, "ct-token");
	assert_string_equal(r.creds->account_id, "210987654321");
	assert_string_equal(r.creds->source, "container");
	assert_int_equal(r.creds->expiration, fake_now + 3600);
	assert_string_equal(ct.auth, "env-token-1");
	assert_string_equal(ct.accept, "application/json");

	/* The file wins over the variable, and is read at every fetch
	 * (EKS rotates it). */
	file = write_token("file-token-1");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file, 1);
	creds_invalidate(p);
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_string_equal(ct.auth, "file-token-1");
	free(write_token("file-token-2"));
	creds_invalidate(p);
	get_sync(e, p, &r);
	assert_string_equal(ct.auth, "file-token-2");
	assert_int_equal(ct.requests, 3);

	/* CR or LF in a token: refused before anything is sent. */
	free(write_token("file-token\n"));
	creds_invalidate(p);
	get_sync(e, p, &r);
	assert_error_contains(&r, "contains CR or LF");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "a\r\nX-Injected: 1", 1);
	get_sync(e, p, &r);
	assert_error_contains(&r, "contains CR or LF");
	assert_int_equal(ct.requests, 3);
	/* A missing token file is an error too. */
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/nonexistent/t", 1);
	get_sync(e, p, &r);
	assert_error_contains(&r, "/nonexistent/t");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");

	/* No token at all: no Authorization header. */
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_string_equal(ct.auth, "");
	result_clear(&r);
	creds_provider_free(p);
	unlink(file);
	free(file);
}

static void
test_container_retries(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };

	/* Two 500s, then an answer: three attempts. */
	ct_start(e);
	ct.fail_first = 2;
	p = creds_container(&e->ctx);
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_int_equal(ct.requests, 3);
	assert_string_equal(r.creds->access_key_id, "ASIACONTAINER3");
	creds_provider_free(p);

	/* Three 500s: an error after the third. */
	ct_start(e);
	ct.fail_first = 5;
	p = creds_container(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "HTTP 500");
	assert_int_equal(ct.requests, 3);
	creds_provider_free(p);

	/* A 4xx is final, and its body is quoted. */
	ct_start(e);
	ct.status = 403;
	p = creds_container(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "HTTP 403: {\"code\":\"AccessDenied\"");
	assert_int_equal(ct.requests, 1);
	result_clear(&r);
	creds_provider_free(p);
}

/* The container answer is bounded as IMDS's are. */
static void
test_container_size_limit(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };
	char			 want[64];

	ct_start(e);
	ct.pad = CREDS_HTTP_MAX_BODY - 1024;
	p = creds_container(&e->ctx);
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_string_equal(r.creds->secret_access_key, "ct/secret");
	result_clear(&r);
	creds_provider_free(p);

	ct_start(e);
	ct.pad = CREDS_HTTP_MAX_BODY;
	p = creds_container(&e->ctx);
	get_sync(e, p, &r);
	snprintf(want, sizeof(want), "larger than %d bytes",
	    CREDS_HTTP_MAX_BODY);
	assert_error_contains(&r, want);
	assert_int_equal(ct.requests, 1);	/* not retried */
	result_clear(&r);
	creds_provider_free(p);
}

static void
check_full_uri(struct env *e, const char *uri, int allowed)
{
	const char		*want = strncmp(uri, "http", 4) == 0 ?
				    "not allowed" : "must be an http or https URL";
	struct creds_provider	*p;
	struct result		 r = { 0 };

	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri, 1);
	p = creds_container(&e->ctx);
	assert_non_null(p);
	if (!allowed) {
		get_sync(e, p, &r);
		assert_error_contains(&r, want);
		result_clear(&r);
	} else {
		/* Built as a real provider: its fetch would go out. */
		assert_ptr_not_equal(p->ops->fetch, NULL);
		assert_string_not_equal(p->ops->kind, "error");
	}
	creds_provider_free(p);
}

static void
test_container_hosts(void **state)
{
	struct env	*e = *state;

	check_full_uri(e, "http://10.0.0.1/creds", 0);
	check_full_uri(e, "http://169.254.170.3/creds", 0);
	check_full_uri(e, "http://169.254.170.2@evil.example/creds", 0);
	check_full_uri(e, "http://evil.example/169.254.170.2", 0);
	check_full_uri(e, "http://127.0.0.1.evil.example/", 0);
	check_full_uri(e, "ftp://127.0.0.1/", 0);
	check_full_uri(e, "http://[fd00:ec2::24]/", 0);
	check_full_uri(e, "http://169.254.170.2/v2/creds", 1);
	check_full_uri(e, "http://169.254.170.23/v1/credentials", 1);
	check_full_uri(e, "http://[fd00:ec2::23]/v1/credentials", 1);
	check_full_uri(e, "http://127.0.0.1:8080/creds", 1);
	check_full_uri(e, "http://127.9.9.9/creds", 1);
	check_full_uri(e, "http://[::1]:8080/creds", 1);
	check_full_uri(e, "http://LOCALHOST:1/creds", 1);
	check_full_uri(e, "https://creds.example.com/x", 1);

	/* The relative URI goes to the ECS agent's address. */
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x",
	    1);
	creds_provider_free(creds_container(&e->ctx));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_imds_v2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_imds_token_required,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_imds_v1_fallback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_imds_expiry_extension,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_imds_errors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_imds_size_limits, setup,
		    teardown),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test_setup_teardown(test_container, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_container_retries, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_container_size_limit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_hosts, setup,
		    teardown),
	};
	char	 cmd[128];
	int	 rc;

	log_init(LOG_TO_STDERR, "test_creds_http",
	    getenv("CREDS_DEBUG") != NULL ? LOG_DEBUG : LOG_WARNING);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_creds_http.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	pthread_mutex_init(&im.lock, NULL);
	pthread_mutex_init(&ct.lock, NULL);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
