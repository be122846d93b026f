/*
 * tokens.c - the token store in SQLite (see tokens.h).  Owns the schema
 * of tokens.db: one row per feature hash keyed by the hash itself (an
 * INTEGER PRIMARY KEY is the table's b-tree key, so a row costs about 20
 * bytes and a lookup is one b-tree descent), and one row of totals.
 * Statements are prepared once per open; opening is cheap because the
 * command line scores one message per process.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/xmem.h"
#include "state/db.h"
#include "state/tokens.h"

#ifndef TOKENS_PAGE_SIZE
#define TOKENS_PAGE_SIZE "1024"
#endif

static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE tokens ("
	"  hash INTEGER PRIMARY KEY,"	/* feature_hash() as signed 64 */
	"  spam INTEGER NOT NULL CHECK (spam >= 0),"
	"  ham INTEGER NOT NULL CHECK (ham >= 0),"
	"  weight INTEGER NOT NULL);"	/* fixed-point regression weight */
	"CREATE TABLE totals ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  spam INTEGER NOT NULL CHECK (spam >= 0),"
	"  ham INTEGER NOT NULL CHECK (ham >= 0),"
	"  bias INTEGER NOT NULL);"
	"INSERT INTO totals VALUES (1, 0, 0, 0);"
	/* One row per training, so untraining can reverse it exactly. */
	"CREATE TABLE trained ("
	"  id INTEGER PRIMARY KEY,"
	"  msg INTEGER NOT NULL,"	/* key of the message's feature set */
	"  is_spam INTEGER NOT NULL,"
	"  delta INTEGER NOT NULL);"
	"CREATE INDEX trained_msg ON trained (msg, is_spam);",
};

static const struct db_schema schema = {
	.what = "token store",
	.application_id = 0x4d53544b,	/* "MSTK" */
	.migrations = migrations,
	.nmigrations = sizeof(migrations) / sizeof(*migrations),
};

enum {
	ST_GET,
	ST_TOTALS,
	ST_ADD,
	ST_SUB,
	ST_PRUNE,
	ST_TOTALS_ADD,
	ST_RECORD,
	ST_FIND,
	ST_FIND_ANY,
	ST_FORGET,
	ST_COUNT
};

static const char *const sql[ST_COUNT] = {
	[ST_GET] = "SELECT spam, ham, weight FROM tokens WHERE hash = ?1",
	[ST_TOTALS] = "SELECT spam, ham, bias FROM totals WHERE id = 1",
	[ST_ADD] = "INSERT INTO tokens (hash, spam, ham, weight) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (hash) DO UPDATE SET "
	    "spam = spam + ?2, ham = ham + ?3, weight = weight + ?4",
	[ST_SUB] = "UPDATE tokens SET spam = spam - ?2, ham = ham - ?3, "
	    "weight = weight - ?4 WHERE hash = ?1",
	[ST_PRUNE] = "DELETE FROM tokens WHERE hash = ?1 AND spam = 0 "
	    "AND ham = 0 AND weight = 0",
	[ST_TOTALS_ADD] = "UPDATE totals SET spam = spam + ?1, "
	    "ham = ham + ?2, bias = bias + ?3 WHERE id = 1",
	[ST_RECORD] = "INSERT INTO trained (msg, is_spam, delta) "
	    "VALUES (?1, ?2, ?3)",
	[ST_FIND] = "SELECT id, delta FROM trained WHERE msg = ?1 AND "
	    "is_spam = ?2 ORDER BY id DESC LIMIT 1",
	[ST_FIND_ANY] = "SELECT is_spam FROM trained WHERE msg = ?1 "
	    "ORDER BY id DESC LIMIT 1",
	[ST_FORGET] = "DELETE FROM trained WHERE id = ?1",
};

struct tokens {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int in_batch;
};

static int
fail(struct tokens *t, const char *what, char **err_r)
{
	*err_r = xasprintf("token store: %s: %s", what, sqlite3_errmsg(t->db));
	return -1;
}

/* A new store gets small pages.  Feature hashes are random keys, so
 * training a message dirties one leaf page per feature: every one of
 * those pages goes to the WAL and is later checkpointed.  1 KiB pages
 * make that four times less I/O than SQLite's default 4 KiB. */
static void
create_small_pages(const char *path)
{
	struct stat st;
	sqlite3 *db = NULL;

	if (strcmp(path, ":memory:") == 0 || stat(path, &st) == 0)
		return;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) == SQLITE_OK)
		sqlite3_exec(db, "PRAGMA page_size = " TOKENS_PAGE_SIZE "; "
		    "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
	sqlite3_close(db);
}

