/*
 * check_sort.c - the sorting engine (agent/sort.c) over the in-memory
 * store, a real ledger, the real classifier and the real Sieve layer:
 * final folder contents and ledger rows, including crash and disconnect
 * points injected by store_mem.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/filter.h"
#include "agent/xmem.h"
#include "agent/message.h"
#include "agent/sort.h"
#include "agent/store_mem.h"
#include "sieve/sieve.h"
#include "state/ledger.h"
#include "tests/unit/unit.h"
#include "tests/unit/unit_mailbox.h"

struct fixture {
	char dir[64];
	struct store *store;
	struct ledger *ledger;
	struct filter *filter;
	struct sieve_script *script;
	struct sorter sorter;
	struct sort_stats stats;
};

static struct fixture fx;

static void
setup(void)
{
	memset(&fx, 0, sizeof(fx));
	unit_mailbox_open("check_sort", fx.dir, sizeof(fx.dir), &fx.store,
	    &fx.ledger);
	fx.sorter = (struct sorter){
		.store = fx.store, .ledger = fx.ledger, .junk = "Junk",
		.trash = "Trash", .spam_threshold = 0.9,
		.ham_threshold = 0.1, .max_message_bytes = 1 << 20,
	};
}

static void
teardown(void)
{
	sieve_script_free(&fx.script);
	filter_close(&fx.filter);
	unit_mailbox_close(fx.dir, &fx.store, &fx.ledger);
}

static void
use_script(const char *text)
{
	char *errors = NULL;

	ck_assert_msg(sieve_script_parse("test.sieve", text, &fx.script,
	    &errors) == 0, "script: %s", errors);
	fx.sorter.script = fx.script;
}

static char *
make_message(const char *id, const char *subject, const char *body)
{
	return xasprintf("From: someone@sender.example\r\n"
	    "To: owner@example.org\r\nMessage-ID: <%s@test>\r\n"
	    "Subject: %s\r\n\r\n%s\r\n", id, subject, body);
}

static uint32_t
append(const char *box, const char *id, const char *subject)
{
	char *m = make_message(id, subject, "some text");
	uint32_t uid = store_mem_append(fx.store, box, m, strlen(m), NULL);

	free(m);
	return uid;
}

static enum store_status
sort(const char *box)
{
	return sort_folder(&fx.sorter, box, &fx.stats);
}

/* Number of messages in box whose Message-ID is <id@test>. */
static int
count_id(const char *box, const char *id)
{
	char want[128];
	int n = 0;

	snprintf(want, sizeof(want), "<%s@test>", id);
	for (size_t i = 0; i < store_mem_count(fx.store, box); i++) {
		const struct store_msg *m = store_mem_at(fx.store, box, i);
		struct message pm;
		char *got;
		message_parse(&pm, m->data, m->len);
		got = message_id(&pm);
		n += got != NULL && strcmp(got, want) == 0;
		free(got);
		message_release(&pm);
	}
	return n;
}

static const struct store_msg *
find_id(const char *box, const char *id)
{
	char want[128];

	snprintf(want, sizeof(want), "<%s@test>", id);
	for (size_t i = 0; i < store_mem_count(fx.store, box); i++) {
		const struct store_msg *m = store_mem_at(fx.store, box, i);
		if (strstr(m->data, want) != NULL)
			return m;
	}
	return NULL;
}

static const char rules[] =
    "require [\"fileinto\", \"imap4flags\"];\n"
    "if header :contains \"Subject\" \"offer\" {\n"
    "  fileinto :flags \"$Junk\" \"Junk\";\n"
    "} elsif header :contains \"Subject\" \"[list]\" {\n"
    "  fileinto \"Lists\";\n"
    "} elsif header :contains \"Subject\" \"both\" {\n"
    "  fileinto \"Archive\"; keep :flags \"$Important\";\n"
    "} elsif header :contains \"Subject\" \"drop\" {\n"
    "  discard;\n"
    "}\n";

START_TEST(builtin_policy_keeps_unscored_mail_unread)
{
	append("INBOX", "a", "hello");
	append("INBOX", "b", "lunch?");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 2);
	ck_assert_uint_eq(fx.stats.kept, 2);
	ck_assert_int_eq(store_has_flag(find_id("INBOX", "a")->flags,
	    find_id("INBOX", "a")->nflags, "\\Seen"), 0);
	/* A second pass finds nothing new. */
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_uint_eq(fx.stats.seen, 2);
}
END_TEST

