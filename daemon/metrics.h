/*
 * metrics: Prometheus metrics for node_exporter's textfile collector
 * (daemon.metrics_file), in the text exposition format 0.0.4.
 *
 * Counters never go backwards across a restart: they live in the state
 * database (table metrics, schema version 2).  Verdicts and runs are
 * counted from the rows themselves: every verdict row and run summary
 * gets a report sequence number when it is queued for the report (the
 * outbox protocol, docs/STATE.md), and metrics_count() adds every row
 * whose number is above the high-water mark in meta "metrics_seq", and
 * moves the mark, in one transaction.  So each verdict and each run is
 * counted exactly once, whatever crashes in between, and what a crash
 * interrupts is counted at the next start.  LookupEvents requests and
 * throttles are counted in memory (metrics_lookup) and added to the table
 * at the next metrics_count(): a crash loses at most that second's.
 *
 * The file is rewritten atomically (a temporary file in the same
 * directory, fsync, rename, fsync of the directory) within a second of
 * metrics_touch(): the pipeline touches it after every verdict batch and
 * every run (calls answered, summary reported).  Only the daemon writes
 * metrics: a one-shot --scenario keeps its state in memory.
 */
#ifndef CLOUDSAGA_METRICS_H
#define CLOUDSAGA_METRICS_H

#include <stddef.h>

struct buf;
struct config;
struct db;
struct event_base;
struct metrics;

/* Buckets of cloudsagad_cloudtrail_delivery_latency_seconds (+Inf too). */
#define METRICS_LATENCY_BUCKETS	{ 30, 60, 120, 300, 600, 900, 1800 }
/* A write at most this often (seconds); after a failed write, the next
 * try this much later. */
#define METRICS_WRITE_DELAY	1.0
#define METRICS_RETRY_DELAY	60.0

/*
 * db: the state database (borrowed, outlives the metrics).  The file is
 * cfg->daemon.metrics_file (NULL: nothing is written; counting goes on).
 */
struct metrics	*metrics_new(struct event_base *, struct db *,
		    const struct config *cfg);
/* Write a last time (when a file is configured) and free. */
void		 metrics_free(struct metrics *);
/* A new configuration (reload): the file's path, custom scenarios'
 * techniques.  cfg must stay valid until the next call. */
void		 metrics_set_config(struct metrics *, const struct config *);

/* A LookupEvents request answered; throttled: with a throttling error. */
void		 metrics_lookup(struct metrics *, const char *account,
		    const char *region, int throttled);
/* Something changed: write the file within METRICS_WRITE_DELAY. */
void		 metrics_touch(struct metrics *);

/* Count what was queued since the last count (one transaction). */
int		 metrics_count(struct metrics *, char **cause);
/* The exposition text of the current counters and gauges. */
int		 metrics_render(struct metrics *, struct buf *, char **cause);
/* Count, render and write the file now (0 when no file is set). */
int		 metrics_write(struct metrics *, char **cause);

/* A label value escaped for the exposition format (\\, \", \n). */
void		 metrics_escape(struct buf *, const char *);
/*
 * Replace path with data atomically: a new file in the same directory
 * (O_EXCL|O_NOFOLLOW, mode 0644), fsync, rename over path, fsync the
 * directory.  -1 + *cause; nothing is left behind on failure.
 */
int		 metrics_write_file(const char *path, const char *data,
		    size_t len, char **cause);

#endif
