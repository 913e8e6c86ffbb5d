/*
 * aws: the AWS protocol layer - the table of services in scope, the request
 * object every module builds, encoding into HTTP for the five protocols,
 * decoding responses (XML with expat, JSON with jansson) into one jansson
 * tree, and the one place where error codes are classified.
 *
 * Protocols:
 *   ec2       EC2 Query: form body Action=..&Version=2016-11-15, lists
 *             flattened 1-based (Filter.1.Name, Filter.1.Value.1)
 *   query     IAM, STS, RDS, CloudWatch: same form body, lists Name.member.N
 *   json      JSON 1.1: POST /, X-Amz-Target: <prefix>.<Action>
 *             (CloudTrail, EventBridge, SSM, CloudWatch Logs)
 *   rest-json GuardDuty: method + path per operation, JSON body
 *   rest-xml  the few S3 bucket calls (ListBuckets, Put/Get/Delete
 *             PublicAccessBlock, GetBucketLocation)
 *
 * Decoded XML becomes JSON: the response root and the <Action>Result and
 * ResponseMetadata wrappers are dropped, an element whose children are all
 * <item> or <member> becomes an array, repeated sibling names become an
 * array, leaf text stays a string (no type guessing), an empty element
 * becomes "".  Use aws_json_list() to iterate "a list or a single element
 * or nothing" uniformly.
 */
#ifndef CLOUDSAGA_AWS_H
#define CLOUDSAGA_AWS_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "http.h"

enum aws_protocol {
	AWS_PROTO_EC2,
	AWS_PROTO_QUERY,
	AWS_PROTO_JSON,
	AWS_PROTO_RESTJSON,
	AWS_PROTO_RESTXML,
};

struct aws_service {
	const char		*id;		/* "ec2", "iam", "events", "logs" */
	const char		*endpoint_prefix; /* hostname label: "monitoring" */
	const char		*signing_name;
	const char		*env_name;	/* AWS_ENDPOINT_URL_<env_name> */
	const char		*event_source;	/* "ec2.amazonaws.com" */
	enum aws_protocol	 protocol;
	const char		*api_version;	/* "2016-11-15" */
	const char		*target_prefix;	/* JSON: "AWSEvents" */
	const char		*json_version;	/* JSON: "1.1" */
	int			 global;	/* one endpoint per partition (IAM) */
};

/* By id ("ec2") or common alias ("eventbridge", "cloudwatch-logs"). */
const struct aws_service *aws_service_find(const char *);
/* All services, terminated by an entry with id == NULL. */
const struct aws_service *aws_services(void);

/*
 * Safety classes (ARCHITECTURE.md): enforced by the client before a request
 * is sent, whatever the caller claims.
 */
enum aws_safety {
	AWS_SAFE_AUTO = 0,	/* infer: read-only by name, dry-run if DryRun */
	AWS_SAFE_READ_ONLY,	/* Describe/List/Get/Lookup/... */
	AWS_SAFE_DRY_RUN,	/* EC2 mutating call with DryRun=true */
	AWS_SAFE_FAIL,		/* aimed at a name containing the run ID */
	AWS_SAFE_LIVE,		/* really changes things: opt-in only */
};
const char	*aws_safety_name(enum aws_safety);
int		 aws_safety_from_name(const char *, enum aws_safety *ret);

struct aws_param {
	char	*key;
	char	*value;
};

struct aws_request {
	const struct aws_service *svc;
	char			*action;
	char			*region;
	/* EC2 and Query protocols: ordered, already flattened parameters. */
	struct aws_param	*params;
	size_t			 nparams;
	/* JSON, REST-JSON and REST-XML: the input document (owned). */
	json_t			*input;

	enum aws_safety		 safety;
	/* The run marker: sent as "User-Agent: cloudsagad/V run/<run_id>". */
	char			*run_id;
	/* safe-fail: the error code that proves the attempt (e.g.
	 * TrailNotFoundException); answered with it = AWS_PERMITTED. */
	char			*expect_error;
};

struct aws_request	*aws_request_new(const struct aws_service *,
			    const char *action, const char *region);
void			 aws_request_free(struct aws_request *);
struct aws_request	*aws_request_dup(const struct aws_request *);
/* Append a query parameter (EC2/Query); printf-style value. */
void			 aws_request_add(struct aws_request *, const char *key,
			    const char *fmt, ...)
			    __attribute__((format(printf, 3, 4)));
