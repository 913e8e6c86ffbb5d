/*
 * ledger_legacy: the JSON state layout of cloudsagad before the database
 * (ledger.json + runs/<run id>.json), read once to migrate a state
 * directory into state.db (ledger_open), then renamed out of the way.
 * Every size and number is checked: a file that cannot be read is left
 * where it is, said, and skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>

#include "ledger_impl.h"
#include "log.h"
#include "report.h"
#include "util.h"
#include "xmalloc.h"

#define LEGACY_META	"ledger.json"
#define LEGACY_RUNS	"runs"
/* A run file is a run's rows: far below this.  Larger is not ours. */
#define LEGACY_MAX_FILE	(64 * 1024 * 1024)

static char *
legacy_read(int dirfd, const char *name, size_t *lenp, char **cause)
{
	struct stat	 sb;
	char		*data;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		*cause = xprintf("open: %s", strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		*cause = xstrdup("not a regular file");
		close(fd);
		return NULL;
	}
	if (sb.st_size > LEGACY_MAX_FILE) {
		*cause = xprintf("%lld bytes: larger than any run file",
		    (long long)sb.st_size);
		close(fd);
		return NULL;
	}
	data = xmalloc((size_t)sb.st_size + 1);
	while (off < (size_t)sb.st_size) {
		n = read(fd, data + off, (size_t)sb.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*cause = xprintf("read: %s",
			    n == 0 ? "short read" : strerror(errno));
			free(data);
			close(fd);
			return NULL;
		}
		off += (size_t)n;
	}
	close(fd);
	data[off] = '\0';
	*lenp = off;
	return data;
}

/* Loading: every accessor records the first problem in *why. */
struct ledger_load {
	char	*why;
};

static void
ledger_bad(struct ledger_load *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ledger_bad(struct ledger_load *ld, const char *fmt, ...)
{
	va_list	 ap;

	if (ld->why != NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&ld->why, fmt, ap);
	va_end(ap);
}

static char *
ledger_get_str(struct ledger_load *ld, json_t *o, const char *key,
    int required)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		if (required)
			ledger_bad(ld, "\"%s\" is missing", key);
		return NULL;
	}
	if (!json_is_string(v)) {
		ledger_bad(ld, "\"%s\" is not a string", key);
		return NULL;
	}
	return xstrdup(json_string_value(v));
}

static double
ledger_get_num(struct ledger_load *ld, json_t *o, const char *key,
    int required)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v)) {
		if (required)
			ledger_bad(ld, "\"%s\" is missing", key);
		return 0;
	}
	if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
	    json_number_value(v) < 0 || json_number_value(v) > 4e9) {
		ledger_bad(ld, "\"%s\" is not a plausible number", key);
		return 0;
	}
	return json_number_value(v);
}

static uint64_t
ledger_get_seq(struct ledger_load *ld, json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		ledger_bad(ld, "\"%s\" is not a sequence number", key);
		return 0;
	}
	return (uint64_t)json_integer_value(v);
}

static int
ledger_get_bool(struct ledger_load *ld, json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		ledger_bad(ld, "\"%s\" is not a boolean", key);
		return 0;
	}
	return json_is_true(v);
}

