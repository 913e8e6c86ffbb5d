/*
 * config_custom: the "scenarios" list of the configuration - custom
 * scenarios declared as steps - read from libconfig's tree into the step
 * model of scenarios/custom.h.
 *
 * The form of every key is checked here (types, names, params, regions,
 * role, evidence); the step model's rules (placeholders, a global
 * service's regions, the safety class and the engine's guard) are
 * custom_step_check()'s.  Every error goes through the config kit, at the
 * line of the setting it is about, and parsing goes on: one load shows
 * every problem of every scenario.  A new step key: add it to
 * config_custom_step_keys, read it in config_custom_step(), store it in
 * struct custom_step (the printer shows the scenario as written).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libconfig.h>

#include "aws.h"
#include "config.h"
#include "config_custom.h"
#include "config_kit.h"
#include "custom.h"
#include "endpoint.h"
#include "scenario.h"
#include "strv.h"
#include "xmalloc.h"

static const char *const config_custom_scenario_keys[] = {
	"name", "summary", "description", "mitre", "allow_live", "steps", NULL
};
static const char *const config_custom_step_keys[] = {
	"service", "action", "params", "regions", "safety", "expect_error",
	"role", "evidence", NULL
};

/* Where custom_step_check()'s errors go: the step's settings. */
struct config_custom_where {
	struct config_parse	*p;
	const config_setting_t	*step;
};

/* ---- small checks ---------------------------------------------------- */

/* A string member: 0 and *ret (NULL when absent), -1 on an error. */
static int
config_custom_str(struct config_parse *p, const config_setting_t *g,
    const char *key, int required, const char *what, const char **ret)
{
	const config_setting_t	*m;

	*ret = NULL;
	if ((m = config_member(g, key)) == NULL) {
		if (!required)
			return 0;
		config_err(p, g, "%s needs \"%s\"", what, key);
		return -1;
	}
	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		config_err(p, m, "\"%s\" must be a string", key);
		return -1;
	}
	*ret = config_setting_get_string(m);
	if (required && **ret == '\0') {
		config_err(p, m, "\"%s\" must not be empty", key);
		*ret = NULL;
		return -1;
	}
	return 0;
}

static int
config_custom_action_ok(const char *a)
{
	size_t	 i;

	if (!isupper((unsigned char)a[0]))
		return 0;
	for (i = 1; a[i] != '\0'; i++)
		if (!isalnum((unsigned char)a[i]))
			return 0;
	return i <= 128;
}

static int
config_custom_flat_key_ok(const char *k)
{
	size_t	 i;

	if (*k == '\0' || *k == '.')
		return 0;
	for (i = 0; k[i] != '\0'; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '.' &&
		    k[i] != '_' && k[i] != '-')
			return 0;
	return k[i - 1] != '.';
}

static char *
config_custom_scalar(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return xstrdup(config_setting_get_string(s));
	case CONFIG_TYPE_INT:
		return xprintf("%d", config_setting_get_int(s));
	case CONFIG_TYPE_INT64:
		return xprintf("%lld", config_setting_get_int64(s));
	case CONFIG_TYPE_FLOAT:
		return xprintf("%.17g", config_setting_get_float(s));
	case CONFIG_TYPE_BOOL:
		return xstrdup(config_setting_get_bool(s) ? "true" : "false");
	}
	return NULL;
}

/* ---- params ---------------------------------------------------------- */

