/*
 * daemon: event loop, signals, schedule timers, reload and drain
 * (daemon.h).
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "buf.h"
#include "config.h"
#include "config_org.h"
#include "daemon.h"
#include "ledger.h"
#include "log.h"
#include "notify.h"
#include "org.h"
#include "pipeline.h"
#include "scenario.h"
#include "schedmem.h"
#include "schedule.h"
#include "strv.h"
#include "util.h"
#include "xmalloc.h"

struct daemon_timer {
	struct daemon	*d;
	size_t		 idx;
	struct event	*ev;
};

/* Runs of one schedule entry still firing or verifying. */
struct daemon_busy {
	char	*name;
	size_t	 runs;
};

struct daemon {
	struct event_base	*base;
	char			*config_path;
	struct config		*cfg;		/* the pipeline's current one */
	struct pipeline		*pipeline;
	struct daemon_busy	*busy;
	size_t			 nbusy;
	struct sched		*sched;
	struct schedmem		*schedmem;	/* when each entry last
						   started */
	struct daemon_timer	*timers;
	size_t			 ntimers;
	struct event		*sig_hup;
	struct event		*sig_term;
	struct event		*sig_int;
	struct event		*drain_ev;
	int			 verbose;
	int			 stopping;
};

static void	daemon_arm(struct daemon *, struct daemon_timer *, int prio);

/* ---- helpers ---------------------------------------------------------- */

/* Log every line of a multi-line error (config errors). */
static void
daemon_log_lines(int prio, const char *text)
{
	const char	*p = text, *nl;

	while (*p != '\0') {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (prio <= LOG_CRIT)
			log_crit("%.*s", (int)(nl - p), p);
		else
			log_warnx("%.*s", (int)(nl - p), p);
		p = *nl == '\n' ? nl + 1 : nl;
	}
}

static void
daemon_set_status(struct daemon *d, const char *prefix)
{
	struct pipeline_stats	 st;
	struct buf		 b;

	buf_init(&b);
	if (prefix != NULL)
		buf_printf(&b, "%s; ", prefix);
	sched_status(d->sched, &b);
	if (d->pipeline != NULL) {
		pipeline_stats(d->pipeline, &st);
		buf_printf(&b, "; %zu runs active, %zu expectations pending; "
		    "%lu logged, %lu missing, %lu unverified", st.runs_active,
		    st.pending, st.logged, st.missing, st.unverified);
		if (st.covered + st.uncovered > 0)
			buf_printf(&b, ", %lu covered, %lu uncovered",
			    st.covered, st.uncovered);
		if (st.could_not_test > 0)
			buf_printf(&b, "; %lu runs could not test",
			    st.could_not_test);
	}
	notify_status("%s", buf_str(&b));
	buf_free(&b);
}

static void
daemon_apply_log_level(struct daemon *d)
{
	log_setlevel(d->verbose > 0 ? LOG_DEBUG : d->cfg->daemon.log_priority);
}

/* ---- schedule timers ------------------------------------------------- */

static void
daemon_timers_free(struct daemon *d)
{
	size_t	 i;

	for (i = 0; i < d->ntimers; i++)
		if (d->timers[i].ev != NULL)
			event_free(d->timers[i].ev);
	free(d->timers);
	d->timers = NULL;
	d->ntimers = 0;
}

static void
daemon_log_next(struct daemon *d, const struct sched_slot *sl, int prio)
{
	struct buf	 b;

	if (prio > log_getlevel())
		return;
	buf_init(&b);
	sched_describe(d->sched, sl, &b);
	if (prio == LOG_DEBUG)
		log_debug("%s: %s", sl->name, buf_str(&b));
	else
		log_info("%s: %s", sl->name, buf_str(&b));
	buf_free(&b);
}

