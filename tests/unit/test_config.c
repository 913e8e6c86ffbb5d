/*
 * config: parsing, defaults, every validation rule with its FILE:LINE,
 * error collection, printing round trips, default paths.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <libconfig.h>

#include "config.h"
#include "custom.h"
#include "xmalloc.h"

static const char *minimal =
"daemon = { state_dir = \"/var/lib/cloudsagad\"; report_file = \"/var/lib/cloudsagad/report.jsonl\"; };\n"
"verify = { initial_delay = \"5s\"; interval = \"5s\"; deadline = \"60s\"; };\n"
"schedule = ( { scenario = \"network-changes\"; every = \"30s\"; jitter = \"0s\"; regions = [ \"us-east-1\", \"eu-west-1\" ]; } );\n";

static struct config *
load_ok(const char *text)
{
	struct config	*c = NULL;
	char		*cause = NULL;

	if (config_load_string(text, "t.conf", &c, &cause) != 0) {
		fprintf(stderr, "unexpected errors:\n%s\n", cause);
		fail();
	}
	assert_null(cause);
	assert_non_null(c);
	return c;
}

/* Load text, expect failure, return the errors (allocated). */
static char *
load_bad(const char *text)
{
	struct config	*c = (struct config *)0x1;
	char		*cause = NULL;

	assert_int_equal(config_load_string(text, "t.conf", &c, &cause), -1);
	assert_ptr_equal(c, (struct config *)0x1);	/* untouched */
	assert_non_null(cause);
	return cause;
}

static char *
print_config(const struct config *c)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&out, &len);

	assert_non_null(f);
	config_print(f, c);
	fclose(f);
	return out;
}

static void
test_minimal(void **state)
{
	struct config		*c = load_ok(minimal);
	const struct config_entry *e;

	assert_string_equal(c->daemon.state_dir, "/var/lib/cloudsagad");
	assert_string_equal(c->daemon.report_file,
	    "/var/lib/cloudsagad/report.jsonl");
	assert_string_equal(c->daemon.log_level, "info");
	assert_true(c->daemon.drain_timeout == 30);
	assert_int_equal(c->daemon.max_connections, 64);
	assert_true(c->verify.initial_delay == 5);
	assert_true(c->verify.interval == 5);
	assert_true(c->verify.deadline == 60);
	assert_true(c->verify.lookup_rate == 2.0);
	assert_true(c->verify.skew == 300);
	assert_int_equal(c->naccounts, 1);
	assert_string_equal(c->accounts[0].name, "default");
	assert_true(c->accounts[0].implicit);
	assert_null(c->accounts[0].role_arn);
	assert_int_equal(c->nentries, 1);
	e = config_entry_find(c, "network-changes");
	assert_non_null(e);
	assert_string_equal(e->scenario, "network-changes");
	assert_true(e->every == 30);
	assert_true(e->jitter == 0);
	assert_int_equal(e->at, -1);
	assert_true(e->enabled);
	assert_string_equal(e->regions[0], "us-east-1");
	assert_string_equal(e->regions[1], "eu-west-1");
	assert_null(e->regions[2]);
	assert_null(e->accounts[0]);
	assert_null(e->settings);
	assert_true(c->coverage.eventbridge);
	assert_false(c->coverage.guardduty);
	assert_false(c->live);
	assert_string_equal(c->aws.partition, "aws");
	assert_null(c->aws.endpoint_url);
	assert_null(c->aws.service_urls[0]);
	config_free(c);
}

static void
test_defaults_and_state_directory(void **state)
{
	struct config	*c;

	setenv("STATE_DIRECTORY", "/var/lib/cloudsagad:/var/lib/other", 1);
	c = load_ok("");
	assert_string_equal(c->daemon.state_dir, "/var/lib/cloudsagad");
	assert_string_equal(c->daemon.report_file,
	    "/var/lib/cloudsagad/report.jsonl");
	assert_int_equal(c->nentries, 0);
	assert_true(c->verify.deadline == 1200);
	config_free(c);
	unsetenv("STATE_DIRECTORY");

	c = load_ok("daemon = { state_dir = \"/srv/cs//\"; "
	    "report_file = \"out/r.jsonl\"; log_level = \"debug\"; };");
	assert_string_equal(c->daemon.state_dir, "/srv/cs");
	assert_string_equal(c->daemon.report_file, "/srv/cs/out/r.jsonl");
	assert_int_equal(c->daemon.log_priority, 7);
	config_free(c);
}

