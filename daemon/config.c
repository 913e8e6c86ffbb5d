/*
 * config: parse, validate and print the daemon's configuration.
 *
 * One pass over libconfig's tree per group.  Every check that fails adds a
 * "FILE:LINE: message" to the list and parsing goes on, so a user sees
 * every problem at once.  Strings are copied out; the tree is destroyed
 * unless custom scenarios need it (struct config_custom).  Warnings
 * ("FILE:LINE: warning: message") do not fail the load: a loaded config
 * carries them for -n to print.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "buf.h"
#include "config.h"
#include "config_org.h"
#include "endpoint.h"
#include "custom.h"
#include "log.h"
#include "scenario.h"
#include "util.h"
#include "xmalloc.h"

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

/* ---- small string vectors (NULL-terminated) ------------------------- */

static size_t
strv_len(char *const *v)
{
	size_t	 n = 0;

	while (v != NULL && v[n] != NULL)
		n++;
	return n;
}

static void
strv_add(char ***v, const char *s)
{
	size_t	 n = strv_len(*v);

	*v = xreallocarray(*v, n + 2, sizeof(**v));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

static int
strv_has(char *const *v, const char *s)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

static void
strv_free(char **v)
{
	size_t	 i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static char **
strv_empty(void)
{
	return xcalloc(1, sizeof(char *));
}

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

static struct config_error *
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

static void __attribute__((format(printf, 3, 4)))
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
static void __attribute__((format(printf, 3, 4)))
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

/*
 * An error the step validator (custom.c) already formatted as
 * "FILE:LINE: message": keep its line, fall back to the setting's.
 */
static void
config_err_cause(struct config_parse *p, const config_setting_t *s,
    const char *cause)
{
	struct config_error	*e;
	const char		*c;
	char			*end;
	long			 line;

	/* Find ":LINE: " after the file name (which may contain ':'). */
	for (c = strchr(cause, ':'); c != NULL; c = strchr(c + 1, ':')) {
		line = strtol(c + 1, &end, 10);
		if (end != c + 1 && end[0] == ':' && end[1] == ' ' &&
		    line > 0) {
			e = config_err_new(p, config_setting_source_file(s),
			    (int)line);
			e->msg = xstrdup(end + 2);
			return;
		}
	}
	config_err(p, s, "%s", cause);
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

static char *
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

static void
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

/* ---- names, regions, ARNs ------------------------------------------- */

/*
 * The built-in scenarios.  Swap the body for scenario_find(name) != NULL
 * once the registry is linked in.
 */
int
config_scenario_builtin(const char *name)
{
	return scenario_find(name) != NULL;
}

/* Services an endpoint override may name (ids and the SDKs' aliases). */
static int
config_service_known(const char *name)
{
	static const char *const services[] = {
		"cloudtrail", "cloudwatch", "cloudwatch-logs", "ec2",
		"eventbridge", "events", "guardduty", "iam", "logs",
		"monitoring", "rds", "s3", "ssm", "sts",
	};
	size_t	 i;

	for (i = 0; i < nitems(services); i++)
		if (strcmp(name, services[i]) == 0)
			return 1;
	return 0;
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

static int
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

static int
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

/*
 * The account IDs of the AWS documentation's examples (and of
 * etc/cloudsagad.conf): a configuration that names one was copied and not
 * finished.  123456789012 is not here: moto, the sandbox, uses it.
 */
static int
config_account_placeholder(const char *id)
{
	return strncmp(id, "111122223333", 12) == 0 ||
	    strncmp(id, "444455556666", 12) == 0;
}

/*
 * arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME.  Returns the partition
 * length (the partition starts at arn + 4) or 0 when the shape is wrong.
 */
static size_t
config_role_arn_shape(const char *arn)
{
	const char	*p, *part, *name;
	size_t		 plen, i;

	if (strncmp(arn, "arn:", 4) != 0)
		return 0;
	part = arn + 4;
	if ((p = strchr(part, ':')) == NULL)
		return 0;
	plen = p - part;
	if (!((plen == 3 && strncmp(part, "aws", 3) == 0) ||
	    (plen == 6 && strncmp(part, "aws-cn", 6) == 0) ||
	    (plen == 10 && strncmp(part, "aws-us-gov", 10) == 0)))
		return 0;
	if (strncmp(p, ":iam::", 6) != 0)
		return 0;
	p += 6;
	for (i = 0; i < 12; i++)
		if (!isdigit((unsigned char)p[i]))
			return 0;
	p += 12;
	if (strncmp(p, ":role/", 6) != 0)
		return 0;
	p += 6;
	if ((name = strrchr(p, '/')) != NULL) {
		for (; p < name; p++)	/* path: printable ASCII */
			if (*p < 0x21 || *p > 0x7e)
				return 0;
		p = name + 1;
	}
	if (*p == '\0' || strlen(p) > 64)
		return 0;
	for (; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("+=,.@_-", *p) == NULL)
			return 0;
	return plen;
}

static int
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

static int
config_url_valid(const char *u)
{
	const char	*h;

	if (strncmp(u, "http://", 7) == 0)
		h = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		h = u + 8;
	else
		return 0;
	if (*h == '\0' || *h == '/')
		return 0;
	for (; *h != '\0'; h++)
		if (isspace((unsigned char)*h) || iscntrl((unsigned char)*h))
			return 0;
	return 1;
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

static const char *
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
static void
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

static const config_setting_t *
config_member(const config_setting_t *group, const char *key)
{
	if (group == NULL)
		return NULL;
	return config_setting_get_member(group, key);
}

static int
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
static int
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

static int
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

static int
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

static int
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

static int
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
static const config_setting_t *
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
static const config_setting_t *
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
static int
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
	*ret = strv_empty();
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

static int
config_check_region(struct config_parse *p, const config_setting_t *s,
    const char *path, const char *v)
{
	char	*cause = NULL;

	if (endpoint_region_check(v, p->cfg->aws.partition,
	    (const char *const *)p->cfg->aws.extra_regions, &cause) == -1) {
		config_err(p, s, "%s: %s", path, cause);
		free(cause);
		return -1;
	}
	return 0;
}

/* aws.extra_regions: a region opened after cloudsagad was built must
 * still have its partition's form. */
static int
config_check_region_form(struct config_parse *p, const config_setting_t *s,
    const char *path, const char *v)
{
	const char	*part, *want = p->cfg->aws.partition;

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

static int
config_check_abs_path(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	if (v[0] != '/') {
		config_err(p, s, "%s: \"%s\" is not an absolute path", key, v);
		return -1;
	}
	return 0;
}

static int
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

static int
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

static int
config_check_partition(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	if (strcmp(v, "aws") != 0 && strcmp(v, "aws-cn") != 0 &&
	    strcmp(v, "aws-us-gov") != 0) {
		config_err(p, s, "%s: unknown partition \"%s\" (aws, "
		    "aws-cn, aws-us-gov)", key, v);
		return -1;
	}
	return 0;
}

static int
config_check_url(struct config_parse *p, const config_setting_t *s,
    const char *key, const char *v)
{
	if (!config_url_valid(v)) {
		config_err(p, s, "%s: \"%s\" is not an http:// or https:// URL",
		    key, v);
		return -1;
	}
	return 0;
}

static int
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

static int
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

/* ---- settings as JSON ---------------------------------------------- */

/* ---- the groups ------------------------------------------------------- */

static const char *
config_default_state_dir(void)
{
	static char	 buf[4096];
	const char	*env = getenv("STATE_DIRECTORY");
	size_t		 n;

	if (env != NULL && env[0] == '/') {
		n = strcspn(env, ":");
		if (n < sizeof(buf)) {
			memcpy(buf, env, n);
			buf[n] = '\0';
			return buf;
		}
	}
	return CLOUDSAGA_LOCALSTATEDIR "/lib/cloudsagad";
}

static void
config_strip_slashes(char *s)
{
	size_t	 n = strlen(s);

	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
}

static void
config_parse_daemon(struct config_parse *p, const config_setting_t *root)
{
	static const char *const keys[] = { "state_dir", "report_file",
	    "log_level", "drain_timeout", "max_connections",
	    "http_connect_timeout", "http_timeout",
	    "max_connections_per_host", "shard", NULL };
	struct config_daemon	*d = &p->cfg->daemon;
	const config_setting_t	*g, *sc = NULL;
	char			*rf = NULL, a[32], b[32];

	d->state_dir = xstrdup(config_default_state_dir());
	d->log_level = xstrdup(CONFIG_DEFAULT_LOG_LEVEL);
	d->drain_timeout = CONFIG_DEFAULT_DRAIN;
	d->max_connections = CONFIG_DEFAULT_MAX_CONN;
	d->http_connect_timeout = CONFIG_DEFAULT_HTTP_CONNECT;
	d->http_timeout = CONFIG_DEFAULT_HTTP_TIMEOUT;
	d->max_connections_per_host = CONFIG_DEFAULT_MAX_PER_HOST;

	if ((g = config_get_group(p, root, NULL, "daemon")) != NULL) {
		config_check_keys(p, g, "daemon", keys);
		config_get_str(p, g, "daemon", "state_dir", 0,
		    config_check_abs_path, &d->state_dir);
		config_get_str(p, g, "daemon", "report_file", 0,
		    config_check_file_path, &rf);
		config_get_str(p, g, "daemon", "log_level", 0,
		    config_check_log_level, &d->log_level);
		config_get_duration(p, g, "daemon", "drain_timeout", 0, 3600,
		    &d->drain_timeout, NULL);
		config_get_int(p, g, "daemon", "max_connections", 1, 4096,
		    &d->max_connections);
		config_get_duration(p, g, "daemon", "http_connect_timeout",
		    1, 300, &d->http_connect_timeout, &sc);
		config_get_duration(p, g, "daemon", "http_timeout", 1, 3600,
		    &d->http_timeout, NULL);
		if (sc != NULL && d->http_connect_timeout > d->http_timeout) {
			duration_format(d->http_connect_timeout, a, sizeof(a));
			duration_format(d->http_timeout, b, sizeof(b));
			config_warn(p, sc, "daemon.http_connect_timeout (%s) is "
			    "longer than daemon.http_timeout (%s), which limits "
			    "connecting too", a, b);
		}
		config_get_int(p, g, "daemon", "max_connections_per_host", 1,
		    4096, &d->max_connections_per_host);
	}
	config_org_parse_shard(&(struct config_org_env){ p, config_err,
	    config_warn, p->cfg }, g, d);
	config_strip_slashes(d->state_dir);
	if (rf == NULL)
		d->report_file = xprintf("%s/report.jsonl", d->state_dir);
	else if (rf[0] != '/') {
		d->report_file = xprintf("%s/%s", d->state_dir, rf);
		free(rf);
	} else
		d->report_file = rf;
	d->log_priority = log_level_from_name(d->log_level);
	if (d->log_priority < LOG_ERR || d->log_priority > LOG_DEBUG)
		d->log_priority = LOG_INFO;
}

static int
config_url_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
config_parse_aws(struct config_parse *p, const config_setting_t *root)
{
	static const char *const keys[] = { "partition", "endpoint_url",
	    "endpoints", "profile", "extra_regions", NULL };
	struct config_aws	*a = &p->cfg->aws;
	const config_setting_t	*g, *eps, *s;
	const char		*name, *v;
	int			 i, n;

	a->partition = xstrdup(CONFIG_DEFAULT_PARTITION);
	a->service_urls = strv_empty();
	if ((g = config_get_group(p, root, NULL, "aws")) == NULL)
		return;
	config_check_keys(p, g, "aws", keys);
	config_get_str(p, g, "aws", "partition", 0, config_check_partition,
	    &a->partition);
	config_get_str(p, g, "aws", "endpoint_url", 0, config_check_url,
	    &a->endpoint_url);
	config_get_str(p, g, "aws", "profile", 0, config_check_token,
	    &a->profile);
	config_get_strlist(p, g, "aws", "extra_regions",
	    config_check_region_form, &a->extra_regions);
	if ((eps = config_get_group(p, g, "aws", "endpoints")) == NULL)
		return;
	n = config_setting_length(eps);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(eps, i);
		name = config_setting_name(s);
		if (!config_service_known(name)) {
			config_err(p, s, "aws.endpoints: unknown service \"%s\"",
			    name);
			continue;
		}
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			config_err(p, s, "aws.endpoints.%s: expected a URL "
			    "string, not %s", name,
			    config_type_name(config_setting_type(s)));
			continue;
		}
		v = config_setting_get_string(s);
		if (!config_url_valid(v)) {
			config_err(p, s, "aws.endpoints.%s: \"%s\" is not an "
			    "http:// or https:// URL", name, v);
			continue;
		}
		a->service_urls = xreallocarray(a->service_urls,
		    strv_len(a->service_urls) + 2, sizeof(char *));
		a->service_urls[strv_len(a->service_urls) + 1] = NULL;
		a->service_urls[strv_len(a->service_urls)] =
		    xprintf("%s=%s", name, v);
	}
	qsort(a->service_urls, strv_len(a->service_urls), sizeof(char *),
	    config_url_cmp);
}

static void
config_parse_account(struct config_parse *p, const config_setting_t *g,
    int idx, struct config_account *acct)
{
	static const char *const keys[] = { "name", "role_arn", "external_id",
	    "session_duration", "regions", "organization", NULL };
	static const char *const rkeys[] = { "include", "exclude", NULL };
	const config_setting_t	*s, *rg;
	const char		*part = p->cfg->aws.partition;
	char			 path[64], rpath[80];
	size_t			 plen, i;

	snprintf(path, sizeof(path), "accounts[%d]", idx);
	acct->line = config_setting_source_line(g);
	acct->session_duration = CONFIG_DEFAULT_SESSION;
	acct->include = strv_empty();
	acct->exclude = strv_empty();
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		config_err(p, g, "%s: expected a group { name = ...; }, not %s",
		    path, config_type_name(config_setting_type(g)));
		return;
	}
	config_check_keys(p, g, path, keys);
	config_get_str(p, g, path, "name", 1, config_check_name, &acct->name);
	if (config_get_str(p, g, path, "role_arn", 0, NULL,
	    &acct->role_arn) == 1) {
		s = config_member(g, "role_arn");
		plen = config_role_arn_shape(acct->role_arn);
		if (plen == 0)
			config_err(p, s, "%s.role_arn: \"%s\" is not an IAM "
			    "role ARN (arn:aws:iam::123456789012:role/NAME)",
			    path, acct->role_arn);
		else if (strlen(part) != plen ||
		    strncmp(acct->role_arn + 4, part, plen) != 0)
			config_err(p, s, "%s.role_arn: \"%s\" is not in "
			    "partition \"%s\"", path, acct->role_arn, part);
		else if (config_account_placeholder(acct->role_arn + 4 +
		    plen + 6))
			config_warn(p, s, "%s.role_arn: %.12s is an example "
			    "account ID from the AWS documentation, not a real "
			    "account", path, acct->role_arn + 4 + plen + 6);
	}
	if (config_get_str(p, g, path, "external_id", 0, NULL,
	    &acct->external_id) == 1) {
		s = config_member(g, "external_id");
		if (!config_external_id_valid(acct->external_id))
			config_err(p, s, "%s.external_id: 2 to 1224 of "
			    "letters, digits and +=,.@:/_- expected", path);
		else if (acct->role_arn == NULL &&
		    config_member(g, "role_arn") == NULL)
			config_err(p, s, "%s.external_id: needs a role_arn",
			    path);
	}
	config_get_duration(p, g, path, "session_duration", 900, 43200,
	    &acct->session_duration, NULL);
	if ((rg = config_get_group(p, g, path, "regions")) != NULL) {
		snprintf(rpath, sizeof(rpath), "%s.regions", path);
		config_check_keys(p, rg, rpath, rkeys);
		config_get_strlist(p, rg, rpath, "include",
		    config_check_region, &acct->include);
		config_get_strlist(p, rg, rpath, "exclude",
		    config_check_region, &acct->exclude);
		for (i = 0; acct->exclude[i] != NULL; i++)
			if (strv_has(acct->include, acct->exclude[i]))
				config_err(p, config_member(rg, "exclude"),
				    "%s: \"%s\" is both included and excluded",
				    rpath, acct->exclude[i]);
	}
	config_org_parse_account(&(struct config_org_env){ p, config_err,
	    config_warn, p->cfg }, g, path, acct);
}

static void
config_parse_accounts(struct config_parse *p, const config_setting_t *root)
{
	struct config		*c = p->cfg;
	const config_setting_t	*l;
	size_t			 i, j;
	int			 n;

	if ((l = config_get_list(p, root, "accounts")) != NULL &&
	    (n = config_setting_length(l)) > 0) {
		c->accounts = xcalloc(n, sizeof(*c->accounts));
		for (i = 0; i < (size_t)n; i++) {
			config_parse_account(p, config_setting_get_elem(l, i),
			    i, &c->accounts[i]);
			c->naccounts++;
			if (c->accounts[i].name == NULL)
				continue;
			for (j = 0; j < i; j++)
				if (c->accounts[j].name != NULL &&
				    strcmp(c->accounts[j].name,
				    c->accounts[i].name) == 0) {
					config_err(p, config_member(
					    config_setting_get_elem(l, i),
					    "name"), "duplicate account \"%s\" "
					    "(first at line %d)",
					    c->accounts[i].name,
					    c->accounts[j].line);
					break;
				}
		}
		return;
	}
	/* No accounts: one implicit account with the ambient credentials. */
	c->accounts = xcalloc(1, sizeof(*c->accounts));
	c->naccounts = 1;
	c->accounts[0].name = xstrdup(CONFIG_IMPLICIT_ACCOUNT);
	c->accounts[0].session_duration = CONFIG_DEFAULT_SESSION;
	c->accounts[0].include = strv_empty();
	c->accounts[0].exclude = strv_empty();
	c->accounts[0].implicit = 1;
}

/*
 * Would the verifier ask AWS's own CloudTrail (no endpoint override in
 * the configuration or, as for the daemon, the environment)?  Then real
 * delivery times apply.
 */
static int
config_cloudtrail_is_aws(struct config_parse *p)
{
	struct endpoint_opts	 eo;
	struct aws_endpoint	 ep;
	const char		*part = p->cfg->aws.partition, *region;
	char			*cause = NULL;
	int			 aws;

	region = strcmp(part, "aws-cn") == 0 ? "cn-north-1" :
	    strcmp(part, "aws-us-gov") == 0 ? "us-gov-west-1" : "us-east-1";
	memset(&eo, 0, sizeof(eo));
	eo.partition = part;
	eo.endpoint_url = p->cfg->aws.endpoint_url;
	eo.service_urls = (const char *const *)p->cfg->aws.service_urls;
	if (endpoint_resolve(aws_service_find("cloudtrail"), region, NULL, &eo,
	    &ep, &cause) == -1) {
		free(cause);	/* a bad override: reported where it is used */
		return 0;
	}
	aws = !ep.overridden;
	endpoint_free(&ep);
	return aws;
}

static void
config_parse_verify(struct config_parse *p, const config_setting_t *root)
{
	static const char *const keys[] = { "initial_delay", "interval",
	    "deadline", "lookup_rate", "skew", NULL };
	struct config_verify	*v = &p->cfg->verify;
	const config_setting_t	*g, *si = NULL, *sd = NULL, *sdl = NULL;
	char			 a[32], b[32];
	int			 ok_i, ok_d, ok_dl;

	v->initial_delay = CONFIG_DEFAULT_INITIAL_DELAY;
	v->interval = CONFIG_DEFAULT_INTERVAL;
	v->deadline = CONFIG_DEFAULT_DEADLINE;
	v->lookup_rate = CONFIG_DEFAULT_LOOKUP_RATE;
	v->skew = CONFIG_DEFAULT_SKEW;
	if ((g = config_get_group(p, root, NULL, "verify")) == NULL)
		return;
	config_check_keys(p, g, "verify", keys);
	ok_d = config_get_duration(p, g, "verify", "initial_delay", 0, 86400,
	    &v->initial_delay, &sd);
	ok_i = config_get_duration(p, g, "verify", "interval", 1, 86400,
	    &v->interval, &si);
	ok_dl = config_get_duration(p, g, "verify", "deadline", 1, 7 * 86400,
	    &v->deadline, &sdl);
	config_get_number(p, g, "verify", "lookup_rate", 0, 2.0,
	    &v->lookup_rate);
	config_get_duration(p, g, "verify", "skew", 0, 86400, &v->skew, NULL);
	if (ok_i != -1 && ok_dl != -1 && v->interval > v->deadline) {
		duration_format(v->interval, a, sizeof(a));
		duration_format(v->deadline, b, sizeof(b));
		config_err(p, si ? si : sdl ? sdl : g, "verify.interval (%s) is "
		    "longer than verify.deadline (%s)", a, b);
	}
	if (ok_d != -1 && ok_dl != -1 && v->initial_delay >= v->deadline) {
		duration_format(v->initial_delay, a, sizeof(a));
		duration_format(v->deadline, b, sizeof(b));
		config_err(p, sd ? sd : sdl ? sdl : g, "verify.initial_delay "
		    "(%s) is not shorter than verify.deadline (%s)", a, b);
	}
	if (ok_dl == 1 && v->deadline < CONFIG_CLOUDTRAIL_DELIVERY &&
	    config_cloudtrail_is_aws(p)) {
		duration_format(v->deadline, a, sizeof(a));
		duration_format(CONFIG_CLOUDTRAIL_DELIVERY, b, sizeof(b));
		config_warn(p, sdl, "verify.deadline (%s) is shorter than %s: "
		    "CloudTrail shows an event to LookupEvents after about 5 "
		    "minutes, sometimes 15, so calls it logs late would be "
		    "reported missing", a, b);
	}
}

static void
config_parse_coverage(struct config_parse *p, const config_setting_t *root)
{
	static const char *const keys[] = { "eventbridge", "guardduty",
	    "metric_filters", NULL };
	struct config_coverage	*cv = &p->cfg->coverage;
	const config_setting_t	*g;

	cv->eventbridge = 1;
	if ((g = config_get_group(p, root, NULL, "coverage")) == NULL)
		return;
	config_check_keys(p, g, "coverage", keys);
	config_get_bool(p, g, "coverage", "eventbridge", &cv->eventbridge);
	config_get_bool(p, g, "coverage", "guardduty", &cv->guardduty);
	config_get_bool(p, g, "coverage", "metric_filters",
	    &cv->metric_filters);
}

static void
config_parse_history(struct config_parse *p, const config_setting_t *root)
{
	static const char *const keys[] = { "regression_window", "retention",
	    "keep_runs", "digest_at", NULL };
	struct config_history	*h = &p->cfg->history;
	const config_setting_t	*g, *s;
	const char		*v;
	int			 t;

	h->regression_window = CONFIG_DEFAULT_REGRESSION_WINDOW;
	h->retention = CONFIG_DEFAULT_RETENTION;
	h->keep_runs = CONFIG_DEFAULT_KEEP_RUNS;
	h->digest_at = CONFIG_DEFAULT_DIGEST_AT;
	if ((g = config_get_group(p, root, NULL, "history")) == NULL)
		return;
	config_check_keys(p, g, "history", keys);
	config_get_duration(p, g, "history", "regression_window", 3600,
	    366 * 86400.0, &h->regression_window, NULL);
	config_get_duration(p, g, "history", "retention", 86400,
	    3 * 366 * 86400.0, &h->retention, NULL);
	config_get_duration(p, g, "history", "keep_runs", 3600,
	    366 * 86400.0, &h->keep_runs, NULL);
	if ((s = config_member(g, "digest_at")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_STRING ||
		    (t = config_parse_time_of_day(v =
		    config_setting_get_string(s))) == -1)
			config_err(p, s, "history.digest_at: expected a UTC "
			    "time of day such as \"09:00\"");
		else
			h->digest_at = t;
	}
}

/* "2027-01-31" (UTC midnight); -1 when it is not a date. */
static double
config_parse_date(const char *s)
{
	struct tm	 tm;
	const char	*end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end != '\0' ||
	    strlen(s) != 10)
		return -1;
	return (double)timegm(&tm);
}

static void
config_parse_known_gaps(struct config_parse *p, const config_setting_t *root)
{
	static const char *const keys[] = { "account", "region",
	    "event_source", "event_name", "alert", "reason", "expires", NULL };
	struct config			*c = p->cfg;
	struct config_known_gap		*k;
	const config_setting_t		*l, *g;
	char				 path[64], when[32];
	char				*expires = NULL;
	double				 now = now_real();
	int				 i, n;

	if ((l = config_member(root, "known_gaps")) == NULL)
		return;
	if (!config_setting_is_list(l) && !config_setting_is_array(l)) {
		config_err(p, l, "known_gaps: expected a list ( { ... }, ... )");
		return;
	}
	n = config_setting_length(l);
	c->known_gaps = xcalloc(n > 0 ? (size_t)n : 1,
	    sizeof(*c->known_gaps));
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(l, (unsigned)i);
		snprintf(path, sizeof(path), "known_gaps[%d]", i);
		if (!config_setting_is_group(g)) {
			config_err(p, g, "%s: expected a group { event_name = "
			    "...; reason = ...; expires = ...; }", path);
			continue;
		}
		config_check_keys(p, g, path, keys);
		k = &c->known_gaps[c->nknown_gaps++];
		k->line = config_setting_source_line(g);
		config_get_str(p, g, path, "account", 0, NULL, &k->account);
		config_get_str(p, g, path, "region", 0, NULL, &k->region);
		config_get_str(p, g, path, "event_source", 0, NULL,
		    &k->event_source);
		config_get_str(p, g, path, "event_name", 1, NULL,
		    &k->event_name);
		config_get_str(p, g, path, "reason", 1, NULL, &k->reason);
		config_get_bool(p, g, path, "alert", &k->alert);
		if (k->account == NULL)
			k->account = xstrdup("*");
		if (k->region == NULL)
			k->region = xstrdup("*");
		else if (strcmp(k->region, "*") != 0)
			config_check_region(p, config_member(g, "region"),
			    path, k->region);
		if (k->account != NULL && strcmp(k->account, "*") != 0 &&
		    config_account_find(c, k->account) == NULL)
			config_err(p, config_member(g, "account"), "%s: "
			    "unknown account \"%s\"", path, k->account);
		if (k->reason != NULL && *k->reason == '\0')
			config_err(p, config_member(g, "reason"), "%s.reason: "
			    "say why the gap is accepted", path);
		free(expires);
		expires = NULL;
		config_get_str(p, g, path, "expires", 1, NULL, &expires);
		if (expires == NULL)
			continue;
		if ((k->expires = config_parse_date(expires)) < 0) {
			config_err(p, config_member(g, "expires"), "%s.expires: "
			    "expected a date such as \"2027-01-31\" (UTC)",
			    path);
			continue;
		}
		if (k->expires <= now) {
			time_iso8601((time_t)k->expires, when);
			config_warn(p, config_member(g, "expires"), "%s expired "
			    "on %s: the gap is reported again", path, when);
		} else if (k->expires > now + 366 * 86400.0)
			config_warn(p, config_member(g, "expires"), "%s "
			    "expires more than a year from now: a known gap "
			    "should be looked at again", path);
	}
	free(expires);
}

/*
 * Custom scenarios: until the step model's validator lands, a group with a
 * valid, unique name that does not shadow a built-in.
 */
static void
config_parse_customs(struct config_parse *p, const config_setting_t *root)
{
	struct config		*c = p->cfg;
	const config_setting_t	*l, *g, *s;
	struct config_custom	*cu;
	struct custom_scenario	*cs;
	char			 path[64], *cause;
	const char		*v;
	size_t			 j;
	int			 i, n;

	if ((l = config_get_list(p, root, "scenarios")) == NULL)
		return;
	n = config_setting_length(l);
	c->customs = xcalloc(n > 0 ? n : 1, sizeof(*c->customs));
	for (i = 0; i < n; i++) {
		g = config_setting_get_elem(l, i);
		snprintf(path, sizeof(path), "scenarios[%d]", i);
		if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
			config_err(p, g, "%s: expected a group { name = ...; "
			    "}, not %s", path,
			    config_type_name(config_setting_type(g)));
			continue;
		}
		if ((s = config_member(g, "name")) == NULL) {
			config_err(p, g, "%s: missing \"name\"", path);
			continue;
		}
		if (config_setting_type(s) != CONFIG_TYPE_STRING) {
			config_want(p, s, path, "name", CONFIG_TYPE_STRING);
			continue;
		}
		v = config_setting_get_string(s);
		if (!config_scenario_name_valid(v)) {
			config_err(p, s, "%s.name: bad scenario name \"%s\" "
			    "(lower-case letters, digits, '-'; at most 64)",
			    path, v);
			continue;
		}
		if (config_scenario_builtin(v)) {
			config_err(p, s, "%s.name: \"%s\" is a built-in "
			    "scenario", path, v);
			continue;
		}
		for (j = 0; j < c->ncustoms; j++)
			if (strcmp(c->customs[j].name, v) == 0)
				break;
		if (j < c->ncustoms) {
			config_err(p, s, "%s.name: duplicate scenario \"%s\" "
			    "(first at line %d)", path, v, c->customs[j].line);
			continue;
		}
		if ((cs = custom_from_config(g, &cause)) == NULL) {
			config_err_cause(p, g, cause);
			free(cause);
			continue;
		}
		cu = &c->customs[c->ncustoms++];
		cu->name = xstrdup(v);
		cu->setting = g;
		cu->line = config_setting_source_line(g);
		cu->scenario = cs;
		c->custom_list = xreallocarray(c->custom_list, c->ncustoms + 1,
		    sizeof(*c->custom_list));
		c->custom_list[c->ncustoms - 1] = cs;
		c->custom_list[c->ncustoms] = NULL;
	}
}