START_TEST(builtin_policy_files_spam_into_junk)
{
	char *path = xasprintf("%s/tokens.db", fx.dir), *err = NULL;
	char *spam = make_message("s0", "cheap pills offer",
	    "buy cheap pills now viagra casino winner");
	char *ham = make_message("h0", "meeting notes",
	    "the quarterly meeting notes are attached for review");
	struct ledger_decision *v = NULL;
	size_t n = 0;

	ck_assert_msg(filter_open(path, &fx.filter, &err) == 0, "%s", err);
	/* Twenty copies each, told apart by their Message-IDs (the same
	 * bytes would count once). */
	for (int i = 0; i < 20; i++) {
		char id[16], *s, *h;
		snprintf(id, sizeof(id), "s%d", i);
		s = make_message(id, "cheap pills offer",
		    "buy cheap pills now viagra casino winner");
		snprintf(id, sizeof(id), "h%d", i);
		h = make_message(id, "meeting notes",
		    "the quarterly meeting notes are attached for review");
		ck_assert(filter_learn(fx.filter, s, strlen(s), 1, 0,
		    &err) == 0);
		ck_assert(filter_learn(fx.filter, h, strlen(h), 0, 0,
		    &err) == 0);
		free(s);
		free(h);
	}
	fx.sorter.filter = fx.filter;
	store_mem_append(fx.store, "INBOX", spam, strlen(spam), NULL);
	store_mem_append(fx.store, "INBOX", ham, strlen(ham), NULL);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Junk", "s0"), 1);
	ck_assert_int_eq(count_id("INBOX", "s0"), 0);
	ck_assert_int_eq(count_id("INBOX", "h0"), 1);
	ck_assert(store_has_flag(find_id("Junk", "s0")->flags,
	    find_id("Junk", "s0")->nflags, "$Junk"));
	/* Each decision keeps the evidence it was taken on. */
	ck_assert_int_eq(ledger_decisions_recent(fx.ledger, 2, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	for (size_t i = 0; i < n; i++) {
		/* words seen only in the 20 trained copies of its kind */
		const char *want = strcmp(v[i].message_id, "<s0@test>") == 0 ?
		    "\"spam\":20,\"ham\":0," : "\"spam\":0,\"ham\":20,";

		ck_assert_ptr_nonnull(v[i].evidence);
		ck_assert_msg(strstr(v[i].evidence, want) != NULL,
		    "%s lacks %s", v[i].evidence, want);
	}
	ledger_decisions_free(v, n);
	free(spam);
	free(ham);
	free(path);
}
END_TEST

START_TEST(sieve_actions_are_carried_out)
{
	const struct store_msg *m;

	use_script(rules);
	append("INBOX", "j", "special offer");
	append("INBOX", "l", "[list] digest");
	append("INBOX", "b", "both please");
	append("INBOX", "d", "drop this");
	append("INBOX", "k", "plain");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Junk", "j"), 1);
	ck_assert_int_eq(count_id("Lists", "l"), 1);
	ck_assert_int_eq(count_id("Archive", "b"), 1);
	ck_assert_int_eq(count_id("INBOX", "b"), 1);
	ck_assert_int_eq(count_id("Trash", "d"), 1);	/* never deleted */
	ck_assert_int_eq(count_id("INBOX", "k"), 1);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 2);
	m = find_id("Junk", "j");
	ck_assert(store_has_flag(m->flags, m->nflags, "$Junk"));
	m = find_id("INBOX", "b");
	ck_assert(store_has_flag(m->flags, m->nflags, "$Important"));
	m = find_id("Archive", "b");
	ck_assert(!store_has_flag(m->flags, m->nflags, "$Important"));
}
END_TEST

/* mailboxexists (RFC 5490) answers from the store's folder list; a list
 * that cannot be read leaves the message for the next session. */
START_TEST(mailboxexists_reads_the_folder_list)
{
	use_script("require [\"fileinto\", \"mailbox\"];\n"
	    "if mailboxexists \"Lists\" { fileinto \"Lists\"; }\n"
	    "else { fileinto \"Other\"; }\n");
	append("INBOX", "a", "first");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Other", "a"), 1);
	append("Lists", "x", "makes the folder");
	append("INBOX", "b", "second");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Lists", "b"), 1);
	append("INBOX", "c", "third");
	store_mem_fail(fx.store, "list_boxes", 1, STORE_CONN_LOST, 0);
	ck_assert_int_eq(sort("INBOX"), STORE_CONN_LOST);
	ck_assert_int_eq(count_id("INBOX", "c"), 1);
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Lists", "c"), 1);
}
END_TEST

/* duplicate (RFC 7352) keeps its IDs in the ledger, recorded only once
 * the message's actions were carried out. */
START_TEST(duplicate_ids_are_recorded_after_the_actions)
{
	use_script("require [\"fileinto\", \"duplicate\"];\n"
	    "if duplicate { fileinto \"Dups\"; } else { fileinto \"Seen\"; }\n");
	append("INBOX", "a", "first");
	append("INBOX", "a", "second copy");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Seen", "a"), 1);
	ck_assert_int_eq(count_id("Dups", "a"), 1);
	/* a move that fails records nothing: the next copy is not a
	 * duplicate of mail that never got anywhere */
	append("INBOX", "b", "first");
	store_mem_fail(fx.store, "move", 1, STORE_BOX_BAD, 0);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("INBOX", "b"), 1);
	append("INBOX", "b", "second copy");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Seen", "b"), 1);
	ck_assert_int_eq(count_id("Dups", "b"), 0);
}
END_TEST

