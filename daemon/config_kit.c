/*
 * config_kit: errors with FILE:LINE, typed getters and value checks for
 * the configuration loader (see config_kit.h).
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include <libconfig.h>

#include "buf.h"
#include "config.h"
#include "config_kit.h"
#include "endpoint.h"
#include "log.h"
#include "scenario.h"
#include "strv.h"
#include "util.h"
#include "xmalloc.h"

/* ---- errors --------------------------------------------------------- */

/*
 * The name of a source file for messages: libconfig records an @include
 * as written, relative to the include directory (the main file's).
 */
static char *
config_source_name(struct config_parse *p, const char *file)
{
	if (file == NULL || strcmp(file, p->path) == 0)
		return xstrdup(p->path);
	if (file[0] != '/' && p->include_dir != NULL &&
	    strcmp(p->include_dir, ".") != 0)
		return xprintf("%s/%s", p->include_dir, file);
	return xstrdup(file);
}

struct config_error *
config_err_new(struct config_parse *p, const char *file, int line)
{
	struct config_error	*e;

	p->errs = xreallocarray(p->errs, p->nerrs + 1, sizeof(*p->errs));
	e = &p->errs[p->nerrs];
	e->file = config_source_name(p, file);
	e->line = line;
	e->seq = p->nerrs++;
	return e;
}

void
config_err(struct config_parse *p, const config_setting_t *s,
    const char *fmt, ...)
{
	struct config_error	*e;
	va_list			 ap;

	if (s != NULL)
		e = config_err_new(p, config_setting_source_file(s),
		    config_setting_source_line(s));
	else
		e = config_err_new(p, NULL, 0);
	va_start(ap, fmt);
	xvasprintf(&e->msg, fmt, ap);
	va_end(ap);
}

/* Something legal but almost certainly wrong: one line of p->warns. */
void
config_warn(struct config_parse *p, const config_setting_t *s,
    const char *fmt, ...)
{
	char	*file;
	va_list	 ap;

	file = config_source_name(p, config_setting_source_file(s));
	if (p->warns.len > 0)
		buf_addch(&p->warns, '\n');
	buf_printf(&p->warns, "%s:%d: warning: ", file,
	    config_setting_source_line(s));
	va_start(ap, fmt);
	buf_vprintf(&p->warns, fmt, ap);
	va_end(ap);
	free(file);
}

static int
config_error_cmp(const void *a, const void *b)
{
	const struct config_error *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

char *
config_errors_join(struct config_parse *p)
{
	struct buf	 b;
	size_t		 i, j;

	/* Sort by file (the main one first, then in order of appearance),
	 * line, discovery. */
	for (i = 0; i < p->nerrs; i++) {
		p->errs[i].rank = 0;
		if (strcmp(p->errs[i].file, p->path) == 0)
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(p->errs[j].file, p->errs[i].file) == 0)
				break;
		p->errs[i].rank = j + 1;
	}
	qsort(p->errs, p->nerrs, sizeof(*p->errs), config_error_cmp);
	buf_init(&b);
	for (i = 0; i < p->nerrs; i++) {
		if (i > 0)
			buf_addch(&b, '\n');
		if (p->errs[i].line > 0)
			buf_printf(&b, "%s:%d: %s", p->errs[i].file,
			    p->errs[i].line, p->errs[i].msg);
		else
			buf_printf(&b, "%s: %s", p->errs[i].file,
			    p->errs[i].msg);
	}
	return buf_release(&b);
}

void
config_errors_free(struct config_parse *p)
{
	size_t	 i;

	for (i = 0; i < p->nerrs; i++) {
		free(p->errs[i].file);
		free(p->errs[i].msg);
	}
	free(p->errs);
	p->errs = NULL;
	p->nerrs = 0;
}

/* ---- names ------------------------------------------------------------ */

/* A built-in scenario of the registry. */
int
config_scenario_builtin(const char *name)
{
	return scenario_find(name) != NULL;
}

int
config_region_valid(const char *r)
{
	char	*cause = NULL;

	if (endpoint_region_check(r, NULL, NULL, &cause) == -1) {
		free(cause);
		return 0;
	}
	return 1;
}

int
config_name_valid(const char *s, size_t max)
{
	size_t	 i;

	if (!isalnum((unsigned char)s[0]) || strlen(s) > max)
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && strchr("_.-", s[i]) == NULL)
			return 0;
	return 1;
}

