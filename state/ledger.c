/*
 * ledger.c - the decision ledger in SQLite (see ledger.h).
 *
 * Statements are prepared once per handle and kept (prepare()/release()):
 * a catch-up makes a dozen ledger calls per message, and preparing them
 * each time took longer than running them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/xmem.h"
#include "state/db.h"
#include "state/ledger.h"

static const char *const ledger_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE folders ("
	"  name TEXT PRIMARY KEY,"
	"  uidvalidity INTEGER NOT NULL,"
	"  last_uid INTEGER NOT NULL);"
	"CREATE TABLE messages ("
	"  id INTEGER PRIMARY KEY,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  message_id TEXT,"
	"  first_seen INTEGER NOT NULL,"
	"  trained TEXT NOT NULL DEFAULT '',"
	"  rescued INTEGER NOT NULL DEFAULT 0,"
	"  junk_by_us TEXT);"
	"CREATE INDEX messages_message_id ON messages(message_id);"
	"CREATE TABLE decisions ("
	"  id INTEGER PRIMARY KEY,"
	"  message INTEGER NOT NULL REFERENCES messages(id),"
	"  time INTEGER NOT NULL,"
	"  folder TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  score REAL,"
	"  verdict TEXT,"
	"  rule TEXT,"
	"  actions TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  dest_folder TEXT,"
	"  dest_uid INTEGER,"
	"  error TEXT);"
	"CREATE INDEX decisions_where ON decisions(folder, uidvalidity, uid);"
	"CREATE INDEX decisions_state ON decisions(state);",
	/* 1 -> 2: learning from the owner (agent/learn.c).  seen_in is
	 * where the learner last saw the message (a rescue is a message last
	 * seen in Junk showing up elsewhere); corrections is every change of
	 * a message's training; keywords is the keyword opinion last seen on
	 * each UID, so only changes are looked at. */
	"ALTER TABLE messages ADD COLUMN seen_in TEXT;"
	"CREATE TABLE corrections ("
	"  id INTEGER PRIMARY KEY,"
	"  message INTEGER NOT NULL REFERENCES messages(id),"
	"  time_ms INTEGER NOT NULL,"
	"  folder TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  old_trained TEXT NOT NULL,"
	"  new_trained TEXT NOT NULL);"
	"CREATE INDEX corrections_message ON corrections(message);"
	"CREATE TABLE keywords ("
	"  folder TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  message INTEGER NOT NULL REFERENCES messages(id),"
	"  opinion TEXT NOT NULL,"
	"  PRIMARY KEY (folder, uidvalidity, uid));",
	/* 2 -> 3: how far a plan with several copies got (agent/sort.c),
	 * so that a resumed plan neither copies twice a message that has no
	 * Message-ID to look for nor leaves a copy's flags on the original. */
	"ALTER TABLE decisions ADD COLUMN copies_done INTEGER NOT NULL "
	"  DEFAULT 0;"
	"ALTER TABLE decisions ADD COLUMN temp_flags TEXT;",
	/* 3 -> 4: the classifier's evidence a decision was taken on (JSON,
	 * agent/evidence.h), to explain it after the model has changed. */
	"ALTER TABLE decisions ADD COLUMN evidence TEXT;",
	/* 4 -> 5: where each folder's keyword scan last looked (the
	 * folder's HIGHESTMODSEQ then): an unchanged folder is not read. */
	"CREATE TABLE keyword_scans ("
	"  folder TEXT PRIMARY KEY,"
	"  uidvalidity INTEGER NOT NULL,"
	"  last_uid INTEGER NOT NULL,"
	"  modseq INTEGER NOT NULL);",
	/* 5 -> 6: what the first look at each folder left as found, for the
	 * owner to sort on request (agent/sort.c, run --backlog).  Folders
	 * looked at before were sorted whole: they have no backlog. */
	"ALTER TABLE folders ADD COLUMN backlog_uid INTEGER NOT NULL "
	"  DEFAULT 0;"
	"ALTER TABLE folders ADD COLUMN first_run_since INTEGER NOT NULL "
	"  DEFAULT 0;"
	"ALTER TABLE folders ADD COLUMN backlog_left INTEGER NOT NULL "
	"  DEFAULT 0;",
	/* 6 -> 7: the message's Subject and From as the owner reads them
	 * (decoded, bounded), so status names what it decided on.  Older
	 * decisions have none. */
	"ALTER TABLE decisions ADD COLUMN subject TEXT;"
	"ALTER TABLE decisions ADD COLUMN sender TEXT;",
	/* 7 -> 8: the IDs Sieve's duplicate test (RFC 7352) saw, as hex
	 * SHA-256 of handle and unique ID, with when they were last recorded
	 * (sieve/sieve.h says when: after the message's actions). */
	"CREATE TABLE sieve_duplicates ("
	"  id TEXT PRIMARY KEY,"
	"  seen_at INTEGER NOT NULL);"
	"CREATE INDEX sieve_duplicates_seen_at ON sieve_duplicates(seen_at);",
	/* 8 -> 9: messages whose fetch broke the connection, and how many
	 * times in a row (agent/sort.c gives up on one after a few). */
	"CREATE TABLE unreadable ("
	"  folder TEXT NOT NULL,"
	"  uidvalidity INTEGER NOT NULL,"
	"  uid INTEGER NOT NULL,"
	"  attempts INTEGER NOT NULL,"
	"  time INTEGER NOT NULL,"
	"  error TEXT,"
	"  PRIMARY KEY (folder, uidvalidity, uid));",
	/* 9 -> 10: a decision whose action the server refused is tried
	 * again later (agent/sort.c): how often it was tried, and when the
	 * next try is due (NULL: none). */
	"ALTER TABLE decisions ADD COLUMN attempts INTEGER NOT NULL "
	"  DEFAULT 1;"
	"ALTER TABLE decisions ADD COLUMN retry_at INTEGER;",
	/* 10 -> 11: when a decision was taken, to the millisecond as
	 * corrections are, so that status tells what the owner did after it
	 * from what came before within the same second.  Older decisions
	 * have NULL. */
	"ALTER TABLE decisions ADD COLUMN time_ms INTEGER;",
};

