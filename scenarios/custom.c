/*
 * custom: scenarios declared as steps in the configuration - the step
 * model (plain structs, filled by the config loader: daemon/
 * config_custom.c), its rules (custom_step_check(): the engine's safety
 * guard is the one safety check, run at load time on the step as a run
 * would send it), the registry's view, and the step runner.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "custom.h"
#include "log.h"
#include "scenario.h"
#include "strv.h"
#include "xmalloc.h"

/* The run ID steps are checked with at load time (any 32 hex will do). */
#define CUSTOM_CHECK_RUN_ID	"c0ffee00c0ffee00c0ffee00c0ffee00"

static void	 custom_start(struct run *);

struct custom_state {
	size_t	 step;		/* the next step to run */
};

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

/* ---- the model ------------------------------------------------------------ */

struct custom_scenario *
custom_new(const char *name, const char *summary, const char *description,
    const char *file, int line)
{
	struct custom_scenario	*cs;

	cs = xcalloc(1, sizeof(*cs));
	cs->name = xstrdup(name);
	cs->summary = xstrdup(summary);
	cs->description = xstrdup_or_null(description);
	cs->file = xstrdup(file != NULL ? file : "config");
	cs->line = line;
	cs->mitre = strv_new();
	return cs;
}

struct custom_step *
custom_step_add(struct custom_scenario *cs)
{
	struct custom_step	*st;

	cs->steps = xreallocarray(cs->steps, cs->nsteps + 1,
	    sizeof(*cs->steps));
	st = &cs->steps[cs->nsteps++];
	memset(st, 0, sizeof(*st));
	st->safety = AWS_SAFE_AUTO;
	st->role = AWS_ROLE_DEFAULT;
	st->evidence = AWS_EVIDENCE_DOCUMENTED;
	return st;
}

int
custom_flat_service(const struct aws_service *svc)
{
	return svc->protocol == AWS_PROTO_EC2 ||
	    svc->protocol == AWS_PROTO_QUERY;
}

const char *
custom_step_param_get(const struct custom_step *st, const char *k)
{
	size_t	 i;

	for (i = 0; i < st->nparams; i++)
		if (strcmp(st->params[i].key, k) == 0)
			return st->params[i].value;
	return NULL;
}

int
custom_step_param(struct custom_step *st, const char *k, const char *v)
{
	if (custom_step_param_get(st, k) != NULL)
		return -1;
	st->params = xreallocarray(st->params, st->nparams + 1,
	    sizeof(*st->params));
	st->params[st->nparams].key = xstrdup(k);
	st->params[st->nparams].value = xstrdup(v);
	st->nparams++;
	return 0;
}

/* ---- the rules of a step ---------------------------------------------------- */

static void __attribute__((format(printf, 4, 5)))
custom_error(custom_error_cb cb, void *arg, enum custom_field f,
    const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	cb(arg, f, msg);
	free(msg);
}

/* Every placeholder must be known. */
static int
custom_check_placeholders(const struct custom_step *st, custom_error_cb cb,
    void *arg)
{
	char	*why = NULL, *s;
	json_t	*j;
	size_t	 i;
	int	 nerr = 0;

	for (i = 0; i < st->nparams; i++) {
		if ((s = custom_subst(st->params[i].value, NULL, NULL,
		    &why)) == NULL) {
			custom_error(cb, arg, CUSTOM_FIELD_PARAMS,
			    "parameter \"%s\": %s", st->params[i].key, why);
			free(why);
			why = NULL;
			nerr++;
			continue;
		}
		free(s);
	}
	if (st->input != NULL) {
		if ((j = custom_json_subst(st->input, NULL, NULL, &why)) ==
		    NULL) {
			custom_error(cb, arg, CUSTOM_FIELD_PARAMS, "params: %s",
			    why);
			free(why);
			nerr++;
		} else
			json_decref(j);
	}
	return nerr;
}

/*
 * The safety class: stated, or inferred for read-only actions and EC2
 * calls with DryRun=true; then the engine's guard decides, on the request
 * a run would send.  Live steps need the scenario's switch, safe-fail
 * steps the error that proves the attempt.
 */
