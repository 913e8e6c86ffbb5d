/*
 * coverage_logic: the pure parts of the alerting check (coverage.h) - the
 * EventBridge envelope, rule states, the fields a pattern looks at and the
 * cache key of a question, the remediation hint, log group ARNs and
 * GuardDuty finding matching.  No I/O.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "aws.h"
#include "buf.h"
#include "coverage.h"
#include "ledger.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

char *
coverage_source(const char *event_source)
{
	const char	*dot;
	size_t		 n;

	if (event_source == NULL || *event_source == '\0' ||
	    *event_source == '.')
		return NULL;
	if ((dot = strchr(event_source, '.')) == NULL)
		n = strlen(event_source);
	else
		n = (size_t)(dot - event_source);
	return xprintf("aws.%.*s", (int)n, event_source);
}

int
coverage_read_only(const struct ledger_entry *e)
{
	json_t	*v;

	if (e->record != NULL &&
	    (v = json_object_get(e->record, "readOnly")) != NULL) {
		if (json_is_boolean(v))
			return json_is_true(v);
		if (json_is_string(v))
			return strcasecmp(json_string_value(v), "true") == 0;
	}
	return e->x.read_only != 0;
}

int
coverage_mark_context(struct ledger_entry *e)
{
	if (e == NULL || e->x.role != AWS_ROLE_CONTEXT ||
	    e->verdict != VERDICT_LOGGED || e->coverage != COVERAGE_NONE)
		return 0;
	coverage_set(e, COVERAGE_CONTEXT, NULL,
	    COVERAGE_CONTEXT_REASON);
	return 1;
}

static const char *
coverage_rec_str(const json_t *rec, const char *key)
{
	json_t	*v = json_object_get(rec, key);

	return json_is_string(v) && *json_string_value(v) != '\0' ?
	    json_string_value(v) : NULL;
}

json_t *
coverage_envelope(const struct ledger_entry *e, char **cause)
{
	const json_t	*rec = e->record;
	const char	*src, *id, *account, *region, *when;
	char		*source, tbuf[21], rid[64];
	json_t		*o;

	if (rec == NULL || !json_is_object(rec)) {
		*cause = xstrdup("the CloudTrail record of the event is not "
		    "available");
		return NULL;
	}
	if ((src = coverage_rec_str(rec, "eventSource")) == NULL)
		src = e->x.event_source;
	if ((source = coverage_source(src)) == NULL) {
		*cause = xstrdup("the record has no eventSource");
		return NULL;
	}
	if ((id = coverage_rec_str(rec, "eventID")) == NULL &&
	    (id = e->event_id) == NULL) {
		ledger_entry_report_id(e, rid, sizeof(rid));
		id = rid;
	}
	if ((account = coverage_rec_str(rec, "recipientAccountId")) == NULL &&
	    (account = e->x.account_id) == NULL) {
		json_t *ui = json_object_get(rec, "userIdentity");

		account = coverage_rec_str(ui, "accountId");
	}
	if (account == NULL) {
		free(source);
		*cause = xstrdup("the record names no account "
		    "(recipientAccountId)");
		return NULL;
	}
	if ((when = coverage_rec_str(rec, "eventTime")) == NULL) {
		if (e->event_time <= 0) {
			free(source);
			*cause = xstrdup("the record has no eventTime");
			return NULL;
		}
		time_iso8601((time_t)e->event_time, tbuf);
		when = tbuf;
	}
	if ((region = coverage_rec_str(rec, "awsRegion")) == NULL)
		region = e->x.region;
	o = json_object();
	json_object_set_new(o, "version", json_string("0"));
	json_object_set_new(o, "id", json_string(id));
	json_object_set_new(o, "detail-type", json_string(COVERAGE_DETAIL_TYPE));
	json_object_set_new(o, "source", json_string(source));
	json_object_set_new(o, "account", json_string(account));
	json_object_set_new(o, "time", json_string(when));
	json_object_set_new(o, "region", json_string(region));
	json_object_set_new(o, "resources", json_array());
	json_object_set(o, "detail", (json_t *)rec);
	free(source);
	return o;
}

int
coverage_state_sees(const char *state, int read_only)
{
	if (state == NULL)
		return 0;
	if (strcmp(state, COVERAGE_STATE_ALL) == 0)
		return 1;
	if (strcmp(state, "ENABLED") == 0)
		return !read_only;
	return 0;		/* DISABLED, or a state this code does not know */
}

/* ---- the fields a pattern looks at -------------------------------------------- */