static const struct db_schema ledger_schema = {
	.what = "ledger",
	.application_id = 0x4d534c47,	/* "MSLG" */
	.migrations = ledger_migrations,
	.nmigrations = sizeof(ledger_migrations) / sizeof(*ledger_migrations),
};

static const char *const state_names[] = {
	"pending", "done", "skipped", "failed", "undone"
};

/* Statements prepared once and kept: a catch-up makes a dozen ledger
 * calls per message, and preparing took longer than running them. */
#define STMT_CACHE	48

struct cached_stmt {
	char *sql;		/* owned copy: the key */
	sqlite3_stmt *stmt;
};

struct ledger {
	sqlite3 *db;
	char *error;		/* owned: the last ledger_error() text */
	struct cached_stmt stmts[STMT_CACHE];
	size_t nstmts;
};

const char *
decision_state_name(enum decision_state st)
{
	return state_names[st];
}

static enum decision_state
state_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(state_names) / sizeof(*state_names); i++)
		if (s != NULL && strcmp(s, state_names[i]) == 0)
			return (enum decision_state)i;
	return DECISION_FAILED;
}

int
ledger_open(const char *path, struct ledger **ledger_r, char **err_r)
{
	sqlite3 *db;

	if (db_open(path, &ledger_schema, &db, err_r) < 0)
		return -1;
	*ledger_r = xcalloc(1, sizeof(**ledger_r));
	(*ledger_r)->db = db;
	return 0;
}

void
ledger_release_memory(struct ledger *l)
{
	sqlite3_db_release_memory(l->db);
}

void
ledger_close(struct ledger **ledger)
{
	if (*ledger == NULL)
		return;
	for (size_t i = 0; i < (*ledger)->nstmts; i++) {
		sqlite3_finalize((*ledger)->stmts[i].stmt);
		free((*ledger)->stmts[i].sql);
	}
	db_close(&(*ledger)->db);
	free((*ledger)->error);
	free(*ledger);
	*ledger = NULL;
}

const char *
ledger_error(struct ledger *l)
{
	free(l->error);
	l->error = db_failure(l->db);
	return l->error;
}

enum state_failure
ledger_failure_kind(struct ledger *l)
{
	return db_failure_kind(l->db);
}

