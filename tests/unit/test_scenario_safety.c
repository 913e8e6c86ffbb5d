/*
 * The safety guard, refusal by refusal: aws_safety_check() on its own, and
 * the same requests sent through a run against a loopback server that
 * counts what arrives - a refused call is never sent, shows as "skipped"
 * with the guard's reason, is not what the scenario intended, and yields
 * no CloudTrail expectation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "aws.h"
#include "client.h"
#include "creds.h"
#include "http.h"
#include "scenario.h"
#include "testsrv.h"
#include "util.h"
#include "xmalloc.h"

#define RUN_ID	"0123456789abcdef0123456789abcdef"

struct unsafe {
	const char	*what;		/* for messages */
	const char	*svc;
	const char	*action;
	enum aws_safety	 safety;
	const char	*params[6];	/* "Key=Value" (JSON: string members) */
	int		 allow_live;	/* the client's switch */
	const char	*cause;		/* part of the refusal */
};

static const struct unsafe refusals[] = {
	{ "mutating EC2 without DryRun (auto)", "ec2", "CreateVpc",
	    AWS_SAFE_AUTO, { "CidrBlock=10.0.0.0/16" }, 0,
	    "ec2:CreateVpc changes the account and has no DryRun=true" },
	{ "mutating EC2 declared dry-run without DryRun", "ec2", "CreateVpc",
	    AWS_SAFE_DRY_RUN, { "CidrBlock=10.0.0.0/16" }, 0,
	    "has no DryRun=true" },
	{ "mutating EC2 with DryRun=false", "ec2", "RunInstances",
	    AWS_SAFE_DRY_RUN, { "ImageId=ami-1", "DryRun=false" }, 0,
	    "has no DryRun=true" },
	{ "mutating EC2 live, even with live allowed", "ec2",
	    "TerminateInstances", AWS_SAFE_LIVE, { "InstanceId.1=i-1" }, 1,
	    "has no DryRun=true" },
	{ "mutating EC2 safe-fail naming the run", "ec2", "DeleteVpc",
	    AWS_SAFE_FAIL, { "VpcId=vpc-" RUN_ID }, 0, "has no DryRun=true" },
	{ "read-only declared for a mutating action", "iam", "DeleteUser",
	    AWS_SAFE_READ_ONLY, { "UserName=u-" RUN_ID }, 0,
	    "declared read-only but is not a read-only action" },
	{ "dry-run declared outside EC2", "iam", "DeleteUser",
	    AWS_SAFE_DRY_RUN, { "UserName=u" }, 0,
	    "declared dry-run but carries no DryRun=true" },
	{ "safe-fail without the run ID", "cloudtrail", "StopLogging",
	    AWS_SAFE_FAIL, { "Name=prod-trail" }, 0,
	    "does not name a target containing the run ID" },
	{ "safe-fail without any target", "cloudtrail", "StopLogging",
	    AWS_SAFE_FAIL, { NULL }, 0,
	    "does not name a target containing the run ID" },
	{ "safe-fail create whose run ID is the name it creates", "iam",
	    "CreateUser", AWS_SAFE_FAIL, { "UserName=cloudsaga-" RUN_ID }, 0,
	    "has the run ID in UserName" },
	{ "safe-fail create, the run ID beside the reference", "iam",
	    "CreateRole", AWS_SAFE_FAIL, { "RoleName=cloudsaga-" RUN_ID,
	    "PermissionsBoundary=arn:aws:iam::aws:policy/ReadOnlyAccess",
	    "AssumeRolePolicyDocument={}" }, 0,
	    "Put the run ID ({run_id}) in PermissionsBoundary" },
	{ "safe-fail reference, run ID only in another parameter", "iam",
	    "AttachUserPolicy", AWS_SAFE_FAIL, { "UserName=alice",
	    "PolicyArn=arn:aws:iam::aws:policy/cloudsaga-" RUN_ID }, 0,
	    "has the run ID in PolicyArn" },
	{ "safe-fail for an action outside the table", "iam", "CreateGroup",
	    AWS_SAFE_FAIL, { "GroupName=cloudsaga-" RUN_ID }, 0,
	    "cannot be safe-fail: it is not in the engine's safe-fail table" },
	{ "safe-fail JSON reference elsewhere", "events", "PutRule",
	    AWS_SAFE_FAIL, { "Name=cloudsaga-" RUN_ID }, 0,
	    "cannot be safe-fail" },
	{ "live without the switch", "iam", "CreateUser", AWS_SAFE_LIVE,
	    { "UserName=cloudsaga-" RUN_ID }, 0,
	    "live calls are not enabled" },
	{ "mutating non-EC2 inferred live", "iam", "CreateUser",
	    AWS_SAFE_AUTO, { "UserName=u" }, 0, "live calls are not enabled" },
};