static void
test_full(void **state)
{
	struct config			*c;
	const struct config_account	*a;
	const struct config_entry	*e;
	const struct config_custom	*cu;
	const char			*s;

	c = load_ok(
	    "aws = { partition = \"aws\"; endpoint_url = \"http://127.0.0.1:4566\";\n"
	    "  endpoints = { ec2 = \"http://127.0.0.1:1\"; cloudtrail = \"http://127.0.0.1:2\"; };\n"
	    "  profile = \"ops\"; };\n"
	    "accounts = ( { name = \"prod\"; role_arn = \"arn:aws:iam::111122223333:role/a/b/cloudsaga\";\n"
	    "  external_id = \"x-1\"; session_duration = \"2h\";\n"
	    "  regions = { include = [ \"us-east-1\" ]; exclude = [ \"us-west-2\" ]; }; },\n"
	    "  { name = \"dev\"; } );\n"
	    "verify = { lookup_rate = 1; };\n"
	    "coverage = { eventbridge = false; guardduty = true; metric_filters = true; };\n"
	    "scenarios = ( { name = \"my-steps\"; summary = \"sweep\"; steps = ( { service = \"ec2\"; action = \"DescribeVpcs\"; } ); } );\n"
	    "schedule = ( { name = \"nightly\"; scenario = \"my-steps\"; at = \"03:15:30\";\n"
	    "  accounts = [ \"dev\" ]; settings = { targets = [ \"a\", \"b\" ]; timeout = \"5s\"; }; },\n"
	    "  { scenario = \"imds-reveal\"; every = \"1d\"; at = \"00:00\"; enabled = false; } );\n"
	    "live = true;\n");
	assert_string_equal(c->aws.endpoint_url, "http://127.0.0.1:4566");
	assert_string_equal(c->aws.service_urls[0],
	    "cloudtrail=http://127.0.0.1:2");
	assert_string_equal(c->aws.service_urls[1], "ec2=http://127.0.0.1:1");
	assert_null(c->aws.service_urls[2]);
	assert_string_equal(c->aws.profile, "ops");
	assert_int_equal(c->naccounts, 2);
	a = config_account_find(c, "prod");
	assert_non_null(a);
	assert_false(a->implicit);
	assert_string_equal(a->external_id, "x-1");
	assert_true(a->session_duration == 7200);
	assert_string_equal(a->include[0], "us-east-1");
	assert_string_equal(a->exclude[0], "us-west-2");
	assert_int_equal(a->line, 4);
	assert_null(config_account_find(c, "default"));
	assert_true(c->verify.lookup_rate == 1.0);
	assert_false(c->coverage.eventbridge);
	assert_true(c->coverage.metric_filters);
	assert_true(c->live);

	e = config_entry_find(c, "nightly");
	assert_non_null(e);
	assert_int_equal(e->at, 3 * 3600 + 15 * 60 + 30);
	assert_true(e->every == 0);
	assert_string_equal(e->accounts[0], "dev");
	assert_non_null(e->settings);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(e->settings, "targets"), 1)), "b");
	assert_int_equal(e->line, 11);
	e = config_entry_find(c, "imds-reveal");
	assert_non_null(e);
	assert_false(e->enabled);
	assert_int_equal(e->at, 0);
	assert_true(e->every == 86400);

	/* The custom scenario's setting stays readable. */
	cu = config_custom_find(c, "my-steps");
	assert_non_null(cu);
	assert_int_equal(cu->line, 10);
	assert_true(config_setting_lookup_string(
	    config_setting_get_elem(config_setting_get_member(cu->setting,
	    "steps"), 0), "action", &s));
	assert_string_equal(s, "DescribeVpcs");
	config_free(c);
}

