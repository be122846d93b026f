/*
 * check_sasl.c - sasl.c: base64 against RFC 4648's vectors, the login
 * messages against the examples of RFC 4616 (PLAIN), Google's XOAUTH2
 * documentation and RFC 7628 (OAUTHBEARER), and the reading of OAuth
 * error challenges, hostile ones included.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/sasl.h"
#include "tests/unit/unit.h"

START_TEST(base64_rfc4648_vectors)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob",
	    "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v",
	    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *out = sasl_base64(plain[i], strlen(plain[i]));
		char *back;
		size_t len;

		ck_assert_str_eq(out, coded[i]);
		ck_assert_int_eq(sasl_unbase64(coded[i], &back, &len), 0);
		ck_assert_uint_eq(len, strlen(plain[i]));
		ck_assert_str_eq(back, plain[i]);
		free(out);
		free(back);
	}
}
END_TEST

START_TEST(base64_binary_round_trip)
{
	unsigned char all[256];
	char *out, *back;
	size_t len;

	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)(255 - i);
	out = sasl_base64(all, sizeof(all));
	ck_assert_int_eq(sasl_unbase64(out, &back, &len), 0);
	ck_assert_uint_eq(len, sizeof(all));
	ck_assert_int_eq(memcmp(back, all, len), 0);
	free(out);
	free(back);
}
END_TEST

START_TEST(base64_invalid_refused)
{
	static const char *const bad[] = { "Z", "Zg=", "Zm9v!", "Zm 9v",
	    "Zg===", "Zm9vY", "=", "Zm\r\n9v" };
	char *data = NULL;
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sasl_unbase64(bad[i], &data, &len) == -1,
		    "accepted '%s'", bad[i]);
	ck_assert_ptr_null(data);
	/* Unpadded input is accepted (some servers leave padding out). */
	ck_assert_int_eq(sasl_unbase64("Zm8", &data, &len), 0);
	ck_assert_str_eq(data, "fo");
	free(data);
}
END_TEST

START_TEST(plain_rfc4616_example)
{
	char *out = sasl_plain("tim", "tanstaaftanstaaf");

	ck_assert_str_eq(out, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
	sasl_free_secret(out);
}
END_TEST

START_TEST(xoauth2_google_example)
{
	char *out = sasl_xoauth2("someuser@example.com",
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg");

	ck_assert_str_eq(out, "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJl"
	    "YXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0"
	    "Q2cBAQ==");
	sasl_free_secret(out);
}
END_TEST

START_TEST(oauthbearer_rfc7628_example)
{
	char *out = sasl_oauthbearer("user@example.com", "server.example.com",
	    143, "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==");

	ck_assert_str_eq(out, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVy"
	    "LmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52"
	    "YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB");
	sasl_free_secret(out);
}
END_TEST

START_TEST(oauthbearer_escapes_user)
{
	char *out = sasl_oauthbearer("a,b=c", "h", 993, "t");
	char *raw;
	size_t len;

	ck_assert_int_eq(sasl_unbase64(out, &raw, &len), 0);
	ck_assert_str_eq(raw, "n,a=a=2Cb=3Dc,\001host=h\001port=993\001"
	    "auth=Bearer t\001\001");
	free(raw);
	sasl_free_secret(out);
}
END_TEST

START_TEST(one_line_check)
{
	ck_assert_int_eq(sasl_one_line("pass word\twith tab"), 1);
	ck_assert_int_eq(sasl_one_line("p\xc3\xa4ss"), 1);
	ck_assert_int_eq(sasl_one_line("pw\r\nA9 DELETE INBOX"), 0);
	ck_assert_int_eq(sasl_one_line("pw\nx"), 0);
	ck_assert_int_eq(sasl_one_line("pw\r"), 0);
}
END_TEST

START_TEST(oauth_reason_google)
{
	/* {"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"} */
	char *r = sasl_oauth_reason("eyJzdGF0dXMiOiI0MDEiLCJzY2hlbWVzIjoiQmV"
	    "hcmVyIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==");

	ck_assert_str_eq(r, "status 401, schemes Bearer, scope "
	    "https://mail.google.com/");
	free(r);
}
END_TEST

START_TEST(oauth_reason_not_json_and_hostile)
{
	/* "Token expired" ESC "[31m" CR LF "X": shown, made harmless. */
	char *r = sasl_oauth_reason("VG9rZW4gZXhwaXJlZBtbMzFtDQpY");
	char *big, *coded;

	ck_assert_str_eq(r, "Token expired?[31m??X");
	free(r);
	ck_assert_ptr_null(sasl_oauth_reason(""));
	ck_assert_ptr_null(sasl_oauth_reason("not base64!"));
	/* A JSON number or list is shown as its text. */
	coded = sasl_base64("{\"status\":401,\"x\":[1]}", 22);
	r = sasl_oauth_reason(coded);
	ck_assert_str_eq(r, "status 401, x [ 1 ]");
	free(r);
	free(coded);
	/* A flood is cut to one bounded line. */
	big = malloc(100001);
	memset(big, 'A', 100000);
	big[100000] = '\0';
	coded = sasl_base64(big, 100000);
	r = sasl_oauth_reason(coded);
	ck_assert_uint_le(strlen(r), 300);
	free(r);
	free(coded);
	free(big);
}
END_TEST

static Suite *
sasl_suite(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = tcase_create("sasl");

	tcase_add_test(tc, base64_rfc4648_vectors);
	tcase_add_test(tc, base64_binary_round_trip);
	tcase_add_test(tc, base64_invalid_refused);
	tcase_add_test(tc, plain_rfc4616_example);
	tcase_add_test(tc, xoauth2_google_example);
	tcase_add_test(tc, oauthbearer_rfc7628_example);
	tcase_add_test(tc, oauthbearer_escapes_user);
	tcase_add_test(tc, one_line_check);
	tcase_add_test(tc, oauth_reason_google);
	tcase_add_test(tc, oauth_reason_not_json_and_hostile);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(sasl_suite)