int
config_scenario_name_valid(const char *s)
{
	size_t	 i;

	if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
		return 0;
	for (i = 1; s[i] != '\0'; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	return i <= 64;
}

int
config_parse_time_of_day(const char *s)
{
	int	 h, m, sec = 0, n = 0;
	size_t	 len = strlen(s);

	if (len != 5 && len != 8)
		return -1;
	if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
	    s[2] != ':' || !isdigit((unsigned char)s[3]) ||
	    !isdigit((unsigned char)s[4]))
		return -1;
	if (len == 8 && (s[5] != ':' || !isdigit((unsigned char)s[6]) ||
	    !isdigit((unsigned char)s[7])))
		return -1;
	if (len == 8)
		n = sscanf(s, "%2d:%2d:%2d", &h, &m, &sec);
	else
		n = sscanf(s, "%2d:%2d", &h, &m) + 1;
	if (n != 3 || h > 23 || m > 59 || sec > 59)
		return -1;
	return h * 3600 + m * 60 + sec;
}

/* ---- typed getters ---------------------------------------------------- */

const char *
config_type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP:
		return "a group { }";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		return "an integer";
	case CONFIG_TYPE_FLOAT:
		return "a number";
	case CONFIG_TYPE_STRING:
		return "a string";
	case CONFIG_TYPE_BOOL:
		return "true or false";
	case CONFIG_TYPE_ARRAY:
		return "an array [ ]";
	case CONFIG_TYPE_LIST:
		return "a list ( )";
	}
	return "nothing";
}

/* Report every member of group not in allowed (NULL-terminated). */
void
config_check_keys(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *const *allowed)
{
	const config_setting_t	*s;
	const char		*name;
	size_t			 i;
	int			 n, j;

	n = config_setting_length(group);
	for (j = 0; j < n; j++) {
		s = config_setting_get_elem(group, j);
		name = config_setting_name(s);
		if (name == NULL)
			continue;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(name, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			if (path == NULL)
				config_err(p, s, "unknown key \"%s\"", name);
			else
				config_err(p, s, "%s: unknown key \"%s\"",
				    path, name);
		}
	}
}

/* The same, each message naming what the group is and every known key. */
void
config_check_keys_listed(struct config_parse *p, const config_setting_t *g,
    const char *const *keys, const char *what)
{
	const config_setting_t	*m;
	char			*list;
	size_t			 i;
	int			 n = config_setting_length(g), k;

	for (k = 0; k < n; k++) {
		m = config_setting_get_elem(g, (unsigned)k);
		if (m->name == NULL)
			continue;
		for (i = 0; keys[i] != NULL; i++)
			if (strcmp(keys[i], m->name) == 0)
				break;
		if (keys[i] != NULL)
			continue;
		list = strv_join((char *const *)keys, ", ");
		config_err(p, m, "unknown key \"%s\" in %s (known: %s)",
		    m->name, what, list);
		free(list);
	}
}

const config_setting_t *
config_member(const config_setting_t *group, const char *key)
{
	if (group == NULL)
		return NULL;
	return config_setting_get_member(group, key);
}

int
config_want(struct config_parse *p, const config_setting_t *s,
    const char *path, const char *key, int type)
{
	int	 t = config_setting_type(s);

	if (t == type)
		return 0;
	if (type == CONFIG_TYPE_INT && t == CONFIG_TYPE_INT64)
		return 0;
	if (path == NULL)
		config_err(p, s, "%s: expected %s, not %s", key,
		    config_type_name(type), config_type_name(t));
	else
		config_err(p, s, "%s.%s: expected %s, not %s", path, key,
		    config_type_name(type), config_type_name(t));
	return -1;
}

/*
 * String member; 1 and a copy in *ret when present and valid, 0 when
 * absent (a missing required key is reported at group's line), -1 when
 * bad.
 */
int
config_get_str(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *key, int required, config_str_check check,
    char **ret)
{
	const config_setting_t	*s;
	const char		*v;
	char			 fpath[128];

	if ((s = config_member(group, key)) == NULL) {
		if (required)
			config_err(p, group, "%s: missing \"%s\"", path, key);
		return 0;
	}
	if (config_want(p, s, path, key, CONFIG_TYPE_STRING) == -1)
		return -1;
	v = config_setting_get_string(s);
	if (*v == '\0') {
		config_err(p, s, "%s.%s: empty string", path, key);
		return -1;
	}
	snprintf(fpath, sizeof(fpath), "%s.%s", path, key);
	if (check != NULL && check(p, s, fpath, v) == -1)
		return -1;
	free(*ret);
	*ret = xstrdup(v);
	return 1;
}

