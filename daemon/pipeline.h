/*
 * pipeline: everything that happens to a run once something decided to
 * start it (the scheduler, or the one-shot CLI), wired in the one direction
 * of ARCHITECTURE.md:
 *
 *   run -> expectations -> ledger -> verifier -> coverage -> report
 *
 * It owns the engine (HTTP engine, AWS client with the LookupEvents limit),
 * the credentials of every configured account (the ambient chain, or an
 * AssumeRole on top of it; each run of a role account assumes the role
 * with its own session name "cloudsagad-<runid>", so its calls carry
 * session keys that belong to that run alone), the ledger in the state
 * directory, the verifier and the reporter.
 *
 * A config handed to the pipeline is kept alive (reference counted) as
 * long as a run started under it is running, so a reload never pulls
 * settings or custom scenarios from under a run.
 */
#ifndef CLOUDSAGA_PIPELINE_H
#define CLOUDSAGA_PIPELINE_H

#include <stdio.h>

#include "ledger.h"
#include "scenario.h"
#include "verify.h"

struct event_base;
struct config;
struct config_account;
struct config_entry;
struct custom_scenario;
struct pipeline;
struct pipeline_run;

struct pipeline_opts {
	struct event_base	*base;
	const char		*state_dir;	/* NULL: in-memory ledger */
	const char		*report_file;	/* NULL: no report file */
	FILE			*json;		/* every JSON object, or NULL */
	int			 log_records;	/* verdicts to journal/syslog */
	/* One-shot overrides (NULL/0: the config's). */
	const char		*endpoint_url;
	const char		*profile;
	int			 allow_live;
	int			 max_connections;
	/*
	 * One-shot verification (--verify-interval, --verify-timeout): the
	 * poll interval and the deadline (0: the config's; the interval is
	 * never longer than the deadline); verify_fail_fast: lookups refused
	 * for the credentials end their rows unverified at once.
	 */
	double			 verify_interval;
	double			 verify_timeout;
	int			 verify_fail_fast;
};

struct pipeline_hooks {
	/* A call of a run answered (progress, tables). */
	void	(*call)(struct pipeline_run *, const struct run_call *,
		    void *arg);
	void	(*progress)(struct pipeline_run *, const char *region,
		    const char *step, void *arg);
	void	(*finding)(struct pipeline_run *, const struct run_finding *,
		    void *arg);
	/* Every call of the run answered (verification goes on). */
	void	(*ran)(struct pipeline_run *, int halted, void *arg);
	/* A row got its final verdict (and coverage) and was reported. */
	void	(*verdict)(const struct ledger_entry *, void *arg);
	/*
	 * Every expectation of the run has its verdict and the summary is
	 * reported (with a state directory, after GuardDuty was asked about
	 * the run when coverage.guardduty is on): the run is over.  The
	 * pipeline_run is freed after this.
	 */
	void	(*verified)(struct pipeline_run *, const struct ledger_run *,
		    void *arg);
	/* The same for a run resumed from the state directory after a
	 * restart (no pipeline_run): its schedule entry is lr->entry. */
	void	(*resumed_verified)(const struct ledger_run *, void *arg);
	void	*arg;
};

/*
 * cfg: the configuration to take accounts, endpoints, verification and
 * coverage settings from (the pipeline takes a reference: see
 * pipeline_config_retain).  NULL + *cause when the state directory or the
 * report file cannot be opened.
 */
struct pipeline	*pipeline_new(const struct pipeline_opts *, struct config *cfg,
		    const struct pipeline_hooks *, char **cause);
/* Stop verifying, cancel runs, commit the ledger, free. */
void		 pipeline_free(struct pipeline *);

/*
 * A new configuration (reload): future runs and lookups use it; running
 * runs keep theirs.  The pipeline takes ownership of cfg and frees it
 * (and each older one) when no run uses it any more.
 */
void		 pipeline_set_config(struct pipeline *, struct config *cfg);
struct config	*pipeline_config(const struct pipeline *);

/* Change verification parameters (pipeline_opts' verify_* are the
 * one-shot CLI's way; this replaces them until the next config). */
void		 pipeline_set_verify(struct pipeline *,
		    const struct verify_params *);
