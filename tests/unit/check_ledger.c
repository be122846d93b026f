/*
 * check_ledger.c - the decision ledger (state/ledger.c) on its own: a
 * ledger written by the first schema is upgraded in place with its rows
 * kept; decisions, corrections and keyword records read back as written.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/xmem.h"
#include "state/ledger.h"
#include "tests/unit/unit.h"

static char dir[64];
static char *path;

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_ledger.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/ledger.db", dir);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	free(path);
}

static const char hash_a[] =
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

START_TEST(first_schema_is_upgraded_with_its_rows)
{
	struct ledger *l = NULL;
	struct ledger_message m = { 0 };
	struct ledger_decision d = { 0 };
	struct ledger_backlog b;
	char *err = NULL;
	sqlite3 *db;

	/* A ledger as the first release wrote it (schema version 1). */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
	    "CREATE TABLE folders (name TEXT PRIMARY KEY,"
	    "  uidvalidity INTEGER NOT NULL, last_uid INTEGER NOT NULL);"
	    "CREATE TABLE messages (id INTEGER PRIMARY KEY,"
	    "  hash TEXT NOT NULL UNIQUE, message_id TEXT,"
	    "  first_seen INTEGER NOT NULL,"
	    "  trained TEXT NOT NULL DEFAULT '',"
	    "  rescued INTEGER NOT NULL DEFAULT 0, junk_by_us TEXT);"
	    "CREATE INDEX messages_message_id ON messages(message_id);"
	    "CREATE TABLE decisions (id INTEGER PRIMARY KEY,"
	    "  message INTEGER NOT NULL REFERENCES messages(id),"
	    "  time INTEGER NOT NULL, folder TEXT NOT NULL,"
	    "  uidvalidity INTEGER NOT NULL, uid INTEGER NOT NULL,"
	    "  score REAL, verdict TEXT, rule TEXT, actions TEXT NOT NULL,"
	    "  state TEXT NOT NULL, dest_folder TEXT, dest_uid INTEGER,"
	    "  error TEXT);"
	    "CREATE INDEX decisions_where ON decisions(folder, uidvalidity, "
	    "  uid);"
	    "CREATE INDEX decisions_state ON decisions(state);"
	    "INSERT INTO folders VALUES ('INBOX', 7, 42);"
	    "INSERT INTO messages (hash, message_id, first_seen, trained, "
	    "  junk_by_us) VALUES ('" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '<a@b>', 1, 'spam', 'Junk');"
	    "INSERT INTO decisions (message, time, folder, uidvalidity, uid, "
	    "  actions, state) VALUES (1, 1, 'INBOX', 7, 42, 'move', 'done');"
	    "PRAGMA user_version = 1; PRAGMA application_id = 1297304647;",
	    NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	ck_assert_msg(ledger_open(path, &l, &err) == 0, "%s", err);
	ck_assert_int_eq(ledger_message_find(l, hash_a, &m), 1);
	ck_assert_str_eq(m.trained, "spam");
	ck_assert_str_eq(m.junk_by_us, "Junk");
	ck_assert_int_eq(m.decided, 1);
	ck_assert_ptr_null(m.seen_in);
	ledger_message_release(&m);
	/* A decision recorded in seconds reads as that second's start. */
	ck_assert_int_eq(ledger_decision_get(l, 1, &d), 1);
	ck_assert_int_eq(d.time, 1);
	ck_assert_int_eq(d.time_ms, 1000);
	ledger_decision_release(&d);
	ck_assert_int_eq(ledger_message_set_seen_in(l, 1, "Junk"), 0);
	ck_assert_int_eq(ledger_message_find(l, hash_a, &m), 1);
	ck_assert_str_eq(m.seen_in, "Junk");
	ledger_message_release(&m);
	/* A folder sorted whole by an older version has no backlog. */
	ck_assert_int_eq(ledger_backlog_get(l, "INBOX", &b), 1);
	ck_assert_uint_eq(b.uid_max, 0);
	ck_assert_uint_eq(b.left, 0);
	b = (struct ledger_backlog){ .uid_max = 40, .since = 1000,
	    .left = 12 };
	ck_assert_int_eq(ledger_backlog_set(l, "INBOX", &b), 0);
	ck_assert_int_eq(ledger_folder_set(l, "INBOX", 7, 43), 0);
	memset(&b, 0, sizeof(b));
	ck_assert_int_eq(ledger_backlog_get(l, "INBOX", &b), 1);
	ck_assert_uint_eq(b.uid_max, 40);
	ck_assert_int_eq(b.since, 1000);
	ck_assert_uint_eq(b.left, 12);
	ck_assert_int_eq(ledger_backlog_get(l, "Other", &b), 0);
	ledger_close(&l);
}
END_TEST

