/*
 * aws: the table of services, the request object, and encoding requests
 * into HTTP for the five protocols (EC2 query, query, JSON 1.1, REST-JSON
 * for GuardDuty, REST-XML for the S3 bucket calls).  Decoding and error
 * classification live in awsdecode.c, XML -> JSON in awsxml.c.
 *
 * Sources: botocore service models (protocol metadata, operation HTTP
 * bindings, member locationNames) and the Smithy AWS protocol tests for
 * the exact bytes; see docs/ARCHITECTURE.md and AWS-PROTOCOL.md.
 *
 * Size: the service table and the request encoders of the five protocols
 * share their helpers (parameter flattening, the encoders' checks); split
 * them when a protocol grows its own file.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "aws.h"
#include "buf.h"
#include "util.h"
#include "xmalloc.h"

#ifndef CLOUDSAGA_VERSION
#define CLOUDSAGA_VERSION "0"
#endif

static const struct aws_service aws_service_table[] = {
	{ "ec2", "ec2", "ec2", "EC2", "ec2.amazonaws.com",
	    AWS_PROTO_EC2, "2016-11-15", NULL, NULL, 0, NULL },
	{ "iam", "iam", "iam", "IAM", "iam.amazonaws.com",
	    AWS_PROTO_QUERY, "2010-05-08", NULL, NULL, 1, NULL },
	{ "sts", "sts", "sts", "STS", "sts.amazonaws.com",
	    AWS_PROTO_QUERY, "2011-06-15", NULL, NULL, 0, NULL },
	{ "rds", "rds", "rds", "RDS", "rds.amazonaws.com",
	    AWS_PROTO_QUERY, "2014-10-31", NULL, NULL, 0, NULL },
	{ "monitoring", "monitoring", "monitoring", "CLOUDWATCH",
	    "monitoring.amazonaws.com",
	    AWS_PROTO_QUERY, "2010-08-01", NULL, NULL, 0, "cloudwatch" },
	{ "cloudtrail", "cloudtrail", "cloudtrail", "CLOUDTRAIL",
	    "cloudtrail.amazonaws.com", AWS_PROTO_JSON, "2013-11-01",
	    "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", "1.1",
	    0, NULL },
	{ "events", "events", "events", "EVENTBRIDGE", "events.amazonaws.com",
	    AWS_PROTO_JSON, "2015-10-07", "AWSEvents", "1.1", 0,
	    "eventbridge" },
	{ "ssm", "ssm", "ssm", "SSM", "ssm.amazonaws.com",
	    AWS_PROTO_JSON, "2014-11-06", "AmazonSSM", "1.1", 0, NULL },
	{ "logs", "logs", "logs", "CLOUDWATCH_LOGS", "logs.amazonaws.com",
	    AWS_PROTO_JSON, "2014-03-28", "Logs_20140328", "1.1", 0,
	    "cloudwatch-logs" },
	{ "guardduty", "guardduty", "guardduty", "GUARDDUTY",
	    "guardduty.amazonaws.com",
	    AWS_PROTO_RESTJSON, "2017-11-28", NULL, NULL, 0, NULL },
	{ "s3", "s3", "s3", "S3", "s3.amazonaws.com",
	    AWS_PROTO_RESTXML, "2006-03-01", NULL, NULL, 0, NULL },
	/* The catalogue's services (#11): botocore models on this machine. */
	{ "secretsmanager", "secretsmanager", "secretsmanager",
	    "SECRETS_MANAGER", "secretsmanager.amazonaws.com",
	    AWS_PROTO_JSON, "2017-10-17", "secretsmanager", "1.1", 0,
	    "secrets-manager" },
	{ "route53resolver", "route53resolver", "route53resolver",
	    "ROUTE53RESOLVER", "route53resolver.amazonaws.com",
	    AWS_PROTO_JSON, "2018-04-01", "Route53Resolver", "1.1", 0, NULL },
	{ "ses", "email", "ses", "SES", "ses.amazonaws.com",
	    AWS_PROTO_QUERY, "2010-12-01", NULL, NULL, 0, NULL },
	{ "sagemaker", "api.sagemaker", "sagemaker", "SAGEMAKER",
	    "sagemaker.amazonaws.com",
	    AWS_PROTO_JSON, "2017-07-24", "SageMaker", "1.1", 0, NULL },
	{ "ec2-instance-connect", "ec2-instance-connect",
	    "ec2-instance-connect", "EC2_INSTANCE_CONNECT",
	    "ec2-instance-connect.amazonaws.com", AWS_PROTO_JSON, "2018-04-02",
	    "AWSEC2InstanceConnectService", "1.1", 0, NULL },
	{ "lambda", "lambda", "lambda", "LAMBDA", "lambda.amazonaws.com",
	    AWS_PROTO_RESTJSON, "2015-03-31", NULL, NULL, 0, NULL },
	/* Bedrock runtime: host bedrock-runtime, signs and logs as bedrock. */
	{ "bedrock", "bedrock-runtime", "bedrock", "BEDROCK_RUNTIME",
	    "bedrock.amazonaws.com",
	    AWS_PROTO_RESTJSON, "2023-09-30", NULL, NULL, 0, NULL },
	/* #13 Organizations discovery (daemon/org.c): JSON 1.1, global; its
	 * host per partition is in common/endpoint.c (endpoint_global_hosts),
	 * its events land in us-east-1 (aws partition). */
	{ "organizations", "organizations", "organizations", "ORGANIZATIONS",
	    "organizations.amazonaws.com", AWS_PROTO_JSON, "2016-11-28",
	    "AWSOrganizationsV20161128", "1.1", 1, NULL },
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL },
};

const struct aws_service *
aws_services(void)
{
	return aws_service_table;
}

/* Case-insensitive, '-' and '_' equivalent. */
static int
aws_name_eq(const char *a, const char *b)
{
	int	 ca, cb;

	if (a == NULL || b == NULL)
		return 0;
	for (;; a++, b++) {
		ca = tolower((unsigned char)*a);
		cb = tolower((unsigned char)*b);
		if (ca == '_')
			ca = '-';
		if (cb == '_')
			cb = '-';
		if (ca != cb)
			return 0;
		if (ca == '\0')
			return 1;
	}
}

const struct aws_service *
aws_service_find(const char *name)
{
	const struct aws_service	*s;

	if (name == NULL || *name == '\0')
		return NULL;
	for (s = aws_service_table; s->id != NULL; s++) {
		if (aws_name_eq(name, s->id) || aws_name_eq(name, s->alias) ||
		    aws_name_eq(name, s->endpoint_prefix) ||
		    aws_name_eq(name, s->env_name))
			return s;
	}
	return NULL;
}

const char *
aws_protocol_name(enum aws_protocol p)
{
	switch (p) {
	case AWS_PROTO_EC2:
		return "ec2";
	case AWS_PROTO_QUERY:
		return "query";
	case AWS_PROTO_JSON:
		return "json";
	case AWS_PROTO_RESTJSON:
		return "rest-json";
	case AWS_PROTO_RESTXML:
		return "rest-xml";
	}
	return "unknown";
}

