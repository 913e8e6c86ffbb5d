/*
 * coverage: would an alert have fired?  After the verifier found a call's
 * CloudTrail record (verdict `logged`), ask the account whether anything
 * would have alerted on it, and name what would carry the alert - or
 * report an alert gap.  Design and rules: docs/COVERAGE.md.
 *
 * Verdicts per logged row (ledger_set_coverage):
 *   covered    an enabled EventBridge rule on the default bus whose
 *              pattern matches the event (TestEventPattern) and that has
 *              at least one target; or (switch metric_filters) a metric
 *              filter on a logging trail's CloudWatch Logs group that
 *              matches the record (TestMetricFilter) with an alarm on its
 *              metric that has actions.  "rules" lists every such rule
 *              ({"name","targets"}; alarms as
 *              "metric-filter:<filter>/alarm:<alarm>").
 *   uncovered  every check completed and nothing would alert: an alert
 *              gap.  A rule that matches but has no targets, or an alarm
 *              without actions, alerts nobody: the reason names it.
 *   unknown    nothing covers it and some check could not be made
 *              (denied, throttled, endpoint down, no record).
 * Rows that are not `logged` are passed through untouched (COVERAGE_NONE).
 *
 * EventBridge: per (account, region) ListRules on the default bus (Limit
 * 100, paginated) and, for rules that matched, ListTargetsByRule
 * (paginated).  The event is the "AWS API Call via CloudTrail" envelope
 * built from the real record (coverage_envelope).  Rule states: DISABLED
 * sees nothing; ENABLED sees only events whose record is not readOnly;
 * ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS sees all.  Only rules that
 * can see the event are asked about; TestEventPattern is always asked
 * (the AWS matcher is the authority, nothing is decided locally).
 *
 * Caches (per cycle: coverage_cycle_reset() starts afresh, so rules made
 * since the last cycle are seen): listings per (account, region), targets
 * per rule, and TestEventPattern answers per question.  A question is the
 * pattern text plus the values of exactly the event fields the pattern
 * names (coverage_question_key): the matcher cannot look at anything
 * else, so two events that agree on those fields get the same answer in
 * any region and any account.  A pattern that names only source,
 * detail-type, detail.eventSource and detail.eventName is asked once per
 * event name per cycle, however many regions, accounts and runs.
 * Concurrent identical questions share one call.
 */
#ifndef CLOUDSAGA_COVERAGE_H
#define CLOUDSAGA_COVERAGE_H

#include <stddef.h>

#include <jansson.h>

#include "ledger.h"

struct event_base;
struct aws_client;
struct creds_provider;
struct coverage_ctx;

#define COVERAGE_DETAIL_TYPE	"AWS API Call via CloudTrail"
#define COVERAGE_STATE_ALL	"ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"

struct coverage_params {
	int	 eventbridge;	/* EventBridge rules on the default bus */
	int	 guardduty;	/* coverage_guardduty() looks at findings */
	int	 metric_filters; /* trail log group metric filters + alarms */
	double	 test_rate;	/* TestEventPattern and TestMetricFilter per
				   second per (credentials, region); 0 = 10 */
	int	 max_pages;	/* per listing; 0 = 100 */
	double	 max_age;	/* a cached answer older than this is fetched
				   again even within a cycle; 0 = 1 hour */
};
/* EventBridge on, GuardDuty and metric filters off, the defaults above. */
void	 coverage_params_default(struct coverage_params *);
void	 coverage_params_resolve(struct coverage_params *);

struct coverage_ctx *coverage_new(struct event_base *, struct aws_client *,
	    const struct coverage_params *);
/* Cancels everything in flight, without callbacks. */
void	 coverage_free(struct coverage_ctx *);
/* New switches (reload); also starts a new cycle. */
void	 coverage_set_params(struct coverage_ctx *, const struct coverage_params *);
/* EventBridge or metric filters on: coverage_check does something. */
int	 coverage_enabled(const struct coverage_ctx *);

/*
 * Check one row: for a `logged` row without coverage yet, set its
 * coverage (ledger_set_coverage; the caller commits) and call done; any
 * other row is passed to done unchanged.  done always runs from the event
 * loop, never from inside coverage_check().  creds is borrowed and must
 * live until done (the account's provider).
 */
