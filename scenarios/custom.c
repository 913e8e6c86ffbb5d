/*
 * custom: scenarios declared as steps in the configuration - the step
 * model, its validation (every refusal of the safety guard is caught here,
 * at load time, with FILE:LINE), and the step runner.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "custom.h"
#include "endpoint.h"
#include "log.h"
#include "scenario.h"
#include "xmalloc.h"

#define CUSTOM_NAME_MAX	64
/* The run ID steps are checked with at load time (any 32 hex will do). */
#define CUSTOM_CHECK_RUN_ID	"c0ffee00c0ffee00c0ffee00c0ffee00"

static const char *const custom_scenario_keys[] = {
	"name", "summary", "description", "mitre", "allow_live", "steps", NULL
};
static const char *const custom_step_keys[] = {
	"service", "action", "params", "regions", "safety", "expect_error",
	NULL
};

static void	 custom_start(struct run *);

struct custom_state {
	size_t	 step;		/* the next step to run */
};

/* ---- errors with FILE:LINE ------------------------------------------------ */

static void __attribute__((format(printf, 3, 4)))
custom_err(char **cause, const config_setting_t *s, const char *fmt, ...)
{
	va_list		 ap;
	char		*msg;
	const char	*file = NULL;
	int		 line = 0;

	/* A setting without a line (e.g. created in code): use its parent. */
	while (s != NULL) {
		file = config_setting_source_file(s);
		line = config_setting_source_line(s);
		if (line > 0)
			break;
		s = config_setting_parent(s);
	}
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(cause, "%s:%d: %s", file ? file : "config", line, msg);
	free(msg);
}

static int
custom_known_key(const char *const *keys, const char *name)
{
	size_t	 i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(keys[i], name) == 0)
			return 1;
	return 0;
}

static int
custom_check_keys(const config_setting_t *g, const char *const *keys,
    const char *what, char **cause)
{
	config_setting_t	*m;
	char			*list;
	size_t			 i;
	int			 n = config_setting_length(g), k;

	for (k = 0; k < n; k++) {
		m = config_setting_get_elem(g, (unsigned)k);
		if (m->name == NULL || custom_known_key(keys, m->name))
			continue;
		list = xstrdup("");
		for (i = 0; keys[i] != NULL; i++) {
			char *t = xprintf("%s%s%s", list, i ? ", " : "",
			    keys[i]);
			free(list);
			list = t;
		}
		custom_err(cause, m, "unknown key \"%s\" in %s (known: %s)",
		    m->name, what, list);
		free(list);
		return -1;
	}
	return 0;
}

/* A string member, or NULL; -1 when present but not a string. */
static int
custom_get_str(const config_setting_t *g, const char *key, int required,
    const char **ret, const char *what, char **cause)
{
	config_setting_t	*m;

	*ret = NULL;
	m = config_setting_get_member(g, key);
	if (m == NULL) {
		if (required) {
			custom_err(cause, g, "%s needs \"%s\"", what, key);
			return -1;
		}
		return 0;
	}
	if (config_setting_type(m) != CONFIG_TYPE_STRING) {
		custom_err(cause, m, "\"%s\" must be a string", key);
		return -1;
	}
	*ret = config_setting_get_string(m);
	if (required && **ret == '\0') {
		custom_err(cause, m, "\"%s\" must not be empty", key);
		return -1;
	}
	return 0;
}

/* ---- placeholders ------------------------------------------------------- */

char *
custom_subst(const char *s, const char *run_id, const char *region,
    char **cause)
{
	size_t		 len = strlen(s), i, j, cap = len + 1, n = 0;
	char		*out = xmalloc(cap);
	const char	*val;
	char		 name[32];

	for (i = 0; i < len; ) {
		if (s[i] == '{') {
			for (j = i + 1; j < len && (islower((u_char)s[j]) ||
			    s[j] == '_'); j++)
				;
			if (j < len && s[j] == '}' && j > i + 1) {
				snprintf(name, sizeof(name), "%.*s",
				    (int)(j - i - 1), s + i + 1);
				if (strcmp(name, "run_id") == 0)
					val = run_id ? run_id : "";
				else if (strcmp(name, "region") == 0)
					val = region ? region : "";
				else {
					xasprintf(cause, "unknown placeholder "
					    "{%s} (known: {run_id}, {region})",
					    name);
					free(out);
					return NULL;
				}
				while (n + strlen(val) + 1 > cap)
					out = xreallocarray(out, cap *= 2, 1);
				memcpy(out + n, val, strlen(val));
				n += strlen(val);
				i = j + 1;
				continue;
			}
		}
		if (n + 2 > cap)
			out = xreallocarray(out, cap *= 2, 1);
		out[n++] = s[i++];
	}
	out[n] = '\0';
	return out;
}

