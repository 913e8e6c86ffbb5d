/*
 * verify: prove that every expectation reached CloudTrail (LookupEvents).
 *
 * Pending ledger rows are grouped by (account, region where the event
 * lands).  Each group polls on its own timer: the first poll an initial
 * delay after its first call, then every interval, plus a poll at each
 * row's deadline (no closer than min(interval, 5s) to the previous one).
 * One poll is a short plan of queries (verify_plan): per temporary access
 * key (ASIA...: session keys are unique to a run), else per event name,
 * else per long-term key, else one sweep without an attribute, each from
 * the earliest call of the rows it covers - skew (corrected by the
 * client's clock-offset estimate) to the server's now, paginated
 * (MaxResults 50, NextToken), one request in flight per group, paced by
 * the client's LookupEvents limit per (credentials, region).
 *
 * Matching (verify_match, docs/ARCHITECTURE.md "Matching rules"): one
 * record proves at most one call.  A record proves a row when the event
 * name, source, account and region agree and
 *   - both request IDs are known and equal (case-insensitive); a record
 *     whose request ID is known and differs never proves the row, or
 *   - one side has no request ID, and the record's call marker
 *     "run/<run id>/<call seq>/<attempt>" equals the row's (the attempt
 *     that answered), and the error codes agree after normalising
 *     ("Client."/"Server." prefix, "Exception" suffix); a row that expects
 *     success never accepts a record with an errorCode.
 * An eventID proves one row in the whole ledger; duplicates of a record
 * (same eventID) count once.  A row that no record could ever prove (no
 * request ID and no call marker) is unverified, never missing.
 *
 * Verdicts (verify_judge), per row with deadline D = the final attempt's
 * send time + deadline, on the monotonic clock (a wall-clock step moves
 * no deadline; wall time only places the LookupEvents windows):
 *   logged      a matching record was found (at any time, even after D)
 *   missing     a lookup that covers the row (its attribute selects the
 *               row, its window contains the row's call) was *started* at
 *               or after D and completed successfully through its last
 *               page without a match, every page a valid answer (an
 *               Events list, every record readable): everything
 *               CloudTrail had delivered by D was seen, and the row was
 *               not in it; when the call's recording is only assumed
 *               (evidence "assumed", #11) the same absence is unverified
 *               instead, not_found set (verify_decide_absent)
 *   unverified  no such lookup could be completed by D + grace (throttled,
 *               denied, endpoint down, no credentials, an answer that
 *               could not be trusted, more pages than the per-poll cap),
 *               or the call is older than LookupEvents' 90-day window:
 *               never `missing`
 * A verdict is final: events that arrive later change nothing.
 */
#ifndef CLOUDSAGA_VERIFY_H
#define CLOUDSAGA_VERIFY_H

#include <stddef.h>

#include <jansson.h>

#include "ledger.h"

struct event_base;
struct aws_client;
struct creds_provider;
struct verifier;

/* LookupEvents limits, from the CloudTrail API reference. */
#define VERIFY_PAGE_SIZE	50
#define VERIFY_LOOKBACK		(90.0 * 86400)	/* how far back it looks */

struct verify_params {
	double	 initial_delay;	/* first poll after the group's first call */
	double	 interval;	/* between polls */
	double	 deadline;	/* per row, after its call */
	double	 lookup_rate;	/* LookupEvents/s per account-region; 0 = 2 */
	double	 skew;		/* window margin for clock differences */
	double	 grace;		/* after D, keep trying before unverified;
				   0 = two intervals (at least 10 s) */
	int	 max_pages;	/* per query per poll; 0 = 200 */
	int	 max_queries;	/* attribute queries per poll before a
				   sweep; 0 = 4 */
	int	 fail_fast;	/* one-shot: lookups refused for their
				   credentials (auth, access denied) end
				   the group's rows unverified at once */
};
/* 5m initial delay, 1m interval, 15m deadline, 2/s, 2m skew. */
void	 verify_params_default(struct verify_params *);
/* Fill the zero "use the default" fields. */
void	 verify_params_resolve(struct verify_params *);

/* ---- the pure parts (verify_logic.c), exposed for tests ---------------- */

