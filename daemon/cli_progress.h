/*
 * cli_progress: live progress of --scenario while it waits for CloudTrail.
 *
 * On a terminal, one line redrawn in place every second ("\r", erased to
 * the end; cut to the terminal's width): the calls still pending, the verdicts so far, when the next
 * LookupEvents poll is due and how long until the last deadline; erased
 * when verification ends, and before any other line is printed
 * (cli_progress_clear).  When the output is not a terminal, the same as
 * plain lines, one at the start and then at most one every
 * CLI_PROGRESS_PLAIN_EVERY seconds.
 */
#ifndef CLOUDSAGA_CLI_PROGRESS_H
#define CLOUDSAGA_CLI_PROGRESS_H

#include <stdio.h>

struct event_base;
struct pipeline;
struct cli_progress;

#define CLI_PROGRESS_TTY_EVERY		1.0
#define CLI_PROGRESS_PLAIN_EVERY	10.0

/* Start showing progress on out (tty: redraw in place). */
struct cli_progress *cli_progress_new(struct event_base *, struct pipeline *,
		    FILE *out, int tty);
/* Erase the line (tty) so that other output starts on a clean line; it
 * is drawn again at the next tick.  NULL is fine. */
void		 cli_progress_clear(struct cli_progress *);
/* Stop, erase the line; NULL is fine. */
void		 cli_progress_free(struct cli_progress *);

/* The progress text (no newline) into buf; now on the monotonic clock. */
void		 cli_progress_format(char *buf, size_t len, size_t pending,
		    unsigned long logged, unsigned long missing,
		    unsigned long unverified, int polling, double next_poll,
		    double deadline, double now);

#endif