/* EC2/Query: a group of scalars, or a list of "Key=Value" strings. */
static void
config_custom_flat_params(struct config_parse *p, struct custom_step *st,
    const config_setting_t *ps)
{
	const config_setting_t	*e;
	const char		*s, *eq;
	char			*k, *v;
	int			 i, n;

	if (!config_setting_is_group(ps) && !config_setting_is_list(ps) &&
	    !config_setting_is_array(ps)) {
		config_err(p, ps, "params of %s must be a group of scalars or "
		    "a list of \"Key=Value\" strings", st->svc->id);
		return;
	}
	n = config_setting_length(ps);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(ps, (unsigned)i);
		if (config_setting_is_group(ps)) {
			if (!config_setting_is_scalar(e)) {
				config_err(p, e, "params of %s are flat "
				    "key/values: \"%s\" is not a scalar (write "
				    "flattened names as a list of "
				    "\"Key.1.Name=Value\" strings)",
				    st->svc->id, e->name);
				continue;
			}
			k = xstrdup(e->name);
			v = config_custom_scalar(e);
		} else {
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				config_err(p, e, "params list entries must be "
				    "\"Key=Value\" strings");
				continue;
			}
			s = config_setting_get_string(e);
			if ((eq = strchr(s, '=')) == NULL || eq == s) {
				config_err(p, e, "params entry \"%s\" is not "
				    "\"Key=Value\"", s);
				continue;
			}
			k = xstrndup(s, (size_t)(eq - s));
			v = xstrdup(eq + 1);
		}
		if (!config_custom_flat_key_ok(k))
			config_err(p, e, "parameter name \"%s\" is not valid",
			    k);
		else if (custom_step_param(st, k, v) != 0)
			config_err(p, e, "parameter \"%s\" given twice", k);
		free(k);
		free(v);
	}
}

/* JSON protocols: a group, or a string holding a JSON object. */
static void
config_custom_json_params(struct config_parse *p, struct custom_step *st,
    const config_setting_t *ps)
{
	json_error_t	 jerr;

	if (config_setting_is_group(ps)) {
		st->input = config_setting_json(ps);
		return;
	}
	if (config_setting_type(ps) != CONFIG_TYPE_STRING) {
		config_err(p, ps, "params of %s (a JSON service) must be a "
		    "group or a string holding a JSON object", st->svc->id);
		return;
	}
	st->input = json_loads(config_setting_get_string(ps), 0, &jerr);
	if (st->input == NULL)
		config_err(p, ps, "params is not valid JSON: %s (at character "
		    "%d)", jerr.text, jerr.position);
	else if (!json_is_object(st->input)) {
		config_err(p, ps, "params must be a JSON object");
		json_decref(st->input);
		st->input = NULL;
	}
}

/* ---- regions --------------------------------------------------------- */

/* One region name through the one region validator; 0 or -1. */
static int
config_custom_region(struct config_parse *p, const config_setting_t *s,
    const char *v, char ***regions)
{
	if (config_check_region(p, s, "regions", v) != 0)
		return -1;
	strv_add(regions, v);
	return 0;
}

static void
config_custom_regions(struct config_parse *p, struct custom_step *st,
    const config_setting_t *g)
{
	const config_setting_t	*r, *e;
	const char		*s;
	int			 i, n;

	st->regions_kind = st->svc != NULL && st->svc->global ?
	    CUSTOM_REGIONS_GLOBAL : CUSTOM_REGIONS_ALL;
	if ((r = config_member(g, "regions")) == NULL)
		return;
	if (config_setting_type(r) == CONFIG_TYPE_STRING) {
		s = config_setting_get_string(r);
		if (strcmp(s, "all") == 0)
			st->regions_kind = CUSTOM_REGIONS_ALL;
		else if (strcmp(s, "global") == 0)
			st->regions_kind = CUSTOM_REGIONS_GLOBAL;
		else if (endpoint_region_partition(s, NULL) != NULL) {
			/* A region name: a list of one. */
			st->regions_kind = CUSTOM_REGIONS_LIST;
			config_custom_region(p, r, s, &st->regions);
		} else
			config_err(p, r, "regions must be \"all\", \"global\" "
			    "or a list of region names, not \"%s\"", s);
		return;
	}
	if (!config_setting_is_array(r) && !config_setting_is_list(r)) {
		config_err(p, r, "regions must be \"all\", \"global\" or a "
		    "list of region names");
		return;
	}
	if ((n = config_setting_length(r)) == 0) {
		config_err(p, r, "regions list is empty");
		return;
	}
	st->regions_kind = CUSTOM_REGIONS_LIST;
	st->regions = strv_new();
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(r, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			config_err(p, e, "regions: expected a region name such "
			    "as \"eu-west-1\", not %s",
			    config_type_name(config_setting_type(e)));
		else
			config_custom_region(p, e, config_setting_get_string(e),
			    &st->regions);
	}
}

/* ---- one step -------------------------------------------------------- */