static struct aws_request *
build(const struct unsafe *u, const char *region, const char *run_id)
{
	const struct aws_service	*svc = aws_service_find(u->svc);
	struct aws_request		*req;
	char				*k, *v;
	size_t				 i;

	req = aws_request_new(svc, u->action, region);
	req->safety = u->safety;
	req->run_id = xstrdup(run_id);
	for (i = 0; i < nitems(u->params) && u->params[i] != NULL; i++) {
		k = xstrdup(u->params[i]);
		v = strchr(k, '=');
		*v++ = '\0';
		if (svc->protocol == AWS_PROTO_EC2 ||
		    svc->protocol == AWS_PROTO_QUERY)
			aws_request_add(req, k, "%s", v);
		else
			aws_request_set_str(req, k, v);
		free(k);
	}
	return req;
}

static void
test_guard_refusals(void **state)
{
	struct aws_request	*req;
	char			*cause;
	size_t			 i;

	for (i = 0; i < nitems(refusals); i++) {
		cause = NULL;
		req = build(&refusals[i], "eu-west-1", RUN_ID);
		if (aws_safety_check(req, refusals[i].allow_live, &cause) == 0)
			fail_msg("not refused: %s", refusals[i].what);
		if (strstr(cause, refusals[i].cause) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", refusals[i].what,
			    cause, refusals[i].cause);
		assert_true(strncmp(cause, "refused: ", 9) == 0);
		free(cause);
		aws_request_free(req);
	}
}

static void
test_guard_short_run_id(void **state)
{
	const struct unsafe	 u = { "short run ID", "cloudtrail",
	    "StopLogging", AWS_SAFE_FAIL, { "Name=cloudsaga-ab" }, 0, NULL };
	struct aws_request	*req;
	char			*cause = NULL;

	/* A run ID too short to be unguessable does not count. */
	req = build(&u, "eu-west-1", "ab");
	assert_int_equal(aws_safety_check(req, 0, &cause), -1);
	free(cause);
	aws_request_free(req);
}

static void
test_guard_allows(void **state)
{
	static const struct unsafe ok[] = {
		{ "read-only", "ec2", "DescribeVpcs", AWS_SAFE_READ_ONLY,
		    { NULL }, 0, NULL },
		{ "dry-run", "ec2", "CreateVpc", AWS_SAFE_DRY_RUN,
		    { "CidrBlock=10.0.0.0/16", "DryRun=true" }, 0, NULL },
		{ "safe-fail", "cloudtrail", "DeleteTrail", AWS_SAFE_FAIL,
		    { "Name=cloudsaga-" RUN_ID }, 0, NULL },
		{ "safe-fail create through its boundary", "iam", "CreateUser",
		    AWS_SAFE_FAIL, { "UserName=cloudsaga-" RUN_ID,
		    "PermissionsBoundary=arn:aws:iam::aws:policy/cloudsaga-"
		    RUN_ID }, 0, NULL },
		{ "safe-fail through a second reference", "iam",
		    "AddUserToGroup", AWS_SAFE_FAIL, { "GroupName=admins",
		    "UserName=cloudsaga-" RUN_ID }, 0, NULL },
		{ "safe-fail JSON reference, lower camel", "logs",
		    "DeleteLogGroup", AWS_SAFE_FAIL,
		    { "logGroupName=cloudsaga-" RUN_ID }, 0, NULL },
		{ "live with the switch", "iam", "CreateUser", AWS_SAFE_LIVE,
		    { "UserName=u" }, 1, NULL },
		{ "harmless by name", "iam", "GenerateCredentialReport",
		    AWS_SAFE_READ_ONLY, { NULL }, 0, NULL },
	};
	struct aws_request	*req;
	char			*cause = NULL;
	size_t			 i;

	for (i = 0; i < nitems(ok); i++) {
		req = build(&ok[i], "eu-west-1", RUN_ID);
		if (aws_safety_check(req, ok[i].allow_live, &cause) != 0)
			fail_msg("%s refused: %s", ok[i].what, cause);
		aws_request_free(req);
	}
}