/* The verification parameters in force: the config's with the overrides. */
const struct verify_params *pipeline_verify_params(const struct pipeline *);

/*
 * The names a run is started with, resolved as pipeline_start() does, for
 * callers that check them first (the one-shot CLI): a scenario is a
 * built-in, else one of custom (*csp set; csp may be NULL); an account is
 * a name of cfg, NULL meaning the first configured account.  NULL when
 * unknown.
 */
const struct scenario_def *pipeline_scenario_find(
		    struct custom_scenario *const *custom, const char *name,
		    const struct custom_scenario **csp);
const struct config_account *pipeline_account_find(const struct config *,
		    const char *name);

/*
 * Resume what an earlier process left: pending rows are verified again,
 * decided rows and summaries reported.  Returns the rows now watched.
 */
size_t		 pipeline_resume(struct pipeline *);

struct pipeline_run_opts {
	const char		*scenario;	/* built-in or custom name */
	const char		*account;	/* config account name; NULL:
						   the first account */
	const char *const	*regions;	/* explicit: skip discovery */
	const char *const	*include;	/* filters on discovered regions */
	json_t			*settings;	/* borrowed for the call */
	const char		*entry;		/* schedule entry name or NULL */
	/*
	 * One-shot: hold expectations until the run has ended, then verify
	 * them with the first poll one interval after the last call.
	 */
	int			 verify_after_run;
	int			 no_verify;	/* record calls only */
};

/* Start a run; NULL + *cause (unknown scenario or account). */
struct pipeline_run *pipeline_start(struct pipeline *,
		    const struct pipeline_run_opts *, char **cause);
/*
 * An organisation account (daemon/org.h): list its ACTIVE accounts
 * (Organizations ListAccounts, with the account's credentials), then start
 * one run per member "ORG/ID" that is not excluded and falls in this
 * instance's shard, with o's scenario, regions, settings and entry
 * (o->account names the organisation).  started runs once per run, at
 * once; listed once at the end with the number of runs started (0 when
 * the listing failed: then a could-not-test record for the organisation
 * has been queued).  No callback when the pipeline drains or is freed
 * first.  -1 + *cause when o->account is not an organisation.
 */
struct pipeline_org_hooks {
	void	(*started)(struct pipeline_run *, void *arg);
	void	(*listed)(const char *entry, size_t started, void *arg);
	void	*arg;
};
int		 pipeline_start_org(struct pipeline *,
		    const struct pipeline_run_opts *,
		    const struct pipeline_org_hooks *, char **cause);

/* Stop a run's calls (SIGINT in the one-shot CLI); verification goes on. */
void		 pipeline_abort(struct pipeline_run *, const char *why);

const char	*pipeline_run_id(const struct pipeline_run *);
const char	*pipeline_run_entry(const struct pipeline_run *);
/* The scenario run: valid until the ran hook returns with a state
 * directory (the daemon), until the run is verified without one (the
 * one-shot CLI); NULL after. */
struct run	*pipeline_run_run(struct pipeline_run *);
void		*pipeline_run_userdata(struct pipeline_run *);
void		 pipeline_run_set_userdata(struct pipeline_run *, void *);

/* Counts for STATUS= lines. */
struct pipeline_stats {
	size_t		 runs_active;		/* calls or verification */
	size_t		 pending;		/* rows awaiting a verdict */
	unsigned long	 logged, missing, unverified;
	unsigned long	 covered, uncovered;
	unsigned long	 could_not_test;	/* runs whose calls failed */
};
void		 pipeline_stats(const struct pipeline *, struct pipeline_stats *);
/* Where verification stands (the one-shot CLI's live progress). */
void		 pipeline_verify_progress(const struct pipeline *,
		    struct verify_progress *);

/*
 * SIGTERM: stop polling and the runs' calls; done runs once nothing is in
 * flight.  Pending rows stay in the ledger for the next start.
 */
void		 pipeline_drain(struct pipeline *, void (*done)(void *),
		    void *arg);

struct ledger	*pipeline_ledger(struct pipeline *);
/* SIGHUP: reopen the report file (it may have been rotated). */
void		 pipeline_reopen_report(struct pipeline *);

#endif
