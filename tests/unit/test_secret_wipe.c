/*
 * Secrets do not linger in freed memory.  Credentials are fetched through
 * the real code paths - IMDSv2, the container endpoint, STS AssumeRole
 * (XML) and AssumeRoleWithWebIdentity, each from a loopback server
 * (testsrv) through the real HTTP engine and libcurl - and every block the
 * test's thread frees meanwhile is searched for the secrets: secret keys,
 * session tokens, the IMDS and container tokens, the web identity token.
 * That covers the engine's body buffer and its growth, libcurl's own
 * buffers, expat's buffer and pools, the XML frames, jansson's lexer and
 * values, the request's body and signed headers, and the token files.
 *
 * The search sits in the allocator: in a plain build the test defines
 * malloc, calloc, realloc and free over glibc's __libc_* functions (realloc
 * always moves, so no growth can hide); under AddressSanitizer, which owns
 * the allocator, in its free hook (its realloc always moves too).
 * test_scanner proves the search works: a freed secret is found.  Under
 * valgrind, which replaces the allocator of the executable too, there is
 * nothing to search with: the tests are skipped (scripts/valgrind).
 *
 * The server thread is not searched: it plays the peer, which knows the
 * secrets anyway.
 */
#include <errno.h>
#include <execinfo.h>
#include <malloc.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "aws.h"
#include "client.h"
#include "creds.h"
#include "creds_int.h"
#include "http.h"
#include "log.h"
#include "testsrv.h"
#include "util.h"
#include "xmalloc.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WIPE_ASAN	1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define WIPE_ASAN	1
#endif

/* ---- the search ----------------------------------------------------------- */

#define MAX_NEEDLES	8

static const char	*needles[MAX_NEEDLES];
static size_t		 nneedles;
static volatile int	 armed;
static pthread_t	 armed_thread;
static volatile int	 found;
static char		 found_what[128];
static size_t		 found_size;

static __thread int	 in_scan;

static void
scan_block(const void *p, size_t n)
{
	void	*bt[32];
	size_t	 i;
	int	 nbt;

	if (!armed || p == NULL || in_scan || !pthread_equal(pthread_self(),
	    armed_thread))
		return;
	in_scan = 1;
	for (i = 0; i < nneedles; i++) {
		if (memmem(p, n, needles[i], strlen(needles[i])) == NULL)
			continue;
		if (found++ == 0) {
			snprintf(found_what, sizeof(found_what), "%s",
			    needles[i]);
			found_size = n;
		}
		/* WIPE_DEBUG=1: where (addr2line -f -e test_secret_wipe) */
		if (getenv("WIPE_DEBUG") != NULL) {
			fprintf(stderr, "--- %.20s in %zu bytes\n", needles[i],
			    n);
			nbt = backtrace(bt, 32);
			backtrace_symbols_fd(bt, nbt, 2);
		}
		break;
	}
	in_scan = 0;
}

#ifdef WIPE_ASAN
/* sanitizer/allocator_interface.h (clang's; gcc does not ship it) */
int	 __sanitizer_install_malloc_and_free_hooks(
	    void (*)(const volatile void *, size_t),
	    void (*)(const volatile void *));
size_t	 __sanitizer_get_allocated_size(const volatile void *);

static void
asan_malloc_hook(const volatile void *p, size_t n)
{
}

static void
asan_free_hook(const volatile void *p)
{
	if (armed && p != NULL)
		scan_block((const void *)p,
		    __sanitizer_get_allocated_size((const void *)p));
}

static void
scanner_install(void)
{
	if (!__sanitizer_install_malloc_and_free_hooks(asan_malloc_hook,
	    asan_free_hook))
		fprintf(stderr, "cannot install the free hook\n");
}
#else
extern void	*__libc_malloc(size_t);
extern void	*__libc_calloc(size_t, size_t);
extern void	*__libc_realloc(void *, size_t);
extern void	 __libc_free(void *);

void	*malloc(size_t);
void	*calloc(size_t, size_t);
void	*realloc(void *, size_t);
void	 free(void *);

void *
malloc(size_t n)
{
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	return __libc_calloc(a, b);
}

void
free(void *p)
{
	if (p != NULL && armed)
		scan_block(p, malloc_usable_size(p));
	__libc_free(p);
}

/* Always move, as a realloc that cannot grow in place would. */
void *
realloc(void *p, size_t n)
{
	size_t	 old;
	void	*q;

	if (p == NULL)
		return __libc_malloc(n);
	if (n == 0) {
		free(p);
		return NULL;
	}
	if ((q = __libc_malloc(n)) == NULL)
		return NULL;
	old = malloc_usable_size(p);
	memcpy(q, p, old < n ? old : n);
	free(p);
	return q;
}

