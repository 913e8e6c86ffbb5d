/*
 * scan: the per-region fan-out and instance listing the EC2 scenarios
 * share, and small helpers for every built-in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "builtin.h"
#include "log.h"
#include "scenario.h"
#include "xmalloc.h"

static void
scan_all_done(struct run *run, void *arg)
{
	run_finish(run);
}

struct region_scan *
scan_regions_new(struct run *run, struct run_group **all)
{
	struct region_scan	*v;
	const char *const	*regions = run_regions(run);
	size_t			 n = run_nregions(run), i;

	*all = run_group_new(run, scan_all_done, NULL);
	v = xcalloc(n + 1, sizeof(*v));
	for (i = 0; i < n; i++) {
		v[i].run = run;
		v[i].region = regions[i];
		v[i].all = *all;
		run_group_hold(*all);
	}
	return v;
}

void
scan_instances_everywhere(struct run *run, struct region_scan **rsp,
    void *data, size_t elem, scan_instance_cb per_instance,
    run_group_cb done)
{
	struct run_group	*all;
	size_t			 i, n = run_nregions(run);

	*rsp = scan_regions_new(run, &all);
	for (i = 0; i < n; i++) {
		(*rsp)[i].data = (char *)data + i * elem;
		scan_instances(&(*rsp)[i], per_instance, done);
	}
	run_group_close(all);
}

void
scan_region_done(struct region_scan *rs)
{
	run_progress(rs->run, rs->region, rs->failed ? "failed" : "done");
	run_group_release(rs->all);
}

const char *
scen_failure(const struct aws_result *res, char *buf, size_t len)
{
	if (res->error_code != NULL && res->status != 0)
		snprintf(buf, len, "%s (HTTP %ld)", res->error_code,
		    res->status);
	else if (res->error_code != NULL)
		snprintf(buf, len, "%s", res->error_code);
	else if (res->status != 0)
		snprintf(buf, len, "HTTP %ld", res->status);
	else
		snprintf(buf, len, "%s", http_error_name(res->http_error));
	if (res->attempts > 1 && strlen(buf) + 24 < len)
		snprintf(buf + strlen(buf), len - strlen(buf),
		    " after %d attempts", res->attempts);
	return buf;
}

void
scen_region_failed(struct region_scan *rs, const struct aws_request *req,
    const struct aws_result *res, const char *what)
{
	char	 why[256];

	rs->failed = 1;
	if (res->outcome == AWS_REGION_OFF)
		return;
	run_error(rs->run, rs->region, "%s:%s failed (%s): %s incomplete, "
	    "region not processed further", req->svc->id, req->action,
	    scen_failure(res, why, sizeof(why)), what);
}

static int
scan_state_active(const char *state)
{
	return state != NULL && (strcmp(state, "pending") == 0 ||
	    strcmp(state, "running") == 0 || strcmp(state, "stopping") == 0 ||
	    strcmp(state, "stopped") == 0);
}

static void
scan_page(struct run *run, const struct aws_request *req,
    struct aws_result *res, void *arg)
{
	struct region_scan	*rs = arg;
	json_t			*resv, *insts, *r, *inst;
	const char		*state;
	size_t			 i, j;

	if (rs->failed)
		return;
	if (res->outcome != AWS_OK) {
		scen_region_failed(rs, req, res, "instance listing");
		return;
	}
	resv = aws_json_list(aws_json_path(res->data, "reservationSet"));
	json_array_foreach(resv, i, r) {
		insts = aws_json_list(aws_json_path(r, "instancesSet"));
		json_array_foreach(insts, j, inst) {
			state = aws_json_str(inst, "instanceState.name");
			if (state != NULL && strcmp(state, "terminated") == 0)
				continue;
			rs->listed++;
			if (scan_state_active(state))
				rs->active++;
			if (rs->scan_cb != NULL)
				rs->scan_cb(rs, inst);
		}
		json_decref(insts);
	}
	json_decref(resv);
}

void
scan_instances(struct region_scan *rs, scan_instance_cb per_instance,
    run_group_cb done)
{
	struct run_group	*g;
	struct aws_request	*req;

	rs->scan_cb = per_instance;
	rs->scan_done = done;
	/* done gets rs as its argument. */
	g = run_group_new(rs->run, done, rs);
	req = run_request(rs->run, "ec2", "DescribeInstances", rs->region,
	    AWS_SAFE_READ_ONLY);
	req->role = AWS_ROLE_CONTEXT;
	aws_request_add(req, "MaxResults", "500");
	run_group_paginate(g, req, "NextToken", "nextToken", scan_page, rs);
	run_group_close(g);
}

char *
scen_safe_name(struct run *run)
{
	return xprintf("cloudsaga-%s", run_id(run));
}

json_t *
scen_setting(struct run *run, const char *key)
{
	json_t	*s = run_settings(run);

	if (s == NULL || !json_is_object(s))
		return NULL;
	return json_object_get(s, key);
}

double
scen_setting_num(struct run *run, const char *key, double def)
{
	json_t	*v = scen_setting(run, key);

	if (v == NULL || !json_is_number(v))
		return def;
	return json_number_value(v);
}
