/*
 * check_collateral.c - the reason mailsift exists: no collateral damage.
 *
 * A hosting provider relays mail for many customers through
 * mx1.hostco.example; each customer sends from its own subdomain and IP.
 * Customer A sends spam and the owner drags it into Junk, where the
 * learner (agent/learn.c) trains it as spam in the real classifier.
 * Afterwards ordinary mail from customers B and C through the same relay
 * must still score as ham, while further spam from A's exact host must
 * score as spam.  The model starts from a realistic background of ham and
 * spam from other senders (120 ham, 60 spam: what 'train --from-folders'
 * gives on a small mailbox; the classifier does not speak with confidence
 * before it has seen some tens of each), so there is something to compare
 * with.
 * No stub: the real tokenizer, model and token store, the real ledger and
 * the learner over store_mem.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/filter.h"
#include "agent/learn.h"
#include "agent/sort.h"
#include "agent/store_mem.h"
#include "agent/xmem.h"
#include "state/ledger.h"
#include "tests/unit/unit.h"

#define CAP	(1 << 20)
#define ROUNDS	10
#define NLINES	5

struct customer {
	const char *host;	/* the customer's own subdomain */
	const char *ip;
	const char *from;
};

static const struct customer cust_a = {
	"shop-a.hostco.example", "203.0.113.11", "deals@shop-a.hostco.example"
};
static const struct customer cust_b = {
	"bakery-b.hostco.example", "203.0.113.12",
	"orders@bakery-b.hostco.example"
};
static const struct customer cust_c = {
	"clinic-c.hostco.example", "203.0.113.13",
	"appointments@clinic-c.hostco.example"
};

static char dir[64];
static struct store *store;
static struct ledger *ledger;
static struct filter *filter;
static unsigned seq;

/* A message as it arrives through the provider's relay. */
static char *
via_hostco(const struct customer *c, const char *subject, const char *body)
{
	seq++;
	return xasprintf("Received: from mx1.hostco.example "
	    "(mx1.hostco.example [198.51.100.25])\r\n"
	    "\tby mx.owner.example with ESMTPS id h%u;\r\n"
	    "\tMon, 30 Nov 2026 04:%02u:00 +0000\r\n"
	    "Received: from %s (%s [%s])\r\n"
	    "\tby mx1.hostco.example with ESMTPSA id c%u;\r\n"
	    "\tMon, 30 Nov 2026 04:%02u:00 +0000\r\n"
	    "From: %s\r\nTo: owner@owner.example\r\n"
	    "Message-ID: <%u.%s>\r\nSubject: %s\r\n"
	    "Date: Mon, 30 Nov 2026 04:%02u:00 +0000\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "\r\n%s\r\n", seq, seq % 60, c->host, c->host, c->ip, seq,
	    seq % 60, c->from, seq, c->host, subject, seq % 60, body);
}

/* A message from some other sender, direct. */
static char *
direct(const char *from, const char *host, const char *ip,
    const char *subject, const char *body)
{
	seq++;
	return xasprintf("Received: from %s (%s [%s])\r\n"
	    "\tby mx.owner.example with ESMTPS id d%u;\r\n"
	    "\tMon, 30 Nov 2026 03:%02u:00 +0000\r\n"
	    "From: %s\r\nTo: owner@owner.example\r\n"
	    "Message-ID: <%u.%s>\r\nSubject: %s\r\n"
	    "Date: Mon, 30 Nov 2026 03:%02u:00 +0000\r\n"
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "\r\n%s\r\n", host, host, ip, seq, seq % 60, from, seq, host,
	    subject, seq % 60, body);
}

struct background {
	const char *from, *host;
	const char *ip;		/* first three octets */
	const char *subject, *body;
};

static const struct background ham_background[] = {
	{ "anna@work.example", "mail.work.example", "192.0.2",
	  "Quarterly numbers", "Hi, the quarterly report is attached. Can we "
	  "go through the numbers on Tuesday before the board meeting?" },
	{ "ben@work.example", "mail.work.example", "192.0.2",
	  "Re: code review", "Thanks for the review. I pushed the fixes to "
	  "the branch and the tests pass again." },
	{ "mum@family.example", "smtp.family.example", "192.0.2",
	  "Sunday lunch", "Are you coming on Sunday? Dad is making his "
	  "lasagne, bring a jacket, it gets cold in the garden." },
	{ "noreply@bank.example", "out.bank.example", "192.0.2",
	  "Your monthly statement", "Your statement for November is "
	  "available in online banking. We will never ask for your PIN." },
	{ "club@chess.example", "lists.chess.example", "192.0.2",
	  "Tournament schedule", "Round one starts at 10:00 in the town hall; "
	  "pairings will be posted on the club website on Friday." },
	{ "carol@friends.example", "mx.friends.example", "192.0.2",
	  "Photos", "Here are the photos from the hike, the view from the "
	  "ridge was amazing. Let's do it again in spring." },
	{ "it@work.example", "mail.work.example", "192.0.2",
	  "Maintenance window", "The VPN will be down on Saturday between six "
	  "and eight for the firmware upgrade." },
	{ "dave@univ.example", "smtp.univ.example", "192.0.2",
	  "Paper draft", "I went through section three and rewrote the "
	  "related work; comments welcome before the deadline." },
	{ "tickets@rail.example", "mail.rail.example", "192.0.2",
	  "Your booking", "Your seat reservation for the 08:12 train is "
	  "confirmed, coach 5 seat 42." },
	{ "emma@neighbours.example", "mx.neighbours.example", "192.0.2",
	  "Parcel", "I took in a parcel for you this morning, just ring "
	  "when you are home." },
	{ "library@city.example", "mail.city.example", "192.0.2",
	  "Book due", "The book you borrowed is due next Monday; you can "
	  "renew it once online." },
	{ "frank@work.example", "mail.work.example", "192.0.2",
	  "Lunch?", "Lunch at the Thai place at half past twelve? I booked "
	  "a table for four." },
};