static void
daemon_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon_timer	*t = arg;
	struct daemon		*d = t->d;
	struct sched_slot	*sl = sched_slot(d->sched, t->idx);
	char			 when[32];

	if (sl == NULL || d->stopping)
		return;
	switch (sched_fire(d->sched, sl)) {
	case SCHED_START:
		/* pipeline_start() logs each run it starts. */
		/* Remembered so that a restart keeps the entry's phase. */
		schedmem_set(d->schedmem, sl->name, now_real());
		daemon_run_entry(d, sl->entry);
		/* daemon_run_entry may have finished it already. */
		sl = sched_slot(d->sched, t->idx);
		break;
	case SCHED_BUSY:
		sched_format_time(sl->last_start, when, sizeof(when));
		log_notice("%s: the run started at %s is still verifying, not "
		    "starting (%lu skipped so far)", sl->name, when,
		    sl->skipped);
		break;
	case SCHED_EARLY:
		log_debug("%s: timer fired early (clock change?), re-arming",
		    sl->name);
		daemon_arm(d, t, 0);
		return;
	case SCHED_OFF:
		return;
	}
	/* The next run time is in STATUS=; the log has it at start, reload
	 * and in debug. */
	daemon_arm(d, t, LOG_DEBUG);
	daemon_set_status(d, NULL);
}

/* prio: log the next run time at this level (0: not at all). */
static void
daemon_arm(struct daemon *d, struct daemon_timer *t, int prio)
{
	struct sched_slot	*sl = sched_slot(d->sched, t->idx);
	struct timeval		 tv;
	double			 delay;

	if (sl == NULL || !sl->enabled || d->stopping) {
		if (t->ev != NULL)
			event_del(t->ev);
		return;
	}
	delay = sched_delay(d->sched, sl);
	tv.tv_sec = (time_t)floor(delay);
	tv.tv_usec = (suseconds_t)((delay - floor(delay)) * 1e6);
	if (t->ev == NULL &&
	    (t->ev = evtimer_new(d->base, daemon_timer_cb, t)) == NULL)
		fatalx("evtimer_new");
	evtimer_add(t->ev, &tv);
	if (prio > 0)
		daemon_log_next(d, sl, prio);
}

/* (Re)create one timer per slot after sched_load(). */
static void
daemon_timers_arm(struct daemon *d)
{
	struct sched_slot	*sl;
	size_t			 i, n = sched_count(d->sched);

	daemon_timers_free(d);
	d->timers = xcalloc(n > 0 ? n : 1, sizeof(*d->timers));
	d->ntimers = n;
	for (i = 0; i < n; i++) {
		d->timers[i].d = d;
		d->timers[i].idx = i;
		sl = sched_slot(d->sched, i);
		if (!sl->enabled) {
			log_info("%s: disabled", sl->name);
			continue;
		}
		daemon_arm(d, &d->timers[i], LOG_INFO);
	}
	if (n == 0)
		log_notice("the configuration schedules nothing");
}

/* ---- runs ------------------------------------------------------------ */

static struct daemon_busy *
daemon_busy(struct daemon *d, const char *name, int create)
{
	size_t	 i;

	for (i = 0; i < d->nbusy; i++)
		if (strcmp(d->busy[i].name, name) == 0)
			return &d->busy[i];
	if (!create)
		return NULL;
	d->busy = xreallocarray(d->busy, d->nbusy + 1, sizeof(*d->busy));
	d->busy[d->nbusy].name = xstrdup(name);
	d->busy[d->nbusy].runs = 0;
	return &d->busy[d->nbusy++];
}

/* An organisation's member run started: the entry waits for it too. */
static void
daemon_org_started(struct pipeline_run *pr, void *arg)
{
	struct daemon		*d = arg;
	struct daemon_busy	*b;

	if ((b = daemon_busy(d, pipeline_run_entry(pr), 0)) != NULL)
		b->runs++;
}

/* An organisation's listing is over (its runs counted already). */
static void
daemon_org_listed(const char *entry, size_t started, void *arg)
{
	struct daemon		*d = arg;
	struct daemon_busy	*b;

	(void)started;
	if ((b = daemon_busy(d, entry, 0)) != NULL && b->runs > 0 &&
	    --b->runs == 0)
		daemon_entry_done(d, entry);
}