static json_t *
custom_json_subst(json_t *j, const char *run_id, const char *region,
    char **cause)
{
	const char	*k;
	json_t		*v, *r, *c;
	char		*s;
	size_t		 i;

	switch (json_typeof(j)) {
	case JSON_STRING:
		if ((s = custom_subst(json_string_value(j), run_id, region,
		    cause)) == NULL)
			return NULL;
		r = json_string(s);
		free(s);
		return r;
	case JSON_OBJECT:
		r = json_object();
		json_object_foreach(j, k, v) {
			if ((c = custom_json_subst(v, run_id, region,
			    cause)) == NULL) {
				json_decref(r);
				return NULL;
			}
			json_object_set_new(r, k, c);
		}
		return r;
	case JSON_ARRAY:
		r = json_array();
		json_array_foreach(j, i, v) {
			if ((c = custom_json_subst(v, run_id, region,
			    cause)) == NULL) {
				json_decref(r);
				return NULL;
			}
			json_array_append_new(r, c);
		}
		return r;
	default:
		return json_deep_copy(j);
	}
}

/* ---- names -------------------------------------------------------------- */

int
custom_name_ok(const char *name, char **cause)
{
	size_t	 i, len = strlen(name);

	if (len == 0 || len > CUSTOM_NAME_MAX) {
		xasprintf(cause, "scenario name must have 1 to %d characters",
		    CUSTOM_NAME_MAX);
		return -1;
	}
	for (i = 0; i < len; i++) {
		if (islower((u_char)name[i]) || isdigit((u_char)name[i]) ||
		    (name[i] == '-' && i > 0))
			continue;
		xasprintf(cause, "scenario name \"%s\" may only use a-z, 0-9 "
		    "and '-' (not first)", name);
		return -1;
	}
	if (scenario_find(name) != NULL) {
		xasprintf(cause, "scenario name \"%s\" is a built-in "
		    "scenario", name);
		return -1;
	}
	return 0;
}

static int
custom_region_ok(const char *r)
{
	char	*cause = NULL;

	if (endpoint_region_check(r, NULL, NULL, &cause) == -1) {
		free(cause);
		return 0;
	}
	return 1;
}

static int
custom_action_ok(const char *a)
{
	size_t	 i;

	if (!isupper((u_char)a[0]))
		return 0;
	for (i = 1; a[i] != '\0'; i++)
		if (!isalnum((u_char)a[i]))
			return 0;
	return i <= 128;
}

static int
custom_mitre_ok(const char *m)
{
	size_t	 i;

	if (m[0] != 'T')
		return 0;
	for (i = 1; i < 5; i++)
		if (!isdigit((u_char)m[i]))
			return 0;
	if (m[5] == '.') {
		for (i = 6; i < 9; i++)
			if (!isdigit((u_char)m[i]))
				return 0;
		i = 9;
	} else
		i = 5;
	return m[i] == '\0' || m[i] == ' ';
}

/* ---- params --------------------------------------------------------------- */

static void
custom_param_add(struct custom_step *st, const char *k, const char *v)
{
	st->params = xreallocarray(st->params, st->nparams + 1,
	    sizeof(*st->params));
	st->params[st->nparams].key = xstrdup(k);
	st->params[st->nparams].value = xstrdup(v);
	st->nparams++;
}

static const char *
custom_param_get(const struct custom_step *st, const char *k)
{
	size_t	 i;

	for (i = 0; i < st->nparams; i++)
		if (strcmp(st->params[i].key, k) == 0)
			return st->params[i].value;
	return NULL;
}

static char *
custom_scalar(const config_setting_t *s)
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

static int
custom_flat_key_ok(const char *k)
{
	size_t	 i;

	if (*k == '\0' || *k == '.')
		return 0;
	for (i = 0; k[i] != '\0'; i++)
		if (!isalnum((u_char)k[i]) && k[i] != '.' && k[i] != '_' &&
		    k[i] != '-')
			return 0;
	return k[i - 1] != '.';
}

