/*
 * scenario: the scenario framework.
 *
 * A scenario is a small state machine over the AWS client: it describes
 * calls (struct aws_request) and reacts to decoded results.  It never sees
 * curl, libevent, signing or credentials.  The framework around it runs one
 * scenario for one account as a *run* (128-bit run ID), discovers the
 * enabled regions (ec2:DescribeRegions, then include/exclude), fans calls
 * out concurrently, follows pagination, tracks every call for the final
 * table, turns every call that should reach CloudTrail into an
 * expectation, and tells its owner (the daemon or the one-shot CLI) about
 * calls, expectations, notes and the end of the run through callbacks.
 *
 * Calls are grouped: a struct run_group completes when every call in it
 * (including pages and calls added from its callbacks) has answered; its
 * done callback then starts the next step.  One region's failure is that
 * region's note; it never aborts the others.
 */
#ifndef CLOUDSAGA_SCENARIO_H
#define CLOUDSAGA_SCENARIO_H

#include <stddef.h>

#include <jansson.h>

#include "aws.h"

struct aws_client;
struct creds_provider;
struct run;
struct run_group;
struct custom_scenario;	/* custom.h: steps declared in the config */

/* ---- expectations: what the ledger verifies ------------------------- */

struct expectation {
	char		 run_id[33];
	char		*scenario;
	char		*account;	/* the config's account name */
	char		*account_id;	/* 12 digits when known, else NULL */
	char		*call_region;	/* where the call was sent */
	char		*region;	/* where the event lands (IAM: us-east-1) */
	char		*event_source;	/* "ec2.amazonaws.com" */
	char		*event_name;	/* "CreateSecurityGroup" */
	char		*error_code;	/* expected CloudTrail errorCode or NULL
					   ("Client.DryRunOperation") */
	char		*request_id;
	char		*access_key_id;
	char		*user_agent;	/* as sent: carries the run marker */
	int		 read_only;
	double		 fired_at;	/* wall clock, seconds */
};

struct expectation *expectation_new(void);
struct expectation *expectation_dup(const struct expectation *);
void	 expectation_free(struct expectation *);

/* ---- one call as the final table shows it ---------------------------- */

enum run_call_outcome {
	RUN_PERMITTED,	/* answered as intended: 2xx, DryRunOperation, the
			   expected safe-fail error */
	RUN_DENIED,	/* UnauthorizedOperation / AccessDenied */
	RUN_SKIPPED,	/* not sent: region not enabled, refused, halted */
	RUN_ERROR,	/* anything else */
};
const char	*run_call_outcome_name(enum run_call_outcome);

struct run_call {
	const char		*region;
	const char		*service;
	const char		*action;
	enum run_call_outcome	 outcome;
	enum aws_outcome	 aws_outcome;
	long			 status;
	const char		*error_code;
	const char		*error_message;
	const char		*request_id;
	const char		*note;		/* e.g. "region not enabled" */
	double			 fired_at;
	double			 elapsed_s;
	int			 expected;	/* produced an expectation */
};

/* ---- the scenario registry ------------------------------------------- */

struct scenario_def {
	const char		*name;		/* "network-changes" */
	const char		*summary;	/* one line */
	const char		*description;	/* paragraphs */
	const char *const	*services;	/* NULL-terminated */
	const char *const	*permissions;	/* "ec2:DescribeInstances" */
	const char *const	*mitre;		/* "T1578.005" */
	/* Human list of the calls, for --about: "ec2:CreateVpc (dry-run,
	 * each region without instances)". */
	const char *const	*calls;
	/* Entry point: the framework calls it once regions are known. */
	void			(*start)(struct run *);
	/* Scenario-private state, zeroed, freed with the run. */
	size_t			 state_size;
	/* Optional: free what the private state points to. */
	void			(*cleanup)(struct run *);
	int			 needs_regions;	/* discover regions first */
};

/* Built-ins (sorted by name), terminated by an entry with name == NULL. */
const struct scenario_def *scenario_builtins(void);
const struct scenario_def *scenario_find(const char *name);

/* ---- running --------------------------------------------------------- */

struct run_hooks {
	void	(*call)(struct run *, const struct run_call *, void *arg);
	void	(*expect)(struct run *, const struct expectation *, void *arg);
	void	(*note)(struct run *, const char *region, const char *msg,
		    void *arg);
	/* Progress: a region started/finished a step (for live display). */
	void	(*progress)(struct run *, const char *region, const char *step,
		    void *arg);
	/* The run ended; halted = stopped by a safety event. */
	void	(*done)(struct run *, int halted, void *arg);
	void	*arg;
};

struct run_opts {
	struct aws_client	*client;
	struct creds_provider	*creds;
	const char		*account;	/* config name, "default" */
	const char *const	*regions;	/* explicit list: skips discovery
						   (still filtered by exclude) */
	const char *const	*include;	/* filters on discovered regions */
	const char *const	*exclude;
	int			 allow_live;
	/* Custom scenario: its definition (see custom.h). */
	const struct custom_scenario *custom;
	/* Extra config for built-ins (e.g. imds-reveal targets); may be NULL. */
	json_t			*settings;
	const char		*run_id;	/* NULL: a fresh random one */
};

struct run	*run_start(const struct scenario_def *, const struct run_opts *,
		    const struct run_hooks *);
/* Stop: cancels pending calls; done() is called with halted = 1. */
void		 run_abort(struct run *, const char *why);
void		 run_free(struct run *);

const char	*run_id(const struct run *);
const char	*run_scenario(const struct run *);
const char	*run_account(const struct run *);
/* Regions in sorted order (after discovery and filters). */
const char *const *run_regions(const struct run *);
void		*run_state(struct run *);
json_t		*run_settings(const struct run *);
const struct custom_scenario *run_custom(const struct run *);

/* ---- helpers for scenario state machines ----------------------------- */

typedef void (*run_result_cb)(struct run *, const struct aws_request *,
	    struct aws_result *, void *arg);
typedef void (*run_group_cb)(struct run *, void *arg);

/* A new request tagged with the run (run ID, user agent marker). */
struct aws_request *run_request(struct run *, const char *service,
	    const char *action, const char *region, enum aws_safety);

struct run_group *run_group_new(struct run *, run_group_cb done, void *arg);
/* Send req (owned) in group g; cb may add more calls to g. */
void	 run_group_call(struct run_group *, struct aws_request *,
	    run_result_cb, void *arg);
/*
 * Paginate: send req, call page_cb for each page, follow the output token
 * (out_token in the decoded data, e.g. "nextToken", "NextToken",
 * "Marker" with IsTruncated) by setting in_token on a copy of the request;
 * stops when the token is absent or repeats.
 */
void	 run_group_paginate(struct run_group *, struct aws_request *,
	    const char *in_token, const char *out_token, run_result_cb page_cb,
	    void *arg);
/* No more calls will be added by the caller: fire done when all answer. */
void	 run_group_close(struct run_group *);

/* Record a note for a region ("skipped: region not enabled"). */
void	 run_note(struct run *, const char *region, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 run_progress(struct run *, const char *region, const char *step);
/* The scenario is finished (all its groups done). */
void	 run_finish(struct run *);

#endif
