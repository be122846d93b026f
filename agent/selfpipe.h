/*
 * selfpipe.h - signals as events for a loop that waits in poll or epoll
 * (the self-pipe trick, as OpenSMTPD's and Redis's event loops do it):
 * the handler only writes the signal's number to a pipe; the loop watches
 * selfpipe_fd() and acts on selfpipe_next() outside the handler, where
 * anything may be done.
 *
 * A stop signal (every caught signal but SIGHUP, which asks for a reload)
 * also sets a flag, for loops that look between two steps instead of
 * waiting on the pipe, and makes selfpipe_stop_fd() readable for good:
 * the cancel descriptor of operations that must give up once the process
 * is asked to stop (store.h set_cancel, command.h).
 *
 * Process-wide, as signal dispositions are: one owner at a time (the
 * daemon, or the ManageSieve server).
 */
#ifndef MAILSIFT_SELFPIPE_H
#define MAILSIFT_SELFPIPE_H

#include <signal.h>
#include <stddef.h>

/* Catches the n signals from now on.  0, or -1 with errno set and nothing
 * caught. */
int selfpipe_open(const int *signals, size_t n);

/* The descriptor to watch for reading: readable while a caught signal is
 * pending.  -1 when not open. */
int selfpipe_fd(void);

/* The next pending signal, in the order they came; 0 when none is.
 * Never blocks.  A signal that came while the pipe was full (hundreds
 * pending) is lost, but a wake-up is pending anyway. */
int selfpipe_next(void);

/* Readable from the first stop signal on, and never read: every poll on
 * it returns at once.  -1 when not open. */
int selfpipe_stop_fd(void);

/* Set by the first stop signal and never cleared while open; borrowed,
 * valid for the life of the process. */
const volatile sig_atomic_t *selfpipe_stop_flag(void);

/* Gives the caught signals their default disposition back and closes the
 * pipes (also right after fork(), in a child that is to die of them);
 * the stop flag is cleared.  Harmless when not open. */
void selfpipe_close(void);

#endif
