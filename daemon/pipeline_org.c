/*
 * pipeline_org: an organisation account's fan-out (pipeline_start_org in
 * pipeline.h): list its ACTIVE accounts, then start one run per member
 * "ORG/ID" that is not excluded and falls in this instance's shard; a
 * listing that fails is a could-not-test record for the organisation.
 */
#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "config.h"
#include "creds.h"
#include "log.h"
#include "org.h"
#include "pipeline.h"
#include "pipeline_int.h"
#include "report.h"
#include "util.h"
#include "xmalloc.h"

/* An organisation's accounts being listed for a schedule entry. */
struct pipeline_org {
	TAILQ_ENTRY(pipeline_org) entry;
	struct pipeline		*p;
	struct org_list		*list;
	char			*org;		/* the config account's name */
	char			*scenario;
	char			*entry_name;
	char			**regions;
	json_t			*settings;
	struct pipeline_org_hooks hooks;
};

void
pipeline_orgs_init(struct pipeline *p)
{
	TAILQ_INIT(&p->orgs);
	p->seen = org_seen_new();
}

static void
pipeline_org_free(struct pipeline_org *po)
{
	size_t	 i;

	TAILQ_REMOVE(&po->p->orgs, po, entry);
	org_list_cancel(po->list);
	free(po->org);
	free(po->scenario);
	free(po->entry_name);
	for (i = 0; po->regions != NULL && po->regions[i] != NULL; i++)
		free(po->regions[i]);
	free(po->regions);
	json_decref(po->settings);
	free(po);
}

/*
 * The organisation could not be listed: nothing of it was tested.  A
 * could-not-test record for the organisation account (no run: a fresh
 * run ID names the record).
 */
static void
pipeline_org_failed(struct pipeline_org *po, const char *code,
    const char *msg)
{
	struct pipeline		*p = po->p;
	struct report_failure	 f;
	struct report_cnt	 c;
	char			 run_id[33];

	log_warnx("%s: organisation %s: %s; none of its accounts tested",
	    po->entry_name, po->org, msg);
	random_id128(run_id);
	memset(&f, 0, sizeof(f));
	f.service = "organizations";
	f.action = "ListAccounts";
	f.region = "global";
	f.outcome = "error";
	f.error_code = code;
	f.reason = msg;
	memset(&c, 0, sizeof(c));
	c.run_id = run_id;
	c.scenario = po->scenario;
	c.account = po->org;
	c.calls = 1;
	c.failures = &f;
	c.nfailures = 1;
	p->stats.could_not_test++;
	report_could_not_test(p->rp, &c);
}

static int
pipeline_org_excluded(const struct config_account *a, const char *id)
{
	size_t	 i;

	for (i = 0; a->org->exclude != NULL && a->org->exclude[i] != NULL; i++)
		if (strcmp(a->org->exclude[i], id) == 0)
			return 1;
	return 0;
}

/*
 * An account of the configuration that the same schedule entry tests
 * directly and whose role_arn is in member id: the member is tested once,
 * under that name, not a second time as ORG/ID.  NULL when none (an
 * account on the ambient credentials names no account ID here).
 */
static const char *
pipeline_org_direct(const struct config *cfg, const char *entry_name,
    const char *id)
{
	const struct config_entry	*en;
	const struct config_account	*a;
	char				*aid;
	size_t				 i, j;
	int				 same, listed;

	if ((en = config_entry_find(cfg, entry_name)) == NULL)
		return NULL;	/* one-shot: only the organisation */
	for (i = 0; i < cfg->naccounts; i++) {
		a = &cfg->accounts[i];
		if (a->org != NULL || a->role_arn == NULL)
			continue;
		aid = creds_arn_account(a->role_arn);
		same = aid != NULL && strcmp(aid, id) == 0;
		free(aid);
		if (!same)
			continue;
		listed = en->accounts == NULL || en->accounts[0] == NULL;
		for (j = 0; !listed && en->accounts[j] != NULL; j++)
			listed = strcmp(en->accounts[j], a->name) == 0;
		if (listed)
			return a->name;
	}
	return NULL;
}