/* The prepared statement i, prepared now if not yet; NULL with *err_r. */
static sqlite3_stmt *
stmt(struct tokens *t, int i, char **err_r)
{
	if (t->st[i] == NULL && sqlite3_prepare_v3(t->db, sql[i], -1,
	    SQLITE_PREPARE_PERSISTENT, &t->st[i], NULL) != SQLITE_OK) {
		*err_r = xasprintf("%s: not a usable token store (%s); move it "
		    "away and train again", sqlite3_db_filename(t->db, "main"),
		    sqlite3_errmsg(t->db));
		return NULL;
	}
	return t->st[i];
}

int
tokens_open(const char *path, struct tokens **t_r, char **err_r)
{
	struct tokens *t = xcalloc(1, sizeof(*t));

	*t_r = NULL;
	create_small_pages(path);
	if (db_open(path, &schema, &t->db, err_r) < 0)
		goto fail;
	/* The command line opens the store once per message.  Without
	 * fsync the WAL is checkpointed cheaply when the last connection
	 * closes, so the next process finds no WAL to recover (recovering
	 * a large WAL cost more than scoring).  The counts can be rebuilt
	 * by training again; an application crash cannot corrupt them, only
	 * a power loss between a write and the kernel's flush can. */
	if (db_exec(t->db, "PRAGMA synchronous = OFF", err_r) < 0)
		goto fail;
	/* Statements are prepared on first use (stmt()): a scoring process
	 * needs two of them. */
	*t_r = t;
	return 0;
fail:
	tokens_close(&t);
	return -1;
}

int
tokens_map_file(struct tokens *t, char **err_r)
{
	return db_exec(t->db, "PRAGMA mmap_size = 268435456", err_r);
}

void
tokens_release_memory(struct tokens *t)
{
	sqlite3_db_release_memory(t->db);
}

void
tokens_close(struct tokens **tp)
{
	struct tokens *t = *tp;

	if (t == NULL)
		return;
	if (t->in_batch)
		tokens_rollback(t);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(t->st[i]);
	db_close(&t->db);
	free(t);
	*tp = NULL;
}

int
tokens_totals(struct tokens *t, struct token_totals *totals_r, char **err_r)
{
	sqlite3_stmt *st = stmt(t, ST_TOTALS, err_r);
	int rc = -1;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		fail(t, "reading totals", err_r);
		goto out;
	}
	totals_r->spam = (uint32_t)sqlite3_column_int64(st, 0);
	totals_r->ham = (uint32_t)sqlite3_column_int64(st, 1);
	totals_r->bias = sqlite3_column_int64(st, 2);
	rc = 0;
out:
	sqlite3_reset(st);
	return rc;
}

int
tokens_get(struct tokens *t, const uint64_t *hashes, size_t n,
    struct token_counts *counts_r, struct token_totals *totals_r,
    char **err_r)
{
	sqlite3_stmt *st = stmt(t, ST_GET, err_r);
	int own = !t->in_batch, rc = -1;

	if (st == NULL)
		return -1;
	/* One read transaction: a consistent snapshot, and one lock instead
	 * of one per lookup. */
	if (own && db_exec(t->db, "BEGIN", err_r) < 0)
		return -1;
	if (tokens_totals(t, totals_r, err_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int step;

		sqlite3_bind_int64(st, 1, (sqlite3_int64)hashes[i]);
		step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			counts_r[i].spam =
			    (uint32_t)sqlite3_column_int64(st, 0);
			counts_r[i].ham = (uint32_t)sqlite3_column_int64(st, 1);
			counts_r[i].weight = sqlite3_column_int64(st, 2);
		} else if (step == SQLITE_DONE) {
			counts_r[i].spam = counts_r[i].ham = 0;
			counts_r[i].weight = 0;
		} else {
			sqlite3_reset(st);
			fail(t, "reading counts", err_r);
			goto out;
		}
		sqlite3_reset(st);
	}
	rc = 0;
out:
	if (own)
		sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

static int
step_done(struct tokens *t, sqlite3_stmt *st, const char *what, char **err_r)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(t, what, err_r);
	return 0;
}

int
tokens_begin(struct tokens *t, char **err_r)
{
	if (db_exec(t->db, "BEGIN IMMEDIATE", err_r) < 0)
		return -1;
	t->in_batch = 1;
	return 0;
}

