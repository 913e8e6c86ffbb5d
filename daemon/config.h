/*
 * config: the daemon's configuration file (libconfig syntax).
 *
 * config_load() parses a file into a fresh struct config, fills in every
 * default and validates everything: unknown keys at every level, types,
 * durations, ranges, cross references (schedule entries -> scenarios and
 * accounts), duplicate names, region names, role ARN shapes.  It collects
 * every error, not just the first, each as "FILE:LINE: message" (the line
 * of the offending setting; for a missing key the line of the enclosing
 * group).  Nothing of libconfig's tree is referenced by the result except
 * the custom scenario settings (see struct config_custom).
 *
 * The daemon keeps the running config and swaps in a new one only when
 * config_load() succeeded (SIGHUP).  config_print() writes the effective
 * configuration, defaults included, in a stable libconfig form that
 * config_load() accepts again.
 *
 * Durations are strings: "90s", "15m", "6h", "1d" (duration_parse()).
 */
#ifndef CLOUDSAGA_CONFIG_H
#define CLOUDSAGA_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

/* Defaults (seconds unless stated). */
#define CONFIG_DEFAULT_LOG_LEVEL	"info"
#define CONFIG_DEFAULT_DRAIN		30.0
#define CONFIG_DEFAULT_MAX_CONN		64
#define CONFIG_DEFAULT_HTTP_CONNECT	5.0	/* common/http.c's defaults */
#define CONFIG_DEFAULT_HTTP_TIMEOUT	30.0
/* CloudTrail shows an event to LookupEvents after about 5 minutes,
 * sometimes 15: a shorter deadline against AWS reports late ones missing
 * (a -n warning). */
#define CONFIG_CLOUDTRAIL_DELIVERY	900.0
#define CONFIG_DEFAULT_MAX_PER_HOST	16
#define CONFIG_DEFAULT_PARTITION	"aws"
#define CONFIG_DEFAULT_SESSION		3600.0
#define CONFIG_DEFAULT_INITIAL_DELAY	300.0
#define CONFIG_DEFAULT_INTERVAL		60.0
#define CONFIG_DEFAULT_DEADLINE		1200.0
#define CONFIG_DEFAULT_LOOKUP_RATE	2.0	/* LookupEvents: 2 TPS hard */
#define CONFIG_DEFAULT_SKEW		300.0
#define CONFIG_DEFAULT_REGRESSION_WINDOW (7 * 86400.0)
#define CONFIG_DEFAULT_RETENTION	(90 * 86400.0)	/* LookupEvents' */
#define CONFIG_DEFAULT_KEEP_RUNS	(7 * 86400.0)
#define CONFIG_DEFAULT_DIGEST_AT	(9 * 3600)	/* 09:00 UTC */
#define CONFIG_IMPLICIT_ACCOUNT		"default"

struct config_daemon {
	char		*state_dir;	/* absolute */
	char		*report_file;	/* absolute (relative: in state_dir) */
	char		*log_level;	/* "err" .. "debug" */
	int		 log_priority;	/* LOG_* of log_level */
	double		 drain_timeout;
	int		 max_connections;
	double		 http_connect_timeout;	/* per attempt, seconds */
	double		 http_timeout;		/* per attempt, whole transfer */
	int		 max_connections_per_host;
	char		*metrics_file;	/* absolute; NULL: no metrics */
	int		 shard_k, shard_n;	/* shard = "K/N"; 1/1: all
						   (daemon/config_org.c) */
};

struct config_aws {
	char		*partition;	/* "aws", "aws-cn", "aws-us-gov" */
	char		*endpoint_url;	/* NULL: standard endpoints */
	/* Per-service overrides, NULL-terminated "service=url", sorted by
	 * service: fits struct endpoint_opts.service_urls as is. */
	char		**service_urls;
	char		*profile;	/* NULL: AWS_PROFILE or "default" */
	char		**extra_regions;	/* regions newer than the list
						   in common/endpoint.c */
};

struct config_org;
struct config_account {
	char		*name;
	char		*role_arn;	/* NULL: the ambient credentials chain */
	char		*external_id;	/* NULL if none */
	double		 session_duration;
	char		**include;	/* NULL-terminated, possibly empty */
	char		**exclude;	/* NULL-terminated, possibly empty */
	int		 implicit;	/* made up: the config has no accounts */
	int		 line;
	/* An organisation: its members are discovered each cycle
	 * (daemon/org.h, parsed in daemon/config_org.c); NULL: one account. */
	struct config_org *org;
};

