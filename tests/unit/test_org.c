/*
 * org (#13): the shard hash and its parser, the organizations endpoint,
 * member accounts "ORG/ID" from a loaded configuration, the organization
 * group printed and read back, and Organizations ListAccounts against a
 * fake organisation on a loopback server (pagination, only ACTIVE
 * accounts, errors, a repeated token).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <jansson.h>

#include "aws.h"
#include "client.h"
#include "config.h"
#include "creds.h"
#include "endpoint.h"
#include "http.h"
#include "org.h"
#include "testsrv.h"
#include "xmalloc.h"

/* ---- shard ----------------------------------------------------------- */

static void
test_shard_parse(void **state)
{
	static const char *const bad[] = { "", "0/2", "3/2", "1/0", "x",
	    "1/2/3", "1/4097", "-1/2", "1/", "/2", " 1/2", "1/2 ", "1//2",
	    NULL };
	int	 k, n, i;

	(void)state;
	assert_int_equal(org_shard_parse("1/1", &k, &n), 0);
	assert_int_equal(k, 1);
	assert_int_equal(n, 1);
	assert_int_equal(org_shard_parse("7/12", &k, &n), 0);
	assert_int_equal(k, 7);
	assert_int_equal(n, 12);
	assert_int_equal(org_shard_parse("4096/4096", &k, &n), 0);
	for (i = 0; bad[i] != NULL; i++)
		if (org_shard_parse(bad[i], &k, &n) != -1)
			fail_msg("\"%s\" accepted", bad[i]);
}

/*
 * The documented hash: the first 8 bytes of SHA-256 of the 12 digits,
 * big-endian.  Values from Python's hashlib:
 *   int.from_bytes(hashlib.sha256(b"123456789012").digest()[:8], "big")
 */
static void
test_shard_hash(void **state)
{
	(void)state;
	assert_true(org_shard_hash("123456789012") ==
	    UINT64_C(0x2a33349e7e606a8a));
	assert_true(org_shard_hash("210987654321") ==
	    UINT64_C(0xfbc809103c8e6620));
	assert_true(org_shard_hash("000000000000") ==
	    UINT64_C(0xf7b11509f4d675c3));
	/* K = hash % N + 1 */
	assert_int_equal(org_shard_takes(1, 2, "123456789012"), 1);
	assert_int_equal(org_shard_takes(2, 2, "123456789012"), 0);
	assert_int_equal(org_shard_takes(2, 3, "123456789012"), 1);
	assert_int_equal(org_shard_takes(3, 3, "210987654321"), 1);
	assert_int_equal(org_shard_takes(6, 7, "210987654321"), 1);
	assert_int_equal(org_shard_takes(5, 7, "210987654321"), 0);
	assert_int_equal(org_shard_takes(2, 2, "000000000000"), 1);
	assert_int_equal(org_shard_takes(3, 7, "000000000000"), 1);
	/* One instance takes everything; an unknown ID belongs to shard 1. */
	assert_int_equal(org_shard_takes(1, 1, "123456789012"), 1);
	assert_int_equal(org_shard_takes(1, 1, NULL), 1);
	assert_int_equal(org_shard_takes(1, 3, NULL), 1);
	assert_int_equal(org_shard_takes(2, 3, NULL), 0);
}

/* Every ID falls in exactly one shard of N, and the shares are even. */
static void
test_shard_partition(void **state)
{
	char		 id[ORG_ID_LEN + 1];
	unsigned	 count[5] = { 0 };
	int		 i, k, hits;

	(void)state;
	for (i = 0; i < 10000; i++) {
		snprintf(id, sizeof(id), "%012d", 100000000 + i * 7919);
		hits = 0;
		for (k = 1; k <= 5; k++)
			if (org_shard_takes(k, 5, id)) {
				hits++;
				count[k - 1]++;
			}
		assert_int_equal(hits, 1);
	}
	for (k = 0; k < 5; k++)
		assert_in_range(count[k], 1800, 2200);
}

/* ---- endpoint ---------------------------------------------------------- */

