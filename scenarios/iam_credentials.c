/*
 * iam-credentials: pulling the IAM credential report (CloudSaga chapter).
 *
 *   iam:GenerateCredentialReport
 *   iam:GetCredentialReport, polled with backoff while the answer is
 *   ReportInProgress (CloudSaga did not wait), until a deadline
 *
 * The report lists every user with password and access-key status: it is
 * wiped from memory the moment it arrives and never logged, stored or
 * printed.  Both calls are real but change nothing.  IAM is global: the
 * events land in us-east-1.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws.h"
#include "builtin.h"
#include "scenario.h"
#include "util.h"
#include "xmalloc.h"

#define IAM_REPORT_TIMEOUT	120.0	/* seconds, settings: report_timeout */
#define IAM_FIRST_DELAY		0.5
#define IAM_MAX_DELAY		8.0

struct iam_state {
	struct run_group	*poll;
	double			 deadline;
	double			 delay;
	int			 polls;
	int			 failed;
};

static void	 iam_get(struct run *);

/* Wipe the report in place, then drop it from the tree. */
static void
iam_discard(struct aws_result *res)
{
	json_t	*c;

	if (res->data == NULL || !json_is_object(res->data))
		return;
	if ((c = json_object_get(res->data, "Content")) != NULL &&
	    json_is_string(c))
		explicit_bzero((char *)json_string_value(c),
		    json_string_length(c));
	json_object_del(res->data, "Content");
}

static int
iam_not_ready(const char *code)
{
	return code != NULL && (strcmp(code, "ReportInProgress") == 0 ||
	    strcmp(code, "ReportNotPresent") == 0);
}

static void
iam_poll_again(struct run *run, void *arg)
{
	iam_get(run);
}

static void
iam_got(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	struct iam_state	*st = run_state(run);
	char			 why[256];

	iam_discard(res);
	if (res->outcome == AWS_OK) {
		run_note(run, NULL, "credential report complete after %d "
		    "poll%s; content discarded unread", st->polls,
		    st->polls == 1 ? "" : "s");
		return;
	}
	if (!iam_not_ready(res->error_code)) {
		run_error(run, NULL, "iam:GetCredentialReport failed (%s)",
		    scen_failure(res, why, sizeof(why)));
		return;
	}
	/* "Wait" is the expected answer while the report is built. */
	res->outcome = AWS_PERMITTED;
	if (now_real() + st->delay > st->deadline) {
		run_error(run, NULL, "credential report still not ready "
		    "after %d polls: gave up", st->polls);
		return;
	}
	run_progress(run, req->region, "waiting for the report");
	run_group_after(st->poll, st->delay, iam_poll_again, NULL);
	st->delay *= 2;
	if (st->delay > IAM_MAX_DELAY)
		st->delay = IAM_MAX_DELAY;
}

static void
iam_get(struct run *run)
{
	struct iam_state	*st = run_state(run);
	struct aws_request	*req;

	st->polls++;
	req = run_request(run, "iam", "GetCredentialReport",
	    run_home_region(run), AWS_SAFE_READ_ONLY);
	req->role = AWS_ROLE_SIGNAL;
	req->evidence = AWS_EVIDENCE_DOCUMENTED;
	run_group_call(st->poll, req, iam_got, NULL);
}

static void
iam_polled(struct run *run, void *arg)
{
	run_progress(run, run_home_region(run), "done");
	run_finish(run);
}

static void
iam_generated_cb(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	struct iam_state	*st = run_state(run);
	char			 why[256];

	if (res->outcome != AWS_OK) {
		st->failed = 1;
		run_error(run, NULL, "iam:GenerateCredentialReport failed "
		    "(%s): not polling", scen_failure(res, why, sizeof(why)));
	}
}

static void
iam_generated(struct run *run, void *arg)
{
	struct iam_state	*st = run_state(run);

	if (st->failed) {
		run_skip(run, "iam", "GetCredentialReport",
		    run_home_region(run), NULL, 0, "report generation failed");
		run_finish(run);
		return;
	}
	st->deadline = now_real() + scen_setting_num(run, "report_timeout",
	    IAM_REPORT_TIMEOUT);
	st->delay = IAM_FIRST_DELAY;
	st->poll = run_group_new(run, iam_polled, NULL);
	iam_get(run);
	run_group_close(st->poll);
}

static void
iam_start(struct run *run)
{
	struct run_group	*g;
	struct aws_request	*req;

	run_progress(run, run_home_region(run), "generating the report");
	g = run_group_new(run, iam_generated, NULL);
	req = run_request(run, "iam", "GenerateCredentialReport",
	    run_home_region(run), AWS_SAFE_READ_ONLY);
	req->role = AWS_ROLE_SIGNAL;
	req->evidence = AWS_EVIDENCE_DOCUMENTED;
	run_group_call(g, req, iam_generated_cb, NULL);
	run_group_close(g);
}

static const char *const iam_services[] = { "iam", NULL };
static const char *const iam_permissions[] = {
	"iam:GenerateCredentialReport",
	"iam:GetCredentialReport",
	NULL
};
static const char *const iam_mitre[] = {
	"T1087.004 Account Discovery: Cloud Account",
	"T1552 Unsecured Credentials",
	NULL
};
static const char *const iam_calls[] = {
	"iam:GenerateCredentialReport (changes nothing; once, global, "
	    "recorded in us-east-1)",
	"iam:GetCredentialReport (read-only; polled with backoff while "
	    "ReportInProgress; the content is discarded unread)",
	NULL
};

static const struct scenario_call_info iam_call_info[] = {
	{ "iam", "GenerateCredentialReport", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_DOCUMENTED, "CT-glob",
	    "global endpoint, us-east-1", NULL, NULL },
	{ "iam", "GetCredentialReport", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_DOCUMENTED, "CT-glob",
	    "global endpoint, us-east-1", NULL, NULL },
	{ NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL },
};

const struct scenario_def scenario_iam_credentials = {
	.name = "iam-credentials",
	.summary = "generate and download the IAM credential report "
	    "(discarded unread)",
	.description =
"The IAM credential report lists every user of the account with the state\n"
"of their password, MFA and access keys: an attacker's map of which\n"
"credentials are old, unused or unprotected.\n"
"\n"
"The scenario asks IAM to generate the report, then polls\n"
"GetCredentialReport with backoff while IAM answers ReportInProgress, until\n"
"the report arrives or a deadline passes.  The report is wiped from memory\n"
"as soon as it arrives: it is never logged, stored or printed.  IAM is a\n"
"global service, so CloudTrail records both events in us-east-1.",
	.services = iam_services,
	.permissions = iam_permissions,
	.mitre = iam_mitre,
	.calls = iam_calls,
	.start = iam_start,
	.state_size = sizeof(struct iam_state),
	.needs_regions = 0,
	.settings_help =
"report_timeout  seconds to wait for the report (default 120)",
	.tactic = "Credential Access",
	.tactic_id = "TA0006",
	.call_info = iam_call_info,
};
