/*
 * db.c - open, check and migrate a mailsift SQLite database.
 *
 * A new database is built under a temporary name and renamed into place
 * complete, so a mailsift database file is never half made: a missing or
 * empty one means that something else removed or emptied it, which
 * agent/state_dir.c relies on to refuse a lost ledger.  Files are 0600
 * whatever the umask (SQLite gives the -wal and -shm files the mode of
 * the database file).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/xmem.h"
#include "state/db.h"
#include "state/fsfail.h"
#include "state/owner.h"

static const char *const side_files[] = { "", "-wal", "-shm", "-journal" };

static const char *
db_path(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main");

	return path != NULL && path[0] != '\0' ? path : "database";
}

/* Why a database cannot be opened or written: the file or its directory
 * (where the -wal and -shm files go) not writable, read-only file system
 * included; else what SQLite saw (sys), else a permission problem. */
static int
write_errno(const char *path, int sys)
{
	char *dir, *slash;
	int e = 0;

	if (access(path, W_OK) < 0 && errno != ENOENT)
		return errno;
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	if (access(slash != NULL ? dir : ".", W_OK) < 0)
		e = errno;
	free(dir);
	return e != 0 ? e : sys != 0 ? sys : EACCES;
}

/* db_failure() for the file at path (a handle that failed to open may
 * not know its own file name). */
static char *
failure_at(sqlite3 *db, const char *path)
{
	int sys = sqlite3_system_errno(db);

	switch (sqlite3_errcode(db)) {
	case SQLITE_FULL:
		return fsfail_cause(path, fsfail_is_full(sys) ? sys : ENOSPC);
	case SQLITE_IOERR:
		return fsfail_cause(path, sys != 0 ? sys : EIO);
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return fsfail_cause(path, write_errno(path, sys));
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return xasprintf("%s: the file is damaged (%s); restore it "
		    "from a backup, and keep the damaged file until then",
		    path, sqlite3_errmsg(db));
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return xasprintf("%s: another process has held it locked for "
		    "10 s (%s); try again, and if that persists look for the "
		    "process with 'fuser %s'", path, sqlite3_errmsg(db), path);
	default:
		return xasprintf("%s: %s", path, sqlite3_errmsg(db));
	}
}

char *
db_failure(sqlite3 *db)
{
	return failure_at(db, db_path(db));
}

enum state_failure
db_failure_kind(sqlite3 *db)
{
	switch (sqlite3_errcode(db)) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return STATE_NO_FAILURE;
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return STATE_FAILURE_WAIT;
	default:
		return STATE_FAILURE_BROKEN;
	}
}

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
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	*err_r = db_failure(db);
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
		*err_r = db_failure(db);
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
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int
db_file_state(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return errno == ENOENT ? DB_FILE_MISSING : DB_FILE_PRESENT;
	return st.st_size == 0 ? DB_FILE_EMPTY : DB_FILE_PRESENT;
}

static void
remove_with_side_files(const char *path)
{
	for (size_t i = 0; i < sizeof(side_files) / sizeof(*side_files);
	    i++) {
		char *p = xasprintf("%s%s", path, side_files[i]);
		unlink(p);
		free(p);
	}
}

/* Puts the complete new file tmp at path: over an empty file, else only
 * if nobody made one meanwhile (then theirs is kept). */
static int
put_in_place(const char *tmp, const char *path, int replace)
{
	if (replace)
		return rename(tmp, path);
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EINVAL && link(tmp, path) == 0)	/* no renameat2 */
		return unlink(tmp);
	if (errno == EEXIST)
		return unlink(tmp);
	return -1;
}

/* Builds a new database for path under a temporary name, then puts it in
 * place. */
static int
create_new(const char *path, const struct db_schema *schema, int replace,
    char **err_r)
{
	char *tmp = xasprintf("%s.new-%ld", path, (long)getpid());
	char *action = xasprintf("create the %s", schema->what);
	sqlite3 *db = NULL;
	int fd, rc = -1;

	remove_with_side_files(tmp);
	fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	/* Before SQLite makes its side files: it gives them to the
	 * database file's owner. */
	if (fd < 0 || state_file_own(fd, tmp) < 0) {
		*err_r = fsfail_message(action, path, errno);
		goto out;
	}
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		*err_r = db ? failure_at(db, path) :
		    xasprintf("%s: out of memory", path);
		goto out;
	}
	if ((schema->create_pragmas != NULL &&
	    db_exec(db, schema->create_pragmas, err_r) < 0) ||
	    db_exec(db, "PRAGMA journal_mode = WAL", err_r) < 0 ||
	    migrate(db, tmp, schema, err_r) < 0)
		goto out;
	/* Closing the last connection writes the WAL back into the file. */
	if (sqlite3_close(db) != SQLITE_OK) {
		*err_r = failure_at(db, path);
		goto out;
	}
	db = NULL;
	if (fsync(fd) < 0 || put_in_place(tmp, path, replace) < 0) {
		*err_r = fsfail_message(action, path, errno);
		goto out;
	}
	rc = 0;
out:
	if (db != NULL)
		sqlite3_close(db);
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		remove_with_side_files(tmp);
	free(action);
	free(tmp);
	return rc;
}

/* Files an older mailsift made under a lax umask become 0600 too. */
static void
make_private(const char *path)
{
	for (size_t i = 0; i < sizeof(side_files) / sizeof(*side_files);
	    i++) {
		char *p = xasprintf("%s%s", path, side_files[i]);
		struct stat st;

		if (stat(p, &st) == 0 && (st.st_mode & 077) != 0)
			chmod(p, st.st_mode & 0700);
		free(p);
	}
}

int
db_open(const char *path, const struct db_schema *schema, sqlite3 **db_r,
    char **err_r)
{
	sqlite3 *db = NULL;
	char *prefixed;
	int memory = strcmp(path, ":memory:") == 0, state;

	*db_r = NULL;
	if (!memory && (state = db_file_state(path)) != DB_FILE_PRESENT &&
	    create_new(path, schema, state == DB_FILE_EMPTY, err_r) < 0)
		return -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX | (memory ? SQLITE_OPEN_CREATE : 0),
	    NULL) != SQLITE_OK) {
		*err_r = db ? failure_at(db, path) :
		    xasprintf("%s: out of memory", path);
		goto fail;
	}
	if (!memory)
		make_private(path);
	sqlite3_busy_timeout(db, 10000);
	/* A foreign or corrupt file fails here first with SQLITE_NOTADB. */
	if (db_exec(db, "PRAGMA journal_mode = WAL; "
	    "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
	    err_r) < 0)
		goto fail;
	if (migrate(db, path, schema, err_r) < 0)
		goto fail;
	*db_r = db;
	return 0;
fail:
	/* Every reason above starts with the path. */
	prefixed = xasprintf("cannot open the %s %s", schema->what, *err_r);
	free(*err_r);
	*err_r = prefixed;
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
