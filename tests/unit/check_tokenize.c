/*
 * check_tokenize.c - the tokenizer, table-driven: for each encoding and
 * each malformed case, a message and the features it must and must not
 * yield.  Also the byte cap and the never-widen-hosts rule.
 */
#include <stdio.h>
#include <string.h>

#include "agent/tokenize.h"
#include "tests/unit/unit.h"

struct tcase {
	const char *name;
	const char *msg;
	const char *want[8];	/* features that must be present */
	const char *reject[6];	/* features that must be absent */
};

static const struct tcase cases[] = {
	{ "plain words, pairs and header tags",
	  "From: Alice Smith <Alice@Example.COM>\nSubject: Cheap Offer\n"
	  "\nHello world, hello again.\n",
	  { "hello", "world", "hello world", "subject:cheap",
	    "subject:cheap offer", "from-addr:alice@example.com",
	    "from-domain:example.com", "from:alice" },
	  { "Hello", "world,", "subject:Cheap" } },
	{ "base64 body",
	  "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
	  "ZnJlZSBtb25leSBub3c=\n",
	  { "free", "money", "free money", "mime-encoding:base64" },
	  { "znjlzsbtb25lesbub3c" } },
	{ "quoted-printable with soft breaks and UTF-8",
	  "Content-Type: text/plain; charset=utf-8\n"
	  "Content-Transfer-Encoding: quoted-printable\n\n"
	  "caf=C3=A9 soft=\nbreak =3D done\n",
	  { "caf\xc3\xa9", "softbreak", "done", "charset:utf-8" },
	  { "soft", "c3" } },
	{ "malformed quoted-printable is kept as written",
	  "Content-Transfer-Encoding: quoted-printable\n\nbad=ZZescape end=\n",
	  { "bad", "zzescape", "end" },
	  { NULL } },
	{ "RFC 2047 subject (B and Q) decoded",
	  "Subject: =?utf-8?B?Q2hlYXAgcGlsbHM=?= and =?iso-8859-1?Q?caf=E9?="
	  "\n\nbody\n",
	  { "subject:cheap", "subject:pills", "subject:caf\xc3\xa9" },
	  { "subject:q2hlyxagcgltbhm" } },
	{ "Latin-1 body converted to UTF-8",
	  "Content-Type: text/plain; charset=iso-8859-1\n\ncr\xe8me br\xfbl\xe9"
	  "e\n",
	  { "cr\xc3\xa8me", "br\xc3\xbbl\xc3\xa9" "e", "charset:iso-8859-1" },
	  { "cr\xe8me" } },
	{ "unknown charset falls back to Latin-1",
	  "Content-Type: text/plain; charset=x-no-such\n\ncaf\xe9 ok\n",
	  { "caf\xc3\xa9", "ok" },
	  { NULL } },
	{ "HTML: text, tags, link hosts; comments join, script dropped",
	  "Content-Type: text/html\n\n<p>Buy <b>now</b> vi<!-- x -->agra "
	  "&amp; more&#33; <a href=\"HTTP://Shop.Example.NET:8080/x\">go</a>"
	  "<script>var hidden = 1;</script><style>p{}</style></p>\n",
	  { "buy", "now", "viagra", "more", "html:p", "html:a",
	    "url-host:shop.example.net" },
	  { "hidden", "var", "b>now", "vi", "agra" } },
	{ "multipart with an attachment: type and name, not bytes",
	  "Content-Type: multipart/mixed; boundary=\"b1\"\n\npreamble\n--b1\n"
	  "Content-Type: text/plain\n\nsee attached invoice\n--b1\n"
	  "Content-Type: application/pdf; name=\"Invoice 2024.PDF\"\n"
	  "Content-Disposition: attachment\n"
	  "Content-Transfer-Encoding: base64\n\nc2VjcmV0IGJ5dGVz\n--b1--\n"
	  "epilogue\n",
	  { "see", "invoice", "attach-type:application/pdf",
	    "attach-name:invoice 2024.pdf", "attach-ext:pdf",
	    "mime-type:multipart/mixed" },
	  { "secret", "bytes", "preamble", "epilogue" } },
	{ "unterminated multipart keeps the last part",
	  "Content-Type: multipart/alternative; boundary=zz\n\n--zz\n\n"
	  "first part\n--zz\nContent-Type: text/plain\n\nsecond part\n",
	  { "first", "second", "second part" },
	  { NULL } },
	{ "multipart without a boundary is read as text",
	  "Content-Type: multipart/mixed\n\njust text here\n",
	  { "just", "text", "here" },
	  { NULL } },
	{ "attached message: its header fields are tokenized",
	  "Content-Type: message/rfc822\n\nSubject: inner topic\n"
	  "From: bob@inner.example\n\ninner body\n",
	  { "subject:inner", "from-addr:bob@inner.example", "inner", "body" },
	  { NULL } },
	{ "relay evidence at full granularity, never parent domains",
	  "Received: from a.customers.hostco.example (a.customers.hostco."
	  "example [192.0.2.10])\n\tby mx1.hostco.example with ESMTP id "
	  "ABC123 for <owner@home.example>; Mon, 2 Sep 2024\n\nhi\n",
	  { "relay-host:a.customers.hostco.example",
	    "relay-ip:192.0.2.10", "relay-host:mx1.hostco.example" },
	  { "relay-host:hostco.example", "relay-host:customers.hostco.example",
	    "relay-host:example", "relay-host:home.example" } },
	{ "long digit runs and over-long words are dropped",
	  "\norder 1234567890 ref 12ab34cd56 "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ok\n",
	  { "order", "ok", "ref" },
	  { "1234567890", "12ab34cd56" } },
	{ "UTF-8 punctuation separates words",
	  "Content-Type: text/plain; charset=utf-8\n\n"
	  "\xc2\xabquoted\xc2\xbb tools\xe2\x80\x94" "and more\xe2\x80\xa6\n",
	  { "quoted", "tools", "and", "more" },
	  { "tools\xe2\x80\x94" "and" } },
	{ "bare LF-less header only message",
	  "Subject: only a header",
	  { "subject:only", "subject:header" },
	  { NULL } },
};