static const char *const aws_safety_names[] = {
	[AWS_SAFE_AUTO] = "auto",
	[AWS_SAFE_READ_ONLY] = "read-only",
	[AWS_SAFE_DRY_RUN] = "dry-run",
	[AWS_SAFE_FAIL] = "safe-fail",
	[AWS_SAFE_LIVE] = "live",
};

const char *
aws_safety_name(enum aws_safety s)
{
	if ((size_t)s < nitems(aws_safety_names))
		return aws_safety_names[s];
	return "unknown";
}

int
aws_safety_from_name(const char *name, enum aws_safety *ret)
{
	size_t	 i;

	if (name == NULL)
		return -1;
	for (i = 0; i < nitems(aws_safety_names); i++) {
		if (aws_name_eq(name, aws_safety_names[i])) {
			*ret = (enum aws_safety)i;
			return 0;
		}
	}
	return -1;
}

/* ---- requests ---------------------------------------------------------- */

struct aws_request *
aws_request_new(const struct aws_service *svc, const char *action,
    const char *region)
{
	struct aws_request	*req;

	req = xcalloc(1, sizeof(*req));
	req->svc = svc;
	req->action = xstrdup_or_null(action);
	req->region = xstrdup_or_null(region);
	req->safety = AWS_SAFE_AUTO;
	req->call_seq = -1;
	return req;
}

static void
aws_params_free(struct aws_param *params, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		free(params[i].key);
		freezero_str(params[i].value);	/* may hold a token */
	}
	free(params);
}

void
aws_request_free(struct aws_request *req)
{
	if (req == NULL)
		return;
	free(req->action);
	free(req->region);
	aws_params_free(req->params, req->nparams);
	json_decref(req->input);
	free(req->run_id);
	free(req->expect_error);
	free(req);
}

struct aws_request *
aws_request_dup(const struct aws_request *req)
{
	struct aws_request	*n;
	size_t			 i;

	if (req == NULL)
		return NULL;
	n = aws_request_new(req->svc, req->action, req->region);
	if (req->nparams > 0) {
		n->params = xreallocarray(NULL, req->nparams,
		    sizeof(*n->params));
		for (i = 0; i < req->nparams; i++) {
			n->params[i].key = xstrdup(req->params[i].key);
			n->params[i].value = xstrdup(req->params[i].value);
		}
		n->nparams = req->nparams;
	}
	if (req->input != NULL)
		n->input = json_deep_copy(req->input);
	n->safety = req->safety;
	n->run_id = xstrdup_or_null(req->run_id);
	n->call_seq = req->call_seq;
	n->expect_error = xstrdup_or_null(req->expect_error);
	n->role = req->role;
	n->evidence = req->evidence;
	return n;
}

const char *
aws_role_name(enum aws_role r)
{
	switch (r) {
	case AWS_ROLE_SIGNAL:
		return "signal";
	case AWS_ROLE_CONTEXT:
		return "context";
	case AWS_ROLE_DEFAULT:
		break;
	}
	return "default";
}

int
aws_role_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "signal") == 0)
		return AWS_ROLE_SIGNAL;
	if (strcmp(s, "context") == 0)
		return AWS_ROLE_CONTEXT;
	return -1;
}

const char *
aws_evidence_name(enum aws_evidence e)
{
	switch (e) {
	case AWS_EVIDENCE_OBSERVED:
		return "observed";
	case AWS_EVIDENCE_ASSUMED:
		return "assumed";
	case AWS_EVIDENCE_DOCUMENTED:
		break;
	}
	return "documented";
}

int
aws_evidence_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "documented") == 0)
		return AWS_EVIDENCE_DOCUMENTED;
	if (strcmp(s, "observed") == 0)
		return AWS_EVIDENCE_OBSERVED;
	if (strcmp(s, "assumed") == 0)
		return AWS_EVIDENCE_ASSUMED;
	return -1;
}

enum aws_role
aws_role_resolve(const struct aws_request *req)
{
	if (req->role != AWS_ROLE_DEFAULT)
		return req->role;
	return aws_action_is_read_only(req->svc, req->action) ?
	    AWS_ROLE_CONTEXT : AWS_ROLE_SIGNAL;
}

static void
aws_params_append(struct aws_param **params, size_t *n, const char *key,
    const char *value)
{
	*params = xreallocarray(*params, *n + 1, sizeof(**params));
	(*params)[*n].key = xstrdup(key);
	(*params)[*n].value = xstrdup(value);
	(*n)++;
}

void
aws_request_add(struct aws_request *req, const char *key, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*value;

	va_start(ap, fmt);
	xvasprintf(&value, fmt, ap);
	va_end(ap);
	aws_params_append(&req->params, &req->nparams, key, value);
	freezero_str(value);	/* may be a token */
}

void
aws_request_put(struct aws_request *req, const char *key, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*value;
	size_t	 i;

	va_start(ap, fmt);
	xvasprintf(&value, fmt, ap);
	va_end(ap);
	for (i = 0; i < req->nparams; i++) {
		if (strcmp(req->params[i].key, key) == 0) {
			freezero_str(req->params[i].value);
			req->params[i].value = value;
			return;
		}
	}
	aws_params_append(&req->params, &req->nparams, key, value);
	free(value);
}

int
aws_request_remove(struct aws_request *req, const char *key)
{
	size_t	 i, j;
	int	 removed = 0;

	for (i = j = 0; i < req->nparams; i++) {
		if (strcmp(req->params[i].key, key) == 0) {
			free(req->params[i].key);
			free(req->params[i].value);
			removed++;
		} else
			req->params[j++] = req->params[i];
	}
	req->nparams = j;
	return removed;
}

const char *
aws_request_get(const struct aws_request *req, const char *key)
{
	size_t	 i;

	if (req == NULL || key == NULL)
		return NULL;
	for (i = 0; i < req->nparams; i++) {
		if (strcmp(req->params[i].key, key) == 0)
			return req->params[i].value;
	}
	return NULL;
}

void
aws_request_set(struct aws_request *req, const char *key, json_t *value)
{
	if (req->input == NULL)
		req->input = json_object();
	if (value == NULL)
		value = json_null();
	json_object_set_new(req->input, key, value);
}

void
aws_request_set_str(struct aws_request *req, const char *key,
    const char *value)
{
	aws_request_set(req, key, value == NULL ? json_null() :
	    json_string(value));
}

int
aws_action_is_read_only(const struct aws_service *svc, const char *action)
{
	static const char *const prefixes[] = {
		"Describe", "List", "Get", "Lookup", "Search", "Test", "Head",
		"Check",
	};
	size_t	 i, n;
	char	 c;

	(void)svc;
	if (action == NULL)
		return 0;
	for (i = 0; i < nitems(prefixes); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(action, prefixes[i], n) != 0)
			continue;
		c = action[n];
		if (c == '\0' || (c >= 'A' && c <= 'Z'))
			return 1;
	}
	return 0;
}