/* A CloudTrail record from LookupEvents, parsed. */
struct ct_event {
	char	*event_id;
	char	*event_name;
	char	*event_source;
	char	*request_id;	/* NULL if the record has none */
	char	*user_agent;
	char	*error_code;
	char	*aws_region;
	char	*account_id;	/* recipientAccountId */
	char	*access_key_id;
	double	 event_time;	/* 0 if unknown */
	double	 seen_at;	/* when the verifier received it */
	json_t	*record;	/* the parsed CloudTrailEvent */
};
/*
 * One element of LookupEvents' Events: parse the CloudTrailEvent string a
 * second time.  -1 + *cause when unusable (no eventID, bad JSON).
 */
int	 verify_parse_event(json_t *event, double seen_at, struct ct_event *,
	    char **cause);
void	 verify_event_clear(struct ct_event *);

/*
 * One page of a LookupEvents answer: appends its records to *events,
 * *next_token (borrowed from data) when there are more pages.  -1 +
 * *problem when the page is unusable (not an object, no Events list, a
 * bad NextToken); 0 with *problem set when some records could not be read
 * (the others are returned): either way the query is incomplete.
 */
int	 verify_page_read(json_t *data, double seen_at, struct ct_event **,
	    size_t *nevents, const char **next_token, char **problem);

/* The run ID of the call marker in a user agent (aws_marker_parse), or -1. */
int	 verify_marker(const char *user_agent, char run_id[33]);
/*
 * Expected CloudTrail errorCode vs the record's, normalised ("Client." /
 * "Server." prefixes and an "Exception" suffix dropped): NULL or "" expects
 * success, so only a record without errorCode agrees.
 */
int	 verify_error_code_match(const char *expected, const char *actual);
/* Could a record ever prove this row (a request ID, or a call marker)? */
int	 verify_row_provable(const struct ledger_entry *);

enum verify_how {
	VERIFY_NO_MATCH = 0,
	VERIFY_BY_REQUEST_ID,
	VERIFY_BY_MARKER,
};
const char *verify_how_name(enum verify_how);
/* Could ev be e's call?  Does not look at eventID reuse. */
enum verify_how verify_match_one(const struct ledger_entry *e,
	    const struct ct_event *ev);

struct verify_assign {
	size_t		 entry;		/* index into the rows */
	size_t		 event;		/* index into the events */
	enum verify_how	 how;
};
/*
 * Assign events to pending rows (nrows > 0: rows of one ledger): request-ID
 * matches first, then marker matches; one event per row, one row per
 * event, duplicate eventIDs once, and no eventID that already proves a row
 * of the ledger.  Returns the number of assignments written to out (room
 * for min(nrows, nevents)).
 */
size_t	 verify_match(struct ledger_entry *const *rows, size_t nrows,
	    const struct ct_event *events, size_t nevents,
	    struct verify_assign *out);

/* A row as the verifier tracks it; times on the monotonic clock. */
struct verify_item {
	struct ledger_entry *e;
	double		 fired;		/* the final attempt's send time */
	double		 deadline;	/* fired + the deadline */
	double		 covered_at;	/* start of the latest complete lookup
					   that covered the row, 0 = none */
};

enum verify_qkind {
	VERIFY_Q_ACCESS_KEY,	/* LookupAttributes AccessKeyId */
	VERIFY_Q_EVENT_NAME,	/* LookupAttributes EventName */
	VERIFY_Q_SWEEP,		/* no attribute */
};
const char *verify_qkind_name(enum verify_qkind);

struct verify_query {
	enum verify_qkind kind;
	char		*value;		/* attribute value, NULL for a sweep */
	double		 start;		/* StartTime (server clock); no EndTime
					   is sent: the window ends at the
					   server's "now" whatever our clock */
	size_t		*members;	/* indices of the rows it covers */
	size_t		 nmembers;
};
/*
 * Plan the queries that cover every row (see above).  offset: seconds to
 * add to the local clock to get the server's (the client's estimate from
 * Date headers), applied to the windows.
 */
struct verify_query *verify_plan(struct ledger_entry *const *rows, size_t n,
	    const struct verify_params *, double now, double offset,
	    size_t *nqueries);
void	 verify_plan_free(struct verify_query *, size_t);

/* The verdict rule above: VERDICT_PENDING while still undecided (all
 * times monotonic). */
enum verdict verify_judge(double deadline, double covered_at, double now,
	    double grace);