/* EC2/Query: a group of scalars, or a list of "Key=Value" strings. */
static int
custom_flat_params(struct custom_step *st, const config_setting_t *p,
    char **cause)
{
	config_setting_t	*e;
	const char		*s, *eq;
	char			*k, *v;
	int			 i, n = config_setting_length(p);

	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(p, (unsigned)i);
		if (config_setting_is_group(p)) {
			if (!config_setting_is_scalar(e)) {
				custom_err(cause, e, "params of %s are flat "
				    "key/values: \"%s\" is not a scalar (write "
				    "flattened names as a list of "
				    "\"Key.1.Name=Value\" strings)",
				    st->svc->id, e->name);
				return -1;
			}
			k = xstrdup(e->name);
			v = custom_scalar(e);
		} else {
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				custom_err(cause, e, "params list entries must "
				    "be \"Key=Value\" strings");
				return -1;
			}
			s = config_setting_get_string(e);
			if ((eq = strchr(s, '=')) == NULL || eq == s) {
				custom_err(cause, e, "params entry \"%s\" is "
				    "not \"Key=Value\"", s);
				return -1;
			}
			k = xstrndup(s, (size_t)(eq - s));
			v = xstrdup(eq + 1);
		}
		if (!custom_flat_key_ok(k)) {
			custom_err(cause, e, "parameter name \"%s\" is not "
			    "valid", k);
			free(k);
			free(v);
			return -1;
		}
		if (custom_param_get(st, k) != NULL) {
			custom_err(cause, e, "parameter \"%s\" given twice", k);
			free(k);
			free(v);
			return -1;
		}
		custom_param_add(st, k, v);
		free(k);
		free(v);
	}
	return 0;
}

json_t *
custom_to_json(const config_setting_t *s)
{
	config_setting_t	*e;
	json_t			*r;
	int			 i, n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP:
		r = json_object();
		n = config_setting_length(s);
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(s, (unsigned)i);
			json_object_set_new(r, e->name, custom_to_json(e));
		}
		return r;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		r = json_array();
		n = config_setting_length(s);
		for (i = 0; i < n; i++)
			json_array_append_new(r, custom_to_json(
			    config_setting_get_elem(s, (unsigned)i)));
		return r;
	case CONFIG_TYPE_STRING:
		return json_string(config_setting_get_string(s));
	case CONFIG_TYPE_INT:
		return json_integer(config_setting_get_int(s));
	case CONFIG_TYPE_INT64:
		return json_integer(config_setting_get_int64(s));
	case CONFIG_TYPE_FLOAT:
		return json_real(config_setting_get_float(s));
	case CONFIG_TYPE_BOOL:
		return json_boolean(config_setting_get_bool(s));
	}
	return json_null();
}

/* JSON protocols: a group, or a string holding a JSON object. */
static int
custom_json_params(struct custom_step *st, const config_setting_t *p,
    char **cause)
{
	json_error_t	 jerr;

	if (config_setting_is_group(p)) {
		st->input = custom_to_json(p);
		return 0;
	}
	if (config_setting_type(p) == CONFIG_TYPE_STRING) {
		st->input = json_loads(config_setting_get_string(p), 0, &jerr);
		if (st->input == NULL) {
			custom_err(cause, p, "params is not valid JSON: %s "
			    "(at character %d)", jerr.text, jerr.position);
			return -1;
		}
		if (!json_is_object(st->input)) {
			custom_err(cause, p, "params must be a JSON object");
			return -1;
		}
		return 0;
	}
	custom_err(cause, p, "params of %s (a JSON service) must be a group "
	    "or a string holding a JSON object", st->svc->id);
	return -1;
}

static int
custom_is_flat(const struct aws_service *svc)
{
	return svc->protocol == AWS_PROTO_EC2 ||
	    svc->protocol == AWS_PROTO_QUERY;
}

/* Every placeholder must be known. */
static int
custom_check_placeholders(const struct custom_step *st,
    const config_setting_t *where, char **cause)
{
	char	*why = NULL, *s;
	json_t	*j;
	size_t	 i;

	for (i = 0; i < st->nparams; i++) {
		if ((s = custom_subst(st->params[i].value, NULL, NULL,
		    &why)) == NULL) {
			custom_err(cause, where, "parameter \"%s\": %s",
			    st->params[i].key, why);
			free(why);
			return -1;
		}
		free(s);
	}
	if (st->input != NULL) {
		if ((j = custom_json_subst(st->input, NULL, NULL, &why)) ==
		    NULL) {
			custom_err(cause, where, "params: %s", why);
			free(why);
			return -1;
		}
		json_decref(j);
	}
	return 0;
}

