/*
 * metrics: label escaping, the exposition text of rows in a real state
 * database (schema version 2, in a temporary directory), counting exactly
 * once across repeated counts and a reopen, and the atomic file write.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <event2/event.h>
#include <sqlite3.h>

#include "buf.h"
#include "config.h"
#include "db.h"
#include "metrics.h"
#include "util.h"
#include "xmalloc.h"

#define RUN_A	"0123456789abcdef0123456789abcdef"
#define RUN_B	"fedcba9876543210fedcba9876543210"

static char *
tmpdir(void)
{
	char	*d = xstrdup("/tmp/test_metrics.XXXXXX");

	if (mkdtemp(d) == NULL)
		fail_msg("mkdtemp: %s", strerror(errno));
	return d;
}

static void
rmtree(const char *path)
{
	char	*cmd = xprintf("rm -rf '%s'", path);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void
exec(struct db *d, const char *sql)
{
	char	*cause = NULL;

	if (db_exec(d, sql, &cause) == -1)
		fail_msg("%s: %s", sql, cause);
}

static struct config *
conf(const char *text)
{
	struct config	*cfg;
	char		*cause = NULL;

	if (config_load_string(text, "test.conf", &cfg, &cause) == -1)
		fail_msg("%s", cause);
	return cfg;
}

static char *
render(struct metrics *m)
{
	struct buf	 b;
	char		*cause = NULL;

	buf_init(&b);
	if (metrics_count(m, &cause) == -1 || metrics_render(m, &b, &cause) ==
	    -1)
		fail_msg("%s", cause);
	return buf_release(&b);
}

static void
test_escape(void **state)
{
	struct buf	 b;

	buf_init(&b);
	metrics_escape(&b, "a\\b\"c\nd");
	assert_string_equal(buf_str(&b), "a\\\\b\\\"c\\nd");
	buf_free(&b);
}

/* Two runs, one clean and one with a gap; rows queued (seq > 0). */
static void
seed(struct db *d)
{
	exec(d, "INSERT INTO runs (run_id, scenario, account, entry, started, "
	    "finished, summary_seq) VALUES ('" RUN_A "', 'network-changes', "
	    "'prod', 'nc', 1000.5, 1001, 3)");
	exec(d, "INSERT INTO expectations (run_id, idx, region, event_source, "
	    "event_name, read_only, role, fired_at, deadline, verdict, "
	    "found_at, seq) VALUES "
	    "('" RUN_A "', 0, 'us-east-1', 'ec2.amazonaws.com', 'CreateVpc', "
	    "0, 'signal', 1000, 2000, 'logged', 1045, 1), "
	    "('" RUN_A "', 1, 'us-east-1', 'ec2.amazonaws.com', "
	    "'DescribeRegions', 1, 'context', 1000, 2000, 'logged', 1400, 2)");
	exec(d, "INSERT INTO runs (run_id, scenario, account, entry, started, "
	    "finished, failed, summary_seq) VALUES ('" RUN_B "', "
	    "'network-changes', 'pr\"od', 'nc', 2000, 2001, 1, 6)");
	exec(d, "INSERT INTO expectations (run_id, idx, region, event_source, "
	    "event_name, read_only, fired_at, deadline, verdict, seq) VALUES "
	    "('" RUN_B "', 0, 'eu-west-1', 'ec2.amazonaws.com', 'CreateVpc', "
	    "0, 2000, 3000, 'missing', 4), "
	    "('" RUN_B "', 1, 'eu-west-1', 'ec2.amazonaws.com', 'CreateVpc', "
	    "0, 2000, 3000, 'pending', 0)");
}

