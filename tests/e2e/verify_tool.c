/*
 * verify-tool: drives the real verifier, ledger and reporter end to end for
 * tests/e2e/test_verify*.py and test_journal*.py, until the daemon wires
 * them (the lead's integration) - and afterwards as a focused harness.
 *
 *   verify-tool --endpoint URL [options]
 *       [SERVICE:Action[@region][?K=V&..][#ROLE][#EVIDENCE]]...
 *
 * ROLE (signal, context) and EVIDENCE (documented, observed, assumed) set
 * the request's role and evidence level (#11); --role and --evidence set
 * them for every call without one (default: the role the action's
 * read-only flag gives, documented).
 *
 * Fires each call through aws_client_send (EC2 mutating calls with
 * DryRun=true, all tagged with the run marker), turns every call that
 * reaches CloudTrail into an expectation in the ledger, verifies them with
 * LookupEvents, and reports the verdicts (journal/syslog/stderr and the
 * JSON-lines file).  It exits when every expectation has its verdict and
 * every report went out.  stdout: "fired N" once the calls answered and
 * their expectations are durable, then "done logged=N missing=N
 * unverified=N".
 *
 * --resume fires nothing: it reloads the state directory, replays owed
 * reports and verifies what is pending (the restart after kill -9).
 * --crash-at STEP exits abruptly after that step of the report protocol,
 * the first time it happens once every call has answered ("fired N"
 * printed): a verdict may be reported before the last call answers, and a
 * crash then would not be the crash the caller asked for.
 * SIGTERM drains the verifier (no new lookups, the one in flight ends) and
 * exits: "drained pending=N".
 *
 * Coverage mode (--coverage eventbridge,metric-filters,guardduty or all):
 * every verdict batch goes through the alerting check (daemon/coverage)
 * before it is reported.  Each cycle prints
 *   "cycle K run=RUNID logged=N missing=N unverified=N covered=N
 *    uncovered=N coverage_unknown=N"
 *   "coverage-stats cycle=K rows=N questions=N tep_calls=N tmf_calls=N
 *    api_calls=N failures=N"
 * and, with guardduty, "guardduty findings=N" once the run's GuardDuty
 * check is reported.  With --cycles N the tool then prints "waiting",
 * reads one line from stdin (the test changes the world meanwhile), starts
 * a new coverage cycle (coverage_cycle_reset) and fires the same calls
 * again under a new run ID; after the last cycle it prints "done ...".
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "aws.h"
#include "client.h"
#include "coverage.h"
#include "creds.h"
#include "http.h"
#include "ledger.h"
#include "log.h"
#include "report.h"
#include "scenario.h"
#include "util.h"
#include "verify.h"
#include "xmalloc.h"

struct tool {
	struct event_base	*base;
	struct aws_client	*client;
	struct creds_provider	*creds;
	struct ledger		*ledger;
	struct reporter		*rp;
	struct verifier		*v;
	char			 run_id[33];
	const char		*scenario;
	const char		*account;
	int			 outstanding;	/* calls not answered yet */
	int			 fired;
	int			 all_fired;	/* "fired N" printed */
	int			 resume;
	int			 failed;
	const char		*crash_at;
	/* --role, --evidence */
	enum aws_role		 role;
	enum aws_evidence	 evidence;
	struct event		*timeout_ev;
	struct event		*term_ev;
	int			 timed_out;

	/* Coverage mode. */
	struct coverage_ctx	*cov;
	int			 cycle, ncycles;
	char			**calls;
	int			 ncalls;
	int			 waiting;	/* for a line on stdin */
	int			 gd_state;	/* 0 none, 1 running, 2 done */
	struct event		*stdin_ev;
};

static void	tool_fire(struct tool *);

