/*
 * check_sieve.c - unit tests of the Sieve layer: the action list and its
 * conflict rules (implicit keep, flags, merged folders, discard), the
 * messages of `check` with their line numbers, the constructs refused
 * with a reason, the spamtest mapping at its boundaries, and the helpers
 * that work around libsieve (numeric form, :matches escapes).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/xmem.h"
#include "sieve/sieve.h"
#include "sieve/sieve_int.h"
#include "tests/unit/unit.h"

static const char msg_ham[] =
    "From: Alice <alice@example.org>\r\n"
    "To: me+lists@example.org\r\n"
    "Subject: =?UTF-8?B?Q2hlYXAgdmlhZ3Jh?= today\r\n"
    "X-Spam-Score: 0.0000\r\n"
    "\r\n"
    "Hello.\r\n";

/* Parses text (must be valid) and runs it on msg_ham with score. */
static void
run(const char *text, double score, struct sieve_result *r)
{
	struct sieve_script *s = NULL;
	char *err = NULL;

	if (sieve_script_parse("t.sieve", text, &s, &err) < 0)
		ck_abort_msg("script rejected: %s", err);
	if (sieve_eval(s, msg_ham, sizeof(msg_ham) - 1, score, r, &err) < 0)
		ck_abort_msg("eval failed: %s", err);
	sieve_script_free(&s);
}

/* Action i as "keep[A,B]", "implicit[...]", "fileinto:X[...]",
 * "discard[]" for compact assertions. */
static char *
show(const struct sieve_result *r)
{
	struct buf b = { 0 };

	for (size_t i = 0; i < r->n; i++) {
		const struct sieve_action *a = &r->actions[i];

		if (i)
			buf_appends(&b, " ");
		if (a->type == SIEVE_ACTION_FILEINTO)
			buf_printf(&b, "fileinto:%s", a->mailbox);
		else if (a->type == SIEVE_ACTION_DISCARD)
			buf_appends(&b, "discard");
		else
			buf_appends(&b, a->implicit ? "implicit" : "keep");
		buf_appends(&b, "[");
		for (size_t j = 0; j < a->nflags; j++)
			buf_printf(&b, "%s%s", j ? "," : "", a->flags[j]);
		buf_appends(&b, "]");
	}
	return buf_steal(&b);
}

static void
expect(const char *text, double score, const char *want)
{
	struct sieve_result r;
	char *got;

	run(text, score, &r);
	got = show(&r);
	ck_assert_msg(strcmp(got, want) == 0, "script:\n%s\ngot  %s\nwant %s",
	    text, got, want);
	free(got);
	sieve_result_release(&r);
}

/* The script must be rejected with an error on line `line` whose text
 * contains `words`. */
static void
expect_error(const char *text, int line, const char *words)
{
	struct sieve_script *s = NULL;
	char *err = NULL;
	char prefix[32];

	ck_assert_msg(sieve_script_parse("t.sieve", text, &s, &err) < 0,
	    "accepted:\n%s", text);
	ck_assert(s == NULL);
	snprintf(prefix, sizeof(prefix), "t.sieve:%d: ", line);
	ck_assert_msg(strstr(err, prefix) != NULL, "no %s in '%s'", prefix,
	    err);
	ck_assert_msg(strstr(err, words) != NULL, "no '%s' in '%s'", words,
	    err);
	free(err);
}

START_TEST(implicit_keep)
{
	expect("", -1, "implicit[]");
	expect("# nothing\n", -1, "implicit[]");
	expect("if false { keep; }\n", -1, "implicit[]");
	expect("if true { stop; }\ndiscard;\n", -1, "implicit[]");
}
END_TEST

START_TEST(keep_and_discard)
{
	/* explicit keep cancels the implicit one; discard alone means
	 * Trash; discard next to a store is only a cancelled keep */
	expect("keep;\nkeep;\n", -1, "keep[]");
	expect("discard;\n", -1, "discard[]");
	expect("require \"fileinto\";\ndiscard;\nfileinto \"A\";\n", -1,
	    "fileinto:A[]");
	expect("discard;\nkeep;\n", -1, "keep[]");
}
END_TEST

START_TEST(fileinto_merged)
{
	expect("require \"fileinto\";\nfileinto \"A\"; fileinto \"B\";\n"
	    "fileinto \"A\";\n", -1, "fileinto:A[] fileinto:B[]");
	/* a repeated folder keeps its place and takes the latest flags */
	expect("require [\"fileinto\", \"imap4flags\"];\n"
	    "fileinto :flags \"Q\" \"X\"; addflag \"B\"; fileinto \"X\";\n"
	    "keep :flags \"K\"; keep;\n", -1, "fileinto:X[B] keep[B]");
}
END_TEST

START_TEST(flags)
{
	/* flags set before the implicit keep are not lost */
	expect("require \"imap4flags\";\naddflag \"$A\";\n", -1,
	    "implicit[$A]");
	/* setflag after addflag: libsieve double-frees here */
	expect("require [\"imap4flags\", \"fileinto\"];\naddflag \"X\";\n"
	    "setflag \"Y\"; setflag [\"Z\", \"W\"]; fileinto \"Box\";\n", -1,
	    "fileinto:Box[Z,W]");
	/* removing the newest flag: libsieve removes them all */
	expect("require \"imap4flags\";\naddflag [\"A\", \"B\"];\n"
	    "removeflag \"B\"; keep;\n", -1, "keep[A]");
	/* order kept, duplicates (any case) dropped, strings split */
	expect("require \"imap4flags\";\naddflag \"B\";\naddflag [\"A\", "
	    "\"b\"];\naddflag \"C D\";\nremoveflag \"c\";\n", -1,
	    "implicit[B,A,D]");
	/* escapes processed, system flags written the usual way */
	expect("require \"imap4flags\";\nkeep :flags [\"\\\\seen\", "
	    "\"$Junk\"];\n", -1, "keep[\\Seen,$Junk]");
	expect("require [\"imap4flags\", \"fileinto\"];\naddflag \"G\";\n"
	    "fileinto :flags \"\" \"A\";\nfileinto \"B\";\n", -1,
	    "fileinto:A[] fileinto:B[G]");
	expect("require [\"imap4flags\", \"fileinto\", \"relational\", "
	    "\"comparator-i;ascii-numeric\"];\naddflag [\"Alpha\", "
	    "\"Beta\"];\nif hasflag \"alpha\" { fileinto \"H\"; }\n"
	    "if hasflag :count \"eq\" :comparator \"i;ascii-numeric\" \"2\" "
	    "{ fileinto \"Two\"; }\nremoveflag \"ALPHA\";\n"
	    "if hasflag \"alpha\" { fileinto \"No\"; }\n", -1,
	    "fileinto:H[Alpha,Beta] fileinto:Two[Alpha,Beta]");
}
END_TEST