static struct ledger_entry *
ledger_entry_load(struct ledger_load *ld, json_t *o)
{
	struct ledger_entry	*e;
	char			*s;
	json_t			*v;

	if (!json_is_object(o)) {
		ledger_bad(ld, "an expectation is not an object");
		return NULL;
	}
	e = xcalloc(1, sizeof(*e));
	e->x.account_id = ledger_get_str(ld, o, "account_id", 0);
	e->x.call_region = ledger_get_str(ld, o, "call_region", 0);
	e->x.region = ledger_get_str(ld, o, "region", 1);
	e->x.event_source = ledger_get_str(ld, o, "event_source", 1);
	e->x.event_name = ledger_get_str(ld, o, "event_name", 1);
	e->x.error_code = ledger_get_str(ld, o, "error_code", 0);
	e->x.request_id = ledger_get_str(ld, o, "request_id", 0);
	e->x.access_key_id = ledger_get_str(ld, o, "access_key_id", 0);
	e->x.user_agent = ledger_get_str(ld, o, "user_agent", 0);
	e->x.read_only = ledger_get_bool(ld, o, "read_only");
	e->x.fired_at = ledger_get_num(ld, o, "fired_at", 1);
	e->deadline = ledger_get_num(ld, o, "deadline", 1);
	s = ledger_get_str(ld, o, "verdict", 1);
	if (s != NULL && verdict_from_name(s, &e->verdict) == -1)
		ledger_bad(ld, "unknown verdict \"%s\"", s);
	free(s);
	e->decided_at = ledger_get_num(ld, o, "decided_at",
	    e->verdict != VERDICT_PENDING);
	e->event_id = ledger_get_str(ld, o, "event_id",
	    e->verdict == VERDICT_LOGGED);
	e->found_at = ledger_get_num(ld, o, "found_at", 0);
	e->event_time = ledger_get_num(ld, o, "event_time", 0);
	e->match = ledger_get_str(ld, o, "match", 0);
	e->reason = ledger_get_str(ld, o, "reason", 0);
	if ((v = json_object_get(o, "record")) != NULL && json_is_object(v))
		e->record = json_incref(v);
	s = ledger_get_str(ld, o, "coverage", 0);
	if (s != NULL && coverage_from_name(s, &e->coverage) == -1)
		ledger_bad(ld, "unknown coverage \"%s\"", s);
	free(s);
	if ((v = json_object_get(o, "rules")) != NULL && json_is_array(v))
		e->rules = json_incref(v);
	e->coverage_reason = ledger_get_str(ld, o, "coverage_reason", 0);
	e->seq = ledger_get_seq(ld, o, "seq");
	e->reported = ledger_get_bool(ld, o, "reported");
	/* The layout predates roles and evidence levels (#11): the role
	 * the read-only flag gives (aws_role_resolve), documented evidence
	 * (every built-in call of those versions was), and a missing row
	 * was not found. */
	e->x.role = e->x.read_only ? AWS_ROLE_CONTEXT : AWS_ROLE_SIGNAL;
	e->x.evidence = AWS_EVIDENCE_DOCUMENTED;
	e->not_found = e->verdict == VERDICT_MISSING;
	/* A context call's alert coverage is not judged: a row checked but
	 * not yet reported says so (as schema 3's migration, db.c). */
	if (e->x.role == AWS_ROLE_CONTEXT && e->verdict == VERDICT_LOGGED &&
	    e->seq == 0 && e->coverage != COVERAGE_NONE) {
		e->coverage = COVERAGE_CONTEXT;
		json_decref(e->rules);
		e->rules = NULL;
		free(e->coverage_reason);
		e->coverage_reason = xstrdup("a context call (discovery the "
		    "technique needs): alert coverage is judged for signal "
		    "calls only");
	}
	if (e->reported && e->seq == 0)
		ledger_bad(ld, "a row is reported without a sequence number");
	if (e->seq != 0 && e->verdict == VERDICT_PENDING)
		ledger_bad(ld, "a pending row has a sequence number");
	if (ld->why != NULL) {
		ledger_entry_free(e);
		return NULL;
	}
	return e;
}

