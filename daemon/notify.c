/*
 * notify: sd_notify messages and the watchdog timer (notify.h).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"
#include "xmalloc.h"

static struct event	*notify_wd_ev;
static int		 notify_failed_logged;

int
notify_enabled(void)
{
	const char	*s = getenv("NOTIFY_SOCKET");

	return s != NULL && *s != '\0';
}

static void
notify_send(const char *msg)
{
	int	 r;

	if (!notify_enabled())
		return;
	if ((r = sd_notify(0, msg)) <= 0 && !notify_failed_logged) {
		notify_failed_logged = 1;
		log_debug("sd_notify failed (%d); the service manager may "
		    "not see our state", r);
	}
}

void
notify_ready(void)
{
	notify_send("READY=1");
}

void
notify_status(const char *fmt, ...)
{
	va_list	 ap;
	char	*status, *msg;

	if (!notify_enabled())
		return;
	va_start(ap, fmt);
	xvasprintf(&status, fmt, ap);
	va_end(ap);
	msg = xprintf("STATUS=%s", status);
	notify_send(msg);
	free(msg);
	free(status);
}

void
notify_reloading(void)
{
	struct timespec	 ts;
	char		 msg[64];
	uint64_t	 usec;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	usec = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)usec);
	notify_send(msg);
}

void
notify_stopping(void)
{
	notify_send("STOPPING=1");
}

void
notify_extend_timeout(double seconds)
{
	char	 msg[64];

	if (seconds <= 0)
		return;
	snprintf(msg, sizeof(msg), "EXTEND_TIMEOUT_USEC=%llu",
	    (unsigned long long)(seconds * 1e6));
	notify_send(msg);
}

void
notify_watchdog_ping(void)
{
	notify_send("WATCHDOG=1");
}

static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_watchdog_ping();
}

double
notify_watchdog_init(struct event_base *base)
{
	struct timeval	 tv;
	uint64_t	 usec = 0;

	notify_watchdog_stop();
	if (!notify_enabled() || sd_watchdog_enabled(0, &usec) <= 0 ||
	    usec == 0)
		return 0;
	usec /= 2;
	tv.tv_sec = usec / 1000000;
	tv.tv_usec = usec % 1000000;
	notify_wd_ev = event_new(base, -1, EV_PERSIST, notify_watchdog_cb,
	    NULL);
	if (notify_wd_ev == NULL)
		fatalx("event_new");
	event_add(notify_wd_ev, &tv);
	notify_watchdog_ping();
	return (double)usec / 1e6;
}

void
notify_watchdog_stop(void)
{
	if (notify_wd_ev == NULL)
		return;
	event_free(notify_wd_ev);
	notify_wd_ev = NULL;
}