void
daemon_run_entry(struct daemon *d, const struct config_entry *e)
{
	struct pipeline_org_hooks	 oh = { daemon_org_started,
					    daemon_org_listed, d };
	struct pipeline_run_opts	 o;
	struct daemon_busy		*b;
	char				*cause = NULL;
	size_t				 i, started = 0;

	b = daemon_busy(d, e->name, 1);
	for (i = 0; i < d->cfg->naccounts; i++) {
		const struct config_account *a = &d->cfg->accounts[i];
		size_t	 j;

		if (e->accounts != NULL && e->accounts[0] != NULL) {
			for (j = 0; e->accounts[j] != NULL; j++)
				if (strcmp(e->accounts[j], a->name) == 0)
					break;
			if (e->accounts[j] == NULL)
				continue;
		}
		if (!org_shard_takes_account(d->cfg, a))
			continue;	/* another instance's (shard) */
		memset(&o, 0, sizeof(o));
		o.scenario = e->scenario;
		o.account = a->name;
		o.regions = (const char *const *)e->regions;
		o.settings = e->settings;
		o.entry = e->name;
		if (a->org != NULL) {
			/* The listing keeps the entry busy until its runs
			 * are started (daemon_org_listed). */
			b->runs++;
			started++;
			if (pipeline_start_org(d->pipeline, &o, &oh,
			    &cause) == -1) {
				log_warnx("%s: %s", e->name, cause);
				free(cause);
				cause = NULL;
				b->runs--;
				started--;
			}
			continue;
		}
		if (pipeline_start(d->pipeline, &o, &cause) == NULL) {
			log_warnx("%s: cannot start %s for account %s: %s",
			    e->name, e->scenario, a->name, cause);
			free(cause);
			cause = NULL;
			continue;
		}
		b->runs++;
		started++;
	}
	if (started == 0)
		daemon_entry_done(d, e->name);
}

/* The pipeline: a run's calls are all answered (its one end line). */
static void
daemon_run_ran(struct pipeline_run *pr, int halted, void *arg)
{
	struct daemon		*d = arg;
	struct run		*run = pipeline_run_run(pr);
	struct run_summary	 s;
	char			 where[32] = "";

	run_summarize(run, &s);
	if (run_nregions(run) > 0)
		snprintf(where, sizeof(where), " in %zu regions",
		    run_nregions(run));
	log_info("%s: run %s %s: %zu calls%s (%zu permitted, %zu denied, "
	    "%zu skipped, %zu error)%s; %zu expectations%s",
	    pipeline_run_entry(pr) ? pipeline_run_entry(pr) : "-",
	    pipeline_run_id(pr), halted ? "halted" : "done", s.calls, where,
	    s.permitted, s.denied, s.skipped, s.errors, s.failures > 0 ?
	    ", with errors" : "", s.expectations, s.expectations > 0 ?
	    ", verifying" : "");
	daemon_set_status(d, NULL);
}

/* The pipeline: every verdict of a run is reported. */
static void
daemon_run_verified(struct pipeline_run *pr, const struct ledger_run *lr,
    void *arg)
{
	struct daemon		*d = arg;
	struct daemon_busy	*b;
	const char		*name = pipeline_run_entry(pr);

	if (name == NULL || (b = daemon_busy(d, name, 0)) == NULL)
		return;
	if (b->runs > 0 && --b->runs == 0)
		daemon_entry_done(d, name);
}

/* The pipeline: a run resumed after a restart is over. */
static void
daemon_resumed_verified(const struct ledger_run *lr, void *arg)
{
	struct daemon		*d = arg;
	struct daemon_busy	*b;

	if (lr->entry == NULL || (b = daemon_busy(d, lr->entry, 0)) == NULL)
		return;
	if (b->runs > 0 && --b->runs == 0)
		daemon_entry_done(d, lr->entry);
}

/*
 * After a restart: the runs resumed from the state keep their schedule
 * entries busy until verified, so an entry never runs again while its
 * previous run is still being verified.
 */