int
aws_request_is_dry_run(const struct aws_request *req)
{
	const char	*v;
	json_t		*j;

	if (req == NULL || req->svc == NULL ||
	    req->svc->protocol != AWS_PROTO_EC2)
		return 0;
	if ((v = aws_request_get(req, "DryRun")) != NULL &&
	    strcasecmp(v, "true") == 0)
		return 1;
	if (req->input != NULL &&
	    (j = json_object_get(req->input, "DryRun")) != NULL) {
		if (json_is_true(j))
			return 1;
		if (json_is_string(j) &&
		    strcasecmp(json_string_value(j), "true") == 0)
			return 1;
	}
	return 0;
}

char *
aws_user_agent(const char *base, const struct aws_request *req, int attempt)
{
	if (base == NULL)
		base = "cloudsagad/" CLOUDSAGA_VERSION;
	if (req == NULL || req->run_id == NULL || *req->run_id == '\0')
		return xstrdup(base);
	if (req->call_seq < 0)
		return xprintf("%s run/%s", base, req->run_id);
	if (attempt <= 0)
		return xprintf("%s run/%s/%ld", base, req->run_id,
		    req->call_seq);
	return xprintf("%s run/%s/%ld/%d", base, req->run_id, req->call_seq,
	    attempt);
}

/* A decimal number of at most 9 digits at *pp; -1 if none. */
static long
aws_marker_number(const char **pp)
{
	const char	*p = *pp;
	long		 v = 0;
	int		 n = 0;

	while (isdigit((unsigned char)*p) && n < 9) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || isdigit((unsigned char)*p))
		return -1;
	*pp = p;
	return v;
}

