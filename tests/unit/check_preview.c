/*
 * check_preview.c - the plan text the ledger keeps, read back
 * (agent/plan.c), and `mailsift preview` (agent/preview.c) over the
 * in-memory store and a real ledger: decisions are made by the real
 * sorter with one script, then another script is previewed.  Every
 * operation that could change the store is armed to fail, so a preview
 * that touched anything would fail the test.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/plan.h"
#include "agent/preview.h"
#include "agent/sort.h"
#include "agent/store_mem.h"
#include "agent/xmem.h"
#include "sieve/sieve.h"
#include "state/ledger.h"
#include "tests/unit/unit.h"
#include "tests/unit/unit_mailbox.h"

/* ------------------------------------------------------------ plan text */

START_TEST(plan_text_reads_back)
{
	static const char *const texts[] = {
		"keep",
		"keep +\\Seen +$label1",
		"move to 'Junk' +$Junk",
		"keep; copy to 'Lists/dev' +\\Flagged",
		"copy to 'A'; copy to 'B' +x; move to 'C'",
		"move to 'it''s here' +a",
		"keep +odd;; copy to 'semi; colon'",
		"move to 'a +b'",
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
		struct plan p = { 0 };
		char *first;

		ck_assert_msg(plan_parse(texts[i], &p) == 0, "%s", texts[i]);
		first = p.text;
		p.text = NULL;
		plan_describe(&p);
		ck_assert_str_eq(p.text, first);
		free(first);
		plan_release(&p);
	}
}
END_TEST