static int
config_check_account_ref(struct config_parse *p, const config_setting_t *s,
    const char *path, const char *v)
{
	if (config_account_find(p->cfg, v) == NULL) {
		config_err(p, s, "%s: unknown account \"%s\"", path, v);
		return -1;
	}
	return 0;
}

/*
 * A schedule entry is busy until every call of its run has a verdict: at
 * least verify.initial_delay after its first call (the first lookup), up
 * to verify.deadline when CloudTrail has not shown a call yet.  A run
 * that comes due meanwhile is skipped.  Say so when the period leaves no
 * room for that.
 */
static void
config_warn_skips(struct config_parse *p, const config_setting_t *g,
    const char *path, const struct config_entry *e, double period)
{
	const struct config_verify	*v = &p->cfg->verify;
	const config_setting_t		*s;
	char				 a[32], b[32], c[32];
	const char			*key = e->every > 0 ? "every" : "at";

	if (!e->enabled)
		return;
	if ((s = config_member(g, key)) == NULL)
		s = g;
	duration_format(period, a, sizeof(a));
	if (period <= v->initial_delay) {
		duration_format(v->initial_delay, b, sizeof(b));
		config_warn(p, s, "%s.%s: the period (%s) is not longer than "
		    "verify.initial_delay (%s): a run is still waiting for its "
		    "first lookup when the next comes due, so runs are skipped "
		    "every time", path, key, a, b);
	} else if (period < v->deadline) {
		duration_format(v->deadline, b, sizeof(b));
		config_warn(p, s, "%s.%s: the period (%s) is shorter than "
		    "verify.deadline (%s): a run that waits for a call "
		    "CloudTrail has not shown yet is still verifying when the "
		    "next comes due, which is then skipped", path, key, a, b);
	} else if (e->jitter > 0 && period < v->deadline + e->jitter) {
		duration_format(v->deadline, b, sizeof(b));
		duration_format(e->jitter, c, sizeof(c));
		config_warn(p, s, "%s.%s: the period (%s) is shorter than "
		    "verify.deadline (%s) plus jitter (%s): a run that starts "
		    "late and waits for a call up to the deadline is still "
		    "verifying when the next comes due, which is then skipped",
		    path, key, a, b, c);
	}
}

