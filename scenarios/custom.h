/*
 * custom: scenarios declared as steps in the configuration.
 *
 * In libconfig syntax (the daemon's config loader hands each element of
 * its custom-scenario list to custom_from_config()):
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
 *         expect_error = "TrailNotFoundException"; },
 *       { service = "ec2"; action = "CreateVpc";
 *         params = [ "CidrBlock=10.9.0.0/16", "DryRun=true",
 *                    "TagSpecification.1.ResourceType=vpc" ];
 *         regions = [ "eu-west-1" ]; }
 *     );
 *   }
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
#include <libconfig.h>

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
	enum aws_safety		 safety;
	char			*expect_error;	/* NULL: none */
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

/*
 * Validate and build one custom scenario from its libconfig group.
 * Returns NULL and "FILE:LINE: message" in *cause on the first error.
 */
struct custom_scenario *custom_from_config(const config_setting_t *,
	    char **cause);
/*
 * The whole list (a libconfig list or array of groups): every element as
 * above, names unique.  NULL-terminated array; NULL + *cause on error.
 */
struct custom_scenario **custom_list_from_config(const config_setting_t *,
	    char **cause);
void	 custom_free(struct custom_scenario *);
void	 custom_list_free(struct custom_scenario **);

const struct scenario_def *custom_def(const struct custom_scenario *);
const struct custom_scenario *custom_find(
	    struct custom_scenario *const *list, const char *name);

/* Check a name: [a-z0-9][a-z0-9-]*, at most 64, not a built-in. */
int	 custom_name_ok(const char *, char **cause);
/*
 * Substitute {run_id} and {region} in s.  Unknown {placeholders} (lower
 * case letters and '_' between braces) are an error; other braces are
 * literal.  run_id/region NULL: only check.  Returns the new string, or
 * NULL + *cause.
 */
char	*custom_subst(const char *s, const char *run_id, const char *region,
	    char **cause);
/*
 * A libconfig setting as JSON: groups become objects, lists and arrays
 * arrays, scalars their JSON values (also used by the config loader for
 * scenario settings and by --print-config).
 */
json_t	*custom_to_json(const config_setting_t *);
/* The request of step for region, placeholders substituted. */
struct aws_request *custom_step_request(const struct custom_step *,
	    const char *region, const char *run_id);

#endif
