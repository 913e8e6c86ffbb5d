/*
 * cli_iam: the IAM policies a configuration needs (cloudsagad
 * --iam-policy).
 *
 * The permissions policy is for the identity that makes the calls: the
 * daemon's own credentials for accounts without role_arn, the role for
 * accounts with one.  It allows every action of the scenarios that the
 * enabled schedule entries run (every built-in and custom scenario when
 * the configuration schedules nothing), cloudtrail:LookupEvents for
 * verification and the calls of the alerting checks that are switched
 * on, each on Resource "*", actions sorted, in three statements
 * (Verification, Scenarios, AlertCoverage).
 *
 * The trust policy of an account's role lets the account of the daemon's
 * own credentials (asked with sts:GetCallerIdentity) assume it, with an
 * sts:ExternalId condition when the account has external_id.
 */
#ifndef CLOUDSAGA_CLI_IAM_H
#define CLOUDSAGA_CLI_IAM_H

#include <jansson.h>

struct cli_opts;
struct config;
struct config_account;

/*
 * --iam-policy (o->iam_policy NULL or "permissions": the permissions
 * policy) or --iam-policy=trust (the trust policies of the role accounts;
 * with --account NAME that account's alone).  Prints JSON on stdout;
 * returns an exit status (CLI_EXIT_*).
 */
int	 cli_iam_policy(const struct cli_opts *);

/* The permissions policy document of cfg (new reference). */
json_t	*cli_iam_permissions(const struct config *);
/* The trust policy document of a role account (new reference). */
json_t	*cli_iam_trust(const struct config_account *,
	    const char *caller_account);
/*
 * An API call ("monitoring:DescribeAlarmsForMetric", "s3:ListBuckets",
 * a registry string such as "sts:GetCallerIdentity (no permission
 * needed)") as the IAM action that authorises it
 * ("cloudwatch:DescribeAlarmsForMetric", "s3:ListAllMyBuckets"),
 * allocated; NULL when it is not "service:Action".
 */
char	*cli_iam_action(const char *);

#endif