static const struct background spam_background[] = {
	{ "win@lotto.example", "bulk.lotto.example", "198.18.0",
	  "You have won", "Congratulations, you have won the lottery prize, "
	  "send your bank details to claim one million dollars today." },
	{ "rx@pills.example", "relay.pills.example", "198.18.0",
	  "Cheap meds", "Cheap pills online without prescription, best "
	  "prices, order now and save." },
	{ "security@paypa1-verify.example", "mail.paypa1-verify.example",
	  "198.18.0", "Your account is suspended", "We noticed unusual "
	  "activity. Verify your account within 24 hours or it will be "
	  "closed: log in at the secure link below." },
	{ "jobs@easy-money.example", "smtp.easy-money.example", "198.18.0",
	  "Work from home", "Earn 5000 dollars a week working from home, no "
	  "experience needed, start today." },
	{ "hello@meet-singles.example", "out.meet-singles.example",
	  "198.18.0", "Someone likes you", "Hot singles in your area want "
	  "to meet you tonight, click to see their photos." },
	{ "crypto@coins.example", "out.coins.example", "198.18.0",
	  "Double your bitcoin", "Invest today and double your bitcoin in "
	  "one week, guaranteed returns, act now." },
};

static const char *const ham_lines[NLINES] = {
	"Best regards, and have a nice weekend.",
	"Let me know if you have questions.",
	"Talk soon.",
	"Thanks again for your help last week.",
	"See you then.",
};

static const char *const spam_lines[NLINES] = {
	"Reply STOP to unsubscribe from our list.",
	"Act now, this offer expires tonight!",
	"100% guaranteed, risk free, no obligation.",
	"You received this because you are a valued winner.",
	"Limited time only, do not miss out!",
};

/* Customer A's spam: a replica-watch shop with a recognisable style. */
static const char *const a_spam[][2] = {
	{ "Luxury replica watches 90% off", "Luxury replica watches at 90% "
	  "off! Rolex, Omega, Breitling. Order today, discreet shipping "
	  "worldwide. Click http://shop-a.hostco.example/deal to buy now." },
	{ "Last chance: replica watches sale", "Final clearance of luxury "
	  "replica watches. Swiss look, tiny prices. Buy now at "
	  "http://shop-a.hostco.example/sale before stock runs out!" },
	{ "Exclusive watch deal for you", "Exclusive offer: designer replica "
	  "watches and bags, 85% off, free worldwide shipping. Visit "
	  "http://shop-a.hostco.example/vip now." },
	{ "Re: your watch order", "Your discount on luxury replica watches "
	  "is waiting. Premium quality, unbeatable price, click "
	  "http://shop-a.hostco.example/order today." },
};

static void
learn_one(const char *m, int is_spam)
{
	char *err = NULL;

	ck_assert_msg(filter_learn(filter, m, strlen(m), is_spam, 0, &err) ==
	    0, "%s", err);
}

/* One background message, varied by round: its own host, address and
 * IP, and a round-specific line. */
static void
learn_background(const struct background *b, unsigned idx, unsigned round,
    int is_spam)
{
	char *from = xasprintf("%.*s%u%s", (int)strcspn(b->from, "@"), b->from,
	    round, strchr(b->from, '@'));
	char *host = xasprintf("m%u.%s", round, b->host);
	char *ip = xasprintf("%s.%u", b->ip, 1 + idx * ROUNDS + round);
	char *subject = xasprintf("%s (%u)", b->subject, round);
	char *body = xasprintf("%s\r\n\r\n%s\r\n", b->body,
	    is_spam ? spam_lines[round % NLINES] : ham_lines[round % NLINES]);
	char *m = direct(from, host, ip, subject, body);

	learn_one(m, is_spam);
	free(m);
	free(body);
	free(subject);
	free(ip);
	free(host);
	free(from);
}

