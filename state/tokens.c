/*
 * tokens.c - the token store in SQLite (see tokens.h).  Owns the schema
 * of tokens.db: one row per feature hash keyed by the hash itself (an
 * INTEGER PRIMARY KEY is the table's b-tree key, so a row costs about 20
 * bytes and a lookup is one b-tree descent), and one row of totals.
 * Statements are prepared once per open; opening is cheap because the
 * command line scores one message per process.
 *
 * Every change happens in a batch (tokens_begin; a lone tokens_learn
 * opens its own), and inside a batch the counts live in a write-back
 * cache: each feature is read from SQLite once, changed in memory however
 * many messages share it, and written once, in key order, when the batch
 * commits (or when the cache is full).  Bulk training then costs one
 * b-tree write per distinct feature instead of one per feature of every
 * message, and the writes walk the b-tree's pages in order.
 *
 * A process that looks up many messages (the daemon sorting a backlog,
 * the bench) reads the whole table into memory once (state/snapshot.h)
 * and looks features up there: a b-tree descent through SQLite costs
 * about 1.3 us, most of a message's scoring time, a lookup in the
 * snapshot a twentieth of that.  The snapshot is kept exactly equal to
 * the table: this connection's own commits are applied to it, and a
 * commit by any other connection (PRAGMA data_version) drops it.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "agent/radix.h"
#include "agent/xmem.h"
#include "state/db.h"
#include "state/snapshot.h"
#include "state/tokens.h"

#ifndef TOKENS_PAGE_SIZE
#define TOKENS_PAGE_SIZE "1024"
#endif

/* The batch cache's size bound: 2^18 slots of 32 bytes (8 MiB), written
 * out and emptied when 70% full, so that bulk training of any size stays
 * within a few tens of MB. */
#define CACHE_SLOTS_MAX		(1u << 18)
#define CACHE_SLOTS_MIN		1024u

/* After this many reads from SQLite in one batch (a bulk training), the
 * batch reads every key of the table once, in order, into a Bloom filter
 * of about 16 bits a key (at most 16 MiB): a feature it does not know is
 * new, and is not looked up.  Most features of a new corpus are new. */
#define PRESENCE_AFTER_READS	20000u
#define PRESENCE_BITS_MAX	(1u << 27)

/* The snapshot is built at the lookup of the SNAPSHOT_AFTER_GETS-th
 * message since the store was opened, last released its memory, or was
 * last changed by another connection: reading the table costs about
 * 0.16 us a row (60 ms for the 374,000 rows of half the SpamAssassin
 * corpus) against some 0.6 ms of b-tree lookups a message, so 100
 * messages' lookups pay for the snapshot of a store of that size, and
 * a process that scores a message or two never builds one.  At most
 * SNAPSHOT_ROWS_MAX rows (24 MiB); a bigger table is always read
 * through SQLite. */
#define SNAPSHOT_AFTER_GETS	100u
#define SNAPSHOT_ROWS_MAX	(1u << 20)

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
	/* A new store gets small pages.  Feature hashes are random keys, so
	 * training a message dirties one leaf page per feature: every one
	 * of those pages goes to the WAL and is later checkpointed.  1 KiB
	 * pages make that four times less I/O than SQLite's default 4 KiB. */
	.create_pragmas = "PRAGMA page_size = " TOKENS_PAGE_SIZE,
};

enum {
	ST_GET,
	ST_TOTALS,
	ST_PUT,
	ST_DELETE,
	ST_TOTALS_PUT,
	ST_RECORD,
	ST_FIND,
	ST_FIND_ANY,
	ST_FORGET,
	ST_KEYS,
	ST_DATA_VERSION,
	ST_SCAN_LOW,
	ST_SCAN_HIGH,
	ST_COUNT
};