static void
config_parse_entry(struct config_parse *p, const config_setting_t *g,
    int idx, struct config_entry *e)
{
	static const char *const keys[] = { "name", "scenario", "every",
	    "jitter", "at", "accounts", "regions", "settings", "enabled",
	    NULL };
	const config_setting_t	*s, *sj = NULL;
	char			 path[64], a[32], b[32];
	char			*at = NULL;
	int			 ok_e = 0, ok_j = 0;
	double			 period;

	snprintf(path, sizeof(path), "schedule[%d]", idx);
	e->line = config_setting_source_line(g);
	e->at = -1;
	e->enabled = 1;
	e->accounts = strv_empty();
	e->regions = strv_empty();
	if (config_setting_type(g) != CONFIG_TYPE_GROUP) {
		config_err(p, g, "%s: expected a group { scenario = ...; }, "
		    "not %s", path, config_type_name(config_setting_type(g)));
		return;
	}
	config_check_keys(p, g, path, keys);
	if (config_get_str(p, g, path, "scenario", 1, NULL,
	    &e->scenario) == 1 && !config_scenario_builtin(e->scenario) &&
	    config_custom_find(p->cfg, e->scenario) == NULL)
		config_err(p, config_member(g, "scenario"), "%s.scenario: "
		    "unknown scenario \"%s\"", path, e->scenario);
	config_get_str(p, g, path, "name", 0, config_check_name, &e->name);
	if (e->name == NULL && e->scenario != NULL)
		e->name = xstrdup(e->scenario);
	ok_e = config_get_duration(p, g, path, "every", 1, 366 * 86400.0,
	    &e->every, NULL);
	ok_j = config_get_duration(p, g, path, "jitter", 0, 366 * 86400.0,
	    &e->jitter, &sj);
	if (config_get_str(p, g, path, "at", 0, NULL, &at) == 1) {
		if ((e->at = config_parse_time_of_day(at)) == -1)
			config_err(p, config_member(g, "at"), "%s.at: bad time "
			    "of day \"%s\" (UTC \"HH:MM\" or \"HH:MM:SS\")",
			    path, at);
		free(at);
	}
	if (ok_e == 0 && config_member(g, "at") == NULL)
		config_err(p, g, "%s: missing \"every\" (or \"at\" for a daily "
		    "run)", path);
	period = ok_e == 1 ? e->every : 86400;
	if (ok_j == 1 && ok_e != -1 && e->jitter >= period) {
		duration_format(e->jitter, a, sizeof(a));
		duration_format(period, b, sizeof(b));
		config_err(p, sj, "%s.jitter (%s) must be shorter than the "
		    "period (%s)", path, a, b);
	}
	config_get_strlist(p, g, path, "accounts", config_check_account_ref,
	    &e->accounts);
	config_get_strlist(p, g, path, "regions", config_check_region,
	    &e->regions);
	config_get_bool(p, g, path, "enabled", &e->enabled);
	if ((s = config_member(g, "settings")) != NULL) {
		if (config_setting_type(s) != CONFIG_TYPE_GROUP)
			config_want(p, s, path, "settings", CONFIG_TYPE_GROUP);
		else
			e->settings = custom_to_json(s);
	}
	if (ok_e != -1 && ok_j != -1 && e->jitter < period)
		config_warn_skips(p, g, path, e, period);
}