/* ---- one step ------------------------------------------------------------ */

static void
custom_step_clear(struct custom_step *st)
{
	size_t	 i;

	free(st->action);
	free(st->expect_error);
	if (st->regions != NULL) {
		for (i = 0; st->regions[i] != NULL; i++)
			free(st->regions[i]);
		free(st->regions);
	}
	for (i = 0; i < st->nparams; i++) {
		free(st->params[i].key);
		free(st->params[i].value);
	}
	free(st->params);
	json_decref(st->input);
	memset(st, 0, sizeof(*st));
}

static int
custom_step_regions(struct custom_step *st, const config_setting_t *g,
    char **cause)
{
	config_setting_t	*r, *e;
	const char		*s;
	int			 i, n;

	st->regions_kind = st->svc->global ? CUSTOM_REGIONS_GLOBAL :
	    CUSTOM_REGIONS_ALL;
	if ((r = config_setting_get_member(g, "regions")) == NULL)
		return 0;
	if (config_setting_type(r) == CONFIG_TYPE_STRING) {
		s = config_setting_get_string(r);
		if (strcmp(s, "global") != 0 && st->svc->global) {
			custom_err(cause, r, "%s is a global service: regions "
			    "must be \"global\"", st->svc->id);
			return -1;
		}
		if (strcmp(s, "all") == 0)
			st->regions_kind = CUSTOM_REGIONS_ALL;
		else if (strcmp(s, "global") == 0)
			st->regions_kind = CUSTOM_REGIONS_GLOBAL;
		else if (custom_region_ok(s)) {
			st->regions_kind = CUSTOM_REGIONS_LIST;
			st->regions = xcalloc(2, sizeof(*st->regions));
			st->regions[0] = xstrdup(s);
		} else {
			custom_err(cause, r, "regions must be \"all\", "
			    "\"global\" or a list of region names, not "
			    "\"%s\"", s);
			return -1;
		}
		return 0;
	}
	if (!config_setting_is_array(r) && !config_setting_is_list(r)) {
		custom_err(cause, r, "regions must be \"all\", \"global\" or "
		    "a list of region names");
		return -1;
	}
	if (st->svc->global) {
		custom_err(cause, r, "%s is a global service: regions must be "
		    "\"global\"", st->svc->id);
		return -1;
	}
	n = config_setting_length(r);
	if (n == 0) {
		custom_err(cause, r, "regions list is empty");
		return -1;
	}
	st->regions_kind = CUSTOM_REGIONS_LIST;
	st->regions = xcalloc((size_t)n + 1, sizeof(*st->regions));
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(r, (unsigned)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING ||
		    !custom_region_ok(config_setting_get_string(e))) {
			custom_err(cause, e, "\"%s\" is not a region name "
			    "(e.g. \"eu-west-1\")",
			    config_setting_type(e) == CONFIG_TYPE_STRING ?
			    config_setting_get_string(e) : "?");
			return -1;
		}
		st->regions[i] = xstrdup(config_setting_get_string(e));
	}
	return 0;
}