static const char *const sql[ST_COUNT] = {
	[ST_GET] = "SELECT spam, ham, weight FROM tokens WHERE hash = ?1",
	[ST_TOTALS] = "SELECT spam, ham, bias FROM totals WHERE id = 1",
	[ST_PUT] = "INSERT INTO tokens (hash, spam, ham, weight) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (hash) DO UPDATE SET "
	    "spam = ?2, ham = ?3, weight = ?4",
	[ST_DELETE] = "DELETE FROM tokens WHERE hash = ?1",
	[ST_TOTALS_PUT] = "UPDATE totals SET spam = ?1, ham = ?2, bias = ?3 "
	    "WHERE id = 1",
	[ST_RECORD] = "INSERT INTO trained (msg, is_spam, delta) "
	    "VALUES (?1, ?2, ?3)",
	[ST_FIND] = "SELECT id, delta FROM trained WHERE msg = ?1 AND "
	    "is_spam = ?2 ORDER BY id DESC LIMIT 1",
	[ST_FIND_ANY] = "SELECT is_spam FROM trained WHERE msg = ?1 "
	    "ORDER BY id DESC LIMIT 1",
	[ST_FORGET] = "DELETE FROM trained WHERE id = ?1",
	[ST_KEYS] = "SELECT hash FROM tokens",
	[ST_DATA_VERSION] = "PRAGMA data_version",
	/* The table in the order of the keys as unsigned integers. */
	[ST_SCAN_LOW] = "SELECT hash, spam, ham, weight FROM tokens "
	    "WHERE hash >= 0 ORDER BY hash",
	[ST_SCAN_HIGH] = "SELECT hash, spam, ham, weight FROM tokens "
	    "WHERE hash < 0 ORDER BY hash",
};

/* One feature's counts in the batch cache. */
struct cached {
	uint64_t hash;
	int64_t weight;
	uint32_t spam;
	uint32_t ham;
	unsigned char used;
	unsigned char dirty;	/* changed since read or written */
};

struct tokens {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	int in_batch;
	/* The batch cache (open addressing, linear probing). */
	struct cached *cache;
	size_t slots;		/* a power of two, or 0 */
	size_t used;
	struct token_totals totals;	/* as the batch has them */
	int totals_dirty;
	size_t reads;		/* from SQLite in this batch */
	/* The batch's Bloom filter of the keys in the table, or NULL. */
	uint64_t *presence;
	size_t presence_bits;	/* a power of two */
	/* The table in memory, or NULL; it matches the table as of
	 * PRAGMA data_version snap_version. */
	struct snapshot *snap;
	sqlite3_int64 snap_version;
	sqlite3_int64 seen_version;	/* at the last look */
	unsigned gets;		/* tokens_get calls since seen_version */
	int snap_refused;	/* the table has more than SNAPSHOT_ROWS_MAX */
};

static int
fail(struct tokens *t, const char *what, char **err_r)
{
	char *cause = db_failure(t->db);

	*err_r = xasprintf("token store: %s: %s", what, cause);
	free(cause);
	return -1;
}

/* The prepared statement i, prepared now if not yet; NULL with *err_r. */
static sqlite3_stmt *
stmt(struct tokens *t, int i, char **err_r)
{
	if (t->st[i] == NULL && sqlite3_prepare_v3(t->db, sql[i], -1,
	    SQLITE_PREPARE_PERSISTENT, &t->st[i], NULL) != SQLITE_OK) {
		*err_r = db_failure(t->db);
		return NULL;
	}
	return t->st[i];
}

