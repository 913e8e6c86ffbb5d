/*
 * endpoint resolution: standard hostnames of every service in the three
 * partitions, IAM's global endpoint and signing region, S3 addressing,
 * every override variable and their precedence, and bad override URLs.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "endpoint.h"
#include "xmalloc.h"

static void
clear_env(void)
{
	const struct aws_service	*s;
	char				*v;

	for (s = aws_services(); s->id != NULL; s++) {
		v = xprintf("AWS_ENDPOINT_URL_%s", s->env_name);
		unsetenv(v);
		free(v);
	}
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
}

static int
setup(void **state)
{
	(void)state;
	clear_env();
	return 0;
}

static void
resolve_ok(const char *svc, const char *region, const char *bucket,
    const struct endpoint_opts *opts, struct aws_endpoint *ep)
{
	char	*cause = NULL;

	if (endpoint_resolve(aws_service_find(svc), region, bucket, opts, ep,
	    &cause) != 0)
		fail_msg("%s %s: %s", svc, region, cause);
}

static char *
resolve_fails(const char *svc, const char *region,
    const struct endpoint_opts *opts)
{
	struct aws_endpoint	 ep;
	char			*cause = NULL;

	memset(&ep, 0, sizeof(ep));
	if (endpoint_resolve(aws_service_find(svc), region, NULL, opts, &ep,
	    &cause) == 0)
		fail_msg("%s %s: resolved to %s", svc, region, ep.url);
	assert_non_null(cause);
	assert_null(ep.url);
	return cause;
}

static void
test_partitions(void **state)
{
	(void)state;
	assert_string_equal(endpoint_partition("us-east-1"), "aws");
	assert_string_equal(endpoint_partition("ap-southeast-4"), "aws");
	assert_string_equal(endpoint_partition("cn-north-1"), "aws-cn");
	assert_string_equal(endpoint_partition("cn-northwest-1"), "aws-cn");
	assert_string_equal(endpoint_partition("us-gov-west-1"),
	    "aws-us-gov");
	assert_string_equal(endpoint_partition("us-gov-east-1"),
	    "aws-us-gov");
	assert_string_equal(endpoint_partition("us-iso-east-1"), "aws-iso");
	assert_string_equal(endpoint_partition("us-isob-east-1"),
	    "aws-iso-b");
	assert_string_equal(endpoint_dns_suffix("aws"), "amazonaws.com");
	assert_string_equal(endpoint_dns_suffix("aws-cn"), "amazonaws.com.cn");
	assert_string_equal(endpoint_dns_suffix("aws-us-gov"),
	    "amazonaws.com");
	assert_null(endpoint_dns_suffix("aws-iso"));
	assert_null(endpoint_dns_suffix(NULL));
	assert_string_equal(endpoint_home_region("aws"), "us-east-1");
	assert_string_equal(endpoint_home_region("aws-cn"), "cn-north-1");
	assert_string_equal(endpoint_home_region("aws-us-gov"),
	    "us-gov-west-1");
	assert_null(endpoint_home_region("aws-iso"));
	assert_null(endpoint_home_region(NULL));
}

/* endpoint_url_check(): the override rules, without resolving. */
static void
test_url_check(void **state)
{
	char	*cause = NULL;

	(void)state;
	assert_int_equal(endpoint_url_check("k", "http://127.0.0.1:4566/base",
	    &cause), 0);
	assert_null(cause);
	assert_int_equal(endpoint_url_check("k", "https://u:pw@h", &cause), -1);
	assert_string_equal(cause, "k: user information in an endpoint URL "
	    "is not allowed");
	assert_null(strstr(cause, "pw"));
	free(cause);
	assert_int_equal(endpoint_url_check("k", "http://h:0", &cause), -1);
	assert_string_equal(cause, "k: endpoint URL http://h:0 has an invalid "
	    "port");
	free(cause);
}

