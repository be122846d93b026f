/*
 * check_learn.c - learning from the owner (agent/learn.c) over the
 * in-memory store, a real ledger and the real classifier: rescues out of
 * Junk, drags into Junk, Trash, keywords, flip-flops, restarts and
 * UIDVALIDITY changes, and bootstrap.  Exactness is checked on the model
 * itself: the trained message counts and the full-precision scores of
 * probe messages must equal those of the expected training history.
 *
 * sort.c calls learn_seen_again() for every known message it finds; some
 * tests also call it again by hand (sighting()): observing a message
 * twice must be harmless.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/filter.h"
#include "agent/learn.h"
#include "agent/message.h"
#include "agent/sort.h"
#include "agent/store_mem.h"
#include "agent/xmem.h"
#include "sieve/sieve.h"
#include "state/ledger.h"
#include "tests/unit/unit.h"

#define CAP	(1 << 20)
#define NPROBE	3

struct fixture {
	char dir[64];
	struct store *store;
	struct ledger *ledger;
	struct filter *filter;
	struct sieve_script *script;
	struct sorter sorter;
	struct learner learner;
	struct sort_stats stats;
};

static struct fixture fx;

static const char rules[] =
    "require [\"fileinto\"];\n"
    "if header :contains \"Subject\" \"WINNER\" {\n"
    "  fileinto \"Junk\";\n"
    "}\n";

/* A message from sender (user@host) relayed by relay [ip]. */
static char *
message(const char *id, const char *from, const char *relay, const char *ip,
    const char *subject, const char *body)
{
	return xasprintf("Received: from %s (%s [%s])\r\n"
	    "\tby mx.owner.example with ESMTPS id %s; "
	    "Mon, 30 Nov 2026 04:00:00 +0000\r\n"
	    "From: %s\r\nTo: owner@owner.example\r\n"
	    "Message-ID: <%s@test>\r\nSubject: %s\r\n"
	    "Date: Mon, 30 Nov 2026 04:00:00 +0000\r\n\r\n%s\r\n",
	    relay, relay, ip, id, from, id, subject, body);
}

/* A friend's message, for tests that need ordinary mail; free() it. */
static char *
friends_message(const char *id)
{
	return message(id, "friend@home.example", "smtp.home.example",
	    "203.0.113.5", "hello", "Are you coming to the concert?");
}

static const char *const ham_bodies[] = {
	"Hi, the quarterly report is attached; can we meet on Tuesday to "
	"go through the numbers?",
	"Thanks for the review. I pushed the changes to the branch and "
	"updated the tests.",
	"Dinner at our place on Saturday? Bring the kids, we will grill.",
	"The build is green again after the library upgrade; details in "
	"the ticket.",
	"Reminder: the dentist appointment moved to Thursday at ten.",
	"Here are the minutes of yesterday's meeting with the action items.",
};

static const char *const spam_bodies[] = {
	"Congratulations! You are a WINNER of our casino bonus, claim your "
	"free money now, click here, limited offer!!!",
	"Cheap pills online, no prescription, best prices, click here to "
	"order viagra now",
	"You have won a lottery prize, send your bank details to claim the "
	"million dollars today",
};

static void
train_background_into(struct filter *f)
{
	char *err = NULL;

	for (size_t i = 0; i < 12; i++) {
		char id[32], *m;
		snprintf(id, sizeof(id), "bg-ham-%zu", i);
		m = message(id, "colleague@work.example", "mail.work.example",
		    "192.0.2.10", "work notes", ham_bodies[i % 6]);
		ck_assert_msg(filter_learn(f, m, strlen(m), 0, 0,
		    &err) == 0, "%s", err);
		free(m);
	}
	for (size_t i = 0; i < 6; i++) {
		char id[32], *m;
		snprintf(id, sizeof(id), "bg-spam-%zu", i);
		m = message(id, "promo@spam.example", "bulk.spam.example",
		    "198.51.100.7", "you won", spam_bodies[i % 3]);
		ck_assert_msg(filter_learn(f, m, strlen(m), 1, 0,
		    &err) == 0, "%s", err);
		free(m);
	}
}

static void
open_state(void)
{
	char *path, *err = NULL;

	path = xasprintf("%s/ledger.db", fx.dir);
	ck_assert_msg(ledger_open(path, &fx.ledger, &err) == 0, "%s", err);
	free(path);
	path = xasprintf("%s/tokens.db", fx.dir);
	ck_assert_msg(filter_open(path, &fx.filter, &err) == 0, "%s", err);
	free(path);
	fx.learner = (struct learner){
		.store = fx.store, .ledger = fx.ledger, .filter = fx.filter,
		.junk = "Junk", .trash = "Trash", .max_message_bytes = CAP,
	};
	fx.sorter = (struct sorter){
		.store = fx.store, .ledger = fx.ledger, .script = fx.script,
		.learner = &fx.learner, .junk = "Junk", .trash = "Trash",
		.spam_threshold = 0.99, .ham_threshold = 0.01,
		.max_message_bytes = CAP,
	};
}

static void
close_state(void)
{
	filter_close(&fx.filter);
	ledger_close(&fx.ledger);
}

static void
setup(void)
{
	char *errors = NULL;

	memset(&fx, 0, sizeof(fx));
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/check_learn.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fx.dir));
	fx.store = store_mem_new();
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_msg(sieve_script_parse("test.sieve", rules, &fx.script,
	    &errors) == 0, "script: %s", errors);
	open_state();
	train_background_into(fx.filter);
	/* Junk and Trash exist, empty, before mailsift first looks; INBOX
	 * holds a welcome note. */
	store_mem_set_special(fx.store, "Junk", STORE_SPECIAL_JUNK);
	store_mem_set_special(fx.store, "Trash", STORE_SPECIAL_TRASH);
	{
		char *m = message("welcome", "support@isp.example",
		    "mail.isp.example", "192.0.2.200", "welcome",
		    "Your new mailbox is ready.");
		store_mem_append(fx.store, "INBOX", m, strlen(m), NULL);
		free(m);
	}
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", fx.dir);

	close_state();
	sieve_script_free(&fx.script);
	store_free(&fx.store);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* The model as seen from outside: totals and probe scores. */
