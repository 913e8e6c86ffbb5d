/*
 * The run framework through the real client against a scripted AWS
 * endpoint on loopback (testsrv): region discovery and its filters,
 * pagination (and a repeated token), a region that is not enabled, a
 * region answering 5xx, the safety halt when DryRun is ignored, the live
 * switch, expectations, and the network-changes, mining-bitcoin,
 * iam-credentials and custom state machines call for call.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>
#include <libconfig.h>

#include "aws.h"
#include "buf.h"
#include "client.h"
#include "config_custom.h"
#include "creds.h"
#include "custom.h"
#include "http.h"
#include "scenario.h"
#include "testsrv.h"
#include "util.h"
#include "xmalloc.h"

#define MAXR	16
#define MAXLOG	512

/* ---- the scripted endpoint (runs on the server thread) ------------------ */

struct fake_region {
	const char	*name;
	const char	*optin;		/* NULL: opt-in-not-required */
	int		 instances;	/* running instances */
	int		 terminated;	/* terminated instances */
	int		 nvpcs;
	int		 fail500;	/* every EC2 call answers 500 */
	int		 authfail;	/* every call answers AuthFailure */
};

struct fake {
	pthread_mutex_t		 lock;
	struct fake_region	 r[MAXR];
	size_t			 nr;
	int			 pages;		/* DescribeInstances pages */
	int			 repeat_token;	/* the same nextToken forever */
	int			 ignore_dryrun;	/* CreateVpc DryRun -> 200 */
	int			 report_waits;	/* ReportInProgress answers */
	int			 trail_ok;	/* StopLogging answers 200 */
	char			*log[MAXLOG];	/* "region Action k=v&..." */
	size_t			 nlog;
	unsigned		 reqid;
};

static struct fake	 F;

static void
fake_reset(void)
{
	size_t	 i;

	pthread_mutex_lock(&F.lock);
	for (i = 0; i < F.nlog; i++)
		free(F.log[i]);
	memset(F.r, 0, sizeof(F.r));
	F.nr = 0;
	F.nlog = 0;
	F.pages = 1;
	F.repeat_token = F.ignore_dryrun = F.report_waits = F.trail_ok = 0;
	pthread_mutex_unlock(&F.lock);
}

static struct fake_region *
fake_add(const char *name)
{
	struct fake_region	*r = &F.r[F.nr++];

	memset(r, 0, sizeof(*r));
	r->name = name;
	r->nvpcs = 1;
	return r;
}

static struct fake_region *
fake_region(const char *name)
{
	size_t	 i;

	for (i = 0; i < F.nr; i++)
		if (strcmp(F.r[i].name, name) == 0)
			return &F.r[i];
	return NULL;
}

