/*
 * creds: asynchronous, cached AWS credential providers.
 *
 * Every provider hands out refcounted struct aws_creds.  Providers cache
 * what they fetched and refresh it 5 minutes before expiry; concurrent
 * requests during a fetch wait for the same fetch.  Secrets are wiped when
 * the last reference goes (explicit_bzero) and never logged.
 *
 * The default chain, in order (botocore's order, with systemd's
 * LoadCredential= added after the environment):
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *      AWS_SESSION_TOKEN (AWS_SECURITY_TOKEN), AWS_CREDENTIAL_EXPIRATION
 *   2. $CREDENTIALS_DIRECTORY/aws-credentials (shared-credentials format,
 *      systemd LoadCredential=), profile AWS_PROFILE or "default"
 *   3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      (+ AWS_ROLE_SESSION_NAME) -> STS AssumeRoleWithWebIdentity (unsigned)
 *   4. shared files: AWS_SHARED_CREDENTIALS_FILE (~/.aws/credentials),
 *      AWS_CONFIG_FILE (~/.aws/config), AWS_PROFILE; role_arn +
 *      source_profile / credential_source, external_id, role_session_name
 *   5. container: AWS_CONTAINER_CREDENTIALS_FULL_URI / _RELATIVE_URI,
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)
 *   6. EC2 IMDSv2: PUT /latest/api/token, then the role credentials;
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED
 * The first provider that is configured answers; one that is configured but
 * fails reports its error (the chain does not silently fall through to a
 * different identity).
 *
 * Direction: the AWS client (client.c) calls creds (creds_get() before
 * every signed call); creds never calls the client.  The STS calls of the
 * AssumeRole providers (creds_sts.c) go through struct creds_sts below,
 * an interface the owner injects in creds_ctx.sts; the client implements
 * it (aws_client_sts()).  So the files form no cycle:
 *   client.c -> creds.c -> providers (creds_file/http/sts.c) -> creds_sts
 *   interface (function pointers, set by whoever owns both).
 */
#ifndef CLOUDSAGA_CREDS_H
#define CLOUDSAGA_CREDS_H

#include <time.h>

struct event_base;
struct http_engine;

#define CREDS_REFRESH_MARGIN	300	/* seconds before expiry */

struct aws_creds {
	char	*access_key_id;
	char	*secret_access_key;
	char	*session_token;		/* NULL for long-term keys */
	time_t	 expiration;		/* 0 = does not expire */
	char	*account_id;		/* NULL if unknown */
	const char *source;		/* "environment", "imds", ... */
	int	 refs;
};

struct aws_creds *creds_new(const char *akid, const char *secret,
	    const char *token, time_t expiration);
struct aws_creds *creds_ref(struct aws_creds *);
void	 creds_unref(struct aws_creds *);

struct aws_call;
struct aws_request;
struct aws_result;
struct creds_provider;

/*
 * How the AssumeRole providers reach STS (see "Direction" above).  send:
 * start req (owned), signed with signer's credentials (NULL: unsigned, as
 * AssumeRoleWithWebIdentity), and call done later from the event loop,
 * never from inside send; the handle is good for cancel until done has
 * run.  cancel: done is not called.
 */
typedef void (*creds_sts_done)(const struct aws_request *,
	    struct aws_result *, void *arg);
struct creds_sts {
	void		 *owner;
	struct aws_call	*(*send)(void *owner, struct creds_provider *signer,
			    struct aws_request *, creds_sts_done, void *arg);
	void		 (*cancel)(struct aws_call *);
};

struct creds_ctx {
	struct event_base	*base;
	struct http_engine	*http;	/* IMDS, container endpoint */
	const struct creds_sts	*sts;	/* STS AssumeRole*, may be NULL */
	/* RoleSessionName when a profile has no role_session_name, e.g.
	 * "cloudsagad-<runid>"; NULL = "cloudsagad-<unix time>". */
	const char		*session_name;
};

struct creds_provider;
struct creds_req;

/*
 * creds is borrowed (creds_ref to keep it); error is NULL on success and a
 * readable message otherwise.  Always called from the event loop (or from
 * inside creds_provider_free()), never from inside creds_get().
 */
typedef void (*creds_cb)(struct aws_creds *creds, const char *error,
	    void *arg);