static void
setup(void)
{
	char *path, *err = NULL;

	snprintf(dir, sizeof(dir), "/tmp/check_collateral.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	store = store_mem_new();
	ck_assert_int_eq(store->ops->connect(store), STORE_OK);
	path = xasprintf("%s/ledger.db", dir);
	ck_assert_msg(ledger_open(path, &ledger, &err) == 0, "%s", err);
	free(path);
	path = xasprintf("%s/tokens.db", dir);
	ck_assert_msg(filter_open(path, &filter, &err) == 0, "%s", err);
	free(path);
	/* A trained model, as after 'train --from-folders' on a mailbox:
	 * ten rounds of the background, each from its own host and address,
	 * so no single sender dominates. */
	for (unsigned round = 0; round < ROUNDS; round++) {
		for (size_t i = 0; i < sizeof(ham_background) /
		    sizeof(*ham_background); i++)
			learn_background(&ham_background[i], (unsigned)i,
			    round, 0);
		for (size_t i = 0; i < sizeof(spam_background) /
		    sizeof(*spam_background); i++)
			learn_background(&spam_background[i], (unsigned)i,
			    round, 1);
	}
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	filter_close(&filter);
	ledger_close(&ledger);
	store_free(&store);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static double
score(const char *m, enum verdict *v_r, char **explain_r)
{
	struct filter_result r;
	char *err = NULL;
	double s;

	ck_assert_msg(filter_score(filter, m, strlen(m), 1, &r, &err) == 0,
	    "%s", err);
	s = r.score;
	*v_r = r.verdict;
	*explain_r = xstrdup(r.explain ? r.explain : "");
	filter_result_release(&r);
	return s;
}

START_TEST(spam_of_one_customer_does_not_taint_its_relay)
{
	struct learner l = { .store = store, .ledger = ledger,
	    .filter = filter, .junk = "Junk", .trash = "Trash",
	    .max_message_bytes = CAP };
	static const char *const b_c_mail[][2] = {
		{ "Your order is ready", "Hello, your birthday cake order "
		  "is ready for pickup on Saturday morning. Thank you!" },
		{ "Appointment reminder", "This is a reminder of your "
		  "appointment with Dr. Miller on Thursday at 9:30. Please "
		  "bring your insurance card." },
		{ "Invoice 2026-114", "Please find the invoice for the "
		  "catering of the office party attached. Payment within 30 "
		  "days." },
		{ "Change of opening hours", "From December the practice is "
		  "open on Saturdays from 9 to 12. Kind regards." },
	};
	uint32_t uidvalidity, uidnext, *uids = NULL;
	size_t n = 0;

	/* Customer A's spam arrives in INBOX; the owner drags it into
	 * Junk; the learner's scans train it as spam. */
	store_mem_set_special(store, "Junk", STORE_SPECIAL_JUNK);
	ck_assert_int_eq(learn_scan_junk(&l), STORE_OK);	/* mark */
	for (size_t i = 0; i < 3; i++) {
		char *m = via_hostco(&cust_a, a_spam[i][0], a_spam[i][1]);
		uint32_t uid = store_mem_append(store, "INBOX", m, strlen(m),
		    NULL);
		store_mem_client_move(store, "INBOX", uid, "Junk");
		free(m);
	}
	ck_assert_int_eq(learn_scan_junk(&l), STORE_OK);
	ck_assert_uint_eq(l.corrections, 3);
	ck_assert_int_eq(store->ops->select(store, "Junk", &uidvalidity,
	    &uidnext), STORE_OK);
	ck_assert_int_eq(store->ops->list_uids(store, 1, &uids, &n),
	    STORE_OK);
	ck_assert_uint_eq(n, 3);
	free(uids);

	/* Customers B and C, same relay, ordinary mail: ham. */
	for (size_t i = 0; i < 4; i++) {
		const struct customer *c = i % 2 ? &cust_c : &cust_b;
		char *m = via_hostco(c, b_c_mail[i][0], b_c_mail[i][1]);
		char *why;
		enum verdict v;
		double s = score(m, &v, &why);
		ck_assert_msg(v == VERDICT_HAM, "mail %zu from %s through the "
		    "relay scores %.6f (%s), expected ham:\n%s", i, c->host,
		    s, verdict_name(v), why);
		free(why);
		free(m);
	}
	/* More spam from A's exact host: on the spam side, with odds of a
	 * million to one (0.99) after three corrections; the default cut
	 * (CLASSIFY_SPAM_CUT) asks for a thousand times more before Junk,
	 * so it may still be unsure, never ham. */
	{
		char *m = via_hostco(&cust_a, a_spam[3][0], a_spam[3][1]);
		char *why;
		enum verdict v;
		double s = score(m, &v, &why);
		ck_assert_msg(v != VERDICT_HAM && s >= 0.99, "new spam from %s "
		    "scores %.6f (%s), expected 0.99 or more:\n%s", cust_a.host,
		    s, verdict_name(v), why);
		free(why);
		free(m);
	}
}
END_TEST

static Suite *
collateral_suite(void)
{
	Suite *s = suite_create("collateral");
	TCase *tc = tcase_create("hosting provider");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, spam_of_one_customer_does_not_taint_its_relay);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(collateral_suite)
