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

struct db_schema {
	const char *what;	/* for messages: "token store", "ledger" */
	int application_id;	/* PRAGMA application_id stamped on the file */
	/* migrations[i] upgrades user_version i to i+1 (SQL script). */
	const char *const *migrations;
	int nmigrations;
};

/* Opens or creates path (":memory:" allowed) and brings its schema up to
 * date in one transaction.  Refuses, with a clear message, a file that is
 * not SQLite, belongs to another program, or was written by a newer
 * mailsift.  Returns 0, or -1 with a malloc'd *err_r. */
int db_open(const char *path, const struct db_schema *schema,
    sqlite3 **db_r, char **err_r);
void db_close(sqlite3 **db);

/* Runs one SQL script; -1 with a malloc'd *err_r naming the database. */
int db_exec(sqlite3 *db, const char *sql, char **err_r);

#endif