START_TEST(plan_text_parts)
{
	struct plan p = { 0 };
	char *const *flags;
	size_t n;

	ck_assert_int_eq(plan_parse("keep +odd;; copy to 'semi; colon'",
	    &p), 0);
	ck_assert_int_eq(p.keep, 1);
	ck_assert_uint_eq(p.nkeep_flags, 1);
	ck_assert_str_eq(p.keep_flags[0], "odd;");
	ck_assert_uint_eq(p.ntargets, 1);
	ck_assert_str_eq(p.targets[0].box, "semi; colon");
	plan_release(&p);

	ck_assert_int_eq(plan_parse("copy to 'A' +x; move to 'B' +$Junk",
	    &p), 0);
	ck_assert_int_eq(p.keep, 0);
	ck_assert_str_eq(plan_final_folder(&p, "INBOX"), "B");
	plan_final_flags(&p, &flags, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(flags[0], "$Junk");
	plan_release(&p);
}
END_TEST

START_TEST(plan_text_refuses_other_text)
{
	static const char *const bad[] = {
		"", "kept", "move to 'A'; keep", "keep; move to 'A'",
		"copy to 'A'", "move to 'A", "move to 'A'; move to 'B'",
		"keep, copy to 'A'",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct plan p = { 0 };

		ck_assert_msg(plan_parse(bad[i], &p) < 0, "'%s'", bad[i]);
	}
}
END_TEST

START_TEST(plan_outcomes_compare_places_and_flags)
{
	struct plan a = { 0 }, b = { 0 };

	ck_assert_int_eq(plan_parse("copy to 'A' +x +y; move to 'B'", &a), 0);
	ck_assert_int_eq(plan_parse("copy to 'B'; move to 'A' +Y +x", &b), 0);
	ck_assert(plan_same_outcome(&a, &b));
	plan_release(&b);
	ck_assert_int_eq(plan_parse("copy to 'A' +x; move to 'B'", &b), 0);
	ck_assert(!plan_same_outcome(&a, &b));
	plan_release(&b);
	ck_assert_int_eq(plan_parse("keep; copy to 'A' +x +y; copy to 'B'",
	    &b), 0);
	ck_assert(!plan_same_outcome(&a, &b));
	plan_release(&a);
	plan_release(&b);
}
END_TEST

/* ------------------------------------------------------------ preview */

struct fixture {
	char dir[64];
	struct store *store;
	struct ledger *ledger;
	struct sieve_script *sorted_by;
	struct sieve_script *tried;
	struct preview_result r;
};

static struct fixture fx;

static void
setup(void)
{
	memset(&fx, 0, sizeof(fx));
	unit_mailbox_open("check_preview", fx.dir, sizeof(fx.dir), &fx.store,
	    &fx.ledger);
}

static void
teardown(void)
{
	preview_result_release(&fx.r);
	sieve_script_free(&fx.sorted_by);
	sieve_script_free(&fx.tried);
	unit_mailbox_close(fx.dir, &fx.store, &fx.ledger);
}

static struct sieve_script *
script(const char *text)
{
	struct sieve_script *s = NULL;
	char *errors = NULL;

	ck_assert_msg(sieve_script_parse("test.sieve", text, &s, &errors) ==
	    0, "script: %s", errors);
	return s;
}

static uint32_t
append(const char *box, const char *id, const char *subject)
{
	char *m = xasprintf("From: Someone <someone@sender.example>\r\n"
	    "Message-ID: <%s@test>\r\nSubject: %s\r\n\r\ntext\r\n", id,
	    subject);
	uint32_t uid = store_mem_append(fx.store, box, m, strlen(m), NULL);

	free(m);
	return uid;
}

/* Sorts INBOX with the daemon's engine and fx.sorted_by. */
static void
sort_inbox(void)
{
	struct sorter s = {
		.store = fx.store, .ledger = fx.ledger,
		.script = fx.sorted_by, .junk = "Junk", .trash = "Trash",
		.spam_threshold = 0.9, .ham_threshold = 0.1,
		.max_message_bytes = 1 << 20,
	};
	struct sort_stats stats = { 0 };

	ck_assert_int_eq(sort_folder(&s, "INBOX", &stats), STORE_OK);
}

/* Previews fx.tried (NULL: the built-in policy) over n decisions, with
 * every operation that could change the store armed to fail. */
static void
preview(int n)
{
	static const char *const writes[] = {
		"select", "set_flags", "copy", "move",
	};
	struct preview pv = {
		.store = fx.store, .ledger = fx.ledger,
		.rules = { .script = fx.tried, .junk = "Junk",
		    .trash = "Trash", .spam_threshold = 0.9 },
		.max_message_bytes = 1 << 20,
	};
	char *err = NULL;

	for (size_t i = 0; i < sizeof(writes) / sizeof(*writes); i++)
		store_mem_fail(fx.store, writes[i], 1, STORE_FATAL, 0);
	preview_result_release(&fx.r);
	ck_assert_msg(preview_run(&pv, n, &fx.r, &err) == STORE_OK, "%s: %s",
	    err ? err : "", store_last_error(fx.store));
}

static const struct preview_change *
change_of(const char *id)
{
	char want[64];

	snprintf(want, sizeof(want), "<%s@test>", id);
	for (size_t i = 0; i < fx.r.nchanges; i++)
		if (strcmp(fx.r.changes[i].decision.message_id, want) == 0)
			return &fx.r.changes[i];
	return NULL;
}

START_TEST(preview_lists_exactly_the_changed_messages)
{
	const struct preview_change *c;

	fx.sorted_by = script("require \"fileinto\";\n"
	    "if header :contains \"subject\" \"alpha\" { fileinto \"A\"; }\n");
	append("INBOX", "a1", "alpha one");
	append("INBOX", "b1", "beta one");
	append("INBOX", "g1", "gamma one");
	append("INBOX", "a2", "alpha two");
	sort_inbox();
	ck_assert_uint_eq(store_mem_count(fx.store, "A"), 2);

	fx.tried = script("require [\"fileinto\", \"imap4flags\"];\n"
	    "# moved down a line: the rule changes, the outcome does not\n"
	    "if header :contains \"subject\" \"alpha one\" { fileinto \"A\"; }\n"
	    "elsif header :contains \"subject\" \"alpha\" { fileinto \"B\"; }\n"
	    "if header :contains \"subject\" \"beta\" {\n"
	    "    addflag \"\\\\Flagged\"; }\n");
	preview(200);
	ck_assert_uint_eq(fx.r.examined, 4);
	ck_assert_uint_eq(fx.r.missing, 0);
	ck_assert_uint_eq(fx.r.nchanges, 2);
	c = change_of("a2");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->subject, "alpha two");
	ck_assert_str_eq(c->from, "Someone <someone@sender.example>");
	ck_assert_str_eq(c->now.text, "move to 'A'");
	ck_assert_str_eq(c->now.rule, "line 2: fileinto \"A\"");
	ck_assert_str_eq(c->would.text, "move to 'B'");
	ck_assert_str_eq(c->would.rule, "line 4: fileinto \"B\"");
	c = change_of("b1");
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->now.text, "keep");
	ck_assert_str_eq(c->would.text, "keep +\\Flagged");
	ck_assert_ptr_null(change_of("a1"));
	ck_assert_ptr_null(change_of("g1"));
	/* Nothing moved, nothing new in the ledger. */
	ck_assert_uint_eq(store_mem_count(fx.store, "A"), 2);
	ck_assert_uint_eq(store_mem_count(fx.store, "INBOX"), 2);
	ck_assert_uint_eq(store_mem_count(fx.store, "B"), 0);
	preview(2);
	ck_assert_uint_eq(fx.r.examined, 2);	/* the newest two: a2, g1 */
	ck_assert_uint_eq(fx.r.nchanges, 1);
	ck_assert_ptr_nonnull(change_of("a2"));
}
END_TEST