/* Each broken text gives exactly this error. */
static const struct {
	const char	*text;
	const char	*error;
} broken[] = {
	{ "daemon = { state_dir = \"/x\"; };\nfoo = 1;\n",
	  "t.conf:2: unknown key \"foo\"" },
	{ "daemon = {\n  statedir = \"/x\"; };\n",
	  "t.conf:2: daemon: unknown key \"statedir\"" },
	{ "daemon = { drain_timeout = \"30x\"; };\n",
	  "t.conf:1: daemon.drain_timeout: bad duration \"30x\" (use e.g. "
	  "\"90s\", \"15m\", \"6h\", \"1d\")" },
	{ "daemon = { drain_timeout = 30; };\n",
	  "t.conf:1: daemon.drain_timeout: expected a duration string such "
	  "as \"90s\", \"15m\", \"6h\" or \"1d\", not an integer" },
	{ "daemon = { state_dir = \"var/lib\"; };\n",
	  "t.conf:1: daemon.state_dir: \"var/lib\" is not an absolute path" },
	{ "daemon = { log_level = \"loud\"; };\n",
	  "t.conf:1: daemon.log_level: unknown log level \"loud\" (err, "
	  "warning, notice, info, debug)" },
	{ "daemon = { max_connections = 0; };\n",
	  "t.conf:1: daemon.max_connections: 0 is out of range (1 to 4096)" },
	{ "daemon = { max_connections = \"64\"; };\n",
	  "t.conf:1: daemon.max_connections: expected an integer, not a "
	  "string" },
	{ "daemon = ( );\n",
	  "t.conf:1: daemon: expected a group { }, not a list ( )" },
	{ "aws = { partition = \"aws-mars\"; };\n",
	  "t.conf:1: aws.partition: unknown partition \"aws-mars\" (aws, "
	  "aws-cn, aws-us-gov)" },
	{ "aws = { endpoint_url = \"ftp://x\"; };\n",
	  "t.conf:1: aws.endpoint_url: \"ftp://x\" is not an http:// or "
	  "https:// URL" },
	{ "aws = { endpoint_url = \"http://user:secret@x\"; };\n",
	  "t.conf:1: aws.endpoint_url: user information in an endpoint URL is "
	  "not allowed" },
	{ "aws = { endpoints = {\n  ec2 = \"http://x?a=b\"; }; };\n",
	  "t.conf:2: aws.endpoints.ec2: endpoint URL http://x?a=b: query or "
	  "fragment not allowed" },
	{ "aws = { endpoints = {\n  kinesis = \"http://x\"; }; };\n",
	  "t.conf:2: aws.endpoints: unknown service \"kinesis\"" },
	{ "verify = {\n  interval = \"10m\";\n  deadline = \"5m\"; initial_delay = \"1m\"; };\n",
	  "t.conf:2: verify.interval (10m) is longer than verify.deadline "
	  "(5m)" },
	{ "verify = { initial_delay = \"20m\"; };\n",
	  "t.conf:1: verify.initial_delay (20m) is not shorter than "
	  "verify.deadline (20m)" },
	{ "verify = { lookup_rate = 3.5; };\n",
	  "t.conf:1: verify.lookup_rate: 3.5 is out of range (more than 0, "
	  "at most 2)" },
	{ "verify = { interval = \"0s\"; };\n",
	  "t.conf:1: verify.interval: 0s is out of range (1s to 1d)" },
	{ "coverage = { guardduty = \"yes\"; };\n",
	  "t.conf:1: coverage.guardduty: expected true or false, not a "
	  "string" },
	{ "accounts = ( {\n  role_arn = \"arn:aws:iam::111122223333:role/x\"; } );\n",
	  "t.conf:1: accounts[0]: missing \"name\"" },
	{ "accounts = ( { name = \"a\"; },\n { name = \"a\"; } );\n",
	  "t.conf:2: duplicate account \"a\" (first at line 1)" },
	{ "accounts = ( { name = \"a\";\n role_arn = \"arn:aws:iam::1111:role/x\"; } );\n",
	  "t.conf:2: accounts[0].role_arn: \"arn:aws:iam::1111:role/x\" is "
	  "not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)" },
	{ "accounts = ( { name = \"a\";\n role_arn = \"arn:aws:iam::111122223333:user/x\"; } );\n",
	  "t.conf:2: accounts[0].role_arn: \"arn:aws:iam::111122223333:"
	  "user/x\" is not an IAM role ARN (arn:aws:iam::123456789012:role/"
	  "NAME)" },
	{ "accounts = ( { name = \"a\";\n role_arn = \"arn:aws-cn:iam::111122223333:role/x\"; } );\n",
	  "t.conf:2: accounts[0].role_arn: \"arn:aws-cn:iam::111122223333:"
	  "role/x\" is not in partition \"aws\"" },
	{ "accounts = ( { name = \"a\";\n external_id = \"abc\"; } );\n",
	  "t.conf:2: accounts[0].external_id: needs a role_arn" },
	{ "accounts = ( { name = \"a b\"; } );\n",
	  "t.conf:1: accounts[0].name: bad name \"a b\" (letters, digits, "
	  "'_', '.', '-'; at most 64)" },
	{ "accounts = ( { name = \"a\"; regions = { include = [\n \"us-east\" ]; }; } );\n",
	  "t.conf:2: accounts[0].regions.include[0]: bad region name "
	  "\"us-east\" (expected e.g. \"us-east-1\")" },
	{ "accounts = ( { name = \"a\"; regions = { include = [ \"eu-west-1\" ];\n exclude = [ \"eu-west-1\" ]; }; } );\n",
	  "t.conf:2: accounts[0].regions: \"eu-west-1\" is both included and "
	  "excluded" },
	{ "accounts = ( { name = \"a\"; regions = { only = [ ]; }; } );\n",
	  "t.conf:1: accounts[0].regions: unknown key \"only\"" },
	{ "accounts = { name = \"a\"; };\n",
	  "t.conf:1: accounts: expected a list ( { ... }, ... ), not a group "
	  "{ }" },
	{ "schedule = ( {\n  every = \"1h\"; } );\n",
	  "t.conf:1: schedule[0]: missing \"scenario\"" },
	{ "schedule = ( { scenario = \"network-changes\"; } );\n",
	  "t.conf:1: schedule[0]: missing \"every\" (or \"at\" for a daily "
	  "run)" },
	{ "schedule = ( {\n  scenario = \"bitcoin\"; every = \"1h\"; } );\n",
	  "t.conf:2: schedule[0].scenario: unknown scenario \"bitcoin\"" },
	{ "schedule = ( { scenario = \"network-changes\"; every = \"1h\";\n  accounts = [ \"prod\" ]; } );\n",
	  "t.conf:2: schedule[0].accounts[0]: unknown account \"prod\"" },
	{ "known_gaps = ( {\n  account = \"ghost\"; event_name = \"X\"; reason = \"r\"; expires = \"2099-01-01\"; } );\n",
	  "t.conf:2: known_gaps[0]: unknown account \"ghost\"" },
	{ "accounts = ( { name = \"org\"; role_arn = \"arn:aws:iam::123456789012:role/r\";\n  organization = { role_name = \"cs\"; }; },\n  { name = \"solo\"; } );\nknown_gaps = ( {\n  account = \"solo/123456789012\"; event_name = \"X\"; reason = \"r\"; expires = \"2099-01-01\"; } );\n",
	  "t.conf:5: known_gaps[0].account: \"solo/123456789012\": no account \"solo\" with an organization group (a member is named ORGANISATION/ACCOUNT_ID)" },
	{ "accounts = ( { name = \"org\"; role_arn = \"arn:aws:iam::123456789012:role/r\";\n  organization = { role_name = \"cs\"; }; },\n  { name = \"solo\"; } );\nknown_gaps = ( {\n  account = \"org/12345\"; event_name = \"X\"; reason = \"r\"; expires = \"2099-01-01\"; } );\n",
	  "t.conf:5: known_gaps[0].account: \"org/12345\": expected org/ and a 12-digit account ID or a pattern of them (\"org/*\")" },
	{ "accounts = ( { name = \"org\"; role_arn = \"arn:aws:iam::123456789012:role/r\";\n  organization = { role_name = \"cs\"; }; },\n  { name = \"solo\"; } );\nknown_gaps = ( {\n  account = \"org/prod\"; event_name = \"X\"; reason = \"r\"; expires = \"2099-01-01\"; } );\n",
	  "t.conf:5: known_gaps[0].account: \"org/prod\": expected org/ and a 12-digit account ID or a pattern of them (\"org/*\")" },
	{ "accounts = ( { name = \"prod\"; } );\nknown_gaps = ( {\n  account = \"stag*\"; event_name = \"X\"; reason = \"r\"; expires = \"2099-01-01\"; } );\n",
	  "t.conf:3: known_gaps[0].account: \"stag*\" matches no account" },
	{ "schedule = ( { scenario = \"network-changes\"; every = \"1h\"; },\n"
	  "  { scenario = \"network-changes\"; every = \"2h\"; } );\n",
	  "t.conf:2: schedule[1]: duplicate schedule name \"network-changes\" "
	  "(first at line 1; give each entry its own name = \"...\")" },
	{ "schedule = ( { scenario = \"network-changes\"; every = \"1h\";\n jitter = \"1h\"; } );\n",
	  "t.conf:2: schedule[0].jitter (1h) must be shorter than the period "
	  "(1h)" },
	{ "schedule = ( { scenario = \"network-changes\";\n at = \"25:00\"; } );\n",
	  "t.conf:2: schedule[0].at: bad time of day \"25:00\" (UTC \"HH:MM\" "
	  "or \"HH:MM:SS\")" },
	{ "schedule = ( { scenario = \"network-changes\"; every = \"1h\";\n regions = [ \"us-east-1\", \"us-east-1\" ]; } );\n",
	  "t.conf:2: schedule[0].regions: \"us-east-1\" is listed twice" },
	{ "schedule = ( { scenario = \"network-changes\"; every = \"1h\";\n regions = [ \"cn-north-1\" ]; } );\n",
	  "t.conf:2: schedule[0].regions[0]: region \"cn-north-1\" is not in "
	  "partition \"aws\"" },
	{ "schedule = ( { scenario = \"network-changes\"; every = \"1h\";\n enabled = 1; } );\n",
	  "t.conf:2: schedule[0].enabled: expected true or false, not an "
	  "integer" },
	{ "schedule = ( { scenario = \"network-changes\"; every = \"1h\";\n settings = 5; } );\n",
	  "t.conf:2: schedule[0].settings: expected a group { }, not an "
	  "integer" },
	{ "scenarios = ( {\n name = \"network-changes\"; } );\n",
	  "t.conf:2: scenarios[0].name: \"network-changes\" is a built-in "
	  "scenario" },
	{ "scenarios = ( { name = \"Mine\"; } );\n",
	  "t.conf:1: scenarios[0].name: bad scenario name \"Mine\" (lower-case "
	  "letters, digits, '-'; at most 64)" },
	{ "scenarios = ( { name = \"mine\"; summary = \"s\"; steps = ( { "
	  "service = \"ec2\"; action = \"DescribeVpcs\"; } ); },\n { name = "
	  "\"mine\"; summary = \"s\"; steps = ( { service = \"ec2\"; "
	  "action = \"DescribeVpcs\"; } ); } );\n",
	  "t.conf:2: scenarios[1].name: duplicate scenario \"mine\" (first at "
	  "line 1)" },
	{ "live = \"no\";\n",
	  "t.conf:1: live: expected true or false, not a string" },
	{ "daemon = {\n state_dir = \"/x\";\n log_level = ;\n};\n",
	  "t.conf:3: syntax error" },
};

