/*
 * creds: the credential provider core - refcounted credentials that wipe
 * their secrets, the cache/refresh/coalescing machinery every provider
 * shares, and the static, environment and default-chain providers.
 *
 * Requests move through two lists of their provider: "waiting" while a
 * fetch is in flight, "ready" once their answer (a credentials reference or
 * an error) is known.  One event per provider delivers ready requests, so
 * a callback never runs inside creds_get() and a fetch that completes at
 * once (static keys) behaves like one that takes a network round trip.
 */
#include <sys/queue.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "buf.h"
#include "creds.h"
#include "creds_int.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

struct creds_req {
	struct creds_provider	*p;
	creds_cb		 cb;
	void			*arg;
	int			 is_ready;
	unsigned long		 seq;
	struct aws_creds	*creds;		/* answer */
	char			*error;
	TAILQ_ENTRY(creds_req)	 entry;
};

void (*creds_wipe_hook)(const void *, size_t);
static time_t (*creds_clock)(void);

static void	 creds_deliver(evutil_socket_t, short, void *);
static void	 creds_destroy(struct creds_provider *);

/* ---- credentials ----------------------------------------------------- */

struct aws_creds *
creds_new(const char *akid, const char *secret, const char *token,
    time_t expiration)
{
	struct aws_creds	*c;

	c = xcalloc(1, sizeof(*c));
	c->access_key_id = xstrdup(akid);
	c->secret_access_key = xstrdup(secret);
	c->session_token = xstrdup_or_null(token);
	c->expiration = expiration;
	c->refs = 1;
	return c;
}

struct aws_creds *
creds_ref(struct aws_creds *c)
{
	if (c != NULL)
		c->refs++;
	return c;
}

static void
creds_wipe(char *s)
{
	size_t	 len;

	if (s == NULL)
		return;
	len = strlen(s);
	explicit_bzero(s, len);
	if (creds_wipe_hook != NULL)
		creds_wipe_hook(s, len);
	free(s);
}

void
creds_unref(struct aws_creds *c)
{
	if (c == NULL || --c->refs > 0)
		return;
	creds_wipe(c->secret_access_key);
	creds_wipe(c->session_token);
	free(c->access_key_id);
	free(c->account_id);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

/* ---- clock and small helpers ------------------------------------------ */

time_t
creds_now(void)
{
	if (creds_clock != NULL)
		return creds_clock();
	return time(NULL);
}

void
creds_set_clock(time_t (*fn)(void))
{
	creds_clock = fn;
}

const char *
creds_getenv(const char *name)
{
	const char	*v;

	v = getenv(name);
	if (v == NULL || *v == '\0')
		return NULL;
	return v;
}

int
creds_env_true(const char *name)
{
	const char	*v;

	v = creds_getenv(name);
	return v != NULL && strcasecmp(v, "true") == 0;
}

const char *
creds_env_region(void)
{
	const char	*r;

	if ((r = creds_getenv("AWS_REGION")) != NULL)
		return r;
	return creds_getenv("AWS_DEFAULT_REGION");
}

char *
creds_arn_account(const char *arn)
{
	const char	*p;
	size_t		 i, n;

	/* arn:PARTITION:SERVICE:REGION:ACCOUNT:... */
	if (arn == NULL || strncmp(arn, "arn:", 4) != 0)
		return NULL;
	p = arn;
	for (i = 0; i < 4; i++) {
		if ((p = strchr(p, ':')) == NULL)
			return NULL;
		p++;
	}
	n = strcspn(p, ":");
	if (n != 12 || p[n] != ':')
		return NULL;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)p[i]))
			return NULL;
	return xstrndup(p, n);
}

static void
creds_json_wipe_string(json_t *j)
{
	const char	*s;

	/*
	 * jansson keeps each string in its own heap copy; overwriting it
	 * in place (length unchanged) is what wiping needs.
	 */
	if ((s = json_string_value(j)) != NULL)
		explicit_bzero((char *)(uintptr_t)s, json_string_length(j));
}

