/*
 * config_kit: the configuration loader's error and getter kit, shared by
 * the group parsers (config.c) and the custom-scenario parser
 * (config_custom.c).  Internal to the config module: nothing outside
 * daemon/config*.c includes it.
 *
 * Errors: every check that fails adds one "FILE:LINE: message" to the
 * parse (config_err(), at the line of the setting it is about; a missing
 * key at the line of its group) and parsing goes on, so a user sees every
 * problem at once; config_errors_join() sorts them by file and line.
 * Warnings (config_warn()) never fail a load.
 *
 * Getters: config_get_*(p, group, path, key, ...) read one member of a
 * group: 1 and the value when present and valid, 0 when absent, -1 (and an
 * error) when wrong.  path is the group's dotted name for messages
 * ("daemon", "accounts[1]"); checks (config_str_check) validate a string
 * value and report their own error.
 *
 * Adding a key: see docs/HACKING.md, "Where does my change go".
 */
#ifndef CLOUDSAGA_CONFIG_KIT_H
#define CLOUDSAGA_CONFIG_KIT_H

#include <stddef.h>

#include <jansson.h>
#include <libconfig.h>

#include "buf.h"

struct config;

struct config_error {
	char		*file;
	int		 line;
	size_t		 seq;
	size_t		 rank;		/* of the file: main first */
	char		*msg;
};

struct config_parse {
	const char		*path;
	const char		*include_dir;	/* NULL: none */
	struct config		*cfg;
	struct config_error	*errs;
	size_t			 nerrs;
	struct buf		 warns;		/* "FILE:LINE: warning: ..." */
};

typedef int (*config_str_check)(struct config_parse *,
	    const config_setting_t *, const char *path, const char *value);

/* ---- errors ---- */
struct config_error *config_err_new(struct config_parse *, const char *file,
	    int line);
void	 config_err(struct config_parse *, const config_setting_t *,
	    const char *, ...) __attribute__((format(printf, 3, 4)));
void	 config_warn(struct config_parse *, const config_setting_t *,
	    const char *, ...) __attribute__((format(printf, 3, 4)));
/* Every error, sorted (the main file first), '\n'-separated. */
char	*config_errors_join(struct config_parse *);
void	 config_errors_free(struct config_parse *);
/* IAM and STS name shapes (role_arn, organization.role_name,
 * external_id): 1 when valid. */
int	 config_role_name_valid(const char *);
int	 config_external_id_valid(const char *);

/* ---- typed getters ---- */
const char *config_type_name(int type);
/* Report every member of group not in allowed (NULL-terminated). */
void	 config_check_keys(struct config_parse *, const config_setting_t *,
	    const char *path, const char *const *allowed);
/* The same, as "unknown key \"k\" in WHAT (known: a, b, c)". */
void	 config_check_keys_listed(struct config_parse *,
	    const config_setting_t *, const char *const *allowed,
	    const char *what);
const config_setting_t *config_member(const config_setting_t *,
	    const char *key);
int	 config_want(struct config_parse *, const config_setting_t *,
	    const char *path, const char *key, int type);
int	 config_get_str(struct config_parse *, const config_setting_t *,
	    const char *path, const char *key, int required, config_str_check,
	    char **ret);
int	 config_get_duration(struct config_parse *, const config_setting_t *,
	    const char *path, const char *key, double min, double max,
	    double *ret, const config_setting_t **ret_s);
int	 config_get_bool(struct config_parse *, const config_setting_t *,
	    const char *path, const char *key, int *ret);
int	 config_get_int(struct config_parse *, const config_setting_t *,
	    const char *path, const char *key, long long min, long long max,
	    int *ret);
int	 config_get_number(struct config_parse *, const config_setting_t *,
	    const char *path, const char *key, double min, double max,
	    double *ret);
const config_setting_t *config_get_group(struct config_parse *,
	    const config_setting_t *parent, const char *path, const char *key);
const config_setting_t *config_get_list(struct config_parse *,
	    const config_setting_t *parent, const char *key);
int	 config_get_strlist(struct config_parse *, const config_setting_t *,
	    const char *path, const char *key, config_str_check, char ***ret);

/*
 * A setting as JSON: groups become objects, lists and arrays arrays,
 * scalars their JSON values (scenario settings, custom step params, the
 * printer's view of a custom scenario).
 */
json_t	*config_setting_json(const config_setting_t *);

/* ---- value checks (config_str_check) ---- */
/* A region of the configured partition (aws.partition, aws.extra_regions;
 * any supported partition before the aws group is read): the one region
 * validator, endpoint_region_check(). */
int	 config_check_region(struct config_parse *, const config_setting_t *,
	    const char *path, const char *value);
int	 config_check_region_form(struct config_parse *,
	    const config_setting_t *, const char *path, const char *value);
int	 config_check_abs_path(struct config_parse *, const config_setting_t *,
	    const char *path, const char *value);
int	 config_check_file_path(struct config_parse *,
	    const config_setting_t *, const char *path, const char *value);
int	 config_check_log_level(struct config_parse *,
	    const config_setting_t *, const char *path, const char *value);
int	 config_check_partition(struct config_parse *,
	    const config_setting_t *, const char *path, const char *value);
int	 config_check_url(struct config_parse *, const config_setting_t *,
	    const char *path, const char *value);
int	 config_check_token(struct config_parse *, const config_setting_t *,
	    const char *path, const char *value);
int	 config_check_name(struct config_parse *, const config_setting_t *,
	    const char *path, const char *value);

/* ---- shapes ---- */
int	 config_name_valid(const char *, size_t max);
int	 config_scenario_name_valid(const char *);

/* ---- the custom scenarios (config_custom.c) ---- */
void	 config_parse_customs(struct config_parse *, const config_setting_t *);

#endif
