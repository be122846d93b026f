/*
 * check_message.c - header parsing, RFC 2047 decoding, charsets,
 * Message-ID and content hash (agent/message.c).
 */
#include <stdio.h>
#include <string.h>

#include "agent/message.h"
#include "tests/unit/unit.h"

START_TEST(parse_unfolds_and_splits_body)
{
	const char *raw = "Subject: hello\r\n  world\r\nFrom: a@b.example\r\n"
	    "X-Empty:\r\n\r\nbody line\r\n";
	struct message m;

	message_parse(&m, raw, strlen(raw));
	ck_assert_uint_eq(m.nheaders, 3);
	ck_assert_str_eq(message_header(&m, "subject", 0), "hello  world");
	ck_assert_str_eq(message_header(&m, "FROM", 0), "a@b.example");
	ck_assert_str_eq(message_header(&m, "X-Empty", 0), "");
	ck_assert_ptr_null(message_header(&m, "Subject", 1));
	ck_assert_int_eq(strncmp(m.body, "body line", 9), 0);
	message_release(&m);
}
END_TEST

START_TEST(parse_malformed_input)
{
	static const char *const cases[] = {
		"", "no header here\n\nbody", "Subject: x", ":\n",
		"Subject x\nFrom: y\n", "\n\n\n", " leading continuation\n",
		"From someone Mon Jan 1\nSubject: after envelope\n\nb",
	};
	static const size_t want_headers[] = { 0, 0, 1, 0, 0, 0, 0, 1 };

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct message m;
		message_parse(&m, cases[i], strlen(cases[i]));
		ck_assert_msg(m.nheaders == want_headers[i],
		    "case %zu: %zu headers", i, m.nheaders);
		ck_assert(m.body >= cases[i] &&
		    m.body + m.body_len == cases[i] + strlen(cases[i]));
		message_release(&m);
	}
}
END_TEST

START_TEST(parse_binary_garbage)
{
	char raw[600];
	struct message m;

	for (size_t i = 0; i < sizeof(raw); i++)
		raw[i] = (char)((i * 7919 + 13) & 0xff);
	message_parse(&m, raw, sizeof(raw));
	message_release(&m);
}
END_TEST

START_TEST(decode_words)
{
	static const char *const cases[][2] = {
		{ "=?UTF-8?B?Q2hlYXAgdmlhZ3Jh?=", "Cheap viagra" },
		{ "=?iso-8859-1?q?caf=E9_cr=E8me?=", "caf\xc3\xa9 cr\xc3\xa8me" },
		{ "=?utf-8?q?a?= =?utf-8?q?b?=", "ab" },
		{ "x =?utf-8?q?a?= y", "x a y" },
		{ "=?utf-8*en?Q?hi?=", "hi" },
		{ "=?bogus-charset?Q?plain?=", "plain" },
		{ "=?utf-8?X?bad-encoding?=", "=?utf-8?X?bad-encoding?=" },
		{ "=?utf-8?B?not base64?=", "=?utf-8?B?not base64?=" },
		{ "unterminated =?utf-8?q?abc", "unterminated =?utf-8?q?abc" },
		{ "raw latin1 \xe9", "raw latin1 \xc3\xa9" },
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *got = message_decode_words(cases[i][0]);
		ck_assert_msg(strcmp(got, cases[i][1]) == 0,
		    "case %zu: got '%s'", i, got);
		free(got);
	}
}
END_TEST

START_TEST(header_for_display)
{
	static const char raw[] =
	    "Subject: =?UTF-8?B?w6l0w6k=?= \x1b[31mred\t \x07" "bell\r\n"
	    "From: =?iso-8859-1?q?J=F6rg?= <j@example.org>\r\n"
	    "X-Long: \xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\r\n"
	    "X-C1: a\xc2\x9b" "b\r\n\r\nbody\r\n";
	struct message m;
	char *v;

	message_parse(&m, raw, sizeof(raw) - 1);
	v = message_header_display(&m, "Subject", 100);
	ck_assert_str_eq(v, "\xc3\xa9t\xc3\xa9 [31mred bell");
	free(v);
	v = message_header_display(&m, "From", 100);
	ck_assert_str_eq(v, "J\xc3\xb6rg <j@example.org>");
	free(v);
	/* Cut on a character boundary: 2 of the 2-byte characters fit. */
	v = message_header_display(&m, "X-Long", 8);
	ck_assert_str_eq(v, "\xc3\xa9\xc3\xa9...");
	free(v);
	v = message_header_display(&m, "X-C1", 100);
	ck_assert_str_eq(v, "a b");
	free(v);
	ck_assert_ptr_null(message_header_display(&m, "Cc", 100));
	message_release(&m);
}
END_TEST

