/*
 * pager: the one rule for following a paginated AWS listing.  Every
 * listing the daemon follows uses it: the scenario framework
 * (run_group_paginate, scenarios/run.c), the verifier's LookupEvents
 * queries (daemon/verify.c) and the coverage listings (ListRules,
 * ListTargetsByRule, DescribeMetricFilters, GuardDuty; daemon/coverage.c).
 *
 * A listing starts with pager_init(); the first page is sent without a
 * token (pager_token() is NULL).  Each answer's token (pager_token_of()
 * reads it from a decoded answer; a caller that validates the answer
 * itself passes its own) goes to pager_next(), which says what to do:
 *
 *   PAGER_DONE    no token (absent or empty): the listing is complete;
 *   PAGER_MORE    send the next page with pager_token();
 *   PAGER_REPEAT  the token came back earlier in this listing (botocore's
 *                 rule): following it would loop; the listing is
 *                 INCOMPLETE;
 *   PAGER_CAPPED  max_pages pages were read and the answer still asks for
 *                 more: the listing is INCOMPLETE.
 *
 * pager_truncated() is true for the two incomplete endings: a caller
 * must never treat such a listing as the whole answer (a verifier that
 * read a capped LookupEvents window as complete would call a logged
 * event missing).  The pager owns copies of the tokens it followed
 * (at most max_pages - 1); pager_clear() frees them.  No I/O, no
 * logging: the caller words its own messages.
 */
#ifndef CLOUDSAGA_PAGER_H
#define CLOUDSAGA_PAGER_H

#include <stddef.h>

#include <jansson.h>

enum pager_step {
	PAGER_DONE,
	PAGER_MORE,
	PAGER_REPEAT,
	PAGER_CAPPED,
};

struct pager {
	int	 max_pages;	/* at least 1 */
	int	 pages;		/* answers read so far */
	char	**seen;		/* tokens followed, oldest first */
	size_t	 nseen;
};

/* Start a listing of at most max_pages pages (below 1: 1). */
void		 pager_init(struct pager *, int max_pages);
/* One more answer was read, carrying token (NULL or "": the last page). */
enum pager_step	 pager_next(struct pager *, const char *token);
/* The token to send with the next page; NULL for the first page. */
const char	*pager_token(const struct pager *);
int		 pager_truncated(enum pager_step);
const char	*pager_step_name(enum pager_step);
/* Hand the listing's state to dst (uninitialised); src is left empty. */
void		 pager_move(struct pager *dst, struct pager *src);
/* Free the tokens; the pager is back at the first page. */
void		 pager_clear(struct pager *);

/*
 * The next-page token of a decoded answer: the string at member (a path,
 * as aws_json_str), or NULL when it is absent, not a string or empty, or
 * when the answer has an "IsTruncated" member that is not "true" (IAM and
 * S3 say so explicitly).  Borrowed from data.
 */
const char	*pager_token_of(json_t *data, const char *member);

#endif
