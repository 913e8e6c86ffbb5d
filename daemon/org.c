/*
 * org: AWS Organizations discovery and sharding (org.h).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "aws.h"
#include "client.h"
#include "config.h"
#include "log.h"
#include "org.h"
#include "xmalloc.h"

/* ---- shard ----------------------------------------------------------- */

int
org_shard_parse(const char *s, int *k, int *n)
{
	char	*end;
	long	 a, b;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	a = strtol(s, &end, 10);
	if (*end != '/' || !isdigit((unsigned char)end[1]))
		return -1;
	b = strtol(end + 1, &end, 10);
	if (*end != '\0' || a < 1 || b < 1 || a > b || b > ORG_SHARD_MAX)
		return -1;
	*k = (int)a;
	*n = (int)b;
	return 0;
}

uint64_t
org_shard_hash(const char *id)
{
	unsigned char	 md[SHA256_DIGEST_LENGTH];
	uint64_t	 h = 0;
	int		 i;

	SHA256((const unsigned char *)id, strlen(id), md);
	for (i = 0; i < 8; i++)
		h = (h << 8) | md[i];
	return h;
}

int
org_shard_takes(int k, int n, const char *id)
{
	if (n <= 1)
		return 1;
	if (id == NULL)
		return k == 1;
	return org_shard_hash(id) % (uint64_t)n == (uint64_t)(k - 1);
}

