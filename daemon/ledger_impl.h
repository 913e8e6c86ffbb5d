/*
 * ledger_impl: what ledger.c shares with ledger_legacy.c (the reader of
 * the JSON state layout of earlier versions, for the one-time migration).
 * Not for other modules.
 */
#ifndef CLOUDSAGA_LEDGER_IMPL_H
#define CLOUDSAGA_LEDGER_IMPL_H

#include "ledger.h"

struct ledger_run *ledger_run_alloc(struct ledger *, const char *run_id,
		    const char *scenario, const char *account, double started);
void		 ledger_run_free(struct ledger_run *);
void		 ledger_entry_free(struct ledger_entry *);
void		 ledger_entry_append(struct ledger_run *, struct ledger_entry *);
int		 ledger_valid_run_id(const char *);
/* A loaded row (appended to its run): its state from its columns. */
void		 ledger_entry_restore(struct ledger_entry *);

/* A state file or database set aside is said by report_state_set_aside()
 * (report.h: MSGID_STATE_CORRUPT). */

/*
 * The JSON layout of versions before the database (ledger.json and
 * runs/<id>.json): load every readable run of dir into *runs (unreadable
 * files are left where they are and counted in *bad), the report high-water
 * mark and the schedule memory.  0 when there is no such layout.
 */
struct ledger_legacy {
	struct ledger_run	**runs;
	size_t			 nruns;
	uint64_t		 last_seq;
	json_t			*sched;		/* {"entry": last start} */
	unsigned		 bad;
};
int		 ledger_legacy_load(struct ledger *, int dirfd, const char *dir,
		    struct ledger_legacy *);
/* Rename the layout's files out of the way (.migrated-<time>). */
void		 ledger_legacy_retire(int dirfd, const char *dir);

#endif
