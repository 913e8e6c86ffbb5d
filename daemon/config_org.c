/*
 * config_org: organization groups and daemon.shard (config_org.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "config.h"
#include "config_kit.h"
#include "config_org.h"
#include "org.h"
#include "xmalloc.h"

static const char *
config_org_str(const struct config_org_env *env, const config_setting_t *g,
    const char *path, const char *key)
{
	const config_setting_t	*s;
	const char		*v;

	if ((s = config_setting_get_member(g, key)) == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		env->err(env->p, s, "%s.%s: expected a string", path, key);
		return NULL;
	}
	v = config_setting_get_string(s);
	if (*v == '\0') {
		env->err(env->p, s, "%s.%s: empty string", path, key);
		return NULL;
	}
	return v;
}

static void
config_org_exclude(const struct config_org_env *env,
    const config_setting_t *g, const char *path, struct config_org *o)
{
	const config_setting_t	*s, *e;
	const char		*v;
	size_t			 n = 0, i;
	int			 t, j, len;

	o->exclude = xcalloc(1, sizeof(*o->exclude));
	if ((s = config_setting_get_member(g, "exclude")) == NULL)
		return;
	t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		env->err(env->p, s, "%s.exclude: expected a list of account "
		    "IDs [ \"123456789012\" ]", path);
		return;
	}
	len = config_setting_length(s);
	for (j = 0; j < len; j++) {
		e = config_setting_get_elem(s, j);
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    !org_id_valid(v = config_setting_get_string(e))) {
			env->err(env->p, e, "%s.exclude[%d]: expected a "
			    "12-digit account ID string", path, j);
			continue;
		}
		for (i = 0; i < n; i++)
			if (strcmp(o->exclude[i], v) == 0)
				break;
		if (i < n) {
			env->err(env->p, e, "%s.exclude: \"%s\" is listed "
			    "twice", path, v);
			continue;
		}
		o->exclude = xreallocarray(o->exclude, n + 2,
		    sizeof(*o->exclude));
		o->exclude[n++] = xstrdup(v);
		o->exclude[n] = NULL;
	}
}

void
config_org_parse_account(const struct config_org_env *env,
    const config_setting_t *g, const char *path, struct config_account *a)
{
	static const char *const keys[] = { "role_name", "external_id",
	    "exclude", NULL };
	const config_setting_t	*og, *s;
	struct config_org	*o;
	const char		*v, *name;
	char			 opath[96];
	size_t			 i;
	int			 j, n;

	if (g == NULL || config_setting_type(g) != CONFIG_TYPE_GROUP)
		return;
	if ((og = config_setting_get_member(g, "organization")) == NULL) {
		if (env->cfg->daemon.shard_n > 1 && a->role_arn == NULL)
			env->warn(env->p, g, "%s: no role_arn, so the account "
			    "ID is not known: shard 1/%d takes this account",
			    path, env->cfg->daemon.shard_n);
		return;
	}
	snprintf(opath, sizeof(opath), "%s.organization", path);
	if (config_setting_type(og) != CONFIG_TYPE_GROUP) {
		env->err(env->p, og, "%s: expected a group { role_name = ...; "
		    "}", opath);
		return;
	}
	o = xcalloc(1, sizeof(*o));
	o->line = config_setting_source_line(og);
	a->org = o;
	n = config_setting_length(og);
	for (j = 0; j < n; j++) {
		s = config_setting_get_elem(og, j);
		if ((name = config_setting_name(s)) == NULL)
			continue;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(name, keys[i]) == 0)
				break;
		if (keys[i] == NULL)
			env->err(env->p, s, "%s: unknown key \"%s\"", opath,
			    name);
	}
	if ((v = config_org_str(env, og, opath, "role_name")) == NULL) {
		if (config_setting_get_member(og, "role_name") == NULL)
			env->err(env->p, og, "%s: missing \"role_name\" (the "
			    "role to assume in each member account)", opath);
	} else if (!config_role_name_valid(v))
		env->err(env->p, config_setting_get_member(og, "role_name"),
		    "%s.role_name: \"%s\" is not an IAM role name ([PATH/]NAME, "
		    "NAME 1 to 64 of letters, digits and +=,.@_-)", opath, v);
	else
		o->role_name = xstrdup(v);
	if ((v = config_org_str(env, og, opath, "external_id")) != NULL) {
		if (!config_external_id_valid(v))
			env->err(env->p, config_setting_get_member(og,
			    "external_id"), "%s.external_id: 2 to 1224 of "
			    "letters, digits and +=,.@:/_- expected", opath);
		else
			o->external_id = xstrdup(v);
	}
	config_org_exclude(env, og, opath, o);
	if (o->role_name == NULL)
		o->role_name = xstrdup("-");	/* an error was reported */
}

