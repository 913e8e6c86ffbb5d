/*
 * creds_file: the shared credentials and config files (INI), profiles
 * (static keys, role_arn with source_profile / credential_source /
 * web_identity_token_file), and $CREDENTIALS_DIRECTORY/aws-credentials.
 *
 * The INI dialect is botocore's (Python RawConfigParser): "[section]"
 * headers, "key = value" or "key: value", keys case-insensitive, full-line
 * comments with '#' or ';' (no inline comments: a value is everything after
 * the separator), indented lines continue the previous value, duplicate
 * sections or keys are errors.  Error messages name file and line but never
 * quote a value: values may be secrets.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cloudsaga_limits.h"
#include "creds.h"
#include "creds_int.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"


/* ---- INI --------------------------------------------------------------- */

static int
ini_error(struct ini_file *f, int line, char **cause, const char *msg)
{
	*cause = xprintf("%s:%d: %s", f->path, line, msg);
	ini_free(f);
	return -1;
}

static char *
ini_trimdup(const char *s, size_t n, int lower)
{
	char	*out;
	size_t	 i;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	out = xstrndup(s, n);
	if (lower) {
		for (i = 0; i < n; i++)
			out[i] = tolower((unsigned char)out[i]);
	}
	return out;
}

int
ini_parse(const char *path, const char *text, size_t len,
    struct ini_file **ret, char **cause)
{
	struct ini_file		*f;
	struct ini_section	*cur = NULL;
	struct ini_kv		*last = NULL;
	const char		*p = text, *end = text + len, *eol, *s, *q;
	size_t			 n, slen, indent, last_indent = 0, i, d;
	int			 lineno = 0;
	char			*name, *key, *v;

	f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(path);
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;		/* UTF-8 byte order mark */

	while (p < end) {
		lineno++;
		eol = memchr(p, '\n', end - p);
		n = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);
		s = p;
		p = eol != NULL ? eol + 1 : end;
		if (memchr(s, '\0', n) != NULL)
			return ini_error(f, lineno, cause, "NUL byte");

		for (indent = 0; indent < n && (s[indent] == ' ' ||
		    s[indent] == '\t'); indent++)
			;
		s += indent;
		slen = n - indent;
		while (slen > 0 && isspace((unsigned char)s[slen - 1]))
			slen--;
		if (slen == 0) {
			last = NULL;
			continue;
		}
		if (*s == '#' || *s == ';')
			continue;

		if (last != NULL && indent > last_indent) {
			/* Continuation of the previous value. */
			v = xprintf("%s\n%.*s", last->value, (int)slen, s);
			freezero_str(last->value);
			last->value = v;
			continue;
		}
		last = NULL;

		if (*s == '[') {
			for (q = s + slen - 1; q > s && *q != ']'; q--)
				;
			if (q == s)
				return ini_error(f, lineno, cause,
				    "section header without ']'");
			for (i = q + 1 - s; i < slen; i++)
				if (!isspace((unsigned char)s[i]))
					break;
			if (i < slen && s[i] != '#' && s[i] != ';')
				return ini_error(f, lineno, cause,
				    "text after a section header");
			name = ini_trimdup(s + 1, q - s - 1, 0);
			if (*name == '\0') {
				free(name);
				return ini_error(f, lineno, cause,
				    "empty section name");
			}
			if (ini_section(f, name) != NULL) {
				free(name);
				return ini_error(f, lineno, cause,
				    "duplicate section");
			}
			f->sec = xreallocarray(f->sec, f->nsec + 1,
			    sizeof(*f->sec));
			cur = &f->sec[f->nsec++];
			memset(cur, 0, sizeof(*cur));
			cur->name = name;
			cur->line = lineno;
			continue;
		}

		if (cur == NULL)
			return ini_error(f, lineno, cause,
			    "key outside any [section]");
		for (d = 0; d < slen && s[d] != '=' && s[d] != ':'; d++)
			;
		if (d == slen)
			return ini_error(f, lineno, cause,
			    "expected \"key = value\"");
		key = ini_trimdup(s, d, 1);
		if (*key == '\0') {
			free(key);
			return ini_error(f, lineno, cause, "empty key");
		}
		if (ini_get(cur, key) != NULL) {
			free(key);
			return ini_error(f, lineno, cause, "duplicate key");
		}
		cur->kv = xreallocarray(cur->kv, cur->nkv + 1,
		    sizeof(*cur->kv));
		last = &cur->kv[cur->nkv++];
		last->key = key;
		last->value = ini_trimdup(s + d + 1, slen - d - 1, 0);
		last->line = lineno;
		last_indent = indent;
	}
	*ret = f;
	return 0;
}

