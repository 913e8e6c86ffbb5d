/*
 * awsdecode: responses into aws_result - request IDs, the three error
 * shapes (EC2 <Response><Errors><Error>, query <ErrorResponse><Error>, S3
 * <Error>) and JSON errors (X-Amzn-Errortype, __type, code), bodies into
 * one jansson tree - and the one place where outcomes are classified.
 *
 * Nothing in here quotes response bytes in a message: bodies can hold
 * credentials (STS, IMDS), and messages end up in logs.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aws.h"
#include "util.h"
#include "wipe.h"
#include "xmalloc.h"

/* ---- small helpers ------------------------------------------------------ */

static const char *
awsdec_header(const struct http_response *resp, const char *name)
{
	size_t	 i;

	for (i = 0; i < resp->nheaders; i++) {
		if (resp->headers[i].name != NULL &&
		    strcasecmp(resp->headers[i].name, name) == 0)
			return resp->headers[i].value;
	}
	return NULL;
}

/* Copy of s without leading/trailing white space; NULL if nothing left. */
static char *
awsdec_trim(const char *s)
{
	const char	*e;

	if (s == NULL)
		return NULL;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (e == s)
		return NULL;
	return xstrndup(s, (size_t)(e - s));
}

/* ---- JSON ---------------------------------------------------------------- */

/*
 * Before jansson builds anything: the nesting depth (jansson recurses per
 * level) and the number of values, object keys included, which is what
 * bounds the memory of the tree (an empty object costs ~230 bytes for 3
 * bytes of input).  A value starts at '{', '[', '"' (a string or a key),
 * or at the first byte of a number or literal: a byte that is none of
 * these, nor white space, ',', ':', ']' or '}'.  Invalid JSON may count
 * oddly; jansson refuses it next anyway.
 */
static int
awsdec_json_scan(const char *text, size_t len, char **cause)
{
	size_t	 i, values = 0;
	int	 depth = 0, instr = 0, inscalar = 0;
	char	 c;

	for (i = 0; i < len; i++) {
		c = text[i];
		if (instr) {
			if (c == '\\')
				i++;
			else if (c == '"')
				instr = 0;
			continue;
		}
		switch (c) {
		case '"':
			instr = 1;
			inscalar = 0;
			values++;
			break;
		case '[':
		case '{':
			if (++depth > AWS_JSON_MAX_DEPTH) {
				*cause = xstrdup("JSON nesting is too deep");
				return -1;
			}
			inscalar = 0;
			values++;
			break;
		case ']':
		case '}':
			depth--;
			inscalar = 0;
			break;
		case ',':
		case ':':
		case ' ':
		case '\t':
		case '\n':
		case '\r':
			inscalar = 0;
			break;
		default:
			if (!inscalar)
				values++;
			inscalar = 1;
			break;
		}
		if (values > AWS_JSON_MAX_VALUES) {
			*cause = xprintf("JSON has too many values (more than "
			    "%d)", AWS_JSON_MAX_VALUES);
			return -1;
		}
	}
	return 0;
}

json_t *
aws_json_parse(const char *text, size_t len, char **cause)
{
	json_error_t	 err;
	json_t		*j;
	char		*near;

	wipe_init();	/* (done before main(); this links it in) */
	if (text == NULL || len == 0) {
		*cause = xstrdup("empty JSON body");
		return NULL;
	}
	if (len > AWS_JSON_MAX_SIZE) {
		*cause = xprintf("JSON body too large (%zu bytes, limit %d)",
		    len, AWS_JSON_MAX_SIZE);
		return NULL;
	}
	if (awsdec_json_scan(text, len, cause) != 0)
		return NULL;
	if ((j = json_loadb(text, len, 0, &err)) == NULL) {
		/* jansson's text may quote the input ("near '...'"). */
		if ((near = strstr(err.text, " near ")) != NULL)
			*near = '\0';
		*cause = xprintf("invalid JSON at line %d column %d: %s",
		    err.line, err.column, err.text);
		return NULL;
	}
	return j;
}

char *
aws_json_error_code(const char *raw)
{
	const char	*s, *h, *e;

	if (raw == NULL)
		return NULL;
	s = raw;
	if ((e = strchr(s, ':')) == NULL)
		e = s + strlen(s);
	for (h = s; h < e; h++) {
		if (*h == '#')
			s = h + 1;
	}
	while (s < e && isspace((unsigned char)*s))
		s++;
	while (e > s && isspace((unsigned char)e[-1]))
		e--;
	if (e == s)
		return NULL;
	return xstrndup(s, (size_t)(e - s));
}

