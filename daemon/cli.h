/*
 * cli: the one-shot commands of cloudsagad (everything that is not the
 * long-running daemon): --call, and later --chapters, --about, --scenario.
 */
#ifndef CLOUDSAGA_CLI_H
#define CLOUDSAGA_CLI_H

#include <stddef.h>
#include <stdio.h>

struct custom_scenario;
struct run_call;

/* Exit statuses shared by the one-shot commands. */
#define CLI_EXIT_OK		0	/* success (or nothing missing) */
#define CLI_EXIT_FAIL		1	/* the call failed / a gap was found */
#define CLI_EXIT_USAGE		2	/* bad command line, unknown name */
#define CLI_EXIT_REFUSED	3	/* the safety guard refused */
#define CLI_EXIT_UNVERIFIED	4	/* nothing missing, but not everything
					   could be checked in CloudTrail */

struct cli_opts {
	const char	*config_file;
	int		 config_given;
	int		 verbose;
	/* --call */
	const char	*call;		/* "service:Action" */
	const char	*region;
	char		**params;	/* "Key=Value" */
	size_t		 nparams;
	int		 allow_live;
	const char	*endpoint_url;
	const char	*profile;
	/* --chapters, --about, --scenario (cli_scenario.c) */
	int		 chapters;
	const char	*about;
	const char	*scenario;
	const char	*regions;	/* "us-east-1,eu-*" */
	const char	*account;
	/* --scenario verification (the daemon's pipeline, in memory) */
	double		 verify_timeout;	/* --verify-timeout: deadline */
	double		 verify_interval;	/* --verify-interval */
	int		 no_verify;		/* --no-verify */
	int		 output_json;		/* --output json */
	/* --iam-policy[=permissions|trust] (cli_iam.c) */
	int		 iam;
	const char	*iam_policy;		/* NULL: permissions */
	/* --attack-layer [--report FILE] [--since DUR] (cli_attack.c) */
	int		 attack_layer;
	const char	*report;		/* NULL: daemon.report_file */
	double		 since;			/* 0: the default, 7d */
	/* status [--json] (cli_status.c) */
	int		 status;
	int		 json;
};

int	 cli_call(const struct cli_opts *);
/* status: the state database, read-only (cli_status.c). */
int	 cli_status(const struct cli_opts *);

/*
 * custom: the config's custom scenarios (NULL-terminated, or NULL when no
 * config is loaded); they are listed and runnable next to the built-ins.
 */
/* --chapters, --about NAME (cli_chapters.c) */
int	 cli_chapters(const struct cli_opts *, struct custom_scenario *const *);
int	 cli_about(const struct cli_opts *, struct custom_scenario *const *);
/* A built-in or custom scenario by name, or NULL; the "unknown scenario"
 * message with every valid name on stderr (cli_scenario.c). */
struct scenario_def;
const struct scenario_def *cli_scenario_find(const char *,
	    struct custom_scenario *const *);
void	 cli_scenario_unknown(const char *, struct custom_scenario *const *);
int	 cli_scenario(const struct cli_opts *,
	    struct custom_scenario *const *);
/* The final table of --scenario, sorted (exposed for tests). */
void	 cli_scenario_table(FILE *, const struct run_call *const *, size_t);
/* "r1, r2,eu-*" -> NULL-terminated list; NULL + *cause if malformed. */
char	**cli_split_regions(const char *, char **cause);

#endif
