/*
 * engine_bench: signed EC2 DryRun calls through the project's real engine
 * (aws_client on the curl-multi-on-libevent http engine: safety guard,
 * encode, SigV4, send, decode, classify), N calls with K in flight, against
 * a loopback endpoint.  Prints one JSON object on stdout.
 *
 *   engine_bench URL N K [--warmup W]
 *
 * URL must be http://127.x.y.z:port (loopback only).  Every call is
 * ec2:CreateVpc with DryRun=true (the safety class dry-run), signed with
 * fake static keys; the endpoint is expected to answer HTTP 412
 * DryRunOperation, which the client classifies as AWS_PERMITTED - any
 * other outcome is counted and makes the exit status 1.  The http engine
 * gets max_total = max_per_host = K, so K calls are really in flight at
 * once on K keep-alive connections.  W calls (default K) run first and are
 * not measured (connections opened, caches warm).
 *
 * Latency is from aws_client_send() to the callback (monotonic clock);
 * CPU is this process's user + system time (getrusage) over the measured
 * calls; peak RSS is VmHWM from /proc/self/status at the end.
 */
#include <sys/resource.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "aws.h"
#include "client.h"
#include "creds.h"
#include "http.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

struct bench {
	struct event_base	*base;
	struct aws_client	*client;
	struct creds_provider	*creds;
	const struct aws_service *ec2;
	size_t			 total;		/* calls to make */
	size_t			 sent;
	size_t			 done;
	size_t			 permitted;
	size_t			 other;
	size_t			 measured_from;	/* first measured call */
	double			*lat;		/* per measured call, seconds */
	double			 t0, t1;
	double			 cpu0, cpu1;	/* user + system, seconds */
	char			 first_bad[256];
};

struct bench_call {
	struct bench	*b;
	size_t		 seq;
	double		 start;
};

static double
bench_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
bench_cpu(void)
{
	struct rusage	 ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void	bench_send(struct bench *);

static void
bench_done(const struct aws_request *req, struct aws_result *res, void *arg)
{
	struct bench_call	*bc = arg;
	struct bench		*b = bc->b;
	double			 now = bench_now();

	if (res->outcome == AWS_PERMITTED && res->error_code != NULL &&
	    strcmp(res->error_code, "DryRunOperation") == 0)
		b->permitted++;
	else {
		if (b->other++ == 0)
			snprintf(b->first_bad, sizeof(b->first_bad),
			    "%s (HTTP %ld, %s)", aws_outcome_name(res->outcome),
			    res->status, res->error_code ? res->error_code :
			    "no code");
	}
	if (bc->seq >= b->measured_from)
		b->lat[bc->seq - b->measured_from] = now - bc->start;
	b->done++;
	if (b->done == b->measured_from) {
		b->t0 = now;
		b->cpu0 = bench_cpu();
	}
	if (b->done == b->total) {
		b->t1 = now;
		b->cpu1 = bench_cpu();
	}
	free(bc);
	bench_send(b);
}

static void
bench_send(struct bench *b)
{
	struct aws_request	*req;
	struct bench_call	*bc;

	if (b->sent == b->total)
		return;
	req = aws_request_new(b->ec2, "CreateVpc", "us-east-1");
	aws_request_add(req, "CidrBlock", "10.%zu.0.0/16", b->sent % 256);
	aws_request_add(req, "DryRun", "true");
	req->run_id = xstrdup("0123456789abcdef0123456789abcdef");
	bc = xcalloc(1, sizeof(*bc));
	bc->b = b;
	bc->seq = b->sent++;
	bc->start = bench_now();
	aws_client_send(b->client, b->creds, req, bench_done, bc);
}

static int
bench_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
bench_pct(const double *v, size_t n, double p)
{
	size_t	 i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i];
}

static long
bench_vmhwm_kb(void)
{
	FILE	*f;
	char	 line[256];
	long	 kb = -1;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
usage(void)
{
	fprintf(stderr, "usage: engine_bench URL N K [--warmup W]\n");
	exit(2);
}

int
main(int argc, char *argv[])
{
	struct bench		 b;
	struct http_engine_opts	 hopts;
	struct aws_client_opts	 copts;
	struct http_engine	*http;
	struct http_stats	 hs;
	const char		*url;
	char			*end;
	size_t			 n, k, warm, i, nlat;

	if (argc < 4)
		usage();
	url = argv[1];
	if (strncmp(url, "http://127.", 11) != 0) {
		fprintf(stderr, "engine_bench: %s: loopback (http://127.x) "
		    "only\n", url);
		return 2;
	}
	n = strtoul(argv[2], &end, 10);
	if (*end != '\0' || n == 0)
		usage();
	k = strtoul(argv[3], &end, 10);
	if (*end != '\0' || k == 0 || k > 4096)
		usage();
	warm = k;
	for (i = 4; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--warmup") == 0 && i + 1 < (size_t)argc)
			warm = strtoul(argv[++i], NULL, 10);
		else
			usage();
	}

	log_init(LOG_TO_STDERR, "engine_bench", LOG_WARNING);
	memset(&b, 0, sizeof(b));
	b.total = warm + n;
	b.measured_from = warm;
	b.lat = xcalloc(n, sizeof(*b.lat));
	if ((b.ec2 = aws_service_find("ec2")) == NULL)
		fatalx("no ec2 service");
	if ((b.base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	memset(&hopts, 0, sizeof(hopts));
	hopts.max_total = (int)k;
	hopts.max_per_host = (int)k;
	http = http_engine_new(b.base, &hopts);
	memset(&copts, 0, sizeof(copts));
	copts.endpoints.explicit_url = url;
	copts.max_attempts = 1;		/* a retry would hide a failure */
	b.client = aws_client_new(b.base, http, &copts);
	b.creds = creds_static("AKIDEXAMPLEBENCHKEY0",
	    "bench/fake/secret/not/a/real/key", NULL);

	if (warm == 0) {
		b.t0 = bench_now();
		b.cpu0 = bench_cpu();
	}
	for (i = 0; i < k && i < b.total; i++)
		bench_send(&b);
	while (b.done < b.total)
		if (event_base_loop(b.base, EVLOOP_ONCE) != 0)
			break;

	http_engine_stats(http, &hs);
	nlat = n;
	qsort(b.lat, nlat, sizeof(*b.lat), bench_cmp);
	printf("{\"n\": %zu, \"concurrency\": %zu, \"warmup\": %zu, "
	    "\"seconds\": %.6f, \"calls_per_s\": %.1f, \"p50_ms\": %.3f, "
	    "\"p99_ms\": %.3f, \"max_ms\": %.3f, \"permitted\": %zu, "
	    "\"other\": %zu, \"first_other\": \"%s\", \"connects\": %lu, "
	    "\"max_active\": %d, \"vmhwm_kb\": %ld, "
	    "\"cpu_us_per_call\": %.3f}\n", n, k, warm,
	    b.t1 - b.t0, n / (b.t1 - b.t0),
	    bench_pct(b.lat, nlat, 0.50) * 1e3,
	    bench_pct(b.lat, nlat, 0.99) * 1e3, b.lat[nlat - 1] * 1e3,
	    b.permitted, b.other, b.first_bad, hs.connects,
	    hs.max_active_seen, bench_vmhwm_kb(), (b.cpu1 - b.cpu0) * 1e6 / n);

	creds_provider_free(b.creds);
	aws_client_free(b.client);
	http_engine_free(http);
	event_base_free(b.base);
	free(b.lat);
	return b.other == 0 && b.done == b.total ? 0 : 1;
}
