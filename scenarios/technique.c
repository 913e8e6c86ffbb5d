/*
 * technique: the data-driven technique engine (#11); see technique.h.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "aws.h"
#include "buf.h"
#include "log.h"
#include "scenario.h"
#include "technique.h"
#include "util.h"
#include "xmalloc.h"

/* Collected values of the run as a whole (home and global steps). */
#define TECH_RUN_KEY	""

struct tech_state {
	const struct technique	*t;
	size_t			 next;		/* the next step */
	json_t			*collected;	/* region: {step: value} */
};

static void	tech_next_step(struct run *, void *);

/* ---- placeholders ------------------------------------------------------ */

void
technique_fake_instance_id(const char *run_id, char *buf, size_t len)
{
	snprintf(buf, len, "i-%.17s", run_id);
}

static int
tech_name_char(int c)
{
	return islower(c) || isdigit(c) || c == '_' || c == '.' || c == '-';
}

char *
technique_expand(const char *tmpl, const struct technique_vars *vars,
    char **missing)
{
	struct buf	 b;
	const char	*p, *q, *v;
	char		*name, fake[32];
	json_t		*j;

	*missing = NULL;
	buf_init(&b);
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '{') {
			buf_addch(&b, *p);
			continue;
		}
		q = p + 1;
		while (*q != '\0' && tech_name_char((unsigned char)*q))
			q++;
		if (*q != '}' || q == p + 1) {
			buf_addch(&b, *p);	/* not a placeholder */
			continue;
		}
		name = xstrndup(p + 1, (size_t)(q - p - 1));
		v = NULL;
		if (strcmp(name, "run") == 0 || strcmp(name, "run_id") == 0)
			v = vars->run_id;
		else if (strcmp(name, "name") == 0) {
			buf_printf(&b, "cloudsaga-%s", vars->run_id);
			free(name);
			p = q;
			continue;
		} else if (strcmp(name, "account_id") == 0)
			v = vars->account_id;
		else if (strcmp(name, "region") == 0)
			v = vars->region;
		else if (strcmp(name, "run17") == 0) {
			snprintf(fake, sizeof(fake), "%.17s", vars->run_id);
			v = fake;
		} else if (strcmp(name, "fake_instance_id") == 0) {
			technique_fake_instance_id(vars->run_id, fake,
			    sizeof(fake));
			v = fake;
		} else if (strncmp(name, "step.", 5) == 0 &&
		    vars->collected != NULL &&
		    (j = json_object_get(vars->collected, name + 5)) != NULL)
			v = json_string_value(j);
		if (v == NULL || *v == '\0') {
			*missing = name;
			buf_free(&b);
			return NULL;
		}
		buf_addstr(&b, v);
		free(name);
		p = q;
	}
	return buf_release(&b);
}

/* Expand every string of j in place; 0, or -1 with *missing. */
static int
tech_expand_json(json_t *j, const struct technique_vars *vars,
    char **missing)
{
	const char	*k;
	json_t		*v;
	size_t		 i;
	char		*s;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		json_object_foreach(j, k, v) {
			if (json_is_string(v)) {
				if ((s = technique_expand(json_string_value(v),
				    vars, missing)) == NULL)
					return -1;
				json_object_set_new(j, k, json_string(s));
				free(s);
			} else if (tech_expand_json(v, vars, missing) != 0)
				return -1;
		}
		return 0;
	case JSON_ARRAY:
		json_array_foreach(j, i, v) {
			if (json_is_string(v)) {
				if ((s = technique_expand(json_string_value(v),
				    vars, missing)) == NULL)
					return -1;
				json_array_set_new(j, i, json_string(s));
				free(s);
			} else if (tech_expand_json(v, vars, missing) != 0)
				return -1;
		}
		return 0;
	default:
		return 0;
	}
}

static int
tech_uses(const char *s, const char *what)
{
	return s != NULL && strstr(s, what) != NULL;
}

int
technique_needs_account(const struct technique *t)
{
	const struct technique_step	*s;

	for (s = t->steps; s->id != NULL; s++)
		if (tech_uses(s->params, "{account_id}") ||
		    tech_uses(s->fallback, "{account_id}"))
			return 1;
	return 0;
}

static int
tech_needs_regions(const struct technique *t)
{
	const struct technique_step	*s;

	for (s = t->steps; s->id != NULL; s++)
		if (s->scope == TECH_REGIONS)
			return 1;
	return 0;
}

