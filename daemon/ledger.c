/*
 * ledger: expectations and verdicts, persisted one JSON file per run.
 * See ledger.h and docs/STATE.md.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <jansson.h>

#include "ledger.h"
#include "log.h"
#include "msgid.h"
#include "util.h"
#include "xmalloc.h"

#define LEDGER_META	"ledger.json"
#define LEDGER_RUNS	"runs"
#define LEDGER_LOCK	"lock"

struct ledger {
	char		 *dir;		/* NULL: in memory */
	int		  dirfd;
	int		  runsfd;
	int		  lockfd;
	struct ledger_run **runs;
	size_t		  nruns;
	uint64_t	  last_seq;
	unsigned	  corrupt;
	json_t		 *sched;	/* {"entry": last start} */
	int		  meta_dirty;	/* sched changed: rewrite ledger.json */
	json_t		 *used;		/* {"eventID": true}: proofs given */
};

static int	 ledger_write_meta(struct ledger *, char **);

static const char *const ledger_verdicts[] = {
	"pending", "logged", "missing", "unverified",
};
static const char *const ledger_coverages[] = {
	"none", "covered", "uncovered", "unknown",
};
/* Indexed by enum run_call_outcome (scenario.h). */
static const char *const ledger_call_names[4] = {
	"permitted", "denied", "skipped", "error",
};

const char *
verdict_name(enum verdict v)
{
	if ((size_t)v < nitems(ledger_verdicts))
		return ledger_verdicts[v];
	return "unknown";
}

int
verdict_from_name(const char *s, enum verdict *ret)
{
	size_t	 i;

	for (i = 0; s != NULL && i < nitems(ledger_verdicts); i++)
		if (strcmp(s, ledger_verdicts[i]) == 0) {
			*ret = (enum verdict)i;
			return 0;
		}
	return -1;
}

const char *
coverage_name(enum coverage c)
{
	if ((size_t)c < nitems(ledger_coverages))
		return ledger_coverages[c];
	return "unknown";
}

int
coverage_from_name(const char *s, enum coverage *ret)
{
	size_t	 i;

	for (i = 0; s != NULL && i < nitems(ledger_coverages); i++)
		if (strcmp(s, ledger_coverages[i]) == 0) {
			*ret = (enum coverage)i;
			return 0;
		}
	return -1;
}

/* ---- objects ------------------------------------------------------------ */

static void
ledger_entry_free(struct ledger_entry *e)
{
	if (e == NULL)
		return;
	free(e->account_id);
	free(e->call_region);
	free(e->region);
	free(e->event_source);
	free(e->event_name);
	free(e->error_code);
	free(e->request_id);
	free(e->access_key_id);
	free(e->user_agent);
	free(e->event_id);
	free(e->match);
	free(e->reason);
	json_decref(e->record);
	json_decref(e->rules);
	free(e->coverage_reason);
	free(e);
}

static void
ledger_run_free(struct ledger_run *r)
{
	size_t	 i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nentries; i++)
		ledger_entry_free(r->entries[i]);
	free(r->entries);
	free(r->scenario);
	free(r->account);
	free(r);
}

