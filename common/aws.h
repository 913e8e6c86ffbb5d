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
 *   rest-json GuardDuty, Lambda, the Bedrock runtime: method + path per
 *             operation, JSON body
 *   rest-xml  the few S3 bucket calls (ListBuckets, Put/Get/Delete
 *             PublicAccessBlock, GetBucketLocation, PutBucketPolicy,
 *             PutBucketLifecycleConfiguration)
 *
 * Decoded XML becomes JSON: the response root and the <Action>Result and
 * ResponseMetadata wrappers are dropped, an element whose children are all
 * <item> or <member> becomes an array, repeated sibling names become an
 * array, leaf text stays a string (no type guessing), an empty element
 * becomes "".  Use aws_json_list() to iterate "a list or a single element
 * or nothing" uniformly.
 *
 * Details of the XML -> JSON mapping (aws_xml_to_json):
 *   - namespaces are ignored ("ec2:item" is "item"), attributes dropped;
 *   - the root is dropped when it has child elements; a root that is only
 *     text becomes {"<root>": "text"} (S3 GetBucketLocation:
 *     {"LocationConstraint": "eu-west-1"});
 *   - "<X>Response" containing "<X>Result" hoists the Result's members to
 *     the top; ResponseMetadata is removed (its RequestId goes to
 *     aws_result.request_id);
 *   - leaf text is kept byte for byte, except that whitespace-only text
 *     containing a newline (a pretty-printed empty container) becomes "";
 *   - text beside child elements (mixed content) is ignored.
 * Safety: bodies over AWS_XML_MAX_SIZE, nesting over AWS_XML_MAX_DEPTH,
 * more than AWS_XML_MAX_NODES elements, more than AWS_XML_MAX_PARSER_MEM
 * bytes of expat's own memory, and any DOCTYPE or ENTITY declaration are
 * rejected (no entity expansion, billion-laughs safe).  JSON bodies go
 * through aws_json_parse() with the same kind of limits (size, depth,
 * AWS_JSON_MAX_VALUES values).  The limits are in cloudsaga_limits.h.
 */
#ifndef CLOUDSAGA_AWS_H
#define CLOUDSAGA_AWS_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "cloudsaga_limits.h"
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
	const char		*alias;		/* "cloudwatch", "eventbridge" */
};

/*
 * By id ("ec2") or common alias ("eventbridge", "cloudwatch-logs"),
 * case-insensitively; also by endpoint prefix and by the env/config name
 * ("CLOUDWATCH_LOGS", "cloudwatch_logs"; '-' and '_' are equivalent).
 */
const struct aws_service *aws_service_find(const char *);
/* All services, terminated by an entry with id == NULL. */
const struct aws_service *aws_services(void);
const char	*aws_protocol_name(enum aws_protocol);	/* "ec2", "rest-json" */

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

/*
 * The safe-fail table (common/safety.c): an action may be safe-fail only
 * if listed, and only with the run ID in one of its reference parameters
 * - a resource that must already exist for the call to do anything.
 */
#define AWS_SAFE_FAIL_REFS	3
struct aws_request;
struct aws_safe_fail {
	const char	*service;	/* service id: "iam" */
	const char	*action;	/* "CreateUser" */
	const char	*refs[AWS_SAFE_FAIL_REFS];	/* "PermissionsBoundary" */
	const char	*example;	/* a value for refs[0] */
	const char	*not_found;	/* the error AWS answers */
};
/* The whole table, terminated by a row with service == NULL. */
const struct aws_safe_fail *aws_safe_fail_table(void);
const struct aws_safe_fail *aws_safe_fail_find(const struct aws_service *,
		    const char *action);
/*
 * The safety guard (common/safety.c): may req be sent?  0, or -1 +
 * *cause ("refused: ...").  The client applies it to every call; custom
 * scenarios are checked with it when the configuration is loaded.
 */
int		 aws_safety_check(const struct aws_request *, int allow_live,
		    char **cause);

struct aws_param {
	char	*key;
	char	*value;
};

/*
 * What a call is to its technique (#11).  A *signal* call is the one a
 * detection should fire on (StopLogging, CreateVpc, GetPasswordData); a
 * *context* call is discovery the technique needs to find its targets
 * (DescribeRegions, DescribeVpcs).  Both are verified in CloudTrail; alert
 * coverage is judged, and an alert gap reported, for signal calls only.
 * AWS_ROLE_DEFAULT resolves (aws_role_resolve) to context for read-only
 * actions and signal for the rest.
 */