START_TEST(headers)
{
	/* RFC 2047 decoded before matching */
	expect("require \"fileinto\";\nif header :contains \"subject\" "
	    "\"cheap VIAGRA\" { fileinto \"J\"; }\n", -1, "fileinto:J[]");
	/* escaped quote in a key (libsieve cannot quote it) */
	expect("require \"fileinto\";\nif header :contains \"from\" "
	    "\"\\\"\" { fileinto \"Q\"; }\nif header :matches \"to\" "
	    "\"*\\\\**\" { fileinto \"Star\"; }\n", -1, "implicit[]");
	expect("require [\"fileinto\", \"subaddress\"];\n"
	    "if address :detail \"to\" \"lists\" { fileinto \"L\"; }\n"
	    "if address :user \"to\" \"me\" { fileinto \"U\"; }\n", -1,
	    "fileinto:L[] fileinto:U[]");
	expect("require [\"fileinto\", \"relational\", "
	    "\"comparator-i;ascii-numeric\"];\n"
	    "if header :count \"eq\" :comparator \"i;ascii-numeric\" "
	    "\"x-none\" \"0\" { fileinto \"Zero\"; }\n", -1,
	    "fileinto:Zero[]");
}
END_TEST

START_TEST(score_header)
{
	/* the message says 0.0000; the classifier's score wins */
	const char *text = "require \"fileinto\";\nif header :matches "
	    "\"x-spam-score\" \"0.9*\" { fileinto \"S\"; }\n";

	expect(text, 0.95, "fileinto:S[]");
	expect(text, 0.1, "implicit[]");
	expect(text, -1, "implicit[]");
}
END_TEST

START_TEST(spamtest_rules)
{
	const char *pct = "require [\"fileinto\", \"spamtestplus\", "
	    "\"relational\", \"comparator-i;ascii-numeric\"];\n"
	    "if spamtest :percent :value \"ge\" :comparator "
	    "\"i;ascii-numeric\" \"90\" { fileinto \"Junk\"; }\n";
	const char *untested = "require [\"fileinto\", \"spamtest\"];\n"
	    "if spamtest :is \"0\" { fileinto \"Untested\"; }\n";

	expect(pct, 0.9, "fileinto:Junk[]");
	expect(pct, 1, "fileinto:Junk[]");
	expect(pct, 0.8999, "implicit[]");
	expect(pct, -1, "implicit[]");
	expect(untested, -1, "fileinto:Untested[]");
	expect(untested, 0, "implicit[]");
}
END_TEST