static void
daemon_mark_resumed(struct daemon *d)
{
	struct ledger_run	**runs;
	size_t			 n, i;

	runs = ledger_runs(pipeline_ledger(d->pipeline), &n);
	for (i = 0; i < n; i++) {
		if (runs[i]->entry == NULL || runs[i]->summary_reported ||
		    sched_mark_running(d->sched, runs[i]->entry) == -1)
			continue;
		daemon_busy(d, runs[i]->entry, 1)->runs++;
		log_info("%s: run %s resumed from before the restart; the "
		    "entry waits for its verdicts", runs[i]->entry,
		    runs[i]->run_id);
	}
}

static void
daemon_verdict(const struct ledger_entry *e, void *arg)
{
	struct daemon	*d = arg;

	(void)e;
	daemon_set_status(d, NULL);
}

void
daemon_entry_done(struct daemon *d, const char *name)
{
	if (sched_done(d->sched, name) == -1)
		log_debug("%s: finished, but no longer scheduled", name);
	if (d->stopping)
		return;
	daemon_set_status(d, NULL);
}

struct event_base *
daemon_base(struct daemon *d)
{
	return d->base;
}

const struct config *
daemon_config(struct daemon *d)
{
	return d->cfg;
}

/* ---- signals --------------------------------------------------------- */

static int
daemon_str_differs(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/*
 * Settings the running engine was built with: a reload cannot change
 * them (the state directory is locked, connections are open).  Say so
 * instead of ignoring the change silently.
 */
static void
daemon_reload_restart_only(const struct config *o, const struct config *n)
{
	struct buf	 b;

	buf_init(&b);
	if (daemon_str_differs(o->daemon.state_dir, n->daemon.state_dir))
		buf_addstr(&b, " daemon.state_dir");
	if (daemon_str_differs(o->daemon.report_file, n->daemon.report_file))
		buf_addstr(&b, " daemon.report_file");
	if (o->daemon.max_connections != n->daemon.max_connections)
		buf_addstr(&b, " daemon.max_connections");
	if (o->daemon.http_connect_timeout != n->daemon.http_connect_timeout)
		buf_addstr(&b, " daemon.http_connect_timeout");
	if (o->daemon.http_timeout != n->daemon.http_timeout)
		buf_addstr(&b, " daemon.http_timeout");
	if (o->daemon.max_connections_per_host !=
	    n->daemon.max_connections_per_host)
		buf_addstr(&b, " daemon.max_connections_per_host");
	if (daemon_str_differs(o->aws.partition, n->aws.partition))
		buf_addstr(&b, " aws.partition");
	if (daemon_str_differs(o->aws.endpoint_url, n->aws.endpoint_url))
		buf_addstr(&b, " aws.endpoint_url");
	if (!strv_equal(o->aws.service_urls, n->aws.service_urls))
		buf_addstr(&b, " aws.endpoints");
	if (o->live != n->live)
		buf_addstr(&b, " live");
	if (b.len > 0)
		log_warnx("reload: changed settings that take effect at the "
		    "next restart only:%s", buf_str(&b));
	buf_free(&b);
}

static void
daemon_reload(struct daemon *d)
{
	struct config	*cfg;
	char		*cause;

	notify_reloading();
	log_notice("reloading %s", d->config_path);
	if (config_load(d->config_path, &cfg, &cause) == -1) {
		daemon_log_lines(LOG_WARNING, cause);
		log_warnx("reload failed, keeping the previous configuration");
		free(cause);
		daemon_set_status(d, "reload failed, see the log");
		notify_ready();
		return;
	}
	daemon_reload_restart_only(d->cfg, cfg);
	sched_load(d->sched, cfg);
	pipeline_set_config(d->pipeline, cfg);	/* frees the old one when
						   no run uses it */
	d->cfg = cfg;
	daemon_apply_log_level(d);
	daemon_timers_arm(d);
	log_notice("configuration reloaded: %zu schedule entries",
	    cfg->nentries);
	daemon_set_status(d, NULL);
	notify_ready();
}

static void
daemon_drain_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon	*d = arg;

	log_warnx("drain timeout: exiting with work in flight (pending "
	    "expectations are in the state directory)");
	event_base_loopexit(d->base, NULL);
}