static void
config_custom_step_error(void *arg, enum custom_field f, const char *msg)
{
	struct config_custom_where	*w = arg;
	const config_setting_t		*s = NULL;

	switch (f) {
	case CUSTOM_FIELD_STEP:
		break;
	case CUSTOM_FIELD_PARAMS:
		s = config_member(w->step, "params");
		break;
	case CUSTOM_FIELD_REGIONS:
		s = config_member(w->step, "regions");
		break;
	case CUSTOM_FIELD_SAFETY:
		s = config_member(w->step, "safety");
		break;
	}
	config_err(w->p, s != NULL ? s : w->step, "%s", msg);
}

/* An enum member parsed by parse (aws_role_parse, aws_evidence_parse). */
static void
config_custom_enum(struct config_parse *p, const config_setting_t *g,
    const char *key, int (*parse)(const char *), const char *names,
    int *ret)
{
	const config_setting_t	*m;
	int			 v;

	if ((m = config_member(g, key)) == NULL)
		return;
	if (config_setting_type(m) != CONFIG_TYPE_STRING ||
	    (v = parse(config_setting_get_string(m))) == -1) {
		config_err(p, m, "%s must be %s", key, names);
		return;
	}
	*ret = v;
}

/* Returns the number of errors of the step. */
static size_t
config_custom_step(struct config_parse *p, struct custom_scenario *cs,
    const config_setting_t *g)
{
	struct config_custom_where	 w = { p, g };
	struct custom_step		*st;
	const config_setting_t		*m, *ps;
	const char			*svc, *action, *expect;
	char				*list;
	size_t				 nerrs = p->nerrs;
	int				 v;

	if (!config_setting_is_group(g)) {
		config_err(p, g, "a step must be a group { service = ...; "
		    "action = ...; }");
		return 1;
	}
	st = custom_step_add(cs);
	st->line = config_setting_source_line(g);
	config_check_keys_listed(p, g, config_custom_step_keys, "step");
	config_custom_str(p, g, "service", 1, "step", &svc);
	config_custom_str(p, g, "action", 1, "step", &action);
	config_custom_str(p, g, "expect_error", 0, "step", &expect);

	if (svc != NULL && (st->svc = aws_service_find(svc)) == NULL) {
		const struct aws_service	*s;
		char				**ids = strv_new();

		for (s = aws_services(); s->id != NULL; s++)
			strv_add(&ids, s->id);
		list = strv_join(ids, ", ");
		config_err(p, config_member(g, "service"), "unknown service "
		    "\"%s\" (known: %s)", svc, list);
		free(list);
		strv_free(ids);
	}
	if (action != NULL) {
		m = config_member(g, "action");
		if (!config_custom_action_ok(action))
			config_err(p, m, "\"%s\" is not an action name (e.g. "
			    "\"DescribeVpcs\")", action);
		else if (st->svc != NULL &&
		    aws_action_known(st->svc, action) == 0)
			config_err(p, m, "%s has no action \"%s\" (a request "
			    "the service cannot parse never reaches "
			    "CloudTrail)", st->svc->id, action);
		else
			st->action = xstrdup(action);
	}
	if (expect != NULL) {
		if (*expect == '\0' || strchr(expect, ' ') != NULL)
			config_err(p, config_member(g, "expect_error"),
			    "expect_error must be an error code such as "
			    "\"TrailNotFoundException\"");
		else
			st->expect_error = xstrdup(expect);
	}
	if ((m = config_member(g, "safety")) != NULL) {
		if (config_setting_type(m) != CONFIG_TYPE_STRING ||
		    aws_safety_from_name(config_setting_get_string(m),
		    &st->safety) != 0 || st->safety == AWS_SAFE_AUTO) {
			config_err(p, m, "safety must be \"read-only\", "
			    "\"dry-run\", \"safe-fail\" or \"live\"");
			st->safety = AWS_SAFE_AUTO;
		}
	}
	v = st->role;
	config_custom_enum(p, g, "role", aws_role_parse,
	    "\"signal\" or \"context\"", &v);
	st->role = v;
	v = st->evidence;
	config_custom_enum(p, g, "evidence", aws_evidence_parse,
	    "\"documented\", \"observed\" or \"assumed\"", &v);
	st->evidence = v;
	if (st->svc != NULL && (ps = config_member(g, "params")) != NULL) {
		if (custom_flat_service(st->svc))
			config_custom_flat_params(p, st, ps);
		else
			config_custom_json_params(p, st, ps);
	}
	config_custom_regions(p, st, g);

	/* The step model's rules, on a step whose form is right. */
	if (p->nerrs == nerrs && st->svc != NULL && st->action != NULL)
		custom_step_check(st, cs->allow_live, cs->name,
		    config_custom_step_error, &w);
	return p->nerrs - nerrs;
}