/* ---- running ----------------------------------------------------------- */

static const char *
tech_scope_key(const struct technique_step *s, const char *region)
{
	return s->scope == TECH_REGIONS ? region : TECH_RUN_KEY;
}

/* The values a call in region can use: the run's, then the region's. */
static json_t *
tech_collected(struct tech_state *st, const char *region)
{
	json_t	*all, *r;

	all = json_deep_copy(json_object_get(st->collected, TECH_RUN_KEY));
	if (all == NULL)
		all = json_object();
	if ((r = json_object_get(st->collected, region)) != NULL)
		json_object_update(all, r);
	return all;
}

static void
tech_store(struct tech_state *st, const char *key, const char *step,
    const char *value)
{
	json_t	*r;

	if ((r = json_object_get(st->collected, key)) == NULL) {
		r = json_object();
		json_object_set_new(st->collected, key, r);
	}
	json_object_set_new(r, step, json_string(value));
}

static void
tech_account_cb(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	const char	*acct;

	if (res->outcome != AWS_OK)
		return;
	if ((acct = aws_json_str(res->data, "Account")) != NULL &&
	    *acct != '\0')
		run_set_account_id(run, acct);
}

static void
tech_result(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	const struct technique_step	*s = arg;
	struct tech_state		*st = run_state(run);
	json_t				*v;

	if (s->collect == NULL || res->outcome != AWS_OK)
		return;
	v = aws_json_path(res->data, s->collect);
	if (json_is_string(v) && json_string_length(v) > 0)
		tech_store(st, tech_scope_key(s, req->region), s->id,
		    json_string_value(v));
}

static void
tech_call(struct run_group *g, struct run *run, struct tech_state *st,
    const struct technique_step *s, const char *region)
{
	struct technique_vars	 vars;
	struct aws_request	*req;
	json_error_t		 err;
	json_t			*input;
	char			*missing = NULL, *detail = NULL;

	memset(&vars, 0, sizeof(vars));
	vars.run_id = run_id(run);
	vars.account_id = run_account_id(run);
	vars.region = region;
	vars.collected = tech_collected(st, region);

	input = json_loads(s->params != NULL ? s->params : "{}", 0, &err);
	if (!json_is_object(input))
		fatalx("technique %s step %s: bad params: %s", st->t->name,
		    s->id, err.text);
	if (tech_expand_json(input, &vars, &missing) != 0 ||
	    (s->target != NULL &&
	    (detail = technique_expand(s->target, &vars, &missing)) == NULL)) {
		if (strcmp(missing, "account_id") == 0)
			run_skip(run, s->service, s->action, region, NULL, 0,
			    "not sent: the account ID is unknown "
			    "(sts:GetCallerIdentity failed)");
		else if (strncmp(missing, "step.", 5) == 0)
			run_skip(run, s->service, s->action, region, NULL, 1,
			    "nothing to aim at: %s found nothing",
			    missing + 5);
		else
			fatalx("technique %s step %s: unknown placeholder "
			    "{%s}", st->t->name, s->id, missing);
		free(missing);
		json_decref(input);
		json_decref(vars.collected);
		return;
	}
	json_decref(vars.collected);

	req = run_request(run, s->service, s->action, region, s->safety);
	json_decref(req->input);
	req->input = input;
	if (s->expect_error != NULL) {
		free(req->expect_error);
		req->expect_error = xstrdup(s->expect_error);
	}
	req->role = s->role;
	req->evidence = s->evidence;
	run_group_call_detail(g, req, detail, tech_result, (void *)s);
	free(detail);
}

