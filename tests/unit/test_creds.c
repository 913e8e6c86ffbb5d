/*
 * creds: the provider core (cache, refresh before expiry, coalescing,
 * delivery from the loop, cancel, free during a callback, wiping), the
 * environment, $CREDENTIALS_DIRECTORY, the INI parser, profiles
 * (source_profile chains and cycles, credential_source) and the default
 * chain's order and "configured but failing" rule.
 */
#include <sys/stat.h>

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "creds.h"
#include "creds_int.h"
#include "log.h"
#include "xmalloc.h"

/* ---- helpers ----------------------------------------------------------- */

static time_t	 fake_now;

static time_t
fake_clock(void)
{
	return fake_now;
}

static const char *aws_env[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_ACCOUNT_ID",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_CONFIG_FILE", "CREDENTIALS_DIRECTORY",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_REGION",
	"AWS_DEFAULT_REGION", NULL,
};

static char	 tmpdir[64];

static void
clear_env(void)
{
	size_t	 i;

	for (i = 0; aws_env[i] != NULL; i++)
		unsetenv(aws_env[i]);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	/* Never the real home's files. */
	setenv("HOME", tmpdir, 1);
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

static int
setup(void **state)
{
	struct event_base	*base;

	clear_env();
	fake_now = 1700000000;
	creds_set_clock(fake_clock);
	assert_non_null(base = event_base_new());
	*state = base;
	return 0;
}

static int
teardown(void **state)
{
	event_base_free(*state);
	creds_set_clock(NULL);
	creds_wipe_hook = NULL;
	return 0;
}

struct result {
	int			 called;
	int			 in_get;	/* set around creds_get() */
	struct aws_creds	*creds;
	char			*error;
	struct creds_provider	*free_me;
};

static void
result_cb(struct aws_creds *c, const char *error, void *arg)
{
	struct result	*r = arg;

	assert_false(r->in_get);	/* never from inside creds_get() */
	r->called++;
	creds_unref(r->creds);
	free(r->error);
	r->creds = creds_ref(c);
	r->error = error != NULL ? xstrdup(error) : NULL;
	assert_true((c == NULL) != (error == NULL));
	if (r->free_me != NULL) {
		creds_provider_free(r->free_me);
		r->free_me = NULL;
	}
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

/* Get and run the loop until the callback has run. */
static void
get_sync(struct event_base *base, struct creds_provider *p, struct result *r)
{
	struct timeval	 tv = { 10, 0 };
	struct event	*to;

	result_clear(r);
	creds_provider_attach(p, base);
	to = evtimer_new(base, timeout_cb, NULL);
	evtimer_add(to, &tv);
	r->in_get = 1;
	creds_get(p, result_cb, r);
	r->in_get = 0;
	while (r->called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(to);
}

/* A provider under test control: counts fetches, answers at once or on
 * the next loop turn, with credentials expiring at tp->exp. */
struct tp {
	int			 fetches;
	int			 async;
	int			 fail;
	time_t			 exp;
	struct event		*ev;
	struct creds_provider	*p;
};

static void
tp_finish(struct tp *tp)
{
	char	 akid[32];

	if (tp->fail) {
		creds_fetch_done(tp->p, NULL, "test provider failed");
		return;
	}
	snprintf(akid, sizeof(akid), "AKIDTEST%d", tp->fetches);
	creds_fetch_done(tp->p, creds_new(akid, "s3cr3t-test", "tok3n",
	    tp->exp), NULL);
}

static void
tp_timer(evutil_socket_t fd, short ev, void *arg)
{
	tp_finish(arg);
}

static void
tp_fetch(struct creds_provider *p)
{
	struct tp	*tp = p->data;
	struct timeval	 tv = { 0, 10000 };

	tp->fetches++;
	if (!tp->async) {
		tp_finish(tp);
		return;
	}
	if (tp->ev == NULL)
		tp->ev = evtimer_new(p->base, tp_timer, tp);
	evtimer_add(tp->ev, &tv);
}

static void
tp_abort(struct creds_provider *p)
{
	struct tp	*tp = p->data;

	if (tp->ev != NULL)
		evtimer_del(tp->ev);
}

static void
tp_free(void *data)
{
	struct tp	*tp = data;

	if (tp->ev != NULL)
		event_free(tp->ev);
}

static const struct creds_ops tp_ops = {
	.kind = "test",
	.fetch = tp_fetch,
	.abort = tp_abort,
	.free = tp_free,
};

static struct creds_provider *
tp_new(struct tp *tp, struct event_base *base)
{
	memset(tp, 0, sizeof(*tp));
	tp->exp = fake_now + 3600;
	tp->p = creds_provider_new(&tp_ops, tp, "test", base);
	return tp->p;
}

static void
assert_error_contains(struct result *r, const char *what)
{
	assert_null(r->creds);
	assert_non_null(r->error);
	if (strstr(r->error, what) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", r->error, what);
}

/* ---- core -------------------------------------------------------------- */

static void
test_static(void **state)
{
	struct creds_provider	*p;
	struct result		 r = { 0 };

	p = creds_static("AKIDSTATIC", "secret", NULL);
	assert_string_equal(creds_provider_name(p), "static");
	get_sync(*state, p, &r);
	assert_null(r.error);
	assert_string_equal(r.creds->access_key_id, "AKIDSTATIC");
	assert_string_equal(r.creds->secret_access_key, "secret");
	assert_null(r.creds->session_token);
	assert_int_equal(r.creds->expiration, 0);
	assert_string_equal(r.creds->source, "static");
	get_sync(*state, p, &r);
	assert_int_equal(creds_provider_fetches(p), 1);
	result_clear(&r);
	creds_provider_free(p);

	p = creds_static("", "secret", NULL);
	get_sync(*state, p, &r);
	assert_error_contains(&r, "access key ID");
	result_clear(&r);
	creds_provider_free(p);
}

static void
test_refresh_before_expiry(void **state)
{
	struct tp		 tp;
	struct creds_provider	*p;
	struct result		 r = { 0 };

	/* Valid for an hour: cached, not fetched again. */
	p = tp_new(&tp, *state);
	get_sync(*state, p, &r);
	assert_string_equal(r.creds->access_key_id, "AKIDTEST1");
	fake_now += 600;
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 1);
	assert_string_equal(r.creds->access_key_id, "AKIDTEST1");

	/* 4 minutes left (inside the 5-minute margin): fetched anew. */
	fake_now = tp.exp - 240;
	tp.exp = fake_now + 3600;
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 2);
	assert_string_equal(r.creds->access_key_id, "AKIDTEST2");
	/* Exactly at the margin counts as inside it. */
	fake_now = tp.exp - CREDS_REFRESH_MARGIN - 1;
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 2);
	fake_now++;
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 3);
	result_clear(&r);
	creds_provider_free(p);

	/* Credentials handed out with only 4 minutes left are fetched again
	 * on the next get. */
	p = tp_new(&tp, *state);
	tp.exp = fake_now + 240;
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 1);
	assert_null(r.error);
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 2);
	result_clear(&r);
	creds_provider_free(p);
}