static void
config_parse_schedule(struct config_parse *p, const config_setting_t *root)
{
	struct config		*c = p->cfg;
	const config_setting_t	*l, *g;
	struct config_entry	*e;
	size_t			 i, j;
	int			 n;

	if ((l = config_get_list(p, root, "schedule")) == NULL)
		return;
	n = config_setting_length(l);
	c->entries = xcalloc(n > 0 ? n : 1, sizeof(*c->entries));
	for (i = 0; i < (size_t)n; i++) {
		g = config_setting_get_elem(l, i);
		e = &c->entries[c->nentries++];
		config_parse_entry(p, g, i, e);
		if (e->name == NULL)
			continue;
		for (j = 0; j < i; j++)
			if (c->entries[j].name != NULL &&
			    strcmp(c->entries[j].name, e->name) == 0)
				break;
		if (j < i)
			config_err(p, config_member(g, "name") ?
			    config_member(g, "name") : g,
			    "schedule[%zu]: duplicate schedule name \"%s\" "
			    "(first at line %d; give each entry its own name "
			    "= \"...\")", i, e->name, c->entries[j].line);
	}
}

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
static int
config_utf8_valid(const unsigned char *s)
{
	unsigned int	 c, n, i, min;

	while ((c = *s++) != 0) {
		if (c < 0x80)
			continue;
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			c &= 0x1f;
			min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			c &= 0x0f;
			min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			c &= 0x07;
			min = 0x10000;
		} else
			return 0;
		for (i = 0; i < n; i++) {
			if ((*s & 0xc0) != 0x80)
				return 0;
			c = (c << 6) | (*s++ & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return 0;
	}
	return 1;
}

/* Every string in the file is text: reports and the journal carry them. */
static void
config_check_utf8(struct config_parse *p, const config_setting_t *s)
{
	const char	*v;
	int		 i, n;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		v = config_setting_get_string(s);
		if (v != NULL && !config_utf8_valid((const unsigned char *)v))
			config_err(p, s, "%s: not valid UTF-8",
			    config_setting_name(s) ? config_setting_name(s) :
			    "string");
		break;
	case CONFIG_TYPE_GROUP:
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY:
		n = config_setting_length(s);
		for (i = 0; i < n; i++)
			config_check_utf8(p, config_setting_get_elem(s, i));
		break;
	default:
		break;
	}
}