json_t *
aws_json_list(json_t *v)
{
	json_t	*a;

	if (v == NULL || json_is_null(v))
		return json_array();
	if (json_is_array(v))
		return json_incref(v);
	if (json_is_string(v) && json_string_length(v) == 0)
		return json_array();
	a = json_array();
	json_array_append(a, v);
	return a;
}

json_t *
aws_json_path(json_t *v, const char *path)
{
	const char	*p, *e;
	char		*seg, *end;
	unsigned long	 idx;

	if (v == NULL || path == NULL)
		return NULL;
	for (p = path; v != NULL && *p != '\0'; p = *e == '.' ? e + 1 : e) {
		if ((e = strchr(p, '.')) == NULL)
			e = p + strlen(p);
		seg = xstrndup(p, (size_t)(e - p));
		if (json_is_object(v))
			v = json_object_get(v, seg);
		else if (json_is_array(v) && isdigit((unsigned char)*seg)) {
			idx = strtoul(seg, &end, 10);
			v = *end == '\0' ? json_array_get(v, idx) : NULL;
		} else
			v = NULL;
		free(seg);
	}
	return v;
}

const char *
aws_json_str(json_t *v, const char *path)
{
	v = aws_json_path(v, path);
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- results -------------------------------------------------------------- */

static const char *const aws_outcome_names[] = {
	[AWS_OK] = "ok",
	[AWS_PERMITTED] = "permitted",
	[AWS_DENIED] = "denied",
	[AWS_REGION_OFF] = "region-off",
	[AWS_RETRYABLE] = "retryable",
	[AWS_ERROR] = "error",
	[AWS_REFUSED] = "refused",
	[AWS_UNSAFE] = "unsafe",
};

const char *
aws_outcome_name(enum aws_outcome o)
{
	if ((size_t)o < nitems(aws_outcome_names))
		return aws_outcome_names[o];
	return "unknown";
}

void
aws_result_init(struct aws_result *res)
{
	memset(res, 0, sizeof(*res));
	res->outcome = AWS_ERROR;
}

void
aws_result_clear(struct aws_result *res)
{
	if (res == NULL)
		return;
	free(res->error_code);
	free(res->error_message);
	free(res->request_id);
	json_decref(res->data);
	free(res->access_key_id);
	free(res->user_agent);
	aws_result_init(res);
}

/* ---- classification ------------------------------------------------------ */

static int
aws_expected(const char *expect, const char *code)
{
	const char	*p, *e;
	size_t		 n = strlen(code);

	if (expect == NULL)
		return 0;
	for (p = expect; *p != '\0'; p = *e != '\0' ? e + 1 : e) {
		e = p + strcspn(p, ",|");
		while (p < e && isspace((unsigned char)*p))
			p++;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if ((size_t)(e - p) == n && strncmp(p, code, n) == 0)
			return 1;
		e = p + strcspn(p, ",|");
	}
	return 0;
}

enum aws_outcome
aws_classify(const struct aws_request *req, long status,
    const char *error_code)
{
	const char	*code = error_code;

	if (status >= 200 && status < 300) {
		/* The endpoint ignored DryRun: whatever the body says. */
		if (aws_request_is_dry_run(req))
			return AWS_UNSAFE;
		return code == NULL ? AWS_OK : AWS_ERROR;
	}
	if (code == NULL) {
		if (status == 429 || status == 500 || status == 502 ||
		    status == 503 || status == 504)
			return AWS_RETRYABLE;
		return AWS_ERROR;
	}
	if (strcmp(code, "DryRunOperation") == 0)
		return AWS_PERMITTED;
	if (req != NULL && aws_expected(req->expect_error, code))
		return AWS_PERMITTED;
	if (aws_code_is_denied(code))
		return AWS_DENIED;
	if (strcmp(code, "OptInRequired") == 0)
		return AWS_REGION_OFF;
	if (strcmp(code, "AuthFailure") == 0 ||
	    strcmp(code, "UnrecognizedClientException") == 0 ||
	    strcmp(code, "InvalidClientTokenId") == 0) {
		if (req == NULL)
			return strcmp(code, "AuthFailure") == 0 ?
			    AWS_REGION_OFF : AWS_ERROR;
		return aws_region_is_opt_in(req->region) ? AWS_REGION_OFF :
		    AWS_ERROR;
	}
	if (aws_code_is_throttle(code) || aws_code_is_transient(code) ||
	    aws_code_is_clock_skew(code))
		return AWS_RETRYABLE;
	if (status == 429 || status == 500 || status == 502 ||
	    status == 503 || status == 504)
		return AWS_RETRYABLE;
	if (strcmp(code, AWS_CODE_MALFORMED) == 0 && status >= 500)
		return AWS_RETRYABLE;
	return AWS_ERROR;
}

enum aws_outcome
aws_classify_transport(enum http_error e)
{
	switch (e) {
	case HTTP_ERR_CONNECT:
	case HTTP_ERR_TIMEOUT:
	case HTTP_ERR_RESET:
	case HTTP_ERR_PROTOCOL:
		return AWS_RETRYABLE;
	case HTTP_OK:
	case HTTP_ERR_CANCELLED:
	case HTTP_ERR_OTHER:
		break;
	}
	return AWS_ERROR;
}

static const char *
aws_transport_code(enum http_error e)
{
	switch (e) {
	case HTTP_ERR_CONNECT:
		return AWS_CODE_HTTP_CONNECT;
	case HTTP_ERR_TIMEOUT:
		return AWS_CODE_HTTP_TIMEOUT;
	case HTTP_ERR_RESET:
		return AWS_CODE_HTTP_RESET;
	case HTTP_ERR_PROTOCOL:
		return AWS_CODE_HTTP_PROTOCOL;
	case HTTP_ERR_CANCELLED:
		return AWS_CODE_HTTP_CANCELLED;
	case HTTP_OK:
	case HTTP_ERR_OTHER:
		break;
	}
	return AWS_CODE_HTTP_OTHER;
}

char *
aws_cloudtrail_error_code_status(const struct aws_service *svc,
    const char *code, long status)
{
	if (code == NULL)
		return NULL;
	if (svc == NULL || svc->protocol != AWS_PROTO_EC2 ||
	    strncmp(code, "Client.", 7) == 0 ||
	    strncmp(code, "Server.", 7) == 0)
		return xstrdup(code);
	return xprintf("%s.%s", status >= 500 ? "Server" : "Client", code);
}

char *
aws_cloudtrail_error_code(const struct aws_service *svc, const char *code)
{
	return aws_cloudtrail_error_code_status(svc, code, 400);
}

/* ---- decoding --------------------------------------------------------- */

/* RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"; 0 on error. */
static double
awsdec_http_date(const char *s)
{
	static const char	 months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm		 tm;
	char			 mon[4];
	const char		*m;
	int			 day, year, hh, mm, ss, n = 0;
	time_t			 t;

	if (s == NULL)
		return 0;
	if ((s = strchr(s, ',')) == NULL)
		return 0;
	if (sscanf(s + 1, " %2d %3s %4d %2d:%2d:%2d GMT%n", &day, mon, &year,
	    &hh, &mm, &ss, &n) != 6 || n == 0)
		return 0;
	if (strlen(mon) != 3 || (m = strstr(months, mon)) == NULL ||
	    (m - months) % 3 != 0)
		return 0;
	if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 ||
	    year < 1970)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_mday = day;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_year = year - 1900;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	if ((t = timegm(&tm)) == (time_t)-1)
		return 0;
	return (double)t;
}