static void
test_refresh_failure(void **state)
{
	struct tp		 tp;
	struct creds_provider	*p;
	struct result		 r = { 0 };
	time_t			 exp;

	p = tp_new(&tp, *state);
	tp.async = 1;
	get_sync(*state, p, &r);
	exp = tp.exp;

	/* Refresh fails while the old credentials still work: use them. */
	fake_now = exp - 200;
	tp.fail = 1;
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 2);
	assert_null(r.error);
	assert_string_equal(r.creds->access_key_id, "AKIDTEST1");
	/* ... without hammering the source ... */
	fake_now += 5;
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 2);
	/* ... and trying again a little later. */
	fake_now += 60;
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 3);
	assert_null(r.error);

	/* Once expired, a failure is a failure. */
	fake_now = exp + 1;
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 4);
	assert_error_contains(&r, "test provider failed");

	/* A source handing out expired credentials is an error. */
	tp.fail = 0;
	tp.exp = fake_now - 10;
	get_sync(*state, p, &r);
	assert_error_contains(&r, "already expired");
	result_clear(&r);
	creds_provider_free(p);
}

static void
test_coalescing(void **state)
{
	struct event_base	*base = *state;
	struct tp		 tp;
	struct creds_provider	*p;
	struct result		 r[10];
	int			 i, done;

	p = tp_new(&tp, base);
	tp.async = 1;
	memset(r, 0, sizeof(r));
	for (i = 0; i < 10; i++) {
		r[i].in_get = 1;
		creds_get(p, result_cb, &r[i]);
		r[i].in_get = 0;
	}
	assert_int_equal(tp.fetches, 1);
	do {
		event_base_loop(base, EVLOOP_ONCE);
		for (done = 0, i = 0; i < 10; i++)
			done += r[i].called;
	} while (done < 10);
	for (i = 0; i < 10; i++) {
		assert_int_equal(r[i].called, 1);
		assert_non_null(r[i].creds);
		assert_ptr_equal(r[i].creds, r[0].creds);
	}
	for (i = 0; i < 10; i++)
		result_clear(&r[i]);
	assert_int_equal(tp.fetches, 1);
	assert_int_equal(creds_provider_fetches(p), 1);

	/* Failures are shared too, and not cached. */
	creds_invalidate(p);
	tp.fail = 1;
	for (i = 0; i < 3; i++)
		creds_get(p, result_cb, &r[i]);
	while (r[2].called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	for (i = 0; i < 3; i++) {
		assert_error_contains(&r[i], "test provider failed");
		result_clear(&r[i]);
	}
	assert_int_equal(tp.fetches, 2);
	get_sync(base, p, &r[0]);
	assert_int_equal(tp.fetches, 3);
	result_clear(&r[0]);
	creds_provider_free(p);
}

static void
test_cancel_and_free(void **state)
{
	struct event_base	*base = *state;
	struct tp		 tp;
	struct creds_provider	*p;
	struct creds_req	*req;
	struct result		 r[3];
	int			 i;

	/* Cancel one of three waiting for a fetch. */
	p = tp_new(&tp, base);
	tp.async = 1;
	memset(r, 0, sizeof(r));
	creds_get(p, result_cb, &r[0]);
	req = creds_get(p, result_cb, &r[1]);
	creds_get(p, result_cb, &r[2]);
	creds_cancel(req);
	while (r[2].called == 0)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(r[0].called, 1);
	assert_int_equal(r[1].called, 0);
	/* Cancel one that is already answered from the cache. */
	req = creds_get(p, result_cb, &r[1]);
	creds_cancel(req);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(r[1].called, 0);
	for (i = 0; i < 3; i++)
		result_clear(&r[i]);

	/* The first callback frees the provider: the others hear of it at
	 * once, from inside creds_provider_free(). */
	creds_get(p, result_cb, &r[0]);
	creds_get(p, result_cb, &r[1]);
	r[0].free_me = p;
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(r[0].called, 1);
	assert_null(r[0].error);
	assert_int_equal(r[1].called, 1);
	assert_error_contains(&r[1], "credentials provider test was freed");
	result_clear(&r[0]);
	result_clear(&r[1]);

	/* Freed with a fetch in flight: the fetch is aborted, the waiters
	 * get an error at once. */
	p = tp_new(&tp, base);
	tp.async = 1;
	creds_get(p, result_cb, &r[0]);
	creds_get(p, result_cb, &r[1]);
	creds_provider_free(p);
	assert_int_equal(r[0].called, 1);
	assert_int_equal(r[1].called, 1);
	assert_error_contains(&r[0], "was freed");
	result_clear(&r[0]);
	result_clear(&r[1]);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(r[0].called, 0);	/* the aborted fetch is silent */
	creds_provider_free(NULL);
}

static void
test_invalidate(void **state)
{
	struct tp		 tp;
	struct creds_provider	*p;
	struct result		 r = { 0 };

	p = tp_new(&tp, *state);
	get_sync(*state, p, &r);
	creds_invalidate(p);
	get_sync(*state, p, &r);
	assert_int_equal(tp.fetches, 2);
	assert_string_equal(r.creds->access_key_id, "AKIDTEST2");
	result_clear(&r);
	creds_provider_free(p);
}

static int	 wiped_count, wiped_dirty;

static void
wipe_hook(const void *p, size_t len)
{
	const unsigned char	*b = p;
	size_t			 i;

	wiped_count++;
	for (i = 0; i < len; i++)
		if (b[i] != 0)
			wiped_dirty++;
}

static void
test_wipe(void **state)
{
	struct aws_creds	*c;

	creds_wipe_hook = wipe_hook;
	wiped_count = wiped_dirty = 0;
	c = creds_new("AKID", "a-secret-key", "a-session-token", 0);
	assert_ptr_equal(creds_ref(c), c);
	creds_unref(c);
	assert_int_equal(wiped_count, 0);	/* still referenced */
	creds_unref(c);
	assert_int_equal(wiped_count, 2);	/* secret and token */
	assert_int_equal(wiped_dirty, 0);

	wiped_count = 0;
	c = creds_new("AKID", "a-secret-key", NULL, 0);
	creds_unref(c);
	assert_int_equal(wiped_count, 1);
	creds_unref(NULL);
	assert_null(creds_ref(NULL));
}

static void
test_json_wipe(void **state)
{
	json_t	*j;
	const char *s;

	j = json_pack("{s:s, s:[s, {s:s}]}", "SecretAccessKey", "abcdef",
	    "x", "ghi", "Token", "jklmno");
	creds_json_wipe(j);
	s = json_string_value(json_object_get(j, "SecretAccessKey"));
	assert_memory_equal(s, "\0\0\0\0\0\0", 6);
	s = json_string_value(json_object_get(json_array_get(
	    json_object_get(j, "x"), 1), "Token"));
	assert_memory_equal(s, "\0\0\0\0\0\0", 6);
	json_decref(j);
}

/* ---- environment ------------------------------------------------------- */

static void
test_env(void **state)
{
	struct creds_provider	*p;
	struct result		 r = { 0 };

	assert_null(creds_from_env());

	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SECURITY_TOKEN", "legacytoken", 1);
	setenv("AWS_ACCOUNT_ID", "123456789012", 1);
	assert_non_null(p = creds_from_env());
	assert_string_equal(creds_provider_name(p), "environment");
	get_sync(*state, p, &r);
	assert_string_equal(r.creds->access_key_id, "AKIDENV");
	assert_string_equal(r.creds->secret_access_key, "envsecret");
	assert_string_equal(r.creds->session_token, "legacytoken");
	assert_string_equal(r.creds->account_id, "123456789012");
	assert_string_equal(r.creds->source, "environment");
	assert_int_equal(r.creds->expiration, 0);
	creds_provider_free(p);

	/* AWS_SESSION_TOKEN wins; expiry honoured and re-read. */
	setenv("AWS_SESSION_TOKEN", "newtoken", 1);
	setenv("AWS_CREDENTIAL_EXPIRATION", "2023-11-14T23:13:20Z", 1);
	p = creds_from_env();
	get_sync(*state, p, &r);
	assert_string_equal(r.creds->session_token, "newtoken");
	assert_int_equal(r.creds->expiration, 1700003600);
	fake_now = 1700003600 - 200;
	get_sync(*state, p, &r);
	assert_int_equal(creds_provider_fetches(p), 2);
	fake_now = 1700003600;
	get_sync(*state, p, &r);
	assert_error_contains(&r, "already expired");
	setenv("AWS_CREDENTIAL_EXPIRATION", "tomorrow", 1);
	creds_invalidate(p);
	get_sync(*state, p, &r);
	assert_error_contains(&r, "AWS_CREDENTIAL_EXPIRATION");
	creds_provider_free(p);
	unsetenv("AWS_CREDENTIAL_EXPIRATION");

	/* Half-configured: an error, not nothing. */
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_non_null(p = creds_from_env());
	get_sync(*state, p, &r);
	assert_error_contains(&r, "AWS_SECRET_ACCESS_KEY is not");
	creds_provider_free(p);
	result_clear(&r);
}

/* ---- INI --------------------------------------------------------------- */

static void
test_ini(void **state)
{
	struct ini_file			*f;
	const struct ini_section	*s;
	char				*cause = NULL;
	static const char		 text[] =
	    "\xef\xbb\xbf# comment\n"
	    "; another\n"
	    "[default]\n"
	    "\tAWS_Access_Key_ID = AKID1  \r\n"
	    "aws_secret_access_key=sec=ret\n"
	    "region: eu-west-1\n"
	    "inline = value # not a comment\n"
	    "[ spaced name ]  \n"
	    "s3 =\n"
	    "   max_concurrent_requests = 20\n"
	    "   addressing_style = path\n"
	    "\n"
	    "empty =\n";

	assert_int_equal(ini_parse("t.ini", text, strlen(text), &f, &cause),
	    0);
	assert_int_equal(f->nsec, 2);
	s = ini_section(f, "default");
	assert_non_null(s);
	assert_string_equal(ini_get(s, "aws_access_key_id"), "AKID1");
	assert_string_equal(ini_get(s, "aws_secret_access_key"), "sec=ret");
	assert_string_equal(ini_get(s, "region"), "eu-west-1");
	assert_string_equal(ini_get(s, "inline"), "value # not a comment");
	assert_null(ini_get(s, "missing"));
	s = ini_section(f, "spaced name");
	assert_non_null(s);
	assert_string_equal(ini_get(s, "s3"),
	    "\nmax_concurrent_requests = 20\naddressing_style = path");
	assert_string_equal(ini_get(s, "empty"), "");
	assert_int_equal(s->kv[0].line, 9);
	ini_free(f);

#define BAD(txt, msg) do {						\
	cause = NULL;							\
	assert_int_equal(ini_parse("bad.ini", txt, strlen(txt), &f,	\
	    &cause), -1);						\
	if (strstr(cause, msg) == NULL)					\
		fail_msg("\"%s\" lacks \"%s\"", cause, msg);		\
	assert_null(strstr(cause, "SECRETVALUE"));			\
	free(cause);							\
} while (0)
	BAD("key = SECRETVALUE\n", "bad.ini:1: key outside any [section]");
	BAD("[a]\nx = 1\n[a]\n", "bad.ini:3: duplicate section");
	BAD("[a]\nx = SECRETVALUE\nX = SECRETVALUE\n",
	    "bad.ini:3: duplicate key");
	BAD("[a]\nSECRETVALUE\n", "bad.ini:2: expected \"key = value\"");
	BAD("[a\n", "bad.ini:1: section header without ']'");
	BAD("[]\n", "bad.ini:1: empty section name");
	BAD("[a] junk\n", "bad.ini:1: text after a section header");
	BAD("[a]\n = SECRETVALUE\n", "bad.ini:2: empty key");
	assert_int_equal(ini_parse("nul.ini", "[a]\nx=\0\n", 7, &f, &cause),
	    -1);
	assert_non_null(strstr(cause, "NUL byte"));
	free(cause);
#undef BAD

	/* Files: missing is empty, a directory is an error. */
	assert_int_equal(ini_load("/nonexistent/creds", &f, &cause), 0);
	assert_int_equal(f->nsec, 0);
	ini_free(f);
	assert_int_equal(ini_load("/", &f, &cause), -1);
	assert_non_null(strstr(cause, "is a directory"));
	free(cause);
	assert_int_equal(ini_load("/dev/null", &f, &cause), 0);
	ini_free(f);
	ini_free(NULL);
}