static void
endpoint_is(const char *partition, const char *region, const char *host,
    const char *signing)
{
	struct endpoint_opts	 o;
	struct aws_endpoint	 ep;
	char			*cause = NULL;

	memset(&o, 0, sizeof(o));
	o.partition = partition;
	memset(&ep, 0, sizeof(ep));
	if (endpoint_resolve(aws_service_find("organizations"), region, NULL,
	    &o, &ep, &cause) != 0)
		fail_msg("%s: %s", partition, cause);
	assert_string_equal(ep.host, host);
	assert_string_equal(ep.signing_region, signing);
	assert_string_equal(ep.signing_name, "organizations");
	endpoint_free(&ep);
}

static void
test_endpoint(void **state)
{
	const struct aws_service	*s;
	struct aws_endpoint		 ep;
	char				*cause = NULL;

	(void)state;
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_ORGANIZATIONS");
	assert_non_null(s = aws_service_find("organizations"));
	assert_int_equal(s->protocol, AWS_PROTO_JSON);
	assert_string_equal(s->target_prefix, "AWSOrganizationsV20161128");
	assert_true(s->global);
	assert_int_equal(aws_action_known(s, "ListAccounts"), 1);
	assert_true(aws_action_is_read_only(s, "ListAccounts"));
	/* botocore's endpoints.json, partitionEndpoint of each partition */
	endpoint_is("aws", "eu-west-1", "organizations.us-east-1.amazonaws.com",
	    "us-east-1");
	endpoint_is("aws-cn", "cn-north-1",
	    "organizations.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1");
	endpoint_is("aws-us-gov", "us-gov-east-1",
	    "organizations.us-gov-west-1.amazonaws.com", "us-gov-west-1");
	/* IAM keeps its own global host. */
	memset(&ep, 0, sizeof(ep));
	assert_int_equal(endpoint_resolve(aws_service_find("iam"),
	    "eu-west-1", NULL, NULL, &ep, &cause), 0);
	assert_string_equal(ep.host, "iam.amazonaws.com");
	endpoint_free(&ep);
}

/* ---- configuration ------------------------------------------------------- */

static const char org_conf[] =
    "daemon = { state_dir = \"/tmp/cloudsaga-test-org\"; shard = \"2/3\"; };\n"
    "accounts = (\n"
    "  { name = \"org\"; role_arn = \"arn:aws:iam::123456789012:role/r\";\n"
    "    session_duration = \"2h\";\n"
    "    regions = { include = [ \"us-east-1\" ]; };\n"
    "    organization = { role_name = \"audit/cloudsaga\";\n"
    "      external_id = \"ext-123\";\n"
    "      exclude = [ \"210987654321\" ]; }; },\n"
    "  { name = \"plain\"; role_arn = \"arn:aws:iam::345678901234:role/x\"; }\n"
    ");\n";

static void
test_config_member(void **state)
{
	struct config			*c;
	struct config_account		*m;
	const struct config_account	*parent = NULL;
	char				*cause = NULL, id[ORG_ID_LEN + 1];

	(void)state;
	if (config_load_string(org_conf, "org.conf", &c, &cause) != 0)
		fail_msg("%s", cause);
	assert_int_equal(c->daemon.shard_k, 2);
	assert_int_equal(c->daemon.shard_n, 3);
	assert_non_null(c->accounts[0].org);
	assert_null(c->accounts[1].org);
	assert_string_equal(c->accounts[0].org->role_name, "audit/cloudsaga");
	assert_string_equal(c->accounts[0].org->exclude[0], "210987654321");
	assert_null(c->accounts[0].org->exclude[1]);

	assert_non_null(m = org_member_account(c, "org/456789012345",
	    &parent));
	assert_ptr_equal(parent, &c->accounts[0]);
	assert_string_equal(m->name, "org/456789012345");
	assert_string_equal(m->role_arn,
	    "arn:aws:iam::456789012345:role/audit/cloudsaga");
	assert_string_equal(m->external_id, "ext-123");
	assert_true(m->session_duration == 7200);
	assert_string_equal(m->include[0], "us-east-1");
	assert_null(m->include[1]);
	assert_null(m->org);
	org_member_free(m);
	/* Not members: another account, a bad ID, no slash, unknown org. */
	assert_null(org_member_account(c, "plain/456789012345", NULL));
	assert_null(org_member_account(c, "org/45678901234", NULL));
	assert_null(org_member_account(c, "org/4567890123456", NULL));
	assert_null(org_member_account(c, "org", NULL));
	assert_null(org_member_account(c, "nope/456789012345", NULL));

	assert_string_equal(org_account_id(&c->accounts[1], id, sizeof(id)),
	    "345678901234");
	assert_int_equal(org_shard_takes_account(c, &c->accounts[1]),
	    org_shard_takes(2, 3, "345678901234"));
	assert_int_equal(org_shard_takes_account(c, &c->accounts[0]), 1);
	config_free(c);
}

