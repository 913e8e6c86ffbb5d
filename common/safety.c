/*
 * safety: the guard every request passes before it is sent (client.c
 * calls aws_safety_check() for every call; custom scenarios are checked
 * with the same function when the configuration is loaded).  Nothing a
 * caller declares can talk it round: the class is checked against what
 * the request really is.
 *
 *   read-only  the action is read-only by name (Describe, List, Get, ...)
 *              or on the short list of actions that change nothing
 *   dry-run    an EC2 action carrying DryRun=true; a mutating EC2 action is
 *              never sent without it, whatever its declared class
 *   safe-fail  the action is in the table below, and the run ID (128
 *              random bits, so the name cannot exist) is in one of the
 *              action's *reference* parameters: a resource the call needs
 *              to exist before it can do anything.  The call then fails
 *              with a not-found error and changes nothing.  A run ID in
 *              any other parameter proves nothing: for a create call it is
 *              the name of what would be created (iam:CreateUser with
 *              UserName = "cloudsaga-<run id>" creates that user).
 *   live       really changes the account: only with live calls allowed
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "aws.h"
#include "xmalloc.h"

/* Actions whose names do not say so but that change nothing. */
static const char *const safety_harmless[] = {
	"iam:GenerateCredentialReport",
	"secretsmanager:BatchGetSecretValue",	/* CloudTrail: readOnly */
	"sts:AssumeRole",
	"sts:AssumeRoleWithWebIdentity",
	"sts:DecodeAuthorizationMessage",
	NULL
};

/*
 * The safe-fail table: for each action that may be safe-fail, the
 * parameters naming a resource that must already exist (any one holding
 * the run ID makes the call fail before it changes anything), an example,
 * and the not-found error AWS answers.  Sorted by service, then action.
 * An action missing here cannot be declared safe-fail.
 */