/*
 * daemon.max_connections_per_host: default 16, any value from 1 to 4096,
 * printed by --print-config and read back; outside the range or not an
 * integer is an error naming the key.
 */
static void
test_max_connections_per_host(void **state)
{
	struct config	*c, *c2;
	char		*out, *out2, *err;

	c = load_ok(minimal);
	assert_int_equal(c->daemon.max_connections_per_host, 16);
	config_free(c);

	c = load_ok("daemon = { max_connections_per_host = 1; };\n");
	assert_int_equal(c->daemon.max_connections_per_host, 1);
	config_free(c);
	c = load_ok("daemon = { max_connections = 8;\n"
	    "  max_connections_per_host = 4096; };\n");
	assert_int_equal(c->daemon.max_connections_per_host, 4096);
	assert_int_equal(c->daemon.max_connections, 8);
	out = print_config(c);
	assert_non_null(strstr(out, "\tmax_connections_per_host = 4096;\n"));
	c2 = load_ok(out);
	assert_int_equal(c2->daemon.max_connections_per_host, 4096);
	out2 = print_config(c2);
	assert_string_equal(out, out2);
	free(out);
	free(out2);
	config_free(c2);
	config_free(c);

	err = load_bad("daemon = { max_connections_per_host = 0; };\n");
	assert_string_equal(err, "t.conf:1: daemon.max_connections_per_host: "
	    "0 is out of range (1 to 4096)");
	free(err);
	err = load_bad("daemon = {\n  max_connections_per_host = 4097; };\n");
	assert_string_equal(err, "t.conf:2: daemon.max_connections_per_host: "
	    "4097 is out of range (1 to 4096)");
	free(err);
	err = load_bad("daemon = { max_connections_per_host = -16; };\n");
	assert_string_equal(err, "t.conf:1: daemon.max_connections_per_host: "
	    "-16 is out of range (1 to 4096)");
	free(err);
	err = load_bad("daemon = { max_connections_per_host = \"16\"; };\n");
	assert_string_equal(err, "t.conf:1: daemon.max_connections_per_host: "
	    "expected an integer, not a string");
	free(err);
}