static void
scanner_install(void)
{
}
#endif

/* valgrind preloads its own allocator (vgpreload_memcheck-*.so). */
static int
under_valgrind(void)
{
	const char	*p = getenv("LD_PRELOAD");

	return p != NULL && strstr(p, "vgpreload") != NULL;
}

static void
arm(const char *const *secrets)
{
	if (under_valgrind())
		skip();
	nneedles = 0;
	for (; *secrets != NULL && nneedles < MAX_NEEDLES; secrets++)
		needles[nneedles++] = *secrets;
	found = 0;
	found_what[0] = '\0';
	armed_thread = pthread_self();
	armed = 1;
}

static void
disarm_and_check(void)
{
	armed = 0;
	if (found != 0)
		fail_msg("%d freed block(s) held a secret, first \"%.40s...\" "
		    "in a block of %zu bytes", found, found_what, found_size);
}

/* ---- the secrets ---------------------------------------------------------- */

/* Distinctive, and long like real ones (a session token is ~1 KiB). */
#define SECRET_SOURCE	"srcSECRETk3y/0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5"
#define TOKEN_SOURCE	"srcTOKEN-IQoJb3JpZ2luX2VjEJr//////////wEaCXVz"
#define SECRET_GOT	"gotSECRETk3y/9f8e7d6c5b4a3928170f6e5d4c3b2a1"
#define TOKEN_GOT	"gotTOKEN-FwoGZXIvYXdzEJr//////////wEaDH0123456"
#define TOKEN_IMDS	"imdsTOKEN-AQAEAB2mHkKxc3oU1pd0ZXyMAkzG5qGm8w=="
#define TOKEN_AUTH	"ctAUTH-eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMzQ1Njc"
#define TOKEN_WEBID	"webidJWT-eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0"

static char	*long_token_got;	/* TOKEN_GOT padded to 1200 bytes */
/*
 * 40 KiB of padding after the secrets: the body arrives in several reads
 * (libcurl reads 16 KiB at a time), so the engine's buffer grows while it
 * holds them.
 */
static char	*padding;

static void
make_long_token(void)
{
	size_t	 n = strlen(TOKEN_GOT), i;

	long_token_got = xmalloc(1201);
	memcpy(long_token_got, TOKEN_GOT, n);
	for (i = n; i < 1200; i++)
		long_token_got[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"[i % 32];
	long_token_got[1200] = '\0';
	padding = xmalloc(40 * 1024 + 1);
	memset(padding, 'p', 40 * 1024);
	padding[40 * 1024] = '\0';
}

/* ---- the peers (on the server thread) -------------------------------------- */

static time_t	 expiry;

static void
imds_token(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	testsrv_reply(resp, 200, "text/plain", TOKEN_IMDS,
	    strlen(TOKEN_IMDS));
}

static void
imds_roles(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	testsrv_reply_text(resp, 200, "wipe-role\n");
}

static char *
creds_json(void)
{
	char	 exp[21];

	time_iso8601(expiry, exp);
	return xprintf("{\n  \"Code\" : \"Success\",\n"
	    "  \"LastUpdated\" : \"2024-01-01T00:00:00Z\",\n"
	    "  \"Type\" : \"AWS-HMAC\",\n"
	    "  \"AccessKeyId\" : \"ASIAWIPETEST\",\n"
	    "  \"SecretAccessKey\" : \"%s\",\n"
	    "  \"Token\" : \"%s\",\n"
	    "  \"Expiration\" : \"%s\",\n"
	    "  \"Padding\" : \"%s\"\n}", SECRET_GOT, long_token_got, exp,
	    padding);
}

static void
imds_creds(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	char	*body;

	if (strcmp(testsrv_req_header(req, "X-aws-ec2-metadata-token") ?
	    testsrv_req_header(req, "X-aws-ec2-metadata-token") : "",
	    TOKEN_IMDS) != 0) {
		testsrv_reply_text(resp, 401, "no\n");
		return;
	}
	body = creds_json();
	testsrv_reply(resp, 200, "text/plain", body, strlen(body));
	free(body);
}

static void
container_creds(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	char	*body;

	if (strcmp(testsrv_req_header(req, "Authorization") ?
	    testsrv_req_header(req, "Authorization") : "", TOKEN_AUTH) != 0) {
		testsrv_reply_text(resp, 403, "{\"code\":\"denied\"}");
		return;
	}
	body = creds_json();
	testsrv_reply(resp, 200, "application/json", body, strlen(body));
	free(body);
}

static void
sts(const struct testsrv_req *req, struct testsrv_resp *resp, void *arg)
{
	const char	*action;
	char		 exp[21], *xml;

	action = strstr(req->body, "Action=AssumeRoleWithWebIdentity") ?
	    "AssumeRoleWithWebIdentity" : "AssumeRole";
	time_iso8601(expiry, exp);
	xml = xprintf("<%sResponse xmlns=\"https://sts.amazonaws.com/doc/"
	    "2011-06-15/\">\n  <%sResult>\n    <Credentials>\n"
	    "      <AccessKeyId>ASIAWIPESTS</AccessKeyId>\n"
	    "      <SecretAccessKey>%s</SecretAccessKey>\n"
	    "      <SessionToken>%s</SessionToken>\n"
	    "      <Expiration>%s</Expiration>\n    </Credentials>\n"
	    "    <AssumedRoleUser><AssumedRoleId>AROAX:s</AssumedRoleId>"
	    "<Arn>arn:aws:sts::111122223333:assumed-role/r/s</Arn>"
	    "</AssumedRoleUser>\n    <Padding>%s</Padding>\n  </%sResult>\n"
	    "  <ResponseMetadata><RequestId>req-1</RequestId>"
	    "</ResponseMetadata>\n</%sResponse>\n", action, action, SECRET_GOT,
	    long_token_got, exp, padding, action, action);
	testsrv_reply(resp, 200, "text/xml", xml, strlen(xml));
	free(xml);
}

/* ---- the daemon's side ----------------------------------------------------- */

struct env {
	struct event_base	*base;
	struct http_engine	*http;
	struct aws_client	*client;
	struct testsrv		*srv;
	struct creds_ctx	 ctx;
};

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
	"AWS_METADATA_SERVICE_NUM_ATTEMPTS", "AWS_MAX_ATTEMPTS",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_REGION",
	"AWS_DEFAULT_REGION", NULL,
};