START_TEST(moved_bytes_are_identical)
{
	char *raw = make_message("x", "special offer", "body\r\n\r\nmore");
	const struct store_msg *m;

	use_script(rules);
	store_mem_append(fx.store, "INBOX", raw, strlen(raw), NULL);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	m = find_id("Junk", "x");
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(m->len, strlen(raw));
	ck_assert_mem_eq(m->data, raw, m->len);
	free(raw);
}
END_TEST

START_TEST(disconnect_after_move_is_not_repeated)
{
	struct ledger_decision *v = NULL;
	size_t n = 0;

	use_script(rules);
	append("INBOX", "j", "special offer");
	store_mem_fail(fx.store, "move", 1, STORE_CONN_LOST, 1);
	ck_assert_int_eq(sort("INBOX"), STORE_CONN_LOST);
	ck_assert_int_eq(count_id("Junk", "j"), 1);	/* server did it */
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Junk", "j"), 1);
	ck_assert_int_eq(count_id("INBOX", "j"), 0);
	ck_assert_int_eq(ledger_decisions_pending_in(fx.ledger, "INBOX", &v,
	    &n), 0);
	ck_assert_uint_eq(n, 0);
	ledger_decisions_free(v, n);
}
END_TEST

START_TEST(disconnect_before_move_is_resumed)
{
	use_script(rules);
	append("INBOX", "j", "special offer");
	store_mem_fail(fx.store, "move", 1, STORE_CONN_LOST, 0);
	ck_assert_int_eq(sort("INBOX"), STORE_CONN_LOST);
	ck_assert_int_eq(count_id("INBOX", "j"), 1);
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Junk", "j"), 1);
	ck_assert_int_eq(count_id("INBOX", "j"), 0);
}
END_TEST

START_TEST(disconnect_between_copies_does_not_duplicate)
{
	use_script("require \"fileinto\";\n"
	    "fileinto \"A\"; fileinto \"B\"; fileinto \"C\";\n");
	append("INBOX", "m", "anything");
	/* The second copy reaches the server, then the line drops. */
	store_mem_fail(fx.store, "copy", 2, STORE_CONN_LOST, 1);
	ck_assert_int_eq(sort("INBOX"), STORE_CONN_LOST);
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("A", "m"), 1);
	ck_assert_int_eq(count_id("B", "m"), 1);
	ck_assert_int_eq(count_id("C", "m"), 1);
	ck_assert_int_eq(count_id("INBOX", "m"), 0);
}
END_TEST

/* Number of messages in box whose Subject line is subject. */
static int
count_subject(const char *box, const char *subject)
{
	char want[128];
	int n = 0;

	snprintf(want, sizeof(want), "\r\nSubject: %s\r\n", subject);
	for (size_t i = 0; i < store_mem_count(fx.store, box); i++)
		n += strstr(store_mem_at(fx.store, box, i)->data, want) != NULL;
	return n;
}

START_TEST(resumed_copies_without_message_id_are_not_repeated)
{
	const char *m = "From: someone@sender.example\r\n"
	    "Subject: no id here\r\n\r\nsome text\r\n";

	use_script("require \"fileinto\";\n"
	    "fileinto \"A\"; fileinto \"B\"; fileinto \"C\";\n");
	store_mem_append(fx.store, "INBOX", m, strlen(m), NULL);
	/* The first copy is made; the line drops before the second. */
	store_mem_fail(fx.store, "copy", 2, STORE_CONN_LOST, 0);
	ck_assert_int_eq(sort("INBOX"), STORE_CONN_LOST);
	ck_assert_int_eq(count_subject("A", "no id here"), 1);
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	/* Nothing to search for: only the ledger knows A was done. */
	ck_assert_int_eq(count_subject("A", "no id here"), 1);
	ck_assert_int_eq(count_subject("B", "no id here"), 1);
	ck_assert_int_eq(count_subject("C", "no id here"), 1);
	ck_assert_int_eq(count_subject("INBOX", "no id here"), 0);
}
END_TEST