/* A known gap names an organisation's member as the daemon names it. */
static void
test_known_gap_member(void **state)
{
	struct config	*c;

	c = load_ok("accounts = ( { name = \"org\"; role_arn = "
	    "\"arn:aws:iam::123456789012:role/r\";\n"
	    "  organization = { role_name = \"cs\"; }; } );\n"
	    "known_gaps = (\n"
	    "  { account = \"org/210987654321\"; event_name = \"X\"; "
	    "reason = \"r\"; expires = \"2099-01-01\"; },\n"
	    "  { account = \"org/*\"; event_name = \"Y\"; reason = \"r\"; "
	    "expires = \"2099-01-01\"; },\n"
	    "  { account = \"org\"; event_name = \"Z\"; reason = \"r\"; "
	    "expires = \"2099-01-01\"; },\n"
	    "  { account = \"o*/2109876543??\"; event_name = \"Z\"; "
	    "reason = \"r\"; expires = \"2099-01-01\"; },\n"
	    "  { account = \"or?\"; event_name = \"Z\"; reason = \"r\"; "
	    "expires = \"2099-01-01\"; } );\n");
	assert_int_equal(c->nknown_gaps, 5);
	assert_string_equal(c->known_gaps[0].account, "org/210987654321");
	assert_string_equal(c->known_gaps[1].account, "org/*");
	config_free(c);
}

static void
test_broken(void **state)
{
	char	*cause;
	size_t	 i;

	for (i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		cause = load_bad(broken[i].text);
		if (strcmp(cause, broken[i].error) != 0) {
			fprintf(stderr, "case %zu:\n  want: %s\n  got:  %s\n", i,
			    broken[i].error, cause);
			fail();
		}
		free(cause);
	}
}

static void
test_all_errors_collected_and_sorted(void **state)
{
	char	*cause;

	cause = load_bad(
	    "schedule = ( { scenario = \"nope\"; every = \"1h\";\n"	/* 1 */
	    "  accounts = [ \"ghost\" ]; } );\n"			/* 2 */
	    "verify = { interval = \"1x\"; };\n"			/* 3 */
	    "daemon = { bogus = 1;\n"					/* 4 */
	    "  state_dir = \"rel\"; };\n");				/* 5 */
	assert_string_equal(cause,
	    "t.conf:1: schedule[0].scenario: unknown scenario \"nope\"\n"
	    "t.conf:2: schedule[0].accounts[0]: unknown account \"ghost\"\n"
	    "t.conf:3: verify.interval: bad duration \"1x\" (use e.g. \"90s\", "
	    "\"15m\", \"6h\", \"1d\")\n"
	    "t.conf:4: daemon: unknown key \"bogus\"\n"
	    "t.conf:5: daemon.state_dir: \"rel\" is not an absolute path");
	free(cause);
}

