/*
 * junkwatch.h - noticing at once that something came to the Junk folder
 * (the owner dragged a message there) or left it, while the daemon waits
 * on its first watched folder, so that learn.c need not wait for
 * poll_interval:
 *   - where the server offers NOTIFY (RFC 5465), on the daemon's own
 *     connection: its wait() then reports changes of Junk as well;
 *   - else, if the daemon gives a second store (imap.junk_idle), over that
 *     second connection, which IDLEs on Junk (EXAMINEd: it changes
 *     nothing) with its descriptor in the daemon's epoll set, which the
 *     first connection's wait() polls beside its own socket;
 *   - else, or while the second connection is down, not at all: Junk is
 *     looked at every poll_interval, as without this.
 * A failing second connection never fails the daemon: it is logged and
 * tried again after a while.
 */
#ifndef MAILSIFT_JUNKWATCH_H
#define MAILSIFT_JUNKWATCH_H

#include <stdint.h>

#include "agent/store.h"

struct junkwatch {
	struct store *main;	/* borrowed: the daemon's connection */
	struct store *second;	/* owned, or NULL */
	char *junk;		/* the Junk folder of this session */
	int epoll_fd;		/* the daemon's */
	int notifying;		/* NOTIFY is on for main's session */
	int second_ready;	/* second is connected, Junk examined */
	int fd;			/* second's IDLE descriptor in epoll, or -1 */
	int64_t retry_at;	/* monotonic ms: try second again */
	int retry_ms;		/* pause before the next try */
	int complained;		/* the failure was logged */
	int changed;		/* Junk may have changed, not yet told */
};

/* Sets up jw (zeroed by the caller) for stores that wait with epoll_fd as
 * their wake descriptor; second (unconnected, owned by jw from now on) is
 * the second connection to use where NOTIFY is missing, or NULL. */
void junkwatch_init(struct junkwatch *jw, int epoll_fd, struct store *second);

/* For each new session of main, once its Junk folder is known: asks for
 * NOTIFY.  Returns main's status (a failure is main's to handle). */
enum store_status junkwatch_start(struct junkwatch *jw, struct store *main,
    const char *junk);

/* Before the daemon waits: the second connection (if in use) starts
 * IDLEing on Junk, connecting and opening Junk first if needed.  Returns
 * 1 if Junk is known to have changed already (do not wait). */
int junkwatch_arm(struct junkwatch *jw);

/* 1 if the second connection has something to say (the daemon's wait
 * ended because of it: stop waiting). */
int junkwatch_pending(const struct junkwatch *jw);

/* After the wait, with the mask main's wait() returned: ends the second
 * connection's IDLE.  Returns 1 if Junk may have changed since the last
 * call: time for learn.c to look. */
int junkwatch_disarm(struct junkwatch *jw, int wait_mask);

/* Frees the second connection and what jw holds. */
void junkwatch_free(struct junkwatch *jw);

#endif