START_TEST(resumed_plan_takes_a_copys_flags_off_the_original)
{
	const struct store_msg *m;

	use_script("require [\"fileinto\", \"imap4flags\"];\n"
	    "fileinto :flags \"\\\\Flagged\" \"A\"; keep;\n");
	append("INBOX", "f", "anything");
	/* The copy is made with \Flagged; the line drops as the flag is
	 * being taken off the original again. */
	store_mem_fail(fx.store, "set_flags", 2, STORE_CONN_LOST, 0);
	ck_assert_int_eq(sort("INBOX"), STORE_CONN_LOST);
	m = find_id("INBOX", "f");
	ck_assert_ptr_nonnull(m);
	ck_assert(store_has_flag(m->flags, m->nflags, "\\Flagged"));
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	m = find_id("INBOX", "f");
	ck_assert_ptr_nonnull(m);
	ck_assert(!store_has_flag(m->flags, m->nflags, "\\Flagged"));
	ck_assert_int_eq(count_id("A", "f"), 1);
	m = find_id("A", "f");
	ck_assert(store_has_flag(m->flags, m->nflags, "\\Flagged"));
}
END_TEST

START_TEST(changed_rules_do_not_pile_on_an_interrupted_plan)
{
	struct ledger_decision *v = NULL;
	size_t n = 0;

	use_script("require \"fileinto\";\n"
	    "fileinto \"A\"; fileinto \"B\";\n");
	append("INBOX", "m", "anything");
	store_mem_fail(fx.store, "copy", 1, STORE_CONN_LOST, 1);
	ck_assert_int_eq(sort("INBOX"), STORE_CONN_LOST);
	ck_assert_int_eq(count_id("A", "m"), 1);
	/* The owner edits the script before the daemon reconnects. */
	sieve_script_free(&fx.script);
	use_script("require \"fileinto\";\nfileinto \"C\";\n");
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("INBOX", "m"), 1);
	ck_assert_uint_eq(store_mem_count(fx.store, "C"), 0);
	ck_assert_int_eq(ledger_decisions_recent(fx.ledger, 1, &v, &n), 0);
	ck_assert_int_eq(v[0].state, DECISION_FAILED);
	ledger_decisions_free(v, n);
}
END_TEST

START_TEST(uidvalidity_change_does_not_refile)
{
	use_script("require \"fileinto\";\n"
	    "if header :contains \"Subject\" \"[list]\" "
	    "{ fileinto \"Lists\"; } else { keep; }\n");
	append("INBOX", "k1", "hello");
	append("INBOX", "k2", "again");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	store_mem_reset_uidvalidity(fx.store, "INBOX");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_uint_eq(fx.stats.known, 2);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 2);
}
END_TEST

START_TEST(rescued_message_never_goes_back_to_junk)
{
	char hash[MESSAGE_HASH_LEN + 1];
	char *raw = make_message("r", "special offer", "some text");
	int64_t id;

	use_script(rules);
	message_hash(raw, strlen(raw), hash);
	ck_assert_int_eq(ledger_message_add(fx.ledger, hash, "<r@test>",
	    &id), 0);
	ck_assert_int_eq(ledger_message_set_rescued(fx.ledger, id, 1), 0);
	store_mem_append(fx.store, "INBOX", raw, strlen(raw), NULL);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("INBOX", "r"), 1);
	ck_assert_uint_eq(store_mem_count(fx.store, "Junk"), 0);
	free(raw);
}
END_TEST

START_TEST(move_fallback_without_uidplus_leaves_original_flagged)
{
	const struct store_msg *m;

	use_script(rules);
	store_mem_set_caps(fx.store, 0, 0);
	append("INBOX", "j", "special offer");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Junk", "j"), 1);
	m = find_id("INBOX", "j");
	ck_assert_ptr_nonnull(m);	/* never a plain EXPUNGE */
	ck_assert(store_has_flag(m->flags, m->nflags, "\\Deleted"));
}
END_TEST