START_TEST(preview_uses_the_score_of_the_decision)
{
	static const struct { const char *id; double score; } msgs[] = {
		{ "low", 0.2 }, { "high", 0.8 }, { "unscored", -1 },
	};

	/* Decisions as the daemon records them, each with its score. */
	for (size_t i = 0; i < sizeof(msgs) / sizeof(*msgs); i++) {
		char *m = xasprintf("Message-ID: <%s@test>\r\nSubject: s\r\n"
		    "\r\nx\r\n", msgs[i].id);
		char hash[MESSAGE_HASH_LEN + 1], *mid = xasprintf("<%s@test>",
		    msgs[i].id);
		struct ledger_decision d = {
			.folder = "INBOX", .uidvalidity = 1,
			.score = msgs[i].score, .actions = "keep",
			.rule = "built-in default: not spam, kept",
		};
		int64_t id;

		d.uid = store_mem_append(fx.store, "INBOX", m, strlen(m),
		    NULL);
		message_hash(m, strlen(m), hash);
		ck_assert_int_eq(ledger_message_add(fx.ledger, hash, mid,
		    &d.message), 0);
		ck_assert_int_eq(ledger_decision_begin(fx.ledger, &d, &id), 0);
		ck_assert_int_eq(ledger_decision_finish(fx.ledger, id,
		    DECISION_DONE, NULL, 0, NULL), 0);
		free(m);
		free(mid);
	}
	fx.tried = script("require [\"fileinto\", \"spamtestplus\", "
	    "\"relational\", \"comparator-i;ascii-numeric\"];\n"
	    "if spamtest :percent :value \"ge\" :comparator "
	    "\"i;ascii-numeric\" \"50\" { fileinto \"Junk\"; }\n");
	preview(200);
	ck_assert_uint_eq(fx.r.examined, 3);
	ck_assert_uint_eq(fx.r.nchanges, 1);
	ck_assert_ptr_nonnull(change_of("high"));
	ck_assert_str_eq(change_of("high")->would.text,
	    "move to 'Junk' +$Junk");
}
END_TEST

START_TEST(preview_keeps_rescued_messages_out_of_junk)
{
	const char *junk_rule = "require \"fileinto\";\n"
	    "if header :contains \"subject\" \"offer\" { fileinto \"Junk\"; }\n";
	struct ledger_message m = { 0 };
	const struct store_msg *moved;
	char hash[MESSAGE_HASH_LEN + 1];
	uint32_t uid;

	fx.sorted_by = script(junk_rule);
	append("INBOX", "o1", "an offer");
	sort_inbox();
	/* The owner takes it out of Junk; the learner marks it rescued. */
	uid = store_mem_client_move(fx.store, "Junk",
	    store_mem_at(fx.store, "Junk", 0)->uid, "INBOX");
	moved = store_mem_get(fx.store, "INBOX", uid);
	message_hash(moved->data, moved->len, hash);
	ck_assert_int_eq(ledger_message_find(fx.ledger, hash, &m), 1);
	ck_assert_int_eq(ledger_message_set_rescued(fx.ledger, m.id, 1), 0);
	ck_assert_int_eq(ledger_message_set_seen_in(fx.ledger, m.id, "INBOX"),
	    0);
	ledger_message_release(&m);

	/* The same rule again: the rescue is not the script's doing. */
	fx.tried = script(junk_rule);
	preview(200);
	ck_assert_uint_eq(fx.r.examined, 1);
	ck_assert_uint_eq(fx.r.nchanges, 0);
	sieve_script_free(&fx.tried);

	/* Another folder besides Junk: that is a change, and Junk stays
	 * out of it. */
	fx.tried = script("require \"fileinto\";\n"
	    "if header :contains \"subject\" \"offer\" {\n"
	    "    fileinto \"Junk\"; fileinto \"Offers\"; }\n");
	preview(200);
	ck_assert_uint_eq(fx.r.nchanges, 1);
	ck_assert_str_eq(fx.r.changes[0].now.text, "move to 'Junk' +$Junk");
	ck_assert_str_eq(fx.r.changes[0].would.text, "move to 'Offers'");
}
END_TEST