struct snapshot {
	unsigned nspam, nham;
	double score[NPROBE];
};

static char *probe[NPROBE];

static void
make_probes(void)
{
	probe[0] = message("X", "friend@home.example", "smtp.home.example",
	    "203.0.113.5", "WINNER photos from the trip",
	    "Here are the photos from the trip, the WINNER of the best shot "
	    "contest gets a free dinner.");
	probe[1] = message("p1", "colleague@work.example",
	    "mail.work.example", "192.0.2.10", "numbers", ham_bodies[0]);
	probe[2] = message("p2", "promo@spam.example", "bulk.spam.example",
	    "198.51.100.7", "offer", spam_bodies[1]);
}

static void
free_probes(void)
{
	for (size_t i = 0; i < NPROBE; i++) {
		free(probe[i]);
		probe[i] = NULL;
	}
}

static void
snap_of(struct filter *f, char *const *probes, struct snapshot *s)
{
	for (size_t i = 0; i < NPROBE; i++) {
		struct filter_result r;
		char *err = NULL;
		ck_assert_msg(filter_score(f, probes[i], strlen(probes[i]), 1,
		    &r, &err) == 0, "%s", err);
		s->score[i] = r.score;
		s->nspam = r.nspam;
		s->nham = r.nham;
		filter_result_release(&r);
	}
}

static void
snap(struct snapshot *s)
{
	snap_of(fx.filter, probe, s);
}

static void
assert_same_model(const struct snapshot *a, const struct snapshot *b,
    const char *what)
{
	ck_assert_msg(a->nspam == b->nspam && a->nham == b->nham,
	    "%s: trained %u spam %u ham, expected %u spam %u ham", what,
	    b->nspam, b->nham, a->nspam, a->nham);
	for (size_t i = 0; i < NPROBE; i++)
		ck_assert_msg(a->score[i] == b->score[i], "%s: probe %zu "
		    "scores %.17g, expected %.17g", what, i, b->score[i],
		    a->score[i]);
}

/* What sort.c's hook does for every known message of box, again. */
static void
sighting(const char *box)
{
	uint32_t uidvalidity, uidnext, *uids = NULL;
	size_t n = 0;

	ck_assert_int_eq(fx.store->ops->select(fx.store, box, &uidvalidity,
	    &uidnext), STORE_OK);
	ck_assert_int_eq(fx.store->ops->list_uids(fx.store, 1, &uids, &n),
	    STORE_OK);
	for (size_t i = 0; i < n; i++) {
		struct store_msg msg;
		struct ledger_message known = { 0 };
		char hash[MESSAGE_HASH_LEN + 1];
		int truncated, handled;

		ck_assert_int_eq(fx.store->ops->fetch(fx.store, uids[i], CAP,
		    &msg, &truncated), STORE_OK);
		message_hash(msg.data, msg.len, hash);
		if (ledger_message_find(fx.ledger, hash, &known) == 1) {
			ck_assert_int_eq(learn_seen_again(&fx.learner, box,
			    &msg, &known, &handled), STORE_OK);
			ledger_message_release(&known);
		}
		store_msg_release(&msg);
	}
	free(uids);
}

static const char *const watched[] = { "INBOX" };

/* One daemon cycle: sort INBOX (with the hook), then the learner's
 * scans, as daemon.c does. */
static void
cycle(void)
{
	ck_assert_int_eq(sort_folder(&fx.sorter, "INBOX", &fx.stats),
	    STORE_OK);
	ck_assert_int_eq(learn_scan_junk(&fx.learner), STORE_OK);
	ck_assert_int_eq(learn_scan_elsewhere(&fx.learner, watched, 1),
	    STORE_OK);
	ck_assert_int_eq(learn_scan_keywords(&fx.learner, "INBOX"), STORE_OK);
	ck_assert_int_eq(learn_scan_keywords(&fx.learner, "Junk"), STORE_OK);
}

static uint32_t
deliver(const char *box, const char *data)
{
	return store_mem_append(fx.store, box, data, strlen(data), NULL);
}

/* uid of the (only) message of box whose Message-ID is <id@test>. */
static uint32_t
uid_of(const char *box, const char *id)
{
	char want[64];

	snprintf(want, sizeof(want), "<%s@test>", id);
	for (size_t i = 0; i < store_mem_count(fx.store, box); i++) {
		const struct store_msg *m = store_mem_at(fx.store, box, i);
		if (strstr(m->data, want) != NULL)
			return m->uid;
	}
	return 0;
}

static const struct store_msg *
msg_of(const char *box, const char *id)
{
	uint32_t uid = uid_of(box, id);

	return uid ? store_mem_get(fx.store, box, uid) : NULL;
}

static void
ledger_state(const char *data, struct ledger_message *m)
{
	char hash[MESSAGE_HASH_LEN + 1];

	message_hash(data, strlen(data), hash);
	ck_assert_int_eq(ledger_message_find(fx.ledger, hash, m), 1);
}

static size_t
ncorrections(void)
{
	struct ledger_correction *v;
	size_t n;

	ck_assert_int_eq(ledger_corrections_recent(fx.ledger, 0, 0, &v, &n),
	    0);
	ledger_corrections_free(v, n);
	return n;
}

/* Sets keywords on a message as another mail client would (through the
 * test's connection: a fault injected for mailsift may hit it, so it
 * reconnects and retries; setting flags twice is harmless). */
static void
client_flags(const char *box, uint32_t uid, const char *add, const char *del)
{
	const char *a[] = { add, NULL }, *d[] = { del, NULL };
	enum store_status st;
	uint32_t uv, next;
	int tries = 0;

	do {
		st = fx.store->ops->select(fx.store, box, &uv, &next);
		if (st == STORE_OK)
			st = fx.store->ops->set_flags(fx.store, uid,
			    add ? a : NULL, del ? d : NULL);
		if (st == STORE_CONN_LOST)
			ck_assert_int_eq(fx.store->ops->connect(fx.store),
			    STORE_OK);
	} while (st == STORE_CONN_LOST && ++tries < 10);
	ck_assert_int_eq(st, STORE_OK);
}

static int
has(const struct store_msg *m, const char *flag)
{
	return store_has_flag(m->flags, m->nflags, flag);
}