int
ini_load(const char *path, struct ini_file **ret, char **cause)
{
	struct stat	 st;
	struct buf	 b;
	ssize_t		 n;
	int		 fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			*ret = xcalloc(1, sizeof(**ret));
			(*ret)->path = xstrdup(path);
			return 0;
		}
		*cause = xprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || S_ISDIR(st.st_mode)) {
		*cause = xprintf("%s: %s", path, S_ISDIR(st.st_mode) ?
		    "is a directory" : strerror(errno));
		close(fd);
		return -1;
	}
	buf_init_secure(&b);		/* holds keys */
	for (;;) {
		buf_reserve(&b, 8192);
		n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			*cause = xprintf("%s: %s", path, strerror(errno));
			buf_freezero(&b);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		b.len += n;
		b.data[b.len] = '\0';
		if (b.len > CREDS_INI_MAX_SIZE) {
			*cause = xprintf("%s: larger than %d bytes", path,
			    CREDS_INI_MAX_SIZE);
			buf_freezero(&b);
			close(fd);
			return -1;
		}
	}
	close(fd);
	r = ini_parse(path, b.data != NULL ? b.data : "", b.len, ret, cause);
	buf_freezero(&b);
	return r;
}

void
ini_free(struct ini_file *f)
{
	size_t	 i, j;

	if (f == NULL)
		return;
	for (i = 0; i < f->nsec; i++) {
		for (j = 0; j < f->sec[i].nkv; j++) {
			free(f->sec[i].kv[j].key);
			freezero_str(f->sec[i].kv[j].value);
		}
		free(f->sec[i].kv);
		free(f->sec[i].name);
	}
	free(f->sec);
	free(f->path);
	free(f);
}

const struct ini_section *
ini_section(const struct ini_file *f, const char *name)
{
	size_t	 i;

	if (f == NULL)
		return NULL;
	for (i = 0; i < f->nsec; i++)
		if (strcmp(f->sec[i].name, name) == 0)
			return &f->sec[i];
	return NULL;
}

const char *
ini_get(const struct ini_section *s, const char *key)
{
	size_t	 i;

	if (s == NULL)
		return NULL;
	for (i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].key, key) == 0)
			return s->kv[i].value;
	return NULL;
}

/* ---- paths --------------------------------------------------------------- */

char *
creds_expand_path(const char *path)
{
	const char	*home;
	struct passwd	*pw;

	if (path[0] != '~' || (path[1] != '\0' && path[1] != '/'))
		return xstrdup(path);
	if ((home = creds_getenv("HOME")) == NULL) {
		if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL)
			return xstrdup(path);
		home = pw->pw_dir;
	}
	return xprintf("%s%s", home, path + 1);
}

/* ---- profiles ------------------------------------------------------------ */

struct profiles {
	struct ini_file	*cred;		/* [name] */
	struct ini_file	*cfg;		/* [default], [profile name] */
};

struct visit {
	const char	*name;
	struct visit	*up;
};

static void
prof_free(struct profiles *pr)
{
	ini_free(pr->cred);
	ini_free(pr->cfg);
	pr->cred = pr->cfg = NULL;
}

static char *
prof_path(const char *env, const char *dflt)
{
	const char	*v;

	if ((v = creds_getenv(env)) == NULL)
		v = dflt;
	return creds_expand_path(v);
}

static int
prof_load(struct profiles *pr, const char *cred_path, const char *cfg_path,
    char **cause)
{
	memset(pr, 0, sizeof(*pr));
	if (cred_path != NULL && ini_load(cred_path, &pr->cred, cause) != 0)
		return -1;
	if (cfg_path != NULL && ini_load(cfg_path, &pr->cfg, cause) != 0) {
		prof_free(pr);
		return -1;
	}
	return 0;
}

