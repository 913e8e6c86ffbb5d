/*
 * outbox: the report items owed (outbox.h).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "db.h"
#include "outbox.h"
#include "xmalloc.h"

static char *
outbox_fields_json(char *const *fields)
{
	json_t	*a = json_array();
	char	*s;
	size_t	 i;

	for (i = 0; fields != NULL && fields[i] != NULL; i++)
		json_array_append_new(a, json_string(fields[i]));
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}

static char **
outbox_fields_parse(const char *s)
{
	json_t	*a, *v;
	char	**f;
	size_t	 i, n = 0;

	a = s != NULL ? json_loads(s, 0, NULL) : NULL;
	f = xcalloc(json_array_size(a) + 1, sizeof(*f));
	json_array_foreach(a, i, v)
		if (json_is_string(v))
			f[n++] = xstrdup(json_string_value(v));
	json_decref(a);
	return f;
}

int
outbox_add(struct db *d, const struct outbox_item *it, char **cause)
{
	static const char	*sql = "INSERT INTO outbox (seq, report_id, "
	    "kind, created, priority, message_id, message, fields, line, "
	    "file_done, journal_done) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
	    "ON CONFLICT (report_id) DO NOTHING";
	sqlite3_stmt		*st;
	char			*f;
	int			 rc;

	if ((st = db_stmt(d, sql, cause)) == NULL)
		return -1;
	f = outbox_fields_json(it->fields);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)it->seq);
	db_bind_text(st, 2, it->report_id);
	db_bind_text(st, 3, it->kind);
	sqlite3_bind_double(st, 4, it->created);
	sqlite3_bind_int(st, 5, it->priority);
	db_bind_text(st, 6, it->message_id);
	db_bind_text(st, 7, it->message);
	db_bind_text(st, 8, f);
	db_bind_text(st, 9, it->line);
	sqlite3_bind_int(st, 10, it->file_done);
	sqlite3_bind_int(st, 11, it->journal_done);
	rc = db_done(d, st, cause);
	free(f);
	if (rc == 0 && sqlite3_changes(db_handle(d)) == 0)
		return 1;	/* already queued: once is enough */
	return rc;
}

int
outbox_owed(struct db *d, size_t max, struct outbox_item **ret, size_t *np,
    char **cause)
{
	static const char	*sql = "SELECT seq, report_id, kind, created, "
	    "priority, message_id, message, fields, line, file_done, "
	    "journal_done FROM outbox WHERE file_done = 0 OR journal_done = 0 "
	    "ORDER BY seq LIMIT ?";
	sqlite3_stmt		*st;
	struct outbox_item	*v = NULL, *it;
	size_t			 n = 0;
	char			*f;
	int			 r;

	*ret = NULL;
	*np = 0;
	if ((st = db_stmt(d, sql, cause)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)max);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		v = xreallocarray(v, n + 1, sizeof(*v));
		it = &v[n++];
		memset(it, 0, sizeof(*it));
		it->seq = (uint64_t)sqlite3_column_int64(st, 0);
		it->report_id = db_col_text(st, 1);
		it->kind = db_col_text(st, 2);
		it->created = db_col_real(st, 3);
		it->priority = sqlite3_column_int(st, 4);
		it->message_id = db_col_text(st, 5);
		it->message = db_col_text(st, 6);
		f = db_col_text(st, 7);
		it->fields = outbox_fields_parse(f);
		free(f);
		it->line = db_col_text(st, 8);
		it->file_done = sqlite3_column_int(st, 9);
		it->journal_done = sqlite3_column_int(st, 10);
		if (it->report_id == NULL)
			it->report_id = xstrdup("");
		if (it->kind == NULL)
			it->kind = xstrdup("");
		if (it->message == NULL)
			it->message = xstrdup("");
		if (it->line == NULL)
			it->line = xstrdup("{}");
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		outbox_items_free(v, n);
		*cause = db_errmsg(d, "outbox");
		return -1;
	}
	*ret = v;
	*np = n;
	return 0;
}

int
outbox_mark(struct db *d, const struct outbox_item *v, size_t n, int file,
    int journal, char **cause)
{
	static const char	*sql = "UPDATE outbox SET file_done = "
	    "max(file_done, ?), journal_done = max(journal_done, ?) "
	    "WHERE seq = ?";
	sqlite3_stmt		*st;
	size_t			 i;

	for (i = 0; i < n; i++) {
		if ((st = db_stmt(d, sql, cause)) == NULL)
			return -1;
		sqlite3_bind_int(st, 1, file);
		sqlite3_bind_int(st, 2, journal);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)v[i].seq);
		if (db_done(d, st, cause) == -1)
			return -1;
	}
	return 0;
}

int
outbox_prune(struct db *d, double before, int max, char **cause)
{
	static const char	*sql = "DELETE FROM outbox WHERE seq IN "
	    "(SELECT seq FROM outbox WHERE file_done = 1 AND journal_done = 1 "
	    "AND created < ? ORDER BY seq LIMIT ?)";
	sqlite3_stmt		*st;

	if ((st = db_stmt(d, sql, cause)) == NULL)
		return -1;
	sqlite3_bind_double(st, 1, before);
	sqlite3_bind_int(st, 2, max);
	if (db_done(d, st, cause) == -1)
		return -1;
	return sqlite3_changes(db_handle(d));
}

void
outbox_item_clear(struct outbox_item *it)
{
	size_t	 i;

	free(it->report_id);
	free(it->kind);
	free(it->message_id);
	free(it->message);
	for (i = 0; it->fields != NULL && it->fields[i] != NULL; i++)
		free(it->fields[i]);
	free(it->fields);
	free(it->line);
	memset(it, 0, sizeof(*it));
}

void
outbox_items_free(struct outbox_item *v, size_t n)
{
	size_t	 i;

	for (i = 0; v != NULL && i < n; i++)
		outbox_item_clear(&v[i]);
	free(v);
}
