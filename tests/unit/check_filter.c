/*
 * check_filter.c - the classifier end to end through filter.h: golden
 * scores on the fixture messages, train/untrain symmetry on a real file,
 * the no-collateral-damage principle (spam from one customer of a hosting
 * provider must not condemn its siblings), and bad input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "agent/filter.h"
#include "agent/xmem.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/check_filter.XXXXXX";

static void
setup(void)
{
	ck_assert(mkdtemp(dir) != NULL);
}

static void
teardown(void)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	strcpy(dir, "/tmp/check_filter.XXXXXX");
}

static const char *const ham_words[] = {
	"meeting", "review", "patch", "build", "release", "thursday",
	"notes", "agenda", "test", "suite", "branch", "merge", "schedule",
	"report", "draft", "budget", "project", "design", "lunch", "team",
	"the", "and", "please", "thanks", "tomorrow", "question", "slides",
};
static const char *const spam_words[] = {
	"cheap", "pills", "offer", "limited", "winner", "prize", "casino",
	"bonus", "loans", "credit", "click", "order", "discount", "free",
	"cash", "guaranteed", "unsubscribe", "deal", "save", "now", "the",
	"and", "today", "money", "act", "exclusive", "shipping",
};
static const char *const neutral_words[] = {
	"yellow", "river", "seven", "window", "garden", "pencil", "orbit",
	"marble", "violet", "canyon",
};

#define NWORDS(a) (sizeof(a) / sizeof(*(a)))

/* A message from one sender through one relay, its words drawn from a
 * list by a fixed pseudo-random sequence (seed). */
static char *
make_msg(const char *from, const char *host, const char *ip,
    const char *relay, const char *relay_ip, const char *const *words,
    size_t nwords, unsigned seed)
{
	struct buf b = { 0 };
	unsigned x = seed * 2654435761u + 12345;

	if (relay != NULL)
		buf_printf(&b, "Received: from %s (%s [%s])\n\tby mx.home."
		    "example with ESMTP id %u\n", relay, relay, relay_ip, seed);
	buf_printf(&b, "Received: from %s (%s [%s])\n\tby %s with ESMTP id "
	    "%u\n", host, host, ip, relay ? relay : "mx.home.example", seed);
	buf_printf(&b, "From: %s\nTo: owner@home.example\nSubject:", from);
	for (int i = 0; i < 4; i++) {
		x = x * 1103515245u + 12345;
		buf_printf(&b, " %s", words[(x >> 16) % nwords]);
	}
	buf_appends(&b, "\nContent-Type: text/plain\n\n");
	for (int i = 0; i < 40; i++) {
		x = x * 1103515245u + 12345;
		buf_printf(&b, "%s%s", words[(x >> 16) % nwords],
		    i % 10 == 9 ? ".\n" : " ");
	}
	return buf_steal(&b);
}

static void
learn(struct filter *f, const char *msg, int is_spam)
{
	char *err = NULL;

	ck_assert_msg(filter_learn(f, msg, strlen(msg), is_spam, 0, &err) == 0,
	    "learn: %s", err);
}

static double
score(struct filter *f, const char *msg, size_t len, enum verdict *v)
{
	struct filter_result r;
	char *err = NULL;
	double s;

	ck_assert_msg(filter_score(f, msg, len, 0, &r, &err) == 0, "score: %s",
	    err);
	s = r.score;
	if (v != NULL)
		*v = r.verdict;
	filter_result_release(&r);
	return s;
}

/* 60 ham from colleagues through the office relay and a list server, 60
 * spam from assorted spam hosts. */
static void
train_background(struct filter *f)
{
	char from[64], host[64], ip[32];

	for (unsigned i = 0; i < 60; i++) {
		char *m;
		snprintf(from, sizeof(from), "person%u@work.example", i % 9);
		m = make_msg(from, i % 2 ? "mail.work.example" :
		    "lists.example.org", i % 2 ? "198.51.100.7" :
		    "203.0.113.20", NULL, NULL, ham_words, NWORDS(ham_words),
		    i);
		learn(f, m, 0);
		free(m);
		snprintf(from, sizeof(from), "promo%u@spam%u.example", i,
		    i % 7);
		snprintf(host, sizeof(host), "smtp.spam%u.example", i % 7);
		snprintf(ip, sizeof(ip), "192.0.2.%u", 100 + i % 7);
		m = make_msg(from, host, ip, NULL, NULL, spam_words,
		    NWORDS(spam_words), 1000 + i);
		learn(f, m, 1);
		free(m);
	}
}