static int
ledger_valid_run_id(const char *s)
{
	size_t	 i;

	for (i = 0; i < 32; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[32] == '\0';
}

static struct ledger_run *
ledger_run_alloc(struct ledger *l, const char *run_id, const char *scenario,
    const char *account, double started)
{
	struct ledger_run	*r;

	r = xcalloc(1, sizeof(*r));
	r->ledger = l;
	snprintf(r->run_id, sizeof(r->run_id), "%s", run_id);
	r->scenario = xstrdup(scenario != NULL ? scenario : "");
	r->account = xstrdup(account != NULL ? account : "");
	r->started = started;
	return r;
}

static void
ledger_run_append(struct ledger *l, struct ledger_run *r)
{
	l->runs = xreallocarray(l->runs, l->nruns + 1, sizeof(*l->runs));
	l->runs[l->nruns++] = r;
}

static void
ledger_entry_append(struct ledger_run *r, struct ledger_entry *e)
{
	r->entries = xreallocarray(r->entries, r->nentries + 1,
	    sizeof(*r->entries));
	e->run = r;
	e->idx = (unsigned)r->nentries;
	r->entries[r->nentries++] = e;
}

/* ---- files ---------------------------------------------------------------- */

static int
ledger_write_all(int fd, const char *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Atomically replace dirfd/name with data; the directory is not synced. */
static int
ledger_replace(int dirfd, const char *name, const char *data, size_t len,
    char **cause)
{
	char	*tmp;
	int	 fd, saved;

	tmp = xprintf(".%s.%ld.tmp", name, (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600);
	if (fd == -1) {
		*cause = xprintf("create %s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (ledger_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		saved = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		*cause = xprintf("write %s: %s", tmp, strerror(saved));
		free(tmp);
		return -1;
	}
	if (close(fd) == -1 || renameat(dirfd, tmp, dirfd, name) == -1) {
		saved = errno;
		unlinkat(dirfd, tmp, 0);
		*cause = xprintf("replace %s: %s", name, strerror(saved));
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

static char *
ledger_read(int dirfd, const char *name, size_t *lenp, char **cause)
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

/* Rename an unreadable file to NAME.corrupt-<time> and say so. */
static void
ledger_set_aside(struct ledger *l, int dirfd, const char *sub,
    const char *name, const char *why)
{
	char		 stamp[17], *aside = NULL, *path, *apath;
	const char	*fields[5];
	int		 i;

	time_amz(time(NULL), stamp);
	for (i = 0; i < 100; i++) {
		free(aside);
		aside = i == 0 ? xprintf("%s.corrupt-%s", name, stamp) :
		    xprintf("%s.corrupt-%s-%d", name, stamp, i);
		if (faccessat(dirfd, aside, F_OK, AT_SYMLINK_NOFOLLOW) == -1 &&
		    errno == ENOENT)
			break;
	}
	path = xprintf("%s/%s%s%s", l->dir, sub, *sub ? "/" : "", name);
	apath = xprintf("%s/%s%s%s", l->dir, sub, *sub ? "/" : "", aside);
	l->corrupt++;
	if (renameat(dirfd, name, dirfd, aside) == -1) {
		log_warn("state file %s is unreadable (%s) and could not be "
		    "moved aside; ignoring it", path, why);
		goto out;
	}
	fsync(dirfd);
	{
		char	*f0 = xprintf("CLOUDSAGA_STATE_FILE=%s", path);
		char	*f1 = xprintf("CLOUDSAGA_SET_ASIDE=%s", apath);
		char	*f2 = xprintf("CLOUDSAGA_ERROR=%s", why);

		fields[0] = f0;
		fields[1] = f1;
		fields[2] = f2;
		fields[3] = NULL;
		log_fields(LOG_ERR, MSGID_STATE_CORRUPT, fields,
		    "state file %s is unreadable (%s): moved aside to %s, "
		    "continuing without it", path, why, apath);
		free(f0);
		free(f1);
		free(f2);
	}
out:
	free(path);
	free(apath);
	free(aside);
}

/* ---- JSON form ------------------------------------------------------------ */

static void
ledger_set_str(json_t *o, const char *key, const char *v)
{
	json_object_set_new(o, key, v != NULL ? json_string(v) : json_null());
}

static json_t *
ledger_entry_json(const struct ledger_entry *e)
{
	json_t	*o = json_object();

	json_object_set_new(o, "idx", json_integer(e->idx));
	ledger_set_str(o, "account_id", e->account_id);
	ledger_set_str(o, "call_region", e->call_region);
	ledger_set_str(o, "region", e->region);
	ledger_set_str(o, "event_source", e->event_source);
	ledger_set_str(o, "event_name", e->event_name);
	ledger_set_str(o, "error_code", e->error_code);
	ledger_set_str(o, "request_id", e->request_id);
	ledger_set_str(o, "access_key_id", e->access_key_id);
	ledger_set_str(o, "user_agent", e->user_agent);
	json_object_set_new(o, "read_only", json_boolean(e->read_only));
	json_object_set_new(o, "fired_at", json_real(e->fired_at));
	json_object_set_new(o, "deadline", json_real(e->deadline));
	json_object_set_new(o, "verdict", json_string(verdict_name(e->verdict)));
	if (e->verdict != VERDICT_PENDING)
		json_object_set_new(o, "decided_at", json_real(e->decided_at));
	if (e->event_id != NULL) {
		ledger_set_str(o, "event_id", e->event_id);
		json_object_set_new(o, "found_at", json_real(e->found_at));
		json_object_set_new(o, "event_time", json_real(e->event_time));
		ledger_set_str(o, "match", e->match);
	}
	if (e->reason != NULL)
		ledger_set_str(o, "reason", e->reason);
	if (e->record != NULL)
		json_object_set(o, "record", e->record);
	if (e->coverage != COVERAGE_NONE) {
		json_object_set_new(o, "coverage",
		    json_string(coverage_name(e->coverage)));
		if (e->rules != NULL)
			json_object_set(o, "rules", e->rules);
		if (e->coverage_reason != NULL)
			ledger_set_str(o, "coverage_reason", e->coverage_reason);
	}
	json_object_set_new(o, "seq", json_integer((json_int_t)e->seq));
	json_object_set_new(o, "reported", json_boolean(e->reported));
	return o;
}

static json_t *
ledger_run_json(const struct ledger_run *r)
{
	json_t	*o = json_object(), *calls = json_object(), *rows = json_array();
	size_t	 i;

	json_object_set_new(o, "format", json_string(LEDGER_FORMAT));
	json_object_set_new(o, "version", json_integer(LEDGER_VERSION));
	json_object_set_new(o, "run_id", json_string(r->run_id));
	json_object_set_new(o, "scenario", json_string(r->scenario));
	json_object_set_new(o, "account", json_string(r->account));
	json_object_set_new(o, "started", json_real(r->started));
	json_object_set_new(o, "finished", json_real(r->finished));
	json_object_set_new(o, "halted", json_boolean(r->halted));
	if (r->failed > 0)
		json_object_set_new(o, "failed", json_integer(r->failed));
	for (i = 0; i < nitems(ledger_call_names); i++)
		json_object_set_new(calls, ledger_call_names[i],
		    json_integer(r->calls[i]));
	json_object_set_new(o, "calls", calls);
	json_object_set_new(o, "summary_seq",
	    json_integer((json_int_t)r->summary_seq));
	json_object_set_new(o, "summary_reported",
	    json_boolean(r->summary_reported));
	for (i = 0; i < r->nentries; i++)
		json_array_append_new(rows, ledger_entry_json(r->entries[i]));
	json_object_set_new(o, "expectations", rows);
	return o;
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
	if (!json_is_number(v)) {
		ledger_bad(ld, "\"%s\" is not a number", key);
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
	e->account_id = ledger_get_str(ld, o, "account_id", 0);
	e->call_region = ledger_get_str(ld, o, "call_region", 0);
	e->region = ledger_get_str(ld, o, "region", 1);
	e->event_source = ledger_get_str(ld, o, "event_source", 1);
	e->event_name = ledger_get_str(ld, o, "event_name", 1);
	e->error_code = ledger_get_str(ld, o, "error_code", 0);
	e->request_id = ledger_get_str(ld, o, "request_id", 0);
	e->access_key_id = ledger_get_str(ld, o, "access_key_id", 0);
	e->user_agent = ledger_get_str(ld, o, "user_agent", 0);
	e->read_only = ledger_get_bool(ld, o, "read_only");
	e->fired_at = ledger_get_num(ld, o, "fired_at", 1);
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
		for (i = 0; json_is_object(v) && i < nitems(ledger_call_names);
		    i++)
			r->calls[i] = (unsigned)ledger_get_num(ld, v,
			    ledger_call_names[i], 0);
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

/* ---- open / close -------------------------------------------------------- */

static int
ledger_run_cmp(const void *a, const void *b)
{
	const struct ledger_run	*ra = *(struct ledger_run *const *)a;
	const struct ledger_run	*rb = *(struct ledger_run *const *)b;

	if (ra->started != rb->started)
		return ra->started < rb->started ? -1 : 1;
	return strcmp(ra->run_id, rb->run_id);
}

static void
ledger_load_meta(struct ledger *l)
{
	struct ledger_load	 ld = { NULL };
	json_error_t		 jerr;
	json_t			*root, *v;
	char			*data, *cause = NULL;
	size_t			 len;

	if ((data = ledger_read(l->dirfd, LEDGER_META, &len, &cause)) == NULL) {
		if (faccessat(l->dirfd, LEDGER_META, F_OK,
		    AT_SYMLINK_NOFOLLOW) == 0)
			ledger_set_aside(l, l->dirfd, "", LEDGER_META, cause);
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
		l->last_seq = (uint64_t)json_integer_value(v);
		/* Optional: when each schedule entry last started. */
		if (json_is_object(v = json_object_get(root, "schedule"))) {
			const char	*k;
			json_t		*t;

			json_object_foreach(v, k, t)
				if (json_is_number(t))
					json_object_set_new(l->sched, k,
					    json_real(json_number_value(t)));
		}
	}
	if (ld.why != NULL)
		ledger_set_aside(l, l->dirfd, "", LEDGER_META, ld.why);
	free(ld.why);
	json_decref(root);
	free(data);
}

static void
ledger_load_runs(struct ledger *l)
{
	struct ledger_load	 ld;
	struct ledger_run	*r;
	struct dirent		*de;
	DIR			*d;
	char			 id[33], *data, *cause;
	size_t			 len, nlen, i;
	int			 fd;
	double			 now = now_real();

	if ((fd = dup(l->runsfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		log_warn("%s/%s", l->dir, LEDGER_RUNS);
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		nlen = strlen(de->d_name);
		if (de->d_name[0] == '.') {
			/* A temporary file of an interrupted write. */
			if (nlen > 4 && strcmp(de->d_name + nlen - 4, ".tmp") == 0)
				unlinkat(l->runsfd, de->d_name, 0);
			continue;
		}
		if (nlen != 32 + 5 || strcmp(de->d_name + 32, ".json") != 0)
			continue;	/* set-aside files, strangers */
		memcpy(id, de->d_name, 32);
		id[32] = '\0';
		if (!ledger_valid_run_id(id))
			continue;
		cause = NULL;
		memset(&ld, 0, sizeof(ld));
		if ((data = ledger_read(l->runsfd, de->d_name, &len, &cause)) ==
		    NULL) {
			ledger_set_aside(l, l->runsfd, LEDGER_RUNS, de->d_name,
			    cause);
			free(cause);
			continue;
		}
		r = ledger_run_load(l, &ld, data, len, id);
		free(data);
		if (r == NULL) {
			ledger_set_aside(l, l->runsfd, LEDGER_RUNS, de->d_name,
			    ld.why);
			free(ld.why);
			continue;
		}
		ledger_run_append(l, r);
	}
	closedir(d);
	if (l->nruns > 1)
		qsort(l->runs, l->nruns, sizeof(*l->runs), ledger_run_cmp);
	for (i = 0; i < l->nruns; i++) {
		r = l->runs[i];
		/* A run the previous process did not see end: it never will. */
		if (r->finished == 0) {
			r->finished = now;
			r->halted = 1;
			r->dirty = 1;
		}
		if (r->summary_seq > l->last_seq)
			l->last_seq = r->summary_seq;
		for (len = 0; len < r->nentries; len++)
			if (r->entries[len]->seq > l->last_seq)
				l->last_seq = r->entries[len]->seq;
	}
}

/* Every eventID that proves a row: one record proves one call. */
static void
ledger_used_rebuild(struct ledger *l)
{
	size_t	 i, j;

	json_object_clear(l->used);
	for (i = 0; i < l->nruns; i++)
		for (j = 0; j < l->runs[i]->nentries; j++)
			if (l->runs[i]->entries[j]->event_id != NULL &&
			    *l->runs[i]->entries[j]->event_id != '\0')
				json_object_set_new(l->used,
				    l->runs[i]->entries[j]->event_id,
				    json_true());
}

int
ledger_event_used(const struct ledger *l, const char *event_id)
{
	return event_id != NULL && *event_id != '\0' &&
	    json_object_get(l->used, event_id) != NULL;
}

struct ledger *
ledger_open(const char *dir, char **cause)
{
	struct ledger	*l;

	l = xcalloc(1, sizeof(*l));
	l->dirfd = l->runsfd = l->lockfd = -1;
	l->sched = json_object();
	l->used = json_object();
	if (dir == NULL)
		return l;
	l->dir = xstrdup(dir);
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		*cause = xprintf("state directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	if ((l->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		*cause = xprintf("state directory %s: %s", dir, strerror(errno));
		goto fail;
	}
	l->lockfd = openat(l->dirfd, LEDGER_LOCK, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600);
	if (l->lockfd == -1) {
		*cause = xprintf("%s/%s: %s", dir, LEDGER_LOCK, strerror(errno));
		goto fail;
	}
	if (flock(l->lockfd, LOCK_EX | LOCK_NB) == -1) {
		*cause = errno == EWOULDBLOCK ? xprintf("state directory %s is "
		    "in use by another cloudsagad", dir) :
		    xprintf("lock %s/%s: %s", dir, LEDGER_LOCK, strerror(errno));
		goto fail;
	}
	if (mkdirat(l->dirfd, LEDGER_RUNS, 0700) == -1 && errno != EEXIST) {
		*cause = xprintf("%s/%s: %s", dir, LEDGER_RUNS, strerror(errno));
		goto fail;
	}
	l->runsfd = openat(l->dirfd, LEDGER_RUNS,
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (l->runsfd == -1) {
		*cause = xprintf("%s/%s: %s", dir, LEDGER_RUNS, strerror(errno));
		goto fail;
	}
	ledger_load_meta(l);
	ledger_load_runs(l);
	ledger_used_rebuild(l);
	return l;
fail:
	ledger_free(l);
	return NULL;
}

void
ledger_free(struct ledger *l)
{
	size_t	 i;

	if (l == NULL)
		return;
	for (i = 0; i < l->nruns; i++)
		ledger_run_free(l->runs[i]);
	free(l->runs);
	json_decref(l->sched);
	json_decref(l->used);
	if (l->runsfd != -1)
		close(l->runsfd);
	if (l->dirfd != -1)
		close(l->dirfd);
	if (l->lockfd != -1)
		close(l->lockfd);	/* releases the flock */
	free(l->dir);
	free(l);
}

const char *
ledger_dir(const struct ledger *l)
{
	return l->dir;
}

unsigned
ledger_corrupt_count(const struct ledger *l)
{
	return l->corrupt;
}

/* ---- runs --------------------------------------------------------------- */

struct ledger_run *
ledger_run_get(struct ledger *l, const char *run_id)
{
	size_t	 i;

	for (i = l->nruns; i > 0; i--)
		if (strcmp(l->runs[i - 1]->run_id, run_id) == 0)
			return l->runs[i - 1];
	return NULL;
}

struct ledger_run *
ledger_run_begin(struct ledger *l, const char *run_id, const char *scenario,
    const char *account, double started)
{
	struct ledger_run	*r;

	if ((r = ledger_run_get(l, run_id)) != NULL)
		return r;
	if (!ledger_valid_run_id(run_id))
		fatalx("%s: bad run id \"%s\"", __func__, run_id);
	r = ledger_run_alloc(l, run_id, scenario, account, started);
	r->dirty = 1;
	ledger_run_append(l, r);
	return r;
}

void
ledger_run_call(struct ledger_run *r, enum run_call_outcome o)
{
	if ((size_t)o < nitems(r->calls)) {
		r->calls[o]++;
		r->dirty = 1;
	}
}

void
ledger_run_failed(struct ledger_run *r, unsigned failed)
{
	r->failed = failed;
	r->dirty = 1;
}

void
ledger_run_end(struct ledger_run *r, double finished, int halted)
{
	r->finished = finished > 0 ? finished : now_real();
	r->halted = halted;
	r->dirty = 1;
}

int
ledger_run_complete(const struct ledger_run *r)
{
	size_t	 i;

	if (r->finished == 0)
		return 0;
	for (i = 0; i < r->nentries; i++)
		if (!r->entries[i]->reported)
			return 0;
	return 1;
}

void
ledger_run_counts(const struct ledger_run *r, struct ledger_counts *c)
{
	const struct ledger_entry	*e;
	double				 lat;
	size_t				 i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < r->nentries; i++) {
		e = r->entries[i];
		c->expected++;
		switch (e->verdict) {
		case VERDICT_PENDING:
			c->pending++;
			break;
		case VERDICT_LOGGED:
			c->logged++;
			lat = e->found_at - e->fired_at;
			if (c->logged == 1 || lat < c->latency_min)
				c->latency_min = lat;
			if (c->logged == 1 || lat > c->latency_max)
				c->latency_max = lat;
			c->latency_sum += lat;
			break;
		case VERDICT_MISSING:
			c->missing++;
			break;
		case VERDICT_UNVERIFIED:
			c->unverified++;
			break;
		}
		switch (e->coverage) {
		case COVERAGE_COVERED:
			c->covered++;
			break;
		case COVERAGE_UNCOVERED:
			c->uncovered++;
			break;
		case COVERAGE_UNKNOWN:
			c->coverage_unknown++;
			break;
		case COVERAGE_NONE:
			break;
		}
	}
}

struct ledger_run **
ledger_runs(struct ledger *l, size_t *n)
{
	*n = l->nruns;
	return l->runs;
}

/* ---- rows ------------------------------------------------------------------ */

struct ledger_entry *
ledger_add(struct ledger *l, const struct expectation *x, double deadline)
{
	struct ledger_run	*r;
	struct ledger_entry	*e;

	r = ledger_run_begin(l, x->run_id, x->scenario, x->account,
	    x->fired_at);
	e = xcalloc(1, sizeof(*e));
	e->account_id = xstrdup_or_null(x->account_id);
	e->call_region = xstrdup_or_null(x->call_region);
	e->region = xstrdup(x->region != NULL ? x->region :
	    x->call_region != NULL ? x->call_region : "us-east-1");
	e->event_source = xstrdup(x->event_source != NULL ?
	    x->event_source : "");
	e->event_name = xstrdup(x->event_name != NULL ? x->event_name : "");
	e->error_code = xstrdup_or_null(x->error_code);
	e->request_id = xstrdup_or_null(x->request_id);
	e->access_key_id = xstrdup_or_null(x->access_key_id);
	e->user_agent = xstrdup_or_null(x->user_agent);
	e->read_only = x->read_only;
	e->fired_at = x->fired_at;
	e->fired_mono = x->fired_mono;
	e->deadline = deadline;
	ledger_entry_append(r, e);
	r->dirty = 1;
	return e;
}

const char *
ledger_entry_run_id(const struct ledger_entry *e)
{
	return e->run->run_id;
}

const char *
ledger_entry_scenario(const struct ledger_entry *e)
{
	return e->run->scenario;
}

const char *
ledger_entry_account(const struct ledger_entry *e)
{
	return e->run->account;
}

void
ledger_entry_report_id(const struct ledger_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "%s-%u", e->run->run_id, e->idx);
}

void
ledger_run_report_id(const struct ledger_run *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s-summary", r->run_id);
}

int
ledger_decide(struct ledger_entry *e, enum verdict v,
    const struct ledger_found *found, const char *reason, double now)
{
	if (e->verdict != VERDICT_PENDING || v == VERDICT_PENDING)
		return -1;
	e->verdict = v;
	e->decided_at = now;
	if (v == VERDICT_LOGGED && found != NULL) {
		e->event_id = xstrdup(found->event_id != NULL ?
		    found->event_id : "");
		if (*e->event_id != '\0')
			json_object_set_new(e->run->ledger->used,
			    e->event_id, json_true());
		e->found_at = found->found_at;
		e->event_time = found->event_time;
		e->match = xstrdup_or_null(found->match);
		if (found->record != NULL)
			e->record = json_incref(found->record);
	}
	free(e->reason);
	e->reason = xstrdup_or_null(reason);
	e->run->dirty = 1;
	return 0;
}

void
ledger_set_coverage(struct ledger_entry *e, enum coverage c, json_t *rules,
    const char *reason)
{
	e->coverage = c;
	json_decref(e->rules);
	e->rules = rules != NULL ? json_incref(rules) : NULL;
	free(e->coverage_reason);
	e->coverage_reason = xstrdup_or_null(reason);
	e->run->dirty = 1;
}

uint64_t
ledger_queue(struct ledger_entry *e)
{
	if (e->seq == 0 && e->verdict != VERDICT_PENDING) {
		e->seq = ++e->run->ledger->last_seq;
		e->run->dirty = 1;
	}
	return e->seq;
}

uint64_t
ledger_queue_summary(struct ledger_run *r)
{
	if (r->summary_seq == 0) {
		r->summary_seq = ++r->ledger->last_seq;
		r->dirty = 1;
	}
	return r->summary_seq;
}

void
ledger_mark_reported(struct ledger_entry *e)
{
	if (e->reported || e->seq == 0)
		return;
	e->reported = 1;
	json_decref(e->record);
	e->record = NULL;
	e->run->dirty = 1;
}

void
ledger_mark_summary_reported(struct ledger_run *r)
{
	if (r->summary_reported || r->summary_seq == 0)
		return;
	r->summary_reported = 1;
	r->dirty = 1;
}

uint64_t
ledger_last_seq(const struct ledger *l)
{
	return l->last_seq;
}

void
ledger_bump_seq(struct ledger *l, uint64_t seq)
{
	if (seq > l->last_seq)
		l->last_seq = seq;
}

size_t
ledger_pending_count(const struct ledger *l)
{
	size_t	 i, j, n = 0;

	for (i = 0; i < l->nruns; i++)
		for (j = 0; j < l->runs[i]->nentries; j++)
			if (l->runs[i]->entries[j]->verdict == VERDICT_PENDING)
				n++;
	return n;
}

/* ---- commit / prune ------------------------------------------------------- */

int
ledger_commit(struct ledger *l, char **cause)
{
	struct ledger_run	*r;
	json_t			*o;
	char			*data, name[40];
	size_t			 i;
	int			 wrote = 0, rc = 0;

	for (i = 0; i < l->nruns; i++) {
		r = l->runs[i];
		if (!r->dirty)
			continue;
		if (l->dir == NULL) {
			r->dirty = 0;
			continue;
		}
		o = ledger_run_json(r);
		data = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (data == NULL)
			fatalx("%s: out of memory", __func__);
		snprintf(name, sizeof(name), "%s.json", r->run_id);
		if (ledger_replace(l->runsfd, name, data, strlen(data),
		    cause) == -1) {
			free(data);
			rc = -1;
			break;
		}
		free(data);
		r->dirty = 0;
		wrote = 1;
	}
	if (rc == 0 && l->meta_dirty && ledger_write_meta(l, cause) == -1)
		rc = -1;
	/* One directory fsync makes every rename above durable. */
	if (wrote && fsync(l->runsfd) == -1 && rc == 0) {
		*cause = xprintf("fsync %s/%s: %s", l->dir, LEDGER_RUNS,
		    strerror(errno));
		for (i = 0; i < l->nruns; i++)
			l->runs[i]->dirty = 1;	/* write them again */
		rc = -1;
	}
	return rc;
}

/* ledger.json: the report high-water mark and the schedule memory. */
static int
ledger_write_meta(struct ledger *l, char **cause)
{
	json_t	*o;
	char	*data, *why = NULL;

	if (l->dir == NULL) {
		l->meta_dirty = 0;
		return 0;
	}
	o = json_pack("{s:s,s:i,s:I,s:O}", "format", LEDGER_FORMAT,
	    "version", LEDGER_VERSION, "last_seq", (json_int_t)l->last_seq,
	    "schedule", l->sched);
	data = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER |
	    JSON_SORT_KEYS);
	json_decref(o);
	if (data == NULL)
		fatalx("%s: out of memory", __func__);
	if (ledger_replace(l->dirfd, LEDGER_META, data, strlen(data),
	    &why) == -1 || fsync(l->dirfd) == -1) {
		*cause = why != NULL ? why : xprintf("fsync %s: %s", l->dir,
		    strerror(errno));
		free(data);
		return -1;
	}
	free(data);
	l->meta_dirty = 0;
	return 0;
}

void
ledger_sched_set(struct ledger *l, const char *entry, double last_start)
{
	json_object_set_new(l->sched, entry, json_real(last_start));
	l->meta_dirty = 1;
}

double
ledger_sched_get(const struct ledger *l, const char *entry)
{
	json_t	*t = json_object_get(l->sched, entry);

	return json_is_number(t) ? json_number_value(t) : 0;
}

int
ledger_prune(struct ledger *l, double before, char **cause)
{
	struct ledger_run	*r;
	char			 name[40];
	size_t			 i, j;
	int			 n = 0;

	for (i = 0; i < l->nruns; i++) {
		r = l->runs[i];
		if (ledger_run_complete(r) && r->summary_reported &&
		    r->finished < before && !r->dirty)
			n++;
	}
	if (n == 0)
		return 0;
	/* First the high-water mark, so sequence numbers never go back. */
	if (ledger_write_meta(l, cause) == -1)
		return -1;
	n = 0;
	for (i = 0, j = 0; i < l->nruns; i++) {
		r = l->runs[i];
		if (ledger_run_complete(r) && r->summary_reported &&
		    r->finished < before && !r->dirty) {
			if (l->dir != NULL) {
				snprintf(name, sizeof(name), "%s.json",
				    r->run_id);
				if (unlinkat(l->runsfd, name, 0) == -1 &&
				    errno != ENOENT) {
					log_warn("%s/%s/%s", l->dir,
					    LEDGER_RUNS, name);
					l->runs[j++] = r;
					continue;
				}
			}
			ledger_run_free(r);
			n++;
		} else
			l->runs[j++] = r;
	}
	l->nruns = j;
	ledger_used_rebuild(l);
	if (l->dir != NULL)
		fsync(l->runsfd);
	return n;
}