int
aws_marker_parse(const char *ua, struct aws_marker *m)
{
	const char	*p, *q;
	size_t		 i;

	for (p = ua; p != NULL && (p = strstr(p, "run/")) != NULL; p += 4) {
		if (p != ua && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
			continue;
		for (i = 0; i < 32; i++)
			if (!isxdigit((unsigned char)p[4 + i]))
				break;
		if (i != 32 || isalnum((unsigned char)p[4 + 32]))
			continue;
		for (i = 0; i < 32; i++)
			m->run_id[i] = (char)tolower((unsigned char)p[4 + i]);
		m->run_id[32] = '\0';
		m->seq = m->attempt = -1;
		q = p + 4 + 32;
		if (*q == '/' && isdigit((unsigned char)q[1])) {
			q++;
			if ((m->seq = aws_marker_number(&q)) == -1)
				continue;
			if (*q == '/' && isdigit((unsigned char)q[1])) {
				q++;
				if ((m->attempt = aws_marker_number(&q)) == -1)
					continue;
			}
		}
		if (isalnum((unsigned char)*q))
			continue;
		return 0;
	}
	return -1;
}

int
aws_marker_equal(const struct aws_marker *a, const struct aws_marker *b)
{
	return strcmp(a->run_id, b->run_id) == 0 && a->seq == b->seq &&
	    a->attempt == b->attempt;
}

/* ---- flattening (EC2 query / query) ----------------------------------- */

/* Shortest decimal form of d that reads back exactly. */
static void
aws_format_real(double d, char *out, size_t len)
{
	int	 prec;

	for (prec = 1; prec <= 17; prec++) {
		snprintf(out, len, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

static void
aws_flatten(struct aws_param **params, size_t *n, int ec2, struct buf *key,
    const json_t *v)
{
	const char	*k;
	json_t		*child;
	size_t		 mark, i;
	char		 num[64];

	mark = key->len;
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, k, child) {
			if (key->len > 0)
				buf_addch(key, '.');
			if (ec2 && *k != '\0') {
				buf_addch(key, (char)toupper((unsigned char)*k));
				buf_addstr(key, k + 1);
			} else
				buf_addstr(key, k);
			aws_flatten(params, n, ec2, key, child);
			key->len = mark;
			key->data[mark] = '\0';
		}
		break;
	case JSON_ARRAY:
		if (json_array_size(v) == 0) {
			if (!ec2 && key->len > 0)
				aws_params_append(params, n, buf_str(key), "");
			break;
		}
		json_array_foreach(v, i, child) {
			buf_printf(key, ec2 ? ".%zu" : ".member.%zu", i + 1);
			aws_flatten(params, n, ec2, key, child);
			key->len = mark;
			key->data[mark] = '\0';
		}
		break;
	case JSON_STRING:
		if (key->len > 0)
			aws_params_append(params, n, buf_str(key),
			    json_string_value(v));
		break;
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		if (key->len > 0)
			aws_params_append(params, n, buf_str(key), num);
		break;
	case JSON_REAL:
		aws_format_real(json_real_value(v), num, sizeof(num));
		if (key->len > 0)
			aws_params_append(params, n, buf_str(key), num);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		if (key->len > 0)
			aws_params_append(params, n, buf_str(key),
			    json_is_true(v) ? "true" : "false");
		break;
	case JSON_NULL:
		break;
	}
}

void
aws_request_add_flat(struct aws_request *req, const char *name,
    const json_t *value)
{
	struct buf	 key;
	int		 ec2;

	if (value == NULL)
		return;
	ec2 = req->svc != NULL && req->svc->protocol == AWS_PROTO_EC2;
	buf_init(&key);
	if (name != NULL)
		buf_addstr(&key, name);
	aws_flatten(&req->params, &req->nparams, ec2, &key, value);
	buf_free(&key);
}

/* ---- encoding helpers --------------------------------------------------- */

static void
aws_http_header(struct aws_http *h, const char *name, const char *value)
{
	h->headers = xreallocarray(h->headers, h->nheaders + 1,
	    sizeof(*h->headers));
	h->headers[h->nheaders].name = xstrdup(name);
	h->headers[h->nheaders].value = xstrdup(value);
	h->nheaders++;
}

void
aws_http_free(struct aws_http *h)
{
	size_t	 i;

	if (h == NULL)
		return;
	free(h->method);
	free(h->path);
	free(h->query);
	for (i = 0; i < h->nheaders; i++) {
		free(h->headers[i].name);
		free(h->headers[i].value);
	}
	free(h->headers);
	freezero(h->body, h->body_len);
	free(h->bucket);
	memset(h, 0, sizeof(*h));
}

static void
aws_form_add(struct buf *b, const char *k, const char *v)
{
	char	*ek, *ev;

	ek = uri_encode(k, strlen(k), 0);
	ev = uri_encode(v, strlen(v), 0);
	if (b->len > 0)
		buf_addch(b, '&');
	buf_printf(b, "%s=%s", ek, ev);
	free(ek);
	freezero_str(ev);	/* may be a token */
}

static int
aws_action_valid(const char *action)
{
	const char	*p;

	if (action == NULL || *action == '\0' || strlen(action) > 128)
		return 0;
	for (p = action; *p != '\0'; p++) {
		if (!isalnum((unsigned char)*p))
			return 0;
	}
	return 1;
}

static int
aws_encode_query(const struct aws_request *req, struct aws_http *h,
    char **cause)
{
	struct aws_param	*flat = NULL;
	size_t			 nflat = 0, i;
	struct buf		 body, key;
	int			 ec2 = req->svc->protocol == AWS_PROTO_EC2;

	if (req->input != NULL && !json_is_object(req->input)) {
		*cause = xstrdup("request input must be a JSON object");
		return -1;
	}
	if (req->input != NULL) {
		buf_init(&key);
		aws_flatten(&flat, &nflat, ec2, &key, req->input);
		buf_free(&key);
	}
	for (i = 0; i < req->nparams + nflat; i++) {
		const struct aws_param *p = i < req->nparams ?
		    &req->params[i] : &flat[i - req->nparams];

		if (*p->key == '\0' || strcmp(p->key, "Action") == 0 ||
		    strcmp(p->key, "Version") == 0) {
			*cause = xprintf("invalid parameter name \"%s\"%s",
			    p->key, *p->key == '\0' ? "" :
			    " (set by the encoder)");
			aws_params_free(flat, nflat);
			return -1;
		}
	}

	buf_init_secure(&body);		/* may hold a token */
	aws_form_add(&body, "Action", req->action);
	aws_form_add(&body, "Version", req->svc->api_version);
	for (i = 0; i < req->nparams; i++)
		aws_form_add(&body, req->params[i].key, req->params[i].value);
	for (i = 0; i < nflat; i++)
		aws_form_add(&body, flat[i].key, flat[i].value);
	aws_params_free(flat, nflat);

	h->method = xstrdup("POST");
	h->path = xstrdup("/");
	h->query = xstrdup("");
	aws_http_header(h, "Content-Type",
	    "application/x-www-form-urlencoded; charset=utf-8");
	h->body_len = body.len;
	h->body = buf_release(&body);
	return 0;
}

/*
 * The input document with params merged in as string members it does not
 * already have.  New reference, or NULL + cause.
 */
static json_t *
aws_input_merged(const struct aws_request *req, char **cause)
{
	json_t	*in;
	size_t	 i;

	if (req->input != NULL && !json_is_object(req->input)) {
		*cause = xstrdup("request input must be a JSON object");
		return NULL;
	}
	if (req->nparams == 0)
		return req->input != NULL ? json_incref(req->input) :
		    json_object();
	in = req->input != NULL ? json_copy(req->input) : json_object();
	for (i = 0; i < req->nparams; i++) {
		if (json_object_get(in, req->params[i].key) != NULL)
			continue;
		if (json_object_set_new(in, req->params[i].key,
		    json_string(req->params[i].value)) != 0) {
			*cause = xprintf("parameter %s is not valid UTF-8",
			    req->params[i].key);
			json_decref(in);
			return NULL;
		}
	}
	return in;
}

static int
aws_encode_json(const struct aws_request *req, struct aws_http *h,
    char **cause)
{
	json_t	*in;
	char	*body, *target, *ctype;

	if ((in = aws_input_merged(req, cause)) == NULL)
		return -1;
	body = json_dumps(in, JSON_COMPACT);
	json_decref(in);
	if (body == NULL) {
		*cause = xstrdup("cannot serialise the request input");
		return -1;
	}
	target = xprintf("%s.%s", req->svc->target_prefix, req->action);
	ctype = xprintf("application/x-amz-json-%s",
	    req->svc->json_version != NULL ? req->svc->json_version : "1.1");
	h->method = xstrdup("POST");
	h->path = xstrdup("/");
	h->query = xstrdup("");
	aws_http_header(h, "Content-Type", ctype);
	aws_http_header(h, "X-Amz-Target", target);
	free(target);
	free(ctype);
	h->body_len = strlen(body);
	h->body = xstrdup(body);
	free(body);
	return 0;
}

/* ---- REST (GuardDuty, S3) ---------------------------------------------- */

/* LOC_PAYLOAD: the member is the whole body (a string as is, anything
 * else as compact JSON): S3 PutBucketPolicy, Bedrock InvokeModel. */
enum aws_loc { LOC_BODY, LOC_PATH, LOC_QUERY, LOC_HEADER, LOC_BUCKET,
    LOC_PAYLOAD };
enum aws_type { TYPE_ANY, TYPE_STRING, TYPE_INT, TYPE_BOOL };

struct aws_rest_member {
	const char	*name;		/* model member name (PascalCase) */
	enum aws_loc	 loc;
	const char	*wire;		/* locationName: body key, path label,
					   query or header name */
	enum aws_type	 type;
	int		 required;
};

#define AWS_REST_MAXMEMBERS	6

struct aws_rest_op {
	const char		*action;
	const char		*method;
	const char		*uri;		/* "/detector/{DetectorId}" */
	const char		*query;		/* fixed query: "location" */
	struct aws_rest_member	 members[AWS_REST_MAXMEMBERS];
};

/* GuardDuty 2017-11-28 (botocore model: http bindings, locationName). */
static const struct aws_rest_op aws_guardduty_ops[] = {
	{ "ListDetectors", "GET", "/detector", NULL, {
		{ "MaxResults", LOC_QUERY, "maxResults", TYPE_INT, 0 },
		{ "NextToken", LOC_QUERY, "nextToken", TYPE_STRING, 0 },
	} },
	{ "ListFindings", "POST", "/detector/{DetectorId}/findings", NULL, {
		{ "DetectorId", LOC_PATH, "DetectorId", TYPE_STRING, 1 },
		{ "FindingCriteria", LOC_BODY, "findingCriteria", TYPE_ANY, 0 },
		{ "SortCriteria", LOC_BODY, "sortCriteria", TYPE_ANY, 0 },
		{ "MaxResults", LOC_BODY, "maxResults", TYPE_INT, 0 },
		{ "NextToken", LOC_BODY, "nextToken", TYPE_STRING, 0 },
	} },
	{ "GetFindings", "POST", "/detector/{DetectorId}/findings/get", NULL, {
		{ "DetectorId", LOC_PATH, "DetectorId", TYPE_STRING, 1 },
		{ "FindingIds", LOC_BODY, "findingIds", TYPE_ANY, 1 },
		{ "SortCriteria", LOC_BODY, "sortCriteria", TYPE_ANY, 0 },
	} },
	{ "GetDetector", "GET", "/detector/{DetectorId}", NULL, {
		{ "DetectorId", LOC_PATH, "DetectorId", TYPE_STRING, 1 },
	} },
	{ "DeleteDetector", "DELETE", "/detector/{DetectorId}", NULL, {
		{ "DetectorId", LOC_PATH, "DetectorId", TYPE_STRING, 1 },
	} },
	{ "UpdateDetector", "POST", "/detector/{DetectorId}", NULL, {
		{ "DetectorId", LOC_PATH, "DetectorId", TYPE_STRING, 1 },
		{ "Enable", LOC_BODY, "enable", TYPE_BOOL, 0 },
		{ "FindingPublishingFrequency", LOC_BODY,
		    "findingPublishingFrequency", TYPE_STRING, 0 },
		{ "DataSources", LOC_BODY, "dataSources", TYPE_ANY, 0 },
		{ "Features", LOC_BODY, "features", TYPE_ANY, 0 },
	} },
	{ NULL, NULL, NULL, NULL, { { NULL, 0, NULL, 0, 0 } } },
};

/* S3 2006-03-01: the bucket calls the scenarios need. */
static const struct aws_rest_op aws_s3_ops[] = {
	{ "ListBuckets", "GET", "/", NULL, {
		{ "MaxBuckets", LOC_QUERY, "max-buckets", TYPE_INT, 0 },
		{ "ContinuationToken", LOC_QUERY, "continuation-token",
		    TYPE_STRING, 0 },
		{ "Prefix", LOC_QUERY, "prefix", TYPE_STRING, 0 },
		{ "BucketRegion", LOC_QUERY, "bucket-region", TYPE_STRING, 0 },
	} },
	{ "GetBucketLocation", "GET", "/", "location", {
		{ "Bucket", LOC_BUCKET, "Bucket", TYPE_STRING, 1 },
		{ "ExpectedBucketOwner", LOC_HEADER,
		    "x-amz-expected-bucket-owner", TYPE_STRING, 0 },
	} },
	{ "GetPublicAccessBlock", "GET", "/", "publicAccessBlock", {
		{ "Bucket", LOC_BUCKET, "Bucket", TYPE_STRING, 1 },
		{ "ExpectedBucketOwner", LOC_HEADER,
		    "x-amz-expected-bucket-owner", TYPE_STRING, 0 },
	} },
	{ "PutPublicAccessBlock", "PUT", "/", "publicAccessBlock", {
		{ "Bucket", LOC_BUCKET, "Bucket", TYPE_STRING, 1 },
		{ "ExpectedBucketOwner", LOC_HEADER,
		    "x-amz-expected-bucket-owner", TYPE_STRING, 0 },
		{ "PublicAccessBlockConfiguration", LOC_BODY,
		    "PublicAccessBlockConfiguration", TYPE_ANY, 0 },
		/* Content-MD5 is computed here; accepted and ignored. */
		{ "ContentMD5", LOC_BODY, NULL, TYPE_STRING, 0 },
	} },
	{ "DeletePublicAccessBlock", "DELETE", "/", "publicAccessBlock", {
		{ "Bucket", LOC_BUCKET, "Bucket", TYPE_STRING, 1 },
		{ "ExpectedBucketOwner", LOC_HEADER,
		    "x-amz-expected-bucket-owner", TYPE_STRING, 0 },
	} },
	/* The payload is the policy document (text); Content-MD5 is added. */
	{ "PutBucketPolicy", "PUT", "/", "policy", {
		{ "Bucket", LOC_BUCKET, "Bucket", TYPE_STRING, 1 },
		{ "Policy", LOC_PAYLOAD, "Policy", TYPE_ANY, 1 },
		{ "ExpectedBucketOwner", LOC_HEADER,
		    "x-amz-expected-bucket-owner", TYPE_STRING, 0 },
	} },
	/* The payload is the <LifecycleConfiguration> XML document (text). */
	{ "PutBucketLifecycleConfiguration", "PUT", "/", "lifecycle", {
		{ "Bucket", LOC_BUCKET, "Bucket", TYPE_STRING, 1 },
		{ "LifecycleConfiguration", LOC_PAYLOAD,
		    "LifecycleConfiguration", TYPE_STRING, 1 },
		{ "ExpectedBucketOwner", LOC_HEADER,
		    "x-amz-expected-bucket-owner", TYPE_STRING, 0 },
	} },
	{ NULL, NULL, NULL, NULL, { { NULL, 0, NULL, 0, 0 } } },
};

/*
 * Lambda 2015-03-31: the catalogue's calls.  Body members keep the
 * model's PascalCase names (Lambda's wire names).
 */
static const struct aws_rest_op aws_lambda_ops[] = {
	{ "ListFunctions", "GET", "/2015-03-31/functions/", NULL, {
		{ "MasterRegion", LOC_QUERY, "MasterRegion", TYPE_STRING, 0 },
		{ "FunctionVersion", LOC_QUERY, "FunctionVersion",
		    TYPE_STRING, 0 },
		{ "Marker", LOC_QUERY, "Marker", TYPE_STRING, 0 },
		{ "MaxItems", LOC_QUERY, "MaxItems", TYPE_INT, 0 },
	} },
	{ "AddPermission", "POST", "/2015-03-31/functions/{FunctionName}/policy",
	    NULL, {
		{ "FunctionName", LOC_PATH, "FunctionName", TYPE_STRING, 1 },
		{ "StatementId", LOC_BODY, "StatementId", TYPE_STRING, 1 },
		{ "Action", LOC_BODY, "Action", TYPE_STRING, 1 },
		{ "Principal", LOC_BODY, "Principal", TYPE_STRING, 1 },
		{ "SourceArn", LOC_BODY, "SourceArn", TYPE_STRING, 0 },
		{ "SourceAccount", LOC_BODY, "SourceAccount", TYPE_STRING, 0 },
	} },
	{ "UpdateFunctionCode", "PUT", "/2015-03-31/functions/{FunctionName}/code",
	    NULL, {
		{ "FunctionName", LOC_PATH, "FunctionName", TYPE_STRING, 1 },
		{ "ZipFile", LOC_BODY, "ZipFile", TYPE_STRING, 0 },
		{ "S3Bucket", LOC_BODY, "S3Bucket", TYPE_STRING, 0 },
		{ "S3Key", LOC_BODY, "S3Key", TYPE_STRING, 0 },
		{ "ImageUri", LOC_BODY, "ImageUri", TYPE_STRING, 0 },
		{ "Publish", LOC_BODY, "Publish", TYPE_BOOL, 0 },
	} },
	{ "UpdateFunctionConfiguration", "PUT",
	    "/2015-03-31/functions/{FunctionName}/configuration", NULL, {
		{ "FunctionName", LOC_PATH, "FunctionName", TYPE_STRING, 1 },
		{ "Layers", LOC_BODY, "Layers", TYPE_ANY, 0 },
		{ "Description", LOC_BODY, "Description", TYPE_STRING, 0 },
		{ "Handler", LOC_BODY, "Handler", TYPE_STRING, 0 },
		{ "Role", LOC_BODY, "Role", TYPE_STRING, 0 },
		{ "Environment", LOC_BODY, "Environment", TYPE_ANY, 0 },
	} },
	{ NULL, NULL, NULL, NULL, { { NULL, 0, NULL, 0, 0 } } },
};

/* Bedrock runtime 2023-09-30: InvokeModel, its body the model's input. */
static const struct aws_rest_op aws_bedrock_ops[] = {
	{ "InvokeModel", "POST", "/model/{modelId}/invoke", NULL, {
		{ "modelId", LOC_PATH, "modelId", TYPE_STRING, 1 },
		{ "body", LOC_PAYLOAD, "body", TYPE_ANY, 0 },
		{ "contentType", LOC_HEADER, "Content-Type", TYPE_STRING, 0 },
		{ "accept", LOC_HEADER, "Accept", TYPE_STRING, 0 },
	} },
	{ NULL, NULL, NULL, NULL, { { NULL, 0, NULL, 0, 0 } } },
};

/* The REST operation tables, by service id. */
static const struct {
	const char		*service;
	const struct aws_rest_op *ops;
} aws_rest_tables[] = {
	{ "bedrock", aws_bedrock_ops },
	{ "guardduty", aws_guardduty_ops },
	{ "lambda", aws_lambda_ops },
	{ "s3", aws_s3_ops },
};

static const char *const aws_pab_fields[] = {
	"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
	"RestrictPublicBuckets",
};

static const struct aws_rest_op *
aws_rest_op_find(const struct aws_rest_op *ops, const char *action)
{
	for (; ops->action != NULL; ops++) {
		if (strcmp(ops->action, action) == 0)
			return ops;
	}
	return NULL;
}

/* "FindingCriteria" and "findingCriteria" name the same member. */
static int
aws_member_eq(const char *a, const char *b)
{
	if (*a == '\0' || *b == '\0')
		return *a == *b;
	return tolower((unsigned char)*a) == tolower((unsigned char)*b) &&
	    strcmp(a + 1, b + 1) == 0;
}

static const struct aws_rest_member *
aws_rest_member_find(const struct aws_rest_op *op, const char *key)
{
	size_t	 i;

	for (i = 0; i < AWS_REST_MAXMEMBERS && op->members[i].name != NULL;
	    i++) {
		if (aws_member_eq(op->members[i].name, key))
			return &op->members[i];
	}
	return NULL;
}

/* Keys whose value is a map: its keys are data, not member names. */
static int
aws_is_map_key(const char *key)
{
	return aws_member_eq("Criterion", key) || aws_member_eq("Tags", key);
}

/* Deep copy with structure member names lower-camel-cased. */
static json_t *
aws_camel_copy(json_t *v, int map)
{
	json_t		*out, *child;
	const char	*k;
	size_t		 i;
	char		*nk;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		out = json_object();
		json_object_foreach(v, k, child) {
			nk = xstrdup(k);
			if (!map)
				nk[0] = (char)tolower((unsigned char)nk[0]);
			json_object_set_new(out, nk, aws_camel_copy(child,
			    !map && aws_is_map_key(k)));
			free(nk);
		}
		return out;
	case JSON_ARRAY:
		out = json_array();
		json_array_foreach(v, i, child)
			json_array_append_new(out, aws_camel_copy(child, 0));
		return out;
	default:
		return json_incref(v);
	}
}

/* Coerce v to the member's type; new reference or NULL + cause. */
static json_t *
aws_rest_coerce(const struct aws_rest_op *op,
    const struct aws_rest_member *m, json_t *v, char **cause)
{
	const char	*s;
	char		*end;
	long long	 ll;

	switch (m->type) {
	case TYPE_INT:
		if (json_is_integer(v))
			return json_incref(v);
		if (json_is_string(v)) {
			s = json_string_value(v);
			ll = strtoll(s, &end, 10);
			if (*s != '\0' && *end == '\0')
				return json_integer(ll);
		}
		break;
	case TYPE_BOOL:
		if (json_is_boolean(v))
			return json_incref(v);
		if (json_is_string(v)) {
			s = json_string_value(v);
			if (strcasecmp(s, "true") == 0)
				return json_true();
			if (strcasecmp(s, "false") == 0)
				return json_false();
		}
		break;
	case TYPE_STRING:
		if (json_is_string(v))
			return json_incref(v);
		if (json_is_integer(v))
			return json_sprintf("%" JSON_INTEGER_FORMAT,
			    json_integer_value(v));
		break;
	case TYPE_ANY:
		return aws_camel_copy(v, 0);
	}
	*cause = xprintf("%s %s: member %s must be %s", op->action,
	    "input", m->name, m->type == TYPE_INT ? "an integer" :
	    m->type == TYPE_BOOL ? "a boolean" : "a string");
	return NULL;
}

static char *
aws_json_scalar_text(json_t *v)
{
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (json_is_integer(v))
		return xprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
	if (json_is_boolean(v))
		return xstrdup(json_is_true(v) ? "true" : "false");
	return NULL;
}

static int
aws_bucket_valid(const char *b)
{
	const char	*p;

	if (*b == '\0' || strlen(b) > 255)
		return 0;
	for (p = b; *p != '\0'; p++) {
		if (*p == '/' || *p == '?' || *p == '#' || *p == '\\' ||
		    (unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	}
	return 1;
}

static int
aws_s3_pab_xml(json_t *cfg, struct buf *b, char **cause)
{
	json_t		*v;
	const char	*k;
	size_t		 i;
	int		 any = 0, val;

	json_object_foreach(cfg, k, v) {
		for (i = 0; i < nitems(aws_pab_fields); i++) {
			if (aws_member_eq(aws_pab_fields[i], k))
				break;
		}
		if (i == nitems(aws_pab_fields)) {
			*cause = xprintf("PublicAccessBlockConfiguration has "
			    "no member %s", k);
			return -1;
		}
	}
	buf_addstr(b, "<PublicAccessBlockConfiguration "
	    "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (i = 0; i < nitems(aws_pab_fields); i++) {
		v = NULL;
		json_object_foreach(cfg, k, v) {
			if (aws_member_eq(aws_pab_fields[i], k))
				break;
		}
		if (k == NULL || v == NULL || json_is_null(v))
			continue;
		if (json_is_boolean(v))
			val = json_is_true(v);
		else if (json_is_string(v) &&
		    strcasecmp(json_string_value(v), "true") == 0)
			val = 1;
		else if (json_is_string(v) &&
		    strcasecmp(json_string_value(v), "false") == 0)
			val = 0;
		else {
			*cause = xprintf("PublicAccessBlockConfiguration.%s "
			    "must be true or false", aws_pab_fields[i]);
			return -1;
		}
		buf_printf(b, "<%s>%s</%s>", aws_pab_fields[i],
		    val ? "true" : "false", aws_pab_fields[i]);
		any = 1;
	}
	buf_addstr(b, "</PublicAccessBlockConfiguration>");
	if (!any) {
		*cause = xstrdup("PutPublicAccessBlock needs "
		    "PublicAccessBlockConfiguration (BlockPublicAcls, "
		    "IgnorePublicAcls, BlockPublicPolicy, "
		    "RestrictPublicBuckets)");
		return -1;
	}
	return 0;
}

static char *
aws_content_md5(const void *data, size_t len)
{
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	char		 out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];

	if (EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL) != 1)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	return xstrdup(out);
}

/*
 * One REST encoding in progress: aws_encode_rest() runs the phases in
 * order - find the operation, sort the input (body members, the S3
 * PublicAccessBlock fields), place the other members in the table's order
 * (query, headers, bucket, path labels), expand the URI, write the body.
 */
struct aws_rest_enc {
	const struct aws_request	*req;
	const struct aws_rest_op	*op;
	struct aws_http			*h;
	int				 s3;
	json_t				*in;	/* the merged input */
	json_t				*body;	/* JSON body members */
	json_t				*pab;	/* S3 PublicAccessBlock */
	json_t				*payload;/* LOC_PAYLOAD: the body */
	json_t				*seen;	/* members given */
	json_t				*labels;/* path labels */
	struct buf			 path;
	struct buf			 query;
	char				**cause;
};

static int
aws_rest_is_pab(const struct aws_rest_enc *e)
{
	return e->s3 && strcmp(e->op->action, "PutPublicAccessBlock") == 0;
}

/* An input member the table does not name: a PublicAccessBlock field? */
static int
aws_rest_sort_pab_field(struct aws_rest_enc *e, const char *k, json_t *v)
{
	size_t	 i;

	if (!aws_rest_is_pab(e))
		return 0;
	for (i = 0; i < nitems(aws_pab_fields); i++) {
		if (aws_member_eq(aws_pab_fields[i], k))
			break;
	}
	if (i == nitems(aws_pab_fields))
		return 0;
	if (json_object_get(e->seen, "PublicAccessBlockConfiguration")) {
		*e->cause = xprintf("%s: give either PublicAccessBlock"
		    "Configuration or its members, not both", e->op->action);
		return -1;
	}
	if (e->pab == NULL)
		e->pab = json_object();
	json_object_set(e->pab, aws_pab_fields[i], v);
	return 1;
}

/* Phase 1: every input member known once; body members into the body. */
static int
aws_rest_sort(struct aws_rest_enc *e)
{
	const struct aws_rest_member	*m;
	const char			*k;
	json_t				*v, *cv;
	int				 r;

	json_object_foreach(e->in, k, v) {
		if ((m = aws_rest_member_find(e->op, k)) == NULL) {
			if ((r = aws_rest_sort_pab_field(e, k, v)) == -1)
				return -1;
			if (r == 1)
				continue;
			*e->cause = xprintf("%s:%s has no input member %s",
			    e->req->svc->id, e->op->action, k);
			return -1;
		}
		if (json_object_get(e->seen, m->name) != NULL) {
			*e->cause = xprintf("%s:%s: member %s given twice",
			    e->req->svc->id, e->op->action, m->name);
			return -1;
		}
		json_object_set_new(e->seen, m->name, json_true());
		if (json_is_null(v) || m->wire == NULL)
			continue;
		if ((cv = aws_rest_coerce(e->op, m, v, e->cause)) == NULL)
			return -1;
		if (m->loc == LOC_PAYLOAD) {
			json_decref(cv);
			json_decref(e->payload);
			e->payload = json_incref(v);
			continue;
		}
		if (m->loc != LOC_BODY) {
			/* Placed by aws_rest_place() in the table's order. */
			json_decref(cv);
			continue;
		}
		if (!e->s3) {
			json_object_set_new(e->body, m->wire, cv);
			continue;
		}
		json_decref(cv);
		if (!json_is_object(v)) {
			*e->cause = xprintf("%s must be an object", m->name);
			return -1;
		}
		if (e->pab != NULL) {
			*e->cause = xprintf("%s: give either %s or its "
			    "members, not both", e->op->action, m->name);
			return -1;
		}
		e->pab = json_incref(v);
	}
	return 0;
}

/* The input value of member m (any spelling), NULL when absent or null. */
static json_t *
aws_rest_value(const struct aws_rest_enc *e, const struct aws_rest_member *m)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(e->in, k, v) {
		if (aws_member_eq(m->name, k))
			return json_is_null(v) ? NULL : v;
	}
	return NULL;
}