START_TEST(spamtest_values)
{
	static const struct {
		double score;
		const char *plain, *percent;
	} cases[] = {
		{ -1, "0", "0" },
		{ 0, "1", "0" },
		{ 0.0049, "1", "0" },
		{ 0.1111, "2", "11" },
		{ 0.5, "5", "50" },
		{ 0.8899, "9", "88" },
		{ 0.89, "9", "89" },
		{ 0.9, "9", "90" },
		{ 0.9999, "10", "99" },
		{ 1, "10", "100" },
		{ 7, "10", "100" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char v[8];

		sv_spamtest_value(cases[i].score, 0, v);
		ck_assert_msg(strcmp(v, cases[i].plain) == 0, "%g: %s",
		    cases[i].score, v);
		sv_spamtest_value(cases[i].score, 1, v);
		ck_assert_msg(strcmp(v, cases[i].percent) == 0, "%g%%: %s",
		    cases[i].score, v);
	}
}
END_TEST

START_TEST(numeric_form)
{
	static const char *const cases[][2] = {
		{ "007", "7" }, { "0", "0" }, { "7.5", "7" }, { "10", "10" },
		{ "abc", SV_NUM_INFINITY }, { "-3", SV_NUM_INFINITY },
		{ "", SV_NUM_INFINITY }, { "99999999999", SV_NUM_MAX },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = sv_numeric_form(cases[i][0]);

		ck_assert_msg(strcmp(got, cases[i][1]) == 0, "'%s' -> '%s'",
		    cases[i][0], got);
		free(got);
	}
}
END_TEST

START_TEST(matcher)
{
	struct sv_match m = { SV_CMP_CASEMAP, SV_MT_MATCHES, SV_REL_EQ };
	char *v[] = { "say *now*? yes" };
	char *k1[] = { "*\\*now\\**" }, *k2[] = { "*now\\?*" };
	char *k3[] = { "SAY*" }, *k4[] = { "say ?now*" };

	ck_assert(sv_match_values(&m, v, 1, k1, 1, NULL, NULL));
	ck_assert(!sv_match_values(&m, v, 1, k2, 1, NULL, NULL));
	ck_assert(sv_match_values(&m, v, 1, k3, 1, NULL, NULL));
	ck_assert(sv_match_values(&m, v, 1, k4, 1, NULL, NULL));
	{
		/* "?" is one octet, as in libsieve and Pigeonhole */
		char *u[] = { "\xc3\xbc" "ber" }, *q1[] = { "??ber" };
		char *q2[] = { "?ber" };

		ck_assert(sv_match_values(&m, u, 1, q1, 1, NULL, NULL));
		ck_assert(!sv_match_values(&m, u, 1, q2, 1, NULL, NULL));
	}
	{
		/* backtracking stays linear in practice: a hostile pattern
		 * on a long value answers at once */
		char *longv = xmalloc(200001), *hostile[] = {
		    "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b" };
		char *tail[] = { "*a?" }, *mid[] = { "a*\\a*a" };

		memset(longv, 'a', 200000);
		longv[200000] = '\0';
		ck_assert(!sv_match_values(&m, &longv, 1, hostile, 1, NULL, NULL));
		ck_assert(sv_match_values(&m, &longv, 1, tail, 1, NULL, NULL));
		ck_assert(sv_match_values(&m, &longv, 1, mid, 1, NULL, NULL));
		free(longv);
	}
	m.cmp = SV_CMP_OCTET;
	ck_assert(!sv_match_values(&m, v, 1, k3, 1, NULL, NULL));
	{
		/* casemap orders as lower case, like Pigeonhole: "[" sits
		 * between "L" and "l" */
		struct sv_match le = { SV_CMP_CASEMAP, SV_MT_VALUE,
		    SV_REL_LE };
		char *lunch[] = { "Lunch" }, *br[] = { "[" };

		ck_assert(!sv_match_values(&le, lunch, 1, br, 1, NULL, NULL));
		le.cmp = SV_CMP_OCTET;
		ck_assert(sv_match_values(&le, lunch, 1, br, 1, NULL, NULL));
	}
	m.cmp = SV_CMP_NUMERIC;
	m.mt = SV_MT_VALUE;
	m.rel = SV_REL_GT;
	{
		char *vals[] = { "abc" }, *keys[] = { "1000" };

		/* RFC 4790: no leading digit is positive infinity */
		ck_assert(sv_match_values(&m, vals, 1, keys, 1, NULL, NULL));
	}
	m.mt = SV_MT_COUNT;
	m.rel = SV_REL_EQ;
	{
		char *keys[] = { "0" };

		ck_assert(sv_match_values(&m, NULL, 0, keys, 1, NULL, NULL));
	}
}
END_TEST

/* sv_addresses() of value as "local@domain local@domain", or "-" for a
 * non-address value. */
static char *
addrs(const char *value)
{
	struct sv_addr *a;
	struct buf b = { 0 };
	int nonaddress;
	size_t n = sv_addresses(value, &a, &nonaddress);

	for (size_t i = 0; i < n; i++)
		buf_printf(&b, "%s%s@%s", i ? " " : "", a[i].local,
		    a[i].domain);
	if (nonaddress)
		buf_appends(&b, "-");
	sv_addresses_free(a, n);
	return buf_steal(&b);
}

START_TEST(addresses)
{
	static const char *const cases[][2] = {
		{ "Alice <alice@example.org>", "alice@example.org" },
		{ "\"Mueller, Hans\" <hans@example.de> (work)",
		    "hans@example.de" },
		{ "a@x.org, Team: b@y.org, c@y.org;, d@z.org",
		    "a@x.org b@y.org c@y.org d@z.org" },
		{ "undisclosed-recipients:;", "-" },
		{ "plain words", "-" },
		{ "", "-" },
		{ "good@x.org, bad@@x, other@y.org", "good@x.org" },
		{ "\"q u\"@x.org", "q u@x.org" },
		{ "<@route.example:r@x.org>", "r@x.org" },
		{ "broken@example..com", "-" },
		/* incomplete entries are skipped, malformed ones stop */
		{ "a@x.org, plain text, <>, x@, b@x.org", "a@x.org b@x.org" },
		{ "a@x.org, a b@x.org, c@x.org", "a@x.org" },
		{ "c @ x.org", "c@x.org" },
		{ "\"weird <not@this>\" <real@x.org>", "real@x.org" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = addrs(cases[i][0]);

		ck_assert_msg(strcmp(got, cases[i][1]) == 0, "'%s' -> '%s'",
		    cases[i][0], got);
		free(got);
	}
}
END_TEST

START_TEST(check_messages)
{
	expect_error("keep;\nfrobnicate \"x\";\nkeep;\n", 2,
	    "unknown command 'frobnicate'");
	expect_error("require \"fileinto\";\nif true {\n  fileinto \"A\"\n"
	    "}\n", 4, "expected ';'");
	expect_error("keep;\n\nfileinto \"Junk\";\n", 3,
	    "add require \"fileinto\"");
	expect_error("if header :contains \"subject\" \"x {\n keep;\n}\n",
	    1, "never closed");
	expect_error("require \"fileinto\";\nkeep;\nrequire \"imap4flags\";\n",
	    3, "require must come before");
	expect_error("require \"imap4flags\";\nif hasflag :regex \"x\" "
	    "{ keep; }\n", 2, "add require \"regex\"");
	expect_error("if header :value \"ge\" \"x\" \"1\" { keep; }\n", 1,
	    "require \"relational\"");
	expect_error("require \"spamtest\";\nif spamtest :percent \"5\" "
	    "{ keep; }\n", 2, "spamtestplus");
	expect_error("require [\"relational\", "
	    "\"comparator-i;ascii-numeric\"];\n"
	    "if header :contains :comparator \"i;ascii-numeric\" \"x\" "
	    "\"1\" { keep; }\n", 2, "whole numbers");
}
END_TEST

START_TEST(warnings)
{
	struct sieve_script *s = NULL;
	char *err = NULL;

	ck_assert(sieve_script_parse("t.sieve", "require \"relational\";\n"
	    "if header :value \"ge\" \"x-level\" \"10\" { keep; }\n", &s,
	    &err) == 0);
	ck_assert(sieve_script_warnings(s) != NULL);
	ck_assert(strstr(sieve_script_warnings(s), "t.sieve:2: warning: "
	    ":value compares text") != NULL);
	sieve_script_free(&s);
	ck_assert(sieve_script_parse("t.sieve", "require [\"relational\", "
	    "\"comparator-i;ascii-numeric\"];\nif header :value \"ge\" "
	    ":comparator \"i;ascii-numeric\" \"x-level\" \"10\" { keep; }\n",
	    &s, &err) == 0);
	ck_assert(sieve_script_warnings(s) == NULL);
	sieve_script_free(&s);
}
END_TEST

START_TEST(refused)
{
	expect_error("redirect \"a@example.org\";\n", 1, "never sends mail");
	expect_error("\nrequire \"reject\";\nreject \"no\";\n", 2,
	    "cannot refuse");
	expect_error("require \"vacation\";\n", 1, "never sends mail");
	expect_error("require \"envelope\";\n", 1, "envelope is gone");
	expect_error("require \"environment\";\n", 1, "unsupported");
	expect_error("require \"fileinto\";\nfileinto :copy \"A\";\n", 2,
	    "add require \"copy\"");
	expect_error("require \"editheader\";\n", 1, "never changes");
	expect_error("addheader \"X\" \"y\";\n", 1, "never changes");
	expect_error("require \"imap4flags\";\naddflag \"a(b\";\n", 2,
	    "not a valid IMAP flag");
}
END_TEST

START_TEST(rule_text)
{
	struct sieve_result r;

	run("require \"fileinto\";\n\nif true {\n  fileinto \"Junk\";\n}\n",
	    -1, &r);
	ck_assert_str_eq(r.rule, "line 4: fileinto \"Junk\"");
	sieve_result_release(&r);
	run("", -1, &r);
	ck_assert(strstr(r.rule, "implicit keep") != NULL);
	sieve_result_release(&r);
}
END_TEST

START_TEST(default_script)
{
	char *text = sieve_default_script("Spam \"x\"", 0.9);
	struct sieve_script *s = NULL;
	struct sieve_result r;
	char *err = NULL, *got;

	ck_assert_msg(sieve_script_parse("default", text, &s, &err) == 0,
	    "%s", err);
	ck_assert(sieve_eval(s, msg_ham, sizeof(msg_ham) - 1, 0.95, &r,
	    &err) == 0);
	got = show(&r);
	ck_assert_str_eq(got, "fileinto:Spam \"x\"[$Junk]");
	free(got);
	sieve_result_release(&r);
	ck_assert(sieve_eval(s, msg_ham, sizeof(msg_ham) - 1, 0.2, &r,
	    &err) == 0);
	got = show(&r);
	ck_assert_str_eq(got, "implicit[]");
	free(got);
	sieve_result_release(&r);
	sieve_script_free(&s);
	free(text);
}
END_TEST

START_TEST(malformed_messages)
{
	static const char *const msgs[] = {
		"", "no headers at all", "Subject:\n\n", "Subject:x\n",
		"From: <<<@@@>>>\nSubject: a\n\nb",
		"\x01\x02\xff\xfe: \x80\n\n",
	};
	const char *text = "require [\"fileinto\", \"imap4flags\"];\n"
	    "if address :domain \"from\" \"x\" { fileinto \"A\"; }\n"
	    "if header :contains \"subject\" \"a\" { addflag \"S\"; }\n";
	struct sieve_script *s = NULL;
	char *err = NULL;

	ck_assert(sieve_script_parse("t", text, &s, &err) == 0);
	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		struct sieve_result r;

		ck_assert_msg(sieve_eval(s, msgs[i], strlen(msgs[i]), -1, &r,
		    &err) == 0, "message %zu: %s", i, err);
		ck_assert(r.n == 1);
		sieve_result_release(&r);
	}
	sieve_script_free(&s);
}
END_TEST

START_TEST(hostile_header)
{
	/* libsieve's own :matches never returns on this; match.c is
	 * linear, so the rule still applies */
	const char *text = "require \"fileinto\";\n"
	    "if header :matches \"subject\" \"*a*a*a*b\" { fileinto \"M\"; }\n"
	    "if header :matches \"subject\" \"*a*a*\" { fileinto \"A\"; }\n";
	struct sieve_script *s = NULL;
	struct sieve_result r;
	struct buf msg = { 0 };
	char *err = NULL, *got;

	buf_appends(&msg, "From: a@example.org\nSubject: ");
	for (int i = 0; i < 300000; i++)
		buf_appends(&msg, "a");
	buf_appends(&msg, "\n\nbody\n");
	ck_assert(sieve_script_parse("t", text, &s, &err) == 0);
	ck_assert_msg(sieve_eval(s, msg.data, msg.len, -1, &r, &err) == 0,
	    "%s", err);
	got = show(&r);
	ck_assert_str_eq(got, "fileinto:A[]");
	free(got);
	sieve_result_release(&r);
	sieve_script_free(&s);
	buf_release(&msg);
}
END_TEST

/* Issue 9 item 8: a valid script of 10,000 rules used to fail with
 * libsieve's "memory exhausted" (its grammar stacks every command of a
 * block); it must load and run, and what is really too big must say so. */
START_TEST(large_scripts)
{
	struct buf text = { 0 };
	struct sieve_script *s = NULL;
	struct sieve_result r;
	char *err = NULL, *got;
	const char *msg = "Subject: rule 9999 here\r\n\r\nbody\r\n";

	buf_appends(&text, "require [\"fileinto\", \"imap4flags\"];\n");
	for (int i = 0; i < 10000; i++)
		buf_printf(&text, "if header :is \"subject\" \"rule %d here\" "
		    "{ fileinto \"F%d\"; }\n", i, i);
	/* a long list of keys, as a block list would be */
	buf_appends(&text, "if header :contains \"subject\" [");
	for (int i = 0; i < 2000; i++)
		buf_printf(&text, "%s\"k%d\"", i ? ", " : "", i);
	buf_appends(&text, ", \"here\"] { keep; }\n");
	ck_assert_msg(sieve_script_parse("t.sieve", text.data, &s, &err) == 0,
	    "%s", err);
	ck_assert_msg(sieve_eval(s, msg, strlen(msg), -1, &r, &err) == 0,
	    "%s", err);
	got = show(&r);
	ck_assert_str_eq(got, "fileinto:F9999[] keep[]");
	free(got);
	sieve_result_release(&r);
	sieve_script_free(&s);

	buf_release(&text);
	for (int i = 0; i < 100001; i++)
		buf_appends(&text, "keep;");
	expect_error(text.data, 1, "more than 100000 commands");
	buf_release(&text);
	buf_appends(&text, "if false { keep; }");
	for (int i = 0; i < 1001; i++)
		buf_appends(&text, " elsif false { keep; }");
	expect_error(text.data, 1, "more than 1000 elsif");
	buf_release(&text);
}
END_TEST

START_TEST(extension_list)
{
	const char *l = sieve_extensions();

	ck_assert(strstr(l, "fileinto imap4flags") == l);
	ck_assert(strstr(l, " copy ") != NULL);
	ck_assert(strstr(l, " mailbox ") != NULL);
	ck_assert(strstr(l, " encoded-character ") != NULL);
	ck_assert(strstr(l, "reject") == NULL);
	ck_assert(strstr(l, "vacation") == NULL);
	ck_assert(strstr(l, "envelope") == NULL);
	ck_assert(strstr(l, "i;octet") == NULL);
}
END_TEST

START_TEST(copy_and_create)
{
	const char *req = "require [\"fileinto\", \"copy\", \"mailbox\", "
	    "\"imap4flags\"];\n";
	char text[512];

	snprintf(text, sizeof(text), "%sfileinto :copy \"A\";\n", req);
	expect(text, -1, "fileinto:A[] implicit[]");
	snprintf(text, sizeof(text), "%saddflag \"F\"; fileinto :copy :create "
	    "\"A\"; fileinto :create \"B\";\n", req);
	expect(text, -1, "fileinto:A[F] fileinto:B[F]");
	/* a repeat of a :copy store is that store (Pigeonhole) */
	snprintf(text, sizeof(text), "%sfileinto :copy \"A\"; fileinto "
	    "\"A\";\n", req);
	expect(text, -1, "fileinto:A[] implicit[]");
	snprintf(text, sizeof(text), "%sfileinto \"A\"; fileinto :copy "
	    "\"A\";\n", req);
	expect(text, -1, "fileinto:A[]");
	snprintf(text, sizeof(text), "%sfileinto :copy \"A\"; discard;\n",
	    req);
	expect(text, -1, "fileinto:A[]");
	expect_error("require [\"fileinto\", \"copy\"];\nkeep :copy;\n", 2,
	    "keep takes only");
	expect_error("require \"fileinto\";\nfileinto :create \"A\";\n", 2,
	    "add require \"mailbox\"");
}
END_TEST

static char *
run_env(const char *text, const struct sieve_env *env, int *rc_r)
{
	struct sieve_script *s = NULL;
	struct sieve_result r;
	char *err = NULL, *got;

	if (sieve_script_parse("t.sieve", text, &s, &err) < 0)
		ck_abort_msg("script rejected: %s", err);
	*rc_r = sieve_eval_env(s, msg_ham, sizeof(msg_ham) - 1, env, &r,
	    &err);
	if (*rc_r < 0) {
		got = err;
	} else {
		got = show(&r);
		sieve_result_release(&r);
	}
	sieve_script_free(&s);
	return got;
}

START_TEST(mailboxexists)
{
	char *boxes[] = { "INBOX", "Junk", "Lists/Dev" };
	struct sieve_env env = { 0 };
	const char *text = "require [\"fileinto\", \"mailbox\"];\n"
	    "if mailboxexists [\"Junk\", \"inbox\"] { fileinto \"J\"; }\n"
	    "if mailboxexists \"Lists/Dev\" { fileinto \"L\"; }\n"
	    "if mailboxexists [\"Junk\", \"Nope\"] { fileinto \"N\"; }\n"
	    "if mailboxexists \"junk\" { fileinto \"j\"; }\n";
	struct sieve_script *s = NULL;
	char *err = NULL, *got;
	int rc;

	ck_assert(sieve_script_parse("t", text, &s, &err) == 0);
	ck_assert(sieve_script_needs_mailboxes(s));
	sieve_script_free(&s);
	ck_assert(sieve_script_parse("t", "keep;", &s, &err) == 0);
	ck_assert(!sieve_script_needs_mailboxes(s));
	sieve_script_free(&s);

	env.mailboxes = boxes;
	env.nmailboxes = 3;
	env.score = -1;
	got = run_env(text, &env, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(got, "fileinto:J[] fileinto:L[]");
	free(got);
	/* no list: the run fails (the caller keeps the message) */
	env.mailboxes = NULL;
	got = run_env(text, &env, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(strstr(got, "list of folders is not known") != NULL,
	    "%s", got);
	free(got);
}
END_TEST

START_TEST(ihave_error)
{
	struct sieve_env env = { 0 };
	char *got;
	int rc;

	expect("require [\"ihave\"];\n"
	    "if ihave \"frobnicate\" { frobnicate :x \"y\"; }\n"
	    "elsif ihave [\"fileinto\", \"copy\"] { fileinto :copy \"C\"; }\n"
	    "if ihave \"reject\" { reject \"no\"; }\n", -1,
	    "fileinto:C[] implicit[]");
	/* variables and encoded-character change how strings read: ihave
	 * never has them, even when required (as Pigeonhole) */
	expect("require [\"ihave\", \"variables\", \"fileinto\"];\n"
	    "if anyof(ihave \"variables\", ihave \"encoded-character\") "
	    "{ fileinto \"V\"; }\n", -1, "implicit[]");
	/* what ihave grants is for its block only */
	expect_error("require \"ihave\";\nif ihave \"fileinto\" { }\n"
	    "fileinto \"A\";\n", 3, "add require \"fileinto\"");
	expect_error("if ihave \"fileinto\" { }\n", 1,
	    "add require \"ihave\"");
	env.score = -1;
	got = run_env("require \"ihave\";\nif true {\n  error \"no way\";\n}\n"
	    "keep;\n", &env, &rc);
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(got, "line 3: the script says: error \"no way\"");
	free(got);
}
END_TEST

START_TEST(encoded_character)
{
	expect("require [\"fileinto\", \"encoded-character\"];\n"
	    "fileinto \"${hex:41 42}${unicode:263a}${hex:}${hex:0041}"
	    "${UNICODE: 43 }$${hex:44}\";\n", -1,
	    "fileinto:AB\xe2\x98\xba${hex:}${hex:0041}C$D[]");
	/* without the require the text is taken as it is */
	expect("require \"fileinto\";\nfileinto \"${hex:41}\";\n", -1,
	    "fileinto:${hex:41}[]");
	expect_error("require [\"fileinto\", \"encoded-character\"];\n\n"
	    "fileinto \"${unicode:d800}\";\n", 3, "invalid unicode");
	expect_error("require [\"fileinto\", \"encoded-character\"];\n"
	    "fileinto \"${unicode:110000}\";\n", 2, "invalid unicode");
}
END_TEST

START_TEST(variables)
{
	const char *req = "require [\"fileinto\", \"variables\", "
	    "\"imap4flags\", \"regex\"];\n";
	struct buf t = { 0 };

	/* match variables: every star as short as the rest allows */
	buf_printf(&t, "%sif header :matches \"from\" \"*<*@*>\" {\n"
	    "  fileinto \"${1}|${2}|${3}|${0}\"; }\n", req);
	expect(t.data, -1, "fileinto:Alice |alice|example.org|Alice "
	    "<alice@example.org>[]");
	buf_release(&t);
	/* :regex captures, case blind under i;ascii-casemap */
	buf_printf(&t, "%sif header :regex \"subject\" \"^(CHEAP) (v[a-z]+)\" "
	    "{ fileinto \"${2}-${1}\"; }\n", req);
	expect(t.data, -1, "fileinto:viagra-Cheap[]");
	buf_release(&t);
	/* modifiers, by precedence; names are case-insensitive */
	buf_printf(&t, "%sset :upperfirst :lower \"X\" \"lISTS\";\n"
	    "set :length \"n\" \"${x}\";\nset :quotewildcard \"q\" \"a*?\";\n"
	    "addflag \"${q}${n}\";\nfileinto \"${X}/${n}\";\n", req);
	expect(t.data, -1, "fileinto:Lists/5[]");
	buf_release(&t);
	/* flags in variables, and a flag a variable spoils is dropped */
	buf_printf(&t, "%sset \"f\" \"$a\";\naddflag \"v\" \"${f} b\";\n"
	    "if hasflag :is \"v\" \"b\" { addflag \"${v} bad(\"; }\n"
	    "keep;\n", req);
	expect(t.data, -1, "keep[$a,b]");
	buf_release(&t);
	/* string :count counts what is not empty */
	buf_printf(&t, "require [\"variables\", \"relational\", "
	    "\"fileinto\"];\nif string :count \"eq\" [\"a\", \"\", \"${no}\"] "
	    "\"1\" { fileinto \"one\"; }\n");
	expect(t.data, -1, "fileinto:one[]");
	buf_release(&t);
	expect_error("require \"variables\";\nset \"1a\" \"x\";\n", 2,
	    "not a valid variable name");
	expect_error("require \"variables\";\nset :lower :upper \"a\" \"x\";\n",
	    2, "conflicts");
	expect_error("require [\"variables\", \"fileinto\"];\n"
	    "fileinto \"${foo.bar}\";\n", 2, "namespace \"foo\"");
	expect_error("require \"regex\";\nif header :regex \"s\" \"([\" "
	    "{ keep; }\n", 2, "invalid regular expression");
	expect_error("require [\"regex\", \"comparator-i;ascii-numeric\"];\n"
	    "if header :regex :comparator \"i;ascii-numeric\" \"s\" \"1\" "
	    "{ keep; }\n", 2, "whole numbers");
}
END_TEST

/* A variable holds at most SV_MAX_VAR bytes, an expansion at most
 * SV_MAX_EXPANSION, cut between characters. */
START_TEST(variable_limits)
{
	struct sv_captures none = { { NULL }, 0 };
	char *values[1];
	struct sv_scope sc = { &none, values, NULL, NULL };
	struct buf big = { 0 };
	char *v, *e;

	for (int i = 0; i < SV_MAX_VAR; i++)
		buf_appends(&big, "\xc3\xa9");	/* two bytes each */
	v = sv_set_value(big.data, 0);
	ck_assert_uint_le(strlen(v), SV_MAX_VAR);
	ck_assert_uint_ge(strlen(v), SV_MAX_VAR - 1);
	ck_assert(((unsigned char)v[strlen(v) - 1] & 0xc0) == 0x80);
	free(v);
	v = sv_set_value(big.data, SV_MOD_LENGTH);
	ck_assert_str_eq(v, "2048");
	free(v);
	e = sv_expand("plain $ text ${ and ${0}", &sc);
	ck_assert_str_eq(e, "plain $ text ${ and ");
	free(e);
	buf_release(&big);
}
END_TEST

static int
lookup_a(void *ctx, const char *name, size_t len)
{
	return len == 1 && (name[0] == 'a' || name[0] == 'A') ? 0 : -1;
}

START_TEST(expansion_bound)
{
	struct sv_captures none = { { NULL }, 0 };
	char *values[1];
	struct sv_scope sc = { &none, values, lookup_a, NULL };
	struct buf big = { 0 }, tmpl = { 0 };
	char *e;

	for (int i = 0; i < SV_MAX_VAR; i++)
		buf_appends(&big, "x");
	values[0] = big.data;
	for (int i = 0; i < 100; i++)
		buf_appends(&tmpl, "${a}${A}${b}${9}");
	e = sv_expand(tmpl.data, &sc);
	ck_assert_uint_eq(strlen(e), SV_MAX_EXPANSION);
	free(e);
	buf_release(&big);
	buf_release(&tmpl);
}
END_TEST

/* Names that expand to an unsafe folder are refused when the statement
 * runs; the run fails, so the message stays where it is. */
START_TEST(unsafe_folders)
{
	static const char *const bad[] = { "", "..", "a/../b", "a//b", "/a",
	    "a/", "tab\there", "nl\nx", "x\x7f", "\xff\xfe", "./a" };
	struct sieve_env env = { 0 };

	env.score = -1;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf t = { 0 };
		char *got;
		int rc;

		ck_assert_msg(sv_folder_unsafe(bad[i]) != NULL, "%s", bad[i]);
		buf_appends(&t, "require [\"fileinto\", \"variables\", "
		    "\"encoded-character\"];\nset \"f\" \"");
		for (const char *p = bad[i]; *p; p++)
			buf_printf(&t, "${hex:%02x}", (unsigned char)*p);
		buf_appends(&t, "\";\nfileinto \"${f}\";\n");
		got = run_env(t.data, &env, &rc);
		ck_assert_msg(rc == -1, "%zu: %s", i, got);
		ck_assert_msg(strstr(got, "cannot be a folder name") != NULL &&
		    strstr(got, "line 3") != NULL, "%s", got);
		free(got);
		buf_release(&t);
	}
	ck_assert(sv_folder_unsafe("Lists/Dev") == NULL);
	ck_assert(sv_folder_unsafe("a..b") == NULL);
	ck_assert(sv_folder_unsafe("\xc3\x9cnicode") == NULL);
	expect_error("require \"fileinto\";\nfileinto \"a/../b\";\n", 2,
	    "not a valid folder name");
}
END_TEST

START_TEST(dates)
{
	struct sv_date d;
	struct sieve_env env = { 0 };
	char *v, *got;
	int rc, z;

	ck_assert(sv_date_parse("Tue, 1 Dec 2026 10:20:30 +0100 (CET)", 0,
	    &d) == 0);
	ck_assert_int_eq(d.zone, 60);
	v = sv_date_part(&d, d.zone, "std11");
	ck_assert_str_eq(v, "Tue, 01 Dec 2026 10:20:30 +0100");
	free(v);
	v = sv_date_part(&d, -210, "iso8601");
	ck_assert_str_eq(v, "2026-12-01T05:50:30-03:30");
	free(v);
	v = sv_date_part(&d, 0, "julian");
	ck_assert_str_eq(v, "61375");
	free(v);
	v = sv_date_part(&d, 0, "weekday");
	ck_assert_str_eq(v, "2");
	free(v);
	ck_assert(sv_date_part(&d, 0, "fortnight") == NULL);
	/* obsolete forms, as Dovecot reads them */
	ck_assert(sv_date_parse("31 Dec 97 23:59 PST", 0, &d) == 0);
	v = sv_date_part(&d, 0, "iso8601");
	ck_assert_str_eq(v, "1998-01-01T07:59:00Z");
	free(v);
	ck_assert(sv_date_parse("1 Dec 49 10:20:30 +0000", 0, &d) == 0);
	v = sv_date_part(&d, 0, "year");
	ck_assert_str_eq(v, "2049");
	free(v);
	ck_assert(sv_date_parse("from a by b; Mon, 30 Nov 2026 03:00:00 "
	    "+0000", 1, &d) == 0);
	ck_assert(sv_date_parse("Tue, 31 Feb 2026 10:20:30 +0000", 0, &d) < 0);
	ck_assert(sv_date_parse("Tue, 1 Dec 2026 25:20:30 +0000", 0, &d) < 0);
	ck_assert(sv_date_parse("not a date", 0, &d) < 0);
	ck_assert(sv_zone_parse("-0330", &z) == 0 && z == -210);
	ck_assert(sv_zone_parse("+01", &z) < 0);
	/* currentdate reads the clock the caller gives */
	env.score = -1;
	env.now = 1800000000;	/* 2027-01-15T08:00:00Z */
	got = run_env("require [\"date\", \"fileinto\", \"variables\"];\n"
	    "if currentdate :zone \"+0000\" :matches \"iso8601\" \"*\" "
	    "{ fileinto \"${0}\"; }\n", &env, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(got, "fileinto:2027-01-15T08:00:00Z[]");
	free(got);
	expect_error("require \"date\";\nif date :zone \"CET\" \"date\" "
	    "\"year\" \"1\" { keep; }\n", 2, "time zone such as");
	/* :count counts the field :index selects (RFC 5260) */
	expect("require [\"index\", \"relational\", \"fileinto\"];\n"
	    "if header :index 1 :count \"eq\" \"to\" \"1\" "
	    "{ fileinto \"One\"; }\n", -1, "fileinto:One[]");
	expect_error("require \"index\";\nif header :last \"x\" \"y\" "
	    "{ keep; }\n", 2, ":last needs :index");
}
END_TEST

START_TEST(body_values)
{
	struct buf msg = { 0 };
	struct sieve_script *s = NULL;
	struct sieve_result r;
	char *err = NULL, *got;
	const char *text = "require [\"body\", \"fileinto\"];\n"
	    "if body :contains \"deep text\" { fileinto \"Deep\"; }\n"
	    "if body :text :contains \"a & b <c>\" { fileinto \"Html\"; }\n"
	    "if body :content \"text/html\" :contains \"&amp;\" "
	    "{ fileinto \"Raw\"; }\n";

	/* HTML made plain for :text, as written for :content */
	buf_appends(&msg, "Content-Type: text/html\r\n\r\n<p>a &amp; b "
	    "&lt;c&gt;</p><script>x</script>\r\n");
	ck_assert(sieve_script_parse("t", text, &s, &err) == 0);
	ck_assert(sieve_eval(s, msg.data, msg.len, -1, &r, &err) == 0);
	got = show(&r);
	ck_assert_str_eq(got, "fileinto:Html[] fileinto:Raw[]");
	free(got);
	sieve_result_release(&r);
	/* hostile nesting: 1,000 levels; the text at the bottom is past
	 * the depth limit, and the run still ends */
	buf_release(&msg);
	for (int i = 0; i < 1000; i++)
		buf_printf(&msg, "Content-Type: multipart/mixed; "
		    "boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i);
	buf_appends(&msg, "Content-Type: text/plain\r\n\r\ndeep text\r\n");
	ck_assert(sieve_eval(s, msg.data, msg.len, -1, &r, &err) == 0);
	got = show(&r);
	ck_assert_str_eq(got, "implicit[]");
	free(got);
	sieve_result_release(&r);
	sieve_script_free(&s);
	buf_release(&msg);
}
END_TEST

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert(f != NULL);
	fputs(text, f);
	fclose(f);
}

/* include :personal reads NAME.sieve beside the running script after
 * symlinks are resolved (the convention agreed with ManageSieve). */
START_TEST(include_scripts)
{
	char dir[] = "/tmp/check_sieve.XXXXXX", other[] = "/tmp/check_sieve.XXXXXX";
	char *p, *err = NULL, *got;
	struct sieve_script *s = NULL;
	struct sieve_result r;

	ck_assert(mkdtemp(dir) != NULL && mkdtemp(other) != NULL);
	p = xasprintf("%s/lib.sieve", dir);
	write_file(p, "require [\"include\", \"fileinto\"];\n"
	    "fileinto \"Lib\";\nreturn;\nfileinto \"Never\";\n");
	free(p);
	p = xasprintf("%s/main.sieve", dir);
	write_file(p, "require [\"include\", \"fileinto\"];\n"
	    "include \"lib\";\ninclude :once \"lib\";\nfileinto \"Main\";\n");
	free(p);
	p = xasprintf("%s/loop.sieve", dir);
	write_file(p, "require \"include\";\ninclude \"loop\";\n");
	free(p);
	/* the configured path is a symlink elsewhere: siblings of the
	 * real file count */
	p = xasprintf("%s/active.sieve", other);
	got = xasprintf("%s/main.sieve", dir);
	ck_assert(symlink(got, p) == 0);
	free(got);
	ck_assert_msg(sieve_script_load(p, &s, &err) == 0, "%s", err);
	ck_assert(sieve_eval(s, msg_ham, sizeof(msg_ham) - 1, -1, &r,
	    &err) == 0);
	got = show(&r);
	ck_assert_str_eq(got, "fileinto:Lib[] fileinto:Main[]");
	ck_assert(strstr(r.rule, "lib.sieve line 2") != NULL);
	free(got);
	sieve_result_release(&r);
	sieve_script_free(&s);
	free(p);
	p = xasprintf("%s/loop.sieve", dir);
	ck_assert(sieve_script_load(p, &s, &err) < 0);
	ck_assert_msg(strstr(err, "loop") != NULL, "%s", err);
	free(err);
	free(p);
	/* a script held in memory, checked for where it will be stored */
	ck_assert_msg(sieve_script_parse_in("upload", "require [\"include\", "
	    "\"fileinto\"];\ninclude \"lib\";\n", dir, &s, &err) == 0, "%s",
	    err);
	sieve_script_free(&s);
	/* no file, no neighbours; :global is refused */
	expect_error("require \"include\";\ninclude \"lib\";\n", 2,
	    "needs a script file");
	expect_error("require \"include\";\ninclude :global \"lib\";\n", 2,
	    "no global scripts");
	expect_error("require \"include\";\ninclude \"../etc/x\";\n", 2,
	    "not a script name");
	expect_error("require [\"include\", \"variables\"];\nset \"a\" \"1\";\n"
	    "global \"a\";\n", 3, "declare it global before");
	got = xasprintf("rm -rf %s %s", dir, other);
	ck_assert(system(got) == 0);
	free(got);
}
END_TEST

/* A store of seen IDs for the duplicate test: one ID, seen at 1000. */
static char seen_id[65];
static int lookups;

static int
lookup_one(void *ctx, const char *id, long long *seen_at_r)
{
	lookups++;
	if (strcmp(id, seen_id) != 0)
		return 0;
	*seen_at_r = 1000;
	return 1;
}

START_TEST(duplicates)
{
	const char *text = "require [\"duplicate\", \"fileinto\", "
	    "\"variables\"];\n"
	    "if duplicate { fileinto \"Dup\"; }\n"
	    "if duplicate :seconds 100 :last { fileinto \"Recent\"; }\n"
	    "if duplicate :handle \"x\" :uniqueid \"${none}\" "
	    "{ fileinto \"Other\"; }\n"
	    "if duplicate :header \"x-none\" { fileinto \"Never\"; }\n";
	const char *msg = "Message-ID: <a@example.org>\r\n"
	    "Subject: hi\r\n\r\nbody\r\n";
	size_t len = strlen(msg);
	struct sieve_script *s = NULL;
	struct sieve_env env = { 0 };
	struct sieve_result r;
	char *err = NULL, *got;

	ck_assert(sieve_script_parse("t", text, &s, &err) == 0);
	ck_assert(sieve_script_needs_duplicates(s));
	env.score = -1;
	env.now = 1050;
	/* nothing seen: false, and three IDs to record (x-none is absent:
	 * nothing tracked) */
	ck_assert(sieve_eval_env(s, msg, len, &env, &r,
	    &err) == 0);
	got = show(&r);
	ck_assert_str_eq(got, "implicit[]");
	free(got);
	ck_assert_uint_eq(r.ndups, 3);
	ck_assert(sieve_dup_record(&r.dups[0]));
	ck_assert_str_eq(r.dups[0].id, r.dups[1].id);	/* same ID */
	ck_assert_str_ne(r.dups[0].id, r.dups[2].id);	/* other handle */
	memcpy(seen_id, r.dups[0].id, sizeof(seen_id));
	sieve_result_release(&r);
	/* seen 50 s ago: both windows hold; only :last is recorded again */
	env.dup_lookup = lookup_one;
	lookups = 0;
	ck_assert(sieve_eval_env(s, msg, len, &env, &r,
	    &err) == 0);
	got = show(&r);
	ck_assert_str_eq(got, "fileinto:Dup[] fileinto:Recent[]");
	free(got);
	ck_assert_int_eq(lookups, 2);	/* each ID looked up once */
	ck_assert(!sieve_dup_record(&r.dups[0]));
	ck_assert(sieve_dup_record(&r.dups[1]));
	sieve_result_release(&r);
	/* 500 s later, the 100 s window is over */
	env.now = 1500;
	ck_assert(sieve_eval_env(s, msg, len, &env, &r,
	    &err) == 0);
	got = show(&r);
	ck_assert_str_eq(got, "fileinto:Dup[]");
	free(got);
	sieve_result_release(&r);
	sieve_script_free(&s);
	expect_error("require \"duplicate\";\nif duplicate :header \"a\" "
	    ":uniqueid \"b\" { keep; }\n", 2, "duplicate takes");
}
END_TEST

/* Runs a valid script whose libsieve text was replaced by text, as if
 * libsieve misbehaved on it; sieve_eval must fail, not the caller. */
static void
expect_isolated(const char *text, const char *msg, const char *words)
{
	struct sieve_script *s = NULL;
	struct sieve_result r;
	char *err = NULL, before[4096];
	long helper = 0;

	unit_children(before, sizeof(before));
	ck_assert(sieve_script_parse("t", "keep;\n", &s, &err) == 0);
	free(s->rewritten);
	s->rewritten = xstrdup(text);
	ck_assert(sieve_eval(s, msg, strlen(msg), -1, &r, &err) == -1);
	ck_assert_msg(strstr(err, words) != NULL, "%s", err);
	ck_assert(r.n == 0 && r.actions == NULL);
	free(err);
	/* the evaluator's helper survived and evaluates again */
	helper = unit_new_child(before);
	ck_assert_int_gt(helper, 0);
	if (sieve_eval(s, msg_ham, sizeof(msg_ham) - 1, -1, &r, &err) == 0)
		sieve_result_release(&r);
	else
		free(err);
	ck_assert_int_eq(unit_new_child(before), helper);
	sieve_script_free(&s);
	ck_assert_int_eq(unit_new_child(before), 0);
}

/* Evaluates s (files subjects with "viagra" into Spam) on msg_ham. */
static void
expect_spam(const struct sieve_script *s)
{
	struct sieve_result r;
	char *err = NULL, *got;

	if (sieve_eval(s, msg_ham, sizeof(msg_ham) - 1, 0.5, &r, &err) < 0)
		ck_abort_msg("eval failed: %s", err);
	got = show(&r);
	ck_assert_str_eq(got, "fileinto:Spam[]");
	free(got);
	sieve_result_release(&r);
}

/* The daemon's heap is large: it must not fork for every message.  One
 * helper per script evaluates, started again when it dies, ended with
 * the script. */
START_TEST(one_evaluator_per_script)
{
	struct sieve_script *s = NULL;
	char *err = NULL, before[4096];
	long helper = 0, second;

	unit_children(before, sizeof(before));
	ck_assert(sieve_script_parse("t", "require \"fileinto\";\n"
	    "if header :contains \"subject\" \"viagra\" "
	    "{ fileinto \"Spam\"; }\n", &s, &err) == 0);
	for (int i = 0; i < 30; i++) {
		expect_spam(s);
		if (i == 0)
			helper = unit_new_child(before);
		ck_assert_int_gt(helper, 0);
		ck_assert_int_eq(unit_new_child(before), helper);
	}
	ck_assert_int_eq(kill((pid_t)helper, SIGKILL), 0);
	expect_spam(s);
	second = unit_new_child(before);
	ck_assert_int_gt(second, 0);
	ck_assert_int_ne(second, helper);
	sieve_script_free(&s);
	ck_assert_int_eq(unit_new_child(before), 0);
}
END_TEST

START_TEST(isolation)
{
	struct buf msg = { 0 };

	/* libsieve backtracks for ever on this (its setflag double free
	 * would do too, but valgrind's allocator survives it, so the test
	 * would depend on how it runs) */
	buf_appends(&msg, "Subject: ");
	for (int i = 0; i < 5000; i++)
		buf_appends(&msg, "a");
	buf_appends(&msg, "\n\nx\n");
	expect_isolated("if header :matches \"X-Mailsift-H-subject\" "
	    "\"*a*a*a*a*a*a*b\" { keep; }\n", msg.data, "longer than");
	/* a parse error libsieve reports only through its callback */
	expect_isolated("keep;\nfrobnicate;\n", msg_ham, "script:2:");
	buf_release(&msg);
}
END_TEST

START_TEST(load_file)
{
	struct sieve_script *s = NULL;
	char *err = NULL;

	ck_assert(sieve_script_load("/nonexistent/x.sieve", &s, &err) < 0);
	ck_assert(strstr(err, "/nonexistent/x.sieve: cannot read") != NULL);
	free(err);
	ck_assert(sieve_script_load(FIXTURES "/sieve/good.sieve", &s,
	    &err) == 0);
	sieve_script_free(&s);
	ck_assert(s == NULL);
	ck_assert(sieve_script_load(FIXTURES "/sieve/bad.sieve", &s,
	    &err) < 0);
	ck_assert(strstr(err, "bad.sieve:4: ") != NULL);
	free(err);
}
END_TEST

/* A daemon starts the helper before it grows: evaluations then use it. */
START_TEST(evaluator_started_early)
{
	struct sieve_script *s = NULL;
	char *err = NULL, before[4096];
	long helper;

	unit_children(before, sizeof(before));
	ck_assert(sieve_script_parse("t", "require \"fileinto\";\n"
	    "if header :contains \"subject\" \"viagra\" "
	    "{ fileinto \"Spam\"; }\n", &s, &err) == 0);
	ck_assert_int_eq(unit_new_child(before), 0);
	sieve_script_start_evaluator(s);
	helper = unit_new_child(before);
	ck_assert_int_gt(helper, 0);
	expect_spam(s);
	expect_spam(s);
	ck_assert_int_eq(unit_new_child(before), helper);
	sieve_script_free(&s);
	ck_assert_int_eq(unit_new_child(before), 0);
}
END_TEST

static Suite *
sieve_suite(void)
{
	Suite *s = suite_create("sieve");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, implicit_keep);
	tcase_add_test(tc, keep_and_discard);
	tcase_add_test(tc, fileinto_merged);
	tcase_add_test(tc, flags);
	tcase_add_test(tc, headers);
	tcase_add_test(tc, score_header);
	tcase_add_test(tc, spamtest_rules);
	tcase_add_test(tc, spamtest_values);
	tcase_add_test(tc, numeric_form);
	tcase_add_test(tc, matcher);
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, check_messages);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, warnings);
	tcase_add_test(tc, rule_text);
	tcase_add_test(tc, default_script);
	tcase_add_test(tc, malformed_messages);
	tcase_add_test(tc, hostile_header);
	tcase_add_test(tc, isolation);
	tcase_add_test(tc, one_evaluator_per_script);
	tcase_add_test(tc, evaluator_started_early);
	tcase_add_test(tc, large_scripts);
	tcase_add_test(tc, extension_list);
	tcase_add_test(tc, copy_and_create);
	tcase_add_test(tc, mailboxexists);
	tcase_add_test(tc, ihave_error);
	tcase_add_test(tc, encoded_character);
	tcase_add_test(tc, variables);
	tcase_add_test(tc, variable_limits);
	tcase_add_test(tc, expansion_bound);
	tcase_add_test(tc, unsafe_folders);
	tcase_add_test(tc, dates);
	tcase_add_test(tc, body_values);
	tcase_add_test(tc, include_scripts);
	tcase_add_test(tc, duplicates);
	tcase_add_test(tc, load_file);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(sieve_suite)
