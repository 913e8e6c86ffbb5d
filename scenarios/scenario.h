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
 * calls, expectations, notes, findings and the end of the run through
 * callbacks.
 *
 * Calls are grouped: a struct run_group completes when every call in it
 * (including pages, timers and calls added from its callbacks) has
 * answered and the group is closed; its done callback then starts the next
 * step.  One region's failure is that region's note; it never aborts the
 * others.  A region answering AuthFailure/OptInRequired is marked "not
 * enabled": later calls there are skipped without being sent.
 *
 * Safety: the client's guard refuses unsafe requests (they come back
 * AWS_REFUSED and show as "skipped"); the framework adds its own check that
 * a live call is only sent when the run allows live calls.  A DryRun call
 * answered 2xx (AWS_UNSAFE) is logged at LOG_CRIT and halts the run.
 *
 * Life cycle: every callback (call results, group done, timers, the done
 * hook) runs from the event loop, never from inside run_start(),
 * run_group_call() or run_group_close().  The owner may run_free() the run
 * from its done hook.
 */
#ifndef CLOUDSAGA_SCENARIO_H
#define CLOUDSAGA_SCENARIO_H

#include <stddef.h>

#include <jansson.h>

#include "aws.h"
#include "expectation.h"

struct event_base;
struct aws_client;
struct creds_provider;
struct run;
struct run_group;
struct custom_scenario;	/* custom.h: steps declared in the config */

/* ---- one call as the final table shows it ---------------------------- */

enum run_call_outcome {
	RUN_PERMITTED,	/* answered as intended: 2xx, DryRunOperation, the
			   expected safe-fail error */
	RUN_DENIED,	/* UnauthorizedOperation / AccessDenied */
	RUN_SKIPPED,	/* not sent: region not enabled, refused, halted */
	RUN_ERROR,	/* anything else */
};
#define RUN_NCALL_OUTCOMES	4
/*
 * The one name table of call outcomes ("permitted", "denied", "skipped",
 * "error"): the table of calls, the JSON call lines, the summary's
 * "calls" counts and the ledger's stored counts all use it.
 */
const char	*run_call_outcome_name(enum run_call_outcome);
enum run_call_outcome run_call_outcome_of(enum aws_outcome);

struct run_call {
	const char		*region;	/* where it was sent */
	const char		*service;
	const char		*action;
	const char		*detail;	/* target, e.g. "vpc-1234", or NULL */
	enum aws_safety		 safety;
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
	/* Went as the scenario intends: permitted, or skipped only because
	 * the region is not enabled.  Anything else fails --scenario. */
	int			 intended;
	unsigned		 seq;		/* issue order (for sorting) */
	int			 global;	/* global service (IAM) */
};

/* Sort calls deterministically: global first, then region, then issue
 * order within the region. */
void	 run_calls_sort(const struct run_call **, size_t);

/* A posture finding (imds-reveal, public-resources). */
struct run_finding {
	const char	*region;
	const char	*kind;		/* "imdsv1-allowed", "public-db-instance" */
	const char	*resource;	/* "i-0123...", "db-name" */
	const char	*detail;	/* "public IP 54.1.2.3" or NULL */
};

/* ---- the scenario registry ------------------------------------------- */

/*
 * One call of a scenario as the catalogue describes it (#11): --about
 * prints these, docs/CATALOGUE.md lists them.  What the call is to the
 * technique (role) and how we know CloudTrail records it (evidence, with
 * the source key of the catalogue research: "EC2-dry", "CT-rec", ...).
 */
struct scenario_call_info {
	const char		*service;	/* "ec2" */
	const char		*action;	/* "CreateVpc" */
	enum aws_safety		 safety;
	enum aws_role		 role;		/* signal or context */
	enum aws_evidence	 evidence;
	const char		*source;	/* evidence source key, or NULL */
	const char		*where;		/* "every region", "home region",
						   "global (us-east-1)" */
	const char		*target;	/* "trail cloudsaga-<runid>" or
						   NULL */
	const char		*permission;	/* IAM action, e.g.
						   "s3:PutLifecycleConfiguration";
						   NULL: service:action */
};

