/*
 * check_imap_login.c - imap_login.c byte for byte: a scripted peer on a
 * socketpair plays the server (greeting with capabilities, then each
 * expected client line and its answer), so every way of logging in is
 * seen on the wire, including those no server of the integration suite
 * offers (LOGIN with synchronising literals: Dovecot refuses LOGIN when it
 * lacks AUTH=PLAIN).  The real servers are in tests/integration.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libetpan/libetpan.h>

#include "agent/imap_login.h"
#include "agent/sasl.h"
#include "tests/unit/unit.h"

/* One exchange: the exact bytes the client must send, then the answer. */
struct step {
	const char *expect;
	const char *reply;
};

struct peer {
	int fd;
	const char *greeting;
	const struct step *steps;
	char mismatch[512];	/* empty when the client said what it should */
};

static void *
peer_run(void *arg)
{
	struct peer *p = arg;

	if (write(p->fd, p->greeting, strlen(p->greeting)) < 0)
		return NULL;
	for (const struct step *s = p->steps; s->expect != NULL; s++) {
		size_t want = strlen(s->expect), got = 0;
		char buf[4096];

		while (got < want && got < sizeof(buf) - 1) {
			ssize_t n = read(p->fd, buf + got, want - got);

			if (n <= 0)
				break;
			got += (size_t)n;
		}
		buf[got] = '\0';
		if (got != want || memcmp(buf, s->expect, want) != 0) {
			snprintf(p->mismatch, sizeof(p->mismatch),
			    "expected [%.200s], got [%.200s]", s->expect, buf);
			break;
		}
		if (write(p->fd, s->reply, strlen(s->reply)) < 0)
			break;
	}
	shutdown(p->fd, SHUT_WR);
	return NULL;
}

/* Connects a session to a peer playing greeting and steps, logs in with
 * c; returns imap_login()'s result.  After it the peer must have seen
 * exactly the expected bytes (checked here) and nothing more (the caller
 * checks *extra_r: bytes the client sent after the script). */
static int
login_against(const char *greeting, const struct step *steps,
    const struct imap_credentials *c, char **why_r, int *temporary_r,
    size_t *extra_r)
{
	struct peer p = { .greeting = greeting, .steps = steps };
	pthread_t t;
	mailimap *imap;
	char rest[256];
	ssize_t n;
	int sv[2], r;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	p.fd = sv[1];
	ck_assert_int_eq(pthread_create(&t, NULL, peer_run, &p), 0);
	imap = mailimap_new(0, NULL);
	mailimap_set_timeout(imap, 5);
	ck_assert_int_eq(mailimap_connect(imap, mailstream_socket_open(sv[0])),
	    MAILIMAP_NO_ERROR_NON_AUTHENTICATED);
	r = imap_login(imap, c, why_r, temporary_r);
	if (r == MAILIMAP_NO_ERROR)
		ck_assert_int_eq(imap->imap_state, MAILIMAP_STATE_AUTHENTICATED);
	mailstream_close(imap->imap_stream);
	imap->imap_stream = NULL;
	mailimap_free(imap);
	pthread_join(t, NULL);
	ck_assert_msg(p.mismatch[0] == '\0', "%s", p.mismatch);
	*extra_r = 0;
	while ((n = read(sv[1], rest, sizeof(rest))) > 0)
		*extra_r += (size_t)n;
	close(sv[1]);
	return r;
}

static const struct imap_credentials user_pw = {
	.auth = AUTH_PASSWORD, .user = "ann", .secret = "pa\"s\\s {3}",
};

START_TEST(plain_with_sasl_ir)
{
	char *plain = sasl_plain("ann", "pa\"s\\s {3}");
	char *line = malloc(strlen(plain) + 32);
	struct step steps[] = {
		{ line, "1 OK [CAPABILITY IMAP4rev1 IDLE] Logged in\r\n" },
		{ NULL, NULL },
	};
	char *why;
	int tmp;
	size_t extra;

	sprintf(line, "1 AUTHENTICATE PLAIN %s\r\n", plain);
	ck_assert_int_eq(login_against("* OK [CAPABILITY IMAP4rev1 SASL-IR "
	    "AUTH=PLAIN AUTH=LOGIN] hi\r\n", steps, &user_pw, &why, &tmp,
	    &extra), MAILIMAP_NO_ERROR);
	ck_assert_uint_eq(extra, 0);
	free(line);
	free(plain);
}
END_TEST

