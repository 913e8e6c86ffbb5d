/*
 * notify: the systemd notification protocol (sd_notify), as a layer that
 * disappears cleanly: without $NOTIFY_SOCKET every call is a no-op, and a
 * failed send is logged once at debug level, never fatal.
 *
 *   READY=1             after the config is loaded and the timers armed,
 *                       and again after a reload;
 *   STATUS=...          at milestones (next run times);
 *   RELOADING=1         when a SIGHUP reload begins, with MONOTONIC_USEC=
 *                       as systemd 253+ wants (harmless on older ones);
 *   STOPPING=1          when shutdown begins;
 *   EXTEND_TIMEOUT_USEC when the drain may outlast TimeoutStopSec=;
 *   WATCHDOG=1          every half of $WATCHDOG_USEC, from a timer on the
 *                       daemon's event loop (so a stuck loop stops it).
 */
#ifndef CLOUDSAGA_NOTIFY_H
#define CLOUDSAGA_NOTIFY_H

struct event_base;

/* Nonzero when $NOTIFY_SOCKET is set. */
int	 notify_enabled(void);
void	 notify_ready(void);
void	 notify_status(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 notify_reloading(void);
void	 notify_stopping(void);
void	 notify_extend_timeout(double seconds);

/*
 * Arm the watchdog timer on base when the service manager asked for one
 * ($WATCHDOG_USEC, $WATCHDOG_PID).  Returns the ping interval in seconds,
 * 0 when no watchdog is wanted (nothing armed).
 */
double	 notify_watchdog_init(struct event_base *);
/* Send one WATCHDOG=1 now (e.g. after a long synchronous step). */
void	 notify_watchdog_ping(void);
/* Disarm and free the timer.  Safe when none is armed. */
void	 notify_watchdog_stop(void);

#endif