/* A move the server refuses leaves the message without the $Junk it was
 * to carry (nothing may learn mailsift's verdict as the owner's), and is
 * tried again when due, up to SORT_MAX_ATTEMPTS tries in all. */
static struct ledger_decision
newest_decision(void)
{
	struct ledger_decision *v = NULL, d;
	size_t n = 0;

	ck_assert_int_eq(ledger_decisions_recent(fx.ledger, 1, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	d = v[0];
	free(v);
	return d;
}

START_TEST(refused_move_leaves_no_flag_and_is_retried)
{
	struct ledger_decision d;
	const struct store_msg *m;

	use_script(rules);
	append("INBOX", "j", "special offer");
	store_mem_fail(fx.store, "move", 1, STORE_BOX_BAD, 0);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	m = find_id("INBOX", "j");
	ck_assert_ptr_nonnull(m);
	ck_assert(!store_has_flag(m->flags, m->nflags, "$Junk"));
	d = newest_decision();
	ck_assert_int_eq(d.state, DECISION_FAILED);
	ck_assert_int_eq(d.attempts, 1);
	ck_assert(d.retry_at > time(NULL));
	ck_assert_ptr_null(d.temp_flags);
	ck_assert_int_eq(ledger_flags_in_flight(fx.ledger, "INBOX", d.uidvalidity,
	    d.uid), 0);
	/* Not due yet: nothing happens. */
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("INBOX", "j"), 1);
	/* Due: the second try moves it, with its flag. */
	ck_assert_int_eq(ledger_decision_retry_at(fx.ledger, d.id, time(NULL)),
	    0);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("INBOX", "j"), 0);
	m = find_id("Junk", "j");
	ck_assert_ptr_nonnull(m);
	ck_assert(store_has_flag(m->flags, m->nflags, "$Junk"));
	ledger_decision_release(&d);
	d = newest_decision();
	ck_assert_int_eq(d.state, DECISION_DONE);
	ck_assert_int_eq(d.attempts, 2);
	ledger_decision_release(&d);
}
END_TEST

START_TEST(refused_move_is_given_up_after_the_last_attempt)
{
	struct ledger_decision d = { 0 };

	use_script(rules);
	append("INBOX", "j", "special offer");
	for (int i = 1; i <= SORT_MAX_ATTEMPTS; i++) {
		if (i > 1)
			ck_assert_int_eq(ledger_decision_retry_at(fx.ledger,
			    d.id, time(NULL)), 0);
		ledger_decision_release(&d);
		store_mem_fail(fx.store, "move", 1, STORE_BOX_BAD, 0);
		ck_assert_int_eq(sort("INBOX"), STORE_OK);
		d = newest_decision();
		ck_assert_int_eq(d.state, DECISION_FAILED);
		ck_assert_int_eq(d.attempts, i);
	}
	ck_assert_int_eq(d.retry_at, 0);
	ck_assert_int_eq(count_id("INBOX", "j"), 1);
	ledger_decision_release(&d);
}
END_TEST