START_TEST(plain_after_empty_challenge)
{
	char *plain = sasl_plain("ann", "pa\"s\\s {3}");
	char *line = malloc(strlen(plain) + 8);
	struct step steps[] = {
		{ "1 AUTHENTICATE PLAIN\r\n", "+ \r\n" },
		{ line, "1 OK Logged in\r\n" },
		{ NULL, NULL },
	};
	char *why;
	int tmp;
	size_t extra;

	sprintf(line, "%s\r\n", plain);
	ck_assert_int_eq(login_against("* OK [CAPABILITY IMAP4rev1 "
	    "AUTH=PLAIN] hi\r\n", steps, &user_pw, &why, &tmp, &extra),
	    MAILIMAP_NO_ERROR);
	free(line);
	free(plain);
}
END_TEST

/* Without AUTH=PLAIN: LOGIN, both strings as literals, the password's
 * quotes, backslash, braces and spaces as they are. */
START_TEST(login_with_literal_plus)
{
	static const struct step steps[] = {
		{ "1 LOGIN {3+}\r\nann {10+}\r\npa\"s\\s {3}\r\n",
		  "1 OK Logged in\r\n" },
		{ NULL, NULL },
	};
	char *why;
	int tmp;
	size_t extra;

	ck_assert_int_eq(login_against("* OK [CAPABILITY IMAP4rev1 LITERAL+] "
	    "hi\r\n", steps, &user_pw, &why, &tmp, &extra), MAILIMAP_NO_ERROR);
	ck_assert_uint_eq(extra, 0);
}
END_TEST

START_TEST(login_with_synchronising_literals)
{
	static const struct step steps[] = {
		{ "1 LOGIN {3}\r\n", "+ go ahead\r\n" },
		{ "ann {10}\r\n", "+ go ahead\r\n" },
		{ "pa\"s\\s {3}\r\n", "1 OK Logged in\r\n" },
		{ NULL, NULL },
	};
	char *why;
	int tmp;
	size_t extra;

	ck_assert_int_eq(login_against("* OK [CAPABILITY IMAP4rev1] hi\r\n",
	    steps, &user_pw, &why, &tmp, &extra), MAILIMAP_NO_ERROR);
	ck_assert_uint_eq(extra, 0);
}
END_TEST

/* A server refusing a literal ends the command: the password is never
 * sent. */
START_TEST(login_literal_refused_sends_no_password)
{
	static const struct step steps[] = {
		{ "1 LOGIN {3}\r\n", "+ go ahead\r\n" },
		{ "ann {10}\r\n", "1 NO [LIMIT] too long\r\n" },
		{ NULL, NULL },
	};
	char *why;
	int tmp;
	size_t extra;

	ck_assert_int_eq(login_against("* OK [CAPABILITY IMAP4rev1] hi\r\n",
	    steps, &user_pw, &why, &tmp, &extra), MAILIMAP_ERROR_LOGIN);
	ck_assert_str_eq(why, "too long");
	ck_assert_int_eq(tmp, 0);
	ck_assert_uint_eq(extra, 0);
	free(why);
}
END_TEST