static int
has(const struct features *f, const char *text)
{
	for (size_t i = 0; i < f->n; i++)
		if (strcmp(feature_text(f, i), text) == 0)
			return 1;
	return 0;
}

START_TEST(test_table)
{
	const struct tcase *c = &cases[_i];
	struct features f;

	tokenize(c->msg, strlen(c->msg), TOKENIZE_DEFAULT_MAX_BYTES, &f);
	for (size_t k = 0; k < 8 && c->want[k]; k++)
		ck_assert_msg(has(&f, c->want[k]), "%s: missing \"%s\"",
		    c->name, c->want[k]);
	for (size_t k = 0; k < 6 && c->reject[k]; k++)
		ck_assert_msg(!has(&f, c->reject[k]), "%s: unexpected \"%s\"",
		    c->name, c->reject[k]);
	for (size_t i = 1; i < f.n; i++)
		ck_assert_msg(f.v[i - 1].hash < f.v[i].hash,
		    "%s: features not distinct and sorted", c->name);
	features_release(&f);
}
END_TEST

START_TEST(test_cap)
{
	static const char msg[] = "Subject: capped\n\nearly words here "
	    "and then late words beyond the cap\n";
	struct features f;
	size_t cap = strlen("Subject: capped\n\nearly words here");

	tokenize(msg, strlen(msg), cap, &f);
	ck_assert_int_eq(f.truncated, 1);
	ck_assert_uint_eq(f.bytes_read, cap);
	ck_assert_uint_eq(f.bytes_total, strlen(msg));
	ck_assert(has(&f, "early"));
	ck_assert(!has(&f, "late"));
	features_release(&f);
	tokenize(msg, strlen(msg), 0, &f);	/* 0: no cap */
	ck_assert_int_eq(f.truncated, 0);
	ck_assert(has(&f, "late"));
	features_release(&f);
}
END_TEST

START_TEST(test_empty_and_junk)
{
	struct features f;
	char junk[4096];

	tokenize("", 0, TOKENIZE_DEFAULT_MAX_BYTES, &f);
	ck_assert_uint_eq(f.n, 0);
	features_release(&f);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 + (i >> 3));
	tokenize(junk, sizeof(junk), TOKENIZE_DEFAULT_MAX_BYTES, &f);
	features_release(&f);
}
END_TEST

START_TEST(test_deep_nesting_bounded)
{
	struct buf b = { 0 };
	struct features f;

	/* 200 nested multiparts: the walk stops at its depth limit. */
	for (int i = 0; i < 200; i++)
		buf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n"
		    "--b%d\n", i, i);
	buf_appends(&b, "\ndeepest words\n");
	tokenize(b.data, b.len, TOKENIZE_DEFAULT_MAX_BYTES, &f);
	ck_assert(!has(&f, "deepest"));
	features_release(&f);
	buf_release(&b);
}
END_TEST

START_TEST(test_hash_stable)
{
	/* Stored databases key on these values: they must never change. */
	ck_assert_uint_eq(feature_hash("viagra", 6),
	    feature_hash("viagra", 6));
	ck_assert_uint_ne(feature_hash("viagra", 6),
	    feature_hash("subject:viagra", 14));
	ck_assert_uint_eq(feature_hash("", 0), 0xefd01f60ba992926ULL);
}
END_TEST

static Suite *
tokenize_suite(void)
{
	Suite *s = suite_create("tokenize");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_table, 0,
	    (int)(sizeof(cases) / sizeof(*cases)));
	tcase_add_test(tc, test_cap);
	tcase_add_test(tc, test_empty_and_junk);
	tcase_add_test(tc, test_deep_nesting_bounded);
	tcase_add_test(tc, test_hash_stable);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(tokenize_suite)