static void
config_parse_root(struct config_parse *p, const config_setting_t *root)
{
	static const char *const keys[] = { "daemon", "aws", "accounts",
	    "verify", "coverage", "history", "known_gaps", "schedule",
	    "scenarios", "live", NULL };

	config_check_keys(p, root, NULL, keys);
	config_parse_daemon(p, root);
	config_parse_aws(p, root);
	config_parse_accounts(p, root);
	config_parse_verify(p, root);
	config_parse_coverage(p, root);
	config_parse_history(p, root);
	config_parse_known_gaps(p, root);
	config_parse_customs(p, root);
	config_parse_schedule(p, root);
	config_get_bool(p, root, NULL, "live", &p->cfg->live);
}

/* ---- load ----------------------------------------------------------- */

static int
config_finish(struct config_parse *p, config_t *lc, struct config **ret,
    char **cause)
{
	if (p->nerrs == 0)
		config_check_utf8(p, config_root_setting(lc));
	if (p->nerrs == 0)
		config_parse_root(p, config_root_setting(lc));
	if (p->nerrs > 0) {
		buf_free(&p->warns);
		*cause = config_errors_join(p);
		config_errors_free(p);
		config_free(p->cfg);
		config_destroy(lc);
		free(lc);
		return -1;
	}
	if (p->cfg->ncustoms > 0)
		p->cfg->lc = lc;
	else {
		config_destroy(lc);
		free(lc);
	}
	if (p->warns.len > 0)
		p->cfg->warnings = buf_release(&p->warns);
	buf_free(&p->warns);
	*ret = p->cfg;
	return 0;
}