int
tokens_open(const char *path, struct tokens **t_r, char **err_r)
{
	struct tokens *t = xcalloc(1, sizeof(*t));

	*t_r = NULL;
	if (db_open(path, &schema, &t->db, err_r) < 0)
		goto fail;
	/* The command line opens the store once per message.  Without
	 * fsync the WAL is checkpointed cheaply when the last connection
	 * closes, so the next process finds no WAL to recover (recovering
	 * a large WAL cost more than scoring).  The counts can be rebuilt
	 * by training again; an application crash cannot corrupt them, only
	 * a power loss between a write and the kernel's flush can.
	 *
	 * The -wal and -shm files are kept when the last connection closes
	 * (the WAL emptied, journal_size_limit being set): making and
	 * removing two files per process cost the file system's inode
	 * work, a quarter of a score call's CPU time. */
	if (db_exec(t->db, "PRAGMA synchronous = OFF; "
	    "PRAGMA journal_size_limit = 4194304", err_r) < 0)
		goto fail;
	if (sqlite3_file_control(t->db, "main", SQLITE_FCNTL_PERSIST_WAL,
	    &(int){ 1 }) != SQLITE_OK && strcmp(path, ":memory:") != 0) {
		*err_r = xasprintf("token store %s: cannot keep its WAL file",
		    path);
		goto fail;
	}
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
	snapshot_free(&t->snap);
	t->gets = 0;
	t->snap_refused = 0;
	sqlite3_db_release_memory(t->db);
}

enum state_failure
tokens_failure_kind(struct tokens *t)
{
	return db_failure_kind(t->db);
}

char *
tokens_failure(struct tokens *t)
{
	return db_failure(t->db);
}

void
tokens_close(struct tokens **tp)
{
	struct tokens *t = *tp;

	if (t == NULL)
		return;
	if (t->in_batch)
		tokens_rollback(t);
	snapshot_free(&t->snap);
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

static int
step_done(struct tokens *t, sqlite3_stmt *st, const char *what, char **err_r)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return fail(t, what, err_r);
	return 0;
}

/* Reads one feature's counts (zeros if never seen), from the snapshot
 * if there is one. */
static int
read_counts(struct tokens *t, uint64_t hash, struct token_counts *c,
    char **err_r)
{
	sqlite3_stmt *st;
	int step;

	if (t->snap != NULL) {
		snapshot_get(t->snap, hash, c);
		return 0;
	}
	if ((st = stmt(t, ST_GET, err_r)) == NULL)
		return -1;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)hash);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		c->spam = (uint32_t)sqlite3_column_int64(st, 0);
		c->ham = (uint32_t)sqlite3_column_int64(st, 1);
		c->weight = sqlite3_column_int64(st, 2);
	} else {
		c->spam = c->ham = 0;
		c->weight = 0;
	}
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return fail(t, "reading counts", err_r);
	return 0;
}

/* Inside a transaction: drops the snapshot if another connection
 * changed the table since it was made, and starts counting lookups
 * afresh after any such change. */
static int
snapshot_check(struct tokens *t, char **err_r)
{
	sqlite3_stmt *st = stmt(t, ST_DATA_VERSION, err_r);
	sqlite3_int64 version;

	if (st == NULL)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return fail(t, "reading the data version", err_r);
	}
	version = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (t->snap != NULL && version != t->snap_version)
		snapshot_free(&t->snap);
	if (version != t->seen_version) {
		t->seen_version = version;
		t->gets = 0;
	}
	return 0;
}

/* Inside a read transaction that ran snapshot_check: reads the table
 * into a new snapshot; a table too big for one is left in SQLite. */
static int
snapshot_build(struct tokens *t, char **err_r)
{
	static const int scans[] = { ST_SCAN_LOW, ST_SCAN_HIGH };
	struct snapshot *s = snapshot_new(SNAPSHOT_ROWS_MAX);
	int step = SQLITE_DONE, full = 0;

	for (size_t k = 0; k < 2 && !full; k++) {
		sqlite3_stmt *st = stmt(t, scans[k], err_r);

		if (st == NULL)
			goto fail;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			struct token_counts c = {
				.spam = (uint32_t)sqlite3_column_int64(st, 1),
				.ham = (uint32_t)sqlite3_column_int64(st, 2),
				.weight = sqlite3_column_int64(st, 3),
			};
			if (snapshot_append(s, (uint64_t)sqlite3_column_int64(
			    st, 0), &c) < 0) {
				full = 1;
				break;
			}
		}
		sqlite3_reset(st);
		if (!full && step != SQLITE_DONE) {
			fail(t, "reading the table", err_r);
			goto fail;
		}
	}
	if (full) {
		t->snap_refused = 1;
		snapshot_free(&s);
		return 0;
	}
	snapshot_seal(s);
	t->snap = s;
	t->snap_version = t->seen_version;
	return 0;
