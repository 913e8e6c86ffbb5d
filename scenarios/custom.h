/*
 * custom: scenarios declared as steps in the configuration.
 *
 * Declared in the configuration (daemon/config_custom.c reads the
 * "scenarios" list into these structs; cloudsagad.conf(5) has the syntax):
 *
 *   {
 *     name = "trail-evasion";            # [a-z0-9-], not a built-in name
 *     summary = "one line for --chapters";
 *     description = "paragraphs for --about";       # optional
 *     mitre = [ "T1562.008 Disable or Modify Cloud Logs" ];  # optional
 *     allow_live = false;                # optional: the live switch
 *     steps = (
 *       { service = "cloudtrail"; action = "StopLogging";
 *         params = { Name = "cloudsaga-{run_id}"; };
 *         regions = "all";               # "all" | "global" | [ names ]
 *         safety = "safe-fail";
 *         expect_error = "TrailNotFoundException";
 *         role = "signal";               # optional: signal | context
 *         evidence = "documented"; },    # optional: documented |
 *                                        #   observed | assumed
 *       { service = "ec2"; action = "CreateVpc";
 *         params = [ "CidrBlock=10.9.0.0/16", "DryRun=true",
 *                    "TagSpecification.1.ResourceType=vpc" ];
 *         regions = [ "eu-west-1" ]; }
 *     );
 *   }
 *
 * The model is plain data: a parser fills a struct custom_scenario
 * (custom_new(), custom_step_add(), then the fields), checks each step
 * with custom_step_check() and seals it with custom_finish().
 *
 * params: EC2 and Query services take flat key/values, either as a group
 * of scalars or as a list of "Key=Value" strings (needed for flattened
 * names such as Filter.1.Name); JSON services take a group (nested groups
 * become objects, lists and arrays become arrays) or a string holding a
 * JSON object.  Values may use the placeholders {run_id} and {region}.
 *
 * regions: "all" = every enabled region of the run (the default for
 * regional services); a list = those regions that are enabled; "global" =
 * once, in the run's home region (the default for global services).
 *
 * safety: read-only, dry-run, safe-fail or live (see ARCHITECTURE.md); when
 * absent it is inferred for read-only actions and EC2 calls with DryRun;
 * every other step must state it.  Steps run in order; each step fans out
 * over its regions concurrently; one region's failure does not stop the
 * others or the next steps.  Read-only steps follow pagination (EC2
 * NextToken, IAM/RDS Marker, JSON NextToken).
 */
#ifndef CLOUDSAGA_CUSTOM_H
#define CLOUDSAGA_CUSTOM_H

#include <stddef.h>

#include <jansson.h>

#include "aws.h"
#include "scenario.h"

enum custom_regions {
	CUSTOM_REGIONS_ALL,
	CUSTOM_REGIONS_LIST,
	CUSTOM_REGIONS_GLOBAL,
};

struct custom_step {
	const struct aws_service *svc;
	char			*action;
	enum aws_safety		 safety;	/* AUTO: not stated, inferred
						   by custom_step_check() */
	char			*expect_error;	/* NULL: none */
	enum aws_role		 role;		/* DEFAULT: aws_role_resolve() */
	enum aws_evidence	 evidence;	/* default: documented */
	enum custom_regions	 regions_kind;
	char			**regions;	/* LIST: NULL-terminated */
	struct aws_param	*params;	/* EC2/Query: with placeholders */
	size_t			 nparams;
	json_t			*input;		/* JSON protocols, or NULL */
	int			 line;
};

struct custom_scenario {
	char			*name;
	char			*summary;
	char			*description;
	char			**mitre;	/* NULL-terminated */
	int			 allow_live;
	struct custom_step	*steps;
	size_t			 nsteps;
	char			*file;		/* where it was declared */
	int			 line;

	/* The registry's view (start = the step runner). */
	struct scenario_def	 def;
	char			**def_services;
	char			**def_permissions;
	char			**def_calls;
};

/* The part of a step a custom_step_check() error is about. */
enum custom_field {
	CUSTOM_FIELD_STEP,		/* the step as a whole */
	CUSTOM_FIELD_PARAMS,
	CUSTOM_FIELD_REGIONS,
	CUSTOM_FIELD_SAFETY,
};
typedef void (*custom_error_cb)(void *arg, enum custom_field,
	    const char *msg);

/* An empty scenario (strings copied; description may be NULL). */
struct custom_scenario *custom_new(const char *name, const char *summary,
	    const char *description, const char *file, int line);
/* A new step at the end: safety AUTO, role DEFAULT, evidence
 * documented, the rest zero (regions_kind ALL: set it for a global
 * service). */
struct custom_step *custom_step_add(struct custom_scenario *);
/* Add a flat parameter (EC2/Query); -1 when key is there already. */
int	 custom_step_param(struct custom_step *, const char *key,
	    const char *value);
/* Do the service's params come flat ("Key.1.Name" = value: EC2, Query)
 * rather than as a JSON object? */
int	 custom_flat_service(const struct aws_service *);
/* The value of a flat parameter, or NULL. */
const char *custom_step_param_get(const struct custom_step *,
	    const char *key);
/*
 * The step model's rules for a step whose svc, action, params, regions
 * and safety are filled in: every placeholder known; a global service
 * only "global"; the safety class stated or inferred (read-only actions,
 * EC2 calls with DryRun=true), the engine's guard (aws_safety_check())
 * on the step as a run would send it, live steps only with allow_live,
 * safe-fail steps with expect_error.  Each error goes to cb; returns the
 * number of errors (0: valid, safety resolved).
 */
int	 custom_step_check(struct custom_step *, int allow_live,
	    const char *scenario, custom_error_cb, void *arg);
/* Build the registry's view once every step is added and valid. */
void	 custom_finish(struct custom_scenario *);
void	 custom_free(struct custom_scenario *);
void	 custom_list_free(struct custom_scenario **);

const struct scenario_def *custom_def(const struct custom_scenario *);
const struct custom_scenario *custom_find(
	    struct custom_scenario *const *list, const char *name);

/*
 * Substitute {run_id} and {region} in s.  Unknown {placeholders} (lower
 * case letters and '_' between braces) are an error; other braces are
 * literal.  run_id/region NULL: only check.  Returns the new string, or
 * NULL + *cause.
 */
char	*custom_subst(const char *s, const char *run_id, const char *region,
	    char **cause);
/* The request of step for region, placeholders substituted. */
struct aws_request *custom_step_request(const struct custom_step *,
	    const char *region, const char *run_id);

#endif