/* After a collecting step: the fallback where nothing was found. */
static void
tech_fallbacks(struct run *run, struct tech_state *st,
    const struct technique_step *s)
{
	const char *const	*regions = run_regions(run);
	const char		*home = run_home_region(run);
	struct technique_vars	 vars;
	const char		*key;
	char			*v, *missing = NULL;
	size_t			 i, n;
	json_t			*r;

	n = s->scope == TECH_REGIONS ? run_nregions(run) : 1;
	for (i = 0; i < n; i++) {
		key = s->scope == TECH_REGIONS ? regions[i] : TECH_RUN_KEY;
		if (s->scope == TECH_REGIONS && run_region_off(run, key))
			continue;
		r = json_object_get(st->collected, key);
		if (json_object_get(r, s->id) != NULL)
			continue;
		if (s->fallback == NULL) {
			run_note(run, s->scope == TECH_REGIONS ? key : NULL,
			    "%s:%s found nothing: the calls aimed at it are "
			    "skipped", s->service, s->action);
			continue;
		}
		memset(&vars, 0, sizeof(vars));
		vars.run_id = run_id(run);
		vars.account_id = run_account_id(run);
		vars.region = s->scope == TECH_REGIONS ? key : home;
		if ((v = technique_expand(s->fallback, &vars, &missing)) ==
		    NULL) {
			free(missing);
			continue;
		}
		tech_store(st, key, s->id, v);
		run_note(run, s->scope == TECH_REGIONS ? key : NULL,
		    "%s:%s found nothing: the calls that need it aim at %s "
		    "instead", s->service, s->action, v);
		free(v);
	}
}

static void
tech_step_done(struct run *run, void *arg)
{
	const struct technique_step	*s = arg;
	struct tech_state		*st = run_state(run);

	if (s != NULL && s->collect != NULL)
		tech_fallbacks(run, st, s);
	tech_next_step(run, NULL);
}

static void
tech_next_step(struct run *run, void *arg)
{
	struct tech_state		*st = run_state(run);
	const struct technique_step	*s;
	const char *const		*regions;
	struct run_group		*g;
	size_t				 i, n;

	(void)arg;
	s = &st->t->steps[st->next];
	if (s->id == NULL || run_halted(run)) {
		run_finish(run);
		return;
	}
	st->next++;
	g = run_group_new(run, tech_step_done, (void *)s);
	if (s->scope == TECH_REGIONS) {
		regions = run_regions(run);
		n = run_nregions(run);
		for (i = 0; i < n; i++) {
			run_progress(run, regions[i], s->id);
			tech_call(g, run, st, s, regions[i]);
		}
	} else
		tech_call(g, run, st, s, run_home_region(run));
	run_group_close(g);
}

static void
tech_start(struct run *run)
{
	struct tech_state	*st = run_state(run);
	struct run_group	*g;
	struct aws_request	*req;

	if ((st->t = technique_find(run_scenario(run))) == NULL)
		fatalx("%s: no technique %s", __func__, run_scenario(run));
	st->collected = json_object();
	if (technique_needs_account(st->t) && run_account_id(run) == NULL) {
		g = run_group_new(run, tech_next_step, NULL);
		req = run_request(run, "sts", "GetCallerIdentity",
		    run_home_region(run), AWS_SAFE_READ_ONLY);
		req->role = AWS_ROLE_CONTEXT;
		req->evidence = AWS_EVIDENCE_DOCUMENTED;
		run_group_call(g, req, tech_account_cb, NULL);
		run_group_close(g);
		return;
	}
	tech_next_step(run, NULL);
}

static void
tech_cleanup(struct run *run)
{
	struct tech_state	*st = run_state(run);

	json_decref(st->collected);
}

/* ---- the registry entry ------------------------------------------------ */

static const char *
tech_scope_name(enum technique_scope s)
{
	switch (s) {
	case TECH_HOME:
		return "home region, once";
	case TECH_GLOBAL:
		return "global endpoint, us-east-1";
	case TECH_REGIONS:
		break;
	}
	return "every region";
}

/* "{run}" -> "<runid>" etc., for humans. */
static char *
tech_pretty(const char *tmpl)
{
	static const char *const map[][2] = {
		{ "{run}", "<runid>" }, { "{run_id}", "<runid>" },
		{ "{name}", "cloudsaga-<runid>" },
		{ "{account_id}", "<account>" }, { "{region}", "<region>" },
		{ "{fake_instance_id}", "i-<17 hex digits of the run ID>" },
		{ "{run17}", "<17 hex digits of the run ID>" },
	};
	struct buf	 b;
	const char	*p, *q;
	size_t		 i, n;

	buf_init(&b);
	for (p = tmpl; *p != '\0';) {
		for (i = 0; i < nitems(map); i++) {
			n = strlen(map[i][0]);
			if (strncmp(p, map[i][0], n) == 0)
				break;
		}
		if (i < nitems(map)) {
			buf_addstr(&b, map[i][1]);
			p += n;
		} else if (strncmp(p, "{step.", 6) == 0 &&
		    (q = strchr(p, '}')) != NULL) {
			buf_printf(&b, "<%.*s>", (int)(q - p - 6), p + 6);
			p = q + 1;
		} else
			buf_addch(&b, *p++);
	}
	return buf_release(&b);
}