int
org_id_valid(const char *s)
{
	size_t	 i;

	if (s == NULL)
		return 0;
	for (i = 0; i < ORG_ID_LEN; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return s[ORG_ID_LEN] == '\0';
}

const char *
org_account_id(const struct config_account *a, char *buf, size_t len)
{
	const char	*p;

	/* arn:PARTITION:iam::ID:role/... (shape checked by the config) */
	if (a->role_arn == NULL || len < ORG_ID_LEN + 1 ||
	    (p = strstr(a->role_arn, ":iam::")) == NULL)
		return NULL;
	memcpy(buf, p + 6, ORG_ID_LEN);
	buf[ORG_ID_LEN] = '\0';
	return org_id_valid(buf) ? buf : NULL;
}

int
org_shard_takes_account(const struct config *cfg,
    const struct config_account *a)
{
	char	 id[ORG_ID_LEN + 1];

	if (a->org != NULL)	/* its members are split one by one */
		return 1;
	return org_shard_takes(cfg->daemon.shard_k, cfg->daemon.shard_n,
	    org_account_id(a, id, sizeof(id)));
}

/* ---- members ------------------------------------------------------------ */

static char **
org_strv_dup(char *const *v)
{
	char	**r;
	size_t	 n = 0, i;

	while (v != NULL && v[n] != NULL)
		n++;
	r = xcalloc(n + 1, sizeof(*r));
	for (i = 0; i < n; i++)
		r[i] = xstrdup(v[i]);
	return r;
}

static void
org_strv_free(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

struct config_account *
org_member_account(const struct config *cfg, const char *name,
    const struct config_account **parent)
{
	const struct config_account	*o;
	struct config_account		*m;
	const char			*slash;
	char				*oname;

	if ((slash = strchr(name, '/')) == NULL || !org_id_valid(slash + 1))
		return NULL;
	oname = xstrndup(name, slash - name);
	o = config_account_find(cfg, oname);
	free(oname);
	if (o == NULL || o->org == NULL)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->name = xstrdup(name);
	m->role_arn = xprintf("arn:%s:iam::%s:role/%s", cfg->aws.partition,
	    slash + 1, o->org->role_name);
	m->external_id = xstrdup_or_null(o->org->external_id);
	m->session_duration = o->session_duration;
	m->include = org_strv_dup(o->include);
	m->exclude = org_strv_dup(o->exclude);
	m->line = o->line;
	if (parent != NULL)
		*parent = o;
	return m;
}

void
org_member_free(struct config_account *m)
{
	if (m == NULL)
		return;
	free(m->name);
	free(m->role_arn);
	freezero_str(m->external_id);
	org_strv_free(m->include);
	org_strv_free(m->exclude);
	free(m);
}

/* ---- ListAccounts -------------------------------------------------------- */

struct org_list {
	struct aws_client	*client;
	struct creds_provider	*creds;
	char			*region;
	org_list_cb		 cb;
	void			*arg;
	struct aws_call		*call;
	char			*token;
	int			 pages;
	char			**ids;
	size_t			 nids;
};

static void	org_list_send(struct org_list *);

static void
org_list_free(struct org_list *l)
{
	size_t	 i;

	for (i = 0; i < l->nids; i++)
		free(l->ids[i]);
	free(l->ids);
	free(l->token);
	free(l->region);
	free(l);
}

static int
org_id_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
org_list_finish(struct org_list *l, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
org_list_finish(struct org_list *l, const char *code, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg = NULL;

	if (fmt != NULL) {
		va_start(ap, fmt);
		xvasprintf(&msg, fmt, ap);
		va_end(ap);
		l->cb(NULL, 0, code, msg, l->arg);
	} else {
		qsort(l->ids, l->nids, sizeof(*l->ids), org_id_cmp);
		l->cb(l->ids, l->nids, NULL, NULL, l->arg);
	}
	free(msg);
	org_list_free(l);
}

static void
org_list_cb_aws(const struct aws_request *req, struct aws_result *res,
    void *arg)
{
	struct org_list	*l = arg;
	json_t		*list, *acct;
	const char	*id, *state, *token;
	size_t		 i;

	l->call = NULL;
	if (res->outcome != AWS_OK) {
		org_list_finish(l, res->error_code, "Organizations ListAccounts: "
		    "%s%s%s", res->error_code != NULL ? res->error_code :
		    aws_outcome_name(res->outcome), res->error_message != NULL ?
		    ": " : "", res->error_message != NULL ?
		    res->error_message : "");
		return;
	}
	if (!json_is_object(res->data) || (json_object_get(res->data,
	    "Accounts") != NULL && !json_is_array(json_object_get(res->data,
	    "Accounts")))) {
		org_list_finish(l, AWS_CODE_MALFORMED, "Organizations "
		    "ListAccounts: the answer has no list of Accounts");
		return;
	}
	list = aws_json_list(json_object_get(res->data, "Accounts"));
	json_array_foreach(list, i, acct) {
		id = aws_json_str(acct, "Id");
		/* State (2025) replaces Status; either says ACTIVE. */
		if ((state = aws_json_str(acct, "State")) == NULL)
			state = aws_json_str(acct, "Status");
		if (!org_id_valid(id)) {
			json_decref(list);
			org_list_finish(l, AWS_CODE_MALFORMED, "Organizations "
			    "ListAccounts: an account without a 12-digit Id");
			return;
		}
		if (state == NULL || strcmp(state, "ACTIVE") != 0) {
			log_debug("organisation account %s is %s: not tested",
			    id, state != NULL ? state : "of no state");
			continue;
		}
		l->ids = xreallocarray(l->ids, l->nids + 1, sizeof(*l->ids));
		l->ids[l->nids++] = xstrdup(id);
	}
	json_decref(list);
	token = aws_json_str(res->data, "NextToken");
	if (token != NULL && *token != '\0') {
		if (l->token != NULL && strcmp(l->token, token) == 0) {
			org_list_finish(l, NULL, "Organizations ListAccounts "
			    "returned the same page token twice");
			return;
		}
		if (++l->pages >= ORG_LIST_MAX_PAGES) {
			org_list_finish(l, NULL, "Organizations ListAccounts: "
			    "more than %d pages", ORG_LIST_MAX_PAGES);
			return;
		}
		free(l->token);
		l->token = xstrdup(token);
		org_list_send(l);
		return;
	}
	org_list_finish(l, NULL, NULL);
}

static void
org_list_send(struct org_list *l)
{
	struct aws_request	*req;

	req = aws_request_new(aws_service_find("organizations"),
	    "ListAccounts", l->region);
	aws_request_set(req, "MaxResults", json_integer(20));
	if (l->token != NULL)
		aws_request_set_str(req, "NextToken", l->token);
	l->call = aws_client_send(l->client, l->creds, req, org_list_cb_aws, l);
}

struct org_list *
org_list_accounts(struct aws_client *client, struct creds_provider *creds,
    const char *partition, org_list_cb cb, void *arg)
{
	struct org_list	*l;

	l = xcalloc(1, sizeof(*l));
	l->client = client;
	l->creds = creds;
	/* The signing region comes from the endpoint table; the request's
	 * region only picks the partition. */
	if (partition != NULL && strcmp(partition, "aws-cn") == 0)
		l->region = xstrdup("cn-northwest-1");
	else if (partition != NULL && strcmp(partition, "aws-us-gov") == 0)
		l->region = xstrdup("us-gov-west-1");
	else
		l->region = xstrdup("us-east-1");
	l->cb = cb;
	l->arg = arg;
	org_list_send(l);
	return l;
}

void
org_list_cancel(struct org_list *l)
{
	if (l == NULL)
		return;
	if (l->call != NULL)
		aws_call_cancel(l->call);
	org_list_free(l);
}

/* ---- membership changes ------------------------------------------------ */

struct org_seen_one {
	char	*org;
	char	**ids;		/* sorted */
	size_t	 n;
};

struct org_seen {
	struct org_seen_one	*v;
	size_t			 n;
};

struct org_seen *
org_seen_new(void)
{
	return xcalloc(1, sizeof(struct org_seen));
}

static void
org_seen_ids_free(struct org_seen_one *o)
{
	size_t	 i;

	for (i = 0; i < o->n; i++)
		free(o->ids[i]);
	free(o->ids);
	o->ids = NULL;
	o->n = 0;
}

void
org_seen_free(struct org_seen *s)
{
	size_t	 i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		org_seen_ids_free(&s->v[i]);
		free(s->v[i].org);
	}
	free(s->v);
	free(s);
}

void
org_seen_update(struct org_seen *s, const char *org, char *const *ids,
    size_t n)
{
	struct org_seen_one	*o = NULL;
	size_t			 i, a = 0, b = 0;
	int			 c;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->v[i].org, org) == 0)
			o = &s->v[i];
	if (o == NULL) {
		s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
		o = &s->v[s->n++];
		memset(o, 0, sizeof(*o));
		o->org = xstrdup(org);
		log_info("organisation %s: %zu active accounts", org, n);
	} else {
		/* Both sorted: one merge pass. */
		while (a < o->n || b < n) {
			if (a == o->n)
				c = 1;
			else if (b == n)
				c = -1;
			else
				c = strcmp(o->ids[a], ids[b]);
			if (c < 0)
				log_notice("organisation %s: account %s is no "
				    "longer listed as active; not tested any "
				    "more", org, o->ids[a++]);
			else if (c > 0)
				log_notice("organisation %s: account %s is "
				    "new; tested from now on", org, ids[b++]);
			else {
				a++;
				b++;
			}
		}
		org_seen_ids_free(o);
	}
	o->ids = xcalloc(n > 0 ? n : 1, sizeof(*o->ids));
	for (i = 0; i < n; i++)
		o->ids[i] = xstrdup(ids[i]);
	o->n = n;
}