void
creds_json_wipe(json_t *j)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	if (j == NULL)
		return;
	switch (json_typeof(j)) {
	case JSON_STRING:
		creds_json_wipe_string(j);
		break;
	case JSON_OBJECT:
		json_object_foreach(j, key, v)
			creds_json_wipe(v);
		break;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			creds_json_wipe(v);
		break;
	default:
		break;
	}
}

struct aws_creds *
creds_from_json(json_t *j, const char *token_key, int need_expiration,
    char **cause)
{
	struct aws_creds	*c;
	const char		*akid, *secret, *token, *exp, *acct;
	time_t			 t = 0;

	if (!json_is_object(j)) {
		*cause = xstrdup("credentials are not a JSON object");
		return NULL;
	}
	akid = json_string_value(json_object_get(j, "AccessKeyId"));
	secret = json_string_value(json_object_get(j, "SecretAccessKey"));
	token = json_string_value(json_object_get(j, token_key));
	exp = json_string_value(json_object_get(j, "Expiration"));
	acct = json_string_value(json_object_get(j, "AccountId"));
	if (akid == NULL || *akid == '\0') {
		*cause = xstrdup("no AccessKeyId in the credentials");
		return NULL;
	}
	if (secret == NULL || *secret == '\0') {
		*cause = xstrdup("no SecretAccessKey in the credentials");
		return NULL;
	}
	if (exp != NULL && *exp != '\0') {
		if (time_parse_iso8601(exp, &t) != 0) {
			*cause = xprintf("bad Expiration \"%.40s\"", exp);
			return NULL;
		}
	} else if (need_expiration) {
		*cause = xstrdup("no Expiration in the credentials");
		return NULL;
	}
	c = creds_new(akid, secret, token != NULL && *token != '\0' ?
	    token : NULL, t);
	if (acct != NULL && *acct != '\0')
		c->account_id = xstrdup(acct);
	return c;
}

/* ---- the provider core ------------------------------------------------ */

struct creds_provider *
creds_provider_new(const struct creds_ops *ops, void *data, const char *name,
    struct event_base *base)
{
	struct creds_provider	*p;

	p = xcalloc(1, sizeof(*p));
	p->ops = ops;
	p->data = data;
	p->name = xstrdup(name);
	p->base = base;
	TAILQ_INIT(&p->waiting);
	TAILQ_INIT(&p->ready);
	return p;
}

void
creds_provider_attach(struct creds_provider *p, struct event_base *base)
{
	for (; p != NULL; p = p->source) {
		if (p->base == NULL)
			p->base = base;
	}
}

const char *
creds_provider_name(const struct creds_provider *p)
{
	return p->name;
}

unsigned long
creds_provider_fetches(const struct creds_provider *p)
{
	return p->fetches;
}

static void
creds_schedule(struct creds_provider *p)
{
	if (p->ev == NULL) {
		if (p->base == NULL)
			fatalx("creds: provider %s has no event base "
			    "(creds_provider_attach)", p->name);
		p->ev = evtimer_new(p->base, creds_deliver, p);
		if (p->ev == NULL)
			fatalx("creds: evtimer_new failed");
	}
	if (!p->delivering)	/* else creds_deliver() goes round again */
		event_active(p->ev, EV_TIMEOUT, 0);
}

/* Answer r: move it to the ready list with creds or error. */
static void
creds_answer(struct creds_req *r, struct aws_creds *c, const char *error)
{
	struct creds_provider	*p = r->p;

	if (r->is_ready)
		return;
	TAILQ_REMOVE(&p->waiting, r, entry);
	r->is_ready = 1;
	r->seq = ++p->seq;
	r->creds = creds_ref(c);
	r->error = c == NULL ? xstrdup(error != NULL ? error :
	    "no credentials") : NULL;
	TAILQ_INSERT_TAIL(&p->ready, r, entry);
	creds_schedule(p);
}

static void
creds_req_free(struct creds_req *r)
{
	creds_unref(r->creds);
	free(r->error);
	free(r);
}