START_TEST(unusable_target_leaves_message_in_place)
{
	struct ledger_decision *v = NULL;
	size_t n = 0;

	use_script(rules);
	append("INBOX", "j", "special offer");
	append("INBOX", "k", "plain");
	store_mem_fail(fx.store, "move", 1, STORE_BOX_BAD, 0);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("INBOX", "j"), 1);
	ck_assert_uint_eq(fx.stats.failed, 1);
	ck_assert_int_eq(ledger_decisions_recent(fx.ledger, 5, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(v[1].state, DECISION_FAILED);
	ck_assert_ptr_nonnull(v[1].error);
	ledger_decisions_free(v, n);
}
END_TEST

START_TEST(vanished_message_is_skipped)
{
	append("INBOX", "g", "gone soon");
	append("INBOX", "k", "stays");
	store_mem_fail(fx.store, "fetch", 1, STORE_MSG_GONE, 0);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_uint_eq(fx.stats.seen, 2);
	ck_assert_uint_eq(fx.stats.kept, 1);
}
END_TEST

static uint32_t
uidvalidity_of(const char *box)
{
	uint32_t uidvalidity, uidnext;

	ck_assert_int_eq(fx.store->ops->select(fx.store, box, &uidvalidity,
	    &uidnext), STORE_OK);
	return uidvalidity;
}

/* A message whose fetch breaks the connection every time (a server that
 * crashes on it) is tried three times, then left in place, unread, and
 * the rest is sorted: however the messages were batched, a few passes
 * settle it, and the next pass does not try it again. */
START_TEST(unreadable_message_is_left_after_three_tries)
{
	enum store_status st = STORE_CONN_LOST;
	int tries = -1, passes = 0;

	use_script(rules);
	append("INBOX", "a", "special offer");
	append("INBOX", "p", "poison: breaks every fetch");
	append("INBOX", "b", "special offer too");
	store_mem_poison(fx.store, "INBOX", 2);
	while (st == STORE_CONN_LOST && passes++ < 10) {
		if ((st = sort("INBOX")) == STORE_CONN_LOST)
			ck_assert_int_eq(fx.store->ops->connect(fx.store),
			    STORE_OK);
	}
	ck_assert_int_eq(st, STORE_OK);
	ck_assert_int_le(passes, 6);
	ck_assert_int_eq(count_id("Junk", "a"), 1);
	ck_assert_int_eq(count_id("Junk", "b"), 1);
	ck_assert_int_eq(count_id("INBOX", "p"), 1);
	ck_assert_uint_eq(fx.stats.failed, 1);
	ck_assert_int_eq(ledger_unreadable_get(fx.ledger, "INBOX",
	    uidvalidity_of("INBOX"), 2, &tries), 0);
	ck_assert_int_eq(tries, 3);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_uint_eq(fx.stats.failed, 1);
	ck_assert_int_eq(count_id("INBOX", "p"), 1);
}
END_TEST

/* The same message twice in one batch: handled once, as it would be one
 * after the other (the second copy is known by then, and left alone). */
START_TEST(identical_copies_in_one_batch_are_handled_once)
{
	use_script(rules);
	append("INBOX", "a", "special offer");
	append("INBOX", "a", "special offer");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Junk", "a"), 1);
	ck_assert_int_eq(count_id("INBOX", "a"), 1);
	ck_assert_uint_eq(fx.stats.known, 1);
}
END_TEST

/* A catch-up in batches cut by a lost connection at every step it takes
 * (each fetch, flag change, copy and move, before or after the server
 * did it): once reconnected and finished, every message is where the
 * rules put it, exactly once, and nothing is left pending. */
START_TEST(batches_cut_anywhere_file_everything_once)
{
	static const char *const ops[] = { "fetch", "set_flags", "copy",
	    "move" };
	static const char *const subjects[] = { "special offer", "[list] x",
	    "both", "plain", "drop this" };
	char id[32];

	for (size_t o = 0; o < 4; o++)
	for (int after = 0; after < 2; after++)
	for (int nth = 1; nth <= 6; nth++) {
		enum store_status st = STORE_CONN_LOST;
		struct ledger_decision *v = NULL;
		size_t npending = 0;
		int passes = 0;

		teardown();
		setup();
		use_script(rules);
		for (int i = 0; i < 10; i++) {
			snprintf(id, sizeof(id), "m%d", i);
			append("INBOX", id, subjects[i % 5]);
		}
		store_mem_fail(fx.store, ops[o], nth, STORE_CONN_LOST, after);
		while (st == STORE_CONN_LOST && passes++ < 5)
			if ((st = sort("INBOX")) == STORE_CONN_LOST)
				ck_assert_int_eq(fx.store->ops->connect(
				    fx.store), STORE_OK);
		ck_assert_msg(st == STORE_OK, "%s #%d after %d: %s", ops[o],
		    nth, after, store_status_name(st));
		for (int i = 0; i < 10; i++) {
			int junk = 0, lists = 0, archive = 0, inbox = 0;
			int trash = 0;

			snprintf(id, sizeof(id), "m%d", i);
			switch (i % 5) {
			case 0: junk = 1; break;
			case 1: lists = 1; break;
			case 2: archive = inbox = 1; break;
			case 3: inbox = 1; break;
			case 4: trash = 1; break;
			}
			ck_assert_msg(count_id("Junk", id) == junk &&
			    count_id("Lists", id) == lists &&
			    count_id("Archive", id) == archive &&
			    count_id("INBOX", id) == inbox &&
			    count_id("Trash", id) == trash,
			    "%s #%d after %d: %s misplaced", ops[o], nth,
			    after, id);
		}
		ck_assert_int_eq(ledger_decisions_pending_in(fx.ledger,
		    "INBOX", &v, &npending), 0);
		ck_assert_uint_eq(npending, 0);
		ledger_decisions_free(v, npending);
	}
}
END_TEST

START_TEST(message_read_after_two_broken_fetches_is_sorted)
{
	int tries = -1;

	use_script(rules);
	append("INBOX", "a", "special offer");
	for (int i = 0; i < 2; i++) {
		store_mem_fail(fx.store, "fetch", 1, STORE_CONN_LOST, 0);
		ck_assert_int_eq(sort("INBOX"), STORE_CONN_LOST);
		ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	}
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Junk", "a"), 1);
	ck_assert_int_eq(ledger_unreadable_get(fx.ledger, "INBOX",
	    uidvalidity_of("INBOX"), 1, &tries), 0);
	ck_assert_int_eq(tries, 0);
}
END_TEST

START_TEST(message_arriving_after_a_pass_is_sorted)
{
	use_script(rules);
	append("INBOX", "k", "plain");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	append("INBOX", "j", "special offer");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Junk", "j"), 1);
	ck_assert_uint_eq(fx.stats.seen, 2);
}
END_TEST

START_TEST(mark_moves_past_messages_gone_before_sorting)
{
	uint32_t uidvalidity, mark, uid;

	append("INBOX", "a", "hello");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	uid = append("INBOX", "b", "here and gone");
	store_mem_client_move(fx.store, "INBOX", uid, "Elsewhere");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(ledger_folder_get(fx.ledger, "INBOX", &uidvalidity,
	    &mark), 1);
	/* A waiter compares UIDNEXT - 1 with the mark: no phantom news. */
	ck_assert_uint_eq(mark, uid);
}
END_TEST

/* The first run: a mailbox the owner has used for a while. */
static const char file_all[] = "require \"fileinto\";\nfileinto \"Sorted\";\n";
#define DAY	86400

/* Appends a message that arrived days ago, \Seen if read. */
static uint32_t
append_dated(const char *id, int days, int read)
{
	static const char *const seen[] = { "\\Seen", NULL };
	char *m = make_message(id, id, "some text");
	uint32_t uid = store_mem_append(fx.store, "INBOX", m, strlen(m),
	    read ? seen : NULL);

	store_mem_set_date(fx.store, "INBOX", uid, time(NULL) -
	    (time_t)days * DAY);
	free(m);
	return uid;
}

static void
first_run_setup(void)
{
	setup();
	use_script(file_all);
	fx.sorter.first_run_since = time(NULL) - 30 * DAY;
	append_dated("old_unread", 60, 0);
	append_dated("old_read", 90, 1);
	append_dated("new_read", 2, 1);
	append_dated("new_unread", 2, 0);
	append_dated("today_unread", 0, 0);
}

static uint32_t
backlog_left(void)
{
	struct ledger_backlog b;

	ck_assert_int_eq(ledger_backlog_get(fx.ledger, "INBOX", &b), 1);
	return b.left;
}

START_TEST(first_look_sorts_only_unread_recent_mail)
{
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Sorted", "new_unread"), 1);
	ck_assert_int_eq(count_id("Sorted", "today_unread"), 1);
	ck_assert_uint_eq(store_mem_count(fx.store, "Sorted"), 2);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 3);
	ck_assert_uint_eq(backlog_left(), 3);
	/* Later passes leave it alone; new mail is sorted, read or not. */
	append_dated("late_read", 100, 1);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Sorted", "late_read"), 1);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 3);
}
END_TEST