static void
config_parse_error(struct config_parse *p, config_t *lc)
{
	struct config_error	*e;

	e = config_err_new(p, config_error_file(lc), config_error_line(lc));
	e->msg = xstrdup(config_error_text(lc) ? config_error_text(lc) :
	    "parse error");
}

int
config_load(const char *path, struct config **ret, char **cause)
{
	struct config_parse	 p;
	config_t		*lc;
	FILE			*f;
	struct stat		 sb;
	char			*dir, *d;
	int			 rc;

	if ((f = fopen(path, "r")) == NULL) {
		*cause = xprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		*cause = xprintf("%s: is a directory", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.cfg = xcalloc(1, sizeof(*p.cfg));
	p.cfg->path = xstrdup(path);
	lc = xcalloc(1, sizeof(*lc));
	config_init(lc);
	d = xstrdup(path);
	dir = dirname(d);
	config_set_include_dir(lc, dir);	/* libconfig copies it */
	p.include_dir = dir;
	if (!config_read_file(lc, path)) {
		if (config_error_type(lc) == CONFIG_ERR_FILE_IO)
			config_err(&p, NULL, "cannot read the file");
		else
			config_parse_error(&p, lc);
	}
	rc = config_finish(&p, lc, ret, cause);
	free(d);
	return rc;
}

int
config_load_string(const char *text, const char *name, struct config **ret,
    char **cause)
{
	struct config_parse	 p;
	config_t		*lc;

	memset(&p, 0, sizeof(p));
	p.path = name;
	p.cfg = xcalloc(1, sizeof(*p.cfg));
	p.cfg->path = xstrdup(name);
	lc = xcalloc(1, sizeof(*lc));
	config_init(lc);
	if (!config_read_string(lc, text))
		config_parse_error(&p, lc);
	return config_finish(&p, lc, ret, cause);
}

char *
config_default_path(void)
{
	const char	*env = getenv("CONFIGURATION_DIRECTORY");
	size_t		 n;

	if (env != NULL && env[0] == '/') {
		n = strcspn(env, ":");
		return xprintf("%.*s/cloudsagad.conf", (int)n, env);
	}
	return xstrdup(CLOUDSAGA_SYSCONFDIR "/cloudsagad/cloudsagad.conf");
}

void
config_free(struct config *c)
{
	size_t	 i;

	if (c == NULL)
		return;
	free(c->path);
	free(c->warnings);
	free(c->daemon.state_dir);
	free(c->daemon.report_file);
	free(c->daemon.log_level);
	free(c->aws.partition);
	strv_free(c->aws.extra_regions);
	free(c->aws.endpoint_url);
	strv_free(c->aws.service_urls);
	free(c->aws.profile);
	for (i = 0; i < c->naccounts; i++) {
		free(c->accounts[i].name);
		free(c->accounts[i].role_arn);
		freezero_str(c->accounts[i].external_id);
		strv_free(c->accounts[i].include);
		strv_free(c->accounts[i].exclude);
		config_org_free(c->accounts[i].org);
	}
	free(c->accounts);
	for (i = 0; i < c->nknown_gaps; i++) {
		free(c->known_gaps[i].account);
		free(c->known_gaps[i].region);
		free(c->known_gaps[i].event_source);
		free(c->known_gaps[i].event_name);
		free(c->known_gaps[i].reason);
	}
	free(c->known_gaps);
	for (i = 0; i < c->nentries; i++) {
		free(c->entries[i].name);
		free(c->entries[i].scenario);
		strv_free(c->entries[i].accounts);
		strv_free(c->entries[i].regions);
		json_decref(c->entries[i].settings);
	}
	free(c->entries);
	for (i = 0; i < c->ncustoms; i++) {
		free(c->customs[i].name);
		custom_free(c->customs[i].scenario);
	}
	free(c->customs);
	free(c->custom_list);
	if (c->lc != NULL) {
		config_destroy(c->lc);
		free(c->lc);
	}
	free(c);
}

const struct config_account *
config_account_find(const struct config *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->naccounts; i++)
		if (c->accounts[i].name != NULL &&
		    strcmp(c->accounts[i].name, name) == 0)
			return &c->accounts[i];
	return NULL;
}

const struct config_entry *
config_entry_find(const struct config *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->nentries; i++)
		if (c->entries[i].name != NULL &&
		    strcmp(c->entries[i].name, name) == 0)
			return &c->entries[i];
	return NULL;
}