/* ---- $CREDENTIALS_DIRECTORY ------------------------------------------- */

static void
test_credentials_dir(void **state)
{
	struct creds_provider	*p;
	struct result		 r = { 0 };
	char			*path, *dir;

	assert_null(creds_from_credentials_dir(NULL));
	dir = xprintf("%s/credsdir", tmpdir);
	mkdir(dir, 0700);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	assert_null(creds_from_credentials_dir(NULL));	/* no file */

	path = write_file("credsdir/aws-credentials",
	    "[default]\naws_access_key_id = AKIDDIR\n"
	    "aws_secret_access_key = dirsecret\n"
	    "[ops]\naws_access_key_id = AKIDOPS\n"
	    "aws_secret_access_key = opssecret\naws_session_token = optok\n"
	    "[role]\nrole_arn = arn:aws:iam::123456789012:role/x\n"
	    "[half]\naws_access_key_id = AKIDHALF\n");
	p = creds_from_credentials_dir(NULL);
	assert_string_equal(creds_provider_name(p), "credentials-directory:"
	    "default");
	get_sync(*state, p, &r);
	assert_string_equal(r.creds->access_key_id, "AKIDDIR");
	assert_string_equal(r.creds->secret_access_key, "dirsecret");
	assert_string_equal(r.creds->source, "credentials-directory");
	creds_provider_free(p);

	setenv("AWS_PROFILE", "ops", 1);
	p = creds_from_credentials_dir(NULL);
	get_sync(*state, p, &r);
	assert_string_equal(r.creds->access_key_id, "AKIDOPS");
	assert_string_equal(r.creds->session_token, "optok");
	creds_provider_free(p);

	p = creds_from_credentials_dir("nope");
	get_sync(*state, p, &r);
	assert_error_contains(&r, "no [nope] section");
	creds_provider_free(p);
	p = creds_from_credentials_dir("role");
	get_sync(*state, p, &r);
	assert_error_contains(&r, "role_arn is not supported");
	creds_provider_free(p);
	p = creds_from_credentials_dir("half");
	get_sync(*state, p, &r);
	assert_error_contains(&r, "aws_access_key_id without "
	    "aws_secret_access_key");
	assert_null(strstr(r.error, "AKIDHALF"));
	creds_provider_free(p);

	result_clear(&r);
	unlink(path);
	free(path);
	rmdir(dir);
	free(dir);
}

