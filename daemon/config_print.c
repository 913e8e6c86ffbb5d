/*
 * config_print: the effective configuration (-n, --print-config), every
 * default filled in, in a stable libconfig form that config_load() reads
 * back.  Custom scenarios are printed as written (struct
 * config_custom.json).  A new key is printed here, in its group's block.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "config.h"
#include "config_org.h"
#include "util.h"
#include "xmalloc.h"

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
	if (c->daemon.metrics_file != NULL)
		config_print_kv_str(f, 8, "metrics_file",
		    c->daemon.metrics_file);
	else
		fputs("\t# metrics_file: no Prometheus metrics\n", f);
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
		config_print_json(f, 8, c->customs[i].json);
	}
	fputs(i == 0 ? ");\n\n" : "\n);\n\n", f);

	fprintf(f, "live = %s;\n", c->live ? "true" : "false");
}