enum aws_role {
	AWS_ROLE_DEFAULT = 0,
	AWS_ROLE_SIGNAL,
	AWS_ROLE_CONTEXT,
};
/*
 * How we know CloudTrail records the call: documented by AWS, observed in
 * a real trail, or only assumed.  A call whose record is only assumed and
 * not found is not a logging gap (it ends with its own reason, at notice).
 */
enum aws_evidence {
	AWS_EVIDENCE_DOCUMENTED = 0,
	AWS_EVIDENCE_OBSERVED,
	AWS_EVIDENCE_ASSUMED,
};
const char	*aws_role_name(enum aws_role);		/* "signal", "context" */
const char	*aws_evidence_name(enum aws_evidence);	/* "documented", ... */
/* -1 when the name is not one of the names above. */
int		 aws_role_parse(const char *);
int		 aws_evidence_parse(const char *);

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
	/*
	 * The call marker: sent as "User-Agent: cloudsagad/V
	 * run/<run_id>/<call_seq>/<attempt>" (aws_user_agent), so every
	 * attempt of every call carries its own; call_seq -1 = per run only
	 * ("run/<run_id>").
	 */
	char			*run_id;
	long			 call_seq;
	/* safe-fail: the error code that proves the attempt (e.g.
	 * TrailNotFoundException); answered with it = AWS_PERMITTED. */
	char			*expect_error;
	/* Verification metadata, copied into the expectation. */
	enum aws_role		 role;
	enum aws_evidence	 evidence;
};

/* The role of req, AWS_ROLE_DEFAULT resolved from the action's
 * read-only flag: never returns AWS_ROLE_DEFAULT. */
enum aws_role		 aws_role_resolve(const struct aws_request *);

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
/*
 * Does the service have this operation?  1 yes, 0 no, -1 the service has
 * no operation list (common/aws_actions.c, generated by scripts/gen-actions
 * from botocore's models).
 */
int			 aws_action_known(const struct aws_service *,
			    const char *action);
/* Is this action read-only by its name (Describe/List/Get/Lookup/...)? */
int			 aws_action_is_read_only(const struct aws_service *,
			    const char *action);
/* True for an EC2 request carrying DryRun=true. */
int			 aws_request_is_dry_run(const struct aws_request *);

/*
 * Read-only by name means strictly the action name starts with Describe,
 * List, Get, Lookup, Search, Test, Head or Check followed by an upper-case
 * letter (or nothing).  No exceptions: GenerateCredentialReport is not
 * read-only by this rule even though it changes nothing that matters, and
 * GetSessionToken is read-only by it though it mints credentials.
 * DryRun=true matches "true" case-insensitively (a param, or a JSON true /
 * "true" input member DryRun).
 */

/* Set key (replace the first existing value, or append); printf-style. */
void			 aws_request_put(struct aws_request *, const char *key,
			    const char *fmt, ...)
			    __attribute__((format(printf, 3, 4)));
/* Remove every parameter named key; returns how many were removed. */
int			 aws_request_remove(struct aws_request *, const char *key);
/*
 * Flatten a JSON value into parameters with the request's protocol rules
 * (the Smithy ec2Query / awsQuery serialisation): objects as Name.Member
 * (EC2 upper-cases each member's first letter), lists 1-based as Name.N
 * (EC2) or Name.member.N (Query), empty lists dropped (EC2) or "Name="
 * (Query), booleans true/false, integers in decimal, reals in the shortest
 * form that reads back exactly, null skipped.  name NULL flattens the
 * members of an object at the top level.  Strings are taken as they are:
 * timestamps are ISO 8601 strings ("2015-01-25T08:00:00Z"), blobs base64.
 * Query maps (Name.entry.N.key) are not produced: an object is a structure.
 * aws_encode() does the same with req->input for EC2/Query requests.
 */
void			 aws_request_add_flat(struct aws_request *,
			    const char *name, const json_t *value);
/*
 * The User-Agent value of one attempt (1, 2, ...):
 * "<base> run/<run_id>/<call_seq>/<attempt>", "<base> run/<run_id>" when
 * the request has no call_seq (attempt 0 also leaves the attempt out), or
 * base alone without a run ID; base NULL = "cloudsagad/<version>".
 * Allocated.
 */
char			*aws_user_agent(const char *base,
			    const struct aws_request *, int attempt);