static int
exec_simple(struct ledger *l, const char *sql)
{
	return sqlite3_exec(l->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int
ledger_begin(struct ledger *l)
{
	return exec_simple(l, "BEGIN IMMEDIATE");
}

int
ledger_commit(struct ledger *l)
{
	return exec_simple(l, "COMMIT");
}

void
ledger_rollback(struct ledger *l)
{
	/* A full disk or an I/O error has rolled back already, and a
	 * second ROLLBACK would replace the error with "no transaction is
	 * active". */
	if (!sqlite3_get_autocommit(l->db))
		sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
}

static sqlite3_stmt *
prepare(struct ledger *l, const char *sql)
{
	sqlite3_stmt *stmt = NULL;

	for (size_t i = 0; i < l->nstmts; i++)
		if (strcmp(l->stmts[i].sql, sql) == 0) {
			sqlite3_clear_bindings(l->stmts[i].stmt);
			return l->stmts[i].stmt;
		}
	if (sqlite3_prepare_v3(l->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &stmt, NULL) != SQLITE_OK)
		return NULL;
	if (l->nstmts < STMT_CACHE) {
		l->stmts[l->nstmts].sql = xstrdup(sql);
		l->stmts[l->nstmts++].stmt = stmt;
	}
	return stmt;
}

/* Done with a statement from prepare(): reset if kept, else finalized. */
static void
release(struct ledger *l, sqlite3_stmt *stmt)
{
	for (size_t i = 0; i < l->nstmts; i++)
		if (l->stmts[i].stmt == stmt) {
			sqlite3_reset(stmt);
			return;
		}
	release(l, stmt);
}

/* Steps a statement that returns at most one row: 1 (its columns can be
 * read), 0 no row, -1 error.  The caller releases it. */
static int
step_one(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);

	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static void
bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
	if (s == NULL)
		sqlite3_bind_null(stmt, idx);
	else
		sqlite3_bind_text(stmt, idx, s, -1, SQLITE_TRANSIENT);
}

static char *
column_strdup(sqlite3_stmt *stmt, int col)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);

	return s ? xstrdup((const char *)s) : NULL;
}

/* Steps a statement that returns no row, then releases it. */
static int
step_done(struct ledger *l, sqlite3_stmt *stmt)
{
	int rc;

	if (stmt == NULL)
		return -1;
	rc = sqlite3_step(stmt) == SQLITE_DONE ? 0 : -1;
	release(l, stmt);
	return rc;
}

int
ledger_folder_get(struct ledger *l, const char *folder,
    uint32_t *uidvalidity_r, uint32_t *last_uid_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT uidvalidity, last_uid "
	    "FROM folders WHERE name = ?");
	int rc = -1;

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	if ((rc = step_one(stmt)) == 1) {
		*uidvalidity_r = (uint32_t)sqlite3_column_int64(stmt, 0);
		*last_uid_r = (uint32_t)sqlite3_column_int64(stmt, 1);
	}
	release(l, stmt);
	return rc;
}

int
ledger_folder_set(struct ledger *l, const char *folder, uint32_t uidvalidity,
    uint32_t last_uid)
{
	sqlite3_stmt *stmt = prepare(l, "INSERT INTO folders "
	    "(name, uidvalidity, last_uid) VALUES (?, ?, ?) "
	    "ON CONFLICT(name) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
	    " last_uid = excluded.last_uid");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, last_uid);
	return step_done(l, stmt);
}

int
ledger_backlog_get(struct ledger *l, const char *folder,
    struct ledger_backlog *b_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT backlog_uid, first_run_since, "
	    "backlog_left FROM folders WHERE name = ?");
	int rc;

	memset(b_r, 0, sizeof(*b_r));
	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	if ((rc = step_one(stmt)) == 1) {
		b_r->uid_max = (uint32_t)sqlite3_column_int64(stmt, 0);
		b_r->since = sqlite3_column_int64(stmt, 1);
		b_r->left = (uint32_t)sqlite3_column_int64(stmt, 2);
	}
	release(l, stmt);
	return rc;
}

int
ledger_unreadable_get(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid, int *attempts_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT attempts FROM unreadable "
	    "WHERE folder = ? AND uidvalidity = ? AND uid = ?");
	int rc;

	*attempts_r = 0;
	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, uid);
	if ((rc = step_one(stmt)) == 1)
		*attempts_r = sqlite3_column_int(stmt, 0);
	release(l, stmt);
	return rc < 0 ? -1 : 0;
}

int
ledger_unreadable_note(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid, const char *error)
{
	sqlite3_stmt *stmt = prepare(l, "INSERT INTO unreadable "
	    "(folder, uidvalidity, uid, attempts, time, error) "
	    "VALUES (?, ?, ?, 1, ?, ?) "
	    "ON CONFLICT(folder, uidvalidity, uid) DO UPDATE SET "
	    "attempts = attempts + 1, time = excluded.time, "
	    "error = excluded.error");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, uid);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)time(NULL));
	bind_text(stmt, 5, error);
	return step_done(l, stmt);
}

