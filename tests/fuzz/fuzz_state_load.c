/*
 * fuzz_state_load: what a state directory or a report file may hold after
 * years of running, a crash, a disk error or a hostile hand:
 *   - the JSON layout of earlier versions (ledger.json and one run file),
 *     read by the one-time migration (ledger_legacy_load);
 *   - the report file's tail, read when the reporter opens it.
 * The first byte picks which; for the layout, a 0xff byte separates
 * ledger.json from the run file.  Never a crash, never a refusal to open
 * the report, never a run with implausible times.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "ledger_impl.h"
#include "log.h"
#include "report.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define RUN	"0123456789abcdef0123456789abcdef"

static char	*fuzz_dir;
static int	 fuzz_dirfd = -1;
static struct ledger *fuzz_ledger;

static void
fuzz_put(const char *name, const uint8_t *data, size_t size)
{
	int	 fd;

	fd = openat(fuzz_dirfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd == -1)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ledger_legacy	 lg;
	struct reporter		*rp;
	const uint8_t		*sep;
	char			*path, *cause = NULL, tmpl[] =
				    "/tmp/fuzz_state_load.XXXXXX";
	size_t			 i, j;

	if (fuzz_dir == NULL) {
		log_init(LOG_TO_STDERR, "fuzz", LOG_CRIT);
		if ((fuzz_dir = mkdtemp(tmpl)) == NULL)
			abort();
		fuzz_dir = xstrdup(fuzz_dir);
		fuzz_dirfd = open(fuzz_dir, O_RDONLY | O_DIRECTORY);
		(void)mkdirat(fuzz_dirfd, "runs", 0700);
		fuzz_ledger = ledger_open(NULL, &cause);
	}
	if (size == 0)
		return 0;
	if (data[0] & 1) {
		/* The report file's tail. */
		fuzz_put("report.jsonl", data + 1, size - 1);
		path = xprintf("%s/report.jsonl", fuzz_dir);
		if ((rp = report_open(fuzz_ledger, path, &cause)) == NULL)
			abort();	/* a file never stops a start */
		report_free(rp);
		free(path);
		return 0;
	}
	data++;
	size--;
	sep = memchr(data, 0xff, size);
	fuzz_put("ledger.json", data, sep ? (size_t)(sep - data) : size);
	if (sep != NULL)
		fuzz_put("runs/" RUN ".json", sep + 1,
		    size - (size_t)(sep + 1 - data));
	else
		(void)unlinkat(fuzz_dirfd, "runs/" RUN ".json", 0);
	if (ledger_legacy_load(fuzz_ledger, fuzz_dirfd, fuzz_dir, &lg)) {
		for (i = 0; i < lg.nruns; i++) {
			for (j = 0; j < lg.runs[i]->nentries; j++) {
				const struct ledger_entry *e =
				    lg.runs[i]->entries[j];

				if (!isfinite(e->x.fired_at) ||
				    !isfinite(e->deadline) ||
				    e->deadline > 4e9 || e->x.fired_at > 4e9)
					abort();
			}
			ledger_run_free(lg.runs[i]);
		}
	}
	free(lg.runs);
	json_decref(lg.sched);
	return 0;
}