static void
usage(void)
{
	fprintf(stderr, "usage: verify-tool --endpoint URL [--state DIR] "
	    "[--report FILE]\n"
	    "    [--backend journal|syslog|stderr] [--run-id ID] [--resume]\n"
	    "    [--initial-delay S] [--interval S] [--deadline S] [--skew S]\n"
	    "    [--grace S] [--rate R] [--max-pages N] [--max-queries N]\n"
	    "    [--timeout S] [--json] [--crash-at STEP] [--journal-wait S]\n"
	    "    [--coverage LIST] [--cycles N] [--test-rate R]\n"
	    "    [--role signal|context] [--evidence documented|observed|"
	    "assumed]\n"
	    "    [SERVICE:Action[@region][?Key=Value&...][#ROLE][#EVIDENCE]]"
	    "...\n");
	exit(2);
}

static void
tool_crash(const char *step, void *arg)
{
	struct tool	*t = arg;

	if (t->crash_at != NULL && t->all_fired &&
	    strcmp(step, t->crash_at) == 0) {
		fflush(stdout);
		_exit(0);
	}
}

static void	tool_check_done(struct tool *);

static void
tool_gd_done(const struct coverage_gd_report *r, void *arg)
{
	struct tool	*t = arg;

	report_guardduty(t->rp, r);
	printf("guardduty findings=%zu\n", r->nfindings);
	fflush(stdout);
	t->gd_state = 2;
	tool_check_done(t);
}

/* Coverage mode: the end of a cycle. */
static void
tool_cycle_done(struct tool *t)
{
	struct ledger_run	*r = ledger_run_get(t->ledger, t->run_id);
	struct ledger_counts	 c;
	struct coverage_stats	 st;

	if (r != NULL && t->gd_state == 0 && coverage_guardduty(t->cov,
	    t->creds, r, NULL, 0, r->started, tool_gd_done, t) == 0) {
		t->gd_state = 1;
		return;
	}
	if (t->gd_state == 1)
		return;
	memset(&c, 0, sizeof(c));
	if (r != NULL)
		ledger_run_counts(r, &c);
	coverage_stats(t->cov, &st);
	printf("cycle %d run=%s logged=%u missing=%u unverified=%u "
	    "covered=%u uncovered=%u coverage_unknown=%u\n", t->cycle,
	    t->run_id, c.logged,
	    c.missing, c.unverified, c.covered, c.uncovered,
	    c.coverage_unknown);
	printf("coverage-stats cycle=%u rows=%lu questions=%lu tep_calls=%lu "
	    "tmf_calls=%lu api_calls=%lu failures=%lu\n", st.cycle, st.rows,
	    st.questions, st.tep_calls, st.tmf_calls, st.api_calls,
	    st.failures);
	if (t->cycle < t->ncycles) {
		printf("waiting\n");
		fflush(stdout);
		t->waiting = 1;
		event_add(t->stdin_ev, NULL);
		return;
	}
	printf("done logged=%u missing=%u unverified=%u\n", c.logged,
	    c.missing, c.unverified);
	fflush(stdout);
	event_base_loopexit(t->base, NULL);
}

/* Done when nothing is pending, nothing is owed, and every run ended. */
static void
tool_check_done(struct tool *t)
{
	struct ledger_run	**runs;
	struct ledger_counts	 c, all;
	size_t			 n, i;

	if (t->waiting || t->outstanding > 0 ||
	    verifier_pending_count(t->v) > 0)
		return;
	if (t->cov != NULL && coverage_pending(t->cov) > 0)
		return;
	runs = ledger_runs(t->ledger, &n);
	memset(&all, 0, sizeof(all));
	for (i = 0; i < n; i++) {
		if (!ledger_run_complete(runs[i]) || !runs[i]->summary_reported)
			return;
		ledger_run_counts(runs[i], &c);
		all.logged += c.logged;
		all.missing += c.missing;
		all.unverified += c.unverified;
	}
	if (t->cov != NULL) {
		tool_cycle_done(t);
		return;
	}
	printf("done logged=%u missing=%u unverified=%u\n", all.logged,
	    all.missing, all.unverified);
	fflush(stdout);
	event_base_loopexit(t->base, NULL);
}