static struct ledger_run *
ledger_run_load(struct ledger *l, struct ledger_load *ld, const char *data,
    size_t len, const char *want_id)
{
	struct ledger_run	*r = NULL;
	struct ledger_entry	*e;
	json_error_t		 jerr;
	json_t			*root, *v, *rows;
	char			*run_id = NULL, *scenario, *account, *fmt;
	size_t			 i;

	if ((root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		ledger_bad(ld, "line %d: %s", jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		ledger_bad(ld, "not a JSON object");
		goto out;
	}
	fmt = ledger_get_str(ld, root, "format", 1);
	if (fmt != NULL && strcmp(fmt, LEDGER_FORMAT) != 0)
		ledger_bad(ld, "format is \"%s\", not \"%s\"", fmt,
		    LEDGER_FORMAT);
	free(fmt);
	v = json_object_get(root, "version");
	if (ld->why == NULL && (!json_is_integer(v) ||
	    json_integer_value(v) < 1))
		ledger_bad(ld, "bad version");
	else if (ld->why == NULL && json_integer_value(v) > LEDGER_VERSION)
		ledger_bad(ld, "written by a newer cloudsagad (format version "
		    "%lld, this one reads %d)", (long long)json_integer_value(v),
		    LEDGER_VERSION);
	run_id = ledger_get_str(ld, root, "run_id", 1);
	if (ld->why != NULL)
		goto out;
	if (!ledger_valid_run_id(run_id) ||
	    (want_id != NULL && strcmp(run_id, want_id) != 0)) {
		ledger_bad(ld, "run_id \"%s\" does not match the file name",
		    run_id);
		goto out;
	}
	scenario = ledger_get_str(ld, root, "scenario", 1);
	account = ledger_get_str(ld, root, "account", 1);
	r = ledger_run_alloc(l, run_id, scenario, account,
	    ledger_get_num(ld, root, "started", 1));
	free(scenario);
	free(account);
	r->finished = ledger_get_num(ld, root, "finished", 0);
	r->halted = ledger_get_bool(ld, root, "halted");
	r->failed = (unsigned)ledger_get_num(ld, root, "failed", 0);
	if ((v = json_object_get(root, "calls")) != NULL) {
		if (!json_is_object(v))
			ledger_bad(ld, "\"calls\" is not an object");
		for (i = 0; json_is_object(v) && i < RUN_NCALL_OUTCOMES; i++)
			r->calls[i] = (unsigned)ledger_get_num(ld, v,
			    run_call_outcome_name((enum run_call_outcome)i), 0);
	}
	r->summary_seq = ledger_get_seq(ld, root, "summary_seq");
	r->summary_reported = ledger_get_bool(ld, root, "summary_reported");
	rows = json_object_get(root, "expectations");
	if (!json_is_array(rows))
		ledger_bad(ld, "\"expectations\" is not a list");
	for (i = 0; ld->why == NULL && i < json_array_size(rows); i++) {
		if ((e = ledger_entry_load(ld, json_array_get(rows, i))) == NULL)
			break;
		ledger_entry_append(r, e);
		ledger_entry_restore(e);
	}
	if (ld->why != NULL) {
		ledger_run_free(r);
		r = NULL;
	}
out:
	free(run_id);
	json_decref(root);
	return r;
}

static int
ledger_run_cmp(const void *a, const void *b)
{
	const struct ledger_run	*ra = *(struct ledger_run *const *)a;
	const struct ledger_run	*rb = *(struct ledger_run *const *)b;

	if (ra->started != rb->started)
		return ra->started < rb->started ? -1 : 1;
	return strcmp(ra->run_id, rb->run_id);
}

/* ledger.json: the report high-water mark and the schedule memory. */
static void
legacy_load_meta(int dirfd, const char *dir, struct ledger_legacy *lg)
{
	struct ledger_load	 ld = { NULL };
	json_error_t		 jerr;
	json_t			*root = NULL, *v, *t;
	const char		*k;
	char			*data, *cause = NULL, *path;
	size_t			 len;

	if ((data = legacy_read(dirfd, LEGACY_META, &len, &cause)) == NULL) {
		if (faccessat(dirfd, LEGACY_META, F_OK,
		    AT_SYMLINK_NOFOLLOW) == 0) {
			path = xprintf("%s/%s", dir, LEGACY_META);
			report_state_set_aside(path, NULL, cause);
			free(path);
			lg->bad++;
		}
		free(cause);
		return;
	}
	if ((root = json_loadb(data, len, 0, &jerr)) == NULL)
		ledger_bad(&ld, "line %d: %s", jerr.line, jerr.text);
	else if (!json_is_object(root) ||
	    !json_is_integer(v = json_object_get(root, "last_seq")) ||
	    json_integer_value(v) < 0)
		ledger_bad(&ld, "no valid \"last_seq\"");
	else {
		lg->last_seq = (uint64_t)json_integer_value(v);
		if (json_is_object(v = json_object_get(root, "schedule")))
			json_object_foreach(v, k, t)
				if (json_is_number(t) &&
				    isfinite(json_number_value(t)) &&
				    json_number_value(t) > 0 &&
				    json_number_value(t) < 4e9)
					json_object_set_new(lg->sched, k,
					    json_real(json_number_value(t)));
	}
	if (ld.why != NULL) {
		path = xprintf("%s/%s", dir, LEGACY_META);
		report_state_set_aside(path, NULL, ld.why);
		free(path);
		lg->bad++;
	}
	free(ld.why);
	json_decref(root);
	free(data);
}

int
ledger_legacy_load(struct ledger *l, int dirfd, const char *dir,
    struct ledger_legacy *lg)
{
	struct ledger_load	 ld;
	struct ledger_run	*r;
	struct dirent		*de;
	DIR			*d;
	char			 id[33], *data, *cause, *path;
	size_t			 len, nlen;
	int			 fd, runsfd;

	memset(lg, 0, sizeof(*lg));
	lg->sched = json_object();
	runsfd = openat(dirfd, LEGACY_RUNS, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC | O_NOFOLLOW);
	if (runsfd == -1 && faccessat(dirfd, LEGACY_META, F_OK,
	    AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	legacy_load_meta(dirfd, dir, lg);
	if (runsfd == -1)
		return 1;
	if ((fd = dup(runsfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("%s/%s", dir, LEGACY_RUNS);
		if (fd != -1)
			close(fd);
		close(runsfd);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		nlen = strlen(de->d_name);
		if (nlen != 32 + 5 || strcmp(de->d_name + 32, ".json") != 0)
			continue;	/* set-aside files, temporaries */
		memcpy(id, de->d_name, 32);
		id[32] = '\0';
		if (!ledger_valid_run_id(id))
			continue;
		cause = NULL;
		memset(&ld, 0, sizeof(ld));
		path = xprintf("%s/%s/%s", dir, LEGACY_RUNS, de->d_name);
		if ((data = legacy_read(runsfd, de->d_name, &len, &cause)) ==
		    NULL) {
			report_state_set_aside(path, NULL, cause);
			free(cause);
			free(path);
			lg->bad++;
			continue;
		}
		r = ledger_run_load(l, &ld, data, len, id);
		free(data);
		if (r == NULL) {
			report_state_set_aside(path, NULL, ld.why);
			free(ld.why);
			free(path);
			lg->bad++;
			continue;
		}
		free(path);
		lg->runs = xreallocarray(lg->runs, lg->nruns + 1,
		    sizeof(*lg->runs));
		lg->runs[lg->nruns++] = r;
	}
	closedir(d);
	close(runsfd);
	if (lg->nruns > 1)
		qsort(lg->runs, lg->nruns, sizeof(*lg->runs), ledger_run_cmp);
	return 1;
}

void
ledger_legacy_retire(int dirfd, const char *dir)
{
	static const char *const names[] = { LEGACY_RUNS, LEGACY_META };
	char		 stamp[32], *to;
	time_t		 t = time(NULL);
	struct tm	 tm;
	size_t		 i;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		to = xprintf("%s.migrated-%s", names[i], stamp);
		if (renameat(dirfd, names[i], dirfd, to) == -1 &&
		    errno != ENOENT)
			log_warn("%s/%s: renaming to %s after the migration",
			    dir, names[i], to);
		free(to);
	}
	fsync(dirfd);
}