/* ---- through a run: nothing reaches the wire ---------------------------- */

static int	 received;

static void
count_handler(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	__atomic_add_fetch(&received, 1, __ATOMIC_SEQ_CST);
	testsrv_reply_text(resp, 500, "should never be called");
}

struct unsafe_run {
	struct run_group	*g;
};

static void
unsafe_done(struct run *run, void *arg)
{
	run_finish(run);
}

static void
unsafe_start(struct run *run)
{
	struct run_group	*g;
	size_t			 i;

	g = run_group_new(run, unsafe_done, NULL);
	for (i = 0; i < nitems(refusals); i++)
		run_group_call(g, build(&refusals[i], "eu-west-1", run_id(run)),
		    NULL, NULL);
	run_group_close(g);
}

static const char *const none[] = { NULL };
static const struct scenario_def unsafe_def = {
	.name = "unsafe",
	.summary = "every refusal",
	.description = "test",
	.services = none,
	.permissions = none,
	.mitre = none,
	.calls = none,
	.start = unsafe_start,
};

static void
hook_done(struct run *run, int halted, void *arg)
{
	*(int *)arg = 1;
}

static void
test_run_refusals_never_sent(void **state)
{
	struct testsrv			*srv;
	struct event_base		*base;
	struct http_engine		*http;
	struct aws_client		*client;
	struct aws_client_opts		 copts;
	struct creds_provider		*creds;
	struct run_opts			 o;
	struct run_hooks		 h;
	struct run			*run;
	struct run_summary		 sum;
	const struct run_call *const	*calls;
	size_t				 n, i;
	int				 done = 0;

	srv = testsrv_start();
	testsrv_route(srv, NULL, "/*", count_handler, NULL);
	base = event_base_new();
	http = http_engine_new(base, NULL);
	memset(&copts, 0, sizeof(copts));
	copts.endpoints.endpoint_url = xstrdup(testsrv_url(srv, NULL));
	/* The client refuses live calls; the run would allow them. */
	copts.allow_live = 0;
	client = aws_client_new(base, http, &copts);
	free((char *)copts.endpoints.endpoint_url);
	creds = creds_static("AKIDEXAMPLETESTKEY00", "secret", NULL);

	memset(&o, 0, sizeof(o));
	memset(&h, 0, sizeof(h));
	o.base = base;
	o.client = client;
	o.creds = creds;
	o.allow_live = 1;
	o.run_id = RUN_ID;
	h.done = hook_done;
	h.arg = &done;
	run = run_start(&unsafe_def, &o, &h);
	while (!done)
		event_base_loop(base, EVLOOP_ONCE);

	assert_int_equal(__atomic_load_n(&received, __ATOMIC_SEQ_CST), 0);
	calls = run_calls(run, &n);
	assert_int_equal(n, nitems(refusals));
	for (i = 0; i < n; i++) {
		assert_int_equal(calls[i]->outcome, RUN_SKIPPED);
		assert_int_equal(calls[i]->aws_outcome, AWS_REFUSED);
		assert_false(calls[i]->intended);
		assert_false(calls[i]->expected);
		assert_non_null(calls[i]->note);
		assert_true(strncmp(calls[i]->note, "refused: ", 9) == 0);
	}
	run_summarize(run, &sum);
	assert_false(sum.ok);
	assert_int_equal(sum.skipped, nitems(refusals));
	assert_int_equal(sum.expectations, 0);
	run_free(run);

	creds_provider_free(creds);
	aws_client_free(client);
	http_engine_free(http);
	event_base_free(base);
	testsrv_free(srv);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_refusals),
		cmocka_unit_test(test_guard_short_run_id),
		cmocka_unit_test(test_guard_allows),
		cmocka_unit_test(test_run_refusals_never_sent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