/* A line on stdin: the next cycle. */
static void
tool_stdin(evutil_socket_t fd, short ev, void *arg)
{
	struct tool	*t = arg;
	char		 buf[256];
	ssize_t		 n;

	n = read(fd, buf, sizeof(buf));
	if (n <= 0 || !t->waiting) {
		if (n <= 0)
			event_del(t->stdin_ev);
		if (n <= 0 && t->waiting)
			event_base_loopexit(t->base, NULL);
		return;
	}
	event_del(t->stdin_ev);
	t->waiting = 0;
	t->cycle++;
	t->gd_state = 0;
	coverage_cycle_reset(t->cov);
	random_id128(t->run_id);
	tool_fire(t);
}

static void
tool_covered(struct ledger_entry **e, size_t n, void *arg)
{
	struct tool	*t = arg;
	char		*cause = NULL;

	if (ledger_commit(t->ledger, &cause) == -1) {
		log_warnx("ledger: %s", cause);
		free(cause);
		cause = NULL;
	}
	if (report_verdicts(t->rp, e, n, &cause) == -1) {
		log_warnx("report: %s", cause);
		free(cause);
		t->failed = 1;
	}
	tool_check_done(t);
}

static struct creds_provider *tool_creds(const char *, void *);

static void
tool_verdicts(struct ledger_entry **e, size_t n, void *arg)
{
	struct tool	*t = arg;
	char		*cause = NULL;

	if (t->cov != NULL) {
		coverage_check_rows(t->cov, tool_creds, t, e, n, tool_covered,
		    t);
		return;
	}
	if (report_verdicts(t->rp, e, n, &cause) == -1) {
		log_warnx("report: %s", cause);
		free(cause);
		t->failed = 1;
	}
	tool_check_done(t);
}

static struct creds_provider *
tool_creds(const char *account, void *arg)
{
	struct tool	*t = arg;

	return t->creds;
}

static void
tool_all_fired(struct tool *t)
{
	struct ledger_run	*r;
	char			*cause = NULL;

	if ((r = ledger_run_get(t->ledger, t->run_id)) == NULL)
		r = ledger_run_begin(t->ledger, t->run_id, t->scenario,
		    t->account, now_real());
	ledger_run_end(r, now_real(), 0);
	if (ledger_commit(t->ledger, &cause) == -1)
		fatalx("ledger: %s", cause);
	printf("fired %d\n", t->fired);
	fflush(stdout);
	t->all_fired = 1;
	/* A run without expectations is complete at once. */
	if (report_flush(t->rp, &cause) == -1)
		fatalx("report: %s", cause);
	tool_check_done(t);
}

static void
tool_call_done(const struct aws_request *req, struct aws_result *res,
    void *arg)
{
	struct tool		*t = arg;
	struct expectation	 x;
	struct ledger_run	*r;
	enum run_call_outcome	 oc;

	t->outstanding--;
	log_info("%s:%s in %s: %s%s%s (request %s)", req->svc->id,
	    req->action, req->region, aws_outcome_name(res->outcome),
	    res->error_code ? " " : "", res->error_code ? res->error_code : "",
	    res->request_id ? res->request_id : "-");
	r = ledger_run_begin(t->ledger, t->run_id, t->scenario, t->account,
	    res->fired_at > 0 ? res->fired_at : now_real());
	switch (res->outcome) {
	case AWS_OK:
	case AWS_PERMITTED:
		oc = RUN_PERMITTED;
		break;
	case AWS_DENIED:
		oc = RUN_DENIED;
		break;
	case AWS_REGION_OFF:
	case AWS_REFUSED:
		oc = RUN_SKIPPED;
		break;
	default:
		oc = RUN_ERROR;
		break;
	}
	ledger_run_call(r, oc);
	if (oc == RUN_PERMITTED || oc == RUN_DENIED) {
		memset(&x, 0, sizeof(x));
		memcpy(x.run_id, t->run_id, sizeof(x.run_id));
		x.scenario = (char *)t->scenario;
		x.account = (char *)t->account;
		x.call_region = req->region;
		x.region = req->svc->global ? (char *)"us-east-1" : req->region;
		x.event_source = (char *)req->svc->event_source;
		x.event_name = req->action;
		x.error_code = aws_cloudtrail_error_code(req->svc,
		    res->error_code);
		x.request_id = res->request_id;
		x.access_key_id = res->access_key_id;
		x.user_agent = res->user_agent;
		x.read_only = aws_action_is_read_only(req->svc, req->action);
		x.role = aws_role_resolve(req);
		x.evidence = req->evidence;
		x.fired_at = res->fired_at > 0 ? res->fired_at : now_real();
		verifier_watch(t->v, ledger_add(t->ledger, &x,
		    verifier_deadline(t->v, &x)));
		verifier_commit_soon(t->v);
		free(x.error_code);
		t->fired++;
	}
	if (t->outstanding == 0)
		tool_all_fired(t);
}