/* "[profile name]", "[profile "name"]", and "[default]" in the config. */
static const struct ini_section *
prof_cfg_section(const struct profiles *pr, const char *name)
{
	const struct ini_section	*s, *dflt = NULL;
	const char			*n;
	size_t				 i, len;

	if (pr->cfg == NULL)
		return NULL;
	for (i = 0; i < pr->cfg->nsec; i++) {
		s = &pr->cfg->sec[i];
		if (strcmp(s->name, "default") == 0) {
			dflt = s;
			continue;
		}
		if (strncmp(s->name, "profile", 7) != 0 ||
		    !isspace((unsigned char)s->name[7]))
			continue;
		for (n = s->name + 7; isspace((unsigned char)*n); n++)
			;
		len = strlen(n);
		if (len >= 2 && (n[0] == '"' || n[0] == '\'') &&
		    n[len - 1] == n[0]) {
			n++;
			len -= 2;
		}
		if (strlen(name) == len && strncmp(n, name, len) == 0)
			return s;
	}
	return strcmp(name, "default") == 0 ? dflt : NULL;
}

static int
prof_exists(const struct profiles *pr, const char *name)
{
	return ini_section(pr->cred, name) != NULL ||
	    prof_cfg_section(pr, name) != NULL;
}

/* A key of a profile: the credentials file wins over the config file. */
static const char *
prof_get(const struct profiles *pr, const char *name, const char *key)
{
	const char	*v;

	if ((v = ini_get(ini_section(pr->cred, name), key)) != NULL)
		return v;
	return ini_get(prof_cfg_section(pr, name), key);
}

/* Where a profile's key comes from, for messages. */
static const char *
prof_where(const struct profiles *pr, const char *name, const char *key)
{
	if (ini_get(ini_section(pr->cred, name), key) != NULL ||
	    (key == NULL && ini_section(pr->cred, name) != NULL))
		return pr->cred->path;
	return pr->cfg != NULL ? pr->cfg->path : "?";
}

/*
 * Static keys of a profile: 1 found (*ret_*), 0 none, -1 partial (*cause).
 * Pointers are borrowed from the files.
 */
static int
prof_keys(const struct profiles *pr, const char *name, const char **ret_akid,
    const char **ret_secret, const char **ret_token, const char **ret_acct,
    char **cause)
{
	const char	*akid, *secret, *token;

	akid = prof_get(pr, name, "aws_access_key_id");
	secret = prof_get(pr, name, "aws_secret_access_key");
	if ((token = prof_get(pr, name, "aws_session_token")) == NULL)
		token = prof_get(pr, name, "aws_security_token");
	if (akid != NULL && *akid == '\0')
		akid = NULL;
	if (secret != NULL && *secret == '\0')
		secret = NULL;
	if (akid == NULL && secret == NULL)
		return 0;
	if (akid == NULL || secret == NULL) {
		*cause = xprintf("profile \"%s\" in %s: %s without %s", name,
		    prof_where(pr, name, akid != NULL ? "aws_access_key_id" :
		    "aws_secret_access_key"),
		    akid != NULL ? "aws_access_key_id" : "aws_secret_access_key",
		    akid != NULL ? "aws_secret_access_key" : "aws_access_key_id");
		return -1;
	}
	*ret_akid = akid;
	*ret_secret = secret;
	*ret_token = token != NULL && *token != '\0' ? token : NULL;
	*ret_acct = prof_get(pr, name, "aws_account_id");
	return 1;
}

/*
 * Static keys from files, read again at every fetch (the first one and
 * after creds_invalidate()), so keys rotated in the file are picked up
 * after an ExpiredToken without a restart.
 */
struct file_static {
	char	*cred_path;
	char	*cfg_path;	/* NULL: credentials file only */
	char	*profile;
};

static void
file_static_fetch(struct creds_provider *p)
{
	struct file_static	*fs = p->data;
	struct profiles		 pr;
	struct aws_creds	*c;
	const char		*akid, *secret, *token, *acct;
	char			*cause = NULL;
	int			 r;

	if (prof_load(&pr, fs->cred_path, fs->cfg_path, &cause) != 0) {
		creds_fetch_done(p, NULL, cause);
		free(cause);
		return;
	}
	r = prof_keys(&pr, fs->profile, &akid, &secret, &token, &acct, &cause);
	if (r == 0)
		cause = xprintf("profile \"%s\" in %s has no "
		    "aws_access_key_id/aws_secret_access_key any more",
		    fs->profile, fs->cred_path);
	if (r != 1) {
		prof_free(&pr);
		creds_fetch_done(p, NULL, cause);
		free(cause);
		return;
	}
	c = creds_new(akid, secret, token, 0);
	if (acct != NULL && *acct != '\0')
		c->account_id = xstrdup(acct);
	prof_free(&pr);
	creds_fetch_done(p, c, NULL);
}

