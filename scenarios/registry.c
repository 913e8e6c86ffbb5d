/*
 * registry: the built-in scenarios and the catalogue's techniques
 * (technique.c, catalogue.c), sorted by name.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtin.h"
#include "log.h"
#include "scenario.h"
#include "technique.h"
#include "xmalloc.h"

static const struct scenario_def *const registry_defs[] = {
	&scenario_cloudtrail_tampering,
	&scenario_iam_credentials,
	&scenario_imds_reveal,
	&scenario_mining_bitcoin,
	&scenario_network_changes,
	&scenario_public_resources,
};

#define REGISTRY_N	(sizeof(registry_defs) / sizeof(registry_defs[0]))

static struct scenario_def	*registry_table;

static int
registry_cmp(const void *a, const void *b)
{
	const struct scenario_def	*x = a, *y = b;

	return strcmp(x->name, y->name);
}

const struct scenario_def *
scenario_builtins(void)
{
	const struct technique	*t;
	size_t			 i, n = 0, nt = 0;

	if (registry_table != NULL)
		return registry_table;
	for (t = technique_catalogue(); t->name != NULL; t++)
		nt++;
	/* Lives as long as the process (static data built once). */
	registry_table = xcalloc(REGISTRY_N + nt + 1,
	    sizeof(*registry_table));
	for (i = 0; i < REGISTRY_N; i++)
		registry_table[n++] = *registry_defs[i];
	for (t = technique_catalogue(); t->name != NULL; t++)
		technique_def(t, &registry_table[n++]);
	qsort(registry_table, n, sizeof(*registry_table), registry_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(registry_table[i - 1].name,
		    registry_table[i].name) == 0)
			fatalx("%s: two scenarios named %s", __func__,
			    registry_table[i].name);
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