/* "ec2:CreateSecurityGroup@us-east-1?GroupName=x&Description=y" */
static struct aws_request *
tool_request(struct tool *t, const char *spec)
{
	const struct aws_service *svc;
	struct aws_request	*req;
	char			*s = xstrdup(spec), *action, *region, *query;
	char			*kv, *v, *tag;
	int			 r, role = t->role, evidence = t->evidence;

	/* "#signal", "#assumed", ...: the role and evidence of the call. */
	if ((tag = strchr(s, '#')) != NULL)
		*tag++ = '\0';
	while (tag != NULL && (kv = strsep(&tag, "#")) != NULL) {
		if ((r = aws_role_parse(kv)) != -1)
			role = r;
		else if ((r = aws_evidence_parse(kv)) != -1)
			evidence = r;
		else
			fatalx("bad call \"%s\": unknown tag \"%s\"", spec,
			    kv);
	}
	if ((query = strchr(s, '?')) != NULL)
		*query++ = '\0';
	if ((region = strchr(s, '@')) != NULL)
		*region++ = '\0';
	if ((action = strchr(s, ':')) == NULL)
		fatalx("bad call \"%s\": SERVICE:Action", spec);
	*action++ = '\0';
	if ((svc = aws_service_find(s)) == NULL)
		fatalx("unknown service \"%s\"", s);
	req = aws_request_new(svc, action, region != NULL ? region :
	    "us-east-1");
	req->run_id = xstrdup(t->run_id);
	while (query != NULL && (kv = strsep(&query, "&")) != NULL) {
		if ((v = strchr(kv, '=')) == NULL)
			fatalx("bad parameter \"%s\"", kv);
		*v++ = '\0';
		if (svc->protocol == AWS_PROTO_EC2 ||
		    svc->protocol == AWS_PROTO_QUERY)
			aws_request_add(req, kv, "%s", v);
		else
			aws_request_set_str(req, kv, v);
	}
	if (svc->protocol == AWS_PROTO_EC2 &&
	    !aws_action_is_read_only(svc, action) &&
	    aws_request_get(req, "DryRun") == NULL)
		aws_request_add(req, "DryRun", "true");
	req->safety = AWS_SAFE_AUTO;
	req->role = (enum aws_role)role;
	req->evidence = (enum aws_evidence)evidence;
	free(s);
	return req;
}

static void
tool_cov_drained(void *arg)
{
	struct tool	*t = arg;

	printf("drained pending=%zu\n", verifier_pending_count(t->v));
	fflush(stdout);
	event_base_loopexit(t->base, NULL);
}

static void
tool_drained(void *arg)
{
	struct tool	*t = arg;

	if (t->cov != NULL) {
		coverage_drain(t->cov, 5, tool_cov_drained, t);
		return;
	}
	tool_cov_drained(t);
}

/* SIGTERM: stop polling, wait for the lookup in flight, exit. */
static void
tool_term(evutil_socket_t fd, short ev, void *arg)
{
	struct tool	*t = arg;

	verifier_drain(t->v, tool_drained, t);
}

static void
tool_fire(struct tool *t)
{
	int	 i;

	for (i = 0; i < t->ncalls; i++) {
		t->outstanding++;
		aws_client_send(t->client, t->creds,
		    tool_request(t, t->calls[i]), tool_call_done, t);
	}
	if (t->ncalls == 0)
		tool_all_fired(t);
}