const struct config_custom *
config_custom_find(const struct config *c, const char *name)
{
	size_t	 i;

	for (i = 0; i < c->ncustoms; i++)
		if (strcmp(c->customs[i].name, name) == 0)
			return &c->customs[i];
	return NULL;
}

/* ---- print ---------------------------------------------------------- */

static void
config_print_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		default:
			if ((unsigned char)*s < 0x20)
				fprintf(f, "\\x%02x", (unsigned char)*s);
			else
				fputc(*s, f);
		}
	}
	fputc('"', f);
}

/* Indentation in steps of 8 columns, as tabs. */
static void
config_indent(FILE *f, int columns)
{
	for (; columns >= 8; columns -= 8)
		fputc('\t', f);
}

static void
config_print_kv_str(FILE *f, int indent, const char *key, const char *v)
{
	config_indent(f, indent);
	fprintf(f, "%s = ", key);
	config_print_str(f, v);
	fputs(";\n", f);
}

static void
config_print_kv_dur(FILE *f, int indent, const char *key, double v)
{
	char	 b[32];

	duration_format(v, b, sizeof(b));
	config_indent(f, indent);
	fprintf(f, "%s = \"%s\";\n", key, b);
}

static void
config_print_strv(FILE *f, int indent, const char *key, char *const *v)
{
	size_t	 i;

	config_indent(f, indent);
	fprintf(f, "%s = [", key);
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		fputs(i == 0 ? " " : ", ", f);
		config_print_str(f, v[i]);
	}
	fputs(i == 0 ? "];\n" : " ];\n", f);
}

static int
config_json_scalar(const json_t *j)
{
	return !json_is_object(j) && !json_is_array(j);
}

/* "name" first, then the others in byte order. */
static int
config_key_cmp(const void *a, const void *b)
{
	const char	*x = *(const char *const *)a;
	const char	*y = *(const char *const *)b;

	if (strcmp(x, "name") == 0 || strcmp(y, "name") == 0)
		return (strcmp(y, "name") == 0) - (strcmp(x, "name") == 0);
	return strcmp(x, y);
}

static void
config_print_json(FILE *f, int indent, const json_t *j)
{
	const char	**keys;
	const char	 *k;
	json_t		 *v;
	size_t		  i, n;
	int		  plain;
	char		  num[64];

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		n = json_object_size(j);
		if (n == 0) {
			fputs("{ }", f);
			return;
		}
		keys = xcalloc(n, sizeof(*keys));
		i = 0;
		json_object_foreach((json_t *)j, k, v)
			keys[i++] = k;
		qsort(keys, n, sizeof(*keys), config_key_cmp);
		fputs("{\n", f);
		for (i = 0; i < n; i++) {
			config_indent(f, indent + 8);
			fprintf(f, "%s = ", keys[i]);
			config_print_json(f, indent + 8,
			    json_object_get(j, keys[i]));
			fputs(";\n", f);
		}
		config_indent(f, indent);
		fputc('}', f);
		free(keys);
		return;
	case JSON_ARRAY:
		plain = 1;
		for (i = 0; i < json_array_size(j); i++)
			if (!config_json_scalar(json_array_get(j, i)) ||
			    json_typeof(json_array_get(j, i)) !=
			    json_typeof(json_array_get(j, 0)))
				plain = 0;
		if (plain) {
			fputc('[', f);
			for (i = 0; i < json_array_size(j); i++) {
				fputs(i == 0 ? " " : ", ", f);
				config_print_json(f, indent,
				    json_array_get(j, i));
			}
			fputs(i == 0 ? "]" : " ]", f);
			return;
		}
		/* A list of groups (or mixed): one element per line. */
		fputc('(', f);
		for (i = 0; i < json_array_size(j); i++) {
			fputs(i == 0 ? "\n" : ",\n", f);
			config_indent(f, indent + 8);
			config_print_json(f, indent + 8, json_array_get(j, i));
		}
		fputc('\n', f);
		config_indent(f, indent);
		fputc(')', f);
		return;
	case JSON_STRING:
		config_print_str(f, json_string_value(j));
		return;
	case JSON_INTEGER:
		fprintf(f, "%lld", (long long)json_integer_value(j));
		if (json_integer_value(j) > 2147483647LL ||
		    json_integer_value(j) < -2147483648LL)
			fputc('L', f);
		return;
	case JSON_REAL:
		snprintf(num, sizeof(num), "%.17g", json_real_value(j));
		if (strpbrk(num, ".eEin") == NULL &&
		    strlen(num) + 3 <= sizeof(num))
			strcat(num, ".0");
		fputs(num, f);
		return;
	case JSON_TRUE:
		fputs("true", f);
		return;
	case JSON_FALSE:
		fputs("false", f);
		return;
	case JSON_NULL:
		fputs("\"\"", f);
		return;
	}
}

static void
config_print_time_of_day(FILE *f, int at)
{
	if (at % 60 == 0)
		fprintf(f, "%02d:%02d", at / 3600, at / 60 % 60);
	else
		fprintf(f, "%02d:%02d:%02d", at / 3600, at / 60 % 60, at % 60);
}

