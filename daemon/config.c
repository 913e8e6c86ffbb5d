/*
 * config: load the daemon's configuration and parse its groups.
 *
 * One pass over libconfig's tree per group (config_parse_daemon(), _aws(),
 * _accounts(), _verify(), _coverage(), _history(), _known_gaps(),
 * _schedule(); the custom scenarios in config_custom.c).  Errors and
 * getters are the kit's (config_kit.c): every check that fails adds a
 * "FILE:LINE: message" and parsing goes on, so a user sees every problem
 * at once.  Strings are copied out; the tree is destroyed unless custom
 * scenarios need it (struct config_custom).  Warnings ("FILE:LINE:
 * warning: message") do not fail the load: a loaded config carries them
 * for -n to print (config_print.c).
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>

#include <libconfig.h>

#include "aws.h"
#include "buf.h"
#include "config.h"
#include "config_kit.h"
#include "config_org.h"
#include "endpoint.h"
#include "custom.h"
#include "endpoint.h"
#include "log.h"
#include "scenario.h"
#include "strv.h"
#include "util.h"
#include "xmalloc.h"

/* ---- names, regions, ARNs ------------------------------------------- */

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
	const char	*p, *part;
	char		 pname[16];
	size_t		 plen, i;

	if (strncmp(arn, "arn:", 4) != 0)
		return 0;
	part = arn + 4;
	if ((p = strchr(part, ':')) == NULL)
		return 0;
	plen = p - part;
	if (plen == 0 || plen >= sizeof(pname))
		return 0;
	memcpy(pname, part, plen);
	pname[plen] = '\0';
	if (endpoint_dns_suffix(pname) == NULL)	/* a supported partition */
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
	if (!config_role_name_valid(p))
		return 0;
	return plen;
}

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
	    "max_connections_per_host", "metrics_file", "shard", NULL };
	struct config_daemon	*d = &p->cfg->daemon;
	const config_setting_t	*g, *sc = NULL, *ms = NULL;
	char			*rf = NULL, *mf = NULL, a[32], b[32];

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
		config_get_str(p, g, "daemon", "metrics_file", 0,
		    config_check_file_path, &mf);
		ms = config_setting_get_member(g, "metrics_file");
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
	if (mf != NULL && mf[0] != '/') {
		d->metrics_file = xprintf("%s/%s", d->state_dir, mf);
		free(mf);
	} else
		d->metrics_file = mf;
	/* node_exporter's textfile collector reads *.prom only. */
	if (ms != NULL && d->metrics_file != NULL &&
	    (strlen(d->metrics_file) < 5 || strcmp(d->metrics_file +
	    strlen(d->metrics_file) - 5, ".prom") != 0))
		config_warn(p, ms, "daemon.metrics_file \"%s\" does not end in "
		    "\".prom\": node_exporter's textfile collector skips it",
		    d->metrics_file);
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
	char			*kv, path[128];
	int			 i, n;

	a->partition = xstrdup(CONFIG_DEFAULT_PARTITION);
	a->service_urls = strv_new();
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
		if (aws_service_find(name) == NULL) {
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
		snprintf(path, sizeof(path), "aws.endpoints.%s", name);
		if (config_check_url(p, s, path, v) == -1)
			continue;
		kv = xprintf("%s=%s", name, v);
		strv_add(&a->service_urls, kv);
		free(kv);
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
	acct->include = strv_new();
	acct->exclude = strv_new();
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
	c->accounts[0].include = strv_new();
	c->accounts[0].exclude = strv_new();
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

	if ((region = endpoint_home_region(part)) == NULL)
		return 0;	/* an unknown partition: reported */
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

/*
 * The account of a known gap: "*", a configured account, a shell pattern
 * that matches one, or a member of an organisation as the daemon names it,
 * "ORG/ACCOUNT_ID" (ORG an account with an organization group, or a
 * pattern matching one; the ID twelve digits or a pattern of them, such as
 * "*" or "1234*").  The history matches accounts with fnmatch; a pattern
 * that can match no account is a mistake and refused.
 */
static int
config_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int
config_gap_accounts(const struct config *c, const char *pattern, int org)
{
	size_t	 i;

	for (i = 0; i < c->naccounts; i++)
		if ((!org || c->accounts[i].org != NULL) &&
		    fnmatch(pattern, c->accounts[i].name, 0) == 0)
			return 1;
	return 0;
}

static void
config_check_gap_account(struct config_parse *p, const config_setting_t *s,
    const char *path, const char *v)
{
	const char	*slash, *id;
	char		*org;

	if (v == NULL || strcmp(v, "*") == 0 ||
	    config_account_find(p->cfg, v) != NULL)
		return;
	if ((slash = strchr(v, '/')) == NULL) {
		if (!config_glob(v))
			config_err(p, s, "%s: unknown account \"%s\"", path,
			    v);
		else if (!config_gap_accounts(p->cfg, v, 0))
			config_err(p, s, "%s.account: \"%s\" matches no "
			    "account", path, v);
		return;
	}
	org = xstrndup(v, (size_t)(slash - v));
	id = slash + 1;
	if (!config_gap_accounts(p->cfg, org, 1))
		config_err(p, s, "%s.account: \"%s\": no account \"%s\" with "
		    "an organization group (a member is named "
		    "ORGANISATION/ACCOUNT_ID)", path, v, org);
	else if (*id == '\0' || strspn(id, "0123456789*?[]-!") != strlen(id) ||
	    (!config_glob(id) && strlen(id) != 12))
		config_err(p, s, "%s.account: \"%s\": expected %s/ and a "
		    "12-digit account ID or a pattern of them (\"%s/*\")",
		    path, v, org, org);
	free(org);
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
		config_check_gap_account(p, config_member(g, "account"),
		    path, k->account);
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
	e->accounts = strv_new();
	e->regions = strv_new();
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
			e->settings = config_setting_json(s);
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
	free(c->daemon.metrics_file);
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
		json_decref(c->customs[i].json);
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
