/*
 * db.h - opening a mailsift SQLite database: WAL mode, busy timeout, a
 * check that the file is ours (application_id), and schema migrations by
 * PRAGMA user_version.  Each database file has one owner module that
 * passes its schema here (tokens.c, ledger.c); nobody else writes SQL
 * against that file.
 */
#ifndef MAILSIFT_DB_H
#define MAILSIFT_DB_H

#include <sqlite3.h>

#include "state/fsfail.h"

struct db_schema {
	const char *what;	/* for messages: "token store", "ledger" */
	int application_id;	/* PRAGMA application_id stamped on the file */
	/* migrations[i] upgrades user_version i to i+1 (SQL script). */
	const char *const *migrations;
	int nmigrations;
	/* Run on a new file before anything else (e.g. its page size);
	 * NULL for none. */
	const char *create_pragmas;
};

/* Opens path (":memory:" allowed) and brings its schema up to date in one
 * transaction.  A missing or empty file is replaced by a complete new
 * database, made under a temporary name with mode 0600 and renamed into
 * place; an existing file and its -wal and -shm lose any group and other
 * permissions.  Refuses, with a clear message, a file that is not SQLite,
 * belongs to another program, or was written by a newer mailsift.
 * Returns 0, or -1 with a malloc'd *err_r. */
int db_open(const char *path, const struct db_schema *schema,
    sqlite3 **db_r, char **err_r);
void db_close(sqlite3 **db);

enum {
	DB_FILE_PRESENT,
	DB_FILE_MISSING,
	DB_FILE_EMPTY		/* zero bytes */
};

/* Whether path holds something, without opening it. */
int db_file_state(const char *path);

/* Runs one SQL script; -1 with a malloc'd *err_r from db_failure(). */
int db_exec(sqlite3 *db, const char *sql, char **err_r);

/* Why the last call on db failed, malloc'd, as "PATH: CAUSE; FIX": a full
 * disk, a read-only file system or a permission problem is said so with
 * what to do (state/fsfail.h), a damaged file is to be restored from a
 * backup.  Never advises removing a file. */
char *db_failure(sqlite3 *db);

/* Whether and how the last call on db failed (state/fsfail.h). */
enum state_failure db_failure_kind(sqlite3 *db);

#endif