int
tokens_commit(struct tokens *t, char **err_r)
{
	if (db_exec(t->db, "COMMIT", err_r) < 0) {
		tokens_rollback(t);
		return -1;
	}
	t->in_batch = 0;
	return 0;
}

void
tokens_rollback(struct tokens *t)
{
	sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	t->in_batch = 0;
}

/* Applies sign (+1 or -1) times one message's changes to the features
 * and the totals. */
static int
apply(struct tokens *t, const uint64_t *hashes, size_t n, int is_spam,
    int sign, int64_t delta, char **err_r)
{
	sqlite3_stmt *st;
	int ds = is_spam ? 1 : 0, dh = is_spam ? 0 : 1;

	for (size_t i = 0; i < n; i++) {
		if ((st = stmt(t, sign > 0 ? ST_ADD : ST_SUB, err_r)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)hashes[i]);
		sqlite3_bind_int(st, 2, ds);
		sqlite3_bind_int(st, 3, dh);
		sqlite3_bind_int64(st, 4, delta);
		if (step_done(t, st, "updating counts", err_r) < 0)
			return -1;
		if (sign > 0)
			continue;
		if ((st = stmt(t, ST_PRUNE, err_r)) == NULL)
			return -1;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)hashes[i]);
		if (step_done(t, st, "pruning counts", err_r) < 0)
			return -1;
	}
	if ((st = stmt(t, ST_TOTALS_ADD, err_r)) == NULL)
		return -1;
	sqlite3_bind_int(st, 1, sign * ds);
	sqlite3_bind_int(st, 2, sign * dh);
	sqlite3_bind_int64(st, 3, sign * delta);
	return step_done(t, st, "updating totals", err_r);
}

int
tokens_learn(struct tokens *t, uint64_t msg_key, const uint64_t *hashes,
    size_t n, int is_spam, int64_t delta, char **err_r)
{
	int own = !t->in_batch;
	sqlite3_stmt *st;

	if (own && tokens_begin(t, err_r) < 0)
		return -1;
	if (apply(t, hashes, n, is_spam, 1, delta, err_r) < 0 ||
	    (st = stmt(t, ST_RECORD, err_r)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)msg_key);
	sqlite3_bind_int(st, 2, is_spam ? 1 : 0);
	sqlite3_bind_int64(st, 3, delta);
	if (step_done(t, st, "recording the training", err_r) < 0)
		goto fail;
	if (own && tokens_commit(t, err_r) < 0)
		return -1;
	return 0;
fail:
	if (own)
		tokens_rollback(t);
	return -1;
}

int
tokens_find(struct tokens *t, uint64_t msg_key, int *is_spam_r,
    char **err_r)
{
	sqlite3_stmt *st = stmt(t, ST_FIND_ANY, err_r);
	int step;

	if (st == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)msg_key);
	step = sqlite3_step(st);
	*is_spam_r = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return 1;
	if (step == SQLITE_DONE)
		return 0;
	return fail(t, "finding the training", err_r);
}

int
tokens_unlearn(struct tokens *t, uint64_t msg_key, const uint64_t *hashes,
    size_t n, int is_spam, int *not_trained_r, char **err_r)
{
	int own = !t->in_batch, step;
	sqlite3_stmt *st;
	sqlite3_int64 id;
	int64_t delta;

	if (not_trained_r != NULL)
		*not_trained_r = 0;
	if (own && tokens_begin(t, err_r) < 0)
		return -1;
	if ((st = stmt(t, ST_FIND, err_r)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)msg_key);
	sqlite3_bind_int(st, 2, is_spam ? 1 : 0);
	step = sqlite3_step(st);
	id = sqlite3_column_int64(st, 0);
	delta = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (step == SQLITE_DONE) {
		*err_r = xasprintf("this message was not trained as %s, so "
		    "there is nothing to untrain", is_spam ? "spam" : "ham");
		if (not_trained_r != NULL)
			*not_trained_r = 1;
		goto fail;
	}
	if (step != SQLITE_ROW) {
		fail(t, "finding the training", err_r);
		goto fail;
	}
	if (apply(t, hashes, n, is_spam, -1, delta, err_r) < 0)
		goto fail;
	if ((st = stmt(t, ST_FORGET, err_r)) == NULL)
		goto fail;
	sqlite3_bind_int64(st, 1, id);
	if (step_done(t, st, "forgetting the training", err_r) < 0)
		goto fail;
	if (own && tokens_commit(t, err_r) < 0)
		return -1;
	return 0;
fail:
	if (own)
		tokens_rollback(t);
	return -1;
}