static void
creds_deliver(evutil_socket_t fd, short events, void *arg)
{
	struct creds_provider	*p = arg;
	struct creds_req	*r;
	unsigned long		 last = p->seq;

	/*
	 * Deliver what was ready when the event fired; a callback may get,
	 * cancel, or free the provider (then the rest is dropped).
	 */
	p->delivering = 1;
	while (!p->dead && (r = TAILQ_FIRST(&p->ready)) != NULL &&
	    r->seq <= last) {
		TAILQ_REMOVE(&p->ready, r, entry);
		r->cb(r->creds, r->error, r->arg);
		creds_req_free(r);
	}
	p->delivering = 0;
	if (p->dead) {
		creds_destroy(p);
		return;
	}
	if (!TAILQ_EMPTY(&p->ready))
		event_active(p->ev, EV_TIMEOUT, 0);
}

static int
creds_usable(struct creds_provider *p, time_t now)
{
	struct aws_creds	*c = p->cached;

	if (c == NULL)
		return 0;
	if (c->expiration == 0 || now < c->expiration - CREDS_REFRESH_MARGIN)
		return 1;
	/* A refresh failed: keep using valid credentials for a while. */
	return p->retry_at != 0 && now < p->retry_at && now < c->expiration;
}

struct creds_req *
creds_get(struct creds_provider *p, creds_cb cb, void *arg)
{
	struct creds_req	*r;

	if (p->base == NULL)
		fatalx("creds: provider %s has no event base "
		    "(creds_provider_attach)", p->name);
	r = xcalloc(1, sizeof(*r));
	r->p = p;
	r->cb = cb;
	r->arg = arg;
	TAILQ_INSERT_TAIL(&p->waiting, r, entry);

	if (creds_usable(p, creds_now())) {
		creds_answer(r, p->cached, NULL);
		return r;
	}
	if (!p->fetching) {
		p->fetching = 1;
		p->fetches++;
		log_debug("creds: %s: fetching", p->name);
		p->ops->fetch(p);	/* may finish at once */
	}
	return r;
}

void
creds_cancel(struct creds_req *r)
{
	struct creds_provider	*p;

	if (r == NULL)
		return;
	p = r->p;
	if (r->is_ready)
		TAILQ_REMOVE(&p->ready, r, entry);
	else
		TAILQ_REMOVE(&p->waiting, r, entry);
	creds_req_free(r);
}

void
creds_fetch_done(struct creds_provider *p, struct aws_creds *c,
    const char *error)
{
	struct creds_req	*r;
	time_t			 now = creds_now(), left;
	char			 when[21], *msg = NULL;

	p->fetching = 0;
	if (c != NULL && c->expiration != 0 && c->expiration <= now) {
		time_iso8601(c->expiration, when);
		msg = xprintf("the credentials fetched had already expired "
		    "(at %s)", when);
		error = msg;
		creds_unref(c);
		c = NULL;
	}

	if (c != NULL) {
		if (c->source == NULL)
			c->source = p->ops->kind;
		if (c->expiration != 0)
			time_iso8601(c->expiration, when);
		log_debug("creds: %s: got access key %s%s%s", p->name,
		    c->access_key_id, c->expiration != 0 ? ", expires " : "",
		    c->expiration != 0 ? when : "");
		creds_unref(p->cached);
		p->cached = c;
		p->retry_at = 0;
	} else if (p->cached != NULL && p->cached->expiration > now) {
		/* Refresh failed; the current credentials still work. */
		left = p->cached->expiration - now;
		p->retry_at = now + (left / 4 > 60 ? 60 :
		    left / 4 < 5 ? 5 : left / 4);
		time_iso8601(p->cached->expiration, when);
		log_warnx("creds: %s: refresh failed: %s; using the current "
		    "credentials (expiring %s) and trying again later",
		    p->name, error != NULL ? error : "unknown error", when);
		c = p->cached;
	} else {
		creds_unref(p->cached);
		p->cached = NULL;
		p->retry_at = 0;
		log_debug("creds: %s: %s", p->name,
		    error != NULL ? error : "no credentials");
	}

	while ((r = TAILQ_FIRST(&p->waiting)) != NULL)
		creds_answer(r, c, error);
	free(msg);
}