fail:
	snapshot_free(&s);
	return -1;
}

/* The slot of hash in the batch cache: its entry, or the free slot
 * where it goes. */
static struct cached *
cache_slot(struct tokens *t, uint64_t hash)
{
	size_t mask = t->slots - 1;
	size_t j = (size_t)(hash ^ (hash >> 29)) & mask;

	while (t->cache[j].used && t->cache[j].hash != hash)
		j = (j + 1) & mask;
	return &t->cache[j];
}

static void
cache_grow(struct tokens *t)
{
	struct cached *old = t->cache;
	size_t nold = t->slots;

	t->slots = nold ? nold * 2 : CACHE_SLOTS_MIN;
	t->cache = xcalloc(t->slots, sizeof(*t->cache));
	for (size_t i = 0; i < nold; i++)
		if (old[i].used)
			*cache_slot(t, old[i].hash) = old[i];
	free(old);
}

static void
cache_clear(struct tokens *t)
{
	free(t->cache);
	t->cache = NULL;
	t->slots = t->used = t->reads = 0;
	t->totals_dirty = 0;
	if (t->presence != NULL)
		sqlite3_exec(t->db, "PRAGMA cache_size = -2000", NULL, NULL,
		    NULL);
	free(t->presence);
	t->presence = NULL;
	t->presence_bits = 0;
}

static void
presence_add(struct tokens *t, uint64_t hash)
{
	size_t mask = t->presence_bits - 1;
	uint64_t h2 = (hash >> 32 | hash << 32) * 0x9e3779b97f4a7c15ULL | 1;

	for (int k = 0; k < 4; k++) {
		size_t bit = (size_t)(hash + (uint64_t)k * h2) & mask;
		t->presence[bit / 64] |= 1ULL << (bit % 64);
	}
}

static int
presence_maybe(const struct tokens *t, uint64_t hash)
{
	size_t mask = t->presence_bits - 1;
	uint64_t h2 = (hash >> 32 | hash << 32) * 0x9e3779b97f4a7c15ULL | 1;

	for (int k = 0; k < 4; k++) {
		size_t bit = (size_t)(hash + (uint64_t)k * h2) & mask;
		if (!(t->presence[bit / 64] & (1ULL << (bit % 64))))
			return 0;
	}
	return 1;
}

/* Builds the Bloom filter from one ordered pass over the table's keys
 * (cheap next to as many random lookups), with room for the rows the
 * batch may still add. */
static int
presence_build(struct tokens *t, char **err_r)
{
	sqlite3_stmt *st = stmt(t, ST_KEYS, err_r);
	size_t rows = 0, bits = 1u << 20;
	int step;

	if (st == NULL)
		return -1;
	/* A bulk batch writes a few hundred thousand rows: a page cache of
	 * 8 MiB instead of 2 keeps the b-tree's inner pages at hand. */
	if (db_exec(t->db, "PRAGMA cache_size = -8192", err_r) < 0)
		return -1;
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		rows++;
	sqlite3_reset(st);
	while (bits < PRESENCE_BITS_MAX && bits < 16 * (rows + 2 * t->used))
		bits *= 2;
	t->presence_bits = bits;
	t->presence = xcalloc(bits / 64, sizeof(*t->presence));
	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		presence_add(t, (uint64_t)sqlite3_column_int64(st, 0));
	sqlite3_reset(st);
	if (step != SQLITE_DONE) {
		free(t->presence);
		t->presence = NULL;
		return fail(t, "reading the keys", err_r);
	}
	return 0;
}