static int
custom_step_safety(struct custom_step *st, const config_setting_t *g,
    int allow_live, const char *scenario, char **cause)
{
	const struct aws_safe_fail *sf;
	config_setting_t	*sm;
	struct aws_request	*req;
	const char		*dry, *id = st->svc->id;
	char			*why = NULL;
	int			 ro, ec2, dryrun, rc;

	ro = aws_action_is_read_only(st->svc, st->action);
	ec2 = strcmp(id, "ec2") == 0;
	dry = custom_param_get(st, "DryRun");
	dryrun = dry != NULL && strcasecmp(dry, "true") == 0;

	sm = config_setting_get_member(g, "safety");
	if (dry != NULL && !ec2) {
		custom_err(cause, g, "%s:%s: DryRun is an EC2 parameter; other "
		    "services ignore it (use safety \"safe-fail\" with a "
		    "{run_id} target)", id, st->action);
		return -1;
	}
	if (sm != NULL) {
		if (config_setting_type(sm) != CONFIG_TYPE_STRING ||
		    aws_safety_from_name(config_setting_get_string(sm),
		    &st->safety) != 0 || st->safety == AWS_SAFE_AUTO) {
			custom_err(cause, sm, "safety must be \"read-only\", "
			    "\"dry-run\", \"safe-fail\" or \"live\"");
			return -1;
		}
	} else if (ro)
		st->safety = AWS_SAFE_READ_ONLY;
	else if (ec2 && dryrun)
		st->safety = AWS_SAFE_DRY_RUN;
	else {
		custom_err(cause, g, "%s:%s changes the account: state its "
		    "safety class (\"safe-fail\" with a {run_id} target, or "
		    "\"live\")", id, st->action);
		return -1;
	}
	/* The client's absolute rule, caught at load time. */
	if (ec2 && !ro && !dryrun) {
		custom_err(cause, sm ? sm : g, "ec2:%s changes the account: "
		    "it is only ever sent with DryRun = true (safety "
		    "\"dry-run\")", st->action);
		return -1;
	}
	if (st->safety == AWS_SAFE_LIVE && !allow_live) {
		custom_err(cause, sm ? sm : g, "live step %s:%s changes the "
		    "account: it needs allow_live = true in scenario \"%s\" "
		    "(and live calls enabled in the daemon)", id, st->action,
		    scenario);
		return -1;
	}
	/* The engine's guard, on the step as a run would send it. */
	req = custom_step_request(st, "us-east-1", CUSTOM_CHECK_RUN_ID);
	rc = aws_safety_check(req, 1, &why);
	aws_request_free(req);
	if (rc != 0) {
		custom_err(cause, sm ? sm : g, "%s", why);
		free(why);
		return -1;
	}
	if (st->safety == AWS_SAFE_FAIL && st->expect_error == NULL) {
		sf = aws_safe_fail_find(st->svc, st->action);
		custom_err(cause, sm ? sm : g, "safe-fail step %s:%s needs "
		    "expect_error: the not-found error that proves the attempt "
		    "(e.g. \"%s\")", id, st->action, sf != NULL ?
		    sf->not_found : "TrailNotFoundException");
		return -1;
	}
	return 0;
}

static int
custom_step_parse(struct custom_step *st, const config_setting_t *g,
    int allow_live, const char *scenario, char **cause)
{
	config_setting_t	*p;
	const char		*svc, *action, *expect;

	memset(st, 0, sizeof(*st));
	st->line = config_setting_source_line(g);
	if (!config_setting_is_group(g)) {
		custom_err(cause, g, "a step must be a group { service = ...; "
		    "action = ...; }");
		return -1;
	}
	if (custom_check_keys(g, custom_step_keys, "step", cause) != 0)
		return -1;
	if (custom_get_str(g, "service", 1, &svc, "step", cause) != 0 ||
	    custom_get_str(g, "action", 1, &action, "step", cause) != 0 ||
	    custom_get_str(g, "expect_error", 0, &expect, "step", cause) != 0)
		return -1;
	if ((st->svc = aws_service_find(svc)) == NULL) {
		const struct aws_service	*s;
		char				*list = xstrdup("");

		for (s = aws_services(); s->id != NULL; s++) {
			char *t = xprintf("%s%s%s", list, *list ? ", " : "",
			    s->id);
			free(list);
			list = t;
		}
		custom_err(cause, config_setting_get_member(g, "service"),
		    "unknown service \"%s\" (known: %s)", svc, list);
		free(list);
		return -1;
	}
	if (!custom_action_ok(action)) {
		custom_err(cause, config_setting_get_member(g, "action"),
		    "\"%s\" is not an action name (e.g. \"DescribeVpcs\")",
		    action);
		return -1;
	}
	if (aws_action_known(st->svc, action) == 0) {
		custom_err(cause, config_setting_get_member(g, "action"),
		    "%s has no action \"%s\" (a request the service cannot "
		    "parse never reaches CloudTrail)", st->svc->id, action);
		return -1;
	}
	st->action = xstrdup(action);
	if (expect != NULL) {
		if (*expect == '\0' || strchr(expect, ' ') != NULL) {
			custom_err(cause, config_setting_get_member(g,
			    "expect_error"), "expect_error must be an error "
			    "code such as \"TrailNotFoundException\"");
			return -1;
		}
		st->expect_error = xstrdup(expect);
	}
	if ((p = config_setting_get_member(g, "params")) != NULL) {
		if (custom_is_flat(st->svc)) {
			if (!config_setting_is_group(p) &&
			    !config_setting_is_list(p) &&
			    !config_setting_is_array(p)) {
				custom_err(cause, p, "params of %s must be a "
				    "group of scalars or a list of "
				    "\"Key=Value\" strings", st->svc->id);
				return -1;
			}
			if (custom_flat_params(st, p, cause) != 0)
				return -1;
		} else if (custom_json_params(st, p, cause) != 0)
			return -1;
		if (custom_check_placeholders(st, p, cause) != 0)
			return -1;
	}
	if (custom_step_regions(st, g, cause) != 0)
		return -1;
	return custom_step_safety(st, g, allow_live, scenario, cause);
}