/* Every service in every partition. */
static void
test_standard_hosts(void **state)
{
	static const struct {
		const char	*region;
		const char	*suffix;
		const char	*iam_host, *iam_region;
	} parts[] = {
		{ "eu-west-3", "amazonaws.com", "iam.amazonaws.com",
		    "us-east-1" },
		{ "af-south-1", "amazonaws.com", "iam.amazonaws.com",
		    "us-east-1" },
		{ "cn-northwest-1", "amazonaws.com.cn",
		    "iam.cn-north-1.amazonaws.com.cn", "cn-north-1" },
		{ "us-gov-east-1", "amazonaws.com", "iam.us-gov.amazonaws.com",
		    "us-gov-west-1" },
	};
	static const char *const prefixes[][2] = {
		{ "ec2", "ec2" }, { "sts", "sts" }, { "rds", "rds" },
		{ "monitoring", "monitoring" }, { "cloudwatch", "monitoring" },
		{ "cloudtrail", "cloudtrail" }, { "events", "events" },
		{ "eventbridge", "events" }, { "ssm", "ssm" },
		{ "logs", "logs" }, { "guardduty", "guardduty" },
		{ "s3", "s3" },
	};
	struct aws_endpoint	 ep;
	char			*want;
	size_t			 i, k;

	(void)state;
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		for (k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
			resolve_ok(prefixes[k][0], parts[i].region, NULL,
			    NULL, &ep);
			want = xprintf("%s.%s.%s", prefixes[k][1],
			    parts[i].region, parts[i].suffix);
			assert_string_equal(ep.host, want);
			free(want);
			want = xprintf("https://%s.%s.%s", prefixes[k][1],
			    parts[i].region, parts[i].suffix);
			assert_string_equal(ep.url, want);
			free(want);
			assert_string_equal(ep.signing_region,
			    parts[i].region);
			assert_string_equal(ep.signing_name, prefixes[k][1]);
			assert_string_equal(ep.base_path, "");
			assert_false(ep.overridden);
			assert_false(ep.path_style);
			endpoint_free(&ep);
		}
		/* IAM: one endpoint per partition. */
		resolve_ok("iam", parts[i].region, NULL, NULL, &ep);
		assert_string_equal(ep.host, parts[i].iam_host);
		want = xprintf("https://%s", parts[i].iam_host);
		assert_string_equal(ep.url, want);
		free(want);
		assert_string_equal(ep.signing_region, parts[i].iam_region);
		assert_string_equal(ep.signing_name, "iam");
		endpoint_free(&ep);
	}
}

static void
test_s3_addressing(void **state)
{
	struct aws_endpoint	 ep;
	char			*path, *url;

	(void)state;
	resolve_ok("s3", "eu-west-1", "cloudsaga-1-abc", NULL, &ep);
	assert_string_equal(ep.host,
	    "cloudsaga-1-abc.s3.eu-west-1.amazonaws.com");
	assert_false(ep.path_style);
	endpoint_target(&ep, "cloudsaga-1-abc", "/", "publicAccessBlock",
	    &path, &url);
	assert_string_equal(path, "/");
	assert_string_equal(url, "https://cloudsaga-1-abc.s3.eu-west-1."
	    "amazonaws.com/?publicAccessBlock");
	free(path);
	free(url);
	endpoint_free(&ep);

	/* Dots (TLS wildcard), upper case, underscores: path style. */
	resolve_ok("s3", "eu-west-1", "my.bucket", NULL, &ep);
	assert_string_equal(ep.host, "s3.eu-west-1.amazonaws.com");
	assert_true(ep.path_style);
	endpoint_target(&ep, "my.bucket", "/", "location", &path, &url);
	assert_string_equal(path, "/my.bucket");
	assert_string_equal(url,
	    "https://s3.eu-west-1.amazonaws.com/my.bucket?location");
	free(path);
	free(url);
	endpoint_free(&ep);
	resolve_ok("s3", "cn-north-1", "My_Bucket", NULL, &ep);
	assert_string_equal(ep.host, "s3.cn-north-1.amazonaws.com.cn");
	assert_true(ep.path_style);
	endpoint_free(&ep);

	/* No bucket (ListBuckets). */
	resolve_ok("s3", "us-east-1", NULL, NULL, &ep);
	assert_string_equal(ep.host, "s3.us-east-1.amazonaws.com");
	assert_false(ep.path_style);
	endpoint_target(&ep, NULL, "/", "", &path, &url);
	assert_string_equal(path, "/");
	assert_string_equal(url, "https://s3.us-east-1.amazonaws.com/");
	free(path);
	free(url);
	endpoint_free(&ep);

	assert_true(endpoint_bucket_virtual("abc"));
	assert_true(endpoint_bucket_virtual("a-1-b"));
	assert_false(endpoint_bucket_virtual("ab"));
	assert_false(endpoint_bucket_virtual("-ab"));
	assert_false(endpoint_bucket_virtual("ab-"));
	assert_false(endpoint_bucket_virtual("a.b.c"));
	assert_false(endpoint_bucket_virtual("ABC"));
	assert_false(endpoint_bucket_virtual(NULL));
}