void
config_print(FILE *f, const struct config *c)
{
	const struct config_account	*a;
	const struct config_entry	*e;
	json_t				*j;
	size_t				 i;
	const char			*eq;

	fputs("# effective configuration of cloudsagad (defaults filled "
	    "in)\n\n", f);

	fputs("daemon = {\n", f);
	config_print_kv_str(f, 8, "state_dir", c->daemon.state_dir);
	config_print_kv_str(f, 8, "report_file", c->daemon.report_file);
	config_print_kv_str(f, 8, "log_level", c->daemon.log_level);
	config_print_kv_dur(f, 8, "drain_timeout", c->daemon.drain_timeout);
	fprintf(f, "\tmax_connections = %d;\n", c->daemon.max_connections);
	config_print_kv_dur(f, 8, "http_connect_timeout",
	    c->daemon.http_connect_timeout);
	config_print_kv_dur(f, 8, "http_timeout", c->daemon.http_timeout);
	fprintf(f, "\tmax_connections_per_host = %d;\n",
	    c->daemon.max_connections_per_host);
	config_org_print_shard(f, &c->daemon);
	fputs("};\n\n", f);

	fputs("aws = {\n", f);
	config_print_kv_str(f, 8, "partition", c->aws.partition);
	if (c->aws.endpoint_url != NULL)
		config_print_kv_str(f, 8, "endpoint_url", c->aws.endpoint_url);
	else
		fputs("\t# endpoint_url: standard endpoints\n", f);
	fputs("\tendpoints = {", f);
	for (i = 0; c->aws.service_urls[i] != NULL; i++) {
		eq = strchr(c->aws.service_urls[i], '=');
		fprintf(f, "\n\t\t%.*s = ",
		    (int)(eq - c->aws.service_urls[i]), c->aws.service_urls[i]);
		config_print_str(f, eq + 1);
		fputc(';', f);
	}
	fputs(i == 0 ? " };\n" : "\n\t};\n", f);
	if (c->aws.extra_regions != NULL && c->aws.extra_regions[0] != NULL) {
		fputs("\textra_regions = [ ", f);
		for (i = 0; c->aws.extra_regions[i] != NULL; i++) {
			if (i > 0)
				fputs(", ", f);
			config_print_str(f, c->aws.extra_regions[i]);
		}
		fputs(" ];\n", f);
	}
	if (c->aws.profile != NULL)
		config_print_kv_str(f, 8, "profile", c->aws.profile);
	else
		fputs("\t# profile: $AWS_PROFILE or \"default\"\n", f);
	fputs("};\n\n", f);

	fputs("accounts = (", f);
	for (i = 0; i < c->naccounts; i++) {
		a = &c->accounts[i];
		fputs(i == 0 ? "\n" : ",\n", f);
		fputs("\t{\n", f);
		config_print_kv_str(f, 16, "name", a->name);
		if (a->role_arn != NULL)
			config_print_kv_str(f, 16, "role_arn", a->role_arn);
		else
			fputs("\t\t# role_arn: none, the ambient "
			    "credentials\n", f);
		if (a->external_id != NULL)
			config_print_kv_str(f, 16, "external_id",
			    a->external_id);
		config_print_kv_dur(f, 16, "session_duration",
		    a->session_duration);
		fputs("\t\tregions = {\n", f);
		config_print_strv(f, 24, "include", a->include);
		config_print_strv(f, 24, "exclude", a->exclude);
		fputs("\t\t};\n", f);
		config_org_print_account(f, a);
		fputs("\t}", f);
	}
	fputs("\n);\n\n", f);

	fputs("verify = {\n", f);
	config_print_kv_dur(f, 8, "initial_delay", c->verify.initial_delay);
	config_print_kv_dur(f, 8, "interval", c->verify.interval);
	config_print_kv_dur(f, 8, "deadline", c->verify.deadline);
	j = json_real(c->verify.lookup_rate);
	fputs("\tlookup_rate = ", f);
	config_print_json(f, 8, j);
	json_decref(j);
	fputs(";\n", f);
	config_print_kv_dur(f, 8, "skew", c->verify.skew);
	fputs("};\n\n", f);

	fputs("coverage = {\n", f);
	fprintf(f, "\teventbridge = %s;\n",
	    c->coverage.eventbridge ? "true" : "false");
	fprintf(f, "\tguardduty = %s;\n",
	    c->coverage.guardduty ? "true" : "false");
	fprintf(f, "\tmetric_filters = %s;\n",
	    c->coverage.metric_filters ? "true" : "false");
	fputs("};\n\n", f);

	fputs("history = {\n", f);
	config_print_kv_dur(f, 8, "regression_window",
	    c->history.regression_window);
	config_print_kv_dur(f, 8, "retention", c->history.retention);
	config_print_kv_dur(f, 8, "keep_runs", c->history.keep_runs);
	fprintf(f, "\tdigest_at = \"%02d:%02d\";\n", c->history.digest_at /
	    3600, c->history.digest_at / 60 % 60);
	fputs("};\n\n", f);

	fputs("known_gaps = (", f);
	for (i = 0; i < c->nknown_gaps; i++) {
		char	 day[11];
		time_t	 t = (time_t)c->known_gaps[i].expires;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		fputs(i == 0 ? "\n" : ",\n", f);
		fputs("\t{\n", f);
		config_print_kv_str(f, 16, "account",
		    c->known_gaps[i].account);
		config_print_kv_str(f, 16, "region", c->known_gaps[i].region);
		if (c->known_gaps[i].event_source != NULL)
			config_print_kv_str(f, 16, "event_source",
			    c->known_gaps[i].event_source);
		config_print_kv_str(f, 16, "event_name",
		    c->known_gaps[i].event_name);
		fprintf(f, "\t\talert = %s;\n", c->known_gaps[i].alert ?
		    "true" : "false");
		config_print_kv_str(f, 16, "reason", c->known_gaps[i].reason);
		config_print_kv_str(f, 16, "expires", day);
		fputs("\t}", f);
	}
	fputs(c->nknown_gaps > 0 ? "\n);\n\n" : " );\n\n", f);

	fputs("schedule = (", f);
	for (i = 0; i < c->nentries; i++) {
		e = &c->entries[i];
		fputs(i == 0 ? "\n" : ",\n", f);
		fputs("\t{\n", f);
		config_print_kv_str(f, 16, "name", e->name);
		config_print_kv_str(f, 16, "scenario", e->scenario);
		if (e->every > 0)
			config_print_kv_dur(f, 16, "every", e->every);
		else
			fputs("\t\t# every: daily\n", f);
		config_print_kv_dur(f, 16, "jitter", e->jitter);
		if (e->at >= 0) {
			fputs("\t\tat = \"", f);
			config_print_time_of_day(f, e->at);
			fputs("\";\n", f);
		}
		config_print_strv(f, 16, "accounts", e->accounts);
		config_print_strv(f, 16, "regions", e->regions);
		if (e->settings != NULL) {
			fputs("\t\tsettings = ", f);
			config_print_json(f, 16, e->settings);
			fputs(";\n", f);
		}
		fprintf(f, "\t\tenabled = %s;\n",
		    e->enabled ? "true" : "false");
		fputs("\t}", f);
	}
	fputs(i == 0 ? ");\n\n" : "\n);\n\n", f);

	fputs("scenarios = (", f);
	for (i = 0; i < c->ncustoms; i++) {
		fputs(i == 0 ? "\n\t" : ",\n\t", f);
		j = custom_to_json(c->customs[i].setting);
		config_print_json(f, 8, j);
		json_decref(j);
	}
	fputs(i == 0 ? ");\n\n" : "\n);\n\n", f);

	fprintf(f, "live = %s;\n", c->live ? "true" : "false");
}