static void
daemon_drained(void *arg)
{
	struct daemon	*d = arg;

	log_info("drained: state saved");
	event_base_loopexit(d->base, NULL);
}

static void
daemon_stop(struct daemon *d, const char *why)
{
	struct pipeline_stats	 st;
	struct timeval		 tv;
	size_t			 i;
	double			 t = d->cfg->daemon.drain_timeout;

	if (d->stopping) {
		log_notice("%s again, exiting now", why);
		event_base_loopbreak(d->base);
		return;
	}
	d->stopping = 1;
	notify_stopping();
	for (i = 0; i < d->ntimers; i++)
		if (d->timers[i].ev != NULL)
			event_del(d->timers[i].ev);
	pipeline_stats(d->pipeline, &st);
	log_notice("%s: stopping; %zu runs active, %zu expectations pending "
	    "(kept for the next start)", why, st.runs_active, st.pending);
	notify_status("stopping: draining (%zu runs, %zu pending)",
	    st.runs_active, st.pending);
	notify_extend_timeout(t + 5);
	tv.tv_sec = (time_t)floor(t);
	tv.tv_usec = (suseconds_t)((t - floor(t)) * 1e6);
	if ((d->drain_ev = evtimer_new(d->base, daemon_drain_cb, d)) == NULL)
		fatalx("evtimer_new");
	evtimer_add(d->drain_ev, &tv);
	pipeline_drain(d->pipeline, daemon_drained, d);
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;

	switch (sig) {
	case SIGHUP:
		if (d->stopping) {
			log_info("SIGHUP while stopping: ignored");
			break;
		}
		/* First the report file (logrotate renamed it), whatever the
		 * new configuration turns out to be. */
		if (d->pipeline != NULL)
			pipeline_reopen_report(d->pipeline);
		daemon_reload(d);
		break;
	case SIGTERM:
		daemon_stop(d, "SIGTERM");
		break;
	case SIGINT:
		daemon_stop(d, "SIGINT");
		break;
	}
}

/* ---- main ------------------------------------------------------------ */

int
daemon_check_config(const char *path, int print)
{
	struct config	*cfg;
	char		*cause, *def = NULL;
	int		 rc;

	if (path == NULL)
		path = def = config_default_path();
	rc = config_load(path, &cfg, &cause);
	free(def);
	if (rc == -1) {
		fprintf(stderr, "%s\n", cause);
		free(cause);
		return 1;
	}
	if (print)
		config_print(stdout, cfg);
	else {
		if (cfg->warnings != NULL)
			fprintf(stderr, "%s\n", cfg->warnings);
		printf("configuration OK\n");
		config_org_print_share(stdout, cfg);
	}
	config_free(cfg);
	return fflush(stdout) == 0 ? 0 : 1;
}

static void
daemon_free(struct daemon *d)
{
	daemon_timers_free(d);
	if (d->sig_hup != NULL)
		event_free(d->sig_hup);
	if (d->sig_term != NULL)
		event_free(d->sig_term);
	if (d->sig_int != NULL)
		event_free(d->sig_int);
	if (d->drain_ev != NULL)
		event_free(d->drain_ev);
	notify_watchdog_stop();
	sched_free(d->sched);
	pipeline_free(d->pipeline);	/* and every config */
	schedmem_free(d->schedmem);	/* after the ledger's last commit */
	for (size_t i = 0; i < d->nbusy; i++)
		free(d->busy[i].name);
	free(d->busy);
	if (d->base != NULL)
		event_base_free(d->base);
	free(d->config_path);
}