START_TEST(interrupted_first_look_never_sorts_old_mail)
{
	/* The line drops at the second move: the mark is past new_unread
	 * only, and the pass resumes above it. */
	store_mem_fail(fx.store, "move", 2, STORE_CONN_LOST, 0);
	ck_assert_int_eq(sort("INBOX"), STORE_CONN_LOST);
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_uint_eq(store_mem_count(fx.store, "Sorted"), 2);
	ck_assert_int_eq(count_id("INBOX", "old_unread"), 1);
	ck_assert_int_eq(count_id("INBOX", "old_read"), 1);
	ck_assert_int_eq(count_id("INBOX", "new_read"), 1);
	ck_assert_uint_eq(backlog_left(), 3);
}
END_TEST

START_TEST(new_uidvalidity_does_not_sort_the_backlog)
{
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	store_mem_reset_uidvalidity(fx.store, "INBOX");
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 3);
	ck_assert_uint_eq(store_mem_count(fx.store, "Sorted"), 2);
	ck_assert_uint_eq(backlog_left(), 3);
}
END_TEST

START_TEST(backlog_since_then_all_exactly_once)
{
	struct ledger_decision *v = NULL;
	size_t n = 0;

	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	fx.sorter.backlog = 1;
	fx.sorter.backlog_since = time(NULL) - 10 * DAY;
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(count_id("Sorted", "new_read"), 1);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 2);
	ck_assert_uint_eq(backlog_left(), 2);
	fx.sorter.backlog_since = 0;
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 0);
	ck_assert_uint_eq(store_mem_count(fx.store, "Sorted"), 5);
	ck_assert_uint_eq(backlog_left(), 0);
	ck_assert_int_eq(ledger_decisions_recent(fx.ledger, 100, &v, &n), 0);
	ck_assert_uint_eq(n, 5);
	ledger_decisions_free(v, n);
}
END_TEST