/*
 * A call marker read back from a user agent (a CloudTrail record's
 * userAgent): the first token "run/<32 hex>[/<seq>[/<attempt>]]" that
 * starts the string or follows a character that is not a letter, digit or
 * '_', and ends at the end or at a character that is not a letter or
 * digit (S3 records wrap the agent in brackets).  seq and attempt are -1
 * when absent.  0, or -1 when there is no marker.
 */
struct aws_marker {
	char	 run_id[33];	/* lower case */
	long	 seq;
	long	 attempt;
};
int			 aws_marker_parse(const char *user_agent,
			    struct aws_marker *);
/* Same call and attempt: every part equal (absent equals absent). */
int			 aws_marker_equal(const struct aws_marker *,
			    const struct aws_marker *);

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

/*
 * Encoding, per protocol:
 *   ec2/query  POST /, Content-Type application/x-www-form-urlencoded;
 *              charset=utf-8, body Action=..&Version=..&<params>&<input
 *              flattened>, RFC 3986 %XX encoding (space = %20).
 *   json       POST /, X-Amz-Target <prefix>.<Action>, Content-Type
 *              application/x-amz-json-1.1, body = input or "{}".  Params
 *              (if any) become top-level string members the input does not
 *              already have; typed values go through aws_request_set().
 *   rest-json  GuardDuty ListDetectors, ListFindings, GetFindings,
 *              GetDetector, DeleteDetector, UpdateDetector; Lambda
 *              ListFunctions, AddPermission, UpdateFunctionCode,
 *              UpdateFunctionConfiguration (PascalCase body members, PUT
 *              bodies too); Bedrock InvokeModel (the member "body" is the
 *              whole payload, a string as is or JSON, Content-Type
 *              application/json unless contentType says otherwise):
 *              method and path
 *              per operation, path members (DetectorId) URI-encoded and
 *              taken out of the body, query members for ListDetectors,
 *              body keys in the model's camelCase wire names (input keys
 *              may be PascalCase model names or camelCase; map keys under
 *              findingCriteria.criterion are kept), Content-Type
 *              application/json.  Unknown members are an error.
 *   rest-xml   S3 ListBuckets (GET /; MaxBuckets, ContinuationToken,
 *              Prefix, BucketRegion as query), GetBucketLocation (?location),
 *              Get/Put/DeletePublicAccessBlock (?publicAccessBlock); Bucket
 *              from the input goes to aws_http.bucket (path is then
 *              relative to the bucket: "/"), ExpectedBucketOwner to
 *              x-amz-expected-bucket-owner; PutPublicAccessBlock sends the
 *              XML PublicAccessBlockConfiguration (from the input member of
 *              that name, or its four members at the top level, booleans or
 *              "true"/"false") with Content-MD5; PutBucketPolicy (Policy)
 *              and PutBucketLifecycleConfiguration (LifecycleConfiguration,
 *              the XML document as text) send that member as the body,
 *              with Content-MD5.
 * Unknown REST operations, malformed input, and reserved or invalid names
 * are -1 with *cause.  Params on REST requests are string input members.
 */
int	 aws_encode(const struct aws_request *, struct aws_http *ret,
	    char **cause);
void	 aws_http_free(struct aws_http *);

/*
 * Outcome classes: one classification, used everywhere (aws_classify):
 *   - a 2xx answer to a DryRun request is AWS_UNSAFE, whatever the body;
 *   - 2xx with a decoded body is AWS_OK (a 2xx that cannot be decoded
 *     carries MalformedResponse and is AWS_ERROR);
 *   - DryRunOperation, and req->expect_error (a list separated by ',' or
 *     '|', exact match), are AWS_PERMITTED;
 *   - UnauthorizedOperation, UnauthorizedAccess, AuthorizationError,
 *     AccessDenied* are AWS_DENIED;
 *   - OptInRequired is AWS_REGION_OFF.  AuthFailure (EC2),
 *     UnrecognizedClientException (JSON) and InvalidClientTokenId (Query)
 *     are what a region that is not enabled answers, but also what bad
 *     keys get: they are AWS_REGION_OFF only in an opt-in region
 *     (aws_region_is_opt_in()), and AWS_ERROR in the 17 regions that are
 *     always enabled, in aws-cn and aws-us-gov, where they can only mean
 *     bad credentials - a silent "region off" there would hide a broken
 *     setup.  (AuthFailure without a request: AWS_REGION_OFF.)
 *   - throttling codes, transient codes (RequestTimeout*,
 *     PriorRequestNotComplete, IDPCommunicationError), clock-skew codes,
 *     HTTP 429/500/502/503/504, MalformedResponse with a 5xx, and transport
 *     failures (connect, timeout, reset, TLS/protocol) are AWS_RETRYABLE;
 *   - everything else, a cancelled transfer included, is AWS_ERROR.
 */
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
	double			 sent_at;	/* wall clock of the last send: the
						   attempt the answer is of */
	double			 sent_mono;	/* the same, monotonic clock */
	double			 done_at;
	char			*access_key_id;	/* key that signed it (not secret) */
	char			*user_agent;	/* as sent by the last attempt */
	double			 server_time;	/* from the Date header, or 0 */
};