int
daemon_main(const struct daemon_opts *o)
{
	struct daemon		 d;
	struct pipeline_opts	 popts;
	struct pipeline_hooks	 phooks;
	struct config		*cfg;
	char			*cause;
	double			 wd;
	size_t			 i, n;

	memset(&d, 0, sizeof(d));
	d.verbose = o->verbose;
	log_init(o->foreground ? LOG_TO_STDERR : log_pick(), "cloudsagad",
	    o->verbose > 0 ? LOG_DEBUG : LOG_INFO);
	/* The journal and syslog stamp lines themselves; stderr does not. */
	log_timestamps(log_getbackend() == LOG_TO_STDERR);
	d.config_path = o->config_file != NULL ? xstrdup(o->config_file) :
	    config_default_path();

	if (config_load(d.config_path, &d.cfg, &cause) == -1) {
		daemon_log_lines(LOG_CRIT, cause);
		log_crit("cannot start: the configuration has errors");
		notify_status("configuration errors in %s", d.config_path);
		free(cause);
		free(d.config_path);
		return 1;
	}
	daemon_apply_log_level(&d);
	signal(SIGPIPE, SIG_IGN);

	if ((d.base = event_base_new()) == NULL)
		fatalx("event_base_new");
	d.sig_hup = evsignal_new(d.base, SIGHUP, daemon_signal_cb, &d);
	d.sig_term = evsignal_new(d.base, SIGTERM, daemon_signal_cb, &d);
	d.sig_int = evsignal_new(d.base, SIGINT, daemon_signal_cb, &d);
	if (d.sig_hup == NULL || d.sig_term == NULL || d.sig_int == NULL)
		fatalx("evsignal_new");
	evsignal_add(d.sig_hup, NULL);
	evsignal_add(d.sig_term, NULL);
	evsignal_add(d.sig_int, NULL);

	log_notice("cloudsagad %s starting: %s, %zu schedule entries, %zu "
	    "accounts%s", CLOUDSAGA_VERSION, d.config_path, d.cfg->nentries,
	    d.cfg->naccounts, d.cfg->live ? ", live steps allowed" : "");

	memset(&popts, 0, sizeof(popts));
	popts.base = d.base;
	popts.state_dir = d.cfg->daemon.state_dir;
	popts.report_file = d.cfg->daemon.report_file;
	popts.log_records = 1;
	memset(&phooks, 0, sizeof(phooks));
	phooks.ran = daemon_run_ran;
	phooks.verified = daemon_run_verified;
	phooks.resumed_verified = daemon_resumed_verified;
	phooks.verdict = daemon_verdict;
	phooks.arg = &d;
	cfg = d.cfg;
	d.cfg = NULL;
	if ((d.pipeline = pipeline_new(&popts, cfg, &phooks, &cause)) == NULL) {
		log_crit("cannot start: %s", cause);
		notify_status("cannot start: %s", cause);
		free(cause);
		daemon_free(&d);
		return 1;
	}
	d.cfg = pipeline_config(d.pipeline);
	/* The schedule's memory: written by the ledger's commits. */
	d.schedmem = schedmem_open(ledger_db(pipeline_ledger(d.pipeline)));
	ledger_attach_schedmem(pipeline_ledger(d.pipeline), d.schedmem);
	log_info("state in %s, report file %s", d.cfg->daemon.state_dir,
	    d.cfg->daemon.report_file ? d.cfg->daemon.report_file : "none");

	d.sched = sched_new(NULL, NULL);
	sched_load(d.sched, d.cfg);
	/* Entries that ran before the restart keep their phase. */
	for (i = 0; i < sched_count(d.sched); i++) {
		struct sched_slot	*sl = sched_slot(d.sched, i);
		double			 last;

		last = schedmem_get(d.schedmem, sl->name);
		if (last > 0 && sched_resume(d.sched, sl->name, last) == 0)
			log_debug("%s: last started before the restart, at "
			    "%.0f", sl->name, last);
	}
	daemon_mark_resumed(&d);
	daemon_timers_arm(&d);
	if ((n = pipeline_resume(d.pipeline)) > 0)
		log_notice("resumed verifying %zu expectations from the last "
		    "run of the daemon", n);
	if ((wd = notify_watchdog_init(d.base)) > 0)
		log_info("watchdog: pinging every %.3gs", wd);
	daemon_set_status(&d, NULL);
	notify_ready();

	event_base_dispatch(d.base);

	for (i = 0; i < sched_count(d.sched); i++)
		if (sched_slot(d.sched, i)->running)
			log_notice("%s: run abandoned at shutdown",
			    sched_slot(d.sched, i)->name);
	log_notice("stopped");
	daemon_free(&d);
	return 0;
}