START_TEST(refusals_explained)
{
	static const struct step wrong[] = {
		{ "1 LOGIN {3+}\r\nann {10+}\r\npa\"s\\s {3}\r\n",
		  "1 NO [AUTHENTICATIONFAILED] Authentication failed.\r\n" },
		{ NULL, NULL },
	};
	static const struct step later[] = {
		{ "1 LOGIN {3+}\r\nann {10+}\r\npa\"s\\s {3}\r\n",
		  "1 NO [UNAVAILABLE] Try again\r\n" },
		{ NULL, NULL },
	};
	static const struct step bad[] = {
		{ "1 LOGIN {3+}\r\nann {10+}\r\npa\"s\\s {3}\r\n",
		  "1 BAD Unknown command\r\n" },
		{ NULL, NULL },
	};
	const char *greet = "* OK [CAPABILITY IMAP4rev1 LITERAL+] hi\r\n";
	char *why;
	int tmp;
	size_t extra;

	ck_assert_int_eq(login_against(greet, wrong, &user_pw, &why, &tmp,
	    &extra), MAILIMAP_ERROR_LOGIN);
	ck_assert_str_eq(why, "Authentication failed.");
	ck_assert_int_eq(tmp, 0);
	free(why);
	ck_assert_int_eq(login_against(greet, later, &user_pw, &why, &tmp,
	    &extra), MAILIMAP_ERROR_LOGIN);
	ck_assert_str_eq(why, "Try again");
	ck_assert_int_eq(tmp, 1);
	free(why);
	ck_assert_int_eq(login_against(greet, bad, &user_pw, &why, &tmp,
	    &extra), MAILIMAP_ERROR_LOGIN);
	ck_assert_str_eq(why, "Unknown command");
	free(why);
}
END_TEST

/* Nothing at all is sent when the login cannot be right. */
START_TEST(nothing_sent_when_impossible)
{
	static const struct step none[] = { { NULL, NULL } };
	struct imap_credentials broken = user_pw;
	struct imap_credentials bearer = {
		.auth = AUTH_OAUTHBEARER, .user = "ann", .secret = "tok",
		.host = "h", .port = 993,
	};
	char *why;
	int tmp;
	size_t extra;

	broken.secret = "pw\r\nA9 DELETE INBOX";
	ck_assert_int_eq(login_against("* OK [CAPABILITY IMAP4rev1 "
	    "AUTH=PLAIN] hi\r\n", none, &broken, &why, &tmp, &extra),
	    MAILIMAP_ERROR_LOGIN);
	ck_assert_uint_eq(extra, 0);
	ck_assert_ptr_null(strstr(why, "DELETE"));
	free(why);
	ck_assert_int_eq(login_against("* OK [CAPABILITY IMAP4rev1 "
	    "LOGINDISABLED] hi\r\n", none, &user_pw, &why, &tmp, &extra),
	    MAILIMAP_ERROR_LOGIN);
	ck_assert_uint_eq(extra, 0);
	ck_assert_ptr_nonnull(strstr(why, "LOGINDISABLED"));
	free(why);
	ck_assert_int_eq(login_against("* OK [CAPABILITY IMAP4rev1 "
	    "AUTH=PLAIN AUTH=XOAUTH2] hi\r\n", none, &bearer, &why, &tmp,
	    &extra), MAILIMAP_ERROR_LOGIN);
	ck_assert_uint_eq(extra, 0);
	ck_assert_str_eq(why, "the server does not offer OAUTHBEARER (no "
	    "AUTH=OAUTHBEARER in its capabilities); check imap.auth");
	free(why);
}
END_TEST

/* A refused token: the server's error challenge is acknowledged (an empty
 * line for XOAUTH2, ^A for OAUTHBEARER) and its reason reported. */