static void
test_count_and_render(void **state)
{
	struct event_base	*base = event_base_new();
	struct config		*cfg;
	struct metrics		*m;
	struct db		*d;
	char			*dir = tmpdir(), *path, *cause = NULL, *t;

	path = xprintf("%s/state.db", dir);
	assert_non_null(d = db_open(path, 0, NULL, NULL, &cause));
	seed(d);
	cfg = conf("schedule = ( { name = \"nc\"; scenario = "
	    "\"network-changes\"; every = \"6h\"; } );\n");
	m = metrics_new(base, d, cfg);
	t = render(m);
	assert_non_null(strstr(t, "# HELP cloudsagad_verdicts_total "));
	assert_non_null(strstr(t, "# TYPE cloudsagad_verdicts_total counter\n"));
	assert_non_null(strstr(t, "cloudsagad_verdicts_total{scenario=\""
	    "network-changes\",region=\"us-east-1\",account=\"prod\",verdict="
	    "\"logged\",role=\"signal\"} 1\n"));
	assert_non_null(strstr(t, "cloudsagad_verdicts_total{scenario=\""
	    "network-changes\",region=\"us-east-1\",account=\"prod\",verdict="
	    "\"logged\",role=\"context\"} 1\n"));
	assert_non_null(strstr(t, "cloudsagad_verdicts_total{scenario=\""
	    "network-changes\",region=\"us-east-1\",account=\"prod\",verdict="
	    "\"missing\",role=\"signal\"} 0\n"));
	/* The account name escaped. */
	assert_non_null(strstr(t, "region=\"eu-west-1\",account=\"pr\\\"od\","
	    "verdict=\"missing\",role=\"signal\"} 1\n"));
	assert_non_null(strstr(t, "cloudsagad_technique_verdicts_total{"
	    "technique=\"T1535\",verdict=\"logged\"} 2\n"));
	assert_non_null(strstr(t, "cloudsagad_runs_total{entry=\"nc\","
	    "result=\"clean\"} 1\n"));
	assert_non_null(strstr(t, "cloudsagad_runs_total{entry=\"nc\","
	    "result=\"gap\"} 1\n"));
	assert_non_null(strstr(t, "cloudsagad_could_not_test_runs_total{"
	    "entry=\"nc\"} 1\n"));
	assert_non_null(strstr(t, "cloudsagad_last_run_timestamp_seconds{"
	    "entry=\"nc\"} 2000\n"));
	assert_non_null(strstr(t, "cloudsagad_last_clean_run_timestamp_seconds"
	    "{entry=\"nc\"} 1000.5\n"));
	assert_non_null(strstr(t, "cloudsagad_schedule_interval_seconds{"
	    "entry=\"nc\"} 21600\n"));
	assert_non_null(strstr(t, "cloudsagad_pending_expectations 1\n"));
	/* Latencies 45 s and 400 s. */
	assert_non_null(strstr(t, "_latency_seconds_bucket{le=\"30\"} 0\n"
	    "cloudsagad_cloudtrail_delivery_latency_seconds_bucket{le=\"60\"} "
	    "1\n"));
	assert_non_null(strstr(t, "_bucket{le=\"300\"} 1\n"));
	assert_non_null(strstr(t, "_bucket{le=\"600\"} 2\n"));
	assert_non_null(strstr(t, "_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(t, "_latency_seconds_sum 445\n"));
	assert_non_null(strstr(t, "_latency_seconds_count 2\n"));
	assert_null(strstr(t, "lookup_events_requests_total{"));
	free(t);

	/* Counted once: again, and after lookups and a reopen. */
	metrics_lookup(m, "prod", "us-east-1", 0);
	metrics_lookup(m, "prod", "us-east-1", 1);
	t = render(m);
	assert_non_null(strstr(t, "cloudsagad_runs_total{entry=\"nc\","
	    "result=\"clean\"} 1\n"));
	assert_non_null(strstr(t, "_latency_seconds_count 2\n"));
	assert_non_null(strstr(t, "cloudsagad_lookup_events_requests_total{"
	    "account=\"prod\",region=\"us-east-1\"} 2\n"));
	assert_non_null(strstr(t, "cloudsagad_lookup_events_throttles_total{"
	    "account=\"prod\",region=\"us-east-1\"} 1\n"));
	free(t);
	metrics_free(m);	/* no file configured: writes nothing */
	db_close(d);

	assert_non_null(d = db_open(path, 0, NULL, NULL, &cause));
	/* The pending row decided and queued, a third run summarised. */
	exec(d, "UPDATE expectations SET verdict = 'unverified', seq = 7 "
	    "WHERE run_id = '" RUN_B "' AND idx = 1");
	m = metrics_new(base, d, cfg);
	t = render(m);
	assert_non_null(strstr(t, "cloudsagad_runs_total{entry=\"nc\","
	    "result=\"clean\"} 1\n"));
	assert_non_null(strstr(t, "region=\"eu-west-1\",account=\"pr\\\"od\","
	    "verdict=\"unverified\",role=\"signal\"} 1\n"));
	assert_non_null(strstr(t, "cloudsagad_lookup_events_requests_total{"
	    "account=\"prod\",region=\"us-east-1\"} 2\n"));
	assert_non_null(strstr(t, "cloudsagad_pending_expectations 0\n"));
	free(t);
	metrics_free(m);
	db_close(d);
	config_free(cfg);
	event_base_free(base);
	rmtree(dir);
	free(dir);
	free(path);
}

static void
test_write_file(void **state)
{
	char		*dir = tmpdir(), *path, *cause = NULL, buf[64], *ln;
	struct stat	 st;
	int		 fd;
	ssize_t		 n;

	path = xprintf("%s/x.prom", dir);
	umask(077);
	assert_int_equal(metrics_write_file(path, "a 1\n", 4, &cause), 0);
	assert_int_equal(metrics_write_file(path, "b 2\n", 4, &cause), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_not_equal((fd = open(path, O_RDONLY)), -1);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_int_equal(n, 4);
	buf[n] = '\0';
	assert_string_equal(buf, "b 2\n");
	/* Nothing else in the directory. */
	ln = xprintf("test \"$(ls -A '%s')\" = x.prom", dir);
	assert_int_equal(system(ln), 0);
	free(ln);
	/* A directory that is not there: an error, nothing left. */
	free(path);
	path = xprintf("%s/nope/x.prom", dir);
	assert_int_equal(metrics_write_file(path, "a 1\n", 4, &cause), -1);
	assert_non_null(strstr(cause, "nope"));
	free(cause);
	rmtree(dir);
	free(dir);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_count_and_render),
		cmocka_unit_test(test_write_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