static void
test_accepted_shapes(void **state)
{
	struct config	*c;

	/* GovCloud partition with its regions and ARNs. */
	c = load_ok("aws = { partition = \"aws-us-gov\"; };\n"
	    "accounts = ( { name = \"g\"; role_arn = "
	    "\"arn:aws-us-gov:iam::111122223333:role/x\"; } );\n"
	    "schedule = ( { scenario = \"iam-credentials\"; every = \"1h\"; "
	    "regions = [ \"us-gov-west-1\" ]; } );\n");
	config_free(c);
	/* Lists in ( ) as well as [ ]; durations combined; int lookup rate. */
	c = load_ok("schedule = ( { scenario = \"imds-reveal\"; "
	    "every = \"1h30m\"; jitter = \"90s\"; regions = ( \"eu-west-1\" ); "
	    "} );\nverify = { lookup_rate = 2; };\nscenarios = [];\n");
	assert_true(c->entries[0].every == 5400);
	assert_true(c->entries[0].jitter == 90);
	config_free(c);

	assert_true(config_region_valid("us-east-1"));
	assert_true(config_region_valid("ap-southeast-3"));
	assert_true(config_region_valid("us-gov-west-1"));
	assert_false(config_region_valid("us-east"));
	assert_false(config_region_valid("US-EAST-1"));
	assert_false(config_region_valid("us-east-1a"));
	assert_false(config_region_valid("useast1"));
	assert_false(config_region_valid(""));
	assert_false(config_region_valid("mars-1"));
	assert_false(config_region_valid("eu-wset-1"));

	/* A misspelt region is refused; a region opened after the build is
	 * declared in aws.extra_regions. */
	{
		char	*cause = NULL;

		if (config_load_string("aws = { extra_regions = "
		    "[ \"eu-west-9\" ]; };\naccounts = ( { name = \"a\"; "
		    "regions = { include = [ \"eu-west-9\" ]; }; } );\n",
		    "t.conf", &c, &cause) != 0)
			fail_msg("%s", cause);
		config_free(c);
		assert_int_equal(config_load_string("accounts = ( { name = "
		    "\"a\"; regions = { include = [ \"eu-wset-1\" ]; }; "
		    "} );\n", "t.conf", &c, &cause), -1);
		assert_non_null(strstr(cause, "not a region of partition aws"));
		free(cause);
	}
	assert_int_equal(config_parse_time_of_day("00:00"), 0);
	assert_int_equal(config_parse_time_of_day("23:59:59"), 86399);
	assert_int_equal(config_parse_time_of_day("3:00"), -1);
	assert_int_equal(config_parse_time_of_day("12:60"), -1);
	assert_int_equal(config_parse_time_of_day("12:00:"), -1);
	assert_int_equal(config_parse_time_of_day("ab:cd"), -1);
	assert_true(config_scenario_builtin("cloudtrail-tampering"));
	assert_false(config_scenario_builtin("custom"));
}

/* print -> load -> print is a fixed point; no information is lost. */
static void
test_print_round_trip(void **state)
{
	static const char *texts[] = { NULL, NULL };
	struct config	*c, *c2;
	char		*p1, *p2, *cause = NULL;
	size_t		 i;

	texts[0] = minimal;
	texts[1] =
	    "aws = { endpoint_url = \"http://127.0.0.1:4566\"; endpoints = { s3 = \"http://h/\\\"q\"; }; };\n"
	    "accounts = ( { name = \"prod\"; role_arn = \"arn:aws:iam::111122223333:role/cloudsaga\";\n"
	    "  external_id = \"ext-1\"; regions = { exclude = [ \"ap-east-1\" ]; }; } );\n"
	    "scenarios = ( { name = \"x\"; summary = \"s\"; steps = ( { service = \"events\"; action = \"ListRules\"; params = { n = 3; f = 1.5; big = 5000000000L; on = true; }; } ); } );\n"
	    "schedule = ( { name = \"n1\"; scenario = \"x\"; at = \"03:00:05\"; jitter = \"1m\";\n"
	    "  settings = { targets = [ \"http://a\" ]; nested = { k = \"v\"; }; }; } );\n";
	for (i = 0; i < 2; i++) {
		c = load_ok(texts[i]);
		p1 = print_config(c);
		if (config_load_string(p1, "printed", &c2, &cause) != 0) {
			fprintf(stderr, "%s\n---\n%s\n", cause, p1);
			fail();
		}
		p2 = print_config(c2);
		assert_string_equal(p1, p2);
		free(p1);
		free(p2);
		config_free(c);
		config_free(c2);
	}
}

static void
test_default_path(void **state)
{
	char	*p;

	unsetenv("CONFIGURATION_DIRECTORY");
	p = config_default_path();
	assert_string_equal(p, CLOUDSAGA_SYSCONFDIR "/cloudsagad/cloudsagad.conf");
	free(p);
	setenv("CONFIGURATION_DIRECTORY", "/etc/cloudsagad:/etc/other", 1);
	p = config_default_path();
	assert_string_equal(p, "/etc/cloudsagad/cloudsagad.conf");
	free(p);
	unsetenv("CONFIGURATION_DIRECTORY");
}