struct config_verify {
	double		 initial_delay;
	double		 interval;
	double		 deadline;
	double		 lookup_rate;	/* LookupEvents per second */
	double		 skew;		/* window starts first fired - skew */
};

struct config_coverage {
	int		 eventbridge;
	int		 guardduty;
	int		 metric_filters;
};

/* The history of verdicts (daemon/history.h). */
struct config_history {
	double		 regression_window;	/* logged this recently, now
						   missing: a regression */
	double		 retention;		/* history kept */
	double		 keep_runs;		/* runs kept in state.db */
	int		 digest_at;		/* UTC seconds after midnight */
};

/* A known gap, acknowledged until it expires (known_gaps). */
struct config_known_gap {
	char		*account;	/* config account name or "*" */
	char		*region;	/* region or "*" */
	char		*event_source;	/* NULL: any */
	char		*event_name;	/* "*" for any */
	int		 alert;		/* an alert gap, not a logging gap */
	char		*reason;
	double		 expires;	/* wall clock, midnight UTC */
	int		 line;
};

struct config_entry {
	char		*name;		/* unique; default: the scenario */
	char		*scenario;
	double		 every;		/* seconds; 0 when only at (daily) */
	double		 jitter;	/* uniform [0, jitter] per period */
	int		 at;		/* UTC seconds after midnight, -1 none */
	char		**accounts;	/* NULL-terminated; empty = all */
	char		**regions;	/* NULL-terminated; empty = discover */
	json_t		*settings;	/* extra settings for the scenario or
					   NULL (run_opts.settings) */
	int		 enabled;
	int		 line;
};

/*
 * A custom scenario from the scenarios list, read by config_custom.c into
 * the step model (scenarios/custom.h).  setting points into the libconfig
 * tree that the struct config keeps alive (struct config.lc), valid until
 * config_free(); json is the same setting as written, for config_print().
 */
struct custom_scenario;
struct config_custom {
	char			*name;
	const void		*setting;	/* const config_setting_t * */
	json_t			*json;		/* the setting as written, for
						   config_print() */
	int			 line;
	struct custom_scenario	*scenario;	/* owned */
};

struct config {
	char			*path;
	struct config_daemon	 daemon;
	struct config_aws	 aws;
	struct config_account	*accounts;
	size_t			 naccounts;	/* >= 1 (implicit default) */
	struct config_verify	 verify;
	struct config_coverage	 coverage;
	struct config_history	 history;
	struct config_known_gap	*known_gaps;
	size_t			 nknown_gaps;
	struct config_entry	*entries;
	size_t			 nentries;
	struct config_custom	*customs;
	size_t			 ncustoms;
	/* The same scenarios, NULL-terminated (custom_find() and the CLI);
	 * NULL when there are none. */
	struct custom_scenario	**custom_list;
	int			 live;
	void			*lc;		/* config_t *, or NULL */
	/* "FILE:LINE: warning: ..." lines, '\n'-separated; NULL: none.
	 * Printed by -n; they never fail a load. */
	char			*warnings;
};

/*
 * Default path: $CONFIGURATION_DIRECTORY/cloudsagad.conf when systemd set
 * ConfigurationDirectory= (the first entry), else
 * CLOUDSAGA_SYSCONFDIR/cloudsagad/cloudsagad.conf.  Allocated.
 */
char	*config_default_path(void);

/*
 * Parse and validate path.  0 and *ret on success; -1 and *cause, one
 * "FILE:LINE: message" per line (no trailing newline), sorted by file
 * position, on failure (*ret untouched).
 */
int	 config_load(const char *path, struct config **ret, char **cause);
/* The same from a string; name stands in for the file name in messages. */
int	 config_load_string(const char *text, const char *name,
	    struct config **ret, char **cause);
void	 config_free(struct config *);

/* The effective configuration, every default filled in, stable order. */
void	 config_print(FILE *, const struct config *);

const struct config_account *config_account_find(const struct config *,
	    const char *name);
const struct config_entry *config_entry_find(const struct config *,
	    const char *name);
const struct config_custom *config_custom_find(const struct config *,
	    const char *name);

/* A built-in scenario name of the registry. */
int	 config_scenario_builtin(const char *name);
/* Nonzero when region is a region of a supported partition
 * (endpoint_region_check(), the one region validator). */
int	 config_region_valid(const char *region);
/* "HH:MM" or "HH:MM:SS" -> seconds after midnight; -1 on error. */
int	 config_parse_time_of_day(const char *);

#endif