typedef void (*coverage_done_cb)(struct ledger_entry *, void *arg);
void	 coverage_check(struct coverage_ctx *, struct creds_provider *,
	    struct ledger_entry *, coverage_done_cb, void *arg);

/*
 * The same for a batch (the verifier's verdicts hook): rows is copied;
 * done gets the same rows, in the same order, once every one is checked.
 * creds maps a row's account name to its provider (NULL: the row's
 * coverage becomes unknown, "no credentials").
 */
typedef struct creds_provider *(*coverage_creds_fn)(const char *account,
	    void *arg);
typedef void (*coverage_rows_cb)(struct ledger_entry **, size_t n,
	    void *arg);
void	 coverage_check_rows(struct coverage_ctx *, coverage_creds_fn,
	    void *creds_arg, struct ledger_entry **rows, size_t n,
	    coverage_rows_cb done, void *arg);

/*
 * A new scheduler cycle: log the cycle's counters (LOG_INFO, "coverage
 * cycle N: ... TestEventPattern calls ...") if anything happened, zero
 * them and drop every cached listing and answer.  Work in flight finishes
 * normally.
 */
void	 coverage_cycle_reset(struct coverage_ctx *);

struct coverage_stats {
	unsigned	 cycle;		/* 1 + number of resets */
	/* This cycle. */
	unsigned long	 rows;		/* logged rows checked */
	unsigned long	 covered, uncovered, unknown;
	unsigned long	 questions;	/* TestEventPattern questions asked by
					   rows (rule x event) */
	unsigned long	 tep_calls;	/* TestEventPattern requests sent */
	unsigned long	 tmf_calls;	/* TestMetricFilter requests sent */
	unsigned long	 api_calls;	/* every request sent */
	unsigned long	 failures;	/* requests that failed */
	/* Since coverage_new(). */
	unsigned long	 tep_calls_total, api_calls_total;
};
void	 coverage_stats(const struct coverage_ctx *, struct coverage_stats *);

/*
 * The calls the checks switched on in p make, as "service:Action" with
 * the service ids of common/aws.c ("events:ListRules"), in a stable
 * order, NULL-terminated (the strings are static; free the array).  Taken
 * from the same tables the checks send, for cloudsagad --iam-policy.
 */
const char **coverage_calls(const struct coverage_params *p);

/* Rows being checked plus GuardDuty checks in flight. */
size_t	 coverage_pending(const struct coverage_ctx *);
/*
 * Stop: wait up to timeout seconds for the work in flight, then cancel
 * what is left (its callbacks never run: those rows stay decided and
 * unqueued in the ledger, and verifier_resume() hands them back after a
 * restart), then call done from the event loop.
 */
void	 coverage_drain(struct coverage_ctx *, double timeout,
	    void (*done)(void *), void *arg);

/* ---- GuardDuty (switch guardduty) ---------------------------------------- */

struct coverage_gd_finding {
	char	*region;
	char	*detector_id;
	char	*id;
	char	*type;
	char	*title;
	double	 severity;
	char	*updated_at;
	char	*api;		/* service.action.awsApiCallAction.api */
	char	*service;	/* ...serviceName, or NULL */
	char	*access_key_id;	/* resource.accessKeyDetails.accessKeyId */
	const char *match;	/* "marker", "access-key", "api" */
};

struct coverage_gd_region {
	char	*region;
	unsigned detectors;	/* 0: GuardDuty is off there */
	unsigned seen;		/* findings updated since the run started */
	char	*error;		/* could not be checked */
};

struct coverage_gd_report {
	char		 run_id[33];
	char		*scenario;
	char		*account;
	double		 since;
	struct coverage_gd_finding *findings;	/* matching the run */
	size_t		 nfindings;
	struct coverage_gd_region *regions;
	size_t		 nregions;
};

/*
 * After a run's deadline: in each region (NULL: the regions of the run's
 * rows) ListDetectors, then per detector ListFindings with updatedAt >=
 * since (epoch seconds; the run's start) and GetFindings; keep findings
 * that concern the run (coverage_gd_match).  done gets the report (valid
 * during the callback; report_guardduty() writes it).  Returns -1 without
 * a callback when the guardduty switch is off.  The run's data is copied:
 * the run may go away meanwhile.
 */