void
config_org_parse_shard(const struct config_org_env *env,
    const config_setting_t *g, struct config_daemon *d)
{
	const config_setting_t	*s;

	d->shard_k = d->shard_n = 1;
	if (g == NULL || (s = config_setting_get_member(g, "shard")) == NULL)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_STRING ||
	    org_shard_parse(config_setting_get_string(s), &d->shard_k,
	    &d->shard_n) == -1) {
		env->err(env->p, s, "daemon.shard: expected \"K/N\", this "
		    "instance's share K of N (1 <= K <= N <= %d)",
		    ORG_SHARD_MAX);
		d->shard_k = d->shard_n = 1;
	}
}

void
config_org_print_account(FILE *f, const struct config_account *a)
{
	const struct config_org	*o = a->org;
	size_t			 i;

	if (o == NULL)
		return;
	fprintf(f, "\t\torganization = {\n");
	fprintf(f, "\t\t\trole_name = \"%s\";\n", o->role_name);
	if (o->external_id != NULL)
		fprintf(f, "\t\t\texternal_id = \"%s\";\n", o->external_id);
	fputs("\t\t\texclude = [", f);
	for (i = 0; o->exclude != NULL && o->exclude[i] != NULL; i++)
		fprintf(f, "%s \"%s\"", i > 0 ? "," : "", o->exclude[i]);
	fputs(" ];\n", f);
	fputs("\t\t};\n", f);
}

void
config_org_print_shard(FILE *f, const struct config_daemon *d)
{
	fprintf(f, "\tshard = \"%d/%d\";\n", d->shard_k, d->shard_n);
}

void
config_org_free(struct config_org *o)
{
	size_t	 i;

	if (o == NULL)
		return;
	free(o->role_name);
	freezero_str(o->external_id);
	for (i = 0; o->exclude != NULL && o->exclude[i] != NULL; i++)
		free(o->exclude[i]);
	free(o->exclude);
	free(o);
}

void
config_org_print_share(FILE *f, const struct config *c)
{
	const struct config_account	*a;
	char				 id[ORG_ID_LEN + 1];
	const char			*aid;
	size_t				 i, mine = 0, listed = 0;

	if (c->daemon.shard_n <= 1)
		return;
	fprintf(f, "shard %d/%d:\n", c->daemon.shard_k, c->daemon.shard_n);
	for (i = 0; i < c->naccounts; i++) {
		a = &c->accounts[i];
		if (a->org != NULL) {
			fprintf(f, "  %s: organisation, its members split by "
			    "account ID when listed\n", a->name);
			continue;
		}
		listed++;
		aid = org_account_id(a, id, sizeof(id));
		if (org_shard_takes_account(c, a))
			mine++;
		fprintf(f, "  %s (%s): %s\n", a->name, aid != NULL ? aid :
		    "ID unknown", org_shard_takes_account(c, a) ? "taken" :
		    "another shard's");
	}
	fprintf(f, "  %zu of %zu listed accounts taken\n", mine, listed);
}