int
ledger_unreadable_forget(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid)
{
	sqlite3_stmt *stmt = prepare(l, "DELETE FROM unreadable "
	    "WHERE folder = ? AND uidvalidity = ? AND uid = ?");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, uid);
	return step_done(l, stmt);
}

int
ledger_backlog_set(struct ledger *l, const char *folder,
    const struct ledger_backlog *b)
{
	sqlite3_stmt *stmt = prepare(l, "UPDATE folders SET backlog_uid = ?, "
	    "first_run_since = ?, backlog_left = ? WHERE name = ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, b->uid_max);
	sqlite3_bind_int64(stmt, 2, b->since);
	sqlite3_bind_int64(stmt, 3, b->left);
	bind_text(stmt, 4, folder);
	return step_done(l, stmt);
}

int
ledger_keyword_scan_get(struct ledger *l, const char *folder,
    struct ledger_keyword_scan *scan_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT uidvalidity, last_uid, "
	    "modseq FROM keyword_scans WHERE folder = ?");
	int rc = -1;

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	if ((rc = step_one(stmt)) == 1) {
		scan_r->uidvalidity = (uint32_t)sqlite3_column_int64(stmt, 0);
		scan_r->last_uid = (uint32_t)sqlite3_column_int64(stmt, 1);
		scan_r->modseq = (uint64_t)sqlite3_column_int64(stmt, 2);
	}
	release(l, stmt);
	return rc;
}

int
ledger_keyword_scan_set(struct ledger *l, const char *folder,
    const struct ledger_keyword_scan *scan)
{
	sqlite3_stmt *stmt = prepare(l, "INSERT OR REPLACE INTO keyword_scans "
	    "(folder, uidvalidity, last_uid, modseq) VALUES (?, ?, ?, ?)");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, scan->uidvalidity);
	sqlite3_bind_int64(stmt, 3, scan->last_uid);
	sqlite3_bind_int64(stmt, 4, (sqlite3_int64)scan->modseq);
	return step_done(l, stmt);
}

int
ledger_message_id_from_junk(struct ledger *l, const char *message_id,
    const char *junk)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT 1 FROM messages WHERE "
	    "message_id = ? AND (seen_in = ? OR (junk_by_us IS NOT NULL AND "
	    "rescued = 0)) LIMIT 1");
	int rc = -1;

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, message_id);
	bind_text(stmt, 2, junk);
	rc = step_one(stmt);
	release(l, stmt);
	return rc;
}

int
ledger_message_find(struct ledger *l, const char *hash,
    struct ledger_message *m_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT id, message_id, trained, "
	    "rescued, junk_by_us, (SELECT count(*) FROM decisions d WHERE "
	    "d.message = messages.id AND d.state != 'pending'), seen_in "
	    "FROM messages WHERE hash = ?");
	const unsigned char *trained;
	int rc = -1;

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, hash);
	switch (sqlite3_step(stmt)) {
	case SQLITE_ROW:
		memset(m_r, 0, sizeof(*m_r));
		m_r->id = sqlite3_column_int64(stmt, 0);
		snprintf(m_r->hash, sizeof(m_r->hash), "%s", hash);
		m_r->message_id = column_strdup(stmt, 1);
		trained = sqlite3_column_text(stmt, 2);
		snprintf(m_r->trained, sizeof(m_r->trained), "%s",
		    trained ? (const char *)trained : "");
		m_r->rescued = sqlite3_column_int(stmt, 3);
		m_r->junk_by_us = column_strdup(stmt, 4);
		m_r->decided = sqlite3_column_int(stmt, 5);
		m_r->seen_in = column_strdup(stmt, 6);
		rc = 1;
		break;
	case SQLITE_DONE:
		rc = 0;
		break;
	}
	release(l, stmt);
	return rc;
}

int
ledger_message_add(struct ledger *l, const char *hash, const char *message_id,
    int64_t *id_r)
{
	sqlite3_stmt *stmt = prepare(l, "INSERT INTO messages "
	    "(hash, message_id, first_seen) VALUES (?, ?, ?) "
	    "ON CONFLICT(hash) DO UPDATE SET hash = hash RETURNING id");
	int rc = -1;

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, hash);
	bind_text(stmt, 2, message_id);
	sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL));
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		*id_r = sqlite3_column_int64(stmt, 0);
		rc = 0;
	}
	release(l, stmt);
	return rc;
}