static void
file_static_free(void *data)
{
	struct file_static	*fs = data;

	free(fs->cred_path);
	free(fs->cfg_path);
	free(fs->profile);
	free(fs);
}

static const struct creds_ops file_static_ops = {
	.kind = "shared-file",
	.fetch = file_static_fetch,
	.free = file_static_free,
};

static const struct creds_ops creds_dir_ops = {
	.kind = "credentials-directory",
	.fetch = file_static_fetch,
	.free = file_static_free,
};

static struct creds_provider *
file_static_new(const struct creds_ops *ops, const char *name,
    const char *cred_path, const char *cfg_path, const char *profile,
    struct event_base *base)
{
	struct file_static	*fs;

	fs = xcalloc(1, sizeof(*fs));
	fs->cred_path = xstrdup(cred_path);
	fs->cfg_path = xstrdup_or_null(cfg_path);
	fs->profile = xstrdup(profile);
	return creds_provider_new(ops, fs, name, base);
}

struct prof_state {
	const struct creds_ctx	*ctx;
	struct profiles		 pr;
	char			*cred_path;
	char			*cfg_path;
};

static struct creds_provider *prof_resolve(struct prof_state *,
    const char *, struct visit *, char **);

static struct creds_provider *
prof_static(struct prof_state *st, const char *name, char **cause)
{
	const char	*akid, *secret, *token, *acct;
	char		*pname;
	struct creds_provider *p;

	switch (prof_keys(&st->pr, name, &akid, &secret, &token, &acct,
	    cause)) {
	case -1:
		return NULL;
	case 0:
		return NULL;
	}
	pname = xprintf("profile:%s", name);
	p = file_static_new(&file_static_ops, pname, st->cred_path,
	    st->cfg_path, name, st->ctx->base);
	free(pname);
	return p;
}

static struct creds_provider *
prof_credential_source(struct prof_state *st, const char *name,
    const char *cs, char **cause)
{
	struct creds_provider	*p = NULL;
	const char		*where;

	where = prof_where(&st->pr, name, "credential_source");
	if (strcmp(cs, "Environment") == 0) {
		if ((p = creds_from_env()) == NULL)
			*cause = xprintf("profile \"%s\" in %s: "
			    "credential_source Environment but "
			    "AWS_ACCESS_KEY_ID is not set", name, where);
	} else if (strcmp(cs, "Ec2InstanceMetadata") == 0) {
		if ((p = creds_imds(st->ctx)) == NULL)
			*cause = xprintf("profile \"%s\" in %s: "
			    "credential_source Ec2InstanceMetadata but "
			    "AWS_EC2_METADATA_DISABLED is true", name, where);
	} else if (strcmp(cs, "EcsContainer") == 0) {
		if ((p = creds_container(st->ctx)) == NULL)
			*cause = xprintf("profile \"%s\" in %s: "
			    "credential_source EcsContainer but neither "
			    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI nor "
			    "AWS_CONTAINER_CREDENTIALS_FULL_URI is set",
			    name, where);
	} else
		*cause = xprintf("profile \"%s\" in %s: unknown "
		    "credential_source \"%.40s\" (Environment, "
		    "Ec2InstanceMetadata or EcsContainer)", name, where, cs);
	return p;
}

static int
prof_duration(struct prof_state *st, const char *name, int *ret,
    char **cause)
{
	const char	*v;
	char		*end;
	long		 l;

	*ret = 0;
	if ((v = prof_get(&st->pr, name, "duration_seconds")) == NULL)
		return 0;
	errno = 0;
	l = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || l < 900 || l > 43200) {
		*cause = xprintf("profile \"%s\" in %s: duration_seconds must "
		    "be 900..43200", name, prof_where(&st->pr, name,
		    "duration_seconds"));
		return -1;
	}
	*ret = (int)l;
	return 0;
}

static char *
visit_path(struct visit *v, const char *last)
{
	struct buf	 b;
	const char	*names[64];
	size_t		 n = 0;

	for (; v != NULL && n < nitems(names); v = v->up)
		names[n++] = v->name;
	buf_init(&b);
	while (n > 0) {
		buf_printf(&b, "%s -> ", names[--n]);
	}
	buf_addstr(&b, last);
	return buf_release(&b);
}