/* AWS_ENDPOINT_URL_<SERVICE> for every service; signing stays put. */
static void
test_service_env_overrides(void **state)
{
	static const char *const envs[][3] = {
		{ "ec2", "EC2", "eu-west-1" },
		{ "iam", "IAM", "us-east-1" },
		{ "sts", "STS", "eu-west-1" },
		{ "rds", "RDS", "eu-west-1" },
		{ "monitoring", "CLOUDWATCH", "eu-west-1" },
		{ "cloudtrail", "CLOUDTRAIL", "eu-west-1" },
		{ "events", "EVENTBRIDGE", "eu-west-1" },
		{ "ssm", "SSM", "eu-west-1" },
		{ "logs", "CLOUDWATCH_LOGS", "eu-west-1" },
		{ "guardduty", "GUARDDUTY", "eu-west-1" },
		{ "s3", "S3", "eu-west-1" },
	};
	const struct aws_service	*s;
	struct aws_endpoint		 ep;
	char				*var;
	size_t				 i;

	(void)state;
	for (i = 0; i < sizeof(envs) / sizeof(envs[0]); i++) {
		var = xprintf("AWS_ENDPOINT_URL_%s", envs[i][1]);
		setenv(var, "http://127.0.0.1:4566", 1);
		resolve_ok(envs[i][0], "eu-west-1", NULL, NULL, &ep);
		assert_string_equal(ep.url, "http://127.0.0.1:4566");
		assert_string_equal(ep.host, "127.0.0.1:4566");
		assert_string_equal(ep.base_path, "");
		assert_true(ep.overridden);
		assert_string_equal(ep.signing_region, envs[i][2]);
		endpoint_free(&ep);
		/* ... and only for that service. */
		for (s = aws_services(); s->id != NULL; s++) {
			if (strcmp(s->id, envs[i][0]) == 0)
				continue;
			resolve_ok(s->id, "eu-west-1", NULL, NULL, &ep);
			assert_false(ep.overridden);
			endpoint_free(&ep);
		}
		unsetenv(var);
		free(var);
	}
}

