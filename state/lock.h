/*
 * lock.h - one sorter per state_dir.
 *
 * Two processes sorting the same mailbox with the same ledger would both
 * act on a message before either records the outcome, and file it twice.
 * `mailsift run` (the daemon and --once alike) therefore holds a lock on
 * state_dir/lock for its whole life.  It is a POSIX record lock: the
 * kernel drops it when the process ends, however it ends (SIGKILL, a
 * crash), so a stale lock file never blocks the next run.  The file holds
 * the owner's pid for people; the kernel's answer is what counts.
 *
 * Only `run` takes the lock: train, untrain, undo and status work beside
 * a running sorter (SQLite serialises their writes).
 */
#ifndef MAILSIFT_LOCK_H
#define MAILSIFT_LOCK_H

#include <sys/types.h>

struct state_lock;

/* Takes the lock of state_dir (which must exist), creating the lock file
 * with mode 0600.  Returns 0 with *lock_r held until state_lock_release
 * or the end of the process; 1 if another process holds it, with its pid
 * in *holder_r (0 if the kernel cannot tell, e.g. across pid namespaces);
 * -1 with a malloc'd *err_r naming the file, the cause and the fix. */
int state_lock_take(const char *state_dir, struct state_lock **lock_r,
    pid_t *holder_r, char **err_r);

/* Releases the lock and sets *lock to NULL; NULL is allowed. */
void state_lock_release(struct state_lock **lock);

#endif