/* --print-config's organization group and shard are read back as such. */
static void
test_config_print_roundtrip(void **state)
{
	struct config	*c, *c2;
	char		*cause = NULL, *text = NULL, *text2 = NULL;
	size_t		 len = 0, len2 = 0;
	FILE		*f;

	(void)state;
	if (config_load_string(org_conf, "org.conf", &c, &cause) != 0)
		fail_msg("%s", cause);
	assert_non_null(f = open_memstream(&text, &len));
	config_print(f, c);
	fclose(f);
	assert_non_null(strstr(text, "\tshard = \"2/3\";\n"));
	assert_non_null(strstr(text, "organization = {"));
	assert_non_null(strstr(text, "role_name = \"audit/cloudsaga\";"));
	assert_non_null(strstr(text, "exclude = [ \"210987654321\" ];"));
	if (config_load_string(text, "printed", &c2, &cause) != 0)
		fail_msg("%s\n%s", cause, text);
	assert_non_null(f = open_memstream(&text2, &len2));
	config_print(f, c2);
	fclose(f);
	assert_string_equal(text, text2);
	config_free(c);
	config_free(c2);
	free(text);
	free(text2);
}

/* ---- ListAccounts -------------------------------------------------------- */

struct fake_org {
	pthread_mutex_t	 lock;
	int		 requests;
	int		 mode;		/* 0 pages, 1 denied, 2 same token */
	char		 target[128];
	char		 body[256];
};

/*
 * Three pages: 2 + 2 + 1 accounts; a SUSPENDED one (Status), a
 * PENDING_CLOSURE one (State wins over Status), the rest ACTIVE.
 */
static void
fake_org_handler(const struct testsrv_req *req, struct testsrv_resp *resp,
    void *arg)
{
	struct fake_org	*f = arg;
	const char	*t = testsrv_req_header(req, "X-Amz-Target");
	const char	*page;
	int		 mode;

	pthread_mutex_lock(&f->lock);
	f->requests++;
	mode = f->mode;
	snprintf(f->target, sizeof(f->target), "%s", t != NULL ? t : "");
	snprintf(f->body, sizeof(f->body), "%s", req->body);
	pthread_mutex_unlock(&f->lock);
	if (mode == 1) {
		testsrv_reply(resp, 400, "application/x-amz-json-1.1",
		    "{\"__type\":\"AccessDeniedException\",\"Message\":\"You "
		    "don't have permissions to access this resource.\"}", 98);
		return;
	}
	if (mode == 2)
		page = "{\"Accounts\":[{\"Id\":\"111111111111\",\"Status\":"
		    "\"ACTIVE\"}],\"NextToken\":\"same\"}";
	else if (strstr(req->body, "\"NextToken\":\"p2\"") != NULL)
		page = "{\"Accounts\":[{\"Id\":\"333333333333\",\"Status\":"
		    "\"ACTIVE\",\"State\":\"PENDING_CLOSURE\"},{\"Id\":"
		    "\"444444444444\",\"Status\":\"ACTIVE\"}],\"NextToken\":"
		    "\"p3\"}";
	else if (strstr(req->body, "\"NextToken\":\"p3\"") != NULL)
		page = "{\"Accounts\":[{\"Id\":\"000000000005\",\"State\":"
		    "\"ACTIVE\"}]}";
	else
		page = "{\"Accounts\":[{\"Id\":\"222222222222\",\"Status\":"
		    "\"ACTIVE\"},{\"Id\":\"111111111111\",\"Status\":"
		    "\"SUSPENDED\"}],\"NextToken\":\"p2\"}";
	testsrv_reply(resp, 200, "application/x-amz-json-1.1", page,
	    strlen(page));
}

