/*
 * pipeline_int: what pipeline.c shares with the files that hold parts of
 * the pipeline (pipeline_org.c, an organisation's fan-out).  Not for
 * other modules: their surface is pipeline.h.
 */
#ifndef CLOUDSAGA_PIPELINE_INT_H
#define CLOUDSAGA_PIPELINE_INT_H

#include <sys/queue.h>

#include "coverage.h"
#include "history.h"
#include "pipeline.h"

struct creds_provider;
struct pipeline_org;

/* A configuration and the runs that still use it. */
struct cfgref {
	TAILQ_ENTRY(cfgref)	 entry;
	struct config		*cfg;
	int			 refs;
};

/* Long-lived credentials of one account (lookups, non-role runs). */
struct acct_creds {
	char			*name;
	struct creds_provider	*provider;
};

struct pipeline {
	struct event_base	*base;
	struct pipeline_opts	 opts;
	char			*endpoint_url;
	char			*profile;
	struct pipeline_hooks	 hooks;

	struct http_engine	*http;
	struct aws_client	*client;
	char			**service_urls;
	TAILQ_HEAD(, cfgref)	 cfgs;
	struct cfgref		*cur;
	struct acct_creds	*accts;
	size_t			 naccts;
	/* Providers of older configurations: freed with the pipeline (a
	 * lookup or run of the old config may still hold them). */
	struct creds_provider	**retired;
	size_t			 nretired;

	struct ledger		*ledger;
	struct reporter		*rp;
	struct history_params	 hp;
	struct history_ack	*acks;		/* of the current config */
	double			 keep_runs;
	struct verifier		*v;
	struct verify_params	 vp;
	struct coverage_ctx	*cov;
	struct coverage_params	 cp;
	struct metrics		*metrics;	/* NULL: in memory (one-shot) */

	TAILQ_HEAD(, pipeline_run) runs;
	struct pipeline_stats	 stats;
	TAILQ_HEAD(, pipeline_org) orgs;	/* listings in flight */
	struct org_seen		*seen;

	struct event		*prune_ev;
	int			 persistent;	/* a state directory */

	void			(*drained)(void *);
	void			*drained_arg;
	int			 draining;
};


/* pipeline.c: the long-lived credentials of a configured account or of a
 * discovered member "ORG/ID" (made on first use); NULL if unknown. */
struct creds_provider *pipeline_account_provider(struct pipeline *,
		    const char *name);

/* pipeline_org.c: the listings in flight and the accounts seen. */
void		 pipeline_orgs_init(struct pipeline *);
/* Listings in flight are dropped, without callbacks. */
void		 pipeline_orgs_cancel(struct pipeline *);
void		 pipeline_orgs_free(struct pipeline *);

#endif