int
config_get_duration(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *key, double min, double max, double *ret,
    const config_setting_t **ret_s)
{
	const config_setting_t	*s;
	const char		*v;
	double			 d;
	char			 a[32], b[32];

	if ((s = config_member(group, key)) == NULL)
		return 0;
	if (ret_s != NULL)
		*ret_s = s;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		config_err(p, s, "%s.%s: expected a duration string such as "
		    "\"90s\", \"15m\", \"6h\" or \"1d\", not %s", path, key,
		    config_type_name(config_setting_type(s)));
		return -1;
	}
	v = config_setting_get_string(s);
	if (duration_parse(v, &d) == -1) {
		config_err(p, s, "%s.%s: bad duration \"%s\" (use e.g. "
		    "\"90s\", \"15m\", \"6h\", \"1d\")", path, key, v);
		return -1;
	}
	if (d < min || d > max) {
		duration_format(min, a, sizeof(a));
		duration_format(max, b, sizeof(b));
		config_err(p, s, "%s.%s: %s is out of range (%s to %s)", path,
		    key, v, a, b);
		return -1;
	}
	*ret = d;
	return 1;
}

int
config_get_bool(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *key, int *ret)
{
	const config_setting_t	*s;

	if ((s = config_member(group, key)) == NULL)
		return 0;
	if (config_want(p, s, path, key, CONFIG_TYPE_BOOL) == -1)
		return -1;
	*ret = config_setting_get_bool(s) ? 1 : 0;
	return 1;
}

int
config_get_int(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *key, long long min, long long max, int *ret)
{
	const config_setting_t	*s;
	long long		 v;

	if ((s = config_member(group, key)) == NULL)
		return 0;
	if (config_want(p, s, path, key, CONFIG_TYPE_INT) == -1)
		return -1;
	v = config_setting_get_int64(s);
	if (v < min || v > max) {
		config_err(p, s, "%s.%s: %lld is out of range (%lld to %lld)",
		    path, key, v, min, max);
		return -1;
	}
	*ret = (int)v;
	return 1;
}

int
config_get_number(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *key, double min, double max, double *ret)
{
	const config_setting_t	*s;
	double			 v;

	if ((s = config_member(group, key)) == NULL)
		return 0;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		v = (double)config_setting_get_int64(s);
		break;
	case CONFIG_TYPE_FLOAT:
		v = config_setting_get_float(s);
		break;
	default:
		config_want(p, s, path, key, CONFIG_TYPE_FLOAT);
		return -1;
	}
	if (!isfinite(v) || v <= min || v > max) {
		config_err(p, s, "%s.%s: %g is out of range (more than %g, at "
		    "most %g)", path, key, v, min, max);
		return -1;
	}
	*ret = v;
	return 1;
}

/* A group member that must be a group; NULL when absent or wrong. */
const config_setting_t *
config_get_group(struct config_parse *p, const config_setting_t *parent,
    const char *path, const char *key)
{
	const config_setting_t	*s;

	if ((s = config_member(parent, key)) == NULL)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP) {
		if (path == NULL)
			config_err(p, s, "%s: expected a group { }, not %s",
			    key, config_type_name(config_setting_type(s)));
		else
			config_want(p, s, path, key, CONFIG_TYPE_GROUP);
		return NULL;
	}
	return s;
}

/* A list ( ) of groups; an empty array [ ] is an empty list. */
const config_setting_t *
config_get_list(struct config_parse *p, const config_setting_t *parent,
    const char *key)
{
	const config_setting_t	*s;
	int			 t;

	if ((s = config_member(parent, key)) == NULL)
		return NULL;
	t = config_setting_type(s);
	if (t == CONFIG_TYPE_LIST ||
	    (t == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
		return s;
	config_err(p, s, "%s: expected a list ( { ... }, ... ), not %s", key,
	    config_type_name(t));
	return NULL;
}

/*
 * A list of strings ([ "a", "b" ] or ( "a", "b" )).  Each element is
 * checked and duplicates are reported.  Always leaves a vector in *ret
 * (possibly empty) when the key is present.
 */
int
config_get_strlist(struct config_parse *p, const config_setting_t *group,
    const char *path, const char *key, config_str_check check, char ***ret)
{
	const config_setting_t	*s, *e;
	const char		*v;
	char			 epath[256];
	int			 t, i, n, bad = 0;

	if ((s = config_member(group, key)) == NULL)
		return 0;
	t = config_setting_type(s);
	if (t != CONFIG_TYPE_ARRAY && t != CONFIG_TYPE_LIST) {
		config_err(p, s, "%s.%s: expected a list of strings "
		    "[ \"a\", \"b\" ], not %s", path, key, config_type_name(t));
		return -1;
	}
	strv_free(*ret);
	*ret = strv_new();
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, i);
		snprintf(epath, sizeof(epath), "%s.%s[%d]", path, key, i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			config_err(p, e, "%s: expected a string, not %s", epath,
			    config_type_name(config_setting_type(e)));
			bad = 1;
			continue;
		}
		v = config_setting_get_string(e);
		if (check != NULL && check(p, e, epath, v) == -1) {
			bad = 1;
			continue;
		}
		if (strv_has(*ret, v)) {
			config_err(p, e, "%s.%s: \"%s\" is listed twice", path,
			    key, v);
			bad = 1;
			continue;
		}
		strv_add(ret, v);
	}
	return bad ? -1 : 1;
}