struct scenario_def {
	const char		*name;		/* "network-changes" */
	const char		*summary;	/* one line */
	const char		*description;	/* paragraphs */
	const char *const	*services;	/* NULL-terminated */
	const char *const	*permissions;	/* "ec2:DescribeInstances" */
	const char *const	*mitre;		/* "T1578.005 Modify Cloud ..." */
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
	const char		*settings_help;	/* --about: settings keys */
	/* The catalogue (#11): ATT&CK tactic ("Defense Evasion") and its ID
	 * ("TA0005"), the Stratus Red Team techniques this scenario
	 * exercises (NULL-terminated, may be NULL: not a Stratus technique),
	 * and every call described (terminated by service == NULL). */
	const char		*tactic;
	const char		*tactic_id;
	const char *const	*stratus;
	const struct scenario_call_info *call_info;
};

/* Built-ins (sorted by name), terminated by an entry with name == NULL. */
const struct scenario_def *scenario_builtins(void);
const struct scenario_def *scenario_find(const char *name);
/* MITRE technique ID ("T1562.008") of a registry string
 * ("T1562.008 Impair Defenses: ...") into buf. */
void	 scenario_mitre_id(const char *, char *buf, size_t len);
/* Does a mitre string start with a technique ID ("T1234" or "T1234.567"),
 * alone or followed by a space and a name? */
int	 scenario_mitre_ok(const char *);

/* ---- running --------------------------------------------------------- */

struct run_hooks {
	/* A call answered or was skipped (pointer valid until run_free). */
	void	(*call)(struct run *, const struct run_call *, void *arg);
	/* A call should reach CloudTrail (valid during the call: dup it). */
	void	(*expect)(struct run *, const struct expectation *, void *arg);
	void	(*note)(struct run *, const char *region, const char *msg,
		    void *arg);
	/* Progress: a region started a step (for live display). */
	void	(*progress)(struct run *, const char *region, const char *step,
		    void *arg);
	/* A posture finding (valid during the call). */
	void	(*finding)(struct run *, const struct run_finding *,
		    void *arg);
	/* The run ended; halted = stopped by run_abort or a safety event. */
	void	(*done)(struct run *, int halted, void *arg);
	void	*arg;
};

struct run_opts {
	struct event_base	*base;		/* required: the client's loop */
	struct aws_client	*client;
	struct creds_provider	*creds;
	const char		*account;	/* config name, "default" */
	/* Where account-wide calls go (DescribeRegions, STS, S3, IAM);
	 * NULL: $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1. */
	const char		*home_region;
	const char *const	*regions;	/* explicit list: skips discovery
						   (still filtered by exclude) */
	/* Filters on discovered regions (fnmatch patterns, "eu-*").  A plain
	 * name in include that is not enabled gets a note. */
	const char *const	*include;
	const char *const	*exclude;
	int			 allow_live;
	/* Custom scenario: its definition (see custom.h). */
	const struct custom_scenario *custom;
	/* Extra config for built-ins (e.g. imds-reveal targets); may be NULL.
	 * Borrowed: must outlive the run. */
	json_t			*settings;
	const char		*run_id;	/* NULL: a fresh random one */
};

struct run	*run_start(const struct scenario_def *, const struct run_opts *,
		    const struct run_hooks *);
/* Stop: cancels pending calls (recorded as skipped); done() is called
 * from the loop with halted = 1.  No-op on a finished run. */
void		 run_abort(struct run *, const char *why);
void		 run_free(struct run *);

const char	*run_id(const struct run *);
const char	*run_scenario(const struct run *);
const char	*run_account(const struct run *);
const char	*run_account_id(const struct run *);	/* NULL if unknown */
void		 run_set_account_id(struct run *, const char *);
const char	*run_home_region(const struct run *);
/* Regions in sorted order (after discovery and filters). */
const char *const *run_regions(const struct run *);
size_t		 run_nregions(const struct run *);
void		*run_state(struct run *);
json_t		*run_settings(const struct run *);
const struct custom_scenario *run_custom(const struct run *);
int		 run_allow_live(const struct run *);
int		 run_halted(const struct run *);
int		 run_finished(const struct run *);
double		 run_started_at(const struct run *);	/* wall clock */

