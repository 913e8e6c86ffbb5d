/*
 * verify-tool: drives the real verifier, ledger and reporter end to end for
 * tests/e2e/test_verify*.py and test_journal*.py, until the daemon wires
 * them (the lead's integration) - and afterwards as a focused harness.
 *
 *   verify-tool --endpoint URL [options] [SERVICE:Action[@region][?K=V&..]]...
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
 * --crash-at STEP exits abruptly after that step of the report protocol.
 * SIGTERM drains the verifier (no new lookups, the one in flight ends) and
 * exits: "drained pending=N".
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
	int			 resume;
	int			 failed;
	const char		*crash_at;
	struct event		*timeout_ev;
	struct event		*term_ev;
	int			 timed_out;
};

static void
usage(void)
{
	fprintf(stderr, "usage: verify-tool --endpoint URL [--state DIR] "
	    "[--report FILE]\n"
	    "    [--backend journal|syslog|stderr] [--run-id ID] [--resume]\n"
	    "    [--initial-delay S] [--interval S] [--deadline S] [--skew S]\n"
	    "    [--grace S] [--rate R] [--max-pages N] [--max-queries N]\n"
	    "    [--timeout S] [--json] [--crash-at STEP] [--journal-wait S]\n"
	    "    [SERVICE:Action[@region][?Key=Value&...]]...\n");
	exit(2);
}

static void
tool_crash(const char *step, void *arg)
{
	struct tool	*t = arg;

	if (t->crash_at != NULL && strcmp(step, t->crash_at) == 0) {
		fflush(stdout);
		_exit(0);
	}
}

/* Done when nothing is pending, nothing is owed, and every run ended. */
static void
tool_check_done(struct tool *t)
{
	struct ledger_run	**runs;
	struct ledger_counts	 c, all;
	size_t			 n, i;

	if (t->outstanding > 0 || verifier_pending_count(t->v) > 0)
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
	printf("done logged=%u missing=%u unverified=%u\n", all.logged,
	    all.missing, all.unverified);
	fflush(stdout);
	event_base_loopexit(t->base, NULL);
}

static void
tool_verdicts(struct ledger_entry **e, size_t n, void *arg)
{
	struct tool	*t = arg;
	char		*cause = NULL;

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
		x.fired_at = res->fired_at > 0 ? res->fired_at : now_real();
		verifier_add(t->v, &x);
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
	char			*kv, *v;

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
	free(s);
	return req;
}

static void
tool_drained(void *arg)
{
	struct tool	*t = arg;

	printf("drained pending=%zu\n", verifier_pending_count(t->v));
	fflush(stdout);
	event_base_loopexit(t->base, NULL);
}

/* SIGTERM: stop polling, wait for the lookup in flight, exit. */
static void
tool_term(evutil_socket_t fd, short ev, void *arg)
{
	struct tool	*t = arg;

	verifier_drain(t->v, tool_drained, t);
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
	int			 ch, json = 0, verbose = 0, i;
	char			*cause = NULL;
	enum log_backend	 lb;

	memset(&t, 0, sizeof(t));
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
	t.client = aws_client_new(t.base, http, &copts);
	if ((t.creds = creds_from_env()) == NULL)
		fatalx("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set");

	memset(&hooks, 0, sizeof(hooks));
	hooks.creds = tool_creds;
	hooks.verdicts = tool_verdicts;
	hooks.arg = &t;
	t.v = verifier_new(t.base, t.client, t.ledger, &p, &hooks);

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
	} else {
		for (i = 0; i < argc; i++) {
			t.outstanding++;
			aws_client_send(t.client, t.creds,
			    tool_request(&t, argv[i]), tool_call_done, &t);
		}
		if (argc == 0)
			tool_all_fired(&t);
	}
	event_base_dispatch(t.base);

	verifier_free(t.v);
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
