/*
 * cli_progress: live progress while --scenario verifies (cli_progress.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <event2/event.h>

#include "cli_progress.h"
#include "log.h"
#include "pipeline.h"
#include "util.h"
#include "verify.h"
#include "xmalloc.h"

struct cli_progress {
	struct pipeline	*p;
	FILE		*out;
	int		 tty;
	int		 shown;		/* a line is on the screen (tty) */
	struct event	*ev;
};

/* "1m05s", "12s", "now" for a number of seconds from now. */
static void
cli_progress_in(char *buf, size_t len, double s)
{
	long	 t;

	if (s < 0.5) {
		snprintf(buf, len, "now");
		return;
	}
	t = lround(s);
	if (t >= 3600)
		snprintf(buf, len, "%ldh%02ldm%02lds", t / 3600, t / 60 % 60,
		    t % 60);
	else if (t >= 60)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%lds", t);
}

void
cli_progress_format(char *buf, size_t len, size_t pending,
    unsigned long logged, unsigned long missing, unsigned long unverified,
    int polling, double next_poll, double deadline, double now)
{
	char	 np[64], dl[32];

	if (polling)
		snprintf(np, sizeof(np), "polling now");
	else if (next_poll > 0) {
		cli_progress_in(dl, sizeof(dl), next_poll - now);
		snprintf(np, sizeof(np), "next poll %s%s",
		    strcmp(dl, "now") == 0 ? "" : "in ", dl);
	} else
		snprintf(np, sizeof(np), "no poll due");
	if (deadline > 0)
		cli_progress_in(dl, sizeof(dl), deadline - now);
	snprintf(buf, len, "verifying: %zu pending; %lu logged, %lu missing, "
	    "%lu unverified; %s; deadline %s%s", pending, logged, missing,
	    unverified, np, deadline <= 0 ? "passed" :
	    strcmp(dl, "now") == 0 ? "" : "in ", deadline > 0 ? dl : "");
}

static void
cli_progress_draw(struct cli_progress *cp)
{
	struct verify_progress	 vp;
	struct pipeline_stats	 st;
	struct winsize		 ws;
	char			 line[256];

	pipeline_verify_progress(cp->p, &vp);
	pipeline_stats(cp->p, &st);
	if (vp.pending == 0)
		return;		/* the verdict table comes next */
	cli_progress_format(line, sizeof(line), vp.pending, st.logged,
	    st.missing, st.unverified, vp.polling > 0, vp.next_poll,
	    vp.deadline, now_mono());
	if (cp->tty) {
		/* A line that wraps could not be redrawn in place. */
		if (ioctl(fileno(cp->out), TIOCGWINSZ, &ws) == 0 &&
		    ws.ws_col > 1 && strlen(line) >= ws.ws_col)
			line[ws.ws_col - 1] = '\0';
		fprintf(cp->out, "\r\033[K%s", line);
		cp->shown = 1;
	} else
		fprintf(cp->out, "cloudsagad: %s\n", line);
	fflush(cp->out);
}

static void
cli_progress_cb(evutil_socket_t fd, short what, void *arg)
{
	cli_progress_draw(arg);
}

struct cli_progress *
cli_progress_new(struct event_base *base, struct pipeline *p, FILE *out,
    int tty)
{
	struct cli_progress	*cp;
	double			 every;
	struct timeval		 tv;

	cp = xcalloc(1, sizeof(*cp));
	cp->p = p;
	cp->out = out;
	cp->tty = tty;
	every = tty ? CLI_PROGRESS_TTY_EVERY : CLI_PROGRESS_PLAIN_EVERY;
	tv.tv_sec = (time_t)every;
	tv.tv_usec = (suseconds_t)((every - (double)tv.tv_sec) * 1e6);
	if ((cp->ev = event_new(base, -1, EV_PERSIST, cli_progress_cb,
	    cp)) == NULL)
		fatalx("event_new");
	evtimer_add(cp->ev, &tv);
	cli_progress_draw(cp);
	return cp;
}

void
cli_progress_clear(struct cli_progress *cp)
{
	if (cp == NULL || !cp->shown)
		return;
	fprintf(cp->out, "\r\033[K");
	fflush(cp->out);
	cp->shown = 0;
}

void
cli_progress_free(struct cli_progress *cp)
{
	if (cp == NULL)
		return;
	cli_progress_clear(cp);
	event_free(cp->ev);
	free(cp);
}