static int
custom_check_safety(struct custom_step *st, int allow_live,
    const char *scenario, custom_error_cb cb, void *arg)
{
	const struct aws_safe_fail *sf;
	struct aws_request	*req;
	const char		*id = st->svc->id;
	char			*why = NULL;
	int			 ro, ec2, dry, rc;

	ro = aws_action_is_read_only(st->svc, st->action);
	ec2 = strcmp(id, "ec2") == 0;
	req = custom_step_request(st, "us-east-1", CUSTOM_CHECK_RUN_ID);
	dry = aws_request_is_dry_run(req);

	if (custom_step_param_get(st, "DryRun") != NULL && !ec2) {
		aws_request_free(req);
		custom_error(cb, arg, CUSTOM_FIELD_STEP, "%s:%s: DryRun is an "
		    "EC2 parameter; other services ignore it (use safety "
		    "\"safe-fail\" with a {run_id} target)", id, st->action);
		return 1;
	}
	if (st->safety == AWS_SAFE_AUTO) {
		if (ro)
			st->safety = AWS_SAFE_READ_ONLY;
		else if (ec2 && dry)
			st->safety = AWS_SAFE_DRY_RUN;
		else {
			aws_request_free(req);
			custom_error(cb, arg, CUSTOM_FIELD_STEP, "%s:%s changes "
			    "the account: state its safety class "
			    "(\"safe-fail\" with a {run_id} target, or "
			    "\"live\")", id, st->action);
			return 1;
		}
	}
	/* The engine's guard, the one safety check (live: see below). */
	req->safety = st->safety;
	rc = aws_safety_check(req, 1, &why);
	aws_request_free(req);
	if (rc != 0) {
		custom_error(cb, arg, CUSTOM_FIELD_SAFETY, "%s", why);
		free(why);
		return 1;
	}
	if (st->safety == AWS_SAFE_LIVE && !allow_live) {
		custom_error(cb, arg, CUSTOM_FIELD_SAFETY, "live step %s:%s "
		    "changes the account: it needs allow_live = true in "
		    "scenario \"%s\" (and live calls enabled in the daemon)",
		    id, st->action, scenario);
		return 1;
	}
	if (st->safety == AWS_SAFE_FAIL && st->expect_error == NULL) {
		sf = aws_safe_fail_find(st->svc, st->action);
		custom_error(cb, arg, CUSTOM_FIELD_SAFETY, "safe-fail step "
		    "%s:%s needs expect_error: the not-found error that proves "
		    "the attempt (e.g. \"%s\")", id, st->action, sf != NULL ?
		    sf->not_found : "TrailNotFoundException");
		return 1;
	}
	return 0;
}

int
custom_step_check(struct custom_step *st, int allow_live,
    const char *scenario, custom_error_cb cb, void *arg)
{
	int	 nerr = 0;

	if (st->svc == NULL || st->action == NULL)
		return 0;	/* the parser has said why */
	if (st->svc->global && st->regions_kind != CUSTOM_REGIONS_GLOBAL) {
		custom_error(cb, arg, CUSTOM_FIELD_REGIONS, "%s is a global "
		    "service: regions must be \"global\"", st->svc->id);
		nerr++;
	}
	if (custom_check_placeholders(st, cb, arg) > 0)
		return nerr + 1;	/* no request to check */
	return nerr + custom_check_safety(st, allow_live, scenario, cb, arg);
}

static void
custom_step_clear(struct custom_step *st)
{
	size_t	 i;

	free(st->action);
	free(st->expect_error);
	strv_free(st->regions);
	for (i = 0; i < st->nparams; i++) {
		free(st->params[i].key);
		free(st->params[i].value);
	}
	free(st->params);
	json_decref(st->input);
	memset(st, 0, sizeof(*st));
}

void
custom_finish(struct custom_scenario *cs)
{
	struct custom_step	*st;
	struct scenario_def	*d = &cs->def;
	char			*s, *where;
	size_t			 i, j;
	int			 regional = 0;

	for (i = 0; i < cs->nsteps; i++) {
		st = &cs->steps[i];
		strv_add_unique(&cs->def_services, st->svc->id);
		s = xprintf("%s:%s", st->svc->id, st->action);
		strv_add_unique(&cs->def_permissions, s);
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
		strv_add_unique(&cs->def_calls, s);
		free(s);
		free(where);
	}
	if (regional) {
		strv_add_unique(&cs->def_permissions, "ec2:DescribeRegions");
		strv_add_unique(&cs->def_calls, "ec2:DescribeRegions "
		    "(read-only, once: the enabled regions)");
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
	strv_free(cs->mitre);
	strv_free(cs->def_services);
	strv_free(cs->def_permissions);
	strv_free(cs->def_calls);
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
	req->role = st->role;
	req->evidence = st->evidence;
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