/* Put one non-body member's text where the table says. */
static int
aws_rest_place_one(struct aws_rest_enc *e, const struct aws_rest_member *m,
    const char *text)
{
	const char	*s;
	char		*enc;

	switch (m->loc) {
	case LOC_PATH:
		if (*text == '\0') {
			*e->cause = xprintf("%s:%s: %s is empty",
			    e->req->svc->id, e->op->action, m->name);
			return -1;
		}
		json_object_set_new(e->labels, m->wire, json_string(text));
		break;
	case LOC_QUERY:
		if (e->query.len > 0)
			buf_addch(&e->query, '&');
		enc = uri_encode(text, strlen(text), 0);
		buf_printf(&e->query, "%s=%s", m->wire, enc);
		free(enc);
		break;
	case LOC_HEADER:
		for (s = text; *s != '\0'; s++) {
			if ((unsigned char)*s < ' ' || *s == 0x7f)
				break;
		}
		if (*s != '\0') {
			*e->cause = xprintf("%s: control character in %s",
			    e->op->action, m->name);
			return -1;
		}
		aws_http_header(e->h, m->wire, text);
		break;
	case LOC_BUCKET:
		if (!aws_bucket_valid(text)) {
			*e->cause = xprintf("%s: invalid bucket name",
			    e->op->action);
			return -1;
		}
		e->h->bucket = xstrdup(text);
		break;
	case LOC_BODY:
	case LOC_PAYLOAD:
		break;
	}
	return 0;
}