/* The credentials a source_profile gives: static keys first (botocore). */
static struct creds_provider *
prof_source(struct prof_state *st, const char *src, struct visit *path,
    char **cause)
{
	struct creds_provider	*p;

	if (!prof_exists(&st->pr, src)) {
		*cause = xprintf("profile \"%s\": source_profile \"%s\" not "
		    "found in %s or %s", path->name, src,
		    st->cred_path, st->cfg_path);
		return NULL;
	}
	if ((p = prof_static(st, src, cause)) != NULL || *cause != NULL)
		return p;
	if ((p = prof_resolve(st, src, path, cause)) != NULL || *cause != NULL)
		return p;
	*cause = xprintf("profile \"%s\": source_profile \"%s\" has no "
	    "credentials", path->name, src);
	return NULL;
}

static struct creds_provider *
prof_role(struct prof_state *st, const char *name, const char *role_arn,
    struct visit *up, char **cause)
{
	struct creds_provider	*source = NULL, *p;
	struct visit		 here, *v;
	const char		*src, *cs, *wit, *ext, *region, *sess;
	const char		*akid, *secret, *token, *acct;
	char			*session, *trail;
	int			 duration;

	src = prof_get(&st->pr, name, "source_profile");
	cs = prof_get(&st->pr, name, "credential_source");
	wit = prof_get(&st->pr, name, "web_identity_token_file");
	ext = prof_get(&st->pr, name, "external_id");
	sess = prof_get(&st->pr, name, "role_session_name");
	if ((region = prof_get(&st->pr, name, "region")) == NULL)
		region = creds_env_region();
	if (prof_duration(st, name, &duration, cause) != 0)
		return NULL;
	if (sess != NULL && !creds_session_name_ok(sess)) {
		*cause = xprintf("profile \"%s\": role_session_name must be "
		    "2..64 characters of A-Z a-z 0-9 +=,.@_-", name);
		return NULL;
	}
	if (src != NULL && cs != NULL) {
		*cause = xprintf("profile \"%s\" in %s: source_profile and "
		    "credential_source are mutually exclusive", name,
		    prof_where(&st->pr, name, "role_arn"));
		return NULL;
	}

	if (src == NULL && cs == NULL && wit != NULL) {
		trail = xprintf("profile:%s", name);
		session = creds_session_name(st->ctx, sess);
		p = creds_web_identity_new(st->ctx, wit, role_arn, session,
		    duration, region, trail);
		free(session);
		free(trail);
		return p;
	}

	here.name = name;
	here.up = up;
	if (src != NULL) {
		for (v = &here; v != NULL; v = v->up) {
			if (strcmp(v->name, src) != 0)
				continue;
			/* A profile may use its own static keys. */
			if (v == &here && prof_keys(&st->pr, name, &akid,
			    &secret, &token, &acct, cause) == 1)
				break;
			free(*cause);
			trail = visit_path(&here, src);
			*cause = xprintf("source_profile cycle: %s", trail);
			free(trail);
			return NULL;
		}
		if ((source = prof_source(st, src, &here, cause)) == NULL)
			return NULL;
	} else if (cs != NULL) {
		if ((source = prof_credential_source(st, name, cs,
		    cause)) == NULL)
			return NULL;
	} else {
		*cause = xprintf("profile \"%s\" in %s: role_arn needs "
		    "source_profile, credential_source or "
		    "web_identity_token_file", name,
		    prof_where(&st->pr, name, "role_arn"));
		return NULL;
	}
	creds_provider_attach(source, st->ctx->base);
	session = creds_session_name(st->ctx, sess);
	p = creds_assume_role(st->ctx, source, role_arn, ext, session,
	    duration, region);
	free(session);
	return p;
}

/* NULL + *cause NULL: the profile holds no credentials. */
static struct creds_provider *
prof_resolve(struct prof_state *st, const char *name, struct visit *up,
    char **cause)
{
	const char	*v;

	*cause = NULL;
	if ((v = prof_get(&st->pr, name, "role_arn")) != NULL && *v != '\0')
		return prof_role(st, name, v, up, cause);
	if (prof_get(&st->pr, name, "web_identity_token_file") != NULL) {
		*cause = xprintf("profile \"%s\": web_identity_token_file "
		    "needs role_arn", name);
		return NULL;
	}
	return prof_static(st, name, cause);
}