struct list_result {
	int		 done;
	char		 ids[8][16];
	size_t		 n;
	char		 code[64];
	char		 msg[256];
	struct event_base *base;
};

static void
list_done(char *const *ids, size_t n, const char *code, const char *msg,
    void *arg)
{
	struct list_result	*r = arg;
	size_t			 i;

	r->done++;
	r->n = n;
	for (i = 0; i < n && i < 8; i++)
		snprintf(r->ids[i], sizeof(r->ids[i]), "%s", ids[i]);
	snprintf(r->code, sizeof(r->code), "%s", code != NULL ? code : "");
	snprintf(r->msg, sizeof(r->msg), "%s", msg != NULL ? msg : "");
	event_base_loopbreak(r->base);
}

static void
run_list(struct fake_org *f, int mode, struct list_result *r)
{
	struct testsrv		*srv;
	struct event_base	*base;
	struct http_engine	*http;
	struct aws_client	*client;
	struct aws_client_opts	 copts;
	struct creds_provider	*creds;

	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_ORGANIZATIONS");
	unsetenv("AWS_MAX_ATTEMPTS");
	f->mode = mode;
	f->requests = 0;
	srv = testsrv_start();
	testsrv_route(srv, "POST", "/", fake_org_handler, f);
	assert_non_null(base = event_base_new());
	assert_non_null(http = http_engine_new(base, NULL));
	memset(&copts, 0, sizeof(copts));
	copts.endpoints.explicit_url = testsrv_url(srv, NULL);
	copts.max_attempts = 1;
	assert_non_null(client = aws_client_new(base, http, &copts));
	creds = creds_static("AKIDEXAMPLETESTKEY00", "fake-secret", NULL);
	creds_provider_attach(creds, base);
	memset(r, 0, sizeof(*r));
	r->base = base;
	assert_non_null(org_list_accounts(client, creds, "aws", list_done, r));
	event_base_dispatch(base);
	assert_int_equal(r->done, 1);
	creds_provider_free(creds);
	aws_client_free(client);
	http_engine_free(http);
	event_base_free(base);
	testsrv_free(srv);
}

static void
test_list_accounts(void **state)
{
	struct fake_org		 f;
	struct list_result	 r;

	(void)state;
	memset(&f, 0, sizeof(f));
	pthread_mutex_init(&f.lock, NULL);
	run_list(&f, 0, &r);
	assert_string_equal(r.msg, "");
	assert_int_equal(f.requests, 3);
	assert_string_equal(f.target, "AWSOrganizationsV20161128.ListAccounts");
	assert_non_null(strstr(f.body, "\"MaxResults\":20"));
	/* ACTIVE only, sorted. */
	assert_int_equal(r.n, 3);
	assert_string_equal(r.ids[0], "000000000005");
	assert_string_equal(r.ids[1], "222222222222");
	assert_string_equal(r.ids[2], "444444444444");

	run_list(&f, 1, &r);
	assert_int_equal(r.n, 0);
	assert_string_equal(r.code, "AccessDeniedException");
	assert_non_null(strstr(r.msg, "ListAccounts: AccessDeniedException: "
	    "You don't have permissions"));

	run_list(&f, 2, &r);
	assert_int_equal(f.requests, 2);
	assert_non_null(strstr(r.msg, "same page token twice"));
	pthread_mutex_destroy(&f.lock);
}

/* ---- membership log --------------------------------------------------- */

static void
test_seen(void **state)
{
	struct org_seen	*s = org_seen_new();
	char		*a[] = { "111111111111", "222222222222", NULL };
	char		*b[] = { "222222222222", "333333333333", NULL };

	(void)state;
	/* No crash, no leak (ASan) on first, changed and empty listings. */
	org_seen_update(s, "org", a, 2);
	org_seen_update(s, "org", b, 2);
	org_seen_update(s, "org", b, 0);
	org_seen_update(s, "other", a, 2);
	org_seen_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shard_parse),
		cmocka_unit_test(test_shard_hash),
		cmocka_unit_test(test_shard_partition),
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_config_member),
		cmocka_unit_test(test_config_print_roundtrip),
		cmocka_unit_test(test_list_accounts),
		cmocka_unit_test(test_seen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