/* ---- profiles ---------------------------------------------------------- */

static struct creds_ctx	 ctx;
static const struct creds_sts dummy_sts;	/* non-NULL, never called */

static void
profile_files(const char *creds, const char *config)
{
	char	*p;

	p = write_file("credentials", creds);
	setenv("AWS_SHARED_CREDENTIALS_FILE", p, 1);
	free(p);
	p = write_file("config", config);
	setenv("AWS_CONFIG_FILE", p, 1);
	free(p);
}

static void
check_profile(void **state, const char *profile, const char *name,
    const char *akid, const char *error)
{
	struct creds_provider	*p;
	struct result		 r = { 0 };

	p = creds_from_profile(&ctx, profile);
	if (name == NULL) {
		assert_null(p);
		return;
	}
	assert_non_null(p);
	if (strcmp(creds_provider_name(p), name) != 0)
		fail_msg("provider \"%s\", expected \"%s\"",
		    creds_provider_name(p), name);
	if (akid != NULL || error != NULL) {
		get_sync(*state, p, &r);
		if (akid != NULL) {
			assert_null(r.error);
			assert_string_equal(r.creds->access_key_id, akid);
		} else
			assert_error_contains(&r, error);
	}
	result_clear(&r);
	creds_provider_free(p);
}

static void
test_profiles(void **state)
{
	char	*home;

	memset(&ctx, 0, sizeof(ctx));
	ctx.base = *state;
	ctx.sts = &dummy_sts;

	profile_files(
	    "[default]\naws_access_key_id = AKIDDEFAULT\n"
	    "aws_secret_access_key = s1\n"
	    "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = s2\n"
	    "[both]\naws_access_key_id = AKIDFROMCREDS\n"
	    "aws_secret_access_key = s3\n",
	    "[default]\nregion = eu-west-1\n"
	    "[profile cfgonly]\naws_access_key_id = AKIDCFG\n"
	    "aws_secret_access_key = s4\n"
	    "[profile \"quoted\"]\naws_access_key_id = AKIDQ\n"
	    "aws_secret_access_key = s5\n"
	    "[profile both]\naws_access_key_id = AKIDFROMCFG\n"
	    "aws_secret_access_key = s6\n"
	    "[profile regiononly]\nregion = us-west-2\n"
	    "[dev2]\naws_access_key_id = NOTAPROFILE\n"
	    "aws_secret_access_key = s7\n"
	    "[profile half]\naws_secret_access_key = s8\n"
	    "[profile proc]\ncredential_process = /bin/true\n"
	    "[profile sso]\nsso_session = x\n");

	check_profile(state, NULL, "profile:default", "AKIDDEFAULT", NULL);
	check_profile(state, "dev", "profile:dev", "AKIDDEV", NULL);
	setenv("AWS_PROFILE", "dev", 1);
	check_profile(state, NULL, "profile:dev", "AKIDDEV", NULL);
	unsetenv("AWS_PROFILE");
	setenv("AWS_DEFAULT_PROFILE", "cfgonly", 1);
	check_profile(state, NULL, "profile:cfgonly", "AKIDCFG", NULL);
	unsetenv("AWS_DEFAULT_PROFILE");
	check_profile(state, "quoted", "profile:quoted", "AKIDQ", NULL);
	/* The credentials file wins over the config file. */
	check_profile(state, "both", "profile:both", "AKIDFROMCREDS", NULL);
	/* A profile without credentials: nothing (the chain goes on). */
	check_profile(state, "regiononly", NULL, NULL, NULL);
	/* Config sections need the "profile " prefix. */
	check_profile(state, "dev2", "profile:dev2", NULL, "not found");
	check_profile(state, "missing", "profile:missing", NULL,
	    "profile \"missing\" not found");
	check_profile(state, "half", "profile:half", NULL,
	    "aws_secret_access_key without aws_access_key_id");
	check_profile(state, "proc", "profile:proc", NULL,
	    "credential_process is not supported");
	check_profile(state, "sso", "profile:sso", NULL,
	    "(SSO) profiles are not supported");

	/* Without files, "default" is simply absent. */
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/c", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/f", 1);
	check_profile(state, NULL, NULL, NULL, NULL);
	/* Defaults are under $HOME. */
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
	unsetenv("AWS_CONFIG_FILE");
	check_profile(state, NULL, NULL, NULL, NULL);
	home = xprintf("%s/.aws", tmpdir);
	mkdir(home, 0700);
	free(home);
	free(write_file(".aws/credentials", "[default]\n"
	    "aws_access_key_id = AKIDHOME\naws_secret_access_key = h\n"));
	check_profile(state, NULL, "profile:default", "AKIDHOME", NULL);
	check_profile(state, "x", "profile:x", NULL, ".aws/config");

	/* A syntax error is reported, with file and line. */
	profile_files("[default]\nnonsense\n", "");
	check_profile(state, NULL, "profile:default", NULL,
	    "/credentials:2: expected");
}