static void
test_files_and_includes(void **state)
{
	char		 dir[] = "/tmp/test_config.XXXXXX";
	char		 main_path[256], inc_path[256], *cause = NULL;
	struct config	*c = NULL;
	FILE		*f;

	assert_non_null(mkdtemp(dir));
	snprintf(main_path, sizeof(main_path), "%s/main.conf", dir);
	snprintf(inc_path, sizeof(inc_path), "%s/sched.inc", dir);

	/* Missing file: the path and errno's words. */
	assert_int_equal(config_load(main_path, &c, &cause), -1);
	assert_non_null(strstr(cause, "main.conf: No such file or directory"));
	free(cause);

	/* An error inside an included file names that file. */
	f = fopen(main_path, "w");
	fputs("daemon = { state_dir = \"/x\"; };\n@include \"sched.inc\"\n", f);
	fclose(f);
	f = fopen(inc_path, "w");
	fputs("schedule = (\n  { scenario = \"network-changes\"; every = \"1h\";"
	    "\n    regions = [ \"mars-1\" ]; } );\n", f);
	fclose(f);
	assert_int_equal(config_load(main_path, &c, &cause), -1);
	assert_non_null(strstr(cause, "/sched.inc:3: schedule[0].regions[0]: "
	    "bad region name \"mars-1\""));
	free(cause);
	cause = NULL;

	f = fopen(inc_path, "w");
	fputs("schedule = ( { scenario = \"network-changes\"; every = \"1h\"; "
	    "} );\n", f);
	fclose(f);
	assert_int_equal(config_load(main_path, &c, &cause), 0);
	assert_null(cause);
	assert_string_equal(c->path, main_path);
	assert_int_equal(c->nentries, 1);
	config_free(c);

	unlink(inc_path);
	unlink(main_path);
	rmdir(dir);
}

static void
test_example_config(void **state)
{
	const char	*src = getenv("CLOUDSAGA_SRC");
	char		 path[4096], *cause = NULL;
	struct config	*c = NULL;

	snprintf(path, sizeof(path), "%s/etc/cloudsagad.conf",
	    src != NULL ? src : "../..");
	if (config_load(path, &c, &cause) != 0) {
		fprintf(stderr, "%s\n", cause);
		fail();
	}
	assert_int_equal(c->naccounts, 2);
	assert_true(c->nentries >= 3);
	config_free(c);
}

/* The AWS documentation's example account IDs warn (FILE:LINE), never fail. */
static void
test_placeholder_warnings(void **state)
{
	struct config	*c;
	char		*cause;

	c = load_ok(
	    "accounts = (\n"
	    "  { name = \"a\"; role_arn = \"arn:aws:iam::111122223333:role/x\"; },\n"
	    "  { name = \"b\"; role_arn = \"arn:aws:iam::123456789012:role/x\"; },\n"
	    "  { name = \"c\";\n"
	    "    role_arn = \"arn:aws:iam::444455556666:role/p/x\"; }\n"
	    ");\n"
	    "schedule = ( { scenario = \"network-changes\"; every = \"1h\"; } );\n");
	assert_string_equal(c->warnings,
	    "t.conf:2: warning: accounts[0].role_arn: 111122223333 is an "
	    "example account ID from the AWS documentation, not a real "
	    "account\n"
	    "t.conf:5: warning: accounts[2].role_arn: 444455556666 is an "
	    "example account ID from the AWS documentation, not a real "
	    "account");
	config_free(c);

	/* moto's 123456789012 and real IDs: nothing to say. */
	c = load_ok(
	    "accounts = ( { name = \"a\"; "
	    "role_arn = \"arn:aws:iam::123456789012:role/x\"; } );\n"
	    "schedule = ( { scenario = \"network-changes\"; every = \"1h\"; } );\n");
	assert_null(c->warnings);
	config_free(c);

	/* With an error the load fails with the errors only. */
	cause = load_bad(
	    "accounts = ( { name = \"a\"; "
	    "role_arn = \"arn:aws:iam::111122223333:role/x\"; } );\n"
	    "schedule = ( { scenario = \"nope\"; every = \"1h\"; } );\n");
	assert_null(strstr(cause, "warning"));
	assert_non_null(strstr(cause, "t.conf:2: schedule[0].scenario"));
	free(cause);
}

