/*
 * expectation: what one answered call leaves in CloudTrail, the row model
 * the ledger verifies (daemon/ledger.h embeds it in its row).
 *
 * expectation_for() turns a call and its answer into an expectation (or
 * none, when CloudTrail cannot hold a record of it); the framework
 * (run.c) fills in the run's scenario, account and account ID and hands
 * it to its owner.  expectation_copy()/expectation_clear() are the one
 * list of the members: they deep-copy into and free the members of an
 * expectation embedded in another struct.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "endpoint.h"
#include "expectation.h"
#include "util.h"
#include "xmalloc.h"

struct expectation *
expectation_new(void)
{
	return xcalloc(1, sizeof(struct expectation));
}

/*
 * The one list of the expectation's members: copy, clear.  A new member
 * is added here (and to the ledger's row save/load in daemon/ledger.c).
 */
void
expectation_copy(struct expectation *dst, const struct expectation *src)
{
	memcpy(dst->run_id, src->run_id, sizeof(dst->run_id));
	dst->scenario = xstrdup_or_null(src->scenario);
	dst->account = xstrdup_or_null(src->account);
	dst->account_id = xstrdup_or_null(src->account_id);
	dst->call_region = xstrdup_or_null(src->call_region);
	dst->region = xstrdup_or_null(src->region);
	dst->event_source = xstrdup_or_null(src->event_source);
	dst->event_name = xstrdup_or_null(src->event_name);
	dst->error_code = xstrdup_or_null(src->error_code);
	dst->request_id = xstrdup_or_null(src->request_id);
	dst->access_key_id = xstrdup_or_null(src->access_key_id);
	dst->user_agent = xstrdup_or_null(src->user_agent);
	dst->read_only = src->read_only;
	dst->role = src->role;
	dst->evidence = src->evidence;
	dst->fired_at = src->fired_at;
	dst->fired_mono = src->fired_mono;
}

void
expectation_clear(struct expectation *e)
{
	if (e == NULL)
		return;
	free(e->scenario);
	free(e->account);
	free(e->account_id);
	free(e->call_region);
	free(e->region);
	free(e->event_source);
	free(e->event_name);
	free(e->error_code);
	free(e->request_id);
	free(e->access_key_id);
	free(e->user_agent);
	memset(e, 0, sizeof(*e));
}

struct expectation *
expectation_dup(const struct expectation *e)
{
	struct expectation	*n;

	if (e == NULL)
		return NULL;
	n = expectation_new();
	expectation_copy(n, e);
	return n;
}

void
expectation_free(struct expectation *e)
{
	if (e == NULL)
		return;
	expectation_clear(e);
	free(e);
}

const char *
expectation_event_region(const struct aws_service *svc,
    const char *call_region)
{
	const char	*home;

	if (!svc->global)
		return call_region;
	if ((home = endpoint_home_region(endpoint_partition(call_region))) ==
	    NULL)
		return "us-east-1";
	return home;
}

const char *
expectation_event_name(const struct aws_service *svc, const char *action)
{
	static const char *const s3[][2] = {
		{ "PutPublicAccessBlock", "PutBucketPublicAccessBlock" },
		{ "GetPublicAccessBlock", "GetBucketPublicAccessBlock" },
		{ "DeletePublicAccessBlock", "DeleteBucketPublicAccessBlock" },
		{ "ListObjectsV2", "ListObjects" },
		{ "PutBucketLifecycleConfiguration", "PutBucketLifecycle" },
		{ "GetBucketLifecycleConfiguration", "GetBucketLifecycle" },
	};
	/*
	 * Lambda: CloudTrail writes the API version of the operation's URI,
	 * plus "v2" for the revised operations (source key L-ev in the
	 * catalogue research: seen in real records, no AWS page).
	 */
	static const char *const lambda[][2] = {
		{ "AddPermission", "AddPermission20150331v2" },
		{ "RemovePermission", "RemovePermission20150331v2" },
		{ "GetPolicy", "GetPolicy20150331v2" },
		{ "GetFunction", "GetFunction20150331v2" },
		{ "GetFunctionConfiguration",
		    "GetFunctionConfiguration20150331v2" },
		{ "UpdateFunctionCode", "UpdateFunctionCode20150331v2" },
		{ "UpdateFunctionConfiguration",
		    "UpdateFunctionConfiguration20150331v2" },
		{ "ListFunctions", "ListFunctions20150331" },
		{ "CreateFunction", "CreateFunction20150331" },
		{ "DeleteFunction", "DeleteFunction20150331" },
	};
	size_t	 i;

	if (strcmp(svc->id, "lambda") == 0) {
		for (i = 0; i < nitems(lambda); i++)
			if (strcmp(lambda[i][0], action) == 0)
				return lambda[i][1];
		return action;
	}
	if (strcmp(svc->id, "s3") != 0)
		return action;
	for (i = 0; i < nitems(s3); i++)
		if (strcmp(s3[i][0], action) == 0)
			return s3[i][1];
	return action;
}

/* Error codes the client makes up: AWS never sent them. */
static int
expectation_synthetic_code(const char *code)
{
	static const char *const synthetic[] = {
		"MalformedResponse", "SafetyGuard", "RequestEncoding",
		"EndpointResolution", "CredentialsError", "SigningError",
		NULL
	};
	size_t	 i;

	for (i = 0; synthetic[i] != NULL; i++)
		if (strcmp(code, synthetic[i]) == 0)
			return 1;
	return 0;
}

struct expectation *
expectation_for(const struct aws_request *req, const struct aws_result *res)
{
	struct expectation	*e;

	/* Only a call the service handled can be in CloudTrail. */
	if (aws_record_of(req, res) != AWS_RECORD_HANDLED)
		return NULL;
	e = expectation_new();
	if (req->run_id != NULL)
		snprintf(e->run_id, sizeof(e->run_id), "%s", req->run_id);
	e->call_region = xstrdup(req->region);
	e->region = xstrdup(expectation_event_region(req->svc, req->region));
	e->event_source = xstrdup(req->svc->event_source);
	e->event_name = xstrdup(expectation_event_name(req->svc, req->action));
	if (res->status >= 300 && res->error_code != NULL &&
	    !expectation_synthetic_code(res->error_code))
		e->error_code = aws_cloudtrail_error_code(req->svc,
		    res->error_code);
	e->request_id = xstrdup_or_null(res->request_id);
	e->access_key_id = xstrdup_or_null(res->access_key_id);
	e->user_agent = xstrdup_or_null(res->user_agent);
	e->read_only = aws_action_is_read_only(req->svc, req->action);
	e->role = aws_role_resolve(req);
	e->evidence = req->evidence;
	/* The attempt that answered: its record is the one to find. */
	e->fired_at = res->sent_at > 0 ? res->sent_at : res->fired_at;
	e->fired_mono = res->sent_mono;
	return e;
}

