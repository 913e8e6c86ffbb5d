/*
 * ledger: persistence in the state database, reload, damaged databases set
 * aside, hostile rows healed, the migration of the JSON layout of earlier
 * versions, sequence numbers, pruning and the directory lock - on real
 * files in a temporary directory.
 */
#include <dirent.h>
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
#include <jansson.h>

#include <sqlite3.h>

#include "db.h"
#include "ledger.h"
#include "log.h"
#include "schedmem.h"
#include "util.h"
#include "xmalloc.h"

#define RUN_A	"0123456789abcdef0123456789abcdef"
#define RUN_B	"fedcba9876543210fedcba9876543210"

static char *
tmpdir(void)
{
	char	*d = xstrdup("/tmp/test_ledger.XXXXXX");

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
fill(struct expectation *x, const char *run_id, const char *name,
    const char *request_id, double fired)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->run_id, sizeof(x->run_id), "%s", run_id);
	x->scenario = (char *)"network-changes";
	x->account = (char *)"prod";
	x->account_id = (char *)"123456789012";
	x->call_region = (char *)"eu-west-1";
	x->region = (char *)"eu-west-1";
	x->event_source = (char *)"ec2.amazonaws.com";
	x->event_name = (char *)name;
	x->error_code = (char *)"Client.DryRunOperation";
	x->request_id = (char *)request_id;
	x->access_key_id = (char *)"ASIAEXAMPLE000000001";
	x->user_agent = (char *)"cloudsagad/0.1.0 run/" RUN_A;
	x->read_only = 0;
	x->fired_at = fired;
}

static char *
slurp(const char *path)
{
	FILE	*f = fopen(path, "r");
	char	*s;
	long	 n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	s = xmalloc((size_t)n + 1);
	assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
	s[n] = '\0';
	fclose(f);
	return s;
}

