/*
 * creds_sts: credentials from STS - AssumeRole on top of another provider
 * (signed with the source's credentials) and AssumeRoleWithWebIdentity
 * (unsigned: sent with no credentials provider).  Both are sent through
 * the injected struct creds_sts (creds_ctx.sts; in the daemon the AWS
 * client, aws_client_sts()), so endpoints (AWS_ENDPOINT_URL_STS), retries
 * and decoding are the client's, while this file never calls client.c:
 * the client calls creds, never the other way (see creds.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "cloudsaga_limits.h"
#include "creds.h"
#include "creds_int.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"


struct sts_role {
	const struct creds_sts	*sts;
	char			*action;	/* "AssumeRole", ... */
	char			*role_arn;
	char			*external_id;
	char			*session_name;
	char			*region;
	int			 duration;
	char			*token_file;	/* web identity */
	struct aws_call		*call;
};

int
creds_session_name_ok(const char *s)
{
	size_t	 n;

	for (n = 0; s[n] != '\0'; n++) {
		if (!isalnum((unsigned char)s[n]) &&
		    strchr("+=,.@_-", s[n]) == NULL)
			return 0;
	}
	return n >= 2 && n <= 64;
}

char *
creds_session_name(const struct creds_ctx *ctx, const char *configured)
{
	if (configured != NULL && *configured != '\0')
		return xstrdup(configured);
	if (ctx->session_name != NULL && *ctx->session_name != '\0')
		return xstrdup(ctx->session_name);
	return xprintf("cloudsagad-%lld", (long long)time(NULL));
}

static void
sts_role_free(void *data)
{
	struct sts_role	*sr = data;

	if (sr == NULL)
		return;
	free(sr->action);
	free(sr->role_arn);
	free(sr->external_id);
	free(sr->session_name);
	free(sr->region);
	free(sr->token_file);
	free(sr);
}

static void
sts_abort(struct creds_provider *p)
{
	struct sts_role	*sr = p->data;

	if (sr->call != NULL) {
		sr->sts->cancel(sr->call);
		sr->call = NULL;
	}
}

static void
sts_done(const struct aws_request *req, struct aws_result *res, void *arg)
{
	struct creds_provider	*p = arg;
	struct sts_role		*sr = p->data;
	struct aws_creds	*c = NULL;
	char			*cause = NULL;

	sr->call = NULL;
	if (res->outcome != AWS_OK) {
		char *why = aws_result_describe(res);

		cause = xprintf("sts:%s %s: %s", sr->action, sr->role_arn,
		    why);
		free(why);
	} else {
		c = creds_from_json(aws_json_path(res->data, "Credentials"),
		    "SessionToken", 1, &cause);
		if (c == NULL) {
			char *m = xprintf("sts:%s %s: %s", sr->action,
			    sr->role_arn, cause);
			free(cause);
			cause = m;
		} else {
			c->account_id = creds_arn_account(aws_json_str(
			    res->data, "AssumedRoleUser.Arn"));
			log_debug("creds: %s: assumed %s as session %s",
			    p->name, sr->role_arn, sr->session_name);
		}
	}
	/* The decoded response held the secrets: wipe it before it goes. */
	creds_json_wipe(res->data);
	creds_fetch_done(p, c, cause);
	free(cause);
}

static int
sts_read_token(const char *path, char **ret, char **cause)
{
	char	*t, *why;
	size_t	 len;

	if (creds_read_secret_file(path, CREDS_WEB_IDENTITY_TOKEN_MAX + 16, &t,
	    &len, &why) == -1) {
		*cause = xprintf("web identity token file %s: %s", path, why);
		free(why);
		return -1;
	}
	while (len > 0 && isspace((unsigned char)t[len - 1]))
		t[--len] = '\0';
	if (len < 4 || len > CREDS_WEB_IDENTITY_TOKEN_MAX ||
	    strlen(t) != len) {
		*cause = xprintf("web identity token file %s: the token must "
		    "be 4..%d characters of text", path,
		    CREDS_WEB_IDENTITY_TOKEN_MAX);
		freezero(t, len + 1);
		return -1;
	}
	*ret = t;
	return 0;
}

static void
sts_fetch(struct creds_provider *p)
{
	struct sts_role			*sr = p->data;
	const struct aws_service	*svc;
	struct aws_request		*req;
	char				*token = NULL, *cause = NULL;

	if ((svc = aws_service_find("sts")) == NULL) {
		creds_fetch_done(p, NULL, "no STS service in the table");
		return;
	}
	if (sr->token_file != NULL &&
	    sts_read_token(sr->token_file, &token, &cause) != 0) {
		creds_fetch_done(p, NULL, cause);
		free(cause);
		return;
	}
	req = aws_request_new(svc, sr->action,
	    sr->region != NULL ? sr->region : "us-east-1");
	req->safety = AWS_SAFE_READ_ONLY;	/* changes nothing */
	aws_request_add(req, "RoleArn", "%s", sr->role_arn);
	aws_request_add(req, "RoleSessionName", "%s", sr->session_name);
	if (token != NULL)
		aws_request_add(req, "WebIdentityToken", "%s", token);
	if (sr->duration != 0)
		aws_request_add(req, "DurationSeconds", "%d", sr->duration);
	if (sr->external_id != NULL)
		aws_request_add(req, "ExternalId", "%s", sr->external_id);
	freezero_str(token);

	/* Web identity: no source, the call goes unsigned. */
	sr->call = sr->sts->send(sr->sts->owner, p->source, req, sts_done, p);
}