const char		*aws_request_get(const struct aws_request *,
			    const char *key);
/* Set a member of the JSON input (created on first use); steals value. */
void			 aws_request_set(struct aws_request *, const char *key,
			    json_t *value);
void			 aws_request_set_str(struct aws_request *,
			    const char *key, const char *value);
/* Is this action read-only by its name (Describe/List/Get/Lookup/...)? */
int			 aws_action_is_read_only(const struct aws_service *,
			    const char *action);
/* True for an EC2 request carrying DryRun=true. */
int			 aws_request_is_dry_run(const struct aws_request *);

/*
 * The HTTP form of a request, ready to sign: method, path and query as on
 * the wire (path relative to the endpoint's base path), extra headers
 * (Content-Type, X-Amz-Target), body.
 */
struct aws_http {
	char			*method;
	char			*path;		/* starts with '/' */
	char			*query;		/* without '?', may be "" */
	struct http_header	*headers;
	size_t			 nheaders;
	char			*body;
	size_t			 body_len;
	char			*bucket;	/* S3: bucket addressed, or NULL */
};

int	 aws_encode(const struct aws_request *, struct aws_http *ret,
	    char **cause);
void	 aws_http_free(struct aws_http *);

/* Outcome classes: one classification, used everywhere. */
enum aws_outcome {
	AWS_OK,		/* 2xx */
	AWS_PERMITTED,	/* DryRunOperation, or the expected safe-fail error */
	AWS_DENIED,	/* UnauthorizedOperation, AccessDenied*: still an event */
	AWS_REGION_OFF,	/* AuthFailure, OptInRequired: region not enabled */
	AWS_RETRYABLE,	/* throttling, 5xx, transport failure (after retries) */
	AWS_ERROR,	/* anything else: a tool error */
	AWS_REFUSED,	/* the safety guard refused to send it */
	AWS_UNSAFE,	/* a DryRun call answered 2xx: safety event */
};
const char	*aws_outcome_name(enum aws_outcome);

struct aws_result {
	enum aws_outcome	 outcome;
	long			 status;	/* HTTP status, 0 = none */
	enum http_error		 http_error;
	char			*error_code;	/* "DryRunOperation", NULL if ok */
	char			*error_message;
	char			*request_id;
	json_t			*data;		/* decoded body (NULL on error) */
	int			 attempts;
	double			 fired_at;	/* wall clock of the first send */
	double			 done_at;
	char			*access_key_id;	/* key that signed it (not secret) */
	char			*user_agent;	/* as sent */
	double			 server_time;	/* from the Date header, or 0 */
};

void	 aws_result_init(struct aws_result *);
void	 aws_result_clear(struct aws_result *);

/*
 * Decode an HTTP response for req into res: request ID (x-amzn-RequestId,
 * x-amz-request-id, <requestId>, <RequestId>, <RequestID>), error code and
 * message from either XML error shape or JSON (X-Amzn-Errortype header,
 * __type, code; the part after '#' and before ':'), the decoded data, and
 * the outcome class.  Malformed bodies give AWS_RETRYABLE for 5xx and
 * AWS_ERROR otherwise, with error_code "MalformedResponse".
 */
void	 aws_decode(const struct aws_request *, const struct http_response *,
	    struct aws_result *res);

enum aws_outcome aws_classify(const struct aws_request *, long status,
	    const char *error_code);
int	 aws_code_is_throttle(const char *);
int	 aws_code_is_transient(const char *);
/* EC2 codes carry "Client."/"Server." in CloudTrail's errorCode. */
char	*aws_cloudtrail_error_code(const struct aws_service *,
	    const char *error_code);

/* XML body to the JSON tree described above; NULL + *cause on error. */
json_t	*aws_xml_to_json(const char *xml, size_t len, char **cause);

/*
 * Lists in decoded data: for an array return it (borrowed), for an object
 * or non-empty string return a one-element array, for NULL/""/missing an
 * empty array.  Returned reference is new: json_decref it.
 */
json_t	*aws_json_list(json_t *);
/* Path lookup: "reservationSet", "Credentials.AccessKeyId"; NULL if absent. */
json_t	*aws_json_path(json_t *, const char *path);
/* String at path, or NULL. */
const char *aws_json_str(json_t *, const char *path);

#endif