static int
coverage_collect(json_t *obj, json_t *prefix, json_t *out, char **cause)
{
	const char	*key;
	json_t		*val, *path, *alt;
	size_t		 i;

	json_object_foreach(obj, key, val) {
		if (strcmp(key, "$or") == 0) {
			if (!json_is_array(val) || json_array_size(val) == 0) {
				*cause = xstrdup("$or is not a list");
				return -1;
			}
			json_array_foreach(val, i, alt) {
				if (!json_is_object(alt)) {
					*cause = xstrdup("$or holds a value "
					    "that is not an object");
					return -1;
				}
				if (coverage_collect(alt, prefix, out,
				    cause) == -1)
					return -1;
			}
			continue;
		}
		if (key[0] == '$') {
			*cause = xprintf("unknown operator key \"%s\"", key);
			return -1;
		}
		path = json_copy(prefix);
		json_array_append_new(path, json_string(key));
		/* A nested object names fields below; an empty one (or any
		 * other value) is a leaf: its whole subtree counts. */
		if (json_is_object(val) && json_object_size(val) > 0) {
			if (coverage_collect(val, path, out, cause) == -1) {
				json_decref(path);
				return -1;
			}
			json_decref(path);
		} else
			json_array_append_new(out, path);
	}
	return 0;
}

static int
coverage_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
coverage_pattern_paths(const char *pattern, json_t **paths, char **cause)
{
	json_t		*p, *all, *sorted, *x;
	json_error_t	 err;
	char		**s;
	size_t		 i, n;

	if (pattern == NULL) {
		*cause = xstrdup("no pattern");
		return -1;
	}
	if ((p = json_loads(pattern, JSON_REJECT_DUPLICATES, &err)) == NULL) {
		*cause = xprintf("the pattern is not valid JSON: %s", err.text);
		return -1;
	}
	if (!json_is_object(p)) {
		json_decref(p);
		*cause = xstrdup("the pattern is not a JSON object");
		return -1;
	}
	all = json_array();
	x = json_array();
	if (coverage_collect(p, x, all, cause) == -1) {
		json_decref(x);
		json_decref(all);
		json_decref(p);
		return -1;
	}
	json_decref(x);
	json_decref(p);

	/* Sorted, unique, by their canonical text. */
	n = json_array_size(all);
	s = xcalloc(n > 0 ? n : 1, sizeof(*s));
	for (i = 0; i < n; i++) {
		s[i] = json_dumps(json_array_get(all, i), JSON_COMPACT);
		if (s[i] == NULL)
			fatalx("%s: out of memory", __func__);
	}
	qsort(s, n, sizeof(*s), coverage_strcmp);
	sorted = json_array();
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(s[i], s[i - 1]) != 0)
			json_array_append_new(sorted, json_loads(s[i], 0,
			    NULL));
	for (i = 0; i < n; i++)
		free(s[i]);
	free(s);
	json_decref(all);
	*paths = sorted;
	return 0;
}

static void
coverage_dump(struct buf *b, const json_t *v)
{
	char	*s;

	s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (s == NULL)
		fatalx("%s: out of memory", __func__);
	buf_addstr(b, s);
	free(s);
}

char *
coverage_question_key(const char *pattern, const json_t *paths,
    const json_t *event)
{
	struct buf	 b;
	const json_t	*path, *v, *next;
	size_t		 i, depth, n;

	buf_init(&b);
	buf_addstr(&b, pattern);
	buf_addch(&b, '\x1e');
	if (paths == NULL) {
		coverage_dump(&b, event);
		return buf_release(&b);
	}
	json_array_foreach(paths, i, path) {
		coverage_dump(&b, path);
		n = json_array_size(path);
		v = event;
		for (depth = 0; depth < n; depth++) {
			if (!json_is_object(v))
				break;	/* an array or scalar: all of it */
			next = json_object_get(v, json_string_value(
			    json_array_get(path, depth)));
			if (next == NULL)
				break;
			v = next;
		}
		if (depth < n && json_is_object(v))
			buf_printf(&b, "!%zu", depth);		/* absent */
		else {
			buf_printf(&b, "=%zu:", depth);
			coverage_dump(&b, v);
		}
		buf_addch(&b, '\x1f');
	}
	return buf_release(&b);
}

/* ---- the remediation hint ------------------------------------------------------- */

static json_t *
coverage_suggest_json(const char *event_source, const char *event_name)
{
	json_t	*o, *d;
	char	*source = coverage_source(event_source);

	o = json_object();
	json_object_set_new(o, "source", json_pack("[s]",
	    source != NULL ? source : "aws.unknown"));
	json_object_set_new(o, "detail-type", json_pack("[s]",
	    COVERAGE_DETAIL_TYPE));
	d = json_object();
	json_object_set_new(d, "eventSource", json_pack("[s]",
	    event_source != NULL ? event_source : ""));
	json_object_set_new(d, "eventName", json_pack("[s]",
	    event_name != NULL ? event_name : ""));
	json_object_set_new(o, "detail", d);
	free(source);
	return o;
}

char *
coverage_suggest_pattern(const char *event_source, const char *event_name)
{
	json_t	*o = coverage_suggest_json(event_source, event_name);
	char	*s;

	s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (s == NULL)
		fatalx("%s: out of memory", __func__);
	return s;
}