/* Phase 2: required members present; the others placed in table order. */
static int
aws_rest_place(struct aws_rest_enc *e)
{
	const struct aws_rest_member	*m;
	json_t				*v, *cv;
	char				*text;
	size_t				 i;
	int				 rc;

	for (i = 0; i < AWS_REST_MAXMEMBERS &&
	    e->op->members[i].name != NULL; i++) {
		m = &e->op->members[i];
		if ((v = aws_rest_value(e, m)) == NULL) {
			if (m->required) {
				*e->cause = xprintf("%s:%s needs %s",
				    e->req->svc->id, e->op->action, m->name);
				return -1;
			}
			continue;
		}
		if (m->loc == LOC_BODY || m->loc == LOC_PAYLOAD)
			continue;
		if ((text = aws_json_scalar_text(v)) == NULL) {
			*e->cause = xprintf("%s:%s: %s must be a string",
			    e->req->svc->id, e->op->action, m->name);
			return -1;
		}
		if (m->type == TYPE_INT) {
			if ((cv = aws_rest_coerce(e->op, m, v,
			    e->cause)) == NULL) {
				free(text);
				return -1;
			}
			json_decref(cv);
		}
		rc = aws_rest_place_one(e, m, text);
		free(text);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Phase 3: the URI with its {Label}s expanded from the path members. */
static int
aws_rest_path(struct aws_rest_enc *e)
{
	const char	*p, *q;
	json_t		*v;
	char		*text, *enc;

	for (p = e->op->uri; *p != '\0'; p++) {
		if (*p != '{') {
			buf_addch(&e->path, *p);
			continue;
		}
		if ((q = strchr(p, '}')) == NULL)
			break;
		text = xstrndup(p + 1, (size_t)(q - p - 1));
		v = json_object_get(e->labels, text);
		free(text);
		if (v == NULL || !json_is_string(v)) {
			*e->cause = xprintf("%s:%s: path member missing",
			    e->req->svc->id, e->op->action);
			return -1;
		}
		enc = uri_encode(json_string_value(v),
		    json_string_length(v), 0);
		buf_addstr(&e->path, enc);
		free(enc);
		p = q;
	}
	return 0;
}

/* Phase 4, a payload member: the whole body (a string as is, anything
 * else as JSON); S3 bodies carry their Content-MD5. */
static int
aws_rest_payload(struct aws_rest_enc *e)
{
	struct aws_http	*h = e->h;
	char		*text, *s, *md5;
	size_t		 i;

	if (json_is_string(e->payload))
		text = xstrdup(json_string_value(e->payload));
	else if ((s = json_dumps(e->payload, JSON_COMPACT)) != NULL) {
		text = xstrdup(s);
		free(s);
	} else {
		*e->cause = xstrdup("cannot serialise the request payload");
		return -1;
	}
	if (e->s3) {
		if ((md5 = aws_content_md5(text, strlen(text))) == NULL) {
			free(text);
			*e->cause = xstrdup("MD5 digest failed");
			return -1;
		}
		aws_http_header(h, "Content-MD5", md5);
		free(md5);
	}
	for (i = 0; i < h->nheaders; i++)
		if (strcasecmp(h->headers[i].name, "Content-Type") == 0)
			break;
	if (!e->s3 && i == h->nheaders)
		aws_http_header(h, "Content-Type", "application/json");
	h->body_len = strlen(text);
	h->body = text;
	return 0;
}

/* Phase 4: the method and the body (a payload member, S3
 * PublicAccessBlock XML, or JSON). */
static int
aws_rest_body(struct aws_rest_enc *e)
{
	struct aws_http	*h = e->h;
	struct buf	 xml;
	char		*text, *md5;

	h->method = xstrdup(e->op->method);
	if (e->payload != NULL)
		return aws_rest_payload(e);
	if (aws_rest_is_pab(e)) {
		if (e->pab == NULL) {
			*e->cause = xstrdup("PutPublicAccessBlock needs "
			    "PublicAccessBlockConfiguration");
			return -1;
		}
		buf_init(&xml);
		if (aws_s3_pab_xml(e->pab, &xml, e->cause) != 0) {
			buf_free(&xml);
			return -1;
		}
		if ((md5 = aws_content_md5(xml.data, xml.len)) == NULL) {
			*e->cause = xstrdup("MD5 digest failed");
			buf_free(&xml);
			return -1;
		}
		aws_http_header(h, "Content-Type", "application/xml");
		aws_http_header(h, "Content-MD5", md5);
		free(md5);
		h->body_len = xml.len;
		h->body = buf_release(&xml);
	} else if (!e->s3 && (strcmp(e->op->method, "POST") == 0 ||
	    strcmp(e->op->method, "PUT") == 0)) {
		if ((text = json_dumps(e->body, JSON_COMPACT)) == NULL) {
			*e->cause = xstrdup("cannot serialise the request "
			    "body");
			return -1;
		}
		aws_http_header(h, "Content-Type", "application/json");
		h->body_len = strlen(text);
		h->body = xstrdup(text);
		free(text);
	}
	return 0;
}

static int
aws_encode_rest(const struct aws_request *req, struct aws_http *h,
    char **cause)
{
	const struct aws_rest_op	*ops;
	struct aws_rest_enc		 e;
	size_t				 i;
	int				 rc = -1;

	memset(&e, 0, sizeof(e));
	e.req = req;
	e.h = h;
	e.cause = cause;
	e.s3 = req->svc->protocol == AWS_PROTO_RESTXML;
	ops = NULL;
	for (i = 0; i < nitems(aws_rest_tables); i++)
		if (strcmp(aws_rest_tables[i].service, req->svc->id) == 0)
			ops = aws_rest_tables[i].ops;
	if (ops == NULL || (e.op = aws_rest_op_find(ops, req->action)) ==
	    NULL) {
		*cause = xprintf("%s:%s is not supported by the %s encoder",
		    req->svc->id, req->action,
		    aws_protocol_name(req->svc->protocol));
		return -1;
	}
	if ((e.in = aws_input_merged(req, cause)) == NULL)
		return -1;

	buf_init(&e.path);
	buf_init(&e.query);
	e.body = json_object();
	e.seen = json_object();
	e.labels = json_object();
	if (e.op->query != NULL)
		buf_addstr(&e.query, e.op->query);

	if (aws_rest_sort(&e) == 0 && aws_rest_place(&e) == 0 &&
	    aws_rest_path(&e) == 0 && aws_rest_body(&e) == 0) {
		h->path = buf_release(&e.path);
		h->query = buf_release(&e.query);
		rc = 0;
	} else
		aws_http_free(h);
	buf_free(&e.path);
	buf_free(&e.query);
	json_decref(e.in);
	json_decref(e.body);
	json_decref(e.seen);
	json_decref(e.labels);
	json_decref(e.pab);
	json_decref(e.payload);
	return rc;
}

int
aws_encode(const struct aws_request *req, struct aws_http *ret, char **cause)
{
	struct aws_http	 h;
	int		 rc;

	if (req == NULL || req->svc == NULL) {
		*cause = xstrdup("request without a service");
		return -1;
	}
	if (!aws_action_valid(req->action)) {
		*cause = xprintf("invalid action name for %s", req->svc->id);
		return -1;
	}
	memset(&h, 0, sizeof(h));
	switch (req->svc->protocol) {
	case AWS_PROTO_EC2:
	case AWS_PROTO_QUERY:
		rc = aws_encode_query(req, &h, cause);
		break;
	case AWS_PROTO_JSON:
		rc = aws_encode_json(req, &h, cause);
		break;
	case AWS_PROTO_RESTJSON:
	case AWS_PROTO_RESTXML:
		rc = aws_encode_rest(req, &h, cause);
		break;
	default:
		*cause = xstrdup("unknown protocol");
		rc = -1;
		break;
	}
	if (rc != 0) {
		aws_http_free(&h);
		return -1;
	}
	if (h.body == NULL)
		h.body = xstrdup("");
	*ret = h;
	return 0;
}

/* ---- results ------------------------------------------------------------ */

char *
aws_result_describe(const struct aws_result *res)
{
	const char	*msg = res->error_message;

	if (res->error_code != NULL)
		return xprintf("%s%s%s", res->error_code, msg != NULL ?
		    ": " : "", msg != NULL ? msg : "");
	if (res->status != 0)
		return xprintf("HTTP %ld%s%s", res->status, msg != NULL ?
		    ": " : "", msg != NULL ? msg : "");
	return xprintf("%s (%s)%s%s", aws_outcome_name(res->outcome),
	    http_error_name(res->http_error), msg != NULL ? ": " : "",
	    msg != NULL ? msg : "");
}