static struct filter *
open_filter(const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *err = NULL;
	struct filter *f;

	ck_assert_msg(filter_open(path, &f, &err) == 0, "open: %s", err);
	free(path);
	return f;
}

START_TEST(test_golden_fixtures)
{
	static const char *const train_ham[] = { "ham-01.eml", "ham-02.eml",
	    "ham-03.eml", "ham-04.eml", "ham-05.eml", "ham-06.eml" };
	static const char *const train_spam[] = { "spam-01.eml",
	    "spam-02.eml", "spam-03.eml", "spam-04.eml", "spam-05.eml",
	    "spam-06.eml" };
	struct filter *f = open_filter("golden.db");
	char *golden = unit_fixture("classifier/golden.txt", NULL);
	char name[64], verdict[16], path[96];
	double want;
	int off = 0, n, checked = 0;

	train_background(f);
	for (size_t i = 0; i < 6; i++) {
		char *m;
		snprintf(path, sizeof(path), "classifier/%s", train_ham[i]);
		m = unit_fixture(path, NULL);
		learn(f, m, 0);
		free(m);
		snprintf(path, sizeof(path), "classifier/%s", train_spam[i]);
		m = unit_fixture(path, NULL);
		learn(f, m, 1);
		free(m);
	}
	/* golden.txt: "NAME SCORE VERDICT" per line. */
	while (sscanf(golden + off, "%63s %lf %15s%n", name, &want, verdict,
	    &n) == 3) {
		enum verdict v;
		size_t len;
		char *m;
		double s;

		off += n;
		snprintf(path, sizeof(path), "classifier/%s", name);
		m = unit_fixture(path, &len);
		s = score(f, m, len, &v);
		ck_assert_msg(fabs(s - want) <= 1e-9 * (1 + fabs(want)),
		    "%s: score %.17g, golden %.17g", name, s, want);
		ck_assert_msg(strcmp(verdict_name(v), verdict) == 0,
		    "%s: verdict %s, golden %s", name, verdict_name(v),
		    verdict);
		free(m);
		checked++;
	}
	ck_assert_int_ge(checked, 4);
	free(golden);
	filter_close(&f);
}
END_TEST

