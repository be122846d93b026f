/*
 * imap_login.c - the login exchange of an IMAP session (imap_login.h).
 *
 * libetpan's mailimap_login() puts the password in a quoted string as it
 * is: a CR LF inside it ended the LOGIN command and made the server run
 * what followed (issue 9 item 7).  This file owns the login instead,
 * written with libetpan's low-level senders and response parser:
 * AUTHENTICATE with the client messages of sasl.c (PLAIN for a password,
 * XOAUTH2 or OAUTHBEARER for an OAuth2 access token, with the reason of a
 * refused token read from the server's error challenge), or LOGIN with
 * literals (RFC 3501 section 4.3: any byte but NUL, length-counted).  Lines with a
 * secret are sent with the stream's privacy flag down, so libetpan's
 * logger marks them private, and never reach the debug trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/imap_login.h"
#include "agent/imap_safe.h"
#include "agent/sasl.h"
#include "agent/xmem.h"

static int
put(mailimap *imap, const char *s, size_t len)
{
	return mailstream_write(imap->imap_stream, s, len) < 0 ?
	    MAILIMAP_ERROR_STREAM : MAILIMAP_NO_ERROR;
}

static int
put_line_end(mailimap *imap)
{
	int r = put(imap, "\r\n", 2);

	if (r == MAILIMAP_NO_ERROR && mailstream_flush(imap->imap_stream) < 0)
		r = MAILIMAP_ERROR_STREAM;
	return r;
}

/* Reads what the server says next: a continuation request, its text (after
 * "+ ") in *challenge_r, malloc'd; or the end of the command, *challenge_r
 * NULL and *ok_r set if it said OK (NO leaves 0).  A tagged BAD is a
 * refusal too (MAILIMAP_NO_ERROR, *ok_r 0, the text in imap_response).
 * Returns a libetpan code. */
static int
next_reply(mailimap *imap, char **challenge_r, int *ok_r)
{
	struct mailimap_response *resp;
	char *line;
	int r;

	*challenge_r = NULL;
	*ok_r = 0;
	if ((line = mailimap_read_line(imap)) == NULL)
		return MAILIMAP_ERROR_STREAM;
	if (line[0] == '+') {
		line += line[1] == ' ' ? 2 : 1;
		*challenge_r = xstrndup(line, strcspn(line, "\r\n"));
		return MAILIMAP_NO_ERROR;
	}
	r = mailimap_parse_response(imap, &resp);
	if (r == MAILIMAP_ERROR_PROTOCOL)	/* tagged BAD */
		return MAILIMAP_NO_ERROR;
	if (r != MAILIMAP_NO_ERROR)
		return r;
	*ok_r = resp->rsp_resp_done->rsp_data.rsp_tagged->rsp_cond_state->
	    rsp_type == MAILIMAP_RESP_COND_STATE_OK;
	mailimap_response_free(resp);
	return MAILIMAP_NO_ERROR;
}

/* AUTHENTICATE mech with the initial client response initial (base64):
 * on the command line where the server offers SASL-IR (RFC 4959), else
 * after its first, empty, challenge.  A challenge after it is an OAuth
 * server's error (RFC 7628 section 3.2.2): its reason goes to *reason_r
 * and error_reply (base64) acknowledges it, for the server to end with NO.
 * Any other challenge is answered with "*", which cancels the exchange
 * (RFC 3501 section 6.2.2). */