static void
test_profile_rotation(void **state)
{
	struct creds_provider	*p;
	struct result		 r = { 0 };

	memset(&ctx, 0, sizeof(ctx));
	ctx.base = *state;
	profile_files("[default]\naws_access_key_id = AKIDOLD\n"
	    "aws_secret_access_key = old\n", "");
	p = creds_from_profile(&ctx, NULL);
	get_sync(*state, p, &r);
	assert_string_equal(r.creds->access_key_id, "AKIDOLD");
	profile_files("[default]\naws_access_key_id = AKIDNEW\n"
	    "aws_secret_access_key = new\naws_session_token = t\n", "");
	get_sync(*state, p, &r);
	assert_string_equal(r.creds->access_key_id, "AKIDOLD");	/* cached */
	creds_invalidate(p);		/* e.g. after ExpiredToken */
	get_sync(*state, p, &r);
	assert_string_equal(r.creds->access_key_id, "AKIDNEW");
	assert_string_equal(r.creds->session_token, "t");
	profile_files("", "");
	creds_invalidate(p);
	get_sync(*state, p, &r);
	assert_error_contains(&r, "has no aws_access_key_id");
	result_clear(&r);
	creds_provider_free(p);
}

#define ROLE	"arn:aws:iam::123456789012:role/"