/* Everything recorded so far (valid until run_free). */
const struct run_call *const *run_calls(const struct run *, size_t *n);
const struct expectation *const *run_expectations(const struct run *,
	    size_t *n);

struct run_note {
	const char	*region;	/* NULL: the run as a whole */
	const char	*msg;
	int		 error;		/* counts as a failure */
};
const struct run_note *run_notes(const struct run *, size_t *n);

struct run_summary {
	size_t	 calls, permitted, denied, skipped, errors;
	size_t	 expectations, findings, failures;	/* failures: error notes */
	int	 halted;
	int	 ok;		/* every call intended, no error note */
};
void	 run_summarize(const struct run *, struct run_summary *);
/* Regions with an error call or an error note, sorted, NULL-terminated
 * (allocated: free the array and the strings). */
char	**run_failed_regions(const struct run *);

/* ---- helpers for scenario state machines ----------------------------- */

/*
 * Result callback: called for every answer, including errors (check
 * res->outcome: AWS_OK, AWS_PERMITTED, ...).  The callback may set
 * res->outcome (e.g. an answer that means "wait" is AWS_PERMITTED for the
 * table); the call's row is recorded after it returns.  Not called for
 * calls skipped without sending (region not enabled, live not allowed,
 * halted).
 */
typedef void (*run_result_cb)(struct run *, const struct aws_request *,
	    struct aws_result *, void *arg);
typedef void (*run_group_cb)(struct run *, void *arg);
typedef void (*run_timer_cb)(struct run *, void *arg);

/* A new request tagged with the run (run ID, user agent marker). */
struct aws_request *run_request(struct run *, const char *service,
	    const char *action, const char *region, enum aws_safety);

struct run_group *run_group_new(struct run *, run_group_cb done, void *arg);
/* Send req (owned) in group g; cb may add more calls to g. */
void	 run_group_call(struct run_group *, struct aws_request *,
	    run_result_cb, void *arg);
/* The same with a target shown in the table ("vpc-1234"). */
void	 run_group_call_detail(struct run_group *, struct aws_request *,
	    const char *detail, run_result_cb, void *arg);
/*
 * Paginate: send req, call page_cb for each page, follow the output token
 * (out_token in the decoded data, e.g. "nextToken", "NextToken",
 * "Marker") by setting in_token on a copy of the request; stops when the
 * token is absent or empty, or when "IsTruncated" is present and not
 * "true" (IAM).  A token that comes back twice stops with an error note
 * on the region (botocore's rule).
 */
void	 run_group_paginate(struct run_group *, struct aws_request *,
	    const char *in_token, const char *out_token, run_result_cb page_cb,
	    void *arg);
/* Run cb after seconds, as a member of g (backoff while polling). */
void	 run_group_after(struct run_group *, double seconds, run_timer_cb,
	    void *arg);
/* Keep g open for work that is not a call (e.g. a sub-chain per region):
 * every hold needs one release. */
void	 run_group_hold(struct run_group *);
void	 run_group_release(struct run_group *);
/* No more calls will be added by the caller: fire done when all answer
 * (from the loop, even when the group is empty). */
void	 run_group_close(struct run_group *);

/* Record a call that was not sent (outcome skipped) with a reason;
 * intended says whether skipping it is part of the plan. */
void	 run_skip(struct run *, const char *service, const char *action,
	    const char *region, const char *detail, int intended,
	    const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Record a note for a region (NULL: the run) ("skipped: has instances"). */
void	 run_note(struct run *, const char *region, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A note that is a failure: the region (or the run) did not complete. */
void	 run_error(struct run *, const char *region, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Record a posture finding. */
void	 run_finding(struct run *, const char *region, const char *kind,
	    const char *resource, const char *detail);
void	 run_progress(struct run *, const char *region, const char *step);
/* The region was marked not enabled by an earlier answer. */
int	 run_region_off(const struct run *, const char *region);
/* The scenario is finished (all its groups done). */
void	 run_finish(struct run *);

#endif
