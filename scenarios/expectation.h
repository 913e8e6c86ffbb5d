/*
 * expectation: one call CloudTrail should record, the row model of the
 * ledger (daemon/ledger.h embeds it in struct ledger_entry).
 */
#ifndef CLOUDSAGA_EXPECTATION_H
#define CLOUDSAGA_EXPECTATION_H

#include "aws.h"

struct expectation {
	char		 run_id[33];
	char		*scenario;
	char		*account;	/* the config's account name */
	char		*account_id;	/* 12 digits when known, else NULL */
	char		*call_region;	/* where the call was sent */
	char		*region;	/* where the event lands (IAM: us-east-1) */
	char		*event_source;	/* "ec2.amazonaws.com" */
	char		*event_name;	/* "CreateSecurityGroup" */
	char		*error_code;	/* expected CloudTrail errorCode or NULL
					   ("Client.DryRunOperation") */
	char		*request_id;
	char		*access_key_id;
	char		*user_agent;	/* as sent: carries the run marker */
	int		 read_only;
	enum aws_role	 role;		/* signal or context (never DEFAULT) */
	enum aws_evidence evidence;	/* how we know it is recorded */
	double		 fired_at;	/* wall clock, seconds: the send time
					   of the attempt that answered */
	double		 fired_mono;	/* the same, monotonic; 0 = unknown
					   (not persisted) */
};

struct expectation *expectation_new(void);
struct expectation *expectation_dup(const struct expectation *);
void	 expectation_free(struct expectation *);
/* Deep copy of src's members into dst (whose members are not freed:
 * zeroed or cleared first); free an embedded one's members (zeroes it). */
void	 expectation_copy(struct expectation *dst,
	    const struct expectation *src);
void	 expectation_clear(struct expectation *);

/*
 * The expectation for one answered call, or NULL when CloudTrail cannot
 * hold a record of it (aws_record_of() is not AWS_RECORD_HANDLED): never
 * sent (refused, transport failure, status 0), refused before the service
 * handled it (bad or expired credentials or signature, unknown action,
 * unparsable request, region not enabled), throttled or 5xx (the service
 * may not have processed it).
 * Pure: used by the framework, exposed for tests and the daemon.
 */
struct expectation *expectation_for(const struct aws_request *,
	    const struct aws_result *);
/* Region where the event of a call lands (IAM and global services:
 * the partition's global region, us-east-1 in "aws"). */
const char	*expectation_event_region(const struct aws_service *,
	    const char *call_region);
/* CloudTrail's eventName for an action: the action itself, except the S3
 * operations CloudTrail logs under another name (PutPublicAccessBlock ->
 * PutBucketPublicAccessBlock). */
const char	*expectation_event_name(const struct aws_service *,
	    const char *action);

#endif