static void
test_profile_roles(void **state)
{
	memset(&ctx, 0, sizeof(ctx));
	ctx.base = *state;
	ctx.sts = &dummy_sts;
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);

	profile_files(
	    "[base]\naws_access_key_id = AKIDBASE\n"
	    "aws_secret_access_key = b\n"
	    "[self]\naws_access_key_id = AKIDSELF\naws_secret_access_key = s\n"
	    "role_arn = " ROLE "self\nsource_profile = self\n",
	    "[profile one]\nrole_arn = " ROLE "one\nsource_profile = base\n"
	    "external_id = ext-123\nduration_seconds = 1800\n"
	    "role_session_name = my-session\n"
	    "[profile two]\nrole_arn = " ROLE "two\nsource_profile = one\n"
	    "[profile three]\nrole_arn = " ROLE "three\n"
	    "source_profile = two\n"
	    "[profile cyc-a]\nrole_arn = " ROLE "a\nsource_profile = cyc-b\n"
	    "[profile cyc-b]\nrole_arn = " ROLE "b\nsource_profile = cyc-c\n"
	    "[profile cyc-c]\nrole_arn = " ROLE "c\nsource_profile = cyc-a\n"
	    "[profile loop]\nrole_arn = " ROLE "l\nsource_profile = loop\n"
	    "[profile keyed]\naws_access_key_id = AKIDKEYED\n"
	    "aws_secret_access_key = k\nrole_arn = " ROLE "keyed\n"
	    "source_profile = cyc-a\n"
	    "[profile via-keyed]\nrole_arn = " ROLE "vk\n"
	    "source_profile = keyed\n"
	    "[profile env]\nrole_arn = " ROLE "env\n"
	    "credential_source = Environment\n"
	    "[profile imds]\nrole_arn = " ROLE "imds\n"
	    "credential_source = Ec2InstanceMetadata\n"
	    "[profile ecs]\nrole_arn = " ROLE "ecs\n"
	    "credential_source = EcsContainer\n"
	    "[profile badcs]\nrole_arn = " ROLE "x\n"
	    "credential_source = Somewhere\n"
	    "[profile both]\nrole_arn = " ROLE "x\nsource_profile = base\n"
	    "credential_source = Environment\n"
	    "[profile neither]\nrole_arn = " ROLE "x\n"
	    "[profile nosrc]\nrole_arn = " ROLE "x\nsource_profile = ghost\n"
	    "[profile emptysrc]\nrole_arn = " ROLE "x\n"
	    "source_profile = empty\n"
	    "[profile empty]\nregion = us-east-2\n"
	    "[profile dur]\nrole_arn = " ROLE "x\nsource_profile = base\n"
	    "duration_seconds = 60\n"
	    "[profile sess]\nrole_arn = " ROLE "x\nsource_profile = base\n"
	    "role_session_name = has space\n"
	    "[profile wi]\nrole_arn = " ROLE "wi\n"
	    "web_identity_token_file = /tmp/token\n"
	    "[profile wi-norole]\nweb_identity_token_file = /tmp/token\n");

	check_profile(state, "one", "assume-role:" ROLE "one<-profile:base",
	    NULL, NULL);
	check_profile(state, "three", "assume-role:" ROLE "three<-"
	    "assume-role:" ROLE "two<-assume-role:" ROLE "one<-profile:base",
	    NULL, NULL);
	/* A profile may use its own keys as the source. */
	check_profile(state, "self", "assume-role:" ROLE "self<-profile:self",
	    NULL, NULL);
	/* A source with keys uses them, whatever else it says. */
	check_profile(state, "via-keyed", "assume-role:" ROLE "vk<-"
	    "profile:keyed", NULL, NULL);
	check_profile(state, "cyc-a", "profile:cyc-a", NULL,
	    "source_profile cycle: cyc-a -> cyc-b -> cyc-c -> cyc-a");
	check_profile(state, "cyc-b", "profile:cyc-b", NULL,
	    "source_profile cycle: cyc-b -> cyc-c -> cyc-a -> cyc-b");
	check_profile(state, "loop", "profile:loop", NULL,
	    "source_profile cycle: loop -> loop");
	check_profile(state, "env", "assume-role:" ROLE "env<-environment",
	    NULL, NULL);
	check_profile(state, "imds", "profile:imds", NULL,
	    "AWS_EC2_METADATA_DISABLED is true");
	check_profile(state, "ecs", "profile:ecs", NULL,
	    "credential_source EcsContainer but neither");
	check_profile(state, "badcs", "profile:badcs", NULL,
	    "unknown credential_source \"Somewhere\"");
	check_profile(state, "both", "profile:both", NULL,
	    "mutually exclusive");
	check_profile(state, "neither", "profile:neither", NULL,
	    "role_arn needs source_profile, credential_source or "
	    "web_identity_token_file");
	check_profile(state, "nosrc", "profile:nosrc", NULL,
	    "source_profile \"ghost\" not found");
	check_profile(state, "emptysrc", "profile:emptysrc", NULL,
	    "source_profile \"empty\" has no credentials");
	check_profile(state, "dur", "profile:dur", NULL,
	    "duration_seconds must be 900..43200");
	check_profile(state, "sess", "profile:sess", NULL,
	    "role_session_name must be");
	check_profile(state, "wi", "profile:wi", NULL, NULL);
	check_profile(state, "wi-norole", "profile:wi-norole", NULL,
	    "web_identity_token_file needs role_arn");

	/* No AWS client: assume-role cannot work, and says so. */
	ctx.sts = NULL;
	check_profile(state, "one", "assume-role:" ROLE "one<-profile:base",
	    NULL, "AssumeRole needs STS, but no AWS client was given");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	check_profile(state, "env", "profile:env", NULL,
	    "credential_source Environment but AWS_ACCESS_KEY_ID is not set");
}