/* Writes the changed entries in the order of the table's key (SQLite
 * compares the hashes as signed integers) and the totals, and empties
 * the cache.  A feature whose counts and weight are back to zero loses
 * its row.  The snapshot takes the same changes when the batch is about
 * to commit (a failed commit rolls back and drops it); written out in
 * the middle of a batch, they would make it differ from what the rest
 * of the batch reads in SQLite, so it is dropped. */
static int
cache_flush(struct tokens *t, int committing, char **err_r)
{
	struct cached *dirty = xreallocarray(NULL, t->used ? t->used : 1,
	    sizeof(*dirty));
	size_t n = 0;
	sqlite3_stmt *st;
	int rc = -1;

	for (size_t i = 0; i < t->slots; i++)
		if (t->cache[i].used && t->cache[i].dirty)
			dirty[n++] = t->cache[i];
	radix_sort(dirty, n, sizeof(*dirty), offsetof(struct cached, hash),
	    1ULL << 63);
	for (size_t i = 0; i < n; i++) {
		const struct cached *e = &dirty[i];
		int gone = e->spam == 0 && e->ham == 0 && e->weight == 0;

		if ((st = stmt(t, gone ? ST_DELETE : ST_PUT, err_r)) == NULL)
			goto out;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)e->hash);
		if (!gone) {
			sqlite3_bind_int64(st, 2, e->spam);
			sqlite3_bind_int64(st, 3, e->ham);
			sqlite3_bind_int64(st, 4, e->weight);
		}
		if (step_done(t, st, "writing counts", err_r) < 0)
			goto out;
		if (!gone && t->presence != NULL)
			presence_add(t, e->hash);
		if (t->snap != NULL && (!committing || snapshot_put(t->snap,
		    e->hash, &(struct token_counts){ .spam = e->spam,
		    .ham = e->ham, .weight = e->weight }) < 0))
			snapshot_free(&t->snap);
	}
	if (t->totals_dirty) {
		if ((st = stmt(t, ST_TOTALS_PUT, err_r)) == NULL)
			goto out;
		sqlite3_bind_int64(st, 1, t->totals.spam);
		sqlite3_bind_int64(st, 2, t->totals.ham);
		sqlite3_bind_int64(st, 3, t->totals.bias);
		if (step_done(t, st, "writing totals", err_r) < 0)
			goto out;
		t->totals_dirty = 0;
	}
	if (t->cache != NULL)
		memset(t->cache, 0, t->slots * sizeof(*t->cache));
	t->used = 0;
	rc = 0;
out:
	free(dirty);
	return rc;
}

/* The cache entry of hash, read from SQLite on first use.  A full cache
 * is written out and emptied first. */
static struct cached *
cache_get(struct tokens *t, uint64_t hash, char **err_r)
{
	struct cached *e;
	struct token_counts c;

	if ((t->used + 1) * 10 > t->slots * 7) {
		if (t->slots < CACHE_SLOTS_MAX) {
			cache_grow(t);
		} else if (cache_flush(t, 0, err_r) < 0) {
			return NULL;
		}
	}
	e = cache_slot(t, hash);
	if (e->used)
		return e;
	if (t->presence == NULL && ++t->reads == PRESENCE_AFTER_READS &&
	    presence_build(t, err_r) < 0)
		return NULL;
	if (t->presence != NULL && !presence_maybe(t, hash)) {
		c.spam = c.ham = 0;
		c.weight = 0;
	} else if (read_counts(t, hash, &c, err_r) < 0) {
		return NULL;
	}
	e->used = 1;
	e->dirty = 0;
	e->hash = hash;
	e->spam = c.spam;
	e->ham = c.ham;
	e->weight = c.weight;
	t->used++;
	return e;
}