/* Probe X, filed into Junk, was rescued into box: trained ham once,
 * tagged $NotJunk. */
static void
assert_rescued(const char *box)
{
	struct ledger_message m = { 0 };
	const struct store_msg *x = msg_of(box, "X");

	ck_assert_ptr_nonnull(x);
	ck_assert(has(x, "$NotJunk") && !has(x, "$Junk"));
	ledger_state(probe[0], &m);
	ck_assert_str_eq(m.trained, "ham");
	ck_assert_int_eq(m.rescued, 1);
	ledger_message_release(&m);
}

START_TEST(rescue_from_junk_trains_ham_once_and_stays)
{
	struct snapshot before, after, again;

	make_probes();
	cycle();			/* first look: empty Junk */
	deliver("INBOX", probe[0]);
	cycle();
	ck_assert_uint_eq(uid_of("Junk", "X") != 0, 1);	/* the rule */
	ck_assert_uint_eq(ncorrections(), 0);
	snap(&before);

	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "X"),
	    "INBOX");
	cycle();
	assert_rescued("INBOX");
	ck_assert_uint_eq(ncorrections(), 1);
	snap(&after);
	ck_assert_uint_eq(after.nham, before.nham + 1);
	ck_assert_uint_eq(after.nspam, before.nspam);
	ck_assert(after.score[0] < before.score[0]);

	/* More cycles, a restart and a renumbered INBOX change nothing, and
	 * the message stays where the owner put it. */
	cycle();
	sighting("INBOX");
	close_state();
	open_state();
	store_mem_reset_uidvalidity(fx.store, "INBOX");
	store_mem_reset_uidvalidity(fx.store, "Junk");
	cycle();
	cycle();
	ck_assert_uint_eq(uid_of("INBOX", "X") != 0, 1);
	ck_assert_uint_eq(store_mem_count(fx.store, "Junk"), 0);
	ck_assert_uint_eq(ncorrections(), 1);
	snap(&again);
	assert_same_model(&after, &again, "after restart and re-scan");
	free_probes();
}
END_TEST

START_TEST(rescue_into_an_unwatched_folder_trains_ham)
{
	struct ledger_message m = { 0 };
	char hash[MESSAGE_HASH_LEN + 1];
	uint32_t uid;

	make_probes();
	deliver("Archive", probe[1]);	/* there before the first look */
	cycle();
	deliver("INBOX", probe[0]);
	cycle();
	ck_assert_uint_eq(uid_of("Junk", "X") != 0, 1);	/* the rule */
	ck_assert_uint_eq(ncorrections(), 0);

	/* Into a folder that existed, then into one the drag creates. */
	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "X"),
	    "Archive");
	cycle();
	assert_rescued("Archive");
	ck_assert_uint_eq(ncorrections(), 1);
	cycle();
	ck_assert_uint_eq(ncorrections(), 1);	/* once */

	/* Back into Junk by the owner, then out into a new folder. */
	uid = store_mem_client_move(fx.store, "Archive",
	    uid_of("Archive", "X"), "Junk");
	ck_assert_uint_ne(uid, 0);
	cycle();
	ledger_state(probe[0], &m);
	ck_assert_str_eq(m.trained, "spam");
	ledger_message_release(&m);
	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "X"),
	    "Keep/2026");
	cycle();
	ledger_state(probe[0], &m);
	ck_assert_str_eq(m.trained, "ham");
	ledger_message_release(&m);
	ck_assert_uint_eq(ncorrections(), 3);
	/* What was in Archive before the first look was not even read. */
	message_hash(probe[1], strlen(probe[1]), hash);
	ck_assert_int_eq(ledger_message_find(fx.ledger, hash, &m), 0);
	free_probes();
}
END_TEST

START_TEST(other_mailboxes_are_swept_only_after_junk_lost_mail)
{
	make_probes();
	cycle();
	cycle();
	cycle();			/* the first look's sweeps are done */
	deliver("INBOX", probe[0]);	/* filed into Junk: an arrival */
	/* A tripwire: the next listing of the mailboxes fails. */
	store_mem_fail(fx.store, "list_boxes", 1, STORE_FATAL, 0);
	cycle();
	cycle();
	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "X"),
	    "Archive");
	ck_assert_int_eq(learn_scan_junk(&fx.learner), STORE_OK);
	ck_assert_int_eq(learn_scan_elsewhere(&fx.learner, watched, 1),
	    STORE_FATAL);		/* it swept */
	cycle();
	assert_rescued("Archive");
	free_probes();
}
END_TEST

START_TEST(sweeps_look_read_only_and_skip_big_new_mailboxes)
{
	make_probes();
	cycle();
	cycle();
	cycle();
	/* An import made since the first look: too big to read whole. */
	for (int i = 0; i <= 100; i++) {
		char id[16], *m;

		snprintf(id, sizeof(id), "imp%d", i);
		m = friends_message(id);
		deliver("Import", m);
		free(m);
	}
	deliver("INBOX", probe[0]);
	cycle();			/* filed into Junk */
	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "X"),
	    "Trash");			/* Junk lost a message: a sweep */
	ck_assert_int_eq(learn_scan_junk(&fx.learner), STORE_OK);
	/* Tripwires: the sweep opens nothing read-write and reads no
	 * message of the import. */
	store_mem_fail(fx.store, "select", 1, STORE_FATAL, 0);
	store_mem_fail(fx.store, "fetch", 1, STORE_FATAL, 0);
	ck_assert_int_eq(learn_scan_elsewhere(&fx.learner, watched, 1),
	    STORE_OK);
	free_probes();
}
END_TEST