void
creds_invalidate(struct creds_provider *p)
{
	if (p == NULL)
		return;
	log_debug("creds: %s: invalidated", p->name);
	creds_unref(p->cached);
	p->cached = NULL;
	p->retry_at = 0;
	if (p->source != NULL)
		creds_invalidate(p->source);
}

static void
creds_destroy(struct creds_provider *p)
{
	struct creds_req	*r;

	if (p->fetching && p->ops->abort != NULL)
		p->ops->abort(p);
	while ((r = TAILQ_FIRST(&p->waiting)) != NULL) {
		TAILQ_REMOVE(&p->waiting, r, entry);
		creds_req_free(r);
	}
	while ((r = TAILQ_FIRST(&p->ready)) != NULL) {
		TAILQ_REMOVE(&p->ready, r, entry);
		creds_req_free(r);
	}
	if (p->ops->free != NULL)
		p->ops->free(p->data);
	creds_provider_free(p->source);
	if (p->ev != NULL)
		event_free(p->ev);
	creds_unref(p->cached);
	free(p->name);
	free(p);
}

void
creds_provider_free(struct creds_provider *p)
{
	struct creds_req	*r;
	char			*msg;

	if (p == NULL || p->dead)
		return;
	p->dead = 1;
	if (p->fetching && p->ops->abort != NULL)
		p->ops->abort(p);
	p->fetching = 0;

	/* Whoever still waits hears about it now (the client relies on it). */
	msg = xprintf("credentials provider %s was freed", p->name);
	for (;;) {
		if ((r = TAILQ_FIRST(&p->waiting)) != NULL)
			TAILQ_REMOVE(&p->waiting, r, entry);
		else if ((r = TAILQ_FIRST(&p->ready)) != NULL)
			TAILQ_REMOVE(&p->ready, r, entry);
		else
			break;
		r->cb(NULL, msg, r->arg);
		creds_req_free(r);
	}
	free(msg);
	if (!p->delivering)
		creds_destroy(p);	/* else creds_deliver() does */
}

/* ---- error provider --------------------------------------------------- */

static void
creds_error_fetch(struct creds_provider *p)
{
	creds_fetch_done(p, NULL, p->data);
}

static const struct creds_ops creds_error_ops = {
	.kind = "error",
	.fetch = creds_error_fetch,
	.free = free,
};

struct creds_provider *
creds_error_provider(const char *name, struct event_base *base,
    const char *error)
{
	return creds_provider_new(&creds_error_ops, xstrdup(error), name,
	    base);
}

/* ---- static ----------------------------------------------------------- */

static void
creds_static_fetch(struct creds_provider *p)
{
	struct aws_creds	*c = p->data;

	creds_fetch_done(p, creds_ref(c), NULL);
}

static void
creds_static_free(void *data)
{
	creds_unref(data);
}

static const struct creds_ops creds_static_ops = {
	.kind = "static",
	.fetch = creds_static_fetch,
	.free = creds_static_free,
};

/* Static credentials under a given name and kind (used by the files too). */
static struct creds_provider *
creds_static_named(const char *name, const char *kind, const char *akid,
    const char *secret, const char *token)
{
	struct aws_creds	*c;

	c = creds_new(akid, secret, token, 0);
	c->source = kind;
	return creds_provider_new(&creds_static_ops, c, name, NULL);
}

struct creds_provider *
creds_static(const char *akid, const char *secret, const char *token)
{
	if (akid == NULL || *akid == '\0' || secret == NULL || *secret == '\0')
		return creds_error_provider("static", NULL,
		    "static credentials need an access key ID and a secret");
	return creds_static_named("static", "static", akid, secret,
	    token != NULL && *token != '\0' ? token : NULL);
}

struct creds_provider *
creds_static_kind(const char *name, const char *kind, const char *akid,
    const char *secret, const char *token)
{
	return creds_static_named(name, kind, akid, secret, token);
}

/* ---- environment ------------------------------------------------------ */

/*
 * Read at every fetch, as botocore's EnvProvider does: expiring credentials
 * put in the environment by a wrapper are picked up again once refreshed.
 */
