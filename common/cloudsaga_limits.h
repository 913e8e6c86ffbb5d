/*
 * cloudsaga_limits: every bound on what a peer can make the daemon hold,
 * in one place.  The daemon runs unattended for months; a hostile or broken
 * endpoint (a proxy, the instance metadata service, an AWS clone) must not
 * make it grow without bound or burn CPU.  Each value says why it is what
 * it is; docs/ARCHITECTURE.md ("Limits") lists them for operators.
 *
 * (Not "limits.h": common/ is on the include path of every file, so a
 * common/limits.h would hide the C library's <limits.h> from all of them.)
 *
 * Memory, measured on this code (x86-64, glibc 2.36, jansson 2.14, expat
 * 2.5; peak RSS while decoding, docs/ARCHITECTURE.md "Limits"): a decoded
 * JSON value costs up to ~230 bytes (an empty object: the value and its
 * hashtable), a decoded XML element up to ~300 bytes (a distinct name: a
 * hashtable pair, the value, the parser's frame).  So the count limits,
 * not the byte limits, bound the tree: the worst document within them
 * took 45 MB (JSON) and 60 MB (XML) to decode.  Before these limits a
 * 32 MiB body of empty objects took 2.5 GB.
 */
#ifndef CLOUDSAGA_LIMITS_H
#define CLOUDSAGA_LIMITS_H

/* ---- HTTP engine (common/http.c) ---------------------------------------- */

/*
 * Default response body limit of an engine (http_engine_opts.max_body):
 * the largest AWS answer the daemon asks for is a page of
 * DescribeInstances (MaxResults 1000), a few MiB; everything else is far
 * smaller.  Larger answers fail with HTTP_ERR_OTHER.
 */
#define HTTP_MAX_BODY_DEFAULT		((size_t)8 * 1024 * 1024)
/*
 * Response bytes an engine holds at once, over every transfer that has
 * not been delivered and freed (http_engine_opts.max_buffered): without
 * it, 64 endpoints each sending just under HTTP_MAX_BODY_DEFAULT would
 * make the engine hold 512 MiB.  Legitimate answers in flight together
 * stay far below it (a cycle's largest, DescribeInstances pages of a few
 * MiB in every region of an account, ~17 x 5 MiB); a transfer whose next
 * bytes would pass it fails (HTTP_ERR_OTHER, "response bytes in flight
 * together"), so the call is reported as could-not-test, never dropped.
 */
#define HTTP_MAX_BUFFERED_DEFAULT	((size_t)128 * 1024 * 1024)
/*
 * Header lines of one response, obsolete continuation lines (folding)
 * included: AWS sends about 10; proxies and load balancers add a few.
 */
#define HTTP_MAX_HEADERS		500
/*
 * Bytes of one response's header block (every line, CR LF included): 16
 * KiB would do for AWS; 64 KiB leaves room for a proxy's long cookies.
 */
#define HTTP_MAX_HEADER_BYTES		(64 * 1024)

/* ---- AWS decoding (common/awsxml.c, common/awsdecode.c) ----------------- */

/* Body sizes: the same as the engine's default body limit. */
#define AWS_XML_MAX_SIZE		(8 * 1024 * 1024)
#define AWS_JSON_MAX_SIZE		(8 * 1024 * 1024)
/*
 * Nesting: AWS documents nest about 10 deep (DescribeInstances: 8);
 * jansson recurses per level, expat keeps a frame per level.
 */
#define AWS_XML_MAX_DEPTH		64
#define AWS_JSON_MAX_DEPTH		64
/*
 * Elements (XML) and values (JSON, object keys included) per document:
 * what bounds the decoded tree (~300 bytes each at worst, see above).  An
 * EC2 instance is 100 (moto) to ~150 elements, so a DescribeInstances page
 * of 1000 fits; a LookupEvents page is 50 events of one string each.
 */
#define AWS_XML_MAX_NODES		200000
#define AWS_JSON_MAX_VALUES		200000
/*
 * Bytes expat may allocate for one document (its buffer, name pools,
 * attribute arrays).  It is fed in 64 KiB chunks, so a real document
 * needs well under 1 MiB; a start tag with a million attributes (held
 * whole before any handler runs) would need ~90 MB and fails instead.
 */
#define AWS_XML_MAX_PARSER_MEM		((size_t)16 * 1024 * 1024)

/*
 * An AWS error Message as decoded into aws_result.error_message (and from
 * there into verdict reasons, journal fields and report lines; a 100 kB
 * line once kept the daemon from restarting): real ones are under 300
 * bytes.  Longer ones are cut on a UTF-8 boundary and marked
 * (str_cap_utf8()).
 */
#define AWS_ERROR_MESSAGE_MAX		1024
/*
 * An error code or request ID as decoded: real ones are under 64 bytes
 * (request IDs are UUIDs or 52-character base64); they are compared, not
 * read, so a longer one is only cut (and marked) to keep lines short.
 */
#define AWS_ID_MAX			256

/* ---- credentials (common/creds_*.c) ------------------------------------- */

/*
 * Body of an IMDS or container-credentials answer (token, role listing,
 * credential document): real ones are under 2 KiB (a session token is
 * about 1 KiB).  The transfer fails beyond this.
 */
#define CREDS_HTTP_MAX_BODY		(64 * 1024)
/*
 * The IMDSv2 session token and the container authorization token (file or
 * variable): about 60 bytes and 1 KiB in practice.
 */
#define CREDS_HTTP_TOKEN_MAX		16384
/* A shared credentials or config file: real ones are a few KiB. */
#define CREDS_INI_MAX_SIZE		(1024 * 1024)
/* WebIdentityToken: STS accepts 4..20000 characters. */
#define CREDS_WEB_IDENTITY_TOKEN_MAX	20000

#endif
