/*
 * awscodes: the one table of AWS error codes the engine knows, and what
 * each says about a call (aws.h, "Error codes").  Every question asked of
 * an error code - retry it? was the caller denied? did the service handle
 * the request, so that CloudTrail can hold a record of it? - is answered
 * here and nowhere else.
 *
 * Sources: the SDKs' retry tables (botocore retryhandler, the "standard"
 * mode's transient and throttling codes), the AWS error references of EC2
 * (AuthFailure, InvalidAction, ...), the common errors of the Query and
 * JSON protocols (InvalidClientTokenId, IncompleteSignature,
 * MissingAuthenticationToken, UnrecognizedClientException,
 * SerializationException, UnknownOperationException, ...), and the
 * CloudTrail user guide: requests that fail authentication are not
 * delivered (amazon-s3-userguide logging-with-S3, note 1; CloudTrail
 * cannot attribute them to an account).  A request the service never
 * parsed (an unknown action, a body that is not the protocol's) never
 * reached the service either.
 */
#include <stddef.h>
#include <string.h>

#include "aws.h"
#include "endpoint.h"

struct aws_code_row {
	const char	*code;
	unsigned	 flags;
};

#define T	AWS_CODE_THROTTLE
#define R	AWS_CODE_TRANSIENT
#define D	AWS_CODE_DENIED
#define S	AWS_CODE_CLOCK_SKEW
#define A	AWS_CODE_AUTH
#define P	AWS_CODE_UNPARSED
#define O	AWS_CODE_OPT_IN

/* Sorted by code (strcmp order): aws_code_flags() searches it. */
static const struct aws_code_row aws_codes[] = {
	{ "AccessDenied",				D },
	{ "AccessDeniedException",			D },
	{ "AuthFailure",				A },
	{ "AuthorizationError",				D },
	{ "BandwidthLimitExceeded",			T },
	{ "EC2ThrottledException",			T },
	{ "ExpiredToken",				A },
	{ "ExpiredTokenException",			A },
	{ AWS_CODE_HTTP_CONNECT,			R },
	{ AWS_CODE_HTTP_RESET,				R },
	{ AWS_CODE_HTTP_PROTOCOL,			R },
	{ AWS_CODE_HTTP_TIMEOUT,			R },
	{ "IDPCommunicationError",			R },
	{ "IncompleteSignature",			A },
	{ "IncompleteSignatureException",		A },
	{ "InvalidAccessKeyId",				A },
	{ "InvalidAction",				P },
	{ "InvalidClientTokenId",			A },
	{ "InvalidQueryParameter",			P },
	{ "InvalidSignatureException",			A },
	{ "InvalidToken",				A },
	{ "LimitExceededException",			T },
	{ "MalformedQueryString",			P },
	{ "MissingAction",				P },
	{ "MissingAuthenticationToken",			A },
	{ "MissingAuthenticationTokenException",	A },
	{ "OptInRequired",				O },
	{ "PriorRequestNotComplete",			T | R },
	{ "ProvisionedThroughputExceededException",	T },
	{ "RequestExpired",				S | A },
	{ "RequestInTheFuture",				S | A },
	{ "RequestLimitExceeded",			T },
	{ "RequestThrottled",				T },
	{ "RequestThrottledException",			T },
	{ "RequestTimeTooSkewed",			S | A },
	{ "RequestTimeout",				R },
	{ "RequestTimeoutException",			R },
	{ "SerializationException",			P },
	{ "SignatureDoesNotMatch",			A },
	{ "SlowDown",					T },
	{ "ThrottledException",				T },
	{ "Throttling",					T },
	{ "ThrottlingException",			T },
	{ "TooManyRequestsException",			T },
	{ "TransactionInProgressException",		T },
	{ "UnauthorizedAccess",				D },
	{ "UnauthorizedOperation",			D },
	{ "UnknownOperationException",			P },
	{ "UnrecognizedClientException",		A },
};

#undef T
#undef R
#undef D
#undef S
#undef A
#undef P
#undef O

unsigned
aws_code_flags(const char *code)
{
	size_t	 lo = 0, hi = sizeof(aws_codes) / sizeof(aws_codes[0]), mid;
	int	 c;

	if (code == NULL || *code == '\0')
		return 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(code, aws_codes[mid].code)) == 0)
			return aws_codes[mid].flags;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	/* AccessDenied* (AccessDeniedForDependencyException, ...). */
	if (strncmp(code, "AccessDenied", 12) == 0)
		return AWS_CODE_DENIED;
	return 0;
}

int
aws_code_is_throttle(const char *code)
{
	return (aws_code_flags(code) & AWS_CODE_THROTTLE) != 0;
}

int
aws_code_is_transient(const char *code)
{
	return (aws_code_flags(code) & AWS_CODE_TRANSIENT) != 0;
}

int
aws_code_is_clock_skew(const char *code)
{
	/*
	 * Strictly the codes that say so.  (A skewed clock can also show as
	 * InvalidSignatureException or AuthFailure with a "Signature
	 * expired" message; those codes mean other things too.)
	 */
	return (aws_code_flags(code) & AWS_CODE_CLOCK_SKEW) != 0;
}

int
aws_code_is_denied(const char *code)
{
	return (aws_code_flags(code) & AWS_CODE_DENIED) != 0;
}

int
aws_code_unhandled(const char *code)
{
	return (aws_code_flags(code) &
	    (AWS_CODE_AUTH | AWS_CODE_UNPARSED | AWS_CODE_OPT_IN)) != 0;
}

/* Regions of the aws partition enabled by default (all older than March
 * 2019; every region since is opt-in, so the list is final). */
static const char *const aws_default_regions[] = {
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1",
	"sa-east-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
	"eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
	"ap-northeast-3", "ap-southeast-1", "ap-southeast-2", NULL,
};

int
aws_region_is_opt_in(const char *region)
{
	size_t	 i;

	if (region == NULL || *region == '\0')
		return 0;
	/* Opt-in is a notion of the aws partition only: the partition of a
	 * region is endpoint_partition()'s, not restated here. */
	if (strcmp(endpoint_partition(region), "aws") != 0)
		return 0;
	for (i = 0; aws_default_regions[i] != NULL; i++)
		if (strcmp(region, aws_default_regions[i]) == 0)
			return 0;
	return 1;
}

enum aws_record
aws_record_of(const struct aws_request *req, const struct aws_result *res)
{
	if (res->status == 0)
		return AWS_RECORD_NOT_SENT;
	switch (res->outcome) {
	case AWS_REFUSED:
		return AWS_RECORD_NOT_SENT;
	case AWS_REGION_OFF:
		return AWS_RECORD_UNHANDLED;
	case AWS_RETRYABLE:
		return AWS_RECORD_UNCERTAIN;
	default:
		break;
	}
	if (res->status >= 500)
		return AWS_RECORD_UNCERTAIN;
	if (res->status >= 300 && aws_code_unhandled(res->error_code))
		return AWS_RECORD_UNHANDLED;
	return AWS_RECORD_HANDLED;
}

const char *
aws_record_name(enum aws_record r)
{
	switch (r) {
	case AWS_RECORD_HANDLED:
		return "handled";
	case AWS_RECORD_NOT_SENT:
		return "not sent";
	case AWS_RECORD_UNHANDLED:
		return "refused before the service handled it";
	case AWS_RECORD_UNCERTAIN:
		return "may not have been handled (throttled or a server "
		    "error)";
	}
	return "unknown";
}