START_TEST(dry_run_changes_nothing)
{
	struct ledger_decision *v = NULL;
	uint32_t uidvalidity, mark;
	char out[4096];
	size_t n = 0, len;
	FILE *f = tmpfile();

	ck_assert_ptr_nonnull(f);
	fx.sorter.dry_run = f;
	fx.sorter.backlog = 1;
	/* The store refuses writes to an EXAMINEd mailbox: one would fail
	 * the pass. */
	ck_assert_int_eq(sort("INBOX"), STORE_OK);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 5);
	ck_assert_uint_eq(store_mem_count(fx.store, "Sorted"), 0);
	ck_assert_int_eq(ledger_folder_get(fx.ledger, "INBOX", &uidvalidity,
	    &mark), 0);
	ck_assert_int_eq(ledger_decisions_recent(fx.ledger, 100, &v, &n), 0);
	ck_assert_uint_eq(n, 0);
	rewind(f);
	len = fread(out, 1, sizeof(out) - 1, f);
	out[len] = '\0';
	fclose(f);
	ck_assert_msg(strstr(out, "INBOX: would move 5, keep 0") != NULL,
	    "%s", out);
	ck_assert_msg(strstr(out, "Subject: old_read") != NULL, "%s", out);
}
END_TEST

static Suite *
sort_suite(void)
{
	Suite *s = suite_create("sort");
	TCase *tc = tcase_create("sort");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, builtin_policy_keeps_unscored_mail_unread);
	tcase_add_test(tc, builtin_policy_files_spam_into_junk);
	tcase_add_test(tc, sieve_actions_are_carried_out);
	tcase_add_test(tc, mailboxexists_reads_the_folder_list);
	tcase_add_test(tc, duplicate_ids_are_recorded_after_the_actions);
	tcase_add_test(tc, moved_bytes_are_identical);
	tcase_add_test(tc, disconnect_after_move_is_not_repeated);
	tcase_add_test(tc, disconnect_before_move_is_resumed);
	tcase_add_test(tc, disconnect_between_copies_does_not_duplicate);
	tcase_add_test(tc, changed_rules_do_not_pile_on_an_interrupted_plan);
	tcase_add_test(tc, resumed_copies_without_message_id_are_not_repeated);
	tcase_add_test(tc, resumed_plan_takes_a_copys_flags_off_the_original);
	tcase_add_test(tc, uidvalidity_change_does_not_refile);
	tcase_add_test(tc, rescued_message_never_goes_back_to_junk);
	tcase_add_test(tc, move_fallback_without_uidplus_leaves_original_flagged);
	tcase_add_test(tc, unusable_target_leaves_message_in_place);
	tcase_add_test(tc, refused_move_leaves_no_flag_and_is_retried);
	tcase_add_test(tc, refused_move_is_given_up_after_the_last_attempt);
	tcase_add_test(tc, vanished_message_is_skipped);
	tcase_add_test(tc, message_arriving_after_a_pass_is_sorted);
	tcase_add_test(tc, mark_moves_past_messages_gone_before_sorting);
	tcase_add_test(tc, unreadable_message_is_left_after_three_tries);
	tcase_add_test(tc, message_read_after_two_broken_fetches_is_sorted);
	tcase_add_test(tc, identical_copies_in_one_batch_are_handled_once);

	suite_add_tcase(s, tc);
	/* Dozens of catch-ups, each cut somewhere else. */
	tc = tcase_create("cut batches");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, batches_cut_anywhere_file_everything_once);
	suite_add_tcase(s, tc);
	tc = tcase_create("first run");
	tcase_add_checked_fixture(tc, first_run_setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, first_look_sorts_only_unread_recent_mail);
	tcase_add_test(tc, interrupted_first_look_never_sorts_old_mail);
	tcase_add_test(tc, new_uidvalidity_does_not_sort_the_backlog);
	tcase_add_test(tc, backlog_since_then_all_exactly_once);
	tcase_add_test(tc, dry_run_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(sort_suite)