/* Form body -> value of key (decoded, static buffer per call). */
static const char *
form_get(const char *body, const char *key, char *out, size_t len)
{
	const char	*p = body, *amp, *eq;
	char		*k, *v;

	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		eq = strchr(p, '=');
		if (eq != NULL && (amp == NULL || eq < amp)) {
			k = uri_decode(p, (size_t)(eq - p), 1);
			if (strcmp(k, key) == 0) {
				v = uri_decode(eq + 1, amp ? (size_t)(amp -
				    eq - 1) : strlen(eq + 1), 1);
				snprintf(out, len, "%s", v);
				free(k);
				free(v);
				return out;
			}
			free(k);
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static void
scope_region(const struct testsrv_req *req, char *out, size_t len)
{
	const char	*a = testsrv_req_header(req, "Authorization");
	const char	*c, *s;
	int		 slash = 0;

	snprintf(out, len, "?");
	if (a == NULL || (c = strstr(a, "Credential=")) == NULL)
		return;
	for (s = c; *s != '\0' && *s != ','; s++) {
		if (*s != '/')
			continue;
		if (++slash == 2) {
			size_t n = strcspn(s + 1, "/");

			snprintf(out, len, "%.*s", (int)n, s + 1);
			return;
		}
	}
}

static void
reply_xml(struct testsrv_resp *resp, int status, struct buf *b)
{
	testsrv_reply(resp, status, "text/xml", b->data, b->len);
	buf_free(b);
}

static void
reply_error(struct testsrv_resp *resp, int status, const char *code,
    unsigned id)
{
	struct buf	 b;

	buf_init(&b);
	buf_printf(&b, "<Response><Errors><Error><Code>%s</Code><Message>m"
	    "</Message></Error></Errors><RequestID>r-%u</RequestID>"
	    "</Response>", code, id);
	reply_xml(resp, status, &b);
}

static void
reply_query_error(struct testsrv_resp *resp, int status, const char *code,
    unsigned id)
{
	struct buf	 b;

	buf_init(&b);
	buf_printf(&b, "<ErrorResponse><Error><Type>Sender</Type><Code>%s"
	    "</Code><Message>m</Message></Error><RequestId>r-%u</RequestId>"
	    "</ErrorResponse>", code, id);
	reply_xml(resp, status, &b);
}

static void
reply_json(struct testsrv_resp *resp, int status, const char *body)
{
	testsrv_resp_header(resp, "x-amzn-RequestId: r-json");
	testsrv_reply(resp, status, "application/x-amz-json-1.1", body,
	    strlen(body));
}

static void
fake_ec2(const struct testsrv_req *req, struct testsrv_resp *resp,
    const char *region, const char *action, unsigned id)
{
	struct fake_region	*r = fake_region(region);
	struct buf		 b;
	char			 v[256];
	int			 page = 0, i;

	buf_init(&b);
	if (strcmp(action, "DescribeRegions") == 0) {
		buf_printf(&b, "<DescribeRegionsResponse><requestId>r-%u"
		    "</requestId><regionInfo>", id);
		for (i = 0; i < (int)F.nr; i++)
			buf_printf(&b, "<item><regionName>%s</regionName>"
			    "<optInStatus>%s</optInStatus></item>",
			    F.r[i].name, F.r[i].optin ? F.r[i].optin :
			    "opt-in-not-required");
		buf_printf(&b, "</regionInfo></DescribeRegionsResponse>");
		reply_xml(resp, 200, &b);
		return;
	}
	if (r == NULL || r->authfail) {
		reply_error(resp, 401, "AuthFailure", id);
		return;
	}
	if (r->fail500) {
		reply_error(resp, 500, "InternalError", id);
		return;
	}
	if (form_get(req->body, "DryRun", v, sizeof(v)) != NULL &&
	    strcmp(v, "true") == 0) {
		if (F.ignore_dryrun && strcmp(action, "CreateVpc") == 0) {
			buf_printf(&b, "<CreateVpcResponse><requestId>r-%u"
			    "</requestId><vpc><vpcId>vpc-new</vpcId></vpc>"
			    "</CreateVpcResponse>", id);
			reply_xml(resp, 200, &b);
			return;
		}
		reply_error(resp, 412, "DryRunOperation", id);
		return;
	}
	if (strcmp(action, "DescribeInstances") == 0) {
		if (form_get(req->body, "NextToken", v, sizeof(v)) != NULL)
			page = atoi(v + 1);
		buf_printf(&b, "<DescribeInstancesResponse><requestId>r-%u"
		    "</requestId><reservationSet>", id);
		/* Instances only on the last page. */
		if (page == F.pages - 1 || F.repeat_token) {
			for (i = 0; i < r->instances + r->terminated; i++)
				buf_printf(&b, "<item><instancesSet><item>"
				    "<instanceId>i-%s-%d</instanceId>"
				    "<instanceState><name>%s</name>"
				    "</instanceState><metadataOptions>"
				    "<httpTokens>%s</httpTokens>"
				    "</metadataOptions>%s</item>"
				    "</instancesSet></item>", region, i,
				    i < r->instances ? "running" :
				    "terminated", i % 2 ? "required" :
				    "optional", i == 0 ?
				    "<ipAddress>54.1.2.3</ipAddress>" : "");
		}
		buf_printf(&b, "</reservationSet>");
		if (F.repeat_token)
			buf_printf(&b, "<nextToken>same</nextToken>");
		else if (page < F.pages - 1)
			buf_printf(&b, "<nextToken>t%d</nextToken>", page + 1);
		buf_printf(&b, "</DescribeInstancesResponse>");
		reply_xml(resp, 200, &b);
		return;
	}
	if (strcmp(action, "DescribeVpcs") == 0) {
		buf_printf(&b, "<DescribeVpcsResponse><requestId>r-%u"
		    "</requestId><vpcSet>", id);
		/* Reverse order: the scenario sorts. */
		for (i = r->nvpcs - 1; i >= 0; i--)
			buf_printf(&b, "<item><vpcId>vpc-%d</vpcId></item>", i);
		buf_printf(&b, "</vpcSet></DescribeVpcsResponse>");
		reply_xml(resp, 200, &b);
		return;
	}
	if (strcmp(action, "DescribeSecurityGroups") == 0) {
		buf_printf(&b, "<DescribeSecurityGroupsResponse><requestId>"
		    "r-%u</requestId><securityGroupInfo>", id);
		for (i = 0; i < r->nvpcs; i++)
			buf_printf(&b, "<item><groupId>sg-%d</groupId>"
			    "<groupName>default</groupName><vpcId>vpc-%d"
			    "</vpcId></item>", i, i);
		buf_printf(&b, "</securityGroupInfo>"
		    "</DescribeSecurityGroupsResponse>");
		reply_xml(resp, 200, &b);
		return;
	}
	reply_error(resp, 400, "InvalidAction", id);
}

static void
fake_handler(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	const char	*target = testsrv_req_header(req, "X-Amz-Target");
	char		 region[64], action[128], v[256];
	struct buf	 b;
	unsigned	 id;
	struct fake_region *r;

	scope_region(req, region, sizeof(region));
	pthread_mutex_lock(&F.lock);
	id = ++F.reqid;
	if (target != NULL)
		snprintf(action, sizeof(action), "%s", strrchr(target, '.') ?
		    strrchr(target, '.') + 1 : target);
	else if (form_get(req->body, "Action", action, sizeof(action)) ==
	    NULL)
		snprintf(action, sizeof(action), "?");
	if (F.nlog < MAXLOG)
		F.log[F.nlog++] = xprintf("%s %s %s", region, action,
		    req->body);

	r = fake_region(region);
	if (target != NULL) {
		/* JSON services (CloudTrail, SSM). */
		if (r != NULL && r->authfail)
			reply_json(resp, 400,
			    "{\"__type\":\"UnrecognizedClientException\"}");
		else if (strcmp(action, "DescribeParameters") == 0) {
			const char *t = strstr(req->body, "\"NextToken\":\"");

			reply_json(resp, 200, t == NULL ?
			    "{\"Parameters\":[],\"NextToken\":\"p1\"}" :
			    strncmp(t + 13, "p1", 2) == 0 ?
			    "{\"Parameters\":[],\"NextToken\":\"p2\"}" :
			    "{\"Parameters\":[]}");
		} else if (strcmp(action, "GetParameter") == 0) {
			buf_init(&b);
			buf_printf(&b, "{\"Parameter\":{\"Value\":"
			    "\"ami-%s\"}}", region);
			reply_json(resp, 200, b.data);
			buf_free(&b);
		} else if (F.trail_ok)
			reply_json(resp, 200, "{}");
		else
			reply_json(resp, 400, "{\"__type\":"
			    "\"TrailNotFoundException\",\"message\":"
			    "\"Unknown trail\"}");
	} else if (strcmp(action, "ListUsers") == 0) {
		/* Three pages by Marker; the last says IsTruncated=false but
		 * still carries a Marker (must not be followed). */
		int	 page = 0;

		if (form_get(req->body, "Marker", v, sizeof(v)) != NULL)
			page = atoi(v + 1);
		buf_init(&b);
		buf_printf(&b, "<ListUsersResponse><ListUsersResult><Users>"
		    "<member><UserName>u%d</UserName></member></Users>"
		    "<IsTruncated>%s</IsTruncated><Marker>m%d</Marker>"
		    "</ListUsersResult><ResponseMetadata><RequestId>r-%u"
		    "</RequestId></ResponseMetadata></ListUsersResponse>",
		    page, page < 2 ? "true" : "false", page + 1, id);
		reply_xml(resp, 200, &b);
	} else if (strncmp(action, "GenerateCredentialReport", 24) == 0) {
		buf_init(&b);
		buf_printf(&b, "<GenerateCredentialReportResponse>"
		    "<GenerateCredentialReportResult><State>STARTED</State>"
		    "</GenerateCredentialReportResult><ResponseMetadata>"
		    "<RequestId>r-%u</RequestId></ResponseMetadata>"
		    "</GenerateCredentialReportResponse>", id);
		reply_xml(resp, 200, &b);
	} else if (strcmp(action, "GetCredentialReport") == 0) {
		if (F.report_waits > 0) {
			F.report_waits--;
			reply_query_error(resp, 404, "ReportInProgress", id);
		} else {
			buf_init(&b);
			buf_printf(&b, "<GetCredentialReportResponse>"
			    "<GetCredentialReportResult><Content>"
			    "dXNlcixhcm4Kcm9vdCxhcm46c2VjcmV0Cg==</Content>"
			    "<ReportFormat>text/csv</ReportFormat>"
			    "</GetCredentialReportResult><ResponseMetadata>"
			    "<RequestId>r-%u</RequestId></ResponseMetadata>"
			    "</GetCredentialReportResponse>", id);
			reply_xml(resp, 200, &b);
		}
	} else if (form_get(req->body, "Version", v, sizeof(v)) != NULL &&
	    strcmp(v, "2016-11-15") == 0)
		fake_ec2(req, resp, region, action, id);
	else
		reply_query_error(resp, 400, "InvalidAction", id);
	pthread_mutex_unlock(&F.lock);
}

/* ---- driving a run -------------------------------------------------------- */

struct env {
	struct testsrv		*srv;
	struct event_base	*base;
	struct http_engine	*http;
	struct aws_client	*client;
	struct creds_provider	*creds;
};

struct seen {
	int	 done;
	int	 halted;
	int	 expects;
	int	 findings;
	int	 calls_hooked;
};

static void
hook_done(struct run *run, int halted, void *arg)
{
	struct seen	*s = arg;

	s->done = 1;
	s->halted = halted;
}

static void
hook_expect(struct run *run, const struct expectation *e, void *arg)
{
	((struct seen *)arg)->expects++;
}

static void
hook_finding(struct run *run, const struct run_finding *f, void *arg)
{
	((struct seen *)arg)->findings++;
}

static void
hook_call(struct run *run, const struct run_call *c, void *arg)
{
	((struct seen *)arg)->calls_hooked++;
}

static int
setup(void **state)
{
	struct env		*e = xcalloc(1, sizeof(*e));
	struct aws_client_opts	 o;

	fake_reset();
	e->srv = testsrv_start();
	testsrv_route(e->srv, "POST", "/", fake_handler, NULL);
	e->base = event_base_new();
	e->http = http_engine_new(e->base, NULL);
	memset(&o, 0, sizeof(o));
	o.endpoints.endpoint_url = xstrdup(testsrv_url(e->srv, NULL));
	o.max_attempts = 2;
	e->client = aws_client_new(e->base, e->http, &o);
	free((char *)o.endpoints.endpoint_url);
	e->creds = creds_static("AKIDEXAMPLETESTKEY00", "secret", NULL);
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env	*e = *state;

	creds_provider_free(e->creds);
	aws_client_free(e->client);
	http_engine_free(e->http);
	event_base_free(e->base);
	testsrv_free(e->srv);
	free(e);
	fake_reset();
	return 0;
}

static struct run *
run_it(struct env *e, const struct scenario_def *d, struct run_opts *o,
    struct seen *s)
{
	struct run_hooks	 h;
	struct run		*run;
	double			 t0 = now_mono();

	memset(&h, 0, sizeof(h));
	memset(s, 0, sizeof(*s));
	h.done = hook_done;
	h.expect = hook_expect;
	h.finding = hook_finding;
	h.call = hook_call;
	h.arg = s;
	o->base = e->base;
	o->client = e->client;
	o->creds = e->creds;
	if (o->home_region == NULL)
		o->home_region = "us-east-1";
	run = run_start(d, o, &h);
	assert_non_null(run);
	while (!s->done && now_mono() - t0 < 60)
		event_base_loop(e->base, EVLOOP_ONCE);
	assert_true(s->done);
	return run;
}

/* Calls of one region and action in the server's log. */
static int
logged(const char *region, const char *action, const char *contains)
{
	char	 prefix[128];
	size_t	 i;
	int	 n = 0;

	snprintf(prefix, sizeof(prefix), "%s %s ", region, action);
	pthread_mutex_lock(&F.lock);
	for (i = 0; i < F.nlog; i++)
		if (strncmp(F.log[i], prefix, strlen(prefix)) == 0 &&
		    (contains == NULL || strstr(F.log[i], contains) != NULL))
			n++;
	pthread_mutex_unlock(&F.lock);
	return n;
}

static int
nlogged(void)
{
	int	 n;

	pthread_mutex_lock(&F.lock);
	n = (int)F.nlog;
	pthread_mutex_unlock(&F.lock);
	return n;
}

/* The nth call of region and action, in issue order. */
static const struct run_call *
find_call(struct run *run, const char *region, const char *action, int nth)
{
	const struct run_call *const	*v;
	const struct run_call		**s, *r = NULL;
	size_t				 n, i;

	v = run_calls(run, &n);
	s = xcalloc(n + 1, sizeof(*s));
	memcpy(s, v, n * sizeof(*s));
	run_calls_sort(s, n);
	for (i = 0; i < n; i++)
		if (strcmp(s[i]->region, region) == 0 &&
		    strcmp(s[i]->action, action) == 0 && nth-- == 0) {
			r = s[i];
			break;
		}
	free(s);
	return r;
}

static int
has_note(struct run *run, const char *region, const char *text, int error)
{
	const struct run_note	*v;
	size_t			 n, i;

	v = run_notes(run, &n);
	for (i = 0; i < n; i++)
		if (((region == NULL && v[i].region == NULL) ||
		    (region != NULL && v[i].region != NULL &&
		    strcmp(region, v[i].region) == 0)) &&
		    strstr(v[i].msg, text) != NULL && v[i].error == error)
			return 1;
	return 0;
}

/* ---- tests ---------------------------------------------------------------- */

static void
test_network_changes(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run		*run;
	struct run_summary	 sum;
	const struct run_call	*c;
	size_t			 i;

	fake_add("us-east-1")->instances = 1;
	fake_add("eu-west-1")->instances = 2;
	F.r[1].nvpcs = 3;
	fake_add("ap-south-1")->terminated = 2;		/* counts as empty */
	fake_add("ap-east-1")->optin = "not-opted-in";	/* not enabled */
	fake_add("me-central-1")->optin = "opted-in";
	F.pages = 3;

	memset(&o, 0, sizeof(o));
	run = run_it(e, scenario_find("network-changes"), &o, &s);
	assert_false(s.halted);

	/* Discovery: enabled regions only, sorted. */
	assert_int_equal(run_nregions(run), 4);
	assert_string_equal(run_regions(run)[0], "ap-south-1");
	assert_string_equal(run_regions(run)[1], "eu-west-1");
	assert_string_equal(run_regions(run)[2], "me-central-1");
	assert_string_equal(run_regions(run)[3], "us-east-1");
	assert_int_equal(logged("us-east-1", "DescribeRegions",
	    "AllRegions=false"), 1);
	assert_int_equal(logged("ap-east-1", "DescribeInstances", NULL), 0);

	/* Paginated: three pages per region. */
	for (i = 0; i < 4; i++)
		assert_int_equal(logged(run_regions(run)[i],
		    "DescribeInstances", NULL), 3);
	assert_int_equal(logged("eu-west-1", "DescribeInstances",
	    "NextToken=t2"), 1);

	/* Empty regions: one CreateVpc each, nothing else. */
	assert_int_equal(logged("ap-south-1", "CreateVpc",
	    "CidrBlock=192.168.220.0%2F24"), 1);
	assert_int_equal(logged("me-central-1", "CreateVpc", "DryRun=true"),
	    1);
	assert_int_equal(logged("ap-south-1", "DescribeVpcs", NULL), 0);
	assert_int_equal(logged("us-east-1", "CreateVpc", NULL), 0);
	assert_int_equal(logged("eu-west-1", "CreateVpc", NULL), 0);

	/* Regions with instances: every VPC, each default group. */
	assert_int_equal(logged("eu-west-1", "DescribeVpcs", NULL), 1);
	assert_int_equal(logged("eu-west-1", "DescribeSecurityGroups",
	    "Filter.1.Value.1=default"), 1);
	assert_int_equal(logged("eu-west-1", "CreateSecurityGroup",
	    "DryRun=true"), 3);
	assert_int_equal(logged("eu-west-1", "CreateSecurityGroup",
	    "VpcId=vpc-2"), 1);
	assert_int_equal(logged("eu-west-1", "AuthorizeSecurityGroupIngress",
	    "GroupId=sg-2"), 1);
	assert_int_equal(logged("eu-west-1", "AuthorizeSecurityGroupIngress",
	    "CidrIp=0.0.0.0%2F0"), 3);
	assert_int_equal(logged("us-east-1", "CreateSecurityGroup", NULL), 1);
	assert_int_equal(logged("us-east-1", "AuthorizeSecurityGroupIngress",
	    NULL), 1);
	/* DescribeRegions, 4 x 3 pages, 2 CreateVpc, us-east-1 2 + 1 + 1,
	 * eu-west-1 2 + 3 + 3: 27 calls, nothing more. */
	assert_int_equal(nlogged(), 27);

	/* The table: deterministic order, DryRun permitted. */
	c = find_call(run, "eu-west-1", "CreateSecurityGroup", 0);
	assert_string_equal(c->detail, "vpc-0");
	assert_int_equal(c->outcome, RUN_PERMITTED);
	assert_string_equal(c->error_code, "DryRunOperation");
	assert_true(c->expected && c->intended);
	c = find_call(run, "eu-west-1", "CreateSecurityGroup", 2);
	assert_string_equal(c->detail, "vpc-2");

	run_summarize(run, &sum);
	assert_true(sum.ok);
	assert_int_equal(sum.calls, 27);
	assert_int_equal(sum.permitted, 27);
	assert_int_equal(sum.expectations, 27);
	assert_int_equal(s.expects, 27);
	assert_int_equal(s.calls_hooked, 27);
	assert_string_equal(run_expectations(run, &i)[0]->scenario,
	    "network-changes");
	run_free(run);
}

static void
test_region_failures_isolated(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run		*run;
	struct run_summary	 sum;
	const struct run_call	*c;
	char			**failed;

	fake_add("us-east-1");
	fake_add("eu-west-1")->fail500 = 1;
	/* An opt-in region that answers AuthFailure: not enabled for us (in
	 * one of the 17 default regions AuthFailure means bad keys). */
	fake_add("me-south-1")->authfail = 1;
	F.r[2].optin = "opted-in";
	fake_add("sa-east-1");

	memset(&o, 0, sizeof(o));
	run = run_it(e, scenario_find("network-changes"), &o, &s);
	/* The others completed. */
	assert_int_equal(logged("us-east-1", "CreateVpc", NULL), 1);
	assert_int_equal(logged("sa-east-1", "CreateVpc", NULL), 1);
	/* eu-west-1: two attempts of DescribeInstances, nothing after. */
	assert_int_equal(logged("eu-west-1", "DescribeInstances", NULL), 2);
	assert_int_equal(logged("eu-west-1", "CreateVpc", NULL), 0);
	c = find_call(run, "eu-west-1", "DescribeInstances", 0);
	assert_int_equal(c->outcome, RUN_ERROR);
	assert_false(c->expected);
	assert_true(has_note(run, "eu-west-1", "ec2:DescribeInstances failed "
	    "(InternalError (HTTP 500) after 2 attempts)", 1));
	/* me-south-1: not enabled, skipped with a note, not a failure. */
	c = find_call(run, "me-south-1", "DescribeInstances", 0);
	assert_int_equal(c->outcome, RUN_SKIPPED);
	assert_true(c->intended);
	assert_false(c->expected);
	assert_true(has_note(run, "me-south-1", "region not enabled "
	    "(AuthFailure)", 0));
	assert_int_equal(logged("me-south-1", "CreateVpc", NULL), 0);

	run_summarize(run, &sum);
	assert_false(sum.ok);
	assert_int_equal(sum.errors, 1);
	failed = run_failed_regions(run);
	assert_string_equal(failed[0], "eu-west-1");
	assert_null(failed[1]);
	free(failed[0]);
	free(failed);
	run_free(run);
}

static void
test_filters_and_explicit(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run		*run;
	const char *const	 inc[] = { "eu-*", "us-east-1", "xx-nowhere-9",
	    NULL };
	const char *const	 exc[] = { "eu-central-*", NULL };
	const char *const	 expl[] = { "us-west-2", "eu-west-1",
	    "us-west-2", NULL };

	fake_add("us-east-1");
	fake_add("us-west-2");
	fake_add("eu-west-1");
	fake_add("eu-central-1");
	fake_add("eu-central-2");

	memset(&o, 0, sizeof(o));
	o.include = inc;
	o.exclude = exc;
	run = run_it(e, scenario_find("cloudtrail-tampering"), &o, &s);
	assert_int_equal(run_nregions(run), 2);
	assert_string_equal(run_regions(run)[0], "eu-west-1");
	assert_string_equal(run_regions(run)[1], "us-east-1");
	assert_true(has_note(run, "xx-nowhere-9", "not an enabled region", 0));
	assert_int_equal(logged("us-west-2", "StopLogging", NULL), 0);
	assert_int_equal(logged("eu-central-1", "StopLogging", NULL), 0);
	run_free(run);

	/* An explicit list skips discovery (exclude still applies). */
	fake_reset();
	fake_add("us-west-2");
	fake_add("eu-west-1");
	memset(&o, 0, sizeof(o));
	o.regions = expl;
	o.exclude = (const char *const[]){ "us-*", NULL };
	run = run_it(e, scenario_find("cloudtrail-tampering"), &o, &s);
	assert_int_equal(logged("us-east-1", "DescribeRegions", NULL), 0);
	assert_int_equal(run_nregions(run), 1);
	assert_string_equal(run_regions(run)[0], "eu-west-1");
	run_free(run);
}

static void
test_cloudtrail_tampering(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run		*run;
	struct run_summary	 sum;
	const struct run_call	*c;
	char			 trail[64];

	fake_add("us-east-1");
	fake_add("eu-west-1");
	memset(&o, 0, sizeof(o));
	o.run_id = "00112233445566778899aabbccddeeff";
	run = run_it(e, scenario_find("cloudtrail-tampering"), &o, &s);
	snprintf(trail, sizeof(trail), "cloudsaga-%s", o.run_id);
	assert_int_equal(logged("eu-west-1", "StopLogging", trail), 1);
	assert_int_equal(logged("eu-west-1", "DeleteTrail", trail), 1);
	assert_int_equal(logged("us-east-1", "UpdateTrail",
	    "\"IncludeGlobalServiceEvents\":false"), 1);
	assert_int_equal(logged("us-east-1", "PutEventSelectors",
	    "\"IncludeManagementEvents\":false"), 1);
	c = find_call(run, "eu-west-1", "DeleteTrail", 0);
	assert_int_equal(c->outcome, RUN_PERMITTED);
	assert_int_equal(c->safety, AWS_SAFE_FAIL);
	assert_string_equal(c->detail, trail);
	run_summarize(run, &sum);
	assert_true(sum.ok);
	assert_int_equal(sum.expectations, 9);
	assert_string_equal(run_expectations(run, &sum.calls)[1]->error_code,
	    "TrailNotFoundException");
	run_free(run);

	/* An endpoint that does not check the trail: not as intended. */
	fake_reset();
	fake_add("us-east-1");
	F.trail_ok = 1;
	memset(&o, 0, sizeof(o));
	run = run_it(e, scenario_find("cloudtrail-tampering"), &o, &s);
	c = find_call(run, "us-east-1", "StopLogging", 0);
	assert_int_equal(c->outcome, RUN_ERROR);
	assert_non_null(strstr(c->note, "expected: the endpoint did not "
	    "check that the target exists"));
	run_summarize(run, &sum);
	assert_false(sum.ok);
	run_free(run);
}

static void
test_repeated_token(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run		*run;
	struct run_summary	 sum;

	fake_add("us-east-1");
	F.repeat_token = 1;
	memset(&o, 0, sizeof(o));
	run = run_it(e, scenario_find("imds-reveal"), &o, &s);
	/* First page, then the page with "same", which repeats: stop. */
	assert_int_equal(logged("us-east-1", "DescribeInstances", NULL), 2);
	assert_true(has_note(run, "us-east-1", "the same pagination token "
	    "came back twice", 1));
	run_summarize(run, &sum);
	assert_false(sum.ok);
	run_free(run);
}

static void
test_dryrun_ignored_halts(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run		*run;
	struct run_summary	 sum;
	const struct run_call	*c;

	fake_add("us-east-1");
	F.ignore_dryrun = 1;
	memset(&o, 0, sizeof(o));
	run = run_it(e, scenario_find("network-changes"), &o, &s);
	assert_true(s.halted);
	assert_true(run_halted(run));
	c = find_call(run, "us-east-1", "CreateVpc", 0);
	assert_int_equal(c->aws_outcome, AWS_UNSAFE);
	assert_int_equal(c->outcome, RUN_ERROR);
	assert_non_null(strstr(c->note, "SAFETY"));
	assert_true(has_note(run, NULL, "halted: safety", 1));
	run_summarize(run, &sum);
	assert_true(sum.halted);
	assert_false(sum.ok);
	run_free(run);
}

static void
test_mining_bitcoin(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run		*run;

	fake_add("us-east-1")->instances = 1;
	fake_add("eu-west-1");
	memset(&o, 0, sizeof(o));
	run = run_it(e, scenario_find("mining-bitcoin"), &o, &s);
	assert_int_equal(logged("eu-west-1", "GetParameter",
	    "al2023-ami-kernel-default-x86_64"), 1);
	assert_int_equal(logged("eu-west-1", "RunInstances",
	    "ImageId=ami-eu-west-1"), 1);
	assert_int_equal(logged("eu-west-1", "RunInstances",
	    "InstanceType=c5.24xlarge"), 1);
	assert_int_equal(logged("eu-west-1", "RunInstances",
	    "TagSpecification.1.ResourceType=instance"), 1);
	assert_int_equal(logged("us-east-1", "GetParameter", NULL), 0);
	assert_int_equal(logged("us-east-1", "RunInstances", NULL), 0);
	assert_true(has_note(run, "us-east-1", "1 instance in use", 0));
	run_free(run);
}

static void
test_imds_findings(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run		*run;

	fake_add("us-east-1")->instances = 3;	/* optional, required, opt */
	F.r[0].terminated = 1;
	memset(&o, 0, sizeof(o));
	run = run_it(e, scenario_find("imds-reveal"), &o, &s);
	assert_int_equal(s.findings, 2);
	assert_true(has_note(run, "us-east-1", "3 instances: 2 allow IMDSv1, "
	    "1 IMDSv2 only", 0));
	assert_true(has_note(run, NULL, "probing off", 0));
	run_free(run);
}

static void
test_iam_polls(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run		*run;
	struct run_summary	 sum;
	const struct run_call	*c;
	const struct expectation *const *ex;
	size_t			 n;
	double			 t0 = now_mono();

	F.report_waits = 2;
	memset(&o, 0, sizeof(o));
	o.home_region = "eu-west-1";
	run = run_it(e, scenario_find("iam-credentials"), &o, &s);
	/* 0.5 s + 1 s of backoff between the three polls. */
	assert_true(now_mono() - t0 >= 1.4);
	assert_int_equal(logged("us-east-1", "GetCredentialReport", NULL), 3);
	assert_int_equal(logged("us-east-1", "GenerateCredentialReport",
	    NULL), 1);
	c = find_call(run, "eu-west-1", "GetCredentialReport", 0);
	assert_int_equal(c->outcome, RUN_PERMITTED);
	assert_string_equal(c->error_code, "ReportInProgress");
	assert_true(c->global);
	run_summarize(run, &sum);
	assert_true(sum.ok);
	assert_int_equal(sum.calls, 4);
	ex = run_expectations(run, &n);
	assert_int_equal(n, 4);
	assert_string_equal(ex[0]->region, "us-east-1");
	assert_string_equal(ex[0]->event_source, "iam.amazonaws.com");
	run_free(run);
}

static void
test_custom_live_refused(void **state)
{
	struct env			*e = *state;
	struct run_opts			 o;
	struct seen			 s;
	struct run			*run;
	struct custom_scenario		*cs;
	config_t			 cfg;
	char				*cause = NULL;
	const struct run_call		*c;

	config_init(&cfg);
	assert_int_equal(config_read_string(&cfg,
"x = { name = \"u\"; summary = \"s\"; allow_live = true;\n"
"  steps = ( { service = \"ec2\"; action = \"DescribeVpcs\";\n"
"              regions = [ \"eu-west-1\", \"us-west-1\" ]; },\n"
"            { service = \"iam\"; action = \"CreateUser\"; safety = \"live\";\n"
"              params = { UserName = \"u-{run_id}\"; }; } ); };\n"),
	    CONFIG_TRUE);
	cs = config_custom_from_setting(config_lookup(&cfg, "x"), &cause);
	if (cs == NULL)
		fail_msg("%s", cause);
	fake_add("eu-west-1");
	fake_add("us-east-1");
	memset(&o, 0, sizeof(o));
	o.custom = cs;
	o.allow_live = 0;	/* the run does not allow live calls */
	run = run_it(e, custom_def(cs), &o, &s);
	assert_int_equal(logged("eu-west-1", "DescribeVpcs", NULL), 1);
	c = find_call(run, "us-west-1", "DescribeVpcs", 0);
	assert_int_equal(c->outcome, RUN_SKIPPED);
	assert_true(c->intended);
	c = find_call(run, "us-east-1", "CreateUser", 0);
	assert_int_equal(c->outcome, RUN_SKIPPED);
	assert_false(c->intended);
	assert_non_null(strstr(c->note, "live calls are not enabled"));
	assert_int_equal(logged("us-east-1", "CreateUser", NULL), 0);
	run_free(run);
	custom_free(cs);
	config_destroy(&cfg);
}

static void
test_custom_pagination(void **state)
{
	struct env			*e = *state;
	struct run_opts			 o;
	struct seen			 s;
	struct run			*run;
	struct custom_scenario		*cs;
	config_t			 cfg;
	char				*cause = NULL;
	struct run_summary		 sum;

	config_init(&cfg);
	assert_int_equal(config_read_string(&cfg,
"x = { name = \"pages\"; summary = \"s\";\n"
"  steps = ( { service = \"iam\"; action = \"ListUsers\"; },\n"
"            { service = \"ssm\"; action = \"DescribeParameters\";\n"
"              regions = \"global\"; } ); };\n"), CONFIG_TRUE);
	cs = config_custom_from_setting(config_lookup(&cfg, "x"), &cause);
	if (cs == NULL)
		fail_msg("%s", cause);
	memset(&o, 0, sizeof(o));
	o.custom = cs;
	run = run_it(e, custom_def(cs), &o, &s);
	/* IAM: Marker m1, m2, then IsTruncated=false stops. */
	assert_int_equal(logged("us-east-1", "ListUsers", NULL), 3);
	assert_int_equal(logged("us-east-1", "ListUsers", "Marker=m2"), 1);
	assert_int_equal(logged("us-east-1", "ListUsers", "Marker=m3"), 0);
	/* JSON: NextToken p1, p2, then none. */
	assert_int_equal(logged("us-east-1", "DescribeParameters", NULL), 3);
	assert_int_equal(logged("us-east-1", "DescribeParameters",
	    "\"NextToken\":\"p2\""), 1);
	run_summarize(run, &sum);
	assert_true(sum.ok);
	assert_int_equal(sum.calls, 6);
	run_free(run);
	custom_free(cs);
	config_destroy(&cfg);
}

static void
test_abort(void **state)
{
	struct env		*e = *state;
	struct run_opts		 o;
	struct seen		 s;
	struct run_hooks	 h;
	struct run		*run;
	struct run_summary	 sum;

	fake_add("us-east-1");
	memset(&o, 0, sizeof(o));
	memset(&h, 0, sizeof(h));
	memset(&s, 0, sizeof(s));
	h.done = hook_done;
	h.arg = &s;
	o.base = e->base;
	o.client = e->client;
	o.creds = e->creds;
	o.home_region = "us-east-1";
	run = run_start(scenario_find("network-changes"), &o, &h);
	/* Abort before the loop ran: nothing is sent, done still comes. */
	run_abort(run, "test");
	run_abort(run, "twice");
	while (!s.done)
		event_base_loop(e->base, EVLOOP_ONCE);
	assert_true(s.halted);
	assert_int_equal(nlogged(), 0);
	run_summarize(run, &sum);
	assert_int_equal(sum.calls, 0);
	assert_true(has_note(run, NULL, "halted: test", 1));
	run_free(run);
	/* Free without running at all. */
	run_free(run_start(scenario_find("imds-reveal"), &o, &h));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_network_changes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_region_failures_isolated,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters_and_explicit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_cloudtrail_tampering,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_repeated_token, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dryrun_ignored_halts,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mining_bitcoin, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_imds_findings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_iam_polls, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_custom_live_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_custom_pagination, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
	};

	pthread_mutex_init(&F.lock, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