/* init: all zero/NULL with outcome AWS_ERROR. clear: free and re-init. */
void	 aws_result_init(struct aws_result *);
void	 aws_result_clear(struct aws_result *);
/*
 * The one description of a failed call, for notes, causes and logs
 * (allocated): "CODE: message" (or "CODE") when the service answered an
 * error code; else "HTTP STATUS" (": message" when there is one) when it
 * answered without one; else "OUTCOME (TRANSPORT)" (and the message), e.g.
 * "retryable (timeout)", when no answer came.  The caller adds what was
 * called.
 */
char	*aws_result_describe(const struct aws_result *);

/*
 * Decode an HTTP response for req into res: request ID (x-amzn-RequestId,
 * x-amz-request-id, <requestId>, <RequestId>, <RequestID>), error code and
 * message from either XML error shape or JSON (X-Amzn-Errortype header,
 * __type, code; the part after '#' and before ':'), the decoded data, and
 * the outcome class.  Malformed bodies give AWS_RETRYABLE for 5xx and
 * AWS_ERROR otherwise, with error_code "MalformedResponse".
 *
 * aws_decode sets outcome, status, http_error, error_code, error_message,
 * request_id, data and server_time (replacing earlier values, so a result
 * can be reused across attempts) and leaves the other fields alone.
 *   - Request ID: for ec2/query the body's (<requestId>, <RequestID>,
 *     ResponseMetadata.RequestId) wins over the headers, as in botocore;
 *     for the others the headers win (x-amzn-RequestId, x-amz-request-id)
 *     and the body (S3 <Error><RequestId>) is the fallback.
 *   - Transport failures: error_code is one of the AWS_CODE_HTTP_* names
 *     below, error_message the engine's errmsg.
 *   - 2xx: the body is decoded (XML for ec2/query/rest-xml, JSON
 *     otherwise) into data.  An empty body is fine only for REST and JSON
 *     operations that are not read-only by name (S3 DELETE 204, JSON
 *     operations without output, per the Smithy awsJson1_1 test
 *     json_1_1_service_responds_with_no_payload): data is then {}.  An
 *     empty or undecodable body anywhere else is MalformedResponse - a
 *     read call must never look like "nothing there".
 *   - Errors: the body is sniffed ('<' XML, '{' JSON) whatever the
 *     protocol; X-Amzn-Errortype wins for JSON protocols; REST errors
 *     without a body get the status as code ("404", like botocore).  Error
 *     messages never quote body bytes (they may hold secrets).
 *   - Text from the peer is bounded and valid UTF-8: error_message at most
 *     AWS_ERROR_MESSAGE_MAX bytes, error_code and request_id at most
 *     AWS_ID_MAX, cut on a character boundary and marked (str_cap_utf8()).
 */
void	 aws_decode(const struct aws_request *, const struct http_response *,
	    struct aws_result *res);

#define AWS_CODE_MALFORMED	"MalformedResponse"
#define AWS_CODE_HTTP_CONNECT	"HttpConnectError"
#define AWS_CODE_HTTP_TIMEOUT	"HttpTimeout"
#define AWS_CODE_HTTP_RESET	"HttpConnectionReset"
#define AWS_CODE_HTTP_PROTOCOL	"HttpProtocolError"
#define AWS_CODE_HTTP_CANCELLED	"HttpCancelled"
#define AWS_CODE_HTTP_OTHER	"HttpError"

enum aws_outcome aws_classify(const struct aws_request *, long status,
	    const char *error_code);

/*
 * Error codes (common/awscodes.c: the one table).  Flags of a code, 0 for
 * a code the table does not know (a service's own error, e.g.
 * TrailNotFoundException):
 *   THROTTLE   the service shed load: retry later
 *   TRANSIENT  a timeout or transport failure: retry
 *   DENIED     the caller lacks a permission (the service handled it)
 *   CLOCK_SKEW the signature's time is off
 *   AUTH       refused before the service handled it: bad, expired or
 *              missing credentials or signature (CloudTrail records none)
 *   UNPARSED   the request never reached the service: an unknown action
 *              or operation, a body that is not the protocol's
 *   OPT_IN     the region is not enabled for the account
 */