/* Settings that make runs skip or verdicts untrue warn, at their line. */
static void
test_timing_warnings(void **state)
{
	struct config	*c;
	char		*cause;

	/* The sandbox cycle: short deadline against AWS, period < deadline. */
	c = load_ok(minimal);
	assert_string_equal(c->warnings,
	    "t.conf:2: warning: verify.deadline (1m) is shorter than 15m: "
	    "CloudTrail shows an event to LookupEvents after about 5 minutes, "
	    "sometimes 15, so calls it logs late would be reported missing\n"
	    "t.conf:3: warning: schedule[0].every: the period (30s) is shorter "
	    "than verify.deadline (1m): a run that waits for a call CloudTrail "
	    "has not shown yet is still verifying when the next comes due, "
	    "which is then skipped");
	config_free(c);

	/* A local CloudTrail (aws.endpoint_url, or a CloudTrail endpoint):
	 * no delivery warning.  Period <= initial_delay; deadline + jitter;
	 * a daily "at" entry; disabled entries say nothing. */
	c = load_ok(
	    "aws = { endpoints = { cloudtrail = \"http://127.0.0.1:1\"; }; };\n"
	    "verify = { initial_delay = \"2m\"; deadline = \"10m\"; };\n"
	    "schedule = (\n"
	    "  { name = \"a\"; scenario = \"imds-reveal\"; every = \"2m\"; },\n"
	    "  { name = \"b\"; scenario = \"imds-reveal\"; every = \"15m\";\n"
	    "    jitter = \"6m\"; },\n"
	    "  { name = \"c\"; scenario = \"imds-reveal\"; every = \"10m\"; },\n"
	    "  { name = \"d\"; scenario = \"imds-reveal\"; at = \"01:00\"; },\n"
	    "  { name = \"e\"; scenario = \"imds-reveal\"; every = \"1m\";\n"
	    "    enabled = false; }\n"
	    ");\n");
	assert_string_equal(c->warnings,
	    "t.conf:4: warning: schedule[0].every: the period (2m) is not "
	    "longer than verify.initial_delay (2m): a run is still waiting for "
	    "its first lookup when the next comes due, so runs are skipped "
	    "every time\n"
	    "t.conf:5: warning: schedule[1].every: the period (15m) is shorter "
	    "than verify.deadline (10m) plus jitter (6m): a run that starts "
	    "late and waits for a call up to the deadline is still verifying "
	    "when the next comes due, which is then skipped");
	config_free(c);

	c = load_ok(
	    "aws = { endpoint_url = \"http://127.0.0.1:1\"; };\n"
	    "verify = { initial_delay = \"1h\"; deadline = \"2d\"; };\n"
	    "schedule = ( { scenario = \"imds-reveal\"; at = \"01:00\"; } );\n");
	assert_string_equal(c->warnings,
	    "t.conf:3: warning: schedule[0].at: the period (1d) is shorter "
	    "than verify.deadline (2d): a run that waits for a call CloudTrail "
	    "has not shown yet is still verifying when the next comes due, "
	    "which is then skipped");
	config_free(c);

	/* The HTTP timeouts: read, printed, and warned when inverted. */
	c = load_ok(
	    "daemon = { http_connect_timeout = \"2m\"; http_timeout = \"1m\"; };\n");
	assert_true(c->daemon.http_connect_timeout == 120);
	assert_true(c->daemon.http_timeout == 60);
	assert_string_equal(c->warnings,
	    "t.conf:1: warning: daemon.http_connect_timeout (2m) is longer "
	    "than daemon.http_timeout (1m), which limits connecting too");
	config_free(c);
	c = load_ok("");
	assert_true(c->daemon.http_connect_timeout == 5);
	assert_true(c->daemon.http_timeout == 30);
	assert_null(c->warnings);
	config_free(c);
	cause = load_bad("daemon = { http_timeout = \"2h\"; "
	    "http_connect_timeout = \"500ms\"; };\n");
	assert_string_equal(cause,
	    "t.conf:1: daemon.http_connect_timeout: 500ms is out of range "
	    "(1s to 5m)\n"
	    "t.conf:1: daemon.http_timeout: 2h is out of range (1s to 1h)");
	free(cause);
}

/*
 * A custom step's regions go through the config's one region validator:
 * a region of another partition is refused at load time, one declared in
 * aws.extra_regions is accepted; every error of the scenarios is reported.
 */
static void
test_custom_step_regions(void **state)
{
	struct config			*c;
	const struct config_custom	*cu;
	char				*cause;

	(void)state;
	cause = load_bad("scenarios = ( { name = \"x\"; summary = \"s\";\n"
	    " steps = ( { service = \"ec2\"; action = \"DescribeVpcs\";\n"
	    " regions = [ \"cn-north-1\" ]; },\n"
	    " { service = \"ec2\"; action = \"DescribeVpcz\"; } ); } );\n");
	assert_string_equal(cause, "t.conf:3: regions: region \"cn-north-1\" "
	    "is not in partition \"aws\"\n"
	    "t.conf:4: ec2 has no action \"DescribeVpcz\" (a request the "
	    "service cannot parse never reaches CloudTrail)");
	free(cause);
	c = load_ok("aws = { extra_regions = [ \"eu-west-9\" ]; };\n"
	    "scenarios = ( { name = \"x\"; summary = \"s\";\n"
	    " steps = ( { service = \"ec2\"; action = \"DescribeVpcs\";\n"
	    " regions = [ \"eu-west-9\" ]; } ); } );\n");
	cu = config_custom_find(c, "x");
	assert_non_null(cu);
	assert_string_equal(cu->scenario->steps[0].regions[0], "eu-west-9");
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_defaults_and_state_directory),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_known_gap_member),
		cmocka_unit_test(test_custom_step_regions),
		cmocka_unit_test(test_max_connections_per_host),
		cmocka_unit_test(test_all_errors_collected_and_sorted),
		cmocka_unit_test(test_accepted_shapes),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_default_path),
		cmocka_unit_test(test_files_and_includes),
		cmocka_unit_test(test_example_config),
		cmocka_unit_test(test_placeholder_warnings),
		cmocka_unit_test(test_timing_warnings),
	};

	unsetenv("STATE_DIRECTORY");
	/* The deadline warning depends on where LookupEvents would go. */
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_CLOUDTRAIL");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
