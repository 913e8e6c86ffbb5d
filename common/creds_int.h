/*
 * creds_int: the internals shared by creds.c (the provider core: cache,
 * refresh, coalescing, delivery), creds_file.c (INI files, profiles,
 * $CREDENTIALS_DIRECTORY), creds_http.c (container, IMDS) and creds_sts.c
 * (AssumeRole, AssumeRoleWithWebIdentity).  Tests include it for the hooks.
 *
 * A provider kind supplies fetch (start one fetch; finish it later, or at
 * once, with creds_fetch_done()), abort (stop an in-flight fetch without
 * finishing it) and free (its private data).  The core does everything
 * else, so every kind caches, refreshes and coalesces the same way.
 */
#ifndef CLOUDSAGA_CREDS_INT_H
#define CLOUDSAGA_CREDS_INT_H

#include <sys/queue.h>

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "creds.h"

struct event;

struct creds_ops {
	const char	*kind;		/* aws_creds.source: "environment" */
	void		(*fetch)(struct creds_provider *);
	void		(*abort)(struct creds_provider *);	/* may be NULL */
	void		(*free)(void *data);			/* may be NULL */
};

TAILQ_HEAD(creds_reqs, creds_req);

struct creds_provider {
	const struct creds_ops	*ops;
	void			*data;
	char			*name;
	struct event_base	*base;
	struct creds_provider	*source;	/* owned (AssumeRole) */

	struct aws_creds	*cached;
	time_t			 retry_at;	/* after a failed refresh */
	int			 fetching;
	unsigned long		 fetches;

	struct event		*ev;		/* delivery */
	struct creds_reqs	 waiting;	/* for the fetch in flight */
	struct creds_reqs	 ready;		/* answered, to deliver */
	unsigned long		 seq;
	int			 delivering;
	int			 dead;		/* freed while delivering */
};

struct creds_provider *creds_provider_new(const struct creds_ops *,
	    void *data, const char *name, struct event_base *);
/* A provider whose every get fails with error (a configured source that
 * cannot work: the chain reports it rather than trying the next one). */
struct creds_provider *creds_error_provider(const char *name,
	    struct event_base *, const char *error);
/*
 * End the fetch in flight: creds (ownership taken) or NULL and a readable
 * error.  May be called from inside ops->fetch; callbacks run later from
 * the event loop.
 */
void	 creds_fetch_done(struct creds_provider *, struct aws_creds *,
	    const char *error);

/* Static keys under a name and kind ("profile:dev", "profile"). */
struct creds_provider *creds_static_kind(const char *name, const char *kind,
	    const char *akid, const char *secret, const char *token);

/* The clock used for expiry decisions (tests inject their own). */
time_t	 creds_now(void);
void	 creds_set_clock(time_t (*)(void));	/* NULL = time() */
/*
 * Test hook: called from creds_unref() with every secret buffer (secret
 * key, session token) after it was wiped and before it is freed.
 */
extern void (*creds_wipe_hook)(const void *, size_t);

/* Wipe every string inside a JSON tree (before json_decref). */
void	 creds_json_wipe(json_t *);
/* Credentials from the usual JSON members (AccessKeyId, SecretAccessKey,
 * Token or SessionToken, Expiration, AccountId); NULL + *cause. */
struct aws_creds *creds_from_json(json_t *, const char *token_key,
	    int need_expiration, char **cause);
/* Is the environment variable set to "true" (any case)? */
int	 creds_env_true(const char *);
/* getenv, but NULL for unset and empty. */
const char *creds_getenv(const char *);
/* The region for STS: AWS_REGION, AWS_DEFAULT_REGION, or NULL. */
const char *creds_env_region(void);
/*
 * Read a small secret file (a token file) into wiped memory: *ret (free
 * with freezero_str(); NUL-terminated, *len bytes, which may hold NULs).
 * Reading stops once more than limit bytes came: the caller decides what
 * is too large.  -1 + *cause (strerror, allocated) when the file cannot be
 * opened or read; the caller names the file.
 */
int	 creds_read_secret_file(const char *path, size_t limit, char **ret,
	    size_t *len, char **cause);

/* ---- creds_file.c: INI parsing (shared credentials/config format) ---- */

struct ini_kv {
	char	*key;		/* lower case */
	char	*value;		/* wiped when freed */
	int	 line;
};

struct ini_section {
	char		*name;
	struct ini_kv	*kv;
	size_t		 nkv;
	int		 line;
};

struct ini_file {
	char			*path;
	struct ini_section	*sec;
	size_t			 nsec;
};

/* Parse text; errors are "path:line: message" and never quote values. */
int	 ini_parse(const char *path, const char *text, size_t len,
	    struct ini_file **ret, char **cause);
/* Load a file; a missing file is an empty one. */
int	 ini_load(const char *path, struct ini_file **ret, char **cause);
void	 ini_free(struct ini_file *);
const struct ini_section *ini_section(const struct ini_file *,
	    const char *name);
const char *ini_get(const struct ini_section *, const char *key);

/* "~/x" expanded with $HOME (or the passwd entry); allocated. */
char	*creds_expand_path(const char *);

/*
 * The provider for a profile of the shared files, or NULL when the profile
 * holds no credentials (or does not exist and !must_exist).  *checked gets
 * a description of what was looked at, for the chain's final message.
 */
struct creds_provider *creds_profile_resolve(const struct creds_ctx *,
	    const char *profile, int must_exist, char **checked);

/* ---- creds_http.c ---- */

/*
 * The answers of the metadata endpoints, parsed (pure functions: the
 * fetches use them, the fuzzer calls them).  The body is len bytes, not
 * necessarily NUL-terminated; errors never quote secrets.
 *
 * creds_imds_parse_token: the IMDSv2 session token (trailing white space
 * dropped; 1..CREDS_HTTP_TOKEN_MAX printable bytes), allocated.
 * creds_imds_parse_role: the first role of the listing (an IAM name: 1..128
 * of A-Z a-z 0-9 +=,.@_-), allocated.
 * creds_imds_parse_creds: the credential document (Code "Success" if any,
 * Expiration required).  creds_container_parse: the container answer.
 */
char	*creds_imds_parse_token(const char *body, size_t len, char **cause);
char	*creds_imds_parse_role(const char *body, size_t len, char **cause);
struct aws_creds *creds_imds_parse_creds(const char *body, size_t len,
	    char **cause);
struct aws_creds *creds_container_parse(const char *body, size_t len,
	    char **cause);

/*
 * IMDS, or NULL when AWS_EC2_METADATA_DISABLED=true.  note, if not NULL,
 * prefixes its errors (the chain says what else it looked at).
 */
struct creds_provider *creds_imds_new(const struct creds_ctx *,
	    const char *note);

/* ---- creds_sts.c ---- */

struct creds_provider *creds_web_identity_new(const struct creds_ctx *,
	    const char *token_file, const char *role_arn,
	    const char *session_name, int duration_s, const char *region,
	    const char *name);
/* "cloudsagad-<time>" or ctx->session_name; allocated. */
char	*creds_session_name(const struct creds_ctx *, const char *configured);
/* Check RoleSessionName: 2..64 of [A-Za-z0-9+=,.@_-]. */
int	 creds_session_name_ok(const char *);

#endif