/* ---- value checks (config_str_check) -------------------------------- */

int
config_check_region(struct config_parse *p, const config_setting_t *s,
    const char *path, const char *v)
{
	char	*cause = NULL;

	if (endpoint_region_check(v, p->cfg != NULL ? p->cfg->aws.partition :
	    NULL, p->cfg != NULL ? (const char *const *)
	    p->cfg->aws.extra_regions : NULL, &cause) == -1) {
		config_err(p, s, "%s: %s", path, cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* aws.extra_regions: a region opened after cloudsagad was built must
 * still have its partition's form. */
int
config_check_region_form(struct config_parse *p, const config_setting_t *s,
    const char *path, const char *v)
{
	const char	*part, *want = p->cfg != NULL ? p->cfg->aws.partition :
			    NULL;

	if ((part = endpoint_region_partition(v, NULL)) == NULL) {
		config_err(p, s, "%s: bad region name \"%s\" (expected e.g. "
		    "\"us-east-1\")", path, v);
		return -1;
	}
	if (want != NULL && strcmp(part, want) != 0) {
		config_err(p, s, "%s: region \"%s\" is not in partition "
		    "\"%s\"", path, v, want);
		return -1;
	}
	return 0;
}

int
config_check_abs_path(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	if (v[0] != '/') {
		config_err(p, s, "%s: \"%s\" is not an absolute path", key, v);
		return -1;
	}
	return 0;
}

int
config_check_file_path(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	size_t	 n = strlen(v);

	if (v[n - 1] == '/') {
		config_err(p, s, "%s: \"%s\" names a directory, not a file",
		    key, v);
		return -1;
	}
	return 0;
}

int
config_check_log_level(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	int	 l = log_level_from_name(v);

	if (l < LOG_ERR || l > LOG_DEBUG) {
		config_err(p, s, "%s: unknown log level \"%s\" (err, "
		    "warning, notice, info, debug)", key, v);
		return -1;
	}
	return 0;
}

int
config_check_partition(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	if (endpoint_dns_suffix(v) == NULL) {
		config_err(p, s, "%s: unknown partition \"%s\" (aws, "
		    "aws-cn, aws-us-gov)", key, v);
		return -1;
	}
	return 0;
}

/* An endpoint override, checked as the engine will take it. */
int
config_check_url(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	char	*cause = NULL;

	if (strncasecmp(v, "http://", 7) != 0 &&
	    strncasecmp(v, "https://", 8) != 0) {
		config_err(p, s, "%s: \"%s\" is not an http:// or https:// URL",
		    key, v);
		return -1;
	}
	if (endpoint_url_check(key, v, &cause) == -1) {
		config_err(p, s, "%s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

int
config_check_token(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	size_t	 i;

	for (i = 0; v[i] != '\0'; i++)
		if (isspace((unsigned char)v[i]) ||
		    iscntrl((unsigned char)v[i])) {
			config_err(p, s, "%s: \"%s\" contains white space",
			    key, v);
			return -1;
		}
	return 0;
}

int
config_check_name(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	if (!config_name_valid(v, 64)) {
		config_err(p, s, "%s: bad name \"%s\" (letters, digits, "
		    "'_', '.', '-'; at most 64)", key, v);
		return -1;
	}
	return 0;
}


/* ---- settings as JSON ------------------------------------------------- */

json_t *
config_setting_json(const config_setting_t *s)
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
			json_object_set_new(r, e->name,
			    config_setting_json(e));
		}
		return r;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		r = json_array();
		n = config_setting_length(s);
		for (i = 0; i < n; i++)
			json_array_append_new(r, config_setting_json(
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

/* [PATH/]NAME of an IAM role (what a role ARN holds after "role/"): NAME
 * 1-64 of letters, digits and +=,.@_-, a path of printable ASCII. */
int
config_role_name_valid(const char *s)
{
	const char	*name, *p;

	if ((name = strrchr(s, '/')) != NULL) {
		for (p = s; p < name; p++)
			if (*p < 0x21 || *p > 0x7e)
				return 0;
		name++;
	} else
		name = s;
	if (*name == '\0' || strlen(name) > 64 || strlen(s) > 512)
		return 0;
	for (p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("+=,.@_-", *p) == NULL)
			return 0;
	return 1;
}

/* An STS ExternalId: 2-1224 of letters, digits and +=,.@:/_-. */
int
config_external_id_valid(const char *s)
{
	size_t	 n = strlen(s), i;

	if (n < 2 || n > 1224)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) &&
		    strchr("+=,.@:/_-", s[i]) == NULL)
			return 0;
	return 1;
}