START_TEST(preview_counts_messages_gone_since)
{
	fx.sorted_by = script("require \"fileinto\";\n"
	    "if header :contains \"subject\" \"x\" { fileinto \"X\"; }\n");
	append("INBOX", "x1", "x one");
	append("INBOX", "k1", "kept");
	sort_inbox();
	/* Another client moves the kept one where the learner never saw
	 * it, and the server renumbers X. */
	store_mem_client_move(fx.store, "INBOX",
	    store_mem_at(fx.store, "INBOX", 0)->uid, "Elsewhere");
	store_mem_reset_uidvalidity(fx.store, "X");
	fx.tried = script("require \"fileinto\";\n"
	    "fileinto \"Y\";\n");
	preview(200);
	/* The filed one is found again (uid, else Message-ID, with its
	 * hash); the other is nowhere the ledger knows of. */
	ck_assert_uint_eq(fx.r.examined, 1);
	ck_assert_uint_eq(fx.r.missing, 1);
	ck_assert_ptr_nonnull(change_of("x1"));
}
END_TEST

/* The owner's form of a name on a server whose personal namespace is
 * "INBOX." with separator "." (Courier): "INBOX.A.b" is "A/b". */
static char *
courier_owner_name(struct store *s, const char *box)
{
	char *name = xstrdup(strncmp(box, "INBOX.", 6) == 0 ? box + 6 : box);

	for (char *p = name; *p != '\0'; p++)
		if (*p == '.')
			*p = '/';
	return name;
}

/* The script sees the mailboxes as the daemon showed them to it: the
 * server's list for mailboxexists, and a folder it names in the server's
 * form ("INBOX.A") known by the owner's ("A").  Else every such decision
 * would show as a change. */
START_TEST(preview_sees_mailboxes_as_the_daemon_does)
{
	static struct store_ops courier;
	const char *rules = "require [\"fileinto\", \"mailbox\"];\n"
	    "if mailboxexists \"A\" { fileinto \"INBOX.A\"; }\n";

	courier = *fx.store->ops;
	courier.owner_name = courier_owner_name;
	fx.store->ops = &courier;
	append("A", "old", "already there");
	append("INBOX", "a1", "alpha");
	fx.sorted_by = script(rules);
	sort_inbox();
	ck_assert_uint_eq(store_mem_count(fx.store, "A"), 2);

	fx.tried = script(rules);
	preview(200);
	ck_assert_uint_eq(fx.r.examined, 1);
	ck_assert_uint_eq(fx.r.nchanges, 0);
}
END_TEST

static Suite *
preview_suite(void)
{
	Suite *s = suite_create("preview");
	TCase *plan = tcase_create("plan");
	TCase *tc = tcase_create("preview");

	tcase_add_test(plan, plan_text_reads_back);
	tcase_add_test(plan, plan_text_parts);
	tcase_add_test(plan, plan_text_refuses_other_text);
	tcase_add_test(plan, plan_outcomes_compare_places_and_flags);
	suite_add_tcase(s, plan);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, preview_lists_exactly_the_changed_messages);
	tcase_add_test(tc, preview_uses_the_score_of_the_decision);
	tcase_add_test(tc, preview_keeps_rescued_messages_out_of_junk);
	tcase_add_test(tc, preview_sees_mailboxes_as_the_daemon_does);
	tcase_add_test(tc, preview_counts_messages_gone_since);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(preview_suite)
