/*
 * cloudtrail-tampering: defence evasion against the audit trail
 * (CloudSaga issue #9, never built there).
 *
 * In every enabled region, concurrently, on the trail "cloudsaga-<runid>"
 * (which cannot exist, so each call fails server-side with
 * TrailNotFoundException and changes nothing):
 *   cloudtrail:StopLogging
 *   cloudtrail:DeleteTrail
 *   cloudtrail:UpdateTrail        IncludeGlobalServiceEvents=false
 *   cloudtrail:PutEventSelectors  read-only events only, no management
 *                                 events
 */
#include <stdlib.h>

#include "aws.h"
#include "builtin.h"
#include "scenario.h"
#include "xmalloc.h"

#define CT_EXPECT	"TrailNotFoundException"

static void
ct_region_end(struct run *run, void *arg)
{
	scan_region_done(arg);
}

static void
ct_call(struct run_group *g, struct region_scan *rs, const char *action,
    json_t *input, const char *trail)
{
	struct aws_request	*req;
	const char		*key;
	json_t			*v;

	req = run_request(rs->run, "cloudtrail", action, rs->region,
	    AWS_SAFE_FAIL);
	json_object_foreach(input, key, v)
		aws_request_set(req, key, json_incref(v));
	json_decref(input);
	free(req->expect_error);
	req->expect_error = xstrdup(CT_EXPECT);
	req->role = AWS_ROLE_SIGNAL;
	/* Denied StopLogging/UpdateTrail records are seen in real trails. */
	req->evidence = AWS_EVIDENCE_OBSERVED;
	run_group_call_detail(g, req, trail, NULL, NULL);
}

static void
ct_start(struct run *run)
{
	struct region_scan	*rs;
	struct run_group	*all, *g;
	char			*trail;
	size_t			 i, n = run_nregions(run);

	rs = scan_regions_new(run, &all);
	*(struct region_scan **)run_state(run) = rs;
	trail = scen_safe_name(run);
	for (i = 0; i < n; i++) {
		run_progress(run, rs[i].region, "trail");
		g = run_group_new(run, ct_region_end, &rs[i]);
		ct_call(g, &rs[i], "StopLogging",
		    json_pack("{s:s}", "Name", trail), trail);
		ct_call(g, &rs[i], "DeleteTrail",
		    json_pack("{s:s}", "Name", trail), trail);
		ct_call(g, &rs[i], "UpdateTrail",
		    json_pack("{s:s, s:b}", "Name", trail,
		    "IncludeGlobalServiceEvents", 0), trail);
		ct_call(g, &rs[i], "PutEventSelectors",
		    json_pack("{s:s, s:[{s:s, s:b}]}", "TrailName", trail,
		    "EventSelectors", "ReadWriteType", "ReadOnly",
		    "IncludeManagementEvents", 0), trail);
		run_group_close(g);
	}
	free(trail);
	run_group_close(all);
}

static void
ct_cleanup(struct run *run)
{
	free(*(struct region_scan **)run_state(run));
}

static const char *const ct_services[] = { "cloudtrail", NULL };
static const char *const ct_permissions[] = {
	"ec2:DescribeRegions",
	"cloudtrail:StopLogging",
	"cloudtrail:DeleteTrail",
	"cloudtrail:UpdateTrail",
	"cloudtrail:PutEventSelectors",
	NULL
};
static const char *const ct_mitre[] = {
	"T1562.008 Impair Defenses: Disable or Modify Cloud Logs",
	NULL
};
static const char *const ct_calls[] = {
	"ec2:DescribeRegions (read-only, once: the enabled regions)",
	"cloudtrail:StopLogging on trail cloudsaga-<runid> (safe-fail: "
	    "TrailNotFoundException, every region)",
	"cloudtrail:DeleteTrail on the same trail (safe-fail, every region)",
	"cloudtrail:UpdateTrail IncludeGlobalServiceEvents=false (safe-fail, "
	    "every region)",
	"cloudtrail:PutEventSelectors read-only, no management events "
	    "(safe-fail, every region)",
	NULL
};

static const struct scenario_call_info ct_call_info[] = {
	{ "ec2", "DescribeRegions", AWS_SAFE_READ_ONLY,
	    AWS_ROLE_CONTEXT, AWS_EVIDENCE_DOCUMENTED, "CT-rec",
	    "home region, once", NULL, NULL },
	{ "cloudtrail", "StopLogging", AWS_SAFE_FAIL,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_OBSERVED, "CT-rec",
	    "every region",
	    "cloudsaga-<runid>", NULL },
	{ "cloudtrail", "DeleteTrail", AWS_SAFE_FAIL,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_OBSERVED, "CT-rec",
	    "every region",
	    "cloudsaga-<runid>", NULL },
	{ "cloudtrail", "UpdateTrail", AWS_SAFE_FAIL,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_OBSERVED, "CT-rec",
	    "every region",
	    "cloudsaga-<runid>", NULL },
	{ "cloudtrail", "PutEventSelectors", AWS_SAFE_FAIL,
	    AWS_ROLE_SIGNAL, AWS_EVIDENCE_OBSERVED, "CT-rec",
	    "every region",
	    "cloudsaga-<runid>", NULL },
	{ NULL, NULL, 0, 0, 0, NULL, NULL, NULL, NULL },
};
static const char *const ct_stratus[] = {
	"aws.defense-evasion.cloudtrail-stop",
	"aws.defense-evasion.cloudtrail-delete",
	"aws.defense-evasion.cloudtrail-event-selectors",
	NULL
};

const struct scenario_def scenario_cloudtrail_tampering = {
	.name = "cloudtrail-tampering",
	.summary = "stop, delete and blind CloudTrail trails (safe-fail, "
	    "every region)",
	.description =
"Attackers who get this far switch the audit trail off before they do\n"
"anything else: stop logging, delete the trail, drop global service\n"
"events, or filter management events out.\n"
"\n"
"In every enabled region the scenario sends StopLogging, DeleteTrail,\n"
"UpdateTrail (IncludeGlobalServiceEvents=false) and PutEventSelectors\n"
"(read-only events, no management events) for a trail named after the\n"
"run, cloudsaga-<runid>.  No such trail exists, so every call fails with\n"
"TrailNotFoundException and nothing changes; a detection that keys on\n"
"these event names should still fire.",
	.services = ct_services,
	.permissions = ct_permissions,
	.mitre = ct_mitre,
	.calls = ct_calls,
	.start = ct_start,
	.state_size = sizeof(struct region_scan *),
	.cleanup = ct_cleanup,
	.needs_regions = 1,
	.tactic = "Defense Evasion",
	.tactic_id = "TA0005",
	.stratus = ct_stratus,
	.call_info = ct_call_info,
};