/*
 * The verdict of a row not found by a complete lookup started at or after
 * its deadline: VERDICT_MISSING (a logging gap) when CloudTrail is known to
 * record the call (evidence documented or observed); VERDICT_UNVERIFIED
 * when that is only assumed (#11): its absence proves no gap.
 */
enum verdict verify_absent_verdict(enum aws_evidence);
/* Why such an assumed row is unverified (appended to its reason). */
#define VERIFY_UNCONFIRMED_REASON "that CloudTrail records this call is " \
	"only assumed (evidence: assumed), so its absence is not reported " \
	"as a logging gap"
/*
 * Decide a pending row not found (reason: the lookup that did not find
 * it): the verdict of verify_absent_verdict(e->evidence), not_found set.
 * Returns the verdict, VERDICT_PENDING when the row had one already.
 */
enum verdict verify_decide_absent(struct ledger_entry *, const char *reason,
	    double now);
/*
 * Is a call made at wall time fired_at beyond what LookupEvents can return
 * at wall time now (90 days, less skew and a minute of margin)?
 */
int	 verify_too_old(double fired_at, double now, double offset,
	    double skew);
/*
 * When the group should poll next (*when, monotonic), given the time the
 * last poll started (0 = never); may be in the past (poll now).  -1 when
 * nothing is pending.
 */
int	 verify_next_poll(const struct verify_item *, size_t n,
	    double last_start, const struct verify_params *, double *when);

/* ---- the verifier (verify.c) -------------------------------------------- */

struct verify_hooks {
	/* Credentials for an account name (borrowed; NULL if unknown now). */
	struct creds_provider *(*creds)(const char *account, void *arg);
	/*
	 * Rows that got their verdict, after it was committed to the ledger;
	 * also rows found decided but not yet queued by verifier_resume().
	 */
	void	(*verdicts)(struct ledger_entry **, size_t n, void *arg);
	/* A LookupEvents request answered (metrics); may be NULL. */
	void	(*lookup)(const char *account, const char *region,
		    int throttled, void *arg);
	void	*arg;
};

struct verifier *verifier_new(struct event_base *, struct aws_client *,
	    struct ledger *, const struct verify_params *,
	    const struct verify_hooks *);
/* Cancels lookups in flight; pending rows stay pending in the ledger. */
void	 verifier_free(struct verifier *);
/* New parameters (reload): apply to future polls; rows keep the deadline
 * they were recorded with. */
void	 verifier_set_params(struct verifier *, const struct verify_params *);

/*
 * The deadline of a new row (wall clock): x->fired_at + the params'
 * deadline.  Its owner adds the row to the ledger with it (ledger_add)
 * and hands the row to verifier_watch(); the verifier counts it from
 * x->fired_mono when known.
 */
double	 verifier_deadline(const struct verifier *,
	    const struct expectation *);
/* Verify a row of the ledger (a no-op unless pending).  The owner commits
 * a new row (verifier_commit_soon). */
void	 verifier_watch(struct verifier *, struct ledger_entry *);
/*
 * After a restart: watch every pending row of the ledger and hand the rows
 * that were decided but never queued to the verdicts hook.  Returns the
 * number of rows now watched.
 */
size_t	 verifier_resume(struct verifier *);
/* Commit the ledger at the end of this event-loop turn. */
void	 verifier_commit_soon(struct verifier *);

size_t	 verifier_pending_count(const struct verifier *);
/* Where verification stands (live progress); times monotonic. */
struct verify_progress {
	size_t		 pending;	/* rows without a verdict */
	size_t		 polling;	/* groups with a lookup in flight */
	double		 next_poll;	/* the next poll due, 0 = none */
	double		 deadline;	/* the last pending row's, 0 = none */
};
void	 verifier_progress(const struct verifier *, struct verify_progress *);
/* Poll every group now (diagnostics, tests). */
void	 verifier_poll_now(struct verifier *);
/*
 * Stop polling; done runs (from the event loop) once no lookup is in
 * flight.  Pending rows stay in the ledger for the next start.
 */
void	 verifier_drain(struct verifier *, void (*done)(void *), void *arg);

struct verify_stats {
	unsigned long	 polls, lookups, pages, failures, events_seen;
	unsigned long	 logged, missing, unverified;
};
void	 verifier_stats(const struct verifier *, struct verify_stats *);

#endif
