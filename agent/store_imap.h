/*
 * store_imap.h - the mail store over IMAP (libetpan), see store.h.
 */
#ifndef MAILSIFT_STORE_IMAP_H
#define MAILSIFT_STORE_IMAP_H

#include "agent/config.h"
#include "agent/store.h"

struct store_imap_params {
	const char *host;
	int port;
	enum tls_mode tls;
	const char *ca_file;	/* extra trust anchor; system CAs always used */
	const char *username;
	enum imap_auth auth;
	const char *password;	/* the password; with OAuth the access token
				 * of the first login */
	/* If set, asked for a fresh secret before every later login: each
	 * one serves one login and is wiped after it (OAuth access tokens
	 * expire).  0, or -1 with a malloc'd *err_r. */
	int (*renew_secret)(void *arg, char **secret_r, char **err_r);
	void *renew_arg;
	int timeout;		/* seconds: the deadline of each command */
	int poll_interval;	/* seconds, used when the server lacks IDLE */
	int idle_restart;	/* seconds; IDLE is re-issued after this */
};

/* Creates an unconnected store; the strings are copied. */
struct store *store_imap_new(const struct store_imap_params *params);

/* The same over fd, a socket already connected to a server (taken over):
 * the first connect() uses it instead of dialing, later ones dial as
 * usual.  For tests and fuzzing, which play the server themselves. */
struct store *store_imap_new_on_fd(const struct store_imap_params *params,
    int fd);

/* The mailsift version this code was built for.  The IMAP store is built
 * as a module of its own (mailsift-imap.so, loaded by account.c) so that
 * the commands that only read mail files do not load libetpan and GnuTLS;
 * the stamp keeps a stale module from being used. */
extern const char store_imap_module_version[];

#endif