static void
test_precedence(void **state)
{
	static const char *const svc_cfg[] = {
		"iam=http://127.0.0.1:1003", "cloudwatch_logs=http://127.0.0.1:1005",
		"eventbridge=http://127.0.0.1:1006", NULL,
	};
	struct endpoint_opts	 opts = {
		.endpoint_url = "http://127.0.0.1:1004", .service_urls = svc_cfg,
	};
	struct aws_endpoint	 ep;

	(void)state;
	/* global config only */
	resolve_ok("ec2", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1004");
	assert_string_equal(ep.signing_region, "us-west-2");
	endpoint_free(&ep);
	/* service config beats global config (names as config spells them) */
	resolve_ok("iam", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1003");
	assert_string_equal(ep.signing_region, "us-east-1");
	endpoint_free(&ep);
	resolve_ok("logs", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1005");
	endpoint_free(&ep);
	resolve_ok("events", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1006");
	endpoint_free(&ep);
	/* global env beats both configs */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1002", 1);
	resolve_ok("iam", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1002");
	endpoint_free(&ep);
	/* service env beats everything */
	setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:1001", 1);
	resolve_ok("iam", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1001");
	endpoint_free(&ep);
	resolve_ok("ec2", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1002");
	endpoint_free(&ep);
	/* empty means unset */
	setenv("AWS_ENDPOINT_URL_IAM", "", 1);
	resolve_ok("iam", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1002");
	endpoint_free(&ep);
	setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:1001", 1);
	/* the ignore switch drops all four */
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
	resolve_ok("iam", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "https://iam.amazonaws.com");
	assert_false(ep.overridden);
	endpoint_free(&ep);
	resolve_ok("ec2", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "https://ec2.us-west-2.amazonaws.com");
	endpoint_free(&ep);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
	resolve_ok("iam", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1001");
	endpoint_free(&ep);
	/* an explicit URL (--endpoint-url) beats every one of them, the
	 * ignore switch included, and keeps the call's signing region */
	opts.explicit_url = "http://127.0.0.1:1000";
	resolve_ok("iam", "us-west-2", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1000");
	assert_string_equal(ep.signing_region, "us-east-1");
	endpoint_free(&ep);
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	resolve_ok("ec2", "eu-west-1", NULL, &opts, &ep);
	assert_string_equal(ep.url, "http://127.0.0.1:1000");
	assert_string_equal(ep.signing_region, "eu-west-1");
	assert_true(ep.overridden);
	endpoint_free(&ep);
	clear_env();
}

static void
test_override_forms(void **state)
{
	static const struct {
		const char	*in, *url, *host, *base;
	} cases[] = {
		{ "http://LocalHost:4566/", "http://localhost:4566",
		    "localhost:4566", "" },
		{ "HTTPS://Example.COM:443/prefix/", "https://example.com",
		    "example.com", "/prefix" },
		{ "http://127.0.0.1:80", "http://127.0.0.1", "127.0.0.1", "" },
		{ "https://127.0.0.1:80", "https://127.0.0.1:80",
		    "127.0.0.1:80", "" },
		{ "http://[::1]:5000/a/b", "http://[::1]:5000", "[::1]:5000",
		    "/a/b" },
		{ "https://[FD00:EC2::254]", "https://[fd00:ec2::254]",
		    "[fd00:ec2::254]", "" },
		{ "http://my_host.internal:8080//", "http://my_host.internal:8080",
		    "my_host.internal:8080", "" },
	};
	struct aws_endpoint	 ep;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("AWS_ENDPOINT_URL", cases[i].in, 1);
		resolve_ok("sts", "eu-central-1", NULL, NULL, &ep);
		assert_string_equal(ep.url, cases[i].url);
		assert_string_equal(ep.host, cases[i].host);
		assert_string_equal(ep.base_path, cases[i].base);
		endpoint_free(&ep);
	}
	clear_env();
}

static void
test_override_s3(void **state)
{
	struct aws_endpoint	 ep;
	char			*path, *url;

	(void)state;
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000/base/", 1);
	resolve_ok("s3", "eu-west-1", "cloudsaga-1-abc", NULL, &ep);
	assert_true(ep.overridden);
	assert_true(ep.path_style);
	assert_string_equal(ep.signing_region, "eu-west-1");
	endpoint_target(&ep, "cloudsaga-1-abc", "/", "publicAccessBlock",
	    &path, &url);
	assert_string_equal(path, "/base/cloudsaga-1-abc");
	assert_string_equal(url, "http://127.0.0.1:9000/base/cloudsaga-1-abc"
	    "?publicAccessBlock");
	free(path);
	free(url);
	/* Bucket names are URI-encoded in the path. */
	endpoint_target(&ep, "odd bucket", "/", NULL, &path, NULL);
	assert_string_equal(path, "/base/odd%20bucket");
	free(path);
	endpoint_target(&ep, NULL, "/", NULL, &path, NULL);
	assert_string_equal(path, "/base/");
	free(path);
	endpoint_free(&ep);
	clear_env();

	/* GuardDuty paths go after the base path. */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9000/p", 1);
	resolve_ok("guardduty", "eu-west-1", NULL, NULL, &ep);
	endpoint_target(&ep, NULL, "/detector/d1/findings", "", &path, &url);
	assert_string_equal(path, "/p/detector/d1/findings");
	assert_string_equal(url, "http://127.0.0.1:9000/p/detector/d1/findings");
	free(path);
	free(url);
	endpoint_free(&ep);
	clear_env();
}

static void
test_bad_overrides(void **state)
{
	static const struct {
		const char	*url, *cause;
	} cases[] = {
		{ "ftp://127.0.0.1", "scheme must be http or https" },
		{ "localhost:4566", "no scheme" },
		{ "127.0.0.1", "no scheme" },
		{ "http://", "no host" },
		{ "http://:4566", "no host" },
		{ "http:///path", "no host" },
		{ "http://[]:1", "no host" },
		{ "http://h?x=1", "query or fragment" },
		{ "http://h/p?x=1", "query or fragment" },
		{ "http://h#f", "query or fragment" },
		{ "http://h:0", "invalid port" },
		{ "http://h:65536", "invalid port" },
		{ "http://h:", "invalid port" },
		{ "http://h:8o", "invalid port" },
		{ "http://h x", "spaces or control" },
		{ "http://h\r\nX-Evil: 1", "spaces or control" },
		{ "http://[::1", "invalid host" },
		{ "http://[::1]x", "invalid host" },
		{ "http://ho$t", "invalid host" },
	};
	struct endpoint_opts	 opts = { .partition = NULL };
	static const char *const bad_cfg[] = { "ec2", NULL };
	char			*cause;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		setenv("AWS_ENDPOINT_URL_EC2", cases[i].url, 1);
		cause = resolve_fails("ec2", "us-east-1", NULL);
		if (strstr(cause, cases[i].cause) == NULL ||
		    strstr(cause, "AWS_ENDPOINT_URL_EC2") == NULL)
			fail_msg("%s: cause \"%s\"", cases[i].url, cause);
		free(cause);
	}
	/* User info is refused and never echoed. */
	setenv("AWS_ENDPOINT_URL_EC2", "http://admin:hunter2@127.0.0.1:1", 1);
	cause = resolve_fails("ec2", "us-east-1", NULL);
	assert_non_null(strstr(cause, "user information"));
	assert_null(strstr(cause, "hunter2"));
	free(cause);
	setenv("AWS_ENDPOINT_URL_EC2", "ftp://u:hunter2@h", 1);
	cause = resolve_fails("ec2", "us-east-1", NULL);
	assert_null(strstr(cause, "hunter2"));
	free(cause);
	clear_env();

	/* Config sources are named too. */
	opts.endpoint_url = "gopher://x";
	cause = resolve_fails("ec2", "us-east-1", &opts);
	assert_non_null(strstr(cause, "endpoint_url"));
	free(cause);
	opts.endpoint_url = NULL;
	opts.service_urls = bad_cfg;
	cause = resolve_fails("ec2", "us-east-1", &opts);
	assert_non_null(strstr(cause, "service=url"));
	free(cause);
}

static void
test_bad_regions(void **state)
{
	static const char *const bad[] = {
		"", "US-EAST-1", "us-east-1.evil.com", "us-east-1/x", "-x",
		"x-", "us east", "us-east-1\n",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct endpoint_opts	 opts = { .partition = "bogus" };
	struct aws_endpoint	 ep;
	char			*cause = NULL;
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cause = resolve_fails("ec2", bad[i], NULL);
		assert_non_null(strstr(cause, "invalid region"));
		free(cause);
	}
	cause = resolve_fails("ec2", NULL, NULL);
	free(cause);
	cause = resolve_fails("ec2", "us-iso-east-1", NULL);
	assert_non_null(strstr(cause, "not supported"));
	free(cause);
	cause = resolve_fails("ec2", "us-east-1", &opts);
	assert_non_null(strstr(cause, "not supported"));
	free(cause);
	assert_int_equal(endpoint_resolve(NULL, "us-east-1", NULL, NULL, &ep,
	    &cause), -1);
	free(cause);

	/* An explicit partition is used as given. */
	opts.partition = "aws-cn";
	resolve_ok("ec2", "cn-north-1", NULL, &opts, &ep);
	assert_string_equal(ep.host, "ec2.cn-north-1.amazonaws.com.cn");
	endpoint_free(&ep);
	endpoint_free(&ep);
	endpoint_free(NULL);
}

/* The one region validator: listed regions, their partitions, and what
 * is refused (not a region, another partition, unsupported partitions). */
static void
test_region_check(void **state)
{
	static const char *const extra[] = { "eu-west-9", NULL };
	static const struct {
		const char	*region, *partition;
		int		 ok;
		const char	*why;
	} cases[] = {
		{ "us-east-1", NULL, 1, NULL },
		{ "ap-southeast-7", "aws", 1, NULL },
		{ "mx-central-1", "aws", 1, NULL },
		{ "cn-northwest-1", "aws-cn", 1, NULL },
		{ "us-gov-west-1", "aws-us-gov", 1, NULL },
		{ "mars-1", NULL, 0, "bad region name \"mars-1\"" },
		{ "us-east", NULL, 0, "bad region name" },
		{ "US-EAST-1", NULL, 0, "bad region name" },
		{ "", NULL, 0, "empty region name" },
		{ "eu-wset-1", "aws", 0, "not a region of partition aws" },
		{ "us-east-1", "aws-cn", 0, "not in partition \"aws-cn\"" },
		{ "cn-north-1", "aws", 0, "not in partition \"aws\"" },
		{ "us-iso-east-1", NULL, 0, "does not support" },
		{ "eu-isoe-west-1", NULL, 0, "does not support" },
	};
	char	*cause;
	size_t	 i;
	int	 known;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cause = NULL;
		if ((endpoint_region_check(cases[i].region, cases[i].partition,
		    NULL, &cause) == 0) != cases[i].ok)
			fail_msg("%s: %s", cases[i].region, cause ? cause :
			    "accepted");
		if (!cases[i].ok && strstr(cause, cases[i].why) == NULL)
			fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].region,
			    cause, cases[i].why);
		free(cause);
	}
	/* A region the user declares (opened after the list was made). */
	cause = NULL;
	assert_int_equal(endpoint_region_check("eu-west-9", "aws", extra,
	    &cause), 0);
	assert_int_equal(endpoint_region_check("eu-west-9", "aws", NULL,
	    &cause), -1);
	free(cause);
	/* Partitions agree with endpoint_partition(). */
	assert_string_equal(endpoint_region_partition("us-isob-east-1",
	    &known), "aws-iso-b");
	assert_true(known);
	assert_string_equal(endpoint_partition("us-isob-east-1"), "aws-iso-b");
	assert_string_equal(endpoint_region_partition("eu-south-7", &known),
	    "aws");
	assert_false(known);
	assert_null(endpoint_region_partition("mars-1", &known));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_check),
		cmocka_unit_test_setup(test_partitions, setup),
		cmocka_unit_test_setup(test_standard_hosts, setup),
		cmocka_unit_test_setup(test_s3_addressing, setup),
		cmocka_unit_test_setup(test_service_env_overrides, setup),
		cmocka_unit_test_setup(test_precedence, setup),
		cmocka_unit_test_setup(test_override_forms, setup),
		cmocka_unit_test_setup(test_override_s3, setup),
		cmocka_unit_test_setup(test_bad_overrides, setup),
		cmocka_unit_test_setup(test_bad_regions, setup),
		cmocka_unit_test(test_region_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
