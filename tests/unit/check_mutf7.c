/*
 * check_mutf7.c - the modified UTF-7 codec (RFC 3501 5.1.3): a table of
 * names that must round-trip to an exact wire form, and tables of invalid
 * UTF-8 and invalid modified UTF-7 that must be refused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/mutf7.h"
#include "tests/unit/unit.h"

static const struct {
	const char *utf8;
	const char *wire;
} good[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "Spam/Junk mail", "Spam/Junk mail" },
	{ "&", "&-" },
	{ "Tom & Jerry", "Tom &- Jerry" },
	{ "&&", "&-&-" },
	{ "Spam/\xc3\x9cnicode", "Spam/&ANw-nicode" },	/* Ü */
	{ "\xc3\xa4", "&AOQ-" },			/* ä: 1 unit */
	{ "\xc3\xa4\xc3\xb6", "&AOQA9g-" },		/* äö: 2 units */
	{ "\xc3\xa4\xc3\xb6\xc3\xbc", "&AOQA9gD8-" },	/* äöü: 3 */
	/* RFC 3501's own example: ~peter/mail/台北/日本語 */
	{ "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac"
	  "\xe8\xaa\x9e", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },
	/* U+1F600 (surrogate pair) */
	{ "\xf0\x9f\x98\x80", "&2D3eAA-" },
	{ "a\xf0\x9f\x98\x80z", "a&2D3eAA-z" },
	/* control characters are not printable: they go into base64 */
	{ "a\tb", "a&AAk-b" },
	{ "\x7f", "&AH8-" },
	/* "/" inside base64 is written "," (U+FFFF encodes to ",,8") */
	{ "\xef\xbf\xbf", "&,,8-" },
	{ "\xc3\xa4&\xc3\xa4", "&AOQ-&-&AOQ-" },
};

START_TEST(test_roundtrip)
{
	char *out = NULL, *back = NULL, *err = NULL;

	ck_assert_int_eq(mutf7_encode(good[_i].utf8, &out, &err), 0);
	ck_assert_str_eq(out, good[_i].wire);
	ck_assert_int_eq(mutf7_decode(good[_i].wire, &back, &err), 0);
	ck_assert_str_eq(back, good[_i].utf8);
	free(out);
	free(back);
}
END_TEST

static const char *const bad_utf8[] = {
	"\x80",			/* lone continuation byte */
	"a\xc3",		/* truncated 2-byte sequence */
	"\xe6\x97",		/* truncated 3-byte sequence */
	"\xc0\xaf",		/* overlong "/" */
	"\xe0\x80\xaf",		/* overlong 3-byte */
	"\xed\xa0\x80",		/* UTF-16 surrogate U+D800 */
	"\xf4\x90\x80\x80",	/* above U+10FFFF */
	"\xff",
	"ok\xc3(",		/* bad continuation */
};

START_TEST(test_encode_rejects)
{
	char *out = (char *)"unchanged", *err = NULL;

	ck_assert_int_eq(mutf7_encode(bad_utf8[_i], &out, &err), -1);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "invalid UTF-8") != NULL, "%s", err);
	free(err);
}
END_TEST

static const struct {
	const char *wire;
	const char *why;
} bad_mutf7[] = {
	{ "&", "unterminated" },
	{ "&AOQ", "unterminated" },
	{ "a&AOQ-&AOQ-", "adjacent" },
	{ "&AOQ*-", "invalid character" },
	{ "&AOQ/-", "invalid character" },	/* standard base64 "/" */
	{ "&AOQ=-", "invalid character" },	/* padding */
	{ "&AOR-", "non-zero padding" },	/* leftover bits set */
	{ "&AOQA-", "partial" },		/* 1.5 units */
	{ "&A-", "partial" },
	{ "&AGE-", "printable ASCII" },		/* "a" in base64 */
	{ "&ACY-", "printable ASCII" },		/* "&" in base64 */
	{ "&2D0-", "surrogate" },		/* lone high surrogate */
	{ "&3gA-", "surrogate" },		/* lone low surrogate */
	{ "&2D0AQQ-", "surrogate" },		/* high then non-low */
	{ "&AAA-", "NUL" },
	{ "Sp\xc3\xa4m", "outside printable" },	/* raw 8-bit */
	{ "a\tb", "outside printable" },
	{ "a\x7f", "outside printable" },
};

START_TEST(test_decode_rejects)
{
	char *out = (char *)"unchanged", *err = NULL;

	ck_assert_int_eq(mutf7_decode(bad_mutf7[_i].wire, &out, &err), -1);
	ck_assert_ptr_null(out);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, bad_mutf7[_i].why) != NULL,
	    "'%s': expected '%s' in: %s", bad_mutf7[_i].wire,
	    bad_mutf7[_i].why, err);
	free(err);
}
END_TEST

/* Every BMP code point outside printable ASCII and the surrogates, and a
 * spread of astral ones, survives encode + decode. */
START_TEST(test_all_code_points)
{
	char in[5], *out, *back, *err = NULL;

	for (uint32_t cp = 1; cp <= 0x10ffff;
	    cp += (cp < 0x10000 ? 1 : 97)) {
		if ((cp >= 0x20 && cp <= 0x7e) || (cp >= 0xd800 && cp <= 0xdfff))
			continue;
		if (cp < 0x80) {
			in[0] = (char)cp;
			in[1] = '\0';
		} else if (cp < 0x800) {
			in[0] = (char)(0xc0 | (cp >> 6));
			in[1] = (char)(0x80 | (cp & 0x3f));
			in[2] = '\0';
		} else if (cp < 0x10000) {
			in[0] = (char)(0xe0 | (cp >> 12));
			in[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			in[2] = (char)(0x80 | (cp & 0x3f));
			in[3] = '\0';
		} else {
			in[0] = (char)(0xf0 | (cp >> 18));
			in[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			in[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
			in[3] = (char)(0x80 | (cp & 0x3f));
			in[4] = '\0';
		}
		ck_assert_msg(mutf7_encode(in, &out, &err) == 0, "U+%04X", cp);
		ck_assert_msg(out[0] == '&', "U+%04X -> %s", cp, out);
		ck_assert_msg(mutf7_decode(out, &back, &err) == 0,
		    "U+%04X -> %s: %s", cp, out, err);
		ck_assert_msg(strcmp(back, in) == 0, "U+%04X", cp);
		free(out);
		free(back);
	}
}
END_TEST

static Suite *
mutf7_suite(void)
{
	Suite *s = suite_create("mutf7");
	TCase *tc = tcase_create("codec");

	tcase_add_loop_test(tc, test_roundtrip, 0,
	    (int)(sizeof(good) / sizeof(good[0])));
	tcase_add_loop_test(tc, test_encode_rejects, 0,
	    (int)(sizeof(bad_utf8) / sizeof(bad_utf8[0])));
	tcase_add_loop_test(tc, test_decode_rejects, 0,
	    (int)(sizeof(bad_mutf7) / sizeof(bad_mutf7[0])));
	tcase_add_test(tc, test_all_code_points);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(mutf7_suite)
