/*
 * creds through STS: AssumeRole (on a static source, through profile
 * source_profile chains and credential_source) and
 * AssumeRoleWithWebIdentity against a real moto_server started on a free
 * 127.0.0.1 port, checked with sts:GetCallerIdentity using the credentials
 * obtained; and, against a loopback fake STS (testsrv), that web identity
 * goes unsigned while AssumeRole is signed with the source's key, and that
 * STS errors come back readable.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
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

#define FAKE_KEY	"AKIDEXAMPLETESTKEY00"
#define FAKE_SECRET	"fake/secret/for/tests/only"
#define ROLE		"arn:aws:iam::123456789012:role/"

static const char *aws_env[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "CREDENTIALS_DIRECTORY",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_REGION",
	"AWS_DEFAULT_REGION", NULL,
};

static pid_t	 moto_pid = -1;
static char	 moto_url[64];
static char	 tmpdir[64];
static time_t	 fake_now;

static time_t
fake_clock(void)
{
	return fake_now;
}

/* ---- moto ---------------------------------------------------------------- */

static int
free_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 s, port;

	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(s, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	port = ntohs(sin.sin_port);
	close(s);
	return port;
}

static int
port_open(int port)
{
	struct sockaddr_in	 sin;
	int			 s, ok;

	s = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(s, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(s);
	return ok;
}

static int
moto_start(void **state)
{
	const char	*py;
	char		*dir, *moto = NULL, portstr[16];
	int		 port, i, fd;

	if ((port = free_port()) == -1)
		return -1;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if ((py = getenv("CLOUDSAGA_PYTHON")) != NULL) {
		dir = xstrdup(py);
		moto = xprintf("%s/moto_server", dirname(dir));
		free(dir);
	}
	if ((moto_pid = fork()) == -1)
		return -1;
	if (moto_pid == 0) {
		fd = open("/dev/null", O_RDWR);
		dup2(fd, 1);
		dup2(fd, 2);
		/* A plain moto: it does not check signatures. */
		unsetenv("INITIAL_NO_AUTH_ACTION_COUNT");
		if (moto != NULL && access(moto, X_OK) == 0)
			execl(moto, moto, "-H", "127.0.0.1", "-p", portstr,
			    (char *)NULL);
		if (py != NULL)
			execl(py, py, "-m", "moto.server", "-H", "127.0.0.1",
			    "-p", portstr, (char *)NULL);
		execlp("moto_server", "moto_server", "-H", "127.0.0.1", "-p",
		    portstr, (char *)NULL);
		_exit(127);
	}
	free(moto);
	for (i = 0; i < 600; i++) {	/* 30 s */
		if (port_open(port))
			break;
		if (waitpid(moto_pid, NULL, WNOHANG) == moto_pid) {
			fprintf(stderr, "moto_server did not start\n");
			moto_pid = -1;
			return -1;
		}
		usleep(50000);
	}
	if (i == 600)
		return -1;
	snprintf(moto_url, sizeof(moto_url), "http://127.0.0.1:%d", port);
	return 0;
}

static int
moto_stop(void **state)
{
	if (moto_pid > 0) {
		kill(moto_pid, SIGTERM);
		waitpid(moto_pid, NULL, 0);
	}
	return 0;
}

/* ---- per test ------------------------------------------------------------ */

struct env {
	struct event_base	*base;
	struct http_engine	*http;
	struct aws_client	*client;
	struct testsrv		*srv;
	struct creds_ctx	 ctx;
};

static int
setup(void **state)
{
	struct env		*e;
	struct aws_client_opts	 opts;
	size_t			 i;

	for (i = 0; aws_env[i] != NULL; i++)
		unsetenv(aws_env[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	/* Everything to loopback, STS to moto. */
	setenv("AWS_ENDPOINT_URL", moto_url, 1);
	setenv("AWS_ENDPOINT_URL_STS", moto_url, 1);
	fake_now = time(NULL);
	creds_set_clock(fake_clock);

	e = xcalloc(1, sizeof(*e));
	assert_non_null(e->base = event_base_new());
	assert_non_null(e->http = http_engine_new(e->base, NULL));
	memset(&opts, 0, sizeof(opts));
	opts.max_attempts = 1;
	assert_non_null(e->client = aws_client_new(e->base, e->http, &opts));
	e->ctx.base = e->base;
	e->ctx.http = e->http;
	e->ctx.sts = aws_client_sts(e->client);
	e->ctx.session_name = "cloudsagad-run0042";
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*e = *state;

	aws_client_free(e->client);
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
	fail_msg("timed out");
}

static void
loop_until(struct env *e, int *flag)
{
	struct timeval	 tv = { 30, 0 };
	struct event	*to;

	to = evtimer_new(e->base, timeout_cb, NULL);
	evtimer_add(to, &tv);
	while (*flag == 0)
		event_base_loop(e->base, EVLOOP_ONCE);
	event_free(to);
}

static void
get_sync(struct env *e, struct creds_provider *p, struct result *r)
{
	result_clear(r);
	creds_provider_attach(p, e->base);
	creds_get(p, result_cb, r);
	loop_until(e, &r->called);
}

static void
assert_error_contains(struct result *r, const char *what)
{
	assert_null(r->creds);
	assert_non_null(r->error);
	if (strstr(r->error, what) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", r->error, what);
}

struct whoami {
	int	 done;
	char	*arn;
	char	*error;
};

static void
whoami_cb(const struct aws_request *req, struct aws_result *res, void *arg)
{
	struct whoami	*w = arg;
	const char	*arn;

	w->done = 1;
	if (res->outcome == AWS_OK && (arn = aws_json_str(res->data, "Arn")) !=
	    NULL)
		w->arn = xstrdup(arn);
	else
		w->error = xprintf("%s: %s", res->error_code ?
		    res->error_code : "?", res->error_message ?
		    res->error_message : "?");
}

/* Who does STS (moto) think these credentials are? */
static char *
whoami(struct env *e, struct creds_provider *p)
{
	struct whoami	 w = { 0 };

	aws_client_send(e->client, p, aws_request_new(aws_service_find("sts"),
	    "GetCallerIdentity", "us-east-1"), whoami_cb, &w);
	loop_until(e, &w.done);
	if (w.error != NULL)
		fail_msg("GetCallerIdentity: %s", w.error);
	return w.arn;
}

static char *
write_file(const char *name, const char *text)
{
	char	*path;
	FILE	*f;

	path = xprintf("%s/%s", tmpdir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	return path;
}

/* ---- AssumeRole through moto ------------------------------------------ */

static void
test_assume_role(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*src, *p;
	struct result		 r[5];
	char			*arn, *first;
	int			 i;

	memset(r, 0, sizeof(r));
	src = creds_static(FAKE_KEY, FAKE_SECRET, NULL);
	creds_provider_attach(src, e->base);
	p = creds_assume_role(&e->ctx, src, ROLE "cloudsaga-audit",
	    "ext-1234", "cloudsagad-run0042", 900, "us-east-1");
	assert_string_equal(creds_provider_name(p),
	    "assume-role:" ROLE "cloudsaga-audit<-static");

	/* Five at once: one AssumeRole. */
	for (i = 0; i < 5; i++)
		creds_get(p, result_cb, &r[i]);
	loop_until(e, &r[4].called);
	for (i = 0; i < 5; i++) {
		assert_int_equal(r[i].called, 1);
		assert_null(r[i].error);
		assert_ptr_equal(r[i].creds, r[0].creds);
	}
	assert_int_equal(creds_provider_fetches(p), 1);
	assert_true(strncmp(r[0].creds->access_key_id, "ASIA", 4) == 0);
	assert_true(strlen(r[0].creds->secret_access_key) > 20);
	assert_non_null(r[0].creds->session_token);
	assert_string_equal(r[0].creds->account_id, "123456789012");
	assert_string_equal(r[0].creds->source, "assume-role");
	/* moto honours DurationSeconds. */
	assert_true(r[0].creds->expiration > fake_now + 800);
	assert_true(r[0].creds->expiration <= fake_now + 960);

	/* STS knows these credentials as the role, with our session name. */
	arn = whoami(e, p);
	assert_string_equal(arn, "arn:aws:sts::123456789012:assumed-role/"
	    "cloudsaga-audit/cloudsagad-run0042");
	free(arn);
	assert_int_equal(creds_provider_fetches(p), 1);

	/* Near expiry: a new AssumeRole, new keys. */
	first = xstrdup(r[0].creds->access_key_id);
	fake_now = r[0].creds->expiration - 200;
	for (i = 0; i < 5; i++)
		result_clear(&r[i]);
	get_sync(e, p, &r[0]);
	assert_null(r[0].error);
	assert_int_equal(creds_provider_fetches(p), 2);
	assert_string_not_equal(r[0].creds->access_key_id, first);
	free(first);
	result_clear(&r[0]);

	/* Freed with the STS call in flight: the waiter hears at once, the
	 * call is cancelled. */
	creds_invalidate(p);
	creds_get(p, result_cb, &r[0]);
	creds_provider_free(p);
	assert_int_equal(r[0].called, 1);
	assert_error_contains(&r[0], "was freed");
	result_clear(&r[0]);
	event_base_loop(e->base, EVLOOP_NONBLOCK);
}

static void
test_assume_role_profiles(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };
	char			*cred, *cfg, *arn;

	cred = write_file("credentials", "[base]\naws_access_key_id = "
	    FAKE_KEY "\naws_secret_access_key = " FAKE_SECRET "\n");
	cfg = write_file("config",
	    "[profile r1]\nrole_arn = " ROLE "first\nsource_profile = base\n"
	    "role_session_name = hop-one\n"
	    "[profile r2]\nrole_arn = " ROLE "second\nsource_profile = r1\n"
	    "external_id = ext-two\nduration_seconds = 1200\n"
	    "region = eu-west-1\n"
	    "[profile fromenv]\nrole_arn = " ROLE "third\n"
	    "credential_source = Environment\n");
	setenv("AWS_SHARED_CREDENTIALS_FILE", cred, 1);
	setenv("AWS_CONFIG_FILE", cfg, 1);

	/* base -> r1 -> r2: two AssumeRole calls, the second signed with
	 * the first's credentials. */
	p = creds_from_profile(&e->ctx, "r2");
	assert_string_equal(creds_provider_name(p), "assume-role:" ROLE
	    "second<-assume-role:" ROLE "first<-profile:base");
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_true(r.creds->expiration <= fake_now + 1260);
	arn = whoami(e, p);
	assert_string_equal(arn, "arn:aws:sts::123456789012:assumed-role/"
	    "second/cloudsagad-run0042");
	free(arn);
	creds_provider_free(p);

	p = creds_from_profile(&e->ctx, "r1");
	arn = whoami(e, p);
	assert_string_equal(arn, "arn:aws:sts::123456789012:assumed-role/"
	    "first/hop-one");
	free(arn);
	creds_provider_free(p);

	/* The chain picks the profile when the environment is empty. */
	setenv("AWS_PROFILE", "r1", 1);
	p = creds_default_chain(&e->ctx, NULL);
	arn = whoami(e, p);
	assert_string_equal(arn, "arn:aws:sts::123456789012:assumed-role/"
	    "first/hop-one");
	free(arn);
	creds_provider_free(p);
	unsetenv("AWS_PROFILE");

	setenv("AWS_ACCESS_KEY_ID", FAKE_KEY, 1);
	setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET, 1);
	p = creds_from_profile(&e->ctx, "fromenv");
	arn = whoami(e, p);
	assert_string_equal(arn, "arn:aws:sts::123456789012:assumed-role/"
	    "third/cloudsagad-run0042");
	free(arn);
	creds_provider_free(p);

	/* A failing source: its error comes through AssumeRole. */
	unsetenv("AWS_SECRET_ACCESS_KEY");
	p = creds_from_profile(&e->ctx, "fromenv");
	get_sync(e, p, &r);
	assert_error_contains(&r, "AWS_SECRET_ACCESS_KEY is not");
	assert_non_null(strstr(r.error, "sts:AssumeRole " ROLE "third"));
	result_clear(&r);
	creds_provider_free(p);

	unlink(cred);
	unlink(cfg);
	free(cred);
	free(cfg);
}

static void
test_web_identity(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };
	char			*tok, *arn;

	tok = write_file("wi-token", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0."
	    "c2lnbmF0dXJl\n");
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tok, 1);
	setenv("AWS_ROLE_ARN", ROLE "web-role", 1);
	setenv("AWS_ROLE_SESSION_NAME", "wi-session", 1);
	/* The chain takes web identity before the shared files. */
	p = creds_default_chain(&e->ctx, NULL);
	assert_string_equal(creds_provider_name(p),
	    "web-identity:" ROLE "web-role");
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_true(strncmp(r.creds->access_key_id, "ASIA", 4) == 0);
	assert_non_null(r.creds->session_token);
	assert_string_equal(r.creds->source, "web-identity");
	assert_string_equal(r.creds->account_id, "123456789012");
	arn = whoami(e, p);
	assert_string_equal(arn, "arn:aws:sts::123456789012:assumed-role/"
	    "web-role/wi-session");
	free(arn);
	creds_provider_free(p);

	/* A token file that went away. */
	unlink(tok);
	p = creds_web_identity(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "web identity token file");
	result_clear(&r);
	creds_provider_free(p);
	free(tok);

	/* Without an AWS client there is no STS. */
	e->ctx.sts = NULL;
	p = creds_web_identity(&e->ctx);
	get_sync(e, p, &r);
	assert_error_contains(&r, "no AWS client");
	result_clear(&r);
	creds_provider_free(p);
}

/* ---- a fake STS on loopback: what goes on the wire -------------------- */

struct fake_sts {
	pthread_mutex_t	 lock;
	int		 requests;
	int		 deny;
	char		 auth[512];
	char		*body;
};

static struct fake_sts	 fs = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void
fake_sts_handler(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	const char	*a, *action;
	char		 exp[21], *xml;

	pthread_mutex_lock(&fs.lock);
	fs.requests++;
	a = testsrv_req_header(req, "Authorization");
	snprintf(fs.auth, sizeof(fs.auth), "%s", a != NULL ? a : "");
	free(fs.body);
	fs.body = xstrdup(req->body);
	action = strstr(req->body, "Action=AssumeRoleWithWebIdentity") ?
	    "AssumeRoleWithWebIdentity" : "AssumeRole";
	if (fs.deny) {
		xml = xprintf("<ErrorResponse xmlns=\"https://sts.amazonaws."
		    "com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>"
		    "AccessDenied</Code><Message>Not authorized to perform "
		    "sts:%s</Message></Error><RequestId>req-1</RequestId>"
		    "</ErrorResponse>", action);
		testsrv_reply(resp, 403, "text/xml", xml, strlen(xml));
	} else {
		time_iso8601(fake_now + 3600, exp);
		xml = xprintf("<%sResponse xmlns=\"https://sts.amazonaws.com/"
		    "doc/2011-06-15/\"><%sResult><Credentials><AccessKeyId>"
		    "ASIAFAKESTS</AccessKeyId><SecretAccessKey>fake/sts/secret"
		    "</SecretAccessKey><SessionToken>fake-sts-token"
		    "</SessionToken><Expiration>%s</Expiration></Credentials>"
		    "<AssumedRoleUser><AssumedRoleId>AROAX:s</AssumedRoleId>"
		    "<Arn>arn:aws:sts::111122223333:assumed-role/r/s</Arn>"
		    "</AssumedRoleUser></%sResult><ResponseMetadata><RequestId>"
		    "req-2</RequestId></ResponseMetadata></%sResponse>",
		    action, action, exp, action, action);
		testsrv_reply(resp, 200, "text/xml", xml, strlen(xml));
	}
	free(xml);
	pthread_mutex_unlock(&fs.lock);
}

static void
test_wire(void **state)
{
	struct env		*e = *state;
	struct creds_provider	*p;
	struct result		 r = { 0 };
	char			*tok;

	e->srv = testsrv_start();
	testsrv_route(e->srv, "POST", "/", fake_sts_handler, NULL);
	setenv("AWS_ENDPOINT_URL_STS", testsrv_url(e->srv, NULL), 1);

	/* Web identity: no Authorization header, the token in the body. */
	tok = write_file("wi-token2", "header.payload.signature-0123");
	p = creds_web_identity_new(&e->ctx, tok, ROLE "wire", "wire-sess",
	    3600, "eu-central-1", "web-identity:test");
	get_sync(e, p, &r);
	assert_null(r.error);
	assert_string_equal(r.creds->access_key_id, "ASIAFAKESTS");
	assert_string_equal(r.creds->session_token, "fake-sts-token");
	assert_string_equal(r.creds->account_id, "111122223333");
	assert_int_equal(r.creds->expiration, fake_now + 3600);
	assert_string_equal(fs.auth, "");
	assert_non_null(strstr(fs.body, "Action=AssumeRoleWithWebIdentity"));
	assert_non_null(strstr(fs.body,
	    "WebIdentityToken=header.payload.signature-0123"));
	assert_non_null(strstr(fs.body, "RoleSessionName=wire-sess"));
	assert_non_null(strstr(fs.body, "DurationSeconds=3600"));
	assert_non_null(strstr(fs.body,
	    "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fwire"));
	creds_provider_free(p);

	/* AssumeRole: signed with the source's key. */
	p = creds_assume_role(&e->ctx, creds_static(FAKE_KEY, FAKE_SECRET,
	    NULL), ROLE "wire", "ext-9", "cloudsagad-run0042", 0, NULL);
	get_sync(e, p, &r);
	assert_null(r.error);
	if (strncmp(fs.auth, "AWS4-HMAC-SHA256 Credential=" FAKE_KEY "/", 49)
	    != 0)
		fail_msg("Authorization: %s", fs.auth);
	assert_non_null(strstr(fs.auth, "/us-east-1/sts/aws4_request"));
	assert_non_null(strstr(fs.body, "Action=AssumeRole&"));
	assert_non_null(strstr(fs.body, "ExternalId=ext-9"));
	assert_null(strstr(fs.body, "DurationSeconds"));

	/* Errors come back with STS's code and message. */
	fs.deny = 1;
	creds_invalidate(p);
	get_sync(e, p, &r);
	assert_error_contains(&r, "sts:AssumeRole " ROLE "wire: AccessDenied: "
	    "Not authorized to perform sts:AssumeRole");
	creds_provider_free(p);
	p = creds_web_identity_new(&e->ctx, tok, ROLE "wire", "wire-sess", 0,
	    NULL, "web-identity:test");
	get_sync(e, p, &r);
	assert_error_contains(&r, "AccessDenied");
	creds_provider_free(p);
	fs.deny = 0;

	/* A token too short for STS is refused before sending. */
	free(write_file("wi-token2", "abc\n"));
	p = creds_web_identity_new(&e->ctx, tok, ROLE "wire", "wire-sess", 0,
	    NULL, "web-identity:test");
	fs.requests = 0;
	get_sync(e, p, &r);
	assert_error_contains(&r, "must be 4..20000 characters");
	assert_int_equal(fs.requests, 0);
	result_clear(&r);
	creds_provider_free(p);

	free(fs.body);
	fs.body = NULL;
	unlink(tok);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_assume_role, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_assume_role_profiles,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_web_identity, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wire, setup, teardown),
	};
	char	 cmd[128];
	int	 rc;

	log_init(LOG_TO_STDERR, "test_creds_sts",
	    getenv("CREDS_DEBUG") != NULL ? LOG_DEBUG : LOG_WARNING);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_creds_sts.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, moto_start, moto_stop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