static void
env_new(struct env *e)
{
	struct aws_client_opts	 opts;
	size_t			 i;

	for (i = 0; aws_env[i] != NULL; i++)
		unsetenv(aws_env[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	expiry = time(NULL) + 3600;

	memset(e, 0, sizeof(*e));
	e->srv = testsrv_start();
	testsrv_route(e->srv, "PUT", "/latest/api/token", imds_token, NULL);
	testsrv_route(e->srv, "GET", "/latest/meta-data/iam/"
	    "security-credentials/", imds_roles, NULL);
	testsrv_route(e->srv, "GET", "/latest/meta-data/iam/"
	    "security-credentials/wipe-role", imds_creds, NULL);
	testsrv_route(e->srv, "GET", "/v2/credentials/*", container_creds,
	    NULL);
	testsrv_route(e->srv, "POST", "/", sts, NULL);
	setenv("AWS_ENDPOINT_URL_STS", testsrv_url(e->srv, NULL), 1);

	assert_non_null(e->base = event_base_new());
	assert_non_null(e->http = http_engine_new(e->base, NULL));
	memset(&opts, 0, sizeof(opts));
	opts.max_attempts = 1;
	assert_non_null(e->client = aws_client_new(e->base, e->http, &opts));
	e->ctx.base = e->base;
	e->ctx.http = e->http;
	e->ctx.sts = aws_client_sts(e->client);
	e->ctx.session_name = "cloudsagad-wipe";
}

/*
 * Free the daemon's side, then stop searching and stop the server (whose
 * buffers the main thread frees in testsrv_free(): the peer's, not ours).
 */
static void
env_free_and_check(struct env *e)
{
	aws_client_free(e->client);
	http_engine_free(e->http);
	event_base_free(e->base);
	armed = 0;
	testsrv_free(e->srv);
	disarm_and_check();
}

struct result {
	int	 called;
	int	 ok;
	char	*error;
};

static void
result_cb(struct aws_creds *c, const char *error, void *arg)
{
	struct result	*r = arg;

	r->called = 1;
	r->ok = c != NULL && strcmp(c->secret_access_key, SECRET_GOT) == 0 &&
	    strcmp(c->session_token, long_token_got) == 0;
	r->error = error != NULL ? xstrdup(error) : NULL;
}

static void
timeout_cb(evutil_socket_t fd, short ev, void *arg)
{
	*(int *)arg = 1;
}

/* Fetch credentials from p and check they are the peer's. */
static void
fetch(struct env *e, struct creds_provider *p)
{
	struct result	 r = { 0 };
	struct timeval	 tv = { 20, 0 };
	struct event	*to;
	int		 expired = 0;

	creds_provider_attach(p, e->base);
	to = evtimer_new(e->base, timeout_cb, &expired);
	evtimer_add(to, &tv);
	creds_get(p, result_cb, &r);
	while (!r.called && !expired)
		event_base_loop(e->base, EVLOOP_ONCE);
	event_free(to);
	if (!r.called)
		fail_msg("timed out");
	if (!r.ok)
		fail_msg("no credentials: %s", r.error ? r.error : "wrong ones");
	free(r.error);
}

/* ---- tests ------------------------------------------------------------------ */

/* The search finds a secret in a freed block: the tests below can fail. */
static void
test_scanner(void **state)
{
	const char *const	 secrets[] = { SECRET_GOT, NULL };
	char			*p, *q;

	(void)state;
	arm(secrets);
	p = xprintf("key=%s;", SECRET_GOT);
	free(p);
	armed = 0;
	assert_true(found >= 1);
	/* in a block moved by growth too */
	arm(secrets);
	p = xstrdup(SECRET_GOT);
	q = xreallocarray(p, 1, 4096);
	freezero(q, 4096);
	armed = 0;
	assert_int_equal(found, 1);
	/* and wiped blocks are clean */
	arm(secrets);
	freezero_str(xstrdup(SECRET_GOT));
	disarm_and_check();
}

static void
test_imds(void **state)
{
	const char *const	 secrets[] = { SECRET_GOT, TOKEN_GOT,
				    TOKEN_IMDS, NULL };
	struct env		 e;
	struct creds_provider	*p;

	(void)state;
	arm(secrets);
	env_new(&e);
	unsetenv("AWS_EC2_METADATA_DISABLED");
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", testsrv_url(e.srv, NULL),
	    1);
	assert_non_null(p = creds_imds(&e.ctx));
	fetch(&e, p);
	creds_provider_free(p);
	env_free_and_check(&e);
}

static void
test_container(void **state)
{
	const char *const	 secrets[] = { SECRET_GOT, TOKEN_GOT,
				    TOKEN_AUTH, NULL };
	struct env		 e;
	struct creds_provider	*p;

	(void)state;
	arm(secrets);
	env_new(&e);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    testsrv_url(e.srv, "/v2/credentials/wipe"), 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", TOKEN_AUTH, 1);
	assert_non_null(p = creds_container(&e.ctx));
	fetch(&e, p);
	creds_provider_free(p);
	env_free_and_check(&e);
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
}

/* AssumeRole, signed with a source that has a session token. */
static void
test_assume_role(void **state)
{
	const char *const	 secrets[] = { SECRET_GOT, TOKEN_GOT,
				    SECRET_SOURCE, TOKEN_SOURCE, NULL };
	struct env		 e;
	struct creds_provider	*p;

	(void)state;
	arm(secrets);
	env_new(&e);
	p = creds_assume_role(&e.ctx, creds_static("ASIASOURCEKEY",
	    SECRET_SOURCE, TOKEN_SOURCE), "arn:aws:iam::123456789012:role/"
	    "wipe", NULL, "cloudsagad-wipe", 0, NULL);
	fetch(&e, p);
	creds_provider_free(p);
	env_free_and_check(&e);
}

static void
test_web_identity(void **state)
{
	const char *const	 secrets[] = { SECRET_GOT, TOKEN_GOT,
				    TOKEN_WEBID, NULL };
	struct env		 e;
	struct creds_provider	*p;
	char			 path[] = "/tmp/test_secret_wipe.XXXXXX";
	FILE			*f;
	int			 fd;

	(void)state;
	assert_true((fd = mkstemp(path)) != -1);
	assert_non_null(f = fdopen(fd, "w"));
	fprintf(f, "%s%s\n", TOKEN_WEBID, "-0123456789abcdef0123456789");
	fclose(f);
	arm(secrets);
	env_new(&e);
	p = creds_web_identity_new(&e.ctx, path, "arn:aws:iam::123456789012:"
	    "role/wipe", "cloudsagad-wipe", 0, "us-east-1",
	    "web-identity:test");
	fetch(&e, p);
	creds_provider_free(p);
	env_free_and_check(&e);
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scanner),
		cmocka_unit_test(test_imds),
		cmocka_unit_test(test_container),
		cmocka_unit_test(test_assume_role),
		cmocka_unit_test(test_web_identity),
	};
	int	 rc;

	log_init(LOG_TO_STDERR, "test_secret_wipe", LOG_WARNING);
	scanner_install();
	make_long_token();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(long_token_got);
	free(padding);
	return rc;
}