/* ---- one scenario ---------------------------------------------------- */

/* The line of the first scenario before element idx of l named name. */
static int
config_custom_first(const config_setting_t *l, int idx, const char *name)
{
	const config_setting_t	*e, *m;
	int			 j;

	for (j = 0; l != NULL && j < idx; j++) {
		e = config_setting_get_elem(l, (unsigned)j);
		if (config_setting_is_group(e) &&
		    (m = config_member(e, "name")) != NULL &&
		    config_setting_type(m) == CONFIG_TYPE_STRING &&
		    strcmp(config_setting_get_string(m), name) == 0)
			return config_setting_source_line(e);
	}
	return 0;
}

/*
 * The scenario at g (element idx of the list l, NULL: alone); NULL when
 * it has errors.
 */
static struct custom_scenario *
config_custom_scenario(struct config_parse *p, const config_setting_t *g,
    int idx, const config_setting_t *l)
{
	struct custom_scenario	*cs;
	const config_setting_t	*m, *e, *steps;
	const char		*summary, *descr, *file;
	char			 path[64], *nm = NULL;
	size_t			 nerrs = p->nerrs;
	int			 i, n, bad, first;

	snprintf(path, sizeof(path), "scenarios[%d]", idx);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		config_err(p, g, "%s: expected a group { name = ...; }, not %s",
		    path, config_type_name(config_setting_type(g)));
		return NULL;
	}
	/* A scenario is known by its name: without a good one, nothing
	 * else of it is checked. */
	if (config_get_str(p, g, path, "name", 1, NULL, &nm) == 1) {
		m = config_member(g, "name");
		if (!config_scenario_name_valid(nm))
			config_err(p, m, "%s.name: bad scenario name \"%s\" "
			    "(lower-case letters, digits, '-'; at most 64)",
			    path, nm);
		else if (config_scenario_builtin(nm))
			config_err(p, m, "%s.name: \"%s\" is a built-in "
			    "scenario", path, nm);
		else if ((first = config_custom_first(l, idx, nm)) > 0)
			config_err(p, m, "%s.name: duplicate scenario \"%s\" "
			    "(first at line %d)", path, nm, first);
	}
	if (p->nerrs != nerrs || nm == NULL) {
		free(nm);
		return NULL;
	}
	config_check_keys_listed(p, g, config_custom_scenario_keys,
	    "custom scenario");
	config_custom_str(p, g, "summary", 1, "custom scenario", &summary);
	config_custom_str(p, g, "description", 0, "custom scenario", &descr);
	if (summary != NULL && strchr(summary, '\n') != NULL)
		config_err(p, config_member(g, "summary"), "summary must be "
		    "one line");

	file = config_setting_source_file(g);
	cs = custom_new(nm, summary != NULL ? summary : "",
	    descr, file, config_setting_source_line(g));
	free(nm);
	if ((m = config_member(g, "allow_live")) != NULL) {
		if (config_setting_type(m) != CONFIG_TYPE_BOOL)
			config_err(p, m, "allow_live must be true or false");
		else
			cs->allow_live = config_setting_get_bool(m);
	}
	if ((m = config_member(g, "mitre")) != NULL) {
		if (!config_setting_is_array(m) && !config_setting_is_list(m))
			config_err(p, m, "mitre must be a list of technique "
			    "IDs such as \"T1562.008\"");
		else {
			n = config_setting_length(m);
			for (i = 0; i < n; i++) {
				e = config_setting_get_elem(m, (unsigned)i);
				bad = config_setting_type(e) !=
				    CONFIG_TYPE_STRING ||
				    !scenario_mitre_ok(
				    config_setting_get_string(e));
				if (bad)
					config_err(p, e, "mitre entries are "
					    "technique IDs such as "
					    "\"T1562.008\" (optionally followed "
					    "by a space and a name)");
				else
					strv_add_unique(&cs->mitre,
					    config_setting_get_string(e));
			}
		}
	}
	steps = config_member(g, "steps");
	if (steps == NULL || (!config_setting_is_list(steps) &&
	    !config_setting_is_array(steps)) ||
	    config_setting_length(steps) == 0)
		config_err(p, steps ? steps : g, "custom scenario \"%s\" "
		    "needs steps = ( { service = ...; action = ...; }, ... )",
		    cs->name);
	else {
		n = config_setting_length(steps);
		for (i = 0; i < n; i++)
			config_custom_step(p, cs, config_setting_get_elem(steps,
			    (unsigned)i));
	}
	if (p->nerrs != nerrs) {
		custom_free(cs);
		return NULL;
	}
	custom_finish(cs);
	return cs;
}