int
tokens_get(struct tokens *t, const uint64_t *hashes, size_t n,
    struct token_counts *counts_r, struct token_totals *totals_r,
    char **err_r)
{
	int rc = -1;

	if (t->in_batch) {
		for (size_t i = 0; i < n; i++) {
			struct cached *e = cache_get(t, hashes[i], err_r);
			if (e == NULL)
				return -1;
			counts_r[i].spam = e->spam;
			counts_r[i].ham = e->ham;
			counts_r[i].weight = e->weight;
		}
		*totals_r = t->totals;
		return 0;
	}
	/* One read transaction: a consistent view, and one lock instead
	 * of one per lookup. */
	if (db_exec(t->db, "BEGIN", err_r) < 0)
		return -1;
	if (tokens_totals(t, totals_r, err_r) < 0 ||
	    snapshot_check(t, err_r) < 0)
		goto out;
	if (t->snap == NULL && !t->snap_refused &&
	    ++t->gets >= SNAPSHOT_AFTER_GETS && snapshot_build(t, err_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (read_counts(t, hashes[i], &counts_r[i], err_r) < 0)
			goto out;
	rc = 0;
out:
	sqlite3_exec(t->db, "COMMIT", NULL, NULL, NULL);
	return rc;
}

int
tokens_begin(struct tokens *t, char **err_r)
{
	if (db_exec(t->db, "BEGIN IMMEDIATE", err_r) < 0)
		return -1;
	if (tokens_totals(t, &t->totals, err_r) < 0 ||
	    snapshot_check(t, err_r) < 0) {
		sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	t->in_batch = 1;
	return 0;
}

int
tokens_commit(struct tokens *t, char **err_r)
{
	if (cache_flush(t, 1, err_r) < 0 ||
	    db_exec(t->db, "COMMIT", err_r) < 0) {
		/* It may hold some of the batch's changes. */
		snapshot_free(&t->snap);
		tokens_rollback(t);
		return -1;
	}
	cache_clear(t);
	t->in_batch = 0;
	return 0;
}

void
tokens_rollback(struct tokens *t)
{
	/* A full disk or an I/O error has rolled back already, and a
	 * second ROLLBACK would replace the error with its own. */
	if (!sqlite3_get_autocommit(t->db))
		sqlite3_exec(t->db, "ROLLBACK", NULL, NULL, NULL);
	cache_clear(t);
	t->in_batch = 0;
}

/* Applies sign (+1 or -1) times one message's changes to the features
 * and the totals, in the batch cache.  Taking away counts that are not
 * there means the store does not hold what was recorded: refused. */
static int
apply(struct tokens *t, const uint64_t *hashes, size_t n, int is_spam,
    int sign, int64_t delta, char **err_r)
{
	uint32_t ds = is_spam ? 1 : 0, dh = is_spam ? 0 : 1;

	if (sign < 0 && (t->totals.spam < ds || t->totals.ham < dh))
		goto inconsistent;
	for (size_t i = 0; i < n; i++) {
		struct cached *e = cache_get(t, hashes[i], err_r);

		if (e == NULL)
			return -1;
		if (sign > 0) {
			e->spam += ds;
			e->ham += dh;
			e->weight += delta;
		} else {
			if (e->spam < ds || e->ham < dh)
				goto inconsistent;
			e->spam -= ds;
			e->ham -= dh;
			e->weight -= delta;
		}
		e->dirty = 1;
	}
	if (sign > 0) {
		t->totals.spam += ds;
		t->totals.ham += dh;
		t->totals.bias += delta;
	} else {
		t->totals.spam -= ds;
		t->totals.ham -= dh;
		t->totals.bias -= delta;
	}
	t->totals_dirty = 1;
	return 0;
inconsistent:
	*err_r = xasprintf("token store %s: its counts do not hold a "
	    "training it records (was it edited?); train it anew",
	    sqlite3_db_filename(t->db, "main"));
	return -1;
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