static int
message_set(struct ledger *l, int64_t id, const char *sql, const char *text,
    int number)
{
	sqlite3_stmt *stmt = prepare(l, sql);

	if (stmt == NULL)
		return -1;
	if (text != NULL || number < 0)
		bind_text(stmt, 1, text);
	else
		sqlite3_bind_int(stmt, 1, number);
	sqlite3_bind_int64(stmt, 2, id);
	return step_done(l, stmt);
}

int
ledger_message_set_trained(struct ledger *l, int64_t id, const char *trained)
{
	return message_set(l, id, "UPDATE messages SET trained = ? "
	    "WHERE id = ?", trained, 0);
}

int
ledger_message_set_rescued(struct ledger *l, int64_t id, int rescued)
{
	return message_set(l, id, "UPDATE messages SET rescued = ? "
	    "WHERE id = ?", NULL, rescued ? 1 : 0);
}

int
ledger_message_set_junk_by_us(struct ledger *l, int64_t id,
    const char *folder)
{
	return message_set(l, id, "UPDATE messages SET junk_by_us = ? "
	    "WHERE id = ?", folder, -1);
}

int
ledger_message_set_seen_in(struct ledger *l, int64_t id, const char *folder)
{
	return message_set(l, id, "UPDATE messages SET seen_in = ? "
	    "WHERE id = ?", folder, -1);
}

void
ledger_message_release(struct ledger_message *m)
{
	free(m->message_id);
	free(m->junk_by_us);
	free(m->seen_in);
	m->message_id = m->junk_by_us = m->seen_in = NULL;
}

/* Unix time in milliseconds, as decisions and corrections record it. */
static int64_t
now_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

int
ledger_decision_begin(struct ledger *l, const struct ledger_decision *d,
    int64_t *id_r)
{
	sqlite3_stmt *stmt = prepare(l, "INSERT INTO decisions (message, time,"
	    " folder, uidvalidity, uid, score, verdict, rule, actions, "
	    "evidence, subject, sender, time_ms, state) VALUES (?, ?, ?, ?, "
	    "?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')");
	int64_t now = now_ms();
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, d->message);
	sqlite3_bind_int64(stmt, 2, now / 1000);
	bind_text(stmt, 3, d->folder);
	sqlite3_bind_int64(stmt, 4, d->uidvalidity);
	sqlite3_bind_int64(stmt, 5, d->uid);
	if (d->score < 0)
		sqlite3_bind_null(stmt, 6);
	else
		sqlite3_bind_double(stmt, 6, d->score);
	bind_text(stmt, 7, d->verdict);
	bind_text(stmt, 8, d->rule);
	bind_text(stmt, 9, d->actions ? d->actions : "");
	bind_text(stmt, 10, d->evidence);
	bind_text(stmt, 11, d->subject);
	bind_text(stmt, 12, d->sender);
	sqlite3_bind_int64(stmt, 13, now);
	rc = step_done(l, stmt);
	if (rc == 0)
		*id_r = sqlite3_last_insert_rowid(l->db);
	return rc;
}

int
ledger_decision_finish(struct ledger *l, int64_t id, enum decision_state state,
    const char *dest_folder, uint32_t dest_uid, const char *error)
{
	sqlite3_stmt *stmt = prepare(l, "UPDATE decisions SET state = ?, "
	    "dest_folder = ?, dest_uid = ?, error = ?, retry_at = NULL "
	    "WHERE id = ?");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, state_names[state]);
	bind_text(stmt, 2, dest_folder);
	if (dest_uid == 0)
		sqlite3_bind_null(stmt, 3);
	else
		sqlite3_bind_int64(stmt, 3, dest_uid);
	bind_text(stmt, 4, error);
	sqlite3_bind_int64(stmt, 5, id);
	return step_done(l, stmt);
}

int
ledger_decision_progress(struct ledger *l, int64_t id, int copies_done,
    const char *temp_flags)
{
	sqlite3_stmt *stmt = prepare(l, "UPDATE decisions SET copies_done = "
	    "?, temp_flags = ? WHERE id = ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, copies_done);
	bind_text(stmt, 2, temp_flags);
	sqlite3_bind_int64(stmt, 3, id);
	return step_done(l, stmt);
}

int
ledger_decision_retry_at(struct ledger *l, int64_t id, int64_t when)
{
	sqlite3_stmt *stmt = prepare(l, "UPDATE decisions SET retry_at = ? "
	    "WHERE id = ? AND state = 'failed'");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, when);
	sqlite3_bind_int64(stmt, 2, id);
	return step_done(l, stmt);
}

