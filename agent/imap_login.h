/*
 * imap_login.h - logging in over a libetpan IMAP session without ever
 * putting the secret inside a quoted string (part of the IMAP module,
 * used by store_imap.c).
 */
#ifndef MAILSIFT_IMAP_LOGIN_H
#define MAILSIFT_IMAP_LOGIN_H

#include <libetpan/libetpan.h>

#include "agent/config.h"

struct imap_credentials {
	enum imap_auth auth;
	const char *user;
	const char *secret;	/* the password, or the access token */
	const char *host;	/* the server, as OAUTHBEARER names it */
	int port;
};

/* Logs in to imap (connected and, where wanted, secured; not logged in):
 *   AUTH_PASSWORD     AUTHENTICATE PLAIN where the server offers it (in
 *                     one round trip with SASL-IR), else LOGIN with both
 *                     strings sent as literals;
 *   AUTH_XOAUTH2, AUTH_OAUTHBEARER  AUTHENTICATE with the access token, if
 *                     the server offers the mechanism.
 * Refuses, sending nothing, a user or secret holding CR or LF.  Asks for
 * the capabilities first if the session does not know them.  Returns a
 * libetpan code:
 *   MAILIMAP_NO_ERROR      logged in (the session is authenticated)
 *   MAILIMAP_ERROR_LOGIN   not logged in: *why_r (malloc'd) says why, for
 *                          the user (the server's text, and the reason an
 *                          OAuth server gave); *temporary_r = 1 when the
 *                          server could not check them for now
 *                          ([UNAVAILABLE])
 *   anything else          the connection failed (stream, parse, BYE)
 * The server's own text is also left in imap->imap_response. */
int imap_login(mailimap *imap, const struct imap_credentials *c,
    char **why_r, int *temporary_r);

#endif