/* Profile keys for credentials this code does not implement. */
static char *
prof_unsupported(struct prof_state *st, const char *name)
{
	if (prof_get(&st->pr, name, "credential_process") != NULL)
		return xprintf("profile \"%s\" in %s: credential_process is "
		    "not supported", name,
		    prof_where(&st->pr, name, "credential_process"));
	if (prof_get(&st->pr, name, "sso_session") != NULL ||
	    prof_get(&st->pr, name, "sso_start_url") != NULL)
		return xprintf("profile \"%s\": IAM Identity Center (SSO) "
		    "profiles are not supported", name);
	return NULL;
}

struct creds_provider *
creds_profile_resolve(const struct creds_ctx *ctx, const char *name,
    int must_exist, char **checked)
{
	struct prof_state	 st;
	struct creds_provider	*p = NULL;
	char			*cause = NULL, *pname;

	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.cred_path = prof_path("AWS_SHARED_CREDENTIALS_FILE",
	    "~/.aws/credentials");
	st.cfg_path = prof_path("AWS_CONFIG_FILE", "~/.aws/config");
	if (checked != NULL)
		*checked = xprintf("profile \"%s\" in %s and %s", name,
		    st.cred_path, st.cfg_path);
	pname = xprintf("profile:%s", name);

	if (prof_load(&st.pr, st.cred_path, st.cfg_path, &cause) != 0)
		goto out;
	if (!prof_exists(&st.pr, name)) {
		if (must_exist)
			cause = xprintf("profile \"%s\" not found in %s or %s",
			    name, st.cred_path, st.cfg_path);
		goto out;
	}
	if ((p = prof_resolve(&st, name, NULL, &cause)) == NULL &&
	    cause == NULL)
		cause = prof_unsupported(&st, name);
out:
	if (p == NULL && cause != NULL)
		p = creds_error_provider(pname, ctx->base, cause);
	if (p != NULL)
		creds_provider_attach(p, ctx->base);
	free(cause);
	free(pname);
	prof_free(&st.pr);
	free(st.cred_path);
	free(st.cfg_path);
	return p;
}

struct creds_provider *
creds_from_profile(const struct creds_ctx *ctx, const char *profile)
{
	if (profile == NULL && (profile = creds_getenv("AWS_PROFILE")) == NULL &&
	    (profile = creds_getenv("AWS_DEFAULT_PROFILE")) == NULL)
		profile = "default";
	return creds_profile_resolve(ctx, profile,
	    strcmp(profile, "default") != 0, NULL);
}

/* ---- $CREDENTIALS_DIRECTORY (systemd LoadCredential=) --------------- */

struct creds_provider *
creds_from_credentials_dir(const char *profile)
{
	struct profiles		 pr;
	struct creds_provider	*p;
	const char		*dir, *akid, *secret, *token, *acct;
	char			*path, *cause = NULL, *pname;
	int			 r;

	if ((dir = creds_getenv("CREDENTIALS_DIRECTORY")) == NULL)
		return NULL;
	path = xprintf("%s/aws-credentials", dir);
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		free(path);
		return NULL;
	}
	if (profile == NULL && (profile = creds_getenv("AWS_PROFILE")) == NULL &&
	    (profile = creds_getenv("AWS_DEFAULT_PROFILE")) == NULL)
		profile = "default";
	pname = xprintf("credentials-directory:%s", profile);

	if (prof_load(&pr, path, NULL, &cause) != 0)
		goto fail;
	if (ini_section(pr.cred, profile) == NULL) {
		cause = xprintf("%s: no [%s] section", path, profile);
		goto fail;
	}
	if (prof_get(&pr, profile, "role_arn") != NULL) {
		cause = xprintf("%s: [%s]: role_arn is not supported here "
		    "(only static keys); put roles in the config file",
		    path, profile);
		goto fail;
	}
	if ((r = prof_keys(&pr, profile, &akid, &secret, &token, &acct,
	    &cause)) != 1) {
		if (r == 0)
			cause = xprintf("%s: [%s] has no aws_access_key_id "
			    "and aws_secret_access_key", path, profile);
		goto fail;
	}
	prof_free(&pr);
	p = file_static_new(&creds_dir_ops, pname, path, NULL, profile, NULL);
	free(pname);
	free(path);
	return p;

fail:
	prof_free(&pr);
	p = creds_error_provider(pname, NULL, cause);
	free(cause);
	free(pname);
	free(path);
	return p;
}
