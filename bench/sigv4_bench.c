/*
 * sigv4_bench: sign N requests with libcloudsaga's SigV4 signer and print
 * the throughput as one JSON object on stdout.
 *
 *   sigv4_bench N [--no-cache] [--print-authz K]
 *
 * The requests are the two kinds the daemon sends most, with the headers
 * its client signs (host, x-amz-date and the protocol's headers): an EC2
 * Query POST (form body, a long-term key) and a CloudTrail LookupEvents
 * JSON 1.1 POST (x-amz-target, a session token).  They alternate, rotate over four
 * regions and carry the request number in the body, so every signature
 * hashes a different payload.  The inputs are built before the clock starts:
 * only sigv4_sign() and sigv4_output_free() are timed, the same share of
 * the work that bench/sigv4.py times in botocore (SigV4Auth.add_auth).
 *
 * --no-cache passes no key cache, so the signing key (four HMACs) is derived
 * for every request, as botocore does; by default the client's cache is
 * used, as in the daemon.  --print-authz K adds the Authorization values of
 * the first K requests, which bench/sigv4.py compares with botocore's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"
#include "xmalloc.h"

#define BENCH_DATE	"20250301T120000Z"
#define BENCH_AKID	"AKIDEXAMPLEBENCHKEY0"
#define BENCH_SECRET	"bench/secret/not/a/real/key/0000000000"
#define BENCH_ASIA	"ASIAEXAMPLEBENCHKEY0"
#define BENCH_SECRET2	"bench/session/secret/not/real/111111111"
#define BENCH_TOKEN	"IQoJb3JpZ2luX2VjEBenchSessionTokenNotReal" \
			"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
			"BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=="

static const char *const bench_regions[] = {
	"us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1",
};

struct bench_req {
	struct sigv4_header	 h[4];
	char			 host[64];
	char			*body;
	struct sigv4_input	 in;
};

static double
bench_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
bench_build(struct bench_req *r, size_t i)
{
	const char	*region = bench_regions[(i / 2) % 4];

	memset(r, 0, sizeof(*r));
	r->in.method = "POST";
	r->in.path = "/";
	r->in.query = "";
	r->in.region = region;
	r->in.headers = r->h;
	r->in.nheaders = 3;
	r->h[1].name = "x-amz-date";
	r->h[1].value = BENCH_DATE;
	r->h[0].name = "host";
	r->h[0].value = r->host;
	if (i % 2 == 0) {
		snprintf(r->host, sizeof(r->host), "ec2.%s.amazonaws.com",
		    region);
		r->h[2].name = "content-type";
		r->h[2].value = "application/x-www-form-urlencoded; "
		    "charset=utf-8";
		r->body = xprintf("Action=DescribeInstances&Version=2016-11-15"
		    "&Filter.1.Name=instance-state-name&Filter.1.Value.1="
		    "running&Filter.1.Value.2=stopped&MaxResults=1000&"
		    "NextToken=bench%zu", i);
		r->in.service = "ec2";
		r->in.access_key = BENCH_AKID;
		r->in.secret_key = BENCH_SECRET;
	} else {
		snprintf(r->host, sizeof(r->host),
		    "cloudtrail.%s.amazonaws.com", region);
		r->h[2].name = "content-type";
		r->h[2].value = "application/x-amz-json-1.1";
		r->in.nheaders = 4;
		r->h[3].name = "x-amz-target";
		r->h[3].value = "com.amazonaws.cloudtrail.v20131101."
		    "CloudTrail_20131101.LookupEvents";
		r->body = xprintf("{\"LookupAttributes\": [{\"AttributeKey\": "
		    "\"AccessKeyId\", \"AttributeValue\": \"" BENCH_ASIA "\"}]"
		    ", \"StartTime\": 1740830000, \"MaxResults\": 50, "
		    "\"NextToken\": \"bench%zu\"}", i);
		r->in.service = "cloudtrail";
		r->in.access_key = BENCH_ASIA;
		r->in.secret_key = BENCH_SECRET2;
		r->in.session_token = BENCH_TOKEN;
	}
	r->in.payload = r->body;
	r->in.payload_len = strlen(r->body);
}

static void
usage(void)
{
	fprintf(stderr, "usage: sigv4_bench N [--no-cache] "
	    "[--print-authz K]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct sigv4_keycache		*kc = NULL;
	struct sigv4_keycache_stats	 st;
	struct sigv4_output		 out;
	struct bench_req		*reqs;
	char				*cause = NULL, *end;
	double				 t0, t1;
	size_t				 n, i, warm, print = 0;
	int				 a, cache = 1;

	if (argc < 2)
		usage();
	n = strtoul(argv[1], &end, 10);
	if (*end != '\0' || n == 0)
		usage();
	for (a = 2; a < argc; a++) {
		if (strcmp(argv[a], "--no-cache") == 0)
			cache = 0;
		else if (strcmp(argv[a], "--print-authz") == 0 && a + 1 < argc)
			print = strtoul(argv[++a], NULL, 10);
		else
			usage();
	}
	if (cache)
		kc = sigv4_keycache_new();

	reqs = xcalloc(n, sizeof(*reqs));
	for (i = 0; i < n; i++)
		bench_build(&reqs[i], i);

	/* Warm up caches and the allocator on a tenth of the requests. */
	warm = n / 10 > 0 ? n / 10 : 1;
	for (i = 0; i < warm; i++) {
		if (sigv4_sign(&reqs[i].in, kc, &out, &cause) != 0) {
			fprintf(stderr, "sigv4_bench: %s\n", cause);
			return 1;
		}
		sigv4_output_free(&out);
	}

	t0 = bench_now();
	for (i = 0; i < n; i++) {
		if (sigv4_sign(&reqs[i].in, kc, &out, &cause) != 0) {
			fprintf(stderr, "sigv4_bench: %s\n", cause);
			return 1;
		}
		sigv4_output_free(&out);
	}
	t1 = bench_now();

	sigv4_keycache_stats(kc, &st);
	printf("{\"n\": %zu, \"cache\": %s, \"seconds\": %.6f, "
	    "\"per_second\": %.1f, \"us_per_sign\": %.3f, "
	    "\"key_derivations\": %lu", n, cache ? "true" : "false", t1 - t0,
	    n / (t1 - t0), (t1 - t0) * 1e6 / n, cache ? st.misses :
	    (unsigned long)(n + warm));
	if (print > 0) {
		printf(", \"authz\": [");
		for (i = 0; i < print && i < n; i++) {
			if (sigv4_sign(&reqs[i].in, kc, &out, &cause) != 0) {
				fprintf(stderr, "sigv4_bench: %s\n", cause);
				return 1;
			}
			printf("%s\"%s\"", i ? ", " : "", out.authz);
			sigv4_output_free(&out);
		}
		printf("]");
	}
	printf("}\n");

	for (i = 0; i < n; i++)
		free(reqs[i].body);
	free(reqs);
	sigv4_keycache_free(kc);
	return 0;
}