/* ---- the scenario ---------------------------------------------------------- */

static char **
custom_strv_add(char **v, const char *s)
{
	size_t	 n = 0;

	if (v != NULL)
		while (v[n] != NULL) {
			if (strcmp(v[n], s) == 0)
				return v;
			n++;
		}
	v = xreallocarray(v, n + 2, sizeof(*v));
	v[n] = xstrdup(s);
	v[n + 1] = NULL;
	return v;
}

static void
custom_strv_free(char **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static void
custom_build_def(struct custom_scenario *cs)
{
	struct custom_step	*st;
	struct scenario_def	*d = &cs->def;
	char			*s, *where;
	size_t			 i, j;
	int			 regional = 0;

	for (i = 0; i < cs->nsteps; i++) {
		st = &cs->steps[i];
		cs->def_services = custom_strv_add(cs->def_services,
		    st->svc->id);
		s = xprintf("%s:%s", st->svc->id, st->action);
		cs->def_permissions = custom_strv_add(cs->def_permissions, s);
		free(s);
		switch (st->regions_kind) {
		case CUSTOM_REGIONS_ALL:
			where = xstrdup("every region");
			regional = 1;
			break;
		case CUSTOM_REGIONS_GLOBAL:
			where = xstrdup(st->svc->global ? "global" :
			    "home region");
			break;
		default:
			where = xstrdup("");
			for (j = 0; st->regions[j] != NULL; j++) {
				s = xprintf("%s%s%s", where, j ? ", " : "",
				    st->regions[j]);
				free(where);
				where = s;
			}
			regional = 1;
			break;
		}
		s = xprintf("%s:%s (%s%s%s, %s)", st->svc->id, st->action,
		    aws_safety_name(st->safety), st->expect_error ?
		    ": " : "", st->expect_error ? st->expect_error : "", where);
		cs->def_calls = custom_strv_add(cs->def_calls, s);
		free(s);
		free(where);
	}
	if (regional) {
		cs->def_permissions = custom_strv_add(cs->def_permissions,
		    "ec2:DescribeRegions");
		cs->def_calls = custom_strv_add(cs->def_calls,
		    "ec2:DescribeRegions (read-only, once: the enabled "
		    "regions)");
	}
	memset(d, 0, sizeof(*d));
	d->name = cs->name;
	d->summary = cs->summary;
	d->description = cs->description ? cs->description : cs->summary;
	d->services = (const char *const *)cs->def_services;
	d->permissions = (const char *const *)cs->def_permissions;
	d->mitre = (const char *const *)cs->mitre;
	d->calls = (const char *const *)cs->def_calls;
	d->start = custom_start;
	d->state_size = sizeof(struct custom_state);
	d->needs_regions = regional;
}

struct custom_scenario *
custom_from_config(const config_setting_t *g, char **cause)
{
	struct custom_scenario	*cs;
	config_setting_t	*m, *steps, *e;
	const char		*name, *summary, *descr, *file;
	char			*why = NULL;
	int			 i, n;

	if (!config_setting_is_group(g)) {
		custom_err(cause, g, "a custom scenario must be a group "
		    "{ name = ...; summary = ...; steps = (...); }");
		return NULL;
	}
	if (custom_check_keys(g, custom_scenario_keys, "custom scenario",
	    cause) != 0)
		return NULL;
	if (custom_get_str(g, "name", 1, &name, "custom scenario",
	    cause) != 0)
		return NULL;
	if (custom_name_ok(name, &why) != 0) {
		custom_err(cause, config_setting_get_member(g, "name"), "%s",
		    why);
		free(why);
		return NULL;
	}
	if (custom_get_str(g, "summary", 1, &summary, "custom scenario",
	    cause) != 0 || custom_get_str(g, "description", 0, &descr,
	    "custom scenario", cause) != 0)
		return NULL;
	if (strchr(summary, '\n') != NULL) {
		custom_err(cause, config_setting_get_member(g, "summary"),
		    "summary must be one line");
		return NULL;
	}

	cs = xcalloc(1, sizeof(*cs));
	cs->name = xstrdup(name);
	cs->summary = xstrdup(summary);
	cs->description = xstrdup_or_null(descr);
	file = config_setting_source_file(g);
	cs->file = xstrdup(file ? file : "config");
	cs->line = config_setting_source_line(g);
	cs->mitre = xcalloc(1, sizeof(*cs->mitre));

	if ((m = config_setting_get_member(g, "allow_live")) != NULL) {
		if (config_setting_type(m) != CONFIG_TYPE_BOOL) {
			custom_err(cause, m, "allow_live must be true or "
			    "false");
			goto fail;
		}
		cs->allow_live = config_setting_get_bool(m);
	}
	if ((m = config_setting_get_member(g, "mitre")) != NULL) {
		if (!config_setting_is_array(m) && !config_setting_is_list(m)) {
			custom_err(cause, m, "mitre must be a list of "
			    "technique IDs such as \"T1562.008\"");
			goto fail;
		}
		n = config_setting_length(m);
		for (i = 0; i < n; i++) {
			e = config_setting_get_elem(m, (unsigned)i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING ||
			    !custom_mitre_ok(config_setting_get_string(e))) {
				custom_err(cause, e, "mitre entries are "
				    "technique IDs such as \"T1562.008\" "
				    "(optionally followed by a space and a "
				    "name)");
				goto fail;
			}
			cs->mitre = custom_strv_add(cs->mitre,
			    config_setting_get_string(e));
		}
	}
	steps = config_setting_get_member(g, "steps");
	if (steps == NULL || (!config_setting_is_list(steps) &&
	    !config_setting_is_array(steps)) ||
	    config_setting_length(steps) == 0) {
		custom_err(cause, steps ? steps : g, "custom scenario \"%s\" "
		    "needs steps = ( { service = ...; action = ...; }, ... )",
		    name);
		goto fail;
	}
	n = config_setting_length(steps);
	cs->steps = xcalloc((size_t)n, sizeof(*cs->steps));
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(steps, (unsigned)i);
		if (custom_step_parse(&cs->steps[i], e, cs->allow_live, name,
		    cause) != 0) {
			custom_step_clear(&cs->steps[i]);
			goto fail;
		}
		cs->nsteps++;
	}
	custom_build_def(cs);
	return cs;

fail:
	custom_free(cs);
	return NULL;
}