static char *
tech_permission(const struct technique_step *s)
{
	if (s->permission != NULL)
		return xstrdup(s->permission);
	return xprintf("%s:%s", s->service, s->action);
}

static void
tech_strv_add_unique(char ***v, size_t *n, char *s)
{
	size_t	 i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], s) == 0) {
			free(s);
			return;
		}
	*v = xreallocarray(*v, *n + 2, sizeof(**v));
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

void
technique_def(const struct technique *t, struct scenario_def *d)
{
	const struct technique_step	*s;
	struct scenario_call_info	*ci;
	char				**perms = NULL, **svcs = NULL;
	char				**calls = NULL, *target;
	size_t				 nperm = 0, nsvc = 0, ncall = 0;
	size_t				 nci;
	size_t				 i = 0;
	int				 regions = tech_needs_regions(t);
	int				 acct = technique_needs_account(t);

	memset(d, 0, sizeof(*d));
	d->name = t->name;
	d->summary = t->summary;
	d->description = t->description;
	d->mitre = t->mitre;
	d->tactic = t->tactic;
	d->tactic_id = t->tactic_id;
	d->stratus = t->stratus;
	d->start = tech_start;
	d->state_size = sizeof(struct tech_state);
	d->cleanup = tech_cleanup;
	d->needs_regions = regions;

	for (nci = 0; t->steps[nci].id != NULL; nci++)
		;
	nci += (size_t)regions + (size_t)acct;
	ci = xcalloc(nci + 1, sizeof(*ci));
	perms = xcalloc(1, sizeof(*perms));
	svcs = xcalloc(1, sizeof(*svcs));
	calls = xcalloc(1, sizeof(*calls));
	if (regions) {
		ci[i++] = (struct scenario_call_info){ "ec2", "DescribeRegions",
		    AWS_SAFE_READ_ONLY, AWS_ROLE_CONTEXT,
		    AWS_EVIDENCE_DOCUMENTED, "CT-rec", "home region, once",
		    NULL, NULL };
		tech_strv_add_unique(&perms, &nperm,
		    xstrdup("ec2:DescribeRegions"));
		tech_strv_add_unique(&calls, &ncall, xstrdup(
		    "ec2:DescribeRegions (read-only, once: the enabled "
		    "regions)"));
	}
	if (acct) {
		ci[i++] = (struct scenario_call_info){ "sts",
		    "GetCallerIdentity", AWS_SAFE_READ_ONLY, AWS_ROLE_CONTEXT,
		    AWS_EVIDENCE_DOCUMENTED, "CT-glob", "home region, once",
		    NULL, NULL };
		tech_strv_add_unique(&perms, &nperm,
		    xstrdup("sts:GetCallerIdentity"));
		tech_strv_add_unique(&calls, &ncall, xstrdup(
		    "sts:GetCallerIdentity (read-only, once: the account "
		    "ID)"));
	}
	for (s = t->steps; s->id != NULL; s++) {
		target = s->target != NULL ? tech_pretty(s->target) : NULL;
		ci[i++] = (struct scenario_call_info){ s->service, s->action,
		    s->safety, s->role != AWS_ROLE_DEFAULT ? s->role :
		    aws_action_is_read_only(NULL, s->action) ?
		    AWS_ROLE_CONTEXT : AWS_ROLE_SIGNAL, s->evidence,
		    s->source, tech_scope_name(s->scope), target,
		    s->permission };
		tech_strv_add_unique(&perms, &nperm, tech_permission(s));
		tech_strv_add_unique(&svcs, &nsvc, xstrdup(s->service));
		tech_strv_add_unique(&calls, &ncall, xprintf("%s:%s%s%s (%s, "
		    "%s%s%s%s)", s->service, s->action, target ? " on " : "",
		    target ? target : "", aws_safety_name(s->safety),
		    tech_scope_name(s->scope), s->expect_error ? "; " : "",
		    s->expect_error ? "expects " : "",
		    s->expect_error ? s->expect_error : ""));
	}
	d->call_info = ci;
	d->permissions = (const char *const *)perms;
	d->services = (const char *const *)svcs;
	d->calls = (const char *const *)calls;
}