static void
spit(const char *path, const char *data)
{
	FILE	*f = fopen(path, "w");

	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

static int
count_files(const char *dir, const char *contains)
{
	DIR		*d = opendir(dir);
	struct dirent	*de;
	int		 n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' || strcmp(contains, ".") == 0)
			if (strstr(de->d_name, contains) != NULL &&
			    strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				n++;
	closedir(d);
	return n;
}

static struct ledger *
open_ok(const char *dir)
{
	struct ledger	*l;
	char		*cause = NULL;

	l = ledger_open(dir, &cause);
	if (l == NULL)
		fail_msg("ledger_open: %s", cause);
	return l;
}

static int
db_count(struct ledger *l, const char *sql)
{
	sqlite3_stmt	*st;
	int		 n = -1;

	assert_int_equal(sqlite3_prepare_v2(db_handle(ledger_db(l)), sql, -1,
	    &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
commit_ok(struct ledger *l)
{
	char	*cause = NULL;

	if (ledger_commit(l, &cause) == -1)
		fail_msg("ledger_commit: %s", cause);
}

/* Everything written comes back, field by field. */
static void
test_roundtrip(void **state)
{
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_run	*r, **runs;
	struct ledger_entry	*e0, *e1, *e2;
	struct ledger_found	 f;
	json_t			*rec, *rules;
	char			*dir = tmpdir(), *path, *text;
	size_t			 n;
	struct stat		 sb;

	l = open_ok(dir);
	r = ledger_run_begin(l, RUN_A, "network-changes", "prod", 1000.5);
	ledger_run_call(r, RUN_PERMITTED);
	ledger_run_call(r, RUN_PERMITTED);
	ledger_run_call(r, RUN_DENIED);
	fill(&x, RUN_A, "CreateSecurityGroup", "req-0", 1001.25);
	e0 = ledger_add(l, &x, 1001.25 + 900);
	fill(&x, RUN_A, "DescribeInstances", "req-1", 1002);
	x.error_code = NULL;
	x.read_only = 1;
	e1 = ledger_add(l, &x, 1902);
	fill(&x, RUN_A, "CreateVpc", NULL, 1003);
	e2 = ledger_add(l, &x, 1903);
	assert_int_equal(e2->idx, 2);

	rec = json_pack("{s:s,s:s,s:{s:s}}", "eventID", "ev-1", "eventName",
	    "CreateSecurityGroup", "userIdentity", "accessKeyId",
	    "ASIAEXAMPLE000000001");
	memset(&f, 0, sizeof(f));
	f.event_id = "ev-1";
	f.found_at = 1300.5;
	f.event_time = 1001;
	f.match = "request-id";
	f.record = rec;
	assert_int_equal(ledger_decide(e0, VERDICT_LOGGED, &f, NULL, 1300.5), 0);
	json_decref(rec);
	/* A verdict is final. */
	assert_int_equal(ledger_decide(e0, VERDICT_MISSING, NULL, "x", 1400), -1);
	rules = json_pack("[{s:s,s:[s]}]", "name", "sg-alert", "targets",
	    "arn:aws:sns:eu-west-1:123456789012:alerts");
	ledger_set_coverage(e0, COVERAGE_COVERED, rules, NULL);
	json_decref(rules);
	assert_int_equal(ledger_decide(e1, VERDICT_MISSING, NULL,
	    "not found", 1950), 0);
	assert_int_equal(ledger_queue(e1), 1);
	assert_int_equal(ledger_queue(e1), 1);	/* idempotent */
	assert_int_equal(ledger_queue(e2), 0);	/* pending: no seq */
	ledger_run_end(r, 1010, 0);
	commit_ok(l);
	ledger_free(l);

	/* The database: private, SQLite's, no secret. */
	path = xprintf("%s/state.db", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	text = slurp(path);
	assert_true(strncmp(text, "SQLite format 3", 15) == 0);
	assert_null(strstr(text, "SecretAccessKey"));
	free(text);
	free(path);
	path = xprintf("%s/state.db-wal", dir);
	if (stat(path, &sb) == 0)
		assert_int_equal(sb.st_mode & 0777, 0600);
	free(path);

	l = open_ok(dir);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	r = runs[0];
	assert_string_equal(r->run_id, RUN_A);
	assert_string_equal(r->scenario, "network-changes");
	assert_string_equal(r->account, "prod");
	assert_true(r->started == 1000.5);
	assert_true(r->finished == 1010);
	assert_int_equal(r->calls[RUN_PERMITTED], 2);
	assert_int_equal(r->calls[RUN_DENIED], 1);
	assert_int_equal(r->nentries, 3);
	e0 = r->entries[0];
	e1 = r->entries[1];
	e2 = r->entries[2];
	assert_int_equal(e0->verdict, VERDICT_LOGGED);
	assert_string_equal(e0->event_id, "ev-1");
	assert_true(e0->found_at == 1300.5);
	assert_true(e0->x.fired_at == 1001.25);
	assert_true(e0->event_time == 1001);
	assert_string_equal(e0->match, "request-id");
	assert_string_equal(e0->x.request_id, "req-0");
	assert_string_equal(e0->x.error_code, "Client.DryRunOperation");
	assert_string_equal(e0->x.access_key_id, "ASIAEXAMPLE000000001");
	assert_string_equal(e0->x.user_agent, "cloudsagad/0.1.0 run/" RUN_A);
	assert_string_equal(json_string_value(json_object_get(e0->record,
	    "eventID")), "ev-1");
	assert_int_equal(e0->coverage, COVERAGE_COVERED);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(e0->rules, 0), "name")), "sg-alert");
	assert_int_equal(e0->seq, 0);
	assert_int_equal(e1->verdict, VERDICT_MISSING);
	assert_string_equal(e1->reason, "not found");
	assert_null(e1->x.error_code);
	assert_true(e1->x.read_only);
	assert_int_equal(e1->seq, 1);
	assert_false(e1->reported);
	assert_int_equal(e2->verdict, VERDICT_PENDING);
	assert_null(e2->x.request_id);
	assert_true(e2->deadline == 1903);
	assert_int_equal(ledger_pending_count(l), 1);
	assert_int_equal(ledger_last_seq(l), 1);
	assert_int_equal(ledger_corrupt_count(l), 0);
	/* Reported drops the record kept for coverage. */
	ledger_queue(e0);
	ledger_mark_reported(e0);
	assert_null(e0->record);
	assert_int_equal(e0->seq, 2);
	ledger_free(l);
	rmtree(dir);
	free(dir);
}

/* A run the previous process did not end is closed as halted on load. */
static void
test_interrupted_run(void **state)
{
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_run	**runs;
	char			*dir = tmpdir();
	size_t			 n;
	double			 before = now_real();

	l = open_ok(dir);
	fill(&x, RUN_A, "CreateVpc", "r", 1000);
	ledger_add(l, &x, 1900);
	commit_ok(l);
	ledger_free(l);
	l = open_ok(dir);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	assert_true(runs[0]->finished >= before);
	assert_true(runs[0]->halted);
	assert_int_equal(runs[0]->nentries, 1);
	assert_int_equal(runs[0]->entries[0]->verdict, VERDICT_PENDING);
	ledger_free(l);
	rmtree(dir);
	free(dir);
}

/* Write len bytes of junk (or a sparse file of len bytes) to path. */
static void
junk(const char *path, const char *data, off_t sparse)
{
	int	 fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd != -1);
	if (data != NULL)
		assert_int_equal(write(fd, data, strlen(data)),
		    (ssize_t)strlen(data));
	if (sparse > 0)
		assert_int_equal(ftruncate(fd, sparse), 0);
	close(fd);
}

/* A damaged database is set aside and replaced: the daemon always starts. */
static void
test_damaged_database(void **state)
{
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_run	**runs;
	char			*dir = tmpdir(), *path, *good;
	size_t			 n, len;
	int			 i, fd;

	path = xprintf("%s/state.db", dir);
	/* Random bytes, an empty header, a huge sparse file, a foreign
	 * database, a truncated one. */
	junk(path, "this is not a database at all, just some bytes\n", 0);
	l = open_ok(dir);
	assert_int_equal(ledger_corrupt_count(l), 1);
	ledger_free(l);
	assert_int_equal(count_files(dir, "state.db.corrupt-"), 1);

	junk(path, NULL, (off_t)200 * 1024 * 1024 * 1024);	/* 200 GiB */
	l = open_ok(dir);
	assert_int_equal(ledger_corrupt_count(l), 1);
	ledger_free(l);

	{
		sqlite3	*h;

		unlink(path);
		assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
		assert_int_equal(sqlite3_exec(h, "CREATE TABLE t(x); "
		    "INSERT INTO t VALUES (1)", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
	}
	l = open_ok(dir);
	assert_int_equal(ledger_corrupt_count(l), 1);	/* not ours */
	fill(&x, RUN_A, "CreateVpc", "r", 1000);
	ledger_add(l, &x, 1900);
	commit_ok(l);
	ledger_free(l);
	/* A newer schema than this binary reads is not half-understood. */
	{
		sqlite3	*h;

		assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
		assert_int_equal(sqlite3_exec(h, "PRAGMA user_version = 99",
		    NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(h);
	}
	l = open_ok(dir);
	assert_int_equal(ledger_corrupt_count(l), 1);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 0);
	assert_null(n > 0 ? runs[0] : NULL);
	fill(&x, RUN_A, "CreateVpc", "r", 1000);
	ledger_add(l, &x, 1900);
	commit_ok(l);
	ledger_free(l);
	/* Truncated in the middle: what SQLite can tell is set aside. */
	good = slurp(path);
	{
		struct stat	 sb;

		assert_int_equal(stat(path, &sb), 0);
		len = (size_t)sb.st_size;
	}
	fd = open(path, O_WRONLY);
	assert_int_equal(ftruncate(fd, (off_t)(len / 2)), 0);
	/* ...and its pages overwritten with garbage. */
	for (i = 0; i < 64; i++)
		assert_int_equal(pwrite(fd, "\xff\x00\xff\x00", 4,
		    (off_t)(100 + i * 97)), 4);
	close(fd);
	{
		char	*wal = xprintf("%s-wal", path);

		unlink(wal);
		free(wal);
	}
	l = open_ok(dir);
	assert_true(ledger_corrupt_count(l) <= 1);
	fill(&x, RUN_B, "CreateVpc", "r", 1000);
	ledger_add(l, &x, 1900);
	commit_ok(l);
	ledger_free(l);
	l = open_ok(dir);
	assert_int_equal(ledger_corrupt_count(l), 0);
	ledger_free(l);
	free(good);
	free(path);
	rmtree(dir);
	free(dir);
}

/* Rows whose times cannot be trusted are healed to unverified, never
 * polled forever and never missing. */
static void
test_hostile_rows(void **state)
{
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_run	**runs;
	struct ledger_entry	*e;
	char			*dir = tmpdir(), *path;
	sqlite3			*h;
	size_t			 n;

	l = open_ok(dir);
	fill(&x, RUN_A, "CreateVpc", "r1", 1000);
	ledger_add(l, &x, 1900);
	fill(&x, RUN_A, "DeleteVpc", "r2", 1000);
	ledger_add(l, &x, 1900);
	commit_ok(l);
	ledger_free(l);
	path = xprintf("%s/state.db", dir);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "UPDATE expectations SET deadline = "
	    "1e300 WHERE idx = 0; UPDATE expectations SET fired_at = -5 WHERE "
	    "idx = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	l = open_ok(dir);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	assert_int_equal(runs[0]->nentries, 2);
	for (n = 0; n < 2; n++) {
		e = runs[0]->entries[n];
		assert_int_equal(e->verdict, VERDICT_UNVERIFIED);
		assert_non_null(strstr(e->reason, "could not be trusted"));
		assert_true(e->deadline < 4e9);
		assert_true(e->x.fired_at >= 0);
	}
	assert_int_equal(ledger_pending_count(l), 0);
	ledger_free(l);
	free(path);
	rmtree(dir);
	free(dir);
}

/* The JSON layout of earlier versions is migrated once, then renamed. */
static void
test_migration(void **state)
{
	struct ledger		*l;
	struct ledger_run	**runs;
	struct schedmem		*sm;
	char			*dir = tmpdir(), *path;
	size_t			 n;

	path = xprintf("%s/runs", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	free(path);
	path = xprintf("%s/ledger.json", dir);
	spit(path, "{\"format\":\"cloudsagad-ledger\",\"version\":1,"
	    "\"last_seq\":41,\"schedule\":{\"nightly\":1795600000.5}}");
	free(path);
	path = xprintf("%s/runs/%s.json", dir, RUN_A);
	spit(path, "{\"format\":\"cloudsagad-ledger\",\"version\":1,"
	    "\"run_id\":\"" RUN_A "\",\"scenario\":\"network-changes\","
	    "\"account\":\"prod\",\"started\":1795600000,\"finished\":"
	    "1795600010,\"halted\":false,\"calls\":{\"permitted\":2,"
	    "\"denied\":0,\"skipped\":0,\"error\":0},\"summary_seq\":0,"
	    "\"summary_reported\":false,\"expectations\":[{\"idx\":0,"
	    "\"account_id\":\"123456789012\",\"call_region\":\"us-east-1\","
	    "\"region\":\"us-east-1\",\"event_source\":\"ec2.amazonaws.com\","
	    "\"event_name\":\"CreateVpc\",\"error_code\":"
	    "\"Client.DryRunOperation\",\"request_id\":\"req-1\","
	    "\"access_key_id\":\"AKIDEXAMPLE\",\"user_agent\":"
	    "\"cloudsagad/0.1.0 run/" RUN_A "\",\"read_only\":false,"
	    "\"fired_at\":1795600001,\"deadline\":1795600901,\"verdict\":"
	    "\"pending\",\"seq\":0,\"reported\":false},{\"idx\":1,"
	    "\"region\":\"us-east-1\",\"event_source\":\"ec2.amazonaws.com\","
	    "\"event_name\":\"DescribeVpcs\",\"fired_at\":1795600002,"
	    "\"deadline\":1795600902,\"verdict\":\"logged\",\"decided_at\":"
	    "1795600300,\"event_id\":\"ev-9\",\"found_at\":1795600300,"
	    "\"seq\":7,\"reported\":false}]}");
	free(path);
	/* A file of that layout that cannot be read, and a hostile one. */
	path = xprintf("%s/runs/%s.json", dir, RUN_B);
	spit(path, "{\"format\":\"cloudsagad-ledger\",\"version\":1,"
	    "\"run_id\":\"" RUN_B "\",\"scenario\":\"s\",\"account\":\"a\","
	    "\"started\":1,\"expectations\":[{\"region\":\"r\","
	    "\"event_source\":\"e\",\"event_name\":\"n\",\"fired_at\":1,"
	    "\"deadline\":1e300,\"verdict\":\"pending\"}]}");
	free(path);

	l = open_ok(dir);
	assert_int_equal(ledger_corrupt_count(l), 1);	/* RUN_B's file */
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	assert_string_equal(runs[0]->run_id, RUN_A);
	assert_int_equal(runs[0]->nentries, 2);
	assert_int_equal(runs[0]->entries[0]->verdict, VERDICT_PENDING);
	assert_string_equal(runs[0]->entries[0]->x.request_id, "req-1");
	assert_true(runs[0]->entries[0]->deadline == 1795600901);
	assert_int_equal(runs[0]->entries[1]->verdict, VERDICT_LOGGED);
	assert_int_equal(runs[0]->entries[1]->seq, 7);
	/* The layout had no roles or evidence levels: from read_only, and
	 * documented. */
	assert_int_equal(runs[0]->entries[0]->x.role, AWS_ROLE_SIGNAL);
	assert_int_equal(runs[0]->entries[0]->x.evidence,
	    AWS_EVIDENCE_DOCUMENTED);
	assert_int_equal(runs[0]->entries[1]->not_found, 0);
	assert_int_equal(ledger_last_seq(l), 41);
	sm = schedmem_open(ledger_db(l));
	assert_non_null(sm);
	assert_true(schedmem_get(sm, "nightly") == 1795600000.5);
	schedmem_free(sm);
	assert_true(ledger_event_used(l, "ev-9"));
	ledger_free(l);
	/* The old layout is renamed, not deleted, and not migrated again. */
	path = xprintf("%s/runs", dir);
	assert_int_equal(access(path, F_OK), -1);
	free(path);
	assert_int_equal(count_files(dir, "runs.migrated-"), 1);
	assert_int_equal(count_files(dir, "ledger.json.migrated-"), 1);
	l = open_ok(dir);
	assert_int_equal(ledger_corrupt_count(l), 0);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	assert_int_equal(runs[0]->nentries, 2);
	ledger_free(l);
	rmtree(dir);
	free(dir);
}

/*
 * Schema 2 (#11): every row's role, evidence level and not_found survive
 * a reload; a database of schema 1 is migrated with the documented
 * defaults (the role the read-only flag gives, evidence documented, a
 * missing row not found).
 */
static void
test_role_evidence(void **state)
{
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_run	**runs;
	struct ledger_entry	*e;
	char			*dir = tmpdir(), *path;
	size_t			 n;
	sqlite3			*h;

	l = open_ok(dir);
	fill(&x, RUN_A, "DescribeVpcs", "r0", 1000);
	x.read_only = 1;			/* DEFAULT: context */
	ledger_add(l, &x, 1900);
	fill(&x, RUN_A, "GetBucketPolicy", "r1", 1000);
	x.read_only = 1;
	x.role = AWS_ROLE_SIGNAL;		/* a read-only signal call */
	x.evidence = AWS_EVIDENCE_ASSUMED;
	e = ledger_add(l, &x, 1900);
	assert_int_equal(ledger_decide(e, VERDICT_UNVERIFIED, NULL, "absent",
	    1950), 0);
	e->not_found = 1;
	fill(&x, RUN_A, "CreateVpc", "r2", 1000);	/* DEFAULT: signal */
	x.evidence = AWS_EVIDENCE_OBSERVED;
	e = ledger_add(l, &x, 1900);
	assert_int_equal(ledger_decide(e, VERDICT_MISSING, NULL, "absent",
	    1950), 0);
	e->not_found = 1;
	commit_ok(l);
	assert_int_equal(db_count(l, "SELECT count(*) FROM expectations WHERE "
	    "role = 'context' AND evidence = 'documented' AND not_found = 0"),
	    1);
	assert_int_equal(db_count(l, "SELECT count(*) FROM expectations WHERE "
	    "role = 'signal' AND evidence = 'assumed' AND not_found = 1"), 1);
	ledger_free(l);

	l = open_ok(dir);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	assert_int_equal(runs[0]->nentries, 3);
	e = runs[0]->entries[0];
	assert_int_equal(e->x.role, AWS_ROLE_CONTEXT);
	assert_int_equal(e->x.evidence, AWS_EVIDENCE_DOCUMENTED);
	assert_int_equal(e->not_found, 0);
	assert_false(ledger_entry_unconfirmed(e));
	e = runs[0]->entries[1];
	assert_int_equal(e->x.role, AWS_ROLE_SIGNAL);
	assert_int_equal(e->x.evidence, AWS_EVIDENCE_ASSUMED);
	assert_true(ledger_entry_unconfirmed(e));
	e = runs[0]->entries[2];
	assert_int_equal(e->x.role, AWS_ROLE_SIGNAL);
	assert_int_equal(e->x.evidence, AWS_EVIDENCE_OBSERVED);
	assert_int_equal(e->not_found, 1);
	assert_false(ledger_entry_unconfirmed(e));	/* missing: a gap */
	{
		struct ledger_counts	 c;

		ledger_run_counts(runs[0], &c);
		assert_int_equal(c.context, 1);
		assert_int_equal(c.signal, 2);
		assert_int_equal(c.unverified, 1);
		assert_int_equal(c.unconfirmed, 1);
		assert_int_equal(c.missing, 1);
	}
	ledger_free(l);

	/* Back to schema 1 (its columns exactly), with open alert gaps on a
	 * context call's event and a signal call's, then opened again. */
	path = xprintf("%s/%s", dir, DB_FILE);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "ALTER TABLE expectations DROP "
	    "COLUMN role; ALTER TABLE expectations DROP COLUMN evidence; "
	    "ALTER TABLE expectations DROP COLUMN not_found; "
	    "ALTER TABLE expectations DROP COLUMN remediation; "
	    "ALTER TABLE expectations DROP COLUMN remediation_text; "
	    "DROP TABLE metrics; DROP INDEX expectations_seq; "
	    "DROP INDEX runs_summary_seq; "
	    "UPDATE expectations SET verdict = 'logged', decided_at = 1950, "
	    "event_id = 'ev-0', coverage = 'uncovered' WHERE idx = 0; "
	    "INSERT INTO event_state (account, region, event_source, "
	    "event_name, first_seen, last_seen, alert_gap_since, "
	    "alert_gap_runs, alert_gap_kind) VALUES "
	    "('prod', 'eu-west-1', 'ec2.amazonaws.com', 'DescribeVpcs', 1, 2, "
	    "1, 5, 'new'), "
	    "('prod', 'eu-west-1', 'ec2.amazonaws.com', 'CreateVpc', 1, 2, "
	    "1, 5, 'new'); "
	    "PRAGMA user_version = 1", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	free(path);
	l = open_ok(dir);
	assert_int_equal(ledger_corrupt_count(l), 0);
	assert_int_equal(db_count(l, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	assert_int_equal(runs[0]->nentries, 3);
	/* read_only 1: context (the explicit signal role is not known to
	 * schema 1); evidence documented; missing rows not found. */
	assert_int_equal(runs[0]->entries[0]->x.role, AWS_ROLE_CONTEXT);
	assert_int_equal(runs[0]->entries[1]->x.role, AWS_ROLE_CONTEXT);
	assert_int_equal(runs[0]->entries[2]->x.role, AWS_ROLE_SIGNAL);
	for (n = 0; n < 3; n++)
		assert_int_equal(runs[0]->entries[n]->x.evidence,
		    AWS_EVIDENCE_DOCUMENTED);
	assert_int_equal(runs[0]->entries[1]->not_found, 0);
	assert_false(ledger_entry_unconfirmed(runs[0]->entries[1]));
	assert_int_equal(runs[0]->entries[2]->not_found, 1);
	/* A context call checked by version 1, not reported yet: not
	 * judged. */
	assert_int_equal(runs[0]->entries[0]->coverage, COVERAGE_CONTEXT);
	/* The context call's open alert gap is closed, the signal call's
	 * stays. */
	assert_int_equal(db_count(l, "SELECT count(*) FROM event_state WHERE "
	    "alert_gap_since IS NOT NULL"), 1);
	assert_int_equal(db_count(l, "SELECT alert_gap_runs FROM event_state "
	    "WHERE event_name = 'CreateVpc'"), 5);
	ledger_free(l);
	rmtree(dir);
	free(dir);
}

/*
 * The remediation coverage decides with an uncovered verdict is stored in
 * the row (schema 4): it survives a restart as it was, a new coverage
 * decision drops it, and a database of schema 3 opens with none.
 */
static void
test_remediation_stored(void **state)
{
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_run	**runs;
	struct ledger_entry	*e;
	struct ledger_found	 found = { "ev-1", 1960, 1955, "request-id",
				    NULL };
	json_t			*rem;
	sqlite3			*h;
	char			*dir = tmpdir(), *path, *s;
	size_t			 n;

	l = open_ok(dir);
	fill(&x, RUN_A, "CreateVpc", "r1", 1000);
	e = ledger_add(l, &x, 1900);
	assert_int_equal(ledger_decide(e, VERDICT_LOGGED, &found, NULL,
	    1960), 0);
	ledger_set_coverage(e, COVERAGE_UNCOVERED, NULL, "no rule");
	assert_null(e->remediation);
	rem = json_pack("{s:{s:[s]},s:s,s:s}", "event_pattern", "source",
	    "aws.ec2", "rule_state", "ENABLED", "note", "a target");
	ledger_set_remediation(e, rem, "add a rule \u00e9 \"quoted\"");
	json_decref(rem);
	fill(&x, RUN_A, "DeleteVpc", "r2", 1000);
	e = ledger_add(l, &x, 1900);
	assert_int_equal(ledger_decide(e, VERDICT_MISSING, NULL, "absent",
	    1960), 0);
	commit_ok(l);
	ledger_free(l);

	l = open_ok(dir);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	e = runs[0]->entries[0];
	assert_int_equal(e->coverage, COVERAGE_UNCOVERED);
	assert_non_null(e->remediation);
	s = json_dumps(e->remediation, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(s, "{\"event_pattern\":{\"source\":[\"aws.ec2\"]},"
	    "\"rule_state\":\"ENABLED\",\"note\":\"a target\"}");
	free(s);
	assert_string_equal(e->remediation_text,
	    "add a rule \u00e9 \"quoted\"");
	assert_null(runs[0]->entries[1]->remediation);
	assert_null(runs[0]->entries[1]->remediation_text);
	/* Judged again (covered): the remediation goes with the old
	 * decision. */
	ledger_set_coverage(e, COVERAGE_COVERED, NULL, NULL);
	assert_null(e->remediation);
	assert_null(e->remediation_text);
	ledger_set_coverage(e, COVERAGE_UNCOVERED, NULL, "no rule");
	rem = json_object();
	ledger_set_remediation(e, rem, "again");
	json_decref(rem);
	commit_ok(l);
	ledger_free(l);

	/* Back to schema 3: the columns go; opened again, no remediation
	 * and nothing set aside. */
	path = xprintf("%s/%s", dir, DB_FILE);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "ALTER TABLE expectations DROP "
	    "COLUMN remediation; ALTER TABLE expectations DROP COLUMN "
	    "remediation_text; PRAGMA user_version = 3", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(h);
	free(path);
	l = open_ok(dir);
	assert_int_equal(ledger_corrupt_count(l), 0);
	assert_int_equal(db_count(l, "PRAGMA user_version"), DB_SCHEMA_VERSION);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	e = runs[0]->entries[0];
	assert_int_equal(e->coverage, COVERAGE_UNCOVERED);
	assert_null(e->remediation);
	assert_null(e->remediation_text);
	ledger_free(l);
	rmtree(dir);
	free(dir);
}

/* One daemon per state directory. */
static void
test_lock(void **state)
{
	struct ledger	*l1, *l2;
	char		*dir = tmpdir(), *cause = NULL, *file;

	l1 = open_ok(dir);
	l2 = ledger_open(dir, &cause);
	assert_null(l2);
	assert_non_null(strstr(cause, "in use"));
	free(cause);
	ledger_free(l1);
	l2 = open_ok(dir);
	ledger_free(l2);
	/* Not a directory: a clear error. */
	file = xprintf("%s/file", dir);
	spit(file, "x");
	cause = NULL;
	assert_null(ledger_open(file, &cause));
	assert_non_null(strstr(cause, file));
	free(cause);
	free(file);
	rmtree(dir);
	free(dir);
}

/* The ledger with the schedule's memory attached, as the daemon has it. */
static struct ledger *
open_sched(const char *dir, struct schedmem **sm)
{
	struct ledger	*l = open_ok(dir);

	*sm = schedmem_open(ledger_db(l));
	assert_non_null(*sm);
	ledger_attach_schedmem(l, *sm);
	return l;
}

/* The schedule's memory survives a restart (the schedule table), written
 * by the ledger's commit. */
static void
test_sched_memory(void **state)
{
	struct ledger	*l;
	struct schedmem	*sm, *other;
	char		*dir = tmpdir(), *cause = NULL;

	l = open_sched(dir, &sm);
	assert_true(schedmem_get(sm, "nightly") == 0);
	schedmem_set(sm, "nightly", 1795600000.5);
	schedmem_set(sm, "hourly", 1795603600.25);
	/* Not in the database before the ledger's commit. */
	other = schedmem_open(ledger_db(l));
	assert_non_null(other);
	assert_true(schedmem_get(other, "nightly") == 0);
	schedmem_free(other);
	assert_int_equal(ledger_commit(l, &cause), 0);
	ledger_free(l);
	schedmem_free(sm);
	l = open_sched(dir, &sm);
	assert_true(schedmem_get(sm, "nightly") == 1795600000.5);
	assert_true(schedmem_get(sm, "hourly") == 1795603600.25);
	assert_true(schedmem_get(sm, "other") == 0);
	/* A later start replaces the earlier one. */
	schedmem_set(sm, "nightly", 1795686400.0);
	assert_int_equal(ledger_commit(l, &cause), 0);
	ledger_free(l);
	schedmem_free(sm);
	l = open_sched(dir, &sm);
	assert_true(schedmem_get(sm, "nightly") == 1795686400.0);
	schedmem_free(sm);
	/* A table that cannot be read: an empty memory, never a daemon that
	 * cannot start (every entry starts its phase afresh). */
	assert_int_equal(sqlite3_exec(db_handle(ledger_db(l)), "DROP TABLE "
	    "schedule", NULL, NULL, NULL), SQLITE_OK);
	sm = schedmem_open(ledger_db(l));
	assert_non_null(sm);
	assert_true(schedmem_get(sm, "nightly") == 0);
	schedmem_free(sm);
	ledger_free(l);
	rmtree(dir);
	free(dir);
}

/* Sequence numbers never go back, even after pruning every run. */
static void
test_seq_and_prune(void **state)
{
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_run	*ra, *rb, **runs;
	struct ledger_entry	*e;
	char			*dir = tmpdir(), *cause = NULL;
	size_t			 n;

	l = open_ok(dir);
	fill(&x, RUN_A, "CreateVpc", "a", 1000);
	e = ledger_add(l, &x, 1900);
	ra = e->run;
	ledger_decide(e, VERDICT_MISSING, NULL, "gone", 1950);
	assert_int_equal(ledger_queue(e), 1);
	fill(&x, RUN_B, "CreateVpc", "b", 2000);
	e = ledger_add(l, &x, 2900);
	rb = e->run;
	ledger_decide(e, VERDICT_UNVERIFIED, NULL, "denied", 2950);
	assert_int_equal(ledger_queue(e), 2);
	assert_false(ledger_run_complete(ra));	/* not ended */
	ledger_run_end(ra, 1010, 0);
	ledger_run_end(rb, 2010, 0);
	assert_false(ledger_run_complete(ra));	/* not reported */
	ledger_mark_reported(ra->entries[0]);
	ledger_mark_reported(rb->entries[0]);
	assert_true(ledger_run_complete(ra));
	assert_int_equal(ledger_queue_summary(ra), 3);
	assert_int_equal(ledger_queue_summary(rb), 4);
	ledger_mark_summary_reported(ra);
	ledger_mark_summary_reported(rb);
	commit_ok(l);
	/* Only runs that ended before the cut go. */
	assert_int_equal(ledger_prune(l, 1500, &cause), 1);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	assert_string_equal(runs[0]->run_id, RUN_B);
	/* Out of memory, still in the database... */
	assert_int_equal(db_count(l, "SELECT count(*) FROM runs"), 2);
	assert_int_equal(ledger_prune(l, 1e12, &cause), 1);
	/* ...until it expires from there. */
	assert_int_equal(ledger_expire(l, 1500, 100, &cause), 1);
	assert_int_equal(db_count(l, "SELECT count(*) FROM runs"), 1);
	assert_int_equal(db_count(l, "SELECT count(*) FROM expectations"), 1);
	assert_int_equal(ledger_expire(l, 1e12, 100, &cause), 1);
	assert_int_equal(db_count(l, "SELECT count(*) FROM expectations"), 0);
	ledger_free(l);

	l = open_ok(dir);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 0);
	assert_int_equal(ledger_last_seq(l), 4);
	fill(&x, RUN_A, "CreateVpc", "c", 3000);
	e = ledger_add(l, &x, 3900);
	ledger_decide(e, VERDICT_MISSING, NULL, "gone", 3950);
	assert_int_equal(ledger_queue(e), 5);
	ledger_bump_seq(l, 10);
	fill(&x, RUN_A, "CreateVpc", "d", 3001);
	e = ledger_add(l, &x, 3901);
	ledger_decide(e, VERDICT_MISSING, NULL, "gone", 3951);
	assert_int_equal(ledger_queue(e), 11);
	ledger_free(l);
	rmtree(dir);
	free(dir);
}

/* The in-memory ledger (one-shot CLI) behaves the same, writes nothing. */
static void
test_memory(void **state)
{
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_entry	*e;
	struct ledger_counts	 c;
	struct ledger_found	 f;
	char			*cause = NULL;

	l = ledger_open(NULL, &cause);
	assert_non_null(l);
	assert_null(ledger_dir(l));
	fill(&x, RUN_A, "CreateVpc", "a", 1000);
	e = ledger_add(l, &x, 1900);
	memset(&f, 0, sizeof(f));
	f.event_id = "ev";
	f.found_at = 1100;
	ledger_decide(e, VERDICT_LOGGED, &f, NULL, 1100);
	fill(&x, RUN_A, "CreateVpc", "b", 1000);
	e = ledger_add(l, &x, 1900);
	f.found_at = 1300;
	ledger_decide(e, VERDICT_LOGGED, &f, NULL, 1300);
	fill(&x, RUN_A, "DeleteVpc", "c", 1000);
	e = ledger_add(l, &x, 1900);
	assert_int_equal(ledger_commit(l, &cause), 0);
	ledger_run_counts(e->run, &c);
	assert_int_equal(c.expected, 3);
	assert_int_equal(c.logged, 2);
	assert_int_equal(c.pending, 1);
	assert_true(c.latency_min == 100);
	assert_true(c.latency_max == 300);
	assert_true(c.latency_sum == 400);
	ledger_free(l);
}

/* A verdict reason is bounded and valid UTF-8, whatever it was given. */
static void
test_reason_capped(void **state)
{
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_entry	*e;
	char			*big, *cause = NULL;

	l = ledger_open(NULL, &cause);
	fill(&x, RUN_A, "CreateVpc", "r", 1000);
	e = ledger_add(l, &x, 1900);
	big = xmalloc(100001);
	memset(big, 'x', 100000);
	big[0] = '\xc3';	/* a lone lead byte: not UTF-8 */
	big[100000] = '\0';
	assert_int_equal(ledger_decide(e, VERDICT_UNVERIFIED, NULL, big,
	    1950), 0);
	assert_true(strlen(e->reason) <= 1024 + 256);
	assert_non_null(strstr(e->reason, "truncated"));
	free(big);
	ledger_free(l);
}

/* Names round-trip; unknown names are refused. */
static void
test_names(void **state)
{
	enum verdict	 v;
	enum coverage	 c;

	assert_int_equal(verdict_from_name("missing", &v), 0);
	assert_int_equal(v, VERDICT_MISSING);
	assert_string_equal(verdict_name(VERDICT_UNVERIFIED), "unverified");
	assert_int_equal(verdict_from_name("Missing", &v), -1);
	assert_int_equal(verdict_from_name(NULL, &v), -1);
	assert_int_equal(coverage_from_name("uncovered", &c), 0);
	assert_int_equal(c, COVERAGE_UNCOVERED);
	assert_int_equal(coverage_from_name("partly", &c), -1);
	assert_int_equal(coverage_from_name("context", &c), 0);
	assert_int_equal(c, COVERAGE_CONTEXT);
	assert_string_equal(ledger_role_name(AWS_ROLE_CONTEXT), "context");
	assert_string_equal(ledger_role_name(AWS_ROLE_SIGNAL), "signal");
}

/* The debug lines logged while fn runs (stderr backend). */
static char *
debug_lines(const char *dir, void (*fn)(void *), void *arg)
{
	char	*path = xprintf("%s/stderr.log", dir), *text;
	int	 fd, save, level = log_getlevel();

	fflush(stderr);
	save = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(save != -1 && fd != -1);
	assert_int_equal(dup2(fd, 2), 2);
	close(fd);
	log_setlevel(LOG_DEBUG);
	fn(arg);
	log_setlevel(level);
	fflush(stderr);
	assert_int_equal(dup2(save, 2), 2);
	close(save);
	text = slurp(path);
	free(path);
	return text;
}

static void
row_state_moves(void *arg)
{
	struct ledger_entry	**e = arg;
	struct ledger_found	  f;

	memset(&f, 0, sizeof(f));
	f.event_id = "ev-4";
	f.found_at = 1100;
	f.match = "request-id";
	assert_int_equal(ledger_entry_state(e[4]), LEDGER_ROW_PENDING);
	assert_int_equal(ledger_decide(e[4], VERDICT_LOGGED, &f, NULL, 1100),
	    0);
	assert_int_equal(ledger_entry_state(e[4]), LEDGER_ROW_DECIDED);
	ledger_set_coverage(e[4], COVERAGE_UNCOVERED, NULL, "no rule");
	assert_int_equal(ledger_entry_state(e[4]), LEDGER_ROW_JUDGED);
	assert_int_equal(ledger_queue(e[4]), 1);
	assert_int_equal(ledger_entry_state(e[4]), LEDGER_ROW_QUEUED);
	ledger_mark_reported(e[4]);
	assert_int_equal(ledger_entry_state(e[4]), LEDGER_ROW_REPORTED);
	assert_true(e[4]->reported);
	/* Backwards: refused, the state stays. */
	ledger_set_coverage(e[4], COVERAGE_COVERED, NULL, NULL);
	assert_int_equal(ledger_entry_state(e[4]), LEDGER_ROW_REPORTED);
	assert_int_equal(ledger_decide(e[4], VERDICT_MISSING, NULL, "x",
	    1200), -1);
	assert_int_equal(ledger_queue(e[4]), 1);
	ledger_unqueue(e[4]);		/* reported: not undone */
	assert_int_equal(ledger_entry_state(e[4]), LEDGER_ROW_REPORTED);
	assert_int_equal(e[4]->seq, 1);
}

/* A row's life: the moves in order, logged; none backwards; each state
 * restored on load. */
static void
test_row_state(void **state)
{
	static const enum ledger_row_state want[] = {
		LEDGER_ROW_PENDING, LEDGER_ROW_DECIDED, LEDGER_ROW_JUDGED,
		LEDGER_ROW_QUEUED, LEDGER_ROW_REPORTED,
	};
	static const char *const names[] = {
		"pending", "decided", "judged", "queued", "reported",
	};
	struct expectation	 x;
	struct ledger		*l;
	struct ledger_run	*r, **runs;
	struct ledger_entry	*e[5];
	char			*dir = tmpdir(), *log, *p;
	size_t			 i, n;

	l = open_ok(dir);
	r = ledger_run_begin(l, RUN_A, "network-changes", "prod", 1000);
	for (i = 0; i < 5; i++) {
		fill(&x, RUN_A, "CreateVpc", "req", 1001);
		e[i] = ledger_add(l, &x, 1901);
		assert_int_equal(ledger_entry_state(e[i]), LEDGER_ROW_PENDING);
		/* The run ID is the run's; scenario, account: in the run. */
		assert_string_equal(e[i]->x.run_id, RUN_A);
		assert_null(e[i]->x.scenario);
		assert_null(e[i]->x.account);
		assert_string_equal(ledger_entry_scenario(e[i]),
		    "network-changes");
	}
	log = debug_lines(dir, row_state_moves, e);
	/* Every move, in order, with run ID prefix and row. */
	p = strstr(log, "state: run 01234567 row 4: pending -> decided\n");
	assert_non_null(p);
	p = strstr(p, "state: run 01234567 row 4: decided -> judged\n");
	assert_non_null(p);
	p = strstr(p, "state: run 01234567 row 4: judged -> queued\n");
	assert_non_null(p);
	p = strstr(p, "state: run 01234567 row 4: queued -> reported\n");
	assert_non_null(p);
	assert_non_null(strstr(p, "state: run 01234567 row 4: reported -> "
	    "judged refused\n"));
	free(log);

	/* A failed queueing undone: back to decided, queued again. */
	assert_int_equal(ledger_decide(e[3], VERDICT_MISSING, NULL, "gone",
	    1950), 0);
	assert_int_equal(ledger_queue(e[3]), 2);
	ledger_unqueue(e[3]);
	assert_int_equal(ledger_entry_state(e[3]), LEDGER_ROW_DECIDED);
	assert_int_equal(e[3]->seq, 0);
	assert_int_equal(ledger_queue(e[3]), 3);
	assert_int_equal(ledger_entry_state(e[3]), LEDGER_ROW_QUEUED);
	/* A pending row keeps its state when given coverage by hand. */
	ledger_set_coverage(e[0], COVERAGE_UNKNOWN, NULL, "by hand");
	assert_int_equal(ledger_entry_state(e[0]), LEDGER_ROW_PENDING);
	ledger_set_coverage(e[0], COVERAGE_NONE, NULL, NULL);
	assert_int_equal(ledger_decide(e[1], VERDICT_UNVERIFIED, NULL,
	    "denied", 1950), 0);
	assert_int_equal(ledger_decide(e[2], VERDICT_LOGGED, NULL, NULL,
	    1100), 0);
	ledger_set_coverage(e[2], COVERAGE_COVERED, NULL, NULL);
	for (i = 0; i < 5; i++)
		assert_int_equal(ledger_entry_state(e[i]), want[i]);
	assert_false(ledger_run_complete(r));
	assert_int_equal(ledger_pending_count(l), 1);
	commit_ok(l);
	ledger_free(l);

	/* Restored from the columns on load. */
	l = open_ok(dir);
	runs = ledger_runs(l, &n);
	assert_int_equal(n, 1);
	assert_int_equal(runs[0]->nentries, 5);
	for (i = 0; i < 5; i++) {
		assert_int_equal(ledger_entry_state(runs[0]->entries[i]),
		    want[i]);
		assert_string_equal(runs[0]->entries[i]->x.run_id, RUN_A);
		assert_string_equal(ledger_row_state_name(want[i]),
		    names[i]);
	}
	assert_int_equal(runs[0]->entries[3]->seq, 3);
	assert_int_equal(ledger_pending_count(l), 1);
	assert_string_equal(ledger_row_state_name((enum ledger_row_state)9),
	    "unknown");
	ledger_free(l);
	rmtree(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_interrupted_run),
		cmocka_unit_test(test_damaged_database),
		cmocka_unit_test(test_hostile_rows),
		cmocka_unit_test(test_migration),
		cmocka_unit_test(test_remediation_stored),
		cmocka_unit_test(test_role_evidence),
		cmocka_unit_test(test_lock),
		cmocka_unit_test(test_sched_memory),
		cmocka_unit_test(test_seq_and_prune),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_reason_capped),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_row_state),
	};

	log_init(LOG_TO_STDERR, "test_ledger", LOG_WARNING);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