int
ledger_decision_reopen(struct ledger *l, int64_t id)
{
	sqlite3_stmt *stmt = prepare(l, "UPDATE decisions SET state = "
	    "'pending', attempts = attempts + 1, retry_at = NULL WHERE id = ? "
	    "AND state = 'failed'");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	return step_done(l, stmt);
}

int
ledger_flags_in_flight(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT count(*) FROM decisions "
	    "WHERE folder = ? AND uidvalidity = ? AND uid = ? AND "
	    "temp_flags IS NOT NULL AND state IN ('pending', 'failed')");
	int rc = -1;

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, uid);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		rc = sqlite3_column_int(stmt, 0) > 0;
	release(l, stmt);
	return rc;
}

#define DECISION_COLUMNS "d.id, d.message, d.time, d.folder, d.uidvalidity, " \
	"d.uid, d.score, d.verdict, d.rule, d.actions, d.state, " \
	"d.dest_folder, d.dest_uid, d.error, m.message_id, m.hash, " \
	"d.copies_done, d.temp_flags, d.evidence, d.subject, d.sender, " \
	"d.attempts, d.retry_at, coalesce(d.time_ms, d.time * 1000)"

static void
decision_read(sqlite3_stmt *stmt, struct ledger_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(stmt, 0);
	d->message = sqlite3_column_int64(stmt, 1);
	d->time = sqlite3_column_int64(stmt, 2);
	d->folder = column_strdup(stmt, 3);
	d->uidvalidity = (uint32_t)sqlite3_column_int64(stmt, 4);
	d->uid = (uint32_t)sqlite3_column_int64(stmt, 5);
	d->score = sqlite3_column_type(stmt, 6) == SQLITE_NULL ? -1 :
	    sqlite3_column_double(stmt, 6);
	d->verdict = column_strdup(stmt, 7);
	d->rule = column_strdup(stmt, 8);
	d->actions = column_strdup(stmt, 9);
	d->state = state_parse((const char *)sqlite3_column_text(stmt, 10));
	d->dest_folder = column_strdup(stmt, 11);
	d->dest_uid = (uint32_t)sqlite3_column_int64(stmt, 12);
	d->error = column_strdup(stmt, 13);
	d->message_id = column_strdup(stmt, 14);
	d->hash = column_strdup(stmt, 15);
	d->copies_done = sqlite3_column_int(stmt, 16);
	d->temp_flags = column_strdup(stmt, 17);
	d->evidence = column_strdup(stmt, 18);
	d->subject = column_strdup(stmt, 19);
	d->sender = column_strdup(stmt, 20);
	d->attempts = sqlite3_column_int(stmt, 21);
	d->retry_at = sqlite3_column_type(stmt, 22) == SQLITE_NULL ? 0 :
	    sqlite3_column_int64(stmt, 22);
	d->time_ms = sqlite3_column_int64(stmt, 23);
}

/* Reads the one row stmt may return (released here): 1 found, 0 none,
 * -1 error. */
static int
decision_one(struct ledger *l, sqlite3_stmt *stmt,
    struct ledger_decision *d_r)
{
	int rc = -1;

	switch (sqlite3_step(stmt)) {
	case SQLITE_ROW:
		decision_read(stmt, d_r);
		rc = 1;
		break;
	case SQLITE_DONE:
		rc = 0;
		break;
	}
	release(l, stmt);
	return rc;
}

/* Collects every row of stmt (released here). */
static int
decisions_collect(struct ledger *l, sqlite3_stmt *stmt,
    struct ledger_decision **v_r, size_t *n_r)
{
	struct ledger_decision *v = NULL;
	size_t n = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		decision_read(stmt, &v[n++]);
	}
	release(l, stmt);
	if (rc != SQLITE_DONE) {
		ledger_decisions_free(v, n);
		return -1;
	}
	*v_r = v;
	*n_r = n;
	return 0;
}

int
ledger_decision_get(struct ledger *l, int64_t id, struct ledger_decision *d_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT " DECISION_COLUMNS
	    " FROM decisions d JOIN messages m ON m.id = d.message"
	    " WHERE d.id = ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	return decision_one(l, stmt, d_r);
}

