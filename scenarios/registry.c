/*
 * registry: the built-in scenarios, sorted by name.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "builtin.h"
#include "scenario.h"

static const struct scenario_def *const registry_defs[] = {
	&scenario_cloudtrail_tampering,
	&scenario_iam_credentials,
	&scenario_imds_reveal,
	&scenario_mining_bitcoin,
	&scenario_network_changes,
	&scenario_public_resources,
};

#define REGISTRY_N	(sizeof(registry_defs) / sizeof(registry_defs[0]))

static struct scenario_def	registry_table[REGISTRY_N + 1];
static int			registry_ready;

const struct scenario_def *
scenario_builtins(void)
{
	size_t	 i;

	if (!registry_ready) {
		for (i = 0; i < REGISTRY_N; i++)
			registry_table[i] = *registry_defs[i];
		memset(&registry_table[REGISTRY_N], 0,
		    sizeof(registry_table[REGISTRY_N]));
		registry_ready = 1;
	}
	return registry_table;
}

const struct scenario_def *
scenario_find(const char *name)
{
	const struct scenario_def	*d;

	if (name == NULL)
		return NULL;
	for (d = scenario_builtins(); d->name != NULL; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

void
scenario_mitre_id(const char *s, char *buf, size_t len)
{
	size_t	 n = strcspn(s, " ");

	snprintf(buf, len, "%.*s", (int)n, s);
}

int
scenario_mitre_ok(const char *m)
{
	size_t	 i;

	if (m[0] != 'T')
		return 0;
	for (i = 1; i < 5; i++)
		if (!isdigit((unsigned char)m[i]))
			return 0;
	if (m[5] == '.') {
		for (i = 6; i < 9; i++)
			if (!isdigit((unsigned char)m[i]))
				return 0;
		i = 9;
	} else
		i = 5;
	return m[i] == '\0' || m[i] == ' ';
}
