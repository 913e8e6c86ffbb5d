/*
 * technique: the data-driven technique engine (#11).
 *
 * A technique is a table of steps.  Each step is one AWS call, sent in
 * every enabled region, in the home region once, or once to the global
 * endpoint (IAM), with its parameters from a JSON template whose strings
 * may hold placeholders:
 *
 *   {run}, {run_id}      the run ID (32 hex digits)
 *   {name}               cloudsaga-<runid> (scen_safe_name)
 *   {account_id}         the run's 12-digit account ID; learnt through
 *                        sts:GetCallerIdentity (home region, context)
 *                        before the first step when unknown
 *   {region}             the region the call is sent to
 *   {run17}              the run ID's first 17 hex digits (a fake EC2 ID
 *                        of another kind: "fl-{run17}", "ami-{run17}")
 *   {fake_instance_id}   "i-" and the run ID's first 17 hex digits: an
 *                        instance ID that cannot exist (68 random bits),
 *                        accepted by the safe-fail guard where the
 *                        reference is an instance ID
 *   {step.ID}            the value step ID collected in this region (or,
 *                        for a home/global step, once for the run)
 *
 * A step may collect a value from its decoded answer (a path, e.g.
 * "snapshotSet.0.snapshotId"), so a later DryRun aims at a real snapshot,
 * image or instance and proves the permission, not just a NotFound.  When
 * nothing is found (nothing there, or the call failed), the step's
 * fallback template is used instead (e.g. a fake ID), or, without one,
 * the calls that need the value are skipped with a note (intended: the
 * region has nothing to aim at).
 *
 * Steps run in table order, one step at a time; a step's calls in all
 * regions run concurrently.  Every call goes through run_request(), so
 * the client's safety guard checks it (safe-fail actions must be in
 * common/safety.c's table, with the run ID in a reference parameter), and
 * carries the step's role (signal/context), evidence level and expected
 * safe-fail error.
 *
 * The registry turns each technique into a struct scenario_def
 * (technique_def): the permissions, services, calls and per-call
 * descriptions are derived from the steps, so --iam-policy and --about
 * follow the table.
 */
#ifndef CLOUDSAGA_TECHNIQUE_H
#define CLOUDSAGA_TECHNIQUE_H

#include <stddef.h>

#include <jansson.h>

#include "aws.h"
#include "scenario.h"

enum technique_scope {
	TECH_REGIONS = 0,	/* every enabled region (after the filters) */
	TECH_HOME,		/* the home region, once */
	TECH_GLOBAL,		/* the global endpoint (IAM), once */
};

struct technique_step {
	const char		*id;		/* "snap": {step.snap} */
	const char		*service;	/* service id: "ec2" */
	const char		*action;
	const char		*params;	/* JSON object text or NULL */
	enum aws_safety		 safety;
	/* Error codes (',' or '|') that prove the attempt: the safe-fail
	 * not-found error, or the NotFound of a DryRun aimed at a fake ID. */
	const char		*expect_error;
	enum aws_role		 role;
	enum aws_evidence	 evidence;
	const char		*source;	/* evidence source key: "EC2-dry" */
	enum technique_scope	 scope;
	const char		*collect;	/* path into the decoded answer */
	const char		*fallback;	/* template when nothing found */
	const char		*permission;	/* IAM action if not svc:Action */
	const char		*target;	/* template shown as the target */
};

struct technique {
	const char		*name;
	const char		*summary;
	const char		*description;
	const char		*tactic;	/* "Defense Evasion" */
	const char		*tactic_id;	/* "TA0005" */
	const char *const	*mitre;		/* "T1562.008 Impair ..." */
	const char *const	*stratus;	/* Stratus IDs, may be NULL */
	const struct technique_step *steps;	/* ends with id == NULL */
};

/*
 * A Stratus technique cloudsagad does not exercise: no safe form exists
 * (or only a partial one that is not built), why, and what cloudsagad
 * offers instead (a posture check), if anything.
 */
struct technique_unsafe {
	const char	*name;		/* "organizations-leave" */
	const char	*stratus;	/* "aws.impact.s3-ransomware-..." */
	const char	*tactic;
	const char	*tactic_id;
	const char	*mitre;		/* "T1666 Modify Cloud Resource ..." */
	const char	*why;
	const char	*instead;	/* NULL: nothing */
};
/* Terminated by name == NULL. */
const struct technique_unsafe *technique_unsafe_list(void);
/* By name or Stratus ID. */
const struct technique_unsafe *technique_unsafe_find(const char *);

/* The catalogue (scenarios/catalogue.c), terminated by name == NULL. */
const struct technique *technique_catalogue(void);
const struct technique *technique_find(const char *name);

/*
 * The registry entry of a technique: name, texts, ATT&CK, Stratus, and
 * the permissions, services, calls and call descriptions derived from
 * the steps (allocated once, for the life of the process).
 */
void	 technique_def(const struct technique *, struct scenario_def *);

/*
 * Placeholder expansion (exposed for tests).  vars: the run ID, the
 * account ID (NULL: unknown), the region, and the collected values (an
 * object step ID -> string; may be NULL).  Returns the expanded string,
 * or NULL with *missing set (allocated) to the placeholder that has no
 * value ("account_id", "step.snap"); an unknown placeholder name is
 * missing too.  A '{' not followed by a placeholder name and '}' is
 * copied as is (JSON documents in strings).
 */
struct technique_vars {
	const char	*run_id;
	const char	*account_id;
	const char	*region;
	json_t		*collected;
};
char	*technique_expand(const char *tmpl, const struct technique_vars *,
	    char **missing);
/* "i-" and the run ID's first 17 hex digits into buf (20 bytes). */
void	 technique_fake_instance_id(const char *run_id, char *buf,
	    size_t len);
/* Does the template (or any step of t) use {account_id}? */
int	 technique_needs_account(const struct technique *);

#endif
