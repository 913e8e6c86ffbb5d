/*
 * cli_iam: `cloudsagad --iam-policy[=permissions|trust] [-c FILE]`, the
 * least-privilege IAM policies for a configuration (cli_iam.h).
 *
 * Nothing here is a second list of permissions: the scenarios' come from
 * the registry (struct scenario_def.permissions: the built-ins' lists, the
 * custom scenarios' steps), the alerting checks' from the tables the
 * checks send (coverage_calls()), the verifier's is its one call.  What
 * this file knows is how an API call is named in IAM: the IAM prefix of
 * each service id and the few S3 operations authorised under another name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "aws.h"
#include "cli.h"
#include "cli_iam.h"
#include "client.h"
#include "config.h"
#include "coverage.h"
#include "creds.h"
#include "custom.h"
#include "http.h"
#include "log.h"
#include "org.h"
#include "scenario.h"
#include "util.h"
#include "xmalloc.h"

/* The verifier's one call (daemon/verify.c). */
#define CLI_IAM_VERIFY_CALL	"cloudtrail:LookupEvents"

/* Service ids (common/aws.c) whose IAM prefix is another word. */
static const struct {
	const char	*service;
	const char	*prefix;
} cli_iam_prefixes[] = {
	{ "monitoring", "cloudwatch" },
};

/*
 * S3 operations authorised under another action name (Service
 * Authorization Reference, Amazon S3: "ListBuckets" needs
 * s3:ListAllMyBuckets, the bucket-level PublicAccessBlock operations
 * s3:PutBucketPublicAccessBlock / s3:GetBucketPublicAccessBlock, Delete
 * included).
 */
static const struct {
	const char	*prefix;
	const char	*operation;
	const char	*action;
} cli_iam_renamed[] = {
	{ "s3", "ListBuckets", "ListAllMyBuckets" },
	{ "s3", "PutPublicAccessBlock", "PutBucketPublicAccessBlock" },
	{ "s3", "DeletePublicAccessBlock", "PutBucketPublicAccessBlock" },
	{ "s3", "GetPublicAccessBlock", "GetBucketPublicAccessBlock" },
};

#define CLI_IAM_NELEM(a)	(sizeof(a) / sizeof((a)[0]))

/* A growable, sorted, duplicate-free list of IAM actions. */
struct cli_iam_set {
	char	**v;
	size_t	 n;
};

static int
cli_iam_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cli_iam_has(const struct cli_iam_set *s, const char *action)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i], action) == 0)
			return 1;
	return 0;
}

static void
cli_iam_add(struct cli_iam_set *s, char *action)
{
	if (cli_iam_has(s, action)) {
		free(action);
		return;
	}
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = action;
	qsort(s->v, s->n, sizeof(*s->v), cli_iam_cmp);
}