START_TEST(owner_drag_into_junk_trains_spam)
{
	struct snapshot before, after;
	struct ledger_message m = { 0 };
	const struct store_msg *x;
	char *ham = message("h1", "friend@home.example", "smtp.home.example",
	    "203.0.113.5", "hello", "Shall we go hiking on Sunday morning?");

	make_probes();
	cycle();
	deliver("INBOX", ham);
	cycle();
	ck_assert_uint_eq(uid_of("INBOX", "h1") != 0, 1);
	snap(&before);
	store_mem_client_move(fx.store, "INBOX", uid_of("INBOX", "h1"),
	    "Junk");
	cycle();
	x = msg_of("Junk", "h1");
	ck_assert(has(x, "$Junk"));
	ledger_state(ham, &m);
	ck_assert_str_eq(m.trained, "spam");
	ck_assert_int_eq(m.rescued, 0);
	ledger_message_release(&m);
	snap(&after);
	ck_assert_uint_eq(after.nspam, before.nspam + 1);
	ck_assert_uint_eq(ncorrections(), 1);
	cycle();
	ck_assert_uint_eq(ncorrections(), 1);
	free(ham);
	free_probes();
}
END_TEST

START_TEST(trash_is_no_opinion)
{
	struct snapshot before, after;
	struct ledger_message m = { 0 };

	make_probes();
	cycle();
	deliver("INBOX", probe[0]);	/* filed into Junk by the rule */
	cycle();
	snap(&before);
	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "X"),
	    "Trash");
	cycle();
	ck_assert_int_eq(learn_scan_keywords(&fx.learner, "Trash"), STORE_OK);
	snap(&after);
	assert_same_model(&before, &after, "after Junk -> Trash");
	ck_assert_uint_eq(ncorrections(), 0);
	ledger_state(probe[0], &m);
	ck_assert_str_eq(m.trained, "");
	ledger_message_release(&m);
	free_probes();
}
END_TEST

START_TEST(mailsifts_own_junk_keyword_is_not_an_opinion)
{
	struct snapshot before, after;

	make_probes();
	cycle();
	deliver("INBOX", probe[0]);
	cycle();
	client_flags("Junk", uid_of("Junk", "X"), "$Junk", NULL);
	snap(&before);
	cycle();
	snap(&after);
	assert_same_model(&before, &after, "own $Junk");
	ck_assert_uint_eq(ncorrections(), 0);
	free_probes();
}
END_TEST

/* A message trained as ham already (train --from-folders read it in
 * Archive), then filed into Junk by the rule: the $Junk mailsift put on
 * it is still not the owner's, and its training stays ham. */
START_TEST(own_junk_keyword_on_a_message_trained_as_ham_is_not_an_opinion)
{
	static const char *const ham_folders[] = { "Archive" };
	const char *seen[] = { "\\Seen", NULL };
	struct learn_summary sum;
	struct ledger_message m = { 0 };
	struct snapshot before, after;
	char *err = NULL;

	make_probes();
	cycle();
	store_mem_append(fx.store, "Archive", probe[0], strlen(probe[0]),
	    seen);
	ck_assert_msg(learn_bootstrap(&fx.learner, ham_folders, 1, 0, NULL,
	    NULL, &sum, &err) == 0, "%s", err);
	ck_assert_uint_eq(sum.ham, 1);
	snap(&before);
	store_mem_client_move(fx.store, "Archive", uid_of("Archive", "X"),
	    "INBOX");
	cycle();
	ck_assert_uint_ne(uid_of("Junk", "X"), 0);	/* the rule */
	cycle();
	snap(&after);
	assert_same_model(&before, &after, "own $Junk on a ham message");
	ck_assert_uint_eq(ncorrections(), 1);	/* the bootstrap */
	ledger_state(probe[0], &m);
	ck_assert_str_eq(m.trained, "ham");
	ledger_message_release(&m);
	free_probes();
}
END_TEST

/* A move into Junk the server refused, whose $Junk could not even be
 * taken off again: the ledger knows that $Junk is mailsift's, so no
 * scan learns it as the owner's. */
START_TEST(flags_of_a_refused_move_are_not_an_opinion)
{
	struct snapshot before, after;
	const struct store_msg *m;

	make_probes();
	cycle();
	store_mem_fail(fx.store, "move", 1, STORE_BOX_BAD, 0);
	store_mem_fail(fx.store, "set_flags", 2, STORE_BOX_BAD, 0);
	snap(&before);
	deliver("INBOX", probe[0]);
	cycle();
	cycle();
	snap(&after);
	m = store_mem_get(fx.store, "INBOX", uid_of("INBOX", "X"));
	ck_assert_ptr_nonnull(m);
	ck_assert(store_has_flag(m->flags, m->nflags, "$Junk"));
	assert_same_model(&before, &after, "refused move's $Junk");
	ck_assert_uint_eq(ncorrections(), 0);
	free_probes();
}
END_TEST

START_TEST(notjunk_keyword_trains_ham_once)
{
	static const char *const names[] = { "$NotJunk", "NonJunk" };

	for (size_t k = 0; k < 2; k++) {
		struct snapshot before, after, again;
		struct ledger_message m = { 0 };
		char id[16], *ham;

		snprintf(id, sizeof(id), "kw%zu", k);
		ham = message(id, "friend@home.example", "smtp.home.example",
		    "203.0.113.5", "hello", "Are you coming to the concert?");
		make_probes();
		cycle();
		deliver("INBOX", ham);
		cycle();
		snap(&before);
		client_flags("INBOX", uid_of("INBOX", id), names[k], NULL);
		cycle();
		ledger_state(ham, &m);
		ck_assert_str_eq(m.trained, "ham");
		ledger_message_release(&m);
		snap(&after);
		ck_assert_uint_eq(after.nham, before.nham + 1);
		cycle();
		close_state();
		open_state();
		cycle();
		snap(&again);
		assert_same_model(&after, &again, names[k]);
		ck_assert_uint_eq(ncorrections(), k + 1);
		free(ham);
		free_probes();
	}
}
END_TEST

/* The message with these bytes is trained as want ("", "spam", "ham"). */
static void
assert_trained(const char *data, const char *want)
{
	struct ledger_message m = { 0 };

	ledger_state(data, &m);
	ck_assert_str_eq(m.trained, want);
	ledger_message_release(&m);
}