json_t *
coverage_remediation_json(const struct ledger_entry *e)
{
	json_t	*o;
	int	 ro = coverage_read_only(e);

	o = json_object();
	json_object_set_new(o, "event_pattern",
	    coverage_suggest_json(e->x.event_source, e->x.event_name));
	json_object_set_new(o, "rule_state",
	    json_string(ro ? COVERAGE_STATE_ALL : "ENABLED"));
	json_object_set_new(o, "note", json_string(ro ?
	    "a read-only call: it reaches only rules in state "
	    COVERAGE_STATE_ALL "; give the rule a target that reaches people" :
	    "give the rule a target that reaches people (an SNS topic, a "
	    "SIEM, an incident tool)"));
	return o;
}

char *
coverage_remediation_text(const struct ledger_entry *e)
{
	char	*p, *s;

	p = coverage_suggest_pattern(e->x.event_source, e->x.event_name);
	if (coverage_read_only(e))
		s = xprintf("add an EventBridge rule on the default event bus "
		    "in %s with the event pattern %s in state %s (read-only "
		    "events do not reach rules in state ENABLED) and a target "
		    "that reaches people", e->x.region, p, COVERAGE_STATE_ALL);
	else
		s = xprintf("add an EventBridge rule on the default event bus "
		    "in %s with the event pattern %s and a target that reaches "
		    "people", e->x.region, p);
	free(p);
	return s;
}

void
coverage_fill_remediation(struct ledger_entry *e)
{
	json_t	*rem;
	char	*text;

	if (e->coverage != COVERAGE_UNCOVERED || e->remediation != NULL)
		return;
	rem = coverage_remediation_json(e);
	text = coverage_remediation_text(e);
	ledger_set_remediation(e, rem, text);
	json_decref(rem);
	free(text);
}

void
coverage_set(struct ledger_entry *e, enum coverage c, json_t *rules,
    const char *reason)
{
	ledger_set_coverage(e, c, rules, reason);
	coverage_fill_remediation(e);
}

/* ---- CloudWatch Logs --------------------------------------------------------------- */

int
coverage_log_group_arn(const char *arn, char **region, char **account,
    char **name)
{
	const char	*p, *f[6];
	size_t		 i, len;

	/* arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME[:*] */
	if (arn == NULL || strncmp(arn, "arn:", 4) != 0)
		return -1;
	f[0] = arn;
	for (i = 1, p = arn; i < 6; i++) {
		if ((p = strchr(p, ':')) == NULL)
			return -1;
		f[i] = ++p;
	}
	if (strncmp(f[2], "logs:", 5) != 0 || f[3][0] == ':' ||
	    strncmp(f[5], "log-group:", 10) != 0)
		return -1;
	p = f[5] + 10;
	len = strcspn(p, ":");
	if (len == 0 || (p[len] != '\0' && strcmp(p + len, ":*") != 0))
		return -1;
	*region = xstrndup(f[3], (size_t)(f[4] - f[3] - 1));
	*account = xstrndup(f[4], (size_t)(f[5] - f[4] - 1));
	*name = xstrndup(p, len);
	return 0;
}

/* ---- GuardDuty ------------------------------------------------------------------------ */

static const char *
coverage_jstr(const json_t *o, const char *path)
{
	return aws_json_str((json_t *)o, path);
}

const char *
coverage_gd_match(const json_t *finding, const char *run_id,
    const struct coverage_gd_call *calls, size_t ncalls)
{
	const json_t	*act, *ua;
	const char	*api, *svc, *key, *region, *full = NULL;
	char		*marker;
	size_t		 i;

	act = aws_json_path((json_t *)finding,
	    "service.action.awsApiCallAction");
	if ((ua = json_object_get(act, "userAgent")) != NULL) {
		if (json_is_string(ua))
			full = json_string_value(ua);
		else
			full = coverage_jstr(ua, "fullUserAgent");
	}
	if (full != NULL && run_id != NULL && *run_id != '\0') {
		marker = xprintf("run/%s", run_id);
		if (strstr(full, marker) != NULL) {
			free(marker);
			return "marker";
		}
		free(marker);
	}
	key = coverage_jstr(finding, "resource.accessKeyDetails.accessKeyId");
	if (key != NULL)
		for (i = 0; i < ncalls; i++)
			if (calls[i].access_key_id != NULL &&
			    strcmp(calls[i].access_key_id, key) == 0)
				return "access-key";
	api = coverage_jstr(act, "api");
	svc = coverage_jstr(act, "serviceName");
	region = coverage_jstr(finding, "region");
	if (api == NULL)
		return NULL;
	for (i = 0; i < ncalls; i++) {
		if (calls[i].event_name == NULL ||
		    strcmp(calls[i].event_name, api) != 0)
			continue;
		if (svc != NULL && calls[i].event_source != NULL &&
		    strcmp(svc, calls[i].event_source) != 0)
			continue;
		if (region != NULL && calls[i].region != NULL &&
		    strcmp(region, calls[i].region) != 0)
			continue;
		return "api";
	}
	return NULL;
}