struct custom_scenario **
custom_list_from_config(const config_setting_t *list, char **cause)
{
	struct custom_scenario	**v;
	config_setting_t	*e;
	int			  i, j, n;

	if (!config_setting_is_list(list) && !config_setting_is_array(list)) {
		custom_err(cause, list, "custom scenarios must be a list "
		    "( { name = ...; ... }, ... )");
		return NULL;
	}
	n = config_setting_length(list);
	v = xcalloc((size_t)n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(list, (unsigned)i);
		if ((v[i] = custom_from_config(e, cause)) == NULL)
			goto fail;
		for (j = 0; j < i; j++) {
			if (strcmp(v[j]->name, v[i]->name) != 0)
				continue;
			custom_err(cause, config_setting_get_member(e, "name"),
			    "custom scenario \"%s\" is already declared at "
			    "line %d", v[i]->name, v[j]->line);
			goto fail;
		}
	}
	return v;

fail:
	custom_list_free(v);
	return NULL;
}

void
custom_free(struct custom_scenario *cs)
{
	size_t	 i;

	if (cs == NULL)
		return;
	for (i = 0; i < cs->nsteps; i++)
		custom_step_clear(&cs->steps[i]);
	free(cs->steps);
	free(cs->name);
	free(cs->summary);
	free(cs->description);
	free(cs->file);
	custom_strv_free(cs->mitre);
	custom_strv_free(cs->def_services);
	custom_strv_free(cs->def_permissions);
	custom_strv_free(cs->def_calls);
	free(cs);
}

void
custom_list_free(struct custom_scenario **v)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		custom_free(v[i]);
	free(v);
}

const struct scenario_def *
custom_def(const struct custom_scenario *cs)
{
	return &cs->def;
}

const struct custom_scenario *
custom_find(struct custom_scenario *const *list, const char *name)
{
	size_t	 i;

	for (i = 0; list != NULL && list[i] != NULL; i++)
		if (strcmp(list[i]->name, name) == 0)
			return list[i];
	return NULL;
}

