/*
 * db: the state database (SQLite), shared by the ledger, the report outbox,
 * the verdict history and the readers (status, metrics).  One file,
 * <state_dir>/state.db, in WAL mode, so readers never block the daemon and
 * the daemon never blocks readers.  The schema, its versions and the
 * guarantees are in docs/STATE.md; the migrations are in db.c.
 *
 * Opening heals what can be healed and never refuses a directory because
 * of its database: a file that SQLite cannot open as a database, or that
 * fails PRAGMA quick_check, or whose schema is newer than this binary
 * knows, is moved aside (state.db.corrupt-<UTC time>, with its -wal and
 * -shm files), logged (MSGID_STATE_CORRUPT) and replaced by a fresh one.
 */
#ifndef CLOUDSAGA_DB_H
#define CLOUDSAGA_DB_H

#include <stdint.h>

#include <sqlite3.h>

#define DB_FILE			"state.db"
#define DB_SCHEMA_VERSION	4
/* How long a writer waits for a lock another connection holds. */
#define DB_BUSY_MS		5000

struct db;

#define DB_READONLY	0x01	/* status, metrics: never writes */
#define DB_FRESH	0x02	/* set aside whatever is there first */

/*
 * Open (creating, migrating) the database at path; NULL = in memory (the
 * one-shot CLI, tests).  A damaged file is set aside (see above) unless
 * DB_READONLY, which fails instead.  NULL + *cause when even a fresh
 * database cannot be made (the directory is not writable, ...).  When a
 * file was set aside, *aside (may be NULL) is its new name and *why (may
 * be NULL) what was wrong with it.
 */
struct db	*db_open(const char *path, int flags, char **aside, char **why,
		    char **cause);
void		 db_close(struct db *);
sqlite3		*db_handle(struct db *);
const char	*db_path(const struct db *);

/* Run SQL without results; -1 + *cause. */
int		 db_exec(struct db *, const char *sql, char **cause);
/*
 * A prepared statement for sql (cached by the pointer: pass a string
 * constant), reset and with its bindings cleared.  NULL + *cause.
 */
/* The last error of the connection: "PATH[: what]: message" (allocated),
 * the one form of a state database error. */
char		*db_errmsg(struct db *, const char *what);
sqlite3_stmt	*db_stmt(struct db *, const char *sql, char **cause);
/* Step a statement to SQLITE_DONE; -1 + *cause on anything else. */
int		 db_done(struct db *, sqlite3_stmt *, char **cause);

/*
 * Transactions nest: only the outermost BEGIN IMMEDIATE / COMMIT reaches
 * SQLite; a rollback at any depth rolls the whole transaction back (the
 * outer commit then fails).
 */
int		 db_begin(struct db *, char **cause);
int		 db_commit(struct db *, char **cause);
void		 db_rollback(struct db *);
int		 db_in_transaction(const struct db *);

/* Bind helpers: NULL strings bind NULL. */
void		 db_bind_text(sqlite3_stmt *, int, const char *);
void		 db_bind_real(sqlite3_stmt *, int, double);	/* 0 = NULL */
/* Column helpers: allocated copies (NULL for NULL). */
char		*db_col_text(sqlite3_stmt *, int);
double		 db_col_real(sqlite3_stmt *, int);		/* NULL = 0 */

/* The meta table: small named values (last_seq, migrated_from, ...). */
int		 db_meta_get_int(struct db *, const char *key, int64_t *ret);
int		 db_meta_set_int(struct db *, const char *key, int64_t value,
		    char **cause);

#endif