static int
authenticate(mailimap *imap, const char *mech, const char *initial,
    const char *error_reply, int *ok_r, char **reason_r)
{
	int inline_ir = imap_safe_has_extension(imap, "SASL-IR");
	int sent = inline_ir, r;
	char *challenge;
	const char *reply;

	if ((r = mailimap_send_current_tag(imap)) != MAILIMAP_NO_ERROR ||
	    (r = put(imap, "AUTHENTICATE ", 13)) != MAILIMAP_NO_ERROR ||
	    (r = put(imap, mech, strlen(mech))) != MAILIMAP_NO_ERROR)
		return r;
	if (inline_ir && ((r = put(imap, " ", 1)) != MAILIMAP_NO_ERROR ||
	    (r = put(imap, initial, strlen(initial))) != MAILIMAP_NO_ERROR))
		return r;
	if ((r = put_line_end(imap)) != MAILIMAP_NO_ERROR)
		return r;
	for (;;) {
		if ((r = next_reply(imap, &challenge, ok_r)) !=
		    MAILIMAP_NO_ERROR || challenge == NULL)
			return r;
		if (!sent) {
			reply = initial;
		} else if (error_reply != NULL && *reason_r == NULL) {
			*reason_r = sasl_oauth_reason(challenge);
			reply = error_reply;
		} else {
			reply = "*";
		}
		free(challenge);
		sent = 1;
		if ((r = put(imap, reply, strlen(reply))) != MAILIMAP_NO_ERROR ||
		    (r = put_line_end(imap)) != MAILIMAP_NO_ERROR)
			return r;
	}
}

/* One literal: "{N}" CRLF, the server's go-ahead, then the bytes; with
 * LITERAL+ (RFC 7888) "{N+}" and no waiting.  *refused_r when the server
 * ended the command instead of going ahead. */
static int
put_literal(mailimap *imap, const char *s, int plus, int *ok_r,
    int *refused_r)
{
	char head[32];
	char *challenge;
	int r;

	*refused_r = 0;
	snprintf(head, sizeof(head), "{%zu%s}", strlen(s), plus ? "+" : "");
	if ((r = put(imap, head, strlen(head))) != MAILIMAP_NO_ERROR)
		return r;
	if (plus)
		r = put(imap, "\r\n", 2);
	else if ((r = put_line_end(imap)) == MAILIMAP_NO_ERROR &&
	    (r = next_reply(imap, &challenge, ok_r)) == MAILIMAP_NO_ERROR) {
		*refused_r = challenge == NULL;
		free(challenge);
		if (*refused_r)
			return MAILIMAP_NO_ERROR;
	}
	if (r != MAILIMAP_NO_ERROR)
		return r;
	return put(imap, s, strlen(s));
}

/* LOGIN with user and password as literals. */
static int
login_literals(mailimap *imap, const char *user, const char *password,
    int *ok_r)
{
	int plus = imap_safe_has_extension(imap, "LITERAL+");
	int refused, r;
	char *challenge;

	if ((r = mailimap_send_current_tag(imap)) != MAILIMAP_NO_ERROR ||
	    (r = put(imap, "LOGIN ", 6)) != MAILIMAP_NO_ERROR ||
	    (r = put_literal(imap, user, plus, ok_r, &refused)) !=
	    MAILIMAP_NO_ERROR || refused ||
	    (r = put(imap, " ", 1)) != MAILIMAP_NO_ERROR ||
	    (r = put_literal(imap, password, plus, ok_r, &refused)) !=
	    MAILIMAP_NO_ERROR || refused ||
	    (r = put_line_end(imap)) != MAILIMAP_NO_ERROR)
		return r;
	if ((r = next_reply(imap, &challenge, ok_r)) == MAILIMAP_NO_ERROR &&
	    challenge != NULL) {
		/* Nothing is left to send: a server asking for more is
		 * not following the protocol. */
		free(challenge);
		r = MAILIMAP_ERROR_PARSE;
	}
	return r;
}

/* The capabilities before login: from the greeting, else asked for. */
static int
know_capabilities(mailimap *imap)
{
	struct mailimap_capability_data *caps = NULL;
	int r;

	if (imap->imap_connection_info != NULL &&
	    imap->imap_connection_info->imap_capability != NULL)
		return MAILIMAP_NO_ERROR;
	r = imap_safe_capability(imap, &caps);
	if (r == MAILIMAP_NO_ERROR)
		mailimap_capability_data_free(caps);
	return r;
}

/* The server's refusal, with what it said (and the OAuth reason of its
 * error challenge, if any), for *why_r. */