START_TEST(unchanged_folder_is_not_read_again)
{
	char *ham = friends_message("kw");

	make_probes();
	cycle();
	deliver("INBOX", ham);
	cycle();
	cycle();
	/* A tripwire: the next read of all flags fails. */
	store_mem_fail(fx.store, "list_flags", 1, STORE_FATAL, 0);
	ck_assert_int_eq(learn_scan_keywords(&fx.learner, "INBOX"), STORE_OK);
	ck_assert_int_eq(learn_scan_keywords(&fx.learner, "INBOX"), STORE_OK);
	/* A keyword set: INBOX's mod-sequence moves, the scan reads. */
	client_flags("INBOX", uid_of("INBOX", "kw"), "$NotJunk", NULL);
	ck_assert_int_eq(learn_scan_keywords(&fx.learner, "INBOX"),
	    STORE_FATAL);
	ck_assert_int_eq(learn_scan_keywords(&fx.learner, "INBOX"), STORE_OK);
	assert_trained(ham, "ham");
	free(ham);
	free_probes();
}
END_TEST

START_TEST(keyword_set_before_sorting_is_not_missed)
{
	static const char *const notjunk[] = { "$NotJunk", NULL };
	char *ham = friends_message("early");

	make_probes();
	cycle();
	cycle();
	/* It arrives with its keyword after the sorter's pass and is above
	 * the mark when the keywords are looked at; then nothing changes
	 * it again.  Only the look at what joined the range finds it. */
	store_mem_append(fx.store, "INBOX", ham, strlen(ham), notjunk);
	ck_assert_int_eq(learn_scan_keywords(&fx.learner, "INBOX"), STORE_OK);
	cycle();
	assert_trained(ham, "ham");
	free(ham);
	free_probes();
}
END_TEST

START_TEST(both_keywords_are_no_opinion)
{
	struct snapshot before, after;
	char *ham = message("both", "friend@home.example", "smtp.home.example",
	    "203.0.113.5", "hello", "See you at the station at eight.");

	make_probes();
	cycle();
	deliver("INBOX", ham);
	cycle();
	snap(&before);
	client_flags("INBOX", uid_of("INBOX", "both"), "$Junk", NULL);
	client_flags("INBOX", uid_of("INBOX", "both"), "$NotJunk", NULL);
	cycle();
	snap(&after);
	assert_same_model(&before, &after, "$Junk and $NotJunk");
	ck_assert_uint_eq(ncorrections(), 0);
	free(ham);
	free_probes();
}
END_TEST

START_TEST(flip_flop_last_opinion_wins)
{
	struct snapshot base, as_spam, now;
	struct ledger_message m = { 0 };
	const char *x = NULL;
	char *err = NULL;

	make_probes();
	x = probe[0];
	cycle();
	snap(&base);
	/* Arrives, filed into Junk by the rule (untrained). */
	deliver("INBOX", x);
	cycle();
	/* Rescued: ham. */
	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "X"), "INBOX");
	cycle();
	/* Back into Junk: spam. */
	store_mem_client_move(fx.store, "INBOX", uid_of("INBOX", "X"), "Junk");
	cycle();
	snap(&as_spam);
	ck_assert_uint_eq(as_spam.nspam, base.nspam + 1);
	ck_assert_uint_eq(as_spam.nham, base.nham);
	/* $NotJunk in Junk: ham; then $Junk again: spam. */
	client_flags("Junk", uid_of("Junk", "X"), "$NotJunk", "$Junk");
	cycle();
	snap(&now);
	ck_assert_uint_eq(now.nham, base.nham + 1);
	ck_assert_uint_eq(now.nspam, base.nspam);
	client_flags("Junk", uid_of("Junk", "X"), "$Junk", "$NotJunk");
	cycle();
	snap(&now);
	assert_same_model(&as_spam, &now, "spam, ham, spam, ham, spam");
	/* Out and in once more: the model holds exactly one spam copy. */
	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "X"), "INBOX");
	cycle();
	store_mem_client_move(fx.store, "INBOX", uid_of("INBOX", "X"), "Junk");
	cycle();
	snap(&now);
	assert_same_model(&as_spam, &now, "after a second round trip");
	ledger_state(x, &m);
	ck_assert_str_eq(m.trained, "spam");
	ledger_message_release(&m);
	ck_assert_uint_eq(ncorrections(), 6);
	/* Untraining that one copy gives the model before any opinion. */
	ck_assert_msg(filter_learn(fx.filter, x, strlen(x), 1, 1, &err) == 0,
	    "%s", err);
	snap(&now);
	assert_same_model(&base, &now, "untrained once");
	free_probes();
}
END_TEST

START_TEST(interrupted_rescue_is_completed_not_repeated)
{
	struct snapshot after, again;
	const struct store_msg *x;

	make_probes();
	cycle();
	deliver("INBOX", probe[0]);
	cycle();
	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "X"), "INBOX");
	/* The connection drops while the keywords are being set: trained,
	 * flags not yet set; sort_folder stops there. */
	store_mem_fail(fx.store, "set_flags", 1, STORE_CONN_LOST, 0);
	ck_assert_int_eq(sort_folder(&fx.sorter, "INBOX", &fx.stats),
	    STORE_CONN_LOST);
	snap(&after);
	ck_assert_uint_eq(ncorrections(), 1);
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	cycle();
	x = msg_of("INBOX", "X");
	ck_assert(has(x, "$NotJunk") && !has(x, "$Junk"));
	snap(&again);
	assert_same_model(&after, &again, "after the reconnect");
	ck_assert_uint_eq(ncorrections(), 1);
	free_probes();
}
END_TEST

START_TEST(first_look_leaves_old_junk_to_bootstrap)
{
	struct snapshot before, after;
	char *old = message("old", "win@prize.example", "out.prize.example",
	    "198.51.100.99", "prize", spam_bodies[2]);
	char *ham = message("new", "friend@home.example", "smtp.home.example",
	    "203.0.113.5", "hello", "Coffee tomorrow at nine?");

	make_probes();
	deliver("Junk", old);	/* there before mailsift */
	snap(&before);
	cycle();
	cycle();
	snap(&after);
	assert_same_model(&before, &after, "old Junk content");
	deliver("INBOX", ham);
	cycle();
	store_mem_client_move(fx.store, "INBOX", uid_of("INBOX", "new"),
	    "Junk");
	cycle();
	snap(&after);
	ck_assert_uint_eq(after.nspam, before.nspam + 1);
	ck_assert_uint_eq(ncorrections(), 1);
	free(old);
	free(ham);
	free_probes();
}
END_TEST