struct aws_request *
custom_step_request(const struct custom_step *st, const char *region,
    const char *run_id)
{
	struct aws_request	*req;
	const char		*key;
	json_t			*input, *v;
	char			*val, *why = NULL;
	size_t			 i;

	req = aws_request_new(st->svc, st->action, region);
	req->safety = st->safety;
	free(req->run_id);
	req->run_id = xstrdup(run_id);
	if (st->expect_error != NULL)
		req->expect_error = xstrdup(st->expect_error);
	for (i = 0; i < st->nparams; i++) {
		/* Validated at load time: cannot fail. */
		if ((val = custom_subst(st->params[i].value, run_id, region,
		    &why)) == NULL)
			fatalx("%s: %s", __func__, why);
		aws_request_add(req, st->params[i].key, "%s", val);
		free(val);
	}
	if (st->input != NULL) {
		if ((input = custom_json_subst(st->input, run_id, region,
		    &why)) == NULL)
			fatalx("%s: %s", __func__, why);
		json_object_foreach(input, key, v)
			aws_request_set(req, key, json_incref(v));
		json_decref(input);
	}
	return req;
}

/* ---- the step runner ------------------------------------------------------- */

static void	 custom_next(struct run *, void *);

static int
custom_run_has_region(struct run *run, const char *r)
{
	const char *const	*v = run_regions(run);
	size_t			 i, n = run_nregions(run);

	for (i = 0; i < n; i++)
		if (strcmp(v[i], r) == 0)
			return 1;
	return 0;
}

/*
 * The pagination tokens of a service (input name, output name), or 0 when
 * its calls do not paginate that way (S3 bucket calls).
 */
static int
custom_tokens(const struct aws_service *svc, const char **in,
    const char **out)
{
	switch (svc->protocol) {
	case AWS_PROTO_EC2:
		*in = "NextToken";
		*out = "nextToken";
		return 1;
	case AWS_PROTO_QUERY:
		/* IAM (with IsTruncated) and RDS page with Marker. */
		if (strcmp(svc->id, "iam") == 0 || strcmp(svc->id, "rds") == 0)
			*in = *out = "Marker";
		else
			*in = *out = "NextToken";
		return 1;
	case AWS_PROTO_JSON:
		*in = *out = "NextToken";
		return 1;
	case AWS_PROTO_RESTJSON:
		*in = "NextToken";
		*out = "nextToken";
		return 1;
	case AWS_PROTO_RESTXML:
		break;
	}
	return 0;
}

/* Read-only steps follow every page, like the built-ins. */
static void
custom_send(struct run *run, struct run_group *g, const struct custom_step *st,
    const char *region)
{
	struct aws_request	*req;
	const char		*in, *out;

	req = custom_step_request(st, region, run_id(run));
	if (st->safety == AWS_SAFE_READ_ONLY && custom_tokens(st->svc, &in,
	    &out))
		run_group_paginate(g, req, in, out, NULL, NULL);
	else
		run_group_call(g, req, NULL, NULL);
}

static void
custom_next(struct run *run, void *arg)
{
	struct custom_state		*cst = run_state(run);
	const struct custom_scenario	*cs = run_custom(run);
	const struct custom_step	*st;
	const char *const		*regions;
	struct run_group		*g;
	char				*label;
	size_t				 i, n;

	if (cst->step >= cs->nsteps) {
		run_finish(run);
		return;
	}
	st = &cs->steps[cst->step++];
	label = xprintf("step %zu: %s:%s", cst->step, st->svc->id, st->action);
	g = run_group_new(run, custom_next, NULL);
	switch (st->regions_kind) {
	case CUSTOM_REGIONS_GLOBAL:
		run_progress(run, run_home_region(run), label);
		custom_send(run, g, st, run_home_region(run));
		break;
	case CUSTOM_REGIONS_ALL:
		regions = run_regions(run);
		n = run_nregions(run);
		for (i = 0; i < n; i++) {
			run_progress(run, regions[i], label);
			custom_send(run, g, st, regions[i]);
		}
		break;
	case CUSTOM_REGIONS_LIST:
		for (i = 0; st->regions[i] != NULL; i++) {
			if (!custom_run_has_region(run, st->regions[i])) {
				run_skip(run, st->svc->id, st->action,
				    st->regions[i], NULL, 1, "not among the "
				    "run's enabled regions");
				continue;
			}
			run_progress(run, st->regions[i], label);
			custom_send(run, g, st, st->regions[i]);
		}
		break;
	}
	free(label);
	run_group_close(g);
}

static void
custom_start(struct run *run)
{
	if (run_custom(run) == NULL) {
		run_error(run, NULL, "custom scenario without a definition");
		run_finish(run);
		return;
	}
	custom_next(run, NULL);
}