static char *
refusal(mailimap *imap, const char *reason, int *temporary_r)
{
	const struct mailimap_response_info *ri = imap->imap_response_info;
	const char *text = imap->imap_response != NULL &&
	    imap->imap_response[0] != '\0' ? imap->imap_response :
	    "no reason given";

	/* RFC 5530: UNAVAILABLE, the authentication backend is down.
	 * Dovecot says "Temporary authentication failure". */
	*temporary_r = (ri != NULL && ri->rsp_atom != NULL &&
	    strcasecmp(ri->rsp_atom, "UNAVAILABLE") == 0) ||
	    strcasestr(text, "temporar") != NULL;
	if (reason != NULL)
		return xasprintf("%s (the server's reason: %s)", text, reason);
	return xstrdup(text);
}

/* The password way: AUTHENTICATE PLAIN, else LOGIN with literals. */
static int
login_password(mailimap *imap, const struct imap_credentials *c, int *ok_r,
    char **why_r)
{
	char *initial;
	int r;

	if (imap_safe_has_authentication(imap, "PLAIN")) {
		initial = sasl_plain(c->user, c->secret);
		r = authenticate(imap, "PLAIN", initial, NULL, ok_r, why_r);
		sasl_free_secret(initial);
		return r;
	}
	if (!imap_safe_has_extension(imap, "LOGINDISABLED"))
		return login_literals(imap, c->user, c->secret, ok_r);
	*why_r = xstrdup("the server offers neither AUTHENTICATE PLAIN nor "
	    "LOGIN (LOGINDISABLED); it may need TLS (see imap.tls)");
	return MAILIMAP_ERROR_LOGIN;
}

/* An OAuth2 way: the access token with XOAUTH2 or OAUTHBEARER. */
static int
login_oauth(mailimap *imap, const struct imap_credentials *c, int *ok_r,
    char **reason_r)
{
	int bearer = c->auth == AUTH_OAUTHBEARER;
	const char *mech = bearer ? "OAUTHBEARER" : "XOAUTH2";
	char *initial;
	int r;

	if (!imap_safe_has_authentication(imap, mech)) {
		*reason_r = xasprintf("the server does not offer %s (no "
		    "AUTH=%s in its capabilities); check imap.auth", mech,
		    mech);
		return MAILIMAP_ERROR_LOGIN;
	}
	initial = bearer ? sasl_oauthbearer(c->user, c->host, c->port,
	    c->secret) : sasl_xoauth2(c->user, c->secret);
	/* The acknowledgement of an error: RFC 7628 section 3.2.3 (a
	 * single ^A), and Google's and Microsoft's XOAUTH2 (empty). */
	r = authenticate(imap, mech, initial, bearer ? "AQ==" : "", ok_r,
	    reason_r);
	sasl_free_secret(initial);
	return r;
}

int
imap_login(mailimap *imap, const struct imap_credentials *c, char **why_r,
    int *temporary_r)
{
	char *reason = NULL;
	int ok = 0, r;

	*why_r = NULL;
	*temporary_r = 0;
	if (!sasl_one_line(c->user) || !sasl_one_line(c->secret)) {
		*why_r = xstrdup("the user name, password or token holds a "
		    "line break; nothing was sent");
		return MAILIMAP_ERROR_LOGIN;
	}
	if ((r = know_capabilities(imap)) != MAILIMAP_NO_ERROR)
		return r;
	mailstream_set_privacy(imap->imap_stream, 0);
	if (c->auth == AUTH_PASSWORD)
		r = login_password(imap, c, &ok, &reason);
	else
		r = login_oauth(imap, c, &ok, &reason);
	mailstream_set_privacy(imap->imap_stream, 1);
	if (r == MAILIMAP_ERROR_LOGIN) {	/* refused before sending */
		*why_r = reason;
		return r;
	}
	if (r == MAILIMAP_NO_ERROR && !ok) {
		*why_r = refusal(imap, reason, temporary_r);
		r = MAILIMAP_ERROR_LOGIN;
	} else if (r == MAILIMAP_NO_ERROR) {
		imap->imap_state = MAILIMAP_STATE_AUTHENTICATED;
	}
	free(reason);
	return r;
}
