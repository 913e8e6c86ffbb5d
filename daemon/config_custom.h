/*
 * config_custom: custom scenarios (the "scenarios" list) from libconfig's
 * tree into the step model (scenarios/custom.h).  config_load() reads
 * them through config_parse_customs() (config_kit.h); these two read a
 * list or one scenario outside a configuration file (tests, tools), with
 * the same checks and messages: NULL and every error in *cause, one
 * "FILE:LINE: message" per line, on failure.
 */
#ifndef CLOUDSAGA_CONFIG_CUSTOM_H
#define CLOUDSAGA_CONFIG_CUSTOM_H

#include <libconfig.h>

struct custom_scenario;

/* NULL-terminated; free with custom_list_free(). */
struct custom_scenario **config_custom_list_from_setting(
	    const config_setting_t *list, char **cause);
struct custom_scenario *config_custom_from_setting(const config_setting_t *,
	    char **cause);

#endif