/* Every row of a token store as text. */
static char *
dump(const char *path)
{
	static const char *const q[] = {
		"SELECT hash, spam, ham, weight FROM tokens ORDER BY hash",
		"SELECT spam, ham, bias FROM totals",
		"SELECT msg, is_spam, delta FROM trained ORDER BY id",
	};
	struct buf b = { 0 };
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	for (size_t i = 0; i < 3; i++) {
		sqlite3_stmt *st;
		ck_assert_int_eq(sqlite3_prepare_v2(db, q[i], -1, &st, NULL),
		    SQLITE_OK);
		while (sqlite3_step(st) == SQLITE_ROW) {
			for (int c = 0; c < sqlite3_column_count(st); c++)
				buf_printf(&b, "%lld ", (long long)
				    sqlite3_column_int64(st, c));
			buf_appends(&b, "\n");
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return buf_steal(&b);
}

START_TEST(test_train_untrain_symmetry)
{
	char *path = xasprintf("%s/sym.db", dir), *before, *after, *err = NULL;
	char *extra[3];
	struct filter *f = open_filter("sym.db");

	train_background(f);
	filter_close(&f);
	before = dump(path);
	extra[0] = unit_fixture("classifier/test-spam-1.eml", NULL);
	extra[1] = unit_fixture("classifier/test-ham-1.eml", NULL);
	extra[2] = unit_fixture("classifier/broken-mime.eml", NULL);
	f = open_filter("sym.db");
	learn(f, extra[0], 1);
	learn(f, extra[1], 0);
	learn(f, extra[2], 1);
	ck_assert_int_eq(filter_learn(f, extra[1], strlen(extra[1]), 1, 1,
	    &err), -2);		/* trained as ham, not spam */
	free(err);
	err = NULL;
	ck_assert_int_eq(filter_learn(f, extra[0], strlen(extra[0]), 1, 1,
	    &err), 0);
	ck_assert_int_eq(filter_learn(f, extra[2], strlen(extra[2]), 1, 1,
	    &err), 0);
	ck_assert_int_eq(filter_learn(f, extra[1], strlen(extra[1]), 0, 1,
	    &err), 0);
	filter_close(&f);
	after = dump(path);
	ck_assert_msg(strcmp(before, after) == 0,
	    "train then untrain changed the store");
	for (int i = 0; i < 3; i++)
		free(extra[i]);
	free(before);
	free(after);
	free(path);
}
END_TEST

/* Training is idempotent by content: the same message (CRLF or LF line
 * ends alike) trained twice counts once, and trained as the other class
 * it moves there; untraining it once gives back the store from before. */
START_TEST(test_train_idempotent)
{
	char *path = xasprintf("%s/idem.db", dir), *before, *once, *now;
	char *err = NULL, *m, *crlf;
	struct buf b = { 0 };
	struct filter *f = open_filter("idem.db");
	size_t len;

	train_background(f);
	filter_close(&f);
	before = dump(path);
	m = unit_fixture("classifier/test-spam-1.eml", &len);
	for (size_t i = 0; i < len; i++) {
		if (m[i] == '\n')
			buf_append(&b, "\r", 1);
		buf_append(&b, m + i, 1);
	}
	crlf = buf_steal(&b);

	f = open_filter("idem.db");
	ck_assert_int_eq(filter_learn(f, m, len, 1, 0, &err), 0);
	filter_close(&f);
	once = dump(path);
	f = open_filter("idem.db");
	ck_assert_int_eq(filter_learn(f, m, len, 1, 0, &err), 1);
	ck_assert_int_eq(filter_learn(f, crlf, strlen(crlf), 1, 0, &err), 1);
	filter_close(&f);
	now = dump(path);
	ck_assert_msg(strcmp(once, now) == 0, "a second training changed "
	    "the store");
	free(now);

	/* --ham after --spam moves it: one ham more, one spam less. */
	f = open_filter("idem.db");
	ck_assert_int_eq(filter_learn(f, m, len, 0, 0, &err), 0);
	ck_assert_int_eq(filter_learn(f, m, len, 1, 1, &err), -2);
	free(err);
	err = NULL;
	ck_assert_int_eq(filter_learn(f, crlf, strlen(crlf), 0, 1, &err), 0);
	filter_close(&f);
	now = dump(path);
	ck_assert_msg(strcmp(before, now) == 0, "spam, spam, ham, untrain ham "
	    "did not give back the store");
	free(now);
	free(once);
	free(before);
	free(crlf);
	free(m);
	free(path);
}
END_TEST

/* The reason mailsift exists: a provider relays for many customers
 * through mx1.hostco.example.  Customer A sends spam and the owner files
 * it as spam.  Mail from customers B and C through the same relay must
 * still be ham; A's exact host carries the blame. */
START_TEST(test_no_collateral_damage)
{
	struct filter *f = open_filter("hostco.db");
	enum verdict v;
	char *m;
	double a_neutral, b_neutral;

	train_background(f);
	for (unsigned i = 0; i < 15; i++) {
		m = make_msg("sales@a.customers.hostco.example",
		    "a.customers.hostco.example", "192.0.2.10",
		    "mx1.hostco.example", "198.51.100.1", spam_words,
		    NWORDS(spam_words), 5000 + i);
		learn(f, m, 1);
		free(m);
	}
	m = make_msg("info@b.customers.hostco.example",
	    "b.customers.hostco.example", "192.0.2.20", "mx1.hostco.example",
	    "198.51.100.1", ham_words, NWORDS(ham_words), 7000);
	score(f, m, strlen(m), &v);
	ck_assert_str_eq(verdict_name(v), "ham");
	free(m);
	m = make_msg("office@c.customers.hostco.example",
	    "c.customers.hostco.example", "192.0.2.30", "mx1.hostco.example",
	    "198.51.100.1", ham_words, NWORDS(ham_words), 7001);
	score(f, m, strlen(m), &v);
	ck_assert_str_eq(verdict_name(v), "ham");
	free(m);
	m = make_msg("sales@a.customers.hostco.example",
	    "a.customers.hostco.example", "192.0.2.10", "mx1.hostco.example",
	    "198.51.100.1", spam_words, NWORDS(spam_words), 7002);
	score(f, m, strlen(m), &v);
	ck_assert_str_eq(verdict_name(v), "spam");
	free(m);
	/* With words the model has never seen, only the hosts speak: A's
	 * exact host must weigh more than the shared relay. */
	m = make_msg("sales@a.customers.hostco.example",
	    "a.customers.hostco.example", "192.0.2.10", "mx1.hostco.example",
	    "198.51.100.1", neutral_words, NWORDS(neutral_words), 7003);
	a_neutral = score(f, m, strlen(m), NULL);
	free(m);
	m = make_msg("info@b.customers.hostco.example",
	    "b.customers.hostco.example", "192.0.2.20", "mx1.hostco.example",
	    "198.51.100.1", neutral_words, NWORDS(neutral_words), 7003);
	b_neutral = score(f, m, strlen(m), NULL);
	free(m);
	ck_assert_msg(a_neutral > b_neutral, "A %.17g, B %.17g", a_neutral,
	    b_neutral);
	filter_close(&f);
}
END_TEST

START_TEST(test_bad_input)
{
	struct filter *f = open_filter("bad.db");
	struct filter_result r;
	static const char *const fixtures[] = { "classifier/broken-mime.eml",
	    "classifier/unknown-charset.eml" };
	size_t big = 50u << 20, len;
	char *err = NULL, *m;

	train_background(f);
	ck_assert_int_eq(filter_score(f, "", 0, 1, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err, "empty"));
	free(err);
	err = NULL;
	ck_assert_int_eq(filter_learn(f, "", 0, 1, 0, &err), -1);
	free(err);
	err = NULL;
	for (size_t i = 0; i < 2; i++) {
		m = unit_fixture(fixtures[i], &len);
		ck_assert_int_eq(filter_score(f, m, len, 1, &r, &err), 0);
		ck_assert(r.score > 0 && r.score < 1);
		filter_result_release(&r);
		free(m);
	}
	/* 50 MB: read up to the cap, and the explanation says so. */
	m = xmalloc(big);
	memcpy(m, "Subject: huge\n\n", 15);
	for (size_t i = 15; i < big; i++)
		m[i] = "cheap pills now "[i % 16];
	ck_assert_int_eq(filter_score(f, m, big, 1, &r, &err), 0);
	ck_assert_uint_eq(r.bytes_total, big);
	ck_assert_uint_lt(r.bytes_read, big);
	ck_assert_ptr_nonnull(strstr(r.explain, "only the first"));
	filter_result_release(&r);
	/* Binary junk is scored, not refused. */
	for (size_t i = 0; i < 65536; i++)
		m[i] = (char)(i * 7919 >> 3);
	ck_assert_int_eq(filter_score(f, m, 65536, 0, &r, &err), 0);
	ck_assert(r.score > 0 && r.score < 1);
	filter_result_release(&r);
	free(m);
	filter_close(&f);
}
END_TEST

START_TEST(test_explain)
{
	struct filter *f = open_filter("explain.db");
	struct filter_result r;
	char *err = NULL, *m;
	size_t len;

	train_background(f);
	m = make_msg("promo1@spam1.example", "smtp.spam1.example",
	    "192.0.2.101", NULL, NULL, spam_words, NWORDS(spam_words), 99);
	len = strlen(m);
	ck_assert_int_eq(filter_score(f, m, len, 1, &r, &err), 0);
	ck_assert_str_eq(verdict_name(r.verdict), "spam");
	ck_assert_ptr_nonnull(strstr(r.explain, "evidence for spam:"));
	ck_assert_msg(strstr(r.explain, "body word \"click\": seen in 52 spam, "
	    "0 ham\n") != NULL, "%s", r.explain);
	ck_assert_uint_gt(r.nevidence, 0);
	ck_assert_uint_eq(r.nspam, 60);
	ck_assert(r.evidence[0].probability > 0.5);
	filter_result_release(&r);
	free(m);
	filter_close(&f);
}
END_TEST

static Suite *
filter_suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_golden_fixtures);
	tcase_add_test(tc, test_train_untrain_symmetry);
	tcase_add_test(tc, test_train_idempotent);
	tcase_add_test(tc, test_no_collateral_damage);
	tcase_add_test(tc, test_bad_input);
	tcase_add_test(tc, test_explain);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(filter_suite)