static const struct creds_ops assume_role_ops = {
	.kind = "assume-role",
	.fetch = sts_fetch,
	.abort = sts_abort,
	.free = sts_role_free,
};

static const struct creds_ops web_identity_ops = {
	.kind = "web-identity",
	.fetch = sts_fetch,
	.abort = sts_abort,
	.free = sts_role_free,
};

/* Common checks; NULL or an allocated message. */
static char *
sts_check(const struct creds_ctx *ctx, const char *what, const char *role_arn,
    const char *session_name, int duration_s)
{
	if (ctx->sts == NULL)
		return xprintf("%s needs STS, but no AWS client was given",
		    what);
	if (role_arn == NULL || strlen(role_arn) < 20 ||
	    strlen(role_arn) > 2048 || strncmp(role_arn, "arn:", 4) != 0)
		return xprintf("%s: the role ARN must be an ARN of 20..2048 "
		    "characters", what);
	if (!creds_session_name_ok(session_name))
		return xprintf("%s: the session name must be 2..64 "
		    "characters of A-Z a-z 0-9 +=,.@_-", what);
	if (duration_s != 0 && (duration_s < 900 || duration_s > 43200))
		return xprintf("%s: the duration must be 900..43200 seconds",
		    what);
	return NULL;
}

struct creds_provider *
creds_assume_role(const struct creds_ctx *ctx, struct creds_provider *source,
    const char *role_arn, const char *external_id, const char *session_name,
    int duration_s, const char *region)
{
	struct creds_provider	*p;
	struct sts_role		*sr;
	char			*name, *err, *dflt = NULL;
	size_t			 i, n;

	name = xprintf("assume-role:%s<-%s", role_arn != NULL ? role_arn :
	    "?", source != NULL ? creds_provider_name(source) : "?");
	if (session_name == NULL)
		session_name = dflt = creds_session_name(ctx, NULL);
	err = sts_check(ctx, "AssumeRole", role_arn, session_name, duration_s);
	if (err == NULL && source == NULL)
		err = xstrdup("AssumeRole needs a source of credentials");
	if (err == NULL && external_id != NULL) {
		n = strlen(external_id);
		for (i = 0; i < n; i++)
			if (!isalnum((unsigned char)external_id[i]) &&
			    strchr("+=,.@:/_-", external_id[i]) == NULL)
				break;
		if (n < 2 || n > 1224 || i < n)
			err = xstrdup("AssumeRole: the external ID must be "
			    "2..1224 characters of A-Z a-z 0-9 +=,.@:/_-");
	}
	if (err != NULL) {
		p = creds_error_provider(name, ctx->base, err);
		log_debug("creds: %s: %s", name, err);
	} else {
		sr = xcalloc(1, sizeof(*sr));
		sr->sts = ctx->sts;
		sr->action = xstrdup("AssumeRole");
		sr->role_arn = xstrdup(role_arn);
		sr->external_id = xstrdup_or_null(external_id);
		sr->session_name = xstrdup(session_name);
		sr->region = xstrdup_or_null(region);
		sr->duration = duration_s;
		p = creds_provider_new(&assume_role_ops, sr, name, ctx->base);
	}
	p->source = source;
	creds_provider_attach(p, ctx->base);
	free(err);
	free(dflt);
	free(name);
	return p;
}

struct creds_provider *
creds_web_identity_new(const struct creds_ctx *ctx, const char *token_file,
    const char *role_arn, const char *session_name, int duration_s,
    const char *region, const char *name)
{
	struct creds_provider	*p;
	struct sts_role		*sr;
	char			*err;

	err = sts_check(ctx, "web identity", role_arn, session_name,
	    duration_s);
	if (err == NULL && (token_file == NULL || *token_file == '\0'))
		err = xstrdup("web identity: no token file");
	if (err != NULL) {
		p = creds_error_provider(name, ctx->base, err);
		free(err);
		return p;
	}
	sr = xcalloc(1, sizeof(*sr));
	sr->sts = ctx->sts;
	sr->action = xstrdup("AssumeRoleWithWebIdentity");
	sr->role_arn = xstrdup(role_arn);
	sr->session_name = xstrdup(session_name);
	sr->region = xstrdup_or_null(region);
	sr->duration = duration_s;
	sr->token_file = creds_expand_path(token_file);
	return creds_provider_new(&web_identity_ops, sr, name, ctx->base);
}

struct creds_provider *
creds_web_identity(const struct creds_ctx *ctx)
{
	struct creds_provider	*p;
	const char		*file, *arn;
	char			*session, *name;

	if ((file = creds_getenv("AWS_WEB_IDENTITY_TOKEN_FILE")) == NULL)
		return NULL;
	arn = creds_getenv("AWS_ROLE_ARN");
	name = xprintf("web-identity:%s", arn != NULL ? arn : "?");
	if (arn == NULL) {
		p = creds_error_provider(name, ctx->base,
		    "AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN "
		    "is not");
		free(name);
		return p;
	}
	session = creds_session_name(ctx,
	    creds_getenv("AWS_ROLE_SESSION_NAME"));
	p = creds_web_identity_new(ctx, file, arn, session, 0,
	    creds_env_region(), name);
	free(session);
	free(name);
	return p;
}
