/*
 * db.c - open, check and migrate a mailsift SQLite database.
 */
#include <stdlib.h>
#include <string.h>

#include "agent/xmem.h"
#include "state/db.h"

static int
pragma_int(sqlite3 *db, const char *sql, int *value_r)
{
	sqlite3_stmt *stmt = NULL;
	int rc = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(stmt) != SQLITE_ROW)
		goto out;
	*value_r = sqlite3_column_int(stmt, 0);
	rc = 0;
out:
	sqlite3_finalize(stmt);
	return rc;
}

int
db_exec(sqlite3 *db, const char *sql, char **err_r)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	*err_r = xasprintf("%s: %s", sqlite3_db_filename(db, "main") ?
	    sqlite3_db_filename(db, "main") : "database",
	    msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

static int
migrate(sqlite3 *db, const char *path, const struct db_schema *schema,
    char **err_r)
{
	int version, app_id;
	char *sql;

	/* Up to date: no write, so scoring processes never take the write
	 * lock. */
	if (pragma_int(db, "PRAGMA user_version", &version) == 0 &&
	    pragma_int(db, "PRAGMA application_id", &app_id) == 0 &&
	    version == schema->nmigrations &&
	    app_id == schema->application_id)
		return 0;
	if (db_exec(db, "BEGIN IMMEDIATE", err_r) < 0)
		return -1;
	if (pragma_int(db, "PRAGMA user_version", &version) < 0 ||
	    pragma_int(db, "PRAGMA application_id", &app_id) < 0) {
		*err_r = xasprintf("%s: not a readable SQLite database (%s); "
		    "move it away and let mailsift create a new one",
		    path, sqlite3_errmsg(db));
		goto fail;
	}
	if (version == 0 && app_id == 0) {
		/* New file, or a foreign one that holds tables already. */
		int tables = 0;
		if (pragma_int(db, "SELECT count(*) FROM sqlite_master",
		    &tables) < 0 || tables > 0) {
			*err_r = xasprintf("%s: this SQLite database was not "
			    "made by mailsift (it has other tables); use "
			    "another path for the %s", path, schema->what);
			goto fail;
		}
	} else if (app_id != schema->application_id) {
		*err_r = xasprintf("%s: this database is not a mailsift %s "
		    "(application_id %d); use another path", path,
		    schema->what, app_id);
		goto fail;
	}
	if (version > schema->nmigrations) {
		*err_r = xasprintf("%s: %s schema version %d is newer than "
		    "this mailsift understands (%d); upgrade mailsift",
		    path, schema->what, version, schema->nmigrations);
		goto fail;
	}
	for (; version < schema->nmigrations; version++) {
		if (db_exec(db, schema->migrations[version], err_r) < 0)
			goto fail;
	}
	sql = xasprintf("PRAGMA user_version = %d; "
	    "PRAGMA application_id = %d", version, schema->application_id);
	if (db_exec(db, sql, err_r) < 0) {
		free(sql);
		goto fail;
	}
	free(sql);
	return db_exec(db, "COMMIT", err_r);
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
db_open(const char *path, const struct db_schema *schema, sqlite3 **db_r,
    char **err_r)
{
	sqlite3 *db = NULL;

	*db_r = NULL;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*err_r = xasprintf("cannot open %s %s: %s", schema->what, path,
		    db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, 10000);
	/* A foreign or corrupt file fails here first with SQLITE_NOTADB. */
	if (db_exec(db, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
	    err_r) < 0) {
		free(*err_r);
		*err_r = xasprintf("%s: not a usable SQLite database (%s); "
		    "move it away or use another path for the %s", path,
		    sqlite3_errmsg(db), schema->what);
		goto fail;
	}
	if (migrate(db, path, schema, err_r) < 0)
		goto fail;
	*db_r = db;
	return 0;
fail:
	sqlite3_close(db);
	return -1;
}

void
db_close(sqlite3 **db)
{
	if (*db == NULL)
		return;
	sqlite3_close(*db);
	*db = NULL;
}