START_TEST(oauth_error_challenge)
{
	/* {"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"} */
	const char *challenge = "+ eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmV"
	    "yIiwic2NvcGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==\r\n";
	struct imap_credentials x = { .auth = AUTH_XOAUTH2, .user = "ann",
	    .secret = "tok", .host = "imap.example.org", .port = 993 };
	struct imap_credentials b = x;
	char *ir_x = sasl_xoauth2("ann", "tok");
	char *ir_b;
	char line_x[256], line_b[256];
	struct step steps_x[] = {
		{ line_x, challenge },
		{ "\r\n", "1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n" },
		{ NULL, NULL },
	};
	struct step steps_b[] = {
		{ line_b, challenge },
		{ "AQ==\r\n", "1 NO [AUTHENTICATIONFAILED] Invalid\r\n" },
		{ NULL, NULL },
	};
	const char *greet = "* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2 "
	    "AUTH=OAUTHBEARER] hi\r\n";
	char *why;
	int tmp;
	size_t extra;

	b.auth = AUTH_OAUTHBEARER;
	ir_b = sasl_oauthbearer("ann", "imap.example.org", 993, "tok");
	snprintf(line_x, sizeof(line_x), "1 AUTHENTICATE XOAUTH2 %s\r\n", ir_x);
	snprintf(line_b, sizeof(line_b), "1 AUTHENTICATE OAUTHBEARER %s\r\n",
	    ir_b);
	ck_assert_int_eq(login_against(greet, steps_x, &x, &why, &tmp, &extra),
	    MAILIMAP_ERROR_LOGIN);
	ck_assert_str_eq(why, "Invalid credentials (the server's reason: "
	    "status 400, schemes Bearer, scope https://mail.google.com/)");
	ck_assert_uint_eq(extra, 0);
	free(why);
	ck_assert_int_eq(login_against(greet, steps_b, &b, &why, &tmp, &extra),
	    MAILIMAP_ERROR_LOGIN);
	ck_assert_ptr_nonnull(strstr(why, "status 400"));
	free(why);
	free(ir_x);
	free(ir_b);
}
END_TEST

/* A server that keeps challenging is cancelled with "*". */
START_TEST(endless_challenges_cancelled)
{
	char *plain = sasl_plain("ann", "pa\"s\\s {3}");
	char line[128];
	struct step steps[] = {
		{ line, "+ bW9yZQ==\r\n" },
		{ "*\r\n", "1 BAD Authentication cancelled\r\n" },
		{ NULL, NULL },
	};
	char *why;
	int tmp;
	size_t extra;

	snprintf(line, sizeof(line), "1 AUTHENTICATE PLAIN %s\r\n", plain);
	ck_assert_int_eq(login_against("* OK [CAPABILITY IMAP4rev1 SASL-IR "
	    "AUTH=PLAIN] hi\r\n", steps, &user_pw, &why, &tmp, &extra),
	    MAILIMAP_ERROR_LOGIN);
	ck_assert_str_eq(why, "Authentication cancelled");
	free(why);
	free(plain);
}
END_TEST

/* Capabilities missing from the greeting are asked for first. */
START_TEST(capabilities_asked_when_unknown)
{
	static const struct step steps[] = {
		{ "1 CAPABILITY\r\n", "* CAPABILITY IMAP4rev1 LITERAL+\r\n"
		  "1 OK done\r\n" },
		{ "2 LOGIN {3+}\r\nann {10+}\r\npa\"s\\s {3}\r\n",
		  "2 OK Logged in\r\n" },
		{ NULL, NULL },
	};
	char *why;
	int tmp;
	size_t extra;

	ck_assert_int_eq(login_against("* OK hi\r\n", steps, &user_pw, &why,
	    &tmp, &extra), MAILIMAP_NO_ERROR);
}
END_TEST

static Suite *
imap_login_suite(void)
{
	Suite *s = suite_create("imap_login");
	TCase *tc = tcase_create("imap_login");

	tcase_add_test(tc, plain_with_sasl_ir);
	tcase_add_test(tc, plain_after_empty_challenge);
	tcase_add_test(tc, login_with_literal_plus);
	tcase_add_test(tc, login_with_synchronising_literals);
	tcase_add_test(tc, login_literal_refused_sends_no_password);
	tcase_add_test(tc, refusals_explained);
	tcase_add_test(tc, nothing_sent_when_impossible);
	tcase_add_test(tc, oauth_error_challenge);
	tcase_add_test(tc, endless_challenges_cancelled);
	tcase_add_test(tc, capabilities_asked_when_unknown);
	suite_add_tcase(s, tc);
	return s;
}

UNIT_MAIN(imap_login_suite)