int	 coverage_guardduty(struct coverage_ctx *, struct creds_provider *,
	    const struct ledger_run *, const char *const *regions,
	    size_t nregions, double since,
	    void (*done)(const struct coverage_gd_report *, void *),
	    void *arg);

/* ---- the pure parts, exposed for tests ------------------------------------ */

/* "ec2.amazonaws.com" -> "aws.ec2" (allocated); NULL if unusable. */
char	*coverage_source(const char *event_source);
/* Is the event read-only (the record's readOnly, else the row's)? */
int	 coverage_read_only(const struct ledger_entry *);
/*
 * Alert coverage is judged for signal calls only (#11): a logged context
 * call (discovery a technique needs) gets COVERAGE_CONTEXT, "not judged",
 * and so never an alert gap, a remediation or an alert regression.
 * Returns 1 when e was marked so (the check is not run), 0 otherwise.
 */
int	 coverage_mark_context(struct ledger_entry *);
#define COVERAGE_CONTEXT_REASON "a context call (discovery the technique " \
	"needs): alert coverage is judged for signal calls only"
/*
 * The "AWS API Call via CloudTrail" event EventBridge would get for the
 * row's record: version "0", id (the record's eventID), detail-type,
 * source, account (recipientAccountId), time (eventTime), region
 * (awsRegion), resources [], detail (the record).  NULL + *cause.
 */
json_t	*coverage_envelope(const struct ledger_entry *, char **cause);
/* Would a rule in this State receive the event at all? */
int	 coverage_state_sees(const char *state, int read_only);
/*
 * The event fields a pattern can look at: an array of paths, each an
 * array of keys (["detail","eventName"]), sorted and unique; $or branches
 * are followed.  -1 + *cause when the pattern is not a JSON object or
 * uses an operator key other than $or (the caller then keys on the whole
 * event).
 */
int	 coverage_pattern_paths(const char *pattern, json_t **paths,
	    char **cause);
/*
 * The cache key of the question "does pattern match event": the pattern
 * text and, for each path, the event's value there (the whole value where
 * the walk meets an array or a scalar early, "absent" where the key is
 * missing), serialised canonically.  paths NULL: the whole event.
 * Allocated.
 */
char	*coverage_question_key(const char *pattern, const json_t *paths,
	    const json_t *event);
/*
 * A pattern that would match the row's event (the remediation hint):
 * {"source":["aws.ec2"],"detail-type":["AWS API Call via CloudTrail"],
 *  "detail":{"eventSource":["ec2.amazonaws.com"],
 *            "eventName":["CreateSecurityGroup"]}}
 * compact, allocated.
 */
char	*coverage_suggest_pattern(const char *event_source,
	    const char *event_name);
/*
 * The remediation of an uncovered row: {"event_pattern": {...},
 * "rule_state": "ENABLED" or COVERAGE_STATE_ALL, "note": "..."}
 * (new reference), and the one-line text for the journal (allocated).
 */
json_t	*coverage_remediation_json(const struct ledger_entry *);
char	*coverage_remediation_text(const struct ledger_entry *);
/*
 * Coverage decides a row: its coverage, the rules that would alert
 * (borrowed), the reason - and, when uncovered, the remediation stored in
 * the row with it (ledger_set_remediation), so the report reads what to do
 * from the row and never calls back into coverage.
 */
void	 coverage_set(struct ledger_entry *, enum coverage, json_t *rules,
	    const char *reason);
/* An uncovered row without its remediation (judged by schema 3): add it. */
void	 coverage_fill_remediation(struct ledger_entry *);
/*
 * "arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]" -> its parts
 * (allocated); -1 if not a log group ARN.
 */
int	 coverage_log_group_arn(const char *arn, char **region,
	    char **account, char **name);

/* What the run did, for matching GuardDuty findings. */
struct coverage_gd_call {
	char	*region;
	char	*event_source;
	char	*event_name;
	char	*access_key_id;
};
/*
 * Does finding (GetFindings JSON, wire camelCase) concern the run?
 * "marker" (the run marker in awsApiCallAction.userAgent), "access-key"
 * (resource.accessKeyDetails.accessKeyId is a key the run used),
 * "api" (awsApiCallAction.api, and serviceName if given, is a call the
 * run made in the finding's region), or NULL.
 */
const char *coverage_gd_match(const json_t *finding, const char *run_id,
	    const struct coverage_gd_call *, size_t ncalls);

#endif