static void
pipeline_org_listed(char *const *ids, size_t n, const char *code,
    const char *msg, void *arg)
{
	struct pipeline_org		*po = arg;
	struct pipeline			*p = po->p;
	const struct config		*cfg = p->cur->cfg;
	const struct config_account	*a;
	struct pipeline_run_opts	 o;
	struct pipeline_run		*pr;
	char				*name, *cause = NULL;
	const char			*direct;
	size_t				 i, started = 0, excluded = 0, other = 0;
	size_t				 twice = 0;

	po->list = NULL;		/* freed by org.c after this */
	if (msg != NULL) {
		pipeline_org_failed(po, code, msg);
		goto out;
	}
	org_seen_update(p->seen, po->org, ids, n);
	if ((a = config_account_find(cfg, po->org)) == NULL || a->org == NULL) {
		log_notice("%s: organisation %s is no longer configured",
		    po->entry_name, po->org);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (pipeline_org_excluded(a, ids[i])) {
			excluded++;
			continue;
		}
		if (!org_shard_takes(cfg->daemon.shard_k, cfg->daemon.shard_n,
		    ids[i])) {
			other++;
			continue;
		}
		if ((direct = pipeline_org_direct(cfg, po->entry_name,
		    ids[i])) != NULL) {
			log_info("%s: organisation %s: member %s is the "
			    "account \"%s\" of this entry: tested once, as %s",
			    po->entry_name, po->org, ids[i], direct, direct);
			twice++;
			continue;
		}
		name = xprintf("%s/%s", po->org, ids[i]);
		memset(&o, 0, sizeof(o));
		o.scenario = po->scenario;
		o.account = name;
		o.regions = (const char *const *)po->regions;
		o.settings = po->settings;
		o.entry = po->entry_name;
		pr = pipeline_start(p, &o, &cause);
		free(name);
		if (pr == NULL) {
			log_warnx("%s: cannot start %s for account %s/%s: %s",
			    po->entry_name, po->scenario, po->org, ids[i],
			    cause);
			free(cause);
			cause = NULL;
			continue;
		}
		started++;
		if (po->hooks.started != NULL)
			po->hooks.started(pr, po->hooks.arg);
	}
	log_info("%s: organisation %s: %zu active accounts, %zu runs "
	    "started, %zu excluded, %zu left to other shards, %zu tested "
	    "under their own account name", po->entry_name, po->org, n,
	    started, excluded, other, twice);
out:
	if (po->hooks.listed != NULL)
		po->hooks.listed(po->entry_name, started, po->hooks.arg);
	pipeline_org_free(po);
}

int
pipeline_start_org(struct pipeline *p, const struct pipeline_run_opts *o,
    const struct pipeline_org_hooks *hooks, char **cause)
{
	const struct config		*cfg = p->cur->cfg;
	const struct config_account	*a;
	struct pipeline_org		*po;
	struct creds_provider		*creds;
	size_t				 i, n = 0;

	if ((a = config_account_find(cfg, o->account)) == NULL ||
	    a->org == NULL) {
		xasprintf(cause, "\"%s\" is not an organisation account",
		    o->account);
		return -1;
	}
	creds = pipeline_account_provider(p, a->name);
	po = xcalloc(1, sizeof(*po));
	po->p = p;
	po->org = xstrdup(a->name);
	po->scenario = xstrdup(o->scenario);
	po->entry_name = xstrdup(o->entry != NULL ? o->entry : "one-shot");
	while (o->regions != NULL && o->regions[n] != NULL)
		n++;
	po->regions = xcalloc(n + 1, sizeof(*po->regions));
	for (i = 0; i < n; i++)
		po->regions[i] = xstrdup(o->regions[i]);
	if (o->settings != NULL)
		po->settings = json_deep_copy(o->settings);
	if (hooks != NULL)
		po->hooks = *hooks;
	TAILQ_INSERT_TAIL(&p->orgs, po, entry);
	po->list = org_list_accounts(p->client, creds, cfg->aws.partition,
	    pipeline_org_listed, po);
	return 0;
}

void
pipeline_orgs_cancel(struct pipeline *p)
{
	struct pipeline_org	*po;

	while ((po = TAILQ_FIRST(&p->orgs)) != NULL)
		pipeline_org_free(po);
}

void
pipeline_orgs_free(struct pipeline *p)
{
	pipeline_orgs_cancel(p);
	org_seen_free(p->seen);
	p->seen = NULL;
}