#define AWS_CODE_THROTTLE	0x01
#define AWS_CODE_TRANSIENT	0x02
#define AWS_CODE_DENIED		0x04
#define AWS_CODE_CLOCK_SKEW	0x08
#define AWS_CODE_AUTH		0x10
#define AWS_CODE_UNPARSED	0x20
#define AWS_CODE_OPT_IN		0x40
unsigned aws_code_flags(const char *code);
/* AUTH, UNPARSED or OPT_IN: the service never handled the request. */
int	 aws_code_unhandled(const char *code);

/*
 * Can CloudTrail hold a record of this answered call?  The classifier
 * behind every expectation (scenarios/run.c expectation_for):
 *   HANDLED    the service handled it (2xx, its own errors, denials,
 *              DryRunOperation): CloudTrail records it
 *   NOT_SENT   no HTTP answer, or the guard refused it
 *   UNHANDLED  refused before the service handled it (aws_code_unhandled)
 *              or the region is not enabled: never recorded
 *   UNCERTAIN  throttled or a 5xx: it may or may not have been processed
 * Only HANDLED calls become expectations.
 */
enum aws_record {
	AWS_RECORD_HANDLED,
	AWS_RECORD_NOT_SENT,
	AWS_RECORD_UNHANDLED,
	AWS_RECORD_UNCERTAIN,
};
enum aws_record aws_record_of(const struct aws_request *,
	    const struct aws_result *);
const char *aws_record_name(enum aws_record);

int	 aws_code_is_throttle(const char *);
int	 aws_code_is_transient(const char *);
/* EC2 codes carry "Client."/"Server." in CloudTrail's errorCode. */
char	*aws_cloudtrail_error_code(const struct aws_service *,
	    const char *error_code);

/* Outcome of a transfer that got no HTTP response. */
enum aws_outcome aws_classify_transport(enum http_error);
/* UnauthorizedOperation, AccessDenied*, ... (the AWS_DENIED codes). */
int	 aws_code_is_denied(const char *);
/* RequestTimeTooSkewed, RequestExpired, RequestInTheFuture, ... */
int	 aws_code_is_clock_skew(const char *);
/* Regions of the aws partition that an account must opt in to (all but
 * the 17 enabled by default); 0 for aws-cn, aws-us-gov, NULL. */
int	 aws_region_is_opt_in(const char *region);
/* As aws_cloudtrail_error_code(), "Server." for EC2 when status >= 500. */
char	*aws_cloudtrail_error_code_status(const struct aws_service *,
	    const char *error_code, long status);
/* JSON error code cleanup: the part after the last '#' and before the
 * first ':', trimmed ("aws.x#FooError:http://..." -> "FooError"); NULL
 * when nothing is left.  Allocated. */
char	*aws_json_error_code(const char *raw);

/* XML body to the JSON tree described above; NULL + *cause on error. */
json_t	*aws_xml_to_json(const char *xml, size_t len, char **cause);
/*
 * The same without dropping the root or any wrapper: returns the root's
 * value (object, array or string) and its name in *ret_root (allocated,
 * may be NULL).
 */
json_t	*aws_xml_parse(const char *xml, size_t len, char **ret_root,
	    char **cause);
/* The dropping step of aws_xml_to_json(): steals root, returns the tree. */
json_t	*aws_xml_unwrap(json_t *root, const char *root_name);
/*
 * A JSON document with the size and depth limits above (valid UTF-8, no
 * trailing garbage); NULL + *cause on error.  The cause never quotes the
 * input.  Also for CloudTrailEvent strings.
 */
json_t	*aws_json_parse(const char *text, size_t len, char **cause);

/*
 * Lists in decoded data: for an array return it (borrowed), for an object
 * or non-empty string return a one-element array, for NULL/""/missing an
 * empty array.  Returned reference is new: json_decref it.
 */
json_t	*aws_json_list(json_t *);
/*
 * Path lookup: "reservationSet", "Credentials.AccessKeyId"; NULL if absent.
 * A numeric segment indexes an array ("Reservations.0.Instances").
 * Borrowed reference.
 */
json_t	*aws_json_path(json_t *, const char *path);
/* String at path, or NULL (also when the value is not a string). */
const char *aws_json_str(json_t *, const char *path);

#endif