static void
test_assume_role_checks(void **state)
{
	struct creds_provider	*p;
	struct result		 r = { 0 };

	memset(&ctx, 0, sizeof(ctx));
	ctx.base = *state;
	ctx.sts = &dummy_sts;

#define CHECK(arn, ext, sess, dur, msg) do {				\
	p = creds_assume_role(&ctx, creds_static("A", "B", NULL), arn,	\
	    ext, sess, dur, NULL);					\
	get_sync(*state, p, &r);					\
	assert_error_contains(&r, msg);					\
	creds_provider_free(p);						\
} while (0)
	CHECK("role", NULL, "s-1", 0, "the role ARN must be");
	CHECK(ROLE "x", NULL, "x", 0, "the session name must be");
	CHECK(ROLE "x", NULL, "a/b", 0, "the session name must be");
	CHECK(ROLE "x", NULL, "ok-name", 899, "the duration must be");
	CHECK(ROLE "x", NULL, "ok-name", 43201, "the duration must be");
	CHECK(ROLE "x", "x", "ok-name", 900, "the external ID must be");
	CHECK(ROLE "x", "bad id", "ok-name", 900, "the external ID must be");
#undef CHECK
	/* The session name defaults to ctx's, which must be valid too. */
	ctx.session_name = "cloudsagad run";
	p = creds_assume_role(&ctx, creds_static("A", "B", NULL), ROLE "x",
	    NULL, NULL, 0, NULL);
	get_sync(*state, p, &r);
	assert_error_contains(&r, "the session name must be");
	creds_provider_free(p);
	result_clear(&r);

	assert_true(creds_session_name_ok("cloudsagad-0123abc"));
	assert_true(creds_session_name_ok("a+=,.@_-b"));
	assert_false(creds_session_name_ok("a"));
	assert_false(creds_session_name_ok(""));
}

/* ---- the default chain ----------------------------------------------- */

