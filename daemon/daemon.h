/*
 * daemon: the long-running service's life cycle.
 *
 * One event_base.  Start: load the config (errors: log them, exit 1), arm
 * one timer per schedule entry, install SIGHUP/SIGTERM/SIGINT as loop
 * events, arm the watchdog, then READY=1 and STATUS=.  The process never
 * forks: systemd (Type=notify) or the terminal keeps it in the foreground.
 *
 *   SIGHUP    RELOADING=1; parse the file into a fresh config; swap it in
 *             only if valid (timers re-armed, kept entries keep their
 *             state), else log every FILE:LINE and keep the old one;
 *             READY=1 either way.
 *   SIGTERM,  STOPPING=1; no new runs; wait for running entries up to
 *   SIGINT    daemon.drain_timeout, then exit 0.  A second signal exits at
 *             once.
 *
 * A schedule timer that fires calls daemon_run_entry(); whoever runs the
 * entry calls daemon_entry_done() when the run, verification included, has
 * finished (until then the entry is not started again).
 */
#ifndef CLOUDSAGA_DAEMON_H
#define CLOUDSAGA_DAEMON_H

struct config;
struct config_entry;
struct event_base;

struct daemon_opts {
	const char	*config_file;	/* NULL: config_default_path() */
	int		 foreground;	/* -d: log to stderr, not the journal */
	int		 verbose;	/* -v: debug, overrides log_level */
};

struct daemon;

/* Run the daemon until stopped; returns the exit status. */
int	 daemon_main(const struct daemon_opts *);

/*
 * -n / --print-config: load path (NULL: config_default_path()), print "configuration OK" (or the
 * effective config when print) on stdout and return 0, or print the errors
 * on stderr and return 1.
 */
int	 daemon_check_config(const char *path, int print);

/* The hook: start a run of entry (for now it only logs). */
void	 daemon_run_entry(struct daemon *, const struct config_entry *);
/* The run of the entry named name has finished. */
void	 daemon_entry_done(struct daemon *, const char *name);

struct event_base	*daemon_base(struct daemon *);
const struct config	*daemon_config(struct daemon *);

#endif
