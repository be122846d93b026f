/*
 * managesieve.h - `mailsift managesieve`: an RFC 5804 server for the
 * owners of every mailbox configured on the host, so that Roundcube,
 * Thunderbird or sieve-connect can edit the rules mailsift runs.
 *
 * One process, one epoll loop, every socket non-blocking.  Work that can
 * take long runs in a forked child the loop waits on like a socket, with
 * a deadline: checking a password by logging in to the mailbox's own IMAP
 * server, and checking a script (libsieve).  A slow IMAP server or a
 * hostile script delays only its own client.
 */
#ifndef MAILSIFT_MANAGESIEVE_H
#define MAILSIFT_MANAGESIEVE_H

#include "agent/config.h"

/* Serves until SIGTERM or SIGINT.  Returns the exit status: 0 after a
 * stop, 1 when it cannot listen, 2 for a broken TLS certificate. */
int managesieve_run(const struct managesieve_config *config);

/* The Sieve extensions mailsift accepts, space-separated (the SIEVE
 * capability), found by asking the checker about every registered
 * extension name.  malloc'd. */
char *managesieve_extensions(void);

#endif