START_TEST(junk_created_later_is_watched_from_its_start)
{
	struct snapshot before, after;
	struct ledger_message m = { 0 };
	char *ham = message("h2", "friend@home.example", "smtp.home.example",
	    "203.0.113.5", "hello", "The tickets for Friday are booked.");

	/* A mailbox with no Junk and no Trash yet. */
	close_state();
	store_free(&fx.store);
	fx.store = store_mem_new();
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	open_state();
	make_probes();
	deliver("INBOX", ham);
	cycle();			/* no Junk: nothing to look at */
	deliver("INBOX", probe[0]);	/* the rule creates Junk */
	cycle();
	ck_assert_uint_eq(uid_of("Junk", "X") != 0, 1);
	snap(&before);
	store_mem_client_move(fx.store, "INBOX", uid_of("INBOX", "h2"),
	    "Junk");
	cycle();
	snap(&after);
	ck_assert_uint_eq(after.nspam, before.nspam + 1);
	ck_assert_uint_eq(ncorrections(), 1);	/* not mailsift's own */
	ledger_state(probe[0], &m);
	ck_assert_str_eq(m.trained, "");
	ck_assert_str_eq(m.seen_in, "Junk");
	ledger_message_release(&m);
	free(ham);
	free_probes();
}
END_TEST

/* A cycle that survives dropped connections, as the daemon does: after
 * CONN_LOST it reconnects and starts the cycle again. */
static void
cycle_reconnecting(void)
{
	enum store_status st;
	int tries = 0;

	do {
		st = sort_folder(&fx.sorter, "INBOX", &fx.stats);
		if (st == STORE_OK)
			st = learn_scan_junk(&fx.learner);
		if (st == STORE_OK)
			st = learn_scan_keywords(&fx.learner, "INBOX");
		if (st == STORE_OK)
			st = learn_scan_keywords(&fx.learner, "Junk");
		if (st == STORE_CONN_LOST)
			ck_assert_int_eq(fx.store->ops->connect(fx.store),
			    STORE_OK);
	} while (st == STORE_CONN_LOST && ++tries < 20);
	ck_assert_int_eq(st, STORE_OK);
}

/* Where message id is now, or NULL. */
static const char *
where_is(const char *id)
{
	static const char *const boxes[] = { "INBOX", "Junk", "Trash" };

	for (size_t b = 0; b < 3; b++)
		if (uid_of(boxes[b], id) != 0)
			return boxes[b];
	return NULL;
}

START_TEST(random_owner_actions_keep_the_model_equal_to_the_ledger)
{
	enum { NMSG = 6, STEPS = 400 };
	static const char *const ops[] = { "select", "list_uids", "fetch",
	    "list_flags", "set_flags", "move" };
	static const char *const boxes[] = { "INBOX", "Junk", "Trash" };
	char *msgs[NMSG], ids[NMSG][8];
	struct filter *ref = NULL;
	unsigned seed = 20261130;
	char *path, *err = NULL;
	size_t changes;

	make_probes();
	cycle();
	for (size_t i = 0; i < NMSG; i++) {
		snprintf(ids[i], sizeof(ids[i]), "r%zu", i);
		msgs[i] = message(ids[i], "someone@random.example",
		    "smtp.random.example", "203.0.113.77",
		    i % 2 ? "WINNER news" : "news", ham_bodies[i]);
		deliver("INBOX", msgs[i]);
	}
	cycle();
	for (int step = 0; step < STEPS; step++) {
		size_t i = (size_t)rand_r(&seed) % NMSG;
		const char *box = where_is(ids[i]), *to;
		uint32_t uid = box ? uid_of(box, ids[i]) : 0;

		ck_assert_ptr_nonnull(box);
		switch (rand_r(&seed) % 10) {
		case 0: case 1: case 2:
			to = boxes[rand_r(&seed) % 3];
			if (strcmp(to, box) != 0)
				store_mem_client_move(fx.store, box, uid, to);
			break;
		case 3:
			client_flags(box, uid, "$Junk", "$NotJunk");
			break;
		case 4:
			client_flags(box, uid, "$NotJunk", "$Junk");
			break;
		case 5:
			client_flags(box, uid, "$Junk", NULL);
			client_flags(box, uid, "$NotJunk", NULL);
			break;
		case 6:
			client_flags(box, uid, NULL, "$Junk");
			client_flags(box, uid, NULL, "$NotJunk");
			break;
		case 7:
			close_state();
			open_state();
			break;
		case 8:
			store_mem_reset_uidvalidity(fx.store,
			    boxes[rand_r(&seed) % 2]);
			break;
		case 9:
			store_mem_fail(fx.store, ops[rand_r(&seed) % 6],
			    1 + rand_r(&seed) % 4, STORE_CONN_LOST,
			    rand_r(&seed) % 2);
			break;
		}
		cycle_reconnecting();
	}
	/* Faults left pending must not fire into the final checks. */
	for (int k = 0; k < 5; k++)
		cycle_reconnecting();
	changes = ncorrections();
	ck_assert_msg(changes >= 20, "only %zu corrections in %d steps",
	    changes, STEPS);

	/* The model must be exactly the background plus the ledger's
	 * corrections replayed in order: every change of the model is
	 * recorded, once, and nothing else changed it.  (The classifier
	 * learns online, so the order of trainings matters.) */
	path = xasprintf("%s/ref.db", fx.dir);
	ck_assert_msg(filter_open(path, &ref, &err) == 0, "%s", err);
	free(path);
	train_background_into(ref);
	{
		struct ledger_correction *v;
		size_t nv;
		int64_t row[NMSG];

		for (size_t i = 0; i < NMSG; i++) {
			struct ledger_message m = { 0 };
			ledger_state(msgs[i], &m);
			row[i] = m.id;
			ledger_message_release(&m);
		}
		ck_assert_int_eq(ledger_corrections_recent(fx.ledger, 0, 0, &v,
		    &nv), 0);
		for (size_t c = nv; c-- > 0;) {		/* oldest first */
			size_t i = 0;
			while (i < NMSG && row[i] != v[c].message)
				i++;
			ck_assert_uint_lt(i, NMSG);
			if (v[c].old_trained[0] != '\0')
				ck_assert_msg(filter_learn(ref, msgs[i],
				    strlen(msgs[i]), v[c].old_trained[0] == 's',
				    1, &err) == 0, "%s", err);
			ck_assert_msg(filter_learn(ref, msgs[i], strlen(msgs[i]),
			    v[c].new_trained[0] == 's', 0, &err) == 0, "%s",
			    err);
		}
		ledger_corrections_free(v, nv);
	}
	/* And the ledger's final state is what its corrections say. */
	for (size_t i = 0; i < NMSG; i++) {
		struct ledger_correction *v;
		struct ledger_message m = { 0 };
		size_t nv;

		ledger_state(msgs[i], &m);
		ck_assert_int_eq(ledger_corrections_recent(fx.ledger, m.id, 1,
		    &v, &nv), 0);
		ck_assert_str_eq(m.trained, nv ? v[0].new_trained : "");
		ledger_corrections_free(v, nv);
		ledger_message_release(&m);
	}
	for (size_t i = 0; i < NMSG; i += NPROBE) {
		struct snapshot want, got;
		snap_of(ref, &msgs[i], &want);
		snap_of(fx.filter, &msgs[i], &got);
		assert_same_model(&want, &got, "model against the ledger");
	}
	filter_close(&ref);
	for (size_t i = 0; i < NMSG; i++)
		free(msgs[i]);
	free_probes();
}
END_TEST