static void
check_chain(void **state, const char *profile, const char *name,
    const char *akid, const char *error)
{
	struct creds_provider	*p;
	struct result		 r = { 0 };

	p = creds_default_chain(&ctx, profile);
	assert_non_null(p);
	if (strcmp(creds_provider_name(p), name) != 0)
		fail_msg("chain chose \"%s\", expected \"%s\"",
		    creds_provider_name(p), name);
	if (akid != NULL || error != NULL) {
		get_sync(*state, p, &r);
		if (akid != NULL) {
			assert_null(r.error);
			assert_string_equal(r.creds->access_key_id, akid);
		} else
			assert_error_contains(&r, error);
	}
	result_clear(&r);
	creds_provider_free(p);
}

static void
test_chain(void **state)
{
	char	*dir, *path;

	memset(&ctx, 0, sizeof(ctx));
	ctx.base = *state;
	ctx.sts = &dummy_sts;
	profile_files("[default]\naws_access_key_id = AKIDPROFILE\n"
	    "aws_secret_access_key = p\n"
	    "[other]\naws_access_key_id = AKIDOTHER\n"
	    "aws_secret_access_key = o\n", "");
	dir = xprintf("%s/chaindir", tmpdir);
	mkdir(dir, 0700);
	path = write_file("chaindir/aws-credentials",
	    "[default]\naws_access_key_id = AKIDDIR\n"
	    "aws_secret_access_key = d\n");
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "e", 1);
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/creds", 1);

	/* 1. environment first ... */
	check_chain(state, NULL, "environment", "AKIDENV", NULL);
	/* ... unless a profile is named explicitly (botocore). */
	check_chain(state, "other", "profile:other", "AKIDOTHER", NULL);
	setenv("CREDENTIALS_DIRECTORY", dir, 1);
	check_chain(state, NULL, "environment", "AKIDENV", NULL);
	/* A credentials file that lacks the profile asked for fails. */
	check_chain(state, "other", "credentials-directory:other", NULL,
	    "no [other] section");
	/* A half-set environment fails; it does not fall through. */
	unsetenv("AWS_SECRET_ACCESS_KEY");
	check_chain(state, NULL, "environment", NULL,
	    "AWS_SECRET_ACCESS_KEY is not");
	unsetenv("AWS_ACCESS_KEY_ID");
	/* 2. $CREDENTIALS_DIRECTORY */
	check_chain(state, NULL, "credentials-directory:default", "AKIDDIR",
	    NULL);
	/* ... which must hold the profile asked for. */
	setenv("AWS_PROFILE", "other", 1);
	check_chain(state, NULL, "credentials-directory:other", NULL,
	    "no [other] section");
	unsetenv("AWS_PROFILE");
	unlink(path);
	/* 3. web identity */
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/tmp/token", 1);
	check_chain(state, NULL, "web-identity:?", NULL,
	    "AWS_ROLE_ARN is not");
	setenv("AWS_ROLE_ARN", ROLE "wi", 1);
	check_chain(state, NULL, "web-identity:" ROLE "wi", NULL, NULL);
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
	/* 4. the shared files */
	check_chain(state, NULL, "profile:default", "AKIDPROFILE", NULL);
	setenv("AWS_PROFILE", "missing", 1);
	check_chain(state, NULL, "profile:missing", NULL,
	    "profile \"missing\" not found");
	unsetenv("AWS_PROFILE");
	/* 5. the container endpoint (no HTTP engine here: it says so) */
	profile_files("", "");
	check_chain(state, NULL, "container", NULL,
	    "need an HTTP engine");
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/creds", 1);
	check_chain(state, NULL, "container", NULL, "must start with '/'");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/x", 1);
	check_chain(state, NULL, "container", NULL, "is not allowed");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	/* 6. IMDS (here without an HTTP engine) */
	unsetenv("AWS_EC2_METADATA_DISABLED");
	check_chain(state, NULL, "imds", NULL, "needs an HTTP engine");
	/* Nothing at all: a clear message of what was looked at. */
	setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
	check_chain(state, NULL, "none", NULL,
	    "no credentials in the environment, $CREDENTIALS_DIRECTORY, "
	    "web identity variables, profile \"default\" in ");

	free(path);
	rmdir(dir);
	free(dir);
}

static void
test_misc(void **state)
{
	char	*s;

	s = creds_arn_account("arn:aws:sts::123456789012:assumed-role/r/s");
	assert_string_equal(s, "123456789012");
	free(s);
	assert_null(creds_arn_account("arn:aws:iam::12345:role/x"));
	assert_null(creds_arn_account("not-an-arn"));
	assert_null(creds_arn_account(NULL));

	setenv("HOME", "/home/someone", 1);
	s = creds_expand_path("~/.aws/config");
	assert_string_equal(s, "/home/someone/.aws/config");
	free(s);
	s = creds_expand_path("~other/x");
	assert_string_equal(s, "~other/x");
	free(s);
	s = creds_expand_path("/abs");
	assert_string_equal(s, "/abs");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_static, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_before_expiry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_failure, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_coalescing, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_free, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_invalidate, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_wipe, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ini, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_profiles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_profile_rotation, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_profile_roles, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_assume_role_checks,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misc, setup, teardown),
	};
	char	 cmd[128];
	int	 rc;

	log_init(LOG_TO_STDERR, "test_creds", getenv("CREDS_DEBUG") != NULL ?
	    LOG_DEBUG : LOG_WARNING);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_creds.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		rc = 1;
	return rc;
}