/*
 * Constructors return NULL when their source is not configured at all, and
 * otherwise a provider - one that fails with a readable message at every
 * get when the configuration is wrong (half-set variables, a profile that
 * does not exist, a source_profile cycle, a disallowed container host, no
 * STS transport (creds_ctx.sts), ...).  Provider names say where credentials come from:
 * "environment", "profile:dev", "assume-role:ARN<-profile:base", "imds".
 *
 * creds_static: never NULL.  creds_from_env: NULL unless AWS_ACCESS_KEY_ID
 * or AWS_SECRET_ACCESS_KEY is set; re-reads the variables at every fetch.
 * creds_from_credentials_dir: NULL unless the file exists; profile NULL =
 * AWS_PROFILE, AWS_DEFAULT_PROFILE or "default".  creds_from_profile: the
 * same profile default; NULL when the profile holds no credentials (or is
 * "default" and absent); static keys are re-read from the files after
 * creds_invalidate(); credential_process and SSO profiles are reported as
 * unsupported.  creds_web_identity: NULL unless
 * AWS_WEB_IDENTITY_TOKEN_FILE is set; the token file is read at every
 * fetch.  creds_container: NULL unless a _URI variable is set.
 * creds_imds: NULL when AWS_EC2_METADATA_DISABLED=true; honours
 * AWS_EC2_METADATA_V1_DISABLED, AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE,
 * AWS_METADATA_SERVICE_TIMEOUT and _NUM_ATTEMPTS.
 * creds_default_chain: never NULL; an explicit profile skips the
 * environment (as botocore does) and must exist, as must one named by
 * AWS_PROFILE; with nothing configured at all the provider's error lists
 * what was looked at.
 */
struct creds_provider *creds_static(const char *akid, const char *secret,
	    const char *token);
struct creds_provider *creds_from_env(void);
struct creds_provider *creds_from_credentials_dir(const char *profile);
struct creds_provider *creds_from_profile(const struct creds_ctx *,
	    const char *profile);
struct creds_provider *creds_web_identity(const struct creds_ctx *);
struct creds_provider *creds_container(const struct creds_ctx *);
struct creds_provider *creds_imds(const struct creds_ctx *);
struct creds_provider *creds_default_chain(const struct creds_ctx *,
	    const char *profile);
/*
 * STS AssumeRole on top of source (owned by the new provider).  region:
 * where STS is called (NULL = us-east-1).  session_name should carry the
 * run ID ("cloudsagad-<runid>"); NULL = ctx->session_name.  external_id
 * may be NULL; duration_s 0 = STS's default (1 h).  Bad arguments give a
 * provider that fails with the reason.
 */
struct creds_provider *creds_assume_role(const struct creds_ctx *,
	    struct creds_provider *source, const char *role_arn,
	    const char *external_id, const char *session_name,
	    int duration_s, const char *region);

/*
 * Providers made without a creds_ctx (creds_static, creds_from_env,
 * creds_from_credentials_dir) have no event base yet: attach one before the
 * first creds_get() (callers that get a provider from elsewhere may attach
 * every time; it is a no-op once a base is set).  Sources of a provider
 * (AssumeRole) are attached too.
 */
void	 creds_provider_attach(struct creds_provider *, struct event_base *);

/*
 * Ask for credentials.  Cached credentials are handed out until
 * CREDS_REFRESH_MARGIN before their expiry; then the next get fetches anew
 * (if that refresh fails while the old credentials are still valid, they
 * are used and the refresh is retried a little later).  Gets during a
 * fetch wait for that fetch.  The returned handle is valid until the
 * callback has run or creds_cancel(); cancel drops the callback only (the
 * fetch goes on and its result is cached).
 */
struct creds_req *creds_get(struct creds_provider *, creds_cb, void *arg);
void	 creds_cancel(struct creds_req *);
const char *creds_provider_name(const struct creds_provider *);
/* Forget the cached credentials (e.g. after ExpiredToken). */
void	 creds_invalidate(struct creds_provider *);
/*
 * Free a provider (and its source providers).  Callers still waiting in
 * creds_get() get their callback at once (from inside this call) with an
 * error; a provider's own in-flight fetch (STS call, HTTP request) is
 * cancelled.  Free providers before the STS transport (the aws_client)
 * they use.
 */
void	 creds_provider_free(struct creds_provider *);
/* Fetches started so far (diagnostics, tests). */
unsigned long creds_provider_fetches(const struct creds_provider *);

/* Account ID of an ARN ("arn:aws:iam::123456789012:role/x"), allocated,
 * or NULL when it names none. */
char	*creds_arn_account(const char *arn);

#endif