/*
 * Every scenario of the list l: a vector of n + 1 (NULL-terminated; NULL
 * where a scenario has errors).
 */
static struct custom_scenario **
config_custom_list(struct config_parse *p, const config_setting_t *l)
{
	struct custom_scenario	**v;
	int			  i, n = config_setting_length(l);

	v = xcalloc((size_t)n + 1, sizeof(*v));
	for (i = 0; i < n; i++)
		v[i] = config_custom_scenario(p, config_setting_get_elem(l,
		    (unsigned)i), i, l);
	return v;
}

void
config_parse_customs(struct config_parse *p, const config_setting_t *root)
{
	struct config		*c = p->cfg;
	struct config_custom	*cu;
	struct custom_scenario	**v;
	const config_setting_t	*l, *g;
	int			  i, n;

	if ((l = config_get_list(p, root, "scenarios")) == NULL)
		return;
	n = config_setting_length(l);
	v = config_custom_list(p, l);
	c->customs = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*c->customs));
	c->custom_list = xcalloc((size_t)n + 1, sizeof(*c->custom_list));
	for (i = 0; i < n; i++) {
		if (v[i] == NULL)
			continue;
		g = config_setting_get_elem(l, (unsigned)i);
		cu = &c->customs[c->ncustoms++];
		cu->name = xstrdup(v[i]->name);
		cu->setting = g;
		cu->json = config_setting_json(g);
		cu->line = v[i]->line;
		cu->scenario = v[i];
		c->custom_list[c->ncustoms - 1] = v[i];
	}
	free(v);
	if (c->ncustoms == 0) {
		free(c->custom_list);
		c->custom_list = NULL;
	}
}

/* ---- outside a configuration (tests, tools) -------------------------- */

static void
config_custom_begin(struct config_parse *p, const config_setting_t *s)
{
	const char	*file = config_setting_source_file(s);

	memset(p, 0, sizeof(*p));
	p->path = file != NULL ? file : "config";
}

static int
config_custom_end(struct config_parse *p, char **cause)
{
	int	 rc = 0;

	if (p->nerrs > 0) {
		*cause = config_errors_join(p);
		rc = -1;
	}
	config_errors_free(p);
	buf_free(&p->warns);
	return rc;
}

struct custom_scenario **
config_custom_list_from_setting(const config_setting_t *l, char **cause)
{
	struct config_parse	  p;
	struct custom_scenario	**v;
	int			  i, n;

	config_custom_begin(&p, l);
	if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
		config_err(&p, l, "custom scenarios must be a list ( { name = "
		    "...; ... }, ... )");
		config_custom_end(&p, cause);
		return NULL;
	}
	v = config_custom_list(&p, l);
	if (config_custom_end(&p, cause) != 0) {
		n = config_setting_length(l);
		for (i = 0; i < n; i++)
			custom_free(v[i]);
		free(v);
		return NULL;
	}
	return v;
}

struct custom_scenario *
config_custom_from_setting(const config_setting_t *g, char **cause)
{
	struct config_parse	 p;
	struct custom_scenario	*cs;

	config_custom_begin(&p, g);
	cs = config_custom_scenario(&p, g, 0, NULL);
	if (config_custom_end(&p, cause) != 0) {
		custom_free(cs);
		return NULL;
	}
	return cs;
}