/* "eventbridge,metric-filters,guardduty", "all", "none". */
static void
tool_coverage_opt(struct coverage_params *cp, const char *arg)
{
	char	*s = xstrdup(arg), *p = s, *w;

	memset(cp, 0, sizeof(*cp));
	while ((w = strsep(&p, ",")) != NULL) {
		if (strcmp(w, "eventbridge") == 0)
			cp->eventbridge = 1;
		else if (strcmp(w, "metric-filters") == 0)
			cp->metric_filters = 1;
		else if (strcmp(w, "guardduty") == 0)
			cp->guardduty = 1;
		else if (strcmp(w, "all") == 0)
			cp->eventbridge = cp->metric_filters =
			    cp->guardduty = 1;
		else if (strcmp(w, "none") != 0 && *w != '\0')
			fatalx("unknown coverage check \"%s\"", w);
	}
	free(s);
}

static void
tool_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct tool	*t = arg;

	log_warnx("timed out with %zu expectation(s) pending",
	    verifier_pending_count(t->v));
	t->timed_out = 1;
	event_base_loopexit(t->base, NULL);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "state", required_argument, NULL, 's' },
		{ "report", required_argument, NULL, 'r' },
		{ "backend", required_argument, NULL, 'b' },
		{ "run-id", required_argument, NULL, 'R' },
		{ "resume", no_argument, NULL, 'z' },
		{ "initial-delay", required_argument, NULL, 'I' },
		{ "interval", required_argument, NULL, 'i' },
		{ "deadline", required_argument, NULL, 'd' },
		{ "skew", required_argument, NULL, 'k' },
		{ "grace", required_argument, NULL, 'g' },
		{ "rate", required_argument, NULL, 't' },
		{ "max-pages", required_argument, NULL, 'p' },
		{ "max-queries", required_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "json", no_argument, NULL, 'j' },
		{ "crash-at", required_argument, NULL, 'c' },
		{ "journal-wait", required_argument, NULL, 'w' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "coverage", required_argument, NULL, 'C' },
		{ "cycles", required_argument, NULL, 'N' },
		{ "test-rate", required_argument, NULL, 'X' },
		{ "role", required_argument, NULL, 'O' },
		{ "evidence", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 }
	};
	struct tool		 t;
	struct verify_params	 p;
	struct verify_hooks	 hooks;
	struct aws_client_opts	 copts;
	struct http_engine	*http;
	struct timeval		 tv;
	const char		*endpoint = NULL, *state = NULL, *report = NULL;
	const char		*backend = "stderr";
	double			 timeout = 120, journal_wait = 3;
	struct coverage_params	 cp;
	int			 ch, json = 0, verbose = 0, coverage = 0;
	double			 test_rate = 0;
	char			*cause = NULL;
	enum log_backend	 lb;

	memset(&t, 0, sizeof(t));
	memset(&cp, 0, sizeof(cp));
	t.scenario = "verify-e2e";
	t.account = "sandbox";
	random_id128(t.run_id);
	memset(&p, 0, sizeof(p));
	p.initial_delay = 1;
	p.interval = 1;
	p.deadline = 10;
	p.skew = 5;
	while ((ch = getopt_long(argc, argv, "v", longopts, NULL)) != -1) {
		switch (ch) {
		case 'e': endpoint = optarg; break;
		case 's': state = optarg; break;
		case 'r': report = optarg; break;
		case 'b': backend = optarg; break;
		case 'R': snprintf(t.run_id, sizeof(t.run_id), "%s", optarg);
			break;
		case 'z': t.resume = 1; break;
		case 'I': p.initial_delay = atof(optarg); break;
		case 'i': p.interval = atof(optarg); break;
		case 'd': p.deadline = atof(optarg); break;
		case 'k': p.skew = atof(optarg); break;
		case 'g': p.grace = atof(optarg); break;
		case 't': p.lookup_rate = atof(optarg); break;
		case 'p': p.max_pages = atoi(optarg); break;
		case 'q': p.max_queries = atoi(optarg); break;
		case 'T': timeout = atof(optarg); break;
		case 'j': json = 1; break;
		case 'c': t.crash_at = optarg; break;
		case 'w': journal_wait = atof(optarg); break;
		case 'v': verbose = 1; break;
		case 'C': tool_coverage_opt(&cp, optarg); coverage = 1; break;
		case 'N': t.ncycles = atoi(optarg); break;
		case 'X': test_rate = atof(optarg); break;
		case 'O':
			if ((ch = aws_role_parse(optarg)) == -1)
				usage();
			t.role = (enum aws_role)ch;
			break;
		case 'E':
			if ((ch = aws_evidence_parse(optarg)) == -1)
				usage();
			t.evidence = (enum aws_evidence)ch;
			break;
		default: usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (endpoint == NULL || (t.resume && argc > 0))
		usage();
	if (strcmp(backend, "journal") == 0)
		lb = LOG_TO_JOURNAL;
	else if (strcmp(backend, "syslog") == 0)
		lb = LOG_TO_SYSLOG;
	else
		lb = LOG_TO_STDERR;
	log_init(lb, "cloudsagad", verbose ? LOG_DEBUG : LOG_INFO);
	signal(SIGPIPE, SIG_IGN);

	if ((t.ledger = ledger_open(state, &cause)) == NULL)
		fatalx("%s", cause);
	if ((t.rp = report_open(t.ledger, report, &cause)) == NULL)
		fatalx("%s", cause);
	report_set_journal_wait(t.rp, journal_wait);
	report_set_step_hook(t.rp, tool_crash, &t);
	if (json)
		report_set_stream(t.rp, stdout);

	if ((t.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	http = http_engine_new(t.base, NULL);
	memset(&copts, 0, sizeof(copts));
	copts.endpoints.endpoint_url = endpoint;
	/* AWS_ENDPOINT_URL would beat the config-level endpoint (the SDKs'
	 * order); the tool's --endpoint is meant to win. */
	setenv("AWS_ENDPOINT_URL", endpoint, 1);
	t.client = aws_client_new(t.base, http, &copts);
	if ((t.creds = creds_from_env()) == NULL)
		fatalx("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set");

	memset(&hooks, 0, sizeof(hooks));
	hooks.creds = tool_creds;
	hooks.verdicts = tool_verdicts;
	hooks.arg = &t;
	t.v = verifier_new(t.base, t.client, t.ledger, &p, &hooks);
	t.cycle = 1;
	if (t.ncycles < 1)
		t.ncycles = 1;
	if (coverage) {
		cp.test_rate = test_rate;
		t.cov = coverage_new(t.base, t.client, &cp);
		t.stdin_ev = event_new(t.base, 0, EV_READ | EV_PERSIST,
		    tool_stdin, &t);
	}
	t.calls = argv;
	t.ncalls = argc;

	t.term_ev = evsignal_new(t.base, SIGTERM, tool_term, &t);
	evsignal_add(t.term_ev, NULL);
	t.timeout_ev = evtimer_new(t.base, tool_timeout, &t);
	tv.tv_sec = (time_t)timeout;
	tv.tv_usec = 0;
	evtimer_add(t.timeout_ev, &tv);

	if (t.resume) {
		printf("resumed %zu\n", verifier_resume(t.v));
		fflush(stdout);
		tool_check_done(&t);
	} else
		tool_fire(&t);
	event_base_dispatch(t.base);

	verifier_free(t.v);
	if (t.cov != NULL) {
		coverage_cycle_reset(t.cov);	/* logs the last cycle */
		coverage_free(t.cov);
		event_free(t.stdin_ev);
	}
	if (ledger_commit(t.ledger, &cause) == -1) {
		log_warnx("ledger: %s", cause);
		free(cause);
	}
	creds_provider_free(t.creds);
	aws_client_free(t.client);
	http_engine_free(http);
	event_free(t.timeout_ev);
	event_free(t.term_ev);
	event_base_free(t.base);
	report_free(t.rp);
	ledger_free(t.ledger);
	return t.timed_out ? 3 : t.failed ? 1 : 0;
}