int
ledger_decision_pending(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid, struct ledger_decision *d_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT " DECISION_COLUMNS
	    " FROM decisions d JOIN messages m ON m.id = d.message"
	    " WHERE d.folder = ? AND d.uidvalidity = ? AND d.uid = ?"
	    " AND d.state = 'pending' ORDER BY d.id DESC LIMIT 1");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, uid);
	return decision_one(l, stmt, d_r);
}

int
ledger_decisions_pending_in(struct ledger *l, const char *folder,
    struct ledger_decision **v_r, size_t *n_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT " DECISION_COLUMNS
	    " FROM decisions d JOIN messages m ON m.id = d.message"
	    " WHERE d.folder = ? AND d.state = 'pending' ORDER BY d.id");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	return decisions_collect(l, stmt, v_r, n_r);
}

int
ledger_decisions_due(struct ledger *l, const char *folder,
    uint32_t uidvalidity, int64_t now, struct ledger_decision **v_r,
    size_t *n_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT " DECISION_COLUMNS
	    " FROM decisions d JOIN messages m ON m.id = d.message"
	    " WHERE d.folder = ? AND d.uidvalidity = ? AND d.state = 'failed'"
	    " AND d.retry_at IS NOT NULL AND d.retry_at <= ? ORDER BY d.id");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, now);
	return decisions_collect(l, stmt, v_r, n_r);
}

int
ledger_decisions_recent(struct ledger *l, int n, struct ledger_decision **v_r,
    size_t *n_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT " DECISION_COLUMNS
	    " FROM decisions d JOIN messages m ON m.id = d.message"
	    " ORDER BY d.id DESC LIMIT ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int(stmt, 1, n);
	return decisions_collect(l, stmt, v_r, n_r);
}

void
ledger_decision_release(struct ledger_decision *d)
{
	free(d->folder);
	free(d->verdict);
	free(d->rule);
	free(d->actions);
	free(d->dest_folder);
	free(d->error);
	free(d->message_id);
	free(d->hash);
	free(d->temp_flags);
	free(d->evidence);
	free(d->subject);
	free(d->sender);
	memset(d, 0, sizeof(*d));
}

void
ledger_decisions_free(struct ledger_decision *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ledger_decision_release(&v[i]);
	free(v);
}

int
ledger_correction_add(struct ledger *l, const struct ledger_correction *c,
    int64_t *id_r)
{
	sqlite3_stmt *stmt = prepare(l, "INSERT INTO corrections (message, "
	    "time_ms, folder, uidvalidity, uid, reason, old_trained, "
	    "new_trained) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, c->message);
	sqlite3_bind_int64(stmt, 2, c->time_ms ? c->time_ms : now_ms());
	bind_text(stmt, 3, c->folder);
	sqlite3_bind_int64(stmt, 4, c->uidvalidity);
	sqlite3_bind_int64(stmt, 5, c->uid);
	bind_text(stmt, 6, c->reason);
	bind_text(stmt, 7, c->old_trained);
	bind_text(stmt, 8, c->new_trained);
	rc = step_done(l, stmt);
	if (rc == 0 && id_r != NULL)
		*id_r = sqlite3_last_insert_rowid(l->db);
	return rc;
}

int
ledger_correction_delete(struct ledger *l, int64_t id)
{
	sqlite3_stmt *stmt = prepare(l, "DELETE FROM corrections WHERE id = ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, id);
	return step_done(l, stmt);
}

int
ledger_corrections_recent(struct ledger *l, int64_t message, int n,
    struct ledger_correction **v_r, size_t *n_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT c.id, c.message, c.time_ms, "
	    "c.folder, c.uidvalidity, c.uid, c.reason, c.old_trained, "
	    "c.new_trained, m.message_id FROM corrections c "
	    "JOIN messages m ON m.id = c.message "
	    "WHERE ? = 0 OR c.message = ? ORDER BY c.id DESC LIMIT ?");
	struct ledger_correction *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, message);
	sqlite3_bind_int64(stmt, 2, message);
	sqlite3_bind_int(stmt, 3, n > 0 ? n : -1);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		struct ledger_correction *c;
		const unsigned char *t;

		if (cnt == cap) {
			cap = cap ? cap * 2 : 8;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		c = &v[cnt++];
		memset(c, 0, sizeof(*c));
		c->id = sqlite3_column_int64(stmt, 0);
		c->message = sqlite3_column_int64(stmt, 1);
		c->time_ms = sqlite3_column_int64(stmt, 2);
		c->folder = column_strdup(stmt, 3);
		c->uidvalidity = (uint32_t)sqlite3_column_int64(stmt, 4);
		c->uid = (uint32_t)sqlite3_column_int64(stmt, 5);
		c->reason = column_strdup(stmt, 6);
		t = sqlite3_column_text(stmt, 7);
		snprintf(c->old_trained, sizeof(c->old_trained), "%s",
		    t ? (const char *)t : "");
		t = sqlite3_column_text(stmt, 8);
		snprintf(c->new_trained, sizeof(c->new_trained), "%s",
		    t ? (const char *)t : "");
		c->message_id = column_strdup(stmt, 9);
	}
	release(l, stmt);
	if (rc != SQLITE_DONE) {
		ledger_corrections_free(v, cnt);
		return -1;
	}
	*v_r = v;
	*n_r = cnt;
	return 0;
}