static const struct aws_safe_fail safety_table[] = {
	{ "bedrock", "InvokeModel", { "modelId" },
	    "cloudsaga-{run_id}", "ValidationException" },
	{ "cloudtrail", "DeleteTrail", { "Name" },
	    "cloudsaga-{run_id}", "TrailNotFoundException" },
	{ "cloudtrail", "PutEventSelectors", { "TrailName" },
	    "cloudsaga-{run_id}", "TrailNotFoundException" },
	{ "cloudtrail", "PutInsightSelectors", { "TrailName" },
	    "cloudsaga-{run_id}", "TrailNotFoundException" },
	{ "cloudtrail", "StartLogging", { "Name" },
	    "cloudsaga-{run_id}", "TrailNotFoundException" },
	{ "cloudtrail", "StopLogging", { "Name" },
	    "cloudsaga-{run_id}", "TrailNotFoundException" },
	{ "cloudtrail", "UpdateTrail", { "Name" },
	    "cloudsaga-{run_id}", "TrailNotFoundException" },
	{ "ec2-instance-connect", "SendSSHPublicKey", { "InstanceId" },
	    "i-{run_id17}", "EC2InstanceNotFoundException" },
	{ "ec2-instance-connect", "SendSerialConsoleSSHPublicKey",
	    { "InstanceId" }, "i-{run_id17}", "EC2InstanceNotFoundException" },
	{ "events", "DeleteRule", { "Name" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "events", "DisableRule", { "Name" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "events", "RemoveTargets", { "Rule" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "guardduty", "DeleteDetector", { "DetectorId" },
	    "{run_id}", "BadRequestException" },
	{ "guardduty", "UpdateDetector", { "DetectorId" },
	    "{run_id}", "BadRequestException" },
	{ "iam", "AddUserToGroup", { "GroupName", "UserName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "AttachGroupPolicy", { "GroupName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "AttachRolePolicy", { "RoleName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "AttachUserPolicy", { "UserName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "CreateAccessKey", { "UserName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "CreateLoginProfile", { "UserName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "CreatePolicyVersion", { "PolicyArn" },
	    "arn:aws:iam::{account_id}:policy/cloudsaga-{run_id}",
	    "NoSuchEntity" },
	{ "iam", "CreateRole", { "PermissionsBoundary" },
	    "arn:aws:iam::aws:policy/cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "CreateUser", { "PermissionsBoundary" },
	    "arn:aws:iam::aws:policy/cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "DeleteLoginProfile", { "UserName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "DeleteRole", { "RoleName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "DeleteUser", { "UserName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "PutRolePolicy", { "RoleName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "PutUserPolicy", { "UserName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "UpdateAssumeRolePolicy", { "RoleName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "iam", "UpdateLoginProfile", { "UserName" },
	    "cloudsaga-{run_id}", "NoSuchEntity" },
	{ "lambda", "AddPermission", { "FunctionName" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "lambda", "UpdateFunctionCode", { "FunctionName" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "lambda", "UpdateFunctionConfiguration", { "FunctionName" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "logs", "DeleteLogGroup", { "logGroupName" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "logs", "DeleteMetricFilter", { "logGroupName" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "logs", "PutRetentionPolicy", { "logGroupName" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "rds", "CreateDBInstance", { "DBSubnetGroupName" },
	    "cloudsaga-{run_id}", "DBSubnetGroupNotFoundFault" },
	{ "rds", "DeleteDBInstance", { "DBInstanceIdentifier" },
	    "cloudsaga-{run_id}", "DBInstanceNotFound" },
	{ "rds", "ModifyDBInstance", { "DBInstanceIdentifier" },
	    "cloudsaga-{run_id}", "DBInstanceNotFound" },
	{ "rds", "ModifyDBSnapshotAttribute", { "DBSnapshotIdentifier" },
	    "cloudsaga-{run_id}", "DBSnapshotNotFound" },
	{ "route53resolver", "DeleteResolverQueryLogConfig",
	    { "ResolverQueryLogConfigId" }, "rqlc-{run_id}",
	    "ResourceNotFoundException" },
	{ "route53resolver", "DisassociateResolverQueryLogConfig",
	    { "ResolverQueryLogConfigId" }, "rqlc-{run_id}",
	    "ResourceNotFoundException" },
	{ "s3", "DeleteBucketPolicy", { "Bucket" },
	    "cloudsaga-{account_id}-{run_id}", "NoSuchBucket" },
	{ "s3", "DeletePublicAccessBlock", { "Bucket" },
	    "cloudsaga-{account_id}-{run_id}", "NoSuchBucket" },
	{ "s3", "PutBucketLifecycleConfiguration", { "Bucket" },
	    "cloudsaga-{account_id}-{run_id}", "NoSuchBucket" },
	{ "s3", "PutBucketPolicy", { "Bucket" },
	    "cloudsaga-{account_id}-{run_id}", "NoSuchBucket" },
	{ "s3", "PutPublicAccessBlock", { "Bucket" },
	    "cloudsaga-{account_id}-{run_id}", "NoSuchBucket" },
	{ "sagemaker", "StartNotebookInstance", { "NotebookInstanceName" },
	    "cloudsaga-{run_id}", "ValidationException" },
	{ "sagemaker", "StopNotebookInstance", { "NotebookInstanceName" },
	    "cloudsaga-{run_id}", "ValidationException" },
	{ "sagemaker", "UpdateNotebookInstance", { "NotebookInstanceName" },
	    "cloudsaga-{run_id}", "ValidationException" },
	{ "secretsmanager", "PutSecretValue", { "SecretId" },
	    "cloudsaga-{run_id}", "ResourceNotFoundException" },
	{ "ssm", "SendCommand", { "DocumentName" },
	    "cloudsaga-{run_id}", "InvalidDocument" },
	{ "ssm", "StartSession", { "Target" },
	    "i-{run_id17}", "TargetNotConnected" },
	{ NULL, NULL, { NULL }, NULL, NULL },
};

const struct aws_safe_fail *
aws_safe_fail_table(void)
{
	return safety_table;
}

const struct aws_safe_fail *
aws_safe_fail_find(const struct aws_service *svc, const char *action)
{
	const struct aws_safe_fail	*t;

	if (svc == NULL || action == NULL)
		return NULL;
	for (t = safety_table; t->service != NULL; t++)
		if (strcmp(t->service, svc->id) == 0 &&
		    strcmp(t->action, action) == 0)
			return t;
	return NULL;
}

static int
safety_is_harmless(const struct aws_request *req)
{
	size_t	 i, n = strlen(req->svc->id);

	for (i = 0; safety_harmless[i] != NULL; i++)
		if (strncmp(safety_harmless[i], req->svc->id, n) == 0 &&
		    safety_harmless[i][n] == ':' &&
		    strcmp(safety_harmless[i] + n + 1, req->action) == 0)
			return 1;
	return 0;
}

static int
safety_json_contains(const json_t *j, const char *needle)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	switch (json_typeof(j)) {
	case JSON_STRING:
		return strstr(json_string_value(j), needle) != NULL;
	case JSON_OBJECT:
		json_object_foreach((json_t *)j, key, v)
			if (safety_json_contains(v, needle))
				return 1;
		return 0;
	case JSON_ARRAY:
		json_array_foreach(j, i, v)
			if (safety_json_contains(v, needle))
				return 1;
		return 0;
	default:
		return 0;
	}
}

/*
 * Does parameter `name` (Query key, or a top-level input member, its
 * first letter in either case) hold the run ID?  For a reference whose
 * format allows no 32-digit run ID (an EC2 instance ID is "i-" and 17 hex
 * digits: the table's example says "{run_id17}"), "i-" followed by the
 * run ID's first 17 digits (68 random bits) counts.
 */
static int
safety_param_has_run(const struct aws_request *req,
    const struct aws_safe_fail *t, const char *name)
{
	const char	*key, *needle = req->run_id;
	json_t		*v;
	size_t		 i;
	char		 id17[2 + 17 + 1];

	if (t->example != NULL && strstr(t->example, "{run_id17}") != NULL &&
	    strlen(req->run_id) >= 17) {
		snprintf(id17, sizeof(id17), "i-%.17s", req->run_id);
		needle = id17;
	}
	for (i = 0; i < req->nparams; i++)
		if (strcasecmp(req->params[i].key, name) == 0 &&
		    (strstr(req->params[i].value, req->run_id) != NULL ||
		    strstr(req->params[i].value, needle) != NULL))
			return 1;
	if (json_is_object(req->input))
		json_object_foreach(req->input, key, v)
			if (strcasecmp(key, name) == 0 &&
			    (safety_json_contains(v, req->run_id) ||
			    safety_json_contains(v, needle)))
				return 1;
	return 0;
}

/* The first parameter that holds the run ID, or NULL. */
static const char *
safety_run_param(const struct aws_request *req)
{
	const char	*key;
	json_t		*v;
	size_t		 i;

	for (i = 0; i < req->nparams; i++)
		if (strstr(req->params[i].value, req->run_id) != NULL)
			return req->params[i].key;
	if (json_is_object(req->input))
		json_object_foreach(req->input, key, v)
			if (safety_json_contains(v, req->run_id))
				return key;
	return NULL;
}

/* "A", "A or B", "A, B or C" */
static char *
safety_ref_list(const struct aws_safe_fail *t)
{
	char	*s = xstrdup(""), *n;
	size_t	 i, k = 0;

	while (k < AWS_SAFE_FAIL_REFS && t->refs[k] != NULL)
		k++;
	for (i = 0; i < k; i++) {
		n = xprintf("%s%s%s", s, i == 0 ? "" : i + 1 == k ? " or " :
		    ", ", t->refs[i]);
		free(s);
		s = n;
	}
	return s;
}

static int
safety_fail_check(const struct aws_request *req, char **cause)
{
	const struct aws_safe_fail	*t;
	const char			*where;
	char				*refs;
	size_t				 i;

	if (req->run_id == NULL || strlen(req->run_id) < 16) {
		xasprintf(cause, "refused: safe-fail call %s:%s does not name "
		    "a target containing the run ID", req->svc->id,
		    req->action);
		return -1;
	}
	if ((t = aws_safe_fail_find(req->svc, req->action)) == NULL) {
		xasprintf(cause, "refused: %s:%s cannot be safe-fail: it is "
		    "not in the engine's safe-fail table (actions that fail "
		    "before they change anything when a resource they need "
		    "does not exist); use a read-only or dry-run call "
		    "instead", req->svc->id, req->action);
		return -1;
	}
	for (i = 0; i < AWS_SAFE_FAIL_REFS && t->refs[i] != NULL; i++)
		if (safety_param_has_run(req, t, t->refs[i]))
			return 0;
	refs = safety_ref_list(t);
	where = safety_run_param(req);
	if (where != NULL)
		xasprintf(cause, "refused: safe-fail call %s:%s has the run ID "
		    "in %s, which names what the call would act on or create, "
		    "not a resource it needs: it would not fail.  Put the run "
		    "ID ({run_id}) in %s, which must already exist (e.g. %s = "
		    "\"%s\")",
		    req->svc->id, req->action, where, refs, t->refs[0],
		    t->example);
	else
		xasprintf(cause, "refused: safe-fail call %s:%s does not name "
		    "a target containing the run ID: put the run ID ({run_id}) "
		    "in %s, which must already exist (e.g. %s = \"%s\")",
		    req->svc->id,
		    req->action, refs, t->refs[0], t->example);
	free(refs);
	return -1;
}

int
aws_safety_check(const struct aws_request *req, int allow_live, char **cause)
{
	enum aws_safety	 cls = req->safety;
	int		 ro, dry, ec2;

	ro = aws_action_is_read_only(req->svc, req->action) ||
	    safety_is_harmless(req);
	dry = aws_request_is_dry_run(req);
	ec2 = strcmp(req->svc->id, "ec2") == 0;

	if (cls == AWS_SAFE_AUTO)
		cls = ro ? AWS_SAFE_READ_ONLY : dry ? AWS_SAFE_DRY_RUN :
		    AWS_SAFE_LIVE;

	/* Absolute: a mutating EC2 action goes only with DryRun=true. */
	if (ec2 && !ro && !dry) {
		xasprintf(cause, "refused: ec2:%s changes the account and has "
		    "no DryRun=true", req->action);
		return -1;
	}
	switch (cls) {
	case AWS_SAFE_READ_ONLY:
		if (!ro) {
			xasprintf(cause, "refused: %s:%s is declared read-only "
			    "but is not a read-only action", req->svc->id,
			    req->action);
			return -1;
		}
		return 0;
	case AWS_SAFE_DRY_RUN:
		if (!ec2 || !dry) {
			xasprintf(cause, "refused: %s:%s is declared dry-run "
			    "but carries no DryRun=true", req->svc->id,
			    req->action);
			return -1;
		}
		return 0;
	case AWS_SAFE_FAIL:
		return safety_fail_check(req, cause);
	case AWS_SAFE_LIVE:
		if (!allow_live) {
			xasprintf(cause, "refused: %s:%s would change the "
			    "account (live) and live calls are not enabled",
			    req->svc->id, req->action);
			return -1;
		}
		return 0;
	case AWS_SAFE_AUTO:
		break;
	}
	xasprintf(cause, "refused: unknown safety class");
	return -1;
}
