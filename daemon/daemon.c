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
#include "daemon.h"
#include "log.h"
#include "notify.h"
#include "schedule.h"
#include "util.h"
#include "xmalloc.h"

struct daemon_timer {
	struct daemon	*d;
	size_t		 idx;
	struct event	*ev;
};

struct daemon {
	struct event_base	*base;
	char			*config_path;
	struct config		*cfg;
	struct sched		*sched;
	struct daemon_timer	*timers;
	size_t			 ntimers;
	struct event		*sig_hup;
	struct event		*sig_term;
	struct event		*sig_int;
	struct event		*drain_ev;
	int			 verbose;
	int			 stopping;
};

static void	daemon_arm(struct daemon *, struct daemon_timer *, int log);

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
	struct buf	 b;

	buf_init(&b);
	if (prefix != NULL)
		buf_printf(&b, "%s; ", prefix);
	sched_status(d->sched, &b);
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
daemon_log_next(struct daemon *d, const struct sched_slot *sl)
{
	struct buf	 b;

	buf_init(&b);
	sched_describe(d->sched, sl, &b);
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
		log_info("%s: starting scenario %s", sl->name, sl->scenario);
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
	daemon_arm(d, t, 1);
	daemon_set_status(d, NULL);
}

static void
daemon_arm(struct daemon *d, struct daemon_timer *t, int log)
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
	if (log)
		daemon_log_next(d, sl);
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
		daemon_arm(d, &d->timers[i], 1);
	}
	if (n == 0)
		log_notice("the configuration schedules nothing");
}

/* ---- runs ------------------------------------------------------------ */

void
daemon_run_entry(struct daemon *d, const struct config_entry *e)
{
	/* The scenario runs, the ledger and the verifier are wired here. */
	log_notice("%s: would run %s", e->name, e->scenario);
	daemon_entry_done(d, e->name);
}

static void
daemon_exit_if_drained(struct daemon *d)
{
	if (d->stopping && sched_nrunning(d->sched) == 0) {
		log_info("no run pending, exiting");
		event_base_loopexit(d->base, NULL);
	}
}

void
daemon_entry_done(struct daemon *d, const char *name)
{
	if (sched_done(d->sched, name) == -1)
		log_debug("%s: finished, but no longer scheduled", name);
	if (d->stopping) {
		daemon_exit_if_drained(d);
		return;
	}
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
	sched_load(d->sched, cfg);
	config_free(d->cfg);
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

	log_warnx("drain timeout: %zu runs still pending, exiting anyway",
	    sched_nrunning(d->sched));
	event_base_loopexit(d->base, NULL);
}

static void
daemon_stop(struct daemon *d, const char *why)
{
	struct timeval	 tv;
	size_t		 n, i;
	double		 t = d->cfg->daemon.drain_timeout;

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
	n = sched_nrunning(d->sched);
	log_notice("%s: stopping, %zu runs pending", why, n);
	notify_status("stopping: draining %zu runs", n);
	if (n == 0) {
		event_base_loopexit(d->base, NULL);
		return;
	}
	notify_extend_timeout(t + 5);
	tv.tv_sec = (time_t)floor(t);
	tv.tv_usec = (suseconds_t)((t - floor(t)) * 1e6);
	if ((d->drain_ev = evtimer_new(d->base, daemon_drain_cb, d)) == NULL)
		fatalx("evtimer_new");
	evtimer_add(d->drain_ev, &tv);
}

static void
daemon_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon	*d = arg;

	switch (sig) {
	case SIGHUP:
		if (d->stopping)
			log_info("SIGHUP while stopping: ignored");
		else
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
	else
		printf("configuration OK\n");
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
	config_free(d->cfg);
	if (d->base != NULL)
		event_base_free(d->base);
	free(d->config_path);
}

int
daemon_main(const struct daemon_opts *o)
{
	struct daemon	 d;
	char		*cause;
	double		 wd;
	size_t		 i;

	memset(&d, 0, sizeof(d));
	d.verbose = o->verbose;
	log_init(o->foreground ? LOG_TO_STDERR : log_pick(), "cloudsagad",
	    o->verbose > 0 ? LOG_DEBUG : LOG_INFO);
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
	d.sched = sched_new(NULL, NULL);
	sched_load(d.sched, d.cfg);
	daemon_timers_arm(&d);
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