START_TEST(decisions_read_back_with_hash_and_undone_state)
{
	struct ledger *l = NULL;
	struct ledger_decision d = { .folder = "INBOX", .uidvalidity = 3,
	    .uid = 9, .score = 0.25, .verdict = "ham", .rule = "r",
	    .actions = "keep", .subject = "Rechnung f\xc3\xbcr Dezember",
	    .sender = "J\xc3\xb6rg <j@example.org>" }, got = { 0 };
	char *err = NULL;
	int64_t id;

	ck_assert_msg(ledger_open(path, &l, &err) == 0, "%s", err);
	ck_assert_int_eq(ledger_message_add(l, hash_a, "<a@b>", &d.message),
	    0);
	ck_assert_int_eq(ledger_decision_begin(l, &d, &id), 0);
	ck_assert_int_eq(ledger_decision_finish(l, id, DECISION_UNDONE,
	    "Lists", 5, NULL), 0);
	ck_assert_int_eq(ledger_decision_get(l, id, &got), 1);
	ck_assert_int_eq(got.state, DECISION_UNDONE);
	ck_assert_str_eq(decision_state_name(got.state), "undone");
	ck_assert_str_eq(got.hash, hash_a);
	ck_assert_str_eq(got.message_id, "<a@b>");
	ck_assert_str_eq(got.dest_folder, "Lists");
	ck_assert_uint_eq(got.dest_uid, 5);
	ck_assert_str_eq(got.subject, "Rechnung f\xc3\xbcr Dezember");
	ck_assert_str_eq(got.sender, "J\xc3\xb6rg <j@example.org>");
	/* Milliseconds, within the second it records. */
	ck_assert_int_eq(got.time_ms / 1000, got.time);
	ledger_decision_release(&got);
	ck_assert_int_eq(ledger_decision_get(l, id + 1, &got), 0);
	ledger_close(&l);
}
END_TEST

START_TEST(corrections_and_keywords_read_back)
{
	struct ledger *l = NULL;
	struct ledger_correction c = { .folder = "Junk", .uidvalidity = 4,
	    .uid = 2, .reason = "moved into Junk by the owner",
	    .old_trained = "", .new_trained = "spam" }, *v;
	struct ledger_keyword *k;
	char *err = NULL;
	int64_t msg, cid;
	size_t n;

	ck_assert_msg(ledger_open(path, &l, &err) == 0, "%s", err);
	ck_assert_int_eq(ledger_message_add(l, hash_a, "<a@b>", &msg), 0);
	c.message = msg;
	ck_assert_int_eq(ledger_correction_add(l, &c, &cid), 0);
	snprintf(c.old_trained, sizeof(c.old_trained), "spam");
	snprintf(c.new_trained, sizeof(c.new_trained), "ham");
	ck_assert_int_eq(ledger_correction_add(l, &c, NULL), 0);
	ck_assert_int_eq(ledger_corrections_recent(l, msg, 0, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[0].new_trained, "ham");	/* newest first */
	ck_assert_str_eq(v[1].old_trained, "");
	ck_assert_str_eq(v[1].message_id, "<a@b>");
	ck_assert(v[1].time_ms > 1700000000000LL);
	ledger_corrections_free(v, n);
	ck_assert_int_eq(ledger_correction_delete(l, cid), 0);
	ck_assert_int_eq(ledger_corrections_recent(l, 0, 5, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ledger_corrections_free(v, n);

	ck_assert_int_eq(ledger_keyword_set(l, "INBOX", 4, 30, msg, "ham"), 0);
	ck_assert_int_eq(ledger_keyword_set(l, "INBOX", 4, 10, msg, "both"),
	    0);
	ck_assert_int_eq(ledger_keyword_set(l, "INBOX", 3, 20, msg, "spam"),
	    0);
	ck_assert_int_eq(ledger_keyword_set(l, "INBOX", 4, 30, msg, "spam"),
	    0);
	ck_assert_int_eq(ledger_keywords_in(l, "INBOX", 4, &k, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(k[0].uid, 10);
	ck_assert_str_eq(k[1].opinion, "spam");
	free(k);
	/* Forget other UIDVALIDITYs, then one uid. */
	ck_assert_int_eq(ledger_keyword_forget(l, "INBOX", 4, 0), 0);
	ck_assert_int_eq(ledger_keywords_in(l, "INBOX", 3, &k, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(k);
	ck_assert_int_eq(ledger_keyword_forget(l, "INBOX", 4, 10), 0);
	ck_assert_int_eq(ledger_keywords_in(l, "INBOX", 4, &k, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(k[0].uid, 30);
	free(k);
	ledger_close(&l);
}
END_TEST

static Suite *
ledger_suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *tc = tcase_create("ledger");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, first_schema_is_upgraded_with_its_rows);
	tcase_add_test(tc, decisions_read_back_with_hash_and_undone_state);
	tcase_add_test(tc, corrections_and_keywords_read_back);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(ledger_suite)