static void
cli_iam_set_free(struct cli_iam_set *s)
{
	size_t	 i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

char *
cli_iam_action(const char *perm)
{
	const struct aws_service	*svc;
	const char			*colon, *prefix;
	char				*p, *action, *out;
	size_t				 len, i;

	/* "sts:GetCallerIdentity (no permission needed)": the first word. */
	len = strcspn(perm, " \t(");
	if ((colon = memchr(perm, ':', len)) == NULL || colon == perm ||
	    colon + 1 == perm + len)
		return NULL;
	p = xstrndup(perm, (size_t)(colon - perm));
	action = xstrndup(colon + 1, len - (size_t)(colon - perm) - 1);
	prefix = p;
	if ((svc = aws_service_find(p)) != NULL)
		prefix = svc->id;
	for (i = 0; i < CLI_IAM_NELEM(cli_iam_prefixes); i++)
		if (strcmp(prefix, cli_iam_prefixes[i].service) == 0)
			prefix = cli_iam_prefixes[i].prefix;
	for (i = 0; i < CLI_IAM_NELEM(cli_iam_renamed); i++)
		if (strcmp(prefix, cli_iam_renamed[i].prefix) == 0 &&
		    strcmp(action, cli_iam_renamed[i].operation) == 0) {
			free(action);
			action = xstrdup(cli_iam_renamed[i].action);
			break;
		}
	out = xprintf("%s:%s", prefix, action);
	free(p);
	free(action);
	return out;
}

static void
cli_iam_add_perm(struct cli_iam_set *s, const char *perm)
{
	char	*a;

	if ((a = cli_iam_action(perm)) != NULL)
		cli_iam_add(s, a);
}

/*
 * A custom step's request parameters can need a second permission: tags
 * on what a call creates are authorised separately (ec2:CreateTags for
 * TagSpecification, rds:AddTagsToResource for Tags).
 */
static void
cli_iam_add_custom(struct cli_iam_set *s, const struct custom_scenario *cs)
{
	const struct custom_step	*st;
	size_t				 i, j;

	for (i = 0; i < cs->nsteps; i++) {
		st = &cs->steps[i];
		for (j = 0; j < st->nparams; j++) {
			if (strcmp(st->svc->id, "ec2") == 0 &&
			    strncmp(st->params[j].key, "TagSpecification.",
			    17) == 0)
				cli_iam_add_perm(s, "ec2:CreateTags");
			else if (strcmp(st->svc->id, "rds") == 0 &&
			    strncmp(st->params[j].key, "Tags.", 5) == 0)
				cli_iam_add_perm(s, "rds:AddTagsToResource");
		}
	}
}

static void
cli_iam_add_def(struct cli_iam_set *s, const struct scenario_def *d)
{
	const char *const	*p;

	for (p = d->permissions; p != NULL && *p != NULL; p++)
		cli_iam_add_perm(s, *p);
}

/* The configuration: the -c file, or the defaults (no schedule). */
static struct config *
cli_iam_config(const struct cli_opts *o)
{
	struct config	*cfg;
	char		*cause = NULL;
	int		 r;

	if (o->config_given)
		r = config_load(o->config_file, &cfg, &cause);
	else
		r = config_load_string("", "(defaults)", &cfg, &cause);
	if (r == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return NULL;
	}
	return cfg;
}

/* The scenarios' permissions: the enabled schedule entries' scenarios,
 * or, without a schedule, every built-in and custom scenario. */
static void
cli_iam_scenarios(const struct config *cfg, struct cli_iam_set *s)
{
	const struct scenario_def	*d;
	const struct custom_scenario	*cs;
	size_t				 i, enabled = 0;

	if (cfg->nentries == 0) {
		for (d = scenario_builtins(); d->name != NULL; d++)
			cli_iam_add_def(s, d);
		for (i = 0; i < cfg->ncustoms; i++) {
			cli_iam_add_def(s, custom_def(cfg->customs[i].scenario));
			cli_iam_add_custom(s, cfg->customs[i].scenario);
		}
		return;
	}
	for (i = 0; i < cfg->nentries; i++) {
		const struct config_entry *e = &cfg->entries[i];

		if (!e->enabled) {
			fprintf(stderr, "cloudsagad: schedule entry %s is "
			    "disabled: the permissions of %s are left out\n",
			    e->name, e->scenario);
			continue;
		}
		enabled++;
		if ((d = scenario_find(e->scenario)) != NULL) {
			cli_iam_add_def(s, d);
			continue;
		}
		if ((cs = custom_find(cfg->custom_list, e->scenario)) != NULL) {
			cli_iam_add_def(s, custom_def(cs));
			cli_iam_add_custom(s, cs);
		}
	}
	if (enabled == 0)
		fprintf(stderr, "cloudsagad: every schedule entry is "
		    "disabled: no scenario permissions\n");
}

/* One Allow statement; actions already in an earlier one are left out. */
static void
cli_iam_statement(json_t *stmts, const char *sid, struct cli_iam_set *s,
    struct cli_iam_set *seen)
{
	json_t	*actions = json_array();
	size_t	 i;

	for (i = 0; i < s->n; i++) {
		if (cli_iam_has(seen, s->v[i]))
			continue;
		json_array_append_new(actions, json_string(s->v[i]));
		cli_iam_add(seen, xstrdup(s->v[i]));
	}
	if (json_array_size(actions) == 0) {
		json_decref(actions);
		return;
	}
	json_array_append_new(stmts, json_pack("{s:s, s:s, s:o, s:s}",
	    "Sid", sid, "Effect", "Allow", "Action", actions,
	    "Resource", "*"));
}

/*
 * Organisations (daemon/org.c): the account that lists an organisation
 * needs organizations:ListAccounts and sts:AssumeRole on its members' role
 * (every member role also needs the statements above).
 */
static void
cli_iam_org(const struct config *cfg, json_t *stmts)
{
	const struct config_account	*a;
	json_t				*roles = NULL;
	const char			*part;
	size_t				 i;

	for (i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		if (a->org == NULL || a->org->role_name == NULL)
			continue;
		if (roles == NULL)
			roles = json_array();
		part = cfg->aws.partition != NULL ? cfg->aws.partition : "aws";
		json_array_append_new(roles, json_sprintf("arn:%s:iam::*:role/%s",
		    part, a->org->role_name));
	}
	if (roles == NULL)
		return;
	json_array_append_new(stmts, json_pack("{s:s, s:s, s:[s], s:s}",
	    "Sid", "OrganizationDiscovery", "Effect", "Allow", "Action",
	    "organizations:ListAccounts", "Resource", "*"));
	json_array_append_new(stmts, json_pack("{s:s, s:s, s:[s], s:o}",
	    "Sid", "OrganizationMembers", "Effect", "Allow", "Action",
	    "sts:AssumeRole", "Resource", roles));
}

json_t *
cli_iam_permissions(const struct config *cfg)
{
	struct coverage_params	 cp;
	struct cli_iam_set	 scen = { NULL, 0 }, ver = { NULL, 0 };
	struct cli_iam_set	 cov = { NULL, 0 }, seen = { NULL, 0 };
	const char		**calls;
	json_t			*stmts;
	size_t			 i;

	cli_iam_scenarios(cfg, &scen);
	cli_iam_add_perm(&ver, CLI_IAM_VERIFY_CALL);
	coverage_params_default(&cp);
	cp.eventbridge = cfg->coverage.eventbridge;
	cp.guardduty = cfg->coverage.guardduty;
	cp.metric_filters = cfg->coverage.metric_filters;
	calls = coverage_calls(&cp);
	for (i = 0; calls[i] != NULL; i++)
		cli_iam_add_perm(&cov, calls[i]);
	free(calls);

	stmts = json_array();
	cli_iam_statement(stmts, "Verification", &ver, &seen);
	cli_iam_statement(stmts, "Scenarios", &scen, &seen);
	cli_iam_statement(stmts, "AlertCoverage", &cov, &seen);
	cli_iam_org(cfg, stmts);
	cli_iam_set_free(&scen);
	cli_iam_set_free(&ver);
	cli_iam_set_free(&cov);
	cli_iam_set_free(&seen);
	return json_pack("{s:s, s:o}", "Version", "2012-10-17",
	    "Statement", stmts);
}

/* "arn:aws-cn:iam::..." -> "aws-cn" into buf. */
static const char *
cli_iam_partition(const char *arn, char *buf, size_t len)
{
	size_t	 n;

	if (strncmp(arn, "arn:", 4) != 0 ||
	    (n = strcspn(arn + 4, ":")) == 0 || n >= len)
		return "aws";
	memcpy(buf, arn + 4, n);
	buf[n] = '\0';
	return buf;
}

json_t *
cli_iam_trust(const struct config_account *a, const char *caller_account)
{
	json_t	*stmt;
	char	 part[32], *root;

	root = xprintf("arn:%s:iam::%s:root", cli_iam_partition(a->role_arn,
	    part, sizeof(part)), caller_account);
	stmt = json_pack("{s:s, s:{s:s}, s:s}", "Effect", "Allow",
	    "Principal", "AWS", root, "Action", "sts:AssumeRole");
	free(root);
	if (a->external_id != NULL)
		json_object_set_new(stmt, "Condition", json_pack("{s:{s:s}}",
		    "StringEquals", "sts:ExternalId", a->external_id));
	return json_pack("{s:s, s:[o]}", "Version", "2012-10-17",
	    "Statement", stmt);
}

/* ---- the account of the daemon's own credentials ----------------------- */

struct cli_iam_whoami {
	int	 done;
	char	*account;
	char	*error;
};

static void
cli_iam_whoami_done(const struct aws_request *req, struct aws_result *res,
    void *arg)
{
	struct cli_iam_whoami	*w = arg;
	const char		*acct;
	char			*why;

	w->done = 1;
	if (res->outcome == AWS_OK &&
	    (acct = aws_json_str(res->data, "Account")) != NULL &&
	    strlen(acct) == 12 && strspn(acct, "0123456789") == 12) {
		w->account = xstrdup(acct);
		return;
	}
	if (res->outcome == AWS_OK) {
		w->error = xstrdup("sts:GetCallerIdentity answered no 12-digit "
		    "account ID");
		return;
	}
	why = aws_result_describe(res);
	w->error = xprintf("sts:GetCallerIdentity answered %s", why);
	free(why);
}

/*
 * sts:GetCallerIdentity with the daemon's own credentials (the chain the
 * daemon uses; a role account's role is assumed with them), through the
 * configured endpoints.  The account ID, or NULL and *cause.
 */
static char *
cli_iam_caller_account(const struct cli_opts *o, const struct config *cfg,
    char **cause)
{
	struct event_base	*base;
	struct http_engine	*http;
	struct aws_client	*client;
	struct aws_client_opts	 copts;
	struct creds_provider	*creds;
	struct creds_ctx	 cctx;
	struct cli_iam_whoami	 w;
	const char		*region;

	if ((region = getenv("AWS_REGION")) == NULL || *region == '\0')
		region = getenv("AWS_DEFAULT_REGION");
	if (region == NULL || *region == '\0')
		region = "us-east-1";
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	http = http_engine_new(base, NULL);
	memset(&copts, 0, sizeof(copts));
	copts.endpoints.partition = cfg->aws.partition;
	copts.endpoints.endpoint_url = cfg->aws.endpoint_url;
	copts.endpoints.explicit_url = o->endpoint_url;
	copts.endpoints.service_urls = (const char *const *)
	    cfg->aws.service_urls;
	client = aws_client_new(base, http, &copts);
	memset(&cctx, 0, sizeof(cctx));
	cctx.base = base;
	cctx.http = http;
	cctx.sts = aws_client_sts(client);
	creds = creds_default_chain(&cctx, o->profile != NULL ? o->profile :
	    cfg->aws.profile);

	memset(&w, 0, sizeof(w));
	aws_client_send(client, creds, aws_request_new(aws_service_find("sts"),
	    "GetCallerIdentity", region), cli_iam_whoami_done, &w);
	while (!w.done)
		if (event_base_loop(base, EVLOOP_ONCE) != 0)
			break;
	creds_provider_free(creds);
	aws_client_free(client);
	http_engine_free(http);
	event_base_free(base);
	if (w.account == NULL)
		*cause = w.error != NULL ? w.error :
		    xstrdup("sts:GetCallerIdentity did not answer");
	return w.account;
}

/* ---- output ------------------------------------------------------------ */

static int
cli_iam_print(json_t *doc)
{
	char	*s;

	s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(doc);
	if (s == NULL)
		fatalx("json_dumps failed");
	printf("%s\n", s);
	free(s);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int
cli_iam_trust_cmd(const struct cli_opts *o, const struct config *cfg)
{
	const struct config_account	*a;
	json_t				*accts, *arns, *doc;
	char				*caller, *cause = NULL;
	size_t				 i, nroles = 0;

	if (o->account != NULL) {
		if ((a = config_account_find(cfg, o->account)) == NULL) {
			fprintf(stderr, "cloudsagad: unknown account \"%s\" "
			    "(not in %s)\n", o->account, cfg->path ?
			    cfg->path : "the config");
			return CLI_EXIT_USAGE;
		}
		if (a->role_arn == NULL) {
			fprintf(stderr, "cloudsagad: account %s has no "
			    "role_arn: it uses the daemon's own credentials, "
			    "no role to trust\n", a->name);
			return CLI_EXIT_USAGE;
		}
	}
	for (i = 0; i < cfg->naccounts; i++)
		if (cfg->accounts[i].role_arn != NULL)
			nroles++;
	if (nroles == 0) {
		fprintf(stderr, "cloudsagad: no account of %s has a role_arn: "
		    "no trust policy to print\n", cfg->path ? cfg->path :
		    "the configuration");
		return CLI_EXIT_USAGE;
	}
	if ((caller = cli_iam_caller_account(o, cfg, &cause)) == NULL) {
		fprintf(stderr, "cloudsagad: cannot tell which account the "
		    "daemon's own credentials belong to: %s\n", cause);
		free(cause);
		return CLI_EXIT_FAIL;
	}
	if (o->account != NULL) {
		doc = cli_iam_trust(config_account_find(cfg, o->account),
		    caller);
		free(caller);
		return cli_iam_print(doc);
	}
	accts = json_array();
	arns = json_array();
	for (i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		if (a->role_arn == NULL)
			continue;
		json_array_append_new(accts, json_pack("{s:s, s:s, s:o}",
		    "account", a->name, "role_arn", a->role_arn,
		    "trust_policy", cli_iam_trust(a, caller)));
		json_array_append_new(arns, json_string(a->role_arn));
	}
	doc = json_pack("{s:s, s:o, s:{s:s, s:[{s:s, s:s, s:s, s:o}]}}",
	    "caller_account", caller, "accounts", accts, "caller_policy",
	    "Version", "2012-10-17", "Statement", "Sid", "AssumeAccountRoles",
	    "Effect", "Allow", "Action", "sts:AssumeRole", "Resource", arns);
	free(caller);
	return cli_iam_print(doc);
}

int
cli_iam_policy(const struct cli_opts *o)
{
	struct config	*cfg;
	int		 rc;

	if ((cfg = cli_iam_config(o)) == NULL)
		return CLI_EXIT_USAGE;
	if (o->iam_policy != NULL && strcmp(o->iam_policy, "trust") == 0)
		rc = cli_iam_trust_cmd(o, cfg);
	else
		rc = cli_iam_print(cli_iam_permissions(cfg));
	config_free(cfg);
	return rc;
}