void
ledger_corrections_free(struct ledger_correction *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].folder);
		free(v[i].reason);
		free(v[i].message_id);
	}
	free(v);
}

int
ledger_keywords_in(struct ledger *l, const char *folder, uint32_t uidvalidity,
    struct ledger_keyword **v_r, size_t *n_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT uid, message, opinion "
	    "FROM keywords WHERE folder = ? AND uidvalidity = ? ORDER BY uid");
	struct ledger_keyword *v = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(stmt, 2);

		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[cnt].uid = (uint32_t)sqlite3_column_int64(stmt, 0);
		v[cnt].message = sqlite3_column_int64(stmt, 1);
		snprintf(v[cnt].opinion, sizeof(v[cnt].opinion), "%s",
		    t ? (const char *)t : "");
		cnt++;
	}
	release(l, stmt);
	if (rc != SQLITE_DONE) {
		free(v);
		return -1;
	}
	*v_r = v;
	*n_r = cnt;
	return 0;
}

int
ledger_keyword_set(struct ledger *l, const char *folder, uint32_t uidvalidity,
    uint32_t uid, int64_t message, const char *opinion)
{
	sqlite3_stmt *stmt = prepare(l, "INSERT INTO keywords (folder, "
	    "uidvalidity, uid, message, opinion) VALUES (?, ?, ?, ?, ?) "
	    "ON CONFLICT(folder, uidvalidity, uid) DO UPDATE SET "
	    "message = excluded.message, opinion = excluded.opinion");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	sqlite3_bind_int64(stmt, 3, uid);
	sqlite3_bind_int64(stmt, 4, message);
	bind_text(stmt, 5, opinion);
	return step_done(l, stmt);
}

int
ledger_keyword_forget(struct ledger *l, const char *folder,
    uint32_t uidvalidity, uint32_t uid)
{
	sqlite3_stmt *stmt = prepare(l, uid == 0 ?
	    "DELETE FROM keywords WHERE folder = ? AND uidvalidity != ?" :
	    "DELETE FROM keywords WHERE folder = ? AND uidvalidity = ? "
	    "AND uid = ?");

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, folder);
	sqlite3_bind_int64(stmt, 2, uidvalidity);
	if (uid != 0)
		sqlite3_bind_int64(stmt, 3, uid);
	return step_done(l, stmt);
}

int
ledger_duplicate_get(struct ledger *l, const char *id, long long *seen_at_r)
{
	sqlite3_stmt *stmt = prepare(l, "SELECT seen_at FROM sieve_duplicates "
	    "WHERE id = ?");
	int rc;

	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, id);
	if ((rc = step_one(stmt)) == 1)
		*seen_at_r = (long long)sqlite3_column_int64(stmt, 0);
	release(l, stmt);
	return rc;
}

int
ledger_duplicate_mark(struct ledger *l, const char *id, long long t,
    long long max_age)
{
	sqlite3_stmt *stmt = prepare(l, "DELETE FROM sieve_duplicates WHERE "
	    "seen_at < ?");

	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, (sqlite3_int64)(t - max_age));
	if (step_done(l, stmt) < 0)
		return -1;
	stmt = prepare(l, "INSERT OR REPLACE INTO sieve_duplicates (id, "
	    "seen_at) VALUES (?, ?)");
	if (stmt == NULL)
		return -1;
	bind_text(stmt, 1, id);
	sqlite3_bind_int64(stmt, 2, (sqlite3_int64)t);
	return step_done(l, stmt);
}