static int
awsdec_blank(const char *s, size_t len)
{
	size_t	 i;

	if (s == NULL)
		return 1;
	for (i = 0; i < len; i++) {
		if (!isspace((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

static void
awsdec_set(char **dst, const char *v)
{
	char	*n;

	n = awsdec_trim(v);
	if (n == NULL)
		return;
	free(*dst);
	*dst = n;
}

static void
awsdec_malformed(struct aws_result *res, const char *what, const char *cause)
{
	free(res->error_code);
	free(res->error_message);
	res->error_code = xstrdup(AWS_CODE_MALFORMED);
	if (cause != NULL)
		res->error_message = xprintf("%s: %s", what, cause);
	else
		res->error_message = xstrdup(what);
	json_decref(res->data);
	res->data = NULL;
}

/* A string member, first of several names. */
static const char *
awsdec_str(json_t *o, const char *const *names)
{
	json_t	*v;

	if (!json_is_object(o))
		return NULL;
	for (; *names != NULL; names++) {
		v = json_object_get(o, *names);
		if (json_is_string(v))
			return json_string_value(v);
	}
	return NULL;
}

static const char *const awsdec_reqid_names[] = {
	"requestId", "RequestId", "RequestID", NULL,
};

/*
 * Request ID from a parsed XML root (before unwrapping).  For EC2 and
 * query the body's ID wins over the headers', as in botocore: it is the
 * one the service documents (and CloudTrail records); they agree on AWS.
 */
static void
awsdec_xml_request_id(const struct aws_request *req, json_t *root,
    struct aws_result *res)
{
	const char	*id;
	int		 body_first;

	body_first = req != NULL && req->svc != NULL &&
	    (req->svc->protocol == AWS_PROTO_EC2 ||
	    req->svc->protocol == AWS_PROTO_QUERY);
	if (res->request_id != NULL && !body_first)
		return;
	if ((id = awsdec_str(root, awsdec_reqid_names)) == NULL)
		id = awsdec_str(json_object_get(root, "ResponseMetadata"),
		    awsdec_reqid_names);
	if (id == NULL)
		id = awsdec_str(json_object_get(root, "Error"),
		    awsdec_reqid_names);
	awsdec_set(&res->request_id, id);
}

static int
awsdec_empty_ok(const struct aws_request *req)
{
	enum aws_protocol	 p;

	if (req == NULL || req->svc == NULL)
		return 0;
	p = req->svc->protocol;
	if (p == AWS_PROTO_EC2 || p == AWS_PROTO_QUERY)
		return 0;
	return !aws_action_is_read_only(req->svc, req->action);
}

static int
awsdec_xml_protocol(const struct aws_request *req)
{
	if (req == NULL || req->svc == NULL)
		return 1;
	switch (req->svc->protocol) {
	case AWS_PROTO_EC2:
	case AWS_PROTO_QUERY:
	case AWS_PROTO_RESTXML:
		return 1;
	case AWS_PROTO_JSON:
	case AWS_PROTO_RESTJSON:
		break;
	}
	return 0;
}

static void
awsdec_success(const struct aws_request *req,
    const struct http_response *resp, struct aws_result *res)
{
	json_t	*root, *data;
	char	*cause = NULL, *rootname = NULL;

	if (awsdec_blank(resp->body, resp->body_len)) {
		if (awsdec_empty_ok(req)) {
			res->data = json_object();
			return;
		}
		awsdec_malformed(res, "empty response body", NULL);
		return;
	}
	if (awsdec_xml_protocol(req)) {
		if ((root = aws_xml_parse(resp->body, resp->body_len,
		    &rootname, &cause)) == NULL) {
			awsdec_malformed(res, "cannot decode the response",
			    cause);
			free(cause);
			return;
		}
		awsdec_xml_request_id(req, root, res);
		data = aws_xml_unwrap(root, rootname);
		free(rootname);
	} else {
		data = aws_json_parse(resp->body, resp->body_len, &cause);
		if (data != NULL && !json_is_object(data)) {
			json_decref(data);
			data = NULL;
			cause = xstrdup("the JSON body is not an object");
		}
	}
	if (data == NULL) {
		awsdec_malformed(res, "cannot decode the response", cause);
		free(cause);
		return;
	}
	res->data = data;
}

static const char *const awsdec_code_names[] = { "Code", "code", NULL };
static const char *const awsdec_msg_names[] = {
	"Message", "message", "errorMessage", NULL,
};

static void
awsdec_error_xml(const struct aws_request *req,
    const struct http_response *resp, struct aws_result *res)
{
	json_t	*root, *err, *e;
	char	*cause = NULL, *rootname = NULL;

	if ((root = aws_xml_parse(resp->body, resp->body_len, &rootname,
	    &cause)) == NULL) {
		if (res->error_code == NULL)
			awsdec_malformed(res, "cannot decode the error "
			    "response", cause);
		free(cause);
		return;
	}
	awsdec_xml_request_id(req, root, res);
	err = NULL;
	if (rootname != NULL && strcmp(rootname, "Error") == 0)
		err = root;					/* S3 */
	else if ((e = aws_json_path(root, "Errors.Error")) != NULL)
		err = json_is_array(e) ? json_array_get(e, 0) : e;	/* EC2 */
	else if ((e = json_object_get(root, "Error")) != NULL)
		err = json_is_array(e) ? json_array_get(e, 0) : e; /* query */
	if (err != NULL) {
		awsdec_set(&res->error_code, awsdec_str(err,
		    awsdec_code_names));
		awsdec_set(&res->error_message, awsdec_str(err,
		    awsdec_msg_names));
		if (res->request_id == NULL)
			awsdec_set(&res->request_id, awsdec_str(err,
			    awsdec_reqid_names));
	}
	json_decref(root);
	free(rootname);
}

static void
awsdec_error_json(const struct http_response *resp, struct aws_result *res)
{
	json_t		*j;
	const char	*raw;
	char		*cause = NULL;

	if ((j = aws_json_parse(resp->body, resp->body_len, &cause)) == NULL) {
		if (res->error_code == NULL)
			awsdec_malformed(res, "cannot decode the error "
			    "response", cause);
		free(cause);
		return;
	}
	if (res->error_code == NULL && json_is_object(j)) {
		raw = json_string_value(json_object_get(j, "__type"));
		if (raw == NULL)
			raw = json_string_value(json_object_get(j, "code"));
		if (raw == NULL)
			raw = json_string_value(json_object_get(j, "Code"));
		res->error_code = aws_json_error_code(raw);
	}
	if (json_is_object(j))
		awsdec_set(&res->error_message, awsdec_str(j,
		    awsdec_msg_names));
	json_decref(j);
}

static void
awsdec_error(const struct aws_request *req, const struct http_response *resp,
    struct aws_result *res)
{
	const char	*p, *hdr;
	size_t		 i;
	int		 xml, rest = 0;

	if (req != NULL && req->svc != NULL)
		rest = req->svc->protocol == AWS_PROTO_RESTJSON ||
		    req->svc->protocol == AWS_PROTO_RESTXML;
	xml = awsdec_xml_protocol(req);
	hdr = awsdec_header(resp, "X-Amzn-Errortype");
	if (hdr != NULL && !xml)
		res->error_code = aws_json_error_code(hdr);

	p = resp->body;
	for (i = 0; p != NULL && i < resp->body_len &&
	    isspace((unsigned char)p[i]); i++)
		;
	if (p != NULL && i < resp->body_len && p[i] == '<')
		awsdec_error_xml(req, resp, res);
	else if (p != NULL && i < resp->body_len && p[i] == '{')
		awsdec_error_json(resp, res);
	else if (p != NULL && i < resp->body_len && res->error_code == NULL) {
		awsdec_malformed(res, "unreadable error response", NULL);
		return;
	}
	if (res->error_code == NULL && hdr != NULL)
		res->error_code = aws_json_error_code(hdr);
	if (res->error_code == NULL && rest && i >= resp->body_len) {
		/* botocore's habit for body-less REST errors (S3 HEAD). */
		res->error_code = xprintf("%ld", resp->status);
		if (res->error_message == NULL)
			res->error_message = xprintf("HTTP %ld", resp->status);
	}
	if (res->error_code == NULL) {
		if (i >= resp->body_len)
			awsdec_malformed(res, "empty error response", NULL);
		else
			awsdec_malformed(res, "error response without a "
			    "code", NULL);
	}
}

/*
 * Peer text kept in a result goes on into verdict reasons, journal fields
 * and report lines: bounded (cloudsaga_limits.h) and valid UTF-8.
 */
static void
awsdec_cap(char **s, size_t max)
{
	char	*c;

	if (*s == NULL)
		return;
	c = str_cap_utf8(*s, max);
	free(*s);
	*s = c;
}

static void
awsdec_cap_all(struct aws_result *res)
{
	awsdec_cap(&res->error_code, AWS_ID_MAX);
	awsdec_cap(&res->error_message, AWS_ERROR_MESSAGE_MAX);
	awsdec_cap(&res->request_id, AWS_ID_MAX);
}

void
aws_decode(const struct aws_request *req, const struct http_response *resp,
    struct aws_result *res)
{
	char	*msg;

	free(res->error_code);
	free(res->error_message);
	free(res->request_id);
	json_decref(res->data);
	res->error_code = res->error_message = res->request_id = NULL;
	res->data = NULL;
	res->status = resp->status;
	res->http_error = resp->error;
	res->server_time = awsdec_http_date(awsdec_header(resp, "Date"));

	if (resp->error != HTTP_OK) {
		res->status = 0;
		res->error_code = xstrdup(aws_transport_code(resp->error));
		res->error_message = xstrdup(resp->errmsg != NULL ?
		    resp->errmsg : "no response");
		awsdec_cap_all(res);
		res->outcome = aws_classify_transport(resp->error);
		return;
	}
	awsdec_set(&res->request_id, awsdec_header(resp, "x-amzn-RequestId"));
	if (res->request_id == NULL)
		awsdec_set(&res->request_id,
		    awsdec_header(resp, "x-amz-request-id"));

	if (resp->status >= 200 && resp->status < 300)
		awsdec_success(req, resp, res);
	else
		awsdec_error(req, resp, res);
	if (res->error_code != NULL &&
	    strcmp(res->error_code, AWS_CODE_MALFORMED) == 0) {
		msg = res->error_message;
		res->error_message = xprintf("%s (HTTP %ld, %zu bytes)",
		    msg != NULL ? msg : "malformed response", resp->status,
		    resp->body_len);
		free(msg);
	}
	awsdec_cap_all(res);
	res->outcome = aws_classify(req, res->status, res->error_code);
}