START_TEST(charset_conversion)
{
	size_t n;
	char *s;

	s = message_to_utf8("windows-1252", "\x93quoted\x94", 8, &n);
	ck_assert_str_eq(s, "\xe2\x80\x9cquoted\xe2\x80\x9d");
	free(s);
	s = message_to_utf8("utf-8", "\xff\xfe", 2, &n);	/* invalid */
	ck_assert_str_eq(s, "\xc3\xbf\xc3\xbe");
	free(s);
	s = message_to_utf8("no-such-charset", "\xc3\xa9", 2, &n);
	ck_assert_str_eq(s, "\xc3\xa9");
	free(s);
	s = message_to_utf8("iso-2022-jp", "\x1b$B%F%9%H\x1b(B", 12, &n);
	ck_assert_str_eq(s, "\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88");
	free(s);
}
END_TEST

/* The labels of ISO-8859-1 converted without iconv give, for every byte,
 * what iconv gives under another of its names (CP819). */
START_TEST(latin1_as_iconv)
{
	static const char *const labels[] = {
		"iso-8859-1", "ISO-8859-1", "iso8859-1", "ISO_8859-1", "latin1"
	};
	char all[256];
	size_t want_len, got_len;
	char *want;

	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	want = message_to_utf8("CP819", all, sizeof(all), &want_len);
	ck_assert_uint_eq(want_len, 128 + 2 * 128);
	for (size_t i = 0; i < sizeof(labels) / sizeof(*labels); i++) {
		char *got = message_to_utf8(labels[i], all, sizeof(all),
		    &got_len);

		ck_assert_msg(got_len == want_len &&
		    memcmp(got, want, want_len) == 0, "%s differs", labels[i]);
		free(got);
	}
	free(want);
}
END_TEST

START_TEST(message_id_forms)
{
	static const char *const cases[][2] = {
		{ "Message-ID: <abc@x.example>\n\n", "<abc@x.example>" },
		{ "Message-Id:   <a@b> (comment)\n\n", "<a@b>" },
		{ "Message-ID: no-brackets@x\n\n", "no-brackets@x" },
		{ "Message-ID:\n\n", NULL },
		{ "Subject: none\n\n", NULL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct message m;
		char *id;
		message_parse(&m, cases[i][0], strlen(cases[i][0]));
		id = message_id(&m);
		if (cases[i][1] == NULL)
			ck_assert_ptr_null(id);
		else
			ck_assert_str_eq(id, cases[i][1]);
		free(id);
		message_release(&m);
	}
}
END_TEST

START_TEST(hash_ignores_line_ending_style)
{
	char a[MESSAGE_HASH_LEN + 1], b[MESSAGE_HASH_LEN + 1];
	char c[MESSAGE_HASH_LEN + 1];

	message_hash("A: 1\r\n\r\nbody\r\n", 15, a);
	message_hash("A: 1\n\nbody\n", 12, b);
	message_hash("A: 2\n\nbody\n", 12, c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	message_hash("", 0, c);
	ck_assert_str_eq(c, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	/* FIPS 180-4 examples: one block, two blocks, a million bytes. */
	message_hash("abc", 3, c);
	ck_assert_str_eq(c, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	message_hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	    56, c);
	ck_assert_str_eq(c, "248d6a61d20638b8e5c026930c3e6039"
	    "a33ce45964ff2167f6ecedd419db06c1");
	{
		char *million = malloc(1000000);
		memset(million, 'a', 1000000);
		message_hash(million, 1000000, c);
		free(million);
		ck_assert_str_eq(c, "cdc76e5c9914fb9281a1c7e284d73e67"
		    "f1809a48a497200e046d39ccc7112cd0");
	}
}
END_TEST


/* A quoted-printable line break is CRLF once decoded (RFC 2045 6.7),
 * also when the text came with bare LF line ends; a soft break goes. */
START_TEST(transfer_decoding)
{
	struct buf out = { 0 };
	const char *qp = "caf=C3=A9\nsoft=\nbreak\r\nend=";

	ck_assert_int_eq(message_decode_transfer("Quoted-Printable", qp,
	    strlen(qp), &out), 1);
	ck_assert_str_eq(out.data, "caf\xc3\xa9\r\nsoftbreak\r\nend=");
	buf_release(&out);
	ck_assert_int_eq(message_decode_transfer("base64", "aGk=\n", 5, &out),
	    1);
	ck_assert_str_eq(out.data, "hi");
	buf_release(&out);
	ck_assert_int_eq(message_decode_transfer("7bit", "x", 1, &out), 0);
	ck_assert(out.data == NULL);
}
END_TEST

static Suite *
message_suite(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("message");

	tcase_add_test(tc, parse_unfolds_and_splits_body);
	tcase_add_test(tc, parse_malformed_input);
	tcase_add_test(tc, parse_binary_garbage);
	tcase_add_test(tc, decode_words);
	tcase_add_test(tc, header_for_display);
	tcase_add_test(tc, charset_conversion);
	tcase_add_test(tc, latin1_as_iconv);
	tcase_add_test(tc, message_id_forms);
	tcase_add_test(tc, hash_ignores_line_ending_style);
	tcase_add_test(tc, transfer_decoding);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(message_suite)
