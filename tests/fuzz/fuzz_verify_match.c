/*
 * fuzz_verify_match: a LookupEvents page as CloudTrail could send it (any
 * bytes: JSON or not) read by verify_page_read, and its records matched
 * against a fixed set of pending rows by verify_match.  The invariants of
 * docs/ARCHITECTURE.md ("Matching") must hold for every input:
 *   - one record proves at most one row, one row is proved by one record;
 *   - a record whose request ID is known and differs from the row's never
 *     proves it;
 *   - a row expecting success is never proved by a record with an
 *     errorCode, unless by its own request ID;
 *   - a record carrying an eventID already used never proves a row.
 * A failed page never crashes and never yields records past its end.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "aws.h"
#include "ledger.h"
#include "verify.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define RUN	"0123456789abcdef0123456789abcdef"

static struct ledger	*fuzz_ledger;
static struct ledger_entry *fuzz_rows[6];

static void
fuzz_setup(void)
{
	static const struct {
		const char	*name, *request_id, *error_code;
		int		 seq;
	} r[6] = {
		{ "CreateVpc", "req-1", "Client.DryRunOperation", 1 },
		{ "CreateVpc", NULL, "Client.DryRunOperation", 2 },
		{ "DescribeInstances", "req-3", NULL, 3 },
		{ "DescribeInstances", NULL, NULL, 4 },
		{ "StopLogging", "req-5", "TrailNotFoundException", 5 },
		{ "AttachUserPolicy", NULL, "NoSuchEntity", 6 },
	};
	struct expectation	 x;
	char			 ua[128], *cause = NULL;
	size_t			 i;

	fuzz_ledger = ledger_open(NULL, &cause);
	for (i = 0; i < 6; i++) {
		memset(&x, 0, sizeof(x));
		memcpy(x.run_id, RUN, 33);
		x.scenario = (char *)"fuzz";
		x.account = (char *)"prod";
		x.account_id = (char *)"123456789012";
		x.call_region = x.region = (char *)"us-east-1";
		x.event_source = (char *)"ec2.amazonaws.com";
		x.event_name = (char *)r[i].name;
		x.error_code = (char *)r[i].error_code;
		x.request_id = (char *)r[i].request_id;
		snprintf(ua, sizeof(ua), "cloudsagad/0.1.0 run/%s/%d/1", RUN,
		    r[i].seq);
		x.user_agent = ua;
		x.fired_at = 1000;
		fuzz_rows[i] = ledger_add(fuzz_ledger, &x, 1900);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ct_event		*evs = NULL;
	struct verify_assign	 out[6];
	const struct ct_event	*ev;
	const struct ledger_entry *e;
	const char		*tok;
	char			*problem = NULL;
	json_t			*page;
	size_t			 n = 0, m, i, j;
	unsigned char		 rows_seen[6], *evs_seen;

	if (fuzz_ledger == NULL)
		fuzz_setup();
	page = json_loadb((const char *)data, size, 0, NULL);
	(void)verify_page_read(page, 1, &evs, &n, &tok, &problem);
	free(problem);
	m = verify_match(fuzz_rows, 6, evs, n, out);
	if (m > 6 || m > n)
		abort();
	memset(rows_seen, 0, sizeof(rows_seen));
	evs_seen = calloc(n > 0 ? n : 1, 1);
	for (i = 0; i < m; i++) {
		if (out[i].entry >= 6 || out[i].event >= n)
			abort();
		if (rows_seen[out[i].entry]++ || evs_seen[out[i].event]++)
			abort();	/* one record, one call */
		e = fuzz_rows[out[i].entry];
		ev = &evs[out[i].event];
		if (e->x.request_id != NULL && ev->request_id != NULL &&
		    *ev->request_id != '\0' &&
		    strcasecmp(e->x.request_id, ev->request_id) != 0)
			abort();	/* another call's request ID */
		if (out[i].how == VERIFY_BY_MARKER && e->x.error_code == NULL &&
		    ev->error_code != NULL && *ev->error_code != '\0')
			abort();	/* a failure proving a success */
		if (strcmp(e->x.event_name, ev->event_name) != 0)
			abort();
		for (j = 0; j < n; j++)
			if (j != out[i].event && strcmp(evs[j].event_id,
			    ev->event_id) == 0 && evs_seen[j])
				abort();	/* the same record twice */
	}
	free(evs_seen);
	for (i = 0; i < n; i++)
		verify_event_clear(&evs[i]);
	free(evs);
	json_decref(page);
	return 0;
}