START_TEST(a_replaced_model_does_not_block_corrections)
{
	struct snapshot fresh, after;
	struct ledger_message m = { 0 };
	char *ham = message("h3", "friend@home.example", "smtp.home.example",
	    "203.0.113.5", "hello", "The plumber comes on Wednesday.");
	char *cmd;

	make_probes();
	cycle();
	deliver("INBOX", ham);
	cycle();
	store_mem_client_move(fx.store, "INBOX", uid_of("INBOX", "h3"),
	    "Junk");
	cycle();
	ledger_state(ham, &m);
	ck_assert_str_eq(m.trained, "spam");
	ledger_message_release(&m);
	/* The owner starts the model afresh; the ledger remembers. */
	close_state();
	cmd = xasprintf("rm -f '%s'/tokens.db*", fx.dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	open_state();
	train_background_into(fx.filter);
	snap(&fresh);
	store_mem_client_move(fx.store, "Junk", uid_of("Junk", "h3"),
	    "INBOX");
	cycle();
	ledger_state(ham, &m);
	ck_assert_str_eq(m.trained, "ham");
	ledger_message_release(&m);
	snap(&after);
	ck_assert_uint_eq(after.nham, fresh.nham + 1);
	ck_assert_uint_eq(after.nspam, fresh.nspam);
	ck_assert_uint_eq(ncorrections(), 2);
	free(ham);
	free_probes();
}
END_TEST

static void
count_progress(void *arg, const char *folder, size_t done, size_t total)
{
	(void)folder;
	ck_assert(done >= 1 && done <= total);
	(*(size_t *)arg)++;
}

START_TEST(bootstrap_learns_junk_and_inbox_once)
{
	static const char *const ham_folders[] = { "INBOX" };
	struct learn_summary sum;
	struct snapshot before, after, again;
	size_t calls = 0;
	char *err = NULL;

	make_probes();
	for (size_t i = 0; i < 3; i++) {
		char id[16], *m;
		snprintf(id, sizeof(id), "s%zu", i);
		m = message(id, "win@prize.example", "out.prize.example",
		    "198.51.100.99", "prize", spam_bodies[i]);
		deliver("Junk", m);	/* unread: Junk is spam all the same */
		free(m);
	}
	for (size_t i = 0; i < 4; i++) {
		char id[16], *m;
		const char *seen[] = { "\\Seen", NULL };
		const char *junk[] = { "\\Seen", "$Junk", NULL };
		snprintf(id, sizeof(id), "h%zu", i);
		m = message(id, "friend@home.example", "smtp.home.example",
		    "203.0.113.5", "news", ham_bodies[i]);
		store_mem_append(fx.store, "INBOX", m, strlen(m),
		    i == 3 ? junk : seen);
		free(m);
	}
	snap(&before);
	ck_assert_msg(learn_bootstrap(&fx.learner, ham_folders, 1, 0,
	    count_progress, &calls, &sum, &err) == 0, "%s", err);
	ck_assert_uint_eq(sum.spam, 3);
	ck_assert_uint_eq(sum.ham, 3);
	ck_assert_uint_eq(sum.skipped, 1);	/* $Junk in INBOX */
	ck_assert_uint_eq(sum.unread, 1);	/* the welcome note */
	ck_assert_uint_eq(sum.unchanged, 0);
	ck_assert_uint_eq(calls, 8);
	snap(&after);
	ck_assert_uint_eq(after.nspam, before.nspam + 3);
	ck_assert_uint_eq(after.nham, before.nham + 3);

	close_state();
	open_state();
	ck_assert_msg(learn_bootstrap(&fx.learner, ham_folders, 1, 0, NULL,
	    NULL, &sum, &err) == 0, "%s", err);
	ck_assert_uint_eq(sum.spam + sum.ham, 0);
	ck_assert_uint_eq(sum.unchanged, 6);
	ck_assert_uint_eq(sum.unread, 1);
	snap(&again);
	assert_same_model(&after, &again, "second bootstrap");
	/* Asked to, it learns the unread note as ham too. */
	ck_assert_msg(learn_bootstrap(&fx.learner, ham_folders, 1, 1, NULL,
	    NULL, &sum, &err) == 0, "%s", err);
	ck_assert_uint_eq(sum.ham, 1);
	ck_assert_uint_eq(sum.unchanged, 6);
	ck_assert_uint_eq(sum.unread, 0);
	/* The daemon's first look afterwards takes the $Junk keyword in
	 * INBOX as the owner's opinion, once; nothing else changes. */
	cycle();
	cycle();
	snap(&again);
	ck_assert_uint_eq(again.nspam, after.nspam + 1);
	ck_assert_uint_eq(again.nham, after.nham + 1);
	free_probes();
}
END_TEST

/* Three spam in Junk, nham read ham in INBOX (besides the welcome note,
 * unread, which the bootstrap leaves out). */
static void
bootstrap_mailbox(size_t nham)
{
	const char *seen[] = { "\\Seen", NULL };

	for (size_t i = 0; i < 3; i++) {
		char id[16], *m;
		snprintf(id, sizeof(id), "s%zu", i);
		m = message(id, "win@prize.example", "out.prize.example",
		    "198.51.100.99", "prize", spam_bodies[i]);
		deliver("Junk", m);
		free(m);
	}
	for (size_t i = 0; i < nham; i++) {
		char id[32], *m;
		snprintf(id, sizeof(id), "h%zu", i);
		m = message(id, "friend@home.example", "smtp.home.example",
		    "203.0.113.5", "news", ham_bodies[i % 4]);
		store_mem_append(fx.store, "INBOX", m, strlen(m), seen);
		free(m);
	}
}

/* The bootstrap trains in batches, the ledger first: a crash inside a
 * batch leaves trainings the ledger records and the model lacks (here:
 * the token store lost altogether).  Running it again trains them. */
START_TEST(bootstrap_again_fills_in_what_the_model_lacks)
{
	static const char *const ham_folders[] = { "INBOX" };
	struct learn_summary sum;
	struct snapshot after, again;
	char *err = NULL, *cmd;

	make_probes();
	bootstrap_mailbox(4);
	ck_assert_msg(learn_bootstrap(&fx.learner, ham_folders, 1, 0, NULL,
	    NULL, &sum, &err) == 0, "%s", err);
	snap(&after);

	close_state();
	cmd = xasprintf("rm -f '%s'/tokens.db*", fx.dir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	open_state();
	train_background_into(fx.filter);
	ck_assert_msg(learn_bootstrap(&fx.learner, ham_folders, 1, 0, NULL,
	    NULL, &sum, &err) == 0, "%s", err);
	ck_assert_uint_eq(sum.spam, 3);
	ck_assert_uint_eq(sum.ham, 4);
	ck_assert_uint_eq(sum.unchanged, 0);
	ck_assert_uint_eq(sum.unread, 1);
	snap(&again);
	assert_same_model(&after, &again, "bootstrap after the loss");
	free_probes();
}
END_TEST

/* A connection lost half-way: what the ledger recorded before it is in
 * the model too (its batch is committed), and the next run does the
 * rest, each message once.  The bootstrap fetches 64 messages together:
 * the connection is lost in INBOX's second fetch, after the first 64
 * were trained in a model transaction still open. */
START_TEST(bootstrap_cut_short_keeps_model_and_ledger_in_step)
{
	static const char *const ham_folders[] = { "INBOX" };
	struct learn_summary sum;
	struct snapshot before, cut, after;
	char *err = NULL;

	make_probes();
	bootstrap_mailbox(70);
	snap(&before);
	/* Junk's three, INBOX's first 64 (the unread welcome note is not
	 * fetched), then the second of the next fetch. */
	store_mem_fail(fx.store, "fetch", 3 + 64 + 2, STORE_CONN_LOST, 0);
	ck_assert_int_eq(learn_bootstrap(&fx.learner, ham_folders, 1, 0, NULL,
	    NULL, &sum, &err), -1);
	ck_assert_ptr_nonnull(err);
	free(err);
	err = NULL;
	ck_assert_uint_eq(sum.spam, 3);
	ck_assert_uint_eq(sum.ham, 64);
	snap(&cut);
	ck_assert_uint_eq(cut.nspam, before.nspam + 3);
	ck_assert_uint_eq(cut.nham, before.nham + 64);
	ck_assert_int_eq(fx.store->ops->connect(fx.store), STORE_OK);
	ck_assert_msg(learn_bootstrap(&fx.learner, ham_folders, 1, 0, NULL,
	    NULL, &sum, &err) == 0, "%s", err);
	ck_assert_uint_eq(sum.spam + sum.ham, 6);
	ck_assert_uint_eq(sum.unchanged, 3 + 64);
	snap(&after);
	ck_assert_uint_eq(after.nspam, before.nspam + 3);
	ck_assert_uint_eq(after.nham, before.nham + 70);
	free_probes();
}
END_TEST

static Suite *
learn_suite(void)
{
	Suite *s = suite_create("learn");
	TCase *tc = tcase_create("learn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rescue_from_junk_trains_ham_once_and_stays);
	tcase_add_test(tc, rescue_into_an_unwatched_folder_trains_ham);
	tcase_add_test(tc, other_mailboxes_are_swept_only_after_junk_lost_mail);
	tcase_add_test(tc, sweeps_look_read_only_and_skip_big_new_mailboxes);
	tcase_add_test(tc, owner_drag_into_junk_trains_spam);
	tcase_add_test(tc, trash_is_no_opinion);
	tcase_add_test(tc, mailsifts_own_junk_keyword_is_not_an_opinion);
	tcase_add_test(tc,
	    own_junk_keyword_on_a_message_trained_as_ham_is_not_an_opinion);
	tcase_add_test(tc, flags_of_a_refused_move_are_not_an_opinion);
	tcase_add_test(tc, notjunk_keyword_trains_ham_once);
	tcase_add_test(tc, both_keywords_are_no_opinion);
	tcase_add_test(tc, unchanged_folder_is_not_read_again);
	tcase_add_test(tc, keyword_set_before_sorting_is_not_missed);
	tcase_add_test(tc, flip_flop_last_opinion_wins);
	tcase_add_test(tc, interrupted_rescue_is_completed_not_repeated);
	tcase_add_test(tc, bootstrap_learns_junk_and_inbox_once);
	tcase_add_test(tc, bootstrap_again_fills_in_what_the_model_lacks);
	tcase_add_test(tc, bootstrap_cut_short_keeps_model_and_ledger_in_step);
	tcase_add_test(tc, first_look_leaves_old_junk_to_bootstrap);
	tcase_add_test(tc, junk_created_later_is_watched_from_its_start);
	tcase_add_test(tc, random_owner_actions_keep_the_model_equal_to_the_ledger);
	tcase_add_test(tc, a_replaced_model_does_not_block_corrections);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(learn_suite)
