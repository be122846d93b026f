/*
 * sasl.h - what mailsift says when it logs in with a SASL mechanism
 * (RFC 4422), as pure functions: the initial client responses of PLAIN
 * (RFC 4616), XOAUTH2 (Google's and Microsoft's) and OAUTHBEARER
 * (RFC 7628), base64-encoded for IMAP's AUTHENTICATE, and what a server's
 * OAuth error challenge says.  No I/O: agent/imap_login.c carries them.
 *
 * Every returned string is malloc'd and owned by the caller; those that
 * hold a secret must be wiped before they are freed (sasl_free_secret).
 */
#ifndef MAILSIFT_SASL_H
#define MAILSIFT_SASL_H

#include <stddef.h>

/* 1 if s can be sent inside one protocol line: no CR and no LF (a line
 * break would end the command carrying it and start another). */
int sasl_one_line(const char *s);

/* Base64 (RFC 4648 section 4, padded) of len bytes. */
char *sasl_base64(const void *data, size_t len);
/* Decodes base64 text (padding optional, no other characters); the
 * result is NUL-terminated besides *len_r.  -1 if text is not base64. */
int sasl_unbase64(const char *text, char **data_r, size_t *len_r);

/* PLAIN: base64 of NUL user NUL password (no authorization identity). */
char *sasl_plain(const char *user, const char *password);
/* XOAUTH2: base64 of "user=USER^Aauth=Bearer TOKEN^A^A". */
char *sasl_xoauth2(const char *user, const char *token);
/* OAUTHBEARER: base64 of the GS2 header "n,a=USER," (',' and '=' in
 * USER escaped as =2C and =3D) then "^Ahost=HOST^Aport=PORT^Aauth=Bearer
 * TOKEN^A^A". */
char *sasl_oauthbearer(const char *user, const char *host, int port,
    const char *token);

/* The reason an OAuth server gives in its error challenge (base64 of a
 * JSON object, RFC 7628 section 3.2.2; XOAUTH2 servers send the same), as
 * one line for a log: "status 401, schemes bearer, scope mail".  Text
 * that is not JSON is shown as it is; control characters become '?'.
 * NULL if challenge is empty or not base64. */
char *sasl_oauth_reason(const char *challenge);

/* Wipes and frees a string holding a secret (NULL is fine). */
void sasl_free_secret(char *s);

#endif
