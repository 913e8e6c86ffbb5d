/*
 * schedmem: the schedule's memory in the state database (schedmem.h).
 */
#include <math.h>
#include <stdlib.h>

#include <jansson.h>

#include "db.h"
#include "log.h"
#include "schedmem.h"
#include "xmalloc.h"

struct schedmem {
	struct db	*db;
	json_t		*last;		/* {"entry": last start} */
	json_t		*dirty;		/* {"entry": true} */
};

struct schedmem *
schedmem_open(struct db *db)
{
	struct schedmem	*sm;
	sqlite3_stmt	*st;
	char		*entry, *cause = NULL;
	double		 t;

	sm = xcalloc(1, sizeof(*sm));
	sm->db = db;
	sm->last = json_object();
	sm->dirty = json_object();
	if ((st = db_stmt(db, "SELECT entry, last_start FROM schedule",
	    &cause)) == NULL) {
		log_warnx("state: the schedule's memory cannot be read (%s): "
		    "every entry starts its phase afresh", cause);
		free(cause);
		return sm;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		entry = db_col_text(st, 0);
		t = db_col_real(st, 1);
		/* A plausible time: finite, not before 1970, before 2096. */
		if (entry != NULL && isfinite(t) && t >= 0 && t < 4e9)
			json_object_set_new(sm->last, entry, json_real(t));
		free(entry);
	}
	sqlite3_reset(st);
	return sm;
}

void
schedmem_free(struct schedmem *sm)
{
	if (sm == NULL)
		return;
	json_decref(sm->last);
	json_decref(sm->dirty);
	free(sm);
}

double
schedmem_get(const struct schedmem *sm, const char *entry)
{
	json_t	*t = json_object_get(sm->last, entry);

	return json_is_number(t) ? json_number_value(t) : 0;
}

void
schedmem_set(struct schedmem *sm, const char *entry, double last_start)
{
	json_object_set_new(sm->last, entry, json_real(last_start));
	json_object_set_new(sm->dirty, entry, json_true());
}

int
schedmem_store(struct db *db, const char *entry, double last_start,
    char **cause)
{
	static const char	*sql = "INSERT INTO schedule (entry, "
	    "last_start) VALUES (?, ?) ON CONFLICT (entry) DO UPDATE SET "
	    "last_start = excluded.last_start";
	sqlite3_stmt		*st;

	if ((st = db_stmt(db, sql, cause)) == NULL)
		return -1;
	db_bind_text(st, 1, entry);
	sqlite3_bind_double(st, 2, last_start);
	return db_done(db, st, cause);
}

int
schedmem_write(struct schedmem *sm, char **cause)
{
	const char	*k;
	json_t		*v;

	json_object_foreach(sm->dirty, k, v)
		if (schedmem_store(sm->db, k, schedmem_get(sm, k), cause) == -1)
			return -1;
	return 0;
}

void
schedmem_written(struct schedmem *sm)
{
	json_object_clear(sm->dirty);
}