static void
creds_env_fetch(struct creds_provider *p)
{
	struct aws_creds	*c;
	const char		*akid, *secret, *token, *exp, *acct;
	time_t			 t = 0;
	char			*msg;

	akid = creds_getenv("AWS_ACCESS_KEY_ID");
	secret = creds_getenv("AWS_SECRET_ACCESS_KEY");
	if ((token = creds_getenv("AWS_SESSION_TOKEN")) == NULL)
		token = creds_getenv("AWS_SECURITY_TOKEN");
	exp = creds_getenv("AWS_CREDENTIAL_EXPIRATION");
	acct = creds_getenv("AWS_ACCOUNT_ID");

	if (akid == NULL || secret == NULL) {
		creds_fetch_done(p, NULL, akid == NULL ?
		    "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not" :
		    "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
		return;
	}
	if (exp != NULL && time_parse_iso8601(exp, &t) != 0) {
		msg = xprintf("AWS_CREDENTIAL_EXPIRATION is not an ISO 8601 "
		    "time: \"%.40s\"", exp);
		creds_fetch_done(p, NULL, msg);
		free(msg);
		return;
	}
	c = creds_new(akid, secret, token, t);
	if (acct != NULL)
		c->account_id = xstrdup(acct);
	creds_fetch_done(p, c, NULL);
}

static const struct creds_ops creds_env_ops = {
	.kind = "environment",
	.fetch = creds_env_fetch,
};

struct creds_provider *
creds_from_env(void)
{
	if (creds_getenv("AWS_ACCESS_KEY_ID") == NULL &&
	    creds_getenv("AWS_SECRET_ACCESS_KEY") == NULL)
		return NULL;
	return creds_provider_new(&creds_env_ops, NULL, "environment", NULL);
}

/* ---- the default chain ------------------------------------------------ */

struct creds_provider *
creds_default_chain(const struct creds_ctx *ctx, const char *profile)
{
	struct creds_provider	*p;
	const char		*name;
	int			 explicit;
	char			*checked = NULL, *note;

	/*
	 * An explicit profile skips the environment (botocore); a profile
	 * named explicitly or by AWS_PROFILE must exist.
	 */
	explicit = profile != NULL;
	name = profile;
	if (name == NULL && (name = creds_getenv("AWS_PROFILE")) == NULL)
		name = creds_getenv("AWS_DEFAULT_PROFILE");
	if (name == NULL)
		name = "default";

	if (!explicit && (p = creds_from_env()) != NULL)
		goto found;
	if ((p = creds_from_credentials_dir(name)) != NULL)
		goto found;
	if ((p = creds_web_identity(ctx)) != NULL)
		goto found;
	if ((p = creds_profile_resolve(ctx, name,
	    strcmp(name, "default") != 0, &checked)) != NULL)
		goto found;
	if ((p = creds_container(ctx)) != NULL)
		goto found;

	note = xprintf("no credentials in the environment, "
	    "$CREDENTIALS_DIRECTORY, web identity variables, %s, or "
	    "container variables", checked != NULL ? checked : "profiles");
	if ((p = creds_imds_new(ctx, note)) == NULL) {
		p = creds_error_provider("none", ctx->base, note);
		log_debug("creds: %s", note);
	}
	free(note);
found:
	free(checked);
	creds_provider_attach(p, ctx->base);
	log_debug("creds: default chain: using %s", p->name);
	return p;
}

int
creds_read_secret_file(const char *path, size_t limit, char **ret,
    size_t *len, char **cause)
{
	struct buf	 b;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		*cause = xstrdup(strerror(errno));
		return -1;
	}
	buf_init_secure(&b);
	for (;;) {
		buf_reserve(&b, 4096);
		n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b.len += n;
		b.data[b.len] = '\0';
		if (b.len > limit)
			break;
	}
	if (n == -1) {
		*cause = xstrdup(strerror(errno));
		close(fd);
		buf_freezero(&b);
		return -1;
	}
	close(fd);
	*len = b.len;
	*ret = buf_release(&b);
	return 0;
}
